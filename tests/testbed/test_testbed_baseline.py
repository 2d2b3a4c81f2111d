"""The issue's target on the demo image: with the default branch's decision report as the
baseline, a pull request that adds one fixable HIGH finding to an image that already had 70
blocking ones fails on exactly that one; without the baseline file, the warning and the full
verdict.

The demo app is gated once with the real Trivy, offline (the `demo` fixture of
tests/support/demo_app.py); its decision report is the baseline. The pull request's report is
that decision report with one more finding: Werkzeug's CVE-2019-14806 (HIGH, fixed in 0.15.3) as Trivy reports
it in tests/data/corpus/trivy (pip.json.golden), in the form the gate's decision report keeps it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.support.corpus import corpus_file
from tests.support.demo_app import Gated, demo

__all__ = ["demo"]  # the fixture, gated once for this module


def added_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out = tmp_path / "pip.json"
    main(["check", str(corpus_file("trivy", "pip.json.golden")), "--json", str(out), "--ci", "none"])
    capsys.readouterr()
    (werkzeug,) = [
        f for f in json.loads(out.read_text())["findings"] if f["vulnerability_id"] == "CVE-2019-14806"
    ]
    assert (werkzeug["severity"], werkzeug["fixed_versions"]) == ("HIGH", ["0.15.3"])
    return dict(werkzeug)


def test_a_pull_request_adding_one_fixable_high_fails_on_exactly_that_one(
    demo: Gated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.report["counts"]["blocking"] == 70
    baseline = tmp_path / "main.json"
    baseline.write_text(json.dumps(demo.report), encoding="utf-8")
    pull_request = json.loads(json.dumps(demo.report))
    pull_request["findings"].append(added_finding(tmp_path, capsys))
    pr = tmp_path / "pr.json"
    pr.write_text(json.dumps(pull_request), encoding="utf-8")

    out = tmp_path / "gate.json"
    code = main(["check", str(pr), "--baseline", str(baseline), "--json", str(out), "--ci", "none"])
    terminal = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert code == ExitCode.FAIL
    blocking = [
        (f["vulnerability_id"], f["package"]) for f in report["findings"] if f["disposition"] == "blocking"
    ]
    assert blocking == [("CVE-2019-14806", "Werkzeug")]
    assert report["would_block"] == 1
    assert report["baseline"]["counts"] == {
        "new": 1,
        "unchanged": len(demo.report["findings"]),
        "worse": 0,
        "fixed": 0,
    }
    assert sum(1 for f in report["findings"] if f["rule"] == "baseline.fail_on") == 70
    unchanged = len(demo.report["findings"])
    assert terminal.splitlines()[1].startswith(
        f"baseline: 1 new · 0 worse · 0 fixed · {unchanged} unchanged since "
    )
    # The actions count only what can block: one action, for the one new finding.
    assert [(a["id"], a["blocking"]) for a in report["actions"] if a["would_block"]] == [
        ("pypi:Werkzeug@requirements.txt", 1)
    ]

    code = main(
        ["check", str(pr), "--baseline", str(tmp_path / "gone.json"), "--json", str(out), "--ci", "none"]
    )
    terminal = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert code == ExitCode.FAIL
    assert report["counts"]["blocking"] == 71
    assert "baseline" not in report
    assert "warning:  baseline not used, the full policy applies:" in terminal
