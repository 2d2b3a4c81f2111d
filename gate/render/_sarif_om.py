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


def _is_default(field: attr.Attribute[Any], value: object) -> bool:
    default = field.default
    if default is attr.NOTHING:
        return False
    if isinstance(default, _FACTORY):
        return bool(value == default.factory())
    return type(value) is type(default) and value == default


def to_json(node: object) -> JsonValue:
    """A sarif-om object tree (attrs instances, dicts, lists, scalars) as JSON-ready values.

    Dicts are property bags and string maps (`partialFingerprints`): their keys are written as
    given and their None values left out. Anything that is not JSON (an enum, a NaN, an object of
    another kind) is an error, so no Python name or `repr` ever reaches the output.
    """
    kind = type(node)
    # The exact built-in types first, by identity: a result is about forty nodes, and a run can
    # hold 25,000 results.
    if kind is str or kind is int or kind is bool or node is None:
        return node  # type: ignore[return-value]  # narrowed by the identity checks above
    if kind is dict or kind is list:
        pass
    elif isinstance(node, bool | str | int):
        return node
    if isinstance(node, float):
        if not math.isfinite(node):
            raise ValueError(f"SARIF output cannot hold the number {node}")
        return node
    if isinstance(node, Mapping):
        out: dict[str, JsonValue] = {}
        for key, value in node.items():
            if not isinstance(key, str):
                raise TypeError(f"SARIF property names are strings, got {key!r}")
            if value is not None:
                out[key] = value if type(value) in _PLAIN else to_json(value)
        return out
    if isinstance(node, Sequence):
        return [to_json(item) for item in node]
    fields = _FIELDS.get(kind)
    if fields is None:
        if not attr.has(kind):
            raise TypeError(f"cannot write a {kind.__name__} into SARIF")
        fields = _FIELDS[kind] = _schema_fields(kind)
    out = {}
    for attribute, name, field in fields:
        value = getattr(node, attribute)
        if value is None or (field is not None and _is_default(field, value)):
            continue
        out[name] = value if type(value) in _PLAIN else to_json(value)
    return out


_PLAIN = frozenset({str, int, bool})
"""Values written as they are (floats are checked, containers walked)."""

_FIELDS: dict[type, tuple[tuple[str, str, attr.Attribute[Any] | None], ...]] = {}
"""Per sarif-om class: each field's attribute name, schema property name, and the field when a
value equal to its default is left out (None for `_CONTEXTUAL` properties)."""


def _schema_fields(cls: type[attr.AttrsInstance]) -> tuple[tuple[str, str, attr.Attribute[Any] | None], ...]:
    fields = []
    for field in attr.fields(cls):
        name = field.metadata.get("schema_property_name")
        if not isinstance(name, str):
            raise TypeError(f"{cls.__name__}.{field.name} names no SARIF schema property")
        fields.append((field.name, name, None if name in _CONTEXTUAL else field))
    return tuple(fields)
