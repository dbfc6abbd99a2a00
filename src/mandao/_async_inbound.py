"""``AsyncClient``'s methods for what comes back: the same steps as ``Client``'s
(:mod:`mandao._fetching`), their journal work in the client's worker thread.

A fetch's answer is kept whatever happens to the task: the call and the keeping of its
answer run as one shielded task, so a cancellation (or ``asyncio.timeout``) arriving
meanwhile waits for them (at most the call's deadline) and goes on after: ``mo`` gives
each reply once, and an answer dropped between its arrival and its commit is lost.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ._client_base import BaseClient
from ._client_checks import check_changed, check_password
from ._client_inbound import POLL_ERRORS, backoff
from ._credentials import Credentials
from ._errors import MandaoError, ProtocolError
from ._operations import OPERATIONS

if TYPE_CHECKING:
    import httpx  # noqa: F401 - named in the base class, as text

    from ._core.batches import Sent
    from ._fetching import Fetched, Held, _Steps
    from ._inbound.replies import Reply
    from ._inbound.reports import Report
    from ._operations import Operation

__all__ = ["AsyncInbound"]

T = TypeVar("T")
log = logging.getLogger("mandao")


async def _whole(work: Coroutine[Any, Any, T]) -> T:
    """``work`` run to its end even if the task is cancelled meanwhile (the cancellation
    then goes on once it has ended)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])  # the answer committed first; the cancellation after
        raise


async def _handed(
    held: Held, kind: str, fetch: _Steps[T], work: Coroutine[Any, Any, str]
) -> Fetched[T]:
    """``fetch``'s result once ``work`` (the call and the keeping of its answer) has run
    to its end, with what interrupted fetches held first; interrupted itself, what it
    brought is held for the next."""
    with held.handing(kind, fetch):
        url = await _whole(work)
    return fetch.result(url)


class AsyncInbound(BaseClient["httpx.AsyncClient"]):
    """The methods of :class:`mandao.AsyncClient` for replies and delivery reports."""

    _code: str | bool | None = False
    _no_journal: str | None = None  # as ClientInbound's

    @functools.cached_property
    def _held(self) -> Held:
        """Replies and reports interrupted fetches could not hand over (the next gives them)."""
        from ._fetching import Held

        return Held()

    async def _call(
        self,
        op: Operation,
        values: Mapping[str, str],
        recipients: Sequence[str],
        batch: tuple[str, int, int] | None = None,
    ) -> Sent:
        raise NotImplementedError  # AsyncClient's

    def _worker(self) -> Executor:
        raise NotImplementedError  # AsyncClient's

    async def _off_loop(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._worker(), work)

    async def change_password(self, new: str) -> None:
        """As :meth:`Client.change_password`."""
        values = {"newpwd": check_password(new)}
        raw, host, _, _ = await self._call(OPERATIONS["UDPPwd"], values, ())
        check_changed(raw, host)
        self._credentials = Credentials(self.sn, new)

    async def service_number(self) -> str | None:
        """As :meth:`Client.service_number`."""
        if self._inbound.service_number is not None:
            return self._inbound.service_number
        if self._code is False:
            from ._fetching import service_code

            try:
                answer: str | MandaoError = (await self._call(OPERATIONS["GetCode"], {}, ())).result
            except MandaoError as exc:
                answer = exc
            self._code = service_code(answer)
        return self._code if isinstance(self._code, str) else None

    async def fetch_replies(
        self, *, operation: Literal["mo", "mo2", "RECSMS_UTF8"] = "mo"
    ) -> Fetched[Reply]:
        """As :meth:`Client.fetch_replies`."""
        from ._fetching import ReplyFetch, _journal

        # Refused before GetCode is asked:
        await self._off_loop(lambda: _journal(self.journal, "replies", self._no_journal))
        number = await self.service_number()
        fetch = await self._off_loop(
            lambda: ReplyFetch.start(self.journal, self.sn, operation, self._inbound, number)
        )
        await self._off_loop(fetch.recover)
        values = await self._off_loop(fetch.values)

        async def call_and_keep() -> str:
            try:
                sent = await self._call(OPERATIONS[operation], values, ())
            except ProtocolError as exc:
                await self._off_loop(functools.partial(fetch.take_unread, exc))
                raise
            await self._off_loop(lambda: fetch.take(self._credentials.scrub(sent.result)))
            return sent.url

        return await _handed(self._held, "replies", fetch, call_and_keep())

    async def fetch_reports(self, *, rrid: str | None = None) -> Fetched[Report]:
        """As :meth:`Client.fetch_reports`."""
        from ._fetching import ReportFetch, _journal

        def start() -> ReportFetch:
            journal = _journal(self.journal, "delivery reports", self._no_journal)
            return ReportFetch.start(journal, self.sn, rrid, self._inbound)

        fetch = await self._off_loop(start)
        await self._off_loop(fetch.recover)
        values = await self._off_loop(fetch.values)

        async def call_and_keep() -> str:
            sent = await self._call(OPERATIONS[fetch.operation], values, ())
            await self._off_loop(
                lambda: fetch.take(self._credentials.scrub(sent.result), values["maxid"])
            )
            return sent.url

        return await _handed(self._held, "reports", fetch, call_and_keep())

    def poll_replies(
        self, *, every: float = 30.0, most: float = 600.0, stop: asyncio.Event | None = None,
        operation: Literal["mo", "mo2", "RECSMS_UTF8"] = "mo",
    ) -> AsyncIterator[Reply]:  # fmt: skip
        """As :meth:`Client.poll_replies`, ``async for``; ends when ``stop`` is set."""
        return self._poll("replies", lambda: self.fetch_replies(operation=operation),
                          every, most, stop)  # fmt: skip

    def poll_reports(
        self, *, every: float = 60.0, most: float = 600.0, stop: asyncio.Event | None = None
    ) -> AsyncIterator[Report]:
        """As :meth:`Client.poll_reports`, ``async for``."""
        return self._poll("reports", self.fetch_reports, every, most, stop)

    async def _poll(
        self, kind: str, fetch: Callable[[], Awaitable[Fetched[T]]], every: float, most: float,
        stop: asyncio.Event | None,
    ) -> AsyncIterator[T]:  # fmt: skip
        import threading

        from ._coordination.pollers import poller
        from ._fetching import _journal

        journal = await self._off_loop(lambda: _journal(self.journal, kind, self._no_journal))
        stop = stop or asyncio.Event()
        stopping = threading.Event()  # the worker's view of ``stop``, for the lock's wait
        loop = asyncio.get_running_loop()
        # The lock is taken (and, if another holds it, waited for) in a thread of its own:
        # the worker stays free for journal writes.
        holder = poller(journal, self.sn, kind, stopping.wait, every)
        watch = asyncio.ensure_future(stop.wait())
        watch.add_done_callback(lambda _: stopping.set())
        try:
            held = await loop.run_in_executor(None, holder.__enter__)
            try:
                delay = every
                while held and not stop.is_set():
                    try:
                        found = await fetch()
                    except POLL_ERRORS as exc:
                        delay = backoff(delay, every, most, failed=True)
                        log.warning("mandao: polling %s failed (%s); again in %.0f s",
                                    kind, exc, delay)  # fmt: skip
                    else:
                        delay = backoff(delay, every, most, failed=False)
                        for item in found:
                            yield item
                    try:
                        await asyncio.wait_for(asyncio.shield(watch), delay)
                    except TimeoutError:
                        continue
            finally:
                await loop.run_in_executor(None, holder.__exit__, None, None, None)
        finally:
            watch.cancel()
