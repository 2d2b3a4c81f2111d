"""A private Docker engine and a loopback registry for tests and scripts.

Both run as child processes of the caller, in their own process group and their own temporary
directory, on a unix socket or 127.0.0.1 only, and are stopped by PID when the `with` block ends
(flags and timings: testbed/README.md). Nothing touches a system-wide daemon.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker


class EngineUnavailable(RuntimeError):
    """A binary is missing or the daemon did not come up; the message says what to install."""


@dataclass(frozen=True)
class Engine:
    """A running private dockerd."""

    client: docker.DockerClient
    """Docker SDK client connected to the private socket."""
    host: str
    """The engine address, `unix:///.../docker.sock` (for `--docker-host` and DOCKER_HOST)."""
    storage_driver: str
    """`overlay2`, or `vfs` where overlay mounts are not permitted."""
    root: Path
    """The engine's private directory (data, exec root, socket, log)."""


@dataclass(frozen=True)
class Registry:
    """A running docker-registry (distribution) on loopback."""

    address: str
    """`127.0.0.1:PORT`, usable as a reference prefix (`127.0.0.1:PORT/name:tag`)."""


def _unix_get(sock: Path, path: str, timeout: float) -> int:
    conn = http.client.HTTPConnection("localhost", timeout=timeout)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(sock))
        conn.sock = s
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM to the process we started, then SIGKILL to its process group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            # The group is the one start_new_session=True gave it: only its own children are in it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait_ready(proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EngineUnavailable(
                f"exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}"
            )
        with contextlib.suppress(OSError, http.client.HTTPException):
            if ready():
                return
        time.sleep(0.05)
    raise EngineUnavailable(f"not ready after {timeout:.0f} s: {log.read_text(errors='replace')[-2000:]}")


def _require(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise EngineUnavailable(f"`{binary}` not found: apt-get install {package}")
    return path


@contextlib.contextmanager
def _dockerd(root: Path, driver: str, timeout: float) -> Iterator[Engine]:
    sock = root / "docker.sock"
    log = root / f"dockerd-{driver}.log"
    argv = [
        _require("dockerd", "docker.io"),
        f"--data-root={root / 'data'}",
        f"--exec-root={root / 'exec'}",
        f"--pidfile={root / 'dockerd.pid'}",
        f"--host=unix://{sock}",
        f"--storage-driver={driver}",
        # Loopback only: no bridge, no iptables rules on the host.
        "--iptables=false",
        "--ip6tables=false",
        "--ip-masq=false",
        "--bridge=none",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(proc, lambda: _unix_get(sock, "/_ping", 1.0) == 200, timeout, log)
        client = docker.DockerClient(base_url=f"unix://{sock}", timeout=120)
        try:
            info = client.info()
            if info.get("Driver") != driver:
                raise EngineUnavailable(f"asked for {driver}, dockerd runs {info.get('Driver')}")
            yield Engine(client=client, host=f"unix://{sock}", storage_driver=driver, root=root)
        finally:
            client.close()
    finally:
        _stop(proc, grace=15)


def _overlay_works(root: Path) -> bool:
    """dockerd falls back silently or fails late when overlayfs cannot be mounted: try it first."""
    base = Path(tempfile.mkdtemp(prefix="ovl-", dir=root))
    dirs = [base / n for n in ("lower", "upper", "work", "merged")]
    for d in dirs:
        d.mkdir()
    opts = f"lowerdir={dirs[0]},upperdir={dirs[1]},workdir={dirs[2]}"
    mount = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", opts, str(dirs[3])], capture_output=True, check=False
    )
    if mount.returncode == 0:
        subprocess.run(["umount", str(dirs[3])], capture_output=True, check=False)
    shutil.rmtree(base, ignore_errors=True)
    return mount.returncode == 0


@contextlib.contextmanager
def private_engine(timeout: float = 60.0, driver: str | None = None) -> Iterator[Engine]:
    """Starts a private dockerd (overlay2, or vfs where overlay mounts fail), stops it afterwards."""
    # Short path: the unix socket path must stay under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="cg-engine-", dir="/tmp"))
    try:
        chosen = driver or ("overlay2" if _overlay_works(root) else "vfs")
        with _dockerd(root, chosen, timeout) as engine:
            yield engine
    finally:
        _remove_tree(root)


def _remove_tree(root: Path) -> None:
    # dockerd may leave mounts under its data root when it was killed: unmount before deleting.
    mounts = Path("/proc/self/mounts").read_text().splitlines() if Path("/proc/self/mounts").exists() else []
    for line in reversed(mounts):
        target = line.split()[1]
        if target.startswith(str(root)):
            subprocess.run(["umount", "-l", target], capture_output=True, check=False)
    shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def private_registry(timeout: float = 30.0) -> Iterator[Registry]:
    """Starts docker-registry on 127.0.0.1:<free port> with storage in a temporary directory."""
    binary = _require("docker-registry", "docker-registry")
    root = Path(tempfile.mkdtemp(prefix="cg-registry-"))
    try:
        port = _free_port()
        config = root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log: {level: warn}\n"
            f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: '127.0.0.1:{port}'}}\n"
        )
        log = root / "registry.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:

            def ready() -> bool:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
                try:
                    conn.request("GET", "/v2/")
                    return conn.getresponse().status == 200
                finally:
                    conn.close()

            _wait_ready(proc, ready, timeout, log)
            yield Registry(address=f"127.0.0.1:{port}")
        finally:
            _stop(proc, grace=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)
