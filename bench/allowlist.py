"""A large allowlist for a scaled report, as a container-gate policy and as a Trivy ignore file.

`allowlist` draws `POLICY_ENTRIES` entries from the findings of a scaled report in the mix a
long-lived policy collects: plain ids, ids scoped to a package (purl), to an exact version, to a
path glob or to an image glob, entries past their expiry date, and entries that match nothing any
more (the id is gone, or the package was removed). The draw is seeded: the same report always gets
the same policy.

`trivyignore_yaml` writes the same entries in Trivy's `.trivyignore.yaml` format
(`vulnerabilities: [{id, paths, purls, statement, expired_at}]`, Trivy's pkg/result/ignore.go):
a package becomes a versionless purl, a version becomes the purl's version, and an image glob is
left out (a Trivy ignore file has no such field; every image glob drawn here matches the report's
image, so the entry means the same). Expiry dates lie far in the past or months ahead, so the two
tools' different expiry days (the gate: through the date; Trivy: until its start) never differ.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from bench.scaling import Facts, ScaledReport

POLICY_ENTRIES = 500
"""Allowlist entries per policy."""

FUTURE_DAYS = 180
"""How many days after the day it is drawn an entry that has not expired expires: far enough that
the two tools' expiry days never differ, and within the year every run asks of an exception (one
dated further ahead is a warning of every run, which a measured policy must not carry by the
hundred)."""
PAST = dt.date(2024, 1, 31)

# How many entries of each shape a policy gets; the counts add up to POLICY_ENTRIES.
MIX = (
    ("id", 180),
    ("purl", 70),
    ("version", 50),
    ("path", 50),
    ("image", 25),
    ("expired", 50),
    ("unknown-id", 40),
    ("removed-package", 35),
)

REASONS = (
    "not reachable: the service never calls the affected function",
    "fixed upstream; waiting for the base image rebuild (SEC-{n})",
    "false positive: the vulnerable code is not compiled into this build",
    "accepted risk until the next release; owner: team-{n}",
    "only exploitable with local access, which the container does not grant",
)


@dataclass(frozen=True)
class Entry:
    """One allowlist entry, with what Trivy needs to say the same."""

    vulnerability: str
    """The id."""
    reason: str
    """Why it is accepted."""
    package: str | None = None
    """A package name, or a versionless purl."""
    version: str | None = None
    """The exact installed version."""
    version_purl: str | None = None
    """The package's purl with its version and without qualifiers (Trivy's form of `version`)."""
    path: str | None = None
    """A path glob."""
    image: str | None = None
    """An image glob."""
    expires: dt.date | None = None
    """The last day the entry applies."""


def _bare_purl(purl: str) -> str:
    """A purl without qualifiers and subpath."""
    return purl.split("#", 1)[0].split("?", 1)[0]


def _unversioned(purl: str) -> str:
    bare = _bare_purl(purl)
    at = bare.find("@", bare.rfind("/") + 1)
    return bare if at < 0 else bare[:at]


def _path_glob(path: str) -> str:
    """The directory of the package and everything below it (or the exact file at the top)."""
    return f"{path.rsplit('/', 1)[0]}/**" if "/" in path else path


def _image_glob(image: str) -> str:
    return image.split("@", 1)[0].split(":", 1)[0] + "*"


def allowlist(report: ScaledReport, seed: int = 2024, today: dt.date | None = None) -> list[Entry]:
    """`POLICY_ENTRIES` entries drawn from the report's findings, shuffled as a real file is; the
    dates ahead are `FUTURE_DAYS` after `today` (the bench runs the gate as of now)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    future = (today or dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=FUTURE_DAYS)
    facts = report.facts
    with_purl = [f for f in facts if f.purl] or list(facts)
    # Glob characters in a path would turn an exact path into a pattern: such paths are not drawn.
    with_path = [f for f in facts if f.path and not any(c in f.path for c in "*?[]{}")]
    entries: list[Entry] = []
    number = 0

    def reason() -> str:
        return rng.choice(REASONS).format(n=rng.randrange(100, 999))

    def scoped(shape: str, fact: Facts, expires: dt.date | None) -> Entry:
        if shape == "purl" and fact.purl:
            return Entry(fact.vulnerability, reason(), package=_unversioned(fact.purl), expires=expires)
        if shape == "version":
            return Entry(
                fact.vulnerability,
                reason(),
                package=fact.name,
                version=fact.version,
                version_purl=_bare_purl(fact.purl) if fact.purl else None,
                expires=expires,
            )
        if shape == "path" and fact.path:
            return Entry(fact.vulnerability, reason(), path=_path_glob(fact.path), expires=expires)
        if shape == "image" and report.image:
            return Entry(fact.vulnerability, reason(), image=_image_glob(report.image), expires=expires)
        return Entry(fact.vulnerability, reason(), expires=expires)

    def draw(shape: str) -> Facts:
        pool: Sequence[Facts] = facts
        if shape in ("purl", "version", "removed-package"):
            pool = with_purl
        elif shape == "path" and with_path:
            pool = with_path
        return rng.choice(pool)

    for shape, how_many in MIX:
        for _ in range(how_many):
            number += 1
            if shape == "unknown-id":
                entries.append(Entry(f"CVE-2099-{10_000 + number}", reason(), expires=future))
            elif shape == "removed-package":
                fact = draw(shape)
                entries.append(Entry(fact.vulnerability, reason(), package=f"pkg:generic/removed-{number}"))
            elif shape == "expired":
                inner = rng.choice(("id", "purl", "version", "path"))
                entries.append(scoped(inner, draw(inner), PAST))
            else:
                # A third of the plain-id entries never expire; everything else has a date.
                expires = None if shape == "id" and number % 3 == 0 else future
                entries.append(scoped(shape, draw(shape), expires))
    rng.shuffle(entries)
    return entries


def policy_yaml(entries: Sequence[Entry]) -> str:
    """A container-gate policy (version 1) with these allowlist entries."""
    items: list[dict[str, Any]] = []
    for entry in entries:
        item: dict[str, Any] = {"vulnerability": entry.vulnerability}
        for key in ("package", "version", "path", "image"):
            value = getattr(entry, key)
            if value is not None:
                item[key] = value
        item["reason"] = entry.reason
        if entry.expires is not None:
            item["expires"] = entry.expires
        items.append(item)
    document = {
        "version": 1,
        "mode": "enforce",
        "fail_on": {"severity": "HIGH", "fixable_only": True},
        "ignore_statuses": ["not_affected"],
        "allowlist": items,
        "fail_on_expired": False,
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=200)


def trivyignore_yaml(entries: Sequence[Entry]) -> str:
    """The same entries as a Trivy `.trivyignore.yaml`."""
    items: list[dict[str, Any]] = []
    for entry in entries:
        item: dict[str, Any] = {"id": entry.vulnerability}
        if entry.path is not None:
            item["paths"] = [entry.path]
        if entry.version is not None and entry.version_purl is not None:
            item["purls"] = [entry.version_purl]
        elif entry.package is not None and entry.package.startswith("pkg:"):
            item["purls"] = [entry.package]
        item["statement"] = entry.reason
        if entry.expires is not None:
            item["expired_at"] = entry.expires
        items.append(item)
    return yaml.safe_dump({"vulnerabilities": items}, sort_keys=False, allow_unicode=True, width=200)
