"""One serial's admission state in a database that several processes share.

Three tables, beside the journal's (the journal's location is the rendezvous):

* ``mandao_serials``: each serial's host state (which group is active, since when, how it
  has been answering) and whether the first request back on the preferred group is out.
* ``mandao_leases``: the slots taken, each on a group, until a time. A process takes a
  lease for its request's timeouts; a request that went out unanswered leaves its lease
  to run out one read timeout after it was written. A process that dies leaves its
  leases to run out: never sooner than one read timeout, so the gateway is done with a
  request the dead process wrote before another process sends.
* ``mandao_waiters``: the processes waiting for a slot, in order of arrival. Only the
  first asks; a process's first waiter refreshes its place each time it asks, so the place
  of a process that died goes stale and is dropped.

The decisions are the core's :func:`~mandao._core.admission.admit` and
:func:`~mandao._core.admission.release`, on an :class:`Admission` made of these rows in one
transaction; the database's clock (or the machine's, for SQLite's one machine) times
leases and cool-downs. A backend gives the transaction, the clock and its SQL dialect.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from .._core.admission import Admission, Change, admit, release
from .._core.failover import FailoverPolicy, HostState
from .._core.hosts import HostGroups

__all__ = ["TABLES", "LeasedState", "Query"]

#: The tables, in SQLite's words (``LeasedState.dialect`` adapts them).
TABLES = (
    "CREATE TABLE IF NOT EXISTS mandao_serials (key TEXT PRIMARY KEY, "
    "active INTEGER NOT NULL DEFAULT 0, switched_at REAL, slow_streak INTEGER NOT NULL "
    "DEFAULT 0, average REAL, probing INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS mandao_leases (id INTEGER PRIMARY KEY, key TEXT NOT NULL, "
    "grp INTEGER NOT NULL, until REAL NOT NULL, holder TEXT)",
    "CREATE INDEX IF NOT EXISTS mandao_leases_key ON mandao_leases (key)",
    "CREATE TABLE IF NOT EXISTS mandao_waiters (ticket INTEGER PRIMARY KEY, key TEXT NOT "
    "NULL, holder TEXT NOT NULL, seen REAL NOT NULL)",
)

#: Run one statement in the open transaction; its rows.
Query = Callable[[str, Sequence[object]], list[tuple[Any, ...]]]

#: A lease ending later than this from now was written by a clock since set back: void.
LONGEST = 3600.0
#: A waiting process that has not asked for this long is gone.
STALE = 5.0
#: Asking again: from 1 ms, doubling, up to this, while other processes hold the slots.
POLL = 0.025


class LeasedState:
    """The admission state of one serial in a shared database (a backend subclasses it).

    Args:
        sn: the serial. groups: its host groups (part of its key: another sandbox's
        hosts are another state). policy: when to switch groups. limit: the most requests
        this process lets in flight at once, counting every process's.
    """

    def __init__(
        self, sn: str, groups: HostGroups, policy: FailoverPolicy, limit: int | None
    ) -> None:
        self._policy = policy
        self.admission = Admission.start(groups, limit)
        self._key = "|".join([sn, *(f"{s}={','.join(u or '' for u in urls)}"
                                    for s, urls in sorted(groups.urls.items()))])  # fmt: skip
        self._restart()

    def _restart(self) -> None:
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._mine: dict[int, list[int]] = {}  # group -> ids of this process's leases
        self._misses = 0

    def restart(self) -> None:
        self._restart()

    # -- what a backend gives -----------------------------------------------------------
    def _transaction(self) -> AbstractContextManager[tuple[Query, float]]:
        """A write transaction on the serial's row: the query function and the clock."""
        raise NotImplementedError

    # -- the state in rows --------------------------------------------------------------
    def _load(self, q: Query, now: float, own: int | None = None) -> Admission:
        """The serial's state, every live lease but ``own`` a hold (stale ones deleted)."""
        row = q(self._select_serial, (self._key,))
        if not row:
            q(self._insert_serial, (self._key,))
            row = [(0, None, 0, None, 0)]
        active, switched_at, streak, average, probing = row[0]
        holds, stale = [], []
        for lease, group, until in q(
            "SELECT id, grp, until FROM mandao_leases WHERE key = ?", (self._key,)
        ):
            if lease == own:
                continue
            if now < until <= now + LONGEST:
                holds.append((int(group), float(until)))
            else:
                stale.append(lease)
        for lease in stale:
            q("DELETE FROM mandao_leases WHERE id = ?", (lease,))
        base = self.admission
        hosts = HostState(base.hosts.hosts, int(active), switched_at, int(streak), average)
        return replace(
            base,
            hosts=hosts,
            probing=bool(probing),
            in_flight=0,
            group=holds[0][0] if holds else None,
            holds=tuple(holds),
        )

    def _store(self, q: Query, before: Admission, after: Admission) -> None:
        """Write the host state back, if it changed."""
        if before.hosts == after.hosts and before.probing == after.probing:
            return
        h = after.hosts
        q(
            "UPDATE mandao_serials SET active = ?, switched_at = ?, slow_streak = ?, "
            "average = ?, probing = ? WHERE key = ?",
            (h.active, h.switched_at, h.slow_streak, h.average, int(after.probing), self._key),
        )

    def _turn(self, q: Query, now: float) -> bool:
        """Whether this process is first among those waiting (stale places dropped)."""
        first = None
        for ticket, holder, seen in q(
            "SELECT ticket, holder, seen FROM mandao_waiters WHERE key = ? ORDER BY ticket",
            (self._key,),
        ):
            if seen < now - STALE or seen > now + LONGEST:
                q("DELETE FROM mandao_waiters WHERE ticket = ?", (ticket,))
            elif first is None:
                first = holder
        return first is None or first == self._holder

    def _wait_in_line(self, q: Query, now: float) -> None:
        updated = q(
            "UPDATE mandao_waiters SET seen = ? WHERE key = ? AND holder = ? RETURNING ticket",
            (now, self._key, self._holder),
        )
        if not updated:
            q(
                "INSERT INTO mandao_waiters (key, holder, seen) VALUES (?, ?, ?)",
                (self._key, self._holder, now),
            )

    def _leave_line(self, q: Query) -> None:
        q(
            "DELETE FROM mandao_waiters WHERE key = ? AND holder = ?",
            (self._key, self._holder),
        )

    # -- the State protocol -------------------------------------------------------------
    def try_admit(
        self, service: str, exclude: frozenset[int], *, lease: float
    ) -> tuple[int | None, float | None]:
        with self._transaction() as (q, now):
            state = self._load(q, now)
            granted = None
            if self._turn(q, now):
                after, granted = admit(
                    state, self._policy, service=service, exclude=exclude, now=now
                )
            if granted is None:
                self._wait_in_line(q, now)
                self.admission = state
                self._misses += 1
                again = min(POLL, 0.001 * 2 ** min(self._misses, 10))
                wakes = state.wakes_at()
                return None, again if wakes is None else max(0.0, min(again, wakes - now))
            (lease_id,) = q(
                "INSERT INTO mandao_leases (key, grp, until, holder) VALUES (?, ?, ?, ?) "
                "RETURNING id",
                (self._key, granted, now + lease, self._holder),
            )[0]
            if self._misses:
                self._leave_line(q)
            self._store(q, state, after)
        self._mine.setdefault(granted, []).append(int(lease_id))
        self.admission, self._misses = after, 0
        return granted, None

    def release(self, group: int, change: Change, elapsed: float, *, hold: float) -> None:
        leases = self._mine.get(group)
        if not leases:
            return  # not this process's (taken before a fork): its lease runs out
        lease = leases.pop()
        with self._transaction() as (q, now):
            state = self._load(q, now, own=lease)
            state = replace(state, in_flight=1, group=group)
            after = release(
                state,
                self._policy,
                group=group,
                change=change,
                elapsed=elapsed,
                now=now,
                hold_until=now + hold if hold > 0 else None,
            )
            if hold > 0:
                q(
                    "UPDATE mandao_leases SET until = ?, holder = NULL WHERE id = ?",
                    (now + hold, lease),
                )
            else:
                q("DELETE FROM mandao_leases WHERE id = ?", (lease,))
            self._store(q, state, after)
        self.admission = after

    def withdraw(self) -> None:
        if self._misses:
            with self._transaction() as (q, _):
                self._leave_line(q)
            self._misses = 0

    # -- dialect ------------------------------------------------------------------------
    _select_serial = (
        "SELECT active, switched_at, slow_streak, average, probing FROM mandao_serials "
        "WHERE key = ?"
    )
    _insert_serial = "INSERT OR IGNORE INTO mandao_serials (key) VALUES (?)"
