"""action.yml, its Dockerfile, its docs and the example workflows hold together.

The schemas are SchemaStore's (tests/data/schemas); hadolint and actionlint run in `make lint`
(scripts/lint-ci-files.sh), since they are linters, not tests of behaviour.
"""

from __future__ import annotations

import argparse
import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from entrypoint import INPUTS, InputError, build_invocation
from scripts.check_ci_files import (
    ACTION_SCHEMA,
    WORKFLOW_SCHEMA,
    check,
    default_files,
    load_schema,
    load_yaml,
    schema_problems,
)
from tests.support.action_docs import action_steps, load_yaml_text
from tests.support.release_image import RELEASED_IMAGE
from tests.support.repo_paths import PROJECT_ROOT

ACTION = PROJECT_ROOT / "action.yml"
DOC = PROJECT_ROOT / "docs" / "github-action.md"
EXAMPLES = PROJECT_ROOT / "docs" / "examples" / "github"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def action() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(ACTION)
    return document


def test_action_yml_is_valid_for_the_schema() -> None:
    assert schema_problems(action(), load_schema(ACTION_SCHEMA)) == []


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda a: a["runs"].pop("image"), "runs"),
        (lambda a: a["branding"].update(icon="not-a-feather-icon"), "branding/icon"),
        (lambda a: a["inputs"]["image"].update(requried=True), "inputs/image"),
    ],
    ids=["docker-without-image", "unknown-icon", "misspelt-key"],
)
def test_the_schema_check_rejects_a_broken_action(breakage: Any, expected: str) -> None:
    broken = copy.deepcopy(action())
    breakage(broken)
    problems = schema_problems(broken, load_schema(ACTION_SCHEMA))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_inputs_reach_the_program_only_through_the_environment() -> None:
    runs = action()["runs"]
    assert set(runs) == {"using", "image"}  # no args, no entrypoint: nothing an input could reach
    assert runs["using"] == "docker"
    assert "${{ inputs." not in ACTION.read_text(encoding="utf-8")


def test_the_action_builds_its_image_or_runs_a_release_by_digest() -> None:
    # main (and any development commit) builds the image from the Dockerfile; the commit a release
    # tag names runs the image that release published and gated, by digest (docs/releasing.md).
    image = action()["runs"]["image"]
    assert image == "Dockerfile" or RELEASED_IMAGE.fullmatch(image), image
    assert not RELEASED_IMAGE.fullmatch("docker://ghcr.io/acme/container-gate:0.1.0")


def test_every_input_is_mapped_by_the_entry_point() -> None:
    assert [spec.name for spec in INPUTS] == list(action()["inputs"])


def doc_table_names(heading: str) -> list[str]:
    """The first-column names (`name`) of the table under `## heading` in the action's doc."""
    section = DOC.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z-]+)` \|", section, flags=re.MULTILINE)


def test_every_input_and_output_is_documented_once_in_order() -> None:
    assert doc_table_names("Inputs") == list(action()["inputs"])
    assert doc_table_names("Outputs") == list(action()["outputs"])


def doc_input_defaults() -> dict[str, str]:
    """The default column of the doc's input table, by input."""
    section = DOC.read_text(encoding="utf-8").split("\n## Inputs\n", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z-]+)` \| ([^|]*?) ?\|", section, flags=re.MULTILINE))


def test_every_inputs_default_is_the_same_in_action_yml_the_doc_and_the_entry_point() -> None:
    # GitHub passes action.yml's default; the entry point falls back on its own for an empty value
    # (`advisory: ${{ inputs.unset }}`); the doc's table is what a user reads. An input without a
    # default in action.yml takes the gate's own, which its description and the --help text say.
    from gate.cli.parser import build_parser

    helps = {
        option: action.help or ""
        for command in ("scan", "check")
        for action in _subcommand(build_parser(), command)._actions
        for option in action.option_strings
    }
    shown = doc_input_defaults()
    entry = {spec.name: spec for spec in INPUTS}
    checked = 0
    for name, spec in action()["inputs"].items():
        default = spec.get("default")
        if default is not None:
            assert shown[name] == f"`{default}`", name
            if entry[name].kind != "special":
                assert entry[name].default == default, name
            checked += 1
            continue
        # No default is an empty cell, as most rows show it: never also "none" or the like.
        assert not re.fullmatch(r"(?i)none|no default|n/?a|-+|\u2014|\(none\)", shown[name]), (
            name,
            shown[name],
        )
        literal = re.fullmatch(r"`([^`]+)`", shown[name])
        if literal is None:
            continue  # empty, or a default said in words (`shipped default`)
        assert entry[name].default == "", name  # GitHub passes an empty value: the gate decides
        flag = entry[name].flag
        assert flag is not None, name
        assert f"default: {literal[1]}" in helps[flag], (name, helps[flag])
        assert re.search(rf"Default:? `?{re.escape(literal[1])}`?[ .,]", spec["description"]), name
        checked += 1
    assert checked >= 10


def _subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    [commands] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    found: argparse.ArgumentParser = commands.choices[name]
    return found


def test_every_output_is_described_in_action_yml_as_in_the_doc() -> None:
    # The marketplace page shows action.yml's text, the docs their table: one description each,
    # so the two cannot drift apart (`would-block` once counted allowlisted findings in one only).
    section = DOC.read_text(encoding="utf-8").split("\n## Outputs\n", 1)[1].split("\n## ", 1)[0]
    documented = dict(re.findall(r"^\| `([a-z-]+)` \| (.*) \|$", section, flags=re.MULTILINE))
    described = {name: spec["description"] for name, spec in action()["outputs"].items()}
    assert described == documented


def test_every_input_and_output_has_a_description() -> None:
    for kind in ("inputs", "outputs"):
        for name, spec in action()[kind].items():
            assert len(spec.get("description", "")) > 20, f"{kind}.{name}"


def test_the_doc_shows_the_example_workflow_as_it_is() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("\n## A complete workflow\n", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```\n", 1)[0]
    assert block == (EXAMPLES / "gate-image.yml").read_text(encoding="utf-8")


def test_every_workflow_is_valid_for_the_schema() -> None:
    files = list(default_files())
    assert PROJECT_ROOT / ".github" / "workflows" / "action-image.yml" in files
    assert {path.name for path in files} >= {"action.yml", "gate-image.yml", "gate-matrix.yml"}
    assert check(files) == []


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda job: job["steps"][0].update(uses=3), "jobs/gate/steps/0/uses: 3 is not of type 'string'"),
        (
            lambda job: job["permissions"].update({"pull-requests": "admin"}),
            "jobs/gate/permissions/pull-requests",
        ),
        (lambda job: job.pop("runs-on"), "jobs/gate: 'runs-on' is a required property"),
    ],
    ids=["step-uses-not-a-string", "unknown-permission-level", "no-runs-on"],
)
def test_the_schema_check_rejects_a_broken_workflow(breakage: Any, expected: str) -> None:
    workflow = load_yaml(EXAMPLES / "gate-image.yml")
    breakage(workflow["jobs"]["gate"])
    problems = schema_problems(workflow, load_schema(WORKFLOW_SCHEMA))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_workflows_are_read_as_github_reads_yaml() -> None:
    # YAML 1.1 would read `on:` as the boolean True and the schema check would see no triggers.
    workflow = load_yaml(EXAMPLES / "gate-image.yml")
    assert "on" in workflow
    assert not any(key is True for key in workflow)  # no `on:` read as a boolean key


def scanning_examples() -> list[Path]:
    """The example workflows that scan an image: all but the one that posts a fork's comment
    (`workflow_run`), which gates the report another run kept."""
    return [path for path in sorted(EXAMPLES.glob("*.yml")) if "workflow_run" not in load_yaml(path)["on"]]


def test_the_examples_upload_sarif_even_when_the_gate_fails() -> None:
    for path in [*scanning_examples(), PROJECT_ROOT / ".github/workflows/action-image.yml"]:
        steps = next(iter(load_yaml(path)["jobs"].values()))["steps"]
        upload = next(
            s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")
        )
        assert upload["if"].startswith("always() && "), path.name
        assert upload["with"]["sarif_file"] == "${{ steps.gate.outputs.sarif-file }}", path.name


def test_the_examples_give_upload_sarif_the_permissions_it_needs_in_a_private_repository() -> None:
    # upload-sarif reads the workflow run: without `actions: read` (GitHub's own example sets it
    # "for workflows in private repositories") the upload fails there with
    # "Resource not accessible by integration", exactly when a team adopts the gate.
    for path in scanning_examples():
        for job in load_yaml(path)["jobs"].values():
            if any(
                str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@") for s in job["steps"]
            ):
                permissions = job["permissions"]
                assert permissions.get("security-events") == "write", path.name
                assert permissions.get("actions") in ("read", "write"), path.name


def test_the_examples_keep_the_json_decision_report_as_an_artifact() -> None:
    # The comment and summary point readers to the JSON report: the workflow must keep it.
    for path in scanning_examples():
        steps = next(iter(load_yaml(path)["jobs"].values()))["steps"]
        gate = next(s for s in steps if s.get("id") == "gate")
        assert gate["with"].get("json"), path.name
        upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
        assert upload["if"] == "always() && steps.gate.outputs.json-file != ''", path.name
        # First, and alone but for the fork example's pull request number.
        assert upload["with"]["path"].split("\n")[0] == "${{ steps.gate.outputs.json-file }}", path.name


def test_no_run_script_of_the_examples_or_the_workflows_holds_an_expression() -> None:
    # An expression in `run:` is pasted into the script before the shell reads it: the gate's
    # `error` output can quote a report's text (`got "$(...)"`), and a fork's report reaches
    # gate-fork-comment.yml. Every value goes to a script through `env:` instead.
    workflows = [
        *sorted(EXAMPLES.glob("*.yml")),
        *sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.yml")),
    ]
    for path in workflows:
        for name, job in load_yaml(path)["jobs"].items():
            for step in job.get("steps", []):
                assert "${{" not in str(step.get("run", "")), f"{path.name}: {name}: {step.get('name')}"


def documented_action_steps() -> list[tuple[str, dict[str, Any]]]:
    """The action's steps in the example workflows and in every YAML block of the docs (a whole
    workflow or the steps of one), each with where it is."""
    found = [
        (path.name, step) for path in sorted(EXAMPLES.glob("*.yml")) for step in action_steps(load_yaml(path))
    ]
    for path in [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]:
        blocks = re.findall(
            r"^```ya?ml\n(.*?)^```", path.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL
        )
        for number, block in enumerate(blocks, 1):
            found += [(f"{path.name} block {number}", step) for step in action_steps(load_yaml_text(block))]
    return found


def test_the_docs_show_the_action_with_inputs_it_has() -> None:
    inputs = set(action()["inputs"])
    steps = documented_action_steps()
    where = {place.split(" block ")[0] for place, _step in steps}
    # The examples, and the guide's blocks: the fork comment, a private registry, a matrix, reports.
    assert {"gate-image.yml", "gate-matrix.yml", "github-action.md"} <= where, where
    for place, step in steps:
        assert set(step.get("with", {})) <= inputs, place


def test_the_docs_give_the_action_values_its_inputs_take() -> None:
    # Every value the docs write out (not an expression, which the workflow fills) is one the
    # entry point and the gate's command line take: a first run of a copied example never stops
    # at a bad input (`check-base: yes`, `scanner: Trivy`, `scan-timeout: 10m`).
    from gate.cli.main import usage_problem

    checked = 0
    for place, step in documented_action_steps():
        given = {name: _as_github_passes(value) for name, value in step.get("with", {}).items()}
        written = {name: value for name, value in given.items() if "${{" not in value}
        if "image" not in written and "report" not in written:
            written["image"] = "app:1"  # the expression it had
        env = {f"INPUT_{name.upper()}": value for name, value in written.items()}
        try:
            invocation = build_invocation(env)
        except InputError as exc:
            raise AssertionError(f"{place}: {exc}") from None
        problem = usage_problem(invocation.argv)
        assert problem is None, f"{place}: {problem.message if problem else ''}"
        checked += len(written)
    assert checked >= 40


def _as_github_passes(value: object) -> str:
    """An input's value as the runner hands it over: `true` for a YAML boolean, digits for a number."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_the_examples_run_no_image_by_a_tag_and_no_download_of_their_own() -> None:
    # The exploitability example ran `data fetch` in ghcr.io/...:0.1.0, a tag that can be pushed
    # again, beside an action pinned by commit (whose release runs its image by digest), and gave
    # the gate kev.json and epss.csv.gz whatever the fetch had stored. The action's `exploit-data`
    # input now fetches with the action's own image and gates with the files that fetch stored.
    for path in sorted(EXAMPLES.glob("*.yml")):
        for job in load_yaml(path)["jobs"].values():
            for step in job["steps"]:
                run = str(step.get("run", ""))
                assert "docker run" not in run, (path.name, step.get("name"))
                assert "data fetch" not in run, (path.name, step.get("name"))
    steps = next(iter(load_yaml(EXAMPLES / "gate-exploit.yml")["jobs"].values()))["steps"]
    gate = next(step for step in steps if step.get("id") == "gate")
    assert gate["with"]["exploit-data"].startswith(gate["with"]["cache-dir"] + "/")  # one cache keeps both
    assert "kev" not in gate["with"]
    assert "epss" not in gate["with"]


def test_the_fork_examples_post_the_comment_from_the_artifact_without_the_pull_requests_code() -> None:
    build, post = load_yaml(EXAMPLES / "gate-fork.yml"), load_yaml(EXAMPLES / "gate-fork-comment.yml")
    assert post["on"] == {"workflow_run": {"workflows": [build["name"]], "types": ["completed"]}}
    (job,) = post["jobs"].values()
    assert job["permissions"] == {"contents": "read", "actions": "read", "pull-requests": "write"}
    assert "github.event.workflow_run.event == 'pull_request'" in job["if"]
    # Nothing of the pull request is checked out or run: the checkout is the default branch's.
    (checkout,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert set(checkout.get("with", {})) == {"persist-credentials"}
    assert not any("docker" in s.get("run", "") or "ref" in s.get("with", {}) for s in job["steps"])
    # The pull request's run keeps the report and the number under one name; this run takes them.
    (build_job,) = build["jobs"].values()
    gate = next(s for s in build_job["steps"] if s.get("id") == "gate")
    assert gate["with"]["comment"] is False
    assert gate["with"]["image"] == "app:${{ github.event.pull_request.head.sha || github.sha }}"
    save = next(s for s in build_job["steps"] if s.get("name") == "Save the pull request's number")
    assert save["run"] == 'echo "$NUMBER" > pull-request-number'
    upload = next(
        s for s in build_job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    )
    assert upload["with"]["path"].splitlines() == [
        "${{ steps.gate.outputs.json-file }}",
        "pull-request-number",
    ]
    download = next(
        s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact@")
    )
    assert re.fullmatch(r"actions/download-artifact@[0-9a-f]{40}", download["uses"])
    assert download["with"]["name"] == upload["with"]["name"]
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    folder = download["with"]["path"]
    number = next(s for s in job["steps"] if s.get("id") == "pull-request")
    assert f"head -n 1 {folder}/pull-request-number" in number["run"]
    post_gate = next(s for s in job["steps"] if s.get("id") == "gate")
    assert post_gate["uses"] == gate["uses"]
    assert post_gate["with"]["report"] == f"{folder}/{gate['with']['json']}"
    assert post_gate["with"]["pull-request"] == "${{ steps.pull-request.outputs.number }}"
    assert post_gate["with"]["policy"] == gate["with"]["policy"]
    assert "image" not in post_gate["with"]


# -- the action's image ------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical = re.sub(
        r"\\\n\s*", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in logical.splitlines()
        if line.strip()
    ]


def test_every_image_the_action_image_is_made_of_is_pinned_by_digest() -> None:
    images = []
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            images.append(arguments.split()[0])
        found = re.search(r"--from=(\S+)", arguments) if instruction == "COPY" else None
        if found and ":" in found.group(1):
            images.append(found.group(1))
    assert len(images) == 4  # builder and final Python, Trivy, Grype
    assert all(DIGEST.search(image) for image in images), images
    assert any(image.startswith("aquasec/trivy:0.") for image in images)


def test_the_image_runs_the_entry_point_as_github_requires() -> None:
    instructions = dockerfile_instructions()
    assert ("ENTRYPOINT", '["/opt/container-gate/bin/python", "/app/entrypoint.py"]') in instructions
    # GitHub documents that a container action must run as root (see the Dockerfile's comment).
    assert not any(instruction == "USER" for instruction, _ in instructions)


def test_the_build_context_holds_everything_the_dockerfile_copies() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    copied = [
        source.rstrip("/")
        for instruction, arguments in dockerfile_instructions()
        if instruction == "COPY" and "--from=" not in arguments
        for source in arguments.split()[:-1]
    ]
    assert copied
    assert set(copied) <= allowed
    assert all((PROJECT_ROOT / source).exists() for source in copied)


# -- the lock of the action image's Python packages ---------------------------------------------------

LOCK = PROJECT_ROOT / "requirements" / "action.txt"


def locked_versions() -> dict[str, str]:
    """The version of each package of requirements/action.txt, by its normalised name; each line
    pins one version with `==` and gives its hashes, as `pip install --require-hashes` needs."""
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    found: dict[str, str] = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        name, pinned, version = words[0].partition("==")
        assert pinned, f"requirements/action.txt: {words[0]} is not pinned with =="
        assert any(word.startswith("--hash=sha256:") for word in words[1:]), f"{name} has no hash"
        found[canonicalize_name(name)] = version
    return found


def test_every_runtime_dependency_is_in_the_action_images_lock_within_its_range() -> None:
    locked = locked_versions()
    dependencies = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    assert dependencies
    for dependency in dependencies:
        requirement = Requirement(dependency)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in requirements/action.txt"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements/action.txt pins {requirement.name} {locked[name]}, outside {requirement.specifier}"
        )
    # Built without build isolation: the lock's setuptools is the build backend.
    backend = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]
    for dependency in backend["requires"]:
        requirement = Requirement(dependency)
        assert requirement.specifier.contains(locked[canonicalize_name(requirement.name)])
    # Locked for the Python of the image.
    header = LOCK.read_text(encoding="utf-8").splitlines()[1]
    found = re.search(r"--python-version (\S+)", header)
    assert found is not None
    assert all(
        arguments.startswith(f"python:{found.group(1)}-")
        for instruction, arguments in dockerfile_instructions()
        if instruction == "FROM"
    )


def test_the_action_image_installs_only_the_locked_packages() -> None:
    runs = [arguments for instruction, arguments in dockerfile_instructions() if instruction == "RUN"]
    installs = [part for run in runs for part in run.split("&&") if "pip install" in part]
    assert any(
        "--require-hashes --no-deps" in part and part.split()[-1] == "requirements/action.txt"
        for part in installs
    )
    assert all("--no-deps" in part for part in installs), installs
    wheel = next(part for run in runs for part in run.split("&&") if "pip wheel" in part)
    assert "--no-build-isolation" in wheel
