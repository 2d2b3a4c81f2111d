"""Duplicate keys in a report's JSON: refused, with the key path of the object that repeats one.

JSON (RFC 8259) leaves the meaning of a repeated member to each reader, and Python's `json`, like
orjson and msgspec, silently keeps the last one: `{"Severity": "CRITICAL", "Severity": "LOW"}`
would read as LOW to the gate and as CRITICAL to a reader that keeps the first. No scanner writes
a repeated member (Go's encoding/json and JavaScript's JSON.stringify cannot), so a report that
has one was edited by hand or by someone hoping for a pass, and it is refused.

Cost: detection rides on the hook the decoder already calls for every object (where unread
members are dropped, `gate/scanners/_json.py`): the hook gets the object's members as a list and
builds the dict itself, and a dict shorter than the list had a repeat. On the 100k-finding
reports of bench/bench_check.py that cost 0.04-0.24 s of CPU time (1-4%) and no memory; counting
keys in the text instead (str.count and a regex) took 1-1.7 s. Only when a report has a repeat
is it decoded a second time, to find the key path for the message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from gate._json_decode import loads
from gate.errors import ReportError
from gate.scanners._fields import At

Hook = Callable[[dict[str, Any]], Any]
"""What the decoder calls with each object once it is built."""
PairsHook = Callable[[list[tuple[str, Any]]], Any]
"""What the decoder calls with each object's members, in the order the text gives them."""


class DuplicateKey(ValueError):
    """An object of the text repeats a key; `locate_duplicate` says where."""


def refusing_duplicates(hook: Hook | None) -> PairsHook:
    """An `object_pairs_hook` that builds each object, refuses a repeated key, then calls `hook`."""
    if hook is None:

        def build(pairs: list[tuple[str, Any]]) -> Any:
            obj = dict(pairs)
            if len(obj) != len(pairs):
                raise DuplicateKey
            return obj

        return build

    def build_then_hook(pairs: list[tuple[str, Any]]) -> Any:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            raise DuplicateKey
        return hook(obj)

    return build_then_hook


class _Repeats(dict[str, Any]):
    """A decoded object that repeated `key` (only built while locating)."""

    key = ""


def _marking(pairs: list[tuple[str, Any]]) -> Any:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _Repeats(obj)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            marked.key = key
            break
        seen.add(key)
    return marked


def locate_duplicate(text: str, name: str) -> ReportError:
    """The error for the first object, in document order, that repeats a key in `text`."""
    root = At(name)
    stack: list[tuple[Any, At]] = [(loads(text, object_pairs_hook=_marking), root)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, _Repeats):
            return at.error(
                f"duplicate key {json.dumps(value.key)} (readers disagree on which one counts; "
                "a report must give each member once)"
            )
        if isinstance(value, dict):
            stack.extend((item, at[key]) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((item, at[index]) for index, item in reversed(list(enumerate(value))))
    # Unreachable when the first decoding found a repeat; never let that report pass.
    return ReportError(f"{name}: a key is repeated in an object")
