"""`scan --baseline`, `--vex` and `--openvex` with the real Trivy, offline, on the test bed's app
image: the same image again is all unchanged and passes; its allowlist decisions travel as
OpenVEX and, read back, decide the same; a VEX file that is no VEX document fails before the
scan."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from gate.errors import ExitCode
from testbed.images import ArchiveImages
from tests.support.scan_support import fresh_cache, scan

__all__ = ["fresh_cache", "scan"]  # the fixtures, for this module


def test_the_same_image_against_its_own_report_is_all_unchanged_and_passes(
    scan: Any, fresh_cache: Path, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    image = f"docker-archive:{engineless_archives.app}"
    first = scan(image, cache=fresh_cache)
    assert first.code == ExitCode.FAIL
    baseline = tmp_path / "main.json"
    shutil.copy(first.out / "gate.json", baseline)
    second = scan(image, "--baseline", str(baseline), cache=fresh_cache)
    assert second.code == ExitCode.PASS, second.stderr
    counts = second.json["baseline"]["counts"]
    assert counts == {"new": 0, "unchanged": len(first.json["findings"]), "worse": 0, "fixed": 0}
    assert second.json["counts"]["blocking"] == 0
    delta = f"0 new · 0 worse · 0 fixed · {len(first.json['findings'])} unchanged since "
    assert second.stdout.splitlines()[1].startswith(f"baseline: {delta}")
    summary = (second.out / "summary.md").read_text(encoding="utf-8")
    assert summary.split("\n\n")[1].startswith(delta)


def test_allowlist_decisions_travel_as_openvex_and_decide_the_same(
    scan: Any, fresh_cache: Path, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    image = f"docker-archive:{engineless_archives.app}"
    first = scan(image, cache=fresh_cache)
    blocking = [f for f in first.json["findings"] if f["disposition"] == "blocking" and f["purl"]]
    assert blocking
    policy = {
        "version": 1,
        "fail_on": {"severity": "HIGH", "fixable_only": True},  # the default policy's threshold
        "allowlist": [
            {
                "vulnerability": f["vulnerability_id"],
                "package": f["purl"],
                "reason": "test: not reachable in this service",
                "justification": "vulnerable_code_not_in_execute_path",
            }
            for f in blocking
        ],
    }
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    (tmp_path / "threshold.yaml").write_text(
        yaml.safe_dump({k: v for k, v in policy.items() if k != "allowlist"})
    )
    openvex = tmp_path / "decisions.openvex.json"
    second = scan(
        image, "--policy", str(tmp_path / "policy.yaml"), "--openvex", str(openvex), cache=fresh_cache
    )
    assert second.code == ExitCode.PASS, second.stderr
    assert json.loads(openvex.read_text())["statements"]
    third = scan(
        image, "--policy", str(tmp_path / "threshold.yaml"), "--vex", str(openvex), cache=fresh_cache
    )
    assert third.code == ExitCode.PASS, third.stderr
    assert [(f["vulnerability_id"], f["package"], f["disposition"]) for f in third.json["findings"]] == [
        (f["vulnerability_id"], f["package"], f["disposition"]) for f in second.json["findings"]
    ]


def test_a_file_that_is_no_vex_document_fails_before_the_scan(
    scan: Any, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    bad = tmp_path / "not-vex.json"
    bad.write_text('{"bomFormat": "SPDX"}')
    # No DB cache at all: had the scan run, it would fail on the DB (exit 3), not on the VEX file.
    run = scan(f"docker-archive:{engineless_archives.app}", "--vex", str(bad), "--skip-db-update")
    assert run.code == ExitCode.USAGE
    assert run.stderr.startswith(f"container-gate: error: {bad}: top level: not a VEX document")
    assert run.json["verdict"] == "error"
