"""The files a policy names (`vex:`, `exploit_data:`): an error in one of them says that the
policy named it, as `policy.yaml: vex: missing.json: no such VEX file`, so that the user knows
where the path came from (it is not on the command line)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from gate.errors import GateError
from gate.policy.model import Policy


@contextlib.contextmanager
def named_by(policy: Policy, key: str, *, applies: bool = True) -> Iterator[None]:
    """A `GateError` raised inside names the policy and its `key`; with `applies` False (the
    command line gave the file instead), it passes unchanged."""
    try:
        yield
    except GateError as exc:
        if applies:
            exc.message = f"{policy.source}: {key}: {exc.message}"
            exc.args = (exc.message,)
        raise
