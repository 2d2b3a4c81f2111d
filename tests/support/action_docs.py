"""The action's steps as the docs show them: YAML blocks of a doc, read as GitHub reads a workflow."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import yaml

from scripts.check_ci_files import Yaml12Loader


def action_steps(document: object) -> Iterator[dict[str, Any]]:
    """Every step of `document` (a workflow, or a part of one a doc shows) that runs the action."""
    if isinstance(document, dict):
        if str(document.get("uses", "")).startswith("your-org/container-gate@"):
            yield document
        for value in document.values():
            yield from action_steps(value)
    elif isinstance(document, list):
        for value in document:
            yield from action_steps(value)


def load_yaml_text(text: str) -> Any:
    """A YAML block of a doc, as GitHub reads a workflow (YAML 1.2 booleans, like `load_yaml`)."""
    return yaml.load(textwrap.dedent(text), Loader=Yaml12Loader)  # noqa: S506 - a SafeLoader subclass
