"""Every way a VEX file can be refused, each a one-line error naming the file, where and what was
expected (exit 2, like an unreadable report)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gate.enrich.vex import load_vex, parse_vex
from gate.errors import ExitCode, ReportError
from tests.support.corpus import corpus_file, corpus_files
from tests.support.messages import lone_surrogate
from tests.support.repo_paths import PROJECT_ROOT
from tests.support.vex_documents import OPENVEX_CONTEXT, openvex_document


def good(**changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "vulnerability": {"name": "CVE-2024-0001"},
        "products": [{"@id": "pkg:deb/debian/bash"}],
        "status": "not_affected",
        "justification": "component_not_present",
    }
    statement.update(changes)
    return {key: value for key, value in statement.items() if value is not None}


def csaf(**vulnerability: Any) -> dict[str, Any]:
    return {
        "document": {"category": "csaf_vex", "publisher": {"name": "ACME"}, "tracking": {"id": "1"}},
        "product_tree": {
            "full_product_names": [
                {
                    "name": "bash",
                    "product_id": "BASH",
                    "product_identification_helper": {"purl": "pkg:deb/debian/bash"},
                }
            ]
        },
        "vulnerabilities": [{"cve": "CVE-2024-0001", **vulnerability}],
    }


def cyclonedx(*vulnerabilities: Any, **document: Any) -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "vulnerabilities": list(vulnerabilities),
        **document,
    }


EXPECTED = (
    "expected an OpenVEX document (@context https://openvex.dev/ns/v0.2.0), a CSAF VEX document "
    "(document.category csaf_vex) or a CycloneDX VEX document (bomFormat CycloneDX with vulnerabilities)"
)

CASES: list[tuple[str, object, str]] = [
    # What the file is.
    ("not a VEX document", {}, f"top level: not a VEX document: {EXPECTED}"),
    ("a JSON array", [], f"top level: {EXPECTED}, got an array"),
    (
        "a Trivy report",
        {"SchemaVersion": 2, "Results": []},
        f"top level: not a VEX document: {EXPECTED} (this is a Trivy report)",
    ),
    (
        "a Grype report",
        {"matches": [], "source": {}},
        f"top level: not a VEX document: {EXPECTED} (this is a Grype report)",
    ),
    (
        "a SARIF log",
        {"version": "2.1.0", "runs": []},
        f"top level: not a VEX document: {EXPECTED} (this is a SARIF log)",
    ),
    (
        "an SPDX 2 SBOM",
        {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": []},
        f"top level: not a VEX document: {EXPECTED} (this is an SPDX document)",
    ),
    (
        "an SPDX 3 document",
        {"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []},
        "@context: expected an OpenVEX context (https://openvex.dev/ns/v0.2.0), got the string "
        '"https://spdx.org/rdf/3.0.1/spdx-context.jsonld" (this is an SPDX document, which is not read as VEX)',
    ),
    (
        # `syft app:1 -o json`: Syft's own format, its required members.
        "a Syft SBOM",
        {
            "artifacts": [],
            "artifactRelationships": [],
            "source": {"type": "image"},
            "descriptor": {"name": "syft", "version": "1.18.1"},
            "schema": {"version": "16.0.20"},
        },
        f"top level: not a VEX document: {EXPECTED} (this is a Syft SBOM)",
    ),
    (
        "CISA's KEV catalog",
        {"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2024.05.01"},
        f"top level: not a VEX document: {EXPECTED} (this is CISA's KEV catalog)",
    ),
    (
        "a GitLab security report",
        {"version": "15.0.7", "scan": {}, "vulnerabilities": []},
        f"top level: not a VEX document: {EXPECTED} (this is a GitLab security report)",
    ),
    (
        "the gate's decision report",
        {"schema": "container-gate/decision/v1", "verdict": "pass", "findings": []},
        f"top level: not a VEX document: {EXPECTED} (this is the gate's decision report (--json): --openvex "
        "writes its decisions as OpenVEX)",
    ),
    (
        "a CSAF advisory",
        {"document": {"category": "csaf_security_advisory"}},
        'document.category: expected "csaf_vex" (only CSAF VEX documents carry VEX), got the string "csaf_security_advisory"',
    ),
    (
        "another JSON-LD context",
        {"@context": "https://example.com/ns", "statements": []},
        '@context: expected an OpenVEX context (https://openvex.dev/ns/v0.2.0), got the string "https://example.com/ns"',
    ),
    (
        "a newer OpenVEX",
        openvex_document(good(), **{"@context": "https://openvex.dev/ns/v0.3.0"}),
        "@context: OpenVEX 0.3.0 is not supported (supported: 0.2.0, and 0.0.x of older files)",
    ),
    # OpenVEX statements.
    (
        "no statements",
        {"@context": OPENVEX_CONTEXT, "author": "x"},
        "statements: missing (an OpenVEX document has a list of statements)",
    ),
    (
        "statements not a list",
        openvex_document(statements={}),
        "statements: expected an array, got an object",
    ),
    ("statements null", openvex_document(statements=None), "statements: expected an array, got null"),
    (
        "statements empty",
        openvex_document(statements=[]),
        "statements: empty (an OpenVEX document has at least one statement)",
    ),
    (
        "statement not an object",
        openvex_document("CVE-1"),
        'statements[0]: expected an object, got the string "CVE-1"',
    ),
    (
        "no status",
        openvex_document(good(status=None)),
        "statements[0].status: missing (expected a non-empty string)",
    ),
    (
        "an unknown status",
        openvex_document(good(status="maybe")),
        'statements[0].status: expected one of not_affected, affected, fixed, under_investigation, got the string "maybe"',
    ),
    (
        "an unknown justification",
        openvex_document(good(justification="trust_me")),
        "statements[0].justification: expected one of component_not_present, vulnerable_code_not_present, "
        "vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, "
        'inline_mitigations_already_exist, got the string "trust_me"',
    ),
    (
        "no vulnerability",
        openvex_document(good(vulnerability=None)),
        "statements[0].vulnerability: missing (expected an object with a name)",
    ),
    (
        "a nameless vulnerability",
        openvex_document(good(vulnerability={"description": "bad"})),
        "statements[0].vulnerability: names no vulnerability (expected a name or an @id)",
    ),
    (
        "a vulnerability of the wrong type",
        openvex_document(good(vulnerability=7)),
        "statements[0].vulnerability: expected an object with a name (or, in OpenVEX 0.0.x, a string), got a number",
    ),
    (
        "a bad purl",
        openvex_document(good(products=[{"@id": "pkg:deb"}])),
        'statements[0].products[0].@id: expected a valid package URL (pkg:type/namespace/name@version), got the string "pkg:deb"',
    ),
    (
        "a bad purl in identifiers",
        openvex_document(good(products=[{"identifiers": {"purl": "bash"}}])),
        'statements[0].products[0].identifiers.purl: expected a valid package URL (pkg:type/namespace/name@version), got the string "bash"',
    ),
    (
        "a bad subcomponent purl",
        openvex_document(good(products=[{"@id": "pkg:oci/app", "subcomponents": [{"@id": "pkg:/x"}]}])),
        'statements[0].products[0].subcomponents[0].@id: expected a valid package URL (pkg:type/namespace/name@version), got the string "pkg:/x"',
    ),
    (
        "a product naming nothing",
        openvex_document(good(products=[{"hashes": {"sha-256": "00"}}])),
        "statements[0].products[0]: names nothing (expected an @id or identifiers)",
    ),
    (
        "a product of the wrong type",
        openvex_document(good(products=[3])),
        "statements[0].products[0]: expected an object or a string, got a number",
    ),
    (
        "a bad timestamp",
        openvex_document(good(timestamp="yesterday")),
        'statements[0].timestamp: expected an RFC 3339 date-time such as 2024-05-01T12:00:00Z, got the string "yesterday"',
    ),
    (
        "a not_affected statement that gives no reason",
        openvex_document(good(), good(justification=None, status_notes="trust us")),
        "statements[1]: not_affected without a justification or an impact_statement (OpenVEX requires one of them)",
    ),
    # CSAF.
    (
        "a known_not_affected product that gives no reason",
        csaf(
            product_status={"known_not_affected": ["BASH"]},
            threats=[{"category": "exploit_status", "details": "none known", "product_ids": ["BASH"]}],
        ),
        "vulnerabilities[0].product_status.known_not_affected[0]: product 'BASH' is known_not_affected without an "
        "impact statement (CSAF requires a flag or a threat of category impact naming it)",
    ),
    (
        "an undefined product id",
        csaf(
            product_status={"known_not_affected": ["BASH", "ZSH"]},
            flags=[{"label": "component_not_present", "product_ids": ["BASH", "ZSH"]}],
        ),
        "vulnerabilities[0].product_status.known_not_affected[1]: product id 'ZSH' is not defined in product_tree",
    ),
    (
        # Read in key order, the later status spoke: this document allowlisted the product.
        "a product both known_affected and known_not_affected",
        csaf(
            product_status={"known_affected": ["BASH"], "known_not_affected": ["BASH"]},
            flags=[{"label": "component_not_present", "product_ids": ["BASH"]}],
        ),
        "vulnerabilities[0].product_status.known_not_affected[0]: product 'BASH' is also known_affected (CSAF "
        "forbids contradicting product statuses)",
    ),
    (
        "a product both fixed and under_investigation",
        csaf(product_status={"fixed": ["BASH"], "under_investigation": ["BASH"]}),
        "vulnerabilities[0].product_status.under_investigation[0]: product 'BASH' is also fixed (CSAF forbids "
        "contradicting product statuses)",
    ),
    (
        "an unknown product status",
        csaf(product_status={"known_safe": ["BASH"]}),
        "vulnerabilities[0].product_status.known_safe: unknown product status (expected one of known_not_affected, "
        "fixed, first_fixed, known_affected, first_affected, last_affected, under_investigation, recommended)",
    ),
    (
        "an unknown flag",
        csaf(
            product_status={"known_not_affected": ["BASH"]},
            flags=[{"label": "not_needed", "product_ids": ["BASH"]}],
        ),
        "vulnerabilities[0].flags[0].label: expected one of component_not_present, vulnerable_code_not_present, "
        "vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, "
        'inline_mitigations_already_exist, got the string "not_needed"',
    ),
    (
        "an undefined group",
        csaf(
            product_status={"fixed": ["BASH"]}, flags=[{"label": "component_not_present", "group_ids": ["G"]}]
        ),
        "vulnerabilities[0].flags[0].group_ids[0]: group id 'G' is not defined in product_tree",
    ),
    (
        # A flag that names no product applies to nothing (CSAF 2.0 test 6.1.32); read as about
        # every product, it gave a known_not_affected product the reason CSAF requires of it.
        "a flag that names no product",
        csaf(product_status={"known_not_affected": ["BASH"]}, flags=[{"label": "component_not_present"}]),
        "vulnerabilities[0].flags[0]: names no product (CSAF requires product_ids or group_ids here, test "
        "6.1.32)",
    ),
    (
        "a remediation that names no product",
        csaf(
            product_status={"known_affected": ["BASH"]},
            remediations=[{"category": "no_fix_planned", "details": "end of life", "product_ids": []}],
        ),
        "vulnerabilities[0].remediations[0]: names no product (CSAF requires product_ids or group_ids here, "
        "test 6.1.29)",
    ),
    (
        "a vulnerability without ids",
        {**csaf(), "vulnerabilities": [{"product_status": {"fixed": ["BASH"]}}]},
        "vulnerabilities[0]: names no vulnerability (expected cve or ids)",
    ),
    (
        "a bad purl in the product tree",
        {
            **csaf(),
            "product_tree": {
                "full_product_names": [
                    {"name": "x", "product_id": "X", "product_identification_helper": {"purl": "x"}}
                ]
            },
        },
        "product_tree.full_product_names[0].product_identification_helper.purl: expected a valid package URL "
        '(pkg:type/namespace/name@version), got the string "x"',
    ),
    (
        "no vulnerabilities",
        {"document": {"category": "csaf_vex"}},
        "vulnerabilities: missing (a CSAF VEX document has vulnerabilities)",
    ),
    (
        "no product tree",
        {
            key: value
            for key, value in csaf(product_status={"fixed": ["BASH"]}).items()
            if key != "product_tree"
        },
        "product_tree: missing (a CSAF VEX document defines its products in product_tree, CSAF 2.0 test "
        "6.1.27.4)",
    ),
    (
        "no product tree and no product status",
        {"document": {"category": "csaf_vex"}, "vulnerabilities": [{"cve": "CVE-2024-0001"}]},
        "product_tree: missing (a CSAF VEX document defines its products in product_tree, CSAF 2.0 test "
        "6.1.27.4)",
    ),
    *(
        (
            f"a vulnerability with {name}",
            csaf(**vulnerability),
            "vulnerabilities[0].product_status: names no product under a status (a CSAF VEX vulnerability "
            "lists products under fixed, known_affected, known_not_affected or under_investigation, CSAF "
            "2.0 test 6.1.27.7)",
        )
        for name, vulnerability in (
            ("no product status", {}),
            ("a misspelt product status", {"product_statuses": {"known_not_affected": ["BASH"]}}),
            ("an empty product status", {"product_status": {}}),
            ("only an empty status", {"product_status": {"known_not_affected": []}}),
            ("only recommended products", {"product_status": {"recommended": ["BASH"]}}),
        )
    ),
    # CycloneDX.
    (
        "a CycloneDX SBOM",
        {"bomFormat": "CycloneDX", "components": []},
        "vulnerabilities: missing (a CycloneDX VEX document lists vulnerabilities)",
    ),
    (
        "no analysis",
        cyclonedx({"id": "CVE-2024-0001", "affects": [{"ref": "pkg:deb/debian/bash"}]}),
        "vulnerabilities[0].analysis: missing (a CycloneDX VEX statement has analysis.state)",
    ),
    (
        "an unknown state",
        cyclonedx({"id": "CVE-2024-0001", "analysis": {"state": "fine"}}),
        "vulnerabilities[0].analysis.state: expected one of not_affected, false_positive, resolved, "
        'resolved_with_pedigree, exploitable, in_triage, got the string "fine"',
    ),
    (
        "an OpenVEX justification in CycloneDX",
        cyclonedx(
            {
                "id": "CVE-2024-0001",
                "analysis": {"state": "not_affected", "justification": "component_not_present"},
            }
        ),
        "vulnerabilities[0].analysis.justification: expected one of code_not_present, code_not_reachable, "
        "requires_configuration, requires_dependency, requires_environment, protected_by_compiler, "
        'protected_at_runtime, protected_at_perimeter, protected_by_mitigating_control, got the string "component_not_present"',
    ),
    (
        "a ref to nothing",
        cyclonedx(
            {"id": "CVE-2024-0001", "analysis": {"state": "not_affected"}, "affects": [{"ref": "bash-ref"}]}
        ),
        "vulnerabilities[0].affects[0].ref: expected a package URL, a BOM-Link to one, or the bom-ref of a component "
        'with a purl, got the string "bash-ref"',
    ),
    (
        "a BOM-Link without a reference",
        cyclonedx(
            {
                "id": "CVE-2024-0001",
                "analysis": {"state": "not_affected"},
                "affects": [{"ref": "urn:cdx:abc/1"}],
            }
        ),
        'vulnerabilities[0].affects[0].ref: expected a BOM-Link with a #reference, got the string "urn:cdx:abc/1"',
    ),
    (
        "an unknown version status",
        cyclonedx(
            {
                "id": "CVE-2024-0001",
                "analysis": {"state": "resolved"},
                "affects": [
                    {"ref": "pkg:deb/debian/bash", "versions": [{"version": "5.2", "status": "fixed"}]}
                ],
            }
        ),
        "vulnerabilities[0].affects[0].versions[0].status: expected one of affected, unaffected, unknown, got the "
        'string "fixed"',
    ),
    (
        "a version range",
        cyclonedx(
            {
                "id": "CVE-2024-0001",
                "analysis": {"state": "not_affected"},
                "affects": [
                    {
                        "ref": "pkg:deb/debian/bash",
                        "versions": [{"range": "vers:deb/<5.2", "status": "unaffected"}],
                    }
                ],
            }
        ),
        "vulnerabilities[0].affects[0].versions[0]: names no exact version (version ranges are not read: give the "
        "version in the purl)",
    ),
]


@pytest.mark.parametrize(("what", "document", "message"), CASES, ids=[case[0] for case in CASES])
def test_a_refused_document_says_where_and_what_was_expected(
    what: str, document: object, message: str
) -> None:
    with pytest.raises(ReportError) as caught:
        parse_vex(json.dumps(document).encode(), "team.vex.json")
    assert caught.value.diagnostics() == f"team.vex.json: {message}"
    assert "\n" not in caught.value.diagnostics()
    assert caught.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", f"not valid JSON (line 1 column 1: Expecting value); {EXPECTED}"),
        (b'{"@context": ', f"not valid JSON (line 1 column 14: Expecting value); {EXPECTED}"),
        (b"{\xff}", f"not UTF-8 text ({EXPECTED})"),
        (
            b"\xff\xfe{\x00}\x00",
            f"not UTF-8 text ({EXPECTED}) (this file is UTF-16 text, as Windows PowerShell's > writes it: "
            "convert it to UTF-8)",
        ),
        (
            gzip.compress(b"{}"),
            f"not UTF-8 text ({EXPECTED}) (this file is gzip-compressed: decompress it first (gunzip); "
            "VEX documents are read as JSON text)",
        ),
        # Valid JSON that Python's decoder cannot read: refused in words, never an internal error.
        (b"[" * 100_000 + b"]" * 100_000, f"not valid JSON (nested too deeply to read); {EXPECTED}"),
        (
            b'{"@context": ' + b"1" * 5000 + b"}",
            f"not valid JSON (a number too long to read: more than 4300 digits); {EXPECTED}",
        ),
        # Python's decoder reads these; JSON has no such numbers, and no VEX tool writes them.
        (b'{"@context": "x", "version": NaN}', f"not valid JSON (NaN is not a JSON number); {EXPECTED}"),
        (b'{"version": -Infinity}', f"not valid JSON (-Infinity is not a JSON number); {EXPECTED}"),
        # A repeated key is looked for where it is only after the whole text decoded.
        (b'{"a": 1, "a": 2, "b": }', f"not valid JSON (line 1 column 23: Expecting value); {EXPECTED}"),
    ],
    # Named, not shown: gzip bytes carry the time they were made, so an id made of them changed on
    # every run and neither a rerun nor pytest-xdist's workers could select the case.
    ids=[
        "empty",
        "cut-short",
        "not-utf8",
        "utf16",
        "gzip",
        "nested-too-deeply",
        "number-too-long",
        "nan",
        "infinity",
        "repeated-key-then-error",
    ],
)
def test_a_file_that_is_not_json(raw: bytes, message: str) -> None:
    with pytest.raises(ReportError) as caught:
        parse_vex(raw, "team.vex.json")
    assert caught.value.diagnostics() == f"team.vex.json: {message}"


def test_its_cases_have_ids_a_rerun_can_select() -> None:
    # Collected twice, more than a second apart: gzip writes the time into its header, so an id
    # made of the compressed bytes differed between the two.
    def collected() -> list[str]:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
             f"{Path(__file__).relative_to(PROJECT_ROOT)}::test_a_file_that_is_not_json"],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        return [line for line in run.stdout.splitlines() if "::" in line]

    first = collected()
    time.sleep(1.1)
    second = collected()
    assert len(first) == 10
    assert first == second
    assert all(line.isascii() and "\\x" not in line for line in first), first


def test_a_repeated_key_is_refused_with_where_it_is() -> None:
    # Read as JSON usually is, the last "status" would win and allowlist the finding; a reader
    # that keeps the first, or refuses, sees "affected".
    text = json.dumps(openvex_document(good(status="affected", action_statement="upgrade")))
    text = text.replace('"status": "affected"', '"status": "affected", "status": "not_affected"')
    with pytest.raises(ReportError) as caught:
        parse_vex(text.encode(), "team.vex.json")
    assert caught.value.diagnostics() == (
        'team.vex.json: statements[0]: duplicate key "status" (readers disagree on which one counts; '
        "a VEX document must give each member once)"
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (openvex_document(good(), author="Platform \udfffteam"), f"author: {lone_surrogate('udfff')}"),
        (
            openvex_document(good(vulnerability={"name": "CVE-2024-0001", "aliases": ["GHSA-\ud800"]})),
            f"statements[0].vulnerability.aliases[0]: {lone_surrogate('ud800')}",
        ),
        (openvex_document(good(), **{"x\udc00": 1}), '["x\\udc00"]: ' + lone_surrogate("udc00", key=True)),
        (
            cyclonedx({"id": "CVE-2024-0001", "detail": "\udfff"}),
            f"vulnerabilities[0].detail: {lone_surrogate('udfff')}",
        ),
    ],
    ids=["author", "alias", "key", "cyclonedx"],
)
def test_a_lone_surrogate_escape_is_refused_with_where_it_is(document: object, message: str) -> None:
    # JSON allows "\udfff"; decoded, it is half a surrogate pair, which no output can write.
    with pytest.raises(ReportError) as caught:
        parse_vex(json.dumps(document).encode(), "team.vex.json")
    assert caught.value.diagnostics() == f"team.vex.json: {message}"


def test_a_surrogate_pair_is_one_character_and_fine() -> None:
    assert parse_vex(
        json.dumps(openvex_document(good(), author="Platform \U0001f600")).encode(), "team.vex.json"
    )


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(ReportError) as caught:
        load_vex(missing)
    assert caught.value.diagnostics() == f"{missing}: no such VEX file"
    with pytest.raises(ReportError) as caught:
        load_vex(tmp_path)
    assert caught.value.diagnostics() == f"{tmp_path}: is a directory, not a VEX file"


def test_a_file_larger_than_the_bound_is_refused_as_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "team.vex.json"
    path.write_text(json.dumps(openvex_document(good())))
    monkeypatch.setattr("gate._input_file.MAX_DATA_BYTES", path.stat().st_size)
    assert len(load_vex(path)) == 1  # exactly the bound still reads
    monkeypatch.setattr("gate._input_file.MAX_DATA_BYTES", path.stat().st_size - 1)
    with pytest.raises(ReportError) as caught:
        load_vex(path)
    assert (
        caught.value.diagnostics()
        == f"{path}: larger than {path.stat().st_size - 1} bytes; not a VEX document"
    )


def test_an_endless_file_is_refused_at_the_bound() -> None:
    with pytest.raises(ReportError) as caught:
        load_vex(Path("/dev/zero"))
    assert caught.value.diagnostics() == "/dev/zero: larger than 256 MiB; not a VEX document"


def test_a_not_affected_reason_may_be_an_impact_statement_alone() -> None:
    (openvex_statement,) = parse_vex(
        json.dumps(openvex_document(good(justification=None, impact_statement="bash is never run"))).encode(),
        "a.json",
    )
    assert openvex_statement.impact_statement == "bash is never run"
    document = csaf(
        product_status={"known_not_affected": ["BASH"]},
        threats=[{"category": "impact", "details": "bash is never run", "product_ids": ["BASH"]}],
    )
    (csaf_statement,) = parse_vex(json.dumps(document).encode(), "a.json")
    assert (csaf_statement.justification, csaf_statement.impact_statement) == (None, "bash is never run")


def test_what_the_readers_accept_beyond_the_schema() -> None:
    """Documents the scanners' own tests use: OpenVEX 0.0.1's shape, a byte-order mark, an
    `affected` without an action statement, a vulnerability named by its `@id` only."""
    legacy = {
        "@context": "https://openvex.dev/ns/v0.0.1",
        "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
        "author": "Wolfi J Inkinson",
        "timestamp": "2023-01-08T18:02:03.647787998-06:00",
        "version": "1",
        "statements": [
            {
                "vulnerability": "CVE-2023-12345",
                "products": [
                    "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7",
                    "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64",
                ],
                "subcomponents": ["pkg:apk/wolfi/libcurl"],
                "status": "fixed",
            },
            {
                "vulnerability": {"@id": "CVE-2023-2"},
                "products": [{"@id": "pkg:apk/wolfi/git"}],
                "status": "affected",
            },
        ],
    }
    fixed, affected = parse_vex(b"\xef\xbb\xbf" + json.dumps(legacy).encode(), "legacy.json")
    assert [p.identifiers for p in fixed.products] == [
        ("pkg:apk/wolfi/git@2.39.0-r1?arch=armv7",),
        ("pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64",),
    ]
    assert {sub.identifiers for p in fixed.products for sub in p.subcomponents} == {
        ("pkg:apk/wolfi/libcurl",)
    }
    assert (fixed.vulnerability_id, fixed.status.value) == ("CVE-2023-12345", "fixed")
    assert (affected.vulnerability_id, affected.action_statement) == ("CVE-2023-2", None)


def test_a_product_in_two_statuses_of_one_group_is_no_contradiction() -> None:
    # CSAF 2.0 test 6.1.6 groups fixed with first_fixed, and the three affected statuses together.
    document = csaf(product_status={"first_fixed": ["BASH"], "fixed": ["BASH"]})
    statuses = [s.status.value for s in parse_vex(json.dumps(document).encode(), "team.vex.json")]
    assert statuses == ["fixed", "fixed"]


@pytest.mark.parametrize(
    ("kind", "suffix", "what"),
    [
        ("trivy", "alpine-310.json.golden", "a Trivy report"),
        ("sarif-in", "alpine-310.sarif.golden", "a SARIF log"),
        ("grype", "__TestJsonImgsPresenter.golden", "a Grype report"),
    ],
)
def test_a_real_report_or_log_given_as_vex_is_named(kind: str, suffix: str, what: str) -> None:
    path = corpus_file(kind, suffix)
    with pytest.raises(ReportError) as caught:
        load_vex(path)
    assert caught.value.diagnostics() == f"{path}: top level: not a VEX document: {EXPECTED} (this is {what})"


@pytest.mark.parametrize("path", corpus_files("ignore-files"), ids=lambda path: path.name)
def test_a_scanners_configuration_or_ignore_file_given_as_vex_is_named(path: Path) -> None:
    # `--vex trivy.yaml`: someone moving a scanner's settings or exceptions to the gate. It was
    # "not valid JSON" alone.
    with pytest.raises(ReportError) as caught:
        load_vex(path)
    assert caught.value.message.startswith(f"{path}: not valid JSON (line 1 column 1: Expecting value)")
    hint = caught.value.hint
    assert hint is not None
    if path.name.endswith("trivy.yaml"):
        assert hint == (
            "this is a Trivy configuration (trivy.yaml), not VEX: it says how Trivy scans, for trivy "
            "--config; a VEX file is an OpenVEX, CSAF or CycloneDX document"
        )
        return
    what = (
        "a Grype configuration (.grype.yaml)" if "grype" in path.name else "a Trivy ignore file (.trivyignore"
    )
    assert hint.startswith(f"this is {what}"), hint
    assert hint.endswith(
        "the gate reads no scanner's ignore rules; write each as an allowlist entry of the policy, with "
        "a reason and an expiry date (a VEX file is an OpenVEX, CSAF or CycloneDX document)"
    )


def test_a_text_that_is_no_scanner_file_is_not_named() -> None:
    with pytest.raises(ReportError) as caught:
        parse_vex(b"severity: HIGH\nsome text that is no key\n", "team.vex.json")
    assert caught.value.hint is None


def test_the_documents_named_are_the_shared_table_s_but_the_vex_formats() -> None:
    # One table for the report, policy and VEX readers: a document named by one is named by all
    # (the VEX reader reads OpenVEX, CSAF and CycloneDX itself, and says what is wrong with them).
    from gate._other_documents import OTHER_DOCUMENTS

    for member, what in OTHER_DOCUMENTS:
        if member in ("statements", "bomFormat", "document"):
            continue
        with pytest.raises(ReportError) as caught:
            parse_vex(json.dumps({member: []}).encode(), "team.vex.json")
        assert caught.value.hint == f"this is {what}", member
