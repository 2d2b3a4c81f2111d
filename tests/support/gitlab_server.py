"""A local, stateful fake of the GitLab REST API v4 merge-request notes endpoints, for tests.

It listens on 127.0.0.1 (a free port; HTTPS with a certificate of its own CA when given `tls`), keeps projects, merge requests and notes, answers like GitLab
and records every request. Requests that break the documented contract (undocumented endpoint or
method, unknown or deprecated parameter, missing or oversized `body`, a credential in the URL, a
quick-action line in a note) are answered as GitLab would and also recorded as violations;
`assert_no_violations()` fails the test on them. Faults (502/503, 429) can be queued.

Endpoints: `GET|POST /projects/:id/merge_requests/:merge_request_iid/notes`,
`GET|PUT|DELETE /projects/:id/merge_requests/:merge_request_iid/notes/:note_id`, `GET /user`,
`GET /projects/:id/jobs/artifacts/:ref_name/raw/*artifact_path?job=name`.

Sources, all in gitlabhq/gitlabhq (the GitHub mirror of gitlab-org/gitlab), read through the search
index at the commit given ("017a6c12" is 017a6c129d6a9e4ad9fec792cd84f88641d7dbfe):
- doc/api/notes.md @ 077b92f78ba9cd89df1003a0e733f3620d6970b4: the MR-notes endpoints, their
  parameters (`sort` asc|desc default desc, `order_by` created_at|updated_at, `body` required and
  "Limited to 1,000,000 characters", `created_at` for owners, `merge_request_diff_head_sha`,
  deprecated `confidential`), the note fields (`system`, `noteable_type: "MergeRequest"`,
  `noteable_iid`, `author`, ...), DELETE.
- lib/api/notes.rb @ 017a6c129d6a9e4ad9fec792cd84f88641d7dbfe: what the code declares beyond the doc
  (`internal` and `confidential` on create, `activity_filter`, `allow_blank: false` on update),
  `authenticate!` before everything, job tokens allowed on the two GET routes only.
- lib/api/helpers/notes_helpers.rb @ 017a6c12: job tokens "restricted to read-only operations",
  404 "<Noteable> Not Found", `created_at` dropped without the right, `bad_request!("Note ...")`.
- doc/ci/jobs/ci_job_token.md @ 017a6c12: job tokens may call only the two GET MR-notes endpoints;
  failures "usually shown as responses like 404 Not Found" (another project's job: 404 here).
- lib/gitlab/auth/auth_finders.rb @ b86f474bf51e20d2db4cf0895d0a8e0894e31c08 and lib/api/helpers.rb
  @ e0eff03d199c9d70782cb55c1ef8697b2de055a6 (excerpts of the stored versions, found by string
  search): `find_user_from_job_token` returns nothing unless
  the route allows job tokens, so `JOB-TOKEN` on POST/PUT/DELETE means no user: 401
  {"message": "401 Unauthorized"}; `forbidden!` is {"message": "403 Forbidden"}.
- lib/api/api.rb @ 0045970352e8729b2797591beb88a7df884d84f4: `read_api` only for GET/HEAD; a missing
  record is 404 {"message": "404 Not found"}; an unknown route {"error": "404 Not Found"}; a wrong
  method Grape's 405 {"error": "405 Not Allowed"}; parameter errors Grape's {"error": "..."}.
- lib/api/api_guard.rb @ 017a6c12: insufficient scope is 403 {"error": "insufficient_scope",
  "error_description": ..., "scope": ...}, the shape doc/api/rest/index.md shows for `sudo`.
- doc/user/profile/personal_access_tokens.md @ 003efb27fc4d7d0571979553c602fccfbf5ad0c2: `api` is
  read/write, `read_api` read-only.
- doc/api/rest/index.md @ 036cfe846472ee1cca9f7b8c43af28cd344ad66a: `PRIVATE-TOKEN` header,
  `Authorization: Bearer`, `private_token`/`access_token` parameters; 401 body; status codes;
  offset pagination (`page`, `per_page` default 20 max 100, `Link` with prev/next/first/last,
  `x-page` ... `x-total-pages`); URL-encoded `:id` paths; query or JSON payload; unknown route
  404 {"error": "404 Not Found"}; validation error shapes.
- lib/gitlab/pagination/offset_pagination.rb @ 028bf690c43c4a3db28aa0fd2f1d99bacff6c5ee: empty
  X-Next-Page/X-Prev-Page at the ends, X-Total-Pages at least 1.
- doc/administration/settings/user_and_ip_rate_limits.md @ 0286e4c628d68960d0ca9e961d82c3ea6ac90633:
  429 with a plain-text `Retry later` body, `RateLimit-Limit/-Name/-Observed/-Remaining/-Reset`,
  and on 429 `RateLimit-ResetTime` and `Retry-After`.
- doc/administration/settings/rate_limit_on_notes_creation.md @ 04027f81f0f468809a95eff2f7105a34dd7e69cf:
  note creation has its own per-user limit (300/minute by default); lib/api/helpers/rate_limiter.rb
  @ 0d83264a7a24b33de933437355c77a4fe47e5419 answers it 429 {"message": {"error": "This endpoint has
  been requested too many times. Try again later."}}, without RateLimit-* headers (application limits
  are not in them, says the doc above); newer versions add Retry-After (the limit's interval).
- doc/user/project/quick_actions.md @ 003d7f2a09668af85f94e48ed49d60862b96d8f8: the MR quick actions.
- doc/api/users.md @ 849f9995d97c85d88b36a40ee563f7dd51fdc3f1: `GET /user` ("List current user").
- doc/ci/variables/predefined_variables.md @ 2f369bd95866b7f623387ce2b6acf646df3d5222: CI_* names
  (located in the index, not re-read; the names are the well-known ones).
- doc/api/job_artifacts.md ("Download a single artifact file from specific tag or branch") and
  lib/api/ci/job_artifacts.rb (as stored in the search index): `job` required, `job_token`
  optional, job tokens allowed (`job_token_allowed: true`), `ref_name` may hold slashes, the file
  of the latest successful pipeline of the ref whose job ran; none (the last pipeline skipped the
  job, or the artifact expired) is 404 {"message": "404 Not found"}.
Where the doc and the code disagree (update's `body` is optional in the code), the doc wins.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal, cast
from urllib.parse import quote

from tests.support.gitlab_api import Api, ApiOptions
from tests.support.gitlab_http import CREDENTIAL_HEADERS, RecordedRequest, Response, Violation
from tests.support.gitlab_model import (
    AccessToken,
    Clock,
    GitLabState,
    JobToken,
    MergeRequest,
    Note,
    Project,
    Role,
    TickingClock,
    User,
)

__all__ = ["GitLabFake", "MergeRequest", "Note", "Project", "RecordedRequest", "User", "Violation"]


@dataclass(frozen=True)
class _Fault:
    status: int
    """502/503 (a proxy or an overloaded instance) or 429 (a throttle)."""
    methods: frozenset[str] | None
    """Only requests with one of these methods take the fault; None: any request."""
    after_apply: bool
    """Process the request (a note may be created) and answer the fault anyway."""
    retry_after: int | None
    """Seconds announced in Retry-After (429 only); None leaves the header out."""
    throttle: str
    """429 only: `authenticated_api` (Rack::Attack) or `notes_create` (the application limit)."""


class GitLabFake:
    """The fake GitLab. Use as a context manager, or `start()` / `stop()`."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        job_token_reads_notes: bool = True,
        legacy_validation_errors: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.state = GitLabState(clock or TickingClock())
        self._tls = tls
        """A server-side context to answer HTTPS with (an instance with its own CA), else HTTP."""
        self._job_token_reads_notes = job_token_reads_notes
        self._legacy_validation_errors = legacy_validation_errors
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._requests: list[RecordedRequest] = []
        self._violations: list[Violation] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._api: Api | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        server = _Server(self)
        if self._tls is not None:
            # The handshake happens on accept; one that fails (an untrusted certificate) only
            # drops that connection.
            server.socket = self._tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._api = Api(
            self.state, ApiOptions(self.base_url, self._job_token_reads_notes, self._legacy_validation_errors)
        )
        # A short poll interval: shutdown() waits up to one interval, at every test's teardown.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="gitlab-fake", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> GitLabFake:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`CI_SERVER_URL`: http://127.0.0.1:<port> (https:// with `tls`)."""
        if self._server is None:
            raise RuntimeError("the GitLab fake is not started")
        host, port = self._server.server_address[:2]
        return f"{'https' if self._tls is not None else 'http'}://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """`CI_API_V4_URL`."""
        return self.base_url + "/api/v4"

    # -- world -------------------------------------------------------------------------------
    def add_user(self, username: str, *, name: str = "", role: Role = "developer", bot: bool = False) -> User:
        with self._lock:
            return self.state.add_user(username, name or username, role, bot)

    def add_project(self, path_with_namespace: str, *, project_id: int | None = None) -> Project:
        with self._lock:
            return self.state.add_project(path_with_namespace, project_id)

    def add_merge_request(self, project: Project, iid: int) -> MergeRequest:
        with self._lock:
            return self.state.add_merge_request(project, iid)

    def add_token(self, secret: str, user: User, *, scopes: Collection[str] = ("api",)) -> None:
        """A personal, project or group access token for `user`."""
        with self._lock:
            self.state.tokens[secret] = AccessToken(user, frozenset(scopes))

    def add_job_token(self, secret: str, user: User, project: Project) -> None:
        """A running job's `CI_JOB_TOKEN`, started by `user` in `project`'s pipeline."""
        with self._lock:
            self.state.job_tokens[secret] = JobToken(user, project.id)

    def add_artifact(self, project: Project, ref: str, job: str, path: str, content: bytes) -> None:
        """A file in the artifacts of job `job` of the latest successful pipeline of `ref`."""
        with self._lock:
            self.state.artifacts[(project.id, ref, job, path)] = content

    def seed_note(
        self, mr: MergeRequest, body: str, *, author: User, system: bool = False, internal: bool = False
    ) -> Note:
        """A note already on the merge request, written by someone (or by GitLab: `system`)."""
        with self._lock:
            return self.state.add_note(mr, body, author, system=system, internal=internal)

    def notes(self, mr: MergeRequest) -> list[Note]:
        """The merge request's notes now, oldest first."""
        with self._lock:
            return self.state.notes_on(mr)

    def ci_environment(
        self, mr: MergeRequest, *, job_name: str = "container-gate", job_token: str | None = None
    ) -> dict[str, str]:
        """The predefined variables of a merge-request pipeline job on this instance."""
        project = self.state.projects[mr.project_id]
        env = {
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_SERVER_URL": self.base_url,
            "CI_API_V4_URL": self.api_url,
            "CI_PROJECT_ID": str(project.id),
            "CI_PROJECT_PATH": project.path_with_namespace,
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_IID": str(mr.iid),
            "CI_MERGE_REQUEST_PROJECT_ID": str(project.id),
            "CI_JOB_NAME": job_name,
        }
        if job_token is not None:
            env["CI_JOB_TOKEN"] = job_token
        return env

    # -- faults ------------------------------------------------------------------------------
    def fail_next(
        self, count: int = 1, *, status: int = 502, method: str | None = None, after_apply: bool = False
    ) -> None:
        """The next `count` requests (of `method`, if given) get `status` (500, 502, 503 or 504).

        `after_apply`: the request takes effect first, as when a proxy times out after the note was
        written; a client that retries blindly then posts a duplicate.
        """
        if status not in (500, 502, 503, 504):
            raise ValueError(f"fail_next status must be 500, 502, 503 or 504, got {status}")
        self._queue(count, _Fault(status, _methods(method), after_apply, None, ""))

    def rate_limit_next(
        self,
        count: int = 1,
        *,
        retry_after: int | None = 30,
        method: str | None = None,
        throttle: Literal["authenticated_api", "notes_create"] = "authenticated_api",
    ) -> None:
        """The next `count` requests (of `method`, if given) are throttled with 429.

        `authenticated_api`: Rack::Attack's plain-text answer with RateLimit-* headers.
        `notes_create`: the note-creation limit's JSON answer. `retry_after=None` omits Retry-After,
        as older versions and some GitLab.com paths do (gitlab-org/gitlab issue 365728).
        """
        self._queue(count, _Fault(429, _methods(method), False, retry_after, throttle))

    def _queue(self, count: int, fault: _Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * count)

    # -- what happened ---------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def violations(self) -> list[Violation]:
        with self._lock:
            return list(self._violations)

    def clear_violations(self) -> None:
        """Forget recorded violations, after a test has asserted the ones it provoked."""
        with self._lock:
            self._violations.clear()

    def assert_no_violations(self) -> None:
        found = self.violations
        if found:
            raise AssertionError(
                "requests broke the documented GitLab API contract:\n" + "\n".join(f"- {v}" for v in found)
            )

    def token_leaks(self, secret: str) -> list[str]:
        """Where `secret` was sent outside an authentication header: URL, body, other headers."""
        forms = {secret, quote(secret, safe="")}
        leaks = []
        for index, request in enumerate(self.requests):
            where = f"request {index} ({request.method} {request.target.split('?')[0]})"
            if any(form in request.target for form in forms):
                leaks.append(f"{where}: in the URL")
            if any(form.encode() in request.body for form in forms):
                leaks.append(f"{where}: in the body")
            for name, value in request.headers:
                if name.lower() not in CREDENTIAL_HEADERS and secret in value:
                    leaks.append(f"{where}: in header {name}")
        return leaks

    # -- serving -------------------------------------------------------------------------------
    def dispatch(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        with self._lock:
            fault = next((f for f in self._faults if f.methods is None or method in f.methods), None)
            if fault is not None:
                self._faults.remove(fault)
            response, problems = Response(500), list[str]()
            if fault is None or fault.after_apply:
                if self._api is None:
                    raise RuntimeError("the GitLab fake is not started")
                lowered = {name.lower(): value for name, value in headers}
                try:
                    response, problems = self._api.handle(method, target, lowered, body)
                except Exception as error:  # a bug of the fake must fail the test, not hang the client
                    response, problems = Response.json(500, {"message": "500 Internal Server Error"}), []
                    problems.append(f"the fake itself failed: {type(error).__name__}: {error}")
            if fault is not None:
                response = self._fault_response(fault)
            path = target.split("?")[0]
            self._violations.extend(Violation(method, path, message) for message in problems)
            self._requests.append(RecordedRequest(method, target, tuple(headers), body, response.status))
            return response

    def _fault_response(self, fault: _Fault) -> Response:
        if fault.status != 429:
            reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
            title = f"{fault.status} {reason.get(fault.status, 'Gateway Timeout')}"
            return Response.text(fault.status, f"<html><body><h1>{title}</h1></body></html>\n", "text/html")
        retry = () if fault.retry_after is None else (("Retry-After", str(fault.retry_after)),)
        if fault.throttle == "notes_create":
            message = {"error": "This endpoint has been requested too many times. Try again later."}
            return Response.json(429, {"message": message}, retry)
        reset = self.state.clock() + timedelta(seconds=fault.retry_after or 60)
        headers = (
            ("RateLimit-Name", "throttle_authenticated_api"),
            ("RateLimit-Limit", "60"),
            ("RateLimit-Observed", "61"),
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Reset", str(int(reset.timestamp()))),
            ("RateLimit-ResetTime", format_datetime(reset, usegmt=True)),
            *retry,
        )
        return Response(429, b"Retry later\n", "text/plain", headers)


def _methods(method: str | None) -> frozenset[str] | None:
    return None if method is None else frozenset({method.upper()})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: GitLabFake) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        # Silent on purpose: request lines can carry a token in the query string.
        return

    def _serve(self) -> None:
        body = self._read_body()
        fake = cast(_Server, self.server).fake
        response = fake.dispatch(self.command, self.path, list(self.headers.items()), body)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.status != 204:
            self.send_header("Content-Type", response.content_type or "application/json")
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.status != 204:
            self.wfile.write(response.body)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""
