"""GitLab CI: one merge-request note per job, image and platform, kept up to date.

In a merge-request pipeline (`CI_MERGE_REQUEST_IID` set) the publisher creates the note on the
first run and edits it on every later one, so the merge request shows the current verdict, not a
history of them. It finds its note by a hidden marker (written on the first line, found on any
line outside a fenced code block, so a note edited above it stays the run's), made of hashes of the job name, the image and
the platform, and by the author being the token's own user (`GET /user`): a marker copied into
someone else's note is never edited.

The image part leaves out the digest and the commit SHA inside the tag, so gating
`$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA` on every push keeps editing one note.

Writing notes needs a token with the `api` scope in `GITLAB_TOKEN`: the job's own
`CI_JOB_TOKEN` may only read merge-request notes (doc/ci/jobs/ci_job_token.md, "Job token
access"; lib/api/notes.rb allows job tokens on the two GET routes only), so `GITLAB_TOKEN:
$CI_JOB_TOKEN` is refused, and the warning says why. Without a token, or when GitLab refuses,
the publisher says what to fix and the verdict, the exit code and the output files stay as
they are. The token goes only into the `PRIVATE-TOKEN` header and never into a message.

GitLab has no job summary like GitHub's; the container-scanning report and the JUnit report are
artifacts the job declares (templates/container-gate.yml), not something published here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gate.platforms._http import ApiError, retried
from gate.platforms.gitlab_api import TLS_CA_VARIABLE, GitLabClient, NotTheApi, RemoteNote
from gate.platforms.interface import PublishContext, Published, usable_token
from gate.platforms.marker import MarkerKey, MarkerKind, kept_and_duplicates, platform_spellings
from gate.platforms.retry import GaveUp, RetryPolicy, default_sleep
from gate.policy.evaluation import Evaluation
from gate.render.markdown import GITLAB_NOTE_LIMIT, render_markdown, render_markdown_error
from gate.run_wording import COMMAND_LINE_WORDS, JsonReportHint
from gate.untrusted import terminal_safe

TOKEN_VARIABLE = "GITLAB_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""The CI/CD variable holding the access token that writes the note."""
JOB_TOKEN_PREFIX = "glcbt-"  # noqa: S105 (a token prefix, not a secret)
"""What GitLab's CI/CD job tokens hold at their start (after the instance's own prefix, if it
sets one: doc/security/tokens, "Token prefixes")."""
_JOB_CREDENTIAL_LIMIT = (
    "a CI/CD job token cannot write merge-request notes (GitLab lets job tokens only read them)"
)
TOKEN_ADVICE = (
    "create a project access token with the `api` scope and at least the Reporter role "
    "(Settings > Access tokens; on GitLab.com Free, a personal access token of a bot user who is a "
    f"Reporter), and store it as a masked CI/CD variable {TOKEN_VARIABLE}"
)

_NUMBER = re.compile(r"[1-9][0-9]{0,18}\Z")
MERGE_REQUEST_EVENT = "merge_request_event"
"""`CI_PIPELINE_SOURCE` of a merge-request pipeline, the only one with `CI_MERGE_REQUEST_IID`."""
_QUICK_ACTION = re.compile(r"^/", re.MULTILINE)


def commit_shas(env: Mapping[str, str]) -> tuple[str, ...]:
    """The commit SHAs GitLab gives the job, which an image tag may hold (`app:$CI_COMMIT_SHA`,
    `app:1.2-$CI_COMMIT_SHORT_SHA`)."""
    return tuple(
        sha for sha in (env.get("CI_COMMIT_SHA", ""), env.get("CI_COMMIT_SHORT_SHA", "")) if len(sha) >= 7
    )


def note_key(env: Mapping[str, str], image: str | None, platform: str | None) -> MarkerKey:
    """The key of the note this run owns: the job's name, the image and the platform."""
    return MarkerKey.of(
        MarkerKind.GITLAB_NOTE, (env.get("CI_JOB_NAME", ""),), image, platform, commit_shas(env)
    )


def _keys(note: RemoteNote) -> tuple[MarkerKey, ...]:
    return MarkerKey.parse_all(MarkerKind.GITLAB_NOTE, note.body)


@dataclass(frozen=True)
class _Target:
    """The merge request a pipeline belongs to, from GitLab's predefined variables."""

    api_url: str
    """`CI_API_V4_URL`, else `CI_SERVER_URL` with `/api/v4`."""
    api_variable: str
    """The variable `api_url` came from, named where the URL cannot be (it can hold credentials)."""
    project_id: str
    """`CI_MERGE_REQUEST_PROJECT_ID` (the merge request's project, also for forks), else `CI_PROJECT_ID`."""
    iid: str
    """`CI_MERGE_REQUEST_IID`."""


def _target(env: Mapping[str, str]) -> _Target | Published:
    """The merge request, or why there is none to write to: a note for --verbose when the
    pipeline belongs to no merge request, a warning when it does but GitLab's variables cannot
    lead to it, so a merge request never silently goes without its note."""
    iid = env.get("CI_MERGE_REQUEST_IID", "")
    source = env.get("CI_PIPELINE_SOURCE", "")
    if not iid and source != MERGE_REQUEST_EVENT:
        shown = terminal_safe(source or "unknown", 40)
        return Published(
            notes=(
                f"no merge-request note: this is not a merge-request pipeline (CI_PIPELINE_SOURCE={shown}); "
                f"GitLab sets CI_MERGE_REQUEST_IID only in pipelines of `{MERGE_REQUEST_EVENT}`",
            )
        )
    if not iid:
        problem = (
            f"CI_PIPELINE_SOURCE is {MERGE_REQUEST_EVENT} but CI_MERGE_REQUEST_IID is not set "
            "(does the job's `variables:` override it?)"
        )
        return Published(warnings=(f"no merge-request note: {problem}",))
    project_variable = (
        "CI_MERGE_REQUEST_PROJECT_ID" if env.get("CI_MERGE_REQUEST_PROJECT_ID") else "CI_PROJECT_ID"
    )
    project = env.get(project_variable, "")
    api_variable = "CI_API_V4_URL" if env.get("CI_API_V4_URL") else "CI_SERVER_URL"
    api_url = env.get("CI_API_V4_URL") or (
        env["CI_SERVER_URL"].rstrip("/") + "/api/v4" if env.get("CI_SERVER_URL") else ""
    )
    for name, value in (("CI_MERGE_REQUEST_IID", iid), (project_variable, project)):
        if not _NUMBER.match(value):
            return Published(
                warnings=(f"no merge-request note: {name} is not a number (got {_shown(value)})",)
            )
    if not api_url.startswith(("https://", "http://")):
        # The value is not shown: a URL can carry credentials.
        problem = "is not an http(s) URL" if env.get(api_variable) else "is not set"
        return Published(warnings=(f"no merge-request note: {api_variable} {problem}",))
    return _Target(api_url, api_variable, project, iid)


def _shown(value: str) -> str:
    """A variable's value in a warning: quoted, one line, cut short."""
    return repr(terminal_safe(value, 80))


def token_of(env: Mapping[str, str]) -> str | None:
    """The access token; None when it is not set."""
    return env.get(TOKEN_VARIABLE, "").strip() or None


def _from_fork(env: Mapping[str, str]) -> bool:
    """Whether the merge request comes from a fork: its source project is not its target."""
    source = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "")
    target = env.get("CI_MERGE_REQUEST_PROJECT_ID", "")
    return bool(source and target and source != target)


def _unusable_token(env: Mapping[str, str], token: str | None) -> str:
    """The warning for a token that is not set or that no HTTP header can carry."""
    if token is not None:
        return f"no merge-request note: {TOKEN_VARIABLE} holds characters an HTTP header cannot carry"
    if _from_fork(env) and env.get("CI_PROJECT_ID") != env.get("CI_MERGE_REQUEST_PROJECT_ID"):
        # GitLab runs a fork's merge-request pipeline in the fork, without the parent's variables.
        return (
            f"no merge-request note: {TOKEN_VARIABLE} is not set in this pipeline, which runs in the "
            "fork the merge request comes from and does not get the target project's CI/CD "
            "variables; a member of the target project can run the pipeline there (the merge "
            "request's Pipelines tab, Run pipeline)"
        )
    # A variable marked protected reaches only pipelines of protected branches and tags, which a
    # merge request's source branch seldom is (`CI_COMMIT_REF_PROTECTED` is "false" then): the
    # likeliest reason a token that was set is not seen.
    protected = (
        f"; if {TOKEN_VARIABLE} is set in Settings > CI/CD > Variables, clear its Protect variable "
        "flag: GitLab gives protected variables only to pipelines of protected branches and tags, "
        "and this pipeline's branch is not one"
        if env.get("CI_COMMIT_REF_PROTECTED") == "false"
        else ""
    )
    advice = f"{protected}; else {TOKEN_ADVICE}" if protected else f"; {TOKEN_ADVICE}"
    if env.get("CI_JOB_TOKEN"):
        return (
            f"no merge-request note: {TOKEN_VARIABLE} is not set, and CI_JOB_TOKEN cannot write notes "
            f"(GitLab lets job tokens only read them){advice}"
        )
    return f"no merge-request note: {TOKEN_VARIABLE} is not set{advice}"


def gitlab_body(markdown: str) -> str:
    """The note text GitLab should show and not act on.

    GitLab runs quick actions (`/merge`, `/approve`, ...) from any note line that starts with
    `/`, also for notes created through the API (doc/user/project/quick_actions.md). The renderer
    escapes report text, so such a line cannot come from a report; escaping a leading `/` here
    keeps it that way whatever the renderer does.
    """
    return _QUICK_ACTION.sub(r"\\/", markdown)


def note_body(
    evaluation: Evaluation,
    marker: str,
    own_server: str | None = None,
    json_hint: JsonReportHint = COMMAND_LINE_WORDS.json_report,
) -> str:
    """The same Markdown as the GitHub comment, with the marker first, within GitLab's limit;
    `own_server` is `CI_SERVER_URL`, whose issue and merge-request links are left out, and
    `json_hint` says how the job's user gets the JSON report and gives a base image."""

    def render(limit: int) -> str:
        return gitlab_body(
            render_markdown(
                evaluation, limit=limit, marker=marker, own_server=own_server, json_hint=json_hint
            )
        )

    body = render(GITLAB_NOTE_LIMIT)
    if len(body) > GITLAB_NOTE_LIMIT:  # escaping added characters; give them back
        body = render(GITLAB_NOTE_LIMIT - (len(body) - GITLAB_NOTE_LIMIT))
    return body


GITLAB_RETRY = RetryPolicy(first_delay=2.0, budget=90.0)
"""GitLab's retries: a note may wait up to 90 s in all, from 2 s doubling, for its rate limits."""


class GitLabPublisher:
    """The merge-request note; everything else GitLab shows comes from the job's artifacts."""

    name = "gitlab"

    def __init__(
        self, *, sleep: Callable[[float], None] = default_sleep, retry: RetryPolicy | None = None
    ) -> None:
        self._sleep = sleep
        self._retry = retry or GITLAB_RETRY

    def publish(self, evaluation: Evaluation, context: PublishContext) -> Published:
        """Create or update this job's note for this image and platform."""
        image = evaluation.report.image
        key = note_key(
            context.env,
            context.image or (image.reference if image else None),
            image.platform if image else None,
        )
        # Rendered only once a note is to be written: a branch pipeline never pays for it.
        body = functools.cache(
            lambda: note_body(
                evaluation, key.marker, context.env.get("CI_SERVER_URL"), context.wording.json_report
            )
        )

        def mine(note: RemoteNote) -> bool:
            return key in _keys(note)

        def shared(note: RemoteNote) -> bool:
            return any(found != key for found in _keys(note))

        return self._write(context, mine, lambda _note: body(), create=body, shared=shared)

    def publish_error(self, message: str, exit_code: int, context: PublishContext) -> Published:
        """Turn this job's note(s) into "could not decide"; create none.

        Without a report, the image is known only when the command line named one (`scan
        IMAGE`), and the platform only when it asked for one (`--platform`, however it spells
        it, as GitHub's comment finds it: `platform_spellings`); every note of this job (and
        image and platform) is then changed, so none keeps showing a verdict the failed run did
        not confirm, and a job that scans each platform in turn keeps the others' verdicts.
        """
        spellings = platform_spellings(context.platform)
        wanted = [note_key(context.env, context.image, p) for p in spellings or (None,)]
        image_known, platform_known = context.image is not None, bool(spellings)
        error = gitlab_body(render_markdown_error(message, exit_code))

        def ours(note: RemoteNote) -> list[MarkerKey]:
            return [
                k
                for k in _keys(note)
                if any(w.same_job(k, image_known=image_known, platform_known=platform_known) for w in wanted)
            ]

        def mine(note: RemoteNote) -> bool:
            return bool(ours(note))

        def body(note: RemoteNote) -> str:
            # The note keeps its own marker (with the platform only it knows), not a line above it.
            return ours(note)[0].marker + "\n" + error

        def shared(note: RemoteNote) -> bool:
            return len(ours(note)) < len(_keys(note))

        return self._write(context, mine, body, create=None, every=True, shared=shared)

    def _write(
        self,
        context: PublishContext,
        mine: Callable[[RemoteNote], bool],
        body: Callable[[RemoteNote], str],
        *,
        create: Callable[[], str] | None,
        every: bool = False,
        shared: Callable[[RemoteNote], bool] = lambda _note: False,
    ) -> Published:
        """List the notes, then update the one `kept_and_duplicates` keeps (or all, with `every`),
        create one when none matches and `create` is given, and delete duplicates of an updated
        note."""
        if not context.comment:
            return Published(notes=("no merge-request note: --no-comment",))
        target = _target(context.env)
        if isinstance(target, Published):
            return target
        token = token_of(context.env)
        if token is None or not usable_token(token):
            return Published(warnings=(_unusable_token(context.env, token),))
        client = GitLabClient(
            target.api_url,
            token,
            target.project_id,
            target.iid,
            url_variable=target.api_variable,
            ca_file=context.env.get(TLS_CA_VARIABLE),
        )
        found: list[bool] = []  # whether the run found a note of its own to update

        def attempt() -> str:
            me = client.current_user_id()
            ours = [n for n in client.notes() if not n.system and n.author_id == me and mine(n)]
            found[:] = [bool(ours)]
            if not ours:
                if create is None:
                    return "no note of this job to update"
                return f"created note {client.create_note(create())}"
            keep, duplicates, removed = kept_and_duplicates(ours, every, shared)
            for note in keep:
                text = body(note)
                if text != note.body:  # an unchanged verdict leaves no "edited" mark
                    client.update_note(note.id, text)
            for duplicate in duplicates:
                client.delete_note(duplicate.id)
            return f"updated note(s) {', '.join(str(n.id) for n in keep)}{removed}"

        done = retried(
            client,
            attempt,
            self._retry,
            self._sleep,
            token,
            refused=lambda error: _refusal(error, target, is_job_token(context.env, token)),
            gave_up=lambda stopped: _gave_up(stopped, target, updating=any(found)),
        )
        if isinstance(done, Published):
            return done
        return Published(notes=(f"merge request !{target.iid}: {done}",))


def is_job_token(env: Mapping[str, str], token: str) -> bool:
    """Whether the token is a CI/CD job token (`GITLAB_TOKEN: $CI_JOB_TOKEN`, or one by its prefix)."""
    return (
        token == env.get("CI_JOB_TOKEN", "").strip()
        or token.startswith(JOB_TOKEN_PREFIX)
        or f"-{JOB_TOKEN_PREFIX}" in token
    )


def _gave_up(stopped: GaveUp, target: _Target, *, updating: bool) -> str:
    """Retries that gave up, in words: "not updated" only when the run found its note (which
    keeps an earlier verdict), and, when GitLab could not be reached, the variable to check."""
    done = "not updated (it shows an earlier run's verdict)" if updating else "not written"
    unreached = (
        f"; check that {target.api_variable} leads to GitLab's API and that the runner can reach it"
        if stopped.last.unreached
        else ""
    )
    return f"merge-request note {done}: GitLab {stopped.summary()}{unreached}"


def _refusal(error: ApiError, target: _Target, job_token: bool = False) -> str:
    """A 4xx as advice: which scope or role is missing, or what else to check."""
    where = f"merge request !{target.iid} of project {target.project_id}"
    if job_token and error.status in (401, 403, 404):
        return (
            f"merge-request note not written: GitLab refused {TOKEN_VARIABLE} ({error.status}), which "
            f"holds a CI/CD job token: {_JOB_CREDENTIAL_LIMIT}; a project or personal access token with "
            f"the `api` scope is needed instead: {TOKEN_ADVICE}"
        )
    if error.status == 401:
        return (
            f"merge-request note not written: GitLab rejected {TOKEN_VARIABLE} (401): it is wrong, "
            f"expired or revoked; {TOKEN_ADVICE}"
        )
    if error.status == 403 and error.scope is not None:
        return (
            f"merge-request note not written: {TOKEN_VARIABLE} lacks the scope GitLab requires "
            f"(403 insufficient_scope, needs: {error.scope}); writing notes needs the `api` scope, "
            "`read_api` only reads"
        )
    if error.status == 403:
        return (
            f"merge-request note not written: GitLab refused it (403 {error.detail}); the token's user "
            f"needs at least the Reporter role in the project, and the discussion of {where} must "
            "not be locked"
        )
    if isinstance(error, NotTheApi):
        return (
            "merge-request note not written: the API URL answered 404 to GET /user, which GitLab's "
            "REST API answers for every token: CI_API_V4_URL (else CI_SERVER_URL) must lead to it "
            "(https://HOST/api/v4)"
        )
    if error.status == 404:
        return (
            f"merge-request note not written: {where} is not visible to {TOKEN_VARIABLE}'s user (404); "
            "is the token from this project, with at least the Reporter role?"
        )
    if error.status == 0:
        return f"merge-request note not written: {error.detail}"
    return f"merge-request note not written: GitLab answered {error.status}: {error.detail}"
