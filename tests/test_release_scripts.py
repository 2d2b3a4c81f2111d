"""The release workflow's scripts: the release notes taken from CHANGELOG.md, and the release step
that points action.yml and the GitLab templates at the published image by digest.

The pinning runs on copies of the project's real files, and the results are checked with the same
schema and template checks as the originals.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate import __version__
from scripts.check_ci_files import ACTION_SCHEMA, load_schema, load_yaml, schema_problems
from scripts.pin_action_image import (
    ACTION,
    COMPONENT,
    PLAIN_TEMPLATE,
    PinError,
    parse_release,
    pin_action,
    pin_component,
    pin_plain_template,
    pin_release,
)
from scripts.release_notes import GITHUB_RELEASE_LIMIT, NOTES_LIMIT, ReleaseError, fit, release_notes, section
from tests.support.release_image import RELEASED_IMAGE
from tests.support.repo_paths import PROJECT_ROOT

DIGEST = "sha256:" + "0123456789abcdef" * 4
RELEASE = parse_release("ghcr.io/acme/container-gate", __version__, DIGEST)

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


def long_section(entries: int) -> str:
    """A section of `entries` entries of two lines each, under two subheadings."""
    half = entries // 2
    item = "- Entry {n}: " + "x" * 60 + "\n  and its second line.\n"
    added = "".join(item.format(n=n) for n in range(half))
    fixed = "".join(item.format(n=n) for n in range(half, entries))
    return f"### Added\n{added}\n### Fixed\n{fixed}"


def test_notes_that_fit_a_github_release_are_kept_whole() -> None:
    notes = long_section(10)
    assert fit(notes, "1.2.0", Path("CHANGELOG.md")) == (notes, None)


def test_notes_longer_than_a_github_release_takes_end_before_an_entry_and_point_to_the_changelog() -> None:
    # GitHub refuses a release whose text has more than 125,000 characters (HTTP 422), at the
    # last job of a release, once the image and the package are published.
    notes = long_section(2000)
    assert len(notes) > GITHUB_RELEASE_LIMIT
    cut, warning = fit(notes, "1.2.0", Path("CHANGELOG.md"))
    assert len(cut) <= NOTES_LIMIT
    assert cut.endswith("\n\nThe list goes on in CHANGELOG.md, in the section for 1.2.0.\n")
    kept = cut.removesuffix("\n\nThe list goes on in CHANGELOG.md, in the section for 1.2.0.\n") + "\n"
    assert notes.startswith(kept)
    assert notes[len(kept) :].startswith("- Entry ")  # never inside an entry
    shown = kept.count("\n- ")
    assert warning == (
        f"CHANGELOG.md: the section for 1.2.0 has {len(notes)} characters, more than a GitHub release "
        f"shows: the release's text keeps its first {shown} of 2000 entries and points to CHANGELOG.md "
        "for the rest"
    )


def test_a_cut_leaves_no_empty_subheading() -> None:
    notes = "### Added\n- " + "a" * 50 + "\n\n### Fixed\n- " + "b" * 50 + "\n"
    cut, _ = fit(notes, "1.2.0", Path("C.md"), limit=len(notes) - 10)
    assert cut == "### Added\n- " + "a" * 50 + "\n\nThe list goes on in C.md, in the section for 1.2.0.\n"


def test_the_command_cuts_notes_too_long_for_a_github_release_and_warns(tmp_path: Path) -> None:
    body = long_section(2000)
    changelog, pyproject = write_project(
        tmp_path, "1.2.0", f"# Changelog\n\n## [1.2.0] - 2027-01-31\n\n{body}"
    )
    done = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "scripts" / "release_notes.py"),
            "v1.2.0",
            "--changelog",
            str(changelog),
            "--pyproject",
            str(pyproject),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0
    assert len(done.stdout) <= NOTES_LIMIT
    assert done.stdout.endswith("The list goes on in CHANGELOG.md, in the section for 1.2.0.\n")
    assert done.stderr.startswith(f"release-notes: warning: {changelog}: the section for 1.2.0 has ")
    assert done.stderr.count("\n") == 1


def test_the_project_declares_one_version_everywhere() -> None:
    # The tag is checked against pyproject.toml; the package, and so `--version` and the GitLab
    # templates' image, must say the same.
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'\nversion = "{__version__}"\n' in pyproject


# -- pinning the release's image -------------------------------------------------------------------


def project_copy(tmp_path: Path) -> Path:
    for relative in (ACTION, COMPONENT, PLAIN_TEMPLATE):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / relative, tmp_path / relative)
    return tmp_path


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    pairs = zip(before.splitlines(), after.splitlines(), strict=True)
    return [(old, new) for old, new in pairs if old != new]


def test_the_action_runs_the_published_image_by_digest(tmp_path: Path) -> None:
    original = (PROJECT_ROOT / ACTION).read_text(encoding="utf-8")
    pinned = pin_action(original, RELEASE)
    assert changed_lines(original, pinned) == [
        ("  image: Dockerfile", f"  image: docker://ghcr.io/acme/container-gate@{DIGEST}")
    ]
    (tmp_path / "action.yml").write_text(pinned, encoding="utf-8")
    document = load_yaml(tmp_path / "action.yml")
    assert document["runs"] == {"using": "docker", "image": f"docker://ghcr.io/acme/container-gate@{DIGEST}"}
    assert schema_problems(document, load_schema(ACTION_SCHEMA)) == []
    assert RELEASED_IMAGE.fullmatch(document["runs"]["image"])


def test_the_gitlab_templates_name_the_version_and_the_digest() -> None:
    expected = f"ghcr.io/acme/container-gate:{__version__}@{DIGEST}"
    component = (PROJECT_ROOT / COMPONENT).read_text(encoding="utf-8")
    pinned = pin_component(component, RELEASE)
    assert [new.strip() for _old, new in changed_lines(component, pinned)] == [f"default: {expected}"]
    header, _config = yaml.safe_load_all(pinned)
    assert header["spec"]["inputs"]["gate-image"]["default"] == expected

    plain = (PROJECT_ROOT / PLAIN_TEMPLATE).read_text(encoding="utf-8")
    pinned = pin_plain_template(plain, RELEASE)
    assert [new.strip() for _old, new in changed_lines(plain, pinned)] == [f"name: {expected}"]
    assert yaml.safe_load(pinned)[".container-gate"]["image"]["name"] == expected


def test_a_release_pins_all_three_files(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    assert pin_release(root, RELEASE) == [root / ACTION, root / COMPONENT, root / PLAIN_TEMPLATE]
    assert load_yaml(root / ACTION)["runs"]["image"] == RELEASE.action_image
    assert yaml.safe_load((root / PLAIN_TEMPLATE).read_text(encoding="utf-8"))[".container-gate"]["image"][
        "name"
    ] == (RELEASE.gitlab_image)


def test_pinning_twice_is_refused(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    pin_release(root, RELEASE)
    with pytest.raises(PinError) as raised:
        pin_release(root, parse_release("ghcr.io/acme/container-gate", __version__, "sha256:" + "f" * 64))
    assert str(raised.value) == (
        f"action.yml: runs.image: expected 'Dockerfile' (the development setting), got '{RELEASE.action_image}'"
    )


def test_nothing_is_written_unless_every_file_can_be_pinned(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    other_version = parse_release("ghcr.io/acme/container-gate", "99.0.0", DIGEST)
    with pytest.raises(PinError) as raised:
        pin_release(root, other_version)
    assert str(raised.value) == (
        f"templates/container-gate.yml: spec.inputs.gate-image.default: expected an image "
        f"`.../container-gate:99.0.0`, got 'ghcr.io/container-gate/container-gate:{__version__}'"
    )
    for relative in (ACTION, COMPONENT, PLAIN_TEMPLATE):
        assert (root / relative).read_bytes() == (PROJECT_ROOT / relative).read_bytes(), relative


def test_two_lines_that_could_be_the_value_are_refused() -> None:
    text = (PROJECT_ROOT / ACTION).read_text(encoding="utf-8") + "x-note:\n  image: Dockerfile\n"
    with pytest.raises(PinError) as raised:
        pin_action(text, RELEASE)
    assert str(raised.value) == "action.yml: expected one line `image: Dockerfile`, found 2"


def test_an_edit_that_changes_another_value_is_refused() -> None:
    # `runs.image` written quoted, and a line of a block scalar that looks like it: the one-line
    # edit would change the text of the description, which the parse after the edit catches.
    text = (
        (PROJECT_ROOT / ACTION)
        .read_text(encoding="utf-8")
        .replace("  image: Dockerfile", '  image: "Dockerfile"')
    )
    text = text.replace("inputs:\n", "inputs:\n  note:\n    description: |\n      image: Dockerfile\n", 1)
    assert load_yaml_text(text)["runs"]["image"] == "Dockerfile"
    with pytest.raises(PinError) as raised:
        pin_action(text, RELEASE)
    assert str(raised.value) == "action.yml: editing runs.image changed more than that value"


def load_yaml_text(text: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@pytest.mark.parametrize(
    ("image", "version", "digest", "expected"),
    [
        ("ghcr.io/Acme/container-gate", "1.2.0", DIGEST, "--image"),
        ("ghcr.io/acme/container-gate:1.2.0", "1.2.0", DIGEST, "--image"),
        ("ghcr.io/acme/container-gate@" + DIGEST, "1.2.0", DIGEST, "--image"),
        ("ghcr.io/acme/container-gate", "v1.2.0", DIGEST, "--version"),
        ("ghcr.io/acme/container-gate", "1.2.0", DIGEST[:-1], "--digest"),
        ("ghcr.io/acme/container-gate", "1.2.0", DIGEST.upper(), "--digest"),
        ("ghcr.io/acme/container-gate", "1.2.0", "sha512:" + "0" * 128, "--digest"),
    ],
)
def test_the_arguments_are_checked(image: str, version: str, digest: str, expected: str) -> None:
    with pytest.raises(PinError) as raised:
        parse_release(image, version, digest)
    assert str(raised.value).startswith(f"{expected}: expected ")


def test_the_command_pins_a_checkout_and_says_what_it_did(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    command = [sys.executable, str(PROJECT_ROOT / "scripts" / "pin_action_image.py"), "--root", str(root)]
    release = ["--image", "ghcr.io/acme/container-gate", "--version", __version__, "--digest", DIGEST]
    done = subprocess.run([*command, *release], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "pinned action.yml",
        "pinned templates/container-gate.yml",
        "pinned templates/container-gate.gitlab-ci.yml",
        f"action: {RELEASE.action_image}",
        f"gitlab: {RELEASE.gitlab_image}",
    ]
    done = subprocess.run([*command, *release], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("pin-action-image: action.yml: runs.image: expected 'Dockerfile'")
