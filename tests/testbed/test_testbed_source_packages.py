"""A Trivy report without its package list, as Trivy before 0.67 writes it by default and any
release with `--list-all-pkgs=false`: the real Trivy, offline, on the test bed's copy of
`python:3.9` (the family's `full`).

Such a report names each vulnerable OS package, not the source package it was built from: `check`
cannot group libc6, libc-bin, libc-dev-bin and libc6-dev into one upgrade of glibc, and every
output says so once. The command docs/scanning.md gives is run as it is written (the image read
from the archive, and the test bed's offline flags), and its numbers are the ones the page says.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.scanners.trivy import LIST_ALL_PKGS
from testbed.family import FamilyArchives
from testbed.trivy import OFFLINE_FLAGS
from tests.support.repo_paths import PROJECT_ROOT

SCANNING = PROJECT_ROOT / "docs" / "scanning.md"
SECTION = SCANNING.read_text(encoding="utf-8").split("## Giving `check` a report", 1)[1].split("\n## ", 1)[0]
GLIBC = {"libc6", "libc-bin", "libc-dev-bin", "libc6-dev"}
SAID = "without its package list"
OUTPUTS = {"markdown": "gate.md", "sarif": "gate.sarif", "gitlab": "gl.json", "junit": "junit.xml"}


def documented_command() -> list[str]:
    """The page's `trivy image ...` command, without its image reference and output file."""
    (line,) = [line for line in SECTION.splitlines() if line.startswith("trivy image ")]
    argv = shlex.split(line)
    at = argv.index("--output")
    del argv[at : at + 2]
    return argv[2:-1]  # after `trivy image`, before the image


def trivy_version(trivy_bin: Path) -> tuple[int, ...]:
    run = subprocess.run(
        [str(trivy_bin), "--version"], check=True, capture_output=True, text=True, timeout=60
    )
    found = re.search(r"Version: (\d+)\.(\d+)", run.stdout)
    assert found is not None, run.stdout
    return tuple(int(part) for part in found.groups())


@dataclass(frozen=True)
class Checked:
    """`check` of one report: the decision report, and every other output's text."""

    decision: dict[str, Any]
    texts: dict[str, str]

    def upgrades(self) -> list[set[str]]:
        return [set(a["packages"]) for a in self.decision["actions"] if a["kind"] == "package_upgrade"]


def trivy(trivy_bin: Path, trivy_db: Path, archive: Path, flags: list[str], out: Path) -> Path:
    argv = [str(trivy_bin), "image", *flags, "--output", str(out), "--cache-dir", str(trivy_db)]
    argv += [*OFFLINE_FLAGS, "--quiet", "--input", str(archive)]
    subprocess.run(argv, check=True, capture_output=True, timeout=300, cwd=out.parent)
    return out


def check(report: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> Checked:
    out.mkdir()
    argv = ["check", str(report), "--ci", "none", "--json", str(out / "gate.json")]
    for option, name in OUTPUTS.items():
        argv += [f"--{option}", str(out / name)]
    main(argv)
    texts = {name: (out / name).read_text(encoding="utf-8") for name in OUTPUTS.values()}
    texts["terminal"] = capsys.readouterr().out
    return Checked(json.loads((out / "gate.json").read_text(encoding="utf-8")), texts)


@pytest.fixture(scope="module")
def full_archive(family_archives: FamilyArchives) -> Path:
    return family_archives.paths["full"]


def test_a_report_without_the_package_list_is_an_upgrade_per_binary_package_and_says_so(
    trivy_bin: Path, trivy_db: Path, full_archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = documented_command()
    assert "--list-all-pkgs" in flags
    common = [flag for flag in flags if flag != "--list-all-pkgs"]  # `trivy image -f json -o ...`
    listed_report = trivy(trivy_bin, trivy_db, full_archive, flags, tmp_path / "listed.json")
    bare_report = trivy(
        trivy_bin, trivy_db, full_archive, [*common, "--list-all-pkgs=false"], tmp_path / "bare.json"
    )
    assert all("Packages" in result for result in json.loads(listed_report.read_text())["Results"])
    assert all("Packages" not in result for result in json.loads(bare_report.read_text())["Results"])
    listed = check(listed_report, tmp_path / "a", capsys)
    bare = check(bare_report, tmp_path / "b", capsys)
    # Trivy 0.67 and later list the packages unasked (aquasecurity/trivy#9510), as the page says.
    plain = json.loads(trivy(trivy_bin, trivy_db, full_archive, common, tmp_path / "plain.json").read_text())
    if trivy_version(trivy_bin) >= (0, 67):
        assert all("Packages" in result for result in plain["Results"])

    # The same findings; glibc's binary packages one upgrade with the list, four without.
    assert len(bare.decision["findings"]) == len(listed.decision["findings"])
    assert GLIBC in listed.upgrades()
    apart = [GLIBC & packages for packages in bare.upgrades() if GLIBC & packages]
    assert sorted(map(sorted, apart)) == [[p] for p in sorted(GLIBC)]
    # The page's numbers are the real ones.
    shown = re.search(r"makes (\d+)\s+actions\s+without\s+the\s+list\s+and\s+(\d+)\s+with\s+it", SECTION)
    assert shown is not None
    assert (len(bare.decision["actions"]), len(listed.decision["actions"])) == tuple(map(int, shown.groups()))
    assert len(bare.decision["actions"]) > len(listed.decision["actions"])

    # Said once in every output of the report without the list, never with it.
    (warning,) = [w for w in bare.decision["warnings"] if SAID in w]
    vulnerable = {f["package"] for f in bare.decision["findings"] if not f.get("path")}
    assert f"the report's {len(vulnerable)} vulnerable OS packages" in warning
    assert warning.endswith(LIST_ALL_PKGS)
    for name, text in bare.texts.items():
        assert text.count(SAID) == 1, name
    assert not [w for w in listed.decision["warnings"] if SAID in w]
    for name, text in listed.texts.items():
        assert SAID not in text, name
