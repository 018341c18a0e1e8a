"""Push notifications: events.watch opens a channel, changes are delivered to its address.

Deliveries happen on a background thread, as Google's do: a `sync` message first (number 1),
then `exists` for changes. 5xx answers are retried a few times; 4xx ones are final.
"""

import secrets
import threading
import time
from email.utils import formatdate

from .. import outbound
from ..http import Request, Response

DEFAULT_TTL = 604800
RETRIES = 3


def watch(service, request: Request) -> Response:
    _, calendar = service._calendar(request)
    body = service._body(request)
    channel_id, address = str(body.get("id", "")), body.get("address", "")
    if not channel_id or len(channel_id) > 64 or body.get("type") != "web_hook" or not address:
        return service.error(400, "Invalid channel.", "invalid")
    if channel_id in service.store.channels:
        return service.error(400, f"Channel id {channel_id} not unique", "channelIdNotUnique")
    ttl = int((body.get("params") or {}).get("ttl", DEFAULT_TTL))
    expiration = int(body.get("expiration") or 0) or int((time.time() + min(ttl, DEFAULT_TTL)) * 1000)
    channel = {"id": channel_id, "resourceId": secrets.token_urlsafe(16), "address": address,
               "token": body.get("token"), "expiration": expiration, "calendar": calendar.id,
               "resourceUri": f"{request.base_url}/calendar/v3/calendars/{calendar.id}/events?alt=json",
               "number": 0, "deliveries": []}
    service.store.channels[channel_id] = channel
    notify(channel, "sync")
    answer = {"kind": "api#channel", "id": channel_id, "resourceId": channel["resourceId"],
              "resourceUri": channel["resourceUri"], "expiration": str(expiration)}
    if channel["token"]:
        answer["token"] = channel["token"]
    return Response.json(answer)


def stop(service, request: Request) -> Response:
    body = service._body(request)
    channel = service.store.channels.get(body.get("id", ""))
    if channel is None or channel["resourceId"] != body.get("resourceId"):
        return service.error(404, f"Channel '{body.get('id')}' not found for project", "notFound")
    channel["stopped"] = True
    return Response(204, b"", {})


def changed(store, calendar_id):
    """Tell every live channel on the calendar that something changed."""
    now = time.time() * 1000
    for channel in list(store.channels.values()):
        if channel["calendar"] == calendar_id and not channel.get("stopped") and channel["expiration"] > now:
            notify(channel, "exists")


def notify(channel, state):
    channel["number"] += 1 if state == "sync" else 1 + secrets.randbelow(3)  # increasing, not consecutive
    headers = {"X-Goog-Channel-ID": channel["id"], "X-Goog-Resource-ID": channel["resourceId"],
               "X-Goog-Resource-URI": channel["resourceUri"], "X-Goog-Resource-State": state,
               "X-Goog-Message-Number": str(channel["number"] if state != "sync" else 1),
               "X-Goog-Channel-Expiration": formatdate(channel["expiration"] / 1000, usegmt=True)}
    if channel["token"]:
        headers["X-Goog-Channel-Token"] = channel["token"]
    threading.Thread(target=_deliver, args=(channel, headers), daemon=True).start()


def _deliver(channel, headers):
    for attempt in range(RETRIES + 1):
        status = outbound.post(channel["address"], b"", headers)[0]
        channel["deliveries"].append({"state": headers["X-Goog-Resource-State"], "status": status})
        if status in (200, 201, 202, 204, 102) or 400 <= status < 500:
            return
        time.sleep(0.05 * 2 ** attempt)
