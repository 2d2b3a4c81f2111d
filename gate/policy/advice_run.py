"""Allowlist entries judged against a run: a package name the report spells otherwise, and an
expiry date too far from the run's date to bring the exception back for review.

Like the warnings of `gate.policy.advice`, these leave the policy valid and every verdict as it
was: they need what only a run has (its report, its date), so `policy validate` says the one of
the date (by `--as-of`, else today) and `check`, `scan`, `explain` and `compare` say both.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from gate.model import Finding
from gate.policy.advice import _yaml_text, entry_named
from gate.policy.model import Policy

_SEPARATORS = re.compile(r"[-_.]+")


def _spelling(name: str) -> str:
    """`name` as it reads whatever its case and its separators: PyPI's own normalization (PEP 503),
    under which `Pillow` is `pillow` and `zope.interface` is `zope-interface`. A scanner reports a
    name as the package's metadata spells it (`python3-yaml` in Debian, `PyYAML` in a wheel's
    metadata), and an entry is compared with it exactly."""
    return _SEPARATORS.sub("-", name.casefold())


def package_spelling_warnings(policy: Policy, findings: Iterable[Finding]) -> tuple[str, ...]:
    """One line per allowlist entry whose `package` (a name, not a package URL) is the name of no
    finding of the report, while a name that differs from it only in case or in `-`, `_` and `.`
    is: compared exactly, the entry never matches the package it was written for."""
    wanted = [e for e in policy.allowlist if e.package is not None and not e.package.startswith("pkg:")]
    if not wanted:
        return ()
    names = {finding.package.name for finding in findings}
    # Most entries name a package of the report as it spells it: the report's names are spelled
    # out only when one does not (a 100k-finding report has thousands of names).
    missing = [(entry, entry.package) for entry in wanted if entry.package not in names]
    if not missing:
        return ()
    spelled: dict[str, set[str]] = {}
    for name in names:
        spelled.setdefault(_spelling(name), set()).add(name)
    out: list[str] = []
    for entry, package in missing:
        assert package is not None  # noqa: S101 - only entries with a package were kept
        found = sorted(spelled.get(_spelling(package), ()))
        if not found:
            continue
        shown = " and ".join(repr(name) for name in found)
        one = len(found) == 1
        fix = f": write package: {_yaml_text(found[0])}" if one else ""
        out.append(
            f"{policy.source}: {entry_named(entry)}: package {package!r} is no finding's package name in the "
            f"report, but {shown} {'is' if one else 'are'}, differing only in case or in '-', '_' and "
            f"'.': a package is compared exactly, so this entry never matches {'it' if one else 'them'}{fix}"
        )
    return tuple(out)


def _a_year_after(day: dt.date) -> dt.date:
    """The same day a year later; the 28th of February for the 29th."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def far_expiry_warnings(policy: Policy, today: dt.date) -> tuple[str, ...]:
    """One line per allowlist entry whose `expires` is more than a year after `today` (the run's
    date, `--as-of`): an exception is meant to be temporary, and one dated years ahead never comes
    back to anyone for review, while every output shows it as dated. An entry without `expires`
    never expires, as the format says; that is written plainly, and not warned of."""
    latest = _a_year_after(today)
    return tuple(
        f"{policy.source}: {entry_named(entry)}: expires on {entry.expires.isoformat()}, more than a year "
        f"after {today.isoformat()}, so the exception does not come back for review: give it a date "
        "within a year, and renew it then if it still holds"
        for entry in policy.allowlist
        if entry.expires is not None and entry.expires > latest
    )
