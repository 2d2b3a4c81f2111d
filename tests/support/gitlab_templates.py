"""The GitLab CI component (templates/container-gate.yml) and docs/gitlab-ci.md as GitLab reads
them: the component's inputs and job, its inputs interpolated, `$NAME` as the runner expands it in
`cache:`, and the docs' examples."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.support.repo_paths import PROJECT_ROOT

COMPONENT = PROJECT_ROOT / "templates" / "container-gate.yml"
DOCS = PROJECT_ROOT / "docs" / "gitlab-ci.md"
INPUT = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]")
"""An input of the component where GitLab interpolates it: `$[[ inputs.NAME ]]`."""


def component() -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(spec inputs, the job's name as written, the job)."""
    documents = list(yaml.safe_load_all(COMPONENT.read_text(encoding="utf-8")))
    assert len(documents) == 2, "a component is a `spec:` header document, `---`, then the configuration"
    header, config = documents
    assert list(header) == ["spec"]
    assert list(header["spec"]) == ["inputs"]
    [(name, job)] = config.items()
    return header["spec"]["inputs"], name, job


def interpolate(node: Any, values: dict[str, Any]) -> Any:
    """GitLab's input interpolation on a parsed document: keys and string values."""

    def text(value: str) -> str:
        def one(match: re.Match[str]) -> str:
            found = values[match.group(1)]
            return str(found).lower() if isinstance(found, bool) else str(found)

        return INPUT.sub(one, value)

    if isinstance(node, dict):
        return {interpolate(k, values): interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(item, values) for item in node]
    return text(node) if isinstance(node, str) else node


def runner_expanded(value: str, variables: dict[str, str]) -> str:
    """What GitLab Runner makes of `$NAME` in `cache:key` and `cache:paths` (it expands both,
    doc/ci/variables/where_variables_can_be_used.md)."""
    return re.sub(r"\$([A-Z_][A-Z0-9_]*)", lambda match: variables.get(match[1], ""), value)


def docs_example(marker: str) -> str:
    """The ```yaml block after `<!-- container-gate example: MARKER`."""
    after = DOCS.read_text(encoding="utf-8").split(f"<!-- container-gate example: {marker}", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", after, re.DOTALL)
    assert match is not None
    return match.group(1)


def job_rule(rules: list[dict[str, Any]], env: dict[str, str]) -> dict[str, Any] | None:
    """The first of a job's `rules:` that holds, as GitLab picks it: `$VAR` is a set, non-empty
    variable, `$VAR == "value"` compares, `&&` joins; a rule without `if:` always holds."""
    for rule in rules:
        terms = [term.strip() for term in rule.get("if", "").split("&&") if term.strip()]
        holds = True
        for term in terms:
            match = re.fullmatch(r'\$(\w+)(?: == "([^"]*)")?', term)
            assert match is not None, f"an `if:` the test cannot read: {term}"
            value = env.get(match[1], "")
            holds = holds and (value == match[2] if match[2] is not None else bool(value))
        if holds:
            return rule
    return None


def job_runs(rules: list[dict[str, Any]], env: dict[str, str]) -> bool:
    """Whether a job with these `rules:` is in a pipeline with these variables."""
    rule = job_rule(rules, env)
    return rule is not None and rule.get("when", "on_success") != "never"


_BRANCH_PUSH = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "fix", "CI_COMMIT_REF_NAME": "fix"}
PIPELINES_OF_A_CHANGE: dict[str, list[dict[str, str]]] = {
    # GitLab makes a branch pipeline for every push (CI_OPEN_MERGE_REQUESTS set while the branch
    # has an open merge request) and, for a branch with one, a merge-request pipeline too, which
    # has no CI_COMMIT_BRANCH (doc/ci/variables/predefined_variables.md); each pipeline is kept
    # when a job's rules take it.
    "push to a branch without a merge request": [_BRANCH_PUSH],
    "push to a branch with an open merge request": [
        _BRANCH_PUSH | {"CI_OPEN_MERGE_REQUESTS": "acme/web!7"},
        {
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_COMMIT_REF_NAME": "fix",
            "CI_MERGE_REQUEST_IID": "7",
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "fix",
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
            "CI_OPEN_MERGE_REQUESTS": "acme/web!7",
        },
    ],
    "push to the protected main": [
        {
            "CI_PIPELINE_SOURCE": "push",
            "CI_COMMIT_BRANCH": "main",
            "CI_COMMIT_REF_NAME": "main",
            "CI_COMMIT_REF_PROTECTED": "true",
        }
    ],
    "release tag": [
        {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v1.2.0", "CI_COMMIT_REF_NAME": "v1.2.0"}
    ],
}
"""The pipelines GitLab can make for one change, by the kind of change."""
