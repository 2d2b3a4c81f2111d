"""Reading a policy file's YAML safely, keeping the line of every key and value.

Only the YAML composer runs on the text: it builds a node graph with positions and never
instantiates arbitrary objects. Values are then built here, node by node, so that the
things PyYAML would do silently become problems: a duplicate key (PyYAML keeps the last),
an alias bomb (a few lines that expand to billions of values), a tag that asks for a
Python type. Values come out JSON-shaped, ready for JSON Schema validation.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gate._json_strict import SURROGATE, surrogate_problem

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
KeyPath: TypeAlias = tuple[str | int, ...]

MAX_BYTES = 1024 * 1024
"""A policy is a few kilobytes; a megabyte leaves room for thousands of allowlist entries."""
MAX_NODES = 50_000
"""Values once aliases are expanded: room for 3,000 allowlist entries that set every field."""
MAX_DEPTH = 32
"""A policy nests four levels deep; PyYAML's composer recurses per level, so bound it well before Python does."""

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_TAG + name for name in ("null", "bool", "int", "float", "str", "timestamp"))
_MERGE_TAG = _TAG + "merge"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy file."""

    line: int
    """1-based line of the offending key or value."""
    path: KeyPath
    """Where in the document: `("allowlist", 2, "reason")`; empty for the document itself."""
    text: str
    """What is wrong, such as `expected a string, got 3`."""

    def render(self, source: str) -> str:
        """`FILE:LINE: key.path: text`, the key path left out for the document itself."""
        where = format_path(self.path)
        return (
            f"{source}:{self.line}: {where}: {self.text}" if where else f"{source}:{self.line}: {self.text}"
        )


@dataclass(frozen=True)
class Document:
    """A parsed YAML document with positions."""

    value: JSONValue
    """The document as JSON-shaped values; YAML dates are ISO `YYYY-MM-DD` text."""
    value_lines: Mapping[KeyPath, int] = field(default_factory=dict)
    """The line where the value at each path starts."""
    key_lines: Mapping[KeyPath, int] = field(default_factory=dict)
    """For a path ending in a mapping key, the line of that key."""
    problems: tuple[Problem, ...] = ()
    """Problems found while building the values (duplicate keys, tags); the value is still usable."""


class _Refused(Exception):
    """The text cannot be turned into values at all."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.text)
        self.problem = problem


def format_path(path: KeyPath) -> str:
    """`fail_on.budgets.HIGH`, `allowlist[2].reason`; a key that is not a plain word is quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def describe(value: JSONValue) -> str:
    """A value as messages show it: strings quoted and escaped (they are untrusted), others in YAML words."""
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    text = value if len(value) <= 60 else value[:57] + "..."
    return repr(text)


def decode(data: bytes) -> str | Problem:
    """The text of a policy file, which YAML requires to be Unicode; we accept UTF-8 only."""
    if len(data) > MAX_BYTES:
        return Problem(1, (), f"file too large (expected at most {MAX_BYTES} bytes, got {len(data)} or more)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        return Problem(line, (), f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})")


def parse(text: str) -> Document | Problem:
    """The document in `text`, or the one problem that stops it from being read."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_BYTES:
        return Problem(1, (), f"file too large (expected at most {MAX_BYTES} bytes, got {size})")
    if _fast_allowed(text):
        try:
            document = _document(text, _compose_fast)
        except Exception:  # any failure is the pure-Python composer's to word
            document = None
        if isinstance(document, Document):
            return document
    return _document(text, _compose)


def _document(text: str, compose: Callable[[str], Node | None]) -> Document | Problem:
    try:
        root = compose(text)
        if root is None:
            return Problem(1, (), "the file is empty (expected a policy starting with 'version: 1')")
        _check_expansion(root)
        document = _Builder().build(root)
    except _Refused as refused:
        return refused.problem
    return _foreign_indentation(document) or document


def _foreign_indentation(document: Document) -> Problem | None:
    """A key that starts with a space YAML does not indent with, such as the no-break spaces a
    policy copied from a web page or a chat brings. YAML reads it as part of a key at the level
    above (`fail_on:` then `\u00a0 severity: HIGH` is an empty `fail_on` and a key
    `\u00a0 severity`), and the problems that follow (an empty value, an unknown key with a
    suggestion for another key) point away from the one to fix. No key of a policy starts so."""
    for path, line in sorted(document.key_lines.items(), key=lambda item: item[1]):
        key = path[-1]
        said = _foreign_space(key) if isinstance(key, str) else None
        if said is not None:
            return Problem(line, (), said)
    return None


def _foreign_space(text: str) -> str | None:
    """What to say of `text` (a key, or a line less its indentation) when it starts with a space
    YAML does not indent with; None when it does not."""
    first = text[:1]
    if not first or first == " " or unicodedata.category(first) != "Zs":
        return None
    space = f"{unicodedata.name(first, 'space').lower()} (U+{ord(first):04X})"
    return f"invalid YAML: {space} before this key, which YAML does not take for indentation (indent with spaces only)"


def space_after_key(value: JSONValue) -> str | None:
    """What to say of a text read as one value, `severity:\u00a0HIGH`, whose key is followed by a
    space YAML does not take between a key and its value (a no-break space pasted from a web
    page): YAML reads the whole line as text, where the policy has a mapping. None for any other
    value. Only a value the policy refuses anyway is looked at, so no text a policy may hold
    (an allowlist entry's reason) is refused for it."""
    if not isinstance(value, str):
        return None
    key, colon, rest = value.partition(":")
    first = rest[:1]
    if not colon or not key or key != key.strip() or len(key.split()) != 1 or not first:
        return None
    if first == " " or unicodedata.category(first) != "Zs":
        return None
    space = f"{unicodedata.name(first, 'space').lower()} (U+{ord(first):04X})"
    return (
        f"invalid YAML: {space} after {describe(key + ':')}, which YAML does not take between a key and "
        "its value (separate them with a space)"
    )


def _line_space_after_key(line: str) -> str | None:
    """`space_after_key` of a line of the text, less its indentation and list dashes; None for a
    comment, where any space is harmless (`# severity:\u00a0HIGH`, a line commented out)."""
    text = line.lstrip(" ")
    while text.startswith("- "):
        text = text[2:].lstrip(" ")
    if text.startswith("#"):
        return None
    return space_after_key(text.rstrip("\n"))


_FAST_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)
"""libyaml's composer, when PyYAML was built with it: a policy of 500 allowlist entries composes
about ten times faster than in PyYAML's pure-Python scanner and parser."""

_FAST_UNSAFE = re.compile("[\t\r\x85\u2028\u2029\ufeff[\\]{}]|^%|(?:^|\\s)!", re.MULTILINE)
"""Where libyaml and PyYAML are known to read a text differently, or most likely to: tabs, line
breaks other than `\n`, a byte order mark, directives, tags (`!` alone reads as null in PyYAML, as "" in libyaml), and flow collections (libyaml reads
`[a? ]` as a list, PyYAML refuses it). Such a text is composed by PyYAML alone; a policy of
hundreds of entries is written in block style, as `yaml.safe_dump` writes it."""


def _fast_allowed(text: str) -> bool:
    """Whether libyaml may compose `text`. Not a text whose last line has no line break: the two
    place an empty value there on different lines (`? key` at the very end)."""
    return _FAST_LOADER is not None and text.endswith("\n") and _FAST_UNSAFE.search(text) is None


def _compose_fast(text: str) -> Node | None:
    """The nodes libyaml composes from `text`: the same nodes as `_compose`, with the same tags
    (both resolve with PyYAML's resolver) and start lines. Only a text that composes, passes
    `_check_expansion` and builds is read this way; anything else is read again by `_compose`,
    so that every refusal (and its line and wording) stays PyYAML's."""
    assert _FAST_LOADER is not None  # noqa: S101 (`_fast_allowed` said so)
    node: Node | None = yaml.compose(text, Loader=_FAST_LOADER)
    return node


def _compose(text: str) -> Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        column = f" (column {mark.column + 1})" if mark else ""
        # The context says what was being read ("expected a single document in the stream"),
        # the problem what was found instead; either may be missing.
        what = ", ".join(part for part in (err.context, err.problem) if part)
        lines = text.split("\n")
        if err.problem and "'\\t'" in err.problem:
            # PyYAML takes a tab neither for indentation nor between a key, its value and a comment.
            here = lines[line - 1] if mark and line <= len(lines) else ""
            at = mark.column if mark else 0
            if not here.strip():
                where = "on a blank line: remove it"
            elif not here[:at].strip(" "):
                where = "YAML indents with spaces only"
            elif not here[at:].strip():
                where = "at the end of the line: remove it"
            else:
                where = "separate values with spaces"
            what = f"found a tab character ({where})"
        foreign = _foreign_space(lines[line - 1].lstrip(" ")) if line <= len(lines) else None
        if foreign is not None:
            # A space YAML does not indent with broke the structure that this line was in.
            raise _Refused(Problem(line, (), foreign)) from err
        # A key and its value not separated by a space (`version:\u00a01`) make one text, which
        # breaks the structure on the line after it, or on its own line when the value is nested.
        before = [n for n in range(max(line - 1, 1), line + 1) if n <= len(lines) and lines[n - 1].strip()]
        for number in reversed(before):
            joined = _line_space_after_key(lines[number - 1])
            if joined is not None:
                raise _Refused(Problem(number, (), joined)) from err
        raise _Refused(Problem(line, (), f"invalid YAML: {what}{column}")) from err
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        found = f"invalid YAML: unacceptable character #x{err.character:04x} ({err.reason})"
        raise _Refused(Problem(line, (), found)) from err
    except RecursionError as err:
        raise _Refused(Problem(1, (), f"nested too deeply (expected at most {MAX_DEPTH} levels)")) from err


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _check_expansion(root: Node) -> None:
    """Refuses a graph that is cyclic, too deep or too big once aliases are expanded.

    Aliases make the graph a DAG whose expanded size can be exponential in the text; counting it
    with one memo entry per node (size, height) costs one visit per node instead.
    """
    memo: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def visit(node: Node, depth: int) -> tuple[int, int]:
        known = memo.get(id(node))
        if known is None:
            if id(node) in active:
                raise _Refused(Problem(_line(node), (), "recursive alias (a value that contains itself)"))
            if depth > MAX_DEPTH:
                raise _Refused(
                    Problem(_line(node), (), f"nested too deeply (expected at most {MAX_DEPTH} levels)")
                )
            active.add(id(node))
            size, height = 1, 1
            for child in _children(node):
                child_size, child_height = visit(child, depth + 1)
                size += child_size
                height = max(height, child_height + 1)
                if size > MAX_NODES:
                    raise _Refused(
                        Problem(
                            _line(node),
                            (),
                            f"too many values once aliases are expanded (expected at most {MAX_NODES}; "
                            "refusing a possible alias bomb)",
                        )
                    )
            active.discard(id(node))
            known = memo[id(node)] = (size, height)
        if depth + known[1] - 1 > MAX_DEPTH:
            raise _Refused(
                Problem(_line(node), (), f"nested too deeply (expected at most {MAX_DEPTH} levels)")
            )
        return known

    visit(root, 1)


class _Builder:
    """Builds JSON-shaped values from nodes, recording lines and the problems PyYAML would hide."""

    def __init__(self) -> None:
        self._constructor = SafeConstructor()
        self.value_lines: dict[KeyPath, int] = {}
        self.key_lines: dict[KeyPath, int] = {}
        self.problems: list[Problem] = []

    def build(self, root: Node) -> Document:
        value = self._value(root, ())
        return Document(value, self.value_lines, self.key_lines, tuple(self.problems))

    def _value(self, node: Node, path: KeyPath) -> JSONValue:
        self.value_lines[path] = _line(node)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        self._check_tag(node, path, _TAG + ("seq" if isinstance(node, SequenceNode) else "map"))
        if isinstance(node, SequenceNode):
            return [self._value(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)  # noqa: S101 (the composer builds only these three kinds)
        return self._mapping(node, path)

    def _check_tag(self, node: Node, path: KeyPath, expected: str) -> None:
        if node.tag != expected:
            self._bad_tag(node, path)

    def _bad_tag(self, node: Node, path: KeyPath) -> None:
        # Tags ask for types a policy never needs (`!!set`, `!!binary`, `!!python/...`).
        tag = str(node.tag).replace(_TAG, "!!", 1) if str(node.tag).startswith(_TAG) else str(node.tag)
        self.problems.append(Problem(_line(node), path, f"unsupported YAML tag {tag!r}"))

    def _scalar(self, node: ScalarNode, path: KeyPath) -> JSONValue:
        if node.tag not in _SCALAR_TAGS:
            self._bad_tag(node, path)
            return str(node.value)
        try:
            value = self._constructor.construct_object(node)
        except (ValueError, yaml.YAMLError):
            # An impossible date such as 2027-13-01 looks like a timestamp to the resolver but
            # cannot be built; keep the text so that validation names it.
            return str(node.value)
        if isinstance(value, dt.datetime) or (isinstance(value, float) and not math.isfinite(value)):
            # Neither a date with a time nor NaN/infinity has a JSON form; the text does, and
            # validation then says what was expected instead.
            return str(node.value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str) and (found := SURROGATE.search(value)):
            # Only a double-quoted `"\ud800"` escape writes one: no output (a file, the terminal) can carry it.
            self.problems.append(Problem(_line(node), path, surrogate_problem(found.group())))
            return SURROGATE.sub("\ufffd", value)
        assert value is None or isinstance(value, bool | int | float | str)  # noqa: S101 (resolver tags above)
        return value

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[str, JSONValue]:
        result: dict[str, JSONValue] = {}
        # YAML merge keys (`<<: *defaults`): explicit keys win over merged ones, and among
        # several merged mappings the first wins, so merged values are laid down first, last to first.
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for source in reversed(self._merge_sources(value_node, path)):
                    result.update(self._mapping(source, path))
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._scalar(key_node, path) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                shown = describe(key) if isinstance(key_node, ScalarNode) else "a list or mapping"
                self.problems.append(Problem(_line(key_node), path, f"expected a text key, got {shown}"))
                continue
            key_path = (*path, key)
            if key in first_seen:
                self.problems.append(
                    Problem(
                        _line(key_node), key_path, f"duplicate key (first defined on line {first_seen[key]})"
                    )
                )
                continue
            first_seen[key] = _line(key_node)
            self.key_lines[key_path] = _line(key_node)
            result[key] = self._value(value_node, key_path)
        return result

    def _merge_sources(self, node: Node, path: KeyPath) -> list[MappingNode]:
        if isinstance(node, MappingNode):
            return [node]
        if isinstance(node, SequenceNode) and all(isinstance(item, MappingNode) for item in node.value):
            return list(node.value)
        self.problems.append(Problem(_line(node), path, "'<<' expects a mapping or a list of mappings"))
        return []
