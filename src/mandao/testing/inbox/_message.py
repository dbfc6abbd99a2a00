"""``InboxMessage`` and ``InboxPage``: one accepted message as the inbox shows it, and a page.

Both are frozen values made on demand from the ledger (nothing is stored twice): the
ledger entry's fields, the inbox's number and batch, the host's name, the delivery
status from the sandbox's reports, and what ``_text`` reads in the content.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from .._ledger import LedgerEntry

__all__ = ["InboxMessage", "InboxPage", "build_message"]


@dataclass(frozen=True)
class InboxMessage:
    """One message the sandbox accepted for one recipient, as the inbox shows it.

    ``id`` is the inbox's number (1-based, increasing, never reused, not even after
    ``gw.clear()``); ``gateway_id`` is what the send call returned (the ledger entry's
    ``id``); ``batch`` numbers the request that carried it (one ``mdsmssend`` to three
    numbers is one batch of three messages); ``host`` is the send URL that took it and
    ``host_name`` ``"primary"`` or ``"backup"``; ``segments`` is what it was billed and
    ``parts`` the text of each part as a handset shows it (at most 67 UTF-16 units each,
    an emoji never cut in two: more parts than ``segments`` when an emoji straddles a
    cut, which a warning says); ``encoding`` is ``"ascii"`` or ``"ucs2"``;
    ``time`` is when it was accepted (aware, in the machine's time zone);
    ``warnings`` are the encoding and signature warnings, in words; ``signature`` is the
    【…】 (with its brackets) or ``""``; ``status`` is the delivery report's status
    (``"DELIVRD"``, ...) or None while there is none; ``codes`` are the runs of 4 to 8
    ASCII digits (not inside a longer run), in text order. ``parts``, ``warnings`` and
    ``codes`` are tuples (the message is frozen, and hashable); :meth:`to_dict` gives
    them as lists (JSON arrays).

    >>> from mandao.testing import SandboxGateway
    >>> with SandboxGateway(accounts={"SDK-TST-010-00001": "secret"}) as gw:
    ...     _ = gw.client_for().send("13800138000", "验证码 482915，5分钟内有效【示例】")
    ...     message = gw.latest("13800138000")
    >>> message.id, message.codes, message.signature, message.status, message.host_name
    (1, ('482915',), '【示例】', 'DELIVRD', 'primary')
    """

    id: int
    mobile: str
    content: str
    sn: str
    host: str
    host_name: str
    protocol: str
    operation: str
    rrid: str
    gateway_id: str
    batch: int
    ext: str
    stime: str
    scheduled: bool
    time: datetime
    segments: int
    parts: tuple[str, ...]
    encoding: str
    warnings: tuple[str, ...]
    signature: str
    status: str | None
    codes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """This message as JSON-able data (the JSON API's message): ``time`` in ISO 8601."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["time"] = self.time.isoformat()
        data["parts"] = list(self.parts)
        data["warnings"] = list(self.warnings)
        data["codes"] = list(self.codes)
        return data


@dataclass(frozen=True)
class InboxPage:
    """One page of messages, newest first: ``total`` matched, ``pages`` of ``per_page``.

    A page past the last is empty (``pages`` says how many there are; at least 1). The
    page is its messages too: ``for m in gw.messages()``, ``len(page)``, ``page[0]``.
    """

    messages: list[InboxMessage]
    total: int
    page: int
    per_page: int
    pages: int

    def __iter__(self) -> Iterator[InboxMessage]:
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self.messages)

    @overload
    def __getitem__(self, index: int) -> InboxMessage: ...
    @overload
    def __getitem__(self, index: slice) -> list[InboxMessage]: ...
    def __getitem__(self, index: int | slice) -> InboxMessage | list[InboxMessage]:
        return self.messages[index]

    def to_dict(self) -> dict[str, Any]:
        """This page as the JSON API answers it."""
        return {
            "messages": [m.to_dict() for m in self.messages],
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
        }


def build_message(
    number: int,
    batch: int,
    entry: LedgerEntry,
    *,
    host_name: str,
    status: str | None,
    utf16: bool = True,
) -> InboxMessage:
    """The inbox's view of ledger entry ``entry``, numbered ``number`` in batch ``batch``."""
    # Lazily: ``import mandao.testing`` (this module's values are public) does not pay for
    # the text reading until a message is read.
    from ._text import codes, encoding, signature, split_parts, warnings

    text = entry.content
    return InboxMessage(
        id=number,
        mobile=entry.mobile,
        content=text,
        sn=entry.sn,
        host=entry.host,
        host_name=host_name,
        protocol=entry.protocol,
        operation=entry.operation,
        rrid=entry.rrid,
        gateway_id=entry.id,
        batch=batch,
        ext=entry.ext,
        stime=entry.stime,
        scheduled=entry.scheduled,
        # The ledger's time is the machine's local time, naive: the inbox says which zone.
        time=entry.time.astimezone(),
        segments=entry.segments,
        parts=tuple(split_parts(text)),
        encoding=encoding(text),
        warnings=tuple(warnings(text, utf16=utf16)),
        signature=signature(text),
        status=status,
        codes=codes(text),
    )
