"""Shared pytest set-up: the fixtures of the test support modules, registered once."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "tests.support.fixtures",
    "tests.support.github_fixtures",
    "tests.support.gitlab_fixtures",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the renderers' golden files in tests/render/golden/ from the current output",
    )
