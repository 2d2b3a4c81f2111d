"""The pure evaluation: dispositions, reasons, allowlist states, budgets, thresholds, expiry."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from gate.model import Finding, ImageInfo, LayerOrigin, ScanReport, Severity, VendorStatus
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Counts, Disposition, EntryState, RuleKind, RuleRef
from gate.policy.inputs import EvaluationInputs
from gate.policy.match import mismatch, path_glob
from gate.policy.model import BaseImagePolicy, FailOn, Mode, Policy
from gate.run_wording import ACTION_WORDS, GITLAB_WORDS
from tests.support.factories import entry, finding, layer

NOW = dt.datetime(2026, 6, 15, 9, 30, tzinfo=dt.UTC)


def run(findings: list[Finding], image: str | None = None, **policy: Any) -> list[tuple[Disposition, str]]:
    report = ScanReport(findings=tuple(findings), image=ImageInfo(reference=image) if image else None)
    ev = evaluate(report, Policy(source="p.yaml", **policy), NOW)
    return [(d.disposition, str(d.rule)) for d in ev.decisions]


def test_threshold_blocks_at_and_above_and_informs_below() -> None:
    got = run(
        [
            finding(severity=Severity.CRITICAL),
            finding(severity=Severity.HIGH),
            finding(severity=Severity.MEDIUM),
        ],
        fail_on=FailOn(severity=Severity.HIGH),
    )
    assert got == [
        (Disposition.BLOCKING, "fail_on.severity"),
        (Disposition.BLOCKING, "fail_on.severity"),
        (Disposition.INFORMATIONAL, "fail_on.severity"),
    ]


def test_unknown_severity_blocks_only_when_the_threshold_is_unknown() -> None:
    f = finding(severity=Severity.UNKNOWN)
    assert run([f], fail_on=FailOn(severity=Severity.LOW))[0][0] is Disposition.INFORMATIONAL
    assert run([f], fail_on=FailOn(severity=Severity.UNKNOWN))[0][0] is Disposition.BLOCKING


def test_cvss_threshold_blocks_whatever_the_severity() -> None:
    low_but_scored = finding(severity=Severity.LOW, cvss=9.1)
    low_scored_less = finding("CVE-2024-0002", severity=Severity.LOW, cvss=8.9)
    unscored = finding("CVE-2024-0003", severity=Severity.LOW)
    got = run(
        [low_but_scored, low_scored_less, unscored],
        fail_on=FailOn(severity=Severity.CRITICAL, cvss_score=9.0),
    )
    assert got == [
        (Disposition.BLOCKING, "fail_on.cvss_score"),
        (Disposition.INFORMATIONAL, "fail_on.severity"),
        (Disposition.INFORMATIONAL, "fail_on.severity"),
    ]


def test_fixable_only_ignores_unfixed_findings_that_would_block() -> None:
    unfixed_high = finding(fixed=(), status=VendorStatus.AFFECTED)
    unfixed_low = finding("CVE-2024-0002", severity=Severity.LOW, fixed=(), status=VendorStatus.AFFECTED)
    fixed_high = finding("CVE-2024-0003")
    got = run([unfixed_high, unfixed_low, fixed_high], fail_on=FailOn(fixable_only=True))
    assert got == [
        (Disposition.IGNORED, "fail_on.fixable_only"),
        (Disposition.INFORMATIONAL, "fail_on.severity"),
        (Disposition.BLOCKING, "fail_on.severity"),
    ]


def test_fixable_only_takes_a_listed_fix_no_newer_than_the_installed_version_for_none() -> None:
    # `explain` and the actions say such a finding has no fix; the policy called it fixable.
    stale = finding(version="1.2-3", fixed=("1.2-1",))
    same = finding("CVE-2024-0002", version="1.2-3", fixed=("1.2-3",))
    newer = finding("CVE-2024-0003", version="1.2-3", fixed=("1.2-1", "1.2-4"))
    unparsed = finding("CVE-2024-0004", version="1.2-3", fixed=("< 1.2-9",), type="unknown-kind")
    report = ScanReport(findings=(stale, same, newer, unparsed))
    ev = evaluate(report, Policy(source="p.yaml", fail_on=FailOn(fixable_only=True)), NOW)
    assert [(d.disposition, str(d.rule)) for d in ev.decisions] == [
        (Disposition.IGNORED, "fail_on.fixable_only"),
        (Disposition.IGNORED, "fail_on.fixable_only"),
        (Disposition.BLOCKING, "fail_on.severity"),
        (Disposition.BLOCKING, "fail_on.severity"),  # not known to be older: it may fix
    ]
    assert ev.decisions[0].reason == (
        "HIGH is at or above the blocking severity HIGH, but its listed fix is no newer than the installed "
        "version and fail_on.fixable_only is set"
    )
    # The findings the policy calls fixable are the ones an action clears.
    assert {key for action in ev.plan.actions for key in action.findings} == {newer.key, unparsed.key}


def test_ignore_statuses() -> None:
    wnf = finding(fixed=(), status=VendorStatus.WILL_NOT_FIX)
    affected = finding("CVE-2024-0002", fixed=(), status=VendorStatus.AFFECTED)
    got = run([wnf, affected], ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX}))
    assert got == [(Disposition.IGNORED, "ignore_statuses"), (Disposition.BLOCKING, "fail_on.severity")]


def test_allowlist_by_alias_case_insensitive_and_reason_is_named() -> None:
    f = finding("CVE-2024-0001", aliases=("GHSA-aaaa-bbbb-cccc",))
    report = ScanReport(findings=(f,))
    policy = Policy(
        source="p.yaml", allowlist=(entry(0, "ghsa-AAAA-bbbb-cccc", expires=dt.date(2026, 7, 1)),)
    )
    ev = evaluate(report, policy, NOW)
    (d,) = ev.decisions
    assert d.disposition is Disposition.ALLOWLISTED
    assert d.rule == RuleRef(RuleKind.ALLOWLIST, index=0)
    assert str(d.rule) == "allowlist[0]"
    assert d.reason == "allowlisted by allowlist[0] (until 2026-07-01): reason 0"
    assert d.would_block
    assert ev.entries[0].state is EntryState.USED
    assert ev.entries[0].matched == 1
    assert ev.passed


@pytest.mark.parametrize(
    ("fields", "matches"),
    [
        ({}, True),
        ({"package": "openssl"}, True),
        ({"package": "libssl3"}, False),
        ({"package": "openssl", "version": "3.0.2-1"}, True),
        ({"package": "openssl", "version": "3.0.2-2"}, False),
        ({"package": "pkg:deb/debian/openssl"}, True),
        ({"package": "pkg:deb/debian/openssl@3.0.2-1"}, True),
        ({"package": "pkg:deb/debian/openssl@3.0.2-9"}, False),
        ({"package": "pkg:deb/debian/openssl?arch=amd64"}, True),
        ({"package": "pkg:deb/debian/openssl?arch=arm64"}, False),
        ({"path": "usr/lib/**"}, True),
        ({"path": "/usr/lib/**"}, True),
        ({"path": "usr/*/libssl.so.3"}, False),
        ({"path": "usr/lib/*/libssl.so.3"}, True),
        ({"path": "usr/**/libssl.so.3"}, True),
        ({"path": "opt/**"}, False),
        ({"path": "usr/lib/x86_64-linux-gnu/libssl.so.[0-9]"}, True),
        ({"path": "usr/lib/x86_64-linux-gnu/libssl.so.[!3]"}, False),
        ({"path": "usr/lib/x86_64-linux-gnu/libssl.so.[^3]"}, False),
        ({"path": "usr/lib/x86_64-linux-gnu/libssl.so[!]]3"}, True),
        ({"image": "ghcr.io/acme/*"}, True),
        ({"image": "ghcr.io/other/*"}, False),
        ({"image": "ghcr.io/acme/*/app:1.?"}, True),
        ({"image": "ghcr.io/acme/app:1.?"}, False),
        ({"package": "openssl", "image": "ghcr.io/other/*"}, False),
    ],
)
def test_an_entry_matches_only_when_every_field_it_sets_matches(
    fields: dict[str, Any], matches: bool
) -> None:
    f = finding(
        path="usr/lib/x86_64-linux-gnu/libssl.so.3",
        purl="pkg:deb/debian/openssl@3.0.2-1?arch=amd64&distro=debian-12",
    )
    got = run([f], image="ghcr.io/acme/team/app:1.2", allowlist=(entry(0, **fields),))
    assert (got[0][0] is Disposition.ALLOWLISTED) is matches


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        # A `]` right after `[` or `[!` is a member of the class, as in fnmatch.
        ("lib[]]x", "lib]x", True),
        ("lib[!]]x", "lib]x", False),
        ("lib[!]]x", "libax", True),
        # Inside a class, characters special to regular expressions mean only themselves.
        ("lib[\\d]x", "lib\\x", True),
        ("lib[\\d]x", "lib5x", False),
        ("lib[&&]x", "lib&x", True),
        ("lib[a-]x", "lib-x", True),
        # A `[` that opens no class is a character like any other.
        ("lib[x", "lib[x", True),
        ("lib[!]", "lib[!]", True),
    ],
)
def test_path_glob_character_classes(glob: str, path: str, matches: bool) -> None:
    assert (path_glob(glob).fullmatch(path) is not None) is matches


def test_image_glob_needs_an_image_reference() -> None:
    assert run([finding()], image=None, allowlist=(entry(0, image="*"),))[0][0] is Disposition.BLOCKING


def test_first_matching_entry_in_policy_order_wins() -> None:
    entries = (entry(0, package="libssl3"), entry(1), entry(2))
    report = ScanReport(findings=(finding(),))
    ev = evaluate(report, Policy(source="p", allowlist=entries), NOW)
    assert str(ev.decisions[0].rule) == "allowlist[1]"
    assert ev.allowlist_entry(ev.decisions[0]) is entries[1]
    assert [e.state for e in ev.entries] == [EntryState.UNUSED, EntryState.USED, EntryState.UNUSED]


def test_expired_entry_stops_applying_and_is_reported_with_what_it_would_hide() -> None:
    # expires is the last day it applies: the day after, it is expired.
    still = entry(0, expires=dt.date(2026, 6, 15))
    gone = entry(1, "CVE-2024-0002", expires=dt.date(2026, 6, 14))
    report = ScanReport(findings=(finding(), finding("CVE-2024-0002")))
    ev = evaluate(report, Policy(source="p", allowlist=(still, gone)), NOW)
    assert [d.disposition for d in ev.decisions] == [Disposition.ALLOWLISTED, Disposition.BLOCKING]
    assert ev.entries[1].state is EntryState.EXPIRED
    assert ev.entries[1].would_match == 1
    assert ev.policy_failures == ()


def test_fail_on_expired_fails_the_gate_even_without_blocking_findings() -> None:
    gone = entry(0, expires=dt.date(2026, 1, 31))
    report = ScanReport(findings=(finding(severity=Severity.LOW),))
    ev = evaluate(report, Policy(source="p", allowlist=(gone,), fail_on_expired=True), NOW)
    assert ev.counts[Disposition.BLOCKING] == 0
    assert not ev.passed
    assert ev.verdict == "fail"
    assert ev.policy_failures == (
        "allowlist[0] (CVE-2024-0001) expired on 2026-01-31 and fail_on_expired is set: "
        "renew it with a new date or remove it",
    )


def test_budget_tolerates_up_to_n_then_all_block() -> None:
    highs = [finding(f"CVE-2024-000{i}") for i in range(3)]
    within = run(highs[:2], fail_on=FailOn(budgets=((Severity.HIGH, 2),)))
    assert within == [(Disposition.INFORMATIONAL, "fail_on.budgets.HIGH")] * 2
    over = run(highs, fail_on=FailOn(budgets=((Severity.HIGH, 2),)))
    assert over == [(Disposition.BLOCKING, "fail_on.budgets.HIGH")] * 3
    # A budget for one severity does not tolerate another.
    crit = run([finding(severity=Severity.CRITICAL)], fail_on=FailOn(budgets=((Severity.HIGH, 5),)))
    assert crit == [(Disposition.BLOCKING, "fail_on.severity")]


def test_budget_counts_only_findings_left_after_allowlist_and_filters() -> None:
    highs = [finding(f"CVE-2024-000{i}") for i in range(3)]
    got = run(highs, fail_on=FailOn(budgets=((Severity.HIGH, 2),)), allowlist=(entry(0, "CVE-2024-0000"),))
    assert [g[0] for g in got] == [
        Disposition.ALLOWLISTED,
        Disposition.INFORMATIONAL,
        Disposition.INFORMATIONAL,
    ]


def test_advisory_mode_never_fails_and_keeps_what_would_block() -> None:
    report = ScanReport(
        findings=(finding(severity=Severity.CRITICAL), finding("CVE-2024-0002", severity=Severity.LOW))
    )
    gone = entry(0, "CVE-2024-0009", expires=dt.date(2020, 1, 1))
    policy = Policy(source="p", mode=Mode.ADVISORY, fail_on_expired=True, allowlist=(gone,))
    ev = evaluate(report, policy, NOW)
    assert ev.passed
    assert ev.counts.would_block == 1
    assert ev.decisions[0].disposition is Disposition.INFORMATIONAL
    assert ev.decisions[0].reason.startswith("would block (CRITICAL is at or above")
    assert ev.entries[0].state is EntryState.EXPIRED


def test_what_would_block_leaves_out_allowlisted_and_ignored_findings() -> None:
    # Each of the first three meets the threshold, but an enforcing policy blocks none of them.
    report = ScanReport(
        findings=(
            finding("CVE-2024-0001", severity=Severity.CRITICAL),
            finding("CVE-2024-0002", fixed=(), status=VendorStatus.AFFECTED),
            finding("CVE-2024-0003", fixed=(), status=VendorStatus.NOT_AFFECTED),
            finding("CVE-2024-0004"),
        )
    )
    policy = Policy(
        source="p",
        mode=Mode.ADVISORY,
        fail_on=FailOn(fixable_only=True),
        ignore_statuses=frozenset({VendorStatus.NOT_AFFECTED}),
        allowlist=(entry(0, "CVE-2024-0001"),),
    )
    advisory = evaluate(report, policy, NOW)
    assert [d.would_block for d in advisory.decisions] == [True, True, True, True]
    assert advisory.counts.would_block == 1
    assert evaluate(report, replace(policy, mode=Mode.ENFORCE), NOW).counts[Disposition.BLOCKING] == 1


def test_allowlist_comes_before_status_filters_so_entries_are_not_reported_unused() -> None:
    f = finding(fixed=(), status=VendorStatus.WILL_NOT_FIX)
    got = run([f], ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX}), allowlist=(entry(0),))
    assert got == [(Disposition.ALLOWLISTED, "allowlist[0]")]


def test_counts_and_reasons_name_the_rule() -> None:
    report = ScanReport(
        findings=(
            finding(severity=Severity.CRITICAL),
            finding("CVE-2024-0002", severity=Severity.LOW),
            finding("CVE-2024-0003", status=VendorStatus.END_OF_LIFE, fixed=()),
        )
    )
    policy = Policy(source="p", ignore_statuses=frozenset({VendorStatus.END_OF_LIFE}))
    ev = evaluate(report, policy, NOW)
    assert ev.counts.as_dict() == {"blocking": 1, "allowlisted": 0, "ignored": 1, "informational": 1}
    assert [d.reason for d in ev.decisions] == [
        "CRITICAL is at or above the blocking severity HIGH",
        "LOW is below the blocking severity HIGH",
        "vendor status end_of_life is in ignore_statuses",
    ]


def test_naive_now_is_taken_as_utc_and_aware_now_is_converted() -> None:
    e = entry(0, expires=dt.date(2026, 6, 15))
    report = ScanReport(findings=(finding(),))
    policy = Policy(source="p", allowlist=(e,))
    # 2026-06-16 01:00 in UTC+3 is still 2026-06-15 in UTC: the entry applies.
    east = dt.datetime(2026, 6, 16, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert evaluate(report, policy, east).decisions[0].disposition is Disposition.ALLOWLISTED
    late = dt.datetime(2026, 6, 16, 0, 30)
    assert evaluate(report, policy, late).decisions[0].disposition is Disposition.BLOCKING


def test_evaluate_is_pure_same_inputs_same_result() -> None:
    report = ScanReport(
        findings=tuple(finding(f"CVE-2024-{i:04d}", severity=Severity(i % 5)) for i in range(20))
    )
    policy = Policy(
        source="p", allowlist=(entry(0, "CVE-2024-0004"),), fail_on=FailOn(budgets=((Severity.MEDIUM, 1),))
    )
    assert evaluate(report, policy, NOW) == evaluate(report, replace(policy), NOW)


def test_rule_references_print_as_the_policy_file_spells_them() -> None:
    assert [str(rule) for rule in (RuleRef(RuleKind.ALLOWLIST, index=3), RuleRef.budget(Severity.HIGH))] == [
        "allowlist[3]",
        "fail_on.budgets.HIGH",
    ]
    named = (RuleKind.ALLOWLIST, RuleKind.BUDGET, RuleKind.VEX)
    assert [str(RuleRef(kind)) for kind in RuleKind if kind not in named] == [
        "ignore_statuses",
        "fail_on.fixable_only",
        "fail_on.severity",
        "fail_on.cvss_score",
        "baseline.fail_on",
        "fail_on.known_exploited",
        "fail_on.epss",
        "ignore_suspects",
    ]
    assert str(RuleRef(RuleKind.VEX, vex="vex:app.openvex.json#2")) == "vex:app.openvex.json#2"


def test_budget_and_cvss_rules_are_typed() -> None:
    report = ScanReport(
        findings=(finding(severity=Severity.HIGH), finding("CVE-2024-0002", severity=Severity.LOW, cvss=9.8))
    )
    policy = Policy(source="p", fail_on=FailOn(cvss_score=9.0, budgets=((Severity.HIGH, 1),)))
    ev = evaluate(report, policy, NOW)
    assert [d.rule for d in ev.decisions] == [RuleRef.budget(Severity.HIGH), RuleRef(RuleKind.CVSS_SCORE)]
    assert ev.allowlist_entry(ev.decisions[0]) is None


def test_counts_are_made_once_per_disposition_and_severity() -> None:
    report = ScanReport(
        findings=(
            finding(severity=Severity.CRITICAL),
            finding("CVE-2024-0002", severity=Severity.HIGH),
            finding("CVE-2024-0003", severity=Severity.LOW),
            finding("CVE-2024-0004", status=VendorStatus.END_OF_LIFE, fixed=()),
        )
    )
    policy = Policy(
        source="p",
        ignore_statuses=frozenset({VendorStatus.END_OF_LIFE}),
        fail_on=FailOn(budgets=((Severity.HIGH, 1),)),
    )
    counts = evaluate(report, policy, NOW).counts
    assert counts.as_dict() == {"blocking": 1, "allowlisted": 0, "ignored": 1, "informational": 2}
    assert counts[Disposition.INFORMATIONAL] == 2
    assert counts.severity_table()["informational"] == {
        "CRITICAL": 0,
        "HIGH": 1,
        "MEDIUM": 0,
        "LOW": 1,
        "UNKNOWN": 0,
    }
    assert counts.severity_table()["ignored"]["HIGH"] == 1
    # The CRITICAL blocks, the HIGH is within its budget: both count as what would block.
    assert counts.would_block == 2
    assert counts == Counts.of(evaluate(report, policy, NOW).decisions)


def test_tolerated_findings_are_the_ones_advisory_mode_or_a_budget_let_through() -> None:
    report = ScanReport(
        findings=(
            finding(severity=Severity.CRITICAL),
            finding("CVE-2024-0002", severity=Severity.HIGH),
            finding("CVE-2024-0003", status=VendorStatus.END_OF_LIFE),
        )
    )
    policy = Policy(
        source="p",
        ignore_statuses=frozenset({VendorStatus.END_OF_LIFE}),
        fail_on=FailOn(budgets=((Severity.HIGH, 1),)),
    )
    decisions = evaluate(report, policy, NOW).decisions
    assert [(d.would_block, d.tolerated, d.blocks_when_enforced) for d in decisions] == [
        (True, False, True),  # blocking
        (True, True, True),  # within the HIGH budget
        (True, False, False),  # ignored: never counted, even at the threshold
    ]
    advisory = evaluate(report, replace(policy, mode=Mode.ADVISORY), NOW)
    assert [d.tolerated for d in advisory.decisions] == [True, True, False]
    assert advisory.passed


# --- the base image's threshold ------------------------------------------------------------------

BASE_CRITICAL = BaseImagePolicy(fail_on=FailOn(severity=Severity.CRITICAL, fixable_only=True))


def origins(
    *where: LayerOrigin | None, severity: Severity = Severity.HIGH, fixed: tuple[str, ...] = ("3.0.13-1",)
) -> list[Finding]:
    return [
        finding(
            f"CVE-2024-{i:04d}",
            severity=severity,
            fixed=fixed,
            # Without a fixed version the vendor has not fixed it: a `fixed` status alone is a fix.
            status=VendorStatus.FIXED if fixed else VendorStatus.AFFECTED,
            layer=layer(origin) if origin else None,
        )
        for i, origin in enumerate(where)
    ]


def test_the_base_image_threshold_judges_only_base_layer_findings() -> None:
    report = ScanReport(findings=tuple(origins(LayerOrigin.BASE, LayerOrigin.OWN)))
    ev = evaluate(report, Policy(source="p", base_image=BASE_CRITICAL), NOW)
    base, own = ev.decisions
    assert (base.disposition, str(base.rule)) == (Disposition.INFORMATIONAL, "base_image.fail_on.severity")
    assert base.reason == "HIGH is below the base image's blocking severity CRITICAL"
    assert (own.disposition, str(own.rule)) == (Disposition.BLOCKING, "fail_on.severity")
    assert own.reason == "HIGH is at or above the blocking severity HIGH"
    assert ev.policy_warnings == ()


def test_the_base_image_threshold_blocks_and_ignores_under_its_own_keys() -> None:
    policy = Policy(
        source="p",
        fail_on=FailOn(severity=Severity.CRITICAL),
        base_image=BaseImagePolicy(FailOn(severity=Severity.MEDIUM, fixable_only=True, cvss_score=9.0)),
    )
    report = ScanReport(
        findings=(
            *origins(LayerOrigin.BASE, severity=Severity.MEDIUM),
            *origins(LayerOrigin.BASE, severity=Severity.MEDIUM, fixed=()),
            finding("CVE-2024-0009", severity=Severity.LOW, cvss=9.5, layer=layer(LayerOrigin.BASE)),
        )
    )
    blocking, unfixed, scored = evaluate(report, policy, NOW).decisions
    assert (blocking.disposition, str(blocking.rule)) == (Disposition.BLOCKING, "base_image.fail_on.severity")
    assert blocking.reason == "MEDIUM is at or above the base image's blocking severity MEDIUM"
    assert (unfixed.disposition, str(unfixed.rule)) == (
        Disposition.IGNORED,
        "base_image.fail_on.fixable_only",
    )
    assert unfixed.reason.endswith("but no fixed version exists and base_image.fail_on.fixable_only is set")
    assert (scored.disposition, str(scored.rule)) == (Disposition.BLOCKING, "base_image.fail_on.cvss_score")
    assert scored.rule == RuleRef(RuleKind.CVSS_SCORE, base_image=True)


def test_findings_of_unknown_origin_follow_fail_on_and_the_outputs_are_told_once() -> None:
    report = ScanReport(findings=tuple(origins(None, None, LayerOrigin.BASE)), warnings=("old DB",))
    ev = evaluate(report, Policy(source="p", base_image=BASE_CRITICAL), NOW)
    assert [str(d.rule) for d in ev.decisions] == [
        "fail_on.severity",
        "fail_on.severity",
        "base_image.fail_on.severity",
    ]
    assert [d.disposition for d in ev.decisions][:2] == [Disposition.BLOCKING] * 2
    (warning,) = ev.policy_warnings
    assert warning.startswith(
        "2 finding(s) of unknown origin were judged by fail_on, not by base_image.fail_on"
    )
    assert ev.warnings == ("old DB", warning)
    # Without a threshold of its own for the base image, nothing needs saying.
    assert evaluate(report, Policy(source="p"), NOW).policy_warnings == ()


def test_in_the_action_and_gitlab_the_unknown_base_names_their_inputs() -> None:
    report = ScanReport(findings=tuple(origins(None)))
    policy = Policy(source="p", base_image=BASE_CRITICAL)
    (said,) = evaluate(report, policy, NOW).policy_warnings
    assert said.endswith("(`scan` learns it from --base-image, the image's base-name label or --dockerfile)")
    (action,) = evaluate(report, policy, NOW, EvaluationInputs(wording=ACTION_WORDS)).policy_warnings
    assert action.endswith(
        "(a scan of the action's `image` input learns it from the action's `base-image` input, the "
        "image's base-name label or the action's `dockerfile` input)"
    )
    (gitlab,) = evaluate(report, policy, NOW, EvaluationInputs(wording=GITLAB_WORDS)).policy_warnings
    assert gitlab.endswith(
        "(the job learns it from the `base-image` input (CONTAINER_GATE_BASE_IMAGE), the image's "
        "base-name label or the `dockerfile` input (CONTAINER_GATE_DOCKERFILE))"
    )
    assert "--" not in action + gitlab


def test_budgets_count_base_and_own_findings_together() -> None:
    policy = Policy(
        source="p",
        fail_on=FailOn(budgets=((Severity.HIGH, 1),)),
        base_image=BaseImagePolicy(FailOn(severity=Severity.HIGH)),
    )
    report = ScanReport(findings=tuple(origins(LayerOrigin.BASE, LayerOrigin.OWN)))
    assert [d.disposition for d in evaluate(report, policy, NOW).decisions] == [Disposition.BLOCKING] * 2


@pytest.mark.parametrize(
    ("wanted", "origin", "matches", "why"),
    [
        (LayerOrigin.BASE, LayerOrigin.BASE, True, None),
        (LayerOrigin.BASE, LayerOrigin.OWN, False, "origin 'base' differs from the finding's 'own'"),
        (LayerOrigin.OWN, LayerOrigin.OWN, True, None),
        (LayerOrigin.OWN, None, False, "the finding's origin is unknown (no base image is known)"),
    ],
)
def test_an_allowlist_entry_can_be_limited_to_one_origin(
    wanted: LayerOrigin, origin: LayerOrigin | None, matches: bool, why: str | None
) -> None:
    (f,) = origins(origin)
    got = run([f], allowlist=(entry(0, vulnerability=f.vulnerability_id, origin=wanted),))
    assert (got[0][0] is Disposition.ALLOWLISTED) is matches
    assert mismatch(entry(0, vulnerability=f.vulnerability_id, origin=wanted), f, None) == why
