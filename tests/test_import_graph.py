"""No import cycles among the product's modules (wizard/, its sub-packages, and steps/).

Every import counts: module-level, function-level and `if TYPE_CHECKING:` ones. A cycle hidden inside a
function or behind TYPE_CHECKING still ties two modules into one unit that neither can be read, tested or
changed without the other; the layering (errors, protocol, aws, steps, engine, render, cli) stays one-way.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("wizard", "steps")

Graph = Mapping[str, frozenset[str]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imports_of(name: str, path: Path, known: Iterable[str]) -> frozenset[str]:
    """The product modules `name` imports anywhere in its source. `from pkg import x` is an edge to the
    module pkg.x when there is one, else to pkg; a parent package a dotted import passes through is not an
    edge (every package would then be in a cycle with its own submodules)."""
    modules = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return frozenset(m for m in found if m in modules and m != name)


def import_graph() -> dict[str, frozenset[str]]:
    modules = product_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: Graph) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), each sorted, the list sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_graph_sees_every_kind_of_import() -> None:
    """The parser finds module-level, function-level, TYPE_CHECKING and relative imports, or the test below
    could pass by not looking."""
    graph = import_graph()
    assert "wizard.errors" in graph["wizard.protocol"]  # module level
    assert "wizard.credential_process" in graph["wizard.cli"]  # inside a function
    assert "wizard.aws" in graph["wizard.protocol"]  # under TYPE_CHECKING
    assert "wizard.protocol" in graph["steps"]  # a package's __init__
    assert {"wizard.sandbox", "steps.admin_user"} <= graph.keys()  # sub-packages and steps


def test_a_cycle_is_found_however_it_is_made() -> None:
    """A synthetic graph: a two-module cycle, a longer one, and a tree with no cycle."""
    graph = {
        "a": frozenset({"b"}), "b": frozenset({"a", "c"}), "c": frozenset(),
        "x": frozenset({"y"}), "y": frozenset({"z"}), "z": frozenset({"x"}),
        "p": frozenset({"q", "r"}), "q": frozenset({"r"}), "r": frozenset(),
    }
    assert cycles(graph) == [["a", "b"], ["x", "y", "z"]]
    assert cycles({k: v for k, v in graph.items() if k not in "abxyz"}) == []


def test_a_reintroduced_cycle_fails(tmp_path: Path) -> None:
    """The real graph plus one function-level import back from protocol to engine is a cycle."""
    source = tmp_path / "protocol.py"
    source.write_text("def later() -> None:\n    from wizard.engine import Engine\n")
    graph = import_graph()
    graph["wizard.protocol"] = graph["wizard.protocol"] | imports_of("wizard.protocol", source, graph)
    assert any({"wizard.engine", "wizard.protocol"} <= set(c) for c in cycles(graph))


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    if found:
        pytest.fail("import cycles among the product's modules:\n" + "\n".join(" <-> ".join(c) for c in found))
