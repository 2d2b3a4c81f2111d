"""The few GitHub REST API calls the pull-request comment needs, with retries.

List, create, update and delete issue comments (a pull request's conversation comments are
issue comments), and `GET /user` for tokens that belong to a user. Every request sends what
docs.github.com "Getting started with the REST API" asks for: `Authorization: Bearer`,
`Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28` and a User-Agent
(GitHub answers 403 without one). The token travels in the Authorization header only; redirects
are not followed, and pagination links are followed only on the API's own origin, so the token
never goes to another host.

Errors are sorted into what waiting can fix (`TransientError`: 5xx, no answer, and the rate
limits, docs.github.com "Rate limits for the REST API": `Retry-After` when sent, else
`x-ratelimit-reset` when `x-ratelimit-remaining` is 0, else at least one minute for a secondary
limit) and what it cannot (`ApiError`: any other 4xx). `gate.platforms.retry.with_retries` re-runs a whole operation,
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

from gate import __version__
from gate.platforms.retry import TransientError, delta_seconds
from gate.untrusted import terminal_safe

API_VERSION = "2022-11-28"
"""The REST API version the gate is written against."""
PER_PAGE = 100
"""docs.github.com "Using pagination in the REST API": `per_page` is at most 100."""
MAX_PAGES = 100
"""Stop listing after 10,000 comments: past that, a pull request is not one a comment helps."""
TIMEOUT = (10.0, 30.0)
"""Seconds to connect and to wait for an answer: a hung proxy must not hold the CI job."""
SECONDARY_LIMIT_WAIT = 60.0
"""GitHub's advice for a secondary rate limit that names no time: wait at least a minute."""


class ApiError(Exception):
    """GitHub refused a request in a way that retrying does not fix (a 4xx other than a rate limit)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        """GitHub's own `message` (and error details), made safe to print."""


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


def _error_detail(response: requests.Response) -> str:
    try:
        payload: Any = response.json()
    except ValueError:
        return terminal_safe(response.reason or "", 200)
    if not isinstance(payload, dict):
        return ""
    message = payload.get("message")
    text = message if isinstance(message, str) else ""
    errors = payload.get("errors")
    if isinstance(errors, list):
        text += "".join(
            f"; {e['message']}" for e in errors if isinstance(e, dict) and isinstance(e.get("message"), str)
        )
    return terminal_safe(text, 300)


class _Bearer(requests.auth.AuthBase):
    """Sets `Authorization: Bearer`. Being an auth object also stops requests from adding ~/.netrc
    credentials, while proxies from the environment keep working."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class GitHubClient:
    """One repository's issue comments, as one token."""

    def __init__(self, api_url: str, token: str, repository: str, *, clock: Callable[[], float]) -> None:
        self._api_url = api_url.rstrip("/")
        self._origin = urlsplit(self._api_url)[:2]
        self._repository = repository
        self._clock = clock
        self._session = requests.Session()
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"container-gate/{__version__}",
            }
        )
        self._auth = _Bearer(token)

    def close(self) -> None:
        self._session.close()

    def _request(self, method: str, url: str, *, body: str | None = None) -> requests.Response:
        try:
            response = self._session.request(
                method,
                url,
                json=None if body is None else {"body": body},
                auth=self._auth,
                timeout=TIMEOUT,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise TransientError(f"no answer from GitHub within {TIMEOUT[1]:g} s") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
            raise TransientError(f"cannot connect to GitHub ({type(error).__name__})") from None
        except (requests.RequestException, ValueError) as error:
            # The exception's text can hold header values (requests' InvalidHeader, http.client's
            # "Invalid header value" ValueError), the token among them.
            raise ApiError(0, f"the request could not be sent ({type(error).__name__})") from None
        status = response.status_code
        if status >= 500:
            reason = f"{status} {terminal_safe(response.reason or '', 80)}".strip()
            raise TransientError(reason, retry_after=delta_seconds(response.headers.get("Retry-After")))
        if status in (403, 429):
            wait = self._rate_limit_wait(response)
            if wait is not None:
                raise TransientError(f"{status} rate limit: {_error_detail(response)}", retry_after=wait)
        if 300 <= status < 400:
            raise ApiError(status, "GitHub answered with a redirect; check GITHUB_API_URL")
        if status >= 400:
            raise ApiError(status, _error_detail(response))
        return response

    def _rate_limit_wait(self, response: requests.Response) -> float | None:
        """Seconds to wait when a 403 or 429 is a rate limit; None when it is a refusal."""
        asked = delta_seconds(response.headers.get("Retry-After"))
        if asked is not None:
            return asked
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = delta_seconds(response.headers.get("x-ratelimit-reset"))  # epoch seconds
            if reset is not None:
                return max(reset - int(self._clock()) + 1.0, 1.0)
        if response.status_code == 429 or "rate limit" in _error_detail(response).lower():
            return SECONDARY_LIMIT_WAIT
        return None

    def _json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, "GitHub's answer is not JSON") from None

    def _repo_url(self, path: str) -> str:
        return f"{self._api_url}/repos/{self._repository}{path}"

    def authenticated_login(self) -> str:
        """`GET /user`: whom a user's token acts as (installation tokens get 403 here)."""
        payload = self._json(self._request("GET", f"{self._api_url}/user"))
        login = payload.get("login") if isinstance(payload, dict) else None
        if not isinstance(login, str) or not login:
            raise ApiError(200, "GET /user answered without a login")
        return login

    def comments(self, number: int) -> Iterator[RemoteComment]:
        """Every comment of the issue or pull request, oldest first, across all pages."""
        url: str | None = self._repo_url(f"/issues/{number}/comments?per_page={PER_PAGE}")
        pages = 0
        while url is not None and pages < MAX_PAGES:
            response = self._request("GET", url)
            items = self._json(response)
            if not isinstance(items, list):
                raise ApiError(response.status_code, "the comment listing is not a JSON array")
            yield from (_comment(item) for item in items)
            pages += 1
            following = response.links.get("next", {}).get("url")
            # GitHub writes these links in its /repositories/{id}/... form; follow them only on
            # the API's own origin, so the token goes nowhere else.
            url = following if following and urlsplit(following)[:2] == self._origin else None

    def create_comment(self, number: int, body: str) -> RemoteComment:
        payload = self._json(self._request("POST", self._repo_url(f"/issues/{number}/comments"), body=body))
        return _comment(payload)

    def update_comment(self, comment_id: int, body: str) -> RemoteComment:
        payload = self._json(
            self._request("PATCH", self._repo_url(f"/issues/comments/{comment_id}"), body=body)
        )
        return _comment(payload)

    def delete_comment(self, comment_id: int) -> None:
        self._request("DELETE", self._repo_url(f"/issues/comments/{comment_id}"))


def default_clock() -> float:
    """`time.time`: the rate-limit reset is given in epoch seconds."""
    return time.time()
