"""Client-made rrids: 18 digits, unique across the threads and processes of one machine.

Layout: ``SSSSSSSSS PPPPPPP CC``, nine digits of seconds since 2020-01-01 UTC, seven of the
process id (Linux allows at most 4,194,304), two of a counter. Within a process the pair
(seconds, counter) is one sequence that only goes up: when more than 100 rrids are made in
one second, the sequence runs ahead of the clock instead of repeating. Two live processes
never share a pid, so their rrids differ; a later process reusing a pid starts from its own
clock, which is past any second the earlier one used unless that one ran ahead of the clock
(over 100 rrids a second, sustained) and the pid came round again within that lead.

The first digit is not 0 until 2051 (the gateway may store an rrid as a number), and the
value stays below 2**63.
"""

from __future__ import annotations

import math
import os
import threading
import time

from .._errors import ValidationError

__all__ = ["make_rrid"]

_EPOCH = 1_577_836_800  # 2020-01-01T00:00:00Z
_PER_SECOND = 100

_lock = threading.Lock()
_last = 0
_pid = -1


def make_rrid(clock: float | None = None) -> str:
    """A fresh 18-digit rrid; ``clock`` (seconds since the epoch) stands in for the time.

    Raises:
        ValidationError: ``clock`` is not a finite number (``argument="clock"``).

    >>> rrid = make_rrid()
    >>> len(rrid), rrid.isdigit(), rrid != make_rrid()
    (18, True, True)
    """
    global _last, _pid
    if clock is None:
        clock = time.time()
    elif not isinstance(clock, (int, float)) or not math.isfinite(clock):
        raise ValidationError(
            f"expected a finite number of seconds, got {clock!r}", argument="clock"
        )
    now = int(clock - _EPOCH) * _PER_SECOND
    with _lock:
        pid = os.getpid()
        if pid != _pid:  # a forked child starts its own sequence
            _pid, _last = pid, 0
        _last = max(_last + 1, now)
        sequence = _last
    seconds, counter = divmod(sequence, _PER_SECOND)
    return f"{seconds % 10**9:09d}{pid % 10**7:07d}{counter:02d}"
