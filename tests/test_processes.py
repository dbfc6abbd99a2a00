"""One serial, many processes: -18 and -19 kept through the journal's location (an SQLite
file's neighbour, or a PostgreSQL database), processes killed while they hold a slot."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

import mandao
from mandao import Journal
from mandao.testing import Fault, SandboxGateway

from .conftest import PASSWORD, SN, MakeClient

# A sender process: hosts, account hosts, journal, threads, sends per thread, tag, limit,
# read timeout. It prints one line: JSON counts of its calls' outcomes.
CHILD = r"""
import json, sys, threading, mandao
hosts, account_hosts, where, threads, count, tag, limit, read = sys.argv[1:9]
client = mandao.Client(
    "SDK-TST-010-00001", "s3cr3t-Pass", hosts=json.loads(hosts),
    account_hosts=json.loads(account_hosts), journal=where, max_in_flight=int(limit),
    timeout=mandao.Timeouts(1, float(read), wait=60),
    failover=mandao.FailoverPolicy(cooldown=0.01),
)
outcomes, lock = [], threading.Lock()
def sender(t):
    for i in range(int(count)):
        try:
            result = client.send(f"13{tag}{t}{i:07d}", f"多进程 {tag}-{t}-{i}【示例】")
            outcome = "sent" if result.complete else "partial"
        except mandao.OutcomeUnknown:
            outcome = "unknown"
        except mandao.GatewayUnreachable as exc:
            outcome = type(exc).__name__
        with lock:
            outcomes.append(outcome)
workers = [threading.Thread(target=sender, args=(t,)) for t in range(int(threads))]
for w in workers: w.start()
for w in workers: w.join()
print(json.dumps(dict((o, outcomes.count(o)) for o in set(outcomes))), flush=True)
"""


def _sender(
    gw: SandboxGateway,
    where: Path | str,
    *,
    threads: int,
    count: int,
    tag: int,
    limit: int = 1,
    read: float = 5,
) -> subprocess.Popen[str]:
    args = [json.dumps(gw.hosts), json.dumps(gw.account_hosts), str(where), str(threads),
            str(count), str(tag), str(limit), str(read)]  # fmt: skip
    return subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, text=True)


def _until(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Poll ``check`` until it holds (the deadline only bounds a hang; nothing is timed)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


def _flap_until_done(gw: SandboxGateway, children: list[subprocess.Popen[str]]) -> int:
    """Take the primary down and up, each time a few more messages went through, while the
    children run; how many times it went down."""
    downs = 0
    while any(child.poll() is None for child in children):
        goal = len(gw.ledger.messages) + len(gw.ledger.rejections) + 20
        _until(
            lambda goal=goal: (
                len(gw.ledger.messages) + len(gw.ledger.rejections) >= goal
                or all(child.poll() is not None for child in children)
            ),
            "progress",
            seconds=120,
        )
        if gw.primary.state == "up":
            gw.primary.down()
            downs += 1
        else:
            gw.primary.up()
    gw.primary.up()
    return downs


@pytest.mark.parametrize("processes", [4])
def test_processes_of_one_serial_obey_18_and_19_together(
    gateway: SandboxGateway, journal_location: Path | str, processes: int
) -> None:
    """4 processes x 4 threads, each process its own Client, one journal, the primary
    flapping: no -18, no -19, never more than one request in flight at the sandbox,
    nothing sent twice, every call accounted for."""
    for host in (gateway.primary, gateway.backup):
        # Each request stays in flight a few ms: without the shared limit they overlap.
        host.add_fault(Fault("slow", delay=0.005, times=10**6))
    children = [
        # down() cuts the request in flight, whose slot is then held a read timeout: 1 s.
        _sender(gateway, journal_location, threads=4, count=10, tag=n, read=1)
        for n in range(processes)
    ]
    downs = _flap_until_done(gateway, children)
    counts: Counter[str] = Counter()
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0, out
        counts.update(json.loads(out))
    assert sum(counts.values()) == processes * 4 * 10  # every call accounted for
    assert downs > 0
    codes = Counter(r.code for r in gateway.ledger.rejections)
    assert codes["-18"] == 0, codes
    assert codes["-19"] == 0, codes
    assert gateway.peak_in_flight(SN) == 1
    mobiles = [m.mobile for m in gateway.ledger.messages]
    assert len(mobiles) == len(set(mobiles))  # nothing sent twice
    assert counts["sent"] <= len(mobiles) <= counts["sent"] + counts["unknown"]
    assert counts["sent"] > 0
    journal = Journal(journal_location)
    assert journal.verify().ok
    assert journal.pending() == []
    journal.close()


def test_more_slots_let_processes_overlap_but_never_past_the_limit(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """An account opened up to 3 in flight, 3 processes with max_in_flight=3: they send at
    once (the peak reaches 2 or 3), and the sandbox never sees a fourth nor answers -18."""
    gateway.update_account(SN, max_in_flight=3)
    gateway.primary.add_fault(Fault("slow", delay=0.02, times=10**6))
    where = tmp_path / "journal.sqlite3"
    children = [_sender(gateway, where, threads=2, count=8, tag=n, limit=3) for n in range(3)]
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        assert json.loads(out) == {"sent": 16}
    assert 2 <= gateway.peak_in_flight(SN) <= 3
    assert [r.code for r in gateway.ledger.rejections] == []


def test_a_process_killed_holding_the_slot_frees_it_after_its_lease(
    gateway: SandboxGateway, journal_location: Path | str
) -> None:
    """SIGKILL a process whose request the gateway is holding: another process's send
    waits for the dead one's lease (its timeouts), then goes; only the killed attempt is
    left pending in the journal."""
    with gateway.primary.hold() as held:
        doomed = _sender(gateway, journal_location, threads=1, count=1, tag=1, read=2)
        assert held.wait(timeout=30), "the first request never reached the sandbox"
        survivor = _sender(gateway, journal_location, threads=1, count=1, tag=2, read=2)
        journal = Journal(journal_location)
        _until(lambda: len(journal.pending()) == 1, "the held attempt's pending row")
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.communicate(timeout=30)
    # The gateway finishes what it was sent; the survivor must not have sent meanwhile.
    out, _ = survivor.communicate(timeout=60)
    assert json.loads(out) == {"sent": 1}
    assert gateway.peak_in_flight(SN) == 1
    assert [r.code for r in gateway.ledger.rejections] == []
    (stuck,) = journal.pending()
    assert stuck.recipients == ("13100000000",)
    assert journal.verify().ok
    journal.close()


def test_an_unanswered_request_keeps_the_slot_one_read_timeout(gateway: SandboxGateway) -> None:
    """A reset after the request was written: the gateway may still be at it, so the next
    send waits for the rest of one read timeout (here it gives up: not sent)."""
    client = gateway.client(SN, PASSWORD, timeout=mandao.Timeouts(1, 30, wait=0.2))
    gateway.primary.fail("drop-after")
    with pytest.raises(mandao.OutcomeUnknown):
        client.send("13800138000", "第一条【示例】")
    with pytest.raises(mandao.SerialBusy):
        client.send("13800138001", "第二条【示例】")
    assert [m.mobile for m in gateway.ledger.messages] == ["13800138000"]


def test_a_slot_held_after_no_answer_frees_itself(gateway: SandboxGateway) -> None:
    """With a short read timeout the held slot ends on its own and the next send goes."""
    client = gateway.client(SN, PASSWORD, timeout=mandao.Timeouts(1, 0.3, wait=30))
    gateway.primary.fail("drop-after")
    with pytest.raises(mandao.OutcomeUnknown):
        client.send("13800138000", "第一条【示例】")
    result = client.send("13800138001", "第二条【示例】")
    assert result.complete
    assert result.waited > 0


def test_clients_in_threads_and_a_fork_share_nothing_they_should_not(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """A Client made before fork: the child's sends obey the slot the parent holds."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    where = tmp_path / "journal.sqlite3"
    client = gateway.client(SN, PASSWORD, journal=where, timeout=mandao.Timeouts(1, 5, wait=30))
    assert client.send("13800138000", "分叉前【示例】").complete
    with gateway.primary.hold() as held:
        done = threading.Event()
        sender = threading.Thread(
            target=lambda: (client.send("13800138001", "父进程【示例】"), done.set())
        )
        sender.start()
        assert held.wait(timeout=30)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its send must wait for the parent's held request
            os.close(read)
            try:
                ok = client.send("13800138002", "子进程【示例】").complete
                os.write(write, b"sent" if ok else b"partial")
            except BaseException as exc:  # reported to the parent
                os.write(write, type(exc).__name__.encode())
            finally:
                os._exit(0)
        os.close(write)
    sender.join(30)
    assert done.is_set()
    with os.fdopen(read) as pipe:
        assert pipe.read() == "sent"
    os.waitpid(pid, 0)
    assert [r.code for r in gateway.ledger.rejections] == []
    assert gateway.peak_in_flight(SN) == 1


def test_a_fork_after_a_send_does_not_share_the_parents_connections(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """A Client that sent before fork (gunicorn --preload, a Celery prefork worker) keeps
    an idle connection in its pool: a child that wrote on it could read the answer to
    another process's request (a worker was handed another's id). The child's pools start
    empty; the parent's keep theirs; the child's send is its own."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    client = gateway.client(SN, PASSWORD, journal=tmp_path / "j.sqlite3", timeout=(1, 5))
    assert client.send("13800138000", "分叉前【示例】").complete
    adapter = client._requests().get_adapter(gateway.hosts[0])
    assert len(adapter.poolmanager.pools) == 1  # the parent's, with its kept-alive socket
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            pools = len(adapter.poolmanager.pools)
            result = client.send("13800138001", "子进程【示例】")
            os.write(write, f"{pools} {result.id}".encode())
        except BaseException as exc:  # reported to the parent
            os.write(write, type(exc).__name__.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        told = pipe.read()
    os.waitpid(pid, 0)
    (child,) = gateway.ledger.for_mobile("13800138001")
    assert told == f"0 {child.id}"
    assert len(adapter.poolmanager.pools) == 1
    assert client.send("13800138002", "分叉后【示例】").complete
    client.close()


def test_a_journal_url_with_a_password_carries_the_admission_too(
    gateway: SandboxGateway, postgresql_server: object, postgresql_url: str
) -> None:
    """The serial's board is reached through the journal's own connections: a password in
    the URL (and only there) works for both, and shows nowhere."""
    from .postgres import Server

    assert isinstance(postgresql_server, Server)
    if postgresql_server.cluster is None:
        pytest.skip("a server of our own has the user who must give a password")
    name = postgresql_url.split("/")[3].split("?")[0]
    url = postgresql_server.password_url(name)
    assert url is not None
    with gateway.client(SN, PASSWORD, journal=url, timeout=(1, 5)) as client:
        assert client.send("13800138000", "口令【示例】").complete
        assert client._store is not None
        assert type(client._store._shared).__name__ == "PostgresState"
        assert "pg-S3cret-pass" not in repr(client) + repr(client.journal)


def test_a_rate_limit_behind_our_own_unanswered_request_says_so(
    gateway: SandboxGateway, make_client: MakeClient
) -> None:
    """A read timeout frees the slot (one read timeout since written has passed by then);
    the gateway, still at the request, answers the next send -18: its RateLimited says the
    submission it waits for is most likely this process's own, and what to do."""
    client = make_client(timeout=mandao.Timeouts(1, 0.3, wait=5),
                         failover=mandao.FailoverPolicy(retry_tries=0))  # fmt: skip
    with gateway.primary.hold() as held:
        with pytest.raises(mandao.OutcomeUnknown):
            client.send("13800138000", "第一条【示例】")
        assert held.held == 1
        with pytest.raises(mandao.RateLimited) as caught:
            client.send("13800138001", "第二条【示例】")
    message = str(caught.value)
    assert message.startswith("-18 ")
    assert "This process's last request of this serial went unanswered" in message
    assert "Timeouts(read=...)" in message
    _until(lambda: len(gateway.ledger.messages) == 1, "the held send carried out")
    assert [m.mobile for m in gateway.ledger.messages] == ["13800138000"]


def test_a_rate_limit_with_nothing_of_ours_out_points_at_another_sender(
    gateway: SandboxGateway, make_client: MakeClient
) -> None:
    """-18 while nothing of this process's was out or left unanswered (the gateway is at
    a request of a sender that does not share this admission): its RateLimited says so,
    and what to do."""
    gateway.primary.add_fault(Fault("code", code=-18))
    client = make_client(failover=mandao.FailoverPolicy(retry_tries=0))
    with pytest.raises(mandao.RateLimited) as caught:
        client.send("13800138000", "另一处【示例】")
    message = str(caught.value)
    assert message.startswith("-18 The previous submission has not returned yet")
    assert (
        "None of this process's requests of this serial is likely still being worked on: "
        "another sender of this serial"
    ) in message
    assert "Give every sender of the serial one journal" in message
    assert "or a process of this journal was killed with a request out" in message
    assert "went unanswered" not in message


def test_a_process_whose_clients_use_other_host_lists_is_warned_about(
    gateway: SandboxGateway, journal_location: Path | str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two processes on one journal whose Clients of the serial list the hosts in other
    orders keep boards of their own, so neither waits for the other: a request let out
    while the other process's is out is logged as a WARNING naming both host lists."""
    with gateway.primary.hold() as held:
        first = _sender(gateway, journal_location, threads=1, count=1, tag=1, read=30)
        assert held.wait(timeout=30), "the first request never reached the sandbox"
        client = mandao.Client(SN, PASSWORD, hosts=gateway.hosts[::-1],
                               account_hosts=gateway.account_hosts[::-1],
                               journal=journal_location)  # fmt: skip
        # The gateway may refuse it (-19): what the warning is about.
        refused = contextlib.suppress(mandao.GatewayError)
        with caplog.at_level(logging.WARNING, logger="mandao"), client, refused:
            client.send("13900000001", "另一份主机表【示例】")
    first.communicate(timeout=60)
    (message,) = [r.getMessage() for r in caplog.records if "another process" in r.getMessage()]
    assert message.startswith(f"serial {SN}: a request of another process was out")
    theirs, mine = message.split("; this one's ")
    assert f"send={gateway.hosts[0]},{gateway.hosts[1]}" in theirs
    assert f"send={gateway.hosts[1]},{gateway.hosts[0]})" in mine
    assert "Give every process's Clients of the serial the same host lists" in message
