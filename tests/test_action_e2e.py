"""End to end: `entrypoint.py` run the way GitHub runs the action, on a `pull_request` event.

The process gets what a runner gives a container action: the event payload file, the GITHUB_*
variables, the step-summary and output files, and one INPUT_* variable per input of action.yml
(GitHub sets them all, with the defaults the workflow did not override). The API is the GitHub
fake (tests/support/github_server.py), which holds every request to GitHub's description. The scan
is real: the real Trivy, offline, on the test bed's app image with the test bed's DB.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.check_ci_files import load_yaml
from testbed.images import IMAGES_DIR, ArchiveImages
from tests.support.action_docs import load_yaml_text
from tests.support.github_fixtures import READ_ONLY_TOKEN, PullRequestScenario
from tests.support.registry_tools import (
    AuthRegistries,
    Pusher,
    base_behind_auth,
    oci_image,
    read_docker_archive,
    relabelled,
)
from tests.support.repo_paths import PROJECT_ROOT

ACTION = load_yaml(PROJECT_ROOT / "action.yml")
_OUTPUT = re.compile(r"^([^\n<]+)<<(\S+)\n(.*?)\n\2\n", re.MULTILINE | re.DOTALL)


def read_outputs(path: Path) -> dict[str, str]:
    """The step outputs in a GITHUB_OUTPUT file (`name<<DELIMITER`, value, `DELIMITER`)."""
    text = path.read_text(encoding="utf-8")
    found = {name: value for name, _delimiter, value in _OUTPUT.findall(text)}
    assert sum(len(m.group(0)) for m in _OUTPUT.finditer(text)) == len(text), "unreadable output file"
    return found


def runner_environment(
    scenario: PullRequestScenario, tmp_path: Path, token: str, **inputs: str
) -> tuple[dict[str, str], Path]:
    """The environment of the action's container in a `pull_request` run, and its workspace."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    # The repository that built the image: its Dockerfile is where the annotations point.
    shutil.copy(IMAGES_DIR / "app" / "Dockerfile", workspace / "Dockerfile")
    files = tmp_path / "file_commands"
    files.mkdir()
    env = scenario.environment(tmp_path / "event.json")
    del env["GITHUB_TOKEN"]  # a container action gets the token only as its input
    env |= {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT),
        "HOME": str(tmp_path / "home"),
        "CI": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_STEP_SUMMARY": str(files / "step_summary"),
        "GITHUB_OUTPUT": str(files / "set_output"),
        "GITHUB_WORKFLOW": "container image",
        "GITHUB_JOB": "gate",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_ACTION": "gate",
        "GITHUB_REF": f"refs/pull/{scenario.pull.number}/merge",
        "GITHUB_SHA": scenario.pull.head_sha,
        "GITHUB_HEAD_REF": scenario.pull.head_ref,
        "GITHUB_BASE_REF": scenario.pull.base_ref,
        "RUNNER_OS": "Linux",
        "RUNNER_TEMP": str(tmp_path / "runner_temp"),
    }
    for name, spec in ACTION["inputs"].items():
        default = "" if name == "github-token" else str(spec.get("default", ""))
        env[f"INPUT_{name.upper()}"] = inputs.get(name, default)
    env["INPUT_GITHUB-TOKEN"] = token
    return env, workspace


def run_action(env: dict[str, str], workspace: Path) -> subprocess.CompletedProcess[str]:
    """`python entrypoint.py` in the workspace, as the image's ENTRYPOINT runs it."""
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "entrypoint.py")],
        env=env,
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def scan_inputs(trivy_bin: Path, trivy_db: Path, engineless_archives: ArchiveImages) -> dict[str, str]:
    """Inputs that scan the test bed's app image offline (the binary: `with_trivy`)."""
    return {
        "image": f"docker-archive:{engineless_archives.app}",
        "dockerfile": "Dockerfile",
        "cache-dir": str(trivy_db),
        "skip-db-update": "true",
        "json": "container-gate.json",
        "markdown": "reports/container-gate.md",
    }


def with_trivy(env: dict[str, str], trivy_bin: Path) -> dict[str, str]:
    return {**env, "TRIVY_BIN": str(trivy_bin)}


def unescaped(markdown: str) -> str:
    """Markdown without its backslash escapes (`CVE\\-2023\\-4911` is shown as CVE-2023-4911)."""
    return markdown.replace("\\", "")


def blocking_ids(decision: dict[str, Any]) -> set[str]:
    return {f["vulnerability_id"] for f in decision["findings"] if f["disposition"] == "blocking"}


def test_the_action_on_a_pull_request_scans_comments_summarises_and_sets_outputs(
    github_pull_request: PullRequestScenario, scan_inputs: dict[str, str], trivy_bin: Path, tmp_path: Path
) -> None:
    scenario = github_pull_request
    env, workspace = runner_environment(scenario, tmp_path, scenario.token, **scan_inputs)
    env = with_trivy(env, trivy_bin)

    done = run_action(env, workspace)

    assert done.returncode == 1, done.stderr  # the test bed's app has fixable HIGH findings
    assert scenario.token not in done.stdout + done.stderr
    decision = json.loads((workspace / "container-gate.json").read_text(encoding="utf-8"))
    assert decision["verdict"] == "fail"
    blocking = blocking_ids(decision)
    assert "CVE-2023-4911" in blocking  # glibc, HIGH, fixed in 2.36-9+deb12u3

    # Step outputs: every output action.yml declares but those of an error, telling the JSON
    # report's story (markdown-file too: the `markdown` input was given).
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert set(outputs) == set(ACTION["outputs"]) - {"exit-code", "error"}
    assert outputs["verdict"] == "fail"
    for name in ("blocking", "allowlisted", "ignored", "informational"):
        assert outputs[name] == str(decision["counts"][name]), name
    assert outputs["sarif-file"] == "container-gate.sarif"
    assert outputs["json-file"] == "container-gate.json"
    assert outputs["advisory"] == "false"
    assert int(outputs["would-block"]) >= len(blocking)

    # SARIF for upload-sarif, pointing at the repository's Dockerfile.
    sarif = json.loads((workspace / outputs["sarif-file"]).read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    locations = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
        for loc in result["locations"]
    }
    assert locations == {"Dockerfile"}

    # The job summary and the pull-request comment carry the verdict and what blocks.
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    [comment] = scenario.github.state.comments_on(scenario.repository, scenario.pull.number)
    for text in (summary, comment.body):
        assert "CVE-2023-4911" in unescaped(text)
    assert comment.author.login == "github-actions[bot]"
    scenario.github.assert_token_confined(scenario.token)

    # The next push: the same comment is updated, not a second one added.
    rerun = run_action({**env, "GITHUB_RUN_ID": "4243"}, workspace)
    assert rerun.returncode == 1, rerun.stderr
    [again] = scenario.github.state.comments_on(scenario.repository, scenario.pull.number)
    assert again.id == comment.id
    assert outputs["comment-url"].endswith(f"#issuecomment-{comment.id}")


def test_an_image_that_cannot_be_read_is_an_error_without_sarif(
    github_pull_request: PullRequestScenario, scan_inputs: dict[str, str], trivy_bin: Path, tmp_path: Path
) -> None:
    scenario = github_pull_request
    inputs = {**scan_inputs, "image": f"docker-archive:{tmp_path / 'missing.tar'}"}
    env, workspace = runner_environment(scenario, tmp_path, scenario.token, **inputs)
    (workspace / "container-gate.sarif").write_text("{}", encoding="utf-8")  # a previous run's

    done = run_action(with_trivy(env, trivy_bin), workspace)

    assert done.returncode in (2, 3), done.stderr
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert outputs["verdict"] == "error"
    assert outputs["exit-code"] == str(done.returncode)
    # No SARIF, so the workflows' `sarif-file != ''` condition skips the upload, which would
    # otherwise close every open alert with an empty run.
    assert outputs.get("sarif-file", "") == ""
    assert not (workspace / "container-gate.sarif").exists()
    # The files that were written say why, and the outputs name them.
    assert outputs["json-file"] == "container-gate.json"
    assert outputs["markdown-file"] == "reports/container-gate.md"
    decision = json.loads((workspace / outputs["json-file"]).read_text(encoding="utf-8"))
    assert decision["verdict"] == "error"
    assert "could not decide" in Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")


def test_a_fork_pull_request_keeps_its_verdict_and_warns_about_the_comment(
    github_pull_request: PullRequestScenario, scan_inputs: dict[str, str], trivy_bin: Path, tmp_path: Path
) -> None:
    scenario = github_pull_request
    env, workspace = runner_environment(scenario, tmp_path, READ_ONLY_TOKEN, **scan_inputs)

    done = run_action(with_trivy(env, trivy_bin), workspace)

    assert done.returncode == 1, done.stderr
    assert READ_ONLY_TOKEN not in done.stdout + done.stderr
    assert "\n::warning::no comment on pull request" in done.stdout  # an annotation, not a log line
    assert scenario.github.state.comments_on(scenario.repository, scenario.pull.number) == []
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert outputs["verdict"] == "fail"
    assert "CVE-2023-4911" in unescaped(Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8"))


def test_advisory_mode_passes_and_says_what_would_block(
    github_pull_request: PullRequestScenario, scan_inputs: dict[str, str], trivy_bin: Path, tmp_path: Path
) -> None:
    scenario = github_pull_request
    inputs = {**scan_inputs, "advisory": "true", "comment": "false"}
    env, workspace = runner_environment(scenario, tmp_path, scenario.token, **inputs)

    done = run_action(with_trivy(env, trivy_bin), workspace)

    assert done.returncode == 0, done.stderr
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert int(outputs["would-block"]) > 0
    assert outputs["blocking"] == "0"
    assert scenario.github.state.comments_on(scenario.repository, scenario.pull.number) == []


def test_a_bad_input_fails_the_step_before_anything_runs_and_says_so_where_errors_are_read(
    github_pull_request: PullRequestScenario, tmp_path: Path
) -> None:
    scenario = github_pull_request
    env, workspace = runner_environment(scenario, tmp_path, scenario.token, image="app:1", comment="yes")

    done = run_action(env, workspace)

    message = "input `comment` must be `true` or `false`, got 'yes'"
    assert done.returncode == 2
    assert done.stderr == f"container-gate: error: {message}\n"
    # The documented `error` output, the job summary and an annotation; no scan, no comment.
    assert done.stdout == f"::error title=container-gate could not decide (exit code 2)::{message}\n"
    assert scenario.github.requests == []
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert (outputs["verdict"], outputs["error"]) == ("error", message)
    assert "could not decide" in Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")


# --- a private base image, with the action's registry login ----------------------------------


@pytest.fixture
def private_base(
    engineless_archives: ArchiveImages, tmp_path: Path
) -> Iterator[tuple[AuthRegistries, Path, str]]:
    """The test bed's base pushed as `private/base:12` to a registry with a token service, and an
    app archive whose label names it there."""
    with base_behind_auth(engineless_archives.base) as registries:
        base = f"{registries.bearer}/private/base:12"
        label = {"org.opencontainers.image.base.name": base}
        yield registries, relabelled(engineless_archives.app, tmp_path / "app.tar", label), base


def test_a_private_base_image_is_checked_with_the_registry_login_inputs(
    github_pull_request: PullRequestScenario,
    scan_inputs: dict[str, str],
    trivy_bin: Path,
    engineless_archives: ArchiveImages,
    private_base: tuple[AuthRegistries, Path, str],
    tmp_path: Path,
) -> None:
    # A `docker/login-action` step writes the runner's ~/.docker/config.json, which the action's
    # container never sees: the login reaches the gate through the action's own inputs.
    registries, app, base = private_base
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nbase_image: {on_stale: fail}\n", encoding="utf-8")  # unchecked: an error
    inputs = {
        **scan_inputs,
        "image": f"docker-archive:{app}",
        "dockerfile": "",
        "base-image": f"docker-archive:{engineless_archives.base}",
        "check-base": "true",
        "policy": str(policy),
        "comment": "false",
    }
    temp = tmp_path / "container-tmp"  # the container's own temporary directory
    temp.mkdir()

    def run(name: str, **login: str) -> tuple[subprocess.CompletedProcess[str], Path, dict[str, str]]:
        (tmp_path / name).mkdir()
        env, workspace = runner_environment(
            github_pull_request, tmp_path / name, github_pull_request.token, **inputs, **login
        )
        env = with_trivy(env, trivy_bin) | {"TMPDIR": str(temp)}
        return run_action(env, workspace), workspace, env

    login = {"registry": registries.bearer, "registry-username": registries.username}
    done, workspace, env = run("with-login", **login, **{"registry-password": registries.password})
    assert done.returncode == 1, done.stderr  # checked: the findings decide, and some block
    decision = json.loads((workspace / "container-gate.json").read_text(encoding="utf-8"))
    assert decision["base_image"]["name"] == base
    assert decision["base_image"]["checked"] is True, decision["base_image"]
    # The password is masked first, and appears nowhere else: not in the log, the outputs, the
    # summary, the workspace or a Docker config left behind.
    assert done.stdout.splitlines()[0] == f"::add-mask::{registries.password}"
    assert done.stdout.count(registries.password) == 1
    assert registries.password not in done.stderr
    written = [Path(env["GITHUB_OUTPUT"]), Path(env["GITHUB_STEP_SUMMARY"]), *workspace.rglob("*")]
    for path in written:
        if path.is_file():
            assert registries.password not in path.read_text(encoding="utf-8", errors="replace"), path
    assert list(temp.iterdir()) == []  # the Docker config is removed
    assert not (Path(env["HOME"]) / ".docker").exists()

    # Without the password (a fork's pull request gets no secrets): read anonymously, refused,
    # and the policy's on_stale: fail makes the unchecked base the step's error.
    done, workspace, env = run("without-password", **login)
    assert done.returncode == 3, done.stderr  # a registry error
    refused = f"unauthorized: registry {registries.bearer} refused anonymous access to private/base"
    assert refused in done.stderr
    # What to do is said in the action's words: its inputs, never `docker login`.
    hint = (
        f"(the repository does not exist or needs credentials: set the action's `registry` input to "
        f"{registries.bearer}, with `registry-username` and `registry-password`)"
    )
    assert f"{refused} (HTTP 401, UNAUTHORIZED) {hint}" in done.stderr
    assert "docker login" not in done.stderr
    assert (
        f"input `registry-password` is empty: {registries.bearer} is read without credentials" in done.stdout
    )
    assert refused in read_outputs(Path(env["GITHUB_OUTPUT"]))["error"]


def test_a_docker_config_naming_a_credential_helper_the_image_lacks_does_not_stop_a_public_read(
    github_pull_request: PullRequestScenario,
    scan_inputs: dict[str, str],
    trivy_bin: Path,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
) -> None:
    # A workflow's `env: DOCKER_CONFIG` names a config written on a developer's machine or by
    # `gcloud auth configure-docker`: its helpers are programs the action's image does not have.
    # Read as it was, its `credsStore` failed the check of a public base image on a registry
    # that hands out anonymous tokens (as Docker Hub does), with no `registry` input given.
    docker = tmp_path / "docker-config"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"auths": {}, "credsStore": "desktop"}), encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nbase_image: {on_stale: fail}\n", encoding="utf-8")  # unchecked: an error
    with base_behind_auth(engineless_archives.base, tags=("public/base:12",)) as registries:
        base = f"{registries.bearer}/public/base:12"
        label = {"org.opencontainers.image.base.name": base}
        app = relabelled(engineless_archives.app, tmp_path / "app.tar", label)
        inputs = {
            **scan_inputs,
            "image": f"docker-archive:{app}",
            "dockerfile": "",
            "base-image": f"docker-archive:{engineless_archives.base}",
            "check-base": "true",
            "policy": str(policy),
            "comment": "false",
        }
        env, workspace = runner_environment(
            github_pull_request, tmp_path, github_pull_request.token, **inputs
        )
        env = with_trivy(env, trivy_bin) | {"DOCKER_CONFIG": str(docker)}

        done = run_action(env, workspace)

    assert done.returncode == 1, done.stderr  # checked: the findings decide, and some block
    decision = json.loads((workspace / "container-gate.json").read_text(encoding="utf-8"))
    assert decision["base_image"]["checked"] is True, decision["base_image"]
    # Said once, as an annotation: what was left out and what to do about a registry it covered.
    [warning] = [line for line in done.stdout.splitlines() if "credential helpers" in line]
    assert warning.startswith("::warning title=container-gate%3A warning::")
    assert "(desktop for every registry) cannot run in the action's container" in warning


def test_an_image_the_registry_refuses_or_lacks_is_one_line_exit_3_and_never_shows_the_password(
    github_pull_request: PullRequestScenario,
    scan_inputs: dict[str, str],
    trivy_bin: Path,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
) -> None:
    # The image is read from a registry with the login inputs. A wrong password (a rotated
    # token) or an unknown tag is the step's error: one line in the log, the step outputs, the
    # job summary, and the pull request's comment turned into "could not decide"; the password,
    # right or wrong, is masked first and written nowhere.
    scenario = github_pull_request
    with base_behind_auth(engineless_archives.base) as registries:
        image = f"{registries.basic}/private/base:12"
        login = {"registry": registries.basic, "registry-username": registries.username}

        def run(
            name: str, password: str, **more: str
        ) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
            (tmp_path / name).mkdir()
            inputs = {**scan_inputs, "image": image, "dockerfile": "", **login, **more}
            env, workspace = runner_environment(
                scenario, tmp_path / name, scenario.token, **inputs, **{"registry-password": password}
            )
            env = with_trivy(env, trivy_bin)
            done = run_action(env, workspace)
            assert done.stdout.splitlines()[0] == f"::add-mask::{password}"
            assert done.stdout.count(password) == 1
            assert password not in done.stderr
            written = [Path(env["GITHUB_OUTPUT"]), Path(env["GITHUB_STEP_SUMMARY"]), *workspace.rglob("*")]
            for path in [path for path in written if path.is_file()]:
                assert password not in path.read_text(encoding="utf-8", errors="replace"), path
            for comment in scenario.github.state.comments_on(scenario.repository, scenario.pull.number):
                assert password not in comment.body
            return done, env

        done, _env = run("right", registries.password)
        assert done.returncode == 1, done.stderr  # read and scanned: the findings decide
        [comment] = scenario.github.state.comments_on(scenario.repository, scenario.pull.number)

        for name, password, more, said in [
            (
                "refused",
                f"rotated-{registries.password}",
                {},
                f"registry {registries.basic} refused the credentials of user '{registries.username}' "
                "(HTTP 401, UNAUTHORIZED)",
            ),
            (
                "unknown",
                registries.password,
                {"image": f"{registries.basic}/private/nothere:1"},
                f"registry {registries.basic} has no private/nothere:1 (HTTP 404, MANIFEST_UNKNOWN)",
            ),
        ]:
            done, env = run(name, password, **more)
            assert done.returncode == 3, done.stderr  # an image error, as documented
            [line] = done.stderr.splitlines()
            message = line.removeprefix("container-gate: error: ")
            assert said in message, name
            outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
            assert (outputs["verdict"], outputs["exit-code"], outputs["error"]) == ("error", "3", message)
            assert f"::error title=container-gate could not decide (exit code 3)::{message}" in done.stdout
            summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
            assert "could not decide (exit code 3)" in summary
            assert said in unescaped(summary), name
        # The comment of the image that was refused says so; the unknown tag had none to change.
        [refused] = scenario.github.state.comments_on(scenario.repository, scenario.pull.number)
        assert refused.id == comment.id
        assert "could not decide (exit code 3)" in refused.body
        assert "refused the credentials of user" in unescaped(refused.body)
        assert "the action's `registry-username` and `registry-password` inputs" in unescaped(refused.body)


def test_two_registries_one_by_the_inputs_one_by_a_docker_config_in_the_workspace_as_documented(
    github_pull_request: PullRequestScenario,
    scan_inputs: dict[str, str],
    trivy_bin: Path,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
) -> None:
    # docs/github-action.md ("Two registries"): the image's registry through the inputs, the
    # private base's through a `docker login` into a config in the workspace that the gate
    # step's env: DOCKER_CONFIG names (written here as `docker login` writes it).
    guide = (PROJECT_ROOT / "docs" / "github-action.md").read_text(encoding="utf-8")
    section = guide.split("**Two registries.**", 1)[1].split("\n### ", 1)[0]
    steps = load_yaml_text(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    [gate] = [step for step in steps if step.get("id") == "gate"]
    assert set(gate["with"]) == {"image", "check-base", "registry", "registry-username", "registry-password"}
    named = gate["env"]["DOCKER_CONFIG"]
    assert named.startswith("/github/workspace/")
    [login] = [step for step in steps if "docker login" in step.get("run", "")]
    assert f"DOCKER_CONFIG={named.removeprefix('/github/workspace/')} " in login["run"]

    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nbase_image: {on_stale: fail}\n", encoding="utf-8")  # unchecked: an error
    with base_behind_auth(engineless_archives.base) as registries:
        base = f"{registries.bearer}/private/base:12"
        app = relabelled(
            engineless_archives.app, tmp_path / "app.tar", {"org.opencontainers.image.base.name": base}
        )
        Pusher(registries.open).image("private/app", "1", oci_image(*read_docker_archive(app)))
        inputs = {
            **scan_inputs,
            "image": f"{registries.basic}/private/app:1",
            "check-base": "true",
            "registry": registries.basic,
            "registry-username": registries.username,
            "registry-password": registries.password,
            "dockerfile": "",
            "base-image": f"docker-archive:{engineless_archives.base}",
            "policy": str(policy),
            "comment": "false",
        }
        env, workspace = runner_environment(
            github_pull_request, tmp_path, github_pull_request.token, **inputs
        )
        config = workspace / named.removeprefix("/github/workspace/")
        config.mkdir()
        auth = base64.b64encode(f"{registries.username}:{registries.password}".encode()).decode("ascii")
        (config / "config.json").write_text(json.dumps({"auths": {registries.bearer: {"auth": auth}}}))
        before = (config / "config.json").read_bytes()
        env = with_trivy(env, trivy_bin) | {"DOCKER_CONFIG": str(config)}

        done = run_action(env, workspace)

    assert done.returncode == 1, done.stderr  # read, scanned and checked: the findings decide
    decision = json.loads((workspace / "container-gate.json").read_text(encoding="utf-8"))
    assert decision["image"]["reference"] == f"{registries.basic}/private/app:1"
    assert decision["base_image"]["name"] == base
    assert decision["base_image"]["checked"] is True, decision["base_image"]
    assert (config / "config.json").read_bytes() == before  # only read
    assert "credential helpers" not in done.stdout + done.stderr


def test_a_registry_input_in_capitals_logs_the_scanner_in_too(
    github_pull_request: PullRequestScenario,
    scan_inputs: dict[str, str],
    trivy_bin: Path,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
) -> None:
    # Host names know no case, and the gate read the image with `registry: LOCALHOST:PORT`; Trivy
    # looked its login up as the image reference spells the registry, found none, and was refused.
    with base_behind_auth(engineless_archives.base) as registries:
        port = registries.basic.rpartition(":")[2]
        inputs = {
            **scan_inputs,
            "image": f"localhost:{port}/private/base:12",
            "dockerfile": "",
            "comment": "false",
            "registry": f"LOCALHOST:{port}",
            "registry-username": registries.username,
            "registry-password": registries.password,
        }
        env, workspace = runner_environment(
            github_pull_request, tmp_path, github_pull_request.token, **inputs
        )

        done = run_action(with_trivy(env, trivy_bin), workspace)

    assert done.returncode == 1, done.stderr  # read and scanned: the findings decide
    decision = json.loads((workspace / "container-gate.json").read_text(encoding="utf-8"))
    assert decision["verdict"] == "fail"
    assert "CVE-2023-4911" in blocking_ids(decision)
