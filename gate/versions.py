"""Version ordering per ecosystem: which of two versions of a package is newer, and which listed fix
is the one to upgrade to.

Each ecosystem orders its versions its own way: Debian's `1.0~rc1` is older than `1.0` and
`1:1.0` newer than `2.0`; rpm has epochs, releases, `~` and `^`; Alpine has `_rc1` and `-r1`;
PEP 440 has pre, post and dev releases; semver has pre-release identifiers. The comparisons come
from `univers` (the version library of the AboutCode vulnerability database), one maintained
package for every ecosystem the scanners report, rather than a comparator written here.

What is never an error here, because a version string comes from an untrusted report:
- An ecosystem this module does not know (or `generic`) is ordered like rpm's `rpmvercmp`, which
  is defined for any text: runs of digits compare as numbers, runs of letters alphabetically, a
  digit run is newer than a letter run, `~` is older than anything, and `epoch:` and `-release`
  are honoured. It is the most forgiving of the real orderings.
- A version its ecosystem cannot parse (`#c2843e01d9a2`, a bare commit as Snyk reports some Go
  modules) sorts before every version that parses, as the oldest: a listed fix is then still
  offered for an installed version nobody can read. Unparsable versions (and any with non-ASCII
  characters) sort among themselves by their text, and the empty version before everything.
- A comparison univers cannot make between two versions it parsed falls back to their text.

Known limit: univers reads Alpine versions with Gentoo's suffixes (`_alpha`, `_beta`, `_pre`,
`_rc`, `_p`), so Alpine's other post-release suffixes (`_cvs`, `_svn`, `_git`, `_hg`) do not parse
and fall back as above: `1.2.3_git20230101-r0` sorts before `1.2.3-r0`, where apk puts it after.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from gate.model import Package

if TYPE_CHECKING:
    from univers import versions as uv


class Ecosystem(enum.StrEnum):
    """A version ordering, named like the package URL type of the packages that use it."""

    DEB = "deb"
    """dpkg (Debian policy 5.6.12): Debian, Ubuntu, Echo."""
    RPM = "rpm"
    """`rpmvercmp` with epoch and release: Red Hat and its rebuilds, Amazon, SUSE, Photon, Mariner."""
    APK = "apk"
    """apk-tools: Alpine, Wolfi, Chainguard, MinimOS."""
    PYPI = "pypi"
    """PEP 440 (Python packages)."""
    NPM = "npm"
    """Semantic versioning as npm applies it (JavaScript packages)."""
    CARGO = "cargo"
    """Semantic versioning (Rust crates)."""
    GEM = "gem"
    """RubyGems' `Gem::Version`."""
    MAVEN = "maven"
    """Maven's `ComparableVersion` (Java archives, Gradle, sbt)."""
    GOLANG = "golang"
    """Go module versions: semver with a `v` prefix, pseudo-versions and `+incompatible`."""
    NUGET = "nuget"
    """NuGet's semver 2.0 with a fourth number (.NET)."""
    COMPOSER = "composer"
    """Composer's ordering (PHP)."""
    HEX = "hex"
    """Semantic versioning (Erlang and Elixir packages)."""
    CONAN = "conan"
    """Conan's ordering (C and C++ packages)."""
    ALPM = "alpm"
    """pacman's `vercmp` (Arch Linux)."""
    EBUILD = "ebuild"
    """Portage (Gentoo)."""
    SEMVER = "semver"
    """Plain semantic versioning, for ecosystems that use it without a package manager of their own
    in this list (Kubernetes components, Swift, CocoaPods, Dart, Julia)."""
    GENERIC = "generic"
    """No known scheme: rpm's ordering of any text (see the module docstring)."""


_E = Ecosystem
PACKAGE_TYPES: Mapping[str, Ecosystem] = MappingProxyType(
    {
        # Trivy's OS package result types (fanal `OSType`), and the detector each one uses.
        "debian": _E.DEB, "ubuntu": _E.DEB, "echo": _E.DEB,
        "alpine": _E.APK, "wolfi": _E.APK, "chainguard": _E.APK, "minimos": _E.APK,
        "redhat": _E.RPM, "centos": _E.RPM, "centos-stream": _E.RPM, "rocky": _E.RPM, "alma": _E.RPM,
        "oracle": _E.RPM, "amazon": _E.RPM, "fedora": _E.RPM, "photon": _E.RPM, "cbl-mariner": _E.RPM,
        "azurelinux": _E.RPM, "bottlerocket": _E.RPM, "coreos": _E.RPM, "suse": _E.RPM, "sles": _E.RPM,
        "slem": _E.RPM, "opensuse": _E.RPM, "opensuse-leap": _E.RPM, "opensuse-tumbleweed": _E.RPM,
        "opensuse.leap": _E.RPM, "opensuse.tumbleweed": _E.RPM,  # Trivy before 0.50
        # Trivy's language package types (fanal `LangType`).
        "pip": _E.PYPI, "pipenv": _E.PYPI, "poetry": _E.PYPI, "uv": _E.PYPI, "pylock": _E.PYPI,
        "python-pkg": _E.PYPI,
        "npm": _E.NPM, "yarn": _E.NPM, "pnpm": _E.NPM, "bun": _E.NPM, "node-pkg": _E.NPM,
        "javascript": _E.NPM,
        "gemspec": _E.GEM, "bundler": _E.GEM,
        "jar": _E.MAVEN, "pom": _E.MAVEN, "gradle": _E.MAVEN, "sbt": _E.MAVEN,
        "gomod": _E.GOLANG, "gobinary": _E.GOLANG,
        "nuget": _E.NUGET, "dotnet-core": _E.NUGET, "packages-props": _E.NUGET,
        "cargo": _E.CARGO, "rustbinary": _E.CARGO, "rust-binary": _E.CARGO,
        "composer": _E.COMPOSER, "composer-vendor": _E.COMPOSER,
        "hex": _E.HEX, "conan": _E.CONAN,
        "cocoapods": _E.SEMVER, "swift": _E.SEMVER, "pub": _E.SEMVER, "julia": _E.SEMVER,
        "kubernetes": _E.SEMVER, "eks": _E.SEMVER, "gke": _E.SEMVER, "aks": _E.SEMVER,
        "rke": _E.SEMVER, "ocp": _E.SEMVER,
        # Grype's artifact types (syft `pkg.Type`) not named above.
        "deb": _E.DEB, "rpm": _E.RPM, "apk": _E.APK, "alpm": _E.ALPM, "portage": _E.EBUILD,
        "python": _E.PYPI, "gem": _E.GEM, "java-archive": _E.MAVEN, "jenkins-plugin": _E.MAVEN,
        "go-module": _E.GOLANG, "dotnet": _E.NUGET, "rust-crate": _E.CARGO,
        "php-composer": _E.COMPOSER, "dart-pub": _E.SEMVER,
        # Snyk's package managers not named above (`linux` names no scheme: generic).
        "rubygems": _E.GEM, "maven": _E.MAVEN, "gomodules": _E.GOLANG, "golangdep": _E.GOLANG,
        "govendor": _E.GOLANG, "paket": _E.NUGET,
    }
)  # fmt: skip
"""The ecosystem of each package `type` the scanner parsers write (Trivy result types, Grype artifact
types, Snyk package managers). A type not listed here orders as `generic`."""

PURL_TYPES: Mapping[str, Ecosystem] = MappingProxyType(
    {
        **{ecosystem.value: ecosystem for ecosystem in Ecosystem if ecosystem is not Ecosystem.GENERIC},
        "k8s": Ecosystem.SEMVER,
        "swift": Ecosystem.SEMVER,
        "cocoapods": Ecosystem.SEMVER,
        "pub": Ecosystem.SEMVER,
        "julia": Ecosystem.SEMVER,
    }
)
"""The ecosystem of each package URL type that names one (`pkg:deb/...` is `deb`)."""


def ecosystem_of(package: Package) -> Ecosystem:
    """The version ordering of a package: from its package URL type when it has a purl that names
    one (the purl type is the same for every scanner), else from its package `type`."""
    if package.purl:
        found = _purl_ecosystem(package.purl)
        if found is not None:
            return found
    return PACKAGE_TYPES.get(package.type.lower(), Ecosystem.GENERIC)


# The purl spec: `pkg:` then the type, a letter followed by letters, digits, `.`, `+` or `-`, up
# to the first `/`. The type is all a purl says about version ordering, and reading only it costs
# a regular expression: parsing the whole purl (packageurl-python) took about 100 us, which
# planning the actions of 100,000 findings, each with its own purl, paid 100,000 times.
_PURL_TYPE = re.compile(r"pkg:([A-Za-z][A-Za-z0-9.+-]*)/")


def _purl_ecosystem(purl: str) -> Ecosystem | None:
    found = _PURL_TYPE.match(purl)
    # Not a purl says nothing; the package type still may.
    return PURL_TYPES.get(found.group(1).lower()) if found else None


VersionKey = tuple[int, Any]
"""A sort key for one version in one ecosystem (see `sort_key`): the tier (0: the empty version,
1: a version the ecosystem cannot parse, 2: a version it parses), then the text or parsed version.
Keys of the same ecosystem compare as their versions do."""


@functools.cache
def _version_classes() -> Mapping[str, type[uv.Version]]:
    """The univers class that parses each ecosystem's versions, by the ecosystem's name.

    univers is imported here, when a first version is parsed, not with this module: importing it
    (with the libraries it imports, for every scheme at once) took about a tenth of a second, which
    every run paid, the ones that never order a version too (`--help`, `explain`, a report with no
    fixed versions).
    """
    from univers import versions as uv

    classes: dict[Ecosystem, type[uv.Version]] = {
        Ecosystem.DEB: uv.DebianVersion,
        Ecosystem.RPM: uv.RpmVersion,
        Ecosystem.APK: uv.AlpineLinuxVersion,
        Ecosystem.PYPI: uv.PypiVersion,
        Ecosystem.NPM: uv.SemverVersion,
        Ecosystem.CARGO: uv.SemverVersion,
        Ecosystem.GEM: uv.RubygemsVersion,
        Ecosystem.MAVEN: uv.MavenVersion,
        Ecosystem.GOLANG: uv.GolangVersion,
        Ecosystem.NUGET: uv.NugetVersion,
        Ecosystem.COMPOSER: uv.ComposerVersion,
        Ecosystem.HEX: uv.SemverVersion,
        Ecosystem.CONAN: uv.ConanVersion,
        Ecosystem.ALPM: uv.ArchLinuxVersion,
        Ecosystem.EBUILD: uv.GentooVersion,
        Ecosystem.SEMVER: uv.SemverVersion,
        # rpmvercmp accepts any non-empty text, so the fallback never fails to order.
        Ecosystem.GENERIC: uv.RpmVersion,
    }
    return MappingProxyType({ecosystem.value: cls for ecosystem, cls in classes.items()})


class _Parsed:
    """A version univers parsed, ordered by precedence: two versions that neither precede nor follow
    each other are equal (semver's `1.0.0+build.1` and `1.0.0`), whatever univers's `==` says.

    Some univers schemes accept text they then fail to compare (pacman's reads `²` as a digit, and
    `int("²")` raises), so a comparison that raises falls back to the text: a report's odd version
    never stops the gate.
    """

    __slots__ = ("text", "value")
    __hash__ = None  # type: ignore[assignment]  # equal versions may differ in text

    def __init__(self, text: str, value: uv.Version) -> None:
        self.text = text
        """The version as compared (stripped; lower-cased for Composer)."""
        self.value = value
        """What univers parsed it into."""

    def __lt__(self, other: _Parsed) -> bool:
        try:
            return bool(self.value < other.value)
        except Exception:
            return self.text < other.text

    def __gt__(self, other: _Parsed) -> bool:
        return other.__lt__(self)

    def __le__(self, other: _Parsed) -> bool:
        return not other.__lt__(self)

    def __ge__(self, other: _Parsed) -> bool:
        return not self.__lt__(other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Parsed):
            return NotImplemented
        return not self.__lt__(other) and not other.__lt__(self)


@functools.lru_cache(maxsize=16384)
def sort_key(ecosystem: str, version: str) -> VersionKey:
    """A key that sorts versions of `ecosystem` oldest first. Any ecosystem name and any text are
    accepted (fallbacks in the module docstring).

    Parsed versions are kept for the versions seen last (a few hundred bytes each): findings of one
    package repeat its version and its fixes many times.
    """
    text = version.strip()
    if not text:
        return (0, "")
    if not text.isascii():
        # No scheme has non-ASCII versions, and univers's digit tests accept Unicode digits
        # (`²`, `٣`) that int() then rejects.
        return (1, text)
    if ecosystem == Ecosystem.GOLANG and text[:2] == "go" and text[2:3].isdigit():
        # Syft names the Go standard library `stdlib` at the toolchain's version, `go1.24.1`, and
        # Grype trims the `go` before comparing (grype/version/golang_version.go): its fixes are
        # `1.24.2`. Unparsed, it would sort before every fix, an older branch's (`1.23.8`) too.
        text = text[2:]
    if ecosystem == Ecosystem.COMPOSER:
        # Composer reads stability flags in any case (`RC1` is `rc1`, as PHP's version_compare
        # does); univers compares them as semver identifiers, where `RC1` sorts before `beta1`.
        text = text.lower()
    # Outside the `try`: univers missing or broken is an error of the installation, never a
    # version that does not parse.
    classes = _version_classes()
    try:
        parsed = classes.get(ecosystem, classes[Ecosystem.GENERIC])(text)
    # univers raises its own InvalidVersion for most bad input, but some schemes' parsers let a
    # ValueError, TypeError or IndexError through on odd text; none of them may stop a gate.
    except Exception:
        return (1, text)
    return (2, _Parsed(text, parsed))


@functools.lru_cache(maxsize=65536)
def compare(ecosystem: str, a: str, b: str) -> int:
    """-1, 0 or 1 as version `a` is older than, the same as, or newer than `b` in `ecosystem`.

    Results are kept for the pairs seen last: univers compares in Python (5-15 us a pair for
    dpkg or RubyGems), and the findings of one package compare the same pairs again and again.
    """
    (tier_a, value_a), (tier_b, value_b) = sort_key(ecosystem, a), sort_key(ecosystem, b)
    if tier_a != tier_b:
        return -1 if tier_a < tier_b else 1
    # Compared as the keys would be, with at most two univers comparisons (a tuple comparison
    # of the keys makes up to six).
    if value_a < value_b:
        return -1
    return 1 if value_b < value_a else 0


# A constraint in a fixed-version entry: an optional operator, then a version up to the next space.
# `~` is npm's tilde range only before a digit: Debian and rpm versions carry `~` inside them.
_CONSTRAINT = re.compile(r"\s*(?P<op>>=|<=|==|!=|~>|\^|~(?=\s*\d)|=|>|<)?\s*(?P<version>[^\s<>=!^~]\S*)")
_ALTERNATIVES = re.compile(r",|\|\|")
# Operators whose version is itself a fixed version: the start of a fixed range or a pinned fix.
_LOWER_BOUNDS = frozenset({None, "=", "==", ">=", "^", "~", "~>"})


def fix_candidates(fixed: str) -> tuple[str, ...]:
    """The versions one fixed-version entry names as fixes, in its order, each once.

    Scanners write a fix as a version (`2.3.2`), several joined by commas (Trivy: `6.0.3.1,
    5.2.4.3`), or a fixed range per branch (Trivy for RustSec: `>= 2.1.3, < 3.0.0`; npm style
    `>=1.2.3 <2.0.0 || >=2.1.0`). The start of each range is the lowest version it fixes. An upper
    bound (`< 3.0.0`) or an exclusive start (`> 2.1.2`, whose first fixed version is not known)
    names no fix.
    """
    found: list[str] = []
    for piece in _ALTERNATIVES.split(fixed):
        for match in _CONSTRAINT.finditer(piece):
            version = match.group("version")
            if match.group("op") in _LOWER_BOUNDS and version not in found:
                found.append(version)
    return tuple(found)


def lowest_fix_above(ecosystem: str, installed: str, fixed_versions: Iterable[str]) -> str | None:
    """The lowest fixed version newer than `installed`, as the scanner wrote it; None when no
    listed fix is newer (all of them fix older branches, or none names a version).

    `fixed_versions` are a finding's entries, each read by `fix_candidates`. Of several spellings
    of the same version, the first listed is returned.
    """
    return _lowest_fix_above(ecosystem, installed, tuple(fixed_versions))


@functools.lru_cache(maxsize=16384)
def _lowest_fix_above(ecosystem: str, installed: str, fixed_versions: tuple[str, ...]) -> str | None:
    best: str | None = None
    for entry in fixed_versions:
        for candidate in fix_candidates(entry):
            if compare(ecosystem, candidate, installed) > 0 and (
                best is None or compare(ecosystem, candidate, best) < 0
            ):
                best = candidate
    return best


_PARSED = 2
"""The tier of `sort_key` of a version its ecosystem parses."""
# An epoch (`1:`) before a version, as dpkg, rpm and pacman write one.
_EPOCH = re.compile(r"\s*[0-9]+:")
# An exclusive start of a fixed range (`> 2.6`): something after that version fixes, but which
# is not known, so `fix_candidates` names no fix for it.
_EXCLUSIVE_START = re.compile(r"(?<![<>=!])>(?!=)")


def no_newer_fix(ecosystem: str, installed: str, fixed_versions: tuple[str, ...]) -> bool:
    """True when every fix the entries `fixed_versions` list is known to be `installed` or older,
    so upgrading to one clears nothing.

    Known means that `installed` and every fix parse in the ecosystem's ordering: entries that
    name no version (none at all, an exclusive range, even beside a fix listed for an older
    branch) or a version that does not parse may still hold a newer fix. Nor is it known when
    only some of them carry an epoch: vulnerability feeds often leave out an rpm's epoch, and
    Grype then compares without it (`1.1.1k-7.el8` fixes `1:1.1.1k-5.el8`), where this ordering
    reads the missing epoch as 0 and the fix as older.

    Answers are kept for the questions asked last: planning asks this of every fixable finding,
    and the same installed versions and fixes come back across the findings of a report (a
    package with several vulnerabilities fixed by one release, one vulnerability in many images'
    packages); each answer took a regular expression per fix, parsed-version lookups and a set.
    """
    return _no_newer_fix(ecosystem, installed, tuple(fixed_versions))


@functools.lru_cache(maxsize=16384)
def _no_newer_fix(ecosystem: str, installed: str, fixed_versions: tuple[str, ...]) -> bool:
    candidates = [c for entry in fixed_versions for c in fix_candidates(entry)]
    versions = (installed, *candidates)
    if not candidates or any(sort_key(ecosystem, v)[0] != _PARSED for v in versions):
        return False
    if len({_EPOCH.match(v) is not None for v in versions}) > 1:
        return False
    if any(_EXCLUSIVE_START.search(entry) for entry in fixed_versions):
        return False
    return lowest_fix_above(ecosystem, installed, fixed_versions) is None


# The release numbers a version starts with (`v1.2.3-rc1` starts with 1, 2, 3).
_RELEASE = re.compile(r"[vV]?(\d+(?:\.\d+)*)")


def _release(version: str) -> tuple[int, ...] | None:
    found = _RELEASE.match(version.strip())
    return tuple(int(part) for part in found.group(1).split(".")) if found else None


def _on_fixed_branch(ecosystem: str, version: str, fixed_versions: tuple[str, ...]) -> bool:
    """Whether `version` is at or after a listed fix on that fix's own branch, or after them all.

    A finding that lists a fix per branch (`1.2.3, 1.3.5`: the 1.3 branch was still vulnerable
    before 1.3.5) says nothing of a version between two of them but that it is newer than the
    older fix. It is taken to be on that fix's branch only when it has the fix's release numbers
    but the last (1.2.10 is on the branch of 1.2.3; 1.3.0 is not), else as not fixed.
    """
    candidates = [c for entry in fixed_versions for c in fix_candidates(entry)]
    below = [c for c in candidates if compare(ecosystem, c, version) <= 0]
    if not below:
        return False
    if len(below) == len(candidates):
        return True
    nearest = below[0]
    for candidate in below[1:]:
        if compare(ecosystem, candidate, nearest) > 0:
            nearest = candidate
    if compare(ecosystem, nearest, version) == 0:
        return True
    fix, release = _release(nearest), _release(version)
    if fix is None or release is None:
        return False
    branch = fix[: max(1, len(fix) - 1)]
    return release[: len(branch)] == branch


def upgrade_target(ecosystem: str, findings: Iterable[tuple[str, tuple[str, ...]]]) -> str | None:
    """The one listed version that fixes every finding of a package, each given as its installed
    version and fixed-version entries; None when no listed fix is newer than any installed version.

    It starts as the highest, over the findings, of the lowest fix newer than the installed
    version. A finding with fixes on several branches may still be vulnerable there (`1.2.3, 1.3.5`
    is not fixed by 1.3.0, which another finding asks for): the target then moves up to that
    finding's next fix, and the findings are looked at again, until every one is fixed by it.
    Findings whose every listed fix is older than what is installed take no part.

    Targets are kept for the findings seen last: planning asks this of every package, most packages
    of a large report have one or two findings, and the same versions and fixes come back again
    and again (one library installed in several places, one vulnerability in many packages). The
    comparisons were kept already; the walk over them cost several times more than the lookups.
    """
    return _upgrade_target(ecosystem, tuple(findings))


@functools.lru_cache(maxsize=16384)
def _upgrade_target(ecosystem: str, findings: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    # Each finding with a fix newer than its installed version, and that fix.
    lows = [
        (fixed, low)
        for installed, fixed in findings
        if (low := lowest_fix_above(ecosystem, installed, fixed)) is not None
    ]
    if not lows:
        return None
    target = lows[0][1]
    for _fixed, low in lows[1:]:
        if compare(ecosystem, low, target) > 0:
            target = low
    fixable = [fixed for fixed, _low in lows]
    moved = True
    while moved:
        moved = False
        for fixed in fixable:
            if _on_fixed_branch(ecosystem, target, fixed):
                continue
            # Not fixed here: the finding's next fix, newer than the target (there is one, since
            # a target at or after every fix is on a fixed branch).
            following = lowest_fix_above(ecosystem, target, fixed)
            if following is not None:
                target, moved = following, True
    return target
