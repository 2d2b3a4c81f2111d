"""HTTP plumbing of the GitLab fake: recorded requests, responses, parameter parsing, pagination.

Sources (gitlabhq/gitlabhq, the GitHub mirror of gitlab-org/gitlab) are listed in `gitlab_server`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from urllib.parse import parse_qsl, urlencode

CREDENTIAL_HEADERS = frozenset({"private-token", "job-token", "authorization"})
"""Headers that legitimately carry a token (doc/api/rest/index.md, "Authentication")."""

CREDENTIAL_PARAMS = ("private_token", "access_token", "job_token")
"""Parameters GitLab also reads tokens from; documented, but they put the token in URLs and logs."""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    """HTTP method as sent."""
    target: str
    """Request target exactly as sent: raw path and query string."""
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    """Headers in the order sent, names as sent (left out of repr: they hold the token)."""
    body: bytes = field(repr=False)
    """Raw request body."""
    status: int = 0
    """Status the fake answered."""

    def header(self, name: str) -> str | None:
        """Last value of a header, matched case-insensitively, or None."""
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        return found[-1] if found else None


@dataclass(frozen=True)
class Violation:
    method: str
    """HTTP method of the offending request."""
    path: str
    """Request path without the query string, so a credential sent there is not repeated."""
    message: str
    """Which documented rule the request broke."""

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.message}"


@dataclass(frozen=True)
class Response:
    status: int
    """HTTP status code."""
    body: bytes = b""
    """Response body; empty for 204."""
    content_type: str | None = None
    """Content-Type, None when there is no body."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra headers (pagination, rate limit, Allow)."""

    @classmethod
    def json(cls, status: int, payload: object, headers: Sequence[tuple[str, str]] = ()) -> Response:
        return cls(status, json.dumps(payload).encode(), "application/json", tuple(headers))

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
        return cls(status, text.encode(), content_type)


class BadRequestBody(ValueError):
    """The request body cannot be read as parameters."""


def parse_params(
    method: str, query: str, content_type: str | None, body: bytes
) -> tuple[dict[str, object], list[str]]:
    """Query and body parameters merged, body winning, plus the names given more than once.

    GitLab (Rack + Grape) reads parameters from the query string for every method and from a
    form-encoded, multipart or JSON body (doc/api/rest/index.md, "Request Payload").
    """
    params: dict[str, object] = {}
    repeated: list[str] = []
    for pairs in (parse_qsl(query, keep_blank_values=True), _body_pairs(method, content_type, body)):
        seen: set[str] = set()
        for key, value in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
            params[key] = value
    return params, repeated


def _body_pairs(method: str, content_type: str | None, body: bytes) -> list[tuple[str, object]]:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "" and method != "POST":
        # Rack parses a body without Content-Type as a form only for POST; a bare PUT body is
        # ignored, which GitLab answers with "body is missing" (gitlabhq/gitlabhq issue 9923).
        return []
    if not body:
        return []
    if media_type in ("", "application/x-www-form-urlencoded"):
        try:
            text = body.decode()
        except UnicodeDecodeError as error:
            raise BadRequestBody("form body is not UTF-8") from error
        return list(parse_qsl(text, keep_blank_values=True))
    if media_type == "application/json":
        try:
            document = json.loads(body)
        except ValueError as error:
            raise BadRequestBody("JSON body does not parse") from error
        if not isinstance(document, dict):
            raise BadRequestBody("JSON body is not an object")
        return list(document.items())
    if media_type == "multipart/form-data":
        return _multipart_pairs(content_type or "", body)
    raise BadRequestBody(f"Content-Type {media_type} is not one GitLab parses")


def _multipart_pairs(content_type: str, body: bytes) -> list[tuple[str, object]]:
    message = BytesParser().parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise BadRequestBody("multipart body has no parts")
    pairs: list[tuple[str, object]] = []
    for part in message.get_payload():
        if not isinstance(part, Message):
            raise BadRequestBody("multipart part is not a message")
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            raise BadRequestBody("multipart part without a name")
        pairs.append((name, payload.decode(part.get_content_charset() or "utf-8")))
    return pairs


def pagination_headers(
    url: str, query: Mapping[str, str], page: int, per_page: int, total: int
) -> list[tuple[str, str]]:
    """Offset pagination headers as doc/api/rest/index.md "Pagination" shows them.

    Empty X-Next-Page / X-Prev-Page at the ends and at least one page in X-Total-Pages, as
    lib/gitlab/pagination/offset_pagination.rb writes them.
    """
    total_pages = max(1, -(-total // per_page))
    next_page = page + 1 if page < total_pages else None
    prev_page = page - 1 if page > 1 else None

    def href(number: int) -> str:
        return f"{url}?{urlencode(sorted({**query, 'page': str(number), 'per_page': str(per_page)}.items()))}"

    links = []
    if prev_page is not None:
        links.append(f'<{href(prev_page)}>; rel="prev"')
    if next_page is not None:
        links.append(f'<{href(next_page)}>; rel="next"')
    links.append(f'<{href(1)}>; rel="first"')
    links.append(f'<{href(total_pages)}>; rel="last"')
    return [
        ("X-Page", str(page)),
        ("X-Per-Page", str(per_page)),
        ("X-Next-Page", "" if next_page is None else str(next_page)),
        ("X-Prev-Page", "" if prev_page is None else str(prev_page)),
        ("X-Total", str(total)),
        ("X-Total-Pages", str(total_pages)),
        ("Link", ", ".join(links)),
    ]


# Quick actions that apply to merge requests (doc/user/project/quick_actions.md). GitLab runs them
# from notes created through the API too; that is why the create endpoint has
# `merge_request_diff_head_sha` "for the /merge quick action" (doc/api/notes.md).
MERGE_REQUEST_QUICK_ACTIONS = frozenset(
    [
        "approve",
        "assign",
        "assign_reviewer",
        "reviewer",
        "request_review",
        "award",
        "cc",
        "close",
        "copy_metadata",
        "done",
        "draft",
        "estimate",
        "estimate_time",
        "label",
        "labels",
        "lock",
        "merge",
        "milestone",
        "ready",
        "reassign",
        "reassign_reviewer",
        "rebase",
        "relabel",
        "remove_estimate",
        "remove_time_estimate",
        "remove_milestone",
        "remove_time_spent",
        "reopen",
        "shrug",
        "spend",
        "spend_time",
        "submit_review",
        "subscribe",
        "tableflip",
        "target_branch",
        "title",
        "todo",
        "unapprove",
        "unassign",
        "unassign_reviewer",
        "remove_reviewer",
        "unlabel",
        "remove_label",
        "unlock",
        "unsubscribe",
    ]
)
_QUICK_ACTION_LINE = re.compile(r"^/(\w+)(?:\s|$)")
_FENCE = re.compile(r"^(```|~~~|>>>)")


def quick_action_lines(body: str) -> list[tuple[int, str]]:
    """(line number, command) for each line GitLab would run as a merge-request quick action.

    A command must start its line; fenced code and `>>>` quote blocks are skipped, as GitLab's
    extractor does.
    """
    found: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(body.splitlines(), start=1):
        opener = _FENCE.match(line)
        if opener:
            fence = None if fence == opener.group(1) else (fence or opener.group(1))
            continue
        match = _QUICK_ACTION_LINE.match(line)
        if fence is None and match and match.group(1).lower() in MERGE_REQUEST_QUICK_ACTIONS:
            found.append((number, match.group(1)))
    return found
