"""What a VEX statement says, whatever format it came in: the types `gate.enrich.vex` reads into.

OpenVEX, CSAF VEX and CycloneDX VEX all say the same thing in different shapes: a vulnerability,
the products (and parts of products) it is about, and a status with its reasons. Each format's
reader turns its documents into these frozen statements; matching and the decision report read
only these.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime


class VexFormat(enum.Enum):
    """The document format a statement was read from."""

    OPENVEX = "openvex"
    """OpenVEX 0.2.0 (and the 0.0.x shape of older files)."""
    CSAF = "csaf"
    """CSAF 2.0 with `document.category: csaf_vex`."""
    CYCLONEDX = "cyclonedx"
    """A CycloneDX BOM whose `vulnerabilities` carry an `analysis`."""


class VexStatus(enum.Enum):
    """OpenVEX's four statuses; CSAF product statuses and CycloneDX analysis states map onto them."""

    NOT_AFFECTED = "not_affected"
    """The product is not affected: the finding is a false alarm in this product."""
    AFFECTED = "affected"
    """The product is affected; the statement may say what to do."""
    FIXED = "fixed"
    """The product contains a fix for the vulnerability."""
    UNDER_INVESTIGATION = "under_investigation"
    """Not known yet."""

    @property
    def clears(self) -> bool:
        """True for the statuses that allowlist a finding (`not_affected`, `fixed`)."""
        return self in (VexStatus.NOT_AFFECTED, VexStatus.FIXED)


class Justification(enum.Enum):
    """The five justifications OpenVEX (and CSAF's flags) allow for `not_affected`."""

    COMPONENT_NOT_PRESENT = "component_not_present"
    """The vulnerable component is not in the product."""
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present"
    """The component is there, but not the vulnerable code."""
    VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path"
    """The vulnerable code is there but never runs."""
    VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = "vulnerable_code_cannot_be_controlled_by_adversary"
    """The vulnerable code runs, but an attacker cannot reach it with their input."""
    INLINE_MITIGATIONS_ALREADY_EXIST = "inline_mitigations_already_exist"
    """The product has its own protection against the vulnerability."""


CYCLONEDX_JUSTIFICATIONS: dict[str, Justification] = {
    "code_not_present": Justification.VULNERABLE_CODE_NOT_PRESENT,
    "code_not_reachable": Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
    "requires_configuration": Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
    "requires_dependency": Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
    "requires_environment": Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
    "protected_by_compiler": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
    "protected_at_runtime": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
    "protected_at_perimeter": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
    "protected_by_mitigating_control": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
}
"""CycloneDX's nine `analysis.justification` labels, each with the OpenVEX justification it is
grouped under in the CISA VEX status justification mapping (CycloneDX's own VEX guide)."""


def openvex_justification(label: str | None) -> Justification | None:
    """The OpenVEX justification of a statement's label: itself for OpenVEX and CSAF labels, the
    mapped one for CycloneDX labels, None for no label."""
    if label is None:
        return None
    try:
        return Justification(label)
    except ValueError:
        return CYCLONEDX_JUSTIFICATIONS.get(label)


@dataclass(frozen=True)
class VexComponent:
    """A product or a part of one, by every identifier the document gives it."""

    identifiers: tuple[str, ...]
    """Its `@id` first (a purl, an image reference or digest, any IRI), then its other
    identifiers (`purl`, `cpe23`, `cpe22`), each once. Never empty."""


@dataclass(frozen=True)
class VexProduct:
    """A product a statement is about, and the parts of it the statement singles out."""

    identifiers: tuple[str, ...]
    """The product's identifiers, as in `VexComponent.identifiers`."""
    subcomponents: tuple[VexComponent, ...] = ()
    """The components inside the product that carry the vulnerability; empty when the statement is
    about the product as a whole."""


@dataclass(frozen=True)
class VexStatement:
    """One statement of one VEX document: what its author says about a vulnerability in products."""

    vulnerability_id: str
    """The vulnerability's main name (OpenVEX `name`, else `@id`; CSAF `cve`, else the first
    `ids[].text`; CycloneDX `id`)."""
    aliases: tuple[str, ...]
    """Its other names (OpenVEX `aliases` and `@id`; CSAF `ids[].text`; CycloneDX
    `references[].id`), the main name excluded, each once."""
    products: tuple[VexProduct, ...]
    """The products it is about, in document order; a statement without products applies to none."""
    status: VexStatus
    """What the author says."""
    justification: str | None
    """The author's justification label: an OpenVEX one (also CSAF's flags) or, from CycloneDX,
    one of `CYCLONEDX_JUSTIFICATIONS`. `openvex_justification()` gives the OpenVEX label of either."""
    impact_statement: str | None
    """Why the product is not affected, in the author's words (CSAF threats of category `impact`,
    CycloneDX `analysis.detail`). Untrusted text."""
    action_statement: str | None
    """What to do about it (CSAF remediations, CycloneDX recommendation, workaround or
    response). Untrusted text."""
    status_notes: str | None
    """How the status was determined (OpenVEX `status_notes`). Untrusted text."""
    author: str | None
    """Who says so: OpenVEX `author`, CSAF `publisher.name`, CycloneDX `metadata.authors`."""
    timestamp: datetime | None
    """When it was known to be true, always with a time zone: the statement's own time, else the
    document's; None when neither says."""
    source: str
    """The file it was read from, as the user named it."""
    index: int
    """Its position among the statements read from `source`, from 0."""
    location: str
    """Where in the file it comes from (`statements[3]`, `vulnerabilities[0].product_status.fixed`)."""
    format: VexFormat
    """The document format of `source`."""
    unfollowed: tuple[str, ...] = ()
    """The CycloneDX `affects[].ref` BOM-Links into another BOM that the statement does not apply
    to (`gate.enrich._cyclonedx_in`), each once; empty for every other statement."""
    parts: tuple[VexStatement, ...] = ()
    """For what several statements say together (`joint`: each clears some of the CVEs an advisory
    stands for, together all of them), those statements in the order given; empty for a statement
    of a document. A joint statement's texts are its parts' (see `joint`), its `source` their
    files, its `location` theirs, its `index` -1."""

    @property
    def ids(self) -> tuple[str, ...]:
        """The main name followed by every alias."""
        return (self.vulnerability_id, *self.aliases)

    @property
    def statements(self) -> tuple[VexStatement, ...]:
        """The statements of the documents that say this: its parts, or itself."""
        return self.parts or (self,)

    @property
    def rule(self) -> str:
        """The rule that names this statement in a disposition: `vex:<file>#<index>`; for a joint
        statement, the rule of its latest part (`latest`), as for one that speaks alone: the
        decision report's `vex.statements` lists every part's."""
        if self.parts:
            return latest(self.parts).rule
        return f"vex:{self.source}#{self.index}"

    @property
    def reason(self) -> str:
        """The reason a finding gets from it: `VEX not_affected (<justification or impact
        statement>) by <author>, <timestamp>`, each part only when the statement has it. A joint
        statement says `VEX not_affected for each of its 2 CVEs (<its parts' justifications or
        impact statements, each once>) by <their authors>, <the latest timestamp>`."""
        text = f"VEX {self.status.value}"
        why = self.justification or self.impact_statement
        if self.parts:
            statuses = " or ".join(dict.fromkeys(part.status.value for part in self.parts))
            cves = len({i.upper() for i in self.ids if i.upper().startswith("CVE-")})
            text = f"VEX {statuses} for each of its {cves} CVEs"
            why = _joined(part.justification or part.impact_statement for part in self.parts)
        if why:
            text += f" ({why})"
        if self.author:
            text += f" by {self.author}"
        if self.timestamp:
            text += f"{',' if self.author else ''} {format_time(self.timestamp)}"
        return text


@dataclass(frozen=True)
class VexGap:
    """Why statements that clear some of the CVEs of a finding standing for several (Grype's GHSA
    finding) do not clear the finding: no statement clears its other CVEs. The statements are
    needed as they are; what is missing is a clearing statement about each CVE of `not_cleared`."""

    clearing: tuple[VexStatement, ...]
    """The statements that clear some of its CVEs, each the latest about one of them, in the order
    given."""
    cleared: tuple[str, ...]
    """The CVEs they clear (upper case, sorted)."""
    not_cleared: tuple[str, ...]
    """Its CVEs that no statement clears (upper case, sorted): none is about them, or the latest
    says `affected` or `under_investigation`."""


def _age(pair: tuple[int, VexStatement]) -> tuple[datetime, bool, int]:
    position, statement = pair
    return (statement.timestamp or datetime.min.replace(tzinfo=UTC), not statement.status.clears, position)


def latest(statements: Sequence[VexStatement]) -> VexStatement:
    """The statement that overrides the others (at least one): the latest timestamp (an undated
    one is older than any dated one). Among statements of that same time (or all undated) nothing
    says which is the correction, so one that does not clear (`affected`, `under_investigation`)
    wins over one that does: the last given of those that do not clear, else the last given."""
    return max(enumerate(statements), key=_age)[1]


def _joined(texts: Iterable[str | None], separator: str = "; ") -> str | None:
    """The texts given, each once, in order, joined; None when there is none."""
    return separator.join(dict.fromkeys(text for text in texts if text)) or None


def joint(parts: Sequence[VexStatement], vulnerability_id: str, aliases: tuple[str, ...]) -> VexStatement:
    """What `parts` say together about the finding named `vulnerability_id` (with `aliases`): each
    clears some of the CVEs its advisory stands for, and together all of them. Its status is theirs
    when they agree, else `not_affected` (none needs a remedy: some CVEs are fixed, the others do
    not affect the product); its justification, impact and action statements and notes are
    theirs, each once, joined by `; `, its authors by `, `; its time the latest of theirs."""
    statuses = {part.status for part in parts}
    stamps = [part.timestamp for part in parts if part.timestamp is not None]
    return VexStatement(
        vulnerability_id=vulnerability_id,
        aliases=aliases,
        products=tuple(dict.fromkeys(product for part in parts for product in part.products)),
        status=statuses.pop() if len(statuses) == 1 else VexStatus.NOT_AFFECTED,
        justification=_joined(part.justification for part in parts),
        impact_statement=_joined(part.impact_statement for part in parts),
        action_statement=_joined(part.action_statement for part in parts),
        status_notes=_joined(part.status_notes for part in parts),
        author=_joined((part.author for part in parts), ", "),
        timestamp=max(stamps) if stamps else None,
        source=_joined((part.source for part in parts), ", ") or "",
        index=-1,
        location=_joined((f"{part.source}: {part.location}" for part in parts), "; ") or "",
        format=parts[0].format,
        parts=tuple(parts),
    )


def open_note(statement: VexStatement | None) -> str:
    """What a finding's reason adds for the statement that speaks for it when that statement does
    not clear it (`affected`, `under_investigation`): `; VEX affected by <author>, <timestamp>
    (vex:<file>#<index>)`; empty for none, or for one that clears it (its reason is the reason)."""
    if statement is None or statement.status.clears:
        return ""
    return f"; {statement.reason} ({statement.rule})"


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC (`2024-07-09T07:38:00Z`, with microseconds only when there are some)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def future_statement_warning(
    statement: VexStatement, stamp: datetime, day: date, time_set_by: str = "--as-of"
) -> str:
    """The warning about a statement dated `stamp`, after the run's `day`, that spoke; `time_set_by`
    is what sets the run's time, in its user's words (the runner's clock in the action)."""
    return (
        f"VEX statement {statement.rule} ({statement.location}) is dated {format_time(stamp)}, after "
        f"this run's time ({day.isoformat()}): as the latest, it overrides every statement about its "
        f"findings made before then. Is its timestamp or {time_set_by} wrong?"
    )


_FUTURE_STATEMENT = re.compile(
    r"VEX statement vex:.* is dated \S+, after this run's time \(\d{4}-\d\d-\d\d\): as the latest, ",
    re.DOTALL,
)


def is_future_statement_warning(text: str) -> bool:
    """True when `text` is a `future_statement_warning`: a decision report read back leaves the
    first run's out (the statements decide again only if given again, as of this run)."""
    return _FUTURE_STATEMENT.match(text) is not None
