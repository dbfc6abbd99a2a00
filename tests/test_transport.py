"""Transport: what happens on the wire becomes our exceptions, by what it proves about the send."""

from __future__ import annotations

import inspect
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import zeep.exceptions

import mandao
from mandao._transports.proxy import ZEEP_ERRORS

PAYLOAD = {"mobiles": ["13800138000"], "content": "验证码 1234【示例】"}


def test_every_zeep_exception_class_is_translated() -> None:
    """Each exception class zeep.exceptions defines is caught by the REPL proxies' ZEEP_ERRORS."""
    classes = {
        obj
        for _, obj in inspect.getmembers(zeep.exceptions, inspect.isclass)
        if issubclass(obj, BaseException)
        and obj.__module__.startswith("zeep")
        and not issubclass(obj, Warning)  # ZeepWarning is warned, never raised
    }
    assert len(classes) >= 10
    missing = sorted(c.__name__ for c in classes if not issubclass(c, ZEEP_ERRORS))
    assert missing == []


redirect_to: list[str] = [""]


@contextmanager
def _server(behaviour: str) -> Iterator[str]:
    """A one-purpose loopback HTTP peer; yields its service URL.

    ``redirect302`` / ``redirect307`` answer every request with that status, pointing at
    ``redirect_to[0]``.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            conn.settimeout(2)
            try:
                conn.recv(65536)
            except OSError:
                continue
            if behaviour.startswith("redirect"):
                status = behaviour.removeprefix("redirect")
                target = redirect_to[0]
                conn.sendall(
                    f"HTTP/1.1 {status} Moved\r\nLocation: {target}\r\n"
                    "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
                )
                conn.close()
                continue
            replies = {
                "http500": b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 5\r\nConnection: close\r\n\r\noops!",
                "html200": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 27\r\n"
                b"Connection: close\r\n\r\n<html><b>proxy</b> ok</html>"[:130],
            }
            if behaviour == "close":
                conn.close()
            elif behaviour in replies:
                conn.sendall(replies[behaviour])
                conn.close()
            # "silent": hold the connection and never answer

    thread = threading.Thread(target=serve, daemon=True)
    if behaviour != "backlog":
        thread.start()
    try:
        yield f"http://127.0.0.1:{port}/webservice.asmx"
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


def _refused_url() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/webservice.asmx"


def _client(hosts: list[str], protocol: str = "soap11", **kw: object) -> mandao.Client:
    kw.setdefault("account_hosts", hosts)  # loopback test gateways: no account calls here
    return mandao.Client(
        "SDK-TST-010-00001", "secret", hosts=hosts, protocol=protocol, timeout=(0.5, 0.5), **kw
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", ["soap11", "http-get", "ashx"])
def test_connection_refused_everywhere_is_unreachable(protocol: str) -> None:
    """Refused on every host: GatewayUnreachable with each host's cause, no outcome doubt."""
    hosts = [_refused_url(), _refused_url()]
    with pytest.raises(mandao.GatewayUnreachable) as info:
        _client(hosts, protocol).send(**PAYLOAD)
    assert [host for host, _ in info.value.causes] == hosts
    assert all(cause == "connection refused" for _, cause in info.value.causes)
    assert not isinstance(info.value, mandao.OutcomeUnknown)


@pytest.mark.parametrize(
    ("behaviour", "needle"),
    [
        ("silent", "read timeout"),
        ("close", "closed or reset"),
        ("http500", "HTTP 500"),
        ("html200", ""),
    ],
)
@pytest.mark.parametrize("protocol", ["soap11", "soap12", "http-post", "ashx"])
def test_failures_after_the_request_left_are_outcome_unknown(
    behaviour: str, needle: str, protocol: str
) -> None:
    """Timeout, reset, 5xx or an error page after sending: OutcomeUnknown, backup untouched."""
    with _server(behaviour) as url:
        backup = _refused_url()
        client = _client([url, backup], protocol)
        with pytest.raises(mandao.OutcomeUnknown) as info:
            client.send(**PAYLOAD)
    error = info.value
    assert needle in str(error)
    assert error.host == url
    assert error.operation == "mdsmssend"
    assert error.recipients == ("13800138000",)
    assert client.active_host() == url  # an unknown outcome never moves to the other host


def test_exceptions_do_not_carry_the_password_through_http_get_urls() -> None:
    """A failed HTTP GET (pwd in the query) leaves no trace of pwd in the error or its chain."""
    client = _client([_refused_url()], "http-get")
    md5 = client._credentials.pwd("md5")
    with pytest.raises(mandao.GatewayUnreachable) as info:
        client.send(**PAYLOAD)
    chain: list[BaseException] = []
    error: BaseException | None = info.value
    while error is not None and len(chain) < 10:
        chain.append(error)
        error = error.__cause__ or error.__context__
    text = " ".join(repr(e) + str(e) for e in chain)
    assert md5 not in text
    assert "secret" not in text


def test_connect_timeout_on_a_full_accept_queue_is_unreachable() -> None:
    """A listener whose accept queue is full makes connect time out: provably unsent."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):  # fill the backlog; never accepted
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        url = f"http://127.0.0.1:{port}/webservice.asmx"
        client = mandao.Client("SDK-TST-010-00001", "secret", hosts=[url], account_hosts=[url],
                               timeout=(0.3, 5))  # fmt: skip
        with pytest.raises(mandao.GatewayUnreachable) as info:
            client.send(**PAYLOAD)
        assert info.value.causes == ((url, "connect timeout"),)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_default_timeouts_are_finite() -> None:
    """A Client never waits forever: connect and read timeouts are set by default."""
    client = mandao.Client("SDK-TST-010-00001", "secret")
    assert 0 < client.timeouts.connect < 60
    assert 0 < client.timeouts.read < 120
    assert client._sending()[0].timeouts == client.timeouts


@pytest.mark.parametrize("timeout", [0, -1, "5", (1, 2, 3), True, float("inf"), float("nan")])
def test_bad_timeouts_are_refused(timeout: object) -> None:
    """A non-positive or malformed timeout raises ValidationError naming timeout."""
    with pytest.raises(mandao.ValidationError, match="timeout"):
        mandao.Client("SDK-TST-010-00001", "secret", timeout=timeout)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["302", "307"])
@pytest.mark.parametrize("protocol", ["soap11", "soap12", "http-get", "http-post", "ashx"])
def test_a_redirect_is_never_followed(status: str, protocol: str) -> None:
    """A 3xx is an unknown outcome: the other host, outside the configured list, gets nothing."""
    with _server("silent") as elsewhere:
        redirect_to[0] = elsewhere
        with _server(f"redirect{status}") as url:
            client = _client([url], protocol)
            with pytest.raises(mandao.ProtocolError, match=f"HTTP {status} redirect"):
                client.send(**PAYLOAD)
    assert client.active_host() == url


# -- structured results: RECSMS_UTF8's ArrayOfMOBody -----------------------------------

TEMPURI = "http://tempuri.org/"


def _mo(*bodies: dict[str, str], root: str = "ArrayOfMOBody") -> bytes:
    """An ArrayOfMOBody (or what ``root`` names) holding ``bodies``, as ASMX writes it."""
    inner = "".join(
        "<MOBody>" + "".join(f"<{k}>{v}</{k}>" for k, v in body.items()) + "</MOBody>"
        for body in bodies
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\r\n'
        f'<{root} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="{TEMPURI}">{inner}</{root}>'
    ).encode()


def _body(total: str, recvtel: str, sender: str, content: str, recdate: str) -> dict[str, str]:
    return {"total_num": total, "this_num": total, "recvtel": recvtel, "sender": sender,
            "content": content, "recdate": recdate}  # fmt: skip


def _structured(body: bytes) -> object:
    from mandao._transports import xml
    from mandao._transports.structured import mo_bodies

    return mo_bodies(xml.parse(body), TEMPURI)


def test_mo_bodies_become_mo_lines() -> None:
    """Each MOBody is a line ``,recvtel,sender,content,recdate``, CRLF between, the content
    as received (URL-encoded UTF-8), the dates as the gateway wrote them."""
    from mandao._core.wire import Result

    found = _structured(
        _mo(
            _body("2", "121818", "13800138000", "%E7%88%B8%E7%88%B8", "2011-6-7 17:42:33"),
            _body("2", "12181801", "13900139000", "TD", "2011-6-7 17:43:01"),
        )
    )
    assert found == Result(
        ",121818,13800138000,%E7%88%B8%E7%88%B8,2011-6-7 17:42:33\r\n"
        ",12181801,13900139000,TD,2011-6-7 17:43:01"
    )


def test_a_negative_total_num_is_the_code_and_no_mobody_is_nothing_to_fetch() -> None:
    """A negative first total_num is given as it is (a code), but -1 (what the real
    gateway's clients read as "no messages") and no MOBody are mo's "1"."""
    from mandao._core.wire import Result

    assert _structured(_mo(_body("-1", "", "", "", ""))) == Result("1")
    assert _structured(_mo(_body("-10", "x", "y", "z", "w"))) == Result("-10")
    assert _structured(_mo()) == Result("1")


@pytest.mark.parametrize(
    "body",
    [
        _mo(_body("1", "1218<!--c-->18", "138", "x", "d")),
        _mo(_body("1", "121818", "138<?pi x?>", "x", "d")),
        _mo(_body("1", "121818", "138", "<b>x</b>", "d")),
        _mo(_body("x1", "121818", "138", "x", "d")),
        _mo(_body("１", "121818", "138", "x", "d")),
        _mo(_body("1", "12,18", "138", "x", "d")),
        _mo(_body("1", "121818", "138", "a&#13;&#10;b", "d")),
        _mo({"total_num": "1"}).replace(b"<MOBody>", b"<Other>").replace(b"</MOBody>", b"</Other>"),
        _mo(_body("1", "1", "2", "3", "4")).replace(b"<MOBody>", b"text<MOBody>", 1),
        _mo(_body("1", "1", "2", "3", "4")).replace(b"<MOBody>", b"<!--c--><MOBody>", 1),
    ],
    ids=["comment", "PI", "element", "not a number", "full-width", "comma", "line break",
         "another element", "text", "a comment between"],
)  # fmt: skip
def test_a_mobody_of_another_shape_is_malformed(body: bytes) -> None:
    """Markup inside a field, a total_num that is no ASCII number, a line break or a
    comma outside content, anything but MOBody elements: Malformed."""
    from mandao._core.wire import Malformed

    assert isinstance(_structured(body), Malformed)


def test_recsms_utf8_is_read_over_soap_and_http() -> None:
    """The codec reads RECSMS_UTF8's structure by its name: inside RECSMS_UTF8Result over
    SOAP, as the root over HTTP GET/POST."""
    from mandao._core.wire import Result
    from mandao._operations import Operation
    from mandao._transports import codec
    from mandao._transports.wsdl import Built
    from mandao._wsdl import ACCOUNT

    op = Operation("RECSMS_UTF8", ACCOUNT, ("sn", "pwd"), "plain")
    mo = _mo(_body("1", "121818", "13800138000", "hi", "2011-6-7 17:42:33"))
    line = Result(",121818,13800138000,hi,2011-6-7 17:42:33")
    for protocol in ("http-get", "http-post"):
        built = Built(protocol, op, {"sn": "S", "pwd": "p"}, {})
        assert codec.response(built, 200, mo).body == line
    inner = mo.split(b"?>", 1)[1].replace(b"ArrayOfMOBody", b"RECSMS_UTF8Result")
    for protocol, env in (("soap11", "http://schemas.xmlsoap.org/soap/envelope/"),
                          ("soap12", "http://www.w3.org/2003/05/soap-envelope")):  # fmt: skip
        envelope = (
            (
                f'<s:Envelope xmlns:s="{env}"><s:Body><RECSMS_UTF8Response xmlns="{TEMPURI}">'
            ).encode()
            + inner
            + b"</RECSMS_UTF8Response></s:Body></s:Envelope>"
        )
        built = Built(protocol, op, {"sn": "S", "pwd": "p"}, {})
        assert codec.response(built, 200, envelope).body == line


# -- the REPL's zeep proxies -------------------------------------------------------------


def test_the_repl_proxies_follow_no_redirect_either() -> None:
    """client.service calls (zeep end to end) do not follow a redirect: a ProtocolError,
    and the redirect's target gets nothing."""
    from .test_hostile import Hostile, fine, redirect

    moved = redirect("307 Temporary Redirect", lambda server: server.elsewhere)
    with Hostile(fine()) as elsewhere, Hostile(moved) as primary:
        primary.elsewhere = elsewhere.url
        client = _client([primary.url])
        with pytest.raises(mandao.ProtocolError):
            client.service.mdgetSninfo()
    assert (primary.connections, elsewhere.connections) == (1, 0)


def _broken_multipart(request: object) -> bytes:
    from .test_hostile import head

    kind = 'multipart/related; type="application/xop+xml"; boundary="MIME"'
    return head("200 OK", {"Content-Type": kind, "Content-Length": "9"}) + b"not MIME!"


@pytest.mark.parametrize(
    "name", ["broken multipart", "gzip bomb", "internal entity", "bad chunking"]
)
def test_the_repl_proxies_give_mandao_errors_for_hostile_replies(name: str) -> None:
    """What zeep makes of a hostile reply comes out as a mandao error."""
    from .test_hostile import CASES, Hostile, raw

    reply = raw(_broken_multipart) if name == "broken multipart" else CASES[name].reply
    with Hostile(reply) as primary:
        client = _client([primary.url])
        with pytest.raises(mandao.OutcomeUnknown):
            client.service.mdgetSninfo()


def test_a_bad_argument_to_a_repl_proxy_is_a_validation_error() -> None:
    """An argument zeep refuses before sending: a ValidationError, nothing sent."""
    with _server("silent") as url:
        client = _client([url])
        with pytest.raises(mandao.ValidationError):
            client.service.mdgetSninfo(nonsense="x")


# -- settings ---------------------------------------------------------------------------


def test_a_call_has_a_total_deadline_by_default() -> None:
    """Timeouts.total: None means 120 s, or a full wait, two connects and a read if longer."""
    assert mandao.Timeouts().budget() == 120.0
    assert mandao.Timeouts(5, 30, wait=600).budget() == 640.0
    assert mandao.Timeouts(total=3).budget() == 3
    with pytest.raises(mandao.ValidationError, match=r"timeout\.total"):
        mandao.Timeouts(total=0)
    with pytest.raises(mandao.ValidationError, match=r"timeout\.total"):
        mandao.Timeouts(total=float("inf"))


def test_reply_limits_are_per_operation() -> None:
    """Sends and account calls: 64 KiB; the fetch operations: 16 MiB; both settable."""
    from mandao._config import FETCH_OPERATIONS, ReplyLimits

    limits = ReplyLimits()
    assert limits.of("mdsmssend") == limits.of("balance") == 64 * 1024
    assert {limits.of(name) for name in FETCH_OPERATIONS} == {16 * 1024 * 1024}
    assert {"mo", "mo2", "report", "report2", "RECSMS_UTF8"} <= FETCH_OPERATIONS
    assert ReplyLimits(default=10).of("mdsmssend") == 10
    for bad in (0, -1, 1.5, True, "64"):
        with pytest.raises(mandao.ValidationError, match="reply_limits"):
            ReplyLimits(default=bad)  # type: ignore[arg-type]


def test_the_reply_cap_is_the_transports() -> None:
    """A cap given to the transport applies: a reply over it is a ProtocolError."""
    from mandao._config import ReplyLimits
    from mandao._core.wire import Malformed
    from mandao._transports.sync import SyncTransport

    from .test_hostile import Hostile, answer
    from .test_reply_fuzz import built

    with Hostile(answer("218290961833668203")) as server:
        small = SyncTransport(mandao.Timeouts(1, 1), requests_session(), ReplyLimits(default=16))
        exchange = small.exchange(built("http-post", "mdsmssend"), server.url)
    assert isinstance(exchange.body, Malformed)  # type: ignore[union-attr]
    assert "cap of 16 bytes" in exchange.body.detail  # type: ignore[union-attr]


def requests_session() -> object:
    from mandao._transports.session import session

    return session()


def test_mandao_asks_for_the_encodings_it_decodes_only() -> None:
    """Accept-Encoding is gzip and deflate on both transports: nothing mandao cannot cap."""
    from .test_hostile import Hostile, answer

    with Hostile(answer("218290961833668203")) as server:
        _client([server.url]).send(**PAYLOAD)
    assert server.seen[0].headers["accept-encoding"] == "gzip, deflate"
