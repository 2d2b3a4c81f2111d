"""What evaluation may use beside the report and the policy, read at the boundary.

Each field is optional: a run that was not given the data gets None, and `evaluate` behaves as
it did without it. The readers that build these values live in `gate.image` (the base image
check), `gate.enrich` (VEX statements, KEV and EPSS data) and `gate.scanners` (a baseline
decision report); `evaluate` reads no file itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from gate.enrich.baseline import Baseline
from gate.enrich.exploit import ExploitData
from gate.enrich.vex_model import VexStatement
from gate.image.base_image import BaseCheck
from gate.run_wording import COMMAND_LINE_WORDS, RunWording


@dataclass(frozen=True, slots=True)
class EvaluationInputs:
    """The data of one run that is neither the report nor the policy."""

    base_check: BaseCheck | None = None
    """The base image check's result (`scan --check-base`)."""
    baseline: Baseline | None = None
    """The earlier decision report this run is compared with (`--baseline`)."""
    vex: tuple[VexStatement, ...] = ()
    """Every VEX statement given (`--vex` files, then the policy's `vex:`), in that order."""
    exploit: ExploitData | None = None
    """The KEV catalog and EPSS scores (`--kev`, `--epss`, the policy's `exploit_data`, or a Grype
    report's own fields), joined to findings by their ids; None: the run had none."""
    wording: RunWording = COMMAND_LINE_WORDS
    """How this run's user gives what the warnings ask for (KEV and EPSS files, the run's time):
    the command line's options, the action's inputs or the GitLab templates'."""


NO_INPUTS = EvaluationInputs()
"""A run with no data beside the report and the policy."""
