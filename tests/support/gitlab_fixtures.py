"""Pytest fixtures for the GitLab fake; register with `pytest_plugins = ["tests.support.gitlab_fixtures"]`.

`gitlab_api` is an empty, started fake. `gitlab_mr_pipeline` adds what a merge-request pipeline
job sees: a project, an open merge request, a bot user with an `api` token, a job token and the CI
variables. Both fail the test at teardown if any request broke the documented API contract; a test
that provokes violations on purpose asserts them and then calls `clear_violations()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.gitlab_server import GitLabFake, MergeRequest, Project, User


@dataclass(frozen=True)
class MergeRequestPipeline:
    gitlab: GitLabFake
    """The running fake."""
    project: Project
    """Project `acme/web`, id 42."""
    merge_request: MergeRequest
    """Merge request !7 of that project, without notes."""
    bot: User
    """The project access token's bot user, a developer."""
    job_user: User
    """The developer who started the job (the job token acts as this user)."""
    token: str
    """Project access token with the `api` scope (what the publisher should be given)."""
    job_token: str
    """The job's CI_JOB_TOKEN: may read notes, cannot write them."""
    env: dict[str, str]
    """CI_* variables of the job, including CI_JOB_TOKEN (not the access token)."""


@pytest.fixture
def gitlab_api() -> Iterator[GitLabFake]:
    with GitLabFake() as fake:
        yield fake
        fake.assert_no_violations()


@pytest.fixture
def gitlab_mr_pipeline(gitlab_api: GitLabFake) -> MergeRequestPipeline:
    return merge_request_pipeline(gitlab_api)


def merge_request_pipeline(fake: GitLabFake) -> MergeRequestPipeline:
    """Populate a started fake with what a merge-request pipeline job sees."""
    project = fake.add_project("acme/web", project_id=42)
    mr = fake.add_merge_request(project, 7)
    bot = fake.add_user("project_42_bot_gate", name="container-gate", bot=True)
    starter = fake.add_user("dev-alice", name="Alice")
    token, job_token = "glpat-fake-api-0123456789", "glcbt-fake-job-0123456789"
    fake.add_token(token, bot, scopes=("api",))
    fake.add_job_token(job_token, starter, project)
    env = fake.ci_environment(mr, job_token=job_token)
    return MergeRequestPipeline(fake, project, mr, bot, starter, token, job_token, env)
