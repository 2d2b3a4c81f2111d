"""sarif-om objects to JSON: the schema's property names, nothing Python-side.

sarif-om (https://github.com/microsoft/sarif-python-om) is a set of attrs classes generated from
the SARIF 2.1.0 schema; each field names its schema property in
`metadata["schema_property_name"]`. sarif-om ships no serializer, and its defaults are a trap:
they are the schema's documented defaults, and writing them out (`"language": "en-US"`,
`"rank": -1.0`, `"charOffset": -1`) makes noise or, for the `-1` sentinels, values that mean
"absent" in the generator's eyes only. So a field equal to its default is left out, except the
few whose absence the spec resolves from context rather than from the default (`_CONTEXTUAL`).

sarif-om 1.0.4 was generated from 2.1.0-rtm.4, where a suppression had `state`; the final
schema (OASIS errata01) calls it `status`, and `state` is rejected (`additionalProperties: false`).
`Suppression` below is sarif-om's class with the final name added.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attr
import sarif_om as om  # type: ignore[import-untyped]  # sarif-om ships no type information

__all__ = ["JsonValue", "Suppression", "om", "to_json"]

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

# SARIF 2.1.0 §3.27.10: an absent `result.level` is taken from the rule's configuration (and only
# then "warning"); §3.58.6: likewise for `notification.level`. So an explicit "warning" differs from
# no level at all. `kind` (§3.27.9) defaults to "fail" without context, but it decides which levels
# are allowed, and readers that do not apply the default should not have to guess it. These are
# always written: sarif-om cannot tell "left unset" from "set to the default", so callers set them.
_CONTEXTUAL = frozenset({"level", "kind"})

Suppression: Any = attr.make_class(
    "Suppression",
    {"status": attr.ib(default=None, metadata={"schema_property_name": "status"})},
    bases=(om.Suppression,),
)
"""sarif-om's `Suppression` plus the final schema's `status` (leave the rtm.4 `state` as None)."""


# The runtime class of `attr.Factory(...)` defaults (attrs types `Factory` as a function).
_FACTORY: Any = type(attr.Factory(list))


def to_json(node: object) -> JsonValue:
    """A sarif-om object tree (attrs instances, dicts, lists, scalars) as JSON-ready values.

    Dicts are property bags and string maps (`partialFingerprints`): their keys are written as
    given and their None values left out. Anything that is not JSON (an enum, a NaN, an object of
    another kind) is an error, so no Python name or `repr` ever reaches the output.
    """
    kind = type(node)
    # The common kinds first, by identity (a result is about forty nodes, and a run can hold
    # 25,000 results); strings, integers and booleans inside containers are not even a call.
    if kind in _PLAIN or node is None:
        return node  # type: ignore[return-value]  # one of _PLAIN
    fields = _FIELDS.get(kind)
    if fields is not None:
        return _attrs_object(node, fields)
    if kind is list:
        return [item if type(item) in _PLAIN else to_json(item) for item in node]  # type: ignore[attr-defined]
    if kind is dict:
        return _mapping(node)  # type: ignore[arg-type]
    if isinstance(node, bool | str | int):
        return node
    if isinstance(node, float):
        if not math.isfinite(node):
            raise ValueError(f"SARIF output cannot hold the number {node}")
        return node
    if isinstance(node, Mapping):
        return _mapping(node)
    if isinstance(node, Sequence):
        return [to_json(item) for item in node]
    if not attr.has(kind):
        raise TypeError(f"cannot write a {kind.__name__} into SARIF")
    fields = _FIELDS[kind] = _schema_fields(kind)
    return _attrs_object(node, fields)


def _mapping(node: Mapping[Any, Any]) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for key, value in node.items():
        if not isinstance(key, str):
            raise TypeError(f"SARIF property names are strings, got {key!r}")
        if value is not None:
            out[key] = value if type(value) in _PLAIN else to_json(value)
    return out


_PLAIN = frozenset({str, int, bool})
"""Values written as they are (floats are checked, containers walked)."""

_NO_DEFAULT = object()
"""A field without a default, or one always written (`_CONTEXTUAL`)."""

_Field = tuple[str, str, Any, bool]
"""A sarif-om field: its attribute name, its schema property name, the value it is left out at
(`_NO_DEFAULT`: never), and whether that value must also be of the same type (a plain default;
a factory's value, `[]` or `{}`, is compared by equality alone, as sarif-om's own code does)."""

_FIELDS: dict[type, tuple[_Field, ...]] = {}
"""The fields of each sarif-om class seen, looked up once."""


def _schema_fields(cls: type[attr.AttrsInstance]) -> tuple[_Field, ...]:
    fields = []
    for field in attr.fields(cls):
        name = field.metadata.get("schema_property_name")
        if not isinstance(name, str):
            raise TypeError(f"{cls.__name__}.{field.name} names no SARIF schema property")
        default = field.default
        if default is attr.NOTHING or name in _CONTEXTUAL:
            fields.append((field.name, name, _NO_DEFAULT, False))
        elif isinstance(default, _FACTORY):
            fields.append((field.name, name, default.factory(), False))
        else:
            fields.append((field.name, name, default, True))
    return tuple(fields)


def _attrs_object(node: object, fields: tuple[_Field, ...]) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for attribute, name, default, same_type in fields:
        value = getattr(node, attribute)
        if value is None:
            continue
        if (
            default is not _NO_DEFAULT
            and value == default
            and (not same_type or type(value) is type(default))
        ):
            continue
        out[name] = value if type(value) in _PLAIN else to_json(value)
    return out
