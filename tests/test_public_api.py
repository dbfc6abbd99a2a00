"""The public surface: sorted, deliberate, and light to import."""

from __future__ import annotations

import subprocess
import sys
import types

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


def test_nothing_becomes_public_by_accident() -> None:
    """Every public attribute of mandao is in __all__ or is one of its subpackages."""
    for name in mandao.__all__:  # names load on first use: load them all
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


def test_start_up_defines_no_dataclass() -> None:
    """Making a Client and parsing its WSDL define no dataclass (each costs about a
    millisecond at import, and start-up is a measured target): the classes on that path
    are NamedTuples."""
    code = (
        "import sys, mandao\n"
        "mandao.Client('SDK-TST-010-00001', 'secret').service.proxy\n"
        "print('dataclasses' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_package_ships_py_typed() -> None:
    """The package is marked as typed (PEP 561)."""
    from importlib.resources import files

    assert files("mandao").joinpath("py.typed").is_file()
