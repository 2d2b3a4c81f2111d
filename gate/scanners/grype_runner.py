"""Running Grype on an image (`--scanner grype` or `both`).

`grype_command` and `grype_env` are the one place that builds Grype's command line and
environment: Grype takes its DB settings from `GRYPE_*` variables, and its configuration from the
gate's own file (`CONFIG_TEXT`), never from the user's. `GRYPE` is the `Scanner`
(gate/scanners/interface.py) that `run_scanner` runs: it checks the binary's version (`grype version -o json`) and its DB (`grype db status -o json`), runs the scan
with a timeout and parses the report with `gate.scanners.grype`. Any non-zero exit is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gate.enrich.grype_exploit import MatchExploitData
from gate.errors import GateError, ScannerError
from gate.image.resolve import ImageTarget
from gate.image.source import SourceKind
from gate.model import ScanReport
from gate.scanners._process import (
    Completed,
    engine_image_or_scanner_failure,
    error_summary,
    exit_text,
    find_binary,
    query_json,
    registry_of,
    scanner_env,
    stderr_tail,
    supported_version,
)
from gate.scanners.grype import parse_grype
from gate.scanners.interface import Readiness, run_scanner
from gate.scanners.options import ScanOptions, db_age_warnings, offline_cache

MIN_VERSION = (0, 87, 0)
"""Grype 0.87 reads DB schema v6 and reports `grype db status -o json` with `built` and `valid`."""
INSTALL_HINT = (
    "install Grype 0.87.0 or later (https://github.com/anchore/grype#installation), "
    "or give its path with --grype-bin or GRYPE_BIN"
)

_SOURCE_SCHEMES = {
    SourceKind.DOCKER_ARCHIVE: "docker-archive",
    SourceKind.OCI_ARCHIVE: "oci-archive",
    SourceKind.ENGINE: "docker",
    SourceKind.REGISTRY: "registry",
}


KEPT_ENV = ("GRYPE_REGISTRY_", "GRYPE_DB_CA_CERT")
"""The user's GRYPE_* variables Grype is run with: registry credentials and TLS settings, and the
CA file Grype trusts, alone, for its DB listing and download (`db.ca-cert`: a DB mirror of the
user's own whose certificate a private CA signed). Every other GRYPE_* setting is removed."""

REGISTRY_CA_VARIABLE = "GRYPE_REGISTRY_CA_CERT"
"""Grype's `registry.ca-cert`: a PEM file of CA certificates (or a directory of `*.crt`, `*.cert`,
`*.pem` files) that stereoscope adds to the system's roots for a `registry:` source, rather than
putting in their place (`RegistryOptions.TLSConfig`). Grype 0.68 and later read it; it is not
`GRYPE_DB_CA_CERT`, which is for the DB download alone."""


CONFIG_NAME = "container-gate-grype.yaml"
"""The configuration file the gate gives Grype (`--config`), written into its empty working directory."""
CONFIG_TEXT = """\
# container-gate's configuration of Grype. Given with --config, it is the only one Grype reads:
# not the user's ~/.grype.yaml, $XDG_CONFIG_HOME/grype/config.yaml or ./.grype.yaml, whose
# settings would drop findings from the report the gate judges. The gate's policy decides.
exclude: []
only-fixed: false
only-notfixed: false
fail-on-severity: ""
# Grype's default (false) moves its matches of kernel headers packages (linux-libc-dev,
# kernel-headers) through the kernel they are built from into ignoredMatches; Trivy reports them.
match-upstream-kernel-headers: true
"""
"""Grype's defaults, stated for the settings that drop findings or fail a scan on its own, and its
default that drops the matches of kernel headers packages, turned off."""
CONFIG_FILES = MappingProxyType({CONFIG_NAME: CONFIG_TEXT})


def grype_cache_dir(options: ScanOptions) -> Path | None:
    """Where Grype keeps its DB: `<--cache-dir>/grype`, beside Trivy's files, never mixed with them."""
    return (options.cache_dir / "grype").resolve() if options.cache_dir else None


def grype_source(target: ImageTarget) -> str:
    """Grype's source argument: `docker-archive:PATH`, `oci-archive:PATH`, `docker:REF`, `registry:REF`."""
    scheme = _SOURCE_SCHEMES[target.kind]
    if target.kind in (SourceKind.DOCKER_ARCHIVE, SourceKind.OCI_ARCHIVE):
        archive = target.archive_path or Path(target.name)
        return f"{scheme}:{archive.resolve()}"
    return f"{scheme}:{target.name}"


def grype_command(binary: Path, target: ImageTarget) -> list[str]:
    """The full `grype` command line for `target` (its DB settings are in `grype_env`)."""
    # An explicit --config replaces every configuration file Grype would look for (anchore/fangs
    # `findConfigurationFiles`: the search runs only when no file is given).
    argv = [str(binary), grype_source(target), "-o", "json", "--config", CONFIG_NAME]
    if target.platform:
        argv += ["--platform", target.platform]
    return argv


def grype_env(target: ImageTarget | None, options: ScanOptions) -> dict[str, str]:
    """The environment Grype runs in: the gate's, plus the DB and registry settings."""
    # Connection settings (KEPT_ENV) stay; other GRYPE_* settings go.
    # The registry's CA (a GitLab job's CI_SERVER_TLS_CA_FILE) is given as Trivy's --cacert is,
    # for a `registry:` source, the only one Grype reads it for; a GRYPE_REGISTRY_CA_CERT of the
    # user's own is left to rule.
    env = scanner_env(options.env, "GRYPE_", KEPT_ENV)
    env["GRYPE_CHECK_FOR_APP_UPDATE"] = "false"
    # The gate judges the DB's age itself (--max-db-age), the same way for every scanner.
    env["GRYPE_DB_VALIDATE_AGE"] = "false"
    cache = grype_cache_dir(options)
    if cache is not None:
        env["GRYPE_DB_CACHE_DIR"] = str(cache)
    if options.skip_db_update:
        env["GRYPE_DB_AUTO_UPDATE"] = "false"
    if options.grype_db_url:
        env["GRYPE_DB_UPDATE_URL"] = options.grype_db_url
    if target is not None and target.kind is SourceKind.ENGINE and target.docker_host:
        env["DOCKER_HOST"] = target.docker_host
    if target is not None and target.insecure_registry:
        env["GRYPE_REGISTRY_INSECURE_USE_HTTP"] = "true"
    if (
        options.registry_ca_file
        and not options.env.get(REGISTRY_CA_VARIABLE)
        and target is not None
        and target.kind is SourceKind.REGISTRY
    ):
        env[REGISTRY_CA_VARIABLE] = options.registry_ca_file
    return env


def _json_of(binary: Path, args: list[str], options: ScanOptions, what: str) -> tuple[Completed, Any]:
    # The queries read the same configuration as the scan: a DB cache directory set in the
    # user's file would otherwise be the one `db status` looks at.
    argv = [str(binary), *args, "--config", CONFIG_NAME]
    return query_json(argv, grype_env(None, options), what, f"check that {binary} is Grype", CONFIG_FILES)


def grype_version(binary: Path, options: ScanOptions) -> str:
    """Grype's version, checked against `MIN_VERSION`."""
    done, doc = _json_of(binary, ["version", "-o", "json"], options, "grype version -o json")
    version = doc.get("version") if isinstance(doc, dict) and done.returncode == 0 else None
    return supported_version(
        "Grype", binary, version, MIN_VERSION, ("grype version -o json", done), INSTALL_HINT
    )


def grype_db_status(binary: Path, options: ScanOptions) -> Mapping[str, Any] | None:
    """`grype db status -o json` when Grype has a valid DB, else None (it exits 1 without one)."""
    done, doc = _json_of(binary, ["db", "status", "-o", "json"], options, "grype db status -o json")
    if done.returncode != 0 or not isinstance(doc, dict) or doc.get("valid") is False or doc.get("error"):
        return None
    return doc


def _missing_db(options: ScanOptions) -> ScannerError:
    cache = grype_cache_dir(options)
    where = f"GRYPE_DB_CACHE_DIR={cache} " if cache else ""
    skip = options.wording.option("skip-db-update")
    return ScannerError(
        f"Grype has no usable vulnerability DB in {cache or 'its default cache (~/.cache/grype/db)'}, "
        f"and {skip} forbids downloading it",
        hint=f"pre-fetch it where the DB server is reachable: `{where}grype db update`, and bring that "
        f"directory here; or run without {skip}",
    )


def _failure(done: Completed, target: ImageTarget, options: ScanOptions) -> GateError:
    summary = error_summary(done.stderr)
    detail = stderr_tail(done.stderr)
    # Matched against everything it printed: the summary drops the wrappers that name the stage.
    low = done.stderr.lower()
    if "vulnerability db" in low or "db update" in low or "listing" in low:
        if options.skip_db_update:
            return _missing_db(options)
        words = options.wording
        return ScannerError(
            f"Grype could not load or download its vulnerability DB: {summary}",
            hint=f"mirror it and {words.passing('grype-db-url', 'URL')}, or pre-fetch it (`grype db update`) "
            + (
                "into --cache-dir DIR/grype and pass --skip-db-update"
                if words.inputs is None
                else f"into the grype directory of the cache, {offline_cache(words)}"
            ),
            detail=detail,
        )
    if "at or above the severity threshold" in low:
        # Grype's `fail-on-severity` (exit 2): the gate passes no --fail-on, no
        # GRYPE_FAIL_ON_SEVERITY, and a configuration that sets none, so the binary run is not
        # Grype as the gate runs it (a wrapper adding --fail-on, or a Grype that read another file).
        return ScannerError(
            f"Grype failed ({exit_text(done.returncode)}): {summary}",
            hint="a fail-on-severity setting makes Grype fail on its own findings, and the gate sets "
            "none: check that --grype-bin or GRYPE_BIN is Grype itself, not a wrapper adding "
            "--fail-on; the gate's policy decides what blocks",
            detail=detail,
        )
    return engine_image_or_scanner_failure(
        "Grype",
        done,
        target.reference,
        engine=("cannot connect to the docker daemon", "docker daemon"),
        image=("could not fetch image", "unable to load image", "no such"),
        registry=registry_of(target),
        login=options.wording.login,
    )


class GrypeScanner:
    """Grype, as `run_scanner` runs it."""

    name = "Grype"
    # `grype db status` runs before the scan: the scan may update the DB it would be reading.
    check_beside_scan = False
    grace = 0.0
    files: Mapping[str, str] = CONFIG_FILES

    def binary(self, options: ScanOptions) -> Path:
        return find_binary(
            "grype", options.grype_bin, options.env.get("GRYPE_BIN"), INSTALL_HINT, options.env.get("PATH")
        )

    def readiness(self, binary: Path, options: ScanOptions) -> Readiness:
        return Readiness(grype_version(binary, options), grype_db_status(binary, options))

    def check_ready(self, ready: Readiness, options: ScanOptions) -> None:
        if options.skip_db_update and ready.db is None:
            raise _missing_db(options)

    def command(self, binary: Path, target: ImageTarget, options: ScanOptions) -> list[str]:
        return grype_command(binary, target)

    def environment(self, target: ImageTarget, options: ScanOptions) -> dict[str, str]:
        return grype_env(target, options)

    def failure(self, done: Completed, target: ImageTarget, options: ScanOptions) -> GateError:
        return _failure(done, target, options)

    def parse(
        self, data: object, name: str, options: ScanOptions, exploit: list[MatchExploitData] | None
    ) -> ScanReport:
        return parse_grype(data, name, lenient_severity=options.lenient_severity, exploit=exploit)

    def db_state(
        self, binary: Path, data: object, report: ScanReport, ready: Readiness, options: ScanOptions
    ) -> tuple[str | None, tuple[str, ...]]:
        # The report's descriptor names the DB the scan really used (it may have just been updated).
        built = report.scanners[0].db_updated_at
        status = ready.db
        if built is None and status is not None and isinstance(status.get("built"), str):
            built = status["built"]
        hint = "refresh it: `grype db update` (GRYPE_DB_CACHE_DIR set to the cache)"
        return built, db_age_warnings("Grype", built, options, hint)


GRYPE = GrypeScanner()
"""The Grype runner."""


def run_grype(
    target: ImageTarget, options: ScanOptions, *, exploit: list[MatchExploitData] | None = None
) -> ScanReport:
    """Scans `target` with Grype; the report's scanner info carries the version and DB build time,
    and `exploit`, when given, receives the report's KEV and EPSS data."""
    return run_scanner(GRYPE, target, options, exploit=exploit)
