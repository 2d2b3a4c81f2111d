"""Request handling of the GitLab fake: routing, authentication, parameter checks, the endpoints.

Every behaviour follows a document or a source file of gitlabhq/gitlabhq; `gitlab_server`'s
docstring lists them with commits. Each request yields a response and the list of rules it broke
(undocumented endpoint, unknown parameter, missing body, ...): the caller records those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from tests.support.gitlab_http import (
    CREDENTIAL_PARAMS,
    BadRequestBody,
    Response,
    pagination_headers,
    parse_params,
    quick_action_lines,
)
from tests.support.gitlab_model import (
    GitLabState,
    MergeRequest,
    Note,
    User,
    current_user_entity,
    note_entity,
)

BODY_LIMIT = 1_000_000
"""doc/api/notes.md: "The content of a note. Limited to 1,000,000 characters."."""
DEFAULT_PER_PAGE, MAX_PER_PAGE = 20, 100
"""doc/api/rest/index.md, "Offset-based pagination"."""

_ALLOWED_METHODS = {
    "user": ("GET",),
    "notes": ("GET", "POST"),
    "note": ("GET", "PUT", "DELETE"),
    "artifact": ("GET",),
}
# Parameters per endpoint: doc/api/notes.md, plus what lib/api/notes.rb declares (`internal`,
# `activity_filter`). Grape ignores undeclared ones silently, so a typo would go unnoticed there.
_KNOWN_PARAMS = {
    ("user", "GET"): frozenset[str](),
    ("notes", "GET"): frozenset({"sort", "order_by", "activity_filter", "page", "per_page"}),
    ("notes", "POST"): frozenset(
        {"body", "internal", "confidential", "created_at", "merge_request_diff_head_sha"}
    ),
    ("note", "GET"): frozenset[str](),
    ("note", "PUT"): frozenset({"body", "confidential"}),
    ("note", "DELETE"): frozenset[str](),
    # doc/api/job_artifacts.md; lib/api/ci/job_artifacts.rb declares the same.
    ("artifact", "GET"): frozenset({"job", "job_token", "search_recent_successful_pipelines"}),
}
_DEPRECATED_PARAMS = frozenset({"confidential"})
# Allowed values, the default first (lib/api/notes.rb; doc/api/notes.md gives the first two).
_VALUES = {
    "sort": ("desc", "asc"),
    "order_by": ("created_at", "updated_at"),
    "activity_filter": ("all_notes", "only_comments", "only_activity"),
}


@dataclass(frozen=True)
class ApiOptions:
    base_url: str
    """Scheme, host and port the fake listens on; `web_url` and `Link` URLs start with it."""
    job_token_reads_notes: bool
    """doc/ci/jobs/ci_job_token.md lists the two MR-notes GET endpoints for job tokens; older
    GitLab versions did not, and answered 401 there too."""
    legacy_validation_errors: bool
    """Answer note validation errors as {"message": {"note": [...]}} (doc/api/rest/index.md,
    "Data validation") instead of the string lib/api/helpers/notes_helpers.rb builds today."""


@dataclass(frozen=True)
class _Route:
    name: str
    """`user`, `notes` (the collection) or `note` (one note)."""
    project_ref: str = ""
    """`:id` as sent: a number or a URL-encoded path."""
    iid: str = ""
    """`:merge_request_iid` as sent, not yet checked to be an integer."""
    note_id: str = ""
    """`:note_id` as sent, for the `note` route."""
    ref: str = ""
    """`:ref_name` as sent, for the `artifact` route."""
    artifact_path: str = ""
    """`*artifact_path` as sent, for the `artifact` route."""


@dataclass(frozen=True)
class _Caller:
    user: User
    """Who the request acts as."""
    job_project_id: int | None
    """For a job token, the project whose pipeline runs the job; None for access tokens."""


class _Reject(Exception):
    def __init__(self, response: Response, violation: str | None = None) -> None:
        super().__init__(violation or str(response.status))
        self.response = response
        self.violation = violation


def _error(status: int, message: str, violation: str | None = None) -> _Reject:
    return _Reject(Response.json(status, {"message": message}), violation)


def _grape_error(message: str, violation: str | None = None) -> _Reject:
    # Grape's own parameter validation answers {"error": "<param> is missing"} and the like.
    return _Reject(Response.json(400, {"error": message}), violation)


class Api:
    """Turns one request into a response and the violations it contains."""

    def __init__(self, state: GitLabState, options: ApiOptions) -> None:
        self.state = state
        self.options = options

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[Response, list[str]]:
        violations: list[str] = []
        try:
            return self._handle(method, target, headers, body, violations), violations
        except _Reject as reject:
            if reject.violation:
                violations.append(reject.violation)
            return reject.response, violations

    def _handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, violations: list[str]
    ) -> Response:
        split = urlsplit(target)
        route = _match(split.path)
        if route is None:
            raise _Reject(Response.json(404, {"error": "404 Not Found"}), "undocumented endpoint")
        allowed = _ALLOWED_METHODS[route.name]
        if method not in allowed:
            raise _Reject(
                Response.json(405, {"error": "405 Not Allowed"}, [("Allow", ", ".join(allowed))]),
                f"{method} is not a documented method of this endpoint",
            )
        try:
            params, repeated = parse_params(method, split.query, headers.get("content-type"), body)
        except BadRequestBody as error:
            raise _grape_error("The request body could not be parsed", str(error)) from error
        violations.extend(f"parameter {name!r} given more than once" for name in repeated)
        for name in params:
            if name in CREDENTIAL_PARAMS:
                violations.append(
                    f"credential sent as parameter {name!r}: send it in a header, not a URL/body"
                )
            elif name not in _KNOWN_PARAMS[(route.name, method)]:
                violations.append(f"parameter {name!r} is not documented for {method} on this endpoint")
            elif name in _DEPRECATED_PARAMS:
                violations.append(f"parameter {name!r} is deprecated (doc/api/notes.md)")
        caller = self._authenticate(route.name, method, headers, params)
        if route.name == "user":
            return Response.json(200, current_user_entity(caller.user, self.options.base_url))
        if route.name == "artifact":
            return self._artifact(route, params, caller)
        return self._notes(route, method, split.path, params, caller, violations)

    def _authenticate(
        self, route: str, method: str, headers: Mapping[str, str], params: Mapping[str, object]
    ) -> _Caller:
        # lib/gitlab/auth/auth_finders.rb: bearer/private tokens first, then the job token, which
        # counts only on routes that allow it; no user at all is 401 "401 Unauthorized".
        authorization = headers.get("authorization", "")
        bearer = authorization[7:] if authorization.lower().startswith("bearer ") else None
        secret = (
            bearer
            or params.get("access_token")
            or headers.get("private-token")
            or params.get("private_token")
        )
        if isinstance(secret, str) and secret:
            token = self.state.tokens.get(secret)
            if token is None:
                raise _error(401, "401 Unauthorized")
            if not token.scopes & ({"api", "read_api"} if method == "GET" else {"api"}):
                # lib/api/api_guard.rb: InsufficientScopeError -> Bearer::Forbidden.
                raise _Reject(
                    Response.json(
                        403,
                        {
                            "error": "insufficient_scope",
                            "error_description": "The request requires higher privileges than provided "
                            "by the access token.",
                            "scope": "api read_api" if method == "GET" else "api",
                        },
                    )
                )
            return _Caller(token.user, None)
        job_secret = headers.get("job-token") or params.get("job_token")
        job_allowed = (
            route in ("notes", "note") and method == "GET" and self.options.job_token_reads_notes
        ) or (route == "artifact")
        if isinstance(job_secret, str) and job_secret and job_allowed:
            job = self.state.job_tokens.get(job_secret)
            if job is None:
                raise _error(401, "401 Unauthorized")
            return _Caller(job.user, job.project_id)
        raise _error(401, "401 Unauthorized")

    def _artifact(self, route: _Route, params: Mapping[str, object], caller: _Caller) -> Response:
        job = params.get("job")
        if not isinstance(job, str) or not job:
            raise _grape_error("job is missing")
        project = self.state.find_project(unquote(route.project_ref))
        if project is None or (caller.job_project_id is not None and caller.job_project_id != project.id):
            raise _error(404, "404 Project Not Found")
        key = (project.id, unquote(route.ref), job, unquote(route.artifact_path))
        content = self.state.artifacts.get(key)
        if content is None:
            raise _error(404, "404 Not found")
        return Response(200, content, "application/octet-stream")

    def _notes(
        self,
        route: _Route,
        method: str,
        path: str,
        params: Mapping[str, object],
        caller: _Caller,
        violations: list[str],
    ) -> Response:
        # Grape validates every parameter before the endpoint looks anything up.
        iid = _integer(route.iid, "noteable_id")
        note_id = _integer(route.note_id, "note_id") if route.name == "note" else 0
        listing = _ListQuery.parse(params, violations) if method == "GET" and route.name == "notes" else None
        text, internal = "", False
        if method in ("POST", "PUT"):
            text = _body_param(params, blank_allowed=method == "POST")
            internal = _boolean(params, "internal") or _boolean(params, "confidential")
            violations.extend(
                f"body line {line} would run the quick action /{command}"
                for line, command in quick_action_lines(text)
            )
        project = self.state.find_project(unquote(route.project_ref))
        if project is None or (caller.job_project_id is not None and caller.job_project_id != project.id):
            raise _error(404, "404 Project Not Found")
        mr = self.state.merge_requests.get((project.id, iid))
        if mr is None:
            raise _error(404, "404 MergeRequest Not Found")
        if listing is not None:
            return self._list(mr, listing, path)
        if route.name == "notes":
            self._check_length(text)
            created_at = self._created_at(params, caller.user)
            note = self.state.add_note(mr, text, caller.user, internal=internal, created_at=created_at)
            return Response.json(201, note_entity(note, self.options.base_url))
        note = self._find_note(mr, note_id)
        if method == "GET":
            return Response.json(200, note_entity(note, self.options.base_url))
        if note.system or (note.author != caller.user and caller.user.role == "developer"):
            raise _error(403, "403 Forbidden")  # NotePolicy: :admin_note is the author's or a maintainer's
        if method == "DELETE":
            del self.state.notes[note.id]
            return Response(204)
        self._check_length(text)
        return Response.json(200, note_entity(self.state.update_note(note, text), self.options.base_url))

    def _list(self, mr: MergeRequest, listing: _ListQuery, path: str) -> Response:
        notes = [n for n in self.state.notes_on(mr) if listing.keeps(n)]
        # order_options_with_tie_breaker: the id breaks ties in the same direction.
        notes.sort(key=lambda n: (getattr(n, listing.order_by), n.id), reverse=listing.sort == "desc")
        start = (listing.page - 1) * listing.per_page
        page = notes[start : start + listing.per_page]
        headers = pagination_headers(
            self.options.base_url + path, listing.echo, listing.page, listing.per_page, len(notes)
        )
        return Response.json(200, [note_entity(n, self.options.base_url) for n in page], headers)

    def _find_note(self, mr: MergeRequest, note_id: int) -> Note:
        note = self.state.notes.get(note_id)
        if note is None or note.merge_request != mr:
            # `noteable.notes.find` raises ActiveRecord::RecordNotFound; lib/api/api.rb answers it so.
            raise _error(404, "404 Not found")
        return note

    def _check_length(self, text: str) -> None:
        # app/models/note.rb: validates :note, presence and length <= MAX_TEXT_SIZE_LIMIT (1,000,000);
        # lib/api/helpers/notes_helpers.rb turns errors into bad_request!("Note #{errors.messages}").
        problem = None
        if not text.strip():
            problem = "can't be blank"
        elif len(text) > BODY_LIMIT:
            problem = f"is too long (maximum is {BODY_LIMIT} characters)"
        if problem is None:
            return
        violation = f"body {problem}" if text.strip() else "body is blank"
        if self.options.legacy_validation_errors:
            raise _Reject(Response.json(400, {"message": {"note": [problem]}}), violation)
        raise _error(400, f'400 Bad request - Note {{:note=>["{problem}"]}}', violation)

    def _created_at(self, params: Mapping[str, object], user: User) -> datetime | None:
        # doc/api/notes.md: created_at "requires administrator or project/group owner rights";
        # lib/api/helpers/notes_helpers.rb drops it silently for anyone else.
        value = params.get("created_at")
        if user.role != "owner" or not isinstance(value, str):
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _ListQuery:
    sort: str
    """`asc` or `desc`."""
    order_by: str
    """`created_at` or `updated_at`: a Note attribute."""
    activity_filter: str
    """`all_notes`, `only_comments` (no system notes) or `only_activity` (only system notes)."""
    page: int
    """1-based page number."""
    per_page: int
    """Page size after GitLab's cap."""
    echo: dict[str, str]
    """Query parameters repeated in the Link URLs, credentials left out."""

    @classmethod
    def parse(cls, params: Mapping[str, object], violations: list[str]) -> _ListQuery:
        chosen = {name: str(params.get(name, values[0])) for name, values in _VALUES.items()}
        for name, value in chosen.items():
            if value not in _VALUES[name]:
                raise _grape_error(
                    f"{name} does not have a valid value", f"{name}={value!r} is not documented"
                )
        page = _integer(params.get("page", "1"), "page")
        per_page = _integer(params.get("per_page", str(DEFAULT_PER_PAGE)), "per_page")
        if per_page < 1:
            raise _grape_error("per_page has a value not allowed", "per_page must be at least 1")
        if per_page > MAX_PER_PAGE:
            violations.append(f"per_page={per_page} is above the documented maximum {MAX_PER_PAGE}")
            per_page = MAX_PER_PAGE
        if page < 1:
            violations.append(f"page={page}: pages start at 1")
            page = 1
        echo = {k: str(v) for k, v in params.items() if k not in CREDENTIAL_PARAMS}
        return cls(chosen["sort"], chosen["order_by"], chosen["activity_filter"], page, per_page, echo)

    def keeps(self, note: Note) -> bool:
        if self.activity_filter == "only_comments":
            return not note.system
        if self.activity_filter == "only_activity":
            return note.system
        return True


def _match(path: str) -> _Route | None:
    # "/api/v4/projects/:id/merge_requests/:merge_request_iid/notes[/:note_id]" and "/api/v4/user".
    # `:id` cannot hold a raw "/" (API::NAMESPACE_OR_PROJECT_REQUIREMENTS), so an unencoded
    # "group/project" makes the path longer and it matches nothing, as on GitLab.
    segments = path.split("/")
    if segments[:3] != ["", "api", "v4"]:
        return None
    rest = segments[3:]
    if rest == ["user"]:
        return _Route("user")
    # /projects/:id/jobs/artifacts/:ref_name/raw/*artifact_path: the ref may hold slashes.
    if len(rest) >= 7 and rest[0] == "projects" and rest[2:4] == ["jobs", "artifacts"] and "raw" in rest[5:]:
        raw = rest.index("raw", 5)
        ref, path = "/".join(rest[4:raw]), "/".join(rest[raw + 1 :])
        if all(rest[:raw]) and path:
            return _Route("artifact", rest[1], ref=ref, artifact_path=path)
    shaped = (
        len(rest) in (5, 6) and rest[0] == "projects" and rest[2] == "merge_requests" and rest[4] == "notes"
    )
    if not shaped or not all(rest):
        return None
    return _Route("notes" if len(rest) == 5 else "note", rest[1], rest[3], rest[5] if len(rest) == 6 else "")


def _integer(value: object, name: str) -> int:
    text = str(value)
    if not text.lstrip("-").isdigit():
        raise _grape_error(f"{name} is invalid", f"{name}={text!r} is not an integer")
    return int(text)


def _boolean(params: Mapping[str, object], name: str) -> bool:
    value = params.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
        return value.lower() in ("true", "1")
    raise _grape_error(f"{name} is invalid", f"{name}={value!r} is not a boolean")


def _body_param(params: Mapping[str, object], *, blank_allowed: bool) -> str:
    if "body" not in params:
        raise _grape_error("body is missing", "required parameter 'body' is missing")
    value = params["body"]
    if not isinstance(value, str):
        raise _grape_error("body is invalid", f"body must be a string, got {type(value).__name__}")
    if not blank_allowed and not value.strip():
        # PUT declares `allow_blank: false` (lib/api/notes.rb).
        raise _grape_error("body is empty", "body is blank")
    return value
