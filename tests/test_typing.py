"""What a user's ``mypy --strict`` sees of the clients: results typed by ``dry_run``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

USER_CODE = """
import mandao


def sync_user(client: mandao.Client) -> None:
    reveal_type(client.send("13800138000", "x【示例】"))
    reveal_type(client.send("13800138000", "x【示例】", dry_run=True))


async def async_user() -> None:
    async with mandao.AsyncClient("SDK-TST-010-00001", "x") as client:
        reveal_type(await client.send("13800138000", "x【示例】"))
        reveal_type(await client.send("13800138000", "x【示例】", dry_run=True))
        reveal_type(await client.send_personalized({"13800138000": "x【示例】"}))
        reveal_type(await client.account())
        left: int = await client.balance()
        wrong: mandao.SendResult = await client.send("13800138000", "x", dry_run=True)
"""


@pytest.mark.slow
def test_user_code_type_checks_under_strict_mypy(tmp_path: Path) -> None:
    """Client and AsyncClient give mypy the same types; a dry run is not a SendResult."""
    (tmp_path / "user.py").write_text(USER_CODE)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "user.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    revealed = [line.split("Revealed type is ")[1] for line in done.stdout.splitlines()
                if "Revealed type is" in line]  # fmt: skip
    assert revealed == [
        '"mandao._results.SendResult"',
        '"mandao._results.DryRun"',
        '"mandao._results.SendResult"',
        '"mandao._results.DryRun"',
        '"mandao._results.SendResult"',
        '"mandao._results.AccountInfo"',
    ], done.stdout
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, done.stdout
    assert 'expression has type "DryRun", variable has type "SendResult"' in errors[0]
