"""``Client``'s methods for what comes back (replies, delivery reports, their pollers),
and for the account's password.

The steps are :mod:`mandao._fetching`'s; here they are taken in line, around the one
call each fetch makes (through ``_call``: under the serial's admission and failover, so a
poller and the sends of every process share the serial's slot and host).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, TypeVar

from ._client_base import BaseClient
from ._client_checks import check_changed, check_password
from ._credentials import Credentials
from ._errors import (
    GatewayUnreachable,
    JournalError,
    MandaoError,
    OutcomeUnknown,
    ProtocolError,
    RateLimited,
)
from ._operations import OPERATIONS

if TYPE_CHECKING:
    import requests  # noqa: F401 - named in the base class, as text

    from ._core.batches import Sent
    from ._fetching import Fetched, Held
    from ._inbound.replies import Reply
    from ._inbound.reports import Report
    from ._operations import Operation

__all__ = ["POLL_ERRORS", "ClientInbound", "backoff"]

T = TypeVar("T")
log = logging.getLogger("mandao")

#: Failures a poller rides out with a longer pause (any other ends it): the gateway out of
#: reach or slow to answer, and a journal busy or briefly unreachable.
POLL_ERRORS = (GatewayUnreachable, OutcomeUnknown, RateLimited, JournalError)


def backoff(delay: float, every: float, most: float, failed: bool) -> float:
    """The pause before the next poll: ``every`` after a success, doubled (to ``most``)
    after each failure in a row."""
    return min(max(delay, every) * 2, most) if failed else every


class ClientInbound(BaseClient["requests.Session"]):
    """The methods of :class:`mandao.Client` for replies and delivery reports."""

    _code: str | bool | None = False  # the service number GetCode gave (False: not asked)
    _no_journal: str | None = None  # what a fetch without a journal says to do (the sandbox's)

    @functools.cached_property
    def _held(self) -> Held:
        """Replies and reports interrupted fetches could not hand over (the next gives them)."""
        from ._fetching import Held

        return Held()

    def _call(
        self,
        op: Operation,
        values: Mapping[str, str],
        recipients: Sequence[str],
        batch: tuple[str, int, int] | None = None,
    ) -> Sent:
        raise NotImplementedError  # Client's

    def change_password(self, new: str) -> None:
        """Change the serial's password at the gateway (``UDPPwd``); this client uses the
        new one from then on. The old one stops working: update where it is kept.

        Raises:
            ValidationError: ``new`` is empty, or has spaces or control characters at its ends.
        """
        raw, host, _, _ = self._call(OPERATIONS["UDPPwd"], {"newpwd": check_password(new)}, ())
        check_changed(raw, host)
        self._credentials = Credentials(self.sn, new)

    def service_number(self) -> str | None:
        """The account's service number (特服号): the one given to the client, else what
        ``GetCode`` answers (asked once; again after a failure to reach it); None when it
        cannot be known. A reply's ``ext``
        is what follows it in the number the reply was sent to."""
        if self._inbound.service_number is not None:
            return self._inbound.service_number
        if self._code is False:
            from ._fetching import service_code

            try:
                answer: str | MandaoError = self._call(OPERATIONS["GetCode"], {}, ()).result
            except MandaoError as exc:
                answer = exc
            self._code = service_code(answer)
        return self._code if isinstance(self._code, str) else None

    def fetch_replies(
        self, *, operation: Literal["mo", "mo2", "RECSMS_UTF8"] = "mo"
    ) -> Fetched[Reply]:
        """The replies (MO) waiting at the gateway, committed to the journal before they
        are read (``mo`` gives each reply once) and returned as :class:`~mandao.Reply`
        values; opt-out replies ("TD", "退订", ...) put their numbers on the suppression list.

        Args:
            operation: ``mo`` (the vendor's preferred one), ``mo2`` (with a cursor kept in
                the journal) or ``RECSMS_UTF8``, whichever the account uses.

        Raises:
            ConfigError: the client has no journal (replies need one: see the message).
            GatewayError: the gateway refused (-7, -17: the account lacks the permission).
            OutcomeUnknown: no answer came: what ``mo`` gave in it is lost (see the docs).
        """
        from ._fetching import ReplyFetch, _journal, through_ctrl_c

        _journal(self.journal, "replies", self._no_journal)  # refused before GetCode is asked
        fetch = ReplyFetch.start(
            self.journal, self.sn, operation, self._inbound, self.service_number()
        )
        fetch.recover()
        with self._held.handing("replies", fetch), through_ctrl_c():
            try:
                sent = self._call(OPERATIONS[operation], fetch.values(), ())
            except ProtocolError as exc:
                fetch.take_unread(exc)
                raise
            fetch.take(self._credentials.scrub(sent.result))
        return fetch.result(sent.url)

    def fetch_reports(self, *, rrid: str | None = None) -> Fetched[Report]:
        """Delivery reports since the last fetch (``report``, a cursor kept in the journal;
        ``report2`` for one send's ``rrid``), each matched to the attempt it belongs to:
        an attempt of unknown outcome that a report names is resolved as sent.

        The report format is not publicly documented: records are parsed tolerantly (see
        ``Client(report_parser=...)`` and docs/reports-and-replies.md) and each is kept raw.

        Raises:
            ConfigError: the client has no journal.
            GatewayError: the gateway refused (-16: a bad parameter; -7, -17: no permission).
            OutcomeUnknown: no answer came; the cursor did not move, so nothing is lost.
        """
        from ._fetching import ReportFetch, _journal, through_ctrl_c

        journal = _journal(self.journal, "delivery reports", self._no_journal)
        fetch = ReportFetch.start(journal, self.sn, rrid, self._inbound)
        fetch.recover()
        values = fetch.values()
        with self._held.handing("reports", fetch), through_ctrl_c():
            sent = self._call(OPERATIONS[fetch.operation], values, ())
            fetch.take(self._credentials.scrub(sent.result), values["maxid"])
        return fetch.result(sent.url)

    def poll_replies(
        self, *, every: float = 30.0, most: float = 600.0, stop: threading.Event | None = None,
        operation: Literal["mo", "mo2", "RECSMS_UTF8"] = "mo",
    ) -> Iterator[Reply]:  # fmt: skip
        """Replies as they arrive: fetch every ``every`` seconds (backing off to ``most``
        while the gateway fails), one poller per serial across threads and processes
        sharing the journal (a second waits for the first to stop). Ends when ``stop`` is
        set; Ctrl-C leaves between fetches or, in one, as a fetch would.

        Example::

            for reply in client.poll_replies(stop=shutting_down):
                handle(reply)
        """
        return self._poll("replies", lambda: self.fetch_replies(operation=operation),
                          every, most, stop)  # fmt: skip

    def poll_reports(
        self, *, every: float = 60.0, most: float = 600.0, stop: threading.Event | None = None
    ) -> Iterator[Report]:
        """Delivery reports as they arrive, as :meth:`poll_replies` polls replies."""
        return self._poll("reports", self.fetch_reports, every, most, stop)

    def _poll(
        self, kind: str, fetch: Callable[[], Fetched[T]], every: float, most: float,
        stop: threading.Event | None,
    ) -> Iterator[T]:  # fmt: skip
        from ._coordination.pollers import poller
        from ._fetching import _journal

        journal = _journal(self.journal, kind, self._no_journal)
        stop = stop or threading.Event()
        with poller(journal, self.sn, kind, stop.wait, every) as held:
            delay = every
            while held and not stop.is_set():
                try:
                    found = fetch()
                except POLL_ERRORS as exc:
                    delay = backoff(delay, every, most, failed=True)
                    log.warning("mandao: polling %s failed (%s); again in %.0f s", kind, exc, delay)
                else:
                    delay = backoff(delay, every, most, failed=False)
                    yield from found
                if stop.wait(delay):
                    return
