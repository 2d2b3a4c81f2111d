"""The few GitHub REST API calls the pull-request comment needs, with retries.

List, create, update and delete issue comments (a pull request's conversation comments are
issue comments), `GET /user` for tokens that belong to a user, and a pull request's head commit
(a `workflow_run` run checks the pull request it was given before it writes). Every request sends what
docs.github.com "Getting started with the REST API" asks for: `Authorization: Bearer`,
`Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28` and a User-Agent
(GitHub answers 403 without one). The session, the token's header and the error mapping are the
shared ones of gate/platforms/_http.py; pagination links are followed only on the API's own
origin, so the token never goes to another host.

GitHub's rate limits are transient errors (docs.github.com "Rate limits for the REST API"):
`Retry-After` when sent, else `x-ratelimit-reset` when `x-ratelimit-remaining` is 0, else at least
one minute for a secondary limit. `gate.platforms.retry.with_retries` re-runs a whole operation,
so a comment created by a POST whose answer was lost is found by the next listing instead of
being posted twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from gate.platforms._http import ApiClient, ApiError
from gate.platforms.retry import TransientError, delta_seconds
from gate.run_wording import COMMAND_LINE_WORDS

API_VERSION = "2022-11-28"
"""The REST API version the gate is written against."""
PER_PAGE = 100
"""docs.github.com "Using pagination in the REST API": `per_page` is at most 100."""
MAX_PAGES = 100
"""Stop listing after 10,000 comments: past that, a pull request is not one a comment helps."""
SECONDARY_LIMIT_WAIT = 60.0
"""GitHub's advice for a secondary rate limit that names no time: wait at least a minute."""


@dataclass(frozen=True)
class RemoteComment:
    """The parts of an issue comment the publisher looks at."""

    id: int
    """Comment id."""
    body: str
    """Markdown text."""
    author: str
    """`user.login` ("" for a deleted account)."""
    html_url: str
    """Where people read it."""


def _comment(item: object) -> RemoteComment:
    if not isinstance(item, dict):
        raise ApiError(200, "a comment in GitHub's answer is not an object")
    user = item.get("user")
    login = user.get("login") if isinstance(user, dict) else ""
    ident, body, url = item.get("id"), item.get("body"), item.get("html_url", "")
    if not (isinstance(ident, int) and isinstance(login, str) and isinstance(url, str)):
        raise ApiError(200, "a comment in GitHub's answer lacks an integer id or an author")
    return RemoteComment(ident, body if isinstance(body, str) else "", login, url)


def _error_detail(response: requests.Response, shown: Callable[[str, int], str]) -> str:
    """GitHub's message and the messages of its `errors`, made safe by `shown`."""
    try:
        payload: Any = response.json()
    except ValueError:
        return shown(response.reason or "", 200)
    if not isinstance(payload, dict):
        return ""
    message = payload.get("message")
    text = message if isinstance(message, str) else ""
    errors = payload.get("errors")
    if isinstance(errors, list):
        text += "".join(
            f"; {e['message']}" for e in errors if isinstance(e, dict) and isinstance(e.get("message"), str)
        )
    return shown(text, 300)


class GitHubClient(ApiClient):
    """One repository's issue comments, as one token."""

    platform = "GitHub"
    url_variable = "GITHUB_API_URL"

    def __init__(
        self,
        api_url: str,
        token: str,
        repository: str,
        *,
        clock: Callable[[], float],
        tls_hint: str = COMMAND_LINE_WORDS.untrusted_certificate,
    ) -> None:
        super().__init__(
            api_url,
            token,
            ("Authorization", f"Bearer {token}"),
            {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
        )
        self.tls_hint = tls_hint
        """How the run's user has the gate trust a CA of their own (`RunWording.untrusted_certificate`):
        GitHub Enterprise Server's certificate may be of one."""
        self._origin = urlsplit(self._api_url)[:2]
        self._repository = repository
        self._clock = clock

    def check_rate_limit(self, response: requests.Response) -> None:
        if response.status_code in (403, 429):
            wait = self._rate_limit_wait(response)
            if wait is not None:
                raise TransientError(
                    f"{response.status_code} rate limit: {_error_detail(response, self.shown)}",
                    retry_after=wait,
                )

    def refusal(self, response: requests.Response) -> ApiError:
        return ApiError(response.status_code, _error_detail(response, self.shown))

    def _rate_limit_wait(self, response: requests.Response) -> float | None:
        """Seconds to wait when a 403 or 429 is a rate limit; None when it is a refusal."""
        asked = delta_seconds(response.headers.get("Retry-After"))
        if asked is not None:
            return asked
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = delta_seconds(response.headers.get("x-ratelimit-reset"))  # epoch seconds
            if reset is not None:
                return max(reset - int(self._clock()) + 1.0, 1.0)
        if response.status_code == 429 or "rate limit" in _error_detail(response, self.shown).lower():
            return SECONDARY_LIMIT_WAIT
        return None

    def _repo_url(self, path: str) -> str:
        return f"{self._api_url}/repos/{self._repository}{path}"

    def authenticated_login(self) -> str:
        """`GET /user`: whom a user's token acts as (installation tokens get 403 here)."""
        payload = self.json(self.request("GET", f"{self._api_url}/user"))
        login = payload.get("login") if isinstance(payload, dict) else None
        if not isinstance(login, str) or not login:
            raise ApiError(200, "GET /user answered without a login")
        return login

    def pull_request_head(self, number: int) -> str:
        """`GET /repos/{owner}/{repo}/pulls/{number}`: the commit at the pull request's head."""
        payload = self.json(self.request("GET", self._repo_url(f"/pulls/{number}")))
        head = payload.get("head") if isinstance(payload, dict) else None
        sha = head.get("sha") if isinstance(head, dict) else None
        if not isinstance(sha, str) or not sha:
            raise ApiError(200, "the pull request in GitHub's answer has no head.sha")
        return sha

    def comments(self, number: int) -> Iterator[RemoteComment]:
        """Every comment of the issue or pull request, oldest first, across all pages."""
        url: str | None = self._repo_url(f"/issues/{number}/comments?per_page={PER_PAGE}")
        pages = 0
        while url is not None and pages < MAX_PAGES:
            response = self.request("GET", url)
            items = self.json(response)
            if not isinstance(items, list):
                raise ApiError(response.status_code, "the comment listing is not a JSON array")
            yield from (_comment(item) for item in items)
            pages += 1
            following = response.links.get("next", {}).get("url")
            # GitHub writes these links in its /repositories/{id}/... form; follow them only on
            # the API's own origin, so the token goes nowhere else.
            url = following if following and urlsplit(following)[:2] == self._origin else None

    def create_comment(self, number: int, body: str) -> RemoteComment:
        payload = self.json(self.request("POST", self._repo_url(f"/issues/{number}/comments"), body=body))
        return _comment(payload)

    def update_comment(self, comment_id: int, body: str) -> RemoteComment:
        payload = self.json(
            self.request("PATCH", self._repo_url(f"/issues/comments/{comment_id}"), body=body)
        )
        return _comment(payload)

    def delete_comment(self, comment_id: int) -> None:
        self.request("DELETE", self._repo_url(f"/issues/comments/{comment_id}"))


def default_clock() -> float:
    """`time.time`: the rate-limit reset is given in epoch seconds."""
    return time.time()
