"""CISA's Known Exploited Vulnerabilities catalog (`known_exploited_vulnerabilities.json`, plain or gzip).

The format is CISA's published JSON schema: a top-level object with `catalogVersion`,
`dateReleased`, `count` and `vulnerabilities`, each of which has `cveID`, `vendorProject`,
`product`, `vulnerabilityName`, `dateAdded`, `dueDate` and `knownRansomwareCampaignUse` (plus
`shortDescription`, `requiredAction`, `notes` and `cwes`, which the gate does not show). CISA's
own feed may write `/` as `\\/`: the same JSON string, which the JSON decoder reads as `/`.

Strict: the whole catalog is checked, whichever entries are kept, because a catalog that is wrong
anywhere may be wrong where it matters. It is small (about 1,700 entries, 1.4 MB): decoding and
checking all of it takes a few tens of milliseconds (bench/bench_exploit.py measures it).
"""

from __future__ import annotations

import json
from collections.abc import Set
from pathlib import Path

from gate._input_file import shown_name
from gate._json_decode import UnreadableJson, loads
from gate._json_strict import NotANumber, reject_constant
from gate.enrich._files import data_error, quoted, read_bytes
from gate.enrich._json import (
    JsonObject,
    as_list,
    as_object,
    fail,
    got,
    member,
    req_cve,
    req_date,
    req_str,
    req_timestamp,
)
from gate.enrich.exploit import DataKind, KevCatalog, KevEntry

RANSOMWARE_USE = {"Known": True, "Unknown": False}
"""CISA's two values of `knownRansomwareCampaignUse`."""

_EXPECTED = "expected the CISA KEV catalog (an object with catalogVersion, dateReleased and vulnerabilities)"


def read_kev(path: Path, wanted: Set[str] | None = None) -> KevCatalog:
    """Reads and checks a KEV catalog file; keeps the entries of the `wanted` CVE ids (upper case),
    or every entry when `wanted` is None. Raises `ReportError` (exit 2) naming the file and the line
    or key path of the first problem."""
    raw, source = read_bytes(path, DataKind.KEV)
    name = shown_name(path)
    doc = _decode(raw, name)
    if not isinstance(doc, dict) or "vulnerabilities" not in doc:
        raise data_error(name, f"{_EXPECTED}, got {got(doc)}")
    version = req_str(doc, "catalogVersion", name, "")
    released = req_timestamp(doc, "dateReleased", name, "")
    items = as_list(doc["vulnerabilities"], name, "vulnerabilities")
    if not items:
        # CISA's catalog has never been empty: an empty list is a placeholder or a broken mirror, and
        # read as data it would clear every finding of `known_exploited`.
        raise fail(name, "vulnerabilities", "empty: a KEV catalog lists the known exploited vulnerabilities")
    count = doc.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        raise fail(name, "count", f"expected a whole number, got {got(count)}")
    if count is not None and count != len(items):
        # A mirror that cut the list short still decodes; the count CISA wrote does not lie.
        raise fail(name, "count", f"says {got(count)} entries, but vulnerabilities has {len(items)}")
    entries: dict[str, KevEntry] = {}
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        where = member("vulnerabilities", index)
        entry = _entry(as_object(item, name, where), name, where)
        if entry.cve in seen:
            raise fail(
                name, where, f"{entry.cve} is listed twice (also at vulnerabilities[{seen[entry.cve]}])"
            )
        seen[entry.cve] = index
        if wanted is None or entry.cve in wanted:
            entries[entry.cve] = entry
    return KevCatalog(
        catalog_version=version,
        date_released=released,
        entries=entries,
        total=len(items),
        source=source,
    )


class _RepeatedKey(ValueError):
    """An object of the catalog gives one member twice (JSON keeps the last, silently)."""


def _unique_members(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """An object of the catalog; a member given twice is refused, whichever value was meant."""
    obj: dict[str, object] = {}
    for key, value in pairs:
        if key in obj:
            cve = obj.get("cveID")
            owner = f"the entry of {quoted(cve)}" if isinstance(cve, str) else "an object"
            raise _RepeatedKey(f"{owner} gives {quoted(key)} twice")
        obj[key] = value
    return obj


def _decode(raw: bytes, name: str) -> object:
    try:
        # Decoded here, strictly: given bytes, Python's decoder also reads UTF-16 and UTF-32, and
        # UTF-8 that encodes a lone surrogate (b"\xed\xa0\x80").
        return loads(
            raw.decode("utf-8-sig"), parse_constant=reject_constant, object_pairs_hook=_unique_members
        )
    except NotANumber as error:
        raise data_error(name, f"not valid JSON ({error} is not a JSON number); {_EXPECTED}") from None
    except _RepeatedKey as error:
        raise data_error(name, str(error)) from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise data_error(name, f"not valid JSON ({error.msg}); {_EXPECTED}", where) from None
    except UnreadableJson as error:
        raise data_error(name, f"not valid JSON ({error}); {_EXPECTED}") from None
    except UnicodeDecodeError:
        raise data_error(name, f"not a JSON document (not UTF-8 text); {_EXPECTED}") from None


def _entry(item: JsonObject, name: str, where: str) -> KevEntry:
    cve = req_cve(item, "cveID", name, where)
    where = f"{where} ({cve})"  # the id makes the path findable on CISA's site and in the file
    ransomware = req_str(item, "knownRansomwareCampaignUse", name, where)
    if ransomware not in RANSOMWARE_USE:
        raise fail(
            name,
            member(where, "knownRansomwareCampaignUse"),
            f'expected "Known" or "Unknown", got {got(ransomware)}',
        )
    return KevEntry(
        cve=cve,
        date_added=req_date(item, "dateAdded", name, where),
        due_date=req_date(item, "dueDate", name, where),
        known_ransomware=RANSOMWARE_USE[ransomware],
        vendor_project=req_str(item, "vendorProject", name, where),
        product=req_str(item, "product", name, where),
        vulnerability_name=req_str(item, "vulnerabilityName", name, where),
    )
