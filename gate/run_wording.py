"""The words of the way the gate runs, for the warnings that ask the user to give something.

On the command line a warning names an option (`--kev FILE`); in the GitHub Action its user sets
inputs, and in the GitLab CI component and template inputs or `CONTAINER_GATE_*` variables, and
types no option. The command line chooses one `RunWording` for a run (gate/cli/outputs.py
`run_wording`) and hands it to the stages that word such warnings; they read no environment.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunWording:
    """How a run's user gives what the warnings ask for (the KEV and EPSS files, the run's time),
    in the words of the way the gate runs: the action's inputs, not options its user never typed."""

    kev: str
    """The KEV catalog's option or input."""
    epss: str
    """The EPSS scores' option or input."""
    give: str
    """The sentence asking for them: `{files}` the options or inputs, `{s}` a plural's ending,
    `{them}` `it` or `them`."""
    ask: str
    """The same request without what downloads them: `{files}` and `{s}` as in `give`."""
    fetch: str
    """What downloads them."""
    refetch: str
    """The sentence asking to download them again: `{them}` `it` or `them`."""
    clock: str
    """Where the gate's clock comes from."""
    check_clock: str
    """The sentence asking to check the clock and the data's date."""
    time_set_by: str = "--as-of"
    """What sets the run's time, which a date after it may show wrong (a VEX statement's)."""
    time_wrong: str = "--as-of or a clock"
    """What may be wrong when a file says it was made after the run's time (a baseline)."""


COMMAND_LINE_WORDS = RunWording(
    "--kev FILE",
    "--epss FILE",
    "give {files} (container-gate data fetch downloads {them})",
    "give {files}",
    "`container-gate data fetch`",
    "fetch {them} again (container-gate data fetch)",
    "from --as-of or the system clock",
    "check the clock, --as-of and the data's date",
)
"""On the command line."""
GITLAB_WORDS = RunWording(
    "`kev` input (CONTAINER_GATE_KEV)",
    "`epss` input (CONTAINER_GATE_EPSS)",
    "set the job's {files} (its `fetch-exploit-data` input downloads {them})",
    "set the job's {files}",
    "the job's `fetch-exploit-data` input",
    "fetch {them} again (the job's `fetch-exploit-data` input downloads {them})",
    "the runner's clock",
    "check the runner's clock and the data's date",
    "the runner's clock",
    "the runner's clock",
)
"""In the GitLab CI component and template, whose inputs and variables give the files (each
input's name, then the plain template's variable): the job runs the command line, but its user
types no option."""
ACTION_WORDS = RunWording(
    "`kev`",
    "`epss`",
    "set the action's {files} input{s} (its `exploit-data` input downloads {them})",
    "set the action's {files} input{s}",
    "the action's `exploit-data` input",
    "fetch {them} again (the action's `exploit-data` input downloads {them})",
    "the runner's clock",
    "check the runner's clock and the data's date",
    "the runner's clock",
    "the runner's clock",
)
"""In the GitHub Action."""
