"""Strict accessors for the decoded JSON of exploitability data (the KEV catalog, Grype's fields).

Each checks one value's JSON type and, when it is wrong, raises `ReportError` naming the file, the
key path and what was expected, the way the scanner parsers do:

    kev.json: vulnerabilities[12].dateAdded: expected a date (YYYY-MM-DD), got "2021/12/10"

An absent optional key and `null` both read as "not given"; a value of the wrong type is an error.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime

from gate._json_strict import SURROGATE, surrogate_problem
from gate.enrich._files import data_error, quoted
from gate.errors import ReportError

JsonObject = dict[str, object]
"""A decoded JSON object."""

CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}")
"""A CVE id as CISA, FIRST and Grype write it: upper case, a year and four or more digits."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def member(where: str, key: str | int) -> str:
    """The key path of member `key` (or item `key`) of the value at `where`."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def got(value: object) -> str:
    """What a value is, for "expected X, got Y": its JSON type, or the value itself when short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, int | float):
        return repr(value)
    return "an array" if isinstance(value, list) else "an object"


def fail(path: str, where: str, problem: str) -> ReportError:
    """The error about the value at `where` in file `path`."""
    return data_error(path, problem, where or "top level")


def as_object(value: object, path: str, where: str) -> JsonObject:
    """`value` when it is a JSON object."""
    if not isinstance(value, dict):
        raise fail(path, where, f"expected an object, got {got(value)}")
    return value


def as_list(value: object, path: str, where: str) -> list[object]:
    """`value` when it is a JSON array."""
    if not isinstance(value, list):
        raise fail(path, where, f"expected an array, got {got(value)}")
    return value


def req_str(obj: JsonObject, key: str, path: str, where: str) -> str:
    """Member `key`, a string, required."""
    value = obj.get(key)
    if not isinstance(value, str):
        problem = "missing (expected a string)" if key not in obj else f"expected a string, got {got(value)}"
        raise fail(path, member(where, key), problem)
    return _text(value, path, member(where, key))


def opt_str(obj: JsonObject, key: str, path: str, where: str) -> str | None:
    """Member `key`, a string, or None when absent or null."""
    value = obj.get(key)
    if value is None:
        return value
    if isinstance(value, str):
        return _text(value, path, member(where, key))
    raise fail(path, member(where, key), f"expected a string, got {got(value)}")


def _text(value: str, path: str, where: str) -> str:
    """`value`, unless it holds a lone surrogate, which no output (a file, the terminal) can carry."""
    if not value.isascii() and (found := SURROGATE.search(value)):
        raise fail(path, where, surrogate_problem(found.group()))
    return value


def opt_list(obj: JsonObject, key: str, path: str, where: str) -> list[object]:
    """Member `key`, an array; empty when absent or null."""
    value = obj.get(key)
    if value is None:
        return []
    return as_list(value, path, member(where, key))


def req_cve(obj: JsonObject, key: str, path: str, where: str) -> str:
    """Member `key`, a CVE id."""
    value = req_str(obj, key, path, where)
    if not CVE_ID.fullmatch(value):
        raise fail(path, member(where, key), f"expected a CVE id (CVE-YYYY-NNNN), got {got(value)}")
    return value


def parse_date(text: str) -> date | None:
    """A `YYYY-MM-DD` date, or None when the text is not one (or names no real day)."""
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def req_date(obj: JsonObject, key: str, path: str, where: str) -> date:
    """Member `key`, a `YYYY-MM-DD` date."""
    value = req_str(obj, key, path, where)
    day = parse_date(value)
    if day is None:
        raise fail(path, member(where, key), f"expected a date (YYYY-MM-DD), got {got(value)}")
    return day


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 date and time with a zone (`2026-08-07T16:45:47.0648Z`), in UTC; None otherwise."""
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None or "T" not in text:
        return None
    return stamp.astimezone(UTC)


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 date and time as a report writes it, read as UTC when it names no zone (a DB's
    build time, the dates a decision report gives its data); None when the text is not one."""
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def req_timestamp(obj: JsonObject, key: str, path: str, where: str) -> datetime:
    """Member `key`, an ISO 8601 date and time with a time zone."""
    value = req_str(obj, key, path, where)
    stamp = parse_timestamp(value)
    if stamp is None:
        raise fail(
            path, member(where, key), f"expected a date and time with a zone (ISO 8601), got {got(value)}"
        )
    return stamp


def req_probability(obj: JsonObject, key: str, path: str, where: str) -> float:
    """Member `key`, a number from 0 to 1."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        problem = "missing (expected a number)" if key not in obj else f"expected a number, got {got(value)}"
        raise fail(path, member(where, key), problem)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise fail(path, member(where, key), f"expected a number from 0 to 1, got {value!r}")
    return float(value)
