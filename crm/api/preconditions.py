"""Versions of actions and occurrences, and conditional requests (RFC 9110 8.8.3, 13.1).

Every action and every occurrence has an ETag, also in its `etag` field. A write that names the version it
was made against (`If-Match`) is carried out only if the resource is still at that version, else refused
with 412 and the current version, so that a client that edited offline never overwrites a newer edit
unawares. A write without If-Match is unconditional, as before.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="The `etag` the change was made against: a 412 with the current version when it changed since.")


def etag_of(action) -> str:
    """A row's version: it changes with every save (`updated_at` has microseconds)."""
    return f'"{action.pk}-{int(action.updated_at.timestamp() * 1_000_000)}"'


def occurrence_etag(occurrence) -> str:
    """An occurrence's version: its own row's when it was changed (an override), else its series' with its key."""
    if occurrence.is_generated:
        return etag_of(occurrence.action)[:-1] + f'-{occurrence.recurrence_id}"'
    return etag_of(occurrence.action)


def matches(request, current: str) -> bool:
    """Whether the request's If-Match (if any) names the current version; a weak one compares as strong."""
    header = request.headers.get("If-Match")
    if header is None:
        return True
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or current in tags
