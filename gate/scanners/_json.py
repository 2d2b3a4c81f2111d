"""A report's JSON text, decoded with as little memory as it takes.

A report of 100k findings is 350-450 MB of JSON, and Python's `json` needs the whole text as one
`str` plus every decoded object at once: the peak memory of a run. Two things keep it down without
changing what any parser reads (bench/bench_check.py measures them):

- The text stays at one byte per character. Python stores a string holding a single non-ASCII
  character (a curly quote in one description) at two or four bytes per character, so the text of
  a 400 MB report would take 800 MB. JSON lets any character of a string be written as a `\\u`
  escape that decodes to the same character, so non-ASCII text is escaped, a few MB at a time,
  before decoding.
- Members of vulnerability entries that no parser reads (reference lists, per-vendor severities,
  dependency paths: about half of a decoded report) are dropped as each entry is decoded, when the
  document looks like a report whose parser lists them (`UNREAD_MEMBERS` beside each parser).

A Trivy report usually does not come here at all: gate/scanners/trivy_typed.py decodes it by type
from its bytes (no escaping, no unread members built) whenever it can prove the result is the same,
and this reader is the authority for everything else.

Every failure is a one-line `ReportError` naming the file, worded as if the text had been decoded
as written: a document that fails after escaping is decoded again, plainly, for the message.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Callable
from typing import Any

from gate._json_at import At
from gate._json_decode import NumberTooLong, UnreadableJson, loads
from gate._json_strict import DuplicateKey, NotANumber, locate_duplicate, refusing_duplicates, reject_constant
from gate.errors import ReportError
from gate.scanners import grype, snyk, trivy
from gate.scanners._values import locate_long_integer

_CHUNK = 1 << 22
"""Bytes escaped at a time: few enough chunks to be fast, each small next to a large report."""

_SNIFF = 4096
"""How much of the text start is looked at to guess the format (a guess only ever costs memory)."""

Hook = Callable[[dict[str, Any]], Any]

# Per format: a member near the start of such a report, then for each kind of object whose
# members a parser never reads, two members every such object has and the unread ones.
_UNREAD: tuple[tuple[str, tuple[tuple[str, str, frozenset[str]], ...]], ...] = (
    ('"SchemaVersion"', (("VulnerabilityID", "PkgName", trivy.UNREAD_MEMBERS),)),
    ('"matches"', grype.UNREAD_MEMBERS),
    ('"vulnerabilities"', (("id", "packageName", snyk.UNREAD_MEMBERS),)),
)


def decode_json(raw: bytes, name: str) -> object:
    """The JSON document in `raw`, or a one-line `ReportError` saying why there is none."""
    return decode_report(lambda: raw, name, prune=False)


def decode_report(read: Callable[[], bytes], name: str, prune: bool = True) -> object:
    """The JSON document of the bytes `read` returns (called again only to word an error).

    With `prune`, vulnerability entries come without the members their parser never reads.
    """
    text, escaped = _compact_text(read)
    if text is not None:
        try:
            return _loads(text, name, prune)
        except ReportError:
            if not escaped:
                raise
        del text  # said again below from the text as written, with its own lines and columns
    return _loads(_utf8(read(), name), name, prune)


def _compact_text(read: Callable[[], bytes]) -> tuple[str | None, bool]:
    """The text with every non-ASCII character escaped, and whether any was; None when it is not
    UTF-8 or when escaping could change its meaning (then it is decoded as written)."""
    raw = read()
    if raw.isascii():
        return raw.decode("ascii"), False
    out = io.BytesIO()
    begin, size = (len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0), len(raw)
    try:
        while begin < size:
            # Cut before an ASCII byte, so that no character is split between two chunks.
            end = min(begin + _CHUNK, size)
            while end < size and raw[end] >= 0x80:
                end += 1
            chunk = raw[begin:end]
            out.write(chunk if chunk.isascii() else _escape_chunk(chunk))
            begin = end
    except (UnicodeDecodeError, _Unescapable):
        return None, False
    # The bytes as read go before the escaped ones become text: two copies at a time, not three.
    del raw
    ascii_bytes = out.getvalue()
    del out
    return ascii_bytes.decode("ascii"), True


class _Unescapable(Exception):
    pass


# Every byte of a UTF-8 multi-byte character is 0x80 or above, every ASCII byte below: runs of
# the former are whole characters, found at C speed in the chunk translated through this table.
_NON_ASCII = bytes(b >= 0x80 for b in range(256))


def _escape_chunk(chunk: bytes) -> bytes:
    marks = chunk.translate(_NON_ASCII)
    parts = []
    done = 0
    start = marks.find(1)
    while start >= 0:
        end = marks.find(0, start)
        end = len(chunk) if end < 0 else end
        # After a backslash the escape would become part of another escape (`\é` is invalid JSON,
        # `\\u00e9` is not): such text is decoded as written, and fails there as it should.
        if start and chunk[start - 1] == 0x5C:
            raise _Unescapable
        parts += [chunk[done:start], _escapes(chunk[start:end].decode("utf-8"))]
        done = end
        start = marks.find(1, end)
    parts.append(chunk[done:])
    return b"".join(parts)


def _escapes(text: str) -> bytes:
    escaped = []
    for char in text:
        code = ord(char)
        if code < 0x10000:
            escaped.append(f"\\u{code:04x}")
        else:  # a surrogate pair, which json decodes back into the one character
            code -= 0x10000
            escaped.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(escaped).encode("ascii")


def _utf8(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportError(f"{name}: not valid JSON (not UTF-8 text: byte {exc.start} is invalid)") from None


def _pruner(text: str) -> Hook | None:
    head = text[:_SNIFF]
    for sniff, kinds in _UNREAD:
        if sniff in head:

            def prune(obj: dict[str, Any], kinds: tuple[tuple[str, str, frozenset[str]], ...] = kinds) -> Any:
                for first, second, members in kinds:
                    if first in obj and second in obj:
                        # Only arrays and objects go: a map of strings (image labels) is never touched.
                        for key in obj.keys() & members:
                            if type(obj[key]) is not str:
                                del obj[key]
                        break
                return obj

            return prune
    return None


def _loads(text: str, name: str, prune: bool) -> object:
    # isspace(), not strip(): a report can be hundreds of MB, and strip() would copy it.
    if not text or text.isspace():
        raise ReportError(f"{name}: empty file, expected a JSON report")
    try:
        # Locating a repeated key or a long integer decodes the text again, which can fail further
        # on (a syntax error, deep nesting): that failure is said the same way as the first.
        try:
            hook = _pruner(text) if prune else None
            return loads(text, parse_constant=reject_constant, object_pairs_hook=refusing_duplicates(hook))
        except DuplicateKey:
            raise locate_duplicate(text, At(name)) from None
        except NumberTooLong:
            raise locate_long_integer(text, name) from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{name}: not valid JSON ({_describe_json_error(exc, text)})") from None
    except NotANumber as exc:
        raise ReportError(f"{name}: not valid JSON ({exc} is not a JSON number)") from None
    except UnreadableJson as exc:
        raise ReportError(f"{name}: not valid JSON ({exc})") from None


def _describe_json_error(exc: json.JSONDecodeError, text: str) -> str:
    end = len(text.rstrip())
    # An unterminated string is only reported once the text ran out; anything else failing at the
    # very end means the document stopped before it was complete.
    if exc.pos >= end or exc.msg.startswith("Unterminated string"):
        line = text.count("\n", 0, end) + 1
        column = end - text.rfind("\n", 0, end)
        return f"ends early at line {line}, column {column}: the file looks truncated"
    return f"{exc.msg[:1].lower()}{exc.msg[1:]} at line {exc.lineno}, column {exc.colno}"
