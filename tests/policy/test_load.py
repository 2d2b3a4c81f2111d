"""Loading policy files: every kind of mistake, the shipped policies, the docs, the schema."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gate._other_documents import OTHER_DOCUMENTS as OTHER_REPORT_DOCUMENTS
from gate.cli.main import main as cli_main
from gate.errors import ExitCode, PolicyError
from gate.model import LayerOrigin, Severity, VendorStatus
from gate.policy.load import (
    default_policy_path,
    load_default_policy,
    load_policy,
    load_policy_text,
    schema,
    validate_policy_file,
)
from gate.policy.model import AllowlistEntry, BaseImagePolicy, FailOn, Mode, OnStale, Policy
from gate.policy.source import MAX_BYTES
from tests.support.corpus import corpus_file, corpus_files
from tests.support.messages import lone_surrogate
from tests.support.policy_texts import EXPLOIT_MISTAKES, validate_text

ROOT = Path(__file__).resolve().parents[2]
SEVERITIES = "UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL"
STATUSES = (
    "fixed, affected, under_investigation, will_not_fix, fix_deferred, end_of_life, not_affected, unknown"
)
TOP_KEYS = (
    "version, mode, fail_on, ignore_statuses, allowlist, fail_on_expired, lenient_severity, base_image, "
    "baseline, vex, exploit_data, ignore_suspects"
)


def problems_in(text: str) -> list[str]:
    """The problems load_policy_text reports, as the CLI prints them."""
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "policy.yaml")
    assert caught.value.path == "policy.yaml"
    return caught.value.problems


def entry(*lines: str) -> str:
    """A policy with one allowlist entry made of `lines` (the entry starts on line 3)."""
    return "version: 1\nallowlist:\n  - " + "\n    ".join(lines) + "\n"


ANCHOR_HOLDER = (
    " (a policy has no key for anchors alone, like GitLab CI's hidden '.' keys or Compose's 'x-' keys: "
    "put the anchor on the first value that uses it, such as the first allowlist entry)"
)
"""Where other YAML files keep the values their anchors share; the docs' YAML notes show the way here."""

NOT_INDENTATION = "before this key, which YAML does not take for indentation (indent with spaces only)"

NOT_BETWEEN = "which YAML does not take between a key and its value (separate them with a space)"

ALIAS_BOMB = "version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)

IGNORE_FILE = (
    "not a policy, which starts with 'version: 1' (the gate reads no scanner's ignore rules: write each as"
    " an allowlist entry, with a reason and an expiry date)"
)
SCANNER_CONFIG = (
    "not a policy, which starts with 'version: 1' (it says how {scanner} scans: give it to {command} --config;"
    " what blocks the gate is the policy's fail_on, docs/policy.md)"
)
MISTAKES = [
    pytest.param(
        "# accepted\nCVE-2019-0001\nCVE-2019-0004 exp:2020-01-01\n",
        [f"policy.yaml:1: this is a Trivy ignore file (.trivyignore), {IGNORE_FILE}"],
        id="trivyignore",
    ),
    pytest.param(
        "vulnerabilities:\n  - id: CVE-2019-0001\n    expired_at: 2023-01-01\n",
        [f"policy.yaml:1: this is a Trivy ignore file (.trivyignore.yaml), {IGNORE_FILE}"],
        id="trivyignore-yaml",
    ),
    pytest.param(
        "ignore:\n  - vulnerability: CVE-2019-0001\n",
        [f"policy.yaml:1: this is a Grype configuration (.grype.yaml), {IGNORE_FILE}"],
        id="grype-yaml",
    ),
    pytest.param(
        "format: json\nseverity:\n  - HIGH\nscan:\n  skip-dirs: [/usr/share]\nvulnerability:\n"
        "  ignore-unfixed: true\n",
        [
            "policy.yaml:1: this is a Trivy configuration (trivy.yaml), "
            + SCANNER_CONFIG.format(scanner="Trivy", command="trivy")
        ],
        id="trivy-config",
    ),
    pytest.param(
        "output: json\nfail-on-severity: high\nonly-fixed: true\ndb:\n  auto-update: false\n",
        [
            "policy.yaml:1: this is a Grype configuration (.grype.yaml), "
            + SCANNER_CONFIG.format(scanner="Grype", command="grype")
        ],
        id="grype-config",
    ),
    pytest.param(
        "output: json\ndb:\n  auto-update: false\n",
        [
            "policy.yaml:1: this is a Trivy or Grype configuration, "
            + SCANNER_CONFIG.format(scanner="a scanner", command="trivy --config or grype")
        ],
        id="trivy-or-grype-config",
    ),
    pytest.param(
        # A policy that lost its version, with policy words only: told key by key, not a scanner's.
        "severity: HIGH\n",
        [
            "policy.yaml:1: missing required key 'version' (only version 1 is supported: write 'version: 1')",
            "policy.yaml:1: severity: unknown key (it belongs under 'fail_on')",
        ],
        id="policy-without-version-is-no-scanner-config",
    ),
    pytest.param(
        "version: 1\nallowlists: []\n",
        ["policy.yaml:2: allowlists: unknown key (did you mean 'allowlist'?)"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  severty: HIGH\n",
        ["policy.yaml:3: fail_on.severty: unknown key (did you mean 'severity'?)"],
        id="unknown-key-in-fail_on",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "expiry: 2027-01-31"),
        ["policy.yaml:5: allowlist[0].expiry: unknown key (did you mean 'expires'?)"],
        id="unknown-key-in-allowlist-entry",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  fail_on:\n    severty: CRITICAL\n",
        ["policy.yaml:4: base_image.fail_on.severty: unknown key (did you mean 'severity'?)"],
        id="unknown-key-in-base_image-fail_on",
    ),
    pytest.param(
        "version: 1\nbase-image:\n  fail_on: {severity: CRITICAL}\n",
        ["policy.yaml:2: base-image: unknown key (did you mean 'base_image'?)"],
        id="base_image-misspelt",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  severity: CRITICAL\n",
        ["policy.yaml:3: base_image.severity: unknown key (it belongs under 'base_image.fail_on')"],
        id="base_image-severity-without-fail_on",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  fail_on:\n    budgets: {CRITICAL: 2}\n",
        ["policy.yaml:4: base_image.fail_on.budgets: unknown key (it belongs under the top-level 'fail_on')"],
        id="budgets-under-base_image",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  fail_on:\n    severity: critical\n",
        [
            f"policy.yaml:4: base_image.fail_on.severity: expected one of {SEVERITIES}, got 'critical' "
            "(did you mean 'CRITICAL'?)"
        ],
        id="base_image-severity-in-lower-case",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  fail_on:\n    fixable_only: 1\n",
        ["policy.yaml:4: base_image.fail_on.fixable_only: expected true or false, got 1"],
        id="base_image-fixable_only-not-boolean",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  max_age: 30\n",
        ["policy.yaml:3: base_image.max_age: unknown key (did you mean 'max_age_days'?)"],
        id="base_image-max_age-misspelt",
    ),
    pytest.param(
        "version: 1\nmax_age_days: 30\n",
        ["policy.yaml:2: max_age_days: unknown key (it belongs under 'base_image')"],
        id="max_age_days-at-the-top",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  fail_on:\n    on_stale: fail\n",
        ["policy.yaml:4: base_image.fail_on.on_stale: unknown key (it belongs under 'base_image')"],
        id="on_stale-under-fail_on",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  max_age_days: -1\n",
        ["policy.yaml:3: base_image.max_age_days: expected a non-negative integer, got -1"],
        id="max_age_days-negative",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  max_age_days: 1.5\n",
        ["policy.yaml:3: base_image.max_age_days: expected a non-negative integer, got 1.5"],
        id="max_age_days-not-whole",
    ),
    pytest.param(
        'version: 1\nbase_image:\n  max_age_days: "30"\n',
        ["policy.yaml:3: base_image.max_age_days: expected a non-negative integer, got '30'"],
        id="max_age_days-as-text",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  on_stale: Fail\n",
        ["policy.yaml:3: base_image.on_stale: expected one of warn, fail, got 'Fail' (did you mean 'fail'?)"],
        id="on_stale-capitalised",
    ),
    pytest.param(
        "version: 1\nbase_image:\n  on_stale: error\n",
        ["policy.yaml:3: base_image.on_stale: expected one of warn, fail, got 'error'"],
        id="on_stale-not-a-choice",
    ),
    pytest.param(
        "version: 1\nbase_image: CRITICAL\n",
        ["policy.yaml:2: base_image: expected a mapping, got 'CRITICAL'"],
        id="base_image-not-a-mapping",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "origin: Base"),
        ["policy.yaml:5: allowlist[0].origin: expected one of base, own, got 'Base' (did you mean 'base'?)"],
        id="bad-origin",
    ),
    pytest.param(
        "version: 1\norigin: base\n",
        ["policy.yaml:2: origin: unknown key (it belongs in an allowlist entry)"],
        id="origin-outside-an-entry",
    ),
    pytest.param(
        "version: 1\nfixable_only: true\n",
        ["policy.yaml:2: fixable_only: unknown key (it belongs under 'fail_on')"],
        id="key-at-the-wrong-level",
    ),
    pytest.param(
        "version: 1\nx-defaults: &d\n  reason: shared\nallowlist:\n  - <<: *d\n    vulnerability: CVE-1\n",
        [f"policy.yaml:2: x-defaults: unknown key{ANCHOR_HOLDER}"],
        id="a-key-to-hold-anchors-as-compose-has",
    ),
    pytest.param(
        "version: 1\n.defaults: &d\n  reason: shared\nallowlist:\n  - <<: *d\n    vulnerability: CVE-1\n",
        [f"policy.yaml:2: ['.defaults']: unknown key{ANCHOR_HOLDER}"],
        id="a-hidden-key-to-hold-anchors-as-gitlab-ci-has",
    ),
    pytest.param(
        "version: 1\nfail_on:\n\u00a0 severity: HIGH\n",  # copied from a web page
        [f"policy.yaml:3: invalid YAML: no-break space (U+00A0) {NOT_INDENTATION}"],
        id="a-no-break-space-for-indentation",
    ),
    pytest.param(
        entry("vulnerability: CVE-1", "reason: r") + "  \u3000 expires: 2027-01-31\n",
        [f"policy.yaml:5: invalid YAML: ideographic space (U+3000) {NOT_INDENTATION}"],
        id="an-ideographic-space-for-indentation",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  severity:\u00a0HIGH\n",  # the key and its value copied from a web page
        [f"policy.yaml:3: invalid YAML: no-break space (U+00A0) after 'severity:', {NOT_BETWEEN}"],
        id="a-no-break-space-between-a-key-and-its-value",
    ),
    pytest.param(
        entry("vulnerability:\u00a0CVE-2023-45853", "reason: r"),
        [f"policy.yaml:3: invalid YAML: no-break space (U+00A0) after 'vulnerability:', {NOT_BETWEEN}"],
        id="a-no-break-space-between-a-key-and-its-value-in-an-entry",
    ),
    pytest.param(
        "version:\u00a01\nfail_on:\n  severity: HIGH\n",  # a text, then a mapping: not YAML
        [f"policy.yaml:1: invalid YAML: no-break space (U+00A0) after 'version:', {NOT_BETWEEN}"],
        id="a-no-break-space-between-a-top-key-and-its-value",
    ),
    pytest.param(
        "version:\u00a01\n",
        [f"policy.yaml:1: invalid YAML: no-break space (U+00A0) after 'version:', {NOT_BETWEEN}"],
        id="a-no-break-space-between-the-only-key-and-its-value",
    ),
    pytest.param(
        "version: 1\nfail_on:\u00a0\n  severity: HIGH\n",
        [f"policy.yaml:2: invalid YAML: no-break space (U+00A0) after 'fail_on:', {NOT_BETWEEN}"],
        id="a-no-break-space-after-a-key-of-a-mapping",
    ),
    pytest.param(
        # A line commented out keeps its no-break space harmlessly: the YAML error is the line after.
        "version: 1\nfail_on:\n  severity: HIGH\n#fixable_only:\u00a0true\n bad: x\n",
        [
            "policy.yaml:5: invalid YAML: while parsing a block mapping, expected <block end>, but found "
            "'<block mapping start>' (column 2)"
        ],
        id="a-no-break-space-in-a-comment-before-a-yaml-error",
    ),
    pytest.param(
        entry("vulnerability: CVE-1", "#note:\u00a0why") + "   reason: r\n",
        [
            "policy.yaml:5: invalid YAML: while parsing a block collection, expected <block end>, but found "
            "'<block mapping start>' (column 4)"
        ],
        id="a-no-break-space-in-a-comment-of-an-entry",
    ),
    pytest.param(
        "version: 1\ncolour: red\n",
        [f"policy.yaml:2: colour: unknown key (expected one of {TOP_KEYS})"],
        id="unknown-key-without-suggestion",
    ),
    pytest.param(
        "version: 1\nbaseline:\n  fail_on: [new, wrose]\n",
        [
            "policy.yaml:3: baseline.fail_on[1]: expected one of new, unchanged, worse, got 'wrose' "
            "(did you mean 'worse'?)"
        ],
        id="baseline-state-typo",
    ),
    pytest.param(
        "version: 1\nbaseline:\n  max_age_day: 7\n",
        ["policy.yaml:3: baseline.max_age_day: unknown key (did you mean 'max_age_days'?)"],
        id="baseline-key-typo",
    ),
    pytest.param(
        "version: 1\nvex: app.openvex.json\n",
        ["policy.yaml:2: vex: expected a list, got 'app.openvex.json'"],
        id="vex-not-a-list",
    ),
    pytest.param(
        'version: 1\nvex: ["app\\0.openvex.json"]\n',
        ["policy.yaml:2: vex[0]: expected a file path without a NUL character, got 'app\\x00.openvex.json'"],
        id="vex-path-with-a-nul",
    ),
    pytest.param(
        'version: 1\nvex: [app.openvex.json, "-"]\n',
        [
            "policy.yaml:2: vex[1]: expected a file path, got '-': standard input (-) is read only for a "
            "report (check's REPORT, explain's --report, compare's NAME=-); give ./- for a file named -"
        ],
        id="vex-standard-input",
    ),
    pytest.param(
        "version: 1\nallowlist:\n  - vulnerability: CVE-2023-45853\n    reason: not shipped\n"
        "    justification: vulnerable_code_not_in_execution_path\n",
        [
            "policy.yaml:5: allowlist[0].justification: expected one of component_not_present, "
            "vulnerable_code_not_present, vulnerable_code_not_in_execute_path, "
            "vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist, "
            "got 'vulnerable_code_not_in_execution_path' (did you mean 'vulnerable_code_not_in_execute_path'?)"
        ],
        id="justification-typo",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  fixable_only: sometimes\n",
        ["policy.yaml:3: fail_on.fixable_only: expected true or false, got 'sometimes'"],
        id="wrong-type",
    ),
    pytest.param(
        "version: 1\nlenient_severity: sometimes\n",
        ["policy.yaml:2: lenient_severity: expected true or false, got 'sometimes'"],
        id="lenient-severity-not-a-boolean",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  lenient_severity: true\n",
        ["policy.yaml:3: fail_on.lenient_severity: unknown key (it belongs at the top level)"],
        id="lenient-severity-at-the-wrong-level",
    ),
    pytest.param(
        "version: 1\nallowlist:\n",
        ["policy.yaml:2: allowlist: expected a list, got null (an empty value)"],
        id="empty-value",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "version: 1.10"),
        [
            "policy.yaml:5: allowlist[0].version: expected a non-empty string, got 1.1 (put it in quotes to make it text)"
        ],
        id="number-where-text-is-due",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  severity: SEVERE\n",
        [f"policy.yaml:3: fail_on.severity: expected one of {SEVERITIES}, got 'SEVERE'"],
        id="bad-severity",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  severity: high\n",
        [f"policy.yaml:3: fail_on.severity: expected one of {SEVERITIES}, got 'high' (did you mean 'HIGH'?)"],
        id="severity-in-lower-case",
    ),
    pytest.param(
        "version: 1\nignore_statuses: [fixed, wont_fix]\n",
        [
            f"policy.yaml:2: ignore_statuses[1]: expected one of {STATUSES}, got 'wont_fix' (did you mean 'will_not_fix'?)"
        ],
        id="bad-status",
    ),
    pytest.param(
        # Spelling alone took these for `fixed`, which ignores every finding that has a fix.
        "version: 1\nignore_statuses: [not-fixed, unfixed]\n",
        [
            f"policy.yaml:2: ignore_statuses[0]: expected one of {STATUSES}, got 'not-fixed' (Grype's word for "
            "'affected'; to keep findings without a fixed version from blocking, set fail_on.fixable_only: true)",
            f"policy.yaml:2: ignore_statuses[1]: expected one of {STATUSES}, got 'unfixed' (to keep findings "
            "without a fixed version from blocking, set fail_on.fixable_only: true; 'fixed' would ignore the "
            "findings that have one)",
        ],
        id="no-fix-status-is-not-fixed",
    ),
    pytest.param(
        "version: 1\nmode: audit\n",
        ["policy.yaml:2: mode: expected one of enforce, advisory, got 'audit'"],
        id="bad-mode",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853"),
        ["policy.yaml:3: allowlist[0]: missing required key 'reason'"],
        id="missing-reason",
    ),
    pytest.param(
        entry("reason: accepted"),
        ["policy.yaml:3: allowlist[0]: missing required key 'vulnerability'"],
        id="missing-vulnerability",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: ''"),
        ["policy.yaml:4: allowlist[0].reason: expected a reason with a visible character, got ''"],
        id="empty-reason",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: '   '"),
        ["policy.yaml:4: allowlist[0].reason: expected a reason with a visible character, got '   '"],
        id="blank-reason",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", 'reason: "\\u200b\\u2060"'),
        [
            "policy.yaml:4: allowlist[0].reason: expected a reason with a visible character, got '\\u200b\\u2060'"
        ],
        id="invisible-reason",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "expires: 2027-13-01"),
        ["policy.yaml:5: allowlist[0].expires: expected a date (YYYY-MM-DD), got '2027-13-01'"],
        id="impossible-date",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "expires: '31/01/2027'"),
        ["policy.yaml:5: allowlist[0].expires: expected a date (YYYY-MM-DD), got '31/01/2027'"],
        id="date-in-another-format",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "expires: 20270131"),
        ["policy.yaml:5: allowlist[0].expires: expected a date (YYYY-MM-DD), got 20270131"],
        id="date-as-a-number",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "expires: 2027-01-31 12:00:00"),
        ["policy.yaml:5: allowlist[0].expires: expected a date (YYYY-MM-DD), got '2027-01-31 12:00:00'"],
        id="datetime-instead-of-date",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "path: /usr/lib/**"),
        [
            "policy.yaml:5: allowlist[0].path: expected a glob on the package path without a leading '/' "
            "(usr/lib/**), got '/usr/lib/**'"
        ],
        id="path-with-leading-slash",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "path: 'usr/lib/libz.so.[9-1]'"),
        [
            "policy.yaml:5: allowlist[0].path: expected a glob on the package path (usr/lib/**), "
            "got 'usr/lib/libz.so.[9-1]' (bad character range 9-1)"
        ],
        id="path-glob-with-a-backward-range",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "package: 'pkg:zlib'"),
        [
            "policy.yaml:5: allowlist[0].package: expected a package name or a package URL "
            "(pkg:deb/debian/zlib1g), got 'pkg:zlib'"
        ],
        id="malformed-package-url",
    ),
    pytest.param(
        "# a policy\nfail_on: {}\n",
        ["policy.yaml:2: missing required key 'version' (only version 1 is supported: write 'version: 1')"],
        id="version-missing",
    ),
    pytest.param(
        "version: 2\n",
        ["policy.yaml:1: version: only version 1 is supported (expected 1, got 2)"],
        id="version-2",
    ),
    pytest.param(
        "version: '1'\n",
        [
            "policy.yaml:1: version: only version 1 is supported (expected the number 1, got the text "
            "'1': write version: 1 without quotes)"
        ],
        id="version-as-text",
    ),
    pytest.param(
        '{"version": "1.0"}\n',
        [
            "policy.yaml:1: version: only version 1 is supported (expected the number 1, got the text "
            "'1.0': write version: 1 without quotes)"
        ],
        id="version-as-text-in-json",
    ),
    pytest.param(
        "version: '2'\n",
        ["policy.yaml:1: version: only version 1 is supported (expected 1, got '2')"],
        id="another-version-as-text",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  budgets: {HIGH: -1}\n",
        ["policy.yaml:3: fail_on.budgets.HIGH: expected a non-negative integer, got -1"],
        id="negative-budget",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  budgets: {HIGH: 1.5}\n",
        ["policy.yaml:3: fail_on.budgets.HIGH: expected a non-negative integer, got 1.5"],
        id="fractional-budget",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  budgets:\n    SEVERE: 1\n",
        [f"policy.yaml:4: fail_on.budgets.SEVERE: unknown severity (expected one of {SEVERITIES})"],
        id="budget-for-unknown-severity",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  budgets:\n    high: 1\n",
        ["policy.yaml:4: fail_on.budgets.high: unknown severity (did you mean 'HIGH'?)"],
        id="budget-severity-in-lower-case",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  cvss_score: 11\n",
        ["policy.yaml:3: fail_on.cvss_score: expected a number from 0.0 to 10.0, got 11"],
        id="cvss-above-10",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  cvss_score: -0.5\n",
        ["policy.yaml:3: fail_on.cvss_score: expected a number from 0.0 to 10.0, got -0.5"],
        id="cvss-negative",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  cvss_score: .nan\n",
        ["policy.yaml:3: fail_on.cvss_score: expected a number from 0.0 to 10.0, got '.nan'"],
        id="cvss-not-a-number",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  severity: HIGH\n  severity: CRITICAL\n",
        ["policy.yaml:4: fail_on.severity: duplicate key (first defined on line 3)"],
        id="duplicate-key",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason: r", "vulnerability: CVE-2024-1"),
        ["policy.yaml:5: allowlist[0].vulnerability: duplicate key (first defined on line 3)"],
        id="duplicate-key-in-entry",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  severity: HIGH\n   fixable_only: true\n",
        ["policy.yaml:4: invalid YAML: mapping values are not allowed here (column 16)"],
        id="not-yaml",
    ),
    pytest.param(
        "version: 1\n\tfail_on: {}\n",
        ["policy.yaml:2: invalid YAML: found a tab character (YAML indents with spaces only) (column 1)"],
        id="tab-indentation",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  severity: HIGH\n\t\nmode: enforce\n",
        ["policy.yaml:4: invalid YAML: found a tab character (on a blank line: remove it) (column 1)"],
        id="tab-on-a-blank-line",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  severity: HIGH\n  \t\nmode: enforce\n",
        ["policy.yaml:4: invalid YAML: found a tab character (on a blank line: remove it) (column 3)"],
        id="tab-after-spaces-on-a-blank-line",
    ),
    pytest.param(
        "version: 1\t# the policy of the web image\n",
        ["policy.yaml:1: invalid YAML: found a tab character (separate values with spaces) (column 11)"],
        id="tab-before-a-comment",
    ),
    pytest.param(
        entry("vulnerability: CVE-2023-45853", "reason:\tnot shipped"),
        ["policy.yaml:4: invalid YAML: found a tab character (separate values with spaces) (column 12)"],
        id="tab-after-a-key",
    ),
    pytest.param(
        "version: 1\nfail_on:\n  severity: HIGH\t\n",
        [
            "policy.yaml:3: invalid YAML: found a tab character (at the end of the line: remove it) (column 17)"
        ],
        id="tab-at-the-end-of-a-line",
    ),
    pytest.param(
        "version: 1\n---\nversion: 1\n",
        [
            "policy.yaml:2: invalid YAML: expected a single document in the stream, "
            "but found another document (column 1)"
        ],
        id="two-documents",
    ),
    pytest.param(
        "",
        ["policy.yaml:1: the file is empty (expected a policy starting with 'version: 1')"],
        id="empty-file",
    ),
    pytest.param(
        "# only a comment\n",
        ["policy.yaml:1: the file is empty (expected a policy starting with 'version: 1')"],
        id="comments-only",
    ),
    pytest.param(
        "- version: 1\n",
        ["policy.yaml:1: expected a mapping of policy keys, got a list"],
        id="top-level-list",
    ),
    pytest.param(
        "just text\n",
        ["policy.yaml:1: expected a mapping of policy keys, got 'just text'"],
        id="top-level-scalar",
    ),
    pytest.param(
        ALIAS_BOMB,
        [
            "policy.yaml:6: too many values once aliases are expanded (expected at most 50000; "
            "refusing a possible alias bomb)"
        ],
        id="alias-bomb",
    ),
    pytest.param(
        "version: 1\nx: &a [*a]\n",
        ["policy.yaml:2: recursive alias (a value that contains itself)"],
        id="recursive-alias",
    ),
    pytest.param(
        "version: 1\nx: " + "[" * 40 + "]" * 40 + "\n",
        ["policy.yaml:2: nested too deeply (expected at most 32 levels)"],
        id="nested-too-deeply",
    ),
    pytest.param(
        "version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n",
        ["policy.yaml:1: nested too deeply (expected at most 32 levels)"],
        id="nested-deeper-than-the-parser-recurses",
    ),
    pytest.param(
        "version: 1\n" + "#" * MAX_BYTES + "\n",
        [f"policy.yaml:1: file too large (expected at most {MAX_BYTES} bytes, got {MAX_BYTES + 12})"],
        id="oversize-text",
    ),
    pytest.param(
        "version: 1\nignore_statuses: !!set {fixed}\n",
        # The tag only: what the schema would say of the value it asked for is noise.
        ["policy.yaml:2: ignore_statuses: unsupported YAML tag '!!set'"],
        id="yaml-tag",
    ),
    pytest.param(
        "version: !!python/object/apply:os.system ['true']\n",
        ["policy.yaml:1: version: unsupported YAML tag '!!python/object/apply:os.system'"],
        id="python-tag",
    ),
    pytest.param(
        "version: 1\non: true\n",
        ["policy.yaml:2: expected a text key, got true"],
        id="key-that-is-not-text",
    ),
    pytest.param(
        'version: 1\n"fail on\\x1b[31m": {}\n',  # an escape sequence that would colour a terminal
        ["policy.yaml:2: ['fail on\\x1b[31m']: unknown key (did you mean 'fail_on'?)"],
        id="control-characters-are-escaped",
    ),
    pytest.param(
        "version: 1\nx: a\x00b\n",
        ["policy.yaml:2: invalid YAML: unacceptable character #x0000 (special characters are not allowed)"],
        id="nul-character",
    ),
    pytest.param(
        entry("vulnerability: CVE-2019-18224", 'version: "\\ud8002.0.5-1"', "reason: r"),
        [f"policy.yaml:4: allowlist[0].version: {lone_surrogate('ud800')}"],
        id="lone-surrogate-escape",
    ),
    pytest.param(
        'version: 1\n"fail_on\\udc00": {}\n',
        [
            "policy.yaml:2: ['fail_on\ufffd']: unknown key (did you mean 'fail_on'?)",
            f"policy.yaml:2: {lone_surrogate('udc00')}",
        ],
        id="lone-surrogate-escape-in-a-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), MISTAKES)
def test_each_kind_of_mistake_has_its_message(text: str, expected: list[str]) -> None:
    assert problems_in(text) == expected


def test_a_no_break_space_after_a_colon_in_a_text_the_policy_takes_is_kept() -> None:
    # Only a value the policy refuses is read as a key and a value joined: a reason may say so.
    text = entry("vulnerability: CVE-2023-45853", "reason: see:\u00a0the notes")
    (kept,) = load_policy_text(text, "policy.yaml").allowlist
    assert kept.reason == "see:\u00a0the notes"


def test_every_problem_is_reported_sorted_by_line() -> None:
    text = (
        "version: 2\n"  # 1
        "fail_on:\n"  # 2
        "  severity: SEVERE\n"  # 3
        "  cvss_score: 11\n"  # 4
        "allowlist:\n"  # 5
        "  - vulnerability: CVE-2023-45853\n"  # 6
        "    expiry: 2027-01-31\n"  # 7
        "mode: advisory\n"  # 8
        "mode: enforce\n"  # 9
        "ignore_statuses: [wontfix]\n"  # 10
    )
    assert problems_in(text) == [
        "policy.yaml:1: version: only version 1 is supported (expected 1, got 2)",
        f"policy.yaml:3: fail_on.severity: expected one of {SEVERITIES}, got 'SEVERE'",
        "policy.yaml:4: fail_on.cvss_score: expected a number from 0.0 to 10.0, got 11",
        "policy.yaml:6: allowlist[0]: missing required key 'reason'",
        "policy.yaml:7: allowlist[0].expiry: unknown key (did you mean 'expires'?)",
        "policy.yaml:9: mode: duplicate key (first defined on line 8)",
        f"policy.yaml:10: ignore_statuses[0]: expected one of {STATUSES}, got 'wontfix' (did you mean 'will_not_fix'?)",
    ]


def test_policy_error_names_the_file_and_counts_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nfail_on:\n  severty: HIGH\nallowlists: []\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.path == str(path)
    assert caught.value.problems == [
        f"{path}:3: fail_on.severty: unknown key (did you mean 'severity'?)",
        f"{path}:4: allowlists: unknown key (did you mean 'allowlist'?)",
    ]
    assert caught.value.diagnostics() == f"{caught.value.problems[0]} (and 1 more problem(s))"
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.line == 3  # the first problem's, where a CI annotation points
    assert validate_policy_file(path) == caught.value.problems


def test_oversize_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"version: 1\n" + b"#" * (2 * MAX_BYTES))
    assert validate_policy_file(path) == [
        f"{path}:1: file too large (expected at most {MAX_BYTES} bytes, got {MAX_BYTES + 1} or more)"
    ]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("version: 1\nallowlist:\n  - reason: caf\xe9\n".encode("latin-1"))
    assert validate_policy_file(path) == [f"{path}:3: not UTF-8 text (byte 0xe9 at offset 37)"]


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    assert validate_policy_file(missing) == [
        f"{missing}: cannot read the policy file (No such file or directory)"
    ]
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path)
    assert caught.value.line is None


def test_full_policy_maps_to_typed_values() -> None:
    text = """\
version: 1
mode: advisory
fail_on:
  severity: MEDIUM
  fixable_only: true
  cvss_score: 9
  budgets: {HIGH: 3, LOW: 0, CRITICAL: 1}
ignore_statuses: [will_not_fix, end_of_life]
allowlist:
  - vulnerability: CVE-2023-45853
    package: zlib1g
    version: "1:1.2.13.dfsg-1"
    path: "usr/lib/**"
    image: "ghcr.io/acme/*"
    reason: minizip is not shipped
    expires: 2027-01-31
  - {vulnerability: GHSA-9wx4-h78v-vm56, reason: "tracked in ACME-142", expires: "2026-12-31", origin: own}
fail_on_expired: true
lenient_severity: true
base_image:
  fail_on:
    severity: CRITICAL
    fixable_only: true
    cvss_score: 9.8
  max_age_days: 30
  on_stale: fail
"""
    assert load_policy_text(text, "team.yaml") == Policy(
        source="team.yaml",
        fail_on=FailOn(
            severity=Severity.MEDIUM,
            fixable_only=True,
            cvss_score=9.0,
            budgets=((Severity.LOW, 0), (Severity.HIGH, 3), (Severity.CRITICAL, 1)),
        ),
        ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX, VendorStatus.END_OF_LIFE}),
        allowlist=(
            AllowlistEntry(
                index=0,
                vulnerability="CVE-2023-45853",
                reason="minizip is not shipped",
                package="zlib1g",
                version="1:1.2.13.dfsg-1",
                path="usr/lib/**",
                image="ghcr.io/acme/*",
                expires=dt.date(2027, 1, 31),
                line=10,
            ),
            AllowlistEntry(
                index=1,
                vulnerability="GHSA-9wx4-h78v-vm56",
                reason="tracked in ACME-142",
                expires=dt.date(2026, 12, 31),
                origin=LayerOrigin.OWN,
                line=17,
            ),
        ),
        fail_on_expired=True,
        mode=Mode.ADVISORY,
        warnings=(
            "team.yaml: mode: advisory: this policy never fails the gate, findings that would block are "
            "only reported (set mode: enforce to block them)",
        ),
        lenient_severity=True,
        base_image=BaseImagePolicy(
            FailOn(severity=Severity.CRITICAL, fixable_only=True, cvss_score=9.8),
            max_age_days=30,
            on_stale=OnStale.FAIL,
        ),
    )


def test_absent_keys_take_the_documented_defaults() -> None:
    policy = load_policy_text("version: 1\n", "minimal.yaml")
    assert policy == Policy(source="minimal.yaml")
    assert policy.fail_on == FailOn(severity=Severity.HIGH, fixable_only=False, cvss_score=None, budgets=())
    assert (policy.ignore_statuses, policy.allowlist) == (frozenset(), ())
    assert (policy.fail_on_expired, policy.mode, policy.lenient_severity) == (False, Mode.ENFORCE, False)
    assert policy.base_image == BaseImagePolicy(fail_on=None, max_age_days=0, on_stale=OnStale.WARN)


def test_a_whole_number_written_with_a_decimal_point_is_read_as_written() -> None:
    # JSON Schema counts 7.0 as an integer, so the schema and `policy validate` accept it; it was
    # then read as the default (30 days, 7 days, no staleness check).
    text = """\
version: 1.0
baseline: {max_age_days: 7.0}
base_image: {max_age_days: 3.0}
exploit_data: {max_age_days: 1.0}
fail_on: {budgets: {HIGH: 2.0}}
"""
    policy = load_policy_text(text, "p.yaml")
    assert (
        policy.baseline.max_age_days,
        policy.base_image.max_age_days,
        policy.exploit_data.max_age_days,
    ) == (
        7,
        3,
        1,
    )
    assert policy.fail_on.budgets == ((Severity.HIGH, 2),)


def test_an_empty_base_image_threshold_takes_the_defaults_not_the_top_level_one() -> None:
    policy = load_policy_text("version: 1\nfail_on: {severity: LOW}\nbase_image:\n  fail_on: {}\n", "p.yaml")
    assert policy.base_image.fail_on == FailOn()
    assert policy.fail_on_for(LayerOrigin.BASE) == FailOn()
    assert policy.fail_on_for(LayerOrigin.OWN) == policy.fail_on_for(None) == FailOn(severity=Severity.LOW)


def test_anchors_aliases_and_merge_keys_below_the_cap_work() -> None:
    text = """\
version: 1
allowlist:
  - &zlib
    vulnerability: CVE-2023-45853
    package: zlib1g
    reason: &why minizip is not shipped
    expires: 2027-01-31
  - <<: *zlib
    package: zlib1g-dev
  - {vulnerability: CVE-2022-37434, reason: *why}
"""
    entries = load_policy_text(text, "anchors.yaml").allowlist
    assert [(e.vulnerability, e.package, e.reason, e.expires) for e in entries] == [
        ("CVE-2023-45853", "zlib1g", "minizip is not shipped", dt.date(2027, 1, 31)),
        ("CVE-2023-45853", "zlib1g-dev", "minizip is not shipped", dt.date(2027, 1, 31)),
        ("CVE-2022-37434", None, "minizip is not shipped", None),
    ]
    assert [e.line for e in entries] == [3, 8, 10]


def test_a_large_plain_allowlist_is_not_taken_for_an_alias_bomb() -> None:
    lines = ["version: 1", "allowlist:"]
    for n in range(1000):
        lines += [
            f"  - vulnerability: CVE-2024-{n:05d}",
            f"    package: lib{n}",
            f"    version: '1.{n}'",
            "    path: usr/lib/**",
            "    image: ghcr.io/acme/*",
            f"    reason: accepted {n}",
            "    expires: 2027-01-31",
        ]
    policy = load_policy_text("\n".join(lines) + "\n", "big.yaml")
    assert len(policy.allowlist) == 1000
    assert policy.allowlist[999].line == 2 + 7 * 999 + 1


SHIPPED = sorted((ROOT / "policies").glob("*.yaml"))


def test_the_three_policies_are_shipped() -> None:
    assert [p.name for p in SHIPPED] == ["advisory.yaml", "default.yaml", "strict.yaml"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_policy_loads_and_carries_the_schema_comment(path: Path) -> None:
    assert validate_policy_file(path) == []
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# yaml-language-server: $schema=./schema.json"
    assert sum(line.startswith("#") for line in lines) >= 5, "a header comment explains the policy's intent"


def test_default_policy_blocks_fixable_high_and_critical() -> None:
    # The installed copy (package gate.policies) is the file in the repository.
    assert default_policy_path().read_bytes() == (ROOT / "policies" / "default.yaml").read_bytes()
    policy = load_default_policy()
    assert policy.source == "policies/default.yaml (shipped default)"
    assert policy.fail_on == FailOn(severity=Severity.HIGH, fixable_only=True)
    assert policy.mode is Mode.ENFORCE
    assert policy.ignore_statuses == frozenset({VendorStatus.NOT_AFFECTED})


def test_the_default_policy_is_the_same_without_the_schema_check() -> None:
    # A run without --policy does not check the shipped default against the schema: it is the
    # policy checked with it, and it has no problem (test_shipped_policy_loads...).
    text = default_policy_path().read_text(encoding="utf-8")
    assert validate_policy_file(default_policy_path()) == []
    assert load_default_policy() == load_policy_text(text, "policies/default.yaml (shipped default)")


def test_strict_policy_blocks_medium_fixed_or_not_and_cvss_7() -> None:
    policy = load_policy(ROOT / "policies" / "strict.yaml")
    assert policy.fail_on == FailOn(severity=Severity.MEDIUM, fixable_only=False, cvss_score=7.0)
    assert policy.fail_on_expired is True
    assert policy.ignore_statuses == frozenset()


def test_advisory_policy_never_blocks_and_says_so() -> None:
    path = ROOT / "policies" / "advisory.yaml"
    assert load_policy(path).mode is Mode.ADVISORY
    assert "NEVER FAILS" in path.read_text(encoding="utf-8")
    # Same thresholds as the default, so that switching to enforce blocks what it reported.
    assert load_policy(path).fail_on == load_default_policy().fail_on


DOCS = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
FENCES = re.findall(r"^```(\w*)\n(.*?)^```$", DOCS, flags=re.MULTILINE | re.DOTALL)
DOC_POLICIES = [body for lang, body in FENCES if lang == "yaml" and body.startswith("version: 1")]


def test_docs_have_policy_examples() -> None:
    assert len(DOC_POLICIES) >= 5


@pytest.mark.parametrize("text", DOC_POLICIES, ids=lambda t: t.splitlines()[1] if "\n" in t.strip() else t)
def test_docs_example_loads(text: str) -> None:
    load_policy_text(text, "docs/policy.md")


def test_docs_error_example_prints_what_the_docs_say() -> None:
    index = next(
        i for i, (lang, body) in enumerate(FENCES) if body.startswith("# policy.yaml, with mistakes")
    )
    assert FENCES[index + 1][0] == "text"
    assert problems_in(FENCES[index][1]) == FENCES[index + 1][1].splitlines()


def test_every_message_the_docs_quote_is_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    documented = set(re.findall(r"^\| [^|]+ \| `(policy\.yaml[:][^`]*)` \|$", DOCS, flags=re.MULTILINE))
    produced = {message for param in MISTAKES for message in param.values[1]}  # type: ignore[union-attr]
    produced |= {message for _, message in EXPLOIT_MISTAKES}
    monkeypatch.chdir(tmp_path)
    path = Path("policy.yaml")
    produced.update(validate_policy_file(path))
    path.write_bytes(b"\xff")
    produced.update(validate_policy_file(path))
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    produced.update(validate_policy_file(path))
    assert len(documented) >= 25
    assert documented <= produced, documented - produced


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads((ROOT / "policies" / "schema.json").read_text(encoding="utf-8")) == schema()


def _object_schemas(node: dict[str, Any], where: str) -> list[tuple[str, dict[str, Any]]]:
    found = [(where, node)] if node.get("type") == "object" else []
    for key, child in node.get("properties", {}).items():
        found += _object_schemas(child, f"{where}.{key}")
    if "items" in node:
        found += _object_schemas(node["items"], f"{where}[]")
    return found


def test_schema_closes_every_object_and_describes_every_property() -> None:
    objects = _object_schemas(schema(), "$")
    assert [where for where, _ in objects] == [
        "$",
        "$.fail_on",
        "$.fail_on.budgets",
        "$.allowlist[]",
        "$.base_image",
        "$.base_image.fail_on",
        "$.baseline",
        "$.exploit_data",
    ]
    for where, node in objects:
        assert node["additionalProperties"] is False, where
        for key, prop in node["properties"].items():
            assert prop.get("description"), f"{where}.{key}"


VALID = [
    {"version": 1},
    {"version": 1, "fail_on": {"severity": "LOW", "budgets": {"UNKNOWN": 0}}, "mode": "advisory"},
    {"version": 1, "allowlist": [{"vulnerability": "CVE-1", "reason": "r", "expires": "2027-02-28"}]},
    {
        "version": 1,
        "base_image": {"fail_on": {"severity": "CRITICAL", "fixable_only": True, "cvss_score": 9}},
    },
    {"version": 1, "base_image": {"max_age_days": 0, "on_stale": "fail"}},
    {
        "version": 1,
        "base_image": {},
        "allowlist": [{"vulnerability": "CVE-1", "reason": "r", "origin": "own"}],
    },
    {"version": 1, "lenient_severity": True, "base_image": {"fail_on": {"severity": "LOW"}}},
]
INVALID = [
    {"version": 1, "fail_on": {"budgets": {"HIGH": True}}},
    {"version": 1, "allowlist": [{"vulnerability": "CVE-1", "reason": "r", "expires": "2027-02-29"}]},
    {"version": 1, "allowlist": [{"vulnerability": "CVE 1", "reason": "r"}]},
    {"version": 1, "ignore_statuses": ["FIXED"]},
    {"version": 1, "extra": 1},
    {"version": 1, "base_image": {"fail_on": {"budgets": {"HIGH": 1}}}},
    {"version": 1, "base_image": {"fail_on": {"cvss_score": 10.5}}},
    {"version": 1, "base_image": {"max_age_days": -3}},
    {"version": 1, "base_image": {"on_stale": "ignore"}},
    {"version": 1, "allowlist": [{"vulnerability": "CVE-1", "reason": "r", "origin": "unknown"}]},
    {"version": 1, "lenient_severity": "yes"},
    {"version": 1, "base_image": {"lenient_severity": True}},
]


@pytest.mark.parametrize(("instance", "valid"), [(i, True) for i in VALID] + [(i, False) for i in INVALID])
def test_schema_and_loader_agree(instance: dict[str, Any], valid: bool) -> None:
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    assert validator.is_valid(instance) is valid
    assert (validate_text(yaml.safe_dump(instance)) == []) is valid


def test_yaml_1_1_booleans_are_booleans_as_the_docs_say() -> None:
    # The error table's "wrong type" example must be one a reader can write and get: `yes` is not.
    assert (
        load_policy_text("version: 1\nfail_on:\n  fixable_only: yes\n", "p.yaml").fail_on.fixable_only is True
    )
    assert (
        "YAML 1.1 also reads `yes`/`no`/`on`/`off` as booleans" in (ROOT / "docs" / "policy.md").read_text()
    )


AS_REPORT = "check takes it as REPORT, and the policy with --policy"
AS_VEX = "give it with --vex, or list it under the policy's vex:"
OTHER_DOCUMENTS = [
    pytest.param(("trivy", "debian-stretch.json.golden"), "a Trivy report", AS_REPORT, id="trivy"),
    pytest.param(("grype", "anchore-grype__ghsa-test.json"), "a Grype report", AS_REPORT, id="grype"),
    pytest.param(
        ("snyk", "snyk-cli__test-acceptance-fail-on-docker-fixable__vulns.json"),
        "a vulnerability report",
        AS_REPORT,
        id="snyk",
    ),
    pytest.param(
        ("vex", "aquasecurity-trivy__pkg-vex-testdata-openvex.json"),
        "an OpenVEX document",
        AS_VEX,
        id="openvex",
    ),
    pytest.param(
        ("vex", "aquasecurity-trivy__pkg-vex-testdata-cyclonedx.json"),
        "a CycloneDX document",
        AS_VEX,
        id="cdx",
    ),
    pytest.param(
        ("vex", "aquasecurity-trivy__pkg-vex-testdata-csaf.json"), "a CSAF document", AS_VEX, id="csaf"
    ),
    pytest.param(
        ("sarif-in", "aquasecurity-trivy__alpine-310.sarif.golden"),
        "a SARIF log",
        "the gate writes it with --sarif; it reads scanners' JSON reports",
        id="sarif",
    ),
    pytest.param(
        (
            "gitlab",
            "DefectDojo-django-DefectDojo__gitlab_container_scan__gl-container-scanning-report-5-vuln_v15.json",
        ),
        "a GitLab security report",
        "the gate writes it with --gitlab; it reads scanners' reports",
        id="gitlab",
    ),
]


@pytest.mark.parametrize(("where", "what", "hint"), OTHER_DOCUMENTS)
def test_a_report_given_as_the_policy_is_one_line_saying_what_it_is(
    where: tuple[str, str], what: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `check policy.yaml --policy report.json`, arguments swapped: JSON is YAML, and each of the
    # report's keys was an unknown key of its own, with suggestions ('SchemaVersion': did you mean
    # 'version'?) that pointed away from the mistake.
    report = corpus_file(*where)
    said = f"{report}:1: this is {what}, not a policy, which starts with 'version: 1' ({hint})"
    assert validate_policy_file(report) == [said]
    # The policy where the report goes: the policy is read first, and it is the report.
    assert (
        cli_main(["check", str(default_policy_path()), "--policy", str(report), "--ci", "none"])
        == ExitCode.USAGE
    )
    assert capsys.readouterr().err.splitlines() == [f"container-gate: error: {said}"]


@pytest.mark.parametrize("path", corpus_files("ignore-files"), ids=lambda path: path.name)
def test_a_scanners_ignore_file_given_as_the_policy_is_one_line_saying_what_it_is(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Someone moving exceptions to the gate gives the scanner's file as the policy: a .trivyignore
    # was "invalid YAML: expected '<document start>'" (or "expected a mapping of policy keys, got
    # 'CVE-2020-25576 CVE-2019-15551'"), a .trivyignore.yaml or .grype.yaml an unknown key for each
    # of its keys and a missing version, none saying what the file was.
    said = validate_policy_file(path)
    if path.name.endswith("trivy.yaml"):
        what, end = (
            "a Trivy configuration (trivy.yaml)",
            SCANNER_CONFIG.format(scanner="Trivy", command="trivy"),
        )
    else:
        what = (
            "a Grype configuration (.grype.yaml)"
            if "grype" in path.name
            else "a Trivy ignore file (.trivyignore"
        )
        end = IGNORE_FILE
    assert len(said) == 1
    assert said[0].startswith(f"{path}:1: this is {what}")
    assert said[0].endswith(end)
    report = corpus_file("trivy", "debian-buster.json.golden")
    assert cli_main(["check", str(report), "--policy", str(path), "--ci", "none"]) == ExitCode.USAGE
    assert capsys.readouterr().err.splitlines() == [f"container-gate: error: {said[0]}"]


def test_a_word_alone_or_a_policy_with_a_scanners_key_is_not_taken_for_an_ignore_file() -> None:
    assert problems_in("version\n") == ["policy.yaml:1: expected a mapping of policy keys, got 'version'"]
    assert problems_in("version: 1\nignore: []\n") == [
        "policy.yaml:2: ignore: unknown key (expected one of version, mode, fail_on, ignore_statuses, allowlist,"
        " fail_on_expired, lenient_severity, base_image, baseline, vex, exploit_data, ignore_suspects)"
    ]


@pytest.mark.parametrize(("member", "what"), OTHER_REPORT_DOCUMENTS)
def test_every_document_the_report_reader_names_is_named_as_the_policy_too(member: str, what: str) -> None:
    # One table names them for both readers: a document `check` tells apart when it is given as
    # a report (an SPDX SBOM too) is told apart when it is given as the policy.
    # A CycloneDX document is named as VEX by its vulnerabilities, else as an SBOM.
    document: dict[str, list[object]] = (
        {member: [], "vulnerabilities": []} if member == "bomFormat" else {member: []}
    )
    said = problems_in(json.dumps(document) + "\n")
    assert len(said) == 1
    assert said[0].startswith(
        f"policy.yaml:1: this is {what}, not a policy, which starts with 'version: 1' ("
    )


def test_a_decision_report_given_as_the_policy_says_so(tmp_path: Path) -> None:
    decision = tmp_path / "gate.json"
    report = corpus_file("trivy", "debian-stretch.json.golden")
    assert cli_main(["check", str(report), "--json", str(decision), "--ci", "none", "-q"]) == ExitCode.PASS
    assert validate_policy_file(decision) == [
        f"{decision}:1: this is a container-gate decision report, not a policy, which starts with 'version: 1' "
        "(give it as REPORT, or with --baseline)"
    ]


@pytest.mark.parametrize(
    ("sbom", "what"),
    [
        (
            {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []},
            "a CycloneDX SBOM",
        ),
        ({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": []}, "an SPDX document"),
    ],
    ids=["cyclonedx", "spdx"],
)
def test_an_sbom_given_as_the_policy_is_not_sent_to_vex(
    sbom: dict[str, object], what: str, tmp_path: Path
) -> None:
    # A CycloneDX document without vulnerabilities is an SBOM, which --vex refuses in turn; an SPDX
    # one was an unknown key per member, and no 'version'.
    path = tmp_path / "sbom.json"
    path.write_text(json.dumps(sbom), encoding="utf-8")
    assert validate_policy_file(path) == [
        f"{path}:1: this is {what}, not a policy, which starts with 'version: 1' (the gate reads no SBOM: "
        "scan it with a scanner, such as trivy sbom, and give its JSON report as REPORT)"
    ]


def test_a_policy_with_a_key_a_report_has_is_still_judged_as_a_policy() -> None:
    assert problems_in("version: 1\nallowlist: []\nmatches: []\n") == [
        f"policy.yaml:3: matches: unknown key (expected one of {TOP_KEYS})"
    ]


@pytest.mark.parametrize(
    "key",
    [
        "SchemaVersion",
        "matches",
        "catalogVersion",
        "vulnerabilities",
        "statements",
        "scan",
        "runs",
        "document",
    ],
)
def test_a_json_policy_with_version_1_and_a_key_a_report_has_is_a_policy_with_an_unknown_key(
    key: str,
) -> None:
    # `version: 1` is the line a policy starts with, and none of these documents has it: the
    # policy's own error about the stray key says what to change, not "this is a Grype report".
    said = problems_in(json.dumps({"version": 1, "ignore": ["will_not_fix"], key: []}) + "\n")
    assert f"policy.yaml:1: ignore: unknown key (expected one of {TOP_KEYS})" in said
    assert [problem for problem in said if problem.startswith(f"policy.yaml:1: {key}: unknown key (")]
    assert len(said) == 2


@pytest.mark.parametrize(
    ("document", "what"),
    [
        ({"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}, "an OpenVEX document"),
        ({"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": []}, "a CycloneDX document"),
    ],
)
def test_a_document_with_a_version_1_of_its_own_is_still_named(
    document: dict[str, object], what: str
) -> None:
    said = problems_in(json.dumps({"version": 1, **document}) + "\n")
    assert len(said) == 1
    assert said[0].startswith(f"policy.yaml:1: this is {what}, not a policy")


@pytest.mark.parametrize("key", ["vulnerabilities", "matches", "statements", "scan", "runs", "document"])
def test_a_yaml_policy_with_only_a_key_a_report_has_is_a_policy_with_an_unknown_key(key: str) -> None:
    # Written for `allowlist:` in a policy of its own, not a report given as the policy.
    assert problems_in(f"version: 1\n{key}:\n  - CVE-2019-5094\n") == [
        f"policy.yaml:2: {key}: unknown key (expected one of {TOP_KEYS})"
    ]
