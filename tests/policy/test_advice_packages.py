"""Allowlist entries whose `package` cannot match what it was written for: a name with a letter
that only looks like an ASCII one (gate/policy/advice.py). Warnings, never errors: the verdict
stays what it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.policy.load import load_policy_text
from tests.support.corpus import corpus_file

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
