"""`check` imports what its run uses and nothing else: the modules of other commands, of outputs
it was not asked for and of inputs it was not given are each a few milliseconds of every run's
start-up, and the libraries that order versions and check a policy against its schema a tenth of
a second each (docs/performance.md). Checked in a fresh interpreter, after a whole run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.support.corpus import corpus_file
from tests.support.repo_paths import PROJECT_ROOT

REPORT = corpus_file("trivy", "aquasecurity-trivy__alpine-310.json.golden")
NO_FIX = corpus_file("trivy", "aquasecurity-trivy__ubi-7.json.golden")
"""A report whose one finding has no fixed version: there is no version to order."""
POLICY = PROJECT_ROOT / "policies" / "strict.yaml"

VERSIONS = "univers.versions"
"""The version library, imported when a first version is ordered."""
SCHEMA = "jsonschema"
"""The JSON Schema validator, imported when a policy given with --policy is checked."""

NEVER = (
    # The other commands: image resolution, scanners and registries, the completion writer.
    "gate.scanners.run",
    "gate.image.registry",
    "gate.cli.compare",
    "gate.cli.data_fetch",
    "gate.render.explain",
    "docker",
    "requests",
    "shtab",
    # The platforms' publishers, with `--ci none`.
    "gate.platforms.github",
    "gate.platforms.github_commands",
    "gate.platforms.gitlab",
    # Inputs this run was not given: a baseline, VEX, KEV and EPSS files.
    "gate.scanners.baseline_file",
    "gate.enrich.vex",
    "gate.enrich.load",
    # The terminal's column widths of text that is not ASCII (the summary of an ASCII report).
    "wcwidth",
    # The policy schema's validator, with the shipped default policy (checked by the tests).
    SCHEMA,
)
"""Modules a `check` of one report with the default policy never imports."""

OUTPUTS = {
    "--json": ("gate.render.json", "out.json"),
    "--markdown": ("gate.render.markdown", "out.md"),
    "--gitlab": ("gate.render.gitlab", "out.gitlab.json"),
    "--junit": ("gate.render.junit", "out.xml"),
    "--sarif": ("sarif_om", "out.sarif"),
}
"""Each output flag, and a module that only its renderer imports."""


def imported_by_check(args: Sequence[str]) -> set[str]:
    """The modules in `sys.modules` after `container-gate check ARGS` in a fresh interpreter."""
    return imported_by(["check", *args])


def imported_by(args: Sequence[str]) -> set[str]:
    """The modules in `sys.modules` after `container-gate ARGS` in a fresh interpreter (its output
    left out; `--help` ends with SystemExit, exit code 0)."""
    code = (
        "import contextlib, io, json, sys\n"
        "from gate.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        code = main(sys.argv[1:])\n"
        "    except SystemExit as stop:\n"
        "        code = stop.code or 0\n"
        "print(json.dumps({'code': int(code), 'modules': sorted(sys.modules)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] in (0, 1), done.stderr
    return set(result["modules"])


@pytest.mark.parametrize("flag", sorted(OUTPUTS))
def test_check_imports_neither_other_commands_nor_other_outputs(flag: str, tmp_path: Path) -> None:
    module, name = OUTPUTS[flag]
    modules = imported_by_check([str(REPORT), "--ci", "none", "--quiet", flag, str(tmp_path / name)])
    assert module in modules
    unasked = {other for other, _ in OUTPUTS.values() if other != module}
    assert modules.isdisjoint({*NEVER, *unasked}), sorted(modules & {*NEVER, *unasked})


@pytest.mark.parametrize(
    "args",
    [["--help"], ["check", "--help"], ["scan", "--help"], ["explain", "--help"], ["completion", "bash"]],
    ids=" ".join,
)
def test_help_and_completion_import_neither_versions_nor_schema(args: list[str]) -> None:
    modules = imported_by(args)
    assert modules.isdisjoint({VERSIONS, SCHEMA}), sorted(modules & {VERSIONS, SCHEMA})


def test_versions_are_imported_when_a_fix_is_ordered_only() -> None:
    assert VERSIONS in imported_by_check([str(REPORT), "--ci", "none", "--quiet"])
    assert VERSIONS not in imported_by_check([str(NO_FIX), "--ci", "none", "--quiet"])


def test_the_schema_is_imported_to_check_a_given_policy_only() -> None:
    assert SCHEMA not in imported_by_check([str(REPORT), "--ci", "none", "--quiet"])
    assert SCHEMA in imported_by_check([str(REPORT), "--ci", "none", "--quiet", "--policy", str(POLICY)])
