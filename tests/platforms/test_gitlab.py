"""The GitLab publisher against the GitLab fake: one note per job, image and platform that stays right.

Every test runs the real publisher over HTTP against tests/support/gitlab_server.py, which answers
like GitLab's notes API and fails the test on any request that breaks the documented contract.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.model import ImageInfo, Severity
from gate.platforms.gitlab import GitLabPublisher, commit_shas, gitlab_body, note_key
from gate.platforms.interface import PublishContext
from gate.platforms.marker import MarkerKey, MarkerKind, stable_image
from gate.platforms.retry import RetryPolicy
from gate.policy.evaluation import Evaluation
from gate.render.markdown import GITLAB_NOTE_LIMIT
from tests.support.corpus import corpus_file
from tests.support.factories import evaluation_of, finding
from tests.support.gitlab_fixtures import MergeRequestPipeline, merge_request_pipeline
from tests.support.gitlab_server import GitLabFake, Note
from tests.support.tls import PrivateCa

APP = ImageInfo(reference="registry.example.com/acme/web/app:1", os="linux", architecture="amd64")
WORKER = ImageInfo(reference="registry.example.com/acme/web/worker:1", os="linux", architecture="amd64")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests honours proxy variables; nothing may stand between the publisher and 127.0.0.1.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def note_key_of(body: str) -> MarkerKey | None:
    return MarkerKey.parse(MarkerKind.GITLAB_NOTE, body)


def failing(image: ImageInfo = APP) -> Evaluation:
    return evaluation_of(finding("CVE-2024-1111", severity=Severity.CRITICAL), image=image)


def passing(image: ImageInfo = APP) -> Evaluation:
    return evaluation_of(finding("CVE-2024-2222", severity=Severity.LOW), image=image)


def context(pipe: MergeRequestPipeline, *, using: str | None = None, **extra: str) -> PublishContext:
    env = {**pipe.env, "GITLAB_TOKEN": using if using is not None else pipe.token, **extra}
    return PublishContext(env=env)


def publisher(sleeps: list[float] | None = None) -> GitLabPublisher:
    recorded = sleeps if sleeps is not None else []
    return GitLabPublisher(sleep=recorded.append)


def notes(pipe: MergeRequestPipeline) -> list[Note]:
    return pipe.gitlab.notes(pipe.merge_request)


def writes(pipe: MergeRequestPipeline) -> list[str]:
    return [r.method for r in pipe.gitlab.requests if r.method in ("POST", "PUT", "DELETE")]


def test_first_run_creates_the_note_and_the_next_updates_it(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    assert publisher().publish(failing(), context(pipe)).warnings == ()
    [created] = notes(pipe)
    assert created.author == pipe.bot
    assert "container-gate: fail" in created.body
    assert note_key_of(created.body) is not None

    assert publisher().publish(passing(), context(pipe)).warnings == ()
    [updated] = notes(pipe)
    assert updated.id == created.id
    assert "container-gate: pass" in updated.body
    assert "CVE-2024-1111" not in updated.body
    assert updated.body.split("\n", 1)[0] == created.body.split("\n", 1)[0]
    assert writes(pipe) == ["POST", "PUT"]
    # Paginated, oldest first, at the documented maximum page size.
    listing = [r.target for r in pipe.gitlab.requests if r.method == "GET" and "/notes" in r.target]
    assert all("sort=asc" in t and "per_page=100" in t and "order_by=created_at" in t for t in listing)


def test_a_link_to_an_issue_on_the_runs_own_server_is_left_out_of_the_note(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    # On a self-managed GitLab, a report's link to one of its issues (here in the form without
    # `/-/`) would add a "mentioned in" note to that issue from every merge request.
    pipe = gitlab_mr_pipeline
    issue = f"{pipe.env['CI_SERVER_URL']}/acme/lib/issues/7"
    evaluation = evaluation_of(
        finding("CVE-2024-1111", severity=Severity.CRITICAL, primary_url=issue), image=APP
    )
    assert publisher().publish(evaluation, context(pipe)).warnings == ()
    [created] = notes(pipe)
    assert issue not in created.body
    assert "(https://nvd.nist.gov/vuln/detail/CVE-2024-1111)" in created.body


def test_two_images_in_one_merge_request_get_two_notes(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    for _run in range(2):
        assert publisher().publish(failing(APP), context(pipe)).warnings == ()
        assert publisher().publish(passing(WORKER), context(pipe)).warnings == ()
    bodies = [n.body for n in notes(pipe)]
    assert len(bodies) == 2
    assert "acme/web/app" in bodies[0]
    assert "fail" in bodies[0]
    assert "acme/web/worker" in bodies[1]
    assert "pass" in bodies[1]
    assert note_key_of(bodies[0]) != note_key_of(bodies[1])


def test_another_job_or_platform_gets_its_own_note(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    arm = ImageInfo(reference=APP.reference, os="linux", architecture="arm64")
    publisher().publish(failing(APP), context(pipe))
    publisher().publish(failing(arm), context(pipe))
    publisher().publish(failing(APP), context(pipe, CI_JOB_NAME="gate-staging"))
    assert len(notes(pipe)) == 3


def test_the_commit_sha_in_the_tag_does_not_make_a_new_note_per_push(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    pipe = gitlab_mr_pipeline
    for sha in ("0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98"):
        image = ImageInfo(reference=f"registry.example.com/acme/web:{sha}", os="linux", architecture="amd64")
        env = {"CI_COMMIT_SHA": sha, "CI_COMMIT_SHORT_SHA": sha[:8]}
        assert publisher().publish(failing(image), context(pipe, **env)).warnings == ()
    assert len(notes(pipe)) == 1
    env = {"CI_COMMIT_SHA": "0123abcd" + "e" * 32, "CI_COMMIT_SHORT_SHA": "0123abcd"}
    assert stable_image("r.example/a:v1-0123abcd@sha256:" + "0" * 64, commit_shas(env)) == "r.example/a:v1-"
    # A tag cut to 7 characters (`git rev-parse --short=7`) is recognised too.
    assert stable_image("r.example/a:sha-0123abc", commit_shas(env)) == "r.example/a:sha-"
    assert stable_image("127.0.0.1:5000/a", commit_shas({})) == "127.0.0.1:5000/a:"


def test_the_earlier_note_is_found_on_a_later_page(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    for index in range(230):
        pipe.gitlab.seed_note(pipe.merge_request, f"review comment {index}", author=pipe.job_user)
    publisher().publish(failing(), context(pipe))
    ours = notes(pipe)[-1]
    for index in range(120):
        pipe.gitlab.seed_note(pipe.merge_request, f"pushed commit {index}", author=pipe.job_user, system=True)

    assert publisher().publish(passing(), context(pipe)).warnings == ()
    assert len(notes(pipe)) == 351
    assert "container-gate: pass" in notes(pipe)[230].body
    assert notes(pipe)[230].id == ours.id
    assert writes(pipe) == ["POST", "PUT"]
    pages = {r.target.split("page=")[-1].split("&")[0] for r in pipe.gitlab.requests if "/notes?" in r.target}
    assert {"1", "2", "3", "4"} <= pages


def test_a_copied_marker_in_someone_elses_note_is_left_alone(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    pipe = gitlab_mr_pipeline
    marker = note_key(pipe.env, APP.reference, APP.platform).marker
    quoted = pipe.gitlab.seed_note(
        pipe.merge_request, f"{marker}\nquoted by a reviewer", author=pipe.job_user
    )
    assert publisher().publish(failing(), context(pipe)).warnings == ()
    first, second = notes(pipe)
    assert (first.id, first.body) == (quoted.id, quoted.body)
    assert second.author == pipe.bot
    assert second.body.startswith(marker)


def test_our_note_edited_above_its_marker_is_still_ours(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    assert publisher().publish(failing(), context(pipe)).warnings == ()
    [ours] = notes(pipe)
    edited = pipe.gitlab.state.update_note(ours, "Known: waiting for the base image.\n\n" + ours.body)
    assert publisher().publish(passing(), context(pipe)).warnings == ()
    [kept] = notes(pipe)
    assert kept.id == edited.id
    assert "container-gate: pass" in kept.body
    assert kept.body.startswith(note_key(pipe.env, APP.reference, APP.platform).marker)
    assert writes(pipe) == ["POST", "PUT"]


def test_a_marker_below_the_first_line_of_someone_elses_note_is_left_alone(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    pipe = gitlab_mr_pipeline
    marker = note_key(pipe.env, APP.reference, APP.platform).marker
    quoted = pipe.gitlab.seed_note(
        pipe.merge_request, f"The gate said:\n{marker}\nfail", author=pipe.job_user
    )
    assert publisher().publish(failing(), context(pipe)).warnings == ()
    first, second = notes(pipe)
    assert (first.id, first.body) == (quoted.id, quoted.body)
    assert second.author == pipe.bot
    assert second.body.startswith(marker)


def test_our_note_merged_by_hand_below_another_jobs_marker_is_updated_not_duplicated(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    pipe = gitlab_mr_pipeline
    marker = note_key(pipe.env, APP.reference, APP.platform).marker
    other = note_key({**pipe.env, "CI_JOB_NAME": "another job"}, APP.reference, APP.platform).marker
    merged = pipe.gitlab.seed_note(pipe.merge_request, f"{other}\nmerged\n\n{marker}\nold", author=pipe.bot)
    assert publisher().publish(failing(), context(pipe)).warnings == ()
    [kept] = notes(pipe)
    assert kept.id == merged.id
    assert kept.body.startswith(marker)
    assert "container-gate: fail" in kept.body
    assert writes(pipe) == ["PUT"]


def test_duplicates_of_our_note_are_removed(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    marker = note_key(pipe.env, APP.reference, APP.platform).marker
    older = pipe.gitlab.seed_note(pipe.merge_request, f"{marker}\nold", author=pipe.bot)
    pipe.gitlab.seed_note(pipe.merge_request, f"{marker}\nolder duplicate", author=pipe.bot)
    assert publisher().publish(failing(), context(pipe)).warnings == ()
    [kept] = notes(pipe)
    assert kept.id == older.id
    assert "container-gate: fail" in kept.body


def test_only_a_job_token_warns_and_writes_nothing(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    assert "CI_JOB_TOKEN" in pipe.env
    [warning] = publisher().publish(failing(), PublishContext(env=pipe.env)).warnings
    assert "CI_JOB_TOKEN cannot write notes" in warning
    assert "project access token with the `api` scope" in warning
    assert "Reporter" in warning
    assert "GITLAB_TOKEN" in warning
    assert pipe.job_token not in warning
    assert pipe.gitlab.requests == []
    assert notes(pipe) == []


def test_a_fork_pipeline_without_the_token_says_where_to_run_it(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    # A fork's merge-request pipeline runs in the fork, which has no GITLAB_TOKEN of the target
    # project: creating a token there is not the advice.
    pipe = gitlab_mr_pipeline
    env = {**pipe.env, "CI_PROJECT_ID": "99", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "99"}
    [warning] = publisher().publish(failing(), PublishContext(env=env)).warnings
    assert "runs in the fork" in warning
    assert "Run pipeline" in warning
    assert "create a project access token" not in warning
    assert pipe.gitlab.requests == []


def test_a_read_api_token_warns_naming_the_scope(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    pipe.gitlab.add_token("glpat-read-only-abcdef", pipe.bot, scopes=("read_api",))
    sleeps: list[float] = []
    [warning] = publisher(sleeps).publish(failing(), context(pipe, using="glpat-read-only-abcdef")).warnings
    assert "insufficient_scope" in warning
    assert "needs: api" in warning
    assert "`api` scope" in warning
    assert "glpat-read-only-abcdef" not in warning
    assert notes(pipe) == []
    assert sleeps == []  # a refusal is not retried


def test_a_wrong_token_warns_without_showing_it(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    [warning] = publisher().publish(failing(), context(pipe, using="glpat-revoked-999")).warnings
    assert "401" in warning
    assert "expired or revoked" in warning
    assert "glpat-revoked-999" not in warning
    assert [r.target for r in pipe.gitlab.requests] == ["/api/v4/user"]


def test_two_bad_gateways_then_success(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    pipe.gitlab.fail_next(2, status=502)
    sleeps: list[float] = []
    assert publisher(sleeps).publish(failing(), context(pipe)).warnings == ()
    assert sleeps == [2.0, 4.0]  # exponential backoff
    assert len(notes(pipe)) == 1
    assert [r.status for r in pipe.gitlab.requests][:2] == [502, 502]


def test_a_lost_answer_to_the_post_does_not_duplicate_the_note(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    pipe = gitlab_mr_pipeline
    pipe.gitlab.fail_next(1, status=504, method="POST", after_apply=True)
    assert publisher().publish(failing(), context(pipe)).warnings == ()
    assert len(notes(pipe)) == 1
    assert writes(pipe) == ["POST"]  # the retry found the note written and left it as it is


def test_an_unchanged_verdict_is_not_written_again(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    publisher().publish(failing(), context(pipe))
    publisher().publish(failing(), context(pipe))
    assert writes(pipe) == ["POST"]
    [note] = notes(pipe)
    assert note.created_at == note.updated_at


@pytest.mark.parametrize("throttle", ["authenticated_api", "notes_create"])
def test_a_429_waits_what_retry_after_says(gitlab_mr_pipeline: MergeRequestPipeline, throttle: str) -> None:
    pipe = gitlab_mr_pipeline
    method = "POST" if throttle == "notes_create" else None
    pipe.gitlab.rate_limit_next(1, retry_after=17, method=method, throttle=throttle)  # type: ignore[arg-type]
    sleeps: list[float] = []
    assert publisher(sleeps).publish(failing(), context(pipe)).warnings == ()
    assert sleeps == [17.0]
    assert len(notes(pipe)) == 1


def test_a_retry_after_beyond_the_budget_gives_up_at_once(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    pipe.gitlab.rate_limit_next(1, retry_after=3600)
    sleeps: list[float] = []
    [warning] = publisher(sleeps).publish(failing(), context(pipe)).warnings
    assert sleeps == []
    assert "GitLab asked for a wait of 3600 s (429" in warning
    assert "after 1 attempt(s), more than the 90 s left to wait" in warning
    assert warning.startswith("merge-request note not written: ")  # there was no note to update
    assert notes(pipe) == []


def test_retries_stop_after_the_attempts_of_the_policy(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    pipe.gitlab.fail_next(10, status=503)
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=3, first_delay=1.0)
    [warning] = GitLabPublisher(sleep=sleeps.append, retry=policy).publish(failing(), context(pipe)).warnings
    assert sleeps == [1.0, 2.0]
    assert "503" in warning
    assert "3 attempt(s)" in warning
    assert len(pipe.gitlab.requests) == 3


def test_a_branch_pipeline_makes_no_api_call(
    gitlab_mr_pipeline: MergeRequestPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = gitlab_mr_pipeline
    env = {k: v for k, v in pipe.env.items() if not k.startswith("CI_MERGE_REQUEST_")}
    env |= {"CI_PIPELINE_SOURCE": "push", "GITLAB_TOKEN": pipe.token}
    published = publisher().publish(failing(), PublishContext(env=env))
    assert published.warnings == ()
    [note] = published.notes  # shown with --verbose
    assert "not a merge-request pipeline (CI_PIPELINE_SOURCE=push)" in note
    assert publisher().publish_error("boom", 3, PublishContext(env=env)).warnings == ()
    assert capsys.readouterr() == ("", "")  # a publisher never prints
    assert pipe.gitlab.requests == []


def test_no_comment_makes_no_api_call(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    env = {**pipe.env, "GITLAB_TOKEN": pipe.token}
    assert publisher().publish(failing(), PublishContext(env=env, comment=False)).warnings == ()
    assert pipe.gitlab.requests == []


def test_an_error_turns_the_existing_note_into_no_verdict(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    publisher().publish(passing(), context(pipe))
    [before] = notes(pipe)
    ctx = context(pipe)
    assert publisher().publish_error("scanner crashed: no DB in /cache", 3, ctx).warnings == ()
    [after] = notes(pipe)
    assert after.id == before.id
    assert "could not decide (exit code 3)" in after.body
    assert "pass" not in after.body.split("\n", 2)[1]
    assert after.body.split("\n", 1)[0] == before.body.split("\n", 1)[0]
    # The next verdict finds the same note again.
    publisher().publish(failing(), ctx)
    [again] = notes(pipe)
    assert again.id == before.id
    assert "container-gate: fail" in again.body


def test_an_error_creates_no_note_and_spares_other_jobs(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    assert publisher().publish_error("boom", 2, context(pipe)).warnings == ()
    assert notes(pipe) == []
    publisher().publish(passing(), context(pipe, CI_JOB_NAME="other-job"))
    publisher().publish_error("boom", 2, context(pipe))
    [other] = notes(pipe)
    assert "container-gate: pass" in other.body


def seed_merged_and_own_notes(pipe: MergeRequestPipeline) -> tuple[Note, Note]:
    """An older note edited by hand to hold another job's marker above this job's, and this
    job's own note after it: (merged, own)."""
    marker = note_key(pipe.env, APP.reference, APP.platform).marker
    other = note_key({**pipe.env, "CI_JOB_NAME": "another job"}, APP.reference, APP.platform).marker
    merged = pipe.gitlab.seed_note(pipe.merge_request, f"{other}\nmerged\n\n{marker}\nold", author=pipe.bot)
    own = pipe.gitlab.seed_note(pipe.merge_request, f"{marker}\nours", author=pipe.bot)
    return merged, own


def test_a_verdict_leaves_a_note_merged_with_another_jobs_to_that_job(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    # The job's own note is the one it updates; the older note edited by hand to hold the other
    # job's marker as well is neither taken over nor deleted as a duplicate.
    pipe = gitlab_mr_pipeline
    merged, own = seed_merged_and_own_notes(pipe)
    assert publisher().publish(passing(APP), context(pipe)).warnings == ()
    after_merged, after_own = notes(pipe)
    assert (after_merged.id, after_merged.body) == (merged.id, merged.body)
    assert after_own.id == own.id
    assert "container-gate: pass" in after_own.body


def test_an_error_leaves_a_note_merged_with_another_jobs_to_that_job(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    # The note of this job is its own; the one edited by hand to hold the other job's marker as
    # well is the other job's, which an error must not take over (nor drop its marker from).
    pipe = gitlab_mr_pipeline
    merged, own = seed_merged_and_own_notes(pipe)
    ctx = PublishContext(env=context(pipe).env, image=APP.reference)
    assert publisher().publish_error("image not found", 3, ctx).warnings == ()
    after_merged, after_own = notes(pipe)
    assert (after_merged.id, after_merged.body) == (merged.id, merged.body)
    assert after_own.id == own.id
    assert "could not decide" in after_own.body


def test_an_error_edits_a_merged_note_when_the_job_has_no_other(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    # The merged note is then the job's to edit: its old verdict never stays.
    pipe = gitlab_mr_pipeline
    marker = note_key(pipe.env, APP.reference, APP.platform).marker
    other = note_key({**pipe.env, "CI_JOB_NAME": "another job"}, APP.reference, APP.platform).marker
    pipe.gitlab.seed_note(pipe.merge_request, f"{other}\nmerged\n\n{marker}\npass", author=pipe.bot)
    ctx = PublishContext(env=context(pipe).env, image=APP.reference)
    assert publisher().publish_error("image not found", 3, ctx).warnings == ()
    [after] = notes(pipe)
    assert after.body.startswith(marker)
    assert "could not decide" in after.body


@pytest.mark.parametrize("platform", ["linux/arm64", "linux/aarch64", "linux/arm64/v8"])
def test_an_error_with_a_platform_changes_only_that_platforms_note(
    gitlab_mr_pipeline: MergeRequestPipeline, platform: str
) -> None:
    # One job scanning each platform of a multi-arch image in turn (`--platform`): the run that
    # could not decide for one platform must not replace the other's verdict, however its
    # --platform spells the platform.
    pipe = gitlab_mr_pipeline
    arm = ImageInfo(reference=APP.reference, os="linux", architecture="arm64")
    publisher().publish(passing(APP), context(pipe))
    publisher().publish(passing(arm), context(pipe))
    ctx = PublishContext(env=context(pipe).env, image=APP.reference, platform=platform)
    assert publisher().publish_error("image not found", 3, ctx).warnings == ()
    amd64, arm64 = notes(pipe)
    assert "container-gate: pass" in amd64.body
    assert "could not decide" in arm64.body


def test_an_error_with_an_image_changes_only_that_images_note(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    pipe = gitlab_mr_pipeline
    publisher().publish(passing(APP), context(pipe))
    publisher().publish(passing(WORKER), context(pipe))
    ctx = PublishContext(env=context(pipe).env, image=WORKER.reference)
    assert publisher().publish_error("image not found", 3, ctx).warnings == ()
    app, worker = notes(pipe)
    assert "container-gate: pass" in app.body
    assert "could not decide" in worker.body


def test_a_huge_report_fits_gitlabs_note_limit(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    many = [
        finding(f"CVE-2024-{index:05d}", pkg=f"lib{'x' * 60}{index}", severity=Severity.CRITICAL)
        for index in range(12_000)
    ]
    evaluation = evaluation_of(*many, image=APP)
    assert publisher().publish(evaluation, context(pipe)).warnings == ()
    [note] = notes(pipe)
    assert GITLAB_NOTE_LIMIT - 5_000 < len(note.body) <= GITLAB_NOTE_LIMIT
    assert "left out" in note.body
    assert note_key_of(note.body) is not None


def test_a_line_starting_with_a_slash_cannot_become_a_quick_action() -> None:
    assert gitlab_body("text\n/merge\n  /approve\n/label ~x") == "text\n\\/merge\n  /approve\n\\/label ~x"


def test_the_token_appears_only_in_the_private_token_header(
    gitlab_mr_pipeline: MergeRequestPipeline,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pipe = gitlab_mr_pipeline
    for name in ("GITHUB_ACTIONS", "CI_MERGE_REQUEST_IID", "GITLAB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**pipe.env, "GITLAB_TOKEN": pipe.token}.items():
        monkeypatch.setenv(name, value)
    pipe.gitlab.rate_limit_next(1, retry_after=0)  # a retry must not leak it either
    out = tmp_path / "out"
    report = corpus_file("trivy", "debian-buster.json.golden")
    argv = ["--verbose", "check", str(report), "--image-name", APP.reference]
    for flag, name in (
        ("--json", "d.json"),
        ("--markdown", "n.md"),
        ("--gitlab", "gl.json"),
        ("--junit", "j.xml"),
    ):
        argv += [flag, str(out / name)]
    code = cli.main(argv)
    stdout, stderr = capsys.readouterr()

    assert code == ExitCode.FAIL
    assert len(notes(pipe)) == 1
    assert pipe.token not in stdout
    assert pipe.token not in stderr
    for path in out.iterdir():
        assert pipe.token not in path.read_text(encoding="utf-8"), path.name
    assert pipe.gitlab.token_leaks(pipe.token) == []
    requests_made = pipe.gitlab.requests
    assert requests_made
    assert all(r.header("PRIVATE-TOKEN") == pipe.token for r in requests_made)
    assert all(r.header("Authorization") is None and r.header("JOB-TOKEN") is None for r in requests_made)
    assert json.loads((out / "d.json").read_text())["verdict"] == "fail"
    assert "merge request !7: created note" in stderr


def test_the_merge_requests_own_project_wins_over_the_pipelines(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    # A pipeline running in a fork: CI_PROJECT_ID is the fork, the merge request lives upstream.
    pipe = gitlab_mr_pipeline
    assert publisher().publish(failing(), context(pipe, CI_PROJECT_ID="4242")).warnings == ()
    assert len(notes(pipe)) == 1
    assert all("/projects/42/" in r.target for r in pipe.gitlab.requests if "/notes" in r.target)


def test_a_command_line_the_gate_refuses_turns_the_note_into_no_verdict(
    gitlab_mr_pipeline: MergeRequestPipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The plain template passes CONTAINER_GATE_SCANNER as written: `Trivy` stops at the command
    # line, and the note must not keep showing the last pipeline's pass.
    pipe = gitlab_mr_pipeline
    for name, value in {**pipe.env, "GITLAB_TOKEN": pipe.token}.items():
        monkeypatch.setenv(name, value)
    report = corpus_file("trivy", "debian-buster.json.golden")
    publisher().publish(passing(), context(pipe))
    [before] = notes(pipe)
    decision = tmp_path / "container-gate.json"
    argv = ["scan", "--scanner=Trivy", f"--json={decision}", "--", APP.reference]
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == ExitCode.USAGE
    [after] = notes(pipe)
    assert after.id == before.id
    assert "could not decide (exit code 2)" in after.body
    assert "invalid choice: 'Trivy'" in after.body.replace("\\", "")
    assert json.loads(decision.read_text())["verdict"] == "error"
    # `--ci none` and `--no-comment` are honoured even when the rest cannot be read.
    publisher().publish(passing(), context(pipe))
    for quiet in (["--ci", "none"], ["--no-comment"]):
        with pytest.raises(SystemExit):
            cli.main(["check", str(report), *quiet, "--as-of", "tomorrow"])
        [note] = notes(pipe)
        assert "container-gate: pass" in note.body


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"CI_MERGE_REQUEST_IID": ""},
            "CI_PIPELINE_SOURCE is merge_request_event but CI_MERGE_REQUEST_IID is not set",
        ),
        ({"CI_MERGE_REQUEST_IID": "7a"}, "CI_MERGE_REQUEST_IID is not a number (got '7a')"),
        (
            {"CI_MERGE_REQUEST_PROJECT_ID": "acme/wéb"},
            "CI_MERGE_REQUEST_PROJECT_ID is not a number (got 'acme/wéb')",
        ),
        (
            {"CI_MERGE_REQUEST_PROJECT_ID": "", "CI_PROJECT_ID": "acme/web"},
            "CI_PROJECT_ID is not a number (got 'acme/web')",
        ),
        ({"CI_API_V4_URL": "gitlab.example.com/api/v4"}, "CI_API_V4_URL is not an http(s) URL"),
        (
            {"CI_API_V4_URL": "", "CI_SERVER_URL": "ftp://gitlab.example.com"},
            "CI_SERVER_URL is not an http(s) URL",
        ),
        ({"CI_API_V4_URL": "", "CI_SERVER_URL": ""}, "CI_SERVER_URL is not set"),
    ],
)
def test_a_merge_request_pipeline_whose_variables_lead_nowhere_warns(
    gitlab_mr_pipeline: MergeRequestPipeline, changes: dict[str, str], expected: str
) -> None:
    # A merge request that gets no note must say why in the job log, not only with --verbose.
    pipe = gitlab_mr_pipeline
    env = {**pipe.env, "GITLAB_TOKEN": pipe.token, **changes}
    for published in (
        publisher().publish(failing(), PublishContext(env=env)),
        publisher().publish_error("boom", 3, PublishContext(env=env)),
    ):
        [warning] = published.warnings
        assert warning.startswith(f"no merge-request note: {expected}")
        assert pipe.token not in warning
    assert pipe.gitlab.requests == []


def test_an_api_url_that_is_not_gitlabs_api_says_so(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    # The instance's address without /api/v4: GET /user is a 404 there, and the note must not
    # blame the merge request or the token's role.
    pipe = gitlab_mr_pipeline
    [warning] = publisher().publish(failing(), context(pipe, CI_API_V4_URL=pipe.gitlab.base_url)).warnings
    assert "answered 404 to GET /user" in warning
    assert "CI_API_V4_URL" in warning
    assert "Reporter" not in warning
    assert "merge request !7" not in warning
    assert notes(pipe) == []
    # The fake records the request to an endpoint GitLab does not have.
    assert [v.path for v in pipe.gitlab.violations] == ["/user"]
    pipe.gitlab.clear_violations()


def test_a_merge_request_that_does_not_exist_is_named(gitlab_mr_pipeline: MergeRequestPipeline) -> None:
    pipe = gitlab_mr_pipeline
    [warning] = publisher().publish(failing(), context(pipe, CI_MERGE_REQUEST_IID="999")).warnings
    assert "merge request !999 of project 42 is not visible" in warning
    assert "(404)" in warning
    assert pipe.token not in warning


@pytest.mark.parametrize("image", ["", "  "])
def test_an_empty_image_turns_the_note_into_no_verdict(
    gitlab_mr_pipeline: MergeRequestPipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, image: str
) -> None:
    # `scan "$CONTAINER_GATE_IMAGE"` with the variable unset: exit 2, and the note of the image the
    # job gated before must not keep showing that run's pass.
    pipe = gitlab_mr_pipeline
    for name, value in {**pipe.env, "GITLAB_TOKEN": pipe.token}.items():
        monkeypatch.setenv(name, value)
    publisher().publish(passing(), context(pipe))
    [before] = notes(pipe)
    assert cli.main(["scan", f"--json={tmp_path / 'container-gate.json'}", "--", image]) == ExitCode.USAGE
    [after] = notes(pipe)
    assert after.id == before.id
    assert "could not decide (exit code 2)" in after.body
    assert "container-gate: pass" not in after.body


def test_no_token_on_an_unprotected_branch_names_the_protect_flag(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    # A GITLAB_TOKEN marked protected is not given to a merge request's unprotected source branch:
    # the warning says so, not only "create a token", which the team already did.
    pipe = gitlab_mr_pipeline
    env = {**pipe.env, "CI_COMMIT_REF_PROTECTED": "false"}
    [warning] = publisher().publish(failing(), PublishContext(env=env)).warnings
    assert "GITLAB_TOKEN is not set" in warning
    assert "clear its Protect variable flag" in warning
    assert "else create a project access token" in warning
    # Without CI_JOB_TOKEN, and on a protected branch, where the flag is not the reason.
    bare = {k: v for k, v in env.items() if k != "CI_JOB_TOKEN"}
    [warning] = publisher().publish(failing(), PublishContext(env=bare)).warnings
    assert "clear its Protect variable flag" in warning
    protected = {**env, "CI_COMMIT_REF_PROTECTED": "true"}
    [warning] = publisher().publish(failing(), PublishContext(env=protected)).warnings
    assert "Protect variable" not in warning
    assert pipe.gitlab.requests == []


def test_a_job_token_as_the_access_token_says_it_cannot_write_notes(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    # `GITLAB_TOKEN: $CI_JOB_TOKEN` in the job's variables.
    pipe = gitlab_mr_pipeline
    [warning] = publisher().publish(failing(), context(pipe, using=pipe.job_token)).warnings
    assert warning.startswith("merge-request note not written: GitLab refused GITLAB_TOKEN (401), which ")
    assert "a CI/CD job token cannot write merge-request notes" in warning
    assert "a project or personal access token with the `api` scope is needed instead" in warning
    assert "expired or revoked" not in warning
    assert pipe.job_token not in warning
    assert notes(pipe) == []


def test_retries_that_give_up_on_an_existing_note_say_it_was_not_updated(
    gitlab_mr_pipeline: MergeRequestPipeline,
) -> None:
    pipe = gitlab_mr_pipeline
    publisher().publish(failing(), context(pipe))
    pipe.gitlab.fail_next(10, status=503, method="PUT")
    policy = RetryPolicy(attempts=2, first_delay=1.0)
    [warning] = publisher_with(policy).publish(passing(), context(pipe)).warnings
    assert warning.startswith("merge-request note not updated (it shows an earlier run's verdict): ")
    assert "check that" not in warning  # GitLab answered: its URL is right


@pytest.mark.parametrize("variable", ["CI_API_V4_URL", "CI_SERVER_URL"])
def test_gitlab_out_of_reach_names_the_url_variable_never_the_url(
    gitlab_mr_pipeline: MergeRequestPipeline, variable: str
) -> None:
    pipe = gitlab_mr_pipeline
    # Port 1 of the loopback address: nothing listens there, so the connection is refused.
    url = "http://ci-user:s3cret-in-url@127.0.0.1:1" + ("/api/v4" if variable == "CI_API_V4_URL" else "")
    env = {k: v for k, v in pipe.env.items() if k not in ("CI_API_V4_URL", "CI_SERVER_URL")}
    policy = RetryPolicy(attempts=2, first_delay=1.0)
    published = publisher_with(policy).publish(
        failing(), PublishContext(env={**env, variable: url, "GITLAB_TOKEN": pipe.token})
    )
    [warning] = published.warnings
    assert warning.startswith("merge-request note not written: GitLab kept failing (cannot connect to GitLab")
    assert warning.endswith(f"; check that {variable} leads to GitLab's API and that the runner can reach it")
    assert "s3cret" not in warning
    assert "127.0.0.1" not in warning
    assert pipe.token not in warning


def publisher_with(retry: RetryPolicy) -> GitLabPublisher:
    waits: list[float] = []
    return GitLabPublisher(sleep=waits.append, retry=retry)


def test_a_gitlab_with_its_own_ca_is_trusted_through_the_runners_ca_file(private_ca: PrivateCa) -> None:
    # A self-managed GitLab whose certificate no public CA signed: the runner gives its jobs that
    # CA in CI_SERVER_TLS_CA_FILE (git and its artifact uploads trust it), and the note did not.
    with GitLabFake(tls=private_ca.server_context) as fake:
        pipe = merge_request_pipeline(fake)
        assert pipe.env["CI_API_V4_URL"].startswith("https://127.0.0.1:")
        sleeps: list[float] = []
        without = GitLabPublisher(sleep=sleeps.append, retry=RetryPolicy(attempts=2, first_delay=1.0))
        [warning] = without.publish(failing(), context(pipe)).warnings
        assert (
            "cannot connect to GitLab (TLS error: its certificate is not trusted; is GitLab's certificate from a CA the job trusts?"
            in warning
        )
        assert "CI_SERVER_TLS_CA_FILE" in warning
        assert notes(pipe) == []

        trusted = context(pipe, CI_SERVER_TLS_CA_FILE=str(private_ca.ca_file))
        assert publisher().publish(failing(), trusted).warnings == ()
        [created] = notes(pipe)
        assert "container-gate: fail" in created.body
        assert publisher().publish(passing(), trusted).warnings == ()
        [updated] = notes(pipe)
        assert (updated.id, "container-gate: pass" in updated.body) == (created.id, True)
        fake.assert_no_violations()
