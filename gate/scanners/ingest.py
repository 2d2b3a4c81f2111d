"""Report files: read one, whichever supported scanner wrote it, detected from its shape.

`load_report` is the one place a report file is opened, and `parse_report_bytes` reads a report
already in memory; every way either can fail is a `ReportError` with a one-line message naming the
file. Several reports about one image are combined by `gate.merge.merge_reports`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from gate._input_file import STANDARD_INPUT, shown_name
from gate._other_documents import OTHER_DOCUMENTS, is_trivyignore, scanner_configuration, yaml_top_level_keys
from gate.enrich.grype_exploit import MatchExploitData
from gate.errors import ReportError
from gate.image.base_image import BaseCheck
from gate.model import ScanReport
from gate.scanners._json import decode_report
from gate.scanners.decision import SCHEMA as DECISION_SCHEMA
from gate.scanners.decision import parse_decision
from gate.scanners.grype import parse_grype
from gate.scanners.snyk import parse_snyk
from gate.scanners.trivy import parse_trivy
from gate.scanners.trivy_blocks import BLOCK_SIZE, decode_trivy_blocks, decode_trivy_typed, read_trivy_typed


class Parser(Protocol):
    """A report format's parser: the decoded JSON and the name of the file it came from."""

    def __call__(self, data: object, source: str, *, lenient_severity: bool = False) -> ScanReport: ...


UNKNOWN_SHAPE = "not a Trivy (SchemaVersion 2), Grype (matches) or Snyk container (vulnerabilities) report"

# Members every `snyk test --json` project has besides `vulnerabilities`; GitLab, CycloneDX and
# CSAF documents also have `vulnerabilities` but none of these.
_SNYK_MEMBERS = (
    "ok",
    "packageManager",
    "projectName",
    "uniqueCount",
    "dependencyCount",
    "docker",
    "applications",
)


def load_report(
    path: Path,
    *,
    lenient_severity: bool = False,
    exploit: list[MatchExploitData] | None = None,
    max_bytes: int | None = None,
    base: list[BaseCheck] | None = None,
) -> ScanReport:
    """Reads a Trivy, Grype or Snyk container JSON report, whichever `path` holds.

    `lenient_severity` (the policy's key) reads a severity word the scanner does not write as a
    missing severity instead of refusing the report. `exploit`, when given, receives the KEV and
    EPSS data a Grype report or a decision report carries (see `parse_grype`, `parse_decision`);
    `base`, the base image check a decision report keeps.
    A file of more than `max_bytes` is refused before it is read (`--max-report-size`): reading
    takes up to 3 times its size in memory.
    Messages name standard input (`-`) so; the report's `sources` keep its path, on which the
    SARIF category of a report without an image depends.
    """
    report = _load_report(
        path,
        shown_name(path),
        lenient_severity=lenient_severity,
        exploit=exploit,
        max_bytes=max_bytes,
        base=base,
    )
    return replace(report, sources=(str(path),)) if path == STANDARD_INPUT else report


def _load_report(
    path: Path,
    name: str,
    *,
    lenient_severity: bool,
    exploit: list[MatchExploitData] | None,
    max_bytes: int | None,
    base: list[BaseCheck] | None = None,
) -> ScanReport:
    if max_bytes is not None:
        _check_size(path, name, max_bytes)

    def read() -> bytes:
        with _reading(name):
            if max_bytes is None:
                return path.read_bytes()
            with path.open("rb") as handle:
                # A pipe or a file still growing has no size to check beforehand.
                raw = handle.read(max_bytes + 1)
            if len(raw) > max_bytes:
                raise _too_large(name, max_bytes)
            return raw

    def blocks() -> Iterator[bytes]:
        with _reading(name), path.open("rb") as handle:
            size = 0
            while block := handle.read(BLOCK_SIZE):
                size += len(block)
                if max_bytes is not None and size > max_bytes:
                    raise _too_large(name, max_bytes)
                yield block

    # A Trivy report is read through the typed decoder when it provably reads the same there
    # (gate/scanners/trivy_typed.py); anything else, and every error, through the strict reader.
    # A file is read block by block, and again for the strict reader rather than kept in memory;
    # a pipe cannot be read again, so its bytes are kept.
    kept: bytes | None = None
    again: Callable[[], bytes] = read
    if path.is_file():
        typed = decode_trivy_blocks(blocks())
    else:
        raw = kept = read()
        typed = decode_trivy_typed(raw)
        again = lambda: raw  # noqa: E731 - the strict reader's `read`, for a pipe
    if typed is not None:
        decoded = typed.as_data()
        del typed
        try:
            return parse_trivy(decoded, name, lenient_severity=lenient_severity, surrogates_refused=True)
        except ReportError:
            del decoded  # said by the strict reader, with its key path
    # The file's bytes are dropped once they are text, and the text once it is decoded: a report
    # can be hundreds of MB (see gate/scanners/_json.py).
    try:
        data = decode_report(again, name)
    except ReportError as exc:
        # A pipe's bytes are the ones kept: opening it again would wait for a writer forever.
        head = kept[:8192] if kept is not None else _head(path)
        if exc.hint is None and _looks_like_a_trivy_table(head):
            exc.hint = "this is Trivy's table output; write the report with `trivy image --format json --output report.json`"
        elif exc.hint is None:
            exc.hint = _other_text(head)
        raise
    if exploit is not None and detect_format(data, name) is parse_grype:
        return parse_grype(data, name, lenient_severity=lenient_severity, exploit=exploit)
    if (exploit is not None or base is not None) and detect_format(data, name) is parse_decision:
        return parse_decision(data, name, exploit=exploit, base=base)
    return _parse(data, name, lenient_severity)


@contextmanager
def _reading(name: str) -> Iterator[None]:
    """Errors of reading a report file, each said in one line naming it."""
    try:
        yield
    except FileNotFoundError:
        raise ReportError(f"{name}: no such report file") from None
    except IsADirectoryError:
        raise ReportError(f"{name}: is a directory, not a report file") from None
    except OSError as exc:
        raise ReportError(f"{name}: cannot read the report ({exc.strerror or exc})") from None


def _check_size(path: Path, name: str, max_bytes: int) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        return  # said by the read that follows, in its own words
    if size > max_bytes:
        raise _too_large(name, max_bytes, size)


def _too_large(name: str, max_bytes: int, size: int | None = None) -> ReportError:
    what = f"{size:,} bytes" if size is not None else "larger"
    # With a hint, no second look at the file for one (a pipe cannot be read twice).
    return ReportError(
        f"{name}: the report is {what}, more than --max-report-size ({max_bytes:,} bytes); not read",
        hint="raise --max-report-size to read it",
    )


# What starts Trivy's `--format table` output: a target line underlined with `=`, or the report
# summary (Trivy 0.50 and later), then tables drawn with box characters.
_TABLE_MARKS = ("Report Summary", "Total: ", "\u2502", "\u250c", "\n====")


def _head(path: Path) -> bytes:
    """The first bytes of a regular file (nothing when it cannot be read)."""
    try:
        with path.open("rb") as handle:
            return handle.read(8192)
    except OSError:
        return b""


def _looks_like_a_trivy_table(head_bytes: bytes) -> bool:
    head = head_bytes.decode("utf-8", "replace")
    return not head.lstrip().startswith(("{", "[")) and sum(mark in head for mark in _TABLE_MARKS) >= 2


def parse_report_bytes(raw: bytes, name: str, *, lenient_severity: bool = False) -> ScanReport:
    """Reads a report already in memory (a scanner's standard output); `name` stands for the file."""
    typed = read_trivy_typed(raw, name, lenient_severity=lenient_severity)
    if typed is not None:
        return typed
    return _parse(decode_report(lambda: raw, name), name, lenient_severity)


def _parse(data: object, name: str, lenient_severity: bool) -> ScanReport:
    return detect_format(data, name)(data, name, lenient_severity=lenient_severity)


def detect_format(data: object, name: str) -> Parser:
    """The parser for a decoded report, chosen by its top-level shape."""
    if isinstance(data, dict):
        if data.get("schema") == DECISION_SCHEMA:
            return parse_decision
        if "SchemaVersion" in data:
            return parse_trivy
        if "matches" in data:
            return parse_grype
        if "vulnerabilities" in data and any(key in data for key in _SNYK_MEMBERS):
            return parse_snyk
    elif isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        if all("vulnerabilities" in item for item in data):
            return parse_snyk
        if all("Target" in item for item in data):
            # Before schema version 2 (Trivy 0.20), Trivy wrote a bare array of results.
            raise ReportError(
                f"{name}: a Trivy report without SchemaVersion (written by Trivy before 0.20) "
                "is not supported (supported: SchemaVersion 2)"
            )
    raise ReportError(f"{name}: {UNKNOWN_SHAPE}", hint=_other_format(data))


# The data files the gate reads besides reports, given as a report by mistake.
_EXPLOIT_DATA = "this is {what}: give it with {flag}, and the scanner's JSON report as REPORT"


_IGNORE_FILE_KEY = re.compile(
    rb"^(vulnerabilities|misconfigurations|secrets|licenses|ignore):[ \t]*\r?$", re.MULTILINE
)
"""A top-level key of Trivy's `.trivyignore.yaml` (or Grype's `ignore:` of `.grype.yaml`)."""
_IGNORE_RULES = (
    "this is {what}: the gate reads no scanner's ignore rules; write each as an allowlist entry of the"
    " policy (--policy), with a reason and an expiry date, and give the scanner's JSON report as REPORT"
)


_SCANNER_CONFIG = (
    "this is {what}, not a report: it says how {scanner} scans, for {command}; give the scanner's"
    " JSON report as REPORT"
)


def _other_text(head: bytes) -> str | None:
    """What a file that is not JSON text is, when it is one the gate knows, else None."""
    if head.startswith(b"\x1f\x8b"):
        # `data fetch` stores the EPSS scores (and may store the KEV catalog) gzip-compressed, as
        # --epss and --kev read them: gunzip would be the wrong advice for those.
        inner = _gunzipped_head(head)
        if inner.startswith((b"#model_version", b"cve,epss")):
            return _EXPLOIT_DATA.format(what="FIRST's EPSS scores", flag="--epss")
        if b'"catalogVersion"' in inner:
            return _EXPLOIT_DATA.format(what="CISA's KEV catalog", flag="--kev")
        return "this file is gzip-compressed: decompress it first (gunzip); reports are read as JSON text"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Windows PowerShell's `>` writes UTF-16: `trivy image -f json app > report.json`.
        return (
            "this file is UTF-16 text, as Windows PowerShell's > writes it: have the scanner write "
            "the file itself (trivy --output, grype --file, snyk --json-file-output) or convert it to UTF-8"
        )
    own = _own_text_output(head)
    if own is not None:
        return _OWN_OUTPUT.format(what=own)
    if _looks_like_a_grype_table(head):
        return "this is Grype's table output; write the report with `grype IMAGE -o json --file report.json`"
    if head.startswith((b"#model_version", b"cve,epss")):
        return _EXPLOIT_DATA.format(what="FIRST's EPSS scores", flag="--epss")
    text = head.removeprefix(b"\xef\xbb\xbf")
    if not _POLICY_LINE.search(text):
        found = _IGNORE_FILE_KEY.search(text)
        if found is not None:
            grype = found.group(1) == b"ignore"
            return _IGNORE_RULES.format(
                what="a Grype configuration (.grype.yaml)"
                if grype
                else "a Trivy ignore file (.trivyignore.yaml)"
            )
        if is_trivyignore(text.decode("utf-8", "replace")):
            return _IGNORE_RULES.format(what="a Trivy ignore file (.trivyignore)")
        config = scanner_configuration(yaml_top_level_keys(text.decode("utf-8", "replace")))
        if config is not None:
            what, scanner, command = config
            return _SCANNER_CONFIG.format(what=what, scanner=scanner, command=command)
    if _POLICY_LINE.search(head.removeprefix(b"\xef\xbb\xbf")):
        # `check policy.yaml --policy report.json`, or the policy given without --policy.
        return (
            "this is a container-gate policy: give it with --policy, and the scanner's JSON report as REPORT"
        )
    return None


# The gate's own outputs given back to it: only the --json decision report is read again.
_OWN_OUTPUT = (
    "this is container-gate's {what}: give the decision report check or scan writes with --json, or the "
    "scanner's JSON report"
)
_COMPARE_SCHEMA = "container-gate/compare/v1"
"""gate/render/compare.py's document (not imported: rendering comes after reading)."""


def _own_text_output(head: bytes) -> str | None:
    """Which of the gate's own text outputs `head` starts, if one: the JUnit XML (its root is named
    after the gate) or the Markdown summary (a heading naming it, after the hidden marker line a
    pull-request comment or merge-request note starts with)."""
    if b'<testsuites name="container-gate"' in head:
        return "JUnit output"
    first = _MARKER_LINE.sub("", head.decode("utf-8", "replace").lstrip(), count=1).split("\n", 1)[0]
    if first.startswith("### container-gate compare"):
        # gate/render/compare.py's heading: compare writes no decision report to give instead.
        return "compare table (compare --markdown)"
    if first.startswith("### ") and "container-gate" in first:
        return "Markdown summary"
    return None


_MARKER_LINE = re.compile(r"\A<!-- container-gate[^\n]*-->\r?\n")
"""The marker a comment or note of the gate starts with (`gate.platforms.marker`)."""


def _own_json_output(data: dict[str, object]) -> str | None:
    """Which of the gate's own JSON outputs `data` is, if one: compare's table, or the SARIF log
    or the GitLab report a run wrote (their tool or analyzer is the gate)."""
    if data.get("schema") == _COMPARE_SCHEMA:
        return "compare table (compare --json)"
    runs = data.get("runs")
    if isinstance(runs, list) and runs and _member(runs[0], "tool", "driver", "name") == "container-gate":
        return "SARIF output"
    if _member(data, "scan", "analyzer", "id") == "container-gate":
        return "GitLab report"
    return None


def _member(data: object, *keys: str) -> object:
    """`data[k1][k2]...`, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _looks_like_a_grype_table(head_bytes: bytes) -> bool:
    """Grype's default `-o table` output: a header row of its column names (`FIXED-IN` in older
    versions, `FIXED IN` in newer ones), or the one line it prints when nothing matched."""
    text = head_bytes.decode("utf-8", "replace").strip()
    if text == "No vulnerabilities found":
        return True
    first = text.split("\n", 1)[0].split()
    return first[:2] == ["NAME", "INSTALLED"] and {"VULNERABILITY", "SEVERITY"} <= set(first)


def _gunzipped_head(head: bytes) -> bytes:
    """What the first bytes of a gzip stream decompress to, as far as they go (nothing when they
    are not one)."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 8192)
    except zlib.error:
        return b""


_POLICY_LINE = re.compile(rb"^version:[ \t]*1[ \t]*(?:#.*)?\r?$", re.MULTILINE)
"""The line every policy has, at the top level: no report of JSON text holds it."""


def _other_format(data: object) -> str | None:
    if isinstance(data, dict):
        if "catalogVersion" in data and "vulnerabilities" in data:
            return _EXPLOIT_DATA.format(what="CISA's KEV catalog", flag="--kev")
        if data.get("schema") == "container-gate/exploit-data/v1":  # gate/enrich/fetch.py's record
            return (
                "this is the record `data fetch` writes: give the kev.json beside it with --kev and "
                "the epss.csv.gz with --epss"
            )
        own = _own_json_output(data)
        if own is not None:
            return _OWN_OUTPUT.format(what=own)
        if data.get("ok") is False and isinstance(data.get("error"), str):
            # `snyk container test --json` when it could not test: the reason is Snyk's.
            return f"this is Snyk's error output: {data['error'][:300]}"
        for member, what in OTHER_DOCUMENTS:
            if member in data:
                return (
                    f"this is {what}; give the scanner's JSON output: trivy --format json, grype -o json, "
                    "snyk --json"
                )
    return None
