"""VEX in: read OpenVEX, CSAF VEX and CycloneDX VEX documents into statements, and decide which
statement speaks for a finding.

Reading is the boundary: `load_vex` opens a file, `parse_vex` reads bytes already in memory; any
other document, or one that cannot be read, is a one-line `ReportError` (exit 2) naming the file,
the key path and what was expected. Everything else here is pure.

A statement applies to a finding when
- one of its vulnerability's names (the main one or an alias) equals one of the finding's ids
  (case aside), and, when both name CVEs, one of the CVEs is shared: two CVEs are never one
  vulnerability through an advisory that fixes both (a statement about CVE-2019-1559 with the
  alias RHSA-2019:2304 says nothing about CVE-2018-0734, which that advisory fixes too), and
- it names every CVE the finding stands for, or its main name is one of the finding's other ids
  (the advisory itself): Grype names a GitHub advisory by its GHSA id with the CVEs it covers as
  related vulnerabilities, and a statement about one of them says nothing about the others, so
  it would otherwise clear a finding that still stands for a CVE nobody vouched for, and
- one of its products matches: either the product names the image (in any form of
  `image_identifiers`) and either lists no subcomponents (the statement is about the whole
  image) or lists one whose purl matches the finding's package purl; or the product, without
  subcomponents, is a purl matching the package itself.
A product that is neither the image nor the package (a Go module holding a dependency as a
subcomponent, as in Trivy's own VEX file) does not apply: a findings report does not say which
packages sit inside which, and applying it to every copy of the dependency in the image could
allowlist a copy the statement was never about. Purl matching is `purl_matches`.

Of the statements that apply to a finding, the latest speaks for it (OpenVEX: a newer statement
overrides an older one): the statement's timestamp, else its document's; a statement without
either counts as oldest. Among statements of equal times (or all undated), which nothing tells
apart, one that does not clear the finding (`affected`, `under_investigation`) speaks over one that
does: a gate that cannot tell which is the correction does not let the finding through. Among
those alike, the one given later.

A finding that stands for several CVEs (Grype's GHSA finding) may also be spoken for CVE by CVE:
each CVE by the latest of the statements, about it or about the whole finding, whose product
matches as above, in one document or several. When those are several statements, they clear the
finding together (`vex_model.joint`) only if every CVE has one and each says `not_affected` or
`fixed`; a CVE without one leaves the finding without a statement, and one that says `affected`
or `under_investigation` speaks for the finding, which stays open.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from gate._input_file import read_input, shown_name
from gate._json_decode import UnreadableJson, loads
from gate._json_strict import (
    DuplicateKey,
    NotANumber,
    locate_duplicate,
    locate_surrogate,
    refusing_duplicates,
    reject_constant,
)
from gate._other_documents import (
    OTHER_DOCUMENTS,
    TRIVYIGNORE_YAML_KEYS,
    is_trivyignore,
    scanner_configuration,
    yaml_top_level_keys,
)
from gate.enrich._csaf_in import read_csaf
from gate.enrich._cyclonedx_in import read_cyclonedx
from gate.enrich._openvex_in import CONTEXT, read_openvex
from gate.enrich._vex_json import At, JsonObject, describe
from gate.enrich.purls import image_identifiers, names_image, purl_matches
from gate.enrich.vex_model import (
    CYCLONEDX_JUSTIFICATIONS,
    Justification,
    VexComponent,
    VexFormat,
    VexGap,
    VexProduct,
    VexStatement,
    VexStatus,
    joint,
    openvex_justification,
)
from gate.enrich.vex_model import latest as latest_of
from gate.errors import ReportError
from gate.model import Finding, ImageInfo

__all__ = [
    "CYCLONEDX_JUSTIFICATIONS",
    "Justification",
    "VexComponent",
    "VexFormat",
    "VexGap",
    "VexIndex",
    "VexProduct",
    "VexStatement",
    "VexStatus",
    "applicable",
    "decide",
    "image_identifiers",
    "latest",
    "load_vex",
    "openvex_justification",
    "parse_vex",
    "purl_matches",
]

EXPECTED = (
    f"an OpenVEX document (@context {CONTEXT}/v0.2.0), a CSAF VEX document (document.category "
    "csaf_vex) or a CycloneDX VEX document (bomFormat CycloneDX with vulnerabilities)"
)
"""What a VEX file must be, as error messages say it."""

Reader = Callable[[JsonObject, At], list[VexStatement]]


def load_vex(path: Path) -> tuple[VexStatement, ...]:
    """The statements of the VEX file at `path`, in document order."""
    return parse_vex(read_input(path, "VEX", bounded="a VEX document"), shown_name(path))


def _other_text(raw: bytes) -> str | None:
    """What a VEX file that is not UTF-8 text is, when it is a kind that is easily made by mistake."""
    if raw.startswith(b"\x1f\x8b"):
        return (
            "this file is gzip-compressed: decompress it first (gunzip); VEX documents are read as JSON text"
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "this file is UTF-16 text, as Windows PowerShell's > writes it: convert it to UTF-8"
    return None


_IGNORE_RULES = (
    "this is {what}: the gate reads no scanner's ignore rules; write each as an allowlist entry of "
    "the policy, with a reason and an expiry date (a VEX file is an OpenVEX, CSAF or CycloneDX document)"
)
_SCANNER_CONFIG = (
    "this is {what}, not VEX: it says how {scanner} scans, for {command}; a VEX file is an OpenVEX, "
    "CSAF or CycloneDX document"
)


def _scanner_file(text: str) -> str | None:
    """What a VEX file that is not JSON is, when it is one of the scanners' own files that the
    shared table names (`gate._other_documents`): a configuration (trivy.yaml, .grype.yaml) or
    ignore rules (.trivyignore, .trivyignore.yaml, a .grype.yaml `ignore:` list)."""
    keys = yaml_top_level_keys(text.removeprefix("\ufeff"))
    config = scanner_configuration(keys)
    if config is not None and "ignore" in keys and config[1] == "Grype":
        return _IGNORE_RULES.format(what=config[0])
    if config is not None:
        what, scanner, command = config
        return _SCANNER_CONFIG.format(what=what, scanner=scanner, command=command)
    if keys and set(keys) <= TRIVYIGNORE_YAML_KEYS:
        return _IGNORE_RULES.format(what="a Trivy ignore file (.trivyignore.yaml)")
    if is_trivyignore(text):
        return _IGNORE_RULES.format(what="a Trivy ignore file (.trivyignore)")
    return None


def parse_vex(raw: bytes, source: str) -> tuple[VexStatement, ...]:
    """The statements of a VEX document held in `raw`; `source` names it in errors and rules.

    Read as strictly as a report (`gate._json_strict`): a repeated key (`"status"` twice could
    allowlist a finding here and not in a reader that keeps the first), NaN, and a lone surrogate
    escape in any string (an author or an alias is shown in every output) are refused."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReportError(f"{source}: not UTF-8 text (expected {EXPECTED})", hint=_other_text(raw)) from None
    at = At(source)
    try:
        try:
            data = loads(text, parse_constant=reject_constant, object_pairs_hook=refusing_duplicates(None))
        except DuplicateKey:
            # Decoded again to say where; that decoding meets what the first stopped before (a
            # syntax error further on), said the same way.
            raise locate_duplicate(text, at, "a VEX document") from None
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{source}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg}); expected {EXPECTED}",
            hint=_scanner_file(text),
        ) from None
    except NotANumber as exc:
        raise ReportError(
            f"{source}: not valid JSON ({exc} is not a JSON number); expected {EXPECTED}"
        ) from None
    except UnreadableJson as exc:
        raise ReportError(f"{source}: not valid JSON ({exc}); expected {EXPECTED}") from None
    # Only a text with the escape of half a surrogate pair can decode to a lone one.
    if _SURROGATE_ESCAPE.search(text) and (error := locate_surrogate(data, at)) is not None:
        raise error
    if not isinstance(data, dict):
        raise at.error(f"expected {EXPECTED}, got {describe(data)}")
    return tuple(_reader_for(data, at)(data, at))


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _reader_for(doc: JsonObject, at: At) -> Reader:
    context = doc.get("@context")
    if isinstance(context, str) and context.startswith(CONTEXT):
        return read_openvex
    document = doc.get("document")
    if isinstance(document, dict) and "category" in document:
        category = document["category"]
        if category != "csaf_vex":
            raise at["document"]["category"].wrong('"csaf_vex" (only CSAF VEX documents carry VEX)', category)
        return read_csaf
    if doc.get("bomFormat") == "CycloneDX":
        return read_cyclonedx
    if "@context" in doc:
        raise _named(at["@context"].wrong(f"an OpenVEX context ({CONTEXT}/v0.2.0)", context), doc)
    raise _named(at.error(f"not a VEX document: expected {EXPECTED}"), doc)


_VEX_FORMATS = frozenset({"statements", "bomFormat", "document"})
"""The members of the shared table that a VEX format read here has: a document with one of them
that is refused is a VEX document gone wrong (its error says what), not another kind of file."""
_OTHER_DOCUMENTS = (
    ("SchemaVersion", "a Trivy report"),
    ("matches", "a Grype report"),
    ("catalogVersion", "CISA's KEV catalog"),
    *((member, what) for member, what in OTHER_DOCUMENTS if member not in _VEX_FORMATS),
)
"""Documents given as VEX by mistake, told apart by a member their format requires: the reports
the gate reads, then the table the report and policy readers share (gate/_other_documents.py)."""


def _named(error: ReportError, doc: JsonObject) -> ReportError:
    """`error` with what the document is instead, when it is one people give as VEX by mistake: a
    scanner's output, an SBOM, the gate's own decision report."""
    what = next((f"this is {what}" for member, what in _OTHER_DOCUMENTS if member in doc), None)
    context = doc.get("@context")
    if isinstance(context, str) and "spdx.org" in context:
        what = "this is an SPDX document, which is not read as VEX"
    elif doc.get("schema") == "container-gate/decision/v1":
        what = "this is the gate's decision report (--json): --openvex writes its decisions as OpenVEX"
    if what is not None and error.hint is None:
        error.hint = what
    return error


def _norm(vulnerability_id: str) -> str:
    return vulnerability_id.strip().upper()


def _cves(finding: Finding) -> frozenset[str]:
    """The CVEs `finding` stands for (upper case)."""
    return frozenset(i for i in (_norm(i) for i in finding.ids) if i.startswith("CVE-"))


def _named_cves(statement: VexStatement, finding: Finding) -> frozenset[str] | None:
    """The CVEs of `finding` that `statement` speaks for: all of them when it is about the
    finding's vulnerability (a name in common, a CVE in common when both name CVEs, and either
    every CVE of the finding named or the statement's main name one of the finding's other ids:
    see the module docstring); the ones it names when it names only some; None when it is about
    none of them, or about another vulnerability."""
    said = {_norm(i) for i in statement.ids}
    found = {_norm(i) for i in finding.ids}
    if not said & found:
        return None
    found_cves = _cves(finding)
    said_cves = {i for i in said if i.startswith("CVE-")}
    if said_cves and found_cves and not said_cves & found_cves:
        return None
    main = _norm(statement.vulnerability_id)
    if found_cves <= said or (main in found and main not in found_cves):
        return found_cves
    return (found_cves & said_cves) or None


def _same_vulnerability(statement: VexStatement, finding: Finding) -> bool:
    """True when `statement` is about the vulnerability of `finding` as a whole (every CVE)."""
    return _named_cves(statement, finding) == _cves(finding)


@functools.lru_cache(maxsize=64)
def _image_ids(image: ImageInfo) -> frozenset[str]:
    return frozenset(image_identifiers(image))


def _product_applies(product: VexProduct, names_the_image: bool, purl: str | None) -> bool:
    if names_the_image:
        if not product.subcomponents:
            return True
        return purl is not None and any(
            purl_matches(pattern, purl) for sub in product.subcomponents for pattern in sub.identifiers
        )
    return (
        purl is not None
        and not product.subcomponents
        and any(purl_matches(pattern, purl) for pattern in product.identifiers)
    )


def _names_image(product: VexProduct, image_ids: frozenset[str] | None) -> bool:
    return image_ids is not None and any(names_image(i, image_ids) for i in product.identifiers)


def applicable(statement: VexStatement, finding: Finding, image: ImageInfo | None) -> bool:
    """True when `statement` is about `finding` in `image` (None: the image is not known, so only
    statements about the package itself can apply). The rule is in the module docstring."""
    if not _same_vulnerability(statement, finding):
        return False
    image_ids = _image_ids(image) if image is not None else None
    purl = finding.package.purl
    return any(_product_applies(p, _names_image(p, image_ids), purl) for p in statement.products)


def latest(statements: Iterable[VexStatement]) -> VexStatement | None:
    """The statement that overrides the others (`vex_model.latest`), None when there is none."""
    ranked = list(statements)
    return latest_of(ranked) if ranked else None


Speaker = tuple[VexStatement, frozenset[str]]
"""A statement whose product applies to a finding, and the finding's CVEs it speaks for."""


Spoken = tuple[VexStatement | None, VexGap | None]
"""The statement that speaks for a finding, and the statements that clear only some of its CVEs
while the others stay open."""


def _speaks(speakers: Sequence[Speaker], finding: Finding) -> Spoken:
    """The statement that speaks for `finding` among `speakers` (in the order given), CVE by CVE,
    and the gap left when some of its CVEs are cleared and others not.

    Each CVE the finding stands for is decided as a finding is, by the latest statement that
    speaks for it (one about the whole finding speaks for each). When one statement is the latest
    for every CVE, it speaks. When several are, they clear the finding together only if each
    clears (`joint`); if one of them does not (`affected`, `under_investigation`), the latest of
    those speaks and the finding stays open; a CVE that no statement speaks for leaves the finding
    without one: a statement about one CVE says nothing about the others."""
    cves = _cves(finding)
    if len(cves) < 2 or all(named == cves for _, named in speakers):
        return latest(s for s, named in speakers if named == cves), None
    ordered = sorted(cves)
    each = [latest(s for s, named in speakers if cve in named) for cve in ordered]
    said = [s for s in each if s is not None]
    if len(said) < len(each):
        return None, _gap(ordered, each, speakers)
    order = {id(s): n for n, (s, _) in enumerate(speakers)}
    distinct = sorted({id(s): s for s in said}.values(), key=lambda s: order[id(s)])
    if len(distinct) == 1:
        return distinct[0], None
    if all(s.status.clears for s in distinct):
        return joint(distinct, finding.vulnerability_id, finding.aliases), None
    return latest(s for s in distinct if not s.status.clears), _gap(ordered, each, speakers)


def _gap(cves: list[str], each: list[VexStatement | None], speakers: Sequence[Speaker]) -> VexGap | None:
    """The gap of a finding whose CVEs (`cves`, sorted) have as latest statements `each`, some of
    which clear and some not (or None): the clearing ones, in the order given, and what they leave."""
    cleared = tuple(cve for cve, s in zip(cves, each, strict=True) if s is not None and s.status.clears)
    if not cleared:
        return None
    clearing = {id(s) for s in each if s is not None and s.status.clears}
    return VexGap(
        clearing=tuple(s for s, _ in speakers if id(s) in clearing),
        cleared=cleared,
        not_cleared=tuple(cve for cve in cves if cve not in cleared),
    )


def _speakers(statements: Iterable[VexStatement], finding: Finding, image: ImageInfo | None) -> list[Speaker]:
    image_ids = _image_ids(image) if image is not None else None
    purl = finding.package.purl
    out = []
    for statement in statements:
        named = _named_cves(statement, finding)
        if named is not None and any(
            _product_applies(p, _names_image(p, image_ids), purl) for p in statement.products
        ):
            out.append((statement, named))
    return out


def decide(
    statements: Iterable[VexStatement], finding: Finding, image: ImageInfo | None
) -> VexStatement | None:
    """The statement that speaks for `finding`: the latest of those that apply, or what the
    statements about each of its CVEs say together (`_speaks`), or None."""
    return _speaks(_speakers(statements, finding, image), finding)[0]


class VexIndex:
    """Every statement of a run, indexed for one image so that deciding a finding looks only at the
    statements about its vulnerability: the same answers as `applicable` and `decide`."""

    def __init__(self, statements: Sequence[VexStatement], image: ImageInfo | None) -> None:
        self.statements = tuple(statements)
        """The statements, in the order given (files in command-line order, then document order)."""
        image_ids = _image_ids(image) if image is not None else None
        self._by_id: dict[str, list[int]] = {}
        """The positions of the statements that name each vulnerability id (upper case)."""
        self._image_products: list[tuple[bool, ...]] = []
        """For each statement, whether each of its products names the image."""
        for position, statement in enumerate(self.statements):
            for name in dict.fromkeys(_norm(i) for i in statement.ids):
                self._by_id.setdefault(name, []).append(position)
            self._image_products.append(tuple(_names_image(p, image_ids) for p in statement.products))

    def _speakers(self, finding: Finding) -> list[Speaker]:
        """The statements about some of `finding`'s vulnerability whose product applies, in the order
        given, each with the finding's CVEs it speaks for."""
        positions = sorted({p for i in finding.ids for p in self._by_id.get(_norm(i), ())})
        purl = finding.package.purl
        out = []
        for p in positions:
            statement = self.statements[p]
            named = _named_cves(statement, finding)
            if named is not None and any(
                _product_applies(product, names, purl)
                for product, names in zip(statement.products, self._image_products[p], strict=True)
            ):
                out.append((statement, named))
        return out

    def applicable(self, finding: Finding) -> list[VexStatement]:
        """The statements that apply to `finding` as a whole, in the order given."""
        cves = _cves(finding)
        return [statement for statement, named in self._speakers(finding) if named == cves]

    def decide(self, finding: Finding) -> VexStatement | None:
        """The statement that speaks for `finding`, as `decide` has it."""
        return _speaks(self._speakers(finding), finding)[0]

    def decide_with_gap(self, finding: Finding) -> Spoken:
        """The statement that speaks for `finding`, as `decide` has it, and the statements that
        clear only some of its CVEs when the others stay open (`VexGap`), or None."""
        return _speaks(self._speakers(finding), finding)
