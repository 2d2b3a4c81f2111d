"""Strict accessors for the untrusted JSON of VEX documents, each naming where a problem is.

A value of the wrong type is an error, never skipped: a VEX statement read wrongly could allowlist
a finding it was never about. Every error is a one-line `ReportError` (exit 2):

    app.vex.json: statements[2].products[0]: expected an object or a string, got a number

VEX documents are small (a statement per vulnerability and product), so unlike the scanner reports
they are read once, with every location tracked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from gate._json_at import At as JsonAt
from gate._json_at import describe as describe_json
from gate.enrich.purls import parse_purl

JsonObject = dict[str, object]
"""A decoded JSON object."""


class At(JsonAt):
    """Where a value sits in a VEX document (see `gate._json_at.At`)."""

    __slots__ = ()

    # OpenVEX is JSON-LD: its `@context` and `@id` members read as plain keys in a path.
    plain_key = re.compile(r"[A-Za-z_@][A-Za-z0-9_-]*")
    # VEX documents are the user's own, and small: a wrong string is shown to help fix it.
    quote_strings = True


def describe(value: object) -> str:
    """The JSON type of a decoded value, in words, a string shown (its first 60 characters)."""
    return describe_json(value, quote_strings=True)


def as_object(value: object, at: At, expected: str = "an object") -> JsonObject:
    """`value` as a JSON object."""
    if isinstance(value, dict):
        return value
    raise at.wrong(expected, value)


def req_str(obj: JsonObject, key: str, at: At) -> str:
    """A required, non-empty string member."""
    value = obj.get(key)
    if isinstance(value, str) and value.strip():
        return value
    if value is None:
        raise at[key].error("missing (expected a non-empty string)")
    raise at[key].wrong("a non-empty string", value)


def opt_str(obj: JsonObject, key: str, at: At) -> str | None:
    """An optional string member; absent, null and blank read as None."""
    value = obj.get(key)
    if isinstance(value, str):
        return value if value.strip() else None
    if value is None:
        return None
    raise at[key].wrong("a string", value)


def opt_object(obj: JsonObject, key: str, at: At) -> JsonObject | None:
    """An optional object member."""
    value = obj.get(key)
    return None if value is None else as_object(value, at[key])


def items(obj: JsonObject, key: str, at: At) -> Iterator[tuple[object, At]]:
    """The items of an optional array member, each with its location."""
    value = obj.get(key)
    if value is None:
        return
    if not isinstance(value, list):
        raise at[key].wrong("an array", value)
    for index, item in enumerate(value):
        yield item, at[key][index]


def objects(obj: JsonObject, key: str, at: At) -> Iterator[tuple[JsonObject, At]]:
    """The items of an optional array of objects, each with its location."""
    for item, where in items(obj, key, at):
        yield as_object(item, where), where


def strings(obj: JsonObject, key: str, at: At) -> list[str]:
    """An optional array of non-empty strings; absent or null read as an empty list."""
    out: list[str] = []
    for item, where in items(obj, key, at):
        if not isinstance(item, str) or not item.strip():
            raise where.wrong("a non-empty string", item)
        out.append(item)
    return out


def opt_time(obj: JsonObject, key: str, at: At) -> datetime | None:
    """An optional RFC 3339 timestamp member, as an aware datetime.

    A time without an offset is read as UTC, and a bare date as its midnight UTC, so that every
    timestamp of every document can be compared. Fractions finer than a microsecond (OpenVEX tools
    write nanoseconds) are dropped.
    """
    text = opt_str(obj, key, at)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise at[key].wrong("an RFC 3339 date-time such as 2024-05-01T12:00:00Z", text) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def identifier(text: str, at: At, purl: bool = False) -> str:
    """A product identifier as written (stripped); one that is meant to be a package URL, or
    claims to be one by its `pkg:` scheme, must be a valid purl."""
    text = text.strip()
    if not text:
        raise at.wrong("a non-empty identifier", text)
    if (purl or text.lower().startswith("pkg:")) and parse_purl(text) is None:
        raise at.wrong("a valid package URL (pkg:type/namespace/name@version)", text)
    return text
