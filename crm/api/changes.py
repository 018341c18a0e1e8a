"""The changes feed, for clients that keep a copy (a phone offline): `/api/v1/changes/?cursor=…`.

What changed since the cursor, oldest first: each action or occurrence saved (created or updated; an
occurrence changed on its own is a row with `series` and `recurrence_id`) whole, as `/actions/{id}/` has it;
and each one that left the user's view, as a removal: deleted, an occurrence cancelled, or no longer theirs.
Pages of at most `page_size` (200; 1,000 at most) with `more` set while there is more; the answer's `cursor` is
the next question. A cursor never reaches past the last five minutes, so that a change committed late is not
missed: what changed in them may come again (apply each by its `id` and `etag`). Without a cursor: everything
the user sees now. A cursor older than the kept removals (90 days) is a 410: start again without one.
"""

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import selectors
from crm.api.mixins import UserTimeZoneMixin
from crm.api.serializers import action_data
from crm.models import Removal, RemovalReason, removals

SETTLE = timedelta(minutes=5)
KEPT = timedelta(days=removals.KEPT_DAYS)
ACTION, REMOVAL = 0, 1  # at one instant, saves before removals


class ChangesSerializer(serializers.Serializer):
    changes = serializers.ListField(child=serializers.DictField(), help_text=(
        "Oldest first. `{\"type\": \"action\", \"action\": {…as /actions/{id}/…}}` for an action or occurrence "
        "saved; `{\"type\": \"removed\", \"id\", \"uid\", \"series\", \"recurrence_id\", \"reason\": deleted | "
        "cancelled | left, \"at\"}` for one that left: drop it (a series removed takes its occurrences)."))
    cursor = serializers.CharField(help_text="Ask with it next.")
    more = serializers.BooleanField(help_text="More changes wait: ask again at once.")


class ChangesView(UserTimeZoneMixin, APIView):
    """What changed since the cursor: saved actions and occurrences, and those removed (see the module)."""

    @extend_schema(parameters=[
        OpenApiParameter("cursor", OpenApiTypes.STR, description="The last answer's cursor; none: everything."),
        OpenApiParameter("page_size", OpenApiTypes.INT, description="At most 1,000; 200 by default."),
    ], responses={200: ChangesSerializer,
                  400: OpenApiResponse(description="A cursor or page size that cannot be read."),
                  410: OpenApiResponse(description="The cursor is older than the removals kept: start again.")})
    def get(self, request):
        since = _decoded(request.query_params.get("cursor", ""))
        limit = _page_size(request.query_params.get("page_size"))
        now = timezone.now()
        if since is not None and since[0] < now - KEPT:
            return Response({"detail": "This cursor is too old: ask again without one and replace your copy."},
                            status=status.HTTP_410_GONE)
        items = sorted(self._saved(request.user, since, limit + 1) + self._removed(request.user, since, limit + 1))
        more = len(items) > limit
        items = items[:limit]
        cursor = _next_cursor(since, items[-1][:3] if items else None, more, (now - SETTLE, -1, 0))
        changes = [change for *_key, change in items]
        _drop_still_visible(request.user, changes)
        return Response({"changes": changes, "cursor": _encoded(cursor), "more": more})

    def _saved(self, user, since, limit) -> list:
        rows = selectors.actions_visible_to(user).select_related("action_type")
        if since is not None:
            rows = rows.filter(_after("updated_at", since, ACTION))
        rows = selectors.with_people_ids(list(rows.order_by("updated_at", "pk")[:limit]))
        zone = timezone.get_current_timezone()
        return [(row.updated_at, ACTION, row.pk, {"type": "action", "action": action_data(row, zone)})
                for row in rows]

    def _removed(self, user, since, limit) -> list:
        if since is None:
            return []  # without a cursor the copy starts empty: nothing to drop
        rows = Removal.objects.filter(user=user)
        if user.has_perm("crm.view_all_actions"):  # everyone's deletions, once each
            rows = Removal.objects.filter(Q(user=user) | ~Q(reason=RemovalReason.LEFT))
        rows = rows.filter(_after("removed_at", since, REMOVAL)).order_by("removed_at", "pk")[:limit]
        found, seen = [], set()
        for row in rows:
            key = (row.action_id, row.recurrence_id, row.reason)
            if key not in seen:
                seen.add(key)
                found.append((row.removed_at, REMOVAL, row.pk, {
                    "type": "removed", "id": row.action_id, "uid": row.uid, "series": row.series_id,
                    "recurrence_id": row.recurrence_id, "reason": row.reason, "at": row.removed_at}))
        return found


def _next_cursor(since, last, more, settled):
    """Where the next question starts: after this page while more waits; else no later than the settled past
    (what changed in the last minutes may come again), and never back before the question's own cursor."""
    if more:
        return last
    if last is None:
        return since or settled
    cursor = min(last, settled)
    return max(cursor, since) if since is not None else cursor


def _after(field, since, rank) -> Q:
    """Rows after the cursor's (instant, rank, pk), in that order."""
    moment, since_rank, pk = since
    later = Q(**{f"{field}__gt": moment})
    if rank > since_rank:
        return later | Q(**{field: moment})
    if rank == since_rank:
        return later | Q(**{field: moment, "pk__gt": pk})
    return later


def _drop_still_visible(user, changes):
    """A `left` removal of an action the user still sees (they see every agenda, or are in it again) is none."""
    left = {change["id"] for change in changes if change["type"] == "removed" and change["reason"] == "left"}
    if not left:
        return
    visible = set(selectors.actions_visible_to(user).filter(pk__in=left).values_list("pk", flat=True))
    changes[:] = [change for change in changes if not (change["type"] == "removed" and change["reason"] == "left"
                                                       and change["id"] in visible)]


def _encoded(key) -> str:
    moment, rank, pk = key
    text = json.dumps([int(moment.timestamp() * 1_000_000), rank, pk])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decoded(text):
    if not text:
        return None
    try:
        micros, rank, pk = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return datetime.fromtimestamp(int(micros) / 1_000_000, UTC), int(rank), int(pk)
    except (ValueError, TypeError, binascii.Error, OverflowError, OSError):
        raise ValidationError({"cursor": ["This is not a cursor this API gave: ask without one."]}) from None


def _page_size(text) -> int:
    if text in (None, ""):
        return 200
    try:
        size = int(text)
    except ValueError:
        raise ValidationError({"page_size": ["A whole number, 1 to 1,000."]}) from None
    if not 1 <= size <= 1000:
        raise ValidationError({"page_size": ["A whole number, 1 to 1,000."]})
    return size
