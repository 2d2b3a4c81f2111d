"""Reading a Dockerfile far enough to say which instruction made which layer of the image.

Follows the Dockerfile reference (https://docs.docker.com/reference/dockerfile/): parser directives
(`# escape=`), comments, line continuations (comment and empty lines inside one are skipped),
heredocs (`RUN <<EOF` ... `EOF`, BuildKit), multi-stage builds and ARGs declared before the first
FROM. Only what the final image is made of matters: the final stage, and the stages it is built
`FROM` in turn, down to an external image (or `scratch`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gate._input_file import shown_name
from gate.errors import UsageError
from gate.run_wording import COMMAND_LINE_WORDS, RunWording

KEYWORDS = frozenset(
    [
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    ]
)
_DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(\S.*?)\s*")
_KNOWN_DIRECTIVES = frozenset({"escape", "syntax", "check"})
# A heredoc marker starts a word (`$((1<<2))` and `<<<` here-strings are not heredocs).
_HEREDOC = re.compile(
    r"(?:^|(?<=\s))<<(?!<)(-?)\s*(?:\"([^\"\s]+)\"|'([^'\s]+)'|([A-Za-z0-9_][A-Za-z0-9_.-]*))"
)
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Instruction:
    """One instruction, its continuation lines joined."""

    line: int
    """1-based line of its first line."""
    keyword: str
    """The instruction in upper case (`RUN`)."""
    arguments: str
    """Everything after the keyword, continuations joined, heredoc bodies left out."""
    heredoc: bool = False
    """True when the instruction carries heredoc bodies."""
    end_line: int = 0
    """1-based line of its last line (continuations and heredoc bodies included)."""


@dataclass(frozen=True)
class Stage:
    """One `FROM` and the instructions under it."""

    from_line: int
    """1-based line of the FROM instruction."""
    image: str | None
    """The FROM image or stage name with ARGs expanded; None when an ARG has no value."""
    name: str | None
    """The `AS name`, lower-cased."""
    instructions: tuple[Instruction, ...]
    """The instructions after FROM, up to the next FROM."""


@dataclass(frozen=True)
class Build:
    """What the final image was built from: an external image plus a run of instructions."""

    from_line: int
    """The FROM line of the external image (the first stage of the chain)."""
    base: str | None
    """The external image's reference; None for `scratch` or when an ARG leaves it unknown."""
    scratch: bool
    """True when the chain starts `FROM scratch`: the image has no base layers."""
    steps: tuple[Instruction, ...]
    """Every instruction of the chain's stages, in build order."""


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile."""

    path: str
    """How messages name the file."""
    stages: tuple[Stage, ...]
    """The stages, in order."""

    def final_build(self) -> Build:
        """The final stage, preceded by the stages it is built FROM (`FROM builder`)."""
        chain = [len(self.stages) - 1]
        while True:
            stage = self.stages[chain[0]]
            earlier = [
                i for i in range(chain[0]) if stage.image and self.stages[i].name == stage.image.lower()
            ]
            if not earlier:
                break
            chain.insert(0, earlier[-1])
        root = self.stages[chain[0]]
        scratch = root.image == "scratch"
        return Build(
            from_line=root.from_line,
            base=None if scratch else root.image,
            scratch=scratch,
            steps=tuple(step for i in chain for step in self.stages[i].instructions),
        )


MAX_DOCKERFILE_BYTES = 4 * 2**20
"""The most a Dockerfile may hold (4 MiB): real ones are a few kilobytes, and a path such as
`/dev/zero` must not take the run's memory."""


def read_dockerfile(path: Path, wording: RunWording = COMMAND_LINE_WORDS) -> str:
    """The text of `--dockerfile PATH`; a UsageError (exit 2) names it, as the run's user gives it
    (`wording`), and says why it cannot be read."""
    name = wording.option("dockerfile", shown_name(path))
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_DOCKERFILE_BYTES + 1)
        if len(data) > MAX_DOCKERFILE_BYTES:
            raise UsageError(f"{name}: larger than {MAX_DOCKERFILE_BYTES >> 20} MiB; not a Dockerfile")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{name}: cannot read it ({exc})") from None


def _error(path: str, line: int, problem: str) -> UsageError:
    return UsageError(f"{path}:{line}: {problem}")


def _directives(lines: list[str], path: str) -> tuple[str, int]:
    """The escape character and the index of the first line after the parser directives."""
    escape, seen, i = "\\", set(), 0
    while i < len(lines):
        match = _DIRECTIVE.fullmatch(lines[i].strip())
        if not match or match[1].lower() not in _KNOWN_DIRECTIVES:
            break  # the first comment, blank line or instruction ends the directives
        key, value = match[1].lower(), match[2]
        if key in seen:
            raise _error(path, i + 1, f"parser directive {key} given twice")
        seen.add(key)
        if key == "escape":
            if value not in ("\\", "`"):
                raise _error(path, i + 1, f"escape must be \\ or `, not {value!r}")
            escape = value
        i += 1
    return escape, i


def _logical_lines(lines: list[str], start: int, escape: str, path: str) -> list[Instruction]:
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    out: list[Instruction] = []
    i = start
    while i < len(lines):
        text = lines[i].strip()
        if not text or text.startswith("#"):
            i += 1
            continue
        first = i
        parts = []
        line = lines[i]
        while True:
            joined, continued = continuation.subn("", line)
            parts.append(joined)
            i += 1
            if not continued:
                break
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1
            if i >= len(lines):
                break
            line = lines[i]
        words = "".join(parts).strip().split(maxsplit=1)
        if not words:
            continue  # only escape characters: a continuation that ends the file
        keyword, arguments = words[0].upper(), (words[1].strip() if len(words) > 1 else "")
        if keyword not in KEYWORDS:
            raise _error(path, first + 1, f"unknown instruction {keyword[:40]!r}")
        heredoc = False
        if keyword in ("RUN", "COPY", "ADD"):
            end = _heredoc_end(lines, i, arguments)
            heredoc, i = end is not None, end if end is not None else i
        out.append(Instruction(first + 1, keyword, arguments, heredoc, end_line=i))
    return out


def _heredoc_end(lines: list[str], i: int, arguments: str) -> int | None:
    """The index after the last heredoc body; None when the instruction has no (terminated) heredoc."""
    markers = list(_HEREDOC.finditer(arguments))
    if not markers:
        return None
    for match in markers:
        word = match[2] or match[3] or match[4]
        while i < len(lines) and (lines[i].lstrip("\t") if match[1] else lines[i]) != word:
            i += 1
        if i >= len(lines):
            return None  # not a heredoc after all (`<<` inside a quoted string): keep the lines
        i += 1
    return i


def expand(text: str, variables: Mapping[str, str]) -> str | None:
    """`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}` expanded; None when a variable is unset."""
    missing = False

    def one(match: re.Match[str]) -> str:
        nonlocal missing
        name = match[1] or match[4]
        value = variables.get(name)
        operator, word = match[2], match[3] or ""
        if operator in (":-", "-"):
            return value if value or (operator == "-" and value is not None) else word
        if operator in (":+", "+"):
            return word if value or (operator == "+" and value is not None) else ""
        if value is None:
            missing = True
            return ""
        return value

    result = _VARIABLE.sub(one, text)
    return None if missing else result


def _arg_values(arguments: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for word in re.findall(r"""(?:[^\s"']+|"[^"]*"|'[^']*')+""", arguments):
        name, eq, value = word.partition("=")
        out[name] = value.strip("\"'") if eq else None
    return out


def parse_dockerfile(text: str, path: str, build_args: Mapping[str, str] | None = None) -> Dockerfile:
    """Parses a Dockerfile; a UsageError names the file and line of what it cannot read."""
    # A byte order mark (editors on Windows write one) is no part of the first instruction: the
    # builders (BuildKit's parser, the legacy builder) drop it too.
    lines = text.removeprefix("\ufeff").splitlines()
    escape, start = _directives(lines, path)
    variables: dict[str, str] = {}
    stages: list[Stage] = []
    pending: list[Instruction] = []
    header: tuple[int, str | None, str | None] | None = None
    for step in _logical_lines(lines, start, escape, path):
        if step.keyword == "FROM":
            if header is not None:
                stages.append(Stage(*header, tuple(pending)))
            header, pending = _from(step, variables, path), []
        elif header is None:
            if step.keyword != "ARG":
                raise _error(
                    path, step.line, f"{step.keyword} before the first FROM (only ARG may come first)"
                )
            for name, default in _arg_values(step.arguments).items():
                value = (build_args or {}).get(name, default)
                if value is not None:
                    variables[name] = expand(value, variables) or ""
        else:
            pending.append(step)
    if header is None:
        raise UsageError(f"{path}: no FROM instruction: not a Dockerfile")
    stages.append(Stage(*header, tuple(pending)))
    return Dockerfile(path, tuple(stages))


def _from(step: Instruction, variables: Mapping[str, str], path: str) -> tuple[int, str | None, str | None]:
    words = [w for w in step.arguments.split() if not w.startswith("--")]
    if len(words) not in (1, 3) or (len(words) == 3 and words[1].upper() != "AS"):
        raise _error(
            path, step.line, f"expected FROM [--platform=...] IMAGE [AS NAME], got {step.arguments[:80]!r}"
        )
    return step.line, expand(words[0], variables), words[2].lower() if len(words) == 3 else None
