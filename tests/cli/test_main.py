"""The command line: `check`, `policy validate`, `explain`; exit codes, messages, outputs on errors."""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import gate
from gate.cli import commands
from gate.cli import main as cli
from gate.cli.options import Options
from gate.cli.outputs import publish_context
from gate.cli.parser import build_parser
from gate.errors import ExitCode, ScannerError
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS
from tests.support.corpus import corpus_file
from tests.support.repo_paths import PROJECT_ROOT
from tests.support.tty import standard_input

# A real Trivy scan of debian:buster: CVE-2019-18224 (CRITICAL, fixed) in libidn2-0 and
# CVE-2019-18276 (LOW, affected) in bash.
BUSTER = corpus_file("trivy", "debian-buster.json.golden")
# A Trivy scan of another image (alpine 3.10): only to show several reports merge.
ALPINE = corpus_file("trivy", "alpine-310.json.golden")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main([*argv, "--ci", "none"] if argv[0] in ("check",) else argv)
    out, err = capsys.readouterr()
    return code, out, err


def write_policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_check_fails_on_a_fixable_critical_with_the_default_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_json = tmp_path / "o" / "decision.json"
    code, out, err = run(["check", str(BUSTER), "--json", str(out_json)], capsys)
    assert code == ExitCode.FAIL
    lines = out.splitlines()
    assert lines[0] == lines[-1] == "container-gate: FAIL: 1 blocking finding(s); 1 action clears it."
    assert "Upgrade libidn2-0 2.0.5-1 -> 2.0.5-1+deb10u1" in out
    assert "       $ apt-get update && apt-get install -y --only-upgrade libidn2-0" in out
    assert "  #1      CVE-2019-18224  libidn2-0  2.0.5-1 -> 2.0.5-1+deb10u1  CRITICAL" in out
    assert err == ""
    doc = json.loads(out_json.read_text())
    assert doc["schema"] == "container-gate/decision/v1"
    assert doc["verdict"] == "fail"
    assert doc["counts"] == {"blocking": 1, "allowlisted": 0, "ignored": 0, "informational": 1}
    by_id = {f["vulnerability_id"]: f for f in doc["findings"]}
    assert by_id["CVE-2019-18224"]["disposition"] == "blocking"
    assert by_id["CVE-2019-18276"]["disposition"] == "informational"
    assert by_id["CVE-2019-18276"]["reason"] == "LOW is below the blocking severity HIGH"


def test_an_allowlist_entry_turns_it_into_a_pass_and_is_reported_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write_policy(
        tmp_path,
        """\
        version: 1
        allowlist:
          - vulnerability: CVE-2019-18224
            package: libidn2-0
            reason: "idn2 is never given untrusted input in this image"
            expires: 2099-12-31
          - vulnerability: CVE-2000-0001
            reason: "left over from an old image"
        """,
    )
    out_json = tmp_path / "d.json"
    code, out, _ = run(["check", str(BUSTER), "--policy", str(policy), "--json", str(out_json)], capsys)
    assert code == ExitCode.PASS
    assert out.startswith("container-gate: PASS: no blocking findings.")
    assert "allowlist[1] CVE-2000-0001: matched no finding: left over from an old image" in out
    rules = json.loads(out_json.read_text())["rules"]
    assert [(r["index"], r["state"], r["matched"]) for r in rules] == [(0, "used", 1), (1, "unused", 0)]


def test_as_of_shows_an_exception_expiring(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = write_policy(
        tmp_path,
        """\
        version: 1
        fail_on_expired: true
        allowlist:
          - vulnerability: CVE-2019-18224
            reason: "waiting for the base image"
            expires: 2030-01-31
        """,
    )
    assert (
        run(["check", str(BUSTER), "--policy", str(policy), "--as-of", "2030-01-31"], capsys)[0]
        == ExitCode.PASS
    )
    code, out, _ = run(["check", str(BUSTER), "--policy", str(policy), "--as-of", "2030-02-01"], capsys)
    assert code == ExitCode.FAIL
    assert "allowlist[0] (CVE-2019-18224) expired on 2030-01-31 and fail_on_expired is set" in out


def test_as_of_before_today_says_which_expired_entries_it_brings_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write_policy(
        tmp_path,
        """\
        version: 1
        allowlist:
          - vulnerability: CVE-2019-18224
            reason: "waiting for the base image"
            expires: 2020-01-31
          - vulnerability: CVE-2019-18276
            reason: "bash is not on the path"
            expires: 2099-12-31
        """,
    )
    out_json = tmp_path / "gate.json"
    argv = ["check", str(BUSTER), "--policy", str(policy), "--json", str(out_json)]
    # Expired today, the entry no longer hides the CRITICAL finding...
    assert run(argv, capsys)[0] == ExitCode.FAIL
    # ...and a date before its expiry brings it back: the run passes, and every output says why.
    code, out, _ = run([*argv, "--as-of", "2020-01-01"], capsys)
    assert code == ExitCode.PASS
    said = (
        f"{policy}: allowlist[0] (line 3) expired on 2020-01-31, yet applies in this run: --as-of "
        "2020-01-01 is before today"
    )
    assert said in out
    assert any(said in warning for warning in json.loads(out_json.read_text())["warnings"])
    # Only entries expired between the two dates are named; a date after today names none.
    # (allowlist[1], dated more than a year after 2020-01-01, is named for that alone.)
    assert "allowlist[1] (line 6) expired" not in out
    assert "  - allowlist[1] CVE-2019-18276: 1 finding in bash" in out.splitlines()  # it cleared one
    code, out, _ = run([*argv, "--as-of", "2099-12-31"], capsys)
    assert "yet applies in this run" not in out


def test_below_what_blocks_the_summary_gives_the_explain_command_of_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The table said what blocks; `explain`, which says why one does and what clears it, was
    # named nowhere in the summary, and its --report and --policy were the reader's to rebuild.
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "my report.json"
    report.write_bytes(BUSTER.read_bytes())
    policy = write_policy(tmp_path, "version: 1\n")
    argv = ["check", report.name, "--policy", policy.name, "--as-of", "2026-12-01"]
    code, out, _ = run(argv, capsys)
    assert code == ExitCode.FAIL
    lines = out.splitlines()
    start = lines.index("  why one blocks, and what clears it:")
    command = lines[start + 1]
    assert command == (
        "    $ container-gate explain ID --report 'my report.json' --policy policy.yaml --as-of 2026-12-01"
    )
    # Pasted with an id of the table, it runs, and says what the check decided.
    words = shlex.split(command.removeprefix("    $ ").replace(" ID ", " CVE-2019-18224 "))
    assert (
        run(words[1:], capsys)[1].splitlines()[0] == "CVE-2019-18224: 1 finding(s) under policy policy.yaml"
    )
    # A report read from standard input cannot be read again: no command.
    with standard_input(BUSTER):
        code, out, _ = run(["check", "-"], capsys)
    assert code == ExitCode.FAIL
    assert "explain" not in out
    # The action's user types no command where the gate runs.
    monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
    assert "explain" not in run(argv, capsys)[1]


def test_the_explain_command_names_a_hostile_path_as_it_is_or_not_at_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--report -x.json` was read as an option with no value ("expected one argument"), and a
    # newline or an escape in a path was printed as a blank or `\x1b`: another file's name, here
    # the name of a report that exists, so the command explained another report.
    monkeypatch.chdir(tmp_path)
    for name in ("-x.json", "new\nline.json", "new line.json", "\x1b[31mred.json"):
        (tmp_path / name).write_bytes(BUSTER.read_bytes())
    policy = write_policy(tmp_path, "version: 1\n")

    def command(report: str) -> str:
        code, out, _ = run(["check", "--policy", policy.name, f"./{report}"], capsys)
        assert code == ExitCode.FAIL
        lines = out.splitlines()
        return lines[lines.index("  why one blocks, and what clears it:") + 1].removeprefix("    $ ")

    dash = command("-x.json")
    assert "--report=-x.json" in dash
    words = shlex.split(dash.replace(" ID ", " CVE-2019-18224 "))
    assert run(words[1:], capsys)[1].splitlines()[0].startswith("CVE-2019-18224: 1 finding(s)")
    for hostile in ("new\nline.json", "\x1b[31mred.json"):
        shown = command(hostile)
        assert " --report REPORT " in shown, shown
        assert "new line" not in shown
        assert "x1b" not in shown


def test_the_explain_command_keeps_a_raised_report_size_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A report larger than the default limit was read with --max-report-size, and the command
    # printed left the limit out: `explain` refused the report it names.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.json").write_bytes(BUSTER.read_bytes())
    code, out, _ = run(["check", "r.json", "--max-report-size", "3G"], capsys)
    assert code == ExitCode.FAIL
    lines = out.splitlines()
    command = lines[lines.index("  why one blocks, and what clears it:") + 1]
    assert command == "    $ container-gate explain ID --report r.json --max-report-size 3000000000"
    # The default limit is no option to repeat.
    out = run(["check", "r.json"], capsys)[1]
    assert "    $ container-gate explain ID --report r.json" in out.splitlines()


def _explain_words(argv: list[str]) -> str | None:
    """The explain command a run of `argv` on the command line gives, as typed."""
    import datetime as dt

    from gate.cli.options import options_from

    options = options_from(build_parser().parse_args(argv), {}, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    parts = commands.explain_command(options)
    return None if parts is None else " ".join(part.text for part in parts)


def test_the_explain_command_repeats_every_input_that_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without its baseline, VEX statements, exploit data or image name, `explain` decides otherwise
    # than the run did: an allowlisted or accepted finding would be said to block.
    monkeypatch.setattr(commands, "run_wording", lambda: COMMAND_LINE_WORDS)
    argv = ["check", "r.json", "--baseline", "b.json", "--vex", "a.vex.json", "--vex", "b.vex.json"]
    argv += ["--kev", "kev.json", "--epss", "epss.csv", "--image-name", "ghcr.io/acme/app:1"]
    assert _explain_words(argv) == (
        "container-gate explain ID --report r.json --image-name ghcr.io/acme/app:1 --baseline b.json "
        "--vex a.vex.json --vex b.vex.json --kev kev.json --epss epss.csv"
    )


def test_the_explain_command_of_a_scan_names_its_json_report(monkeypatch: pytest.MonkeyPatch) -> None:
    # A scan's findings are read again from its --json file; one written to standard output, or
    # none, cannot be.
    monkeypatch.setattr(commands, "run_wording", lambda: COMMAND_LINE_WORDS)
    assert _explain_words(["scan", "alpine:3", "--json", "out.json"]) == (
        "container-gate explain ID --report out.json"
    )
    assert _explain_words(["scan", "alpine:3", "--json", "-"]) is None
    assert _explain_words(["scan", "alpine:3"]) is None


def test_advisory_never_fails_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(BUSTER), "--advisory"], capsys)
    assert code == ExitCode.PASS
    assert out.splitlines()[0].startswith(
        "container-gate: ADVISORY MODE: this gate never fails. 1 finding(s)"
    )


def test_image_name_makes_image_globs_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = write_policy(
        tmp_path,
        """\
        version: 1
        allowlist:
          - vulnerability: CVE-2019-18224
            image: "ghcr.io/acme/*"
            reason: "only in acme images"
        """,
    )
    base = ["check", str(BUSTER), "--policy", str(policy)]
    assert run(base, capsys)[0] == ExitCode.FAIL
    assert run([*base, "--image-name", "ghcr.io/acme/web:2"], capsys)[0] == ExitCode.PASS


def test_several_reports_are_merged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "d.json"
    code, _, _ = run(["check", str(BUSTER), str(BUSTER), str(ALPINE), "--json", str(out_json)], capsys)
    doc = json.loads(out_json.read_text())
    assert code == ExitCode.FAIL
    # The same report twice adds nothing; alpine adds its own four findings.
    assert len(doc["findings"]) == 2 + 4
    assert doc["sources"] == [str(BUSTER), str(ALPINE)]
    # Merged, they are judged as buster's image: every output says alpine's report is another's.
    # Besides each Trivy report's without its package list (tests/scanners/test_trivy.py).
    (warning,) = [w for w in doc["warnings"] if "without its package list" not in w]
    assert warning.startswith(f"{ALPINE} is a report of another image (sha256:9617696")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"hello": "world"}', "not a Trivy (SchemaVersion 2), Grype (matches) or Snyk container"),
        ("", "empty"),
    ],
)
def test_unreadable_reports_are_exit_2_with_one_line_and_error_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    report = tmp_path / "report.json"
    report.write_text(content)
    out_json, out_md, out_sarif = tmp_path / "d.json", tmp_path / "d.md", tmp_path / "d.sarif"
    out_sarif.write_text("stale from an earlier run")
    code, out, err = run(
        ["check", str(report), "--json", str(out_json), "--markdown", str(out_md), "--sarif", str(out_sarif)],
        capsys,
    )
    assert code == ExitCode.USAGE
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"container-gate: error: {report}")
    assert message in lines[0]
    assert "Traceback" not in err
    doc = json.loads(out_json.read_text())
    assert doc["verdict"] == "error"
    assert doc["error"]["exit_code"] == ExitCode.USAGE
    assert "could not decide" in out_md.read_text()
    assert not out_sarif.exists()


def test_a_missing_report_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["check", str(tmp_path / "nope.json")], capsys)
    assert code == ExitCode.USAGE
    assert str(tmp_path / "nope.json") in err
    assert "Traceback" not in err


class Terminal(io.StringIO):
    """Standard input as the gate sees it when nothing is piped in."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_a_report_read_from_a_terminal_says_it_waits_for_it(
    terminal: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal() if terminal else io.StringIO())
    with standard_input(BUSTER):
        code, _, err = run(["check", "-"], capsys)
    assert code == ExitCode.FAIL
    prompt = "container-gate: reading the report from standard input (end with Ctrl-D)...\n"
    assert err == (prompt if terminal else "")


def test_a_closed_standard_input_is_named_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `check - <&-` (no standard input at all: Python's sys.stdin is None) stopped with an
    # internal error on `sys.stdin.isatty()`, and `compare NAME=- <&-` too.
    monkeypatch.setattr(sys, "stdin", None)
    saved = os.dup(0)
    try:
        os.close(0)
        code, _, err = run(["check", "-"], capsys)
        compare_code, compare_out, compare_err = run(["compare", "piped=-", f"file={BUSTER}"], capsys)
    finally:
        os.dup2(saved, 0)
        os.close(saved)
    assert (code, compare_code) == (ExitCode.USAGE, ExitCode.ERROR)
    assert err == "container-gate: error: standard input: no such report file\n"
    assert "internal error" not in compare_err
    assert "\n  piped: standard input: no such report file\n" in compare_out


def test_an_unreadable_report_on_standard_input_is_named_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    report.write_text("nope")
    with standard_input(report):
        code, _, err = run(["check", "-"], capsys)
        explain_code, _, explain_err = run(["explain", "CVE-2019-18224", "--report", "-"], capsys)
    assert (code, explain_code) == (ExitCode.USAGE, ExitCode.USAGE)
    for said in (err, explain_err):
        assert said.startswith("container-gate: error: standard input: not valid JSON"), said


def test_an_invalid_policy_is_exit_2_with_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write_policy(
        tmp_path,
        """\
        version: 1
        fail_on:
          severty: HIGH
        allowlist:
          - vulnerability: CVE-2019-18224
        """,
    )
    code, out, err = run(["check", str(BUSTER), "--policy", str(policy)], capsys)
    assert code == ExitCode.USAGE
    assert out == ""
    assert err.splitlines() == [
        f"container-gate: error: {policy}:3: fail_on.severty: unknown key (did you mean 'severity'?)",
        f"container-gate: error: {policy}:5: allowlist[0]: missing required key 'reason'",
    ]


def test_policy_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = PROJECT_ROOT / "policies" / "strict.yaml"
    bad = write_policy(tmp_path, "version: 2\n")
    code, out, _ = run(["policy", "validate", str(good)], capsys)
    assert (code, out) == (ExitCode.PASS, f"{good}: valid policy (version 1)\n")
    code, out, _ = run(["policy", "validate", str(good), str(bad)], capsys)
    assert code == ExitCode.USAGE
    assert f"{bad}:1: version: only version 1 is supported (expected 1, got 2)" in out


@pytest.mark.parametrize(
    ("fail_on_expired", "consequence"),
    [
        ("false", "it no longer allowlists anything"),
        ("true", "every run fails while it is in the file (fail_on_expired: true)"),
    ],
)
def test_policy_validate_warns_of_expired_entries(
    fail_on_expired: str, consequence: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Valid, and still: every run reports the entry, and under fail_on_expired each one fails.
    policy = write_policy(
        tmp_path,
        f"""\
        version: 1
        allowlist:
          - vulnerability: CVE-2019-18224
            reason: "accepted until the upgrade"
            expires: 2020-01-31
          - vulnerability: CVE-2019-18276
            reason: "never expires"
        fail_on_expired: {fail_on_expired}
        """,
    )
    code, out, _ = run(["policy", "validate", str(policy)], capsys)
    assert (code, out.splitlines()) == (
        ExitCode.PASS,
        [
            f"{policy}: valid policy (version 1)",
            f"warning: {policy}: allowlist[0] (line 3): expired on 2020-01-31: {consequence}",
        ],
    )


def test_policy_validate_judges_expiry_as_of_the_date_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # check, scan, explain and compare take --as-of to see what expires before a release;
    # policy validate refused it (exit 2), so the policy could only be checked as of today.
    policy = write_policy(
        tmp_path,
        """\
        version: 1
        allowlist:
          - vulnerability: CVE-2019-18224
            reason: "accepted until the upgrade"
            expires: 2999-01-31
        """,
    )
    code, out, _ = run(["policy", "validate", str(policy)], capsys)
    # Today, 2999 is more than a year away: a warning of its own, not an expired entry.
    assert (code, out.splitlines()[0], "expired on" in out) == (
        ExitCode.PASS,
        f"{policy}: valid policy (version 1)",
        False,
    )
    for as_of, expired in (("2999-01-31", False), ("2999-02-01", True)):
        code, out, _ = run(["policy", "validate", str(policy), "--as-of", as_of], capsys)
        said = f"warning: {policy}: allowlist[0] (line 3): expired on 2999-01-31: it no longer allowlists anything"
        assert (code, said in out) == (ExitCode.PASS, expired)


def test_policy_validate_reads_the_files_the_policy_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every `check` with such a policy would stop on the file: validate says so first.
    (tmp_path / "kev.json").write_text("[]", encoding="utf-8")
    policy = write_policy(
        tmp_path, "version: 1\nvex: [missing.openvex.json]\nexploit_data: {kev: kev.json}\n"
    )
    code, out, _ = run(["policy", "validate", str(policy)], capsys)
    assert code == ExitCode.USAGE
    assert out.splitlines() == [
        f"{policy}: vex: {tmp_path / 'missing.openvex.json'}: no such VEX file",
        f"{policy}: exploit_data.kev: {tmp_path / 'kev.json'}: expected the CISA KEV catalog (an object with "
        "catalogVersion, dateReleased and vulnerabilities), got an array",
    ]
    (tmp_path / "missing.openvex.json").write_bytes(
        corpus_file("vex", "trivy__pkg-vex-testdata-openvex.json").read_bytes()
    )
    (tmp_path / "kev.json").write_bytes(
        corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json").read_bytes()
    )
    code, out, _ = run(["policy", "validate", str(policy)], capsys)
    assert (code, out) == (ExitCode.PASS, f"{policy}: valid policy (version 1)\n")


def test_policy_validate_warns_of_bom_links_its_vex_file_makes_into_another_bom(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `check` with this policy warns that the statements naming components by BOM-Links into
    # another BOM are not followed; validate, which reads the file, says it too.
    vex = tmp_path / "trivy.cdx.json"
    vex.write_bytes(corpus_file("vex", "aquasecurity-trivy__pkg-vex-testdata-cyclonedx.json").read_bytes())
    policy = write_policy(tmp_path, "version: 1\nvex: [trivy.cdx.json]\n")
    code, out, _ = run(["policy", "validate", str(policy)], capsys)
    assert (code, out.splitlines()) == (
        ExitCode.PASS,
        [
            f"{policy}: valid policy (version 1)",
            f"warning: {vex}: CycloneDX affects[].ref BOM-Links into another BOM "
            "(urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1) are not followed: a statement says "
            "nothing about them, and clears no finding through them",
        ],
    )


def test_explain_names_the_rule_and_why_an_entry_did_not_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write_policy(
        tmp_path,
        """\
        version: 1
        allowlist:
          - vulnerability: CVE-2019-18224
            package: libidn2-0
            version: "9.9"
            reason: "an older exception"
        """,
    )
    code, out, _ = run(
        ["explain", "cve-2019-18224", "--report", str(BUSTER), "--policy", str(policy)], capsys
    )
    assert code == ExitCode.PASS
    assert "- CVE-2019-18224 in libidn2-0 2.0.5-1 -> 2.0.5-1+deb10u1" in out
    assert "disposition: BLOCKING (rule fail_on.severity)" in out
    assert "- allowlist[0] (line 3): unused; reason: an older exception" in out
    assert "does not match libidn2-0: version '9.9' differs from the installed '2.0.5-1'" in out
    code, out, _ = run(["explain", "CVE-1999-0001", "--report", str(BUSTER)], capsys)
    assert code == ExitCode.FAIL
    assert "no finding in the report(s) has this id or alias" in out


def test_explain_says_what_fixes_each_finding(capsys: pytest.CaptureFixture[str]) -> None:
    # The action of the summaries' "What to do" table, with its command; or that there is none.
    code, out, _ = run(["explain", "CVE-2019-18224", "--report", str(BUSTER)], capsys)
    assert code == ExitCode.PASS
    assert (
        "  to fix it:   Upgrade libidn2-0 2.0.5-1 -> 2.0.5-1+deb10u1\n"
        "               $ apt-get update && apt-get install -y --only-upgrade libidn2-0\n" in out
    )
    code, out, _ = run(["explain", "CVE-2019-18276", "--report", str(BUSTER)], capsys)
    assert code == ExitCode.PASS
    assert "  to fix it:   no action: no published version fixes it yet\n" in out


def test_explain_compares_an_entrys_package_name_with_the_findings_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Grype's real report: CVE-2023-28755 in ruby-3.0 and in the uri gem (pkg:gem/uri@0.10.1).
    # An entry naming ruby-3.0 by name does not match uri because the names differ: the package
    # URL has nothing to do with it, and naming it suggested writing one.
    report = corpus_file("grype", "anchore-grype__chainguard-ruby-test.json")
    policy = write_policy(
        tmp_path,
        """\
        version: 1
        allowlist:
          - vulnerability: CVE-2023-28755
            package: ruby-3.0
            reason: "ruby's uri is not reachable"
        """,
    )
    code, out, _ = run(
        ["explain", "CVE-2023-28755", "--report", str(report), "--policy", str(policy)], capsys
    )
    assert code == ExitCode.PASS
    assert "does not match uri: package 'ruby-3.0' differs from 'uri'\n" in out
    assert "pkg:gem" not in out


def test_explain_lists_the_entries_naming_an_id_in_policy_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Grype's real report: the uri gem's finding is CVE-2023-28755 with the alias
    # GHSA-hv5j-3h9f-99c2. An entry naming the alias comes first in the file, so it is listed first
    # whichever of the two ids is asked for.
    report = corpus_file("grype", "anchore-grype__chainguard-ruby-test.json")
    policy = write_policy(
        tmp_path,
        """\
        version: 1
        allowlist:
          - vulnerability: GHSA-hv5j-3h9f-99c2
            package: uri
            reason: "uri only parses trusted input"
          - vulnerability: CVE-2023-28755
            package: ruby-3.0
            reason: "ruby's uri is not reachable"
        """,
    )
    for asked in ("CVE-2023-28755", "GHSA-hv5j-3h9f-99c2"):
        code, out, _ = run(["explain", asked, "--report", str(report), "--policy", str(policy)], capsys)
        assert code == ExitCode.PASS
        listed = [line.split(" ", 2)[1] for line in out.splitlines() if line.startswith("- allowlist[")]
        assert listed == ["allowlist[0]", "allowlist[1]"], (asked, out)


def test_explain_advisory_says_what_it_does_there(capsys: pytest.CaptureFixture[str]) -> None:
    # explain's exit code is whether a finding has the id, never the verdict: "exit 0" misled.
    code, out, _ = run(["explain", "CVE-2019-18224", "--report", str(BUSTER), "--advisory"], capsys)
    assert (code, "disposition: INFORMATIONAL (rule fail_on.severity)" in out) == (ExitCode.PASS, True)
    assert (
        run(["explain", "CVE-1999-0001", "--report", str(BUSTER), "--advisory"], capsys)[0] == ExitCode.FAIL
    )
    with pytest.raises(SystemExit):
        cli.main(["explain", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert (
        "--advisory explain as an advisory policy decides: findings that would block are informational "
        "(overrides the policy's mode; the exit code is still 1 when no finding has the id)"
    ) in help_text


@pytest.mark.parametrize("empty", ["", "  "])
def test_explain_of_an_empty_id_is_a_usage_error(empty: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Most often a CI variable that expanded to nothing: "no finding has this id" would mislead.
    with pytest.raises(SystemExit) as exited:
        cli.main(["explain", empty, "--report", str(BUSTER)])
    assert exited.value.code == ExitCode.USAGE
    assert "argument VULN_ID: expected a vulnerability id such as CVE-2024-3094, got nothing" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("given", [["CVE-2019-18224"], ["report.json"]], ids=["swapped", "same-file"])
def test_explain_of_a_report_file_as_the_id_says_where_each_goes(
    given: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`explain report.json --report CVE-...`: not "CVE-...: no such report file", nor (with the
    report given twice) "no finding has this id", exit 1."""
    monkeypatch.chdir(tmp_path)
    Path("report.json").write_bytes(BUSTER.read_bytes())
    assert cli.main(["explain", "report.json", "--report", *given]) == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "container-gate: error: VULN_ID report.json: a file here, not a vulnerability id: give the id "
        "first and the report with --report (container-gate explain CVE-... --report report.json)"
    )


def test_explain_cannot_carry_escape_sequences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(BUSTER.read_text())
    for vuln in doc["Results"][0]["Vulnerabilities"]:
        # Trivy names each CVSS source by a key of its own: report text like any other.
        vuln["CVSS"] = {"nvd\x1b]0;pwned\x07": {"V3Score": 9.8}}
        vuln["SeveritySource"] = "nvd\x1b]0;pwned\x07"
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(doc))
    code, out, _ = run(["explain", "CVE-2019-18224", "--report", str(hostile)], capsys)
    assert code == ExitCode.PASS
    assert "(CVSS 9.8, nvd\\x1b]0;pwned\\x07)" in out
    assert "\x1b" not in out
    assert "\x07" not in out


def test_an_unexpected_failure_is_exit_3_never_a_pass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(commands, "evaluate", broken)
    out_json = tmp_path / "d.json"
    code, _, err = run(["check", str(BUSTER), "--json", str(out_json)], capsys)
    assert code == ExitCode.ERROR
    assert (
        err == "container-gate: internal error: RuntimeError: boom (run with --verbose for the traceback)\n"
    )
    assert json.loads(out_json.read_text())["verdict"] == "error"
    code, _, err = run(["--verbose", "check", str(BUSTER)], capsys)
    assert code == ExitCode.ERROR
    assert "Traceback" in err


def test_an_unwritable_output_is_exit_2_and_other_outputs_are_still_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    out_md = tmp_path / "d.md"
    code, _, err = run(
        ["check", str(BUSTER), "--json", str(blocker / "d.json"), "--markdown", str(out_md)], capsys
    )
    assert code == ExitCode.USAGE
    # What is wrong, rather than the system's "File exists" for the directory it could not make.
    assert f"{blocker / 'd.json'}: cannot write output file: {blocker} is a file, not a directory\n" in err
    assert out_md.read_text().count("container-gate: fail") == 1
    code, _, err = run(["check", str(BUSTER), "--json", str(blocker / "sub" / "d.json")], capsys)
    assert code == ExitCode.USAGE
    assert f"cannot write output file: {blocker} is a file, not a directory\n" in err


@pytest.mark.parametrize("option", ["--json", "--sarif"])
@pytest.mark.parametrize("directory", [".", "/", "..", "sub/.."])
def test_an_output_named_as_a_directory_without_a_name_is_exit_2_in_one_line(
    option: str,
    directory: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `json: .` in the action: the directory itself, whose path has no last name to write beside.
    monkeypatch.chdir(tmp_path)
    out_md = tmp_path / "d.md"
    code, _, err = run(["check", str(BUSTER), option, directory, "--markdown", str(out_md)], capsys)
    assert code == ExitCode.USAGE
    assert err == f"container-gate: error: {directory}: cannot write output file: Is a directory\n"
    assert out_md.read_text().count("container-gate: fail") == 1
    assert not (tmp_path / "sub").exists()  # nothing made for a path that names no file
    # The error outputs of a run that could not decide meet the same path.
    code, _, err = run(["check", str(tmp_path / "missing.json"), option, directory], capsys)
    assert code == ExitCode.USAGE
    assert "Traceback" not in err
    assert "internal error" not in err


def test_an_output_that_cannot_be_made_leaves_no_earlier_file_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A SARIF upload after the run would publish the earlier run's verdict.
    monkeypatch.chdir(tmp_path)
    for variable in ("GITHUB_WORKSPACE", "CI_PROJECT_DIR"):
        monkeypatch.delenv(variable, raising=False)
    out_sarif = tmp_path / "gate.sarif"
    out_sarif.write_text('{"runs": ["from an earlier run"]}', encoding="utf-8")
    out_json = tmp_path / "gate.json"
    elsewhere = tmp_path.parent / "Dockerfile"
    argv = ["check", str(BUSTER), "--sarif", str(out_sarif), "--sarif-location", str(elsewhere)]
    code, _, err = run([*argv, "--json", str(out_json)], capsys)
    assert code == ExitCode.USAGE
    assert err.endswith(
        f"container-gate: error: {elsewhere}: not inside the repository {tmp_path}, where the SARIF "
        "output's locations must point (code scanning shows files of the repository); give a path "
        "relative to it\n"
    )
    assert not out_sarif.exists()
    assert json.loads(out_json.read_text())["verdict"] == "fail"  # the other outputs are written


def test_a_sarif_output_cut_to_githubs_limits_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gate.render import sarif

    # GitHub's limit is 25,000 results; one result is enough to show what happens at it.
    small = functools.partial(sarif.SarifOptions, limits=sarif.SarifLimits(max_results=1))
    monkeypatch.setattr(sarif, "SarifOptions", small)
    out_sarif = tmp_path / "gate.sarif"
    code, _, err = run(["check", str(BUSTER), "--sarif", str(out_sarif)], capsys)
    assert code == ExitCode.FAIL
    assert err == (
        f"container-gate: warning: {out_sarif}: 1 of 2 results left out to fit GitHub's limits "
        "(at most 1 results per run), blocking results last; the JSON report lists every finding\n"
    )
    assert [r["ruleId"] for r in json.loads(out_sarif.read_text())["runs"][0]["results"]] == [
        "CVE-2019-18224"
    ]
    monkeypatch.undo()
    code, _, err = run(["check", str(BUSTER), "--sarif", str(out_sarif)], capsys)
    assert (code, err) == (ExitCode.FAIL, "")


def test_a_default_branch_image_the_gitlab_report_ignores_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GitLab matches a default branch image only as NAME:TAG; one without a tag is left out of
    # the report, and the job log says so, not only the report's scan.messages.
    monkeypatch.setenv("CS_DEFAULT_BRANCH_IMAGE", "registry.gitlab.com/acme/web")
    out = tmp_path / "gl.json"
    code, _, err = run(["check", str(BUSTER), "--gitlab", str(out)], capsys)
    assert code == ExitCode.FAIL
    assert err == (
        f"container-gate: warning: {out}: default branch image 'registry.gitlab.com/acme/web' "
        "ignored: expected NAME:TAG of at most 255 characters\n"
    )
    assert all(
        "default_branch_image" not in v["location"] for v in json.loads(out.read_text())["vulnerabilities"]
    )
    monkeypatch.setenv("CS_DEFAULT_BRANCH_IMAGE", "registry.gitlab.com/acme/web:main")
    code, _, err = run(["check", str(BUSTER), "--gitlab", str(out)], capsys)
    assert (code, err) == (ExitCode.FAIL, "")


def test_usage_errors_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["check"])
    assert exc.value.code == ExitCode.USAGE
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", str(BUSTER), "--as-of", "tomorrow"])
    assert exc.value.code == ExitCode.USAGE
    assert "expected a date as YYYY-MM-DD, got 'tomorrow'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["check", str(BUSTER)], None),
        (
            ["scan", "--scanner=Trivy", "app:1"],
            cli.UsageProblem(
                "argument --scanner: invalid choice: 'Trivy' (choose from 'trivy', 'grype', 'both') "
                "(did you mean 'trivy'?)",
                outputs_usable=True,
            ),
        ),
        (
            ["check", "--json=out.json", "--sarif=out.json", str(BUSTER)],
            cli.UsageProblem(
                "--sarif out.json: the same file as --json; give each output a file of its own",
                outputs_usable=False,
            ),
        ),
    ],
    ids=["none", "a-value", "the-outputs"],
)
def test_usage_problem_is_what_main_would_stop_at_without_a_word(
    argv: list[str], expected: cli.UsageProblem | None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.usage_problem(argv) == expected
    assert capsys.readouterr() == ("", "")
    if expected is not None:
        with pytest.raises(SystemExit):
            cli.main(argv)
        assert capsys.readouterr().err.startswith(f"container-gate {argv[0]}: error: {expected.message}")


@pytest.mark.parametrize(
    ("platform", "told"),
    [("linux/arm64", "linux/arm64"), ("linux", None)],
    ids=["given", "itself-wrong"],
)
def test_a_usage_error_of_scan_tells_the_platform_the_platform_it_was_for(
    platform: str, told: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A scan stopped by a wrong value (`--scanner Trivy`) edits the comment of its image and of
    # the --platform it names, as a scan that could not decide later does: without the platform, a
    # job's comments of one image on two platforms could not be told apart and neither changed.
    # A --platform that is itself wrong is left out, the error outputs still written.
    contexts = []

    def publish_error(options: Options, message: str, exit_code: int) -> None:
        contexts.append(publish_context(options, error=True))

    monkeypatch.setattr(cli, "publish_error", publish_error)
    with pytest.raises(SystemExit) as exc:
        cli.main(["scan", "app:1", "--platform", platform, "--scanner", "Trivy", "--ci", "none"])
    assert exc.value.code == ExitCode.USAGE
    [context] = contexts
    assert (context.image, context.platform) == ("app:1", told)


def test_terminal_output_cannot_carry_escape_sequences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(BUSTER.read_text())
    vuln = doc["Results"][0]["Vulnerabilities"][0]
    vuln["PkgName"] = "evil\x1b[2J\x1b]0;pwned\x07"
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(doc))
    code, out, _ = run(["check", str(hostile), "--advisory"], capsys)
    assert code == ExitCode.PASS
    assert "\x1b" not in out
    assert "\x07" not in out


def test_an_error_output_that_cannot_be_written_is_named_without_escape_sequences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The run could not decide (no such report), and the error output's path cannot be written:
    # the line naming it must not carry the path's escape sequences to the terminal.
    blocker = tmp_path / "evil\x1b[2J\u202e"
    blocker.write_text("")
    code, _, err = run(["check", str(tmp_path / "missing.json"), "--json", str(blocker / "d.json")], capsys)
    assert code == ExitCode.USAGE
    assert "\x1b" not in err
    assert "\u202e" not in err
    assert "evil\\x1b[2J\\u202e/d.json: cannot write output file" in err


def test_on_github_actions_report_text_cannot_issue_workflow_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(BUSTER.read_text())
    for vuln in doc["Results"][0]["Vulnerabilities"]:
        vuln["VulnerabilityID"] = "::set-output name=verdict::pass"
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(doc))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = run(["check", str(hostile), "--advisory"], capsys)
    assert code == ExitCode.PASS
    lines = out.splitlines()
    start = lines[0].removeprefix("::stop-commands::")
    assert start != lines[0]
    assert len(start) == 32
    assert lines[-1] == f"::{start}::"
    hostile_rows = [i for i, line in enumerate(lines) if "::set-output" in line]
    assert hostile_rows
    assert all(0 < i < len(lines) - 1 for i in hostile_rows)


def _runner_commands(log: str) -> list[str]:
    """The lines of a GitHub Actions log the runner would read as workflow commands (a line that
    starts with `::` after its blanks, or holds `##[`), but for the text inside a stop-commands
    block and its two ends, and the gate's own annotations (`::error title=container-gate...`)."""
    commands_read, stopped = [], None
    for line in log.splitlines():
        if stopped is not None:
            if line == f"::{stopped}::":
                stopped = None
            continue
        if line.startswith("::stop-commands::"):
            stopped = line.removeprefix("::stop-commands::")
            continue
        if line.startswith(("::error title=container-gate", "::warning title=container-gate")):
            continue
        if line.lstrip().startswith("::") or "##[" in line:
            commands_read.append(line)
    return commands_read


HOSTILE_TEXT = "::warning::x ##[add-mask]y"


@pytest.mark.parametrize(
    "words",
    [
        # A report's value quoted in an error line.
        ["check", "{report}"],
        # A path named in an error line.
        ["check", "{tmp}/##[add-mask]x/missing.json"],
        # argparse's usage error quotes the value it refuses.
        ["check", "{report}", "--fail-on", HOSTILE_TEXT],
        ["check", "--ci", HOSTILE_TEXT, "{report}"],
    ],
)
def test_on_github_actions_no_line_the_gate_writes_is_a_workflow_command(
    words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(BUSTER.read_text())
    doc["Results"][0]["Vulnerabilities"][0]["Severity"] = HOSTILE_TEXT
    report = tmp_path / "hostile.json"
    report.write_text(json.dumps(doc))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    argv = [word.format(report=report, tmp=tmp_path) for word in words]
    with contextlib.suppress(SystemExit):
        cli.main([*argv, "--ci", "none"] if "--ci" not in argv else argv)
    out, err = capsys.readouterr()
    assert "add-mask]" in err
    assert _runner_commands(out) == []
    assert _runner_commands(err) == []


def test_verbose_details_cannot_carry_escape_sequences_or_workflow_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A scanner's standard error can quote file names from the image it read.
    detail = "reading /app/evil\x1b]0;pwned\x07\n::add-mask::verdict"

    def crashed(*_args: object) -> object:
        raise ScannerError("Trivy failed (exit status 1)", detail=detail)

    monkeypatch.setattr(commands, "evaluate", crashed)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, _, err = run(["--verbose", "check", str(BUSTER), "--ci", "none"], capsys)
    assert code == ExitCode.ERROR
    assert "\x1b" not in err
    assert "\x07" not in err
    assert "reading /app/evil\\x1b]0;pwned\\x07" in err
    lines = err.splitlines()
    token = lines[0].removeprefix("::stop-commands::")
    assert token != lines[0]
    stop = lines.index(f"::{token}::")
    assert "::add-mask::verdict" in lines[1:stop]
    assert "Traceback" in err
    assert lines[-1] == "container-gate: error: Trivy failed (exit status 1)"


def test_python_m_gate_is_the_console_script_and_the_version_agrees_everywhere() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["project"]["version"]
    assert gate.__version__ == metadata.version("container-gate") == declared
    (script,) = metadata.entry_points(group="console_scripts", name="container-gate")
    # The installed one is the declared one (after a change, `make dev` installs it again).
    assert script.value == pyproject["project"]["scripts"]["container-gate"] == "gate.__main__:run"
    done = subprocess.run(
        [sys.executable, "-m", "gate", "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == ExitCode.PASS
    assert done.stdout.splitlines()[0] == f"container-gate {declared}"  # then the scanners it finds


# Run as the console script does: the entry point pyproject.toml declares, called in a fresh
# interpreter that sends itself SIGINT as a Ctrl-C in the first half second of a run does: while
# the command line is being imported (when a module it imports is looked for, or while one makes a
# class, which Python 3.11 reports as a RuntimeError caused by the interrupt), or while it reads
# its arguments (when it makes the typed options).
_INTERRUPTED = """
import importlib, os, signal, sys, time

def interrupt():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)  # where the handler raises KeyboardInterrupt, at once

class InterruptingDescriptor:
    def __set_name__(self, owner, name):
        interrupt()

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "gate.cli.commands" and WHEN == "class":
            class Made:  # as while a dataclass's fields are set up
                field = InterruptingDescriptor()
        elif name == "gate.cli.commands":
            interrupt()
        return None

module, _, function = sys.argv[1].partition(":")
WHEN = sys.argv[2]
if WHEN in ("import", "class"):
    sys.meta_path.insert(0, Interrupt())
else:
    import gate.cli.main
    gate.cli.main.options_from = lambda *_: interrupt()
del sys.argv[1:3]
getattr(importlib.import_module(module), function)()
"""


@pytest.mark.parametrize("when", ["import", "class", "arguments"])
def test_a_ctrl_c_before_a_command_runs_is_one_line_and_exit_130(when: str) -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    entry = pyproject["project"]["scripts"]["container-gate"]
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED, entry, when, "check", str(BUSTER), "--ci", "none"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    assert (done.returncode, done.stderr, done.stdout) == (
        ExitCode.INTERRUPTED,
        "container-gate: interrupted\n",
        "",
    )


def options_without_a_stated_default() -> list[str]:
    """The optional options with a value whose --help says neither the default nor what their
    absence means (`default: ...` in the text or in its group's title)."""
    # Their absence is plain from the text: no output file, today, no VEX, no Dockerfile.
    plain = {"--json", "--markdown", "--gitlab", "--junit", "--sarif", "--openvex", "--as-of", "--vex"}
    plain |= {"--dockerfile", "--baseline"}
    found: list[str] = []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    walk(subparser, f"{name} {sub}")
                continue
            if not action.option_strings or action.nargs == 0 or action.required:
                continue
            group = next(g for g in parser._action_groups if action in g._group_actions)
            stated = "default" in (action.help or "") or "default" in (group.title or "")
            if not stated and action.option_strings[-1] not in plain:
                found.append(f"{name} {action.option_strings[-1]}")

    walk(build_parser(), "container-gate")
    return found


def test_every_option_with_a_value_says_its_default_in_its_help() -> None:
    assert options_without_a_stated_default() == []


def test_policy_errors_print_as_docs_policy_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = (PROJECT_ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    broken, shown = doc.split("```yaml\n# policy.yaml, with mistakes\n", 1)[1].split("```text\n", 1)
    monkeypatch.chdir(tmp_path)
    Path("policy.yaml").write_text(
        "# policy.yaml, with mistakes\n" + broken.split("```", 1)[0], encoding="utf-8"
    )
    problems = shown.split("```", 1)[0].splitlines()
    assert cli.main(["policy", "validate", "policy.yaml"]) == ExitCode.USAGE
    assert capsys.readouterr().out.splitlines() == problems
    code, _, err = run(["check", str(BUSTER), "--policy", "policy.yaml"], capsys)
    assert code == ExitCode.USAGE
    assert err.splitlines() == [f"container-gate: error: {problem}" for problem in problems]
    assert "the other commands print each after `container-gate: error: ` and\nexit 2." in doc


def _leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command that runs something: `check`, `policy validate`, ..."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return [
                leaf for name, sub in action.choices.items() for leaf in _leaf_commands(sub, (*prefix, name))
            ]
    return [prefix]


def _command_parsers(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = [(prefix, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _command_parsers(sub, (*prefix, name))
    return found


def test_every_command_s_help_says_what_it_does() -> None:
    for command, parser in _command_parsers(build_parser()):
        assert parser.description, command


def test_every_command_s_help_says_its_exit_codes() -> None:
    # A group (`policy`, `data`) too: its help is where one looks before choosing the action.
    for command, parser in _command_parsers(build_parser()):
        text = " ".join(f"{parser.description} {parser.epilog}".split())
        assert re.search(r"(?i)\bexit(s| codes)?\b.*\b0\b.*\b2\b", text), command


def test_verbose_says_what_it_shows_for_a_command_that_runs_no_scanner(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in (["policy", "validate"], ["data", "fetch"]):
        with pytest.raises(SystemExit):
            cli.main([*command, "--help"])
        shown = " ".join(capsys.readouterr().out.split())
        assert "-v, --verbose show the traceback of an error" in shown, command
        assert "scanner" not in shown.split("--verbose")[1].split("--")[0], command


def test_verbose_of_check_explain_and_completion_says_what_it_shows_there(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Only `scan` and `compare` run a scanner: the others said "scanner output" too.
    for command, shows in (
        (["check"], "show the traceback of an error, and what the CI platform was told (or why not)"),
        (["explain"], "show the traceback of an error"),
        (["completion"], "show the traceback of an error"),
        (
            ["scan"],
            "show tracebacks and scanner output on errors, and what the CI platform was told (or why not)",
        ),
        (["compare"], "show tracebacks and scanner output on errors"),
    ):
        with pytest.raises(SystemExit):
            cli.main([*command, "--help"])
        shown = " ".join(capsys.readouterr().out.split())
        assert f"-v, --verbose {shows}" in shown, command
        assert ("scanner output" in shown) == (command[0] in ("scan", "compare")), command


def test_verbose_before_the_command_says_what_it_shows_for_each(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # It said "scanner output" alone, where it shows a traceback for every command and what the
    # CI platform was told for check and scan.
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert (
        "-v, --verbose show the traceback of an error, a failed scanner's error output (scan, "
        "compare), and what the CI platform was told or why not (check, scan)"
    ) in shown


def test_every_command_s_help_ends_with_examples_that_parse(capsys: pytest.CaptureFixture[str]) -> None:
    from gate.cli.parser import EXAMPLES

    # Every command and every group of them (`policy`, `data`): a group's help is read first.
    commands = [c for c, _parser in _command_parsers(build_parser()) if c]
    assert sorted(" ".join(c) for c in commands) == sorted(EXAMPLES)
    for command in commands:
        with pytest.raises(SystemExit):
            cli.main([*command, "--help"])
        shown = capsys.readouterr().out
        examples = shown.split("\nexamples:\n")[1].splitlines()
        assert examples == [f"  $ {line}" for line in EXAMPLES[" ".join(command)]], shown
        for line in EXAMPLES[" ".join(command)]:
            # The gate's part of the line (after a pipe, inside `<(...)`) is a command line it takes.
            words = shlex.split(line.split("| ")[-1].removeprefix("source <(").removesuffix(")"))
            assert words[0] == "container-gate", line
            build_parser().parse_args(words[1:])


class _Terminal(io.StringIO):
    """Standard error as a terminal."""

    def isatty(self) -> bool:
        return True


def test_reading_large_reports_is_shown_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("TERM", "xterm")  # one that redraws a line
    # A small report: nothing to watch.
    assert run(["check", str(BUSTER)], capsys)[0] == ExitCode.FAIL
    assert terminal.getvalue() == ""
    # Reports this large take seconds to read (docs/performance.md): the terminal says so.
    monkeypatch.setattr(commands, "LARGE_REPORTS", BUSTER.stat().st_size)
    code, out, _ = run(["check", str(BUSTER), str(ALPINE)], capsys)
    assert code == ExitCode.FAIL
    shown = terminal.getvalue()
    assert shown.startswith("\r\x1b[Kreading aquasecurity-trivy__debian-buster"), shown
    assert shown.endswith("\r\x1b[K")  # cleared before the summary; no line is left
    assert "\n" not in shown
    assert "reading" not in out
    # --quiet: the verdict line alone.
    terminal.seek(0)
    terminal.truncate()
    run(["check", str(BUSTER), "-q"], capsys)
    assert terminal.getvalue() == ""
    # A terminal that cannot redraw a line (TERM=dumb) would show the escape as text: nothing.
    monkeypatch.setenv("TERM", "dumb")
    run(["check", str(BUSTER)], capsys)
    assert terminal.getvalue() == ""


@pytest.mark.parametrize("name", [".container-gate.yaml", ".container-gate.yml", "container-gate.yaml"])
def test_a_policy_file_left_in_the_working_directory_is_said_to_be_unread(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The gate looks for no policy file, so that a run decides the same wherever it is: a
    # `.container-gate.yaml` written beside the report and forgotten on the command line was not
    # read, and the run said only "policy: policies/default.yaml (shipped default)".
    monkeypatch.chdir(tmp_path)
    Path(name).write_text(
        "version: 1\nallowlist:\n  - {vulnerability: CVE-2019-18224, reason: not reachable}\n",
        encoding="utf-8",
    )
    said = (
        f"{name} is in the working directory but not read: without --policy the shipped default"
        f" applies (give it with --policy {name})"
    )
    assert cli.main(["check", str(BUSTER), "--ci", "none", "--json", "g.json"]) == ExitCode.FAIL
    assert f"warning:  {said}" in capsys.readouterr().out.splitlines()
    assert said in json.loads(Path("g.json").read_text(encoding="utf-8"))["warnings"]
    assert cli.main(["explain", "CVE-2019-18224", "--report", str(BUSTER)]) == ExitCode.PASS
    # Wrapped to the width of a pipe: the words, whatever lines they are on.
    assert f"Warnings: - {said}" in " ".join(capsys.readouterr().out.split())
    # Given with --policy, or not there: nothing to say.
    assert cli.main(["check", str(BUSTER), "--ci", "none", "--policy", name]) == ExitCode.PASS
    assert "not read" not in capsys.readouterr().out
    Path(name).unlink()
    assert cli.main(["check", str(BUSTER), "--ci", "none"]) == ExitCode.FAIL
    assert "in the working directory" not in capsys.readouterr().out


def test_an_unread_policy_file_is_said_in_the_words_the_run_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    # The run's words are chosen once (run_by.run_wording): an Action run whose job also sets
    # CONTAINER_GATE_POLICY is the Action's, and the warning reads no environment of its own.
    monkeypatch.setenv("CONTAINER_GATE_POLICY", "")
    monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
    assert commands._how_to_give("p.yaml", ACTION_WORDS) == (
        "without the action's `policy` input the shipped default applies (set it to p.yaml)"
    )
    assert commands._how_to_give("p.yaml", COMMAND_LINE_WORDS) == (
        "without --policy the shipped default applies (give it with --policy p.yaml)"
    )
    assert commands._how_to_give("p.yaml", GITLAB_WORDS) == (
        "without the `policy` input (CONTAINER_GATE_POLICY) the shipped default applies (set it to p.yaml)"
    )


def test_the_gitlab_templates_file_name_is_not_taken_for_a_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("container-gate.yml").write_text("include: []\n", encoding="utf-8")
    assert cli.main(["check", str(BUSTER), "--ci", "none"]) == ExitCode.FAIL
    assert "in the working directory" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("variable", "how"),
    [
        (
            "CONTAINER_GATE_ACTION",
            "without the action's `policy` input the shipped default applies (set it to",
        ),
        (
            "CONTAINER_GATE_POLICY",
            "without the `policy` input (CONTAINER_GATE_POLICY) the shipped default applies (set it to",
        ),
    ],
)
def test_a_policy_file_left_unread_in_the_action_or_gitlab_names_the_policy_input(
    variable: str,
    how: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The GitHub Action (its entry point sets CONTAINER_GATE_ACTION) and the GitLab CI templates
    # (which set CONTAINER_GATE_POLICY, empty when no policy is given) take the policy as an input:
    # their users have no --policy to give it with.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, "true" if variable == "CONTAINER_GATE_ACTION" else "")
    Path(".container-gate.yaml").write_text("version: 1\n", encoding="utf-8")
    assert cli.main(["check", str(BUSTER), "--ci", "none", "--json", "g.json"]) == ExitCode.FAIL
    capsys.readouterr()
    [warning] = [
        w for w in json.loads(Path("g.json").read_text(encoding="utf-8"))["warnings"] if "not read" in w
    ]
    assert how in warning
    assert "--policy" not in warning
