"""Version ordering: each ecosystem's own documented cases, the fallbacks, and every fixable finding
of the report corpus."""

from __future__ import annotations

import sys
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate import versions as versions_module
from gate.model import Package
from gate.scanners.ingest import load_report
from gate.versions import (
    PACKAGE_TYPES,
    Ecosystem,
    compare,
    ecosystem_of,
    fix_candidates,
    lowest_fix_above,
    no_newer_fix,
    sort_key,
    upgrade_target,
)
from tests.support.corpus import REPORT_KINDS, corpus_files


def assert_ascending(ecosystem: str, versions: list[str]) -> None:
    """Each version is older than the next, and sorting a shuffled copy gives the list back."""
    for older, newer in pairwise(versions):
        assert compare(ecosystem, older, newer) == -1, (older, newer)
        assert compare(ecosystem, newer, older) == 1, (newer, older)
    shuffled = versions[1::2] + versions[::2]
    assert sorted(shuffled, key=lambda v: sort_key(ecosystem, v)) == versions


# Debian policy 5.6.12: "~" sorts before anything, even the end of a part; then letters, then
# non-letters; the epoch wins over everything else; a missing revision equals revision 0.
def test_debian_tilde_sorts_before_everything_even_the_end() -> None:
    assert_ascending("deb", ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+"])
    assert_ascending("deb", ["1.0~rc1", "1.0"])


def test_debian_epoch_security_updates_and_numbers() -> None:
    assert compare("deb", "1:1.0", "2.0") == 1
    assert_ascending("deb", ["1.0+deb12u3", "1.0+deb12u4"])
    assert_ascending("deb", ["7.88.1-10+deb12u4", "7.88.1-10+deb12u5", "7.88.1-11"])
    assert_ascending("deb", ["1.1.0k-1~deb9u1", "1.1.0k-1", "1.1.0l-1~deb9u1"])
    assert_ascending("deb", ["1.9", "1.10"])
    assert compare("deb", "1.0", "1.0-0") == 0


# rpm: rpmvercmp with epoch and release; "~" before the base version, "^" after it but before the
# next one (rpm.org's version comparison documentation).
def test_rpm_epoch_release_tilde_and_caret() -> None:
    assert compare("rpm", "1:1.0-1", "2.0-1") == 1
    assert_ascending("rpm", ["1.0-1.el8", "1.0-2.el8", "1.0-10.el8"])
    assert_ascending("rpm", ["1.0~rc1-1", "1.0-1"])
    assert_ascending("rpm", ["1.0", "1.0^20160101", "1.0.1"])
    assert_ascending("rpm", ["1.0~rc1", "1.0~rc1^git1", "1.0"])
    assert_ascending("rpm", ["1:1.1.1k-4.el8", "1:1.1.1k-5.el8_5"])
    assert_ascending("rpm", ["32:9.11.4-26.P2.amzn2.5.2", "99:9.11.4-26.P2.amzn2.13"])


# apk-tools: pre-release suffixes before the release, `_p` after it, then the package revision.
def test_apk_suffixes_and_revisions() -> None:
    assert_ascending("apk", ["1.0_alpha1", "1.0_beta1", "1.0_pre1", "1.0_rc1", "1.0", "1.0_p1"])
    assert_ascending("apk", ["1.0-r0", "1.0-r1", "1.0-r9", "1.0-r10", "1.0.1-r0"])
    assert_ascending("apk", ["1.1.1c-r0", "1.1.1d-r0"])
    assert_ascending("apk", ["1.0_rc1-r5", "1.0-r0"])


# PEP 440's own example of every suffix in order ("Summary of permitted suffixes and relative
# ordering").
def test_pep440_pre_post_dev_and_local_releases() -> None:
    assert_ascending(
        "pypi",
        [
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        ],
    )
    assert compare("pypi", "1.0.post1", "1.0") == 1
    assert compare("pypi", "1.0rc1", "1.0") == -1
    assert compare("pypi", "1.0", "1.0.0") == 0


# semver.org 2.0.0, item 11's example; build metadata does not take part in precedence.
def test_semver_pre_releases() -> None:
    order = (
        "1.0.0-alpha 1.0.0-alpha.1 1.0.0-alpha.beta 1.0.0-beta 1.0.0-beta.2 1.0.0-beta.11 1.0.0-rc.1 1.0.0"
    )
    for ecosystem in ("npm", "cargo", "semver"):
        assert_ascending(ecosystem, order.split())
    assert_ascending("npm", ["1.0.0", "2.0.0", "2.1.0", "2.1.1"])
    assert compare("npm", "1.0.0+build.1", "1.0.0") == 0


def test_go_module_versions() -> None:
    assert_ascending(
        "golang",
        ["v0.0.0-20200220183623-bac4c82f6975", "v0.0.0-20210101000000-abcdefabcdef", "v0.1.0"],
    )
    assert_ascending("golang", ["v1.2.3-pre", "v1.2.3", "v1.2.4-0.20200101000000-abcdefabcdef", "v1.2.4"])
    assert_ascending("golang", ["v2.7.1+incompatible", "v2.8.0"])
    assert compare("golang", "v0.3.6", "0.3.7") == -1


def test_the_go_standard_library_at_the_toolchains_version() -> None:
    # Syft (Grype) writes the `stdlib` of a Go binary as `go1.20.4`; the fixes are `1.19.10`,
    # `1.20.5` (one per Go release branch).
    assert_ascending("golang", ["1.19.10", "go1.20.4", "v1.20.5", "go1.21.0"])
    assert upgrade_target("golang", [("go1.20.4", ("1.19.10", "1.20.5"))]) == "1.20.5"
    assert no_newer_fix("golang", "go1.21.0", ("1.19.10", "1.20.5"))
    assert not no_newer_fix("golang", "go1.20.4", ("1.19.10", "1.20.5"))


def test_rubygems_maven_nuget_composer() -> None:
    # Gem::Version: a letter makes a pre-release.
    assert_ascending("gem", ["1.0.a", "1.0.b1", "1.0", "1.0.1"])
    assert_ascending("gem", ["5.2.4.3", "6.0.2.1", "6.0.3.1"])
    # Maven's ComparableVersion: known qualifiers in order, a release equals its `ga`/`final`.
    assert_ascending(
        "maven",
        ["1.0-alpha-1", "1.0-beta-1", "1.0-milestone-1", "1.0-rc-1", "1.0-SNAPSHOT", "1.0", "1.0-sp-1"],
    )
    assert compare("maven", "1.0", "1.0.0") == 0
    assert compare("maven", "1.0", "1.0.Final") == 0
    # NuGet: semver 2.0 with a fourth number; trailing zeros do not count.
    assert_ascending("nuget", ["1.0.0-alpha", "1.0.0-beta", "1.0.0", "1.0.0.1", "1.0.1"])
    assert compare("nuget", "1.0", "1.0.0.0") == 0
    # Composer: stability flags in any case.
    assert_ascending("composer", ["1.0.0-alpha1", "1.0.0-beta1", "1.0.0-RC1", "1.0.0", "1.0.1"])


def test_an_unknown_ecosystem_orders_like_rpmvercmp() -> None:
    for name in ("generic", "no-such-ecosystem", ""):
        assert_ascending(name, ["1.9", "1.10", "1.10a", "2:0.1"])
        assert_ascending(name, ["2.2.5-r0", "2.2.7-r0", "2.2.7-r1"])


def test_unparsable_versions_sort_first_and_never_raise() -> None:
    # Snyk reports some Go modules at a bare commit: older than any real version.
    assert compare("golang", "#c2843e01d9a2", "0.0.0-20200220183623-bac4c82f6975") == -1
    assert compare("deb", "", "0") == -1
    assert compare("deb", "  ", "") == 0
    assert compare("pypi", "not a version", "1.0") == -1
    assert compare("pypi", "zz", "aa") == 1  # among themselves: by text
    assert compare("alpm", "²", "0") == -1  # a Unicode digit univers would pass to int()


_ODD_TEXT = st.text(st.sampled_from(list("0123456789.-_~^+:abcrvpgitlhRC #²")), max_size=16) | st.text(
    max_size=8
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([*Ecosystem, "unknown"]), _ODD_TEXT, _ODD_TEXT, _ODD_TEXT)
def test_any_text_orders_consistently(ecosystem: str, a: str, b: str, c: str) -> None:
    result = compare(ecosystem, a, b)
    assert result in (-1, 0, 1)
    assert compare(ecosystem, b, a) == -result
    assert compare(ecosystem, a, a) == 0
    if result <= 0 and compare(ecosystem, b, c) <= 0:
        assert compare(ecosystem, a, c) <= 0
    fix = lowest_fix_above(ecosystem, a, [b, c])
    assert fix is None or compare(ecosystem, fix, a) == 1


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("2.3.2", ("2.3.2",)),
        (">= 2.3.2", ("2.3.2",)),
        ("6.0.3.1, 5.2.4.3", ("6.0.3.1", "5.2.4.3")),
        (">= 2.1.3, < 3.0.0", ("2.1.3",)),
        (">=1.2.3 <2.0.0 || >=2.1.0", ("1.2.3", "2.1.0")),
        ("1:1.0~rc1-2", ("1:1.0~rc1-2",)),
        ("^1.2.3, ~1.3.0, ~> 2.0, ==3.0, =4.0", ("1.2.3", "1.3.0", "2.0", "3.0", "4.0")),
        ("> 2.1.2", ()),
        ("< 3.0.0", ()),
        ("", ()),
        ("1.0, 1.0", ("1.0",)),
    ],
)
def test_fix_candidates(entry: str, expected: tuple[str, ...]) -> None:
    assert fix_candidates(entry) == expected


def test_lowest_fix_above_the_installed_version() -> None:
    # Trivy: fixes of two branches, the installed one on the newer branch.
    assert lowest_fix_above("gem", "6.0.2.1", ["6.0.3.1", "5.2.4.3"]) == "6.0.3.1"
    assert lowest_fix_above("gem", "5.2.0", ["6.0.3.1", "5.2.4.3"]) == "5.2.4.3"
    # Trivy for RustSec: fixed ranges per branch.
    assert lowest_fix_above("cargo", "1.9.0", [">= 3.1.0", ">= 2.1.3, < 3.0.0"]) == "2.1.3"
    assert lowest_fix_above("semver", "1.27.0", ["1.24.14", "1.25.9", "1.26.4", "1.27.1"]) == "1.27.1"
    # Ordered by the ecosystem, not by text: `~` makes Debian's backport the older one.
    assert lowest_fix_above("deb", "1.0-1", ["1.0-1+deb12u1", "1.0-1+deb12u1~bpo1"]) == "1.0-1+deb12u1~bpo1"
    assert lowest_fix_above("deb", "1.0-1", ["1.0-2", "1.0-1+deb12u1"]) == "1.0-1+deb12u1"
    # The first spelling of the same version.
    assert lowest_fix_above("golang", "v0.3.6", ["0.3.7", "v0.3.7"]) == "0.3.7"


def test_the_upgrade_target_is_on_a_fixed_branch_of_every_finding() -> None:
    assert upgrade_target("npm", [("1.2.0", ("1.2.3, 1.3.5",)), ("1.2.0", ("1.3.0",))]) == "1.3.5"
    assert upgrade_target("npm", [("1.2.0", ("1.2.3, 1.3.0",)), ("1.2.0", ("1.2.10",))]) == "1.2.10"
    assert upgrade_target("golang", [("v1.2.0", ("v1.2.3", "v1.3.5")), ("v1.2.0", ("v1.3.0",))]) == "v1.3.5"
    # A finding whose fixes are all older than what is installed takes no part.
    assert upgrade_target("deb", [("1.0-2", ("1.0-1",)), ("1.0-2", ("1.0-3",))]) == "1.0-3"
    assert upgrade_target("deb", [("1.0-2", ("1.0-1",))]) is None


def test_the_upgrade_target_of_findings_seen_before_is_kept() -> None:
    # Planning a large report asks for the targets of many packages with the same versions and
    # fixes; the answer is kept, whether the findings come as a list, a tuple or a generator.
    from gate.versions import _upgrade_target

    findings = [("1.4.0", ("1.4.7, 1.5.2",)), ("1.4.1", ("1.5.0",))]
    first = upgrade_target("npm", findings)
    before = _upgrade_target.cache_info().hits
    assert upgrade_target("npm", tuple(findings)) == first == "1.5.2"
    assert upgrade_target("npm", (f for f in findings)) == first
    assert _upgrade_target.cache_info().hits == before + 2


def test_no_fix_above_the_installed_version() -> None:
    assert lowest_fix_above("deb", "2.0-1", ["1.0-1", "2.0-1"]) is None
    assert lowest_fix_above("npm", "1.0.0", []) is None
    assert lowest_fix_above("npm", "1.0.0", ["> 1.0.0", "< 2.0.0"]) is None


def test_the_ecosystem_comes_from_the_purl_first() -> None:
    assert ecosystem_of(Package("x", "1", "java-archive", "pkg:maven/g/x@1")) is Ecosystem.MAVEN
    assert ecosystem_of(Package("x", "1", "python-pkg", "pkg:pypi/x@1")) is Ecosystem.PYPI
    assert (
        ecosystem_of(Package("kubelet", "1", "kubernetes", "pkg:k8s/k8s.io%2Fkubelet@1")) is Ecosystem.SEMVER
    )
    assert ecosystem_of(Package("x", "1", "rpm", "pkg:rpm/redhat/x@1")) is Ecosystem.RPM
    # A purl type that names no ordering, or a malformed purl, leaves it to the package type.
    assert ecosystem_of(Package("x", "1", "gemspec", "pkg:bitnami/x@1")) is Ecosystem.GEM
    assert ecosystem_of(Package("x", "1", "debian", "not a purl")) is Ecosystem.DEB
    assert ecosystem_of(Package("x", "1", "linux")) is Ecosystem.GENERIC
    assert ecosystem_of(Package("x", "1", "Alpine")) is Ecosystem.APK


_PLACEHOLDER_VERSIONS = {"anchore-grype__TestJsonImgsPresenter-v0.7.0.golden"}
"""Grype 0.7's presenter test output: its fixes are words (`the-next-version`), not versions."""


def _corpus_findings() -> list[tuple[str, Package, tuple[str, ...]]]:
    out = []
    for kind in REPORT_KINDS:
        for path in corpus_files(kind):
            if path.name in _PLACEHOLDER_VERSIONS:
                continue
            for finding in load_report(path).findings:
                out.append((Path(path).name, finding.package, finding.fixed_versions))
    return out


# Snyk's `linux` names no distribution; its findings order as generic.
_TYPES_WITHOUT_A_SCHEME = {"linux"}


def test_every_package_type_of_the_corpus_has_its_ecosystem() -> None:
    types = {package.type for _, package, _ in _corpus_findings()}
    assert types - _TYPES_WITHOUT_A_SCHEME <= set(PACKAGE_TYPES), types - set(PACKAGE_TYPES)
    for _, package, _ in _corpus_findings():
        if package.type not in _TYPES_WITHOUT_A_SCHEME:
            assert ecosystem_of(package) is not Ecosystem.GENERIC, package
            # Every installed version of the corpus parses in its ecosystem, but Snyk's bare commit.
            if package.version != "#c2843e01d9a2":
                assert sort_key(ecosystem_of(package), package.version)[0] == 2, package


def test_every_fixable_finding_of_the_corpus_has_a_fix_above_its_version() -> None:
    fixable = [(name, package, fixed) for name, package, fixed in _corpus_findings() if fixed]
    assert len(fixable) > 100
    for name, package, fixed in fixable:
        ecosystem = ecosystem_of(package)
        fix = lowest_fix_above(ecosystem, package.version, fixed)
        assert fix is not None, (name, package, fixed)
        assert compare(ecosystem, fix, package.version) == 1, (name, package, fixed, fix)
        # It is one of the listed fixes, and no other listed fix lies between it and the installed one.
        candidates = [c for entry in fixed for c in fix_candidates(entry)]
        assert fix in candidates
        assert not [
            c
            for c in candidates
            if compare(ecosystem, c, package.version) == 1 and compare(ecosystem, c, fix) == -1
        ], (name, package, fixed, fix)


@pytest.mark.parametrize(
    ("ecosystem", "installed", "fixed", "expected"),
    [
        ("pypi", "1.2", ("1.2",), True),  # the fix is what is installed
        ("pypi", "1.3", ("1.2", "1.1"), True),  # every fix is older
        ("pypi", "1.2", ("1.3",), False),  # a newer fix
        ("pypi", "1.2", (), False),  # no fix named: not known
        ("pypi", "2.5", ("1.2.3, > 2.6",), False),  # an open range may hold a newer fix
        ("rpm", "1:1.1.1k-5.el8", ("1.1.1k-7.el8",), False),  # an epoch on one side only
        ("deb", "1:2.0-1", ("1:1.9-1",), True),  # epochs on both sides, older
        ("npm", "1.0.0", ("the-next-version",), False),  # a fix that does not parse
    ],
)
def test_no_newer_fix_only_when_every_fix_is_known_to_be_no_newer(
    ecosystem: str, installed: str, fixed: tuple[str, ...], expected: bool
) -> None:
    assert no_newer_fix(ecosystem, installed, fixed) is expected


# Questions that differ in one part only, and whose answers differ: the ecosystem (`~` sorts
# before the end for Debian; pip cannot parse it), the installed version, the fixes.
Question = tuple[str, str, tuple[str, ...]]
_KEPT_QUESTIONS: list[Question] = [
    ("deb", "1.0", ("1.0~rc1",)),
    ("pypi", "1.0", ("1.0~rc1",)),
    ("pypi", "1.3", ("1.2",)),
    ("pypi", "1.1", ("1.2",)),
    ("pypi", "1.2", ("1.1",)),
    ("pypi", "1.2", ("1.1", "1.3")),
    ("rpm", "1:1.1.1k-5.el8", ("1.1.1k-7.el8",)),
    ("rpm", "1:1.1.1k-5.el8", ("1:1.1.1k-4.el8",)),
]


def _fresh_no_newer_fix(ecosystem: str, installed: str, fixed: tuple[str, ...]) -> bool:
    versions_module._no_newer_fix.cache_clear()
    return no_newer_fix(ecosystem, installed, fixed)


def test_no_newer_fix_questions_differ_in_their_answers() -> None:
    answers = [_fresh_no_newer_fix(*question) for question in _KEPT_QUESTIONS]
    assert answers == [True, False, True, False, True, False, False, True]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_KEPT_QUESTIONS), min_size=1, max_size=20))
def test_no_newer_fix_answers_each_question_as_asked_alone(questions: list[Question]) -> None:
    # Answers are kept for later questions: asked in any order, each is what it is asked alone.
    versions_module._no_newer_fix.cache_clear()
    in_turn = [no_newer_fix(*question) for question in questions]
    assert in_turn == [_fresh_no_newer_fix(*question) for question in questions]


def _clear_caches() -> None:
    for cached in (
        versions_module.sort_key,
        versions_module.compare,
        versions_module._version_classes,
        versions_module._lowest_fix_above,
        versions_module._no_newer_fix,
        versions_module._upgrade_target,
    ):
        cached.cache_clear()


def test_a_version_library_that_cannot_be_imported_is_an_error_not_an_unparsable_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # univers is imported on the first version ordered: an installation without it must fail
    # there, not order every version as one that does not parse.
    _clear_caches()
    try:
        monkeypatch.setitem(sys.modules, "univers", None)
        with pytest.raises(ImportError):
            compare("deb", "1.0-1", "1.0-2")
    finally:
        monkeypatch.undo()
        _clear_caches()
    assert compare("deb", "1.0-1", "1.0-2") == -1
