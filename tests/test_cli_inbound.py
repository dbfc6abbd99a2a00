"""`mandao replies`, `mandao reports`, `mandao suppress` and `--suppression` on the sandbox."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import mandao
from mandao.testing import SandboxGateway

from ._cli_helpers import SN, as_json, interrupted_while_held, run, sandbox_env


def _env(gateway: SandboxGateway, tmp_path: Path) -> dict[str, str]:
    return {**sandbox_env(gateway), "MANDAO_JOURNAL": str(tmp_path / "journal.sqlite3")}


def test_replies_then_send_file_skips_the_opt_out(gateway: SandboxGateway, tmp_path: Path) -> None:
    """A TD reply fetched by `mandao replies` goes on the list; `send-file` leaves the number
    out by default and says so; `send` (verification codes) sends to it. Numbers are
    masked in what the commands show, whole with --unmask."""
    env = _env(gateway, tmp_path)
    gateway.reply("13800138000", "TD")
    fetched = run(["replies", "--json"], env=env)
    assert fetched.exit_code == 0, fetched.output
    assert as_json(fetched)["suppressed"] == ["138****8000"]
    assert [r["mobile"] for r in as_json(fetched)["replies"]] == ["138****8000"]
    assert "13800138000" not in fetched.output  # nor in the raw line
    listed = run(["suppress", "list", "--json"], env=env)
    assert [row["mobile"] for row in as_json(listed)["suppressed"]] == ["138****8000"]
    whole = run(["suppress", "list", "--json", "--unmask"], env=env)
    assert [row["mobile"] for row in as_json(whole)["suppressed"]] == ["13800138000"]
    campaign = tmp_path / "c.csv"
    campaign.write_text("mobile,content\n13800138000,上新【示例】\n13900139000,上新【示例】\n",
                        encoding="utf-8")  # fmt: skip
    sent = run(["send-file", str(campaign), "--yes", "--json"], env=env)
    assert sent.exit_code == 0, sent.output
    assert gateway.ledger.for_mobile("13800138000") == []
    assert len(gateway.ledger.for_mobile("13900139000")) == 1
    code = run(["send", "13800138000", "-t", "验证码 1234【示例】", "--json"], env=env)
    assert code.exit_code == 0, code.output
    assert len(gateway.ledger.for_mobile("13800138000")) == 1
    # ... and says so, masked, with what leaves it out; an explicit off says nothing.
    assert code.stderr == (
        "warning: 1 of the numbers opted out (on the suppression list): 138****8000; sent "
        "to anyway, as send does by default (a verification code must reach them); "
        "--suppression skip leaves them out, --suppression off says nothing\n"
    )
    quiet = run(["send", "13800138000", "-t", "验证码 5678【示例】", "--suppression", "off"],
                env=env)  # fmt: skip
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    skipped = run(["send", "13800138000", "13900139000", "-t", "验证码 9012【示例】",
                   "--suppression", "skip", "--json"], env=env)  # fmt: skip
    assert "opted out" not in skipped.stderr
    assert len(gateway.ledger.for_mobile("13800138000")) == 2


def test_reports_show_what_the_journal_matched(gateway: SandboxGateway, tmp_path: Path) -> None:
    env = _env(gateway, tmp_path)
    assert run(["send", "13800138000", "13900139000", "-t", "通知【示例】"], env=env).exit_code == 0
    got = run(["reports", "--json"], env=env)
    assert got.exit_code == 0, got.output
    data = as_json(got)
    assert data["matched"] == 2
    assert sorted(r["outcome"] for r in data["reports"]) == ["delivered", "delivered"]
    text = run(["reports"], env=env)
    assert "no new reports" in text.output


def test_suppress_add_import_remove_export(gateway: SandboxGateway, tmp_path: Path) -> None:
    env = _env(gateway, tmp_path)
    assert run(["suppress", "add", "13800138000", "--ext", "12"], env=env).exit_code == 0
    file = tmp_path / "optouts.csv"
    file.write_text("mobile,reason\n13900139000,called us\nnot-a-number,x\n", encoding="utf-8")
    imported = run(["suppress", "import", str(file), "--json"], env=env)
    assert as_json(imported)["added"] == 1
    assert "optouts.csv:3" in imported.stderr
    exported = run(["suppress", "export"], env=env).stdout.splitlines()
    assert exported[0] == "mobile,ext,time,source,reason"
    assert len(exported) == 3
    removed = run(["suppress", "remove", "13800138000", "--json"], env=env)
    assert as_json(removed)["removed"] == 1


def test_journal_list_and_export_show_what_came_back(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """`journal list` shows each attempt's delivery counts; `journal export --table` writes
    the replies, reports or suppression list, numbers masked."""
    env = _env(gateway, tmp_path)
    gateway.configure_reports(failed=0.5)
    run(["send", "13800138000", "13900139000", "-t", "通知【示例】"], env=env)
    run(["reports"], env=env)
    listed = run(["journal", "list", "--json"], env=env)
    (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["delivery"] == {"delivered": 1, "failed": 1}
    assert set(row["deliveries"]) == {"138****8000", "139****9000"}
    assert "[1 delivered, 1 failed]" in run(["journal", "list"], env=env).stdout
    exported = run(["journal", "export", "--table", "reports"], env=env)
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert sorted(r["mobile"] for r in lines) == ["138****8000", "139****9000"]


def test_send_file_stops_offering_a_row_a_report_resolved(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """A campaign row of unknown outcome (the connection dropped after the gateway took
    it) is offered again; once `mandao reports` resolved it as sent, a re-run skips it."""
    env = _env(gateway, tmp_path)
    campaign = tmp_path / "c.csv"
    campaign.write_text("mobile,content\n13800138000,上新【示例】\n", encoding="utf-8")
    gateway.primary.fail("drop-after")
    first = run(["send-file", str(campaign), "--yes", "--json"], env=env)
    assert first.exit_code != 0
    offered = run(["send-file", str(campaign), "--yes", "--json"], env=env)
    assert offered.exit_code != 0, offered.output  # --json: say --resend-unknown or skip
    assert "unknown" in offered.output
    assert run(["reports"], env=env).exit_code == 0
    again = run(["send-file", str(campaign), "--yes", "--json"], env=env)
    assert again.exit_code == 0, again.output
    assert len(gateway.ledger.for_mobile("13800138000")) == 1  # never sent twice


def test_reports_fetch_until_nothing_is_left_waiting(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """The gateway gives 2 reports a call and 5 are waiting: one `mandao reports` shows
    all 5 (it asks again until a call brings nothing), and the next finds none."""
    gateway.configure_reports(per_call=2)
    env = _env(gateway, tmp_path)
    numbers = [f"1380013800{i}" for i in range(5)]
    assert run(["send", *numbers, "-t", "通知【示例】"], env=env).exit_code == 0
    data = as_json(run(["reports", "--json", "--unmask"], env=env))
    assert sorted(r["mobile"] for r in data["reports"]) == numbers
    assert data["matched"] == 5
    assert as_json(run(["reports", "--json"], env=env))["reports"] == []


def test_reports_of_one_send_show_all_of_them_and_a_plain_fetch_goes_past_them(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """`reports --rrid` shows every report of that send, new or fetched before (from the
    journal), marked; a plain `reports` after it goes on past a batch of only those (it
    used to stop there, "no new reports", with the next send's waiting); --follow with
    --rrid is refused, not the rrid ignored."""
    gateway.configure_reports(per_call=2)
    env = _env(gateway, tmp_path)
    first = as_json(run(["send", "13800138000", "13900139000", "-t", "通知【示例】", "--json"],
                        env=env))["id"]  # fmt: skip
    later = [f"1370013700{i}" for i in range(3)]
    assert run(["send", *later, "-t", "明天见【示例】"], env=env).exit_code == 0

    own = as_json(run(["reports", "--rrid", first, "--json", "--unmask"], env=env))
    assert sorted((r["mobile"], r["new"]) for r in own["reports"]) == [
        ("13800138000", True), ("13900139000", True)
    ]  # fmt: skip
    rest = as_json(run(["reports", "--json", "--unmask"], env=env))
    assert sorted(r["mobile"] for r in rest["reports"]) == later

    again = run(["reports", "--rrid", first], env=env)
    assert again.exit_code == 0, again.output
    assert "0 new; 2 fetched before (from the journal)" in again.output
    assert "0 of the 0 new matched to journaled sends" in again.output  # not "0 matched"
    data = as_json(run(["reports", "--rrid", first, "--json"], env=env))
    assert [r["new"] for r in data["reports"]] == [False, False]
    refused = run(["reports", "--rrid", first, "--follow"], env=env)
    assert refused.exit_code == 2
    assert "leave out --rrid" in refused.output


@pytest.mark.parametrize("follow", [True, False])
def test_ctrl_c_during_replies_loses_no_reply(
    gateway: SandboxGateway, tmp_path: Path, follow: bool
) -> None:
    """Ctrl-C while mo's answer is on its way: the fetch ends, its reply is kept, and the
    command shows it (--follow) or says it is in the journal, then stops. Before, the
    interrupt cut the read: mo had given the reply, and it was nowhere."""
    gateway.reply("13800138000", "跟随中断")
    env = {**os.environ, **_env(gateway, tmp_path)}
    args = [sys.executable, "-m", "mandao", "replies", *(["--follow"] if follow else [])]
    status, out, err = interrupted_while_held(gateway, args, env, "mo")
    if follow:
        assert (status, "跟随中断" in out) == (0, True), (out, err)
        assert "stopped (what was fetched is in the journal)" in err
    else:
        assert status == 130, (out, err)
        assert "1 replies fetched before Ctrl-C are in the journal" in err
    kept = mandao.Journal(tmp_path / "journal.sqlite3").replies()
    assert [r.text for r in kept] == ["跟随中断"]


def test_draining_stops_at_two_batches_of_records_stored_before() -> None:
    """One batch of records all stored before is no end (more may wait behind it); two in
    a row are (a gateway that keeps no cursor answers the same records every call)."""
    from mandao._fetching import Fetched
    from mandao.cli.inbound import _drained

    answers = [Fetched(items=(), seen=2), Fetched(items=("r",), seen=1),
               *[Fetched(items=(), seen=3)] * 50]  # fmt: skip
    calls: list[int] = []

    def fetch() -> Fetched[str]:
        calls.append(1)
        return answers[len(calls) - 1]

    got = _drained(fetch)
    assert (got.items, len(calls), got.seen) == (("r",), 4, 9)


def test_unreadable_lines_show_their_numbers_masked(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """A line that could not be read is shown (JSON included) with what looks like a mobile
    in it masked, whole with --unmask; the journal keeps it as it came."""
    env = _env(gateway, tmp_path)
    with mandao.Journal(tmp_path / "journal.sqlite3") as journal:  # kept, never decoded: a crash
        journal._keep(SN, "mo", "garbled,8613800138000")
    shown = run(["replies", "--json"], env=env)
    assert as_json(shown)["unreadable"] == ["garbled,86138****8000"]
    assert "13800138000" not in shown.output
    with mandao.Journal(tmp_path / "journal.sqlite3") as journal:
        journal._keep(SN, "mo", "garbled,13700137000")
    whole = run(["replies", "--json", "--unmask"], env=env)
    assert as_json(whole)["unreadable"] == ["garbled,13700137000"]
