"""``mandao journal``: where the send journal is, what is pending, verify, prune, export.

Exit codes: 0 when all is well; 1 when ``verify`` finds a break, or ``pending`` lists
attempts of unknown outcome; 2 for a bad argument; 3 when the journal cannot be read or
refuses (a too-young prune).
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click

from .._errors import ValidationError
from .._journal import RETENTION, Journal, JournalError, default_journal_path

__all__ = ["journal"]

_EXIT_PROBLEM, _EXIT_JOURNAL = 1, 3


def _open(ctx: click.Context) -> Journal:
    path = ctx.obj
    target = Path(path) if path else default_journal_path()
    if ctx.info_name != "path" and not target.exists():
        click.echo(f"no journal at {target}", err=True)
        ctx.exit(_EXIT_JOURNAL)
    return Journal(target)


def _fail(exc: JournalError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(_EXIT_JOURNAL)


@click.group()
@click.option(
    "--journal",
    "path",
    envvar="MANDAO_JOURNAL",
    type=click.Path(dir_okay=False),
    help="The journal file (default: $MANDAO_JOURNAL, else the config file's [journal] path, "
    "else the user data folder).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    default=None,
    help="The config file whose [journal] path to use (default: found as other commands do).",
)
@click.pass_context
def journal(ctx: click.Context, path: str | None, config: str | None) -> None:
    """The send journal: every attempt to send, kept tamper-evident (docs/journal.md)."""
    ctx.obj = path or _configured_path(config)


def _configured_path(config: str | None) -> str | None:
    """The ``[journal] path`` of the config file, if there is one (no password is read)."""
    from .._config_file import load_settings
    from .._errors import ConfigError

    try:
        settings = load_settings(config, resolve_password=False)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(_EXIT_JOURNAL)
    table = settings.values.get("journal") or {}
    configured = table.get("path") if isinstance(table, dict) else None
    return str(configured) if configured else None


@journal.command()
@click.pass_context
def path(ctx: click.Context) -> None:
    """Print where the journal is."""
    click.echo(str(Path(ctx.obj) if ctx.obj else default_journal_path()))


@journal.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per attempt.")
@click.option(
    "--against",
    type=click.Path(exists=True, dir_okay=False),
    help="What the gateway accepted: the sandbox ledger (JSON/CSV) or rrid+mobile JSON lines.",
)
@click.option(
    "--complete-ledger",
    is_flag=True,
    help="--against is complete (the sandbox's ledger): absent means not sent.",
)
@click.option("--unmask", is_flag=True, help="Show numbers whole.")
@click.pass_context
def pending(
    ctx: click.Context, as_json: bool, against: str | None, complete_ledger: bool, unmask: bool
) -> None:
    """List attempts with no outcome (cut off mid-send): their outcome is unknown.

    With --against, each number is held against what the gateway accepted: ``sent``,
    ``not sent`` (complete ledger), or ``unknown`` (a record that may be incomplete).
    Attempts that ended ``unknown`` (OutcomeUnknown) are included then too.
    """
    from .._journal import mask, read_ledger

    book = _open(ctx)
    show = (lambda n: n) if unmask else mask
    try:
        if against is None:
            found = book.pending()
            for attempt in found:
                entry: dict[str, Any] = {
                    "seq": attempt.seq, "time": attempt.time, "operation": attempt.operation,
                    "host": attempt.host, "rrid": attempt.rrid, "pid": attempt.pid,
                    "recipients": [show(n) for n in attempt.recipients],
                    "state": "outcome unknown",
                }  # fmt: skip
                if as_json:
                    click.echo(json.dumps(entry, ensure_ascii=False))
                else:
                    numbers = ", ".join(entry["recipients"][:5])
                    more = len(attempt.recipients) - 5
                    numbers += f" and {more} more" if more > 0 else ""
                    click.echo(
                        f"#{attempt.seq} {attempt.time} {attempt.operation} rrid={attempt.rrid} "
                        f"pid={attempt.pid}: outcome unknown; {numbers}"
                    )
            if not as_json:
                click.echo(f"{len(found)} pending attempt(s)", err=True)
            ctx.exit(_EXIT_PROBLEM if found else 0)
        result = book.reconcile(read_ledger(against))
    except ValidationError as exc:
        raise click.BadParameter(str(exc), param_hint="--against") from None
    except JournalError as exc:
        _fail(exc)
        return
    absent_state = "not sent" if complete_ledger else "unknown"
    lines: list[dict[str, Any]] = [
        {"seq": a.seq, "rrid": a.rrid, "mobile": show(m), "state": "sent"} for a, m in result.sent
    ]
    lines += [
        {"seq": a.seq, "rrid": a.rrid, "mobile": show(m), "state": absent_state}
        for a, m in result.absent
    ]
    lines += [
        {"seq": None, "rrid": r, "mobile": show(m), "state": "not in journal"}
        for r, m in result.unjournaled
    ]
    for line in lines:
        if as_json:
            click.echo(json.dumps(line, ensure_ascii=False))
        else:
            seq = line["seq"] or "-"
            click.echo(f"#{seq} rrid={line['rrid']} {line['mobile']}: {line['state']}")
    click.echo(
        f"{len(result.sent)} sent, {len(result.absent)} {absent_state}, "
        f"{len(result.unjournaled)} not in the journal",
        err=True,
    )
    unresolved = result.unjournaled or (result.absent and not complete_ledger)
    ctx.exit(_EXIT_PROBLEM if unresolved else 0)


@journal.command()
@click.option("--json", "as_json", is_flag=True, help="The result as one JSON object.")
@click.option("--expect-head", help="SEQ:HASH printed by an earlier verify; checked too.")
@click.pass_context
def verify(ctx: click.Context, as_json: bool, expect_head: str | None) -> None:
    """Check the hash chain; exit 1 at the first modified, inserted or deleted row."""
    expect = None
    if expect_head:
        seq, _, digest = expect_head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter("expected SEQ:HASH", param_hint="--expect-head")
        expect = (int(seq), digest)
    try:
        result = _open(ctx).verify(expect_head=expect)
    except JournalError as exc:
        _fail(exc)
        return
    problem = result.problem
    if as_json:
        data = {
            "ok": result.ok, "rows": result.rows, "head": f"{result.head_seq}:{result.head_hash}",
            "anchor_seq": result.anchor_seq,
            "problem": None if problem is None else
            {"seq": problem.seq, "kind": problem.kind, "message": problem.message},
        }  # fmt: skip
        click.echo(json.dumps(data))
    elif problem is None:
        click.echo(f"ok: {result.rows} rows, head {result.head_seq}:{result.head_hash}")
    else:
        click.echo(f"BROKEN at row {problem.seq}: {problem.kind}: {problem.message}")
    ctx.exit(0 if result.ok else _EXIT_PROBLEM)


@journal.command()
@click.option(
    "--before", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Delete rows before DATE."
)
@click.option(
    "--retention-days",
    type=click.IntRange(min=1),
    default=RETENTION.days,
    show_default=True,
    help="Refuse rows younger than this (below 180 needs --override).",
)
@click.option("--override", is_flag=True, help="Prune younger rows anyway (not recommended).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def prune(
    ctx: click.Context, before: Any, retention_days: int, override: bool, as_json: bool
) -> None:
    """Delete rows before DATE (China time), keeping the chain verifiable.

    Vendor terms, item 6: send logs are kept unmodified for at least six months, so rows
    younger than the retention (180 days) are refused unless --override.
    """
    day: date = before.date()
    try:
        result = _open(ctx).prune(day, retention=timedelta(days=retention_days), override=override)
    except JournalError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(json.dumps({"removed": result.removed, "anchor_seq": result.anchor_seq,
                               "anchor_hash": result.anchor_hash}))  # fmt: skip
    else:
        click.echo(f"removed {result.removed} rows; the chain now starts after row "
                   f"{result.anchor_seq} ({result.anchor_hash or '-'})")  # fmt: skip


@journal.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option("--since", help="From this time (ISO date or date-time; naive = China time).")
@click.option("--until", help="Up to (not including) this time.")
@click.option("--mobile", help="Only attempts to this number (and only it in each row).")
@click.option("--rrid", help="Only attempts with this rrid.")
@click.option(
    "--outcome", type=click.Choice(["pending", "accepted", "rejected", "unknown", "unreachable"])
)
@click.option(
    "--unmask",
    is_flag=True,
    help="Numbers whole, for a lawful inquiry (vendor terms, item 9); masked otherwise.",
)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
@click.pass_context
def export(
    ctx: click.Context, fmt: str, since: str | None, until: str | None, mobile: str | None,
    rrid: str | None, outcome: str | None, unmask: bool, output: Any,
) -> None:  # fmt: skip
    """Write attempts as JSON Lines or CSV, filtered; numbers masked unless --unmask."""
    from .._journal import export as write

    try:
        count = write(
            _open(ctx), output, "csv" if fmt == "csv" else "jsonl", unmask=unmask,
            since=since, until=until, mobile=mobile, rrid=rrid, outcome=outcome,
        )  # fmt: skip
    except ValidationError as exc:
        raise click.BadParameter(str(exc)) from None
    except JournalError as exc:
        _fail(exc)
        return
    click.echo(f"{count} attempt(s) exported", err=True)
