"""A server that takes HTTP Digest only (Baïkal's default, a SabreDAV setting): discovery and a sync's requests
answer its challenges. The gate here checks Digest (RFC 7616, MD5 with qop=auth, as SabreDAV does) in front of
a real Xandikos, which has no authentication of its own."""

import hashlib
import re
import secrets
import threading
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer

import pytest
import requests

from calendarsync.providers.base import Usage
from calendarsync.providers.caldav.dav import Dav
from calendarsync.providers.caldav.discovery import DiscoveryError, discover
from calendarsync.providers.caldav.provider import CalDAVProvider
from tests import caldav_servers
from tests.caldav_proxy import BaseHandler
from tests.caldav_servers import PASSWORD, USER

REALM = "SabreDAV"
FIELD = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - what Digest auth is made of


class DigestGate:
    """Forwards to `target` the requests whose Digest answer is right; challenges the others (401)."""

    def __init__(self, target: str):
        self.target, self.nonce, self.basic_tries, self.passed = target.rstrip("/"), secrets.token_hex(8), 0, 0
        gate = self

        class Handler(BaseHandler):
            def handle_one(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                given = self.headers.get("Authorization", "")
                gate.basic_tries += given.startswith("Basic ")
                if not gate.valid(given, self.command):
                    self.answer(401, {"WWW-Authenticate": f'Digest realm="{REALM}", qop="auth", '
                                                         f'nonce="{gate.nonce}", opaque="x"'}, b"")
                    return
                gate.passed += 1
                headers = {name: value for name, value in self.headers.items()
                           if name.lower() not in ("host", "authorization")}
                answer = requests.request(self.command, gate.target + self.path, data=body, headers=headers,
                                          timeout=30)
                self.answer(answer.status_code, {name: value for name, value in answer.headers.items() if name.lower()
                                                in ("content-type", "etag", "location")}, answer.content)

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = handle_one


        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def valid(self, header: str, method: str) -> bool:
        if not header.startswith("Digest "):
            return False
        fields = {name: quoted or bare for name, quoted, bare in FIELD.findall(header)}
        if fields.get("username") != USER or fields.get("nonce") != self.nonce:
            return False
        first, second = _md5(f"{USER}:{REALM}:{PASSWORD}"), _md5(f"{method}:{fields.get('uri', '')}")
        expected = _md5(f"{first}:{self.nonce}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{second}")
        return fields.get("response") == expected

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gate(tmp_path):
    with caldav_servers.xandikos(tmp_path) as server:
        caldav_servers.make_calendar(server, "work", display_name="Work")
        gate = DigestGate(server.url)
        yield gate, server
        gate.close()


def test_a_digest_only_server_is_discovered_and_read(gate):
    gate, server = gate
    found = discover(gate.url, USER, PASSWORD)
    assert server.calendar_path("work") in [calendar.path for calendar in found.calendars]
    provider = CalDAVProvider(Dav(gate.url, USER, PASSWORD, Usage()), found.home)
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    changes = provider.changes(server.calendar_path("work"), "", window)
    assert (changes.full, changes.events) == (True, [])
    assert gate.passed >= 4
    assert gate.basic_tries == 2  # Basic once by each client (discovery, the provider), refused; Digest then


def test_a_wrong_password_is_refused_by_a_digest_server_too(gate):
    gate, _server = gate
    with pytest.raises(DiscoveryError) as failed:
        discover(gate.url, USER, "wrong")
    assert failed.value.problem == "revoked"
