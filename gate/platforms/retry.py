"""Retrying a platform operation: what waiting can fix, and how long to wait.

Both platforms' API clients sort failures into `TransientError` (a 5xx, a rate limit, no
answer at all) and errors retrying cannot fix. `with_retries` re-runs a whole operation
(list, then create or update), so an item created by a POST whose answer was lost is found
by the next listing instead of being posted twice. No jitter: one CI job makes one request
at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class TransientError(Exception):
    """A 5xx, a rate limit or no answer at all: worth another try later."""

    def __init__(
        self,
        reason: str,
        *,
        retry_after: float | None = None,
        spent: float = 0.0,
        unreached: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unreached = unreached
        """The platform could not be reached at all (no connection, or none within the connect
        timeout): the API URL the environment gives may be wrong, not only the platform down."""
        self.retry_after = retry_after
        """Seconds the platform asked to wait (Retry-After or a rate-limit reset), when it said."""
        self.spent = spent
        """Seconds the attempt itself waited for an answer that never came (a timeout): they count
        against the budget like the waits between attempts, so a platform that does not answer
        cannot hold the job for every attempt's full timeout."""


class GaveUp(Exception):
    """Transient errors went on past the retry policy's attempts or waiting budget."""

    def __init__(
        self, last: TransientError, attempts: int, waited: float, *, left: float | None = None
    ) -> None:
        super().__init__(last.reason)
        self.last = last
        self.attempts = attempts
        self.waited = waited
        self.left = left
        """Seconds of waiting that were left when the platform asked for a longer wait (a rate
        limit that resets in an hour), else None (the attempts ran out or backoff used the time)."""

    def summary(self) -> str:
        """`kept failing (503 Service Unavailable) after 3 attempt(s) and 3 s of waiting`, or, when
        the platform asked for more than was left, `asked for a wait of 3600 s (403 rate limit:
        ...) after 1 attempt(s), more than the 60 s left to wait`."""
        if self.left is not None and self.last.retry_after is not None:
            return (
                f"asked for a wait of {self.last.retry_after:g} s ({self.last.reason}) after "
                f"{self.attempts} attempt(s), more than the {self.left:g} s left to wait"
            )
        return f"kept failing ({self.last.reason}) after {self.attempts} attempt(s) and {self.waited:g} s of waiting"


@dataclass(frozen=True)
class RetryPolicy:
    """How long one publication may keep retrying."""

    attempts: int = 5
    """Tries in all, the first included."""
    first_delay: float = 1.0
    """Wait before the second try; it doubles for each further try."""
    max_delay: float = 30.0
    """No computed wait is longer than this."""
    budget: float = 60.0
    """Total seconds of waiting, between attempts and for answers that timed out: a comment is not
    worth holding a CI job longer. A wait the platform asks for beyond what is left ends the
    retries at once, without sleeping."""


def delta_seconds(value: str | None) -> float | None:
    """A `Retry-After` (or rate-limit reset) header in its delta-seconds form; None for anything
    else. The HTTP-date form would need a clock read here; exponential backoff covers it instead.
    ASCII digits only: `str.isdigit` also accepts characters such as `²` that `float` refuses."""
    text = (value or "").strip()
    return float(text) if text.isascii() and text.isdigit() else None


def default_sleep(seconds: float) -> None:
    """`time.sleep`, named so tests can see what is injected instead."""
    time.sleep(seconds)


def with_retries(operation: Callable[[], T], policy: RetryPolicy, sleep: Callable[[float], None]) -> T:
    """Run `operation`, retrying after a `TransientError` with exponential backoff, or after the
    wait the platform asked for."""
    waited = 0.0
    for attempt in range(1, policy.attempts + 1):
        try:
            return operation()
        except TransientError as error:
            waited += error.spent
            delay = error.retry_after
            if delay is None:
                delay = min(policy.max_delay, policy.first_delay * 2 ** (attempt - 1))
            if attempt < policy.attempts and error.retry_after is not None and waited + delay > policy.budget:
                raise GaveUp(error, attempt, waited, left=policy.budget - waited) from error
            if attempt == policy.attempts or waited + delay > policy.budget:
                raise GaveUp(error, attempt, waited) from error
            sleep(delay)
            waited += delay
    raise AssertionError("unreachable: the last attempt returns or raises")
