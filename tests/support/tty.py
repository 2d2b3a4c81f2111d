"""A pseudo-terminal of a given width, and a file as the process's standard input, for the tests of
what the command line prints and reads."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import struct
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def terminal(columns: int) -> Iterator[tuple[int, TextIO]]:
    """A pseudo-terminal `columns` wide: its controlling side, and a text stream writing to it."""
    controller, device = os.openpty()
    fcntl.ioctl(device, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    stream = os.fdopen(device, "w", encoding="utf-8")
    try:
        yield controller, stream
    finally:
        stream.close()
        os.close(controller)


def shown(controller: int) -> list[str]:
    """What the terminal received so far, as lines."""
    data = b""
    while select.select([controller], [], [], 0.5)[0]:
        chunk = os.read(controller, 65536)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8").replace("\r\n", "\n").splitlines()


@contextlib.contextmanager
def standard_input(path: Path) -> Iterator[None]:
    """The process's standard input (file descriptor 0, what `/dev/stdin` opens) reads `path`."""
    saved = os.dup(0)
    try:
        with path.open("rb") as handle:
            os.dup2(handle.fileno(), 0)
        yield
    finally:
        os.dup2(saved, 0)
        os.close(saved)
