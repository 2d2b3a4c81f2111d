"""Validate a document against GitLab's container-scanning report schema 15.0.7.

The schema is tests/data/schemas/gitlab-container-scanning-report-format-15.0.7.json (gitlabhq/gitlabhq
lib/gitlab/ci/parsers/security/validators/schemas/15.0.7/container-scanning-report-format.json @
585826cb22ec, see tests/data/PROVENANCE.md). It declares draft-07, so the validator is chosen from its
`$schema` and the schema itself is checked against that draft's meta-schema first.
"""

from __future__ import annotations

import functools
import json
from typing import Any, cast

from jsonschema import validators
from jsonschema.protocols import Validator

from tests.support.repo_paths import TEST_DATA

SCHEMA_PATH = TEST_DATA / "schemas" / "gitlab-container-scanning-report-format-15.0.7.json"
"""The schema file, beside the checkout as CI lays it out."""


@functools.cache
def container_scanning_validator() -> Validator:
    """The validator for the draft the schema declares, with format checking on."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    declared = schema.get("$schema")
    cls = validators.validator_for(schema)
    if not isinstance(declared, str) or cls.META_SCHEMA.get("$schema", "").rstrip("#") != declared.rstrip(
        "#"
    ):
        # validator_for falls back to the newest draft for an unknown $schema; a silent change of
        # draft would change what "valid" means, so refuse instead.
        raise ValueError(f"{SCHEMA_PATH}: $schema {declared!r} is not a draft jsonschema knows")
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_container_scanning_report(doc: object) -> list[str]:
    """Every way `doc` breaks the schema, as "<JSON path>: <message>", sorted; empty when valid."""
    # The document is whatever json.load returned; the validator's JSON type alias cannot say that.
    errors = container_scanning_validator().iter_errors(cast(Any, doc))
    return sorted(f"{error.json_path}: {error.message}" for error in errors)
