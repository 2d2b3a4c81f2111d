"""gate/pull_request.py: the one check of a pull request's number, for the action's `pull-request`
input (entrypoint.py) and the CONTAINER_GATE_PULL_REQUEST variable (the GitHub publisher)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import entrypoint
from gate.platforms import github_event
from gate.pull_request import VARIABLE, not_a_number, parse_pull_request
from tests.support.gate_modules import MODULES

NOT_NUMBERS = ["0", "012", "-1", "+1", "1.0", "1e3", "#12", "pr-12", "12\n13", "١٢", "12345678901"]
"""Values without surrounding blanks (both read a value without them) that name no pull request."""


@pytest.mark.parametrize(("text", "number"), [("1", 1), ("12", 12), ("9999999999", 9999999999)])
def test_a_whole_number_from_1_is_a_pull_requests_number(text: str, number: int) -> None:
    assert parse_pull_request(text) == number


@pytest.mark.parametrize("text", ["", " 12", "12\n", *NOT_NUMBERS])
def test_anything_else_is_not(text: str) -> None:
    assert parse_pull_request(text) is None


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_the_input_and_the_variable_refuse_the_same_values_in_the_same_words(text: str) -> None:
    with pytest.raises(entrypoint.InputError) as caught:
        entrypoint.build_invocation({"INPUT_REPORT": "a.json", "INPUT_PULL-REQUEST": text})
    by_input = str(caught.value)
    number, by_variable = github_event.pull_request_variable({VARIABLE: text})
    assert number is None
    assert by_variable is not None
    assert by_input == not_a_number("input `pull-request`", text)
    # The variable's message goes to a terminal: its value is shown as terminal_safe makes it.
    shown = text if text.isprintable() else text.replace("\n", " ")
    assert by_variable == not_a_number("CONTAINER_GATE_PULL_REQUEST", shown)


def test_the_check_is_written_once() -> None:
    """Neither the entry point nor the publisher's event reader holds a pattern of its own."""
    for path in (Path(entrypoint.__file__), MODULES["gate.platforms.github_event"]):
        text = path.read_text(encoding="utf-8")
        assert "[1-9][0-9]" not in text, path
        assert "a whole number from 1" not in text, path
    assert github_event.PULL_REQUEST_VARIABLE == VARIABLE


def test_it_needs_only_the_standard_library() -> None:
    tree = ast.parse(MODULES["gate.pull_request"].read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= {"__future__", "re"}
