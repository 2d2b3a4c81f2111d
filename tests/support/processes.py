"""Stopping the servers the tests start (docker-registry, `trivy server`)."""

from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Asks `proc` to end (SIGTERM), and kills it when it has not within `grace` seconds.

    A server that hangs on SIGTERM would otherwise keep its port and its files past the test."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)
