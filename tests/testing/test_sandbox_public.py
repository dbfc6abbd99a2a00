"""The public surface of mandao.testing, and the sandbox's independence from the client."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import mandao.testing

SRC = Path(__file__).resolve().parents[2] / "src"
EXPECTED = {
    "AccountState",
    "DEFAULT_BALANCE",
    "DEFAULT_PASSWORD",
    "DEFAULT_SERVICE_NUMBER",
    "DEFAULT_SN",
    "FAULT_KINDS",
    "REPORT_LAYOUTS",
    "STATUSES",
    "DeliveryReport",
    "Fault",
    "FaultEvent",
    "FaultKind",
    "Hold",
    *("InboxMessage", "InboxPage"),
    "InjectedReply",
    "Ledger",
    "LedgerEntry",
    "PushAttempt",
    "PushReceiver",
    "Rejection",
    "ReportLayout",
    "ReportSettings",
    "Rules",
    "SandboxAccount",
    "SandboxGateway",
    "SandboxHost",
    "md5_pwd",
    "segments",
}


def test_all_is_sorted_and_exact():
    """__all__ is sorted and nothing becomes public by accident."""
    names = mandao.testing.__all__
    # isort order, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[:1].isupper(), n))
    assert set(mandao.testing.__all__) == EXPECTED
    # ("@py_…" names are pytest's assertion rewriting, not ours.) Not even ``annotations``,
    # which ``from __future__ import annotations`` would leave in the namespace.
    public = {n for n in vars(mandao.testing) if not n.startswith(("_", "@"))}
    assert public == EXPECTED


def test_sandbox_never_loads_zeep():
    """Starting a sandbox loads no zeep: the server side is stdlib + lxml."""
    code = (
        "import sys\n"
        "from mandao.testing import SandboxGateway\n"
        "with SandboxGateway(accounts={'SDK-TST-010-00001': 's'}) as gw: pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'zeep', 'suds'}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_sandbox_source_imports_no_client_module():
    """Sandbox modules import no zeep, requests or client module (mandao._wsdl only)."""
    allowed_mandao = {"mandao._wsdl", "mandao.testing", "mandao"}
    files = [*(SRC / "mandao" / "testing").glob("*.py"), SRC / "mandao" / "cli" / "sandbox.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                assert node.module == "_wsdl", (path.name, node.module)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.startswith("mandao"):
                    assert node.module in allowed_mandao, (path.name, node.module)
                assert node.module.split(".")[0] not in ("zeep", "requests"), (
                    path.name,
                    node.module,
                )
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in ("zeep", "requests"), (
                        path.name,
                        alias.name,
                    )


def test_sandbox_modules_stay_small():
    """Each sandbox module stays under about 400 lines (house style)."""
    for path in (SRC / "mandao" / "testing").glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 420, path.name
