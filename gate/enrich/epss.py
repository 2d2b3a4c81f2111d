"""FIRST's daily EPSS scores (`epss_scores-YYYY-MM-DD.csv`, plain or gzip), streamed.

The format, as FIRST publishes it:

    #model_version:v2026.06.15,score_date:2026-09-29T12:00:22Z
    cve,epss,percentile
    CVE-1999-0001,0.03351,0.88255
    ...

Quirks kept by the real files: numbers may be written in scientific notation (`6e-05`), and the
rows are not in CVE order. Every row ends with a line end: a last row without one is refused, as
the file was cut short there (a number cut short is still a number). A mirror may drop the comment line; the scores are then read, the
score date is unknown, and the result carries a warning saying so (returned, never printed).

The file has about 300k rows (11 MB uncompressed); the gate reads it one line at a time and keeps
only the CVEs the report has, so memory grows with the report, not the file. Every row is checked,
kept or not: a file that is wrong anywhere may be wrong where it matters. One regular expression
per row does the checking; only a row it refuses goes through the slower diagnosis that says what
is wrong with it.

An error quotes a row, but never a line before the column line: until that line is read, the file
may be any file at all (the policy's `exploit_data.epss` names it, and in a pull request the policy
is the author's), and its first line can hold a secret (a `.netrc`, a compact Docker config, a
variable of `/proc/self/environ`) that the error would publish in the job log and the comment.
Such a line is described by its kind instead; only a line shaped like a column line is quoted.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Set
from datetime import datetime
from pathlib import Path

from gate._input_file import shown_name
from gate.enrich._files import GZIP_ERRORS, data_error, open_stream, quoted, source_of
from gate.enrich._json import CVE_ID, parse_timestamp
from gate.enrich.exploit import DataKind, EpssFile, EpssScore, data_file_name
from gate.errors import ReportError

COLUMNS = "cve,epss,percentile"
"""The column line, exactly."""

LONGEST_LINE = 4096
"""The longest line read: a row is about 30 characters, the comment line under 100."""

# The fast check: the id's shape and the characters of the numbers; `float` then refuses any string
# of those characters that is not a number ("1e", "1.2.3"), and the range check does the rest.
_ROW = re.compile(r"(CVE-\d{4}-\d{4,}),([\d.eE+-]+),([\d.eE+-]+)\n?")
_ROW_NUMBER = re.compile(r"[\d.eE+-]+")
# Lower-case names and commas: what another CSV's column line looks like, safe to quote.
_COLUMN_NAMES = re.compile(r"[a-z_]+(?:,[a-z_]+)+")


def read_epss(path: Path, wanted: Set[str] | None = None) -> EpssFile:
    """Reads and checks an EPSS CSV file; keeps the scores of the `wanted` CVE ids (upper case), or
    every score when `wanted` is None. Raises `ReportError` (exit 2) naming the file and the line of
    the first problem."""
    source = source_of(path, DataKind.EPSS)
    name = shown_name(path)
    try:
        with open_stream(path, DataKind.EPSS) as binary:
            # Universal newlines: a mirror that rewrote the line ends reads the same.
            lines = enumerate(_lines(io.TextIOWrapper(binary, encoding="utf-8-sig"), name), start=1)
            model_version, score_date, warnings = _head(lines, name)
            scores, rows = _rows(lines, name, wanted, score_date)
    except GZIP_ERRORS as error:
        raise data_error(name, f"truncated or corrupt gzip data ({error})") from None
    except UnicodeDecodeError:
        raise data_error(name, "not UTF-8 text", _undecodable_line(path)) from None
    if rows == 0:
        raise data_error(name, f"no scores: expected rows after the column line {COLUMNS!r}")
    return EpssFile(
        model_version=model_version,
        score_date=score_date,
        scores=scores,
        rows=rows,
        source=source,
        warnings=warnings,
    )


def _lines(text: io.TextIOWrapper, name: str) -> Iterator[str]:
    """The lines of the text, none longer than `LONGEST_LINE`: a file without line ends (such as
    `/dev/zero`) is refused at its first line rather than read whole into it."""
    number = 0
    while line := text.readline(LONGEST_LINE + 1):
        number += 1
        if len(line) > LONGEST_LINE:
            raise data_error(
                name,
                f"a line longer than {LONGEST_LINE} characters; not an EPSS scores file",
                f"line {number}",
            )
        yield line


def _head(lines: Iterator[tuple[int, str]], name: str) -> tuple[str | None, datetime | None, tuple[str, ...]]:
    """The comment line's model version and score date, and the warnings; reads up to the column line."""
    first = next(lines, None)
    if first is None:
        raise data_error(
            name, f"empty: expected the EPSS CSV (a '#model_version:...' line, then {COLUMNS!r})"
        )
    number, line = first
    if not line.startswith("#"):
        # No comment line: the first line must be the column line.
        _columns(number, line, name)
        # A warning is read in the outputs, on another machine: the file by its name, as the age
        # warnings name it (an error names the path, for the run's user to find the file).
        warning = (
            f"{data_file_name(name)} has no '#model_version:...,score_date:...' line: the EPSS score "
            "date is unknown, so its age cannot be checked"
        )
        return None, None, (warning,)
    fields = dict(part.partition(":")[::2] for part in line[1:].rstrip("\r\n").split(","))
    model_version = fields.get("model_version", "").strip()
    score_date = parse_timestamp(fields.get("score_date", "").strip())
    if not model_version or score_date is None:
        missing = "model_version" if not model_version else "a score_date that is a time"
        raise data_error(
            name,
            f"expected '#model_version:VERSION,score_date:YYYY-MM-DDTHH:MM:SSZ', got a comment line "
            f"without {missing}",
            f"line {number}",
        )
    columns = next(lines, None)
    if columns is None:
        raise data_error(name, f"expected the column line {COLUMNS!r} after the comment line")
    _columns(*columns, name)
    return model_version, score_date, ()


def _columns(number: int, line: str, name: str) -> None:
    if line.rstrip("\r\n") != COLUMNS:
        raise data_error(name, f"expected the column line {COLUMNS!r}, got {_kind(line)}", f"line {number}")


def _kind(line: str) -> str:
    """A line read before the column line, said without its text unless it is other column names
    (see the module docstring)."""
    text = line.strip()
    if _COLUMN_NAMES.fullmatch(text):
        return quoted(text)
    if text.startswith("<"):
        return "markup (an HTML page, such as a server's error page?): not an EPSS scores file"
    if text.startswith(("{", "[")):
        return "JSON: not an EPSS scores file"
    return f"a line of {len(text)} characters that is not CSV of those columns: not an EPSS scores file"


def _rows(
    lines: Iterator[tuple[int, str]], name: str, wanted: Set[str] | None, score_date: datetime | None
) -> tuple[dict[str, EpssScore], int]:
    """The kept scores and the number of rows."""
    day = score_date.date() if score_date else None
    scores: dict[str, EpssScore] = {}
    rows = 0
    match = _ROW.fullmatch
    number, line = 0, "\n"
    for number, line in lines:
        found = match(line)
        if found is None:
            raise _row_error(name, number, line)
        cve, score_text, percentile_text = found.groups()
        try:
            score = float(score_text)
            percentile = float(percentile_text)
        except ValueError:
            raise _row_error(name, number, line) from None
        if not (0.0 <= score <= 1.0 and 0.0 <= percentile <= 1.0):
            raise _row_error(name, number, line)
        rows += 1
        if wanted is None or cve in wanted:
            if cve in scores:
                raise data_error(name, f"{cve} is listed twice", f"line {number}")
            scores[cve] = EpssScore(cve, score, percentile, day)
    if not line.endswith("\n"):
        # FIRST ends every row with a line end: a last row without one is where a copy or a
        # download stopped, and a number cut there still reads as one (0.93 as 0.9, or as 0.).
        raise data_error(
            name,
            f"the file ends inside a row, {quoted(line)}, without a line end: it may be cut short "
            "(every row of FIRST's file ends with one); fetch it again, or, for a file written by hand "
            "that is whole, end its last line",
            f"line {number}",
        )
    return scores, rows


def _row_error(name: str, number: int, line: str) -> ReportError:
    """What is wrong with a row the fast check refused."""
    where = f"line {number}"
    fields = line.rstrip("\r\n").split(",")
    if len(fields) != 3:
        return data_error(
            name,
            f"expected 3 fields (cve,epss,percentile), got {len(fields)}: {quoted(line.rstrip())}",
            where,
        )
    cve, *numbers = fields
    if not CVE_ID.fullmatch(cve):
        return data_error(name, f"expected a CVE id (CVE-YYYY-NNNN), got {quoted(cve)}", where)
    for column, text in zip(("epss", "percentile"), numbers, strict=True):
        try:
            value = float(text)
        except ValueError:
            return data_error(name, f"{column}: expected a number, got {quoted(text)}", where)
        if not 0.0 <= value <= 1.0:
            return data_error(name, f"{column}: expected a number from 0 to 1, got {quoted(text)}", where)
        if not _ROW_NUMBER.fullmatch(text):
            return data_error(name, f"{column}: expected a plain decimal number, got {quoted(text)}", where)
    return data_error(name, f"unreadable row {quoted(line.rstrip())}", where)


def _undecodable_line(path: Path) -> str:
    """Where the first byte sequence that is not UTF-8 is (slow: only after the fast read failed)."""
    with open_stream(path, DataKind.EPSS) as binary:
        for number, raw in enumerate(iter(lambda: binary.readline(LONGEST_LINE + 1), b""), start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return f"line {number}"
    return "end of file"
