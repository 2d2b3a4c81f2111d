"""The Markdown summary (PR comment, job summary): checked on the HTML GitHub would make of it.

Every test renders with cmark-gfm and GitHub's extensions (tests/support/markdown_html.py) and
looks at elements, attributes, links, comments, tables and the text GitHub would turn into
mentions, not only at the Markdown text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gate.cli import main as cli
from gate.model import (
    DirectUpgrade,
    Finding,
    ImageInfo,
    Layer,
    LayerOrigin,
    ScannerInfo,
    ScanReport,
    Severity,
    VendorStatus,
)
from gate.platforms.gitlab import note_body
from gate.policy.actions import ActionKind
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Disposition, Evaluation
from gate.policy.model import AllowlistEntry, Mode, Policy
from gate.render._markdown_cells import CELL_LIMIT
from gate.render._markdown_sections import LEAD_ACTIONS
from gate.render.markdown import (
    GITHUB_COMMENT_LIMIT,
    MIN_LIMIT,
    render_markdown,
    render_markdown_error,
)
from gate.untrusted import advisory_url, comment_link_url, html_code, md_code, md_escape
from tests.support.corpus import corpus_evaluation, corpus_file, corpus_reports, longest_corpus_id
from tests.support.factories import NOW, evaluation_of, finding
from tests.support.hostile_text import HOSTILE
from tests.support.markdown_html import HtmlFacts, constant_columns, inert_problems, table_cells, to_html

MARKER = "<!-- container-gate comment v1 job=0123456789abcdef image=fedcba9876543210 -->"

# Section titles and the "left out" note, read back from the Markdown.
SECTION = re.compile(
    r"^(?:#### |<details><summary>)(?P<title>(?:[^<(\n]|<code>[^<\n]*</code>)+?) \((?P<total>\d+)\)", re.M
)
LEFT_OUT = re.compile(r"_(\d+) of (\d+) rows left out")


def links_for(evaluation: Evaluation) -> set[str]:
    """The links the renderer may make: the report's safe URLs and advisory pages of real ids."""
    links = set()
    for d in evaluation.decisions:
        url = comment_link_url(d.finding.primary_url) or advisory_url(d.finding.vulnerability_id)
        if url:
            links.add(url)
    return links


def check_inert(markdown: str, evaluation: Evaluation, marker: str | None = None) -> HtmlFacts:
    """Render; assert nothing in the HTML came from input; return what the HTML holds."""
    html = to_html(markdown)
    assert inert_problems(html, allowed_links=links_for(evaluation), marker=marker) == []
    return HtmlFacts(html)


def sections(markdown: str) -> dict[str, tuple[int, int, int]]:
    """Title -> (total, table rows shown, rows said to be left out), read from Markdown and HTML."""
    found: dict[str, tuple[int, int, int]] = {}
    starts = list(SECTION.finditer(markdown))
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(markdown)
        chunk = markdown[match.start() : end]
        tables = HtmlFacts(to_html(chunk)).tables
        shown = tables[0].body_rows if tables else 0
        note = LEFT_OUT.search(chunk)
        left_out = int(note.group(1)) if note else 0
        if note:
            assert int(note.group(2)) == int(match["total"])
        found[match["title"]] = (int(match["total"]), shown, left_out)
    return found


def hostile_evaluation(text: str, *, scanners: tuple[str, ...] = ("trivy",)) -> Evaluation:
    """One finding of each disposition and an expired and an unused entry, `text` everywhere."""

    def hostile(vid: str, severity: Severity, status: VendorStatus = VendorStatus.FIXED) -> Finding:
        return finding(
            f"{vid}{text}",
            pkg=f"p-{text}",
            version=f"1.0{text}",
            path=f"usr/{text}",
            severity=severity,
            aliases=(text,),
            fixed=(f"2.0{text}", text),
            status=status,
            title=text,
            description=text,
            primary_url=text,
            layer=Layer(index=3, created_by=f"/bin/sh -c {text}", origin=LayerOrigin.OWN, dockerfile_line=4),
            scanners=scanners,
        )

    findings = (
        hostile("A-", Severity.CRITICAL),
        hostile("B-", Severity.HIGH),
        hostile("C-", Severity.LOW, VendorStatus.WILL_NOT_FIX),
        hostile("D-", Severity.LOW),
    )
    entries = (
        AllowlistEntry(0, f"B-{text}", reason=text, package=f"p-{text}", expires=dt.date(2027, 1, 31)),
        AllowlistEntry(1, f"E-{text}", reason=text, expires=dt.date(2020, 1, 1), line=9),
        AllowlistEntry(2, f"F-{text}", reason=text, package=text),
    )
    policy = Policy(source=text, ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX}), allowlist=entries)
    image = ImageInfo(reference=text, os=text, architecture=text)
    report_scanners = tuple(ScannerInfo(name, text) for name in dict.fromkeys((*scanners, "grype")))
    report = ScanReport(findings=findings, scanners=report_scanners, image=image, warnings=(text, text))
    return evaluate(report, policy, NOW)


# --- escaping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_in_every_field_stays_text(text: str) -> None:
    evaluation = hostile_evaluation(text)
    assert [d.disposition for d in evaluation.decisions] == [
        Disposition.BLOCKING,
        Disposition.ALLOWLISTED,
        Disposition.IGNORED,
        Disposition.INFORMATIONAL,
    ]
    markdown = render_markdown(evaluation, marker=MARKER)
    facts = check_inert(markdown, evaluation, MARKER)
    assert markdown.startswith(MARKER + "\n### ")
    # What to do (one action, with a Command column only when a command is certain for such a
    # name), the entries that need attention, the action's findings, then one section per
    # disposition; several scanners ran, but marks go inside cells, not in a column.
    assert len(facts.tables) == 6
    columns = 4 if evaluation.plan.actions[0].command else 3
    assert facts.tables[0].rows == [columns, columns]
    assert all(len(set(t.rows)) == 1 and t.rows[0] <= 5 for t in facts.tables)
    assert sections(markdown) == {
        "Allowlist entries that need attention": (2, 2, 0),
        f"Findings the upgrade of {html_code(f'p-{text}', CELL_LIMIT)} clears": (1, 1, 0),
        "Allowlisted": (1, 1, 0),
        "Ignored": (1, 1, 0),
        "Informational": (1, 1, 0),
    }
    html = to_html(markdown)
    assert "<img" not in html
    assert "<script" not in html
    assert "javascript:" not in " ".join(HtmlFacts(html).links)
    assert "\u202e" not in html
    assert "\x1b" not in html


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_in_a_direct_dependency_upgrade_stays_text(text: str) -> None:
    """The upgrade of a direct dependency names the packages it fixes, all of them report text."""
    pulled_in = finding(
        f"CVE-{text}",
        pkg=f"qs-{text}",
        version=f"0.4{text}",
        type="npm",
        path=f"app/{text}/package.json",
        fixed=(f"1.0{text}",),
    )
    pulled_in = replace(
        pulled_in, direct_upgrades=(DirectUpgrade(f"express-{text}", f"2.5{text}", f"3.0{text}"),)
    )
    evaluation = evaluation_of(pulled_in)
    (action,) = evaluation.plan.actions
    assert action.package == f"express-{text}"
    assert action.fixes
    markdown = render_markdown(evaluation, marker=MARKER)
    check_inert(markdown, evaluation, MARKER)
    html = to_html(markdown)
    assert "<img" not in html
    assert "<script" not in html
    assert "(fixes " in html


def test_hostile_text_in_an_error_message_stays_text() -> None:
    for text in HOSTILE:
        markdown = render_markdown_error(f"cannot read report {text}", 2, marker=MARKER)
        html = to_html(markdown)
        assert inert_problems(html, allowed_links=set(), marker=MARKER) == []
        assert "error, no verdict" in html
        assert "exit code 2" in html


def test_the_html_check_sees_what_it_looks_for() -> None:
    raw = "@octocat #1 www\\.evil <img src=x> [a](https://evil.example) www.x.y <!-- x -->\n\n<details>"
    problems = inert_problems(to_html(raw), allowed_links=set(), marker=None)
    for expected in (
        "element <img>",
        "attribute src",
        "link 'https://evil.example'",
        "link 'http://www.x.y'",
    ):
        assert any(p.startswith(expected) for p in problems), expected
    for expected in ("comments",):
        assert any(p.startswith(expected) for p in problems), expected
    for expected in ("mention", "reference", "autolink", "unbalanced"):
        assert any(expected in p for p in problems), expected
    ragged = to_html("| a | b |\n|---|---|\n| c |\n")  # GFM pads a short row: still two cells
    assert HtmlFacts(ragged).tables[0].rows == [2, 2]


def test_mentions_and_references_are_broken_but_still_read_the_same() -> None:
    facts = HtmlFacts(to_html(md_escape("ping @octocat and @org/team about #12")))
    text = "".join(facts.free_text)
    assert text.replace("\u200b", "") == "ping @octocat and @org/team about #12\n"
    assert not re.search(r"@[A-Za-z0-9]|#\d", text)


def test_gitlab_references_are_broken_too() -> None:
    # GitLab links these after parsing, backslash or not (the merge-request note is rendered there).
    text = 'see !12, ~bug, ~"needs review", %v1.0, $34, &5 and group/app!7'
    facts = HtmlFacts(to_html(md_escape(text)))
    shown = "".join(facts.free_text)
    assert shown.replace("\u200b", "") == text + "\n"
    assert not re.search(r"[!~%$&][\w\"]", shown)


def test_a_code_span_cannot_be_closed_by_backticks_and_keeps_pipes_in_a_table() -> None:
    cell = md_code("a ``` b | c `")
    html = to_html(f"| x | y |\n|---|---|\n| {cell} | z |\n")
    facts = HtmlFacts(html)
    assert facts.tables[0].rows == [2, 2]
    assert "<code>a ``` b | c `</code>" in html
    outside = md_code("a|b", in_table=False)
    assert to_html(outside) == "<p><code>a|b</code></p>\n"


def test_only_http_urls_become_links() -> None:
    for url, linked in [
        ("https://avd.aquasec.com/nvd/cve-2024-1", True),
        ("javascript:alert(1)", False),
        ("https://evil.example/x)![i](https://evil.example/i.png", False),
        ("https://evil.example/ onmouseover=alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        # Linked from a comment, an issue, pull request or merge request would be cross-referenced.
        ("https://github.com/octo-org/app/issues/7", False),
        ("https://GitHub.com/octo-org/app/pull/8/files", False),
        ("https://www.github.com/octo-org/app/discussions/9", False),
        ("https://gitlab.example.com/group/app/-/merge_requests/3", False),
        ("https://gitlab.example.com/groups/group/-/epics/4", False),
        ("https://github.com/advisories/GHSA-xxxx-xxxx-xxxx", True),
        ("https://github.com/octo-org/app/security/advisories/GHSA-xxxx-xxxx-xxxx", True),
    ]:
        f = finding("X-1", primary_url=url)
        evaluation = evaluation_of(f)
        facts = check_inert(render_markdown(evaluation), evaluation)
        assert facts.links == ([url] if linked else [])
    for url in ("javascript:alert(1)", "https://github.com/octo-org/app/issues/7"):
        evaluation = evaluation_of(finding("CVE-2024-12345", primary_url=url))
        assert check_inert(render_markdown(evaluation), evaluation).links == [
            "https://nvd.nist.gov/vuln/detail/CVE-2024-12345"
        ]


def test_issue_and_pull_request_links_on_the_runs_own_server_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On GitHub Enterprise Server or a self-managed GitLab, a report's link to an issue or pull
    # request of that server is a reference as one to github.com is: it stayed a link.
    ghe, gitlab = "https://ghe.example.com", "https://code.example.org/gitlab"
    for url, server in [
        (f"{ghe}/octo-org/app/issues/7", ghe),
        (f"{ghe}/octo-org/app/pull/8/files", ghe + "/"),
        (f"{ghe}/octo-org/app/discussions/9", ghe),
        (f"{gitlab}/group/sub/app/issues/4", gitlab),  # GitLab's older form, without `/-/`
        (f"{gitlab}/group/app/merge_requests/5", gitlab),
    ]:
        evaluation = evaluation_of(finding("X-1", primary_url=url))
        assert check_inert(render_markdown(evaluation), evaluation).links == [url]
        assert check_inert(render_markdown(evaluation, own_server=server), evaluation).links == []
        assert "<a " not in to_html(note_body(evaluation, MARKER, server))
    # Elsewhere on that server (an advisory page), or an issue on another server, stays linked.
    for url in (
        f"{ghe}/octo-org/app/security/advisories/GHSA-xxxx-xxxx-xxxx",
        "https://ghe2.example.com/o/a/issues/1",
    ):
        evaluation = evaluation_of(finding("X-1", primary_url=url))
        assert check_inert(render_markdown(evaluation, own_server=ghe), evaluation).links == [url]
    # `--markdown` in a GitHub Actions run knows the server from GITHUB_SERVER_URL.
    doc = json.loads(corpus_file("trivy", "debian-buster.json.golden").read_text(encoding="utf-8"))
    for vuln in doc["Results"][0]["Vulnerabilities"]:
        vuln["PrimaryURL"] = f"{ghe}/octo-org/app/issues/7"
    report, summary = tmp_path / "report.json", tmp_path / "summary.md"
    report.write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SERVER_URL", ghe)
    cli.main(["check", str(report), "--ci", "none", "-q", "--markdown", str(summary)])
    assert "/issues/7" not in summary.read_text(encoding="utf-8")


def test_marker_must_be_a_plain_comment() -> None:
    evaluation = evaluation_of(finding())
    for bad in ("<!-- a --> <img src=x> <!-- b -->", "<!-- a\n-->", "not a comment", "<!---->"):
        with pytest.raises(ValueError, match="not a marker comment"):
            render_markdown(evaluation, marker=bad)


# --- content -----------------------------------------------------------------------------------


def cells_of(html: str, after: str) -> list[list[str]]:
    """The body rows of the first table after `after` in the HTML, as lists of cell HTML."""
    table = re.search(re.escape(after) + r".*?<tbody>(.*?)</tbody>", html, re.S)
    assert table is not None, after
    return [
        re.findall(r"<td>(.*?)</td>", row, re.S)
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    ]


def test_verdict_first_then_one_sentence_then_what_to_do() -> None:
    base = Layer(
        index=0,
        created_by="/bin/sh -c #(nop) COPY dir:0123abcd in / ",
        origin=LayerOrigin.BASE,
        dockerfile_line=1,
    )
    own = Layer(
        index=5,
        created_by="/bin/sh -c apt-get install -y curl # buildkit",
        origin=LayerOrigin.OWN,
        dockerfile_line=7,
    )
    image = ImageInfo("ghcr.io/acme/app:1", base_image="debian:12")
    evaluation = evaluation_of(
        replace(finding("CVE-2024-0001", pkg="libc6", severity=Severity.CRITICAL), layer=base),
        replace(finding("CVE-2024-0002", pkg="libcurl4", fixed=("7.88.1-10+deb12u5",)), layer=own),
        replace(finding("CVE-2024-0003", pkg="libcurl4", fixed=("7.88.1-10+deb12u4",)), layer=own),
        finding("CVE-2024-0004", severity=Severity.LOW),
        image=image,
    )  # fmt: skip
    markdown = render_markdown(evaluation)
    lines = markdown.splitlines()
    assert lines[0] == "### ❌ container-gate: fail, 3 blocking finding(s)"
    assert lines[4] == (
        "**3 findings block; 2 actions clear them.** 4 findings: 3 blocking · 0 allowlisted · 0 ignored · "
        "1 informational"
    )
    assert lines[6] == "| What to do | Clears | Where | Command |"
    html = to_html(markdown)
    assert cells_of(html, "<th>What to do</th>") == [
        [
            "Upgrade <code>libcurl4</code> <code>3.0.2-1</code> → <code>7.88.1-10+deb12u5</code>",
            "<strong>2</strong>: 2 HIGH",
            "own layer, Dockerfile line 7",
            "<code>apt-get update &amp;&amp; apt-get install -y --only-upgrade libcurl4</code>",
        ],
        [
            "Rebuild on a refreshed base image (a fix is published for its one finding)",
            "<strong>1</strong>: 1 CRITICAL",
            "base image <code>debian:12</code>, Dockerfile line 1",
            "-",
        ],
    ]
    assert "COPY dir:" not in markdown
    # The findings of each action come next, collapsed; a reason shared by all is said once.
    curl = markdown.index(
        "<details><summary>Findings the upgrade of <code>libcurl4</code> clears (2)</summary>"
    )
    assert curl < markdown.index("<details><summary>Findings a refreshed base image clears (1)</summary>")
    assert (
        "In every row: package `libcurl4`; severity HIGH; at or above the blocking severity HIGH." in markdown
    )
    assert cells_of(html, "Findings the upgrade of <code>libcurl4</code> clears (2)") == [
        ['<a href="https://nvd.nist.gov/vuln/detail/CVE-2024-0002">CVE-2024-0002</a>', "<code>3.0.2-1</code> → <code>7.88.1-10+deb12u5</code>"],
        ['<a href="https://nvd.nist.gov/vuln/detail/CVE-2024-0003">CVE-2024-0003</a>', "<code>3.0.2-1</code> → <code>7.88.1-10+deb12u4</code>"],
    ]  # fmt: skip


def test_one_finding_is_counted_in_the_singular() -> None:
    markdown = render_markdown(evaluation_of(finding("CVE-2024-0001")))
    assert "**1 finding blocks; 1 action clears it.** 1 finding: 1 blocking · 0 allowlisted" in markdown


def test_the_what_to_do_table_has_a_where_column_only_when_an_action_has_a_place() -> None:
    # One action, no layer and no path: a Where column of one "-" says nothing.
    markdown = render_markdown(evaluation_of(finding("CVE-2024-0001")))
    assert "| What to do | Clears | Command |" in markdown.splitlines()
    assert "| - |" not in markdown
    own = Layer(
        index=5, created_by="RUN apt-get install -y openssl", origin=LayerOrigin.OWN, dockerfile_line=7
    )
    markdown = render_markdown(evaluation_of(replace(finding("CVE-2024-0001"), layer=own)))
    assert "| What to do | Clears | Where | Command |" in markdown.splitlines()
    assert cells_of(to_html(markdown), "<th>What to do</th>")[0][2] == "own layer, Dockerfile line 7"


def test_the_what_to_do_table_has_a_command_column_only_when_an_action_has_a_command() -> None:
    # A base refresh alone: the gate knows no command that rebuilds the image, and a Command
    # column of one "-" says nothing.
    base = Layer(diff_id="sha256:" + "1" * 64, index=0, origin=LayerOrigin.BASE)
    ev = evaluation_of(
        finding("CVE-2024-0001", pkg="libc6", layer=base), image=ImageInfo("app:1", base_image="debian:12")
    )
    assert [a.kind for a in ev.plan.actions] == [ActionKind.BASE_REFRESH]
    markdown = render_markdown(ev)
    assert "| What to do | Clears | Where |" in markdown.splitlines()
    assert cells_of(to_html(markdown), "<th>What to do</th>")[0][2] == "base image <code>debian:12</code>"
    assert "| - |" not in markdown


def test_findings_that_block_without_a_fix_have_their_own_section() -> None:
    unfixed = finding("CVE-2024-0009", pkg="zlib1g", fixed=(), status=VendorStatus.AFFECTED)
    evaluation = evaluation_of(unfixed, finding("CVE-2024-0001"))
    markdown = render_markdown(evaluation)
    assert "**2 findings block; 1 action clears 1 of them, and 1 has no fix yet.**" in markdown
    assert sections(markdown)["Findings that block without a fix"] == (1, 1, 0)
    html = to_html(markdown)
    assert "No published version fixes these yet" in html


def test_in_advisory_mode_the_findings_without_a_fix_would_block() -> None:
    # "Findings that block without a fix" under a lead that says nothing blocks: advisory mode
    # lists those that would, and names them so.
    unfixed = finding("CVE-2024-0009", pkg="zlib1g", fixed=(), status=VendorStatus.AFFECTED)
    policy = Policy(source="policy.yaml", mode=Mode.ADVISORY)
    markdown = render_markdown(evaluation_of(unfixed, finding("CVE-2024-0001"), policy=policy))
    assert "**2 findings would block under an enforcing policy;" in markdown
    assert sections(markdown)["Findings that would block without a fix"] == (1, 1, 0)
    assert "Findings that block without a fix" not in markdown


def test_a_finding_whose_listed_fix_is_not_newer_is_explained_in_the_no_fix_section() -> None:
    stale = finding("CVE-2024-0009", pkg="zlib1g", fixed=("3.0.2-1", "2.9-1"))
    unfixed = finding("CVE-2024-0010", pkg="zlib1g", fixed=(), status=VendorStatus.AFFECTED)
    html = to_html(render_markdown(evaluation_of(stale, unfixed)))
    assert (
        "1 of them lists a fix no newer than the installed version: the scanner's data may be behind a backport."
    ) in html
    # Without such a finding the section reads as before.
    assert "no newer than" not in render_markdown(evaluation_of(unfixed))


def test_the_longest_corpus_id_is_whole_in_every_table_and_a_hostile_one_is_cut() -> None:
    # An id is what a reader copies to look the finding up: the PR comment and the GitLab note
    # show the longest real one whole wherever it is (blocking, allowlisted, in an entry that
    # needs attention); only an id no scanner makes is cut.
    longest, absurd = longest_corpus_id(), "SNYK-" + "X" * 195
    entries = (
        AllowlistEntry(0, longest, reason="not reachable", package="openssl"),
        AllowlistEntry(1, longest, reason="expired", expires=dt.date(2020, 1, 1)),
    )
    evaluation = evaluation_of(
        finding(longest, pkg="zlib1g"),
        finding(longest, pkg="openssl"),
        finding(absurd, pkg="libc6"),
        policy=Policy(source="policy.yaml", allowlist=entries),
    )
    for markdown in (render_markdown(evaluation), note_body(evaluation, MARKER)):
        html = to_html(markdown)
        cells = [cell for table in table_cells(html) for row in table for cell in row]
        assert sum(longest in cell for cell in cells) == 3  # blocking, allowlisted, the expired entry
        assert absurd not in html
        assert "SNYK-" + "X" * 74 + "…" in html


def test_allowlisted_rows_show_the_entry_its_reason_and_expiry() -> None:
    entry = AllowlistEntry(
        0, "CVE-2024-0001", reason="minizip is not shipped", expires=dt.date(2027, 1, 31), line=12
    )
    evaluation = evaluation_of(finding(), policy=Policy(source="policy.yaml", allowlist=(entry,)))
    html = to_html(render_markdown(evaluation))
    assert "<details><summary>Allowlisted (1)</summary>" in html
    assert "<td><code>allowlist[0]</code> (line 12), until 2027-01-31: minizip is not shipped</td>" in html
    assert "pass, no blocking findings" in html
    assert "<strong>Nothing blocks.</strong>" in html


def test_entries_that_need_attention_follow_the_actions_and_say_what_is_the_matter() -> None:
    entries = (
        AllowlistEntry(0, "CVE-2024-0001", reason="old exception", expires=dt.date(2026, 1, 1)),
        AllowlistEntry(1, "CVE-1999-0001", reason="nothing matches", package="zlib1g"),
        AllowlistEntry(2, "CVE-2024-0002", reason="soon over", expires=NOW.date() + dt.timedelta(days=3)),
        AllowlistEntry(3, "CVE-2024-0003", reason="long to go", expires=NOW.date() + dt.timedelta(days=14)),
    )
    evaluation = evaluation_of(
        finding(),
        finding("CVE-2024-0002"),
        finding("CVE-2024-0003"),
        policy=Policy(source="p.yaml", allowlist=entries),
    )
    markdown = render_markdown(evaluation)
    attention = markdown.index("#### Allowlist entries that need attention (3)")
    assert markdown.index("| What to do |") < attention < markdown.index("<details>")
    html = to_html(markdown)
    assert "⏰ expired on 2026-01-01, would match 1 finding" in html
    assert "💤 matched no finding" in html
    assert "⌛ expires in 3 days (2026-03-17), matches 1 finding" in html
    assert "long to go" not in html.split("<details>")[0]


def test_scanner_agreement_is_shown_when_several_scanners_ran() -> None:
    both = replace(finding("CVE-2024-0001"), scanners=("trivy", "grype"))
    grype_only = replace(finding("CVE-2024-0002", severity=Severity.LOW), scanners=("grype",))
    scanners = (ScannerInfo("trivy", "0.50.1"), ScannerInfo("grype", "0.74.0"))
    evaluation = evaluation_of(both, grype_only, scanners=scanners)
    markdown = render_markdown(evaluation)
    assert "Scanners agree on 1 of 2 findings; 0 only by trivy, 1 only by grype." in markdown
    html = to_html(markdown)
    assert "Found by" not in html  # a mark in the vulnerability's cell, not a sixth column
    assert html.count("<sub>grype only</sub>") == 1
    single = render_markdown(evaluation_of(both))
    assert "only</sub>" not in single
    assert "agree" not in single


def test_advisory_mode_says_what_would_block() -> None:
    evaluation = evaluation_of(finding(), policy=Policy(source="p.yaml", mode=Mode.ADVISORY))
    markdown = render_markdown(evaluation)
    assert markdown.startswith("### ⚠️ container-gate: advisory only, never fails: 1 finding(s) would block")
    # What would block is informational: said as part of that count, so the counts add up.
    assert "1 finding: 0 blocking · 0 allowlisted · 0 ignored · 1 informational (1 would block)" in markdown


def test_report_files_beyond_five_are_counted() -> None:
    evaluation = evaluation_of(finding())
    sources = tuple(f"/ci/work/r{n}.json" for n in range(7))
    evaluation = replace(evaluation, report=replace(evaluation.report, sources=sources))
    context = render_markdown(evaluation).splitlines()[2]
    assert context.startswith("reports `r0.json`, `r1.json`, `r2.json`, `r3.json`, `r4.json`, 2 more · ")


def test_a_capped_section_shows_the_most_severe_rows() -> None:
    severities = [Severity.LOW, Severity.MEDIUM, Severity.UNKNOWN] * 40
    findings = [finding(f"CVE-2024-{n:04d}", severity=s) for n, s in enumerate(severities)]
    markdown = render_markdown(evaluation_of(*findings), section_rows=5)
    ids = re.findall(r"\[CVE\\-2024\\-(\d{4})\]", markdown)
    assert ids == ["0001", "0004", "0007", "0010", "0013"]  # the MEDIUM ones, by id
    assert sections(markdown)["Informational"] == (120, 5, 115)


def test_warnings_and_policy_failures_are_listed_and_capped() -> None:
    report_warnings = tuple(f"warning {n}" for n in range(15))
    evaluation = evaluation_of(finding(), warnings=report_warnings)
    html = to_html(render_markdown(evaluation))
    assert html.count("[!WARNING]") == 10
    assert "5 more warning(s) left out" in html


def test_policy_failures_come_before_the_warnings() -> None:
    expired = AllowlistEntry(0, "CVE-2024-0001", reason="old", expires=dt.date(2020, 1, 1))
    policy = Policy(source="p.yaml", allowlist=(expired,), fail_on_expired=True)
    made = evaluation_of(finding("CVE-2024-0001", severity=Severity.LOW), warnings=("the DB is old",))
    markdown = render_markdown(evaluate(made.report, policy, NOW))
    assert markdown.index("- ❌ allowlist\\[0\\]") < markdown.index("> [!WARNING]")
    # No finding blocks, yet the gate fails: the sentence says why instead of "Nothing blocks."
    assert "**No finding blocks; the policy failure below fails the gate.**" in markdown


# --- size --------------------------------------------------------------------------------------


def many(blocking: int, informational: int) -> Evaluation:
    findings = [finding(f"CVE-2024-{n:05d}", pkg=f"lib{n}") for n in range(blocking)]
    findings += [
        finding(f"CVE-2023-{n:05d}", pkg=f"lib{n}", severity=Severity.LOW) for n in range(informational)
    ]
    return evaluation_of(*findings)


def test_fifty_thousand_findings_fit_and_blocking_rows_come_first() -> None:
    evaluation = many(20_000, 30_000)
    markdown = render_markdown(evaluation, marker=MARKER)
    assert len(markdown) <= GITHUB_COMMENT_LIMIT
    found = sections(markdown)
    total, shown, left_out = found["Findings the other actions clear"]
    assert total == 20_000 - LEAD_ACTIONS
    assert 100 < shown < 1_000
    assert shown + left_out == total
    assert found["Informational"] == (30_000, 0, 30_000)
    # lib0 to lib19999 have an informational finding besides: their actions clear it too.
    assert found["More actions"][0] == 30_000 - LEAD_ACTIONS
    facts = check_inert(markdown, evaluation, MARKER)
    assert facts.details_balanced
    # Every action that leads has its findings shown; then the most severe first, then by id.
    assert facts.tables[0].body_rows == LEAD_ACTIONS
    chunk = markdown[markdown.index("Findings the other actions clear") :]
    ids = re.findall(r"\[CVE\\-2024\\-(\d{5})\]", chunk[: chunk.index("</details>")])
    assert len(ids) == shown
    assert ids == sorted(ids)


def test_actions_beyond_the_what_to_do_table_are_counted_below_it() -> None:
    markdown = render_markdown(many(LEAD_ACTIONS + 3, 0))
    after = markdown.split("| What to do |", 1)[1].split("\n\n", 2)[1]
    # Each action clears one finding: the rows shown and the line below account for all of them.
    assert HtmlFacts(to_html(markdown)).tables[0].body_rows == LEAD_ACTIONS
    assert (
        after == '_3 more actions, which clear 3 more findings that block, are under "More actions" below._'
    )
    one = render_markdown(many(LEAD_ACTIONS + 1, 0))
    assert '_One more action, which clears 1 more finding that blocks, is under "More actions" below._' in one
    assert "more action" not in render_markdown(many(LEAD_ACTIONS, 0)).split("<details>")[0]


def test_less_important_sections_are_cut_first() -> None:
    evaluation = many(50, 49_950)
    markdown = render_markdown(evaluation, section_rows=50_000)
    assert len(markdown) <= GITHUB_COMMENT_LIMIT
    found = sections(markdown)
    # The findings that block, whole; then the other actions while they fit; informational last.
    assert found["Findings the other actions clear"] == (50 - LEAD_ACTIONS,) * 2 + (0,)
    total, shown, left_out = found["More actions"]
    assert 0 < shown < total == 49_950 - LEAD_ACTIONS
    assert shown + left_out == total
    assert found["Informational"] == (49_950, 0, 49_950)
    assert HtmlFacts(to_html(markdown)).details_balanced


def test_section_rows_caps_collapsible_sections_and_says_so() -> None:
    evaluation = many(3, 250)
    markdown = render_markdown(evaluation, section_rows=100)
    found = sections(markdown)
    assert [found[f"Findings the upgrade of <code>lib{n}</code> clears"] for n in range(3)] == [(1, 1, 0)] * 3
    assert found["Informational"] == (250, 100, 150)


def test_the_rows_left_out_are_named_for_what_they_are() -> None:
    evaluation = many(3, 250)
    entries = tuple(AllowlistEntry(n, f"CVE-1999-{n:04d}", reason="unused") for n in range(120))
    evaluation = evaluate(evaluation.report, Policy(source="p.yaml", allowlist=entries), NOW)
    markdown = render_markdown(evaluation, section_rows=100, limit=200_000)
    assert "_20 of 120 rows left out; the JSON report (`--json`) lists every allowlist entry._" in markdown
    assert "_147 of 247 rows left out; the JSON report (`--json`) lists every action._" in markdown
    assert "_150 of 250 rows left out; the JSON report (`--json`) lists every finding._" in markdown


def test_a_limit_too_small_for_every_section_keeps_the_actions_and_counts_the_sections_left_out() -> None:
    # A job summary with little room left: the rows of "What to do" come before the titles of the
    # sections below it, which go whole, least important first, and are counted.
    evaluation = many(300, 300)
    everything = sections(render_markdown(evaluation))
    markdown = render_markdown(evaluation, limit=3_000)
    assert len(markdown) <= 3_000
    assert check_inert(markdown, evaluation).tables[0].body_rows == LEAD_ACTIONS
    found = sections(markdown)
    left_out = re.search(r"_(\d+) more sections did not fit in 3,000 characters; the JSON report", markdown)
    assert left_out is not None
    assert len(found) + int(left_out[1]) == len(everything)
    assert all(shown + cut == total for total, shown, cut in found.values())
    # The actions beyond the table are said to be where they still are.
    assert "More actions" not in found
    assert (
        "_292 more actions, which clear 292 more findings that block, are in the JSON report (`--json`)._"
        in (markdown)
    )


@pytest.mark.parametrize("limit", [MIN_LIMIT, 1_500, 2_500, 4_000, 9_999, 20_000, 40_000])
def test_every_limit_gives_whole_rows_and_balanced_html(limit: int) -> None:
    evaluation = many(300, 300)
    entries = tuple(AllowlistEntry(n, f"CVE-1999-{n:04d}", reason="unused") for n in range(120))
    evaluation = evaluate(evaluation.report, Policy(source="p.yaml", allowlist=entries), NOW)
    markdown = render_markdown(evaluation, limit=limit, marker=MARKER)
    assert len(markdown) <= limit
    facts = check_inert(markdown, evaluation, MARKER)
    assert facts.details_balanced
    for title, (total, shown, left_out) in sections(markdown).items():
        assert shown + left_out == total, title
    assert markdown.splitlines()[1].startswith("### ❌ container-gate: fail")


def test_the_verdict_survives_a_limit_too_small_for_any_section() -> None:
    evaluation = evaluation_of(finding(), warnings=tuple("w" * 200 for _ in range(12)))
    markdown = render_markdown(evaluation, limit=MIN_LIMIT, marker=MARKER)
    assert len(markdown) <= MIN_LIMIT
    assert "fail, 1 blocking finding(s)" in markdown
    assert "do not fit in 1024 characters" in markdown
    assert check_inert(markdown, evaluation, MARKER).details_balanced
    with pytest.raises(ValueError, match="below the minimum"):
        render_markdown(evaluation, limit=MIN_LIMIT - 1)


@pytest.mark.parametrize("path", corpus_reports(), ids=[p.name for p in corpus_reports()])
def test_every_corpus_report_has_small_tables_without_a_column_said_in_every_row(path: Path) -> None:
    evaluation = corpus_evaluation(path)
    markdown = render_markdown(evaluation)
    facts = check_inert(markdown, evaluation)
    assert all(len(set(t.rows)) == 1 and t.rows[0] <= 5 for t in facts.tables)
    assert constant_columns(to_html(markdown)) == []
    # The first screen leads with every action that clears a blocking finding.
    first = markdown.split("<details>")[0]
    assert first.count("| Upgrade ") + first.count("| Rebuild ") == min(
        len(evaluation.plan.clearing), LEAD_ACTIONS
    )


# --- golden files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report", "golden_name"),
    [
        (("trivy", "debian-buster.json.golden"), "markdown-trivy-debian-buster.md"),
        (("grype", "keycloak-test.json"), "markdown-grype-keycloak-test.md"),
    ],
)
def test_golden(report: tuple[str, str], golden_name: str, golden: Callable[[str, str], None]) -> None:
    evaluation = corpus_evaluation(corpus_file(*report))
    markdown = render_markdown(evaluation, marker=MARKER)
    check_inert(markdown, evaluation, MARKER)
    golden(golden_name, markdown)


# --- properties ----------------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from(
    [
        *("<", ">", "<img src=x>", "@a", "#1", "](", "[", "![", "`", "``", "|", "\n", "\\", "-->"),
        *("<!--", "www.x.y", "http://x.y", "a@b.c", "javascript:", "&amp;", "</details>", "*", "_", "~~"),
    ]
)
UNTRUSTED = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=8)), max_size=8).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=UNTRUSTED, several=st.booleans())
def test_random_text_never_makes_an_element_or_link(text: str, several: bool) -> None:
    scanners = ("trivy", "grype") if several else ("trivy",)
    evaluation = hostile_evaluation(text, scanners=scanners)
    markdown = render_markdown(evaluation, marker=MARKER)
    facts = check_inert(markdown, evaluation, MARKER)
    assert len(facts.tables) == 6
    assert all(len(set(t.rows)) == 1 and t.rows[0] <= 5 for t in facts.tables)


@settings(max_examples=100, deadline=None)
@given(text=UNTRUSTED)
def test_random_text_stays_one_table_cell(text: str) -> None:
    row = f"| {md_escape(text)} | {md_code(text)} |"
    facts = HtmlFacts(to_html(f"| a | b |\n|---|---|\n{row}\n"))
    assert facts.tables[0].rows == [2, 2]


def test_a_fix_without_a_version_named_is_not_called_no_fix() -> None:
    # Snyk: an upgrade of what pulls qs in fixes it. It blocks as fixable and its action clears it.
    qs = finding("CVE-2014-7191", pkg="qs", version="0.4.2", type="npm", path="package.json", fixed=())
    evaluation = evaluation_of(qs)
    assert evaluation.decisions[0].disposition is Disposition.BLOCKING
    markdown = render_markdown(evaluation)
    assert "`0.4.2` (a fix exists; no version named)" in markdown
    assert "(no fix" not in markdown


@pytest.mark.parametrize(
    "char",
    [
        *("\u200b", "\u200d", "\u200e", "\u200f", "\u061c", "\u2060", "\ufeff", "\u202e", "\u2067"),
        *("\u00ad", "\u180e", "\u206b", "\ufff9", "\U0001d173", "\U000e0041", "\U000e0100"),
        *("\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\ufe00", "\ufe0f", "\U000e01ef"),
    ],
)
def test_an_invisible_or_bidi_character_is_shown_not_dropped(char: str) -> None:
    # Dropped, `req<ZWSP>uests` would read as `requests` in the comment, beside the real one.
    spoof = finding("CVE-2024-0002", pkg=f"req{char}uests", title=f"a{char}b")
    markdown = render_markdown(evaluation_of(finding("CVE-2024-0001", pkg="requests"), spoof), marker=MARKER)
    html = to_html(markdown)
    code = ord(char)
    shown = "req" + (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    )
    shown += "uests"
    assert shown in html
    assert f"req{char}" not in html
    assert f"req{char}" not in markdown
    assert html.count("requests") == markdown.count("requests")  # the real one only, wherever it is


def test_the_upgrades_a_refreshed_base_brings_follow_the_refresh_they_detail() -> None:
    # Only the own layer's finding blocks (as with a baseline, where the base image's findings were
    # there before): the refresh is under "More actions", and its upgrades come after it.
    base = Layer(diff_id="sha256:" + "1" * 64, index=0, origin=LayerOrigin.BASE)
    own = Layer(diff_id="sha256:" + "2" * 64, index=1, origin=LayerOrigin.OWN)
    ev = evaluation_of(
        finding("CVE-2024-0001", pkg="libc6", severity=Severity.MEDIUM, layer=base),
        finding("CVE-2024-0002", pkg="curl", layer=own),
        image=ImageInfo("app:1", base_image="debian:12"),
    )
    md = render_markdown(ev)
    more = md.index("<summary>More actions (1)</summary>")
    assert md.index("<summary>Upgrades a refreshed base image brings (1)</summary>") > more
    assert "Rebuild on a refreshed base image" in md[more:]
    # A refresh that clears what blocks is a lead action: its upgrades follow its findings.
    ev = evaluation_of(
        finding("CVE-2024-0001", pkg="libc6", layer=base), image=ImageInfo("app:1", base_image="debian:12")
    )
    md = render_markdown(ev)
    assert md.index("<summary>Findings a refreshed base image clears (1)</summary>") < md.index(
        "<summary>Upgrades a refreshed base image brings (1)</summary>"
    )
    # Beside other lead actions, right after its findings: before the next action's.
    ev = evaluation_of(
        finding("CVE-2024-0001", pkg="libc6", severity=Severity.CRITICAL, layer=base),
        finding("CVE-2024-0002", pkg="curl", layer=own),
        image=ImageInfo("app:1", base_image="debian:12"),
    )
    assert [a.kind for a in ev.plan.actions] == [ActionKind.BASE_REFRESH, ActionKind.PACKAGE_UPGRADE]
    summaries = re.findall(r"<summary>(.*?) \(\d+\)</summary>", render_markdown(ev))
    assert summaries[:3] == [
        "Findings a refreshed base image clears",
        "Upgrades a refreshed base image brings",
        "Findings the upgrade of <code>curl</code> clears",
    ]


def test_each_upgrade_s_findings_are_titled_with_the_package_it_upgrades() -> None:
    # Debian names hold dots (`python3.11`, `libglib2.0-0`): two such upgrades must not both be
    # "the upgrade of this package". The name is code in raw HTML: escaped, and never a mention.
    ev = evaluation_of(
        finding("CVE-2024-0001", pkg="python3.11", version="3.11.2-6", fixed=("3.11.2-6+deb12u3",)),
        finding("CVE-2024-0002", pkg="libglib2.0-0", version="2.74.6-2", fixed=("2.74.6-2+deb12u5",)),
        finding("CVE-2024-0003", pkg="@octocat<b>&#1", version="1", fixed=("2",)),
    )
    markdown = render_markdown(ev)
    check_inert(markdown, ev)
    summaries = re.findall(r"<summary>Findings the upgrade of (.*?) clears \(1\)</summary>", markdown)
    assert sorted(summaries) == [
        "<code>@octocat&lt;b&gt;&amp;#1</code>",
        "<code>libglib2.0-0</code>",
        "<code>python3.11</code>",
    ]


def test_findings_that_block_without_a_fix_have_a_where_column_only_when_one_has_a_place() -> None:
    # One finding of a scanner's report without layer data: a Where column of one "-" says nothing.
    unfixed = finding("CVE-2024-0009", pkg="zlib1g", fixed=(), status=VendorStatus.AFFECTED)
    no_fix = "<summary>Findings that block without a fix (1)</summary>"
    html = to_html(render_markdown(evaluation_of(unfixed)))
    assert cells_of(html, no_fix)[0][-1] == "HIGH"
    own = Layer(index=5, created_by="RUN apt-get install -y zlib1g", origin=LayerOrigin.OWN)
    html = to_html(render_markdown(evaluation_of(replace(unfixed, layer=own))))
    assert cells_of(html, no_fix)[0][-1] == "own layer: <code>RUN apt-get install -y zlib1g</code>"


@pytest.mark.parametrize(
    ("mode", "counted"), [(Mode.ADVISORY, "**1** would block"), (Mode.ENFORCE, "**1** blocking")]
)
def test_the_upgrades_a_refreshed_base_brings_count_what_its_row_counts(mode: Mode, counted: str) -> None:
    # In advisory mode nothing blocks: the refresh's row counts what would block, and so does each
    # of its upgrades, instead of saying nothing of it.
    base = Layer(diff_id="sha256:" + "1" * 64, index=0, origin=LayerOrigin.BASE)
    ev = evaluation_of(
        finding("CVE-2024-0001", pkg="libc6", layer=base),
        finding("CVE-2024-0002", pkg="libc6", severity=Severity.LOW, layer=base),
        image=ImageInfo("app:1", base_image="debian:12"),
        policy=Policy(source="p.yaml", mode=mode),
    )
    md = render_markdown(ev)
    assert (
        "| Rebuild on a refreshed base image (fixes are published for all 2 of its findings) | **1**: 1 HIGH |"
        in md
    )
    steps = md[md.index("<summary>Upgrades a refreshed base image brings (1)</summary>") :]
    assert f"| `libc6` | `3.0.2-1` → `3.0.13-1` | 2 findings, {counted} | " in steps


def test_a_link_is_the_reports_url_even_where_it_holds_an_entity() -> None:
    # Markdown reads `&amp;` in a link's destination as `&`: the link would not be the report's URL.
    url = "https://tracker.example/show?id=1&amp;b=2&c=3"
    evaluation = evaluation_of(finding(primary_url=url))
    html = to_html(render_markdown(evaluation))
    assert inert_problems(html, allowed_links={url}) == []
    assert 'href="https://tracker.example/show?id=1&amp;amp;b=2&amp;c=3"' in html


def test_a_scan_without_a_base_image_says_below_the_actions_that_one_would_group_them() -> None:
    image = ImageInfo("docker-archive:app.tar", base_sought=True)
    findings = [finding("CVE-2024-0001", pkg="openssl"), finding("CVE-2024-0002", pkg="zlib1g")]
    out = render_markdown(evaluation_of(*findings, image=image))
    said = (
        "_The base image is not known, so each package is an action of its own: give `--base-image REF` "
        "(or `--dockerfile PATH`) and the base image's packages are one action, a rebuild on a refreshed "
        "base image._"
    )
    assert out.count("base image is not known") == 1
    _table, after = out.split("| What to do |", 1)[1].split("\n\n", 1)
    assert after.startswith(said)
    known = replace(image, base_image="debian:12", base_layer_count=1)
    assert "base image is not known" not in render_markdown(evaluation_of(*findings, image=known))
    assert "base image is not known" not in render_markdown(
        evaluation_of(*findings, image=replace(image, base_sought=False))
    )
