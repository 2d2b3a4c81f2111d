"""The action's entry point: INPUT_* variables -> the `container-gate` command line.

The mapping is checked input by input, then against the real argument parser, then by running
`entrypoint.py` as GitHub runs it: a process whose environment holds the inputs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

import entrypoint
from entrypoint import INPUTS, InputError, build_invocation
from gate.cli.options import options_from
from gate.cli.outputs import publish_context
from gate.cli.parser import build_parser
from testbed.images import ArchiveImages
from tests.support.corpus import corpus_file, corpus_files
from tests.support.repo_paths import PROJECT_ROOT
from tests.support.standins import grype_standin

TOKEN = "ghs_EntrypointTestToken000000000000000001"  # noqa: S105 (no service accepts it)

SCAN = {"INPUT_IMAGE": "registry.example/app:1"}


def argv_for(**inputs: str) -> list[str]:
    """The argv for an image scan plus the given inputs (keys as GitHub spells the variables)."""
    return list(build_invocation({**SCAN, **inputs}).argv)


# Each input alone (on top of INPUT_IMAGE): what it adds to the command line. GitHub sets
# INPUT_<NAME> with the dashes kept; the underscore spelling is accepted for shells.
MAPPING = [
    ("INPUT_POLICY", "policies/strict.yaml", ["--policy=policies/strict.yaml"]),
    ("INPUT_SCANNER", "both", ["--scanner=both"]),
    ("INPUT_DOCKERFILE", "build/Dockerfile", ["--dockerfile=build/Dockerfile"]),
    ("INPUT_BASE-IMAGE", "debian:12", ["--base-image=debian:12"]),
    ("INPUT_BASE_IMAGE", "debian:12", ["--base-image=debian:12"]),
    ("INPUT_PLATFORM", "linux/arm64", ["--platform=linux/arm64"]),
    ("INPUT_CHECK-BASE", "true", ["--check-base"]),
    ("INPUT_CHECK_BASE", "best-effort", ["--check-base=best-effort"]),
    ("INPUT_SARIF", "out/gate.sarif", ["--sarif=out/gate.sarif"]),
    ("INPUT_SARIF-CATEGORY", "container-gate/app-api/", ["--sarif-category=container-gate/app-api/"]),
    ("INPUT_SARIF-LOCATION", "services/api/Dockerfile", ["--sarif-location=services/api/Dockerfile"]),
    ("INPUT_JSON", "out/gate.json", ["--json=out/gate.json"]),
    ("INPUT_MARKDOWN", "out/gate.md", ["--markdown=out/gate.md"]),
    ("INPUT_COMMENT", "false", ["--no-comment"]),
    ("INPUT_ADVISORY", "true", ["--advisory"]),
    ("INPUT_CACHE-DIR", ".cache/container-gate", ["--cache-dir=.cache/container-gate"]),
    ("INPUT_SKIP-DB-UPDATE", "true", ["--skip-db-update"]),
    ("INPUT_SKIP_DB_UPDATE", "True", ["--skip-db-update"]),
    (
        "INPUT_DB-REPOSITORY",
        "mirror.example/trivy-db,ghcr.io/aquasecurity/trivy-db",
        ["--db-repository=mirror.example/trivy-db", "--db-repository=ghcr.io/aquasecurity/trivy-db"],
    ),
    ("INPUT_TRIVY-SERVER", "http://127.0.0.1:4954", ["--trivy-server=http://127.0.0.1:4954"]),
    ("INPUT_MAX-DB-AGE", "36h", ["--max-db-age=36h"]),
    ("INPUT_SCAN-TIMEOUT", "120", ["--scan-timeout=120"]),
    ("INPUT_BASELINE", "baseline/gate.json", ["--baseline=baseline/gate.json"]),
    (
        "INPUT_VEX",
        "vex/app.openvex.json\nvex/base image.csaf.json",
        ["--vex=vex/app.openvex.json", "--vex=vex/base image.csaf.json"],
    ),
    ("INPUT_OPENVEX", "out/decisions.openvex.json", ["--openvex=out/decisions.openvex.json"]),
    ("INPUT_KEV", ".container-gate/kev.json", ["--kev=.container-gate/kev.json"]),
    ("INPUT_EPSS", ".container-gate/epss.csv.gz", ["--epss=.container-gate/epss.csv.gz"]),
]

BASELINE = ["scan", "--scanner=trivy", "--sarif=container-gate.sarif", "--comment"]
"""The argv of an image alone: the defaults of action.yml, and no publishing outside GitHub."""


def test_an_image_alone_gives_the_defaults_of_action_yml() -> None:
    assert argv_for() == [*BASELINE, "--ci", "none", "--", "registry.example/app:1"]


@pytest.mark.parametrize(("variable", "value", "expected"), MAPPING, ids=[m[0] for m in MAPPING])
def test_each_input_maps_to_its_option(variable: str, value: str, expected: list[str]) -> None:
    argv = argv_for(**{variable: value})
    added = [arg for arg in argv if arg not in BASELINE]
    removed = [arg for arg in BASELINE if arg not in argv]
    flag = expected[0].split("=")[0]
    # An input replaces its default (`--comment` -> `--no-comment`) and adds nothing else.
    assert added == [*expected, "--ci", "none", "--", "registry.example/app:1"]
    assert all(arg.split("=")[0] in (flag, "--comment") for arg in removed)


def test_every_input_of_the_table_is_covered_by_the_mapping_test() -> None:
    covered = {variable.removeprefix("INPUT_").lower().replace("_", "-") for variable, _, _ in MAPPING}
    # build-args needs dockerfile: its own tests below.
    special = {
        "image",
        "report",
        "github-token",
        "sarif",
        "comment",
        "pull-request",
        "build-args",
        "exploit-data",
        # A Docker config of the run's own: the registry login tests below.
        "registry",
        "registry-username",
        "registry-password",
    }
    assert {spec.name for spec in INPUTS} - covered - special == set()


def test_the_dash_spelling_wins_over_the_underscore_one() -> None:
    argv = argv_for(**{"INPUT_CACHE-DIR": "from-github", "INPUT_CACHE_DIR": "from-a-shell"})
    assert "--cache-dir=from-github" in argv
    assert not any("from-a-shell" in arg for arg in argv)


def test_an_empty_output_input_writes_no_file() -> None:
    argv = argv_for(INPUT_SARIF="")
    assert not any(arg.startswith("--sarif") for arg in argv)


def test_values_starting_with_a_dash_stay_values() -> None:
    invocation = build_invocation({"INPUT_REPORT": "-r.json", "INPUT_POLICY": "--help"})
    args = build_parser().parse_args(list(invocation.argv))
    assert (str(args.policy), [str(r) for r in args.reports]) == ("--help", ["-r.json"])


def test_on_github_the_gate_publishes_to_github() -> None:
    argv = argv_for(GITHUB_ACTIONS="true")
    assert argv[-4:] == ["--ci", "github", "--", "registry.example/app:1"]


def test_reports_are_gated_with_check() -> None:
    invocation = build_invocation({"INPUT_REPORT": "a.json b.json", "INPUT_SCANNER": "trivy"})
    assert invocation.argv[0] == "check"
    assert invocation.argv[-3:] == ("--", "a.json", "b.json")
    assert not any(arg.startswith("--scanner") for arg in invocation.argv)


def test_a_report_path_may_hold_a_comma() -> None:
    assert build_invocation({"INPUT_REPORT": "a,b.json"}).argv[-2:] == ("--", "a,b.json")


def test_reports_one_per_line_may_hold_spaces() -> None:
    invocation = build_invocation({"INPUT_REPORT": "reports/trivy scan.json\n\n  reports/grype.json\n"})
    assert invocation.argv[-3:] == ("--", "reports/trivy scan.json", "reports/grype.json")


@pytest.mark.parametrize(
    ("variable", "flag"),
    [("INPUT_REPORT", ""), ("INPUT_VEX", "--vex="), ("INPUT_DB-REPOSITORY", "--db-repository=")],
)
def test_one_item_of_a_list_as_a_yaml_block_may_hold_spaces(variable: str, flag: str) -> None:
    # `report: |` with one line: GitHub passes the line with its line break, one item per line.
    invocation = build_invocation(
        {**({} if variable == "INPUT_REPORT" else SCAN), variable: "my dir/a b.json\n"}
    )
    assert f"{flag}my dir/a b.json" in invocation.argv
    assert not any(arg.endswith("my dir/a") for arg in invocation.argv)


def test_a_list_of_blanks_and_line_breaks_is_empty() -> None:
    argv = build_invocation(
        {"INPUT_REPORT": "a.json", "INPUT_VEX": " \n\n", "INPUT_DB-REPOSITORY": "\n"}
    ).argv
    assert argv == build_invocation({"INPUT_REPORT": "a.json"}).argv


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "input `image` is required (or `report`, to gate existing report files)"),
        ({"INPUT_IMAGE": "  "}, "input `image` is required"),
        ({**SCAN, "INPUT_REPORT": "a.json"}, "inputs `image` and `report` exclude each other"),
        ({**SCAN, "INPUT_ADVISORY": "yes"}, "input `advisory` must be `true` or `false`, got 'yes'"),
        ({**SCAN, "INPUT_COMMENT": "1"}, "input `comment` must be `true` or `false`, got '1'"),
        ({**SCAN, "INPUT_SKIP-DB-UPDATE": "on"}, "input `skip-db-update` must be `true` or `false`"),
        ({"INPUT_REPORT": "a.json", "INPUT_SCANNER": "grype"}, "input `scanner` applies only to scanning"),
        ({"INPUT_REPORT": "a.json", "INPUT_PLATFORM": "linux/arm64"}, "input `platform` applies only"),
        ({"INPUT_REPORT": "a.json", "INPUT_SKIP-DB-UPDATE": "true"}, "input `skip-db-update` applies only"),
        (
            {**SCAN, "INPUT_CHECK-BASE": "yes"},
            "input `check-base` must be `true`, `false` or `best-effort`, got 'yes'",
        ),
        ({"INPUT_REPORT": "a.json", "INPUT_CHECK-BASE": "best-effort"}, "input `check-base` applies only"),
        ({"INPUT_REPORT": "a.json", "INPUT_CHECK-BASE": "true"}, "input `check-base` applies only"),
        (
            {"INPUT_REPORT": "a.json", "INPUT_REGISTRY": "ghcr.io", "INPUT_REGISTRY-USERNAME": "octocat"},
            "input `registry` applies only to scanning an image, not with `report`",
        ),
        (
            {
                "INPUT_REPORT": "a.json",
                "INPUT_REGISTRY-USERNAME": "octocat",
                "INPUT_REGISTRY-PASSWORD": "s3cret",
            },
            "input `registry-username` applies only to scanning an image, not with `report`",
        ),
        (
            {"INPUT_REPORT": "a.json", "INPUT_REGISTRY_PASSWORD": "s3cret"},
            "input `registry-password` applies only",
        ),
        (
            {"INPUT_REPORT": "a.json", "INPUT_PULL-REQUEST": "#12"},
            "input `pull-request` must be a pull request's number (a whole number from 1, or empty for "
            "none), got '#12'",
        ),
        ({"INPUT_REPORT": "a.json", "INPUT_PULL-REQUEST": "0"}, "input `pull-request` must be"),
        ({"INPUT_REPORT": "a.json", "INPUT_PULL_REQUEST": "12\n13"}, "input `pull-request` must be"),
        ({**SCAN, "INPUT_JSON": "-"}, "input `json` must name a file: `-` (standard output) would put"),
        ({**SCAN, "INPUT_SARIF": "-"}, "input `sarif` must name a file: `-`"),
        ({**SCAN, "INPUT_MARKDOWN": " - "}, "input `markdown` must name a file: `-`"),
        ({"INPUT_REPORT": "a.json", "INPUT_OPENVEX": "-"}, "input `openvex` must name a file: `-`"),
        ({"INPUT_REPORT": "-"}, "input `report` must name files: `-` (standard input)"),
        ({"INPUT_REPORT": "a.json\n-\n"}, "input `report` must name files: `-`"),
        ({**SCAN, "INPUT_POLICY": "-"}, "input `policy` must name a file: `-` (standard input) has nothing"),
        ({**SCAN, "INPUT_DOCKERFILE": "-"}, "input `dockerfile` must name a file: `-` (standard input)"),
        ({**SCAN, "INPUT_BASELINE": "-"}, "input `baseline` must name a file: `-` (standard input)"),
        ({**SCAN, "INPUT_VEX": "a.json, -"}, "input `vex` must name a file: `-` (standard input)"),
        ({**SCAN, "INPUT_KEV": "-"}, "input `kev` must name a file: `-` (standard input)"),
        ({**SCAN, "INPUT_EPSS": "-"}, "input `epss` must name a file: `-` (standard input)"),
        (
            {**SCAN, "INPUT_REGISTRY-USERNAME": "octocat", "INPUT_REGISTRY-PASSWORD": "s3cret"},
            "input `registry-username` needs input `registry`: the registry the login is for, such as ghcr.io",
        ),
        ({**SCAN, "INPUT_REGISTRY_PASSWORD": "s3cret"}, "input `registry-password` needs input `registry`"),
        (
            {**SCAN, "INPUT_REGISTRY": "https://ghcr.io", "INPUT_REGISTRY-USERNAME": "octocat"},
            "input `registry` must be a registry host, such as ghcr.io or registry.example.com:5000 "
            "(no scheme, no repository), got 'https://ghcr.io'",
        ),
        ({**SCAN, "INPUT_REGISTRY": "ghcr.io/acme"}, "input `registry` must be a registry host"),
        (
            {**SCAN, "INPUT_REGISTRY": "ghcr.io", "INPUT_REGISTRY-PASSWORD": "s3cret"},
            "input `registry-password` needs input `registry-username`",
        ),
        ({**SCAN, "INPUT_EXPLOIT-DATA": "-"}, "input `exploit-data` must name a directory: `-` (standard"),
    ],
)
def test_inputs_that_do_not_add_up_are_errors_naming_the_input(inputs: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as caught:
        build_invocation(inputs)
    assert str(caught.value).startswith(message)


SECRET = "npm_BuildArgSecret0000000000000000001"  # noqa: S105 (no service accepts it)


def test_build_args_are_one_name_equals_value_per_line_in_order() -> None:
    # As docker/build-push-action's `build-args`: each line trimmed, blank lines ignored; a value
    # may hold spaces, `=` and quotes, and reaches the gate as written.
    dockerfile = {"INPUT_DOCKERFILE": "Dockerfile"}
    argv = argv_for(
        **dockerfile,
        **{"INPUT_BUILD-ARGS": "\n  BASE=python:3.12-slim \r\n\nEMPTY=\nNOTE=a b=c 'd'\nBASE=python:3.13\n"},
    )
    assert [arg for arg in argv if arg.startswith("--build-arg")] == [
        "--build-arg=BASE=python:3.12-slim",
        "--build-arg=EMPTY=",
        "--build-arg=NOTE=a b=c 'd'",
        "--build-arg=BASE=python:3.13",
    ]
    assert argv.index("--dockerfile=Dockerfile") < argv.index("--build-arg=BASE=python:3.12-slim")
    args = build_parser().parse_args(argv)
    assert args.build_arg == [
        ("BASE", "python:3.12-slim"),
        ("EMPTY", ""),
        ("NOTE", "a b=c 'd'"),
        ("BASE", "python:3.13"),
    ]
    # The underscore spelling, and an input of blanks only, which asks for nothing.
    assert "--build-arg=TAG=12" in argv_for(**dockerfile, INPUT_BUILD_ARGS="TAG=12")
    assert argv_for(**dockerfile, **{"INPUT_BUILD-ARGS": " \n\n"}) == argv_for(**dockerfile)
    assert build_invocation({"INPUT_REPORT": "a.json", "INPUT_BUILD-ARGS": "\n"}).argv[0] == "check"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {**SCAN, "INPUT_DOCKERFILE": "Dockerfile", "INPUT_BUILD-ARGS": f"BASE=debian:12\n\n{SECRET}"},
            "input `build-args`: line 3 is not NAME=VALUE (NAME: letters, digits and _, not starting with a "
            "digit; the line is not shown, as a build argument can hold a secret)",
        ),
        (
            {**SCAN, "INPUT_DOCKERFILE": "Dockerfile", "INPUT_BUILD-ARGS": f"NPM-TOKEN={SECRET}"},
            "input `build-args`: line 1 is not NAME=VALUE",
        ),
        (
            {**SCAN, "INPUT_DOCKERFILE": "Dockerfile", "INPUT_BUILD-ARGS": f"=={SECRET}"},
            "input `build-args`: line 1 is not NAME=VALUE",
        ),
        (
            {**SCAN, "INPUT_BUILD-ARGS": f"TOKEN={SECRET}"},
            "input `build-args` needs input `dockerfile`: they fill the ARGs of that Dockerfile",
        ),
        (
            {"INPUT_REPORT": "a.json", "INPUT_BUILD-ARGS": f"TOKEN={SECRET}"},
            "input `build-args` applies only to scanning an image, not with `report`",
        ),
    ],
    ids=["not-name-equals-value", "bad-name", "no-name", "no-dockerfile", "with-report"],
)
def test_a_bad_build_args_input_is_an_error_that_never_shows_a_value(
    inputs: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError) as caught:
        build_invocation(inputs)
    assert str(caught.value).startswith(message)
    assert SECRET not in str(caught.value)


def test_an_empty_boolean_is_its_default() -> None:
    assert argv_for(INPUT_ADVISORY="", INPUT_COMMENT="", **{"INPUT_CHECK-BASE": ""}) == argv_for()
    # `check-base: false` with `report` is no error: false asks for nothing.
    assert (
        "--check-base" not in build_invocation({"INPUT_REPORT": "a.json", "INPUT_CHECK-BASE": "false"}).argv
    )


@pytest.mark.parametrize("comment", ["", "true", "TRUE", "false", "False"])
def test_an_error_updates_the_comment_when_the_run_would_have_written_it(comment: str) -> None:
    # A run that cannot decide edits this job's comment, so it stops showing the last verdict:
    # only where the same inputs, without the error, would have commented.
    commented = "--comment" in argv_for(INPUT_COMMENT=comment)
    assert ("--no-comment" not in entrypoint.error_argv({**SCAN, "INPUT_COMMENT": comment})) is commented


@pytest.mark.parametrize(
    ("inputs", "image", "platform"),
    [
        (
            {**SCAN, "INPUT_PLATFORM": "linux/arm64", "INPUT_ADVISORY": "yes"},
            SCAN["INPUT_IMAGE"],
            "linux/arm64",
        ),
        ({**SCAN, "INPUT_PLATFORM": "arm64"}, SCAN["INPUT_IMAGE"], None),
        ({**SCAN, "INPUT_ADVISORY": "yes"}, SCAN["INPUT_IMAGE"], None),
        ({"INPUT_REPORT": "a.json", "INPUT_ADVISORY": "yes"}, None, None),
    ],
    ids=["platform", "bad-platform", "no-platform", "report"],
)
def test_a_bad_input_edits_the_comment_of_the_image_and_platform_the_run_was_for(
    inputs: dict[str, str], image: str | None, platform: str | None
) -> None:
    # In a matrix of one image's platforms, a bad input's error must find its own leg's comment
    # by the `platform` input, as an error of the gate does later: without it, the job's comments
    # of that image could not be told apart, none was changed, and the warning said the run did
    # not know its platform. A `platform` that is itself the bad input names none.
    argv = entrypoint.error_argv(inputs)
    options = options_from(build_parser().parse_args(argv), {}, dt.datetime.now(dt.UTC))
    context = publish_context(options, error=True)
    assert (context.image, context.platform) == (image, platform)


def test_the_pull_request_input_reaches_the_gate_as_its_variable_only() -> None:
    invocation = build_invocation({"INPUT_REPORT": "gate.json", "INPUT_PULL-REQUEST": " 12\n"})
    assert invocation.pull_request == "12"
    assert not any("12" in arg for arg in invocation.argv)
    assert build_invocation({"INPUT_REPORT": "gate.json", "INPUT_PULL-REQUEST": ""}).pull_request is None


def test_the_token_is_never_on_the_command_line() -> None:
    invocation = build_invocation({**SCAN, "INPUT_GITHUB-TOKEN": TOKEN, "GITHUB_ACTIONS": "true"})
    assert invocation.token == TOKEN
    assert not any(TOKEN in arg for arg in invocation.argv)


@pytest.mark.parametrize(
    "inputs",
    [
        {**SCAN, **{variable: value for variable, value, _ in MAPPING}, "INPUT_BUILD-ARGS": "BASE=debian:12"},
        {"INPUT_REPORT": "a.json\nb.json", "INPUT_POLICY": "p.yaml", "INPUT_ADVISORY": "true"},
        {"INPUT_REPORT": "a.json", "INPUT_KEV": "data/kev.json", "INPUT_EPSS": "data/epss.csv.gz"},
    ],
    ids=["scan-with-every-input", "check", "check-with-exploit-data"],
)
def test_the_gate_parser_accepts_every_command_line_the_entry_point_builds(inputs: dict[str, str]) -> None:
    argv = list(build_invocation(inputs).argv)
    args = build_parser().parse_args(argv)
    assert args.command == argv[0]


# -- as a process, the way GitHub runs it ----------------------------------------------------------


def run_entrypoint(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python entrypoint.py` with exactly `env` (plus PATH), from `cwd`."""
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "entrypoint.py")],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_bad_boolean_exits_2_with_one_line_naming_the_input(tmp_path: Path) -> None:
    done = run_entrypoint({**SCAN, "INPUT_ADVISORY": "maybe"}, tmp_path)
    assert done.returncode == 2
    assert done.stderr == "container-gate: error: input `advisory` must be `true` or `false`, got 'maybe'\n"
    assert done.stdout == ""


def test_a_bad_pull_request_number_exits_2_with_one_line_naming_the_input(tmp_path: Path) -> None:
    done = run_entrypoint({"INPUT_REPORT": "gate.json", "INPUT_PULL-REQUEST": "pr-12"}, tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "container-gate: error: input `pull-request` must be a pull request's number (a whole number "
        "from 1, or empty for none), got 'pr-12'\n"
    )


def test_a_missing_image_exits_2(tmp_path: Path) -> None:
    done = run_entrypoint({"INPUT_SARIF": "container-gate.sarif"}, tmp_path)
    assert done.returncode == 2
    assert "input `image` is required" in done.stderr


def test_reports_are_gated_locally_and_the_token_is_never_printed(tmp_path: Path) -> None:
    report = next(path for path in corpus_files("trivy") if path.suffix == ".json")
    done = run_entrypoint(
        {
            "INPUT_REPORT": str(report),
            "INPUT_JSON": "out/decision.json",
            "INPUT_SARIF": "",
            "INPUT_ADVISORY": "true",
            "INPUT_GITHUB-TOKEN": TOKEN,
        },
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "decision.json").is_file()
    assert not (tmp_path / "container-gate.sarif").exists()
    assert TOKEN not in done.stdout + done.stderr


def test_no_input_reaches_a_scanner_the_token_and_a_secret_build_argument_included(
    tmp_path: Path, engineless_archives: ArchiveImages
) -> None:
    # The gate takes the inputs from its command line; a scanner gets the environment it runs in.
    secret = "npm_S3cretBuildArg"  # noqa: S105 (no service accepts it)
    source = f"docker-archive:{engineless_archives.app}"
    inputs = {
        "INPUT_BUILD-ARGS": f"BASE=debian:12\nNPM_TOKEN={secret}\n",
        "INPUT_GITHUB-TOKEN": TOKEN,
        "INPUT_IMAGE": source,
        "INPUT_SCANNER": "grype",
        "INPUT_DOCKERFILE": "Dockerfile",
        "INPUT_MAX-DB-AGE": "36500d",
        "INPUT_SARIF": "",
        "INPUT_JSON": "gate.json",
    }
    grype = grype_standin(tmp_path / "bin", expect_source=source, expect_unset=tuple(inputs))
    (tmp_path / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\n", encoding="utf-8")

    done = run_entrypoint({**inputs, "GRYPE_BIN": str(grype.path), "HOME": str(tmp_path)}, tmp_path)

    assert done.returncode == 1, done.stderr  # the stand-in's findings block; it refused nothing
    assert json.loads((tmp_path / "gate.json").read_text(encoding="utf-8"))["verdict"] == "fail"
    assert [call["argv"][0] for call in grype.calls()] == ["version", "db", source]
    assert secret not in done.stdout + done.stderr


def test_inputs_match_action_yml_in_order_and_defaults() -> None:
    from scripts.check_ci_files import load_yaml

    declared = load_yaml(PROJECT_ROOT / "action.yml")["inputs"]
    assert [spec.name for spec in INPUTS] == list(declared)
    for spec in INPUTS:
        default = declared[spec.name].get("default", "")
        if spec.name != "github-token":
            assert spec.default == default, spec.name
    assert declared["github-token"]["default"] == "${{ github.token }}"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root, as GitHub runs the action"
)
def test_files_written_as_root_go_back_to_the_workspace_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = (1001, 1001)  # the runner user of GitHub-hosted runners
    workspace = tmp_path / "workspace"
    (workspace / "out").mkdir(parents=True)
    (workspace / "out" / "gate.sarif").write_text("{}")
    (workspace / "cache" / "db").mkdir(parents=True)
    (workspace / "cache" / "db" / "trivy.db").write_bytes(b"")
    (workspace / "kept.txt").write_text("not written by the gate")
    outside = tmp_path / "outside.sarif"
    outside.write_text("{}")
    os.chown(workspace, *runner)
    monkeypatch.chdir(workspace)

    entrypoint.give_back_to_workspace_owner(
        ["out/gate.sarif", str(outside), "missing.json"], ["cache"], {"GITHUB_WORKSPACE": str(workspace)}
    )

    def owner(path: Path) -> tuple[int, int]:
        info = path.lstat()
        return info.st_uid, info.st_gid

    for given in ("out", "out/gate.sarif", "cache", "cache/db", "cache/db/trivy.db"):
        assert owner(workspace / given) == runner, given
    assert owner(workspace / "kept.txt") == (0, 0)
    assert owner(outside) == (0, 0)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root, as GitHub runs the action"
)
@pytest.mark.parametrize(
    "bad",
    [{"INPUT_ADVISORY": "maybe"}, {"INPUT_SCANNER": "Trivy"}],
    ids=["read-by-the-entry-point", "read-by-the-gate"],
)
def test_the_error_outputs_of_a_bad_input_go_back_to_the_workspace_owner(
    tmp_path: Path, bad: dict[str, str]
) -> None:
    # A later step, as the runner's user, must be able to replace them and clean their folders.
    runner = (1001, 1001)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    os.chown(workspace, *runner)
    inputs = {**SCAN, **bad, "INPUT_JSON": "out/gate.json", "INPUT_MARKDOWN": "reports/gate.md"}

    done = run_entrypoint({**inputs, "GITHUB_WORKSPACE": str(workspace)}, workspace)

    assert done.returncode == 2, done.stderr
    assert json.loads((workspace / "out" / "gate.json").read_text(encoding="utf-8"))["verdict"] == "error"
    for given in ("out", "out/gate.json", "reports", "reports/gate.md"):
        info = (workspace / given).lstat()
        assert (info.st_uid, info.st_gid) == runner, given


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root, as GitHub runs the action"
)
def test_nothing_beyond_a_directory_of_the_workspace_that_links_elsewhere_is_handed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A checked-out directory may be a symbolic link out of the workspace: an output or a cache
    # named through it was written there, and stays root's.
    runner = (1001, 1001)
    workspace = tmp_path / "workspace"
    (workspace / "own").mkdir(parents=True)
    outside = tmp_path / "outside"
    (outside / "cache" / "db").mkdir(parents=True)
    (outside / "cache" / "db" / "trivy.db").write_bytes(b"")
    (outside / "gate.sarif").write_text("{}")
    (workspace / "own" / "gate.json").write_text("{}")
    (workspace / "out").symlink_to(outside)
    (workspace / "inside").symlink_to(workspace / "own")
    os.chown(workspace, *runner)
    monkeypatch.chdir(workspace)

    entrypoint.give_back_to_workspace_owner(
        ["out/gate.sarif", "out/../outside/gate.sarif", "inside/gate.json"],
        ["out/cache"],
        {"GITHUB_WORKSPACE": str(workspace)},
    )

    for path in (outside, *outside.rglob("*")):
        assert (path.lstat().st_uid, path.lstat().st_gid) == (0, 0), path
    # A link that stays inside the workspace still leads to what the gate wrote there.
    assert (workspace / "own" / "gate.json").lstat().st_uid == runner[0]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root, as GitHub runs the action"
)
def test_a_file_that_cannot_go_back_is_one_warning_line_and_no_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The path is the one the workflow gave an output input: a line break in it started a line
    # of its own, which GitHub read as a workflow command.
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    name = "gate\n::warning::x ##[add-mask]y.sarif"
    (workspace / name).write_text("{}")
    monkeypatch.chdir(workspace)

    def refused(*_args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "lchown", refused)
    env = {"GITHUB_WORKSPACE": str(workspace), "GITHUB_ACTIONS": "true"}
    entrypoint.give_back_to_workspace_owner([name], [], env)
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("container-gate: warning: cannot hand ")
    assert line.endswith(" to the runner's user: Operation not permitted")
    assert runner_commands(line) == []


def test_a_bad_input_on_github_still_writes_the_error_outputs_summary_and_annotation(tmp_path: Path) -> None:
    # The documented `error` output, the job summary and an annotation, as for any other error.
    step_outputs, summary = tmp_path / "github_output", tmp_path / "step_summary.md"
    step_outputs.touch()
    summary.touch()
    (tmp_path / "container-gate.sarif").write_text("{}")  # a stale SARIF of an earlier run
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(step_outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "INPUT_JSON": "out/gate.json",
        "INPUT_MARKDOWN": "out/gate.md",
        "INPUT_SARIF": "container-gate.sarif",
    }
    done = run_entrypoint({**SCAN, **github, "INPUT_ADVISORY": "yes"}, tmp_path)
    message = "input `advisory` must be `true` or `false`, got 'yes'"
    assert done.returncode == 2
    assert done.stderr == f"container-gate: error: {message}\n"
    assert done.stdout == f"::error title=container-gate could not decide (exit code 2)::{message}\n"
    written = step_outputs.read_text()
    assert "\nerror\n" in written  # the `verdict` output's value
    assert f"\n{message}\n" in written  # the `error` output's value
    assert "container-gate: error, no verdict" in summary.read_text()
    decision = json.loads((tmp_path / "out" / "gate.json").read_text())
    assert (decision["verdict"], decision["error"]["exit_code"]) == ("error", 2)
    assert "error, no verdict" in (tmp_path / "out" / "gate.md").read_text()
    assert not (tmp_path / "container-gate.sarif").exists()


def github_run(tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """The entry point on GitHub (outputs and summary files, no pull request) with `inputs` as
    GitHub spells them; returns the process and the step-outputs and summary files."""
    step_outputs, summary = tmp_path / "github_output", tmp_path / "step_summary.md"
    step_outputs.touch()
    summary.touch()
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(step_outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    return run_entrypoint({**github, **inputs}, tmp_path), step_outputs, summary


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"INPUT_SCANNER": "Trivy"},
            "input `scanner`: invalid choice: 'Trivy' (choose from 'trivy', 'grype', 'both')",
        ),
        ({"INPUT_SCAN-TIMEOUT": "10m"}, "input `scan-timeout`: expected a number of seconds above 0"),
        (
            {"INPUT_MAX-DB-AGE": "5 days"},
            "input `max-db-age`: expected a duration such as 5d or 36h, got '5 days'",
        ),
        ({"INPUT_PLATFORM": "arm64"}, "input `platform`: expected OS/ARCH such as linux/amd64"),
    ],
    ids=["scanner", "scan-timeout", "max-db-age", "platform"],
)
def test_a_value_the_gate_refuses_is_a_bad_input_reported_on_github(
    tmp_path: Path, inputs: dict[str, str], message: str
) -> None:
    # Only the gate's command line knows these values are wrong: the step still says so as it
    # does for any bad input (outputs, summary, annotation, error files), naming the input.
    done, step_outputs, summary = github_run(tmp_path, **SCAN, **inputs, INPUT_JSON="out/gate.json")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"container-gate: error: {message}")
    assert done.stdout.startswith(f"::error title=container-gate could not decide (exit code 2)::{message}")
    written = step_outputs.read_text()
    assert "\nerror\n" in written
    assert f"\n{message}" in written
    assert "container-gate: error, no verdict" in summary.read_text()
    decision = json.loads((tmp_path / "out" / "gate.json").read_text())
    assert (decision["verdict"], decision["error"]["exit_code"]) == ("error", 2)


def test_a_bad_build_args_line_exits_2_and_its_value_is_in_no_log_output_or_summary(tmp_path: Path) -> None:
    done, step_outputs, summary = github_run(
        tmp_path,
        **SCAN,
        INPUT_DOCKERFILE="Dockerfile",
        **{"INPUT_BUILD-ARGS": f"BASE=debian:12\nNPM_TOKEN {SECRET}\n"},
        INPUT_JSON="out/gate.json",
        INPUT_MARKDOWN="out/gate.md",
    )
    message = "input `build-args`: line 2 is not NAME=VALUE"
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"container-gate: error: {message}")
    assert done.stdout.startswith(f"::error title=container-gate could not decide (exit code 2)::{message}")
    assert f"\n{message}" in step_outputs.read_text()
    written = [
        done.stdout,
        done.stderr,
        step_outputs.read_text(),
        summary.read_text(),
        (tmp_path / "out" / "gate.json").read_text(),
        (tmp_path / "out" / "gate.md").read_text(),
    ]
    assert not [text for text in written if SECRET in text]
    assert json.loads(written[4])["verdict"] == "error"


def test_an_output_input_of_dash_is_a_bad_input_that_puts_no_report_in_the_log(tmp_path: Path) -> None:
    # `-` is standard output on the command line: in an action, the log, where no later step can
    # read the file its `json-file` output would name.
    report = str(corpus_file("trivy", "alpine-39.json.golden"))
    done, step_outputs, _summary = github_run(
        tmp_path, INPUT_REPORT=report, INPUT_JSON="-", INPUT_MARKDOWN="out/gate.md", INPUT_SARIF=""
    )
    message = "input `json` must name a file: `-` (standard output) would put the JSON report in the log"
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"container-gate: error: {message}")
    assert "schema" not in done.stdout  # no report, not even the error's, in the log
    written = step_outputs.read_text()
    assert f"\n{message}" in written
    assert "json-file" not in written
    assert "markdown-file" in written
    assert "error, no verdict" in (tmp_path / "out" / "gate.md").read_text()


def test_an_exploit_data_input_of_dash_is_a_bad_input_that_makes_no_directory(tmp_path: Path) -> None:
    # `data fetch --out=-` made a directory named `-` in the workspace and gated with its files.
    report = str(corpus_file("trivy", "alpine-39.json.golden"))
    done, step_outputs, _summary = github_run(
        tmp_path, INPUT_REPORT=report, INPUT_SARIF="", **{"INPUT_EXPLOIT-DATA": "-"}
    )
    message = "input `exploit-data` must name a directory: `-` (standard input or output) names none"
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"container-gate: error: {message}")
    assert f"\n{message}" in step_outputs.read_text()
    assert not (tmp_path / "-").exists()


def test_a_cache_dir_input_of_dash_is_a_bad_input_that_makes_no_directory(tmp_path: Path) -> None:
    # `--cache-dir=-` is the directory `-` of the workspace, where the scanners kept their DB.
    done, step_outputs, _summary = github_run(
        tmp_path, INPUT_IMAGE="docker-archive:app.tar", INPUT_SARIF="", **{"INPUT_CACHE-DIR": "-"}
    )
    message = "input `cache-dir` must name a directory: `-` (standard input or output) names none"
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"container-gate: error: {message}")
    assert f"\n{message}" in step_outputs.read_text()
    assert not (tmp_path / "-").exists()


def test_an_output_input_naming_the_report_is_a_bad_input_and_the_report_stays(tmp_path: Path) -> None:
    report = tmp_path / "trivy.json"
    original = next(path for path in corpus_files("trivy") if path.suffix == ".json").read_bytes()
    report.write_bytes(original)
    done, step_outputs, _summary = github_run(tmp_path, INPUT_REPORT=str(report), INPUT_JSON=str(report))
    message = f"input `json` {report}: the same file as input `report`, which this run reads"
    assert done.returncode == 2
    assert done.stderr.startswith(f"container-gate: error: {message}")
    assert f"\n{message}" in step_outputs.read_text()
    assert report.read_bytes() == original  # the error outputs never replace an input


def test_the_summaries_point_to_the_json_input_not_to_an_option_never_typed(tmp_path: Path) -> None:
    # 80 findings block under this policy, more than the terminal lists; the action writes no JSON
    # report by default, so its summaries name the input that writes one, not `--json`.
    report = next(path for path in corpus_files("snyk") if path.name.endswith("no-fixable__vulns.json"))
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfail_on: {severity: LOW}\n", encoding="utf-8")
    done, _, summary = github_run(
        tmp_path, INPUT_REPORT=str(report), INPUT_POLICY=str(policy), INPUT_SARIF="", INPUT_ADVISORY="true"
    )
    assert done.returncode == 0, done.stderr
    assert "more (the action's json input writes a JSON report listing them all)" in done.stdout
    assert "--json" not in done.stdout
    markdown = summary.read_text(encoding="utf-8")
    assert "the JSON report (the action's `json` input) lists" in markdown
    assert "--json" not in markdown


def test_the_log_names_the_comment_input_that_turned_the_comment_off(tmp_path: Path) -> None:
    report = corpus_file("trivy", "debian-buster.json.golden")
    done, _, _ = github_run(tmp_path, INPUT_REPORT=str(report), INPUT_SARIF="", INPUT_COMMENT="false")
    assert done.returncode in (0, 1), done.stderr
    assert (
        done.stderr
        == "container-gate: github: no pull-request comment: turned off by the action's `comment: false`\n"
    )


# -- exploit-data: `data fetch` before the gate ----------------------------------------------------


def test_exploit_data_is_a_directory_the_run_fills_and_adds_no_option_by_itself() -> None:
    invocation = build_invocation({**SCAN, "INPUT_EXPLOIT-DATA": ".cache/exploit-data"})
    assert invocation.exploit_data == ".cache/exploit-data"
    assert invocation.trees == (".cache/exploit-data",)  # handed back to the runner's user
    assert list(invocation.argv) == argv_for()


def stored_by(record: Mapping[str, object] | None) -> Callable[[list[str]], int]:
    """A stand-in for the gate's `main` whose `data fetch` writes `record` (none when None) and
    succeeds, or fails with exit 3 when `record` is None."""

    def fetch(argv: list[str]) -> int:
        assert argv[:2] == ["data", "fetch"]
        assert argv[2].startswith("--out=")
        assert argv[3:] == ["--if-older-than=20"]
        if record is None:
            return 3
        out = Path(argv[2].removeprefix("--out="))
        out.mkdir(parents=True, exist_ok=True)
        (out / "exploit-data.json").write_text(json.dumps(record), encoding="utf-8")
        return 0

    return fetch


def test_the_files_the_fetch_stored_are_gated_with_in_the_form_it_stored(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    invocation = build_invocation({**SCAN, "INPUT_EXPLOIT-DATA": data})
    record = {"kev": {"file": "kev.json.gz"}, "epss": {"file": "epss.csv"}}
    argv = entrypoint.with_exploit_data(invocation, stored_by(record))
    added = [f"--kev={data}/kev.json.gz", f"--epss={data}/epss.csv"]
    assert argv == [*BASELINE, "--ci", "none", *added, "--", "registry.example/app:1"]
    # A file the inputs name wins.
    given = build_invocation({**SCAN, "INPUT_EXPLOIT-DATA": data, "INPUT_KEV": "mine.json"})
    argv = entrypoint.with_exploit_data(given, stored_by(record))
    assert [arg for arg in argv if arg.startswith(("--kev", "--epss"))] == [
        "--kev=mine.json",
        f"--epss={data}/epss.csv",
    ]


def test_with_both_kev_and_epss_inputs_nothing_is_fetched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing the fetch would store is read: no download, and no warning when it would fail.
    def no_fetch(argv: list[str]) -> int:
        raise AssertionError(f"fetched: {argv}")

    env = {**SCAN, "INPUT_EXPLOIT-DATA": str(tmp_path / "data"), "INPUT_KEV": "k.json", "INPUT_EPSS": "e.csv"}
    invocation = build_invocation(env)
    assert entrypoint.with_exploit_data(invocation, no_fetch) == list(invocation.argv)
    assert capsys.readouterr().err == (
        "container-gate: input `exploit-data`: not fetched, the `kev` and `epss` inputs name the files\n"
    )


@pytest.mark.parametrize(
    "record",
    [None, {"kev": {"file": "../../etc/passwd"}, "epss": "epss.csv"}],
    ids=["failed fetch, no record", "a record naming other files"],
)
def test_without_stored_files_the_gate_stops_rather_than_pass_without_the_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record: Mapping[str, object] | None
) -> None:
    from gate.cli.main import main as gate_main

    data = str(tmp_path / "data")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfail_on: {severity: CRITICAL, known_exploited: true}\n", encoding="utf-8")
    report = corpus_file("trivy", "spring4shell-jre11.json.golden")
    inputs = {"INPUT_REPORT": str(report), "INPUT_POLICY": str(policy), "INPUT_SARIF": ""}
    invocation = build_invocation({**inputs, "INPUT_EXPLOIT-DATA": data})
    argv = entrypoint.with_exploit_data(invocation, stored_by(record))
    assert f"--kev={data}/kev.json" in argv
    assert f"--epss={data}/epss.csv.gz" in argv
    if record is None:
        assert capsys.readouterr().err == (
            "container-gate: warning: input `exploit-data`: the KEV and EPSS data could not be "
            f"refreshed (exit 3); {data} holds no earlier copy to use\n"
        )
    assert gate_main(argv) == 2
    assert f"{data}/kev.json: cannot read the KEV catalog" in capsys.readouterr().err


def test_on_github_a_failed_fetch_is_an_annotation_naming_the_cached_copy_it_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A line on standard error is one among hundreds in the log: on GitHub the warning is a
    # workflow command, so it is among the run's annotations. Its text is escaped (a directory
    # name with a line break cannot start a command of its own) and never holds the token.
    data = tmp_path / "cache %\n::error::x"
    data.mkdir()
    for name in ("kev.json", "epss.csv.gz"):
        (data / name).write_bytes(b"stored by an earlier fetch")
    record = {
        "fetched_at": "2026-08-07T05:00:00Z",
        "kev": {"file": "kev.json"},
        "epss": {"file": "epss.csv.gz"},
    }
    (data / "exploit-data.json").write_text(json.dumps(record), encoding="utf-8")
    reason = f"https://www.cisa.gov/kev.json: no answer (token {TOKEN} refused)"

    def failed(_argv: list[str]) -> int:
        print(f"container-gate: error: {reason}", file=sys.stderr)
        return 3

    env = {**SCAN, "GITHUB_ACTIONS": "true", "INPUT_EXPLOIT-DATA": str(data), "INPUT_GITHUB-TOKEN": TOKEN}
    argv = entrypoint.with_exploit_data(build_invocation(env), failed)
    assert f"--kev={data}/kev.json" in argv
    captured = capsys.readouterr()
    assert captured.err == f"container-gate: error: {reason}\n"  # the fetch's own line stays in the log
    [line] = captured.out.splitlines()
    shown = reason.replace(TOKEN, "[MASKED]")
    assert line == (
        "::warning title=container-gate%3A warning::input `exploit-data`: the KEV and EPSS data could "
        f"not be refreshed (exit 3): {shown}; the cached copy fetched on 2026-08-07 (UTC) in "
        f"{str(data).replace('%', '%25').replace(chr(10), '%0A')} is used"
    )
    # Outside GitHub, the same words on standard error.
    entrypoint.with_exploit_data(build_invocation({**env, "GITHUB_ACTIONS": ""}), failed)
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith("container-gate: warning: input `exploit-data`: the KEV and EPSS data could not")
    assert err.endswith(
        f"the cached copy fetched on 2026-08-07 (UTC) in {str(data).replace(chr(10), ' ')} is used"
    )
    assert TOKEN not in err


@pytest.mark.parametrize(
    ("stored", "inputs", "used"),
    [
        ((), {}, "{data} holds no earlier copy to use"),
        (
            ("kev.json",),
            {},
            "the copy of the KEV catalog already in {data} is used; it holds no earlier copy of the EPSS scores",
        ),
        (
            ("epss.csv.gz",),
            {},
            "the copy of the EPSS scores already in {data} is used; it holds no earlier copy of the KEV catalog",
        ),
        (
            ("epss.csv.gz",),
            {"INPUT_KEV": "mine.json"},
            "the copy of the EPSS scores already in {data} is used (no record says when it was fetched)",
        ),
        (
            ("epss.csv.gz",),
            {"INPUT_EPSS": "mine.csv"},
            "{data} holds no earlier copy of the KEV catalog to use",
        ),
        (
            ("kev.json", "epss.csv.gz"),
            {},
            "the files already in {data} are used (no record says when they were fetched)",
        ),
    ],
    ids=["none", "kev only", "epss only", "epss with kev given", "epss stored and given", "both"],
)
def test_a_failed_fetch_says_which_stored_copy_the_gate_uses(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    stored: tuple[str, ...],
    inputs: dict[str, str],
    used: str,
) -> None:
    # The warning named no copy whenever either file was missing, though the other was used;
    # a file the `kev` or `epss` input names is no copy of the directory's.
    data = tmp_path / "data"
    data.mkdir()
    for name in stored:
        (data / name).write_bytes(b"stored by an earlier fetch")
    invocation = build_invocation({**SCAN, "INPUT_EXPLOIT-DATA": str(data), **inputs})
    entrypoint.with_exploit_data(invocation, stored_by(None))
    assert capsys.readouterr().err == (
        "container-gate: warning: input `exploit-data`: the KEV and EPSS data could not be "
        f"refreshed (exit 3); {used.format(data=data)}\n"
    )


def runner_commands(log: str) -> list[str]:
    """The lines of `log` the runner reads as workflow commands (actions/runner ActionCommand.cs):
    `::name ...::` once leading blanks are skipped, or `##[name ...]` anywhere in the line; the
    runner ends a line at `\\r` too."""
    lines = re.split(r"\r\n|\r|\n", log)
    return [line for line in lines if re.match(r"\s*::[^:]*::", line) or re.search(r"##\[[^\]]*\]", line)]


def test_on_github_the_kept_line_of_a_directory_named_like_a_command_is_no_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `data fetch` starts its "kept" line with the directory the workflow names: a relative one
    # starting with `::` was a workflow command in the log.
    from gate.cli.main import main as gate_main

    monkeypatch.chdir(tmp_path)
    data = Path("::warning title=x::data")
    data.mkdir()
    for name in ("kev.json", "epss.csv"):
        (data / name).write_bytes(b"stored by an earlier fetch")
    fetched = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    record = {"fetched_at": fetched, "kev": {"file": "kev.json"}, "epss": {"file": "epss.csv"}}
    (data / "exploit-data.json").write_text(json.dumps(record), encoding="utf-8")
    env = {**SCAN, "GITHUB_ACTIONS": "true", "INPUT_EXPLOIT-DATA": str(data)}
    argv = entrypoint.with_exploit_data(build_invocation(env), gate_main)
    assert f"--kev={data}/kev.json" in argv
    captured = capsys.readouterr()
    assert "kept" in captured.out
    assert "warning title=x::data" in captured.out  # the name is still shown
    assert runner_commands(captured.out + captured.err) == []


def test_on_github_no_line_the_fetch_says_can_be_a_workflow_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Its lines hold the directory's name and what the downloaded files say of themselves.
    said = [
        "KEV catalog ##[add-mask]2026.08.07 (released 2026-08-07): data/kev.json",
        "  ::error::a line of its own\r ::stop-commands::token",
    ]

    def fetch(_argv: list[str]) -> int:
        print(said[0])
        sys.stdout.write(said[1][:9])  # written in parts, as a stream may be
        sys.stdout.write(said[1][9:] + "\n")
        print(f"container-gate: error: {said[0]}", file=sys.stderr)
        sys.stderr.write("##[warning]no line break at the end")
        return 3

    env = {**SCAN, "INPUT_EXPLOIT-DATA": str(tmp_path / "data")}
    entrypoint.with_exploit_data(build_invocation({**env, "GITHUB_ACTIONS": "true"}), fetch)
    captured = capsys.readouterr()
    # The one command: the entry point's warning that the fetch failed.
    assert [line.split("::")[1] for line in runner_commands(captured.out + captured.err)] == [
        "warning title=container-gate%3A warning"
    ]
    assert captured.out.count("\n") == 3  # the two lines and the warning, none lost or joined
    assert "(released 2026-08-07): data/kev.json" in captured.out
    # Outside GitHub the text is as the fetch wrote it.
    entrypoint.with_exploit_data(build_invocation(env), fetch)
    captured = capsys.readouterr()
    assert captured.out == "".join(line + "\n" for line in said)
    assert captured.err.startswith(f"container-gate: error: {said[0]}\n##[warning]no line break at the end")


def test_on_github_a_bad_input_s_error_line_is_no_workflow_command(tmp_path: Path) -> None:
    done, _, _ = github_run(tmp_path, **SCAN, INPUT_ADVISORY="##[stop-commands]token")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("container-gate: error: input `advisory` must be `true` or `false`, got '#")
    assert runner_commands(done.stderr) == []
    # The error annotation is the one command, and the value in it cannot end it early.
    assert [line.split("::")[1] for line in runner_commands(done.stdout)] == [
        "error title=container-gate could not decide (exit code 2)"
    ]


def test_on_github_the_error_outputs_of_a_bad_input_write_no_workflow_command(tmp_path: Path) -> None:
    # The error outputs of a bad input are written before the gate runs: an output that cannot be
    # written names its path in a line of its own, and that path is an input's value too.
    (tmp_path / "##[add-mask]x").mkdir()
    done, _, _ = github_run(tmp_path, **SCAN, INPUT_ADVISORY="yes", INPUT_JSON="##[add-mask]x")
    assert done.returncode == 2
    assert "x: cannot write output file: Is a directory" in done.stderr
    assert runner_commands(done.stderr) == []
    assert [line.split("::")[1] for line in runner_commands(done.stdout)] == [
        "error title=container-gate could not decide (exit code 2)"
    ]


@pytest.mark.parametrize("given", ["data.json", "data.json/exploit-data"])
def test_an_exploit_data_input_that_is_no_directory_exits_2_with_one_line_naming_it(
    tmp_path: Path, given: str
) -> None:
    # `data fetch` stopped at it with an error about its `--out` option, the gate went on without
    # the data and stopped at that: three lines, none naming the input.
    (tmp_path / "data.json").write_text("{}", encoding="utf-8")
    report = str(corpus_file("trivy", "alpine-39.json.golden"))
    done = run_entrypoint({"INPUT_REPORT": report, "INPUT_SARIF": "", "INPUT_EXPLOIT-DATA": given}, tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr
        == "container-gate: error: input `exploit-data` must name a directory: 'data.json' is not one\n"
    )


def test_the_action_gates_with_the_data_a_fetch_stored_and_refreshes_it_at_most_daily(
    tmp_path: Path,
) -> None:
    # Stored by `data fetch` from a local server, as a restored cache holds it: less than 20 hours
    # old, so the action's own fetch keeps it and downloads nothing.
    from gate.cli.main import main as gate_main
    from tests.support.data_server import Reply, running_server

    data = tmp_path / "cache" / "exploit-data"
    for server in running_server():
        kev = corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json").read_bytes()
        server.serve("/kev.json", Reply(200, kev, "application/json"))
        server.serve("/epss.csv", Reply(200, corpus_file("epss", "excerpt.csv").read_bytes(), "text/csv"))
        fetch = ["data", "fetch", "--out", str(data), "--retries", "0"]
        assert (
            gate_main([*fetch, "--kev-url", server.url("/kev.json"), "--epss-url", server.url("/epss.csv")])
            == 0
        )
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfail_on: {severity: CRITICAL, known_exploited: true}\n", encoding="utf-8")
    done = run_entrypoint(
        {
            "INPUT_REPORT": str(corpus_file("trivy", "spring4shell-jre11.json.golden")),
            "INPUT_POLICY": str(policy),
            "INPUT_EXPLOIT-DATA": "cache/exploit-data",
            "INPUT_JSON": "gate.json",
            "INPUT_SARIF": "",
        },
        tmp_path,
    )
    assert done.returncode == 1, done.stderr
    # In the action's words: its user never typed `--if-older-than`.
    assert re.search(
        r"^input `exploit-data`: the KEV and EPSS data in cache/exploit-data were fetched \d+\.\d hours ago: "
        r"kept \(the action downloads them again once 20 hours old\)$",
        done.stdout,
        re.MULTILINE,
    )
    assert "--if-older-than" not in done.stdout + done.stderr
    assert "1 blocking finding(s), 1 known-exploited" in done.stdout
    sources = json.loads((tmp_path / "gate.json").read_text(encoding="utf-8"))["exploit_data"]["sources"]
    assert [source["path"] for source in sources] == [
        "cache/exploit-data/kev.json",
        "cache/exploit-data/epss.csv",
    ]


def test_a_fetch_interrupted_stops_the_action_before_the_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A cancelled job (SIGTERM, read as Ctrl-C) while `data fetch` runs: the gate does not go on
    # to scan and decide, and the outputs say no verdict, not an earlier run's.
    import gate.cli.data_fetch
    from gate.cli.run_by import RUN_BY_ACTION

    def interrupted(*_args: object, **_kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(gate.cli.data_fetch, "fetch_exploit_data", interrupted)
    monkeypatch.chdir(tmp_path)
    for key in [key for key in os.environ if key.startswith(("INPUT_", "GITHUB_", "GITLAB_", "CI"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv(RUN_BY_ACTION, "")  # restored after the test, as main sets it
    inputs = {
        "INPUT_REPORT": str(corpus_file("trivy", "spring4shell-jre11.json.golden")),
        "INPUT_EXPLOIT-DATA": "data",
        "INPUT_JSON": "gate.json",
        "INPUT_SARIF": "",
    }
    for key, value in inputs.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "gate.json").write_text('{"verdict": "pass"}', encoding="utf-8")
    assert entrypoint.main() == 130
    captured = capsys.readouterr()
    assert captured.err == "container-gate: interrupted\n"
    assert "blocking" not in captured.out  # the gate did not run
    report = json.loads((tmp_path / "gate.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "error"
    assert report["error"]["message"] == "interrupted before a verdict"


HANDED_BACK = {
    "sarif": "SARIF",
    "json": "JSON",
    "markdown": "Markdown",
    "openvex": "OpenVEX",
    "cache-dir": "the DB cache",
    "exploit-data": "`exploit-data`",
}
"""What docs/github-action.md calls each input whose file or directory goes back to the runner's user."""


def test_the_guide_names_every_file_handed_back_to_the_runner_s_user() -> None:
    # "It runs as root" listed SARIF, JSON, Markdown and the DB cache; the OpenVEX file and the
    # exploit-data directory were handed back too.
    env = {**SCAN, **{f"INPUT_{name.upper()}": f"out/{name}.x" for name in HANDED_BACK}}
    invocation = build_invocation(env)
    handed = {
        path.removeprefix("out/").removesuffix(".x") for path in (*invocation.outputs, *invocation.trees)
    }
    assert handed == set(HANDED_BACK)
    guide = " ".join((PROJECT_ROOT / "docs" / "github-action.md").read_text(encoding="utf-8").split())
    said = guide.split("the entry point hands the files it wrote in the workspace (")[1].split(")")[0]
    assert [name for name in HANDED_BACK.values() if name not in said] == [], said


PASSWORD = "registry-Password-000000000000000001"  # noqa: S105 (no registry accepts it)


def test_the_registry_login_is_read_from_its_inputs_and_never_shown() -> None:
    login = {"INPUT_REGISTRY": "127.0.0.1:5000", "INPUT_REGISTRY-USERNAME": "octocat"}
    invocation = build_invocation({**SCAN, **login, "INPUT_REGISTRY-PASSWORD": f" {PASSWORD}\n"})
    assert invocation.login == entrypoint.RegistryLogin("127.0.0.1:5000", "octocat", PASSWORD)
    assert PASSWORD not in repr(invocation)
    assert not any(PASSWORD in arg for arg in invocation.argv)
    # No password (a fork's pull request gets no secrets): no login, and the run goes on.
    assert build_invocation({**SCAN, **login, "INPUT_REGISTRY-PASSWORD": ""}).login is None
    assert build_invocation(SCAN).login is None


@pytest.mark.parametrize(
    ("registry", "keys", "references"),
    [
        ("ghcr.io", ["ghcr.io", "ghcr.io:443"], ["ghcr.io", "ghcr.io:443"]),
        # Trivy and Grype look the key up letter for letter, and a default port makes another key.
        ("GHCR.io", ["ghcr.io", "ghcr.io:443"], ["ghcr.io"]),
        ("ghcr.io:443", ["ghcr.io:443", "ghcr.io"], ["ghcr.io", "ghcr.io:443"]),
        ("127.0.0.1:5000", ["127.0.0.1:5000"], ["127.0.0.1:5000"]),
        ("registry.example.com:5000", ["registry.example.com:5000"], ["registry.example.com:5000"]),
        ("docker.io", ["https://index.docker.io/v1/"], ["docker.io", "index.docker.io"]),
        (
            "registry-1.docker.io:443",
            ["https://index.docker.io/v1/", "registry-1.docker.io:443"],
            ["docker.io", "registry-1.docker.io:443"],
        ),
    ],
)
def test_the_registry_login_goes_into_a_private_docker_config_the_gate_reads(
    registry: str, keys: list[str], references: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gate.image.reference import parse_reference
    from gate.image.registry_auth import docker_config_file, find_credentials

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    directory = entrypoint.write_docker_config(entrypoint.RegistryLogin(registry, "octocat", PASSWORD), {})
    assert directory.parent == tmp_path
    assert directory.stat().st_mode & 0o777 == 0o700
    config = directory / "config.json"
    assert config.stat().st_mode & 0o777 == 0o600
    assert list(json.loads(config.read_text(encoding="utf-8"))["auths"]) == keys
    env = {"DOCKER_CONFIG": str(directory)}
    for written in references:
        found = find_credentials(
            parse_reference(f"{written}/acme/base:12").registry, docker_config_file(env), env
        )
        assert found is not None, written
        assert (found.username, found.secret) == ("octocat", PASSWORD)


def test_the_docker_config_is_never_written_in_the_workspace_or_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A workflow's `env: TMPDIR: ...` could point into the workspace, which later steps read and
    # upload, or into HOME, which GitHub mounts into every later container action of the job.
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    for shared in ("GITHUB_WORKSPACE", "HOME"):
        assert entrypoint._private_temp({shared: str(tmp_path)}) == "/tmp"
    assert entrypoint._private_temp({"GITHUB_WORKSPACE": str(tmp_path / "workspace")}) == str(
        tmp_path / "tmp"
    )


def _auth(user: str, password: str) -> dict[str, str]:
    import base64

    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode("ascii")}


def test_the_registry_login_keeps_the_logins_of_the_docker_config_the_workflow_gave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A workflow's `env: DOCKER_CONFIG: ...` names a config with other registries' logins: the
    # inputs' login joins them (and wins for its own registry), and the workflow's file is only read.
    from gate.cli.run_by import RUN_BY_ACTION
    from gate.image.registry_auth import Credentials, docker_config_file, find_credentials

    given = tmp_path / "workflow-docker"
    given.mkdir()
    other = _auth("robot", "other-registry-token")
    (given / "config.json").write_text(
        json.dumps(
            {
                "auths": {
                    "https://GHCR.io": _auth("old", "stale"),
                    "ghcr.io:443": _auth("old", "stale"),
                    "registry.example.com": other,
                },
                "credsStore": "desktop",
                "credHelpers": {"123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"},
            }
        ),
        encoding="utf-8",
    )
    before = (given / "config.json").read_bytes()
    seen: dict[str, object] = {}
    found: dict[str, Credentials | None] = {}

    def gate_run(argv: list[str]) -> int:
        config = Path(os.environ["DOCKER_CONFIG"])
        seen["auths"] = json.loads((config / "config.json").read_text(encoding="utf-8"))
        env = dict(os.environ)
        for registry in ("ghcr.io", "registry.example.com"):
            found[registry] = find_credentials(registry, docker_config_file(env), env)
        return 0

    import gate.cli.main

    monkeypatch.setattr(gate.cli.main, "main", gate_run)
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    monkeypatch.chdir(tmp_path)
    for key in [key for key in os.environ if key.startswith(("INPUT_", "GITHUB_", "GITLAB_", "CI"))]:
        monkeypatch.delenv(key)
    (tmp_path / "tmp").mkdir()
    inputs = {
        "TMPDIR": str(tmp_path / "tmp"),
        RUN_BY_ACTION: "",  # restored after the test, as main sets it
        "DOCKER_CONFIG": str(given),
        "INPUT_IMAGE": "docker-archive:app.tar",
        "INPUT_REGISTRY": "ghcr.io",
        "INPUT_REGISTRY-USERNAME": "octocat",
        "INPUT_REGISTRY-PASSWORD": PASSWORD,
    }
    for key, value in inputs.items():
        monkeypatch.setenv(key, value)
    assert entrypoint.main() == 0
    login = _auth("octocat", PASSWORD)
    assert seen["auths"] == {
        "auths": {
            "registry.example.com": other,
            "registry.example.com:443": other,  # as the inputs' login, under both spellings
            "ghcr.io": login,
            "ghcr.io:443": login,
        }
    }
    logins = {registry: (login.username, login.secret) for registry, login in found.items() if login}
    assert logins == {
        "ghcr.io": ("octocat", PASSWORD),
        "registry.example.com": ("robot", "other-registry-token"),
    }
    assert (given / "config.json").read_bytes() == before
    assert os.environ["DOCKER_CONFIG"] != str(given)  # the run's own, removed
    assert list((tmp_path / "tmp").iterdir()) == []
    err = capsys.readouterr().err
    assert (
        f"container-gate: warning: {given / 'config.json'}: its credential helpers (ecr-login for "
        "123456789012.dkr.ecr.us-east-1.amazonaws.com, desktop for every other registry) cannot run "
        "in the action's container: they are left out, the logins of its `auths` are used beside the "
        "`registry` inputs' login, and a registry only a helper logged in to is read without "
        "credentials (give its login to the `registry` inputs)\n"
    ) in err
    assert PASSWORD not in err


def test_a_docker_config_naming_credential_helpers_is_read_without_them_even_with_no_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `gcloud auth configure-docker` or Docker Desktop names helpers the action's image does not
    # have: read as it is, the config failed every registry read they cover (with `credsStore`,
    # public images too), in the gate and the scanners alike, though no `registry` input was given.
    from gate.cli.run_by import RUN_BY_ACTION

    given = tmp_path / "workflow-docker"
    given.mkdir()
    quay = _auth("robot", "quay-token")
    gcloud = {f"{region}-docker.pkg.dev": "gcloud" for region in ("europe", "us", "asia")}
    config = {"auths": {"quay.io": quay}, "credsStore": "desktop", "credHelpers": gcloud}
    (given / "config.json").write_text(json.dumps(config), encoding="utf-8")
    before = (given / "config.json").read_bytes()
    seen: list[tuple[str, object]] = []

    def gate_run(argv: list[str]) -> int:
        directory = os.environ["DOCKER_CONFIG"]
        read = json.loads((Path(directory) / "config.json").read_text(encoding="utf-8"))
        seen.append((directory, read))
        return 0

    import gate.cli.main

    monkeypatch.setattr(gate.cli.main, "main", gate_run)
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    monkeypatch.chdir(tmp_path)
    for key in [key for key in os.environ if key.startswith(("INPUT_", "GITHUB_", "GITLAB_", "CI"))]:
        monkeypatch.delenv(key)
    (tmp_path / "tmp").mkdir()
    (tmp_path / "report.json").write_text("{}", encoding="utf-8")
    for key, value in {
        "TMPDIR": str(tmp_path / "tmp"),
        RUN_BY_ACTION: "",
        "DOCKER_CONFIG": str(given),
    }.items():
        monkeypatch.setenv(key, value)

    def run(**inputs: str) -> str:
        for key, value in inputs.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("DOCKER_CONFIG", str(given))
        assert entrypoint.main() == 0  # which takes the INPUT_* variables out of the environment
        return capsys.readouterr().err

    err = run(INPUT_IMAGE="docker-archive:app.tar")
    [(directory, read)] = seen
    assert directory != str(given)
    # Its logins (each with and without the default port), none of its helpers.
    assert read == {"auths": {"quay.io": quay, "quay.io:443": quay}}
    assert list((tmp_path / "tmp").iterdir()) == []  # removed when the run ends
    assert (given / "config.json").read_bytes() == before
    assert (
        f"container-gate: warning: {given / 'config.json'}: its credential helpers (gcloud for 3 "
        "registries, desktop for every other registry) cannot run in the action's container: they "
        "are left out, the logins of its `auths` are used, and a registry only a helper logged in to "
        "is read without credentials (give its login to the `registry` inputs)\n"
    ) in err
    assert "quay-token" not in err

    # Gating reports reads no registry: the config stays as it is, without a word about it.
    seen.clear()
    assert "credential helpers" not in run(INPUT_REPORT="report.json")
    assert seen == [(str(given), config)]

    # A config without helpers is read as it is.
    seen.clear()
    (given / "config.json").write_text(json.dumps({"auths": {"quay.io": quay}}), encoding="utf-8")
    assert "credential helpers" not in run(INPUT_IMAGE="docker-archive:app.tar")
    assert seen == [(str(given), {"auths": {"quay.io": quay}})]


def test_the_docker_config_in_home_is_kept_and_one_that_cannot_be_read_is_said(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "config.json").write_text(
        json.dumps({"auths": {"quay.io": _auth("robot", "quay-token"), "odd": "not an object"}}),
        encoding="utf-8",
    )
    assert entrypoint.existing_logins({"HOME": str(home)}) == entrypoint.ExistingLogins(
        {"quay.io": _auth("robot", "quay-token")}, []
    )
    assert entrypoint.existing_logins({"HOME": str(tmp_path)}) == entrypoint.ExistingLogins({}, [])
    missing = tmp_path / "absent"
    assert entrypoint.existing_logins({"DOCKER_CONFIG": str(missing), "HOME": str(home)}) == (
        entrypoint.ExistingLogins(
            {},
            [
                f"DOCKER_CONFIG names {missing}, where the action's container has no config.json: only "
                "the login of the `registry` inputs is used (the container sees the workspace as /github/workspace)"
            ],
        )
    )
    (home / ".docker" / "config.json").write_text(
        '{"auths": {"quay.io": {"auth": "c2VjcmV0"}', encoding="utf-8"
    )
    existing = entrypoint.existing_logins({"HOME": str(home)})
    kept, [said] = existing.auths, existing.notes
    assert kept == {}
    assert said.startswith(f"{home / '.docker' / 'config.json'}: cannot read the Docker config (")
    assert said.endswith("): only the login of the `registry` inputs is used")
    assert "c2VjcmV0" not in said


def test_a_kept_login_covers_its_registrys_other_spelling_only_where_the_config_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With and without HTTPS's default port, two logins of the workflow's config stay each its own;
    # a login under one spelling alone covers the other too.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    kept = {
        "registry.example.com": _auth("robot", "bare"),
        "registry.example.com:443": _auth("deployer", "with-port"),
        "other.example.com:443": _auth("reader", "other"),
    }
    directory = entrypoint.write_docker_config(None, {}, kept)
    assert json.loads((directory / "config.json").read_text(encoding="utf-8"))["auths"] == {
        **kept,
        "other.example.com": _auth("reader", "other"),
    }
