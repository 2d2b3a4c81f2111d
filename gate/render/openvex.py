"""`--openvex PATH`: the decisions of a run as an OpenVEX 0.2.0 document, so a team's decisions
travel with the image to Trivy `--vex`, Grype `--vex` and vexctl.

One statement per allowlist entry and vulnerability, and per VEX statement (or set of statements
that cleared them together) that allowlisted findings. The product is the image as
`pkg:oci/<name>@sha256:<digest>?repository_url=...` when its digest is known, else the
identifiers the gate does know (the image ID, the digest, the reference as given), so that
reading the file back against the same report still matches; the subcomponents are the purls of
the findings the decision covered. A finding without a purl cannot be named inside the image and
is left out (a statement about the whole image would cover more than the decision did). The text
comes from `gate.enrich.openvex_out`, deterministic for the same evaluation and `--as-of`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from gate.enrich.openvex_out import OutStatement, render_openvex
from gate.enrich.purls import oci_purl
from gate.enrich.vex_model import Justification, VexStatement, VexStatus, openvex_justification
from gate.model import ImageInfo
from gate.policy.evaluation import Decision, Disposition, Evaluation, RuleKind
from gate.policy.model import AllowlistEntry

AUTHOR_SUFFIX = " (container-gate)"


def image_products(image: ImageInfo | None) -> tuple[str, ...]:
    """How the written statements name the image."""
    if image is None:
        return ()
    purl = oci_purl(image)
    if purl is not None:
        return (purl,)
    return tuple(dict.fromkeys(i for i in (image.image_id, image.digest, image.reference) if i))


@dataclass
class _Group:
    decisions: list[Decision] = field(default_factory=list)


def _purls(decisions: list[Decision]) -> tuple[str, ...]:
    return tuple(d.finding.package.purl for d in decisions if d.finding.package.purl)


def _aliases(decisions: list[Decision]) -> tuple[str, ...]:
    return tuple(alias for d in decisions for alias in d.finding.aliases)


def _entry_statement(
    entry: AllowlistEntry,
    vulnerability: str,
    decisions: list[Decision],
    products: tuple[str, ...],
    policy: str,
) -> OutStatement:
    notes = f"{entry.name} of {policy}"
    if entry.expires is not None:
        notes += f", expires {entry.expires.isoformat()}"
    return OutStatement(
        vulnerability_id=vulnerability,
        status=VexStatus.NOT_AFFECTED,
        products=products,
        subcomponents=_purls(decisions),
        aliases=_aliases(decisions),
        justification=Justification(entry.justification) if entry.justification else None,
        impact_statement=entry.reason,
        status_notes=notes,
    )


def _vex_statement(
    statement: VexStatement, vulnerability: str, decisions: list[Decision], products: tuple[str, ...]
) -> OutStatement:
    justification = openvex_justification(statement.justification)
    impact = statement.impact_statement
    if statement.status is VexStatus.NOT_AFFECTED and justification is None and not impact:
        impact = statement.reason
    return OutStatement(
        vulnerability_id=vulnerability,
        status=statement.status,
        products=products,
        subcomponents=_purls(decisions),
        aliases=_aliases(decisions),
        justification=justification if statement.status is VexStatus.NOT_AFFECTED else None,
        impact_statement=impact if statement.status is VexStatus.NOT_AFFECTED else None,
        status_notes=f"{statement.rule}: {statement.reason}",
    )


def out_statements(evaluation: Evaluation) -> Iterator[OutStatement]:
    """The statements of the decisions `evaluation` made by an allowlist entry or a VEX statement."""
    products = image_products(evaluation.report.image)
    if not products:
        return
    groups: dict[tuple[str, str, tuple[str, ...]], _Group] = {}
    for decision in evaluation.decisions:
        if decision.disposition is not Disposition.ALLOWLISTED or not decision.finding.package.purl:
            continue
        # Statements that clear a finding together carry the rule of the latest of them, which
        # other findings may share with other statements: they are told apart by all of theirs.
        vex = decision.vex if decision.rule.kind is RuleKind.VEX else None
        said = tuple(part.rule for part in vex.statements) if vex is not None else ()
        key = (str(decision.rule), decision.finding.vulnerability_id, said)
        groups.setdefault(key, _Group()).decisions.append(decision)
    for (_rule, vulnerability, _said), group in groups.items():
        first = group.decisions[0]
        if first.rule.kind is RuleKind.VEX and first.vex is not None:
            yield _vex_statement(first.vex, vulnerability, group.decisions, products)
            continue
        entry = evaluation.allowlist_entry(first)
        if entry is not None:
            yield _entry_statement(entry, vulnerability, group.decisions, products, evaluation.policy.source)


def render_openvex_decisions(evaluation: Evaluation) -> str | None:
    """The OpenVEX document of `evaluation`'s decisions, or None when it made none that a statement
    can carry (the format needs at least one statement)."""
    statements = list(out_statements(evaluation))
    if not statements:
        return None
    image = evaluation.report.image
    seed = (image.digest or image.image_id or image.reference) if image else ""
    return render_openvex(
        statements,
        author=evaluation.policy.source + AUTHOR_SUFFIX,
        timestamp=evaluation.now,
        doc_id_seed=seed,
    )
