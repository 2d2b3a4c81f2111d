"""Where the test tools live, relative to the project root (never an absolute path of one machine)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The checkout: the directory holding pyproject.toml, package.json and node_modules/."""

TEST_DATA = PROJECT_ROOT / "tests" / "data"
"""Schemas and the corpus of real scanner outputs, copied into the repository (tests/data/PROVENANCE.md)."""

NODE_MODULES = PROJECT_ROOT / "node_modules"
"""Test-only npm tools pinned in package.json; `npm ci` in the project root installs them."""


def node_tool(relative: str) -> Path:
    """A file of an npm test tool, or an error that says how to install the tools."""
    path = NODE_MODULES / relative
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `npm ci` in {PROJECT_ROOT} (see package.json)")
    return path
