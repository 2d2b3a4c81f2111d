"""`explain`'s "to fix it" line: the action of the summaries' "What to do" table, or why none; and
what it says of the allowlist entries naming the id."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from gate.model import ImageInfo, LayerOrigin, Severity
from gate.policy.model import AllowlistEntry, Mode, Policy
from gate.render.explain import explain
from tests.support.factories import evaluation_of, finding, layer


def fix_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("  to fix it:"))


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
