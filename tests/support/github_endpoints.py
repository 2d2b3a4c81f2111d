"""The operations the GitHub fake implements, each as GitHub answers it.

Sources for behaviour the description does not spell out:
- docs.github.com "Using pagination in the REST API": `per_page` default 30, at most 100; a `Link`
  header with rel="next"/"last" (and "first"/"prev" after page 1), absent when everything fits in one page;
  GitHub writes those links in its `/repositories/{id}/...` form.
- Issue and pull-request comment bodies are at most 65,536 characters; above that GitHub answers 422
  `Validation Failed` with an error `{"resource": "IssueComment", "code": "unprocessable",
  "field": "data", "message": "Body is too long (maximum is 65536 characters)"}` (as quoted in bug
  reports of tools that hit it, e.g. danger/danger#424, reg-viz/reg-actions#123).
- A token without write access (GITHUB_TOKEN of a pull request from a fork) gets 403
  `Resource not accessible by integration` on every write.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tests.support.github_json import Urls, comment_json, pull_json, workflow_run_json
from tests.support.github_state import GitHubState, Repository, Token
from tests.support.openapi import ApiDescription, MatchedOperation

COMMENT_BODY_LIMIT = 65_536
"""Longest issue/pull-request comment body GitHub accepts, in characters."""

DEFAULT_PER_PAGE = 30
"""Page size when the client sends no per_page."""

MAX_PER_PAGE = 100
"""GitHub answers at most this many items per page, whatever per_page asks."""

_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True)
class Reply:
    """What the fake answers."""

    status: int
    """HTTP status."""
    body: Any = None
    """JSON-serialisable body; None sends no body."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra headers (Link, Location, Retry-After, ...)."""


@dataclass(frozen=True)
class Call:
    """One authenticated request, resolved to a documented operation."""

    operation: MatchedOperation
    """Operation, typed parameters and parsed body."""
    token: Token
    """The token that authenticated it."""
    accept: str
    """The Accept header (selects body, body_text and body_html of comments)."""
    query: str
    """The raw query string, kept for pagination links."""
    doc_url: str
    """The operation's documentation URL, which GitHub puts in error bodies."""


def error(status: int, message: str, doc_url: str, **extra: Any) -> Reply:
    """GitHub's error body: message, documentation_url and (since 2023) the status as a string."""
    return Reply(status, {"message": message, "documentation_url": doc_url, "status": str(status), **extra})


def body_forms(accept: str) -> frozenset[str]:
    """Which comment body fields a media type asks for (docs: "Media types" of issue comments)."""
    for form, fields in (
        ("full", {"body", "body_text", "body_html"}),
        ("html", {"body_html"}),
        ("text", {"body_text"}),
    ):
        if (
            f"application/vnd.github.{form}+json" in accept
            or f"application/vnd.github.v3.{form}+json" in accept
        ):
            return frozenset(fields)
    return frozenset({"body"})


class Endpoints:
    """Handlers by operationId; the server holds the state lock while one runs."""

    def __init__(self, state: GitHubState, description: ApiDescription, urls: Urls) -> None:
        self.state = state
        self.description = description
        self.urls = urls
        self.handlers: dict[str, Callable[[Call], Reply]] = {
            "issues/list-comments": self.list_comments,
            "issues/create-comment": self.create_comment,
            "issues/get-comment": self.get_comment,
            "issues/update-comment": self.update_comment,
            "issues/delete-comment": self.delete_comment,
            "pulls/get": self.get_pull,
            "actions/list-workflow-runs": self.list_workflow_runs,
        }

    def handle(self, call: Call) -> Reply | None:
        """The reply, or None when the fake does not implement the operation."""
        handler = self.handlers.get(call.operation.operation_id)
        if handler is None:
            return None
        repo = self._repository(call)
        if repo is None:
            return error(404, "Not Found", call.doc_url)
        if call.operation.method in _WRITES and not call.token.can_write:
            return error(403, "Resource not accessible by integration", call.doc_url)
        return handler(call)

    def _repository(self, call: Call) -> Repository | None:
        params = call.operation.path_params
        return self.state.repository(str(params["owner"]), str(params["repo"]))

    def _repo(self, call: Call) -> Repository:
        repo = self._repository(call)
        assert repo is not None  # checked in handle()
        return repo

    def _comment_json(self, call: Call, comment_id: int) -> dict[str, Any]:
        comment = self.state.comment(comment_id)
        assert comment is not None
        repo = self._repo(call)
        is_pull = self.state.pull_request(repo, comment.issue_number) is not None
        return comment_json(comment, repo, self.urls, is_pull=is_pull, body_forms=body_forms(call.accept))

    def _too_long(self, call: Call) -> Reply | None:
        body = call.operation.body["body"]
        if len(body) <= COMMENT_BODY_LIMIT:
            return None
        problem = {
            "resource": "IssueComment",
            "code": "unprocessable",
            "field": "data",
            "message": f"Body is too long (maximum is {COMMENT_BODY_LIMIT} characters)",
        }
        return error(422, "Validation Failed", call.doc_url, errors=[problem])

    def list_comments(self, call: Call) -> Reply:
        repo = self._repo(call)
        number = call.operation.path_params["issue_number"]
        if self.state.pull_request(repo, number) is None:
            return error(404, "Not Found", call.doc_url)
        comments = self.state.comments_on(repo, number)
        since = call.operation.query.get("since")
        if since is not None:
            cutoff = datetime.fromisoformat(str(since).replace("Z", "+00:00"))
            comments = [c for c in comments if c.updated_at >= cutoff]
        per_page = call.operation.query.get("per_page", DEFAULT_PER_PAGE)
        per_page = min(per_page, MAX_PER_PAGE) if per_page >= 1 else DEFAULT_PER_PAGE
        page = max(call.operation.query.get("page", 1), 1)
        last = max(math.ceil(len(comments) / per_page), 1)
        shown = comments[(page - 1) * per_page : page * per_page]
        items = [self._comment_json(call, c.id) for c in shown]
        link = self._link(f"/repositories/{repo.id}/issues/{number}/comments", call.query, page, last)
        return Reply(200, items, (("Link", link),) if link else ())

    def _link(self, path: str, query: str, page: int, last: int) -> str:
        if last == 1:
            return ""
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "page"]
        rels = []
        if page > 1:
            rels += [("prev", min(page - 1, last)), ("first", 1)]
        if page < last:
            rels += [("next", page + 1), ("last", last)]
        urls = [
            f'<{self.urls.api}{path}?{urlencode([*kept, ("page", str(n))])}>; rel="{rel}"' for rel, n in rels
        ]
        return ", ".join(urls)

    def create_comment(self, call: Call) -> Reply:
        repo = self._repo(call)
        number = call.operation.path_params["issue_number"]
        if self.state.pull_request(repo, number) is None:
            return error(404, "Not Found", call.doc_url)
        too_long = self._too_long(call)
        if too_long is not None:
            return too_long
        comment = self.state.add_comment(repo, number, call.token.account, call.operation.body["body"])
        data = self._comment_json(call, comment.id)
        return Reply(201, data, (("Location", data["url"]),))

    def _own_comment(self, call: Call) -> int | None:
        comment = self.state.comment(call.operation.path_params["comment_id"])
        if comment is None or comment.repository_id != self._repo(call).id:
            return None
        return comment.id

    def get_comment(self, call: Call) -> Reply:
        comment_id = self._own_comment(call)
        if comment_id is None:
            return error(404, "Not Found", call.doc_url)
        return Reply(200, self._comment_json(call, comment_id))

    def update_comment(self, call: Call) -> Reply:
        comment_id = self._own_comment(call)
        if comment_id is None:
            return error(404, "Not Found", call.doc_url)
        too_long = self._too_long(call)
        if too_long is not None:
            return too_long
        self.state.update_comment(comment_id, call.operation.body["body"])
        return Reply(200, self._comment_json(call, comment_id))

    def delete_comment(self, call: Call) -> Reply:
        comment_id = self._own_comment(call)
        if comment_id is None:
            return error(404, "Not Found", call.doc_url)
        self.state.delete_comment(comment_id)
        return Reply(204)

    def get_pull(self, call: Call) -> Reply:
        repo = self._repo(call)
        pull = self.state.pull_request(repo, call.operation.path_params["pull_number"])
        if pull is None:
            return error(404, "Not Found", call.doc_url)
        return Reply(200, pull_json(pull, repo, self.urls, self.description.example("pull-request")))

    def list_workflow_runs(self, call: Call) -> Reply:
        """Runs of one workflow, newest first, filtered as the query asks: `branch`, `event`, and
        `status`, which takes a status (`completed`, `in_progress`) or a conclusion (`success`)."""
        repo = self._repo(call)
        query = call.operation.query
        runs = self.state.workflow_runs(repo, call.operation.path_params["workflow_id"])
        if not runs:
            return error(404, "Not Found", call.doc_url)
        if "branch" in query:
            runs = [r for r in runs if r.head_branch == query["branch"]]
        if "event" in query:
            runs = [r for r in runs if r.event == query["event"]]
        if "status" in query:
            wanted = query["status"]
            runs = [
                r for r in runs if wanted in (r.conclusion, "completed" if r.conclusion else "in_progress")
            ]
        per_page = min(int(query.get("per_page", DEFAULT_PER_PAGE)), MAX_PER_PAGE)
        template = self.description.example("workflow-run")
        return Reply(
            200,
            {
                "total_count": len(runs),
                "workflow_runs": [workflow_run_json(r, repo, self.urls, template) for r in runs[:per_page]],
            },
        )
