"""The terminal summary at every width a terminal is taken as (60 to 160 columns): below its head, no
line is wider than the width as a terminal counts columns, whatever the report's text."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from gate.enrich.load import load_exploit_data
from gate.model import Layer, LayerOrigin, ScannerInfo, Severity, VendorStatus
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Evaluation
from gate.policy.inputs import EvaluationInputs
from gate.policy.model import AllowlistEntry, ExploitDataPolicy, FailOn, Policy
from gate.render._columns import display_width, fit, table, wrap
from gate.render.remediation import what_to_do
from gate.render.terminal import MAX_WIDTH, MIN_WIDTH, WIDTH, render_terminal
from tests.support.corpus import corpus_evaluation, corpus_file, corpus_reports, longest_corpus_id
from tests.support.factories import finding, layer, report

WIDTHS = range(MIN_WIDTH, MAX_WIDTH + 1)
KEV = corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json")
EPSS = corpus_file("epss", "epss_scores-2026-09-29.excerpt.csv")
NOW = dt.datetime(2026, 9, 30, 12, tzinfo=dt.UTC)

CJK = "数据库驱动程序中文包名称非常长的名字"
COMBINING = "e\u0301\u0302a\u0308o\u0303" * 6
LONG = "org.springframework.boot:spring-boot-starter-" + "x" * 60


def body(summary: str) -> list[str]:
    """The summary below its head (verdict, image, scanners, counts), without the closing verdict."""
    lines = summary.splitlines()
    return lines[lines.index("") : -1]


IMAGE_LABEL = "image:    "


def head(summary: str) -> list[str]:
    """The head's lines and the closing verdict, the image's line joined with the lines it goes on
    to (which lines those are depends on the width)."""
    lines = summary.splitlines()
    joined: list[str] = []
    for line in lines[: lines.index("")]:
        if joined and joined[-1].startswith(IMAGE_LABEL) and line.startswith(" " * len(IMAGE_LABEL)):
            joined[-1] += " " + line.strip()
        else:
            joined.append(line)
    return [*joined, lines[-1]]


def image_lines(summary: str) -> list[str]:
    """The image's line and the lines it goes on to."""
    lines = summary.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(IMAGE_LABEL))
    end = start + 1
    while lines[end].startswith(" " * len(IMAGE_LABEL)):
        end += 1
    return lines[start:end]


@cache
def hostile() -> Evaluation:
    """Every table and list of the summary full: wide, combining and long names, ids and versions,
    two scanners, KEV and EPSS marks, more actions than are listed, findings without a fix, and
    allowlist entries that need attention, in CJK."""
    findings = [
        finding("CVE-2023-4911", pkg=CJK, version="版本" * 8, fixed=("修复" * 12,), severity=Severity.LOW),
        finding("CVE-2023-0286", pkg=COMBINING, fixed=(COMBINING,), severity=Severity.LOW),
        finding("GHSA-jfh8-c2jp-5v3q", pkg=LONG, type="maven", fixed=tuple(f"2.{n}.0" for n in range(30))),
        finding("CVE-2024-0009", pkg=CJK + "z", fixed=(), status=VendorStatus.AFFECTED),
        finding("CVE-2024-0010", pkg="zlib1g", version="1:1.2.13", fixed=("1:1.2.13",)),
        *(
            finding(f"CVE-2024-{n:05d}", pkg=f"{CJK[:n]}{LONG}{n}", severity=Severity.CRITICAL)
            for n in range(12)
        ),
    ]
    findings += [replace(f, scanners=("trivy", "grype")) for f in findings[:3]]
    entries = (
        AllowlistEntry(0, "CVE-1999-0001", reason=f"{CJK} " * 6, expires=dt.date(2020, 1, 1)),
        AllowlistEntry(1, f"CVE-1999-0002{COMBINING}", reason=f"{COMBINING} {LONG}"),
    )
    policy = Policy(
        source="policy.yaml",
        fail_on=FailOn(severity=Severity.HIGH, known_exploited=True, epss=0.5),
        exploit_data=ExploitDataPolicy(max_age_days=90),
        allowlist=entries,
        fail_on_expired=True,
    )
    made = report(*findings, scanners=(ScannerInfo("trivy", "0.50.1"), ScannerInfo("grype", "0.74.0")))
    data = load_exploit_data(KEV, EPSS, made.findings)
    return evaluate(made, policy, NOW, EvaluationInputs(exploit=data))


def test_the_columns_are_counted_as_a_terminal_shows_them() -> None:
    assert display_width("openssl") == 7
    assert display_width("数据") == 4  # East Asian wide: two columns each
    assert display_width("e\u0301") == 1  # a combining mark takes no column
    assert display_width("…") == 1
    assert fit("数据库", 4) == "数…"
    assert fit("e\u0301e\u0301e\u0301", 2) == "e\u0301…"
    assert wrap("  one two three", 9) == ["  one two", "    three"]
    # A sentence loses no character: an ASCII word longer than a line (a path) is a line of its
    # own, whole; CJK text, without spaces to break at, is broken by columns.
    assert wrap("  in /tmp/abcdefghij.json ok", 12) == ["  in", "    /tmp/abcdefghij.json", "    ok"]
    assert wrap("数据库驱动", 7) == ["数据库", "  驱动"]


def test_an_emoji_of_several_characters_is_cut_and_counted_whole() -> None:
    # A heart with its variation selector is two columns, its characters alone one; a family
    # joined by zero-width joiners is one emoji of two columns. Neither is cut inside.
    heart, family = "\u2764\ufe0f", "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert fit(heart * 40, 10) == heart * 4 + "…"
    assert fit(family * 10, 10) == family * 4 + "…"
    assert display_width(fit(f"pkg-{heart * 40}", 30)) <= 30
    lines = wrap("  - " + heart * 40, 30)
    assert "".join(line.strip() for line in lines) == "-" + heart * 40
    assert all(display_width(line) <= 30 for line in lines)
    cells = table([["1", f"a{heart * 30}", "b"]], ["#", "AAA", "BBB"], 1, 30)
    assert all(display_width(line) <= 30 for line in cells)


def test_a_table_leaves_out_and_cuts_columns_in_the_order_given() -> None:
    rows = [["1", "a" * 20, "b" * 20, "c" * 10]]
    header = ["#", "AAA", "BBB", "CCC"]
    assert table(rows, header, 1, 80) == table(rows, header, 1, 80, [{2: 3}, 3])
    # 2 + (1 + 20 + 20 + 10) + 3 * 2 = 59 columns: at 40, AAA gives up to its header, BBB the rest.
    assert table(rows, header, 1, 40, [{2: 3}]) == [
        "  #  AAA  BBB" + " " * 15 + "  CCC",
        "  1  aa…  " + "b" * 17 + "…  cccccccccc",
    ]
    # At 24, BBB cannot give enough: CCC is left out and BBB gives up only what is still needed.
    assert table(rows, header, 1, 24, [{2: 3}, 3]) == ["  #  AAA  BBB", "  1  aa…  " + "b" * 13 + "…"]
    # The flexible column can be left out too: the others keep what they hold.
    assert table(rows, header, 1, 26, [3, 1]) == ["  #  BBB", "  1  " + "b" * 20]


def test_the_hostile_summary_has_every_part_filled() -> None:
    out = render_terminal(hostile())
    for part in ("FOUND BY", "EXPLOIT", "KEV", "... and 4 more actions", "ACTION -: no fix yet"):
        assert part in out, part
    assert "Policy failures:" in out
    assert "Allowlist entries that need attention" in out
    assert "a fix no newer than the installed version" in out


def too_wide(lines: list[str], width: int) -> list[str]:
    """The lines wider than `width`, but for an ASCII word longer than a line alone on one (kept
    whole, so that a path can be copied from the log)."""
    return [
        line
        for line in lines
        if display_width(line) > width and not (len(line.split()) == 1 and line.isascii())
    ]


def test_prose_wraps_at_spaces_and_keeps_a_long_path_whole() -> None:
    path = "/builds/group/project/" + "x" * 80 + "/kev.json"
    lines = wrap(f"  - the KEV data taken from {path} has no date", 60)
    assert lines == ["  - the KEV data taken from", f"    {path}", "    has no date"]
    assert too_wide(lines, 60) == []
    cjk = wrap("  - " + "数据" * 40, 30)
    assert "".join(line.strip() for line in cjk) == "-" + "数据" * 40
    assert all(display_width(line) <= 30 for line in cjk)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_line_below_the_head_is_wider_than_the_terminal(width: int) -> None:
    summary = render_terminal(hostile(), width=width)
    wide = too_wide(body(summary), width)
    assert not wide, wide
    # The head reads the same at every width: the verdict whole, first and last.
    assert head(summary) == head(render_terminal(hostile()))
    # Every finding that blocks keeps its row, whatever was cut from it.
    assert sum(line.startswith(("  #", "  -  ", "  more")) for line in body(summary)) >= 20


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda path: path.name)
def test_no_corpus_summary_line_below_the_head_is_wider_than_the_terminal(path: Path) -> None:
    evaluation = corpus_evaluation(path)
    at_100 = render_terminal(evaluation)
    assert render_terminal(evaluation, width=WIDTH) == at_100
    # The table of findings that block lists the same ids, whole, at every width.
    listed = id_cells(at_100)
    assert bool(listed) == ("Findings that" in at_100)
    assert set(listed) <= {d.finding.vulnerability_id for d in evaluation.decisions}
    for width in WIDTHS:
        summary = render_terminal(evaluation, width=width)
        if "" not in summary.splitlines():
            continue  # the verdict alone: nothing blocks, nothing needs attention
        assert too_wide(body(summary), width) == [], width
        assert head(summary) == head(at_100)
        assert id_cells(summary) == listed, width


@pytest.mark.parametrize("width", WIDTHS)
def test_the_image_line_goes_on_under_the_reference_within_the_width(width: int) -> None:
    # A long reference with its platform, distribution and digest ran past the width, where the
    # commands and what-to-do lines below it wrap: the corpus's debian-buster archive made a
    # line of 160 columns. The reference and the digest stay whole, each on one line.
    evaluation = corpus_evaluation(corpus_file("trivy", "debian-buster.json.golden"))
    image = evaluation.report.image
    assert image is not None
    digest = image.image_id  # an archive's: no repository digest
    assert digest is not None
    lines = image_lines(render_terminal(evaluation, width=width))
    assert lines[0] == IMAGE_LABEL + image.reference or display_width(lines[0]) <= width
    assert too_wide(lines[1:], width) == []
    assert image.reference in lines[0]
    assert any(digest in line for line in lines)
    said = " ".join(line.strip() for line in lines)
    assert said == f"{IMAGE_LABEL}{image.reference} (linux/amd64, debian 10.1, {digest})"
    # A reference longer than the line is a line of its own, whole.
    long_reference = "registry.example.com/" + "team/" * 30 + "app:1.0"
    longer = replace(
        evaluation, report=replace(evaluation.report, image=replace(image, reference=long_reference))
    )
    lines = image_lines(render_terminal(longer, width=width))
    assert lines[0] == IMAGE_LABEL + long_reference
    assert too_wide(lines[1:], width) == []


def test_the_longest_corpus_id_is_a_long_snyk_id() -> None:
    # What the tests below hold whole: longer than any id a cell used to hold (24 characters).
    assert longest_corpus_id().startswith("SNYK-")
    assert len(longest_corpus_id()) >= 38


@cache
def long_ids() -> Evaluation:
    """Findings that block with the longest ids of their kinds (a GHSA id is 19 characters, a CVE
    id with a seven-digit number 16, a Snyk id up to the corpus's longest), long package names and
    versions, two scanners, and KEV and EPSS marks: the exploit column is shown."""
    ids = (
        "GHSA-jfh8-c2jp-5v3q",
        "CVE-2024-1234567",
        "GHSA-xxxx-xxxx-xxxx",
        "CVE-2023-4911",
        "openSUSE-SU-2024:12345-1",
        "SNYK-DEBIAN12-OPENSSL-5788364",
        longest_corpus_id(),
    )
    findings = [
        finding(vid, pkg=f"{LONG}{n}", version="1.2.3-" + "9" * n, fixed=("2.0.0-" + "9" * n,))
        for n, vid in enumerate(ids)
    ]
    # A long id marked too: known exploited (an alias in the KEV catalog) with an EPSS score.
    findings.append(finding("GHSA-2222-3333-4444", pkg="glibc", aliases=("CVE-2023-4911",)))
    policy = Policy(source="policy.yaml", fail_on=FailOn(severity=Severity.HIGH, known_exploited=True))
    findings[0] = replace(findings[0], scanners=("trivy", "grype"))
    made = report(*findings, scanners=(ScannerInfo("trivy", "0.50.1"), ScannerInfo("grype", "0.74.0")))
    return evaluate(made, policy, NOW, EvaluationInputs(exploit=load_exploit_data(KEV, EPSS, made.findings)))


def id_cells(summary: str) -> list[str]:
    """The ids in the rows of the table of findings that block."""
    lines = body(summary)
    start = next((n for n, line in enumerate(lines) if line.startswith("  ACTION  ID")), len(lines))
    return [line.split()[1] for line in lines[start + 1 :] if line.startswith(("  #", "  -  ", "  more"))]


@pytest.mark.parametrize("width", WIDTHS)
def test_an_id_is_never_cut_whatever_the_width(width: int) -> None:
    # An id is what a reader copies to look the finding up: cut to 13 columns at 60 when the
    # exploit column was shown, `GHSA-jfh8-c2…` named no advisory; cut to 24 at every width,
    # `SNYK-DEBIAN12-OPENSSL-57883…` named none either. Other columns give way instead.
    evaluation = long_ids()
    assert "EXPLOIT" in render_terminal(evaluation, width=MAX_WIDTH)
    assert "FOUND BY" in render_terminal(evaluation, width=MAX_WIDTH)
    summary = render_terminal(evaluation, width=width)
    assert too_wide(body(summary), width) == []
    assert sorted(id_cells(summary)) == sorted(d.finding.vulnerability_id for d in evaluation.decisions)
    assert "2 known-exploited" in head(summary)[0]  # counted at every width, the marks or not


@pytest.mark.parametrize("width", WIDTHS)
def test_a_hostile_id_too_long_for_the_terminal_is_cut_within_the_width(width: int) -> None:
    absurd = "SNYK-" + "X" * 195
    made = report(finding(absurd, pkg="openssl"), finding("CVE-2024-0001", pkg="zlib"))
    evaluation = evaluate(made, Policy(source="policy.yaml"), NOW)
    summary = render_terminal(evaluation, width=width)
    assert all(display_width(line) <= width for line in body(summary))
    cells = id_cells(summary)
    assert "CVE-2024-0001" in cells
    cut = next(cell for cell in cells if cell.startswith("SNYK-"))
    assert cut.endswith("…")
    assert absurd.startswith(cut[:-1])


def commands(summary: str) -> list[str]:
    """The actions' commands as a shell reads them: a line ending in ` \\` goes on on the next."""
    found: list[str] = []
    going_on = False
    for line in body(summary):
        text = line.strip()
        if going_on:
            found[-1] += " " + text.removesuffix(" \\")
        elif text.startswith("$ "):
            found.append(text[2:].removesuffix(" \\"))
        going_on = text.endswith(" \\")
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_an_actions_command_is_never_cut_whatever_the_width(width: int) -> None:
    # A command is what a reader pastes into a shell or a Dockerfile's RUN: cut with an ellipsis
    # (`apt-get install -y --only-upgrad…` at 60 columns, the package list of a glibc upgrade at
    # 100) it would not run. It goes on to the next lines with the shell's line continuation.
    glibc = ("libc6", "libc-bin", "libc-dev-bin", "libc6-dev", "locales", "libc-l10n")
    made = report(
        *(finding("CVE-2023-4911", pkg=name, source_name="glibc", version="2.36-9") for name in glibc),
        finding("CVE-2019-18224", pkg="libidn2-0", version="2.0.5-1", fixed=("2.0.5-1+deb10u1",)),
    )
    evaluation = evaluate(made, Policy(source="policy.yaml"), NOW)
    summary = render_terminal(evaluation, width=width)
    assert too_wide(body(summary), width) == []
    apt = "apt-get update && apt-get install -y --only-upgrade"
    assert sorted(commands(summary)) == [f"{apt} {' '.join(sorted(glibc))}", f"{apt} libidn2-0"]


def what_cells(summary: str) -> list[str]:
    """The WHAT TO DO cells of the actions' table, with the lines each goes on to below its row."""
    lines = body(summary)
    top = lines.index("What to do, most useful first:") + 1
    start = lines[top].index("WHAT TO DO")
    cells: list[str] = []
    for line in lines[top + 1 : lines.index("", top)]:
        if line[2:3].isdigit():
            cells.append(line[start:].split("  ")[0])
        elif not line[:start].strip():
            cells[-1] += " " + line.strip()
    return cells


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("where", [None, layer(LayerOrigin.OWN, 7)], ids=["no-layer", "layer"])
def test_what_to_do_is_never_cut_whatever_the_width(width: int, where: Layer | None) -> None:
    # What to rebuild on and what to upgrade to is what the reader came for: cut at 60 columns,
    # `Upgrade lodash 4.17.11 …` said neither, nor did the glibc upgrade at 100. The cell goes
    # on to the next lines, at its column.
    glibc = ("libc6", "libc-bin", "libc-dev-bin", "libc6-dev", "locales", "libc-l10n")
    made = report(
        *(
            finding("CVE-2023-4911", pkg=name, source_name="glibc", version="2.36-9", layer=where)
            for name in glibc
        ),
        finding(
            "CVE-2019-18224", pkg="libidn2-0", version="2.0.5-1", fixed=("2.0.5-1+deb10u1",), layer=where
        ),
    )
    evaluation = evaluate(made, Policy(source="policy.yaml"), NOW)
    summary = render_terminal(evaluation, width=width)
    assert too_wide(body(summary), width) == []
    wanted = sorted(what_to_do(action, "->", pinned=False) for action in evaluation.plan.actions)
    assert sorted(what_cells(summary)) == wanted
    assert ("LAYER" in summary) == (where is not None)
