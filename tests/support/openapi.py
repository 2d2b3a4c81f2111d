"""GitHub's REST API description (npm `@octokit/openapi`) as a judge of requests and responses.

The fake GitHub server asks it, for every exchange, whether the client's request is one GitHub documents
(operation, path and query parameters, headers, JSON body) and whether the fake's own answer is (status,
content type, JSON body, documented headers). Problems come back as sentences; the server records them.

The file read is the non-dereferenced `api.github.com.json` (13 MB, ~0.2 s to parse, once per session):
`$ref`s to parameters, responses and headers are followed here, and `#/components/schemas/...` refs are
served to jsonschema through a `referencing` registry, one converted copy per direction.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.support.openapi_schema import FORMATS, Direction, JsonObject, convert_schema
from tests.support.repo_paths import node_tool

DESCRIPTION_FILE = "@octokit/openapi/generated/api.github.com.json"
"""The description of api.github.com for REST API version 2022-11-28, inside node_modules."""

_REF_BASE = "urn:container-gate:github-openapi:"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_PROBLEMS = 5
_MAX_PROBLEM_CHARS = 300

# Answers GitHub can give on any operation, whether or not the operation lists them: bad credentials
# (401), missing permission or rate limits (403, 429; docs.github.com "Rate limits for the REST API"),
# unparsable requests (400), a resource named in the path that does not exist (404), server errors.
CROSS_CUTTING_STATUSES = frozenset({400, 401, 403, 404, 429, 500, 502, 503, 504})
"""Statuses accepted on every operation; their JSON body must be a `basic-error`."""


@dataclass(frozen=True)
class MatchedOperation:
    """A request resolved to one operation of the description."""

    operation_id: str
    """GitHub's operationId, e.g. `issues/create-comment`."""
    method: str
    """HTTP method, upper case."""
    template: str
    """The path template, e.g. `/repos/{owner}/{repo}/issues/{issue_number}/comments`."""
    path_params: Mapping[str, Any]
    """Path parameters, converted to their documented types."""
    query: Mapping[str, Any]
    """Documented query parameters that were sent, converted to their documented types."""
    body: Any
    """The parsed JSON request body, or None when there was none."""


@dataclass(frozen=True)
class RequestCheck:
    """The verdict on one request."""

    operation: MatchedOperation | None
    """The operation, or None when no documented operation has this method and path."""
    problems: tuple[str, ...]
    """Every way the request departs from the description; empty when it conforms."""


@dataclass(frozen=True)
class _Route:
    template: str
    pattern: re.Pattern[str]
    precedence: tuple[int, ...]
    """One entry per segment, 0 for a literal, 1 for a parameter: literals win (GitHub routes so)."""
    methods: Mapping[str, JsonObject]
    parameters: Sequence[JsonObject]
    """Parameters declared on the path item, shared by its operations."""


def _problem(text: str) -> str:
    return text if len(text) <= _MAX_PROBLEM_CHARS else text[: _MAX_PROBLEM_CHARS - 1] + "…"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class ApiDescription:
    """One loaded description; thread-safe, validators built on first use and kept."""

    def __init__(self, document: JsonObject) -> None:
        self._doc = document
        self._lock = threading.Lock()
        self._validators: dict[tuple[Direction, str], Draft4Validator] = {}
        self._registries = {direction: self._registry(direction) for direction in ("request", "response")}
        self._routes: dict[int, list[_Route]] = {}
        self._operations: dict[str, tuple[str, str, JsonObject]] = {}
        for template, item in document["paths"].items():
            segments = template.strip("/").split("/")
            regex = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
            route = _Route(
                template=template,
                pattern=re.compile("/" + regex),
                precedence=tuple(1 if s.startswith("{") else 0 for s in segments),
                methods={m: op for m, op in item.items() if m in _METHODS},
                parameters=item.get("parameters", []),
            )
            self._routes.setdefault(len(segments), []).append(route)
            for method, op in route.methods.items():
                self._operations[op["operationId"]] = (method.upper(), template, op)

    def _registry(self, direction: Direction) -> Registry[Any]:
        base = _REF_BASE + direction
        schemas = {
            name: convert_schema(schema, direction, base)
            for name, schema in self._doc["components"]["schemas"].items()
        }
        resource: Resource[Any] = DRAFT4.create_resource({"components": {"schemas": schemas}})
        registry: Registry[Any] = Registry().with_resource(base, resource)
        return registry

    def resolve(self, node: Any) -> Any:
        """Follow a `#/components/...` reference (parameters, responses, headers, examples)."""
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            target: Any = self._doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def example(self, name: str) -> Any:
        """The value of `components.examples[name]` (GitHub's own sample of a resource)."""
        return self.resolve(self._doc["components"]["examples"][name])["value"]

    def operation(self, operation_id: str) -> tuple[str, str, JsonObject]:
        """(method, template, operation object) of an operationId."""
        return self._operations[operation_id]

    def _validator(self, direction: Direction, key: str, schema: Any) -> Draft4Validator:
        with self._lock:
            validator = self._validators.get((direction, key))
            if validator is None:
                converted = convert_schema(schema, direction, _REF_BASE + direction)
                validator = Draft4Validator(
                    converted, registry=self._registries[direction], format_checker=FORMATS
                )
                self._validators[(direction, key)] = validator
            return validator

    def check_schema(
        self, direction: Direction, key: str, schema: Any, instance: Any, what: str
    ) -> list[str]:
        """Problems of `instance` against an OpenAPI schema; `key` names the schema for the cache."""
        errors = sorted(
            self._validator(direction, key, schema).iter_errors(instance), key=lambda e: list(e.path)
        )
        problems = [
            _problem(f"{what}{'' if e.json_path == '$' else ' ' + e.json_path}: {e.message}")
            for e in errors[:_MAX_PROBLEMS]
        ]
        if len(errors) > _MAX_PROBLEMS:
            problems.append(f"{what}: {len(errors) - _MAX_PROBLEMS} more schema errors")
        return problems

    def match(self, method: str, path: str) -> tuple[_Route, JsonObject] | str:
        """The route and operation for a request path (no query), or why there is none."""
        segments = path.strip("/").split("/")
        candidates = [r for r in self._routes.get(len(segments), []) if r.pattern.fullmatch(path)]
        if not candidates:
            return f"no documented operation has the path {path}"
        route = min(candidates, key=lambda r: r.precedence)
        op = route.methods.get(method.lower())
        if op is None:
            allowed = ", ".join(sorted(m.upper() for m in route.methods))
            return f"{method} is not documented for {route.template} (documented: {allowed})"
        return route, op

    def check_request(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> RequestCheck:
        """Judge one request: `target` is the request-target (path and query), `headers` lower-cased."""
        split = urlsplit(target)
        found = self.match(method, split.path)
        if isinstance(found, str):
            return RequestCheck(operation=None, problems=(found,))
        route, op = found
        op_id = str(op["operationId"])
        problems: list[str] = []
        params = [self.resolve(p) for p in route.parameters]
        params += [self.resolve(p) for p in op.get("parameters", [])]

        raw_path = {
            name[1:-1]: value
            for name, value in zip(
                route.template.strip("/").split("/"), split.path.strip("/").split("/"), strict=True
            )
            if name.startswith("{")
        }
        raw_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(split.query, keep_blank_values=True):
            raw_query.setdefault(name, []).append(value)
        documented_query = {p["name"] for p in params if p.get("in") == "query"}
        for name in sorted(set(raw_query) - documented_query):
            problems.append(f"query parameter {name!r} is not documented for {op_id}")

        path_values: dict[str, Any] = {}
        query_values: dict[str, Any] = {}
        for param in params:
            name, where = param["name"], param.get("in")
            if where == "path":
                raws: list[str] | None = [unquote(raw_path[name])]
            elif where == "query":
                raws = raw_query.get(name)
            elif where == "header":
                raw_header = headers.get(name.lower())
                raws = None if raw_header is None else [raw_header]
            else:
                continue
            if raws is None:
                if param.get("required"):
                    problems.append(f"required {where} parameter {name!r} is missing")
                continue
            value = self._param_value(param, raws, problems)
            key = f"{op_id}:{where}:{name}"
            problems += self.check_schema("request", key, param.get("schema", {}), value, f"{where} {name}")
            (path_values if where == "path" else query_values)[name] = value

        parsed_body = self._check_request_body(op_id, op, headers, body, problems)
        matched = MatchedOperation(
            op_id, method.upper(), route.template, path_values, query_values, parsed_body
        )
        return RequestCheck(operation=matched, problems=tuple(problems))

    def _param_value(self, param: JsonObject, raws: Sequence[str], problems: list[str]) -> Any:
        schema = self.resolve(param.get("schema", {}))
        if schema.get("type") == "array":
            return [_coerce(raw, self.resolve(schema.get("items", {}))) for raw in raws]
        if len(raws) > 1:
            problems.append(f"{param['in']} parameter {param['name']!r} given {len(raws)} times")
        return _coerce(raws[-1], schema)

    def _check_request_body(
        self, op_id: str, op: JsonObject, headers: Mapping[str, str], body: bytes, problems: list[str]
    ) -> Any:
        spec = self.resolve(op.get("requestBody"))
        if spec is None:
            if body:
                problems.append(f"{op_id} takes no request body, got {len(body)} bytes")
            return None
        if not body:
            if spec.get("required"):
                problems.append(f"{op_id} requires a request body")
            return None
        content = spec.get("content", {})
        media = _media_type(headers.get("content-type"))
        if media not in content:
            problems.append(f"request Content-Type {media or '(none)'!r} is not one of {sorted(content)}")
            return None
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            problems.append(f"request body is not JSON: {err}")
            return None
        problems += self.check_schema(
            "request", f"{op_id}:body:{media}", content[media].get("schema", {}), parsed, "request body"
        )
        return parsed

    def check_response(
        self, operation: MatchedOperation, status: int, headers: Mapping[str, str], body: bytes
    ) -> list[str]:
        """Judge the fake's answer to a matched request; `headers` lower-cased."""
        op_id = operation.operation_id
        _, _, op = self.operation(op_id)
        responses = op.get("responses", {})
        spec = self.resolve(responses.get(str(status)) or responses.get("default"))
        if spec is None:
            if status not in CROSS_CUTTING_STATUSES:
                return [f"{op_id} does not document status {status} (documented: {sorted(responses)})"]
            spec = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/basic-error"}}}}
        problems: list[str] = []
        for name, header in spec.get("headers", {}).items():
            header = self.resolve(header)
            value = headers.get(name.lower())
            if value is None:
                if header.get("required"):
                    problems.append(f"response header {name} is required for {status}")
                continue
            problems += self.check_schema(
                "response",
                f"{op_id}:{status}:header:{name}",
                header.get("schema", {}),
                _coerce(value, self.resolve(header.get("schema", {}))),
                f"response header {name}",
            )
        content = spec.get("content")
        if not content:
            if body:
                problems.append(f"{op_id} documents no body for {status}, the fake sent {len(body)} bytes")
            return problems
        media = _media_type(headers.get("content-type"))
        if media not in content:
            return [*problems, f"response Content-Type {media!r} is not one of {sorted(content)}"]
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            return [*problems, f"response body is not JSON: {err}"]
        problems += self.check_schema(
            "response", f"{op_id}:{status}:{media}", content[media].get("schema", {}), parsed, "response body"
        )
        return problems


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """A parameter's text as its documented type; left as text when it is not (the schema then fails)."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", raw):
        return float(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


@functools.cache
def load_api_description() -> ApiDescription:
    """The description installed by `npm ci`, parsed once per test session."""
    with node_tool(DESCRIPTION_FILE).open("rb") as handle:
        return ApiDescription(json.load(handle))
