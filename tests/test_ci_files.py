"""The project's own workflows: every action pinned by commit SHA (the check `make lint` runs), and
the tests on GitHub run as `.ci/run` runs them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.check_ci_files import Yaml12Loader, check, default_files, load_yaml, unpinned_uses
from tests.support.repo_paths import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
# The commit of actions/checkout v6.1.0, as this project pins it.
CHECKOUT_SHA = "d23441a48e516b6c34aea4fa41551a30e30af803"
DIGEST = "sha256:" + "0123456789abcdef" * 4


# -- the pinning check -----------------------------------------------------------------------------


def workflow_with(step: str) -> str:
    return f"name: t\non: push\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    steps:\n{step}\n"


def problems_of(step: str, placeholders_allowed: bool = False) -> list[str]:
    text = workflow_with(step)
    return unpinned_uses(text, yaml.load(text, Loader=Yaml12Loader), placeholders_allowed)  # noqa: S506


@pytest.mark.parametrize(
    "step",
    [
        f"      - uses: actions/checkout@{CHECKOUT_SHA} # v6.1.0",
        f"      - uses: actions/checkout@{CHECKOUT_SHA}  #   v6",
        f'      - uses: "actions/checkout@{CHECKOUT_SHA}" # v6.1.0',
        f"      - name: x\n        uses: github/codeql-action/upload-sarif@{CHECKOUT_SHA} # v4.36.2-rc.1",
        "      - uses: ./",
        "      - uses: ./.github/actions/local",
        f"      - uses: docker://alpine@{DIGEST}",
    ],
    ids=["sha-and-version", "spacing", "quoted", "sub-path", "this-repo", "local-action", "docker-digest"],
)
def test_pinned_references_pass(step: str) -> None:
    assert problems_of(step) == []


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            "      - uses: actions/checkout@v6",
            "line 7: uses: actions/checkout@v6: not pinned to a full 40-character commit SHA",
        ),
        ("      - uses: actions/checkout@main # v6", "not pinned to a full 40-character commit SHA"),
        (
            f"      - uses: actions/checkout@{CHECKOUT_SHA[:39]} # v6",
            "not pinned to a full 40-character commit SHA",
        ),
        (
            f"      - uses: actions/checkout@{CHECKOUT_SHA.upper()} # v6",
            "not pinned to a full 40-character commit SHA",
        ),
        ("      - uses: actions/checkout", "not pinned to a full 40-character commit SHA"),
        (
            f"      - uses: actions/checkout@{CHECKOUT_SHA}",
            "pinned, but without the version in a trailing comment",
        ),
        (f"      - uses: actions/checkout@{CHECKOUT_SHA} # latest", "pinned, but without the version"),
        ("      - uses: docker://alpine:3.20", "a docker:// action must be pinned by digest"),
        (
            "      - {uses: actions/checkout@v6}",
            "a `uses:` is not written as `uses: REF # VERSION` on a line of its own",
        ),
    ],
    ids=[
        "tag",
        "branch",
        "short-sha",
        "upper-case",
        "no-ref",
        "no-comment",
        "no-version",
        "docker-tag",
        "flow",
    ],
)
def test_unpinned_references_fail(step: str, expected: str) -> None:
    problems = problems_of(step)
    assert len(problems) == 1
    assert expected in problems[0]


def test_a_reusable_workflow_call_is_checked_too() -> None:
    text = "name: t\non: push\njobs:\n  j:\n    uses: octo-org/workflows/.github/workflows/ci.yml@v1\n"
    assert unpinned_uses(text, yaml.load(text, Loader=Yaml12Loader)) == [  # noqa: S506
        "line 5: uses: octo-org/workflows/.github/workflows/ci.yml@v1: not pinned to a full 40-character commit SHA"
    ]


def test_the_examples_placeholder_is_allowed_only_in_the_examples(tmp_path: Path) -> None:
    step = "      - uses: your-org/container-gate@v1"
    assert problems_of(step, placeholders_allowed=True) == []
    assert problems_of(step) != []
    example = PROJECT_ROOT / "docs" / "examples" / "github" / "gate-image.yml"
    assert check([example]) == []
    copied = tmp_path / "gate-image.yml"
    shutil.copyfile(example, copied)
    assert [problem.split(": ", 1)[1] for problem in check([copied])] == [
        "line 47: uses: your-org/container-gate@v1: not pinned to a full 40-character commit SHA"
    ]


def test_make_lint_reports_an_unpinned_action_in_a_project_workflow(tmp_path: Path) -> None:
    text = (WORKFLOWS / "action-image.yml").read_text(encoding="utf-8")
    pinned = f"uses: actions/checkout@{CHECKOUT_SHA} # v6.1.0"
    assert pinned in text
    copied = tmp_path / "action-image.yml"
    copied.write_text(text.replace(pinned, "uses: actions/checkout@v6"), encoding="utf-8")
    assert check([copied]) == [
        f"{copied}: line 30: uses: actions/checkout@v6: not pinned to a full 40-character commit SHA"
    ]


def test_every_workflow_of_the_project_is_linted() -> None:
    linted = set(default_files())
    on_disk = {*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")}
    assert {CI, WORKFLOWS / "action-image.yml"} <= on_disk <= linted
    script = (PROJECT_ROOT / "scripts" / "lint-ci-files.sh").read_text(encoding="utf-8")
    assert ".github/workflows/*.yml" in script


def test_every_remote_action_of_the_project_is_pinned_by_sha() -> None:
    uses = [
        match.group(1)
        for path in default_files()
        for match in re.finditer(r"^\s*(?:-\s+)?uses:\s*(\S+)", path.read_text(encoding="utf-8"), re.M)
    ]
    remote = [ref for ref in uses if not ref.startswith("./") and not ref.startswith("your-org/")]
    assert len(remote) >= 9
    assert all(re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref) for ref in remote), remote
    assert check(list(default_files())) == []


# -- ci.yml ----------------------------------------------------------------------------------------


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = workflow["jobs"][job]["steps"]
    return found


def test_ci_runs_the_tests_on_pushes_and_pull_requests_and_for_the_release() -> None:
    workflow = load_yaml(CI)
    assert set(workflow["on"]) >= {"push", "pull_request", "workflow_call"}
    assert workflow["permissions"] == {"contents": "read"}
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read"}


def test_ci_runs_ci_run_as_root_without_this_jobs_environment() -> None:
    workflow = load_yaml(CI)
    command = steps(workflow, "make-test")[-1]["run"].split()
    # sudo: .ci/run installs packages and starts a private dockerd; `env -i`: the gate the tests
    # run would otherwise see GITHUB_ACTIONS=true and publish to this run.
    assert command[:3] == ["sudo", "env", "-i"]
    assert command[-2:] == ["bash", ".ci/run"]
    assert not any(word.startswith("GITHUB") for word in command)
    assert (PROJECT_ROOT / ".ci" / "run").is_file()
