"""OpenAPI 3.0 Schema Objects turned into JSON Schema (draft 4) that `jsonschema` enforces faithfully.

GitHub's description is OpenAPI 3.0.3. Its Schema Object is close to JSON Schema draft 4 (boolean
`exclusiveMinimum`, `$ref` siblings ignored), with differences that matter for validation:
- `nullable: true` adds null to the allowed values (OAS 3.0.3, Schema Object). JSON Schema has no such
  keyword, so `type: T` becomes `type: [T, "null"]`. An `enum` also gets null: GitHub relies on that
  (e.g. `state_reason` enums that are documented nullable and answered as null without listing null).
  A nullable schema without `type` (`allOf`/`anyOf`/`oneOf`, or nothing) becomes `anyOf: [null, it]`.
  `nullable` beside `$ref` is ignored, as all `$ref` siblings are in OAS 3.0.
- `readOnly` properties are "SHOULD NOT be sent as part of the request" and their `required` applies to
  responses only; `writeOnly` is the mirror image. So a schema is converted once per direction.
- `format` is an annotation in JSON Schema; the formats GitHub uses for response fields (`date-time`,
  `date`, `uri`, `int32`, `int64`, `email`) are asserted here with a FormatChecker of our own, since
  jsonschema's own `date-time`/`uri` checks need optional packages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from jsonschema import FormatChecker

Direction = Literal["request", "response"]
"""Which side sent the document: the client (request) or GitHub (response)."""

JsonObject = dict[str, Any]

_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def convert_schema(schema: object, direction: Direction, ref_base: str) -> Any:
    """A JSON Schema draft 4 copy of an OpenAPI 3.0 schema; `#/...` refs become `ref_base#/...`."""
    if not isinstance(schema, Mapping):
        return schema
    out: JsonObject = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str) and value.startswith("#"):
            out[key] = ref_base + value
        elif key == "properties" and isinstance(value, Mapping):
            out[key] = {name: convert_schema(sub, direction, ref_base) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [convert_schema(sub, direction, ref_base) for sub in value]
        elif key in ("items", "not", "additionalProperties") and isinstance(value, Mapping):
            out[key] = convert_schema(value, direction, ref_base)
        else:
            out[key] = value
    _apply_access_modes(out, direction)
    if out.get("nullable") is True and "$ref" not in out:
        return _nullable(out)
    return out


def _nullable(schema: JsonObject) -> JsonObject:
    if "type" not in schema:
        return {"anyOf": [{"type": "null"}, schema]}
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    out = {**schema, "type": [*kinds, "null"]}
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _apply_access_modes(schema: JsonObject, direction: Direction) -> None:
    hidden = "readOnly" if direction == "request" else "writeOnly"
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    names = [name for name, sub in properties.items() if isinstance(sub, Mapping) and sub.get(hidden) is True]
    if not names:
        return
    for name in names:
        properties[name] = {"not": {}, "description": f"{hidden} property: not sent in a {direction}"}
    if isinstance(schema.get("required"), list):
        kept = [name for name in schema["required"] if name not in names]
        if kept:
            schema["required"] = kept
        else:
            del schema["required"]  # draft 4 forbids an empty `required`


FORMATS = FormatChecker(formats=())
"""Assertions for the `format` values that GitHub's description gives to fields the fake serves."""


@FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@FORMATS.checks("date")
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == len("2011-04-14")


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    # RFC 3986 absolute URI: a scheme, then no whitespace anywhere.
    if not isinstance(value, str):
        return True
    if any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(_SCHEME.fullmatch(parts.scheme)) and bool(parts.netloc or parts.path)


@FORMATS.checks("int32")
def _is_int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@FORMATS.checks("int64")
def _is_int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@FORMATS.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or value.count("@") == 1
