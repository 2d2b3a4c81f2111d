"""A stale base image under the policy: `base_image.max_age_days` and `base_image.on_stale`."""

from __future__ import annotations

import pytest

from gate.image.base_image import BaseCheck, BaseImageState
from gate.model import LayerOrigin, Severity
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Evaluation
from gate.policy.inputs import EvaluationInputs
from gate.policy.model import BaseImagePolicy, FailOn, Mode, OnStale, Policy
from tests.support.factories import NOW, finding, layer, report

USED = BaseImageState("r/b@sha256:" + "a" * 64, "sha256:" + "a" * 64, "2024-01-10T00:00:00Z", ("sha256:1",))
NEWER = BaseImageState("r/b@sha256:" + "b" * 64, "sha256:" + "b" * 64, "2024-02-26T13:00:00Z", ("sha256:2",))
STALE = BaseCheck(True, name="ghcr.io/acme/base:12", used=USED, current=NEWER)
FAILURE = (
    "the base image ghcr.io/acme/base:12 is 47 days behind its tag, more than base_image.max_age_days (30), "
    "and base_image.on_stale is fail: rebuild the image on the current tag"
)


def evaluated(
    check: BaseCheck, *, max_age_days: int = 30, on_stale: OnStale, mode: Mode = Mode.ENFORCE
) -> Evaluation:
    # One LOW finding: below the threshold, so only the base image can fail the gate.
    low = finding("CVE-1", severity=Severity.LOW, layer=layer(LayerOrigin.BASE))
    policy = Policy(
        source="p.yaml",
        fail_on=FailOn(),
        mode=mode,
        base_image=BaseImagePolicy(max_age_days=max_age_days, on_stale=on_stale),
    )
    return evaluate(report(low), policy, NOW, EvaluationInputs(base_check=check))


def test_a_stale_base_fails_the_gate_when_the_policy_says_so() -> None:
    ev = evaluated(STALE, on_stale=OnStale.FAIL)
    assert ev.policy_failures == (FAILURE,)
    assert ev.verdict == "fail"
    assert ev.base_image is not None
    assert (ev.base_image.stale, ev.base_image.max_age_days) == (True, 30)


@pytest.mark.parametrize(
    ("max_age_days", "on_stale", "mode", "fails"),
    [
        (30, OnStale.WARN, Mode.ENFORCE, False),  # warn: said, never a failure
        (30, OnStale.FAIL, Mode.ADVISORY, False),  # an advisory policy never fails
        (47, OnStale.FAIL, Mode.ENFORCE, False),  # 47 days behind is not more than 47
        (46, OnStale.FAIL, Mode.ENFORCE, True),
        (0, OnStale.FAIL, Mode.ENFORCE, True),
    ],
)
def test_stale_is_more_than_max_age_days_and_fails_only_under_fail(
    max_age_days: int, on_stale: OnStale, mode: Mode, fails: bool
) -> None:
    ev = evaluated(STALE, max_age_days=max_age_days, on_stale=on_stale, mode=mode)
    assert ev.base_image is not None
    assert ev.base_image.stale is (max_age_days < 47)
    assert bool(ev.policy_failures) is fails
    assert ev.passed is not fails


def test_a_base_that_could_not_be_checked_or_is_current_never_fails_by_itself() -> None:
    unchecked = BaseCheck(
        False, name="ghcr.io/acme/base:12", reason="cannot reach registry ghcr.io (timed out)"
    )
    current = BaseCheck(True, name="ghcr.io/acme/base:12", used=USED, current=USED)
    for check in (unchecked, current):
        ev = evaluated(check, max_age_days=0, on_stale=OnStale.FAIL)
        assert ev.base_image is not None
        assert not ev.base_image.stale
        assert ev.policy_failures == ()
        assert ev.passed
    # Without the check, the keys have no effect.
    low = finding("CVE-1", severity=Severity.LOW)
    policy = Policy(source="p.yaml", base_image=BaseImagePolicy(on_stale=OnStale.FAIL))
    assert evaluate(report(low), policy, NOW).base_image is None


def test_a_tag_that_moved_on_by_an_unknown_number_of_days_is_stale() -> None:
    # The current base's config has no `created`: how far behind it is cannot be told.
    undated = BaseImageState(NEWER.reference, NEWER.digest, None, NEWER.diff_ids)
    check = BaseCheck(True, name="ghcr.io/acme/base:12", used=USED, current=undated)
    ev = evaluated(check, max_age_days=30, on_stale=OnStale.FAIL)
    assert ev.base_image is not None
    assert (ev.base_image.stale, ev.base_image.behind_days) == (True, None)
    assert ev.policy_failures == (
        "the base image ghcr.io/acme/base:12 is an unknown number of days behind its tag, more than "
        "base_image.max_age_days (30), and base_image.on_stale is fail: rebuild the image on the current tag",
    )
    assert not ev.passed
    # Under warn it is said, and the verdict is the findings'.
    warned = evaluated(check, max_age_days=30, on_stale=OnStale.WARN)
    assert warned.base_image is not None
    assert warned.base_image.stale
    assert warned.passed
