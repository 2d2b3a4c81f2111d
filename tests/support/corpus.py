"""The corpus of real scanner reports in the repository (tests/data/corpus), located from the repo root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The checkout: the directory holding pyproject.toml."""

REPORT_KINDS = ("trivy", "grype", "snyk")
"""Corpus directories holding scanner reports the gate reads."""


def corpus_dir() -> Path:
    """`tests/data/corpus` of the checkout (each file's origin: tests/data/PROVENANCE.md)."""
    path = PROJECT_ROOT / "tests" / "data" / "corpus"
    if not path.is_dir():
        raise FileNotFoundError(f"the report corpus is missing: expected {path}")
    return path


def corpus_files(kind: str) -> list[Path]:
    """Every file of one corpus directory (`trivy`, `grype`, `snyk`, `gitlab`, ...), sorted by name."""
    files = sorted(path for path in (corpus_dir() / kind).iterdir() if path.is_file())
    if not files:
        raise FileNotFoundError(f"no files in {corpus_dir() / kind}")
    return files


def corpus_file(kind: str, suffix: str) -> Path:
    """The one file of a corpus directory whose name ends with `suffix`."""
    matches = [path for path in corpus_files(kind) if path.name.endswith(suffix)]
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} files in corpus/{kind} end with {suffix!r}")
    return matches[0]


def corpus_json(kind: str, suffix: str) -> Any:
    """The decoded JSON of `corpus_file(kind, suffix)`, a fresh copy each time (tests may edit it)."""
    return json.loads(corpus_file(kind, suffix).read_text(encoding="utf-8"))
