"""The progress bar of a long send: recipients and batches done, on stderr, through rich.

rich is imported only when a bar is drawn, so commands that draw none (``--help``,
``estimate``, ``--json`` runs, ...) do not load it. The bar goes to a rich ``Console`` on
stderr, which draws and redraws it on a terminal only: on a file or a pipe it writes the
final state once, as plain text. stdout, which carries the result text or JSON, is never
touched (rich's own redirection of stdout is turned off).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from .._results import Batch

__all__ = ["progress_bar"]

_STATES = {"failed": "refused", "unknown": "of unknown outcome", "not_sent": "not sent"}


def _ignore(batch: Batch) -> None:
    """What a disabled bar does with a finished batch: nothing."""


@contextmanager
def progress_bar(
    total: int, label: str, *, enabled: bool, console: Console | None = None
) -> Iterator[Callable[[Batch], None]]:
    """A bar of ``total`` recipients while the block runs; yields what to call with each
    finished :class:`mandao.Batch` (a ``progress=`` callback of the client's sends).

    Args:
        total: recipients the send carries (the bar's 100%); the bar counts those the
            gateway accepted, and the others (refused, unknown, not sent) beside it.
        label: the text before the bar.
        enabled: False draws nothing and imports nothing (``--json``, a one-batch send).
        console: where to draw (tests); default a rich Console on stderr.

    Either way, a send that waits long for a slot of its serial says so, on the bar or
    as a line on stderr.

    Example::

        >>> with progress_bar(3, "sending", enabled=False) as advance:
        ...     client.send(numbers, text, progress=advance)  # doctest: +SKIP
    """
    if not enabled:
        with _waits_shown(_said, label):
            yield _ignore
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[batches]} batch(es){task.fields[unsent]}", markup=False),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console if console is not None else Console(stderr=True),
        # On a terminal rich would otherwise send prints to stdout through its console,
        # which writes to stderr: the result must stay on stdout.
        redirect_stdout=False,
    )
    task = progress.add_task(label, total=total, batches=0, unsent="")
    batches = 0
    others: dict[str, int] = {}

    def advance(batch: Batch) -> None:
        # The bar counts what the gateway accepted; a failed, unknown or unsent batch is
        # counted beside it, so a send that stopped shows how much went, not how far.
        nonlocal batches
        batches += 1
        sent = len(batch.recipients) if batch.state == "sent" else 0
        if batch.state != "sent":
            others[batch.state] = others.get(batch.state, 0) + len(batch.recipients)
        shown = "".join(f", {n} {_STATES.get(s, s)}" for s, n in others.items())
        progress.update(task, advance=sent, batches=batches, unsent=shown)

    def describe(text: str, waiting: bool) -> None:
        if progress.console.is_terminal:  # redrawn in place
            progress.update(task, description=text, refresh=True)
        else:  # a file or a pipe gets the bar's last state only: the wait is a line
            _said(text, waiting)

    with progress, _waits_shown(describe, label):
        yield advance


#: What the bar says while a send waits for a slot of the serial (a campaign resumed behind
#: an unanswered request, whose slot is held one read timeout after it was written).
WAITING = "{label}: waiting for a slot of serial {sn} ({why})"


def _said(text: str, waiting: bool) -> None:
    """Without a bar redrawn on a terminal, a lasting wait is a line on stderr (its end
    is not)."""
    if waiting:
        sys.stderr.write(text + "\n")


@contextmanager
def _waits_shown(describe: Callable[[str, bool], None], label: str) -> Iterator[None]:
    """While the block runs, the client's log of a wait for a slot (which a lasting wait
    gives as it happens, and its end) changes the bar's text through ``describe`` (the
    text, and whether it is a wait's)."""
    import logging

    class Shown(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if hasattr(record, "mandao_waiting"):
                sn = record.mandao_waiting
                waiting = sn is not None
                why = getattr(record, "mandao_why", "an earlier request holds it")
                describe(WAITING.format(label=label, sn=sn, why=why) if waiting else label, waiting)

    logger, handler = logging.getLogger("mandao"), Shown(logging.INFO)
    level = logger.level
    if not logger.isEnabledFor(logging.INFO):
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
