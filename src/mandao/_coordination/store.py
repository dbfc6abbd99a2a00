"""One serial's admission, shared by every caller of it: the line of this process's waiters
over a state kept in memory or in a database.

The decisions are the core's :func:`~mandao._core.admission.admit` and
:func:`~mandao._core.admission.release`; a :class:`State` keeps the current
:class:`~mandao._core.admission.Admission` where every caller of the serial finds it:

* :class:`~mandao._coordination.local.LocalState`, in this process's memory (``journal=None``);
* :class:`~mandao._coordination.files.FileState`, in a file beside an SQLite journal, for
  the processes of one machine;
* :class:`~mandao._coordination.postgres.PostgresState`, in a PostgreSQL journal's
  database, for processes on many machines.

A :class:`SerialStore` lines up the threads of one process in FIFO order, each on a
condition of its own: only the first in line asks the state, and a release wakes only the
first in line (so does a grant, unless it took the last slot). Each waits at most its
``Timeouts.wait``. :func:`shared` gives every ``Client`` of one serial, journal location
and host lists the same store for the life of the process, so two Clients in one process
(a web app's per-request Clients, a worker beside it) obey ``-18`` and ``-19`` together,
while a fresh sandbox on new ports (new host lists) starts from a fresh state.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .._config import LEASE_SLACK
from .._core.admission import Admission, Change
from .._core.call import Admit, Granted, Release, Released
from .._core.failover import FailoverPolicy, RetryBudget
from .._core.hosts import HostGroups
from .._errors import SerialBusy
from . import split
from .board import BoardState
from .local import LocalState

if TYPE_CHECKING:
    from .._journal import Journal

__all__ = ["SerialStore", "State", "Waiter", "shared"]

logger = logging.getLogger("mandao")

#: A wait for a slot that lasts this long is logged when it does, not only once it ends (a
#: campaign resumed behind an unanswered request's slot waits a read timeout).
LONG_WAIT = 1.0


class State(Protocol):
    """Where one serial's admission state lives. Its store calls it with its lock held.

    ``blocking``: its calls wait on a network (an asyncio caller runs them in a worker
    thread, not on the event loop).
    """

    blocking: bool

    @property
    def admission(self) -> Admission:
        """The state as last seen (for the active host, and for messages)."""
        ...

    @property
    def lingering(self) -> int:
        """Of the slots taken as last seen, how many are kept by requests that went out
        unanswered, one read timeout after they were written (for messages)."""
        ...

    def try_admit(
        self, service: str, exclude: frozenset[int], *, lease: float
    ) -> tuple[int | None, float | None]:
        """A slot on a group, or None and in how many seconds to ask again (None: when a
        request of this process is released). A slot another process takes is its for at
        most ``lease`` seconds, unless released before."""
        ...

    def release(self, group: int, change: Change, elapsed: float, *, hold: float) -> None:
        """A request to ``group`` finished, ``change`` says how; its slot stays taken
        ``hold`` more seconds (0: freed now)."""
        ...

    def renew(self, group: int, *, lease: float) -> bool:
        """This process's slots on ``group`` are its for ``lease`` more seconds (a slow
        journal write ate into their leases); False: a lease ran out and the slot went to
        another process meanwhile (the request must not go)."""
        ...

    def withdraw(self) -> None:
        """This process has no waiter left: give up its place in a line across processes."""
        ...

    def restart(self) -> None:
        """In a forked child: the parent's requests in flight and connections are not its."""
        ...


class Waiter(Protocol):
    """One caller in a store's line: a thread's condition, or an asyncio task's event."""

    def notify(self) -> None:
        """Wake the caller (with the store's lock held, from any thread)."""
        ...


class SerialStore:
    """This process's line of callers of one serial, over its :class:`State`, and the
    retry budget of those callers."""

    partners: tuple[split.Partner, ...] = ()  # the serial's stores it does not share (split)

    def __init__(
        self,
        groups: HostGroups,
        policy: FailoverPolicy,
        *,
        limit: int | None = None,
        state: State | None = None,
    ) -> None:
        self.policy = policy
        self._budget = RetryBudget(policy.budget)
        self._shared: State = state or LocalState(groups, policy, limit)
        self._limit = limit
        self._unanswered: float | None = None  # when a request last went out unanswered
        self._reset()

    def _reset(self) -> None:
        """A new lock and an empty line (a forked child's: the parent's are not its)."""
        self._lock = threading.Lock()
        # Each waiter's own condition, in order of arrival: a release wakes only the first.
        self._line: deque[Waiter] = deque()
        # When the wait that was logged began (None: none is), until the last in line gets
        # its slot or gives up: the line's other waiters say nothing meanwhile.
        self._said: float | None = None

    @property
    def board(self) -> BoardState | None:
        """The serial's board shared with other processes, if it is on one."""
        return self._shared if isinstance(self._shared, BoardState) else None

    @property
    def state(self) -> Admission:
        """The admission state as this process last saw it."""
        return self._shared.admission

    @property
    def blocking(self) -> bool:
        """Whether admitting and releasing wait on a network (a PostgreSQL board)."""
        return self._shared.blocking

    @property
    def limit(self) -> int | None:
        """Most requests of the serial this process lets in flight at once."""
        return self._limit

    def active_host(self, service: str) -> str:
        """Where requests to ``service`` go now."""
        state = self._shared.admission
        return state.groups.first(service, state.active)

    def admit(self, effect: Admit, *, wait: float, sn: str = "", lease: float = 60.0) -> Granted:
        """Wait (first come, first served) for a slot, as :func:`admit` rules; the grant.

        ``lease`` bounds how long the slot is the caller's should it die without a word
        (another process's request may go then): at least the request's timeouts.

        Raises:
            SerialBusy: no slot came within ``wait`` seconds; nothing was sent.
        """
        ticket = threading.Condition(self._lock)
        start = time.monotonic()
        granted: int | None = None
        with self._lock:
            self._line.append(ticket)
            try:
                while True:
                    granted, again = self._ask(ticket, effect, lease)
                    if granted is not None:
                        return self._granted(effect, granted, start, sn)
                    left = start + wait - time.monotonic()
                    if left <= 0:
                        raise self._busy(sn, wait - left)
                    ticket.wait(self._nap(start, left, again, sn))
            except BaseException:
                if granted is not None:  # interrupted once granted: the slot goes back
                    self._shared.release(granted, Change.NONE, 0.0, hold=0.0)
                raise
            finally:
                self._leave(ticket, granted, sn)

    # The steps of a wait, for this module's threads and for asyncio tasks (``aio``);
    # each is called with the lock held.
    def _ask(self, waiter: Waiter, effect: Admit, lease: float) -> tuple[int | None, float | None]:
        """A slot for ``waiter`` if it is first in line and one is free; else when to ask
        again (None: when woken)."""
        if self._line[0] is not waiter:
            return None, None
        return self._shared.try_admit(effect.service, effect.exclude, lease=lease)

    def _granted(self, effect: Admit, group: int, start: float, sn: str) -> Granted:
        groups = self._shared.admission.groups
        serving = tuple(
            (g, url)
            for g in groups.serving(effect.service)
            if (url := groups.url(effect.service, g)) is not None
        )
        url = groups.url(effect.service, group)
        assert url is not None  # noqa: S101 (granted among those serving the service)
        now = time.monotonic()
        if self._said is not None and len(self._line) == 1:  # the last of the logged wait
            logger.info("serial %s: waited %.1fs for a slot; nothing of this process's "
                        "waits for one now", sn, now - self._said,
                        extra={"mandao_waiting": None})  # fmt: skip
            self._said = None
        split.check(self)  # a partner's request out meanwhile is logged
        then = self._unanswered
        return Granted(group, url, serving, now, now - start, None if then is None else now - then)

    def _nap(self, start: float, left: float, again: float | None, sn: str) -> float:
        """How long a waiter sleeps before it asks again (at most ``left``, ``again``). A
        wait that reaches :data:`LONG_WAIT` is logged then, once until no caller is left
        waiting, however many wait (twenty queued tasks are one wait of the serial); the
        last of them to get a slot logs its end."""
        nap = left if again is None else min(left, again)
        lasted = time.monotonic() - start
        if lasted < LONG_WAIT:
            return min(nap, LONG_WAIT - lasted)
        if self._said is None:
            self._said = start
            why = f"{self.taken()}; waiting up to {left:.0f}s more"
            logger.info("serial %s: waiting for a slot (%s)", sn, why,
                        extra={"mandao_waiting": sn, "mandao_why": why})  # fmt: skip
        return nap

    def taken(self) -> str:
        """The serial's slots as taken, for a message: how many are in flight, and how many
        of them a request that went out unanswered keeps."""
        unanswered = self._shared.lingering
        kept = (
            f"; {unanswered} of them unanswered, each keeping its slot one read timeout after "
            "it was written"
        )
        return f"{self.occupancy()} here or in another process{kept if unanswered else ''}"

    def _leave(self, waiter: Waiter, granted: int | None, sn: str) -> None:
        """``waiter`` leaves the line (with a slot, or giving up); the next may go. The
        last of a logged wait to give up logs its end, as one granted does."""
        try:
            self._line.remove(waiter)
            if granted is None and not self._line:
                if self._said is not None:  # nobody waits: a wait from now on is said again
                    logger.info("serial %s: gave up waiting for a slot after %.1fs; nothing "
                                "of this process's waits for one now", sn,
                                time.monotonic() - self._said,
                                extra={"mandao_waiting": None})  # fmt: skip
                    self._said = None
                self._shared.withdraw()
        finally:
            if granted is None or self._room():
                self._wake()

    def _room(self) -> bool:
        """Whether the next in line may find a slot now. Not when every slot is taken by a
        request of this process's and nothing else holds one: only its release frees a
        slot then, and that wakes the next (woken now, it would ask for nothing)."""
        state = self._shared.admission
        return state.limit is None or state.in_flight < state.limit or bool(state.holds)

    def occupancy(self) -> str:
        """What a waiter waits behind: ``max_in_flight=1, 1 in flight``."""
        state, limit = self.state, self._limit
        shown = limit if limit is not None else "unlimited"
        return f"max_in_flight={shown}, {state.in_flight + len(state.holds)} in flight"

    def _busy(self, sn: str, waited: float) -> SerialBusy:
        return SerialBusy(
            f"not sent: waited {waited:.1f}s for a slot of serial {sn} ({self.occupancy()}); "
            "raise Timeouts.wait, or send fewer calls at once",
            waited=waited,
        )

    def _wake(self) -> None:
        """Wake the first in line (the lock held)."""
        if self._line:
            self._line[0].notify()

    def kept(self, grant: Granted, *, lease: float) -> bool:
        """Once its pending row is written: whether ``grant``'s slot is still its for a
        whole attempt. When the row took long (:meth:`lapsing`), the lease is renewed for
        ``lease`` more seconds, if no other process took the slot (:meth:`State.renew`)."""
        if not self.lapsing(grant):
            return True
        with self._lock:
            return self._shared.renew(grant.group, lease=lease)

    @staticmethod
    def lapsing(grant: Granted) -> bool:
        """Whether the lease taken with ``grant`` may run out before its attempt ends: the
        pending row took more than half the lease's slack (:data:`LEASE_SLACK`) to write."""
        return time.monotonic() - grant.now > LEASE_SLACK / 2

    @staticmethod
    def lost(grant: Granted, sn: str) -> SerialBusy:
        """The error of a request whose slot went to another process while its pending row
        was written (a journal whose write lock was busy for longer than the lease)."""
        took = time.monotonic() - grant.now
        return SerialBusy(
            f"not sent: the journal took {took:.1f}s to write the pending row, longer than "
            f"the lease on serial {sn}'s slot, and another process has the slot now; the "
            "row says unreachable, and the send may be made again",
            waited=took,
        )

    def release(self, effect: Release, *, hold: float = 0.0) -> Released:
        """The request left its group; pay ``spend`` from the budget, add ``refund``.

        ``hold``: seconds its slot stays taken (a request that went out unanswered).
        """
        with self._lock:
            if effect.linger or effect.change is Change.NO_ANSWER:
                self._unanswered = time.monotonic()
            try:
                self._shared.release(effect.group, effect.change, effect.elapsed, hold=hold)
            finally:
                self._wake()  # whatever the state raised: the next in line asks again
            paid = True
            if effect.spend:
                after = self._budget.spend(effect.spend)
                paid = after is not None
                self._budget = after or self._budget
            if effect.refund:
                self._budget = self._budget.refund(effect.refund)
        return Released(paid)

    def _forked(self) -> None:
        self._reset()
        self._shared.restart()


# Kept for the life of the process: Clients made per request, one after another, still
# find the serial's host state and budget where the last one left them.
_stores: dict[tuple[object, ...], SerialStore] = {}
_stores_lock = threading.Lock()


def shared(
    key: tuple[object, ...],
    groups: HostGroups,
    policy: FailoverPolicy,
    *,
    limit: int | None,
    journal: Journal | None = None,
) -> SerialStore:
    """The store of ``key`` (serial, journal location, host groups) in this process,
    its state where ``journal`` is (beside an SQLite journal's file, in a PostgreSQL
    journal's database, or, without, in this process's memory only). The first caller's
    ``policy`` and ``limit`` make it; a later caller asking another ``limit`` is warned."""
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            state = _state(str(key[0]), groups, policy, limit, journal)
            store = SerialStore(groups, policy, limit=limit, state=state)
            split.pair(key, store, _stores)
            _stores[key] = store
        elif store.limit != limit:
            logger.warning("serial %s: max_in_flight=%s asked, but this process's Clients of "
                           "the serial already use %s; keeping %s",
                           key[0], limit, store.limit, store.limit)  # fmt: skip
        return store


def _state(
    sn: str, groups: HostGroups, policy: FailoverPolicy, limit: int | None,
    journal: Journal | None,
) -> State:  # fmt: skip
    if journal is None:
        return LocalState(groups, policy, limit)
    if journal.kind == "postgresql":
        from .._journal.postgresql import PostgreSQL
        from .postgres import PostgresState

        database = journal._database
        assert isinstance(database, PostgreSQL)  # noqa: S101 (its kind says so)
        return PostgresState(database.connect, sn, groups, policy, limit, label=journal.label,
                             secrets=database._secrets)  # fmt: skip
    from .files import FileState

    location = journal.location
    assert isinstance(location, Path)  # noqa: S101 (an SQLite journal's is its file)
    return FileState(location, sn, groups, policy, limit)


def _after_fork() -> None:
    # Requests in flight were the parent's; a lock held by one of its threads never frees.
    global _stores_lock
    _stores_lock = threading.Lock()
    for store in list(_stores.values()):
        store._forked()


os.register_at_fork(after_in_child=_after_fork)
