"""Graph's JSON batching: POST /v1.0/$batch with at most 20 requests, `dependsOn` and 424.

Each request runs through the same service (faults and throttling included, per request); the
answer lists one response per request, correlated by id.
"""

import json
from email.message import Message
from urllib.parse import parse_qs, unquote, urlsplit

from ..http import DropConnection, Request, Response, unlocked
from .errors import GraphError
from .paths import V1

MAX_REQUESTS = 20


def install(service):
    # Unlocked: each request takes the lock as it runs (and a subscription's handshake runs without it).
    service.router.add("POST", f"{V1}/\\$batch", unlocked(lambda request: handle(service, request)), "batch")


def handle(service, request: Request) -> Response:
    try:
        batch = request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from exc
    requests = batch.get("requests") if isinstance(batch, dict) else None
    if not isinstance(requests, list) or not requests:
        raise GraphError(400, "BadRequest", "Invalid batch payload format.")
    if len(requests) > MAX_REQUESTS:
        raise GraphError(400, "BadRequest", f"The number of batch requests exceeds the maximum of {MAX_REQUESTS}.")
    ids = [str(item.get("id", "")).lower() for item in requests if isinstance(item, dict)]
    if len(ids) != len(requests) or "" in ids or len(set(ids)) != len(ids):
        raise GraphError(400, "BadRequest", "Batch request ids must be present and unique.")
    service.counters.add("batch_requests", len(requests))
    status_by_id, responses = {}, []
    for item in requests:
        if not isinstance(item.get("dependsOn") or [], list) or not isinstance(item.get("headers") or {}, dict):
            raise GraphError(400, "BadRequest", f"Request {item['id']}: dependsOn is a list, headers an object.")
    for item in requests:
        failed = [dependency for dependency in item.get("dependsOn") or []
                  if not 200 <= status_by_id.get(str(dependency).lower(), 424) < 300]
        if failed:
            answer = {"id": item["id"], "status": 424, "body": {"error": {
                "code": "FailedDependency", "message": "Dependent request failed"}}}
        else:
            answer = _run(service, request, item)
        status_by_id[str(item["id"]).lower()] = answer["status"]
        responses.append(answer)
    return service.json({"responses": responses})


def _run(service, outer: Request, item: dict) -> dict:
    headers = Message()
    for name, value in (item.get("headers") or {}).items():
        headers[name] = str(value)
    body = item.get("body")
    if body is not None and not headers.get("Content-Type"):
        return {"id": item["id"], "status": 400, "body": {"error": {
            "code": "BadRequest", "message": "Content-Type header must be specified when a body is present."}}}
    headers["Authorization"] = outer.header("Authorization") or ""
    split = urlsplit("/" + str(item.get("url", "")).lstrip("/"))
    inner = Request(method=str(item.get("method", "GET")).upper(), path=V1 + unquote(split.path),
                    query=parse_qs(split.query, keep_blank_values=True), headers=headers,
                    body=json.dumps(body).encode() if body is not None else b"", base_url=outer.base_url)
    try:
        response = service.handle(inner)
    except DropConnection:  # a request lost inside a batch comes back as unavailable
        response = service.error(503, "The service is currently unavailable.", "serviceNotAvailable")
    answer = {"id": item["id"], "status": response.status,
              "headers": {name: value for name, value in response.headers.items()
                          if name.lower() in ("content-type", "retry-after", "etag", "location")}}
    if response.body:
        answer["body"] = json.loads(response.body)
    return answer
