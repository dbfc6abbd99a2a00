"""``InboxServer``: the inbox on a loopback port of its own (stdlib ``http.server``).

One thread per connection (daemon threads), HTTP/1.1 keep-alive. Every request must name
this server in ``Host`` (``127.0.0.1:PORT``, ``localhost:PORT``, ``[::1]:PORT`` or the
bound address), so a page of another site cannot reach it by DNS rebinding; every request
that changes something (POST, DELETE) is refused when its ``Origin`` is another site's,
or ``Sec-Fetch-Site`` says ``cross-site``. Answers carry a Content-Security-Policy that
lets the pages load their own script and stylesheet only. ``stop()`` closes the hub
(every event stream ends at once), the listening socket and every open connection.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._app import InboxApp
from ._http import MAX_BODY, HttpError, Request, Response, Stream, json_response
from ._pages import error_page
from ._routes import match

__all__ = ["InboxServer", "allowed_hosts", "url_host"]

_log = logging.getLogger("mandao.testing.inbox")
_CHANGES = frozenset({"POST", "DELETE", "PUT", "PATCH"})
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on its
    # own form posts, which the Origin check must refuse.
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
}


def url_host(host: str) -> str:
    """``host`` as it goes in a URL: IPv6 in brackets; a wildcard bind as 127.0.0.1."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - naming the wildcard, not binding it
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def allowed_hosts(bind: str, port: int) -> frozenset[str]:
    """The ``Host`` values accepted (lower case): the loopback names and the bound host."""
    names = {"127.0.0.1", "localhost", "[::1]", url_host(bind).lower()}
    values = {f"{name}:{port}" for name in names}
    if port == 80:
        values |= names
    return frozenset(values)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], inbox: InboxServer) -> None:
        self.inbox = inbox
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mandao-inbox"
    sys_version = ""
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the inbox shows what it serves; it does not log each request

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise HttpError(411, "send the body with a Content-Length", "Content-Length")
        length = self.headers.get("Content-Length", "0").strip() or "0"
        if not length.isdigit():
            self.close_connection = True
            raise HttpError(400, "Content-Length is not a number", "Content-Length")
        if int(length) > MAX_BODY:
            self.close_connection = True
            raise HttpError(413, f"the body is over {MAX_BODY} bytes", "body")
        return self.rfile.read(int(length)) if int(length) else b""

    def _check(self) -> None:
        inbox = self.server.inbox
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in inbox.allowed:
            raise HttpError(403, f"Host {host!r} is not this inbox's address", "Host")
        if self.command not in _CHANGES:
            return
        origin = self.headers.get("Origin")
        if origin is not None and origin.strip().lower() not in inbox.origins:
            raise HttpError(403, f"a request from {origin!r} may not change the inbox", "Origin")
        if (self.headers.get("Sec-Fetch-Site") or "").strip().lower() == "cross-site":
            raise HttpError(403, "a cross-site request may not change the inbox", "Sec-Fetch-Site")

    def _dispatch(self) -> None:
        inbox = self.server.inbox
        parts = urlsplit(self.path)
        api = parts.path.startswith("/api/")
        answer: Response | Stream
        try:
            body = self._read_body()
            self._check()
            handler, params = match(self.command, parts.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers=self.headers,  # type: ignore[arg-type]
                body=body,
                params=params,
            )
            answer = handler(inbox.app, request)
        except HttpError as error:
            answer = json_response(error.to_dict(), error.status) if api else error_page(error)
            if error.status == 405 and error.parameter:
                answer.headers["Allow"] = error.parameter
        except Exception as exc:  # a bug of the inbox: answered, and logged with its traceback
            _log.exception("inbox: %s %s failed", self.command, parts.path)
            failed = HttpError(500, f"the inbox failed: {type(exc).__name__}: {exc}")
            answer = json_response(failed.to_dict(), 500) if api else error_page(failed)
        if isinstance(answer, Stream):
            self._stream(answer)
        else:
            self._send(answer)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in {**_HEADERS, **response.headers}.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _stream(self, stream: Stream) -> None:
        self.close_connection = True  # the body ends when the connection does
        self.send_response(200)
        self.send_header("Content-Type", stream.content_type)
        for name, value in _HEADERS.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        if self.command == "HEAD":
            return
        with contextlib.suppress(OSError):  # the client went away, or the inbox stopped
            stream.run(self._write)

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)


class InboxServer:
    """The inbox's HTTP server for ``app``, on ``host`` (loopback by default) and ``port``."""

    def __init__(self, app: InboxApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.allowed: frozenset[str] = frozenset()
        self.origins: frozenset[str] = frozenset()

    @property
    def port(self) -> int:
        """The bound port (the one asked for, until bound)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/`` (or the bound host's), with its trailing slash."""
        return f"http://{url_host(self.host)}:{self._port}/"

    def start(self) -> None:
        """Bind and serve in a thread; OSError naming the address when it cannot listen."""
        try:
            server = _Server((self.host, self._port), self)
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"cannot listen on {self.host}:{self._port} (inbox port): {exc.strerror}",
            ) from exc
        self._server = server
        self._port = server.server_address[1]
        self.allowed = allowed_hosts(self.host, self._port)
        self.origins = frozenset(f"http://{value}" for value in self.allowed)
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sandbox-inbox",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """End every stream, stop listening, cut every connection; safe to call twice."""
        self.app.hub.close()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with server.connections_lock:
            open_now = list(server.connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
