"""The report and policy readers' hints in the words of the way the gate runs (gate/cli/wording.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS, RunWording
from tests.support.corpus import corpus_file

BUSTER = corpus_file("trivy", "debian-buster.json.golden")
KEV = corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json")
OPENVEX = corpus_file("vex", "affected.openvex.json")

# The gate's own options and positionals a reader's hint may name; a scanner's own (`trivy
# --format json`, `trivy --config`) and what wrote a file (`compare --json`) are not the gate's
# to give there.
_GATE_OPTION = re.compile(
    r"(?<![\w-])--(?:kev|epss|vex|policy|baseline|json|sarif|gitlab|openvex|markdown|report)\b|\bREPORT\b"
)

_NOT_THE_GATES = re.compile(r"\b(?:trivy|grype|snyk|compare)(?: [a-z]+)? --[a-z-]+")


def _gate_options(err: str, path: Path) -> list[str]:
    """The gate's options and positionals `err` names, besides those in `path` and in a scanner's
    command."""
    return _GATE_OPTION.findall(_NOT_THE_GATES.sub("", err.replace(str(path), "")))


_DOCUMENTS: dict[str, str] = {
    "policy.yaml": "version: 1\n",
    "dash-vex.yaml": "version: 1\nvex: [-]\n",
    "decision.json": json.dumps({"schema": "container-gate/decision/v1", "verdict": "pass"}),
    "log.sarif": json.dumps({"version": "2.1.0", "runs": []}),
    "gl-report.json": json.dumps({"version": "15.0.0", "scan": {}, "vulnerabilities": []}),
    "sbom.json": json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}),
    "trivy.yaml": "severity:\n  - HIGH\nscan:\n  skip-dirs: []\n",
    "kev.json": json.dumps(
        {"catalogVersion": "1", "dateReleased": "2026-01-01T00:00:00Z", "vulnerabilities": []}
    ),
}


def _files(tmp_path: Path) -> list[Path]:
    for name, text in _DOCUMENTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [tmp_path / name for name in _DOCUMENTS] + [BUSTER, OPENVEX]


def _errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = cli.main([*argv, "--ci", "none", "-q"])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    return err


@pytest.mark.parametrize("variable", ["CONTAINER_GATE_ACTION", "CONTAINER_GATE_POLICY"])
def test_a_policy_readers_hint_names_the_inputs_of_the_action_and_the_gitlab_templates(
    variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # "check takes it as REPORT, and the policy with --policy", "give it with --vex": options the
    # action's and the templates' users never type.
    monkeypatch.delenv("CONTAINER_GATE_ACTION", raising=False)
    monkeypatch.delenv("CONTAINER_GATE_POLICY", raising=False)
    monkeypatch.setenv(variable, "true" if variable == "CONTAINER_GATE_ACTION" else "policy.yaml")
    files = _files(tmp_path)
    said = []
    for policy in files:
        if policy.name in ("policy.yaml", "trivy.yaml", "kev.json"):
            continue  # a policy, or what the policy reader tells apart no further
        err = _errors(["check", str(BUSTER), "--policy", str(policy)], capsys)
        assert not _gate_options(err, policy), err
        said.append(err)
    words = "the action's `" if variable == "CONTAINER_GATE_ACTION" else "CONTAINER_GATE_"
    assert any(words in err for err in said), said


def test_a_report_readers_hint_names_the_actions_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
    said = {}
    for report in _files(tmp_path):
        if report == BUSTER or report.name == "decision.json":
            continue  # reports the gate reads
        said[report.name] = _errors(["check", str(report)], capsys)
        assert not _gate_options(said[report.name], report), said[report.name]
    assert (
        "give it with the action's `kev` input, and the scanner's JSON report as the action's `report`"
        in (said["kev.json"])
    )
    assert "this is a container-gate policy: give it with the action's `policy` input" in said["policy.yaml"]


def test_on_the_command_line_the_hints_name_its_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CONTAINER_GATE_ACTION", raising=False)
    monkeypatch.delenv("CONTAINER_GATE_POLICY", raising=False)
    _files(tmp_path)
    err = _errors(["check", str(tmp_path / "kev.json")], capsys)
    assert "give it with --kev, and the scanner's JSON report as REPORT" in err
    err = _errors(["check", str(BUSTER), "--policy", str(BUSTER)], capsys)
    assert "check takes it as REPORT, and the policy with --policy" in err


def test_an_option_in_a_reports_own_text_is_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only the gate's own words change: `--baseline-required` is not the `baseline` input.
    from gate.cli.wording import in_run_words

    monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
    assert in_run_words("give it with --baseline-required") == "give it with --baseline-required"
    assert in_run_words("give it with --kev, or") == "give it with the action's `kev` input, or"
    assert in_run_words("(--policy)") == "(the action's `policy` input)"


def test_in_the_action_every_input_that_sets_an_option_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # An image of several images for the platform asks for one: the action has a platform input.
    from gate.cli.wording import in_run_words

    monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
    assert in_run_words("choose one with --platform") == "choose one with the action's `platform` input"
    assert in_run_words("give it with --build-arg") == "give it with the action's `build-args` input"


@pytest.mark.parametrize(
    ("variable", "ending"),
    [
        (None, ": run Trivy with --list-all-pkgs"),
        ("CONTAINER_GATE_ACTION", ": run Trivy with --list-all-pkgs (aquasecurity/trivy-action: `list-all-pkgs: true`), or let the action scan the image (its `image` input)"),
    ],
)  # fmt: skip
def test_a_trivy_report_without_its_package_list_is_answered_in_the_words_of_the_run(
    variable: str | None,
    ending: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The action's user runs Trivy in a step of their own, or gives the action the image to scan.
    monkeypatch.delenv("CONTAINER_GATE_ACTION", raising=False)
    monkeypatch.delenv("CONTAINER_GATE_POLICY", raising=False)
    if variable:
        monkeypatch.setenv(variable, "true")
    out = tmp_path / "gate.json"
    report = corpus_file("trivy", "debian-stretch.json.golden")
    assert cli.main(["check", str(report), "--ci", "none", "--json", str(out)]) == ExitCode.PASS
    (warning,) = [w for w in json.loads(out.read_text())["warnings"] if "without its package list" in w]
    assert warning.startswith(f"{report}: ")
    assert warning.endswith(ending)
    assert warning in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("wording", "said"),
    [
        (COMMAND_LINE_WORDS, "pass --check-base=best-effort"),
        (ACTION_WORDS, "set the action's `check-base` input to best-effort"),
        (GITLAB_WORDS, "set the `check-base` input (the CONTAINER_GATE_CHECK_BASE variable) to best-effort"),
    ],
)
def test_the_base_checks_error_names_check_base_as_the_runs_user_sets_it(
    wording: RunWording, said: str
) -> None:
    # The error of a base image check that could not run when the policy fails a stale base: the
    # scan words it with the run's RunWording, as the check words its own hints.
    from gate.cli.commands import best_effort

    assert best_effort(wording) == said
