"""A local, stateful fake of the GitHub REST API that holds every exchange to GitHub's own description.

Each request is checked against the OpenAPI description (npm `@octokit/openapi`) before the fake acts on
it, and each answer the fake gives is checked too. A request that departs from the description gets 400
with the reasons; every departure, on either side, is recorded as a `Violation`, and
`assert_no_violations()` fails the test that caused it.

What it enforces beyond the description (sources: docs.github.com "Getting started with the REST API",
"Authenticating to the REST API", "Rate limits for the REST API"):
- `Authorization: Bearer <token>` or `token <token>`; none -> 401 "Requires authentication", unknown
  -> 401 "Bad credentials". (GitHub serves public reads without a token; the gate always sends one.)
- A User-Agent header (GitHub answers 403 without one); `X-GitHub-Api-Version` among the supported
  versions (400 otherwise); the gate's contract adds: Accept names a GitHub JSON media type and the
  version header is sent (recorded as violations only, since GitHub would still answer).
- `x-ratelimit-*` headers on every answer; faults queued by tests: 5xx, secondary rate limits (403 or
  429 with Retry-After), the primary rate limit (403 with x-ratelimit-remaining 0 and x-ratelimit-reset).
"""

from __future__ import annotations

import collections
import itertools
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from tests.support.github_endpoints import Call, Endpoints, Reply, error
from tests.support.github_json import Urls
from tests.support.github_state import Clock, GitHubState, utc_now
from tests.support.openapi import ApiDescription, MatchedOperation, load_api_description

SUPPORTED_API_VERSIONS = ("2022-11-28",)
"""Values of X-GitHub-Api-Version the fake serves; the installed description is for 2022-11-28."""

RATE_LIMIT = 5000
"""Requests per hour of an installation token, as reported in x-ratelimit-limit."""

_DOCS = "https://docs.github.com/rest"
_RATE_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
_GITHUB_JSON = re.compile(r"application/vnd\.github(\.v3)?(\.(raw|text|html|full))?\+json")
_REPOSITORIES = re.compile(r"/repositories/(\d+)(/.*)?")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it."""

    method: str
    """HTTP method."""
    target: str
    """Path and query exactly as sent."""
    headers: tuple[tuple[str, str], ...]
    """Headers as sent, in order, names as the client spelled them."""
    body: bytes
    """Raw body."""
    operation_id: str | None
    """The documented operation it matched, if any."""
    status: int
    """The status the fake answered."""

    def header(self, name: str) -> str | None:
        """A header's value (names compared without case)."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Violation:
    """A departure from GitHub's description or rules, by the client or by the fake."""

    side: Literal["request", "response"]
    """`request`: the client sent it; `response`: the fake served it (a bug in the fake)."""
    method: str
    """HTTP method of the exchange."""
    target: str
    """Request target of the exchange."""
    problem: str
    """What was wrong."""

    def __str__(self) -> str:
        return f"{self.side} {self.method} {self.target}: {self.problem}"


@dataclass(frozen=True)
class Fault:
    """An answer queued by a test, served instead of the real one."""

    reply: Reply
    """Status, body and headers to serve."""
    method: str | None
    """Only requests with this method take it (None: any request)."""
    exhausts_rate_limit: bool
    """Report x-ratelimit-remaining 0 with it (the primary rate limit)."""


@dataclass(frozen=True)
class _Outcome:
    reply: Reply
    credential: str | None = None
    """The token that authenticated the request (its usage feeds the x-ratelimit headers)."""
    rate_limited: bool = False
    """A primary-rate-limit fault: report the limit as used up."""


class FakeGitHub:
    """The fake service; start it with `with FakeGitHub() as github:` or use the `github_api` fixture."""

    def __init__(
        self,
        *,
        description: ApiDescription | None = None,
        clock: Clock = utc_now,
        html_base: str = "https://github.com",
        require_gate_headers: bool = True,
    ) -> None:
        self.description = description or load_api_description()
        self.state = GitHubState(clock)
        self.require_gate_headers = require_gate_headers
        self._html_base = html_base
        self._lock = threading.RLock()
        self._faults: collections.deque[Fault] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._violations: list[Violation] = []
        self._used: collections.Counter[str] = collections.Counter()
        self._request_ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.endpoints = Endpoints(
            self.state, self.description, Urls(api="http://127.0.0.1:0", html=html_base)
        )

    # -- life cycle --------------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        """Listen on a free port of 127.0.0.1 and serve in a background thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.endpoints.urls = Urls(api=self.base_url, html=self._html_base)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-github", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`: what GITHUB_API_URL is set to for the gate."""
        if self._httpd is None:
            raise RuntimeError("the fake GitHub is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- what tests read ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def violations(self) -> list[Violation]:
        """Every departure recorded so far (a copy)."""
        with self._lock:
            return list(self._violations)

    def take_violations(self) -> list[Violation]:
        """The violations recorded so far, which are then forgotten (for tests that provoke them)."""
        with self._lock:
            taken, self._violations = self._violations, []
            return taken

    def record_crash(self, method: str, target: str, crash: Exception) -> None:
        """Record an exception raised while serving (answered with 500)."""
        with self._lock:
            self._violations.append(Violation("response", method, target, f"the fake crashed: {crash!r}"))

    def assert_no_violations(self) -> None:
        """Fail with every recorded violation, if there is any."""
        found = self.violations
        assert not found, "GitHub API violations:\n" + "\n".join(f"- {v}" for v in found)

    def assert_token_confined(self, token: str) -> None:
        """Fail if `token` was sent anywhere but the Authorization header (URL, other headers, body)."""
        leaks = []
        for request in self.requests:
            places = [("request target", unquote(request.target)), ("body", request.body.decode("latin-1"))]
            places += [(f"header {k}", v) for k, v in request.headers if k.lower() != "authorization"]
            leaks += [
                f"{request.method} {request.target}: {where}" for where, text in places if token in text
            ]
        assert not leaks, "the token was sent outside the Authorization header:\n" + "\n".join(leaks)

    # -- what tests arrange ------------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 502, method: str | None = None) -> None:
        """Answer the next `count` requests (of `method`, if given) with a server error."""
        body = {"message": "Server Error"} if status != 503 else {"message": "Service Unavailable"}
        self._queue(count, Fault(Reply(status, body), method, exhausts_rate_limit=False))

    def secondary_rate_limit(
        self,
        count: int = 1,
        *,
        status: Literal[403, 429] = 403,
        retry_after: int = 60,
        method: str | None = None,
    ) -> None:
        """Answer the next `count` requests as GitHub does when a secondary rate limit is hit."""
        message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        reply = error(status, message, _RATE_DOCS + "#about-secondary-rate-limits")
        reply = Reply(reply.status, reply.body, (("Retry-After", str(retry_after)),))
        self._queue(count, Fault(reply, method, exhausts_rate_limit=False))

    def primary_rate_limit(self, count: int = 1, *, method: str | None = None) -> None:
        """Answer the next `count` requests with 403 and x-ratelimit-remaining 0 (reset in the headers)."""
        reply = error(403, "API rate limit exceeded for installation.", _RATE_DOCS)
        self._queue(count, Fault(reply, method, exhausts_rate_limit=True))

    def _queue(self, count: int, fault: Fault) -> None:
        if fault.method is not None:
            fault = Fault(fault.reply, fault.method.upper(), fault.exhausts_rate_limit)
        with self._lock:
            self._faults.extend([fault] * count)

    # -- serving -----------------------------------------------------------------------------------

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method is None or fault.method == method:
                self._faults.remove(fault)
                return fault
        return None

    def _canonical(self, target: str) -> str:
        # GitHub writes pagination links as /repositories/{id}/...; the description documents only
        # /repos/{owner}/{repo}/..., and GitHub serves both, so map the first onto the second.
        split = urlsplit(target)
        found = _REPOSITORIES.fullmatch(split.path)
        repo = self.state.repository_by_id(int(found.group(1))) if found else None
        if found is None or repo is None:
            return target
        return f"/repos/{repo.full_name}{found.group(2) or ''}" + (f"?{split.query}" if split.query else "")

    def serve(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
        """Answer one request and record it (called by the HTTP handler, one thread per connection)."""
        lower = {k.lower(): v for k, v in headers}
        with self._lock:
            check = self.description.check_request(method, self._canonical(target), lower, body)
            outcome = self._answer(method, target, lower, check.operation, check.problems)
            reply = self._with_common_headers(outcome)
            operation_id = check.operation.operation_id if check.operation else None
            self._requests.append(
                RecordedRequest(method, target, tuple(headers), body, operation_id, reply.status)
            )
            if check.operation is not None:
                served_headers = {k.lower(): v for k, v in reply.headers}
                for problem in self.description.check_response(
                    check.operation, reply.status, served_headers, encode_body(reply)
                ):
                    self._violations.append(Violation("response", method, target, problem))
            return reply

    def _answer(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        operation: MatchedOperation | None,
        problems: tuple[str, ...],
    ) -> _Outcome:
        def violation(problem: str) -> None:
            self._violations.append(Violation("request", method, target, problem))

        for problem in problems:
            violation(problem)
        if operation is None:
            return _Outcome(error(404, "Not Found", _DOCS))
        doc_url = str(self.description.operation(operation.operation_id)[2]["externalDocs"]["url"])
        if problems:
            return _Outcome(error(400, "Invalid request.\n\n" + "\n".join(problems), doc_url))
        if "user-agent" not in headers:
            violation("no User-Agent header")
            message = (
                "Request forbidden by administrative rules. "
                "Please make sure your request has a User-Agent header."
            )
            return _Outcome(error(403, message, _DOCS))
        version = headers.get("x-github-api-version")
        if version is not None and version not in SUPPORTED_API_VERSIONS:
            violation(f"X-GitHub-Api-Version {version!r} is not supported")
            return _Outcome(error(400, f"API version {version} is not supported.", _DOCS))
        if self.require_gate_headers:
            if version is None:
                violation("no X-GitHub-Api-Version header")
            if not _GITHUB_JSON.fullmatch(headers.get("accept", "").strip()):
                violation(f"Accept {headers.get('accept')!r} is not a GitHub JSON media type")
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        credential = credential.strip()
        if not credential:
            return _Outcome(error(401, "Requires authentication", _DOCS))
        token = self.state.token(credential) if scheme.lower() in ("bearer", "token") else None
        if token is None:
            return _Outcome(error(401, "Bad credentials", _DOCS))
        self._used[credential] += 1
        fault = self._take_fault(method)
        if fault is not None:
            return _Outcome(fault.reply, credential, rate_limited=fault.exhausts_rate_limit)
        query = urlsplit(target).query
        call = Call(operation, token, headers.get("accept", ""), query, doc_url)
        reply = self.endpoints.handle(call)
        if reply is None:
            violation(f"{operation.operation_id} is documented but this fake does not implement it")
            return _Outcome(error(404, "Not Found", doc_url), credential)
        return _Outcome(reply, credential)

    def _with_common_headers(self, outcome: _Outcome) -> Reply:
        reply = outcome.reply
        used = RATE_LIMIT if outcome.rate_limited else self._used[outcome.credential or ""]
        reset = int(self.state.clock().timestamp()) + 3600
        headers = [
            ("X-GitHub-Api-Version-Selected", SUPPORTED_API_VERSIONS[0]),
            ("X-GitHub-Media-Type", "github.v3; format=json"),
            ("X-GitHub-Request-Id", f"FAKE:{next(self._request_ids):08X}"),
            ("x-ratelimit-limit", str(RATE_LIMIT)),
            ("x-ratelimit-remaining", str(max(RATE_LIMIT - used, 0))),
            ("x-ratelimit-reset", str(reset)),
            ("x-ratelimit-used", str(min(used, RATE_LIMIT))),
            ("x-ratelimit-resource", "core"),
        ]
        if reply.body is not None:
            headers.append(("Content-Type", "application/json; charset=utf-8"))
        return Reply(reply.status, reply.body, (*reply.headers, *headers))


def encode_body(reply: Reply) -> bytes:
    """The bytes the fake sends for a reply (compact JSON, as GitHub sends)."""
    return b"" if reply.body is None else json.dumps(reply.body, separators=(",", ":")).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections end instead of holding a thread

    def _handle(self) -> None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.send_error(411, "the fake GitHub reads only bodies with a Content-Length")
            return
        body = self.rfile.read(int(length)) if length else b""
        try:
            reply = self.fake.serve(self.command, self.path, list(self.headers.items()), body)
        except Exception as crash:  # a bug of the fake (or of a test's handler) must fail the test, visibly
            self.fake.record_crash(self.command, self.path, crash)
            reply = error(500, "Server Error", _DOCS)
        payload = encode_body(reply)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        return  # requests may carry tokens in headers; nothing is logged
