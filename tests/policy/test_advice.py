"""Valid policies that cannot fail the gate on a fixable finding: `policy validate` and every output
of a run under them say so (gate/policy/advice.py)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.policy.load import load_policy_text
from tests.support.corpus import corpus_file

RUNNING_EXAMPLE = corpus_file("trivy", "alpine-39-high-critical.json.golden")

MARKERS = (
    "never fails the gate",
    "has a fixed version is ignored",
    "has not fixed yet",
    "tolerates more CRITICAL",
    "a finding the image adds never fails",
)

CASES = [
    pytest.param(
        "mode: advisory\n",
        "mode: advisory: this policy never fails the gate, findings that would block are only reported "
        "(set mode: enforce to block them)",
        ExitCode.PASS,
        id="advisory",
    ),
    pytest.param(
        "ignore_statuses: [fixed]\n",
        "ignore_statuses lists fixed: every finding that has a fixed version is ignored, so the gate "
        "cannot block a finding you can fix",
        ExitCode.PASS,
        id="ignore-fixed",
    ),
    pytest.param(
        "ignore_statuses: [affected]\n",
        "ignore_statuses lists affected: every finding the vendor has not fixed yet is ignored, "
        "whatever its severity",
        ExitCode.FAIL,  # the running example's findings are fixed, so they still block
        id="ignore-affected",
    ),
    pytest.param(
        "fail_on:\n  severity: HIGH\n  budgets: {HIGH: 5000, CRITICAL: 5000}\n",
        "fail_on.budgets.CRITICAL: 5000 tolerates more CRITICAL findings than an image has: CRITICAL "
        "findings never fail the gate",
        ExitCode.PASS,
        id="huge-budgets",
    ),
    pytest.param(
        "baseline:\n  fail_on: [worse]\n",
        "baseline.fail_on does not list new: when a run has a baseline, a finding the image adds never "
        "fails the gate",
        ExitCode.FAIL,  # without a baseline the full policy applies
        id="baseline-without-new",
    ),
]


@pytest.mark.parametrize(("keys", "warning", "code"), CASES)
def test_policy_validate_warns_and_still_says_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], keys: str, warning: str, code: ExitCode
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\n" + keys, encoding="utf-8")
    assert cli.main(["policy", "validate", str(policy)]) == ExitCode.PASS
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{policy}: valid policy (version 1)"
    assert f"warning: {policy}: {warning}" in out[1:]


@pytest.mark.parametrize(("keys", "warning", "code"), CASES)
def test_the_warning_names_no_option(keys: str, warning: str, code: ExitCode) -> None:
    """A policy's warning reads the same in `policy validate` and in the runs of the action and
    the GitLab templates, whose users type no option."""
    said = load_policy_text("version: 1\n" + keys, "p.yaml").warnings
    assert f"p.yaml: {warning}" in said
    assert not [line for line in said if "--" in line]


@pytest.mark.parametrize(("keys", "warning", "code"), CASES)
def test_every_output_carries_the_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], keys: str, warning: str, code: ExitCode
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\n" + keys, encoding="utf-8")
    said = f"{policy}: {warning}"
    out = {kind: tmp_path / f"out.{kind}" for kind in ("json", "markdown", "gitlab", "sarif", "junit")}
    argv = ["check", str(RUNNING_EXAMPLE), "--policy", str(policy), "--ci", "none"]
    for kind, path in out.items():
        argv += [f"--{kind}", str(path)]
    assert cli.main(argv) == code
    assert f"warning:  {said}" in capsys.readouterr().out.splitlines()
    assert said in json.loads(out["json"].read_text())["warnings"]
    # Markdown escapes punctuation and cuts long notices: words of the warning without any.
    marker = next(m for m in MARKERS if m in warning)
    assert marker in out["markdown"].read_text()
    assert said in [m["value"] for m in json.loads(out["gitlab"].read_text())["scan"]["messages"]]
    assert said in json.loads(out["sarif"].read_text())["runs"][0]["properties"]["warnings"]
    properties = ET.parse(out["junit"]).getroot().iter("property")  # noqa: S314 - the gate's own output
    assert said in [p.get("value") for p in properties if p.get("name") == "warning"]


def test_a_policy_that_can_block_has_no_warning() -> None:
    assert load_policy_text("version: 1\nfail_on: {budgets: {HIGH: 3}}\n", "p.yaml").warnings == ()
    assert load_policy_text("version: 1\nignore_statuses: [will_not_fix]\n", "p.yaml").warnings == ()
    assert load_policy_text("version: 1\nbaseline: {fail_on: [new]}\n", "p.yaml").warnings == ()


def test_budgets_are_judged_against_the_base_image_threshold_too() -> None:
    # Budgets count every finding: a base image threshold below fail_on makes MEDIUM block there.
    keys = (
        "fail_on:\n  severity: HIGH\n  budgets: {MEDIUM: 5000}\nbase_image:\n  fail_on: {severity: MEDIUM}\n"
    )
    assert load_policy_text("version: 1\n" + keys, "p.yaml").warnings == (
        "p.yaml: fail_on.budgets.MEDIUM: 5000 tolerates more MEDIUM findings than an image has: MEDIUM "
        "findings never fail the gate",
    )


def test_findings_the_base_image_threshold_can_block_are_no_budget_dead_end() -> None:
    huge = "fail_on:\n  severity: HIGH\n  budgets: {HIGH: 5000, CRITICAL: 5000}\n"
    # A lower base image severity, or its own CVSS score, can still fail the gate.
    for base in ("{severity: MEDIUM}", "{severity: CRITICAL, cvss_score: 9.0}"):
        text = f"version: 1\n{huge}base_image:\n  fail_on: {base}\n"
        assert not any("no finding can fail" in w for w in load_policy_text(text, "p.yaml").warnings)
    alone = load_policy_text(f"version: 1\n{huge}", "p.yaml").warnings
    assert "p.yaml: fail_on: with these budgets no finding can fail the gate" in alone


REPEATED = """\
version: 1
allowlist:
  - vulnerability: CVE-2019-18224
    package: libidn2
    reason: "not reachable"
  - vulnerability: CVE-2019-18276
    reason: "another one"
  - vulnerability: cve-2019-18224
    package: libidn2
    reason: "copied from another policy"
"""


def test_a_repeated_allowlist_entry_is_a_warning_naming_both_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Matching ignores the id's case, so the third entry never matches: every run says "unused".
    policy = tmp_path / "policy.yaml"
    policy.write_text(REPEATED, encoding="utf-8")
    said = (
        f"{policy}: allowlist[2] (line 8): repeats allowlist[0] (line 3), which always matches first: "
        "every run reports this one unused; remove one of them"
    )
    assert cli.main(["policy", "validate", str(policy)]) == ExitCode.PASS
    assert capsys.readouterr().out.splitlines() == [f"{policy}: valid policy (version 1)", f"warning: {said}"]
    out = tmp_path / "gate.json"
    argv = ["check", str(RUNNING_EXAMPLE), "--policy", str(policy), "--ci", "none", "--json", str(out)]
    assert cli.main(argv) == ExitCode.FAIL
    assert said in json.loads(out.read_text())["warnings"]


@pytest.mark.parametrize(
    "second",
    [
        "package: libidn2-0",  # another package
        "package: libidn2\n    expires: 2030-01-31",  # applies for another time
        "package: libidn2\n    path: usr/lib/**",  # narrower
        "package: libidn2\n    origin: base",
    ],
)
def test_entries_that_differ_in_what_they_match_are_no_repeat(second: str) -> None:
    text = (
        "version: 1\nallowlist:\n"
        "  - vulnerability: CVE-2019-18224\n    package: libidn2\n    reason: r\n"
        f"  - vulnerability: CVE-2019-18224\n    {second}\n    reason: r\n"
    )
    assert load_policy_text(text, "p.yaml").warnings == ()


@pytest.mark.parametrize(
    ("package", "fix"),
    [
        ("libidn2-0@2.0.5-1", "package: 'libidn2-0' and version: '2.0.5-1'"),
        ("libidn2-0=2.0.5-1", "package: 'libidn2-0' and version: '2.0.5-1'"),
        ("libidn2-0 2.0.5-1", "package: 'libidn2-0' and version: '2.0.5-1'"),
        ("requests==2.31.0", "package: 'requests' and version: '2.31.0'"),
        ("@babel/core@7.1.0", "package: '@babel/core' and version: '7.1.0'"),
        ("golang.org/x/net@v0.17.0", "package: 'golang.org/x/net' and version: 'v0.17.0'"),
    ],
)
def test_a_package_with_a_version_in_its_name_is_a_warning_saying_what_to_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], package: str, fix: str
) -> None:
    # A package is compared by its name: the entry never matches, and the finding it was written
    # for keeps blocking with nothing but "matched no finding" to say why.
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    package: {json.dumps(package)}\n"
        "    reason: not reachable\n",
        encoding="utf-8",
    )
    said = (
        f"{policy}: allowlist[0] (line 3): package {package!r} holds a version, but a package is compared "
        f"by its name alone, so this entry never matches: write {fix}"
    )
    assert cli.main(["policy", "validate", str(policy)]) == ExitCode.PASS
    assert capsys.readouterr().out.splitlines() == [f"{policy}: valid policy (version 1)", f"warning: {said}"]
    out = tmp_path / "gate.json"
    argv = ["check", str(corpus_file("trivy", "debian-buster.json.golden")), "--policy", str(policy)]
    assert cli.main([*argv, "--ci", "none", "--json", str(out)]) == ExitCode.FAIL
    assert said in json.loads(out.read_text())["warnings"]


def test_a_package_with_a_version_already_set_is_told_only_the_name() -> None:
    text = (
        "version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    package: libidn2-0@2.0.5-1\n"
        '    version: "2.0.5-1"\n    reason: r\n'
    )
    [warning] = load_policy_text(text, "p.yaml").warnings
    assert warning.endswith("so this entry never matches: write package: 'libidn2-0'")


@pytest.mark.parametrize(
    ("key", "value", "fix"),
    [
        ("package", "e2fsprogs ", "e2fsprogs"),
        ("package", "libidn2-0\u00a0", "libidn2-0"),  # a no-break space, copied from a web page
        ("package", "libidn2-0\t", "libidn2-0"),  # (a blank before a name is refused as no name)
        ("version", "2.0.5-1 ", "2.0.5-1"),
        ("version", " 2.0.5-1", "2.0.5-1"),
    ],
)
def test_a_package_or_version_with_a_blank_around_it_is_a_warning_saying_what_to_write(
    key: str, value: str, fix: str
) -> None:
    # Quoted, YAML keeps the blanks; a package's name or version is compared exactly, so the entry
    # never matches and the finding it was written for keeps blocking.
    text = (
        f"version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    {key}: {json.dumps(value)}\n"
        "    reason: r\n"
    )
    assert load_policy_text(text, "p.yaml").warnings == (
        f"p.yaml: allowlist[0] (line 3): {key} {value!r} starts or ends with a blank, but a {key} is "
        f"compared exactly, so this entry never matches: write {key}: {fix!r}",
    )


@pytest.mark.parametrize(
    ("key", "value", "said", "fix"),
    [
        ("package", "zlib1g\u200b", "U+200B", "zlib1g"),  # a zero-width space copied from a web page
        ("package", "lib\u00adidn2-0", "U+00AD", "libidn2-0"),  # a soft hyphen
        ("version", "\ufeff2.0.5-1", "U+FEFF", "2.0.5-1"),  # a byte order mark from a pasted file
        ("version", "2.0.5-1\u200b ", "U+200B", "2.0.5-1"),  # and a blank: one warning, both gone
    ],
)
def test_a_package_or_version_with_an_invisible_character_is_a_warning_saying_what_to_write(
    key: str, value: str, said: str, fix: str
) -> None:
    # As for the vulnerability id: a name or version compared exactly, which no scanner writes so.
    text = (
        f"version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    {key}: {json.dumps(value)}\n"
        "    reason: r\n"
    )
    assert load_policy_text(text, "p.yaml").warnings == (
        f"p.yaml: allowlist[0] (line 3): {key} {value!r} holds an invisible character ({said}), but a "
        f"{key} is compared exactly, so this entry never matches: write {key}: {fix!r}",
    )


def test_a_package_url_with_a_blank_after_it_is_no_warning() -> None:
    # A package URL is parsed before it is compared, which drops the blank: it matches.
    text = (
        "version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n"
        '    package: "pkg:deb/debian/libidn2-0 "\n    reason: r\n'
    )
    assert load_policy_text(text, "p.yaml").warnings == ()


def test_a_package_with_a_version_and_a_blank_is_told_the_name_alone() -> None:
    text = 'version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    package: "libidn2-0@2.0.5-1 "\n    reason: r\n'
    [warning] = load_policy_text(text, "p.yaml").warnings
    assert warning.endswith("so this entry never matches: write package: 'libidn2-0' and version: '2.0.5-1'")


@pytest.mark.parametrize(
    "package",
    [
        "libidn2-0",
        "@babel/core",  # an npm scope
        "org.springframework:spring-beans",  # Maven's group:artifact
        "pkg:deb/debian/libidn2-0@2.0.5-1",  # a package URL carries its version
        "python3.11",
        "libstdc++6",
    ],
)
def test_a_package_name_without_a_version_is_no_warning(package: str) -> None:
    text = f"version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    package: {json.dumps(package)}\n    reason: r\n"
    assert load_policy_text(text, "p.yaml").warnings == ()


@pytest.mark.parametrize(
    ("vulnerability", "said"),
    [
        (
            "CVE\u20132019\u201318224",  # en dashes, as a word processor writes them
            "'CVE\u20132019\u201318224' is not a CVE id (CVE-YYYY-NNNN, with ASCII hyphens), so this entry "
            "never matches: write 'CVE-2019-18224'",
        ),
        (
            "CVE\u22122019\u221218224",  # minus signs, as typeset text and some fonts' pages have them
            "'CVE\u22122019\u221218224' is not a CVE id (CVE-YYYY-NNNN, with ASCII hyphens), so this entry "
            "never matches: write 'CVE-2019-18224'",
        ),
        (
            "CVE-2019-18224\u200b",  # a zero-width space copied from a web page
            "'CVE-2019-18224\\u200b' holds an invisible character (U+200B), so this entry never matches: "
            "write 'CVE-2019-18224'",
        ),
        (
            "GHSA-9wx4-h78v\u00advm56",  # a soft hyphen
            "'GHSA-9wx4-h78v\\xadvm56' holds an invisible character (U+00AD), so this entry never matches",
        ),
        (
            "CVE-2019-18224,",
            "'CVE-2019-18224,' is not a CVE id (CVE-YYYY-NNNN, with ASCII hyphens), so this entry never "
            "matches",
        ),
        (
            "\u0421VE-2019-18224",  # a Cyrillic capital ES, which looks like a Latin C
            "'\u0421VE-2019-18224' holds a character no scanner writes in an id (U+0421 CYRILLIC CAPITAL "
            "LETTER ES), so this entry never matches: type the id in ASCII",
        ),
        (
            "GHSA-gqgv-6jq5-jjj9\u0430",  # a Cyrillic small A
            "'GHSA-gqgv-6jq5-jjj9\u0430' holds a character no scanner writes in an id (U+0430 CYRILLIC "
            "SMALL LETTER A), so this entry never matches: type the id in ASCII",
        ),
        (
            "CVE-2019-*",  # a pattern, as path and image take
            "'CVE-2019-*' is compared as an id, not as a pattern ('*' and '?' match only themselves), so "
            "this entry never matches: write one entry per id",
        ),
    ],
)
def test_a_vulnerability_id_no_scanner_writes_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], vulnerability: str, said: str
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"version: 1\nallowlist:\n  - vulnerability: {json.dumps(vulnerability)}\n    reason: not reachable\n",
        encoding="utf-8",
    )
    warning = f"{policy}: allowlist[0] (line 3): vulnerability {said}"
    assert cli.main(["policy", "validate", str(policy)]) == ExitCode.PASS
    assert capsys.readouterr().out.splitlines() == [
        f"{policy}: valid policy (version 1)",
        f"warning: {warning}",
    ]
    out = tmp_path / "gate.json"
    argv = ["check", str(corpus_file("trivy", "debian-buster.json.golden")), "--policy", str(policy)]
    assert cli.main([*argv, "--ci", "none", "--json", str(out)]) == ExitCode.FAIL
    assert warning in json.loads(out.read_text())["warnings"]


@pytest.mark.parametrize(
    "vulnerability",
    [
        "CVE-2019-18224",
        "cve-2019-18224",
        "CVE-2021-1234567",
        "GHSA-9wx4-h78v-vm56",
        "DSA-4535-1",
        "RHSA-2019:2304",
    ],
)
def test_an_id_as_scanners_write_it_is_no_warning(vulnerability: str) -> None:
    text = f"version: 1\nallowlist:\n  - vulnerability: {json.dumps(vulnerability)}\n    reason: r\n"
    assert load_policy_text(text, "p.yaml").warnings == ()


@pytest.mark.parametrize(
    ("package", "fix"),
    [
        # A zero-width space and a no-break space between a name and its version: both go, and
        # what is left is a name and a version.
        ("libidn2-0\u200b\u00a02.0.5-1", "package: 'libidn2-0' and version: '2.0.5-1'"),
        ("libidn2-0\u00a02.0.5-1", "package: 'libidn2-0' and version: '2.0.5-1'"),
        ("libidn2-0\u202f2.0.5-1", "package: 'libidn2-0' and version: '2.0.5-1'"),  # a narrow one
    ],
)
def test_a_package_with_odd_spaces_and_a_version_is_told_the_name_and_the_version(
    package: str, fix: str
) -> None:
    text = f"version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    package: {json.dumps(package)}\n    reason: r\n"
    assert load_policy_text(text, "p.yaml").warnings == (
        f"p.yaml: allowlist[0] (line 3): package {package!r} holds a version, but a package is compared "
        f"by its name alone, so this entry never matches: write {fix}",
    )


@pytest.mark.parametrize(
    ("package", "said"),
    [
        ("lib\u00a0idn2-0", "U+00A0"),  # a no-break space copied from a web page
        ("lib\u00a0idn2-0\u200b", "U+00A0"),  # and an invisible character: the name still has a blank
        ("lib\u3000idn2-0", "U+3000"),  # an ideographic space
        ("openssl libs", "U+0020"),
    ],
)
def test_a_package_with_a_blank_inside_is_a_warning_that_offers_no_name_with_the_blank(
    package: str, said: str
) -> None:
    # No scanner's name has a blank; the name meant cannot be told, and the one with the blank
    # kept (shown as 'lib\xa0idn2-0', which YAML reads as a backslash between single quotes) is
    # never the name to write.
    text = f"version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    package: {json.dumps(package)}\n    reason: r\n"
    assert load_policy_text(text, "p.yaml").warnings == (
        f"p.yaml: allowlist[0] (line 3): package {package!r} holds a blank inside ({said}), but no package "
        "name has one and a package is compared exactly, so this entry never matches: write the name as "
        "the scanner reports it",
    )


def test_a_version_to_write_with_an_odd_space_is_written_as_yaml_reads_it() -> None:
    # Between single quotes YAML reads '\xa0' as four characters; between double quotes, as the
    # no-break space itself.
    text = 'version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    version: "2.0\\u00a05\\u200b"\n    reason: r\n'
    [warning] = load_policy_text(text, "p.yaml").warnings
    fix = '"2.0\\u00a05"'
    assert warning.endswith(f"write version: {fix}")
    assert yaml.safe_load(f"version: {fix}") == {"version": "2.0\u00a05"}


def _alias_warnings(report_path: Path, policy_text: str) -> list[str]:
    from gate.policy.evaluate import evaluate
    from gate.scanners.ingest import load_report
    from tests.support.factories import NOW

    policy = load_policy_text(policy_text, "p.yaml")
    evaluation = evaluate(load_report(report_path), policy, NOW)
    return [w for w in evaluation.warnings if "alias" in w]


def test_an_entry_naming_an_alias_shared_by_two_cves_is_said_to_clear_both() -> None:
    # Snyk's report gives GHSA-gqgv-6jq5-jjj9 as an id of CVE-2014-7191 and of CVE-2017-1000048,
    # both in qs 0.4.2: an entry written for one clears the other too.
    snyk = corpus_file("snyk", "container-app-vulns__results.json")
    entry = "version: 1\nallowlist:\n  - vulnerability: GHSA-gqgv-6jq5-jjj9\n    package: qs\n    reason: r\n"
    assert _alias_warnings(snyk, entry) == [
        "p.yaml: allowlist[0] (line 3): names GHSA-gqgv-6jq5-jjj9, an alias of findings of 2 CVEs "
        "(CVE-2014-7191, CVE-2017-1000048), and clears them all: to accept one, name its CVE in an "
        "entry of its own"
    ]
    # Named by one of its CVEs, each entry clears its own finding only: nothing to say.
    by_cve = "".join(
        f"  - vulnerability: {cve}\n    reason: r\n" for cve in ("CVE-2014-7191", "CVE-2017-1000048")
    )
    assert _alias_warnings(snyk, f"version: 1\nallowlist:\n{by_cve}") == []


def test_an_advisory_of_several_cves_is_said_but_one_of_a_single_cve_is_not() -> None:
    # RHSA-2019:2304 fixes CVE-2019-1559 and CVE-2018-0734 in Trivy's CentOS 7 report.
    centos = corpus_file("trivy", "centos-7.json.golden")
    rhsa = "version: 1\nallowlist:\n  - vulnerability: RHSA-2019:2304\n    reason: r\n"
    assert [w.split(": ", 2)[2] for w in _alias_warnings(centos, rhsa)] == [
        "names RHSA-2019:2304, an alias of findings of 2 CVEs (CVE-2018-0734, CVE-2019-1559), and "
        "clears them all: to accept one, name its CVE in an entry of its own"
    ]
    # DSA-4613-1 is the advisory of one CVE in Trivy's Debian report.
    buster = corpus_file("trivy", "debian-buster.json.golden")
    dsa = "version: 1\nallowlist:\n  - vulnerability: DSA-4613-1\n    reason: r\n"
    assert _alias_warnings(buster, dsa) == []


def test_a_cve_entry_clearing_a_finding_of_several_cves_is_said() -> None:
    from gate.model import ScanReport
    from gate.policy.evaluate import evaluate
    from tests.support.factories import NOW, finding

    # Grype names a GitHub advisory by its GHSA id, with every CVE it covers as an alias.
    ghsa = finding("GHSA-aaaa-bbbb-cccc", aliases=("CVE-2024-0001", "CVE-2024-0002"))
    policy = load_policy_text(
        "version: 1\nallowlist:\n  - vulnerability: cve-2024-0001\n    reason: r\n", "p.yaml"
    )
    evaluation = evaluate(ScanReport(findings=(ghsa,)), policy, NOW)
    assert evaluation.warnings == (
        "p.yaml: allowlist[0] (line 3): names cve-2024-0001, and a finding it clears stands for "
        "CVE-2024-0002 too, which the entry then clears as well: say in its reason that they are "
        "accepted, or narrow it (package, version) to the findings meant",
    )
    # A Snyk issue of two CVEs has the first as its main id and the other as an alias: an entry
    # naming the main one clears the other all the same.
    snyk = finding("CVE-2024-0001", aliases=("SNYK-DEBIAN12-X-1", "CVE-2024-0002"))
    assert evaluate(ScanReport(findings=(snyk,)), policy, NOW).warnings == evaluation.warnings
    # The GHSA id itself names the finding as the report does: nothing to say.
    by_ghsa = load_policy_text(
        "version: 1\nallowlist:\n  - vulnerability: GHSA-aaaa-bbbb-cccc\n    reason: r\n", "p.yaml"
    )
    assert evaluate(ScanReport(findings=(ghsa,)), by_ghsa, NOW).warnings == ()


@pytest.mark.parametrize("package", ["lib*", "libidn?-0", "pkg:deb/debian/*", "pkg:deb/debian/libidn2-0@*"])
def test_a_package_written_as_a_pattern_is_a_warning(package: str) -> None:
    text = f"version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    package: {json.dumps(package)}\n    reason: r\n"
    assert load_policy_text(text, "p.yaml").warnings == (
        f"p.yaml: allowlist[0] (line 3): package {package!r} is compared exactly, not as a pattern (path "
        "and image are globs, package is not), so this entry never matches: write one entry per package",
    )


def test_a_package_url_with_qualifiers_is_no_pattern() -> None:
    text = (
        "version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n"
        "    package: pkg:deb/debian/libidn2-0?arch=amd64\n    reason: r\n"
    )
    assert load_policy_text(text, "p.yaml").warnings == ()


@pytest.mark.parametrize("glob", ["**", "*", "**/*"])
def test_a_path_glob_that_matches_a_package_without_a_path_is_said(glob: str) -> None:
    # libidn2-0 in Trivy's debian-buster report is an OS package: it has no path.
    buster = corpus_file("trivy", "debian-buster.json.golden")
    text = f"version: 1\nallowlist:\n  - vulnerability: CVE-2019-18224\n    path: {json.dumps(glob)}\n    reason: r\n"
    from gate.policy.evaluate import evaluate
    from gate.scanners.ingest import load_report
    from tests.support.factories import NOW

    evaluation = evaluate(load_report(buster), load_policy_text(text, "p.yaml"), NOW)
    assert [w for w in evaluation.warnings if "path" in w] == [
        f"p.yaml: allowlist[0] (line 3): path {glob!r} matches the empty path of packages that have none "
        "(OS packages: libidn2-0), so the entry clears their findings too: leave path out to mean them, "
        "or write a glob that needs a path (usr/lib/**, **/*.jar)"
    ]


def test_a_path_glob_matching_packages_found_at_a_path_is_no_warning() -> None:
    # The Java archive of Trivy's spring4shell report is found at a path under usr/local/tomcat.
    report = corpus_file("trivy", "spring4shell-jre11.json.golden")
    text = "version: 1\nallowlist:\n  - vulnerability: CVE-2022-22965\n    path: '**'\n    reason: r\n"
    from gate.policy.evaluate import evaluate
    from gate.scanners.ingest import load_report
    from tests.support.factories import NOW

    evaluation = evaluate(load_report(report), load_policy_text(text, "p.yaml"), NOW)
    assert [d.disposition.value for d in evaluation.decisions] == ["allowlisted"]
    assert evaluation.warnings == ()
