"""Values the JSON grammar allows but no output can carry: lone surrogates and endless integers.

- `"\\ud800"` is valid JSON and decodes to a string holding half a UTF-16 surrogate pair, which
  no UTF-8 output (a file, the terminal, an API body) can encode. Python's decoder keeps it, and
  writing the first output that shows it used to end in an internal error.
- An integer of more than 4,300 digits stops Python's decoder itself (`sys.int_info
  .default_max_str_digits` guards int() against quadratic time), again an internal error.

Both are input errors: the report is refused with exit 2 and the key path of the value. Finding
them costs nothing on a report without them: surrogates are looked for in the strings of the
parsed report (one `isascii()` per finding, the strings that are not ASCII searched), and only a
report that has one is walked to name its key path; the integer is located only after the
decoder failed on it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from gate._json_decode import loads
from gate._json_strict import SURROGATE, locate_surrogate, surrogate_problem, walk
from gate.errors import ReportError
from gate.model import Finding, ScanReport
from gate.scanners._fields import At

_LONGEST = sys.int_info.default_max_str_digits
"""The most digits Python's decoder reads as an integer (4,300 unless the limit was changed)."""


def _finding_text(finding: Finding) -> str:
    package, cvss, layer = finding.package, finding.cvss, finding.layer
    return "".join(
        filter(
            None,
            (finding.vulnerability_id, finding.title, finding.description, finding.primary_url,
             *finding.aliases, *finding.fixed_versions, package.name, package.version, package.type,
             package.purl, package.path, package.source_name,
             cvss.vector if cvss else None, cvss.source if cvss else None,
             layer.created_by if layer else None, layer.diff_id if layer else None,
             layer.digest if layer else None),
        )
    )  # fmt: skip


def _report_text(report: ScanReport) -> Iterator[str]:
    for finding in report.findings:
        yield _finding_text(finding)
    image = report.image
    if image is not None:
        yield "".join(filter(None, (image.reference, image.digest, image.image_id, image.os,
                                    image.architecture, image.distro, image.base_image)))  # fmt: skip
        for info in image.layers:
            yield info.diff_id + (info.created_by or "")
        for key, value in image.labels:
            yield key + value
    for scanner in report.scanners:
        yield "".join(filter(None, (scanner.name, scanner.version, scanner.db_updated_at)))


def refuse_lone_surrogates(report: ScanReport, data: object, source: str) -> ScanReport:
    """`report`, unless a string of it holds a lone surrogate: then the error naming its key path
    in the decoded document `data`."""
    for text in _report_text(report):
        if not text.isascii() and SURROGATE.search(text):
            # The string came from somewhere the document may not show as such (Grype's base64
            # image config): the report is refused all the same.
            raise locate_surrogate(data, At(source)) or ReportError(f"{source}: {surrogate_problem()}")
    return report


class _Digits(int):
    """An integer too long to read, stood in for while locating it."""

    digits = 0


def locate_long_integer(text: str, name: str) -> ReportError:
    """The error for the first integer in `text` longer than Python's decoder reads."""

    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) <= _LONGEST:
            return int(digits)
        marker = _Digits(0)
        marker.digits = len(digits.lstrip("-"))
        return marker

    for value, at in walk(loads(text, parse_int=parse_int), At(name)):
        if isinstance(value, _Digits):
            return at.error(
                f"expected a number, got an integer of {value.digits} digits (at most {_LONGEST} are read)"
            )
    return ReportError(f"{name}: not valid JSON (a number too long to read)")
