"""The README shows what the program really does: its --help text, its exit codes, its policy example."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    "doc", ["README.md", "docs/github-action.md", "docs/gitlab-ci.md", "docs/compare.md"]
)
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
