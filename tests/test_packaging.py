"""The built wheel ships the cached WSDLs and py.typed, and the package finds them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built without network (no build isolation)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("mandao-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_both_wsdls_and_py_typed(wheel: Path) -> None:
    """mandao/wsdl_cache/ holds both WSDLs byte for byte, and py.typed ships."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for name in ("send-8061.wsdl", "account-8060.wsdl", "README.md"):
            packed = archive.read(f"mandao/wsdl_cache/{name}")
            assert packed == (ROOT / "wsdl_cache" / name).read_bytes()
    assert "mandao/py.typed" in names
    assert "mandao/testing/__init__.py" in names
    assert {n.split("/")[3] for n in names if "testing/inbox/" in n} >= {"static", "templates"}
    assert any(n.endswith("entry_points.txt") for n in names)


@pytest.mark.slow
def test_installed_layout_reads_wsdls_from_inside_the_package(wheel: Path, tmp_path: Path) -> None:
    """Unpacked as an installation, mandao reads the WSDLs from mandao/wsdl_cache/."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path)
    code = (
        "import mandao._wsdl as w, mandao._transports.wsdl as t;"
        "print(w.wsdl_dir());"
        "print(sorted(t.operation_parameters(w.ACCOUNT)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
        timeout=60,
        cwd=tmp_path,
    )
    folder, ops = done.stdout.splitlines()
    assert Path(folder) == tmp_path / "mandao" / "wsdl_cache"
    assert ops == (
        "['GetBalance', 'GetCode', 'RECSMS_UTF8', 'Register', 'UDPPwd', 'UnRegister', "
        "'balance', 'mo', 'mo2', 'report', 'report2']"
    )
