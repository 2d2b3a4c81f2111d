"""Every VEX document of the corpus: the exact statements it reads as, and its effect on the corpus
reports (tests/data/PROVENANCE.md says where each file comes from)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from gate.enrich.vex import (
    VexComponent,
    VexFormat,
    VexIndex,
    VexProduct,
    VexStatement,
    VexStatus,
    applicable,
    decide,
    load_vex,
)
from gate.model import Finding, ImageInfo, Package
from gate.scanners.ingest import load_report
from tests.support.corpus import REPORT_KINDS, corpus_file, corpus_files

NOT_AFFECTED, AFFECTED, FIXED = VexStatus.NOT_AFFECTED, VexStatus.AFFECTED, VexStatus.FIXED
UNDER_INVESTIGATION = VexStatus.UNDER_INVESTIGATION
IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path"
NOT_PRESENT = "vulnerable_code_not_present"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def product(identifier: str, *subcomponents: str) -> VexProduct:
    return VexProduct((identifier,), tuple(VexComponent((sub,)) for sub in subcomponents))


def statement(
    vulnerability_id: str,
    products: tuple[VexProduct, ...],
    status: VexStatus,
    *,
    aliases: tuple[str, ...] = (),
    justification: str | None = None,
    impact: str | None = None,
    author: str | None = None,
    timestamp: datetime | None = None,
    location: str = "",
    fmt: VexFormat = VexFormat.OPENVEX,
    unfollowed: tuple[str, ...] = (),
) -> VexStatement:
    """A statement as read from a corpus file; `source` and `index` are set by `of_file`."""
    return VexStatement(
        vulnerability_id=vulnerability_id,
        aliases=aliases,
        products=products,
        status=status,
        justification=justification,
        impact_statement=impact,
        action_statement=None,
        status_notes=None,
        author=author,
        timestamp=timestamp,
        source="",
        index=-1,
        location=location,
        format=fmt,
        unfollowed=unfollowed,
    )


GRYPE_IMAGE = "pkg:oci/alpine@sha256%3A" + "f" * 64
GRYPE_PACKAGE = "pkg:apk/alpine/libvncserver@0.9.9?arch=x86_64&distro=alpine-3.12.0"
GRYPE_AUTHOR = "The OpenVEX Project <openvex@openssf.org>"
SPRING_BOOT = "pkg:maven/org.springframework.boot/spring-boot@2.6.0"
TRIVY_SBOM = "3e671687-395b-41f5-a30f-a58921a69b79"
TRIVY_BINARY = "pkg:golang/github.com/aquasecurity/trivy"
GOVULNCHECK = "Govulncheck determined that the vulnerable code isn't called"
TRIVY_TIME = when("2024-07-09T11:38:00.115697+04:00")
AQUA_TIME = when("2023-01-16T19:07:16.853479-06:00")

# Trivy's VEX file for its own binary: (Go advisory, aliases, dependency, justification).
TRIVY_SELF = [
    ("GO-2024-2575", ("CVE-2024-26147", "GHSA-r53h-jv2g-vpx6"), "helm.sh/helm/v3", IN_EXECUTE_PATH),
    ("GO-2023-1765", ("CVE-2023-1732", "GHSA-2q89-485c-9j2x"), "github.com/cloudflare/circl", NOT_PRESENT),
    ("GO-2024-2512", ("CVE-2024-24557", "GHSA-xw73-rw38-6vjc"), "github.com/docker/docker", NOT_PRESENT),
    ("GO-2024-2453", ("GHSA-9763-4f94-gfch",), "github.com/cloudflare/circl", NOT_PRESENT),
    ("GO-2023-2048", ("GHSA-6xv5-86q9-7xr8",), "github.com/cyphar/filepath-securejoin", IN_EXECUTE_PATH),
    ("GO-2024-2497", ("CVE-2024-23653", "GHSA-wr6v-9f75-vh2g"), "github.com/moby/buildkit", NOT_PRESENT),
    ("GO-2023-2102", ("CVE-2023-39325", "GHSA-4374-p667-p6c8"), "golang.org/x/net", IN_EXECUTE_PATH),
    ("GO-2024-2493", ("CVE-2024-23651", "GHSA-m3r6-h7wv-7xxv"), "github.com/moby/buildkit", NOT_PRESENT),
    (
        "GO-2024-2491",
        ("CVE-2024-21626", "GHSA-xr7r-f8xq-vfvv"),
        "github.com/opencontainers/runc",
        NOT_PRESENT,
    ),
    ("GO-2024-2494", ("CVE-2024-23652", "GHSA-4v98-7qmw-rqr8"), "github.com/moby/buildkit", NOT_PRESENT),
    ("GO-2023-2412", ("GHSA-7ww5-4wqc-m92c",), "github.com/containerd/containerd", NOT_PRESENT),
    ("GO-2023-1988", ("CVE-2023-3978", "GHSA-2wrh-6pvc-2jm9"), "golang.org/x/net", IN_EXECUTE_PATH),
    ("GO-2024-2492", ("CVE-2024-23650", "GHSA-9p26-698r-w4hx"), "github.com/moby/buildkit", NOT_PRESENT),
    (
        "GO-2022-0646",
        ("CVE-2020-8911", "CVE-2020-8912", "GHSA-7f33-f4f5-xwgw", "GHSA-f5pg-7wfw-84q9"),
        "github.com/aws/aws-sdk-go",
        NOT_PRESENT,
    ),
    ("GO-2023-2153", ("GHSA-m425-mq94-257g",), "google.golang.org/grpc", IN_EXECUTE_PATH),
    ("GO-2024-3105", ("CVE-2024-34155",), "stdlib", IN_EXECUTE_PATH),
    ("GO-2024-3106", ("CVE-2024-34156",), "stdlib", IN_EXECUTE_PATH),
    ("GO-2024-3107", ("CVE-2024-34158",), "stdlib", IN_EXECUTE_PATH),
    ("GO-2024-3321", ("CVE-2024-45337", "GHSA-v778-237x-gjrc"), "golang.org/x/crypto", IN_EXECUTE_PATH),
    ("GO-2024-3333", ("CVE-2024-45338",), "golang.org/x/net", IN_EXECUTE_PATH),
    (
        "GO-2025-4192",
        ("CVE-2025-66564", "GHSA-4qg8-fj49-pxjh"),
        "github.com/sigstore/timestamp-authority@v1.2.2",
        NOT_PRESENT,
    ),
]
GO_3106_IMPACT = (
    "Govulncheck incorrectly marks this vulnerability as affected. The vulnerable code isn't called. "
    "See https://github.com/aquasecurity/trivy/issues/7478"
)

EXPECTED: dict[str, list[VexStatement]] = {
    "anchore-grype__affected.openvex.json": [
        statement(
            "CVE-2024-0000",
            (product(GRYPE_IMAGE, GRYPE_PACKAGE),),
            AFFECTED,
            author=GRYPE_AUTHOR,
            timestamp=when("2023-07-17T18:28:47.696004-06:00"),
            location="statements[0]",
        )
    ],
    "anchore-grype__under_investigation.openvex.json": [
        statement(
            "CVE-2024-0000",
            (product(GRYPE_IMAGE, GRYPE_PACKAGE),),
            UNDER_INVESTIGATION,
            author=GRYPE_AUTHOR,
            # The statement's own timestamp, a day before the document's.
            timestamp=when("2023-07-16T18:28:47.696004-06:00"),
            location="statements[0]",
        )
    ],
    "aquasecurity-trivy__.vex-trivy.openvex.json": [
        statement(
            name,
            (product(TRIVY_BINARY, f"pkg:golang/{dependency}"),),
            NOT_AFFECTED,
            # The vulnerability's @id is one more name for it.
            aliases=(*aliases, f"https://pkg.go.dev/vuln/{name}"),
            justification=justification,
            impact=GO_3106_IMPACT if name == "GO-2024-3106" else GOVULNCHECK,
            author="Aqua Security",
            timestamp=TRIVY_TIME,
            location=f"statements[{index}]",
        )
        for index, (name, aliases, dependency, justification) in enumerate(TRIVY_SELF)
    ],
    "aquasecurity-trivy__integration-testdata-fixtures-vex-file-openvex.json": [
        statement(
            "CVE-2022-23628",  # named by its @id only
            (
                product(
                    "pkg:golang/github.com/testdata/testdata",
                    "pkg:golang/github.com/open-policy-agent/opa@v0.35.0",
                ),
            ),
            NOT_AFFECTED,
            justification=IN_EXECUTE_PATH,
            impact="The vulnerable code isn't called",
            author="Aqua Security",
            timestamp=TRIVY_TIME,
            location="statements[0]",
        )
    ],
    "aquasecurity-trivy__pkg-vex-testdata-csaf.json": [
        statement(
            "CVE-2024-0001",
            (product("pkg:golang/github.com/aquasecurity/go-transitive@v4.0.0"),),
            NOT_AFFECTED,
            # A threat of category impact is an impact statement, not a justification label.
            impact=IN_EXECUTE_PATH,
            author="Example Company ProductCERT",
            timestamp=when("2022-03-03T11:00:00+00:00"),
            location="vulnerabilities[0].product_status.known_not_affected",
            fmt=VexFormat.CSAF,
        )
    ],
    "aquasecurity-trivy__pkg-vex-testdata-csaf-relationships.json": [
        statement(
            "CVE-2024-0001",
            (
                product(
                    "pkg:golang/github.com/aquasecurity/go-direct1@v2.0.0",
                    "pkg:golang/github.com/aquasecurity/go-transitive@v4.0.0",
                ),
            ),
            NOT_AFFECTED,
            justification="vulnerable_code_cannot_be_controlled_by_adversary",
            impact=IN_EXECUTE_PATH,
            author="VMWare, Inc.",
            timestamp=when("2024-01-04T17:17:25+01:00"),
            location="vulnerabilities[0].product_status.known_not_affected",
            fmt=VexFormat.CSAF,
        )
    ],
    "aquasecurity-trivy__pkg-vex-testdata-cyclonedx.json": [
        # Both name their packages by BOM-Links into the SBOM this document is about, not into
        # itself: not followed, so the statements name no product.
        statement(
            "CVE-2021-44228",
            (),
            NOT_AFFECTED,
            justification="code_not_reachable",
            location="vulnerabilities[0]",
            fmt=VexFormat.CYCLONEDX,
            unfollowed=(f"urn:cdx:{TRIVY_SBOM}/1#{SPRING_BOOT}",),
        ),
        statement(
            "CVE-2022-27943",
            (),
            NOT_AFFECTED,
            location="vulnerabilities[1]",
            fmt=VexFormat.CYCLONEDX,
            unfollowed=(
                f"urn:cdx:{TRIVY_SBOM}/1#pkg:deb/ubuntu/libstdc%2B%2B6@12.3.0-1ubuntu1~22.04"
                "?arch=amd64&distro=ubuntu-22.04",
            ),
        ),
    ],
    "aquasecurity-trivy__pkg-vex-testdata-openvex-multiple.json": [
        statement(
            "CVE-2021-44228",
            (product(SPRING_BOOT),),
            AFFECTED,
            author="Aqua Security",
            timestamp=when("2023-01-15T01:02:03.853479-06:00"),
            location="statements[0]",
        ),
        statement(
            "CVE-2021-44228",
            (product(SPRING_BOOT),),
            NOT_AFFECTED,
            justification=IN_EXECUTE_PATH,
            author="Aqua Security",
            timestamp=AQUA_TIME,  # none of its own: the document's
            location="statements[1]",
        ),
    ],
    "aquasecurity-trivy__pkg-vex-testdata-openvex-oci.json": [
        statement(
            "CVE-2022-3715",
            (product("pkg:oci/debian", "pkg:deb/debian/bash"),),
            NOT_AFFECTED,
            justification=IN_EXECUTE_PATH,
            author="Aqua Security",
            timestamp=AQUA_TIME,
            location="statements[0]",
        )
    ],
    "aquasecurity-trivy__pkg-vex-testdata-openvex.json": [
        statement(
            "CVE-2021-44228",
            (product(SPRING_BOOT),),
            NOT_AFFECTED,
            justification=IN_EXECUTE_PATH,
            author="Aqua Security",
            timestamp=AQUA_TIME,
            location="statements[0]",
        )
    ],
}

VEX_FILES = corpus_files("vex")


def of_file(path: Path) -> list[VexStatement]:
    """The expected statements of a corpus file, with their source and index."""
    return [replace(s, source=str(path), index=i) for i, s in enumerate(EXPECTED[path.name])]


def test_every_corpus_vex_file_has_its_expected_statements() -> None:
    assert sorted(path.name for path in VEX_FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", VEX_FILES, ids=[path.name for path in VEX_FILES])
def test_a_corpus_vex_file_reads_as_exactly_its_statements(path: Path) -> None:
    assert list(load_vex(path)) == of_file(path)


def test_reasons_and_rules_name_the_statement() -> None:
    path = corpus_file("vex", "trivy__pkg-vex-testdata-openvex.json")
    (only,) = load_vex(path)
    assert only.rule == f"vex:{path}#0"
    assert only.reason == (
        "VEX not_affected (vulnerable_code_not_in_execute_path) by Aqua Security, 2023-01-17T01:07:16.853479Z"
    )
    csaf = load_vex(corpus_file("vex", "trivy__pkg-vex-testdata-csaf.json"))[0]
    assert csaf.reason == (
        "VEX not_affected (vulnerable_code_not_in_execute_path) by Example Company ProductCERT, 2022-03-03T11:00:00Z"
    )
    cyclonedx = load_vex(corpus_file("vex", "trivy__pkg-vex-testdata-cyclonedx.json"))[1]
    assert cyclonedx.reason == "VEX not_affected"


# --- Effects on the corpus reports ---------------------------------------------------------------


def _corpus_reports() -> list[tuple[Path, list[Finding], ImageInfo | None]]:
    out = []
    for kind in REPORT_KINDS:
        for path in corpus_files(kind):
            report = load_report(path)
            out.append((path, list(report.findings), report.image))
    return out


def test_no_corpus_vex_statement_applies_to_a_corpus_finding() -> None:
    """The corpus documents were written for the scanners' own test fixtures, not for the reports
    of the corpus: where a statement and a finding share a vulnerability, the product differs.
    - Trivy's gomod-vex golden is the output of the scan the integration VEX file was written for:
      Trivy had already dropped CVE-2022-23628 from it.
    - ubuntu-gp2-x86-vm has CVE-2022-3715 in bash, the vulnerability of openvex-oci.json; but it is
      a VM disk, not an image named `debian`, and its bash is `pkg:deb/ubuntu/bash`.
    - No corpus report has spring-boot 2.6.0, libstdc++6 of Ubuntu 22.04, go-transitive, Trivy's
      own binary or Grype's made-up CVE-2024-0000."""
    statements = [s for path in VEX_FILES for s in load_vex(path)]
    ids = {i.upper() for s in statements for i in s.ids}
    sharing: list[tuple[str, str]] = []
    for path, findings, image in _corpus_reports():
        index = VexIndex(statements, image)
        for finding in findings:
            assert index.applicable(finding) == []
            assert decide(statements, finding, image) is None
            if {i.upper() for i in finding.ids} & ids:
                sharing.append((path.name, finding.vulnerability_id))
    assert sharing == [("aquasecurity-trivy__ubuntu-gp2-x86-vm.json.golden", "CVE-2022-3715")]


def test_trivy_applied_its_integration_vex_file_to_the_gomod_golden() -> None:
    report = load_report(corpus_file("trivy", "trivy__gomod-vex.json.golden"))
    (stmt,) = load_vex(corpus_file("vex", "integration-testdata-fixtures-vex-file-openvex.json"))
    assert "CVE-2022-23628" not in {i for f in report.findings for i in f.ids}
    assert sorted({f.vulnerability_id for f in report.findings}) == ["CVE-2021-38561", "GMS-2022-20"]
    # The statement names the go.mod's own module as the product and opa as its part. The gate
    # applies neither to the opa package itself nor to an image: which module holds which
    # dependency is in Trivy's SBOM, not in a findings report.
    opa = Finding(
        "CVE-2022-23628",
        Package(
            "github.com/open-policy-agent/opa",
            "v0.35.0",
            "gomod",
            "pkg:golang/github.com/open-policy-agent/opa@v0.35.0",
            "go.mod",
        ),
    )
    assert not applicable(stmt, opa, report.image)
    assert not applicable(stmt, opa, ImageInfo("ghcr.io/acme/app:1"))


def test_the_oci_statement_applies_to_debian_bash_in_an_image_named_debian() -> None:
    """openvex-oci.json names `pkg:oci/debian` (no version: any digest, any registry) with bash as
    its part: the ubuntu-gp2 finding of the same vulnerability is out of it on two counts."""
    (stmt,) = load_vex(corpus_file("vex", "trivy__pkg-vex-testdata-openvex-oci.json"))
    report = load_report(corpus_file("trivy", "trivy__ubuntu-gp2-x86-vm.json.golden"))
    (finding,) = [f for f in report.findings if f.vulnerability_id == "CVE-2022-3715"]
    assert report.image is None
    assert not applicable(stmt, finding, report.image)
    assert not applicable(stmt, finding, ImageInfo("debian:bookworm"))  # ubuntu's bash
    debian_bash = Finding(
        "CVE-2022-3715",
        Package("bash", "5.2.15-2+b2", "debian", "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64"),
    )
    assert applicable(stmt, debian_bash, ImageInfo("debian:bookworm"))
    assert applicable(stmt, debian_bash, ImageInfo("registry.example.com/mirror/debian@sha256:" + "a" * 64))
    assert not applicable(stmt, debian_bash, ImageInfo("ubuntu:22.04"))
    assert not applicable(stmt, debian_bash, None)


def test_of_two_statements_the_later_one_speaks() -> None:
    """openvex-multiple.json: `affected` on the 15th, `not_affected` (document time) on the 16th."""
    statements = load_vex(corpus_file("vex", "trivy__pkg-vex-testdata-openvex-multiple.json"))
    spring = Finding("CVE-2021-44228", Package("spring-boot", "2.6.0", "jar", SPRING_BOOT, "app/app.jar"))
    assert [s.status for s in statements if applicable(s, spring, None)] == [AFFECTED, NOT_AFFECTED]
    decided = decide(statements, spring, None)
    assert decided is not None
    assert (decided.index, decided.status) == (1, NOT_AFFECTED)
    # Reversed in the input, the timestamps still decide.
    assert decide(list(reversed(statements)), spring, None) == decided
    assert VexIndex(statements, None).decide(spring) == decided
