"""Reads the packages an image declares, and orders versions, for deriving expected findings.

Independent of Trivy and of the gate: Debian versions are ordered by `dpkg --compare-versions`
itself; Alpine versions by the rules of apk-tools' version.c, for the forms the test bed uses
(anything else is refused, never guessed).
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Installed:
    """One installed OS package, as a scanner matches and reports it."""

    name: str
    """Binary package name (what Trivy reports as PkgName)."""
    version: str
    """The package's own version (Trivy's InstalledVersion)."""
    source: str
    """Source package (Debian) or origin (Alpine): the key of its advisories."""
    source_version: str
    """The version advisories are compared with (dpkg's `Source: name (version)`, else `version`)."""


def parse_dpkg_stanzas(text: str) -> list[Installed]:
    """Every stanza of a dpkg status text (blank-line separated)."""
    out = []
    for stanza in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line)
        source_field = fields.get("Source", fields["Package"])
        match = re.fullmatch(r"(\S+)(?: \((\S+)\))?", source_field)
        if match is None:
            raise ValueError(f"unexpected Source field {source_field!r}")
        version = fields["Version"]
        out.append(Installed(fields["Package"], version, match[1], match[2] or version))
    return out


def read_dpkg_status(rootfs: Path) -> list[Installed]:
    """Packages of `var/lib/dpkg/status`, or of `status.d/*` (distroless), in file order."""
    status = rootfs / "var/lib/dpkg/status"
    if status.is_file():
        return parse_dpkg_stanzas(status.read_text())
    return [
        p
        for path in sorted((rootfs / "var/lib/dpkg/status.d").iterdir())
        for p in parse_dpkg_stanzas(path.read_text())
    ]


def read_apk_installed(rootfs: Path) -> list[Installed]:
    """Packages of `lib/apk/db/installed` (P: name, V: version, o: origin)."""
    out = []
    for entry in (rootfs / "lib/apk/db/installed").read_text().strip().split("\n\n"):
        fields = dict(line.split(":", 1) for line in entry.splitlines() if ":" in line)
        out.append(Installed(fields["P"], fields["V"], fields.get("o", fields["P"]), fields["V"]))
    return out


@functools.cache
def dpkg_lt(a: str, b: str) -> bool:
    """Debian version order, from dpkg itself."""
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0


# apk-tools version.c: suffixes below a release sort before it, the others after.
_APK_SUFFIXES = {"alpha": -4, "beta": -3, "pre": -2, "rc": -1, "cvs": 1, "svn": 2, "git": 3, "hg": 4, "p": 5}
_APK = re.compile(r"(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:-r(\d+))?")


def _apk_key(version: str) -> tuple[tuple[int, ...], int, tuple[tuple[int, int], ...], int]:
    match = _APK.fullmatch(version)
    if match is None:
        raise ValueError(f"apk version {version!r} is outside the forms the test bed orders")
    numbers = tuple(int(n) for n in match[1].split("."))
    letter = ord(match[2]) if match[2] else 0
    suffixes = tuple(
        (_APK_SUFFIXES[name], int(num or 0)) for name, num in re.findall(r"_([a-z]+)(\d*)", match[3])
    )
    # No suffix sorts between the pre-release ones (negative) and the post-release ones.
    return numbers, letter, suffixes or ((0, 0),), int(match[4] or 0)


def apk_lt(a: str, b: str) -> bool:
    """Alpine version order for `1.2.3[a][_suffixN][-rN]`; raises on other forms."""
    return _apk_key(a) < _apk_key(b)
