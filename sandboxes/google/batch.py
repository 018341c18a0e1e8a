"""The batch endpoint, in the exact multipart dialect google-api-python-client speaks.

Requests arrive as multipart/mixed parts of `application/http` (bare LF line ends, lower-case
inner headers); the answer is one part per request, in order, with CRLF line ends, a
`Content-ID: <response-…>` echoing each request's, and a three-token status line.
"""

import email
import email.policy
import re
import uuid
from email.message import Message
from urllib.parse import parse_qs, unquote, urlsplit

from ..http import STATUS_TEXT, DropConnection, Request, Response

MAX_PARTS = 1000


def handle(service, request: Request) -> Response:
    content_type = request.header("Content-Type") or ""
    if not content_type.startswith("multipart/mixed"):
        return service.error(400, "Bad Request", "badRequest")
    envelope = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body, policy=email.policy.compat32)
    parts = envelope.get_payload() if envelope.is_multipart() else []
    if not parts:
        return service.error(400, "Bad Request", "badRequest")
    if len(parts) > MAX_PARTS:
        return service.error(400, f"A batch may hold at most {MAX_PARTS} requests.", "badRequest")
    service.counters.add("batch_parts", len(parts))
    boundary = f"batch_{uuid.uuid4().hex}"
    chunks = []
    for part in parts:
        inner = _inner_request(part, request)
        try:
            answer = service.handle(inner)
        except DropConnection:
            answer = service.error(503, "The service is currently unavailable.", "backendError")
        chunks.append(_response_part(boundary, part.get("Content-ID", ""), answer))
    body = "".join(chunks).encode() + f"--{boundary}--\r\n".encode()
    return Response(200, body, {"Content-Type": f"multipart/mixed; boundary={boundary}"})


def _inner_request(part: Message, outer: Request) -> Request:
    raw = part.get_payload(decode=False)
    if isinstance(raw, list):  # a nested message: not something the client sends
        raw = ""
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
    headers = Message()
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip()] = value.strip()
    if not headers.get("Authorization") and outer.header("Authorization"):
        headers["Authorization"] = outer.header("Authorization")
    split = urlsplit(target)
    return Request(method=method.upper(), path=unquote(split.path), query=parse_qs(split.query, keep_blank_values=True),
                   headers=headers, body=body.encode(), base_url=outer.base_url)


def _response_part(boundary, content_id, answer: Response) -> str:
    # A client may fold a long Content-ID over lines (RFC 5322); Google echoes it unfolded.
    identifier = re.sub(r"\r?\n(?=[ \t])", "", content_id).strip()
    identifier = identifier[1:-1] if identifier.startswith("<") and identifier.endswith(">") else identifier
    headers = "".join(f"{name}: {value}\r\n" for name, value in answer.headers.items())
    headers += f"Content-Length: {len(answer.body)}\r\n"
    reason = STATUS_TEXT.get(answer.status, "Unknown")
    return (f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{identifier}>\r\n\r\n"
            f"HTTP/1.1 {answer.status} {reason}\r\n{headers}\r\n{answer.body.decode()}\r\n")
