"""The serial's admission for asyncio tasks: the same store, line and state as threads'.

A task waits in the store's line beside threads, on an :class:`asyncio.Event` of its own
that a release (from any thread or task) sets through the task's loop. Only the first in
line asks the state; a state that waits on a network (a PostgreSQL board) is asked from
``offload``, a worker thread, never on the loop. Nothing here blocks the loop for longer
than the store's lock is held (a few microseconds, or a flock of a board file).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial
from typing import TypeVar

from .._core.admission import Change
from .._core.call import Admit, Granted, Release, Released
from .store import SerialStore

__all__ = ["admit", "kept", "release"]

T = TypeVar("T")


class _Waiter:
    """A task's place in the line."""

    __slots__ = ("event", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.event = asyncio.Event()

    def notify(self) -> None:
        with contextlib.suppress(RuntimeError):  # its loop closed: the task is gone
            self.loop.call_soon_threadsafe(self.event.set)


async def finish(future: asyncio.Future[T]) -> T:
    """``future``'s result, waited for through any cancellation of this task, which is
    delivered again once it is done: work a worker thread has begun (a slot taken, a lease
    given back) is never left half seen."""
    task = asyncio.current_task()
    assert task is not None  # noqa: S101 (awaited in a task)
    asked: list[object] = []  # each cancellation's message (None: none)
    while not future.done():
        try:
            await asyncio.wait([future])
        except asyncio.CancelledError as exc:
            # Taken back now and asked again once done, as often as asked and with the
            # message it came with: the task's count of cancellations stays what its
            # canceller expects (asyncio.timeout turns its own into TimeoutError by it).
            task.uncancel()
            asked.append(exc.args[0] if exc.args else None)
    for message in asked:
        task.cancel(message)
    return future.result()


async def _locked(store: SerialStore, work: Callable[[], T], offload: Executor | None) -> T:
    """``work()`` with the store's lock held: here, or in ``offload`` for a blocking state
    (whose calls wait on a network, the lock held: the loop must never wait for it)."""

    def locked() -> T:
        with store._lock:
            return work()

    if store.blocking and offload is not None:
        return await finish(asyncio.get_running_loop().run_in_executor(offload, locked))
    return locked()


async def admit(
    store: SerialStore,
    effect: Admit,
    *,
    wait: float,
    sn: str,
    lease: float,
    offload: Executor | None = None,
) -> Granted:
    """As :meth:`SerialStore.admit`, awaiting instead of blocking.

    A task cancelled while it waits leaves the line; one cancelled once granted gives the
    slot back.
    """
    waiter = _Waiter(asyncio.get_running_loop())
    start = time.monotonic()
    granted: int | None = None

    def ask() -> tuple[Granted | None, float | None]:
        # With the lock held, the grant's bookkeeping too (a worker's _leave may run).
        nonlocal granted
        granted, again = store._ask(waiter, effect, lease)
        grant = None if granted is None else store._granted(effect, granted, start, sn)
        return grant, again

    await _locked(store, lambda: store._line.append(waiter), offload)
    try:
        while True:
            waiter.event.clear()  # before asking: a release after the ask sets it again
            grant, again = await _locked(store, ask, offload)
            if grant is not None:
                return grant
            left = start + wait - time.monotonic()
            if left <= 0:
                raise await _locked(store, partial(store._busy, sn, wait - left), offload)
            nap = await _locked(store, partial(store._nap, start, left, again, sn), offload)
            try:
                async with asyncio.timeout(nap):
                    await waiter.event.wait()
            except TimeoutError:
                pass
    except BaseException as exc:
        if granted is not None:
            group = granted
            await _locked(
                store,
                lambda: store._shared.release(group, Change.NONE, 0.0, hold=0.0),
                offload,
            )
        elif isinstance(exc, asyncio.CancelledError) and not exc.args:
            # Said by the TimeoutError of asyncio.timeout() or wait_for(), as its cause.
            raise asyncio.CancelledError(_why(store, sn, start)) from None
        raise
    finally:
        final = granted

        def leave() -> None:
            store._leave(waiter, final, sn)

        await _locked(store, leave, offload)


def _why(store: SerialStore, sn: str, start: float) -> str:
    """What a task cancelled while it waited for a slot was waiting for."""
    return (
        f"not sent: cancelled after waiting {time.monotonic() - start:.1f}s for a slot of "
        f"serial {sn} ({store.taken()})"
    )


async def kept(
    store: SerialStore, grant: Granted, lease: float, offload: Executor | None = None
) -> bool:
    """As :meth:`SerialStore.kept`, off the loop for a blocking state."""
    if not store.lapsing(grant):
        return True
    return await _locked(store, lambda: store._shared.renew(grant.group, lease=lease), offload)


async def release(
    store: SerialStore, effect: Release, *, hold: float, offload: Executor | None = None
) -> Released:
    """As :meth:`SerialStore.release`, off the loop for a blocking state; carried to its
    end through a cancellation (then delivered again), so the outcome is journaled next."""
    if store.blocking and offload is not None:
        loop = asyncio.get_running_loop()
        return await finish(loop.run_in_executor(offload, lambda: store.release(effect, hold=hold)))
    return store.release(effect, hold=hold)
