"""Check the GitHub files of the project (run by `make lint`).

- `action.yml` against SchemaStore's `github-action.json`;
- every workflow (`.github/workflows/*.yml`, `docs/examples/github/*.yml`) against
  `github-workflow.json`;
- every `uses:` of a remote action pinned to a full commit SHA, with the version it stands for in
  a trailing comment (`uses: actions/checkout@<40 hex> # v6.1.0`), and every `docker://` action
  pinned by digest. A tag or branch can be moved to other code by whoever controls that
  repository; a commit SHA cannot (GitHub's security hardening guide). The comment is what
  Dependabot updates along with the SHA, and what a reviewer reads.

The schemas are copies kept in the repository (`tests/data/schemas`, provenance in
`tests/data/PROVENANCE.md`). Exit 0 when everything is valid, 1 with every problem otherwise.

Usage: python scripts/check_ci_files.py [FILE ...]   (default: all of the files above)
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "tests" / "data" / "schemas"
ACTION_SCHEMA = "github-action.json"
WORKFLOW_SCHEMA = "github-workflow.json"
WORKFLOW_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml", "docs/examples/github/*.yml")
EXAMPLES = ROOT / "docs" / "examples"
# The examples name the action as `your-org/container-gate@v1`: a placeholder the reader replaces
# with where they take the action from, pinned by SHA (the examples' comments say so). It is the
# one reference that may stay unpinned, and only in the examples.
PLACEHOLDER_ACTIONS = ("your-org/container-gate",)
USES_LINE = re.compile(
    r"""^[ \t]*(?:-[ \t]+)?uses:[ \t]*(?P<quote>["']?)(?P<ref>[^\s"'#]+)(?P=quote)[ \t]*(?:#[ \t]*(?P<comment>.*?))?[ \t]*$"""
)
FULL_SHA = re.compile(r"[0-9a-f]{40}")
IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}")
VERSION_COMMENT = re.compile(r"v?[0-9]+(?:\.[0-9]+)*(?:[-+][0-9A-Za-z.-]+)?")


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML reads YAML 1.1, where `on:` is the boolean True; GitHub reads YAML 1.2, where only
    `true`/`false` are booleans. This loader resolves booleans as YAML 1.2's core schema does."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(path: Path) -> Any:
    """A YAML file as GitHub reads it (YAML 1.2 booleans)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=Yaml12Loader)  # noqa: S506 - a SafeLoader subclass


def load_schema(name: str) -> dict[str, Any]:
    """One of the schemas in tests/data/schemas, or an error that says where it was looked for."""
    path = SCHEMAS / name
    if not path.is_file():
        raise SystemExit(f"{path}: schema not found (expected in tests/data/schemas)")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def schema_problems(document: Any, schema: dict[str, Any]) -> list[str]:
    """Every schema violation, each with its key path; empty when valid.

    A violation of `oneOf`/`anyOf` (a job is a normal job or a reusable-workflow call) is reported
    by the sub-error that went deepest, which names the key actually at fault.
    """
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    problems = []
    for error in validator.iter_errors(document):
        while error.context:
            error = max(error.context, key=lambda sub: len(sub.absolute_path))
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        message = error.message if len(error.message) <= 240 else error.message[:240] + "..."
        problems.append(f"{where}: {message}")
    return sorted(set(problems))


def _parsed_uses(document: Any) -> list[str]:
    """Every `uses:` of a workflow (steps and reusable-workflow calls) or composite action."""
    found: list[str] = []
    if not isinstance(document, dict):
        return found
    jobs = document.get("jobs")
    runs = document.get("runs")
    holders = list(jobs.values()) if isinstance(jobs, dict) else []
    holders += [runs] if isinstance(runs, dict) else []
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        if isinstance(holder.get("uses"), str):
            found.append(holder["uses"])
        steps = holder.get("steps")
        for step in steps if isinstance(steps, list) else []:
            if isinstance(step, dict) and isinstance(step.get("uses"), str):
                found.append(step["uses"])
    return found


def _pin_problem(ref: str, comment: str | None, placeholders_allowed: bool) -> str | None:
    """What is wrong with one `uses:` reference, or None when it is pinned as required."""
    if ref.startswith("./"):
        return None  # an action or workflow of this repository, at the same commit
    if ref.startswith("docker://"):
        return (
            None if IMAGE_DIGEST.search(ref) else "a docker:// action must be pinned by digest (@sha256:...)"
        )
    name, _, version = ref.partition("@")
    if placeholders_allowed and name in PLACEHOLDER_ACTIONS:
        return None
    if not FULL_SHA.fullmatch(version):
        return "not pinned to a full 40-character commit SHA"
    first_word = (comment or "").split(" ", 1)[0]
    if not VERSION_COMMENT.fullmatch(first_word):
        return "pinned, but without the version in a trailing comment (`# v1.2.3`)"
    return None


def unpinned_uses(text: str, document: Any, placeholders_allowed: bool = False) -> list[str]:
    """Every `uses:` that is not pinned, as `line N: uses: REF: why`.

    The comments that carry the versions are lost to a YAML parser, so each `uses:` is read from
    its line; the parsed document says which `uses:` there are, so one written in a form this
    check cannot read on its own line (a flow mapping, a multi-line value) is reported too.
    """
    problems = []
    on_lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match:
            continue
        on_lines.append(match["ref"])
        why = _pin_problem(match["ref"], match["comment"], placeholders_allowed)
        if why:
            problems.append(f"line {number}: uses: {match['ref']}: {why}")
    if sorted(on_lines) != sorted(_parsed_uses(document)):
        problems.append("a `uses:` is not written as `uses: REF # VERSION` on a line of its own")
    return problems


def default_files() -> Iterator[Path]:
    """action.yml and every workflow file of the project."""
    yield ROOT / "action.yml"
    for pattern in WORKFLOW_GLOBS:
        yield from sorted(ROOT.glob(pattern))


def check(paths: Sequence[Path]) -> list[str]:
    """Every problem of every file, each prefixed with the file."""
    schemas = {name: load_schema(name) for name in (ACTION_SCHEMA, WORKFLOW_SCHEMA)}
    problems = []
    for path in paths:
        schema = schemas[ACTION_SCHEMA if path.name in ("action.yml", "action.yaml") else WORKFLOW_SCHEMA]
        try:
            document = load_yaml(path)
        except (OSError, yaml.YAMLError) as exc:
            problems.append(f"{path}: cannot read as YAML: {exc}")
            continue
        problems += [f"{path}: {problem}" for problem in schema_problems(document, schema)]
        text = path.read_text(encoding="utf-8")
        examples = path.resolve().is_relative_to(EXAMPLES)
        problems += [f"{path}: {problem}" for problem in unpinned_uses(text, document, examples)]
    return problems


def _shown(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def main(argv: Sequence[str]) -> int:
    """Check the given files (default: all); print every problem."""
    paths = [Path(arg) for arg in argv] or list(default_files())
    problems = check(paths)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{len(paths)} file(s) valid: " + ", ".join(_shown(path) for path in paths))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
