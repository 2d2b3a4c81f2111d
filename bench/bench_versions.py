"""Time of `gate.versions.compare` on 100k version pairs per ecosystem.

    python bench/bench_versions.py [--pairs 100000] [--seed 1]

For each ecosystem, `--pairs` pairs of versions in that ecosystem's own syntax (epochs, `~rc`,
`+deb12u3`, `.el8`, `_rc1-r2`, `.post1`, `-alpha.1`, `+incompatible`, ...) are drawn from a seeded
generator, and every pair is compared twice:
- `cold`: with the parse cache emptied first, so nearly every version is parsed (the pairs are
  mostly distinct): the cost of a report whose versions are all different;
- `warm`: as many pairs drawn from a pool of 1,000 versions, the caches emptied first: the cost
  when versions repeat, as they do across the findings of one image (a few hundred packages, each
  with its installed version and a few fixes).
Nothing is asserted; the figures go into the commit that changes version ordering.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/bench_versions.py`
    sys.path.insert(0, str(ROOT))

from gate.versions import Ecosystem, compare, sort_key  # noqa: E402

Maker = Callable[[random.Random], str]


def _numbers(rng: random.Random, count: int = 3) -> str:
    return ".".join(str(rng.randint(0, 30)) for _ in range(count))


def _deb(rng: random.Random) -> str:
    epoch = rng.choice(("", "", "", "1:"))
    upstream = _numbers(rng) + rng.choice(("", "~rc1", "+dfsg"))
    revision = str(rng.randint(1, 9)) + rng.choice(("", f"+deb12u{rng.randint(1, 9)}", "ubuntu0.1"))
    return f"{epoch}{upstream}-{revision}"


def _rpm(rng: random.Random) -> str:
    epoch = rng.choice(("", "1:"))
    return f"{epoch}{_numbers(rng)}{rng.choice(('', '~rc1', '^git1'))}-{rng.randint(1, 30)}.el{rng.choice((7, 8, 9))}"


def _apk(rng: random.Random) -> str:
    return f"{_numbers(rng)}{rng.choice(('', '_rc1', '_p2', '_alpha'))}-r{rng.randint(0, 20)}"


def _pypi(rng: random.Random) -> str:
    return _numbers(rng) + rng.choice(("", "rc1", ".post1", ".dev0", "a2"))


def _semver(rng: random.Random) -> str:
    return _numbers(rng) + rng.choice(("", "-alpha.1", "-beta", "-rc.2"))


def _golang(rng: random.Random) -> str:
    return "v" + _numbers(rng) + rng.choice(("", "+incompatible", "-0.20200220183623-bac4c82f6975"))


def _maven(rng: random.Random) -> str:
    return _numbers(rng) + rng.choice(("", "-SNAPSHOT", ".RELEASE", "-alpha-1", ".Final"))


def _gem(rng: random.Random) -> str:
    return _numbers(rng, 4) + rng.choice(("", ".rc1", ".beta2"))


MAKERS: dict[Ecosystem, Maker] = {
    Ecosystem.DEB: _deb,
    Ecosystem.RPM: _rpm,
    Ecosystem.APK: _apk,
    Ecosystem.PYPI: _pypi,
    Ecosystem.NPM: _semver,
    Ecosystem.GOLANG: _golang,
    Ecosystem.MAVEN: _maven,
    Ecosystem.GEM: _gem,
}
"""A generator of realistic versions for each ecosystem measured."""


def pairs_for(ecosystem: Ecosystem, count: int, seed: int, pool: int | None = None) -> list[tuple[str, str]]:
    """`count` pairs of versions of `ecosystem`, the same for the same seed; with `pool`, both
    versions of each pair are drawn from that many distinct versions."""
    # Not for cryptography: a seeded generator makes the same pairs on every run.
    rng = random.Random(f"{seed}:{ecosystem.value}")  # noqa: S311
    make = MAKERS[ecosystem]
    if pool is None:
        return [(make(rng), make(rng)) for _ in range(count)]
    versions = [make(rng) for _ in range(pool)]
    return [(rng.choice(versions), rng.choice(versions)) for _ in range(count)]


def _clear_caches() -> None:
    sort_key.cache_clear()
    compare.cache_clear()


def _time(ecosystem: Ecosystem, pairs: list[tuple[str, str]]) -> float:
    start = time.perf_counter()
    for a, b in pairs:
        compare(ecosystem, a, b)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Prints one line per ecosystem: cold and warm seconds per `--pairs` comparisons."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"{'ecosystem':10} {'cold s':>8} {'warm s':>8} {'cold us/pair':>13}")
    total = 0.0
    for ecosystem in MAKERS:
        _clear_caches()
        cold = _time(ecosystem, pairs_for(ecosystem, args.pairs, args.seed))
        _clear_caches()
        warm = _time(ecosystem, pairs_for(ecosystem, args.pairs, args.seed, pool=1000))
        total += cold
        print(f"{ecosystem.value:10} {cold:8.2f} {warm:8.2f} {cold / args.pairs * 1e6:13.1f}")
    print(f"{'all':10} {total:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
