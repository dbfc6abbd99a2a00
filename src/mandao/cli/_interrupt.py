"""What a send cut short by Ctrl-C (or SIGTERM) did: sent, of unknown outcome, not sent;
and how to go on.

The journal is the record: every attempt of this process since the send began, by its
outcome (an attempt cut off mid-request is journaled ``unknown`` as the interruption
unwinds). Without a journal only the batches reported finished are known.
"""

from __future__ import annotations

import atexit
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

from .. import _signals
from .._journal.content import pairs_of
from ._exits import EXIT_INTERRUPTED
from ._output import Output

if TYPE_CHECKING:
    from .._journal import Journal
    from .._results import Batch

__all__ = ["Terminated", "Tracker", "interrupted", "terminated_as_ctrl_c"]

#: An attempt's outcome → what it means for its numbers.
_STATE = {"accepted": "sent", "pending": "unknown", "unknown": "unknown"}


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a service manager stopping the job), raised where Ctrl-C is."""


@contextmanager
def terminated_as_ctrl_c() -> Iterator[None]:
    """In the block, SIGTERM stops a send as Ctrl-C does: the request under way ends as
    its outcome says (unknown, if it had left), the journal has it, and the summary says
    what went. Only in the main thread, while SIGTERM has its default action.

    From the first of either on, a second within ``GRACE`` seconds (:mod:`mandao._signals`)
    is ignored, and one after them ends the process at once (:func:`_at_once`): raised
    again while the first unwinds or is summed up, it would break off the summary with a
    traceback, or land in a callback Python can only print."""

    def stop(signum: int, frame: object) -> None:
        _then_at_once((stop, ctrl_c))
        raise Terminated

    def ctrl_c(signum: int, frame: object) -> None:
        _then_at_once((stop, ctrl_c))
        raise KeyboardInterrupt

    with (
        _signals.answering(signal.SIGTERM, stop, signal.SIG_DFL),
        _signals.answering(signal.SIGINT, ctrl_c, signal.default_int_handler),
    ):
        yield


def _then_at_once(ours: tuple[Callable[[int, object], None], ...]) -> None:
    """After a first interrupt: another within ``GRACE`` seconds is ignored, one after them
    stops at once. Only SIGINT and SIGTERM that one of ``ours`` answers: a handler the
    program set itself, or a signal it ignores (a job started in the background), stays."""
    first = time.monotonic()

    def again(signum: int, frame: object) -> None:
        if not _signals.in_grace(first):
            _at_once()

    def exiting() -> None:
        # Python's shutdown puts a handler of its own back to the default (die by the
        # signal, not exit 130): one that comes then is ignored, the process ends anyway.
        for signum in replaced:
            if signal.getsignal(signum) is again:
                signal.signal(signum, signal.SIG_IGN)

    replaced = [s for s in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(s) in ours]
    for signum in replaced:
        signal.signal(signum, again)
    atexit.register(exiting)


def _at_once() -> NoReturn:
    """A second interrupt: stop now, saying so (what was journaled stays journaled). On a
    terminal, first show the cursor a live progress bar hid and end the line it is on:
    the bar's own end, which does both, is not reached."""
    said = "interrupted again: stopped at once, without the summary; the journal has every "
    said += "outcome written so far (mandao journal pending lists the rest)\n"
    os.write(2, (b"\x1b[?25h\n" if os.isatty(2) else b"") + said.encode())
    os._exit(EXIT_INTERRUPTED.code)


@dataclass
class Tracker:
    """The batches a send reported finished, passed on to the progress bar's callback."""

    then: Callable[[Batch], None]
    started: datetime = field(default_factory=lambda: datetime.now().astimezone())
    batches: list[Batch] = field(default_factory=list)

    def __call__(self, batch: Batch) -> None:
        self.batches.append(batch)
        self.then(batch)


def _from_journal(
    journal: Journal, sn: str, since: datetime, planned: list[tuple[str, str]]
) -> dict[str, int]:
    """Counts of ``planned`` (mobile, text) pairs by what this process's attempts since
    ``since`` say of them: an accepted attempt wins over an unknown one."""
    states: dict[tuple[str, str], str] = {}
    wanted = set(planned)
    pid = os.getpid()
    for attempt in journal.attempts(since=since, sn=sn, operation=("mdsmssend", "mdgxsend")):
        state = _STATE.get(attempt.outcome)
        if attempt.pid != pid or state is None:
            continue
        for pair in pairs_of(attempt.recipients, attempt.content):
            if pair in wanted and states.get(pair) != "sent":
                states[pair] = state
    sent = sum(1 for s in states.values() if s == "sent")
    unknown = sum(1 for s in states.values() if s == "unknown")
    return {"sent": sent, "unknown": unknown, "not_sent": len(wanted) - sent - unknown}


def _from_batches(batches: Iterable[Batch], total: int) -> dict[str, int]:
    """Counts when there is no journal: what is not known to be sent or refused is unknown."""
    done = list(batches)
    sent = sum(len(b.recipients) for b in done if b.state == "sent")
    refused = sum(len(b.recipients) for b in done if b.state in ("failed", "not_sent"))
    return {"sent": sent, "unknown": total - sent - refused, "not_sent": refused}


def interrupted(
    out: Output,
    *,
    journal: Journal | None,
    sn: str,
    tracker: Tracker,
    planned: list[tuple[str, str]],
    resume: str,
    by: KeyboardInterrupt,
) -> NoReturn:
    """Report a send cut short by Ctrl-C (or SIGTERM: ``by``): counts of numbers sent, of
    unknown outcome and not sent, and ``resume`` (how to go on); exit 130."""
    try:
        counts = (
            _from_journal(journal, sn, tracker.started, planned)
            if journal is not None
            else _from_batches(tracker.batches, len(planned))
        )
    except Exception:  # a summary must not hide the interruption: count what is known
        counts = _from_batches(tracker.batches, len(planned))
    message = (
        f"interrupted ({'SIGTERM' if isinstance(by, Terminated) else 'Ctrl-C'}): "
        f"{counts['sent']} sent, {counts['unknown']} of unknown "
        f"outcome (may have been sent), {counts['not_sent']} not sent"
    )
    if journal is None:
        message += " (the journal is off: the unknown are every number not known to be sent)"
    out.report(
        {
            "type": "Interrupted",
            "message": message,
            "exit": EXIT_INTERRUPTED.code,
            "kind": EXIT_INTERRUPTED.name,
            **counts,
            "hint": resume,
        }
    )
