"""`mandao send-file` run again on rows an earlier run sent: the duplicate guard's refusal,
by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandao.testing import SandboxGateway

from . import test_cli_send_file
from ._cli_helpers import as_json, run

#: The fixture of send-file's own tests (the CLI's default guard), here too.
env = test_cli_send_file.env
NOTICE = test_cli_send_file.NOTICE


def _campaign(path: Path, count: int) -> Path:
    rows = [f"1380013{8000 + i},{NOTICE}" for i in range(count)]
    path.write_text("\n".join(["mobile,content", *rows]) + "\n", encoding="utf-8")
    return path


def test_the_guards_refusal_names_the_file_and_the_rows_by_line(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows the resume did not skip (here: it skipped none, as a resume window shorter
    than the guard's does) that the guard finds sent within its 10 minutes: the refusal
    names the file, not send's NUMBERS, and the rows by line (the first 5, and how many
    more; the JSON's `rows` has each), and the flags send-file takes; nothing is sent."""
    path = _campaign(tmp_path / "c.csv", 7)
    assert run(["send-file", str(path), "--yes", "--json"], env=env).exit_code == 0
    sent = len(gateway.ledger.messages)
    from mandao.cli import send_file

    monkeypatch.setattr(send_file, "journal_states", lambda *_: {})
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 2, result.output
    error = as_json(result)["error"]
    assert error["message"] == (
        "c.csv: 7 row(s) whose number was sent the same text within 10 minutes: line 2 "
        "(138****8000), line 3 (138****8001), line 4 (138****8002), line 5 (138****8003), "
        "line 6 (138****8004) and 2 more; nothing sent (--duplicate-action skip sends the "
        "others)"
    )
    assert (error["flag"], error["argument"]) == ("c.csv", "c.csv")
    assert "--no-duplicate-guard sends to all of them again" in error["hint"]
    assert [r["line"] for r in error["rows"]] == [2, 3, 4, 5, 6, 7, 8]
    assert "NUMBERS" not in result.output
    text = run(["send-file", str(path), "--yes"], env=env)
    assert text.exit_code == 2
    assert "error (invalid-input): c.csv: 7 row(s) whose number" in text.stderr
    assert len(gateway.ledger.messages) == sent
    # What the refusal says to pass, works.
    skip = run(["send-file", str(path), "--yes", "--duplicate-action", "skip", "--json"], env=env)
    assert (skip.exit_code, as_json(skip)["sent"]) == (0, 0), skip.output
    again = run(["send-file", str(path), "--yes", "--no-duplicate-guard", "--json"], env=env)
    assert (again.exit_code, as_json(again)["sent"]) == (0, 7), again.output
