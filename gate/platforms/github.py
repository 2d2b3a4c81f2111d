"""GitHub Actions: the job summary, step outputs, annotations, and one pull-request comment kept current.

Environment read (all set by the runner, except the token and the author override):
- `GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`: the files the step appends to (skipped when unset).
- `GITHUB_EVENT_NAME`, `GITHUB_EVENT_PATH`: the event payload; the pull request is
  `pull_request.number` (`pull_request`, `pull_request_target`, reviews) or `issue.number` when
  `issue.pull_request` is present (`issue_comment` on a pull request). In a `workflow_run` event
  (a workflow that posts what a `pull_request` run decided, from its artifact), the pull request
  of `workflow_run.pull_requests` at the run's commit, else `CONTAINER_GATE_PULL_REQUEST` (GitHub
  names none for a fork's pull request), and only when that pull request's head is
  `workflow_run.head_sha`: the number comes from the pull request's own run, so it is checked
  against GitHub before any write. Any other event: no comment. A payload that cannot be read is
  a warning: the comment is missing, and the log says why.
- `GITHUB_REPOSITORY` (`owner/name`), `GITHUB_API_URL` (default https://api.github.com).
- The token, first one set of: `INPUT_GITHUB-TOKEN` (a container action's `github-token` input,
  as the runner names it), `INPUT_GITHUB_TOKEN`, `GITHUB_TOKEN`. An action input is an explicit
  choice, so it wins over a token the job happens to export.
- `GITHUB_WORKFLOW`, `GITHUB_JOB`: with the image and platform, they key the comment.
- `GITHUB_SHA` and the event's `pull_request.head.sha` (`workflow_run.head_sha`): left out of the
  image's tag for the key.
- `CONTAINER_GATE_COMMENT_AUTHOR`: the login the gate's comments are written by, when the token
  is a GitHub App's own (`my-app[bot]`) rather than the workflow's GITHUB_TOKEN.

The comment is found by a hidden marker (written on its first line, found on any line outside a
fenced code block, so a comment edited above it stays the run's), made of hashes of the workflow,
the job, the image and the platform (so a matrix of images keeps one comment each), and by its
author: `github-actions[bot]` for installation tokens (`ghs_`, which cannot call `GET /user`),
else the token's user from `GET /user`. A marker copied into someone else's comment is never
edited. Of several comments bearing the run's marker, `marker.kept_and_duplicates` says which one
is edited and which are deleted. A token that may not write (a fork's pull request) or a repository it cannot see is a
warning that says what to do; the verdict, the files, the summary and the outputs stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gate.errors import PlatformError
from gate.platforms._http import ApiError, retried
from gate.platforms.github_annotations import Files, error_annotation, verdict_annotations
from gate.platforms.github_api import GitHubClient, RemoteComment, default_clock
from gate.platforms.github_commands import (
    STEP_SUMMARY_LIMIT,
    append_file,
    fit_bytes,
    output_lines,
    summary_room,
)
from gate.platforms.github_event import (
    PULL_REQUEST_VARIABLE,
    comment_key,
    commit_shas,
    event_problem,
    pull_request_number,
    pull_request_variable,
    read_event,
    token_of,
    workflow_run_head,
    workflow_run_pull_requests,
)
from gate.platforms.interface import PublishContext, Published, masked, usable_token
from gate.platforms.marker import MarkerKey, MarkerKind, kept_and_duplicates, platform_spellings
from gate.platforms.retry import RetryPolicy, default_sleep
from gate.policy.evaluation import EntryState, Evaluation
from gate.policy.model import Mode
from gate.render.markdown import GITHUB_COMMENT_LIMIT, render_markdown, render_markdown_error
from gate.run_wording import RunWording
from gate.untrusted import terminal_safe

ACTIONS_BOT = "github-actions[bot]"
"""The login GITHUB_TOKEN writes as."""
AUTHOR_VARIABLE = "CONTAINER_GATE_COMMENT_AUTHOR"
"""Overrides the expected author of the gate's comments (a GitHub App's own token)."""
COMMENT_LIMIT = GITHUB_COMMENT_LIMIT - 512
"""The comment's size: GitHub's 65,536 "characters" may count an emoji outside the Basic
Multilingual Plane as two (UTF-16), and the summary has a few hundred of its own (⏰, 💤, 🛑)."""
SUMMARY_SECTION_ROWS = 1_000
"""Rows per collapsible section in the job summary, which has 1 MiB where a comment has 64 KiB."""
PERMISSION_ADVICE = (
    "give the job `permissions: pull-requests: write`. A pull request from a fork gets a read-only "
    "GITHUB_TOKEN whatever the workflow asks: the job summary and the outputs still carry the "
    "verdict. `pull_request_target` runs with a write token, but in the base repository's context: "
    "never build or run the pull request's code there"
)

_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\Z")


@dataclass(frozen=True)
class _Target:
    """The pull request this run belongs to, and how to reach it."""

    api_url: str
    """`GITHUB_API_URL`."""
    repository: str
    """`owner/name`."""
    number: int
    """The pull request's number."""
    head: str | None = None
    """In a `workflow_run` event, the commit the pull request's head must be (`workflow_run.head_sha`):
    its number comes from that run's artifact or GitHub's list, and is checked before any write."""


def _target(env: Mapping[str, str], event: Mapping[str, Any]) -> _Target | Published:
    """The pull request to comment on, or why there is none: a note for --verbose, or a warning
    when the event payload cannot be read, so a missing comment is never a mystery."""
    number = pull_request_number(event)
    head: str | None = None
    if number is None and isinstance(event.get("workflow_run"), dict):
        found = _workflow_run_target(env, event)
        if isinstance(found, Published):
            return found
        number, head = found
    problem = event_problem(env) if number is None else None
    if problem is not None:
        path = terminal_safe(env.get("GITHUB_EVENT_PATH", ""), 200)
        return Published(
            warnings=(f"no pull-request comment: the event payload GITHUB_EVENT_PATH={path}: {problem}",)
        )
    if number is None:
        name = terminal_safe(env.get("GITHUB_EVENT_NAME") or "unknown", 40)
        return Published(notes=(f"no pull-request comment: the {name} event belongs to no pull request",))
    repository = env.get("GITHUB_REPOSITORY", "")
    if not _REPOSITORY.match(repository):
        return Published(notes=("no pull-request comment: GITHUB_REPOSITORY is not set to owner/name",))
    api_url = (env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        return Published(notes=("no pull-request comment: GITHUB_API_URL is not an http(s) URL",))
    return _Target(api_url, repository, number, head)


def _workflow_run_target(env: Mapping[str, str], event: Mapping[str, Any]) -> tuple[int, str] | Published:
    """The pull request a `workflow_run` run comments on, and the commit its head must be."""
    head = workflow_run_head(event)
    if head is None:
        return Published(notes=("no pull-request comment: the workflow_run event names no head_sha",))
    # GitHub's pull request at the run's commit, else the one the variable names, else GitHub's
    # first (whose other head the check below then reports).
    number, listed = workflow_run_pull_requests(event)
    if number is None:
        number, problem = pull_request_variable(env)
        if problem is not None:  # the command line stopped at it: this is an error's publication
            return Published(notes=(f"no pull-request comment: {problem}",))
    number = number or listed
    if number is None:
        run = event["workflow_run"]
        if run.get("event") not in ("pull_request", "pull_request_target"):
            return Published(
                notes=("no pull-request comment: the workflow_run event belongs to no pull request",)
            )
        return Published(
            warnings=(
                "no pull-request comment: the workflow_run event names no pull request (GitHub names "
                f"none for a fork's); set {PULL_REQUEST_VARIABLE} (the action's `pull-request` input) to "
                "the number the pull request's own run saved",
            )
        )
    return number, head


class GitHubPublisher:
    """Summary, outputs and annotations always; the pull-request comment when there is one."""

    name = "github"

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = default_sleep,
        clock: Callable[[], float] = default_clock,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self._retry = retry or RetryPolicy()

    # -- the two entry points ----------------------------------------------------------------------

    def publish(self, evaluation: Evaluation, context: PublishContext) -> Published:
        """Everything GitHub shows of a verdict; permission problems come back as warnings."""
        env, event = context.env, read_event(context.env)
        outputs = {
            "verdict": evaluation.verdict,
            **{name: str(n) for name, n in evaluation.counts.as_dict().items()},
            "would-block": str(evaluation.counts.would_block),
            "policy-failures": str(len(evaluation.policy_failures)),
            "expired-allowlist-entries": str(sum(e.state is EntryState.EXPIRED for e in evaluation.entries)),
            "unused-allowlist-entries": str(sum(e.state is EntryState.UNUSED for e in evaluation.entries)),
            "advisory": "true" if evaluation.policy.mode is Mode.ADVISORY else "false",
            **{f"{name}-file": path for name, path in context.outputs.items()},
        }
        dockerfile = context.dockerfile
        files = Files(dockerfile, context.location or dockerfile)
        summary_problem, summary_full = self._summary(
            env,
            lambda limit: render_markdown(
                evaluation,
                limit=limit,
                section_rows=SUMMARY_SECTION_ROWS,
                json_hint=context.wording.json_report,
                own_server=env.get("GITHUB_SERVER_URL"),
            ),
        )
        # The verdict stands, but the step fails: a later step (`continue-on-error`) must see why
        # beside it. An unwritable summary is the exit code the run ends with (3), else the
        # command line's own failure (an output file, 2).
        failure = summary_problem or context.failure
        if failure is not None:
            outputs |= {"exit-code": str(int(failure.exit_code)), "error": failure.diagnostics()}
        problems = [p for p in (self._outputs(env, outputs), summary_problem) if p is not None]

        image = evaluation.report.image
        key = comment_key(
            env,
            context.image or (image.reference if image else None),
            image.platform if image else None,
            commit_shas(env, event),
        )
        body = render_markdown(
            evaluation,
            limit=COMMENT_LIMIT,
            marker=key.marker,
            json_hint=context.wording.json_report,
            own_server=env.get("GITHUB_SERVER_URL"),
        )
        commented = self._comment(
            context,
            event,
            lambda c: key in _keys(c),
            lambda _c: body,
            body,
            shared=lambda c: any(found != key for found in _keys(c)),
        )
        # The comment's warnings are annotations too (the command line prints them after these):
        # room is kept for them within the ten warnings GitHub shows of a step.
        left_out = (summary_full,) if summary_full else ()
        annotations = verdict_annotations(
            evaluation, files, reserved_warnings=len(commented.warnings) + len(left_out)
        )
        return _published(problems, commented, annotations, left_out)

    def publish_error(self, message: str, exit_code: int, context: PublishContext) -> Published:
        """Say the gate could not decide: summary, outputs, an annotation, and this job's comments.

        Without a report, the image is known only when the command line named one, and the
        platform only when it asked for one (`--platform`): the comment of this job (and image and
        platform) is changed, so it does not keep showing a verdict the failed run did not
        confirm. When the job's comments are for several images or platforms the run cannot tell
        apart (a matrix), none is changed, with a warning: the error would replace the other
        legs' verdicts. No comment is created for an error.
        """
        env, event = context.env, read_event(context.env)
        outputs = {
            "verdict": "error",
            "exit-code": str(exit_code),
            "error": message,
            **{f"{name}-file": path for name, path in context.outputs.items()},
        }
        summary_problem, summary_full = self._summary(
            env, lambda limit: render_markdown_error(message, exit_code, limit=limit)
        )
        problems = [p for p in (self._outputs(env, outputs), summary_problem) if p is not None]
        left_out = (summary_full,) if summary_full else ()
        annotations = [error_annotation(message, exit_code, context.error_at)]
        spellings = platform_spellings(context.platform)
        shas = commit_shas(env, event)
        wanted = [comment_key(env, context.image, p, shas) for p in spellings or (None,)]
        image_known, platform_known = context.image is not None, bool(spellings)

        def ours(comment: RemoteComment) -> list[MarkerKey]:
            return [
                k
                for k in _keys(comment)
                if any(w.same_job(k, image_known=image_known, platform_known=platform_known) for w in wanted)
            ]

        def mine(comment: RemoteComment) -> bool:
            return bool(ours(comment))

        def body(comment: RemoteComment) -> str:
            return render_markdown_error(message, exit_code, marker=ours(comment)[0].marker)

        def shared(comment: RemoteComment) -> bool:
            return len(ours(comment)) < len(_keys(comment))

        def ambiguous(found: Sequence[RemoteComment]) -> str | None:
            # Comments of several images or platforms of the job (a matrix) that this run cannot
            # tell apart: the error in each would overwrite the other legs' verdicts.
            keys = {key for comment in found for key in ours(comment)}
            if len(keys) < 2:
                return None
            unknown = " and ".join(
                what for what, known in (("image", image_known), ("platform", platform_known)) if not known
            )
            # Both known, several still match: the job wrote its platform both with and without
            # its default variant (`linux/arm64`, `linux/arm64/v8`).
            why = (
                f"does not know its {unknown}, so it cannot tell which is its own ({_unknown_advice(context.wording, image_known)})"
                if unknown
                else "matches each of them by its image and platform, so it cannot tell which is its own"
            )
            return (
                f"pull-request comment not changed: {len(keys)} comments of this job are each for "
                f"another image or platform, and this run, which could not decide, {why}; the job "
                "summary, the error annotation and the step's failure say it could not decide"
            )

        commented = self._comment(
            context, event, mine, body, None, every=True, shared=shared, ambiguous=ambiguous
        )
        return _published(problems, commented, annotations, left_out)

    # -- the step's files and log ------------------------------------------------------------------

    def _outputs(self, env: Mapping[str, str], outputs: Mapping[str, str]) -> PlatformError | None:
        """Append the step outputs; a failure is returned so that it does not stop the rest."""
        if env.get("GITHUB_OUTPUT"):
            try:
                append_file(env["GITHUB_OUTPUT"], output_lines(outputs), "step outputs")
            except PlatformError as exc:
                return exc
        return None

    def _summary(
        self, env: Mapping[str, str], summary: Callable[[int], str]
    ) -> tuple[PlatformError | None, str | None]:
        """Append the job summary. Returns a failure, so that it does not stop the rest, and the
        warning that the summary was left out because the step's summary file is full."""
        path = env.get("GITHUB_STEP_SUMMARY")
        if path:
            try:
                room = summary_room(path) - 2  # the blank line that separates it from what is there
                text = fit_bytes(summary, room)
                if text is None:
                    return None, summary_left_out(STEP_SUMMARY_LIMIT - room - 2)
                append_file(path, "\n" + text + "\n", "job summary")
            except PlatformError as exc:
                return exc, None
        return None, None

    # -- the comment -------------------------------------------------------------------------------

    def _comment(
        self,
        context: PublishContext,
        event: Mapping[str, Any],
        mine: Callable[[RemoteComment], bool],
        body: Callable[[RemoteComment], str],
        create: str | None,
        *,
        every: bool = False,
        shared: Callable[[RemoteComment], bool] = lambda _comment: False,
        ambiguous: Callable[[Sequence[RemoteComment]], str | None] = lambda _ours: None,
    ) -> Published:
        """List the comments, then update the one of ours `kept_and_duplicates` keeps (or all, with
        `every`), create one when there is none and `create` is given, and delete duplicates of an
        updated comment. When `ambiguous` says why the comments found cannot all be ours, none is
        changed and that is the warning."""
        if not context.comment:
            # The action's log shows this note: name the input its users set, not the option.
            return Published(notes=(f"no pull-request comment: turned off by {context.wording.comment_off}",))
        target = _target(context.env, event)
        if isinstance(target, Published):
            return target
        token = token_of(context.env)
        if token is None:
            return Published(
                warnings=(
                    f"no comment on pull request #{target.number}: no token; pass the action's "
                    f"`github-token` input or set GITHUB_TOKEN, and {PERMISSION_ADVICE}",
                )
            )
        if not usable_token(token):
            return Published(
                warnings=(
                    f"no comment on pull request #{target.number}: the token holds characters an HTTP "
                    "header cannot carry (a line break or a non-ASCII character); pass the action's "
                    "`github-token` input or set GITHUB_TOKEN to the token alone",
                )
            )
        client = GitHubClient(
            target.api_url,
            token,
            target.repository,
            clock=self._clock,
            tls_hint=context.wording.untrusted_certificate,
        )
        author = context.env.get(AUTHOR_VARIABLE, "").strip() or None

        def attempt() -> tuple[str, str | None] | Published:
            nonlocal author
            if target.head is not None:
                refused = _other_head(client, target)
                if refused is not None:
                    return Published(warnings=(refused,))
            if author is None:
                author = ACTIONS_BOT if token.startswith("ghs_") else client.authenticated_login()
            # GitHub logins ignore case: `My-App[bot]` in the variable is the App `my-app[bot]`.
            ours = [
                c for c in client.comments(target.number) if c.author.lower() == author.lower() and mine(c)
            ]
            why = ambiguous(ours)
            if why is not None:
                return Published(warnings=(why,))
            if not ours:
                if create is None:
                    return "no comment of this job to update", None
                url = client.create_comment(target.number, create).html_url
                return f"created {url}", url
            keep, duplicates, removed = kept_and_duplicates(ours, every, shared)
            urls, changed = [], False
            for comment in keep:
                text = body(comment)
                if text == comment.body and comment.html_url:
                    # An unchanged verdict leaves no "edited" mark and notifies nobody, as on GitLab.
                    urls.append(comment.html_url)
                else:
                    urls.append(client.update_comment(comment.id, text).html_url)
                    changed = True
            for duplicate in duplicates:
                client.delete_comment(duplicate.id)
            return f"{'updated' if changed else 'unchanged'} {', '.join(urls)}{removed}", urls[0]

        outcome = retried(
            client,
            attempt,
            self._retry,
            self._sleep,
            token,
            refused=lambda error: _refusal(error, target),
            gave_up=lambda stopped: (
                f"pull-request comment not written: GitHub {stopped.summary()}; the verdict, "
                "the job summary and the outputs are unaffected"
            ),
        )
        if isinstance(outcome, Published):
            return outcome
        done, url = outcome
        notes = (masked(f"pull request #{target.number}: {done}", token),)
        if url and context.env.get("GITHUB_OUTPUT"):
            try:
                append_file(
                    context.env["GITHUB_OUTPUT"],
                    output_lines({"comment-url": masked(url, token)}),
                    "step outputs",
                )
            except PlatformError as exc:
                return Published(notes=notes, failure=exc)
        return Published(notes=notes)


def _keys(comment: RemoteComment) -> tuple[MarkerKey, ...]:
    return MarkerKey.parse_all(MarkerKind.GITHUB_COMMENT, comment.body)


def summary_left_out(used: int) -> str:
    """The warning that the job summary was left out: the step's summary file holds `used` bytes,
    and what the gate would add does not fit in what is left of GitHub's limit."""
    return (
        f"job summary left out: this step's summary already holds {used:,} bytes of the "
        f"{STEP_SUMMARY_LIMIT:,} GitHub takes (1 MiB; above it GitHub drops the step's whole summary); "
        "the exit code, the step outputs and the annotations still tell the outcome"
    )


def _published(
    problems: list[PlatformError],
    commented: Published,
    annotations: list[str],
    warnings: tuple[str, ...] = (),
) -> Published:
    """The comment's outcome with the annotations and the publisher's own `warnings`, and the
    first failure of the step's files."""
    failures = [*problems, *([commented.failure] if commented.failure else [])]
    return Published(
        warnings=(*warnings, *commented.warnings),
        notes=commented.notes,
        log=tuple(annotations),
        failure=failures[0] if failures else None,
    )


def _other_head(client: GitHubClient, target: _Target) -> str | None:
    """Why a `workflow_run` run must not comment on `target`, or None when the pull request's head
    is the commit the run was for. Without this check, a fork's run could name any pull request."""
    where = f"pull request #{target.number} of {target.repository}"
    try:
        head = client.pull_request_head(target.number)
    except ApiError as error:
        if error.status != 404:
            raise
        return f"no comment on {where}: there is no such pull request (404); the number is not that of the pull request the run was for"
    if head == target.head:
        return None
    return (
        f"no comment on {where}: its head is commit {terminal_safe(head, 40)}, not {target.head}, the "
        "commit the run whose report this is was for: the number belongs to another pull request, or "
        "the pull request has moved on since (its newer run comments then)"
    )


def _refusal(error: ApiError, target: _Target) -> str:
    """A 4xx as advice: what the token lacks, or what else to check."""
    where = f"pull request #{target.number} of {target.repository}"
    if error.status == 401:
        return (
            f"no comment on {where}: GitHub rejected the token (401 {error.detail}): it is wrong or "
            "expired; pass the action's `github-token` input or set GITHUB_TOKEN"
        )
    if error.status == 403:
        return f"no comment on {where}: the token may not write it (403 {error.detail}); {PERMISSION_ADVICE}"
    if error.status == 404:
        return (
            f"no comment on {where}: not found with this token (404); check GITHUB_REPOSITORY and that "
            f"the token can read the repository, and {PERMISSION_ADVICE}"
        )
    if error.status == 0:
        return f"no comment on {where}: {error.detail}"
    return f"no comment on {where}: GitHub answered {error.status}: {error.detail}"


def _unknown_advice(wording: RunWording, image_known: bool) -> str:
    """What keeps the comments of a job's images or platforms apart when a run that could not
    decide knows neither its image nor (for an image of several) its platform, in the words of
    the way the gate runs: the command line names both (`--image-name`, `--platform`); the
    action knows the image of a `report` only from the report itself."""
    return wording.keep_apart if image_known else wording.keep_apart_report
