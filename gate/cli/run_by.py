"""How this run's user tells the gate what to do: options, the GitHub Action's inputs, or the GitLab
CI component's and template's inputs and variables, and the words the outputs, warnings and
errors use for each (a `RunWording`). Chosen here, once, from the environment; the stages get the
chosen words as data.
"""

from __future__ import annotations

import os
from dataclasses import replace

from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS, RunWording

RUN_BY_ACTION = "CONTAINER_GATE_ACTION"
"""Set to `true` by the GitHub Action's entry point (entrypoint.py): the summaries then point to
its `json` input rather than to `--json`, an option its users never type."""


GITLAB_POLICY = "CONTAINER_GATE_POLICY"
"""The variable the GitLab CI component and template turn into --policy (templates/), set by both
and empty when no policy is given: a run that has it is one of theirs."""


def run_by_gitlab_template() -> bool:
    """Whether this run is the job of the GitLab CI component or template, whose users set its
    inputs or variables, never options."""
    return GITLAB_POLICY in os.environ and os.environ.get(RUN_BY_ACTION) != "true"


def run_wording() -> RunWording:
    """How the user of this run gives what the messages ask for (an option, KEV and EPSS files,
    its time, the JSON report, a registry's credentials, a CA to trust)."""
    if os.environ.get(RUN_BY_ACTION) == "true":
        return ACTION_WORDS
    if run_by_gitlab_template():
        return GITLAB_WORDS
    if os.environ.get("GITLAB_CI") == "true":
        # The command line in a job script of the user's own: the gate trusts the runner's CA file
        # there too (`registry_ca_file`, the merge-request note).
        return replace(COMMAND_LINE_WORDS, untrusted_certificate=GITLAB_WORDS.untrusted_certificate)
    return COMMAND_LINE_WORDS


def registry_ca_file() -> str | None:
    """The CA file a GitLab job's registry reads trust besides the usual ones: the runner's
    CI_SERVER_TLS_CA_FILE, the CA of a GitLab instance whose certificate no public CA signed,
    which signs its registry's and Dependency Proxy's too. None outside GitLab CI."""
    if os.environ.get("GITLAB_CI") != "true":
        return None
    # Imported here: the GitLab client imports requests, which `check` never needs.
    from gate.platforms.gitlab_api import TLS_CA_VARIABLE

    return os.environ.get(TLS_CA_VARIABLE) or None
