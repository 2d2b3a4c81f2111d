"""The `remediations` of the GitLab container-scanning report: patches that apply an action.

Schema 15.0.7 accepts a remediation only with a `diff`, "a base64-encoded remediation code diff,
compatible with git apply", and GitLab offers it as a patch to download or a merge request to
open. So a remediation is written only where the patch is certain: an upgrade of an OS package
(Debian's apt or Alpine's apk, the plan's command) installed in the image's own layers by a
Dockerfile instruction the gate knows, with the Dockerfile's text at hand. The patch adds one
`RUN` right after that instruction, so the upgrade runs where the package was installed, as the
same user. A base refresh changes no file (the base image is rebuilt elsewhere), and a library
is bumped in a manifest the gate has not read: neither gets a remediation, their vulnerabilities
say what to do in `solution`.
"""

from __future__ import annotations

import base64
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from gate.errors import GateError
from gate.image.dockerfile import Instruction, parse_dockerfile
from gate.model import Finding, LayerOrigin
from gate.policy.actions import Action, ActionKind, FindingKey
from gate.policy.evaluation import Disposition, Evaluation
from gate.render.remediation import what_to_do
from gate.untrusted import terminal_safe

# A path git writes as it is in a patch's headers: no spaces, quotes or other characters it quotes.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9._+-]+(?:/[A-Za-z0-9._+-]+)*")

SUMMARY_LIMIT = 500
"""Characters of a remediation's summary (the schema sets no limit; GitLab shows it as a title)."""

# The RUN a patch adds: non-interactive, from fresh package lists, leaving no lists behind.
_RUN = {
    "deb": "RUN apt-get update && apt-get install -y --only-upgrade {packages} && rm -rf /var/lib/apt/lists/*",
    "apk": "RUN apk upgrade --no-cache {packages}",
}


@dataclass(frozen=True)
class DockerfileText:
    """The Dockerfile the image was built from, as the command line read it."""

    path: str
    """Its path relative to the repository root, as a patch names the file (`docker/Dockerfile`)."""
    text: str
    """Its content."""


def remediations(
    evaluation: Evaluation, dockerfile: DockerfileText | None, ids: Mapping[FindingKey, str]
) -> list[dict[str, object]]:
    """One remediation per action that a Dockerfile patch applies; `ids` is the report's `id` of
    each finding it lists (`gitlab.vulnerability_ids`)."""
    if dockerfile is None or not _PLAIN_PATH.fullmatch(dockerfile.path):
        return []
    try:
        instructions = {
            step.line: step
            for stage in parse_dockerfile(dockerfile.text, dockerfile.path).stages
            for step in stage.instructions
        }
    except GateError:
        return []  # a Dockerfile the gate cannot read gets no patch; the solutions still say what to do
    listed = _listed(evaluation)
    out: list[dict[str, object]] = []
    for action in evaluation.plan.actions:
        instruction = instructions.get(action.dockerfile_line or 0)
        if instruction is None:
            continue
        fixes = [ids[finding.key] for finding in listed.get(action.id, [])]
        patch = _patch(action, instruction, dockerfile)
        if patch is None or not fixes:
            continue
        summary = f"{what_to_do(action)}: add `{_run(action)}` after Dockerfile line {instruction.end_line}"
        out.append(
            {
                "fixes": [{"id": vuln_id} for vuln_id in fixes],
                "summary": terminal_safe(summary, SUMMARY_LIMIT),
                "diff": base64.b64encode(patch.encode("utf-8")).decode("ascii"),
            }
        )
    return out


def _listed(evaluation: Evaluation) -> dict[str, list[Finding]]:
    """The findings the report lists as vulnerabilities (blocking and informational), by action."""
    by_action: dict[str, list[Finding]] = {}
    for decision in evaluation.decisions:
        if decision.disposition in (Disposition.BLOCKING, Disposition.INFORMATIONAL):
            action_id = evaluation.plan.action_ids.get(decision.finding.key)
            if action_id is not None:
                by_action.setdefault(action_id, []).append(decision.finding)
    return by_action


def _run(action: Action) -> str:
    return _RUN[action.ecosystem or ""].format(packages=" ".join(action.packages))


def _patch(action: Action, instruction: Instruction, dockerfile: DockerfileText) -> str | None:
    """A unified diff, as `git diff` writes it, that adds the upgrade after `instruction`."""
    if (
        action.kind is not ActionKind.PACKAGE_UPGRADE
        or action.origin is not LayerOrigin.OWN
        or action.ecosystem not in _RUN
        or action.command is None  # the plan found the names and version plain enough for a shell
        or instruction.keyword != "RUN"
    ):
        return None
    before = dockerfile.text.splitlines(keepends=True)
    if instruction.end_line > len(before):
        return None
    newline = "\r\n" if before[0].endswith("\r\n") else "\n"
    if not before[instruction.end_line - 1].endswith("\n"):
        return None  # the instruction ends the file without a newline: the patch would touch it
    after = [*before[: instruction.end_line], _run(action) + newline, *before[instruction.end_line :]]
    path = dockerfile.path
    lines = list(difflib.unified_diff(before, after, f"a/{path}", f"b/{path}", n=3))
    # difflib leaves a last line without its newline as it is; git marks it.
    body = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
    return f"diff --git a/{path} b/{path}\n{body}"
