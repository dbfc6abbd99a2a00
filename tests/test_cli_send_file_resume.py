"""`mandao send-file` resumed: what the interruption's hint and a dry run say of the rows
whose outcome the journal does not know."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandao.testing import SandboxGateway

from . import test_cli_send_file
from ._cli_helpers import as_json, run

#: The rows and the fixture of send-file's own tests, here too.
ROWS, env = test_cli_send_file.ROWS, test_cli_send_file.env


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    """ROWS with no ext, and two rows of ext 7: a group the interrupted run never reaches."""
    rows = [",".join((*r, "")) for r in ROWS]
    rows += ["13300133000,王五您好【示例】,7", "13200132000,赵六您好【示例】,7"]
    path = tmp_path / "c.csv"
    path.write_text("\n".join(["mobile,content,ext", *rows]) + "\n", encoding="utf-8")
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


def test_a_dry_run_says_what_a_real_run_does_with_the_unknown_rows(
    gateway: SandboxGateway, env: dict[str, str], campaign: Path
) -> None:
    """Neither flag: the dry run's plan leaves the 2 unknown rows out and says so, and
    that a real run asks about them (refuses with no one to ask, or with --json); the
    flags put them in the plan or leave them out, and the dry run says which."""
    _interrupted(gateway, env, campaign)
    sent = len(gateway.ledger.messages)  # the dropped request went through: 4
    dry = run(["send-file", str(campaign), "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert (
        "dry run: the 2 row(s) of unknown outcome are left out of this plan; a real run "
        "lists them and asks whether to send them again"
    ) in dry.stderr
    assert dry.stdout.splitlines()[0] == (
        "dry run: 2 recipient(s) in 1 group(s), 2 billable message(s); nothing sent; "
        "2 row(s) of unknown outcome left out"
    )
    # What it says a real run does, it does: no answer on stdin is a refusal.
    real = run(["send-file", str(campaign), "--yes"], env=env)
    assert (real.exit_code, len(gateway.ledger.messages)) == (2, sent), real.output

    data = as_json(run(["send-file", str(campaign), "--dry-run", "--json"], env=env))
    assert (data["recipients"], data["unknown_action"]) == (2, None)
    assert data["unknown_note"].endswith(
        "left out of this plan; a real run with --json is refused (exit 2) until "
        "--resend-unknown or --skip-unknown says what to do with them"
    )
    assert run(["send-file", str(campaign), "--yes", "--json"], env=env).exit_code == 2

    resend = run(["send-file", str(campaign), "--dry-run", "--resend-unknown"], env=env)
    assert "are in this plan (--resend-unknown): they may get the text twice" in resend.stderr
    assert resend.stdout.startswith("dry run: 4 recipient(s) in 2 group(s)")
    assert "left out" not in resend.stdout
    skip = run(["send-file", str(campaign), "--dry-run", "--skip-unknown", "--json"], env=env)
    assert as_json(skip)["unknown_note"] == (
        "dry run: the 2 row(s) of unknown outcome are left out of this plan (--skip-unknown)"
    )
    assert len(gateway.ledger.messages) == sent  # nothing sent by any dry run


def test_a_dry_run_with_only_unknown_rows_left_says_they_are_left_out(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Every other row accepted: not a bare `nothing to send`; the accepted ones are
    counted too, with how to send them again."""
    path = tmp_path / "c.csv"
    path.write_text("\n".join(["mobile,content", *(",".join(r) for r in ROWS)]) + "\n")
    _interrupted(gateway, env, path)
    dry = run(["send-file", str(path), "--dry-run"], env=env)
    assert dry.stdout.startswith(
        "nothing to send; 2 row(s) of unknown outcome left out; 2 row(s) already accepted by "
        "an earlier run within 3 days, skipped: --no-resume --no-duplicate-guard sends them"
    )
    assert "a real run lists them and asks" in dry.stderr
