"""libyaml's composer and PyYAML's give a policy the same document, or libyaml's is not used."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gate.policy import source
from gate.policy.source import Document, Problem, parse

_ROOT = Path(__file__).resolve().parents[2]
_FILES = sorted(
    path
    for folder in ("policies", "tests", "testbed", "templates")
    for pattern in ("*.yaml", "*.yml")
    for path in (_ROOT / folder).rglob(pattern)
)

_TEXTS = [
    "",
    "# only a comment\n",
    "version: 1\n",
    "version: 1\nversion: 2\n",
    "a: &x {b: 1}\nc: *x\nd:\n  <<: *x\n  b: 2\n",
    "a: &x [1, 2]\nb: [*x, *x]\n",
    "a: &x\n  - *x\n",
    "a: *undefined\n",
    "a: &x 1\nb: &x 2\n",
    "a: !!set {b}\nc: !!binary aGk=\nd: !!python/name:os.system ''\ne: !custom 1\n",
    "a: 2027-01-31\nb: 2027-13-01\nc: 2027-01-31 10:00:00\nd: .nan\ne: .inf\nf: 0x1F\ng: 1_000\n",
    "a: yes\nb: No\nc: ~\nd: null\ne: '1'\nf: \"\\u00e9\\x41\"\ng: 1.10\n",
    "a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n",
    "? [1, 2]\n: complex key\n",
    "1: integer key\n",
    "a: b: c\n",
    "a:\n- 1\n - 2\n",
    "a: 'unterminated\n",
    "--- 1\n--- 2\n",
    "a:\tb\n",
    "a: b\r\nc: d\r\n",
    "\ufeffa: b\n",
    "%YAML 1.1\n---\na: b\n",
    "a: caf\u00e9 \u4e2d\u6587 \U0001f600\n",
    "a: \x07\n",
    "a: \ud800\n",
    "a: [" * 40 + "]" * 40 + "\n",
    "a:\n" + "".join(" " * depth + "b:\n" for depth in range(1, 40)),
    "- " * 200 + "x\n",
    "a: &a [1, 1]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: &d [*c, *c]\ne: &e [*d, *d]\n"
    + "".join(f"f{i}: &f{i} [*e, *e, *e, *e]\n" for i in range(8)),
]


def _same(fast: Node, slow: Node) -> bool:
    """Equal kind, tag, value and start line, all the way down (the builder reads nothing else)."""
    if type(fast) is not type(slow) or fast.tag != slow.tag or fast.start_mark.line != slow.start_mark.line:
        return False
    if isinstance(slow, ScalarNode):
        return bool(fast.value == slow.value)
    if isinstance(slow, SequenceNode):
        return len(fast.value) == len(slow.value) and all(map(_same, fast.value, slow.value))
    assert isinstance(slow, MappingNode)
    return len(fast.value) == len(slow.value) and all(
        _same(fk, sk) and _same(fv, sv) for (fk, fv), (sk, sv) in zip(fast.value, slow.value, strict=True)
    )


def _check(text: str) -> Document | Problem | None:
    """Asserts that `parse` reads `text` as PyYAML alone would; the libyaml document, if used."""
    slow = source._document(text, source._compose)
    assert parse(text) == slow
    if not source._fast_allowed(text):
        return None
    try:
        fast = source._document(text, source._compose_fast)
    except Exception:  # any failure sends `parse` to PyYAML
        return None
    if isinstance(fast, Document):
        assert fast == slow
        fast_root, slow_root = source._compose_fast(text), source._compose(text)
        assert fast_root is not None
        assert slow_root is not None
        assert _same(fast_root, slow_root)
    return fast


def test_libyaml_is_there() -> None:
    # Without it every policy is composed by PyYAML, correctly but ten times slower.
    assert yaml.__with_libyaml__
    assert source._FAST_LOADER is not None


@pytest.mark.parametrize("path", _FILES, ids=lambda path: str(path.relative_to(_ROOT)))
def test_every_yaml_file_reads_the_same(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    _check(text)


def test_a_long_policy_takes_the_libyaml_path() -> None:
    # The policies whose reading takes time: hundreds of entries, block style as `safe_dump` writes.
    entries = [
        {"vulnerability": f"CVE-2024-{n}", "package": f"pkg:deb/debian/p{n}", "reason": f"r: {n}",
         "expires": "2030-12-31", "path": "usr/**/lib*"}
        for n in range(300)
    ]  # fmt: skip
    text = yaml.safe_dump({"version": 1, "fail_on": {"severity": "HIGH"}, "allowlist": entries})
    assert source._fast_allowed(text)
    assert isinstance(_check(text), Document)


@pytest.mark.parametrize("text", _TEXTS)
def test_hostile_and_unusual_texts_read_the_same(text: str) -> None:
    _check(text)


_PIECES = st.sampled_from(
    [
        "a", "b", "version", "allowlist", ":", ": ", " ", "  ", "\n", "\n  ", "- ", "-", "[", "]", "{",
        "}", ",", "&x ", "*x", "<<: ", "'", '"', "#", "!!str ", "!t ", "|\n", ">\n", "? ", "---\n",
        "...\n", "2027-01-31", "1.5", "~", "\\", "é", "\t", "\r\n", "%", "!", "&", "*", "@", "`",
        '"\\/', '"\\N', '"\\_', '"\\x41', '"\\u00e9', '"\\U0001f600', "\u00a0", "\u3000", "\u200b",
        "0o17", "+.inf", ".NaN", "0b101", "1:30", "=", "<<",
    ]
)  # fmt: skip


@settings(max_examples=1000)
@given(st.lists(_PIECES, max_size=30).map(lambda pieces: "".join(pieces) + "\n"))
def test_generated_texts_read_the_same(text: str) -> None:
    _check(text)


@given(st.text(max_size=80))
def test_any_text_reads_the_same(text: str) -> None:
    _check(text)
    _check(text + "\n")
