"""A campaign's rows: checked as the send would check them, and held against the journal.

What ``send-file`` does before it sends: every record of the file becomes a :class:`Row`
(the number normalised, the text as it will be sent, the signature added) or a bad row
with its line and column; then the journal says which (mobile, text) pairs an earlier run
got accepted, and which are of unknown outcome.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._errors import InvalidRecipients, ValidationError
from .._journal.content import pairs_of
from ._inputs import delivery_time
from ._output import Refusal, cli_terms
from ._table import ErrorCell, Record, first_of

if TYPE_CHECKING:
    from .._client import Client
    from .._journal import Journal

__all__ = [
    "SHOW",
    "Row",
    "accepted_note",
    "check_rows",
    "journal_states",
    "masked",
    "opted_out_note",
    "refusal_by_rows",
    "rows_by_group",
    "unknown_note",
]

#: How many rows a listing on the terminal shows, and a refusal names, before "and N more".
SHOW = 20
#: A number as a spreadsheet shows one too long for its column: ``1.39E+10``.
_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]*)?[eE]\+?[0-9]+")
_AS_NUMBER = (
    "the column was formatted as a number, so the spreadsheet wrote it in scientific "
    "notation and its last digits are lost: format the column as text and type or paste "
    "the numbers in again"
)
#: A resolution's outcome (``Journal.resolve``) → what the resume makes of the attempt.
_RESOLVED = {"sent": "accepted", "not-sent": None}


@dataclass(frozen=True)
class Row:
    """One checked row: its line in the file, the number and the text as sent."""

    line: int
    mobile: str
    text: str
    ext: str
    at: str  # the ``stime`` field: "" for now, else yyyy-MM-dd HH:mm:ss China time


def check_rows(
    client: Client, records: Iterable[Record], msgfmt: str | None = None
) -> tuple[list[Row], list[dict[str, Any]], list[str]]:
    """Every record checked as the send would check it: the rows, the bad ones, and a
    note for each row whose text GBK cannot carry (when ``msgfmt`` sends GB text)."""
    from .._compose.content import UnencodableWarning
    from .._compose.fields import validate_fields
    from .._compose.numbers import normalize_mobiles

    rows: list[Row] = []
    bad: list[dict[str, Any]] = []
    notes: list[str] = []
    gb = msgfmt in (None, "15")
    for line, record, extra in records:
        try:
            if extra:
                raise ValidationError("more cells than the header has columns", argument="row")
            _no_errors(record)
            mobile = normalize_mobiles([record["mobile"]])[0]
            # The text as it will be sent (signature added): what the journal records.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UnencodableWarning)
                sent = client.prepare_content(record["content"])
            if gb:
                notes += [
                    f"line {line}: {w.message}".replace("content: ", "", 1)
                    for w in caught
                    if issubclass(w.category, UnencodableWarning)
                ]
            ext, stime, _, _ = validate_fields(
                ext=record.get("ext", "").strip(),
                rrid=None,
                msgfmt=msgfmt,
                at=delivery_time(record.get("at", ""), argument="at"),
            )
        except InvalidRecipients as exc:  # one number in a row: no count, no position
            _, value, reason = exc.invalid[0]
            if _SCIENTIFIC.fullmatch(value.strip()):
                reason += f"; {_AS_NUMBER}"
            bad.append({"line": line, "column": "mobile", "message": f"{value!r}: {reason}"})
            continue
        except ValidationError as exc:
            column = "mobile" if exc.argument == "mobiles" else exc.argument
            message = cli_terms(exc.message.removeprefix(f"{exc.argument}: "))
            bad.append({"line": line, "column": column, "message": message})
            continue
        rows.append(Row(line, mobile, sent, ext, stime))
    return rows, bad, notes + _repeated(rows)


def _no_errors(record: dict[str, str]) -> None:
    """Refuse a record with a cell whose value is an error: it would be sent as that text."""
    errors = [(column, value) for column, value in record.items() if isinstance(value, ErrorCell)]
    if errors:
        named = ", ".join(f"{value.cell} ({value})" for _, value in errors)
        raise ValidationError(
            f"{named}: a cell whose value is an error; correct the formula (or type the "
            "value) and save the file again",
            argument=errors[0][0],
        )


def _repeated(rows: list[Row]) -> list[str]:
    """A note for each row that gives a number another text than an earlier row did."""
    first: dict[str, Row] = {}
    seen: set[tuple[str, str]] = set()
    notes: list[str] = []
    for row in rows:
        was = first.setdefault(row.mobile, row)
        if (row.mobile, row.text) not in seen and was.text != row.text:
            notes.append(
                f"line {row.line}: {row.mobile} gets this text and line {was.line}'s: a number "
                "is sent every text its rows give it"
            )
        seen.add((row.mobile, row.text))
    return notes


def journal_states(
    journal: Journal, sn: str, rows: list[Row], window: timedelta
) -> dict[tuple[str, str], str]:
    """(mobile, text) → ``accepted`` or ``unknown`` (pending, or outcome unknown) from
    the journal's sends of the last ``window``; an accepted attempt wins over others. An
    attempt resolved since (``mandao journal pending --against``) counts as its
    resolution says: sent is accepted, not sent is left out."""
    wanted = {r.mobile for r in rows}
    since = datetime.now(UTC) - window
    states: dict[tuple[str, str], str] = {}
    for attempt in journal.attempts(since=since, sn=sn, operation=("mdsmssend", "mdgxsend")):
        outcome: str | None = attempt.outcome
        resolution = getattr(attempt, "resolution", None)
        if resolution is not None:  # reconciled since: the evidence decides
            outcome = _RESOLVED.get(resolution.outcome, outcome)
        if outcome in (None, "rejected", "unreachable"):
            continue  # refused, never delivered to a host, or shown not sent
        for mobile, text in pairs_of(attempt.recipients, attempt.content):
            if mobile not in wanted or states.get((mobile, text)) == "accepted":
                continue
            states[(mobile, text)] = "accepted" if outcome == "accepted" else "unknown"
    return states


def accepted_note(client: Client, done: list[Row], window: timedelta) -> str:
    """What the resume says of the rows ``done`` it skips, accepted within ``window``, and
    how to send them again: ``--no-resume``, with ``--no-duplicate-guard`` too for those
    the guard would refuse or leave out (sent within its own window)."""
    from .._journal.guards import span

    note = f"{len(done)} row(s) already accepted by an earlier run within {span(window)}"
    how = "--no-resume sends them again"
    guard = client.duplicate_guard
    if client.journal is not None and guard is not None and guard.action != "warn":
        pairs = [(r.mobile, r.text) for r in done]
        recent = client.journal.duplicates(pairs, guard.window, sn=client.sn)
        stopped = sum(pair in recent for pair in pairs)
        within = f"sent within the duplicate guard's {span(guard.window)}"
        if stopped == len(done):
            how = f"--no-resume --no-duplicate-guard sends them again (they were {within})"
        elif stopped:
            how += f", with --no-duplicate-guard for the {stopped} {within}"
    return f"{note}, skipped: {how}"


def rows_by_group(rows: list[Row]) -> dict[tuple[str, str], list[Row]]:
    """The rows by (ext, at), each group's in file order."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.ext, row.at), []).append(row)
    return groups


def refusal_by_rows(client: Client, rows: list[Row], name: str) -> Refusal | None:
    """The client's refusal of numbers (``--suppression error``, or the duplicate guard's
    ``refuse``) as a refusal of the file ``name``, naming the rows by line (the client's
    names numbers, and a NUMBERS argument ``send-file`` does not have); None when neither
    explains it."""
    journal, guard = client.journal, client.duplicate_guard
    if journal is None:
        return None
    suppression = client._suppression  # skip, error or off (the client's own screen reads it)
    listed: list[Row] = []
    if suppression != "off":
        for (ext, _), group in rows_by_group(rows).items():
            found = journal.suppressed([r.mobile for r in group], sn=client.sn, ext=ext)
            listed += [r for r in group if r.mobile in found]
        listed.sort(key=lambda r: r.line)
    if listed and suppression == "error":
        return Refusal(
            f"{len(listed)} row(s) with a number on the suppression list: {_lines(listed, SHOW)}; "
            "nothing sent (take them out, or --suppression skip to leave them out)",
            argument=name,
        )
    if guard is None or guard.action != "refuse":
        return None
    from .._journal.guards import span

    left = [r for r in rows if r not in listed]  # with suppression skip: the guard's too
    hits = journal.duplicates([(r.mobile, r.text) for r in left], guard.window, sn=client.sn)
    listed = sorted((r for r in left if (r.mobile, r.text) in hits), key=lambda r: r.line)
    if not listed:
        return None
    return Refusal(
        f"{len(listed)} row(s) whose number was sent the same text within "
        f"{span(guard.window)}: {_lines(listed, 5)}; nothing sent (--duplicate-action skip "
        "sends the others)",  # the hint adds --no-duplicate-guard, as for `send`
        argument=name,
        extra={"rows": [masked(r) for r in listed]},
    )


def opted_out_note(client: Client, mobiles: Sequence[str], ext: str) -> str | None:
    """What to say of the numbers of ``mobiles`` on the suppression list that a send goes
    to, as ``send`` does by default (a verification code must reach who opted out of
    marketing); None for none, or with the journal off."""
    if client.journal is None:
        return None
    from .._journal import mask

    listed = sorted(client.journal.suppressed(mobiles, sn=client.sn, ext=ext))
    if not listed:
        return None
    return (
        f"{len(listed)} of the numbers opted out (on the suppression list): "
        f"{first_of([mask(m) for m in listed])}; sent to anyway, as send does by "
        "default (a verification code must reach them); --suppression skip leaves them "
        "out, --suppression off says nothing"
    )


def _lines(rows: list[Row], show: int) -> str:
    """The first ``show`` of ``rows`` by line and masked number, and how many more."""
    return first_of([f"line {r['line']} ({r['mobile']})" for r in map(masked, rows)], show)


def masked(row: Row) -> dict[str, Any]:
    """A row as a listing shows it: its line, the number masked, the text cut short."""
    from .._journal import mask

    short = row.text if len(row.text) <= 30 else row.text[:29] + "…"
    return {"line": row.line, "mobile": mask(row.mobile), "content": short}


def unknown_note(count: int, action: str | None, *, as_json: bool) -> str:
    """What a dry run says of its ``count`` rows of unknown outcome: whether its plan holds
    them (``action``: ``resend``, ``skip`` or None for neither flag) and, with neither,
    what a real run would do, since a dry run asks nothing."""
    held = f"dry run: the {count} row(s) of unknown outcome are"
    if action == "resend":
        return f"{held} in this plan (--resend-unknown): they may get the text twice"
    if action == "skip":
        return f"{held} left out of this plan (--skip-unknown)"
    real = (
        "a real run with --json is refused (exit 2) until --resend-unknown or --skip-unknown "
        "says what to do with them"
        if as_json
        else "a real run lists them and asks whether to send them again (no unless you answer "
        "y; --yes does not answer it), and is refused (exit 2) with no terminal to ask on: "
        "--resend-unknown or --skip-unknown answers for it"
    )
    return f"{held} left out of this plan; {real}"
