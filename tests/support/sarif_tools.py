"""Two independent judges of a SARIF log: the OASIS JSON schema, and Microsoft's SARIF Multitool.

- `validate_sarif_schema(doc)`: the SARIF 2.1.0 schema (tests/data/schemas/sarif-schema-2.1.0.json, draft 4)
  through jsonschema. Formats are not asserted: GitHub's upload (codeql-action `validateSarifFileSchema`)
  reports `uri`/`uri-reference` format errors as warnings only (github/codeql-action#1703).
- `run_multitool_validate(path)`, `run_multitool_validate_many(paths)` (one run for many files:
  its start-up is most of a run's time): `Sarif.Multitool validate` from npm `@microsoft/sarif-multitool-linux`
  (pinned in package.json): the schema again plus the SARIF1xxx/2xxx rules of the SARIF SDK. It is a
  self-contained .NET executable; `DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1` spares it libicu.
  The multitool skips (with a note only) files whose name does not end in .sarif or .json, and exits 0
  whatever it finds, so the input is copied to `input.sarif` and its output log is read instead.
  Its rule SARIF2006 (UrisShouldBeReachable) sends an HTTP GET to every URI in the log: tests touch no
  network, so the rule is disabled in the configuration below, and the proxy variables send any other
  attempt to a closed port of 127.0.0.1. With `github_rules`, the GitHub ingestion rules (rule kind
  `Gh`: GH1001-GH1006 raised to errors as in sarif-sdk's policies/github.config.xml, GH2012) run too.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft4Validator

from tests.support.repo_paths import TEST_DATA, node_tool

SARIF_SCHEMA = TEST_DATA / "schemas" / "sarif-schema-2.1.0.json"
"""The OASIS SARIF 2.1.0 JSON schema (errata 01), as the format's owners publish it."""

MULTITOOL = "@microsoft/sarif-multitool-linux/Sarif.Multitool"
"""The multitool executable inside node_modules."""

MULTITOOL_TIMEOUT = 300
"""Seconds before a hung multitool run is killed (a normal run takes ~3 s)."""

Level = Literal["error", "warning", "note"]
"""SARIF result levels the multitool reports."""

_GITHUB_RULES = (
    "GH1001.ProvideRequiredLocationProperties",
    "GH1002.InlineThreadFlowLocations",
    "GH1003.ProvideRequiredRegionProperties",
    "GH1004.ReviewArraysThatExceedConfigurableDefaults",
    "GH1005.LocationsMustBeRelativeUrisOrFilePaths",
    "GH1006.ProvideCheckoutPath",
)
_CLOSED_PORT = "http://127.0.0.1:9"  # discard port, nothing listens: connections are refused at once


def _configuration(github_rules: bool) -> str:
    entries = [("SARIF2006.UrisShouldBeReachable", "Disabled")]
    if github_rules:
        entries += [(rule, "Error") for rule in _GITHUB_RULES]
    body = "".join(
        f'  <Properties Key="{rule}.Options"><Property Key="RuleEnabled" Value="{state}" /></Properties>\n'
        for rule, state in entries
    )
    return f'<?xml version="1.0" encoding="utf-8"?>\n<Properties>\n{body}</Properties>\n'


@functools.cache
def _schema_validator() -> Draft4Validator:
    with SARIF_SCHEMA.open(encoding="utf-8") as handle:
        return Draft4Validator(json.load(handle))


def validate_sarif_schema(doc: Any) -> list[str]:
    """Every place where `doc` breaks the SARIF 2.1.0 schema, as `json.path: message`; empty if valid."""
    errors = sorted(_schema_validator().iter_errors(doc), key=lambda e: list(map(str, e.path)))
    return [f"{e.json_path}: {e.message}" for e in errors]


@dataclass(frozen=True)
class MultitoolFinding:
    """One problem the multitool reported in the validated file."""

    rule_id: str
    """Multitool rule, e.g. `JSON1002` (schema) or `SARIF2005` (SARIF SDK guidance)."""
    level: Level
    """error, warning or note."""
    message: str
    """The rule's message with its arguments filled in."""
    line: int | None
    """Line of the validated file, if reported."""
    column: int | None
    """Column of the validated file, if reported."""

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.level} {self.rule_id}: {self.message}"


@dataclass(frozen=True)
class MultitoolReport:
    """What `Sarif.Multitool validate` found in one file."""

    findings: tuple[MultitoolFinding, ...]
    """Every finding, in the multitool's order."""

    def at_level(self, level: Level) -> list[MultitoolFinding]:
        """The findings of one level."""
        return [f for f in self.findings if f.level == level]

    @property
    def errors(self) -> list[MultitoolFinding]:
        """Findings of level error (the file is not valid SARIF)."""
        return self.at_level("error")

    @property
    def warnings(self) -> list[MultitoolFinding]:
        """Findings of level warning (valid, but against the SARIF SDK's guidance)."""
        return self.at_level("warning")


def multitool_executable() -> Path:
    """The multitool, made executable if the npm postinstall script (chmod u+x) did not run."""
    path = node_tool(MULTITOOL)
    mode = path.stat().st_mode
    if not mode & stat.S_IXUSR:
        path.chmod(mode | stat.S_IXUSR)
    return path


def run_multitool_validate(path: Path, *, github_rules: bool = True) -> MultitoolReport:
    """Validate one SARIF file with the multitool; raises RuntimeError if the tool itself failed."""
    return run_multitool_validate_many([path], github_rules=github_rules)[0]


def run_multitool_validate_many(paths: Sequence[Path], *, github_rules: bool = True) -> list[MultitoolReport]:
    """Validate several SARIF files in one multitool run (its start-up is most of a run's time):
    one report per file, in order; raises RuntimeError if the tool itself failed."""
    with tempfile.TemporaryDirectory(prefix="sarif-multitool-") as work:
        targets = []
        for index, path in enumerate(paths):
            targets.append(Path(work) / f"input-{index}.sarif")
            shutil.copyfile(path, targets[-1])
        output = Path(work) / "validation.sarif"
        config = Path(work) / "rules.config.xml"
        config.write_text(_configuration(github_rules), encoding="utf-8")
        env = {
            **os.environ,
            "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1",
            "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
            **dict.fromkeys(
                ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"), _CLOSED_PORT
            ),
            **dict.fromkeys(("NO_PROXY", "no_proxy"), ""),
        }
        command = [
            str(multitool_executable()),
            "validate",
            "--config",
            str(config),
            "--level",
            "Error;Warning;Note",
        ]
        command += ["--rule-kind", "Sarif;Gh" if github_rules else "Sarif"]
        done = subprocess.run(
            [*command, "--output", str(output), *map(str, targets)],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            timeout=MULTITOOL_TIMEOUT,
            check=False,
        )
        if done.returncode != 0 or not output.exists():
            raise RuntimeError(f"Sarif.Multitool failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        log = json.loads(output.read_text(encoding="utf-8-sig"))
    by_file: dict[str, list[MultitoolFinding]] = {target.name: [] for target in targets}
    for file_name, finding in _findings(log):
        if file_name not in by_file:
            raise RuntimeError(f"Sarif.Multitool reports on a file it was not given: {file_name}")
        by_file[file_name].append(finding)
    return [MultitoolReport(tuple(by_file[target.name])) for target in targets]


def _findings(log: dict[str, Any]) -> list[tuple[str, MultitoolFinding]]:
    """Each finding of the multitool's log, with the name of the file it is about."""
    run = log["runs"][0]
    for invocation in run.get("invocations", []):
        notes = invocation.get("toolConfigurationNotifications", []) + invocation.get(
            "toolExecutionNotifications", []
        )
        for note in notes:
            if note.get("level") == "error" or note.get("descriptor", {}).get("id") == "WRN997.InvalidTarget":
                raise RuntimeError(f"Sarif.Multitool did not validate the file: {note['message']['text']}")
        if invocation.get("executionSuccessful") is False:
            raise RuntimeError("Sarif.Multitool reports an unsuccessful execution")
    rules = run["tool"]["driver"].get("rules", [])
    found = []
    for result in run.get("results", []):
        rule = rules[result["ruleIndex"]] if "ruleIndex" in result else {}
        level = result.get("level") or rule.get("defaultConfiguration", {}).get("level", "warning")
        physical = (result.get("locations") or [{}])[0].get("physicalLocation", {})
        region = physical.get("region", {})
        uri = physical.get("artifactLocation", {}).get("uri", "")
        found.append(
            (
                uri.rsplit("/", 1)[-1],
                MultitoolFinding(
                    rule_id=result["ruleId"],
                    level=level,
                    message=_message(result["message"], rule),
                    line=region.get("startLine"),
                    column=region.get("startColumn"),
                ),
            )
        )
    return found


def _message(message: dict[str, Any], rule: dict[str, Any]) -> str:
    if "text" in message:
        return str(message["text"])
    template = (
        rule.get("messageStrings", {}).get(message.get("id", ""), {}).get("text", message.get("id", ""))
    )
    arguments = message.get("arguments", [])

    def argument(found: re.Match[str]) -> str:
        index = int(found.group(1))
        return str(arguments[index]) if index < len(arguments) else found.group(0)

    return re.sub(r"\{(\d+)\}", argument, str(template))
