"""The journal on PostgreSQL: what only a server has (processes and machines on one chain,
lost connections, URLs and passwords, the schema table), against a real server."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import mandao
from mandao import Journal, JournalError
from mandao._journal import SCHEMA_VERSION, journal_of, label_of
from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN
from .postgres import Server, execute, query, unavailable

SECRET = "pw-N0t-Shown"


def _fill(journal: Journal, n: int, tag: int = 0) -> None:
    for i in range(n):
        seq = journal.begin(sn=SN, operation="mdsmssend", host="http://h/",
                            recipients=[f"13{tag}{i:08d}"], content=f"第 {i} 条")  # fmt: skip
        journal.complete(seq, "accepted", result=str(seq))


def _with_password(url: str, password: str = SECRET) -> str:
    """``url`` with a password in its user part (the test server trusts the socket)."""
    scheme, rest = url.split("://", 1)
    user, _, host = rest.partition("@")
    return f"{scheme}://{user}:{password}@{host}"


def _append(url: str, tag: int, count: int, start: Any) -> None:
    """One process's share of the writes, begun when every process is ready."""
    start.wait()
    with Journal(url) as journal:
        _fill(journal, count, tag)


def test_processes_append_to_one_chain(postgresql_url: str) -> None:
    """Two processes (as two machines would) appending at once keep one verifying chain,
    their rows interleaved, none lost or doubled."""
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(2)
    writers = [spawn.Process(target=_append, args=(postgresql_url, n, 300, start))
               for n in (1, 2)]  # fmt: skip
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    with Journal(postgresql_url) as journal:
        check = journal.verify()
        assert check.ok, check.problem
        assert check.rows == 1200
        attempts = list(journal.attempts())
    assert len({a.recipients for a in attempts}) == 600
    assert all(a.outcome == "accepted" and a.result == str(a.seq) for a in attempts)
    pids = [a.pid for a in attempts]
    assert len(set(pids)) == 2
    assert sum(1 for a, b in itertools.pairwise(pids) if a != b) > 2  # interleaved


def test_a_forked_child_writes_with_connections_of_its_own(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child forked after the journal was used makes its own connections, and leaves
    its parent's alone (not one is lost); parent and child write at once, the chain holds."""
    journal = Journal(postgresql_url)
    _fill(journal, 3)
    lost: list[str] = []
    monkeypatch.setattr(journal._database, "_recover", lambda: lost.append("lost"))
    fork = multiprocessing.get_context("fork")
    child = fork.Process(target=_fill, args=(journal, 50, 7))
    child.start()
    _fill(journal, 50, 8)
    child.join(60)
    assert child.exitcode == 0
    check = journal.verify()
    assert check.ok, check.problem
    assert check.rows == 206
    assert len({a.pid for a in journal.attempts()}) == 2
    _fill(journal, 1)
    assert lost == []
    journal.close()


def _terminate(url: str) -> int:
    """End the journal's sessions on the server, as an operator (or a restart) would."""
    rows = query(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
        "current_database() AND pid <> pg_backend_pid() AND application_name = 'mandao'",
    )
    return len(rows)


def _terminate_some(url: str) -> int:
    """:func:`_terminate` once the journal has a session to end: its pool opens a
    connection in the background after a loss, so there may be none for a moment."""
    deadline = time.monotonic() + 10
    while (ended := _terminate(url)) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling the server for a condition, not waiting out a guess
    return ended


def test_whether_a_cut_commit_landed_is_asked_again_on_a_new_connection(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends its sessions one after another: the connections that ask whether
    a cut-off commit landed may be ended too. That read is made again, up to a new one."""
    import contextlib

    import psycopg

    from mandao._journal import postgresql

    journal = Journal(postgresql_url)
    _fill(journal, 1)
    database = journal._database  # type: ignore[attr-defined]
    (seq, digest), *_ = query(postgresql_url, "SELECT seq, hash FROM entries ORDER BY seq DESC")
    opened = database.connection
    # Each connection of the pool lost in turn (4, its most), then a new one answers.
    lost = [postgresql._Lost(psycopg.OperationalError("terminating")) for _ in range(4)]

    @contextlib.contextmanager
    def connection() -> Any:
        if lost:
            raise lost.pop()
        with opened() as raw:
            yield raw

    monkeypatch.setattr(database, "connection", connection)
    error = psycopg.OperationalError("cut")
    assert database._landed((seq, digest), error) is True
    assert not lost
    assert database._landed((seq + 1, digest), error) is False
    journal.close()


def test_a_journal_survives_its_connections_being_killed(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the server ends its sessions, the next write and read work on new
    connections; each row is written once and the chain holds."""
    journal = Journal(postgresql_url)
    _fill(journal, 2)
    recovered: list[bool] = []
    recover = journal._database._recover  # type: ignore[attr-defined]
    monkeypatch.setattr(journal._database, "_recover", lambda: recovered.append(recover()))
    for _ in range(2):
        assert _terminate_some(postgresql_url) >= 1
        seq = journal.begin(sn=SN, operation="mdsmssend", host="http://h/",
                            recipients=["13800138000"], content="断线后【示例】")  # fmt: skip
        journal.complete(seq, "accepted", result="1")
        assert _terminate_some(postgresql_url) >= 1
        assert len(journal.pending()) == 0
    check = journal.verify()
    assert check.ok, check.problem
    assert check.rows == 8
    assert [a.seq for a in journal.attempts()] == [1, 3, 5, 7]
    assert len(recovered) >= 2  # the lost connections were met, and replaced
    journal.close()


def test_a_write_cut_off_is_written_once_or_refused(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection lost just as an append's commit went out: the row found in the table
    counts as written (never written twice); not found, it is written again."""
    journal = Journal(postgresql_url)
    _fill(journal, 1)
    database = journal._database
    real = database._append  # type: ignore[attr-defined]

    def commit_then_lose(conn: Any, *args: Any) -> Any:
        real(conn, *args)  # committed; then the connection goes before the answer is read
        _terminate(postgresql_url)
        conn.raw.execute("SELECT 1")

    monkeypatch.setattr(database, "_append", commit_then_lose)
    seq = journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=["13900139000"])
    monkeypatch.undo()
    assert seq == 3
    assert [a.seq for a in journal.attempts()] == [1, 3]
    assert journal.verify().ok
    journal.close()


def test_writers_that_wait_succeed_under_a_serializable_default(postgresql_url: str) -> None:
    """A database whose default isolation is SERIALIZABLE: mandao's connections still run
    READ COMMITTED, so a writer that waited for the head row reads what the one before it
    committed instead of failing; four threads' journals (four pools) all write, once."""
    (name,) = query(postgresql_url, "SELECT current_database()")[0]
    execute(postgresql_url, f'ALTER DATABASE "{name}" SET default_transaction_isolation '
                            "= 'serializable'")  # fmt: skip
    assert query(postgresql_url, "SHOW transaction_isolation") == [("serializable",)]
    journals = [Journal(postgresql_url) for _ in range(4)]
    seen = journals[0]._database.write(  # type: ignore[attr-defined]
        "check", lambda conn: conn.execute("SHOW transaction_isolation").fetchone()
    )
    assert tuple(seen) == ("read committed",)
    start = threading.Barrier(len(journals))
    failures: list[BaseException] = []

    def write(journal: Journal, tag: int) -> None:
        start.wait()
        try:
            _fill(journal, 40, tag)
        except BaseException as exc:  # reported below, by the test
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(j, n)) for n, j in enumerate(journals, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    check = journals[0].verify()
    assert check.ok, check.problem
    assert check.rows == 4 * 40 * 2
    for journal in journals:
        journal.close()


def test_the_password_never_shows(postgresql_server: Server | str, postgresql_url: str) -> None:
    """A URL's password is in no repr, label, location or error (nor an error's cause)."""
    assert isinstance(postgresql_server, Server)
    url = _with_password(postgresql_url)
    journal = Journal(url)
    assert journal.verify().ok  # the location is a URL libpq connects with
    client = mandao.Client(SN, PASSWORD, journal=journal)
    shown = [repr(journal), journal.label, str(journal.location), repr(client),
             label_of(url), label_of(journal)]  # fmt: skip
    assert journal.label == postgresql_url
    assert not [text for text in shown if SECRET in text]
    gone = _with_password(postgresql_server.url("no_such_database"))
    bad = f"{url}&bogus=1"
    cases: list[str] = [gone, bad]
    if postgresql_server.cluster is not None:  # ours has a user who must give a password
        good = postgresql_server.password_url(postgresql_url.split("/")[3].split("?")[0])
        assert good is not None
        assert Journal(good).verify().ok
        cases.append(good.replace(":pg-S3cret-pass@", f":{SECRET}@"))
    for case in cases:
        with pytest.raises(JournalError) as refused:
            Journal(case).verify()
        text = str(refused.value)
        assert "cannot open the journal postgresql://" in text
        assert SECRET not in text
        assert SECRET not in repr(refused.value.__cause__)
        assert SECRET not in repr(refused.value.__context__)
    journal.close()


def test_a_bad_url_or_no_server_says_what_to_do() -> None:
    """A URL libpq cannot read, or a server that is not there: a JournalError naming the
    journal and what to check, at once (not after the timeout)."""
    pytest.importorskip("psycopg")
    with pytest.raises(JournalError, match=r"write it as postgresql://user\[:password\]@host"):
        Journal("postgresql://mandao@/db?no_such_option=1")
    missing = "postgresql://mandao@/db?host=/nonexistent-mandao-socket-folder"
    with pytest.raises(JournalError, match="check that the server runs") as refused:
        Journal(missing, timeout=30).begin(sn=SN, operation="Register", host="h")
    assert missing in str(refused.value)


def test_a_new_database_gets_the_current_schema_once(postgresql_url: str) -> None:
    """Six threads opening a new database at once make its schema once; it records the
    current version, and the head row writers lock exists from the start."""
    results: list[bool] = []
    start = threading.Barrier(6)

    def open_and_verify() -> None:
        start.wait()
        with Journal(postgresql_url) as journal:
            results.append(journal.verify().ok)

    threads = [threading.Thread(target=open_and_verify) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 6
    assert query(postgresql_url, "SELECT version FROM journal_schema") == [(SCHEMA_VERSION,)]
    assert query(postgresql_url, "SELECT key FROM meta") == [("head",)]
    tables = query(postgresql_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert sorted(t for (t,) in tables) == [
        "cursors", "entries", "inbound", "journal_schema", "meta", "replies", "reports",
        "resolutions", "sent", "suppressions",
    ]  # fmt: skip


def test_a_newer_schema_or_a_foreign_table_is_refused(postgresql_url: str) -> None:
    """A schema version this code does not know, or a database that already holds an
    entries table of something else, is refused and left as it is."""
    Journal(postgresql_url).verify()
    execute(postgresql_url, "UPDATE journal_schema SET version = ?", params=(SCHEMA_VERSION + 1,))
    with pytest.raises(JournalError, match="upgrade mandao"):
        Journal(postgresql_url).verify()
    execute(postgresql_url, "DROP TABLE journal_schema", "DROP TABLE entries",
            "CREATE TABLE entries (id INTEGER)")  # fmt: skip
    with pytest.raises(JournalError, match="not a mandao journal"):
        Journal(postgresql_url).verify()


def test_the_same_rows_verify_alike_on_both(tmp_path: Path, postgresql_url: str) -> None:
    """Rows written to SQLite and copied as they are into PostgreSQL verify there with the
    same head: one hashing, whatever the backend (a journal can move between them)."""
    lite = Journal(tmp_path / "j.sqlite3")
    _fill(lite, 3)
    lite.begin(sn=SN, operation="mdgxsend", host="h", recipients=["13700137000", "13600136000"],
               content=["张三, 您好【示例】", "李四【示例】"], segments=1)  # fmt: skip
    expected = lite.verify()
    lite.close()
    Journal(postgresql_url).verify()  # the schema
    rows = query(tmp_path / "j.sqlite3", "SELECT * FROM entries ORDER BY seq")
    head = query(tmp_path / "j.sqlite3", "SELECT value FROM meta WHERE key = 'head'")
    insert = f"INSERT INTO entries VALUES ({', '.join('?' * len(rows[0]))})"  # noqa: S608
    for row in rows:
        execute(postgresql_url, insert, params=row)
    execute(postgresql_url, "UPDATE meta SET value = ? WHERE key = 'head'", params=head[0])
    with Journal(postgresql_url) as journal:
        assert journal.verify() == expected
        _fill(journal, 1)
        assert journal.verify().ok


def test_a_client_journals_to_a_url(gateway: SandboxGateway, postgresql_url: str) -> None:
    """Client(journal="postgresql://...") and postgres:// both journal to the database;
    durable=True is accepted (the server's own durability holds)."""
    client = gateway.client(SN, PASSWORD, journal=postgresql_url)
    client.send("13800138000", "验证码 1234【示例】")
    assert client.journal is not None
    assert client.journal.kind == "postgresql"
    (attempt,) = client.journal.attempts()
    assert attempt.outcome == "accepted"
    other = journal_of(postgresql_url.replace("postgresql://", "postgres://", 1))
    assert other is not None
    assert [a.seq for a in other.attempts()] == [1]
    with Journal(postgresql_url, durable=True) as durable:
        assert durable.verify().ok
    other.close()
    client.journal.close()


def test_an_sqlite_journal_does_not_import_psycopg(tmp_path: Path) -> None:
    """psycopg loads only with a PostgreSQL journal: a file journal never imports it."""
    code = (
        "import sys, mandao\n"
        f"j = mandao.Journal({str(tmp_path / 'j.sqlite3')!r})\n"
        "j.begin(sn='S', operation='Register', host='h')\n"
        "print(j.verify().ok, 'psycopg' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MANDAO_JOURNAL"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout  # fmt: skip
    assert out.split() == ["True", "False"]


def test_without_a_server_the_tests_skip_saying_how_or_fail_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No server: a PostgreSQL test is skipped with how to enable it, or, with
    MANDAO_REQUIRE_POSTGRESQL=1 (CI), fails."""
    monkeypatch.delenv("MANDAO_REQUIRE_POSTGRESQL", raising=False)
    with pytest.raises(pytest.skip.Exception, match="MANDAO_TEST_POSTGRESQL=postgresql://"):
        unavailable("no server programs")
    monkeypatch.setenv("MANDAO_REQUIRE_POSTGRESQL", "1")
    with pytest.raises(pytest.fail.Exception, match="install Debian's postgresql"):
        unavailable("no server programs")


def test_a_version_3_database_is_migrated_to_the_current_schema(postgresql_url: str) -> None:
    """A journal made before schema 4 (no tables for what comes back) gets them, empty, on
    its next opening; its send rows keep verifying."""
    with Journal(postgresql_url) as journal:
        seq = journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=["13800138000"])
    for table in ("inbound", "replies", "reports", "cursors", "suppressions", "resolutions"):
        execute(postgresql_url, f"DROP TABLE {table}")
    execute(postgresql_url, "UPDATE journal_schema SET version = 3")
    with Journal(postgresql_url) as journal:
        assert journal.verify().ok
        assert journal.resolve([seq], outcome="sent", evidence="a test") == 1
        assert journal.suppressed(["13800138000"], sn=SN) == set()
    assert query(postgresql_url, "SELECT version FROM journal_schema") == [(SCHEMA_VERSION,)]
