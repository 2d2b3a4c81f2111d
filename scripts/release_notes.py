"""The release notes of one version: its section of CHANGELOG.md, checked against the tag.

The release workflow (.github/workflows/release.yml) runs this on a `v*` tag before it builds
anything, and again for the GitHub release's text. It fails, with one line that names the file and
what was expected, when:

- the tag is not `v` followed by the version pyproject.toml declares (a tag `v1.2.0` on a commit
  whose package says 1.1.0 would publish 1.1.0 a second time, or under the wrong name);
- CHANGELOG.md has no section for that version, or the section is empty.

GitHub takes at most 125,000 characters in a release's text (a longer one is refused with HTTP 422
"body is too long", at the end of a release whose image and package are already published). A
section longer than `NOTES_LIMIT`, which leaves room for the image section the workflow adds, is
cut before the first entry that does not fit and ends with a line that points to CHANGELOG.md;
the command then warns on standard error, in the release's first job.

CHANGELOG.md follows Keep a Changelog: a section starts at a level-2 heading that names the
version, `## [1.2.0] - 2027-01-31` (or `## 1.2.0`), and ends at the next level-2 heading. The
section's text is printed as it is written, without its heading (the release has its own title)
and without the link definitions (`[1.2.0]: https://...`) that Keep a Changelog puts at the end of
the file, which belong to the file rather than to one section.

Usage: python scripts/release_notes.py TAG [--changelog CHANGELOG.md] [--pyproject pyproject.toml]
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADING = re.compile(r"^## +\[?(?P<version>[^\]\s]+)\]?(?: +- +.*)?$")
LINK_DEFINITION = re.compile(r"^\[[^\]]+\]: +\S+$")
GITHUB_RELEASE_LIMIT = 125_000
"""The most characters GitHub takes in a release's text."""
NOTES_LIMIT = GITHUB_RELEASE_LIMIT - 5_000
"""The most characters of the notes: the rest is for the image section the workflow appends."""
# Where the notes may be cut: before an entry, a subheading or a blank line, never inside an entry.
_ENTRY_START = re.compile(r"^(?:[-*] |#{3,} |$)")


class ReleaseError(Exception):
    """Why the notes cannot be given: one line, naming the file and what was expected."""


def declared_version(pyproject: Path) -> str:
    """`project.version` of pyproject.toml."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ReleaseError(f"{pyproject}: cannot read: {exc}") from exc
    version = data.get("project", {}).get("version")
    if not isinstance(version, str) or not version:
        raise ReleaseError(f"{pyproject}: project.version: expected a version string")
    return version


def version_of_tag(tag: str, declared: str, pyproject: Path) -> str:
    """The version a tag names, which must be the one the package declares."""
    if not tag.startswith("v") or tag[1:] != declared:
        raise ReleaseError(
            f"{pyproject}: declares version {declared}, so the tag must be v{declared}, not {tag}"
        )
    return declared


def section(changelog_text: str, version: str, changelog: Path) -> str:
    """The body of the version's section, trimmed; an error when it is missing or empty."""
    lines = changelog_text.splitlines()
    starts = [i for i, line in enumerate(lines) if (m := HEADING.match(line)) and m["version"] == version]
    if not starts:
        raise ReleaseError(
            f"{changelog}: no section for {version} (expected a heading `## [{version}] - DATE`)"
        )
    if len(starts) > 1:
        raise ReleaseError(f"{changelog}: {len(starts)} sections for {version}, expected one")
    body = []
    for line in lines[starts[0] + 1 :]:
        if line.startswith("## "):
            break
        body.append(line)
    while body and (not body[-1].strip() or LINK_DEFINITION.match(body[-1])):
        body.pop()
    text = "\n".join(body).strip("\n")
    if not text.strip():
        raise ReleaseError(f"{changelog}: the section for {version} is empty")
    return text + "\n"


def fit(notes: str, version: str, changelog: Path, limit: int = NOTES_LIMIT) -> tuple[str, str | None]:
    """The notes cut to at most `limit` characters before an entry, with a last line pointing to
    CHANGELOG.md, and a warning saying so; the notes as they are, and None, when they fit."""
    if len(notes) <= limit:
        return notes, None
    tail = f"\nThe list goes on in {changelog.name}, in the section for {version}.\n"
    lines = notes.splitlines(keepends=True)
    budget, size, cut = limit - len(tail), 0, 0
    for i, line in enumerate(lines):
        if size > budget:
            break
        if _ENTRY_START.match(line):
            cut = i  # the notes would keep lines[:i], `size` characters
        size += len(line)
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].startswith("#")):  # no heading left empty
        kept.pop()
    text = "".join(kept).rstrip("\n")
    shown = sum(1 for line in kept if line.startswith(("- ", "* ")))
    total = sum(1 for line in lines if line.startswith(("- ", "* ")))
    warning = (
        f"{changelog}: the section for {version} has {len(notes)} characters, more than a GitHub "
        f"release shows: the release's text keeps its first {shown} of {total} entries and points "
        f"to {changelog.name} for the rest"
    )
    return (text + "\n" if text else "") + tail, warning


def release_notes(tag: str, changelog: Path, pyproject: Path) -> str:
    """The notes for `tag`, after checking it against pyproject.toml."""
    version = version_of_tag(tag, declared_version(pyproject), pyproject)
    try:
        text = changelog.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReleaseError(f"{changelog}: cannot read: {exc.strerror or exc}") from exc
    return section(text, version, changelog)


def main(argv: Sequence[str]) -> int:
    """Print the notes of the tag's version; exit 1 with the reason when there are none."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("tag", help="the release tag, such as v1.2.0")
    parser.add_argument("--changelog", type=Path, default=ROOT / "CHANGELOG.md")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    args = parser.parse_args(argv)
    try:
        notes = release_notes(args.tag, args.changelog, args.pyproject)
    except ReleaseError as exc:
        print(f"release-notes: {exc}", file=sys.stderr)
        return 1
    notes, warning = fit(notes, args.tag.removeprefix("v"), args.changelog)
    if warning is not None:
        print(f"release-notes: warning: {warning}", file=sys.stderr)
    sys.stdout.write(notes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
