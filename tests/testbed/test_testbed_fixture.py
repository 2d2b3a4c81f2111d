"""advisories.yaml and expected.yaml: real, sourced, consistent with each other, strictly loaded."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from testbed.advisories import ADVISORIES_FILE, FixtureError, load_fixture, safe_load_fast
from testbed.derive_expected import absent_binaries, derive
from testbed.derive_family import load_family_expected
from testbed.expected import EXPECTED_FILE, load_expected

FIXTURE = load_fixture()
RAW = safe_load_fast(ADVISORIES_FILE.read_text())
EXPECTED = load_expected()
FAMILY = load_family_expected()


def test_the_fixture_is_large_and_varied_enough() -> None:
    debian = [a for a in FIXTURE.advisories if a.bucket == "debian 12"]
    assert len(FIXTURE.advisories) >= 100
    assert len({a.package for a in debian}) >= 30
    statuses = {a.status for a in debian if a.status}
    assert {"will_not_fix", "affected", "fix_deferred"} <= statuses
    assert any(a.bucket.startswith("pip::") for a in FIXTURE.advisories)
    assert any(a.bucket.startswith("npm::") for a in FIXTURE.advisories)


def test_every_advisory_and_severity_names_its_source() -> None:
    assert all(a.source.strip() for a in FIXTURE.advisories)
    for vuln in FIXTURE.vulnerabilities.values():
        assert vuln.source.strip()
        assert vuln.severity_source.strip()
        if vuln.severity_source == "fixture":
            assert vuln.cvss is None, f"{vuln.id}: a fixture severity with a CVSS would look real"


def test_every_advisory_is_either_expected_or_a_control() -> None:
    expected_ids = {f.id for f in EXPECTED.base_findings + EXPECTED.own_findings}
    expected_ids |= {f.id for image in FAMILY.values() for f in image.findings}
    control_ids = {(c.id, c.bucket) for c in EXPECTED.controls}
    for adv in FIXTURE.advisories:
        if adv.control:
            assert (adv.id, adv.bucket) in control_ids, f"{adv.id} is a control missing from expected.yaml"
        else:
            assert adv.id in expected_ids, f"{adv.id} ({adv.package}) matches no expected finding"
    assert len(control_ids) == sum(1 for a in FIXTURE.advisories if a.control)


def test_controls_cover_each_kind_of_non_match() -> None:
    whys = " ".join(c.why for c in EXPECTED.controls)
    assert "before the installed" in whys  # fixed version lower than installed
    assert "installed in no test image" in whys  # package absent
    assert "Debian 13" in whys  # another release's bucket
    assert "outside" in whys  # language range that excludes the installed version


def test_layers_of_expected_findings() -> None:
    assert {f.layer for f in EXPECTED.base_findings} == {0}
    assert {(f.type, f.layer) for f in EXPECTED.own_findings} == {
        ("python-pkg", 1),
        ("node-pkg", 2),
        ("debian", 3),
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["advisories"][0].update(fixd="1"), r"advisories\[0\]: unknown keys \['fixd'\]"),
        (lambda d: d["advisories"][0].pop("source"), r"advisories\[0\]: .*missing keys \['source'\]"),
        (lambda d: d["advisories"][0].update(status="wontfix"), r"advisories\[0\]\.status: 'wontfix'"),
        (lambda d: d["advisories"][0].update(bucket="debian 99"), "has no data_sources entry"),
        (
            lambda d: d["vulnerabilities"]["CVE-2023-0687"].update(severity="SEVERE"),
            r"CVE-2023-0687\.severity",
        ),
        (
            lambda d: d["vulnerabilities"]["CVE-2023-0687"].update(
                cvss={"nvd": {"vector": "x", "score": 1.0}}
            ),
            "fixture severity must not carry a CVSS",
        ),
    ],
)
def test_a_broken_fixture_is_refused_with_its_key_path(
    edit: Callable[[dict[str, Any]], object], message: str, tmp_path: Path
) -> None:
    data = copy.deepcopy(RAW)
    edit(data)
    broken = tmp_path / "advisories.yaml"
    broken.write_text(yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)))
    with pytest.raises(FixtureError, match=message):
        load_fixture(broken)


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="the derivation compares versions with dpkg")
def test_expected_yaml_is_the_derivation_from_the_advisories() -> None:
    assert EXPECTED_FILE.read_text() == derive(FIXTURE, absent_binaries()), (
        "expected.yaml is stale: run python -m testbed.derive_expected --write"
    )
