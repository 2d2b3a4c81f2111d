"""The pull request a `workflow_run` run comments on, given as its number.

One check for the GitHub Action's `pull-request` input and the `CONTAINER_GATE_PULL_REQUEST`
variable it becomes, which the GitHub publisher reads. Only the standard library is imported: the
Action's entry point checks its inputs with this before it needs the rest of the gate.
"""

from __future__ import annotations

import re

VARIABLE = "CONTAINER_GATE_PULL_REQUEST"
"""The pull request a `workflow_run` run comments on when GitHub names none (a fork's)."""

EXPECTED = "a pull request's number (a whole number from 1, or empty for none)"
"""What the input and the variable must hold, as error messages say it."""

# GitHub's issue numbers are whole numbers from 1; ten digits keep far from a number that no
# repository has and that int() would still take.
_NUMBER = re.compile(r"[1-9][0-9]{0,9}\Z")


def parse_pull_request(text: str) -> int | None:
    """The number `text` names (already stripped of surrounding blanks), or None when it is not a
    pull request's number."""
    return int(text) if _NUMBER.match(text) else None


def not_a_number(what: str, shown: str) -> str:
    """The message for a value that is not a pull request's number: `what` names the input or
    the variable, `shown` is the value as the caller may show it where the message goes."""
    return f"{what} must be {EXPECTED}, got {shown!r}"
