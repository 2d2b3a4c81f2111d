"""What a policy's `version` may hold, and what each command says of one it may not: one line,
naming the file, exit 2 (docs/policy.md, "Error messages")."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.policy.load import load_policy_text
from tests.support.corpus import corpus_file

PIP = corpus_file("trivy", "pip.json.golden")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "version: '1'\n",
            "policy.yaml:1: version: only version 1 is supported (expected the number 1, got the text '1': "
            "write version: 1 without quotes)",
        ),
        ("version: 2\n", "policy.yaml:1: version: only version 1 is supported (expected 1, got 2)"),
        (
            "fail_on: {severity: HIGH}\n",
            "policy.yaml:1: missing required key 'version' (only version 1 is supported: write 'version: 1')",
        ),
    ],
)
def test_a_version_other_than_1_is_one_line_and_exit_2_for_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str, said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("policy.yaml").write_text(text, encoding="utf-8")
    assert cli.main(["policy", "validate", "policy.yaml"]) == ExitCode.USAGE
    assert capsys.readouterr().out.splitlines() == [said]
    for argv in (
        ["check", str(PIP), "--policy", "policy.yaml", "--ci", "none"],
        ["explain", "CVE-2019-14806", "--report", str(PIP), "--policy", "policy.yaml"],
    ):
        assert cli.main(argv) == ExitCode.USAGE
        err = capsys.readouterr().err
        assert err.splitlines() == [f"container-gate: error: {said}"], argv
        assert "Traceback" not in err


@pytest.mark.parametrize("version", ["1", "1.0", "0x1", "1.0e+0"])
def test_version_1_written_as_a_number_stays_valid(version: str) -> None:
    # JSON Schema's `const: 1` equals 1.0: a policy valid before stays valid.
    assert load_policy_text(f"version: {version}\n", "p.yaml").source == "p.yaml"
