"""Pausing Python's cyclic garbage collector around work that allocates a great deal and no cycles.

Reading a report of 100k findings builds millions of containers (the decoded JSON, then the
findings), and so does deciding them. Every few hundred allocations the cyclic collector runs, and
every so often it walks the whole heap, which has grown since the last time: on such a report that
was over a third of the gate's time (bench/bench_check.py). None of this work creates reference
cycles, so reference counting frees all of it with the collector paused; it is resumed afterwards.
`main()` pauses it once around the whole command, so that the stages themselves (`evaluate` above
all, which is pure) leave the interpreter's state alone.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the `with` block (left as it was when it was already off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
