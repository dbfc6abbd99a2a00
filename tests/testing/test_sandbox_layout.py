"""The sandbox's layout rules: small modules, no import cycles, one-way imports, a handler table."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from mandao.testing._handlers import HANDLERS
from mandao.testing._services import ACCOUNT_SERVICE, SEND_SERVICE

SRC = Path(__file__).resolve().parents[2] / "src"
TESTING = SRC / "mandao" / "testing"
OPERATIONS = {op.name for service in (SEND_SERVICE, ACCOUNT_SERVICE) for op in service.operations}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, at any level (module, function, TYPE_CHECKING)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target
            # ``from . import x`` may name a submodule.
            yield from (f"{target}.{alias.name}" for alias in node.names)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in TESTING.glob("*.py")}
    return {name: set(_imports(path)) & set(modules) - {name} for name, path in modules.items()}


def test_no_sandbox_module_is_over_400_lines():
    """Every module of mandao.testing stays under about 400 lines."""
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in TESTING.glob("*.py")}
    assert sizes
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_no_import_cycle_inside_the_sandbox():
    """The import graph of mandao.testing (imports at every level counted) has no cycle."""
    graph = _graph()
    assert "mandao.testing._handlers" in graph["mandao.testing._host"]
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        assert node not in path, " -> ".join([*path[path.index(node) :], node])
        if node in done:
            return
        for nxt in graph[node]:
            visit(nxt, [*path, node])
        done.add(node)

    for module in graph:
        visit(module, [])
    assert done == set(graph)


def test_imports_between_sandbox_and_main_package_go_one_way():
    """Only the command line imports mandao.testing; the sandbox never imports the CLI."""
    importers = {
        _module_name(p)
        for p in (SRC / "mandao").rglob("*.py")
        if TESTING not in p.parents
        and any(t == "mandao.testing" or t.startswith("mandao.testing.") for t in _imports(p))
    }
    assert all(name.startswith("mandao.cli") for name in importers), importers
    outward = {t for p in TESTING.glob("*.py") for t in _imports(p) if t.startswith("mandao")}
    assert outward
    assert not any(t.startswith("mandao.cli") for t in outward), outward


def test_every_operation_has_exactly_one_handler_row():
    """HANDLERS has one row per operation the two services offer, and no other."""
    assert set(HANDLERS) == OPERATIONS
    assert len(OPERATIONS) == 14


def test_no_branch_compares_against_operation_names():
    """No code in mandao.testing tests an operation name in a branch: the table decides."""
    found = []
    for path in TESTING.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare):
                continue
            for side in [node.left, *node.comparators]:
                values = side.elts if isinstance(side, ast.Tuple | ast.Set | ast.List) else [side]
                names = {v.value for v in values if isinstance(v, ast.Constant)} & OPERATIONS
                if names:
                    found.append(f"{path.name}:{node.lineno} {sorted(names)}")
    assert found == []
