"""The docs' examples run: docs/sandbox.md as a doctest, docs/testing-your-code.md under pytest."""

from __future__ import annotations

import doctest
import importlib
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MODULES = [
    "mandao.testing",
    "mandao.testing._urlcode",
    "mandao.testing._billing",
    "mandao.testing._checks",
    "mandao.testing._accounts",
    "mandao.testing._choices",
    "mandao.testing._services",
    "mandao.testing._ledger",
    "mandao.testing._sandbox",
    "mandao.testing._inbound",
    "mandao.testing._reports",
    "mandao.testing._push",
    "mandao.cli.sandbox",
]


def test_sandbox_md_doctest():
    """The >>> session in docs/sandbox.md runs as written."""
    result = doctest.testfile(
        str(DOCS / "sandbox.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert result.failed == 0
    assert result.attempted > 0


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name):
    """The docstring examples of the sandbox modules run as written."""
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0


def _plugin_installed() -> bool:
    return any(ep.name == "mandao" for ep in importlib.metadata.entry_points(group="pytest11"))


def test_testing_your_code_examples_pass_under_pytest(tmp_path):
    """Each '# <file>.py' block of docs/testing-your-code.md passes under pytest + plugin."""
    text = (DOCS / "testing-your-code.md").read_text(encoding="utf-8")
    files = 0
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        first = block.splitlines()[0]
        match = re.fullmatch(r"# ((?:test_\w+|conftest)\.py)", first)
        if not match:
            continue
        target = tmp_path / (
            "sub" if match.group(1) in ("conftest.py", "test_two_accounts.py") else ""
        )
        target.mkdir(exist_ok=True)
        (target / match.group(1)).write_text(block, encoding="utf-8")
        files += 1
    assert files >= 5
    # With mandao pip-installed the entry point loads the plugin; in a bare checkout, -p does.
    plugin = [] if _plugin_installed() else ["-p", "mandao.testing._pytest_plugin"]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--strict-markers",
            *plugin,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"\b10 passed\b", proc.stdout), proc.stdout


def test_every_host_state_the_inbox_shows_is_documented():
    """Each state the faults API answers (up; down; down with mode timeout: blackhole) is
    named in docs/sandbox.md's inbox section, with the switch that gives it."""
    import httpx

    from mandao.testing import SandboxGateway

    switches = [{"kind": "down"}, {"kind": "down", "mode": "timeout"}, {"kind": "up"}]
    with SandboxGateway(inbox=True) as gw:
        assert gw.inbox_url is not None
        states = [
            httpx.post(
                gw.inbox_url + "api/faults", json={"host": "backup", **s}, timeout=10
            ).json()["state"]
            for s in switches
        ]
    assert states == ["down", "blackhole", "up"]
    text = (DOCS / "sandbox.md").read_text(encoding="utf-8")
    inbox = text[text.index("## The inbox") : text.index("### The ledger file")]
    for state in states:
        assert f"`{state}`" in inbox, state
    assert '`"kind": "down", "mode": "timeout"`' in inbox
