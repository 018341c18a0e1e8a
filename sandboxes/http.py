"""The sandboxes' HTTP layer: a threaded loopback server, a router, and injected faults.

Standard library only, so that a sandbox behaves the same in a test process, a subprocess or
beside `make run`, and so that it can answer exactly as the real services do, down to a dropped
connection.
"""

import json
import re
import ssl
import threading
import time
import traceback
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 302: "Found", 304: "Not Modified",
               400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
               410: "Gone", 412: "Precondition Failed", 424: "Failed Dependency", 429: "Too Many Requests",
               500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
               504: "Gateway Timeout"}


class DropConnection(Exception):
    """Close the connection without answering, as a broken network does."""


class Refused(Exception):
    """Stop handling a request and answer with `response` (an error in the service's shape)."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, without the query string
    query: dict[str, list[str]]
    headers: Message
    body: bytes = b""
    base_url: str = ""
    params: dict[str, str] = field(default_factory=dict)  # named groups of the matched route
    route: str = ""  # the matched route's name

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        return json.loads(self.body or b"null")

    def form(self):
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data, status=200, **headers):
        body = json.dumps(data).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=UTF-8", **headers})

    @classmethod
    def html(cls, text, status=200):
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})

    @classmethod
    def redirect(cls, location):
        return cls(302, b"", {"Location": location})


class Router:
    """Map (method, path regex) to handlers; the first match wins."""

    def __init__(self):
        self.routes = []

    def add(self, method, pattern, handler, name=None):
        self.routes.append((method, re.compile(f"^{pattern}$"), handler, name or handler.__name__))

    def match(self, method, path):
        allowed = False
        for route_method, pattern, handler, name in self.routes:
            found = pattern.match(path)
            if found:
                if route_method == method:
                    return handler, name, found.groupdict()
                allowed = True
        return None, "method_not_allowed" if allowed else "not_found", {}


@dataclass
class Fault:
    """What the next `times` matching requests get instead of an answer."""

    status: int = 0  # an HTTP status to answer with (429, 403, 500, 503, ...)
    body: dict | None = None
    retry_after: int | None = None
    drop: bool = False  # close the connection without a response
    latency: float = 0.0  # seconds to wait before answering normally
    times: int = 1
    method: str = ""
    path: str = ""  # a regex the path must match


class Faults:
    """A queue of injected faults, consumed in order by the requests they match."""

    def __init__(self):
        self._lock = threading.Lock()
        self._queue: list[Fault] = []

    def add(self, fault: Fault):
        with self._lock:
            self._queue.append(fault)

    def clear(self):
        with self._lock:
            self._queue.clear()

    def take(self, method, path) -> Fault | None:
        with self._lock:
            for fault in self._queue:
                if (not fault.method or fault.method == method) and (not fault.path or re.search(fault.path, path)):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._queue.remove(fault)
                    return fault
        return None


class Counters:
    """Requests served and seconds spent, by route name, for tests and benchmarks to read."""

    def __init__(self):
        self._lock = threading.Lock()
        self.values: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def add(self, name, amount=1):
        with self._lock:
            self.values[name] = self.values.get(name, 0) + amount

    def spent(self, name, seconds):
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def snapshot(self):
        with self._lock:
            return dict(self.values)

    def clear(self):
        with self._lock:
            self.values.clear()
            self.seconds.clear()


def unlocked(handler):
    """Mark a handler that must not hold its service's lock: it waits on other servers (web hooks)."""
    handler.unlocked = True
    return handler


class Service:
    """A sandboxed web service: a router, its faults and counters, and how it spells errors.

    Subclasses keep their state in `self.store`, which has a reentrant `lock`.
    """

    control_prefix = "/__sandbox__/"

    def __init__(self):
        self.router = Router()
        self.faults = Faults()
        self.counters = Counters()

    def forget_history(self):
        """Forget what was recorded of past requests (counters are cleared by the caller)."""

    def error(self, status, message, reason=""):
        """Answer with the error shape of the service being imitated."""
        return Response.json({"error": {"code": status, "message": message, "reason": reason}}, status)

    def fault_error(self, status) -> Response:
        """The error body this service sends for an injected fault with no body of its own."""
        return self.error(status, STATUS_TEXT.get(status, "Error"))

    def fault_response(self, fault: Fault) -> Response:
        response = Response.json(fault.body, fault.status) if fault.body is not None else self.fault_error(fault.status)
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    def dispatch(self, handler, request: Request) -> Response:
        """Run a route's handler holding the store's lock: one request at a time touches the state, as if
        each were a transaction (handlers marked `unlocked` take it themselves, around their writes)."""
        if getattr(handler, "unlocked", False):
            return handler(request)
        with self.store.lock:
            return handler(request)

    def handle(self, request: Request) -> Response:
        controlling = request.path.startswith(self.control_prefix)
        if not controlling:
            fault = self.faults.take(request.method, request.path)
            if fault is not None:
                self.counters.add("injected_faults")
                if fault.drop:
                    raise DropConnection
                if fault.latency:
                    time.sleep(fault.latency)
                if fault.status:
                    return self.fault_response(fault)
        handler, name, params = self.router.match(request.method, request.path)
        if not controlling:
            self.counters.add(name)
        if handler is None:
            return self.error(405 if name == "method_not_allowed" else 404, "Not Found", "notFound")
        request.params, request.route = params, name
        began = time.perf_counter()
        try:
            return self.dispatch(handler, request)
        except Refused as refused:
            return refused.response
        except (DropConnection, KeyboardInterrupt):
            raise
        except Exception:  # a sandbox bug: answer as the service would, and say so loudly
            traceback.print_exc()
            self.counters.add("sandbox_errors")
            return self.error(500, "The sandbox failed on this request (a bug: see its log).", "internalError")
        finally:
            if not controlling:
                self.counters.spent(name, time.perf_counter() - began)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CalendarSandbox/1.0"

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def _serve(self):
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command, path=unquote(split.path), query=parse_qs(split.query, keep_blank_values=True),
            headers=self.headers, body=body, base_url=self.server.base_url,
        )
        try:
            response = self.server.service.handle(request)
        except DropConnection:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.send_response(response.status, STATUS_TEXT.get(response.status))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, service: Service, host="127.0.0.1", port=0, ssl_context: ssl.SSLContext | None = None):
        super().__init__((host, port), _Handler)
        self.service = service
        if ssl_context is not None:
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True)
        scheme = "https" if ssl_context is not None else "http"
        self.base_url = f"{scheme}://{host}:{self.server_address[1]}"
        self.thread = None

    def start(self):
        """Serve in a background thread and return the base URL."""
        self.thread = threading.Thread(target=self.serve_forever, name=f"sandbox-{self.base_url}", daemon=True)
        self.thread.start()
        return self.base_url

    def stop(self):
        self.shutdown()
        self.server_close()
