"""`container-gate --version`: the gate's version, and the scanners a scan would run with their DBs.

A CI log that starts with this line says what judged the image: the gate, the Trivy and Grype
binaries a `scan` would find (the same lookup: `TRIVY_BIN`/`GRYPE_BIN`, `PATH`, beside Python),
their versions, and when each one's vulnerability DB was built. The DB is looked for in
`$CONTAINER_GATE_CACHE_DIR` when set (the cache the GitLab templates and the action use, as
`--cache-dir` takes it), else in each scanner's own default cache.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from gate import __version__
from gate.cli.options import PROG
from gate.errors import GateError
from gate.untrusted import terminal_safe

if TYPE_CHECKING:
    from gate.scanners.interface import Scanner
    from gate.scanners.options import ScanOptions


def version_text(env: Mapping[str, str]) -> str:
    """The lines `--version` prints."""
    # Imported here: only --version and scan need the runners.
    from gate.scanners.grype_runner import GRYPE
    from gate.scanners.options import ScanOptions
    from gate.scanners.trivy_runner import TRIVY

    cache = env.get("CONTAINER_GATE_CACHE_DIR") or None
    options = ScanOptions(env=env, now=dt.datetime.now(dt.UTC), cache_dir=Path(cache) if cache else None)
    where = (
        f"in {cache}"
        if cache
        else "in its default cache (set CONTAINER_GATE_CACHE_DIR to scan's --cache-dir)"
    )
    lines = [f"{PROG} {__version__}"]
    for name, scanner in (("trivy", TRIVY), ("grype", GRYPE)):
        # What a scanner answers, and the DB metadata of a cache a CI job restored, is shown one
        # line each: a newline or an escape sequence in it must not start a workflow command.
        try:
            lines.append(f"{name}: {terminal_safe(_describe(scanner, options, where))}")
        except GateError as exc:  # not installed, too old, not answering: said, not raised
            lines.append(f"{name}: {terminal_safe(exc.message)}")
    return "\n".join(lines) + "\n"


def _describe(scanner: Scanner, options: ScanOptions, where: str) -> str:
    binary = scanner.binary(options)
    ready = scanner.readiness(binary, options)
    # Trivy's `version --format json` says `UpdatedAt`; Grype's `db status` says `built`.
    built = (ready.db.get("UpdatedAt") or ready.db.get("built")) if ready.db else None
    db = f"DB built {built}" if isinstance(built, str) else f"no vulnerability DB {where}"
    return f"{ready.version} ({binary}); {db}"
