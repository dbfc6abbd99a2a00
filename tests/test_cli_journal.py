"""`mandao journal`: list, tail --follow, pending (unknown rows too, reconciling), flags
after the subcommand, times as operators write them, partial numbers, private exports."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from mandao import Journal
from mandao._compose.fields import CHINA
from mandao.cli.journal_pending import unresolved
from mandao.testing import SandboxGateway

from ._cli_helpers import SN, as_json, run, sandbox_env

TEXT = "通知【示例】"


@pytest.fixture
def book(gateway: SandboxGateway, tmp_path: Path) -> Journal:
    """A journal of two accepted sends through the CLI and one attempt cut off mid-send."""
    path = tmp_path / "journal.sqlite3"
    env = {**sandbox_env(gateway), "MANDAO_JOURNAL": str(path)}
    for numbers in (["13800138000", "13900139000"], ["13700137000"]):
        assert run(["send", *numbers, "-t", TEXT], env=env).exit_code == 0
    journal = Journal(path)
    journal.begin(sn=SN, operation="mdsmssend", host=gateway.hosts[0],
                  recipients=["13600136000"], content=TEXT, rrid="77")  # fmt: skip
    return journal


def _journal(book: Journal, *args: str) -> list[str]:
    return ["journal", *args, "--journal", str(book.path)]


def test_list_shows_recent_attempts_as_a_table_and_json_lines(book: Journal) -> None:
    """journal list: a header and one line per attempt, numbers masked; --json: one object
    a line; -n keeps the newest; --outcome filters."""
    result = run(_journal(book, "list"))
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split()[:4] == ["seq", "time", "(China)", "operation"]
    assert len(rows) == 3
    assert "138****8000, 139****9000" in rows[0]
    assert "accepted" in rows[0]
    assert "pending" in rows[2]
    assert "77" in rows[2]
    lines = [
        json.loads(line) for line in run([*_journal(book, "list"), "--json"]).stdout.splitlines()
    ]
    assert [(d["count"], d["outcome"]) for d in lines] == [(2, "accepted"), (1, "accepted"),
                                                          (1, "pending")]  # fmt: skip
    newest = run([*_journal(book, "list"), "-n", "1", "--json"]).stdout.splitlines()
    assert [json.loads(line)["rrid"] for line in newest] == ["77"]
    pending = run([*_journal(book, "list"), "--outcome", "pending", "--json"])
    assert len(pending.stdout.splitlines()) == 1


def test_list_matches_part_of_a_number_and_export_says_it_takes_whole_ones(book: Journal) -> None:
    """--mobile 138 finds the attempts with a number holding 138; export refuses a partial
    number (exit 2) naming --mobile, where it used to export nothing."""
    found = run([*_journal(book, "list"), "--mobile", "138", "--json"])
    assert [json.loads(line)["count"] for line in found.stdout.splitlines()] == [2]
    whole = run([*_journal(book, "list"), "--mobile", "+86 137-0013-7000", "--json"])
    assert len(whole.stdout.splitlines()) == 1
    refused = run([*_journal(book, "export"), "--mobile", "138", "--json"])
    assert refused.exit_code == 2
    error = as_json(refused)["error"]
    assert error["flag"] == "--mobile"
    assert "journal list --mobile" in error["message"]


def test_since_takes_yesterday_today_and_durations(book: Journal) -> None:
    """--since yesterday / today / 2h / an ISO time all read; nonsense names the flag."""
    for since in ("yesterday", "today", "2h", "3 days ago", "2020-01-01 08:00"):
        result = run([*_journal(book, "export"), "--since", since])
        assert result.exit_code == 0, (since, result.output)
        assert len(result.stdout.splitlines()) == 3
    bad = run([*_journal(book, "list"), "--since", "whenever", "--json"])
    assert (bad.exit_code, as_json(bad)["error"]["flag"]) == (2, "--since")


def test_an_unmasked_export_is_written_private(book: Journal, tmp_path: Path) -> None:
    """--unmask -o FILE writes the file 0600, even over a file that was 0644."""
    target = tmp_path / "inquiry.jsonl"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)
    result = run([*_journal(book, "export"), "--unmask", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "13800138000" in target.read_text(encoding="utf-8")
    assert "3 attempt(s) exported to" in result.stdout


def test_journal_flags_work_after_the_subcommand(book: Journal, tmp_path: Path) -> None:
    """`journal verify --journal X` (after) works as `journal --journal X verify` (before);
    after wins over before."""
    after = run(["journal", "verify", "--journal", str(book.path), "--json"])
    assert after.exit_code == 0, after.output
    assert as_json(after)["ok"] is True
    before = run(["journal", "--journal", str(tmp_path / "none"), "verify", "--journal",
                  str(book.path)])  # fmt: skip
    assert before.exit_code == 0
    missing = run(["journal", "verify", "--journal", str(tmp_path / "none"), "--json"])
    assert (missing.exit_code, as_json(missing)["error"]["kind"]) == (3, "journal")


def test_pending_lists_unknown_attempts_as_well_as_pending_ones(
    gateway: SandboxGateway, book: Journal
) -> None:
    """An attempt that ended unknown (no answer) is listed beside one cut off mid-send."""
    seq = book.begin(sn=SN, operation="mdsmssend", host=gateway.hosts[0],
                     recipients=["13500135000"], content=TEXT, rrid="88")  # fmt: skip
    book.complete(seq, "unknown", detail="read timeout")
    result = run(_journal(book, "pending"))
    assert result.exit_code == 1
    assert "rrid=77" in result.stdout
    assert "(no outcome yet: in flight, or cut off mid-send)" in result.stdout
    assert "rrid=88" in result.stdout
    assert "(no answer read: read timeout)" in result.stdout
    assert "2 attempt(s) of unknown outcome" in result.stderr
    # In China time, as `journal list` shows it, and said so.
    (attempt,) = [a for a in book.attempts(outcome="unknown") if a.rrid == "88"]
    shown = datetime.fromisoformat(attempt.time).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    assert f"#{attempt.seq} {shown} (China) mdsmssend rrid=88" in result.stdout


def test_pending_against_leaves_unresolved_an_attempt_only_partly_found(
    book: Journal, tmp_path: Path
) -> None:
    """One number of a recent attempt in the record, the other not (too recent to call not
    sent): the attempt is not marked sent, so its other number is still offered."""
    numbers = ["13500135000", "13400134000"]
    seq = book.begin(sn=SN, operation="mdsmssend", host="h", recipients=numbers, content=TEXT,
                     rrid="444")  # fmt: skip
    ledger = tmp_path / "led.json"
    ledger.write_text('[{"rrid": "444", "mobile": "13500135000"}]', encoding="utf-8")
    for extra in ([], ["--complete-ledger"]):
        result = run([*_journal(book, "pending"), "--against", str(ledger), *extra])
        assert result.exit_code == 1, result.output
        assert "rrid=444 135****5000: sent" in result.stdout
        assert "0 attempt(s) marked resolved" in result.stderr
    (attempt,) = [a for a in book.attempts() if a.seq == seq]
    assert attempt.resolution is None


def test_a_bad_settle_after_is_named_as_such(book: Journal, tmp_path: Path) -> None:
    """--settle-after bogus: the flag is named (not "--against: … is not a ledger"); 0m is 0."""
    ledger = tmp_path / "led.json"
    ledger.write_text("[]", encoding="utf-8")
    args = [*_journal(book, "pending"), "--against", str(ledger), "--settle-after"]
    bad = run([*args, "bogus"])
    assert bad.exit_code == 2
    assert "--settle-after" in bad.stderr
    assert "not a ledger" not in bad.stderr
    zero = run([*args, "0m", "--complete-ledger"])
    assert "too recent" not in zero.output, zero.output
    for flag in (["--settle-after", "0"], ["--complete-ledger"]):  # of --against alone
        alone = run([*_journal(book, "pending"), *flag])
        assert alone.exit_code == 2
        assert f"{flag[0]} applies to --against FILE" in alone.stderr


def test_pending_against_a_complete_ledger_marks_attempts_resolved(
    gateway: SandboxGateway, book: Journal, tmp_path: Path
) -> None:
    """--against the sandbox's ledger with --complete-ledger: the cut-off attempt, absent
    from it, is not sent once it is old enough (here: said to be at once); it is marked
    resolved, so pending no longer lists it, and a later --against counts it no more."""
    ledger = tmp_path / "ledger.json"
    gateway.ledger.export(ledger)
    # Minutes old, it could still be in flight: unknown, nothing resolved, exit 1.
    recent = run([*_journal(book, "pending"), "--against", str(ledger), "--complete-ledger"])
    assert recent.exit_code == 1, recent.output
    assert "rrid=77 136****6000: unknown (too recent to settle" in recent.stdout
    assert "1 too recent to settle" in recent.stderr
    assert "0 attempt(s) marked resolved" in recent.stderr
    result = run([*_journal(book, "pending"), "--against", str(ledger), "--complete-ledger",
                  "--settle-after", "0"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rrid=77 136****6000: not sent" in result.stdout
    assert "1 attempt(s) marked resolved" in result.stderr
    again = run(_journal(book, "pending"))
    assert (again.exit_code, again.stdout) == (0, "")
    settled = run([*_journal(book, "pending"), "--against", str(ledger), "--complete-ledger"])
    assert (settled.exit_code, settled.stdout) == (0, "")  # resolved: held against no more
    assert settled.stderr.startswith("0 sent, 0 not sent, 0 not in the journal")


def test_prune_refusals_are_sentences_in_the_command_lines_terms(book: Journal) -> None:
    """A short retention needs --override (not override=True); a chain that does not
    verify refuses the prune in a sentence naming the row, not a repr."""
    import sqlite3

    young = run([*_journal(book, "prune"), "--before", "2000-01-01", "--retention-days", "10"])
    assert young.exit_code == 3
    assert "needs --override" in young.stderr
    assert "override=True" not in young.stderr
    # The hint says why, not where the journal is (nothing is wrong with it).
    recent = as_json(run([*_journal(book, "prune"), "--before", "2099-01-01", "--json"]))
    assert recent["error"]["message"].startswith("refusing to prune rows younger than 180 days")
    assert recent["error"]["hint"] == (
        "the vendor's terms (item 6) keep send logs six months; --override prunes them anyway"
    )
    with sqlite3.connect(book.path) as conn:
        conn.execute("UPDATE entries SET rrid = '1' WHERE seq = 1")
    result = run([*_journal(book, "prune"), "--before", "2000-01-01"])
    assert result.exit_code == 3
    assert "does not verify at row 1 (modified" in result.stderr
    assert "Problem(" not in result.stderr


def test_tail_follow_streams_new_attempts_as_json_lines(
    gateway: SandboxGateway, book: Journal
) -> None:
    """tail --follow --json prints the last rows, then each new attempt as it is written,
    one JSON object a line; Ctrl-C ends it with exit 0."""
    child = subprocess.Popen(
        [sys.executable, "-m", "mandao", *_journal(book, "tail"), "-n", "1", "--follow",
         "--json", "--interval", "0.05"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        first = json.loads(child.stdout.readline())
        assert first["rrid"] == "77"
        book.begin(sn=SN, operation="mdsmssend", host=gateway.hosts[0],
                   recipients=["13300133000"], content=TEXT, rrid="99")  # fmt: skip
        fresh = json.loads(child.stdout.readline())
        assert (fresh["rrid"], fresh["outcome"]) == ("99", "pending")
        book.complete(fresh["seq"], "accepted", result="99")
        done = json.loads(child.stdout.readline())
        assert (done["seq"], done["outcome"]) == (fresh["seq"], "accepted")
        child.send_signal(signal.SIGINT)
        _, err = child.communicate()
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert "Traceback" not in err


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_path_prints_where_the_journal_is(book: Journal) -> None:
    """journal path prints the location; --json says whether it exists."""
    result = run(_journal(book, "path"))
    assert result.stdout.strip() == str(book.path)
    assert as_json(run([*_journal(book, "path"), "--json"]))["exists"] is True


def test_path_never_prints_a_journal_urls_password(tmp_path: Path) -> None:
    """A PostgreSQL journal given by --journal, MANDAO_JOURNAL or the file's [journal] url:
    `journal path` names it without its password, in the text and the JSON."""
    url = "postgresql://mandao:s3cretpw@127.0.0.1:5/mandao?password=other&sslmode=disable"
    cfg = tmp_path / "mandao.toml"
    cfg.write_text(f'[journal]\nurl = "{url}"\n', encoding="utf-8")
    cfg.chmod(0o600)  # it holds a password
    for args, env in (
        (["journal", "path", "--journal", url], {}),
        (["journal", "path", "--json"], {"MANDAO_JOURNAL": url}),
        (["journal", "path", "--config", str(cfg)], {}),
    ):
        result = run(args, env=env)
        assert result.exit_code == 0, result.output
        assert "s3cretpw" not in result.output
        assert "other" not in result.output
        assert "postgresql://mandao@127.0.0.1:5/mandao?sslmode=disable" in result.output


def test_a_journal_url_of_another_scheme_is_refused_and_nothing_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mysql://, sqlite:// or a misspelt postgresq:// is no file name: exit 3 naming the
    scheme (not the rest, which may hold a password), and no folder is made for it."""
    monkeypatch.chdir(tmp_path)
    for url in ("mysql://u:pw@h/db", "sqlite://rel/j.sqlite3", "postgresq://u:pw@h/db"):
        result = run(["journal", "list", "--journal", url])
        assert result.exit_code == 3, result.output
        scheme = url.partition("://")[0]
        assert f"not {scheme}://…" in result.stderr
        assert "pw" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_pending_against_a_campaign_file_says_it_is_no_ledger(
    book: Journal, tmp_path: Path
) -> None:
    """--against a campaign CSV (no rrid column): exit 2, a sentence naming the file and what
    a ledger holds; no KeyError, no traceback."""
    campaign = tmp_path / "camp.csv"
    campaign.write_text(f"mobile,content\n13800138000,{TEXT}\n", encoding="utf-8")
    result = run([*_journal(book, "pending"), "--against", str(campaign)])
    assert result.exit_code == 2
    assert f"{campaign} is not a ledger: every item needs an rrid and a mobile" in result.stderr
    assert "KeyError" not in result.stderr
    assert "Traceback" not in result.stderr


def test_pending_against_a_shared_ledger_counts_what_this_journal_never_sent(
    book: Journal, tmp_path: Path
) -> None:
    """A ledger holding another sender's messages: they are counted, not listed one a line,
    and they do not make exit 1; --unjournaled lists them (masked unless --unmask)."""
    ledger = tmp_path / "shared.jsonl"
    others = [f'{{"rrid": "9{i:05}", "mobile": "1350000{i:04}"}}' for i in range(300)]
    ledger.write_text("\n".join(others) + "\n", encoding="utf-8")
    book.resolve([a.seq for a in unresolved(book)], outcome="not-sent", evidence="test",
                 source="operator")  # fmt: skip
    quiet = run([*_journal(book, "pending"), "--against", str(ledger)])
    assert (quiet.exit_code, quiet.stdout) == (0, ""), quiet.output
    assert "300 not in the journal (--unjournaled lists them)" in quiet.stderr
    listed = run([*_journal(book, "pending"), "--against", str(ledger), "--unjournaled"])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert len(lines) == 300
    assert lines[0] == "#- rrid=900000 135****0000: not in journal"
    assert "--unjournaled lists them" not in listed.stderr
    as_lines = run([*_journal(book, "pending"), "--against", str(ledger), "--unjournaled",
                    "--json", "--unmask"]).stdout.splitlines()  # fmt: skip
    assert json.loads(as_lines[-1]) == {"seq": None, "rrid": "900299", "mobile": "13500000299",
                                        "state": "not in journal"}  # fmt: skip
    alone = run([*_journal(book, "pending"), "--unjournaled"])
    assert alone.exit_code == 2
    assert "--unjournaled applies to --against FILE" in alone.stderr
