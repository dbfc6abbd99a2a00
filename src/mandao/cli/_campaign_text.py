"""What ``send-file`` says on the terminal (not with ``--json``): what it read of the file
and the journal, the rows the client leaves out, the plan it asks about, and what it sent.
Each takes the command's JSON report, so the text says what the JSON holds."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import click

from ._campaign import SHOW, Row
from .send import id_lines

__all__ = ["describe_plan", "describe_read", "describe_result", "describe_skipped"]

_GROUP_STATES = {
    "partial": "partly sent",
    "failed": "failed",
    "not_sent": "not sent (the campaign stopped at an earlier group)",
}


def describe_read(
    report: dict[str, Any], bad: list[dict[str, Any]], unsure: list[Row], sample: str | None,
    accepted: str | None,
) -> None:  # fmt: skip
    err = sys.stderr
    click.echo(
        f"{report['file']} ({report['encoding'] or 'sheet ' + report['sheet']}): "
        f"{report['rows']} row(s)"
        + (f", {len(bad)} invalid (skipped)" if bad else "")
        + (f", {report['repeated']} repeated (sent once)" if report["repeated"] else ""),
        file=err,
    )
    if sample is not None:  # the encoding was a guess: how a cell reads in it
        click.echo(sample, file=err)
    for b in bad[:SHOW]:
        click.echo(f"  line {b['line']} ({b['column']}): {b['message']}", file=err)
    if report["journal"] is None:
        click.echo("journal off: rows sent by an earlier run cannot be skipped", file=err)
    elif not report["resume"]:
        click.echo("--no-resume: rows sent by an earlier run are sent again", file=err)
    elif accepted is not None:  # what the resume skips, and how to send it again
        click.echo(accepted, file=err)
    if unsure:
        click.echo(f"{len(unsure)} row(s) of unknown outcome (may have been sent):", file=err)
        for r in report["unknown"][:SHOW]:
            click.echo(f"  line {r['line']}: {r['mobile']} {r['content']}", file=err)
        if len(unsure) > SHOW:
            click.echo(f"  … and {len(unsure) - SHOW} more", file=err)


def describe_skipped(skipped: list[dict[str, Any]]) -> None:
    if not skipped:
        return
    kinds = ", ".join(f"{n} {k}" for k, n in Counter(s["kind"] for s in skipped).items())
    click.echo(f"{len(skipped)} row(s) left out ({kinds}):", err=True)
    for s in skipped[:SHOW]:
        click.echo(f"  line {s['line']}: {s['mobile']}: {s['reason']}", err=True)
    if len(skipped) > SHOW:
        click.echo(f"  … and {len(skipped) - SHOW} more; --json lists each", err=True)


def describe_plan(report: dict[str, Any], *, dry: bool) -> None:
    err = None if dry else sys.stderr
    left = len(report["unknown"]) if report["unknown_action"] != "resend" else 0
    click.echo(
        f"{'dry run: ' if dry else ''}{report['recipients']} recipient(s) in "
        f"{len(report['groups'])} group(s), {report['billable']} billable message(s)"
        + ("; nothing sent" if dry else "")
        + (f"; {left} row(s) of unknown outcome left out" if left else ""),
        file=err,
    )
    for g in report["groups"]:
        click.echo(
            f"  ext={g['ext'] or '-'} at={g['at'] or 'now'}: {g['recipients']} recipient(s), "
            f"up to {g['segments']} segment(s), {g['billable']} billable, "
            f"{g['requests']} request(s) ({'+'.join(g['operations'])})",
            file=err,
        )


def describe_result(report: dict[str, Any]) -> None:
    state = "sent" if report["complete"] else "partly sent"
    click.echo(f"{state}: {report['sent']} of {report['billable']} billable message(s)")
    for g in report["groups"]:
        state = _GROUP_STATES.get(g["state"], g["state"])
        line = f"  ext={g['ext'] or '-'} at={g['at'] or 'now'}: {state}"
        # A group of several requests has an id for each: one line each, as `send` shows.
        ids = id_lines(g.get("batches", []))
        if ids:
            click.echo(f"{line}, one id per batch:")
            for entry in ids:
                click.echo(f"    {entry}")
        else:
            click.echo(line + (f" id={g['id']}" if g.get("id") else ""))
        if g.get("error"):
            click.echo(f"    {g['error']}", err=True)
        for line in g.get("problems", []):
            click.echo(f"    {line}", err=True)
