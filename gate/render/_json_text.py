"""Large JSON outputs as a stream of byte chunks, written as `json.dumps(doc, indent=2,
ensure_ascii=False)` would write the whole document, at a fraction of its time and memory.

Python's `json` indents only in its pure-Python encoder: on a report of 100k findings the GitLab
report took 15 s and 1.9 GB to build as one string (bench/bench_check.py, docs/performance.md).
Here a document is written as its small skeleton, encoded by `json` as before, with the long
lists (vulnerabilities, results, rules) spliced in item by item, each encoded by orjson, whose
`OPT_INDENT_2` text is byte for byte `json`'s with `indent=2` except in two cases it detects:

- a float below 1e-4: orjson writes `0.00001` where `json` writes `1e-05`, and `5e-8` where
  `json` writes `5e-08`. The item is encoded by `json` instead when its text holds `0.0000` or
  an exponent of one digit (rare: CVSS and EPSS scores are larger; a string may hold either
  too, which only costs the slower encoder). tests/render/test_streams.py checks this against
  `json` on values of every kind;
- what orjson refuses (integers beyond 64 bits, lone surrogates, keys that are not strings):
  `json` encodes it, and fails or not exactly as it did.

NaN and infinities (`json` writes `NaN`, orjson `null`) never get here: no output may hold one,
and the report readers refuse them (gate/scanners/_values.py).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

_SMALL_FLOAT = b"0.0000"
# A number's exponent of one digit: `e-`, a digit, then what follows a value in the text. The
# pattern starts with text, which the regex engine searches for quickly; that a digit comes
# before it is checked for each of the few matches (a string holding such text only costs the
# slower encoder).
_SHORT_EXPONENT = re.compile(rb"e-[0-9](?:[,\n\]}]|\Z)")
_DIGITS = frozenset(b"0123456789")
_SURROGATES = re.compile("[\ud800-\udfff]")


def surrogates_escaped(text: str) -> str:
    """`text` (JSON) with each lone surrogate written as its JSON escape, as `ensure_ascii` writes
    it: a name or path of the command line that is not UTF-8 (a file name in Latin-1) holds one,
    and no UTF-8 file can."""
    return _SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _short_exponent(out: bytes) -> bool:
    # Most items hold no match at all: one search answers for them.
    if _SHORT_EXPONENT.search(out) is None:
        return False
    return any(m.start() and out[m.start() - 1] in _DIGITS for m in _SHORT_EXPONENT.finditer(out))


def indented(value: Any, level: int = 0, *, floats_checked: bool = False) -> bytes:
    """`value` as `json.dumps(value, indent=2, ensure_ascii=False)` writes it at nesting `level`
    (every line after the first indented by `level` more steps), UTF-8 encoded.

    `floats_checked`: the caller knows `value` holds no float that orjson writes otherwise than
    `json` (`plain_float` is true of each), so its text is not searched for them: the two
    searches took 40% of the time of a GitLab vulnerability's text."""
    try:
        out = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _plain(value, level)
    if not floats_checked and (_SMALL_FLOAT in out or _short_exponent(out)):
        return _plain(value, level)
    return out.replace(b"\n", b"\n" + b"  " * level) if level else out


def plain_float(number: float) -> bool:
    """Whether orjson writes `number` as `json` does, for certain: zero, or a finite float from
    1e-4 to 1e15 (CVSS scores are). A float below 1e-4 is written otherwise; larger ones are left
    out only to keep the claim small."""
    return number == 0 or 1e-4 <= abs(number) < 1e15


class FloatsChecked:
    """A stream for `Skeleton.chunks` whose items the caller knows hold no float but those
    `plain_float` is true of (`indented(..., floats_checked=True)`)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def _plain(value: Any, level: int) -> bytes:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    if level:
        text = text.replace("\n", "\n" + "  " * level)
    return text.encode("utf-8")


class Skeleton:
    """A document with placeholders where long lists go, encoded once by `json` (indent=2).

    `slot()` returns a placeholder to put in the document where a list will be; `chunks()` then
    yields the document's text with each placeholder replaced by its items. A placeholder is a
    random token, so no text from a report can be taken for one.
    """

    def __init__(self) -> None:
        self._token = secrets.token_hex(16)
        self._names: list[str] = []

    def slot(self) -> list[str]:
        """A placeholder list, to stand in the document for the next stream given to `chunks`."""
        name = f"{self._token}-{len(self._names)}"
        self._names.append(name)
        return [name]

    def chunks(self, doc: Any, *streams: Iterable[Any] | FloatsChecked) -> Iterator[bytes]:
        """The text of `doc` followed by a newline, with the placeholders' items from `streams`
        (in the order of `slot()` calls), each item encoded by `indented`."""
        if len(streams) != len(self._names):
            raise ValueError(f"{len(self._names)} placeholders, {len(streams)} streams")
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        for name, items in zip(self._names, streams, strict=True):
            # `[\n<indent>"<name>"\n<indent - 2>]`: the placeholder list as `json` wrote it.
            marker = f'"{name}"'
            at = text.index(marker)
            line_start = text.rindex("\n", 0, at) + 1
            depth = (at - line_start) // 2
            open_at = text.rindex("[", 0, at)
            close_at = text.index("]", at)
            yield text[:open_at].encode("utf-8")
            text = text[close_at + 1 :]
            if isinstance(items, FloatsChecked):
                yield from _list(items.items, depth, floats_checked=True)
            else:
                yield from _list(items, depth)
        yield text.encode("utf-8")


def _list(items: Iterable[Any], depth: int, *, floats_checked: bool = False) -> Iterator[bytes]:
    """A list's text whose items sit at `depth`, as `json` writes it: `[]` when it is empty."""
    separator = b",\n" + b"  " * depth
    first = True
    for item in items:
        if first:
            yield b"[\n" + b"  " * depth
            first = False
        else:
            yield separator
        yield indented(item, depth, floats_checked=floats_checked)
    yield b"[]" if first else b"\n" + b"  " * (depth - 1) + b"]"
