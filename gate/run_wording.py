"""The words of the way the gate runs, for the warnings that ask the user to give something.

On the command line a warning names an option (`--kev FILE`); in the GitHub Action its user sets
inputs, and in the GitLab CI component and template inputs or `CONTAINER_GATE_*` variables, and
types no option. The command line chooses one `RunWording` for a run (gate/cli/run_by.py
`run_wording`) and hands it to the stages that word such warnings; they read no environment.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunWording:
    """How a run's user gives what the warnings ask for (the KEV and EPSS files, the run's time, an
    option), in the words of the way the gate runs: the action's inputs, not options its user never
    typed."""

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
    named: str = "--{option}"
    """How an option the user sets is named: `{input}` its input's name, `{variable}` the GitLab
    templates' variable for it."""
    named_set: str = "--{option} {value}"
    """The same, set to `{value}`."""
    set_to: str = "give --{option} {value}"
    """The request to set it to `{value}`."""
    inputs: tuple[tuple[str, str], ...] | None = None
    """Each option its user can set, and the input that sets it; None: every option, by itself."""
    no_input: str = ""
    """Who has no input for an option that none sets (`the action`)."""
    scanning: str = "`scan`"
    """What scans an image, learning its base image as it goes."""

    def option(self, name: str, value: str | None = None) -> str:
        """How this run's user sets the option `name` (`db-repository`), to `value` if given:
        `--db-repository`, the action's `db-repository` input. An option no input sets is named
        as the command line's, with who has none (an action's run never sets it)."""
        return self._said(self.named if value is None else self.named_set, name, value)

    def setting(self, name: str, value: str) -> str:
        """The request to set the option `name` to `value`: `give --base-image NAME:TAG`, `set
        the action's `base-image` input to NAME:TAG`."""
        return self._said(self.set_to, name, value)

    def _said(self, words: str, name: str, value: str | None) -> str:
        inputs = None if self.inputs is None else dict(self.inputs)
        if inputs is not None and name not in inputs:
            said = f"--{name}" if value is None else f"--{name} {value}"
            return f"the command line's {said} ({self.no_input} has no input for it)"
        given = name if inputs is None else inputs[name]
        variable = "CONTAINER_GATE_" + given.upper().replace("-", "_")
        return words.format(option=name, input=given, variable=variable, value=value)

    def base_image_sources(self) -> str:
        """Where a scan learns the image's base image, in the words of this run."""
        return (
            f"{self.scanning} learns it from {self.option('base-image')}, the image's base-name "
            f"label or {self.option('dockerfile')}"
        )


def _same_names(*options: str) -> tuple[tuple[str, str], ...]:
    """Options each set by an input of the same name."""
    return tuple((option, option) for option in options)


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
    named="the `{input}` input ({variable})",
    named_set="the `{input}` input ({variable}: {value})",
    set_to="set the `{input}` input (the {variable} variable) to {value}",
    inputs=(
        *_same_names(
            "policy",
            "scanner",
            "dockerfile",
            "base-image",
            "advisory",
            "check-base",
            "cache-dir",
            "skip-db-update",
            "db-repository",
            "trivy-server",
            "max-db-age",
            "kev",
            "epss",
        ),
        ("build-arg", "build-args"),
    ),
    no_input="the job",
    scanning="the job",
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
    named="the action's `{input}` input",
    named_set="the action's `{input}` input ({value})",
    set_to="set the action's `{input}` input to {value}",
    inputs=(
        *_same_names(
            "policy",
            "scanner",
            "dockerfile",
            "base-image",
            "platform",
            "check-base",
            "sarif",
            "sarif-category",
            "sarif-location",
            "json",
            "markdown",
            "comment",
            "advisory",
            "cache-dir",
            "skip-db-update",
            "db-repository",
            "trivy-server",
            "max-db-age",
            "scan-timeout",
            "baseline",
            "vex",
            "openvex",
            "kev",
            "epss",
        ),
        ("build-arg", "build-args"),
    ),
    no_input="the action",
    scanning="a scan of the action's `image` input",
)
"""In the GitHub Action."""
