"""The GitLab CI templates: valid YAML with the keys GitLab needs, inputs that cannot inject shell,
and exactly the script docs/gitlab-ci.md shows.

The script is also run for real by `sh`, with a stand-in `container-gate` that records its
arguments, and those arguments are parsed by the real command line: hostile values arrive as
single arguments in the right options, and nothing they contain is executed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from entrypoint import split_build_args
from gate import __version__
from gate.build_args import VARIABLE as BUILD_ARGS_VARIABLE
from gate.cli.options import options_from
from gate.cli.parser import build_parser
from gate.cli.scan_options import with_variable_build_args
from gate.image.base_check import locate_base
from gate.image.reference import parse_reference
from gate.image.registry_auth import docker_config_file, find_credentials
from gate.image.resolve import resolve_image
from gate.scanners.options import BaseCheckMode
from scripts.pin_action_image import parse_release, pin_component, pin_plain_template
from testbed.images import ArchiveImages
from tests.support.corpus import corpus_file
from tests.support.gitlab_templates import (
    COMPONENT,
    DOCS,
    INPUT,
    PIPELINES_OF_A_CHANGE,
    component,
    docs_example,
    interpolate,
    job_runs,
    runner_expanded,
)
from tests.support.registry_tools import (
    AuthRegistries,
    base_behind_auth,
)
from tests.support.repo_paths import PROJECT_ROOT

PLAIN = PROJECT_ROOT / "templates" / "container-gate.gitlab-ci.yml"
DOCS_SCRIPT_MARKER = "<!-- container-gate job script:"
EXPECTED_INPUTS = {
    "image",
    "policy",
    "scanner",
    "dockerfile",
    "base-image",
    "platform",
    "build-args",
    "advisory",
    "check-base",
    "cache-dir",
    "skip-db-update",
    "db-repository",
    "trivy-server",
    "max-db-age",
    "scan-timeout",
    "baseline-ref",
    "kev",
    "epss",
    "fetch-exploit-data",
    "verbose",
    "stage",
    "job-name",
    "gate-image",
}


def plain_job() -> dict[str, Any]:
    config = yaml.safe_load(PLAIN.read_text(encoding="utf-8"))
    assert list(config) == [".container-gate"], "one hidden job, to extend"
    job: dict[str, Any] = config[".container-gate"]
    return job


def docs_script() -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    assert text.count(DOCS_SCRIPT_MARKER) == 1
    after = text.split(DOCS_SCRIPT_MARKER, 1)[1]
    match = re.search(r"```sh\n(.*?)\n```", after, re.DOTALL)
    assert match is not None, "the marker must be followed by a ```sh block"
    return match.group(1).splitlines()


def strings(node: object) -> list[str]:
    """Every key and string value in a YAML document."""
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*strings(key), *strings(value))]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return [node] if isinstance(node, str) else []


def test_the_component_declares_the_expected_inputs_with_descriptions() -> None:
    inputs, name, _job = component()
    assert set(inputs) == EXPECTED_INPUTS
    assert name == "$[[ inputs.job-name ]]"
    for key, spec in inputs.items():
        assert spec.get("description"), f"input {key} has no description"
    assert "default" not in inputs["image"], "the image to gate is required"
    assert inputs["scanner"]["options"] == ["trivy", "grype", "both"]
    assert inputs["advisory"] == {**inputs["advisory"], "type": "boolean", "default": False}
    assert inputs["skip-db-update"] == {**inputs["skip-db-update"], "type": "boolean", "default": False}


def test_every_input_is_used_and_only_declared_ones() -> None:
    inputs, name, job = component()
    used = {m for s in strings({name: job}) for m in INPUT.findall(s)}
    assert used == set(inputs)


def test_no_input_reaches_the_script() -> None:
    _inputs, _name, job = component()
    assert not [line for line in job["script"] if "$[[" in line]
    # Inputs go into variables (or into keys GitLab reads itself: stage, image, cache).
    for value in job["variables"].values():
        assert INPUT.fullmatch(value) or not INPUT.search(value)


def expansions(line: str) -> list[tuple[int, str]]:
    """Each `$` of a shell line that the shell expands, with its quoting: `"` inside double quotes,
    "" outside any quotes (a `$` inside single quotes is literal and left out)."""
    found, quote, index = [], "", 0
    while index < len(line):
        char = line[index]
        if char == "\\" and quote != "'":
            index += 2
            continue
        if char in "'\"" and quote in ("", char):
            quote = "" if quote == char else char
        elif char == "$" and quote != "'":
            found.append((index, quote))
        index += 1
    return found


@pytest.mark.parametrize("which", ["component", "plain"])
def test_the_script_only_expands_quoted_variables(which: str) -> None:
    job = component()[2] if which == "component" else plain_job()
    for line in job["script"]:
        for index, quote in expansions(line):
            assert quote == '"', f"unquoted expansion at {index} in: {line}"
            # "$NAME" or "$NAME/more" or "$@", never ${...}, $(...) or $'...'.
            assert re.match(r'\$(@"|[A-Z][A-Z0-9_]*\b)', line[index:]), f"not a plain variable: {line}"
        assert "`" not in line
        assert "eval" not in line.split()


def test_the_quoting_check_catches_unquoted_expansions() -> None:
    assert [q for _i, q in expansions('a "$X" $Y "b"$Z \'$W\' \\$V')] == ['"', "", ""]


def test_both_templates_run_the_script_the_docs_show() -> None:
    shown = docs_script()
    assert component()[2]["script"] == shown
    assert plain_job()["script"] == shown


@pytest.mark.parametrize("which", ["component", "plain"])
def test_reports_artifacts_and_cache(which: str) -> None:
    job = component()[2] if which == "component" else plain_job()
    command = job["script"][-1]
    flags = dict(re.findall(r"--(gitlab|junit|json|markdown)=(\S+)", command))
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"] == {"container_scanning": flags["gitlab"], "junit": flags["junit"]}
    assert flags["gitlab"] == "gl-container-scanning-report.json"
    assert {flags["json"], flags["markdown"]} <= set(artifacts["paths"])
    cache = job["cache"]
    assert cache["when"] == "always"
    assert cache["key"]
    if which == "component":
        assert cache["paths"] == ["$[[ inputs.cache-dir ]]"]
        assert job["variables"]["CONTAINER_GATE_CACHE_DIR"] == "$[[ inputs.cache-dir ]]"
    else:
        assert cache["paths"] == ["$CONTAINER_GATE_CACHE_DIR"]
    assert job["image"]["entrypoint"] == [""]


@pytest.mark.parametrize("which", ["component", "plain"])
def test_the_cache_saves_the_directory_the_scan_uses_one_cache_per_scanner(which: str) -> None:
    # The plain template saved `.cache/container-gate` whatever CONTAINER_GATE_CACHE_DIR said: a
    # job that set it downloaded the DB on every pipeline, and one with skip-db-update lost its DB.
    setting = {"scanner": "grype", "cache-dir": "ci/scanner-db"}
    if which == "component":
        inputs, _name, job = component()
        values = {key: spec.get("default") for key, spec in inputs.items()} | setting
        job = interpolate(job, values | {"image": "reg.example/app:1"})
        variables = job["variables"]
    else:
        job = plain_job()
        variables = job["variables"] | {
            "CONTAINER_GATE_SCANNER": setting["scanner"],
            "CONTAINER_GATE_CACHE_DIR": setting["cache-dir"],
        }
    cache = job["cache"]
    assert [runner_expanded(path, variables) for path in cache["paths"]] == ["ci/scanner-db"]
    assert runner_expanded(cache["key"], variables) == "container-gate-db-grype"
    assert '--cache-dir="$CONTAINER_GATE_CACHE_DIR"' in job["script"][2]


def test_both_templates_set_every_variable_the_script_reads() -> None:
    read = {v for line in docs_script() for v in re.findall(r"\$(CONTAINER_GATE_[A-Z_]+)", line)}
    assert read
    assert BUILD_ARGS_VARIABLE not in read  # read by the gate itself, from the job's environment
    read.add(BUILD_ARGS_VARIABLE)
    assert read == {k for k in component()[2]["variables"] if k.startswith("CONTAINER_GATE_")}
    assert read == {k for k in plain_job()["variables"] if k.startswith("CONTAINER_GATE_")}


# The image the release workflow publishes, by the version's tag (main), and on the commit a
# release tag names also by its digest (scripts/pin_action_image.py).
PUBLISHED_IMAGE = re.compile(
    rf"ghcr\.io/(?P<owner>[a-z0-9-]+)/container-gate:{re.escape(__version__)}(?P<digest>@sha256:[0-9a-f]{{64}})?"
)


def test_the_default_gate_image_is_the_one_the_release_publishes() -> None:
    inputs, _name, _job = component()
    default = inputs["gate-image"]["default"]
    assert PUBLISHED_IMAGE.fullmatch(default), default
    assert plain_job()["image"]["name"] == default
    release = (PROJECT_ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    assert 'image="ghcr.io/${OWNER,,}/$IMAGE_NAME"' in release
    assert "IMAGE_NAME: container-gate\n" in release
    assert 'docker buildx imagetools create --tag "$image:$VERSION"' in release


def docs_input_rows() -> list[tuple[str, str, str]]:
    """The rows of the docs' table of component inputs: (input, default, what it does)."""
    text = DOCS.read_text(encoding="utf-8").split("## Component inputs", 1)[1]
    rows = re.findall(r"^\| `([a-z-]+)` \| (.*?) \| (.*) \|$", text.split("\n\n| Input |", 1)[-1], re.M)
    return [(name, default, does) for name, default, does in rows]


def as_yaml(value: object) -> str:
    """How a value is written in `inputs:` so that YAML reads it back as that value."""
    written = yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()
    return '""' if written == "''" else written.replace("'", '"')


def test_the_docs_list_every_input_with_its_default_as_yaml_reads_it() -> None:
    # A string input whose options look like booleans must be written quoted: GitLab refuses
    # `check-base: true` ("`check-base` input: provided value is not a string"), and the table
    # showed it unquoted.
    inputs, _name, _job = component()
    rows = docs_input_rows()
    assert [name for name, _default, _does in rows] == list(inputs)
    for name, default, does in rows:
        spec = inputs[name]
        shown = re.match(r"`([^`]*)`", default)
        if shown is not None and "default" in spec:
            assert shown[1] == as_yaml(spec["default"]), name
        for option in spec.get("options", []):
            if spec.get("type", "string") == "string" and not isinstance(yaml.safe_load(str(option)), str):
                assert f"`{as_yaml(option)}`" in default + does, (name, option)


def test_the_docs_name_the_default_gate_image() -> None:
    inputs, _name, _job = component()
    match = PUBLISHED_IMAGE.fullmatch(inputs["gate-image"]["default"])
    assert match is not None
    docs = DOCS.read_text(encoding="utf-8")
    on_main = f"ghcr.io/{match['owner']}/container-gate:{__version__}"
    assert f"| `gate-image` | `{on_main}`" in docs
    assert "not published yet" not in docs
    # The includes name a release tag, where the default gate image is pinned by digest.
    assert f"/container-gate/container-gate@v{__version__}\n" in docs
    assert f"/-/raw/v{__version__}/templates/container-gate.gitlab-ci.yml\n" in docs


@pytest.mark.parametrize("which", ["component", "plain"])
def test_a_release_commit_names_the_image_by_version_and_digest(which: str) -> None:
    release = parse_release("ghcr.io/acme/container-gate", __version__, "sha256:" + "0123456789abcdef" * 4)
    if which == "component":
        pinned = pin_component(COMPONENT.read_text(encoding="utf-8"), release)
        header, config = yaml.safe_load_all(pinned)
        default = header["spec"]["inputs"]["gate-image"]["default"]
        [job] = config.values()
        assert job["image"]["name"] == "$[[ inputs.gate-image ]]"
    else:
        pinned = pin_plain_template(PLAIN.read_text(encoding="utf-8"), release)
        default = yaml.safe_load(pinned)[".container-gate"]["image"]["name"]
    match = PUBLISHED_IMAGE.fullmatch(default)
    assert match is not None
    assert (match["owner"], match["digest"]) == ("acme", "@sha256:" + "0123456789abcdef" * 4)


def test_input_regexes_accept_the_defaults_and_refuse_paths_outside_the_project() -> None:
    inputs, _name, _job = component()
    for key, spec in inputs.items():
        if "regex" in spec:
            assert re.fullmatch(spec["regex"], str(spec["default"])), key
    cache_dir = inputs["cache-dir"]["regex"]
    for good in (".cache/container-gate", "ci/trivy-db", "a_b/.c-d/e.f"):
        assert re.fullmatch(cache_dir, good), good
    for bad in ("/var/cache", "../cache", "a/../../b", "..", "$HOME/x", "a b", ""):
        assert not re.fullmatch(cache_dir, bad), bad
    assert not re.fullmatch(inputs["max-db-age"]["regex"], "5d; rm -rf /")


def run_script(tmp_path: Path, env: dict[str, str], **kwargs: Any) -> Any:
    """Run the job's script with `sh`, a stand-in `container-gate` recording its argv (and, with
    `show_docker_config`, the Docker config it was given); returns the argv (and that record)."""
    show = bool(kwargs.get("show_docker_config"))
    exit_code = int(kwargs.get("exit_code", 0))
    sh = shutil.which("sh")
    assert sh is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stand_in = bin_dir / "container-gate"
    stand_in.write_text(
        f"#!{sys.executable}\nimport json, os, stat, sys\n"
        "json.dump(sys.argv[1:], open(os.environ['ARGV_OUT'], 'w'))\n"
        "d = os.environ.get('DOCKER_CONFIG', '')\n"
        "f = os.path.join(d, 'config.json')\n"
        "json.dump({'dir': d, 'dir_mode': stat.S_IMODE(os.stat(d).st_mode) if d else None,\n"
        "           'file_mode': stat.S_IMODE(os.stat(f).st_mode) if os.path.exists(f) else None,\n"
        "           'config': open(f).read() if os.path.exists(f) else None},\n"
        "          open(os.environ['ARGV_OUT'] + '.docker', 'w'))\n"
        # The gate's environment, and its whole command line as `ps` shows it.
        "cmdline = '/proc/self/cmdline'\n"
        "json.dump({'env': dict(os.environ),\n"
        "           'cmdline': open(cmdline, 'rb').read().decode() if os.path.exists(cmdline) else None},\n"
        "          open(os.environ['ARGV_OUT'] + '.env', 'w'))\n"
        f"sys.exit({exit_code})\n",
        encoding="utf-8",
    )
    stand_in.chmod(0o755)
    out = tmp_path / "argv.json"
    script = "\n".join(component()[2]["script"])
    subprocess.run(
        [sh, "-e", "-c", script],
        cwd=tmp_path,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "ARGV_OUT": str(out), **env},
        check=True,
        timeout=30,
    )
    argv: list[str] = json.loads(out.read_text(encoding="utf-8"))
    if kwargs.get("show_process"):
        return argv, json.loads(Path(f"{out}.env").read_text(encoding="utf-8"))
    if show:
        return argv, json.loads(Path(f"{out}.docker").read_text(encoding="utf-8"))
    return argv


def test_the_component_with_its_defaults_runs_the_plain_scan(tmp_path: Path) -> None:
    inputs, _name, job = component()
    values = {key: spec.get("default") for key, spec in inputs.items()} | {"image": "reg.example/app:1"}
    variables = interpolate(job["variables"], values)
    env = {k: v for k, v in variables.items() if k.startswith("CONTAINER_GATE_")}
    argv = run_script(tmp_path, env)
    assert argv == [
        "scan",
        "--scanner=trivy",
        "--cache-dir=.cache/container-gate",
        "--max-db-age=5d",
        "--gitlab=gl-container-scanning-report.json",
        "--junit=container-gate-junit.xml",
        "--json=container-gate.json",
        "--markdown=container-gate.md",
        "--",
        "reg.example/app:1",
    ]
    args = build_parser().parse_args(argv)
    assert (args.image, args.policy, args.advisory, args.skip_db_update) == (
        "reg.example/app:1",
        None,
        False,
        False,
    )


def test_hostile_values_stay_single_arguments_and_never_run(tmp_path: Path) -> None:
    inputs, _name, job = component()
    canary = tmp_path / "pwned"
    hostile = {
        "image": f'--policy=/etc/passwd"; touch {canary}; echo "',
        "policy": f"$(touch {canary}) policy.yaml",
        "dockerfile": f"`touch {canary}`/Dockerfile",
        "base-image": f"debian:12; touch {canary}",
        "db-repository": f"mirror.example/db; touch {canary}",
        "trivy-server": f"http://x' && touch {canary} && '",
        "scanner": "grype",
        "advisory": True,
        "skip-db-update": True,
        "cache-dir": "ci/db",
        "max-db-age": "36h",
    }
    values = {key: spec.get("default") for key, spec in inputs.items()} | hostile
    env = {k: v for k, v in interpolate(job["variables"], values).items() if k.startswith("CONTAINER_GATE_")}
    argv = run_script(tmp_path, env)
    assert not canary.exists()
    assert argv[-2:] == ["--", hostile["image"]]
    args = build_parser().parse_args(argv)
    assert args.image == hostile["image"]
    assert str(args.policy) == hostile["policy"]
    assert str(args.dockerfile) == hostile["dockerfile"]
    assert args.base_image == hostile["base-image"]
    assert args.db_repository == [hostile["db-repository"]]
    assert args.trivy_server == hostile["trivy-server"]
    assert (args.scanner, args.advisory, args.skip_db_update) == ("grype", True, True)
    assert str(args.cache_dir) == "ci/db"


def test_platform_and_scan_timeout_reach_the_gate_only_when_set(tmp_path: Path) -> None:
    # The templates had no input for either: a multi-platform image could be scanned only for the
    # runner's platform, and a slow scan only within 600 seconds.
    inputs, _name, job = component()
    assert inputs["platform"]["default"] == inputs["scan-timeout"]["default"] == ""
    values = {key: spec.get("default") for key, spec in inputs.items()} | {"image": "reg.example/app:1"}
    set_both = values | {"platform": "linux/arm/v7", "scan-timeout": "1200"}
    for which in ("component", "plain"):
        if which == "component":
            env = {
                k: v
                for k, v in interpolate(job["variables"], set_both).items()
                if k.startswith("CONTAINER_GATE_")
            }
        else:
            # The plain template's variables as a job that extends it sets them (its script is
            # the component's, line for line).
            env = {k: v for k, v in plain_job()["variables"].items() if k.startswith("CONTAINER_GATE_")}
            env |= {"CONTAINER_GATE_IMAGE": "reg.example/app:1"}
            env |= {"CONTAINER_GATE_PLATFORM": "linux/arm/v7", "CONTAINER_GATE_SCAN_TIMEOUT": "1200"}
        argv = run_script(tmp_path, env)
        assert argv.index("--platform=linux/arm/v7") < argv.index("--"), which
        assert argv.index("--scan-timeout=1200") < argv.index("--"), which
        args = build_parser().parse_args(argv)
        assert (args.platform, args.scan_timeout) == ("linux/arm/v7", 1200.0)
    # Empty: neither is passed, and the command line's defaults apply.
    env = {k: v for k, v in interpolate(job["variables"], values).items() if k.startswith("CONTAINER_GATE_")}
    assert (env["CONTAINER_GATE_PLATFORM"], env["CONTAINER_GATE_SCAN_TIMEOUT"]) == ("", "")
    argv = run_script(tmp_path, env)
    assert not [arg for arg in argv if arg.startswith(("--platform", "--scan-timeout"))]
    assert (
        plain_job()["variables"]["CONTAINER_GATE_PLATFORM"],
        plain_job()["variables"]["CONTAINER_GATE_SCAN_TIMEOUT"],
    ) == ("", "")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("platform", "linux/amd64; touch {canary}"),
        ("platform", "$(touch {canary})"),
        ("scan-timeout", "`touch {canary}`"),
        ("scan-timeout", "600 --policy=/etc/passwd"),
    ],
)
def test_a_hostile_platform_or_scan_timeout_stays_one_argument_that_the_gate_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    inputs, _name, job = component()
    canary = tmp_path / "pwned"
    hostile = value.format(canary=canary)
    values = {key: spec.get("default") for key, spec in inputs.items()} | {"image": "reg.example/app:1"}
    env = {
        k: v
        for k, v in interpolate(job["variables"], values | {name: hostile}).items()
        if k.startswith("CONTAINER_GATE_")
    }
    argv = run_script(tmp_path, env)
    assert not canary.exists()
    assert f"--{name}={hostile}" in argv
    assert argv[-2:] == ["--", "reg.example/app:1"]
    # The gate's command line refuses it (exit 2), as it refuses `--max-db-age` of the plain template.
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(argv)
    assert refused.value.code == 2
    assert f"--{name}: expected " in capsys.readouterr().err


def build_args_the_gate_reads(argv: list[str], env: dict[str, str]) -> list[tuple[str, str]]:
    """The build arguments `container-gate` run with `argv` and `env` scans with."""
    options = options_from(build_parser().parse_args(argv), env, dt.datetime.now(dt.UTC))
    assert options.scan is not None
    return list(with_variable_build_args(options.scan).build_args)


def test_verbose_makes_the_gate_say_why_a_branch_pipeline_has_no_note(tmp_path: Path) -> None:
    # The docs said "`--verbose` says why" to users of the templates, which passed no --verbose.
    inputs, _name, job = component()
    values = {key: spec.get("default") for key, spec in inputs.items()} | {"image": "reg.example/app:1"}
    assert inputs["verbose"] == {**inputs["verbose"], "type": "boolean", "default": False}
    for verbose in (False, True):
        env = {
            k: v
            for k, v in interpolate(job["variables"], values | {"verbose": verbose}).items()
            if k.startswith("CONTAINER_GATE_")
        }
        argv = run_script(tmp_path, env)
        assert build_parser().parse_args(argv).verbose is verbose
    # What the gate run with those arguments says in a branch pipeline.
    report = corpus_file("trivy", "debian-buster.json.golden")
    branch = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"}
    done = subprocess.run(
        [sys.executable, "-m", "gate", "check", str(report), "--ci", "gitlab", "--verbose"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT), **branch},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert (
        "container-gate: gitlab: no merge-request note: this is not a merge-request pipeline" in done.stderr
    )


def test_build_args_reach_the_gate_in_its_environment_never_run_and_never_on_its_command_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    inputs, _name, job = component()
    canary = tmp_path / "pwned"
    secret = "npm_TemplateBuildArgSecret01"  # noqa: S105 (no service accepts it)
    note = f"$(touch {canary}) `touch {canary}` 'a b' \"c\" * ; touch {canary}"
    build_args = f"\n  BASE=python:3.12-slim  \n\nNPM_TOKEN={secret}\nNOTE={note}\nEMPTY=\n"
    values = {key: spec.get("default") for key, spec in inputs.items()}
    values |= {"image": "reg.example/app:1", "dockerfile": "Dockerfile", "build-args": build_args}
    env = {k: v for k, v in interpolate(job["variables"], values).items() if k.startswith("CONTAINER_GATE_")}
    (tmp_path / "star-bait").touch()  # an unquoted `*` would turn into this name
    argv, process = run_script(tmp_path, env, show_process=True)
    assert not canary.exists()
    # The values are not on the gate's command line (`ps` shows it to anyone on the runner host):
    # the gate reads the variable, passed through as the job has it, itself.
    assert not [arg for arg in argv if arg.startswith("--build-arg")]
    assert secret not in " ".join(argv)
    if process["cmdline"] is not None:
        assert secret not in process["cmdline"]
    assert process["env"]["CONTAINER_GATE_BUILD_ARGS"] == build_args
    assert build_args_the_gate_reads(argv, process["env"]) == [
        ("BASE", "python:3.12-slim"),
        ("NPM_TOKEN", secret),
        ("NOTE", note),
        ("EMPTY", ""),
    ]
    assert str(build_parser().parse_args(argv).dockerfile) == "Dockerfile"
    captured = capfd.readouterr()
    assert secret not in captured.out + captured.err
    # No file is written for them.
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "argv.json",
        "argv.json.docker",
        "argv.json.env",
        "bin",
        "star-bait",
    ]
    # None given: none read.
    values |= {"build-args": ""}
    env = {k: v for k, v in interpolate(job["variables"], values).items() if k.startswith("CONTAINER_GATE_")}
    argv, process = run_script(tmp_path, env, show_process=True)
    assert not [arg for arg in argv if arg.startswith("--build-arg")]
    assert build_args_the_gate_reads(argv, process["env"]) == []


def test_build_args_with_windows_line_endings_are_read_as_the_action_reads_them(tmp_path: Path) -> None:
    # A variable typed into a web form (the project's CI/CD variables) may end its lines with CR LF.
    inputs, _name, job = component()
    build_args = "BASE=python:3.12-slim\r\n \r\nPIP_INDEX_URL=https://pypi.example/simple  \r\n"
    values = {key: spec.get("default") for key, spec in inputs.items()}
    values |= {"image": "reg.example/app:1", "dockerfile": "Dockerfile", "build-args": build_args}
    env = {k: v for k, v in interpolate(job["variables"], values).items() if k.startswith("CONTAINER_GATE_")}
    argv, process = run_script(tmp_path, env, show_process=True)
    given = build_args_the_gate_reads(argv, process["env"])
    assert given == [("BASE", "python:3.12-slim"), ("PIP_INDEX_URL", "https://pypi.example/simple")]
    assert [f"{name}={value}" for name, value in given] == split_build_args("build-args", build_args)


def test_the_job_logs_in_with_a_private_docker_config_it_removes_and_never_touches_home(
    tmp_path: Path,
) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir(mode=0o755)
    project.mkdir()
    registry = {
        "HOME": str(home),
        "CI_PROJECT_DIR": str(project),
        "CI_REGISTRY": "registry.example.com",
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "glcbt-64_abcdef",
    }
    env = {"CONTAINER_GATE_IMAGE": "registry.example.com/acme/web:1", **registry}
    # The stand-in gate records what it found in DOCKER_CONFIG while it ran.
    argv, seen = run_script(tmp_path, env, show_docker_config=True)
    assert seen["dir"] == str(project / ".container-gate-docker")
    assert (seen["dir_mode"], seen["file_mode"]) == (0o700, 0o600)
    login = {"username": "gitlab-ci-token", "password": "glcbt-64_abcdef"}
    assert json.loads(seen["config"]) == {
        "auths": {"registry.example.com": login, "registry.example.com:443": login}
    }
    assert not any("glcbt-64_abcdef" in arg for arg in argv)  # it reaches the gate through the file only
    assert not (project / ".container-gate-docker").exists()  # removed when the script ended
    assert list(home.iterdir()) == []  # $HOME is never written

    # Removed when the gate fails too, and a leftover of a cancelled job is replaced.
    (project / ".container-gate-docker").mkdir()
    (project / ".container-gate-docker" / "config.json").write_text('{"auths": {"old": {}}}')
    with pytest.raises(subprocess.CalledProcessError):
        run_script(tmp_path, env, show_docker_config=True, exit_code=1)
    assert not (project / ".container-gate-docker").exists()


# What GitLab gives a job for its group's Dependency Proxy (doc/user/packages/dependency_proxy):
# the server includes the port, as the image prefix does, so the two name one registry.
PROXY = {
    "CI_DEPENDENCY_PROXY_SERVER": "gitlab.example.com:443",
    "CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX": "gitlab.example.com:443/acme/dependency_proxy/containers",
    "CI_DEPENDENCY_PROXY_USER": "gitlab-ci-token",
    "CI_DEPENDENCY_PROXY_PASSWORD": "glcbt-64_proxy0123",
}


def test_the_job_logs_in_to_the_groups_dependency_proxy_too(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # A base image pulled through the Dependency Proxy ($CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/
    # debian:12) is read by the base image check with the job's Docker config, which held only
    # the project registry's login: the check was refused.
    registry = {
        "CI_PROJECT_DIR": str(tmp_path),
        "CI_REGISTRY": "registry.example.com",
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "glcbt-64_abcdef",
    }
    env = {"CONTAINER_GATE_IMAGE": "registry.example.com/acme/web:1", "CONTAINER_GATE_CHECK_BASE": "true"}
    argv, seen = run_script(tmp_path, {**env, **registry, **PROXY}, show_docker_config=True)
    config = json.loads(seen["config"])
    ours = {"username": "gitlab-ci-token", "password": "glcbt-64_abcdef"}
    proxy = {"username": "gitlab-ci-token", "password": "glcbt-64_proxy0123"}
    assert config == {
        "auths": {
            "registry.example.com": ours,
            "registry.example.com:443": ours,
            "gitlab.example.com:443": proxy,
            "gitlab.example.com": proxy,
        }
    }
    # The gate finds the proxy's login for a base image named with the prefix.
    written = tmp_path / "written-config.json"
    written.write_text(seen["config"], encoding="utf-8")
    base = parse_reference(PROXY["CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX"] + "/debian:12")
    found = find_credentials(base.registry, written, {})
    assert found is not None
    assert (found.username, found.secret) == ("gitlab-ci-token", "glcbt-64_proxy0123")
    # Never printed, never on the gate's command line.
    captured = capfd.readouterr()
    for secret in ("glcbt-64_proxy0123", "glcbt-64_abcdef"):
        assert secret not in captured.out + captured.err
        assert not any(secret in arg for arg in argv)
    assert not (tmp_path / ".container-gate-docker").exists()

    # The proxy without a project registry (the container registry turned off), and a proxy
    # served by the registry's own host and port: one login each (under both spellings), in a
    # config that is JSON.
    _, seen = run_script(tmp_path, {**env, **PROXY, "CI_PROJECT_DIR": str(tmp_path)}, show_docker_config=True)
    assert list(json.loads(seen["config"])["auths"]) == ["gitlab.example.com:443", "gitlab.example.com"]
    same = {**registry, **PROXY, "CI_REGISTRY": "gitlab.example.com:443"}
    _, seen = run_script(tmp_path, {**env, **same}, show_docker_config=True)
    assert json.loads(seen["config"])["auths"] == {"gitlab.example.com:443": ours, "gitlab.example.com": ours}
    # Without either, no config is written.
    _, seen = run_script(tmp_path, {**env, "CI_PROJECT_DIR": str(tmp_path)}, show_docker_config=True)
    assert seen["dir"] == ""


def test_the_job_logs_in_under_both_spellings_of_a_registry_at_the_default_port(tmp_path: Path) -> None:
    # The job wrote each login under the registry as GitLab spells it: the Dependency Proxy's
    # `gitlab.example.com:443`, the registry's `registry.example.com`. Docker and the scanners look
    # a login up by the registry as the reference writes it, so `gitlab.example.com/acme/
    # dependency_proxy/containers/debian:12`, or `registry.example.com:443/acme/web:1`, was read
    # without one and refused.
    registry = {
        "CI_PROJECT_DIR": str(tmp_path),
        "CI_REGISTRY": "registry.example.com",
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "glcbt-64_abcdef",
    }
    env = {"CONTAINER_GATE_IMAGE": "registry.example.com:443/acme/web:1"}

    def found(config: dict[str, str], image: str) -> tuple[str, str] | None:
        written = tmp_path / "written-config.json"
        written.write_text(config["config"], encoding="utf-8")
        credentials = find_credentials(parse_reference(image).registry, written, {})
        return None if credentials is None else (credentials.username, credentials.secret)

    _, seen = run_script(tmp_path, {**env, **registry, **PROXY}, show_docker_config=True)
    ours = ("gitlab-ci-token", "glcbt-64_abcdef")
    proxy = ("gitlab-ci-token", "glcbt-64_proxy0123")
    for image, login in (
        ("registry.example.com/acme/web:1", ours),
        ("registry.example.com:443/acme/web:1", ours),
        ("gitlab.example.com:443/acme/dependency_proxy/containers/debian:12", proxy),
        ("gitlab.example.com/acme/dependency_proxy/containers/debian:12", proxy),
    ):
        assert found(seen, image) == login, image
    assert list(json.loads(seen["config"])["auths"]) == [
        "registry.example.com",
        "registry.example.com:443",
        "gitlab.example.com:443",
        "gitlab.example.com",
    ]
    # Another port is another registry: one key. So is an address that is not a host name.
    for server in ("gitlab.example.com:5050", "[2001:db8::1]:443", "[2001:db8::1]"):
        _, seen = run_script(tmp_path, {**env, **registry, "CI_REGISTRY": server}, show_docker_config=True)
        assert list(json.loads(seen["config"])["auths"]) == [server]
    # A proxy served by the registry's host, spelt either way: the registry's login, each key once.
    for server in ("gitlab.example.com", "gitlab.example.com:443"):
        _, seen = run_script(
            tmp_path, {**env, **registry, **PROXY, "CI_REGISTRY": server}, show_docker_config=True
        )
        auths = json.loads(seen["config"])["auths"]
        assert sorted(auths) == ["gitlab.example.com", "gitlab.example.com:443"]
        assert seen["config"].count('"gitlab.example.com"') == 1  # no key twice in the file
        assert found(seen, "gitlab.example.com/acme/web:1") == ours
        assert found(seen, "gitlab.example.com:443/acme/web:1") == ours


def test_the_docs_example_of_a_base_behind_the_dependency_proxy_checks_it_with_the_proxys_login(
    tmp_path: Path,
) -> None:
    [include] = yaml.safe_load(docs_example("the Dependency Proxy"))["include"]
    inputs, _name, job = component()
    values = {key: spec.get("default") for key, spec in inputs.items()} | include["inputs"]
    pipeline = {
        "CI_PROJECT_DIR": str(tmp_path),
        "CI_REGISTRY": "registry.example.com",
        "CI_REGISTRY_IMAGE": "registry.example.com/acme/web",
        "CI_COMMIT_SHA": "0123abcd" * 5,
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "glcbt-64_abcdef",
        **PROXY,
    }
    # The runner expands the variables the job's `variables:` name.
    env = {
        key: runner_expanded(value, pipeline)
        for key, value in interpolate(job["variables"], values).items()
        if key.startswith("CONTAINER_GATE_")
    }
    argv = run_script(tmp_path, {**pipeline, **env})
    args = build_parser().parse_args(argv)
    assert args.check_base is BaseCheckMode.REQUIRED
    base = args.base_image
    assert base == "gitlab.example.com:443/acme/dependency_proxy/containers/debian:12"
    _, seen = run_script(tmp_path, {**pipeline, **env}, show_docker_config=True)
    written = tmp_path / "written-config.json"
    written.write_text(seen["config"], encoding="utf-8")
    found = find_credentials(parse_reference(base).registry, written, {})
    assert found is not None
    assert found.secret == PROXY["CI_DEPENDENCY_PROXY_PASSWORD"]


@pytest.fixture(scope="module")
def proxied_base(engineless_archives: ArchiveImages) -> Iterator[AuthRegistries]:
    """The test bed's base image as `private/base:12` in a registry behind token authentication,
    standing for the Dependency Proxy."""
    with base_behind_auth(engineless_archives.base) as registries:
        yield registries


def test_the_base_image_check_reads_a_base_behind_the_dependency_proxy_with_the_jobs_config(
    proxied_base: AuthRegistries, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    proxy = {
        "CI_DEPENDENCY_PROXY_SERVER": proxied_base.bearer,
        "CI_DEPENDENCY_PROXY_USER": proxied_base.username,
        "CI_DEPENDENCY_PROXY_PASSWORD": proxied_base.password,
    }
    env = {
        "CONTAINER_GATE_IMAGE": "registry.example.com/acme/web:1",
        "CI_PROJECT_DIR": str(tmp_path),
        "CI_REGISTRY": "registry.example.com",
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "glcbt-64_abcdef",
        **proxy,
    }
    _, seen = run_script(tmp_path, env, show_docker_config=True)
    # The config as the gate had it while it ran (the job removes it when the script ends).
    docker_config = tmp_path / "as-the-gate-had-it"
    docker_config.mkdir()
    (docker_config / "config.json").write_text(seen["config"], encoding="utf-8")
    environ = {"DOCKER_CONFIG": str(docker_config)}
    info = resolve_image(f"docker-archive:{engineless_archives.app}", environ={}).info
    info = replace(info, base_image=f"{proxied_base.bearer}/private/base:12")
    located = locate_base(
        info, lambda registry: find_credentials(registry, docker_config_file(environ), environ), 30
    )
    assert located.name == f"{proxied_base.bearer}/private/base:12"
    assert located.used == located.current


def test_a_docker_config_the_job_names_is_left_alone(tmp_path: Path) -> None:
    own = tmp_path / "own-docker"
    own.mkdir()
    (own / "config.json").write_text('{"credsStore": "ecr-login"}', encoding="utf-8")
    env = {
        "CONTAINER_GATE_IMAGE": "registry.example.com/acme/web:1",
        "CI_PROJECT_DIR": str(tmp_path),
        "CI_REGISTRY": "registry.example.com",
        "CI_REGISTRY_PASSWORD": "glcbt-64_abcdef",
        "DOCKER_CONFIG": str(own),
    }
    _, seen = run_script(tmp_path, env, show_docker_config=True)
    assert seen["dir"] == str(own)
    assert json.loads((own / "config.json").read_text()) == {"credsStore": "ecr-login"}
    assert not (tmp_path / ".container-gate-docker").exists()


def test_fetch_exploit_data_fetches_into_the_cache_and_gates_with_what_is_there(tmp_path: Path) -> None:
    inputs, _name, job = component()
    values = {key: spec.get("default") for key, spec in inputs.items()}
    values |= {"image": "reg.example/app:1", "fetch-exploit-data": True, "cache-dir": "ci/db"}
    env = {k: v for k, v in interpolate(job["variables"], values).items() if k.startswith("CONTAINER_GATE_")}
    # What an earlier pipeline's fetch left in the cache (the stand-in does not download).
    data = tmp_path / "ci" / "db" / "exploit-data"
    data.mkdir(parents=True)
    (data / "kev.json").write_text("{}", encoding="utf-8")
    (data / "epss.csv.gz").write_bytes(b"")
    argv = run_script(tmp_path, env)
    assert "--kev=ci/db/exploit-data/kev.json" in argv
    assert "--epss=ci/db/exploit-data/epss.csv.gz" in argv
    args = build_parser().parse_args(argv)
    assert (str(args.kev), str(args.epss)) == (
        "ci/db/exploit-data/kev.json",
        "ci/db/exploit-data/epss.csv.gz",
    )
    # Files given as inputs win over the fetched ones, and nothing is fetched when not asked for.
    values |= {"kev": "data/kev.json", "fetch-exploit-data": False}
    env = {k: v for k, v in interpolate(job["variables"], values).items() if k.startswith("CONTAINER_GATE_")}
    argv = run_script(tmp_path, env)
    assert [arg for arg in argv if arg.startswith(("--kev", "--epss"))] == ["--kev=data/kev.json"]


def test_fetch_exploit_data_with_nothing_in_the_cache_stops_the_gate_rather_than_pass(tmp_path: Path) -> None:
    # A first fetch that failed (CISA unreachable) left no file: the gate ran without --kev, and a
    # policy with `known_exploited: true` only warned that the rule could not be applied.
    inputs, _name, job = component()
    values = {key: spec.get("default") for key, spec in inputs.items()}
    values |= {"image": "reg.example/app:1", "fetch-exploit-data": True, "cache-dir": "ci/db"}
    env = {k: v for k, v in interpolate(job["variables"], values).items() if k.startswith("CONTAINER_GATE_")}
    argv = run_script(tmp_path, env)
    assert [arg for arg in argv if arg.startswith(("--kev", "--epss"))] == [
        "--kev=ci/db/exploit-data/kev.json",
        "--epss=ci/db/exploit-data/epss.csv.gz",
    ]
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfail_on: {severity: CRITICAL, known_exploited: true}\n", encoding="utf-8")
    report = corpus_file("trivy", "spring4shell-jre11.json.golden")
    files = [arg for arg in argv if arg.startswith(("--kev", "--epss"))]
    gate = ["check", str(report), "--policy", str(policy), "--ci", "none", *files]
    done = subprocess.run(
        [sys.executable, "-m", "gate", *gate],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "ci/db/exploit-data/kev.json: cannot read the KEV catalog" in done.stderr


def test_with_both_forms_of_a_data_file_in_the_cache_the_newest_is_passed_once(tmp_path: Path) -> None:
    # A fetch that could not remove the other form leaves both: `--kev` twice is a usage error.
    inputs, _name, job = component()
    values = {key: spec.get("default") for key, spec in inputs.items()}
    values |= {"image": "reg.example/app:1", "fetch-exploit-data": True, "cache-dir": "ci/db"}
    env = {k: v for k, v in interpolate(job["variables"], values).items() if k.startswith("CONTAINER_GATE_")}
    data = tmp_path / "ci" / "db" / "exploit-data"
    data.mkdir(parents=True)
    for name, age in (("kev.json.gz", 100), ("kev.json", 0), ("epss.csv", 100), ("epss.csv.gz", 0)):
        (data / name).write_bytes(b"")
        os.utime(data / name, (1_700_000_000 - age, 1_700_000_000 - age))
    argv = run_script(tmp_path, env)
    assert [arg for arg in argv if arg.startswith(("--kev", "--epss"))] == [
        "--kev=ci/db/exploit-data/kev.json",
        "--epss=ci/db/exploit-data/epss.csv.gz",
    ]
    build_parser().parse_args(argv)


def test_the_fetch_runs_data_fetch_into_the_cache(tmp_path: Path) -> None:
    script = "\n".join(component()[2]["script"])
    (fetch,) = [line for line in script.splitlines() if "data fetch" in line]
    assert (
        'container-gate data fetch --out="$CONTAINER_GATE_CACHE_DIR/exploit-data" --if-older-than=20 ||'
        in fetch
    )
    args = build_parser().parse_args(
        ["data", "fetch", "--out=.cache/container-gate/exploit-data", "--if-older-than=20"]
    )
    assert args.if_older_than == 20


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONTAINER_GATE_ADVISORY", "TRUE"),
        ("CONTAINER_GATE_SKIP_DB_UPDATE", "yes"),
        ("CONTAINER_GATE_FETCH_EXPLOIT_DATA", "1"),
        ("CONTAINER_GATE_CHECK_BASE", "yes"),
        ("CONTAINER_GATE_CHECK_BASE", "x=true"),
        ("CONTAINER_GATE_VERBOSE", "on"),
    ],
)
def test_a_switch_of_the_plain_template_is_true_or_false_or_the_job_stops(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    # The plain template's variables are free text, and the script tests `= "true"`: anything
    # else used to turn a requested base check or fetch off without a word.
    env = {"CONTAINER_GATE_IMAGE": "reg.example/app:1", variable: value}
    with pytest.raises(subprocess.CalledProcessError) as stopped:
        run_script(tmp_path, env)
    assert stopped.value.returncode == 2
    setting = variable.removeprefix("CONTAINER_GATE_")
    assert capfd.readouterr().err == (
        f"container-gate: error: {variable}={value}: expected true or false (CHECK_BASE: also best-effort)\n"
    )
    assert not (tmp_path / "argv.json").exists(), setting  # the gate never ran


def test_every_value_a_switch_takes_runs_the_gate(tmp_path: Path) -> None:
    switches = ("ADVISORY", "SKIP_DB_UPDATE", "FETCH_EXPLOIT_DATA", "CHECK_BASE", "VERBOSE")
    for value in ("true", "false", ""):
        env = {
            "CONTAINER_GATE_IMAGE": "reg.example/app:1",
            **{f"CONTAINER_GATE_{s}": value for s in switches},
        }
        argv = run_script(tmp_path, env)
        assert ("--advisory" in argv, "--check-base" in argv) == (value == "true", value == "true")
        assert ("--verbose" in argv) == (value == "true")
    argv = run_script(
        tmp_path, {"CONTAINER_GATE_IMAGE": "reg.example/app:1", "CONTAINER_GATE_CHECK_BASE": "best-effort"}
    )
    assert "--check-base=best-effort" in argv


def test_the_docs_say_which_line_of_the_script_logs_in() -> None:
    for script in (plain_job()["script"], component()[2]["script"]):
        (login,) = [i for i, line in enumerate(script) if "DOCKER_CONFIG/config.json" in line]
        assert login == 1
    assert "(the second line of the script, after the\ncheck of the switches)" in DOCS.read_text(
        encoding="utf-8"
    )


# GitLab's `workflow: rules` as the example uses them: the first rule whose `if:` holds decides
# (its `when:`, else "always"); none holding, no pipeline. An unset or empty variable is false.
_CONDITION = re.compile(r'\$(\w+)(?: == "([^"]*)")?\Z')


def _holds(condition: str, env: dict[str, str]) -> bool:
    terms = [_CONDITION.match(term.strip()) for term in condition.split("&&")]
    assert all(terms), f"an `if:` the test cannot read: {condition}"
    return all(
        (env.get(m.group(1), "") == m.group(2)) if m.group(2) is not None else bool(env.get(m.group(1)))
        for m in terms
        if m is not None
    )


def _pipeline_runs(rules: list[dict[str, str]], env: dict[str, str]) -> bool:
    for rule in rules:
        if _holds(rule["if"], env):
            return rule.get("when", "always") != "never"
    return False


@pytest.mark.parametrize(
    ("pipeline", "env", "runs"),
    [
        ("merge request", {"CI_PIPELINE_SOURCE": "merge_request_event"}, True),
        ("branch, no merge request", {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"}, True),
        (
            "branch with an open merge request",
            {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "fix", "CI_OPEN_MERGE_REQUESTS": "acme/web!7"},
            False,
        ),
        ("release tag", {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v1.2.0"}, True),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_the_complete_examples_workflow_runs_merge_requests_branches_and_tags(
    pipeline: str, env: dict[str, str], runs: bool
) -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = text.split("## A complete `.gitlab-ci.yml`", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    rules = yaml.safe_load(example)["workflow"]["rules"]
    assert _pipeline_runs(rules, env) is runs, pipeline


def test_the_templates_leave_the_pipelines_to_the_project() -> None:
    # No `workflow:` (each template is its job alone) and no job `rules:`: a rule for merge-request
    # pipelines would make GitLab create one holding the gate alone, without the project's build,
    # in a project that runs none; the project's own `workflow:` or rules decide.
    for job in (component()[2], plain_job()):
        assert not {"rules", "only", "except", "when"} & set(job)
    text = DOCS.read_text(encoding="utf-8")
    assert "The templates set no `workflow:` and give the job no `rules:`" in text


def _example_rules() -> list[dict[str, Any]]:
    example = yaml.safe_load(docs_example("merge-request pipelines by job rules"))
    inputs, name, _job = component()
    job_name = interpolate(name, {"job-name": inputs["job-name"]["default"]})
    rules: list[dict[str, Any]] = example[job_name]["rules"]
    return rules


@pytest.mark.parametrize("change", list(PIPELINES_OF_A_CHANGE))
def test_the_docs_job_rules_gate_each_change_once(change: str) -> None:
    rules = _example_rules()
    runs = [job_runs(rules, pipeline) for pipeline in PIPELINES_OF_A_CHANGE[change]]
    assert runs.count(True) == 1, change
    # A merge request's change is gated in the merge request's pipeline, where its note is.
    assert runs[-1], change


def test_the_docs_job_rules_are_the_complete_examples_workflow() -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = text.split("## A complete `.gitlab-ci.yml`", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert _example_rules() == yaml.safe_load(example)["workflow"]["rules"]
