"""Point a release at the image it published: the release step that stops the action rebuilding it.

On `main`, `action.yml` says `runs.image: Dockerfile`: GitHub builds the image from the checkout at
the start of every job that uses the action, which is what development needs and what a user
should not pay for (minutes per job, and a build from whatever the base images are that day).
The release workflow (.github/workflows/release.yml) builds the image once, gates it, pushes it to
GHCR and then runs this script on the release commit, which it tags; `main` never sees the change.
It rewrites:

- `action.yml`: `runs.image` to `docker://IMAGE@sha256:DIGEST`: GitHub then pulls exactly the image
  that was gated, and a tag moved later in the registry cannot change what a release runs;
- the GitLab templates' default gate image (`templates/container-gate.yml` input `gate-image`,
  `templates/container-gate.gitlab-ci.yml` `image.name`) from `.../container-gate:VERSION` to
  `IMAGE:VERSION@sha256:DIGEST`: the same image, still readable by its version; GitLab pulls by
  the digest.

Each file is edited as text, one line, so its comments and layout stay as they are, and is then
parsed again: anything but the one value differing from before is an error, and so is a file that
is not in the state a release starts from (an action already pinned, a template naming another
version). Nothing is written unless every file can be pinned.

Usage: python scripts/pin_action_image.py --image ghcr.io/OWNER/container-gate --version 1.2.0 \\
           --digest sha256:<64 hex> [--root DIR]
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = Path("action.yml")
COMPONENT = Path("templates/container-gate.yml")
PLAIN_TEMPLATE = Path("templates/container-gate.gitlab-ci.yml")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# A repository in a registry, without tag or digest, as the release pushes it: the registry's host,
# then lower-case path components (the reference grammar of distribution/reference, simplified).
IMAGE = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+")
VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*(?:[a-z0-9.+-]*)")
DEVELOPMENT_IMAGE = "Dockerfile"


class PinError(Exception):
    """Why a file cannot be pinned: one line, naming the file and what was expected."""


@dataclass(frozen=True)
class Release:
    """The published image that a release's files must name."""

    image: str
    """The repository the image was pushed to (`ghcr.io/acme/container-gate`)."""
    version: str
    """The release's version, also the image's tag (`1.2.0`)."""
    digest: str
    """The digest of what was pushed (`sha256:...`): for a multi-platform image, its index."""

    @property
    def action_image(self) -> str:
        """`runs.image` of a released action.yml."""
        return f"docker://{self.image}@{self.digest}"

    @property
    def gitlab_image(self) -> str:
        """The GitLab templates' default gate image on a release."""
        return f"{self.image}:{self.version}@{self.digest}"


def parse_release(image: str, version: str, digest: str) -> Release:
    """A Release from the command line's strings, each checked."""
    if not IMAGE.fullmatch(image):
        raise PinError(f"--image: expected a registry repository without tag or digest, got {image!r}")
    if not VERSION.fullmatch(version):
        raise PinError(f"--version: expected a version such as 1.2.0, got {version!r}")
    if not DIGEST.fullmatch(digest):
        raise PinError(f"--digest: expected sha256: and 64 lower-case hex digits, got {digest!r}")
    return Release(image=image, version=version, digest=digest)


def _replace_value(text: str, where: Path, key: str, old: str, new: str) -> str:
    """`key: old` -> `key: new` on the one line that has it, the rest of the text untouched."""
    line = re.compile(
        rf"^(?P<lead>[ \t]*{re.escape(key)}:[ \t]*){re.escape(old)}(?P<tail>[ \t]*(?:#.*)?)$", re.M
    )
    found = line.findall(text)
    if len(found) != 1:
        raise PinError(f"{where}: expected one line `{key}: {old}`, found {len(found)}")
    return line.sub(lambda m: f"{m['lead']}{new}{m['tail']}", text)


def _same_but(
    where: Path, before: list[Any], after: list[Any], change: Callable[[list[Any]], None], what: str
) -> None:
    """After the edit the documents must equal the old ones with exactly the intended change."""
    expected = copy.deepcopy(before)
    change(expected)
    if after != expected:
        raise PinError(f"{where}: editing {what} changed more than that value")


def _load(text: str, where: Path) -> list[Any]:
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise PinError(f"{where}: cannot read as YAML: {exc}") from exc


def pin_action(text: str, release: Release, where: Path = ACTION) -> str:
    """action.yml with `runs.image` naming the published image by digest."""
    [action] = _load(text, where)
    current = action.get("runs", {}).get("image") if isinstance(action, dict) else None
    if current != DEVELOPMENT_IMAGE:
        raise PinError(
            f"{where}: runs.image: expected {DEVELOPMENT_IMAGE!r} (the development setting), got {current!r}"
        )
    pinned = _replace_value(text, where, "image", DEVELOPMENT_IMAGE, release.action_image)

    def change(docs: list[Any]) -> None:
        docs[0]["runs"]["image"] = release.action_image

    _same_but(where, [action], _load(pinned, where), change, "runs.image")
    return pinned


def _check_gitlab_default(current: object, release: Release, where: Path, key_path: str) -> str:
    if not isinstance(current, str) or not current.endswith(f"/container-gate:{release.version}"):
        raise PinError(
            f"{where}: {key_path}: expected an image `.../container-gate:{release.version}`, got {current!r}"
        )
    return current


def pin_component(text: str, release: Release, where: Path = COMPONENT) -> str:
    """The CI/CD component with the `gate-image` input's default naming the published image."""
    docs = _load(text, where)
    key_path = "spec.inputs.gate-image.default"
    try:
        current = docs[0]["spec"]["inputs"]["gate-image"]["default"]
    except (IndexError, KeyError, TypeError) as exc:
        raise PinError(f"{where}: {key_path}: not found") from exc
    old = _check_gitlab_default(current, release, where, key_path)
    pinned = _replace_value(text, where, "default", old, release.gitlab_image)

    def change(expected: list[Any]) -> None:
        expected[0]["spec"]["inputs"]["gate-image"]["default"] = release.gitlab_image

    _same_but(where, docs, _load(pinned, where), change, key_path)
    return pinned


def pin_plain_template(text: str, release: Release, where: Path = PLAIN_TEMPLATE) -> str:
    """The plain template with its job's image naming the published image."""
    docs = _load(text, where)
    key_path = ".container-gate.image.name"
    try:
        current = docs[0][".container-gate"]["image"]["name"]
    except (IndexError, KeyError, TypeError) as exc:
        raise PinError(f"{where}: {key_path}: not found") from exc
    old = _check_gitlab_default(current, release, where, key_path)
    pinned = _replace_value(text, where, "name", old, release.gitlab_image)

    def change(expected: list[Any]) -> None:
        expected[0][".container-gate"]["image"]["name"] = release.gitlab_image

    _same_but(where, docs, _load(pinned, where), change, key_path)
    return pinned


PINNERS: tuple[tuple[Path, Callable[[str, Release, Path], str]], ...] = (
    (ACTION, pin_action),
    (COMPONENT, pin_component),
    (PLAIN_TEMPLATE, pin_plain_template),
)


def pin_release(root: Path, release: Release) -> list[Path]:
    """Pin every file under `root`; write them only when all could be pinned. Returns the files."""
    pinned: dict[Path, str] = {}
    for relative, pin in PINNERS:
        path = root / relative
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PinError(f"{relative}: cannot read: {exc.strerror or exc}") from exc
        pinned[path] = pin(text, release, relative)
    for path, text in pinned.items():
        path.write_text(text, encoding="utf-8")
    return list(pinned)


def main(argv: Sequence[str]) -> int:
    """Pin the release's files; exit 1 with the reason, writing nothing, when one cannot be."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--image", required=True, help="the repository pushed to, ghcr.io/OWNER/container-gate"
    )
    parser.add_argument("--version", required=True, help="the release's version (the image's tag)")
    parser.add_argument("--digest", required=True, help="the pushed image's digest, sha256:...")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this one)")
    args = parser.parse_args(argv)
    try:
        release = parse_release(args.image, args.version, args.digest)
        written = pin_release(args.root, release)
    except PinError as exc:
        print(f"pin-action-image: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"pinned {path.relative_to(args.root)}")
    print(f"action: {release.action_image}\ngitlab: {release.gitlab_image}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
