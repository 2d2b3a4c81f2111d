"""Imports run one way along the pipeline, and no module imports itself back through others.

Every module of the `gate` package is parsed with `ast` (nothing is imported), and every import in
it is read: at the top, inside functions (imported late for speed) and under `TYPE_CHECKING`. Each
module belongs to one stage of the pipeline; a module may import its own stage and the stages
before it, never a later one. docs/architecture.md shows the same order.

The tests keep one rule of their own: a test module takes shared helpers from tests/support only,
never from another test module.
"""

from __future__ import annotations

import ast
import fnmatch
import itertools
import re
from collections.abc import Iterator

import pytest

from tests.support.gate_modules import MODULES, PACKAGE

STAGES: tuple[tuple[str, ...], ...] = (
    # The model everything shares, the error tree, and the rules for untrusted text.
    (
        "gate",
        "gate.model",
        "gate.errors",
        "gate.untrusted",
        "gate._collector",
        "gate._json_at",
        "gate._json_decode",
        "gate._json_strict",
        "gate._input_file",
        "gate._other_documents",
        "gate._part_files",
        "gate.build_args",
        "gate.pull_request",
        "gate.run_wording",
    ),
    ("gate.merge",),
    # Version ordering, and the readers of data that enriches a report (VEX, KEV, EPSS).
    ("gate.versions",),
    ("gate.enrich",),
    ("gate.image",),
    ("gate.scanners",),
    ("gate.policy",),
    ("gate.render",),
    ("gate.platforms",),
    ("gate.cli", "gate.__main__"),
)
"""The pipeline, first stage first: a module belongs to the stage naming it or a package above it."""


def stage_of(module: str) -> int:
    """The index in STAGES of the stage a module belongs to (by its longest matching name; the
    `gate` package itself names only its `__init__.py`)."""
    matches = [
        (len(name), index)
        for index, names in enumerate(STAGES)
        for name in names
        if module == name or (name != "gate" and module.startswith(name + "."))
    ]
    if not matches:
        raise LookupError(f"{module} belongs to no stage of STAGES: give it a place in the pipeline")
    return max(matches)[1]


def imports_in(source: str, module: str, *, package: bool = False) -> Iterator[tuple[int, str]]:
    """(line, imported module of the package) for every import statement of `source`, the text
    of `module` (`package`: an `__init__.py`, against which relative imports resolve)."""
    anchor = module if package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "gate" or alias.name.startswith("gate."):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = anchor.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            if base != "gate" and not base.startswith("gate."):
                continue
            for alias in node.names:
                # `from gate.scanners import trivy` imports the module gate.scanners.trivy.
                target = f"{base}.{alias.name}"
                yield node.lineno, target if target in MODULES else base


def imports(module: str) -> list[tuple[int, str]]:
    """`imports_in` of a module of the package."""
    path = MODULES[module]
    return list(imports_in(path.read_text(encoding="utf-8"), module, package=path.name == "__init__.py"))


GRAPH = {module: sorted({target for _line, target in imports(module)}) for module in MODULES}
"""Module -> the package's modules it imports."""


def backward(module: str, found: list[tuple[int, str]]) -> list[str]:
    """The imports of `module` that run back up the pipeline, as `line: imports X (stage ...)`."""
    here = stage_of(module)
    return [
        f"{line}: imports {target} (stage {STAGES[stage_of(target)][0]}, after {STAGES[here][0]})"
        for line, target in found
        if stage_of(target) > here
    ]


def cycles_in(graph: dict[str, list[str]]) -> list[str]:
    """Every import cycle a depth-first walk of `graph` meets, as `a -> b -> a`."""
    cycles: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in graph[module]:
            if target not in graph or target == module:
                continue
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return cycles


def test_the_package_is_found() -> None:
    assert {"gate.model", "gate.merge", "gate.policy.evaluate"} <= MODULES.keys()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_has_a_stage(module: str) -> None:
    assert 0 <= stage_of(module) < len(STAGES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_one_way_along_the_pipeline(module: str) -> None:
    assert backward(module, imports(module)) == [], MODULES[module]


def test_only_the_command_line_reads_arguments() -> None:
    """The argparse namespace never leaves gate/cli/: the stages get typed options."""
    readers = [
        module
        for module, path in MODULES.items()
        if stage_of(module) != len(STAGES) - 1
        and any(
            isinstance(node, ast.Import | ast.ImportFrom)
            and "argparse"
            in ([alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module])
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert readers == []


def test_no_import_cycles() -> None:
    assert cycles_in(GRAPH) == []


def test_a_backward_import_is_caught() -> None:
    source = "from gate.model import Finding\n\ndef f() -> None:\n    from gate.render import markdown\n"
    found = list(imports_in(source, "gate.policy.evaluate"))
    assert found == [(1, "gate.model"), (4, "gate.render.markdown")]
    assert backward("gate.policy.evaluate", found) == [
        "4: imports gate.render.markdown (stage gate.render, after gate.policy)"
    ]


def test_relative_imports_resolve_against_their_package() -> None:
    source = "from . import trivy\nfrom ..merge import dedupe\n"
    assert list(imports_in(source, "gate.scanners.grype")) == [(1, "gate.scanners.trivy"), (2, "gate.merge")]


def test_a_cycle_is_caught() -> None:
    graph = {"gate.a": ["gate.b"], "gate.b": ["gate.c", "gate.model"], "gate.c": ["gate.a"], "gate.model": []}
    assert cycles_in(graph) == ["gate.a -> gate.b -> gate.c -> gate.a"]


def test_a_module_without_a_stage_is_refused() -> None:
    with pytest.raises(LookupError, match="belongs to no stage"):
        stage_of("elsewhere.module")


TESTS = PACKAGE.parent / "tests"


def misplaced_imports(source: str) -> list[str]:
    """The imports of a test module that take something from tests/ but outside tests/support, or
    from a test module anywhere (`test_*`), with their line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            targets = ["." * node.level + (node.module or "")]
        elif isinstance(node, ast.ImportFrom) and node.module in ("tests", "tests.support"):
            targets = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = [node.module or ""]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            inside_tests = parts[0] in ("tests", "")
            if inside_tests and (
                parts[:2] != ["tests", "support"] or any(p.startswith("test_") for p in parts)
            ):
                found.append((node.lineno, target))
    return [f"{line}: {target}" for line, target in sorted(found)]


def test_test_modules_share_helpers_only_through_tests_support() -> None:
    # A test module another one imports is a library whose changes break tests elsewhere, and
    # whose module code runs wherever it is imported: shared helpers live in tests/support.
    found = {
        str(path.relative_to(TESTS.parent)): misplaced_imports(path.read_text(encoding="utf-8"))
        for path in sorted(TESTS.rglob("*.py"))
    }
    assert {path: imports for path, imports in found.items() if imports} == {}


def test_a_helper_taken_from_a_test_module_is_caught() -> None:
    source = (
        "from tests.support.corpus import corpus_file\n"
        "from tests.cli.test_scan import scan\n"
        "from tests.support import factories, test_sarif_tools\n"
        "def f() -> None:\n"
        "    from tests.enrich.data_server import Reply\n"
        "    from .test_main import run\n"
    )
    assert misplaced_imports(source) == [
        "2: tests.cli.test_scan",
        "3: tests.support.test_sarif_tools",
        "5: tests.enrich.data_server",
        "6: .test_main",
    ]


def package_map() -> dict[str, str]:
    """docs/architecture.md's package map: each package's lines, by its path (`gate`, `gate/image`)."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = doc.split("\n## The package map\n", 1)[1].split("```\n", 1)[1].split("```", 1)[0]
    sections: dict[str, str] = {"gate": ""}
    current = "gate"
    for line in block.splitlines()[1:]:
        top = line[:4] in ("├── ", "└── ")
        if top:
            name = line[4:].split()[0]
            current = f"gate/{name.rstrip('/')}" if name.endswith("/") else "gate"
        sections[current] = sections.get(current, "") + line + "\n"
    return sections


@pytest.mark.parametrize(
    "path",
    sorted(str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"),
)
def test_every_module_is_in_the_package_map_under_its_package(path: str) -> None:
    package, _, name = path.rpartition("/")
    listed = re.findall(r"[\w*]+\.py", package_map().get(package, ""))
    assert any(fnmatch.fnmatchcase(name, entry) for entry in listed), f"{path} is not in docs/architecture.md"


def test_the_package_maps_tree_is_drawn_right() -> None:
    # "└──" ends a directory's list: a sibling after it would draw as a child of another one.
    for package, lines in package_map().items():
        rows = lines.splitlines()
        for row, after in itertools.pairwise(rows):
            depth = row.find("└── ")
            if depth >= 0:
                assert after.find("├── ") != depth, (package, row, after)
                assert after.find("└── ") != depth, (package, row, after)


@pytest.mark.parametrize("package", sorted(package_map()))
def test_every_module_the_package_map_lists_exists(package: str) -> None:
    """A module renamed or removed leaves no line behind in docs/architecture.md."""
    present = [path.name for path in (PACKAGE.parent / package).glob("*.py")]
    listed = re.findall(r"[\w*]+\.py", package_map()[package])
    assert [entry for entry in listed if not fnmatch.filter(present, entry)] == [], package


def test_the_documented_import_order_is_the_tests() -> None:
    """docs/architecture.md's one line of stages names the modules of the core and then each
    later stage by the first name STAGES gives it, in STAGES' order."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("\n### The import order\n", 1)[1]
    line = section.split("```\n", 1)[1].split("```", 1)[0].strip()
    core, _, later = line.partition(") -> ")
    assert core.startswith("core (")
    assert [name.strip() for name in core.removeprefix("core (").split(",")] == [
        name.removeprefix("gate.") for name in STAGES[0][1:]
    ]
    assert later.split(" -> ") == [stage[0].removeprefix("gate.") for stage in STAGES[1:]]


def map_line(path: str) -> str:
    """The package map's line of one module (`gate/model.py`), with the lines that continue it."""
    package, _, name = path.rpartition("/")
    (line,) = [row for row in package_map()[package].splitlines() if f" {name} " in f"{row} "]
    return line


@pytest.mark.parametrize("path", ["gate/model.py", "gate/policy/actions.py"])
def test_every_type_the_stages_share_is_on_its_modules_line(path: str) -> None:
    """The model and the plan's types are what the stages hand each other: a type added to them
    (a Snyk finding's `DirectUpgrade`, an action's `PackageFix`) is named in the package map."""
    tree = ast.parse((PACKAGE.parent / path).read_text(encoding="utf-8"))
    types = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert types
    line = map_line(path)
    assert [name for name in types if not re.search(rf"\b{name}\b", line)] == [], path


def test_every_field_of_a_finding_is_in_the_data_between_the_stages() -> None:
    """docs/architecture.md's account of what a finding carries names each of `Finding`'s fields:
    one added to the model (`direct_upgrades`, `no_direct_upgrade`) is said there too."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("\n## The data between the stages\n", 1)[1].split("\n## ", 1)[0]
    (paragraph,) = [p for p in section.split("\n\n") if "A finding carries" in p]
    tree = ast.parse((PACKAGE / "model.py").read_text(encoding="utf-8"))
    (finding,) = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Finding"]
    fields = [
        node.target.id
        for node in finding.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    ]
    assert "direct_upgrades" in fields
    assert [name for name in fields if f"`{name}`" not in paragraph] == []


def test_the_plan_in_the_data_between_the_stages_names_what_an_action_fixes_besides_its_own() -> None:
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("\n## The data between the stages\n", 1)[1].split("\n## ", 1)[0]
    (paragraph,) = [p for p in section.split("\n\n") if p.startswith("The `Plan`")]
    for name in ("Action.fixes", "PackageFix", "direct_upgrades", "no_direct_upgrade"):
        assert f"`{name}`" in paragraph, name
