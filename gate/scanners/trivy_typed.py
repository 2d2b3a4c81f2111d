"""A Trivy report decoded by type (msgspec): the types, and the counts that prove the decode reads
the report as the strict reader would (gate/scanners/_json.py). The reading itself, block by block,
and the search the proof needs besides, are in gate/scanners/trivy_blocks.py.

Why: the strict reader needs the whole text as one `str` (non-ASCII text escaped first, to keep it
at one byte per character) and builds every member of every vulnerability entry as Python objects
before dropping the unread ones. msgspec decodes the UTF-8 bytes as they are, straight into the
members `parse_trivy` reads; the unread ones (reference lists, dates, data sources) are validated
and counted, then dropped as each is decoded. What reaches `parse_trivy` is the report as dicts
of the members it reads, its vulnerability entries as the `Vulnerability` structs: `parse_trivy`
reads an entry whose every member is plain (a string where it reads one, an object where it reads
one) from the struct, and any other from the dict `entry_dict` makes of it, so every check on
values (types, the severity vocabulary, CVSS 0..10, null lists of findings, fixed-in fields) is
made as on the strict reader's dicts, and any `ReportError` it raises sends the report to the
strict reader, which words the error.

What the typed decode does not check by itself, and how it is proven here before a report passes:

- Repeated keys (msgspec, like orjson and `json`, keeps the last one: msgspec issue 648). Every
  member of every object in the text is counted: `":` occurs in the text at least once per key
  (a key's closing quote before its colon; Go's encoder writes no space between them, and a text
  with one falls back: trivy_blocks searches for it), and the typed decode counts the distinct
  members of every object it built, including the unread ones. The two counts are equal only when
  no object repeats a key, when no member was skipped as unknown (a newer Trivy's member, a
  misspelled list of findings, another scanner's list: all fall back) and when no `":` stands
  inside a string. The values of the members `parse_trivy` refuses unless they are strings
  (`_CHECKED_SCALAR`) are not walked: an object there is not counted, so that report falls back
  too, as `parse_trivy` would refuse it anyway.
- Lone surrogates, integers of more than 4,300 digits, numbers beyond a float (`1e999`), NaN,
  control characters in strings, text that is not UTF-8 (or starts with a byte order mark) and
  nesting deeper than Python's recursion limit make msgspec (or the count) fail: such a report
  falls back too, and the strict reader refuses it or reads it, as it always did.
"""

from __future__ import annotations

from itertools import compress
from operator import is_not, itemgetter
from typing import Any, get_args

import msgspec

_UNSET = msgspec.UNSET
Unset = msgspec.UnsetType


class _Unread:
    """A member `parse_trivy` never reads: decoded (so its JSON is checked), counted, dropped."""


_DROPPED = _Unread()


class Vulnerability(msgspec.Struct, gc=False):
    """Trivy's `DetectedVulnerability` (pkg/types/vulnerability.go) with trivy-db's `Vulnerability`
    members it embeds; every member Trivy writes is listed, so that none is skipped uncounted."""

    VulnerabilityID: Any = _UNSET
    VendorIDs: Any = _UNSET
    PkgID: Any = _UNSET
    PkgName: Any = _UNSET
    PkgPath: Any = _UNSET
    PkgIdentifier: Any = _UNSET
    InstalledVersion: Any = _UNSET
    FixedVersion: Any = _UNSET
    Status: Any = _UNSET
    Layer: Any = _UNSET
    SeveritySource: Any = _UNSET
    PrimaryURL: Any = _UNSET
    Title: Any = _UNSET
    Description: Any = _UNSET
    Severity: Any = _UNSET
    VendorSeverity: Any = _UNSET
    CVSS: Any = _UNSET
    DataSource: Any = _UNSET
    Custom: Any = _UNSET
    PkgRef: Any = _UNSET
    # Unread (see trivy.UNREAD_MEMBERS): each is dropped as soon as it is decoded and counted.
    Fingerprint: _Unread | Unset = _UNSET
    CweIDs: _Unread | Unset = _UNSET
    References: _Unread | Unset = _UNSET
    PublishedDate: _Unread | Unset = _UNSET
    LastModifiedDate: _Unread | Unset = _UNSET


class _Result(msgspec.Struct, gc=False):
    """Trivy's `Result` (pkg/types/report.go)."""

    Target: Any = _UNSET
    Class: Any = _UNSET
    Type: Any = _UNSET
    Packages: Any = _UNSET
    Vulnerabilities: list[Vulnerability] | Unset | None = _UNSET
    MisconfSummary: Any = _UNSET
    Misconfigurations: Any = _UNSET
    Secrets: Any = _UNSET
    Licenses: Any = _UNSET
    CustomResources: Any = _UNSET


class _Report(msgspec.Struct, gc=False):
    """Trivy's `Report` (pkg/types/report.go)."""

    SchemaVersion: Any = _UNSET
    CreatedAt: Any = _UNSET
    ArtifactID: Any = _UNSET
    ArtifactName: Any = _UNSET
    ArtifactType: Any = _UNSET
    Metadata: Any = _UNSET
    Results: list[_Result] | Unset | None = _UNSET
    Trivy: Any = _UNSET
    ReportID: Any = _UNSET


def _keys(value: object) -> int:
    """The members of every object in a decoded value (a repeated key counts once).

    Loops rather than generators: this runs for every nested value of every finding (half a
    million at 100k findings), where a generator's frame costs more than the counting."""
    total = 0
    if isinstance(value, dict):
        total = len(value)
        for item in value.values():
            if type(item) in _NESTED:
                total += _keys(item)
    elif isinstance(value, list):
        for item in value:
            if type(item) in _NESTED:
                total += _keys(item)
    return total


_NESTED = (dict, list)


class Decoder:
    """One decode: msgspec's decoder, and the members the unread values held."""

    def __init__(self) -> None:
        self.unread_keys = 0
        self.report = msgspec.json.Decoder(_Report, dec_hook=self._unread)
        self.entries = msgspec.json.Decoder(list[Vulnerability], dec_hook=self._unread)
        self.entry = msgspec.json.Decoder(Vulnerability, dec_hook=self._unread)

    def _unread(self, kind: type, value: Any) -> Any:
        if kind is not _Unread:
            raise NotImplementedError(kind)
        if type(value) in _NESTED:
            # An unread member is nearly always a list of strings (References, CweIDs), which
            # holds no member: `"".join` says so at C speed, where it fails for anything else.
            if type(value) is list:
                try:
                    "".join(value)
                except TypeError:
                    pass
                else:
                    return _DROPPED
            self.unread_keys += _keys(value)
        return _DROPPED


def _as_null(value: object) -> None:
    if value is not _DROPPED:
        raise NotImplementedError(type(value))


def _present(struct: msgspec.Struct) -> int:
    values = msgspec.structs.astuple(struct)
    return len(values) - values.count(_UNSET)


def struct_keys(report: _Report) -> int:
    """The distinct members of the typed structs and of every object decoded inside them."""
    total = _present(report)
    for value in (report.Metadata, report.Trivy, report.CreatedAt, report.ReportID):
        total += _keys(value)
    for result in report.Results or ():
        total += _present(result)
        for value in (result.Packages, result.MisconfSummary, result.Misconfigurations, result.Secrets,
                      result.Licenses, result.CustomResources):  # fmt: skip
            if type(value) in _NESTED:
                total += _keys(value)
        for vuln in result.Vulnerabilities or ():
            values = msgspec.structs.astuple(vuln)
            total += len(values) - values.count(_UNSET)
            for value in _MAY_NEST(values):
                if type(value) in _NESTED:
                    total += _keys(value)
    return total


_DROPPED_MEMBERS = frozenset(
    field.name for field in msgspec.structs.fields(Vulnerability) if _Unread in get_args(field.type)
)
"""The unread members: counted as they are decoded (`Decoder._unread`), and dropped."""

_CHECKED_SCALAR = frozenset(
    {"VulnerabilityID", "VendorIDs", "PkgName", "PkgPath", "InstalledVersion", "FixedVersion", "Status",
     "SeveritySource", "PrimaryURL", "Title", "Description", "Severity"}
)  # fmt: skip
"""Members of a vulnerability entry that `parse_trivy` reads for every entry and refuses unless
they are a string or null (`VendorIDs`: a list of strings). Their values are not walked: one that
holds an object or array is refused there, and one that holds an object is not counted, so either
way the report falls back (what walking it would do); tests/scanners/test_trivy_typed.py checks
both for each of them. Take a member out of here before `parse_trivy` stops checking it."""

_MAY_NEST = itemgetter(
    *(
        index
        for index, name in enumerate(Vulnerability.__struct_fields__)
        if name not in _CHECKED_SCALAR and name not in _DROPPED_MEMBERS
    )
)
"""The values of a vulnerability entry that may hold objects `parse_trivy` accepts."""


class TypedReport:
    """A Trivy report decoded by type, proven to read as the strict reader reads it."""

    __slots__ = ("_report",)

    def __init__(self, report: _Report) -> None:
        self._report = report

    def as_data(self) -> dict[str, Any]:
        """The report as the dicts `parse_trivy` reads (unread members null), but for the
        vulnerability entries, which stay the `Vulnerability` structs decoded; once only.

        `parse_trivy` reads the structs as they are (making a dict of each took a tenth of the
        reading); an entry it does not find plain, it reads as the dict `entry_dict` makes."""
        report, self._report = self._report, _Report()
        entries: list[list[Vulnerability] | None] = []
        for result in report.Results or ():
            vulns = result.Vulnerabilities
            if type(vulns) is list:
                entries.append(vulns)
                result.Vulnerabilities = []
            else:
                entries.append(None)
        data: dict[str, Any] = msgspec.to_builtins(report, enc_hook=_as_null)
        for result_data, kept in zip(data.get("Results") or (), entries, strict=True):
            if kept is not None:
                result_data["Vulnerabilities"] = kept
        return data


_READ_FIELDS = tuple(name for name in Vulnerability.__struct_fields__ if name not in _DROPPED_MEMBERS)
_DROPPED_FIELDS = Vulnerability.__struct_fields__[len(_READ_FIELDS) :]
_READ_COUNT = len(_READ_FIELDS)
_UNSET_ROW = (_UNSET,) * len(_DROPPED_FIELDS)
if set(_DROPPED_FIELDS) != _DROPPED_MEMBERS:
    raise ImportError("the unread members of Vulnerability must be its last fields")


def entry_dict(vuln: Vulnerability) -> dict[str, Any]:
    """A vulnerability entry as `msgspec.to_builtins` makes it (members in the struct's order,
    absent ones left out, unread ones null), without copying the values."""
    values = msgspec.structs.astuple(vuln)
    entry = {name: value for name, value in zip(_READ_FIELDS, values, strict=False) if value is not _UNSET}
    entry.update(dict.fromkeys(compress(_DROPPED_FIELDS, map(is_not, values[_READ_COUNT:], _UNSET_ROW))))
    return entry
