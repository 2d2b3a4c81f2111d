"""The words of the way the gate runs, for the messages that ask the user to give something.

On the command line a warning names an option (`--kev FILE`); in the GitHub Action its user sets
inputs, and in the GitLab CI component and template inputs or `CONTAINER_GATE_*` variables, and
types no option. The command line chooses one `RunWording` for a run (gate/cli/run_by.py
`run_wording`) and hands it, or the part they word with (`json_report`, `login`), to the stages
that word such messages: the scanners, the image readers, the policy, the renderers and the
publishers. They read no environment. A new hint is a field here, with its three values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JsonReportHint:
    """Where a summary sends its reader for what it leaves out, the JSON decision report, and how
    it tells a scan's base image, in the words of the way the gate runs: the action's input, not
    an option its user never typed."""

    markdown: str
    """The report named in a sentence of Markdown (`the JSON report (`--json`)`)."""
    terminal: str
    """What the terminal says after "... and 12 more" (`--json PATH lists them all`)."""
    plain: str = "the JSON report (--json)"
    """The report named in plain text (a SARIF notification)."""
    base_image: str = "give `--base-image REF` (or `--dockerfile PATH`)"
    """How a scan is given its base image, in Markdown (a scan that found none)."""
    base_image_plain: str = "give --base-image REF (or --dockerfile PATH)"
    """The same in plain text (the terminal)."""


@dataclass(frozen=True)
class LoginHint:
    """What to do about a registry that wants credentials, or refused the ones it was given.

    A registry that refuses a read is answered with what to do: `docker login HOST` on the command
    line, whose login the gate and the scanners read from the Docker config. The GitHub Action's
    users cannot run `docker login` where the gate runs (its container never sees the runner's
    config): they set the action's `registry` inputs. The GitLab job writes its own Docker config
    for the project's registry: another registry needs a config of the user's, named by
    DOCKER_CONFIG."""

    needed: str
    """For a registry that refused anonymous access (`{registry}`: its name)."""
    refused: str
    """For a registry that refused the credentials it was given (`{registry}`: its name)."""

    def when_needed(self, registry: str) -> str:
        """The hint for a registry that refused anonymous access."""
        return self.needed.replace("{registry}", registry)

    def when_refused(self, registry: str) -> str:
        """The hint for a registry that refused the credentials it was given."""
        return self.refused.replace("{registry}", registry)


_COMMAND_LINE_JSON = JsonReportHint("the JSON report (`--json`)", "--json PATH lists them all")
_COMMAND_LINE_LOGIN = LoginHint("docker login {registry}", "docker login {registry} again")
"""On the command line: the gate and the scanners read the login `docker login` stores."""
_NAME_THEM = "name the image and, for a multi-platform image, the platform to scan"
"""On the command line, which names both (`--image-name`, `--platform`)."""
# The gate's own HTTPS connections (registries, GitHub's and GitLab's APIs) verify with requests'
# bundle of public CAs, or the file REQUESTS_CA_BUNDLE names in its place; not the system's store
# and not SSL_CERT_FILE (measured: requests 2.32 against a server of a private CA).
_COMMAND_LINE_UNTRUSTED = (
    "is it signed by a public CA? For a CA of your own, set REQUESTS_CA_BUNDLE to a PEM file of "
    "the CAs to trust, yours and the public ones: it replaces the gate's bundle"
)
_GITLAB_UNTRUSTED = (
    "is it signed by a public CA, or by the CA the runner's tls-ca-file gives the job "
    "(CI_SERVER_TLS_CA_FILE)? For another CA, set the job's REQUESTS_CA_BUNDLE variable to a PEM "
    "file of it: with CI_SERVER_TLS_CA_FILE set, the gate trusts it besides the public CAs and the "
    "CI_SERVER_TLS_CA_FILE one; without, it replaces the gate's bundle, so put the public CAs in it too"
)
"""In a GitLab job, whose runner's CA file the gate trusts besides the public CAs: the template's,
and the command line's in a job script of the user's own (gate/cli/run_by.py). REQUESTS_CA_BUNDLE
is then added to both (`gate.image.tls.trust_also`); without that file, it replaces the public CAs."""


@dataclass(frozen=True, slots=True)
class RunWording:
    """How a run's user gives what the messages ask for (an option, the KEV and EPSS files, the
    run's time, the JSON report, a registry's login), in the words of the way the gate runs: the
    action's inputs, not options its user never typed."""

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
    json_report: JsonReportHint = _COMMAND_LINE_JSON
    """How the run's user asks for the JSON report, where the summaries, the comment, the SARIF
    and GitLab reports point to it, and gives a scan its base image."""
    login: LoginHint = _COMMAND_LINE_LOGIN
    """How the run's user gives a registry's credentials, for the errors of a registry that refuses
    a read: `docker login`, the action's `registry` inputs, the GitLab job's Docker config."""
    fetched_for: str | None = None
    """The input a `data fetch --if-older-than` runs for (`exploit-data`), in whose words a fetch
    that downloads nothing is said; None: in the command line's (`--if-older-than`)."""
    comment_off: str = "--no-comment"
    """What turned the pull-request comment off, for the publisher's note."""
    keep_apart: str = _NAME_THEM
    """What keeps the comments of a job's platforms apart, when a run that could not decide knows
    its image but not, for an image of several, its platform."""
    keep_apart_report: str = _NAME_THEM
    """The same, when it knows neither (a report's run that could not read the report)."""
    untrusted_certificate: str = _COMMAND_LINE_UNTRUSTED
    """What to check when the TLS certificate of a registry or of GitHub's API is not trusted, after
    `; `: how this run's user has the gate trust a CA of their own."""

    def option(self, name: str, value: str | None = None) -> str:
        """How this run's user sets the option `name` (`db-repository`), to `value` if given:
        `--db-repository`, the action's `db-repository` input. An option no input sets is named
        as the command line's, with who has none (an action's run never sets it)."""
        return self._said(self.named if value is None else self.named_set, name, value)

    def setting(self, name: str, value: str) -> str:
        """The request to set the option `name` to `value`: `give --base-image NAME:TAG`, `set
        the action's `base-image` input to NAME:TAG`."""
        return self._said(self.set_to, name, value)

    def passing(self, name: str, value: str | None = None) -> str:
        """The request to pass the option `name`, with `value` if it takes one: `pass
        --skip-db-update`, `set the action's `skip-db-update` input to true`. An option no input
        sets is passed on the command line, with who has none."""
        if self.inputs is None or name not in dict(self.inputs):
            return "pass " + self.option(name, value)
        return self.setting(name, "true" if value is None else value)

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


_SCAN_INPUTS = (
    *_same_names(
        "policy", "scanner", "dockerfile", "base-image", "platform", "advisory", "check-base",
        "cache-dir", "skip-db-update", "db-repository", "trivy-server", "max-db-age",
        "scan-timeout", "kev", "epss",
    ),
    ("build-arg", "build-args"),
)  # fmt: skip
"""The options of a scan that the action and the GitLab templates both set by an input (the
action has more: `_ACTION_OUTPUT_INPUTS`)."""
_ACTION_OUTPUT_INPUTS = _same_names(
    "sarif", "sarif-category", "sarif-location", "json", "markdown", "comment", "baseline", "vex",
    "openvex",
)  # fmt: skip
"""The action's inputs for its outputs, the comment, the baseline and the VEX files."""


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
    inputs=_SCAN_INPUTS,
    no_input="the job",
    scanning="the job",
    untrusted_certificate=_GITLAB_UNTRUSTED,
    json_report=JsonReportHint(
        "the JSON report (the job's `container-gate.json` artifact)",
        "the job's container-gate.json artifact lists them all",
        "the JSON report (the job's container-gate.json artifact)",
        "set the `base-image` input (the `CONTAINER_GATE_BASE_IMAGE` variable) or the `dockerfile` input",
        "set the base-image input (the CONTAINER_GATE_BASE_IMAGE variable) or the dockerfile input",
    ),
    # The job writes a Docker config for `CI_REGISTRY` unless DOCKER_CONFIG names one
    # (docs/gitlab-ci.md).
    login=LoginHint(
        "the job logs in to its project's registry only: for {registry}, point DOCKER_CONFIG at a "
        "Docker config with a login for it (docs/gitlab-ci.md, Registry credentials)",
        "check the login for {registry} in the Docker config DOCKER_CONFIG names: the job writes one "
        "for its project's registry from its own credentials (docs/gitlab-ci.md, Registry credentials)",
    ),
)
"""In the GitLab CI component and template, whose inputs and variables give the files (each
input's name, then the plain template's variable): the job runs the command line, but its user
types no option. The job always writes the JSON report as its `container-gate.json` artifact."""
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
    inputs=(*_SCAN_INPUTS, *_ACTION_OUTPUT_INPUTS),
    no_input="the action",
    scanning="a scan of the action's `image` input",
    json_report=JsonReportHint(
        "the JSON report (the action's `json` input)",
        "the action's json input writes a JSON report listing them all",
        "the JSON report (the action's json input)",
        "set the action's `base-image` input (or its `dockerfile` input)",
        "set the action's base-image input (or its dockerfile input)",
    ),
    login=LoginHint(
        "set the action's `registry` input to {registry}, with `registry-username` and `registry-password`",
        "check the action's `registry-username` and `registry-password` inputs for {registry}",
    ),
    fetched_for="exploit-data",
    comment_off="the action's `comment: false`",
    # The action has no input that names the image of a `report`, nor takes `platform` with one
    # (a run that could not read the report knows neither): comments are kept apart by gating
    # each image's reports in a job of its own, as a job's comments are its own. An action
    # scanning an `image` knows it, and takes the platform from its `platform` input.
    keep_apart="set the action's `platform` input to the platform a multi-platform image is scanned for",
    keep_apart_report=(
        "the action knows the image of a `report` only from the report itself: gate the "
        "reports of each image and platform in a job of its own to keep their comments apart"
    ),
    # A container action gets its step's `env:`; it sees the workspace at /github/workspace.
    untrusted_certificate=(
        "is it signed by a public CA? For a CA of your own, set REQUESTS_CA_BUNDLE in the gate "
        "step's `env:` to a PEM file in the workspace of the CAs to trust, yours and the public "
        "ones, as the action's container sees it (/github/workspace/...): it replaces the gate's bundle"
    ),
)
"""In the GitHub Action, whose `json` input writes the report (none by default) and whose
`registry` inputs give a registry's login (docs/github-action.md)."""
