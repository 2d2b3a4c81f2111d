"""Rules every parser shares: severity words, paths inside the image, and the best CVSS.

The primary id and the merging of repeated findings are `gate.merge`'s (`choose_ids`, `dedupe`),
shared with the merge of several reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gate.model import Cvss, Severity

_SEVERITIES: dict[str | None, Severity] = {}


def severity_of(word: str | None) -> Severity:
    """`Severity.parse`, remembered per word: a report repeats a handful of words many times."""
    severity = _SEVERITIES.get(word)
    if severity is None:
        severity = Severity.parse(word)
        if len(_SEVERITIES) < 64:
            _SEVERITIES[word] = severity
    return severity


def strip_root(path: str) -> str:
    """A path inside the image without its leading slash, as `Package.path` is written."""
    return path.lstrip("/") if path.startswith("/") else path


CVSS_VERSION_RANK = {"2": 2, "3": 3, "4": 4}
"""Major CVSS version -> rank; a newer version is preferred over any source of an older one."""


CvssCandidate = tuple[int, str, float, str | None, str | None]
"""One CVSS assessment of an entry: (major version, ranking key, score, vector, source)."""


def best_cvss(candidates: Iterable[CvssCandidate], preferred: Sequence[str]) -> Cvss | None:
    """The best of an entry's CVSS assessments.

    The highest major version wins (4.0 over 3.x over 2.0): a newer version describes the
    vulnerability with more precision and is what current advisories publish. Among assessments of
    that version, the ranking key that comes first in `preferred` wins (each parser puts the source
    the scanner took its severity from first, then `nvd`, then `ghsa`); keys not listed follow in
    sorted order, and the report's order breaks the remaining ties. The choice never depends on the
    scores themselves, so the gate neither inflates nor hides a vendor's assessment.
    """
    best: CvssCandidate | None = None
    best_key: tuple[int, int, str, int] | None = None
    unlisted = len(preferred)
    for order, candidate in enumerate(candidates):
        source = candidate[1]
        rank = preferred.index(source) if source in preferred else unlisted
        key = (-candidate[0], rank, source if rank == unlisted else "", order)
        if best_key is None or key < best_key:
            best, best_key = candidate, key
    if best is None:
        return None
    return Cvss(score=best[2], vector=best[3], source=best[4])
