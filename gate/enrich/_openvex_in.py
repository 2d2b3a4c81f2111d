"""OpenVEX documents (https://github.com/openvex/spec) as statements.

Read: 0.2.0 (`@context: https://openvex.dev/ns/v0.2.0`) and the older 0.0.x files (`.../ns/v0.0.1`,
or the bare `https://openvex.dev/ns`), in either statement shape: the 0.0.x one (`vulnerability`
a string, `products` and statement-level `subcomponents` lists of strings) or the 0.2.0 one
(objects with `@id`, `identifiers` and nested `subcomponents`). Trivy writes the bare context with
0.2.0 statements, so the shape is read per value, not from the context.

Read as Trivy and Grype read it, not as strictly as the JSON Schema: a vulnerability named only by
its `@id`, and `affected` without an `action_statement`, occur in their own test documents. What
would change a decision is checked: the status, the justification label, the products' purls, and
that a `not_affected` statement gives its reason, a `justification` or an `impact_statement` (the
spec's "Status Justifications": one of them is required).
"""

from __future__ import annotations

import re

from gate.enrich._vex_json import (
    At,
    JsonObject,
    as_object,
    identifier,
    items,
    opt_object,
    opt_str,
    opt_time,
    req_str,
    strings,
)
from gate.enrich.vex_model import Justification, VexComponent, VexFormat, VexProduct, VexStatement, VexStatus

CONTEXT = "https://openvex.dev/ns"
"""The start of every OpenVEX `@context`."""

_VERSIONED = re.compile(re.escape(CONTEXT) + r"/v(?P<version>\d+\.\d+\.\d+)")
_SUPPORTED = re.compile(r"0\.0\.\d+|0\.2\.0")
_STATUSES = ", ".join(status.value for status in VexStatus)
_JUSTIFICATIONS = ", ".join(label.value for label in Justification)
# `identifiers` members, in the order they follow the `@id` of a component.
_IDENTIFIER_KEYS = ("purl", "cpe23", "cpe22")


def read_openvex(doc: JsonObject, at: At) -> list[VexStatement]:
    """The statements of a decoded OpenVEX document, in document order."""
    _check_context(req_str(doc, "@context", at), at["@context"])
    author = opt_str(doc, "author", at)
    doc_time = opt_time(doc, "timestamp", at)
    if "statements" not in doc:
        raise at["statements"].error("missing (an OpenVEX document has a list of statements)")
    # The spec requires at least one statement: a null or empty list is a document cut short or
    # written wrong, never a document that has nothing to say.
    if doc["statements"] == []:
        raise at["statements"].error("empty (an OpenVEX document has at least one statement)")
    if not isinstance(doc["statements"], list):
        raise at["statements"].wrong("an array", doc["statements"])
    out: list[VexStatement] = []
    for index, (item, where) in enumerate(items(doc, "statements", at)):
        stmt = as_object(item, where)
        vulnerability_id, aliases = _vulnerability(stmt, where)
        justification = opt_str(stmt, "justification", where)
        if justification is not None and justification not in Justification._value2member_map_:
            raise where["justification"].wrong(f"one of {_JUSTIFICATIONS}", justification)
        status = _status(stmt, where)
        impact = opt_str(stmt, "impact_statement", where)
        if status is VexStatus.NOT_AFFECTED and justification is None and impact is None:
            # OpenVEX 0.2.0, "Status Justifications": a not_affected statement MUST carry one of
            # the two. Without either it claims a finding away with no reason a reviewer can check.
            raise where.error(
                "not_affected without a justification or an impact_statement (OpenVEX requires one of them)"
            )
        out.append(
            VexStatement(
                vulnerability_id=vulnerability_id,
                aliases=aliases,
                products=_products(stmt, where),
                status=status,
                justification=justification,
                impact_statement=impact,
                action_statement=opt_str(stmt, "action_statement", where),
                status_notes=opt_str(stmt, "status_notes", where),
                author=author,
                timestamp=opt_time(stmt, "timestamp", where) or doc_time,
                source=at.source,
                index=index,
                location=where.path(),
                format=VexFormat.OPENVEX,
            )
        )
    return out


def _check_context(context: str, at: At) -> None:
    if context == CONTEXT:
        return  # the unversioned context of the first OpenVEX files
    match = _VERSIONED.fullmatch(context)
    if match is None:
        raise at.wrong(f"an OpenVEX context ({CONTEXT}/v0.2.0)", context)
    if not _SUPPORTED.fullmatch(match["version"]):
        raise at.error(
            f"OpenVEX {match['version']} is not supported (supported: 0.2.0, and 0.0.x of older files)"
        )


def _status(stmt: JsonObject, at: At) -> VexStatus:
    word = req_str(stmt, "status", at)
    try:
        return VexStatus(word)
    except ValueError:
        raise at["status"].wrong(f"one of {_STATUSES}", word) from None


def _vulnerability(stmt: JsonObject, at: At) -> tuple[str, tuple[str, ...]]:
    where = at["vulnerability"]
    value = stmt.get("vulnerability")
    if isinstance(value, str) and value.strip():
        return value, ()  # OpenVEX 0.0.x
    if value is None:
        raise where.error("missing (expected an object with a name)")
    vuln = as_object(value, where, "an object with a name (or, in OpenVEX 0.0.x, a string)")
    name = opt_str(vuln, "name", where)
    iri = opt_str(vuln, "@id", where)
    main = name or iri
    if main is None:
        raise where.error("names no vulnerability (expected a name or an @id)")
    others = [alias for alias in (*strings(vuln, "aliases", where), iri) if alias and alias != main]
    return main, tuple(dict.fromkeys(others))


def _products(stmt: JsonObject, at: At) -> tuple[VexProduct, ...]:
    # OpenVEX 0.0.x lists the subcomponents once for all products of the statement.
    shared = tuple(_component(item, where) for item, where in items(stmt, "subcomponents", at))
    products: list[VexProduct] = []
    for item, where in items(stmt, "products", at):
        product = _component(item, where)
        subcomponents = shared
        if isinstance(item, dict):
            subcomponents += tuple(_component(sub, sw) for sub, sw in items(item, "subcomponents", where))
        products.append(VexProduct(product.identifiers, tuple(dict.fromkeys(subcomponents))))
    return tuple(products)


def _component(item: object, at: At) -> VexComponent:
    """A product or subcomponent: a string (0.0.x) or an object with `@id` and/or `identifiers`."""
    if isinstance(item, str):
        return VexComponent((identifier(item, at),))
    obj = as_object(item, at, "an object or a string")
    found: list[str] = []
    iri = opt_str(obj, "@id", at)
    if iri is not None:
        found.append(identifier(iri, at["@id"]))
    identifiers = opt_object(obj, "identifiers", at)
    if identifiers is not None:
        where = at["identifiers"]
        for key in _IDENTIFIER_KEYS:
            value = opt_str(identifiers, key, where)
            if value is not None:
                found.append(identifier(value, where[key], purl=key == "purl"))
    if not found:
        raise at.error("names nothing (expected an @id or identifiers)")
    return VexComponent(tuple(dict.fromkeys(found)))
