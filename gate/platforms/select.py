"""Which CI platform to publish to: `--ci auto|github|gitlab|none`.

`auto` reads the environment: GitHub Actions sets `GITHUB_ACTIONS=true`, GitLab CI sets
`GITLAB_CI=true`; elsewhere nothing is published.
"""

from __future__ import annotations

from collections.abc import Mapping

from gate.platforms.interface import LocalPublisher, Publisher

CI_CHOICES = ("auto", "github", "gitlab", "none")


def run_server(env: Mapping[str, str]) -> str | None:
    """The address of the server this CI run belongs to (GitHub Enterprise Server's or a
    self-managed GitLab's as well as github.com or gitlab.com), or None outside CI."""
    if env.get("GITHUB_ACTIONS") == "true":
        return env.get("GITHUB_SERVER_URL") or None
    if env.get("GITLAB_CI") == "true":
        return env.get("CI_SERVER_URL") or None
    return None


def select_publisher(choice: str, env: Mapping[str, str]) -> Publisher:
    """The publisher for `--ci CHOICE`; `auto` detects the platform from its own variables."""
    if choice == "auto":
        if env.get("GITHUB_ACTIONS") == "true":
            choice = "github"
        elif env.get("GITLAB_CI") == "true":
            choice = "gitlab"
        else:
            choice = "none"
    if choice == "github":
        from gate.platforms.github import GitHubPublisher

        return GitHubPublisher()
    if choice == "gitlab":
        from gate.platforms.gitlab import GitLabPublisher

        return GitLabPublisher()
    return LocalPublisher()
