"""What an event may hold: checked before it is hashed and written, so that every stored row
reads back exactly as it was given and the chain's canonical form is well defined.

Text must be valid Unicode (a lone surrogate, say from a ``surrogateescape`` decode, cannot be
UTF-8 encoded, so it could be neither hashed nor stored); ``data`` must be JSON: string keys,
finite numbers, no bytes, bounded nesting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from station.audit.errors import UnstorableEvent
from station.audit.records import EventContext, NewEvent

#: How deeply an event's ``data`` may nest objects and arrays.
MAX_DATA_DEPTH = 32


def check_storable(event: NewEvent, ctx: EventContext) -> None:
    """Raise :class:`UnstorableEvent` unless ``event`` and ``ctx`` can be stored unchanged."""
    if not _plainly_storable(event, ctx):
        check_fully(event, ctx)


def check_fully(event: NewEvent, ctx: EventContext) -> None:
    """:func:`check_storable` without its fast path: every value checked, problems named."""
    where = f"{event.kind!r} event" if isinstance(event.kind, str) else "event"
    for name, value, required in (
        ("kind", event.kind, True),
        ("station_id", ctx.station_id, True),
        ("board_uid", event.board_uid, False),
        ("serial", event.serial, False),
        ("code", event.code, False),
        ("text", event.text, False),
        ("operator", ctx.operator, False),
        ("slot", ctx.slot, False),
        ("port", ctx.port, False),
    ):
        if value is None and not required:
            continue
        if not isinstance(value, str) or (required and not value):
            raise UnstorableEvent(
                f"{where}: {name} must be {'non-empty ' if required else ''}text, "
                f"not {type(value).__name__}"
            )
        _check_text(value, f"{where}: {name}")
    if not isinstance(event.data, Mapping):
        raise UnstorableEvent(f"{where}: data must be a mapping, not {type(event.data).__name__}")
    _check_json(event.data, f"{where}: data", 0)


def _plainly_storable(event: NewEvent, ctx: EventContext) -> bool:
    """True for what a cycle records (ASCII text, dicts and lists of ASCII text, integers,
    booleans and nulls), checked without building the texts that name a problem; False leaves
    the verdict, and the words, to the full check. Never True for what the full check refuses:
    ASCII text always encodes, and the depth limit is the same."""
    for required in (event.kind, ctx.station_id):
        if required.__class__ is not str or not required or not required.isascii():
            return False
    for value in (event.board_uid, event.serial, event.code, event.text):
        if value is not None and (value.__class__ is not str or not value.isascii()):
            return False
    for value in (ctx.operator, ctx.slot, ctx.port):
        if value is not None and (value.__class__ is not str or not value.isascii()):
            return False
    return event.data.__class__ is dict and _plain_json(event.data, 0)


def _plain_json(value: Any, depth: int) -> bool:
    cls = value.__class__
    if cls is str:
        return bool(value.isascii())
    if value is None or cls is int or cls is bool:
        return True
    if depth >= MAX_DATA_DEPTH:
        return False
    if cls is dict:
        for key, item in value.items():
            if key.__class__ is not str or not key.isascii() or not _plain_json(item, depth + 1):
                return False
        return True
    if cls is list or cls is tuple:
        return all(_plain_json(item, depth + 1) for item in value)
    return False


def _check_text(value: str, where: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise UnstorableEvent(
            f"{where} holds {value[e.start : e.end]!r} at {e.start}, which is not valid Unicode "
            "(a lone surrogate); decode the source text with errors='replace'"
        ) from None


def _check_json(value: Any, where: str, depth: int) -> None:
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise UnstorableEvent(f"{where} is {value}, which JSON cannot hold")
    elif isinstance(value, Mapping | list | tuple):
        if depth >= MAX_DATA_DEPTH:
            raise UnstorableEvent(f"{where} nests deeper than {MAX_DATA_DEPTH} levels")
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise UnstorableEvent(f"{where} has a key {key!r:.40} that is not text")
                _check_text(key, f"{where} key")
                _check_json(item, f"{where}[{key!r:.40}]", depth + 1)
        else:
            for index, item in enumerate(value):
                _check_json(item, f"{where}[{index}]", depth + 1)
    else:
        raise UnstorableEvent(f"{where} is a {type(value).__name__}, which JSON cannot hold")
