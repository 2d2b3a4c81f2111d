"""Allowlist entries whose `package` cannot match what it was written for: a name with a letter
that only looks like an ASCII one (gate/policy/advice.py), and a name the report spells
otherwise, in case or in its separators (gate/policy/advice_run.py). Warnings, never errors: the
verdict stays what it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.model import ScanReport
from gate.policy.evaluate import evaluate
from gate.policy.load import load_policy_text
from gate.scanners.ingest import load_report
from tests.support.corpus import corpus_file
from tests.support.factories import NOW, finding

PIP = corpus_file("trivy", "pip.json.golden")
"""Trivy's report of Python packages: Werkzeug, as its metadata spells it, with CVE-2019-14806 (HIGH)."""


def _entry(package: str) -> str:
    """A policy of one entry, for the HIGH finding of the report of Python packages."""
    return (
        "version: 1\nallowlist:\n  - vulnerability: CVE-2019-14806\n"
        f"    package: {json.dumps(package)}\n    reason: r\n"
    )


@pytest.mark.parametrize(
    ("package", "said", "fix"),
    [
        # A Cyrillic small IE for the e of openssl: told apart by no one reading the policy.
        ("op\u0435nssl", "U+0435 CYRILLIC SMALL LETTER IE", "type it in ASCII"),
        ("\u0440ip", "U+0440 CYRILLIC SMALL LETTER ER", "type it in ASCII"),
        ("pkg:deb/debian/\u043epenssl", "U+043E CYRILLIC SMALL LETTER O", "type it in ASCII"),
        ("\u03bfpenssl", "U+03BF GREEK SMALL LETTER OMICRON", "type it in ASCII"),
        # A full-width letter and an en dash have an ASCII form of their own: it is offered.
        ("\uff4fpenssl", "U+FF4F FULLWIDTH LATIN SMALL LETTER O", "write package: 'openssl'"),
        ("libc6\u2013dev", "U+2013 EN DASH", "write package: 'libc6-dev'"),
    ],
)
def test_a_package_with_a_look_alike_character_is_a_warning_naming_it(
    package: str, said: str, fix: str
) -> None:
    assert load_policy_text(_entry(package), "p.yaml").warnings == (
        f"p.yaml: allowlist[0] (line 3): package {package!r} holds a character no scanner writes in a "
        f"package name ({said}), and a package is compared exactly, so this entry never matches: {fix}",
    )


def test_a_look_alike_package_is_said_by_validate_and_by_every_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(_entry("W\u0435rkzeug"), encoding="utf-8")
    warning = (
        f"{policy}: allowlist[0] (line 3): package 'W\u0435rkzeug' holds a character no scanner writes in "
        "a package name (U+0435 CYRILLIC SMALL LETTER IE), and a package is compared exactly, so this "
        "entry never matches: type it in ASCII"
    )
    assert cli.main(["policy", "validate", str(policy)]) == ExitCode.PASS
    assert capsys.readouterr().out.splitlines() == [
        f"{policy}: valid policy (version 1)",
        f"warning: {warning}",
    ]
    out = tmp_path / "gate.json"
    # The entry never matched: the finding still blocks, as it did without the warning.
    assert (
        cli.main(["check", str(PIP), "--policy", str(policy), "--ci", "none", "--json", str(out)])
        == ExitCode.FAIL
    )
    assert warning in json.loads(out.read_text())["warnings"]


def test_a_package_name_with_a_control_character_is_shown_escaped() -> None:
    [warning] = load_policy_text(_entry("\u043epen\x1bssl"), "p.yaml").warnings
    assert "'\u043epen\\x1bssl'" in warning
    assert "\x1b" not in warning


def test_a_no_break_space_around_a_package_is_the_warning_of_a_blank_not_of_a_look_alike() -> None:
    # A blank outside ASCII has the warning of the blanks, which says what to write.
    assert load_policy_text(_entry("openssl\u00a0"), "p.yaml").warnings == (
        "p.yaml: allowlist[0] (line 3): package 'openssl\\xa0' starts or ends with a blank, but a package "
        "is compared exactly, so this entry never matches: write package: 'openssl'",
    )


@pytest.mark.parametrize(
    "package",
    [
        "openssl",
        "Werkzeug",
        "libstdc++6",
        "@babel/core",
        "pkg:pypi/werkzeug",
        "org.springframework:spring-beans",
    ],
)
def test_a_package_written_in_ascii_is_no_warning(package: str) -> None:
    assert load_policy_text(_entry(package), "p.yaml").warnings == ()


def _run_warnings(report: ScanReport, policy_text: str) -> list[str]:
    evaluation = evaluate(report, load_policy_text(policy_text, "p.yaml"), NOW)
    return [w for w in evaluation.warnings if "p.yaml" in w]


def test_a_package_the_report_spells_in_another_case_is_a_warning_saying_what_to_write() -> None:
    # PyPI's names are case-insensitive; the report has the metadata's `Werkzeug`, compared exactly.
    assert _run_warnings(load_report(PIP), _entry("werkzeug")) == [
        "p.yaml: allowlist[0] (line 3): package 'werkzeug' is no finding's package name in the report, "
        "but 'Werkzeug' is, differing only in case or in '-', '_' and '.': a package is compared exactly, "
        "so this entry never matches it: write package: 'Werkzeug'"
    ]
    assert _run_warnings(load_report(PIP), _entry("Werkzeug")) == []


@pytest.mark.parametrize(
    ("package", "reported"),
    [
        ("python3_yaml", "python3-yaml"),
        ("Pillow", "pillow"),
        ("zope-interface", "zope.interface"),
        ("libssl1_1", "libssl1.1"),
    ],
)
def test_a_package_the_report_spells_with_other_separators_is_a_warning(package: str, reported: str) -> None:
    report = ScanReport(findings=(finding("CVE-2019-14806", pkg=reported),))
    [warning] = _run_warnings(report, _entry(package))
    assert warning.startswith(
        f"p.yaml: allowlist[0] (line 3): package {package!r} is no finding's package name"
    )
    assert warning.endswith(f"never matches it: write package: {reported!r}")


def test_two_spellings_in_the_report_are_both_named_and_neither_is_chosen() -> None:
    report = ScanReport(findings=(finding(pkg="python3-yaml"), finding("CVE-2024-0002", pkg="python3_yaml")))
    assert _run_warnings(report, _entry("Python3.yaml")) == [
        "p.yaml: allowlist[0] (line 3): package 'Python3.yaml' is no finding's package name in the "
        "report, but 'python3-yaml' and 'python3_yaml' are, differing only in case or in '-', '_' and '.': "
        "a package is compared exactly, so this entry never matches them"
    ]


def test_a_package_the_report_has_or_spells_unlike_any_finding_is_no_warning() -> None:
    report = ScanReport(findings=(finding(pkg="pillow"), finding("CVE-2024-0002", pkg="Pillow")))
    # The report has the name itself (and another spelling of it): the entry matches what it names.
    assert _run_warnings(report, _entry("Pillow")) == []
    # No finding spells it at all: nothing to say but that it is unused, as every run does.
    assert _run_warnings(report, _entry("pillow-simd")) == []
    # A package URL is parsed and compared as its type says: not a name.
    assert _run_warnings(report, _entry("pkg:pypi/PILLOW")) == []


def test_a_package_the_report_spells_otherwise_is_said_by_check_and_explain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(_entry("werkzeug"), encoding="utf-8")
    warning = (
        f"{policy}: allowlist[0] (line 3): package 'werkzeug' is no finding's package name in the report"
    )
    out = tmp_path / "gate.json"
    assert (
        cli.main(["check", str(PIP), "--policy", str(policy), "--ci", "none", "--json", str(out)])
        == ExitCode.FAIL
    )
    assert [w for w in json.loads(out.read_text())["warnings"] if w.startswith(warning)]
    capsys.readouterr()
    assert (
        cli.main(["explain", "CVE-2019-14806", "--report", str(PIP), "--policy", str(policy)])
        == ExitCode.PASS
    )
    assert "is no finding's package name in the report" in " ".join(capsys.readouterr().out.split())
    # `policy validate` has no report: it says nothing of it.
    assert cli.main(["policy", "validate", str(policy)]) == ExitCode.PASS
    assert capsys.readouterr().out.splitlines() == [f"{policy}: valid policy (version 1)"]
