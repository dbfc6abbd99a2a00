"""`mandao send-file` resumed: what the interruption's hint and a dry run say of the rows
whose outcome the journal does not know."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandao.testing import SandboxGateway

from ._cli_helpers import as_json, run, sandbox_env

ROWS = [
    ("13800138000", "明早 9 点停水【示例】"),
    ("13900139000", "明早 9 点停水【示例】"),
    ("13700137000", "张三您好，您的快递已到【示例】"),
    ("13600136000", "李四您好，您的快递已到【示例】"),
]


@pytest.fixture
def env(gateway: SandboxGateway, tmp_path: Path) -> dict[str, str]:
    """The sandbox account, the CLI's default guard, the journal in a temporary folder."""
    return {
        **sandbox_env(gateway, duplicate_action=""),
        "MANDAO_JOURNAL": str(tmp_path / "journal.sqlite3"),
    }


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    path = tmp_path / "c.csv"
    path.write_text("\n".join(["mobile,content", *(",".join(r) for r in ROWS)]) + "\n")
    return path


def _interrupted(gateway: SandboxGateway, env: dict[str, str], path: Path) -> None:
    """The group send accepted, the personalised one's answer lost: 2 rows unknown."""
    gateway.primary.fail("drop-after", operation="mdgxsend", times=1)
    assert run(["send-file", str(path), "--yes", "--json"], env=env).exit_code == 14


def test_the_resume_hint_says_to_settle_the_unknown_first(
    env: dict[str, str], campaign: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while sending: the hint names --resend-unknown/--skip-unknown and, before
    them, `mandao reports` and `mandao journal pending --against`, which settle rows of
    unknown outcome from the gateway's evidence."""
    from mandao.cli import send_file

    def cut(*_: object, **__: object) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(send_file, "_send", cut)
    result = run(["send-file", str(campaign), "--yes", "--json"], env=env)
    assert result.exit_code == 130, result.output
    hint = as_json(result)["error"]["hint"]
    assert "(--resend-unknown or --skip-unknown); settle them first" in hint
    assert "`mandao reports` marks sent each one a delivery report names" in hint
    assert "`mandao journal pending --against FILE` settles them" in hint
    text = run(["send-file", str(campaign), "--yes"], env=env)
    assert "  → to resume, run the same command again" in text.stderr
    assert "`mandao reports`" in text.stderr
