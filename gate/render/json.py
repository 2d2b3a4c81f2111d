"""The JSON decision report (`--json`): the contract other tools read.

Schema `container-gate/decision/v1` (docs/architecture.md, docs/report-format.md). Fields are only ever added, never renamed
or removed; consumers must ignore fields they do not know.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from gate import __version__
from gate.model import Finding, ImageInfo, Layer, Severity
from gate.policy.actions import Action, ActionKind, FindingKey, Step
from gate.policy.base_status import BaseImageStatus
from gate.policy.evaluation import Decision, EntryReport, Evaluation
from gate.policy.model import FailOn, Policy
from gate.render._exploit import exploit_data_json, finding_fields
from gate.render._json_enrichment import baseline_summary, policy_extras, vex_rule
from gate.render._json_enrichment import finding_extras as _extras

SCHEMA = "container-gate/decision/v1"


def _layer(layer: Layer | None) -> dict[str, Any] | None:
    if layer is None:
        return None
    return {
        "diff_id": layer.diff_id,
        "digest": layer.digest,
        "index": layer.index,
        "created_by": layer.created_by,
        "origin": layer.origin.value if layer.origin else None,
        "dockerfile_line": layer.dockerfile_line,
    }


def _finding(decision: Decision, action_ids: Mapping[FindingKey, str]) -> dict[str, Any]:
    f: Finding = decision.finding
    return {
        "vulnerability_id": f.vulnerability_id,
        "aliases": list(f.aliases),
        "package": f.package.name,
        "installed_version": f.package.version,
        "fixed_versions": list(f.fixed_versions),
        "severity": f.severity.name,
        "status": f.status.value,
        "disposition": decision.disposition.value,
        "reason": decision.reason,
        "rule": str(decision.rule),
        "would_block": decision.would_block,
        "package_type": f.package.type,
        "purl": f.package.purl,
        "path": f.package.path,
        "source_package": f.package.source_name,
        "cvss": {"score": f.cvss.score, "vector": f.cvss.vector, "source": f.cvss.source} if f.cvss else None,
        "title": f.title,
        "primary_url": f.primary_url,
        "layer": _layer(f.layer),
        "scanners": list(f.scanners),
        "action": action_ids.get(f.key),
        "assessments": [
            {
                "scanner": said.scanner,
                "source": said.source,
                "severity": said.severity.name,
                "status": said.status.value,
                "fixed_versions": list(said.fixed_versions),
            }
            for said in f.assessments
        ],
    }


def _with_exploit(
    decision: Decision, action_ids: Mapping[FindingKey, str], with_data: bool
) -> dict[str, Any]:
    """A finding's fields, with its exploitability fields when it has any to show."""
    row = _finding(decision, action_ids)
    extra = finding_fields(decision, with_data)
    if extra:
        row.update(extra)
    return row


def _rule(item: EntryReport) -> dict[str, Any]:
    e = item.entry
    return {
        "index": e.index,
        "vulnerability": e.vulnerability,
        "package": e.package,
        "version": e.version,
        "path": e.path,
        "image": e.image,
        "reason": e.reason,
        "expires": e.expires.isoformat() if e.expires else None,
        "state": item.state.value,
        "matched": item.matched,
        "would_match": item.would_match,
        "origin": e.origin.value if e.origin else None,
        "line": e.line,
    }


def _fail_on(fail_on: FailOn | None) -> dict[str, Any] | None:
    if fail_on is None:
        return None
    return {
        "severity": fail_on.severity.name,
        "fixable_only": fail_on.fixable_only,
        "cvss_score": fail_on.cvss_score,
    }


def _add_policy_exploit(out: dict[str, Any], policy: Policy) -> None:
    """The policy's exploitability keys, only those it sets: a policy without them reads as before."""
    for fail_on, where in (
        (policy.fail_on, out["fail_on"]),
        (policy.base_image.fail_on, out["base_image"]["fail_on"]),
    ):
        if fail_on is not None and (fail_on.known_exploited or fail_on.epss is not None):
            where |= {"known_exploited": fail_on.known_exploited, "epss": fail_on.epss}
    if policy.ignore_suspects:
        out["ignore_suspects"] = sorted(kind.value for kind in policy.ignore_suspects)
    data = policy.exploit_data
    if data.kev or data.epss:
        out["exploit_data"] = {
            "kev": str(data.kev) if data.kev else None,
            "epss": str(data.epss) if data.epss else None,
            "max_age_days": data.max_age_days,
            "on_stale": data.on_stale.value,
        }


def _remediation(evaluation: Evaluation) -> dict[str, Any]:
    """`actions` and `no_fix`: the plan, its findings named by their position in `findings`
    (each finding names its action back): a position is one number where a finding's identity
    is four strings, and a report can have 100,000 findings."""
    plan = evaluation.plan
    positions: dict[str | None, list[int]] = {}
    by_key: dict[FindingKey, list[int]] = {}
    for index, decision in enumerate(evaluation.decisions):
        key = decision.finding.key
        positions.setdefault(plan.action_ids.get(key), []).append(index)
        if key in plan.action_ids:
            by_key.setdefault(key, []).append(index)

    def step(s: Step) -> dict[str, Any]:
        return {
            "package": s.package,
            "packages": list(s.packages),
            "ecosystem": s.ecosystem,
            "installed_version": s.installed_version,
            "target_version": s.target_version,
            "findings": sorted(i for key in set(s.findings) for i in by_key[key]),
            "blocking": s.blocking,
            "command": s.command,
        }

    def action(a: Action) -> dict[str, Any]:
        return {
            "id": a.id,
            "kind": a.kind.value,
            "package": a.package,
            "packages": list(a.packages),
            "origin": a.origin.value if a.origin else None,
            "ecosystem": a.ecosystem,
            "path": a.path,
            "installed_version": a.installed_version,
            "target_version": a.target_version,
            "dockerfile_line": a.dockerfile_line,
            "blocking": a.blocking,
            "would_block": a.would_block,
            "counts_by_severity": _flat(a.counts_by_severity),
            "blocking_by_severity": _flat(a.blocking_by_severity),
            "command": a.command,
            "findings": positions.get(a.id, []),
            "steps": [step(s) for s in a.steps],
            "estimated": a.estimated,
            "base_findings": a.base_findings if a.kind is ActionKind.BASE_REFRESH else None,
        }

    no_fix = plan.no_fix
    return {
        "actions": [action(a) for a in plan.actions],  # written one per line by `_dump`
        "no_fix": {
            "blocking": no_fix.blocking,
            "would_block": no_fix.would_block,
            "counts_by_severity": _flat(no_fix.counts_by_severity),
            "findings": positions.get(None, []),
        },
    }


def _flat(counts: Mapping[Severity, int]) -> dict[str, int]:
    return {severity.name: n for severity, n in counts.items()}


def _image(image: ImageInfo | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {
        "reference": image.reference,
        "digest": image.digest,
        "image_id": image.image_id,
        "platform": image.platform,
        "distro": image.distro,
        "size": image.size,
        "base_image": image.base_image,
        "base_layer_count": image.base_layer_count,
        "layers": [
            {
                "index": i,
                "diff_id": layer.diff_id,
                "created_by": layer.created_by,
                "origin": layer.origin.value if layer.origin else None,
                "dockerfile_line": layer.dockerfile_line,
            }
            for i, layer in enumerate(image.layers)
        ],
        "labels": dict(image.labels),
    }


def _base_image(status: BaseImageStatus) -> dict[str, Any]:
    """The base image check (`scan --check-base`): the base used, its tag now, what a rebuild removes."""
    check, removes = status.check, status.removes
    return {
        "name": check.name,
        "digest": check.used.digest if check.used else None,
        "created": check.used.created if check.used else None,
        "current_digest": check.current.digest if check.current else None,
        "current_created": check.current.created if check.current else None,
        "behind_days": status.behind_days,
        "stale": status.stale,
        "max_age_days": status.max_age_days,
        # Unknown, not zero, when the check could not run: nothing was compared.
        "rebuild_removes": {
            "findings": removes.findings,
            "blocking": removes.blocking,
            "by_severity": {severity.name: n for severity, n in removes.by_severity.items()},
        }
        if check.checked
        else None,
        "checked": check.checked,
        "reason": check.reason,
    }


def render_json(evaluation: Evaluation) -> str:
    """The decision report as indented JSON text (`json_chunks`)."""
    return b"".join(json_chunks(evaluation)).decode("utf-8")


def json_chunks(evaluation: Evaluation) -> Iterator[bytes]:
    """The decision report as indented JSON text, UTF-8, a few hundred findings at a time: the
    file is written as it is made, never held whole."""
    report = evaluation.report
    policy = evaluation.policy
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "verdict": evaluation.verdict,
        "mode": policy.mode.value,
        "counts": evaluation.counts.as_dict(),
        "counts_by_severity": evaluation.counts.severity_table(),
        "would_block": evaluation.counts.would_block,
        "policy_failures": list(evaluation.policy_failures),
        "warnings": list(evaluation.warnings),
        "report_warnings": list(evaluation.report_warnings),
        "findings": [],  # filled in by `_dump`, one line per finding
        "rules": [_rule(r) for r in evaluation.entries],
        **_remediation(evaluation),
        "policy": {
            "source": policy.source,
            "fail_on": {
                **(_fail_on(policy.fail_on) or {}),
                "budgets": {s.name: n for s, n in policy.fail_on.budgets},
            },
            "ignore_statuses": sorted(s.value for s in policy.ignore_statuses),
            "fail_on_expired": policy.fail_on_expired,
            "lenient_severity": policy.lenient_severity,
            "base_image": {"fail_on": _fail_on(policy.base_image.fail_on)},
        },
        "image": _image(report.image),
        **({"base_image": _base_image(evaluation.base_image)} if evaluation.base_image else {}),
        "scanners": [
            {"name": s.name, "version": s.version, "db_updated_at": s.db_updated_at, "source": s.source}
            for s in report.scanners
        ],
        "sources": list(report.sources),
        "evaluated_at": evaluation.now.isoformat(),
        "tool": {"name": "container-gate", "version": __version__},
    }
    if evaluation.vex_entries:
        doc["rules"] += [vex_rule(r) for r in evaluation.vex_entries]
    if evaluation.baseline is not None:
        doc["baseline"] = baseline_summary(evaluation.baseline)
    doc["policy"].update(policy_extras(evaluation))
    actions, doc["actions"] = doc["actions"], []  # in its place, filled in by `_dump`
    if evaluation.exploit is not None:
        doc["exploit_data"] = exploit_data_json(evaluation.exploit)
    _add_policy_exploit(doc["policy"], policy)
    return _dump(
        doc,
        evaluation.decisions,
        evaluation.plan.action_ids,
        actions,
        _extras(evaluation),
        evaluation.exploit is not None,
    )


# `json.dumps(..., indent=2)` goes through the pure-Python encoder (the C one cannot indent), which
# took most of the gate's time on a report of 100k findings (bench/bench_check.py). Findings, and
# actions (as many as findings, at worst), are written one per line by the C encoder instead; the
# rest of the document stays indented.
_ONE_LINE = json.JSONEncoder(ensure_ascii=False)
_FINDINGS_KEY = '\n  "findings": []'
_ACTIONS_KEY = '\n  "actions": []'


def _dump(
    doc: dict[str, Any],
    decisions: tuple[Decision, ...],
    action_ids: Mapping[FindingKey, str],
    actions: list[dict[str, Any]],
    extras: Callable[[Decision], dict[str, Any]] | None = None,
    with_data: bool = False,
) -> Iterator[bytes]:
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    # Only the top-level keys sit at this indentation, and JSON strings hold no raw newline;
    # `actions` follows `findings` in the document.
    head, rest = text.split(_FINDINGS_KEY, 1)
    middle, tail = rest.split(_ACTIONS_KEY, 1)
    findings = (_with_exploit(d, action_ids, with_data) for d in decisions)
    if extras is not None:
        findings = (row | extras(d) for row, d in zip(findings, decisions, strict=True))
    yield head.encode("utf-8")
    yield from _one_per_line("findings", findings)
    yield middle.encode("utf-8")
    yield from _one_per_line("actions", actions)
    yield tail.encode("utf-8")


_BATCH = 500
"""Items encoded into one chunk: few enough writes, each chunk small."""


def _one_per_line(key: str, items: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """`"key": [` and one item per line, or `"key": []` when there is none."""
    parts = [f'\n  "{key}": [\n    ']
    count = 0
    for item in items:
        if count:
            parts.append(",\n    ")
        parts.append(_ONE_LINE.encode(item))
        count += 1
        if count % _BATCH == 0:
            yield "".join(parts).encode("utf-8")
            parts = []
    if not count:
        yield f'\n  "{key}": []'.encode()
        return
    parts.append("\n  ]")
    yield "".join(parts).encode("utf-8")


def render_error_json(message: str, exit_code: int) -> str:
    """What `--json` holds when the gate could not decide, so no stale pass is left behind."""
    doc = {
        "schema": SCHEMA,
        "verdict": "error",
        "error": {"message": message, "exit_code": exit_code},
        "tool": {"name": "container-gate", "version": __version__},
    }
    return json.dumps(doc, indent=2) + "\n"
