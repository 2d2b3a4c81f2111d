"""End to end in a GitLab merge-request pipeline: `gate.cli.main.main` with the variables a runner sets.

Nothing of the gate is replaced: the real command line writes the container-scanning report, the
JUnit report and the Markdown, and the real publisher writes the note to the GitLab fake over HTTP.
`check` reads a real Trivy report of the corpus; `scan` runs the real Trivy, offline, on the test
bed's app image with the test bed's DB (tests/support/fixtures.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.cli import main as cli
from gate.cli.parser import build_parser
from gate.errors import ExitCode
from gate.model import ImageInfo, Severity
from gate.platforms.gitlab import GitLabPublisher, note_key
from gate.platforms.interface import PublishContext
from gate.platforms.marker import MarkerKey, MarkerKind
from testbed.expected import load_expected
from testbed.images import ArchiveImages
from tests.support import factories
from tests.support.corpus import corpus_file
from tests.support.gitlab_fixtures import MergeRequestPipeline
from tests.support.gitlab_schema import validate_container_scanning_report
from tests.support.gitlab_templates import component, docs_example, interpolate, runner_expanded

BUSTER = corpus_file("trivy", "debian-buster.json.golden")
"""debian:buster scanned by Trivy: CVE-2019-18224 (CRITICAL, fixed) blocks, CVE-2019-18276 (LOW) does not."""
OUTPUTS = {"--gitlab": "gl-container-scanning-report.json", "--junit": "container-gate-junit.xml"}
OUTPUTS |= {"--json": "container-gate.json", "--markdown": "container-gate.md"}
# Variables of the machine running the tests that would change what the gate does.
FOREIGN = ("GITHUB_ACTIONS", "GITLAB_TOKEN", "CI_MERGE_REQUEST_IID", "CS_IMAGE", "CS_DEFAULT_BRANCH_IMAGE")
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def runner_env(
    gitlab_mr_pipeline: MergeRequestPipeline, monkeypatch: pytest.MonkeyPatch
) -> MergeRequestPipeline:
    """The process environment of a GitLab job in a merge-request pipeline, with GITLAB_TOKEN."""
    pipe = gitlab_mr_pipeline
    for name in (*FOREIGN, *PROXIES):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**pipe.env, "GITLAB_TOKEN": pipe.token}.items():
        monkeypatch.setenv(name, value)
    return pipe


def output_flags(out: Path) -> list[str]:
    return [arg for flag, name in OUTPUTS.items() for arg in (flag, str(out / name))]


def junit_cases(path: Path) -> list[ET.Element]:
    root = ET.fromstring(path.read_text(encoding="utf-8"))  # noqa: S314 - the gate's own output
    return list(root.iter("testcase"))


def failed(cases: list[ET.Element]) -> list[str]:
    return sorted(case.get("name", "") for case in cases if case.find("failure") is not None)


def same_markdown(note: str, key: MarkerKey, markdown: str) -> bool:
    """The note is the marker line, then the Markdown the job wrote to `--markdown`."""
    first, _newline, rest = note.partition("\n")
    return first == key.marker and rest == markdown.removeprefix("\n")


def assert_outputs_agree(out: Path) -> dict[str, Any]:
    """The GitLab report validates, and it, the JUnit and the JSON report tell one story."""
    decision: dict[str, Any] = json.loads((out / OUTPUTS["--json"]).read_text(encoding="utf-8"))
    gitlab = json.loads((out / OUTPUTS["--gitlab"]).read_text(encoding="utf-8"))
    assert validate_container_scanning_report(gitlab) == []
    counts = decision["counts"]
    assert len(gitlab["vulnerabilities"]) == counts["blocking"] + counts["informational"]
    cases = junit_cases(out / OUTPUTS["--junit"])
    blocking = [f for f in decision["findings"] if f["disposition"] == "blocking"]
    assert len(failed(cases)) == counts["blocking"] == len(blocking)
    for finding in blocking:
        assert any(finding["vulnerability_id"] in name for name in failed(cases))
    return decision


def test_check_in_a_merge_request_pipeline(
    runner_env: MergeRequestPipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = runner_env
    image = "registry.example.com/acme/web:0123abcd"
    argv = ["check", str(BUSTER), "--image-name", image, *output_flags(tmp_path)]
    assert cli.main(argv) == ExitCode.FAIL
    _stdout, stderr = capsys.readouterr()
    assert "warning" not in stderr

    decision = assert_outputs_agree(tmp_path)
    assert decision["verdict"] == "fail"
    cases = junit_cases(tmp_path / OUTPUTS["--junit"])
    assert len(cases) == 2
    [failure] = failed(cases)
    assert failure.startswith("CVE-2019-18224 in libidn2-0")

    [note] = pipe.gitlab.notes(pipe.merge_request)
    assert note.author == pipe.bot
    key = MarkerKey.parse(MarkerKind.GITLAB_NOTE, note.body)
    assert key is not None
    wanted = note_key(pipe.env, image, None)
    assert (key.job, key.image) == (wanted.job, wanted.image)
    # The note is the Markdown the job wrote, the same text as the GitHub comment, marker first.
    markdown = (tmp_path / OUTPUTS["--markdown"]).read_text(encoding="utf-8")
    assert same_markdown(note.body, key, markdown)
    assert "`libidn2-0`" in note.body

    # The next pipeline, with the exception explained in a policy, turns the same note into a pass.
    policy = tmp_path / "container-gate.yaml"
    policy.write_text(
        "version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n"
        "    reason: idn2 never sees untrusted input here\n    expires: 2099-12-31\n",
        encoding="utf-8",
    )
    assert cli.main([*argv, "--policy", str(policy)]) == ExitCode.PASS
    [again] = pipe.gitlab.notes(pipe.merge_request)
    assert again.id == note.id
    assert "container-gate: pass" in again.body
    assert "idn2 never sees untrusted input here" in again.body
    assert failed(junit_cases(tmp_path / OUTPUTS["--junit"])) == []


def test_an_unreadable_report_turns_the_note_into_no_verdict(
    runner_env: MergeRequestPipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = runner_env
    assert cli.main(["check", str(BUSTER), *output_flags(tmp_path)]) == ExitCode.FAIL
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert cli.main(["check", str(broken), *output_flags(tmp_path)]) == 2
    capsys.readouterr()
    [note] = pipe.gitlab.notes(pipe.merge_request)
    assert "could not decide (exit code 2)" in note.body
    assert "`libidn2-0`" not in note.body
    gitlab = json.loads((tmp_path / OUTPUTS["--gitlab"]).read_text(encoding="utf-8"))
    assert validate_container_scanning_report(gitlab) == []
    assert gitlab["scan"]["status"] == "failure"


def test_scan_of_the_test_bed_image_with_the_real_trivy_offline(
    runner_env: MergeRequestPipeline,
    trivy_bin: Path,
    trivy_db: Path,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pipe = runner_env
    image = f"docker-archive:{engineless_archives.app}"
    argv = [
        "scan",
        image,
        "--skip-db-update",
        "--cache-dir",
        str(trivy_db),
        "--trivy-bin",
        str(trivy_bin),
        *output_flags(tmp_path),
    ]
    code = cli.main(argv)
    _stdout, stderr = capsys.readouterr()
    assert code in (ExitCode.PASS, ExitCode.FAIL), stderr
    assert pipe.token not in stderr

    decision = assert_outputs_agree(tmp_path)
    expected = {(e.id, e.package) for e in load_expected().for_image("app")}
    assert {(f["vulnerability_id"], f["package"]) for f in decision["findings"]} == expected
    assert code == (ExitCode.FAIL if decision["counts"]["blocking"] else ExitCode.PASS)

    [note] = pipe.gitlab.notes(pipe.merge_request)
    key = MarkerKey.parse(MarkerKind.GITLAB_NOTE, note.body)
    assert key is not None
    assert key.image == note_key(pipe.env, image, None).image
    assert same_markdown(note.body, key, (tmp_path / OUTPUTS["--markdown"]).read_text(encoding="utf-8"))


def test_the_note_names_the_branch_a_fetched_baseline_is_of(
    runner_env: MergeRequestPipeline,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The note said "since `container-gate-baseline.json`", the job's copy of what the baseline
    # is: the report of the baseline-ref branch's last pipeline.
    pipe = runner_env
    main_branch = tmp_path / "main"
    main_branch.mkdir()
    assert (
        cli.main(["check", str(BUSTER), "--json", str(main_branch / "container-gate.json"), "--ci", "none"])
        == 1
    )
    # The job's copy, where the template's fetch writes it: the job's directory.
    monkeypatch.chdir(tmp_path)
    fetched = Path("container-gate-baseline.json")
    fetched.write_bytes((main_branch / "container-gate.json").read_bytes())
    argv = ["check", str(BUSTER), *output_flags(tmp_path), "--baseline", str(fetched)]
    # Nothing new since: the baseline's findings do not block (baseline.fail_on: new, worse).
    assert cli.main([*argv, "--baseline-branch", "release/2.x"]) == ExitCode.PASS
    capsys.readouterr()
    [note] = pipe.gitlab.notes(pipe.merge_request)
    assert "since the last successful pipeline of `release/2.x` (baseline of " in note.body
    assert "container-gate-baseline.json" not in note.body
    decision = json.loads((tmp_path / OUTPUTS["--json"]).read_text(encoding="utf-8"))
    assert (decision["baseline"]["source"], decision["baseline"]["branch"]) == (
        str(fetched),
        "release/2.x",
    )
    # A file the user gave is named as given.
    assert cli.main(argv) == ExitCode.PASS
    capsys.readouterr()
    [note] = pipe.gitlab.notes(pipe.merge_request)
    assert "since `container-gate-baseline.json` (baseline of " in note.body
    assert "branch" not in json.loads((tmp_path / OUTPUTS["--json"]).read_text(encoding="utf-8"))["baseline"]


def _job_script_argv(env: dict[str, str], tmp_path: Path) -> list[str]:
    """The arguments the component's job script gives `container-gate` with the job's `env`
    (a stand-in gate records them)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stand_in = bin_dir / "container-gate"
    stand_in.write_text(
        f"#!{sys.executable}\nimport json, os, sys\njson.dump(sys.argv[1:], open(os.environ['ARGV_OUT'], 'w'))\n",
        encoding="utf-8",
    )
    stand_in.chmod(0o755)
    out = tmp_path / "argv.json"
    script = "\n".join(component()[2]["script"])
    run = {**env, "PATH": f"{bin_dir}:/usr/bin:/bin", "ARGV_OUT": str(out)}
    subprocess.run(["sh", "-e", "-c", script], cwd=tmp_path, env=run, check=True, timeout=30)
    argv: list[str] = json.loads(out.read_text(encoding="utf-8"))
    return argv


def test_the_docs_job_per_platform_keeps_a_note_per_platform(
    runner_env: MergeRequestPipeline,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The templates had no `platform` input: a multi-platform image was gated for the runner's
    # platform only, and a job per platform could not say which one it scanned.
    pipe = runner_env
    example = yaml.safe_load(docs_example("one job per platform"))
    [include] = example["include"]
    inputs, name, job = component()
    values = {key: spec.get("default") for key, spec in inputs.items()} | include["inputs"]
    [matrix] = example[interpolate(name, values)]["parallel"]["matrix"]
    platforms = matrix["PLATFORM"]
    assert platforms == ["linux/amd64", "linux/arm64"]
    # A registry nothing answers at: the scan cannot decide, at once.
    pipeline = {**pipe.env, "CI_REGISTRY_IMAGE": "127.0.0.1:9/acme/web", "CI_COMMIT_SHA": "0123abcd" * 5}
    image = f"{pipeline['CI_REGISTRY_IMAGE']}:{pipeline['CI_COMMIT_SHA']}"
    # Each matrix job: GitLab names it after its values, and expands the job's variables with them.
    jobs = {}
    for platform in platforms:
        variables = {"PLATFORM": platform, "CI_JOB_NAME": f"{interpolate(name, values)}: [{platform}]"}
        env = {
            key: runner_expanded(value, {**pipeline, **variables})
            for key, value in interpolate(job["variables"], values).items()
            if key.startswith("CONTAINER_GATE_")
        }
        argv = _job_script_argv({**pipeline, **variables, **env}, tmp_path)
        assert f"--platform={platform}" in argv
        assert build_parser().parse_args(argv).platform == platform
        jobs[platform] = (variables, argv)
    # Each platform's earlier verdict, a pass.
    for platform, (variables, _argv) in jobs.items():
        os_name, architecture = platform.split("/")
        info = ImageInfo(reference=image, os=os_name, architecture=architecture)
        context = PublishContext(env={**pipe.env, **variables, "GITLAB_TOKEN": pipe.token})
        evaluation = factories.evaluation_of(
            factories.finding("CVE-2024-2222", severity=Severity.LOW), image=info
        )
        assert GitLabPublisher(sleep=lambda _s: None).publish(evaluation, context).warnings == ()
    # The arm64 job cannot decide: only its platform's note says so.
    variables, argv = jobs["linux/arm64"]
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == ExitCode.ERROR
    assert "cannot reach registry 127.0.0.1:9" in capsys.readouterr().err
    amd64, arm64 = pipe.gitlab.notes(pipe.merge_request)
    assert "container-gate: pass" in amd64.body
    assert "could not decide" in arm64.body
    marked = MarkerKey.parse(MarkerKind.GITLAB_NOTE, arm64.body)
    assert marked == note_key({**pipe.env, **variables}, image, "linux/arm64")
