"""What makes a valid policy unable to fail the gate on a fixable finding, said out loud, and the
allowlist entries that repeat an earlier one or cannot match any finding.

Each of these is a legitimate choice, and each is also how a gate is switched off by accident: a
policy copied from a trial, `ignore_statuses: [fixed]` meant as "ignore what is fixed upstream",
a budget set to silence one noisy week. The policy stays valid; `policy validate` and every
output of a run under it carry the warning, so nobody mistakes such a gate for one that blocks.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import replace

from gate.model import ScanReport, Severity, VendorStatus
from gate.policy.model import AllowlistEntry, Mode, Policy

HUGE_BUDGET = 1000
"""A budget this large tolerates more findings of a severity than an image has: the severity
never fails the gate (the policy format has no severity above CRITICAL; this is the way around it)."""


def policy_warnings(policy: Policy) -> tuple[str, ...]:
    """One line per way `policy` cannot block fixable findings, naming the file and the key."""
    where = policy.source
    out: list[str] = []
    if policy.mode is Mode.ADVISORY:
        out.append(
            f"{where}: mode: advisory: this policy never fails the gate, findings that would block "
            "are only reported (set mode: enforce to block them)"
        )
    if VendorStatus.FIXED in policy.ignore_statuses:
        out.append(
            f"{where}: ignore_statuses lists fixed: every finding that has a fixed version is ignored, "
            "so the gate cannot block a finding you can fix"
        )
    if VendorStatus.AFFECTED in policy.ignore_statuses:
        out.append(
            f"{where}: ignore_statuses lists affected: every finding the vendor has not fixed yet is "
            "ignored, whatever its severity"
        )
    if "new" not in policy.baseline.fail_on:
        out.append(
            # Said without an option: the same policy is validated, and run by the command line,
            # the action (its `baseline` input) and the GitLab templates (`baseline-ref`).
            f"{where}: baseline.fail_on does not list new: when a run has a baseline, a finding the "
            "image adds never fails the gate"
        )
    # Budgets count every finding, base or own: a severity blocks when either threshold reaches it
    # (`base_image.fail_on` may be lower than `fail_on` for the base image's layers).
    thresholds = [policy.fail_on, *([policy.base_image.fail_on] if policy.base_image.fail_on else [])]
    lowest = min(threshold.severity for threshold in thresholds)
    for severity, count in policy.fail_on.budgets:
        if severity >= lowest and count >= HUGE_BUDGET:
            out.append(
                f"{where}: fail_on.budgets.{severity.name}: {count} tolerates more {severity.name} findings "
                f"than an image has: {severity.name} findings never fail the gate"
            )
    if all(
        (budget := policy.fail_on.budget_for(severity)) is not None and budget >= HUGE_BUDGET
        for severity in Severity
        if severity >= lowest
    ) and all(threshold.cvss_score is None for threshold in thresholds):
        out.append(f"{where}: fail_on: with these budgets no finding can fail the gate")
    return tuple(out)


def repeated_entries(policy: Policy) -> tuple[str, ...]:
    """One line per allowlist entry that repeats an earlier one: the same vulnerability (ignoring
    case, as matching does), package, version, path, image, origin and expiry.

    The earlier entry always matches first, so the later one never matches a finding and every run
    reports it unused, which reads as if it were stale. Its reason may differ; it is never shown.
    Still a valid policy: a copy-paste slip must not stop a gate that worked the day before."""
    first: dict[tuple[object, ...], AllowlistEntry] = {}
    out: list[str] = []
    for entry in policy.allowlist:
        key = (
            entry.vulnerability.casefold(),
            entry.package,
            entry.version,
            entry.path,
            entry.image,
            entry.origin,
            entry.expires,
        )
        earlier = first.setdefault(key, entry)
        if earlier is not entry:
            out.append(
                f"{policy.source}: {entry_named(entry)}: repeats {entry_named(earlier)}, which always matches first: "
                "every run reports this one unused; remove one of them"
            )
    return tuple(out)


_VERSION_IN_NAME = re.compile(r"(?P<name>@?[^\s@=]+?)(?:@|\s*==?\s*|\s+)(?P<version>v?[0-9][^\s@=]*)")
"""A package name followed by a version, as package managers' command lines write one
(`e2fsprogs@1.43.4-2`, `requests==2.31.0`, `libc6=2.36-9`) or a listing shows one
(`zlib1g 1:1.2.13`). No scanner reports a name with `@` after its first character, `=` or a
blank: such a `package` is compared with names it can never equal."""


def unmatchable_entries(policy: Policy) -> tuple[str, ...]:
    """One line per allowlist entry that no finding can match, saying what to write instead.

    Still a valid policy: the entry only fails to hide what it meant to, so the findings it was
    written for keep blocking and the gate stays closed; every run would report it unused without
    saying why."""
    out: list[str] = []
    for entry in policy.allowlist:
        why = _not_an_id(entry.vulnerability)
        if why is not None:
            out.append(f"{policy.source}: {entry_named(entry)}: vulnerability {entry.vulnerability!r} {why}")
        package = entry.package
        # What is left once the invisible characters and the blanks around are gone is what the
        # advice is about: a name and a version joined by a no-break space and a zero-width space
        # are a name and a version still.
        name = _visible(package).strip() if package and not package.startswith("pkg:") else None
        found = _VERSION_IN_NAME.fullmatch(name) if name else None
        if package and ("*" in package or (name is not None and "?" in name)):
            # `?` starts a package URL's qualifiers; `*` is in no name or URL a scanner writes.
            out.append(
                f"{policy.source}: {entry_named(entry)}: package {package!r} is compared exactly, not as a "
                "pattern (path and image are globs, package is not), so this entry never matches: "
                "write one entry per package"
            )
        elif found is not None:
            fix = f"package: {_yaml_text(found['name'])}"
            if entry.version is None:
                fix += f" and version: {_yaml_text(found['version'])}"
            out.append(
                f"{policy.source}: {entry_named(entry)}: package {package!r} holds a version, but a package "
                f"is compared by its name alone, so this entry never matches: write {fix}"
            )
        elif package and name and _blanks(name):
            out.append(_blank_inside(policy, entry, package, name))
        elif package and name and _invisible(package):
            out.append(_with_invisible(policy, entry, "package", package))
        elif package and (foreign := _not_ascii(package)):
            out.append(_look_alike(policy, entry, package, foreign))
        elif package and name and name != package:
            # Quoted, a name keeps the blanks around it (`"e2fsprogs "`), which no scanner's name
            # has; a package URL is parsed, which drops them.
            out.append(_blank_around(policy, entry, "package", package, name))
        version = entry.version
        if version and _invisible(version):
            out.append(_with_invisible(policy, entry, "version", version))
        elif version and version.strip() and version.strip() != version:
            out.append(_blank_around(policy, entry, "version", version, version.strip()))
    return tuple(out)


def _invisible(text: str) -> list[str]:
    """The invisible characters of `text` (a zero-width space, a soft hyphen, a byte order mark:
    Unicode's format characters, `Cf`), each once, in code point order."""
    if text.isascii():
        return []
    return sorted({ch for ch in text if unicodedata.category(ch) == "Cf"})


def _visible(text: str) -> str:
    """`text` without its invisible characters."""
    invisible = _invisible(text)
    return "".join(ch for ch in text if ch not in invisible) if invisible else text


def _blanks(text: str) -> list[str]:
    """The blanks of `text` (a space, a no-break space, any of Unicode's spaces), each once."""
    return sorted({ch for ch in text if ch.isspace()})


def _yaml_text(text: str) -> str:
    """`text` as the policy's YAML reads it back: quoted as Python shows it when that shows every
    character as it is, else double-quoted with escapes (YAML reads `\\u00a0` only between double
    quotes; between single quotes a backslash is itself)."""
    shown = repr(text)
    return shown if "\\" not in shown else json.dumps(text)


def _blank_inside(policy: Policy, entry: AllowlistEntry, package: str, name: str) -> str:
    """The warning for a package name with a blank inside it, often a no-break space copied from a
    web page, which no scanner's name has: which name was meant cannot be told, so none is offered."""
    said = ", ".join(f"U+{ord(ch):04X}" for ch in _blanks(name))
    return (
        f"{policy.source}: {entry_named(entry)}: package {package!r} holds a blank inside ({said}), but no "
        "package name has one and a package is compared exactly, so this entry never matches: "
        "write the name as the scanner reports it"
    )


def _with_invisible(policy: Policy, entry: AllowlistEntry, key: str, value: str) -> str:
    """The warning for a package or version holding an invisible character, which no scanner's
    name or version has (copied from a web page): compared exactly, it never matches."""
    invisible = _invisible(value)
    said = ", ".join(f"U+{ord(ch):04X}" for ch in invisible)
    fix = "".join(ch for ch in value if ch not in invisible).strip()
    return (
        f"{policy.source}: {entry_named(entry)}: {key} {value!r} holds an invisible character ({said}), but a "
        f"{key} is compared exactly, so this entry never matches: write {key}: {_yaml_text(fix)}"
    )


def _not_ascii(text: str) -> list[str]:
    """The characters of `text` outside ASCII, blanks aside (they have warnings of their own), each
    once, in code point order."""
    if text.isascii():
        return []
    return sorted({ch for ch in text if not ch.isascii() and not ch.isspace()})


def _look_alike(policy: Policy, entry: AllowlistEntry, package: str, foreign: list[str]) -> str:
    """The warning for a package name or URL holding a character outside ASCII: a letter of another
    script that looks like a Latin one (a Cyrillic small IE, U+0435, for the e of `openssl`), a
    full-width letter or a dash that is no hyphen, typed or pasted. The names the scanners report
    (Debian, RPM and Alpine packages, PyPI, npm, Maven, Go, Cargo, RubyGems) are ASCII, and their
    package URLs percent-encode anything else; compared exactly, the entry never matches."""
    said = _code_points(foreign)
    # A full-width letter or a dash reads back as its ASCII self; a letter of another script has
    # no such form, and which Latin one it stands for is the reader's to say.
    mended = unicodedata.normalize("NFKC", _hyphens(package))
    fix = f"write package: {_yaml_text(mended)}" if mended.isascii() else "type it in ASCII"
    return (
        f"{policy.source}: {entry_named(entry)}: package {package!r} holds a character no scanner writes in a "
        f"package name ({said}), and a package is compared exactly, so this entry never matches: {fix}"
    )


def _code_points(chars: Iterable[str]) -> str:
    """`chars` by code point and name (`U+0435 CYRILLIC SMALL LETTER IE`), for the warnings."""
    return ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}" for ch in chars)


def _hyphens(text: str) -> str:
    """`text` with an ASCII hyphen for each dash and minus sign."""
    return "".join("-" if unicodedata.category(ch) == "Pd" or ch == _MINUS else ch for ch in text)


def _blank_around(policy: Policy, entry: AllowlistEntry, key: str, value: str, fix: str) -> str:
    return (
        f"{policy.source}: {entry_named(entry)}: {key} {value!r} starts or ends with a blank, but a {key} is "
        f"compared exactly, so this entry never matches: write {key}: {_yaml_text(fix)}"
    )


_MINUS = "\u2212"
"""The minus sign, which typeset text puts for a hyphen as it puts dashes; Unicode does not
class it as a dash (`Pd`), so it is named here."""

_CVE = re.compile(r"CVE-[0-9]{4}-[0-9]{4,}", re.IGNORECASE)
"""A CVE id as every scanner writes one; matching ignores only its case."""


def _not_an_id(vulnerability: str) -> str | None:
    """Why `vulnerability` cannot equal an id a scanner reports, or None.

    Ids copied from a web page or a document bring what cannot be seen or told apart: a zero-width
    space, a soft hyphen, an en dash or a minus sign for a hyphen. Such an id is valid YAML text
    without a blank, yet equals no finding's id."""
    invisible = _invisible(vulnerability)
    mended = _hyphens("".join(ch for ch in vulnerability if ch not in invisible))
    if invisible:
        said = ", ".join(f"U+{ord(ch):04X}" for ch in invisible)
        why = f"holds an invisible character ({said}), so this entry never matches"
    elif "*" in vulnerability or "?" in vulnerability:
        return (
            "is compared as an id, not as a pattern ('*' and '?' match only themselves), so this entry "
            "never matches: write one entry per id"
        )
    elif vulnerability[:3].casefold() == "cve" and _CVE.fullmatch(vulnerability) is None:
        why = "is not a CVE id (CVE-YYYY-NNNN, with ASCII hyphens), so this entry never matches"
    elif not vulnerability.casefold().isascii():
        # Ids are ASCII; a letter of another script that looks like a Latin one (a Cyrillic ES, U+0421,
        # for the C of CVE; a Greek omicron for an O) is told apart from it by no one reading the policy.
        said = _code_points(sorted({ch for ch in vulnerability if not ch.casefold().isascii()}))
        return (
            f"holds a character no scanner writes in an id ({said}), so this entry never matches: "
            "type the id in ASCII"
        )
    else:
        return None
    return f"{why}: write {mended.upper()!r}" if _CVE.fullmatch(mended) else why


def entry_named(entry: AllowlistEntry) -> str:
    """An allowlist entry as warnings name it: `allowlist[2] (line 14)`, or without its line."""
    return f"{entry.name} (line {entry.line})" if entry.line else entry.name


def with_policy_warnings(report: ScanReport, policy: Policy) -> ScanReport:
    """The report, carrying the policy's warnings (a policy that cannot block, an entry that
    repeats another, a policy file in the working directory left unread): every output shows a
    report's warnings, `compare`'s rows too."""
    if not policy.warnings:
        return report
    # A decision report of an earlier release, read back, may already carry them (`explain
    # --report gate.json`): they are the policy's, whoever said them first.
    return replace(
        report,
        warnings=tuple(dict.fromkeys((*policy.warnings, *report.warnings))),
        run_warnings=(*policy.warnings, *report.run_warnings),
    )


def alias_breadth_warnings(policy: Policy, cleared: Mapping[int, AbstractSet[str]]) -> tuple[str, ...]:
    """One line per allowlist entry that cleared, through an alias, findings standing for more CVEs
    than the one it names.

    `cleared` holds, per entry index, the CVEs (upper case) of the findings of several ids it
    allowlisted, when it names a CVE or an id other than the finding's main one: an advisory shared
    by several CVEs (`RHSA-2019:2304` of
    CVE-2019-1559 and CVE-2018-0734), a GHSA id a Snyk report gives two vulnerabilities, or a CVE
    of Grype's GHSA finding that stands for others too. An entry matches any of a finding's ids,
    so it clears each of them; the VEX statements of a run are held to one CVE each
    (gate/enrich/vex.py), an entry is not, and the run says so rather than leave it unseen."""
    out: list[str] = []
    for entry in policy.allowlist:
        cves = cleared.get(entry.index)
        if not cves:
            continue
        named = entry.vulnerability.upper()
        stands_for = sorted(cves | {named}) if _CVE.fullmatch(named) else sorted(cves)
        if len(stands_for) < 2:
            continue
        if named in stands_for:
            others = ", ".join(cve for cve in stands_for if cve != named)
            what = (
                f"names {entry.vulnerability}, and a finding it clears stands for {others} too, which "
                "the entry then clears as well: say in its reason that they are "
                "accepted, or narrow it (package, version) to the findings meant"
            )
        else:
            what = (
                f"names {entry.vulnerability}, an alias of findings of {len(stands_for)} CVEs "
                f"({', '.join(stands_for)}), and clears them all: to accept one, name its CVE in an "
                "entry of its own"
            )
        out.append(f"{policy.source}: {entry_named(entry)}: {what}")
    return tuple(out)


def pathless_warnings(policy: Policy, cleared: Mapping[int, AbstractSet[str]]) -> tuple[str, ...]:
    """One line per allowlist entry with a `path` that cleared findings of packages that have no
    path (OS packages), which its glob matched as an empty path (`*`, `**`, `**/*`).

    `cleared` holds, per entry index, the names of those packages. An entry with `image` matches no
    finding when the image is unknown, and one with `origin` none whose origin is unknown; a glob
    that matches the empty text matches every package without a path, which the entry's author,
    writing a path, rarely means."""
    out: list[str] = []
    for entry in policy.allowlist:
        names = sorted(cleared.get(entry.index, ()))
        if not names:
            continue
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        out.append(
            f"{policy.source}: {entry_named(entry)}: path {entry.path!r} matches the empty path of packages "
            f"that have none (OS packages: {shown}), so the entry clears their findings too: leave "
            "path out to mean them, or write a glob that needs a path (usr/lib/**, **/*.jar)"
        )
    return tuple(out)
