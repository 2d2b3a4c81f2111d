"""The modules of the `gate` package, found as files (nothing is imported)."""

from __future__ import annotations

from pathlib import Path

from tests.support.repo_paths import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "gate"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
"""Every module of the package, by dotted name."""
