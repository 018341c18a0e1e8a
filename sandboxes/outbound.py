"""Requests a sandbox sends itself: push notifications and webhook validations, as the services do."""

import http.client
from urllib.parse import urlsplit


def post(url: str, body: bytes, headers: dict, timeout: float = 10) -> tuple[int, bytes, str]:
    """POST and return (status, body, content type); status 0 when nothing answered in time.

    http.client keeps header names exactly as given, as the real services send them.
    """
    connection = None
    try:
        address = urlsplit(url)
        connection_class = http.client.HTTPSConnection if address.scheme == "https" else http.client.HTTPConnection
        target = (address.path or "/") + (f"?{address.query}" if address.query else "")
        connection = connection_class(address.hostname, address.port, timeout=timeout)
        connection.request("POST", target, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("Content-Type") or ""
    except (OSError, ValueError, http.client.HTTPException):  # unreachable, malformed or broken: nothing answered
        return 0, b"", ""
    finally:
        if connection is not None:
            connection.close()
