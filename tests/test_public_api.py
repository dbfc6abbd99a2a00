"""The public surface: sorted, deliberate, and light to import."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

import mandao
import mandao.testing


def _isort_order(names: list[str]) -> list[str]:
    """Constants, then classes, then functions, each alphabetical (ruff's RUF022 order)."""
    return sorted(names, key=lambda n: (not n.isupper(), not n[:1].isupper(), n))


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted, every name in it exists, and dir() and unknown names behave."""
    assert mandao.__all__ == _isort_order(mandao.__all__)
    assert set(mandao.__all__) <= set(dir(mandao))
    with pytest.raises(AttributeError, match="no attribute 'Clinet'"):
        mandao.Clinet  # type: ignore[attr-defined]  # noqa: B018
    assert all(hasattr(mandao, name) for name in mandao.__all__)


#: The public surface, spelled out: a name added to or dropped from mandao fails here first.
PUBLIC = {
    "CODES",
    "Decoded",
    "DeliveryClass",
    "DuplicateWarning",
    "Fetched",
    "OptOut",
    "Reply",
    "ReplyLimits",
    "ReplyPush",
    "Report",
    "ReportParser",
    "Resolution",
    "Skipped",
    "Suppression",
    "TolerantReportParser",
    "Unreadable",
    "DEFAULT_ACCOUNT_HOSTS",
    "DEFAULT_HOSTS",
    "OPERATIONS",
    "PROTOCOLS",
    "AccountInfo",
    "AllHostsFailed",
    "AsyncClient",
    "Attempt",
    "AuthenticationError",
    "Batch",
    "Category",
    "Client",
    "CodeInfo",
    "ConcurrentDuplicate",
    "ConcurrentHostUse",
    "ConfigError",
    "DeadlineExceeded",
    "DryRun",
    "DuplicateGuard",
    "DuplicateSubmission",
    "ErrorClass",
    "Estimate",
    "FailoverPolicy",
    "GatewayError",
    "GatewayInternalError",
    "GatewayUnreachable",
    "InsufficientBalance",
    "InvalidParameter",
    "InvalidRecipients",
    "Journal",
    "JournalError",
    "MandaoError",
    "Numbers",
    "Operation",
    "OutcomeUnknown",
    "PreparedRequest",
    "Problem",
    "ProtocolError",
    "PruneResult",
    "RateLimited",
    "Reconciliation",
    "RegistrationQuotaExceeded",
    "RegistrationResult",
    "RepeatedNumberWarning",
    "RetryRule",
    "SendResult",
    "SerialBusy",
    "Service",
    "ServiceExplorer",
    "Timeouts",
    "UnencodableWarning",
    "UnknownCode",
    "ValidationError",
    "Verification",
    "__version__",
    "estimate",
    "explain",
    "normalize_mobiles",
}


def test_public_names_are_exactly_the_expected_ones() -> None:
    """__all__ is the surface spelled out above, no name more and no name less."""
    assert set(mandao.__all__) == PUBLIC
    assert len(mandao.__all__) == len(PUBLIC)


def test_nothing_becomes_public_by_accident() -> None:
    """Every public attribute of mandao is in __all__ or is one of its subpackages."""
    for name in mandao.__all__:  # the I/O edge loads on first use: load it all
        getattr(mandao, name)
    public = {
        name
        for name, value in vars(mandao).items()
        if name.isidentifier()  # pytest's assertion rewriting adds '@py_builtins'
        and not name.startswith("_")
        and not isinstance(value, types.ModuleType)
    }
    assert public == set(mandao.__all__) - {"__version__"}
    modules = {
        n
        for n, v in vars(mandao).items()
        if isinstance(v, types.ModuleType) and n.isidentifier() and not n.startswith("_")
    }
    assert modules <= {"testing", "cli"}


def _edge_block() -> set[str]:
    """The names imported under ``if _typing.TYPE_CHECKING:`` in mandao/__init__.py."""
    tree = ast.parse(Path(mandao.__file__).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for item in node.body:
                assert isinstance(item, ast.ImportFrom)
                names |= {alias.asname or alias.name for alias in item.names}
    return names


def test_the_lazy_edge_is_one_list_that_agrees_with_the_type_checking_block() -> None:
    """The names loaded on first use are those type checkers import, each from its module."""
    edge: dict[str, str] = mandao._EDGE  # type: ignore[attr-defined]
    assert _edge_block() == set(edge)
    assert set(edge) <= set(mandao.__all__)
    for name, module in edge.items():
        assert getattr(importlib.import_module(module, "mandao"), name) is getattr(mandao, name)


def test_nothing_mutable_is_public() -> None:
    """No public value is a mutable container; OPERATIONS and CODES are read-only views."""
    for name in mandao.__all__:
        value = getattr(mandao, name)
        assert not isinstance(value, (dict, list, set, bytearray)), name
    assert isinstance(mandao.OPERATIONS, types.MappingProxyType)
    assert mandao.OPERATIONS["mdsmssend"].name == "mdsmssend"
    with pytest.raises(TypeError):
        mandao.OPERATIONS["mdsmssend"] = mandao.OPERATIONS["mdgxsend"]  # type: ignore[index]
    with pytest.raises(TypeError):
        mandao.CODES[-20] = mandao.CODES[-19]  # type: ignore[index]


def test_retry_is_a_deprecated_alias_of_retry_rule() -> None:
    """mandao.Retry still works for one release, with a DeprecationWarning naming RetryRule."""
    with pytest.warns(DeprecationWarning, match="RetryRule"):
        alias = mandao.Retry  # type: ignore[attr-defined]
    assert alias is mandao.RetryRule
    assert "Retry" not in mandao.__all__


#: Names in annotations that are not mandao's to export.
_FOREIGN = {
    "Any",
    "AsyncIterator",
    "T",
    "Callable",
    "ClassVar",
    "Generator",
    "Iterable",
    "Iterator",
    "Literal",
    "Mapping",
    "None",
    "Path",
    "Self",
    "Sequence",
    "datetime",
    "timedelta",
}


def _annotation_names(cls: type) -> dict[str, list[str]]:
    """Class names in the field types and method return types of ``cls``'s public API."""
    annotations: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("mandao"):
            for field, ann in vars(klass).get("__annotations__", {}).items():
                if not field.startswith("_"):
                    annotations[field] = ann
    for attr in dir(cls):
        static = inspect.getattr_static(cls, attr)
        func = static.fget if isinstance(static, property) else getattr(static, "__func__", static)
        if not attr.startswith("_") and "return" in getattr(func, "__annotations__", {}):
            annotations[f"{attr}()"] = func.__annotations__["return"]
    found: dict[str, list[str]] = {}
    for where, ann in annotations.items():
        text = getattr(ann, "__forward_arg__", ann)  # NamedTuple fields are ForwardRefs
        text = text if isinstance(text, str) else getattr(text, "__name__", str(text))
        module = vars(sys.modules[cls.__module__])
        for ident in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
            if ident in _FOREIGN or not ident[:1].isupper():
                continue
            value = module.get(ident, getattr(mandao, ident, None))
            if value is not None and typing.get_origin(value) is typing.Literal:
                continue  # a Literal alias such as BatchState: its values are plain strings
            found.setdefault(ident, []).append(f"{cls.__name__}.{where}")
    return found


def test_every_type_a_public_api_returns_is_exported() -> None:
    """Each class named by a public class's fields or return types is itself public."""
    seen: set[str] = set()
    pending = [n for n in mandao.__all__ if inspect.isclass(getattr(mandao, n))]
    missing: dict[str, list[str]] = {}
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for ident, where in _annotation_names(getattr(mandao, name)).items():
            if ident in mandao.__all__:
                pending.append(ident)
            else:
                missing.setdefault(ident, []).extend(where)
    assert not missing, missing


def test_testing_all_is_sorted() -> None:
    """mandao.testing has a sorted __all__ of names that exist."""
    assert mandao.testing.__all__ == _isort_order(mandao.testing.__all__)
    assert all(hasattr(mandao.testing, name) for name in mandao.testing.__all__)


def test_import_does_not_load_zeep_or_requests() -> None:
    """import mandao and Client(...) leave zeep and requests unimported until a request;
    numpy (the bulk extra) waits for a list of BULK numbers."""
    code = (
        "import sys, mandao\n"
        "mandao.Client('SDK-TST-010-00001', 'secret')\n"
        "mandao.normalize_mobiles(['13800138000', '13800138000', '139 0013 9000'] * 999)\n"
        "print(sorted(m for m in ('zeep', 'requests', 'lxml', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_leaves_the_io_edge_unloaded() -> None:
    """import mandao loads neither the client's driver nor the journal (nor sqlite3)."""
    code = (
        "import sys, mandao\n"
        "mods = ('zeep', 'requests', 'sqlite3', 'mandao._client', 'mandao._journal')\n"
        "print(sorted(m for m in mods if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_package_ships_py_typed() -> None:
    """The package is marked as typed (PEP 561)."""
    from importlib.resources import files

    assert files("mandao").joinpath("py.typed").is_file()
