"""Where a value sits in an untrusted JSON document, and the one-line error that names it.

Every reader of external JSON (the VEX documents in gate/enrich/, the scanner reports in
gate/scanners/) reports a problem the same way, as a `ReportError` (exit 2) naming the file, the
key path and what was expected:

    app.vex.json: statements[2].products[0]: expected an object or a string, got a number

This module is core: it imports nothing of the gate but `errors`, so every stage may use it.
"""

from __future__ import annotations

import json
import re
from typing import ClassVar, Self

from gate.errors import ReportError


class At:
    """Where a value sits in a document: the file, and the chain of keys and indexes leading to it."""

    __slots__ = ("key", "parent", "source")

    blind: ClassVar[bool] = False
    """True for a location that records nothing (a reader's cheap first pass, which reads again
    with locations when it meets a problem; see gate/scanners/_fields.py)."""
    plain_key: ClassVar[re.Pattern[str]] = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
    """A member name written after a dot in the key path; any other is quoted in brackets."""
    quote_strings: ClassVar[bool] = False
    """Whether `wrong` shows a string it did not expect (its first 60 characters, JSON-quoted)."""

    def __init__(self, source: str, parent: At | None = None, key: str | int | None = None) -> None:
        self.source = source
        """The file's name, as the user gave it."""
        self.parent = parent
        """The enclosing location; None at the top of the document."""
        self.key = key
        """The key (object member) or index (array item) of this location in its parent."""

    def __getitem__(self, key: str | int) -> Self:
        """The location of member `key` (or item `key`) inside this one, of the same kind."""
        return type(self)(self.source, self, key)

    def path(self) -> str:
        """The key path, such as `Results[3].Vulnerabilities[0]` (empty at the top)."""
        parts: list[str] = []
        node: At | None = self
        while node is not None and node.key is not None:
            key = node.key
            if isinstance(key, int):
                parts.append(f"[{key}]")
            elif self.plain_key.fullmatch(key):
                parts.append(f".{key}")
            else:
                # Keys come from the document (label names, package names): quoted, so that a
                # key with dots or control characters cannot disguise the path.
                parts.append(f"[{json.dumps(key)}]")
            node = node.parent
        return "".join(reversed(parts)).lstrip(".")

    def error(self, problem: str) -> ReportError:
        """A `ReportError` about the value at this location."""
        path = self.path()
        return ReportError(f"{self.source}: {path or 'top level'}: {problem}")

    def wrong(self, expected: str, value: object) -> ReportError:
        """The error for a value that is not what was expected."""
        return self.error(f"expected {expected}, got {describe(value, quote_strings=self.quote_strings)}")


def describe(value: object, *, quote_strings: bool = False) -> str:
    """The JSON type of a decoded value, in words; with `quote_strings`, a non-empty string is
    shown (its first 60 characters)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        if not value:
            return "an empty string"
        return f"the string {json.dumps(value[:60])}" if quote_strings else "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
