"""Clients of one serial in one process whose requests overlap without sharing admission.

The gateway keeps ``-18`` and ``-19`` per serial. Clients of a serial share its admission
where their journal location and host lists are the same (``store.shared``'s key), so that
a test suite's fresh sandbox per test, on new ports, starts afresh. Two Clients of one
serial whose host lists share a host but differ (another order, one host fewer), or whose
journals differ (one ``journal=None``), each keep their own: nothing can be shared rightly
between them (their preferred hosts differ). Their requests may then overlap at the
gateway, which refuses one of them. So the stores of such keys are each other's
``partners``, and a request let out while a partner has one out (or lingering) is logged,
once a pair: only an overlap that happened, never two Clients used one after the other
(two tests of one sandbox).

Processes that share a journal but not its host lists keep boards of their own beside it
(``board``), and no store here is their partner. So a board, once a request of its has
been let out, looks at the serial's other boards now and then (``look``, at most every
``LOOK`` seconds): one that shares a host and holds a lease of another process's is named,
once, by the next ``check``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol

from .._core.admission import Admission

__all__ = ["HOLDERS", "check", "look", "pair"]

logger = logging.getLogger("mandao")

Key = tuple[object, ...]


class Store(Protocol):
    """What this module reads of a ``store.SerialStore``."""

    partners: tuple[Partner, ...]

    @property
    def state(self) -> Admission: ...

    @property
    def board(self) -> Board | None: ...


class Board(Protocol):
    """What this module reads and keeps of a ``board.BoardState``."""

    looked: float
    told: set[str]
    strangers: list[str]

    @property
    def key(self) -> str: ...

    def others(self) -> list[tuple[str, dict[str, Any], float]]: ...


#: The holders of this process's boards: a lease of theirs is this process's own.
HOLDERS: set[int] = set()
#: A board looks at the serial's other boards at most this often (seconds).
LOOK = 5.0
#: A partner of a store: its key, the partner's key, the partner.
Partner = tuple[Key, Key, Store]
#: The pairs of keys already said.
_said: set[frozenset[Key]] = set()
_lock = threading.Lock()


def _forked() -> None:
    # The parent's holders are not this process's: its boards take new ones (restart).
    # A lock a parent's thread held never frees.
    global _lock
    HOLDERS.clear()
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forked)


def _hosts(key: Key) -> set[str]:
    groups = key[2]
    assert isinstance(groups, tuple)  # noqa: S101 ((service, urls) pairs: the store's key)
    return {url for _, urls in groups for url in urls if url}


def _named(key: Key) -> str:
    groups = key[2]
    assert isinstance(groups, tuple)  # noqa: S101
    lists = " ".join(f"{service}={','.join(u or '-' for u in urls)}" for service, urls in groups)
    return f"journal {key[1]}, hosts {lists}"


def pair(key: Key, store: Store, stores: Mapping[Key, Store]) -> None:
    """Make ``store`` (new, of ``key``) and each of ``stores`` of the same serial with a
    host in common partners."""
    mine = _hosts(key)
    for other, theirs in stores.items():
        if other[0] == key[0] and other != key and mine & _hosts(other):
            store.partners = (*store.partners, (key, other, theirs))
            theirs.partners = (*theirs.partners, (other, key, store))


def _board_hosts(key: str) -> set[str]:
    """The URLs of a board's key (``SN|send=URL,URL|account=URL,URL``)."""
    return {u for group in key.split("|")[1:] for u in group.partition("=")[2].split(",") if u}


def look(board: Board) -> None:
    """Note each other board of ``board``'s serial that shares a host with it and holds a
    request of another process now (not lingering: whose that is, nobody knows), at most
    every ``LOOK`` seconds, and each board once. Advice: a board or note that cannot be
    read, or is being written, is passed over; nothing here raises."""
    now = time.monotonic()
    if now < board.looked + LOOK:
        return
    board.looked = now
    try:
        found = board.others()
        mine = _board_hosts(board.key)
        for key, other, at in found:
            if key in board.told or not mine & _board_hosts(key):
                continue
            if any(h and h not in HOLDERS and at < u for _, _, u, h, _ in other["leases"]):
                with _lock:
                    board.told.add(key)
                    board.strangers.append(key)
    except Exception:  # advice: it must never cost a send its slot
        logger.debug("could not look at the serial's other boards", exc_info=True)


def _board_named(key: str) -> str:
    return " ".join(key.split("|")[1:])


def check(store: Store) -> None:
    """Log a warning when a partner of ``store`` (which just let a request out) has a
    request out or lingering, the first time for that pair; and for each board of another
    process that ``look`` found."""
    board = store.board  # others' boards (below), if the serial is on one
    found: list[str] = []
    if board is not None and board.strangers:  # mostly empty: no lock on every grant
        with _lock:  # taken whole: a thread's look may add to it meanwhile
            found, board.strangers = board.strangers, []
    mine = "" if board is None else board.key
    for stranger in found:
        logger.warning(
            "serial %s: a request of another process was out on this journal's serial "
            "when this one went, and its Clients of the serial use other host lists (%s; "
            "this one's %s), so the two do not share the serial's admission: the gateway "
            "may refuse them (-18, -19). Give every process's Clients of the serial the "
            "same host lists (one mandao.toml)",
            stranger.partition("|")[0], _board_named(stranger), _board_named(mine),
        )  # fmt: skip
    for key, other, theirs in store.partners:
        state = theirs.state
        if not state.in_flight and not state.holds:
            continue
        with _lock:
            said = frozenset((key, other))
            if said in _said:
                continue
            _said.add(said)
        logger.warning(
            "serial %s: requests of two Clients of the serial that do not share its "
            "admission overlapped (%s; and %s): the gateway allows one request of a "
            "serial at a time on one host, so it may refuse them (-18, -19). Give every "
            "Client of the serial the same journal and the same host lists "
            "(Client.from_config() with one mandao.toml does)",
            key[0], _named(key), _named(other),
        )  # fmt: skip
