"""httpx carries each encoded request on the event loop; what happened comes back as an exchange.

The asyncio twin of :mod:`.sync`: the same :func:`codec.encode` builds the request (every
protocol), the same :func:`codec.response` reads the reply, and every exception httpx
raises becomes a :class:`~mandao._core.wire.Broken` in :mod:`.aio_failures`, by the phase
it proves. Redirects are never followed and timeouts are always set, on a client of our own
or on one the caller supplies (per request, so the supplied client itself is left as it is).

When the request may have left is told by httpcore's trace events rather than guessed from
the exception's class; :class:`_Written` says which event counts and why.

The reply streams in raw (``aiter_raw``): :class:`~.body.Body` caps it and decompresses
it a bounded step at a time, and the whole reply must arrive within the read timeout from
the moment the request starts to be written (an ``asyncio.timeout`` rescheduled then, never
past the call's deadline), not within a read timeout per read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import zeep

from .. import _log  # noqa: F401 - installs log redaction (httpx's loggers too) before any request
from .._config import ReplyLimits, Timeouts
from .._core.wire import Broken, Exchange
from .._credentials import Credentials
from .._redact import Secrets, redact_exception, scrubbing
from .._version import __version__
from . import codec
from .aio_failures import ERRORS, broken
from .body import ACCEPT_ENCODING, Body, BodyError
from .failures import describe
from .wire import WireRequest
from .wsdl import Built

__all__ = ["USER_AGENT", "AioTransport", "pool", "timeout"]

#: What a closed reply's stream is swapped for. httpx binds each response to its stream
#: (``response.stream._response``), a cycle holding the request, the response and
#: httpcore's objects (about sixty per send) until a collection finds them; a burst of
#: sends left tens of thousands, and the collection that met them held the GIL (the
#: event loop's too) for tens of milliseconds. Swapped, they are freed as the exchange ends.
_SPENT = httpx.ByteStream(b"")

#: Who is calling: the very header the sync client's session sends.
USER_AGENT = f"mandao/{__version__} zeep/{zeep.__version__}"


def timeout(timeouts: Timeouts) -> httpx.Timeout:
    """httpx's four timeouts from ``timeouts``; none is ever left unset.

    ``write`` is ``read``: a request of ours is a few kilobytes, so a write that stalls that
    long is a gateway that stopped reading, as a read that stalls is. ``pool`` (waiting for
    a connection of the pool) is ``connect + read``: a pooled connection comes free when a
    request on it ends, which that request's own connect and read timeouts bound, so a
    shorter wait could fail a request that would have had its connection. ``wait`` is not
    used: it is the serial's admission budget, spent before the transport is called.
    """
    return httpx.Timeout(
        connect=timeouts.connect,
        read=timeouts.read,
        write=timeouts.read,
        pool=timeouts.connect + timeouts.read,
    )


def _verify() -> ssl.SSLContext | bool:
    """The CA bundle requests would use: ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE``.

    httpx itself reads ``SSL_CERT_FILE``/``SSL_CERT_DIR`` (with ``trust_env``), not these;
    a deployment that points requests at its bundle gets it for the async client too.
    """
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if not bundle:
        return True
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


def pool(timeouts: Timeouts) -> httpx.AsyncClient:
    """A new ``httpx.AsyncClient`` as mandao sends with: its own connection pool.

    Proxies come from the environment (``trust_env``, as with requests), read when the
    client is made: unlike requests, httpx does not look them up again on each request.
    """
    return httpx.AsyncClient(
        timeout=timeout(timeouts),
        follow_redirects=False,
        trust_env=True,
        verify=_verify(),
        headers={"User-Agent": USER_AGENT},
    )


class _Written:
    """httpcore's trace callback for one exchange: has the request's first byte been handed over?

    ``on_written`` is called, once, at ``<http11|http2>.send_request_headers.started``: the
    last moment at which nothing of the request has been written. httpcore emits it and then
    hands the header block to h11 and the socket; from there on any part of the request may
    be on the wire before the write returns or fails (a full send buffer, a slow link), so
    the request "may have reached the gateway". ``.complete`` would come only after the whole
    header block was accepted by the kernel: a cancellation or a reset in the middle of that
    write, with bytes already gone, would then be reported as never written, the one mistake
    that can send a message twice. Reporting at ``.started`` can err only the other way: an
    exchange cancelled in the instant between the event and the write is called maybe sent
    though nothing left (an unknown outcome, never re-sent).

    A proxy tunnel's ``CONNECT`` request (``https`` through an HTTP proxy) passes the same
    events first; it carries nothing of ours, so it does not count.
    """

    __slots__ = ("_on_written", "_reply", "written")

    def __init__(
        self,
        on_written: Callable[[], None] | None,
        reply: Callable[[], None] | None = None,
    ) -> None:
        self._on_written = on_written
        self._reply = reply  # starts the whole reply's deadline
        self.written = False

    async def __call__(self, event: str, info: Mapping[str, Any]) -> None:
        # No await in here: the callback is no point at which the task can be cancelled.
        if self.written or not event.endswith(".send_request_headers.started"):
            return
        if getattr(info.get("request"), "method", None) == b"CONNECT":
            return
        self.written = True
        if self._reply is not None:
            self._reply()
        if self._on_written is not None:
            self._on_written()


class AioTransport:
    """Carries built requests with one pooled ``httpx.AsyncClient``, on the running loop.

    Args:
        timeouts: connect and read timeouts, set on every request (see :func:`timeout`).
        client: an ``httpx.AsyncClient`` to send with (its pool, proxies, TLS settings); it
            is never closed here. None: one of mandao's own (:func:`pool`), made on first
            use in the running event loop, which it then serves alone (once that loop is
            closed, a new pool is made for the next).
        limits: the cap of each operation's replies (:class:`~mandao._config.ReplyLimits`).
        credentials: the client's credentials as they are now: both forms of its password
            are scrubbed from what any server sends back.
    """

    def __init__(
        self,
        timeouts: Timeouts,
        client: httpx.AsyncClient | None = None,
        limits: ReplyLimits | None = None,
        credentials: Callable[[], Credentials] | None = None,
    ) -> None:
        self.timeouts = timeouts
        self.limits = limits or ReplyLimits()
        self._credentials = credentials
        self._given = client
        self._client = client
        self._making: asyncio.Future[httpx.AsyncClient] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeout = timeout(timeouts)

    def __repr__(self) -> str:
        owner = "own" if self._given is None else "given"
        return f"<AioTransport {owner} pool, connect={self.timeouts.connect}s>"

    async def _carrier(self) -> httpx.AsyncClient:
        """The client to send with: the one given, or our own, made once for this loop."""
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A pool's connections belong to the loop that opened them: they died with a
            # closed one (asyncio.run per call; their sockets are the garbage collector's
            # now, as nothing can close them without their loop), and httpx would fail
            # obscurely on another live one.
            if self._loop is not None and not self._loop.is_closed():
                raise RuntimeError("an AioTransport's own pool serves one event loop at a time")
            self._client, self._making, self._loop = None, None, loop
        if self._client is None:
            if self._making is None:
                # httpx loads the CA bundle into an SSL context as it makes a client: 50 to
                # 100 ms of blocking work, done in a worker thread, never on the loop.
                self._making = asyncio.ensure_future(asyncio.to_thread(pool, self.timeouts))
            try:
                # Shielded: one caller cancelled while it is made leaves it to the others.
                self._client = await asyncio.shield(self._making)
            except Exception:
                self._making = None  # the next exchange tries again
                raise
        return self._client

    def secrets(self, built: Built) -> Secrets:
        """What ``built`` carries that no text from a server may show."""
        return codec.secrets(built, None if self._credentials is None else self._credentials())

    async def exchange(
        self,
        built: Built,
        host: str,
        *,
        on_written: Callable[[], None] | None = None,
        budget: float | None = None,
    ) -> Exchange:
        """Send ``built`` to the service URL ``host``; what happened on the wire.

        ``on_written`` is called once, when the request's first byte is about to be handed
        to the socket (not at all if it never is). A cancellation propagates: whether the
        request may have left is whether ``on_written`` was called. The connection of a
        cancelled exchange is closed, never handed back to the pool half used. ``budget``:
        seconds left before the call's deadline; the attempt's timeouts are cut to it.
        """
        request = codec.encode(built, host)
        hidden = self.secrets(built)
        carrier = await self._carrier()
        loop = asyncio.get_running_loop()
        read, limit, until = self.timeouts.read, self._timeout, None
        if budget is not None:
            until = loop.time() + budget
            read = min(read, budget)
            limit = timeout(Timeouts(min(self.timeouts.connect, budget), read))
        scope = asyncio.timeout_at(until)

        def reply_starts() -> None:
            end = loop.time() + read
            # Past its deadline already, the scope cannot move: it is cancelling the task.
            with contextlib.suppress(RuntimeError):
                scope.reschedule(end if until is None else min(end, until))

        written = _Written(on_written, reply_starts)
        try:
            with scrubbing(hidden):
                async with scope:
                    return await self._carry(carrier, built, request, limit, written, hidden)
        except TimeoutError:
            if not scope.expired():
                raise
        # The whole reply took longer than the read timeout (or the call ran out): told as
        # httpx tells a read that timed out, its class the cause.
        if written.written:
            late = httpx.ReadTimeout(
                "the whole reply took longer than the read timeout",
                request=httpx.Request(request.method, hidden.scrub(request.url)),
            )
            return Broken("sent", "read timeout after the request was written", late)
        return Broken("connect", "the call's deadline passed before the request was written")

    async def _carry(
        self,
        carrier: httpx.AsyncClient,
        built: Built,
        request: WireRequest,
        limit: httpx.Timeout,
        written: _Written,
        hidden: Secrets,
    ) -> Exchange:
        name = built.operation.name
        try:
            outgoing = carrier.build_request(
                request.method,
                request.url,
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING,
                         **request.headers},
                content=request.body or None,
                timeout=limit,
                extensions={"trace": written},
            )  # fmt: skip
            reply = await carrier.send(outgoing, stream=True, follow_redirects=False)
        except ERRORS as exc:
            return self._broken(exc, written, hidden)
        except Exception as exc:  # anything else: it may have left
            return Broken("sent", hidden.scrub(describe(exc)), redact_exception(exc, hidden))
        try:
            body = Body(self.limits.of(name), reply.headers.get("content-encoding"), name)
            async for chunk in reply.aiter_raw():
                body.feed(chunk)
            data = body.finish()
        except BodyError as exc:
            return codec.unreadable(reply.status_code, str(exc))
        except ERRORS as exc:
            return self._broken(exc, written, hidden)
        except Exception as exc:
            return Broken("sent", hidden.scrub(describe(exc)), redact_exception(exc, hidden))
        finally:
            # Read to its end: back to the pool; else closed. Failing to close changes
            # nothing of what the reply said.
            try:
                with contextlib.suppress(Exception):
                    await reply.aclose()
            finally:  # a cancellation in aclose too
                reply.stream = _SPENT
        return codec.response(built, reply.status_code, data, hidden)

    @staticmethod
    def _broken(exc: Exception, written: _Written, hidden: Secrets) -> Broken:
        done = broken(exc, written=written.written)
        cause = redact_exception(done.cause, hidden) if done.cause is not None else None
        return done._replace(reason=hidden.scrub(done.reason), cause=cause)

    async def aclose(self) -> None:
        """Close mandao's own pool (a supplied client stays open); a later exchange makes anew."""
        if self._given is not None:
            return
        client, making = self._client, self._making
        self._client, self._making, self._loop = None, None, None
        if client is None and making is not None:
            with contextlib.suppress(Exception):  # never made: nothing to close
                client = await making
        if client is not None:
            await client.aclose()
