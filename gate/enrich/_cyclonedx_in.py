"""CycloneDX VEX (a BOM whose `vulnerabilities` carry an `analysis`) as statements.

Each `vulnerabilities[]` entry is one statement about the packages its `affects[].ref` name. A ref
must come down to a package URL: the purl of the component of this document whose `bom-ref` it is,
else the ref itself as a purl. A `bom-ref` that looks like a purl is still the component's: Syft
and Grype write `pkg:...?package-id=<id>`. Anything else cannot be matched to a finding and is an
error, rather than a statement that silently applies to nothing.

A BOM-Link `urn:cdx:<serial>/<version>#<ref>` names a component of the BOM of that serial number
and version. When that is this document (its `serialNumber` `urn:uuid:<serial>` and its `version`,
1 when it has none), its reference is read as a ref above. Into another BOM (a separate VEX
document about an SBOM, as Trivy's VEX files are) it is not followed: the statement is about that
BOM's product, which a findings report cannot be told to be, so it clears nothing there; the
statement keeps it in `unfollowed`, which the run warns of, naming the file.

`analysis.state` maps onto OpenVEX's statuses as Trivy maps it: `not_affected` and
`false_positive` to not_affected, `resolved` and `resolved_with_pedigree` to fixed,
`exploitable` to affected, `in_triage` to under_investigation. A statement's time is its
analysis's (`lastUpdated`, else `firstIssued`), else the BOM's `metadata.timestamp`.

A version of `affects[].versions` without a `status` is `affected`: the CycloneDX specification
(1.4 to 1.6) makes that the default. When a ref's purl has no version, the exact versions of
`affects[].versions` narrow it; a version range there is not read, and is an error unless it is
one a clearing analysis leaves out (name the version in the purl instead). A version whose
`status` is `affected` or `unknown` is not one a `not_affected` or `fixed` analysis clears
(`resolved` with `<2.6.0` affected and `2.6.0` unaffected clears 2.6.0 alone), and is left out of
such a statement. So is a ref whose purl names its version when its `versions` call that version,
or a range (which may hold it), `affected` or `unknown`: the analysis is not about that version.
"""

from __future__ import annotations

from urllib.parse import unquote

from packageurl import PackageURL

from gate.enrich._vex_json import (
    At,
    JsonObject,
    identifier,
    objects,
    opt_object,
    opt_str,
    opt_time,
    req_str,
    strings,
)
from gate.enrich.purls import parse_purl
from gate.enrich.vex_model import CYCLONEDX_JUSTIFICATIONS, VexFormat, VexProduct, VexStatement, VexStatus

_STATES = {
    "not_affected": VexStatus.NOT_AFFECTED,
    "false_positive": VexStatus.NOT_AFFECTED,
    "resolved": VexStatus.FIXED,
    "resolved_with_pedigree": VexStatus.FIXED,
    "exploitable": VexStatus.AFFECTED,
    "in_triage": VexStatus.UNDER_INVESTIGATION,
}
_STATE_WORDS = ", ".join(_STATES)
_JUSTIFICATION_WORDS = ", ".join(CYCLONEDX_JUSTIFICATIONS)
_VERSION_STATUSES = ("affected", "unaffected", "unknown")


def read_cyclonedx(doc: JsonObject, at: At) -> list[VexStatement]:
    """The statements of a decoded CycloneDX VEX document, in document order."""
    metadata = opt_object(doc, "metadata", at)
    doc_time = opt_time(metadata, "timestamp", at["metadata"]) if metadata else None
    author = _author(metadata, at["metadata"]) if metadata else None
    refs = _bom_refs(doc, at)
    own = _own_bom_link(doc, at)
    if doc.get("vulnerabilities") is None:
        raise at["vulnerabilities"].error("missing (a CycloneDX VEX document lists vulnerabilities)")
    out: list[VexStatement] = []
    for index, (vuln, vat) in enumerate(objects(doc, "vulnerabilities", at)):
        vid = req_str(vuln, "id", vat)
        aliases = [req_str(ref, "id", rat) for ref, rat in objects(vuln, "references", vat)]
        analysis = opt_object(vuln, "analysis", vat)
        if analysis is None:
            raise vat["analysis"].error("missing (a CycloneDX VEX statement has analysis.state)")
        aat = vat["analysis"]
        state = req_str(analysis, "state", aat)
        if state not in _STATES:
            raise aat["state"].wrong(f"one of {_STATE_WORDS}", state)
        justification = opt_str(analysis, "justification", aat)
        if justification is not None and justification not in CYCLONEDX_JUSTIFICATIONS:
            raise aat["justification"].wrong(f"one of {_JUSTIFICATION_WORDS}", justification)
        responses = ", ".join(strings(analysis, "response", aat))
        products: list[VexProduct] = []
        unfollowed: list[str] = []
        for affect, fat in objects(vuln, "affects", vat):
            ref = req_str(affect, "ref", fat)
            purl = _resolve(ref, refs, own, fat["ref"])
            if purl is None:
                unfollowed.append(ref)
                continue
            products.extend(_products(purl, affect, fat, _STATES[state].clears))
        out.append(
            VexStatement(
                vulnerability_id=vid,
                aliases=tuple(dict.fromkeys(alias for alias in aliases if alias != vid)),
                products=tuple(dict.fromkeys(products)),
                status=_STATES[state],
                justification=justification,
                impact_statement=opt_str(analysis, "detail", aat),
                action_statement=opt_str(vuln, "recommendation", vat)
                or opt_str(vuln, "workaround", vat)
                or responses
                or None,
                status_notes=None,
                author=author,
                # The analysis's own time, else the BOM's. A vulnerability's `published` and
                # `updated` date its record in a vulnerability database, not the analysis: an NVD
                # date years old would let an older statement override this one.
                timestamp=opt_time(analysis, "lastUpdated", aat)
                or opt_time(analysis, "firstIssued", aat)
                or doc_time,
                source=at.source,
                index=index,
                location=vat.path(),
                format=VexFormat.CYCLONEDX,
                unfollowed=tuple(dict.fromkeys(unfollowed)),
            )
        )
    return out


def _own_bom_link(doc: JsonObject, at: At) -> str | None:
    """How a BOM-Link names this document (`urn:cdx:<serial>/<version>`, the serial in lower
    case), or None when it has no `urn:uuid:` serial number or no integer version."""
    serial = opt_str(doc, "serialNumber", at)
    if serial is None or not serial.lower().startswith("urn:uuid:"):
        return None
    version = doc.get("version", 1)
    if type(version) is not int:
        return None
    return f"urn:cdx:{serial[len('urn:uuid:') :].lower()}/{version}"


def _author(metadata: JsonObject, at: At) -> str | None:
    names = [
        name for person, pat in objects(metadata, "authors", at) if (name := opt_str(person, "name", pat))
    ]
    if names:
        return ", ".join(dict.fromkeys(names))
    for key in ("manufacturer", "manufacture", "supplier"):
        org = opt_object(metadata, key, at)
        name = opt_str(org, "name", at[key]) if org else None
        if name:
            return name
    return None


def _bom_refs(doc: JsonObject, at: At) -> dict[str, str]:
    """The purl of every component of this document that has a `bom-ref` and a purl."""
    found: dict[str, str] = {}

    def walk(component: JsonObject, where: At) -> None:
        ref, purl = opt_str(component, "bom-ref", where), opt_str(component, "purl", where)
        if ref and purl:
            found[ref] = identifier(purl, where["purl"], purl=True)
        for child, cat in objects(component, "components", where):
            walk(child, cat)

    metadata = opt_object(doc, "metadata", at)
    main = opt_object(metadata, "component", at["metadata"]) if metadata else None
    if main is not None:
        walk(main, at["metadata"]["component"])
    for component, cat in objects(doc, "components", at):
        walk(component, cat)
    return found


def _resolve(ref: str, refs: dict[str, str], own: str | None, at: At) -> str | None:
    """The purl `ref` names; None for a BOM-Link into another BOM, which is not followed."""
    target = ref.strip()
    if target.startswith("urn:cdx:"):
        bom, sep, target = target.partition("#")
        if not sep or not target:
            raise at.wrong("a BOM-Link with a #reference", ref)
        if own is None or bom.lower() != own:
            return None
    # A component's bom-ref first: Syft and Grype write a component's bom-ref as its purl with a
    # `package-id` qualifier of their own, which no finding's purl has.
    for candidate in (target, unquote(target)):
        if candidate in refs:
            return refs[candidate]
    for candidate in (target, unquote(target)):
        if candidate.lower().startswith("pkg:"):
            return identifier(candidate, at, purl=True)
    raise at.wrong("a package URL, a BOM-Link to one, or the bom-ref of a component with a purl", ref)


def _version_status(entry: JsonObject, at: At) -> str:
    """The `status` of an `affects[].versions[]` entry: `affected` when it has none, as the
    CycloneDX specification (1.4 to 1.6) makes it the default."""
    status = opt_str(entry, "status", at)
    if status is None:
        return "affected"
    if status not in _VERSION_STATUSES:
        raise at["status"].wrong(f"one of {', '.join(_VERSION_STATUSES)}", status)
    return status


def _products(purl: str, affect: JsonObject, at: At, clears: bool) -> list[VexProduct]:
    parsed = parse_purl(purl)
    if parsed is None or affect.get("versions") is None:
        return [VexProduct((purl,))]
    if parsed.version is not None:
        return _pinned(purl, parsed.version, affect, at, clears)
    narrowed: list[VexProduct] = []
    listed = False
    for entry, vat in objects(affect, "versions", at):
        listed = True
        status = _version_status(entry, vat)
        if clears and status in ("affected", "unknown"):
            # The BOM says this version is (or may be) vulnerable: the analysis that clears the
            # others does not clear it, and a `fixed` must not allowlist the version not fixed.
            continue
        version = opt_str(entry, "version", vat)
        if version is None:
            raise vat.error(
                "names no exact version (version ranges are not read: give the version in the purl)"
            )
        exact = PackageURL(
            parsed.type, parsed.namespace, parsed.name, version, parsed.qualifiers, parsed.subpath
        )
        narrowed.append(VexProduct((exact.to_string(),)))
    # No versions at all: the whole package; versions all left out: none of it.
    return narrowed if listed else [VexProduct((purl,))]


def _pinned(purl: str, version: str, affect: JsonObject, at: At, clears: bool) -> list[VexProduct]:
    """The product of a ref whose purl names its version: the purl, unless the statement clears
    and its `versions` call that version (or a range, which is not read and may hold it)
    `affected` or `unknown`: the BOM says the version is (or may be) vulnerable."""
    doubt = False
    for entry, vat in objects(affect, "versions", at):
        status = _version_status(entry, vat)
        listed = opt_str(entry, "version", vat)
        if status in ("affected", "unknown") and (listed is None or listed.strip() == version):
            doubt = True
    return [] if clears and doubt else [VexProduct((purl,))]
