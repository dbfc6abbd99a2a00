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
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Protocol

from .._core.admission import Admission

__all__ = ["check", "pair"]

logger = logging.getLogger("mandao")

Key = tuple[object, ...]


class Store(Protocol):
    """What this module reads of a ``store.SerialStore``."""

    partners: tuple[Partner, ...]

    @property
    def state(self) -> Admission: ...


#: A partner of a store: its key, the partner's key, the partner.
Partner = tuple[Key, Key, Store]
#: The pairs of keys already said.
_said: set[frozenset[Key]] = set()
_lock = threading.Lock()


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


def check(store: Store) -> None:
    """Log a warning when a partner of ``store`` (which just let a request out) has a
    request out or lingering, the first time for that pair."""
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
