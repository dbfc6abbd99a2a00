"""The asyncio driver: carries the core's effects out with httpx, on the event loop.

The same decisions as the sync driver's (``mandao._sync``), for they are the same
generators: :func:`~mandao._core.call.attempts` and :func:`~mandao._core.batches.batches`.
Only the carrying differs: the request goes through :class:`~mandao._transports.aio.
AioTransport`; the serial's slots through the same store as threads'
(:mod:`mandao._coordination.aio`); the journal's rows are written in ``worker``, one thread
of the client's, so the loop never waits on a disk, and each write is awaited (shielded
from cancellation) before the call goes on.

A cancellation is an outcome. Cancelled while queued for a slot, or before any byte of the
request left: not sent, journaled so. Cancelled once it may have left: the attempt is
journaled ``unknown`` and its slot lingers one read timeout. Either way the cancellation
propagates.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, TypeVar

from ._coordination import aio as admission
from ._core.batches import UNWRITTEN, Sent, batches
from ._core.call import (
    Admit,
    Answered,
    Deadline,
    Done,
    Effect,
    Granted,
    Interrupted,
    Pause,
    Record,
    Release,
    Reply,
    Transmit,
    attempts,
)
from ._core.wire import classify
from ._log import logger

if TYPE_CHECKING:
    from ._compose.plan import Plan, Planned
    from ._coordination.store import SerialStore
    from ._core.failover import FailoverPolicy
    from ._journal import Recorder
    from ._results import Batch, SendResult
    from ._transports.aio import AioTransport
    from ._transports.wsdl import Built

__all__ = ["call", "drive", "send_plan"]

E = TypeVar("E")
R = TypeVar("R")
T = TypeVar("T")


async def drive(steps: Generator[E, R, T], handle: Callable[[E], Awaitable[R]]) -> T:
    """Run ``steps`` to its end, answering each effect with ``await handle(effect)``.

    What ``handle`` raises (a cancellation included) is thrown into ``steps``, which
    settles what it was doing and re-raises it (or carries on).
    """
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = steps.send(reply) if error is None else steps.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        error = None
        try:
            reply = await handle(effect)
        except BaseException as exc:
            error, reply = exc, None


async def written(worker: Executor, write: Callable[[], None]) -> None:
    """Run the journal write ``write`` in ``worker`` and wait until it is committed, even
    if the task is cancelled meanwhile, however often (the cancellation then goes on)."""
    future = asyncio.get_running_loop().run_in_executor(worker, write)
    cancelled: asyncio.CancelledError | None = None
    while not future.done():
        try:
            await asyncio.wait([future])
        except asyncio.CancelledError as exc:
            cancelled = exc
    if cancelled is not None:
        if (failed := future.exception()) is not None:
            logger.error("journal: a row was not written: %s", failed)
        raise cancelled  # the row is in (or failed): nothing more is sent
    future.result()


def told(
    exc: BaseException, written: bool, url: str, rrid: str | None, *, journaled: bool
) -> BaseException:
    """A bare cancellation of a send as one that says what became of its request (and
    whether a journal says so), for its caller (a TimeoutError's cause, too); one with a
    message of its own is kept."""
    if not isinstance(exc, asyncio.CancelledError) or exc.args:
        return exc
    if not written:
        message = f"not sent: cancelled before the request was written to {url}"
    else:
        message = (
            f"outcome unknown: cancelled after the request was written to {url}"
            f"{f' (rrid {rrid})' if rrid else ''}; it may have been sent, so it is "
            f"{'journaled unknown and ' if journaled else ''}not sent again"
        )
    return asyncio.CancelledError(message).with_traceback(exc.__traceback__)


async def call(
    built: Built,
    recipients: Sequence[str],
    record: Recorder,
    *,
    transport: AioTransport,
    store: SerialStore,
    policy: FailoverPolicy,
    rng: random.Random,
    sn: str,
    worker: Executor,
    journaled: bool,
) -> Done:
    """Send ``built`` under the serial's admission and failover; (result, url, waited)."""
    op = built.operation
    rrid = built.fields.get("rrid") or None
    timeouts = transport.timeouts
    lease = timeouts.lease()
    began = written_at = 0.0
    hidden = transport.secrets(built)

    grant: Granted | None = None

    async def handle(effect: Effect) -> Reply:
        nonlocal began, written_at, grant
        if isinstance(effect, Admit):
            wait = effect.wait(timeouts.wait, time.monotonic())
            grant = await admission.admit(
                store, effect, wait=wait, sn=sn, lease=lease, offload=worker
            )
            return grant
        if isinstance(effect, Transmit):
            url = effect.url
            if journaled:
                try:
                    await written(worker, lambda: record.begin(url))
                    if grant is not None and not await admission.kept(store, grant, lease, worker):
                        return Interrupted(store.lost(grant, sn), False)
                except (asyncio.CancelledError, *UNWRITTEN) as exc:
                    # Nothing left (the row is in, or none).
                    return Interrupted(exc, False, told(exc, False, url, rrid, journaled=True))
            began = written_at = time.monotonic()
            left = False

            def wrote() -> None:
                nonlocal left, written_at
                left, written_at = True, time.monotonic()

            try:
                exchange = await transport.exchange(
                    built, url, on_written=wrote, budget=effect.budget
                )
            except asyncio.CancelledError as exc:
                return Interrupted(exc, left, told(exc, left, url, rrid, journaled=journaled))
            outcome = classify(exchange, host=url, operation=op.name, rrid=rrid,
                               recipients=recipients)  # fmt: skip
            if isinstance(outcome, str):
                now = time.monotonic()
                return Answered(outcome, now - began, now, hidden.scrub(outcome))
            return outcome
        if isinstance(effect, Record):
            if journaled:
                await written(worker, lambda: record.end(effect.outcome, result=effect.result,
                                                         detail=effect.detail))  # fmt: skip
            return None
        if isinstance(effect, Release):
            # Unanswered: its host may work on it until a read timeout after it was written.
            hold = written_at + timeouts.read - time.monotonic() if effect.linger else 0.0
            return await admission.release(store, effect, hold=hold, offload=worker)
        assert isinstance(effect, Pause)  # noqa: S101
        await asyncio.sleep(effect.seconds)
        return None

    steps = attempts(op.name, op.service.name, op.reply, policy, rrid=rrid,
                     recipients=recipients, rng=rng, sn=sn,
                     deadline=Deadline.after(timeouts.budget(), time.monotonic))  # fmt: skip
    return await drive(steps, handle)


async def send_plan(
    plan: Plan,
    send_one: Callable[[Planned], Coroutine[Any, Any, Sent]],
    progress: Callable[[Batch], object] | None = None,
) -> SendResult:
    """Send ``plan``'s batches in order with ``send_one``; the folded result."""
    return await drive(batches(plan, progress), send_one)
