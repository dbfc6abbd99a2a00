"""``mandao send-file FILE``: a campaign from a CSV file or an Excel sheet, resumable
through the journal.

The file becomes numbered records in :mod:`._table` (CSV as UTF-8 or GBK; ``.xlsx`` or
``.xlsm`` through openpyxl, the ``excel`` extra, imported only for such a file), so what
follows does not know which it was read from.

The whole file is read and checked before anything is sent. Rows go out by ``(ext, at)``
group, each group through :meth:`mandao.Client.send_many` (a text shared by several
numbers as group sends, the rest as personalised sends). With the journal on, a second
run skips every (mobile, text) the journal records as accepted and asks about the ones
whose outcome it does not know, so an interrupted campaign resumes without sending
anyone twice.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._errors import ConfigError, MandaoError, ValidationError
from ._common import (
    EXIT_PARTIAL,
    Output,
    client_options,
    common_options,
    guard_option,
    make_client,
)
from ._progress import progress_bar
from ._table import (
    AT_FORMAT,
    SHEET_SUFFIXES,
    Record,
    csv_rows,
    decode,
    read_sheet,
    records_of,
)

if TYPE_CHECKING:
    from .._client import Client
    from .._journal import Journal

__all__ = ["Row", "send_file"]

#: Delivery times as spreadsheets write them (China time); seconds may be left out.
_AT_FORMATS = (AT_FORMAT, "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
_SHOW = 20


@dataclass(frozen=True)
class Row:
    """One checked row: its line in the file, the number and the text as sent."""

    line: int
    mobile: str
    text: str
    ext: str
    at: str  # the ``stime`` field: "" for now, else yyyy-MM-dd HH:mm:ss China time


def _at(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    for fmt in _AT_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise ValidationError(f"expected 'yyyy-MM-dd HH:mm[:ss]', got {value!r}", argument="at")


def check_rows(client: Client, records: Iterable[Record]) -> tuple[list[Row], list[dict[str, Any]]]:
    """Every record checked as the send would check it: the rows, and the bad ones."""
    from .._compose.fields import validate_fields
    from .._compose.numbers import normalize_mobiles

    rows: list[Row] = []
    bad: list[dict[str, Any]] = []
    for line, record, extra in records:
        try:
            if extra:
                raise ValidationError("more cells than the header has columns", argument="row")
            mobile = normalize_mobiles([record["mobile"]])[0]
            # The text as it will be sent (signature added): what the journal records.
            sent = client.prepare_content(record["content"])
            ext, stime, _, _ = validate_fields(
                ext=record.get("ext", "").strip(),
                rrid=None,
                msgfmt=None,
                at=_at(record.get("at", "")),
            )
        except ValidationError as exc:
            column = "mobile" if exc.argument == "mobiles" else exc.argument
            bad.append({"line": line, "column": column, "message": str(exc)})
            continue
        rows.append(Row(line, mobile, sent, ext, stime))
    return rows, bad


def journal_states(
    journal: Journal, sn: str, rows: list[Row], window: timedelta
) -> dict[tuple[str, str], str]:
    """(mobile, text) → ``accepted`` or ``unknown`` (pending, or outcome unknown) from
    the journal's sends of the last ``window``; an accepted attempt wins over others."""
    wanted = {r.mobile for r in rows}
    since = datetime.now(UTC) - window
    states: dict[tuple[str, str], str] = {}
    for attempt in journal.attempts(since=since, sn=sn, operation=("mdsmssend", "mdgxsend")):
        if attempt.outcome in ("rejected", "unreachable"):
            continue  # refused or never delivered to a host: not sent
        for mobile in wanted.intersection(attempt.recipients):
            text = attempt.text_for(mobile)
            if text is None or states.get((mobile, text)) == "accepted":
                continue
            states[(mobile, text)] = "accepted" if attempt.outcome == "accepted" else "unknown"
    return states


def _groups(rows: list[Row]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in rows:
        groups.setdefault((row.ext, row.at), []).append((row.mobile, row.text))
    return groups


def _masked(row: Row) -> dict[str, Any]:
    from .._journal import mask

    short = row.text if len(row.text) <= 30 else row.text[:29] + "…"
    return {"line": row.line, "mobile": mask(row.mobile), "content": short}


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
@click.option("--signature", help="Add 【SIGNATURE】 to content that carries none.")
@guard_option
@client_options
@common_options
def send_file(
    file: Path,
    sheet: str | None,
    skip_invalid: bool,
    dry_run: bool,
    yes: bool,
    unknown: str | None,
    resume_window: str,
    signature: str | None,
    duplicate_guard: bool,
    settings: dict[str, Any],
    out: Output,
) -> None:
    """Send a campaign from FILE, a CSV file or an Excel sheet (.xlsx) with a header row:
    mobile,content[,ext][,at].

    Identical texts (same ext and at) go as group sends, the rest as personalised sends.
    Shows recipients, segments and billable messages and asks first (--yes does not).
    Rows the journal records as accepted are skipped, so a second run resumes an
    interrupted campaign; rows of unknown outcome are listed and asked about.
    """
    from .._config_file import parse_duration

    try:
        window = timedelta(seconds=parse_duration(resume_window, where="--resume-window"))
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--resume-window") from None
    rows_read: Iterable[tuple[int, list[str]]]
    encoding: str | None = None
    if file.suffix.lower() in SHEET_SUFFIXES:
        rows_read, sheet = read_sheet(file, sheet)
    elif sheet is not None:
        raise click.BadParameter("only for an .xlsx or .xlsm FILE", param_hint="--sheet")
    else:
        text, encoding = decode(file.read_bytes())
        rows_read = csv_rows(text)
    if signature is not None:
        settings = {**settings, "signature": signature}
    client = make_client(settings, duplicate_guard=duplicate_guard)
    with client:
        rows, bad = check_rows(client, records_of(rows_read))
        if bad and not skip_invalid:
            listed = "; ".join(f"line {b['line']} ({b['column']}): {b['message']}" for b in bad)
            raise ValidationError(
                f"{len(bad)} invalid row(s), nothing sent (--skip-invalid sends the others): "
                + listed,
                argument="FILE",
            )
        unique = list({(r.mobile, r.text, r.ext, r.at): r for r in reversed(rows)}.values())[::-1]
        report: dict[str, Any] = {
            "file": str(file),
            "encoding": encoding,
            "sheet": sheet,
            "rows": len(rows) + len(bad),
            "invalid": bad,
            "repeated": len(rows) - len(unique),
            "journal": str(client.journal.path) if client.journal is not None else None,
        }
        todo, done, unsure = unique, [], []
        if client.journal is not None:
            states = journal_states(client.journal, client.sn, unique, window)
            done = [r for r in unique if states.get((r.mobile, r.text)) == "accepted"]
            unsure = [r for r in unique if states.get((r.mobile, r.text)) == "unknown"]
            todo = [r for r in unique if (r.mobile, r.text) not in states]
        report["already_accepted"] = len(done)
        report["unknown"] = [_masked(r) for r in unsure]
        if not out.json:
            _describe_read(report, bad, unsure)
        if unsure:
            if unknown is None and not dry_run:
                if out.json:
                    raise ValidationError(
                        f"{len(unsure)} row(s) may have been sent already (outcome unknown); "
                        "say --resend-unknown or --skip-unknown",
                        argument="resend_unknown",
                    )
                again = click.confirm(
                    f"Send these {len(unsure)} again (they may get it twice)?",
                    default=False,
                    err=True,
                )
                unknown = "resend" if again else "skip"
            if unknown == "resend":
                todo = sorted([*todo, *unsure], key=lambda r: r.line)
                # The operator has just been shown these and said to send them: the guard
                # would refuse exactly them. The resume check above covers the rest.
                client.duplicate_guard = None
        report["unknown_action"] = unknown if unsure else None

        groups = _groups(todo)
        plans = {key: client.send_many(pairs, ext=key[0], at=key[1] or None, dry_run=True)
                 for key, pairs in groups.items()}  # fmt: skip
        report["groups"] = [
            {"ext": ext, "at": at or None, "recipients": p.estimate.recipients,
             "segments": p.estimate.segments, "billable": p.estimate.billable,
             "requests": len(p.requests), "operations": sorted({r.operation for r in p.requests})}
            for (ext, at), p in plans.items()
        ]  # fmt: skip
        report["recipients"] = sum(g["recipients"] for g in report["groups"])
        report["billable"] = sum(g["billable"] for g in report["groups"])
        if not todo:
            report["sent"] = 0
            out.result(report, "nothing to send")
            return
        if dry_run:
            out.result({"dry_run": True, **report}, lambda: _describe_plan(report, dry=True))
            return
        if not yes:
            if out.json:
                raise ValidationError(
                    f"would send {report['billable']} billable message(s): add --yes "
                    "(with --json there is no one to ask)",
                    argument="yes",
                )
            _describe_plan(report, dry=False)
            click.confirm("Send?", abort=True, err=True)
        # Every outcome is in the journal once its call returned: a resume reads them.
        complete = _send(client, groups, report, show_progress=not out.json)
    out.result(report, lambda: _describe_result(report))
    if not complete:
        raise SystemExit(EXIT_PARTIAL.code)


def _send(
    client: Client,
    groups: dict[tuple[str, str], list[tuple[str, str]]],
    report: dict[str, Any],
    *,
    show_progress: bool,
) -> bool:
    """Send group after group; the first failure stops the campaign. True if all went.

    With ``show_progress`` a bar of the rows sent goes to stderr (not with ``--json``).
    """
    from .send import _batches

    total = sum(len(pairs) for pairs in groups.values())
    sent_any = False
    complete = True
    with progress_bar(total, "sending", enabled=show_progress) as advance:
        for entry, ((ext, at), pairs) in zip(report["groups"], groups.items(), strict=True):
            if not complete:
                entry["state"] = "not_sent"
                continue
            try:
                result = client.send_many(pairs, ext=ext, at=at or None, progress=advance)
            except MandaoError as exc:
                if not sent_any:
                    raise  # nothing went out: the error's own exit code says what to do
                entry["state"], entry["error"] = "failed", str(exc)
                complete = False
                continue
            sent_any = True
            entry["state"] = "sent" if result.complete else "partial"
            entry["id"], entry["batches"] = result.id, _batches(result)
            entry["billable_sent"] = result.billable
            complete = complete and result.complete
    report["complete"] = complete
    report["sent"] = sum(g.get("billable_sent", 0) for g in report["groups"])
    return complete


def _describe_read(report: dict[str, Any], bad: list[dict[str, Any]], unsure: list[Row]) -> None:
    err = sys.stderr
    click.echo(
        f"{report['file']} ({report['encoding'] or 'sheet ' + report['sheet']}): "
        f"{report['rows']} row(s)"
        + (f", {len(bad)} invalid (skipped)" if bad else "")
        + (f", {report['repeated']} repeated (sent once)" if report["repeated"] else ""),
        file=err,
    )
    for b in bad[:_SHOW]:
        click.echo(f"  line {b['line']} ({b['column']}): {b['message']}", file=err)
    if report["journal"] is None:
        click.echo("journal off: rows sent by an earlier run cannot be skipped", file=err)
    elif report["already_accepted"]:
        click.echo(f"{report['already_accepted']} row(s) already accepted (skipped)", file=err)
    if unsure:
        click.echo(f"{len(unsure)} row(s) of unknown outcome (may have been sent):", file=err)
        for r in report["unknown"][:_SHOW]:
            click.echo(f"  line {r['line']}: {r['mobile']} {r['content']}", file=err)
        if len(unsure) > _SHOW:
            click.echo(f"  … and {len(unsure) - _SHOW} more", file=err)


def _describe_plan(report: dict[str, Any], *, dry: bool) -> None:
    err = None if dry else sys.stderr
    click.echo(
        f"{'dry run: ' if dry else ''}{report['recipients']} recipient(s) in "
        f"{len(report['groups'])} group(s), {report['billable']} billable message(s)"
        + ("; nothing sent" if dry else ""),
        file=err,
    )
    for g in report["groups"]:
        click.echo(
            f"  ext={g['ext'] or '-'} at={g['at'] or 'now'}: {g['recipients']} recipient(s), "
            f"up to {g['segments']} segment(s), {g['billable']} billable, "
            f"{g['requests']} request(s) ({'+'.join(g['operations'])})",
            file=err,
        )


def _describe_result(report: dict[str, Any]) -> None:
    state = "sent" if report["complete"] else "partly sent"
    click.echo(f"{state}: {report['sent']} of {report['billable']} billable message(s)")
    for g in report["groups"]:
        line = f"  ext={g['ext'] or '-'} at={g['at'] or 'now'}: {g['state']}"
        click.echo(line + (f" id={g['id']}" if g.get("id") else ""))
        if g.get("error"):
            click.echo(f"    {g['error']}", err=True)
        for b in g.get("batches", []):
            if b["state"] != "sent":
                click.echo(f"    batch {b['index']}: {b['state']}: {b['error']}", err=True)
