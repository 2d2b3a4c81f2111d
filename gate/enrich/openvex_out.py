"""VEX out: the decisions of a run as an OpenVEX 0.2.0 document, for Trivy `--vex`, Grype `--vex`
and vexctl.

A pure renderer: it returns text and reads no clock (the timestamp is an argument). The same
statements, author, timestamp and seed give the same bytes: products, subcomponents and aliases
are sorted and deduplicated, statements are sorted by vulnerability and content, and the `@id`
is a hash of everything else, in the form vexctl gives its documents
(`https://openvex.dev/docs/public/vex-<sha256>`). The output validates against the OpenVEX JSON
Schema, and `gate.enrich.vex.parse_vex` reads it back into the same statements.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gate.enrich.vex_model import Justification, VexStatus, format_time

CONTEXT = "https://openvex.dev/ns/v0.2.0"
"""The `@context` of an OpenVEX 0.2.0 document."""

ID_PREFIX = "https://openvex.dev/docs/public/vex-"
"""The start of every document `@id` written here, as vexctl names its documents."""

TOOLING = "container-gate"
"""The document's `tooling`: what wrote it."""


@dataclass(frozen=True)
class OutStatement:
    """One decision to publish: a vulnerability, the products it was decided for, and why.

    Products, subcomponents and aliases are kept sorted and without repeats, whatever order they
    are given in, so equal decisions are equal statements.
    """

    vulnerability_id: str
    """The vulnerability's main name (the finding's primary id)."""
    status: VexStatus
    """The decision (`not_affected` for an allowlist entry)."""
    products: tuple[str, ...]
    """Each product's `@id`: the image as `pkg:oci/...@sha256:...` when its digest is known, else
    the identifiers known for it (the image ID, the reference as given). At least one."""
    subcomponents: tuple[str, ...] = ()
    """The purls of the packages the decision covers inside every product; empty for the whole
    product."""
    aliases: tuple[str, ...] = ()
    """The vulnerability's other names."""
    justification: Justification | None = None
    """Why it is not affected, as one of OpenVEX's labels (an allowlist entry's `justification`)."""
    impact_statement: str | None = None
    """Why, in words (an allowlist entry's `reason`). A `not_affected` statement needs this or a
    justification."""
    action_statement: str | None = None
    """What to do; an `affected` statement needs one."""
    status_notes: str | None = None
    """How the decision was made (the rule that made it, its expiry)."""
    timestamp: datetime | None = None
    """When the decision was made, if it differs from the document's time; None inherits it."""

    def __post_init__(self) -> None:
        def canonical(values: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(sorted({value.strip() for value in values if value.strip()}))

        object.__setattr__(self, "products", canonical(self.products))
        object.__setattr__(self, "subcomponents", canonical(self.subcomponents))
        object.__setattr__(
            self, "aliases", tuple(a for a in canonical(self.aliases) if a != self.vulnerability_id)
        )
        # The OpenVEX schema's own conditions: a statement that breaks them is a caller's bug.
        if not self.vulnerability_id.strip():
            raise ValueError("an OpenVEX statement needs a vulnerability name")
        if not self.products:
            raise ValueError(f"the statement about {self.vulnerability_id} names no product")
        if self.status is VexStatus.NOT_AFFECTED and not (self.justification or self.impact_statement):
            raise ValueError(
                f"not_affected for {self.vulnerability_id} needs a justification or an impact statement"
            )
        if self.status is VexStatus.AFFECTED and not self.action_statement:
            raise ValueError(f"affected for {self.vulnerability_id} needs an action statement")


def _statement(statement: OutStatement) -> dict[str, object]:
    vulnerability: dict[str, object] = {"name": statement.vulnerability_id}
    if statement.aliases:
        vulnerability["aliases"] = list(statement.aliases)
    out: dict[str, object] = {"vulnerability": vulnerability}
    if statement.timestamp is not None:
        out["timestamp"] = format_time(statement.timestamp)
    subcomponents = [{"@id": sub} for sub in statement.subcomponents]
    out["products"] = [
        {"@id": product, "subcomponents": subcomponents} if subcomponents else {"@id": product}
        for product in statement.products
    ]
    out["status"] = statement.status.value
    optional = (
        ("status_notes", statement.status_notes),
        ("justification", statement.justification.value if statement.justification else None),
        ("impact_statement", statement.impact_statement),
        ("action_statement", statement.action_statement),
    )
    out.update((key, value) for key, value in optional if value)
    return out


def _name(body: dict[str, object]) -> str:
    vulnerability = body["vulnerability"]
    return str(vulnerability["name"]) if isinstance(vulnerability, dict) else ""


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def render_openvex(
    statements: Sequence[OutStatement], *, author: str, timestamp: datetime, doc_id_seed: str
) -> str:
    """The OpenVEX document of `statements`, as JSON text ending in a newline.

    `author` names who decided (OpenVEX requires one); `timestamp` is the document's time (the
    run's `--as-of`); `doc_id_seed` distinguishes documents whose statements are the same (the
    image digest, say) and goes only into the `@id` hash. Identical statements are written once
    (the schema wants unique items). At least one statement is needed: the schema requires it.
    """
    if not statements:
        raise ValueError("an OpenVEX document needs at least one statement")
    if not author.strip():
        raise ValueError("an OpenVEX document needs an author")
    unique = {_canonical(body): body for body in map(_statement, statements)}
    # By vulnerability for a reader, then by the whole content so that the order is total.
    bodies = sorted(unique.items(), key=lambda item: (_name(item[1]), item[0]))
    written = format_time(timestamp)
    digest = hashlib.sha256(
        _canonical([doc_id_seed, author, written, [key for key, _ in bodies]]).encode("utf-8")
    ).hexdigest()
    document = {
        "@context": CONTEXT,
        "@id": ID_PREFIX + digest,
        "author": author,
        "timestamp": written,
        "version": 1,
        "tooling": TOOLING,
        "statements": [body for _, body in bodies],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
