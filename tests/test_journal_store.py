"""The journal's file: its schema version, the migrations from every earlier schema, and the
one column list the table, its SQL and its row type come from."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mandao import Journal, JournalError
from mandao._journal import HASHED, SCHEMA_VERSION, Entry

SN = "SDK-TST-010-00001"

# Every earlier schema, as the SQL mandao ran (``git log -p`` of the old _journal.py). Files
# of versions 1 and 2 first recorded no version (user_version 0); from 2 on mandao records
# it (see OLD_FILES). Each new schema version adds its predecessor here.
LEGACY: dict[int, str] = {
    # 3360046: the first journal.
    1: """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    attempt INTEGER,
    time TEXT NOT NULL,
    sn TEXT, operation TEXT, protocol TEXT, host TEXT, rrid TEXT,
    recipients TEXT, content TEXT, contents TEXT, segments INTEGER,
    call_id TEXT, batch_index INTEGER, batch_total INTEGER,
    outcome TEXT, result TEXT, detail TEXT, latency_ms REAL, pid INTEGER,
    prev TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_time ON entries (time);
CREATE INDEX IF NOT EXISTS entries_attempt ON entries (attempt) WHERE attempt IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""",
    # bf7caa0: meta became a WITHOUT ROWID table.
    2: """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    attempt INTEGER,
    time TEXT NOT NULL,
    sn TEXT, operation TEXT, protocol TEXT, host TEXT, rrid TEXT,
    recipients TEXT, content TEXT, contents TEXT, segments INTEGER,
    call_id TEXT, batch_index INTEGER, batch_total INTEGER,
    outcome TEXT, result TEXT, detail TEXT, latency_ms REAL, pid INTEGER,
    prev TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_time ON entries (time);
CREATE INDEX IF NOT EXISTS entries_attempt ON entries (attempt) WHERE attempt IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
""",
}
# 3c4e7a8: the duplicate guard's index, ``sent``, beside version 2's tables.
LEGACY[3] = (
    LEGACY[2]
    + """
CREATE TABLE IF NOT EXISTS sent (digest INTEGER NOT NULL, mobile TEXT NOT NULL,
    attempt INTEGER NOT NULL, PRIMARY KEY (digest, mobile, attempt)) WITHOUT ROWID;
"""
)

# The hashed columns, in hashing order, as every journal so far was written: the file format.
_OLD_COLUMNS = (
    "seq", "kind", "attempt", "time", "sn", "operation", "protocol", "host", "rrid",
    "recipients", "content", "contents", "segments", "call_id", "batch_index", "batch_total",
    "outcome", "result", "detail", "latency_ms", "pid",
)  # fmt: skip
_OLD_INSERT = (
    f"INSERT INTO entries ({', '.join(_OLD_COLUMNS)}, prev, hash) "  # noqa: S608
    f"VALUES ({', '.join('?' * (len(_OLD_COLUMNS) + 2))})"
)
_GENESIS = "0" * 64

# (schema, user_version as the file records it): 1 and 2 as first written, unrecorded;
# 2 and later as mandao has recorded them since.
OLD_FILES = [(1, 0), (2, 0), *((version, version) for version in sorted(LEGACY) if version >= 2)]


def _old_hash(prev: str, values: list[object]) -> str:
    """The row hash as the first journals computed it, piece by piece."""
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


class _OldWriter:
    """Rows written the old way: literal SQL, hashed by the old code's rule."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.seq, self.prev = 0, _GENESIS

    def append(self, **row: Any) -> int:
        self.seq += 1
        stamp = datetime.now(UTC).isoformat(timespec="microseconds")
        row = {"seq": self.seq, "time": stamp, "pid": os.getpid(), **row}
        values = [row.get(name) for name in _OLD_COLUMNS]
        digest = _old_hash(self.prev, values)
        self.conn.execute(_OLD_INSERT, (*values, self.prev, digest))
        self.prev = digest
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('head', ?)", (f"{self.seq}:{digest}",)
        )
        return self.seq

    def attempt(self, mobiles: list[str], content: str | list[str], rrid: str) -> int:
        single = isinstance(content, str)
        return self.append(
            kind="attempt", sn=SN, operation="mdsmssend" if single else "mdgxsend",
            protocol="soap", host="http://127.0.0.1:1/webservice.asmx", rrid=rrid,
            recipients=",".join(mobiles), content=content if single else None,
            contents=None if single else json.dumps(content, ensure_ascii=False),
            segments=1, call_id="42-1", batch_index=0, batch_total=1, outcome="pending",
        )  # fmt: skip

    def outcome(self, attempt: int, outcome: str, result: str) -> int:
        return self.append(kind="outcome", attempt=attempt, outcome=outcome, result=result,
                           detail="", latency_ms=2.5)  # fmt: skip

    def prune(self, upto: int) -> None:
        """Delete rows 1 … upto as the old prune did: anchor in meta, and a prune row."""
        (anchor_hash,) = self.conn.execute(
            "SELECT hash FROM entries WHERE seq = ?", (upto,)
        ).fetchone()
        self.conn.execute("DELETE FROM entries WHERE seq <= ?", (upto,))
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('anchor', ?)",
            (f"{upto}:{anchor_hash}",),
        )
        detail = {"anchor_seq": upto, "anchor_hash": anchor_hash, "before": "2026-01-01",
                  "removed": upto}  # fmt: skip
        self.append(kind="prune", detail=json.dumps(detail), outcome="")


def _old_journal(path: Path, version: int, recorded: int = 0) -> str:
    """A journal of schema ``version`` with rows of every kind; return its head (SEQ:HASH)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(LEGACY[version])
    conn.execute(f"PRAGMA user_version = {recorded}")
    old = _OldWriter(conn)
    first = old.attempt(["13800000000"], "早先的一条【示例】", "900")
    old.outcome(first, "accepted", "900")
    old.prune(2)
    sent = old.attempt(["13800138000", "13900139000"], "验证码 1234【示例】", "1001")
    old.outcome(sent, "accepted", "1001")
    personal = old.attempt(
        ["13700137000", "13600136000"], ["张三, 您好【示例】", "李四【示例】"], "1002"
    )
    old.outcome(personal, "rejected", "-4")
    old.attempt(["13500135000"], "断电前的一条【示例】", "1003")  # pending: cut off
    (head,) = conn.execute("SELECT value FROM meta WHERE key = 'head'").fetchone()
    conn.close()
    return str(head)


def _shape(path: Path) -> dict[str, Any]:
    """What a schema is made of: each table's columns and storage, each index."""
    conn = sqlite3.connect(path)
    shape: dict[str, Any] = {}
    for kind, name, sql in conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall():
        if kind == "table":
            columns = conn.execute(f"PRAGMA table_xinfo({name})").fetchall()
            shape[name] = (columns, "WITHOUT ROWID" in sql.upper())
        else:
            shape[name] = " ".join(sql.split())
    shape["user_version"] = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    return shape


def test_every_earlier_schema_has_a_fixture() -> None:
    """Each schema version before the current one is recreated here, so each is tested
    (2 both as written before versions were recorded and after)."""
    assert set(range(1, SCHEMA_VERSION)) <= set(LEGACY) <= set(range(1, SCHEMA_VERSION + 1))


def test_a_new_journal_records_the_current_schema(tmp_path: Path) -> None:
    """A new file gets the schema version and a table whose columns are Entry's fields."""
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.verify()
    conn = sqlite3.connect(tmp_path / "j.sqlite3")
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    names = [row[1] for row in conn.execute("PRAGMA table_info(entries)")]
    (meta,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'meta'").fetchone()
    conn.close()
    assert names == list(Entry._fields)
    assert "WITHOUT ROWID" in meta


def test_hashed_columns_keep_the_order_journals_were_written_with() -> None:
    """The column list hashes the same columns in the same order as every journal so far."""
    assert HASHED == _OLD_COLUMNS
    assert Entry._fields == (*_OLD_COLUMNS, "prev", "hash")


@pytest.mark.parametrize(("version", "recorded"), OLD_FILES)
def test_an_old_journal_migrates_and_its_chain_still_verifies(
    tmp_path: Path, version: int, recorded: int
) -> None:
    """A journal of each earlier schema, written the old way, is brought to the current
    schema on open: same tables as a new one, every old row readable, the chain (and the
    head recorded before) verifying, and new rows appended to it."""
    path = tmp_path / "old.sqlite3"
    head = _old_journal(path, version, recorded)
    assert _shape(path)["user_version"] == recorded
    seq, _, digest = head.partition(":")
    with Journal(path) as journal:
        check = journal.verify(expect_head=(int(seq), digest))
        assert check.ok, check.problem
        assert (check.rows, check.anchor_seq, f"{check.head_seq}:{check.head_hash}") == (
            6,
            2,
            head,
        )
        found = [(a.rrid, a.outcome, a.result, a.recipients, a.content) for a in journal.attempts()]
        assert found == [
            ("1001", "accepted", "1001", ("13800138000", "13900139000"), "验证码 1234【示例】"),
            ("1002", "rejected", "-4", ("13700137000", "13600136000"),
             ("张三, 您好【示例】", "李四【示例】")),
            ("1003", "pending", "", ("13500135000",), "断电前的一条【示例】"),
        ]  # fmt: skip
        (cut_off,) = journal.pending()
        assert (cut_off.seq, cut_off.rrid) == (8, "1003")
        journal.complete(cut_off.seq, "unknown", detail="cut off before the answer")
        new = journal.begin(
            sn=SN, operation="mdsmssend", host="http://h/", recipients=["13800138000"],
            content="新的一条【示例】", rrid="2001",
        )  # fmt: skip
        journal.complete(new, "accepted", result="2001")
        after = journal.verify(expect_head=(int(seq), digest))
        assert after.ok, after.problem
        assert after.rows == 9
    fresh = tmp_path / "new.sqlite3"
    Journal(fresh).verify()
    assert _shape(path) == _shape(fresh)


@pytest.mark.parametrize(("version", "recorded"), OLD_FILES)
def test_migrating_keeps_tampering_visible(tmp_path: Path, version: int, recorded: int) -> None:
    """An old row edited before the upgrade is still reported after it."""
    path = tmp_path / "old.sqlite3"
    _old_journal(path, version, recorded)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE entries SET content = '改过【示例】' WHERE seq = 4")
    conn.close()
    problem = Journal(path).verify().problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (4, "modified")


@pytest.mark.parametrize(("version", "recorded"), OLD_FILES)
def test_the_duplicate_guard_finds_what_an_old_journal_sent(
    tmp_path: Path, version: int, recorded: int
) -> None:
    """The index a migration adds starts empty; the guard's first look fills it from the
    old rows (pending and accepted attempts count, a rejected one does not)."""
    path = tmp_path / "old.sqlite3"
    _old_journal(path, version, recorded)
    with Journal(path) as journal:
        assert journal.verify().ok  # opened: migrated
        conn = sqlite3.connect(path)
        assert conn.execute("SELECT count(*) FROM sent").fetchone() == (0,)
        pairs = [
            ("13800138000", "验证码 1234【示例】"),
            ("13500135000", "断电前的一条【示例】"),
            ("13600136000", "李四【示例】"),
            ("13800000000", "早先的一条【示例】"),
        ]
        assert journal.duplicates(pairs, timedelta(hours=1), sn=SN) == set(pairs[:2])
        assert conn.execute("SELECT count(*) FROM sent").fetchone() == (5,)
        conn.close()
        assert journal.verify().ok


def test_one_migration_when_many_open_an_old_journal_at_once(tmp_path: Path) -> None:
    """Threads opening one old journal at once migrate it once; none sees it half done."""
    path = tmp_path / "old.sqlite3"
    _old_journal(path, 1)
    results: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_and_verify() -> None:
        start.wait()
        try:
            results.append(Journal(path).verify().ok)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_and_verify) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [True] * 6
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM meta").fetchone() == (2,)  # head and anchor
    conn.close()


def test_a_journal_from_a_newer_mandao_is_refused(tmp_path: Path) -> None:
    """A schema version this code does not know is refused, saying to upgrade, untouched."""
    path = tmp_path / "j.sqlite3"
    Journal(path).verify()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalError, match="upgrade mandao"):
        Journal(path).verify()
    assert _shape(path)["user_version"] == SCHEMA_VERSION + 1
