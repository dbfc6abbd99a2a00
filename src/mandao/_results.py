"""Typed results of the gateway's operations, with reprs meant for a REPL."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["AccountInfo", "RegistrationResult", "SendResult", "short_host"]


def short_host(url: str) -> str:
    """``host:port`` of a service URL, for reprs."""
    return urlsplit(url).netloc or url


@dataclass(frozen=True)
class SendResult:
    """A send the gateway accepted.

    Attributes:
        id: the gateway's id for this submission (it echoes the rrid when one was sent).
        rrid: the rrid the request carried, or None when the gateway made the id.
        operation: ``mdsmssend`` (one text) or ``mdgxsend`` (a text per number).
        host: the service URL that accepted it.
        protocol: how it travelled (``soap11``, ``soap12``, ``http-get``, ``http-post``, ``ashx``).
        recipients: the mobiles, normalised, in order.
        segments: billed parts per message (the longest message's, for ``mdgxsend``).
        billable: messages billed in all (segments x recipients, summed per message).
        scheduled: the ``stime`` sent, or "" for immediate delivery.
    """

    id: str
    rrid: str | None
    operation: str
    host: str
    protocol: str
    recipients: tuple[str, ...] = field(repr=False)
    segments: int
    billable: int
    scheduled: str = ""

    def __repr__(self) -> str:
        when = f" at {self.scheduled!r}" if self.scheduled else ""
        return (
            f"<SendResult id={self.id} rrid={self.rrid or '-'} {self.operation} "
            f"via {self.protocol} @ {short_host(self.host)}: "
            f"{len(self.recipients)} recipient{'s' if len(self.recipients) != 1 else ''}, "
            f"{self.segments} segment{'s' if self.segments != 1 else ''}, "
            f"{self.billable} billable{when}>"
        )


@dataclass(frozen=True)
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
        return cls(count, data, host, protocol)

    def __repr__(self) -> str:
        return f"<AccountInfo balance={self.balance} via {self.protocol} @ {short_host(self.host)}>"


@dataclass(frozen=True)
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
