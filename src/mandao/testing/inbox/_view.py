"""``InboxView``: the sandbox's ledger as the inbox shows it, paged, searched and threaded.

Every gateway has one, inbox server or not: ``gw.messages()``, ``gw.message(id)``,
``gw.latest(mobile)`` and ``gw.clear()`` read it. It stores nothing of the messages
itself: a page is read from the ledger's numbered list and per-mobile index (newest
first, without copying the ledger), and each ``InboxMessage`` is made when asked for.
Only a search by text scans, over a snapshot taken under the lock and read outside it.

The delivery status comes from the sandbox's reports: reports due by now are released
(what ``gw.reports()`` does too) and indexed by (serial, rrid, mobile) as they come, so
a page looks each status up at once; the reports are read again only when a status to
show is not known yet. Messages to one number under one reused rrid share a status (a
report names only serial, rrid and mobile).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from .._inbound import InjectedReply
from .._ledger import Ledger, Numbered
from .._state import GatewayState
from ._message import InboxMessage, InboxPage, build_message

__all__ = ["MAX_PER_PAGE", "InboxView", "ThreadItem", "check_paging"]

MAX_PER_PAGE = 500
ThreadItem = InboxMessage | InjectedReply


def check_paging(page: int, per_page: int) -> None:
    """Raise ValueError unless ``page`` >= 1 and 1 <= ``per_page`` <= 500."""
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError(f"page must be a whole number, 1 or more, not {page!r}")
    if isinstance(per_page, bool) or not isinstance(per_page, int):
        raise ValueError(f"per_page must be a whole number from 1 to 500, not {per_page!r}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be from 1 to {MAX_PER_PAGE}, not {per_page}")


class _Statuses:
    """(sn, rrid, mobile) -> the latest due report's status, indexed as reports come due."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._status: dict[tuple[str, str, str], str] = {}

    def refresh(self, state: GatewayState) -> None:
        with state.lock:
            book = state.reports
            book.release(state.clock())
            due = {sn: book.due(sn) for sn in state.accounts}
        with self._lock:
            for sn, reports in due.items():
                for report in reports[self._seen.get(sn, 0) :]:
                    self._status[(sn, report.rrid, report.mobile)] = report.status
                self._seen[sn] = len(reports)

    def known(self, keys: list[tuple[str, str, str]]) -> bool:
        with self._lock:
            return all(key in self._status for key in keys)

    def get(self, sn: str, rrid: str, mobile: str) -> str | None:
        with self._lock:
            return self._status.get((sn, rrid, mobile))


class InboxView:
    """The ledger numbered, paged, searched and threaded; thread-safe.

    Args:
        ledger: the gateway's ledger.
        state: the gateway's state (reports, replies, the counting rule).
        hosts: URL -> host name (``"primary"``, ``"backup"``) of every service URL.
    """

    def __init__(
        self, ledger: Ledger, state: GatewayState, hosts: Callable[[], Mapping[str, str]]
    ) -> None:
        self.ledger = ledger
        self._state = state
        self._hosts = hosts
        self._statuses = _Statuses()
        self._lock = threading.Lock()
        self._replies_before = 0  # replies up to this moID were cleared from the view

    # -- messages ---------------------------------------------------------------------------
    def _build(self, items: list[Numbered]) -> list[InboxMessage]:
        if not items:
            return []
        # Reading the due reports copies their list: done only when a status shown is not
        # known yet (a report not due, or due since), so a page of delivered messages
        # costs nothing however many reports there are.
        keys = [(entry.sn, entry.rrid, entry.mobile) for _, _, entry in items]
        if not self._statuses.known(keys):
            self._statuses.refresh(self._state)
        names = self._hosts()
        utf16 = self._state.rules.count_utf16
        return [
            build_message(
                number,
                batch,
                entry,
                host_name=names.get(entry.host, ""),
                status=self._statuses.get(entry.sn, entry.rrid, entry.mobile),
                utf16=utf16,
            )
            for number, batch, entry in items
        ]

    def page(
        self, q: str | None = None, *, mobile: str | None = None, page: int = 1, per_page: int = 50
    ) -> InboxPage:
        """Messages newest first, ``per_page`` a page: all, or those whose mobile or text
        contains ``q`` (ignoring case), of ``mobile`` only when given."""
        check_paging(page, per_page)
        query = (q or "").strip().casefold()
        skip = (page - 1) * per_page
        if not query:
            total = self.ledger.count(mobile or None)
            items = self.ledger.newest(skip, per_page, mobile or None)
        else:
            found = self._search(query, mobile or None)
            total = len(found)
            items = found[skip : skip + per_page]
        pages = max(1, -(-total // per_page))
        return InboxPage(self._build(items), total, page, per_page, pages)

    def _search(self, query: str, mobile: str | None) -> list[Numbered]:
        base, entries, batches = self.ledger.snapshot()
        found = []
        for position in range(len(entries) - 1, -1, -1):
            entry = entries[position]
            if mobile is not None and entry.mobile != mobile:
                continue
            if query in entry.mobile or query in entry.content.casefold():
                found.append(Numbered(base + position, batches[position], entry))
        return found

    def message(self, number: int) -> InboxMessage:
        """The message numbered ``number``; KeyError when there is none (or it was cleared)."""
        found = self.ledger.numbered(number)
        if found is None:
            raise KeyError(f"the inbox has no message {number}")
        return self._build([found])[0]

    def messages_between(self, first: int, last: int) -> list[InboxMessage]:
        """The messages numbered ``first`` to ``last`` still in the ledger, oldest first."""
        found = [self.ledger.numbered(n) for n in range(first, last + 1)]
        return self._build([item for item in found if item is not None])

    def latest(self, mobile: str) -> InboxMessage | None:
        """The newest message to ``mobile``, or None."""
        items = self.ledger.newest(0, 1, mobile)
        return self._build(items)[0] if items else None

    def clear(self) -> int:
        """Empty the view (the ledger's messages, rejections and faults; replies leave the
        threads); accounts, reports and the gateway's replies stay. How many messages went."""
        with self._state.lock:
            last_reply = max((r.id for r in self._state.inbox.all()), default=0)
        with self._lock:
            self._replies_before = last_reply
        return self.ledger.clear()

    # -- threads ----------------------------------------------------------------------------
    def replies(self, mobile: str | None = None) -> list[InjectedReply]:
        """Replies (MO) since the last clear, of ``mobile`` or all, oldest first."""
        with self._state.lock:
            every = self._state.inbox.all()
        with self._lock:
            mark = self._replies_before
        return [r for r in every if r.id > mark and (mobile is None or r.mobile == mobile)]

    def reply(self, reply_id: int) -> InjectedReply:
        """The reply with this moID (since the last clear); KeyError when there is none."""
        for reply in self.replies():
            if reply.id == reply_id:
                return reply
        raise KeyError(f"the inbox has no reply {reply_id}")

    def thread(self, mobile: str, limit: int = 200) -> list[ThreadItem]:
        """The latest ``limit`` messages to ``mobile`` and replies from it, in time order."""
        sent: list[ThreadItem] = list(self._build(self.ledger.newest(0, limit, mobile)))
        items = sent + list(self.replies(mobile)[-limit:])
        items.sort(key=_when)
        return items[-limit:]


def _when(item: ThreadItem) -> tuple[datetime, int, int]:
    if isinstance(item, InjectedReply):
        return item.received, 1, item.id
    return item.time, 0, item.id
