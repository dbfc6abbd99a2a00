"""Checks the client makes in the journal before sending: duplicates, and the daily
Register/UnRegister quota."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from .._compose import chunked
from .._compose.content import encode_content, segments
from .._compose.numbers import Numbers
from .._errors import RegistrationQuotaExceeded, ValidationError
from .attempt import CHINA
from .content import mask, texts_of

if TYPE_CHECKING:
    from .._compose.plan import Plan, Planned
    from .journal import Journal

__all__ = ["REGISTRATIONS_PER_DAY", "DuplicateGuard", "guarded", "registration_guard"]

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
        action: ``"skip"`` those numbers (listed in a warning), ``"warn"`` and send anyway,
            or ``"refuse"`` the whole call (a :class:`ValidationError` naming them).

    Example::

        >>> DuplicateGuard(window=timedelta(hours=1), action="refuse")
        DuplicateGuard(window=datetime.timedelta(seconds=3600), action='refuse')
    """

    window: timedelta = timedelta(minutes=10)
    action: Literal["skip", "warn", "refuse"] = "skip"


def guarded(guard: DuplicateGuard, journal: Journal, sn: str, plan: Plan) -> Plan:
    """``plan`` with ``guard`` applied: numbers sent ``guard.window`` ago with the same text.

    Raises:
        ValidationError: ``refuse`` found duplicates, or ``skip`` left nothing to send.
    """
    found: list[str] = []
    keep: list[Planned] = []
    for request in plan.requests:
        texts = texts_of(request.operation, request.fields.get("content", ""))
        pairs = (
            [(number, texts) for number in request.recipients]
            if isinstance(texts, str)
            else list(zip(request.recipients, texts, strict=True))
        )
        # One indexed lookup per request (batch), whatever the window holds.
        hits = journal.duplicates(pairs, guard.window, sn=sn)
        seen = {number for number, text in pairs if (number, text) in hits} if hits else set()
        found += [n for n in request.recipients if n in seen]
        keep.append(_without(request, seen, texts) if seen else request)
    if not found:
        return plan
    shown = ", ".join(mask(n) for n in found[:10]) + (" …" if len(found) > 10 else "")
    message = f"{len(found)} number(s) were sent the same text within {guard.window}: {shown}"
    if guard.action == "refuse":
        raise ValidationError(message + "; nothing sent", argument="mobiles")
    warnings.warn(
        message + ("; sending anyway" if guard.action == "warn" else "; skipped"),
        stacklevel=5,  # guarded, _guarded, _execute, send: the caller of send
    )
    if guard.action == "warn":
        return plan
    requests = [r for r in keep if r.recipients]
    if not requests:
        raise ValidationError(message + "; nothing left to send", argument="mobiles")
    gone = set(found)
    kept = Numbers._of(chunked.join(",", (m for m in plan.recipients if m not in gone)))
    return replace(plan, requests=requests, recipients=kept)


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
