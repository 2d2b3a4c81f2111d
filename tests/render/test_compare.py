"""The comparison of several images: JSON (container-gate/compare/v1), terminal table and Markdown."""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Callable
from dataclasses import replace

import pytest

from gate.model import ImageInfo, Layer, LayerOrigin, Severity, VendorStatus
from gate.policy.evaluation import Disposition
from gate.policy.model import AllowlistEntry, Policy
from gate.policy.plan import has_usable_fix
from gate.render._columns import display_width
from gate.render.compare import (
    NAME_LIMIT,
    SCHEMA,
    ComparedImage,
    CompareRow,
    created_text,
    render_compare_json,
    render_compare_markdown,
    render_compare_terminal,
    shown_names,
    size_text,
)
from gate.render.markdown import render_markdown
from gate.untrusted import terminal_safe
from tests.support.base_checks import CHECKS, checked_run
from tests.support.corpus import corpus_evaluation, corpus_file
from tests.support.factories import evaluation_of, finding
from tests.support.hostile_text import HOSTILE
from tests.support.markdown_html import HtmlFacts, inert_problems, to_html

ROW_KEYS = [
    "reference", "os", "arch", "size_bytes", "created", "packages", "findings",
    "counts_by_severity", "fixable", "blocking", "verdict", "error", "warnings", "actions",
    "known_exploited", "policy_failures", "would_block", "allowlist_attention", "base_image", "vex",
]  # fmt: skip
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def corpus_images() -> list[ComparedImage]:
    """Three real reports (a Debian image, an Alpine one, a lockfile) and one image that failed."""
    debian = corpus_evaluation(corpus_file("trivy", "debian-buster.json.golden"))
    alpine = corpus_evaluation(corpus_file("trivy", "alpine-310.json.golden"))
    pip = corpus_evaluation(corpus_file("trivy", "pip.json.golden"))
    return [
        ComparedImage("debian:buster", debian, size_bytes=50_436_692),
        ComparedImage("alpine:3.10", alpine, size_bytes=2_803_255),
        ComparedImage("requirements", pip),
        ComparedImage("ghcr.io/acme/gone:1", error="registry ghcr.io has no acme/gone:1 (HTTP 404)"),
    ]


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("compare-corpus.json", render_compare_json),
        ("compare-corpus.txt", render_compare_terminal),
        ("compare-corpus.md", render_compare_markdown),
    ],
)
def test_golden(
    name: str, render: Callable[[list[ComparedImage], str], str], golden: Callable[[str, str], None]
) -> None:
    golden(name, render(corpus_images(), "tests/corpus-policy.yaml"))


def test_the_json_rows_are_the_schema_in_the_order_given() -> None:
    images = corpus_images()
    doc = json.loads(render_compare_json(images, "policy.yaml"))
    assert list(doc) == ["schema", "policy", "advisory", "images"]
    assert (doc["schema"], doc["policy"], doc["advisory"]) == (SCHEMA, "policy.yaml", False)
    assert [row["reference"] for row in doc["images"]] == [image.reference for image in images]
    for row, image in zip(doc["images"], images, strict=True):
        assert list(row) == ROW_KEYS
        ev = image.evaluation
        if ev is None:
            assert row["verdict"] == "error"
            assert row["error"] == image.error
            assert {
                k: v for k, v in row.items() if k not in ("reference", "verdict", "error")
            } == dict.fromkeys(k for k in ROW_KEYS if k not in ("reference", "verdict", "error"))
            continue
        # Flat, every finding whatever its disposition, every severity named.
        assert list(row["counts_by_severity"]) == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
        assert sum(row["counts_by_severity"].values()) == row["findings"] == len(ev.decisions)
        for severity in Severity:
            assert row["counts_by_severity"][severity.name] == sum(
                1 for d in ev.decisions if d.finding.severity is severity
            )
        assert row["blocking"] == ev.counts[Disposition.BLOCKING]
        assert row["fixable"] == sum(1 for d in ev.decisions if has_usable_fix(d.finding))
        assert row["verdict"] == ev.verdict
        assert row["error"] is None
        assert row["size_bytes"] == image.size_bytes
    debian = doc["images"][0]
    assert (debian["os"], debian["arch"]) == ("linux", "amd64")
    assert debian["created"] == images[0].evaluation.report.image.created  # type: ignore[union-attr]
    assert debian["created"].startswith("2019-09-11T")
    # A report written without --list-all-pkgs does not say how many packages the image has.
    assert doc["images"][0]["packages"] is None
    assert doc["images"][2]["packages"] == 7


def test_a_listed_fix_no_newer_than_the_installed_version_is_not_fixable() -> None:
    # openssl 3.0.13-1 lists 3.0.2-1, an older branch's fix: no action upgrades to it and
    # `fail_on.fixable_only` ignores the finding, yet FIXABLE counted it (Debian orders the
    # versions, not their text: 3.0.9-1 is older than 3.0.13-1, 3.0.13-2 newer).
    ev = evaluation_of(
        finding("CVE-2024-0001", version="3.0.13-1", fixed=("3.0.2-1",)),
        finding("CVE-2024-0002", version="3.0.13-1", fixed=("3.0.9-1", "3.0.13-1")),
        finding("CVE-2024-0003", version="3.0.13-1", fixed=("3.0.13-2",)),
        finding("CVE-2024-0004", version="3.0.13-1", fixed=(), status=VendorStatus.AFFECTED),
    )
    assert [has_usable_fix(d.finding) for d in ev.decisions] == [False, False, True, False]
    images = [ComparedImage("app:1", ev)]
    assert CompareRow.of(images[0]).fixable == 1
    assert json.loads(render_compare_json(images, "p.yaml"))["images"][0]["fixable"] == 1
    header, row = render_compare_terminal(images, "p.yaml").splitlines()[1:3]
    assert row.split()[header.split().index("FIXABLE")] == "1"


def test_base_and_own_are_split_only_when_the_base_is_known() -> None:
    base, own = (
        Layer(diff_id="sha256:a", origin=LayerOrigin.BASE),
        Layer(diff_id="sha256:b", origin=LayerOrigin.OWN),
    )
    findings = (finding("CVE-1", layer=base), finding("CVE-2", layer=base), finding("CVE-3", layer=own))
    known = evaluation_of(*findings, image=ImageInfo("app:1", base_layer_count=1))
    assert (
        CompareRow.of(ComparedImage("app:1", known)).base,
        CompareRow.of(ComparedImage("app:1", known)).own,
    ) == (2, 1)
    unknown = evaluation_of(*(replace(f, layer=None) for f in findings), image=ImageInfo("app:1"))
    row = CompareRow.of(ComparedImage("app:1", unknown))
    assert (row.base, row.own) == (None, None)
    assert "  -         " in render_compare_terminal([ComparedImage("app:1", unknown)], "p")
    assert "| 2/1 |" in render_compare_markdown([ComparedImage("app:1", known)], "p")


def test_unknown_severity_gets_a_column_only_when_some_image_has_one() -> None:
    plain = evaluation_of(finding("CVE-1"))
    odd = evaluation_of(finding("CVE-2", severity=Severity.UNKNOWN))
    assert "C/H/M/L " in render_compare_terminal([ComparedImage("a", plain)], "p")
    assert "C/H/M/L/U" in render_compare_terminal([ComparedImage("a", plain), ComparedImage("b", odd)], "p")
    assert "| Unknown |" in render_compare_markdown([ComparedImage("b", odd)], "p")


def test_sizes_and_dates() -> None:
    assert [size_text(n) for n in (None, 0, 999, 1000, 12_345, 2_100_000, 3 * 10**9)] == [
        "-", "0 B", "999 B", "1.0 kB", "12.3 kB", "2.1 MB", "3.0 GB",
    ]  # fmt: skip
    assert created_text("2024-02-26T23:30:00-05:00") == "2024-02-27"  # the UTC date
    assert created_text("2024-02-26T13:00:00.123456789Z") == "2024-02-26"
    assert created_text(None) == "-"
    assert created_text("last week") == "last week"


@pytest.mark.parametrize(
    "text", ["\x1b[2J\x1b]0;pwned\x07", "abc\u202edcba", "a\nb\r\nc", "| x | @team #1 <b>"]
)
def test_image_and_report_text_is_escaped(text: str) -> None:
    ev = evaluation_of(
        finding("CVE-1"),
        # An allowlist entry that matches nothing: listed as needing attention, its text escaped.
        policy=Policy(
            source=f"policy{text}.yaml",
            allowlist=(AllowlistEntry(index=0, vulnerability=f"CVE-9{text}", reason=f"why{text}"),),
        ),
        image=ImageInfo(f"app{text}:1", os=f"linux{text}", architecture=text),
    )
    ev = replace(
        ev, report=replace(ev.report, image=replace(ev.report.image or ImageInfo("x"), created=text))
    )
    images = [ComparedImage(f"app{text}:1", ev), ComparedImage(f"gone{text}", error=f"no such {text}")]
    terminal = render_compare_terminal(images, f"policy{text}.yaml")
    assert not UNSAFE.search(terminal), repr(terminal)
    assert ": matched no finding: why" in terminal
    markdown = render_compare_markdown(images, f"policy{text}.yaml")
    html = to_html(markdown)
    assert inert_problems(html, allowed_links=set()) == []
    (table,) = HtmlFacts(html).tables
    assert table.body_rows == 2
    assert json.loads(render_compare_json(images, "p"))["images"][0]["reference"] == f"app{text}:1"


def test_warnings_are_shown_once_with_the_images_they_are_about() -> None:
    old_db = "Trivy's vulnerability DB is 35.9 days old"
    hostile = "layer `x` | [a](http://e.vil) \x1b[2J"
    images = [
        ComparedImage("a:1", evaluation_of(finding("CVE-1"), warnings=(old_db,))),
        ComparedImage("b:1", evaluation_of(finding("CVE-2"), warnings=(old_db, hostile))),
        ComparedImage("c:1", error="registry has no c:1"),
    ]
    terminal = render_compare_terminal(images, "policy.yaml")
    assert terminal.endswith(
        f"Warnings:\n  every image: {old_db}\n  b:1: layer `x` | [a](http://e.vil) \\x1b[2J\n"
    )
    assert not UNSAFE.search(terminal)
    markdown = render_compare_markdown(images, "policy.yaml")
    assert (
        "\n\nWarnings:\n\n- every image: Trivy\\'s vulnerability DB is 35\\.9 days old\n- `b:1`: " in markdown
    )
    html = to_html(markdown)
    assert inert_problems(html, allowed_links=set()) == []
    doc = json.loads(render_compare_json(images, "policy.yaml"))
    assert [row["warnings"] for row in doc["images"]] == [[old_db], [old_db, hostile], None]
    # One image alone: its name, not "every image".
    assert render_compare_terminal(images[:1], "p").endswith(f"Warnings:\n  a:1: {old_db}\n")


def test_long_names_that_differ_at_the_end_stay_apart_in_both_tables() -> None:
    # Two builds of one image: the first 60 characters are the same, the tag or digest is not.
    repo = "registry.example.com/team/platform/services/payments-api"
    names = [
        f"{repo}:2026.12.06-build-0001",
        f"{repo}:2026.12.06-build-0002",
        f"{repo}@sha256:{'a' * 63}1",
        f"{repo}@sha256:{'a' * 63}2",
    ]
    evaluation = evaluation_of(finding("CVE-2024-0001"))
    images = [ComparedImage(name, evaluation) for name in names]
    terminal = render_compare_terminal(images, "policy.yaml")
    rows = [line.split("  ")[1] for line in terminal.splitlines() if repo[:20] in line]
    assert len(rows) == 4
    assert len(set(rows)) == 4, rows
    assert all(len(row) <= NAME_LIMIT for row in rows)
    assert rows[0] == "registry.example.com/team/pla…ents-api:2026.12.06-build-0001"
    markdown = render_compare_markdown(images, "policy.yaml")
    cells = [line.split(" | ")[0] for line in markdown.splitlines() if line.startswith("| `registry")]
    assert len(set(cells)) == 4, cells


def test_a_cut_that_would_make_two_names_alike_is_not_made() -> None:
    # The same start and end, a different middle: cut, both would read the same.
    one, two = (f"r.example/{'a' * 30}{middle}{'a' * 30}/app:1" for middle in "xy")
    assert shown_names([one, two, "short:1"]) == {one: one, two: two, "short:1": "short:1"}
    assert shown_names([one])[one] == f"r.example/{'a' * 19}…{'a' * 24}/app:1"


def test_columns_line_up_whatever_the_names_are_written_in() -> None:
    # A CJK character or an emoji takes two columns of a terminal: padded by its characters, the
    # name pushed the rest of its row out of line.
    evaluation = evaluation_of(finding("CVE-2024-0001"))
    names = ["app:1", "应用镜像:1", "app-🐳:1", "café:1"]
    terminal = render_compare_terminal([ComparedImage(name, evaluation) for name in names], "policy.yaml")
    lines = terminal.splitlines()[1 : 2 + len(names)]
    starts = {
        display_width(line[: line.index(word)])
        for line, word in zip(lines, ["VERDICT", *["FAIL"] * 4], strict=True)
    }
    assert len(starts) == 1, lines


@pytest.mark.parametrize("width", [60, 80, 100, 120])
def test_on_a_narrow_terminal_the_last_columns_give_way(width: int) -> None:
    # The table was as wide as its cells on any terminal: on 80 columns each row folded in two.
    images = corpus_images()
    wide = render_compare_terminal(images, "policies/a-policy-with-a-long-name.yaml")
    narrow = render_compare_terminal(images, "policies/a-policy-with-a-long-name.yaml", width)
    # A path longer than a line is kept whole on a line of its own (`wrap`): the corpus reports'
    # warnings name theirs.
    assert all(display_width(line) <= width or len(line.split()) == 1 for line in narrow.splitlines()), narrow
    lines = narrow.splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("  IMAGE "))
    header = lines[at].split()
    assert header[:5] == ["IMAGE", "VERDICT", "BLOCKING", "ACTIONS", "KEV"]
    left_out = wide.splitlines()[1].split()[len(header) :]
    assert left_out
    said = " ".join(narrow.split())
    assert f"Left out for the terminal's width: {', '.join(left_out)} (" in said
    # What the rows say is kept whole: the table's first columns, and every error and warning.
    for full, cut in zip(wide.splitlines()[2:6], lines[at + 1 : at + 5], strict=True):
        assert full.startswith(cut)
    assert "registry ghcr.io has no acme/gone:1 (HTTP 404)" in said
    # The legend explains the columns shown, not those left out.
    for column in left_out:
        assert f"{column}:" not in said


def test_a_terminal_wide_enough_or_none_gets_every_column() -> None:
    images = corpus_images()
    whole = render_compare_terminal(images, "p")
    # The warnings under the table are prose, wrapped at any width; the table is the same.
    table = whole.split("\nWarnings:\n")[0]
    assert render_compare_terminal(images, "p", 200).split("\nWarnings:\n")[0] == table
    assert "Left out" not in whole


def test_a_finding_vex_leaves_open_is_said_under_the_table_as_check_says_it() -> None:
    # A statement clears one CVE of a Grype advisory, none clears its other: the finding stays
    # open, and check says which CVE keeps it so; compare's list of VEX statements says it too.
    from gate.policy.evaluate import evaluate
    from gate.policy.inputs import EvaluationInputs
    from gate.render._delta import vex_gap_line
    from tests.support.factories import NOW
    from tests.support.vex_documents import ghsa_report, openvex, statement

    report, _ = ghsa_report()
    statements = openvex(statement("CVE-2014-3577", "not_affected"))
    ev = evaluate(report, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=statements))
    gap = vex_gap_line(ev, str)
    assert gap.startswith("VEX leaves 1 finding open: no statement clears CVE-2014-9999")
    terminal = render_compare_terminal([ComparedImage("app:1", ev)], "policy.yaml")
    assert terminal.endswith(
        "VEX statements:\n"
        "  app:1: 1 statement(s) from 1 file(s): 0 used, 1 clearing only part of an advisory, 0 unused\n"
        f"  app:1: {gap}\n"
    )
    (row,) = json.loads(render_compare_json([ComparedImage("app:1", ev)], "policy.yaml"))["images"]
    assert row["vex"] == {"statements": 1, "used": 0, "partial": 1, "unused": 0}


def test_a_long_list_under_the_table_is_cut_and_counted_as_check_cuts_it() -> None:
    # A policy of many entries that match nothing in any image: every one was listed, and the
    # table scrolled out of sight; check lists 20 and counts the rest.
    entries = tuple(
        AllowlistEntry(index=n, vulnerability=f"CVE-2020-{n:04d}", reason="stale") for n in range(25)
    )
    policy = Policy(source="policy.yaml", allowlist=entries)
    images = [ComparedImage(name, evaluation_of(finding("CVE-1"), policy=policy)) for name in ("a:1", "b:1")]
    terminal = render_compare_terminal(images, "policy.yaml")
    listed = terminal.split("need attention (renew, fix or remove them):\n", 1)[1].splitlines()
    assert listed[0] == "  every image: allowlist[0] CVE-2020-0000: matched no finding: stale"
    assert listed[19] == "  every image: allowlist[19] CVE-2020-0019: matched no finding: stale"
    assert listed[20:] == ["  ... and 5 more (--json lists every image's)"]
    markdown = render_compare_markdown(images, "policy.yaml")
    assert markdown.count("\n- every image: allowlist") == 20
    assert markdown.endswith("\n- ... and 5 more (--json lists every image's)\n")
    doc = json.loads(render_compare_json(images, "policy.yaml"))
    assert [len(row["allowlist_attention"]) for row in doc["images"]] == [25, 25]


@pytest.mark.parametrize("name", ["reg.example/base:12", "reg.example/a`b|c@d:1", *HOSTILE])
def test_the_base_image_is_named_in_the_markdown_as_code_as_check_names_it(name: str) -> None:
    # The line was made once with the name between backticks and then escaped as text: a reader
    # of the Markdown saw \`reg.example/base:12\`, the backticks and not a code span.
    ev = checked_run(replace(CHECKS["stale"], name=name))
    markdown = render_compare_markdown([ComparedImage("app:1", ev)], "policy.yaml")
    listed = markdown.split("\nBase images:\n\n", 1)[1].split("\n", 1)[0]
    said = listed.removeprefix("- `app:1`: ")
    # The line check's Markdown summary says, word for word.
    assert f"\n\n{said}\n\n" in render_markdown(ev)
    html = to_html(markdown)
    assert inert_problems(html, allowed_links=set()) == []
    (item,) = (li for li in html.split("<li>") if "base <code>" in li)
    shown = re.search(r"stale base <code>(.*?)</code> is 47 days", item, re.DOTALL)
    assert shown is not None, item
    if name.isascii() and name.isprintable() and len(name) < 200:
        assert html_lib.unescape(shown.group(1)) == " ".join(name.split())
    # The terminal still shows it between backticks, escaped for a terminal.
    terminal = render_compare_terminal([ComparedImage("app:1", ev)], "policy.yaml")
    assert f"  app:1: stale base `{terminal_safe(name)}` is 47 days" in terminal
