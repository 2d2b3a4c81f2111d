"""What the GitHub and GitLab API clients share (gate/platforms/_http.py): the platform's own words
in an error, shown safely and never with the token, against a local server that answers as a
broken proxy or API might, echoing the token it was sent."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator

import pytest

from gate.platforms._http import ApiError
from gate.platforms.github_api import GitHubClient
from gate.platforms.gitlab_api import GitLabClient
from gate.platforms.retry import TransientError
from tests.support.data_server import DataServer, Reply, hanging_up, running_server, unused_url

GITHUB_TOKEN = "ghs_" + "k3Yq8Zr2" * 4 + "Wp7a"  # shaped as the platforms' tokens are
GITLAB_TOKEN = "glpat-" + "Xh4Tn9Bv" * 2 + "Qe5w"
DETAIL_LIMIT = 300
"""Characters of the platform's message an error shows (`_error_detail`)."""


@pytest.fixture
def server() -> Iterator[DataServer]:
    yield from running_server()


def github_user(server: DataServer) -> tuple[str, str, Callable[[], object]]:
    client = GitHubClient(server.base, GITHUB_TOKEN, "octo-org/app", clock=time.time)
    return GITHUB_TOKEN, "/user", client.authenticated_login


def gitlab_user(server: DataServer) -> tuple[str, str, Callable[[], object]]:
    client = GitLabClient(server.url("/api/v4"), GITLAB_TOKEN, "42", "7")
    return GITLAB_TOKEN, "/api/v4/user", client.current_user_id


@pytest.mark.parametrize("kept", [10, 20], ids=lambda kept: f"{kept}-characters-before-the-cut")
@pytest.mark.parametrize("platform", [github_user, gitlab_user], ids=["github", "gitlab"])
def test_a_token_the_answer_echoes_is_masked_before_the_message_is_cut(
    server: DataServer, platform: Callable[[DataServer], tuple[str, str, Callable[[], object]]], kept: int
) -> None:
    token, path, call = platform(server)
    # The message is cut to DETAIL_LIMIT characters, the last one an ellipsis: `kept` characters
    # of the token fall before the cut, and `masked` would not recognize them as the token.
    message = "x" * (DETAIL_LIMIT - 1 - kept) + token + " is not allowed here"
    server.serve(path, Reply(403, json.dumps({"message": message}).encode(), "application/json"))
    with pytest.raises(ApiError) as refused:
        call()
    detail = refused.value.detail
    assert detail.startswith("x" * 100)
    assert detail.endswith("…")
    assert token[:kept] not in detail
    assert token[:4] not in detail


def test_a_token_with_a_quote_echoed_inside_a_json_message_is_masked(server: DataServer) -> None:
    # GitLab's `message` may be an object (`{"message": {"base": [...]}}`): it is shown as JSON,
    # where a `"` or `\` of the token is escaped, so the token no longer reads as itself.
    token = 'glpat-Xh4"Tn9\\Bv'  # noqa: S105 (only the local server sees it)
    client = GitLabClient(server.url("/api/v4"), token, "42", "7")
    body = {"message": {"base": [f"token {token} is not allowed here"]}}
    server.serve("/api/v4/user", Reply(400, json.dumps(body).encode(), "application/json"))
    with pytest.raises(ApiError) as refused:
        client.current_user_id()
    detail = refused.value.detail
    assert "[MASKED]" in detail
    assert "Xh4" not in detail
    assert "Bv" not in detail


def test_an_answer_that_never_comes_says_how_long_it_was_waited_for(
    server: DataServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gate.platforms._http.TIMEOUT", (5.0, 0.2))
    server.serve("/user", Reply(200, b"{}", "application/json", delay=1.0))
    client = GitHubClient(server.base, GITHUB_TOKEN, "octo-org/app", clock=time.time)
    with pytest.raises(TransientError) as unanswered:
        client.authenticated_login()
    assert unanswered.value.spent == 0.2
    assert unanswered.value.reason == "no answer from GitHub within 0.2 s"


@pytest.mark.parametrize("platform", ["GitHub", "GitLab"])
def test_a_tls_failure_says_what_failed(server: DataServer, platform: str) -> None:
    # An API URL of https:// to a port that speaks plain HTTP was "cannot connect to GitHub
    # (SSLError)": the exception's class, the words of an untrusted certificate too.
    base = server.base.replace("http://", "https://", 1)
    call: Callable[[], object]
    if platform == "GitHub":
        call, variable = (
            GitHubClient(base, GITHUB_TOKEN, "octo-org/app", clock=time.time).authenticated_login,
            "GITHUB_API_URL",
        )
    else:
        call, variable = (
            GitLabClient(base + "/api/v4", GITLAB_TOKEN, "42", "7").current_user_id,
            "CI_API_V4_URL",
        )
    with pytest.raises(TransientError) as failed:
        call()
    assert failed.value.reason == (
        f"cannot connect to {platform} (TLS error: it did not answer in TLS; check that {variable} is "
        f"{platform}'s HTTPS address)"
    )
    assert failed.value.unreached


def _client(platform: str, base: str) -> Callable[[], object]:
    if platform == "GitHub":
        return GitHubClient(base, GITHUB_TOKEN, "octo-org/app", clock=time.time).authenticated_login
    return GitLabClient(base + "/api/v4", GITLAB_TOKEN, "42", "7").current_user_id


@pytest.mark.parametrize("platform", ["GitHub", "GitLab"])
@pytest.mark.parametrize(
    ("failure", "said"),
    [
        ("refused", "connection refused"),
        ("reset", "connection reset"),
        ("closed", "it closed the connection without answering"),
        ("cut short", "it closed the connection before the whole answer was received"),
    ],
)
def test_a_broken_connection_says_what_happened(
    server: DataServer, platform: str, failure: str, said: str
) -> None:
    # Was "cannot connect to GitHub (ConnectionError)" or "(ChunkedEncodingError)": the class.
    with contextlib.ExitStack() as stack:
        if failure == "refused":
            base = unused_url("")
        elif failure == "cut short":
            base = server.base
            body = json.dumps({"login": "octocat", "id": 1}).encode()
            for path in ("/user", "/api/v4/user"):
                server.serve(path, Reply(200, body[:5], "application/json", length=len(body)))
        else:
            base = stack.enter_context(hanging_up(reset=failure == "reset"))
        with pytest.raises(TransientError) as failed:
            _client(platform, base)()
    assert failed.value.reason == f"cannot connect to {platform} ({said})"
