"""Journal exports for a lawful inquiry: filters, masking, CSV and JSON Lines, the CLI (the
exports and reconciling on both backends; the CLI takes a file)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import mandao
from mandao import Journal
from mandao._journal import export, read_ledger, rows
from mandao.cli import main
from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN


def _fill(gateway: SandboxGateway, journal: Journal) -> Journal:
    client = gateway.client(SN, PASSWORD, journal=journal)
    client.send(["13800138000", "13900139000"], "通知一【示例】", rrid="111")
    client.send_personalized({"13800138000": "张三您好【示例】", "13700137000": "王五您好【示例】"})
    gateway.set_balance(SN, 0)
    with pytest.raises(mandao.InsufficientBalance):
        client.send("13600136000", "通知二【示例】", rrid="333")
    return journal


@pytest.fixture
def filled(gateway: SandboxGateway, journal_location: Path | str) -> Iterator[Journal]:
    """A journal with a group send, a personalized send, and a rejected one (each backend)."""
    with _fill(gateway, Journal(journal_location)) as journal:
        yield journal


@pytest.fixture
def filled_file(gateway: SandboxGateway, tmp_path: Path) -> Journal:
    """The same, in a file (for the CLI)."""
    return _fill(gateway, Journal(tmp_path / "j.sqlite3"))


def test_export_masks_numbers_unless_asked(filled: Journal) -> None:
    """Numbers are 138****8000 in an export; unmask gives them whole."""
    out = io.StringIO()
    assert export(filled, out) == 3
    text = out.getvalue()
    assert "13800138000" not in text
    first = json.loads(text.splitlines()[0])
    assert first["recipients"] == ["138****8000", "139****9000"]
    assert first["content"] == "通知一【示例】"
    whole = io.StringIO()
    export(filled, whole, unmask=True)
    assert json.loads(whole.getvalue().splitlines()[0])["recipients"] == [
        "13800138000",
        "13900139000",
    ]


def test_export_filters_by_mobile_rrid_and_outcome(filled: Journal) -> None:
    """A mobile filter keeps that number's rows and only that number (with its own text)."""
    found = list(rows(filled, mobile="13800138000", unmask=True))
    assert [(r["operation"], r["recipients"], r["content"]) for r in found] == [
        ("mdsmssend", ["13800138000"], "通知一【示例】"),
        ("mdgxsend", ["13800138000"], "张三您好【示例】"),
    ]
    assert [r["rrid"] for r in rows(filled, rrid="111")] == ["111"]
    (rejected,) = rows(filled, outcome="rejected")
    assert (rejected["rrid"], rejected["result"]) == ("333", "-4")
    assert list(rows(filled, mobile="13500135000")) == []


def test_export_filters_by_operation_as_journal_list_does(filled_file: Journal) -> None:
    """`journal export --operation mdgxsend` (the filters of `journal list`, all of them)."""
    assert [r["operation"] for r in rows(filled_file, operation="mdgxsend")] == ["mdgxsend"]
    args = ["journal", "--journal", str(filled_file.path), "export", "--operation", "mdgxsend"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["operation"] for line in result.stdout.splitlines()] == ["mdgxsend"]


def test_export_filters_by_time_range(filled: Journal) -> None:
    """since/until bound the attempts' times (until exclusive)."""
    now = datetime.now(UTC)
    assert len(list(rows(filled, since=now - timedelta(hours=1)))) == 3
    assert list(rows(filled, since=now + timedelta(minutes=1))) == []
    assert list(rows(filled, until=now - timedelta(hours=1))) == []
    china_tomorrow = (now + timedelta(hours=8, days=1)).date().isoformat()
    assert len(list(rows(filled, until=china_tomorrow))) == 3


def test_csv_export_joins_numbers_and_lists_texts(filled: Journal) -> None:
    """CSV has a header, ;-joined numbers, and per-number texts as a JSON list."""
    out = io.StringIO()
    export(filled, out, "csv")
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["outcome"] for r in table] == ["accepted", "accepted", "rejected"]
    assert table[0]["recipients"] == "138****8000;139****9000"
    assert json.loads(table[1]["content"]) == ["张三您好【示例】", "王五您好【示例】"]


def test_cli_export_and_path(filled_file: Journal, tmp_path: Path) -> None:
    """`mandao journal export` writes the file; `path` prints the journal's location."""
    filled = filled_file
    runner = CliRunner()
    target = tmp_path / "inquiry.csv"
    args = ["journal", "--journal", str(filled.path)]
    done = runner.invoke(
        main, [*args, "export", "--format", "csv", "--mobile", "13800138000", "--unmask",
               "-o", str(target)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert target.read_text(encoding="utf-8").count("13800138000") == 2
    bad = runner.invoke(main, [*args, "export", "--since", "whenever"])
    assert bad.exit_code == 2
    where = runner.invoke(main, [*args, "path"])
    assert where.output.strip() == str(filled.path)


def test_cli_pending_lists_unfinished_attempts_masked(tmp_path: Path) -> None:
    """`mandao journal pending` lists attempts with no outcome as unknown, numbers masked."""
    journal = Journal(tmp_path / "j.sqlite3")
    journal.begin(sn=SN, operation="mdsmssend", host="http://h/", recipients=["13800138000"],
                  content="x【示例】", rrid="42")  # fmt: skip
    result = CliRunner().invoke(main, ["journal", "--journal", str(journal.path), "pending"])
    assert result.exit_code == 1
    assert "rrid=42" in result.output
    assert "outcome unknown; 138****8000" in result.output
    assert "13800138000" not in result.output
    empty = Journal(tmp_path / "other.sqlite3")
    journal.complete(1, "accepted", result="42")
    for j in (journal, empty):
        j.verify()  # creates the empty one
        ok = CliRunner().invoke(main, ["journal", "--journal", str(j.path), "pending", "--json"])
        assert ok.exit_code == 0
        assert ok.output == ""


def test_cli_on_a_missing_journal_exits_3(tmp_path: Path) -> None:
    """Commands other than `path` say there is no journal and exit 3."""
    result = CliRunner().invoke(main, ["journal", "--journal", str(tmp_path / "no"), "verify"])
    assert result.exit_code == 3
    assert "no journal at" in result.output


def test_journal_reconcile_and_a_ledger_that_is_none(filled: Journal, tmp_path: Path) -> None:
    """Journal.reconcile holds unknown attempts against pairs; a file that is no ledger is a
    ValidationError."""
    filled.begin(sn=SN, operation="mdsmssend", host="http://h/", recipients=["13500135000"],
                 content="x【示例】", rrid="444")  # fmt: skip
    found = filled.reconcile([("444", "13500135000"), ("555", "13400134000")])
    assert [(a.rrid, m) for a, m in found.sent] == [("444", "13500135000")]
    assert (found.absent, found.unjournaled) == ([], [("555", "13400134000")])
    bad = tmp_path / "ledger.json"
    bad.write_text('[{"rrid": "1"}]', encoding="utf-8")
    with pytest.raises(mandao.ValidationError, match="is not a ledger"):
        read_ledger(bad)


def test_reconcile_calls_a_recent_attempt_recent_and_skips_resolved_ones(
    filled: Journal,
) -> None:
    """An attempt the record lacks is ``recent`` while it may still be in flight, ``absent``
    once older than ``settle_after``; one resolved since is held against nothing."""
    seq = filled.begin(sn=SN, operation="mdsmssend", host="http://h/",
                       recipients=["13500135000"], content="x【示例】", rrid="444")  # fmt: skip
    found = filled.reconcile([])
    assert [(a.seq, m) for a, m in found.recent] == [(seq, "13500135000")]
    assert seq not in {a.seq for a, _ in found.absent}
    old = filled.reconcile([], settle_after=timedelta(0))
    assert (seq, "13500135000") in [(a.seq, m) for a, m in old.absent]
    assert old.recent == []
    filled.resolve([seq], outcome="not-sent", evidence="the operator's word")
    after = filled.reconcile([], settle_after=timedelta(0))
    assert seq not in {a.seq for a, _ in (*after.absent, *after.recent, *after.sent)}


def test_cli_pending_against_a_file_that_is_no_ledger_exits_2(
    filled_file: Journal, tmp_path: Path
) -> None:
    """`pending --against` a file that is no ledger says so and exits 2."""
    bad = tmp_path / "ledger.json"
    bad.write_text('[{"rrid": "1"}]', encoding="utf-8")
    args = ["journal", "--journal", str(filled_file.path), "pending", "--against", str(bad)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "is not a ledger" in result.output


def test_export_of_another_table_refuses_the_attempt_filters(filled_file: Journal) -> None:
    """`--table replies --since …`: the filters are for attempts, said so (not ignored)."""
    args = ["journal", "--journal", str(filled_file.path), "export", "--table", "replies"]
    refused = CliRunner().invoke(main, [*args, "--since", "today", "--rrid", "111"])
    assert refused.exit_code == 2
    assert "--since, --rrid: the filters are for attempts" in refused.output
    assert CliRunner().invoke(main, args).exit_code == 0
