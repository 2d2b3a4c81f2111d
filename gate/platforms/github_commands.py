"""What a GitHub Actions step writes besides the API: workflow commands, step outputs, the job summary.

Sources: docs.github.com "Workflow commands for GitHub Actions" and the toolkit's
`@actions/core` (command.ts, file-command.ts), whose escaping the runner undoes:
- a command is one line `::name key=value,key=value::message`; in the message `%`, `\\r` and
  `\\n` are percent-encoded, in property values also `:` and `,`. With every line break encoded,
  untrusted text cannot start a line of its own, so it cannot issue a command (`::add-mask::`,
  `::stop-commands::`, `::set-env::` ...) or end ours early;
- `$GITHUB_OUTPUT` takes `name<<DELIMITER`, the value, `DELIMITER`: the delimiter is random and
  checked against the value, so a value cannot close it and set another output;
- `$GITHUB_STEP_SUMMARY` holds at most 1 MiB per step; above that GitHub drops the whole summary
  of the step ("Job summary ... upload aborted"), so what the gate appends must fit what is left;
- an annotation's title is at most 255 characters (the check-run annotation object of GitHub's REST
  API description), and the runner cuts its message at 4,096 (actions/runner, ExecutionContext
  `_maxIssueMessageLength`): the gate cuts both itself, with an ellipsis, as report text (a package
  name) can make them as long as it likes.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TextIO

from gate.errors import PlatformError
from gate.untrusted import shorten, terminal_safe

STEP_SUMMARY_LIMIT = 1024 * 1024
"""Bytes GitHub accepts in one step's summary file."""
MIN_SUMMARY = 1024
"""The smallest room in which a summary is still worth appending (the renderer's MIN_LIMIT)."""
ANNOTATION_TITLE_LIMIT = 255
"""Characters of an annotation's title GitHub takes."""
ANNOTATION_MESSAGE_LIMIT = 4096
"""Characters of an annotation's message the runner keeps."""


def escape_data(text: str) -> str:
    """A workflow command's message (toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (toolkit `escapeProperty`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
"""Where the runner ends a line of a step's output (.NET's `ReadLine`)."""


def workflow_inert(text: str) -> str:
    """Log text that the runner cannot read as a workflow command, for text that is not one of
    the gate's own commands (a path, a downloaded file's version) on GitHub Actions.

    The runner reads a line as a command when it starts with `::` once leading blanks are
    skipped, or when it holds `##[` anywhere (the older form); actions/runner ActionCommand.cs.
    In each line, the `:` or `#` that would make one is shown as its code (`\\x3a`, `\\x23`), as
    `terminal_safe` shows a control character.
    """
    parts = _LINE_BREAK.split(text)
    parts[::2] = [_inert_line(line) for line in parts[::2]]
    return "".join(parts)


def _inert_line(line: str) -> str:
    if "##[" in line:
        line = line.replace("##[", "#\\x23[")
    blanks = len(line) - len(line.lstrip())
    if line.startswith("::", blanks):
        line = f"{line[:blanks]}\\x3a{line[blanks + 1 :]}"
    return line


_BLANK, _COLON, _OTHER = 0, 1, 2
"""What the line written so far is, for `InertLog`: blanks only, blanks and one `:`, anything else."""


class InertLog:
    """Standard output or error on GitHub Actions, where no line the gate writes can start a
    workflow command but the gate's own (`write_own`): what is written passes through
    `workflow_inert`, line by line, with the line it continues in mind (`print` writes a line in
    pieces), so that `:` then `:warning::` or `#` then `#[` cannot make one either. Nothing is
    held back: each write and flush reaches the stream as before.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._start = _BLANK
        self._tail = ""
        """The last two characters of the line written so far."""
        self._lock = threading.Lock()  # progress lines come from the scanning threads

    def write(self, text: str) -> int:
        with self._lock:
            self.stream.write(self._inert(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def write_own(self, text: str) -> None:
        """The gate's own workflow commands, a stop-commands block or a document: as written."""
        with self._lock:
            self.stream.write(text)
            # Only the line left open matters: a document (`--json -`) is not split into lines.
            end = max(text.rfind("\n"), text.rfind("\r"))
            self._follow(text[end + 1 :], broke=end >= 0)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)

    def _inert(self, text: str) -> str:
        parts = _LINE_BREAK.split(text)
        first = parts[0]
        if self._start == _BLANK:
            first = _inert_line(first)
        else:
            if self._start == _COLON and first.startswith(":"):
                first = f"\\x3a{first[1:]}"
            if "##[" in first:
                first = first.replace("##[", "#\\x23[")
            if self._tail.endswith("##") and first.startswith("["):
                first = f"\\x5b{first[1:]}"
            elif self._tail.endswith("#") and first.startswith("#["):
                first = f"\\x23{first[1:]}"
        parts[0] = first
        parts[2::2] = [_inert_line(line) for line in parts[2::2]]
        self._follow(parts[-1], broke=len(parts) > 1)
        return "".join(parts)

    def _follow(self, last: str, *, broke: bool) -> None:
        """Keep what matters of the line a write leaves open: `last`, its text after its last line
        break, if it `broke` a line, else all of it."""
        if broke:
            self._start, self._tail = _BLANK, ""
        if self._start == _BLANK:
            rest = last.lstrip()
            self._start = _BLANK if not rest else _COLON if rest == ":" else _OTHER
        elif last:
            self._start = _OTHER
        self._tail = (self._tail + last)[-2:]


def write_own(stream: TextIO, text: str) -> None:
    """Write the gate's own workflow commands (or a stop-commands block, or a document) to
    `stream` as they are, past an `InertLog`."""
    if isinstance(stream, InertLog):
        stream.write_own(text)
    else:
        stream.write(text)


def workflow_command(name: str, message: str, **properties: str | int | None) -> str:
    """`::name k=v,...::message`, one line whatever the text holds.

    Each line of `message` passes through `terminal_safe` first (no escape sequences or bidi
    overrides in the log); the line breaks between them are encoded by `escape_data`. A `title`
    and the message are cut to what GitHub keeps of an annotation.
    """
    props = ",".join(
        f"{key}={escape_property(terminal_safe(str(value), ANNOTATION_TITLE_LIMIT if key == 'title' else None))}"
        for key, value in properties.items()
        if value is not None and value != ""
    )
    text = shorten("\n".join(terminal_safe(line) for line in message.split("\n")), ANNOTATION_MESSAGE_LIMIT)
    return f"::{name}{' ' + props if props else ''}::{escape_data(text)}"


def output_lines(outputs: Mapping[str, str], new_delimiter: Callable[[], str] | None = None) -> str:
    """Step outputs in the multi-line-safe form; names are the gate's own."""
    chunks = []
    for name, value in outputs.items():
        delimiter = (new_delimiter or _delimiter)()
        while delimiter in value or delimiter in name:  # cannot happen with a fresh UUID; never trust it
            delimiter = _delimiter()
        chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(chunks)


def _delimiter() -> str:
    return f"ghadelimiter_{uuid.uuid4()}"


def append_file(path: str, text: str, what: str) -> None:
    """Append to a file the runner gave us; a failure is a broken CI environment (exit 3)."""
    try:
        with Path(path).open("a", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise PlatformError(f"{path}: cannot write the {what}: {exc.strerror or exc}") from exc


def summary_room(path: str) -> int:
    """Bytes still free in this step's summary file."""
    try:
        used = Path(path).stat().st_size
    except FileNotFoundError:
        used = 0
    except OSError as exc:
        raise PlatformError(f"{path}: cannot read the job summary file: {exc.strerror or exc}") from exc
    return STEP_SUMMARY_LIMIT - used


def fit_bytes(render: Callable[[int], str], room: int) -> str | None:
    """`render(limit)`'s text within `room` bytes of UTF-8, or None when even a short one does not fit.

    The renderer counts characters and some of its own are several bytes (→, ✅, emoji): shrink
    the limit by the excess until the bytes fit; every character is at least one byte, so this
    ends in a few rounds.
    """
    limit = room
    for _ in range(10):
        if limit < MIN_SUMMARY:
            return None
        text = render(limit)
        size = len(text.encode("utf-8"))
        if size <= room:
            return text
        limit = min(limit, len(text)) - (size - room)
    return None
