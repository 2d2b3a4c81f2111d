"""Repository-relative locations of the outputs (gate/cli/outputs.py)."""

from __future__ import annotations

import datetime as dt
import errno
import io
import json
import os
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.cli import run_by
from gate.cli.options import options_from
from gate.cli.outputs import _render_sarif, print_report_text, publish_context, remove_stale, repo_relative
from gate.cli.parser import build_parser
from gate.errors import ExitCode, UsageError
from gate.platforms.github_commands import workflow_command
from gate.policy.evaluate import evaluate
from gate.policy.load import default_policy_path, load_policy
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS, JsonReportHint
from gate.scanners.ingest import load_report
from tests.support.corpus import corpus_file

# A real Trivy scan of debian:buster (two findings, no Dockerfile line: both on --sarif-location).
BUSTER = corpus_file("trivy", "debian-buster.json.golden")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository checked out at `tmp_path/repo`, as the CI workspace."""
    root = tmp_path / "repo"
    (root / "services" / "api").mkdir(parents=True)
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(root))
    return root


@pytest.mark.parametrize(
    ("cwd", "path", "uri"),
    [
        (".", "Dockerfile", "Dockerfile"),
        (".", "services/api/Dockerfile", "services/api/Dockerfile"),
        ("services/api", "Dockerfile", "services/api/Dockerfile"),
        ("services/api", "../api/Dockerfile", "services/api/Dockerfile"),
        ("services/api", "../../Dockerfile", "Dockerfile"),
        ("services/api", "{root}/services/Dockerfile", "services/Dockerfile"),
    ],
)
def test_a_relative_path_is_relative_to_the_current_folder_of_the_repository(
    repo: Path, monkeypatch: pytest.MonkeyPatch, cwd: str, path: str, uri: str
) -> None:
    monkeypatch.chdir(repo / cwd)
    assert repo_relative(path.format(root=repo)) == uri


def test_a_relative_path_from_outside_the_repository_is_relative_to_its_root(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.parent)
    assert repo_relative("services/api/Dockerfile") == "services/api/Dockerfile"


def test_a_path_that_leaves_the_repository_is_a_usage_error(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "services" / "api")
    with pytest.raises(UsageError, match=r"^\.\./\.\./\.\./Dockerfile: not inside the repository "):
        repo_relative("../../../Dockerfile")


def test_sarif_run_in_a_folder_points_at_that_folders_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A job with `working-directory: services/api` and `--sarif-location Dockerfile` means
    # services/api/Dockerfile: code scanning would show the alerts on the root's Dockerfile.
    monkeypatch.chdir(repo / "services" / "api")
    out = repo / "gate.sarif"
    argv = ["check", str(BUSTER), "--ci", "none", "--sarif", str(out), "--sarif-location", "Dockerfile"]
    assert cli.main(argv) == ExitCode.FAIL
    capsys.readouterr()
    results = json.loads(out.read_text(encoding="utf-8"))["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"services/api/Dockerfile"}


def test_a_read_only_file_system_is_not_said_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # On a read-only file system, removing a file that is not there fails with EROFS, not ENOENT:
    # "cannot remove stale output" came before the output's own "cannot write" error.
    def read_only(self: Path, missing_ok: bool = False) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "unlink", read_only)
    assert remove_stale(str(tmp_path / "gate.json")) is False
    assert capsys.readouterr().err == ""
    # A file that is there and stays is still said, its name without escape sequences.
    stale = tmp_path / "gate\x1b[2J.sarif"
    stale.write_text("{}")
    assert remove_stale(str(stale)) is False
    assert capsys.readouterr().err == (
        f"container-gate: error: {tmp_path}/gate\\x1b[2J.sarif: cannot remove stale output: Read-only file system\n"
    )


def test_a_read_only_output_file_is_refused_and_the_other_outputs_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `chmod 444 gate.sarif`: the rename that writes an output whole replaced it whatever its mode
    # (and, as root, so would writing it in place). It is kept; the run says so and fails.
    kept = tmp_path / "gate.sarif"
    kept.write_text("kept\n")
    kept.chmod(0o444)
    json_out, markdown = tmp_path / "gate.json", tmp_path / "gate.md"
    argv = ["check", str(BUSTER), "--ci", "none", "-q", "--sarif", str(kept), "--json", str(json_out)]
    assert cli.main([*argv, "--markdown", str(markdown)]) == ExitCode.USAGE
    assert capsys.readouterr().err == (
        f"container-gate: error: {kept}: cannot write output file: the file is read-only "
        "(make it writable, or remove it)\n"
    )
    assert kept.read_text() == "kept\n"
    assert json.loads(json_out.read_text())["verdict"] == "fail"
    assert markdown.read_text().strip()


def test_a_read_only_output_file_is_not_removed_after_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = tmp_path / "gate.sarif"
    kept.write_text("kept\n")
    kept.chmod(0o444)
    missing = tmp_path / "missing.json"
    assert cli.main(["check", str(missing), "--ci", "none", "--sarif", str(kept)]) == ExitCode.USAGE
    assert capsys.readouterr().err.splitlines() == [
        f"container-gate: error: {missing}: no such report file",
        f"container-gate: error: {kept}: cannot remove stale output: the file is read-only "
        "(make it writable, or remove it)",
    ]
    assert kept.read_text() == "kept\n"


def test_an_output_file_another_user_owns_is_replaced_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file with write permission, but not for this process (another user's, left by an earlier
    # job run as root): not one its user made read-only. The rename in a writable directory
    # replaces it, as it always did; only `chmod a-w` keeps a file.
    earlier = tmp_path / "gate.sarif"
    earlier.write_text("earlier\n")
    earlier.chmod(0o644)
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda path, mode, **kw: False if Path(path) == earlier else real_access(path, mode, **kw),
    )
    argv = ["check", str(BUSTER), "--ci", "none", "-q", "--sarif", str(earlier)]
    assert cli.main(argv) == ExitCode.FAIL
    assert json.loads(earlier.read_text())["version"] == "2.1.0"


def annotations_of(stdout: str) -> list[str]:
    """The `::error` and `::warning` workflow commands of a run, their properties alone."""
    return [
        line.split("::", 2)[1] for line in stdout.splitlines() if line.startswith(("::error", "::warning"))
    ]


def test_annotations_name_no_file_the_run_was_not_told_of(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No --dockerfile and no --sarif-location: the annotations pointed at `Dockerfile`, a file the
    # run never read, which this repository does not have (SARIF still needs a location: it keeps it).
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    sarif = repo / "gate.sarif"
    assert cli.main(["check", str(BUSTER), "--ci", "github", "--sarif", str(sarif)]) == ExitCode.FAIL
    found = annotations_of(capsys.readouterr().out)
    assert found
    assert not [props for props in found if "file=" in props]
    results = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        "Dockerfile"
    }
    # The file --sarif-location names is named (as `scan`'s --dockerfile is).
    assert (
        cli.main(["check", str(BUSTER), "--ci", "github", "--sarif-location", "deploy/Dockerfile"])
        == ExitCode.FAIL
    )
    # The findings' annotations; a warning of the report's (a Trivy golden has no package list)
    # is about no line of any file.
    found = [props for props in annotations_of(capsys.readouterr().out) if not props.startswith("warning")]
    assert found
    assert all(props.startswith("error file=deploy/Dockerfile,") for props in found), found


def test_a_scan_without_sarif_location_annotates_on_its_dockerfile(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not on `Dockerfile`, SARIF's default, when the run read services/api/Dockerfile.
    monkeypatch.chdir(repo)
    argv = ["scan", "docker-archive:app.tar", "--dockerfile", "services/api/Dockerfile"]
    context = publish_context(options_from(build_parser().parse_args(argv), {}, dt.datetime.now(dt.UTC)))
    assert (context.dockerfile, context.location) == ("services/api/Dockerfile", None)


def test_a_scan_places_sarif_results_without_a_line_on_its_dockerfile(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `dockerfile: services/api/Dockerfile` (one image of a matrix): the results whose layer has no
    # Dockerfile line (BUSTER's, all of them) went on `Dockerfile`, a file this repository does not
    # have, while the annotations went on services/api/Dockerfile.
    monkeypatch.chdir(repo)
    now = dt.datetime.now(dt.UTC)
    evaluation = evaluate(load_report(BUSTER), load_policy(default_policy_path()), now)

    def uris(*options: str) -> set[str]:
        argv = ["scan", "docker-archive:app.tar", "--sarif", "gate.sarif", *options]
        sarif = b"".join(_render_sarif(evaluation, options_from(build_parser().parse_args(argv), {}, now)))
        results = json.loads(sarif)["runs"][0]["results"]
        assert results
        return {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}

    assert uris("--dockerfile", "services/api/Dockerfile") == {"services/api/Dockerfile"}
    # --sarif-location still decides; without either, `Dockerfile` as before.
    assert uris("--dockerfile", "services/api/Dockerfile", "--sarif-location", "deploy/x") == {"deploy/x"}
    assert uris() == {"Dockerfile"}


def test_a_report_path_that_is_not_utf8_is_written_escaped_in_the_json_report(tmp_path: Path) -> None:
    # A byte of the command line that is not UTF-8 (a file name in Latin-1) reaches Python as a
    # lone surrogate: `check --json` stopped with an internal error (exit 3) writing `sources`.
    report = tmp_path / "caf\udce9.json"
    report.write_bytes(BUSTER.read_bytes())
    out = tmp_path / "gate.json"
    argv = ["check", str(report), "--ci", "none", "-q", "--json", str(out)]
    assert cli.main(argv) == ExitCode.FAIL
    assert "caf\\udce9.json" in out.read_text(encoding="utf-8")
    assert json.loads(out.read_text(encoding="utf-8"))["sources"] == [str(report)]


def test_on_github_actions_commands_resume_after_report_text_without_a_final_line_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `::TOKEN::` written right after text that did not end its last line was not a line of its
    # own: the runner kept commands stopped, and ignored every later annotation of the step.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    out = io.StringIO()
    print_report_text("CVE-2026-0001 HIGH openssl", out)
    out.write(workflow_command("error", "the gate failed", title="container-gate") + "\n")
    lines = out.getvalue().splitlines()
    token = lines[0].removeprefix("::stop-commands::")
    assert token != lines[0]
    assert lines[1] == "CVE-2026-0001 HIGH openssl"
    assert lines[2] == f"::{token}::"
    assert lines[3].startswith("::error title=container-gate::")
    # Text that ends its line, or no text at all, gets no blank line.
    for text in ("a row\n", ""):
        out = io.StringIO()
        print_report_text(text, out)
        lines = out.getvalue().splitlines()
        token = lines[0].removeprefix("::stop-commands::")
        assert lines[1:] == [*text.splitlines(), f"::{token}::"]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, COMMAND_LINE_WORDS.json_report),
        ({"CONTAINER_GATE_POLICY": ""}, GITLAB_WORDS.json_report),
        ({"CONTAINER_GATE_ACTION": "true"}, ACTION_WORDS.json_report),
    ],
)
def test_the_summaries_hints_are_worded_for_how_the_gate_runs(
    variables: dict[str, str], expected: JsonReportHint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The GitLab templates set CONTAINER_GATE_POLICY (empty without a policy); their users set
    # inputs or variables, and the job always writes container-gate.json.
    for name in ("CONTAINER_GATE_POLICY", "CONTAINER_GATE_ACTION", "GITLAB_CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert run_by.run_wording().json_report is expected
    data = {
        COMMAND_LINE_WORDS.json_report: COMMAND_LINE_WORDS,
        GITLAB_WORDS.json_report: GITLAB_WORDS,
        ACTION_WORDS.json_report: ACTION_WORDS,
    }
    assert run_by.run_wording() is data[expected]


def test_the_command_line_in_a_gitlab_job_names_the_runners_ca_file_for_an_untrusted_certificate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A job script of the user's own runs the command line, whose options it names, but the gate
    # trusts the runner's CI_SERVER_TLS_CA_FILE there as in the templates' job.
    for name in ("CONTAINER_GATE_POLICY", "CONTAINER_GATE_ACTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITLAB_CI", "true")
    words = run_by.run_wording()
    assert words.untrusted_certificate == GITLAB_WORDS.untrusted_certificate
    assert "(CI_SERVER_TLS_CA_FILE)" in words.untrusted_certificate
    assert words.json_report is COMMAND_LINE_WORDS.json_report
    assert words.option("kev") == "--kev"
    monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
    assert run_by.run_wording() is ACTION_WORDS


def test_in_the_gitlab_templates_the_container_scanning_report_points_to_the_jobs_artifact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The templates write the JSON report as container-gate.json whatever their user sets: the
    # report's message on the findings left out names it, not --json.
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nallowlist:\n  - {vulnerability: CVE-2019-14697, reason: not shipped}\n", encoding="utf-8"
    )
    monkeypatch.delenv("CONTAINER_GATE_ACTION", raising=False)
    monkeypatch.setenv("CONTAINER_GATE_POLICY", str(policy))
    out = tmp_path / "gl-container-scanning-report.json"
    report = corpus_file("trivy", "alpine-39-high-critical.json.golden")
    cli.main(["check", str(report), "--policy", str(policy), "--gitlab", str(out), "--ci", "none"])
    capsys.readouterr()
    (left_out,) = [
        m["value"] for m in json.loads(out.read_text())["scan"]["messages"] if "left out" in m["value"]
    ]
    assert left_out.endswith(
        "the JSON report (the job's container-gate.json artifact) lists each with its reason"
    )
