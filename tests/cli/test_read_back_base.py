"""`check gate.json` and `explain --report gate.json` on the decision report of a run with the base
image check (`scan --check-base`): the report read back says what that run said, its base image
line and the actions the check made (the fork comment is this `check`)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.render.json import render_json
from gate.render.markdown import render_markdown
from gate.render.terminal import CommandPart, render_terminal
from tests.support.base_checks import AS_OF, CHECKS, NAME, STALE_FAILS, checked_run


@pytest.mark.parametrize("kind", list(CHECKS))
def test_a_report_read_back_says_what_its_run_said(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = checked_run(CHECKS[kind])
    gate_json, again_json, markdown = tmp_path / "gate.json", tmp_path / "again.json", tmp_path / "gate.md"
    gate_json.write_text(render_json(original), encoding="utf-8")
    argv = ["check", str(gate_json), "--ci", "none", "--as-of", AS_OF]
    code = cli.main([*argv, "--markdown", str(markdown), "--json", str(again_json)])
    out, _ = capsys.readouterr()
    assert code == ExitCode.FAIL
    # The summary's `explain` command names the report read back, not the run's.
    explain = [
        CommandPart("container-gate explain ID", "container-gate explain ID"),
        CommandPart(f"--report {shlex.quote(str(gate_json))}", "--report REPORT"),
        CommandPart(f"--as-of {AS_OF}", "--as-of DATE"),
    ]
    assert out == render_terminal(original, str(again_json), explain=explain)
    assert markdown.read_text(encoding="utf-8") == render_markdown(original)
    first, again = json.loads(gate_json.read_text()), json.loads(again_json.read_text())
    assert again["base_image"] == first["base_image"]
    assert again["actions"] == first["actions"]
    assert again["no_fix"] == first["no_fix"]
    assert [f["action"] for f in again["findings"]] == [f["action"] for f in first["findings"]]


def test_the_report_says_which_findings_a_rebuild_removes() -> None:
    doc = json.loads(render_json(checked_run(CHECKS["stale"])))
    assert (doc["base_image"]["tag_moved"], doc["base_image"]["removed_findings"]) == (True, [0, 1, 2])
    doc = json.loads(render_json(checked_run(CHECKS["current"])))
    assert (doc["base_image"]["tag_moved"], doc["base_image"]["removed_findings"]) == (False, [])
    doc = json.loads(render_json(checked_run(CHECKS["not checked"])))
    assert (doc["base_image"]["tag_moved"], doc["base_image"]["removed_findings"]) == (None, None)


def test_explain_names_the_action_the_check_made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gate_json = tmp_path / "gate.json"
    gate_json.write_text(render_json(checked_run(CHECKS["stale"])), encoding="utf-8")
    argv = ["--report", str(gate_json), "--as-of", AS_OF]
    cli.main(["explain", "CVE-2024-4", *argv])
    still_there, _ = capsys.readouterr()
    assert "to fix it:   Upgrade zlib1g 3.0.2-1 -> 1:1.2.13-2" in still_there
    cli.main(["explain", "CVE-2024-3", *argv])
    removed, _ = capsys.readouterr()
    assert f"to fix it:   Rebuild on a refreshed base image {NAME}" in removed


@pytest.mark.parametrize("kind", ["stale", "not checked"])
def test_a_report_of_an_earlier_release_without_the_findings_is_read_as_before(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # It does not say which findings a rebuild removes: the plan is the estimate, and no line is
    # said that the report cannot back, whatever its check found.
    doc = json.loads(render_json(checked_run(CHECKS[kind])))
    for member in ("tag_moved", "removed_findings"):
        del doc["base_image"][member]
    gate_json = tmp_path / "gate.json"
    gate_json.write_text(json.dumps(doc), encoding="utf-8")
    cli.main(["check", str(gate_json), "--ci", "none", "--as-of", AS_OF])
    out, _ = capsys.readouterr()
    assert "base `" not in out
    assert f"Rebuild on a refreshed base image {NAME}" in out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, "base_image.removed_findings[0]: expected the position of one of the report's 5 findings"),
        ("0", "base_image.removed_findings[0]: expected the position of one of the report's 5 findings"),
    ],
)
def test_a_removed_finding_that_is_no_position_is_refused_naming_the_key(
    value: object, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(render_json(checked_run(CHECKS["stale"])))
    doc["base_image"]["removed_findings"] = [value]
    gate_json = tmp_path / "gate.json"
    gate_json.write_text(json.dumps(doc), encoding="utf-8")
    code = cli.main(["check", str(gate_json), "--ci", "none"])
    _, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert f"{gate_json}: {expected}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("tag_moved", "base_image.tag_moved: expected a boolean (the check ran: checked is true), got null"),
        (
            "removed_findings",
            "base_image.removed_findings: expected an array (the check ran: checked is true), got null",
        ),
    ],
)
def test_a_check_that_ran_without_its_findings_or_tag_is_refused(
    member: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Read as "the tag has not moved" or "a rebuild removes nothing", a stale base that failed
    # the run that checked it would pass when read back.
    doc = json.loads(render_json(checked_run(CHECKS["stale"])))
    doc["base_image"][member] = None
    gate_json = tmp_path / "gate.json"
    gate_json.write_text(json.dumps(doc), encoding="utf-8")
    code = cli.main(["check", str(gate_json), "--ci", "none", "--as-of", AS_OF])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert f"{gate_json}: {expected}" in err
    assert "PASS" not in out


@pytest.mark.parametrize("kind", ["stale", "not checked"])
@pytest.mark.parametrize(
    ("member", "other"), [("tag_moved", "removed_findings"), ("removed_findings", "tag_moved")]
)
def test_a_base_image_with_one_of_the_members_of_its_check_is_refused(
    kind: str, member: str, other: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only a report of an earlier release has neither: one with the other is not one, and leaving
    # its base check out would drop what the run that checked said.
    doc = json.loads(render_json(checked_run(CHECKS[kind])))
    del doc["base_image"][member]
    gate_json = tmp_path / "gate.json"
    gate_json.write_text(json.dumps(doc), encoding="utf-8")
    code = cli.main(["check", str(gate_json), "--ci", "none", "--as-of", AS_OF])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert (
        err
        == f"container-gate: error: {gate_json}: base_image.{member}: missing (a report with {other} has it too)\n"
    )
    assert "PASS" not in out


@pytest.mark.parametrize("member", ["name", "digest", "current_digest"])
@pytest.mark.parametrize("damage", ["null", "absent"])
def test_a_check_that_ran_without_its_base_images_is_refused(
    member: str, damage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without either image, the tag would read as not moved: the stale base that failed the run
    # under this policy would be called current, and pass.
    doc = json.loads(render_json(checked_run(CHECKS["stale"])))
    if damage == "null":
        doc["base_image"][member] = None
    else:
        del doc["base_image"][member]
    gate_json, policy = tmp_path / "gate.json", tmp_path / "policy.yaml"
    gate_json.write_text(json.dumps(doc), encoding="utf-8")
    policy.write_text(STALE_FAILS, encoding="utf-8")
    argv = ["check", str(gate_json), "--policy", str(policy), "--ci", "none", "--as-of", AS_OF]
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert err == (
        f"container-gate: error: {gate_json}: base_image.{member}: "
        "expected a non-empty string (the check ran: checked is true), got null\n"
    )
    assert "PASS" not in out


def test_the_policy_of_the_damaged_reports_fails_the_stale_base_they_come_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The undamaged report under that policy: its stale base is the one failure.
    gate_json, policy = tmp_path / "gate.json", tmp_path / "policy.yaml"
    gate_json.write_text(render_json(checked_run(CHECKS["stale"])), encoding="utf-8")
    policy.write_text(STALE_FAILS, encoding="utf-8")
    code = cli.main(["check", str(gate_json), "--policy", str(policy), "--ci", "none", "--as-of", AS_OF])
    out, _ = capsys.readouterr()
    assert code == ExitCode.FAIL
    assert "FAIL: 1 policy failure(s)." in out


def test_compare_judges_the_base_check_a_decision_report_keeps_as_check_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same report under the same policy: the stale base that fails `check` fails the row too.
    gate_json, policy, table = tmp_path / "gate.json", tmp_path / "policy.yaml", tmp_path / "compare.json"
    gate_json.write_text(render_json(checked_run(CHECKS["stale"])), encoding="utf-8")
    policy.write_text(STALE_FAILS, encoding="utf-8")
    argv = ["compare", f"run={gate_json}", "--policy", str(policy), "--as-of", AS_OF, "--json", str(table)]
    assert cli.main(argv) == ExitCode.PASS  # compare informs: its exit is not the verdict
    capsys.readouterr()
    (row,) = json.loads(table.read_text(encoding="utf-8"))["images"]
    assert (row["verdict"], row["blocking"]) == ("fail", 0)
    argv = ["check", str(gate_json), "--policy", str(policy), "--ci", "none", "--as-of", AS_OF]
    assert cli.main(argv) == ExitCode.FAIL
    # A run without the check, read back, passes in both.
    unchecked = json.loads(gate_json.read_text(encoding="utf-8"))
    del unchecked["base_image"]
    gate_json.write_text(json.dumps(unchecked), encoding="utf-8")
    assert cli.main(["compare", f"run={gate_json}", "--policy", str(policy), "--as-of", AS_OF]) == 0
    assert "PASS" in capsys.readouterr().out
