"""``InboxServer``: the inbox on a loopback port of its own (stdlib ``http.server``).

One thread per connection (daemon threads), HTTP/1.1 keep-alive; a connection with no
request for ``idle_timeout`` seconds is closed (an event stream is never idle: it writes
a comment every 15 s; one whose reader stops reading that long is dropped). Every request
must name this server in ``Host`` (``127.0.0.1:PORT``, ``localhost:PORT``, ``[::1]:PORT``
or the bound address), so a page of another site cannot reach it by DNS rebinding; every
request that changes something (POST, DELETE) is refused when its ``Origin`` is another
site's, or ``Sec-Fetch-Site`` says ``cross-site``; both are checked before a byte of the
body is read. Answers carry a Content-Security-Policy that lets the pages load their own
script and stylesheet only; so do ``http.server``'s own refusals (a request line it
cannot read, 414, 431, 501), which are JSON on ``/api/`` like every other error. A
request line with raw UTF-8 (``curl "$I/api/messages?q=验证码"``) is read as UTF-8, as
a browser would have percent-encoded it. ``stop()`` closes the hub (every event stream
ends at once), the listening socket and every open connection.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._app import InboxApp
from ._http import MAX_BODY, HttpError, Request, Response, Stream, json_response
from ._pages import error_page
from ._routes import match

__all__ = ["IDLE_TIMEOUT", "InboxServer", "allowed_hosts", "url_host"]

#: Seconds a connection may wait for its next request before it is closed.
IDLE_TIMEOUT = 60.0
_NON_ASCII = re.compile(rb"[\x80-\xff]")

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

    raw_requestline: bytes

    def setup(self) -> None:
        super().setup()
        # A connection that sends no request for this long ends: handle_one_request
        # answers the socket's timeout by closing it.
        self.connection.settimeout(self.server.inbox.idle_timeout)

    def parse_request(self) -> bool:
        # http.server reads the request line as Latin-1 and splits it on whitespace, which
        # to str.split includes U+00A0 and U+0085: the raw UTF-8 of 验 or 码 (curl sends
        # it as typed) would cut the line. Raw bytes are percent-encoded first, as a
        # browser sends them, and the query is then read as UTF-8 (strictly) like any.
        self.path = ""  # not a previous request's path, should this line be unreadable
        if not self.raw_requestline.isascii():
            self.raw_requestline = _NON_ASCII.sub(
                lambda found: b"%%%02X" % found[0][0], self.raw_requestline
            )
        return super().parse_request()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals, answered as the inbox answers its errors: JSON on
        ``/api/``, the error page elsewhere, with the security headers."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            # Left so by a request line that could not be read: with it http.server would
            # answer a bare body, no status line, which no client of today reads.
            self.request_version = "HTTP/1.0"
        text = message or self.responses.get(code, ("refused",))[0]
        error = HttpError(int(code), f"{text}: {explain}" if explain else text)
        self._send(self._error_answer(error, self._api()))

    def _api(self) -> bool:
        path = getattr(self, "path", "")  # unset when the line was too long to read
        if not path:  # the request line was not read: its second word, if any
            words = self.raw_requestline.split()
            path = words[1].decode("ascii", "replace") if len(words) > 1 else ""
        return urlsplit(path).path.startswith("/api/")

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _body_length(self) -> int:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise HttpError(411, "send the body with a Content-Length", "Content-Length")
        length = self.headers.get("Content-Length", "0").strip() or "0"
        if not (length.isascii() and length.isdigit()):
            self.close_connection = True
            raise HttpError(400, "Content-Length is not a number (ASCII digits)", "Content-Length")
        return int(length)

    def _read_body(self) -> bytes:
        length = self._body_length()
        if length > MAX_BODY:
            self.close_connection = True
            raise HttpError(413, f"the body is over {MAX_BODY} bytes", "body")
        try:
            return self.rfile.read(length) if length else b""
        except TimeoutError:
            self.close_connection = True
            raise HttpError(408, "the body did not come in time", "body") from None

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
        read = False
        try:
            self._check()  # before the body: a refused request's body is never read
            body, read = self._read_body(), True
            handler, params = match(self.command, parts.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=_query(parts.query),
                headers=self.headers,  # type: ignore[arg-type]
                body=body,
                params=params,
            )
            answer = handler(inbox.app, request)
        except HttpError as error:
            answer = self._error_answer(error, api)
        except Exception as exc:  # a bug of the inbox: answered, and logged with its traceback
            _log.exception("inbox: %s %s failed", self.command, parts.path)
            failed = HttpError(500, f"the inbox failed: {type(exc).__name__}: {exc}")
            answer = self._error_answer(failed, api)
        if not read and not self.close_connection and self._unread_body():
            self.close_connection = True  # the body left unread would be the next "request"
        if isinstance(answer, Stream):
            self._stream(answer)
        else:
            self._send(answer)

    def _unread_body(self) -> bool:
        try:
            return self._body_length() > 0
        except HttpError:
            return True

    @staticmethod
    def _error_answer(error: HttpError, api: bool) -> Response:
        answer = json_response(error.to_dict(), error.status) if api else error_page(error)
        answer.headers.update(error.headers)
        return answer

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
        # The stream has joined the hub already (event_stream took its place before these
        # headers went out): what the page or EventSource does on "open" sees every event.
        # The idle timeout stays, as a write timeout: a reader that stops reading is dropped.
        with contextlib.suppress(OSError):  # the client went away, or the inbox stopped
            stream.run(self._write)

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)


def _query(query: str) -> dict[str, list[str]]:
    try:
        return parse_qs(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise HttpError(400, "the query is not UTF-8 (percent-encoded)", "query") from None


class InboxServer:
    """The inbox's HTTP server for ``app``, on ``host`` (loopback by default) and ``port``;
    a connection idle for ``idle_timeout`` seconds is closed (read at each new one)."""

    def __init__(
        self,
        app: InboxApp,
        host: str = "127.0.0.1",
        port: int = 0,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.app = app
        self.host = host
        self.idle_timeout = idle_timeout
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
