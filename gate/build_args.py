"""Build arguments given as text: `NAME=VALUE`, as `docker build --build-arg` takes one.

One definition for the gate's `--build-arg`, its `CONTAINER_GATE_BUILD_ARGS` variable (the GitLab
templates' build arguments) and the GitHub Action's `build-args` input. Only the standard library
is imported: the Action's entry point reads its inputs with this before it needs the rest of the
gate. A build argument can hold a secret (a token for a private package index), so no message
here ever quotes one.
"""

from __future__ import annotations

import re

VARIABLE = "CONTAINER_GATE_BUILD_ARGS"
"""The variable the gate reads build arguments from, one NAME=VALUE per line, before any
`--build-arg`: the GitLab templates' `build-args`, kept off the command line (visible in `ps`)."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_build_arg(text: str) -> tuple[str, str] | None:
    """`NAME=VALUE` as (NAME, VALUE); None when `text` is not that (NAME: letters, digits and _,
    not starting with a digit). The value may be empty and may hold `=`."""
    name, equals, value = text.partition("=")
    if not equals or not _NAME.fullmatch(name):
        return None
    return name, value


def split_build_args(what: str, text: str) -> list[str]:
    """The NAME=VALUE lines of `text`, as docker/build-push-action reads its `build-args`: one per
    line, each without its surrounding blanks (a Windows line ending's carriage return too), blank
    lines ignored. A line that is not NAME=VALUE is a ValueError whose message names `what` and
    the line's number, never its text."""
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if parse_build_arg(line) is None:
            raise ValueError(
                f"{what}: line {number} is not NAME=VALUE (NAME: letters, digits and _, not "
                "starting with a digit; the line is not shown, as a build argument can hold a secret)"
            )
        lines.append(line)
    return lines
