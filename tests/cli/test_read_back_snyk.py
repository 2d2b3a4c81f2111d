"""A Snyk application report and its decision report read back plan the same actions: the upgrade
of the direct dependency Snyk names (`Upgrade express 2.5.11 -> 3.11.0 (fixes ..., qs ...)`), not
of the package pulled in through it, in `check`, `compare`, `explain`, a `--baseline` run and a
merge of decision reports.

The corpus's report reaches `qs`, `mime` and `connect` through `express > connect` too, a path on
which Snyk keeps `express` (so each of them is its own upgrade there); without those paths, the
upgrade of `express` is named on every path (`snyk_app_without_connect_paths`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.support.corpus import corpus_file, snyk_app_without_connect_paths
from tests.support.repo_paths import PROJECT_ROOT

# The two ungrouped forms of the corpus's container report with an npm application (the one of
# `--group-issues` names another upgrade: see test_a_grouped_report_names_the_upgrade_of_its_first_path).
SNYK = ["container-app-vulns__results.json", "container-app-vulns__resultJsonDataNonGrouped.json"]
STRICT = ["--policy", str(PROJECT_ROOT / "policies/strict.yaml")]
WANT = (
    "Upgrade express 2.5.11 -> 3.11.0 (fixes connect 1.9.2 -> 2.8.2, mime 1.2.4 -> 1.4.1, qs 0.4.2 -> 6.0.4)"
)


def _app(tmp_path: Path, name: str = SNYK[0]) -> Path:
    """The corpus report `name` without its paths through `express > connect`, as a file."""
    path = tmp_path / f"snyk-{name}"
    path.write_text(json.dumps(snyk_app_without_connect_paths(name)), encoding="utf-8")
    return path


def _check(
    reports: list[Path], tmp_path: Path, name: str, *args: str, code: ExitCode = ExitCode.FAIL
) -> tuple[str, dict[str, Any]]:
    """`check` of `reports`: its Markdown and its JSON report."""
    out_json, out_md = tmp_path / f"{name}.json", tmp_path / f"{name}.md"
    argv = ["check", *map(str, reports), "--ci", "none", "--json", str(out_json), "--markdown", str(out_md)]
    assert main([*argv, *args]) == code
    return out_md.read_text(encoding="utf-8"), json.loads(out_json.read_text(encoding="utf-8"))


def _summary(capsys: pytest.CaptureFixture[str]) -> str:
    """The terminal summary up to the explain command, which names the report."""
    out = capsys.readouterr().out
    return out.split("why one blocks")[0]


def _plan(doc: dict[str, Any]) -> tuple[object, ...]:
    return doc["actions"], doc["no_fix"], [f["action"] for f in doc["findings"]]


@pytest.mark.parametrize("name", SNYK)
@pytest.mark.parametrize("policy", [[], STRICT], ids=["default", "strict"])
def test_check_of_the_decision_report_plans_what_check_of_the_snyk_report_planned(
    name: str, policy: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snyk = _app(tmp_path, name)
    markdown, doc = _check([snyk], tmp_path, "first", *policy)
    summary = _summary(capsys)
    assert " ".join(WANT.split()) in " ".join(summary.split())
    markdown_again, again = _check([tmp_path / "first.json"], tmp_path, "again", *policy)
    assert _summary(capsys) == summary
    assert markdown_again == markdown
    assert _plan(again) == _plan(doc)
    # Written again as they were read: a report read back any number of times plans the same.
    assert [f.get("direct_upgrades") for f in again["findings"]] == [
        f.get("direct_upgrades") for f in doc["findings"]
    ]


def test_the_findings_say_the_upgrades_of_their_direct_dependency(tmp_path: Path) -> None:
    _, doc = _check([_app(tmp_path)], tmp_path, "first")
    rows = {(f["vulnerability_id"], f["package"]): f for f in doc["findings"]}
    qs = rows[("CVE-2017-1000048", "qs")]
    assert qs["direct_upgrades"] == [
        {"package": "express", "installed_version": "2.5.11", "target_version": "3.0.0"}
    ]
    assert "no_direct_upgrade" not in qs
    # A direct dependency and an OS package have neither member.
    express = next(f for f in doc["findings"] if f["package"] == "express")
    busybox = next(f for f in doc["findings"] if f["package"] == "busybox")
    for row in (express, busybox):
        assert "direct_upgrades" not in row
        assert "no_direct_upgrade" not in row


def test_a_baseline_run_and_a_merge_of_decision_reports_plan_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snyk = _app(tmp_path)
    _, doc = _check([snyk], tmp_path, "first", *STRICT)
    summary = _summary(capsys)
    first = tmp_path / "first.json"
    # Nothing is new beside the baseline, so nothing blocks: the actions are what would.
    runs = []
    for report in (snyk, first):
        _, run = _check([report], tmp_path, "baseline", *STRICT, "--baseline", str(first), code=ExitCode.PASS)
        runs.append((_summary(capsys), _plan(run)))
    assert runs[1] == runs[0]
    assert "express" in [action["package"] for action in run["actions"]]
    copy = tmp_path / "copy.json"
    shutil.copyfile(first, copy)
    _, merged = _check([first, copy], tmp_path, "merged", *STRICT)
    assert _summary(capsys) == summary
    assert _plan(merged) == _plan(doc)


def test_compare_counts_the_same_actions_for_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snyk = _app(tmp_path)
    _check([snyk], tmp_path, "first", *STRICT)
    capsys.readouterr()
    table = tmp_path / "compare.json"
    refs = [f"snyk={snyk}", f"decision={tmp_path / 'first.json'}"]
    assert main(["compare", *refs, *STRICT, "--json", str(table)]) == ExitCode.PASS
    capsys.readouterr()
    snyk_row, decision_row = json.loads(table.read_text(encoding="utf-8"))["images"]
    # Under the strict policy express's, connect's, mime's and qs's findings block: one upgrade.
    assert snyk_row["actions"] == 2
    assert {key: value for key, value in decision_row.items() if key != "reference"} == {
        key: value for key, value in snyk_row.items() if key != "reference"
    }


def test_explain_names_the_same_upgrade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snyk = _app(tmp_path)
    _check([snyk], tmp_path, "first")
    capsys.readouterr()
    said = []
    for report in (snyk, tmp_path / "first.json"):
        main(["explain", "CVE-2017-1000048", "--report", str(report)])
        said.append(capsys.readouterr().out)
    assert said[0] == said[1]
    assert " ".join(f"to fix it: {WANT}".split()) in " ".join(said[1].split())


def test_a_grouped_report_names_the_upgrade_of_its_first_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # With --group-issues, Snyk gives one upgradePath for all of an issue's paths, that of the
    # first: for qs, express@2.5.11 -> connect@1.9.2 -> qs@1.0.0, in which express stays. It names
    # no express upgrade for the path express@2.5.11 -> qs@0.4.2, which the ungrouped form names
    # (express@3.0.0): qs's own upgrade is all the data backs. Its decision report plans the same.
    grouped = corpus_file("snyk", "container-app-vulns__resultJsonDataGrouped.json")
    markdown, doc = _check([grouped], tmp_path, "first")
    summary = _summary(capsys)
    assert "Upgrade qs 0.4.2 -> 6.0.4" in summary
    markdown_again, again = _check([tmp_path / "first.json"], tmp_path, "again")
    assert _summary(capsys) == summary
    assert markdown_again == markdown
    assert _plan(again) == _plan(doc)
