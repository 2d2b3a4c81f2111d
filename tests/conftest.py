"""Shared pytest set-up: the fixtures of the test support modules, registered once."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.support.fixtures",
    "tests.support.github_fixtures",
    "tests.support.gitlab_fixtures",
    "tests.support.offline_scan",
    "tests.support.tls",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the renderers' golden files in tests/render/golden/ from the current output",
    )


_PLATFORM_PREFIXES = ("GITHUB_", "RUNNER_", "INPUT_", "ACTIONS_", "GITLAB_", "CI_")


@pytest.fixture(autouse=True)
def _no_ci_platform_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test as on a laptop, also when the suite itself runs in GitHub Actions or GitLab CI.

    The gate reads the platform from the environment (`GITHUB_ACTIONS`, `GITLAB_CI`, tokens, event
    paths); a test that wants a platform sets its variables itself. `CI` stays: it decides whether
    a missing engine or scanner fails the test instead of skipping it.
    """
    for name in list(os.environ):
        if name.startswith(_PLATFORM_PREFIXES):
            monkeypatch.delenv(name, raising=False)
