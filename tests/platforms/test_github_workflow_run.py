"""The pull-request comment from a `workflow_run` run: what a fork's `pull_request` run decided,
posted from its artifact by a run that holds a write token and never runs the pull request's code.

The pull request is the one GitHub names in `workflow_run.pull_requests`, else the number the
pull request's run saved (CONTAINER_GATE_PULL_REQUEST): an untrusted number, so the gate writes only
when GitHub says that pull request's head is `workflow_run.head_sha`. Every run goes through the
command line, against the GitHub fake (tests/support/github_server.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.platforms.github_event import comment_key, commit_shas
from gate.platforms.marker import MarkerKey, MarkerKind
from gate.render.json import render_json
from gate.render.markdown import render_markdown
from tests.support.base_checks import CHECKS, checked_run
from tests.support.corpus import corpus_file
from tests.support.github_fixtures import (
    READ_ONLY_TOKEN,
    PullRequestScenario,
    pull_request_event,
    workflow_run_event,
)
from tests.support.github_state import IssueComment, PullRequest
from tests.support.repo_paths import PROJECT_ROOT

BUSTER = corpus_file("trivy", "debian-buster.json.golden")
MERGE_SHA = "0123456789abcdef0123456789abcdef01234567"
"""`GITHUB_SHA` of the `pull_request` run: the merge commit."""
MAIN_SHA = "89abcdef0123456789abcdef0123456789abcdef"
"""`GITHUB_SHA` of the `workflow_run` run: the default branch's head."""
PUSHED_SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9011223344"
"""The pull request's head after a second push."""
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        *PROXY_VARIABLES,
        "INPUT_GITHUB-TOKEN",
        "INPUT_GITHUB_TOKEN",
        "CONTAINER_GATE_COMMENT_AUTHOR",
        "CONTAINER_GATE_PULL_REQUEST",
        "GITLAB_CI",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_OUTPUT",
    ):
        monkeypatch.delenv(name, raising=False)


def image(sha: str) -> str:
    """The image as the example workflow tags it: with the pull request's head commit."""
    return f"ghcr.io/octo-org/app:{sha}"


def pull_request_run(
    scenario: PullRequestScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, MarkerKey]:
    """A fork's `pull_request` run: a read-only token, the comment off, the decision report
    kept. Returns the report and the key of the comment this run would have written."""
    work = tmp_path / "pull_request"
    work.mkdir(parents=True)
    env = {
        **scenario.environment(work / "event.json"),
        "GITHUB_TOKEN": READ_ONLY_TOKEN,
        "GITHUB_WORKFLOW": "container image",
        "GITHUB_JOB": "gate",
        "GITHUB_SHA": MERGE_SHA,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(work)
    reference = image(scenario.pull.head_sha)
    argv = ["check", str(BUSTER), "--ci", "github", "--no-comment", "--image-name", reference]
    assert cli.main([*argv, "--json", "gate.json"]) == ExitCode.FAIL
    event = json.loads((work / "event.json").read_text(encoding="utf-8"))
    report = json.loads((work / "gate.json").read_text(encoding="utf-8"))
    platform = report["image"]["platform"]
    assert platform == "linux/amd64"
    return work / "gate.json", comment_key(env, reference, platform, commit_shas(env, event))


def workflow_run(
    scenario: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    report: Path,
    *,
    listed: bool,
    number: str | None = None,
    head_sha: str | None = None,
    listed_instead: PullRequest | None = None,
) -> tuple[int, str, str]:
    """The `workflow_run` run that follows it: a write token, `container-gate check gate.json`.
    Returns the exit code, standard output and standard error."""
    work = tmp_path / "workflow_run"
    work.mkdir(parents=True, exist_ok=True)
    github = scenario.github
    event = workflow_run_event(
        github,
        scenario.repository,
        scenario.pull,
        listed=listed,
        head_sha=head_sha,
        listed_instead=listed_instead,
    )
    (work / "event.json").write_text(json.dumps(event), encoding="utf-8")
    env = {
        **scenario.environment(work / "unused.json"),
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": str(work / "event.json"),
        "GITHUB_WORKFLOW": "container image comment",
        "GITHUB_JOB": "comment",
        "GITHUB_SHA": MAIN_SHA,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if number is None:
        monkeypatch.delenv("CONTAINER_GATE_PULL_REQUEST", raising=False)
    else:
        monkeypatch.setenv("CONTAINER_GATE_PULL_REQUEST", number)
    monkeypatch.chdir(work)
    capsys.readouterr()  # what the pull_request run printed
    code = cli.main(["-v", "check", str(report), "--ci", "github"])
    out, err = capsys.readouterr()
    return code, out, err


def pushed(scenario: PullRequestScenario, head_sha: str) -> PullRequestScenario:
    """The scenario after a push to the pull request: its head, and the event of its next run."""
    pull = scenario.github.state.push(scenario.repository, scenario.pull.number, head_sha)
    event = pull_request_event(scenario.github, scenario.repository, pull)
    return replace(scenario, pull=pull, event=event)


def comments(scenario: PullRequestScenario, number: int = 1) -> list[IssueComment]:
    return scenario.github.state.comments_on(scenario.repository, number)


def writes(scenario: PullRequestScenario) -> list[str]:
    return [r.method for r in scenario.github.requests if r.method in ("POST", "PATCH", "DELETE")]


def key_of(comment: IssueComment) -> MarkerKey:
    key = MarkerKey.parse(MarkerKind.GITHUB_COMMENT, comment.body)
    assert key is not None
    return key


def test_a_workflow_run_comments_on_the_pull_request_github_names(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report, _key = pull_request_run(github_pull_request, tmp_path, monkeypatch)
    code, _out, err = workflow_run(github_pull_request, tmp_path, monkeypatch, capsys, report, listed=True)
    assert code == ExitCode.FAIL
    [comment] = comments(github_pull_request)
    assert comment.author.login == "github-actions[bot]"
    assert "container-gate: fail" in comment.body
    assert "pull request #1: created" in err
    # The pull request's head was asked of GitHub before the comment was written.
    operations = [r.operation_id for r in github_pull_request.github.requests]
    assert operations.index("pulls/get") < operations.index("issues/create-comment")


def test_a_forks_workflow_run_comments_on_the_saved_number_and_updates_it_after_a_push(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = github_pull_request
    report, pull_request_key = pull_request_run(scenario, tmp_path / "first", monkeypatch)
    code, out, _err = workflow_run(
        scenario, tmp_path / "first", monkeypatch, capsys, report, listed=False, number="1"
    )
    assert code == ExitCode.FAIL
    assert "::warning::" not in out
    [created] = comments(scenario)
    # The image (its tag's head commit left out) and the platform key the comment as the
    # pull_request run would have; the job is the workflow_run run's own.
    key = key_of(created)
    assert (key.image, key.platform) == (pull_request_key.image, pull_request_key.platform)
    assert key.job != pull_request_key.job

    # A second push: a new head, a new image tag, a new report; the same comment is updated.
    second = pushed(scenario, PUSHED_SHA)
    report, pull_request_key = pull_request_run(second, tmp_path / "second", monkeypatch)
    code, _out, err = workflow_run(
        second, tmp_path / "second", monkeypatch, capsys, report, listed=False, number="1"
    )
    assert code == ExitCode.FAIL
    [updated] = comments(scenario)
    assert updated.id == created.id
    assert key_of(updated) == key
    assert (key.image, key.platform) == (pull_request_key.image, pull_request_key.platform)
    assert "pull request #1: updated" in err
    assert writes(scenario) == ["POST", "PATCH"]


def test_the_comment_from_a_report_of_a_base_image_check_says_what_the_pull_requests_run_said(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The pull request's run checked its base image (`check-base: true`): its report keeps which
    # findings a rebuild removes, and the comment lists the actions that run listed, not the estimate.
    checked = checked_run(CHECKS["stale"])
    report = tmp_path / "gate.json"
    report.write_text(render_json(checked), encoding="utf-8")
    code, _out, _err = workflow_run(github_pull_request, tmp_path, monkeypatch, capsys, report, listed=True)
    assert code == ExitCode.FAIL
    [comment] = comments(github_pull_request)
    said = render_markdown(checked).split("\n\n")
    assert said[2].startswith("stale base `reg.example/base:12` is 47 days behind its tag")
    assert said[3].startswith("**4 findings block; 3 actions clear them.**")
    for paragraph in said[2:5]:
        assert paragraph in comment.body


def test_a_number_whose_pull_request_is_at_another_commit_is_refused(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = github_pull_request
    # Another pull request, at another commit: a fork's run saved its number instead of its own.
    other = scenario.github.state.add_pull_request(scenario.repository, head_sha=PUSHED_SHA)
    report, _key = pull_request_run(scenario, tmp_path, monkeypatch)
    code, out, _err = workflow_run(
        scenario, tmp_path, monkeypatch, capsys, report, listed=False, number=str(other.number)
    )
    assert code == ExitCode.FAIL  # the verdict stands; only the comment is refused
    assert (
        f"::warning::no comment on pull request #{other.number} of octo-org/app: its head is commit "
        f"{PUSHED_SHA}, not {scenario.pull.head_sha}"
    ) in out
    assert comments(scenario, other.number) == []
    assert comments(scenario) == []
    assert writes(scenario) == []


def test_a_number_of_no_pull_request_is_refused(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report, _key = pull_request_run(github_pull_request, tmp_path, monkeypatch)
    code, out, _err = workflow_run(
        github_pull_request, tmp_path, monkeypatch, capsys, report, listed=False, number="99"
    )
    assert code == ExitCode.FAIL
    assert "::warning::no comment on pull request #99 of octo-org/app: there is no such pull request" in out
    assert writes(github_pull_request) == []


def test_a_pull_request_github_names_is_checked_too(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The pull request has moved on since the run: its older result must not replace a newer one.
    report, _key = pull_request_run(github_pull_request, tmp_path, monkeypatch)
    pushed(github_pull_request, PUSHED_SHA)
    code, out, _err = workflow_run(github_pull_request, tmp_path, monkeypatch, capsys, report, listed=True)
    assert code == ExitCode.FAIL
    assert f"::warning::no comment on pull request #1 of octo-org/app: its head is commit {PUSHED_SHA}" in out
    assert writes(github_pull_request) == []


def test_the_saved_number_wins_over_another_pull_request_github_lists_by_branch_name(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GitHub lists pull requests by branch name: a fork's branch named like one of the base
    # repository's brings that pull request, at another commit, into the list.
    scenario = github_pull_request
    other = scenario.github.state.add_pull_request(scenario.repository, head_sha=PUSHED_SHA)
    report, _key = pull_request_run(scenario, tmp_path, monkeypatch)
    code, out, _err = workflow_run(
        scenario, tmp_path, monkeypatch, capsys, report, listed=False, number="1", listed_instead=other
    )
    assert code == ExitCode.FAIL
    assert "::warning::" not in out
    assert len(comments(scenario)) == 1
    assert comments(scenario, other.number) == []
    # Without the number, GitHub's pull request is checked, and refused.
    code, out, _err = workflow_run(
        scenario, tmp_path, monkeypatch, capsys, report, listed=False, listed_instead=other
    )
    assert f"::warning::no comment on pull request #{other.number} of octo-org/app: its head is commit" in out
    assert comments(scenario, other.number) == []


def test_a_forks_workflow_run_without_a_number_says_how_to_give_one(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report, _key = pull_request_run(github_pull_request, tmp_path, monkeypatch)
    code, out, _err = workflow_run(github_pull_request, tmp_path, monkeypatch, capsys, report, listed=False)
    assert code == ExitCode.FAIL
    assert "::warning::no pull-request comment: the workflow_run event names no pull request" in out
    assert "CONTAINER_GATE_PULL_REQUEST" in out
    assert github_pull_request.github.requests == []


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.0", "+1", "01x", "1 2", "\u0661", "12345678901"])
def test_a_number_that_is_no_pull_requests_stops_the_run(
    value: str,
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report, _key = pull_request_run(github_pull_request, tmp_path, monkeypatch)
    code, _out, err = workflow_run(
        github_pull_request, tmp_path, monkeypatch, capsys, report, listed=False, number=value
    )
    assert code == ExitCode.USAGE
    [line] = [line for line in err.splitlines() if line.startswith("container-gate: error:")]
    assert line.startswith(
        "container-gate: error: CONTAINER_GATE_PULL_REQUEST must be a pull request's number (a whole number from 1"
    )
    assert writes(github_pull_request) == []


def test_the_number_is_not_read_in_a_pull_request_event(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The event's own pull request is the one; the variable is for a workflow_run run.
    other = github_pull_request.github.state.add_pull_request(github_pull_request.repository)
    monkeypatch.setenv("CONTAINER_GATE_PULL_REQUEST", str(other.number))
    work = tmp_path / "run"
    work.mkdir(parents=True)
    for name, value in {
        **github_pull_request.environment(work / "event.json"),
        "GITHUB_SHA": MERGE_SHA,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(work)
    assert cli.main(["check", str(BUSTER), "--ci", "github"]) == ExitCode.FAIL
    assert len(comments(github_pull_request)) == 1
    assert comments(github_pull_request, other.number) == []


def test_the_actions_pull_request_input_gives_the_number(
    github_pull_request: PullRequestScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The action as the example's workflow_run workflow runs it: `report:` and `pull-request:`.
    scenario = github_pull_request
    report, _key = pull_request_run(scenario, tmp_path, monkeypatch)
    work = tmp_path / "action"
    work.mkdir()
    event = workflow_run_event(scenario.github, scenario.repository, scenario.pull, listed=False)
    (work / "event.json").write_text(json.dumps(event), encoding="utf-8")
    env = {
        **scenario.environment(work / "unused.json"),
        "GITHUB_TOKEN": "",
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": str(work / "event.json"),
        "GITHUB_WORKFLOW": "container image comment",
        "GITHUB_JOB": "comment",
        "GITHUB_SHA": MAIN_SHA,
        "GITHUB_WORKSPACE": str(work),
        "INPUT_REPORT": str(report),
        "INPUT_SARIF": "",
        "INPUT_COMMENT": "true",
        "INPUT_PULL-REQUEST": "1",
        "INPUT_GITHUB-TOKEN": scenario.token,
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "entrypoint.py")],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == ExitCode.FAIL, done.stderr
    assert "::warning::" not in done.stdout
    [comment] = comments(scenario)
    assert "container-gate: fail" in comment.body
    assert scenario.token not in done.stdout + done.stderr


def test_a_report_the_workflow_run_cannot_read_replaces_the_verdict_of_its_comment(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The comment must not keep showing an earlier verdict: the error is checked like a verdict.
    scenario = github_pull_request
    report, _key = pull_request_run(scenario, tmp_path, monkeypatch)
    workflow_run(scenario, tmp_path, monkeypatch, capsys, report, listed=False, number="1")
    [created] = comments(scenario)
    report.write_text("{", encoding="utf-8")
    code, _out, err = workflow_run(scenario, tmp_path, monkeypatch, capsys, report, listed=False, number="1")
    assert code == ExitCode.USAGE
    [updated] = comments(scenario)
    assert updated.id == created.id
    assert "container-gate: fail" not in updated.body
    assert "could not decide" in updated.body
    assert "pull request #1: updated" in err
    operations = [r.operation_id for r in scenario.github.requests]
    assert operations.count("pulls/get") == 2
