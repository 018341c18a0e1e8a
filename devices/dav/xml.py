"""WebDAV XML both ways for the server: requests read with defusedxml, multistatus answers written."""

from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from defusedxml.ElementTree import ParseError, fromstring

from calendarsync.providers.caldav.dav import APPLE, CALDAV, CALSERVER, DAV, qname

for prefix, namespace in (("d", DAV), ("cal", CALDAV), ("cs", CALSERVER), ("ical", APPLE)):
    register_namespace(prefix, namespace)


class BadRequest(Exception):
    """A body that is no XML, or not the XML the method takes: a 400 with this sentence."""


def d(name):
    return qname(DAV, name)


def c(name):
    return qname(CALDAV, name)


def parse(body: bytes) -> Element | None:
    if not body.strip():
        return None
    try:
        return fromstring(body)
    except (ParseError, ValueError) as exc:
        raise BadRequest(f"The request's XML cannot be read: {exc}") from exc
    except Exception as exc:  # defusedxml's refusals (entities, DTDs)
        raise BadRequest(f"The request's XML is refused: {exc}") from exc


def requested_props(root: Element | None) -> list[str] | None:
    """The property names a PROPFIND (or a REPORT) asks for; None for allprop (or no body)."""
    if root is None:
        return None
    prop = root.find(d("prop"))
    if prop is None:
        return None
    return [child.tag for child in prop]


class Multistatus:
    """A 207 answer being written: one <response> per resource, its found properties in a 200 propstat
    and the others in a 404 one."""

    def __init__(self, *, minimal: bool = False, names_only: bool = False):
        self.root, self.minimal = Element(d("multistatus")), minimal  # minimal: no 404 propstats (RFC 8144)
        self.names_only = names_only  # a <propname/> PROPFIND: the names, without their values (RFC 4918 9.1)

    def add(self, href: str, found: dict[str, object], missing: list[str] = (), forbidden: list[str] = ()):
        if self.minimal:
            missing = ()
        response = SubElement(self.root, d("response"))
        SubElement(response, d("href")).text = href
        for status, names in (("200 OK", list(found)), ("404 Not Found", list(missing)),
                              ("403 Forbidden", list(forbidden))):
            if not names:
                continue
            propstat = SubElement(response, d("propstat"))
            prop = SubElement(propstat, d("prop"))
            for name in names:
                element = SubElement(prop, name)
                value = found.get(name) if status == "200 OK" and not self.names_only else None
                _fill(element, value)
            SubElement(propstat, d("status")).text = f"HTTP/1.1 {status}"

    def gone(self, href: str, status="404 Not Found"):
        response = SubElement(self.root, d("response"))
        SubElement(response, d("href")).text = href
        SubElement(response, d("status")).text = f"HTTP/1.1 {status}"

    def sync_token(self, token: str):
        SubElement(self.root, d("sync-token")).text = token

    def bytes(self) -> bytes:
        return tostring(self.root, encoding="utf-8", xml_declaration=True)


def _fill(element: Element, value):
    """A property's value: text, an element (or elements) built by the caller, or nothing."""
    if value is None:
        return
    if isinstance(value, str):
        element.text = value
    elif isinstance(value, Element):
        element.append(value)
    else:
        for child in value:
            element.append(child)


def element(tag: str, text: str | None = None, children=(), **attributes) -> Element:
    built = Element(tag, {key.replace("_", "-"): str(value) for key, value in attributes.items()})
    if text is not None:
        built.text = text
    for child in children:
        built.append(child)
    return built


def href(path: str) -> Element:
    return element(d("href"), path)


def error(*conditions: str, message: str = "") -> bytes:
    """A DAV:error body (RFC 4918 16) with its preconditions, and the reason in words for people."""
    root = Element(d("error"))
    for condition in conditions:
        SubElement(root, condition)
    if message:
        SubElement(root, qname("http://crm-calendarsync/ns/", "message")).text = message
    return tostring(root, encoding="utf-8", xml_declaration=True)
