"""The remediation plan: findings grouped into the actions that clear them, with their targets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.image.base_image import BaseCheck, BaseImageState
from gate.model import DirectUpgrade, Finding, ImageInfo, Layer, LayerOrigin, Severity, VendorStatus
from gate.policy.actions import ActionKind, PackageFix, Plan
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Decision, Disposition, RuleKind, RuleRef
from gate.policy.inputs import EvaluationInputs
from gate.policy.model import FailOn, Mode, Policy
from gate.policy.plan import (
    _command,
    _Facts,
    _facts,
    _fixes_of,
    _Group,
    _group_key,
    _oldest,
    _package_fixes,
    _Tally,
    _tally,
    _tally_one,
    _via,
    base_image_name,
    location,
    plan,
)
from gate.scanners.snyk import parse_snyk
from gate.versions import upgrade_target
from tests.support.corpus import (
    corpus_evaluation,
    corpus_file,
    corpus_json,
    corpus_reports,
    snyk_app_without_connect_paths,
)
from tests.support.factories import NOW, evaluation_of, finding, layer, report

BASE = LayerOrigin.BASE
OWN = LayerOrigin.OWN
IMAGE = ImageInfo("ghcr.io/acme/app:1", base_image="debian:12")


def glibc(
    vid: str, pkg: str, fixed: str, *, severity: Severity = Severity.HIGH, where: Layer | None = None
) -> Finding:
    """A finding in a binary package of glibc 2.36-9, fixed in `fixed`."""
    return finding(
        vid,
        pkg=pkg,
        version="2.36-9",
        fixed=(fixed,),
        source_name="glibc",
        source_version="2.36-9",
        severity=severity,
        layer=where,
    )


def test_os_packages_of_one_source_are_one_action_whose_target_fixes_every_finding() -> None:
    # Debian orders +deb12u10 after +deb12u9 (a text comparison would not).
    ev = evaluation_of(
        glibc("CVE-1", "libc6", "2.36-9+deb12u1"),
        glibc("CVE-1", "libc-bin", "2.36-9+deb12u1"),
        glibc("CVE-2", "libc6", "2.36-9+deb12u10"),
        glibc("CVE-3", "libc-bin", "2.36-9+deb12u9", severity=Severity.MEDIUM),
    )
    (action,) = ev.plan.actions
    assert action.id == "deb:glibc"
    assert action.kind is ActionKind.PACKAGE_UPGRADE
    assert (action.package, action.packages) == ("glibc", ("libc-bin", "libc6"))
    assert (action.installed_version, action.target_version) == ("2.36-9", "2.36-9+deb12u10")
    assert action.command == "apt-get update && apt-get install -y --only-upgrade libc-bin libc6"
    assert (action.blocking, len(action.findings)) == (3, 4)
    assert dict(action.counts_by_severity) == {Severity.HIGH: 3, Severity.MEDIUM: 1}
    assert dict(action.blocking_by_severity) == {Severity.HIGH: 3}


@pytest.mark.parametrize(
    ("installed", "fixed", "target"),
    [
        # The lowest fix above the installed version: 2.2.5 fixes the 2.2 branch and every later one.
        ("0.12.3", ("2.2.5", "2.3.2"), "2.2.5"),
        # A fix of an older branch is no upgrade for 2.3.0.
        ("2.3.0", ("2.2.5", "2.3.2"), "2.3.2"),
        # PEP 440: a pre-release is older than its release, a post-release newer.
        ("2.2.5rc1", ("2.2.5", "2.2.5.post1"), "2.2.5"),
        ("2.2.5", ("2.2.5.post1", "2.3.0rc1"), "2.2.5.post1"),
    ],
)
def test_the_target_is_the_lowest_fix_above_the_installed_version(
    installed: str, fixed: tuple[str, ...], target: str | None
) -> None:
    site = "usr/lib/python3/site-packages"
    ev = evaluation_of(
        finding("CVE-1", pkg="Flask", version=installed, type="python-pkg", path=f"{site}/Flask.dist-info/METADATA", fixed=fixed)
    )  # fmt: skip
    (action,) = ev.plan.actions
    assert action.target_version == target
    assert action.id == f"pypi:Flask@{site}"
    assert action.command == (f"pip install Flask=={target}" if target else None)


def test_npm_orders_semver_pre_releases_before_their_release() -> None:
    path = "app/node_modules/lodash/package.json"
    ev = evaluation_of(
        finding("CVE-1", pkg="lodash", version="4.17.11", type="node-pkg", path=path, fixed=("4.17.21-beta.1",)),
        finding("CVE-2", pkg="lodash", version="4.17.11", type="node-pkg", path=path, fixed=("4.17.21",)),
    )  # fmt: skip
    (action,) = ev.plan.actions
    assert (action.id, action.target_version) == ("npm:lodash@app/node_modules/lodash", "4.17.21")
    assert action.command == "npm install lodash@4.17.21"


@pytest.mark.parametrize(
    ("first", "second", "target"),
    [
        # 1.2.10 is on the 1.2 branch, which 1.2.3 fixed: no need to go to 1.3.0.
        ("1.2.3, 1.3.0", "1.2.10", "1.2.10"),
        # 1.3.0 is on the 1.3 branch, still vulnerable to the first finding before 1.3.5.
        ("1.2.3, 1.3.5", "1.3.0", "1.3.5"),
        # The second finding's 1.3.0 fixes its 1.3 branch, 1.3.5 included; 2.0.1 is another branch's.
        ("1.2.3, 1.3.5", "1.3.0, 2.0.1", "1.3.5"),
        ("1.2.3, 1.3.5, 1.4.2", "1.4.0", "1.4.2"),
    ],
)
def test_the_target_fixes_every_finding_when_one_lists_fixes_of_several_branches(
    first: str, second: str, target: str
) -> None:
    path = "app/node_modules/left/package.json"
    ev = evaluation_of(
        finding("CVE-1", pkg="left", version="1.2.0", type="node-pkg", path=path, fixed=tuple(first.split(", "))),
        finding("CVE-2", pkg="left", version="1.2.0", type="node-pkg", path=path, fixed=tuple(second.split(", "))),
    )  # fmt: skip
    (action,) = ev.plan.actions
    assert action.target_version == target
    assert action.command == f"npm install left@{target}"


def test_the_source_version_is_what_fixes_compare_against() -> None:
    # The binary carries an epoch its source does not have: compared with it, the fix looks older.
    ev = evaluation_of(
        finding("CVE-1", pkg="libfoo1", version="4:1.0-1", fixed=("1.0-2",), source_name="foo", source_version="1.0-1")
    )  # fmt: skip
    (action,) = ev.plan.actions
    assert (action.installed_version, action.target_version) == ("1.0-1", "1.0-2")


def test_base_image_findings_are_one_refresh_with_steps_per_source_package() -> None:
    ev = evaluation_of(
        glibc("CVE-1", "libc6", "2.36-9+deb12u3", where=layer(BASE, 1)),
        glibc("CVE-1", "libc-bin", "2.36-9+deb12u3", where=layer(BASE, 1)),
        finding("CVE-2", pkg="libssl3", source_name="openssl", severity=Severity.CRITICAL, layer=layer(BASE, 1)),
        finding("CVE-3", pkg="zlib1g", fixed=(), status=VendorStatus.AFFECTED, layer=layer(BASE, 1)),
        finding("CVE-4", pkg="libcurl4", source_name="curl", layer=layer(OWN, 7)),
        image=IMAGE,
    )  # fmt: skip
    refresh, curl = ev.plan.actions
    assert refresh.id == "base-refresh"
    assert refresh.kind is ActionKind.BASE_REFRESH
    assert (refresh.package, refresh.origin, refresh.dockerfile_line) == ("debian:12", BASE, 1)
    assert refresh.estimated
    assert (len(refresh.findings), refresh.base_findings, refresh.blocking) == (3, 4, 3)
    assert [s.package for s in refresh.steps] == ["glibc", "openssl"]
    assert refresh.steps[0].target_version == "2.36-9+deb12u3"
    assert refresh.steps[0].command == "apt-get update && apt-get install -y --only-upgrade libc-bin libc6"
    assert refresh.packages == ("libc-bin", "libc6", "libssl3")
    assert (curl.id, curl.origin, curl.dockerfile_line) == ("deb:curl", OWN, 7)
    assert ev.plan.no_fix.findings == (("CVE-3", "zlib1g", "3.0.2-1", ""),)


def test_without_a_known_base_image_every_package_is_its_own_action() -> None:
    ev = evaluation_of(
        glibc("CVE-1", "libc6", "2.36-9+deb12u3", where=layer(None)),
        finding("CVE-2", pkg="libssl3", source_name="openssl", layer=layer(None)),
    )
    assert [a.id for a in ev.plan.actions] == ["deb:glibc", "deb:openssl"]
    assert all(a.origin is None for a in ev.plan.actions)


def test_findings_without_a_fix_form_a_group_that_is_no_action() -> None:
    ev = evaluation_of(
        finding("CVE-1", fixed=(), status=VendorStatus.AFFECTED),
        finding("CVE-2", fixed=(), severity=Severity.LOW, status=VendorStatus.WILL_NOT_FIX),
    )
    assert ev.plan.actions == ()
    assert (len(ev.plan.no_fix.findings), ev.plan.no_fix.blocking) == (2, 1)
    assert dict(ev.plan.no_fix.counts_by_severity) == {Severity.HIGH: 1, Severity.LOW: 1}
    assert all(ev.plan.action_of(d.finding) is None for d in ev.decisions)


@pytest.mark.parametrize(
    ("installed", "fixed"),
    [
        # The fix is what is installed, or older: upgrading to it clears nothing.
        ("3.0.0", ("3.0.0",)),
        ("3.0.0", ("2.2.5",)),
        # PEP 440 ordering, not the text's: 3.0.0 is 3.0, and 2.10.0 is newer than 2.9.0.
        ("3.0.0", ("3.0",)),
        ("2.10.0", ("2.9.0", "2.2.5")),
    ],
)
def test_a_fix_no_newer_than_the_installed_version_is_no_fix(installed: str, fixed: tuple[str, ...]) -> None:
    site = "usr/lib/python3/site-packages"
    stale = finding(
        "CVE-1",
        pkg="Flask",
        version=installed,
        type="python-pkg",
        path=f"{site}/Flask.dist-info/METADATA",
        fixed=fixed,
    )
    newer = finding(
        "CVE-2",
        pkg="Flask",
        version=installed,
        type="python-pkg",
        path=f"{site}/Flask.dist-info/METADATA",
        fixed=("9.0.0",),
    )
    ev = evaluation_of(stale, newer)
    (action,) = ev.plan.actions
    assert (action.findings, action.target_version, action.blocking) == ((newer.key,), "9.0.0", 1)
    assert ev.plan.action_of(stale) is None
    assert (ev.plan.no_fix.findings, ev.plan.no_fix.blocking) == ((stale.key,), 1)
    # Alone, it makes no action at all; so in the base image's layers, where a refresh is estimated.
    for where in (None, layer(BASE, 1)):
        alone = evaluation_of(replace(stale, layer=where), image=IMAGE)
        assert alone.plan.actions == ()
        assert alone.plan.no_fix.findings == (stale.key,)


def test_a_fix_newer_than_an_os_packages_source_version_is_still_a_fix() -> None:
    # Debian: 2.36-9+deb12u1 is newer than 2.36-9; 2.36-9 (the same) and 2.36-8 are not. A fix
    # dpkg cannot read may be newer: it stays in the action, as a vendor status `fixed` alone does.
    ev = evaluation_of(
        glibc("CVE-1", "libc6", "2.36-9+deb12u1"),
        glibc("CVE-2", "libc6", "2.36-9"),
        glibc("CVE-3", "libc6", "2.36-8"),
        glibc("CVE-4", "libc6", "the-next-version"),
        replace(glibc("CVE-5", "libc6", "2.36-8"), fixed_versions=()),
    )
    (action,) = ev.plan.actions
    assert [key[0] for key in action.findings] == ["CVE-1", "CVE-4", "CVE-5"]
    assert [key[0] for key in ev.plan.no_fix.findings] == ["CVE-2", "CVE-3"]


@pytest.mark.parametrize("ecosystem", ["rpm", "deb"])
def test_a_fix_whose_epoch_only_one_side_names_is_still_a_fix(ecosystem: str) -> None:
    # Grype reports rpm fixes without the package's epoch (its feeds leave it out) and compares
    # them without it: 1.1.1k-7.el8 fixes 1:1.1.1k-5.el8. Read with the epoch as 0 the fix looks
    # older; whether it is, is not known, so the finding stays in its package's action.
    def openssl(vid: str, installed: str, fixed: str) -> Finding:
        return finding(
            vid, pkg="openssl-libs", version=installed, type=ecosystem, source_name="openssl", fixed=(fixed,)
        )

    ev = evaluation_of(
        openssl("CVE-1", "1:1.1.1k-5.el8", "1.1.1k-7.el8"),
        openssl("CVE-2", "1.1.1k-5.el8", "1:1.1.1k-4.el8"),
        # Both with an epoch, or neither: the ordering is known, and these fixes are not newer.
        openssl("CVE-3", "1:1.1.1k-5.el8", "1:1.1.1k-5.el8"),
        openssl("CVE-4", "1.1.1k-5.el8", "1.1.1k-4.el8"),
    )
    (action,) = ev.plan.actions
    assert [key[0] for key in action.findings] == ["CVE-1", "CVE-2"]
    assert [key[0] for key in ev.plan.no_fix.findings] == ["CVE-3", "CVE-4"]


def test_an_exclusive_fixed_range_beside_an_older_branchs_fix_is_still_a_fix() -> None:
    # `1.2.3, > 2.6`: the 1.2 branch is fixed in 1.2.3, and something after 2.6 fixes the rest;
    # which version is not known, but it may well be newer than the 2.5 installed.
    def flask(vid: str, fixed: str) -> Finding:
        return finding(
            vid, pkg="Flask", version="2.5", type="python-pkg", path="app/Flask.dist-info", fixed=(fixed,)
        )

    ev = evaluation_of(
        flask("CVE-1", "1.2.3, > 2.6"),
        flask("CVE-2", ">= 1.2.3, < 2.0.0 || > 2.6"),
        flask("CVE-3", ">= 1.2.3, < 2.0.0"),  # only an older branch's fix: no fix newer
    )
    (action,) = ev.plan.actions
    assert [key[0] for key in action.findings] == ["CVE-1", "CVE-2"]
    assert [key[0] for key in ev.plan.no_fix.findings] == ["CVE-3"]


def test_actions_that_clear_blocking_findings_come_first_then_severity_then_size() -> None:
    ev = evaluation_of(
        finding("CVE-1", pkg="low", severity=Severity.LOW),
        finding("CVE-2", pkg="low", severity=Severity.LOW),
        finding("CVE-3", pkg="low", severity=Severity.LOW),
        finding("CVE-4", pkg="high"),
        finding("CVE-5", pkg="critical", severity=Severity.CRITICAL),
        finding("CVE-6", pkg="two-high"),
        finding("CVE-7", pkg="two-high"),
        finding("CVE-8", pkg="medium", severity=Severity.MEDIUM),
        finding("CVE-9", pkg="high-too"),
    )
    order = [a.id for a in ev.plan.actions]
    # Two blocking findings first; of one each, the CRITICAL first, then by id; then the rest by
    # severity: one MEDIUM before three LOW.
    assert order == ["deb:two-high", "deb:critical", "deb:high", "deb:high-too", "deb:medium", "deb:low"]
    assert [a.blocking for a in ev.plan.actions] == [2, 1, 1, 1, 0, 0]
    assert [a.id for a in ev.plan.clearing] == order[:4]


def test_actions_clearing_as_many_findings_compare_their_severities_from_critical_down() -> None:
    # The highest severity alone tied an upgrade of 1 CRITICAL + 3 HIGH with one of 2 CRITICAL +
    # 2 HIGH, and the id ("deb:a" before "deb:b") put the one with fewer criticals first.
    critical, high = Severity.CRITICAL, Severity.HIGH
    findings = [
        *(finding(f"CVE-A{n}", pkg="a", severity=critical if n < 1 else high) for n in range(4)),
        *(finding(f"CVE-B{n}", pkg="b", severity=critical if n < 2 else high) for n in range(4)),
        # The same blocking findings per severity: the number of findings still decides, then the id.
        finding("CVE-C1", pkg="c", severity=high),
        finding("CVE-D1", pkg="d", severity=high),
        finding("CVE-D2", pkg="d", severity=Severity.LOW),
    ]
    ev = evaluation_of(*findings)
    assert [(a.id, a.blocking, len(a.findings)) for a in ev.plan.actions] == [
        ("deb:b", 4, 4),
        ("deb:a", 4, 4),
        ("deb:d", 1, 2),
        ("deb:c", 1, 1),
    ]


def test_advisory_mode_orders_by_what_would_block() -> None:
    policy = Policy(source="p.yaml", mode=Mode.ADVISORY)
    ev = evaluation_of(
        finding("CVE-1", pkg="a", severity=Severity.LOW), finding("CVE-2", pkg="b"), policy=policy
    )
    first, second = ev.plan.actions
    assert (first.id, first.blocking, first.would_block) == ("deb:b", 0, 1)
    assert (second.id, second.would_block) == ("deb:a", 0)
    assert ev.plan.clearing == (first,)


def test_every_disposition_belongs_to_its_packages_action() -> None:
    policy = Policy(source="p.yaml", fail_on=FailOn(severity=Severity.CRITICAL))
    ev = evaluation_of(finding("CVE-1"), finding("CVE-2", severity=Severity.CRITICAL), policy=policy)
    (action,) = ev.plan.actions
    assert {d.disposition for d in ev.decisions} == {Disposition.BLOCKING, Disposition.INFORMATIONAL}
    assert (action.blocking, len(action.findings)) == (1, 2)


def test_ids_are_the_same_for_the_same_inputs_and_never_repeat() -> None:
    findings = (
        finding("CVE-1", pkg="libcurl4", source_name="curl", layer=layer(OWN, 7)),
        finding("CVE-2", pkg="libcurl4", source_name="curl", version="7.0", fixed=("7.1",), layer=None),
    )
    first, again = evaluation_of(*findings, image=IMAGE), evaluation_of(*findings, image=IMAGE)
    assert first.plan == again.plan
    assert sorted(a.id for a in first.plan.actions) == ["deb:curl", "deb:curl~2"]


def test_an_id_made_unique_is_never_one_another_package_spells() -> None:
    # A report's package names are its own: one may spell the id a repeated one would be given.
    findings = (
        finding("CVE-1", pkg="libcurl4", source_name="curl", layer=layer(OWN, 7)),
        finding("CVE-2", pkg="libcurl4", source_name="curl", version="7.0", fixed=("7.1",), layer=None),
        finding("CVE-3", pkg="curl~2", source_name="curl~2", layer=layer(OWN, 7)),
    )
    first, again = evaluation_of(*findings, image=IMAGE), evaluation_of(*findings, image=IMAGE)
    assert first.plan == again.plan
    ids = [a.id for a in first.plan.actions]
    assert sorted(ids) == ["deb:curl", "deb:curl~2", "deb:curl~3"]
    # Each finding still belongs to the action of its own package.
    by_id = {a.id: a for a in first.plan.actions}
    assert by_id["deb:curl~2"].packages == ("curl~2",)


@pytest.mark.parametrize(
    ("types", "name", "target", "command"),
    [
        (("alpine",), "libssl3", "3.1.4-r1", "apk upgrade --no-cache libssl3"),
        (("redhat",), "openssl-libs", "1:3.0.7-25.el9", None),  # yum, dnf or microdnf: not certain
        (("yarn",), "lodash", "4.17.21", None),
        (("node-pkg",), "lodash; rm -rf /", "4.17.21", None),  # not one word: no command
        (("node-pkg",), "lodash", "4.17.21;true", None),
    ],
)
def test_commands_only_where_certain(
    types: tuple[str, ...], name: str, target: str, command: str | None
) -> None:
    path = "" if types[0] in ("alpine", "redhat") else "app/yarn.lock"
    ev = evaluation_of(finding("CVE-1", pkg=name, version="0", type=types[0], path=path, fixed=(target,)))
    assert ev.plan.actions[0].command == command


@pytest.mark.parametrize(
    ("name", "path", "command"),
    [
        ("qs", "app/node_modules/qs/package.json", "npm install qs@6.0.4"),
        ("@hapi/qs", "app/node_modules/@hapi/qs/package.json", "npm install @hapi/qs@6.0.4"),
        # Another package's dependency: upgraded by upgrading that package, not by `npm install`.
        ("qs", "app/node_modules/express/node_modules/qs/package.json", None),
        ("qs", "usr/local/lib/node_modules/npm/node_modules/qs/package.json", None),
        # A lockfile's or a manifest's entry may be a dependency's dependency (Snyk: express's qs).
        ("qs", "app/package-lock.json", None),
        ("qs", "package.json", None),
    ],
)
def test_npm_install_only_for_a_top_level_copy(name: str, path: str, command: str | None) -> None:
    ev = evaluation_of(
        finding("CVE-1", pkg=name, version="6.0.0", type="node-pkg", path=path, fixed=("6.0.4",))
    )
    assert ev.plan.actions[0].command == command


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("app/node_modules/lodash/package.json", "app/node_modules/lodash"),
        ("usr/lib/python3/site-packages/Flask-0.12.3.dist-info/METADATA", "usr/lib/python3/site-packages"),
        ("usr/lib/python3/site-packages/six-1.10.egg-info", "usr/lib/python3/site-packages"),
        ("var/lib/gems/2.5.0/specifications/i18n-1.8.2.gemspec", "var/lib/gems/2.5.0/specifications"),
        ("app/lib/log4j-core-2.14.1.jar", "app/lib/log4j-core-2.14.1.jar"),
        ("Gemfile.lock", "Gemfile.lock"),
    ],
)
def test_a_library_is_placed_where_it_is_installed(path: str, where: str) -> None:
    assert location(path) == where


def test_the_base_image_is_named_by_its_label_when_given_as_an_archive() -> None:
    labels = (("org.opencontainers.image.base.name", "debian:12"),)
    archive = ImageInfo("app", base_image="docker-archive:/ci/work/base.tar", labels=labels)
    assert base_image_name(archive) == "debian:12"
    assert base_image_name(ImageInfo("app", base_image="docker-archive:/ci/work/base.tar")) == (
        "docker-archive:/ci/work/base.tar"
    )
    assert base_image_name(ImageInfo("app", base_image="debian:12-slim", labels=labels)) == "debian:12-slim"
    assert base_image_name(None) is None


def assert_partition(planned: Plan, findings: list[Finding]) -> None:
    """Each finding is in exactly one action or in the no-fix group, and each without a fix in the
    no-fix group (so is one whose fixes are all no newer than the installed version)."""
    keys = [key for action in planned.actions for key in action.findings]
    assert len(keys) == len(set(keys))
    assert set(keys) <= {f.key for f in findings if f.fixable}
    assert sorted(keys + list(planned.no_fix.findings)) == sorted(f.key for f in findings)
    assert len({a.id for a in planned.actions}) == len(planned.actions)
    for action in planned.actions:
        assert all(planned.action_ids[key] == action.id for key in action.findings)
        for step in action.steps:
            assert set(step.findings) <= set(action.findings)
        if action.steps:
            assert sum(len(s.findings) for s in action.steps) == len(action.findings)


@pytest.mark.parametrize("path", corpus_reports(), ids=[p.name for p in corpus_reports()])
def test_every_corpus_report_is_partitioned_into_actions(path: Path) -> None:
    ev = corpus_evaluation(path)
    assert_partition(ev.plan, [d.finding for d in ev.decisions])
    assert plan(ev) == ev.plan
    blocking = sum(1 for d in ev.decisions if d.disposition is Disposition.BLOCKING)
    assert sum(a.blocking for a in ev.plan.actions) + ev.plan.no_fix.blocking == blocking


# --- with the base image check: the base refresh is exact ----------------------------------------


def checked(removed: tuple[Finding, ...], *, changed: bool = True, ran: bool = True) -> BaseCheck:
    used = BaseImageState(
        "r/debian@sha256:" + "a" * 64, "sha256:" + "a" * 64, "2024-01-10T00:00:00Z", ("sha256:1",)
    )
    newer = ("sha256:2",) if changed else used.diff_ids
    current = BaseImageState(
        "r/debian@sha256:" + "b" * 64, "sha256:" + "b" * 64, "2024-02-26T00:00:00Z", newer
    )
    if not ran:
        return BaseCheck(False, name="debian:12", reason="cannot reach registry r")
    return BaseCheck(True, name="debian:12", used=used, current=current, removed=removed)


def base_findings() -> list[Finding]:
    return [
        glibc("CVE-1", "libc6", "2.36-9+deb12u3", where=layer(BASE, 1)),  # the newer base has deb12u3
        glibc("CVE-1", "libc-bin", "2.36-9+deb12u3", where=layer(BASE, 1)),
        glibc("CVE-5", "libc6", "2.36-9+deb12u4", where=layer(BASE, 1)),  # ... not yet deb12u4
        finding("CVE-6", pkg="wget", fixed=(), status=VendorStatus.AFFECTED, layer=layer(BASE, 1)),  # dropped
        finding("CVE-3", pkg="zlib1g", fixed=(), status=VendorStatus.AFFECTED, layer=layer(BASE, 1)),
        finding("CVE-4", pkg="libcurl4", source_name="curl", layer=layer(OWN, 7)),
    ]


def planned(check: BaseCheck) -> Plan:
    ev = evaluate(
        report(*base_findings(), image=IMAGE),
        Policy(source="p.yaml"),
        NOW,
        EvaluationInputs(base_check=check),
    )
    assert plan(ev) == ev.plan
    keys = [key for action in ev.plan.actions for key in action.findings] + list(ev.plan.no_fix.findings)
    assert sorted(keys) == sorted(f.key for f in base_findings())  # each finding in exactly one group
    return ev.plan


def test_a_checked_base_refresh_is_exactly_what_the_newer_base_removes() -> None:
    found = base_findings()
    result = planned(checked((found[0], found[1], found[3])))
    refresh = result.by_id["base-refresh"]
    assert not refresh.estimated
    # Rebuilding removes the two glibc findings and, with wget gone, wget's unfixed one too.
    assert refresh.findings == (found[0].key, found[1].key, found[3].key)
    assert refresh.base_findings == 5
    # What the newer base still has is an upgrade of its package, in the base image's layers.
    glibc_upgrade = result.by_id["deb:glibc"]
    assert (glibc_upgrade.findings, glibc_upgrade.origin) == ((found[2].key,), BASE)
    assert glibc_upgrade.target_version == "2.36-9+deb12u4"
    assert result.no_fix.findings == (found[4].key,)


def test_a_current_base_has_no_refresh_and_an_unchecked_one_is_estimated() -> None:
    current = planned(checked((), changed=False))
    assert "base-refresh" not in current.by_id
    assert [a.id for a in current.actions if a.origin is BASE] == ["deb:glibc"]
    unchecked = planned(checked((), ran=False))
    assert unchecked.by_id["base-refresh"].estimated
    assert len(unchecked.by_id["base-refresh"].findings) == 3  # every fixable base finding


def _facts_of_any_group(group: _Group) -> _Facts:
    """The facts of a group as made for any number of findings (passes over their list): what the
    short cut for a group of one finding must make."""
    eco = group.ecosystem
    findings = [d.finding for _, d in group.decisions]
    fixes = [fix for f in findings for fix in _fixes_of(f, group.package)]
    installed = _oldest(eco, (version for version, _ in fixes))
    target = upgrade_target(eco, fixes)
    pulled_in = [f for f in findings if _via(f, group.package)]
    packages = tuple(sorted({group.package if f in pulled_in else f.package.name for f in findings}))
    types = {f.package.type for f in findings}
    return _Facts(
        packages=packages,
        installed=installed,
        target=target,
        findings=tuple(f.key for f in findings),
        command=_command(eco, types, group.package, packages, target, group.path),
        fixes=_package_fixes(eco, pulled_in),
        no_direct_upgrade=all(f.no_direct_upgrade for f in findings),
    )


def assert_same_tally(one: _Tally, every: _Tally) -> None:
    """Equal, and alike in the types an output writes (ints, not booleans; severities as keys)."""
    assert one == every
    assert (type(one.blocking), type(one.would_block)) == (int, int)
    for got, expected in (
        (one.by_severity, every.by_severity),
        (one.would_by_severity, every.would_by_severity),
    ):
        assert [(type(k), k, type(v), v) for k, v in got.items()] == [
            (type(k), k, type(v), v) for k, v in expected.items()
        ]


@pytest.mark.parametrize("path", corpus_reports(), ids=[p.name for p in corpus_reports()])
def test_a_one_finding_group_has_the_facts_and_tally_of_any_group(path: Path) -> None:
    for decision in corpus_evaluation(path).decisions:
        found = decision.finding
        group = _Group(
            *_group_key(found, found.layer.origin if found.layer else None), decisions=[(0, decision)]
        )
        assert _facts(group) == _facts_of_any_group(group)
        assert_same_tally(_tally_one(decision), _tally([decision]))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(Disposition),
    st.sampled_from(RuleKind),
    st.booleans(),
    st.sampled_from(Severity),
    st.none() | st.sampled_from([BASE, OWN, None]).map(lambda origin: layer(origin, 7)),
    st.sampled_from([(), ("3.0.13-1",), ("3.0.1-1",), ("> 3.1", "3.0.13-1")]),
    st.sampled_from(["", "3.0.1-1"]),
)
def test_one_drawn_decision_has_the_facts_and_tally_of_any_group(
    disposition: Disposition,
    kind: RuleKind,
    would_block: bool,
    severity: Severity,
    where: Layer | None,
    fixed: tuple[str, ...],
    source_version: str,
) -> None:
    found = finding(
        severity=severity,
        layer=where,
        fixed=fixed,
        source_name="openssl",
        source_version=source_version or None,
    )
    decision = Decision(found, disposition, "why", RuleRef(kind), would_block)
    group = _Group(*_group_key(found, where.origin if where else None), decisions=[(0, decision)])
    assert _facts(group) == _facts_of_any_group(group)
    assert_same_tally(_tally_one(decision), _tally([decision]))


SNYK_APP = "container-app-vulns__results.json"


def test_a_package_snyk_upgrades_through_its_direct_dependency_is_that_upgrade() -> None:
    """The corpus's `qs`, `mime` and `connect` come through `express@2.5.11`, and Snyk's
    `upgradePath` names the upgrade of `express` that fixes each: one action upgrades `express`,
    the direct dependency a developer changes, to the version that fixes them all and its own
    finding, and names what it fixes in the packages it pulls in. (The report without its paths
    through `express > connect`, which keep `express`.)"""
    ev = evaluate(parse_snyk(snyk_app_without_connect_paths(), "snyk.json"), Policy(source="p"), NOW)
    pulled_in = [d.finding for d in ev.decisions if d.finding.package.name in ("qs", "mime", "connect")]
    express = ev.plan.by_id["npm:express@package.json"]
    assert {ev.plan.action_ids[f.key] for f in pulled_in} == {express.id}
    assert (express.package, express.packages, express.installed_version, express.target_version) == (
        "express",
        ("express",),
        "2.5.11",
        "3.11.0",
    )
    assert express.fixes == (
        PackageFix("connect", "1.9.2", "2.8.2"),
        PackageFix("mime", "1.2.4", "1.4.1"),
        PackageFix("qs", "0.4.2", "6.0.4"),
    )
    assert not express.no_direct_upgrade
    assert express.blocking == 2  # the two HIGH qs findings
    assert [a.id for a in ev.plan.actions] == ["npm:express@package.json", "apk:busybox"]


def test_a_package_with_a_path_no_direct_upgrade_fixes_is_its_own_upgrade() -> None:
    """The whole report: `qs` and `mime` also come through `express > connect`, a path Snyk fixes
    below `express`. Upgrading `express` leaves them there, so each is its own upgrade, the same
    with `--group-issues` or without; `connect` stays in `express`'s."""
    plans = [
        corpus_evaluation(corpus_file("snyk", name)).plan
        for name in (SNYK_APP, "resultJsonDataGrouped.json", "resultJsonDataNonGrouped.json")
    ]
    ev = plans[0]
    assert [(a.id, a.target_version) for a in ev.actions] == [
        ("npm:qs@package.json", "6.0.4"),
        ("apk:busybox", "1.32.1-r4"),
        ("npm:express@package.json", "3.11.0"),
        ("npm:mime@package.json", "1.4.1"),
    ]
    assert ev.by_id["npm:express@package.json"].fixes == (PackageFix("connect", "1.9.2", "2.8.2"),)
    npm = [[a for a in plan.actions if a.ecosystem == "npm"] for plan in plans]
    assert all(actions == npm[0] for actions in npm[1:])


def test_a_package_no_direct_upgrade_fixes_is_its_own_upgrade_marked_so() -> None:
    doc = corpus_json("snyk", SNYK_APP)
    for vuln in doc[1]["vulnerabilities"]:
        if vuln["packageName"] == "qs":
            vuln.update(isUpgradable=False, upgradePath=[])
    found = parse_snyk(doc, "snyk.json")
    ev = evaluate(found, Policy(source="p"), NOW)
    qs = ev.plan.by_id["npm:qs@package.json"]
    assert (qs.installed_version, qs.target_version, qs.no_direct_upgrade, qs.fixes) == (
        "0.4.2",
        "6.0.4",
        True,
        (),
    )
    assert not ev.plan.by_id["npm:express@package.json"].no_direct_upgrade


def test_a_package_through_two_direct_dependencies_stays_its_own_upgrade() -> None:
    qs = finding("CVE-1", pkg="qs", version="0.4.2", type="npm", path="package.json", fixed=("1.0.0",))
    one = replace(qs, direct_upgrades=(DirectUpgrade("express", "2.5.11", "3.0.0"),))
    two = replace(
        qs,
        vulnerability_id="CVE-2",
        direct_upgrades=(
            DirectUpgrade("express", "2.5.11", "3.0.0"),
            DirectUpgrade("body-parser", "1.0.0", "1.5.0"),
        ),
    )
    ev = evaluation_of(one, two)
    assert ev.plan.action_ids[one.key] == "npm:express@package.json"
    assert ev.plan.action_ids[two.key] == "npm:qs@package.json"
    assert ev.plan.by_id["npm:qs@package.json"].target_version == "1.0.0"


def test_a_direct_upgrade_reaches_the_highest_that_any_dependency_path_needs() -> None:
    """Snyk names one upgrade of `express` per path to `qs`: here `express@3.0.0` for `express >
    qs` and `express@4.0.0` for `express > connect > qs` (the report's `qs` entries alone). Both
    paths must be fixed, so the target is the higher; the lower leaves `qs@0.4.2` installed
    through `connect`."""
    doc = corpus_json("snyk", SNYK_APP)
    vulns = doc[1]["vulnerabilities"]
    vulns[:] = [v for v in vulns if v["packageName"] == "qs"]
    for vuln in vulns:
        if vuln["id"] == "npm:qs:20170213" and len(vuln["from"]) == 4:
            vuln["upgradePath"] = [False, "express@4.0.0", "connect@2.8.2", "qs@6.0.4"]
    ev = evaluate(parse_snyk(doc, "snyk.json"), Policy(source="p"), NOW)
    qs = next(d.finding for d in ev.decisions if d.finding.vulnerability_id == "CVE-2017-1000048")
    assert {u.target for u in qs.direct_upgrades} == {"3.0.0", "4.0.0"}
    express = ev.plan.by_id[ev.plan.action_ids[qs.key]]
    assert (express.package, express.installed_version, express.target_version) == (
        "express",
        "2.5.11",
        "4.0.0",
    )


def test_a_package_whose_direct_upgrade_snyk_names_is_that_upgrade_without_fixed_versions_of_its_own() -> (
    None
):
    """The upgrade of `express` that Snyk names is what clears `qs`, even where the entry lists no
    fixed version of `qs` itself (no `fixedIn`): it is no finding without a fix."""
    qs = finding(
        "CVE-1",
        pkg="qs",
        version="0.4.2",
        type="npm",
        path="package.json",
        fixed=(),
        status=VendorStatus.AFFECTED,
    )
    pulled_in = replace(qs, direct_upgrades=(DirectUpgrade("express", "2.5.11", "3.0.0"),))
    ev = evaluation_of(pulled_in)
    express = ev.plan.by_id[ev.plan.action_ids[pulled_in.key]]
    assert (express.package, express.installed_version, express.target_version) == (
        "express",
        "2.5.11",
        "3.0.0",
    )


def _not_directly_upgradable(vid: str, marked: bool) -> Finding:
    qs = finding(vid, pkg="qs", version="0.4.2", type="npm", path="package.json", fixed=("1.0.0",))
    return replace(qs, no_direct_upgrade=marked)


def test_the_one_finding_no_direct_upgrade_fixes_marks_its_action() -> None:
    ev = evaluation_of(_not_directly_upgradable("CVE-1", True))
    assert ev.plan.by_id["npm:qs@package.json"].no_direct_upgrade


def test_an_action_is_marked_no_direct_upgrade_only_when_each_of_its_findings_is() -> None:
    """A finding of the package that an upgrade does fix, through a path that has one, keeps the
    action from saying that no upgrade of a direct dependency fixes it."""
    ev = evaluation_of(_not_directly_upgradable("CVE-1", True), _not_directly_upgradable("CVE-2", False))
    assert not ev.plan.by_id["npm:qs@package.json"].no_direct_upgrade
    ev = evaluation_of(_not_directly_upgradable("CVE-1", True), _not_directly_upgradable("CVE-2", True))
    assert ev.plan.by_id["npm:qs@package.json"].no_direct_upgrade


def test_the_packages_a_direct_upgrade_fixes_are_listed_by_name() -> None:
    """In name order, whatever order the report gave their findings in."""
    express = (DirectUpgrade("express", "2.5.11", "3.0.0"),)
    qs = finding("CVE-1", pkg="qs", version="0.4.2", type="npm", path="package.json", fixed=("1.0.0",))
    connect = finding(
        "CVE-2", pkg="connect", version="1.9.2", type="npm", path="package.json", fixed=("2.8.2",)
    )
    ev = evaluation_of(replace(qs, direct_upgrades=express), replace(connect, direct_upgrades=express))
    assert ev.plan.by_id["npm:express@package.json"].fixes == (
        PackageFix("connect", "1.9.2", "2.8.2"),
        PackageFix("qs", "0.4.2", "1.0.0"),
    )
