"""Finding and running the real Trivy with zero network, for the test bed's checks and demos.

The gate's own runner lives in `gate/scanners/trivy.py`; this is the minimum the test bed needs
to prove its DB and images work. Flags: testbed/README.md.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

OFFLINE_FLAGS = (
    "--skip-db-update",
    "--skip-java-db-update",
    "--offline-scan",
    # Both are needed: with only one, Trivy still calls its version-check endpoint.
    "--skip-version-check",
    "--disable-telemetry",
    # A trivy.yaml or .trivyignore in the working directory would silently change results.
    "--config",
    "",
    "--ignorefile",
    "",
)


class TrivyError(RuntimeError):
    """Trivy exited non-zero or printed no JSON; the message carries its stderr."""


def find_trivy(explicit: Path | None = None) -> Path | None:
    """`explicit`, else the `trivy` beside the running interpreter (the project venv), else PATH."""
    if explicit is not None:
        return explicit if explicit.is_file() else None
    beside = Path(sys.executable).parent / "trivy"
    if beside.is_file():
        return beside
    found = shutil.which("trivy")
    return Path(found) if found else None


def network_namespace_works() -> bool:
    """True where `unshare -n` can give a command an empty network namespace (root, util-linux)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    return subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0


def scan_image(
    trivy: Path,
    cache_dir: Path,
    target: list[str],
    no_network: bool = False,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """Runs `trivy image` offline on `target` (e.g. `["--input", "app.tar"]`); returns the JSON report.

    `no_network=True` runs it under `unshare -n`: a scan that succeeds there needed no network.
    """
    argv = [
        str(trivy),
        "image",
        "--cache-dir",
        str(cache_dir),
        *OFFLINE_FLAGS,
        "--scanners",
        "vuln",
        "--format",
        "json",
        "--list-all-pkgs=false",
        "--quiet",
        *target,
    ]
    if no_network:
        argv = [shutil.which("unshare") or "unshare", "-n", *argv]
    with tempfile.TemporaryDirectory(prefix="cg-trivy-cwd-") as cwd:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)
    if proc.returncode != 0:
        raise TrivyError(f"trivy exited with {proc.returncode}: {proc.stderr[-3000:]}")
    try:
        report: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise TrivyError(
            f"trivy printed no JSON report: {proc.stdout[:500]!r} {proc.stderr[-1500:]}"
        ) from exc
    return report


def db_metadata(trivy: Path, cache_dir: Path) -> dict[str, Any]:
    """What Trivy itself reads from `<cache>/db/metadata.json` (`trivy version --format json`)."""
    proc = subprocess.run(
        [str(trivy), "version", "--cache-dir", str(cache_dir), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise TrivyError(f"trivy version exited with {proc.returncode}: {proc.stderr[-2000:]}")
    info: dict[str, Any] = json.loads(proc.stdout)
    return dict(info.get("VulnerabilityDB") or {})
