"""Allowlist globs on untrusted paths and image references: linear in the text, whatever the glob.

Paths and image references come from reports. A backtracking matcher tries every way each `**` or
`*` could split the text, and `a/**/b/**/c/**/d` against three 6 KB paths took 84 s; these paths
are 64 KB. How long matching takes is measured by bench/bench_globs.py, never asserted here: on a
backtracking matcher these tests do not finish.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.enrich.purls import purl_matches
from gate.model import Finding
from gate.policy import match
from gate.policy.evaluation import Disposition
from gate.policy.match import AllowlistIndex, image_glob, mismatch, path_glob, path_matches
from gate.policy.model import Policy
from gate.scanners.ingest import load_report
from tests.support.corpus import corpus_file
from tests.support.factories import entry, evaluation_of, finding

KB64 = 64 * 1024
NESTED = "a/**/b/**/c/**/d"


def deep(tail: str) -> str:
    """A path of 64 KB: `a/`, then directories that almost match the glob, then `tail`."""
    filler = "b/c/x/"
    return "a/" + filler * ((KB64 - len(tail)) // len(filler)) + tail


def test_nested_globstars_on_64_kb_paths() -> None:
    glob = path_glob(NESTED)
    assert glob.fullmatch(deep("b/c/d")) is not None
    assert glob.fullmatch(deep("b/c/e")) is None
    assert glob.fullmatch(deep("b/c/d/")) is None
    assert glob.fullmatch("x" * KB64) is None
    assert path_glob("**/*/*/*/*/*/z").fullmatch("y/" * (KB64 // 2)) is None


def test_image_globs_on_a_64_kb_reference() -> None:
    glob = image_glob("*a*a*a*a*a*b")
    assert glob.fullmatch("a" * KB64) is None
    assert glob.fullmatch("a" * KB64 + "b") is not None


def test_an_allowlist_path_decides_findings_with_64_kb_paths() -> None:
    findings = [
        finding("CVE-2024-0001", pkg="lib", path=deep("b/c/d/lib.jar")),
        finding("CVE-2024-0001", pkg="lib", path=deep("b/c/e/lib.jar")),
        finding("CVE-2024-0001", pkg="lib", path=deep("b/c/d/lib.jar")[:-1]),
    ]
    allow = entry(path=NESTED + "/*.jar", reason="shaded copy, never loaded")
    evaluation = evaluation_of(*findings, policy=Policy(source="policy.yaml", allowlist=(allow,)))
    assert [d.disposition for d in evaluation.decisions] == [
        Disposition.ALLOWLISTED,
        Disposition.BLOCKING,
        Disposition.BLOCKING,
    ]


def test_an_npm_scope_matches_however_the_purl_writes_it() -> None:
    # Trivy writes the scope percent-encoded (`%40babel`), people write `@babel`.
    scoped = finding(
        "CVE-2024-0001", pkg="@babel/traverse", type="npm", purl="pkg:npm/%40babel/traverse@7.23.0"
    )
    for package in ("pkg:npm/@babel/traverse", "pkg:npm/%40babel/traverse", "pkg:npm/@babel/traverse@7.23.0"):
        ev = evaluation_of(scoped, policy=Policy(source="p", allowlist=(entry(package=package),)))
        assert ev.decisions[0].disposition is Disposition.ALLOWLISTED, package
    for package in ("pkg:npm/@babel/core", "pkg:npm/@babel/traverse@7.22.0", "pkg:npm/traverse"):
        ev = evaluation_of(scoped, policy=Policy(source="p", allowlist=(entry(package=package),)))
        assert ev.decisions[0].disposition is not Disposition.ALLOWLISTED, package


def test_an_epoch_matches_however_the_purl_writes_it() -> None:
    """Trivy writes a Debian or RPM epoch as a qualifier (the corpus's centos-7 openssl-libs), Snyk
    and Grype in the version (the corpus's Snyk zlib1g): an entry written either way matches."""
    trivy = load_report(corpus_file("trivy", "centos-7.json.golden"))
    snyk = load_report(corpus_file("snyk", "snyk-to-html__test-report-container-with-app-vulns.json"))
    cases = (
        (
            next(f for f in trivy.findings if f.package.name == "openssl-libs"),
            (
                "pkg:rpm/centos/openssl-libs@1:1.0.2k-16.el7",
                "pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?epoch=1",
            ),
        ),
        (
            next(f for f in snyk.findings if f.package.name == "zlib1g"),
            (
                "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1+deb10u1",
                "pkg:deb/debian/zlib1g@1.2.11.dfsg-1+deb10u1?epoch=1",
            ),
        ),
    )
    for found, packages in cases:
        for package in (*packages, packages[0].replace("@1:", "@2:")):
            wanted = entry(0, found.vulnerability_id, package=package)
            ev = evaluation_of(found, policy=Policy(source="p", allowlist=(wanted,)))
            allowlisted = ev.decisions[0].disposition is Disposition.ALLOWLISTED
            assert allowlisted is ("@2:" not in package), package


def test_a_java_package_name_matches_as_either_scanner_writes_it() -> None:
    """Trivy names a Java package `groupId:artifactId` (the corpus's spring4shell spring-beans),
    Grype its artifactId (the corpus's httpclient), both with the same Maven purl: an entry
    written against either report matches the other's finding; another group does not."""
    trivy = load_report(corpus_file("trivy", "spring4shell-jre8.json.golden"))
    grype = load_report(corpus_file("grype", "ghsa-test.json"))
    beans = next(f for f in trivy.findings if f.package.name == "org.springframework:spring-beans")
    client = next(f for f in grype.findings if f.package.name == "httpclient")
    # The same packages as the other scanner reports them: the name changes, the purl does not.
    grype_beans = replace(beans, package=replace(beans.package, name="spring-beans"))
    trivy_client = replace(
        client, package=replace(client.package, name="org.apache.httpcomponents:httpclient")
    )
    cases = (
        (beans, "spring-beans", True),
        (grype_beans, "org.springframework:spring-beans", True),
        (grype_beans, "spring-beans", True),
        (client, "org.apache.httpcomponents:httpclient", True),
        (trivy_client, "httpclient", True),
        (grype_beans, "org.example:spring-beans", False),
        (beans, "org.example:spring-beans", False),
        (client, "org.apache.httpcomponents:httpcore", False),
        (grype_beans, ":spring-beans", False),
        (grype_beans, "spring", False),
    )
    for found, package, matches in cases:
        wanted = entry(0, found.vulnerability_id, package=package)
        ev = evaluation_of(found, policy=Policy(source="p", allowlist=(wanted,)))
        allowlisted = ev.decisions[0].disposition is Disposition.ALLOWLISTED
        assert allowlisted is matches, (found.package.name, package)


def test_a_java_name_does_not_match_another_ecosystems_purl() -> None:
    npm = finding("CVE-2024-0001", pkg="spring-beans", type="npm", purl="pkg:npm/spring-beans@1.0.0")
    assert mismatch(entry(0, package="org.springframework:spring-beans"), npm, None) is not None
    assert mismatch(entry(0, package="spring-beans"), npm, None) is None


_IDS = st.sampled_from(["CVE-2024-0001", "cve-2024-0001", "GHSA-aaaa-bbbb-cccc", "CVE-2024-0002", "DSA-1"])
# Packages as entries and findings give them: names that differ in case or in `_` and `-` only,
# names one of which holds the other, purls whose text is not plain (percent-encoded, `oci`), and
# text that is no purl.
_ENTRY_PACKAGES = [
    None, "openssl", "zlib", "foo-bar", "pkg:deb/debian/openssl", "pkg:deb/debian/zlib1g",
    "pkg:deb/debian/openssl-libs", "pkg:pypi/Foo_Bar", "pkg:pypi/foo-bar", "pkg:npm/%40babel/core",
    "pkg:npm/@babel/core", "pkg:oci/openssl", "pkg:", "pkg:deb/debian/openssl@3.0.2-1",
    "pkg:generic/Foo_Bar", "spring-beans", "org.springframework:spring-beans", "org.example:spring-beans",
    "pkg:maven/org.springframework/spring-beans",
]  # fmt: skip
_PURLS = [
    None, "pkg:deb/debian/openssl@3.0.2-1", "pkg:deb/debian/zlib1g@1.0?arch=amd64",
    "pkg:deb/debian/openssl-libs@3.0.2-1", "pkg:pypi/foo-bar@1.0", "pkg:pypi/Foo_Bar@1.0",
    "pkg:npm/%40babel/core@7.0.0", "pkg:npm/@babel/core@7.0.0", "pkg:oci/openssl@sha256%3Aabc", "pkg:",
    "pkg:generic/Foo_Bar@1.0", "pkg:maven/org.springframework/spring-beans@5.3.15",
    "pkg:maven/spring-beans/spring-beans@5.3.15", "pkg:npm/spring-beans@1.0.0",
]  # fmt: skip
_ENTRIES = st.lists(
    st.builds(
        lambda vid, package, version, path: (vid, package, version, path),
        _IDS,
        st.sampled_from(_ENTRY_PACKAGES),
        st.sampled_from([None, "3.0.2-1", "1.0"]),
        st.sampled_from([None, "usr/**", "app/*"]),
    ),
    max_size=12,
)
_FINDINGS = st.builds(
    lambda vid, aliases, pkg, purl, path: finding(vid, aliases=aliases, pkg=pkg, purl=purl, path=path),
    _IDS,
    st.lists(_IDS, max_size=2, unique=True).map(tuple),
    st.sampled_from(
        ["openssl", "zlib", "foo-bar", "@babel/core", "spring-beans", "org.springframework:spring-beans"]
    ),
    st.sampled_from(_PURLS),
    st.sampled_from(["", "usr/lib/x", "app/y"]),
)


@settings(max_examples=400)
@given(_ENTRIES, st.lists(_FINDINGS, min_size=1, max_size=6))
def test_first_match_is_the_first_of_every_match(
    drawn: list[tuple[str, str | None, str | None, str | None]], findings: list[Finding]
) -> None:
    # `first_match` skips the generator of `matching` for speed, and both skip the entries for
    # other ids (and purls whose text names another package): all three must agree.
    entries = [
        entry(index, vid, package=package, version=version, path=path)
        for index, (vid, package, version, path) in enumerate(drawn)
    ]
    index = AllowlistIndex(entries)
    for found in findings:
        every = list(index.matching(found, None))
        assert index.first_match(found, None) == (every[0] if every else None)
        assert every == [e for e in entries if mismatch(e, found, None) is None]


@settings(max_examples=400)
@given(_ENTRIES, _FINDINGS)
def test_every_match_of_a_name_or_purl_is_kept(
    drawn: list[tuple[str, str | None, str | None, str | None]], found: Finding
) -> None:
    # A Java name matching across scanners only adds matches: whatever matched by the finding's
    # name or its package URL alone still does.
    for index, (vid, package, version, path) in enumerate(drawn):
        wanted = entry(index, vid, package=package, version=version, path=path)
        if package is None:
            continue
        before = (
            package == found.package.name
            if not package.startswith("pkg:")
            else (
                found.package.purl is not None
                and (package == found.package.purl or purl_matches(package, found.package.purl))
            )
        )
        if before:
            assert match.package_matches(package, found)
        if mismatch(replace(wanted, package=None), found, None) is None and before:
            assert mismatch(wanted, found, None) is None


@pytest.mark.parametrize(
    ("fields", "image", "why"),
    [
        ({}, None, None),
        (
            {"vulnerability": "CVE-2024-9999"},
            None,
            "vulnerability 'CVE-2024-9999' is not one of the finding's ids",
        ),
        # A name is compared with the finding's name, not with its package URL.
        ({"package": "zlib"}, None, "package 'zlib' differs from 'openssl'"),
        (
            {"package": "pkg:deb/debian/zlib1g"},
            None,
            "package 'pkg:deb/debian/zlib1g' differs from 'pkg:deb/debian/openssl@3.0.2-1'",
        ),
        ({"version": "3.0.1"}, None, "version '3.0.1' differs from the installed '3.0.2-1'"),
        ({"path": "app/**"}, None, "path 'app/**' does not match '/usr/lib/x'"),
        ({"path": "/usr/**"}, None, None),
        ({"image": "ghcr.io/acme/*"}, None, "the image reference is unknown"),
        (
            {"image": "ghcr.io/acme/*"},
            "docker.io/other:1",
            "image 'ghcr.io/acme/*' does not match 'docker.io/other:1'",
        ),
        ({"image": "ghcr.io/acme/*"}, "ghcr.io/acme/app:1", None),
        # Every field that differs, in the order they are compared; one that matches is not named.
        (
            {"package": "zlib", "version": "3.0.1", "path": "/usr/**", "image": "ghcr.io/acme/*"},
            "docker.io/other:1",
            "package 'zlib' differs from 'openssl'; version '3.0.1' differs from the installed "
            "'3.0.2-1'; image 'ghcr.io/acme/*' does not match 'docker.io/other:1'",
        ),
        # An entry for another vulnerability: its other fields are beside the point.
        (
            {"vulnerability": "CVE-2024-9999", "package": "zlib"},
            None,
            "vulnerability 'CVE-2024-9999' is not one of the finding's ids",
        ),
    ],
)
def test_mismatch_words_every_field_that_differs(
    fields: dict[str, str], image: str | None, why: str | None
) -> None:
    found = finding(
        "CVE-2024-0001",
        pkg="openssl",
        version="3.0.2-1",
        purl="pkg:deb/debian/openssl@3.0.2-1",
        path="/usr/lib/x",
    )
    wanted = entry(0, fields.pop("vulnerability", "CVE-2024-0001"), **fields)
    assert mismatch(wanted, found, image) == why
    assert (AllowlistIndex([wanted]).first_match(found, image) is None) is (why is not None)


_PATH_TEXT = st.text(alphabet="ab/.-_ \n\\é", max_size=12)


@settings(max_examples=400, deadline=None)
@given(_PATH_TEXT, st.sampled_from(["", "**", "/**", "*", "?", "[ab]", "**/a"]), _PATH_TEXT)
def test_path_matches_as_the_glob_does(head: str, tail: str, path: str) -> None:
    # Plain globs and plain directories with `**` are compared as text, the others run by RE2:
    # both must say what the compiled glob says, leading `/`, newlines and non-ASCII text too.
    pattern = head + tail
    expected = path_glob(pattern).fullmatch(path.lstrip("/")) is not None
    assert path_matches(pattern, path) is expected
    assert path_matches(pattern, pattern.lstrip("/").replace("**", "x/y")) is (
        path_glob(pattern).fullmatch(pattern.lstrip("/").replace("**", "x/y")) is not None
    )


def test_plain_path_globs_are_compared_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # The allowlist's usual globs (`srv/app/**`, an exact path) never reach RE2's Python wrapper,
    # which cost more than the rest of the matching of a report whose findings each have a path.
    def no_glob(pattern: str) -> None:
        raise AssertionError(f"{pattern!r} was compiled")

    monkeypatch.setattr(match, "path_glob", no_glob)
    assert match.path_matches("srv/app/**", "/srv/app/lib/x.jar")
    assert not match.path_matches("/srv/app/**", "srv/ap/lib/x.jar")
    assert match.path_matches("usr/lib/x.so", "/usr/lib/x.so")
    assert not match.path_matches("usr/lib/x.so", "usr/lib/x.so.1")


def test_a_package_url_entry_against_a_finding_without_one_says_so() -> None:
    found = finding("CVE-2024-0001", pkg="openssl")
    wanted = entry(0, "CVE-2024-0001", package="pkg:deb/debian/openssl")
    assert mismatch(wanted, found, None) == (
        "package 'pkg:deb/debian/openssl' is a package URL, and the finding ('openssl') has none"
    )


def test_only_a_maven_purl_lets_a_name_stand_for_its_last_part() -> None:
    """A Go module or an npm scope is named whole: its purl's last part (`gin`, `core`) is no
    name of it, as an artifactId is of a Java package."""
    go = finding(
        "CVE-2024-0001",
        pkg="github.com/gin-gonic/gin",
        type="gomod",
        purl="pkg:golang/github.com/gin-gonic/gin@v1.9.0",
    )
    npm = finding("CVE-2024-0001", pkg="@babel/core", type="npm", purl="pkg:npm/%40babel/core@7.0.0")
    assert mismatch(entry(0, package="gin"), go, None) is not None
    assert mismatch(entry(0, package="core"), npm, None) is not None
    assert mismatch(entry(0, package="github.com/gin-gonic/gin"), go, None) is None


def test_a_java_name_with_an_empty_group_matches_no_package() -> None:
    """`:spring-beans` names no group, not the purl without a namespace."""
    beans = finding("CVE-2024-0001", pkg="spring-beans", type="jar", purl="pkg:maven/spring-beans@5.3.15")
    assert mismatch(entry(0, package=":spring-beans"), beans, None) is not None
    assert mismatch(entry(0, package="spring-beans"), beans, None) is None
