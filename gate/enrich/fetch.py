"""`container-gate data fetch`: download the KEV catalog and the EPSS scores, check them, store them.

The only part of the gate that downloads data. Both files are downloaded into temporary files in
the output directory and read with the same strict readers a gate run uses; only when both are
whole and valid do they replace the stored ones (`os.replace`, atomic within one directory), and
then `exploit-data.json` records where they came from. A failed fetch leaves the earlier files and
record exactly as they were, so a CI cache keeps its last good data. The temporary files are locked
while the fetch runs (`gate._part_files`): those a killed fetch left are removed by the next one.

Default sources are the publishers' own:
- KEV: CISA's feed, https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json
- EPSS: FIRST's daily file, served by Empirical Security (who compute EPSS for FIRST; FIRST's "Data
  and statistics" page links there): https://epss.empiricalsecurity.com/epss_scores-current.csv.gz,
  which redirects to the dated file (`epss_scores-YYYY-MM-DD.csv.gz`). The older host
  epss.cyentia.com redirects to it.
Both are overridable for mirrors; a mirror's user and password or query token are hidden wherever
its URL is shown or recorded (`_url.shown_url`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import requests

from gate._input_file import shown_name
from gate._part_files import open_part, remove_abandoned_parts
from gate.enrich._download import Downloaded, DownloadError, download
from gate.enrich._files import is_gzip
from gate.enrich._url import shown_url, split_credentials
from gate.enrich.epss import read_epss
from gate.enrich.exploit import EpssFile, KevCatalog, data_file_name
from gate.enrich.kev import read_kev
from gate.errors import ReportError, UsageError

__all__ = [
    "EPSS_URL",
    "KEV_URL",
    "RECORD_NAME",
    "DownloadError",
    "FetchResult",
    "FetchedFile",
    "fetch_exploit_data",
    "stored_names",
]

KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
"""CISA's KEV catalog feed (JSON)."""

EPSS_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
"""FIRST's current EPSS scores (gzip CSV), a redirect to the dated file."""

RECORD_NAME = "exploit-data.json"
"""The record of the last successful fetch, in the output directory."""

RECORD_SCHEMA = "container-gate/exploit-data/v1"
"""The `schema` value of the record."""

_Read = TypeVar("_Read", KevCatalog, EpssFile)

# What each server may call its file. CDNs and object stores often say octet-stream; an HTML page
# (an error page, a login or captive portal) is never the data.
# A mirror may serve the catalog gzip-compressed, as `--kev` reads it: it is stored as kev.json.gz.
_KEV_TYPES = frozenset(
    {
        "application/json",
        "text/json",
        "text/plain",
        "application/gzip",
        "application/x-gzip",
        "application/octet-stream",
        "binary/octet-stream",
    }
)
_EPSS_TYPES = frozenset(
    {
        "application/gzip",
        "application/x-gzip",
        "text/csv",
        "application/csv",
        "text/plain",
        "application/octet-stream",
        "binary/octet-stream",
    }
)


@dataclass(frozen=True)
class FetchedFile:
    """One stored download."""

    url: str
    """The URL asked for, as shown (credentials hidden)."""
    final_url: str
    """The URL that answered, after redirects (for EPSS, the dated file), as shown."""
    path: Path
    """Where it is stored: `kev.json` / `epss.csv.gz` in the output directory (`.gz` when it is gzip)."""
    sha256: str
    """Hex SHA-256 of the stored bytes."""
    size: int
    """Size in bytes."""


@dataclass(frozen=True)
class FetchResult:
    """What a successful fetch stored and recorded."""

    kev: FetchedFile
    """The KEV catalog."""
    epss: FetchedFile
    """The EPSS scores."""
    kev_catalog_version: str
    """The catalog's `catalogVersion`."""
    kev_date_released: datetime
    """The catalog's `dateReleased`."""
    epss_model_version: str | None
    """The EPSS file's `model_version`; None when the file has no comment line."""
    epss_score_date: datetime | None
    """The EPSS file's `score_date`; None when the file has no comment line."""
    fetched_at: datetime
    """The `now` the fetch was given."""
    record: Path
    """The `exploit-data.json` written."""
    warnings: tuple[str, ...] = ()
    """What reading the downloads found worth saying (an EPSS file without its date line)."""


def fetch_exploit_data(
    out_dir: Path,
    *,
    kev_url: str = KEV_URL,
    epss_url: str = EPSS_URL,
    session: requests.Session | None = None,
    timeout: float = 60.0,
    retries: int = 3,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchResult:
    """Downloads, checks and stores both files in `out_dir` (created if missing, and removed again
    when the fetch fails), then writes `out_dir/exploit-data.json`. `timeout` bounds each connection
    and each wait for data, `retries` is the number of further attempts per file after a transient
    failure, `now` (timezone-aware) is recorded as the fetch time. Raises `DownloadError` (exit 3)
    naming the URL and what went wrong (or `out_dir`, when it cannot be written in), `UsageError`
    (exit 2) for a URL that is not http(s). URLs are named and recorded as `shown_url` shows them."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    for url in (kev_url, epss_url):
        _check_url(url)
    created = _make_directory(out_dir)
    for name in _PART_NAMES:
        remove_abandoned_parts(out_dir / name)
    own_session = session is None
    http = session or requests.Session()
    pending: list[Downloaded] = []
    done = False
    try:
        get = _getter(http, timeout, retries, sleep, pending)
        kev_shown, epss_shown = shown_url(kev_url), shown_url(epss_url)
        kev_file = get(kev_url, out_dir / "kev.json", _KEV_TYPES)
        catalog = _checked(kev_shown, kev_file, lambda path: read_kev(path, frozenset()))
        epss_file = get(epss_url, out_dir / "epss.csv", _EPSS_TYPES)
        scores = _checked(epss_shown, epss_file, lambda path: read_epss(path, frozenset()))
        kev = _store(kev_shown, kev_file, out_dir / ("kev.json.gz" if is_gzip(kev_file.path) else "kev.json"))
        epss = _store(
            epss_shown, epss_file, out_dir / ("epss.csv.gz" if is_gzip(epss_file.path) else "epss.csv")
        )
        result = FetchResult(
            kev=kev,
            epss=epss,
            kev_catalog_version=catalog.catalog_version,
            kev_date_released=catalog.date_released,
            epss_model_version=scores.model_version,
            epss_score_date=scores.score_date,
            fetched_at=now,
            record=out_dir / RECORD_NAME,
            # The reader names the downloaded file by its name; what was fetched is the URL.
            warnings=tuple(
                warning.replace(data_file_name(str(epss_file.path)), epss_shown, 1)
                for warning in scores.warnings
            ),
        )
        _write_record(result)
        done = True
        return replace(result, warnings=result.warnings + _remove_other_forms(out_dir, (kev.path, epss.path)))
    except OSError as error:
        if isinstance(error, requests.RequestException):
            raise
        # A directory the fetch cannot write in (a read-only cache, a full disk): the download is
        # not at fault, and a traceback's temporary file name says nothing to the user.
        raise DownloadError(
            f"{shown_name(out_dir)}: cannot write the downloaded data ({error.strerror or error})"
        ) from None
    finally:
        # A download not stored is removed; each one's lock is let go only then.
        for downloaded in pending:
            downloaded.path.unlink(missing_ok=True)
            os.close(downloaded.handle)
        if own_session:
            http.close()
        if not done:
            _remove_empty(created)


_FORMS = (("kev.json", "kev.json.gz"), ("epss.csv", "epss.csv.gz"))
"""The names a file is stored under, plain or gzip: one of each pair is the current one."""

_DEFAULT_NAMES = {"kev": "kev.json", "epss": "epss.csv.gz"}
"""What a fetch from CISA and FIRST stores: the names a directory's files go by when its record
names none of `_FORMS` (then a gate given them stops on the missing file rather than pass)."""


def stored_names(out_dir: Path) -> dict[str, str]:
    """The file names, by kind (`kev`, `epss`), the last fetch into `out_dir` stored its data
    under, as its record (`RECORD_NAME`) says: the form it stored (`epss.csv` from a mirror of the
    plain CSV). A record that cannot be read, or names another file, gives `_DEFAULT_NAMES`."""
    try:
        record = json.loads((out_dir / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    names: dict[str, str] = {}
    for (kind, default), forms in zip(_DEFAULT_NAMES.items(), _FORMS, strict=True):
        entry = record.get(kind) if isinstance(record, dict) else None
        name = entry.get("file") if isinstance(entry, dict) else None
        names[kind] = name if name in forms else default
    return names


_PART_NAMES = ("kev.json", "epss.csv", RECORD_NAME)
"""The files whose temporary files (`gate._part_files`) a fetch writes in the output directory,
each download under its plain name: the abandoned ones of killed fetches are removed."""


def _remove_other_forms(out_dir: Path, stored: tuple[Path, ...]) -> tuple[str, ...]:
    """Remove the earlier fetch's file of the other form (a mirror that serves the plain CSV where
    FIRST's gzip was fetched before): left beside the new one, it is what `--epss DIR/epss.csv.gz`
    and the GitLab template's `epss.csv*` go on reading, however old. Warnings for what could not
    be removed."""
    warnings: list[str] = []
    for names in _FORMS:
        for name in names:
            path = out_dir / name
            if path in stored:
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as error:
                warnings.append(
                    f"{path}: cannot remove the earlier fetch's file ({error.strerror or error}); it is stale"
                )
    return tuple(warnings)


def _check_url(url: str) -> None:
    """An http(s) URL with a host that requests can send, else a usage error naming it as shown
    (requests' own messages quote the URL whole, credentials included)."""
    request_url, _ = split_credentials(url)
    try:
        parts = urlsplit(request_url)
        valid = parts.scheme in ("https", "http") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number up to 65535
        requests.Request("GET", request_url).prepare()
    except (ValueError, requests.RequestException):
        valid = False
    if not valid:
        raise UsageError(f"{shown_url(url)}: expected an http(s) URL")


def _make_directory(out_dir: Path) -> list[Path]:
    """Creates `out_dir` and its missing parents; returns those this call created, outermost first,
    so that a failed fetch can remove them: it leaves the file system as it found it."""
    missing = [path for path in (out_dir, *out_dir.parents) if not path.is_dir()]
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except OSError as error:
            if isinstance(error, FileExistsError) and path.is_dir():
                continue  # made meanwhile by another process: not this fetch's to remove
            _remove_empty(created)
            if isinstance(error, FileExistsError):
                # A file where the directory goes is the command line's mistake, not a download's.
                where = "" if path == out_dir else f" ({shown_name(path)} is one)"
                raise UsageError(
                    f"{shown_name(out_dir)}: --out needs a directory, not a file{where}"
                ) from None
            raise DownloadError(
                f"{shown_name(out_dir)}: cannot create the directory ({error.strerror or error})"
            ) from None
        created.append(path)
    return created


def _remove_empty(created: list[Path]) -> None:
    """Removes the directories a failed fetch created, innermost first, while they are empty."""
    for path in reversed(created):
        try:
            path.rmdir()
        except OSError:
            return


def _getter(
    http: requests.Session,
    timeout: float,
    retries: int,
    sleep: Callable[[float], None],
    pending: list[Downloaded],
) -> Callable[[str, Path, frozenset[str]], Downloaded]:
    def get(url: str, target: Path, content_types: frozenset[str]) -> Downloaded:
        downloaded = download(
            http, url, target, content_types=content_types, timeout=timeout, retries=retries, sleep=sleep
        )
        pending.append(downloaded)
        return downloaded

    return get


def _checked(url: str, downloaded: Downloaded, read: Callable[[Path], _Read]) -> _Read:
    """The download read with the gate's own reader; an invalid one is a download error."""
    try:
        return read(downloaded.path)
    except ReportError as error:
        problem = error.message.removeprefix(f"{downloaded.path}: ")
        raise DownloadError(f"{url}: the download is not valid: {problem}") from None


def _store(url: str, downloaded: Downloaded, target: Path) -> FetchedFile:
    os.replace(downloaded.path, target)
    return FetchedFile(url, downloaded.final_url, target, downloaded.sha256, downloaded.size)


def _write_record(result: FetchResult) -> None:
    def stamp(value: datetime | None) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value else None

    def file(fetched: FetchedFile) -> dict[str, object]:
        return {
            "url": fetched.url,
            "final_url": fetched.final_url,
            "file": fetched.path.name,
            "sha256": fetched.sha256,
            "size": fetched.size,
        }

    record = {
        "schema": RECORD_SCHEMA,
        "fetched_at": stamp(result.fetched_at),
        "kev": {
            **file(result.kev),
            "catalog_version": result.kev_catalog_version,
            "date_released": stamp(result.kev_date_released),
        },
        "epss": {
            **file(result.epss),
            "model_version": result.epss_model_version,
            "score_date": stamp(result.epss_score_date),
        },
    }
    text = json.dumps(record, indent=2) + "\n"
    part, descriptor = open_part(result.record)
    try:
        with open(descriptor, "w", encoding="utf-8", closefd=False) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # Renamed while the lock is held: another fetch never takes it for a killed one's.
        os.replace(part, result.record)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        os.close(descriptor)
