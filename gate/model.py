"""The normalized model every scanner parser produces and every later stage reads.

All types are frozen: a finding, once parsed, is never changed in place. Stages that
add knowledge (the image's layers, a merge of several scanners) build new objects
with `dataclasses.replace`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """Ordered severity: a threshold is one comparison (`finding.severity >= threshold`)."""

    UNKNOWN = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str | None) -> Severity:
        """Reads a scanner's severity word in any case ("High", "critical", "moderate").

        Words no scanner documents become UNKNOWN rather than an error: a finding
        of unknown severity is still reported (and blocks under a policy that says so).
        """
        if not text:
            return cls.UNKNOWN
        word = text.strip().upper()
        # Snyk and GitHub advisories say "moderate" where others say "medium";
        # Grype says "Negligible" for what others call low.
        word = {"MODERATE": "MEDIUM", "NEGLIGIBLE": "LOW", "NONE": "UNKNOWN"}.get(word, word)
        try:
            return cls[word]
        except KeyError:
            return cls.UNKNOWN


class VendorStatus(enum.Enum):
    """The vendor's statement about a vulnerability in a package (Trivy's vocabulary).

    Grype's `fix.state` and Snyk's fix data are mapped into these values by their parsers.
    """

    FIXED = "fixed"
    AFFECTED = "affected"
    UNDER_INVESTIGATION = "under_investigation"
    WILL_NOT_FIX = "will_not_fix"
    FIX_DEFERRED = "fix_deferred"
    END_OF_LIFE = "end_of_life"
    NOT_AFFECTED = "not_affected"
    UNKNOWN = "unknown"


class LayerOrigin(enum.Enum):
    """Whether a layer came from the base image or from the application's own build steps."""

    BASE = "base"
    OWN = "own"


@dataclass(frozen=True)
class Package:
    """An installed package as the scanner saw it."""

    name: str
    """The package name in its ecosystem (binary package name for OS packages)."""
    version: str
    """The installed version, exactly as the scanner printed it."""
    type: str = ""
    """The ecosystem or package type: `debian`, `alpine`, `pip`, `npm`, `jar`, `gemspec`, ..."""
    purl: str | None = None
    """The package URL (https://github.com/package-url/purl-spec) when the scanner gave one; for a
    Snyk package, which has none, the one its package manager, name and version make, if any."""
    path: str = ""
    """Where in the image the package was found, without a leading slash; empty for OS packages."""
    source_name: str | None = None
    """The source package an OS package was built from, when known (`zlib` for `zlib1g`)."""
    source_version: str | None = None
    """The source package's version (`1:1.2.13.dfsg-1`), when known: distributions publish fixes
    per source package, so fixed versions compare against it."""


@dataclass(frozen=True)
class Cvss:
    """One CVSS assessment."""

    score: float
    """The base score, 0.0-10.0."""
    vector: str | None = None
    """The vector string, such as `CVSS:3.1/AV:N/AC:L/...`."""
    source: str | None = None
    """Who scored it: `nvd`, `ghsa`, `redhat`, ..."""


@dataclass(frozen=True)
class Layer:
    """The image layer a finding's package was installed by."""

    diff_id: str | None = None
    """The uncompressed layer digest (`rootfs.diff_ids` entry), the stable identity of a layer."""
    digest: str | None = None
    """The compressed blob digest, when the scanner reported it."""
    index: int | None = None
    """Position in `rootfs.diff_ids`, 0 for the bottom layer; None until the image is known."""
    created_by: str | None = None
    """The history instruction that created the layer (`RUN apt-get install ...`)."""
    origin: LayerOrigin | None = None
    """Base image or own layer; None when the base image is unknown."""
    dockerfile_line: int | None = None
    """1-based line in the Dockerfile of the instruction that created the layer, when mapped."""


@dataclass(frozen=True)
class Assessment:
    """What one report said about a finding, kept when the reports of several scanners (or
    files) are merged into it: the merged finding takes the worst case of them."""

    scanner: str
    """The scanner that reported it (`trivy`, `grype`, `snyk`)."""
    source: str | None
    """The report file it came from, or the image scanned; None when not known."""
    severity: Severity
    """The severity that report gave."""
    status: VendorStatus
    """The vendor status that report gave."""
    fixed_versions: tuple[str, ...] = ()
    """The fixed versions that report gave."""


@dataclass(frozen=True)
class DirectUpgrade:
    """The upgrade of an application's direct dependency that fixes a finding in a package it
    pulls in (Snyk's `upgradePath`): what a developer changes in the project's manifest."""

    name: str
    """The direct dependency (`express`)."""
    version: str
    """Its installed version (`2.5.11`)."""
    target: str
    """The version to upgrade it to (`3.0.0`), newer than the installed one."""


@dataclass(frozen=True)
class Finding:
    """One vulnerability in one installed package."""

    vulnerability_id: str
    """The primary id: a CVE when the vulnerability has one, else the scanner's id."""
    package: Package
    """The affected package."""
    severity: Severity = Severity.UNKNOWN
    """The severity the scanner assigned."""
    aliases: tuple[str, ...] = ()
    """Other ids for the same vulnerability (GHSA, distro advisories), primary id excluded."""
    fixed_versions: tuple[str, ...] = ()
    """Versions that fix it; empty when no fix is known."""
    status: VendorStatus = VendorStatus.UNKNOWN
    """The vendor's status for this package."""
    cvss: Cvss | None = None
    """The best CVSS assessment (highest version, then NVD, then vendor), if any."""
    title: str | None = None
    """A one-line title."""
    description: str | None = None
    """The longer description, as untrusted text from the report."""
    primary_url: str | None = None
    """The main page about the vulnerability."""
    layer: Layer | None = None
    """The layer that installed the package, when the scanner or the image says so."""
    scanners: tuple[str, ...] = ()
    """Names of the scanners that reported this finding (`trivy`, `grype`, `snyk`)."""
    assessments: tuple[Assessment, ...] = ()
    """What each report said, when several reports of this finding were merged; empty for a
    finding only one report gave."""
    arch_suspect: str | None = None
    """Why an earlier run of the gate found it limited to another CPU architecture than the
    image's (a decision report's `suspect_reason`, read back without the description it was
    found in); None when that run found no such thing or did not look."""
    arch_checked: bool = False
    """True when `arch_suspect` is what an earlier run found, suspect or not (a decision report
    whose run looked for suspects): the title the report keeps is not looked in again, since
    without the description it may say what that run's test did not find."""
    direct_upgrades: tuple[DirectUpgrade, ...] = ()
    """For a package an application pulls in through another one: the upgrades of its direct
    dependencies that fix it, one per dependency path (Snyk's `from` and `upgradePath`); empty
    when a path has none named (the package is a direct dependency there, or is fixed below its
    direct dependency, or by no upgrade of it): only the package's own upgrade clears every path."""
    no_direct_upgrade: bool = False
    """True when the scanner says that no upgrade of a direct dependency fixes it (Snyk's
    `isUpgradable: false` for a package pulled in through another): only the package itself,
    pinned or overridden, takes the fix."""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity of a finding: (vulnerability, package, version, path)."""
        return (self.vulnerability_id, self.package.name, self.package.version, self.package.path)

    @property
    def ids(self) -> tuple[str, ...]:
        """The primary id followed by every alias."""
        return (self.vulnerability_id, *self.aliases)

    @property
    def fixable(self) -> bool:
        """True when a fixed version is known, or the vendor says a fix exists without naming
        the package's version (Snyk: an upgrade of the dependency that pulls the package in)."""
        return bool(self.fixed_versions) or self.status is VendorStatus.FIXED


@dataclass(frozen=True)
class ScannerInfo:
    """Which scanner produced a report, and with which data."""

    name: str
    """`trivy`, `grype` or `snyk`."""
    version: str | None = None
    """The scanner's version, if the report says."""
    db_updated_at: str | None = None
    """When the vulnerability database was built (RFC 3339), if known."""
    source: str | None = None
    """The report file this came from, or None for a scan the gate ran itself."""


@dataclass(frozen=True)
class LayerInfo:
    """One layer of the image, from its config and history."""

    diff_id: str
    """The uncompressed layer digest."""
    created_by: str | None = None
    """The history instruction that created it."""
    origin: LayerOrigin | None = None
    """Base image or own; None when the base image is unknown."""
    dockerfile_line: int | None = None
    """The Dockerfile line of the instruction, when a Dockerfile was given."""


@dataclass(frozen=True)
class ImageInfo:
    """What is known about the scanned image itself."""

    reference: str
    """The reference the user gave (`ghcr.io/acme/app:1.2`, `docker-archive:app.tar`)."""
    digest: str | None = None
    """The repository digest (`sha256:...`), when the image was pushed or pulled: for a
    multi-platform image, its index's."""
    image_id: str | None = None
    """The config digest (`sha256:...`)."""
    manifest_digest: str | None = None
    """The digest of the image's own manifest (`sha256:...`), when known: for a multi-platform
    image, the manifest of the one platform scanned, which `digest` (the index) lists."""
    os: str | None = None
    """Operating system of the image (`linux`)."""
    architecture: str | None = None
    """CPU architecture (`amd64`, `arm64`), with variant when there is one (`arm/v7`)."""
    distro: str | None = None
    """The detected distribution, such as `debian 12.5`."""
    size: int | None = None
    """Image size in bytes."""
    layers: tuple[LayerInfo, ...] = ()
    """The layers, bottom first."""
    labels: tuple[tuple[str, str], ...] = ()
    """Image labels as sorted (key, value) pairs."""
    base_image: str | None = None
    """The base image reference, when known."""
    base_layer_count: int | None = None
    """How many of the bottom layers belong to the base image, when known."""
    created: str | None = None
    """When the image was built: its config's `created` (RFC 3339, as written), when known."""
    base_sought: bool = False
    """True when the gate read the image itself (`scan`) and looked for its base image (in
    `--base-image`, `--dockerfile` and the image's base-name label): a base image it did not find
    is one those options would give. A scanner's report, read by `check`, is not looked into."""

    @property
    def platform(self) -> str | None:
        """`os/architecture`, or None when unknown."""
        if self.os and self.architecture:
            return f"{self.os}/{self.architecture}"
        return None


@dataclass(frozen=True)
class ScanReport:
    """Everything one or several scanners said about one image."""

    findings: tuple[Finding, ...]
    """The findings, in the order the scanners reported them, duplicates merged."""
    scanners: tuple[ScannerInfo, ...] = ()
    """Each scanner run or report file that contributed."""
    image: ImageInfo | None = None
    """The image, when the report or the engine says what it was."""
    sources: tuple[str, ...] = field(default=())
    """The report files read, or the image reference scanned."""
    warnings: tuple[str, ...] = ()
    """Things the user should know that do not change the findings (an old vulnerability DB)."""
    package_count: int | None = None
    """How many packages the scanner found in the image, vulnerable or not, when its report lists
    them (Trivy's `Results[].Packages`); None when the report does not say."""
    named_after: tuple[str, ...] = ()
    """The report files a run without an image is named after where it needs a name (the SARIF
    category after the first, the JUnit suite after all), when not its `sources`: a decision
    report read back gives the files its run was named after, every one, so that the alerts of
    its SARIF stay in the category they were in and its tests in their suite."""
    run_warnings: tuple[str, ...] = ()
    """Those of `warnings` that the run added about its own inputs (the policy's, the baseline's,
    scan options not used) rather than what the reports read or the scan said: the decision
    report's `report_warnings` leaves them out, as a run that reads it back judges them again."""
