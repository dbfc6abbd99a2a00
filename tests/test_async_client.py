"""AsyncClient on the event loop: many tasks on one serial, cancellation at every stage,
and one admission shared with the threads of sync Clients."""

from __future__ import annotations

import asyncio
import re
import threading
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import mandao
from mandao import Journal
from mandao.testing import Fault, SandboxGateway

from .conftest import PASSWORD, SN

pytestmark = pytest.mark.asyncio


def _client(gateway: SandboxGateway, **kwargs: object) -> mandao.AsyncClient:
    kwargs.setdefault("journal", None)
    return mandao.AsyncClient(
        SN, PASSWORD, hosts=gateway.hosts, account_hosts=gateway.account_hosts, **kwargs
    )


def _ours() -> int:
    """Threads of this process that are not the sandbox's (a thread per connection)."""
    return sum(not t.name.startswith("sandbox-") for t in threading.enumerate())


async def _until(check: Callable[[], bool], what: str) -> None:
    """Yield to the loop until ``check`` holds (the bound only guards against a hang)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not check():
        assert loop.time() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.002)


async def test_200_tasks_with_a_flapping_primary(gateway: SandboxGateway) -> None:
    """200 concurrent sends on one AsyncClient, the primary going down and up, the sandbox
    enforcing -18 and -19: neither, nothing sent twice, every call in one known state, and
    the process's threads a small fixed number (no thread per task)."""
    for host in (gateway.primary, gateway.backup):
        host.add_fault(Fault("slow", delay=0.002, times=10**6))
    threads_before = _ours()
    outcomes: Counter[str] = Counter()
    async with _client(
        gateway,
        timeout=mandao.Timeouts(1, 1, wait=120),
        failover=mandao.FailoverPolicy(cooldown=0.01),
    ) as client:

        async def one(n: int) -> None:
            try:
                result = await client.send(f"138{n:08d}", f"并发任务 {n}【示例】")
                outcomes["sent" if result.complete else "partial"] += 1
            except mandao.OutcomeUnknown:
                outcomes["unknown"] += 1
            except mandao.GatewayUnreachable:
                outcomes["unsent"] += 1

        async def flap() -> None:
            for i in range(6):
                seen = len(gateway.ledger.messages)
                await _until(lambda seen=seen: len(gateway.ledger.messages) >= seen + 20, "sends")
                (gateway.primary.down if i % 2 == 0 else gateway.primary.up)()
            gateway.primary.up()

        peak_threads = _ours()

        async def watch() -> None:
            nonlocal peak_threads
            while sum(outcomes.values()) < 200:
                peak_threads = max(peak_threads, _ours())
                await asyncio.sleep(0.01)

        await asyncio.gather(flap(), watch(), *(one(n) for n in range(200)))
    assert sum(outcomes.values()) == 200
    codes = Counter(r.code for r in gateway.ledger.rejections)
    assert codes["-18"] == 0, codes
    assert codes["-19"] == 0, codes
    assert gateway.peak_in_flight(SN) == 1
    mobiles = [m.mobile for m in gateway.ledger.messages]
    assert len(mobiles) == len(set(mobiles))
    assert outcomes["sent"] <= len(mobiles) <= outcomes["sent"] + outcomes["unknown"]
    # The client's one worker thread (journal, opening) and the pool maker's: two at most.
    assert peak_threads - threads_before <= 2


async def test_a_first_send_reads_the_wsdls_and_makes_its_transport_off_the_loop(
    gateway: SandboxGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """zeep's and httpx's imports, the WSDLs and the journal of a client's first call are
    the worker's work (about 0.2 s that stalled every task of the loop): the loop's thread
    does none of it."""
    from mandao._transports import aio, wsdl

    threads: list[str] = []
    bound = wsdl.Wsdl.client

    def binding(self: wsdl.Wsdl, service: Any) -> Any:
        if service.name not in self._clients:  # a WSDL read and bound for the first time
            threads.append(threading.current_thread().name)
        return bound(self, service)

    made = aio.AioTransport

    class Recorded(made):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            threads.append(threading.current_thread().name)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(wsdl.Wsdl, "client", binding)
    monkeypatch.setattr(aio, "AioTransport", Recorded)
    async with _client(gateway) as client:
        # Entering the client did it, so no first call pays it under its caller's timeout.
        assert len(threads) == 3  # the send and account services' WSDLs, the transport
        assert (await client.send("13800138000", "首次【示例】")).complete
        assert (await client.balance()) >= 0
    assert len(threads) == 3
    assert threading.current_thread().name not in threads
    client = _client(gateway)  # not entered: the first call does it, off the loop too
    assert (await client.send("13800138001", "首次【示例】")).complete
    await client.aclose()
    assert len(threads) == 6
    assert threading.current_thread().name not in threads


async def test_a_task_cancelled_while_queued_sends_nothing(
    gateway: SandboxGateway, journal_location: Path | str
) -> None:
    """Cancelled while it waits for the serial's slot: not sent, not journaled, out of the
    line, no slot taken with it (on both boards, a PostgreSQL one asked from the worker)."""
    timeout = mandao.Timeouts(1, 5, wait=5)  # a leaked slot fails the last send fast
    async with _client(gateway, journal=journal_location, timeout=timeout) as client:
        with gateway.primary.hold() as held:
            first = asyncio.create_task(client.send("13800138000", "占用【示例】"))
            await asyncio.to_thread(held.wait, timeout=30)
            queued = asyncio.create_task(client.send("13800138001", "排队【示例】"))
            store = client._store
            assert store is not None
            await _until(lambda: len(store._line) == 1, "the second task in line")
            queued.cancel()
            with pytest.raises(asyncio.CancelledError, match=r"^not sent: cancelled after"):
                await queued
            own = asyncio.create_task(client.send("13800138001", "排队【示例】"))
            await _until(lambda: len(store._line) == 1, "the third task in line")
            own.cancel("the handler's own reason")
            with pytest.raises(asyncio.CancelledError, match=r"^the handler's own reason$"):
                await own  # a message of the canceller's own is kept
            assert len(store._line) == 0
        assert (await first).complete
        # The slot went back: the next send goes at once.
        assert (await client.send("13800138002", "之后【示例】")).complete
    assert sorted(m.mobile for m in gateway.ledger.messages) == ["13800138000", "13800138002"]
    with Journal(journal_location) as journal:
        attempts = list(journal.attempts())
    assert {a.recipients for a in attempts} == {("13800138000",), ("13800138002",)}


async def test_a_task_cancelled_while_connecting_is_journaled_not_sent(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """Connects hang (a full accept queue on loopback): the cancel comes before any byte
    left, so the attempt is 'unreachable', and the slot is free at once."""
    journal = Journal(tmp_path / "j.sqlite3")
    gateway.primary.down("timeout")
    async with _client(gateway, journal=journal.path, timeout=mandao.Timeouts(30, 5)) as client:
        task = asyncio.create_task(client.send("13800138000", "连接中【示例】"))
        await _until(lambda: len(journal.pending()) == 1, "the pending row")
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as cancelled:
            await task
        # The caller is told, as the journal is: a bare cancellation says what it did.
        assert str(cancelled.value).startswith(
            f"not sent: cancelled before the request was written to {gateway.hosts[0]}"
        )
        (attempt,) = journal.attempts()
        assert attempt.outcome == "unreachable"
        # The row names what happened, once: not the caller's message again.
        assert attempt.detail == "interrupted before the request was written: CancelledError()"
        gateway.primary.up()
        assert (await client.send("13800138001", "之后【示例】")).complete
    assert [m.mobile for m in gateway.ledger.messages] == ["13800138001"]


async def test_a_timeout_during_an_offloaded_admission_is_a_timeout_error(
    gateway: SandboxGateway, postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An asyncio.timeout that runs out while the worker asks a PostgreSQL board for the
    slot: the slot taken meanwhile goes back, nothing is sent, and the caller gets a
    TimeoutError with the task no longer cancelling (the cancellation was asked again
    once the worker was done, and counted twice: CancelledError escaped the timeout)."""
    from mandao._coordination.postgres import PostgresState

    asking, gate = threading.Event(), threading.Event()
    ask = PostgresState.try_admit

    def held(self: PostgresState, *args: Any, **kwargs: Any) -> tuple[int | None, float | None]:
        asking.set()
        gate.wait(30)
        return ask(self, *args, **kwargs)

    monkeypatch.setattr(PostgresState, "try_admit", held)
    task = asyncio.current_task()
    assert task is not None

    async def send_timed_out_while_asking(client: mandao.AsyncClient) -> None:
        async with asyncio.timeout(None) as scope:

            async def run_out() -> None:
                await asyncio.to_thread(asking.wait, 30)
                scope.reschedule(asyncio.get_running_loop().time())
                await _until(scope.expired, "the timeout")
                gate.set()

            watcher = asyncio.create_task(run_out())
            try:
                await client.send("13800138000", "超时【示例】")
            finally:
                await watcher

    async with _client(gateway, journal=postgresql_url) as client:
        with pytest.raises(TimeoutError):
            await send_timed_out_while_asking(client)
        assert task.cancelling() == 0
        assert (await client.send("13800138001", "之后【示例】")).complete
    assert [m.mobile for m in gateway.ledger.messages] == ["13800138001"]


async def _timed_out_once_held(send: Awaitable[object], held: Any) -> None:
    """Await ``send`` in an ``asyncio.timeout`` that runs out once the gateway holds the
    request, however long the way there took (a fixed 0.5 s failed on a loaded machine)."""
    async with asyncio.timeout(None) as scope:

        async def run_out() -> None:
            await asyncio.to_thread(held.wait, timeout=30)
            scope.reschedule(asyncio.get_running_loop().time())

        watcher = asyncio.create_task(run_out())
        try:
            await send
        finally:
            watcher.cancel()


@pytest.mark.parametrize("how", ["cancel", "asyncio.timeout"])
async def test_a_task_cancelled_once_written_is_unknown_and_keeps_the_slot(
    gateway: SandboxGateway, tmp_path: Path, how: str
) -> None:
    """The request reached the gateway: the attempt is 'unknown' in the journal, the
    cancellation (or timeout) goes on, and the slot waits a read timeout for the gateway."""
    journal = Journal(tmp_path / "j.sqlite3")
    timeout = mandao.Timeouts(1, 30, wait=0.2)
    async with _client(gateway, journal=journal.path, timeout=timeout) as client:
        with gateway.primary.hold() as held:
            if how == "cancel":
                task = asyncio.create_task(client.send("13800138000", "已写出【示例】"))
                await asyncio.to_thread(held.wait, timeout=30)
                task.cancel()
                with pytest.raises(asyncio.CancelledError) as error:
                    await task
                told = error.value
            else:
                send = client.send("13800138000", "已写出【示例】")
                with pytest.raises(TimeoutError) as timed_out:
                    await _timed_out_once_held(send, held)
                assert held.held == 1
                told = timed_out.value.__cause__
            # What the caller catches says the code may have reached the phone.
            assert isinstance(told, asyncio.CancelledError)
            assert str(told).startswith(
                f"outcome unknown: cancelled after the request was written to {gateway.hosts[0]}"
            )
            assert "journaled unknown and not sent again" in str(told)
            (attempt,) = journal.attempts()
            assert attempt.outcome == "unknown"
            assert attempt.detail == ("interrupted after the request was written: CancelledError()")
            # The caller's error keeps the frames of the cancellation it tells of.
            # Where the cancellation struck: in httpcore (or httpx), waiting for the answer.
            files = {
                Path(frame.filename).parts for frame in traceback.extract_tb(told.__traceback__)
            }
            assert any({"httpcore", "httpx"} & set(parts) for parts in files)
            with pytest.raises(mandao.SerialBusy):
                await client.send("13800138001", "等不到【示例】")
            # A caller's own timeout, shorter than the wait: its TimeoutError's cause says
            # what the send waited for.
            with pytest.raises(TimeoutError) as timed_out:
                async with asyncio.timeout(0.05):
                    await client.send("13800138001", "等不到【示例】")
            cause = timed_out.value.__cause__
            assert isinstance(cause, asyncio.CancelledError)
            assert re.match(r"not sent: cancelled after waiting \d+\.\ds for a slot", str(cause))
            assert f"for a slot of serial {SN} (max_in_flight=1, 1 in flight" in str(cause)
            assert "1 of them unanswered, each keeping its slot one read timeout" in str(cause)


async def test_a_task_cancelled_once_written_without_a_journal_says_no_journal(
    gateway: SandboxGateway,
) -> None:
    """With the journal off nothing is journaled: the message does not claim it is."""
    async with _client(gateway, timeout=mandao.Timeouts(1, 30, wait=0.2)) as client:
        with gateway.primary.hold() as held:
            task = asyncio.create_task(client.send("13800138000", "已写出【示例】"))
            await asyncio.to_thread(held.wait, timeout=30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as error:
                await task
    assert str(error.value).startswith("outcome unknown: cancelled after the request was")
    assert str(error.value).endswith("; it may have been sent, so it is not sent again")


async def test_sync_and_async_clients_share_one_admission(gateway: SandboxGateway) -> None:
    """A Client in threads and an AsyncClient on the loop, one serial: one store, and the
    sandbox never sees two requests at once."""
    gateway.primary.add_fault(Fault("slow", delay=0.003, times=10**6))
    sync = gateway.client(SN, PASSWORD, timeout=(1, 5))
    async with _client(gateway, timeout=(1, 5)) as client:
        assert client._serial_store() is sync._serial_store()

        def threads() -> None:
            for i in range(20):
                sync.send(f"1390000{i:04d}", f"同步 {i}【示例】")

        async def tasks() -> None:
            await asyncio.gather(
                *(client.send(f"1380000{i:04d}", f"异步 {i}【示例】") for i in range(20))
            )

        await asyncio.gather(asyncio.to_thread(threads), tasks())
    assert len(gateway.ledger.messages) == 40
    assert [r.code for r in gateway.ledger.rejections] == []
    assert gateway.peak_in_flight(SN) == 1


async def test_repr_and_errors_are_the_clients(gateway: SandboxGateway) -> None:
    async with _client(gateway) as client:
        assert repr(client).startswith("<mandao.AsyncClient sn=SDK-TST-010-00001")
        with pytest.raises(mandao.ValidationError) as info:
            await client.send("12345", "坏号码【示例】")
        assert info.value.argument == "mobiles"
        dry = await client.send("13800138000", "预演【示例】", dry_run=True)
        assert isinstance(dry, mandao.DryRun)
    assert gateway.ledger.messages == []


async def test_aclose_with_a_send_under_way_lets_it_journal_its_outcome(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    client = _client(gateway, journal=journal.path, timeout=(1, 5))
    with gateway.primary.hold() as held:
        task = asyncio.create_task(client.send("13800138000", "关闭中【示例】"))
        await asyncio.to_thread(held.wait, timeout=30)
        await client.aclose()
    with pytest.raises(mandao.OutcomeUnknown):  # its pool closed under it: maybe sent
        await task
    (attempt,) = journal.attempts()
    assert attempt.outcome == "unknown"


@pytest.mark.parametrize(
    ("client", "session", "hint"),
    [
        (mandao.AsyncClient, "requests", "mandao.Client takes a requests.Session"),
        (mandao.Client, "httpx-sync", "mandao.AsyncClient takes an httpx.AsyncClient"),
        (mandao.Client, "httpx-async", "mandao.AsyncClient takes an httpx.AsyncClient"),
    ],
)
async def test_a_session_of_the_other_kind_is_refused_when_the_client_is_made(
    client: type[mandao.Client] | type[mandao.AsyncClient], session: str, hint: str
) -> None:
    """A requests.Session given to AsyncClient (or an httpx client to Client) is refused at
    once; it used to fail at the first send, as an outcome unknown that held the slot."""
    import httpx
    import requests

    given = {"requests": requests.Session, "httpx-sync": httpx.Client,
             "httpx-async": httpx.AsyncClient}[session]()  # fmt: skip
    try:
        with pytest.raises(mandao.ValidationError, match=hint) as info:
            client(SN, PASSWORD, session=given, journal=None)
    finally:
        closing = given.aclose() if isinstance(given, httpx.AsyncClient) else given.close()
        if closing is not None:
            await closing
    assert info.value.argument == "session"


async def test_a_duplicate_warning_points_at_the_line_that_sent(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """The guard's warn action warns at the caller's line, with either client (the async
    one's guard reads the journal in its worker thread, whose frames are no one's)."""
    guard = mandao.DuplicateGuard(action="warn")
    journal = tmp_path / "j.sqlite3"
    with gateway.client(SN, PASSWORD, journal=journal, duplicate_guard=guard) as sync:
        sync.send("13800138000", "通知【示例】")
        with pytest.warns(mandao.DuplicateWarning) as sync_said:
            sync.send("13800138000", "通知【示例】")
    async with gateway.async_client(SN, PASSWORD, journal=journal,
                                    duplicate_guard=guard) as client:  # fmt: skip
        with pytest.warns(mandao.DuplicateWarning) as async_said:
            await client.send("13800138000", "通知【示例】")
    assert [w.filename for w in sync_said] == [__file__]
    assert [w.filename for w in async_said] == [__file__]


async def test_every_method_of_client_is_asyncclients_with_its_parameters() -> None:
    """Moving from Client changes `await` and nothing else: every public name of Client is
    AsyncClient's too (close included), with the same parameters; only the REPL's raw zeep
    proxies (service, account_service: blocking by nature) are Client's alone."""
    import inspect

    def public(kind: type) -> set[str]:
        return {name for name in dir(kind) if not name.startswith("_")}

    assert public(mandao.Client) - public(mandao.AsyncClient) == {"service", "account_service"}
    for name in public(mandao.Client) & public(mandao.AsyncClient):
        sync, other = getattr(mandao.Client, name), getattr(mandao.AsyncClient, name)
        if inspect.isfunction(sync):
            assert (
                inspect.signature(sync).parameters.keys()
                == inspect.signature(other).parameters.keys()
            ), name


async def test_work_a_worker_has_begun_is_seen_through_and_its_cancellations_kept() -> None:
    """A task cancelled (twice, one with a message) while a worker thread does work for it
    waits for the work, then gets its cancellations back, the message with them: what
    the canceller said is never lost on the way (a PostgreSQL board is asked so)."""
    from concurrent.futures import ThreadPoolExecutor

    from mandao._coordination.aio import finish

    gate, began = threading.Event(), threading.Event()

    def work() -> str:
        began.set()
        gate.wait(30)
        return "done"

    seen: list[str] = []

    async def waiter(pool: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        seen.append(await finish(loop.run_in_executor(pool, work)))
        await asyncio.sleep(0)  # the cancellations asked meanwhile arrive here

    with ThreadPoolExecutor(1) as pool:
        task = asyncio.create_task(waiter(pool))
        await asyncio.to_thread(began.wait, 30)
        task.cancel()
        await asyncio.sleep(0)
        task.cancel("the handler's own reason")  # the last one's message is the task's
        await asyncio.sleep(0)
        gate.set()
        with pytest.raises(asyncio.CancelledError, match=r"^the handler's own reason$"):
            await task
    assert seen == ["done"]
    assert task.cancelling() == 2
