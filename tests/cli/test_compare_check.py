"""`compare` on reports already written says of each what `check` says of it alone, under the same
policy and the same KEV and EPSS data: the verdict, what blocks, the actions that clear it and the
known-exploited findings, and the counts behind them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from gate.render.json import render_json
from tests.support.base_checks import AS_OF, CHECKS, STALE_FAILS, checked_run
from tests.support.corpus import corpus_file, corpus_files, debian_bash
from tests.support.repo_paths import PROJECT_ROOT

REPORTS = [
    corpus_file("trivy", "alpine-39.json.golden"),
    corpus_file("trivy", "debian-buster.json.golden"),
    corpus_file("trivy", "spring4shell-jre8.json.golden"),
    corpus_file("trivy", "photon-30.json.golden"),
    corpus_file("trivy", "pip.json.golden"),
    corpus_file("grype", "chainguard-ruby-test.json"),
    corpus_file("grype", "TestJsonImgsPresenter-v0.7.0.golden"),
    corpus_file("snyk", "container-app-vulns__results.json"),
]
EXPLOIT = [
    "--kev",
    str(corpus_files("kev")[0]),
    "--epss",
    str(corpus_file("epss", ".csv.gz")),
    "--as-of",
    "2026-09-30",
]
RUNS = {
    "default": [],
    "strict": ["--policy", str(PROJECT_ROOT / "policies/strict.yaml")],
    "advisory": ["--policy", str(PROJECT_ROOT / "policies/advisory.yaml")],
    "known-exploited": [
        "--policy",
        str(PROJECT_ROOT / "docs/examples/exploitability/known-exploited.yaml"),
        *EXPLOIT,
    ],
    "default-with-data": EXPLOIT,
}


def checked(report: Path, args: list[str], out: Path) -> dict[str, Any]:
    """What `check` says of one report alone: the numbers a compare row shows."""
    code = main(["check", str(report), "--ci", "none", "-q", "--json", str(out), *args])
    assert code in (ExitCode.PASS, ExitCode.FAIL)
    doc = json.loads(out.read_text(encoding="utf-8"))
    by_severity: dict[str, int] = {}
    for counts in doc["counts_by_severity"].values():
        for severity, n in counts.items():
            by_severity[severity] = by_severity.get(severity, 0) + n
    blocking = doc["counts"]["blocking"]
    # The actions check's verdict line counts: those that clear what blocks, else what would.
    cleared = "blocking" if blocking else "would_block"
    kev = doc["exploit_data"].get("kev_catalog_version") if doc.get("exploit_data") else None
    return {
        "verdict": doc["verdict"],
        "blocking": blocking,
        "actions": sum(1 for action in doc["actions"] if action[cleared]),
        "known_exploited": sum(1 for f in doc["findings"] if f["kev"]) if kev else None,
        "findings": len(doc["findings"]),
        "counts_by_severity": by_severity,
        "policy_failures": doc["policy_failures"],
        "would_block": doc["would_block"],
    }


@pytest.mark.parametrize("run", list(RUNS))
def test_each_row_says_what_check_says_of_its_report_alone(
    run: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = RUNS[run]
    table = tmp_path / "compare.json"
    refs = [f"{report.name}={report}" for report in REPORTS]
    assert main(["compare", *refs, *args, "--json", str(table)]) == ExitCode.PASS
    rows = json.loads(table.read_text(encoding="utf-8"))["images"]
    for report, row in zip(REPORTS, rows, strict=True):
        want = checked(report, args, tmp_path / "check.json")
        assert {key: row[key] for key in want} == want, report.name
    capsys.readouterr()


def test_the_table_leads_with_what_a_choice_rests_on(capsys: pytest.CaptureFixture[str]) -> None:
    report = corpus_file("trivy", "spring4shell-jre8.json.golden")
    policy = str(PROJECT_ROOT / "docs/examples/exploitability/known-exploited.yaml")
    assert main(["compare", f"jre8={report}", "--policy", policy, *EXPLOIT]) == ExitCode.PASS
    header, row = capsys.readouterr().out.splitlines()[1:3]
    assert header.split()[:5] == ["IMAGE", "VERDICT", "BLOCKING", "ACTIONS", "KEV"]
    assert row.split()[:5] == ["jre8", "FAIL", "1", "1", "1"]


def test_the_kev_column_counts_what_check_marks_kev_blocking_or_not_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # jre8's one KEV-listed finding is LOW, so it does not block under the default policy:
    # check's verdict line names no known-exploited finding, its report marks one with `kev`.
    # The column counts it, and its legend says it counts blocking or not.
    report = corpus_file("trivy", "spring4shell-jre8.json.golden")
    assert main(["check", str(report), "--ci", "none", *EXPLOIT]) == ExitCode.PASS
    verdict = capsys.readouterr().out.splitlines()[0]
    assert verdict == "container-gate: PASS: no blocking findings."
    want = checked(report, EXPLOIT, tmp_path / "check.json")
    assert (want["blocking"], want["known_exploited"]) == (0, 1)
    capsys.readouterr()
    markdown = tmp_path / "compare.md"
    assert main(["compare", f"jre8={report}", *EXPLOIT, "--markdown", str(markdown)]) == ExitCode.PASS
    lines = capsys.readouterr().out.splitlines()
    header, row = lines[1].split(), lines[2].split()
    assert row[header.index("KEV")] == "1"
    assert "KEV: findings CISA lists as known exploited, blocking or not (- without KEV data)" in lines[4]
    assert "_Known exploited_ the findings in CISA's KEV catalog, blocking or not" in markdown.read_text(
        encoding="utf-8"
    )


EXPIRED = """\
version: 1
fail_on: {severity: HIGH}
allowlist:
  - vulnerability: CVE-2019-1549
    reason: not shipped
    expires: 2020-01-01
fail_on_expired: true
"""


def test_a_row_the_policy_fails_without_blocking_findings_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An expired allowlist entry with fail_on_expired fails every image: the rows said FAIL with
    # nothing blocking, and nothing said why.
    policy, table = tmp_path / "policy.yaml", tmp_path / "compare.json"
    policy.write_text(EXPIRED, encoding="utf-8")
    report = corpus_file("trivy", "alpine-310.json.golden")
    args = ["--policy", str(policy)]
    assert main(["compare", f"alpine={report}", *args, "--json", str(table)]) == ExitCode.PASS
    out = capsys.readouterr().out
    (row,) = json.loads(table.read_text(encoding="utf-8"))["images"]
    want = checked(report, args, tmp_path / "check.json")
    assert (row["verdict"], row["blocking"]) == ("fail", 0)
    assert row["policy_failures"] == want["policy_failures"]
    (failure,) = want["policy_failures"]
    assert f"\nFailed by the policy, besides blocking findings:\n  alpine: {failure}\n\n" in out
    # The entry itself is then listed as check lists it.
    assert (
        "\nAllowlist entries that need attention (renew, fix or remove them):\n"
        "  alpine: allowlist[0] CVE-2019-1549: expired on 2020-01-01, would match 2 findings: not shipped\n"
    ) in out


@pytest.mark.parametrize("kind", list(CHECKS))
@pytest.mark.parametrize("policy_text", [None, STALE_FAILS], ids=["default", "stale-fails"])
def test_a_decision_report_with_its_base_check_is_the_row_check_makes_of_it(
    kind: str, policy_text: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The run of `scan --check-base` read back: its base image check plans the actions and may
    # fail the policy, in the row as in check.
    gate_json, table = tmp_path / "gate.json", tmp_path / "compare.json"
    gate_json.write_text(render_json(checked_run(CHECKS[kind])), encoding="utf-8")
    unchecked = json.loads(gate_json.read_text(encoding="utf-8"))
    del unchecked["base_image"]
    plain = tmp_path / "unchecked.json"
    plain.write_text(json.dumps(unchecked), encoding="utf-8")
    args = ["--as-of", AS_OF]
    if policy_text is not None:
        policy = tmp_path / "policy.yaml"
        policy.write_text(policy_text, encoding="utf-8")
        args += ["--policy", str(policy)]
    argv = ["compare", f"checked={gate_json}", f"unchecked={plain}", *args, "--json", str(table)]
    assert main(argv) == ExitCode.PASS
    rows = json.loads(table.read_text(encoding="utf-8"))["images"]
    for report, row in zip((gate_json, plain), rows, strict=True):
        want = checked(report, args, tmp_path / "check.json")
        assert {key: row[key] for key in want} == want, row["reference"]
    capsys.readouterr()


def test_under_an_advisory_policy_the_row_says_what_would_block(capsys: pytest.CaptureFixture[str]) -> None:
    # Advisory mode never blocks: every row said BLOCKING 0, and a trial of the policy could not
    # tell the images apart.
    report = corpus_file("trivy", "alpine-39.json.golden")
    policy = str(PROJECT_ROOT / "policies/advisory.yaml")
    assert main(["compare", f"alpine={report}", "--policy", policy]) == ExitCode.PASS
    row = capsys.readouterr().out.splitlines()[2]
    assert row.split()[:6] == ["alpine", "PASS", "0", "(+2", "would)", "2"]


def test_under_an_advisory_policy_the_terminal_markdown_and_json_say_it_is_advisory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # check leads with "ADVISORY MODE: this gate never fails"; compare's rows alone read PASS with
    # nothing blocking, as for images with nothing to fix. An enforcing policy has no such line;
    # the JSON document says it in its `advisory` field.
    report = corpus_file("trivy", "alpine-39.json.golden")
    markdown, document = tmp_path / "compare.md", tmp_path / "compare.json"
    for policy, said in (("advisory", True), ("default", False)):
        args = ["--policy", str(PROJECT_ROOT / f"policies/{policy}.yaml"), "--markdown", str(markdown)]
        args += ["--json", str(document)]
        assert main(["compare", f"alpine={report}", *args]) == ExitCode.PASS
        lines = capsys.readouterr().out.splitlines()
        note = "ADVISORY MODE: this policy never fails an image; (+N would) is what an enforcing policy would block."
        assert (lines[3] == note) is said, lines[3]
        text = markdown.read_text(encoding="utf-8")
        assert ("**ADVISORY MODE: this policy never fails an image**" in text) is said
        assert json.loads(document.read_text(encoding="utf-8"))["advisory"] is said


def test_an_advisory_policy_is_said_when_no_image_could_be_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every row an error: no evaluation said the policy was advisory, and the JSON document said
    # `"advisory": false` under an advisory policy.
    broken = tmp_path / "broken.json"
    broken.write_text("{}", encoding="utf-8")
    markdown, document = tmp_path / "compare.md", tmp_path / "compare.json"
    args = [f"broken={broken}", "--policy", str(PROJECT_ROOT / "policies/advisory.yaml")]
    args += ["--json", str(document), "--markdown", str(markdown)]
    assert main(["compare", *args]) == ExitCode.ERROR
    assert "ADVISORY MODE: this policy never fails an image" in capsys.readouterr().out
    assert "**ADVISORY MODE: this policy never fails an image**" in markdown.read_text(encoding="utf-8")
    assert json.loads(document.read_text(encoding="utf-8"))["advisory"] is True


NEEDS_ATTENTION = """\
version: 1
fail_on: {severity: HIGH}
allowlist:
  - vulnerability: CVE-2019-14697
    reason: musl is not used
    expires: 2020-01-01
  - vulnerability: CVE-2099-0001
    reason: nothing has it
  - vulnerability: CVE-2019-1549
    reason: for now
    expires: 2026-12-20
  - vulnerability: cve-2019-1549
    reason: again
    expires: 2026-12-20
"""


def test_the_policys_warnings_and_the_entries_that_need_attention_are_said_as_check_says_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # check warned of an entry repeating another and listed the expired, unused and expiring
    # entries; compare said none of it, and a policy trial across images hid its stale entries.
    policy, table, markdown = tmp_path / "policy.yaml", tmp_path / "compare.json", tmp_path / "compare.md"
    policy.write_text(NEEDS_ATTENTION, encoding="utf-8")
    reports = [corpus_file("trivy", "alpine-39.json.golden"), corpus_file("trivy", "alpine-310.json.golden")]
    args = ["--policy", str(policy), "--as-of", "2026-12-07"]
    refs = ["a39=" + str(reports[0]), "a310=" + str(reports[1])]
    assert main(["compare", *refs, *args, "--json", str(table), "--markdown", str(markdown)]) == ExitCode.PASS
    out = capsys.readouterr().out
    rows = json.loads(table.read_text(encoding="utf-8"))["images"]
    said_by_check = []
    for report, row in zip(reports, rows, strict=True):
        assert main(["check", str(report), "--ci", "none", *args]) in (ExitCode.PASS, ExitCode.FAIL)
        summary = capsys.readouterr().out
        checked_doc = tmp_path / "check.json"
        main(["check", str(report), "--ci", "none", "-q", "--json", str(checked_doc), *args])
        capsys.readouterr()
        doc = json.loads(checked_doc.read_text(encoding="utf-8"))
        assert row["warnings"] == doc["warnings"]
        # check's summary lists these entries, one line each; the row has each with its state.
        listed = summary.split("need attention (renew, fix or remove them):\n", 1)[1].split("\n\n", 1)[0]
        lines = [line.removeprefix("  - ") for line in listed.splitlines()]
        attention = row["allowlist_attention"]
        assert [
            f"allowlist[{e['index']}] {e['vulnerability']}: {e['attention']}: {e['reason']}"
            for e in attention
        ] == lines
        rules = {rule["index"]: rule for rule in doc["rules"]}
        assert all({k: v for k, v in e.items() if k != "attention"} == rules[e["index"]] for e in attention)
        said_by_check.append(lines)
    assert [e["state"] for e in rows[0]["allowlist_attention"]] == ["expired", "unused", "used", "unused"]
    assert rows[0]["allowlist_attention"][0]["would_match"] == 2
    repeated = next(w for w in rows[0]["warnings"] if "repeats allowlist[2]" in w)
    assert f"\nWarnings:\n  every image: {repeated}\n" in out
    assert (
        "\nAllowlist entries that need attention (renew, fix or remove them):\n"
        f"  a39: {said_by_check[0][0]}\n"
        f"  a310: {said_by_check[1][0]}\n"
        f"  every image: {said_by_check[0][1]}\n"
    ) in out
    text = markdown.read_text(encoding="utf-8")
    assert (
        "\nAllowlist entries that need attention (renew, fix or remove them):\n\n- `a39`: allowlist\\[0\\]"
        in text
    )
    assert "\nWarnings:\n\n- every image: " in text
    assert "repeats allowlist\\[2\\]" in text


def test_a_decision_report_s_base_image_check_is_said_as_check_says_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # check leads with the base image check a decision report carries ("stale base ... is 47 days
    # behind its tag; rebuilding on it removes 3 findings"); compare said nothing of it, and a
    # stale base under on_stale: warn went unsaid.
    reports, refs = [], []
    for kind, check in CHECKS.items():
        path = tmp_path / f"{kind.replace(' ', '-').replace(',', '')}.json"
        path.write_text(render_json(checked_run(check)), encoding="utf-8")
        reports.append(path)
        refs.append(f"{path.stem}={path}")
    table = tmp_path / "compare.json"
    assert main(["compare", *refs, "--as-of", AS_OF, "--json", str(table)]) == ExitCode.PASS
    out = capsys.readouterr().out
    listed = out.split("\nBase images:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    rows = json.loads(table.read_text(encoding="utf-8"))["images"]
    for report, row, shown in zip(reports, rows, listed, strict=True):
        assert main(["check", str(report), "--ci", "none", "--as-of", AS_OF]) == ExitCode.FAIL
        line = capsys.readouterr().out.splitlines()[2]
        assert shown == f"  {report.stem}: {line}"
        checked_doc = tmp_path / "check.json"
        main(["check", str(report), "--ci", "none", "-q", "--as-of", AS_OF, "--json", str(checked_doc)])
        capsys.readouterr()
        base = json.loads(checked_doc.read_text(encoding="utf-8"))["base_image"]
        del base["removed_findings"]
        assert row["base_image"] == base
    assert listed[0].startswith("  stale: stale base `reg.example/base:12` is 47 days behind its tag")


def test_what_became_of_the_vex_statements_is_said_as_check_says_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # check says how many VEX statements were used and how many matched nothing; compare applied
    # the same statements to every image and said nothing of them.
    vex = corpus_file("vex", "trivy__pkg-vex-testdata-openvex-oci.json")
    reports = [debian_bash(tmp_path), corpus_file("trivy", "alpine-39.json.golden")]
    table = tmp_path / "compare.json"
    refs = [f"bash={reports[0]}", f"alpine={reports[1]}"]
    assert main(["compare", *refs, "--vex", str(vex), "--json", str(table)]) == ExitCode.PASS
    out = capsys.readouterr().out
    rows = json.loads(table.read_text(encoding="utf-8"))["images"]
    listed = out.split("\nVEX statements:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    said = []
    for report in reports:
        main(["check", str(report), "--ci", "none", "--vex", str(vex)])
        (line,) = (line for line in capsys.readouterr().out.splitlines() if line.startswith("vex: "))
        said.append(line.removeprefix("vex:").strip().removesuffix(" (the JSON report's rules list them)"))
    assert said == [
        "1 statement(s) from 1 file(s): 1 used, 0 unused",
        "1 statement(s) from 1 file(s): 0 used, 1 unused",
    ]
    assert listed == [f"  bash: {said[0]}", f"  alpine: {said[1]}"]
    assert [row["vex"] for row in rows] == [
        {"statements": 1, "used": 1, "partial": 0, "unused": 0},
        {"statements": 1, "used": 0, "partial": 0, "unused": 1},
    ]
    # Without VEX, no list and null.
    assert main(["compare", *refs, "--json", str(table)]) == ExitCode.PASS
    assert "VEX statements:" not in capsys.readouterr().out
    assert [row["vex"] for row in json.loads(table.read_text(encoding="utf-8"))["images"]] == [None, None]
