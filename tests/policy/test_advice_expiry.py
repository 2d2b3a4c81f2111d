"""An allowlist entry that expires more than a year after the run's date: it never comes back for
review (gate/policy/advice_run.py). A warning of `policy validate` and every run, never an error:
the entry applies until its date, the verdict stays what it was."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.policy.advice_run import far_expiry_warnings
from gate.policy.load import load_policy_text
from tests.support.corpus import corpus_file
from tests.support.factories import NOW

PIP = corpus_file("trivy", "pip.json.golden")
"""Trivy's report of Python packages: Werkzeug with CVE-2019-14806 (HIGH) and CVE-2020-28724 (MEDIUM)."""


FAR = "version: 1\nallowlist:\n  - vulnerability: CVE-2019-14806\n    reason: r\n    expires: {date}\n"


@pytest.mark.parametrize(
    ("today", "expires", "far"),
    [
        ("2026-03-14", "2027-03-14", False),  # a year to the day: reviewed within the year
        ("2026-03-14", "2027-03-15", True),
        ("2026-03-14", "2099-12-31", True),
        ("2028-02-29", "2029-02-28", False),  # a year after the 29th of February
        ("2028-02-29", "2029-03-01", True),
        ("2030-01-01", "2030-01-31", False),
    ],
)
def test_an_expiry_more_than_a_year_away_is_a_warning(today: str, expires: str, far: bool) -> None:
    policy = load_policy_text(FAR.format(date=expires), "p.yaml")
    said = (
        f"p.yaml: allowlist[0] (line 3): expires on {expires}, more than a year after {today}, so the "
        "exception does not come back for review: give it a date within a year, and renew it then if it "
        "still holds"
    )
    assert far_expiry_warnings(policy, dt.date.fromisoformat(today)) == ((said,) if far else ())


def test_an_entry_without_expires_or_expired_is_no_far_expiry() -> None:
    never = load_policy_text("version: 1\nallowlist:\n  - vulnerability: CVE-1\n    reason: r\n", "p.yaml")
    assert far_expiry_warnings(never, NOW.date()) == ()
    gone = load_policy_text(FAR.format(date="2020-01-31"), "p.yaml")
    assert far_expiry_warnings(gone, NOW.date()) == ()


def test_a_far_expiry_is_said_by_validate_check_and_explain_by_the_runs_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(FAR.format(date="2030-01-31"), encoding="utf-8")
    said = (
        f"{policy}: allowlist[0] (line 3): expires on 2030-01-31, more than a year after 2026-12-01, so "
        "the exception does not come back for review: give it a date within a year, and renew it then if "
        "it still holds"
    )
    as_of = ["--as-of", "2026-12-01"]
    assert cli.main(["policy", "validate", str(policy), *as_of]) == ExitCode.PASS
    assert capsys.readouterr().out.splitlines() == [f"{policy}: valid policy (version 1)", f"warning: {said}"]
    # A year before it ends, the exception is reviewed in time: nothing to say.
    assert cli.main(["policy", "validate", str(policy), "--as-of", "2029-02-01"]) == ExitCode.PASS
    assert capsys.readouterr().out.splitlines() == [f"{policy}: valid policy (version 1)"]
    out = tmp_path / "gate.json"
    # The entry applies: the verdict is what it was, the warning is beside it.
    argv = ["check", str(PIP), "--policy", str(policy), "--ci", "none", "--json", str(out), *as_of]
    assert cli.main(argv) == ExitCode.PASS  # the one HIGH finding is allowlisted
    decision = json.loads(out.read_text())
    assert said in decision["warnings"]
    assert [f["disposition"] for f in decision["findings"] if f["vulnerability_id"] == "CVE-2019-14806"] == [
        "allowlisted"
    ]
    capsys.readouterr()
    assert cli.main(["explain", "CVE-2019-14806", "--report", str(PIP), "--policy", str(policy), *as_of]) == 0
    assert "more than a year after 2026-12-01" in " ".join(capsys.readouterr().out.split())
