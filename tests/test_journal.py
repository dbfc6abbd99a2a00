"""The send journal: write-ahead rows, outcomes, guards, privacy of the file (each test
that is about behaviour runs on both backends, SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import warnings
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

import mandao
from mandao import DuplicateGuard, Journal
from mandao._core.admission import Change
from mandao._core.call import Admit, Release
from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN
from .postgres import execute, query

TEXT = "验证码 1234【示例】"


@pytest.fixture
def journal(journal_location: Path | str) -> Iterator[Journal]:
    """A new journal: a file in a fresh folder, or a new PostgreSQL database."""
    with Journal(journal_location) as journal:
        yield journal


@pytest.fixture
def file_journal(tmp_path: Path) -> Journal:
    """A journal file in a fresh folder (for what only a file has)."""
    return Journal(tmp_path / "data" / "journal.sqlite3")


@pytest.fixture
def jclient(gateway: SandboxGateway, journal: Journal) -> mandao.Client:
    """A sandbox client that journals to ``journal``."""
    return gateway.client(SN, PASSWORD, timeout=(1, 5), journal=journal)


class _Peek(requests.Session):
    """A session that reads the journal's pending rows as each request leaves."""

    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self.journal = journal
        self.seen: list[list[tuple[str, tuple[str, ...], str]]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:  # type: ignore[override]
        self.seen.append([(a.rrid, a.recipients, a.outcome) for a in self.journal.pending()])
        return super().send(request, **kwargs)  # type: ignore[arg-type]


def test_pending_row_is_written_before_the_request_leaves(
    gateway: SandboxGateway, journal: Journal
) -> None:
    """Each request finds its own pending row in the journal as it goes out."""
    peek = _Peek(journal)
    client = gateway.client(SN, PASSWORD, journal=journal, session=peek)
    result = client.send(["13800138000", "13900139000", "13700137000"], TEXT, batch_size=2)
    rrids = [b.rrid for b in result.batches]
    assert [[row[0] for row in seen] for seen in peek.seen] == [[r] for r in rrids]
    assert peek.seen[0][0][1] == ("13800138000", "13900139000")
    assert journal.pending() == []
    done = list(journal.attempts())
    assert [(a.outcome, a.result, a.batch_index, a.batch_total) for a in done] == [
        ("accepted", rrids[0], 0, 2),
        ("accepted", rrids[1], 1, 2),
    ]
    assert done[0].call_id == done[1].call_id
    assert done[0].content == TEXT


def test_every_outcome_is_recorded(gateway: SandboxGateway, jclient: mandao.Client) -> None:
    """Accepted, rejected (with code), unreachable and unknown attempts are each recorded."""
    jclient.send("13800138000", TEXT)
    gateway.set_balance(SN, 0)
    with pytest.raises(mandao.InsufficientBalance):
        jclient.send("13900139000", TEXT)
    gateway.set_balance(SN, 100)
    gateway.primary.down()
    jclient.send("13700137000", TEXT)  # refused on the primary, accepted by the backup
    gateway.backup.fail("drop-after")
    with pytest.raises(mandao.OutcomeUnknown):
        jclient.send("13600136000", TEXT)
    found = [(a.recipients[0], a.outcome, a.result) for a in jclient.journal.attempts()]  # type: ignore[union-attr]
    assert [(m, o) for m, o, _ in found] == [
        ("13800138000", "accepted"),
        ("13900139000", "rejected"),
        ("13700137000", "unreachable"),
        ("13700137000", "accepted"),
        ("13600136000", "unknown"),
    ]
    assert found[1][2] == "-4"
    hosts = [a.host for a in jclient.journal.attempts(mobile="13700137000")]  # type: ignore[union-attr]
    assert hosts == gateway.hosts


def test_personalized_content_is_kept_per_number(jclient: mandao.Client) -> None:
    """mdgxsend rows keep each number's own text, commas included, with its segments."""
    long = "李四" * 40 + "【示例】"
    jclient.send_personalized({"13800138000": "张三, 您好【示例】", "13900139000": long})
    (attempt,) = jclient.journal.attempts()  # type: ignore[union-attr]
    assert attempt.content == ("张三, 您好【示例】", long)
    assert attempt.text_for("13900139000") == long
    assert attempt.segments == 2


def _stored(journal: Journal) -> bytes:
    """Everything a journal holds: its files' bytes, or its database's rows as text."""
    if journal.kind == "postgresql":
        tables = ("entries", "meta", "sent", "journal_schema")
        rows = [query(journal.location, f"SELECT * FROM {t}") for t in tables]  # noqa: S608
        return repr(rows).encode()
    assert isinstance(journal.location, Path)
    files = sorted(p for p in journal.location.parent.rglob("*") if p.is_file())
    blobs = b"".join(p.read_bytes() for p in files)
    journal.close()
    return blobs + journal.location.read_bytes()


def test_password_and_md5_form_never_reach_the_journal(
    gateway: SandboxGateway, jclient: mandao.Client, journal: Journal
) -> None:
    """Neither the password nor md5(sn+password) appears in the database (or its WAL)."""
    jclient.send(["13800138000", "13900139000"], TEXT)
    jclient.send_personalized({"13800138000": "张三您好【示例】"})
    gateway.primary.fail("http-error", status=503)
    with pytest.raises(mandao.OutcomeUnknown):
        jclient.send("13700137000", TEXT)
    md5 = hashlib.md5((SN + PASSWORD).encode()).hexdigest()
    blobs = _stored(journal)
    assert b"13700137000" in blobs  # what was sent is there, and read
    for secret in (PASSWORD, md5.upper(), md5.lower()):
        assert secret.encode() not in blobs
        assert secret.encode("utf-16-le") not in blobs


def test_file_is_0600_and_its_new_folder_0700(
    gateway: SandboxGateway, file_journal: Journal
) -> None:
    """The journal, its -wal/-shm files and the folder mandao made are private to the user."""
    gateway.client(SN, PASSWORD, journal=file_journal).send("13800138000", TEXT)
    folder = Path(file_journal.location).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in os.listdir(folder):  # files 0600; a folder beside (serials' state) 0700
        entry = folder / name
        assert stat.S_IMODE(entry.stat().st_mode) == (0o700 if entry.is_dir() else 0o600), name


def test_default_path_is_in_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Client() journals to the user data folder, or $MANDAO_JOURNAL, and shows it in repr."""
    monkeypatch.delenv("MANDAO_JOURNAL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    client = mandao.Client(SN, PASSWORD)
    assert client.journal is not None
    assert client.journal.path == tmp_path / "xdg" / "mandao" / "journal.sqlite3"
    assert f"journal={client.journal.path}>" in repr(client)
    monkeypatch.setenv("MANDAO_JOURNAL", str(tmp_path / "elsewhere.db"))
    assert mandao.Client(SN, PASSWORD).journal.path == tmp_path / "elsewhere.db"  # type: ignore[union-attr]
    assert "journal=off" in repr(mandao.Client(SN, PASSWORD, journal=None))


def test_journal_none_writes_nothing(gateway: SandboxGateway, tmp_path: Path) -> None:
    """journal=None sends without creating any file; the sandbox's client() keeps none."""
    client = mandao.Client(
        SN, PASSWORD, hosts=gateway.hosts, account_hosts=gateway.account_hosts, journal=None
    )
    client.send("13800138000", TEXT)
    assert gateway.client(SN, PASSWORD).journal is None
    assert not any(tmp_path.iterdir())


def test_a_journal_url_not_postgresqls_is_refused_when_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL of another scheme would be a file named after its pieces, a journal (and an
    admission board) no other machine shares: Client refuses it when made, Journal when
    opened, naming the scheme only; nothing is made on disk."""
    monkeypatch.chdir(tmp_path)
    for url in ("mysql://u:pw@h/db", "postgresq://u:pw@h/db", "SQLite://j.sqlite3"):
        with pytest.raises(mandao.ValidationError) as made:
            mandao.Client(SN, PASSWORD, journal=url)
        assert made.value.argument == "journal"
        with pytest.raises(mandao.JournalError) as opened:
            Journal(url)
        for message in (made.value.message, str(opened.value)):
            assert f"not {url.partition('://')[0]}://…" in message
            assert "pw" not in message
    assert list(tmp_path.iterdir()) == []
    assert mandao.Client(SN, PASSWORD, journal="postgres://u@127.0.0.1:1/db").sn == SN


def test_unwritable_journal_stops_the_send(gateway: SandboxGateway, tmp_path: Path) -> None:
    """When the pending row cannot be written, nothing is sent and JournalError is raised."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    client = gateway.client(SN, PASSWORD, journal=blocker / "journal.sqlite3")
    with pytest.raises(mandao.JournalError):
        client.send("13800138000", TEXT)
    assert len(gateway.ledger) == 0


def test_a_refused_pending_row_gives_the_slot_back_at_once(
    gateway: SandboxGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The primary refuses the connection; on the backup, the journal refuses the pending
    row. Nothing left, so the serial's slot is free at once, not kept for a read timeout
    (60 s) as for a request that may have gone out."""
    client = gateway.client(SN, PASSWORD, journal=tmp_path / "j.sqlite3", timeout=(1, 60))
    journal = client.journal
    assert journal is not None
    written = journal.begin
    hosts: list[str] = []

    def begin(**row: Any) -> int:
        hosts.append(row["host"])
        if len(hosts) > 1:
            raise mandao.JournalError("disk full")
        return written(**row)

    monkeypatch.setattr(journal, "begin", begin)
    gateway.primary.down()
    with pytest.raises(mandao.JournalError, match="disk full"):
        client.send("13800138000", TEXT)
    assert hosts == [gateway.hosts[0], gateway.hosts[1]]
    assert len(gateway.ledger) == 0
    _, store = client._sending()
    store.release(Release(store.admit(Admit("send"), wait=0).group, Change.NONE))


class _Writer:
    """Another writer of the journal's database, that takes its write lock and keeps it."""

    def __init__(self, journal: Journal) -> None:
        self.location = journal.location
        self.postgresql = journal.kind == "postgresql"
        self.conn: Any = None

    def take(self) -> None:
        if self.postgresql:
            import psycopg

            self.conn = psycopg.connect(str(self.location), autocommit=True)
            self.conn.execute("BEGIN")
            self.conn.execute("SELECT value FROM meta WHERE key = 'head' FOR UPDATE")
        else:
            self.conn = sqlite3.connect(self.location, isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()


def test_journal_failing_on_a_later_batch_returns_the_earlier_batches(
    gateway: SandboxGateway, journal_location: Path | str
) -> None:
    """A pending row refused for batch 2 leaves it and later ones not_sent; batch 1 stands."""
    journal = Journal(journal_location, timeout=0.05)
    client = gateway.client(SN, PASSWORD, journal=journal)
    holder = _Writer(journal)

    def lock_after_first(batch: mandao.Batch) -> None:
        if batch.index == 0:  # another writer takes the journal's write lock and keeps it
            holder.take()

    numbers = ["13800138000", "13900139000", "13700137000"]
    try:
        result = client.send(numbers, TEXT, batch_size=1, progress=lock_after_first)
    finally:
        holder.release()
    assert [b.state for b in result.batches] == ["sent", "not_sent", "not_sent"]
    assert not result.complete
    assert isinstance(result.batches[1].error, mandao.JournalError)
    waited = "lock timeout" if holder.postgresql else "locked"
    assert waited in str(result.batches[1].error)
    assert result.id == result.batches[0].id
    assert [m.mobile for m in gateway.ledger] == numbers[:1]
    assert journal.pending() == []
    assert [(a.recipients, a.outcome) for a in journal.attempts()] == [
        (tuple(numbers[:1]), "accepted")
    ]
    journal.close()


def test_registration_guard_refuses_the_eleventh_of_the_day(
    gateway: SandboxGateway, journal: Journal
) -> None:
    """Ten Register/UnRegister calls a day go through; the eleventh is refused unless forced."""
    client = gateway.client(SN, PASSWORD, journal=journal)
    for _ in range(5):
        client.unregister()
        client.register(**_COMPANY)
    assert journal.registrations(SN) == 10
    with pytest.raises(mandao.RegistrationQuotaExceeded, match="10 Register/UnRegister") as refused:
        client.unregister()
    china = timezone(timedelta(hours=8))
    tomorrow = datetime.now(china).date() + timedelta(days=1)
    assert refused.value.operation == "UnRegister"
    assert refused.value.retry_after == datetime.combine(tomorrow, time(), tzinfo=china)
    assert "wait" in str(refused.value)
    assert journal.registrations(SN) == 10
    assert journal.registrations(SN, date.today() - timedelta(days=2)) == 0
    forced = gateway.client(SN, PASSWORD, journal=journal, registration_guard=False)
    with pytest.raises(mandao.GatewayError):  # the sandbox keeps the vendor's limit too
        forced.unregister()
    assert journal.registrations(SN) > 10


def test_duplicate_guard_skips_warns_or_refuses(gateway: SandboxGateway, journal: Journal) -> None:
    """The guard finds numbers sent the same text in the window and acts as configured."""
    plain = gateway.client(SN, PASSWORD, journal=journal)
    plain.send(["13800138000", "13900139000"], TEXT)
    skip = gateway.client(SN, PASSWORD, journal=journal, duplicate_guard=DuplicateGuard())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # skipped numbers are in the result, not a warning
        result = skip.send(["13800138000", "13900139000", "13700137000"], TEXT)
    assert result.recipients == ("13700137000",)
    assert [(s.position, s.value, s.kind) for s in result.skipped] == [
        (0, "13800138000", "duplicate"), (1, "13900139000", "duplicate"),
    ]  # fmt: skip
    refuse = gateway.client(
        SN, PASSWORD, journal=journal, duplicate_guard=DuplicateGuard(action="refuse")
    )
    with pytest.raises(mandao.ValidationError, match="nothing sent"):
        refuse.send_personalized({"13800138000": TEXT, "13600136000": "另一条【示例】"})
    warn = gateway.client(
        SN, PASSWORD, journal=journal, duplicate_guard=DuplicateGuard(action="warn")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = warn.send("13800138000", "不同的内容【示例】")
    assert result.recipients == ("13800138000",)
    assert len(gateway.ledger.for_mobile("13800138000")) == 2
    assert gateway.ledger.duplicates() == {}


_COMPANY = dict(
    province="北京", city="北京", trade="IT", entname="示例科技", linkman="张三",
    phone="010-12345678", mobile="13800138000", email="a@example.com", fax="",
    address="北京市", postcode="100000", sign="示例",
)  # fmt: skip


def test_duplicate_guard_drops_the_rrids_of_skipped_pairs(
    gateway: SandboxGateway, journal: Journal
) -> None:
    """Skipping a number of a per-pair-rrid send drops its rrid too: the rest still go."""
    plain = gateway.client(SN, PASSWORD, journal=journal)
    plain.send("13800138000", TEXT)
    skip = gateway.client(SN, PASSWORD, journal=journal, duplicate_guard=DuplicateGuard())
    messages = {"13800138000": TEXT, "13900139000": "另一条【示例】"}
    result = skip.send_personalized(messages, rrid=["11", "12"])  # type: ignore[arg-type]
    assert [s.value for s in result.skipped] == ["13800138000"]
    assert result.batches[0].rrid == "12"
    assert [m.rrid for m in gateway.ledger.for_mobile("13900139000")] == ["12"]


def test_bad_arguments_raise_validation_errors(journal: Journal) -> None:
    """A bad outcome or time bound raises ValidationError naming the argument, not ValueError."""
    seq = journal.begin(sn=SN, operation="mdsmssend", host="http://h/", recipients=["13800138000"])
    with pytest.raises(mandao.ValidationError, match="outcome: expected one of accepted") as bad:
        journal.complete(seq, "sent")  # type: ignore[arg-type]
    assert bad.value.argument == "outcome"
    with pytest.raises(mandao.ValidationError, match="since: expected an ISO date") as when:
        list(journal.attempts(since="yesterday"))
    assert when.value.argument == "since"
    with pytest.raises(mandao.ValidationError, match="before: "):
        journal.prune("last year")
    assert [a.outcome for a in journal.attempts()] == ["pending"]


def test_a_row_modified_into_nonsense_raises_journal_error(journal: Journal) -> None:
    """Per-number texts that are no longer JSON make reading say where, as a JournalError."""
    journal.begin(sn=SN, operation="mdgxsend", host="http://h/", recipients=["13800138000"],
                  content=["张三您好【示例】"])  # fmt: skip
    journal.close()
    execute(journal.location, "UPDATE entries SET contents = '[not json' WHERE seq = 1")
    with pytest.raises(mandao.JournalError, match=r"cannot read row 1 .*journal verify"):
        list(journal.attempts())
