"""``mandao journal list`` and ``mandao journal tail``: recent sends, filtered; ``--follow``.

Both show a table (newest last) or, with ``--json``, JSON Lines: one attempt a line.
``tail --follow`` then waits for new attempts (and outcomes) and shows each as it is
written, until Ctrl-C, which ends it normally (exit 0).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from .._journal.content import mask
from ._common import Output
from ._inputs import point_in_time
from ._journal_open import HEADER, attempt_data, attempt_line, journal_options, mobile_filter
from ._journal_open import open_journal as _open

if TYPE_CHECKING:
    from .._journal import Attempt, Journal

__all__ = ["list_attempts", "tail"]

_OUTCOMES = ["pending", "accepted", "rejected", "unknown", "unreachable"]


def _filters(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--since", help="From: a date, a China time, today, yesterday, 2h ago."),
            click.option("--until", help="Up to (not including) this time; the same forms."),
            click.option(
                "--mobile", help="Attempts to this number, or to numbers holding these digits."
            ),
            click.option("--rrid", help="Attempts with this rrid."),
            click.option("--outcome", type=click.Choice(_OUTCOMES)),
            click.option(
                "--operation",
                type=click.Choice(["mdsmssend", "mdgxsend", "Register", "UnRegister"]),
            ),
            click.option("--unmask", is_flag=True, help="Show numbers whole."),
        ]
    ):
        func = option(func)
    return func


class _Query:
    """The attempts the filters select, read again as the journal grows."""

    def __init__(self, book: Journal, params: dict[str, Any]) -> None:
        self.book = book
        number, self.digits = mobile_filter(params["mobile"], whole=False)
        bounds = {
            name: None if params[name] is None else point_in_time(params[name], argument=flag)
            for name, flag in (("since", "--since"), ("until", "--until"))
        }
        self.filters: dict[str, Any] = {
            "mobile": number, "rrid": params["rrid"], "outcome": params["outcome"],
            "operation": params["operation"], **bounds,
        }  # fmt: skip
        self.unmask = params["unmask"]

    def run(self, **changes: Any) -> Iterator[Attempt]:
        for attempt in self.book.attempts(**{**self.filters, **changes}):
            if self.digits is None or any(self.digits in n for n in attempt.recipients):
                yield attempt


def _show(
    out: Output, attempts: list[Attempt], unmask: bool, *, header: bool, book: Any = None
) -> None:
    if header and not out.json:
        click.echo(HEADER)
    for attempt in attempts:
        data = attempt_data(attempt, unmask=unmask)
        # Per-recipient delivery, from the delivery reports fetched (`mandao reports`).
        reports = book.deliveries(attempt.seq) if book is not None else {}
        data["delivery"] = dict(sorted(Counter(reports.values()).items()))
        if out.json:
            data["deliveries"] = {(m if unmask else mask(m)): c for m, c in reports.items()}
            out.line(data)
        else:
            counts = ", ".join(f"{n} {what}" for what, n in data["delivery"].items())
            click.echo(attempt_line(data) + (f"  [{counts}]" if counts else ""))


@click.command("list")
@_filters
@click.option(
    "-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True,
    help="Show at most this many, the newest.",
)  # fmt: skip
@journal_options
def list_attempts(
    limit: int, where: tuple[str | None, str | None], out: Output, **params: Any
) -> None:
    """List recent send attempts (newest last): time, operation, outcome, numbers, rrid."""
    query = _Query(_open(where), params)
    found = list(query.run())
    _show(out, found[-limit:], query.unmask, header=True, book=query.book)
    if not out.json:
        shown = min(limit, len(found))
        more = f" (of {len(found)}; -n shows more)" if len(found) > shown else ""
        click.echo(f"{shown} attempt(s){more}", err=True)


@click.command()
@_filters
@click.option(
    "-n", "--lines", "count", type=click.IntRange(min=0), default=10, show_default=True,
    help="Show the last this many first.",
)  # fmt: skip
@click.option("-f", "--follow", is_flag=True, help="Then show new attempts as they are written.")
@click.option(
    "--interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True,
    help="Seconds between looks at the journal with --follow.",
)  # fmt: skip
@journal_options
def tail(
    count: int, follow: bool, interval: float, where: tuple[str | None, str | None],
    out: Output, **params: Any,
) -> None:  # fmt: skip
    """The last attempts; with --follow, every new one (and each outcome) as it comes.

    Ctrl-C ends --follow (exit 0).
    """
    query = _Query(_open(where), params)
    found = list(query.run())
    last = found[-count:] if count else []
    _show(out, last, query.unmask, header=True)
    if not follow:
        return
    seen = {a.seq: a.outcome for a in found}
    # Re-read from a little before the newest row seen: a row written just before it, by
    # another process, may carry an earlier time.
    since = datetime.now(UTC) - timedelta(minutes=5)
    if query.filters["since"] is not None:
        since = max(since, query.filters["since"])
    shown = len(last)
    try:
        while True:
            fresh = [a for a in query.run(since=since) if seen.get(a.seq) != a.outcome]
            for attempt in fresh:
                seen[attempt.seq] = attempt.outcome
            _show(out, fresh, query.unmask, header=False)
            shown += len(fresh)
            time.sleep(interval)
    except KeyboardInterrupt:
        if not out.json:
            click.echo(f"\n{shown} attempt(s) shown", err=True)
