"""Golden files of the renderers: exact comparison, rewritten only by `--update-golden`.

`pytest tests/render --update-golden` rewrites every golden file a test compares against and then
fails those tests, so a rewrite is never mistaken for a pass; review the diff and run again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
"""tests/render/golden/: one file per renderer and input, compared byte for byte."""

UPDATE_OPTION = "--update-golden"
"""Declared in tests/conftest.py, so that `pytest --update-golden` works from the project root."""


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """`golden(name, text)`: assert `text` equals tests/render/golden/NAME, or rewrite it."""
    update = bool(request.config.getoption(UPDATE_OPTION, default=False))

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            pytest.fail(f"{path} rewritten ({UPDATE_OPTION}): review the diff and run again", pytrace=False)
        if not path.exists():
            pytest.fail(f"{path} is missing: run `pytest tests/render {UPDATE_OPTION}`", pytrace=False)
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from {path}; if the change is intended: {UPDATE_OPTION}"

    return check
