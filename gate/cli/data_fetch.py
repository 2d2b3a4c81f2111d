"""`container-gate data fetch --out DIR`: the one command that downloads (KEV and EPSS data).

`gate.enrich.fetch` does the work (retries, timeout, checks, atomic replacement); this is the
command line around it: the clock read, `--if-older-than` against the last record, and what is
printed. A failed download is exit 3 and leaves DIR as it was.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gate._json_decode import loads
from gate.cli.options import Options
from gate.cli.run_by import run_wording
from gate.enrich.fetch import EPSS_URL, KEV_URL, RECORD_NAME, fetch_exploit_data
from gate.errors import ExitCode
from gate.run_wording import RunWording
from gate.untrusted import terminal_safe


def last_fetch(out: Path) -> dt.datetime | None:
    """When the record in `out` says the last fetch was; None without a readable record (then
    the data is fetched again: a record nobody can read vouches for nothing)."""
    try:
        record = loads((out / RECORD_NAME).read_text(encoding="utf-8"))
        stamp = dt.datetime.fromisoformat(str(record["fetched_at"]).replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    files = [record.get(kind, {}).get("file") for kind in ("kev", "epss")]
    if not all(isinstance(name, str) and (out / name).is_file() for name in files):
        return None
    return stamp if stamp.tzinfo else None


def cmd_data_fetch(options: Options) -> ExitCode:
    """`container-gate data fetch`."""
    assert options.fetch is not None  # noqa: S101 - options_from makes one for `data fetch`
    request = options.fetch
    now = options.started_at
    if request.if_older_than is not None:
        last = last_fetch(request.out)
        # A fetch recorded after the clock (a cache saved by a runner whose clock ran ahead) has
        # no age to go by: kept, it would never be fetched again.
        if last is not None and dt.timedelta(0) <= now - last < dt.timedelta(hours=request.if_older_than):
            age = (now - last).total_seconds() / 3600
            print(_kept(request.out, age, request.if_older_than, run_wording()))
            return ExitCode.PASS
    result = fetch_exploit_data(
        request.out,
        kev_url=request.kev_url or KEV_URL,
        epss_url=request.epss_url or EPSS_URL,
        timeout=request.timeout,
        retries=request.retries,
        now=now,
    )
    released = result.kev_date_released.date().isoformat()
    scored = result.epss_score_date.date().isoformat() if result.epss_score_date else "unknown date"
    print(
        f"KEV catalog {terminal_safe(result.kev_catalog_version)} (released {released}): "
        f"{terminal_safe(str(result.kev.path))}"
    )
    print(
        f"EPSS scores {terminal_safe(result.epss_model_version or 'of an unknown model')} "
        f"(scored {scored}): {terminal_safe(str(result.epss.path))}"
    )
    print(f"recorded in {terminal_safe(str(result.record))}")
    for warning in result.warnings:
        print(f"warning: {terminal_safe(warning)}")
    return ExitCode.PASS


def _kept(out: Path, age: float, if_older_than: float, wording: RunWording) -> str:
    """The line of a fetch that downloads nothing: in the action's words when the action runs it
    for its `exploit-data` input, whose user never typed `--if-older-than`."""
    if wording.fetched_for is not None:
        return (
            f"input `{wording.fetched_for}`: the KEV and EPSS data in {terminal_safe(str(out))} were fetched "
            f"{age:.1f} hours ago: kept ({wording.no_input} downloads them again once {if_older_than:g} hours old)"
        )
    return f"{terminal_safe(str(out / RECORD_NAME))}: fetched {age:.1f} hours ago (--if-older-than {if_older_than:g}): kept"
