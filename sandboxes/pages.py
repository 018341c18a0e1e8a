"""Paging: the tokens that carry a listing's place, and listings kept while a client pages through them.

Tokens are opaque to clients (base64 of a small JSON object) and checked when they come back. A
listing is computed on its first page and kept under a key naming its query and its snapshot, so
later pages neither shift nor repeat the work; the least recently used are dropped.
"""

import base64
import binascii
import json

KEPT = 32  # listings kept per sandbox


def kept(cache: dict, key, compute) -> list:
    items = cache.pop(key, None)
    if items is None:
        items = compute()
    cache[key] = items
    while len(cache) > KEPT:
        cache.pop(next(iter(cache)))
    return items


def encode(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(text: str) -> dict | None:
    """The object a token of ours carries; None for anything else (forged, truncated, foreign)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    return data if isinstance(data, dict) else None
