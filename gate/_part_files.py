"""A file written whole or not at all: the temporary file it is written to first, beside it, and
the removal of those that killed runs left behind.

A writer creates `.NAME.<12 hex digits>.part` beside the file NAME with `open_part`, writes it, and
renames it over NAME (`os.replace`) while it still holds the file's lock; `remove_abandoned_parts`,
called before, removes the temporary files of NAME that no running process holds locked. The
kernel drops a process's locks however it ends (SIGKILL, a runner's timeout), so a lock that can be
taken means the run that wrote the file is gone. Used by the outputs (`gate/cli/outputs.py`) and by
`data fetch` (`gate/enrich/fetch.py`).
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
from pathlib import Path

PART_SUFFIX = re.compile(r"\.[0-9a-f]{12}\.part")
"""What follows `.NAME` in the name of a temporary file: 12 random hex digits, `.part`."""


def open_part(target: Path) -> tuple[Path, int]:
    """A new temporary file beside `target`, `.NAME.<12 hex digits>.part`, and its descriptor,
    locked for as long as it is open: the lock is how a later run tells the file of a run that
    is still writing from one a killed run left behind. The caller renames it over `target`
    before it closes the descriptor, and removes it when it does not."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    while True:
        part = target.with_name(f".{target.name}.{os.urandom(6).hex()}.part")
        handle = os.open(part, flags, 0o666)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:
            return part, handle  # a file system without locks: no run can lock it, nor remove it
        if same_file(handle, part):
            return part, handle
        # Another run took it for abandoned between its creation and the lock, and removed it.
        os.close(handle)


def remove_abandoned_parts(target: Path) -> None:
    """Remove the temporary files that runs killed while writing `target` left beside it (SIGKILL,
    a runner's timeout, a power cut), each under a name of its own; without this they pile up.
    Only regular files named as `open_part` names them, and only those no running process holds
    locked: never a file the gate did not write, nor the one another run is writing. Best effort:
    what cannot be removed stays, and the caller writes its file all the same."""
    prefix = f".{target.name}"
    try:
        with os.scandir(target.parent) as entries:
            found = [
                Path(entry.path)
                for entry in entries
                if entry.name.startswith(prefix) and PART_SUFFIX.fullmatch(entry.name[len(prefix) :])
            ]
    except OSError:
        return
    for part in found:
        try:
            # Not followed: a symbolic link named like a temporary file is not the gate's.
            handle = os.open(part, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(handle).st_mode):
                continue
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)  # refused: its run is still writing
            if same_file(handle, part):
                part.unlink()
        except OSError:
            continue
        finally:
            os.close(handle)


def same_file(handle: int, path: Path) -> bool:
    """Whether `path` still names the file open as `handle`."""
    try:
        found, held = os.lstat(path), os.fstat(handle)
    except OSError:
        return False
    return (found.st_dev, found.st_ino) == (held.st_dev, held.st_ino)
