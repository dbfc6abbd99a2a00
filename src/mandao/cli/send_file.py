"""``mandao send-file FILE``: a campaign from a CSV file or an Excel sheet, resumable
through the journal.

The file becomes numbered records in :mod:`._table` (CSV as UTF-8, UTF-16 or GBK; ``.xlsx``
or ``.xlsm`` through openpyxl, the ``excel`` extra, imported only for such a file), so what
follows does not know which it was read from; :mod:`._campaign` checks the rows and reads
the journal.

The whole file is read and checked before anything is sent. Rows go out by ``(ext, at)``
group, each group through :meth:`mandao.Client.send_many` (a text shared by several
numbers as group sends, the rest as personalised sends). With the journal on, a second
run skips every (mobile, text) the journal records as accepted and asks about the ones
whose outcome it does not know, so an interrupted campaign resumes without sending
anyone twice; ``--no-resume`` sends the campaign again on purpose (the duplicate guard
still looks, within its own window).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._errors import ConfigError, MandaoError, ValidationError
from ._campaign import (
    Row,
    accepted_note,
    check_rows,
    journal_states,
    masked,
    refusal_by_rows,
    rows_by_group,
    unknown_note,
)
from ._campaign_text import describe_plan, describe_read, describe_result, describe_skipped
from ._common import EXIT_PARTIAL, Output, by_default, confirm
from ._interrupt import Tracker, interrupted, terminated_as_ctrl_c
from ._output import Refusal, cli_terms
from ._progress import progress_bar
from ._table import SHEET_SUFFIXES, csv_rows, decode, read_sheet, records_of, sample_line
from .send import batch_lines, batches_data, send_options, suppression_option

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["Row", "send_file"]

_RESUMED = (
    "the rows the journal shows accepted are skipped, and those of unknown outcome are "
    "listed for you to decide (--resend-unknown or --skip-unknown); settle them first, so "
    "fewer are left to guess: "
    "`mandao reports` marks sent each one a delivery report names (a report can take "
    "minutes to come; a request that never reached the gateway gets none), and `mandao "
    "journal pending --against FILE` settles them from a record of what the gateway accepted"
)
_RESUME = "to resume, run the same command again: " + _RESUMED
#: After --no-resume, the same command would send everything again.
_RESUME_AGAIN = (
    "to resume, run it again without --no-resume, with a --resume-window that reaches back "
    "to this run's start but not to the run before (else the rows that run sent, and this "
    "one had not reached, are skipped too): " + _RESUMED
)
_NO_JOURNAL = (
    "the journal is off ([journal] enabled = false), so a second run cannot skip what was "
    "sent: check the gateway's reports first"
)


@click.command("send-file")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--sheet", metavar="NAME", help="The worksheet of an .xlsx FILE to read (default: the first)."
)
@click.option("--skip-invalid", is_flag=True, help="Send the valid rows, list the bad ones.")
@click.option(
    "--dry-run", is_flag=True, help="Check the file and show what would go; send nothing."
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before sending.")
@click.option(
    "--resend-unknown",
    "unknown",
    flag_value="resend",
    help="Send again the rows whose earlier outcome the journal does not know.",
)
@click.option(
    "--skip-unknown", "unknown", flag_value="skip", help="Leave those rows out (do not ask)."
)
@click.option(
    "--resume-window",
    default="3d",
    show_default=True,
    help="How far back the journal is read for rows already sent (e.g. 12h, 3d).",
)
@click.option(
    "--no-resume",
    is_flag=True,
    help="Send again what earlier runs sent: skip no row the journal shows accepted, ask "
    "about none of unknown outcome (the duplicate guard still looks, within its window).",
)
@suppression_option("auto")
@send_options
def send_file(
    file: Path,
    sheet: str | None,
    skip_invalid: bool,
    dry_run: bool,
    yes: bool,
    unknown: str | None,
    resume_window: str,
    no_resume: bool,
    signature: str | None,
    require_signature: bool | None,
    msgfmt: str | None,
    suppression: str | None,
    duplicate_action: str,
    settings: dict[str, Any],
    out: Output,
) -> None:
    """Send a campaign from FILE, a CSV file or an Excel sheet (.xlsx) with a header row:
    mobile,content[,ext][,at].

    Identical texts (same ext and at) go as group sends, the rest as personalised sends.
    Shows recipients, segments and billable messages and asks first (--yes does not).
    Rows the journal records as accepted are skipped, so a second run resumes an
    interrupted campaign; rows of unknown outcome are listed and asked about.
    --no-resume sends the campaign again (add --no-duplicate-guard within the
    duplicate guard's window, 10 minutes unless set).
    """
    from .._compose.content import UnencodableWarning
    from .._compose.plan import RepeatedNumberWarning
    from ._common import make_client

    window = _window(resume_window, no_resume, unknown)
    rows_read: Iterable[tuple[int, list[str]]]
    encoding: str | None = None
    sample: str | None = None  # a guessed encoding's reading of a cell, to show
    if file.suffix.lower() in SHEET_SUFFIXES:
        rows_read, sheet = read_sheet(file, sheet)
    elif sheet is not None:
        raise click.BadParameter("only for an .xlsx or .xlsm FILE", param_hint="--sheet")
    else:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise Refusal(f"cannot read it: {exc.strerror}", argument=str(file)) from None
        text, encoding = decode(raw, file.name)
        rows_read, sample = csv_rows(text, file.name), sample_line(text, encoding, file.name)
    settings = {**settings, "signature": signature, "require_signature": require_signature,
                "suppression": suppression or "auto"}  # fmt: skip
    client = make_client(settings, duplicate_action=duplicate_action)
    with client:
        rows, bad, notes = check_rows(client, records_of(rows_read, file.name, encoding), msgfmt)
        if bad and not skip_invalid:
            raise Refusal(
                f"{len(bad)} invalid row(s), nothing sent (--skip-invalid sends the others)",
                argument=file.name,
                details=[f"line {b['line']} ({b['column']}): {b['message']}" for b in bad],
                extra={"rows": bad},
            )
        for note in notes:
            out.warn(note)
        # Each of those was named by its line just now: not again by each group's send.
        warnings.filterwarnings("ignore", category=UnencodableWarning)
        warnings.filterwarnings("ignore", category=RepeatedNumberWarning)
        unique = list({(r.mobile, r.text, r.ext, r.at): r for r in reversed(rows)}.values())[::-1]
        report: dict[str, Any] = {
            "file": str(file),
            "encoding": encoding,
            "sheet": sheet,
            "rows": len(rows) + len(bad),
            "invalid": bad,
            "repeated": len(rows) - len(unique),
            "warnings": [" ".join(cli_terms(note).split()) for note in notes],  # as on stderr
            "journal": str(client.journal.path) if client.journal is not None else None,
        }
        todo, done, unsure = unique, [], []
        report["resume"] = client.journal is not None and not no_resume
        if client.journal is not None and not no_resume:
            states = journal_states(client.journal, client.sn, unique, window)
            done = [r for r in unique if states.get((r.mobile, r.text)) == "accepted"]
            unsure = [r for r in unique if states.get((r.mobile, r.text)) == "unknown"]
            todo = [r for r in unique if (r.mobile, r.text) not in states]
        report["already_accepted"] = len(done)
        report["unknown"] = [masked(r) for r in unsure]
        accepted = accepted_note(client, done, window) if done else None
        if not out.json:
            describe_read(report, bad, unsure, sample, accepted)
        if unsure:
            if unknown is None and not dry_run:
                if out.json:
                    raise ValidationError(
                        f"{len(unsure)} row(s) may have been sent already (outcome unknown); "
                        "say --resend-unknown or --skip-unknown",
                        argument="resend_unknown",
                    )
                again = confirm(
                    f"Send these {len(unsure)} again (they may get it twice)?",
                    remedy="pass --resend-unknown or --skip-unknown to say without being asked",
                    argument="resend_unknown",
                )
                unknown = "resend" if again else "skip"
            if unknown == "resend":
                todo = sorted([*todo, *unsure], key=lambda r: r.line)
                # The operator has just been shown these and said to send them: the guard
                # would refuse exactly them. The resume check above covers the rest.
                client.duplicate_guard = None
        report["unknown_action"] = unknown if unsure else None
        if dry_run and unsure:  # a dry run asks nothing: say what this plan does with them
            report["unknown_note"] = unknown_note(len(unsure), unknown, as_json=out.json)
            if not out.json:
                click.echo(report["unknown_note"], err=True)

        grouped = rows_by_group(todo)
        try:
            plans = {key: client.send_many([(r.mobile, r.text) for r in rows], ext=key[0],
                                           at=key[1] or None, msgfmt=msgfmt, dry_run=True)
                     for key, rows in grouped.items()}  # fmt: skip
        except ValidationError as exc:
            # The client's refusal (--suppression error, the guard) names numbers: say
            # which rows.
            named = exc.argument == "mobiles" and refusal_by_rows(client, todo, file.name)
            if not named:
                raise
            raise named from None
        # What the client leaves out (the suppression list, the duplicate guard), by row.
        report["skipped"] = [
            {**masked(grouped[key][skip.position]), "kind": skip.kind, "reason": skip.reason}
            for key, plan in plans.items() for skip in plan.skipped
        ]  # fmt: skip
        if not out.json:
            describe_skipped(report["skipped"])
        # A group whose every row is left out sends nothing, and says nothing of itself.
        sending = {key: plan for key, plan in plans.items() if plan.requests}
        report["groups"] = [
            {"ext": ext, "at": at or None,
             "recipients": sum(len(r.recipients) for r in p.requests),
             "segments": p.estimate.segments, "billable": p.estimate.billable,
             "requests": len(p.requests), "operations": sorted({r.operation for r in p.requests})}
            for (ext, at), p in sending.items()
        ]  # fmt: skip
        report["recipients"] = sum(g["recipients"] for g in report["groups"])
        report["billable"] = sum(g["billable"] for g in report["groups"])
        groups = {key: [(r.mobile, r.text) for r in grouped[key]] for key in sending}
        if not groups:
            report["sent"] = 0
            left = len(unsure) if dry_run and unknown != "resend" else 0  # the note says why
            out.result(report, "nothing to send" + (
                f"; {left} row(s) of unknown outcome left out" if left else "") + (
                f"; {accepted}" if accepted else ""))  # fmt: skip
            return
        if dry_run:
            out.result({"dry_run": True, **report}, lambda: describe_plan(report, dry=True))
            return
        if not yes:
            if out.json:
                raise ValidationError(
                    f"would send {report['billable']} billable message(s): add --yes "
                    "(with --json there is no one to ask)",
                    argument="yes",
                )
            describe_plan(report, dry=False)
            confirm("Send?", remedy="pass --yes to send without being asked", abort=True)
        # Every outcome is in the journal once its call returned: a resume reads them.
        tracker = Tracker(lambda batch: None)
        try:
            with terminated_as_ctrl_c():
                complete = _send(client, groups, report, tracker, msgfmt,
                                 show_progress=not out.json)  # fmt: skip
        except KeyboardInterrupt as stop:
            interrupted(
                out, journal=client.journal, sn=client.sn, tracker=tracker,
                planned=[(r.mobile, r.text) for r in todo],
                resume=_NO_JOURNAL if client.journal is None else _RESUME_AGAIN if no_resume
                else _RESUME, by=stop,
            )  # fmt: skip
    out.result(report, lambda: describe_result(report))
    if not complete:
        raise SystemExit(EXIT_PARTIAL.code)


def _window(resume_window: str, no_resume: bool, unknown: str | None) -> timedelta:
    """``--resume-window`` as a timedelta, checked against ``--no-resume``, with which
    neither it nor ``--resend-unknown``/``--skip-unknown`` agrees: it reads no journal."""
    from .._config_file import parse_duration

    if no_resume:
        given = [] if by_default("resume_window") else ["--resume-window"]
        given += [f"--{unknown}-unknown"] if unknown else []
        if given:
            raise click.UsageError(
                f"--no-resume and {given[0]} disagree: with --no-resume no earlier run is "
                f"read, so {given[0]} has nothing to do; give one of them"
            )
    try:
        return timedelta(seconds=parse_duration(resume_window, where="--resume-window"))
    except ConfigError as exc:
        message = str(exc).removeprefix("--resume-window: ")  # click names the flag
        if "positive" in message:
            message += "; to skip nothing an earlier run sent, give --no-resume instead"
        raise click.BadParameter(message, param_hint="--resume-window") from None


def _send(
    client: Client,
    groups: dict[tuple[str, str], list[tuple[str, str]]],
    report: dict[str, Any],
    tracker: Tracker,
    msgfmt: str | None,
    *,
    show_progress: bool,
) -> bool:
    """Send group after group; the first failure stops the campaign. True if all went.

    With ``show_progress`` a bar of the rows sent goes to stderr (not with ``--json``);
    ``tracker`` hears of every finished batch (for the summary of an interruption).
    """
    # What the plans carry (the guard's skips left out), not the rows read.
    total = sum(g["recipients"] for g in report["groups"])
    sent_any = False
    complete = True
    with progress_bar(total, "sending", enabled=show_progress) as bar:
        tracker.then = bar
        advance = tracker
        for entry, ((ext, at), pairs) in zip(report["groups"], groups.items(), strict=True):
            if not complete:
                entry["state"] = "not_sent"
                continue
            try:
                result = client.send_many(
                    pairs, ext=ext, at=at or None, msgfmt=msgfmt, progress=advance
                )
            except MandaoError as exc:
                if not sent_any:
                    raise  # nothing went out: the error's own exit code says what to do
                entry["state"], entry["error"] = "failed", str(exc)
                complete = False
                continue
            sent_any = True
            entry["state"] = "sent" if result.complete else "partial"
            entry["id"], entry["batches"] = result.id, batches_data(result.batches)
            entry["problems"] = batch_lines(result.batches)
            entry["billable_sent"] = result.billable
            complete = complete and result.complete
    report["complete"] = complete
    report["sent"] = sum(g.get("billable_sent", 0) for g in report["groups"])
    return complete
