"""The terminal summary: verdict first and last, the actions, what blocks, allowlist entries; no escape
sequence."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import replace

import pytest

from gate.model import ImageInfo, Layer, LayerOrigin, ScannerInfo, Severity, VendorStatus
from gate.platforms.gitlab import note_body
from gate.policy.evaluate import evaluate
from gate.policy.model import AllowlistEntry, FailOn, Mode, Policy
from gate.render.markdown import render_markdown
from gate.render.remediation import what_to_do
from gate.render.terminal import (
    MAX_ACTIONS,
    MAX_ROWS,
    MAX_WIDTH,
    MIN_WIDTH,
    WIDTH,
    CommandPart,
    fitted_width,
    render_terminal,
)
from gate.run_wording import ACTION_WORDS, GITLAB_WORDS
from gate.scanners.snyk import parse_snyk
from gate.untrusted import terminal_safe
from tests.support.corpus import corpus_evaluation, corpus_file, snyk_app_without_connect_paths
from tests.support.factories import NOW, evaluation_of, finding, layer

# What a terminal acts on: C0 and C1 controls (ESC, CSI, OSC's BEL) and the bidirectional overrides,
# and what no one sees (the soft hyphen, the tag characters).
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u00ad\U000e0000-\U000e0fff]")


def test_golden(golden: Callable[[str, str], None]) -> None:
    evaluation = corpus_evaluation(corpus_file("trivy", "debian-buster.json.golden"))
    golden("terminal-trivy-debian-buster.txt", render_terminal(evaluation))


@pytest.mark.parametrize(
    "text",
    [
        "\x1b[2J\x1b]0;pwned\x07",
        "\x9b31m C1 CSI",
        "abc\u202edcba\u2066x\u2069",
        "a\nb\r\nc\td",
        "\x00\x08\x7f",
        "lib\u00adidn2 \U000e0041\U000e0042",
    ],
)
def test_report_and_policy_text_cannot_reach_the_terminal_raw(text: str) -> None:
    hostile = finding(
        f"CVE-2024-0001{text}",
        pkg=f"p{text}",
        version=f"1{text}",
        fixed=(f"2{text}",),
        path=f"usr/{text}",
    )
    hostile = replace(hostile, layer=Layer(created_by=text, origin=LayerOrigin.OWN))
    entries = (
        AllowlistEntry(0, f"CVE-1999-0001{text}", reason=f"gone {text}", expires=dt.date(2020, 1, 1)),
        AllowlistEntry(1, f"CVE-1999-0002{text}", reason=f"unused {text}"),
    )
    evaluation = evaluation_of(
        hostile,
        replace(hostile, scanners=("grype",), package=replace(hostile.package, name=f"q{text}")),
        policy=Policy(source=f"policy{text}.yaml", allowlist=entries, fail_on_expired=True),
        image=ImageInfo(f"app{text}:1", os="linux", architecture=text, distro=text, digest=text),
        scanners=(ScannerInfo("trivy", text, db_updated_at=text), ScannerInfo("grype", text)),
        warnings=(f"warning {text}",),
    )
    out = render_terminal(evaluation)
    assert not UNSAFE.search(out), repr(UNSAFE.search(out))
    assert "Allowlist entries that need attention" in out
    # An entry's line longer than the summary's 100 columns goes on as many as it needs.
    said = " ".join(out.split())
    assert ": expired on 2020-01-01: gone " in said
    assert ": matched no finding: unused " in said
    assert "Policy failures:" in out
    assert f"p{terminal_safe(text, 28)}"[:20] in out


def test_terminal_safe_shows_controls_and_flattens_lines() -> None:
    assert terminal_safe("a\x1b[31mb\u202e") == "a\\x1b[31mb\\u202e"
    assert terminal_safe("lib\u00adidn2\U000e0041") == "lib\\xadidn2\\U000e0041"
    assert terminal_safe("one\ntwo\r\n\tthree") == "one two three"
    assert terminal_safe("x" * 10, 5) == "xxxx…"
    assert terminal_safe(None) == ""


ROW = re.compile(r"^  (?:#\d+|-|more) +(CVE-\S+) ", re.M)


@pytest.mark.parametrize(
    ("json_path", "more"),
    [(None, "--json PATH lists them all"), ("out/gate.json", "all are in out/gate.json")],
)
def test_blocking_rows_most_severe_first_and_capped(json_path: str | None, more: str) -> None:
    findings = [
        finding(f"CVE-2024-{n:04d}", severity=Severity.CRITICAL if n % 2 else Severity.HIGH)
        for n in range(MAX_ROWS + 10)
    ]
    out = render_terminal(evaluation_of(*findings), json_path)
    ids = ROW.findall(out)
    expected = sorted(findings, key=lambda f: (-f.severity, f.vulnerability_id))[:MAX_ROWS]
    assert ids == [f.vulnerability_id for f in expected]
    assert f"Findings that block ({MAX_ROWS + 10}), with the action (#) that clears them:" in out
    assert f"  ... and 10 more ({more})" in out
    assert "  why they block: at or above the blocking severity HIGH (30)" in out


def test_the_verdict_is_the_first_and_the_last_line_and_the_actions_fit_100_columns() -> None:
    long_name = "lib" + "x" * 120
    findings = [finding(f"CVE-2024-{n:04d}", pkg=f"{long_name}{n}") for n in range(MAX_ACTIONS + 3)]
    findings.append(
        finding(
            "CVE-2024-9999",
            pkg="openssl",
            source_name="openssl",
            severity=Severity.CRITICAL,
            layer=layer(LayerOrigin.OWN, 7),
        )
    )
    out = render_terminal(evaluation_of(*findings)).splitlines()
    assert (
        out[0]
        == out[-1]
        == f"container-gate: FAIL: {MAX_ACTIONS + 4} blocking finding(s); {MAX_ACTIONS + 4} actions clear them."
    )
    table = out[out.index("What to do, most useful first:") + 1 :]
    table = table[: table.index("")]
    assert table[0].split() == ["#", "CLEARS", "SEVERITY", "WHAT", "TO", "DO", "LAYER", "LINE"]
    assert all(len(line) <= WIDTH for line in table)
    assert "       $ apt-get update && apt-get install -y --only-upgrade openssl" in table
    assert (
        table[-1]
        == f"  ... and 4 more actions, #{MAX_ACTIONS + 1} to #{MAX_ACTIONS + 4} (--json PATH lists them all)"
    )
    # The rows of the findings they clear name them by number too, listed or not.
    start = next(n for n, line in enumerate(out) if line.startswith("Findings that block"))
    rows = out[start + 3 : out.index("", start)]
    assert sorted(row.split()[0] for row in rows) == sorted(f"#{n}" for n in range(1, MAX_ACTIONS + 5))


@pytest.mark.parametrize("width", [MIN_WIDTH, 72, WIDTH, 130, MAX_WIDTH])
def test_the_tables_fit_the_width_asked_for(width: int) -> None:
    long_name = "lib" + "x" * 200
    # Fixes listed for thirty releases: a versions column wider than any terminal.
    fixes = [tuple(f"3.{n + 1}.{k}-1" for k in range(30)) for n in range(3)]
    evaluation = evaluation_of(
        *(finding(f"CVE-2024-{n:04d}", pkg=f"{long_name}{n}", fixed=fixes[n]) for n in range(3))
    )
    out = render_terminal(evaluation, width=width).splitlines()
    actions = out[out.index("What to do, most useful first:") + 1 :]
    actions = actions[: actions.index("")]
    assert max(len(line) for line in actions) == width
    start = next(n for n, line in enumerate(out) if line.startswith("  ACTION  ID"))
    rows = out[start : out.index("", start)]
    # The versions column gives way first, down to its header; on a narrower terminal the package
    # and the versions are cut further, and the rows still fit, each with its whole id.
    assert max(len(line) for line in rows) == width
    assert [row.split()[1] for row in rows[1:]] == ["CVE-2024-0000", "CVE-2024-0001", "CVE-2024-0002"]
    assert out[0] == out[-1] == render_terminal(evaluation).splitlines()[0]


def test_without_a_width_the_summary_is_100_columns_wide() -> None:
    evaluation = evaluation_of(finding(pkg="org.springframework:spring-beans" + "-x" * 40))
    assert render_terminal(evaluation) == render_terminal(evaluation, width=WIDTH)
    assert WIDTH == 100
    assert render_terminal(evaluation, width=60) != render_terminal(evaluation)
    assert [fitted_width(c) for c in (1, 59, 60, 80, 100, 160, 161, 500)] == [
        60,
        60,
        60,
        80,
        100,
        160,
        160,
        160,
    ]


def test_findings_that_block_without_a_fix_say_so_and_what_to_do_about_them() -> None:
    unfixed = finding("CVE-2024-0009", pkg="zlib1g", fixed=(), status=VendorStatus.AFFECTED)
    out = render_terminal(evaluation_of(unfixed)).splitlines()
    assert out[0] == out[-1] == "container-gate: FAIL: 1 blocking finding(s); none has a fix yet."
    advice = "  ACTION -: no fix yet for 1; allowlist them with a reason and an expiry, or remove the package"
    assert advice in out
    assert all(len(line) <= WIDTH for line in out if line.startswith("  "))
    both = render_terminal(evaluation_of(unfixed, finding("CVE-2024-0001"))).splitlines()
    assert (
        both[0]
        == "container-gate: FAIL: 2 blocking finding(s); 1 action clears 1 of them, 1 without a fix yet."
    )
    assert advice in both


def test_a_finding_whose_listed_fix_is_not_newer_says_so_where_no_fix_is_advised() -> None:
    # The scanner lists a fix, but it is what is installed: no upgrade clears the finding, and
    # "no fix yet" alone would contradict the row's `3.0.2-1 -> 3.0.2-1`.
    stale = finding("CVE-2024-0009", pkg="zlib1g", fixed=("3.0.2-1",))
    unfixed = finding("CVE-2024-0010", pkg="zlib1g", fixed=(), status=VendorStatus.AFFECTED)
    advice = (
        "  ACTION -: no fix yet for {}; allowlist them with a reason and an expiry, or remove the package"
    )
    out = render_terminal(evaluation_of(stale)).splitlines()
    said = out.index(advice.format(1))
    assert out[said + 1] == "  (it lists a fix no newer than the installed version)"
    out = render_terminal(evaluation_of(stale, unfixed)).splitlines()
    said = out.index(advice.format(2))
    assert out[said + 1] == "  (1 of them lists a fix no newer than the installed version)"
    assert all(len(line) <= WIDTH for line in out if line.startswith("  "))
    # Without such a finding, nothing more is said.
    out = render_terminal(evaluation_of(unfixed)).splitlines()
    assert out[out.index(advice.format(1)) + 1] == ""


def test_an_upgrade_whose_fix_cannot_be_ordered_says_it_is_not_known_to_be_newer() -> None:
    # Grype's rpm fix without the package's epoch: the fix may well be newer, the ordering cannot
    # say, so the action has no target; "no listed fix is newer" would be untrue.
    openssl = finding(pkg="openssl-libs", type="rpm", version="1:1.1.1k-5.el8", fixed=("1.1.1k-7.el8",))
    (action,) = evaluation_of(openssl).plan.actions
    assert action.target_version is None
    assert (
        what_to_do(action, "->") == "Upgrade openssl-libs 1:1.1.1k-5.el8 (no listed fix is known to be newer)"
    )
    assert "(no listed fix is known to be newer)" in render_markdown(evaluation_of(openssl))


def test_counts_per_disposition_and_severity() -> None:
    policy = Policy(
        source="p.yaml",
        ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX}),
        allowlist=(AllowlistEntry(0, "CVE-2024-0002", "not shipped"),),
    )
    evaluation = evaluation_of(
        finding("CVE-2024-0001", severity=Severity.CRITICAL),
        finding("CVE-2024-0002"),
        finding("CVE-2024-0003", status=VendorStatus.WILL_NOT_FIX, fixed=()),
        finding("CVE-2024-0004", severity=Severity.LOW),
        finding("CVE-2024-0005", severity=Severity.LOW),
        policy=policy,
    )
    lines = render_terminal(evaluation).splitlines()
    assert lines[0] == "container-gate: FAIL: 1 blocking finding(s); 1 action clears it."
    assert "findings: 5 total: 1 blocking, 1 allowlisted, 1 ignored, 2 informational" in lines
    assert "  blocking      CRITICAL 1" in lines
    assert "  informational LOW 2" in lines


def image_text(lines: list[str]) -> str:
    """The image's line, joined with the lines it goes on to under the reference."""
    start = next(i for i, line in enumerate(lines) if line.startswith("image:    "))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(" " * 10))
    return " ".join(line.strip() if i else line for i, line in enumerate(lines[start:end]))


def test_the_image_line_names_a_digest_once() -> None:
    digest = "sha256:" + "1" * 64
    lines = render_terminal(
        corpus_evaluation(corpus_file("grype", "anchore-grype__keycloak-test.json"))
    ).splitlines()
    shown = image_text(lines)
    assert shown.count("sha256:") == 1, shown

    def image_line(reference: str) -> str:
        image = ImageInfo(reference, os="linux", architecture="amd64", digest=digest)
        return image_text(render_terminal(evaluation_of(finding(), image=image)).splitlines())

    assert image_line(f"app@{digest}") == f"image:    app@{digest} (linux/amd64)"
    # A tag, or another digest (the index's where the image is one platform's), keeps it beside.
    assert image_line("app:1") == f"image:    app:1 (linux/amd64, {digest})"
    other = "sha256:" + "2" * 64
    assert image_line(f"app@{other}") == f"image:    app@{other} (linux/amd64, {digest})"


def test_scanner_agreement_and_found_by() -> None:
    both = replace(finding("CVE-2024-0001"), scanners=("trivy", "grype"))
    grype_only = replace(finding("CVE-2024-0002"), scanners=("grype",))
    scanners = (ScannerInfo("trivy", "0.50.1"), ScannerInfo("grype", "0.74.0"))
    out = render_terminal(evaluation_of(both, grype_only, scanners=scanners))
    assert "agreement: 1 of 2 findings reported by all scanners; 0 only by trivy, 1 only by grype" in out
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^  #\d+ +(CVE-\S+) .*$", out, re.M)}
    assert rows["CVE-2024-0001"].endswith("  trivy+grype")
    assert rows["CVE-2024-0002"].endswith("  grype only")


def test_advisory_lists_only_what_would_block_an_enforcing_policy() -> None:
    # Allowlisted and ignored findings meet the threshold too, but an enforcing policy would not
    # block them either: they are not "findings that would block".
    policy = Policy(
        source="p.yaml",
        mode=Mode.ADVISORY,
        ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX}),
        allowlist=(AllowlistEntry(0, "CVE-2024-0002", "not shipped"),),
    )
    evaluation = evaluation_of(
        finding("CVE-2024-0001", severity=Severity.CRITICAL),
        finding("CVE-2024-0002", severity=Severity.CRITICAL),
        finding("CVE-2024-0003", severity=Severity.CRITICAL, status=VendorStatus.WILL_NOT_FIX, fixed=()),
        finding("CVE-2024-0004", severity=Severity.LOW),
        policy=policy,
    )
    out = render_terminal(evaluation)
    assert out.startswith("container-gate: ADVISORY MODE: this gate never fails.")
    assert "Findings that would block (1), with the action (#) that clears them:" in out
    assert ROW.findall(out) == ["CVE-2024-0001"]


EXPLAIN = [
    CommandPart("container-gate explain ID", "container-gate explain ID"),
    CommandPart("--report 'reports/the app image, scanned by trivy.json'", "--report REPORT"),
    CommandPart("--policy /home/dev/src/app/deploy/container-gate/policies/prod.yaml", "--policy FILE"),
    CommandPart("--as-of 2027-02-01", "--as-of DATE"),
]


@pytest.mark.parametrize(
    ("width", "whole"),
    [(MIN_WIDTH, {0, 3}), (72, {0, 1, 3}), (WIDTH, {0, 1, 2, 3})],
)
def test_the_explain_command_is_broken_between_its_parts_within_the_width(
    width: int, whole: set[int]
) -> None:
    # The command is pasted into a shell: broken only before a part, with the line continuation,
    # never inside a quoted path; a part longer than a line is its stand-in, not cut short.
    out = render_terminal(evaluation_of(finding()), width=width, explain=EXPLAIN).splitlines()
    start = out.index("  why one blocks, and what clears it:")
    command = out[start + 1 : out.index("", start)]
    assert all(len(line) <= width for line in command)
    assert all(line.endswith(" \\") for line in command[:-1])
    pasted = " ".join(line.removesuffix(" \\").strip() for line in command).removeprefix("$ ")
    assert pasted == " ".join(part.text if n in whole else part.stand_in for n, part in enumerate(EXPLAIN))


def test_the_explain_command_says_would_block_in_advisory_mode_and_is_left_out_when_not_given() -> None:
    advisory = evaluation_of(finding(), policy=Policy(source="p.yaml", mode=Mode.ADVISORY))
    out = render_terminal(advisory, explain=EXPLAIN[:1]).splitlines()
    start = out.index("  why one would block, and what clears it:")
    assert out[start + 1] == "    $ container-gate explain ID"
    assert "explain" not in render_terminal(evaluation_of(finding()))
    # Nothing blocks: nothing to explain.
    assert "explain" not in render_terminal(evaluation_of(finding(severity=Severity.LOW)), explain=EXPLAIN)


def test_allowlist_entries_that_need_attention_are_capped_too() -> None:
    entries = tuple(
        AllowlistEntry(n, f"CVE-2023-{n:04d}", "not shipped", expires=dt.date(2026, 1, 1))
        for n in range(MAX_ROWS + 5)
    )
    out = render_terminal(
        evaluation_of(finding(), policy=Policy(source="p.yaml", allowlist=entries)), "gate.json"
    )
    lines = out.splitlines()
    start = lines.index("Allowlist entries that need attention (renew, fix or remove them):")
    listed = lines[start + 1 : lines.index("", start)]
    assert len(listed) == MAX_ROWS + 1
    assert listed[-1] == "  ... and 5 more (all are in gate.json)"


def test_the_allowlist_entries_that_cleared_findings_are_named_with_their_packages() -> None:
    # After an edit of the policy, the counts said "5 allowlisted" and nothing said which entry
    # took effect, on which packages: the reader opened the JSON report or ran `explain`.
    entries = (
        AllowlistEntry(0, "CVE-2024-0002", "perl is not run"),
        AllowlistEntry(1, "CVE-2099-0001", "stale"),
        AllowlistEntry(2, "CVE-2024-0003", "libpq is not used", package="libpq5"),
    )
    perl = ("libperl5.36", "perl", "perl-base", "perl-modules-5.36")
    evaluation = evaluation_of(
        finding("CVE-2024-0001", severity=Severity.CRITICAL),
        *(finding("CVE-2024-0002", pkg=name) for name in perl),
        finding("CVE-2024-0003", pkg="libpq5"),
        finding("CVE-2024-0003", pkg="libpq-dev"),
        policy=Policy(source="p.yaml", allowlist=entries),
    )
    lines = render_terminal(evaluation).splitlines()
    start = lines.index("Allowlist entries that cleared findings (2):")
    assert lines[start + 1 : lines.index("", start)] == [
        "  - allowlist[0] CVE-2024-0002: 4 findings in libperl5.36, perl, perl-base and 1 more",
        "  - allowlist[2] CVE-2024-0003: 1 finding in libpq5",
    ]
    # The entry that matched nothing is where it needs attention, not here.
    assert "  - allowlist[1] CVE-2099-0001: matched no finding: stale" in lines
    # Nothing cleared by an entry: no section.
    assert "Allowlist entries that cleared findings" not in render_terminal(evaluation_of(finding()))


def test_the_allowlist_entries_that_cleared_findings_stop_at_the_row_limit() -> None:
    # A policy of many used entries: the summary lists MAX_ROWS of them, in the policy's order, and
    # counts the rest where the JSON report lists them.
    used = MAX_ROWS + 3
    entries = tuple(AllowlistEntry(n, f"CVE-2024-{n:04d}", "not reachable") for n in range(used))
    evaluation = evaluation_of(
        *(finding(f"CVE-2024-{n:04d}", pkg=f"lib{n}") for n in range(used)),
        policy=Policy(source="p.yaml", allowlist=entries),
    )
    lines = render_terminal(evaluation, "gate.json").splitlines()
    start = lines.index(f"Allowlist entries that cleared findings ({used}):")
    listed = lines[start + 1 : lines.index("", start)]
    assert len(listed) == MAX_ROWS + 1
    assert listed[0] == "  - allowlist[0] CVE-2024-0000: 1 finding in lib0"
    assert (
        listed[-2]
        == f"  - allowlist[{MAX_ROWS - 1}] CVE-2024-{MAX_ROWS - 1:04d}: 1 finding in lib{MAX_ROWS - 1}"
    )
    assert listed[-1] == "  ... and 3 more (all are in gate.json)"


# The invisible characters and the bidi marks: zero-width spaces and joiners, LRM/RLM, ALM, the
# word joiner and invisible operators, the byte-order mark.
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u061c\u2060\u2061\u2062\u2063\u2064\ufeff"


@pytest.mark.parametrize("char", [*INVISIBLE, "\u202a", "\u202e", "\u2066", "\u2069"])
def test_an_invisible_or_bidi_character_cannot_make_a_name_pass_for_another(char: str) -> None:
    spoof = finding("CVE-2024-0002", pkg=f"req{char}uests", path=f"usr/lib/req{char}uests")
    evaluation = evaluation_of(finding("CVE-2024-0001", pkg="requests"), spoof)
    out = render_terminal(evaluation)
    assert char not in out
    assert f"req\\u{ord(char):04x}uests" in out


def test_beside_blocking_findings_those_a_budget_tolerates_are_not_counted_as_blocking() -> None:
    # One CRITICAL blocks; two HIGH are within the HIGH budget: informational, as the counts say.
    # The lead, the actions, their "clears" and the list of what blocks say the same: 1, not 3.
    ev = evaluation_of(
        finding("CVE-2024-0001", severity=Severity.CRITICAL),
        finding("CVE-2024-0002", pkg="curl", version="7.88.1-10", fixed=("7.88.1-10+deb12u5",)),
        finding("CVE-2024-0003"),
        policy=Policy(source="policy.yaml", fail_on=FailOn(budgets=((Severity.HIGH, 5),))),
    )
    text = render_terminal(ev)
    assert text.splitlines()[0] == "container-gate: FAIL: 1 blocking finding(s); 1 action clears it."
    actions = text.split("What to do, most useful first:\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[:3] for line in actions[1:] if not line.startswith("       ")] == [
        ["1", "1", "CRITICAL"]
    ]
    assert "Findings that block (1), with the action (#) that clears them:" in text
    assert "curl" not in text
    assert "CVE-2024-0003" not in text

    md = render_markdown(ev)
    assert "**1 finding blocks; 1 action clears it.**" in md
    assert "| Upgrade `openssl` `3.0.2-1` → `3.0.13-1` | **1**: 1 CRITICAL |" in md
    assert "Findings the upgrade of <code>openssl</code> clears (1)" in md
    # The upgrade of curl clears nothing that blocks: among the other actions, not the lead ones.
    assert "<summary>More actions (1)</summary>" in md
    assert "| Upgrade `curl` `7.88.1-10` → `7.88.1-10+deb12u5` | 1 other finding: 1 HIGH |" in md
    # The findings the budget tolerates are listed once, with the informational ones.
    assert "<summary>Informational (2)</summary>" in md
    assert md.count("CVE\\-2024\\-0002") == md.count("CVE\\-2024\\-0003") == 1


def test_a_scan_without_a_base_image_says_once_below_the_actions_that_one_would_group_them() -> None:
    # A scan of a docker-archive whose base image is unknown lists each package as its own action;
    # given --base-image, those of the base image's layers are one refresh.
    image = ImageInfo("docker-archive:app.tar", base_sought=True)
    findings = [finding("CVE-2024-0001", pkg="openssl"), finding("CVE-2024-0002", pkg="zlib1g")]
    out = render_terminal(evaluation_of(*findings, image=image), width=200)
    said = (
        "  (the base image is not known, so each package is an action of its own: give --base-image REF "
        "(or --dockerfile PATH) and the base image's packages are one action, a rebuild on a refreshed "
        "base image)"
    )
    lines = out.splitlines()
    assert lines.count(said) == 1
    assert (
        lines[lines.index(said) - 1].strip() == "$ apt-get update && apt-get install -y --only-upgrade zlib1g"
    )
    # Not when the base image is known, nor for one action, nor for a report `check` read.
    known = replace(image, base_image="debian:12", base_layer_count=1)
    assert "base image is not known" not in render_terminal(evaluation_of(*findings, image=known), width=200)
    assert "base image is not known" not in render_terminal(
        evaluation_of(findings[0], image=image), width=200
    )
    report = replace(image, base_sought=False)
    assert "base image is not known" not in render_terminal(evaluation_of(*findings, image=report), width=200)


def test_in_the_action_the_base_image_hint_names_its_inputs() -> None:
    # The action's users set its `base-image` or `dockerfile` input: they type no --base-image.
    image = ImageInfo("app:1", base_sought=True)
    findings = [finding("CVE-2024-0001", pkg="openssl"), finding("CVE-2024-0002", pkg="zlib1g")]
    evaluation = evaluation_of(*findings, image=image)
    terminal = render_terminal(evaluation, json_hint=ACTION_WORDS.json_report, width=200)
    assert "set the action's base-image input (or its dockerfile input) and the base image's" in terminal
    markdown = render_markdown(evaluation, json_hint=ACTION_WORDS.json_report)
    assert (
        "_The base image is not known, so each package is an action of its own: set the action's " in markdown
    )
    assert "`base-image` input (or its `dockerfile` input) and the base image's packages" in markdown
    assert "--base-image" not in terminal + markdown


def test_in_the_gitlab_templates_the_base_image_hint_names_their_input_and_variable() -> None:
    # The templates' users set `base-image` (CONTAINER_GATE_BASE_IMAGE) or `dockerfile`: the job
    # runs the command line, but they type no --base-image.
    image = ImageInfo("app:1", base_sought=True)
    findings = [finding("CVE-2024-0001", pkg="openssl"), finding("CVE-2024-0002", pkg="zlib1g")]
    evaluation = evaluation_of(*findings, image=image)
    terminal = render_terminal(evaluation, json_hint=GITLAB_WORDS.json_report, width=200)
    assert (
        "set the base-image input (the CONTAINER_GATE_BASE_IMAGE variable) or the dockerfile input and the "
        "base image's packages"
    ) in terminal
    note = note_body(evaluation, "<!-- container-gate -->", json_hint=GITLAB_WORDS.json_report)
    assert "set the `base-image` input (the `CONTAINER_GATE_BASE_IMAGE` variable) or the `dockerfile`" in note
    assert "the job's `container-gate.json` artifact" in note
    assert "--base-image" not in terminal + note
    assert "--json" not in note


def test_several_reasons_why_findings_block_are_one_a_line() -> None:
    # A budget's reason holds a `;` of its own: joined by `;`, "at or above the blocking severity
    # HIGH (1); HIGH is at or above the blocking severity HIGH; 2 HIGH findings exceed the budget
    # of 1 (2)" read as three reasons, the middle one without a count.
    policy = Policy(
        source="policy.yaml", fail_on=FailOn(severity=Severity.HIGH, budgets=((Severity.HIGH, 1),))
    )
    evaluation = evaluation_of(
        finding("CVE-2024-0001", pkg="openssl"),
        finding("CVE-2024-0002", pkg="zlib1g"),
        finding("CVE-2024-0003", pkg="curl", severity=Severity.CRITICAL),
        policy=policy,
    )
    out = render_terminal(evaluation).splitlines()
    start = out.index("  why they block:")
    assert out[start + 1 : start + 3] == [
        "    - HIGH is at or above the blocking severity HIGH; 2 HIGH findings exceed the budget of 1 (2)",
        "    - at or above the blocking severity HIGH (1)",
    ]
    assert out[start + 3].startswith("  ACTION  ID")
    # One reason stays on the line it explains.
    alone = render_terminal(evaluation_of(finding("CVE-2024-0001", pkg="openssl"))).splitlines()
    assert "  why they block: at or above the blocking severity HIGH (1)" in alone


def test_ignored_findings_are_counted_by_reason() -> None:
    # "ignored HIGH 30" and a pass: the summary said how many, not why, and a reader of a Debian
    # image's scan asks exactly that. The reasons are counted, as the Markdown summary lists them.
    policy = Policy(source="policy.yaml", fail_on=FailOn(severity=Severity.HIGH, fixable_only=True))
    unfixed = [finding(f"CVE-2024-{n:04d}", fixed=(), status=VendorStatus.AFFECTED) for n in range(3)]
    evaluation = evaluation_of(*unfixed, finding("CVE-2024-0009", severity=Severity.LOW), policy=policy)
    out = render_terminal(evaluation, "gate.json").splitlines()
    assert out[0] == out[-1] == "container-gate: PASS: no blocking findings."
    start = out.index("Ignored (3), by reason (all are in gate.json):")
    assert out[start + 1 : start + 3] == [
        "  - HIGH is at or above the blocking severity HIGH, but no fixed version exists and",
        "    fail_on.fixable_only is set (3)",
    ]
    # Nothing ignored: no such section.
    assert "Ignored (" not in render_terminal(evaluation_of(finding(severity=Severity.LOW)))


def test_the_upgrade_of_a_direct_dependency_says_what_it_fixes() -> None:
    """Snyk's corpus report (without its paths through `express > connect`): `qs` comes through
    `express`, whose upgrade Snyk names; the action is that upgrade, and the vulnerable packages
    stay in sight with their fixed versions."""
    report = parse_snyk(snyk_app_without_connect_paths(), "snyk.json")
    evaluation = evaluate(report, Policy(source="p"), NOW)
    first = evaluation.plan.actions[0]
    assert what_to_do(first, "->") == (
        "Upgrade express 2.5.11 -> 3.11.0 (fixes connect 1.9.2 -> 2.8.2, mime 1.2.4 -> 1.4.1, qs 0.4.2 -> 6.0.4)"
    )
    text = render_terminal(evaluation, width=200)
    assert "Upgrade express 2.5.11 -> 3.11.0 (fixes" in text
    assert "Upgrade qs" not in text


def test_an_upgrade_no_direct_dependency_brings_says_so() -> None:
    qs = finding("CVE-1", pkg="qs", version="0.4.2", type="npm", path="package.json", fixed=("1.0.0",))
    evaluation = evaluation_of(replace(qs, no_direct_upgrade=True))
    (action,) = evaluation.plan.actions
    assert what_to_do(action, "->") == (
        "Upgrade qs 0.4.2 -> 1.0.0 (no upgrade of a direct dependency brings the fix: pin or override it)"
    )
