"""Fetching replies and delivery reports: the steps both clients take, around one call.

A fetch is: decode what earlier fetches kept but never decoded (a crash between keeping
and storing), read the cursor, make the call (the client's: under the serial's
admission, like a send), keep the answer raw (committed before anything reads it: ``mo``
gives each reply once), decode it, store what it held with the cursor moved, in one
transaction. The steps that touch the journal are plain calls; the sync client makes
them in line, the async client in its worker thread. Nothing here decides twice.

The one window that cannot be closed is between the gateway's answer arriving and its
commit here: a process killed in it loses that answer (``mo`` has already forgotten it).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from ._client_checks import Inbound
from ._errors import (
    AuthenticationError,
    ConfigError,
    InvalidParameter,
    JournalError,
    MandaoError,
    ProtocolError,
    ValidationError,
)
from ._inbound.cursors import mo2_cursor, report_cursor
from ._inbound.replies import Reply
from ._inbound.reports import Report
from ._operations import REPLY_FETCHES

if TYPE_CHECKING:
    from ._inbound.decoded import Decoded, Unreadable
    from ._inbound.reports import ReportParser
    from ._journal import Journal
    from ._journal.stored import Stored

__all__ = [
    "AFTER_KEEP",
    "Fetched",
    "Held",
    "Inbound",
    "ReplyFetch",
    "ReportFetch",
    "through_ctrl_c",
]

T = TypeVar("T")
log = logging.getLogger("mandao")

#: Called with the kept fetch's id right after its raw answer is committed, before it is
#: decoded: a test's hook (the crash test kills the process there). None otherwise.
AFTER_KEEP: Callable[[int], None] | None = None

UNREAD = "unread-"  # the source of a kept answer no decoder could read: stored whole
#: Every source a kept reply fetch may have (a push's body, an unread answer too).
REPLY_SOURCES = (*REPLY_FETCHES, "push", *(UNREAD + name for name in REPLY_FETCHES))
REPORT_OPERATIONS = ("report", "report2")


@dataclass(frozen=True, slots=True)
class Fetched(Generic[T]):
    """What one fetch brought: iterate it for the replies (or reports).

    Attributes:
        items: the new replies (or reports), in order; those kept by an earlier fetch that
            never got to store them (a crash) come first.
        unreadable: lines or records that could not be read, kept in the journal as they came.
        host: the service URL that answered ("" when nothing was asked: see ``recovered``).
        recovered: how many of ``items`` came from such earlier fetches.
        matched: reports matched to a journaled attempt.
        resolved: seqs of attempts of unknown outcome that a report resolved as sent.
        suppressed: numbers an opt-out reply put on the suppression list.
        seen: the records the answer held, new or stored before (a fetch of only those
            stored before, after a fetch of one send's reports, say, has ``items`` empty
            and more may wait behind it).
    """

    items: tuple[T, ...]
    unreadable: tuple[Unreadable, ...] = ()
    host: str = ""
    recovered: int = 0
    matched: int = 0
    resolved: tuple[int, ...] = ()
    suppressed: tuple[str, ...] = ()
    seen: int = 0

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]

    def __repr__(self) -> str:
        counts = {
            "unreadable": len(self.unreadable),
            "matched": self.matched,
            "resolved": len(self.resolved),
            "suppressed": len(self.suppressed),
            "recovered": self.recovered,
        }
        extra = "".join(f", {name}={n}" for name, n in counts.items() if n)
        return f"<Fetched {len(self.items)} from {self.host or 'the journal'}{extra}>"


class Held:
    """What fetches brought that their callers never got: a fetch interrupted (Ctrl-C, a
    task's cancellation) once the gateway had answered keeps the answer in the journal,
    and its replies or reports here; the client's next fetch of the kind returns them
    first, counted in ``recovered`` (``mo`` would not give them again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, list[Any]] = {}

    def take(self, kind: str) -> list[Any]:
        with self._lock:
            return self._items.pop(kind, [])

    def keep(self, kind: str, items: list[Any]) -> None:
        if items:
            with self._lock:
                self._items[kind] = items + self._items.get(kind, [])

    @contextmanager
    def handing(self, kind: str, fetch: _Steps[Any]) -> Iterator[None]:
        """Around a fetch's call and the keeping of its answer: what earlier fetches held
        goes first in ``fetch`` when the block ends; interrupted, ``fetch`` brought what
        is held for the next (what it recovered and took, and what was held)."""
        earlier = self.take(kind)
        try:
            yield
        except BaseException:
            self.keep(kind, earlier + fetch.items)
            raise
        fetch.prepend(earlier)


@contextmanager
def through_ctrl_c() -> Iterator[None]:
    """The block carried to its end through a Ctrl-C, raised once it has ended (a second
    Ctrl-C stops it at once; one within ``GRACE`` seconds of the first is taken for the same,
    forwarded). Only in the main thread, while Python's own handler is set: a program that
    handles SIGINT itself keeps its way."""
    from . import _signals

    caught: list[float] = []  # when the first came

    def later(signum: int, frame: object) -> None:
        if caught:
            if not _signals.in_grace(caught[0]):
                raise KeyboardInterrupt
            return
        caught.append(time.monotonic())
        log.warning(
            "Ctrl-C: the fetch ends first (the gateway gives each reply once, and its "
            "answer is being kept); Ctrl-C again stops it now, and may lose it"
        )

    with _signals.answering(signal.SIGINT, later, signal.default_int_handler):
        yield
    if caught:
        raise KeyboardInterrupt


def service_code(answer: str | MandaoError) -> str | bool | None:
    """What a client keeps of ``GetCode``'s answer (or failure): the service number; None
    when the account is refused it or the answer holds no number (not asked again); False
    after any other failure (unreachable, no answer read, an error of the gateway's own, a
    rate limit: asked again at the next fetch)."""
    if isinstance(answer, str):
        return answer.strip() if answer.strip().isdigit() else None
    again = not isinstance(answer, (AuthenticationError, InvalidParameter))
    log.warning("mandao: GetCode failed (%s): replies' ext left empty%s", answer,
                ", asked again at the next fetch" if again else "")  # fmt: skip
    return False if again else None


def _journal(journal: Journal | None, what: str, advice: str | None = None) -> Journal:
    if journal is None:  # ``advice``: what to do instead, when not the default's journal
        raise ConfigError(
            f"fetching {what} needs a journal: the gateway gives each reply once, so mandao "
            "commits what it answered before reading it, and keeps the cursors there; "
            f"{advice or 'make the client with a journal (the default), not journal=None'}"
        )
    return journal


@dataclass
class _Steps(Generic[T]):
    journal: Journal
    sn: str
    items: list[T] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    recovered: int = 0
    matched: int = 0
    resolved: list[int] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    seen: int = 0

    def _add(self, new: list[T], decoded: Decoded[T], stored: Stored) -> None:
        self.items += new
        self.seen += len(decoded.items)
        self.unreadable += decoded.unreadable
        self.matched += stored.matched
        self.resolved += stored.resolved
        self.suppressed += stored.suppressed

    def _kept(self, source: str, raw: str) -> int:
        """Commit ``raw``: tried twice (a dropped connection: the second has a new one),
        then written to a file (:mod:`._journal.spool`) that the next fetch keeps."""
        try:
            try:
                inbound = self.journal._keep(self.sn, source, raw)
            except JournalError as exc:
                log.warning("journal: a %s answer not kept (%s); trying again", source, exc)
                inbound = self.journal._keep(self.sn, source, raw)
        except JournalError as exc:
            from ._journal.spool import spool

            path = spool(self.journal, self.sn, source, raw)
            raise JournalError(
                f"{exc}; the {source} answer ({len(raw)} characters, which the gateway "
                f"gives once) was written to {path} instead: the next fetch of serial "
                f"{self.sn} keeps it in the journal and decodes it"
            ) from exc
        if AFTER_KEEP is not None:
            AFTER_KEEP(inbound)
        return inbound

    def _unspool(self, sources: tuple[str, ...]) -> None:
        """Keep in the journal the answers earlier fetches had to write to files."""
        from ._journal.spool import spooled

        for path, source, raw in spooled(self.journal, self.sn, sources):
            self.journal._keep(self.sn, source, raw)
            path.unlink()
            log.warning("journal: kept the %s answer written to %s", source, path)

    def prepend(self, earlier: list[T]) -> None:
        """Put ``earlier`` (what interrupted fetches could not hand over) first."""
        self.items[:0] = earlier
        self.recovered += len(earlier)

    def result(self, host: str) -> Fetched[T]:
        return Fetched(
            tuple(self.items), tuple(self.unreadable), host, self.recovered, self.matched,
            tuple(self.resolved), tuple(self.suppressed), self.seen,
        )  # fmt: skip


def _whole(raw: str, reason: str) -> Decoded[T]:
    """``raw`` as one unreadable record, for ``reason``."""
    from ._inbound.decoded import Decoded, Unreadable

    return Decoded((), (Unreadable(raw, reason),))


def _failed(raw: str, exc: Exception, what: str) -> Decoded[T]:
    return _whole(raw, f"the {what} failed on it: {exc!r}")


@dataclass
class ReplyFetch(_Steps[Reply]):
    """One fetch of replies (``mo``, ``mo2`` or ``RECSMS_UTF8``)."""

    operation: str = "mo"
    inbound: Inbound = field(default_factory=Inbound)
    service_number: str | None = None

    @classmethod
    def start(
        cls, journal: Journal | None, sn: str, operation: str, inbound: Inbound,
        service_number: str | None,
    ) -> ReplyFetch:  # fmt: skip
        if operation not in REPLY_FETCHES:
            raise ValidationError(
                f"expected one of {', '.join(REPLY_FETCHES)}, got {operation!r}",
                argument="operation",
            )
        return cls(_journal(journal, "replies"), sn, operation=operation, inbound=inbound,
                   service_number=service_number)  # fmt: skip

    def values(self) -> dict[str, str]:
        """The call's parameters besides sn and pwd (``mo2``: the cursor)."""
        if self.operation != "mo2":
            return {}
        return {"maxID": self.journal._cursor(f"mo2:{self.sn}") or "0"}

    def recover(self) -> None:
        """Decode and store what earlier fetches kept but never stored (or wrote to files)."""
        self._unspool(REPLY_SOURCES)
        for inbound, source, raw in self.journal._undecoded(self.sn, REPLY_SOURCES):
            before = len(self.items)
            self._store(inbound, source, raw)
            self.recovered += len(self.items) - before

    def take(self, raw: str) -> None:
        """Keep ``raw`` (the call's answer), then decode and store it."""
        from ._inbound.replies import EMPTY

        if raw.strip() in EMPTY:
            return  # nothing waited: nothing to keep
        self._store(self._kept(self.operation, raw), self.operation, raw)

    def take_unread(self, error: ProtocolError) -> None:
        """Keep the answer the codec could not read (``error.answer``), whole, as one
        unreadable record (``mo`` will not give its replies again), and say so in ``error``."""
        if error.answer is not None:
            source = UNREAD + self.operation
            self._store(self._kept(source, error.answer), source, error.answer)
            error.message += "; the whole answer is kept in the journal, as unreadable"
            error.args = (error.message,)

    def take_push(self, args: str) -> None:
        """Keep a push's ``args`` value, then decode and store it."""
        self._store(self._kept("push", args), "push", args)

    def _store(self, inbound: int, source: str, raw: str) -> None:
        from ._inbound.push import decode_push
        from ._inbound.replies import decode_replies

        number = self.service_number
        decoded: Decoded[Reply] = _whole(raw, "the answer is of no known shape")
        try:
            if source.startswith(UNREAD):
                pass  # stored whole
            elif source == "push":
                decoded = decode_push(raw, service_number=number)
            else:
                decoded = decode_replies(
                    raw, encoding=REPLY_FETCHES.get(source, "gb2312"), service_number=number
                )
        except Exception as exc:
            decoded = _failed(raw, exc, "reply decoder")
        moved = None
        if source == "mo2" and (last := mo2_cursor(decoded)) is not None:
            moved = (f"mo2:{self.sn}", str(last))
        new, stored = self.journal._store_replies(
            inbound, self.sn, decoded, self.inbound.keywords(), moved
        )
        self._add(new, decoded, stored)
        if stored.suppressed:
            from ._journal.content import mask

            for mobile in stored.suppressed:
                log.info("mandao: %s replied an opt-out keyword: on the suppression list",
                         mask(mobile))  # fmt: skip


@dataclass
class ReportFetch(_Steps[Report]):
    """One fetch of delivery reports (``report``, or ``report2`` for one batch's rrid)."""

    rrid: str | None = None
    parser: ReportParser = field(default_factory=lambda: Inbound().parser())

    @classmethod
    def start(
        cls, journal: Journal | None, sn: str, rrid: str | None, inbound: Inbound
    ) -> ReportFetch:
        return cls(_journal(journal, "delivery reports"), sn, rrid=rrid, parser=inbound.parser())

    @property
    def operation(self) -> Literal["report", "report2"]:
        return "report" if self.rrid is None else "report2"

    @property
    def _cursor_name(self) -> str:
        return f"report:{self.sn}" if self.rrid is None else f"report2:{self.sn}:{self.rrid}"

    def values(self) -> dict[str, str]:
        found = {"maxid": self.journal._cursor(self._cursor_name) or "0"}
        if self.rrid is not None:
            found["rrid"] = self.rrid
        return found

    def recover(self) -> None:
        """Store what earlier fetches kept but never stored. They move no cursor: which
        cursor their ids belong to (report's, or a report2 of some rrid) is not known, and
        a fetch from the old cursor gets the same records again (stored once)."""
        self._unspool(REPORT_OPERATIONS)
        for inbound, _, raw in self.journal._undecoded(self.sn, REPORT_OPERATIONS):
            before = len(self.items)
            self._store(inbound, raw, None)
            self.recovered += len(self.items) - before

    def take(self, raw: str, cursor: str) -> None:
        """Keep ``raw``, then parse it and store the reports, the cursor moved past them."""
        from ._inbound.reports import EMPTY

        if raw.strip() in EMPTY:
            return
        self._store(self._kept(self.operation, raw), raw, int(cursor or 0))

    def _store(self, inbound: int, raw: str, cursor: int | None) -> None:
        try:
            decoded = self.parser(raw)
        except Exception as exc:
            decoded = _failed(raw, exc, "report parser")
        last, moved = report_cursor(decoded), None
        if cursor is not None and last is not None and last > cursor:
            moved = (self._cursor_name, str(last))
        new, stored = self.journal._store_reports(inbound, self.sn, decoded, moved)
        self._add(new, decoded, stored)
