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
        client = mandao.Client("SDK-TST-010-00001", "secret", hosts=[url], timeout=(0.3, 5))
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
