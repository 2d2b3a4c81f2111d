"""The GitLab template's `baseline-ref` (gate/platforms/gitlab_baseline.py and the job script):
the default branch's decision report fetched through the job artifacts API with CI_JOB_TOKEN,
against the GitLab fake, which holds every request to GitLab's documented endpoint; a 404 (the
last pipeline of the ref skipped the job) is a warning, and the gate then says the baseline is
not used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gate.cli.parser import build_parser
from gate.platforms.gitlab_baseline import MAX_REDIRECTS, artifact_url, main
from tests.support.data_server import DataServer, Reply, hanging_up, running_server
from tests.support.gitlab_fixtures import MergeRequestPipeline, merge_request_pipeline
from tests.support.gitlab_server import GitLabFake
from tests.support.gitlab_templates import (
    PIPELINES_OF_A_CHANGE,
    component,
    docs_example,
    interpolate,
    job_rule,
    job_runs,
    runner_expanded,
)
from tests.support.tls import PrivateCa

pytest_plugins = ["tests.support.gitlab_fixtures"]

REPORT = b'{"schema": "container-gate/decision/v1", "verdict": "pass", "findings": []}\n'


def test_the_report_of_the_default_branch_is_fetched_with_the_job_token(
    gitlab_mr_pipeline: MergeRequestPipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gitlab, env = gitlab_mr_pipeline.gitlab, gitlab_mr_pipeline.env
    gitlab.add_artifact(gitlab_mr_pipeline.project, "main", "container-gate", "container-gate.json", REPORT)
    out = tmp_path / "baseline.json"
    assert main(["main", str(out)], env) == 0
    assert out.read_bytes() == REPORT
    (request,) = gitlab.requests
    assert (request.method, request.target) == (
        "GET",
        "/api/v4/projects/42/jobs/artifacts/main/raw/container-gate.json?job=container-gate",
    )
    assert request.header("JOB-TOKEN") == gitlab_mr_pipeline.job_token
    assert request.status == 200
    assert gitlab_mr_pipeline.job_token not in capsys.readouterr().err


def test_a_branch_with_a_slash_is_one_encoded_segment(
    gitlab_mr_pipeline: MergeRequestPipeline, tmp_path: Path
) -> None:
    gitlab, env = gitlab_mr_pipeline.gitlab, gitlab_mr_pipeline.env
    gitlab.add_artifact(
        gitlab_mr_pipeline.project, "release/1.x", "container-gate", "container-gate.json", REPORT
    )
    assert artifact_url("http://h/api/v4", "42", "release/1.x").endswith(
        "/artifacts/release%2F1.x/raw/container-gate.json"
    )
    assert main(["release/1.x", str(tmp_path / "b.json")], env) == 0
    assert (tmp_path / "b.json").read_bytes() == REPORT


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64"])
def test_a_matrix_job_fetches_the_report_of_its_own_platforms_job(
    platform: str, gitlab_mr_pipeline: MergeRequestPipeline, tmp_path: Path
) -> None:
    # A `parallel: matrix:` job is named after its values (`container-gate: [linux/amd64]`), in
    # CI_JOB_NAME and in the baseline branch's pipeline alike: the artifacts API's `job` is that
    # whole name, a query parameter whose blank, colon, brackets and slash are encoded.
    gitlab = gitlab_mr_pipeline.gitlab
    reports = {
        each: REPORT.replace(b'"pass"', f'"pass", "platform": "{each}"'.encode())
        for each in ("linux/amd64", "linux/arm64")
    }
    for each, report in reports.items():
        gitlab.add_artifact(
            gitlab_mr_pipeline.project, "main", f"container-gate: [{each}]", "container-gate.json", report
        )
    matrix_job = {"CI_JOB_NAME": f"container-gate: [{platform}]", "CONTAINER_GATE_PLATFORM": platform}
    _done, argv = run_job_script(gitlab_mr_pipeline, tmp_path, **matrix_job)
    assert f"--platform={platform}" in argv
    assert "--baseline=container-gate-baseline.json" in argv
    assert (tmp_path / "container-gate-baseline.json").read_bytes() == reports[platform]
    (request,) = gitlab.requests
    encoded = platform.replace("/", "%2F")
    assert request.target == (
        "/api/v4/projects/42/jobs/artifacts/main/raw/container-gate.json"
        f"?job=container-gate%3A+%5B{encoded}%5D"
    )
    assert request.status == 200


def test_a_404_is_a_warning_and_leaves_no_file(
    gitlab_mr_pipeline: MergeRequestPipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "baseline.json"
    out.write_text("stale")
    assert main(["main", str(out)], gitlab_mr_pipeline.env) == 0
    assert not out.exists()
    err = capsys.readouterr().err
    assert (
        "container-gate: warning: no baseline: GitLab has no container-gate.json of job 'container-gate' on main (404"
        in err
    )
    assert "skipped the job" in err
    (request,) = gitlab_mr_pipeline.gitlab.requests
    assert request.status == 404


def test_a_gitlab_with_its_own_ca_is_trusted_through_the_runners_ca_file(
    private_ca: PrivateCa, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with GitLabFake(tls=private_ca.server_context) as gitlab:
        pipeline = merge_request_pipeline(gitlab)
        gitlab.add_artifact(pipeline.project, "main", "container-gate", "container-gate.json", REPORT)
        out = tmp_path / "baseline.json"
        assert main(["main", str(out)], pipeline.env) == 0
        assert not out.exists()
        assert (
            "(TLS error: its certificate is not trusted; is GitLab's certificate from a CA the job trusts?"
            in capsys.readouterr().err
        )

        env = {**pipeline.env, "CI_SERVER_TLS_CA_FILE": str(private_ca.ca_file)}
        assert main(["main", str(out)], env) == 0
        assert out.read_bytes() == REPORT
        gitlab.assert_no_violations()


HOSTILE_REF = "main\x1b]0;x\x07\u202e\u2028::warning::x"
"""A ref as a variable can hold it: an escape sequence, a bidi override, a line separator."""
HOSTILE_SHOWN = "main\\x1b]0;x\\x07\\u202e\\u2028::warning::x"


def test_a_ref_is_shown_escaped_in_the_warning(
    gitlab_mr_pipeline: MergeRequestPipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([HOSTILE_REF, str(tmp_path / "b.json")], gitlab_mr_pipeline.env) == 0
    err = capsys.readouterr().err
    assert f"on {HOSTILE_SHOWN} (404: the last pipeline of {HOSTILE_SHOWN} skipped" in err
    assert len(err.splitlines()) == 1
    assert not any(char in err for char in "\x1b\x07\u202e\u2028")


def test_a_ref_is_shown_escaped_in_the_line_that_says_it_was_fetched(
    gitlab_mr_pipeline: MergeRequestPipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gitlab, env = gitlab_mr_pipeline.gitlab, gitlab_mr_pipeline.env
    gitlab.add_artifact(
        gitlab_mr_pipeline.project, HOSTILE_REF, "container-gate", "container-gate.json", REPORT
    )
    out = tmp_path / "b\u202e.json"
    assert main([HOSTILE_REF, str(out)], env) == 0
    assert out.read_bytes() == REPORT
    err = capsys.readouterr().err
    assert (
        err
        == f"container-gate: baseline: container-gate.json of {HOSTILE_SHOWN} fetched to {tmp_path}/b\\u202e.json\n"
    )


def test_outside_gitlab_ci_it_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["main", str(tmp_path / "b.json")], {}) == 0
    assert "CI_JOB_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize(
    "token", ["glcbt-caf\u00e9-\u20ac", "glcbt-line\nbreak"], ids=["non-latin-1", "line-break"]
)
def test_a_job_token_no_header_can_carry_is_a_warning_without_it(
    token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"CI_API_V4_URL": "http://127.0.0.1:9/api/v4", "CI_PROJECT_ID": "42", "CI_JOB_NAME": "gate"}
    assert main(["main", str(tmp_path / "b.json")], {**env, "CI_JOB_TOKEN": token}) == 0
    err = capsys.readouterr().err
    assert (
        err
        == "container-gate: warning: no baseline: CI_JOB_TOKEN holds characters an HTTP header cannot carry\n"
    )


JOB_TOKEN = "glcbt-redirect-test-0123456789"  # noqa: S105 (a test value, not a secret)
ARTIFACT_PATH = "/api/v4/projects/42/jobs/artifacts/main/raw/container-gate.json?job=container-gate"


@pytest.fixture
def server() -> Iterator[DataServer]:
    yield from running_server()


def job_environment(server: DataServer) -> dict[str, str]:
    return {
        "CI_API_V4_URL": server.url("/api/v4"),
        "CI_PROJECT_ID": "42",
        "CI_JOB_TOKEN": JOB_TOKEN,
        "CI_JOB_NAME": "container-gate",
    }


def test_the_job_token_never_follows_a_redirect_to_another_origin(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GitLab (127.0.0.1) redirects once within itself, then to a CDN: the same server under another
    # origin (localhost). requests would send a custom header along to every host of the chain.
    cdn = server.base.replace("127.0.0.1", "localhost")
    server.serve(ARTIFACT_PATH, Reply(302, headers=(("Location", "/signed?part=1"),)))
    server.serve("/signed?part=1", Reply(302, headers=(("Location", cdn + "/cdn/report.json"),)))
    server.serve("/cdn/report.json", Reply(200, REPORT, "application/json"))
    out = tmp_path / "baseline.json"
    assert main(["main", str(out)], job_environment(server)) == 0
    assert out.read_bytes() == REPORT
    hosts = [headers["Host"].split(":")[0] for headers in server.headers]
    tokens = [headers.get("JOB-TOKEN") for headers in server.headers]
    assert server.requests == [ARTIFACT_PATH, "/signed?part=1", "/cdn/report.json"]
    assert list(zip(hosts, tokens, strict=True)) == [
        ("127.0.0.1", JOB_TOKEN),
        ("127.0.0.1", JOB_TOKEN),
        ("localhost", None),
    ]
    assert JOB_TOKEN not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("reset", "said"), [(True, "connection reset"), (False, "it closed the connection without answering")]
)
def test_a_gitlab_that_hangs_up_is_a_warning_that_says_how(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reset: bool, said: str
) -> None:
    # Was "(ConnectionError)": the exception's class.
    out = tmp_path / "baseline.json"
    with hanging_up(reset) as url:
        env = {"CI_API_V4_URL": url + "/api/v4", "CI_PROJECT_ID": "42", "CI_JOB_TOKEN": JOB_TOKEN}
        assert main(["main", str(out)], {**env, "CI_JOB_NAME": "container-gate"}) == 0
    assert not out.exists()
    err = capsys.readouterr().err
    assert (
        "no baseline: cannot reach GitLab for the container-gate.json of job 'container-gate' on main "
        f"({said})" in err
    )
    assert JOB_TOKEN not in err


def test_endless_redirects_are_a_warning_and_leave_no_file(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve(ARTIFACT_PATH, Reply(302, headers=(("Location", "/again"),)))
    server.serve("/again", Reply(302, headers=(("Location", "/again"),)))
    out = tmp_path / "baseline.json"
    assert main(["main", str(out)], job_environment(server)) == 0
    assert not out.exists()
    assert len(server.requests) == MAX_REDIRECTS + 1
    err = capsys.readouterr().err
    assert (
        "no baseline: cannot reach GitLab for the container-gate.json of job 'container-gate' on main" in err
    )
    assert "TooManyRedirects" in err
    assert JOB_TOKEN not in err


def run_job_script(
    pipeline: MergeRequestPipeline, tmp_path: Path, **extra: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The component's job script with `baseline-ref: main`, a stand-in gate that records its
    arguments and the real baseline fetch; (the finished script, the gate's arguments)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The gate image's `python` is the gate's own interpreter; a wrapper, since a symlink to a
    # virtual environment's interpreter loses the environment.
    wrapper = bin_dir / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    stand_in = bin_dir / "container-gate"
    stand_in.write_text(
        f"#!{sys.executable}\nimport json, os, sys\njson.dump(sys.argv[1:], open(os.environ['ARGV_OUT'], 'w'))\n",
        encoding="utf-8",
    )
    stand_in.chmod(0o755)
    _inputs, _name, job = component()
    env = {
        key: "" if "inputs." in value else value
        for key, value in job["variables"].items()
        if key.startswith("CONTAINER_GATE_")
    }
    env |= {
        "CONTAINER_GATE_IMAGE": "reg.example/app:1",
        "CONTAINER_GATE_SCANNER": "trivy",
        "CONTAINER_GATE_CACHE_DIR": ".cache",
        "CONTAINER_GATE_MAX_DB_AGE": "5d",
        "CONTAINER_GATE_BASELINE_REF": "main",
    }
    done = subprocess.run(
        ["sh", "-e", "-c", "\n".join(job["script"])],
        cwd=tmp_path,
        env={
            **pipeline.env,
            **env,
            **extra,
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "ARGV_OUT": str(tmp_path / "argv.json"),
            "HOME": os.environ.get("HOME", "/tmp"),
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    argv: list[str] = json.loads((tmp_path / "argv.json").read_text())
    return done, argv


@pytest.mark.parametrize("present", [True, False], ids=["artifact", "404"])
def test_the_job_script_gives_the_gate_the_fetched_baseline(
    present: bool, gitlab_mr_pipeline: MergeRequestPipeline, tmp_path: Path
) -> None:
    gitlab = gitlab_mr_pipeline.gitlab
    if present:
        gitlab.add_artifact(
            gitlab_mr_pipeline.project, "main", "container-gate", "container-gate.json", REPORT
        )
    done, argv = run_job_script(gitlab_mr_pipeline, tmp_path)
    assert "--baseline=container-gate-baseline.json" in argv
    assert argv.index("--baseline=container-gate-baseline.json") < argv.index("--")
    # The outputs name the branch the report is of, not the job's copy of it.
    assert argv.index("--baseline-branch=main") < argv.index("--")
    assert build_parser().parse_args(argv).baseline_branch == "main"
    assert "--advisory" not in argv
    fetched = tmp_path / "container-gate-baseline.json"
    assert fetched.exists() is present
    if present:
        assert fetched.read_bytes() == REPORT
    else:
        assert "warning: no baseline" in done.stderr
    assert gitlab_mr_pipeline.job_token not in done.stdout + done.stderr


def test_on_the_baseline_branch_itself_the_job_records_advisory_and_fetches_nothing(
    gitlab_mr_pipeline: MergeRequestPipeline, tmp_path: Path
) -> None:
    # The artifacts API serves only successful jobs of the ref's latest successful pipeline: a
    # job the gate failed on the default branch would leave every merge request without a baseline.
    gitlab = gitlab_mr_pipeline.gitlab
    gitlab.add_artifact(gitlab_mr_pipeline.project, "main", "container-gate", "container-gate.json", REPORT)
    before = len(gitlab.requests)
    # A branch pipeline of main: GitLab sets CI_COMMIT_BRANCH there, and no merge-request variable.
    branch = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main"}
    branch |= {"CI_MERGE_REQUEST_IID": "", "CI_MERGE_REQUEST_PROJECT_ID": ""}
    _done, argv = run_job_script(gitlab_mr_pipeline, tmp_path, **branch)
    assert "--advisory" in argv
    assert argv.index("--advisory") < argv.index("--")
    assert not any(arg.startswith("--baseline") for arg in argv)
    assert not (tmp_path / "container-gate-baseline.json").exists()
    assert len(gitlab.requests) == before


@pytest.mark.parametrize(
    "pipeline",
    [
        # A fork's `main` proposed to the project's `main`: the merge-request pipeline's ref name
        # is the source branch's, but it is no pipeline of the project's main.
        {"CI_COMMIT_REF_NAME": "main", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "main"},
        # A release tag named like the branch.
        {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_TAG": "main"},
    ],
    ids=["merge request from a branch named main", "tag"],
)
def test_a_pipeline_that_is_not_the_baseline_branchs_own_is_gated_against_the_baseline(
    pipeline: dict[str, str], gitlab_mr_pipeline: MergeRequestPipeline, tmp_path: Path
) -> None:
    # CI_COMMIT_REF_NAME is the source branch in a merge-request pipeline: compared with it, a
    # merge request from a branch named like `baseline-ref` was gated advisory and never failed.
    gitlab = gitlab_mr_pipeline.gitlab
    gitlab.add_artifact(gitlab_mr_pipeline.project, "main", "container-gate", "container-gate.json", REPORT)
    _done, argv = run_job_script(gitlab_mr_pipeline, tmp_path, **pipeline)
    assert "--advisory" not in argv
    assert "--baseline=container-gate-baseline.json" in argv
    assert (tmp_path / "container-gate-baseline.json").read_bytes() == REPORT


PROTECTED_PUSH = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_REF_PROTECTED": "true"}
PROTECTED_PUSH |= {"CI_MERGE_REQUEST_IID": "", "CI_MERGE_REQUEST_PROJECT_ID": ""}


@pytest.mark.parametrize(
    ("pipeline", "advisory", "baseline"),
    [
        (PROTECTED_PUSH | {"CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main"}, True, None),
        (
            PROTECTED_PUSH | {"CI_COMMIT_BRANCH": "release/2.x", "CI_COMMIT_REF_NAME": "release/2.x"},
            True,
            None,
        ),
        ({"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}, False, "main"),
        ({"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "release/2.x"}, False, "release/2.x"),
        (
            PROTECTED_PUSH
            | {"CI_COMMIT_BRANCH": "fix", "CI_COMMIT_REF_NAME": "fix", "CI_COMMIT_REF_PROTECTED": "false"},
            False,
            None,
        ),
    ],
    ids=[
        "push to main",
        "push to release/2.x",
        "merge request into main",
        "merge request into release/2.x",
        "push to fix",
    ],
)
def test_the_docs_pattern_gives_each_target_branch_its_baseline(
    pipeline: dict[str, str],
    advisory: bool,
    baseline: str | None,
    gitlab_mr_pipeline: MergeRequestPipeline,
    tmp_path: Path,
) -> None:
    # `baseline-ref: $CI_MERGE_REQUEST_TARGET_BRANCH_NAME` alone is empty in the target branches'
    # own pipelines: they were never advisory runs, and no merge request found a baseline.
    gitlab = gitlab_mr_pipeline.gitlab
    reports = {
        ref: REPORT.replace(b'"pass"', f'"pass", "ref": "{ref}"'.encode()) for ref in ("main", "release/2.x")
    }
    for ref, report in reports.items():
        gitlab.add_artifact(gitlab_mr_pipeline.project, ref, "container-gate", "container-gate.json", report)
    example = yaml.safe_load(docs_example("several target branches"))
    [include] = example["include"]
    inputs, name, job = component()
    values = {key: spec.get("default") for key, spec in inputs.items()} | include["inputs"]
    assert interpolate(name, values) in example, "the rules are given to the component's job"
    rule = job_rule(example[interpolate(name, values)]["rules"], {**gitlab_mr_pipeline.env, **pipeline})
    assert rule is not None
    assert rule.get("when", "on_success") != "never"
    # The job's variables, then the rule's, which override them; the runner expands both.
    variables = interpolate(job["variables"], values) | rule.get("variables", {})
    env = {**gitlab_mr_pipeline.env, **pipeline}
    ref = runner_expanded(variables["CONTAINER_GATE_BASELINE_REF"], env)
    before = len(gitlab.requests)
    _done, argv = run_job_script(gitlab_mr_pipeline, tmp_path, **pipeline, CONTAINER_GATE_BASELINE_REF=ref)
    assert ("--advisory" in argv) is advisory
    fetched = tmp_path / "container-gate-baseline.json"
    if baseline is None:
        assert not any(arg.startswith("--baseline") for arg in argv)
        assert len(gitlab.requests) == before
    else:
        assert f"--baseline-branch={baseline}" in argv
        assert fetched.read_bytes() == reports[baseline]


@pytest.mark.parametrize("change", list(PIPELINES_OF_A_CHANGE))
def test_the_docs_pattern_gates_each_change_once(change: str) -> None:
    # Its last rule was `- when: on_success`, which holds in every pipeline: a push to a branch
    # with an open merge request was gated in the branch pipeline and in the merge request's,
    # and without `workflow:rules` the job made that merge-request pipeline on its own.
    example = yaml.safe_load(docs_example("several target branches"))
    [include] = example["include"]
    inputs, name, _job = component()
    values = {key: spec.get("default") for key, spec in inputs.items()} | include["inputs"]
    rules = example[interpolate(name, values)]["rules"]
    pipelines = PIPELINES_OF_A_CHANGE[change]
    runs = [job_runs(rules, pipeline) for pipeline in pipelines]
    assert runs.count(True) == 1, change
    # A merge request's change is gated in the merge request's pipeline, where its note is.
    assert runs[-1]
