"""The asyncio transport: the same exchanges as the sync one, told apart by what left the socket."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import inspect
import logging
import re
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx
import pytest
import pytest_asyncio

import mandao
from mandao._config import Timeouts
from mandao._core.wire import Broken, Exchange, Response, Result
from mandao._operations import OPERATIONS, PROTOCOLS, Protocol
from mandao._transports import aio as aio_module
from mandao._transports.aio import USER_AGENT, AioTransport, timeout
from mandao._transports.aio_failures import ERRORS, ROWS, broken
from mandao._transports.session import session
from mandao._transports.sync import SyncTransport
from mandao._transports.wsdl import Built
from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN

MOBILE, TEXT = "13800138000", "验证码 1234【示例】"
SHORT = Timeouts(0.5, 0.5)
# Where the situation is not a timeout: a loaded machine may take the sandbox longer than
# SHORT's read timeout to process the request, and the read timeout is not what is compared.
ROOMY = Timeouts(0.5, 10)
OK_TEXT = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n123"
PARTIAL = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n12345"


def _built(protocol: Protocol) -> Built:
    """A one-number mdsmssend for ``protocol``, built as a Client builds it."""
    client = mandao.Client(SN, PASSWORD, protocol=protocol, journal=None)
    planned = client._plan("group", ([MOBILE], TEXT), {}).requests[0]
    return client._build(
        OPERATIONS[planned.operation], planned.fields, client._credentials.pwd("md5")
    )


class _Peer:
    """A one-purpose HTTP peer on 127.0.0.1, in the test's own loop; records each request.

    ``reply`` goes out once a whole request is read (at once on connecting if ``eager``);
    then the connection is closed (``close``) or kept until the client closes it, which
    sets ``closed``.
    """

    def __init__(self, reply: bytes | None, *, close: bool = True, eager: bool = False) -> None:
        self.reply, self.close, self.eager = reply, close, eager
        self.seen: list[bytes] = []
        self.connected, self.closed = asyncio.Event(), asyncio.Event()
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/webservice.asmx"

    async def __aenter__(self) -> _Peer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected.set()
        self._writers.append(writer)
        try:
            if not self.eager:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                self.seen.append(head + await reader.readexactly(int(length[1]) if length else 0))
            if self.reply is not None:
                writer.write(self.reply)
                await writer.drain()
            if not self.close:
                await reader.read()  # until the client closes its end
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.closed.set()
            writer.close()


class _Traced(httpx.AsyncHTTPTransport):
    """httpx's own transport, also telling the test which trace events have passed."""

    def __init__(self) -> None:
        super().__init__()
        self.events: dict[str, asyncio.Event] = collections.defaultdict(asyncio.Event)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = request.extensions["trace"]

        async def trace(name: str, info: dict[str, Any]) -> None:
            await inner(name, info)
            self.events[name].set()

        request.extensions = {**request.extensions, "trace": trace}
        return await super().handle_async_request(request)

    def connections(self) -> list[Any]:
        """The connections httpcore's pool holds."""
        return list(self._pool.connections)


@pytest_asyncio.fixture(params=["own", "given"])
async def aio(request: pytest.FixtureRequest) -> AsyncIterator[AioTransport]:
    """An AioTransport with short timeouts, on its own pool or on a lax client of the caller's
    (no timeouts, redirects followed): the transport's settings hold on either."""
    lax = request.param == "given"
    given = httpx.AsyncClient(timeout=None, follow_redirects=True) if lax else None  # noqa: S113
    transport = AioTransport(SHORT, given)
    yield transport
    await transport.aclose()
    if given is not None:
        await given.aclose()


def test_every_httpx_exception_class_has_a_row() -> None:
    """Each exception class httpx raises for a request has its own row in the table."""
    classes = {
        obj for _, obj in inspect.getmembers(httpx, inspect.isclass) if issubclass(obj, ERRORS)
    }
    assert len(classes) >= 20
    assert sorted(c.__name__ for c in classes - {row.kind for row in ROWS}) == []
    assert not issubclass(httpx.StreamConsumed, ERRORS)  # a programming error propagates


def test_timeouts_are_all_set() -> None:
    """connect and read as given, write as read, pool as connect + read: none unbounded."""
    assert timeout(Timeouts(2, 10)) == httpx.Timeout(connect=2, read=10, write=10, pool=12)


def _connect_error(inner: BaseException) -> httpx.ConnectError:
    """httpx's ConnectError as raised: httpx from httpcore from the OS or TLS error."""
    core = httpx.ConnectError("connect failed")
    core.__cause__ = inner
    return core


@pytest.mark.parametrize(
    ("inner", "reason"),
    [
        (
            ssl.SSLCertVerificationError(1, "certificate verify failed"),
            "TLS certificate not accepted",
        ),
        (ssl.SSLError(1, "wrong version number"), "TLS handshake failed"),
        (socket.gaierror(-2, "Name or service not known"), "DNS lookup failed"),
        (ConnectionRefusedError(111, "refused"), "connection refused"),
        (OSError(113, "No route to host"), "could not connect: connect failed"),
    ],
)
def test_what_a_connect_error_proves(inner: BaseException, reason: str) -> None:
    """A failure while connecting is unsent, named by its cause; once a byte left, maybe sent."""
    assert broken(_connect_error(inner), written=False) == Broken("connect", reason)
    assert broken(_connect_error(inner), written=True).phase == "sent"


@pytest.mark.asyncio
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_every_protocol_is_answered(
    aio: AioTransport, gateway: SandboxGateway, protocol: Protocol
) -> None:
    """Each protocol's send is answered with the id the sandbox recorded; on_written once each."""
    built, calls = _built(protocol), []
    for _ in range(2):  # the second over the pooled connection
        exchange = await aio.exchange(built, gateway.hosts[0], on_written=lambda: calls.append(1))
        assert exchange.status == 200
        assert isinstance(exchange.body, Result)
    entries = gateway.ledger.for_mobile(MOBILE)
    assert [(e.protocol, e.id) for e in entries] == [(protocol, exchange.body.text)] * 2
    assert calls == [1, 1]


@pytest.mark.asyncio
async def test_an_exchange_leaves_no_cycle_for_the_garbage_collector(
    aio: AioTransport, gateway: SandboxGateway
) -> None:
    """What an exchange made is freed as it ends, not left for a collection to find.

    httpx binds each response to its stream (``response.stream._response``): a cycle that
    holds the request, the response and httpcore's objects (about sixty per send) until a
    collection runs; a thousand sends left sixty thousand young objects, and the collection
    that met them held the GIL for 70 ms, the event loop's included.
    """
    built = _built("soap11")
    await aio.exchange(built, gateway.hosts[0])  # the pool and its connection are made
    gc.collect()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        for _ in range(5):
            exchange = await aio.exchange(built, gateway.hosts[0])
            assert isinstance(exchange.body, Result)
        gc.collect()
        left = {type(o).__module__.split(".")[0] for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert not left & {"httpx", "httpcore", "mandao"}


@pytest.mark.asyncio
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_request_on_the_wire_is_the_sync_transports(
    aio: AioTransport, protocol: Protocol
) -> None:
    """Request line, headers (User-Agent included) and body are those the sync transport sends."""
    built = _built(protocol)
    async with _Peer(OK_TEXT.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")) as peer:
        await asyncio.to_thread(SyncTransport(SHORT, session()).exchange, built, peer.url)
        await aio.exchange(built, peer.url)
    (sync_head, _, sync_body), (aio_head, _, aio_body) = (
        r.partition(b"\r\n\r\n") for r in peer.seen
    )
    sync_lines, aio_lines = sync_head.decode().split("\r\n"), aio_head.decode().split("\r\n")
    assert aio_lines[0] == sync_lines[0]
    assert aio_body == sync_body
    headers = [dict(line.lower().split(": ", 1) for line in h[1:]) for h in (sync_lines, aio_lines)]
    assert headers[1] == headers[0]
    assert headers[1]["user-agent"] == USER_AGENT.lower()


Setup = Callable[[SandboxGateway, _Peer], str]


def _fault(kind: str, **options: Any) -> Setup:
    def arm(gw: SandboxGateway, peer: _Peer) -> str:
        gw.primary.fail(kind, times=2, **options)  # once for each transport
        return gw.hosts[0]

    return arm


def _down(mode: str) -> Setup:
    def arm(gw: SandboxGateway, peer: _Peer) -> str:
        gw.primary.down(mode)  # type: ignore[arg-type]
        return gw.hosts[0]

    return arm


#: (situation, how to make it, the async exchange's phase or status, written, same reason)
SITUATIONS: list[tuple[str, Setup, str | int, bool, bool]] = [
    ("refused", _down("refused"), "connect", False, True),
    ("connect timeout", _down("timeout"), "connect", False, True),
    ("read timeout", _fault("hang"), "sent", True, True),
    ("reset after processing", _fault("drop-after"), "sent", True, True),
    ("reset before processing", _fault("drop-before"), "sent", True, True),
    # requests names its IncompleteRead; httpx's text for it is the reset row's.
    ("truncated reply", _fault("truncated"), "sent", True, False),
    ("a 500 page", _fault("http-error", status=500), 500, True, True),
    ("an HTML page", _fault("html"), 200, True, True),
    ("a redirect", lambda gw, peer: peer.url, 302, True, True),
]


def _shape(exchange: Exchange, same_reason: bool) -> tuple[object, ...]:
    if isinstance(exchange, Broken):
        return (exchange.phase, exchange.reason if same_reason else "")
    return tuple(exchange)


@pytest.mark.asyncio
@pytest.mark.parametrize("protocol", ["soap11", "http-get", "ashx"])
@pytest.mark.parametrize(("situation", "setup", "expected", "written", "same_reason"), SITUATIONS)
async def test_each_failure_is_what_the_sync_transport_says(
    aio: AioTransport,
    gateway: SandboxGateway,
    protocol: Protocol,
    situation: str,
    setup: Setup,
    expected: str | int,
    written: bool,
    same_reason: bool,
) -> None:
    """Same phase and reason (or the same response) as the sync transport; written as proven."""
    built, calls = _built(protocol), []
    async with _Peer(None) as elsewhere, _Peer(b"") as peer:
        peer.reply = f"HTTP/1.1 302 Found\r\nLocation: {elsewhere.url}\r\n".encode()
        peer.reply += b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        url = setup(gateway, peer)
        timeouts = SHORT if situation == "read timeout" else ROOMY
        carrier = aio if timeouts is SHORT else AioTransport(ROOMY, aio._given)
        sync = await asyncio.to_thread(SyncTransport(timeouts, session()).exchange, built, url)
        try:
            exchange = await carrier.exchange(built, url, on_written=lambda: calls.append(1))
        finally:
            if carrier is not aio:
                await carrier.aclose()
    assert _shape(exchange, same_reason) == _shape(sync, same_reason)
    assert (exchange.phase if isinstance(exchange, Broken) else exchange.status) == expected
    assert calls == ([1] if written else [])
    assert not elsewhere.connected.is_set()  # a redirect is never followed
    if isinstance(exchange, Broken) and exchange.phase == "sent":
        assert isinstance(exchange.cause, httpx.TransportError)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("url", "reason"),
    [("http://[::1/webservice.asmx", "invalid URL: "), ("ftp://127.0.0.1/x", "invalid URL: ")],
)
async def test_an_invalid_url_is_unsent(aio: AioTransport, url: str, reason: str) -> None:
    """A URL httpx refuses to send to proves nothing left."""
    exchange = await aio.exchange(_built("soap11"), url, on_written=pytest.fail)
    assert isinstance(exchange, Broken)
    assert exchange.phase == "connect"
    assert exchange.reason.startswith(reason)


@pytest.mark.asyncio
async def test_a_failed_tls_handshake_is_unsent(aio: AioTransport) -> None:
    """A peer answering TLS with plain HTTP: the handshake failed, no byte of the request left."""
    async with _Peer(b"HTTP/1.1 400 Bad Request\r\n\r\n", eager=True) as peer:
        url = peer.url.replace("http://", "https://")
        exchange = await aio.exchange(_built("soap11"), url, on_written=pytest.fail)
    assert exchange == Broken("connect", "TLS handshake failed")


@pytest.mark.asyncio
async def test_proxies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY carries the request; a proxy refusing an https tunnel proves it unsent."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with _Peer(OK_TEXT) as proxy, _Peer(b"HTTP/1.1 403 No\r\n\r\n") as refusing:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.rsplit("/", 1)[0])
        monkeypatch.setenv("HTTPS_PROXY", refusing.url.rsplit("/", 1)[0])
        transport = AioTransport(SHORT)
        answered = await transport.exchange(_built("ashx"), "http://127.0.0.1:9/webservice.asmx")
        calls: list[int] = []
        exchange = await transport.exchange(
            _built("soap11"),
            "https://127.0.0.1:9/webservice.asmx",
            on_written=lambda: calls.append(1),
        )
        await transport.aclose()
    assert answered == Response(200, Result("123"))
    assert proxy.seen[0].startswith(b"POST http://127.0.0.1:9/mdsmssend.ashx HTTP/1.1")
    assert refusing.seen[0].startswith(b"CONNECT 127.0.0.1:9 HTTP/1.1")
    assert isinstance(exchange, Broken)
    assert exchange.phase == "connect"
    assert exchange.reason.startswith("proxy refused")
    assert calls == []


@pytest.mark.asyncio
async def test_an_http_get_failure_keeps_no_password(
    aio: AioTransport, gateway: SandboxGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """pwd (in an HTTP GET's query) is in no reason, cause, kept request or httpx log line."""
    caplog.set_level(logging.DEBUG)
    built = _built("http-get")
    md5 = built.fields["pwd"]
    await aio.exchange(built, gateway.hosts[0])
    gateway.primary.fail("hang")
    exchange = await aio.exchange(built, gateway.hosts[0])
    assert isinstance(exchange, Broken)
    assert isinstance(exchange.cause, httpx.RequestError)
    error = mandao.OutcomeUnknown(exchange.reason, cause=exchange.cause)
    chain, current = [], exchange.cause
    while current is not None:
        chain.append(repr(current) + str(current))
        current = current.__cause__ or current.__context__
    texts = [repr(exchange), str(error), *chain, str(exchange.cause.request.url), caplog.text]
    assert "HTTP Request: GET" in caplog.text
    assert [text for text in texts if md5 in text] == []


async def _nothing() -> None:
    """The task is cancelled before it ever runs."""


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("stage", "written"),
    [("not started", False), ("connecting", False), ("written", True), ("reading the body", True)],
)
async def test_a_cancelled_exchange_propagates_and_frees_its_connection(
    gateway: SandboxGateway, stage: str, written: bool
) -> None:
    """CancelledError comes out; on_written tells whether the request may have left; the
    connection is closed (not pooled half used) and the pool serves the next exchange."""
    traced = _Traced()
    carrier = httpx.AsyncClient(transport=traced)
    transport = AioTransport(Timeouts(5, 5), carrier)
    built, calls = _built("soap11"), []
    hold = gateway.primary.hold()
    async with contextlib.AsyncExitStack() as stack:
        peer = await stack.enter_async_context(_Peer(PARTIAL, close=False))
        url, reached = gateway.hosts[0], _nothing
        if stage == "connecting":
            gateway.backup.down("timeout")  # a full accept queue: connect hangs
            url, reached = gateway.hosts[1], traced.events["connection.connect_tcp.started"].wait
        elif stage == "written":
            reached = lambda: asyncio.to_thread(hold.wait)  # noqa: E731
        elif stage == "reading the body":
            url, reached = peer.url, traced.events["http11.receive_response_body.started"].wait
        else:
            hold.release()
        task = asyncio.create_task(
            transport.exchange(built, url, on_written=lambda: calls.append(1))
        )
        assert await reached() is not False
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert calls == ([1] if written else [])
        assert traced.connections() == []
        if stage == "reading the body":
            await peer.closed.wait()  # httpx closed the connection it had half read
        hold.release()
        assert await asyncio.to_thread(gateway.wait_in_flight, SN, 0)
        after = await transport.exchange(built, gateway.hosts[0])
    assert after.status == 200
    assert isinstance(after.body, Result)
    await carrier.aclose()


@pytest.mark.asyncio
async def test_asyncio_timeout_around_an_exchange_is_a_timeout_error(
    gateway: SandboxGateway,
) -> None:
    """asyncio.timeout() expiring while the reply is awaited: TimeoutError, written reported."""
    transport, calls = AioTransport(Timeouts(5, 5)), []
    with gateway.primary.hold() as hold:

        async def expire(scope: asyncio.Timeout) -> None:
            assert await asyncio.to_thread(hold.wait)
            scope.reschedule(asyncio.get_running_loop().time())

        async def send() -> None:
            async with asyncio.timeout(None) as scope:
                expiry.append(asyncio.create_task(expire(scope)))
                await transport.exchange(
                    _built("soap11"), gateway.hosts[0], on_written=lambda: calls.append(1)
                )

        expiry: list[asyncio.Task[None]] = []
        with pytest.raises(TimeoutError):
            await send()
        await expiry[0]
    await transport.aclose()
    assert calls == [1]


def test_its_own_pool_serves_one_event_loop_at_a_time(gateway: SandboxGateway) -> None:
    """A second live loop is refused clearly; once the first is closed, a new pool serves."""
    transport, built = AioTransport(SHORT), _built("ashx")

    def send() -> Coroutine[Any, Any, Exchange]:
        return transport.exchange(built, gateway.hosts[0])

    first = asyncio.new_event_loop()
    try:
        assert first.run_until_complete(send()).status == 200
        with pytest.raises(RuntimeError, match="one event loop at a time"):
            asyncio.run(send())
        first.run_until_complete(transport.aclose())
    finally:
        first.close()
    assert asyncio.run(send()).status == 200  # a new pool, made in this loop
    assert asyncio.run(send()).status == 200  # and again: the last loop is closed


@pytest.mark.asyncio
async def test_its_own_pool_is_made_once_and_off_the_loop(
    gateway: SandboxGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent first exchanges share one pool, made in a worker thread (it loads CA files)."""
    made: list[threading.Thread] = []

    def pool(timeouts: Timeouts) -> httpx.AsyncClient:
        made.append(threading.current_thread())
        return httpx.AsyncClient(timeout=timeout(timeouts))

    monkeypatch.setattr(aio_module, "pool", pool)
    transport, built = AioTransport(SHORT), _built("ashx")
    gateway.update_account(SN, max_in_flight=3)
    exchanges = await asyncio.gather(*(transport.exchange(built, gateway.hosts[0]) for _ in "abc"))
    await transport.aclose()
    assert [exchange.status for exchange in exchanges] == [200] * 3
    assert len(made) == 1
    assert made[0] is not threading.current_thread()


@pytest.mark.asyncio
async def test_no_pooled_connection_in_time_is_unsent(gateway: SandboxGateway) -> None:
    """A supplied one-connection pool held by another transport: the pool wait ends unsent."""
    shared = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
    holder, waiter = AioTransport(Timeouts(5, 30), shared), AioTransport(Timeouts(0.2, 0.2), shared)
    built = _built("soap11")
    with gateway.primary.hold() as hold:
        held = asyncio.create_task(holder.exchange(built, gateway.hosts[0]))
        assert await asyncio.to_thread(hold.wait)
        exchange = await waiter.exchange(built, gateway.hosts[0], on_written=pytest.fail)
    assert exchange == Broken("connect", "no pooled connection came free in time")
    assert (await held).status == 200
    await shared.aclose()
