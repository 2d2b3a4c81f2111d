"""Architecture suspects: the real cases of the corpus, the negative controls, and the vocabulary."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gate.enrich.arch import _MENTIONS, ARCHITECTURES, arch_suspect, architecture_of
from gate.model import Finding, Package
from tests.support.corpus import corpus_file


def finding(description: str | None = None, title: str | None = None) -> Finding:
    return Finding(
        vulnerability_id="CVE-2099-0001",
        package=Package(name="libc6", version="2.28-10"),
        title=title,
        description=description,
    )


def gitlab_finding(cve: str) -> Finding:
    doc = json.loads(corpus_file("gitlab", "5-vuln_v15.json").read_text(encoding="utf-8"))
    (entry,) = [vuln for vuln in doc["vulnerabilities"] if vuln["cve"] == cve]
    return Finding(
        vulnerability_id=cve,
        package=Package(name=entry["location"]["dependency"]["package"]["name"], version="2.28-10"),
        description=entry["description"],
    )


def snyk_finding(cve: str) -> Finding:
    doc = json.loads(corpus_file("snyk", "docker-no-fixable__vulns.json").read_text(encoding="utf-8"))
    entry = next(vuln for vuln in doc["vulnerabilities"] if cve in vuln["identifiers"]["CVE"])
    return Finding(
        vulnerability_id=cve,
        package=Package(name=entry["packageName"], version=entry["version"]),
        title=entry["title"],
        description=entry["description"],
    )


def trivy_centos6(cve: str) -> tuple[Finding, str]:
    doc: Any = json.loads(corpus_file("trivy", "centos-6.json.golden").read_text(encoding="utf-8"))
    entry = next(
        v
        for result in doc["Results"]
        for v in result.get("Vulnerabilities") or []
        if v["VulnerabilityID"] == cve
    )
    config = doc["Metadata"]["ImageConfig"]
    found = Finding(
        vulnerability_id=cve,
        package=Package(name=entry["PkgName"], version=entry["InstalledVersion"]),
        title=entry["Title"],
        description=entry["Description"],
    )
    return found, f"{config['os']}/{config['architecture']}"


def test_the_glibc_powerpc_flaw_on_amd64_is_a_suspect() -> None:
    glibc = gitlab_finding("CVE-2020-1751")
    assert "signal trampolines on PowerPC" in (glibc.description or "")
    assert (
        arch_suspect(glibc, "linux/amd64") == "the description limits it to PowerPC; the image is linux/amd64"
    )
    assert arch_suspect(glibc, "arm64") == "the description limits it to PowerPC; the image is arm64"
    assert arch_suspect(glibc, "linux/ppc64le") is None  # on PowerPC it is the image's own flaw
    assert arch_suspect(glibc, "linux/amd64", known_exploited=True) is None
    assert arch_suspect(glibc, None) is None


def test_the_gcc_power9_flaw_in_a_snyk_report_is_a_suspect() -> None:
    gcc = snyk_finding("CVE-2019-15847")
    assert gcc.title == "Insufficient Entropy"
    assert "The POWER9 backend in GNU Compiler Collection" in (gcc.description or "")
    assert (
        arch_suspect(gcc, "linux/amd64") == "the description limits it to PowerPC; the image is linux/amd64"
    )
    assert arch_suspect(gcc, "linux/ppc64le") is None


def test_the_glibc_x86_targets_flaw_on_amd64_is_not_a_suspect() -> None:
    glibc, platform = trivy_centos6("CVE-2020-29573")
    assert platform == "linux/amd64"
    assert "on x86 targets" in (glibc.description or "")
    assert arch_suspect(glibc, platform) is None
    # The same text on an ARM image does limit it to another architecture than the image's.
    assert arch_suspect(glibc, "linux/arm64") == "the description limits it to x86; the image is linux/arm64"


NOT_SUSPECTS = [
    (
        "x86 targets on amd64",
        "glibc before 2.23 on x86 targets has a stack-based buffer overflow",
        "linux/amd64",
    ),
    ("x86_64 on amd64", "RSAZ modular exponentiation on x86_64", "amd64"),
    ("i386 on amd64", "an x87 stack imbalance, related to the math/i386/ directory", "linux/amd64"),
    (
        "arm in other words",
        "A remote attacker could cause harm by disabling the alarm of a warm farm.",
        "linux/amd64",
    ),
    ("ARM in upper-case words", "ALARM: the HARMFUL ARMOR module mishandles input.", "linux/amd64"),
    (
        "power in words",
        "This may empower attackers; power management and a powerful tool are affected.",
        "linux/arm64",
    ),
    ("mips in words", "The MIPSpro compiler and the mipsology library mishandle input.", "linux/amd64"),
    ("Intel HEX, a file format", "objcopy crashes on a crafted Intel HEX file.", "linux/arm64"),
    ("two foreign architectures", "An out-of-bounds write on ARM and PowerPC targets.", "linux/amd64"),
    ("its own and a foreign one", "Only x86-64 and AArch64 builds are affected.", "linux/arm64"),
    ("a negated architecture", "This issue does not affect x86_64 systems.", "linux/arm64"),
    ("non-x86", "A flaw on non-x86 platforms allows a crash.", "linux/arm64"),
    ("except", "All architectures except s390x are affected.", "linux/amd64"),
    ("other than", "Systems other than PowerPC are affected.", "linux/amd64"),
    ("not on", "The flaw is reachable, but not on MIPS.", "linux/amd64"),
    ("not affected", "SPARC builds are not affected by this memory corruption.", "linux/amd64"),
    (
        "a disassembler",
        "The MIPS disassembler in GNU Binutils (libopcodes) reads out of bounds.",
        "linux/amd64",
    ),
    ("an emulator", "QEMU's ARM emulation mishandles the CP15 register.", "linux/amd64"),
    ("only in a URL", "See https://git.kernel.org/linus/arch/arm64/kvm for the fix.", "linux/amd64"),
    ("a kernel config symbol", "When CONFIG_PPC64 is unset, the buffer is too small.", "linux/amd64"),
    ("no architecture named", "A heap overflow in the PNG decoder.", "linux/amd64"),
    ("an unknown image architecture", "A flaw on PowerPC.", "linux/wasm"),
    ("no image architecture", "A flaw on PowerPC.", ""),
]


@pytest.mark.parametrize(
    ("text", "image"), [case[1:] for case in NOT_SUSPECTS], ids=[c[0] for c in NOT_SUSPECTS]
)
def test_negative_controls_are_not_suspects(text: str, image: str) -> None:
    assert arch_suspect(finding(text), image or None) is None
    assert arch_suspect(finding(title=text), image or None) is None


SUSPECTS = [
    ("ARMv7", "A flaw in the ARMv7 memcpy.", "ARM"),
    ("AArch64", "glibc on AArch64 mishandles the tunables.", "ARM"),
    (
        "arm64 kernel",
        "In the Linux kernel, the following vulnerability has been resolved: arm64: mm: fix VA-range check",
        "ARM",
    ),
    ("arch/arm path", "A flaw in arch/arm/mm/fault.c of the Linux kernel.", "ARM"),
    ("ppc64le", "Only ppc64le builds use the vulnerable assembly.", "PowerPC"),
    ("IBM Power", "The flaw affects IBM Power systems.", "PowerPC"),
    ("s390x", "A flaw in the s390x implementation of memmove.", "IBM Z (s390x)"),
    ("IBM Z", "Programs running on IBM Z may read uninitialized memory.", "IBM Z (s390x)"),
    ("MIPS", "glibc on MIPS has an incorrect stack alignment.", "MIPS"),
    ("mips64el", "Only mips64el is affected.", "MIPS"),
    ("RISC-V", "A flaw in the RISC-V port of OpenSSL.", "RISC-V"),
    ("SPARC", "On SPARC the signal frame is not aligned.", "SPARC"),
    ("a 'not' about something else", "On PowerPC, backtrace does not check the array bounds.", "PowerPC"),
    ("LoongArch", "The LoongArch JIT emits a wrong branch.", "LoongArch"),
    ("Itanium", "On Itanium (IA-64) the unwinder loops.", "Itanium (IA-64)"),
]


@pytest.mark.parametrize(
    ("text", "name"), [case[1:] for case in SUSPECTS], ids=[case[0] for case in SUSPECTS]
)
def test_one_foreign_architecture_is_a_suspect_on_amd64(text: str, name: str) -> None:
    assert (
        arch_suspect(finding(text), "linux/amd64")
        == f"the description limits it to {name}; the image is linux/amd64"
    )


def test_a_name_in_the_title_is_reported_as_the_titles() -> None:
    glibc = finding(title="glibc: buffer overflow on PowerPC", description="A buffer overflow.")
    assert arch_suspect(glibc, "linux/amd64") == "the title limits it to PowerPC; the image is linux/amd64"
    # Title and description naming two families: not limited to one.
    assert arch_suspect(finding("Only on ARM.", title="glibc: flaw on PowerPC"), "linux/amd64") is None


def test_x86_is_a_suspect_only_on_other_architectures() -> None:
    text = "On the x86-64 architecture, glibc fails to ignore LD_PREFER_MAP_32BIT_EXEC."
    for image in ("linux/amd64", "linux/386", "amd64"):
        assert arch_suspect(finding(text), image) is None
    assert (
        arch_suspect(finding(text), "linux/arm/v7")
        == "the description limits it to x86; the image is linux/arm/v7"
    )
    assert (
        arch_suspect(finding(text), "linux/s390x")
        == "the description limits it to x86; the image is linux/s390x"
    )


@pytest.mark.parametrize(
    ("image", "family"),
    [
        ("amd64", "x86"),
        ("linux/386", "x86"),
        ("linux/arm/v7", "ARM"),
        ("linux/arm64/v8", "ARM"),
        ("aarch64", "ARM"),
        ("linux/ppc64le", "PowerPC"),
        ("linux/s390x", "IBM Z (s390x)"),
        ("linux/mips64le", "MIPS"),
        ("linux/riscv64", "RISC-V"),
        ("linux/loong64", "LoongArch"),
    ],
)
def test_image_architectures_map_to_their_family(image: str, family: str) -> None:
    arch = architecture_of(image)
    assert arch is not None
    assert arch.name == family


NAMES_BY_FAMILY = {
    "x86": ["x86", "x86-64", "x86_64", "amd64", "AMD64", "x64", "i386", "i686", "IA-32", "Intel", "EM64T"],
    "ARM": ["ARM", "arm64", "ARM64", "AArch64", "ARMv7", "ARMv8-A", "armhf", "armel", "arch/arm64"],
    "PowerPC": [
        "PowerPC",
        "powerpc64le",
        "PPC",
        "ppc64",
        "ppc64le",
        "POWER8",
        "POWER9",
        "Power10",
        "IBM POWER",
    ],
    "IBM Z (s390x)": ["s390x", "s390", "IBM Z", "IBM z Systems", "z/Architecture", "zSeries", "System z"],
    "MIPS": ["MIPS", "MIPS64", "mips64el", "mipsel", "arch/mips"],
    "RISC-V": ["RISC-V", "riscv64"],
    "SPARC": ["SPARC", "sparc64", "UltraSPARC"],
    "LoongArch": ["LoongArch", "loongarch64", "loong64"],
    "Itanium (IA-64)": ["Itanium", "IA-64", "ia64"],
    "PA-RISC": ["PA-RISC", "hppa", "parisc"],
    "m68k": ["m68k", "Motorola 68k"],
    "SuperH": ["SuperH"],
}


def test_every_family_is_in_the_vocabulary_table() -> None:
    assert set(NAMES_BY_FAMILY) == {arch.name for arch in ARCHITECTURES}


@pytest.mark.parametrize(("family", "name"), [(f, n) for f, names in NAMES_BY_FAMILY.items() for n in names])
def test_every_name_is_found_as_its_family_and_passes_the_prefilter(family: str, name: str) -> None:
    text = f"The flaw is limited to {name} builds."
    matches = list(_MENTIONS.finditer(text))
    assert [match.group(0) for match in matches] == [name]
    (arch,) = [arch for arch in ARCHITECTURES if re.fullmatch(arch.pattern, name)]
    assert arch.name == family
    assert any(needle in text.lower() for needle in arch.needles)
    image = "linux/amd64" if family != "x86" else "linux/arm64"
    assert (
        arch_suspect(finding(text), image) == f"the description limits it to {family}; the image is {image}"
    )
