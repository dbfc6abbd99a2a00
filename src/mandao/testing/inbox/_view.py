"""``InboxView``: the sandbox's ledger as the inbox shows it, paged, searched and threaded.

Every gateway has one, inbox server or not: ``gw.messages()``, ``gw.message(id)``,
``gw.latest(mobile)`` and ``gw.clear()`` read it. It stores nothing of the messages
itself: a page is read from the ledger's numbered list and per-mobile index (newest
first, without copying the ledger), and each ``InboxMessage`` is made when asked for.
Only a search by text scans, over a snapshot taken under the lock and read outside it.

The delivery status comes from the sandbox's reports: reports due by now are released
(what ``gw.reports()`` does too) and indexed by (serial, rrid, mobile) as they come, so
a page looks each status up at once; each read looks only at the reports due since the
last one (none, mostly). Messages to one number under one
reused rrid share a status (a report names only serial, rrid and mobile). Replies are
indexed by mobile and moID as the gateway injects them (``add_replies``).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from .._inbound import InjectedReply
from .._ledger import Ledger, Numbered
from .._state import GatewayState
from ._message import InboxMessage, InboxPage, build_message

__all__ = ["MAX_PER_PAGE", "InboxView", "ThreadItem", "check_paging", "mobile_key"]

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


def mobile_key(mobile: str) -> str:
    """``mobile`` as the client sends it (``normalize_mobiles``: +86/0086/86, spaces,
    dashes, full-width digits gone) when it is a mainland mobile; else as given.

    >>> mobile_key("+86 138-0013-8000"), mobile_key("138 0013 8000"), mobile_key("1")
    ('13800138000', '13800138000', '1')
    """
    # Lazily: the client's number rules cost an import (about 15 ms) that only a
    # filter by mobile needs. The gateway records what it was sent; the client sends this.
    from mandao._compose.numbers import normalize_mobiles

    try:
        (number,) = normalize_mobiles(mobile)
    except ValueError:  # InvalidRecipients: not a mainland mobile, kept as given
        return mobile
    return number


class _Statuses:
    """(sn, rrid, mobile) -> the latest due report's status, indexed as reports come due.

    Each refresh reads only the reports that came due since the last one (the report
    book's ``due_since``): a new message costs the reports made since, not all of them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._status: dict[tuple[str, str, str], str] = {}

    def refresh(self, state: GatewayState) -> None:
        # Held throughout, so two refreshes never apply their reports out of order (a
        # reused rrid's later report must win). Nothing holding the state's lock comes here.
        with self._lock:
            with state.lock:
                book = state.reports
                book.release(state.clock())
                new = {sn: book.due_since(sn, self._seen.get(sn, 0)) for sn in state.accounts}
            for sn, reports in new.items():
                for report in reports:
                    self._status[(sn, report.rrid, report.mobile)] = report.status
                self._seen[sn] = self._seen.get(sn, 0) + len(reports)

    def get(self, sn: str, rrid: str, mobile: str) -> str | None:
        with self._lock:
            return self._status.get((sn, rrid, mobile))


class _Replies:
    """The replies (MO) since the last clear, by moID and by mobile, as they are made."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[int, InjectedReply] = {}
        self._by_mobile: dict[str, list[InjectedReply]] = {}
        self._ordered: list[InjectedReply] = []
        self._before = 0  # replies up to this moID were cleared

    def add(self, replies: list[InjectedReply]) -> None:
        with self._lock:
            for reply in replies:
                if reply.id <= self._before or reply.id in self._by_id:
                    continue
                self._by_id[reply.id] = reply
                # In moID order even when two injections finish out of order.
                key = mobile_key(reply.mobile)
                bisect.insort(self._by_mobile.setdefault(key, []), reply, key=_mo_id)
                bisect.insort(self._ordered, reply, key=_mo_id)

    def clear(self, last_id: int) -> None:
        with self._lock:
            self._before = max(self._before, last_id)
            self._by_id.clear()
            self._by_mobile.clear()
            self._ordered.clear()

    def of(self, mobile: str | None) -> list[InjectedReply]:
        with self._lock:
            if mobile is None:
                return list(self._ordered)
            return list(self._by_mobile.get(mobile_key(mobile), ()))

    def get(self, reply_id: int) -> InjectedReply | None:
        with self._lock:
            return self._by_id.get(reply_id)


def _mo_id(reply: InjectedReply) -> int:
    return reply.id


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
        self._replies = _Replies()

    # -- messages ---------------------------------------------------------------------------
    def _build(self, items: list[Numbered]) -> list[InboxMessage]:
        if not items:
            return []
        # Only the reports due since the last look are read (a few, or none): cheap enough
        # for every build, and a reused rrid's later report shows at once.
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
        mobile = mobile_key(mobile) if mobile else None
        query = (q or "").strip().casefold()
        skip = (page - 1) * per_page
        if not query:
            total, items = self.ledger.page(skip, per_page, mobile or None)
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
        """The newest message to ``mobile`` (normalised as the client does), or None."""
        items = self.ledger.newest(0, 1, mobile_key(mobile))
        return self._build(items)[0] if items else None

    def clear(self) -> int:
        """Empty the view (the ledger's messages, rejections and faults; replies leave the
        threads); accounts, reports and the gateway's replies stay. How many messages went."""
        with self._state.lock:
            last_reply = max((r.id for r in self._state.inbox.all()), default=0)
        self._replies.clear(last_reply)
        return self.ledger.clear()

    # -- threads ----------------------------------------------------------------------------
    def add_replies(self, replies: list[InjectedReply]) -> None:
        """Index replies just injected (``gw.reply``), for the threads."""
        self._replies.add(replies)

    def replies(self, mobile: str | None = None) -> list[InjectedReply]:
        """Replies (MO) since the last clear, of ``mobile`` or all, oldest first (from the
        index by mobile: no scan of the others)."""
        return self._replies.of(mobile)

    def reply(self, reply_id: int) -> InjectedReply:
        """The reply with this moID (since the last clear); KeyError when there is none."""
        found = self._replies.get(reply_id)
        if found is None:
            raise KeyError(f"the inbox has no reply {reply_id}")
        return found

    def thread(self, mobile: str, limit: int = 200) -> list[ThreadItem]:
        """The latest ``limit`` messages to ``mobile`` and replies from it, in time order
        (``mobile`` normalised as the client does)."""
        key = mobile_key(mobile)
        sent: list[ThreadItem] = list(self._build(self.ledger.newest(0, limit, key)))
        items = sent + list(self.replies(mobile)[-limit:])
        items.sort(key=_when)
        return items[-limit:]


def _when(item: ThreadItem) -> tuple[datetime, int, int]:
    if isinstance(item, InjectedReply):
        return item.received, 1, item.id
    return item.time, 0, item.id
