"""The GitLab fake behaves like the documented merge-request notes API, and catches misuse of it."""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import pytest
import requests

from tests.support.gitlab_fixtures import MergeRequestPipeline, merge_request_pipeline
from tests.support.gitlab_http import quick_action_lines
from tests.support.gitlab_server import GitLabFake

MARKER = "<!-- container-gate: merge-request note -->"


@pytest.fixture
def pipe() -> Iterator[MergeRequestPipeline]:
    with GitLabFake() as fake:
        yield merge_request_pipeline(fake)
        fake.assert_no_violations()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment between us and 127.0.0.1
        yield session


def notes_url(pipe: MergeRequestPipeline, note_id: int | None = None) -> str:
    env = pipe.env
    url = f"{env['CI_API_V4_URL']}/projects/{env['CI_PROJECT_ID']}/merge_requests/{env['CI_MERGE_REQUEST_IID']}/notes"
    return url if note_id is None else f"{url}/{note_id}"


def auth(pipe: MergeRequestPipeline) -> dict[str, str]:
    return {"PRIVATE-TOKEN": pipe.token}


def violation_messages(fake: GitLabFake) -> list[str]:
    messages = [v.message for v in fake.violations]
    fake.clear_violations()
    return messages


def test_create_list_update_cycle_keeps_one_note(pipe: MergeRequestPipeline, http: requests.Session) -> None:
    empty = http.get(notes_url(pipe), headers=auth(pipe), timeout=10)
    assert (empty.status_code, empty.json(), empty.headers["X-Total"]) == (200, [], "0")

    created = http.post(notes_url(pipe), headers=auth(pipe), data={"body": f"{MARKER}\nfirst"}, timeout=10)
    assert created.status_code == 201
    note = created.json()
    assert note["body"] == f"{MARKER}\nfirst"
    assert note["author"]["username"] == pipe.bot.username
    assert note["author"]["id"] == pipe.bot.id
    assert (note["system"], note["noteable_type"], note["noteable_iid"]) == (False, "MergeRequest", 7)
    assert (note["project_id"], note["noteable_id"]) == (42, pipe.merge_request.id)
    assert note["created_at"] == note["updated_at"]

    listed = http.get(notes_url(pipe), headers=auth(pipe), timeout=10).json()
    mine = [n for n in listed if MARKER in n["body"]]
    assert [n["id"] for n in mine] == [note["id"]]

    updated = http.put(
        notes_url(pipe, note["id"]), headers=auth(pipe), json={"body": f"{MARKER}\nsecond"}, timeout=10
    )
    assert updated.status_code == 200
    assert updated.json()["id"] == note["id"]
    assert updated.json()["body"] == f"{MARKER}\nsecond"
    assert updated.json()["updated_at"] > note["updated_at"]

    fetched = http.get(notes_url(pipe, note["id"]), headers=auth(pipe), timeout=10)
    assert fetched.json()["body"] == f"{MARKER}\nsecond"
    assert [n.body for n in pipe.gitlab.notes(pipe.merge_request)] == [f"{MARKER}\nsecond"]

    recorded = pipe.gitlab.requests
    assert [r.status for r in recorded] == [200, 201, 200, 200, 200]
    assert all(r.header("private-token") == pipe.token for r in recorded)
    assert pipe.gitlab.token_leaks(pipe.token) == []


def test_list_is_newest_first_by_default_and_follows_sort_and_order_by(
    pipe: MergeRequestPipeline, http: requests.Session
) -> None:
    a, b, c = (pipe.gitlab.seed_note(pipe.merge_request, name, author=pipe.bot) for name in "abc")

    def bodies(**params: str) -> list[str]:
        response = http.get(notes_url(pipe), headers=auth(pipe), params=params, timeout=10)
        return [n["body"] for n in response.json()]

    assert bodies() == ["c", "b", "a"]
    assert bodies(sort="asc") == ["a", "b", "c"]
    http.put(notes_url(pipe, a.id), headers=auth(pipe), data={"body": "a2"}, timeout=10)
    assert bodies(order_by="updated_at") == ["a2", "c", "b"]
    assert bodies(order_by="created_at", sort="asc") == ["a2", "b", "c"]
    assert (b.id, c.id) == (a.id + 1, a.id + 2)


def test_pagination_headers_over_more_than_100_notes(
    pipe: MergeRequestPipeline, http: requests.Session
) -> None:
    seeded = [pipe.gitlab.seed_note(pipe.merge_request, f"note {i}", author=pipe.bot).id for i in range(250)]

    first = http.get(
        notes_url(pipe), headers=auth(pipe), params={"per_page": "100", "sort": "asc"}, timeout=10
    )
    assert len(first.json()) == 100
    expected = {"X-Page": "1", "X-Per-Page": "100", "X-Next-Page": "2", "X-Prev-Page": ""}
    assert {name: first.headers[name] for name in expected} == expected
    assert (first.headers["X-Total"], first.headers["X-Total-Pages"]) == ("250", "3")
    assert set(first.links) == {"next", "first", "last"}
    assert "page=3" in first.links["last"]["url"]

    collected, pages, response = [], 0, first
    while True:
        pages += 1
        collected += [n["id"] for n in response.json()]
        if "next" not in response.links:
            break
        response = http.get(response.links["next"]["url"], headers=auth(pipe), timeout=10)
    assert pages == 3
    assert collected == seeded
    assert (response.headers["X-Page"], response.headers["X-Next-Page"], response.headers["X-Prev-Page"]) == (
        "3",
        "",
        "2",
    )
    assert len(response.json()) == 50
    assert set(response.links) == {"prev", "first", "last"}

    default = http.get(notes_url(pipe), headers=auth(pipe), timeout=10)
    assert (len(default.json()), default.headers["X-Per-Page"], default.headers["X-Total-Pages"]) == (
        20,
        "20",
        "13",
    )
    assert default.json()[0]["id"] == seeded[-1]


def test_per_page_above_100_is_capped_and_flagged(pipe: MergeRequestPipeline, http: requests.Session) -> None:
    for i in range(120):
        pipe.gitlab.seed_note(pipe.merge_request, f"n{i}", author=pipe.bot)
    response = http.get(notes_url(pipe), headers=auth(pipe), params={"per_page": "500"}, timeout=10)
    assert (len(response.json()), response.headers["X-Per-Page"]) == (100, "100")
    assert violation_messages(pipe.gitlab) == ["per_page=500 is above the documented maximum 100"]


def test_missing_blank_or_oversized_body_is_400_and_a_violation(
    pipe: MergeRequestPipeline, http: requests.Session
) -> None:
    missing = http.post(notes_url(pipe), headers=auth(pipe), data={}, timeout=10)
    assert (missing.status_code, missing.json()) == (400, {"error": "body is missing"})

    too_long = http.post(notes_url(pipe), headers=auth(pipe), json={"body": "x" * 1_000_001}, timeout=10)
    assert too_long.status_code == 400
    assert "is too long (maximum is 1000000 characters)" in too_long.json()["message"]

    blank = http.post(notes_url(pipe), headers=auth(pipe), json={"body": "  \n"}, timeout=10)
    assert blank.status_code == 400
    assert "can't be blank" in blank.json()["message"]

    not_text = http.post(notes_url(pipe), headers=auth(pipe), json={"body": ["a"]}, timeout=10)
    assert (not_text.status_code, not_text.json()) == (400, {"error": "body is invalid"})
    assert pipe.gitlab.notes(pipe.merge_request) == []

    at_limit = http.post(notes_url(pipe), headers=auth(pipe), json={"body": "é" * 1_000_000}, timeout=10)
    assert at_limit.status_code == 201
    note_id = at_limit.json()["id"]

    put_missing = http.put(notes_url(pipe, note_id), headers=auth(pipe), data={}, timeout=10)
    put_empty = http.put(notes_url(pipe, note_id), headers=auth(pipe), data={"body": ""}, timeout=10)
    assert (put_missing.status_code, put_missing.json()) == (400, {"error": "body is missing"})
    assert (put_empty.status_code, put_empty.json()) == (400, {"error": "body is empty"})

    assert violation_messages(pipe.gitlab) == [
        "required parameter 'body' is missing",
        "body is too long (maximum is 1000000 characters)",
        "body is blank",
        "body must be a string, got list",
        "required parameter 'body' is missing",
        "body is blank",
    ]


def test_legacy_validation_error_shape_is_available(http: requests.Session) -> None:
    with GitLabFake(legacy_validation_errors=True) as fake:
        pipe = merge_request_pipeline(fake)
        response = http.post(notes_url(pipe), headers=auth(pipe), json={"body": "x" * 1_000_001}, timeout=10)
        assert response.json() == {"message": {"note": ["is too long (maximum is 1000000 characters)"]}}
        fake.clear_violations()


def test_no_token_or_unknown_token_is_401(pipe: MergeRequestPipeline, http: requests.Session) -> None:
    anonymous = http.post(notes_url(pipe), data={"body": "hi"}, timeout=10)
    unknown = http.get(notes_url(pipe), headers={"PRIVATE-TOKEN": "glpat-not-issued"}, timeout=10)
    for response in (anonymous, unknown):
        assert (response.status_code, response.json()) == (401, {"message": "401 Unauthorized"})
    bearer = http.get(notes_url(pipe), headers={"Authorization": f"Bearer {pipe.token}"}, timeout=10)
    assert bearer.status_code == 200
    assert pipe.gitlab.notes(pipe.merge_request) == []


def test_read_api_token_reads_but_gets_403_on_writes(
    pipe: MergeRequestPipeline, http: requests.Session
) -> None:
    pipe.gitlab.add_token("glpat-read-only", pipe.bot, scopes=("read_api",))
    headers = {"PRIVATE-TOKEN": "glpat-read-only"}
    assert http.get(notes_url(pipe), headers=headers, timeout=10).status_code == 200
    refused = http.post(notes_url(pipe), headers=headers, data={"body": "hi"}, timeout=10)
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"
    assert refused.json()["scope"] == "api"
    assert pipe.gitlab.notes(pipe.merge_request) == []


def test_job_token_reads_notes_but_writes_are_401(pipe: MergeRequestPipeline, http: requests.Session) -> None:
    existing = pipe.gitlab.seed_note(pipe.merge_request, "by the bot", author=pipe.bot)
    job = {"JOB-TOKEN": pipe.job_token}
    listed = http.get(notes_url(pipe), headers=job, timeout=10)
    assert [n["id"] for n in listed.json()] == [existing.id]
    assert http.get(notes_url(pipe, existing.id), headers=job, timeout=10).status_code == 200

    for response in (
        http.post(notes_url(pipe), headers=job, data={"body": "hi"}, timeout=10),
        http.put(notes_url(pipe, existing.id), headers=job, data={"body": "hi"}, timeout=10),
        http.delete(notes_url(pipe, existing.id), headers=job, timeout=10),
        http.post(
            notes_url(pipe), headers={"PRIVATE-TOKEN": pipe.job_token}, data={"body": "hi"}, timeout=10
        ),
        http.get(f"{pipe.env['CI_API_V4_URL']}/user", headers=job, timeout=10),
    ):
        assert (response.status_code, response.json()) == (401, {"message": "401 Unauthorized"})
    assert [n.body for n in pipe.gitlab.notes(pipe.merge_request)] == ["by the bot"]


def test_job_token_of_another_project_is_404(pipe: MergeRequestPipeline, http: requests.Session) -> None:
    other = pipe.gitlab.add_project("acme/other")
    pipe.gitlab.add_job_token("glcbt-other", pipe.bot, other)
    response = http.get(notes_url(pipe), headers={"JOB-TOKEN": "glcbt-other"}, timeout=10)
    assert (response.status_code, response.json()) == (404, {"message": "404 Project Not Found"})


def test_job_token_reads_can_be_turned_off_like_older_gitlab(http: requests.Session) -> None:
    with GitLabFake(job_token_reads_notes=False) as fake:
        pipe = merge_request_pipeline(fake)
        response = http.get(notes_url(pipe), headers={"JOB-TOKEN": pipe.job_token}, timeout=10)
        assert response.status_code == 401


def test_only_the_author_or_a_maintainer_edits_and_system_notes_never(
    pipe: MergeRequestPipeline, http: requests.Session
) -> None:
    alice = pipe.job_user
    quoted = pipe.gitlab.seed_note(pipe.merge_request, f"quoting {MARKER}", author=alice)
    system = pipe.gitlab.seed_note(pipe.merge_request, "added 1 commit", author=alice, system=True)
    for response in (
        http.put(notes_url(pipe, quoted.id), headers=auth(pipe), data={"body": "mine now"}, timeout=10),
        http.delete(notes_url(pipe, quoted.id), headers=auth(pipe), timeout=10),
    ):
        assert (response.status_code, response.json()) == (403, {"message": "403 Forbidden"})

    maintainer = pipe.gitlab.add_user("maintainer-bob", role="maintainer")
    pipe.gitlab.add_token("glpat-maintainer", maintainer)
    as_maintainer = {"PRIVATE-TOKEN": "glpat-maintainer"}
    assert (
        http.put(
            notes_url(pipe, quoted.id), headers=as_maintainer, data={"body": "ok"}, timeout=10
        ).status_code
        == 200
    )
    assert (
        http.put(
            notes_url(pipe, system.id), headers=as_maintainer, data={"body": "x"}, timeout=10
        ).status_code
        == 403
    )

    own = http.post(notes_url(pipe), headers=auth(pipe), data={"body": "temporary"}, timeout=10).json()
    assert http.delete(notes_url(pipe, own["id"]), headers=auth(pipe), timeout=10).status_code == 204
    gone = http.get(notes_url(pipe, own["id"]), headers=auth(pipe), timeout=10)
    assert (gone.status_code, gone.json()) == (404, {"message": "404 Not found"})


def test_project_is_found_by_id_or_url_encoded_path_only(
    pipe: MergeRequestPipeline, http: requests.Session
) -> None:
    api = pipe.env["CI_API_V4_URL"]
    for ref in ("42", "acme%2Fweb", "ACME%2FWeb"):
        assert (
            http.get(
                f"{api}/projects/{ref}/merge_requests/7/notes", headers=auth(pipe), timeout=10
            ).status_code
            == 200
        )
    raw = http.get(f"{api}/projects/acme/web/merge_requests/7/notes", headers=auth(pipe), timeout=10)
    assert (raw.status_code, raw.json()) == (404, {"error": "404 Not Found"})
    assert violation_messages(pipe.gitlab) == ["undocumented endpoint"]


def test_unknown_project_merge_request_or_note_is_404(
    pipe: MergeRequestPipeline, http: requests.Session
) -> None:
    api = pipe.env["CI_API_V4_URL"]
    cases = {
        f"{api}/projects/999/merge_requests/7/notes": "404 Project Not Found",
        f"{api}/projects/42/merge_requests/8/notes": "404 MergeRequest Not Found",
        f"{api}/projects/42/merge_requests/7/notes/12345": "404 Not found",
    }
    for url, message in cases.items():
        response = http.get(url, headers=auth(pipe), timeout=10)
        assert (response.status_code, response.json()) == (404, {"message": message})
    bad_iid = http.get(f"{api}/projects/42/merge_requests/seven/notes", headers=auth(pipe), timeout=10)
    assert (bad_iid.status_code, bad_iid.json()) == (400, {"error": "noteable_id is invalid"})
    assert violation_messages(pipe.gitlab) == ["noteable_id='seven' is not an integer"]


def test_undocumented_endpoints_methods_and_parameters_are_violations(
    pipe: MergeRequestPipeline, http: requests.Session
) -> None:
    api = pipe.env["CI_API_V4_URL"]
    note = pipe.gitlab.seed_note(pipe.merge_request, "x", author=pipe.bot)
    discussions = http.get(f"{api}/projects/42/merge_requests/7/discussions", headers=auth(pipe), timeout=10)
    patched = http.patch(notes_url(pipe, note.id), headers=auth(pipe), data={"body": "y"}, timeout=10)
    unknown = http.get(notes_url(pipe), headers=auth(pipe), params={"per_pgae": "100"}, timeout=10)
    deprecated = http.post(
        notes_url(pipe), headers=auth(pipe), data={"body": "z", "confidential": "true"}, timeout=10
    )
    assert (discussions.status_code, patched.status_code, unknown.status_code, deprecated.status_code) == (
        404,
        405,
        200,
        201,
    )
    assert patched.headers["Allow"] == "GET, PUT, DELETE"
    assert deprecated.json()["internal"] is True

    with pytest.raises(AssertionError, match="documented GitLab API contract") as failure:
        pipe.gitlab.assert_no_violations()
    assert pipe.token not in str(failure.value)
    assert violation_messages(pipe.gitlab) == [
        "undocumented endpoint",
        "PATCH is not a documented method of this endpoint",
        "parameter 'per_pgae' is not documented for GET on this endpoint",
        "parameter 'confidential' is deprecated (doc/api/notes.md)",
    ]


def test_a_token_outside_its_header_is_flagged(pipe: MergeRequestPipeline, http: requests.Session) -> None:
    in_query = http.get(notes_url(pipe), params={"private_token": pipe.token}, timeout=10)
    assert in_query.status_code == 200  # GitLab accepts it; it still ends up in proxy and server logs
    in_body = http.post(notes_url(pipe), data={"body": "hi", "private_token": pipe.token}, timeout=10)
    assert in_body.status_code == 201
    leaks = pipe.gitlab.token_leaks(pipe.token)
    assert [leak.split(": ")[-1] for leak in leaks] == ["in the URL", "in the body"]
    assert all(pipe.token not in str(v) for v in pipe.gitlab.violations)
    assert (
        violation_messages(pipe.gitlab)
        == ["credential sent as parameter 'private_token': send it in a header, not a URL/body"] * 2
    )


def test_quick_action_lines_in_a_body_are_flagged(pipe: MergeRequestPipeline, http: requests.Session) -> None:
    body = "Gate failed\n/approve\n```\n/merge\n```\n/usr/lib/libz.so\n /close"
    assert quick_action_lines(body) == [(2, "approve")]
    created = http.post(notes_url(pipe), headers=auth(pipe), json={"body": body}, timeout=10)
    assert created.status_code == 201
    assert violation_messages(pipe.gitlab) == ["body line 2 would run the quick action /approve"]


def test_form_json_and_multipart_bodies_are_read_and_a_bare_put_body_is_not(
    pipe: MergeRequestPipeline, http: requests.Session
) -> None:
    form = http.post(
        notes_url(pipe), headers=auth(pipe), data={"body": "form", "internal": "true"}, timeout=10
    )
    as_json = http.post(
        notes_url(pipe), headers=auth(pipe), json={"body": "json", "internal": False}, timeout=10
    )
    multipart = http.post(
        notes_url(pipe), headers=auth(pipe), files={"body": (None, "multipart")}, timeout=10
    )
    assert [r.status_code for r in (form, as_json, multipart)] == [201, 201, 201]
    assert (form.json()["internal"], as_json.json()["internal"]) == (True, False)
    assert [n.body for n in pipe.gitlab.notes(pipe.merge_request)] == ["form", "json", "multipart"]

    # A str body gets no Content-Type from requests; Rack parses such a body for POST only.
    bare = http.put(notes_url(pipe, form.json()["id"]), headers=auth(pipe), data="body=bare", timeout=10)
    assert (bare.status_code, bare.json()) == (400, {"error": "body is missing"})
    assert violation_messages(pipe.gitlab) == ["required parameter 'body' is missing"]


def test_injected_server_errors(pipe: MergeRequestPipeline, http: requests.Session) -> None:
    pipe.gitlab.fail_next(2, status=502)
    statuses = [http.get(notes_url(pipe), headers=auth(pipe), timeout=10).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]

    pipe.gitlab.fail_next(status=503, method="POST")
    assert http.get(notes_url(pipe), headers=auth(pipe), timeout=10).status_code == 200
    failed = http.post(notes_url(pipe), headers=auth(pipe), data={"body": "one"}, timeout=10)
    assert (failed.status_code, failed.headers["Content-Type"]) == (503, "text/html")
    assert pipe.gitlab.notes(pipe.merge_request) == []
    assert http.post(notes_url(pipe), headers=auth(pipe), data={"body": "one"}, timeout=10).status_code == 201

    pipe.gitlab.fail_next(status=502, method="POST", after_apply=True)
    lost = http.post(notes_url(pipe), headers=auth(pipe), data={"body": "two"}, timeout=10)
    assert lost.status_code == 502
    assert [n.body for n in pipe.gitlab.notes(pipe.merge_request)] == ["one", "two"]

    with pytest.raises(ValueError, match="500, 502, 503 or 504"):
        pipe.gitlab.fail_next(status=418)


def test_injected_rate_limit(pipe: MergeRequestPipeline, http: requests.Session) -> None:
    pipe.gitlab.rate_limit_next(retry_after=7, method="POST")
    throttled = http.post(notes_url(pipe), headers=auth(pipe), data={"body": "x"}, timeout=10)
    assert (throttled.status_code, throttled.text) == (429, "Retry later\n")
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.headers["RateLimit-Remaining"] == "0"
    reset_time = parsedate_to_datetime(throttled.headers["RateLimit-ResetTime"])
    assert int(reset_time.timestamp()) == int(throttled.headers["RateLimit-Reset"])
    assert pipe.gitlab.notes(pipe.merge_request) == []
    assert http.post(notes_url(pipe), headers=auth(pipe), data={"body": "x"}, timeout=10).status_code == 201


def test_injected_note_creation_limit_and_a_429_without_retry_after(
    pipe: MergeRequestPipeline, http: requests.Session
) -> None:
    pipe.gitlab.rate_limit_next(retry_after=60, method="POST", throttle="notes_create")
    pipe.gitlab.rate_limit_next(retry_after=None, method="POST")
    limited = http.post(notes_url(pipe), headers=auth(pipe), data={"body": "x"}, timeout=10)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "60")
    assert limited.json()["message"]["error"].startswith("This endpoint has been requested too many times")
    assert "RateLimit-Remaining" not in limited.headers
    bare = http.post(notes_url(pipe), headers=auth(pipe), data={"body": "x"}, timeout=10)
    assert bare.status_code == 429
    assert "Retry-After" not in bare.headers
    assert pipe.gitlab.notes(pipe.merge_request) == []


def test_current_user_and_ci_environment(pipe: MergeRequestPipeline, http: requests.Session) -> None:
    me = http.get(f"{pipe.env['CI_API_V4_URL']}/user", headers=auth(pipe), timeout=10)
    assert (me.status_code, me.json()["id"], me.json()["bot"]) == (200, pipe.bot.id, True)
    assert pipe.env["CI_API_V4_URL"] == pipe.gitlab.base_url + "/api/v4"
    assert pipe.env["CI_API_V4_URL"].startswith("http://127.0.0.1:")
    assert (pipe.env["CI_PROJECT_ID"], pipe.env["CI_PROJECT_PATH"], pipe.env["CI_MERGE_REQUEST_IID"]) == (
        "42",
        "acme/web",
        "7",
    )
    assert pipe.env["CI_JOB_TOKEN"] == pipe.job_token
    assert pipe.token not in pipe.env.values()
