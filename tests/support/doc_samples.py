"""The samples of output the docs show, and how a shown sample is compared with the real output.

Every ```text and ```json block of the docs, and every block that names no language, is preceded
(between it and the block before it) by an HTML comment that says what it is:

    <!-- output of:
    $ container-gate check tests/data/corpus/... --json gate.json
    exit: 1
    file: gate.json
    -->

is the real output of those commands, which tests/test_docs.py runs from a directory that sees the
repository's tests/, docs/ and policies/: each `$ container-gate ...` line by the gate's `main` in
the test's process, any other `$` line by bash. `write: NAME` first writes the page's closest
```yaml block above to NAME; `exit: N` (always given) is the last command's exit code; `file: NAME`
says the block shows that file (JSON) rather than what the last command printed (standard output,
then standard error).

A line `...` of a shown text stands for any lines, and `...` within a line for any text. In JSON,
a `"...": ...` member stands for the members not shown, a last item `"..."` for the items not
shown, and `...` within a string for any text; a block that is one member (`"baseline": {...}`)
is that member of the file.

The other markers: `<!-- output checked by tests/PATH.py ... -->` (a test that needs what a fast
test cannot have, such as the real Trivy or a registry, compares it), `<!-- output illustrative:
WHY -->` (the text beside it says so too), `<!-- not output: WHAT -->`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.support.repo_paths import PROJECT_ROOT

KINDS = ("output of", "output checked by", "output illustrative", "not output")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
MARKER = re.compile(
    r"<!-- (output of|output checked by|output illustrative|not output):?\s(.*?)-->", re.DOTALL
)


@dataclass(frozen=True)
class Sample:
    """A ```text, ```json or plain ``` block of a page, with what its marker says it is."""

    path: Path
    line: int
    language: str
    body: str
    kind: str
    """One of KINDS, or "" without a marker."""
    note: str
    """The marker's text after its kind."""
    yaml_above: str | None
    """The page's closest ```yaml block above, for `write:`."""

    @property
    def name(self) -> str:
        return f"{self.path.resolve().relative_to(PROJECT_ROOT).as_posix()}:{self.line}"

    def says(self, key: str) -> str | None:
        """The value of the marker's `key:` line (`exit`, `file`)."""
        found = re.search(rf"^{key}: (.*)$", self.note, flags=re.MULTILINE)
        return found[1].strip() if found else None

    @property
    def commands(self) -> list[str]:
        return [line[2:] for line in self.note.strip().splitlines() if line.startswith("$ ")]


def samples(path: Path) -> list[Sample]:
    """The page's ```text and ```json blocks, and those that name no language."""
    page = path.read_text(encoding="utf-8")
    found = []
    for fence in FENCE.finditer(page):
        if fence.group(1) not in ("text", "json", ""):
            continue
        above = page[: fence.start()]
        markers = MARKER.findall(above.rsplit("```", 1)[-1])
        kind, note = markers[-1] if markers else ("", "")
        yaml_blocks = [body for language, body in FENCE.findall(above) if language == "yaml"]
        found.append(
            Sample(
                path,
                page.count("\n", 0, fence.start()) + 1,
                fence.group(1),
                fence.group(2),
                kind,
                note,
                yaml_blocks[-1] if yaml_blocks else None,
            )
        )
    return found


def sample_after(path: Path, text: str) -> Sample:
    """The sample of the page that comes first after `text`."""
    page = path.read_text(encoding="utf-8")
    line = page.count("\n", 0, page.index(text)) + 1
    return next(sample for sample in samples(path) if sample.line > line)


def elided(line: str) -> re.Pattern[str]:
    """A shown line as a pattern: `...` stands for any text."""
    return re.compile(".*".join(re.escape(piece) for piece in line.split("...")), re.DOTALL)


def lines_match(shown: list[str], real: list[str]) -> bool:
    """Whether the shown lines are the real ones, a line `...` standing for any lines."""
    reachable = {0}  # how many real lines the shown ones so far can stand for
    for line in shown:
        if line == "...":
            reachable = set(range(min(reachable), len(real) + 1)) if reachable else set()
        else:
            pattern = elided(line)
            reachable = {j + 1 for j in reachable if j < len(real) and pattern.fullmatch(real[j])}
    return len(real) in reachable


def json_mismatches(shown: object, real: object, where: str = "") -> list[str]:
    """Where the shown JSON differs from the real one (`...` standing for what it is not shown)."""
    if isinstance(shown, str) and "..." in shown:
        if shown == "..." or (isinstance(real, str) and elided(shown).fullmatch(real)):
            return []
        return [f"{where}: {real!r}"]
    if isinstance(shown, dict) and isinstance(real, dict):
        keys = set(shown) - {"..."}
        if "..." not in shown and set(real) != keys:
            return [f"{where}: the members are {sorted(real)}"]
        if not keys <= set(real):
            return [f"{where}: no members {sorted(keys - set(real))}"]
        return [
            m
            for key in shown
            if key != "..."
            for m in json_mismatches(shown[key], real[key], f"{where}.{key}")
        ]
    if isinstance(shown, list) and isinstance(real, list):
        items = shown[:-1] if shown and shown[-1] == "..." else shown
        if len(items) > len(real) or (items is shown and len(shown) != len(real)):
            return [f"{where}: {len(real)} items"]
        return [m for i, item in enumerate(items) for m in json_mismatches(item, real[i], f"{where}[{i}]")]
    return [] if shown == real and type(shown) is type(real) else [f"{where}: {real!r}"]


def shown_json(sample: Sample) -> dict[str, object]:
    """A JSON sample as an object; a block that is one member stands for an object with others."""
    import json

    try:
        shown = json.loads(sample.body)
    except json.JSONDecodeError:
        return {**json.loads("{" + sample.body + "}"), "...": "..."}
    assert isinstance(shown, dict), sample.name
    return shown
