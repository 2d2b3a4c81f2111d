"""Strict, cheap accessors for the untrusted JSON of scanner reports.

A report is read once, at the boundary. Every accessor checks the JSON type of one value and,
when it is wrong, raises `ReportError` naming the file, the key path and what was expected:

    report.json: Results[3].Vulnerabilities[0].PkgName: expected a string, got null

Optional keys that are absent or null read as "not given"; a value of the wrong type is always
an error, never silently skipped (a gate that skips what it cannot read fails open).

Speed: a report can carry 100k findings, and tracking the location of every value costs more than
reading it. So `read_located` first reads with a "blind" location that records nothing; only when
that pass meets a problem does it read again with full locations, and that second pass raises the
error with its key path. Reading is deterministic, so both passes stop at the same value.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Self, TypeVar

# `At` is the scanners' readers' location type; they import it from here, beside the accessors.
from gate._json_at import At as At
from gate.errors import ReportError

JsonObject = dict[str, object]
"""A decoded JSON object."""

T = TypeVar("T")


class _Relocate(Exception):
    """Raised by a blind location: the report has a problem, read it again with locations."""


class _BlindAt(At):
    """A location that tracks nothing; any error sends the reader to the located second pass."""

    __slots__ = ()
    blind = True

    def __getitem__(self, key: str | int) -> Self:
        return self

    def error(self, problem: str) -> ReportError:
        raise _Relocate


def read_located(read: Callable[[object, At], T], data: object, source: str) -> T:
    """`read(data, at)`, where any problem comes out as a `ReportError` naming its key path."""
    try:
        return read(data, _BlindAt(source))
    except _Relocate:
        pass
    read(data, At(source))
    # Unreachable when `read` is deterministic; never let a report that failed once pass.
    raise ReportError(f"{source}: the report could not be read")


def as_object(value: object, at: At) -> JsonObject:
    """`value` as a JSON object."""
    if isinstance(value, dict):
        return value
    raise at.wrong("an object", value)


def req_str(obj: JsonObject, key: str, at: At) -> str:
    """A required, non-empty string member."""
    value = obj.get(key)
    if isinstance(value, str) and value:
        return value
    if key not in obj:
        raise at[key].error("missing (expected a non-empty string)")
    raise at[key].wrong("a non-empty string", value)


def opt_str(obj: JsonObject, key: str, at: At) -> str | None:
    """An optional string member; absent, null and "" read as None."""
    value = obj.get(key)
    if isinstance(value, str):
        return value or None
    if value is None:
        return None
    raise at[key].wrong("a string", value)


def str_or_empty(obj: JsonObject, key: str, at: At) -> str:
    """An optional string member; absent or null read as ""."""
    value = obj.get(key)
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    raise at[key].wrong("a string", value)


def opt_number(obj: JsonObject, key: str, at: At) -> float | None:
    """An optional number member (a boolean is not a number)."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise at[key].wrong("a number", value)


def cvss_score(obj: JsonObject, key: str, at: At) -> float | None:
    """An optional CVSS base score: a number from 0.0 to 10.0.

    JSON has no infinity, but `1e999` decodes as one, and a score outside the scale would reach
    every output (as `Infinity`, which no JSON reader accepts, or as a nonsense threshold match).
    """
    value = obj.get(key)
    if value is None:
        return None
    kind = type(value)
    if kind is not int and kind is not float:
        raise at[key].wrong("a number", value)
    # Compared before any conversion: a 4,000-digit integer does not fit a float, and NaN
    # compares false to everything, so it fails the range check too.
    if not 0 <= value <= 10:  # type: ignore[operator]
        raise at[key].error(f"expected a CVSS score from 0.0 to 10.0, got {_number(value)}")
    return float(value)  # type: ignore[arg-type]


def _number(value: object) -> str:
    """A number as a message shows it."""
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return f"{'-' if value < 0 else ''}infinity (an exponent too large for a number, such as 1e999)"
    text = str(value)
    return text if len(text) <= 24 else f"a number of {len(text)} digits"


def opt_int(obj: JsonObject, key: str, at: At) -> int | None:
    """An optional integer member (`12.0` is accepted, `12.5` is not)."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise at[key].wrong("an integer", value)


def opt_bool(obj: JsonObject, key: str, at: At) -> bool | None:
    """An optional boolean member."""
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise at[key].wrong("a boolean", value)


def opt_object(obj: JsonObject, key: str, at: At) -> JsonObject | None:
    """An optional object member."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    raise at[key].wrong("an object", value)


def opt_list(obj: JsonObject, key: str, at: At) -> list[object]:
    """An optional array member; absent or null read as an empty list (not to be modified)."""
    value = obj.get(key)
    if isinstance(value, list):
        return value
    if value is None:
        return []
    raise at[key].wrong("an array", value)


def str_list(obj: JsonObject, key: str, at: At) -> list[str]:
    """An optional array of strings; absent or null read as an empty list (not to be modified)."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise at[key].wrong("an array", value)
    for index, item in enumerate(value):
        if type(item) is not str:
            raise at[key][index].wrong("a string", item)
    return value


NULL_FINDINGS = "expected an array, got null (a scanner leaves an empty list of findings out or writes [])"
"""Why a list of findings may not be null: the report was not written by the scanner as it is."""


def objects(obj: JsonObject, key: str, at: At, *, null: bool = True) -> Iterable[tuple[JsonObject, At]]:
    """The items of an optional array of objects, each with its location.

    Without `null`, the member may be absent but not null: a list of findings is one (a scanner
    leaves an empty list out or writes `[]`, and `null` is a report someone else wrote).
    """
    value = obj.get(key)
    if value is None:
        if not null and key in obj:
            raise at[key].error(NULL_FINDINGS)
        return ()
    if not isinstance(value, list):
        raise at[key].wrong("an array", value)
    if at.blind:
        for item in value:
            if type(item) is not dict:
                raise at.error("")
        return zip(value, repeat(at))
    where = at[key]
    located: list[tuple[JsonObject, At]] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise where[index].wrong("an object", item)
        located.append((item, At(where.source, where, index)))
    return located


def str_map(obj: JsonObject, key: str, at: At) -> dict[str, str]:
    """An optional object whose values are all strings (image labels)."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise at[key].wrong("an object", value)
    for name, item in value.items():
        if not isinstance(item, str):
            raise at[key][name].wrong("a string", item)
    return value


def strings_or_string(obj: JsonObject, key: str, at: At) -> list[str]:
    """A required member that is a non-empty string or a non-empty array of non-empty strings."""
    value = obj.get(key)
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value:
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise at[key][index].wrong("a non-empty string", item)
        return value
    if key not in obj:
        raise at[key].error("missing (expected a string or an array of strings)")
    raise at[key].wrong("a non-empty string or array of strings", value)


FOREIGN_FINDINGS = {
    "Results": "Trivy's",
    "matches": "Grype's",
    "vulnerabilities": "Snyk's",
}
"""Each scanner's list of findings, by the member that holds it."""


def check_findings_key(obj: JsonObject, expected: str, at: At, known: frozenset[str]) -> None:
    """Refuses a member of `obj` that looks like its list of findings under another name: a
    misspelling of `expected` (`results`, `Vulnerabilites`) or another scanner's list. Read as an
    unknown member, either would make a report with findings look like a clean image. Members in
    `known` (the format's own) and any other unknown member (what a newer scanner adds) are fine.
    """
    for key in obj:
        if key == expected or key in known:
            continue
        owner = FOREIGN_FINDINGS.get(key)
        if owner is not None:
            raise at[key].error(
                f"{owner} list of findings does not belong here (expected {expected!r}); give each "
                "scanner's report as it wrote it"
            )
        if key.casefold() == expected.casefold() or difflib.get_close_matches(key, [expected], 1, 0.8):
            raise at[key].error(
                f"unknown key (did you mean {expected!r}?): a misspelled list of findings would read as "
                "an image without findings"
            )
