"""The release workflow's scripts: the release notes taken from CHANGELOG.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gate import __version__
from scripts.release_notes import ReleaseError, release_notes, section
from tests.support.repo_paths import PROJECT_ROOT

CHANGELOG = """\
# Changelog

All notable changes to this project are documented in this file.

## [Unreleased]

### Added
- Something not released yet.

## [1.2.0] - 2027-01-31

### Added
- Release plumbing: `v*` tags publish the image, the package and the release.

### Fixed
- A `## heading` inside a code span stays in the section.

## [1.1.0] - 2026-12-01
- First public version.

[Unreleased]: https://example.com/compare/v1.2.0...HEAD
[1.2.0]: https://example.com/compare/v1.1.0...v1.2.0
[1.1.0]: https://example.com/releases/tag/v1.1.0
"""


# -- release notes ---------------------------------------------------------------------------------


def test_the_section_is_the_text_between_its_heading_and_the_next() -> None:
    assert section(CHANGELOG, "1.2.0", Path("CHANGELOG.md")) == (
        "### Added\n"
        "- Release plumbing: `v*` tags publish the image, the package and the release.\n"
        "\n"
        "### Fixed\n"
        "- A `## heading` inside a code span stays in the section.\n"
    )


def test_the_last_section_leaves_out_the_link_definitions() -> None:
    assert section(CHANGELOG, "1.1.0", Path("CHANGELOG.md")) == "- First public version.\n"


def test_a_heading_without_brackets_or_date_is_a_section_too() -> None:
    assert section("## 2.0.0\nText.\n## 1.0.0\nOld.\n", "2.0.0", Path("C.md")) == "Text.\n"


@pytest.mark.parametrize(
    ("text", "version", "expected"),
    [
        (CHANGELOG, "1.3.0", "C.md: no section for 1.3.0 (expected a heading `## [1.3.0] - DATE`)"),
        (CHANGELOG, "1.2", "C.md: no section for 1.2 (expected a heading `## [1.2] - DATE`)"),
        ("## [1.2.0] - 2027-01-31\n\n## [1.1.0]\n- x\n", "1.2.0", "C.md: the section for 1.2.0 is empty"),
        ("## [1.2.0]\n- a\n## [1.2.0]\n- b\n", "1.2.0", "C.md: 2 sections for 1.2.0, expected one"),
    ],
    ids=["missing", "prefix-of-a-version", "empty", "twice"],
)
def test_a_missing_empty_or_doubled_section_is_an_error(text: str, version: str, expected: str) -> None:
    with pytest.raises(ReleaseError) as raised:
        section(text, version, Path("C.md"))
    assert str(raised.value) == expected


def write_project(tmp_path: Path, version: str, changelog: str = CHANGELOG) -> tuple[Path, Path]:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[project]\nname = "container-gate"\nversion = "{version}"\n', encoding="utf-8")
    notes = tmp_path / "CHANGELOG.md"
    notes.write_text(changelog, encoding="utf-8")
    return notes, pyproject


def test_the_tag_must_name_the_version_the_package_declares(tmp_path: Path) -> None:
    changelog, pyproject = write_project(tmp_path, "1.2.0")
    assert release_notes("v1.2.0", changelog, pyproject).startswith("### Added\n")
    for tag in ("v1.1.0", "1.2.0", "v1.2.0.post1", "release-1.2.0"):
        with pytest.raises(ReleaseError) as raised:
            release_notes(tag, changelog, pyproject)
        assert (
            str(raised.value) == f"{pyproject}: declares version 1.2.0, so the tag must be v1.2.0, not {tag}"
        )


def test_the_command_prints_the_notes_or_one_line_and_exit_1(tmp_path: Path) -> None:
    changelog, pyproject = write_project(tmp_path, "1.1.0")
    command = [sys.executable, str(PROJECT_ROOT / "scripts" / "release_notes.py")]
    paths = ["--changelog", str(changelog), "--pyproject", str(pyproject)]
    done = subprocess.run(
        [*command, "v1.1.0", *paths], capture_output=True, text=True, check=False, timeout=60
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "- First public version.\n", "")
    changelog.write_text("# Changelog\n", encoding="utf-8")
    done = subprocess.run(
        [*command, "v1.1.0", *paths], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert (
        done.stderr
        == f"release-notes: {changelog}: no section for 1.1.0 (expected a heading `## [1.1.0] - DATE`)\n"
    )


def test_the_project_declares_one_version_everywhere() -> None:
    # The tag is checked against pyproject.toml; the package, and so `--version` and the GitLab
    # templates' image, must say the same.
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'\nversion = "{__version__}"\n' in pyproject
