"""``mandao send NUMBERS... --text TEXT``: one text to many numbers."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .._errors import InvalidRecipients, ValidationError
from ._campaign import opted_out_note
from ._common import (
    EXIT_PARTIAL,
    Output,
    by_default,
    client_options,
    common_options,
    confirm,
    guard_option,
    make_client,
)
from ._inputs import Numbers, decode, delivery_time, parse_numbers
from ._interrupt import Tracker, interrupted, terminated_as_ctrl_c
from ._output import Refusal
from ._progress import progress_bar

if TYPE_CHECKING:
    from .._compose.segments import Estimate
    from .._results import Batch, DryRun, SendResult

__all__ = [
    "CONFIRM_ABOVE",
    "batch_lines",
    "batches_data",
    "id_lines",
    "plural",
    "send",
    "send_options",
]

#: A send billing more messages than this asks for confirmation first (or ``--yes``).
CONFIRM_ABOVE = 100
_MSGFMTS = ["0", "3", "4", "8", "15"]
_STATE_TEXT = {
    "failed": "refused by the gateway (not sent)",
    "unknown": "outcome unknown (may have been sent; do not resend it blindly)",
    "not_sent": "not sent (the send stopped at an earlier batch)",
}


def plural(count: int, word: str) -> str:
    """``1 number``, ``2 numbers``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def batches_data(batches: Iterable[Batch]) -> list[dict[str, Any]]:
    """Each batch for the JSON output."""
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
        for b in batches
    ]


def batch_lines(batches: Iterable[Batch]) -> list[str]:
    """One line for each batch that was not sent, saying what became of it."""
    return [
        f"batch {b.index + 1} of {b.total} ({plural(len(b.recipients), 'number')}): "
        f"{_STATE_TEXT.get(b.state, b.state)}" + (f": {b.error}" if b.error else "")
        for b in batches
        if b.state != "sent"
    ]


def id_lines(batches: list[dict[str, Any]]) -> list[str]:
    """For a call of several batches (:func:`batches_data`), one line for each one sent,
    with its id: each request has its own, and a report or a reconciliation needs each."""
    if len(batches) < 2:
        return []
    return [
        f"batch {b['index'] + 1} of {len(batches)} ({plural(b['recipients'], 'number')}): "
        f"id {b['id']}" + (f", rrid {b['rrid']}" if b["rrid"] and b["rrid"] != b["id"] else "")
        for b in batches
        if b["state"] == "sent"
    ]


def send_options(func: Any) -> Any:
    """What ``send`` and ``send-file`` both take: --signature, --no-require-signature,
    --msgfmt, the duplicate guard's flags, the settings flags, --json and -v."""
    for option in (
        click.option(
            "--msgfmt",
            type=click.Choice(_MSGFMTS),
            help="Message format: 8 is UCS2 (any character, emoji too); 15 GB; 0 ASCII "
            "(default: 0 for ASCII text, 15 otherwise).",
        ),
        click.option(
            "--no-require-signature",
            "require_signature",
            flag_value=False,
            default=None,
            help="Send a text that carries no 【signature】 as it is.",
        ),
        click.option("--signature", help="Add 【SIGNATURE】 to a text that carries none."),
    ):
        func = option(func)
    return common_options(client_options(guard_option(func)))


F = TypeVar("F", bound=Callable[..., Any])


def suppression_option(default: str) -> Callable[[F], F]:
    """``--suppression``: what the send does with numbers on the journal's suppression list
    (``auto``: skip them, unless the journal is off)."""
    return click.option(
        "--suppression",
        type=click.Choice(["skip", "error", "off"]),
        default=None if default == "auto" else default,
        show_default=default != "auto",
        help="Numbers on the suppression list (opt-out replies, `mandao suppress`): skip "
        "them, refuse the send (error), or send anyway (off: verification codes)"
        + (". Default: skip, or off when the journal is off." if default == "auto" else "."),
    )


def _settings(
    settings: dict[str, Any], signature: str | None, require_signature: bool | None,
    suppression: str = "off",
) -> dict[str, Any]:  # fmt: skip
    return {**settings, "signature": signature, "require_signature": require_signature,
            "suppression": suppression}  # fmt: skip


def _numbers(numbers: tuple[str, ...], number_file: str | None) -> tuple[Numbers, bool]:
    """The numbers given, each with its origin; and whether any came from stdin."""
    given = Numbers([], [])
    given.add([(n, f"argument {i}") for i, n in enumerate(numbers, start=1) if n != "-"])
    stdin = "-" in numbers or number_file == "-"
    if stdin:
        raw = sys.stdin.buffer.read()
        given.add(parse_numbers(decode(raw, "stdin")[0], "stdin"))
    if number_file is not None and number_file != "-":
        from pathlib import Path

        path = Path(number_file)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise Refusal(f"cannot read it: {exc.strerror}", argument=number_file) from None
        given.add(parse_numbers(decode(raw, path.name)[0], path.name))
    return given, stdin


def _invalid(exc: InvalidRecipients, given: Numbers) -> Refusal:
    lines = [f"{given.where(pos)}: {value!r}: {reason}" for pos, value, reason in exc.invalid]
    return Refusal(
        f"{plural(len(exc.invalid), 'invalid number')}, nothing sent (--skip-invalid sends "
        "to the others)",
        argument="NUMBERS",
        details=lines,
        extra={
            "type": "InvalidRecipients",  # what the library raised, for scripts
            "argument": "mobiles",
            "invalid": [
                {"position": pos + 1, "where": given.where(pos), "value": value, "reason": reason}
                for pos, value, reason in exc.invalid
            ],
        },
    )


@click.command()
@click.argument("numbers", nargs=-1)
@click.option("--text", "-t", required=True, help="The message content.")
@click.option(
    "--file",
    "-f",
    "number_file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
    help="Read numbers from FILE ('-' for stdin), one a line or comma-separated.",
)
@click.option("--at", help="Deliver at this time (China time), e.g. '2026-11-26 09:00'.")
@click.option("--ext", default="", help="Extension digits (up to 9).")
@click.option("--rrid", help="Up to 18 digits identifying this submission.")
@click.option("--skip-invalid", is_flag=True, help="Send to the valid numbers, list the rest.")
@click.option("--dry-run", is_flag=True, help="Build the requests and show them; send nothing.")
@click.option(
    "--yes", "-y", is_flag=True, help=f"Do not ask before sending over {CONFIRM_ABOVE} messages."
)
@suppression_option("off")
@send_options
def send(
    numbers: tuple[str, ...],
    text: str,
    number_file: str | None,
    at: str | None,
    ext: str,
    rrid: str | None,
    skip_invalid: bool,
    dry_run: bool,
    yes: bool,
    signature: str | None,
    require_signature: bool | None,
    msgfmt: str | None,
    suppression: str,
    duplicate_action: str,
    settings: dict[str, Any],
    out: Output,
) -> None:
    """Send TEXT to NUMBERS (also from --file, or '-' for stdin).

    Before a send of more than 100 billable messages, shows recipients, segments and
    billable messages and asks to go on (--yes skips the question). A send of several
    batches shows a progress bar on stderr (not with --json). Numbers the journal shows
    were sent the same text in the last 10 minutes refuse the send (exit 2), unless
    --duplicate-action skip (send to the others) or --no-duplicate-guard.
    """
    given, from_stdin = _numbers(numbers, number_file)
    if not given.values:
        raise click.UsageError("no numbers: give NUMBERS, --file FILE, or '-' for stdin")
    options: dict[str, Any] = {
        "ext": ext, "at": delivery_time(at or ""), "rrid": rrid, "msgfmt": msgfmt,
        "skip_invalid": skip_invalid,
    }  # fmt: skip
    client = make_client(
        _settings(settings, signature, require_signature, suppression),
        duplicate_action=duplicate_action,
    )
    with client:
        try:
            plan = client.send(given.values, text, dry_run=True, **options)
        except InvalidRecipients as exc:
            raise _invalid(exc, given) from None
        said = by_default("suppression") and opted_out_note(client, plan.recipients, ext)
        if said:  # the default, off, sends to them: said, as an explicit off is not
            out.warn(said)
        if dry_run:
            out.result(_dry_data(plan, given), lambda: _show_dry(plan, given))
            return
        cost = _cost(plan)
        if cost.billable > CONFIRM_ABOVE and not yes:
            question = (
                f"Send to {cost.recipients} recipients, {cost.segments} segment(s) each: "
                f"{cost.billable} billable messages?"
            )
            if from_stdin or out.json:  # as send-file's and a question no one answered
                raise ValidationError(
                    f"{question[:-1]}: add --yes to confirm (numbers came from stdin "
                    "or --json was given, so there is no one to ask)",
                    argument="yes",
                )
            confirm(question, remedy="pass --yes to send without being asked", abort=True)
        several = len(plan.requests) > 1
        tracker: Tracker | None = None
        try:
            # The bar is put away before a Ctrl-C's summary is said (not drawn after it).
            with progress_bar(cost.recipients, "sending", enabled=several and not out.json) as bar:
                tracker = Tracker(bar)
                with terminated_as_ctrl_c():
                    result = client.send(given.values, text, progress=tracker, **options)
        except KeyboardInterrupt as stop:
            if tracker is None:  # before the send began: nothing was sent
                raise
            sent_text = client.prepare_content(text)
            interrupted(
                out, journal=client.journal, sn=client.sn, tracker=tracker,
                planned=[(m, sent_text) for r in plan.requests for m in r.recipients],
                resume=_RESUME if client.journal is not None else _NO_RESUME, by=stop,
            )  # fmt: skip
    out.result(_data(result, given), lambda: _show(result, given))
    if not result.complete:
        raise SystemExit(EXIT_PARTIAL.code)


_RESUME = (
    "to send to the rest, run the same command with --duplicate-action skip: the numbers "
    "the journal shows sent, or of unknown outcome, are left out; `mandao journal pending` "
    "lists the unknown ones"
)
_NO_RESUME = (
    "the journal is off, so mandao cannot tell which numbers went: check the gateway's "
    "reports before sending again"
)


def _cost(plan: DryRun) -> Estimate:
    """What the requests carry: the numbers the guard (or the suppression list) left in,
    each billed the text's segments (one text: ``send`` is a group send)."""
    from dataclasses import replace

    recipients = sum(len(r.recipients) for r in plan.requests)
    e = plan.estimate
    return replace(e, recipients=recipients, billable=e.segments * recipients)


def _skipped(skipped: Iterable[tuple[int, str, str]], given: Numbers) -> list[dict[str, Any]]:
    """Each number left out: its 1-based position, where it came from, why (and the kind
    of why: invalid, duplicate, suppressed). A valid number is masked (``where`` finds it);
    an invalid value is shown whole, to be fixed."""
    from .._journal import mask

    found = []
    for pos, value, reason in skipped:
        kind = reason.partition(":")[0]
        shown = value if kind == "invalid" else mask(value)
        found.append({"position": pos + 1, "where": given.where(pos), "value": shown,
                      "reason": reason, "kind": kind})  # fmt: skip
    return found


def _dry_data(plan: DryRun, given: Numbers) -> dict[str, Any]:
    return {
        "dry_run": True,
        "estimate": vars(_cost(plan)),
        "requests": [
            {"operation": r.operation, "method": r.method, "url": r.url, "body": r.body}
            for r in plan.requests
        ],
        "skipped": _skipped(plan.skipped, given),
    }


#: Numbers left out listed one a line at most; the rest are counted by why (all: --json).
_LISTED = 20


def _show_skipped(skipped: Iterable[tuple[int, str, str]], given: Numbers) -> None:
    items = _skipped(skipped, given)
    for item in items[:_LISTED]:
        click.echo(f"  skipped {item['where']}: {item['value']!r}: {item['reason']}", err=True)
    if len(items) > _LISTED:
        kinds = Counter(item["kind"] for item in items[_LISTED:])
        why = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
        click.echo(f"  … and {len(items) - _LISTED} more skipped ({why}); --json lists each",
                   err=True)  # fmt: skip


def _show_dry(plan: DryRun, given: Numbers) -> None:
    e = _cost(plan)
    click.echo(
        f"dry run: {plural(e.recipients, 'recipient')}, {e.segments} segment(s) each, "
        f"{e.billable} billable, {plural(len(plan.requests), 'request')}; nothing sent"
    )
    _show_skipped(plan.skipped, given)
    for r in plan.requests:
        click.echo(f"\n{r.method} {r.url}\n{r.body}")


def _data(result: SendResult, given: Numbers) -> dict[str, Any]:
    return {
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
        "batches": batches_data(result.batches),
        "skipped": _skipped(result.skipped, given),
        "duplicates": [list(d) for d in result.duplicates],
    }


def _show(result: SendResult, given: Numbers) -> None:
    from .._config import short_host

    if not result.batches:
        click.echo("nothing sent: every number was left out")
    else:
        sent = len(result.sent)
        head = "sent" if result.complete else "partly sent"
        if result.complete and result.scheduled:
            head = f"scheduled for {result.scheduled} (China time)"
        total = len(result.batches)
        done = sum(1 for b in result.batches if b.state == "sent")
        parts = f" in {done} of {total} batches" if total > 1 else ""
        ids = id_lines(batches_data(result.batches))
        via = f"via {short_host(result.host)} ({result.protocol})"
        click.echo(
            f"{head}: {sent} of {plural(len(result.recipients), 'number')}{parts}, "
            f"{result.segments} segment(s) each, {result.billable} billable; "
            + (
                f"{via}; one id per batch:"
                if ids
                else f"id {result.id}"
                + (f", rrid {result.rrid}" if result.rrid else "")
                + f", {via}"
            )
        )
        for line in ids:
            click.echo(f"  {line}")
    _show_skipped(result.skipped, given)
    if result.duplicates:
        click.echo(f"  {plural(len(result.duplicates), 'number')} given twice, sent once", err=True)
    for line in batch_lines(result.batches):
        click.echo(f"  {line}", err=True)
