"""Shared by the runner and `scan` tests: image targets, a fresh DB, a no-network wrapper, the
exact expected findings of the test bed (testbed/expected.yaml), and `container-gate scan` run
with the real Trivy (the `scan` and `fresh_cache` fixtures)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.image.resolve import ImageTarget
from gate.image.source import SourceKind
from gate.model import Finding, ImageInfo
from gate.scanners.options import ScanOptions
from testbed.expected import ExpectedFinding, load_expected
from testbed.trivy import network_namespace_works
from testbed.trivydb import build_trivy_db
from tests.support.processes import stop

EXPECTED = load_expected()
NO_NETWORK = network_namespace_works()
"""True where `unshare -n` works (root, util-linux): scans then run with no network at all."""


@dataclass(frozen=True, order=True)
class Row:
    """One finding as compared with expected.yaml."""

    id: str
    package: str
    version: str
    layer: int | None
    type: str
    fixed: tuple[str, ...]
    status: str

    @property
    def key(self) -> tuple[str, str, str, int | None]:
        return (self.id, self.package, self.version, self.layer)


def row_of(finding: Finding) -> Row:
    """A model finding as a row."""
    return Row(
        finding.vulnerability_id,
        finding.package.name,
        finding.package.version,
        finding.layer.index if finding.layer else None,
        finding.package.type,
        finding.fixed_versions,
        finding.status.value,
    )


def _want(expected: ExpectedFinding) -> Row:
    fixed = tuple(expected.fixed.split(", ")) if expected.fixed else ()
    return Row(
        expected.id,
        expected.package,
        expected.version,
        expected.layer,
        expected.type,
        fixed,
        expected.status or "fixed",
    )


def assert_exact(image: str, rows: Iterable[Row]) -> None:
    """`rows` are exactly the expected findings of `base` or `app` (with fix data), and no control."""
    found = list(rows)
    keys = Counter(row.key for row in found)
    assert not [k for k, n in keys.items() if n > 1], "a finding was reported twice"
    expected = {row.key: row for row in map(_want, EXPECTED.for_image(image))}
    missing = sorted(set(expected) - set(keys), key=str)
    unexpected = sorted(set(keys) - set(expected), key=str)
    assert (missing, unexpected) == ([], []), f"missing {missing[:8]}, unexpected {unexpected[:8]}"
    for row in found:
        assert row == expected[row.key]
    for control in EXPECTED.controls:
        hits = [
            row
            for row in found
            if row.id == control.id
            and row.package in control.packages
            and (control.fixed is None or control.fixed in row.fixed)
        ]
        assert not hits, f"negative control {control.id} ({control.why}) was reported"


def fresh_db(directory: Path, age: dt.timedelta = dt.timedelta(hours=1)) -> Path:
    """A Trivy cache whose DB was built `age` ago (the session DB has a fixed, older date)."""
    return build_trivy_db(directory, updated_at=dt.datetime.now(dt.UTC) - age).cache_dir


def offline_trivy(directory: Path, trivy: Path) -> Path:
    """`trivy` run in an empty network namespace, where `unshare -n` works; else `trivy` itself.

    A scan through it that succeeds needed no network.
    """
    if not NO_NETWORK:
        return trivy
    wrapper = directory / "trivy-no-network"
    wrapper.write_text(f'#!/bin/sh\nexec {shutil.which("unshare")} -n {trivy} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def archive_target(path: Path, kind: SourceKind = SourceKind.DOCKER_ARCHIVE) -> ImageTarget:
    """What `resolve_image` returns for `docker-archive:PATH`, built directly."""
    reference = f"{kind.value}:{path}"
    return ImageTarget(reference, kind, ImageInfo(reference=reference), name=str(path), archive_path=path)


def engine_target(reference: str, host: str) -> ImageTarget:
    """An image in the engine at `host`."""
    return ImageTarget(
        reference, SourceKind.ENGINE, ImageInfo(reference=reference), name=reference, docker_host=host
    )


def registry_target(reference: str) -> ImageTarget:
    """An image in the loopback (plain HTTP) registry."""
    return ImageTarget(
        reference, SourceKind.REGISTRY, ImageInfo(reference=reference), name=reference, insecure_registry=True
    )


def options(cache: Path | None, **changes: Any) -> ScanOptions:
    """Scan options for a test: offline, the given cache, the real clock, the process environment."""
    base = ScanOptions(
        env=dict(os.environ), now=dt.datetime.now(dt.UTC), cache_dir=cache, skip_db_update=True, timeout=120.0
    )
    return replace(base, **changes)


@contextlib.contextmanager
def trivy_server(trivy: Path, cache: Path, timeout: float = 30.0) -> Iterator[str]:
    """A real `trivy server` on 127.0.0.1:<free port> over `cache`; yields its URL, stops it by PID."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    argv = [str(trivy), "server", "--listen", f"127.0.0.1:{port}", "--cache-dir", str(cache)]
    argv += ["--skip-db-update", "--config", ""]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"trivy server exited {proc.returncode}: {proc.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{url}/healthz", timeout=1) as response,  # noqa: S310 - loopback
            ):
                if response.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("trivy server did not answer /healthz")
            time.sleep(0.05)
        yield url
    finally:
        stop(proc)


@dataclass(frozen=True)
class Run:
    """One `container-gate scan` run."""

    code: int
    stdout: str
    stderr: str
    json: dict[str, Any]
    out: Path


@pytest.fixture(scope="module")
def fresh_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Trivy cache whose DB was built an hour ago, one per test module."""
    return fresh_db(tmp_path_factory.mktemp("fresh-trivy-cache"))


@pytest.fixture
def scan(
    trivy_bin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """`run(image, *args)`: `container-gate scan` of `image` with the real Trivy, its JSON report and
    Markdown summary written to `tmp_path/out`; with `cache`, that cache and no DB update."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("TRIVY_BIN", raising=False)

    def run(image: str, *args: str, cache: Path | None = None, verbose: bool = False) -> Run:
        out = tmp_path / "out"
        argv = [
            "scan",
            image,
            "--ci",
            "none",
            "--json",
            str(out / "gate.json"),
            "--trivy-bin",
            str(trivy_bin),
        ]
        argv += ["--markdown", str(out / "summary.md")]
        if cache is not None:
            argv += ["--cache-dir", str(cache), "--skip-db-update"]
        code = main([*(["--verbose"] if verbose else []), *argv, *args])
        captured = capsys.readouterr()
        doc = json.loads((out / "gate.json").read_text())
        return Run(code, captured.out, captured.err, doc, out)

    return run
