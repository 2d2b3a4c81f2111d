"""Validate the GitHub files of the project against SchemaStore's schemas (run by `make lint`).

- `action.yml` against `github-action.json`;
- every workflow (`.github/workflows/*.yml`, `docs/examples/github/*.yml`) against `github-workflow.json`.

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
