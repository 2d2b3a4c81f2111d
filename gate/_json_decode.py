"""Untrusted JSON text decoded, with the two ways Python's decoder fails outside the JSON grammar
named in words.

`json.loads` refuses text that is valid JSON in two ways besides `JSONDecodeError`:
- nesting deeper than the interpreter's recursion limit (`[[[[...`, about a thousand levels)
  raises `RecursionError`;
- an integer of more than 4,300 digits raises a plain `ValueError` ("Exceeds the limit (4300
  digits) for integer string conversion"): `sys.int_info.default_max_str_digits` guards int()
  against quadratic time.

Both are inputs that no scanner, VEX tool or catalog writes, and both used to end a run as an
internal error. `loads` turns them into `UnreadableJson`, a `ValueError` whose text says why in
words, so that every reader of a file the user named words it as its other JSON errors (exit 2,
naming the file) and a reader that already catches `ValueError` keeps doing so. This module is
core: it imports nothing of the gate, so every stage may use it.
"""

from __future__ import annotations

import json
import sys
from typing import Any


class UnreadableJson(ValueError):
    """Valid JSON that Python's decoder cannot read; `str()` says why, in words."""


class NestedTooDeeply(UnreadableJson):
    """Arrays or objects nested deeper than the decoder's recursion allows."""


class NumberTooLong(UnreadableJson):
    """An integer with more digits than Python reads."""


def longest_integer() -> int:
    """The most digits the decoder reads as an integer (4,300 unless the limit was changed)."""
    return sys.get_int_max_str_digits() or sys.int_info.default_max_str_digits


TOO_DEEP = "nested too deeply to read"
"""What `NestedTooDeeply` says."""


def loads(text: str | bytes, **options: Any) -> Any:
    """`json.loads(text, **options)`, raising `UnreadableJson` for the two failures above; a
    `JSONDecodeError` and any error a hook of `options` raises pass through as they are."""
    try:
        return json.loads(text, **options)
    except RecursionError:
        raise NestedTooDeeply(TOO_DEEP) from None
    except ValueError as exc:
        # The exact type: JSONDecodeError and a hook's own ValueError are not this one.
        if type(exc) is not ValueError or "integer string conversion" not in str(exc):
            raise
        raise NumberTooLong(f"a number too long to read: more than {longest_integer()} digits") from None
