"""``mandao journal pending``: attempts whose outcome is not known, and reconciling them.

Without ``--against``: every attempt still ``pending`` (cut off mid-send) or ``unknown``
(the request went out and no answer came back) and not resolved since. With ``--against
FILE``: each number of those attempts held against what the gateway accepted, and each
attempt the record settles marked resolved in the journal (``Journal.resolve``), so that
``send-file`` stops offering it as unknown.
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import click

from .._config_values import parse_duration
from .._errors import ConfigError, ValidationError
from .._journal.ledger import SETTLE_AFTER
from ._common import Output
from ._journal_open import attempt_data, china_time, journal_options, open_journal
from ._output import Refusal

if TYPE_CHECKING:
    from .._journal import Attempt, Journal, Reconciliation

__all__ = ["pending", "unresolved"]

_EXIT_PROBLEM = 1
_MINUTES = int(SETTLE_AFTER.total_seconds() // 60)


def unresolved(book: Journal) -> list[Attempt]:
    """Attempts ``pending`` or ``unknown`` that no reconciliation has resolved, by seq."""
    found = [*book.attempts(outcome="pending"), *book.attempts(outcome="unknown")]
    found = [a for a in found if getattr(a, "resolution", None) is None]
    return sorted(found, key=lambda a: a.seq)


def _settling(given: str) -> timedelta:
    """``--settle-after``: a duration (``10m``, ``90s``), or 0 (``0``, ``0s``, ``0m``)."""
    if re.fullmatch(r"0+(\.0*)?\s*[a-z]*", given.strip().lower()):
        return timedelta(0)
    try:
        return timedelta(seconds=parse_duration(given, where="--settle-after"))
    except ConfigError as exc:
        raise Refusal(str(exc), argument="--settle-after") from None


def _settled(result: Reconciliation, complete: bool) -> dict[str, list[int]]:
    """The attempts the record settles: every number found (sent), or, in a complete
    record, none found (not sent; none too recent to tell). An attempt with some numbers
    found and others not stays unresolved: that is for a person to look at."""
    found: dict[int, set[str]] = {}
    for state, pairs in (("sent", result.sent), ("absent", result.absent),
                         ("recent", result.recent)):  # fmt: skip
        for attempt, _ in pairs:
            found.setdefault(attempt.seq, set()).add(state)
    return {
        "sent": sorted(seq for seq, seen in found.items() if seen == {"sent"}),
        "not-sent": sorted(seq for seq, seen in found.items() if seen == {"absent"} and complete),
    }


def _resolve(book: Journal, settled: dict[str, list[int]], evidence: str, complete: bool) -> int:
    """Mark ``settled`` resolved in the journal; how many were."""
    source: Literal["ledger", "report"] = "ledger" if complete else "report"
    outcomes: tuple[Literal["sent", "not-sent"], ...] = ("sent", "not-sent")
    return sum(
        book.resolve(settled[outcome], outcome=outcome, evidence=evidence, source=source)
        for outcome in outcomes
        if settled[outcome]
    )


@click.command()
@click.option(
    "--against",
    type=click.Path(exists=True, dir_okay=False),
    help="What the gateway accepted: the sandbox's ledger, as the JSON Lines it writes as it "
    "goes (mandao sandbox --ledger x.jsonl) or exported (JSON/CSV), or any JSON Lines of "
    "rrid and mobile.",
)
@click.option(
    "--complete-ledger",
    is_flag=True,
    help="--against is complete (the sandbox's ledger): absent means not sent.",
)
@click.option(
    "--settle-after",
    default=f"{_MINUTES}m",
    show_default=True,
    metavar="DURATION",
    help="How old an attempt must be for a complete ledger to call it not sent: a younger "
    "one may be in flight, or still at work at the gateway. 0 if you know the sender is "
    "gone and the gateway done.",
)
@click.option(
    "--unjournaled",
    is_flag=True,
    help="List the record's numbers that no attempt of this journal sent (another sender's, "
    "or another journal's), not only count them.",
)
@click.option("--unmask", is_flag=True, help="Show numbers whole.")
@journal_options
def pending(
    against: str | None,
    complete_ledger: bool,
    settle_after: str,
    unjournaled: bool,
    unmask: bool,
    where: tuple[str | None, str | None],
    out: Output,
) -> None:
    """List attempts of unknown outcome: pending (in flight, or cut off mid-send) or unknown
    (no answer read).

    With --against, each number is held against what the gateway accepted: ``sent``,
    ``not sent`` (complete ledger), or ``unknown`` (a record that may be incomplete, or an
    attempt under 10 minutes old, which may be in flight); the attempts it settles are
    marked resolved in the journal, and are not listed again. Exit 1 while any stay
    unresolved. What the record holds that this journal never sent (a ledger the serial's
    other senders share) is counted, and listed with --unjournaled.
    """
    from .._journal import mask, read_ledger

    given = click.get_current_context().get_parameter_source
    for flag in ("complete_ledger", "settle_after", "unjournaled"):
        if against is None and given(flag) is click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError(f"--{flag.replace('_', '-')} applies to --against FILE")
    book = open_journal(where)
    show = (lambda n: n) if unmask else mask
    if against is None:
        found = unresolved(book)
        for attempt in found:
            entry = attempt_data(attempt, unmask=unmask)
            if out.json:
                out.line(entry)
            else:
                numbers = ", ".join(entry["recipients"][:5])
                more = entry["count"] - 5
                numbers += f" and {more} more" if more > 0 else ""
                state = (
                    "no outcome yet: in flight, or cut off mid-send"
                    if attempt.outcome == "pending"
                    else f"no answer read: {attempt.detail}"
                    if attempt.detail
                    else "no answer"
                )
                click.echo(
                    f"#{attempt.seq} {china_time(attempt.time)} (China) {attempt.operation} "
                    f"rrid={attempt.rrid} pid={attempt.pid} ({state}): outcome unknown; {numbers}"
                )
        if not out.json:
            click.echo(f"{len(found)} attempt(s) of unknown outcome", err=True)
        sys.exit(_EXIT_PROBLEM if found else 0)
    settling = _settling(settle_after)  # its own error, not the ledger's
    try:
        result = book.reconcile(read_ledger(against), settle_after=settling)
    except ValidationError:
        raise Refusal(
            f"{against} is not a ledger: every item needs an rrid and a mobile; give the "
            "sandbox's ledger (JSON), JSON Lines, or a CSV whose header names rrid and mobile",
            argument="--against",
        ) from None
    absent_state = "not sent" if complete_ledger else "unknown"
    recent_state = "unknown (too recent to settle: it may be in flight)"
    lines: list[dict[str, Any]] = [
        {"seq": a.seq, "rrid": a.rrid, "mobile": show(m), "state": state}
        for found, state in ((result.sent, "sent"), (result.absent, absent_state),
                             (result.recent, recent_state))
        for a, m in found
    ]  # fmt: skip
    lines += [
        {"seq": None, "rrid": r, "mobile": show(m), "state": "not in journal"}
        for r, m in (result.unjournaled if unjournaled else ())
    ]
    for line in lines:
        if out.json:
            out.line(line)
        else:
            seq = line["seq"] or "-"
            click.echo(f"#{seq} rrid={line['rrid']} {line['mobile']}: {line['state']}")
    settled = _settled(result, complete_ledger)
    marked = _resolve(book, settled, f"--against {against}", complete_ledger)
    recent = f"{len(result.recent)} too recent to settle (see --settle-after), "
    listed = "" if unjournaled or not result.unjournaled else " (--unjournaled lists them)"
    summary = (
        f"{len(result.sent)} sent, {len(result.absent)} {absent_state}, "
        f"{recent if result.recent else ''}{len(result.unjournaled)} not in the journal"
        f"{listed}; {marked} attempt(s) marked resolved"
    )
    click.echo(summary, err=True)  # stdout is the stream of numbers
    # Numbers this journal never sent are no attempt of its to settle: no exit 1 for them.
    unresolved_left = result.recent or (result.absent and not complete_ledger)
    sys.exit(_EXIT_PROBLEM if unresolved_left else 0)
