"""The inbox's HTTP server itself, over raw loopback sockets: request lines with raw
UTF-8, http.server's own refusals answered as the inbox's errors, Content-Length, Host
and Origin checked before the body, and the idle timeout."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from shutil import which

import pytest

from mandao.testing import SandboxGateway

SN, PASSWORD = "SDK-TST-010-00001", "secret"
SECURITY = ("content-security-policy", "x-content-type-options", "referrer-policy")


@pytest.fixture
def gw() -> Iterator[SandboxGateway]:
    """A running sandbox with its inbox and two messages."""
    with SandboxGateway(accounts={SN: PASSWORD}, inbox=True) as gateway:
        gateway.client(SN, PASSWORD).send(["13800138000", "13900139000"], "验证码 482915【示例】")
        yield gateway


def _port(gw: SandboxGateway) -> int:
    return int((gw.inbox_url or "").rsplit(":", 1)[1].strip("/"))


def _read_until(conn: socket.socket, marker: bytes, received: bytes = b"") -> bytes:
    """``received`` and what ``conn`` sends after it, until ``marker`` has come; a
    connection closed before it fails the test (instead of waiting for ever)."""
    while marker not in received:
        chunk = conn.recv(4096)
        assert chunk, received
        received += chunk
    return received


def _exchange(gw: SandboxGateway, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` as it is; (status, headers lower-cased, body) of the answer, read to
    the connection's end or to Content-Length."""
    with socket.create_connection(("127.0.0.1", _port(gw)), timeout=10) as conn:
        conn.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            assert chunk, data
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "-1"))
        while length < 0 or len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(lines[0].split()[1]), headers, body


def _get(
    gw: SandboxGateway, target: bytes, extra: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    host = f"Host: 127.0.0.1:{_port(gw)}\r\n".encode()
    return _exchange(gw, b"GET " + target + b" HTTP/1.1\r\n" + host + extra + b"\r\n")


@pytest.mark.parametrize("term", ["验证码", "示例", "482915"])
def test_a_raw_utf8_query_is_read_as_utf8(gw: SandboxGateway, term: str) -> None:
    """curl sends q=验证码 as raw UTF-8 bytes (0xA0 among them, which http.server's split
    took for a space): the search finds both messages, as with the percent-encoded q."""
    status, _headers, body = _get(gw, b"/api/messages?q=" + term.encode())
    assert status == 200, body
    assert json.loads(body)["total"] == 2
    page_status, _, page = _get(gw, b"/?q=" + term.encode())
    assert page_status == 200
    assert page.count(b'class="message"') == 2


@pytest.mark.parametrize(
    "target",
    [b"/api/messages?q=\xe9\xaa", b"/api/messages?q=%E9%AA", b"/api/messages/\xff"],
)
def test_a_query_or_path_that_is_not_utf8_is_400_json(gw: SandboxGateway, target: bytes) -> None:
    """Bytes that are not UTF-8, raw or percent-encoded: a 400 JSON error, not U+FFFD."""
    status, headers, body = _get(gw, target)
    assert status == 400
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(body)["error"]["message"]


@pytest.mark.skipif(which("curl") is None, reason="curl is not installed")
def test_the_docs_curl_searches_work(gw: SandboxGateway) -> None:
    """The docs' way (-G --data-urlencode) and curl with the text typed in the URL both
    find the messages."""
    url = (gw.inbox_url or "") + "api/messages"
    for args in (["-G", url, "--data-urlencode", "q=验证码"], [url + "?q=验证码"]):
        done = subprocess.run(["curl", "-s", *args], capture_output=True, timeout=30, check=True)
        assert json.loads(done.stdout)["total"] == 2, done.stdout


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /api/messages?q=" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET /api/messages HTTP/1.1 extra\r\n\r\n", 400),
        (b"GET /api/messages HTTP/9.9\r\n\r\n", 505),
        (b"BREW /api/messages HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (b"GET /api/messages HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 431),
    ],
)
def test_http_servers_own_refusals_are_json_under_api(
    gw: SandboxGateway, raw: bytes, status: int
) -> None:
    """A request http.server refuses before the inbox sees it (414, a bad request line,
    505, 501, 431): JSON like every /api/ error, with the security headers."""
    answer, headers, body = _exchange(gw, raw)
    assert answer == status
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(body)["error"]["message"]
    for name in SECURITY:
        assert name in headers
    assert headers["connection"] == "close"


def test_a_refusal_outside_the_api_is_the_error_page_with_the_headers(gw: SandboxGateway) -> None:
    """The same refusal on a page path: the inbox's HTML error page, with the headers."""
    status, headers, body = _exchange(gw, b"GET /?q=" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
    assert status == 414
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert b"<h1>414</h1>" in body
    for name in SECURITY:
        assert name in headers


@pytest.mark.parametrize("length", [b"\xb2", b"1\xb9", b"-1", b"1e3"])
def test_content_length_must_be_ascii_digits(gw: SandboxGateway, length: bytes) -> None:
    """A Content-Length of superscripts (which str.isdigit takes) or no number: 400 JSON
    naming it, not a 500."""
    host = f"Host: 127.0.0.1:{_port(gw)}\r\n".encode()
    raw = b"POST /api/replies HTTP/1.1\r\n" + host + b"Content-Length: " + length + b"\r\n\r\n"
    status, _, body = _exchange(gw, raw)
    assert status == 400
    assert json.loads(body)["error"]["parameter"] == "Content-Length"


@pytest.mark.parametrize(
    "refused",
    [b"Host: evil.example\r\n", b"Host: {host}\r\nOrigin: http://evil.example\r\n"],
)
def test_host_and_origin_are_checked_before_the_body(gw: SandboxGateway, refused: bytes) -> None:
    """A refused request that announces a body it never sends is answered 403 at once:
    the server does not wait for a body it would throw away, and closes the connection."""
    head = refused.replace(b"{host}", f"127.0.0.1:{_port(gw)}".encode())
    raw = b"DELETE /api/messages HTTP/1.1\r\n" + head + b"Content-Length: 1000\r\n\r\n"
    status, headers, _ = _exchange(gw, raw)
    assert status == 403
    assert headers["connection"] == "close"
    assert len(gw.ledger) == 2


def test_an_idle_connection_is_closed(gw: SandboxGateway) -> None:
    """A connection that sends nothing is closed after the idle timeout (its thread freed):
    the read sees the end of the connection."""
    assert gw._inbox is not None
    gw._inbox.idle_timeout = 0.2  # 60 s in use
    with socket.create_connection(("127.0.0.1", _port(gw)), timeout=10) as conn:
        assert conn.recv(1) == b""


def test_an_event_stream_outlives_the_idle_timeout(gw: SandboxGateway) -> None:
    """A stream waits on the event log, not on its socket: with an idle timeout far below
    the keep-alive interval, the keep-alive comment still comes."""
    assert gw._inbox is not None
    gw._inbox.idle_timeout = 0.05
    gw._inbox.app.keepalive = 0.5
    with socket.create_connection(("127.0.0.1", _port(gw)), timeout=10) as conn:
        conn.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{_port(gw)}\r\n\r\n".encode())
        _read_until(conn, b": keep-alive")


def test_a_body_that_stops_coming_is_408(gw: SandboxGateway) -> None:
    """A body announced and cut off mid-way: after the idle timeout, 408 naming the body
    (not a 500 with a traceback), and the connection is closed."""
    assert gw._inbox is not None
    gw._inbox.idle_timeout = 0.2
    host = f"Host: 127.0.0.1:{_port(gw)}\r\n".encode()
    raw = b"POST /api/replies HTTP/1.1\r\n" + host + b"Content-Length: 100\r\n\r\n{"
    status, headers, body = _exchange(gw, raw)
    assert status == 408
    assert json.loads(body)["error"]["parameter"] == "body"
    assert headers["connection"] == "close"
