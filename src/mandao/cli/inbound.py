"""``mandao replies``, ``mandao reports`` and ``mandao suppress``: what comes back.

``replies`` and ``reports`` fetch what is waiting (a table, or ``--json``): the gateway
gives a batch a call, so they fetch again until a call brings nothing (at most
:data:`_FETCHES` calls). With ``--follow`` they poll until Ctrl-C (one poller per serial
across processes; JSON Lines under ``--json``).
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._common import Output, client_options, common_options, make_client
from ._groups import Commands

if TYPE_CHECKING:
    from .._fetching import Fetched

__all__ = ["replies", "reports", "suppress"]

T = TypeVar("T")

#: Calls one `replies` or `reports` makes at most, each a batch of what was waiting.
_FETCHES = 100


def _drained(fetch: Callable[[], Fetched[T]]) -> Fetched[T]:
    """What ``fetch`` brings, call after call until one brings nothing (each call's
    batch is in the journal once it returns), as one. A batch of records all stored
    before is something (more may wait behind it), but two in a row are the end: a
    gateway that keeps no cursor gives the same records again."""
    from .._fetching import Fetched

    got = [fetch()]
    while len(got) < _FETCHES:
        last = got[-1]
        if not (last.seen or last.unreadable):
            break
        if not last.items and len(got) > 1 and not got[-2].items:
            break
        got.append(fetch())
    return Fetched(
        items=tuple(item for each in got for item in each.items),
        unreadable=tuple(u for each in got for u in each.unreadable),
        host=next((each.host for each in got if each.host), ""),
        recovered=sum(each.recovered for each in got),
        matched=sum(each.matched for each in got),
        resolved=tuple(seq for each in got for seq in each.resolved),
        suppressed=tuple(n for each in got for n in each.suppressed),
        seen=sum(each.seen for each in got),
    )


def _hidden(mobile: str | None, unmask: bool) -> tuple[str | None, Callable[[str], str]]:
    """``mobile`` as shown (masked unless ``unmask``), and what hides it in a raw record."""
    if unmask or not mobile:
        return mobile, lambda text: text
    from .._journal import mask

    shown = mask(mobile)
    return shown, lambda text: text.replace(mobile, shown)


def _reply(reply: Any, unmask: bool) -> dict[str, Any]:
    at = reply.received_at.isoformat() if reply.received_at else None
    mobile, hide = _hidden(reply.mobile, unmask)
    return {"mobile": mobile, "text": reply.text, "receiver": reply.receiver,
            "ext": reply.ext, "received_at": at, "raw": hide(reply.raw)}  # fmt: skip


def _report(report: Any, unmask: bool) -> dict[str, Any]:
    at = report.at.isoformat() if report.at else None
    mobile, hide = _hidden(report.mobile, unmask)
    return {"rrid": report.rrid, "mobile": mobile, "status": report.status,
            "outcome": report.outcome.value, "at": at, "report_id": report.report_id,
            "raw": hide(report.raw)}  # fmt: skip


#: A mobile number in a line no one could read (its fields are not known): 1 and ten digits.
_MOBILE_IN = re.compile(r"(?<!\d)(?:86)?(1\d{10})(?!\d)")


def _unread(lines: Iterable[Any], unmask: bool) -> list[str]:
    """Lines that could not be read, as shown: what looks like a mobile in them masked."""
    from .._journal import mask

    raws = [line.raw for line in lines]
    hide = lambda m: m[0][: -len(m[1])] + mask(m[1])  # noqa: E731 (the 86 kept)
    return raws if unmask else [_MOBILE_IN.sub(hide, raw) for raw in raws]


_UNMASK = click.option("--unmask", is_flag=True, help="Show numbers whole (masked: 138****8000).")


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: list[dict[str, Any]], columns: Iterable[str], empty: str) -> None:
    """``rows`` as an aligned table of ``columns`` (Chinese counted two columns wide)."""
    if not rows:
        click.echo(empty)
        return
    names = list(columns)
    cells = [names, *([str(row[c]) if row[c] is not None else "" for c in names] for row in rows)]
    widths = [max(_width(line[i]) for line in cells) for i in range(len(names))]
    for line in cells:
        padded = (v + " " * (w - _width(v)) for v, w in zip(line, widths, strict=True))
        click.echo("  ".join(padded).rstrip())


def _follow(
    out: Output, items: Iterable[Any], shape: Any, columns: list[str],
    held: Callable[[], list[Any]],
) -> None:  # fmt: skip
    """Print each item as it comes (a JSON line, or a tab-separated line) until Ctrl-C;
    then what the fetch that Ctrl-C let end brought (``held``)."""

    def show(item: Any) -> None:
        row = shape(item)
        if out.json:
            out.line(row)
        else:
            click.echo("\t".join(str(row[c] or "") for c in columns))

    try:
        for item in items:
            show(item)
    except KeyboardInterrupt:
        for item in held():
            show(item)
        click.echo("stopped (what was fetched is in the journal)", err=True)


def _interrupted(kind: str, held: list[Any]) -> None:
    """After Ctrl-C let a fetch end: say that what it brought is in the journal."""
    if held:
        click.echo(f"{len(held)} {kind} fetched before Ctrl-C are in the journal: "
                   f"mandao journal export --table {kind}", err=True)  # fmt: skip


_REPLY_COLUMNS = ["received_at", "mobile", "ext", "text"]
_REPORT_COLUMNS = ["at", "rrid", "mobile", "status", "outcome"]


@click.command()
@click.option("--follow", is_flag=True, help="Keep polling until Ctrl-C (JSON Lines with --json).")
@click.option("--every", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="Seconds between polls with --follow.")  # fmt: skip
@click.option("--operation", type=click.Choice(["mo", "mo2", "RECSMS_UTF8"]), default="mo",
              show_default=True, help="The gateway operation your account uses.")  # fmt: skip
@_UNMASK
@client_options
@common_options
def replies(follow: bool, every: float, operation: str, unmask: bool, settings: dict[str, Any],
            out: Output) -> None:  # fmt: skip
    """Fetch the replies (MO) waiting at the gateway; opt-outs go on the suppression list.

    Each reply is kept in the journal before it is shown: the gateway gives it once.
    """
    with make_client(settings) as client:
        if follow:
            _follow(out, client.poll_replies(every=every, operation=operation),  # type: ignore[arg-type]
                    lambda r: _reply(r, unmask), _REPLY_COLUMNS,
                    lambda: client._held.take("replies"))  # fmt: skip
            return
        try:
            got = _drained(lambda: client.fetch_replies(operation=operation))  # type: ignore[arg-type]
        except KeyboardInterrupt:
            _interrupted("replies", client._held.take("replies"))
            raise
    rows = [_reply(r, unmask) for r in got]
    suppressed = [_hidden(n, unmask)[0] for n in got.suppressed]
    data = {"replies": rows, "unreadable": _unread(got.unreadable, unmask),
            "suppressed": suppressed, "recovered": got.recovered}  # fmt: skip

    def show() -> None:
        _table(rows, _REPLY_COLUMNS, "no replies waiting")
        for number in suppressed:
            click.echo(f"{number} replied an opt-out keyword: now on the suppression list")
        if got.unreadable:
            click.echo(f"{len(got.unreadable)} line(s) could not be read: kept in the journal")

    out.result(data, show)


def _of_send(client: Any, rrid: str) -> list[Any]:
    """Every report of the send ``rrid`` the journal holds, oldest first."""
    return list(client.journal.reports(sn=client.sn, rrid=rrid))


def _same(report: Any) -> tuple[Any, ...]:
    """What tells one report from another, fetched now or read from the journal."""
    return report.rrid, report.mobile, report.raw


@click.command()
@click.option("--follow", is_flag=True, help="Keep polling until Ctrl-C (JSON Lines with --json).")
@click.option("--every", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Seconds between polls with --follow.")  # fmt: skip
@click.option(
    "--rrid",
    help="Every report of this send (report2): new ones, and those "
    "fetched before, from the journal.",
)
@_UNMASK
@client_options
@common_options
def reports(follow: bool, every: float, rrid: str | None, unmask: bool,
            settings: dict[str, Any], out: Output) -> None:  # fmt: skip
    """Fetch delivery reports since the last fetch, matched to the journal's sends.

    A send of unknown outcome that a report names is resolved as sent.
    """
    if follow and rrid:
        raise click.UsageError("--follow polls every send's reports: leave out --rrid, or "
                               "--follow (one send's reports, all of them, once)")  # fmt: skip
    with make_client(settings) as client:
        if follow:
            _follow(out, client.poll_reports(every=every), lambda r: _report(r, unmask),
                    _REPORT_COLUMNS, lambda: client._held.take("reports"))  # fmt: skip
            return
        try:  # a batch a call, for one send (report2) as for all
            got = _drained(lambda: client.fetch_reports(rrid=rrid))
        except KeyboardInterrupt:
            _interrupted("reports", client._held.take("reports"))
            raise
        # One send's reports: all of them, those fetched before (by a plain `reports`,
        # say) from the journal, each marked new or not.
        shown = got.items if not rrid else _of_send(client, rrid)
    fresh = {_same(r) for r in got.items}
    rows = [_report(r, unmask) | ({"new": _same(r) in fresh} if rrid else {}) for r in shown]
    data = {"reports": rows, "matched": got.matched, "resolved": list(got.resolved),
            "unreadable": _unread(got.unreadable, unmask)}  # fmt: skip

    def show() -> None:
        _table(rows, _REPORT_COLUMNS, "no new reports" if not rrid else f"no reports of {rrid}")
        if rrid:
            click.echo(f"{len(got.items)} new; {len(rows) - len(got.items)} fetched before "
                       "(from the journal)")  # fmt: skip
        new = f" of the {len(got.items)} new" if rrid else ""  # those before: matched then
        click.echo(f"{got.matched}{new} matched to journaled sends; {len(got.resolved)} send(s) "
                   "of unknown outcome resolved as sent")  # fmt: skip
        if got.unreadable:
            click.echo(f"{len(got.unreadable)} record(s) could not be read: kept in the journal")

    out.result(data, show)


@click.group(cls=Commands)
def suppress() -> None:
    """The suppression list: numbers that sends skip (send-file) or refuse."""


def _journal_and_sn(settings: dict[str, Any]) -> tuple[Any, str]:
    client = make_client(settings)
    if client.journal is None:
        from .._errors import ConfigError

        raise ConfigError("the suppression list lives in the journal, and it is off")
    return client.journal, client.sn


def _entry(row: Any, unmask: bool) -> dict[str, Any]:
    return {"mobile": _hidden(row.mobile, unmask)[0], "ext": row.ext, "time": row.time,
            "source": row.source, "reason": row.reason}  # fmt: skip


@suppress.command("list")
@_UNMASK
@client_options
@common_options
def list_(unmask: bool, settings: dict[str, Any], out: Output) -> None:
    """The numbers on the serial's suppression list (whole in `suppress export`)."""
    journal, sn = _journal_and_sn(settings)
    rows = [_entry(s, unmask) for s in journal.suppressions(sn=sn)]
    columns = ["mobile", "ext", "source", "reason"]
    out.result({"suppressed": rows}, lambda: _table(rows, columns, "the list is empty"))


@suppress.command()
@click.argument("mobiles", nargs=-1, required=True)
@click.option("--ext", default="", help="Only for sends on this extension (default: every send).")
@click.option("--reason", default="added by an operator", show_default=True)
@client_options
@common_options
def add(mobiles: tuple[str, ...], ext: str, reason: str, settings: dict[str, Any],
        out: Output) -> None:  # fmt: skip
    """Put numbers on the suppression list."""
    journal, sn = _journal_and_sn(settings)
    added = [m for m in mobiles if journal.suppress(m, sn=sn, ext=ext, reason=reason)]
    out.result({"added": added, "already": len(mobiles) - len(added)},
               f"{len(added)} added, {len(mobiles) - len(added)} listed already")  # fmt: skip


@suppress.command()
@click.argument("mobiles", nargs=-1, required=True)
@click.option("--ext", default=None, help="Only the entry for this extension (default: all).")
@client_options
@common_options
def remove(mobiles: tuple[str, ...], ext: str | None, settings: dict[str, Any],
           out: Output) -> None:  # fmt: skip
    """Take numbers off the suppression list (they have consented again)."""
    journal, sn = _journal_and_sn(settings)
    gone = sum(journal.unsuppress(m, sn=sn, ext=ext) for m in mobiles)
    out.result({"removed": gone}, f"{gone} entr{'y' if gone == 1 else 'ies'} removed")


@suppress.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@client_options
@common_options
def import_(file: Path, settings: dict[str, Any], out: Output) -> None:
    """Add the numbers of a CSV file (a mobile column, optional ext and reason columns;
    or one number a line)."""
    journal, sn = _journal_and_sn(settings)
    text = file.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    header = [c.strip().lower() for c in lines[0].split(",")] if lines else []
    rows = (list(csv.DictReader(lines)) if "mobile" in header
            else [{"mobile": line.strip()} for line in lines if line.strip()])  # fmt: skip
    added = 0
    for position, row in enumerate(rows, start=2 if "mobile" in header else 1):
        try:
            added += journal.suppress(row["mobile"], sn=sn, ext=row.get("ext") or "",
                                      reason=row.get("reason") or f"imported from {file.name}",
                                      source="import")  # fmt: skip
        except Exception as exc:  # a bad number: say which row, go on
            out.warn(f"{file}:{position}: {row.get('mobile')!r} not added ({exc})")
    out.result({"added": added}, f"{added} added from {file}")


@suppress.command("export")
@client_options
@common_options
def export_(settings: dict[str, Any], out: Output) -> None:
    """Write the suppression list as CSV to stdout (mobile, ext, time, source, reason)."""
    journal, sn = _journal_and_sn(settings)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["mobile", "ext", "time", "source", "reason"])
    for row in journal.suppressions(sn=sn):
        writer.writerow([row.mobile, row.ext, row.time, row.source, row.reason])
