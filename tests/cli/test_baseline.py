"""`check --baseline`: corpus pairs give exactly the expected new, unchanged, worse and fixed sets;
what changes on every build (image name, installed version, versioned directories) makes nothing
new; a finding already in the baseline cannot block; a baseline that cannot be read is a warning
in every output and the full policy applies, or exit 2 with --baseline-required."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.cli import main as cli
from gate.enrich.baseline import is_baseline_warning
from gate.errors import ExitCode
from tests.support.corpus import corpus_file
from tests.support.repo_paths import TEST_DATA
from tests.support.sarif_tools import validate_sarif_schema

PAIRS = yaml.safe_load((TEST_DATA / "baseline" / "pairs.yaml").read_text(encoding="utf-8"))
AS_OF = ["--as-of", "2026-12-01"]


def gate(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["check", *argv, "--ci", "none", *AS_OF])
    out, err = capsys.readouterr()
    return code, out, err


def decision(report: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    """The decision report of `check report`, written to `out`."""
    gate([str(report), "--json", str(out), *extra], capsys)
    loaded: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return loaded


def named(finding: dict[str, Any]) -> str:
    return f"{finding['vulnerability_id']} {finding['package']}"


def states(report: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"new": [], "unchanged": [], "worse": []}
    for finding in report["findings"]:
        found[finding["baseline"]].append(named(finding))
    found["fixed"] = [named(f) for f in report["baseline"]["fixed"]]
    return {state: sorted(items) for state, items in found.items()}


SARIF_STATE = {"new": "new", "unchanged": "unchanged", "worse": "updated"}
"""The SARIF `baselineState` of each baseline state of the decision report."""


def sarif_states(sarif: Path) -> dict[str, list[str]]:
    """The SARIF's results by `baselineState` (checked against the schema), as `states` names them."""
    doc = json.loads(sarif.read_text(encoding="utf-8"))
    assert validate_sarif_schema(doc) == []
    found: dict[str, list[str]] = {}
    for result in doc["runs"][0]["results"]:
        name = f"{result['ruleId']} {result['properties']['package']}"
        found.setdefault(result.get("baselineState", "none"), []).append(name)
    return {state: sorted(names) for state, names in found.items()}


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p['baseline']}->{p['report']}" for p in PAIRS])
def test_corpus_pairs_give_the_expected_sets(
    pair: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline, first_sarif, sarif = (
        tmp_path / "baseline.json",
        tmp_path / "first.sarif",
        tmp_path / "gate.sarif",
    )
    first = decision(corpus_file("trivy", pair["baseline"]), baseline, capsys, "--sarif", str(first_sarif))
    report = decision(
        corpus_file("trivy", pair["report"]),
        tmp_path / "gate.json",
        capsys,
        "--baseline",
        str(baseline),
        "--sarif",
        str(sarif),
    )
    expected = {state: sorted(pair[state]) for state in ("new", "unchanged", "worse", "fixed")}
    assert states(report) == expected
    assert report["baseline"]["counts"] == {state: len(items) for state, items in expected.items()}
    assert report["baseline"]["source"] == str(baseline)
    assert report["baseline"]["created"] == "2026-12-01T12:00:00+00:00"
    # The SARIF says the same in SARIF's words; without a baseline, no result claims a state.
    in_sarif = {
        SARIF_STATE[state]: expected[state] for state in ("new", "unchanged", "worse") if expected[state]
    }
    assert sarif_states(sarif) == in_sarif
    assert sarif_states(first_sarif) == {"none": sorted(named(f) for f in first["findings"])}


def trivy_json(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(corpus_file("trivy", name).read_text(encoding="utf-8"))
    return loaded


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def rebuilt(doc: dict[str, Any]) -> dict[str, Any]:
    """The same image after a rebuild: another name and tag, every installed version bumped, and
    every versioned directory or file in a package path moved with it."""
    doc = json.loads(json.dumps(doc))
    doc["ArtifactName"] = "registry.example.com/team/renamed:2.0"
    for result in doc.get("Results") or []:
        for vuln in result.get("Vulnerabilities") or []:
            vuln["InstalledVersion"] += ".1"
            path = vuln.get("PkgPath")
            if path:
                vuln["PkgPath"] = (
                    path.replace("0.9.8", "0.9.9").replace("5.3.15", "5.3.16").replace("2.7", "2.8")
                )
    return doc


@pytest.mark.parametrize(
    "name",
    ["ubi-7-comprehensive.json.golden", "spring4shell-jre11.json.golden", "fluentd-gems.json.golden"],
)
def test_a_rebuild_renamed_bumped_and_moved_gives_nothing_new(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = trivy_json(name)
    baseline = tmp_path / "baseline.json"
    decision(write(tmp_path / "before.json", original), baseline, capsys)
    after = rebuilt(original)
    report = decision(
        write(tmp_path / "after.json", after), tmp_path / "gate.json", capsys, "--baseline", str(baseline)
    )
    # The rebuild did change what a version-keyed diff keys on.
    before_keys = {(f["installed_version"], f["path"]) for f in json.loads(baseline.read_text())["findings"]}
    assert before_keys.isdisjoint((f["installed_version"], f["path"]) for f in report["findings"])
    assert report["image"]["reference"] == "registry.example.com/team/renamed:2.0"
    assert report["findings"]
    assert report["baseline"]["counts"]["new"] == 0
    assert report["baseline"]["counts"]["fixed"] == 0


def test_a_ghsa_primary_grype_finding_matches_its_cve_in_the_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Grype's first match names the httpclient finding GHSA-cfh5-3ghh-wfjx, its CVE only a
    # related vulnerability; the report of that match alone is the pull request's.
    grype = json.loads(corpus_file("grype", "ghsa-test.json").read_text(encoding="utf-8"))
    match = grype["matches"][0]
    assert match["vulnerability"]["id"] == "GHSA-cfh5-3ghh-wfjx"
    assert [r["id"] for r in match["relatedVulnerabilities"]] == ["CVE-2014-3577"]
    grype["matches"] = [match]
    pr = write(tmp_path / "pr.json", grype)
    # The baseline knew the finding by its CVE alone (as Trivy reports it) ...
    baseline = decision(pr, tmp_path / "b.json", capsys)
    (finding,) = baseline["findings"]
    assert finding["package"] == "httpclient"
    finding["vulnerability_id"], finding["aliases"] = "CVE-2014-3577", []
    write(tmp_path / "cve-only.json", baseline)
    report = decision(pr, tmp_path / "gate.json", capsys, "--baseline", str(tmp_path / "cve-only.json"))
    assert [f["baseline"] for f in report["findings"]] == ["unchanged"]
    # ... or by its GHSA alone: the aliases merge either way.
    finding["vulnerability_id"] = "GHSA-cfh5-3ghh-wfjx"
    write(tmp_path / "ghsa-only.json", baseline)
    report = decision(pr, tmp_path / "gate.json", capsys, "--baseline", str(tmp_path / "ghsa-only.json"))
    assert [f["baseline"] for f in report["findings"]] == ["unchanged"]
    # Another CVE in the same package is another finding.
    finding["vulnerability_id"] = "CVE-2015-5262"
    write(tmp_path / "other.json", baseline)
    report = decision(pr, tmp_path / "gate.json", capsys, "--baseline", str(tmp_path / "other.json"))
    assert [f["baseline"] for f in report["findings"]] == ["new"]
    assert report["baseline"]["counts"]["fixed"] == 1


def test_only_the_new_fixable_high_blocks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # debian-stretch's four e2fsprogs findings and bash block under a policy blocking LOW and up;
    # the PR's image (buster) adds libidn2-0's fixable CRITICAL.
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfail_on:\n  severity: LOW\n", encoding="utf-8")
    baseline = decision(
        corpus_file("trivy", "debian-stretch.json.golden"),
        tmp_path / "b.json",
        capsys,
        "--policy",
        str(policy),
    )
    assert baseline["counts"]["blocking"] == 5
    both = trivy_json("debian-stretch.json.golden")
    buster = trivy_json("debian-buster.json.golden")
    added = [v for v in buster["Results"][0]["Vulnerabilities"] if v["PkgName"] == "libidn2-0"]
    both["Results"][0]["Vulnerabilities"] += added
    pr = write(tmp_path / "pr.json", both)
    code, out, _err = gate(
        [
            str(pr),
            "--policy",
            str(policy),
            "--baseline",
            str(tmp_path / "b.json"),
            "--json",
            str(tmp_path / "gate.json"),
        ],
        capsys,
    )
    report = json.loads((tmp_path / "gate.json").read_text())
    assert code == ExitCode.FAIL
    assert [named(f) for f in report["findings"] if f["disposition"] == "blocking"] == [
        "CVE-2019-18224 libidn2-0"
    ]
    assert report["counts"]["blocking"] == 1
    assert report["would_block"] == 1
    old = [f for f in report["findings"] if f["baseline"] == "unchanged"]
    assert len(old) == 5
    assert {f["disposition"] for f in old} == {"informational"}
    assert {f["rule"] for f in old} == {"baseline.fail_on"}
    assert all(f["reason"].startswith("already in the baseline of 2026-12-01 (") for f in old)
    lines = out.splitlines()
    assert lines[0] == "container-gate: FAIL: 1 blocking finding(s); 1 action clears it."
    # The informational findings that would block but were there before are told apart.
    assert (
        "findings: 6 total: 1 blocking, 0 allowlisted, 0 ignored, 5 informational (5 let through by the baseline)"
        in lines
    )
    assert (
        lines[1]
        == f"baseline: 1 new · 0 worse · 0 fixed · 5 unchanged since `{tmp_path / 'b.json'}` (baseline of 2026-12-01)"
    )
    md = tmp_path / "summary.md"
    gate(
        [str(pr), "--policy", str(policy), "--baseline", str(tmp_path / "b.json"), "--markdown", str(md)],
        capsys,
    )
    blocks = md.read_text(encoding="utf-8").split("\n\n")
    assert blocks[0] == "### ❌ container-gate: fail, 1 blocking finding(s)"
    assert blocks[1].startswith("1 new · 0 worse · 0 fixed · 5 unchanged since `")
    assert "**1 finding blocks; 1 action clears it.**" in blocks[3]
    assert blocks[3].endswith(" · 5 informational (5 let through by the baseline)")
    # Advisory, nothing blocks: what would block joins the informational count, with the
    # baseline's share beside it, so the counts still add up.
    gate(
        [
            str(pr),
            "--policy",
            str(policy),
            "--baseline",
            str(tmp_path / "b.json"),
            "--advisory",
            "--markdown",
            str(md),
        ],
        capsys,
    )
    counts_line = md.read_text(encoding="utf-8").split("\n\n")[3]
    assert counts_line.endswith(" · 6 informational (1 would block; 5 let through by the baseline)"), (
        counts_line
    )
    # The actions count only what can block.
    assert [a["blocking"] for a in report["actions"] if a["would_block"]] == [1]

    # Without the baseline file: a warning, and the full verdict.
    code, out, _err = gate(
        [
            str(pr),
            "--policy",
            str(policy),
            "--baseline",
            str(tmp_path / "gone.json"),
            "--json",
            str(tmp_path / "gate.json"),
        ],
        capsys,
    )
    report = json.loads((tmp_path / "gate.json").read_text())
    assert code == ExitCode.FAIL
    assert report["counts"]["blocking"] == 6
    assert "baseline" not in report
    warning = f"baseline not used, the full policy applies: {tmp_path / 'gone.json'}: no such baseline file"
    assert report["warnings"][-1] == warning
    assert f"warning:  {warning}" in out


def test_policy_baseline_fail_on_new_only_lets_worse_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "b.json"
    decision(corpus_file("trivy", "spring4shell-jre8.json.golden"), baseline, capsys)
    report = decision(
        corpus_file("trivy", "spring4shell-jre11.json.golden"),
        tmp_path / "g.json",
        capsys,
        "--baseline",
        str(baseline),
    )
    assert [(f["baseline"], f["disposition"]) for f in report["findings"]] == [("worse", "blocking")]
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nbaseline:\n  fail_on: [new]\n", encoding="utf-8")
    report = decision(
        corpus_file("trivy", "spring4shell-jre11.json.golden"),
        tmp_path / "g.json",
        capsys,
        "--baseline",
        str(baseline),
        "--policy",
        str(policy),
    )
    assert [(f["baseline"], f["disposition"]) for f in report["findings"]] == [("worse", "informational")]
    # Let through, but not "already in the baseline" alone: it got worse, and the policy says so.
    assert report["findings"][0]["reason"] == (
        "worse than in the baseline of 2026-12-01 (LOW then), but baseline.fail_on does not list worse "
        "(CRITICAL is at or above the blocking severity HIGH)"
    )
    assert report["verdict"] == "pass"
    assert report["policy"]["baseline"] == {"fail_on": ["new"], "max_age_days": 30}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "no such baseline file"),
        (b"{not json", "not valid JSON"),
        (json.dumps({"SchemaVersion": 2, "Results": []}).encode(), "not a decision report of container-gate"),
        (
            json.dumps(
                {"schema": "container-gate/decision/v1", "verdict": "error", "error": {"message": "boom"}}
            ).encode(),
            "could not decide",
        ),
    ],
    ids=["missing", "not-json", "foreign", "error-report"],
)
def test_an_unusable_baseline_warns_or_with_required_is_exit_2(
    content: bytes | None, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_bytes(content)
    report = corpus_file("trivy", "debian-buster.json.golden")
    code, out, err = gate(
        [str(report), "--baseline", str(path), "--markdown", str(tmp_path / "s.md")], capsys
    )
    assert code == ExitCode.FAIL  # the full policy: libidn2-0's CRITICAL blocks
    assert why in out
    assert str(path) in out
    assert "baseline not used, the full policy applies" in (tmp_path / "s.md").read_text().replace("\\", "")
    code, out, err = gate(
        [str(report), "--baseline", str(path), "--baseline-required", "--json", str(tmp_path / "g.json")],
        capsys,
    )
    assert code == ExitCode.USAGE
    (line,) = err.strip().splitlines()
    assert line.startswith(f"container-gate: error: {path}")
    assert why in line
    assert "--baseline-required" in line
    assert "Traceback" not in err
    assert json.loads((tmp_path / "g.json").read_text())["verdict"] == "error"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"evaluated_at": "@octocat <img src=x>"}, "evaluated_at: expected the time the report was made"),
        ({"evaluated_at": "yesterday"}, 'got the string "yesterday"'),
        ({"evaluated_at": 20261201}, "evaluated_at: expected the time the report was made (RFC 3339"),
        ({"findings": None}, "findings: expected an array of findings, got null"),
    ],
    ids=["mention", "word", "number", "no-findings"],
)
def test_a_baseline_with_a_malformed_member_is_not_used(
    change: dict[str, Any], why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Read as it was, "yesterday" would be shown as the baseline's date and skip its age check,
    # and a baseline without findings would make every finding new while saying it was used.
    report = corpus_file("trivy", "debian-buster.json.golden")
    baseline = tmp_path / "b.json"
    doc = decision(report, baseline, capsys)
    doc.update(change)
    if change.get("findings", True) is None:
        del doc["findings"]
    baseline.write_text(json.dumps(doc), encoding="utf-8")
    code, out, _err = gate(
        [str(report), "--baseline", str(baseline), "--markdown", str(tmp_path / "s.md")], capsys
    )
    assert code == ExitCode.FAIL  # the full policy: libidn2-0's CRITICAL blocks
    assert f"baseline not used, the full policy applies: {baseline}: " in out
    assert why in out
    markdown = (tmp_path / "s.md").read_text()
    assert "@octocat" not in markdown
    assert not re.search(r"(?<!\\)<img", markdown)
    code, _out, err = gate([str(report), "--baseline", str(baseline), "--baseline-required"], capsys)
    assert code == ExitCode.USAGE
    assert why in err


def test_a_baseline_made_after_the_run_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = corpus_file("trivy", "alpine-39.json.golden")
    baseline = tmp_path / "b.json"
    doc = decision(report, baseline, capsys)
    baseline.write_text(json.dumps(doc | {"evaluated_at": "2099-01-01T00:00:00+00:00"}), encoding="utf-8")
    _code, out, _err = gate([str(report), "--baseline", str(baseline)], capsys)
    assert (
        f"the baseline {baseline} says it was made on 2099-01-01, after this run's time (2026-12-01): "
        "is --as-of or a clock wrong? Its age is not judged"
    ) in out


def test_in_the_action_a_baseline_made_after_the_run_is_said_to_show_the_runners_clock_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The action has no `as-of` input: its time is the runner's clock.
    report = corpus_file("trivy", "alpine-39.json.golden")
    baseline = tmp_path / "b.json"
    doc = decision(report, baseline, capsys)
    baseline.write_text(json.dumps(doc | {"evaluated_at": "2099-01-01T00:00:00+00:00"}), encoding="utf-8")
    monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
    gate([str(report), "--baseline", str(baseline), "--json", str(tmp_path / "again.json")], capsys)
    warnings = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))["warnings"]
    (said,) = [w for w in warnings if "after this run's time" in w]
    assert said.endswith("is the runner's clock wrong? Its age is not judged")
    assert is_baseline_warning(said)  # a report read back drops it, in either wording


def test_a_baseline_made_now_is_no_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = corpus_file("trivy", "alpine-39.json.golden")
    baseline = tmp_path / "b.json"
    doc = decision(report, baseline, capsys)
    baseline.write_text(json.dumps(doc), encoding="utf-8")
    _code, out, _err = gate([str(report), "--baseline", str(baseline)], capsys)
    assert "after this run's time" not in out


def test_an_old_baseline_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "b.json"
    decision(corpus_file("trivy", "alpine-39.json.golden"), baseline, capsys)
    code = cli.main(
        [
            "check",
            str(corpus_file("trivy", "alpine-310.json.golden")),
            "--ci",
            "none",
            "--baseline",
            str(baseline),
            "--as-of",
            "2027-01-15",
            "--json",
            str(tmp_path / "g.json"),
        ]
    )
    capsys.readouterr()
    report = json.loads((tmp_path / "g.json").read_text())
    assert code == ExitCode.PASS
    assert (
        f"the baseline {baseline} is 45 days old (baseline.max_age_days: 30): refresh it from the default branch"
        in report["warnings"]
    )


def test_the_warnings_of_a_fetched_baseline_name_its_branch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The GitLab job's baseline is its local copy of the report of the baseline-ref branch's last
    # pipeline: the warnings said "the baseline container-gate-baseline.json", a file the user
    # never made, and to refresh it "from the default branch".
    baseline = tmp_path / "container-gate-baseline.json"
    decision(corpus_file("trivy", "alpine-39.json.golden"), baseline, capsys)
    doc = json.loads(baseline.read_text(encoding="utf-8"))
    doc["image"] = {**(doc.get("image") or {}), "platform": "linux/arm64"}
    baseline.write_text(json.dumps(doc), encoding="utf-8")
    argv = ["check", str(corpus_file("trivy", "alpine-310.json.golden")), "--ci", "none"]
    argv += ["--baseline", str(baseline), "--baseline-branch", "release/2.x", "--as-of", "2027-01-15"]
    argv += ["--json", str(tmp_path / "g.json")]
    cli.main(argv)
    capsys.readouterr()
    warnings = json.loads((tmp_path / "g.json").read_text())["warnings"]
    said = [w for w in warnings if w.startswith("the baseline ")]
    assert said == [
        "the baseline of the last successful pipeline of release/2.x is 45 days old "
        "(baseline.max_age_days: 30): run a pipeline of release/2.x to refresh it",
        "the baseline of the last successful pipeline of release/2.x is of platform linux/arm64, "
        "this report of linux/amd64: no finding matches it, every finding is new",
    ]
    assert all(is_baseline_warning(w) for w in said)


def test_without_baseline_the_report_has_no_baseline_members(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = decision(corpus_file("trivy", "alpine-39.json.golden"), tmp_path / "g.json", capsys)
    assert "baseline" not in report
    assert "baseline" not in report["policy"]
    assert "vex" not in report["policy"]
    assert all("baseline" not in f and "vex" not in f for f in report["findings"])


def test_baseline_required_without_a_baseline_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = gate(
        [str(corpus_file("trivy", "alpine-39.json.golden")), "--baseline-required"], capsys
    )
    assert code == ExitCode.USAGE
    assert err.strip() == "container-gate: error: --baseline-required needs --baseline FILE"


def kev_catalog(path: Path, *cves: str) -> Path:
    """The corpus KEV catalog with `cves` listed too (added 2026-11-15)."""
    catalog = json.loads(corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json").read_text())
    entry = catalog["vulnerabilities"][0]
    catalog["vulnerabilities"] += [{**entry, "cveID": cve, "dateAdded": "2026-11-15"} for cve in cves]
    catalog["count"] = len(catalog["vulnerabilities"])
    return write(path, catalog)


@pytest.mark.parametrize(
    ("data_then", "state"),
    [
        ("kev", "worse"),  # KEV data then, not listed: listed since, worse
        ("epss", "unchanged"),  # EPSS alone then: whether it was listed is not known
        (None, "unchanged"),
    ],
)
def test_known_exploited_since_the_baseline_is_worse_only_when_that_run_had_kev_data(
    data_then: str | None, state: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = corpus_file("trivy", "alpine-39.json.golden")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfail_on:\n  known_exploited: true\n", encoding="utf-8")
    listed_now = kev_catalog(tmp_path / "kev-now.json", "CVE-2019-1549")
    then = {
        "kev": ["--kev", str(kev_catalog(tmp_path / "kev-then.json"))],
        "epss": ["--epss", str(corpus_file("epss", "epss_scores-2026-09-29.excerpt.csv"))],
        None: [],
    }[data_then]
    baseline = tmp_path / "baseline.json"
    decision(report, baseline, capsys, "--policy", str(policy), *then)
    now = decision(
        report,
        tmp_path / "gate.json",
        capsys,
        *("--policy", str(policy), "--kev", str(listed_now), "--baseline", str(baseline)),
    )
    listed = [f for f in now["findings"] if f["vulnerability_id"] == "CVE-2019-1549"]
    assert [f["baseline"] for f in listed] == [state, state]
    assert now["verdict"] == ("fail" if state == "worse" else "pass")


def test_a_baseline_larger_than_a_report_may_be_is_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A baseline is a report: --max-report-size bounds it too. Unbounded, a baseline that never
    # ends (/dev/zero, a pipe) took all the memory of the run and ended it as an internal error.
    report = corpus_file("trivy", "debian-buster.json.golden")
    limit = report.stat().st_size
    baseline = tmp_path / "baseline.json"
    decision(report, baseline, capsys)
    # Valid JSON, and larger than the report: white space after the document.
    baseline.write_bytes(baseline.read_bytes() + b" " * limit)
    code, out, _ = gate([str(report), "--baseline", str(baseline), "--max-report-size", str(limit)], capsys)
    assert code == ExitCode.FAIL  # the full policy: libidn2-0's CRITICAL blocks
    assert f"{baseline}: the baseline is larger than {limit:,} bytes, the most a report may be" in out
    code, _, err = gate(
        [str(report), "--baseline", "/dev/zero", "--baseline-required", "--max-report-size", str(limit)],
        capsys,
    )
    assert code == ExitCode.USAGE
    assert err == (
        f"container-gate: error: /dev/zero: the baseline is larger than {limit:,} bytes, the most a report "
        "may be; not read (raise --max-report-size to read it) (--baseline-required: no verdict without "
        "the baseline)\n"
    )


def test_every_output_leads_with_the_same_delta(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The GitLab report and the JUnit report are what a merge request shows: without the delta
    # there, their counts (1 blocking, 1 informational) could not be told from a run without a
    # baseline, nor reconciled with the terminal's and the Markdown summary's.
    baseline = tmp_path / "b.json"
    decision(corpus_file("trivy", "debian-stretch.json.golden"), baseline, capsys)
    outputs = {
        "--gitlab": tmp_path / "gl.json",
        "--junit": tmp_path / "junit.xml",
        "--markdown": tmp_path / "s.md",
        "--json": tmp_path / "g.json",
    }
    pr = str(corpus_file("trivy", "debian-buster.json.golden"))
    given = [arg for option, path in outputs.items() for arg in (option, str(path))]
    code, out, _err = gate([pr, "--baseline", str(baseline), *given], capsys)
    assert code == ExitCode.FAIL
    delta = f"1 new · 0 worse · 4 fixed · 1 unchanged since `{baseline}` (baseline of 2026-12-01)"
    assert out.splitlines()[1] == f"baseline: {delta}"
    assert outputs["--markdown"].read_text(encoding="utf-8").split("\n\n")[1].replace("\\", "") == delta
    report = json.loads(outputs["--json"].read_text(encoding="utf-8"))
    assert report["baseline"]["counts"] == {"new": 1, "unchanged": 1, "worse": 0, "fixed": 4}
    messages = json.loads(outputs["--gitlab"].read_text(encoding="utf-8"))["scan"]["messages"]
    assert messages[0]["value"].startswith("container-gate verdict: fail under policy")
    assert messages[1] == {"level": "info", "value": f"baseline: {delta}"}
    suite = ET.parse(outputs["--junit"]).getroot().find("testsuite")  # noqa: S314 (our own output)
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["baseline"] == delta
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    # Without a baseline, neither says one.
    code, out, _err = gate([pr, *given], capsys)
    assert not out.splitlines()[1].startswith("baseline:")
    messages = json.loads(outputs["--gitlab"].read_text(encoding="utf-8"))["scan"]["messages"]
    assert not any(m["value"].startswith("baseline:") for m in messages)
    suite = ET.parse(outputs["--junit"]).getroot().find("testsuite")  # noqa: S314 (our own output)
    assert suite is not None
    assert "baseline" not in {p.get("name") for p in suite.iter("property")}


def test_a_new_finding_the_policy_lets_through_is_not_called_already_in_the_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Under `baseline.fail_on: [worse]` the libidn2-0 CRITICAL the pull request adds does not
    # block (the policy warns so), but it is new: it was reported "already in the baseline", and
    # counted among the findings that were.
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nfail_on:\n  severity: LOW\nbaseline:\n  fail_on: [worse]\n", encoding="utf-8"
    )
    baseline = tmp_path / "b.json"
    decision(corpus_file("trivy", "debian-stretch.json.golden"), baseline, capsys, "--policy", str(policy))
    both = trivy_json("debian-stretch.json.golden")
    buster = trivy_json("debian-buster.json.golden")
    both["Results"][0]["Vulnerabilities"] += [
        v for v in buster["Results"][0]["Vulnerabilities"] if v["PkgName"] == "libidn2-0"
    ]
    pr = write(tmp_path / "pr.json", both)
    md = tmp_path / "s.md"
    code, out, _err = gate(
        [
            *(str(pr), "--policy", str(policy), "--baseline", str(baseline)),
            *("--json", str(tmp_path / "g.json"), "--markdown", str(md)),
        ],
        capsys,
    )
    assert code == ExitCode.PASS
    report = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    (new,) = [f for f in report["findings"] if f["baseline"] == "new"]
    assert (new["disposition"], new["rule"]) == ("informational", "baseline.fail_on")
    assert new["reason"] == (
        "new since the baseline of 2026-12-01, but baseline.fail_on does not list new "
        "(CRITICAL is at or above the blocking severity LOW)"
    )
    old = [f for f in report["findings"] if f["baseline"] == "unchanged"]
    assert len(old) == 5
    assert all(f["reason"].startswith("already in the baseline of 2026-12-01 (") for f in old)
    assert (
        "findings: 6 total: 0 blocking, 0 allowlisted, 0 ignored, 6 informational (5 let through by the baseline)"
        in out.splitlines()
    )
    assert " · 6 informational (5 let through by the baseline)" in md.read_text(encoding="utf-8")


def test_a_worse_finding_says_what_made_it_worse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The pull request did not add it: without saying what changed since the baseline (a severity
    # raised, a fix released), "0 new · 1 worse" and a finding that blocks were left unexplained.
    baseline = tmp_path / "b.json"
    decision(corpus_file("trivy", "spring4shell-jre8.json.golden"), baseline, capsys)
    md = tmp_path / "s.md"
    pr = str(corpus_file("trivy", "spring4shell-jre11.json.golden"))
    code, out, _err = gate(
        [pr, "--baseline", str(baseline), "--json", str(tmp_path / "g.json"), "--markdown", str(md)], capsys
    )
    assert code == ExitCode.FAIL
    (finding,) = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))["findings"]
    assert (finding["baseline"], finding["disposition"]) == ("worse", "blocking")
    worse = "worse than in the baseline of 2026-12-01 (LOW then)"
    assert finding["reason"] == f"CRITICAL is at or above the blocking severity HIGH; {worse}"
    assert f"why they block: at or above the blocking severity HIGH; {worse}" in " ".join(out.split())
    assert (
        "at or above the blocking severity HIGH; worse than in the baseline of 2026-12-01 (LOW then) |"
        in (md.read_text(encoding="utf-8").replace("\\", ""))
    )
    # A fix released since: the same severity, fixable now.
    buster = trivy_json("debian-buster.json.golden")
    then = json.loads(json.dumps(buster))
    for vuln in then["Results"][0]["Vulnerabilities"]:
        vuln.pop("FixedVersion", None)
        vuln["Status"] = "affected"
    decision(write(tmp_path / "then.json", then), baseline, capsys)
    report = decision(
        write(tmp_path / "now.json", buster), tmp_path / "g.json", capsys, "--baseline", str(baseline)
    )
    blocking = [f for f in report["findings"] if f["disposition"] == "blocking"]
    assert [(f["package"], f["baseline"]) for f in blocking] == [("libidn2-0", "worse")]
    assert blocking[0]["reason"].endswith("; worse than in the baseline of 2026-12-01 (no fix then)")
    # A new finding says nothing of the baseline.
    decision(corpus_file("trivy", "debian-stretch.json.golden"), baseline, capsys)
    report = decision(
        write(tmp_path / "now.json", buster), tmp_path / "g.json", capsys, "--baseline", str(baseline)
    )
    (new,) = [f for f in report["findings"] if f["disposition"] == "blocking"]
    assert (new["baseline"], new["reason"]) == ("new", "CRITICAL is at or above the blocking severity HIGH")


def test_in_the_action_a_baseline_that_is_no_decision_report_names_the_json_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # "expected the --json output of an earlier run": the action's users set its `json` input.
    report = corpus_file("trivy", "alpine-39.json.golden")
    monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
    _code, out, _err = gate([str(report), "--baseline", str(report)], capsys)
    assert "baseline not used, the full policy applies: " in out
    assert "expected the JSON report of an earlier run (the action's `json` input)" in " ".join(out.split())
    assert "--json" not in out
