"""The layout's rules: no import cycles in src/mandao, and a core that does no I/O.

Every import counts: at module level, inside functions, and under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import mandao

SRC = Path(mandao.__file__).parent

#: What the sans-IO core may not import, directly or through mandao's own modules.
IO_MODULES = {"socket", "threading", "asyncio", "time", "sqlite3", "requests", "zeep", "httpx"}


def _modules(root: Path) -> dict[str, Path]:
    """Each module of the package at ``root``, by dotted name."""
    found = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _typing_only(tree: ast.Module) -> set[int]:
    """The ids of the import nodes under ``if TYPE_CHECKING:``."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return ids


def _imports(name: str, path: Path, known: set[str], *, typing: bool = True) -> Iterator[str]:
    """Every module ``name`` imports anywhere in its body (absolute dotted names).

    A package named only to import submodules from it (``from . import http``) is not
    counted: importing a submodule runs its package's ``__init__`` in any case.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set() if typing else _typing_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            yield from submodules
            if len(submodules) < len(node.names):
                yield target


def graph(root: Path, *, typing: bool = True) -> dict[str, set[str]]:
    """The import graph among the package's own modules, plus each module's outside imports.

    ``typing=False`` leaves out the imports under ``if TYPE_CHECKING:``, which never run.
    """
    modules = _modules(root)
    known = set(modules)
    return {name: set(_imports(name, path, known, typing=typing)) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges[node]:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    """A fixture package whose cycle runs through a function and a TYPE_CHECKING import."""
    package = tmp_path / "fixturepkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from . import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n"
    )
    (package / "c.py").write_text("from fixturepkg import a\n")
    assert cycles(graph(package)) == [["fixturepkg.a", "fixturepkg.b"]]


def test_mandao_has_no_import_cycle() -> None:
    """No two modules of src/mandao import each other, however indirectly."""
    assert cycles(graph(SRC)) == []


def test_the_core_does_no_io() -> None:
    """mandao._core imports no socket, thread, clock, database or HTTP module, even indirectly
    (through the mandao modules it runs; its TYPE_CHECKING imports never run)."""
    edges = graph(SRC, typing=False)
    reached: dict[str, str] = {}  # module -> the core module that reaches it
    todo = [(name, name) for name in edges if name.startswith("mandao._core")]
    while todo:
        name, origin = todo.pop()
        for target in edges.get(name, ()):
            if target in edges and target not in reached:
                reached[target] = origin
                todo.append((target, origin))
    offenders = sorted(
        (module, target)
        for module in [*reached, *(n for n in edges if n.startswith("mandao._core"))]
        for target in edges[module]
        if target.split(".")[0] in IO_MODULES
    )
    assert offenders == []


@pytest.mark.parametrize("name", sorted(_modules(SRC)))
def test_no_module_is_over_about_400_lines(name: str) -> None:
    """Each module keeps to one job: at most 420 lines."""
    lines = _modules(SRC)[name].read_text(encoding="utf-8").count("\n")
    assert lines <= 420, f"{name} has {lines} lines"
