"""Hostile replies: a loopback server answering every request badly, on every protocol.

:class:`Hostile` is a one-purpose HTTP server on 127.0.0.1 (port 0) that answers each
connection with one reply function: a redirect, a body over the cap, a gzip bomb, a broken
status line or chunking, a reset at some phase, a result the grammar refuses. It counts the
connections it accepted, so a test sees that nothing was sent twice, nor to a host outside
the configured lists (a redirect's target is a Hostile of its own, never configured).
Both clients run every case (an AsyncClient through ``tests/_both.py``'s SyncView).
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import itertools
import os
import re
import socket
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

import httpx
import pytest

import mandao
from mandao._operations import PROTOCOLS

from ._both import SyncView

PASSWORD = "s3cr3t-Pass"
TEMPURI = "http://tempuri.org/"
ENVELOPES = {
    "soap11": "http://schemas.xmlsoap.org/soap/envelope/",
    "soap12": "http://www.w3.org/2003/05/soap-envelope",
}
CONTENT_TYPES = {
    "soap11": "text/xml; charset=utf-8",
    "soap12": "application/soap+xml; charset=utf-8",
    "http-get": "text/xml; charset=utf-8",
    "http-post": "text/xml; charset=utf-8",
    "ashx": "text/plain; charset=utf-8",
}
_SERIALS = itertools.count(1)


def serial() -> str:
    """A serial of this test's own: the process's admission state is kept per serial."""
    return f"SDK-HST-010-{next(_SERIALS):05d}"


class Request(NamedTuple):
    """One request as the hostile server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def protocol(self) -> str:
        if self.path.split("?")[0].endswith(".ashx"):
            return "ashx"
        if "/webservice.asmx/" in self.path:
            return "http-get" if self.method == "GET" else "http-post"
        return "soap12" if "soap+xml" in self.headers.get("content-type", "") else "soap11"

    @property
    def operation(self) -> str:
        path = self.path.split("?")[0]
        if self.protocol == "ashx":
            return path.rsplit("/", 1)[1].removesuffix(".ashx")
        if self.protocol.startswith("http"):
            return path.rsplit("/", 1)[1]
        found = re.search(rb"Body[^>]*>\s*<(?:[\w-]+:)?(\w+)", self.body)
        return found[1].decode() if found else ""


def read_request(conn: socket.socket) -> Request | None:
    """The request on ``conn``, or None if the client closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    start, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    method, path, _ = start.split(" ", 2)
    return Request(method, path, headers, body)


Reply = Callable[[socket.socket, "Hostile"], None]


class Hostile:
    """A loopback HTTP server answering each connection with ``reply(conn, server)``.

    ``reply`` reads the request itself (:meth:`request`) when it wants to; a reset before
    the request is read is one of the phases. ``connections`` counts accepted connections:
    one per request the client tried.
    """

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.elsewhere = ""  # where a redirect points: a server no client is configured with
        self.connections = 0
        self.seen: list[Request] = []
        self.stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/webservice.asmx"
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []

    def __enter__(self) -> Hostile:
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept on Linux
        self._listener.close()
        for conn in self._conns:
            conn.close()
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            self.reply(conn, self)
        except OSError:
            pass  # the client gave up: what the hostile reply was for
        finally:
            conn.close()

    def request(self, conn: socket.socket) -> Request | None:
        found = read_request(conn)
        if found is not None:
            self.seen.append(found)
        return found

    def trickle(self, conn: socket.socket, data: bytes, every: float = 0.05) -> None:
        """Send ``data`` a byte at a time, ``every`` seconds apart, until stopped."""
        for i in range(len(data)):
            conn.sendall(data[i : i + 1])
            if self.stopping.wait(every):
                return


# -- what the replies are made of -------------------------------------------------------


def result_body(request: Request, text: str, *, markup: bool = False) -> bytes:
    """``text`` as the result of ``request``'s operation, in its protocol's shape."""
    inner = text if markup else escape(text)
    op, protocol = request.operation, request.protocol
    if protocol == "ashx":
        return text.encode()
    if protocol.startswith("http"):
        return (
            f'<?xml version="1.0" encoding="utf-8"?>\r\n<string xmlns="{TEMPURI}">{inner}</string>'
        ).encode()
    known = mandao.OPERATIONS.get(op)
    space = known.service.namespace if known is not None else TEMPURI
    return envelope(
        protocol, f'<{op}Response xmlns="{space}"><{op}Result>{inner}</{op}Result></{op}Response>'
    )


def envelope(protocol: str, body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ENVELOPES[protocol]}">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def send(
    conn: socket.socket,
    request: Request | None,
    body: bytes,
    *,
    status: str = "200 OK",
    headers: dict[str, str] | None = None,
) -> None:
    """One whole reply: status, Content-Type of the protocol, Content-Length, body."""
    kind = CONTENT_TYPES[request.protocol] if request is not None else "text/plain"
    fields = {"Content-Type": kind, "Content-Length": str(len(body)), "Connection": "close"}
    conn.sendall(head(status, {**fields, **(headers or {})}) + body)


def answer(text: str, *, markup: bool = False, status: str = "200 OK", **headers: str) -> Reply:
    """Reply with ``text`` as the operation's result."""

    def reply(conn: socket.socket, server: Hostile) -> None:
        request = server.request(conn)
        if request is not None:
            send(conn, request, result_body(request, text, markup=markup), status=status,
                 headers=headers)  # fmt: skip

    return reply


def raw(data: bytes | Callable[[Request], bytes], *, read: bool = True) -> Reply:
    """Reply with ``data`` as it is (after reading the request, unless ``read`` is off)."""

    def reply(conn: socket.socket, server: Hostile) -> None:
        request = server.request(conn) if read else None
        if read and request is None:
            return
        conn.sendall(data(request) if callable(data) and request is not None else data)  # type: ignore[arg-type]

    return reply


def _rst(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def reset_at(phase: str) -> Reply:
    """Reset the connection (RST) at ``phase`` of the exchange."""

    def reply(conn: socket.socket, server: Hostile) -> None:
        if phase == "accept":
            return _rst(conn)
        if phase == "request-head":
            conn.recv(16)
            return _rst(conn)
        request = server.request(conn)
        if request is None:
            return None
        body = result_body(request, "218290961833668203")
        whole = head("200 OK", {"Content-Type": CONTENT_TYPES[request.protocol],
                                "Content-Length": str(len(body))}) + body  # fmt: skip
        cut = {"request": 0, "status-line": 9, "headers": whole.index(b"\r\n\r\n") + 4}
        conn.sendall(whole[: cut.get(phase, len(whole) - 5)])
        return _rst(conn)

    return reply


def redirect(status: str, target: Callable[[Hostile], str]) -> Reply:
    def reply(conn: socket.socket, server: Hostile) -> None:
        request = server.request(conn)
        if request is not None:
            send(conn, request, b"", status=status, headers={"Location": target(server)})

    return reply


@functools.cache
@functools.cache
def gzip_bomb(size: int) -> bytes:
    """``size`` bytes of zeros, gzipped: about a thousandth of it (made once: making it
    takes a loaded machine longer than a client's read timeout, see Case.warm)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


def encoded(body: bytes | Callable[[], bytes], encoding: str) -> Reply:
    def reply(conn: socket.socket, server: Hostile) -> None:
        request = server.request(conn)
        if request is not None:
            data = body() if callable(body) else body
            send(conn, request, data, headers={"Content-Encoding": encoding})

    return reply


def huge(size: int) -> Reply:
    """A reply declaring ``size`` bytes, streamed until the client stops reading."""

    def reply(conn: socket.socket, server: Hostile) -> None:
        request = server.request(conn)
        if request is None:
            return
        conn.sendall(head("200 OK", {"Content-Type": "text/xml", "Content-Length": str(size)}))
        block = b"1" * 65536
        for _ in range(size // len(block)):
            conn.sendall(block)

    return reply


# -- the clients ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_pool(test_loop: asyncio.AbstractEventLoop) -> Iterator[httpx.AsyncClient]:
    """One httpx pool for this module's AsyncClients (a CA bundle is loaded once)."""

    async def make() -> httpx.AsyncClient:
        return httpx.AsyncClient()

    pool = asyncio.run_coroutine_threadsafe(make(), test_loop).result()
    yield pool
    asyncio.run_coroutine_threadsafe(pool.aclose(), test_loop).result()


Make = Callable[..., Any]


@pytest.fixture(params=["Client", "AsyncClient"])
def make(
    request: pytest.FixtureRequest,
    test_loop: asyncio.AbstractEventLoop,
    shared_pool: httpx.AsyncClient,
) -> Iterator[Make]:
    """Make a client (``hosts``: a list of Hostiles), a Client and then an AsyncClient;
    short timeouts, no journal, no admission limit (each test has a serial of its own)."""
    made: list[Any] = []

    def build(*hosts: Hostile, own_pool: bool = False, **kwargs: Any) -> Any:
        urls = [h.url for h in hosts]
        kwargs = {"timeout": mandao.Timeouts(1, 1, wait=5), "journal": None,
                  "max_in_flight": None, **kwargs}  # fmt: skip
        sn = kwargs.pop("sn", None) or serial()
        password = kwargs.pop("password", PASSWORD)
        if request.param == "Client":
            client: Any = mandao.Client(sn, password, hosts=urls, account_hosts=urls, **kwargs)
        else:
            if not own_pool:
                kwargs.setdefault("session", shared_pool)
            aio = mandao.AsyncClient(sn, password, hosts=urls, account_hosts=urls, **kwargs)
            client = SyncView(aio, test_loop)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


def call(client: Any, what: str = "send") -> object:
    """One call of ``what``: a send, the account, the balance, a registration."""
    if what == "send":
        return client.send("13800138000", "测试【示例】")
    if what == "account":
        return client.account()
    if what == "balance":
        return client.balance()
    if what == "register":
        fields = dict.fromkeys(mandao.OPERATIONS["Register"].params[2:], "x")
        return client.register(**fields)
    assert what == "unregister"
    return client.unregister()


def fine() -> Reply:
    """A backup that answers a plausible id: a call failed over to it would succeed."""
    return answer("218290961833668203")


class Case(NamedTuple):
    """One defect class: the reply, what the call must raise, its message."""

    reply: Reply
    error: type[Exception]
    match: str = ""
    protocols: tuple[str, ...] = PROTOCOLS
    what: str = "send"
    warm: Callable[[], object] = lambda: None  # made before the client calls, not in its time


def _multipart(request: Request) -> bytes:
    inner = result_body(request, "218290961833668203")
    body = (
        b'--MIME\r\nContent-Type: application/xop+xml; type="text/xml"\r\n\r\n'
        + inner
        + b"\r\n--MIME--\r\n"
    )
    kind = 'multipart/related; type="application/xop+xml"; boundary="MIME"'
    return head("200 OK", {"Content-Type": kind, "Content-Length": str(len(body))}) + body


def _page(status: str, protocol: str, body: bytes) -> bytes:
    kind = CONTENT_TYPES[protocol]
    return head(status, {"Content-Type": kind, "Content-Length": str(len(body))}) + body


def _soap12_fault(request: Request) -> bytes:
    env = ENVELOPES["soap12"]
    fault = (
        f'<soap:Fault xmlns:soap="{env}"><soap:Code><soap:Value>:::bad:</soap:Value>'
        "<soap:Subcode><soap:Value>x:y:z</soap:Value><soap:Subcode/></soap:Subcode>"
        "</soap:Code><soap:Reason><soap:Text>bad<b>markup</b></soap:Text></soap:Reason>"
        "</soap:Fault>"
    )
    body = envelope("soap12", fault)
    return _page("500 Internal Server Error", "soap12", body)


def _soap11_fault(request: Request) -> bytes:
    body = envelope("soap11", "<soap:Fault><detail><x/></detail></soap:Fault>")
    return _page("500 Internal Server Error", "soap11", body)


def _chunked(request: Request) -> bytes:
    return head("200 OK", {"Content-Type": "text/xml", "Transfer-Encoding": "chunked"}) + (
        b"zz\r\n12345\r\n0\r\n\r\n"
    )


LOCAL_DIGITS = "987654321987"
_DTD_TEXT = '<!DOCTYPE string [<!ENTITY id "218290961833668203">]>'


def _entity(request: Request, dtd: str, reference: str) -> bytes:
    body = result_body(request, reference, markup=True)
    body = body.replace(b"<string", dtd.encode() + b"<string", 1)
    body = body.replace(b"<soap:Envelope", dtd.replace("string", "soap:Envelope").encode()
                        + b"<soap:Envelope", 1)  # fmt: skip
    return head("200 OK", {"Content-Type": CONTENT_TYPES[request.protocol],
                           "Content-Length": str(len(body))}) + body  # fmt: skip


#: The local file an external entity names (written by the ``local_file`` fixture).
LOCAL_FILE = Path(tempfile.gettempdir()) / f"mandao-hostile-{os.getpid()}.txt"


def _external_entity(request: Request) -> bytes:
    dtd = f'<!DOCTYPE string [<!ENTITY id SYSTEM "file://{LOCAL_FILE}">]>'
    return _entity(request, dtd, "&id;")


XML = ("soap11", "soap12", "http-get", "http-post")
_DEEP = "<a>" * 5000 + "1" + "</a>" * 5000

#: Every defect class, by name.
CASES: dict[str, Case] = {
    "redirect 302 elsewhere": Case(
        redirect("302 Found", lambda s: s.elsewhere), mandao.ProtocolError, "302 redirect"
    ),
    "redirect 307 elsewhere": Case(
        redirect("307 Temporary Redirect", lambda s: s.elsewhere), mandao.ProtocolError,
        "307 redirect",
    ),
    "redirect loop": Case(redirect("302 Found", lambda s: s.url), mandao.ProtocolError, "302"),
    "redirect 307 register": Case(
        redirect("307 Temporary Redirect", lambda s: s.elsewhere), mandao.ProtocolError,
        "307", what="register",
    ),
    "404": Case(answer("x", status="404 Not Found"), mandao.ConfigError, "/webservice.asmx"),
    "huge body": Case(huge(4 << 20), mandao.ProtocolError, "over its cap"),
    "gzip bomb": Case(encoded(lambda: gzip_bomb(32 << 20), "gzip"), mandao.ProtocolError,
                      "over its cap", warm=lambda: gzip_bomb(32 << 20)),
    "brotli": Case(encoded(b"\x0b\x02\x80hello\x03", "br"), mandao.ProtocolError, "'br'"),
    "broken deflate": Case(encoded(b"\xff\xfe not deflate at all", "deflate"),
                           mandao.ProtocolError, "broken"),
    "truncated gzip": Case(encoded(gzip.compress(b"123")[:-4], "gzip"),
                           mandao.ProtocolError, "truncated"),
    "bad chunking": Case(raw(_chunked), mandao.OutcomeUnknown),
    "bad status line": Case(raw(b"HTTP/1.1 two hundred OK\r\n\r\n"), mandao.OutcomeUnknown),
    "no status line": Case(raw(b"218290961833668203"), mandao.OutcomeUnknown),
    "header too long": Case(raw(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 200_000),
                            mandao.OutcomeUnknown),
    **{
        f"reset at {phase}": Case(reset_at(phase), mandao.OutcomeUnknown)
        for phase in ("request-head", "request", "status-line", "headers", "body")
    },
    "internal entity": Case(raw(lambda r: _entity(r, _DTD_TEXT, "&id;")),
                            mandao.ProtocolError, "DTD", XML),
    "external entity": Case(raw(_external_entity), mandao.ProtocolError, "", XML),
    "undefined entity": Case(answer("2182&id;", markup=True), mandao.ProtocolError, "", XML),
    "comment in result": Case(answer("90000<!--c-->00001", markup=True),
                              mandao.ProtocolError, "more than", XML),
    "PI in result": Case(answer("90000<?x y?>00001", markup=True),
                         mandao.ProtocolError, "more than", XML),
    "element in result": Case(answer("90000<b>1</b>", markup=True),
                              mandao.ProtocolError, "more than", XML),
    "deep XML": Case(answer(_DEEP, markup=True), mandao.ProtocolError, "", XML),
    "full-width digits": Case(answer("１２３４５６"), mandao.ProtocolError, "neither"),
    "Arabic-Indic digits": Case(answer("٢١٨٢٩٠"), mandao.ProtocolError, "neither"),
    "-0": Case(answer("-0"), mandao.ProtocolError, "neither"),
    "-01": Case(answer("-01"), mandao.ProtocolError, "neither"),
    "19 digits": Case(answer("1" * 19), mandao.ProtocolError, "neither"),
    "empty 200": Case(raw(lambda r: head("200 OK", {"Content-Length": "0"})),
                      mandao.ProtocolError),
    "JSON 100,000 deep": Case(answer("[" * 100_000 + "]" * 100_000), mandao.ProtocolError,
                              what="account"),
    "deep JSON": Case(answer("[" * 20_000 + "]" * 20_000), mandao.ProtocolError,
                      "nests deeper", what="account"),
    "deep JSON object": Case(answer('{"a":' * 8_000 + "1" + "}" * 8_000),
                             mandao.ProtocolError, "nests deeper", what="account"),
    "multipart": Case(raw(_multipart), mandao.ProtocolError, "", ("soap11", "soap12")),
    "bad SOAP 1.2 fault": Case(raw(_soap12_fault), mandao.ProtocolError, "SOAP fault",
                               ("soap12",)),
    "bad SOAP 1.1 fault": Case(raw(_soap11_fault), mandao.ProtocolError, "SOAP fault",
                               ("soap11",)),
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def local_file() -> Iterator[Path]:
    """The local file an external entity names: digits, the shape of an id."""
    LOCAL_FILE.write_text(LOCAL_DIGITS)
    yield LOCAL_FILE
    LOCAL_FILE.unlink()


@pytest.mark.parametrize(
    ("name", "protocol"),
    [(name, protocol) for name, case in CASES.items() for protocol in case.protocols],
)
def test_each_hostile_reply_ends_in_its_typed_error(make: Make, name: str, protocol: str) -> None:
    """Each defect class ends in its typed error, after one request to the primary only: no
    second request, none to the backup, none to a redirect's target."""
    case = CASES[name]
    case.warm()
    with Hostile(fine()) as elsewhere, Hostile(case.reply) as primary, Hostile(fine()) as backup:
        primary.elsewhere = elsewhere.url
        client = make(primary, backup, protocol=protocol)
        with pytest.raises(case.error, match=case.match or None) as info:
            call(client, case.what)
    assert (primary.connections, backup.connections, elsewhere.connections) == (1, 0, 0)
    error = info.value
    assert isinstance(error, mandao.MandaoError)
    assert (error.host or "").startswith(primary.url.rsplit("/", 1)[0])
    assert LOCAL_DIGITS not in str(error)
    if not isinstance(error, mandao.ConfigError):
        assert isinstance(error, mandao.OutcomeUnknown)  # it went out: never "not sent"


@pytest.mark.parametrize("protocol", ["soap11", "http-get", "ashx"])
def test_a_reset_before_any_byte_is_read_never_sends_twice(make: Make, protocol: str) -> None:
    """A reset as the connection is accepted: unknown (the sync client cannot tell whether
    its write got through), or, when the client saw the connection fail before writing a
    byte (the async client's trace says so), not sent, and so sent once, by the backup."""
    with Hostile(reset_at("accept")) as primary, Hostile(fine()) as backup:
        client = make(primary, backup, protocol=protocol)
        try:
            result: Any = call(client)
        except mandao.OutcomeUnknown:
            assert (primary.connections, backup.connections) == (1, 0)
        else:
            assert result.host == backup.url
            assert (primary.connections, backup.connections, len(primary.seen)) == (1, 1, 0)
