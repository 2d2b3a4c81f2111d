"""The retry policy both platforms share: what it waits, and when it gives up."""

from __future__ import annotations

import pytest

from gate.platforms.retry import GaveUp, RetryPolicy, TransientError, delta_seconds, with_retries


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), (" 30 ", 30.0), ("0", 0.0), (None, None), ("", None), ("-1", None), ("1.5", None)],
)
def test_delta_seconds(header: str | None, seconds: float | None) -> None:
    assert delta_seconds(header) == seconds


@pytest.mark.parametrize("header", ["²", "١٢", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_header_that_is_not_ascii_digits_is_no_wait_and_no_crash(header: str) -> None:
    # `str.isdigit` accepts `²` and Arabic-Indic digits; `float` refuses the first.
    assert delta_seconds(header) is None


def test_backoff_doubles_and_a_wait_asked_for_wins() -> None:
    sleeps: list[float] = []
    answers: list[TransientError | str] = [
        TransientError("502"),
        TransientError("429", retry_after=9),
        "done",
    ]

    def operation() -> str:
        answer = answers.pop(0)
        if isinstance(answer, TransientError):
            raise answer
        return answer

    assert with_retries(operation, RetryPolicy(), sleeps.append) == "done"
    assert sleeps == [1.0, 9.0]


def test_a_wait_beyond_the_budget_gives_up_without_sleeping() -> None:
    sleeps: list[float] = []

    def operation() -> str:
        raise TransientError("429", retry_after=3600)

    with pytest.raises(GaveUp) as caught:
        with_retries(operation, RetryPolicy(budget=60), sleeps.append)
    assert (caught.value.attempts, caught.value.waited, sleeps) == (1, 0.0, [])
    assert (
        caught.value.summary()
        == "asked for a wait of 3600 s (429) after 1 attempt(s), more than the 60 s left to wait"
    )


def test_time_spent_waiting_for_an_answer_counts_against_the_budget() -> None:
    # A platform that never answers costs each attempt its whole timeout: five of them would hold
    # the job for minutes past the budget.
    sleeps: list[float] = []
    attempts: list[int] = []

    def operation() -> str:
        attempts.append(1)
        raise TransientError("no answer from GitHub within 30 s", spent=30.0)

    with pytest.raises(GaveUp) as stopped:
        with_retries(operation, RetryPolicy(budget=60.0), sleeps.append)
    assert len(attempts) == 2
    assert sleeps == [1.0]
    assert stopped.value.summary() == (
        "kept failing (no answer from GitHub within 30 s) after 2 attempt(s) and 61 s of waiting"
    )
