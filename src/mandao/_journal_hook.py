"""How the client writes the journal: one recorder per request, and the two guards.

The client calls :meth:`Recorder.begin` just before each attempt leaves (on each host and
each retry) and :meth:`Recorder.end` once its outcome is known. ``begin`` failing stops the
request (nothing is sent without its row); ``end`` failing is logged and the send's result
stands: the row stays ``pending`` and ``mandao journal pending`` shows it.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from ._compose import encode_content, segments
from ._errors import ValidationError
from ._journal import Journal, JournalError, Outcome
from ._log import logger
from ._numbers import Numbers

if TYPE_CHECKING:
    from ._batch import Plan, Planned

__all__ = ["JOURNALED", "DuplicateGuard", "Recorder", "journal_of", "mask", "registration_guard"]


#: Operations that change something at the gateway; only these are journaled.
JOURNALED = frozenset({"mdsmssend", "mdgxsend", "Register", "UnRegister"})
#: Vendor doc §4.2: Register and UnRegister, at most 10 a day together.
REGISTRATIONS_PER_DAY = 10


def mask(mobile: str) -> str:
    """``13800138000`` → ``138****8000`` (vendor terms, item 9: keep customers' data private).

    >>> mask("13800138000")
    '138****8000'
    """
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 8 else "*" * len(mobile)


def journal_of(spec: Journal | str | os.PathLike[str] | bool | None) -> Journal | None:
    """The journal a ``Client(journal=...)`` value names: True for the default path."""
    if spec is None or spec is False:
        return None
    if spec is True:
        return Journal()
    if isinstance(spec, Journal):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        return Journal(spec)
    raise ValidationError(
        f"expected a path, a Journal, True or None, got {type(spec).__name__}", argument="journal"
    )


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _unquote(text: str) -> str:
    """``urllib.parse.unquote``, about 3x faster on Chinese text (one decode per run).

    >>> from urllib.parse import unquote
    >>> _unquote("%E9%AA%8C%E8%AF%81%E7%A0%81%201%2C%E3%80%90a%E3%80%91") == unquote(
    ...     "%E9%AA%8C%E8%AF%81%E7%A0%81%201%2C%E3%80%90a%E3%80%91")
    True
    """
    if "%" not in text:
        return text
    return _ESCAPES.sub(
        lambda run: bytes.fromhex(run.group().replace("%", "")).decode("utf-8", "replace"), text
    )


def _texts(operation: str, content: str) -> str | list[str]:
    """The text(s) as sent, from the percent-encoded ``content`` field."""
    if operation == "mdgxsend":
        return [_unquote(part) for part in content.split(",")]
    return _unquote(content)


class Recorder:
    """Journal rows of one request: a pending row per attempt, then its outcome."""

    __slots__ = (
        "_attempt",
        "_batch",
        "_began",
        "_fields",
        "_journal",
        "_op",
        "_protocol",
        "_segments",
        "_texts",
        "_to",
    )

    def __init__(
        self,
        journal: Journal | None,
        operation: str,
        protocol: str,
        fields: Mapping[str, str],
        recipients: Sequence[str],
        batch: tuple[str, int, int] | None = None,
    ) -> None:
        self._journal = journal if operation in JOURNALED else None
        self._op, self._protocol, self._fields, self._to = operation, protocol, fields, recipients
        self._batch = batch or ("", 0, 1)
        self._attempt: int | None = None
        self._began = 0.0
        # Decoded once per request, not once per attempt (a failover makes several).
        content = fields.get("content", "") if self._journal is not None else ""
        self._texts: str | list[str] = _texts(operation, content) if content else ""
        self._segments = _segments(self._texts) if self._texts else 0

    def begin(self, host: str) -> None:
        """Write the ``pending`` row of an attempt to ``host``; raises JournalError."""
        if self._journal is None:
            return
        fields, texts = self._fields, self._texts
        self._attempt = self._journal.begin(
            sn=fields.get("sn", ""), operation=self._op, protocol=self._protocol, host=host,
            rrid=fields.get("rrid", ""), recipients=self._to, content=texts,
            segments=self._segments, call_id=self._batch[0],
            batch_index=self._batch[1], batch_total=self._batch[2],
        )  # fmt: skip
        self._began = time.monotonic()

    def end(self, outcome: Outcome, *, result: str = "", detail: str = "") -> None:
        """Write the outcome of the attempt begun last (if any)."""
        if self._journal is None or self._attempt is None:
            return
        attempt, self._attempt = self._attempt, None
        try:
            self._journal.complete(
                attempt, outcome, result=result, detail=detail,
                latency=time.monotonic() - self._began, wait=False,
            )  # fmt: skip
        except JournalError as exc:
            logger.error("journal: the outcome of row %d (%s) was not written: %s",
                         attempt, outcome, exc)  # fmt: skip


def _segments(texts: str | list[str]) -> int:
    if isinstance(texts, str):
        return segments(texts) if texts else 0
    return max(segments(text) for text in texts)


def registration_guard(journal: Journal | None, sn: str, operation: str, force: bool) -> None:
    """Refuse the eleventh Register/UnRegister of the day for ``sn`` (vendor doc §4.2)."""
    if journal is None or force:
        return
    done = journal.registrations(sn)
    if done >= REGISTRATIONS_PER_DAY:
        raise ValidationError(
            f"{done} Register/UnRegister calls for {sn} today already (the vendor allows "
            f"{REGISTRATIONS_PER_DAY} a day, doc §4.2); a client made with "
            "registration_guard=False calls anyway",
            argument="registration_guard",
            operation=operation,
        )


@dataclass(frozen=True)
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

    def apply(self, journal: Journal, sn: str, plan: Plan) -> Plan:
        """The plan with the guard applied (raises for ``refuse``)."""
        found: list[str] = []
        keep: list[Planned] = []
        for request in plan.requests:
            texts = _texts(request.operation, request.fields.get("content", ""))
            if isinstance(texts, str):
                seen = set(journal.recent_duplicates(request.recipients, texts, self.window, sn=sn))
            else:
                seen = {
                    number
                    for number, text in zip(request.recipients, texts, strict=True)
                    if journal.recent_duplicates((number,), text, self.window, sn=sn)
                }
            found += [n for n in request.recipients if n in seen]
            keep.append(_without(request, seen, texts) if seen else request)
        if not found:
            return plan
        shown = ", ".join(mask(n) for n in found[:10]) + (" …" if len(found) > 10 else "")
        message = f"{len(found)} number(s) were sent the same text within {self.window}: {shown}"
        if self.action == "refuse":
            raise ValidationError(message + "; nothing sent", argument="mobiles")
        warnings.warn(
            message + ("; sending anyway" if self.action == "warn" else "; skipped"),
            stacklevel=4,
        )
        if self.action == "warn":
            return plan
        requests = [r for r in keep if r.recipients]
        if not requests:
            raise ValidationError(message + "; nothing left to send", argument="mobiles")
        gone = set(found)
        kept = Numbers._of(",".join(m for m in plan.recipients if m not in gone))
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
