"""A signal answered by a handler of ours for the length of a block, where that is safe."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["GRACE", "answering", "in_grace"]

#: Seconds after a first interrupt in which another is the same one, ignored: a wrapper
#: script that forwards the signal (systemd signals the whole control group, the script's
#: ``trap`` passes it on), Ctrl-C that reaches the whole process group and a runner in it
#: forwards. After them, another means "stop now".
GRACE = 1.0


def in_grace(first: float) -> bool:
    """Whether an interrupt now comes within :data:`GRACE` of one at ``first`` (monotonic
    seconds): the same one, forwarded."""
    return time.monotonic() - first < GRACE


@contextmanager
def answering(signum: int, handler: Callable[[int, Any], None], default: object) -> Iterator[None]:
    """In the block, ``handler`` answers ``signum``, restored after: only in the main thread
    (the only one signals reach) and while ``signum``'s handler is ``default``, Python's own,
    so that a program that handles the signal itself keeps its way. A handler that put
    another in its place meanwhile (for what comes after it) is not undone."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signum) is not default:
        yield
        return
    previous = signal.signal(signum, handler)
    try:
        yield
    finally:
        if signal.getsignal(signum) is handler:
            signal.signal(signum, previous)
