"""A small proxy in front of a real CalDAV server, for the faults a server may show that it cannot be told to:
sync tokens it no longer knows (RFC 6578 3.2 lets a server expire them at any time)."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

TOKEN = re.compile(rb"<(?:\w+:)?sync-token>([^<]+)</(?:\w+:)?sync-token>")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "server",
              "date"}
EXPIRED = (b'<?xml version="1.0" encoding="utf-8"?>\n'
           b'<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>')
UNSUPPORTED = (b'<?xml version="1.0" encoding="utf-8"?>\n'
               b'<D:error xmlns:D="DAV:"><D:supported-report/></D:error>')


class Proxy:
    """Forwards every request to `target`; forget_tokens() makes each sync token handed out so far unknown;
    with `without_sync_collection`, the server seems one that has no sync-collection report (RFC 6578 is
    optional): it refuses it as an unsupported report (RFC 3253 3.6)."""

    def __init__(self, target: str, *, without_sync_collection=False):
        self.target, self.issued, self.forgotten = target.rstrip("/"), set(), set()
        self.without_sync_collection = without_sync_collection
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "REPORT" and proxy.without_sync_collection and b"sync-collection" in body:
                    return self.answer(403, {"Content-Type": "application/xml"}, UNSUPPORTED)
                if self.command == "REPORT" and any(token in body for token in proxy.forgotten):
                    return self.answer(403, {"Content-Type": "application/xml"}, EXPIRED)
                headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
                response = requests.request(self.command, proxy.target + self.path, data=body, headers=headers,
                                            allow_redirects=False, timeout=30)
                proxy.issued.update(TOKEN.findall(response.content))
                return self.answer(response.status_code, {name: value for name, value in response.headers.items()
                                                          if name.lower() not in HOP_BY_HOP}, response.content)

            def answer(self, status, headers, content):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_HEAD = do_PUT = do_DELETE = do_POST = do_OPTIONS = forward
            do_PROPFIND = do_PROPPATCH = do_REPORT = do_MKCALENDAR = do_MKCOL = forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forget_tokens(self):
        self.forgotten |= self.issued

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
