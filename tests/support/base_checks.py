"""Runs of `scan --check-base` made by hand, for the tests that read their decision report back:
a stale base whose rebuild removes some base-layer findings (one without a fix) and leaves one,
a tag that moved with nothing removed, a tag pushed again with the same layers, a check that
could not run."""

from __future__ import annotations

import datetime as dt

from gate.image.base_image import BaseCheck, BaseImageState
from gate.model import Finding, ImageInfo, Layer, LayerOrigin, Severity, VendorStatus
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Evaluation
from gate.policy.inputs import EvaluationInputs
from gate.policy.load import load_default_policy
from tests.support.factories import finding, report

BASE = Layer(diff_id="sha256:" + "1" * 64, index=0, origin=LayerOrigin.BASE)
OWN = Layer(diff_id="sha256:" + "2" * 64, index=1, origin=LayerOrigin.OWN)
NAME = "reg.example/base:12"
AS_OF = "2026-03-14"
THEN = dt.datetime(2026, 3, 14, 12, tzinfo=dt.UTC)
"""`--as-of AS_OF`: noon UTC."""


def state(digest: str, created: str, layers: tuple[str, ...]) -> BaseImageState:
    return BaseImageState(f"reg.example/base@sha256:{digest * 64}", f"sha256:{digest * 64}", created, layers)


USED = state("a", "2024-01-10T00:00:00Z", (BASE.diff_id or "",))
NEWER = state("b", "2024-02-26T13:00:00Z", ("sha256:" + "3" * 64,))
# The same layers pushed again a day later: a new digest, but not behind.
AGAIN = state("c", "2024-01-11T00:00:00Z", USED.diff_ids)


def findings() -> list[Finding]:
    return [
        finding("CVE-2024-1", pkg="libc6", severity=Severity.CRITICAL, layer=BASE),
        finding("CVE-2024-2", pkg="libc6", severity=Severity.HIGH, layer=BASE),
        # No fix published: a rebuild removes it all the same (the newer base dropped tar).
        finding(
            "CVE-2024-3",
            pkg="tar",
            severity=Severity.HIGH,
            fixed=(),
            status=VendorStatus.AFFECTED,
            layer=BASE,
        ),
        # Still in the newer base: an upgrade of its own.
        finding("CVE-2024-4", pkg="zlib1g", severity=Severity.HIGH, fixed=("1:1.2.13-2",), layer=BASE),
        finding("CVE-2024-5", pkg="curl", severity=Severity.HIGH, fixed=("7.88.1-10+deb12u5",), layer=OWN),
    ]


CHECKS = {
    "stale": BaseCheck(True, name=NAME, used=USED, current=NEWER, removed=tuple(findings()[:3])),
    "moved, nothing removed": BaseCheck(True, name=NAME, used=USED, current=NEWER),
    "current": BaseCheck(True, name=NAME, used=USED, current=AGAIN),
    "not checked": BaseCheck(False, name=NAME, reason="cannot reach registry reg.example (timed out)"),
}


STALE_FAILS = """\
version: 1
fail_on: {severity: CRITICAL}
allowlist:
  - {vulnerability: CVE-2024-1, reason: the shell is not shipped}
base_image: {on_stale: fail}
"""
"""A policy that fails a stale base image, and allows CVE-2024-1 of the findings above."""


def checked_run(check: BaseCheck) -> Evaluation:
    """The run of `scan --check-base`, whose decision report is read back."""
    image = ImageInfo(reference="reg.example/app:1.4", base_image=NAME, base_layer_count=1)
    warnings = () if check.checked else (f"base image check: {check.reason}",)
    scanned = report(*findings(), image=image, warnings=warnings)
    return evaluate(scanned, load_default_policy(), THEN, EvaluationInputs(base_check=check))
