"""The decision report read back as a report (gate/scanners/decision.py): which of its warnings
come back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gate.enrich.baseline import BASELINE_NOT_USED, Baseline, is_baseline_warning
from gate.enrich.exploit import NO_KEV_DATA
from gate.enrich.grype_exploit import MatchExploitData
from gate.errors import ReportError
from gate.model import DirectUpgrade, ImageInfo, LayerInfo, LayerOrigin, ScanReport
from gate.policy.enrichment import baseline_warnings
from gate.policy.model import Policy
from gate.scanners.decision import SCHEMA, parse_decision
from tests.support.corpus import corpus_file

OWN = "trivy.json: 4 finding(s) have no severity at all (none given, no CVSS score, no vendor severity) and count as UNKNOWN"
POLICY = "policy.yaml: mode: advisory: this policy never fails the gate, findings that would block are only reported (set mode: enforce to block them)"
BASELINE = (
    "the baseline base.json is 9 days old (baseline.max_age_days: 1): refresh it from the default branch"
)


def report(**members: Any) -> dict[str, Any]:
    return {"schema": SCHEMA, "verdict": "pass", "findings": [], **members}


def test_the_report_warnings_are_read_and_nothing_else() -> None:
    doc = report(warnings=[POLICY, OWN, BASELINE, NO_KEV_DATA], report_warnings=[OWN])
    nothing_yet: list[MatchExploitData] = []
    for exploit in (None, nothing_yet):
        read = parse_decision(doc, "gate.json", exploit=exploit)
        assert read.warnings == (OWN,)
        assert read.run_warnings == ()


def test_an_empty_list_of_report_warnings_is_no_warning() -> None:
    # Present, the member says the report keeps them apart: none of `warnings` is the reports'.
    read = parse_decision(report(warnings=[POLICY, "an unknown sentence"], report_warnings=[]), "gate.json")
    assert read.warnings == ()


@pytest.mark.parametrize(("exploit", "kept"), [(None, (OWN, NO_KEV_DATA)), ([], (OWN,))])
def test_without_report_warnings_the_known_sentences_are_left_out(
    exploit: list[MatchExploitData] | None, kept: tuple[str, ...]
) -> None:
    # A report of an earlier release: the data's warnings go when the data comes back with it.
    future = (
        "VEX statement vex:app.json#0 (CVE-2023-1) is dated 2030-01-01, after this run's time (2026-01-01): "
        "as the latest, it overrides what other statements say"
    )
    read = parse_decision(report(warnings=[OWN, NO_KEV_DATA, future]), "gate.json", exploit=exploit)
    assert read.warnings == kept


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("one sentence", "expected an array"),
        ([1], "report_warnings[0]: expected a string"),
        # Null is no list either: read as empty, it would drop every warning of `warnings`.
        (None, "report_warnings: expected an array of strings, got null"),
    ],
)
def test_malformed_report_warnings_are_refused_naming_the_key(value: object, expected: str) -> None:
    with pytest.raises(ReportError) as caught:
        parse_decision(report(warnings=[], report_warnings=value), "gate.json")
    said = caught.value.diagnostics()
    assert said.startswith("gate.json: ")
    assert "report_warnings" in said
    assert expected in said


@pytest.mark.parametrize(
    "source",
    [
        {"kind": "kev", "path": "kev.json", "from_file": "yes"},
        {"kind": "kev", "path": None, "from_report": True, "from_file": "yes"},
    ],
)
def test_a_from_file_that_is_not_a_boolean_is_refused(source: dict[str, Any]) -> None:
    doc = report(exploit_data={"sources": [source], "kev_listed": 0}, report_warnings=[])
    with pytest.raises(ReportError) as caught:
        parse_decision(doc, "gate.json", exploit=[])
    assert caught.value.diagnostics() == (
        "gate.json: exploit_data.sources[0].from_file: expected a boolean, got a string"
    )


@pytest.mark.parametrize(
    ("sources", "from_files"),
    [
        (
            [{"kind": "kev", "path": "kev.json"}, {"kind": "epss", "path": None, "from_report": True}],
            ("kev",),
        ),
        ([{"kind": "kev", "path": None, "from_report": True, "from_file": True}], ("kev",)),
        ([{"kind": "kev", "path": None, "from_report": True}], ()),
        ([{"kind": "a kind of a later release", "path": "data.json"}], ()),
    ],
)
def test_the_data_a_report_had_from_a_file_is_told_apart(
    sources: list[dict[str, Any]], from_files: tuple[str, ...]
) -> None:
    exploit: list[MatchExploitData] = []
    doc = report(exploit_data={"sources": sources, "kev_listed": 0, "epss_scored": 0}, report_warnings=[])
    parse_decision(doc, "gate.json", exploit=exploit)
    (header,) = exploit
    assert tuple(kind.value for kind in header.from_files) == from_files
    assert header.source == "gate.json"


def test_without_report_warnings_the_policys_own_are_known_by_its_file() -> None:
    # They name the file the report says its run's policy was: that policy's, not the reports'.
    doc = report(warnings=[POLICY, OWN], policy={"source": "policy.yaml"})
    assert parse_decision(doc, "gate.json").warnings == (OWN,)
    doc = report(warnings=[POLICY, OWN], policy={"source": "other.yaml"})
    assert parse_decision(doc, "gate.json").warnings == (POLICY, OWN)
    with pytest.raises(ReportError) as caught:
        parse_decision(report(warnings=[], policy="policy.yaml"), "gate.json")
    assert caught.value.diagnostics() == "gate.json: policy: expected an object, got a string"


def test_the_baseline_warnings_are_known_by_their_sentences() -> None:
    # Every sentence `baseline_warnings` writes, and the one for a baseline not read: a decision
    # report of an earlier release, read back, leaves them out by these.
    scanned = ScanReport(findings=(), image=ImageInfo("app:1", os="linux", architecture="amd64"))
    policy = Policy(source="policy.yaml")
    policy = replace(policy, baseline=replace(policy.baseline, max_age_days=1))
    now = datetime(2026, 1, 20, tzinfo=UTC)
    said: list[str] = []
    for created in (None, "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"):
        for branch in (None, "release/2.x"):
            baseline = Baseline("old base.json", created, "linux/arm64", (), branch=branch)
            said += baseline_warnings(baseline, scanned, policy, now)
    assert len(said) == 12, said
    not_read = BASELINE_NOT_USED + "base.json: not JSON"
    assert all(is_baseline_warning(w) for w in [*said, not_read]), said
    for other in (OWN, POLICY, "the baseline's own note", ""):
        assert not is_baseline_warning(other)
    # A report of an earlier release: its `warnings` without `report_warnings`.
    read = parse_decision(report(warnings=[OWN, *said, not_read]), "gate.json")
    assert read.warnings == (OWN,)


def test_the_image_labels_come_back_and_name_a_base_given_as_an_archive() -> None:
    # A run whose base image was a `docker save` archive named it by the archive's base-name label;
    # a report read back names it the same way, not by a path on the machine that scanned.
    from gate.policy.plan import base_image_name

    image = {
        "reference": "docker-archive:out/app.tar",
        "base_image": "docker-archive:out/base.tar",
        "labels": {"org.opencontainers.image.base.name": "registry.example/base:1"},
    }
    read = parse_decision(report(image=image), "gate.json")
    assert read.image is not None
    assert read.image.labels == (("org.opencontainers.image.base.name", "registry.example/base:1"),)
    assert base_image_name(read.image) == "registry.example/base:1"
    with pytest.raises(ReportError, match="labels"):
        parse_decision(report(image={**image, "labels": {"a": 1}}), "gate.json")


def test_the_image_layers_come_back_and_a_report_written_again_keeps_them(tmp_path: Path) -> None:
    from gate.cli import main as cli

    spring = corpus_file("trivy", "spring4shell-jre11.json.golden")
    first, again = tmp_path / "gate.json", tmp_path / "again.json"
    assert cli.main(["check", str(spring), "--ci", "none", "--json", str(first), "--quiet"]) == 1
    assert cli.main(["check", str(first), "--ci", "none", "--json", str(again), "--quiet"]) == 1
    layers = json.loads(first.read_text(encoding="utf-8"))["image"]["layers"]
    assert len(layers) == 9
    assert json.loads(again.read_text(encoding="utf-8"))["image"]["layers"] == layers
    read = parse_decision(json.loads(first.read_text(encoding="utf-8")), "gate.json")
    assert read.image is not None
    assert read.image.layers[8] == LayerInfo(diff_id=layers[8]["diff_id"], created_by=layers[8]["created_by"])


LAYER = {"index": 0, "diff_id": "sha256:1", "created_by": "ADD x /", "origin": "base", "dockerfile_line": 1}


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ("all", "image.layers: expected an array"),
        ([{**LAYER, "origin": "mine"}], "image.layers[0].origin: expected base or own, got 'mine'"),
        ([{**LAYER, "diff_id": 7}], "image.layers[0].diff_id: expected a string"),
        ([{**LAYER, "dockerfile_line": "1"}], "image.layers[0].dockerfile_line: expected an integer"),
        ([LAYER, LAYER], "image.layers[1].index: expected its position in the list (1), got 0"),
    ],
)
def test_malformed_image_layers_are_refused_naming_the_key(layers: object, expected: str) -> None:
    image = {"reference": "registry.example/app:1", "layers": layers}
    with pytest.raises(ReportError) as caught:
        parse_decision(report(image=image), "gate.json")
    said = caught.value.diagnostics()
    assert said.startswith(f"gate.json: {expected}")
    assert "\n" not in said
    read = parse_decision(report(image={**image, "layers": [LAYER]}), "gate.json")
    assert read.image is not None
    assert read.image.layers == (LayerInfo("sha256:1", "ADD x /", LayerOrigin.BASE, 1),)


def test_the_sarif_of_a_report_read_back_keeps_its_category(tmp_path: Path) -> None:
    # A report that names no image is filed under its file name; read back (twice, as a report
    # written from a read-back can be), its SARIF stays in that category unless one is given.
    from gate.cli import main as cli

    dirs = tmp_path / "app-scan.json"
    dirs.write_bytes(corpus_file("grype", "anchore-grype__TestJsonDirsPresenter.golden").read_bytes())

    def check(report: Path, name: str, *more: str) -> tuple[str, dict[str, Any]]:
        argv = ["check", str(report), "--ci", "none", "--quiet", "--json", str(tmp_path / f"{name}.json")]
        cli.main(
            [
                *argv,
                "--sarif",
                str(tmp_path / f"{name}.sarif"),
                "--junit",
                str(tmp_path / f"{name}.xml"),
                *more,
            ]
        )
        sarif = json.loads((tmp_path / f"{name}.sarif").read_text(encoding="utf-8"))
        # The JUnit suite is named as the SARIF category is: after the run's report or image.
        suite = ET.parse(tmp_path / f"{name}.xml").getroot().find("testsuite")  # noqa: S314 - our own output
        assert suite is not None
        suites[name] = suite.get("name", "")
        return sarif["runs"][0]["automationDetails"]["id"], json.loads(
            (tmp_path / f"{name}.json").read_text()
        )

    suites: dict[str, str] = {}
    category, first = check(dirs, "gate")
    assert category == "container-gate/app-scan/unknown/"
    assert "named_after" not in first  # a run of the scanner's report writes what it always did
    category, again = check(tmp_path / "gate.json", "again")
    assert category == "container-gate/app-scan/unknown/"
    assert again["named_after"] == str(dirs)
    assert check(tmp_path / "again.json", "third")[0] == "container-gate/app-scan/unknown/"
    assert check(tmp_path / "again.json", "mine", "--sarif-category", "mine")[0] == "mine/"
    assert suites == dict.fromkeys(("gate", "again", "third", "mine"), str(dirs))
    # An image names the category: the member is not needed.
    spring = corpus_file("trivy", "spring4shell-jre11.json.golden")
    check(spring, "image")
    assert "named_after" not in check(tmp_path / "image.json", "image-again")[1]
    with pytest.raises(ReportError, match=r"^gate.json: named_after: expected a string"):
        parse_decision(report(named_after=1), "gate.json")
    with pytest.raises(ReportError, match=r"^gate.json: sources\[0\]: expected a string"):
        parse_decision(report(sources=[1]), "gate.json")


def test_a_report_read_back_keeps_every_file_its_run_was_named_after(tmp_path: Path) -> None:
    # A run of two reports names its JUnit suite after both; read back, the suite was named after
    # the first alone, and so was every later run's, and two decision reports merged kept the
    # first one's names only.
    from gate.cli import main as cli

    scans = [tmp_path / "app-scan.json", tmp_path / "worker-scan.json"]
    scans[0].write_bytes(corpus_file("grype", "anchore-grype__TestJsonDirsPresenter.golden").read_bytes())
    scans[1].write_bytes(corpus_file("grype", "anchore-grype__TestEmptyJsonPresenter.golden").read_bytes())
    other = tmp_path / "other-scan.json"
    other.write_bytes(scans[1].read_bytes())

    def check(name: str, *reports: Path) -> tuple[str, str, dict[str, Any]]:
        out = {kind: tmp_path / f"{name}.{kind}" for kind in ("json", "sarif", "xml")}
        argv = ["check", *map(str, reports), "--ci", "none", "--quiet", "--json", str(out["json"])]
        cli.main([*argv, "--sarif", str(out["sarif"]), "--junit", str(out["xml"])])
        suite = ET.parse(out["xml"]).getroot().find("testsuite")  # noqa: S314 - our own output
        assert suite is not None
        category = json.loads(out["sarif"].read_text())["runs"][0]["automationDetails"]["id"]
        return suite.get("name", ""), category, json.loads(out["json"].read_text())

    both = f"{scans[0]}, {scans[1]}"
    assert check("first", *scans)[:2] == (both, "container-gate/app-scan/unknown/")
    suite, category, again = check("again", tmp_path / "first.json")
    assert (suite, category) == (both, "container-gate/app-scan/unknown/")
    # `named_after` keeps its meaning (the first, which names the SARIF category); the added
    # `named_after_all` has every one.
    assert (again["named_after"], again["named_after_all"]) == (str(scans[0]), [str(s) for s in scans])
    assert check("third", tmp_path / "again.json")[:2] == (both, "container-gate/app-scan/unknown/")
    check("other", other)
    suite, category, merged = check("merged", tmp_path / "again.json", tmp_path / "other.json")
    assert (suite, category) == (f"{both}, {other}", "container-gate/app-scan/unknown/")
    assert merged["named_after_all"] == [*map(str, scans), str(other)]
    # A report of an earlier release kept the first name alone: that one is read.
    older = parse_decision(report(sources=["gate.json"], named_after="app-scan.json"), "again.json")
    assert older.named_after == ("app-scan.json",)
    with pytest.raises(ReportError, match=r"^gate.json: named_after_all\[0\]: expected a string"):
        parse_decision(report(named_after_all=[1]), "gate.json")


ROW = {
    "vulnerability_id": "CVE-2017-1000048",
    "package": "qs",
    "installed_version": "0.4.2",
    "severity": "HIGH",
    "status": "fixed",
}
UPGRADE = {"package": "express", "installed_version": "2.5.11", "target_version": "3.0.0"}


def test_the_direct_upgrades_of_a_finding_come_back() -> None:
    rows: list[dict[str, Any]] = [
        {**ROW, "direct_upgrades": [UPGRADE, {**UPGRADE, "target_version": "3.3.2"}]}
    ]
    rows.append({**ROW, "package": "mime", "no_direct_upgrade": True})
    rows.append(ROW)  # a finding of a report of an earlier release, or of another package
    found = parse_decision(report(findings=rows), "gate.json").findings
    assert found[0].direct_upgrades == (
        DirectUpgrade("express", "2.5.11", "3.0.0"),
        DirectUpgrade("express", "2.5.11", "3.3.2"),
    )
    assert [f.no_direct_upgrade for f in found] == [False, True, False]
    assert found[1].direct_upgrades == found[2].direct_upgrades == ()


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ({"direct_upgrades": "express"}, "findings[0].direct_upgrades: expected an array"),
        ({"direct_upgrades": ["express@3.0.0"]}, "findings[0].direct_upgrades[0]: expected an object"),
        (
            {"direct_upgrades": [{**UPGRADE, "package": ""}]},
            "findings[0].direct_upgrades[0].package: expected a non-empty string",
        ),
        (
            {"direct_upgrades": [{"package": "express", "installed_version": "2.5.11"}]},
            "findings[0].direct_upgrades[0].target_version: missing (expected a non-empty string)",
        ),
        ({"no_direct_upgrade": "yes"}, "findings[0].no_direct_upgrade: expected a boolean"),
    ],
)
def test_malformed_direct_upgrades_are_refused_naming_the_key(members: dict[str, Any], expected: str) -> None:
    with pytest.raises(ReportError) as caught:
        parse_decision(report(findings=[{**ROW, **members}]), "gate.json")
    said = caught.value.diagnostics()
    assert said.startswith(f"gate.json: {expected}")
    assert "\n" not in said
