"""What a GitHub Actions run is about: its event, its token, and the key of the comment it owns.

The key is made of hashes of trusted values only (the workflow, the job, the image reference the
user gave or the report names, the platform), so nothing from a report reaches the marker as
text, and a matrix of images keeps one comment each.

A `workflow_run` run (one that posts what a fork's `pull_request` run decided, from its artifact)
belongs to the pull request GitHub names in `workflow_run.pull_requests`, which it leaves empty
for a fork's pull request; then to the number CONTAINER_GATE_PULL_REQUEST gives. Either is only
trusted once the pull request's head is the commit the run was for (`workflow_run.head_sha`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gate._json_decode import loads
from gate.platforms.marker import MarkerKey, MarkerKind
from gate.pull_request import VARIABLE, not_a_number, parse_pull_request
from gate.untrusted import terminal_safe

TOKEN_VARIABLES = ("INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN", "GITHUB_TOKEN")
"""Where the token is looked for, in this order: a container action's `github-token` input as the
runner names it (`INPUT_` and the name upper-cased, hyphen kept), the same with an underscore,
then the variable a workflow step exports. An action input is an explicit choice, so it wins."""

PULL_REQUEST_VARIABLE = VARIABLE
"""The pull request a `workflow_run` run comments on when GitHub names none (a fork's)."""

_SHA = re.compile(r"[0-9a-f]{40}\Z")


def comment_key(
    env: Mapping[str, str], image: str | None, platform: str | None, shas: tuple[str, ...]
) -> MarkerKey:
    """The key of the comment this run owns: the workflow and job, the image and the platform."""
    job = (env.get("GITHUB_WORKFLOW", ""), env.get("GITHUB_JOB", ""))
    return MarkerKey.of(MarkerKind.GITHUB_COMMENT, job, image, platform, shas)


def read_event(env: Mapping[str, str]) -> dict[str, Any]:
    """The event payload (`GITHUB_EVENT_PATH`); empty when there is none or it cannot be read."""
    payload, _problem = _event(env)
    return payload


def event_problem(env: Mapping[str, str]) -> str | None:
    """Why the event payload `GITHUB_EVENT_PATH` names cannot be used, or None (also when no
    file is named: outside a workflow there is none to read)."""
    return _event(env)[1]


def _event(env: Mapping[str, str]) -> tuple[dict[str, Any], str | None]:
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path:
        return {}, None
    try:
        payload = loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        return {}, f"cannot read it ({exc.strerror or exc})"
    except ValueError:
        return {}, "it is not JSON"
    if not isinstance(payload, dict):
        return {}, "it is not a JSON object"
    return payload, None


def pull_request_number(event: Mapping[str, Any]) -> int | None:
    """The pull request an event belongs to, if any."""
    pull = event.get("pull_request")
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        return int(pull["number"])
    issue = event.get("issue")
    if isinstance(issue, dict) and issue.get("pull_request") and isinstance(issue.get("number"), int):
        return int(issue["number"])
    return None


def commit_shas(env: Mapping[str, str], event: Mapping[str, Any]) -> tuple[str, ...]:
    """The commits whose SHA may be in an image tag: `GITHUB_SHA` (for a pull request, the merge
    commit) and the pull request's head, which a `workflow_run` run knows as
    `workflow_run.head_sha`: so the image `app:<head SHA>` keys one comment across pushes there too."""
    pull = event.get("pull_request")
    head = pull.get("head") if isinstance(pull, dict) else None
    found = [
        env.get("GITHUB_SHA", ""),
        head.get("sha", "") if isinstance(head, dict) else "",
        workflow_run_head(event) or "",
    ]
    return tuple(dict.fromkeys(s for s in found if isinstance(s, str) and _SHA.match(s)))


def workflow_run_head(event: Mapping[str, Any]) -> str | None:
    """`workflow_run.head_sha` of a `workflow_run` event: the commit the run it follows was for."""
    run = event.get("workflow_run")
    sha = run.get("head_sha") if isinstance(run, dict) else None
    return sha if isinstance(sha, str) and _SHA.match(sha) else None


def workflow_run_pull_requests(event: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The pull requests GitHub names in `workflow_run.pull_requests`: the first whose head is the
    run's commit, and the first of all; None when it names none (always, for a fork's pull
    request). The list is made by branch name, so it may name another repository's pull request
    whose branch has the same name."""
    run = event.get("workflow_run")
    pulls = run.get("pull_requests") if isinstance(run, dict) else None
    if not isinstance(pulls, list):
        return None, None
    numbered = [
        p for p in pulls if isinstance(p, dict) and isinstance(p.get("number"), int) and p["number"] > 0
    ]
    head = workflow_run_head(event)
    matching = [p for p in numbered if isinstance(p.get("head"), dict) and p["head"].get("sha") == head]
    return (
        int(matching[0]["number"]) if matching else None,
        int(numbered[0]["number"]) if numbered else None,
    )


def pull_request_variable(env: Mapping[str, str]) -> tuple[int | None, str | None]:
    """CONTAINER_GATE_PULL_REQUEST: (the number, None), (None, None) when unset or empty, or
    (None, why it is not a pull request's number)."""
    value = env.get(PULL_REQUEST_VARIABLE, "").strip()
    if not value:
        return None, None
    number = parse_pull_request(value)
    if number is None:
        return None, not_a_number(PULL_REQUEST_VARIABLE, terminal_safe(value, 40))
    return number, None


def token_of(env: Mapping[str, str]) -> str | None:
    """The token, from the first variable of TOKEN_VARIABLES that is set; None when none is."""
    for name in TOKEN_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return value
    return None
