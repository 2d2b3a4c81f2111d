"""A Trivy report's text read block by block through the typed decoder (gate/scanners/trivy_typed.py),
so that the bytes are not all held while they are decoded.

Why: decoded whole, a report's bytes and everything decoded from them are held at once. A 711 MB
report of long descriptions peaked at 1.4 GB there, twice what the rest of the command needs.

How: a report is mostly runs of vulnerability entries, and between two entries Trivy writes `}`,
`,`, `{` and the first entry's key `"VulnerabilityID"` (whitespace between them; `_SEPARATOR`).
Such text stands between two elements of an array wherever it is in valid JSON: the quote that
opens the key has no backslash before it, so it opens or closes a string; closing one, the text
would go on with `VulnerabilityID"` outside a string, which is not JSON. So it opens the key of an
object that starts at the `{`, and what stands before (whitespace, `,`, `}`) is outside strings:
the end of an object, and a comma followed by an object, which only an array's elements are.

For every block read, the entries between the first and the last such comma in the text not yet
decoded are cut out and decoded as one list, `[` and `]` written over the two commas while they are.
In the text left (the skeleton), a marker entry, `{"VulnerabilityID":"<random>-N"}`, stands in
for the run. Where the list does not decode, the run is split where a result's `"Vulnerabilities"`
key stands (one result's entries end there and the next one's start; the entries on either side
stay in the skeleton), and a part that still does not decode is decoded entry by entry, the entries
that do not decode staying in the skeleton. Last, the skeleton is decoded and each marker, found
among a result's vulnerability entries, is replaced by its run. The bytes of a block are dropped
once its runs are decoded.

Why this reads as one decode of the whole text would:
- A run that decodes as a list with `[` and `]` in place of the commas around it is a sequence of
  whole values, and those commas are outside strings (above): in the whole text, the run is the
  same values, elements of the array the commas are in.
- A marker decoded as an entry of a result's list stood, in the skeleton, where its run stood: its
  random part (128 bits, new for every decode) is in no report, and every marker must be found
  there once, or the report goes to the strict reader.
- The proof's count of `":` and its search for whitespace before a colon are made on the blocks as
  read, with the bytes across each boundary checked together; the members counted are those of the
  assembled report (`trivy_typed.struct_keys`) and the unread ones of every decode that succeeded.
- A run is decoded a few levels less deep than it is in the whole text, so it is decoded from a call
  stack deeper by as many frames (`_RUN_LEVELS`): Python's recursion limit stops it no later than
  it would stop the whole decode (msgspec counts its nesting against that limit).
"""

from __future__ import annotations

import queue
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, pairwise
from typing import Any

import msgspec
import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from gate.errors import ReportError
from gate.model import ScanReport
from gate.scanners.trivy import parse_trivy
from gate.scanners.trivy_typed import Decoder, TypedReport, Vulnerability, struct_keys

BLOCK_SIZE = 8 << 20
"""How much of a report is read at a time: enough that a block's runs are few and long."""

_SNIFF = 4096
"""How much of the text start must show `"SchemaVersion"` for the typed decode to be tried."""

_WHITESPACE = b" \t\r\n"
_SPACES = rb"[ \t\r\n]*"
"""JSON's whitespace between tokens, as a pattern."""
_LATIN1 = re2.Options()
_LATIN1.encoding = re2.Options.Encoding.LATIN1  # a byte is a character, as for `re` on bytes
_SPACE_BEFORE_COLON = re2.compile(rb'"[ \t\r\n]+:', _LATIN1)
"""A key followed by whitespace before its colon: `":` would not count it (trivy_typed's docstring)."""

_KEY = b'"VulnerabilityID"'
_RESULT_KEY = b'"Vulnerabilities"'
_BEFORE = rb"\}" + _SPACES + rb"(,)" + _SPACES + rb"\{" + _SPACES
_AFTER = _SPACES + rb":"
_BEFORE_KEY = re.compile(_BEFORE + rb"\Z")
_AFTER_KEY = re.compile(_AFTER)
_SEPARATOR = re.compile(_BEFORE + re.escape(_KEY) + _AFTER)
"""Between two entries: `}`, `,`, `{`, then the second one's first key, and its colon."""
_REACH = 256
"""How far before a key `_BEFORE_KEY` looks (Trivy indents an entry by 8 spaces)."""

_DEPTH = 8
"""Frames added below every decode, so that Python's recursion limit stops it no later than it
stops the strict reader's (gate/scanners/_json.py), which decodes a few frames further down: a
report nested that deep is the strict reader's to refuse (msgspec and `json` both count their
nesting against that limit, a level for a frame)."""

_RUN_LEVELS = 3
"""How much less deep a run of entries is than in the whole text (above an entry, the report, its
results, a result and its entries: 4 levels, and 1 in a run); its decode goes deeper by as much,
and an entry decoded alone by one more."""

_OPEN, _CLOSE, _COMMA = ord("["), ord("]"), ord(",")


def decode_trivy_typed(raw: bytes) -> TypedReport | None:
    """The Trivy report in `raw`, or None when the strict reader must decode it: not a Trivy
    report, or anything the typed decode cannot prove it reads as the strict reader does (see
    gate/scanners/trivy_typed.py). Nothing returned refers to `raw`: it can be dropped."""
    return decode_trivy_blocks(raw[start : start + BLOCK_SIZE] for start in range(0, len(raw), BLOCK_SIZE))


def decode_trivy_blocks(blocks: Iterable[bytes]) -> TypedReport | None:
    """`decode_trivy_typed` on the text of `blocks`, read one at a time and dropped once decoded;
    an error the iterator raises (a `ReportError` of the file read) goes to the caller."""
    blocks = iter(blocks)
    start: list[bytes] = []
    head = b""
    for block in blocks:
        start.append(block)
        head += block[: _SNIFF - len(head)]
        if len(head) == _SNIFF:
            break
    if b'"SchemaVersion"' not in head or not head.lstrip().startswith(b"{"):
        return None
    search = _SpaceBeforeColon()
    search.start()
    try:
        report = _decode(chain(start, blocks), search)
    except (msgspec.MsgspecError, RecursionError):
        return None
    finally:
        found = search.wait()
    return None if report is None or found else TypedReport(report)


def read_trivy_typed(raw: bytes, source: str, *, lenient_severity: bool = False) -> ScanReport | None:
    """`parse_trivy` on `decode_trivy_typed(raw)`; None where the strict reader must read the
    report, including every report `parse_trivy` refuses (the strict reader words the error)."""
    typed = decode_trivy_typed(raw)
    if typed is None:
        return None
    try:
        return parse_trivy(
            typed.as_data(), source, lenient_severity=lenient_severity, surrogates_refused=True
        )
    except ReportError:
        return None


def _decode(blocks: Iterable[bytes], search: _SpaceBeforeColon) -> Any:
    """The report's structs, assembled and counted; None when the counts differ."""
    decoder = Decoder()
    cutter = _Cutter(decoder)
    colons = 0
    quote_before = False
    for block in blocks:
        search.add(block)
        colons += block.count(b'":') + (quote_before and block[:1] == b":")
        quote_before = block[-1:] == b'"'
        cutter.add(block)
        del block  # before the next one is read
    report = cutter.finish()
    # Counting walks nested values as deep as they go: deeper than Python's recursion limit,
    # the strict reader says how deep is too deep.
    if report is None or struct_keys(report) + decoder.unread_keys != colons:
        return None
    return report


class _Cutter:
    """The runs of entries cut out of the text as it comes, decoded, and the skeleton left."""

    def __init__(self, decoder: Decoder) -> None:
        self._decoder = decoder
        self._skeleton: list[bytes | bytearray] = []
        self._runs: list[list[Vulnerability]] = []
        self._marker = secrets.token_hex(16) + "-"
        self._text = bytearray()
        """The text not yet cut or kept, `_text[:_size]`: the carry from the last block (from its
        last separator's comma, or a short tail), then the block. Reused from block to block, as
        fresh memory for every block cost a tenth of the decode (the pages written the first time)."""
        self._size = 0
        self._at_comma = False
        """Whether the text starts with a separator's comma."""

    def add(self, block: bytes) -> None:
        text, carried = self._text, self._size
        size = carried + len(block)
        if len(text) < size:
            text.extend(bytes(size - len(text)))
        text[carried:size] = block
        first = 0 if self._at_comma else _first_comma(text, 0, size)
        last = _last_comma(text, 0, size)
        if last > first >= 0:
            kept = self._cut_span(text, first, last, 0, size)
            self._skeleton.append(text[kept:last])
            self._carry(last, size, at_comma=True)
        elif first >= 0 and not self._at_comma:
            self._skeleton.append(text[:first])
            self._carry(first, size, at_comma=True)
        else:
            # No run here (an entry longer than a block, or no entries): the text is kept but for
            # a tail that may hold the start of a separator.
            keep = max(0, size - _REACH - len(_KEY))
            self._skeleton.append(text[:keep])
            self._carry(keep, size, at_comma=False)

    def _carry(self, start: int, size: int, *, at_comma: bool) -> None:
        self._text[: size - start] = self._text[start:size]
        self._size, self._at_comma = size - start, at_comma

    def _cut_span(self, text: bytearray, first: int, last: int, kept: int, size: int) -> int:
        """The entries between the commas at `first` and `last` cut out: as one run if they decode
        as a list, else split where one result's entries end and the next one's start (a result's
        key between), else entry by entry. Returns where what is kept or cut out ends, from `kept`."""
        run = self._run(text, first, last)
        if run is not None:
            self._skeleton.append(text[kept : first + 1])
            self._cut(run)
            return last
        spans = list(_spans(text, first, last, size))
        if spans != [(first, last)]:
            for start, end in spans:
                kept = self._cut_span(text, start, end, kept, size)
            return kept
        commas = [first] + [
            found.start(1) for found in _SEPARATOR.finditer(text, first, size) if found.start(1) <= last
        ]
        entries: list[Vulnerability] | None = None
        for start, end in pairwise(commas):
            with memoryview(text) as view:
                entry = self._decoded(self._decoder.entry, view[start + 1 : end], _RUN_LEVELS + 1)
            if entry is None:
                entries = None
                continue
            if entries is None:
                self._skeleton.append(text[kept : start + 1])
                entries = []
                self._cut(entries)
            entries.append(entry)
            kept = end
        return kept

    def _run(self, text: bytearray, first: int, last: int) -> list[Vulnerability] | None:
        """The entries between the commas at `first` and `last`, decoded as a list; None if not."""
        text[first], text[last] = _OPEN, _CLOSE
        try:
            with memoryview(text) as view:
                return self._decoded(self._decoder.entries, view[first : last + 1], _RUN_LEVELS)  # type: ignore[no-any-return]
        finally:
            text[first] = text[last] = _COMMA

    def _cut(self, run: list[Vulnerability]) -> None:
        marker = f'{{"VulnerabilityID":"{self._marker}{len(self._runs)}"}}'
        self._skeleton.append(marker.encode())
        self._runs.append(run)

    def _decoded(self, decoder: msgspec.json.Decoder[Any], text: memoryview, levels: int) -> Any:
        """`text` decoded `levels` frames deeper still than the skeleton, for the levels it lacks."""
        unread = self._decoder.unread_keys
        try:
            return _deeper(_DEPTH + levels, decoder.decode, text)
        except msgspec.MsgspecError:
            self._decoder.unread_keys = unread  # counted in what is left in the skeleton
            return None

    def finish(self) -> Any:
        """The skeleton decoded, each marker replaced by its run; None if a marker is not found
        among a result's entries once."""
        self._skeleton.append(self._text[: self._size])
        self._text = bytearray()
        skeleton = b"".join(self._skeleton)
        self._skeleton = []
        report = _deeper(_DEPTH, self._decoder.report.decode, skeleton)
        del skeleton
        found = 0
        for result in report.Results or ():
            entries = result.Vulnerabilities
            if not entries or not any(map(self._is_marker, entries)):
                continue
            assembled: list[Vulnerability] = []
            for entry in entries:
                if self._is_marker(entry):
                    assembled += self._runs[int(entry.VulnerabilityID[len(self._marker) :])]
                    found += 1
                else:
                    assembled.append(entry)
            result.Vulnerabilities = assembled
        return report if found == len(self._runs) else None

    def _is_marker(self, entry: Vulnerability) -> bool:
        entry_id = entry.VulnerabilityID
        return type(entry_id) is str and entry_id.startswith(self._marker)


def _spans(text: bytearray, first: int, last: int, size: int) -> Iterator[tuple[int, int]]:
    """The commas that start and end each run of entries between `first` and `last`, split where a
    result's `"Vulnerabilities"` key stands between (there one array of entries ends and the next
    starts); a run has two entries or more."""
    start = first
    key = text.find(_RESULT_KEY, first, last)
    while key >= 0:
        end = _last_comma(text, start, key)
        if end > start:
            yield start, end
        # The first entries of the next result are before the key of the result after it.
        following = text.find(_RESULT_KEY, key + len(_RESULT_KEY), last)
        start = _first_comma(text, key, size if following < 0 else following)
        if not 0 <= start < last:
            return
        key = following
    if last > start:
        yield start, last


def _first_comma(text: bytearray, start: int, end: int) -> int:
    """The comma of the first separator in `text[start:end]`; -1 if none."""
    found = _SEPARATOR.search(text, start, end)
    return found.start(1) if found else -1


def _last_comma(text: bytearray, start: int, end: int) -> int:
    """The comma of the last separator whose key is in `text[start:end]` and comma after `start`,
    -1 if none: found from the end, key by key."""
    key = text.rfind(_KEY, start, end)
    while key >= 0:
        if _AFTER_KEY.match(text, key + len(_KEY), end):
            found = _BEFORE_KEY.search(text, max(0, key - _REACH), key)
            if found and found.start(1) > start:
                return found.start(1)
        key = text.rfind(_KEY, start, key)
    return -1


def _deeper(levels: int, call: Callable[[Any], Any], text: bytes | memoryview) -> Any:
    """`call(text)`, from `levels` frames further down the call stack."""
    return _deeper(levels - 1, call, text) if levels else call(text)


class _SpaceBeforeColon(threading.Thread):
    """The search for `_SPACE_BEFORE_COLON` in a report's blocks, on a thread of its own: RE2 lets
    go of the interpreter lock while it searches, so the other CPU searches while this one decodes
    (a report of 350 MB: 0.2 s, at no cost in wall time; `re` took 0.45 s on the decoding CPU)."""

    def __init__(self) -> None:
        super().__init__(name="trivy-typed-search", daemon=True)
        self._blocks: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._found = True
        """Whether the text has such a key; True until the search has said otherwise, so that a
        search that failed sends the report to the strict reader."""

    def add(self, block: bytes) -> None:
        self._blocks.put(block)

    def wait(self) -> bool:
        """Whether the text has such a key, once every block added is searched."""
        self._blocks.put(None)
        self.join()
        return self._found

    def run(self) -> None:
        found = False
        after_quote: int | None = None
        while (block := self._blocks.get()) is not None:
            if found:
                continue  # the blocks still coming are dropped
            try:
                found, after_quote = _search(block, after_quote)
            except Exception:
                found = True
        self._found = found


def _search(block: bytes, after_quote: int | None) -> tuple[bool, int | None]:
    """Whether `block` holds a key with whitespace before its colon, the text before it ending
    with a quote and `after_quote` whitespace characters (None: not so); and what to pass on."""
    if after_quote is not None:
        rest = block.lstrip(_WHITESPACE)
        after_quote += len(block) - len(rest)
        if not rest:
            return False, after_quote
        if rest[:1] == b":" and after_quote:
            return True, None
    if _SPACE_BEFORE_COLON.search(block) is not None:
        return True, None
    body = block.rstrip(_WHITESPACE)
    return False, (len(block) - len(body) if body.endswith(b'"') else None)
