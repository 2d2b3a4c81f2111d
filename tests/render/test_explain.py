"""`explain`'s "to fix it" line: the action of the summaries' "What to do" table, or why none;
what it says of the allowlist entries naming the id; and its lines within the terminal's width."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace

import pytest

from gate.enrich.load import load_exploit_data
from gate.model import ImageInfo, LayerOrigin, Severity
from gate.policy.evaluate import evaluate
from gate.policy.inputs import EvaluationInputs
from gate.policy.model import AllowlistEntry, ExploitDataPolicy, FailOn, Mode, OnStale, Policy
from gate.render._columns import display_width
from gate.render.explain import explain
from tests.support.corpus import corpus_evaluation, corpus_file
from tests.support.factories import evaluation_of, finding, layer, report


def fix_line(text: str) -> str:
    """The `to fix it:` line, with the lines its words go on to (not its command's)."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("  to fix it:"))
    going_on = itertools.takewhile(
        lambda line: line.startswith(" " * 15) and not line.lstrip().startswith("$ "), lines[start + 1 :]
    )
    return " ".join([lines[start], *(line.strip() for line in going_on)])


def test_a_listed_fix_no_newer_than_the_installed_version_is_no_action() -> None:
    ev = evaluation_of(finding(version="3.0.13-1", fixed=("3.0.2-1",)))
    assert ev.plan.action_of(ev.decisions[0].finding) is None
    text, found = explain(ev, "CVE-2024-0001")
    assert found
    assert fix_line(text) == (
        "  to fix it:   no action: its listed fix is no newer than the installed version"
    )


def test_a_base_image_pinned_by_digest_is_refreshed_by_its_tag() -> None:
    pinned = "debian:12@sha256:" + "a" * 64
    ev = evaluation_of(finding(layer=layer(LayerOrigin.BASE)), image=ImageInfo("app:1", base_image=pinned))
    assert fix_line(explain(ev, "CVE-2024-0001")[0]) == (
        "  to fix it:   Rebuild on a refreshed base image debian:12"
        " (update a digest pinned in FROM to the tag's current one)"
    )


def test_the_action_is_made_safe_for_a_terminal() -> None:
    ev = evaluation_of(finding(pkg="ssl\x1b[31m", version="1", fixed=("2",)))
    line = fix_line(explain(ev, "CVE-2024-0001")[0])
    assert "\x1b" not in line
    assert line.startswith("  to fix it:   Upgrade ssl")


@pytest.mark.parametrize(
    ("fail_on_expired", "mode", "fails"),
    [(True, Mode.ENFORCE, True), (False, Mode.ENFORCE, False), (True, Mode.ADVISORY, False)],
)
def test_an_expired_entry_that_fails_the_gate_says_so(fail_on_expired: bool, mode: Mode, fails: bool) -> None:
    # Its findings are informational, the verdict is fail: `check` lists the entry under "Policy
    # failures", and explain, where its reader asks why, said only "it no longer applies".
    entry = AllowlistEntry(0, "CVE-2024-0001", reason="r", expires=dt.date(2020, 1, 1), line=4)
    policy = Policy(source="policy.yaml", allowlist=(entry,), fail_on_expired=fail_on_expired, mode=mode)
    ev = evaluation_of(finding(severity=Severity.LOW), policy=policy)
    assert bool(ev.policy_failures) is fails
    lines = explain(ev, "CVE-2024-0001")[0].splitlines()
    start = lines.index("- allowlist[0] (line 4): expired; reason: r")
    said = "  fail_on_expired is set: it fails the gate; renew it with a new date or remove it"
    assert lines[start + 1 : start + 3] == [
        "  expired on 2020-01-01: it no longer applies",
        *([said] if fails else []),
    ]


@pytest.mark.parametrize(
    ("created_by", "index", "said"),
    [
        ("RUN apk add zlib  ", 3, "own layer 3: RUN apk add zlib"),
        ("\tRUN apk add zlib \n", 3, "own layer 3: RUN apk add zlib"),
        (None, 3, "own layer 3"),
        ("   ", 3, "own layer 3"),
    ],
)
def test_the_added_by_line_has_no_trailing_blank(created_by: str | None, index: int, said: str) -> None:
    # The image history's text often ends in blanks; with none recorded the line ended in ": ".
    shown = replace(layer(LayerOrigin.OWN, index=index), created_by=created_by)
    text = explain(evaluation_of(finding(layer=shown)), "CVE-2024-0001")[0]
    (line,) = [line for line in text.splitlines() if line.startswith("  added by:")]
    assert line == f"  added by:    {said}"


@pytest.mark.parametrize("on_stale", [OnStale.WARN, OnStale.FAIL])
def test_stale_exploit_data_is_said_whether_it_warns_or_fails(on_stale: OnStale) -> None:
    # Under on_stale: warn the data's age was among the warnings; under fail it is a policy
    # failure instead, and explain, which listed no policy failure, said nothing of it: a finding
    # judged by a catalog too old to trust read as judged by a current one.
    kev = corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json")
    listed = finding("CVE-2022-22965", severity=Severity.CRITICAL)
    policy = Policy(
        source="policy.yaml",
        fail_on=FailOn(known_exploited=True),
        exploit_data=ExploitDataPolicy(max_age_days=7, on_stale=on_stale),
    )
    made = report(listed, image=ImageInfo("app:1"))
    now = dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC)
    ev = evaluate(made, policy, now, EvaluationInputs(exploit=load_exploit_data(kev, None, made.findings)))
    (said,) = ev.policy_failures if on_stale is OnStale.FAIL else ev.warnings
    assert "is 25 days old (released 2026-08-07, as of 2026-09-01; max_age_days: 7)" in said
    lines = explain(ev, "CVE-2022-22965")[0].splitlines()
    title = "Policy failures (the gate fails for these, whatever the findings):"
    text = " ".join(lines)  # the words, whatever lines they were wrapped on
    if on_stale is OnStale.FAIL:
        assert f"{title} - {' '.join(said.split())}" in " ".join(text.split())
    else:
        assert title not in lines
        assert f"Warnings: - {' '.join(said.split())}" in " ".join(text.split())


def test_an_entry_that_does_not_match_names_every_field_that_differs() -> None:
    # Only the first was named: a reader who corrected the package ran explain again to learn that
    # the version differs too.
    entry = AllowlistEntry(
        0, "CVE-2024-0001", reason="r", package="zlib", version="9.9", path="usr/**", line=4
    )
    policy = Policy(source="policy.yaml", allowlist=(entry,))
    ev = evaluation_of(finding(pkg="openssl", version="3.0.2-1", path="usr/lib/x"), policy=policy)
    said = " ".join(explain(ev, "CVE-2024-0001")[0].split())  # whatever the width it is wrapped to
    # The path matches: not named.
    assert said.endswith(
        "- allowlist[0] (line 4): unused; reason: r does not match openssl: package 'zlib' differs "
        "from 'openssl'; version '9.9' differs from the installed '3.0.2-1'"
    )


@pytest.mark.parametrize(
    ("expires", "said"),
    [
        (dt.date(2026, 9, 30), "2026-09-30 is its last day (today); from 2026-10-01"),
        (dt.date(2026, 10, 1), "2026-10-01 is its last day (in 1 day); from 2026-10-02"),
        (dt.date(2026, 10, 13), "2026-10-13 is its last day (in 13 days); from 2026-10-14"),
        (dt.date(2026, 10, 14), None),
        (None, None),
    ],
)
def test_an_entry_used_for_the_finding_that_expires_soon_says_so(
    expires: dt.date | None, said: str | None
) -> None:
    # `check` lists it as needing attention ("expires in 3 days"); explain, where its reader looks
    # at the entry that allowlists the finding, said only that it was used.
    entry = AllowlistEntry(0, "CVE-2024-0001", reason="r", expires=expires, line=4)
    policy = Policy(source="policy.yaml", allowlist=(entry,))
    ev = evaluation_of(finding(), policy=policy, now=dt.datetime(2026, 9, 30, 23, tzinfo=dt.UTC))
    text = " ".join(explain(ev, "CVE-2024-0001")[0].split())  # whatever the width it is wrapped to
    if said is None:
        assert "expiring soon" not in text
    else:
        assert (
            "- allowlist[0] (line 4): used; reason: r expiring soon: "
            f"{said} it no longer applies: renew it with a new date, or fix what it allowlists"
        ) in text


CJK = "数据库驱动程序中文包名称非常长的名字"


def hostile_explained(width: int) -> list[str]:
    """Every explanation of a Snyk report whose aliases ran to 475 columns on one line, and of
    findings with long and wide names, versions, paths, reasons and warnings, at `width`."""
    snyk = corpus_evaluation(corpus_file("snyk", "docker-fixable__vulns.json"))
    texts = [explain(snyk, d.finding.vulnerability_id, width)[0] for d in snyk.decisions]
    long_pkg = "org.springframework.boot:spring-boot-starter-" + "x" * 40
    made = evaluation_of(
        finding("CVE-2024-0001", pkg=CJK * 3, version="版本" * 30, fixed=("修复" * 30,), path="/a b/" * 40),
        finding("CVE-2024-0001", pkg=long_pkg, type="maven", fixed=tuple(f"2.{n}.0" for n in range(40))),
        finding("CVE-2024-0001", pkg="libssl-very-long-name-" * 3, version="1", fixed=("2",)),
        policy=Policy(
            source="policy.yaml",
            allowlist=(
                AllowlistEntry(0, "CVE-2024-0001", reason=f"{CJK} words " * 30, package="zlib", version="9"),
            ),
        ),
        warnings=("a warning of many words " * 30,),
    )
    texts.append(explain(made, "CVE-2024-0001", width)[0])
    return [line for text in texts for line in text.splitlines()]


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_every_line_fits_the_width_as_the_summarys_do(width: int) -> None:
    # A Snyk finding's aliases went on one line of 475 columns, a VEX gap or a reason as long as
    # it was. Only a word longer than a line (an id, a path, a version, whole so it can be copied)
    # is wider, alone on its line.
    for line in hostile_explained(width):
        if display_width(line) > width:
            words = line.split()
            assert len(words) == 1 or (len(words) == 2 and words[0].endswith(":")), line
            assert words[-1].isascii(), line


def test_a_command_is_never_wrapped_as_prose() -> None:
    # It goes on lines of its own, broken at spaces with the shell's continuation as the
    # summary's "What to do" does, so that it can be pasted whole; in the words of the line
    # above, or cut, it would not run.
    ev = evaluation_of(finding(pkg="libgnutls-openssl27-long-name", version="1", fixed=("2",)))
    action = ev.plan.action_of(ev.decisions[0].finding)
    assert action is not None
    assert action.command
    for width in (100, 60):
        lines = explain(ev, "CVE-2024-0001", width)[0].splitlines()
        start = next(n for n, line in enumerate(lines) if line.lstrip().startswith("$ "))
        command = list(itertools.takewhile(lambda line: line.startswith(" " * 15), lines[start:]))
        assert all(display_width(line) <= width for line in command)
        assert all(line.endswith(" \\") for line in command[:-1])
        pasted = " ".join(line.removesuffix(" \\").strip() for line in command)
        assert pasted == f"$ {action.command}"
        assert lines[start - 1].startswith("  to fix it:   Upgrade ")
    assert len(command) > 1  # at 60 columns it goes on to a second line


@pytest.mark.parametrize(
    ("asked", "said"),
    [
        ("CVE-2023-245", " (did you mean CVE-2023-2454 or CVE-2023-2455?)"),  # a digit left out
        ("cve-2023-24555", " (did you mean CVE-2023-2455?)"),  # one added, in any case
        ("CVE-2032-2455", " (did you mean CVE-2023-2455?)"),  # two swapped
        ("CVE-2023-2465", " (did you mean CVE-2023-2455?)"),  # one changed
        # Farther: another vulnerability, not a typo.
        ("CVE-2023-2466", ""),
        ("CVE-2099-0001", ""),
    ],
)
def test_an_id_no_finding_has_is_named_with_those_one_typo_away(asked: str, said: str) -> None:
    # A digit dropped in copying an id from the summary said only that no finding has it.
    ev = evaluation_of(
        finding("CVE-2023-2455", pkg="libpq5"),
        finding("CVE-2023-2454", pkg="libpq5"),
        finding("CVE-2024-0001"),
    )
    text, found = explain(ev, asked)
    assert not found
    assert " ".join(text.split()) == f"{asked}: no finding in the report(s) has this id or alias{said}."
