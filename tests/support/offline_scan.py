"""`offline_scan`: `container-gate scan` run in-process with the real Trivy and the test bed's
offline DB, its JSON report and Markdown summary read back (the `--check-base` tests).

Enabled by `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main


@dataclass(frozen=True)
class ScanRun:
    """One `scan`: its exit code, streams, JSON decision report and Markdown summary."""

    code: int
    stdout: str
    stderr: str
    json: dict[str, Any]
    markdown: str

    def keys(self) -> set[tuple[str, str]]:
        """(id, package) of every finding."""
        return {(f["vulnerability_id"], f["package"]) for f in self.json["findings"]}

    def claimed(self) -> set[tuple[str, str]]:
        """(id, package) of the findings the base-refresh action lists; none without one."""
        findings = self.json["findings"]
        action = next((a for a in self.json["actions"] if a["kind"] == "base_refresh"), None)
        if action is None:
            return set()
        assert action["estimated"] is False
        return {(findings[i]["vulnerability_id"], findings[i]["package"]) for i in action["findings"]}


@pytest.fixture
def offline_scan(
    trivy_bin: Path,
    trivy_db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., ScanRun]:
    """`offline_scan(IMAGE, *ARGS)` runs `scan IMAGE ARGS` with the offline DB and no Docker config."""
    monkeypatch.setenv("HOME", str(tmp_path))  # no Docker config, no credentials
    monkeypatch.delenv("DOCKER_HOST", raising=False)

    def run(image: str, *args: str) -> ScanRun:
        out = tmp_path / "out"
        argv = ["scan", image, "--ci", "none", "--trivy-bin", str(trivy_bin), "--cache-dir", str(trivy_db)]
        argv += ["--skip-db-update", "--max-db-age", "100000d"]
        argv += ["--json", str(out / "gate.json"), "--markdown", str(out / "gate.md")]
        code = main([*argv, *args])
        captured = capsys.readouterr()
        doc = json.loads((out / "gate.json").read_text())
        return ScanRun(code, captured.out, captured.err, doc, (out / "gate.md").read_text())

    return run
