"""`mandao send-file` run again on rows an earlier run sent: --no-resume, what the resume
says of the rows it skips, and the duplicate guard's refusal, by file and line."""

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


def test_a_suppressed_row_left_out_by_skip_does_not_take_the_guards_refusal(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """With the suppression list's default, skip, a suppressed number is left out, not the
    reason the send is refused: the guard's refusal names the duplicate rows only (it
    said the suppressed row was, and to pass --suppression skip, which was in effect)."""
    path = _campaign(tmp_path / "c.csv", 1)
    assert run(["send-file", str(path), "--yes", "--json"], env=env).exit_code == 0
    assert run(["suppress", "add", "13900139000"], env=env).exit_code == 0
    with path.open("a", encoding="utf-8") as more:
        more.write(f"13900139000,{NOTICE}\n")
    result = run(["send-file", str(path), "--yes", "--no-resume", "--json"], env=env)
    assert result.exit_code == 2, result.output
    error = as_json(result)["error"]
    assert error["message"].startswith(
        "c.csv: 1 row(s) whose number was sent the same text within 10 minutes: line 2 "
        "(138****8000); nothing sent"
    )
    assert "suppression" not in error["message"]


def test_no_resume_sends_a_campaign_again_on_purpose(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """A second run skips what the first got accepted and now says how to send it again:
    --no-resume, with --no-duplicate-guard since the rows went within the guard's 10
    minutes (--no-resume alone is the guard's refusal, by line); both send every row
    again. Before, nothing sent them again within the resume window (3 days), and
    --no-duplicate-guard did not change that."""
    path = _campaign(tmp_path / "c.csv", 3)
    assert run(["send-file", str(path), "--yes", "--json"], env=env).exit_code == 0
    note = (
        "3 row(s) already accepted by an earlier run within 3 days, skipped: --no-resume "
        "--no-duplicate-guard sends them again (they were sent within the duplicate guard's "
        "10 minutes)"
    )
    second = run(["send-file", str(path), "--yes"], env=env)
    assert second.exit_code == 0, second.output
    assert note in second.stderr.splitlines()
    assert second.stdout == f"nothing to send; {note}\n"
    guarded = run(["send-file", str(path), "--yes", "--no-resume", "--json"], env=env)
    assert guarded.exit_code == 2, guarded.output
    assert as_json(guarded)["error"]["message"].startswith("c.csv: 3 row(s) whose number was")
    assert len(gateway.ledger.messages) == 3
    again = run(["send-file", str(path), "--yes", "--no-resume", "--no-duplicate-guard"], env=env)
    assert again.exit_code == 0, again.output
    assert "--no-resume: rows sent by an earlier run are sent again" in again.stderr
    assert again.stdout.startswith("sent: 3 of 3 billable message(s)")
    data = as_json(run(["send-file", str(path), "--dry-run", "--no-resume", "--json",
                        "--no-duplicate-guard"], env=env))  # fmt: skip
    assert (data["resume"], data["already_accepted"], data["recipients"]) == (False, 0, 3)
    assert len(gateway.ledger.messages) == 6


def test_no_resume_sends_the_rows_of_unknown_outcome_without_asking(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """--no-resume reads no earlier outcome: rows of unknown outcome are neither listed
    nor asked about; they go with the rest."""
    path = _campaign(tmp_path / "c.csv", 2)
    gateway.primary.fail("drop-after", operation="mdsmssend", times=1)
    assert run(["send-file", str(path), "--yes", "--json"], env=env).exit_code != 0
    args = ["send-file", str(path), "--yes", "--no-resume", "--no-duplicate-guard", "--json"]
    data = as_json(run(args, env=env))
    assert (data["unknown"], data["unknown_action"], data["sent"]) == ([], None, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--resume-window", "0"],
            "Invalid value for --resume-window: expected a positive "
            "duration, got '0'; to skip nothing an earlier run sent, give --no-resume instead",
        ),
        (["--resume-window", "soon"], "Invalid value for --resume-window: expected seconds"),
        (
            ["--no-resume", "--resume-window", "12h"],
            "--no-resume and --resume-window "
            "disagree: with --no-resume no earlier run is read, so --resume-window has nothing "
            "to do; give one of them",
        ),
        (["--no-resume", "--skip-unknown"], "--no-resume and --skip-unknown disagree"),
        (["--no-resume", "--resend-unknown"], "--no-resume and --resend-unknown disagree"),
    ],
    ids=["zero", "not-a-duration", "window", "skip-unknown", "resend-unknown"],
)
def test_resume_flags_that_do_not_fit_are_usage_errors_naming_the_flag_once(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    """`--resume-window 0` names the flag once (it said `--resume-window: --resume-window:`)
    and points at --no-resume; --no-resume with a flag it makes pointless is refused."""
    path = _campaign(tmp_path / "c.csv", 1)
    result = run(["send-file", str(path), "--yes", *args, "--json"], env=env)
    assert result.exit_code == 2, result.output
    assert as_json(result)["error"]["message"].startswith(message)
    assert as_json(result)["error"]["message"].count("--resume-window:") <= 1
    assert gateway.ledger.messages == []


def test_an_interrupted_no_resume_run_says_to_resume_without_it(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same command again would send every row again: the hint says to run it without
    --no-resume, with a --resume-window that does not reach the run before."""
    from mandao.cli import send_file

    def cut(*_: object, **__: object) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(send_file, "_send", cut)
    args = ["send-file", str(_campaign(tmp_path / "c.csv", 2)), "--yes", "--json"]
    hint = as_json(run([*args, "--no-resume"], env=env))["error"]["hint"]
    assert hint.startswith(
        "to resume, run it again without --no-resume, with a --resume-window that reaches "
        "back to this run's start but not to the run before"
    )
    assert as_json(run(args, env=env))["error"]["hint"].startswith(
        "to resume, run the same command again: the rows the journal shows accepted"
    )


def test_the_note_of_accepted_rows_names_the_guard_only_for_the_rows_it_stops() -> None:
    """--no-duplicate-guard is named when the guard (refuse or skip, not warn or off) would
    stop some of the rows, with how many, or all of them."""
    from datetime import timedelta
    from types import SimpleNamespace

    from mandao import DuplicateGuard
    from mandao.cli._campaign import Row, accepted_note

    rows = [Row(2, "13800138000", NOTICE, "", ""), Row(3, "13900139000", NOTICE, "", "")]

    def note(action: str | None, recent: int) -> str:
        journal = SimpleNamespace(duplicates=lambda pairs, *_, **__: set(pairs[:recent]))
        guard = DuplicateGuard(action=action) if action else None  # type: ignore[arg-type]
        client = SimpleNamespace(journal=journal, duplicate_guard=guard, sn="SN")
        return accepted_note(client, rows, timedelta(hours=12))  # type: ignore[arg-type]

    head = "2 row(s) already accepted by an earlier run within 12 hours, skipped: --no-resume"
    assert note("refuse", 0) == f"{head} sends them again"
    assert note("skip", 1) == (
        f"{head} sends them again, with --no-duplicate-guard for the 1 sent within the "
        "duplicate guard's 10 minutes"
    )
    assert note("refuse", 2) == (
        f"{head} --no-duplicate-guard sends them again (they were sent within the duplicate "
        "guard's 10 minutes)"
    )
    assert note("warn", 2) == note(None, 2) == f"{head} sends them again"
