"""One serial's admission and retry budget, shared by every caller of it in one process.

The state is the pure :class:`~mandao._core.admission.Admission`; a store keeps the
current value under a lock. Callers wait in FIFO order, each on a condition of its own:
only the first in line asks :func:`~mandao._core.admission.admit`, which says wait only
while a request is in flight, and a release wakes only the first in line (no herd of
woken threads fighting for the slot). Each waits at most its ``Timeouts.wait``.

:func:`shared` gives every ``Client`` of one serial, journal location and host lists the
same store, so two Clients in one process (a web app's per-request Clients, a worker
beside it) obey ``-18`` and ``-19`` together, while a fresh sandbox on new ports (new host
lists) starts from a fresh state. A store lives as long as the process.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque

from .._core.admission import Admission, Change, admit, release
from .._core.call import Admit, Granted, Release, Released
from .._core.failover import FailoverPolicy, RetryBudget
from .._core.hosts import HostGroups
from .._errors import SerialBusy

__all__ = ["SerialStore", "shared"]

logger = logging.getLogger("mandao")


class SerialStore:
    """The admission state and retry budget of one serial, for threads."""

    def __init__(
        self, groups: HostGroups, policy: FailoverPolicy, *, limit: int | None = None
    ) -> None:
        self.policy = policy
        self._budget = RetryBudget(policy.budget)
        self._reset(Admission.start(groups, limit))

    def _reset(self, state: Admission) -> None:
        """``state``, a new lock and an empty line (a forked child's: the parent's are not
        its, nor are the parent's requests in flight)."""
        self._state = state
        self._lock = threading.Lock()
        # Each waiter's own condition, in order of arrival: a release wakes only the first.
        self._line: deque[threading.Condition] = deque()

    @property
    def state(self) -> Admission:
        """The admission state now."""
        return self._state

    def active_host(self, service: str) -> str:
        """Where requests to ``service`` go now."""
        return self._state.groups.first(service, self._state.active)

    def admit(self, effect: Admit, *, wait: float, sn: str = "") -> Granted:
        """Wait (first come, first served) for a slot, as :func:`admit` rules; the grant.

        Raises:
            SerialBusy: no slot came within ``wait`` seconds; nothing was sent.
        """
        groups = self._state.groups
        serving = tuple(
            (g, url)
            for g in groups.serving(effect.service)
            if (url := groups.url(effect.service, g)) is not None
        )
        ticket = threading.Condition(self._lock)
        start = time.monotonic()
        granted: int | None = None
        with self._lock:
            self._line.append(ticket)
            try:
                while True:
                    now = time.monotonic()
                    if self._line[0] is ticket:
                        self._state, granted = admit(
                            self._state,
                            self.policy,
                            service=effect.service,
                            exclude=effect.exclude,
                            now=now,
                        )
                        if granted is not None:
                            url = groups.url(effect.service, granted)
                            assert url is not None  # noqa: S101
                            if now - start > 1.0:
                                logger.info("serial %s: waited %.1fs for a slot", sn, now - start)
                            return Granted(granted, url, serving, now, now - start)
                    left = start + wait - now
                    if left <= 0:
                        raise self._busy(sn, now - start)
                    ticket.wait(left)
            except BaseException:
                if granted is not None:  # interrupted once granted: the slot goes back
                    self._state = release(
                        self._state, self.policy, group=granted, change=Change.NONE, now=now
                    )
                raise
            finally:
                try:
                    self._line.remove(ticket)
                finally:
                    self._wake()  # the next in line may go now

    def _busy(self, sn: str, waited: float) -> SerialBusy:
        limit = self._state.limit
        return SerialBusy(
            f"not sent: waited {waited:.1f}s for a slot of serial {sn} "
            f"(max_in_flight={limit if limit is not None else 'unlimited'}, "
            f"{self._state.in_flight} in flight); raise Timeouts.wait, or send fewer calls "
            "at once",
            waited=waited,
        )

    def _wake(self) -> None:
        """Wake the first in line (the lock held)."""
        if self._line:
            self._line[0].notify()

    def release(self, effect: Release) -> Released:
        """The request left its group; pay ``spend`` from the budget, add ``refund``."""
        with self._lock:
            self._state = release(
                self._state,
                self.policy,
                group=effect.group,
                change=effect.change,
                elapsed=effect.elapsed,
                now=time.monotonic(),
            )
            paid = True
            if effect.spend:
                after = self._budget.spend(effect.spend)
                paid = after is not None
                self._budget = after or self._budget
            if effect.refund:
                self._budget = self._budget.refund(effect.refund)
            self._wake()
        return Released(paid)


# Kept for the life of the process: Clients made per request, one after another, still
# find the serial's host state and budget where the last one left them.
_stores: dict[tuple[object, ...], SerialStore] = {}
_stores_lock = threading.Lock()


def shared(
    key: tuple[object, ...], groups: HostGroups, policy: FailoverPolicy, *, limit: int | None
) -> SerialStore:
    """The store of ``key`` (serial, journal location, host groups) in this process.

    The first caller's ``policy`` (for switching hosts) and ``limit`` make it; a later
    caller of the same key with another ``limit`` is warned, and gets it as it is.
    """
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = SerialStore(groups, policy, limit=limit)
        elif store.state.limit != limit:
            logger.warning(
                "serial %s: max_in_flight=%s asked, but this process's Clients of the serial "
                "already use %s; keeping %s",
                key[0],
                limit,
                store.state.limit,
                store.state.limit,
            )
        return store


def _after_fork() -> None:
    # Requests in flight were the parent's; a lock held by one of its threads never frees.
    global _stores_lock
    _stores_lock = threading.Lock()
    for store in list(_stores.values()):
        state = store.state
        store._reset(Admission.start(state.groups, state.limit))


os.register_at_fork(after_in_child=_after_fork)
