"""What every CI platform's publisher provides, and what it is given.

The CLI picks a publisher (`gate.platforms.select`) and calls it after the output files are
written, or with the error when the gate could not decide, so a pull-request comment never keeps
saying "pass" after a failed run.

A publisher degrades gracefully: a token without the needed permission, or a platform
that keeps failing after retries, is a warning (returned as text); the verdict and the
files do not change. Only a broken CI environment (an unwritable summary file) raises
`PlatformError` (exit 3).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gate.policy.evaluation import Evaluation
from gate.untrusted import terminal_safe


@dataclass(frozen=True)
class PublishContext:
    """What a publisher may use besides the evaluation. Built by the CLI, the only reader of
    the environment and the clock."""

    env: Mapping[str, str]
    """The process environment (CI variables, the token)."""
    outputs: Mapping[str, str] = field(default_factory=dict)
    """Output files written by this run, by flag name (`sarif`, `json`, `markdown`, ...)."""
    comment: bool = True
    """Whether to create or update the pull-request comment / merge-request note."""
    dockerfile: str | None = None
    """The Dockerfile, relative to the repository root, for annotations on its lines."""
    image: str | None = None
    """The image reference the user gave (`--image-name`, else `scan IMAGE`), for the comment
    marker; the only image known when the gate could not decide."""
    location: str | None = None
    """The file findings without a Dockerfile line point at (`--sarif-location`), relative to the
    repository root; None when it is outside the repository."""
    verbose: bool = False
    """Say more about what was published."""


class Publisher(Protocol):
    """One CI platform."""

    name: str
    """`github`, `gitlab` or `local`."""

    def publish(self, evaluation: Evaluation, context: PublishContext) -> list[str]:
        """Publish a verdict; return warnings for the user (never raise for a missing permission)."""
        ...

    def publish_error(self, message: str, exit_code: int, context: PublishContext) -> list[str]:
        """Publish that the gate could not decide, replacing an earlier verdict where one is shown."""
        ...


class LocalPublisher:
    """A laptop: the terminal summary and the output files are the whole result."""

    name = "local"

    def publish(self, evaluation: Evaluation, context: PublishContext) -> list[str]:
        """Nothing to publish."""
        return []

    def publish_error(self, message: str, exit_code: int, context: PublishContext) -> list[str]:
        """Nothing to publish."""
        return []


def usable_token(token: str) -> bool:
    """Whether an HTTP header can carry the token. Anything else (a pasted line break, a
    typographic quote) makes the HTTP library raise an error whose text quotes the header."""
    return token.isascii() and token.isprintable()


def masked(text: str, token: str) -> str:
    """Belt and braces: no message ever carries the token, whatever the platform echoed."""
    return text.replace(token, "[MASKED]") if token else text


def say(platform: str, context: PublishContext, text: str) -> None:
    """What a publisher did, on standard error, only with --verbose."""
    if context.verbose:
        print(f"container-gate: {platform}: {terminal_safe(text)}", file=sys.stderr)
