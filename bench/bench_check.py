"""Time and peak memory of `container-gate check` with every output, beside `trivy convert`.

    python bench/bench_check.py [--sizes 1k,10k,100k] [--shapes corpus,unique-ids,...]
                                [--shape-sizes 10k,100k] [--repeat 3] [--kinds trivy] [--keep DIR]

For each scanner, shape and size, a report of exactly that many findings is built from the real
corpus reports (`bench/scaling.py`, reshaped by `bench/shapes.py`) with a policy of 500 allowlist
entries (`bench/allowlist.py`), and

    container-gate check REPORT --policy POLICY --json out.json --sarif out.sarif
        --markdown out.md --gitlab out.gitlab.json --junit out.xml --ci none

runs `--repeat` times, each in a fresh process. For Trivy reports, when a `trivy` binary is found
(beside this interpreter, else on PATH), each gate run is paired with

    trivy convert --format sarif --output out.sarif --ignorefile .trivyignore.yaml --config '' REPORT

with the same 500 entries in Trivy's ignore-file format: the work Trivy itself does to filter a
report and write it out for code scanning. The two run A/B interleaved (gate then Trivy, then
Trivy then gate, ...), so a machine busy with other work slows both alike. Before the first timed
run, that command runs once under `unshare -n` (root only) to show it needs no network.

The shapes (bench/shapes.py): `corpus`, the corpus-scaled report; `unique-ids`, one id per
finding; `few-ids`, every finding sharing a few ids; `long-text`, 4,000-character descriptions of
their own; `non-ascii`, titles and descriptions in accented Latin and CJK letters. The corpus shape
runs at `--sizes`, the others at `--shape-sizes` (the sizes the targets are set at).

Reading the output, one line per scanner, shape and size:
- `gate s` / `trivy s`: median wall-clock time of the runs; `cpu s`: median user + system CPU
  time (Trivy's runtime uses several threads, so its CPU time can exceed its time);
- `peak MB`: the largest resident set size of any run, the process's own (from wait4);
- `allowlisted` / `ignored`: findings the gate allowlisted and Trivy left out of its SARIF;
- `gate/trivy`: the gate's time, CPU time and peak memory divided by Trivy's.
Then, per shape, the targets with MET or NOT MET (nothing is asserted):
- at 10k and 100k findings, the gate's wall time at most 1.0x `trivy convert`'s, its peak memory
  at most 0.6x;
- growth from 10k to 100k findings at most 11x (the gate's wall time);
- at 100k findings, the gate's peak memory under 1 GB (10^9 bytes) with all five outputs.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/bench_check.py`
    sys.path.insert(0, str(ROOT))

from bench.allowlist import allowlist, policy_yaml, trivyignore_yaml  # noqa: E402
from bench.scaling import INDENT, KINDS, scale_report  # noqa: E402
from bench.shapes import SHAPES  # noqa: E402

TARGET_TIME_RATIO = 1.0
"""The gate's wall time over `trivy convert`'s, at most (at 10k and 100k findings)."""
TARGET_MEMORY_RATIO = 0.6
"""The gate's peak memory over `trivy convert`'s, at most (at 10k and 100k findings)."""
TARGET_GROWTH = 11.0
"""The gate's wall time at 100k findings over its time at 10k, at most."""
TARGET_BYTES = 1_000_000_000
"""The gate's peak memory at 100k findings with every output, below."""
TARGET_SIZES = (10_000, 100_000)
"""Where the ratio targets are set."""
# `trivy convert` rejects --skip-version-check and --disable-telemetry as unknown flags: it has no
# version check or telemetry to skip, and opens no socket at all (checked with strace -f -e
# trace=socket,connect). `--config ''` keeps a trivy.yaml in the working directory out of it.
TRIVY_FLAGS = ("--config", "", "--quiet")


@dataclass(frozen=True)
class Run:
    """One measured process."""

    seconds: float
    """Wall-clock time from start to exit."""
    cpu_seconds: float
    """User and system CPU time."""
    peak_bytes: int
    """Its maximum resident set size."""
    exit_code: int
    """How it ended."""


@dataclass(frozen=True)
class Figures:
    """What a few runs of one command add up to."""

    seconds: float
    """Median wall-clock time."""
    cpu_seconds: float
    """Median CPU time (user and system): what a quiet machine's wall clock would show for a
    single-threaded program, when other work shares the CPUs."""
    peak_bytes: int
    """The largest peak RSS of any run."""

    @classmethod
    def of(cls, runs: Sequence[Run]) -> Figures:
        """The figures of `runs` (at least one)."""
        return cls(
            statistics.median(r.seconds for r in runs),
            statistics.median(r.cpu_seconds for r in runs),
            max(r.peak_bytes for r in runs),
        )


@dataclass(frozen=True)
class Row:
    """The figures of one scanner, shape and size."""

    kind: str
    """The scanner whose report it is."""
    shape: str
    """The report's shape (bench/shapes.py)."""
    size: int
    """Findings in the report."""
    gate: Figures
    """The gate's."""
    trivy: Figures | None
    """`trivy convert`'s, when it ran."""


# The measured command is started by a small launcher process, which reports the command's own
# figures from wait4. Started from this process instead, the command's peak RSS would include this
# process's own (Linux records the old address space's high-water mark when a vfork()ed child
# calls exec), and this process holds the large report it just wrote.
_LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    out.write(f"{seconds} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def measure(argv: Sequence[str], log: Path) -> Run:
    """Run a command in a fresh process and return its wall-clock time, CPU time and peak RSS."""
    figures = log.with_suffix(".figures")
    with log.open("wb") as out:
        subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(figures), *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
    seconds, cpu, max_kb, code = figures.read_text(encoding="utf-8").split()
    return Run(float(seconds), float(cpu), int(max_kb) * 1024, int(code))


def gate_command() -> list[str]:
    """The installed `container-gate` beside this interpreter, else the module through it."""
    script = Path(sys.executable).parent / "container-gate"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from gate.cli.main import run; run()"]


def compile_gate() -> None:
    """Byte-compile the gate's modules first, as installing its wheel does: with
    PYTHONDONTWRITEBYTECODE set (CI images and containers often set it) an editable install would
    otherwise compile every module again in every timed run."""
    import gate

    compileall.compile_dir(Path(gate.__file__).parent, quiet=1)


def find_trivy() -> Path | None:
    """The `trivy` beside this interpreter (the project venv), else on PATH."""
    beside = Path(sys.executable).parent / "trivy"
    if beside.is_file():
        return beside
    found = shutil.which("trivy")
    return Path(found) if found else None


def check_offline(argv: list[str], log: Path) -> str:
    """Run once in an empty network namespace, where any network access fails."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        return "not checked (unshare -n needs root and util-linux)"
    run = measure([unshare, "-n", *argv], log)
    return "ok, no network needed" if run.exit_code == 0 else f"FAILED (exit {run.exit_code}, see {log})"


def parse_size(text: str) -> int:
    """`1000`, `10k` or `1m`."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(text[:-1] if scale > 1 else text) * scale


def _mb(n: int | float) -> str:
    return f"{n / 1e6:,.0f}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def bench_size(kind: str, shape: str, size: int, repeat: int, work: Path, trivy: Path | None) -> Row:
    """Build one report and its policy, then time the gate (and Trivy) on it, A/B interleaved."""
    work.mkdir(parents=True, exist_ok=True)
    scaled = scale_report(kind, size, ROOT / "tests" / "data" / "corpus", shape)
    report, policy = work / f"{kind}-{shape}-{size}.json", work / "policy.yaml"
    with report.open("w", encoding="utf-8") as out:
        json.dump(scaled.document, out, indent=INDENT[kind], ensure_ascii=False)  # as the scanner writes it
    entries = allowlist(scaled)
    del scaled  # hundreds of MB this process need not hold while others are measured
    policy.write_text(policy_yaml(entries), encoding="utf-8")
    gate_argv = [*gate_command(), "check", str(report), "--policy", str(policy), "--ci", "none"]
    for flag, name in OUTPUTS:
        gate_argv += [flag, str(work / name)]
    trivy_argv: list[str] = []
    if trivy is not None and kind == "trivy":
        ignore = work / ".trivyignore.yaml"
        ignore.write_text(trivyignore_yaml(entries), encoding="utf-8")
        trivy_argv = [str(trivy), "convert", "--format", "sarif", "--output", str(work / "trivy.sarif")]
        trivy_argv += ["--ignorefile", str(ignore), "--cache-dir", str(work / "trivy-cache")]
        trivy_argv += [*TRIVY_FLAGS, str(report)]
    gate_runs: list[Run] = []
    trivy_runs: list[Run] = []

    def run_gate() -> None:
        gate_runs.append(measure(gate_argv, work / "gate.log"))
        if gate_runs[-1].exit_code not in (0, 1):
            sys.exit(f"container-gate exited {gate_runs[-1].exit_code}: see {work / 'gate.log'}")

    def run_trivy() -> None:
        trivy_runs.append(measure(trivy_argv, work / "trivy.log"))
        if trivy_runs[-1].exit_code != 0:
            sys.exit(f"trivy convert exited {trivy_runs[-1].exit_code}: see {work / 'trivy.log'}")

    for i in range(repeat):
        # A/B, then B/A: neither always runs first, on a cache warmed by the other.
        pair = (run_gate, run_trivy) if i % 2 == 0 else (run_trivy, run_gate)
        for step in pair:
            if step is run_gate or trivy_argv:
                step()
    row = Row(kind, shape, size, Figures.of(gate_runs), Figures.of(trivy_runs) if trivy_runs else None)
    _print_row(row, report.stat().st_size, work)
    report.unlink()  # the next report needs the disk space
    return row


OUTPUTS = (
    ("--json", "out.json"),
    ("--sarif", "out.sarif"),
    ("--markdown", "out.md"),
    ("--gitlab", "out.gitlab.json"),
    ("--junit", "out.xml"),
)
"""Every output the gate writes, the full set a CI job may ask for."""


HEADER = (
    f"{'kind':<6} {'shape':<10} {'findings':>9} {'report MB':>9} | {'gate s':>7} {'cpu s':>6} {'peak MB':>7} "
    f"{'allowlisted':>11} | {'trivy s':>7} {'cpu s':>6} {'peak MB':>7} {'ignored':>8} | "
    f"{'gate/trivy s':>12} {'cpu':>5} {'MB':>5}"
)


def _print_row(row: Row, report_bytes: int, work: Path) -> None:
    gate = row.gate
    counts = json.loads((work / "out.json").read_text(encoding="utf-8"))["counts"]
    line = (
        f"{row.kind:<6} {row.shape:<10} {row.size:>9,} {_mb(report_bytes):>9} | {gate.seconds:>7.2f} {gate.cpu_seconds:>6.2f} "
        f"{_mb(gate.peak_bytes):>7} {counts['allowlisted']:>11,} |"
    )
    trivy = row.trivy
    if trivy is not None:
        sarif = json.loads((work / "trivy.sarif").read_text(encoding="utf-8"))
        ignored = row.size - sum(len(run.get("results") or []) for run in sarif["runs"])
        line += (
            f" {trivy.seconds:>7.2f} {trivy.cpu_seconds:>6.2f} {_mb(trivy.peak_bytes):>7} {ignored:>8,} |"
            f" {_ratio(gate.seconds, trivy.seconds):>12} {_ratio(gate.cpu_seconds, trivy.cpu_seconds):>5}"
            f" {_ratio(gate.peak_bytes, trivy.peak_bytes):>5}"
        )
    print(line, flush=True)


def _verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def targets(rows: Sequence[Row]) -> list[tuple[str, bool]]:
    """The targets for the rows of one scanner and shape: each line, and whether it is met."""
    lines: list[tuple[str, bool]] = []
    by_size = {row.size: row for row in rows}
    for size in TARGET_SIZES:
        row = by_size.get(size)
        if row is None or row.trivy is None:
            continue
        time_ratio = row.gate.seconds / row.trivy.seconds
        memory_ratio = row.gate.peak_bytes / row.trivy.peak_bytes
        lines.append(
            (
                f"{size:,}: wall time {time_ratio:.2f}x trivy convert (target <= {TARGET_TIME_RATIO:.1f}x)",
                time_ratio <= TARGET_TIME_RATIO,
            )
        )
        lines.append(
            (
                f"{size:,}: peak memory {memory_ratio:.2f}x trivy convert (target <= {TARGET_MEMORY_RATIO:.1f}x)",
                memory_ratio <= TARGET_MEMORY_RATIO,
            )
        )
    small, large = by_size.get(TARGET_SIZES[0]), by_size.get(TARGET_SIZES[1])
    if small is not None and large is not None:
        growth = large.gate.seconds / small.gate.seconds
        lines.append(
            (
                f"growth {small.size:,} -> {large.size:,}: wall time x{growth:.1f} (target <= {TARGET_GROWTH:g}x)",
                growth <= TARGET_GROWTH,
            )
        )
    if large is not None:
        lines.append(
            (
                f"{large.size:,}: peak memory {_mb(large.gate.peak_bytes)} MB with all five outputs "
                f"(target < {_mb(TARGET_BYTES)} MB)",
                large.gate.peak_bytes < TARGET_BYTES,
            )
        )
    return lines


def _print_growth(rows: Sequence[Row]) -> list[tuple[str, bool]]:
    first = rows[0]
    for before, after in itertools.pairwise(rows):
        print(
            f"  {first.kind} {first.shape} {before.size:,} -> {after.size:,} findings (x{after.size / before.size:g}): "
            f"time x{after.gate.seconds / before.gate.seconds:.1f}, "
            f"cpu x{after.gate.cpu_seconds / before.gate.cpu_seconds:.1f}, "
            f"peak memory x{after.gate.peak_bytes / before.gate.peak_bytes:.1f}"
        )
    met = targets(rows)
    for line, ok in met:
        print(f"  {first.kind} {first.shape} {line}: {_verdict(ok)}")
    return met


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; prints, never asserts."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1k,10k,100k", help="findings per report (default: 1k,10k,100k)")
    parser.add_argument(
        "--shapes", default=",".join(SHAPES), help=f"report shapes (default: {','.join(SHAPES)})"
    )
    parser.add_argument(
        "--shape-sizes", default="10k,100k", help="findings per report of the shapes other than corpus"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median time is shown")
    parser.add_argument("--kinds", default="trivy", help="scanners: trivy, grype, snyk (default: trivy)")
    parser.add_argument("--keep", metavar="DIR", type=Path, help="write and keep the inputs and outputs here")
    parser.add_argument("--no-trivy", action="store_true", help="do not run trivy convert beside the gate")
    args = parser.parse_args(argv)
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    shape_sizes = sorted(parse_size(s) for s in args.shape_sizes.split(","))
    kinds = [k.strip() for k in args.kinds.split(",")]
    shapes = [s.strip() for s in args.shapes.split(",")]
    unknown = [k for k in kinds if k not in KINDS] + [s for s in shapes if s not in SHAPES]
    if unknown or args.repeat < 1:
        parser.error(f"unknown kinds or shapes {unknown}" if unknown else "--repeat must be at least 1")
    trivy = None if args.no_trivy else find_trivy()
    compile_gate()
    summary: list[tuple[str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="bench-check-") as scratch:
        work = args.keep or Path(scratch)
        print(f"gate: {' '.join(gate_command())}; trivy: {trivy or 'not found'}; {os.cpu_count()} CPUs")
        if trivy is not None and "trivy" in kinds:
            probe = bench_probe(trivy, work / "offline-check")
            print(f"trivy convert in an empty network namespace: {probe}")
        print(HEADER)
        for kind in kinds:
            for shape in shapes if kind == "trivy" else ["corpus"]:
                rows = [
                    bench_size(kind, shape, size, args.repeat, work / f"{kind}-{shape}-{size}", trivy)
                    for size in (sizes if shape == "corpus" else shape_sizes)
                ]
                summary += [(f"{kind} {shape} {line}", ok) for line, ok in _print_growth(rows)]
    if summary:
        failed = [line for line, ok in summary if not ok]
        print(
            f"targets: {len(summary) - len(failed)} of {len(summary)} MET" + (": NOT MET:" if failed else "")
        )
        for line in failed:
            print(f"  {line}")
    return 0


def bench_probe(trivy: Path, work: Path) -> str:
    """`trivy convert` with the benchmark's flags on a small scaled report, under `unshare -n`."""
    work.mkdir(parents=True, exist_ok=True)
    scaled = scale_report("trivy", 100, ROOT / "tests" / "data" / "corpus")
    report, ignore = work / "report.json", work / ".trivyignore.yaml"
    report.write_text(json.dumps(scaled.document), encoding="utf-8")
    ignore.write_text(trivyignore_yaml(allowlist(scaled)), encoding="utf-8")
    argv = [str(trivy), "convert", "--format", "sarif", "--output", str(work / "out.sarif")]
    argv += ["--ignorefile", str(ignore), "--cache-dir", str(work / "cache"), *TRIVY_FLAGS, str(report)]
    return check_offline(argv, work / "trivy.log")


if __name__ == "__main__":
    sys.exit(main())
