"""A small proxy in front of a real CalDAV server, for what a server may do that it cannot be told to: forget
its sync tokens (RFC 6578 3.2 lets a server expire them at any time), lack sync-collection, be busy (429) or
down (503), drop a connection without answering, answer slowly, give a resource that cannot be read, and take
another client's write of a resource just before one of ours that is conditional on what we read.

Faults are armed for the next requests and counted in `served` as they happen; `clear_faults()` disarms them
all (forgotten tokens stay forgotten, as on a server).
"""

import re
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import tostring

import requests
from defusedxml.ElementTree import fromstring
from requests.structures import CaseInsensitiveDict

TOKEN = re.compile(rb"<(?:\w+:)?sync-token>([^<]+)</(?:\w+:)?sync-token>")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "server",
              "date"}
EXPIRED = (b'<?xml version="1.0" encoding="utf-8"?>\n'
           b'<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>')
UNSUPPORTED = (b'<?xml version="1.0" encoding="utf-8"?>\n'
               b'<D:error xmlns:D="DAV:"><D:supported-report/></D:error>')
WRITES = frozenset({"PUT", "DELETE"})
SYNC_TOKEN_PROPERTY = re.compile(rb"<(?:[\w.-]+:)?sync-token\b[^>]*?(?:/>|>[^<]*</(?:[\w.-]+:)?sync-token>)")
DAV, CALDAV = "{DAV:}", "{urn:ietf:params:xml:ns:caldav}"


@dataclass
class Fault:
    """What the next `times` requests matching it meet: "refuse" (answered `status`, Retry-After: 0), "drop"
    (forwarded, then the connection closed without an answer: the server did the work, the answer is lost),
    "race" (`edit(path)` is called before the request is forwarded: another client writes the resource first).
    `methods` narrows it to requests of these methods; `conditional` to those with If-Match."""

    kind: str
    times: int
    status: int = 0
    methods: frozenset = frozenset()
    conditional: bool = False
    edit: object = None

    def matches(self, method, headers) -> bool:
        return self.times > 0 and (not self.methods or method in self.methods) and \
            (not self.conditional or "If-Match" in headers)


class Proxy:
    """Forwards every request to `target`; forget_tokens() makes each sync token handed out so far unknown;
    with `without_sync_collection`, the server seems one that has no sync-collection report (RFC 6578 is
    optional): it refuses it as an unsupported report (RFC 3253 3.6) and has no DAV:sync-token property,
    unless `token_without_report` (a server that gives the property yet refuses the report)."""

    def __init__(self, target: str, *, without_sync_collection=False):
        self.target, self.issued, self.forgotten = target.rstrip("/"), set(), set()
        self.without_sync_collection, self.token_without_report = without_sync_collection, False
        self.served = Counter()  # faults as they were met: "refused 429", "dropped", "raced", "spoiled"...
        self.errors = []  # what went wrong in a race's edit (it runs in the proxy's thread)
        self._lock = threading.Lock()
        self.clear_faults()
        proxy = self

        class Handler(BaseHandler):
            def forward(self):
                proxy.handle(self)

            do_GET = do_HEAD = do_PUT = do_DELETE = do_POST = do_OPTIONS = forward
            do_PROPFIND = do_PROPPATCH = do_REPORT = do_MKCALENDAR = do_MKCOL = forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # Faults

    def forget_tokens(self):
        self.forgotten |= self.issued

    def refuse(self, status, times=1, *, methods=()):
        """Answer the next `times` requests (of `methods`) with `status` and Retry-After: 0."""
        self._arm(Fault("refuse", times, status=status, methods=frozenset(methods)))

    def drop(self, times=1, *, methods=()):
        """Forward the next `times` requests (of `methods`), then close their connection without an answer."""
        self._arm(Fault("drop", times, methods=frozenset(methods)))

    def race(self, edit, times=1):
        """Before a conditional write (If-Match) reaches the server, call `edit(path)`, which may write the
        resource as another client would (the write then meets 412 Precondition Failed) and says whether it did;
        `times` such writes."""
        self._arm(Fault("race", times, methods=WRITES, conditional=True, edit=edit))

    def slow(self, seconds):
        """Delay every answer by `seconds`."""
        self.delay = seconds

    def spoil(self, path, body: bytes):
        """Give `body` as the resource at `path` holds (in GET answers and in a report's calendar-data)."""
        self.spoiled[path] = body

    def clear_faults(self):
        with self._lock:
            self.faults, self.spoiled, self.delay = [], {}, 0.0

    def _arm(self, fault):
        with self._lock:
            self.faults.append(fault)

    def _take(self, method, headers) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, headers):
                    fault.times -= fault.kind != "race"  # a race counts once its edit was made
                    return fault
        return None

    # Requests

    def handle(self, handler):
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        method, path = handler.command, unquote(urlsplit(handler.path).path)
        headers = CaseInsensitiveDict((name, value) for name, value in handler.headers.items()
                                      if name.lower() != "host")
        if self.delay:
            time.sleep(self.delay)
            self.served["slowed"] += 1
        fault = self._take(method, headers)
        if fault is not None and fault.kind == "refuse":
            self.served[f"refused {fault.status}"] += 1
            return handler.answer(fault.status, {"Retry-After": "0"}, b"")
        if method == "REPORT" and self.without_sync_collection and b"sync-collection" in body:
            return handler.answer(403, {"Content-Type": "application/xml"}, UNSUPPORTED)
        if method == "REPORT" and any(token in body for token in self.forgotten):
            return handler.answer(403, {"Content-Type": "application/xml"}, EXPIRED)
        if fault is not None and fault.kind == "race":
            try:
                raced = fault.edit(path)
            except Exception:  # noqa: BLE001 - told to the test through `errors`, the request goes on
                raced = self.errors.append(traceback.format_exc())
            if raced:
                with self._lock:
                    fault.times -= 1
                self.served["raced"] += 1
        response = requests.request(method, self.target + handler.path, data=body, headers=headers,
                                    allow_redirects=False, timeout=30)
        self.issued.update(TOKEN.findall(response.content))
        if fault is not None and fault.kind == "drop":
            self.served["dropped"] += 1
            handler.close_connection = True
            return None  # the server did the work; its answer is lost with the connection
        content = self._spoiled(method, path, response.content) if self.spoiled else response.content
        if method == "PROPFIND" and self.without_sync_collection and not self.token_without_report:
            content = SYNC_TOKEN_PROPERTY.sub(b"", content)
        return handler.answer(response.status_code, {name: value for name, value in response.headers.items()
                                                     if name.lower() not in HOP_BY_HOP}, content)

    def _spoiled(self, method, path, content: bytes) -> bytes:
        """The answer with the bodies of the spoiled resources replaced."""
        spoiled = dict(self.spoiled)
        if method == "GET" and path in spoiled:
            self.served["spoiled"] += 1
            return spoiled[path]
        if method != "REPORT" or b"calendar-data" not in content:
            return content
        root, changed = fromstring(content), False
        for response in root.iter(f"{DAV}response"):
            href = unquote(urlsplit((response.findtext(f"{DAV}href") or "").strip()).path)
            data = response.find(f".//{CALDAV}calendar-data")
            if href in spoiled and data is not None and data.text:
                data.text, changed = spoiled[href].decode(errors="replace"), True
                self.served["spoiled"] += 1
        return tostring(root, encoding="utf-8", xml_declaration=True) if changed else content

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, headers, content):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args):
        pass
