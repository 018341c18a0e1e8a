"""Graph change notifications: subscriptions, the validation handshake, deliveries, lifecycle events.

Creating a subscription first checks that the notification URL echoes a validation token (and the
lifecycle URL too), as Graph does before answering 201. Changes are delivered on a background
thread, several in one `value` array when they come close together; answers other than 2xx are
retried a few times, then dropped. Subscriptions on `me/events` follow the default calendar; on
`me/calendars/{id}/events`, that calendar (a sandbox choice: Graph does not say more).
"""

import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from .. import outbound
from ..http import Response, unlocked
from .errors import GraphError, not_found
from .graph import json_body
from .paths import V1
from .store import TENANT_ID

CHANGE_TYPES = {"created", "updated", "deleted"}
MIN_MINUTES = 45
GATHER_SECONDS = 0.05  # changes this close together go out in one POST
RESOURCE = re.compile(r"^/?(?:me|users/(?P<user>[^/]+))/(?:calendars/(?P<cal>[^/]+)/)?events$", re.IGNORECASE)
LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")


def install(service):
    add = service.router.add
    add("POST", f"{V1}/subscriptions", unlocked(lambda r: create(service, r)), "subscriptions_create")
    add("GET", f"{V1}/subscriptions", lambda r: listing(service, r), "subscriptions_list")
    one = f"{V1}/subscriptions/(?P<sub>[^/]+)"
    add("GET", one, lambda r: service.json(_public(_mine(service, r))), "subscriptions_get")
    add("PATCH", one, lambda r: renew(service, r), "subscriptions_update")
    add("DELETE", one, lambda r: remove(service, r), "subscriptions_delete")
    add("POST", f"{one}/reauthorize", lambda r: (_mine(service, r), Response(204, b"", {}))[1],
        "subscriptions_reauthorize")


def create(service, request):
    """Validate the URLs first, without the store's lock: the receiver may call Graph while it answers."""
    store = service.store
    body = json_body(request)
    change_types = str(body.get("changeType", "")).split(",")
    if not body.get("changeType") or not set(change_types) <= CHANGE_TYPES:
        raise _invalid("changeType must list created, updated or deleted.")
    with store.lock:
        calendar_id = _calendar_for(service, request, str(body.get("resource", "")))
    client_state = body.get("clientState")
    if client_state is not None and (not isinstance(client_state, str) or len(client_state) > 128):
        raise _invalid("clientState is a text of at most 128 characters.")
    urls = [body.get("notificationUrl"), body.get("lifecycleNotificationUrl")]
    if not _web_url(urls[0]) or (urls[1] is not None and not _web_url(urls[1])):
        raise _invalid("The notificationUrl must be an HTTPS URL (the sandbox also takes http).")
    expiration = _expiration(store, body.get("expirationDateTime"))
    for url in filter(None, urls):  # Graph checks both URLs before it answers
        if not _validates(str(url)):
            raise GraphError(400, "ValidationError", "Subscription validation request failed. Notification "
                             "endpoint must respond with 200 OK to validation request.")
    subscription = {"id": str(uuid.uuid4()), "resource": body["resource"], "applicationId": request.client_id,
                    "changeType": ",".join(change_types), "clientState": client_state,
                    "notificationUrl": urls[0], "lifecycleNotificationUrl": urls[1],
                    "expirationDateTime": expiration, "creatorId": store.users[request.email].oid,
                    "includeResourceData": False, "latestSupportedTlsVersion": "v1_2",
                    "encryptionCertificate": None, "encryptionCertificateId": None,
                    "notificationQueryOptions": None, "notificationContentType": None,
                    "_calendar": calendar_id, "_owner": request.email, "_pending": [], "_deliveries": []}
    with store.lock:
        store.subscriptions[subscription["id"]] = subscription
    return service.json(_public(subscription), 201)


def listing(service, request):
    mine = [_public(item) for item in service.store.subscriptions.values() if item["_owner"] == request.email]
    return service.json({"@odata.context": f"{request.base_url}{V1}/$metadata#subscriptions", "value": mine})


def renew(service, request):
    subscription = _mine(service, request)
    body = json_body(request)
    if set(body) - {"expirationDateTime"}:
        raise _invalid("Only expirationDateTime can be changed.")
    subscription["expirationDateTime"] = _expiration(service.store, body.get("expirationDateTime"))
    return service.json(_public(subscription))


def remove(service, request):
    subscription = _mine(service, request)
    del service.store.subscriptions[subscription["id"]]
    return Response(204, b"", {})


def changed(store, calendar, event: dict, change_type: str):
    """Queue a notification for every live subscription that follows the calendar."""
    now = store.clock()
    for subscription in store.subscriptions.values():
        if subscription["_calendar"] != calendar.id or change_type not in subscription["changeType"].split(",") \
                or datetime.fromisoformat(subscription["expirationDateTime"]) <= now:
            continue
        oid = store.users[subscription["_owner"]].oid
        resource = f"Users/{oid}/Events/{event['id']}"
        subscription["_pending"].append({
            "subscriptionId": subscription["id"],
            "subscriptionExpirationDateTime": subscription["expirationDateTime"],
            "changeType": change_type, "resource": resource, "clientState": subscription["clientState"],
            "tenantId": TENANT_ID,
            "resourceData": {"@odata.type": "#Microsoft.Graph.Event", "@odata.id": resource,
                             "@odata.etag": event.get("@odata.etag"), "id": event["id"]}})
        if len(subscription["_pending"]) == 1:
            threading.Timer(GATHER_SECONDS, _flush, (store, subscription)).start()


def lifecycle(store, subscription: dict, lifecycle_event: str):
    """Send a lifecycle notification now, as Graph does before it removes or must reauthorize."""
    if subscription["lifecycleNotificationUrl"]:
        notice = {"subscriptionId": subscription["id"],
                  "subscriptionExpirationDateTime": subscription["expirationDateTime"], "tenantId": TENANT_ID,
                  "clientState": subscription["clientState"], "lifecycleEvent": lifecycle_event}
        _send(store, subscription, subscription["lifecycleNotificationUrl"], [notice], lifecycle_event)
    if lifecycle_event == "subscriptionRemoved":
        with store.lock:  # this runs unlocked: it waits on the application's web hook
            store.subscriptions.pop(subscription["id"], None)


def _flush(store, subscription):
    with store.lock:
        batch, subscription["_pending"] = subscription["_pending"], []
    if batch:
        _send(store, subscription, subscription["notificationUrl"], batch, "changes")


def _send(store, subscription, url, notices, kind):
    body = json.dumps({"value": notices}).encode()
    for attempt in range(store.notification_retries + 1):
        status = outbound.post(url, body, {"Content-Type": "application/json; charset=utf-8"}, timeout=30)[0]
        subscription["_deliveries"].append({"kind": kind, "notifications": len(notices), "status": status,
                                            "changeTypes": [notice.get("changeType") for notice in notices]})
        if 200 <= status < 300:
            return
        time.sleep(0.05 * 2 ** attempt)


def _validates(url) -> bool:
    token = f"Validation: Testing client application reachability for subscription Request-Id: {uuid.uuid4()}"
    separator = "&" if "?" in url else "?"
    status, body, content_type = outbound.post(f"{url}{separator}validationToken={quote(token)}", b"",
                                               {"Content-Type": "text/plain; charset=utf-8"}, timeout=10)
    return status == 200 and content_type.startswith("text/plain") and body.decode(errors="replace") == token


def _web_url(text):
    try:
        address = urlsplit(text) if isinstance(text, str) else None
        address and address.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return bool(address and address.scheme in ("https", "http") and address.hostname)


def _calendar_for(service, request, resource):
    found = RESOURCE.match(resource)
    if found is None:
        raise _invalid(f"Resource '{resource}' is not supported. Use me/events or me/calendars/{{id}}/events.")
    user = found.group("user")
    owner = service.store.users[request.email]
    if user and user.lower() not in (owner.oid, owner.email.lower()):
        raise GraphError(403, "ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; "
                         "Reason: Access is denied. Check credentials and try again.]")
    entry = service.store.access(request.email, found.group("cal"))
    if entry is None:
        raise not_found()
    return entry.calendar_id


def _expiration(store, text):
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError as exc:
        raise _invalid("expirationDateTime is not a valid date and time.") from exc
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    now = store.clock()
    if moment <= now:
        raise _invalid("Subscription expiration must be in the future.")
    if moment > now + timedelta(minutes=store.subscription_max_minutes):
        raise _invalid(f"Subscription expiration can only be {store.subscription_max_minutes} minutes in the future.")
    return max(moment, now + timedelta(minutes=MIN_MINUTES)).astimezone(UTC).isoformat()


def _mine(service, request):
    subscription = service.store.subscriptions.get(request.params["sub"])
    if subscription is None or subscription["_owner"] != request.email:
        raise GraphError(404, "ResourceNotFound", f"The object was not found: {request.params['sub']}.")
    return subscription


def _public(subscription):
    return {name: value for name, value in subscription.items() if not name.startswith("_")}


def _invalid(message):
    return GraphError(400, "InvalidRequest", message)
