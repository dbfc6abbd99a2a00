"""The journal's hash chain: edits, inserts and deletes made behind its back, and pruning
(on both backends: the same SQL behind the journal's back, the same findings)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mandao import Journal, JournalError
from mandao._journal import row_hash
from mandao.cli import main

from .postgres import execute, query

SN = "SDK-TST-010-00001"


def _fill(journal: Journal, n: int) -> list[int]:
    """n attempts, each completed: 2n rows."""
    seqs = []
    for i in range(n):
        seq = journal.begin(
            sn=SN, operation="mdsmssend", host="http://127.0.0.1:1/webservice.asmx",
            recipients=[f"138{i:08d}"], content=f"第 {i} 条【示例】", rrid=str(1000 + i),
        )  # fmt: skip
        journal.complete(seq, "accepted", result=str(1000 + i), latency=0.002)
        seqs.append(seq)
    return seqs


@pytest.fixture
def journal(journal_location: Path | str) -> Iterator[Journal]:
    """A journal of 5 completed attempts (rows 1 … 10), on each backend."""
    with Journal(journal_location) as j:
        _fill(j, 5)
        yield j


@pytest.fixture
def file_journal(tmp_path: Path) -> Iterator[Journal]:
    """A journal file of 5 completed attempts (rows 1 … 10), for the CLI."""
    with Journal(tmp_path / "j.sqlite3") as j:
        _fill(j, 5)
        yield j


def _raw(journal: Journal, *statements: str) -> None:
    """Run SQL on the database directly, in one transaction, as someone tampering would."""
    journal.close()
    execute(journal.location, *statements)


def test_untouched_chain_verifies(journal: Journal) -> None:
    """A journal written only by the library verifies, head = last row."""
    result = journal.verify()
    assert result.ok
    assert result.rows == 10
    assert result.head_seq == 10
    assert journal.verify(expect_head=(10, result.head_hash)).ok


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE entries SET content = '改过的内容【示例】' WHERE seq = 3",
        "UPDATE entries SET recipients = '13900000000' WHERE seq = 3",
        "UPDATE entries SET outcome = 'rejected' WHERE seq = 4",
        "UPDATE entries SET time = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 3",
    ],
)
def test_modified_row_is_reported(journal: Journal, sql: str) -> None:
    """Changing any column of a row is reported as that row, modified."""
    _raw(journal, sql)
    problem = journal.verify().problem
    assert problem is not None
    assert problem.kind == "modified"
    assert problem.seq == int(sql.rsplit("=", 1)[1])


def test_row_with_a_forged_hash_is_still_caught(journal: Journal) -> None:
    """Recomputing a modified row's own hash breaks the link of the row after it."""
    journal.close()
    execute(journal.location, "UPDATE entries SET content = 'x', hash = ? WHERE seq = 3",
            params=("f" * 64,))  # fmt: skip
    problem = journal.verify().problem
    assert problem is not None
    assert problem.seq == 3
    assert problem.kind == "modified"


def test_deleted_row_is_reported(journal: Journal) -> None:
    """Deleting a middle row is reported as rows deleted, at the gap."""
    _raw(journal, "DELETE FROM entries WHERE seq = 4")
    problem = journal.verify().problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (4, "deleted")


def test_deleted_and_renumbered_rows_are_reported(journal: Journal) -> None:
    """Deleting a row and closing the gap still shows at that place."""
    _raw(
        journal,
        "DELETE FROM entries WHERE seq = 4",
        "UPDATE entries SET seq = seq + 100 WHERE seq > 4",
        "UPDATE entries SET seq = seq - 101 WHERE seq > 100",
    )
    problem = journal.verify().problem
    assert problem is not None
    assert problem.seq == 4
    assert problem.kind in ("deleted", "modified")


def test_deleted_last_rows_are_reported(journal: Journal) -> None:
    """Deleting the newest rows is caught by the recorded head."""
    _raw(journal, "DELETE FROM entries WHERE seq >= 9")
    problem = journal.verify().problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (9, "deleted")


def test_inserted_row_at_the_end_is_reported(journal: Journal) -> None:
    """A row appended with raw SQL is reported as inserted."""
    _raw(
        journal,
        "INSERT INTO entries SELECT 11, kind, attempt, time, sn, operation, protocol, host, rrid,"
        " recipients, content, contents, segments, call_id, batch_index, batch_total, outcome,"
        " result, detail, latency_ms, pid, hash, hash FROM entries WHERE seq = 9",
    )
    problem = journal.verify().problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (11, "inserted")


def test_inserted_row_in_the_middle_is_reported(journal: Journal) -> None:
    """A row slipped in between two others (later rows renumbered) is reported as inserted."""
    _raw(
        journal,
        "UPDATE entries SET seq = seq + 100 WHERE seq >= 5",
        "UPDATE entries SET seq = seq - 99 WHERE seq > 100",
        "INSERT INTO entries SELECT 5, kind, attempt, time, sn, operation, protocol, host, rrid,"
        " '13999999999', content, contents, segments, call_id, batch_index, batch_total,"
        " outcome, result, detail, latency_ms, pid, prev, hash FROM entries WHERE seq = 3",
    )
    problem = journal.verify().problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (5, "inserted")


def test_cli_verify_exits_non_zero_on_a_break(file_journal: Journal) -> None:
    """`mandao journal verify` exits 0 and prints the head, then 1 after an edit."""
    journal = file_journal
    runner = CliRunner()
    args = ["journal", "--journal", str(journal.path), "verify", "--json"]
    ok = runner.invoke(main, args)
    assert ok.exit_code == 0, ok.output
    head = json.loads(ok.output)["head"]
    assert head.startswith("10:")
    again = runner.invoke(main, [*args[:-1], "--expect-head", head])
    assert again.exit_code == 0
    assert again.output.startswith("ok: 10 rows")
    _raw(journal, "UPDATE entries SET rrid = '1' WHERE seq = 7")
    broken = runner.invoke(main, args[:-1])
    assert broken.exit_code == 1
    assert "BROKEN at row 7: modified" in broken.output


def _age(journal: Journal, days: int, upto: int) -> None:
    """Make rows 1 … upto look ``days`` old, re-hashing them as if written then."""
    from mandao._journal import GENESIS, HASHED

    old = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="microseconds")
    journal.close()
    where = journal.location
    execute(where, "UPDATE entries SET time = ? WHERE seq <= ?", params=(old, upto))
    prev = GENESIS
    for row in query(where, f"SELECT {', '.join(HASHED)} FROM entries ORDER BY seq"):  # noqa: S608
        digest = row_hash(prev, row)
        execute(where, "UPDATE entries SET prev = ?, hash = ? WHERE seq = ?",
                params=(prev, digest, row[0]))  # fmt: skip
        prev = digest
    ((last,),) = query(where, "SELECT max(seq) FROM entries")
    execute(where, "UPDATE meta SET value = ? WHERE key = 'head'", params=(f"{last}:{prev}",))


def test_prune_refuses_rows_younger_than_the_retention(journal: Journal) -> None:
    """Pruning before a date less than 180 days ago, or with a shorter retention, is refused."""
    with pytest.raises(JournalError, match="younger than 180 days"):
        journal.prune(date.today() - timedelta(days=30))
    with pytest.raises(JournalError, match="override"):
        journal.prune(date.today() - timedelta(days=200), retention=timedelta(days=90))
    with pytest.raises(JournalError, match="younger than 365 days"):
        journal.prune(date.today() - timedelta(days=200), retention=timedelta(days=365))
    assert journal.verify().rows == 10


def test_prune_keeps_the_chain_verifiable(journal: Journal) -> None:
    """Pruning old rows records the anchor; the rest, and new rows, still verify."""
    _age(journal, 400, 6)
    result = journal.prune(date.today() - timedelta(days=200))
    assert (result.removed, result.anchor_seq) == (6, 6)
    after = journal.verify()
    assert after.ok
    assert after.anchor_seq == 6
    assert after.rows == 5
    _fill(journal, 1)
    assert journal.verify().ok
    assert [a.seq for a in journal.attempts()] == [7, 9, 12]


def test_prune_with_override_may_empty_the_journal(journal: Journal) -> None:
    """With override, every row can go; the chain continues from the anchor."""
    result = journal.prune(datetime.now(UTC) + timedelta(seconds=1), override=True)
    assert result.removed == 10
    _fill(journal, 1)
    check = journal.verify()
    assert check.ok
    assert check.rows == 3
    assert check.anchor_seq == 10


def test_deleting_old_rows_without_prune_is_reported(journal: Journal) -> None:
    """Removing the oldest rows and faking the anchor is caught: no prune row records it."""
    (row,) = query(journal.location, "SELECT hash FROM entries WHERE seq = 4")
    _raw(
        journal,
        "DELETE FROM entries WHERE seq <= 4",
        f"INSERT INTO meta VALUES ('anchor', '4:{row[0]}')",  # noqa: S608
    )
    problem = journal.verify().problem
    assert problem is not None
    assert problem.kind == "deleted"


def test_prune_refuses_a_broken_chain(journal: Journal) -> None:
    """A journal that does not verify is not pruned (that would hide the break)."""
    _age(journal, 400, 4)
    _raw(journal, "UPDATE entries SET content = 'x' WHERE seq = 2")
    with pytest.raises(JournalError, match="does not verify") as info:
        journal.prune(date.today() - timedelta(days=200))
    assert "at row 2: " in str(info.value)
    assert "Problem(" not in str(info.value)  # a sentence, not a repr


def test_cli_prune(file_journal: Journal) -> None:
    """`mandao journal prune` refuses young rows (exit 3) and prunes old ones."""
    journal = file_journal
    runner = CliRunner()
    base = ["journal", "--journal", str(journal.path), "prune", "--before"]
    young = runner.invoke(main, [*base, date.today().isoformat()])
    assert young.exit_code == 3
    assert "younger than 180 days" in young.output
    _age(journal, 400, 2)
    old = runner.invoke(main, [*base, (date.today() - timedelta(days=181)).isoformat(), "--json"])
    assert old.exit_code == 0, old.output
    assert json.loads(old.output)["removed"] == 2


def _piecewise_hash(prev: str, values: list[object]) -> str:
    """The row hash as first written: each piece fed to SHA-256 in turn."""
    digest = hashlib.sha256(prev.encode())
    for value in values:
        if value is None:
            digest.update(b"\nn0:")
            continue
        tag = "i" if isinstance(value, int) else "f" if isinstance(value, float) else "s"
        data = (value if isinstance(value, str) else repr(value)).encode()
        digest.update(f"\n{tag}{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
)


@given(st.text(alphabet="0123456789abcdef", max_size=64), st.lists(_VALUES, max_size=25))
def test_row_hash_is_the_piecewise_hash_journals_were_written_with(
    prev: str, values: list[object]
) -> None:
    """Hashing the joined text gives the digest of hashing piece by piece, so every
    journal already written still verifies."""
    assert row_hash(prev, values) == _piecewise_hash(prev, values)


def test_a_forged_head_record_is_a_journal_error(journal: Journal) -> None:
    """A meta head that is not SEQ:HASH stops verify and writes with a JournalError."""
    _raw(journal, "UPDATE meta SET value = 'ten' WHERE key = 'head'")
    with pytest.raises(JournalError, match="holds head = 'ten', not SEQ:HASH"):
        journal.verify()
    _raw(journal, "DELETE FROM entries", "INSERT INTO meta VALUES ('anchor', 'x:y')")
    with pytest.raises(JournalError, match="anchor"):
        _fill(journal, 1)
