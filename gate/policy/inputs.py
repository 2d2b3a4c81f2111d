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


@dataclass(frozen=True, slots=True)
class ExploitDataHint:
    """How a run's user gives the KEV and EPSS files, in the words of the way the gate runs: the
    action's inputs, not options its user never typed."""

    kev: str
    """The KEV catalog's option or input."""
    epss: str
    """The EPSS scores' option or input."""
    give: str
    """The sentence asking for them: `{files}` the options or inputs, `{s}` a plural's ending,
    `{them}` `it` or `them`."""


COMMAND_LINE_DATA = ExploitDataHint(
    "--kev FILE", "--epss FILE", "give {files} (container-gate data fetch downloads {them})"
)
"""On the command line (and in the GitLab templates, which run it)."""
ACTION_DATA = ExploitDataHint(
    "`kev`", "`epss`", "set the action's {files} input{s} (its `exploit-data` input downloads {them})"
)
"""In the GitHub Action."""


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
    data_hint: ExploitDataHint = COMMAND_LINE_DATA
    """How this run's user gives KEV and EPSS files, for the warnings that ask for them."""


NO_INPUTS = EvaluationInputs()
"""A run with no data beside the report and the policy."""
