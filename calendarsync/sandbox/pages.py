"""Listings kept while a client pages through them, as the real services' page tokens do.

A listing is computed on its first page and kept under a key naming its query and its snapshot,
so later pages neither shift nor repeat the work; the least recently used are dropped.
"""

KEPT = 32  # listings kept per sandbox


def kept(cache: dict, key, compute) -> list:
    items = cache.pop(key, None)
    if items is None:
        items = compute()
    cache[key] = items
    while len(cache) > KEPT:
        cache.pop(next(iter(cache)))
    return items
