"""Rules every parser shares: severity vocabularies, paths inside the image, and the best CVSS.

The primary id and the merging of repeated findings are `gate.merge`'s (`choose_ids`, `dedupe`),
shared with the merge of several reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from gate.model import Cvss, Severity
from gate.scanners._fields import At, JsonObject


class Vocabulary:
    """The severity words one scanner writes: a closed set, so that a word outside it is a report
    error rather than a finding of unknown severity that passes a severity threshold."""

    __slots__ = ("listing", "scanner", "words")

    def __init__(self, scanner: str, words: Mapping[str, Severity | None]) -> None:
        self.scanner = scanner
        """The scanner's name, as messages say it (`Trivy`)."""
        self.listing = ", ".join(words)
        """The words as the scanner spells them, for messages."""
        self.words = {**{word.lower(): severity for word, severity in words.items()}, **words}
        """Each word, as spelled and in lower case -> its severity; None for the scanner's own word
        for "no severity known" (`UNKNOWN`), which reads like a missing severity."""


TRIVY_SEVERITIES = Vocabulary(
    "Trivy",
    {"UNKNOWN": None, "LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH,
     "CRITICAL": Severity.CRITICAL},
)  # fmt: skip
"""trivy-db `pkg/types` `SeverityNames`, the only words Trivy writes in `Severity`."""

GRYPE_SEVERITIES = Vocabulary(
    "Grype",
    {"Unknown": None, "Negligible": Severity.LOW, "Low": Severity.LOW, "Medium": Severity.MEDIUM,
     "High": Severity.HIGH, "Critical": Severity.CRITICAL},
)  # fmt: skip
"""Grype's `grype/vulnerability/severity.go` words (its DB writes them capitalized; Grype itself
reads them in any case). Negligible is what the other scanners call low."""

SNYK_SEVERITIES = Vocabulary(
    "Snyk",
    {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "critical": Severity.CRITICAL},
)
"""Snyk's `SEVERITY` words (`low|medium|high|critical`, as `--severity-threshold` takes them)."""

TRIVY_VENDOR_SEVERITIES: tuple[Severity | None, ...] = (
    None,
    Severity.LOW,
    Severity.MEDIUM,
    Severity.HIGH,
    Severity.CRITICAL,
)
"""trivy-db's `VendorSeverity` numbers 0-4 (UNKNOWN to CRITICAL), by number."""

_LISTED_WORDS = 5
"""Distinct unrecognized words a warning quotes before it counts the rest."""


def cvss_severity(major: int, score: float) -> Severity | None:
    """The NVD's qualitative rating of a CVSS base score (https://nvd.nist.gov/vuln-metrics/cvss).

    CVSS v2: 0.0-3.9 low, 4.0-6.9 medium, 7.0-10.0 high. CVSS v3.x and v4.0 (and a score whose
    version the report does not say, read the stricter way): 0.0 none, 0.1-3.9 low, 4.0-6.9
    medium, 7.0-8.9 high, 9.0-10.0 critical.
    """
    if major == 2:
        return Severity.LOW if score < 4.0 else Severity.MEDIUM if score < 7.0 else Severity.HIGH
    if score <= 0.0:
        return None
    if score < 4.0:
        return Severity.LOW
    if score < 7.0:
        return Severity.MEDIUM
    return Severity.HIGH if score < 9.0 else Severity.CRITICAL


class SeverityReader:
    """Reads one report's severities: the scanner's own word when it gave one, else the highest of
    the finding's CVSS-derived and vendor severities, else UNKNOWN; and counts what it had to do.

    A word outside the scanner's vocabulary (`CRIT`, `Important`, `4`, `""`) is a report error
    naming its key path, unless the policy sets `lenient_severity`: then it reads as a missing
    severity, and the report's warnings count it.
    """

    __slots__ = ("derived", "lenient", "missing", "unrecognized", "vocabulary")

    def __init__(self, vocabulary: Vocabulary, lenient: bool) -> None:
        self.vocabulary = vocabulary
        """The scanner's words."""
        self.lenient = lenient
        """The policy's `lenient_severity`."""
        self.unrecognized: dict[str, int] = {}
        """Words outside the vocabulary read as missing (lenient only), with how often (a finding's
        own word and, when it has none, its vendors' words each count)."""
        self.derived = 0
        """Findings without a severity of their own that took one from CVSS or a vendor."""
        self.missing = 0
        """Findings with no severity at all: none given, no CVSS score, no vendor severity."""

    def given(self, obj: JsonObject, key: str, at: At) -> Severity | None:
        """The severity word at `obj[key]`; None when the scanner gave none (absent, null, or its
        word for unknown)."""
        value = obj.get(key)
        return None if value is None else self.word(value, key, at)

    def word(self, value: object, key: str, at: At) -> Severity | None:
        """`given` of the value at `obj[key]`, not null."""
        if type(value) is not str:
            raise at[key].wrong(f"a {self.vocabulary.scanner} severity word", value)
        words = self.vocabulary.words
        if value in words:
            return words[value]
        lower = value.lower()
        if lower in words:
            return words[lower]
        if self.lenient:
            self.unrecognized[value] = self.unrecognized.get(value, 0) + 1
            return None
        raise at[key].error(
            f"expected a {self.vocabulary.scanner} severity ({self.vocabulary.listing}), got "
            f"{json.dumps(value)} (to read unknown words as a missing severity, set "
            "`lenient_severity: true` in the policy)"
        )

    def settle(self, derived: Iterable[Severity | None]) -> Severity:
        """The severity of a finding that has none of its own: the highest of `derived` (its
        CVSS-derived and vendor severities), else UNKNOWN."""
        best = max((severity for severity in derived if severity is not None), default=None)
        if best is None:
            self.missing += 1
            return Severity.UNKNOWN
        self.derived += 1
        return best

    def warnings(self, source: str) -> tuple[str, ...]:
        """What the report's readers should know about its severities."""
        out: list[str] = []
        if self.unrecognized:
            count = sum(self.unrecognized.values())
            words = ", ".join(json.dumps(word) for word in list(self.unrecognized)[:_LISTED_WORDS])
            more = len(self.unrecognized) - _LISTED_WORDS
            words += f" and {more} more" if more > 0 else ""
            out.append(
                f"{source}: {count} severity value(s) {self.vocabulary.scanner} does not use ({words}) "
                "read as a missing severity (lenient_severity)"
            )
        if self.derived:
            out.append(
                f"{source}: {self.derived} finding(s) have no severity of their own and take the "
                "highest of their CVSS-derived and vendor severities"
            )
        if self.missing:
            out.append(
                f"{source}: {self.missing} finding(s) have no severity at all (none given, no CVSS "
                "score, no vendor severity) and count as UNKNOWN"
            )
        return tuple(out)


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
