"""The package's structure, read from its source: no import cycle between tryon's modules; no module takes
another's private names; the jewelry geometry layer sits below the generators; reading the catalog loads
neither the generators nor the renderer.

An import is every `import tryon...` and `from tryon... import ...` anywhere in a module: at the top, under
`if TYPE_CHECKING:`, or inside a function (a lazy import still ties the two modules together).
`from tryon.a import b` is an import of the module `tryon.a.b` where that is a module, else of `tryon.a`.
Importing `tryon.a.b` also runs `tryon/a/__init__.py`; that edge is not drawn (a package's `__init__` that
re-exports its submodules is not a cycle).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "tryon"
# Cycles that files outside jewelry/ hold, kept here until they are broken (each as its set of modules).
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()
GENERATORS = ("earrings", "rings", "necklaces", "wrist", "design")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    names: tuple[str, ...]  # the names taken from it (`from target import ...`), () for `import target`
    line: int


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package under `root`, by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    """The package's modules that module `name` (its source at `path`) imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    yield Import(name, alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, up level - 1 more
                package = name.split(".") if is_package else name.split(".")[:-1]
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            if not (base == PACKAGE or base.startswith(PACKAGE + ".")):
                continue
            taken: dict[str, list[str]] = {}
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                target = sub if sub in known else base
                taken.setdefault(target, []).append(alias.name)
            for target, names in taken.items():
                yield Import(name, target, tuple(names), node.lineno)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the package's modules it imports (self-imports left out)."""
    known = modules(root)
    graph: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        for imp in imports_of(name, path, known):
            if imp.target != name:
                graph[name].add(imp.target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle (a -> ... -> a, as the list [a, ..., a]) through each group of modules that import
    one another in a circle (each strongly connected component of more than one module), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = []
    for group in groups:
        start = min(group)
        paths = {start: [start]}
        frontier = [start]
        cycle: list[str] | None = None
        while frontier and cycle is None:  # breadth first, within the group, back to the start
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & group):
                    if w == start:
                        cycle = paths[v] + [start]
                        break
                    if w not in paths:
                        paths[w] = paths[v] + [w]
                        nxt.append(w)
                if cycle is not None:
                    break
            frontier = nxt
        assert cycle is not None
        found.append(cycle)
    return sorted(found)


def test_no_import_cycle_between_modules() -> None:
    found = cycles(import_graph())
    new = [c for c in found if frozenset(c) not in KNOWN_CYCLES]
    assert not new, "import cycles:\n  " + "\n  ".join(" -> ".join(c) for c in new)
    gone = KNOWN_CYCLES - {frozenset(c) for c in found}
    assert not gone, f"known cycles that are broken now (take them out of KNOWN_CYCLES): {sorted(map(sorted, gone))}"


def test_the_cycle_finder_reports_the_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    pkg = tmp_path / PACKAGE / "sub"
    pkg.mkdir(parents=True)
    (tmp_path / PACKAGE / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from tryon.sub import b\n")
    (pkg / "b.py").write_text("from . import c\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tryon.sub.a import f\n")
    graph = import_graph(tmp_path)
    assert graph["tryon.sub.a"] == {"tryon.sub.b"} and graph["tryon.sub.b"] == {"tryon.sub.c"}
    assert cycles(graph) == [["tryon.sub.a", "tryon.sub.b", "tryon.sub.c", "tryon.sub.a"]]


def test_no_module_takes_another_modules_private_names() -> None:
    known = modules()
    taken = [f"{imp.source}:{imp.line} takes {taken} from {imp.target}"
             for module, path in known.items() for imp in imports_of(module, path, known)
             for taken in imp.names if taken.startswith("_") and not taken.startswith("__")]
    assert not taken, "\n".join(taken)


def test_the_geometry_layer_stands_on_materials_alone() -> None:
    graph = import_graph()
    allowed = {"tryon.errors", "tryon.jewelry.materials"}
    wrong = {m: sorted(t for t in targets if not (t in allowed or t.startswith("tryon.jewelry.geometry")))
             for m, targets in graph.items() if m.startswith("tryon.jewelry.geometry")}
    assert not any(wrong.values()), wrong
    assert "tryon.jewelry.geometry.raycast" in graph and "tryon.jewelry.geometry.sweeps" in graph


def test_generators_build_on_the_geometry_layer_and_materials() -> None:
    """earrings, rings, necklaces and wrist use no other generator; design composes their public builders."""
    graph = import_graph()
    below = {"tryon.errors", "tryon.jewelry.materials"}
    for kind in GENERATORS:
        name = f"tryon.jewelry.{kind}"
        others = {t for t in graph[name] if t not in below and not t.startswith("tryon.jewelry.geometry")}
        if kind == "design":
            assert others <= {f"tryon.jewelry.{g}" for g in GENERATORS} | {"tryon.jewelry.catalog"}, others
        else:
            assert not others, f"{name} imports {sorted(others)}"


def test_reading_the_catalog_loads_no_generator_and_no_renderer() -> None:
    code = ("import sys\nfrom tryon.jewelry.catalog import Catalog\nCatalog.load()\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('tryon'))))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            timeout=120).stdout.split()
    assert "tryon.jewelry.catalog" in loaded
    heavy = [m for m in loaded if m.startswith(("tryon.render", "tryon.studio.catalog_build", "tryon.jewelry.facts",
                                                "tryon.jewelry.pricing", "tryon.jewelry.geometry"))
             or m in {f"tryon.jewelry.{g}" for g in GENERATORS}]
    assert not heavy, heavy
    # Statically too: the reading module's only reach up is Catalog.model's (tryon.render.scene, when called).
    assert import_graph()["tryon.jewelry.catalog"] <= {"tryon.errors", "tryon.render.scene"}
