"""``mandao send NUMBERS... --text TEXT``: one text to many numbers."""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

import click

from ._common import (
    EXIT_PARTIAL,
    Output,
    client_options,
    common_options,
    guard_option,
    make_client,
)
from ._progress import progress_bar

__all__ = ["CONFIRM_ABOVE", "read_numbers", "send"]

#: A send billing more messages than this asks for confirmation first (or ``--yes``).
CONFIRM_ABOVE = 100

_SPLIT = re.compile(r"[,;\s]+")


def read_numbers(stream: TextIO) -> list[str]:
    """Numbers from a file: one a line, or separated by commas/spaces; ``#`` starts a comment.

    Spaces inside one number (``139 0013 9000``) are kept only when the line holds one number.
    """
    found: list[str] = []
    for line in stream:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "," in line or ";" in line:
            found.extend(p.strip() for p in line.split(",") if p.strip())
        else:
            found.append(line)
    return found


def _batches(result: Any) -> list[dict[str, Any]]:
    return [
        {
            "index": b.index,
            "operation": b.operation,
            "state": b.state,
            "recipients": len(b.recipients),
            "billable": b.billable,
            "id": b.id,
            "rrid": b.rrid,
            "error": str(b.error) if b.error else None,
        }
        for b in result.batches
    ]


@click.command()
@click.argument("numbers", nargs=-1)
@click.option("--text", "-t", required=True, help="The message content.")
@click.option(
    "--file",
    "-f",
    "number_file",
    type=click.File("r", encoding="utf-8"),
    help="Read numbers from FILE ('-' for stdin), one a line or comma-separated.",
)
@click.option("--at", help="Deliver at this time (China time), e.g. '2026-11-26 09:00'.")
@click.option("--ext", default="", help="Extension digits (up to 9).")
@click.option("--rrid", help="Up to 18 digits identifying this submission.")
@click.option("--signature", help="Add 【SIGNATURE】 when the text carries none.")
@click.option("--skip-invalid", is_flag=True, help="Send to the valid numbers, list the rest.")
@click.option("--dry-run", is_flag=True, help="Build the requests and show them; send nothing.")
@click.option(
    "--yes", "-y", is_flag=True, help=f"Do not ask before sending over {CONFIRM_ABOVE} messages."
)
@guard_option
@client_options
@common_options
def send(
    numbers: tuple[str, ...],
    text: str,
    number_file: TextIO | None,
    at: str | None,
    ext: str,
    rrid: str | None,
    signature: str | None,
    skip_invalid: bool,
    dry_run: bool,
    yes: bool,
    duplicate_guard: bool,
    settings: dict[str, Any],
    out: Output,
) -> None:
    """Send TEXT to NUMBERS (also from --file, or '-' for stdin).

    Before a send of more than 100 billable messages, shows recipients, segments and
    billable messages and asks to go on (--yes skips the question). A send of several
    batches shows a progress bar on stderr (not with --json). Numbers the journal
    shows were sent the same text in the last 10 minutes refuse the send (exit 2), unless
    --no-duplicate-guard.
    """
    mobiles = [n for n in numbers if n != "-"]
    from_stdin = "-" in numbers or (number_file is not None and number_file.name == "<stdin>")
    if "-" in numbers:
        mobiles += read_numbers(sys.stdin)
    if number_file is not None:
        mobiles += read_numbers(number_file)
    if not mobiles:
        raise click.UsageError("no numbers: give NUMBERS, --file FILE, or '-' for stdin")

    if signature is not None:
        settings = {**settings, "signature": signature}
    client = make_client(settings, duplicate_guard=duplicate_guard)
    with client:
        cost = client.estimate(mobiles, text, skip_invalid=skip_invalid)
        if dry_run:
            run = client.send(
                mobiles, text, ext=ext, at=at, rrid=rrid, skip_invalid=skip_invalid, dry_run=True
            )
            data = {
                "dry_run": True,
                "estimate": vars(run.estimate),
                "requests": [
                    {"operation": r.operation, "method": r.method, "url": r.url, "body": r.body}
                    for r in run.requests
                ],
                "skipped": [list(s) for s in run.skipped],
            }

            def show_dry() -> None:
                e = run.estimate
                click.echo(
                    f"dry run: {e.recipients} recipient(s), {e.segments} segment(s), "
                    f"{e.billable} billable, {len(run.requests)} request(s); nothing sent"
                )
                for r in run.requests:
                    click.echo(f"\n{r.method} {r.url}\n{r.body}")

            out.result(data, show_dry)
            return
        if cost.billable > CONFIRM_ABOVE and not yes:
            question = (
                f"Send to {cost.recipients} recipients, {cost.segments} segment(s) each: "
                f"{cost.billable} billable messages?"
            )
            if from_stdin or out.json:
                raise click.UsageError(
                    f"{question[:-1]}: add --yes to confirm (numbers came from stdin "
                    "or --json was given, so there is no one to ask)"
                )
            click.confirm(question, abort=True, err=True)
        from .._config import DEFAULT_BATCH

        # The command line never sets a batch size (no flag, no config key): the client's
        # is the default, so the estimate's recipients say whether there is more than one.
        several = cost.recipients > DEFAULT_BATCH
        with progress_bar(cost.recipients, "sending", enabled=several and not out.json) as bar:
            result = client.send(
                mobiles, text, ext=ext, at=at, rrid=rrid, skip_invalid=skip_invalid, progress=bar
            )

    data = {
        "id": result.id,
        "rrid": result.rrid,
        "operation": result.operation,
        "host": result.host,
        "protocol": result.protocol,
        "recipients": len(result.recipients),
        "segments": result.segments,
        "billable": result.billable,
        "scheduled": result.scheduled,
        "complete": result.complete,
        "batches": _batches(result),
        "skipped": [list(s) for s in result.skipped],
        "duplicates": [list(d) for d in result.duplicates],
    }

    def show() -> None:
        click.echo(repr(result))
        for pos, value, reason in result.skipped:
            click.echo(f"  skipped #{pos} {value!r}: {reason}")
        for batch in result.batches:
            if batch.state != "sent":
                click.echo(f"  batch {batch.index}: {batch.state}: {batch.error}", err=True)

    out.result(data, show)
    if not result.complete:
        raise SystemExit(EXIT_PARTIAL.code)
