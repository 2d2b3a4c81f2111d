"""Progress on the terminal while `compare` or `scan` scans: which images are being scanned, and
for how long.

Only for a person watching: the caller shows it only when standard error is a terminal, so CI
logs and redirected output stay quiet. A status line is redrawn in place every second (which
images are running and their elapsed time, how many are done); each image that ends gets a
permanent line. Image names are report text: they go through `terminal_safe`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO

from gate.scanners.batch import Progress
from gate.untrusted import shorten, terminal_safe

_CLEAR = "\r\x1b[K"
"""Back to the start of the line and erase it (ANSI/VT100, understood by every terminal)."""
TICK = 1.0
"""Seconds between redraws of the status line."""


class TerminalProgress:
    """Shows a batch's progress on a terminal stream. Thread-safe: scans report from their threads."""

    def __init__(
        self,
        names: Sequence[str],
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        columns: Callable[[], int] | None = None,
        doing: str = "scanning",
    ) -> None:
        self.names = [terminal_safe(name) for name in names]
        self.short = [terminal_safe(name, 40) for name in names]
        self.stream = stream
        self.clock = clock
        self.columns = columns or (lambda: _columns(stream))
        self.doing = doing
        self.started: dict[int, float] = {}
        self.ended = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> TerminalProgress:
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._ticker.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self.stream.write(_CLEAR)
            self.stream.flush()

    def __call__(self, index: int, what: Progress) -> None:
        """The `scan_batch` callback."""
        with self._lock:
            now = self.clock()
            if what is Progress.STARTED:
                self.started[index] = now
            else:
                began = self.started.pop(index, now)
                self.ended += 1
                word = "scanned" if what is Progress.DONE else "failed "
                self.stream.write(f"{_CLEAR}{word} {self.names[index]} ({now - began:.1f} s)\n")
            self._draw(now)

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                self._draw(self.clock())

    def _draw(self, now: float) -> None:
        # The status line is redrawn in place: it must stay one line, so long names are cut.
        running = ", ".join(f"{self.short[i]} ({now - t:.0f} s)" for i, t in sorted(self.started.items()))
        if len(self.names) == 1:  # one image (`scan`): a count of one says nothing
            status = f"{self.doing} {running}" if running else ""
        else:
            status = f"[{self.ended}/{len(self.names)} done]" + (
                f" {self.doing} {running}" if running else ""
            )
        # A line as wide as the terminal wraps, and the clear only erases its last row: every
        # redraw would leave a row behind. Asked each time, as the window may be resized.
        self.stream.write(f"{_CLEAR}{shorten(status, max(self.columns() - 1, 20))}")
        self.stream.flush()


def _columns(stream: TextIO) -> int:
    """The width of the terminal `stream` writes to (standard output may be redirected)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # no file descriptor, or not a terminal
        columns = 0
    # A terminal that does not know its size says 0 (a pseudo-terminal nobody sized).
    return columns if columns > 0 else shutil.get_terminal_size().columns


@contextlib.contextmanager
def scanning(
    name: str,
    stream: TextIO,
    clock: Callable[[], float] = time.monotonic,
    *,
    doing: str = "scanning",
    said_when_done: bool = True,
) -> Iterator[None]:
    """The progress of one long step: "scanning NAME (12 s)" redrawn while it runs (`scan`, or
    `check` reading a large report with `doing="reading"`), then, when `said_when_done`, a line
    saying how long it took; a step that fails leaves the line to the error. The caller shows it
    only on a terminal, as for `compare`."""
    progress = TerminalProgress([name], stream, clock, doing=doing)
    with progress:
        progress(0, Progress.STARTED)
        yield
        if said_when_done:
            progress(0, Progress.DONE)
