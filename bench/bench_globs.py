"""Time of allowlist globs (`path`, `image`) on long paths and references from reports.

    python bench/bench_globs.py [--sizes 6k,64k,1m]

For each size, three paths of that many bytes that nearly match are tried against globs with
several `**` (the worst case of a backtracking matcher, which tries every way each `**` could
split the path: `a/**/b/**/c/**/d` against three 6 KB paths took 84 s with Python's `re`), and a
reference of that size against an image glob with several `*`. Printed: seconds per glob and
size; the growth from one size to the next should be close to the size ratio (linear). Nothing
is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/bench_globs.py`
    sys.path.insert(0, str(ROOT))

from gate.policy.match import image_glob, path_glob  # noqa: E402

PATH_GLOBS = ("a/**/b/**/c/**/d", "**/*/*/*/*/*/z", "a/**/b/**/c/**/d/**/e/**/f")
IMAGE_GLOBS = ("*a*a*a*a*a*b",)


def parse_size(text: str) -> int:
    units = {"k": 1024, "m": 1024 * 1024}
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def paths(size: int) -> list[str]:
    filler = "b/c/x/"
    return ["a/" + filler * (size // len(filler)) + tail for tail in ("b/c/e", "b/c/d/", "c/d")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="6k,64k,1m", help="path and reference sizes (default: 6k,64k,1m)")
    sizes = [parse_size(s) for s in parser.parse_args(argv).sizes.split(",")]
    print(f"{'glob':32} " + " ".join(f"{size:>12,} B" for size in sizes))
    for glob in PATH_GLOBS:
        compiled = path_glob(glob)
        cells = []
        for size in sizes:
            texts = paths(size)
            start = time.perf_counter()
            for text in texts:
                compiled.fullmatch(text)
            cells.append(f"{time.perf_counter() - start:>12.4f} s")
        print(f"path  {glob:26} " + " ".join(cells))
    for glob in IMAGE_GLOBS:
        compiled = image_glob(glob)
        cells = []
        for size in sizes:
            text = "a" * size
            start = time.perf_counter()
            compiled.fullmatch(text)
            cells.append(f"{time.perf_counter() - start:>12.4f} s")
        print(f"image {glob:26} " + " ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
