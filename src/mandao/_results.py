"""Typed results of the gateway's operations, with reprs meant for a REPL."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from ._compose.numbers import Numbers
from ._config import short_host

if TYPE_CHECKING:
    from ._compose.segments import Estimate
    from ._errors import MandaoError

__all__ = [
    "AccountInfo",
    "Batch",
    "DryRun",
    "PreparedRequest",
    "RegistrationResult",
    "SendResult",
    "whole_number",
]

#: What became of a batch: accepted, refused by the gateway (not sent), sent with no
#: decodable answer (may have gone out), or never attempted because an earlier one failed.
BatchState = Literal["sent", "failed", "unknown", "not_sent"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Batch:
    """One request of a send and what became of it.

    Attributes:
        index: its place in the call, from 0; ``total`` is how many the call has.
        operation: ``mdsmssend`` or ``mdgxsend``.
        recipients: the mobiles it carries (for ``mdgxsend``, one per message).
        state: ``"sent"``, ``"failed"`` (the gateway refused it: not sent), ``"unknown"``
            (it went out, no decodable answer) or ``"not_sent"`` (never attempted).
        id, rrid, host: the gateway's id, the rrid sent, the host that took it.
        billable: messages it bills when sent.
        error: the exception for a failed or unknown batch, or the JournalError that
            kept a batch (and those after it) from being sent.
        waited: seconds the request waited for a slot of the serial (``max_in_flight``).
    """

    index: int
    total: int
    operation: str
    recipients: Numbers = field(repr=False)
    state: BatchState
    billable: int
    id: str | None = None
    rrid: str | None = None
    host: str | None = None
    error: MandaoError | None = field(default=None, repr=False)
    waited: float = 0.0


class Skipped(NamedTuple):
    """A number left out of a send, and why.

    ``reason`` starts with its kind: ``invalid: ...`` (not a mobile number, with
    ``skip_invalid=True``), ``duplicate: ...`` (the duplicate guard found it sent the
    same text recently) or ``suppressed: ...`` (on the suppression list).

    >>> skipped = Skipped(3, "1380013800", "invalid: 10 digits")
    >>> skipped.kind, skipped.mobile
    ('invalid', '1380013800')
    """

    position: int
    value: str
    reason: str

    @property
    def mobile(self) -> str:
        """The number as given (``value``), by the name ``Reply`` and ``Report`` use."""
        return self.value

    @property
    def kind(self) -> str:
        """``invalid``, ``duplicate`` or ``suppressed``."""
        return self.reason.partition(":")[0]


def skipped_of(entries: Iterable[tuple[int, str, str]]) -> tuple[Skipped, ...]:
    """A plan's left-out numbers as :class:`Skipped` values (the composer's plain
    ``(position, value, why)`` are invalid numbers)."""
    return tuple(
        entry if isinstance(entry, Skipped) else Skipped(entry[0], entry[1], f"invalid: {entry[2]}")
        for entry in entries
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class SendResult:
    """A send the gateway accepted (in one or several batches).

    A call raises when its first request fails: then nothing (or, for an
    :class:`~mandao.OutcomeUnknown`, at most that request) went out. Once a request
    went out, a later failure does not raise: the call stops there and returns this,
    with ``complete`` false and every batch's state in ``batches``.

    Attributes:
        id: the gateway's id for this submission (it echoes the rrid when one was sent);
            the first batch's when there are several.
        rrid: the rrid the (first) request carried, or None when the gateway made the id.
        operation: ``mdsmssend`` (one text), ``mdgxsend`` (a text per number), or both
            joined by ``+`` for :meth:`~mandao.Client.send_many`.
        host: the service URL that accepted it (the first batch's).
        protocol: how it travelled (``soap11``, ``soap12``, ``http-get``, ``http-post``, ``ashx``).
        recipients: the mobiles, normalised, in order.
        segments: billed parts per message (the longest message's, for ``mdgxsend``).
        billable: messages billed in all (segments x recipients, summed per message), over
            the batches that were sent.
        scheduled: the ``stime`` sent, or "" for immediate delivery.
        batches: every request of the call, in order, with its state.
        skipped: the numbers left out (:class:`Skipped`: position, value, reason): invalid
            ones (``skip_invalid=True``), duplicates the guard found, suppressed ones.
        duplicates: ``(position, number)`` of numbers given more than once, sent once.
        waited: seconds the call's requests waited for slots of the serial, in all.
    """

    id: str
    rrid: str | None
    operation: str
    host: str
    protocol: str
    recipients: Numbers = field(repr=False)
    segments: int
    billable: int
    scheduled: str = ""
    batches: tuple[Batch, ...] = field(default=(), repr=False)
    skipped: tuple[Skipped, ...] = field(default=(), repr=False)
    duplicates: tuple[tuple[int, str], ...] = field(default=(), repr=False)
    waited: float = field(default=0.0, repr=False)

    @property
    def complete(self) -> bool:
        """True when every batch was sent."""
        return all(batch.state == "sent" for batch in self.batches)

    def in_state(self, state: BatchState) -> Numbers:
        """The recipients whose batch is in ``state`` (``"sent"``, ``"failed"``, ...)."""
        return Numbers._of(
            ",".join(b.recipients.joined for b in self.batches if b.state == state and b.recipients)
        )

    @property
    def sent(self) -> Numbers:
        """Recipients of the batches the gateway accepted."""
        return self.in_state("sent")

    @property
    def unsent(self) -> Numbers:
        """Recipients that provably did not go out (a refused or never-attempted batch)."""
        return self.in_state("failed") + self.in_state("not_sent")

    def __repr__(self) -> str:
        if not self.batches:  # every number left out: no request was made
            kinds = Counter(s.kind for s in self.skipped)
            why = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
            return f"<SendResult nothing sent: {len(self.skipped)} left out ({why})>"
        when = f" at {self.scheduled!r}" if self.scheduled else ""
        parts = ""
        if len(self.batches) > 1:
            done = sum(1 for b in self.batches if b.state == "sent")
            parts = f", {done}/{len(self.batches)} batches sent"
        return (
            f"<SendResult id={self.id} rrid={self.rrid or '-'} {self.operation} "
            f"via {self.protocol} @ {short_host(self.host)}: "
            f"{len(self.recipients)} recipient{'s' if len(self.recipients) != 1 else ''}, "
            f"{self.segments} segment{'s' if self.segments != 1 else ''}, "
            f"{self.billable} billable{when}{parts}>"
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class PreparedRequest:
    """One request exactly as it would be sent, with ``pwd`` redacted.

    Attributes:
        operation: the gateway operation.
        method: ``POST`` or ``GET``.
        url: where it would go (for HTTP GET, with the query string).
        headers: the HTTP headers zeep would set.
        body: the SOAP envelope or the form body ("" for GET).
        recipients: the mobiles it carries.
    """

    operation: str
    method: str
    url: str
    headers: dict[str, str] = field(repr=False)
    body: str = field(repr=False)
    recipients: Numbers = field(repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class DryRun:
    """What a send would do, built but not sent (``dry_run=True``).

    Attributes:
        requests: each request, in order, redacted.
        estimate: characters, segments, recipients and billable messages.
        recipients, skipped, duplicates: as on :class:`SendResult`.
    """

    requests: tuple[PreparedRequest, ...]
    estimate: Estimate
    recipients: Numbers = field(repr=False)
    skipped: tuple[Skipped, ...] = field(default=(), repr=False)
    duplicates: tuple[tuple[int, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountInfo:
    """What ``mdgetSninfo`` says of the account.

    Attributes:
        balance: messages left (the ``Balance`` key), or None if the reply had none.
        fields: every key of the gateway's JSON reply, as sent.
        host: the service URL that answered.
    """

    balance: int | None
    fields: dict[str, object] = field(repr=False)
    host: str
    protocol: str

    @classmethod
    def parse(cls, raw: str, *, host: str, protocol: str) -> AccountInfo:
        """Decode the JSON string ``mdgetSninfo`` returns (its one known key: ``Balance``)."""
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            # Not JSON: some deployments may answer a bare count.
            data = {"Balance": raw}
        balance = data.get("Balance", data.get("balance"))
        try:
            count = int(str(balance)) if balance is not None else None
        except ValueError:
            count = None
        return cls(balance=count, fields=data, host=host, protocol=protocol)

    def __repr__(self) -> str:
        return f"<AccountInfo balance={self.balance} via {self.protocol} @ {short_host(self.host)}>"


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistrationResult:
    """A ``Register`` or ``UnRegister`` the gateway accepted (it answers ``0``)."""

    operation: str
    code: int
    host: str
    protocol: str

    def __repr__(self) -> str:
        return (
            f"<RegistrationResult {self.operation} ok (code {self.code}) "
            f"via {self.protocol} @ {short_host(self.host)}>"
        )


def whole_number(raw: str, *, operation: str, host: str) -> int:
    """A result that must be a whole number (a balance, a Register code).

    Raises:
        ProtocolError: it is not one.
    """
    try:
        return int(raw)
    except ValueError:
        from ._errors import ProtocolError

        message = f"unexpected result {raw[:60]!r}"
        raise ProtocolError(message, host=host, operation=operation) from None
