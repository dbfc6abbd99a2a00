"""One serial, many callers in one process: a shared store, a FIFO line, a bounded wait."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import mandao
from mandao._coordination import store as store_module
from mandao._coordination.store import SerialStore
from mandao._core.admission import Change
from mandao._core.call import Admit, Granted, Release
from mandao._core.failover import FailoverPolicy
from mandao._core.hosts import HostGroups
from mandao.testing import Fault, SandboxGateway

from .conftest import PASSWORD, SN

HOSTS = ("http://127.0.0.1:1/webservice.asmx", "http://127.0.0.1:2/webservice.asmx")
ACCOUNT = ("http://127.0.0.1:3/webservice.asmx", "http://127.0.0.1:4/webservice.asmx")


def _until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition``; the bound only guards against a hang, it is no timing."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.001)


def _store(limit: int | None = 1) -> SerialStore:
    return SerialStore(HostGroups.pair({"send": HOSTS}), FailoverPolicy(), limit=limit)


def test_clients_of_one_serial_journal_and_hosts_share_one_store() -> None:
    """Two Clients alike share admission; other hosts (a new sandbox) get their own."""
    make = mandao.Client
    a = make(SN, "x", hosts=HOSTS, account_hosts=ACCOUNT, journal=None)
    b = make(SN, "y", hosts=HOSTS, account_hosts=ACCOUNT, journal=None)
    other = make(SN, "x", hosts=HOSTS[::-1], account_hosts=ACCOUNT, journal=None)
    assert a._sending()[1] is b._sending()[1]
    assert other._sending()[1] is not a._sending()[1]


def test_overlapping_requests_of_clients_that_do_not_share_admission_are_warned_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Same serial, a host in common, but another host order or another journal: each
    Client keeps its own admission, so a request let out while the other's is out is
    logged, once a pair. One after the other (two tests of one sandbox) is no warning,
    nor is a new sandbox (no host in common)."""
    sn = "SDK-TST-010-00077"  # its own serial: what another test made is not in the way
    hosts = tuple(f"http://127.0.0.1:{port}/webservice.asmx" for port in (11, 12, 13, 14))

    def store(hosts: tuple[str, ...], journal: Path | None = None) -> SerialStore:
        client = mandao.Client(sn, "x", hosts=hosts, account_hosts=hosts, journal=journal)
        return client._sending()[1]

    def warned() -> list[str]:
        found = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        caplog.clear()
        return found

    def one(store: SerialStore) -> None:
        store.release(Release(store.admit(Admit("send"), wait=5).group, Change.ANSWERED))

    def overlap(first: SerialStore, second: SerialStore) -> None:
        out = first.admit(Admit("send"), wait=5)
        one(second)
        first.release(Release(out.group, Change.ANSWERED))

    with caplog.at_level(logging.WARNING, logger="mandao"):
        a, fresh, b = store(hosts[:2]), store(hosts[2:]), store(hosts[1::-1])
        overlap(a, fresh)  # a new sandbox, on new ports
        for each in (a, b, a, b):  # one after the other
            one(each)
        assert warned() == []
        overlap(a, b)
        (message,) = warned()
        assert f"serial {sn}: requests of two Clients of the serial that do not share" in message
        assert "hosts send=http://127.0.0.1:12/webservice.asmx,http://127.0.0.1:11/" in message
        assert "Give every Client of the serial the same journal and the same host lists" in message
        overlap(b, a)  # that pair again: said already
        assert warned() == []
        journaled = store(hosts[:2], tmp_path / "j.sqlite3")  # a's hosts, with a journal
        overlap(a, journaled)
        (message,) = warned()
        assert f"journal {tmp_path / 'j.sqlite3'}" in message
        assert "journal off" in message


def test_a_second_request_waits_for_the_first_with_one_slot() -> None:
    """max_in_flight=1: nothing is admitted while a request is in flight."""
    store = _store(limit=1)
    first = store.admit(Admit("send"), wait=5)
    with pytest.raises(mandao.SerialBusy) as info:
        store.admit(Admit("send"), wait=0.05)
    assert info.value.waited >= 0.05
    assert "max_in_flight=1" in str(info.value)
    assert isinstance(info.value, mandao.GatewayUnreachable)  # not sent
    store.release(Release(first.group, Change.ANSWERED, elapsed=0.01))
    assert store.admit(Admit("send"), wait=5).group == 0


class _Waits(logging.Handler):
    """The client's log of waits for a slot, as a progress bar hears it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.heard: list[tuple[str | None, str]] = []
        self.told = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "mandao_waiting"):
            self.heard.append((record.mandao_waiting, record.getMessage()))
            self.told.set()


@contextlib.contextmanager
def _heard_waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Waits]:
    monkeypatch.setattr("mandao._coordination.store.LONG_WAIT", 0.05)
    logger, handler = logging.getLogger("mandao"), _Waits()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _admitting(store: SerialStore, into: list[Granted]) -> threading.Thread:
    """A thread, started, that waits up to 30 s for a slot of ``store`` and puts its grant
    ``into`` the list."""
    thread = threading.Thread(target=lambda: into.append(store.admit(Admit("send"), wait=30)))
    thread.start()
    return thread


def test_a_wait_behind_an_unanswered_requests_slot_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The slot a request left unanswered keeps for a read timeout: the wait says so (a
    waiter's step, asked as it would be two seconds into its wait)."""
    store = _store(limit=1)
    first = store.admit(Admit("send"), wait=5)
    store.release(Release(first.group, Change.NONE, linger=True), hold=60)
    with _heard_waits(monkeypatch) as waits:
        store._nap(time.monotonic() - 2, 5.0, None, "SDK-TST-010-00001")
    ((_, message),) = waits.heard
    assert "(max_in_flight=1, 1 in flight here or in another process; 1 of them unanswered, " in (
        message
    )
    assert "each keeping its slot one read timeout after it was written; waiting up to" in message


def test_a_wait_says_unanswered_only_while_a_slot_is_kept_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once the slot an unanswered request kept is free, and requests since were answered,
    a wait behind a request in flight says nothing of an unanswered one."""
    store = _store(limit=1)
    first = store.admit(Admit("send"), wait=5)
    store.release(Release(first.group, Change.NONE, linger=True), hold=0.001)
    after = store.admit(Admit("send"), wait=5)  # once the hold ended
    store.release(Release(after.group, Change.ANSWERED, elapsed=0.01))
    store.admit(Admit("send"), wait=5)
    with _heard_waits(monkeypatch) as waits:
        store._nap(time.monotonic() - 2, 5.0, None, "SDK-TST-010-00001")
    ((_, message),) = waits.heard
    assert "(max_in_flight=1, 1 in flight here or in another process; waiting up to" in message


def test_a_lasting_wait_is_logged_while_it_lasts_then_its_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wait for a slot that lasts is said once, while it lasts (a resumed campaign
    behind an unanswered request's slot is not silent), and its end is said too."""
    store = _store(limit=1)
    first = store.admit(Admit("send"), wait=5)
    got: list[Granted] = []
    with _heard_waits(monkeypatch) as waits:
        waiter = _admitting(store, got)
        assert waits.told.wait(10), "the wait was never logged"
        assert not got  # said while it waits, not once it is over
        ((sn, message),) = waits.heard
        assert sn == ""
        assert "waiting for a slot (max_in_flight=1, 1 in flight" in message
        assert "unanswered" not in message  # the request in flight is not said to be one
        store.release(Release(first.group, Change.ANSWERED, elapsed=0.01))
        waiter.join(10)
    assert got
    assert waits.heard[-1][0] is None
    assert "waited" in waits.heard[-1][1]
    assert [sn for sn, _ in waits.heard].count("") == 1  # once, however often it asked


def test_a_logged_wait_whose_last_waiter_gives_up_logs_its_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wait's end is said when its last waiter gives up (SerialBusy) too, as when it
    gets a slot: a progress bar showing "waiting for a slot" is told, and the next wait is
    said again."""
    store = _store(limit=1)
    first = store.admit(Admit("send"), wait=5)
    with _heard_waits(monkeypatch) as waits:
        with pytest.raises(mandao.SerialBusy):
            store.admit(Admit("send"), wait=0.2)
        assert [sn for sn, _ in waits.heard] == ["", None]
        assert waits.heard[-1][1].startswith("serial : gave up waiting for a slot after ")
        waits.told.clear()
        got: list[Granted] = []
        again = _admitting(store, got)
        assert waits.told.wait(10), "the next wait was never logged"
        store.release(Release(first.group, Change.ANSWERED, elapsed=0.01))
        again.join(10)
    assert got
    assert [sn for sn, _ in waits.heard] == ["", None, "", None]


def test_a_waits_end_gives_how_long_the_serial_waited_not_its_last_waiter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two waiters, the second come later: the end (said by the second as it gets its
    slot) gives the wait since the first began."""
    store = _store(limit=1)
    first = store.admit(Admit("send"), wait=5)
    grants: list[Granted] = []
    with _heard_waits(monkeypatch) as waits:
        one = _admitting(store, grants)
        assert waits.told.wait(10)
        began = store._said  # when the wait that was logged began: the first's
        assert began is not None
        while time.monotonic() < began + 0.5:  # the first has waited half a second
            threading.Event().wait(0.01)
        two = _admitting(store, grants)
        while len(store._line) < 2:  # polling a condition: when it holds is no timing
            threading.Event().wait(0.001)
        store.release(Release(first.group, Change.ANSWERED, elapsed=0.01))
        one.join(10)
        store.release(Release(grants[0].group, Change.ANSWERED, elapsed=0.01))
        two.join(10)
    ended = time.monotonic()
    assert len(grants) == 2
    (end,) = [message for sn, message in waits.heard if sn is None]
    waited = float(re.search(r"waited (\d+\.\d)s", end).group(1))  # type: ignore[union-attr]
    assert 0.5 <= waited <= ended - began + 0.05


def test_a_lasting_wait_of_a_task_is_logged_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same for an asyncio task waiting in the line."""
    from mandao._coordination import aio

    store = _store(limit=1)
    first = store.admit(Admit("send"), wait=5)

    async def main(waits: _Waits) -> None:
        task = asyncio.create_task(aio.admit(store, Admit("send"), wait=30, sn=SN, lease=60))
        while not waits.heard:
            await asyncio.sleep(0.001)  # polling a condition: when it comes is no timing
        assert not task.done()
        store.release(Release(first.group, Change.ANSWERED, elapsed=0.01))
        await task

    with _heard_waits(monkeypatch) as waits:
        asyncio.run(main(waits))
    assert [sn for sn, _ in waits.heard] == [SN, None]


def _late_naps(store: SerialStore, monkeypatch: pytest.MonkeyPatch) -> set[float]:
    """The waiters of ``store`` (by when each began) that napped past LONG_WAIT, as they do."""
    nap, late = store._nap, set()

    def counted(start: float, *rest: object) -> float:
        if time.monotonic() - start >= store_module.LONG_WAIT:
            late.add(start)
        return nap(start, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_nap", counted)
    return late


def test_tasks_waiting_together_say_their_wait_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three tasks queued behind one request in flight are one wait of the serial: one
    line says it and one its end, not three of each. A wait after the slot came is said
    again."""
    from mandao._coordination import aio

    store = _store(limit=1)
    first = store.admit(Admit("send"), wait=5)
    nap, late = store._nap, _late_naps(store, monkeypatch)

    async def one() -> None:
        grant = await aio.admit(store, Admit("send"), wait=30, sn=SN, lease=60)
        store.release(Release(grant.group, Change.ANSWERED, elapsed=0.01))

    async def main() -> None:
        tasks = [asyncio.create_task(one()) for _ in range(3)]
        while len(late) < 3:
            await asyncio.sleep(0.001)  # polling a condition: when it comes is no timing
        store.release(Release(first.group, Change.ANSWERED, elapsed=0.01))
        await asyncio.gather(*tasks)

    with _heard_waits(monkeypatch) as waits:
        asyncio.run(main())
        assert [sn for sn, _ in waits.heard] == [SN, None]
        store.admit(Admit("send"), wait=5)
        nap(time.monotonic() - 2, 5.0, None, SN)
    assert [sn for sn, _ in waits.heard] == [SN, None, SN]


def test_callers_waiting_in_turn_say_their_wait_once_until_the_last_has_its_slot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three threads queued behind a request in flight, each holding its slot in turn: one
    line says the wait, and one its end once the last has a slot (the first grant ended the
    wait's lines, and the others, still waiting, were never said)."""
    store = _store(limit=1)
    held = store.admit(Admit("send"), wait=5)
    late = _late_naps(store, monkeypatch)
    grants: queue.Queue[Granted] = queue.Queue()
    callers = [
        threading.Thread(target=lambda: grants.put(store.admit(Admit("send"), wait=30, sn=SN)))
        for _ in range(3)
    ]
    with _heard_waits(monkeypatch) as waits:
        for caller in callers:
            caller.start()
        deadline = time.monotonic() + 30
        while len(late) < 3:  # a condition polled: when it comes is no timing
            assert time.monotonic() < deadline, "the callers never waited"
            time.sleep(0.001)
        heard = []
        for _ in callers:
            store.release(Release(held.group, Change.ANSWERED, elapsed=0.01))
            held = grants.get(timeout=30)
            heard.append([sn for sn, _ in waits.heard])
        store.release(Release(held.group, Change.ANSWERED, elapsed=0.01))
        for caller in callers:
            caller.join(30)
    assert heard == [[SN], [SN], [SN, None]]
    assert "nothing of this process's waits for one now" in waits.heard[-1][1]


def test_waiters_are_served_first_come_first_served() -> None:
    """A later caller that could go now still waits behind the first in line.

    One slot of two is held on group 0. The first in line must go to group 1 (group 0 is
    excluded), which has to wait until group 0 drains; the second could share group 0
    at once, but is not let past the first.
    """
    store = _store(limit=2)
    held = store.admit(Admit("send"), wait=5)
    order: list[str] = []

    def caller(name: str, exclude: frozenset[int]) -> None:
        grant = store.admit(Admit("send", exclude), wait=10)
        order.append(name)
        store.release(Release(grant.group, Change.ANSWERED, elapsed=0.01))

    first = threading.Thread(target=caller, args=("first", frozenset({0})))
    first.start()
    _until(lambda: len(store._line) == 1)
    second = threading.Thread(target=caller, args=("second", frozenset()))
    second.start()
    _until(lambda: len(store._line) == 2)
    with store._lock:  # both have queued and gone to sleep: the lock is free again
        assert store.state.in_flight == 1
    store.release(Release(held.group, Change.ANSWERED, elapsed=0.01))
    first.join(10)
    second.join(10)
    assert order == ["first", "second"]
    assert store.state.in_flight == 0


def test_a_grant_that_takes_the_last_slot_wakes_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    """One slot, two waiters: the first's grant takes the slot, so the second is not woken
    to ask for nothing (a wake-up and a board read per request, which cost 8 threads on
    one slot a tenth of their throughput); the first's release wakes it, and it goes."""
    store = _store(limit=1)
    asks: list[str] = []
    ask = store._shared.try_admit

    def counted(*args: object, **kwargs: object) -> tuple[int | None, float | None]:
        asks.append(threading.current_thread().name)
        return ask(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store._shared, "try_admit", counted)
    held = store.admit(Admit("send"), wait=5)
    grants: dict[str, object] = {}
    go_on = threading.Event()

    def caller() -> None:
        grant = store.admit(Admit("send"), wait=10)
        grants[threading.current_thread().name] = grant
        if threading.current_thread().name == "first":
            go_on.wait(10)
        store.release(Release(grant.group, Change.ANSWERED, elapsed=0.01))

    first = threading.Thread(target=caller, name="first")
    first.start()
    _until(lambda: len(store._line) == 1)
    second = threading.Thread(target=caller, name="second")
    second.start()
    _until(lambda: len(store._line) == 2)
    store.release(Release(held.group, Change.ANSWERED, elapsed=0.01))
    _until(lambda: "first" in grants)
    with store._lock:  # the first has left the line; the second sleeps in it
        assert list(grants) == ["first"]
        assert asks == ["MainThread", "first", "first"]  # the second never asked
    go_on.set()
    first.join(10)
    second.join(10)
    assert list(grants) == ["first", "second"]
    assert asks == ["MainThread", "first", "first", "second"]
    assert store.state.in_flight == 0


def test_an_interrupt_once_granted_gives_the_slot_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C between the grant and its delivery leaves no slot taken for ever."""
    from mandao._coordination import store as store_module

    store = _store(limit=1)

    def interrupted(*args: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(store_module, "Granted", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.admit(Admit("send"), wait=5)
    monkeypatch.undo()
    assert store.state.in_flight == 0
    assert len(store._line) == 0
    assert store.admit(Admit("send"), wait=0.5).group == 0


def test_threads_never_exceed_the_limit() -> None:
    """16 threads through a store with max_in_flight=2: never more than two in flight.

    Each holder waits for a partner before leaving: two slots let pairs meet, and a
    broken limit lets a crowd in (the peak shows it).
    """
    store = _store(limit=2)
    lock = threading.Lock()
    pair = threading.Barrier(2, timeout=10)
    in_flight = peak = 0
    running = 16

    def caller() -> None:
        nonlocal in_flight, peak, running
        for _ in range(20):
            grant = store.admit(Admit("send"), wait=10)
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            # Broken only for the last thread left running: no partner will come.
            with contextlib.suppress(threading.BrokenBarrierError):
                pair.wait()
            with lock:
                in_flight -= 1
            store.release(Release(grant.group, Change.ANSWERED, elapsed=0.01))
        with lock:
            running -= 1
            if running < 2:
                pair.abort()  # frees the last one, should it wait for a partner

    threads = [threading.Thread(target=caller) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert 1 <= peak <= 2
    assert store.state.in_flight == 0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1"])
def test_a_bad_max_in_flight_is_refused(bad: object) -> None:
    """max_in_flight is a whole number of requests, 1 or more, or None."""
    with pytest.raises(mandao.ValidationError) as info:
        mandao.Client(SN, "x", max_in_flight=bad, journal=None)  # type: ignore[arg-type]
    assert info.value.argument == "max_in_flight"


def test_max_in_flight_comes_from_the_config_files_failover_table(tmp_path: object) -> None:
    """[failover] max_in_flight = 4 in mandao.toml reaches the Client."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    config = tmp_path / "mandao.toml"
    config.write_text(f'sn = "{SN}"\n[failover]\nmax_in_flight = 4\ncooldown = 10\n')
    client = mandao.Client.from_config(config, password="x", journal=None)
    assert client._max_in_flight == 4
    assert client._policy().cooldown == 10


def test_a_send_that_waited_for_the_serial_says_so(client: mandao.Client) -> None:
    """A send queued behind another caller's slot reports the wait in SendResult.waited."""
    _, store = client._sending()
    held = store.admit(Admit("send"), wait=5)
    results: list[mandao.SendResult] = []
    sender = threading.Thread(
        target=lambda: results.append(client.send("13800138000", "等【示例】"))
    )
    sender.start()
    _until(lambda: len(store._line) == 1)
    store.release(Release(held.group, Change.ANSWERED, elapsed=0.01))
    sender.join(10)
    (result,) = results
    assert result.waited > 0
    assert result.batches[0].waited == result.waited


def test_another_client_of_the_serial_waits_too(gateway: SandboxGateway) -> None:
    """Two Clients of one serial in a process share the slot: the second waits for the first."""
    first = gateway.client(SN, PASSWORD, timeout=(1, 5))
    second = gateway.client(SN, PASSWORD, timeout=mandao.Timeouts(1, 5, wait=0.1))
    _, store = first._sending()
    assert second._sending()[1] is store
    held = store.admit(Admit("account"), wait=5)  # first's balance() in flight, say
    with pytest.raises(mandao.SerialBusy) as info:
        second.send("13800138000", "等【示例】")
    assert info.value.operation == "mdsmssend"
    assert info.value.rrid
    assert gateway.ledger.messages == []  # not sent
    store.release(Release(held.group, Change.ANSWERED, elapsed=0.01))
    assert second.send("13800138000", "不等【示例】").id


def test_two_clients_and_16_threads_with_a_flapping_primary(gateway: SandboxGateway) -> None:
    """Two Clients of one serial, 16 threads, the primary going down and up: the sandbox
    (enforcing -18 and -19) answers neither, nothing is sent twice, every call ends in one
    known state."""
    policy = mandao.FailoverPolicy(cooldown=0.01)
    clients = [gateway.client(SN, PASSWORD, timeout=(1, 5), failover=policy) for _ in range(2)]
    for host in (gateway.primary, gateway.backup):
        # Each request stays in flight a few ms: without the client's limit they overlap.
        host.add_fault(Fault("slow", delay=0.005, times=10**6))
    outcomes: list[str] = []
    lock = threading.Lock()

    def sender(n: int) -> None:
        client = clients[n % 2]
        for i in range(15):
            if n == 0 and i % 3 == 0:  # one thread flaps the primary as it goes
                (gateway.primary.down if i % 6 == 0 else gateway.primary.up)()
            try:
                result = client.send(f"138{n:04d}{i:04d}", f"并发 {n}-{i}【示例】")
                outcome = "sent" if result.complete else "partial"
            except mandao.OutcomeUnknown:
                outcome = "unknown"
            except mandao.GatewayUnreachable:
                outcome = "unsent"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    gateway.primary.up()
    assert len(outcomes) == 16 * 15  # every call accounted for
    codes = [r.code for r in gateway.ledger.rejections]
    assert codes.count("-18") == 0
    assert codes.count("-19") == 0
    mobiles = [m.mobile for m in gateway.ledger.messages]
    assert len(mobiles) == len(set(mobiles))  # nothing sent twice
    assert (
        outcomes.count("sent") <= len(mobiles) <= outcomes.count("sent") + outcomes.count("unknown")
    )
    assert outcomes.count("sent") > 0


def test_a_pending_row_slower_than_the_lease_sends_nothing_once_the_slot_is_gone(
    gateway: SandboxGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal's write lock is busy past the slot's lease (connect + read + 1 s), and
    another process takes the slot meanwhile: the request does not go (that would be two
    in flight, -18); the send fails SerialBusy, not sent, its row 'unreachable'. The next
    send, with nobody in the way, goes as usual."""
    from mandao._coordination.files import FileState
    from mandao._journal import recorder

    journal = tmp_path / "j.sqlite3"
    client = gateway.client(SN, PASSWORD, journal=journal, timeout=mandao.Timeouts(0.2, 0.5))
    store = client._serial_store()
    other = FileState(journal, SN, store.state.groups, FailoverPolicy(), 1)
    begin = recorder.Recorder.begin
    rows: list[str] = []

    def busy_journal(self: recorder.Recorder, host: str) -> None:
        rows.append(host)
        if len(rows) == 1:  # the first row waits until the other process has the slot
            _until(lambda: other.try_admit("send", frozenset(), lease=60)[0] == 0)
        begin(self, host)

    monkeypatch.setattr(recorder.Recorder, "begin", busy_journal)
    with pytest.raises(mandao.SerialBusy, match="another process has the slot"):
        client.send("13800138000", "慢日志【示例】")
    assert gateway.ledger.messages == []
    (attempt,) = client.journal.attempts()  # type: ignore[union-attr]
    assert attempt.outcome == "unreachable"
    other.release(0, Change.ANSWERED, 0.01, hold=0)
    assert client.send("13800138001", "之后【示例】").complete
    assert [m.mobile for m in gateway.ledger.messages] == ["13800138001"]
