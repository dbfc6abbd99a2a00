"""The sync driver: carries the core's effects out with threads, requests and ``time``.

The decisions are all in ``mandao._core``: :func:`~mandao._core.call.attempts` (one
request, its hosts and retries) and :func:`~mandao._core.batches.batches` (a send's
batches, folded into a result). This module only answers their effects.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

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

if TYPE_CHECKING:
    from ._compose.plan import Plan, Planned
    from ._coordination.store import SerialStore
    from ._core.failover import FailoverPolicy
    from ._journal import Recorder
    from ._results import Batch, SendResult
    from ._transports.sync import SyncTransport
    from ._transports.wsdl import Built

__all__ = ["call", "drive", "send_plan"]

E = TypeVar("E")
R = TypeVar("R")
T = TypeVar("T")


def drive(steps: Generator[E, R, T], handle: Callable[[E], R]) -> T:
    """Run ``steps`` to its end, answering each effect with ``handle``.

    What ``handle`` raises is thrown into ``steps``, which settles what it was doing and
    re-raises it (or carries on).
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
            reply = handle(effect)
        except BaseException as exc:
            error, reply = exc, None


def call(
    built: Built,
    recipients: Sequence[str],
    record: Recorder,
    *,
    transport: SyncTransport,
    store: SerialStore,
    policy: FailoverPolicy,
    rng: random.Random,
    sn: str,
) -> Done:
    """Send ``built`` under the serial's admission and failover; (result, url, waited).

    The call ends by its ``Timeouts.total`` (see :class:`~mandao._core.call.Deadline`).
    """
    op = built.operation
    rrid = built.fields.get("rrid") or None
    began = 0.0
    timeouts = transport.timeouts
    lease = timeouts.lease()
    hidden = transport.secrets(built)

    grant: Granted | None = None

    def handle(effect: Effect) -> Reply:
        nonlocal began, grant
        if isinstance(effect, Admit):
            wait = effect.wait(timeouts.wait, time.monotonic())
            grant = store.admit(effect, wait=wait, sn=sn, lease=lease)
            return grant
        if isinstance(effect, Transmit):
            try:
                record.begin(effect.url)
                if grant is not None and not store.kept(grant, lease=lease):
                    return Interrupted(store.lost(grant, sn), False)
            except UNWRITTEN as exc:
                return Interrupted(exc, False)  # no pending row (or no slot): nothing left
            began = time.monotonic()
            exchange = transport.exchange(built, effect.url, budget=effect.budget)
            outcome = classify(
                exchange, host=effect.url, operation=op.name, rrid=rrid, recipients=recipients
            )
            if isinstance(outcome, str):
                now = time.monotonic()
                return Answered(outcome, now - began, now, hidden.scrub(outcome))
            return outcome
        if isinstance(effect, Record):
            record.end(effect.outcome, result=effect.result, detail=effect.detail)
            return None
        if isinstance(effect, Release):
            # Unanswered: its host may work on it until a read timeout after it was written,
            # right after its connection was made (the time a connection takes, none on a
            # kept-alive one, is not known here: it begins at the attempt's start).
            hold = began + timeouts.read - time.monotonic() if effect.linger else 0.0
            return store.release(effect, hold=hold)
        assert isinstance(effect, Pause)  # noqa: S101
        time.sleep(effect.seconds)
        return None

    steps = attempts(
        op.name,
        op.service.name,
        op.reply,
        policy,
        rrid=rrid,
        recipients=recipients,
        rng=rng,
        sn=sn,
        deadline=Deadline.after(timeouts.budget(), time.monotonic),
    )
    return drive(steps, handle)


def send_plan(
    plan: Plan,
    send_one: Callable[[Planned], Sent],
    progress: Callable[[Batch], object] | None = None,
) -> SendResult:
    """Send ``plan``'s batches in order with ``send_one``; the folded result."""
    return drive(batches(plan, progress), send_one)
