"""The command line's traps for a new user: each was a wrong turn someone took on a first try.

`-v` after the command, an output on standard output, `python -m gate`, explaining a finding of an
earlier run from its decision report, `--version` naming the scanners and their DB, an empty image,
Trivy's table output handed to `check`, and shell completion.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import gate.cli.compare
import gate.scanners.run
from gate.cli import main as cli
from gate.cli.scan_options import names_a_file
from gate.errors import ExitCode, ScannerError
from gate.model import ScanReport
from gate.scanners.ingest import load_report
from gate.scanners.trivy import LIST_ALL_PKGS
from testbed.images import ArchiveImages
from tests.support.corpus import corpus_file
from tests.support.repo_paths import PROJECT_ROOT

BUSTER = corpus_file("trivy", "debian-buster.json.golden")
"""A real Trivy scan of debian:buster: CVE-2019-18224 (CRITICAL, fixed) in libidn2-0."""


def python_m_gate(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "gate", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd or PROJECT_ROOT,
    )


def _refuse(constant: str) -> Any:
    raise ValueError(constant)


def test_verbose_after_the_command_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "-v", "/nonexistent/report.json", "--ci", "none"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().endswith("container-gate: error: /nonexistent/report.json: no such report file")
    assert cli.main(["policy", "validate", "--verbose", str(PROJECT_ROOT / "policies/default.yaml")]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("kind", ["json", "sarif", "gitlab"])
def test_an_output_on_standard_output_is_the_only_thing_there(
    kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["check", str(BUSTER), "--ci", "none", f"--{kind}", "-"]) == ExitCode.FAIL
    out, err = capsys.readouterr()
    json.loads(out, parse_constant=_refuse)  # one standard JSON document, nothing else
    # The summary moved here.
    assert err.startswith("container-gate: FAIL: 1 blocking finding(s); 1 action clears it.")


@pytest.mark.parametrize("command", ["check", "compare"])
def test_dev_stdout_is_standard_output(command: str) -> None:
    # `--json /dev/stdout | jq`: the summary went into the same pipe, after the document.
    report = str(BUSTER) if command == "check" else f"buster={BUSTER}"
    done = python_m_gate(command, report, "--json", "/dev/stdout", env={"PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode == (ExitCode.FAIL if command == "check" else ExitCode.PASS), done.stderr
    json.loads(done.stdout, parse_constant=_refuse)  # the document alone
    assert done.stderr.startswith("container-gate")  # the summary or the table moved here


def test_compare_takes_v_after_the_command_and_an_output_on_standard_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["compare", "-v", f"buster={BUSTER}", "--json", "-"]) == ExitCode.PASS
    out, err = capsys.readouterr()
    (row,) = json.loads(out, parse_constant=_refuse)["images"]  # the document alone on stdout
    assert (row["reference"], row["verdict"]) == ("buster", "fail")
    assert err.startswith("container-gate compare: 1 image")  # the table moved here


def test_an_error_on_standard_output_is_the_error_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "/nonexistent.json", "--ci", "none", "--json", "-"]) == ExitCode.USAGE
    out, _ = capsys.readouterr()
    assert json.loads(out)["verdict"] == "error"


def test_two_outputs_cannot_share_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["check", str(BUSTER), "--json", "-", "--sarif", "-"])
    assert exited.value.code == ExitCode.USAGE
    assert (
        "only one output can go to standard output ('-'), got --json and --sarif" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--json", "{report}"], "--json {report}: the same file as REPORT, which this run reads"),
        (
            ["--policy", "{policy}", "--markdown", "{policy}"],
            "--markdown {policy}: the same file as --policy",
        ),
        (
            ["--json", "{dir}/out.json", "--sarif", "{dir}/../out/out.json"],
            "--sarif {dir}/../out/out.json: the same file as --json",
        ),
        (["--baseline", "{base}", "--openvex", "{link}"], "--openvex {link}: the same file as --baseline"),
    ],
    ids=["output-is-the-report", "output-is-the-policy", "two-outputs-one-file", "a-link-to-an-input"],
)
def test_an_output_that_is_an_input_or_another_output_is_refused_and_nothing_is_written(
    flags: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    report = tmp_path / "report.json"
    report.write_bytes(BUSTER.read_bytes())
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\n", encoding="utf-8")
    (tmp_path / "base.json").write_text("{}", encoding="utf-8")
    (tmp_path / "link.json").symlink_to(tmp_path / "base.json")
    names = {
        "report": str(report),
        "policy": str(policy),
        "dir": str(out),
        "base": str(tmp_path / "base.json"),
        "link": str(tmp_path / "link.json"),
    }
    before = {path: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()}
    with pytest.raises(SystemExit) as exited:
        cli.main(["check", str(report), "--ci", "none", *(flag.format(**names) for flag in flags)])
    assert exited.value.code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(f"container-gate check: error: {expected.format(**names)}")
    assert {path: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()} == before
    assert list(out.iterdir()) == []


def test_python_m_gate_runs_the_command_line() -> None:
    done = python_m_gate("check", str(BUSTER), "--ci", "none", "--quiet")
    assert (done.returncode, done.stdout) == (
        ExitCode.FAIL,
        "container-gate: FAIL: 1 blocking finding(s); 1 action clears it.\n",
    )


def test_explain_reads_the_decision_report_of_an_earlier_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decision = tmp_path / "gate.json"
    cli.main(["check", str(BUSTER), "--ci", "none", "--json", str(decision)])
    capsys.readouterr()
    assert cli.main(["explain", "CVE-2019-18224", "--report", str(BUSTER)]) == ExitCode.PASS
    from_scan = capsys.readouterr().out
    assert cli.main(["explain", "CVE-2019-18224", "--report", str(decision)]) == ExitCode.PASS
    from_decision = capsys.readouterr().out
    assert from_decision == from_scan
    assert "disposition: BLOCKING (rule fail_on.severity)" in from_decision


def test_a_decision_report_of_a_failed_run_has_nothing_to_explain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decision = tmp_path / "gate.json"
    cli.main(["check", str(tmp_path / "missing.json"), "--ci", "none", "--json", str(decision)])
    capsys.readouterr()
    assert cli.main(["explain", "CVE-2019-18224", "--report", str(decision)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"{decision}: verdict: the gate could not decide in that run, there are no findings" in err


def test_version_names_the_scanners_and_the_db_build_time(trivy_bin: Path, trivy_db: Path) -> None:
    updated = json.loads((trivy_db / "db" / "metadata.json").read_text())["UpdatedAt"]
    env = {"TRIVY_BIN": str(trivy_bin), "CONTAINER_GATE_CACHE_DIR": str(trivy_db), "PATH": "/usr/bin:/bin"}
    done = python_m_gate("--version", env=env)
    lines = done.stdout.splitlines()
    assert done.returncode == ExitCode.PASS
    assert lines[0].startswith("container-gate ")
    assert lines[1].startswith("trivy: 0.")
    assert f"({trivy_bin}); DB built {updated}" in lines[1]
    assert lines[2].startswith("grype: ")  # found or not, it says which
    empty = python_m_gate(
        "--version", env={**env, "CONTAINER_GATE_CACHE_DIR": str(Path(trivy_db).parent / "none")}
    )
    assert "no vulnerability DB in" in empty.stdout.splitlines()[1]


def test_version_shows_a_db_build_time_without_escape_sequences_or_workflow_commands(tmp_path: Path) -> None:
    # The DB metadata comes from a cache a CI job restores: what it says is shown, not obeyed.
    said = "2026-01-01\\u001b[2J\\u001b]0;pwned\\u0007\\u202e\\n::add-mask::verdict"
    trivy, grype = tmp_path / "trivy", tmp_path / "grype"
    trivy.write_text(
        f'#!/bin/sh\nprintf \'%s\\n\' \'{{"Version":"0.63.0","VulnerabilityDB":{{"UpdatedAt":"{said}"}}}}\'\n'
    )
    grype.write_text(
        '#!/bin/sh\ncase "$1" in\n'
        '  version) printf \'%s\\n\' \'{"application":"grype","version":"0.90.0"}\';;\n'
        f'  db) printf \'%s\\n\' \'{{"schemaVersion":"v6","built":"{said}","valid":true}}\';;\n'
        "esac\n"
    )
    for binary in (trivy, grype):
        binary.chmod(0o755)
    env = {"TRIVY_BIN": str(trivy), "GRYPE_BIN": str(grype), "PATH": "/usr/bin:/bin"}
    done = python_m_gate("--version", env=env)
    assert done.returncode == ExitCode.PASS
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    shown = "DB built 2026-01-01\\x1b[2J\\x1b]0;pwned\\x07\\u202e ::add-mask::verdict"
    assert lines[1] == f"trivy: 0.63.0 ({trivy}); {shown}"
    assert lines[2] == f"grype: 0.90.0 ({grype}); {shown}"


@pytest.mark.parametrize("args", [["scan", ""], ["scan", "  "], ["scan", "app:1", "--base-image", ""]])
def test_an_empty_image_is_a_clear_one_line_error(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*args, "--ci", "none"]) == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    what = "--base-image" if "--base-image" in args else "IMAGE"
    assert line == (
        f"container-gate: error: {what} is empty: give an image reference, docker-archive:PATH or "
        "oci-archive:PATH (is the CI variable that should hold it set?)"
    )


def test_trivys_table_output_gets_a_hint(
    trivy_bin: Path,
    trivy_db: Path,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = tmp_path / "report.txt"
    # The real Trivy's default output format, offline, on the test bed's app image.
    done = subprocess.run(
        [str(trivy_bin), "image", "--format", "table", "--quiet", "--skip-version-check", "--disable-telemetry",
         "--cache-dir", str(trivy_db), "--skip-db-update", "--offline-scan", "--config", "", "--ignorefile", "",
         "--input", str(engineless_archives.app), "--output", str(table)],
        capture_output=True, text=True, check=False, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert cli.main(["check", str(table), "--ci", "none"]) == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"container-gate: error: {table}: not valid JSON (")
    assert line.endswith(
        "(this is Trivy's table output; write the report with `trivy image --format json --output report.json`)"
    )


def test_a_table_from_a_pipe_gets_the_hint_without_waiting_for_a_second_writer(tmp_path: Path) -> None:
    """`check <(trivy image ...)`: the pipe is read once; its kept bytes give the hint."""
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    table = "Report Summary\n\n\u250c\u2500\u2500\u2510\n\u2502 Target \u2502\n".encode()
    gate = subprocess.Popen(
        [sys.executable, "-m", "gate", "check", str(fifo), "--ci", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with fifo.open("wb") as writer:  # blocks until the gate opens the pipe
        writer.write(table)
    try:
        _, err = gate.communicate(timeout=60)
    finally:
        gate.kill()
    assert gate.returncode == ExitCode.USAGE
    assert err.rstrip().endswith(
        "(this is Trivy's table output; write the report with `trivy image --format json --output report.json`)"
    )


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_shell_completion(shell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["completion", shell]) == ExitCode.PASS
    script = capsys.readouterr().out
    for word in ("check", "scan", "explain", "--sarif-category", "--skip-db-update"):
        assert word in script
    interpreter = shutil.which(shell)
    if interpreter is not None:  # the shell itself checks the syntax where it is installed
        path = tmp_path / f"completion.{shell}"
        path.write_text(script)
        checked = subprocess.run([interpreter, "-n", str(path)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr


def test_a_shell_without_completion_is_one_line_naming_it_and_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["completion", "fish"])
    assert exited.value.code == ExitCode.USAGE
    assert capsys.readouterr().err == (
        "container-gate completion: error: argument SHELL: invalid choice: 'fish' (choose from 'bash', 'zsh') "
        "(see 'container-gate completion --help')\n"
    )
    with pytest.raises(SystemExit):
        cli.main(["completion", "--help"])
    usage = capsys.readouterr().out
    assert usage.startswith("usage: container-gate completion [-h] [-v] SHELL\n"), usage


def test_compare_refuses_an_output_that_is_one_of_its_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "app.json"
    report.write_bytes(BUSTER.read_bytes())
    with pytest.raises(SystemExit) as exited:
        cli.main(["compare", f"app={report}", "--json", str(report)])
    assert exited.value.code == ExitCode.USAGE
    assert f"--json {report}: the same file as REF, which this run reads" in capsys.readouterr().err
    assert report.read_bytes() == BUSTER.read_bytes()


PASSING = corpus_file("trivy", "alpine-310.json.golden")
"""A real Trivy scan that passes the default policy."""


@pytest.mark.parametrize(
    "wrong",
    [["--as-of", "2026-02-30"], ["--max-report-size", "inf"], ["--ci", "nonsense"], ["--policy"]],
    ids=["date", "size", "choice", "no value"],
)
def test_a_usage_error_leaves_no_passing_output_behind(
    wrong: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An `if: always()` upload after a run that stopped at its command line must not publish the
    # pass of an earlier run: the outputs it names say "error", and the SARIF is removed.
    outputs = {kind: tmp_path / f"out.{kind}" for kind in ("json", "sarif", "markdown", "gitlab", "junit")}
    flags = [word for kind, path in outputs.items() for word in (f"--{kind}", str(path))]
    assert cli.main(["check", str(PASSING), "--ci", "none", *flags]) == ExitCode.PASS
    assert json.loads(outputs["json"].read_text())["verdict"] == "pass"
    # An earlier run's OpenVEX decisions are removed as well.
    openvex = tmp_path / "out.openvex.json"
    openvex.write_text('{"statements": ["from an earlier run"]}')
    flags += ["--openvex", str(openvex)]
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        cli.main(["check", str(PASSING), "--ci", "none", *flags, *wrong])
    assert exited.value.code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("container-gate check: error: argument ")
    assert err.endswith("(see 'container-gate check --help')\n")
    decision = json.loads(outputs["json"].read_text())
    assert decision["verdict"] == "error"
    assert (
        decision["error"]["message"] == err.removeprefix("container-gate check: error: ").split(" (see ")[0]
    )
    assert not outputs["sarif"].exists()
    assert not openvex.exists()
    assert "The gate could not decide (exit code 2)" in outputs["markdown"].read_text()
    assert json.loads(outputs["gitlab"].read_text())["scan"]["status"] == "failure"
    junit = outputs["junit"].read_text()
    assert 'errors="1"' in junit
    assert "<failure" not in junit


@pytest.mark.parametrize(
    "command",
    [["check"], ["check", ""], ["scan"], ["scan", ""]],
    ids=["no report", "empty report", "no image", "empty image"],
)
def test_a_missing_report_or_image_leaves_no_passing_output_behind(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `scan $IMAGE --json gate.json` with the variable unset: the report of an earlier run that
    # passed must not be left for a later step to publish.
    out_json, out_sarif = tmp_path / "gate.json", tmp_path / "gate.sarif"
    flags = ["--ci", "none", "--json", str(out_json), "--sarif", str(out_sarif)]
    assert cli.main(["check", str(PASSING), *flags]) == ExitCode.PASS
    capsys.readouterr()
    code: int | str | None
    try:
        code = cli.main([command[0], *flags, "--", *command[1:]])
    except SystemExit as exited:
        code = exited.code
    assert code == ExitCode.USAGE
    assert json.loads(out_json.read_text())["verdict"] == "error"
    assert not out_sarif.exists()
    assert capsys.readouterr().err.count("\n") == 1


def test_a_usage_error_never_writes_over_an_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    report.write_bytes(PASSING.read_bytes())
    with pytest.raises(SystemExit) as exited:
        cli.main(["check", str(report), "--json", str(report), "--as-of", "tomorrow"])
    assert exited.value.code == ExitCode.USAGE
    assert report.read_bytes() == PASSING.read_bytes()
    assert "expected a date as YYYY-MM-DD, got 'tomorrow'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "day", ["20270201", "2027W051", "2027-2-01", "2026-02-30", "\uff12\uff10\uff12\uff16-12-01"]
)
def test_as_of_is_a_date_as_yyyy_mm_dd_only(day: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["check", str(PASSING), "--as-of", day])
    assert exited.value.code == ExitCode.USAGE
    assert f"expected a date as YYYY-MM-DD, got {day!r}" in capsys.readouterr().err


def test_standard_output_closed_early_is_one_line_and_exit_3(tmp_path: Path) -> None:
    # `--json - | head -c 10`: the reader is gone before the decision is written.
    markdown = tmp_path / "out.md"
    gate = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gate",
            "check",
            str(PASSING),
            "--ci",
            "none",
            "--json",
            "-",
            "--markdown",
            str(markdown),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert gate.stdout is not None
    assert gate.stderr is not None
    gate.stdout.close()
    err = gate.stderr.read().decode()
    assert gate.wait(timeout=120) == ExitCode.ERROR
    assert (
        err
        == "container-gate: error: standard output was closed before the output written there was complete\n"
    )
    assert "could not decide" in markdown.read_text()


def test_a_report_on_standard_input_is_read_as_a_file(tmp_path: Path) -> None:
    # `trivy image -f json app | container-gate check -`: `-` is standard input for a report, as
    # it is standard output for an output.
    from_file = python_m_gate("check", str(BUSTER), "--ci", "none", "--json", str(tmp_path / "file.json"))
    piped = subprocess.run(
        [sys.executable, "-m", "gate", "check", "-", "--ci", "none", "--json", str(tmp_path / "stdin.json")],
        input=BUSTER.read_bytes(),
        capture_output=True,
        check=False,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert piped.returncode == from_file.returncode == ExitCode.FAIL
    decisions = [json.loads((tmp_path / name).read_text()) for name in ("file.json", "stdin.json")]
    assert decisions[0]["findings"] == decisions[1]["findings"]
    explained = subprocess.run(
        [sys.executable, "-m", "gate", "explain", "CVE-2019-18224", "--report", "-"],
        input=BUSTER.read_bytes(),
        capture_output=True,
        check=False,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert explained.returncode == ExitCode.PASS
    assert "CVE-2019-18224 in libidn2-0" in explained.stdout.decode()


def test_openvex_on_standard_output_is_the_only_thing_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    reason: not reachable\n",
        encoding="utf-8",
    )
    argv = ["check", str(BUSTER), "--ci", "none", "--policy", str(policy), "--openvex", "-"]
    assert cli.main(argv) == ExitCode.PASS
    out, err = capsys.readouterr()
    document = json.loads(out, parse_constant=_refuse)  # the OpenVEX document alone on stdout
    assert [s["vulnerability"]["name"] for s in document["statements"]] == ["CVE-2019-18224"]
    assert err.startswith("container-gate: PASS: no blocking findings.")  # the summary moved here


@pytest.mark.parametrize("other", ["--json", "--markdown"])
def test_openvex_and_another_output_cannot_share_standard_output(
    other: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["check", str(BUSTER), "--ci", "none", "--openvex", "-", other, "-"])
    assert exited.value.code == ExitCode.USAGE
    assert (
        f"only one output can go to standard output ('-'), got {other} and --openvex"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["check", str(BUSTER), "--scanner", "trivy"],
            "container-gate check: error: unrecognized arguments: --scanner trivy "
            "(see 'container-gate check --help')",
        ),
        (
            ["policy", "validate", "policy.yaml", "--strict"],
            "container-gate policy validate: error: unrecognized arguments: --strict "
            "(see 'container-gate policy validate --help')",
        ),
        (
            ["check", str(BUSTER), "--json", "-", "--sarif", "-"],
            "container-gate check: error: only one output can go to standard output ('-'), "
            "got --json and --sarif (see 'container-gate check --help')",
        ),
        (
            ["check", str(BUSTER), "--evil\x1b[2J\u202e"],
            "container-gate check: error: unrecognized arguments: --evil\\x1b[2J\\u202e "
            "(see 'container-gate check --help')",
        ),
    ],
    ids=["unknown-option", "unknown-option-of-a-subcommand", "two-outputs-on-stdout", "escape-sequences"],
)
def test_a_usage_error_points_to_the_help_of_the_command_that_was_run(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `container-gate --help` lists the commands, not the options of any of them.
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == ExitCode.USAGE
    assert capsys.readouterr().err == expected + "\n"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["check", "r.json", "--polcy", "p.yaml"], "--polcy p.yaml (did you mean --policy?)"),
        (["check", "r.json", "--policies", "p.yaml"], "--policies p.yaml (did you mean --policy?)"),
        (
            ["check", "r.json", "--as_of=2027-01-01", "--jsn", "g.json"],
            "--as_of=(value not shown) --jsn g.json (did you mean --as-of and --json?)",
        ),
        (["scan", "app:1", "--timeout", "5"], "--timeout 5 (did you mean --scan-timeout?)"),
        (["scan", "app:1", "--skip-update"], "--skip-update (did you mean --skip-db-update?)"),
        # An option of another command or tool: no guess.
        (["check", "r.json", "--scanner", "trivy"], "--scanner trivy"),
        (["check", "r.json", "--severity", "HIGH"], "--severity HIGH"),
    ],
)
def test_a_misspelt_option_is_named_with_the_one_meant(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The policy's keys said "did you mean 'severity'?"; the command line's options said only
    # "unrecognized arguments: --polcy p.yaml", and the reader searched the --help for the typo.
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == ExitCode.USAGE
    command = f"container-gate {argv[0]}"
    assert capsys.readouterr().err == (
        f"{command}: error: unrecognized arguments: {said} (see '{command} --help')\n"
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["explain", "CVE-2023-45853", "--reprt", "r.json"],
            "the following arguments are required: --report; "
            "unrecognized arguments: --reprt (did you mean --report?)",
        ),
        (
            ["explain", "CVE-2023-45853", "--reports=r.json", "--as_of", "2027-01-01"],
            "the following arguments are required: --report; unrecognized arguments: "
            "--reports=(value not shown) --as_of (did you mean --report and --as-of?)",
        ),
        # Every option given is known: the missing one alone.
        (
            ["explain", "CVE-2023-45853", "--policy", "p.yaml"],
            "the following arguments are required: --report",
        ),
        # A negative number is a value, not an option the command does not know.
        (["explain", "-5"], "the following arguments are required: --report"),
    ],
)
def test_a_misspelt_option_is_named_beside_the_missing_one_it_was_meant_to_be(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # argparse stops at the first missing argument: `--reprt r.json` was refused as "the
    # following arguments are required: --report", and the reader looked at an option they gave.
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == ExitCode.USAGE
    assert (
        capsys.readouterr().err
        == f"container-gate explain: error: {said} (see 'container-gate explain --help')\n"
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["chek", "r.json"],
            "argument COMMAND: invalid choice: 'chek' (choose from {commands}) (did you mean 'check'?)",
        ),
        (
            ["policy", "valdate", "p.yaml"],
            "argument ACTION: invalid choice: 'valdate' (choose from 'validate') (did you mean 'validate'?)",
        ),
        (
            ["scan", "app:1", "--scanner", "trivi"],
            "argument --scanner: invalid choice: 'trivi' (choose from 'trivy', 'grype', 'both') "
            "(did you mean 'trivy'?)",
        ),
        (
            ["check", "r.json", "--ci", "GitLab"],
            "argument --ci: invalid choice: 'GitLab' (choose from 'auto', 'github', 'gitlab', 'none') "
            "(did you mean 'gitlab'?)",
        ),
        # Nothing close: the choices alone.
        (["completion", "fish"], "argument SHELL: invalid choice: 'fish' (choose from 'bash', 'zsh')"),
        (["deploy", "r.json"], "argument COMMAND: invalid choice: 'deploy' (choose from {commands})"),
    ],
)
def test_a_misspelt_command_or_choice_is_named_with_the_one_meant(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A misspelt option said "did you mean --policy?", but a misspelt command or choice only
    # listed them all, and the reader compared the list with the typo letter by letter.
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == ExitCode.USAGE
    commands = "'check', 'scan', 'compare', 'policy', 'explain', 'data', 'completion'"
    command = "container-gate" if "COMMAND" in said else f"container-gate {argv[0]}"
    assert capsys.readouterr().err == (
        f"{command}: error: {said.format(commands=commands)} (see '{command} --help')\n"
    )


def test_a_build_arg_is_name_equals_value_and_needs_the_dockerfile(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["scan", "app:1", "--dockerfile", "Dockerfile", "--build-arg", "BASE"])
    assert exited.value.code == ExitCode.USAGE
    assert capsys.readouterr().err == (
        "container-gate scan: error: argument --build-arg: expected NAME=VALUE, such as "
        "BASE=python:3.12-slim, NAME of letters, digits and _ (what was given is not shown: a build "
        "argument can hold a secret) (see 'container-gate scan --help')\n"
    )
    # Without a Dockerfile, no ARG takes the value: refused before anything is scanned.
    assert (
        cli.main(["scan", "app:1", "--build-arg", "BASE=python:3.12-slim", "--ci", "none"]) == ExitCode.USAGE
    )
    assert capsys.readouterr().err == (
        "container-gate: error: --build-arg needs --dockerfile PATH: it fills the ARGs of that Dockerfile\n"
    )


@pytest.mark.parametrize(
    "given", ["NPM-TOKEN=npm_S3cretBuildArg", "npm_S3cretBuildArg", "1X=npm_S3cretBuildArg"]
)
def test_a_refused_build_arg_is_never_echoed_in_the_log_or_the_error_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], given: str
) -> None:
    # A build argument can be a secret (a package index's token): a malformed one is refused
    # without being quoted, on standard error and in the error outputs the CI shows.
    monkeypatch.chdir(tmp_path)
    argv = ["scan", "app:1", "--dockerfile", "Dockerfile", "--json", "gate.json", "--markdown", "gate.md"]
    with pytest.raises(SystemExit) as exited:
        cli.main([*argv, "--build-arg", given, "--ci", "none"])
    assert exited.value.code == ExitCode.USAGE
    captured = capsys.readouterr()
    written = (tmp_path / "gate.json").read_text(encoding="utf-8") + (tmp_path / "gate.md").read_text(
        encoding="utf-8"
    )
    assert "expected NAME=VALUE" in captured.err
    assert "expected NAME=VALUE" in written
    assert "S3cret" not in captured.out + captured.err + written


@pytest.mark.parametrize("option", ["--build-args", "--build_arg", "--buildarg"])
def test_a_misspelt_build_arg_option_never_echoes_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    # `--build-args=NAME=VALUE` (the inputs of the action and the templates are `build-args`) is
    # an option the gate does not know: it is named, its value (which can be a secret) is not.
    monkeypatch.chdir(tmp_path)
    argv = ["scan", "--dockerfile", "Dockerfile", "--json", "gate.json", "--markdown", "gate.md"]
    with pytest.raises(SystemExit) as exited:
        cli.main([*argv, f"{option}=NPM_TOKEN=npm_S3cretBuildArg", "--ci", "none", "--", "app:1"])
    assert exited.value.code == ExitCode.USAGE
    captured = capsys.readouterr()
    written = (tmp_path / "gate.json").read_text(encoding="utf-8") + (tmp_path / "gate.md").read_text(
        encoding="utf-8"
    )
    assert captured.err == (
        f"container-gate scan: error: unrecognized arguments: {option}=(value not shown) "
        "(did you mean --build-arg?) (see 'container-gate scan --help')\n"
    )
    assert f"unrecognized arguments: {option}=(value not shown)" in written
    assert "S3cret" not in captured.out + captured.err + written


SECRET_BUILD_ARG = "npm_S3cretBuildArg"  # noqa: S105 (no service accepts it)


def test_the_gate_reads_build_args_from_its_environment_before_the_build_arg_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # CONTAINER_GATE_BUILD_ARGS, as the GitLab templates pass it: one NAME=VALUE per line (CR LF
    # too), read as the action reads its `build-args`; a --build-arg of the same name wins.
    scanned: list[Any] = []

    def scan(request: Any, *_args: object, **_kwargs: object) -> Any:
        scanned.append(request)
        raise ScannerError("stopped after the request was taken")

    monkeypatch.setattr(gate.scanners.run, "scan", scan)
    monkeypatch.setenv(
        "CONTAINER_GATE_BUILD_ARGS", f"  BASE=python:3.12-slim \r\n\r\nNPM_TOKEN={SECRET_BUILD_ARG}\r\n"
    )
    argv = ["-v", "scan", "app:1", "--dockerfile", "Dockerfile", "--build-arg", "BASE=python:3.13-slim"]
    assert cli.main([*argv, "--ci", "none", "--json", str(tmp_path / "gate.json")]) == ExitCode.ERROR
    [request] = scanned
    assert request.build_args == (
        ("BASE", "python:3.12-slim"),
        ("NPM_TOKEN", SECRET_BUILD_ARG),
        ("BASE", "python:3.13-slim"),
    )
    captured = capsys.readouterr()
    written = (tmp_path / "gate.json").read_text(encoding="utf-8")
    assert "S3cret" not in repr(request) + captured.out + captured.err + written


@pytest.mark.parametrize(
    ("value", "line"),
    [
        (f"BASE=python:3.12-slim\n\n{SECRET_BUILD_ARG}\n", 3),
        (f"NPM-TOKEN={SECRET_BUILD_ARG}", 1),
        (f"1X={SECRET_BUILD_ARG}\r\n", 1),
    ],
)
def test_a_bad_line_of_the_build_args_variable_is_a_usage_error_that_never_shows_it(
    value: str,
    line: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gate.scanners.run, "scan", lambda *_a, **_k: pytest.fail("scanned"))
    monkeypatch.setenv("CONTAINER_GATE_BUILD_ARGS", value)
    argv = ["scan", "app:1", "--dockerfile", "Dockerfile", "--ci", "none"]
    # --verbose adds the traceback, never the line.
    assert cli.main(["-v", *argv]) == ExitCode.USAGE
    assert "S3cret" not in "".join(capsys.readouterr())
    assert cli.main([*argv, "--json", str(tmp_path / "gate.json")]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.err == (
        f"container-gate: error: CONTAINER_GATE_BUILD_ARGS: line {line} is not NAME=VALUE (NAME: letters, "
        "digits and _, not starting with a digit; the line is not shown, as a build argument can hold a "
        "secret)\n"
    )
    written = (tmp_path / "gate.json").read_text(encoding="utf-8")
    assert f"CONTAINER_GATE_BUILD_ARGS: line {line} is not NAME=VALUE" in written
    assert "S3cret" not in captured.out + captured.err + written


def test_the_build_args_variable_needs_the_dockerfile_unless_it_holds_none(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTAINER_GATE_BUILD_ARGS", f"NPM_TOKEN={SECRET_BUILD_ARG}\n")
    assert cli.main(["scan", "app:1", "--ci", "none"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err == (
        "container-gate: error: CONTAINER_GATE_BUILD_ARGS (build arguments) needs --dockerfile PATH: "
        "they fill the ARGs of that Dockerfile\n"
    )
    # Empty, or only blank lines (the GitLab templates' default is empty): nothing to fill.
    scanned: list[Any] = []

    def scan(request: Any, *_args: object, **_kwargs: object) -> Any:
        scanned.append(request.build_args)
        raise ScannerError("stopped after the request was taken")

    monkeypatch.setattr(gate.scanners.run, "scan", scan)
    for value in ("", " \r\n\n"):
        monkeypatch.setenv("CONTAINER_GATE_BUILD_ARGS", value)
        assert cli.main(["scan", "app:1", "--ci", "none"]) == ExitCode.ERROR
    assert scanned == [(), ()]
    capsys.readouterr()


@pytest.mark.parametrize(
    ("command", "flag", "first", "second"),
    [
        (["check", str(BUSTER), "--ci", "none"], "--policy", "policies/strict.yaml", "policies/advisory.yaml"),
        (["check", str(BUSTER), "--ci", "none"], "--json", "{dir}/a.json", "{dir}/b.json"),
        (["check", str(BUSTER), "--ci", "none"], "--baseline", "{dir}/main.json", "{dir}/other.json"),
        (["explain", "CVE-2019-18224", "--report", str(BUSTER)], "--policy", "a.yaml", "b.yaml"),
        (["compare", f"buster={BUSTER}"], "--markdown", "{dir}/a.md", "{dir}/b.md"),
        (["check", str(BUSTER), "--ci", "none"], "--kev", "kev.json", "kev.json.gz"),
        (["check", str(BUSTER), "--ci", "none"], "--epss", "epss.csv", "epss.csv.gz"),
        (["compare", f"buster={BUSTER}"], "--kev", "kev.json", "kev.json.gz"),
        (["scan", "docker-archive:missing.tar", "--ci", "none"], "--dockerfile", "Dockerfile", "b/Dockerfile"),
        (["scan", "docker-archive:missing.tar", "--ci", "none"], "--cache-dir", "{dir}/a", "{dir}/b"),
        (["data", "fetch", "--kev-url", "http://127.0.0.1:9/kev.json", "--epss-url", "http://127.0.0.1:9/epss.csv",
          "--retries", "0"], "--out", "{dir}/a", "{dir}/b"),
    ],
    ids=[
        "policy", "output", "baseline", "explain-policy", "compare-output", "kev", "epss", "compare-kev",
        "dockerfile", "cache-dir", "data-fetch-out",
    ],
)  # fmt: skip
def test_an_option_of_one_value_given_twice_is_a_usage_error(
    command: list[str],
    flag: str,
    first: str,
    second: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # argparse keeps the last: a second --policy replaced the first without a word (the strict
    # policy's FAIL became the advisory one's PASS), a second --json left the first path's file.
    monkeypatch.chdir(PROJECT_ROOT)
    first, second = first.format(dir=tmp_path), second.format(dir=tmp_path)
    with pytest.raises(SystemExit) as exited:
        cli.main([*command, flag, first, flag, second])
    assert exited.value.code == ExitCode.USAGE
    prog = " ".join(["container-gate", *command[: 2 if command[0] == "data" else 1]])
    assert capsys.readouterr().err == (
        f"{prog}: error: {flag} given twice ({first}, then {second}): give it once (see '{prog} --help')\n"
    )
    # Nothing is read or written, but the error document where a --json said it would go.
    written = {path.name: json.loads(path.read_text()) for path in tmp_path.iterdir()}
    assert written == ({} if flag != "--json" else {"b.json": written.get("b.json")})
    assert all(document["verdict"] == "error" for document in written.values())


def test_an_option_given_twice_with_one_value_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    policy = str(PROJECT_ROOT / "policies" / "strict.yaml")
    argv = ["check", str(BUSTER), "--ci", "none", "--policy", policy, "--policy", policy]
    assert cli.main(argv) == ExitCode.FAIL


@pytest.mark.parametrize(
    ("argv", "argument", "expected"),
    [
        (["check", ""], "REPORT", "a file"),
        (["check", str(BUSTER), "--policy", ""], "--policy", "a file"),
        (["check", str(BUSTER), "--baseline", " "], "--baseline", "a file"),
        (["check", str(BUSTER), "--kev", ""], "--kev", "a file"),
        (["check", str(BUSTER), "--vex", ""], "--vex", "a file"),
        (["explain", "CVE-2019-18224", "--report", ""], "--report", "a file"),
        (["policy", "validate", ""], "FILE", "a file"),
        (["check", str(BUSTER), "--json", ""], "--json", "a file to write (or - for standard output)"),
        (["check", str(BUSTER), "--sarif="], "--sarif", "a file to write (or - for standard output)"),
        (["check", str(BUSTER), "--openvex", ""], "--openvex", "a file to write (or - for standard output)"),
        (["compare", f"b={BUSTER}", "--markdown", ""], "--markdown", "a file to write (or - for standard output)"),
        # The DB cache went to the working directory: the checkout itself, in a CI job.
        (["scan", "docker-archive:app.tar", "--cache-dir", ""], "--cache-dir", "a directory"),
        (["compare", f"b={BUSTER}", "--cache-dir="], "--cache-dir", "a directory"),
    ],
)  # fmt: skip
def test_an_empty_path_is_a_usage_error(
    argv: list[str], argument: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Most often a CI variable that expanded to nothing: an empty input was read as the working
    # directory (".: is a directory"), an empty output was silently not written (exit 0 on a pass).
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert f"error: argument {argument}: expected {expected}, got nothing (is the CI variable" in line


@pytest.mark.parametrize(
    ("argv", "argument"),
    [
        (["check", str(BUSTER), "--policy", "-"], "--policy"),
        (["check", str(BUSTER), "--vex", "-"], "--vex"),
        (["check", str(BUSTER), "--baseline", "-"], "--baseline"),
        (["check", str(BUSTER), "--kev", "-"], "--kev"),
        (["check", str(BUSTER), "--epss", "-"], "--epss"),
        (["scan", "app:1", "--dockerfile", "-"], "--dockerfile"),
        (["explain", "CVE-2019-18224", "--report", str(BUSTER), "--policy", "-"], "--policy"),
        (["explain", "CVE-2019-18224", "--report", str(BUSTER), "--vex", "-"], "--vex"),
        (["compare", f"b={BUSTER}", "--vex", "-"], "--vex"),
        (["policy", "validate", "-"], "FILE"),
    ],
)  # fmt: skip
def test_standard_input_where_a_file_path_goes_is_a_usage_error_that_says_so(
    argv: list[str], argument: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `-` was taken as a file named `-`: "-: cannot read the policy file (No such file or
    # directory)", "-: no such VEX file", and a missing baseline only a warning.
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert f"error: argument {argument}: expected " in line
    assert (
        "standard input (-) is read only for a report (check's REPORT, explain's --report, compare's NAME=-); "
        "give ./- for a file named -"
    ) in line


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["check", "-", "-"], "REPORT - and REPORT -"),
        (["check", "-", "/dev/fd/0"], "REPORT - and REPORT /dev/fd/0"),
        (["check", "-", "--baseline", "/dev/stdin"], "REPORT - and --baseline /dev/stdin"),
        (["check", "/dev/stdin", "--baseline", "/proc/self/fd/0"], "REPORT - and --baseline /proc/self/fd/0"),
        (["check", str(BUSTER), "--baseline", "/dev/stdin", "--vex", "/dev/fd/0"], "--baseline /dev/stdin and --vex /dev/fd/0"),
        (["check", str(BUSTER), "--policy", "/dev/stdin", "--epss", "/dev/fd/0"], "--policy /dev/stdin and --epss /dev/fd/0"),
        (["check", "-", "--kev", "/dev/stdin"], "REPORT - and --kev /dev/stdin"),
        (["explain", "CVE-2019-18224", "--report", "-", "--baseline", "/dev/stdin"], "REPORT - and --baseline /dev/stdin"),
        (["compare", "piped=-", "--epss", "/proc/self/fd/0"], "--epss /proc/self/fd/0 and REF -"),
    ],
)  # fmt: skip
def test_standard_input_read_by_two_inputs_is_a_usage_error_naming_both(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `-` and the paths standard input goes by are one pipe, read once: the second reader found
    # it empty ("empty file"), and a baseline read so was only a warning, the gate going on without it.
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert (
        f"error: standard input holds one file, and {said} both read it: give the others their files" in line
    )


@pytest.mark.parametrize(
    ("policy", "argv", "said"),
    [
        ("vex: [/dev/stdin]", ["check", "-"], "REPORT - and the policy's vex[0] /dev/stdin"),
        ("exploit_data: {kev: /dev/fd/0}", ["check", "-"], "REPORT - and the policy's exploit_data.kev /dev/fd/0"),
        ("exploit_data: {epss: /proc/self/fd/0}", ["check", "/dev/stdin"], "REPORT - and the policy's exploit_data.epss /proc/self/fd/0"),
        ("vex: [/dev/stdin]", ["explain", "CVE-2019-18224", "--report", "-"], "REPORT - and the policy's vex[0] /dev/stdin"),
        ("vex: [/dev/stdin]", ["compare", "piped=-"], "REF - and the policy's vex[0] /dev/stdin"),
        ("vex: [/dev/stdin]", ["check", str(BUSTER), "--baseline", "/dev/fd/0"], "--baseline /dev/fd/0 and the policy's vex[0] /dev/stdin"),
        ("vex: [/dev/stdin]\nexploit_data: {kev: /dev/fd/0}", ["check", str(BUSTER)], "the policy's vex[0] /dev/stdin and the policy's exploit_data.kev /dev/fd/0"),
    ],
)  # fmt: skip
def test_standard_input_named_by_the_policy_and_read_by_another_input_is_a_usage_error_naming_both(
    policy: str, argv: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The policy's files are read after the report: the report took the pipe, and the VEX or KEV
    # file read from it was empty.
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(f"version: 1\n{policy}\n", encoding="utf-8")
    ci = ["--ci", "none"] if argv[0] == "check" else []
    assert cli.main([*argv, "--policy", str(policy_file), *ci]) == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert (
        f"error: standard input holds one file, and {said} both read it ({policy_file}): give the "
        "others their files"
    ) in line


def test_the_policys_file_that_an_option_replaces_reads_no_standard_input(tmp_path: Path) -> None:
    # --kev takes the place of the policy's exploit_data.kev, which is then not read: the report
    # alone reads standard input.
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("version: 1\nexploit_data: {kev: /dev/stdin}\n", encoding="utf-8")
    kev = corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json")
    argv = ["check", "-", "--policy", str(policy_file), "--kev", str(kev), "--ci", "none", "-q"]
    done = subprocess.run(
        [sys.executable, "-m", "gate", *argv],
        input=BUSTER.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == ExitCode.FAIL, done.stderr


@pytest.mark.parametrize("other", ["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"])
def test_standard_input_is_read_by_one_compare_row_whatever_its_name(
    other: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["compare", f"a={other}", "b=-"])
    assert exited.value.code == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert "error: standard input holds one report, and rows 'a' and 'b' both read it" in line


def nothing_scanned_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs in `tmp_path` where a scan or a pull fails the test: an image name is refused first."""

    def no_scan(*_args: object, **_kwargs: object) -> Any:
        raise AssertionError("nothing may be scanned")

    monkeypatch.setattr(gate.scanners.run, "scan", no_scan)
    monkeypatch.setattr(gate.cli.compare, "scan_batch", no_scan)
    monkeypatch.chdir(tmp_path)


def test_a_report_given_where_an_image_goes_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Taken as an image name, `buster.json` was looked for in the engine, then pulled from
    # docker.io/library/buster.json: a minute of network and an "image not found".
    nothing_scanned_here(tmp_path, monkeypatch)
    (tmp_path / "buster.json").write_bytes(BUSTER.read_bytes())
    out = tmp_path / "out.json"
    assert cli.main(["scan", "buster.json", "--ci", "none", "--json", str(out)]) == ExitCode.USAGE
    assert capsys.readouterr().err == (
        "container-gate: error: IMAGE buster.json: a file here, not an image reference: gate a "
        "scanner's report with `container-gate check buster.json`, scan an image archive as "
        "docker-archive:buster.json or oci-archive:buster.json\n"
    )
    assert json.loads(out.read_text())["verdict"] == "error"
    assert cli.main(["compare", "buster.json", f"alpine={BUSTER}"]) == ExitCode.USAGE
    assert capsys.readouterr().err.startswith(
        "container-gate: error: REF buster.json: a file here, not an image reference: give a "
        "scanner's report as NAME=buster.json, "
    )


def test_a_scanners_table_output_saved_as_text_is_a_file_here_not_an_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `trivy image app:1 > report.txt`, then `compare report.txt ...`: pulled as
    # docker.io/library/report.txt after a minute of network, then "image not found".
    nothing_scanned_here(tmp_path, monkeypatch)
    (tmp_path / "report.txt").write_text("Report Summary\n\n\u250c\u2500\u2510\n", encoding="utf-8")
    assert cli.main(["compare", "report.txt", f"alpine={BUSTER}"]) == ExitCode.USAGE
    assert capsys.readouterr().err.startswith(
        "container-gate: error: REF report.txt: a file here, not an image reference: "
    )
    assert cli.main(["scan", "report.txt", "--ci", "none"]) == ExitCode.USAGE
    assert "IMAGE report.txt: a file here, not an image reference: " in capsys.readouterr().err


def test_an_image_named_as_a_file_here_is_still_scanned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `go build -o myapp` beside the Dockerfile, then `docker build -t myapp .`: the image is meant.
    scanned: list[str] = []

    def scan(request: Any, *_args: object, **_kwargs: object) -> Any:
        scanned.append(request.reference)
        raise ScannerError("stopped after the reference was taken")

    monkeypatch.setattr(gate.scanners.run, "scan", scan)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "myapp").write_bytes(b"\x7fELF")
    assert cli.main(["scan", "myapp", "--ci", "none"]) == ExitCode.ERROR
    assert scanned == ["myapp"]
    assert "a file here" not in capsys.readouterr().err


def as_scanned(path: Path) -> ScanReport:
    """A Trivy golden as a stand-in for the gate's own scan, which lists the packages: without
    the warning of a report written without its package list."""
    report = load_report(path)
    return replace(report, warnings=tuple(w for w in report.warnings if not w.endswith(LIST_ALL_PKGS)))


@pytest.mark.parametrize(
    ("scanner", "flags", "said"),
    [
        ("grype", ["--db-repository", "ghcr.io/acme/trivy-db"], ["--db-repository is for Trivy"]),
        ("grype", ["--trivy-server", "http://127.0.0.1:9"], ["--trivy-server is for Trivy"]),
        ("trivy", ["--grype-db-url", "http://127.0.0.1:9/listing.json"], ["--grype-db-url is for Grype"]),
        ("both", ["--db-repository", "r", "--grype-db-url", "http://127.0.0.1:9/l.json"], []),
    ],
    ids=["grype-db-repository", "grype-trivy-server", "trivy-grype-db-url", "both-uses-both"],
)
def test_a_db_option_of_a_scanner_that_does_not_run_is_a_warning(
    scanner: str,
    flags: list[str],
    said: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `--scanner grype --db-repository MIRROR`: the mirror was never used, without a word.
    monkeypatch.setattr(gate.scanners.run, "scan", lambda *_a, **_k: as_scanned(BUSTER))
    out = tmp_path / "out.json"
    argv = ["scan", "docker-archive:app.tar", "--ci", "none", "--scanner", scanner, *flags]
    assert cli.main([*argv, "--json", str(out)]) == ExitCode.FAIL
    warnings = json.loads(out.read_text())["warnings"]
    assert [w.split(", which")[0] for w in warnings] == said
    assert all(w.endswith(f"which --scanner {scanner} does not run: not used") for w in warnings)
    capsys.readouterr()


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        ({"CONTAINER_GATE_ACTION": "true"}, "the action's `db-repository` input is for Trivy"),
        (
            {"CONTAINER_GATE_POLICY": ""},
            "the `db-repository` input (CONTAINER_GATE_DB_REPOSITORY) is for Trivy",
        ),
    ],
    ids=["action", "gitlab"],
)
def test_in_the_action_and_gitlab_an_unused_db_option_is_named_by_its_input(
    variables: dict[str, str],
    said: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gate.scanners.run, "scan", lambda *_a, **_k: as_scanned(BUSTER))
    for name in ("CONTAINER_GATE_ACTION", "CONTAINER_GATE_POLICY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out.json"
    argv = ["scan", "docker-archive:app.tar", "--ci", "none", "--scanner", "grype"]
    assert cli.main([*argv, "--db-repository", "ghcr.io/acme/trivy-db", "--json", str(out)]) == ExitCode.FAIL
    (warning,) = json.loads(out.read_text())["warnings"]
    assert warning.startswith(said)
    assert "--" not in warning
    capsys.readouterr()


@pytest.mark.parametrize(
    ("command", "flag", "named", "key"),
    [
        (["check", str(BUSTER), "--ci", "none"], "--json", "app.openvex.json", "vex[0]"),
        (["check", str(BUSTER), "--ci", "none"], "--openvex", "app.openvex.json", "vex[0]"),
        (["check", str(BUSTER), "--ci", "none"], "--sarif", "kev.json", "exploit_data.kev"),
        (["compare", f"buster={BUSTER}"], "--markdown", "kev.json", "exploit_data.kev"),
    ],
    ids=["json-over-vex", "openvex-over-vex", "sarif-over-kev", "compare-over-kev"],
)
def test_an_output_that_is_a_file_the_policy_names_is_refused_and_nothing_is_written(
    command: list[str],
    flag: str,
    named: str,
    key: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The policy's vex: and exploit_data: files are inputs too: `--json vex/app.openvex.json`
    # replaced the VEX document with the decision report, and every later run stopped on it.
    (tmp_path / "app.openvex.json").write_bytes(
        corpus_file("vex", "trivy__pkg-vex-testdata-openvex.json").read_bytes()
    )
    (tmp_path / "kev.json").write_bytes(
        corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json").read_bytes()
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nvex: [app.openvex.json]\nexploit_data: {kev: kev.json}\n", encoding="utf-8"
    )
    before = {path: path.read_bytes() for path in tmp_path.iterdir()}
    other = tmp_path / "out.junit.xml"
    extra = ["--junit", str(other)] if command[0] == "check" else []
    argv = [*command, "--policy", str(policy), flag, str(tmp_path / named), *extra]
    assert cli.main(argv) == ExitCode.USAGE
    assert capsys.readouterr().err == (
        f"container-gate: error: {flag} {tmp_path / named}: the same file as the policy's {key} "
        f"({tmp_path / named}), which this run reads; an output never replaces an input\n"
    )
    assert {path: path.read_bytes() for path in tmp_path.iterdir()} == before


STANDARD_INPUT_REFUSED = (
    "expected a file path, got '-': standard input (-) is read only for a report (check's REPORT, "
    "explain's --report, compare's NAME=-); give ./- for a file named -"
)


@pytest.mark.parametrize(
    ("named", "key", "found"),
    [
        # YAML's "\0" escape puts a NUL in a path; no system opens such a file, and it used to end
        # the run as an internal error (exit 3) rather than an invalid policy (exit 2).
        (
            'vex: ["app\\0.openvex.json"]',
            "vex[0]",
            "expected a file path without a NUL character, got 'app\\x00.openvex.json'",
        ),
        (
            'exploit_data: {kev: "kev\\0.json"}',
            "exploit_data.kev",
            "expected a file path without a NUL character, got 'kev\\x00.json'",
        ),
        # `-` was read as a file named `-` beside the policy ("policy.yaml: vex: ci/-: no such VEX
        # file"), which did not say that standard input is not read there.
        ('vex: ["-"]', "vex[0]", STANDARD_INPUT_REFUSED),
        ('exploit_data: {kev: "-"}', "exploit_data.kev", STANDARD_INPUT_REFUSED),
        ("exploit_data: {epss: '-'}", "exploit_data.epss", STANDARD_INPUT_REFUSED),
    ],
    ids=["vex-nul", "kev-nul", "vex-standard-input", "kev-standard-input", "epss-standard-input"],
)
def test_a_policy_naming_a_file_no_run_can_read_is_an_invalid_policy_that_says_why(
    named: str, key: str, found: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy, out_json = tmp_path / "policy.yaml", tmp_path / "gate.json"
    policy.write_text(f"version: 1\n{named}\n", encoding="utf-8")
    flags = ["--ci", "none", "--policy", str(policy), "--json", str(out_json)]
    assert cli.main(["check", str(PASSING), *flags]) == ExitCode.USAGE
    assert capsys.readouterr().err == f"container-gate: error: {policy}:2: {key}: {found}\n"
    assert json.loads(out_json.read_text())["verdict"] == "error"
    assert cli.main(["policy", "validate", str(policy)]) == ExitCode.USAGE


def test_a_file_named_dash_is_read_beside_the_policy_when_written_dot_slash_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the refusal of `-` advises: `./-` is the file named `-`, found beside the policy.
    (tmp_path / "-").write_bytes(
        corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json").read_bytes()
    )
    policy, out_json = tmp_path / "policy.yaml", tmp_path / "gate.json"
    policy.write_text("version: 1\nexploit_data: {kev: ./-, max_age_days: 100000}\n", encoding="utf-8")
    monkeypatch.chdir(PROJECT_ROOT)
    flags = ["--ci", "none", "--policy", str(policy), "--json", str(out_json)]
    assert cli.main(["check", str(PASSING), *flags]) == ExitCode.PASS
    (source,) = json.loads(out_json.read_text())["exploit_data"]["sources"]
    assert source["kind"] == "kev"
    assert source["path"] == str(tmp_path / "-")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["check", "./-", "--ci", "none"], "./-: no such report file"),
        (["check", str(PASSING), "--ci", "none", "--policy", "./-"], "./-: cannot read the policy file"),
        (["check", str(PASSING), "--ci", "none", "--vex", "./-"], "./-: no such VEX file"),
        (["explain", "CVE-2019-1549", "--report", "./-"], "./-: no such report file"),
        (["check", str(PASSING), "--ci", "none", "--kev", "./-"], "./-: cannot read the KEV catalog"),
        (["check", str(PASSING), "--ci", "none", "--epss", "./-"], "./-: cannot read the EPSS scores"),
    ],
    ids=["report", "policy", "vex", "explain", "kev", "epss"],
)
def test_a_file_named_dash_is_named_as_given_in_messages(
    argv: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `Path("./-")` is `-`: the message named the file `-`, which reads as standard input.
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"container-gate: error: {said}"), line


def test_a_kev_catalog_or_epss_scores_named_dash_are_named_dot_slash_dash_in_a_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Their age warnings, the failure of undated scores and the report's `exploit_data` said `-`,
    # which reads as standard input, where the command line said `./-`.
    monkeypatch.chdir(tmp_path)
    kev = corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json")
    Path("-").write_bytes(kev.read_bytes())
    Path("policy.yaml").write_text("version: 1\nexploit_data: {on_stale: fail}\n", encoding="utf-8")
    flags = ["--ci", "none", "--policy", "policy.yaml", "--json", "gate.json"]
    assert cli.main(["check", str(PASSING), *flags, "--kev", "./-"]) == ExitCode.FAIL
    out = capsys.readouterr().out
    assert "the KEV catalog ./- is " in out, out
    (source,) = json.loads(Path("gate.json").read_text(encoding="utf-8"))["exploit_data"]["sources"]
    assert source["path"] == "./-"
    Path("-").write_text("cve,epss,percentile\nCVE-2019-1549,0.5,0.9\n", encoding="utf-8")
    assert cli.main(["check", str(PASSING), *flags, "--epss", "./-"]) == ExitCode.FAIL
    assert "the EPSS scores ./- do not say when they were computed" in capsys.readouterr().out


LONG_NAME = "a" * 300
"""A file name longer than any system takes (255 bytes is the usual most)."""


@pytest.mark.parametrize(
    "given",
    [
        ["check", LONG_NAME],
        ["check", str(PASSING), "--policy", LONG_NAME],
        ["check", str(PASSING), "--baseline", LONG_NAME],
        ["check", str(PASSING), "--openvex", LONG_NAME],
        ["check", str(PASSING), "--markdown", LONG_NAME],
        ["explain", "CVE-2019-1549", "--report", LONG_NAME],
        ["compare", f"a={LONG_NAME}"],
        ["policy", "validate", LONG_NAME],
        ["data", "fetch", "--out", LONG_NAME],
    ],
    ids=["report", "policy", "baseline", "openvex", "output", "explain", "compare", "validate", "data-fetch"],
)
def test_a_file_name_too_long_is_a_usage_error_and_the_other_outputs_are_written(
    given: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system refuses such a name (ENAMETOOLONG), and pathlib's is_file() and is_dir() raise
    # it: it used to end the run as an internal error (exit 3), or with a traceback and exit 1.
    monkeypatch.chdir(tmp_path)
    out_json, out_sarif = tmp_path / "gate.json", tmp_path / "gate.sarif"
    outputs = ["--json", str(out_json), "--sarif", str(out_sarif)] if given[0] == "check" else []
    code: int | str | None
    try:
        code = cli.main([*given, *outputs])
    except SystemExit as exited:
        code = exited.code
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{LONG_NAME}: file name too long" in err
    assert "Traceback" not in err
    if outputs:
        assert json.loads(out_json.read_text())["verdict"] == "error"
        assert not out_sarif.exists()


def test_an_image_named_as_a_file_too_long_is_no_file() -> None:
    assert not names_a_file(LONG_NAME + ".tar")


@pytest.mark.parametrize("clash", ["command-line", "policy"])
def test_an_output_that_is_an_input_leaves_no_earlier_pass_at_the_other_outputs(
    clash: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing is written on such a run, not even the error documents; the --json and --sarif an
    # earlier run left passing were left standing too, for an `if: always()` upload to publish.
    report, kev = tmp_path / "report.json", tmp_path / "kev.json"
    report.write_bytes(PASSING.read_bytes())
    kev.write_bytes(corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json").read_bytes())
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nexploit_data: {kev: kev.json}\n", encoding="utf-8")
    out_json, out_sarif = tmp_path / "gate.json", tmp_path / "gate.sarif"
    flags = ["--ci", "none", "--policy", str(policy), "--json", str(out_json), "--sarif", str(out_sarif)]
    assert cli.main(["check", str(report), *flags]) == ExitCode.PASS
    assert json.loads(out_json.read_text())["verdict"] == "pass"
    inputs = {path: path.read_bytes() for path in (report, kev, policy)}
    capsys.readouterr()
    over = report if clash == "command-line" else kev
    code: int | str | None
    try:
        code = cli.main(["check", str(report), *flags, "--markdown", str(over)])
    except SystemExit as exited:
        code = exited.code
    assert code == ExitCode.USAGE
    assert "an output never replaces an input" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in inputs} == inputs
    assert not out_json.exists()
    assert not out_sarif.exists()


def test_an_output_that_is_a_named_pipe_or_a_device_is_never_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # On an error the SARIF output is removed rather than left stale, and so is an OpenVEX output
    # that has nothing to say: `--sarif /dev/null` removed /dev/null itself (the gate often runs
    # as root in CI), and every later step that wrote there failed. A named pipe stands for both.
    pipe, other = tmp_path / "sarif.pipe", tmp_path / "openvex.pipe"
    os.mkfifo(pipe)
    os.mkfifo(other)
    broken = tmp_path / "report.json"
    broken.write_text("{", encoding="utf-8")
    assert cli.main(["check", str(broken), "--ci", "none", "--sarif", str(pipe)]) == ExitCode.USAGE
    assert pipe.is_fifo()
    assert cli.main(["check", str(PASSING), "--ci", "none", "--openvex", str(other)]) == ExitCode.PASS
    assert other.is_fifo()
    assert f"{other} not written: no allowlist entry" in capsys.readouterr().err


def test_the_gates_own_outputs_given_back_as_the_report_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check gate.sarif`: only the --json decision report is read again; each other output the
    gate writes is named as the gate's own, not as a scanner's SARIF log or GitLab report."""
    outputs = {
        "--sarif": ("gate.sarif", "SARIF output"),
        "--markdown": ("gate.md", "Markdown summary"),
        "--junit": ("gate.xml", "JUnit output"),
        "--gitlab": ("gl-container-scanning-report.json", "GitLab report"),
    }
    argv = ["check", str(BUSTER), "--ci", "none"]
    for flag, (name, _what) in outputs.items():
        argv += [flag, str(tmp_path / name)]
    assert cli.main(argv) == ExitCode.FAIL
    compared = {
        "--json": ("compare.json", "compare table (compare --json)"),
        "--markdown": ("compare.md", "compare table (compare --markdown)"),
    }
    argv = ["compare", f"buster={BUSTER}"]
    for flag, (name, _what) in compared.items():
        argv += [flag, str(tmp_path / name)]
    assert cli.main(argv) == ExitCode.PASS
    capsys.readouterr()
    for name, what in [*outputs.values(), *compared.values()]:
        assert cli.main(["check", str(tmp_path / name), "--ci", "none"]) == ExitCode.USAGE
        (line,) = capsys.readouterr().err.splitlines()
        assert line.endswith(
            f"(this is container-gate's {what}: give the decision report check or scan writes with --json, "
            "or the scanner's JSON report)"
        ), line


@pytest.mark.parametrize(
    ("flag", "said"),
    [
        ("--kev", "./-: expected the CISA KEV catalog"),
        ("--epss", "./-: line 1: expected the column line 'cve,epss,percentile'"),
    ],
    ids=["kev", "epss"],
)
def test_a_kev_catalog_or_epss_scores_named_dash_and_malformed_are_named_dot_slash_dash(
    flag: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The file is there and read: its own reader names it in the error about its content.
    monkeypatch.chdir(tmp_path)
    Path("-").write_text("{}\n", encoding="utf-8")
    assert cli.main(["check", str(PASSING), "--ci", "none", flag, "./-"]) == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"container-gate: error: {said}"), line
