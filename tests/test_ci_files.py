"""The project's own workflows: every action pinned by commit SHA (the check `make lint` runs), the
tests on GitHub run as `.ci/run` runs them, and the release publishes only what passed the tests
and the gate, each job with no more permission than it uses.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from entrypoint import build_invocation
from scripts.check_ci_files import Yaml12Loader, check, default_files, load_yaml, unpinned_uses
from tests.support.repo_paths import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
RELEASE = WORKFLOWS / "release.yml"
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
    lines = example.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "uses: your-org/container-gate@v1" in text)
    assert [problem.split(": ", 1)[1] for problem in check([copied])] == [
        f"line {line}: uses: your-org/container-gate@v1: not pinned to a full 40-character commit SHA"
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
    assert {CI, RELEASE, WORKFLOWS / "action-image.yml"} <= on_disk <= linted
    script = (PROJECT_ROOT / "scripts" / "lint-ci-files.sh").read_text(encoding="utf-8")
    assert ".github/workflows/*.yml" in script


def test_every_remote_action_of_the_project_is_pinned_by_sha() -> None:
    uses = [
        match.group(1)
        for path in default_files()
        for match in re.finditer(r"^\s*(?:-\s+)?uses:\s*(\S+)", path.read_text(encoding="utf-8"), re.M)
    ]
    remote = [ref for ref in uses if not ref.startswith("./") and not ref.startswith("your-org/")]
    assert len(remote) >= 15
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


# -- release.yml -----------------------------------------------------------------------------------


def release() -> dict[str, Any]:
    workflow: dict[str, Any] = load_yaml(RELEASE)
    return workflow


def needs(workflow: dict[str, Any], job: str) -> set[str]:
    """Every job that must succeed before `job` starts, directly or not."""
    direct = workflow["jobs"][job].get("needs", [])
    found = set(direct if isinstance(direct, list) else [direct])
    for other in list(found):
        found |= needs(workflow, other)
    return found


def test_the_release_runs_on_version_tags_only() -> None:
    assert release()["on"] == {"push": {"tags": ["v*"]}}


def test_every_release_job_has_only_the_permissions_it_uses() -> None:
    workflow = release()
    assert workflow["permissions"] == {}
    granted = {name: job.get("permissions") for name, job in workflow["jobs"].items()}
    assert granted == {
        "test": {"contents": "read"},
        "dist": {"contents": "read"},
        "image": {"contents": "read", "packages": "write"},
        "publish-image": {"packages": "write"},
        "pin-action": {"contents": "write"},
        "pypi": {"id-token": "write"},
        "github-release": {"contents": "write"},
    }


def test_nothing_is_published_before_the_tests_and_the_gate_pass() -> None:
    workflow = release()
    assert workflow["jobs"]["test"]["uses"] == "./.github/workflows/ci.yml"
    assert needs(workflow, "image") == {"test", "dist"}
    for publishing in ("publish-image", "pin-action", "pypi", "github-release"):
        assert {"test", "dist", "image"} <= needs(workflow, publishing), publishing
    # PyPI and the GitHub release come after the image they name is pushed and pinned.
    assert {"publish-image", "pin-action"} <= needs(workflow, "pypi")
    assert {"publish-image", "pin-action", "pypi"} <= needs(workflow, "github-release")


def test_the_image_is_gated_by_the_action_itself_before_it_is_pushed() -> None:
    job = release()["jobs"]["image"]
    names = [step.get("uses") or step.get("name") for step in job["steps"]]
    build = names.index("Build the action image")
    gate = names.index("./")
    push = next(i for i, step in enumerate(job["steps"]) if "docker push" in step.get("run", ""))
    assert build < gate < push
    built = re.search(r"--tag (\S+)", job["steps"][build]["run"])
    assert built is not None
    gate_inputs = job["steps"][gate]["with"]
    assert gate_inputs["image"] == built.group(1)
    assert gate_inputs["policy"] == "policies/default.yaml"
    assert "advisory" not in gate_inputs
    # The job's token may write packages; the gate comments on nothing, so it is given none (the
    # default `github-token` is the job's token), and an empty input is no token for the action.
    assert gate_inputs["comment"] == "false"
    assert gate_inputs["github-token"] == ""
    given = {f"INPUT_{name.upper()}": str(value) for name, value in gate_inputs.items()}
    assert build_invocation(given).token is None
    assert f"docker tag {built.group(1)} " in job["steps"][push]["run"]
    platforms = [entry["platform"] for entry in job["strategy"]["matrix"]["include"]]
    assert platforms == ["linux/amd64", "linux/arm64"]


def test_pypi_uses_trusted_publishing_and_runs_no_code_of_the_repository() -> None:
    job = release()["jobs"]["pypi"]
    assert job["environment"]["name"] == "pypi"
    assert [step["uses"].split("@")[0] for step in job["steps"]] == [
        "actions/download-artifact",
        "pypa/gh-action-pypi-publish",
    ]
    assert "with" not in job["steps"][-1] or "password" not in job["steps"][-1]["with"]


def test_every_release_job_works_on_the_commit_the_tag_was_pushed_on() -> None:
    workflow = release()
    checkouts = [
        (name, step)
        for name, job in workflow["jobs"].items()
        for step in job.get("steps", [])
        if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert {name for name, _ in checkouts} == {"dist", "image", "pin-action", "github-release"}
    for name, step in checkouts:
        assert step["with"]["ref"] == "${{ github.sha }}", name
        # Only the job that pushes the release commit keeps the token in .git/config.
        assert step["with"].get("persist-credentials", True) is (name == "pin-action"), name


def test_the_release_commit_is_made_by_the_tested_script() -> None:
    pin_steps = release()["jobs"]["pin-action"]["steps"]
    scripts = " ".join(step.get("run", "") for step in pin_steps)
    assert "scripts/pin_action_image.py" in scripts
    assert 'git push --force origin "refs/tags/$TAG"' in scripts
    for job in ("dist", "github-release"):
        assert any(
            "scripts/release_notes.py" in step.get("run", "") for step in release()["jobs"][job]["steps"]
        )


def test_dependabot_keeps_the_pinned_actions_current() -> None:
    config = yaml.safe_load((PROJECT_ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    assert config["version"] == 2
    assert {"package-ecosystem": "github-actions", "directory": "/"}.items() <= config["updates"][0].items()
