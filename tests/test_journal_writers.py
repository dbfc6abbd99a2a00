"""Many writers on one journal (threads, processes), and a sender killed mid-batch: on both
backends, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
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
from .postgres import query

# A sender in another process: args are hosts, account hosts, journal, mode, count, tag,
# read timeout.
CHILD = r"""
import json, sys, mandao
hosts, account_hosts, path, mode, count, tag, read = sys.argv[1:8]
client = mandao.Client(
    "SDK-TST-010-00001", "s3cr3t-Pass", hosts=json.loads(hosts),
    account_hosts=json.loads(account_hosts), journal=path, timeout=(2, float(read)),
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
    gw: SandboxGateway, path: Path | str, mode: str, count: int, tag: str, read: float = 60
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(gw.hosts), json.dumps(gw.account_hosts),
         str(path), mode, str(count), tag, str(read)],
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


def test_threads_share_one_journal(journal_location: Path | str) -> None:
    """8 threads, two Journal objects, 400 attempts: one unbroken chain, nothing lost."""
    path = journal_location
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
    for journal in journals:
        journal.close()


def test_one_client_many_threads(gateway: SandboxGateway, journal_location: Path | str) -> None:
    """One Client shared by 8 threads journals every send, matching the ledger."""
    journal = Journal(journal_location)
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
    journal.close()


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
    gateway: SandboxGateway, journal_location: Path | str
) -> None:
    """The moment send() returns, another connection reads the attempt accepted: nothing
    is held in memory (no flush, no close, no timer)."""
    path = journal_location
    client = gateway.client(SN, PASSWORD, journal=path)
    for i in range(3):
        client.send("13800138000", f"第 {i} 条【示例】")
        rows = query(path, "SELECT kind, outcome FROM entries ORDER BY seq")
        assert rows == [("attempt", "pending"), ("outcome", "accepted")] * (i + 1)


def test_a_sender_killed_after_send_returns_leaves_nothing_pending(
    gateway: SandboxGateway, journal_location: Path | str
) -> None:
    """SIGKILL right after send() returned: the journal has the attempt and its outcome."""
    path = journal_location
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
    journal.close()


def test_a_connection_never_chains_to_a_head_another_has_moved(
    journal_location: Path | str,
) -> None:
    """Two journals (two connections) on one file, writing in turn, and a third writer
    behind their backs: each appends after the true last row (a head remembered from its
    own last write is used only while no one else has written)."""
    path = journal_location
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
    first.close()
    second.close()


def test_complete_wait_is_deprecated_and_writes_at_once(journal_location: Path | str) -> None:
    """complete(wait=False) still works: it warns, and the row is written before it returns."""
    journal = Journal(journal_location)
    seq = journal.begin(sn=SN, operation="mdsmssend", host="http://h/", recipients=["13800138000"])
    with pytest.warns(DeprecationWarning, match="wait"):
        done = journal.complete(seq, "accepted", result="1", wait=False)
    assert done == seq + 1
    journal.flush()  # kept, and does nothing
    outcomes = query(journal_location, "SELECT count(*) FROM entries WHERE kind = 'outcome'")
    assert outcomes == [(1,)]
    journal.close()


def test_an_outcome_the_journal_refuses_is_logged_and_the_send_stands(
    gateway: SandboxGateway, journal_location: Path | str, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """A journal error writing the outcome row is logged as an error naming the row; the
    send returns its result (it went out), and the attempt stays pending."""
    journal = Journal(journal_location)
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
    journal.close()


def test_processes_share_one_journal_under_faults(
    gateway: SandboxGateway, journal_location: Path | str
) -> None:
    """4 processes x 60 sends with random faults: the chain holds and matches the ledger."""
    for kind in ("drop-after", "http-error", "drop-before"):
        gateway.primary.fail(kind, probability=0.03, seed=len(kind))
    path = journal_location
    # A request cut off after it was written holds the serial's one slot for a read
    # timeout (the gateway may still be at it): a short one keeps the test short.
    children = [_child(gateway, path, "count", 60, f"{n}", read=2) for n in range(4)]
    printed = []
    for child in children:
        printed.append(child.communicate(timeout=120)[0])
        assert child.returncode == 0
    journal = Journal(path)
    check = journal.verify()
    assert check.ok, check.problem
    assert journal.pending() == []
    calls = {(a.pid, a.call_id) for a in journal.attempts()}
    assert len(calls) == 240, printed
    assert len({pid for pid, _ in calls}) == 4
    assert len(gateway.ledger.faults) > 0
    _check_against_ledger(journal, gateway)
    journal.close()


@pytest.mark.parametrize(("fault", "state"), [("hang", "not sent"), ("slow", "sent")])
def test_sigkill_mid_batch_leaves_a_pending_row_that_reconciles(
    gateway: SandboxGateway, journal_location: Path | str, tmp_path: Path, fault: str, state: str
) -> None:
    """A sender killed mid-batch leaves one pending row; the ledger says whether it went
    (and `mandao journal pending --against` says so, for a file)."""
    path = journal_location
    child = _child(gateway, path, "forever", 0, "5")
    journal = Journal(path)
    started = (lambda: True) if isinstance(path, str) else path.exists
    try:
        _until(lambda: started() and len(list(journal.attempts(outcome="accepted"))) >= 3,
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
    journal.close()
    if isinstance(path, str):
        return  # the command line takes a file
    ledger = tmp_path / "ledger.json"
    gateway.ledger.export(ledger)
    if state == "not sent":  # without --complete-ledger, absent is unknown, left unresolved
        unsure = CliRunner().invoke(
            main, ["journal", "--journal", str(path), "pending", "--against", str(ledger)]
        )
        assert f"{stuck.seq} rrid={stuck.rrid}" in unsure.stdout
        assert ": unknown" in unsure.stdout
    result = CliRunner().invoke(
        main,
        ["journal", "--journal", str(path), "pending", "--against", str(ledger),
         "--complete-ledger", "--settle-after", "0", "--json"],
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(line["seq"], line["state"]) for line in lines} == {(stuck.seq, state)}
    assert len(lines) == len(stuck.recipients)
    assert result.exit_code == 0
    assert isinstance(mandao.Client(SN, PASSWORD, journal=path).journal, Journal)
