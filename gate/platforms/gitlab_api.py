"""The few GitLab REST API v4 calls the merge-request note needs, with retries.

`GET /user` (doc/api/users.md), and list, create, update and delete merge-request notes
(doc/api/notes.md). The token travels in the `PRIVATE-TOKEN` header only (doc/api/rest/index.md,
"Authentication"), never in a URL, where proxies and job logs keep it; the session, that header
and the error mapping are the shared ones of gate/platforms/_http.py.

GitLab's rate limit is a 429 (Rack::Attack and the application rate limiter), a transient error
like a 5xx. `gate.platforms.retry.with_retries` re-runs a whole operation after a transient
error, so a note created by a POST whose answer was lost is found by the next listing instead
of being posted twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from gate.image.tls import trust_also
from gate.platforms._http import ApiClient, ApiError
from gate.platforms.retry import TransientError, delta_seconds

TLS_CA_VARIABLE = "CI_SERVER_TLS_CA_FILE"
"""The file of CA certificates a GitLab runner gives its jobs to verify the GitLab server with
(doc/ci/variables/predefined_variables.md: "when set in runner settings", tls-ca-file); git and
the runner's artifact uploads trust it, and so do the API calls here."""
TLS_HINT = (
    "is GitLab's certificate from a CA the job trusts? A runner whose tls-ca-file is set gives "
    f"the job that CA in {TLS_CA_VARIABLE}"
)
"""What to check when GitLab's certificate is not trusted."""

PER_PAGE = 100
"""doc/api/rest/index.md, "Offset-based pagination": `per_page` is at most 100."""
MAX_PAGES = 200
"""Stop listing after 20,000 notes: a merge request with more is not one a note helps."""


def _error_detail(response: requests.Response, shown: Callable[[str, int], str]) -> tuple[str, str | None]:
    """GitLab's message and, for `insufficient_scope`, the scope it wants, each made safe by `shown`."""
    try:
        payload: Any = response.json()
    except ValueError:
        return shown(response.reason or "", 200), None
    if not isinstance(payload, dict):
        return "", None
    if payload.get("error") == "insufficient_scope":
        scope = payload.get("scope")
        return "insufficient_scope", shown(scope, 100) if isinstance(scope, str) else None
    message = payload.get("message", payload.get("error", ""))
    text = message if isinstance(message, str) else json.dumps(message)
    return shown(text, 300), None


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


class NotTheApi(ApiError):
    """`GET /user` answered 404: every GitLab answers it for any token, so the base URL does not
    lead to GitLab's REST API v4 (a web address, or one without `/api/v4`)."""


class GitLabClient(ApiClient):
    """One merge request's notes, as one token's user."""

    platform = "GitLab"
    url_variable = "CI_API_V4_URL"
    tls_hint = TLS_HINT

    def __init__(
        self,
        api_url: str,
        token: str,
        project_id: str,
        merge_request_iid: str,
        *,
        url_variable: str = "CI_API_V4_URL",
        ca_file: str | None = None,
    ) -> None:
        super().__init__(api_url, token, ("PRIVATE-TOKEN", token), {})
        self.url_variable = url_variable
        """The variable the API URL came from: CI_API_V4_URL, else CI_SERVER_URL."""
        trust_also(self._session, ca_file)
        self._notes_path = f"/projects/{project_id}/merge_requests/{merge_request_iid}/notes"
        self._user_id: int | None = None

    def check_rate_limit(self, response: requests.Response) -> None:
        if response.status_code == 429:
            # GitLab sends delta-seconds (Rack::Attack and the application rate limiter).
            retry_after = delta_seconds(response.headers.get("Retry-After"))
            raise TransientError(self.status_text(response), retry_after=retry_after)

    def refusal(self, response: requests.Response) -> ApiError:
        detail, scope = _error_detail(response, self.shown)
        return ApiError(response.status_code, detail, scope=scope)

    def _path(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: str | None = None
    ) -> requests.Response:
        return self.request(method, self._api_url + path, params=params, body=body)

    def current_user_id(self) -> int:
        """`GET /user`: who the token is, asked once."""
        if self._user_id is None:
            try:
                response = self._path("GET", "/user")
            except ApiError as error:
                if error.status == 404:
                    raise NotTheApi(error.status, error.detail) from None
                raise
            payload = self.json(response)
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
            response = self._path("GET", self._notes_path, params=params)
            items = self.json(response)
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
        payload = self.json(self._path("POST", self._notes_path, body=body))
        return _note(payload).id

    def update_note(self, note_id: int, body: str) -> None:
        self._path("PUT", f"{self._notes_path}/{note_id}", body=body)

    def delete_note(self, note_id: int) -> None:
        self._path("DELETE", f"{self._notes_path}/{note_id}")
