"""Property-based checks of `evaluate`: what must hold for every report and policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gate.model import Cvss, Finding, ImageInfo, Package, ScanReport, Severity, VendorStatus
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Disposition
from gate.policy.model import AllowlistEntry, FailOn, Mode, Policy

NOW = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)
IDS = ["CVE-2024-0001", "CVE-2024-0002", "GHSA-aaaa-bbbb-cccc", "DSA-5000-1", "cve-2024-0003"]
PACKAGES = ["openssl", "zlib1g", "flask", "lodash"]
VERSIONS = ["1.0", "1.1", "2.0-1"]
PATHS = ["", "usr/lib/python3/dist-packages/flask", "app/node_modules/lodash/package.json"]
DATES = [None, dt.date(2026, 6, 14), dt.date(2026, 6, 15), dt.date(2027, 1, 1)]

severities = st.sampled_from(list(Severity))
statuses = st.sampled_from(list(VendorStatus))

findings_st = st.builds(
    Finding,
    vulnerability_id=st.sampled_from(IDS),
    package=st.builds(
        Package,
        name=st.sampled_from(PACKAGES),
        version=st.sampled_from(VERSIONS),
        path=st.sampled_from(PATHS),
        purl=st.none(),
    ),
    severity=severities,
    aliases=st.lists(st.sampled_from(IDS), max_size=2, unique=True).map(tuple),
    fixed_versions=st.lists(st.sampled_from(VERSIONS), max_size=2).map(tuple),
    status=statuses,
    cvss=st.one_of(st.none(), st.builds(Cvss, score=st.floats(0, 10, allow_nan=False))),
)


@st.composite
def entries_st(draw: st.DrawFn, index: int) -> AllowlistEntry:
    return AllowlistEntry(
        index=index,
        vulnerability=draw(st.sampled_from(IDS)),
        reason="accepted",
        package=draw(st.one_of(st.none(), st.sampled_from(PACKAGES))),
        version=draw(st.one_of(st.none(), st.sampled_from(VERSIONS))),
        path=draw(st.one_of(st.none(), st.sampled_from(["**", "usr/**", "app/*"]))),
        image=draw(st.one_of(st.none(), st.sampled_from(["*", "ghcr.io/acme/*", "other/*"]))),
        expires=draw(st.sampled_from(DATES)),
    )


@st.composite
def policies_st(draw: st.DrawFn) -> Policy:
    n = draw(st.integers(0, 4))
    budgets = draw(st.dictionaries(severities, st.integers(0, 3), max_size=2))
    return Policy(
        source="generated",
        fail_on=FailOn(
            severity=draw(severities),
            fixable_only=draw(st.booleans()),
            cvss_score=draw(st.one_of(st.none(), st.floats(0, 10, allow_nan=False))),
            budgets=tuple(budgets.items()),
        ),
        ignore_statuses=frozenset(draw(st.sets(statuses, max_size=3))),
        allowlist=tuple(draw(entries_st(i)) for i in range(n)),
        fail_on_expired=draw(st.booleans()),
        mode=draw(st.sampled_from(list(Mode))),
    )


reports_st = st.builds(
    ScanReport,
    findings=st.lists(findings_st, max_size=25).map(tuple),
    image=st.one_of(
        st.none(), st.builds(ImageInfo, reference=st.sampled_from(["ghcr.io/acme/app:1", "x:1"]))
    ),
)


@settings(max_examples=400, deadline=None)
@given(reports_st, policies_st())
def test_every_finding_gets_exactly_one_disposition(report: ScanReport, policy: Policy) -> None:
    ev = evaluate(report, policy, NOW)
    assert [d.finding for d in ev.decisions] == list(report.findings)
    assert all(isinstance(d.disposition, Disposition) and d.reason and d.rule for d in ev.decisions)
    assert sum(ev.counts.as_dict().values()) == len(report.findings)
    assert len(ev.entries) == len(policy.allowlist)
    assert ev.passed == (ev.counts[Disposition.BLOCKING] == 0 and not ev.policy_failures)


@settings(max_examples=400, deadline=None)
@given(reports_st, policies_st(), st.data())
def test_adding_a_live_allowlist_entry_never_turns_a_pass_into_a_fail(
    report: ScanReport, policy: Policy, data: st.DataObject
) -> None:
    extra = data.draw(entries_st(len(policy.allowlist)))
    if extra.is_expired(NOW.date()):
        # An expired entry does not apply by definition, and under fail_on_expired it is
        # meant to fail the gate: that is the one way adding an entry can fail.
        extra = replace(extra, expires=None)
    before = evaluate(report, policy, NOW)
    after = evaluate(report, replace(policy, allowlist=(*policy.allowlist, extra)), NOW)
    assert after.counts[Disposition.BLOCKING] <= before.counts[Disposition.BLOCKING]
    if before.passed:
        assert after.passed


@settings(max_examples=300, deadline=None)
@given(reports_st, policies_st())
def test_advisory_mode_always_passes_and_counts_what_would_block(report: ScanReport, policy: Policy) -> None:
    enforce = evaluate(
        report, replace(policy, mode=Mode.ENFORCE, fail_on=replace(policy.fail_on, budgets=())), NOW
    )
    advisory = evaluate(
        report, replace(policy, mode=Mode.ADVISORY, fail_on=replace(policy.fail_on, budgets=())), NOW
    )
    assert advisory.passed
    assert advisory.counts[Disposition.BLOCKING] == 0
    assert advisory.counts.would_block == enforce.counts.would_block
    # Without budgets, what advisory mode says would block is exactly what enforcing blocks.
    assert advisory.counts.would_block == enforce.counts[Disposition.BLOCKING]


@settings(max_examples=300, deadline=None)
@given(reports_st, policies_st(), severities)
def test_raising_the_threshold_never_adds_blocking_findings(
    report: ScanReport, policy: Policy, higher: Severity
) -> None:
    assume(higher >= policy.fail_on.severity)
    low = evaluate(report, policy, NOW)
    high = evaluate(report, replace(policy, fail_on=replace(policy.fail_on, severity=higher)), NOW)
    # Per severity, raising the bar only removes candidates, so no budget can newly overflow.
    assert high.counts[Disposition.BLOCKING] <= low.counts[Disposition.BLOCKING]
