"""Proxies from the environment (HTTP_PROXY, NO_PROXY): honoured on every request."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN

TEXT = "验证码 1234【示例】"


def _read_request(conn: socket.socket) -> tuple[str, list[str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("the client closed before a whole request")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    start, *headers = head.decode("latin-1").split("\r\n")
    length = next(
        (int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length:")), 0
    )
    while len(body) < length:
        body += conn.recv(65536)
    return start, headers, body


@contextmanager
def _forwarding_proxy() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP proxy: yields its URL and the request lines it forwarded."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    seen: list[str] = []
    stop = threading.Event()

    def relay(conn: socket.socket) -> None:
        with conn:
            start, headers, body = _read_request(conn)
            method, target, version = start.split(" ")
            seen.append(f"{method} {target}")
            url = urlsplit(target)  # a proxy is sent the absolute URL
            kept = [h for h in headers if not h.lower().startswith(("connection", "proxy-"))]
            path = url.path + (f"?{url.query}" if url.query else "")
            request = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close"])
            with socket.create_connection((url.hostname or "", url.port or 80), 5) as upstream:
                upstream.sendall(request.encode("latin-1") + b"\r\n\r\n" + body)
                while chunk := upstream.recv(65536):
                    conn.sendall(chunk)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.settimeout(5)
            threading.Thread(target=relay, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@pytest.fixture
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy settings inherited from the machine running the tests."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


@pytest.mark.parametrize("protocol", ["soap11", "http-get", "ashx"])
def test_sends_go_through_the_environments_proxy(
    plain_environment: pytest.MonkeyPatch, gateway: SandboxGateway, protocol: str
) -> None:
    """With HTTP_PROXY set, every request goes to the proxy, which sees the gateway's URL."""
    with _forwarding_proxy() as (proxy, seen):
        plain_environment.setenv("HTTP_PROXY", proxy)
        with gateway.client(SN, PASSWORD, protocol=protocol, timeout=(2, 5)) as client:
            client.send("13800138000", TEXT)
    host = urlsplit(gateway.hosts[0]).netloc
    assert len(seen) == 1
    assert seen[0].split(" ")[1].startswith(f"http://{host}/")
    assert len(gateway.ledger.messages) == 1


def test_no_proxy_sends_directly(
    plain_environment: pytest.MonkeyPatch, gateway: SandboxGateway
) -> None:
    """A host listed in NO_PROXY is reached directly."""
    with _forwarding_proxy() as (proxy, seen):
        plain_environment.setenv("HTTP_PROXY", proxy)
        plain_environment.setenv("NO_PROXY", "127.0.0.1")
        with gateway.client(SN, PASSWORD, timeout=(2, 5)) as client:
            client.send("13800138000", TEXT)
    assert seen == []
    assert len(gateway.ledger.messages) == 1


def test_the_environment_is_read_on_every_request(
    plain_environment: pytest.MonkeyPatch, gateway: SandboxGateway
) -> None:
    """As in requests: a proxy removed from the environment is no longer used, same client."""
    with _forwarding_proxy() as (proxy, seen):
        plain_environment.setenv("HTTP_PROXY", proxy)
        with gateway.client(SN, PASSWORD, timeout=(2, 5)) as client:
            client.send("13800138000", TEXT)
            plain_environment.delenv("HTTP_PROXY")
            client.send("13900139000", TEXT)
        assert len(seen) == 1
    assert len(gateway.ledger.messages) == 2


def test_a_proxy_set_after_the_first_request_is_used(
    plain_environment: pytest.MonkeyPatch, gateway: SandboxGateway
) -> None:
    """The session's lookup is keyed on the variables' values: a new HTTP_PROXY counts."""
    with _forwarding_proxy() as (proxy, seen):
        with gateway.client(SN, PASSWORD, timeout=(2, 5)) as client:
            client.send("13800138000", TEXT)
            plain_environment.setenv("HTTP_PROXY", proxy)
            client.send("13900139000", TEXT)
        assert len(seen) == 1
    assert len(gateway.ledger.messages) == 2
