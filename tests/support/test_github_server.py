"""The GitHub fake is faithful: it serves what GitHub's description documents and catches what it does not."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from tests.support.github_endpoints import COMMENT_BODY_LIMIT, Reply
from tests.support.github_fixtures import READ_ONLY_TOKEN, PullRequestScenario
from tests.support.github_server import FakeGitHub
from tests.support.openapi import ApiDescription
from tests.support.openapi_schema import convert_schema

GATE_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def session(token: str | None) -> requests.Session:
    """A client that sends what the gate sends."""
    client = requests.Session()
    client.headers.update(GATE_HEADERS)
    if token is not None:
        client.headers["Authorization"] = f"Bearer {token}"
    return client


def comments_url(scenario: PullRequestScenario) -> str:
    return f"{scenario.github.base_url}/repos/{scenario.repository.full_name}/issues/{scenario.pull.number}/comments"


def comment_url(scenario: PullRequestScenario, comment_id: int) -> str:
    return f"{scenario.github.base_url}/repos/{scenario.repository.full_name}/issues/comments/{comment_id}"


def links(response: requests.Response) -> dict[str, str]:
    return {rel: str(link["url"]) for rel, link in response.links.items()}


def test_create_list_update_cycle_conforms(github_pull_request: PullRequestScenario) -> None:
    client = session(github_pull_request.token)
    created = client.post(comments_url(github_pull_request), json={"body": "first verdict"}, timeout=10)
    assert created.status_code == 201
    comment = created.json()
    assert comment["user"]["login"] == "github-actions[bot]"
    assert comment["user"]["type"] == "Bot"
    assert comment["html_url"].endswith(f"/octo-org/app/pull/1#issuecomment-{comment['id']}")
    assert created.headers["Location"] == comment["url"]

    updated = client.patch(
        comment_url(github_pull_request, comment["id"]), json={"body": "second"}, timeout=10
    )
    assert updated.status_code == 200
    listed = client.get(comments_url(github_pull_request), timeout=10)
    assert [(c["id"], c["body"]) for c in listed.json()] == [(comment["id"], "second")]
    assert "Link" not in listed.headers  # one page: GitHub sends no Link header

    pull = client.get(f"{github_pull_request.github.base_url}/repos/octo-org/app/pulls/1", timeout=10)
    assert (pull.json()["number"], pull.json()["head"]["ref"]) == (1, "update-base-image")
    operations = [r.operation_id for r in github_pull_request.github.requests]
    assert operations == [
        "issues/create-comment",
        "issues/update-comment",
        "issues/list-comments",
        "pulls/get",
    ]
    github_pull_request.github.assert_no_violations()
    github_pull_request.github.assert_token_confined(github_pull_request.token)


def test_body_of_wrong_type_is_rejected_and_recorded(github_pull_request: PullRequestScenario) -> None:
    answer = session(github_pull_request.token).post(
        comments_url(github_pull_request), json={"body": 5}, timeout=10
    )
    assert answer.status_code == 400
    assert "5 is not of type 'string'" in answer.json()["message"]
    found = github_pull_request.github.take_violations()
    assert [(v.side, v.problem) for v in found] == [
        ("request", "request body $.body: 5 is not of type 'string'")
    ]
    assert github_pull_request.github.state.comments_on(github_pull_request.repository, 1) == []


def test_null_body_is_rejected_because_the_schema_is_not_nullable(
    github_pull_request: PullRequestScenario,
) -> None:
    answer = session(github_pull_request.token).post(
        comments_url(github_pull_request), json={"body": None}, timeout=10
    )
    assert answer.status_code == 400
    assert len(github_pull_request.github.take_violations()) == 1


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/repos/octo-org/app/issue/1/comments", "no documented operation has the path"),
        ("PUT", "/repos/octo-org/app/issues/1/comments", "PUT is not documented for"),
        (
            "GET",
            "/repos/octo-org/app/issues/one/comments",
            "path issue_number: 'one' is not of type 'integer'",
        ),
        (
            "GET",
            "/repos/octo-org/app/issues/1/comments?perpage=100",
            "query parameter 'perpage' is not documented",
        ),
        ("GET", "/repos/octo-org/app/issues/1/comments?since=yesterday", "'yesterday' is not a 'date-time'"),
    ],
)
def test_undocumented_requests_are_recorded(
    github_pull_request: PullRequestScenario, method: str, path: str, expected: str
) -> None:
    answer = session(github_pull_request.token).request(
        method, github_pull_request.github.base_url + path, timeout=10
    )
    assert answer.status_code in (400, 404)
    problems = [v.problem for v in github_pull_request.github.take_violations()]
    assert len(problems) == 1
    assert expected in problems[0]


def test_missing_gate_headers_are_recorded(github_pull_request: PullRequestScenario) -> None:
    client = requests.Session()
    client.headers["Authorization"] = f"token {github_pull_request.token}"
    assert client.get(comments_url(github_pull_request), timeout=10).status_code == 200
    problems = sorted(v.problem for v in github_pull_request.github.take_violations())
    assert problems == ["Accept '*/*' is not a GitHub JSON media type", "no X-GitHub-Api-Version header"]


def test_unsupported_api_version_is_400(github_pull_request: PullRequestScenario) -> None:
    client = session(github_pull_request.token)
    answer = client.get(
        comments_url(github_pull_request), headers={"X-GitHub-Api-Version": "2020-01-01"}, timeout=10
    )
    assert answer.status_code == 400
    assert len(github_pull_request.github.take_violations()) == 1


def test_a_wrong_answer_of_the_fake_is_caught(github_pull_request: PullRequestScenario) -> None:
    github = github_pull_request.github
    real = github.endpoints.handlers["pulls/get"]
    github.endpoints.handlers["pulls/get"] = lambda call: Reply(200, {**real(call).body, "number": "1"})
    session(github_pull_request.token).get(f"{github.base_url}/repos/octo-org/app/pulls/1", timeout=10)
    found = github.take_violations()
    assert [(v.side, v.problem) for v in found] == [
        ("response", "response body $.number: '1' is not of type 'integer'")
    ]

    github.endpoints.handlers["pulls/get"] = lambda call: Reply(200, {"number": 1})
    session(github_pull_request.token).get(f"{github.base_url}/repos/octo-org/app/pulls/1", timeout=10)
    problems = [v.problem for v in github.take_violations()]
    assert "response body: '_links' is a required property" in problems
    assert problems[-1].endswith("more schema errors")  # the list is capped, the count is kept


def test_validator_rejects_bad_responses_directly(github_api_description: ApiDescription) -> None:
    check = github_api_description.check_request("GET", "/repos/o/r/issues/comments/7", {}, b"")
    assert check.operation is not None
    assert check.operation.operation_id == "issues/get-comment"
    assert check.operation.path_params == {"owner": "o", "repo": "r", "comment_id": 7}
    good = github_api_description.example("issue-comment")
    json_headers = {"content-type": "application/json; charset=utf-8"}

    def problems(status: int, body: Any, headers: dict[str, str] = json_headers) -> list[str]:
        data = b"" if body is None else json.dumps(body).encode()
        assert check.operation is not None
        return github_api_description.check_response(check.operation, status, headers, data)

    assert problems(200, good) == []
    assert problems(200, {**good, "user": None}) == []  # nullable-simple-user: null is allowed
    without_node_id = {k: v for k, v in good.items() if k != "node_id"}
    assert problems(200, without_node_id) == ["response body: 'node_id' is a required property"]
    assert problems(200, {**good, "created_at": "yesterday"}) == [
        "response body $.created_at: 'yesterday' is not a 'date-time'"
    ]
    assert problems(200, {**good, "author_association": "STRANGER"})[0].startswith(
        "response body $.author_association: 'STRANGER' is not one of"
    )
    assert problems(201, good) == [
        "issues/get-comment does not document status 201 (documented: ['200', '404'])"
    ]
    assert problems(200, good, {"content-type": "text/html"}) == [
        "response Content-Type 'text/html' is not one of ['application/json']"
    ]
    assert problems(503, {"message": "Service Unavailable"}) == []  # GitHub can answer 503 anywhere
    assert problems(503, {"message": 503}) == ["response body $.message: 503 is not of type 'string'"]


def test_nullable_follows_openapi_3_0() -> None:
    base = "urn:test"
    enum = convert_schema({"type": "string", "enum": ["a"], "nullable": True}, "response", base)
    assert enum == {"type": ["string", "null"], "enum": ["a", None], "nullable": True}
    untyped = convert_schema({"nullable": True, "allOf": [{"$ref": "#/x"}]}, "response", base)
    assert untyped == {"anyOf": [{"type": "null"}, {"nullable": True, "allOf": [{"$ref": "urn:test#/x"}]}]}
    # OAS 3.0 ignores every sibling of $ref, nullable included.
    assert convert_schema({"$ref": "#/x", "nullable": True}, "response", base) == {
        "$ref": "urn:test#/x",
        "nullable": True,
    }


def test_read_only_properties_are_not_required_in_requests() -> None:
    schema = {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"readOnly": True}, "name": {}},
    }
    request = convert_schema(schema, "request", "urn:test")
    assert request["required"] == ["name"]
    assert request["properties"]["id"]["not"] == {}
    assert convert_schema(schema, "response", "urn:test")["required"] == ["id", "name"]


def test_pagination_follows_github(github_pull_request: PullRequestScenario) -> None:
    github, repo = github_pull_request.github, github_pull_request.repository
    bot = github.state.account("github-actions[bot]")
    seeded = [github.state.add_comment(repo, 1, bot, f"comment {n}").id for n in range(205)]
    client = session(github_pull_request.token)

    first = client.get(comments_url(github_pull_request), timeout=10)
    assert len(first.json()) == 30  # default per_page
    assert set(links(first)) == {"next", "last"}

    seen: list[int] = []
    url: str | None = comments_url(github_pull_request) + "?per_page=100"
    pages = []
    while url is not None:
        page = client.get(url, timeout=10)
        pages.append(page)
        seen += [c["id"] for c in page.json()]
        url = links(page).get("next")
    assert seen == seeded
    assert [len(p.json()) for p in pages] == [100, 100, 5]
    assert set(links(pages[1])) == {"first", "prev", "next", "last"}
    assert set(links(pages[2])) == {"first", "prev"}
    last = links(pages[0])["last"]
    assert re.fullmatch(
        rf"{github.base_url}/repositories/{repo.id}/issues/1/comments\?per_page=100&page=3", last
    )

    clamped = client.get(comments_url(github_pull_request) + "?per_page=500", timeout=10)
    assert len(clamped.json()) == 100
    beyond = client.get(comments_url(github_pull_request) + "?per_page=100&page=9", timeout=10)
    assert beyond.json() == []


def test_since_filters_on_updated_at(github_pull_request: PullRequestScenario) -> None:
    github = github_pull_request.github
    bot = github.state.account("github-actions[bot]")
    for body, month in (("old", 1), ("new", 3)):
        github.state.clock = lambda month=month: datetime(2026, month, 1, tzinfo=UTC)  # type: ignore[misc]
        github.state.add_comment(github_pull_request.repository, 1, bot, body)
    answer = session(github_pull_request.token).get(
        comments_url(github_pull_request), params={"since": "2026-02-01T00:00:00Z"}, timeout=10
    )
    assert [c["body"] for c in answer.json()] == ["new"]
    assert answer.json()[0]["created_at"] == "2026-03-01T00:00:00Z"


def test_body_limit_is_65536_characters(github_pull_request: PullRequestScenario) -> None:
    client = session(github_pull_request.token)
    fits = client.post(comments_url(github_pull_request), json={"body": "é" * COMMENT_BODY_LIMIT}, timeout=10)
    assert fits.status_code == 201
    too_long = "x" * (COMMENT_BODY_LIMIT + 1)
    for answer in (
        client.post(comments_url(github_pull_request), json={"body": too_long}, timeout=10),
        client.patch(
            comment_url(github_pull_request, fits.json()["id"]), json={"body": too_long}, timeout=10
        ),
    ):
        assert answer.status_code == 422
        assert answer.json()["message"] == "Validation Failed"
        assert answer.json()["errors"][0]["message"] == "Body is too long (maximum is 65536 characters)"
    assert (
        client.get(comment_url(github_pull_request, fits.json()["id"]), timeout=10).json()["body"]
        == "é" * 65536
    )


def test_read_only_token_cannot_write(github_pull_request: PullRequestScenario) -> None:
    github = github_pull_request.github
    existing = github.state.add_comment(
        github_pull_request.repository, 1, github.state.account("octocat"), "hi"
    )
    client = session(READ_ONLY_TOKEN)
    for answer in (
        client.post(comments_url(github_pull_request), json={"body": "verdict"}, timeout=10),
        client.patch(comment_url(github_pull_request, existing.id), json={"body": "verdict"}, timeout=10),
    ):
        assert answer.status_code == 403
        assert answer.json()["message"] == "Resource not accessible by integration"
    assert client.get(comments_url(github_pull_request), timeout=10).status_code == 200
    assert github.state.comment(existing.id) == existing


@pytest.mark.parametrize(
    ("token", "message"), [(None, "Requires authentication"), ("ghs_wrong", "Bad credentials")]
)
def test_unknown_or_missing_token_is_401(
    github_pull_request: PullRequestScenario, token: str | None, message: str
) -> None:
    answer = session(token).get(comments_url(github_pull_request), timeout=10)
    assert (answer.status_code, answer.json()["message"]) == (401, message)


def test_unknown_comment_and_repository_are_404(github_pull_request: PullRequestScenario) -> None:
    client = session(github_pull_request.token)
    assert (
        client.patch(comment_url(github_pull_request, 999), json={"body": "x"}, timeout=10).status_code == 404
    )
    other = f"{github_pull_request.github.base_url}/repos/octo-org/other/issues/1/comments"
    assert client.get(other, timeout=10).status_code == 404
    assert client.get(comments_url(github_pull_request).replace("/1/", "/2/"), timeout=10).status_code == 404


def test_injected_server_errors_then_recovery(github_pull_request: PullRequestScenario) -> None:
    github = github_pull_request.github
    github.fail_next(2, status=502)
    client = session(github_pull_request.token)
    statuses = [client.get(comments_url(github_pull_request), timeout=10).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    github.fail_next(1, status=503, method="POST")
    assert client.get(comments_url(github_pull_request), timeout=10).status_code == 200
    assert client.post(comments_url(github_pull_request), json={"body": "x"}, timeout=10).status_code == 503


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_sends_retry_after(
    github_pull_request: PullRequestScenario, status: int
) -> None:
    github = github_pull_request.github
    github.secondary_rate_limit(status=403 if status == 403 else 429, retry_after=7)
    client = session(github_pull_request.token)
    limited = client.post(comments_url(github_pull_request), json={"body": "x"}, timeout=10)
    assert (limited.status_code, limited.headers["Retry-After"]) == (status, "7")
    assert "secondary rate limit" in limited.json()["message"]
    assert github.state.comments_on(github_pull_request.repository, 1) == []
    assert client.post(comments_url(github_pull_request), json={"body": "x"}, timeout=10).status_code == 201


def test_primary_rate_limit_reports_reset(github_pull_request: PullRequestScenario) -> None:
    github = github_pull_request.github
    github.state.clock = lambda: datetime(2026, 5, 1, tzinfo=UTC)
    github.primary_rate_limit()
    client = session(github_pull_request.token)
    limited = client.get(comments_url(github_pull_request), timeout=10)
    assert limited.status_code == 403
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["x-ratelimit-reset"]) == int(datetime(2026, 5, 1, 1, tzinfo=UTC).timestamp())
    assert "Retry-After" not in limited.headers
    again = client.get(comments_url(github_pull_request), timeout=10)
    assert (again.status_code, again.headers["x-ratelimit-remaining"]) == (200, "4998")


def test_token_outside_authorization_is_detected(github_pull_request: PullRequestScenario) -> None:
    token = github_pull_request.token
    session(token).post(comments_url(github_pull_request), json={"body": f"debug {token}"}, timeout=10)
    with pytest.raises(AssertionError, match="body"):
        github_pull_request.github.assert_token_confined(token)


def test_media_types_select_body_fields(github_pull_request: PullRequestScenario) -> None:
    client = session(github_pull_request.token)
    client.post(comments_url(github_pull_request), json={"body": "<b>bold</b>"}, timeout=10)
    full = client.get(
        comments_url(github_pull_request), headers={"Accept": "application/vnd.github.full+json"}, timeout=10
    ).json()[0]
    assert (full["body"], full["body_text"], full["body_html"]) == ("<b>bold</b>",) * 2 + (
        "<p>&lt;b&gt;bold&lt;/b&gt;</p>",
    )
    plain = client.get(comments_url(github_pull_request), timeout=10).json()[0]
    assert "body_html" not in plain


def test_fake_runs_as_a_context_manager(github_api_description: ApiDescription) -> None:
    with FakeGitHub(description=github_api_description) as github:
        url = github.base_url
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/repos/a/b/pulls/1", headers=GATE_HEADERS, timeout=10).status_code == 401
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/repos/a/b/pulls/1", timeout=10)
