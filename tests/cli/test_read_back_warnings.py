"""`check gate.json`: a decision report read back brings back the warnings of the reports it was
made from (`report_warnings`), exactly once however often it is read back, and none of the run's
own (policy, baseline, data), which the re-check says again as of its own time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import gate.scanners.run
from gate.cli import main as cli
from gate.scanners.ingest import load_report
from tests.support.corpus import corpus_file

SPRING = corpus_file("trivy", "spring4shell-jre11.json.golden")
GOMOD = corpus_file("trivy", "gomod-vex.json.golden")  # 4 findings without a severity: a warning of its own
KEV = corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json")


def check(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["check", *argv, "--ci", "none"])
    out, _ = capsys.readouterr()
    return code, out


def decision(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def policy(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text("version: 1\n" + text, encoding="utf-8")
    return path


def test_the_report_warnings_are_the_reports_own_and_warnings_stay_all_of_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    advisory = policy(tmp_path, "advisory.yaml", "mode: advisory\n")
    out = tmp_path / "gate.json"
    check([str(GOMOD), "--policy", str(advisory), "--json", str(out)], capsys)
    doc = decision(out)
    (own,) = doc["report_warnings"]
    assert own.endswith(
        "4 finding(s) have no severity at all (none given, no CVSS score, no vendor severity) and count as UNKNOWN"
    )
    assert doc["warnings"][0].startswith(f"{advisory}: mode: advisory")
    assert doc["warnings"][1:] == [own]


def test_a_report_read_back_twice_keeps_its_reports_warnings_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, third = (tmp_path / name for name in ("gate.json", "gate2.json", "gate3.json"))
    check([str(GOMOD), "--json", str(first)], capsys)
    own = decision(first)["report_warnings"]
    assert len(own) == 1
    check([str(first), "--json", str(second)], capsys)
    check([str(second), "--json", str(third)], capsys)
    for path in (second, third):
        assert decision(path)["report_warnings"] == own, path
        assert decision(path)["warnings"] == own, path


def test_a_baselines_age_said_by_the_first_run_is_not_said_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Read back ten days later, the baseline is older: only this run's sentence is true.
    rules = policy(tmp_path, "policy.yaml", "baseline: {max_age_days: 1}\n")
    baseline, first, again = tmp_path / "baseline.json", tmp_path / "gate.json", tmp_path / "again.json"
    check([str(SPRING), "--json", str(baseline), "--as-of", "2026-01-01"], capsys)
    argv = ["--policy", str(rules), "--baseline", str(baseline)]
    check([str(SPRING), *argv, "--json", str(first), "--as-of", "2026-01-10"], capsys)
    assert any("is 9 days old" in w for w in decision(first)["warnings"])
    _, out = check([str(first), *argv, "--json", str(again), "--as-of", "2026-01-20"], capsys)
    said = [w for w in decision(again)["warnings"] if "days old" in w]
    assert said == [
        f"the baseline {baseline} is 19 days old (baseline.max_age_days: 1): refresh it from the default branch"
    ]
    assert out.count("days old") == 1
    assert decision(again)["report_warnings"] == []


def test_the_first_runs_policy_warnings_do_not_come_back_under_another_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    advisory = policy(tmp_path, "advisory.yaml", "mode: advisory\n")
    first, again = tmp_path / "gate.json", tmp_path / "again.json"
    check([str(SPRING), "--policy", str(advisory), "--json", str(first)], capsys)
    assert any("mode: advisory" in w for w in decision(first)["warnings"])
    code, out = check([str(first), "--json", str(again)], capsys)
    assert code == 1  # the default policy enforces
    assert decision(again)["warnings"] == []
    assert "advisory" not in out


def test_a_baseline_not_read_by_the_first_run_is_not_said_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, again = tmp_path / "gate.json", tmp_path / "again.json"
    missing = tmp_path / "missing.json"
    check([str(SPRING), "--baseline", str(missing), "--json", str(first)], capsys)
    assert any(w.startswith("baseline not used") for w in decision(first)["warnings"])
    check([str(first), "--json", str(again)], capsys)
    assert decision(again)["warnings"] == []


def test_a_report_of_an_earlier_release_still_leaves_out_the_first_runs_data_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without `report_warnings`, the sentences about the data's age are known and left out, the
    # reports' own warnings kept.
    rules = policy(
        tmp_path,
        "policy.yaml",
        "fail_on: {severity: HIGH, known_exploited: true}\nexploit_data: {max_age_days: 30}\n",
    )
    first, again = tmp_path / "gate.json", tmp_path / "again.json"
    check(
        [
            str(GOMOD),
            "--policy",
            str(rules),
            "--kev",
            str(KEV),
            "--json",
            str(first),
            "--as-of",
            "2026-09-30",
        ],
        capsys,
    )
    doc = decision(first)
    assert any("is 54 days old" in w for w in doc["warnings"])
    own = doc.pop("report_warnings")
    first.write_text(json.dumps(doc), encoding="utf-8")
    check([str(first), "--policy", str(rules), "--json", str(again), "--as-of", "2026-10-30"], capsys)
    warnings = decision(again)["warnings"]
    assert [w for w in warnings if "days old" in w] == [
        w for w in warnings if w.startswith(f"the KEV catalog in {first.name} is 84 days old")
    ]
    assert len([w for w in warnings if "days old" in w]) == 1
    assert decision(again)["report_warnings"] == own


def test_the_first_runs_missing_kev_data_is_said_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first run had no KEV data for its rule and said so; the re-check says it once.
    strict = policy(tmp_path, "policy.yaml", "fail_on: {severity: CRITICAL, known_exploited: true}\n")
    first, again = tmp_path / "gate.json", tmp_path / "again.json"
    check([str(SPRING), "--policy", str(strict), "--json", str(first)], capsys)
    check([str(first), "--policy", str(strict), "--json", str(again)], capsys)
    assert [w for w in decision(again)["warnings"] if "no KEV data" in w] == [
        w for w in decision(first)["warnings"] if "no KEV data" in w
    ]
    assert len([w for w in decision(again)["warnings"] if "no KEV data" in w]) == 1


def test_a_scan_option_not_used_is_not_said_again_on_read_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate.scanners.run, "scan", lambda *_a, **_k: load_report(GOMOD))
    first, again = tmp_path / "gate.json", tmp_path / "again.json"
    argv = [
        "scan",
        "docker-archive:app.tar",
        "--scanner",
        "grype",
        "--db-repository",
        "ghcr.io/acme/trivy-db",
    ]
    cli.main([*argv, "--ci", "none", "--json", str(first)])
    doc = decision(first)
    (own,) = doc["report_warnings"]
    assert doc["warnings"] == [
        own,
        "--db-repository is for Trivy, which --scanner grype does not run: not used",
    ]
    check([str(first), "--json", str(again)], capsys)
    assert decision(again)["warnings"] == [own]


def test_a_report_of_an_earlier_release_leaves_out_the_first_runs_baseline_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without `report_warnings`, the baseline's sentences are known too: read back ten days
    # later, and again, only the new run's age is said, and the reports' own warning stays once.
    rules = policy(tmp_path, "policy.yaml", "baseline: {max_age_days: 1}\n")
    baseline, first = tmp_path / "baseline.json", tmp_path / "gate.json"
    again, third = tmp_path / "again.json", tmp_path / "third.json"
    check([str(SPRING), "--json", str(baseline), "--as-of", "2026-01-01"], capsys)
    argv = ["--policy", str(rules), "--baseline", str(baseline)]
    check([str(GOMOD), *argv, "--json", str(first), "--as-of", "2026-01-10"], capsys)
    doc = decision(first)
    assert any("is 9 days old" in w for w in doc["warnings"])
    own = doc.pop("report_warnings")
    first.write_text(json.dumps(doc), encoding="utf-8")
    check([str(first), *argv, "--json", str(again), "--as-of", "2026-01-20"], capsys)
    check([str(again), *argv, "--json", str(third), "--as-of", "2026-01-20"], capsys)
    for path in (again, third):
        assert [w for w in decision(path)["warnings"] if "days old" in w] == [
            f"the baseline {baseline} is 19 days old (baseline.max_age_days: 1): refresh it from the default branch"
        ], path
        assert decision(path)["report_warnings"] == own, path


def test_a_report_of_an_earlier_release_leaves_out_its_policys_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Made under an advisory policy, read back under the default one, which fails: the first
    # policy's "never fails the gate" is not said of this run.
    advisory = policy(tmp_path, "advisory.yaml", "mode: advisory\n")
    first, again = tmp_path / "gate.json", tmp_path / "again.json"
    check([str(GOMOD), "--policy", str(advisory), "--json", str(first)], capsys)
    doc = decision(first)
    own = doc.pop("report_warnings")
    assert doc["warnings"][0].startswith(f"{advisory}: mode: advisory: ")
    assert doc["warnings"][1:] == own
    first.write_text(json.dumps(doc), encoding="utf-8")
    _, out = check([str(first), "--json", str(again)], capsys)
    assert decision(again)["warnings"] == own
    assert "advisory" not in out
