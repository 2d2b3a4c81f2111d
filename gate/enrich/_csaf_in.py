"""CSAF 2.0 VEX documents (`document.category: csaf_vex`) as statements.

A CSAF document names its products once, in `product_tree`, and each vulnerability lists product
ids under its `product_status`. A product id reaches a package URL through its product
identification helper (`purl`, or CSAF 2.1's `purls`; a `cpe` is kept as an identifier too). A
relationship (`default_component_of`, `installed_on`, ...) makes a product of one product inside
another: it becomes a product (`relates_to_product_reference`) with a subcomponent
(`product_reference`), as in OpenVEX.

Product statuses map onto OpenVEX's: `known_not_affected` to not_affected; `fixed` and `first_fixed`
to fixed; `known_affected`, `first_affected` and `last_affected` to affected; `under_investigation`
as is. `recommended` says nothing about impact and makes no statement. For each product, the
justification is its `flags[].label`, the impact statement its `threats` of category `impact`, the
action statement its `remediations`. A threat that names no product is about all of them; a flag or
a remediation that names none is an error (CSAF 2.0 mandatory tests 6.1.32 and 6.1.29: it applies
to nothing, so it cannot give a product its reason). A `known_not_affected` product without a flag
or an impact threat is an error (CSAF 2.0, mandatory test 6.1.27.9, "Impact Statement"), and so is
a document without a `product_tree` (6.1.27.4) or a vulnerability that lists no product under a
status (6.1.27.7: `recommended` alone says nothing about impact).

One statement is made per vulnerability, product status and distinct (justification, impact,
action), with the products that share them, numbered in document order. A product without a purl
or CPE (nothing a finding could be matched on) and a relationship between relationships are left
out of the statement's products.

A product of a `product_version_range` branch (`vers:golang/>=v0.3.7`) is some versions of a
package, and its purl usually names no version. Version ranges are not read: such a purl would
match every version, so a `fixed` or `known_not_affected` statement would clear the versions the
range leaves out. It is left out of those statements (the statements that clear nothing keep it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from gate.enrich._vex_json import (
    At,
    JsonObject,
    as_object,
    identifier,
    objects,
    opt_object,
    opt_str,
    opt_time,
    req_str,
    strings,
)
from gate.enrich.purls import parse_purl
from gate.enrich.vex_model import Justification, VexComponent, VexFormat, VexProduct, VexStatement, VexStatus

_STATUS_BY_KEY = {
    "known_not_affected": VexStatus.NOT_AFFECTED,
    "fixed": VexStatus.FIXED,
    "first_fixed": VexStatus.FIXED,
    "known_affected": VexStatus.AFFECTED,
    "first_affected": VexStatus.AFFECTED,
    "last_affected": VexStatus.AFFECTED,
    "under_investigation": VexStatus.UNDER_INVESTIGATION,
}
_NO_IMPACT = frozenset({"recommended"})
# CSAF 2.0 mandatory test 6.1.6 (Contradicting Product Status): a product id is in one group at most.
_GROUP_BY_KEY = {
    "known_not_affected": "not affected",
    "fixed": "fixed",
    "first_fixed": "fixed",
    "known_affected": "affected",
    "first_affected": "affected",
    "last_affected": "affected",
    "under_investigation": "under investigation",
}
_KEYS = ", ".join([*_STATUS_BY_KEY, *_NO_IMPACT])
_LABELS = ", ".join(label.value for label in Justification)


class _ProductTree:
    """The products a CSAF document defines, by product id."""

    def __init__(self, doc: JsonObject, at: At) -> None:
        self.identifiers: dict[str, tuple[str, ...]] = {}
        """Each plain product's identifiers (purls first, then the CPE; empty when it has none)."""
        self.relationships: dict[str, tuple[str, str]] = {}
        """Each relationship product: (the product's id, the id of the product inside it)."""
        self.groups: dict[str, list[str]] = {}
        """Each product group's product ids."""
        self.ranges: set[str] = set()
        """The product ids of the products of `product_version_range` branches."""
        tree = opt_object(doc, "product_tree", at)
        if tree is None:
            return
        where = at["product_tree"]
        for product, pat, category in _branch_products(tree, where):
            self._define(product, pat)
            if category == "product_version_range":
                self.ranges.add(req_str(product, "product_id", pat))
        for product, pat in objects(tree, "full_product_names", where):
            self._define(product, pat)
        for rel, rat in objects(tree, "relationships", where):
            name = as_object(rel.get("full_product_name"), rat["full_product_name"])
            pid = req_str(name, "product_id", rat["full_product_name"])
            inner = req_str(rel, "product_reference", rat)
            outer = req_str(rel, "relates_to_product_reference", rat)
            self.relationships[pid] = (outer, inner)
        for group, gat in objects(tree, "product_groups", where):
            self.groups[req_str(group, "group_id", gat)] = strings(group, "product_ids", gat)

    def _define(self, product: JsonObject, at: At) -> None:
        pid = req_str(product, "product_id", at)
        found: list[str] = []
        helper = opt_object(product, "product_identification_helper", at)
        if helper is not None:
            hat = at["product_identification_helper"]
            purl = opt_str(helper, "purl", hat)
            if purl is not None:
                found.append(identifier(purl, hat["purl"], purl=True))
            for index, text in enumerate(strings(helper, "purls", hat)):
                found.append(identifier(text, hat["purls"][index], purl=True))
            cpe = opt_str(helper, "cpe", hat)
            if cpe is not None:
                found.append(cpe)
        self.identifiers[pid] = tuple(dict.fromkeys(found))

    def _identifiers(self, pid: str, clears: bool) -> tuple[str, ...] | None:
        """A product's identifiers; for a statement that `clears`, without the purls of a version
        range's product that name no version (they would name every version)."""
        ids = self.identifiers.get(pid)
        if ids is None or not clears or pid not in self.ranges:
            return ids
        return tuple(i for i in ids if (purl := parse_purl(i)) is None or purl.version is not None)

    def products(self, pid: str, at: At, clears: bool = False) -> list[VexProduct]:
        """The products a product id stands for (none when it has no identifiers); `clears` for
        a statement that clears findings (see `_identifiers`)."""
        if pid in self.relationships:
            outer, inner = self.relationships[pid]
            outer_ids, inner_ids = self._identifiers(outer, clears), self._identifiers(inner, clears)
            if outer_ids is None and outer not in self.relationships:
                raise at.error(
                    f"relationship {pid!r} refers to product id {outer!r}, not defined in product_tree"
                )
            if inner_ids is None and inner not in self.relationships:
                raise at.error(
                    f"relationship {pid!r} refers to product id {inner!r}, not defined in product_tree"
                )
            if not outer_ids or not inner_ids:
                return []
            return [VexProduct(outer_ids, (VexComponent(inner_ids),))]
        if pid not in self.identifiers:
            raise at.error(f"product id {pid!r} is not defined in product_tree")
        ids = self._identifiers(pid, clears)
        return [VexProduct(ids)] if ids else []

    def expand(self, obj: JsonObject, at: At, *, test: str | None = None) -> list[str] | None:
        """The product ids of `product_ids` and `group_ids`; None when it names neither (all).

        With `test`, naming neither is an error: the CSAF mandatory test of that number requires
        a product reference (a flag or a remediation that names none applies to nothing).
        """
        if not obj.get("product_ids") and not obj.get("group_ids"):
            if test is not None:
                raise at.error(f"names no product (CSAF requires product_ids or group_ids here, test {test})")
            if obj.get("product_ids") is None and obj.get("group_ids") is None:
                return None
        pids = strings(obj, "product_ids", at)
        for index, gid in enumerate(strings(obj, "group_ids", at)):
            if gid not in self.groups:
                raise at["group_ids"][index].error(f"group id {gid!r} is not defined in product_tree")
            pids.extend(self.groups[gid])
        return pids


def _branch_products(node: JsonObject, at: At) -> Iterator[tuple[JsonObject, At, str | None]]:
    """Every product of the branches under `node`, with the category of its branch."""
    for branch, where in objects(node, "branches", at):
        product = opt_object(branch, "product", where)
        if product is not None:
            yield product, where["product"], opt_str(branch, "category", where)
        yield from _branch_products(branch, where)


class _PerProduct:
    """Texts that apply to some products of a vulnerability, or to all of them."""

    def __init__(self) -> None:
        self.by_product: dict[str, list[str]] = {}
        """The texts that name each product id, in document order."""
        self.everywhere: list[str] = []
        """The texts that name no product: about every product of the vulnerability."""

    def add(self, text: str, pids: list[str] | None) -> None:
        if pids is None:
            self.everywhere.append(text)
        for pid in pids or ():
            self.by_product.setdefault(pid, []).append(text)

    def get(self, pid: str, sep: str) -> str | None:
        texts = list(dict.fromkeys([*self.by_product.get(pid, ()), *self.everywhere]))
        return sep.join(texts) if texts else None


def read_csaf(doc: JsonObject, at: At) -> list[VexStatement]:
    """The statements of a decoded CSAF VEX document, in document order."""
    document = as_object(doc.get("document"), at["document"])
    publisher = opt_object(document, "publisher", at["document"])
    author = opt_str(publisher, "name", at["document"]["publisher"]) if publisher else None
    tracking = opt_object(document, "tracking", at["document"])
    doc_time = opt_time(tracking, "current_release_date", at["document"]["tracking"]) if tracking else None
    tree = _ProductTree(doc, at)
    if "vulnerabilities" not in doc:
        raise at["vulnerabilities"].error("missing (a CSAF VEX document has vulnerabilities)")
    if doc.get("product_tree") is None:
        # CSAF 2.0 mandatory test 6.1.27.4 (Product Tree): without it no product id means anything.
        raise at["product_tree"].error(
            "missing (a CSAF VEX document defines its products in product_tree, CSAF 2.0 test 6.1.27.4)"
        )
    out: list[VexStatement] = []
    for vuln, vat in objects(doc, "vulnerabilities", at):
        _read_vulnerability(vuln, vat, tree, author, doc_time, out)
    return out


def _read_vulnerability(
    vuln: JsonObject,
    at: At,
    tree: _ProductTree,
    author: str | None,
    doc_time: datetime | None,
    out: list[VexStatement],
) -> None:
    ids = [text for text in (opt_str(vuln, "cve", at),) if text]
    ids += [req_str(entry, "text", where) for entry, where in objects(vuln, "ids", at)]
    if not ids:
        raise at.error("names no vulnerability (expected cve or ids)")
    justifications, impacts, actions = _PerProduct(), _PerProduct(), _PerProduct()
    for flag, fat in objects(vuln, "flags", at):
        label = req_str(flag, "label", fat)
        if label not in Justification._value2member_map_:
            raise fat["label"].wrong(f"one of {_LABELS}", label)
        # CSAF 2.0 mandatory test 6.1.32 (Flag without Product Reference).
        justifications.add(label, tree.expand(flag, fat, test="6.1.32"))
    for threat, tat in objects(vuln, "threats", at):
        if opt_str(threat, "category", tat) == "impact":
            impacts.add(req_str(threat, "details", tat), tree.expand(threat, tat))
    for remedy, rat in objects(vuln, "remediations", at):
        text = f"{req_str(remedy, 'category', rat)}: {req_str(remedy, 'details', rat)}"
        # CSAF 2.0 mandatory test 6.1.29 (Remediation without Product Reference).
        actions.add(text, tree.expand(remedy, rat, test="6.1.29"))
    statuses = opt_object(vuln, "product_status", at) or {}
    groups: dict[str, str] = {}
    for key in statuses:
        sat = at["product_status"][key]
        pids = strings(statuses, key, at["product_status"])
        if key in _NO_IMPACT:
            continue
        if key not in _STATUS_BY_KEY:
            raise sat.error(f"unknown product status (expected one of {_KEYS})")
        grouped: dict[tuple[str | None, str | None, str | None], list[VexProduct]] = {}
        for index, pid in enumerate(pids):
            # A product in two groups (known_affected and known_not_affected, say) is a document
            # CSAF calls invalid; read as it stands, its key order would decide whether it blocks.
            other = groups.setdefault(pid, key)
            if _GROUP_BY_KEY[other] != _GROUP_BY_KEY[key]:
                raise sat[index].error(
                    f"product {pid!r} is also {other} (CSAF forbids contradicting product statuses)"
                )
            # A product has one justification: the first flag that names it.
            flags = justifications.by_product.get(pid) or justifications.everywhere
            reasons = (flags[0] if flags else None, impacts.get(pid, " "), actions.get(pid, "; "))
            if key == "known_not_affected" and reasons[0] is None and reasons[1] is None:
                # CSAF 2.0 mandatory test 6.1.27.9 (Impact Statement): a known_not_affected product
                # has a flag or a threat of category impact that names it.
                raise sat[index].error(
                    f"product {pid!r} is known_not_affected without an impact statement (CSAF "
                    "requires a flag or a threat of category impact naming it)"
                )
            grouped.setdefault(reasons, []).extend(
                tree.products(pid, sat[index], clears=_STATUS_BY_KEY[key].clears)
            )
        for (justification, impact, action), products in grouped.items():
            out.append(
                VexStatement(
                    vulnerability_id=ids[0],
                    aliases=tuple(dict.fromkeys(alias for alias in ids[1:] if alias != ids[0])),
                    products=tuple(dict.fromkeys(products)),
                    status=_STATUS_BY_KEY[key],
                    justification=justification,
                    impact_statement=impact,
                    action_statement=action,
                    status_notes=None,
                    author=author,
                    timestamp=doc_time,
                    source=at.source,
                    index=len(out),
                    location=sat.path(),
                    format=VexFormat.CSAF,
                )
            )
    if not any(statuses.get(key) for key in _STATUS_BY_KEY):
        # CSAF 2.0 mandatory test 6.1.27.7 (VEX Product Status): a vulnerability of a VEX document
        # gives products a status. One that gives none (a misspelt product_status) says nothing.
        raise at["product_status"].error(
            "names no product under a status (a CSAF VEX vulnerability lists products under fixed, "
            "known_affected, known_not_affected or under_investigation, CSAF 2.0 test 6.1.27.7)"
        )
