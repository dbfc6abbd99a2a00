"""``mandao journal``: where the send journal is; list, tail, pending, verify, prune, export.

Exit codes: 0 when all is well; 1 when ``verify`` finds a break, or ``pending`` lists
attempts of unknown outcome; 2 for a bad argument; 3 when the journal cannot be read or
refuses (a too-young prune). Every subcommand takes ``--journal`` and ``--config``
(before or after its name) and ``--json``.
"""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta
from typing import Any, TextIO

import click

from .._errors import JournalError
from ._common import Output
from ._groups import Commands
from ._inputs import point_in_time
from ._journal_open import journal_options, location, mobile_filter, open_journal
from .journal_list import list_attempts, tail
from .journal_pending import pending

__all__ = ["journal"]

_EXIT_PROBLEM = 1


@click.group(cls=Commands)
@click.option(
    "--journal",
    "path",
    type=click.Path(dir_okay=False),
    help="The journal file or postgresql:// URL (default: $MANDAO_JOURNAL, else the config "
    "file's [journal] path, else the user data folder).",
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
    ctx.obj = {"journal": path, "config": config}


journal.add_command(list_attempts)
journal.add_command(tail)
journal.add_command(pending)


@journal.command()
@journal_options
def path(where: tuple[str | None, str | None], out: Output) -> None:
    """Print where the journal is (it need not exist yet)."""
    from .._journal.database import is_url, redact

    found = location(where)
    exists = is_url(found) or os.path.exists(found)
    shown = redact(found) if is_url(found) else found  # a URL's password is never shown
    out.result({"journal": shown, "exists": exists}, shown)


@journal.command()
@click.option("--expect-head", help="SEQ:HASH printed by an earlier verify; checked too.")
@journal_options
def verify(expect_head: str | None, where: tuple[str | None, str | None], out: Output) -> None:
    """Check the hash chain; exit 1 at the first modified, inserted or deleted row."""
    expect = None
    if expect_head:
        seq, _, digest = expect_head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter("expected SEQ:HASH", param_hint="--expect-head")
        expect = (int(seq), digest)
    result = open_journal(where).verify(expect_head=expect)
    problem = result.problem
    data = {
        "ok": result.ok, "rows": result.rows, "head": f"{result.head_seq}:{result.head_hash}",
        "anchor_seq": result.anchor_seq,
        "problem": None if problem is None else
        {"seq": problem.seq, "kind": problem.kind, "message": problem.message},
    }  # fmt: skip
    text = (
        f"ok: {result.rows} rows, head {result.head_seq}:{result.head_hash}"
        if problem is None
        else f"BROKEN at row {problem.seq}: {problem.kind}: {problem.message}"
    )
    out.result(data, text)
    sys.exit(0 if result.ok else _EXIT_PROBLEM)


@journal.command()
@click.option(
    "--before", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Delete rows before DATE."
)
@click.option(
    "--retention-days",
    type=click.IntRange(min=1),
    default=180,
    show_default=True,
    help="Refuse rows younger than this (below 180 needs --override).",
)
@click.option("--override", is_flag=True, help="Prune younger rows anyway (not recommended).")
@journal_options
def prune(
    before: Any, retention_days: int, override: bool, where: tuple[str | None, str | None],
    out: Output,
) -> None:  # fmt: skip
    """Delete rows before DATE (China time), keeping the chain verifiable.

    Vendor terms, item 6: send logs are kept unmodified for at least six months, so rows
    younger than the retention (180 days) are refused unless --override.
    """
    day: date = before.date()
    book = open_journal(where)
    if not override:
        checked = book.verify()
        if checked.problem is not None:
            p = checked.problem
            raise JournalError(
                f"the chain does not verify at row {p.seq} ({p.kind}: {p.message}): not "
                "pruning; `mandao journal verify` shows it (--override prunes anyway)"
            )
    result = book.prune(day, retention=timedelta(days=retention_days), override=override)
    out.result(
        {"removed": result.removed, "anchor_seq": result.anchor_seq,
         "anchor_hash": result.anchor_hash},
        f"removed {result.removed} rows; the chain now starts after row "
        f"{result.anchor_seq} ({result.anchor_hash or '-'})",
    )  # fmt: skip


def _output(target: str, *, private: bool) -> TextIO:
    """Where an export goes: stdout for ``-``, else the file, 0600 when ``private``
    (numbers whole: no more readable than the journal itself)."""
    if target == "-":
        return sys.stdout
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
        if private:
            os.fchmod(fd, 0o600)  # a file that was there keeps its mode otherwise
    except OSError as exc:
        raise click.BadParameter(
            f"cannot write {target}: {exc.strerror}", param_hint="-o"
        ) from None
    return open(fd, "w", encoding="utf-8", newline="")


@journal.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option("--since", help="From: a date, a China time, today, yesterday, or 2h / 3d ago.")
@click.option("--until", help="Up to (not including) this time; the same forms.")
@click.option("--mobile", help="Only attempts to this number (and only it in each row).")
@click.option("--rrid", help="Only attempts with this rrid.")
@click.option(
    "--outcome", type=click.Choice(["pending", "accepted", "rejected", "unknown", "unreachable"])
)
@click.option("--operation", type=click.Choice(["mdsmssend", "mdgxsend", "Register", "UnRegister"]))
@click.option(
    "--unmask",
    is_flag=True,
    help="Numbers whole, for a lawful inquiry (vendor terms, item 9); the file is made 0600.",
)
@click.option("-o", "--output", "target", default="-", help="The file to write (default stdout).")
@click.option(
    "--table",
    type=click.Choice(["attempts", "replies", "reports", "suppressions"]),
    default="attempts",
    show_default=True,
    help="What to export: the sends, or what came back (the filters are for attempts).",
)
@journal_options
def export(
    fmt: str, since: str | None, until: str | None, mobile: str | None, rrid: str | None,
    outcome: str | None, operation: str | None, unmask: bool, target: str, table: str,
    where: tuple[str | None, str | None], out: Output,
) -> None:  # fmt: skip
    """Write attempts (or replies, reports, the suppression list) as JSON Lines or CSV,
    filtered; numbers masked unless --unmask."""
    from .._journal import export as write
    from .._journal import export_inbound

    if table != "attempts":
        named = {"--since": since, "--until": until, "--mobile": mobile, "--rrid": rrid,
                 "--outcome": outcome, "--operation": operation}  # fmt: skip
        if given := [flag for flag, value in named.items() if value is not None]:
            raise click.UsageError(f"{', '.join(given)}: the filters are for attempts; "
                                   f"--table {table} exports the whole table")  # fmt: skip
        book, stream = open_journal(where), _output(target, private=unmask)
        try:
            count = export_inbound(book, stream, table, "csv" if fmt == "csv" else "jsonl",  # type: ignore[arg-type]
                                   unmask=unmask)  # fmt: skip
        finally:
            if target != "-":
                stream.close()
        click.echo(f"{count} row(s) of {table} exported", err=True)
        return

    number, _ = mobile_filter(mobile, whole=True)
    bounds = {
        "since": None if since is None else point_in_time(since, argument="--since"),
        "until": None if until is None else point_in_time(until, argument="--until"),
    }
    book = open_journal(where)
    stream = _output(target, private=unmask)
    try:
        count = write(
            book, stream, "csv" if fmt == "csv" else "jsonl", unmask=unmask,
            mobile=number, rrid=rrid, outcome=outcome, operation=operation, **bounds,
        )  # fmt: skip
    finally:
        if target != "-":
            stream.close()
    message = f"{count} attempt(s) exported" + (f" to {target}" if target != "-" else "")
    if target == "-":
        click.echo(message, err=True)  # stdout is the export itself
    else:
        out.result({"exported": count, "file": target, "unmasked": unmask}, message)
