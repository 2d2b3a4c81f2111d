"""docs/baseline-and-vex.md: every command of its examples runs, in order, and says what the page
says it does."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.enrich.vex import load_vex
from gate.errors import ExitCode
from tests.support.repo_paths import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "baseline-and-vex.md"
TEXT = DOC.read_text(encoding="utf-8")


def commands() -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", TEXT, flags=re.DOTALL)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    assert all(line.startswith("container-gate ") for line in lines)
    return [shlex.split(line)[1:] for line in lines]


def in_repository(argv: list[str]) -> list[str]:
    """The paths the page gives relative to the repository's root, made absolute."""
    return [str(PROJECT_ROOT / arg) if arg.startswith(("tests/", "docs/")) else arg for arg in argv]


def test_every_example_runs_as_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    ran = []
    for argv in commands():
        code = cli.main(in_repository(argv))
        out, err = capsys.readouterr()
        ran.append((argv, code, out, err))
    (main, pr, missing, vex, openvex_out, openvex_in) = ran
    assert vex[1] == ExitCode.PASS
    assert main[1] == ExitCode.FAIL
    assert pr[1] == ExitCode.PASS
    (shown,) = re.findall(r"```text\n(.*?)```", TEXT, flags=re.DOTALL)
    assert pr[2].startswith(shown)
    assert json.loads(Path("pr.json").read_text())["baseline"]["counts"] == {
        "new": 0,
        "unchanged": 4,
        "worse": 0,
        "fixed": 2,
    }
    assert missing[1] == ExitCode.PASS
    assert (
        "warning:  baseline not used, the full policy applies: no-such.json: no such baseline file"
        in missing[2]
    )
    rules = [r for r in json.loads(Path("vex.json").read_text())["rules"] if r["source"] == "vex"]
    statements = load_vex(PROJECT_ROOT / "tests/data/corpus/vex/aquasecurity-trivy__.vex-trivy.openvex.json")
    assert [(r["index"], r["vulnerability"]) for r in rules] == [
        (s.index, s.vulnerability_id) for s in statements
    ]
    assert {r["state"] for r in rules} == {"unused"}
    assert openvex_out[1] == ExitCode.FAIL  # musl-utils still blocks
    assert (
        json.loads(Path("decisions.openvex.json").read_text())["@context"] == "https://openvex.dev/ns/v0.2.0"
    )
    assert openvex_in[1] == openvex_out[1]
    assert "3 allowlisted" in openvex_in[2]


def test_the_page_is_linked_from_the_references() -> None:
    for name in ("policy.md", "report-format.md", "architecture.md", "github-action.md", "gitlab-ci.md"):
        assert "baseline-and-vex.md" in (PROJECT_ROOT / "docs" / name).read_text(encoding="utf-8"), name
