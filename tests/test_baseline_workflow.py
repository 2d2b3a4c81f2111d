"""The documented baseline workflow (docs/examples/github/gate-baseline.yml): its lookup of the
default branch's latest successful run, run for real (bash, curl, jq) against the GitHub fake,
which checks every request and answer against GitHub's OpenAPI description."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.github_fixtures import WRITE_TOKEN
from tests.support.github_server import FakeGitHub
from tests.support.repo_paths import PROJECT_ROOT

pytest_plugins = ["tests.support.github_fixtures"]

WORKFLOW = PROJECT_ROOT / "docs" / "examples" / "github" / "gate-baseline.yml"
FILE = "container-image.yml"


def steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = workflow["jobs"]["gate"]["steps"]
    return found


def step(step_id: str) -> dict[str, Any]:
    return next(s for s in steps() if s.get("id") == step_id)


def lookup(github: FakeGitHub, tmp_path: Path, repository: str = "octo-org/app") -> tuple[str, str]:
    """Run the lookup step as the runner would: (its run-id output, what it printed)."""
    if shutil.which("jq") is None or shutil.which("curl") is None:
        pytest.skip("the workflow's step needs curl and jq, as GitHub's runners have them")
    found = step("baseline-run")
    assert set(found["env"]) == {"GITHUB_TOKEN", "REPOSITORY", "DEFAULT_BRANCH", "WORKFLOW_REF"}
    output = tmp_path / "github_output"
    output.write_text("")
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_API_URL": github.base_url,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_TOKEN": WRITE_TOKEN,
        "REPOSITORY": repository,
        "DEFAULT_BRANCH": "main",
        "WORKFLOW_REF": f"{repository}/.github/workflows/{FILE}@refs/pull/7/merge",
    }
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", found["run"]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    (line,) = output.read_text().splitlines()
    name, _, value = line.partition("=")
    assert name == "run-id"
    return value, done.stdout + done.stderr


def test_the_lookup_finds_the_latest_successful_push_run_of_the_default_branch(
    github_api: FakeGitHub, tmp_path: Path
) -> None:
    state = github_api.state
    repo = state.add_repository("octo-org/app")
    state.add_token(WRITE_TOKEN)
    older = state.add_workflow_run(repo, FILE, head_branch="main")
    latest = state.add_workflow_run(repo, FILE, head_branch="main")
    state.add_workflow_run(repo, FILE, head_branch="main", conclusion="failure")
    state.add_workflow_run(repo, FILE, head_branch="feature", event="pull_request")
    state.add_workflow_run(repo, FILE, head_branch="main", conclusion=None)
    state.add_workflow_run(repo, "other.yml", head_branch="main")
    run_id, printed = lookup(github_api, tmp_path)
    assert run_id == str(latest.id) != str(older.id)
    assert "::warning::" not in printed
    (request,) = github_api.requests
    assert request.method == "GET"
    assert request.target == (
        f"/repos/octo-org/app/actions/workflows/{FILE}/runs?branch=main&event=push&status=success&per_page=1"
    )
    assert WRITE_TOKEN not in printed


def test_without_a_successful_run_the_gate_runs_without_a_baseline_and_says_so(
    github_api: FakeGitHub, tmp_path: Path
) -> None:
    state = github_api.state
    repo = state.add_repository("octo-org/app")
    state.add_token(WRITE_TOKEN)
    state.add_workflow_run(repo, FILE, head_branch="main", conclusion="failure")
    run_id, printed = lookup(github_api, tmp_path)
    assert run_id == ""
    assert f"::warning::no successful run of {FILE} on main found" in printed


def test_a_workflow_never_run_is_a_warning_not_a_failed_step(github_api: FakeGitHub, tmp_path: Path) -> None:
    state = github_api.state
    state.add_repository("octo-org/app")
    state.add_token(WRITE_TOKEN)
    run_id, printed = lookup(github_api, tmp_path)  # the API answers 404
    assert run_id == ""
    assert "::warning::" in printed


def test_the_download_and_the_gate_use_what_the_lookup_found() -> None:
    download = next(s for s in steps() if str(s.get("uses", "")).startswith("actions/download-artifact@"))
    assert download["if"] == "steps.baseline-run.outputs.run-id != ''"
    assert download["continue-on-error"] is True
    assert download["with"]["run-id"] == "${{ steps.baseline-run.outputs.run-id }}"
    assert download["with"]["github-token"] == "${{ github.token }}"
    upload = next(s for s in steps() if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert download["with"]["name"] == upload["with"]["name"]
    gate = step("gate")
    assert gate["with"]["baseline"].endswith(
        f"'{download['with']['path']}/{gate['with']['json']}' || '' }}}}"
    )


def test_the_default_branch_run_records_advisory_so_that_it_can_be_the_baseline() -> None:
    # The lookup takes only successful push runs: a default-branch run the gate failed (its image
    # still has blocking findings) would leave every pull request without a baseline.
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert set(triggers) == {"pull_request", "push"}
    gate = step("gate")
    assert gate["with"]["advisory"] == "${{ github.event_name == 'push' }}"
    assert "status=success" in step("baseline-run")["run"]
    assert "event=push" in step("baseline-run")["run"]
