"""Client-made rrids: 18 digits, unique across threads, processes, containers and machines.

Layout: ``SSSSSSSSS NNNNNNN CC``, nine digits of seconds since 2020-01-01 UTC, seven of a
node number, two of a counter. Within a process the pair (seconds, counter) is one
sequence that only goes up: when more than 100 rrids are made in one second, the sequence
runs ahead of the clock instead of repeating. The node is drawn at random (from the
operating system's generator) once per process, and again in a forked child: a process
id would not do, as containers number their processes alike (every worker is pid 1 or 7).
Two processes share a node with odds of one in ten million; their rrids then still differ
unless they also make one in the same second with the same counter.

The first digit is not 0 until 2051 (the gateway may store an rrid as a number), and the
value stays below 2**63.
"""

from __future__ import annotations

import math
import os
import secrets
import threading
import time

from .._errors import ValidationError

__all__ = ["make_rrid"]

_EPOCH = 1_577_836_800  # 2020-01-01T00:00:00Z
_PER_SECOND = 100

_lock = threading.Lock()
_last = 0
_pid = -1
_node = 0


def _after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # a parent's thread may have held it: it never frees here


os.register_at_fork(after_in_child=_after_fork)


def make_rrid(clock: float | None = None) -> str:
    """A fresh 18-digit rrid; ``clock`` (seconds since the epoch) stands in for the time.

    Raises:
        ValidationError: ``clock`` is not a finite number (``argument="clock"``).

    >>> rrid = make_rrid()
    >>> len(rrid), rrid.isdigit(), rrid != make_rrid()
    (18, True, True)
    """
    global _last, _pid, _node
    if clock is None:
        clock = time.time()
    elif not isinstance(clock, (int, float)) or not math.isfinite(clock):
        raise ValidationError(
            f"expected a finite number of seconds, got {clock!r}", argument="clock"
        )
    now = int(clock - _EPOCH) * _PER_SECOND
    with _lock:
        pid = os.getpid()
        if pid != _pid:  # a new process, or a forked child: its own node and sequence
            _pid, _last, _node = pid, 0, secrets.randbelow(10**7)
        _last = max(_last + 1, now)
        sequence, node = _last, _node
    seconds, counter = divmod(sequence, _PER_SECOND)
    return f"{seconds % 10**9:09d}{node:07d}{counter:02d}"
