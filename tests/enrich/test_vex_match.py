"""Which statements apply to which findings, and which one speaks: real corpus reports, with VEX
documents that name their images and packages in each way the formats allow."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from gate.enrich.vex import VexIndex, VexStatement, VexStatus, applicable, decide, latest, parse_vex
from gate.model import Finding, ImageInfo, ScanReport
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Disposition
from gate.policy.inputs import EvaluationInputs
from gate.policy.model import Policy
from gate.render.explain import explain
from gate.render.json import render_json
from gate.render.markdown import render_markdown
from gate.render.openvex import render_openvex_decisions
from gate.render.terminal import render_terminal
from gate.scanners.grype import parse_grype
from gate.scanners.ingest import load_report
from tests.support.corpus import corpus_file, corpus_json
from tests.support.factories import NOW
from tests.support.factories import finding as made_finding
from tests.support.vex_documents import HTTPCLIENT, ghsa_report, openvex, statement

KEYCLOAK = load_report(corpus_file("grype", "keycloak-test.json"))


def _keycloak_image() -> ImageInfo:
    image = KEYCLOAK.image
    assert image is not None
    return image


IMAGE = _keycloak_image()
DIGEST = "sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50"
IMAGE_PURL = f"pkg:oci/keycloak@sha256%3A{DIGEST[7:]}?repository_url=docker.io%2Fkeycloak%2Fkeycloak"
CVE = "CVE-2020-12413"  # in nspr, nss and four more packages of the nss source package


def not_affected(*products: dict[str, Any], vulnerability: str = CVE, **extra: Any) -> dict[str, Any]:
    return {
        "vulnerability": {"name": vulnerability},
        "products": list(products),
        "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
        **extra,
    }


def matched(statements: tuple[VexStatement, ...], image: ImageInfo | None = IMAGE) -> list[str]:
    """The names of the keycloak findings some statement applies to, each checked both ways."""
    index = VexIndex(statements, image)
    names = []
    for finding in KEYCLOAK.findings:
        by_function = [s for s in statements if applicable(s, finding, image)]
        assert index.applicable(finding) == by_function
        assert index.decide(finding) == decide(statements, finding, image)
        if by_function:
            names.append(finding.package.name)
    return names


def test_the_image_with_the_findings_packages_among_its_subcomponents() -> None:
    statements = openvex(
        not_affected(
            {
                "@id": IMAGE_PURL,
                "subcomponents": [{"@id": "pkg:rpm/rhel/nss"}, {"@id": "pkg:rpm/rhel/nspr?arch=x86_64"}],
            }
        )
    )
    assert matched(statements) == ["nspr", "nss"]
    # A subcomponent whose qualifier or version differs from the finding's purl names another package.
    assert (
        matched(
            openvex(
                not_affected({"@id": IMAGE_PURL, "subcomponents": [{"@id": "pkg:rpm/rhel/nss?arch=aarch64"}]})
            )
        )
        == []
    )
    assert (
        matched(
            openvex(
                not_affected(
                    {"@id": IMAGE_PURL, "subcomponents": [{"@id": "pkg:rpm/rhel/nss@3.79.0-18.el9_1"}]}
                )
            )
        )
        == []
    )
    # Without the image known, a statement about the image applies to nothing.
    assert matched(statements, image=None) == []


def test_the_whole_image_in_each_of_its_names() -> None:
    everything = ["nspr", "nss", "nss-softokn", "nss-softokn-freebl", "nss-sysinit", "nss-util"]
    for name in (
        IMAGE_PURL,
        "pkg:oci/keycloak?tag=21.0.2",
        "pkg:oci/keycloak",
        "pkg:docker/keycloak/keycloak@21.0.2",
        DIGEST,
        IMAGE.image_id,
        IMAGE.reference,
        "docker.io/keycloak/keycloak:21.0.2",
    ):
        assert matched(openvex(not_affected({"@id": name}))) == everything, name
    for name in (
        "pkg:oci/keycloak@sha256%3A" + "0" * 64,
        "pkg:oci/keycloak?tag=22.0.0",
        "quay.io/keycloak/keycloak:21.0.2",
    ):
        assert matched(openvex(not_affected({"@id": name}))) == [], name


def test_the_package_itself_as_the_product() -> None:
    assert matched(openvex(not_affected({"@id": "pkg:rpm/rhel/nss-util@3.79.0-17.el9_1"}))) == ["nss-util"]
    assert matched(openvex(not_affected({"identifiers": {"purl": "pkg:rpm/rhel/nss-util"}}))) == ["nss-util"]
    # It needs no image.
    assert matched(openvex(not_affected({"@id": "pkg:rpm/rhel/nss-util"})), image=None) == ["nss-util"]
    assert matched(openvex(not_affected({"@id": "pkg:rpm/rhel/nss-util@3.79.0-16.el9_1"}))) == []
    # A product that is neither the image nor the package does not apply through its subcomponents.
    assert (
        matched(
            openvex(
                not_affected({"@id": "pkg:rpm/rhel/firefox", "subcomponents": [{"@id": "pkg:rpm/rhel/nss"}]})
            )
        )
        == []
    )
    # Nor does the package as a product that singles out parts of it.
    assert (
        matched(
            openvex(
                not_affected(
                    {"@id": "pkg:rpm/rhel/nss", "subcomponents": [{"@id": "pkg:generic/libsoftokn3"}]}
                )
            )
        )
        == []
    )


def test_the_vulnerability_by_any_of_its_names() -> None:
    product = {"@id": "pkg:rpm/rhel/nss"}
    assert matched(openvex(not_affected(product, vulnerability="cve-2020-12413"))) == ["nss"]
    aliased = not_affected(product, vulnerability="GHSA-0000-0000-0000")
    aliased["vulnerability"]["aliases"] = [CVE]
    assert matched(openvex(aliased)) == ["nss"]
    assert matched(openvex(not_affected(product, vulnerability="CVE-2020-12414"))) == []
    # A finding's aliases count too: Snyk names Debian's zlib finding by its own id as well.
    snyk = load_report(corpus_file("snyk", "snyk-to-html__test-report-container-with-app-vulns.json"))
    zlib = next(f for f in snyk.findings if f.package.name == "zlib1g")
    (by_alias,) = openvex(
        not_affected({"@id": "pkg:docker/vulnerable@latest"}, vulnerability="SNYK-DEBIAN10-ZLIB-2976149")
    )
    assert applicable(by_alias, zlib, snyk.image)


def test_a_finding_without_a_purl_is_matched_only_through_the_whole_image() -> None:
    """A Snyk Go finding has no purl (Snyk names the Go package, not its module): only a statement
    about the whole image can name it."""
    snyk = load_report(corpus_file("snyk", "snyk-to-html__test-report-container-with-app-vulns.json"))
    ssh = next(f for f in snyk.findings if f.package.name == "golang.org/x/crypto/ssh")
    assert ssh.package.purl is None
    whole, part = openvex(
        not_affected({"@id": "pkg:oci/vulnerable?tag=latest"}, vulnerability="CVE-2020-9283"),
        not_affected(
            {
                "@id": "pkg:oci/vulnerable?tag=latest",
                "subcomponents": [{"@id": "pkg:golang/golang.org/x/crypto"}],
            },
            vulnerability="CVE-2020-9283",
        ),
    )
    assert applicable(whole, ssh, snyk.image)
    assert not applicable(part, ssh, snyk.image)


def test_the_latest_statement_speaks_for_a_finding() -> None:
    nss = next(f for f in KEYCLOAK.findings if f.package.name == "nss")
    older = openvex(not_affected({"@id": IMAGE_PURL}), timestamp="2024-05-01T12:00:00Z", name="old.json")
    newer = openvex(
        {
            "vulnerability": {"name": CVE},
            "products": [{"@id": "pkg:rpm/rhel/nss"}],
            "status": "under_investigation",
        },
        timestamp="2024-06-01T09:00:00+02:00",
        name="new.json",
    )
    for statements in (older + newer, newer + older):
        decided = decide(statements, nss, IMAGE)
        assert decided is not None
        assert (decided.source, decided.status, decided.status.clears) == (
            "new.json",
            VexStatus.UNDER_INVESTIGATION,
            False,
        )
        assert VexIndex(statements, IMAGE).decide(nss) == decided
    # Other packages are decided by the only statement about them.
    nspr = next(f for f in KEYCLOAK.findings if f.package.name == "nspr")
    assert decide(older + newer, nspr, IMAGE) == older[0]
    # A statement's own time beats its document's; at equal times the one given later wins.
    own_time = openvex(
        not_affected({"@id": "pkg:rpm/rhel/nss"}, timestamp="2024-07-01T00:00:00Z"),
        timestamp="2020-01-01T00:00:00Z",
    )
    assert decide(older + newer + own_time, nss, IMAGE) == own_time[0]
    twin = openvex(not_affected({"@id": IMAGE_PURL}), name="twin.json")
    assert latest(older + twin) == twin[0]
    assert latest(twin + older) == older[0]
    assert latest(()) is None


def test_statements_of_the_same_time_that_disagree_leave_the_finding_open() -> None:
    """Nothing says which of two statements of one time (or two undated ones) is the correction:
    the one that does not clear speaks, in one document or two, in whatever order."""
    nss = next(f for f in KEYCLOAK.findings if f.package.name == "nss")
    cleared = not_affected({"@id": "pkg:rpm/rhel/nss"})
    open_ = {"vulnerability": {"name": CVE}, "products": [{"@id": IMAGE_PURL}], "status": "affected"}
    for statements in (openvex(cleared, open_), openvex(open_, cleared)):
        decided = decide(statements, nss, IMAGE)
        assert decided is not None
        assert decided.status is VexStatus.AFFECTED
        assert VexIndex(statements, IMAGE).decide(nss) == decided
    undated = [
        parse_vex(
            json.dumps(
                {
                    "@context": "https://openvex.dev/ns/v0.2.0",
                    "@id": "https://example.com/vex/undated",
                    "author": "Platform team",
                    "version": 1,
                    "statements": [said],
                }
            ).encode(),
            name,
        )
        for said, name in ((cleared, "a.json"), ({**open_, "status": "under_investigation"}, "b.json"))
    ]
    for statements in (undated[0] + undated[1], undated[1] + undated[0]):
        decided = decide(statements, nss, IMAGE)
        assert decided is not None
        assert decided.source == "b.json"
    # A dated statement is later than an undated one, whatever it says.
    assert decide(undated[1] + openvex(cleared), nss, IMAGE) == openvex(cleared)[0]


def test_csaf_relationships_and_product_statuses_on_a_real_report() -> None:
    doc = {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "publisher": {
                "category": "vendor",
                "name": "Keycloak packagers",
                "namespace": "https://example.com",
            },
            "title": "keycloak 21.0.2",
            "tracking": {
                "current_release_date": "2024-05-01T00:00:00Z",
                "id": "KC-1",
                "status": "final",
                "version": "1",
            },
        },
        "product_tree": {
            "full_product_names": [
                {
                    "name": "keycloak 21.0.2",
                    "product_id": "KC",
                    "product_identification_helper": {"purl": IMAGE_PURL},
                },
                {
                    "name": "nss",
                    "product_id": "NSS",
                    "product_identification_helper": {"purl": "pkg:rpm/rhel/nss"},
                },
                {
                    "name": "nspr",
                    "product_id": "NSPR",
                    "product_identification_helper": {"purls": ["pkg:rpm/rhel/nspr"]},
                },
                {
                    "name": "a CPE only",
                    "product_id": "CPE",
                    "product_identification_helper": {"cpe": "cpe:2.3:a:x:y:1:*:*:*:*:*:*:*"},
                },
            ],
            "relationships": [
                {
                    "category": "default_component_of",
                    "product_reference": "NSS",
                    "relates_to_product_reference": "KC",
                    "full_product_name": {"name": "nss in keycloak", "product_id": "KC:NSS"},
                }
            ],
            "product_groups": [{"group_id": "G", "product_ids": ["KC:NSS", "NSPR"]}],
        },
        "vulnerabilities": [
            {
                "cve": CVE,
                "ids": [{"system_name": "Red Hat", "text": "RHSA-0000:0000"}],
                "product_status": {
                    "known_not_affected": ["KC:NSS", "CPE"],
                    "fixed": ["NSPR"],
                    "recommended": ["NSPR"],
                },
                "flags": [{"label": "component_not_present", "group_ids": ["G"]}],
                "threats": [
                    {"category": "impact", "details": "The TLS code is not used", "product_ids": ["KC:NSS"]},
                    {"category": "impact", "details": "Not shipped", "product_ids": ["CPE"]},
                ],
                "remediations": [
                    {"category": "vendor_fix", "details": "Update nspr", "product_ids": ["NSPR"]}
                ],
            }
        ],
    }
    statements = parse_vex(json.dumps(doc).encode(), "keycloak.csaf.json")
    assert [
        (s.status, s.location, s.justification, s.impact_statement, s.action_statement) for s in statements
    ] == [
        (
            VexStatus.NOT_AFFECTED,
            "vulnerabilities[0].product_status.known_not_affected",
            "component_not_present",
            "The TLS code is not used",
            None,
        ),
        (
            VexStatus.NOT_AFFECTED,
            "vulnerabilities[0].product_status.known_not_affected",
            None,
            "Not shipped",
            None,
        ),
        (
            VexStatus.FIXED,
            "vulnerabilities[0].product_status.fixed",
            "component_not_present",
            None,
            "vendor_fix: Update nspr",
        ),
    ]
    assert statements[0].products[0].identifiers == (IMAGE_PURL,)
    assert statements[0].products[0].subcomponents[0].identifiers == ("pkg:rpm/rhel/nss",)
    assert statements[1].products[0].identifiers == ("cpe:2.3:a:x:y:1:*:*:*:*:*:*:*",)
    assert statements[0].aliases == ("RHSA-0000:0000",)
    assert statements[0].author == "Keycloak packagers"
    assert matched(statements) == ["nspr", "nss"]


def test_cyclonedx_refs_to_components_and_bom_links_on_a_real_report() -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {"timestamp": "2024-05-01T00:00:00Z", "authors": [{"name": "Platform team"}]},
        "components": [
            {
                "type": "library",
                "name": "nss",
                "bom-ref": "nss-ref",
                "purl": "pkg:rpm/rhel/nss@3.79.0-17.el9_1?arch=x86_64",
            }
        ],
        "vulnerabilities": [
            {
                "id": CVE,
                "references": [{"id": "GHSA-0000-0000-0000", "source": {"name": "GitHub"}}],
                "analysis": {
                    "state": "false_positive",
                    "justification": "code_not_present",
                    "detail": "Not built with TLS",
                },
                "affects": [
                    {"ref": "nss-ref"},
                    {"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:rpm/rhel/nspr"},
                    {
                        "ref": "pkg:rpm/rhel/nss-util",
                        "versions": [
                            {"version": "3.79.0-16.el9_1", "status": "unaffected"},
                            {"version": "3.79.0-17.el9_1", "status": "unaffected"},
                        ],
                    },
                ],
            },
            {"id": CVE, "analysis": {"state": "in_triage"}, "affects": [{"ref": "pkg:rpm/rhel/nss-sysinit"}]},
        ],
    }
    cleared, triage = parse_vex(json.dumps(doc).encode(), "keycloak.cdx.json")
    assert (cleared.status, cleared.justification, cleared.impact_statement) == (
        VexStatus.NOT_AFFECTED,
        "code_not_present",
        "Not built with TLS",
    )
    assert [p.identifiers for p in cleared.products] == [
        ("pkg:rpm/rhel/nss@3.79.0-17.el9_1?arch=x86_64",),
        ("pkg:rpm/rhel/nspr",),
        ("pkg:rpm/rhel/nss-util@3.79.0-16.el9_1",),
        ("pkg:rpm/rhel/nss-util@3.79.0-17.el9_1",),
    ]
    assert (cleared.author, cleared.aliases, triage.status) == (
        "Platform team",
        ("GHSA-0000-0000-0000",),
        VexStatus.UNDER_INVESTIGATION,
    )
    assert matched((cleared,)) == ["nspr", "nss", "nss-util"]
    assert matched((triage,)) == ["nss-sysinit"]


def test_a_cyclonedx_bom_link_is_followed_only_into_its_own_document() -> None:
    """A BOM-Link into another BOM names a component of that BOM's product, which a findings
    report cannot be told to be: the statement says nothing through it."""
    serial = "3e671687-395b-41f5-a30f-a58921a69b79"

    def bom(ref: str, own: str | None = serial, version: int = 1) -> tuple[VexStatement, ...]:
        nss = {"type": "library", "name": "nss", "bom-ref": "nss-ref", "purl": "pkg:rpm/rhel/nss"}
        vulnerability = {"id": CVE, "analysis": {"state": "not_affected"}, "affects": [{"ref": ref}]}
        doc: dict[str, Any] = {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": version,
            "components": [nss],
            "vulnerabilities": [vulnerability],
        }
        if own is not None:
            doc["serialNumber"] = f"urn:uuid:{own}"
        return parse_vex(json.dumps(doc).encode(), "team.cdx.json")

    # Into itself: a component's bom-ref, or a purl; the serial number in any case.
    assert matched(bom(f"urn:cdx:{serial}/1#nss-ref")) == ["nss"]
    assert matched(bom(f"urn:cdx:{serial.upper()}/1#pkg:rpm/rhel/nspr")) == ["nspr"]
    # Into another BOM, another version of this one, or from a document without a serial number.
    for statements in (
        bom(f"urn:cdx:{'0' * 8}-0000-0000-0000-{'0' * 12}/1#nss-ref"),
        bom(f"urn:cdx:{serial}/1#nss-ref", version=2),
        bom(f"urn:cdx:{serial}/1#pkg:rpm/rhel/nspr", own=None),
    ):
        (statement,) = statements
        assert statement.products == ()
        assert len(statement.unfollowed) == 1
        assert matched(statements) == []


def test_a_cyclonedx_version_the_bom_calls_affected_is_not_cleared() -> None:
    """`resolved` with the installed 3.79.0-17 affected and -18 unaffected: fixed in -18 alone."""

    def cleared(state: str, *versions: dict[str, str]) -> list[str]:
        vulnerability = {
            "id": CVE,
            "analysis": {"state": state},
            "affects": [{"ref": "pkg:rpm/rhel/nss-util", "versions": list(versions)}],
        }
        doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [vulnerability]}
        return matched(parse_vex(json.dumps(doc).encode(), "nss.cdx.json"))

    installed = {"version": "3.79.0-17.el9_1", "status": "affected"}
    fix = {"version": "3.79.0-18.el9_1", "status": "unaffected"}
    assert cleared("resolved", installed, fix) == []
    assert cleared("not_affected", {**installed, "status": "unknown"}) == []
    # The affected range a BOM gives beside its fixed version is not needed to read it.
    assert cleared("resolved", {"range": "vers:rpm/<3.79.0-18.el9_1", "status": "affected"}, fix) == []
    assert cleared("resolved", {**installed, "status": "unaffected"}) == ["nss-util"]
    # A version without a status is affected, the CycloneDX specification's default; a range too.
    assert cleared("resolved", {"version": "3.79.0-17.el9_1"}) == []
    assert cleared("not_affected", {"version": "3.79.0-17.el9_1"}, fix) == []
    assert cleared("not_affected", {"range": "vers:rpm/<3.79.0-18.el9_1"}, fix) == []
    # A statement that clears nothing keeps every version: its reason is shown on the finding.
    assert cleared("exploitable", installed) == ["nss-util"]


def test_a_cyclonedx_statement_is_dated_by_its_analysis_or_its_bom_not_by_the_vulnerability_record() -> None:
    """`published` and `updated` date a vulnerability's record in a database (NVD's dates), not the
    analysis: a BOM of 2026 with NVD's 2020 dates must override an OpenVEX statement of 2024."""
    nss = next(f for f in KEYCLOAK.findings if f.package.name == "nss")
    affected = openvex(
        {
            "vulnerability": {"name": CVE},
            "products": [{"@id": "pkg:rpm/rhel/nss"}],
            "status": "affected",
            "action_statement": "upgrade",
        },
        timestamp="2024-05-01T12:00:00Z",
    )

    def bom(analysis: dict[str, str]) -> tuple[VexStatement, ...]:
        vulnerability = {
            "id": CVE,
            "published": "2020-03-23T00:00:00Z",
            "updated": "2026-11-30T00:00:00Z" if "firstIssued" in analysis else "2020-04-01T00:00:00Z",
            "analysis": {"state": "not_affected", "justification": "code_not_reachable", **analysis},
            "affects": [{"ref": "pkg:rpm/rhel/nss"}],
        }
        doc = {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "metadata": {"timestamp": "2026-11-01T00:00:00Z"},
            "vulnerabilities": [vulnerability],
        }
        return parse_vex(json.dumps(doc).encode(), "team.cdx.json")

    (cleared,) = bom({})
    assert cleared.timestamp == datetime(2026, 11, 1, tzinfo=UTC)
    assert decide((*affected, cleared), nss, IMAGE) == cleared
    # The analysis's own time first; a record updated later does not make it newer.
    (issued,) = bom({"firstIssued": "2023-01-01T00:00:00Z"})
    assert issued.timestamp == datetime(2023, 1, 1, tzinfo=UTC)
    assert decide((issued, *affected), nss, IMAGE) == affected[0]


def test_a_cyclonedx_ref_with_a_version_the_bom_calls_affected_is_not_cleared() -> None:
    """A ref whose purl names the installed version, listed in its own `versions` as `affected` or
    `unknown` (or under a range, which is not read): the analysis does not clear it."""

    def cleared(state: str, *versions: dict[str, str]) -> list[str]:
        vulnerability = {
            "id": CVE,
            "analysis": {"state": state, "justification": "code_not_reachable"},
            "affects": [{"ref": "pkg:rpm/rhel/nss-util@3.79.0-17.el9_1", "versions": list(versions)}],
        }
        doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [vulnerability]}
        return matched(parse_vex(json.dumps(doc).encode(), "nss.cdx.json"))

    installed = {"version": "3.79.0-17.el9_1", "status": "affected"}
    assert cleared("not_affected", installed) == []
    assert cleared("resolved", {**installed, "status": "unknown"}) == []
    assert cleared("not_affected", {"range": "vers:rpm/<3.79.0-18.el9_1", "status": "affected"}) == []
    # Its version unaffected, or another affected: the purl's version is what it is about.
    assert cleared("not_affected", {**installed, "status": "unaffected"}) == ["nss-util"]
    assert cleared("not_affected", {"version": "3.79.0-16.el9_1", "status": "affected"}) == ["nss-util"]
    # Its version, or a range, without a status: affected, the CycloneDX specification's default.
    assert cleared("not_affected", {"version": "3.79.0-17.el9_1"}) == []
    assert cleared("resolved", {"range": "vers:rpm/<3.79.0-18.el9_1"}) == []
    assert cleared("not_affected", {"version": "3.79.0-16.el9_1"}) == ["nss-util"]
    assert cleared("exploitable", installed) == ["nss-util"]


def _finding(name: str) -> Finding:
    return next(f for f in KEYCLOAK.findings if f.package.name == name)


def test_statements_about_other_vulnerabilities_are_not_looked_at() -> None:
    statements = openvex(
        *(not_affected({"@id": IMAGE_PURL}, vulnerability=f"CVE-2000-{n:04d}") for n in range(50))
    )
    index = VexIndex(statements, IMAGE)
    assert index.applicable(_finding("nss")) == []
    assert index.decide(_finding("nss")) is None


def test_two_cves_are_not_one_vulnerability_through_the_advisory_that_fixes_both() -> None:
    """Trivy gives CentOS's CVE-2019-1559 and CVE-2018-0734 in openssl-libs the vendor id of the
    advisory that fixes both: a statement about one of them, naming the advisory as an alias (as
    the gate's own `--openvex` does), is not about the other."""
    centos = load_report(corpus_file("trivy", "centos-7.json.golden"))
    shared = [
        f for f in centos.findings if f.package.name == "openssl-libs" and "RHSA-2019:2304" in f.aliases
    ]
    assert sorted(f.vulnerability_id for f in shared) == ["CVE-2018-0734", "CVE-2019-1559"]
    product = {"@id": "pkg:rpm/centos/openssl-libs"}
    one = not_affected(product, vulnerability="CVE-2019-1559")
    one["vulnerability"]["aliases"] = ["RHSA-2019:2304"]
    advisory = not_affected(product, vulnerability="RHSA-2019:2304")
    for statements, expected in (
        (openvex(one), ["CVE-2019-1559"]),
        # A statement about the advisory itself names no CVE: it is about every finding it fixes.
        (openvex(advisory), ["CVE-2018-0734", "CVE-2019-1559"]),
    ):
        index = VexIndex(statements, centos.image)
        by_function = sorted(f.vulnerability_id for f in shared if decide(statements, f, centos.image))
        assert by_function == expected
        assert sorted(f.vulnerability_id for f in shared if index.decide(f)) == expected


def test_a_csaf_version_range_product_is_not_cleared_by_its_purl_without_a_version() -> None:
    """`fixed` for the products `>=v0.3.7` of golang.org/x/text, whose purl names no version, is
    not about the v0.3.6 Trivy found: ranges are not read, and the purl alone names every version."""
    gomod = load_report(corpus_file("trivy", "gomod-vex.json.golden"))
    (text,) = [f for f in gomod.findings if f.package.name == "golang.org/x/text"]
    assert (text.vulnerability_id, text.package.version) == ("CVE-2021-38561", "v0.3.6")

    def version_range(pid: str, vers: str, purl: str) -> dict[str, Any]:
        return {
            "category": "product_version_range",
            "name": vers,
            "product": {"name": vers, "product_id": pid, "product_identification_helper": {"purl": purl}},
        }

    def statuses(product_status: dict[str, list[str]]) -> tuple[VexStatement, ...]:
        doc = {
            "document": {
                "category": "csaf_vex",
                "csaf_version": "2.0",
                "publisher": {"category": "vendor", "name": "Example", "namespace": "https://example.com"},
                "title": "x/text",
                "tracking": {"current_release_date": "2024-05-01T00:00:00Z", "id": "EX-1"},
            },
            "product_tree": {
                "branches": [
                    {
                        "category": "product_name",
                        "name": "x/text",
                        "branches": [
                            version_range("FIXED", "vers:golang/>=v0.3.7", "pkg:golang/golang.org/x/text"),
                            version_range("OLD", "vers:golang/<v0.3.7", "pkg:golang/golang.org/x/text"),
                            version_range(
                                "PINNED", "vers:golang/v0.3.6", "pkg:golang/golang.org/x/text@v0.3.6"
                            ),
                        ],
                    }
                ]
            },
            "vulnerabilities": [
                {
                    "cve": "CVE-2021-38561",
                    "product_status": product_status,
                    "threats": [{"category": "impact", "details": "The parser is not used"}],
                }
            ],
        }
        return parse_vex(json.dumps(doc).encode(), "text.csaf.json")

    # Whatever the order of the statuses, the range that leaves v0.3.6 out does not clear it.
    for product_status in (
        {"fixed": ["FIXED"]},
        {"known_affected": ["OLD"], "fixed": ["FIXED"]},
        {"fixed": ["FIXED"], "known_affected": ["OLD"]},
    ):
        decided = decide(statuses(product_status), text, gomod.image)
        assert decided is None or not decided.status.clears, product_status
    # The statements that clear nothing keep the range's product; a range's purl with a version is exact.
    (affected,) = statuses({"known_affected": ["OLD"]})
    assert applicable(affected, text, gomod.image)
    (pinned,) = statuses({"known_not_affected": ["PINNED"]})
    assert decide((pinned,), text, gomod.image) == pinned


def test_the_image_by_another_spelling_of_its_reference() -> None:
    """A reference is compared as Docker reads it: the Docker Hub host and a tag beside the
    digest (as `docker buildx` prints it) are spellings of the same image."""
    everything = ["nspr", "nss", "nss-softokn", "nss-softokn-freebl", "nss-sysinit", "nss-util"]
    for name in (
        f"keycloak/keycloak:21.0.2@{DIGEST}",
        f"index.docker.io/keycloak/keycloak:21.0.2@{DIGEST}",
        "registry-1.docker.io/keycloak/keycloak:21.0.2",
    ):
        assert matched(openvex(not_affected({"@id": name}))) == everything, name
    for name in (
        f"keycloak/keycloak:21.0.2@sha256:{'0' * 64}",
        "registry-1.docker.io/keycloak/keycloak:22.0.0",
        "keycloak/keycloak",  # the tag `latest`
        f"quay.io/keycloak/keycloak:21.0.2@{DIGEST}",
    ):
        assert matched(openvex(not_affected({"@id": name}))) == [], name


def test_a_cyclonedx_ref_is_the_component_whose_bom_ref_it_is_even_when_it_looks_like_a_purl() -> None:
    """Syft and Grype make a component's bom-ref of its purl and a `package-id` qualifier of their
    own: the ref names the component, whose purl matches the finding."""
    bom_ref = "pkg:rpm/rhel/nss@3.79.0-17.el9_1?arch=x86_64&package-id=8c2b4b6e0c2f1d3a"
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"timestamp": "2024-05-01T00:00:00Z"},
        "components": [
            {
                "type": "library",
                "name": "nss",
                "bom-ref": bom_ref,
                "purl": "pkg:rpm/rhel/nss@3.79.0-17.el9_1?arch=x86_64",
            }
        ],
        "vulnerabilities": [
            {
                "id": CVE,
                "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                "affects": [{"ref": bom_ref}],
            }
        ],
    }
    (statement,) = parse_vex(json.dumps(doc).encode(), "keycloak.cdx.json")
    assert [p.identifiers for p in statement.products] == [("pkg:rpm/rhel/nss@3.79.0-17.el9_1?arch=x86_64",)]
    assert matched((statement,)) == ["nss"]


def test_an_oci_purls_repository_url_is_read_as_docker_reads_a_repository() -> None:
    everything = ["nspr", "nss", "nss-softokn", "nss-softokn-freebl", "nss-sysinit", "nss-util"]
    for url in ("registry-1.docker.io/keycloak/keycloak", "index.docker.io/keycloak/keycloak"):
        name = f"pkg:oci/keycloak@{DIGEST}?repository_url={url}"
        assert matched(openvex(not_affected({"@id": name}))) == everything, name
    for url in ("quay.io/keycloak/keycloak", "docker.io/keycloak/other"):
        name = f"pkg:oci/keycloak@{DIGEST}?repository_url={url}"
        assert matched(openvex(not_affected({"@id": name}))) == [], name
    # An official image without its `library/`, as `docker pull alpine` names it.
    alpine = load_report(corpus_file("trivy", "trivy-action__test-data-with-trivy-yaml-cfg__report.json"))
    assert alpine.image is not None
    assert alpine.image.digest is not None
    assert alpine.image.reference == "alpine:3.10"
    finding = alpine.findings[0]
    for url, applies in (
        ("docker.io/alpine", True),
        ("docker.io/library/alpine", True),
        ("quay.io/alpine", False),
    ):
        (statement,) = openvex(
            not_affected(
                {"@id": f"pkg:oci/alpine@{alpine.image.digest}?repository_url={url}"},
                vulnerability=finding.vulnerability_id,
            )
        )
        assert applicable(statement, finding, alpine.image) is applies, url


def test_a_grype_advisory_with_several_cves_is_cleared_only_for_all_of_them() -> None:
    """Grype names a GitHub advisory by its GHSA id and lists the CVEs it stands for as related
    vulnerabilities; the finding takes the first CVE as its primary id. A statement about one of
    the CVEs says nothing about the others: the finding is cleared only by a statement that names
    every CVE, one about the advisory itself, or statements that clear each CVE (below)."""
    report, httpclient = ghsa_report()
    product = HTTPCLIENT

    def clears(name: str, *aliases: str) -> bool:
        statement = not_affected(product, vulnerability=name)
        if aliases:
            statement["vulnerability"]["aliases"] = list(aliases)
        statements = openvex(statement)
        decided = decide(statements, httpclient, report.image)
        assert VexIndex(statements, report.image).decide(httpclient) == decided
        return decided is not None

    assert not clears("CVE-2014-3577")
    assert not clears("CVE-2014-9999")
    assert not clears("CVE-2014-3577", "CVE-2015-0001")
    assert clears("CVE-2014-9999", "CVE-2014-3577")
    assert clears("cve-2014-3577", "GHSA-cfh5-3ghh-wfjx", "CVE-2014-9999")
    # A statement about the advisory itself is about every CVE it stands for.
    assert clears("GHSA-cfh5-3ghh-wfjx")
    assert clears("ghsa-cfh5-3ghh-wfjx", "CVE-2014-3577")
    # Its name only as an alias of one CVE does not make the statement about the advisory.
    assert not clears("CVE-2014-3577", "GHSA-cfh5-3ghh-wfjx")


def _decided(
    statements: tuple[VexStatement, ...], report: ScanReport, finding: Finding
) -> VexStatement | None:
    """The statement that speaks for `finding`, the same through the index and the function."""
    decided = decide(statements, finding, report.image)
    assert VexIndex(statements, report.image).decide(finding) == decided
    return decided


def test_statements_that_together_clear_every_cve_of_an_advisory_clear_its_finding() -> None:
    report, httpclient = ghsa_report()
    # Two statements of one document, one per CVE, with the same justification: said once.
    one_document = openvex(
        statement("CVE-2014-3577", "not_affected"), statement("CVE-2014-9999", "not_affected")
    )
    decided = _decided(one_document, report, httpclient)
    assert decided is not None
    assert decided.status is VexStatus.NOT_AFFECTED
    assert decided.status.clears
    assert decided.statements == one_document
    assert decided.rule == "vex:app.openvex.json#1"  # the latest of the two; `statements` lists both
    assert decided.reason == (
        "VEX not_affected for each of its 2 CVEs (vulnerable_code_not_in_execute_path) "
        "by Platform team, 2024-05-01T12:00:00Z"
    )
    # Two documents given together, by other authors, with other words, one `fixed`: each said once,
    # at the latest of their times.
    first = openvex(
        statement("CVE-2014-3577", "not_affected", justification="component_not_present"),
        name="a.json",
    )
    second = parse_vex(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.com/vex/2",
                "author": "Upstream",
                "timestamp": "2024-06-01T00:00:00Z",
                "version": 1,
                "statements": [
                    statement("CVE-2014-9999", "fixed"),
                    statement(
                        "CVE-2014-3577", "not_affected", impact_statement="The client never follows redirects"
                    ),
                ],
            }
        ).encode(),
        "b.json",
    )
    decided = _decided(first + second, report, httpclient)
    assert decided is not None
    assert decided.status.clears
    # For CVE-2014-3577, the later statement (b.json#1) speaks, as it would alone.
    assert [s.rule for s in decided.statements] == ["vex:b.json#0", "vex:b.json#1"]
    assert decided.rule == "vex:b.json#1"  # one rule, in the form every rule has: the latest part's
    assert decided.reason == (
        "VEX fixed or not_affected for each of its 2 CVEs (The client never follows redirects) "
        "by Upstream, 2024-06-01T00:00:00Z"
    )
    decided = _decided(second[:1] + first, report, httpclient)
    assert decided is not None
    assert [s.rule for s in decided.statements] == ["vex:b.json#0", "vex:a.json#0"]
    assert decided.status is VexStatus.NOT_AFFECTED  # some fixed, the others not affecting it
    assert decided.justification == "component_not_present"
    assert decided.author == "Upstream, Platform team"
    assert decided.reason == (
        "VEX fixed or not_affected for each of its 2 CVEs (component_not_present) "
        "by Upstream, Platform team, 2024-06-01T00:00:00Z"
    )
    # The image as the product, with the package as its part, counts as for one statement.
    image = {"@id": f"pkg:oci/test_images@{report.image.digest if report.image else ''}"}
    part = {**image, "subcomponents": [HTTPCLIENT]}
    assert _decided(
        openvex(statement("CVE-2014-3577", "fixed", image), statement("CVE-2014-9999", "fixed", part)),
        report,
        httpclient,
    )


def test_a_cve_of_the_advisory_left_open_keeps_its_finding_open() -> None:
    report, httpclient = ghsa_report()
    cleared = statement("CVE-2014-3577", "not_affected")
    # No statement for the other CVE, or one about another product or another package's version.
    assert _decided(openvex(cleared), report, httpclient) is None
    for product in (
        {"@id": "pkg:maven/org.apache.httpcomponents/httpcore"},
        {"@id": "pkg:maven/org.apache.httpcomponents/httpclient@4.5.0"},
    ):
        assert (
            _decided(
                openvex(cleared, statement("CVE-2014-9999", "not_affected", product)), report, httpclient
            )
            is None
        )
    # A statement of another status for the other CVE: it speaks, and clears nothing.
    for status in ("affected", "under_investigation"):
        other = statement("CVE-2014-9999", status)
        for statements in (openvex(cleared, other), openvex(other, cleared)):
            decided = _decided(statements, report, httpclient)
            assert decided is not None
            assert (decided.vulnerability_id, decided.status.value, decided.parts) == (
                "CVE-2014-9999",
                status,
                (),
            )
    # Per CVE, the latest statement speaks: a later `affected` reopens the CVE, a later
    # `not_affected` clears it again.
    then = openvex(
        statement("CVE-2014-9999", "not_affected"), timestamp="2024-05-01T00:00:00Z", name="then.json"
    )
    later = openvex(
        statement("CVE-2014-9999", "affected"), timestamp="2024-06-01T00:00:00Z", name="later.json"
    )
    decided = _decided(openvex(cleared) + later + then, report, httpclient)
    assert decided is not None
    assert decided.rule == "vex:later.json#0"
    assert not decided.status.clears
    earlier = openvex(
        statement("CVE-2014-9999", "affected"), timestamp="2024-04-01T00:00:00Z", name="earlier.json"
    )
    decided = _decided(openvex(cleared) + then + earlier, report, httpclient)
    assert decided is not None
    assert decided.status.clears
    assert len(decided.parts) == 2
    # A statement about the whole advisory speaks for each CVE, at its own time.
    advisory = openvex(
        statement("GHSA-cfh5-3ghh-wfjx", "not_affected"), timestamp="2024-03-01T00:00:00Z", name="ghsa.json"
    )
    decided = _decided(advisory + later, report, httpclient)
    assert decided is not None
    assert decided.rule == "vex:later.json#0"
    decided = _decided(advisory + earlier, report, httpclient)
    assert decided is not None
    assert decided.rule == "vex:earlier.json#0"
    assert _decided(advisory, report, httpclient) == advisory[0]
    investigating = openvex(
        statement("GHSA-cfh5-3ghh-wfjx", "under_investigation"),
        timestamp="2024-07-01T00:00:00Z",
        name="ghsa2.json",
    )
    decided = _decided(openvex(cleared) + then + investigating, report, httpclient)
    assert decided == investigating[0]


def test_a_finding_vex_leaves_open_says_so_in_the_json_report() -> None:
    """Not only its statements' rule rows (`left_open`, `not_cleared`): the finding itself, which
    a reader of `findings` alone would otherwise take for one no statement is about."""
    report, _httpclient = ghsa_report()
    statements = openvex(statement("CVE-2014-3577", "not_affected"))
    evaluation = evaluate(report, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=statements))
    (row,) = json.loads(render_json(evaluation))["findings"]
    assert row["vex"] is None
    assert row["vex_gap"] == {
        "cleared": ["CVE-2014-3577"],
        "not_cleared": ["CVE-2014-9999"],
        "statements": ["vex:app.openvex.json#0"],
    }
    # A later `affected` about the other CVE speaks for the finding: still open, and said so.
    affected = openvex(statement("CVE-2014-9999", "affected"), name="later.json")
    evaluation = evaluate(
        report, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=statements + affected)
    )
    (row,) = json.loads(render_json(evaluation))["findings"]
    assert (row["vex"]["status"], row["vex_gap"]["not_cleared"]) == ("affected", ["CVE-2014-9999"])
    # Cleared together, nothing is open: no member.
    both = statements + openvex(statement("CVE-2014-9999", "fixed"), name="b.json")
    evaluation = evaluate(report, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=both))
    (row,) = json.loads(render_json(evaluation))["findings"]
    assert row["disposition"] == "allowlisted"
    assert "vex_gap" not in row


def test_a_statement_clearing_one_cve_of_an_advisory_left_open_is_needed_not_unused() -> None:
    """The finding stays open (no statement clears its other CVE), and the statement about the CVE
    it clears was reported as one that matched nothing, `unused`, which the report format says to
    remove or fix: it is needed, and a statement about the other CVE is what is missing."""
    report, httpclient = ghsa_report()
    statements = openvex(
        statement("CVE-2014-3577", "not_affected"), statement("CVE-2000-0001", "not_affected")
    )
    evaluation = evaluate(report, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=statements))
    (decision,) = evaluation.decisions
    assert decision.disposition is not Disposition.ALLOWLISTED
    assert decision.vex is None
    assert decision.vex_gap is not None
    assert (decision.vex_gap.cleared, decision.vex_gap.not_cleared) == (
        ("CVE-2014-3577",),
        ("CVE-2014-9999",),
    )
    # The state stays in its three values; the rule row says what is missing.
    needed, unrelated = json.loads(render_json(evaluation))["rules"]
    assert (needed["state"], needed["matched"], needed["left_open"], needed["not_cleared"]) == (
        "unused",
        0,
        1,
        ["CVE-2014-9999"],
    )
    assert (unrelated["state"], unrelated["left_open"], unrelated["not_cleared"]) == ("unused", 0, [])
    summary = render_terminal(evaluation)
    assert (
        "vex:      2 statement(s) from 1 file(s): 0 used, 1 clearing only part of an advisory, 1 unused"
        in summary
    )
    assert (
        "vex:      VEX leaves 1 finding open: no statement clears CVE-2014-9999 (the statements "
        "about its other CVEs are needed all the same)"
    ) in summary
    assert (
        "VEX: CVE-2014-3577 cleared (app.openvex.json: statements[0]), but no statement clears "
        "CVE-2014-9999: VEX leaves the finding open until one does (keep the statements it has)"
    ) in " ".join(explain(evaluation, httpclient.vulnerability_id)[0].split())
    # A later `affected` about the other CVE speaks for the finding; the cleared CVE still needs its
    # statement, and the other one a statement that clears it.
    affected = openvex(statement("CVE-2014-9999", "affected"), name="later.json")
    evaluation = evaluate(
        report, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=statements[:1] + affected)
    )
    assert [(e.state.value, e.matched, e.left_open, e.not_cleared) for e in evaluation.vex_entries] == [
        ("unused", 0, 1, ("CVE-2014-9999",)),
        ("used", 1, 0, ()),
    ]
    # Together with a statement about the other CVE, both are used and nothing is left open.
    both = statements[:1] + openvex(statement("CVE-2014-9999", "fixed"), name="b.json")
    evaluation = evaluate(report, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=both))
    assert [(e.matched, e.left_open) for e in evaluation.vex_entries] == [(1, 0), (1, 0)]
    assert evaluation.decisions[0].vex_gap is None
    assert "clearing only part" not in render_terminal(evaluation)


def test_the_markdown_summary_says_which_cves_no_statement_clears() -> None:
    """The pull-request comment, the job summary and the merge-request note say, as the terminal
    does, that VEX leaves the finding open and which of its CVEs no statement clears."""
    report, _ = ghsa_report()
    statements = openvex(statement("CVE-2014-3577", "not_affected"))
    evaluation = evaluate(report, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=statements))
    assert (
        "\n\nVEX leaves 1 finding open: no statement clears `CVE-2014-9999` (the statements about its "
        "other CVEs are needed all the same)\n\n"
    ) in render_markdown(evaluation)
    # At most five are named, the rest counted.
    doc = corpus_json("grype", "ghsa-test.json")
    (ghsa,) = [m for m in doc["matches"] if m["vulnerability"]["id"] == "GHSA-cfh5-3ghh-wfjx"]
    related = ghsa["relatedVulnerabilities"]
    related.extend({**related[0], "id": f"CVE-2020-000{n}"} for n in range(1, 8))
    evaluation = evaluate(
        parse_grype(doc, "grype.json"), Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=statements)
    )
    assert (
        "VEX leaves 1 finding open: no statement clears `CVE-2020-0001`, `CVE-2020-0002`, "
        "`CVE-2020-0003`, `CVE-2020-0004`, `CVE-2020-0005` and 2 more (the statements"
    ) in render_markdown(evaluation)
    # Nothing is said when the statements clear every CVE.
    both = statements + openvex(statement("CVE-2014-9999", "fixed"), name="b.json")
    evaluation = evaluate(report, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=both))
    assert "VEX leaves" not in render_markdown(evaluation)


def test_a_finding_cleared_by_several_statements_names_each_in_every_output() -> None:
    report, httpclient = ghsa_report()
    statements = openvex(
        statement("CVE-2014-3577", "not_affected"),
        statement("CVE-2014-9999", "not_affected", justification="component_not_present"),
        statement("CVE-2000-0001", "not_affected"),
    )
    evaluation = evaluate(report, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=statements))
    (decision,) = evaluation.decisions
    assert decision.disposition is Disposition.ALLOWLISTED
    assert str(decision.rule) == "vex:app.openvex.json#1"
    assert decision.reason == (
        "VEX not_affected for each of its 2 CVEs (vulnerable_code_not_in_execute_path; component_not_present) "
        "by Platform team, 2024-05-01T12:00:00Z"
    )
    # Each statement is used, by the one finding they clear together.
    assert [(e.statement.index, e.matched) for e in evaluation.vex_entries] == [(0, 1), (1, 1), (2, 0)]
    (finding,) = json.loads(render_json(evaluation))["findings"]
    assert finding["rule"] == str(decision.rule)
    assert finding["vex"]["statements"] == ["vex:app.openvex.json#0", "vex:app.openvex.json#1"]
    assert finding["vex"]["justification"] == "vulnerable_code_not_in_execute_path; component_not_present"
    assert "app.openvex.json: statements[0]; app.openvex.json: statements[1]" in " ".join(
        explain(evaluation, httpclient.vulnerability_id)[0].split()
    )
    # Written out as OpenVEX, the decision has no single label: its reason says why.
    written = render_openvex_decisions(evaluation)
    assert written is not None
    (out,) = json.loads(written)["statements"]
    assert out["status"] == "not_affected"
    assert "justification" not in out
    assert out["impact_statement"] == decision.reason
    # Read back, it clears the finding alone: it names the advisory's every CVE.
    again = evaluate(
        report,
        Policy(source="policy.yaml"),
        NOW,
        EvaluationInputs(vex=parse_vex(written.encode(), "out.json")),
    )
    assert [(d.disposition, str(d.rule)) for d in again.decisions] == [
        (Disposition.ALLOWLISTED, "vex:out.json#0")
    ]


def test_findings_cleared_by_different_statements_together_are_written_apart() -> None:
    """Two packages with one advisory, each cleared by its own statement about one CVE and a shared
    one about the other (the latest, so the rule of both): written as OpenVEX, each package keeps
    what its own statements say."""
    ids = ("CVE-2024-0001", "CVE-2024-0002")
    alpha, beta = (
        made_finding("GHSA-aaaa-bbbb-cccc", pkg=name, type="npm", purl=f"pkg:npm/{name}@1.0.0", aliases=ids)
        for name in ("alpha", "beta")
    )
    image = ImageInfo(reference="registry.example/app:1", digest="sha256:" + "a" * 64)
    statements = openvex(
        statement(
            "CVE-2024-0001", "not_affected", {"@id": "pkg:npm/alpha"}, justification="component_not_present"
        ),
        statement("CVE-2024-0001", "fixed", {"@id": "pkg:npm/beta"}),
        {
            **statement("CVE-2024-0002", "fixed"),
            "products": [{"@id": "pkg:npm/alpha"}, {"@id": "pkg:npm/beta"}],
        },
    )
    made = ScanReport(findings=(alpha, beta), scanners=(), image=image, sources=("report.json",))
    evaluation = evaluate(made, Policy(source="policy.yaml"), NOW, EvaluationInputs(vex=statements))
    assert [(d.disposition, str(d.rule)) for d in evaluation.decisions] == [
        (Disposition.ALLOWLISTED, "vex:app.openvex.json#2")
    ] * 2
    written = render_openvex_decisions(evaluation)
    assert written is not None
    said = {
        tuple(sub["@id"] for product in out["products"] for sub in product.get("subcomponents", ())): (
            out["status"],
            out.get("justification"),
        )
        for out in json.loads(written)["statements"]
    }
    assert said == {
        ("pkg:npm/alpha@1.0.0",): ("not_affected", "component_not_present"),
        ("pkg:npm/beta@1.0.0",): ("fixed", None),
    }


def test_snyk_findings_are_matched_by_the_purls_of_their_packages() -> None:
    """Snyk gives no package URL: its package manager, name and version make the one Trivy and
    Grype give the same package, so statements naming it (alone, or inside the image) apply."""
    report = load_report(corpus_file("snyk", "resultJsonDataNonGrouped.json"))
    busybox = next(f for f in report.findings if f.package.name == "busybox")
    connect = next(f for f in report.findings if f.vulnerability_id == "CVE-2013-7370")
    assert (busybox.package.purl, connect.package.purl) == (
        "pkg:apk/alpine/busybox@1.31.1-r21",
        "pkg:npm/connect@1.9.2",
    )
    image = {"@id": "pkg:oci/cli-grouping?tag=latest"}
    statements = openvex(
        not_affected({"@id": "pkg:apk/alpine/busybox"}, vulnerability="CVE-2021-28831"),
        not_affected(
            {**image, "subcomponents": [{"@id": "pkg:npm/connect@1.9.2"}]}, vulnerability="CVE-2013-7370"
        ),
    )
    index = VexIndex(statements, report.image)
    assert [index.decide(f) for f in (busybox, connect)] == list(statements)
    assert [decide(statements, f, report.image) for f in (busybox, connect)] == list(statements)
    # Another package of the same source is not busybox.
    ssl_client = next(f for f in report.findings if f.package.name == "ssl_client")
    assert index.decide(ssl_client) is None
    # A Debian package, its version with an epoch and a `+`.
    debian = load_report(corpus_file("snyk", "test-report-container-with-app-vulns.json"))
    zlib = next(f for f in debian.findings if f.package.name == "zlib1g")
    (statement,) = openvex(
        not_affected({"@id": "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1+deb10u1"}, vulnerability="CVE-2022-37434")
    )
    assert decide((statement,), zlib, debian.image) == statement


def _epoch_findings() -> dict[str, Finding]:
    """A package with an epoch as each scanner names it: Trivy's openssl-libs (an `epoch=1`
    qualifier), Snyk's zlib1g (the epoch in the version) and Grype's, whose purl is Syft's (the
    epoch in the version; no Grype report of the corpus has a package with an epoch, so the
    keycloak report's first match is made zlib1g's as Grype reports a Debian package)."""
    trivy = load_report(corpus_file("trivy", "centos-7.json.golden"))
    snyk = load_report(corpus_file("snyk", "snyk-to-html__test-report-container-with-app-vulns.json"))
    doc = corpus_json("grype", "keycloak-test.json")
    artifact = doc["matches"][0]["artifact"]
    artifact.update(
        name="zlib1g",
        version="1:1.2.11.dfsg-1+deb10u1",
        type="deb",
        purl="pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1+deb10u1?arch=amd64&upstream=zlib&distro=debian-10",
    )
    grype = parse_grype(doc, "grype.json")
    return {
        "trivy": next(f for f in trivy.findings if f.package.name == "openssl-libs"),
        "snyk": next(f for f in snyk.findings if f.package.name == "zlib1g"),
        "grype": next(f for f in grype.findings if f.package.name == "zlib1g"),
    }


def test_an_epoch_in_the_version_or_as_a_qualifier_names_the_same_package() -> None:
    """Trivy writes an epoch as a purl qualifier, Grype and Snyk in the version: a statement
    written either way applies to the package from any of them."""
    findings = _epoch_findings()
    assert "epoch=1" in (findings["trivy"].package.purl or "")
    assert "@1:" in (findings["snyk"].package.purl or "")
    assert "@1:" in (findings["grype"].package.purl or "")
    forms = {
        "trivy": (
            "pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?epoch=1",
            "pkg:rpm/centos/openssl-libs@1:1.0.2k-16.el7",
        ),
        "snyk": (
            "pkg:deb/debian/zlib1g@1.2.11.dfsg-1%2Bdeb10u1?epoch=1",
            "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1+deb10u1",
        ),
    }
    forms["grype"] = forms["snyk"]
    for scanner, finding in findings.items():
        vulnerability = finding.vulnerability_id
        for product in forms[scanner]:
            (statement,) = openvex(not_affected({"@id": product}, vulnerability=vulnerability))
            assert applicable(statement, finding, None), (scanner, product)
        # Another epoch is another version.
        other = forms[scanner][1].replace("@1:", "@2:")
        (statement,) = openvex(not_affected({"@id": other}, vulnerability=vulnerability))
        assert not applicable(statement, finding, None), (scanner, other)


def test_a_grype_multi_arch_image_is_named_by_its_repository_digest() -> None:
    """Grype's `source.target` of a registry image: `repoDigests` holds the digest its tag resolves
    to (the index of a multi-arch image), `manifestDigest` the platform manifest's and `imageID`
    the config's. Documents name the image by the first, as Grype matches it."""
    report = load_report(corpus_file("grype", "chainguard-ruby-test.json"))
    assert report.image is not None
    index = "sha256:3c9afb4f188827ea1062ec3b8acea32893236a0d7df31e0498df93486cff0978"
    assert (report.image.digest, report.image.image_id) == (
        index,
        "sha256:2f88265cfbc43ca35cd327347a9f59375b9f29ef998b8a54a882e31111266640",
    )
    ruby = report.findings[0]
    for product in (
        f"pkg:oci/ruby@sha256%3A{index[7:]}?repository_url=cgr.dev%2Fchainguard%2Fruby",
        f"cgr.dev/chainguard/ruby@{index}",
        index,
    ):
        (statement,) = openvex(not_affected({"@id": product}, vulnerability=ruby.vulnerability_id))
        assert applicable(statement, ruby, report.image), product


def test_a_multi_arch_image_is_named_by_its_platform_manifest_digest_too() -> None:
    """An OCI purl's version is the digest of the artifact (the purl spec's `oci` type): the
    platform's image manifest is an artifact of its own, the one scanned, so a statement naming it
    is about this image, as one naming the index that lists it is. Another platform's is not."""
    report = load_report(corpus_file("grype", "chainguard-ruby-test.json"))
    assert report.image is not None
    manifest = "sha256:86abe662dfa3746038eea6b0db91092b0767d78b8b8938a343d614cd1579adc2"
    assert report.image.manifest_digest == manifest
    ruby = report.findings[0]
    other = "sha256:" + "0" * 64
    for digest, applies in ((manifest, True), (other, False)):
        for product in (
            f"pkg:oci/ruby@sha256%3A{digest[7:]}?repository_url=cgr.dev%2Fchainguard%2Fruby",
            f"pkg:oci/ruby@sha256%3A{digest[7:]}?arch=arm64&repository_url=cgr.dev%2Fchainguard%2Fruby",
            f"cgr.dev/chainguard/ruby@{digest}",
            digest,
        ):
            (statement,) = openvex(not_affected({"@id": product}, vulnerability=ruby.vulnerability_id))
            assert applicable(statement, ruby, report.image) is applies, product
    # The statement of a CycloneDX VEX document naming the image by that purl applies alike.
    cdx = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "container", "name": "ruby", "bom-ref": "image"}},
        "vulnerabilities": [
            {
                "id": ruby.vulnerability_id,
                "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                "affects": [
                    {
                        "ref": f"pkg:oci/ruby@sha256%3A{manifest[7:]}?repository_url=cgr.dev%2Fchainguard%2Fruby"
                    }
                ],
            }
        ],
    }
    (statement,) = parse_vex(json.dumps(cdx).encode(), "app.cdx.json")
    assert applicable(statement, ruby, report.image)
