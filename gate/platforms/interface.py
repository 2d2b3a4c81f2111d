"""What every CI platform's publisher provides, what it is given, and what it gives back.

The CLI picks a publisher (`gate.platforms.select`) and calls it after the output files are
written, or with the error when the gate could not decide, so a pull-request comment never keeps
saying "pass" after a failed run.

A publisher degrades gracefully: a token without the needed permission, or a platform that keeps
failing after retries, is a warning; the verdict and the files do not change. Only a broken CI
environment (an unwritable summary file) is a `PlatformError` (exit 3), and even then the rest is
published first. A publisher never prints: what it has to say comes back in `Published`, and the
command line shows it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gate.errors import GateError, PlatformError
from gate.policy.evaluation import Evaluation
from gate.run_wording import COMMAND_LINE_WORDS, RunWording


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
    platform: str | None = None
    """The platform the user asked to scan (`--platform`, OS/ARCH[/VARIANT]), for the comment
    marker when the gate could not decide: without a report, the only platform known."""
    location: str | None = None
    """The file findings without a Dockerfile line point at (`--sarif-location`), relative to the
    repository root; None when it was not given or is outside the repository."""
    error_at: tuple[str, int] | None = None
    """Where the error the gate could not decide for is, when it is in a file of the repository
    (a policy file's first problem): the repository-relative path and the line."""
    failure: GateError | None = None
    """An error the run exits with although the verdict is known (an output file that could not
    be written): the platform shows it beside the verdict, so no one reads a plain pass."""
    wording: RunWording = COMMAND_LINE_WORDS
    """The words of the way the gate runs, chosen by the command line: how the run's user asks for
    the JSON report, where the comment and summary point to it, and sets what the publisher's
    notes and advice name (the action's inputs, not options its users never type)."""


@dataclass(frozen=True)
class Published:
    """What a publisher did, for the command line to show."""

    warnings: tuple[str, ...] = ()
    """What the user should fix (a token without permission, a platform that kept failing); the
    verdict, the exit code and the files stand."""
    notes: tuple[str, ...] = ()
    """What was published, or why not, for --verbose."""
    log: tuple[str, ...] = ()
    """Lines for the job's log on standard output: GitHub's workflow commands (annotations)."""
    failure: PlatformError | None = None
    """A broken CI environment (an unwritable summary file): the run exits 3 after the rest."""


class Publisher(Protocol):
    """One CI platform."""

    name: str
    """`github`, `gitlab` or `local`."""

    def publish(self, evaluation: Evaluation, context: PublishContext) -> Published:
        """Publish a verdict (never raise for a missing permission)."""
        ...

    def publish_error(self, message: str, exit_code: int, context: PublishContext) -> Published:
        """Publish that the gate could not decide, replacing an earlier verdict where one is shown."""
        ...


class LocalPublisher:
    """A laptop: the terminal summary and the output files are the whole result."""

    name = "local"

    def publish(self, evaluation: Evaluation, context: PublishContext) -> Published:
        """Nothing to publish."""
        return Published()

    def publish_error(self, message: str, exit_code: int, context: PublishContext) -> Published:
        """Nothing to publish."""
        return Published()


def usable_token(token: str) -> bool:
    """Whether an HTTP header can carry the token. Anything else (a pasted line break, a
    typographic quote) makes the HTTP library raise an error whose text quotes the header."""
    return token.isascii() and token.isprintable()


def masked(text: str, token: str | None) -> str:
    """Belt and braces: no message ever carries the token, whatever the platform echoed, also as
    JSON spells it inside a string (a `"` or `\\` of the token escaped), the form a message that
    is itself JSON takes when it is shown."""
    if not token:
        return text
    text = text.replace(token, "[MASKED]")
    spelled = json.dumps(token)[1:-1]
    return text.replace(spelled, "[MASKED]") if spelled != token else text
