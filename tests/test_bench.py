"""The benchmark's inputs: scaled reports hold exactly the findings asked for, and its policies load.

Correctness of the generators and of the targets' arithmetic only; the benchmark's timings are
printed by bench/bench_check.py, never asserted.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml

from bench import bench_check
from bench.allowlist import POLICY_ENTRIES, allowlist, policy_yaml, trivyignore_yaml
from bench.bench_actions import figures, largest_corpus_reports
from bench.bench_check import Figures, Row, targets
from bench.scaling import KINDS, scale_report, vary_purl
from bench.shapes import LONG_TEXT, SHAPES
from gate.policy.advice_run import far_expiry_warnings
from gate.policy.evaluate import evaluate
from gate.policy.load import load_default_policy, load_policy_text
from gate.scanners.ingest import load_report, parse_report_bytes
from tests.support.corpus import corpus_dir
from tests.support.factories import NOW

# Sizes below, at and well past one copy of each scanner's pool of corpus entries.
SIZES = (1, 7, 250, 1234)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", SIZES)
def test_a_scaled_report_reads_back_with_exactly_the_findings_asked_for(kind: str, size: int) -> None:
    scaled = scale_report(kind, size, corpus_dir())
    report = parse_report_bytes(json.dumps(scaled.document).encode(), f"{kind}-{size}.json")
    assert [info.name for info in report.scanners] == [kind]
    assert len(report.findings) == size
    assert len({finding.key for finding in report.findings}) == size
    assert len(scaled.facts) == size


def test_copies_vary_ids_packages_and_paths_but_keep_real_entries() -> None:
    scaled = scale_report("trivy", 1234, corpus_dir())
    report = parse_report_bytes(json.dumps(scaled.document).encode(), "trivy.json")
    ids = {finding.vulnerability_id for finding in report.findings}
    names = {finding.package.name for finding in report.findings}
    assert "CVE-2019-1551" in ids  # a real id of the base report
    assert len(ids) > 200
    assert any(name.endswith("-k3") for name in names)
    assert any(finding.package.path.startswith("srv/app3/") for finding in report.findings)
    # Real text travels with every copy.
    assert all(finding.title or finding.description for finding in report.findings)


def test_purl_follows_the_package_name_and_version() -> None:
    purl = "pkg:deb/debian/libssl1.1@1.1.0k-1~deb9u1?arch=amd64&distro=debian-9.9"
    assert vary_purl(purl, 0, rename=True) == purl
    assert vary_purl(purl, 4, rename=True) == (
        "pkg:deb/debian/libssl1.1-k4@1.1.0k-1~deb9u1.1?arch=amd64&distro=debian-9.9"
    )
    assert vary_purl("pkg:npm/%40babel/core@7.0.0", 3, rename=False) == "pkg:npm/%40babel/core@7.0.0"


@pytest.mark.parametrize("kind", KINDS)
def test_the_policy_loads_with_every_entry_and_the_trivy_file_says_the_same(kind: str) -> None:
    scaled = scale_report(kind, 500, corpus_dir())
    entries = allowlist(scaled)
    policy = load_policy_text(policy_yaml(entries), f"{kind}-policy.yaml")
    assert len(policy.allowlist) == POLICY_ENTRIES
    assert any(e.expires is not None and e.expires.year < 2025 for e in policy.allowlist)
    assert any(e.package is not None and e.package.startswith("pkg:") for e in policy.allowlist)
    ignore = yaml.safe_load(trivyignore_yaml(entries))["vulnerabilities"]
    assert [item["id"] for item in ignore] == [e.vulnerability for e in policy.allowlist]
    assert all(set(item) <= {"id", "paths", "purls", "statement", "expired_at"} for item in ignore)


def test_the_policy_measured_carries_no_warning_of_an_expiry_years_ahead() -> None:
    # The gate warns of every entry dated more than a year after the run: the bench runs as of
    # now, and a policy of hundreds of such entries would add as many warnings to every output.
    today = dt.datetime.now(dt.UTC).date()
    policy = load_policy_text(policy_yaml(allowlist(scale_report("trivy", 500, corpus_dir()))), "p.yaml")
    assert far_expiry_warnings(policy, today) == ()
    assert any(e.expires is not None and e.expires > today for e in policy.allowlist)


def test_the_actions_figures_count_what_the_plan_holds() -> None:
    largest = largest_corpus_reports(3)
    sizes = [len(load_report(path).findings) for path in largest]
    assert sizes == sorted(sizes, reverse=True)
    evaluation = evaluate(load_report(largest[0]), load_default_policy(), NOW)
    line = figures(largest[0].name, evaluation)
    assert line.findings == sizes[0]
    assert line.actions == len(evaluation.plan.actions)
    assert line.clearing == sum(1 for action in evaluation.plan.actions if action.blocking)
    assert line.name[:20] in line.line()


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_reads_back_with_exactly_the_findings_asked_for(shape: str) -> None:
    scaled = scale_report("trivy", 600, corpus_dir(), shape)
    report = parse_report_bytes(json.dumps(scaled.document).encode(), f"{shape}.json")
    assert len(report.findings) == len({finding.key for finding in report.findings}) == 600
    ids = {finding.vulnerability_id for finding in report.findings}
    # The policy is drawn from the facts: they name the ids the gate reads.
    assert sorted(fact.vulnerability for fact in scaled.facts) == sorted(
        f.vulnerability_id for f in report.findings
    )
    if shape == "unique-ids":
        assert len(ids) == 600
    if shape == "few-ids":
        assert len(ids) < 10
    if shape == "long-text":
        assert all(len(finding.description or "") == LONG_TEXT for finding in report.findings)
    if shape == "non-ascii":
        assert not any(finding.title and finding.title.isascii() for finding in report.findings)


def _row(size: int, gate: float, trivy: float, gate_mb: int, trivy_mb: int) -> Row:
    return Row(
        "trivy", "corpus", size, Figures(gate, gate, gate_mb * 10**6), Figures(trivy, trivy, trivy_mb * 10**6)
    )


def test_the_targets_say_met_and_not_met() -> None:
    met = dict(targets([_row(10_000, 1.0, 1.0, 100, 300), _row(100_000, 12.0, 10.0, 900, 1600)]))
    assert met == {
        "10,000: wall time 1.00x trivy convert (target <= 1.0x)": True,
        "10,000: peak memory 0.33x trivy convert (target <= 0.6x)": True,
        "100,000: wall time 1.20x trivy convert (target <= 1.0x)": False,
        "100,000: peak memory 0.56x trivy convert (target <= 0.6x)": True,
        "growth 10,000 -> 100,000: wall time x12.0 (target <= 11x)": False,
        "100,000: peak memory 900 MB with all five outputs (target < 1,000 MB)": True,
    }


def test_the_benchmark_runs_at_a_tiny_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        bench_check.main(
            ["--sizes", "30", "--shapes", "corpus,few-ids", "--shape-sizes", "20", "--repeat", "1"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "trivy  corpus            30" in out
    assert "trivy  few-ids           20" in out
