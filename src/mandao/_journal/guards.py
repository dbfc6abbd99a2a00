"""Checks the client makes in the journal before sending: duplicates, and the daily
Register/UnRegister quota."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from .._compose import chunked
from .._compose.content import encode_content, segments
from .._compose.numbers import Numbers
from .._errors import RegistrationQuotaExceeded, ValidationError
from .attempt import CHINA
from .content import count_of, pairs_of, shown, texts_of
from .sent import Unseen

if TYPE_CHECKING:
    from .._compose.plan import Plan, Planned
    from .journal import Journal

__all__ = [
    "REGISTRATIONS_PER_DAY",
    "DuplicateGuard",
    "DuplicateWarning",
    "registration_guard",
    "screen",
    "span",
    "unseen_for",
]

logger = logging.getLogger("mandao")

#: Vendor doc §4.2: Register and UnRegister, at most 10 a day together.
REGISTRATIONS_PER_DAY = 10


def registration_guard(journal: Journal | None, sn: str, operation: str, force: bool) -> None:
    """Refuse the eleventh Register/UnRegister of the day for ``sn`` (vendor doc §4.2).

    Raises:
        RegistrationQuotaExceeded: ten were made today (China time) already; nothing was
            sent. Wait until its ``retry_after`` (midnight China time).
    """
    if journal is None or force:
        return
    today = datetime.now(CHINA).date()
    done = journal.registrations(sn, today)
    if done >= REGISTRATIONS_PER_DAY:
        midnight = datetime.combine(today + timedelta(days=1), time(), tzinfo=CHINA)
        raise RegistrationQuotaExceeded(
            f"{done} Register/UnRegister calls for {sn} today already (the vendor allows "
            f"{REGISTRATIONS_PER_DAY} a day, doc §4.2): not sent; wait for the new day "
            "(China time), or call anyway with a client made with registration_guard=False",
            operation=operation,
            retry_after=midnight,
        )


@dataclass(frozen=True, slots=True)
class DuplicateGuard:
    """Check the journal before sending for the same number and text sent recently.

    Attributes:
        window: how far back to look (default 10 minutes).
        action: ``"skip"`` those numbers (listed in the result's ``skipped``), ``"warn"``
            and send anyway (a :class:`DuplicateWarning`),
            or ``"refuse"`` the whole call (a :class:`ValidationError` naming them).

    Example::

        >>> DuplicateGuard(window=timedelta(hours=1), action="refuse")
        DuplicateGuard(window=datetime.timedelta(seconds=3600), action='refuse')
    """

    window: timedelta = timedelta(minutes=10)
    action: Literal["skip", "warn", "refuse"] = "skip"


def screen(
    plan: Plan,
    journal: Journal,
    sn: str,
    guard: DuplicateGuard | None,
    suppression: Literal["skip", "error", "off"],
    warn: Callable[[str], None] | None = None,
) -> Plan:
    """``plan`` less the numbers on the suppression list and those the duplicate guard
    finds sent recently: each left out is in ``skipped`` with its reason. A plan left with
    nothing to send has no requests (the send then sends nothing, and says why). The
    guard's ``warn`` is a :class:`DuplicateWarning` at the caller's line, or ``warn``'s
    (the async client's worker thread hands it to the loop, which warns at its caller's).

    Raises:
        ValidationError: ``suppression="error"`` found listed numbers, or the guard's
            ``refuse`` found duplicates: nothing sent.
    """
    if plan.rrid_given:
        _reused(plan, journal, sn)
    drops: list[set[str]] = [set() for _ in plan.requests]
    reasons: dict[str, str] = {}
    # Read before the guard looks: what others write after it, begin checks under its lock.
    screened = None
    if guard is not None and guard.action != "warn":
        screened = (journal.last_seq(), guard.window)
    if suppression != "off" and plan.requests:
        ext = plan.requests[0].fields.get("ext", "")
        listed = journal.suppressed(plan.recipients, sn=sn, ext=ext)
        if listed:
            message = f"{count_of(listed)} on the suppression list of {sn}: {shown(listed)}"
            if suppression == "error":
                raise ValidationError(
                    message + "; nothing sent (take them out, or send with suppression "
                    "'skip' to leave them out)",
                    argument="mobiles",
                )
            reasons.update(dict.fromkeys(listed, "suppressed: on the suppression list"))
            for drop in drops:
                drop.update(listed)
    if guard is not None:
        seen = _duplicates(guard, journal, sn, plan, drops)
        found = list(dict.fromkeys(n for numbers in seen for n in numbers))
        if found:
            window = span(guard.window)
            message = f"{count_of(found)} sent the same text within {window}: {shown(found)}"
            if guard.action == "refuse":
                raise ValidationError(
                    message + "; nothing sent (or send with the guard's action 'skip')",
                    argument="mobiles",
                )
            if guard.action == "warn" and warn is not None:
                warn(message + "; sending anyway")
            elif guard.action == "warn":
                warnings.warn(message + "; sending anyway", DuplicateWarning, stacklevel=5)
            else:
                for drop, numbers in zip(drops, seen, strict=True):
                    drop.update(numbers)
                why = f"duplicate: sent the same text within {window}"
                reasons.update(dict.fromkeys(found, why))
    if not any(drops):
        return replace(plan, screened=screened)
    return replace(_left_out(plan, drops, reasons), screened=screened)


def unseen_for(plan: Plan, index: int) -> Unseen | None:
    """The second look of request ``index``'s pending row (None: the guard did not look).
    The first request's covers every request of the plan: a number of a later one that
    another call sent since the look then stops the call before anything of it is sent,
    and the send looks again."""
    if plan.screened is None:
        return None
    after, window = plan.screened
    if index:
        return Unseen(after, window)

    def pairs() -> Iterator[tuple[str, str]]:
        for request in plan.requests:
            texts = texts_of(request.operation, request.fields.get("content", ""))
            yield from pairs_of(request.recipients, texts)

    return Unseen(after, window, pairs)


class DuplicateWarning(UserWarning):
    """The duplicate guard (``action="warn"``) found numbers sent the same text recently."""


def _reused(plan: Plan, journal: Journal, sn: str) -> None:
    """Log a warning when an rrid the caller gave went with an earlier send of ``sn``
    that may have reached the gateway: reports are matched by rrid and mobile."""
    from .stored import sent_with

    rrids = {request.fields.get("rrid", "") for request in plan.requests} - {""}
    found = journal._database.read(lambda conn: sent_with(conn, sn, rrids)) if rrids else []
    if found:
        rrid, seq, outcome = found[0]
        more = f"; and {len(found) - 1} more" if len(found) > 1 else ""
        logger.warning(
            "serial %s: rrid %s went with an earlier send (journal attempt %d, %s%s): the "
            "gateway does not refuse a reused rrid, but delivery reports are matched to "
            "sends by rrid and mobile, so this send's may be counted to the earlier one; "
            "give each send an rrid of its own, or none (mandao makes a unique one)",
            sn, rrid, seq, outcome, more,
        )  # fmt: skip


def span(window: timedelta) -> str:
    """``window`` in words: ``10 minutes``, ``1 hour 30 minutes``, ``2 days``."""
    seconds, parts = int(window.total_seconds()), []
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(f"{n} {name}{'s' if n != 1 else ''}")
    return " ".join(parts) or "0 seconds"


def _duplicates(
    guard: DuplicateGuard, journal: Journal, sn: str, plan: Plan, drops: list[set[str]]
) -> list[set[str]]:
    """The numbers of each request (not left out already) sent its text within the
    guard's window: one indexed lookup per request (batch), whatever the window holds."""
    found: list[set[str]] = []
    for request, drop in zip(plan.requests, drops, strict=True):
        texts = texts_of(request.operation, request.fields.get("content", ""))
        pairs = [p for p in pairs_of(request.recipients, texts) if p[0] not in drop]
        hits = journal.duplicates(pairs, guard.window, sn=sn)
        found.append(
            {number for number, text in pairs if (number, text) in hits} if hits else set()
        )
    return found


def _left_out(plan: Plan, drops: list[set[str]], reasons: dict[str, str]) -> Plan:
    """``plan`` without the numbers of ``drops`` (per request), listed in ``skipped``."""
    from .._results import Skipped

    kept: list[Planned] = []
    for request, drop in zip(plan.requests, drops, strict=True):
        if not drop:
            kept.append(request)
            continue
        texts = texts_of(request.operation, request.fields.get("content", ""))
        smaller = _without(request, drop, texts)
        if smaller.recipients:
            kept.append(smaller)
    gone = {number for drop in drops for number in drop}
    positions = _positions(plan)
    skipped = [
        Skipped(positions[i], number, reasons[number])
        for i, number in enumerate(plan.recipients)
        if number in gone
    ]
    numbers = Numbers._of(chunked.join(",", (m for m in plan.recipients if m not in gone)))
    cost = replace(plan.estimate, recipients=len(numbers), billable=sum(r.billable for r in kept))
    return replace(
        plan,
        requests=kept,
        recipients=numbers,
        estimate=cost,
        skipped=tuple(sorted((*plan.skipped, *skipped))),
    )


def _positions(plan: Plan) -> list[int]:
    """Each of ``plan.recipients``' position in the caller's input (the positions not
    skipped as invalid nor given twice, in order)."""
    dropped = {p for p, *_ in plan.skipped} | {p for p, _ in plan.duplicates}
    total = len(plan.recipients) + len(dropped)
    return [p for p in range(total) if p not in dropped]


def _without(request: Planned, drop: set[str], texts: str | list[str]) -> Planned:
    """``request`` without the numbers in ``drop`` (and their texts)."""
    kept = [i for i, number in enumerate(request.recipients) if number not in drop]
    numbers = Numbers._of(",".join(request.recipients[i] for i in kept))
    fields = {**request.fields, "mobile": numbers.joined}
    rrid = request.fields.get("rrid", "")
    if "," in rrid:  # one rrid per mobile: keep those of the numbers kept
        rrids = rrid.split(",")
        fields["rrid"] = ",".join(rrids[i] for i in kept)
    if isinstance(texts, str):
        billable = segments(texts) * len(numbers)
    else:
        fields["content"] = ",".join(encode_content(texts[i]) for i in kept)
        billable = sum(segments(texts[i]) for i in kept)
    return replace(request, fields=fields, recipients=numbers, billable=billable)
