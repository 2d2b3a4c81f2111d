"""Messages the gate gives alike in several readers (policy, VEX, reports), written out here rather
than taken from the gate's code, so that a change to the words fails the tests that quote them."""

from __future__ import annotations


def lone_surrogate(code: str, *, key: bool = False) -> str:
    """The problem with a lone `"\\ud800"` escape: valid JSON and YAML, but no output can carry it."""
    return (
        f'{"this key holds" if key else "holds"} a lone UTF-16 surrogate ("\\{code}"), which is not '
        "text (expected a string that UTF-8 "
        "can carry: a surrogate escape needs its pair)"
    )
