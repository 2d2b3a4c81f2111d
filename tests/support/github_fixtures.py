"""Pytest fixtures for the GitHub fake (register with `pytest_plugins = ["tests.support.github_fixtures"]`).

- `github_api`: a started, empty `FakeGitHub`. At teardown it fails the test if any request or answer
  departed from GitHub's description; a test that provokes violations on purpose takes them with
  `github_api.take_violations()`.
- `github_pull_request`: the same fake seeded with a repository, an open pull request, a write token for
  github-actions[bot] and the `pull_request` event payload a workflow run would see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.github_json import Urls, pull_json, workflow_run_json
from tests.support.github_server import FakeGitHub
from tests.support.github_state import PullRequest, Repository, WorkflowRun
from tests.support.openapi import ApiDescription, load_api_description

WRITE_TOKEN = "ghs_FakeWriteToken0000000000000000000001"  # noqa: S105 (only the fake accepts it)
"""Token of the seeded scenario: github-actions[bot] with write access (a same-repository pull request)."""

READ_ONLY_TOKEN = "ghs_FakeReadOnlyToken00000000000000000002"  # noqa: S105 (only the fake accepts it)
"""Token of the seeded scenario as a fork's pull request gets it: reads only, writes answer 403."""


@dataclass(frozen=True)
class PullRequestScenario:
    """A fake GitHub with one open pull request, as the gate finds it in a `pull_request` run."""

    github: FakeGitHub
    """The running fake."""
    repository: Repository
    """`octo-org/app`."""
    pull: PullRequest
    """Pull request #1."""
    token: str
    """Write token (see READ_ONLY_TOKEN for the fork case)."""
    event: dict[str, Any]
    """The `pull_request` event payload (what GITHUB_EVENT_PATH points at)."""

    def environment(self, event_path: Path) -> dict[str, str]:
        """Writes the event to `event_path` and returns the Actions variables that lead the gate here."""
        event_path.write_text(json.dumps(self.event), encoding="utf-8")
        return {
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": self.github.base_url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": self.repository.full_name,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_TOKEN": self.token,
        }


def pull_request_event(github: FakeGitHub, repo: Repository, pull: PullRequest) -> dict[str, Any]:
    """The parts of a `pull_request` webhook payload the gate may read (number, head, base, repository)."""
    urls = Urls(api=github.base_url, html="https://github.com")
    pull_request = pull_json(pull, repo, urls, github.description.example("pull-request"))
    return {
        "action": "synchronize",
        "number": pull.number,
        "pull_request": pull_request,
        "repository": pull_request["base"]["repo"],
    }


def workflow_run_event(
    github: FakeGitHub,
    repo: Repository,
    pull: PullRequest,
    *,
    listed: bool,
    head_sha: str | None = None,
    listed_instead: PullRequest | None = None,
) -> dict[str, Any]:
    """The parts of a `workflow_run` webhook payload (action `completed`) the gate may read, for a
    `pull_request` run of `pull` at `head_sha` (default: its head). `listed`: GitHub names the pull
    request in `workflow_run.pull_requests`, as for a same-repository pull request; a fork's gets
    an empty list; `listed_instead` names another pull request there, at its own head (GitHub
    matches by branch name). Each entry is checked against the description's `pull-request-minimal`."""
    urls = Urls(api=github.base_url, html="https://github.com")
    sha = head_sha or pull.head_sha
    run = WorkflowRun(
        1000 + pull.number, repo.id, 7, "container-image.yml", pull.head_ref, sha, "pull_request",
        "success", pull.created_at,
    )  # fmt: skip
    data = workflow_run_json(run, repo, urls, github.description.example("workflow-run"))
    if listed or listed_instead is not None:
        named = listed_instead or pull
        repo_ref = {"id": repo.id, "url": f"{urls.api}/repos/{repo.full_name}", "name": repo.name}
        entry = {
            "id": named.number + repo.id,
            "number": named.number,
            "url": f"{urls.api}/repos/{repo.full_name}/pulls/{named.number}",
            "head": {"ref": named.head_ref, "sha": sha if listed else named.head_sha, "repo": repo_ref},
            "base": {"ref": named.base_ref, "sha": "f" * 40, "repo": repo_ref},
        }
        schema = {"$ref": "#/components/schemas/pull-request-minimal"}
        problems = github.description.check_schema("response", "pull-request-minimal", schema, entry, "entry")
        assert problems == [], problems
        data["pull_requests"] = [entry]
    return {"action": "completed", "workflow_run": data, "repository": data["repository"]}


@pytest.fixture(scope="session")
def github_api_description() -> ApiDescription:
    """GitHub's REST API description, parsed once per session."""
    return load_api_description()


@pytest.fixture
def github_api(github_api_description: ApiDescription) -> Iterator[FakeGitHub]:
    """A started fake GitHub; the test fails at teardown if anything departed from the description."""
    with FakeGitHub(description=github_api_description) as fake:
        yield fake
    fake.assert_no_violations()


@pytest.fixture
def github_pull_request(github_api: FakeGitHub) -> PullRequestScenario:
    """`octo-org/app` with pull request #1 and the two tokens of this module."""
    repo = github_api.state.add_repository("octo-org/app")
    pull = github_api.state.add_pull_request(repo, head_ref="update-base-image")
    github_api.state.add_token(WRITE_TOKEN, can_write=True)
    github_api.state.add_token(READ_ONLY_TOKEN, can_write=False)
    return PullRequestScenario(
        github_api, repo, pull, WRITE_TOKEN, pull_request_event(github_api, repo, pull)
    )
