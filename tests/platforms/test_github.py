"""The GitHub publisher against the GitHub fake: summary, outputs, annotations and one comment per job and image.

Every test runs the real publisher over HTTP against tests/support/github_server.py, which checks each
request and answer against GitHub's OpenAPI description and fails the test on any departure. Waiting is
injected (`sleep=`, `clock=`), so retries are checked by the waits asked for, never by the wall clock.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, cast

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode, PlatformError
from gate.model import ImageInfo, Layer, LayerOrigin, Severity, VendorStatus
from gate.platforms.github import GitHubPublisher
from gate.platforms.github_annotations import finding_line
from gate.platforms.github_commands import (
    STEP_SUMMARY_LIMIT,
    InertLog,
    escape_data,
    workflow_inert,
    write_own,
)
from gate.platforms.github_event import token_of
from gate.platforms.interface import PublishContext, Published
from gate.platforms.marker import MarkerKey, MarkerKind, stable_image
from gate.platforms.retry import RetryPolicy
from gate.policy.evaluation import Evaluation
from gate.policy.model import Mode, Policy
from gate.render._markdown_sections import LEAD_ACTIONS
from gate.render.markdown import GITHUB_COMMENT_LIMIT
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, RunWording
from tests.support.corpus import corpus_file
from tests.support.factories import evaluation_of, finding
from tests.support.github_endpoints import Call, Reply
from tests.support.github_fixtures import READ_ONLY_TOKEN, PullRequestScenario
from tests.support.github_json import Urls
from tests.support.github_state import IssueComment
from tests.support.markdown_html import inert_problems, to_html
from tests.support.tls import PrivateCa

APP = ImageInfo(reference="ghcr.io/octo-org/app:1", os="linux", architecture="amd64")
WORKER = ImageInfo(reference="ghcr.io/octo-org/worker:1", os="linux", architecture="amd64")
BUSTER = corpus_file("trivy", "debian-buster.json.golden")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
OUTPUT_START = re.compile(r"(?P<name>[a-z][a-z-]*)<<(?P<delimiter>ghadelimiter_[0-9a-f-]{36})\Z")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests honours proxy variables; nothing may stand between the publisher and 127.0.0.1.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


class Step:
    """One workflow step: its environment, its files and what it printed."""

    def __init__(self, scenario: PullRequestScenario, tmp_path: Path, **extra: str) -> None:
        self.scenario = scenario
        tmp_path.mkdir(exist_ok=True)
        self.summary = tmp_path / "step_summary.md"
        self.outputs = tmp_path / "github_output"
        self.env = {
            **scenario.environment(tmp_path / "event.json"),
            "GITHUB_WORKFLOW": "CI",
            "GITHUB_JOB": "gate",
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "GITHUB_WORKSPACE": str(tmp_path),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_OUTPUT": str(self.outputs),
            **extra,
        }
        self.stdout = io.StringIO()
        """The job log: the workflow commands of every publication, as the command line prints them."""
        self.notes: list[str] = []
        """What the publications did, as --verbose shows it."""
        self.sleeps: list[float] = []

    def context(self, **fields: Any) -> PublishContext:
        return PublishContext(env=self.env, **fields)

    def publisher(self, clock: float | None = None) -> GitHubPublisher:
        now = clock if clock is not None else datetime.now(UTC).timestamp()
        return GitHubPublisher(sleep=self.sleeps.append, clock=lambda: now)

    def record(self, published: Published) -> list[str]:
        """Keep what a publication logged and noted; its warnings. It must not have failed."""
        self.stdout.write("".join(f"{line}\n" for line in published.log))
        self.notes += published.notes
        assert published.failure is None, published.failure
        return list(published.warnings)

    def publish(self, evaluation: Evaluation, **fields: Any) -> list[str]:
        return self.record(self.publisher().publish(evaluation, self.context(**fields)))

    def comments(self) -> list[IssueComment]:
        return self.scenario.github.state.comments_on(self.scenario.repository, self.scenario.pull.number)

    def writes(self) -> list[str]:
        return [r.method for r in self.scenario.github.requests if r.method in ("POST", "PATCH", "DELETE")]


def read_outputs(path: Path) -> dict[str, list[str]]:
    """`$GITHUB_OUTPUT` parsed strictly as the runner reads it: name<<DELIMITER, value lines, DELIMITER."""
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    found: dict[str, list[str]] = {}
    index = 0
    while index < len(lines):
        start = OUTPUT_START.fullmatch(lines[index])
        assert start is not None, f"line {index + 1}: {lines[index]!r}"
        end = lines.index(start["delimiter"], index + 1)
        found.setdefault(start["name"], []).append("\n".join(lines[index + 1 : end]))
        index = end + 1
    return found


def commands(stdout: str) -> list[tuple[str, dict[str, str], str]]:
    """Every workflow command printed: (command, properties, message), unescaped as the runner does."""

    def unescape(text: str) -> str:
        return (
            text.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
        )

    found = []
    resume: str | None = None  # inside `::stop-commands::TOKEN` ... `::TOKEN::`, nothing is a command
    for line in stdout.splitlines():
        if resume is not None:
            if line == f"::{resume}::":
                resume = None
            continue
        if line.startswith("::stop-commands::"):
            resume = line.removeprefix("::stop-commands::")
            continue
        if not line.lstrip().startswith("::"):
            continue
        head, _, message = line.lstrip()[2:].partition("::")
        name, _, props = head.partition(" ")
        properties = dict(p.split("=", 1) for p in props.split(",")) if props else {}
        found.append((name, {k: unescape(v) for k, v in properties.items()}, unescape(message)))
    return found


def comment_key_of(body: str) -> MarkerKey | None:
    return MarkerKey.parse(MarkerKind.GITHUB_COMMENT, body)


def failing(image: ImageInfo = APP) -> Evaluation:
    return evaluation_of(finding("CVE-2024-1111", severity=Severity.CRITICAL), image=image)


def passing(image: ImageInfo = APP) -> Evaluation:
    return evaluation_of(finding("CVE-2024-2222", severity=Severity.LOW), image=image)


# --- the comment -------------------------------------------------------------------------------


def test_first_run_creates_the_comment_and_the_next_updates_it(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    assert step.publish(failing()) == []
    [created] = step.comments()
    assert created.author.login == "github-actions[bot]"
    assert created.body.startswith("<!-- container-gate:github-comment v1 job=")
    assert "container-gate: fail" in created.body
    key = comment_key_of(created.body)
    assert key is not None

    assert step.publish(passing()) == []
    [updated] = step.comments()
    assert updated.id == created.id
    assert "container-gate: pass" in updated.body
    assert "CVE-2024-1111" not in updated.body
    assert comment_key_of(updated.body) == key
    assert step.writes() == ["POST", "PATCH"]
    assert (
        read_outputs(step.outputs)["comment-url"]
        == [f"https://github.com/octo-org/app/pull/1#issuecomment-{created.id}"] * 2
    )
    for request in github_pull_request.github.requests:
        assert request.header("Authorization") == f"Bearer {github_pull_request.token}"
        assert request.header("Accept") == "application/vnd.github+json"
        assert request.header("X-GitHub-Api-Version") == "2022-11-28"
        assert (request.header("User-Agent") or "").startswith("container-gate/")
    html = to_html(updated.body)
    assert (
        inert_problems(
            html, allowed_links={"https://nvd.nist.gov/vuln/detail/CVE-2024-2222"}, marker=key.marker
        )
        == []
    )


def test_a_link_to_an_issue_on_the_enterprise_server_is_left_out_of_comment_and_summary(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # On GitHub Enterprise Server a report's link to one of its issues is a reference, as one to
    # github.com is: each pull request's comment would have cross-referenced that issue.
    issue = "https://ghe.example.com/octo-org/lib/issues/7"
    step = Step(github_pull_request, tmp_path, GITHUB_SERVER_URL="https://ghe.example.com")
    evaluation = evaluation_of(
        finding("CVE-2024-1111", severity=Severity.CRITICAL, primary_url=issue), image=APP
    )
    assert step.publish(evaluation) == []
    [comment] = step.comments()
    assert issue not in comment.body
    assert "(https://nvd.nist.gov/vuln/detail/CVE-2024-1111)" in comment.body  # the advisory instead
    assert issue not in step.summary.read_text(encoding="utf-8")


def test_an_unchanged_comment_is_not_written_again(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # A re-run with the same verdict leaves the comment as it is: no "edited" mark, no notification.
    step = Step(github_pull_request, tmp_path)
    assert step.publish(failing()) == []
    [created] = step.comments()
    assert step.publish(failing()) == []
    [kept] = step.comments()
    assert step.writes() == ["POST"]
    assert (kept.id, kept.body, kept.updated_at) == (created.id, created.body, created.updated_at)
    # The step output still names the comment, and the note says it was left as it was.
    url = f"https://github.com/octo-org/app/pull/1#issuecomment-{created.id}"
    assert read_outputs(step.outputs)["comment-url"] == [url] * 2
    assert step.notes[-1] == f"pull request #1: unchanged {url}"


def test_a_matrix_of_images_keeps_one_comment_each(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    arm = replace(APP, architecture="arm64")
    for _run in range(2):
        for evaluation in (failing(APP), passing(WORKER), failing(arm)):
            assert step.publish(evaluation) == []
    bodies = [c.body for c in step.comments()]
    assert len(bodies) == 3
    assert "octo-org/app" in bodies[0]
    assert "octo-org/worker" in bodies[1]
    assert "linux\\/arm64" in bodies[2]
    assert len({comment_key_of(b) for b in bodies}) == 3
    # Another job of the workflow gating the same image has its own comment too.
    other = Step(github_pull_request, tmp_path, GITHUB_JOB="gate-staging")
    assert other.publish(failing(APP)) == []
    assert len(step.comments()) == 4


def test_the_commit_sha_in_the_tag_does_not_make_a_comment_per_push(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    for sha in ("0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98"):
        step = Step(github_pull_request, tmp_path, GITHUB_SHA=sha)
        image = ImageInfo(reference=f"ghcr.io/octo-org/app:sha-{sha[:7]}", os="linux", architecture="amd64")
        assert step.publish(failing(image)) == []
    assert len(step.comments()) == 1
    head = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    assert stable_image(f"r.example/a:pr-{head}@sha256:{'0' * 64}", (head,)) == "r.example/a:pr-"
    assert stable_image("127.0.0.1:5000/a", ()) == "127.0.0.1:5000/a:"


def test_the_earlier_comment_is_found_on_page_three(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    github = github_pull_request.github
    octocat = github.state.account("octocat")
    for n in range(205):
        github.state.add_comment(github_pull_request.repository, 1, octocat, f"comment {n}")
    step = Step(github_pull_request, tmp_path)
    assert step.publish(failing()) == []
    assert step.publish(passing()) == []
    ours = [c for c in step.comments() if c.author.login == "github-actions[bot]"]
    assert len(ours) == 1
    assert "pass" in ours[0].body
    assert step.writes() == ["POST", "PATCH"]
    listings = [r.target for r in github.requests if r.operation_id == "issues/list-comments"]
    assert len(listings) == 6  # three pages per run, the last one through the Link header
    assert listings[2].endswith("page=3")


def test_a_copied_marker_in_someone_elses_comment_is_left_alone(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    step.publish(failing())
    [ours] = step.comments()
    state = github_pull_request.github.state
    copy = state.add_comment(github_pull_request.repository, 1, state.account("mallory"), ours.body)
    state.delete_comment(ours.id)
    assert step.publish(passing()) == []
    comments = {c.id: c for c in step.comments()}
    assert comments[copy.id].body == ours.body  # untouched
    assert len(comments) == 2
    assert step.writes() == ["POST", "POST"]


def test_our_comment_edited_above_its_marker_is_still_ours(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    step.publish(failing())
    [ours] = step.comments()
    state = github_pull_request.github.state
    state.update_comment(ours.id, "Waiting for the base image rebuild.\r\n\r\n" + ours.body)
    assert step.publish(passing()) == []
    [kept] = step.comments()
    assert kept.id == ours.id
    assert "pass" in kept.body
    assert kept.body.startswith("<!-- container-gate:github-comment v1 ")
    assert step.writes() == ["POST", "PATCH"]


def test_a_marker_below_the_first_line_of_someone_elses_comment_is_left_alone(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    step.publish(failing())
    [ours] = step.comments()
    state = github_pull_request.github.state
    quoted = "As the gate said:\n\n" + ours.body
    copy = state.add_comment(github_pull_request.repository, 1, state.account("mallory"), quoted)
    state.delete_comment(ours.id)
    assert step.publish(passing()) == []
    comments = {c.id: c for c in step.comments()}
    assert comments[copy.id].body == quoted
    assert len(comments) == 2
    assert step.writes() == ["POST", "POST"]


def test_our_comment_pasted_into_a_code_block_of_another_bot_comment_is_left_alone(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # Another workflow's comment, by the same github-actions[bot], shows the gate's comment in a
    # code block: it is not the run's to edit, nor a duplicate to delete.
    step = Step(github_pull_request, tmp_path)
    step.publish(failing())
    [ours] = step.comments()
    state = github_pull_request.github.state
    pasted = "Comments on this pull request:\n\n```markdown\n" + ours.body + "\n```\n"
    copy = state.add_comment(github_pull_request.repository, 1, ours.author, pasted)
    assert step.publish(passing()) == []
    comments = {c.id: c for c in step.comments()}
    assert comments[copy.id].body == pasted
    assert "pass" in comments[ours.id].body
    assert step.writes() == ["POST", "PATCH"]


def test_duplicates_of_our_comment_are_removed(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    step.publish(failing())
    [ours] = step.comments()
    state = github_pull_request.github.state
    state.add_comment(github_pull_request.repository, 1, ours.author, ours.body)
    assert step.publish(passing()) == []
    [kept] = step.comments()
    assert kept.id == ours.id
    assert "pass" in kept.body


def test_our_comment_holding_its_marker_twice_is_updated_in_place(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    step.publish(failing())
    [ours] = step.comments()
    state = github_pull_request.github.state
    state.update_comment(ours.id, ours.body + "\n\nAs it said before:\n\n" + ours.body)
    assert step.publish(passing()) == []
    [kept] = step.comments()
    assert kept.id == ours.id
    assert "pass" in kept.body
    assert kept.body.count("<!-- container-gate:github-comment v1 ") == 1
    assert step.writes() == ["POST", "PATCH"]


def _another_images_marker(body: str) -> str:
    key = comment_key_of(body)
    assert key is not None
    return MarkerKey(MarkerKind.GITHUB_COMMENT, key.job, "a" * 16, key.platform).marker


def test_our_comment_merged_by_hand_below_another_runs_marker_is_updated_not_duplicated(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # Another image's comment pasted above ours: its marker came first, so the run found no
    # comment of its own and created a second one.
    step = Step(github_pull_request, tmp_path)
    step.publish(failing())
    [ours] = step.comments()
    state = github_pull_request.github.state
    state.update_comment(ours.id, _another_images_marker(ours.body) + "\nMerged by hand.\n\n" + ours.body)
    assert step.publish(passing()) == []
    [kept] = step.comments()
    assert kept.id == ours.id
    assert "pass" in kept.body
    assert MarkerKey.parse_all(MarkerKind.GITHUB_COMMENT, kept.body) == (comment_key_of(ours.body),)
    assert step.writes() == ["POST", "PATCH"]


def test_a_comment_bearing_another_runs_marker_too_is_left_to_it_beside_our_own(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # Of two comments bearing the run's marker, the one that bears another run's marker too is
    # neither updated nor deleted as a duplicate: the run's own comment is.
    step = Step(github_pull_request, tmp_path)
    step.publish(failing())
    [ours] = step.comments()
    state = github_pull_request.github.state
    merged = _another_images_marker(ours.body) + "\nMerged by hand.\n\n" + ours.body
    state.update_comment(ours.id, merged)
    own = state.add_comment(github_pull_request.repository, 1, ours.author, ours.body)
    assert step.publish(passing()) == []
    comments = {c.id: c for c in step.comments()}
    assert comments[ours.id].body == merged
    assert "pass" in comments[own.id].body
    assert step.writes() == ["POST", "PATCH"]


def test_an_error_leaves_a_comment_bearing_another_jobs_marker_too_to_it(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # As a verdict does: the error goes to the run's own comment, and the merged one keeps the
    # other job's marker and text.
    step = Step(github_pull_request, tmp_path)
    step.publish(failing())
    [ours] = step.comments()
    key = comment_key_of(ours.body)
    assert key is not None
    other = MarkerKey(MarkerKind.GITHUB_COMMENT, "b" * 16, key.image, key.platform).marker
    state = github_pull_request.github.state
    merged = other + "\nMerged by hand.\n\n" + ours.body
    state.update_comment(ours.id, merged)
    own = state.add_comment(github_pull_request.repository, 1, ours.author, ours.body)
    assert step.record(step.publisher().publish_error("boom", 3, step.context())) == []
    comments = {c.id: c for c in step.comments()}
    assert comments[ours.id].body == merged
    assert "error, no verdict" in comments[own.id].body


def test_a_user_token_finds_its_comments_by_its_own_login(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    github = github_pull_request.github
    token = "ghp_FakeUserToken0000000000000000000000003"  # noqa: S105 (only the fake accepts it)
    github.state.add_token(token, "release-bot")
    example = github.description.example("private-user")
    served = github.endpoints.handle

    def handle(call: Call) -> Reply | None:
        # The fake serves only repository resources; GET /user is answered here, still checked
        # against the description like every answer.
        if call.operation.operation_id == "users/get-authenticated":
            account = call.token.account
            return Reply(200, {**example, "login": account.login, "id": account.id, "type": account.kind})
        return served(call)

    github.endpoints.handle = handle  # type: ignore[method-assign]
    actions = Step(github_pull_request, tmp_path)
    actions.publish(failing())
    step = Step(github_pull_request, tmp_path, GITHUB_TOKEN=token)
    assert step.publish(failing()) == []
    assert step.publish(passing()) == []
    by_author = {c.author.login: c.body for c in step.comments()}
    assert set(by_author) == {"github-actions[bot]", "release-bot"}
    assert "fail" in by_author["github-actions[bot]"]
    assert "pass" in by_author["release-bot"]
    github.assert_token_confined(token)


def test_the_author_can_be_named_for_an_apps_own_token(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    token = "ghs_FakeAppToken00000000000000000000000004"  # noqa: S105 (only the fake accepts it)
    github_pull_request.github.state.add_token(token, "gate-app[bot]")
    step = Step(
        github_pull_request, tmp_path, GITHUB_TOKEN=token, CONTAINER_GATE_COMMENT_AUTHOR="gate-app[bot]"
    )
    assert step.publish(failing()) == []
    assert step.publish(passing()) == []
    [comment] = step.comments()
    assert comment.author.login == "gate-app[bot]"
    assert step.writes() == ["POST", "PATCH"]


def test_the_author_named_in_another_case_still_finds_the_comment(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # GitHub logins ignore case; the App's page shows its name capitalized, the API the login.
    token = "ghs_FakeAppToken00000000000000000000000004"  # noqa: S105 (only the fake accepts it)
    github_pull_request.github.state.add_token(token, "gate-app[bot]")
    step = Step(
        github_pull_request, tmp_path, GITHUB_TOKEN=token, CONTAINER_GATE_COMMENT_AUTHOR="Gate-App[bot]"
    )
    assert step.publish(failing()) == []
    assert step.publish(passing()) == []
    assert len(step.comments()) == 1
    assert step.writes() == ["POST", "PATCH"]


def test_a_forks_read_only_token_warns_and_changes_nothing_else(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path, GITHUB_TOKEN=READ_ONLY_TOKEN)
    [warning] = step.publish(failing())
    assert "403 Resource not accessible by integration" in warning
    assert "permissions: pull-requests: write" in warning
    assert "pull_request_target" in warning
    assert step.comments() == []
    assert read_outputs(step.outputs)["verdict"] == ["fail"]
    assert "container-gate: fail" in step.summary.read_text(encoding="utf-8")
    assert step.sleeps == []  # a refusal is not retried


def test_the_token_variables_in_order() -> None:
    assert token_of({"GITHUB_TOKEN": "b", "INPUT_GITHUB-TOKEN": "a"}) == "a"
    assert token_of({"GITHUB_TOKEN": "b", "INPUT_GITHUB_TOKEN": " "}) == "b"
    assert token_of({}) is None
    assert token_of({"GITHUB_TOKEN": "  "}) is None


def test_no_token_warns_how_to_give_one(github_pull_request: PullRequestScenario, tmp_path: Path) -> None:
    step = Step(github_pull_request, tmp_path)
    del step.env["GITHUB_TOKEN"]
    [warning] = step.publish(failing())
    assert "no token" in warning
    assert "github-token" in warning
    assert github_pull_request.github.requests == []


@pytest.mark.parametrize("token", ["ghp_Pasted\nTwice", "ghp_Typographic\u2019Quote"])
def test_a_token_no_header_can_carry_warns_without_showing_it(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str,
) -> None:
    # The HTTP library's own error would quote the header, token and all, and end the run with
    # an internal error instead of the verdict.
    step = cli_environment(monkeypatch, github_pull_request, tmp_path, GITHUB_TOKEN=token)
    assert cli.main(["-v", "check", str(BUSTER), "--ci", "github"]) == ExitCode.FAIL
    out, err = capsys.readouterr()
    # On GitHub Actions a warning is an annotation (`::warning::` on standard output).
    (warning,) = [line for line in out.splitlines() if line.startswith("::warning::")]
    assert "the token holds characters an HTTP header cannot carry" in warning
    for part in token.split():
        assert part not in out + err
    assert github_pull_request.github.requests == []
    assert read_outputs(step.outputs)["verdict"] == ["fail"]


# --- retries -----------------------------------------------------------------------------------


def test_two_bad_gateways_then_success(github_pull_request: PullRequestScenario, tmp_path: Path) -> None:
    github_pull_request.github.fail_next(2, status=502)
    step = Step(github_pull_request, tmp_path)
    assert step.publish(failing()) == []
    assert step.sleeps == [1.0, 2.0]
    assert len(step.comments()) == 1


def test_a_lost_answer_to_the_post_does_not_duplicate_the_comment(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    github = github_pull_request.github
    served = github.endpoints.handle
    lost = [True]

    def handle(call: Call) -> Reply | None:
        reply = served(call)
        if call.operation.operation_id == "issues/create-comment" and lost:
            lost.clear()
            return Reply(502, {"message": "Server Error"})  # created, but the answer is lost
        return reply

    github.endpoints.handle = handle  # type: ignore[method-assign]
    step = Step(github_pull_request, tmp_path)
    assert step.publish(failing()) == []
    assert len(step.comments()) == 1
    assert step.writes() == ["POST"]  # the retry found the comment written and left it as it is


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_waits_what_retry_after_says(
    github_pull_request: PullRequestScenario, tmp_path: Path, status: int
) -> None:
    github_pull_request.github.secondary_rate_limit(status=403 if status == 403 else 429, retry_after=7)
    step = Step(github_pull_request, tmp_path)
    assert step.publish(failing()) == []
    assert step.sleeps == [7.0]
    assert len(step.comments()) == 1


def test_the_primary_rate_limit_waits_for_the_reset(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    github = github_pull_request.github
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    github.state.clock = lambda: moment
    github.primary_rate_limit()
    step = Step(github_pull_request, tmp_path)
    # The fake puts the reset an hour after its clock; the gate's clock is 5 s before it.
    publisher = step.publisher(clock=moment.timestamp() + 3600 - 5)
    assert step.record(publisher.publish(failing(), step.context())) == []
    assert step.sleeps == [6.0]  # until the reset, and one second more
    assert len(step.comments()) == 1


def test_a_wait_beyond_the_budget_gives_up_at_once(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    github = github_pull_request.github
    github.primary_rate_limit()
    step = Step(github_pull_request, tmp_path)
    [warning] = step.publish(failing())
    # The fake's reset is an hour after its clock: the warning says GitHub asked for that wait.
    assert re.search(
        r"GitHub asked for a wait of 36\d\d s \(403 rate limit: API rate limit exceeded for installation\.\) "
        r"after 1 attempt\(s\), more than the 60 s left to wait",
        warning,
    ), warning
    assert step.sleeps == []
    assert step.comments() == []
    assert read_outputs(step.outputs)["verdict"] == ["fail"]


def test_retries_stop_after_the_attempts_of_the_policy(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    github_pull_request.github.fail_next(10, status=503)
    step = Step(github_pull_request, tmp_path)
    publisher = GitHubPublisher(sleep=step.sleeps.append, retry=RetryPolicy(attempts=3))
    [warning] = step.record(publisher.publish(failing(), step.context()))
    assert "after 3 attempt(s) and 3 s of waiting" in warning
    assert step.sleeps == [1.0, 2.0]


# --- events ------------------------------------------------------------------------------------


def test_a_push_makes_no_api_call_but_writes_summary_and_outputs(
    github_pull_request: PullRequestScenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    step = Step(github_pull_request, tmp_path, GITHUB_EVENT_NAME="push")
    Path(step.env["GITHUB_EVENT_PATH"]).write_text(json.dumps({"ref": "refs/heads/main"}), encoding="utf-8")
    assert step.publish(failing()) == []
    assert github_pull_request.github.requests == []
    assert step.notes == ["no pull-request comment: the push event belongs to no pull request"]
    assert read_outputs(step.outputs)["verdict"] == ["fail"]
    assert step.summary.exists()
    assert capsys.readouterr() == ("", "")  # a publisher never prints


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (None, "cannot read it (No such file or directory)"),
        ("{not json", "it is not JSON"),
        ("[1]", "it is not a JSON object"),
    ],
    ids=["missing", "not-json", "not-an-object"],
)
def test_an_event_payload_that_cannot_be_read_is_a_warning(
    github_pull_request: PullRequestScenario, tmp_path: Path, payload: str | None, problem: str
) -> None:
    # Without the payload the pull request is unknown: the comment is missing, and the log says why.
    step = Step(github_pull_request, tmp_path)
    event = Path(step.env["GITHUB_EVENT_PATH"])
    if payload is None:
        event.unlink()
    else:
        event.write_text(payload, encoding="utf-8")
    assert step.publish(failing()) == [
        f"no pull-request comment: the event payload GITHUB_EVENT_PATH={event}: {problem}"
    ]
    assert github_pull_request.github.requests == []
    assert read_outputs(step.outputs)["verdict"] == ["fail"]


def test_an_issue_comment_on_the_pull_request_finds_it(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path, GITHUB_EVENT_NAME="issue_comment")
    event = {"issue": {"number": 1, "pull_request": {"url": "https://example.invalid"}}}
    Path(step.env["GITHUB_EVENT_PATH"]).write_text(json.dumps(event), encoding="utf-8")
    assert step.publish(failing()) == []
    assert len(step.comments()) == 1


def test_no_comment_makes_no_api_call(github_pull_request: PullRequestScenario, tmp_path: Path) -> None:
    step = Step(github_pull_request, tmp_path)
    assert step.publish(failing(), comment=False) == []
    assert github_pull_request.github.requests == []


# --- errors ------------------------------------------------------------------------------------


def test_an_error_turns_this_jobs_comment_into_no_verdict(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    step.publish(passing())
    [before] = step.comments()
    other = Step(github_pull_request, tmp_path / "other", GITHUB_JOB="other")
    other.publish(passing())
    message = "report.json: not JSON\n::add-mask::x"
    assert step.record(step.publisher().publish_error(message, 2, step.context())) == []
    after = {c.id: c for c in step.comments()}
    assert "error, no verdict" in after[before.id].body
    assert "pass" not in after[before.id].body.split("\n", 2)[1]
    assert after[before.id].body.split("\n", 1)[0] == before.body.split("\n", 1)[0]
    assert sum("pass, no blocking" in c.body for c in after.values()) == 1  # the other job's
    outputs = read_outputs(step.outputs)
    assert outputs["verdict"] == ["pass", "error"]
    assert outputs["exit-code"] == ["2"]
    assert outputs["error"] == [message]
    assert "error, no verdict" in step.summary.read_text(encoding="utf-8")
    [(name, props, _text)] = commands(step.stdout.getvalue())[-1:]
    assert (name, props["title"]) == ("error", "container-gate could not decide (exit code 2)")
    # The next good run takes the same comment back.
    step.publish(failing())
    assert "fail" in {c.id: c for c in step.comments()}[before.id].body


def test_an_error_in_a_matrix_edits_only_its_own_image_and_platforms_comment(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # The documented matrix: one job, the worker image on two platforms and another image. A scan
    # of one leg that could not decide names its image and its `platform`: only that comment says
    # so, and the other legs' verdicts stay.
    step = Step(github_pull_request, tmp_path)
    arm = replace(WORKER, architecture="arm64")
    for evaluation in (failing(APP), passing(WORKER), passing(arm)):
        assert step.publish(evaluation) == []
    before = {c.id: c.body for c in step.comments()}
    message = "trivy failed: *boom* <b>"
    context = step.context(image=WORKER.reference, platform="linux/arm64/v8")
    assert step.record(step.publisher().publish_error(message, 3, context)) == []
    after = {c.id: c.body for c in step.comments()}
    changed = [i for i in after if after[i] != before[i]]
    assert len(changed) == 1
    [edited] = changed
    assert comment_key_of(after[edited]) == comment_key_of(before[edited])
    assert "linux\\/arm64" in before[edited]
    assert "could not decide (exit code 3): trivy failed\\: \\*boom\\* \\<b\\>" in after[edited]


def worker_comments(step: Step, *architectures: str) -> dict[int, str]:
    """The job's comments (id: body) once the worker image passed on each of `architectures`, as
    the legs of a platform matrix publish them."""
    for arch in architectures:
        assert step.publish(passing(replace(WORKER, architecture=arch))) == []
    return {c.id: c.body for c in step.comments()}


def edited_by_error(step: Step, platform: str) -> tuple[str, str]:
    """The one comment a run for the worker image on `platform` that could not decide changed:
    its body before and after."""
    before = {c.id: c.body for c in step.comments()}
    context = step.context(image=WORKER.reference, platform=platform)
    assert step.record(step.publisher().publish_error("trivy failed", 3, context)) == []
    after = {c.id: c.body for c in step.comments()}
    [edited] = [i for i in after if after[i] != before[i]]
    return before[edited], after[edited]


@pytest.mark.parametrize(
    ("asked", "architecture"),
    [
        ("linux/x86_64", "amd64"),
        ("linux/aarch64", "arm64"),
        ("linux/arm64", "arm64/v8"),  # an image config that names arm64's default variant
        ("linux/aarch64", "arm64/v8"),
        ("linux/arm64/v8", "arm64"),
        ("linux/armhf", "arm/v7"),
    ],
)
def test_an_error_finds_its_platforms_comment_whichever_way_the_platform_is_spelled(
    github_pull_request: PullRequestScenario, tmp_path: Path, asked: str, architecture: str
) -> None:
    # `--platform linux/x86_64` scans the linux/amd64 image, as `uname -m` spells it: the run that
    # could not decide matched the comments' platform as text, found none, and left the verdict.
    step = Step(github_pull_request, tmp_path)
    other = "386" if architecture.startswith(("amd64", "arm64")) else "amd64"
    worker_comments(step, architecture, other)
    before, after = edited_by_error(step, asked)
    assert f"linux\\/{architecture.split('/')[0]}" in before
    assert "could not decide (exit code 3)" in after


@pytest.mark.parametrize(
    ("asked", "own", "other"),
    [
        ("linux/arm/v6", "arm/v6", "arm"),  # an image config without a variant is arm/v7
        ("linux/amd64/v3", "amd64/v3", "amd64"),
        ("linux/arm64/v9", "arm64/v9", "arm64"),
    ],
)
def test_an_error_for_a_variant_leaves_the_comment_of_the_default_variant(
    github_pull_request: PullRequestScenario, tmp_path: Path, asked: str, own: str, other: str
) -> None:
    # `--platform linux/arm/v6` in a matrix beside `linux/arm`: the comment of the image whose
    # config names no variant (arm/v7) was taken for the v6 leg's too, and the error, finding two,
    # changed neither.
    step = Step(github_pull_request, tmp_path)
    worker_comments(step, own, other)
    before, after = edited_by_error(step, asked)
    assert ("linux/" + own).replace("/", "\\/") in before
    assert "could not decide (exit code 3)" in after


def test_an_error_matching_two_comments_of_its_own_image_and_platform_says_why_it_edits_none(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # The job keyed its platform both with and without the default variant: image and platform
    # known, two comments still match. The warning said "does not know its , so".
    step = Step(github_pull_request, tmp_path)
    before = worker_comments(step, "arm64", "arm64/v8")
    context = step.context(image=WORKER.reference, platform="linux/arm64")
    [warning] = step.record(step.publisher().publish_error("boom", 3, context))
    assert "does not know its" not in warning
    assert "matches each of them by its image and platform, so it cannot tell which is its own" in warning
    assert {c.id: c.body for c in step.comments()} == before


def test_a_scan_that_could_not_decide_edits_the_comment_of_the_platform_it_asked_for(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The command line hands its --platform to the publisher (an archive that is missing: exit 3).
    step = cli_environment(monkeypatch, github_pull_request, tmp_path)
    before = worker_comments(step, "amd64", "arm64")
    argv = [
        "scan",
        "docker-archive:missing.tar",
        "--image-name",
        WORKER.reference,
        "--platform",
        "linux/arm64",
    ]
    assert cli.main([*argv, "--ci", "github"]) == ExitCode.ERROR
    capsys.readouterr()
    after = {c.id: c.body for c in step.comments()}
    assert ["linux\\/arm64" in before[i] for i in after if after[i] != before[i]] == [True]


@pytest.mark.parametrize(
    "known",
    [{}, {"image": WORKER.reference}],
    ids=["no image", "no platform"],
)
def test_an_error_that_cannot_tell_its_comment_among_the_jobs_edits_none(
    github_pull_request: PullRequestScenario, tmp_path: Path, known: dict[str, str]
) -> None:
    # Without its report, a run that names no image (a `report` input), or no platform when the
    # job gates its image on several, cannot tell which of the job's comments is its own: it edits
    # none rather than put its error in another image's or platform's comment, and says so.
    step = Step(github_pull_request, tmp_path)
    before = worker_comments(step, "amd64", "arm64")
    writes = step.writes()
    [warning] = step.record(step.publisher().publish_error("boom", 2, step.context(**known)))
    assert warning.startswith("pull-request comment not changed: 2 comments of this job")
    assert {c.id: c.body for c in step.comments()} == before
    assert step.writes() == writes


@pytest.mark.parametrize(
    ("known", "advice"),
    [
        ({}, "gate the reports of each image and platform in a job of its own"),
        ({"image": WORKER.reference}, "set the action's `platform` input"),
    ],
    ids=["a report", "an image"],
)
def test_the_action_that_cannot_tell_its_comment_gives_advice_its_user_can_follow(
    github_pull_request: PullRequestScenario, tmp_path: Path, known: dict[str, str], advice: str
) -> None:
    # The action has no input naming the image of a `report`, nor takes `platform` with one: the
    # warning told its user to name the image.
    step = Step(github_pull_request, tmp_path)
    worker_comments(step, "amd64", "arm64")
    [warning] = step.record(
        step.publisher().publish_error("boom", 2, step.context(**known, wording=ACTION_WORDS))
    )
    assert advice in warning
    assert "name the image" not in warning
    # The command line's user names both.
    other = Step(github_pull_request, tmp_path / "cli", GITHUB_JOB="cli")
    worker_comments(other, "amd64", "arm64")
    [warning] = other.record(other.publisher().publish_error("boom", 2, other.context(**known)))
    assert "name the image and, for a multi-platform image, the platform to scan" in warning


def test_after_an_error_the_outputs_name_the_files_that_say_so(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    step = cli_environment(monkeypatch, github_pull_request, tmp_path)
    argv = [
        "check",
        "missing.json",
        "--ci",
        "github",
        "--json",
        "d.json",
        "--markdown",
        "d.md",
        "--sarif",
        "d.sarif",
    ]
    assert cli.main(argv) == 2
    capsys.readouterr()
    outputs = read_outputs(step.outputs)
    assert outputs["verdict"] == ["error"]
    assert (outputs["json-file"], outputs["markdown-file"]) == (["d.json"], ["d.md"])
    assert "sarif-file" not in outputs  # none is written after an error: the upload must not run
    assert json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))["verdict"] == "error"
    assert not (tmp_path / "d.sarif").exists()


def test_an_error_creates_no_comment(github_pull_request: PullRequestScenario, tmp_path: Path) -> None:
    step = Step(github_pull_request, tmp_path)
    assert step.record(step.publisher().publish_error("boom", 3, step.context())) == []
    assert step.comments() == []
    assert step.writes() == []


# --- step outputs, summary and annotations -----------------------------------------------------


def test_outputs_are_written_in_the_multi_line_form(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    outputs = {"sarif": "out/gate.sarif", "json": "out/decision.json"}
    step.publish(failing(), outputs=outputs, comment=False)
    found = read_outputs(step.outputs)
    assert found == {
        "verdict": ["fail"],
        "blocking": ["1"],
        "allowlisted": ["0"],
        "ignored": ["0"],
        "informational": ["0"],
        "would-block": ["1"],
        "policy-failures": ["0"],
        "expired-allowlist-entries": ["0"],
        "unused-allowlist-entries": ["0"],
        "advisory": ["false"],
        "sarif-file": ["out/gate.sarif"],
        "json-file": ["out/decision.json"],
    }
    delimiters = re.findall(r"<<(ghadelimiter_\S+)", step.outputs.read_text(encoding="utf-8"))
    assert len(set(delimiters)) == len(delimiters)  # a fresh one for every value


def test_the_summary_is_appended_and_fits_one_mebibyte(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    earlier = "# Build\n" + "x" * (STEP_SUMMARY_LIMIT - 300_000) + "\n"
    step.summary.write_text(earlier, encoding="utf-8")
    findings = [finding(f"CVE-2024-{n:05d}", pkg=f"lib{n}") for n in range(50_000)]
    evaluation = evaluation_of(*findings, image=APP)
    assert step.publish(evaluation) == []
    data = step.summary.read_bytes()
    assert data.startswith(earlier.encode())
    assert len(data) - len(earlier) > 250_000
    assert len(data) <= STEP_SUMMARY_LIMIT
    added = data[len(earlier) :].decode()
    # The findings of the actions after the first few: cut, and said so.
    assert re.search(rf"_\d+ of {50_000 - LEAD_ACTIONS} rows left out", added)
    [comment] = step.comments()
    assert len(comment.body) <= GITHUB_COMMENT_LIMIT
    # A full summary file gets nothing more: an overflow would lose the whole step's summary.
    full = "y" * (STEP_SUMMARY_LIMIT - 500)
    step.summary.write_text(full, encoding="utf-8")
    published = step.publisher().publish(failing(), step.context())
    assert step.summary.read_text(encoding="utf-8") == full
    # Said once, as a warning; the verdict and the outputs are those of the findings.
    left_out = (
        f"job summary left out: this step's summary already holds {STEP_SUMMARY_LIMIT - 500:,} bytes "
        "of the 1,048,576 GitHub takes (1 MiB; above it GitHub drops the step's whole summary); "
        "the exit code, the step outputs and the annotations still tell the outcome"
    )
    assert published.warnings == (left_out,)
    assert published.failure is None
    assert read_outputs(step.outputs)["verdict"][-1] == "fail"
    # The same for an error, whose summary is short.
    errored = step.publisher().publish_error("scanner crashed", 3, step.context())
    assert step.summary.read_text(encoding="utf-8") == full
    assert errored.warnings == (left_out,)
    assert read_outputs(step.outputs)["verdict"][-1] == "error"


def test_a_summary_with_little_room_left_still_leads_with_the_actions(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # Earlier steps left 3,000 bytes: too few for every section's title, enough for "What to do".
    step = Step(github_pull_request, tmp_path)
    earlier = "x" * (STEP_SUMMARY_LIMIT - 3_000)
    step.summary.write_text(earlier, encoding="utf-8")
    findings = [finding(f"CVE-2024-{n:05d}", pkg=f"lib{n}") for n in range(300)]
    assert step.publish(evaluation_of(*findings, image=APP)) == []
    added = step.summary.read_text(encoding="utf-8")[len(earlier) :]
    assert len(step.summary.read_bytes()) <= STEP_SUMMARY_LIMIT
    html = to_html(added)
    assert inert_problems(html, allowed_links=set(re.findall(r'href="([^"]+)"', html))) == []
    [table, *_] = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    assert table.count("<tr>") == LEAD_ACTIONS
    assert re.search(r"_\d+ more sections did not fit in [\d,]+ characters;", added)


def test_an_unwritable_summary_is_a_platform_error_after_the_rest(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path, GITHUB_STEP_SUMMARY=str(tmp_path))
    published = step.publisher().publish(failing(), step.context())
    assert isinstance(published.failure, PlatformError)
    assert "cannot write the job summary" in published.failure.diagnostics()
    assert published.log  # the annotations are still made
    assert read_outputs(step.outputs)["verdict"] == ["fail"]
    assert len(step.comments()) == 1


def test_annotations_one_per_action_on_its_dockerfile_line_and_escaped(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    hostile = "evil\n::add-mask::secret\r\n::stop-commands::resume 100%, a:b"

    def at(vid: str, line: int | None, pkg: str = "openssl") -> Any:
        layer = Layer(index=3, created_by="RUN x", origin=LayerOrigin.OWN, dockerfile_line=line)
        return replace(finding(vid, pkg=pkg, severity=Severity.CRITICAL), layer=layer)

    evaluation = evaluation_of(
        at("CVE-2024-0001", 9),
        at("CVE-2024-0002", 4, hostile),
        at("CVE-2024-0003", 9),
        at("CVE-2024-0004", 4),
    )
    step = Step(github_pull_request, tmp_path)
    step.publish(evaluation, dockerfile="docker/app,v1:Dockerfile", comment=False)
    printed = step.stdout.getvalue()
    assert all(line.startswith(("::error ", "::warning ")) for line in printed.splitlines())
    assert len(printed.splitlines()) == 2
    found = commands(printed)
    # openssl's three findings are one action, on the first line that installed it.
    assert [(n, p["file"], p.get("line")) for n, p, _ in found] == [
        ("error", "docker/app,v1:Dockerfile", "4"),
        ("error", "docker/app,v1:Dockerfile", "4"),
    ]
    assert found[0][1]["title"] == (
        "container-gate: Upgrade openssl 3.0.2-1 -> 3.0.13-1: clears 3 finding(s) that block (CRITICAL)"
    )
    lines = found[0][2].split("\n")
    assert lines[0] == "$ apt-get update && apt-get install -y --only-upgrade openssl"
    assert lines[1] == "CVE-2024-0001 (CRITICAL) in openssl 3.0.2-1, fixed in 3.0.13-1"
    assert found[1][1]["title"].startswith(
        "container-gate: Upgrade evil ::add-mask::secret ::stop-commands::resume"
    )
    assert found[1][2].startswith(
        "CVE-2024-0002 (CRITICAL) in evil ::add-mask::secret ::stop-commands::resume 100%"
    )
    assert "file=docker/app%2Cv1%3ADockerfile,line=4" in printed
    assert escape_data("100%\n") == "100%25%0A"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("::warning::x", "\\x3a:warning::x"),
        (" \t::add-mask::x", " \t\\x3a:add-mask::x"),
        ("path ##[add-mask]x and ###[y]", "path #\\x23[add-mask]x and ##\\x23[y]"),
        ("one\r::error::two\n ::debug::three", "one\r\\x3a:error::two\n \\x3a:debug::three"),
        ("a::b ## [c] :: d", "a::b ## [c] :: d"),
    ],
)
def test_workflow_inert_text_starts_no_command_on_any_line(text: str, shown: str) -> None:
    # The runner reads `::` at a line's start (after blanks) and `##[` anywhere as a command.
    assert workflow_inert(text) == shown


@pytest.mark.parametrize(
    ("pieces", "shown"),
    [
        # `print` writes a line in pieces: the line so far decides, not the piece.
        ([":", ":warning::x\n"], ":\\x3awarning::x\n"),
        (["  ", "::add-mask::x\n"], "  \\x3a:add-mask::x\n"),
        (["  :", "", ":x\n"], "  :\\x3ax\n"),
        (["a #", "#[add-mask]x\n"], "a #\\x23[add-mask]x\n"),
        (["a ##", "[add-mask]x\n"], "a ##\\x5badd-mask]x\n"),
        (["a #", "#", "[x\n"], "a ##\\x5bx\n"),
        (["a ", "::x\n::y\r\n ##[z"], "a ::x\n\\x3a:y\r\n #\\x23[z"),
        (["a", "\n", "::x\n"], "a\n\\x3a:x\n"),
        (["container-gate: error: a:b\n", "# c: d\n"], "container-gate: error: a:b\n# c: d\n"),
    ],
)
def test_inert_log_starts_no_command_whatever_pieces_a_line_is_written_in(
    pieces: list[str], shown: str
) -> None:
    stream = io.StringIO()
    log = InertLog(stream)
    for piece in pieces:
        assert log.write(piece) == len(piece)
    assert stream.getvalue() == shown


def test_inert_log_passes_the_gates_own_commands_and_flushes_each_write() -> None:
    class Stream(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1
            super().flush()

    stream = Stream()
    log = InertLog(stream)
    log.write("\rscanning ##[x")
    log.flush()
    assert (stream.getvalue(), stream.flushes) == ("\rscanning #\\x23[x", 1)
    write_own(cast(TextIO, log), "\n::stop-commands::t\n::set-output name=a::b\n::t::\n")
    log.writelines(["::warning::x\n"])
    assert stream.getvalue().endswith(
        "\n::stop-commands::t\n::set-output name=a::b\n::t::\n\\x3a:warning::x\n"
    )
    assert cast(io.StringIO, log).getvalue() == stream.getvalue()  # the rest is the stream's


@pytest.mark.parametrize(
    ("before", "own", "then", "shown"),
    [
        ("", '{"a": 1}\n  :', ":warning::x\n", "\\x3awarning::x\n"),  # `  :` + `:warning::` is one
        ("", "doc\r##", "[add-mask]x", "\\x5badd-mask]x"),  # `##` + `[` would be one
        ("", '{"a": 1}\r\n', "::warning::y", "\\x3a:warning::y"),  # a new line: a command at its start
        ("", "::t::", "::x", "::x"),  # mid-line: no command
        ("x", "  ", "::x", "::x"),  # the line the own text goes on with was already under way
    ],
    ids=["colon-left-open", "hashes-left-open", "line-ended", "mid-line", "line-under-way"],
)
def test_inert_log_continues_the_line_the_gates_own_text_left_open(
    before: str, own: str, then: str, shown: str
) -> None:
    # The gate's own text (a document, a stop-commands block) is written as it is, and what is
    # written after it is read as the rest of the line it left open.
    stream = io.StringIO()
    log = InertLog(stream)
    log.write(before)
    write_own(cast(TextIO, log), own)
    log.write(then)
    assert stream.getvalue() == before + own + shown


def test_annotations_stay_within_the_title_and_message_github_keeps(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # A report's package names and versions can be as long as they like; an annotation's title is
    # at most 255 characters and the runner keeps 4,096 of its message.
    long = "x" * 20_000
    evaluation = evaluation_of(
        *(finding(f"CVE-2024-{n:04d}", pkg=f"{long}{n}", severity=Severity.CRITICAL) for n in range(3))
    )
    step = Step(github_pull_request, tmp_path)
    step.publish(evaluation, comment=False)
    found = commands(step.stdout.getvalue())
    assert len(found) == 3
    for _name, props, message in found:
        assert len(props["title"]) <= 255
        assert props["title"].startswith("container-gate: Upgrade xxx")
        assert props["title"].endswith("…")
        assert len(message) <= 4096


def test_more_actions_than_github_shows_end_in_one_annotation(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    findings = []
    for line in range(1, 16):
        layer = Layer(index=line, created_by="RUN x", origin=LayerOrigin.OWN, dockerfile_line=line)
        findings.append(replace(finding(f"CVE-2024-{line:04d}", pkg=f"lib{line:02d}"), layer=layer))
    findings.append(
        finding("CVE-2024-9999", pkg="zlib1g", fixed=(), status=VendorStatus.AFFECTED)
    )  # no layer, no fix
    step = Step(github_pull_request, tmp_path)
    step.publish(
        evaluation_of(*findings), dockerfile="Dockerfile", location="deploy/Dockerfile", comment=False
    )
    found = commands(step.stdout.getvalue())
    assert len(found) == 10
    assert [p.get("line") for _n, p, _m in found[:9]] == [str(n) for n in range(1, 10)]
    last = found[9]
    assert "line" not in last[1]
    assert last[1]["file"] == "deploy/Dockerfile"
    assert (
        last[1]["title"]
        == "container-gate: 6 more actions and those without a fix: 7 finding(s) block (HIGH)"
    )
    assert "CVE-2024-9999 (HIGH) in zlib1g 3.0.2-1, no fix" in last[2]


def test_findings_that_block_without_a_fix_get_their_own_annotation(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    step = Step(github_pull_request, tmp_path)
    step.publish(
        evaluation_of(
            finding("CVE-2024-0001"), finding("CVE-2024-9999", fixed=(), status=VendorStatus.AFFECTED)
        ),
        comment=False,
    )
    titles = [p["title"] for _n, p, _m in commands(step.stdout.getvalue())]
    assert titles == [
        "container-gate: Upgrade openssl 3.0.2-1 -> 3.0.13-1: clears 1 finding(s) that block (HIGH)",
        "container-gate: 1 finding(s) block without a fix yet (HIGH)",
    ]


def test_advisory_findings_are_warnings_without_a_file_when_none_is_known(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    evaluation = evaluation_of(finding(), policy=Policy(source="p.yaml", mode=Mode.ADVISORY))
    step = Step(github_pull_request, tmp_path)
    step.publish(evaluation, comment=False)
    [(name, props, _message)] = commands(step.stdout.getvalue())
    assert name == "warning"
    assert "file" not in props
    assert props["title"] == (
        "container-gate: Upgrade openssl 3.0.2-1 -> 3.0.13-1: clears 1 finding(s) that would block (HIGH)"
    )
    assert read_outputs(step.outputs)["advisory"] == ["true"]


def test_a_forks_comment_warning_keeps_its_place_among_the_ten_warnings_github_shows(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    # Advisory findings of many actions fill the warning annotations; the warning that the comment
    # could not be written comes after them, and GitHub shows only ten warnings of a step.
    findings = []
    for line in range(1, 16):
        layer = Layer(index=line, created_by="RUN x", origin=LayerOrigin.OWN, dockerfile_line=line)
        findings.append(replace(finding(f"CVE-2024-{line:04d}", pkg=f"lib{line:02d}"), layer=layer))
    evaluation = evaluation_of(*findings, policy=Policy(source="p.yaml", mode=Mode.ADVISORY))
    step = Step(github_pull_request, tmp_path, GITHUB_TOKEN=READ_ONLY_TOKEN)
    [warning] = step.publish(evaluation, dockerfile="Dockerfile")
    assert "403 Resource not accessible by integration" in warning
    annotations = commands(step.stdout.getvalue())
    assert [name for name, _props, _message in annotations] == ["warning"] * 9  # the comment's is the tenth
    assert annotations[-1][1]["title"] == "container-gate: 7 more actions: 7 finding(s) would block (HIGH)"


# --- through the command line ------------------------------------------------------------------


def cli_environment(
    monkeypatch: pytest.MonkeyPatch, scenario: PullRequestScenario, tmp_path: Path, **extra: str
) -> Step:
    step = Step(scenario, tmp_path, **extra)
    for name in ("INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN", "CONTAINER_GATE_COMMENT_AUTHOR", "GITLAB_CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in step.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return step


@pytest.mark.parametrize(
    ("event_name", "payload"),
    [
        ("push", {"ref": "refs/heads/main"}),
        ("schedule", {"schedule": "23 4 * * *"}),
        ("merge_group", {"action": "checks_requested", "merge_group": {"head_sha": "1" * 40}}),
    ],
)
def test_the_log_says_why_an_event_without_a_pull_request_has_no_comment(
    event_name: str,
    payload: dict[str, Any],
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The action has no --verbose: without this line, a missing comment is a mystery in the log.
    step = cli_environment(monkeypatch, github_pull_request, tmp_path, GITHUB_EVENT_NAME=event_name)
    Path(step.env["GITHUB_EVENT_PATH"]).write_text(json.dumps(payload), encoding="utf-8")
    assert cli.main(["check", str(BUSTER), "--ci", "github"]) == ExitCode.FAIL
    _out, err = capsys.readouterr()
    assert err == (
        f"container-gate: github: no pull-request comment: the {event_name} event belongs to no pull request\n"
    )
    assert github_pull_request.github.requests == []


def test_quiet_keeps_the_log_to_the_verdict_line(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `--quiet` prints only the verdict line: not where the comment went either.
    step = cli_environment(monkeypatch, github_pull_request, tmp_path)
    assert cli.main(["check", str(BUSTER), "--ci", "github", "--quiet"]) == ExitCode.FAIL
    _out, err = capsys.readouterr()
    assert len(step.comments()) == 1
    assert err == ""


def test_the_command_line_publishes_a_verdict(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    step = cli_environment(monkeypatch, github_pull_request, tmp_path)
    argv = ["check", str(BUSTER), "--ci", "github", "--json", "decision.json", "--sarif", "gate.sarif"]
    assert cli.main(argv) == ExitCode.FAIL
    out, err = capsys.readouterr()
    [comment] = step.comments()
    # The job's log says where the comment is (a plain line, not an annotation).
    url = f"https://github.com/octo-org/app/pull/1#issuecomment-{comment.id}"
    assert err == f"container-gate: github: pull request #1: created {url}\n"
    assert "CVE\\-2019\\-18224" in comment.body
    outputs = read_outputs(step.outputs)
    assert outputs["verdict"] == ["fail"]
    assert outputs["json-file"] == ["decision.json"]
    assert outputs["sarif-file"] == ["gate.sarif"]
    assert outputs["comment-url"] == [f"https://github.com/octo-org/app/pull/1#issuecomment-{comment.id}"]
    # No --dockerfile and no --sarif-location: the finding is annotated on no file (SARIF's
    # default, `Dockerfile`, is a file the run never read).
    # Besides the warning of a Trivy golden without its package list, which names no file either.
    [(name, props, _message)] = [command for command in commands(out) if command[0] != "warning"]
    assert (name, "file" in props, "line" in props) == ("error", False, False)
    assert "container-gate: fail" in step.summary.read_text(encoding="utf-8")
    github_pull_request.github.assert_token_confined(github_pull_request.token)


def test_the_comment_url_output_never_carries_the_token(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Belt and braces, as for every message: whatever GitHub answers, the token is masked.
    github = github_pull_request.github
    github.endpoints.urls = Urls(api=github.base_url, html=f"https://github.com/{github_pull_request.token}")
    step = cli_environment(monkeypatch, github_pull_request, tmp_path)
    assert cli.main(["-v", "check", str(BUSTER), "--ci", "github"]) == ExitCode.FAIL
    _out, err = capsys.readouterr()
    [comment] = step.comments()
    [url] = read_outputs(step.outputs)["comment-url"]
    assert url == f"https://github.com/[MASKED]/octo-org/app/pull/1#issuecomment-{comment.id}"
    assert github_pull_request.token not in err + step.outputs.read_text(encoding="utf-8")


def test_the_token_never_leaves_the_authorization_header(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = github_pull_request.token
    step = cli_environment(monkeypatch, github_pull_request, tmp_path)
    assert (
        cli.main(["-v", "check", str(BUSTER), "--ci", "github", "--markdown", "summary.md"]) == ExitCode.FAIL
    )
    assert cli.main(["-v", "check", str(tmp_path / "missing.json"), "--ci", "github"]) == 2
    out, err = capsys.readouterr()
    assert "pull request #1: updated" in err  # the error run changed the comment
    for text in (
        out,
        err,
        step.summary.read_text(),
        step.outputs.read_text(),
        (tmp_path / "summary.md").read_text(),
    ):
        assert token not in text
    for comment in step.comments():
        assert token not in comment.body
    github_pull_request.github.assert_token_confined(token)


def test_the_command_line_keeps_its_exit_code_for_a_fork(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    step = cli_environment(monkeypatch, github_pull_request, tmp_path, GITHUB_TOKEN=READ_ONLY_TOKEN)
    assert cli.main(["check", str(BUSTER), "--ci", "github"]) == ExitCode.FAIL
    out, err = capsys.readouterr()
    assert "\n::warning::no comment on pull request #1 of octo-org/app" in out
    assert "warning" not in err  # an annotation, not a line lost in the log
    assert READ_ONLY_TOKEN not in out + err
    assert read_outputs(step.outputs)["verdict"] == ["fail"]
    assert step.summary.read_text(encoding="utf-8")
    assert step.comments() == []


def test_the_command_line_exits_3_when_the_summary_cannot_be_written(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli_environment(monkeypatch, github_pull_request, tmp_path, GITHUB_STEP_SUMMARY=str(tmp_path))
    assert cli.main(["check", str(BUSTER), "--ci", "github"]) == ExitCode.ERROR
    assert "cannot write the job summary" in capsys.readouterr().err


@pytest.mark.parametrize("inside", [True, False])
def test_a_policy_errors_annotation_points_at_its_first_problem(
    inside: bool,
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    step = tmp_path / "step"
    cli_environment(monkeypatch, github_pull_request, step)
    # A name with the characters a workflow command's property must escape.
    policy = (step if inside else tmp_path) / "ci" / "gate,policy:100%.yaml"
    policy.parent.mkdir()
    policy.write_text("version: 1\nfail_on:\n  severity: HUGE\n  cvss_score: 11\n", encoding="utf-8")
    given = "ci/gate,policy:100%.yaml" if inside else str(policy)
    assert cli.main(["check", str(BUSTER), "--ci", "github", "--policy", given]) == ExitCode.USAGE
    out = capsys.readouterr().out
    [(name, props, message)] = commands(out)
    assert (name, message.split(": ")[1]) == ("error", "fail_on.severity")
    assert message.startswith(f"{given}:3: ")
    where = {"file": "ci/gate,policy:100%.yaml", "line": "3"} if inside else {}
    assert {k: v for k, v in props.items() if k != "title"} == where


def test_a_verdict_the_run_could_not_publish_has_the_error_beside_it_in_the_outputs(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A later step of a failed gate step (`continue-on-error`) must not read a plain pass.
    step = cli_environment(monkeypatch, github_pull_request, tmp_path, GITHUB_STEP_SUMMARY=str(tmp_path))
    assert cli.main(["check", str(corpus_file("trivy", "alpine-310.json.golden")), "--ci", "github"]) == 3
    error = capsys.readouterr().err.removeprefix("container-gate: error: ").strip()
    outputs = read_outputs(step.outputs)
    assert (outputs["verdict"], outputs["exit-code"], outputs["error"]) == (["pass"], ["3"], [error])
    assert "cannot write the job summary" in error


def test_an_output_file_the_run_could_not_write_is_the_error_in_the_outputs(
    github_pull_request: PullRequestScenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    step = cli_environment(monkeypatch, github_pull_request, tmp_path)
    (tmp_path / "out").mkdir()
    argv = ["check", str(BUSTER), "--ci", "github", "--json", "out", "--markdown", "gate.md"]
    assert cli.main(argv) == ExitCode.USAGE
    error = capsys.readouterr().err.removeprefix("container-gate: error: ").strip()
    outputs = read_outputs(step.outputs)
    assert (outputs["verdict"], outputs["exit-code"], outputs["error"]) == (["fail"], ["2"], [error])
    assert error.startswith("out: cannot write")
    # The `*-file` outputs name only the files written: none for the JSON report.
    assert ("json-file" in outputs, outputs["markdown-file"]) == (False, ["gate.md"])


def test_an_annotation_of_a_fix_without_a_version_named_is_not_no_fix() -> None:
    # Snyk: an upgrade of what pulls qs in fixes it, without naming a version of qs.
    qs = finding("CVE-2014-7191", pkg="qs", version="0.4.2", type="npm", path="package.json", fixed=())
    assert (
        finding_line(qs) == "CVE-2014-7191 (HIGH) in qs 0.4.2 at package.json, a fix exists, no version named"
    )


@pytest.mark.parametrize("wording", [COMMAND_LINE_WORDS, ACTION_WORDS], ids=["command line", "action"])
def test_an_untrusted_certificate_of_github_says_how_the_run_trusts_a_ca(
    github_pull_request: PullRequestScenario, tmp_path: Path, private_ca: PrivateCa, wording: RunWording
) -> None:
    # A GitHub Enterprise Server whose certificate a CA of its own signed: the warning said to check
    # that a CA "this machine trusts" signed it, whatever the way of running could do about it.
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError), private_ca.server_context.wrap_socket(conn, server_side=True):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        api = f"https://127.0.0.1:{listener.getsockname()[1]}"
        step = Step(github_pull_request, tmp_path, GITHUB_API_URL=api)
        [warning] = step.publish(evaluation_of(finding("CVE-2024-1")), wording=wording)
    finally:
        stopping.set()
        thread.join(timeout=10)
        listener.close()
    assert f"(TLS error: its certificate is not trusted; {wording.untrusted_certificate})" in warning
    assert "CI_SERVER_TLS_CA_FILE" not in warning
