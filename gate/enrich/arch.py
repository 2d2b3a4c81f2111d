"""Architecture suspects: findings whose text limits them to a CPU architecture the image is not.

Scanners match packages by name and version, not by the CPU they were built for, so an amd64 image
is reported a glibc flaw "when handling signal trampolines on PowerPC" (CVE-2020-1751) or a GCC flaw
in "the POWER9 backend" (CVE-2019-15847). `arch_suspect` finds those, as a suspicion with its reason,
never as a verdict: what to do with it is the policy's business (`ignore_suspects: [arch]`).

The rule, built to prefer missing a suspect over calling a real flaw irrelevant:
- the title and description (URLs left out) name exactly one architecture family, by any of its
  names in the vocabulary below, and it is not the image's own: "x86 targets" on amd64 is the
  image's own family, so it is never a suspect there;
- two families named ("ARM and PowerPC") is no suspect: the text does not limit it to one;
- no suspect when a name is negated ("non-ARM", "except on s390x", "other than x86") or is in a
  sentence that says something is not affected ("x86 is not affected", "does not affect ARM"): the
  text may be limiting it to everything else;
- no suspect when the text is about handling code of other architectures, which any host does: a
  disassembler, an emulator, binary file utilities (BFD, objdump, readelf, opcodes), a simulator;
- never a finding CISA lists as known exploited (the caller passes that), and never when the
  image's architecture is unknown.
Names are matched as whole words ("arm" in "harm" or "alarm", "power" in "empower" and "mips" in
other words never match), and the generic ones only in the spelling that means the architecture:
"ARM" and "MIPS" upper case, "POWER" only with its generation ("POWER9") or after "IBM".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from gate.model import Finding


@dataclass(frozen=True)
class Architecture:
    """One architecture family: its name in reasons, its names in image configs, its names in text."""

    name: str
    """How a reason names it (`PowerPC`)."""
    image_names: frozenset[str]
    """Names of its members in an image's `architecture` (Go's GOARCH, as OCI uses them) and in
    distributions' package architectures (`x86_64`, `aarch64`, `armhf`)."""
    pattern: str
    """A regular expression of its names in text, matched as a whole word (see `_MENTIONS`)."""
    needles: tuple[str, ...]
    """Lower-case strings at least one of which is in every text `pattern` matches: a text without
    any family's needle is passed over without running the expression (most texts)."""


ARCHITECTURES = (
    Architecture(
        "x86",
        frozenset({"amd64", "386", "i386", "i486", "i586", "i686", "x86", "x86_64", "x86-64", "x64"}),
        # Intel names x86 processors in CVE text, but "Intel HEX" (a file format) and "Intel syntax"
        # (assembler notation) do not.
        r"(?i:x86(?:[-_]64)?|x64|amd64|i[3-6]86|ia-32|em64t)|Intel(?![\s-]+(?:(?i:hex)|syntax)\b)",
        ("86", "x64", "amd64", "ia-", "em64t", "intel"),
    ),
    Architecture(
        "ARM",
        frozenset(
            {"arm", "arm64", "aarch64", "armhf", "armel", "armv5", "armv6", "armv7", "armv7l", "armv8"}
        ),
        r"ARM|(?i:arm(?:64|32|hf|el|v\d+[a-z0-9-]*)|aarch(?:64|32)|arch/arm(?:64)?)",
        ("arm", "aarch"),
    ),
    Architecture(
        "PowerPC",
        frozenset({"ppc", "ppc64", "ppc64le", "powerpc", "powerpc64", "powerpc64le"}),
        r"(?i:powerpc(?:64)?(?:le)?|ppc(?:32|64)?(?:le)?|power\d+|openpower)|IBM[\s-]+P(?:OWER|ower)",
        ("ppc", "power"),
    ),
    Architecture(
        "IBM Z (s390x)",
        frozenset({"s390x", "s390"}),
        r"(?i:s390x?|z/architecture|zseries)|IBM[\s-]+[zZ](?:[\s-]+[sS]ystems)?|System[\s-]+z",
        ("s390", "z/architecture", "zseries", "ibm", "system"),
    ),
    Architecture(
        "MIPS",
        frozenset({"mips", "mipsle", "mipsel", "mips64", "mips64le", "mips64el"}),
        r"MIPS(?:32|64)?|(?i:mips(?:32|64)(?:el|le|r\d)?|mips(?:el|le)|arch/mips)",
        ("mips",),
    ),
    Architecture(
        "RISC-V", frozenset({"riscv64", "riscv32", "riscv"}), r"(?i:risc-v|riscv(?:32|64)?)", ("risc",)
    ),
    Architecture("SPARC", frozenset({"sparc", "sparc64"}), r"(?i:(?:ultra)?sparc(?:64|v9)?)", ("sparc",)),
    Architecture(
        "LoongArch", frozenset({"loong64", "loongarch64"}), r"(?i:loongarch(?:64)?|loong64)", ("loong",)
    ),
    Architecture("Itanium (IA-64)", frozenset({"ia64"}), r"(?i:itanium|ia-?64)", ("itanium", "ia64", "ia-")),
    Architecture("PA-RISC", frozenset({"hppa", "parisc"}), r"(?i:pa-risc|hppa|parisc)", ("risc", "hppa")),
    Architecture("m68k", frozenset({"m68k"}), r"(?i:m68k|motorola\s+68k)", ("m68k", "68k")),
    Architecture("SuperH", frozenset({"sh4"}), r"(?i:superh)", ("superh",)),
)
"""Every family the gate recognises, in the order reasons are tried."""


# One expression for every name. Letters, digits and underscores around a name make it part of
# another word (harm, alarm, CONFIG_PPC64); a hyphen or slash before it does not ("non-x86" is seen,
# then called a negation). The look-ahead on first letters skips most positions at once: this
# runs on the text of every finding of reports that have 100k of them.
_MENTIONS = re.compile(
    r"(?<![A-Za-z0-9_])(?=[AaEeHhIiLlMmOoPpRrSsUuXxZz])(?:"
    + "|".join(f"(?P<a{index}>{arch.pattern})" for index, arch in enumerate(ARCHITECTURES))
    + r")(?![A-Za-z0-9_])"
)
_NEEDLES = tuple(sorted({needle for arch in ARCHITECTURES for needle in arch.needles}))
_URL = re.compile(r"https?://\S+|www\.\S+")
_SENTENCE_END = re.compile(r"[.;!?](?:\s|$)|\n\s*\n")
# A negation about the name itself: right before it ("non-x86", "not on ARM", "except s390x",
# "other than PowerPC"), or a sentence saying something is not affected. A "not" elsewhere in the
# sentence ("on PowerPC, the function does not check the bounds") limits nothing.
_NEGATED_NAME = re.compile(
    r"(?i)(?:\bnon-|\b(?:not|never|except|excluding|besides|than|without)\s+(?:(?:on|for|in|the|with)\s+)?)$"
)
_NOT_AFFECTED = re.compile(
    r"(?i)\b(?:not|never)\s+(?:be\s+|been\s+)?(?:affect|vulnerable|impact|exploitable|applicable)"
    r"|n't\s+(?:be\s+|been\s+)?(?:affect|vulnerable|impact|exploitable|applicable)|\bunaffected\b"
)
_FOREIGN_CODE = re.compile(
    r"(?i)disassembl|emulat|\bqemu\b|simulat|\bbfd\b|objdump|readelf|\bopcodes\b|\blibopcodes\b|\bcross[- ]compil"
)


def architecture_of(image_arch: str | None) -> Architecture | None:
    """The family of an image's architecture (`amd64`, `arm/v7`, `linux/arm64/v8`); None if unknown."""
    if not image_arch:
        return None
    for part in image_arch.lower().split("/"):
        for arch in ARCHITECTURES:
            if part in arch.image_names:
                return arch
    return None


def arch_suspect(finding: Finding, image_arch: str | None, *, known_exploited: bool = False) -> str | None:
    """Why `finding` looks specific to another architecture than the image's, or None.

    `image_arch` is the image's platform or architecture as the image config says (`linux/amd64`,
    `amd64`, `arm/v7`), and is quoted as given in the reason; `known_exploited` is True for a finding
    CISA's KEV catalog lists, which is never a suspect. See the module docstring for the rule.
    """
    own = architecture_of(image_arch)
    if known_exploited or own is None:
        return None
    named: dict[str, tuple[Architecture, str]] = {}
    for where, text in (("title", finding.title), ("description", finding.description)):
        if not text:
            continue
        mentions = _mentions(text)
        if mentions is None:
            return None  # about handling other architectures' code, or a negated name
        for arch in mentions:
            named.setdefault(arch.name, (arch, where))
    if len(named) != 1 or own.name in named:
        return None
    arch, where = next(iter(named.values()))
    return f"the {where} limits it to {arch.name}; the image is {image_arch}"


@functools.lru_cache(maxsize=4096)
def _mentions(text: str) -> tuple[Architecture, ...] | None:
    """The family of each name in `text`, in order; None when a name is in a sentence with a
    negation or the text is about other architectures' code (then nothing may be concluded).

    Remembered per text: a large report repeats one vulnerability's text for every package it is in.
    """
    lowered = text.lower()
    if not any(needle in lowered for needle in _NEEDLES):
        return ()
    text = _URL.sub(" ", text)
    found: list[Architecture] = []
    for match in _MENTIONS.finditer(text):
        start, end = match.span()
        if _NEGATED_NAME.search(text, max(0, start - 24), start) or _NOT_AFFECTED.search(
            _sentence(text, start, end)
        ):
            return None
        found.append(ARCHITECTURES[int(next(key for key, value in match.groupdict().items() if value)[1:])])
    if found and _FOREIGN_CODE.search(text):
        return None
    return tuple(found)


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around text[start:end]: from the previous sentence end to the next one."""
    before = 0
    for boundary in _SENTENCE_END.finditer(text, 0, start):
        before = boundary.end()
    after = _SENTENCE_END.search(text, end)
    return text[before : after.start() if after else len(text)]
