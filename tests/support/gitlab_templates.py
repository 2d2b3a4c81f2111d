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
