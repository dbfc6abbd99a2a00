"""The one path every request takes: host choice, failover, retries, in-flight gating.

A :class:`Dispatcher` belongs to one client. It keeps, per service, the pure
:class:`~mandao._core.failover.HostState` and a gate that holds one serial's requests on one
host at a time; it spends from the client's :class:`~mandao._core.failover.RetryBudget`.
What a code allows is the code table's ``Retry`` column, asked of the policy.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from ._codes import Category
from ._config import short_host
from ._decode import decode
from ._errors import AllHostsFailed, GatewayError, GatewayUnreachable, OutcomeUnknown
from ._core.failover import FailoverPolicy, HostState, RetryBudget
from ._log import heard, logger
from ._operations import Operation
from ._wsdl import ServiceName

if TYPE_CHECKING:
    from ._journal_hook import Recorder
    from ._transport import Built, Transport

__all__ = ["Dispatcher"]


class Dispatcher:
    """Sends built requests for one serial under a :class:`FailoverPolicy`.

    Args:
        sn: the serial (named in the -19 log line).
        hosts: each service's URLs, preferred first.
        policy: the failover and retry settings.
    """

    def __init__(
        self, sn: str, hosts: dict[ServiceName, tuple[str, ...]], policy: FailoverPolicy
    ) -> None:
        self.sn = sn
        self.policy = policy
        self.states: dict[ServiceName, HostState] = {
            name: HostState(urls) for name, urls in hosts.items()
        }
        self._gates = {name: _HostGate(self, name) for name in hosts}
        self._lock = threading.Lock()
        self._rng = random.Random()  # noqa: S311 (backoff jitter, not secrets)
        self._budget = RetryBudget(policy.budget)

    def active_host(self, service: ServiceName) -> str:
        """Where requests to ``service`` go now."""
        return self.states[service].active_host

    def call(
        self,
        op: Operation,
        built: Built,
        recipients: Sequence[str],
        record: Recorder,
        transport: Transport,
    ) -> tuple[str, str]:
        """Send ``built`` to the active host; (result, host), or the decoded error.

        Provably unsent: the next host, at once, same request. Sent without a decodable
        answer: OutcomeUnknown, never re-sent. A code whose ``Retry`` column says
        ``SAME_HOST``: retried after a jittered backoff, bounded by the policy and budget.
        """
        rrid = built.fields.get("rrid") or None
        gate = self._gates[op.service.name]
        policy = self.policy
        started = time.monotonic()
        causes: list[tuple[str, str]] = []
        tried: set[str] = set()
        retries = 0
        host = gate.acquire(tried)
        while True:
            began = time.monotonic()
            try:
                record.begin(host)
                raw = transport.send(built, host, recipients=recipients)
            except GatewayUnreachable as exc:
                record.end("unreachable", detail=exc.message)
                gate.release(
                    host, partial(HostState.after_unreachable, host=host, now=time.monotonic())
                )
                causes.append((host, exc.message))
                tried.add(host)
                if heard(logging.WARNING):
                    logger.warning(
                        "%s: %s unreachable (%s)", op.name, short_host(host), exc.message
                    )
                if len(tried) == len(gate.hosts):
                    raise _all_failed(causes, op.name, rrid) from None
                if not self._spend():
                    causes.extend(
                        (h, "not tried: retry budget exhausted")
                        for h in gate.hosts
                        if h not in tried
                    )
                    raise _all_failed(causes, op.name, rrid) from None
                host = gate.acquire(tried)
                continue
            except OutcomeUnknown as exc:
                record.end("unknown", detail=exc.message)
                gate.release(
                    host,
                    partial(
                        HostState.after_failure, host=host, policy=policy, now=time.monotonic()
                    ),
                )
                raise
            except BaseException as exc:
                record.end("unknown", detail=f"interrupted: {exc!r}")
                gate.release(host, None)
                raise
            elapsed = time.monotonic() - began
            gate.release(
                host,
                partial(
                    HostState.after_answer,
                    host=host,
                    elapsed=elapsed,
                    policy=policy,
                    now=time.monotonic(),
                ),
            )
            try:
                value = decode(
                    raw,
                    success=op.reply,
                    host=host,
                    operation=op.name,
                    rrid=rrid,
                    recipients=recipients,
                )
            except GatewayError as exc:
                unknown = isinstance(exc, OutcomeUnknown)
                record.end("unknown" if unknown else "rejected", result=str(exc.code))
                if exc.info.category is Category.CONCURRENT and heard(logging.ERROR):
                    logger.error(
                        "%s: %s answered %s: this serial is in use on another host at the same"
                        " time; another client shares serial %s. Not retried.",
                        op.name,
                        short_host(host),
                        exc.code,
                        self.sn,
                    )
                delay = policy.retry_delay(
                    exc.info.retry,
                    retries=retries,
                    elapsed=time.monotonic() - started,
                    rng=self._rng,
                )
                if delay is None or not self._spend():
                    raise
                retries += 1
                if heard(logging.INFO):
                    logger.info(
                        "%s: %s answered %s; retry %d in %.2fs",
                        op.name,
                        short_host(host),
                        exc.code,
                        retries,
                        delay,
                    )
                time.sleep(delay)
                host = gate.acquire(set())
                continue
            except OutcomeUnknown as exc:
                record.end("unknown", detail=exc.message)
                raise
            record.end("accepted", result=value)
            self._refund()
            return value, host

    def _spend(self) -> bool:
        with self._lock:
            after = self._budget.spend(self.policy.retry_cost)
            if after is None:
                return False
            self._budget = after
            return True

    def _refund(self) -> None:
        with self._lock:
            self._budget = self._budget.refund(self.policy.success_refund)


def _all_failed(causes: list[tuple[str, str]], operation: str, rrid: str | None) -> AllHostsFailed:
    return AllHostsFailed(
        "no host took the request: "
        + "; ".join(f"{short_host(host)}: {cause}" for host, cause in causes),
        causes=tuple(causes),
        operation=operation,
        rrid=rrid,
    )


class _HostGate:
    """Keeps one service's requests on one host at a time, switches included.

    Requests in flight are counted per gate; a request may start on a host other than the
    one holding requests in flight only once those have all finished, so one serial never
    has requests on two hosts at once (-19), even while a switch happens. The host state
    (a pure :class:`HostState`) is read and replaced only under the gate's condition.
    """

    def __init__(self, dispatcher: Dispatcher, name: ServiceName) -> None:
        self._dispatcher = dispatcher
        self._name = name
        self._cond = threading.Condition()
        self._host: str | None = None
        self._in_flight = 0
        self._probing = False

    @property
    def hosts(self) -> tuple[str, ...]:
        return self._dispatcher.states[self._name].hosts

    def acquire(self, exclude: set[str]) -> str:
        """Wait until a request may go out, and return the host it goes to."""
        dispatcher = self._dispatcher
        with self._cond:
            while True:
                state = dispatcher.states[self._name]
                if state.due_return(dispatcher.policy, time.monotonic()):
                    # Admit nothing more to the current host: once it drains, go back.
                    if self._in_flight > 0:
                        self._cond.wait()
                        continue
                    state = dispatcher.states[self._name] = state.returned()
                    self._probing = True
                    if heard(logging.INFO):
                        logger.info("%s: cool-down over, back to %s", self._name, state.active_host)
                if self._probing and self._in_flight > 0:
                    # Back on the preferred host: one request finds out whether it is well
                    # before the others follow (a circuit breaker's half-open state).
                    self._cond.wait()
                    continue
                target = next(h for h in state.attempt_order() if h not in exclude)
                if self._in_flight == 0 or self._host == target:
                    self._host = target
                    self._in_flight += 1
                    return target
                self._cond.wait()

    def release(self, host: str, change: Callable[[HostState], HostState] | None) -> None:
        """One request to ``host`` finished; ``change`` gives the state that follows."""
        with self._cond:
            self._in_flight -= 1
            self._probing = False
            if change is not None:
                before = self._dispatcher.states[self._name]
                after = change(before)
                if after.active_host != before.active_host and heard(logging.WARNING):
                    logger.warning(
                        "%s: switching from %s to %s",
                        self._name,
                        short_host(before.active_host),
                        short_host(after.active_host),
                    )
                self._dispatcher.states[self._name] = after
            self._cond.notify_all()
