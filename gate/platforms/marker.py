"""The hidden marker by which a run finds the pull-request comment or merge-request note it owns.

Both platforms mark their comment with a first line holding hashes of the job, the image and the
platform. Hashes of trusted values only, so nothing from a report reaches the marker as text; and
the image without what changes on every push, so one comment per image survives every push. The
marker is looked for on every line, so a comment someone edited above it stays the run's, but
not inside a fenced code block, where the platform shows it as text. The
comment's author is checked too (by each publisher): a marker copied into someone else's comment,
on whatever line, is never edited. A comment of the run's author is the run's when any of its
markers is the run's (`kept_and_duplicates` chooses among several).
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from gate.errors import UsageError
from gate.image.manifest import Platform

T = TypeVar("T")

_PREFIX = "<!-- container-gate:"
# A fenced code block's opening or closing line (CommonMark: up to three spaces, then three or
# more backticks or tildes): what it holds is shown as text, never a hidden marker.
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_MARKER = re.compile(
    r"<!-- container-gate:(?P<kind>[a-z-]+) v1 job=(?P<job>[0-9a-f]{16}) "
    r"image=(?P<image>[0-9a-f]{16}) platform=(?P<platform>[0-9a-f]{16}) -->\Z"
)


class MarkerKind(enum.Enum):
    """What a marker marks; the value is written in it."""

    GITHUB_COMMENT = "github-comment"
    GITLAB_NOTE = "gitlab-note"


@dataclass(frozen=True)
class MarkerKey:
    """Which comment or note a run owns: hashes, so nothing from a report reaches the marker as text."""

    kind: MarkerKind
    """A GitHub comment or a GitLab note."""
    job: str
    """Hash of the job's name (GitHub: the workflow and the job)."""
    image: str
    """Hash of the stable image reference (of "" when none is known)."""
    platform: str
    """Hash of `os/arch` (of "" when unknown)."""

    @classmethod
    def of(
        cls,
        kind: MarkerKind,
        job: tuple[str, ...],
        image: str | None,
        platform: str | None,
        shas: tuple[str, ...],
    ) -> MarkerKey:
        """The key of a run: `job` names the job, `shas` are the commits an image tag may hold."""
        stable = stable_image(image, shas) if image else ""
        return cls(kind, marker_hash(*job), marker_hash(stable), marker_hash(platform or ""))

    @property
    def marker(self) -> str:
        """The hidden first line (an HTML comment neither platform displays)."""
        return (
            f"<!-- container-gate:{self.kind.value} v1 job={self.job} image={self.image} "
            f"platform={self.platform} -->"
        )

    def same_job(self, found: MarkerKey | None, *, image_known: bool, platform_known: bool = False) -> bool:
        """Whether `found` marks a comment of this run's job, and of its image when `image_known`,
        and of its platform when `platform_known`.

        For a run that could not decide: without a report, the image is known only when the
        command line named one, and the platform only when it asked for one (`--platform`), so
        every comment of the job that differs in nothing else may be this run's.
        """
        return (
            found is not None
            and found.job == self.job
            and (not image_known or found.image == self.image)
            and (not platform_known or found.platform == self.platform)
        )

    @classmethod
    def parse(cls, kind: MarkerKind, body: str) -> MarkerKey | None:
        """The key of the first line of `body` that is a marker of this kind, or None (see
        `parse_all`)."""
        found = cls.parse_all(kind, body)
        return found[0] if found else None

    @classmethod
    def parse_all(cls, kind: MarkerKind, body: str) -> tuple[MarkerKey, ...]:
        """The keys of every line of `body` that is a marker of this kind, in order.

        Any line, not only the first: a maintainer may write above the marker of the run's own
        comment (a note on why it fails), and the run must still find it rather than post a
        second one; a comment edited by hand may hold a marker twice, or another run's too (two
        comments merged into one). Whose comment it is, each publisher checks by its author. A
        marker inside a fenced code block is not one: the platform shows it as text (someone
        showing a marker, or a comment pasted whole into another), and the gate writes its own
        outside any."""
        if _PREFIX not in body:
            return ()
        found: list[MarkerKey] = []
        fence = ""
        for line in body.split("\n"):
            line = line.rstrip("\r")
            fenced = _FENCE.match(line)
            if fence:
                # Closed by a fence of the same character, at least as long, with nothing after it.
                if fenced is not None and fenced[1].startswith(fence) and not line[fenced.end() :].strip():
                    fence = ""
                continue
            if fenced is not None:
                fence = fenced[1]
                continue
            match = _MARKER.match(line)
            if match is not None and match["kind"] == kind.value:
                found.append(cls(kind, match["job"], match["image"], match["platform"]))
        return tuple(found)


def kept_and_duplicates(
    ours: Sequence[T], every: bool, shared: Callable[[T], bool] = lambda _comment: False
) -> tuple[Sequence[T], Sequence[T], str]:
    """Of the comments a run owns (that bear its marker), oldest first: the ones to update, the
    duplicates to delete, and how to say that some were removed ("" when none).

    With `every`, all of them are updated. Else one: the oldest that bears no other run's marker
    (not `shared`), whose address earlier runs gave, and the other such comments are duplicates.
    Either way, a comment edited by hand to hold another run's marker too is left to that run and
    never deleted, unless the run has no other comment: then it is updated, and becomes the run's
    alone. So a run never creates a comment while one of its own bears its marker."""
    alone = [comment for comment in ours if not shared(comment)]
    if every:
        return alone or ours, (), ""
    keep, duplicates = (alone[:1], alone[1:]) if alone else (ours[:1], [])
    return keep, duplicates, f", removed {len(duplicates)} duplicate(s)" if duplicates else ""


def marker_hash(*values: str) -> str:
    """16 hex digits of SHA-256 over `values` (joined by NUL, which no CI variable holds)."""
    return hashlib.sha256("\0".join(values).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def stable_image(reference: str, shas: tuple[str, ...]) -> str:
    """The image reference without what changes on every push: the digest, and a commit SHA (or
    its first 7+ characters) in the tag, as in `app:sha-1a2b3c4` or `app:${{ github.sha }}`."""
    name = reference.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    repository, tag = (name[:colon], name[colon + 1 :]) if colon > slash else (name, "")
    for sha in shas:
        for length in range(len(sha), 6, -1):
            if sha[:length] in tag:
                tag = tag.replace(sha[:length], "")
                break
    return f"{repository}:{tag}"


# The variant an architecture has when its image names none (`Platform.normalized` drops arm64's
# and amd64's, and makes arm's explicit).
_DEFAULT_VARIANTS = {"arm64": "v8", "amd64": "v1", "arm": "v7"}


def platform_spellings(platform: str | None) -> tuple[str, ...]:
    """`--platform OS/ARCH[/VARIANT]` as a report's image may name its platform in the comment's
    key (`ImageInfo.platform`: the OS and the architecture as its config writes them, with the
    variant when it names one): normalised as the scan reads a platform (`linux/x86_64` is
    `linux/amd64`, `linux/aarch64` is `linux/arm64`), with and without its variant when it is the
    architecture's default (an image that names no variant is of that one: `linux/arm` is not
    `linux/arm/v6`)."""
    if not platform:
        return ()
    try:
        wanted = Platform.parse(platform).normalized()
    except UsageError:  # not OS/ARCH[/VARIANT]: as given
        return (platform,)
    os_arch = f"{wanted.os}/{wanted.architecture}"
    default = _DEFAULT_VARIANTS.get(wanted.architecture)
    variant = wanted.variant or default
    if not variant:
        return (os_arch,)
    if variant != default:
        return (f"{os_arch}/{variant}",)
    return (os_arch, f"{os_arch}/{variant}")
