"""One serial's admission state where several processes share it: a small board of text.

A board holds, for one serial and its host groups (the journal's location is where
processes find it):

* the host state: which group is active, since when, how it has been answering, and
  whether the first request back on the preferred group is out;
* ``leases``: the slots taken, each on a group, until a time, under the ``max_in_flight``
  of the process that took it. A process takes a lease for its request's timeouts
  (:meth:`~mandao.Timeouts.lease`); a request that went out unanswered leaves its lease to
  run out one read timeout after it was written; a process that dies leaves its leases to
  run out, never sooner than one read timeout, so the gateway is done with what the dead
  process wrote before another process sends;
* ``line``: the processes waiting for a slot, in order of arrival. Only the first asks;
  a process's first waiter refreshes its place each time it asks, so the place of a
  process that died goes stale and is dropped.

The decisions are the core's :func:`~mandao._core.admission.admit` and
:func:`~mandao._core.admission.release`, on an :class:`Admission` made from the board. A
backend changes the board atomically and times it by one clock for all its processes
(the machine's for a file beside an SQLite journal, the database's for PostgreSQL).
"""

from __future__ import annotations

import logging
import math
import secrets
import struct
from collections.abc import Callable
from typing import Any, TypeVar

from .._core.admission import Admission, Change, admit, release
from .._core.failover import FailoverPolicy, HostState
from .._core.hosts import HostGroups
from .._errors import JournalError
from . import split

__all__ = ["Board", "BoardState", "Step"]

logger = logging.getLogger("mandao")

T = TypeVar("T")
Board = dict[str, Any]
#: A change to a board at a time: the new board, and what the caller learns.
Step = Callable[[Board, float], tuple[Board, T]]

#: A lease or place ending later than this from now was written by a clock since set back
#: (a day: a lease is a request's timeouts, and mandao never waits forever).
LONGEST = 86400.0
#: A waiting process that has not asked for this long is gone.
STALE = 5.0
#: A waiting process writes that it is still there at most this often (it asks every
#: POLL at most, and a board left as it was is not written again).
SEEN = 1.0
#: Asking again: from 1 ms, doubling, up to this, while other processes hold the slots.
POLL = 0.025


def fresh() -> Board:
    """The board of a serial no process has used yet."""
    return {"active": 0, "switched_at": None, "streak": 0, "average": None,
            "probing": False, "leases": [], "line": [], "next": 1}  # fmt: skip


# A board's bytes: a header, then its leases, then its line, then each lease's limit,
# little-endian. A missing time or average is NaN; a lease nobody holds (a request that
# went out unanswered, left to run out) has holder 0. The limits came after the rest so
# that a board of an earlier mandao, which has none, reads (its leases' limits unknown),
# and an earlier mandao reads this one's. Packed, not JSON: this runs twice a request.
_HEAD = struct.Struct("<iddiBQHH")  # active, switched_at, average, streak, probing, next, n, n
_LEASE = struct.Struct("<Qhdq")  # number, group, until, holder
_PLACE = struct.Struct("<qd")  # holder, seen
_LIMIT = struct.Struct("<i")  # the max_in_flight of the process that took the lease
_NONE = float("nan")
UNKNOWN = 0  # a lease's limit on a board an earlier mandao wrote
UNLIMITED = -1  # max_in_flight=None


def limit_code(limit: int | None) -> int:
    """``max_in_flight`` as a lease keeps it."""
    return UNLIMITED if limit is None else min(limit, 2**31 - 1)


def _shown(code: int) -> str:
    return "None" if code == UNLIMITED else str(code)


def encode(board: Board) -> bytes:
    leases, line = board["leases"], board["line"]
    switched, average = board["switched_at"], board["average"]
    head = _HEAD.pack(
        board["active"],
        _NONE if switched is None else switched,
        _NONE if average is None else average,
        board["streak"],
        board["probing"],
        board["next"],
        len(leases),
        len(line),
    )
    parts = [head]
    parts += [_LEASE.pack(n, g, u, h or 0) for n, g, u, h, _ in leases]
    parts += [_PLACE.pack(h, seen) for h, seen in line]
    parts += [_LIMIT.pack(lease[4]) for lease in leases]
    return b"".join(parts)


def decode(data: bytes) -> Board:
    """A board read back; a fresh one for bytes that are none (a file cut short)."""
    try:
        active, switched, average, streak, probing, number, leases, places = _HEAD.unpack_from(data)
        at = _HEAD.size
        end = at + leases * _LEASE.size
        lease_rows = [[n, g, u, h or None] for n, g, u, h in _LEASE.iter_unpack(data[at:end])]
        at, end = end, end + places * _PLACE.size
        line = [list(p) for p in _PLACE.iter_unpack(data[at:end])]
        limits = [n for (n,) in _LIMIT.iter_unpack(data[end : end + leases * _LIMIT.size])]
    except struct.error:
        return fresh()
    if len(line) != places or len(lease_rows) != leases:
        return fresh()
    if len(limits) != leases:  # none: a board of an earlier mandao
        limits = [UNKNOWN] * leases
    for row, limit in zip(lease_rows, limits, strict=True):
        row.append(limit)
    return {"active": active, "switched_at": None if math.isnan(switched) else switched,
            "streak": streak, "average": None if math.isnan(average) else average,
            "probing": bool(probing), "leases": lease_rows, "line": line,
            "next": number}  # fmt: skip


class BoardState:
    """The admission state of one serial on a shared board (a backend subclasses it)."""

    blocking = False

    def __init__(
        self, sn: str, groups: HostGroups, policy: FailoverPolicy, limit: int | None
    ) -> None:
        self._policy = policy
        self.admission = Admission.start(groups, limit)
        self._limit = limit_code(limit)  # what this process's leases say
        urls = (f"{s}={','.join(u or '' for u in us)}" for s, us in sorted(groups.urls.items()))
        self._key = "|".join([sn, *urls])
        self._serial = sn + "|"  # how every key of the serial's boards starts
        self._restart()

    def _restart(self) -> None:
        # Random, never 0 (a lease nobody holds): tells this process apart on a board that
        # processes of many machines share.
        self._holder = secrets.randbits(63) | 1
        split.HOLDERS.add(self._holder)
        self._mine: dict[int, list[int]] = {}  # group -> ids of this process's leases
        self._misses = 0
        self.lingering = 0  # leases of requests that went out unanswered, as last seen
        self.looked = -math.inf  # when split.look last looked at the serial's other boards
        self.told: set[str] = set()  # other boards' keys split.look has found
        self.strangers: list[str] = []  # ...and those split.check is yet to name
        self._stranger: int | None = None  # another process's max_in_flight, not yet logged
        self._stranger_told = False

    def restart(self) -> None:
        self._restart()

    def _notice(self, board: Board) -> None:
        """Note what the board's live leases say beyond the admission, for messages."""
        leases = board["leases"]
        # A lease nobody holds is a request's that went out unanswered (a hold of a request
        # in flight, here or in another process, is no such request).
        self.lingering = sum(lease[3] is None for lease in leases)
        if not self._stranger_told:
            # Another limit than this process's is another process's lease (this process's
            # all have its own), maybe one left to run out by a process that has ended: the
            # warning says a request went out under it, not that the process still runs.
            other = (x[4] for x in leases if x[4] not in (UNKNOWN, self._limit))
            self._stranger = next(other, None)

    def _tell_stranger(self) -> None:
        """Log, once, another process's max_in_flight that differs from this one's."""
        if self._stranger is None or self._stranger_told:
            return
        self._stranger_told = True
        logger.warning(
            "serial %s: a request of another process of the serial went out under "
            "max_in_flight=%s, and this process uses max_in_flight=%s (its lease is on the "
            "serial's shared board): the gateway answers -18 to requests past what it allows "
            "the serial. Give every Client of the serial the same max_in_flight (one "
            "mandao.toml)",
            self._serial[:-1], _shown(self._stranger), _shown(self._limit),
        )  # fmt: skip

    def _tracked(self) -> set[int]:
        """The numbers of this process's leases of requests in flight, on every group."""
        return {n for numbers in self._mine.values() for n in numbers}

    @property
    def key(self) -> str:
        """What tells this board apart: ``SN|send=URL,URL|account=URL,URL``."""
        return self._key

    def _update(self, step: Step[T]) -> T:
        """Apply ``step`` to the board atomically, at the backend's clock; its answer."""
        raise NotImplementedError

    def others(self) -> list[tuple[str, Board, float]]:
        """The boards of this serial under other host lists where this one is kept:
        (key, board, now by the backend's clock)."""
        raise NotImplementedError

    # -- the board as an Admission ------------------------------------------------------
    def _admission(self, board: Board, now: float, own: int | None = None) -> Admission:
        """The board's state at ``now``: every live lease a hold, but ``own``, which is
        in flight; leases that ended, and stale places in line, dropped from ``board``."""
        # This process's own requests in flight stay in flight, however long their leases
        # said: a lease only bounds what others wait for should this process die.
        mine = self._tracked()
        board["leases"] = [
            lease for lease in board["leases"]
            if now < lease[2] <= now + LONGEST or lease[0] in mine
        ]  # fmt: skip
        board["line"] = [p for p in board["line"] if now - STALE <= p[1] <= now + LONGEST]
        self._notice(board)
        holds = tuple((int(g), float(u)) for i, g, u, *_ in board["leases"] if i != own)
        # ...even when another process, seeing its lease run out, dropped it from the board.
        present = {lease[0] for lease in board["leases"]}
        holds += tuple(
            (g, now + LONGEST)
            for g, numbers in self._mine.items()
            for n in numbers
            if n != own and n not in present
        )
        base = self.admission
        hosts = HostState(
            base.hosts.hosts, int(board["active"]), board["switched_at"],
            int(board["streak"]), board["average"],
        )  # fmt: skip
        group = self._group_of(board, own)
        if group is None and holds:
            group = holds[0][0]
        return Admission(base.groups, hosts, int(own is not None), group,
                         bool(board["probing"]), base.limit, holds)  # fmt: skip

    @staticmethod
    def _group_of(board: Board, lease: int | None) -> int | None:
        return next((int(g) for i, g, *_ in board["leases"] if i == lease), None)

    @staticmethod
    def _write_hosts(board: Board, state: Admission) -> None:
        h = state.hosts
        board.update(active=h.active, switched_at=h.switched_at, streak=h.slow_streak,
                     average=h.average, probing=state.probing)  # fmt: skip

    # -- the State protocol -------------------------------------------------------------
    def try_admit(
        self, service: str, exclude: frozenset[int], *, lease: float
    ) -> tuple[int | None, float | None]:
        me = self._holder
        limit = self.admission.limit
        if limit is not None and len(self._tracked()) >= limit:
            # Every slot is this process's own request's: none can be free, whatever the
            # board says, and the release of one wakes the next here. Not read, the board
            # keeps no place for this process: a process that had to wait for another's
            # lease is in line before it, as it should be.
            return None, None

        def step(board: Board, now: float) -> tuple[Board, tuple[Admission, int, float]]:
            state = self._admission(board, now)
            line = board["line"]
            if not line or line[0][0] == me:
                after, granted = admit(
                    state, self._policy, service=service, exclude=exclude, now=now
                )
                if granted is not None:
                    number = board["next"]
                    board["next"] = number + 1
                    board["leases"].append([number, granted, now + lease, me, self._limit])
                    board["line"] = [p for p in line if p[0] != me]
                    self._write_hosts(board, after)
                    return board, (after, number, 0.0)
            if any(p[0] == me for p in line):
                # Renewed once a SEEN, or at once when the clock was set back past it.
                due = [h == me and not 0 <= now - s < SEEN for h, s in line]
                board["line"] = [[h, now if d else s] for (h, s), d in zip(line, due, strict=True)]
            else:
                line.append([me, now])
            # Only this process's requests in flight, nobody else in line: a release here
            # wakes the waiter, so there is nothing to poll for (but a hold's end). A lease
            # of this process's that it no longer tracks (its release could not reach the
            # board, or a grant whose answer was lost was made again) has no release to
            # come: it is waited out as another's.
            mine = self._tracked()
            alone = all(lease[3] == me and lease[0] in mine for lease in board["leases"]) and all(
                p[0] == me for p in board["line"]
            )
            wakes = state.wakes_at() if not alone else None
            if wakes is None and not alone:
                return board, (state, 0, POLL)
            return board, (state, 0, -1.0 if wakes is None else max(0.0, wakes - now))

        self.admission, number, wakes = self._update(step)
        self._tell_stranger()
        if number:
            self._misses = 0
            granted = self.admission.group
            assert granted is not None  # noqa: S101 (a lease was just taken on it)
            self._mine.setdefault(granted, []).append(number)
            split.look(self)  # another process's request out on another board of the serial
            return granted, None
        self._misses += 1
        if wakes < 0:
            return None, None  # woken by this process's own release
        return None, min(wakes, POLL, 0.001 * 2 ** min(self._misses, 10))

    def release(self, group: int, change: Change, elapsed: float, *, hold: float) -> None:
        leases = self._mine.get(group)
        if not leases:
            return  # not this process's (taken before a fork): its lease runs out
        # Which of this process's leases on the group was this request's is not known: the
        # one ending first goes (its oldest when none is on the board), so what stays
        # covers, at least as long as their own would, each request still in flight.
        number = leases[0]

        def step(board: Board, now: float) -> tuple[Board, Admission]:
            nonlocal number
            ends = {lease[0]: lease[2] for lease in board["leases"]}
            number = min(leases, key=lambda n: (ends.get(n, -math.inf), n))
            state = self._admission(board, now, own=number)
            until = now + hold if hold > 0 else None
            after = release(state, self._policy, group=group, change=change,
                            elapsed=elapsed, now=now, hold_until=until)  # fmt: skip
            kept = [lease for lease in board["leases"] if lease[0] != number]
            if until is not None:
                kept.append([number, group, until, None, self._limit])
                self.lingering += 1
            board["leases"] = kept
            self._write_hosts(board, after)
            return board, after

        try:
            self.admission = self._update(step)
        except JournalError as exc:
            # The request is over either way: its outcome must still be journaled, so this
            # is no reason to raise. Its lease runs out on its own.
            logger.error("serial's admission board not updated (its lease runs out): %s", exc)
        finally:
            leases.remove(number)

    def renew(self, group: int, *, lease: float) -> bool:
        numbers = list(self._mine.get(group, ()))
        if not numbers:
            return True  # none of this process's to renew (taken before a fork)

        def step(board: Board, now: float) -> tuple[Board, bool]:
            live = {lease[0] for lease in board["leases"] if now < lease[2] <= now + LONGEST}
            if any(n not in live for n in numbers):
                # A lease ran out: others may have taken its slot. Still free (the others'
                # leases and holds leave room), it is taken again; else it is lost.
                others = [x for x in board["leases"] if x[0] in live and x[0] not in numbers]
                limit = self.admission.limit
                if limit is not None and len(others) + len(numbers) > limit:
                    return board, False
                if any(int(x[1]) != group for x in others):
                    return board, False  # another group in flight meanwhile: -19
            kept = [x for x in board["leases"] if x[0] not in numbers]
            renewed = [[n, group, now + lease, self._holder, self._limit] for n in numbers]
            board["leases"] = kept + renewed
            return board, True

        return self._update(step)

    def withdraw(self) -> None:
        if not self._misses:
            return
        me = self._holder

        def step(board: Board, now: float) -> tuple[Board, None]:
            board["line"] = [p for p in board["line"] if p[0] != me]
            return board, None

        self._update(step)
        self._misses = 0
