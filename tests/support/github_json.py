"""JSON resources of the GitHub fake, shaped as api.github.com serves them.

Every field the description marks required is present; the server checks each answer against the
description, so a missing or mistyped field here shows up as a recorded violation in the fake's own tests.
URLs point at the fake (`api`) so a client that follows them stays on 127.0.0.1; `html_url`s use `html`.
"""

from __future__ import annotations

import base64
import copy
import html
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from tests.support.github_state import Account, IssueComment, PullRequest, Repository, WorkflowRun


@dataclass(frozen=True)
class Urls:
    """Where the fake lives and which web origin its html_url fields name."""

    api: str
    """Base of API URLs, e.g. `http://127.0.0.1:40123` (no trailing slash)."""
    html: str
    """Base of web URLs, e.g. `https://github.com`."""


def timestamp(moment: datetime) -> str:
    """GitHub's timestamp form: ISO 8601 UTC with a Z and no fraction."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, number: int) -> str:
    """An opaque global node id (GitHub's are base64 too; clients must not parse them)."""
    return base64.b64encode(f"{kind}{number}".encode()).decode()


def user_json(account: Account, urls: Urls) -> dict[str, Any]:
    """A `simple-user`."""
    api = f"{urls.api}/users/{quote(account.login, safe='')}"
    web = (
        f"{urls.html}/apps/{account.login.removesuffix('[bot]')}"
        if account.kind == "Bot"
        else f"{urls.html}/{account.login}"
    )
    return {
        "login": account.login,
        "id": account.id,
        "node_id": node_id(account.kind, account.id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{account.id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": web,
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": account.kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def comment_json(
    comment: IssueComment, repo: Repository, urls: Urls, *, is_pull: bool, body_forms: frozenset[str]
) -> dict[str, Any]:
    """An `issue-comment`; `body_forms` ⊆ {body, body_text, body_html} follows the Accept media type."""
    repo_api = f"{urls.api}/repos/{repo.full_name}"
    page = "pull" if is_pull else "issues"
    data: dict[str, Any] = {
        "id": comment.id,
        "node_id": node_id("IssueComment", comment.id),
        "url": f"{repo_api}/issues/comments/{comment.id}",
        "html_url": f"{urls.html}/{repo.full_name}/{page}/{comment.issue_number}#issuecomment-{comment.id}",
        "issue_url": f"{repo_api}/issues/{comment.issue_number}",
        "user": user_json(comment.author, urls),
        "created_at": timestamp(comment.created_at),
        "updated_at": timestamp(comment.updated_at),
        "author_association": "NONE" if comment.author.kind == "Bot" else "CONTRIBUTOR",
        "performed_via_github_app": None,
        "reactions": _reactions(f"{repo_api}/issues/comments/{comment.id}/reactions"),
        "pin": None,
        "minimized": None,
    }
    if "body" in body_forms:
        data["body"] = comment.body
    if "body_text" in body_forms:
        data["body_text"] = comment.body
    if "body_html" in body_forms:
        # The fake does not render Markdown; escaped text in a paragraph has the right type and safety.
        data["body_html"] = f"<p>{html.escape(comment.body)}</p>"
    return data


def _reactions(url: str) -> dict[str, Any]:
    counts = dict.fromkeys(("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"), 0)
    return {"url": url, "total_count": 0, **counts}


def pull_json(pull: PullRequest, repo: Repository, urls: Urls, template: Any) -> dict[str, Any]:
    """A `pull-request`, built on GitHub's own example of one (`template`) with this fake's facts.

    The example carries the ~80 required fields of the nested repository objects; its URLs are moved
    to the fake, and everything a client may act on (number, refs, sha, author, state) is overwritten.
    """
    text = json.dumps(template)
    for old, new in (
        ("https://api.github.com/repos/octocat/Hello-World", f"{urls.api}/repos/{repo.full_name}"),
        ("https://github.com/octocat/Hello-World", f"{urls.html}/{repo.full_name}"),
        ("https://api.github.com", urls.api),
        ("octocat/Hello-World", repo.full_name),
        ("/1347", f"/{pull.number}"),
    ):
        text = text.replace(old, new)
    data: dict[str, Any] = json.loads(text)
    author = user_json(pull.author, urls)
    owner = user_json(repo.owner, urls)
    repo_part = copy.deepcopy(data["base"]["repo"])
    repo_part.update(id=repo.id, name=repo.name, full_name=repo.full_name, owner=owner)
    repo_part.update(default_branch=repo.default_branch, private=False, visibility="public")
    created = timestamp(pull.created_at)
    data.update(
        id=pull.number + repo.id,
        node_id=node_id("PullRequest", pull.number + repo.id),
        number=pull.number,
        title=pull.title,
        user=author,
        body=None,
        state="open",
        locked=False,
        active_lock_reason=None,
        labels=[],
        milestone=None,
        assignee=None,
        assignees=[],
        requested_reviewers=[],
        requested_teams=[],  # GitHub's example team lacks the `type` its own schema requires
        created_at=created,
        updated_at=created,
        closed_at=None,
        merged_at=None,
        merge_commit_sha=None,
        merged=False,
        merged_by=None,
        draft=False,
        author_association="CONTRIBUTOR",
        auto_merge=None,
    )
    for side, ref, sha in (("head", pull.head_ref, pull.head_sha), ("base", pull.base_ref, None)):
        part = data[side]
        part.update(label=f"{repo.owner.login}:{ref}", ref=ref, user=owner, repo=copy.deepcopy(repo_part))
        if sha is not None:
            part["sha"] = sha
    data["statuses_url"] = f"{urls.api}/repos/{repo.full_name}/statuses/{pull.head_sha}"
    return data


def workflow_run_json(run: WorkflowRun, repo: Repository, urls: Urls, template: Any) -> dict[str, Any]:
    """A `workflow-run`, built on GitHub's own example of one (`template`) with this fake's facts."""
    text = json.dumps(template)
    for old, new in (
        ("https://api.github.com/repos/octo-org/octo-repo", f"{urls.api}/repos/{repo.full_name}"),
        ("https://github.com/octo-org/octo-repo", f"{urls.html}/{repo.full_name}"),
        ("https://api.github.com/repos/octocat/Hello-World", f"{urls.api}/repos/{repo.full_name}"),
        ("https://api.github.com", urls.api),
    ):
        text = text.replace(old, new)
    data: dict[str, Any] = json.loads(text)
    created = timestamp(run.created_at)
    data.update(
        id=run.id,
        node_id=node_id("WorkflowRun", run.id),
        head_branch=run.head_branch,
        head_sha=run.head_sha,
        path=f".github/workflows/{run.workflow_file}",
        event=run.event,
        status="completed" if run.conclusion else "in_progress",
        conclusion=run.conclusion,
        workflow_id=run.workflow_id,
        url=f"{urls.api}/repos/{repo.full_name}/actions/runs/{run.id}",
        html_url=f"{urls.html}/{repo.full_name}/actions/runs/{run.id}",
        pull_requests=[],
        created_at=created,
        updated_at=created,
        run_started_at=created,
    )
    return data
