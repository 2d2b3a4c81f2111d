"""The JSON decision report (`--json`): the contract other tools read.

Schema `container-gate/decision/v1` (docs/architecture.md, docs/report-format.md). Fields are only ever added, never renamed
or removed; consumers must ignore fields they do not know.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from gate import __version__
from gate.model import Cvss, Finding, ImageInfo, Layer, LayerOrigin, ScanReport, Severity, VendorStatus
from gate.policy.actions import Action, ActionKind, FindingKey, Step
from gate.policy.base_status import BaseImageStatus
from gate.policy.evaluation import Decision, Disposition, EntryReport, Evaluation
from gate.policy.model import FailOn, Policy
from gate.render._exploit import exploit_data_json, finding_fields
from gate.render._json_enrichment import baseline_summary, policy_extras, vex_rule
from gate.render._json_enrichment import finding_extras as _extras
from gate.render._json_text import surrogates_escaped

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


def _assessments(f: Finding) -> list[dict[str, Any]]:
    """What each merged report said of a finding (`assessments` in its row)."""
    return [
        {
            "scanner": said.scanner,
            "source": said.source,
            "severity": said.severity.name,
            "status": said.status.value,
            "fixed_versions": list(said.fixed_versions),
        }
        for said in f.assessments
    ]


def entry_json(item: EntryReport) -> dict[str, Any]:
    """An allowlist entry and what it did, as the decision report's `rules` list it."""
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


def _remediation(evaluation: Evaluation, of_index: list[str | None]) -> dict[str, Any]:
    """`actions` and `no_fix`: the plan, its findings named by their position in `findings`
    (each finding names its action back): a position is one number where a finding's identity
    is four strings, and a report can have 100,000 findings. Each action is its row's text
    (`_action_text`), written one per line by `_dump`. `of_index` receives each finding's
    action id (`_positions`)."""
    plan = evaluation.plan
    positions, by_key = _positions(evaluation, of_index)
    no_fix = plan.no_fix
    return {
        "actions": [_action_text(a, positions, by_key) for a in plan.actions],
        "no_fix": {
            "blocking": no_fix.blocking,
            "would_block": no_fix.would_block,
            "counts_by_severity": _flat(no_fix.counts_by_severity),
            "findings": positions.get(None, []),
        },
    }


def _positions(
    evaluation: Evaluation, of_index: list[str | None] | None = None
) -> tuple[dict[str | None, list[int]], dict[FindingKey, list[int]]]:
    """The positions of the findings per action id (None: no action), and per finding key of the
    findings that have an action; `of_index`, when given, receives each finding's action id, in
    the findings' order, for their rows (`_FindingRows.text`), so that no row looks it up again."""
    action_ids = evaluation.plan.action_ids
    positions: dict[str | None, list[int]] = {}
    by_key: dict[FindingKey, list[int]] = {}
    for index, decision in enumerate(evaluation.decisions):
        key = decision.finding.key
        action_id = action_ids.get(key)
        if of_index is not None:
            of_index.append(action_id)
        positions.setdefault(action_id, []).append(index)
        if action_id is not None:
            by_key.setdefault(key, []).append(index)
    return positions, by_key


def _step(s: Step, by_key: Mapping[FindingKey, list[int]]) -> dict[str, Any]:
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


def _flat(counts: Mapping[Severity, int]) -> dict[str, int]:
    return {severity.name: n for severity, n in counts.items()}


def _image(image: ImageInfo | None) -> dict[str, Any] | None:
    if image is None:
        return None
    # `created` only when the scanner's report gave it: added to the report later, so a reader
    # already meets reports without it.
    created = {"created": image.created} if image.created is not None else {}
    return {
        "reference": image.reference,
        "digest": image.digest,
        "image_id": image.image_id,
        "manifest_digest": image.manifest_digest,
        "platform": image.platform,
        "distro": image.distro,
        "size": image.size,
        **created,
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


def base_image_json(status: BaseImageStatus, decisions: Sequence[Decision]) -> dict[str, Any]:
    """The base image check (`scan --check-base`): the base used, its tag now, what a rebuild
    removes, and which findings those are (so that a report read back plans as this run did)."""
    check, removes = status.check, status.removes
    removed = {finding.key for finding in check.removed}
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
        "tag_moved": check.changed if check.checked else None,
        "removed_findings": [i for i, d in enumerate(decisions) if d.finding.key in removed]
        if check.checked
        else None,
    }


def _named_after(report: ScanReport) -> dict[str, str | list[str]]:
    """`named_after`, only for a run without an image named after other files than its `sources`
    (a decision report read back): a report of any other run is as it was. `named_after` is the
    first of them, as it always was; `named_after_all` (added) every one, when there are several."""
    named = report.named_after
    if report.image is not None or not named or named == report.sources:
        return {}
    return {"named_after": named[0], **({"named_after_all": list(named)} if len(named) > 1 else {})}


def render_json(evaluation: Evaluation) -> str:
    """The decision report as indented JSON text (`json_chunks`)."""
    return b"".join(json_chunks(evaluation)).decode("utf-8")


def json_chunks(evaluation: Evaluation) -> Iterator[bytes]:
    """The decision report as indented JSON text, UTF-8, a few hundred findings at a time: the
    file is written as it is made, never held whole."""
    report = evaluation.report
    policy = evaluation.policy
    of_index: list[str | None] = []
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
        "rules": [entry_json(r) for r in evaluation.entries],
        **_remediation(evaluation, of_index),
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
        **(
            {"base_image": base_image_json(evaluation.base_image, evaluation.decisions)}
            if evaluation.base_image
            else {}
        ),
        "scanners": [
            {"name": s.name, "version": s.version, "db_updated_at": s.db_updated_at, "source": s.source}
            for s in report.scanners
        ],
        "sources": list(report.sources),
        **_named_after(report),
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
        actions,
        _extras(evaluation),
        evaluation.exploit is not None,
        of_index,
    )


# `json.dumps(..., indent=2)` goes through the pure-Python encoder (the C one cannot indent), which
# took most of the gate's time on a report of 100k findings (bench/bench_check.py). Findings, and
# actions (as many as findings, at worst), are written one per line instead, as the C encoder
# writes them (`_FindingRows`, `_action_text`); the rest of the document stays indented.
_ONE_LINE = json.JSONEncoder(ensure_ascii=False)
_FINDINGS_KEY = '\n  "findings": []'
_ACTIONS_KEY = '\n  "actions": []'


def _dump(
    doc: dict[str, Any],
    decisions: tuple[Decision, ...],
    actions: list[str],
    extras: Callable[[Decision], dict[str, Any]] | None,
    with_data: bool,
    of_index: Sequence[str | None],
) -> Iterator[bytes]:
    # The report's path (`sources`) comes from the command line, where it need not be UTF-8.
    text = surrogates_escaped(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
    # Only the top-level keys sit at this indentation, and JSON strings hold no raw newline;
    # `actions` follows `findings` in the document.
    head, rest = text.split(_FINDINGS_KEY, 1)
    middle, tail = rest.split(_ACTIONS_KEY, 1)
    rows = _FindingRows()
    findings = (rows.text(d, with_data, extras, a) for d, a in zip(decisions, of_index, strict=True))
    yield head.encode("utf-8")
    yield from _one_per_line("findings", findings)
    yield middle.encode("utf-8")
    yield from _one_per_line("actions", actions)
    yield tail.encode("utf-8")


# A finding's row is written as text, as `_ONE_LINE` would write the dict of its members (in
# docs/report-format.md's order, then its exploitability and enrichment members): building a dict
# of two dozen members for each finding only to have the encoder walk it, its keys escaped again
# each time, took more than half of the JSON report's time. Strings go
# through the encoder's own escaping function, and the parts many findings share (lists of ids and
# versions, the CVSS block, the layer, the rule) are written once per report.
# tests/render/test_json.py keeps that dict as the reference, and compares the rows with the
# encoder's text of it on hostile values.
_STRING: Callable[[str], str] = json.encoder.encode_basestring
_SEVERITY_TEXT = {severity: _STRING(severity.name) for severity in Severity}


_SHARED_TEXTS = 1 << 14
"""Distinct reasons, titles and links a report's rows keep escaped (`_FindingRows.texts`)."""


def _optional(value: str | None) -> str:
    return "null" if value is None else _STRING(value)


class _FindingRows:
    """The findings' rows of one report, with the text of the parts they share."""

    def __init__(self) -> None:
        self.lists: dict[tuple[str, ...], str] = {}
        self.cvss: dict[tuple[type, float, str | None, str | None], str] = {}
        # Keyed by identity, the object kept with its text so its identity is not reused:
        # hashing these frozen dataclasses and enums runs in Python, and a report holds few of them.
        self.layers: dict[int, tuple[Layer, str]] = {}
        self.rules: dict[int, tuple[object, str]] = {}
        self.enums: dict[int, tuple[object, str]] = {}
        # The reasons, titles and links, which many findings share (a policy's few reasons, a
        # vulnerability's title in each of its packages), each escaped once; up to
        # `_SHARED_TEXTS` of them, so that a report of distinct texts keeps no more.
        self.texts: dict[str, str] = {}

    def _text(self, text: str) -> str:
        """`_STRING(text)`, kept for the next finding with the same text."""
        escaped = _STRING(text)
        if len(self.texts) < _SHARED_TEXTS:
            self.texts[text] = escaped
        return escaped

    def _list(self, items: tuple[str, ...]) -> str:
        text = self.lists.get(items)
        if text is None:
            text = self.lists[items] = _strings(items)
        return text

    def _enum(self, member: VendorStatus | Disposition) -> str:
        cached = self.enums.get(id(member))
        if cached is None:
            cached = self.enums[id(member)] = (member, _STRING(member.value))
        return cached[1]

    def _rule(self, rule: object) -> str:
        cached = self.rules.get(id(rule))
        if cached is None or cached[0] is not rule:
            cached = self.rules[id(rule)] = (rule, _STRING(str(rule)))
        return cached[1]

    def _layer(self, layer: Layer | None) -> str:
        if layer is None:
            return "null"
        cached = self.layers.get(id(layer))
        if cached is None or cached[0] is not layer:
            cached = self.layers[id(layer)] = (layer, _ONE_LINE.encode(_layer(layer)))
        return cached[1]

    def _cvss(self, cvss: Cvss | None) -> str:
        if cvss is None:
            return "null"
        # The score's type is in the key, as 7 and 7.0 are one key and two texts; so are 0.0 and
        # -0.0, which are not kept.
        key = (type(cvss.score), cvss.score, cvss.vector, cvss.source)
        text = self.cvss.get(key)
        if text is None:
            text = _ONE_LINE.encode({"score": cvss.score, "vector": cvss.vector, "source": cvss.source})
            if cvss.score:
                self.cvss[key] = text
        return text

    def text(
        self,
        decision: Decision,
        with_data: bool,
        extras: Callable[[Decision], dict[str, Any]] | None,
        action_id: str | None,
    ) -> str:
        """The finding's row: its members, then its exploitability fields (`finding_fields`), then
        `extras(decision)`, as `_ONE_LINE` writes them. `action_id`: the finding's action
        (`_positions`), or None."""
        f: Finding = decision.finding
        pkg = f.package
        lists = self._list
        texts = self.texts
        title, url = f.title, f.primary_url
        title_text = "null" if title is None else texts.get(title) or self._text(title)
        url_text = "null" if url is None else texts.get(url) or self._text(url)
        assessments = _ONE_LINE.encode(_assessments(f)) if f.assessments else "[]"
        text = (
            f'{{"vulnerability_id": {_STRING(f.vulnerability_id)}, "aliases": {lists(f.aliases)}, '
            f'"package": {_STRING(pkg.name)}, "installed_version": {_STRING(pkg.version)}, '
            f'"fixed_versions": {lists(f.fixed_versions)}, "severity": {_SEVERITY_TEXT[f.severity]}, '
            f'"status": {self._enum(f.status)}, "disposition": {self._enum(decision.disposition)}, '
            f'"reason": {texts.get(decision.reason) or self._text(decision.reason)}, "rule": {self._rule(decision.rule)}, '
            f'"would_block": {"true" if decision.would_block else "false"}, '
            f'"package_type": {_STRING(pkg.type)}, "purl": {_optional(pkg.purl)}, '
            f'"path": {_STRING(pkg.path)}, "source_package": {_optional(pkg.source_name)}, '
            f'"cvss": {self._cvss(f.cvss)}, "title": {title_text}, '
            f'"primary_url": {url_text}, "layer": {self._layer(f.layer)}, '
            f'"scanners": {lists(f.scanners)}, "action": {"null" if action_id is None else _STRING(action_id)}, '
            f'"assessments": {assessments}{_finding_direct_members(f)}}}'
        )
        extra = finding_fields(decision, with_data)
        if extras is not None:
            extra |= extras(decision)
        if extra:
            # The extra members follow the others, as `dict.update` and `|` put them.
            text = f"{text[:-1]}, {_ONE_LINE.encode(extra)[1:]}"
        return text


def _finding_direct_members(f: Finding) -> str:
    """`direct_upgrades` and `no_direct_upgrade` of a finding, added to the report later: only a
    finding that has them writes them (a library pulled in through a direct dependency, from a
    report that names its paths), so a read-back report plans the upgrade the first run planned."""
    text = ""
    if f.direct_upgrades:
        upgrades = [
            {"package": u.name, "installed_version": u.version, "target_version": u.target}
            for u in f.direct_upgrades
        ]
        text += f', "direct_upgrades": {_ONE_LINE.encode(upgrades)}'
    if f.no_direct_upgrade:
        text += ', "no_direct_upgrade": true'
    return text


# An action's row is written as text too, as `_ONE_LINE` would write the dict of its members (as
# for the findings above): a plan can hold as many actions as the report has findings (57,000 at 100k findings),
# and building their dicts and having the encoder walk them took half of the JSON report's time
# once the findings' rows were text. tests/render/test_json.py keeps that dict as the reference.
_KIND_TEXT = {kind: _STRING(kind.value) for kind in ActionKind}
_ORIGIN_TEXT: dict[LayerOrigin | None, str] = {None: "null"} | {o: _STRING(o.value) for o in LayerOrigin}
_COUNT_KEY = {severity: _STRING(severity.name) + ": " for severity in Severity}


def _strings(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(map(_STRING, items)) + "]" if items else "[]"


def _counts(counts: Mapping[Severity, int]) -> str:
    """`_ONE_LINE.encode(_flat(counts))`."""
    if not counts:
        return "{}"
    return "{" + ", ".join([_COUNT_KEY[severity] + str(n) for severity, n in counts.items()]) + "}"


def _action_text(
    a: Action, positions: Mapping[str | None, list[int]], by_key: Mapping[FindingKey, list[int]]
) -> str:
    """The action's row: its members in docs/report-format.md's order, as `_ONE_LINE` writes them."""
    findings = positions.get(a.id)
    steps = _ONE_LINE.encode([_step(s, by_key) for s in a.steps]) if a.steps else "[]"
    base_findings = str(a.base_findings) if a.kind is ActionKind.BASE_REFRESH else "null"
    line = "null" if a.dockerfile_line is None else str(a.dockerfile_line)
    return (
        f'{{"id": {_STRING(a.id)}, "kind": {_KIND_TEXT[a.kind]}, "package": {_STRING(a.package)}, '
        f'"packages": {_strings(a.packages)}, "origin": {_ORIGIN_TEXT[a.origin]}, '
        f'"ecosystem": {_optional(a.ecosystem)}, "path": {_STRING(a.path)}, '
        f'"installed_version": {_optional(a.installed_version)}, '
        f'"target_version": {_optional(a.target_version)}, "dockerfile_line": {line}, '
        f'"blocking": {a.blocking}, "would_block": {a.would_block}, '
        f'"counts_by_severity": {_counts(a.counts_by_severity)}, '
        f'"blocking_by_severity": {_counts(a.blocking_by_severity)}, "command": {_optional(a.command)}, '
        f'"findings": {"[" + ", ".join(map(str, findings)) + "]" if findings else "[]"}, '
        f'"steps": {steps}, "estimated": {"true" if a.estimated else "false"}, '
        f'"base_findings": {base_findings}{_direct_members(a)}}}'
    )


def _direct_members(a: Action) -> str:
    """`fixes` and `no_direct_upgrade`, added to the report later: only an action that has them
    writes them, so a reader already meets actions without them."""
    text = ""
    if a.fixes:
        fixes = [
            {
                "package": f.package,
                "installed_version": f.installed_version,
                "target_version": f.target_version,
            }
            for f in a.fixes
        ]
        text += f', "fixes": {_ONE_LINE.encode(fixes)}'
    if a.no_direct_upgrade:
        text += ', "no_direct_upgrade": true'
    return text


_BATCH = 500
"""Items encoded into one chunk: few enough writes, each chunk small."""


def _one_per_line(key: str, items: Iterable[str]) -> Iterator[bytes]:
    """`"key": [` and one item (its JSON text) per line, or `"key": []` when there is none."""
    parts = [f'\n  "{key}": [\n    ']
    count = 0
    for item in items:
        if count:
            parts.append(",\n    ")
        parts.append(item)
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
