"""The duplicate guard's index: the same answers as a scan of the window, one indexed
lookup per batch, kept up to date across writers, pruned with the rows, migrated (on
both backends, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import mandao
from mandao import DuplicateGuard, Journal
from mandao._journal import chain, indexer, sent
from mandao._journal import journal as journal_module
from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN
from .postgres import execute, query

OTHER_SN = "SDK-TST-010-00002"
WINDOW = timedelta(minutes=10)
SENDS = ("mdsmssend", "mdgxsend")


def _scan(
    journal: Journal, pairs: Iterable[tuple[str, str]], window: timedelta, sn: str | None
) -> set[tuple[str, str]]:
    """What the guard found before the index: every attempt of the window, read in turn."""
    since = datetime.now(UTC) - window
    wanted = list(pairs)
    found: set[tuple[str, str]] = set()
    for attempt in journal.attempts(since=since, sn=sn, operation=SENDS):
        if attempt.outcome in ("rejected", "unreachable"):
            continue
        for mobile, text in wanted:
            if attempt.text_for(mobile) == text:
                found.add((mobile, text))
    return found


def _random_attempts(journal: Journal, rng: random.Random, count: int) -> None:
    """Attempts of every kind: one text or one per number, two serials, every outcome."""
    mobiles = [f"1380000{i:04d}" for i in range(40)]
    texts = [f"通知 {i}【示例】" for i in range(6)]
    for _ in range(count):
        numbers = rng.sample(mobiles, rng.randint(1, 6))
        operation = rng.choice([*SENDS, "Register"])
        content: str | list[str] = (
            [rng.choice(texts) for _ in numbers] if operation == "mdgxsend" else rng.choice(texts)
        )
        seq = journal.begin(
            sn=rng.choice([SN, SN, OTHER_SN]), operation=operation, host="http://h/",
            recipients=numbers, content=content, rrid=str(rng.randint(1, 10**9)),
        )  # fmt: skip
        outcome = rng.choice(["accepted", "accepted", "rejected", "unknown", "unreachable", None])
        if outcome is not None:
            journal.complete(seq, outcome)


def _queries(rng: random.Random) -> list[tuple[str, str]]:
    return [(f"1380000{rng.randrange(40):04d}", f"通知 {rng.randrange(7)}【示例】")
            for _ in range(30)]  # fmt: skip


@pytest.fixture
def path(journal_location: Path | str) -> Path | str:
    """The journal's location: a file, or a PostgreSQL database."""
    return journal_location


@pytest.mark.parametrize("seed", range(6))
def test_the_index_finds_what_a_scan_of_the_window_finds(
    path: Path | str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random journals (old rows outside the window too, several serials, every outcome,
    a second writer that keeps no index): the index answers as the scan does. With odd
    seeds, attempts of more than two numbers are indexed in the background, racing the
    looks."""
    rng = random.Random(seed)
    if seed % 2:
        monkeypatch.setattr(indexer, "BACKGROUND", 2)
    guard, other = Journal(path), Journal(path)
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="microseconds")
    with monkeypatch.context() as old:
        old.setattr(chain, "now", lambda: hour_ago)
        _random_attempts(other, rng, 30)
    for _ in range(4):
        _random_attempts(rng.choice([guard, other]), rng, 25)
        for sn in (SN, None):
            pairs = _queries(rng)
            assert guard.duplicates(pairs, WINDOW, sn=sn) == _scan(guard, pairs, WINDOW, sn)
            wide = timedelta(hours=2)
            assert guard.duplicates(pairs, wide, sn=sn) == _scan(guard, pairs, wide, sn)
    guard.flush()  # the background writes, before the database goes
    assert guard.verify().ok


def test_a_shared_digest_never_makes_a_false_duplicate(
    path: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every text under one digest: what the index offers is checked against the rows."""
    monkeypatch.setattr(sent, "digest", lambda text: 7)
    journal = Journal(path)
    _random_attempts(journal, random.Random(1), 60)
    pairs = _queries(random.Random(2))
    found = journal.duplicates(pairs, WINDOW)
    assert found == _scan(journal, pairs, WINDOW, None)
    assert found != set(pairs)


def test_a_writer_that_keeps_no_index_leaves_a_gap_the_next_look_fills(path: Path | str) -> None:
    """Rows written by a journal that never looked (another process, say) stop the others
    indexing as they write until the next look indexes the gap."""
    looks, plain = Journal(path), Journal(path)
    assert looks.duplicates([("13800138000", "甲【示例】")], WINDOW) == set()
    looks.begin(sn=SN, operation="mdsmssend", host="h", recipients=["13800138000"],
                content="甲【示例】")  # fmt: skip
    plain.begin(sn=SN, operation="mdsmssend", host="h", recipients=["13900139000"],
                content="乙【示例】")  # fmt: skip
    looks.begin(sn=SN, operation="mdgxsend", host="h", recipients=["13700137000", "13600136000"],
                content=["丙【示例】", "丁【示例】"])  # fmt: skip
    assert query(path, "SELECT value FROM meta WHERE key = 'sent'") == [("1",)]
    assert query(path, "SELECT count(*) FROM sent") == [(1,)]
    pairs = [("13800138000", "甲【示例】"), ("13900139000", "乙【示例】"),
             ("13600136000", "丁【示例】"), ("13600136000", "丙【示例】")]  # fmt: skip
    assert looks.duplicates(pairs, WINDOW) == set(pairs[:3])
    assert query(path, "SELECT value FROM meta WHERE key = 'sent'") == [("3",)]
    assert query(path, "SELECT count(*) FROM sent") == [(4,)]


def test_catching_up_goes_a_chunk_at_a_time(
    path: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long gap is indexed in several transactions, each moving the mark, to the end."""
    monkeypatch.setattr(sent, "CHUNK", 7)
    journal = Journal(path)
    for i in range(30):
        seq = journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=[f"1380000{i:04d}"],
                            content="分批【示例】")  # fmt: skip
        journal.complete(seq, "accepted")
    chunks: list[str] = []
    write = journal._database.write

    def counted(what: str, work: Callable[..., object]) -> object:
        chunks.append(what)
        return write(what, work)

    monkeypatch.setattr(journal._database, "write", counted)
    pairs = [(f"1380000{i:04d}", "分批【示例】") for i in range(0, 40, 3)]
    assert journal.duplicates(pairs, WINDOW) == set(pairs[:10])
    assert chunks == ["index"] * 5  # 30 attempts, 7 a chunk
    assert query(path, "SELECT value FROM meta WHERE key = 'sent'") == [("60",)]


def test_one_indexed_lookup_per_batch(gateway: SandboxGateway, tmp_path: Path) -> None:
    """A guarded send of three batches looks in the index three times, by its key."""
    journal = Journal(tmp_path / "j.sqlite3")
    client = gateway.client(SN, PASSWORD, journal=journal, duplicate_guard=DuplicateGuard())
    client.send([f"1390000{i:04d}" for i in range(30)], "先前的【示例】")
    looked: list[str] = []
    conn = journal._database.connection()  # type: ignore[attr-defined]
    conn.set_trace_callback(lambda sql: looked.append(sql) if "JOIN sent s" in sql else None)
    numbers = [f"1390000{i:04d}" for i in range(20, 50)]
    result = client.send(numbers, "先前的【示例】", batch_size=10)
    conn.set_trace_callback(None)
    assert [s.value for s in result.skipped] == numbers[:10]
    assert len(looked) == 3  # before sending: the first batch was all duplicates
    assert result.recipients == tuple(numbers[10:])
    assert len(result.batches) == 2
    plan = conn.execute("EXPLAIN QUERY PLAN " + looked[0]).fetchall()
    assert any("PRIMARY KEY (digest=? AND mobile=?)" in str(step) for step in plan)


def test_pruning_removes_the_index_rows_of_the_rows_it_removes(
    path: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index holds no number of a pruned attempt; the rest stay and are found."""
    journal = Journal(path)
    journal.duplicates([("13800138000", "x")], WINDOW)  # index from the first row
    year_ago = (datetime.now(UTC) - timedelta(days=365)).isoformat(timespec="microseconds")
    with monkeypatch.context() as old:
        old.setattr(chain, "now", lambda: year_ago)
        journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=["13800138000"],
                      content="旧【示例】")  # fmt: skip
    journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=["13900139000"],
                  content="新【示例】")  # fmt: skip
    assert journal.prune(datetime.now(UTC) - timedelta(days=200)).removed == 1
    assert query(path, "SELECT mobile, attempt FROM sent") == [("13900139000", 2)]
    assert journal.duplicates([("13900139000", "新【示例】")], WINDOW) == {
        ("13900139000", "新【示例】")
    }
    assert journal.verify().ok


def test_an_unreadable_index_is_a_journal_error(path: Path | str) -> None:
    """A journal whose index table was dropped outside mandao says so as a JournalError."""
    journal = Journal(path)
    journal.verify()
    execute(path, "DROP TABLE sent")
    with pytest.raises(mandao.JournalError, match="cannot read the journal"):
        journal.duplicates([("13800138000", "x")], WINDOW)


def test_one_indexed_lookup_per_batch_on_postgresql(
    gateway: SandboxGateway, postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL too, a guarded send of three batches makes three lookups, each one
    query that the index's primary key serves (however small the table)."""
    journal = Journal(postgresql_url)
    client = gateway.client(SN, PASSWORD, journal=journal, duplicate_guard=DuplicateGuard())
    client.send([f"1390000{i:04d}" for i in range(30)], "先前的【示例】")
    looked: list[tuple[object, ...]] = []
    lookup = journal_module.candidates

    def counted(*args: object) -> list[int]:
        looked.append(args[1:])
        return lookup(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(journal_module, "candidates", counted)
    numbers = [f"1390000{i:04d}" for i in range(20, 50)]
    result = client.send(numbers, "先前的【示例】", batch_size=10)
    assert len(looked) == 3
    assert len(result.skipped) == 10
    assert result.recipients == tuple(numbers[10:])
    import psycopg

    from mandao._journal.postgresql import _statement

    pairs, since, sn = looked[0]
    wanted = json.dumps([[sent.digest(text), mobile] for mobile, text in pairs])  # type: ignore[attr-defined]
    sql = _statement(sent._CANDIDATES) + " AND a.sn = %s"
    with psycopg.connect(postgresql_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = conn.execute(f"EXPLAIN {sql}", (wanted, since, sn)).fetchall()
        journal.close()
    assert any("sent_pkey" in str(step) for step in plan), plan


def test_a_send_the_guard_leaves_nothing_of_says_so_in_its_repr(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """Every number skipped as a duplicate: no request, and the result says that much."""
    client = gateway.client(SN, PASSWORD, journal=tmp_path / "j.sqlite3",
                            duplicate_guard=DuplicateGuard())  # fmt: skip
    client.send(["13800138000", "13900139000"], "通知【示例】")
    again = client.send(["13800138000", "13900139000"], "通知【示例】")
    assert again.batches == ()
    assert repr(again) == "<SendResult nothing sent: 2 left out (2 duplicate)>"
