"""The README shows what the program really does: its --help text, its exit codes, its policy example,
and its examples (those of the other docs that run offline too)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.cli.parser import build_parser
from gate.errors import ExitCode
from gate.policy.load import load_policy_text

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def exit_rows(text: str) -> list[str]:
    """The rows of a document's exit-code table (`| 0 | pass: ... |`)."""
    return [line for line in text.splitlines() if re.fullmatch(r"\| [0-9] \| .+ \|", line)]


def fenced(language: str) -> list[str]:
    """The README's fenced code blocks with this info string ("" for none), in order."""
    blocks: list[str] = []
    info: str | None = None
    lines: list[str] = []
    for line in README.splitlines(keepends=True):
        if not line.startswith("```"):
            lines.append(line)
        elif info is None:
            info, lines = line[3:].strip(), []
        else:
            if info == language:
                blocks.append("".join(lines))
            info = None
    return blocks


def test_the_help_text_in_the_readme_is_the_real_one() -> None:
    (block,) = [b for b in fenced("") if b.startswith("$ container-gate --help")]
    documented = block.split("\n", 1)[1]
    real = subprocess.run(
        [sys.executable, "-c", "from gate.cli.main import main; main(['--help'])"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert real.returncode == ExitCode.PASS
    assert real.stdout.replace(Path(sys.argv[0]).name, "container-gate") == documented


def test_the_quick_start_is_the_two_commands() -> None:
    (block,) = [b for b in fenced("sh") if "make demo" in b]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make demo", "make test"]


def test_the_exit_code_table_is_the_documented_contract() -> None:
    assert [row.split(" | ")[0] for row in exit_rows(ARCHITECTURE)] == ["| 0", "| 1", "| 2", "| 3"]
    assert exit_rows(README) == exit_rows(ARCHITECTURE)
    assert (ExitCode.PASS, ExitCode.FAIL, ExitCode.USAGE, ExitCode.ERROR) == (0, 1, 2, 3)


def test_every_exit_code_is_in_the_readme_and_the_architecture() -> None:
    # The table holds the contract's four; a run stopped by Ctrl-C exits 130, which said nowhere
    # but in the scanning guide, where the README said "exits 2 or 3" of every run without a verdict.
    for text in (README, ARCHITECTURE):
        said = " ".join(text.split())
        for code in ExitCode:
            assert f"| {code.value} |" in text or f"exits {code.value}" in said, code


def test_the_policy_example_loads() -> None:
    (block,) = [b for b in fenced("yaml") if "version: 1" in b]
    policy = load_policy_text(textwrap.dedent(block), "README.md")
    assert [e.vulnerability for e in policy.allowlist] == ["CVE-2023-45853"]


@pytest.mark.parametrize("doc", re.findall(r"\]\((?!https?:)([^)#]+)", README))
def test_linked_files_exist(doc: str) -> None:
    assert (ROOT / doc).is_file()


def documented_commands(path: Path) -> list[str]:
    """Every `container-gate ...` command line of a document's ```sh blocks (continuation lines
    joined, comments dropped), except the CI job script, which uses shell variables."""
    blocks = re.findall(r"```sh\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return [line for line in lines if line.startswith("container-gate ") and "$" not in line]


COMMAND_DOCS = [
    path.relative_to(ROOT).as_posix()
    for path in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
    if documented_commands(path) and path.name != "performance.md"
]
"""Every document with a `container-gate` command line to copy (the benchmarks' page aside)."""


def test_the_command_lines_of_every_guide_are_checked() -> None:
    for doc in ("README.md", "docs/scanning.md", "docs/exploitability.md", "docs/policy.md"):
        assert doc in COMMAND_DOCS


@pytest.mark.parametrize("doc", COMMAND_DOCS)
def test_every_documented_command_line_is_one_the_program_accepts(doc: str) -> None:
    commands = documented_commands(ROOT / doc)
    assert commands
    parser = build_parser()
    for command in commands:
        argv = shlex.split(command, comments=True)[1:]
        try:
            args = parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"{doc}: the program refuses `{command}`")
        assert args.command == argv[0]


REPORT = ROOT / "tests" / "data" / "corpus" / "trivy" / "aquasecurity-trivy__debian-buster.json.golden"
"""The report that stands in for the user's `report.json`: one fixable CRITICAL finding, one LOW."""
OFFLINE = ("check", "explain", "policy", "completion")
"""The commands whose examples run here; `scan` and `compare` need a scanner, an engine or a registry."""


def run_offline_examples(
    doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, tuple[int, str, str]]:
    """Run a document's offline `container-gate` lines in a directory where the report and the
    policy files they name exist (the README's policy standing in for the user's): each line
    without `container-gate `, to its exit code, standard output and standard error. `main.json`
    is the report's decision report under that policy: the default branch's, for a `--baseline`."""
    (policy,) = [textwrap.dedent(b) for b in fenced("yaml") if "version: 1" in b]
    (tmp_path / ".github").mkdir()
    for name in ("report.json", "trivy.json"):
        (tmp_path / name).write_bytes(REPORT.read_bytes())
    for name in (".container-gate.yaml", "container-gate.yaml", "policy.yaml", ".github/container-gate.yaml"):
        (tmp_path / name).write_text(policy, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITLAB_CI", raising=False)
    main(["check", "report.json", "--policy", ".container-gate.yaml", "--json", "main.json"])
    capsys.readouterr()
    ran = {}
    for command in documented_commands(ROOT / doc):
        argv = shlex.split(command, comments=True)[1:]
        if argv[0] in OFFLINE:
            code = main(argv)
            out, err = capsys.readouterr()
            ran[shlex.join(argv)] = (code, out, err)
    return ran


def test_the_readmes_offline_examples_do_what_their_comments_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run_offline_examples("README.md", tmp_path, monkeypatch, capsys)
    assert sorted(ran) == sorted(
        [
            "check report.json --policy .container-gate.yaml",
            "check report.json --policy .container-gate.yaml --as-of 2027-02-01",
            "check report.json --policy .container-gate.yaml --baseline main.json",
            "explain CVE-2023-45853 --report report.json --policy .container-gate.yaml",
            "check report.json --json -",
            "completion bash",
            "policy validate .container-gate.yaml",
        ]
    ), "a new offline example in the README: say here what it must do"
    code, out, _ = ran["check report.json --policy .container-gate.yaml"]
    assert code == ExitCode.FAIL
    assert out.startswith("container-gate: FAIL: 1 blocking finding(s)")
    assert "allowlist[0] CVE-2023-45853: matched no finding" in out
    # "Will any exception expire before next week's release?"
    code, out, _ = ran["check report.json --policy .container-gate.yaml --as-of 2027-02-01"]
    assert code == ExitCode.FAIL
    assert "allowlist[0] CVE-2023-45853: expired on 2027-01-31" in out
    # "Only what a change introduced": the finding that blocked above is in the baseline.
    code, out, _ = ran["check report.json --policy .container-gate.yaml --baseline main.json"]
    assert code == ExitCode.PASS
    assert "baseline: 0 new · 0 worse · 0 fixed · 2 unchanged since `main.json`" in out
    assert "2 informational (1 let through by the baseline)" in out
    code, out, _ = ran["explain CVE-2023-45853 --report report.json --policy .container-gate.yaml"]
    assert code == ExitCode.FAIL  # no finding has it here
    assert "allowlist[0] (line 9): unused; reason: minizip is not shipped in this image" in out
    # "The decision report on standard output, for a pipe (the summary goes to standard error then)."
    code, out, err = ran["check report.json --json -"]
    assert code == ExitCode.FAIL
    assert json.loads(out)["schema"] == "container-gate/decision/v1"
    assert err.startswith("container-gate: FAIL")
    # "--report also takes a --json decision report of an earlier run"
    Path("gate.json").write_text(out, encoding="utf-8")
    assert main(["explain", "CVE-2019-18224", "--report", "gate.json"]) == ExitCode.PASS
    assert "disposition: BLOCKING (rule fail_on.severity)" in capsys.readouterr().out
    code, out, _ = ran["completion bash"]
    assert code == ExitCode.PASS
    assert out.rstrip().endswith(" -F _shtab_container_gate container-gate")
    assert ran["policy validate .container-gate.yaml"][:2] == (
        ExitCode.PASS,
        ".container-gate.yaml: valid policy (version 1)\n",
    )


@pytest.mark.parametrize("doc", ["docs/policy.md", "docs/github-action.md", "docs/gitlab-ci.md"])
def test_the_offline_examples_of_the_docs_run(
    doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run_offline_examples(doc, tmp_path, monkeypatch, capsys)
    assert ran
    for command, (code, out, err) in ran.items():
        if command.startswith("policy validate "):
            assert code == ExitCode.PASS, f"{doc}: {command}\n{err}"
            assert out.endswith(": valid policy (version 1)\n")
        else:
            assert code == ExitCode.FAIL, f"{doc}: {command}\n{err}"
            assert out.startswith("container-gate: FAIL: 1 blocking finding(s)"), f"{doc}: {command}"
