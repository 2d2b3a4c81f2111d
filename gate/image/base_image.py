"""The base image check's result as data: what `scan --check-base` hands the evaluation.

Kept apart from the registry reads (`gate.image.base_check`) so that the policy and the renderers
can use these types without importing an HTTP client.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gate.model import Finding


@dataclass(frozen=True)
class BaseImageState:
    """One image of the base image's repository, for the scanned image's platform."""

    reference: str
    """`registry/repository@digest` of the platform manifest: what a scanner can pull."""
    digest: str
    """The platform manifest's digest (never an index's)."""
    created: str | None
    """The config's `created` (RFC 3339, as written), when it has one."""
    diff_ids: tuple[str, ...]
    """The config's `rootfs.diff_ids`, bottom first."""


@dataclass(frozen=True)
class LocatedBase:
    """The base image an image was built on, and what its tag points to now."""

    name: str
    """The tag reference, as the check shows it (`ghcr.io/acme/base:12`)."""
    used: BaseImageState
    """The base image the image was built on."""
    current: BaseImageState
    """What the tag points to now, for the same platform."""

    @property
    def changed(self) -> bool:
        """True when the tag's image for this platform has other layers than the one used."""
        return self.current.diff_ids != self.used.diff_ids

    @property
    def behind_days(self) -> int | None:
        """Whole days from the used base's `created` to the current one's, rounded down; 0 when
        the tag has not changed (or went back in time), None when a `created` is missing or is
        the Unix epoch."""
        return days_behind(self.changed, self.used.created, self.current.created)


def days_behind(changed: bool, used_created: str | None, current_created: str | None) -> int | None:
    """See `LocatedBase.behind_days`: `changed` says whether the tag points to other layers."""
    if not changed:
        return 0
    used, current = parse_created(used_created), parse_created(current_created)
    # Reproducible builds that record no date (distroless, ko, Bazel, Nix) write the epoch:
    # two such images are not "0 days" apart, their distance is unknown.
    if used is None or current is None or EPOCH in (used, current):
        return None
    return max(0, (current - used) // dt.timedelta(days=1))


@dataclass(frozen=True)
class BaseCheck:
    """What `scan --check-base` found out about the base image: handed to the evaluation as data."""

    checked: bool
    """True when the check ran to the end; False with `reason` when it could not."""
    name: str | None = None
    """The base image's tag reference, when known."""
    used: BaseImageState | None = None
    """The base image the image was built on, when identified."""
    current: BaseImageState | None = None
    """What the tag points to now, when it could be read."""
    removed: tuple[Finding, ...] = ()
    """The image's findings in base-image layers that the current base does not have: what
    rebuilding on it removes."""
    reason: str | None = None
    """Why the check could not run (registry unreachable, tag gone, ...)."""
    no_base: bool = False
    """True when it could not run because the image has no base image (FROM scratch): then no
    base can be stale, and a policy that fails a stale base has nothing to fail."""
    tag_moved: bool | None = None
    """Whether the tag points to other layers, when that is known without the layers: a decision
    report read back keeps what its check found, not the base images' `diff_ids`."""

    @property
    def changed(self) -> bool:
        """True when the tag now points to other layers than the image was built on."""
        if self.used is None or self.current is None:
            return False
        if self.tag_moved is not None:
            return self.tag_moved
        return self.current.diff_ids != self.used.diff_ids

    @property
    def behind_days(self) -> int | None:
        """See `LocatedBase.behind_days`; None when either image is unknown."""
        if self.name is None or self.used is None or self.current is None:
            return None
        return days_behind(self.changed, self.used.created, self.current.created)


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
"""The `created` of an image built without a date."""


def parse_created(text: str | None) -> dt.datetime | None:
    """A config's `created` as an aware datetime (UTC when it names no zone), or None."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
