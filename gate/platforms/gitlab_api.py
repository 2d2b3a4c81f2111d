"""The few GitLab REST API v4 calls the merge-request note needs, with retries.

`GET /user` (doc/api/users.md), and list, create, update and delete merge-request notes
(doc/api/notes.md). The token travels in the `PRIVATE-TOKEN` header only (doc/api/rest/index.md,
"Authentication"), never in a URL, where proxies and job logs keep it. Redirects are not
followed: requests re-sends custom headers such as `PRIVATE-TOKEN` to whatever host a redirect
names, and the API never redirects a correct `CI_API_V4_URL`.

Errors are sorted into what waiting can fix (`TransientError`: 5xx, 429, no answer) and what it
cannot (`ApiError`: any other 4xx). `gate.platforms.retry.with_retries` re-runs a whole operation after a transient
error, so a note created by a POST whose answer was lost is found by the next listing instead
of being posted twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from gate import __version__
from gate.platforms.retry import TransientError, delta_seconds
from gate.untrusted import terminal_safe

PER_PAGE = 100
"""doc/api/rest/index.md, "Offset-based pagination": `per_page` is at most 100."""
MAX_PAGES = 200
"""Stop listing after 20,000 notes: a merge request with more is not one a note helps."""
TIMEOUT = (10.0, 30.0)
"""Seconds to connect and to wait for an answer: a hung proxy must not hold the CI job."""


class ApiError(Exception):
    """GitLab refused a request in a way that retrying does not fix (a 4xx other than 429)."""

    def __init__(self, status: int, detail: str, *, scope: str | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        """GitLab's own message (`message` or `error`), made safe to print."""
        self.scope = scope
        """For 403 `insufficient_scope`: the scope(s) GitLab says the request needs."""


def _error_detail(response: requests.Response) -> tuple[str, str | None]:
    """GitLab's message and, for `insufficient_scope`, the scope it wants."""
    try:
        payload: Any = response.json()
    except ValueError:
        return terminal_safe(response.reason or "", 200), None
    if not isinstance(payload, dict):
        return "", None
    if payload.get("error") == "insufficient_scope":
        scope = payload.get("scope")
        return "insufficient_scope", terminal_safe(scope, 100) if isinstance(scope, str) else None
    message = payload.get("message", payload.get("error", ""))
    text = message if isinstance(message, str) else json.dumps(message)
    return terminal_safe(text, 300), None


@dataclass(frozen=True)
class RemoteNote:
    """The parts of a merge-request note the publisher looks at."""

    id: int
    """Global note id."""
    body: str
    """Markdown text."""
    author_id: int
    """`author.id`: the user who wrote it."""
    system: bool
    """GitLab's own event notes (pushes, approvals), which nobody can edit."""


def _note(item: object) -> RemoteNote:
    if not isinstance(item, dict):
        raise ApiError(200, "a note in GitLab's answer is not an object")
    author = item.get("author")
    ident, body, system = item.get("id"), item.get("body"), item.get("system", False)
    author_id = author.get("id") if isinstance(author, dict) else None
    if not (isinstance(ident, int) and isinstance(body, str) and isinstance(author_id, int)):
        raise ApiError(200, "a note in GitLab's answer lacks an integer id, a body or an author id")
    return RemoteNote(ident, body, author_id, system is True)


class _PrivateToken(requests.auth.AuthBase):
    """Sets `PRIVATE-TOKEN`. Being an auth object also stops requests from adding ~/.netrc
    credentials, while proxies from the environment keep working."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["PRIVATE-TOKEN"] = self._token
        return request


class GitLabClient:
    """One merge request's notes, as one token's user."""

    def __init__(self, api_url: str, token: str, project_id: str, merge_request_iid: str) -> None:
        self._api_url = api_url.rstrip("/")
        self._notes_path = f"/projects/{project_id}/merge_requests/{merge_request_iid}/notes"
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"container-gate/{__version__}"
        self._auth = _PrivateToken(token)
        self._user_id: int | None = None

    def close(self) -> None:
        self._session.close()

    def _request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: str | None = None
    ) -> requests.Response:
        try:
            response = self._session.request(
                method,
                self._api_url + path,
                params=params,
                json=None if body is None else {"body": body},
                auth=self._auth,
                timeout=TIMEOUT,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise TransientError(f"no answer from GitLab within {TIMEOUT[1]:g} s") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
            raise TransientError(f"cannot connect to GitLab ({type(error).__name__})") from None
        except (requests.RequestException, ValueError) as error:
            # The exception's text can hold header values (requests' InvalidHeader, http.client's
            # "Invalid header value" ValueError), the token among them.
            raise ApiError(0, f"the request could not be sent ({type(error).__name__})") from None
        status = response.status_code
        if status == 429 or status >= 500:
            reason = f"{status} {terminal_safe(response.reason or '', 80)}".strip()
            # GitLab sends delta-seconds (Rack::Attack and the application rate limiter).
            raise TransientError(reason, retry_after=delta_seconds(response.headers.get("Retry-After")))
        if 300 <= status < 400:
            raise ApiError(status, "GitLab answered with a redirect; check CI_API_V4_URL")
        if status >= 400:
            detail, scope = _error_detail(response)
            raise ApiError(status, detail, scope=scope)
        return response

    def _json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, "GitLab's answer is not JSON") from None

    def current_user_id(self) -> int:
        """`GET /user`: who the token is, asked once."""
        if self._user_id is None:
            payload = self._json(self._request("GET", "/user"))
            ident = payload.get("id") if isinstance(payload, dict) else None
            if not isinstance(ident, int):
                raise ApiError(200, "GET /user answered without a user id")
            self._user_id = ident
        return self._user_id

    def notes(self) -> Iterator[RemoteNote]:
        """Every note of the merge request, oldest first, across all pages."""
        page = 1
        while page <= MAX_PAGES:
            params = {"sort": "asc", "order_by": "created_at", "per_page": str(PER_PAGE), "page": str(page)}
            response = self._request("GET", self._notes_path, params=params)
            items = self._json(response)
            if not isinstance(items, list):
                raise ApiError(response.status_code, "the notes listing is not a JSON array")
            yield from (_note(item) for item in items)
            # X-Next-Page is empty on the last page; GitLab may leave the header out for very
            # long listings, where a short page marks the end instead.
            following = response.headers.get("X-Next-Page")
            if following is None:
                if len(items) < PER_PAGE:
                    return
                page += 1
            elif following.strip().isdigit() and int(following) > page:
                page = int(following)
            else:
                return

    def create_note(self, body: str) -> int:
        payload = self._json(self._request("POST", self._notes_path, body=body))
        return _note(payload).id

    def update_note(self, note_id: int, body: str) -> None:
        self._request("PUT", f"{self._notes_path}/{note_id}", body=body)

    def delete_note(self, note_id: int) -> None:
        self._request("DELETE", f"{self._notes_path}/{note_id}")
