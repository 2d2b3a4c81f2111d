"""What a baseline and VEX statements add to an evaluation: each decision's baseline state and
VEX statement, the statements' use, and the baseline's warnings. Pure, like `evaluate`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from gate.enrich.baseline import Baseline, BaselineState
from gate.enrich.vex_model import VexGap, VexStatement, future_statement_warning, open_note
from gate.model import ScanReport
from gate.policy.evaluation import Decision, VexEntryReport
from gate.policy.model import Policy
from gate.run_wording import COMMAND_LINE_WORDS, RunWording


def with_enrichment(
    decisions: tuple[Decision, ...],
    states: Sequence[BaselineState],
    spoke: Sequence[VexStatement | None],
    gaps: Sequence[VexGap | None] = (),
    worse: Sequence[str] = (),
) -> tuple[Decision, ...]:
    """The decisions with their baseline state (and what made one worse), VEX statement and VEX
    gap; a statement that does
    not clear the finding (`affected`, `under_investigation`) is said in the reason, and changes
    nothing."""
    out: list[Decision] = []
    for position, decision in enumerate(decisions):
        statement = spoke[position] if spoke else None
        out.append(
            replace(
                decision,
                reason=decision.reason + open_note(statement),
                baseline=states[position] if states else None,
                worse=worse[position] if worse else "",
                vex=statement,
                vex_gap=gaps[position] if gaps else None,
            )
        )
    return tuple(out)


def vex_reports(
    statements: Sequence[VexStatement],
    spoke: Sequence[VexStatement | None],
    gaps: Sequence[VexGap | None] = (),
) -> tuple[VexEntryReport, ...]:
    """One report per statement: how many findings it spoke for (alone, or with the statements about
    the other CVEs of an advisory), and how many it clears in part while they stay open, with the
    CVEs no statement clears."""
    matched = Counter((part.source, part.index) for s in spoke if s is not None for part in s.statements)
    left_open: Counter[tuple[str, int]] = Counter()
    not_cleared: dict[tuple[str, int], set[str]] = {}
    for gap in gaps:
        if gap is None:
            continue
        for part in gap.clearing:
            key = (part.source, part.index)
            left_open[key] += 1
            not_cleared.setdefault(key, set()).update(gap.not_cleared)
    return tuple(
        VexEntryReport(
            s,
            matched[(s.source, s.index)],
            left_open[(s.source, s.index)],
            tuple(sorted(not_cleared.get((s.source, s.index), ()))),
        )
        for s in statements
    )


def vex_warnings(
    spoke: Sequence[VexStatement | None], now: dt.datetime, hint: RunWording = COMMAND_LINE_WORDS
) -> list[str]:
    """What the outputs must say about the statements that spoke: one dated after this run's time
    (more than a day, as for a baseline) is the latest of every statement about its findings, so
    it overrides whatever is said about them before that date (a mistyped year, or --as-of).
    `hint` says what sets the run's time, in its user's words."""
    now_utc = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    future = {
        (part.source, part.index): part
        for s in spoke
        if s is not None
        for part in s.statements
        if part.timestamp is not None and part.timestamp - now_utc > dt.timedelta(days=1)
    }
    return [
        future_statement_warning(s, s.timestamp, now_utc.date(), hint.time_set_by)
        for s in future.values()
        if s.timestamp is not None
    ]


def unfollowed_warnings(statements: Sequence[VexStatement]) -> list[str]:
    """One warning per VEX file whose CycloneDX statements name components by BOM-Links into
    another BOM, which are not followed (`gate.enrich._cyclonedx_in`)."""
    by_file: dict[str, dict[str, None]] = {}
    for statement in statements:
        for ref in statement.unfollowed:
            by_file.setdefault(statement.source, {})[ref.partition("#")[0]] = None
    return [
        f"{source}: CycloneDX affects[].ref BOM-Links into another BOM ({_some(list(boms))}) are not "
        "followed: a statement says nothing about them, and clears no finding through them"
        for source, boms in by_file.items()
    ]


_SHOWN_BOMS = 3
"""How many BOMs a BOM-Link warning names: a document may link into thousands (its own text)."""
_BOM_LIMIT = 100
"""The most characters of one BOM's name shown."""


def _some(boms: list[str]) -> str:
    """The first BOMs named, each cut short, and how many more."""
    shown = ", ".join(
        bom if len(bom) <= _BOM_LIMIT else bom[:_BOM_LIMIT] + "..." for bom in boms[:_SHOWN_BOMS]
    )
    rest = len(boms) - _SHOWN_BOMS
    return f"{shown} and {rest} more" if rest > 0 else shown


def snyk_vex_warnings(report: ScanReport) -> list[str]:
    """What the outputs must say, when VEX statements are given, of Snyk findings that none can
    match by package: Snyk gives no package URL, and the gate makes one only for some package
    managers (`gate.scanners.snyk`). Only a statement about the whole image can apply to them, and
    none at all when the report names no image."""
    without = [f for f in report.findings if "snyk" in f.scanners and f.package.purl is None]
    if not without:
        return []
    managers = ", ".join(sorted({f.package.type or "none given" for f in without}))
    what = (
        "only a VEX statement about the whole image can apply to them"
        if report.image is not None
        else "no VEX statement can apply to them (the report names no image either)"
    )
    return [
        f"{len(without)} Snyk finding(s) have no package URL (Snyk gives none, and their package "
        f"manager makes none: {managers}): {what}"
    ]


def _parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def baseline_warnings(
    baseline: Baseline,
    report: ScanReport,
    policy: Policy,
    now: dt.datetime,
    hint: RunWording = COMMAND_LINE_WORDS,
) -> list[str]:
    """What the outputs must say about the baseline: too old, or of another platform; `hint` says
    what may have set the run's time wrong, in its user's words."""
    warnings: list[str] = []
    # A fetched baseline's file is the job's local copy: what it is, is the branch's last report
    # (as the delta line says).
    name = (
        f"of the last successful pipeline of {baseline.branch}"
        if baseline.branch is not None
        else baseline.source
    )
    refresh = (
        f"run a pipeline of {baseline.branch} to refresh it"
        if baseline.branch is not None
        else "refresh it from the default branch"
    )
    created = _parse_time(baseline.created)
    now_utc = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    if created is None:
        warnings.append(f"the baseline {name} does not say when it was made (no evaluated_at)")
    elif created - now_utc > dt.timedelta(days=1):
        warnings.append(
            f"the baseline {name} says it was made on {baseline.created_date}, after this "
            f"run's time ({now_utc.date().isoformat()}): is {hint.time_wrong} wrong? Its age is not judged"
        )
    else:
        age = (now_utc - created).days
        if age > policy.baseline.max_age_days:
            warnings.append(
                f"the baseline {name} is {age} days old (baseline.max_age_days: "
                f"{policy.baseline.max_age_days}): {refresh}"
            )
    platform = report.image.platform if report.image else None
    if platform and baseline.platform and platform != baseline.platform:
        warnings.append(
            f"the baseline {name} is of platform {baseline.platform}, this report of "
            f"{platform}: no finding matches it, every finding is new"
        )
    return warnings
