"""The JSON decision report (`--json`): the contract other tools read.

Schema `container-gate/decision/v1` (docs/architecture.md, docs/report-format.md). Fields are only ever added, never renamed
or removed; consumers must ignore fields they do not know.
"""

from __future__ import annotations

import json
from typing import Any

from gate import __version__
from gate.model import Finding, ImageInfo, Layer
from gate.policy.evaluation import Decision, EntryReport, Evaluation

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


def _finding(decision: Decision) -> dict[str, Any]:
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
        "line": e.line,
    }


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


def render_json(evaluation: Evaluation) -> str:
    """The decision report as indented JSON text."""
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
        "warnings": list(report.warnings),
        "findings": [],  # filled in by `_dump`, one line per finding
        "rules": [_rule(r) for r in evaluation.entries],
        "policy": {
            "source": policy.source,
            "fail_on": {
                "severity": policy.fail_on.severity.name,
                "fixable_only": policy.fail_on.fixable_only,
                "cvss_score": policy.fail_on.cvss_score,
                "budgets": {s.name: n for s, n in policy.fail_on.budgets},
            },
            "ignore_statuses": sorted(s.value for s in policy.ignore_statuses),
            "fail_on_expired": policy.fail_on_expired,
            "lenient_severity": policy.lenient_severity,
        },
        "image": _image(report.image),
        "scanners": [
            {"name": s.name, "version": s.version, "db_updated_at": s.db_updated_at, "source": s.source}
            for s in report.scanners
        ],
        "sources": list(report.sources),
        "evaluated_at": evaluation.now.isoformat(),
        "tool": {"name": "container-gate", "version": __version__},
    }
    return _dump(doc, evaluation.decisions)


# `json.dumps(..., indent=2)` goes through the pure-Python encoder (the C one cannot indent), which
# took most of the gate's time on a report of 100k findings (bench/bench_check.py). Findings are
# written one per line by the C encoder instead; the rest of the document stays indented.
_ONE_LINE = json.JSONEncoder(ensure_ascii=False)
_FINDINGS_KEY = '\n  "findings": []'


def _dump(doc: dict[str, Any], decisions: tuple[Decision, ...]) -> str:
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if not decisions:
        return text
    # Only the top-level key sits at this indentation, and JSON strings hold no raw newline.
    head, tail = text.split(_FINDINGS_KEY, 1)
    parts = [head, '\n  "findings": [\n    ']
    for index, decision in enumerate(decisions):
        if index:
            parts.append(",\n    ")
        parts.append(_ONE_LINE.encode(_finding(decision)))
    parts += ["\n  ]", tail]
    return "".join(parts)


def render_error_json(message: str, exit_code: int) -> str:
    """What `--json` holds when the gate could not decide, so no stale pass is left behind."""
    doc = {
        "schema": SCHEMA,
        "verdict": "error",
        "error": {"message": message, "exit_code": exit_code},
        "tool": {"name": "container-gate", "version": __version__},
    }
    return json.dumps(doc, indent=2) + "\n"
