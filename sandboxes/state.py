"""A sandbox's state as JSON, so a demo keeps its remote calendars and granted tokens across restarts.

Each store names what is worth keeping and its type (`STATE`); dataclasses, dicts, lists and
tuples are rebuilt from those types. Plain JSON, never pickle: a state file is data, not code.
A restored store expires the sync cursors handed out before (`restored()`): they may belong to
another history, and a client that resyncs in full loses nothing.
"""

import dataclasses
import json
import os
from pathlib import Path
from typing import get_args, get_origin, get_type_hints


def dump(store) -> dict:
    with store.lock:
        return {name: _encode(getattr(store, name)) for name in store.STATE}


def restore(store, data: dict):
    with store.lock:
        for name, kind in store.STATE.items():
            if name in data:
                setattr(store, name, _decode(kind, data[name]))
        store.restored()


def save(store, path: Path):
    """Write atomically, so an interrupted save never leaves half a file."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(dump(store)))
    os.replace(temporary, path)


def load(store, path: Path) -> bool:
    if not path.exists():
        return False
    restore(store, json.loads(path.read_text()))
    return True


def _encode(value):
    if dataclasses.is_dataclass(value):
        return {field.name: _encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


def _decode(kind, value):
    if dataclasses.is_dataclass(kind):
        hints = get_type_hints(kind)
        # Fields a newer sandbox no longer has are left out, so an older state file still loads.
        return kind(**{name: _decode(hints[name], item) for name, item in value.items() if name in hints})
    origin, arguments = get_origin(kind), get_args(kind)
    if origin is dict and arguments:
        return {key: _decode(arguments[1], item) for key, item in value.items()}
    if origin is list and arguments:
        return [_decode(arguments[0], item) for item in value]
    if origin is tuple and arguments:
        return tuple(_decode(item_kind, item) for item_kind, item in zip(arguments, value, strict=True))
    return value
