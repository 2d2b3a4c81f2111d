"""The files a policy names (`vex:`, `exploit_data:`): an error in one of them says that the
policy named it, as `policy.yaml: vex: missing.json: no such VEX file`, so that the user knows
where the path came from (it is not on the command line)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from gate._input_file import STANDARD_INPUT, reads_standard_input
from gate.cli.options import Options
from gate.errors import GateError, UsageError
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


def standard_input_clash(options: Options, policy: Policy) -> None:
    """Refuse a policy whose `vex:` or `exploit_data:` names standard input (`/dev/stdin`,
    `/dev/fd/0`) where another input of the run reads it too (`check -`, `--baseline /dev/stdin`,
    another of the policy's files), once the policy is read and before anything else is: standard
    input holds one file, and the second reader would find it empty. Two such inputs on the
    command line alone are refused as it is parsed (gate/cli/main.py), in the same words."""
    named = [(f"vex[{index}]", path) for index, path in enumerate(policy.vex)]
    # A file given on the command line takes the place of the policy's: the policy's is not read.
    named += [
        (f"exploit_data.{key}", path)
        for key, path, given in (
            ("kev", policy.exploit_data.kev, options.exploit.kev),
            ("epss", policy.exploit_data.epss, options.exploit.epss),
        )
        if path is not None and given is None
    ]
    from_policy = [(f"the policy's {key}", str(path)) for key, path in named if reads_standard_input(path)]
    if not from_policy:
        return
    readers = [
        (flag, "-" if path == STANDARD_INPUT and flag in {"REPORT", "REF"} else str(path))
        for flag, path in _command_line_inputs(options)
        if path is not None and reads_standard_input(path)
    ]
    readers += from_policy
    if len(readers) < 2:
        return
    (first, first_path), (second, second_path) = readers[:2]
    raise UsageError(
        f"standard input holds one file, and {first} {first_path} and {second} {second_path} both "
        f"read it ({policy.source}): give the others their files"
    )


def _command_line_inputs(options: Options) -> list[tuple[str, Path | None]]:
    """The files the command line names for the run to read, by flag."""
    inputs: list[tuple[str, Path | None]] = [("REPORT", path) for path in options.reports]
    if options.compare is not None:
        inputs += [("REF", item.report) for item in options.compare.items]
        inputs += [("--vex", path) for path in options.compare.vex]
    inputs += [
        ("--policy", options.policy.path),
        ("--baseline", options.enrichment.baseline),
        ("--kev", options.exploit.kev),
        ("--epss", options.exploit.epss),
    ]
    inputs += [("--vex", path) for path in options.enrichment.vex]
    if options.scan is not None and options.scan.dockerfile is not None:
        inputs.append(("--dockerfile", Path(options.scan.dockerfile)))
    return inputs
