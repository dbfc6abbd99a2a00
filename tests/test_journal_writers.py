"""Many writers on one journal (threads, processes), and a sender killed mid-batch."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import mandao
from mandao import Journal
from mandao.cli import main
from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN

# A sender in another process: args are hosts, account hosts, journal, mode, count, tag.
CHILD = r"""
import json, sys, mandao
hosts, account_hosts, path, mode, count, tag = sys.argv[1:7]
client = mandao.Client(
    "SDK-TST-010-00001", "s3cr3t-Pass", hosts=json.loads(hosts),
    account_hosts=json.loads(account_hosts), journal=path, timeout=(2, 60),
)
i = 0
while mode == "forever" or i < int(count):
    numbers = [f"13{tag}{i:05d}{k:03d}" for k in range(10 if mode == "forever" else 1)]
    try:
        client.send(numbers, f"通知 {tag}-{i}【示例】", batch_size=5)
    except mandao.MandaoError as exc:
        print(type(exc).__name__, flush=True)
    i += 1
"""


def _child(
    gw: SandboxGateway, path: Path, mode: str, count: int, tag: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(gw.hosts), json.dumps(gw.account_hosts),
         str(path), mode, str(count), tag],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def _until(check: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    """Poll ``check`` until it holds (the deadline only bounds a hang; nothing is timed)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def _check_against_ledger(journal: Journal, gw: SandboxGateway) -> None:
    """Every ledger message has an attempt; every accepted attempt is in the ledger."""
    ledger = {(m.rrid, m.mobile) for m in gw.ledger.messages}
    attempts = list(journal.attempts())
    accepted = {(a.rrid, n) for a in attempts if a.outcome == "accepted" for n in a.recipients}
    maybe = {
        (a.rrid, n)
        for a in attempts
        if a.outcome in ("accepted", "unknown", "pending")
        for n in a.recipients
    }
    assert accepted <= ledger
    assert ledger <= maybe
    assert journal.reconcile(ledger).unjournaled == []


def test_threads_share_one_journal(tmp_path: Path) -> None:
    """8 threads, two Journal objects, 400 attempts: one unbroken chain, nothing lost."""
    path = tmp_path / "j.sqlite3"
    journals = [Journal(path), Journal(path)]

    def write(n: int) -> None:
        journal = journals[n % 2]
        for i in range(50):
            seq = journal.begin(sn=SN, operation="mdsmssend", host="http://h/",
                                recipients=[f"138{n:02d}{i:06d}"], content="x【示例】")  # fmt: skip
            journal.complete(seq, "accepted", result=str(seq))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = journals[0].verify()
    assert check.ok, check.problem
    assert check.rows == 800
    attempts = list(journals[1].attempts())
    assert len(attempts) == 400
    assert all(a.outcome == "accepted" and a.result == str(a.seq) for a in attempts)


def test_one_client_many_threads(gateway: SandboxGateway, tmp_path: Path) -> None:
    """One Client shared by 8 threads journals every send, matching the ledger."""
    journal = Journal(tmp_path / "j.sqlite3")
    client = gateway.client(SN, PASSWORD, journal=journal)

    def send(n: int) -> None:
        for i in range(20):
            client.send(f"139{n:02d}{i:06d}", f"线程 {n} 第 {i} 条【示例】")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert journal.verify().ok
    assert len(list(journal.attempts(outcome="accepted"))) == 160
    _check_against_ledger(journal, gateway)


# Sends once, says so, then waits to be killed: args are hosts, account hosts, journal.
SEND_THEN_WAIT = r"""
import json, sys, time, mandao
hosts, account_hosts, path = sys.argv[1:4]
client = mandao.Client(
    "SDK-TST-010-00001", "s3cr3t-Pass", hosts=json.loads(hosts),
    account_hosts=json.loads(account_hosts), journal=path, timeout=(2, 10),
)
client.send("13800138000", "杀前的一条【示例】")
print("sent", flush=True)
time.sleep(60)
"""


def test_an_outcome_is_committed_before_send_returns(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """The moment send() returns, another connection reads the attempt accepted: nothing
    is held in memory (no flush, no close, no timer)."""
    path = tmp_path / "j.sqlite3"
    client = gateway.client(SN, PASSWORD, journal=path)
    for i in range(3):
        client.send("13800138000", f"第 {i} 条【示例】")
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT kind, outcome FROM entries ORDER BY seq").fetchall()
        assert rows == [("attempt", "pending"), ("outcome", "accepted")] * (i + 1)


def test_a_sender_killed_after_send_returns_leaves_nothing_pending(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """SIGKILL right after send() returned: the journal has the attempt and its outcome."""
    path = tmp_path / "j.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", SEND_THEN_WAIT, json.dumps(gateway.hosts),
         json.dumps(gateway.account_hosts), str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "sent"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)
    journal = Journal(path)
    assert journal.pending() == []
    (attempt,) = journal.attempts()
    assert (attempt.outcome, attempt.recipients) == ("accepted", ("13800138000",))
    assert journal.verify().ok
    _check_against_ledger(journal, gateway)


def test_a_connection_never_chains_to_a_head_another_has_moved(tmp_path: Path) -> None:
    """Two journals (two connections) on one file, writing in turn, and a third writer
    behind their backs: each appends after the true last row (a head remembered from its
    own last write is used only while no one else has written)."""
    path = tmp_path / "j.sqlite3"
    first, second = Journal(path), Journal(path)
    for i in range(6):
        writer = first if i % 3 else second
        seq = writer.begin(sn=SN, operation="mdsmssend", host="h", recipients=["13800138000"])
        writer.complete(seq, "accepted")
        if i == 3:  # a writer outside mandao's classes: its own connection, same code
            with Journal(path) as third:
                third.begin(sn=SN, operation="Register", host="h")
    check = first.verify()
    assert check.ok, check.problem
    assert check.rows == 13
    assert [a.seq for a in second.attempts()] == [1, 3, 5, 7, 9, 10, 12]


def test_complete_wait_is_deprecated_and_writes_at_once(tmp_path: Path) -> None:
    """complete(wait=False) still works: it warns, and the row is written before it returns."""
    journal = Journal(tmp_path / "j.sqlite3")
    seq = journal.begin(sn=SN, operation="mdsmssend", host="http://h/", recipients=["13800138000"])
    with pytest.warns(DeprecationWarning, match="wait"):
        done = journal.complete(seq, "accepted", result="1", wait=False)
    assert done == seq + 1
    journal.flush()  # kept, and does nothing
    with sqlite3.connect(tmp_path / "j.sqlite3") as conn:
        outcomes = conn.execute("SELECT count(*) FROM entries WHERE kind = 'outcome'").fetchone()
    assert outcomes == (1,)


def test_an_outcome_the_journal_refuses_is_logged_and_the_send_stands(
    gateway: SandboxGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """A journal error writing the outcome row is logged as an error naming the row; the
    send returns its result (it went out), and the attempt stays pending."""
    journal = Journal(tmp_path / "j.sqlite3")
    client = gateway.client(SN, PASSWORD, journal=journal)

    def refuse(*args: object, **kwargs: object) -> int:
        raise mandao.JournalError("cannot write the journal: disk I/O error")

    monkeypatch.setattr(journal, "complete", refuse)
    with caplog.at_level("ERROR", logger="mandao"):
        result = client.send("13800138000", "写不进的结果【示例】")
    assert result.recipients == ("13800138000",)
    assert len(gateway.ledger.for_mobile("13800138000")) == 1
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "outcome of row 1 (accepted) was not written" in record.getMessage()
    assert "disk I/O error" in record.getMessage()
    (stuck,) = journal.pending()
    assert stuck.seq == 1


def test_processes_share_one_journal_under_faults(gateway: SandboxGateway, tmp_path: Path) -> None:
    """4 processes x 60 sends with random faults: the chain holds and matches the ledger."""
    for kind in ("drop-after", "http-error", "drop-before"):
        gateway.primary.fail(kind, probability=0.03, seed=len(kind))
    path = tmp_path / "j.sqlite3"
    children = [_child(gateway, path, "count", 60, f"{n}") for n in range(4)]
    for child in children:
        child.communicate(timeout=120)
        assert child.returncode == 0
    journal = Journal(path)
    check = journal.verify()
    assert check.ok, check.problem
    assert journal.pending() == []
    calls = {(a.pid, a.call_id) for a in journal.attempts()}
    assert len(calls) == 240
    assert len({pid for pid, _ in calls}) == 4
    assert len(gateway.ledger.faults) > 0
    _check_against_ledger(journal, gateway)


@pytest.mark.parametrize(("fault", "state"), [("hang", "not sent"), ("slow", "sent")])
def test_sigkill_mid_batch_leaves_a_pending_row_that_reconciles(
    gateway: SandboxGateway, tmp_path: Path, fault: str, state: str
) -> None:
    """A sender killed mid-batch leaves one pending row; the ledger says whether it went."""
    path = tmp_path / "j.sqlite3"
    child = _child(gateway, path, "forever", 0, "5")
    journal = Journal(path)
    try:
        _until(lambda: path.exists() and len(list(journal.attempts(outcome="accepted"))) >= 3,
               "a few batches")  # fmt: skip
        # slow: the sandbox carries the request out after the delay, whether or not the
        # sender is still there to read the answer; the kill comes well inside it.
        gateway.primary.fail(fault, delay=3)
        _until(lambda: bool(gateway.ledger.faults) and bool(journal.pending()), "the stuck send")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)
    (stuck,) = journal.pending()
    if fault == "slow":  # the gateway carries it out once the connection drops
        _until(lambda: bool(gateway.ledger.for_rrid(stuck.rrid)), "the slow request")
    assert journal.verify().ok
    _check_against_ledger(journal, gateway)
    ledger = tmp_path / "ledger.json"
    gateway.ledger.export(ledger)
    result = CliRunner().invoke(
        main,
        ["journal", "--journal", str(path), "pending", "--against", str(ledger),
         "--complete-ledger", "--json"],
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(line["seq"], line["state"]) for line in lines} == {(stuck.seq, state)}
    assert len(lines) == len(stuck.recipients)
    assert result.exit_code == 0
    unsure = CliRunner().invoke(
        main, ["journal", "--journal", str(path), "pending", "--against", str(ledger)]
    )
    assert ("unknown" in unsure.stdout) == (state == "not sent")
    assert isinstance(mandao.Client(SN, PASSWORD, journal=path).journal, Journal)
