"""The hints of the report and policy readers in the words of the way the gate runs.

The readers (gate/scanners/ingest.py, gate/policy/load.py, the VEX, baseline, KEV and EPSS
readers) say what to do in the command line's words: "give it with --kev, and the scanner's JSON
report as REPORT". In the GitHub Action its user sets inputs and types no option; in the GitLab
CI component and template, inputs or `CONTAINER_GATE_*` variables, and the job gates an image,
never a report.

Every other message is worded where it is made, with the run's `RunWording` (gate/run_wording.py,
chosen by gate/cli/run_by.py): the scanners, the image readers, the policy, the renderers and the
publishers take it as data. The readers do not: they are called by every command (`check`,
`scan`, `compare`, `explain`, `policy validate`) and by each other, many levels below the command
that knows the run, and most of their hints name a REPORT, which only `check` takes, so a
wording passed down would serve a few phrases through every reader's signature. They speak the
command line's words, and an error of theirs is put into its user's words here, once, where the
command line reports it (gate/cli/main.py, the baseline's warning in gate/cli/enrichment.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from gate.cli.run_by import run_wording
from gate.run_wording import ACTION_WORDS, GITLAB_WORDS, RunWording
from gate.scanners.trivy import LIST_ALL_PKGS

_Rewrite = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

_ACTION_INPUTS = frozenset(dict(ACTION_WORDS.inputs or ()))
"""The options an input of the action sets (action.yml, entrypoint.py; tests/test_run_wording.py
checks the list against them)."""


def _action_input(found: re.Match[str]) -> str:
    name = found.group("option")
    said = ACTION_WORDS.option(name) if name in _ACTION_INPUTS else f"--{name}"
    return f"{found.group('before')}{said}{found.group('after')}"


_ACTION: Sequence[_Rewrite] = (
    # The action reads no standard input: a policy's `-` is refused in these words.
    (
        re.compile(r"standard input \(-\) is read only for a report \([^)]*\)"),
        "the action reads no standard input",
    ),
    (re.compile(r"check takes it as REPORT, and the policy with --policy"), "the action's `report` input takes it, and its `policy` input the policy"),
    (re.compile(r"give it as REPORT, or with --baseline"), "give it as the action's `report` or `baseline` input"),
    (re.compile(r"raise --max-report-size to read it"), "the action reads no larger report: the command line's --max-report-size raises the limit"),
    (re.compile(r"expected the --json output of an earlier run"), "expected the JSON report of an earlier run (the action's `json` input)"),
    (re.compile(r"--openvex writes"), "the action's `openvex` input writes"),
    (re.compile(r"the gate writes it with --gitlab"), "the gate writes it for GitLab"),
    (re.compile(r"\bas REPORT\b"), "as the action's `report` input"),
    # `give it with --kev`, `writes with --json`, `(--policy)`, `(--json)`.
    (
        re.compile(r"(?P<before>\bwith |\()--(?P<option>[a-z][a-z-]*)(?P<after>\)?)(?![\w-])"),
        _action_input,
    ),
)  # fmt: skip
"""The command line's words of the readers' hints, and the action's."""

_GITLAB: Sequence[_Rewrite] = (
    (
        re.compile(r"standard input \(-\) is read only for a report \([^)]*\)"),
        "the job reads no standard input",
    ),
    (
        re.compile(r"check takes it as REPORT, and the policy with --policy"),
        "the job scans the image itself, and the `policy` input (the CONTAINER_GATE_POLICY variable) takes a policy",
    ),
    (
        re.compile(r"give it as REPORT, or with --baseline"),
        "the `baseline-ref` input (CONTAINER_GATE_BASELINE_REF) fetches it as the baseline",
    ),
    (
        re.compile(r"give it with --kev, or as the policy's exploit_data\.kev"),
        "set the `kev` input (the CONTAINER_GATE_KEV variable) to it, or the policy's exploit_data.kev",
    ),
    (re.compile(r"give it with --vex, or list it under the policy's vex:"), "list it under the policy's vex:"),
    (re.compile(r"and give its JSON report as REPORT"), "and gate its JSON report with container-gate check"),
    (re.compile(r"the gate writes it with --sarif"), "the gate writes it for GitHub code scanning"),
    (re.compile(r"the gate writes it with --gitlab"), "the job writes it as its container-scanning report"),
)  # fmt: skip
"""The command line's words of the policy loader's and the readers' hints, and the GitLab
templates': the job reads a policy, a baseline and KEV and EPSS files, and the image it scans,
never a report."""

_REWRITES: dict[RunWording, Sequence[_Rewrite]] = {ACTION_WORDS: _ACTION, GITLAB_WORDS: _GITLAB}
"""The rewrites of each way the gate runs; the command line's words are the readers' own."""


def in_run_words(text: str) -> str:
    """`text`, an error of the report or policy readers, in the words of the way the gate runs:
    unchanged on the command line."""
    for pattern, words in _REWRITES.get(run_wording(), ()):
        text = pattern.sub(words, text)
    return text


_ACTION_LIST_ALL_PKGS = (
    "run Trivy with --list-all-pkgs (aquasecurity/trivy-action: `list-all-pkgs: true`), "
    "or let the action scan the image (its `image` input)"
)
"""The end of the warning of a Trivy report without its package list, in the action's words:
its user runs Trivy in a step of their own, or gives the image to the action, whose scan lists
the packages. The GitLab job scans the image itself and never reads such a report."""


def report_warnings_in_run_words(warnings: Sequence[str]) -> tuple[str, ...]:
    """The report readers' warnings in the words of the way the gate runs: unchanged on the
    command line. Only the known ending of a warning is rewritten, never the report's own text
    that a warning quotes."""
    if run_wording() is not ACTION_WORDS:
        return tuple(warnings)
    return tuple(
        warning[: -len(LIST_ALL_PKGS)] + _ACTION_LIST_ALL_PKGS if warning.endswith(LIST_ALL_PKGS) else warning
        for warning in warnings
    )
