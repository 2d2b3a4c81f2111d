"""Report shapes the gate was not tuned on, for bench/bench_check.py: the corpus-scaled report's
findings with their ids or text changed.

- `corpus`: as `bench/scaling.py` builds it (each real id shared by a few dozen findings).
- `unique-ids`: every finding has an id of its own: no rule of SARIF groups two results.
- `few-ids`: the findings share a few dozen ids (the n-th entry of each package gets the n-th
  id), so each id has thousands of findings behind it: one rule of SARIF, one allowlist entry
  and one KEV lookup stand for thousands of results.
- `long-text`: each description is 4,000 characters of text of its own (a description is
  usually a few hundred), so no two findings share their long text.
- `non-ascii`: titles and descriptions in accented Latin and CJK letters: each
  character takes 2-3 bytes in the file and, in Python, a string of 2 or 4 bytes per character.

Only Trivy reports are reshaped: `trivy convert`, the benchmark's yardstick, reads no other.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

SHAPES = ("corpus", "unique-ids", "few-ids", "long-text", "non-ascii")
"""The shapes, the first being the corpus-scaled report itself."""

LONG_TEXT = 4_000
"""Characters of a description in `long-text`."""

# Each ASCII letter as a letter of another script, so a text keeps its words and spaces and
# becomes non-ASCII in every word: lower case as accented Latin (2 bytes in UTF-8, U+00E0-U+00FA
# without the division sign), upper case as CJK ideographs (3 bytes).
_LOWER = [chr(c) for c in range(0xE0, 0xFB) if c != 0xF7]
_UPPER = [chr(0x4E00 + 97 * i) for i in range(26)]
_NON_ASCII = str.maketrans(
    dict(zip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", _LOWER + _UPPER, strict=True))
) | {ord("."): "\u3002", ord(","): "\u3001"}


class Shaper:
    """Changes each Trivy vulnerability entry of a scaled report to the shape asked for."""

    def __init__(self, shape: str) -> None:
        if shape not in SHAPES:
            raise ValueError(f"unknown shape {shape!r} (known: {', '.join(SHAPES)})")
        self.shape = shape
        self._count = 0
        self._per_package: Counter[tuple[str, str, str]] = Counter()

    def apply(self, entry: dict[str, Any], path: str) -> None:
        """Reshape one vulnerability entry (a copy, changed in place); `path` is its package path."""
        n = self._count
        self._count += 1
        if self.shape in ("unique-ids", "few-ids"):
            if self.shape == "unique-ids":
                number = 10_000 + n
            else:
                package = (entry["PkgName"], entry.get("InstalledVersion") or "", path)
                number = 1 + self._per_package[package]
                self._per_package[package] += 1
            # Without vendor ids, the id written is the id the gate reads (no alias to prefer).
            entry["VulnerabilityID"] = f"CVE-2099-{number:04d}"
            entry.pop("VendorIDs", None)
        elif self.shape == "long-text":
            own = f"{entry.get('Description') or entry.get('Title') or ''} (finding {n}) "
            entry["Description"] = (own * (LONG_TEXT // len(own) + 1))[:LONG_TEXT]
        elif self.shape == "non-ascii":
            for key in ("Title", "Description"):
                if entry.get(key):
                    entry[key] = "\u8106\u5f31\u6027: " + entry[key].translate(_NON_ASCII)
