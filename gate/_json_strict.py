"""What the strict readers of untrusted JSON refuse beyond the grammar, and where it stands.

- **A repeated key.** JSON (RFC 8259) leaves the meaning of a repeated member to each reader, and
  Python's `json`, like orjson and msgspec, silently keeps the last one: `{"Severity": "CRITICAL",
  "Severity": "LOW"}` would read as LOW to the gate and as CRITICAL to a reader that keeps the
  first (in a VEX statement, `"status"` twice could clear a finding here and not there). No
  scanner or VEX tool writes a repeated member (Go's encoding/json and JavaScript's
  JSON.stringify cannot), so a document that has one was edited by hand or by someone hoping for
  a pass, and it is refused.
- **NaN and Infinity**, which Python's decoder reads and JSON has no such numbers for.
- **A lone surrogate.** `"\\ud800"` is valid JSON and decodes to a string holding half a UTF-16
  surrogate pair, which no UTF-8 output (a file, the terminal, an API body) can encode.

Cost of the repeated keys: detection rides on the hook the decoder already calls for every object
(where a report's unread members are dropped, `gate/scanners/_json.py`): the hook gets the
object's members as a list and builds the dict itself, and a dict shorter than the list had a
repeat. On the 100k-finding reports of bench/bench_check.py that cost 0.04-0.24 s of CPU time
(1-4%) and no memory; counting keys in the text instead (str.count and a regex) took 1-1.7 s. Only
when a document has a repeat is it decoded a second time, to find the key path for the message.
This module is core: every stage's readers use it, with their own kind of location (`At`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from gate._json_at import At
from gate._json_decode import loads
from gate.errors import ReportError

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


def locate_duplicate(text: str, root: At, document: str = "a report") -> ReportError:
    """The error for the first object, in document order, that repeats a key in `text`; `root`
    is the location of the whole document (its file), `document` what it is, for the message."""
    for value, at in walk(loads(text, object_pairs_hook=_marking), root):
        if isinstance(value, _Repeats):
            return at.error(
                f"duplicate key {json.dumps(value.key)} (readers disagree on which one counts; "
                f"{document} must give each member once)"
            )
    # Unreachable when the first decoding found a repeat; never let that document pass.
    return ReportError(f"{root.source}: a key is repeated in an object")


class NotANumber(ValueError):
    """`NaN`, `Infinity` or `-Infinity` in the text; `str()` is the word."""


def reject_constant(word: str) -> object:
    """A `parse_constant` hook: Python's decoder accepts NaN and Infinity, JSON has no such numbers."""
    raise NotANumber(word)


SURROGATE = re.compile("[\ud800-\udfff]")
"""A decoded string holds a surrogate code point only when it came from a lone `\\uD8xx` escape
(the decoder joins a proper pair into one character)."""


def surrogate_problem(char: str = "", *, in_key: bool = False) -> str:
    """What is wrong with a string (or a key) holding the lone surrogate `char`, in words."""
    escape = f" ({json.dumps(char)})" if char else ""
    where = "this key holds" if in_key else "holds"
    return (
        f"{where} a lone UTF-16 surrogate{escape}, which is not text (expected a string that "
        "UTF-8 can carry: a surrogate escape needs its pair)"
    )


def locate_surrogate(data: object, root: At) -> ReportError | None:
    """The error for the first string or key, in document order, of the decoded `data` that holds
    a lone surrogate, at its key path below `root`; None when none does."""
    for value, at in walk(data, root):
        if isinstance(value, str):
            found = SURROGATE.search(value)
            if found:
                return at.error(surrogate_problem(found.group()))
        elif isinstance(value, dict):
            for key in value:
                found = SURROGATE.search(key)
                if found:
                    return at[key].error(surrogate_problem(found.group(), in_key=True))
    return None


def walk(data: object, root: At) -> Iterator[tuple[object, At]]:
    """Every value of the decoded `data`, in document order (an object before its members), with
    its location below `root`."""
    stack: list[tuple[Any, At]] = [(data, root)]
    while stack:
        value, at = stack.pop()
        yield value, at
        if isinstance(value, dict):
            stack.extend((item, at[key]) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((item, at[index]) for index, item in reversed(list(enumerate(value))))
