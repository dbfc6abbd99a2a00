"""``mandao.AsyncClient``: the client for asyncio applications, on the same core.

Everything but the carrying is :class:`~mandao._client_base.BaseClient`'s, as for
:class:`~mandao.Client`: settings, validation, planning, dry runs, the duplicate guard,
results and errors. The requests go through httpx on the running loop
(:mod:`mandao._async`); journal writes, and work that would hold the loop (opening the
journal, the duplicate guard's query, composing a large send), run in one worker thread
of the client's.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, TypeVar, Unpack, overload

from ._async_inbound import AsyncInbound
from ._client_base import RACES, GroupOptions, PersonalOptions
from ._core.batches import Refused
from ._operations import OPERATIONS, Operation

if TYPE_CHECKING:
    from os import PathLike

    import httpx  # noqa: F401 (the session's type, named in a string below)

    from ._compose.plan import Plan, Planned
    from ._core.batches import Sent
    from ._journal.sent import Unseen
    from ._results import AccountInfo, DryRun, RegistrationResult, SendResult
    from ._transports.aio import AioTransport

__all__ = ["AsyncClient"]

T = TypeVar("T")

#: Sends of more recipients than this are composed in the worker thread, off the loop.
_COMPOSE_OFF_LOOP = 2000


class AsyncClient(AsyncInbound):
    """The Mandao client for asyncio: :class:`Client`'s constructor, settings, methods and
    results, each method ``async``; ``async with`` closes it.

    ``session`` is an ``httpx.AsyncClient`` to carry the requests (never closed by this
    client); by default the client keeps its own pool. Every other argument is
    :class:`Client`'s. The serial's ``-18``/``-19`` admission is shared with every
    ``Client`` and ``AsyncClient`` of the same serial, journal and hosts (docs/async.md).

    Example::

        >>> import asyncio, mandao
        >>> async def main() -> None:
        ...     async with mandao.AsyncClient("SDK-TST-010-00001", "secret") as client:
        ...         result = await client.send("13800138000", "验证码 1234【示例】")
        >>> asyncio.run(main())  # doctest: +SKIP
    """

    _SESSION = ("httpx", "AsyncClient")
    _transport: AioTransport | None = None
    _worker_: ThreadPoolExecutor | None = None
    _worker_pid = -1
    _in_flight = 0  # calls under way: aclose() leaves the worker to the last of them
    _closing = False

    @classmethod
    def from_config(cls, path: str | PathLike[str] | None = None, **overrides: Any) -> AsyncClient:
        """As :meth:`Client.from_config`."""
        return cls(**cls._config_kwargs(path, overrides))

    # -- the worker and the transport ----------------------------------------------------
    def _worker(self) -> ThreadPoolExecutor:
        """The client's one thread for journal writes and other work off the loop (a
        forked child's own: the parent's thread is not in it)."""
        if self._worker_ is None or self._worker_pid != os.getpid():
            with self._lock:
                if self._worker_ is None or self._worker_pid != os.getpid():
                    self._worker_ = ThreadPoolExecutor(1, thread_name_prefix="mandao-worker")
                    self._worker_pid = os.getpid()
                    self._worker_.submit(_warm)
        return self._worker_

    async def _sending(self) -> AioTransport:
        if self._store is None or self._transport is None:
            # The first call's work is done in the worker, not on the loop: opening the
            # journal (disk work), importing zeep and httpx and reading the WSDLs (about
            # 0.2 s of a first send, which stalled every other task of the loop).
            return await self._off_loop(self._prepared)
        return self._transport

    def _prepared(self) -> AioTransport:
        """In the worker (one thread: first calls made at once run here one by one)."""
        from ._transports.aio import AioTransport

        self._serial_store()
        wsdl = self._wsdl()
        for op in ("mdsmssend", "balance"):  # each service's WSDL, parsed and bound
            wsdl.client(OPERATIONS[op].service)
        if self._transport is None:
            self._transport = AioTransport(
                self.timeouts, self._session, self._limits, lambda: self._credentials
            )
        return self._transport

    # -- sends --------------------------------------------------------------------------
    @overload
    async def send(
        self,
        mobiles: str | Iterable[str],
        content: str,
        *,
        dry_run: Literal[False] = ...,
        **options: Unpack[GroupOptions],
    ) -> SendResult: ...

    @overload
    async def send(
        self,
        mobiles: str | Iterable[str],
        content: str,
        *,
        dry_run: Literal[True],
        **options: Unpack[GroupOptions],
    ) -> DryRun: ...

    async def send(
        self,
        mobiles: str | Iterable[str],
        content: str,
        *,
        dry_run: bool = False,
        **options: Unpack[GroupOptions],
    ) -> SendResult | DryRun:
        """As :meth:`Client.send`."""
        many = not isinstance(mobiles, str) and _large(mobiles)
        return await self._execute("group", (mobiles, content), options, dry_run, many)

    @overload
    async def send_personalized(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: Literal[False] = ...,
        **options: Unpack[PersonalOptions],
    ) -> SendResult: ...

    @overload
    async def send_personalized(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: Literal[True],
        **options: Unpack[PersonalOptions],
    ) -> DryRun: ...

    async def send_personalized(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: bool = False,
        **options: Unpack[PersonalOptions],
    ) -> SendResult | DryRun:
        """As :meth:`Client.send_personalized`."""
        return await self._execute("personal", messages, options, dry_run, _large(messages))

    @overload
    async def send_many(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: Literal[False] = ...,
        **options: Unpack[GroupOptions],
    ) -> SendResult: ...

    @overload
    async def send_many(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: Literal[True],
        **options: Unpack[GroupOptions],
    ) -> DryRun: ...

    async def send_many(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: bool = False,
        **options: Unpack[GroupOptions],
    ) -> SendResult | DryRun:
        """As :meth:`Client.send_many`."""
        return await self._execute("many", messages, options, dry_run, _large(messages))

    async def _execute(
        self,
        kind: Literal["group", "personal", "many"],
        given: Any,
        options: Mapping[str, Any],
        dry_run: bool,
        large: bool,
    ) -> SendResult | DryRun:
        """Plan (off the loop when large), guard (off the loop), send each batch."""

        def checked() -> Plan:
            return self._plan(kind, given, options)

        plan = await self._off_loop(checked) if large else checked()
        guarded, tries = await self._screened(plan), 1  # a dry run leaves out what a send would
        if dry_run:
            return (
                await self._off_loop(lambda: self._dry_run(guarded))
                if large
                else (self._dry_run(guarded))
            )
        while True:
            try:
                return await self._send_plan(guarded, options)
            except Refused as refused:  # as Client._execute
                if tries == RACES:
                    raise refused.error from None
                tries, guarded = tries + 1, await self._screened(plan)

    async def _screened(self, plan: Plan) -> Plan:
        """``self._guarded(plan)``, off the loop (it reads the journal)."""
        if self._unscreened(plan):
            return plan
        said: list[str] = []
        guarded = await self._off_loop(lambda: self._guarded(plan, said.append))
        if said:  # at the line that awaited the send, as Client warns
            import warnings

            from ._journal.guards import DuplicateWarning

            for message in said:
                warnings.warn(message, DuplicateWarning, stacklevel=4)
        return guarded

    async def _send_plan(self, plan: Plan, options: Mapping[str, Any]) -> SendResult:
        from ._async import send_plan
        from ._journal.guards import unseen_for

        call_id, index, total = self._call_id(), itertools.count(), len(plan.requests)

        async def send_one(request: Planned) -> Sent:
            batch = (call_id, next(index), total)
            op = OPERATIONS[request.operation]
            unseen = unseen_for(plan, batch[1])
            return await self._call(op, request.fields, request.recipients, batch, unseen)

        return await send_plan(plan, send_one, options.get("progress"))

    async def _call(
        self,
        op: Operation,
        values: Mapping[str, str],
        recipients: Sequence[str],
        batch: tuple[str, int, int] | None = None,
        unseen: Unseen | None = None,
    ) -> Sent:
        """As ``Client._call``: one request under the serial's admission and failover."""
        from ._async import call
        from ._core.batches import Sent
        from ._journal import Recorder

        transport = await self._sending()
        assert self._store is not None  # noqa: S101 (made by _sending)
        built = self._build(op, values, self._credentials.pwd(op.pwd))
        record = Recorder(self.journal, op.name, built.protocol, built.fields, recipients, batch,
                          unseen)  # fmt: skip
        worker = self._worker()
        self._in_flight += 1
        try:
            done = await call(
                built, recipients, record, transport=transport, store=self._store,
                policy=self._policy(), rng=self._rng, sn=self.sn, worker=worker,
                journaled=self.journal is not None,
            )  # fmt: skip
        finally:
            self._in_flight -= 1
            if self._closing and not self._in_flight:
                self._stop_worker()
        return Sent(done.result, done.url, built.protocol, done.waited)

    # -- the account ----------------------------------------------------------------------
    async def account(self) -> AccountInfo:
        """As :meth:`Client.account`."""
        from ._results import AccountInfo

        raw, host, protocol, _ = await self._call(OPERATIONS["mdgetSninfo"], {}, ())
        return AccountInfo.parse(raw, host=host, protocol=protocol)

    async def balance(self) -> int:
        """As :meth:`Client.balance`."""
        raw, host, _, _ = await self._call(OPERATIONS["balance"], {}, ())
        from ._results import whole_number

        return whole_number(raw, operation="balance", host=host)

    async def register(self, **fields: str) -> RegistrationResult:
        """As :meth:`Client.register`."""
        self._check_register(fields)
        return await self._registration(OPERATIONS["Register"], dict(fields))

    async def unregister(self) -> RegistrationResult:
        """As :meth:`Client.unregister`."""
        return await self._registration(OPERATIONS["UnRegister"], {})

    async def _registration(self, op: Operation, values: Mapping[str, str]) -> RegistrationResult:
        from ._journal import registration_guard
        from ._results import RegistrationResult, whole_number

        journal, force = self.journal, not self._registration_guard
        await self._off_loop(lambda: registration_guard(journal, self.sn, op.name, force))
        raw, host, protocol, _ = await self._call(op, values, ())
        code = whole_number(raw, operation=op.name, host=host)
        return RegistrationResult(operation=op.name, code=code, host=host, protocol=protocol)

    # -- closing --------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close the client's own connection pool and its worker thread (every journal row
        was written when its call returned). A reset, as :meth:`Client.close`: a later
        call opens them again."""
        if self._transport is not None:
            await self._transport.aclose()
        if self._in_flight:
            self._closing = True  # the last call under way stops the worker, rows written
        else:
            self._stop_worker()

    async def close(self) -> None:
        """As :meth:`Client.close`: :meth:`aclose` (``await client.close()``)."""
        await self.aclose()

    def _stop_worker(self) -> None:
        """Close the journal the client opened (in the worker: it waits on a disk or a
        database), then let the worker end."""
        self._closing = False
        journal = self._own_journal()
        if self._worker_ is not None:
            if journal is not None:
                self._worker_.submit(journal.close)  # runs before the worker ends
            self._worker_.shutdown(wait=False)
            self._worker_ = None
        elif journal is not None:
            journal.close()  # no request ever went: opened, if at all, by the caller's reads

    async def __aenter__(self) -> AsyncClient:
        """Made ready to send (in the worker: the WSDLs read, the journal opened), so that
        no first call pays it under its caller's timeout."""
        await self._sending()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _warm() -> None:
    """Import numpy (the ``bulk`` extra, when installed) in the worker while the heap is
    small: imported later, in the middle of a million-number send, its new objects set off
    a full garbage collection that walks the caller's numbers with the GIL held (30-55 ms
    of a loop that cannot run)."""
    from ._compose.numbers import load_numpy

    load_numpy()


def _large(given: object) -> bool:
    """Whether ``given`` holds enough recipients to compose off the loop."""
    try:
        return len(given) > _COMPOSE_OFF_LOOP  # type: ignore[arg-type]
    except TypeError:
        return True  # an iterator: its size is unknown; off the loop to be safe
