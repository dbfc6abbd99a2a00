"""HTTP/1.1 on a raw socket: read one request, render one response as a single byte string.

Hand-rolled rather than ``http.server`` because the sandbox must control every byte and
every close (truncated bodies, resets, replies that never come), and because one
``sendall`` of headers and body together is what keeps a loopback round trip far below a
millisecond (no Nagle / delayed-ACK stall between a header write and a body write).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import BinaryIO

__all__ = ["BadRequest", "Request", "read_request", "render_response"]

_MAX_LINE = 65536
_MAX_HEADERS = 200
_MAX_BODY = 64 * 1024 * 1024

REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# What IIS + ASP.NET put on every answer; a client must not depend on them, but they make
# captured traffic look like the real thing.
_SERVER_HEADERS = (
    b"Cache-Control: private, max-age=0\r\n"
    b"Server: Microsoft-IIS/7.5\r\n"
    b"X-AspNet-Version: 4.0.30319\r\n"
    b"X-Powered-By: ASP.NET\r\n"
)


class BadRequest(Exception):
    """The bytes on the connection are not an HTTP/1.x request."""


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request; header names are lower-case."""

    method: str
    path: str
    query: str
    version: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def keep_alive(self) -> bool:
        """Whether the client wants the connection kept open after the reply."""
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn

    @property
    def content_type(self) -> str:
        """The media type alone, lower-case (``text/xml``), without parameters."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def content_type_param(self, name: str) -> str | None:
        """One parameter of Content-Type (``charset``, ``action``), unquoted, or None."""
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == name:
                return value.strip().strip('"')
        return None


def _readline(rfile: BinaryIO) -> bytes:
    line = rfile.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise BadRequest("line too long")
    return line


def read_request(rfile: BinaryIO, send_continue: object = None) -> Request | None:
    """Read one request from ``rfile``; None on a clean end of stream before any byte.

    ``send_continue`` is called (with no arguments) when the client sent
    ``Expect: 100-continue``, as .NET and Java clients do.
    """
    line = _readline(rfile)
    while line in (b"\r\n", b"\n"):  # tolerate stray CRLF between keep-alive requests
        line = _readline(rfile)
    if not line:
        return None
    try:
        method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ")
    except ValueError as exc:
        raise BadRequest(f"bad request line {line!r}") from exc
    if not version.startswith("HTTP/1."):
        raise BadRequest(f"unsupported version {version!r}")
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        hline = _readline(rfile)
        if hline in (b"\r\n", b"\n", b""):
            break
        name, sep, value = hline.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest(f"bad header line {hline!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    else:
        raise BadRequest("too many headers")
    if headers.get("expect", "").lower() == "100-continue" and callable(send_continue):
        send_continue()
    body = _read_body(rfile, headers)
    path, _, query = target.partition("?")
    return Request(method.upper(), path, query, version, headers, body)


def _read_body(rfile: BinaryIO, headers: Mapping[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = _readline(rfile).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise BadRequest("bad chunk size") from exc
            if size == 0:
                while _readline(rfile) not in (b"\r\n", b"\n", b""):
                    pass  # trailers, ignored
                return b"".join(chunks)
            total += size
            if total > _MAX_BODY:
                raise BadRequest("body too large")
            chunks.append(rfile.read(size))
            rfile.readline()
    length_text = headers.get("content-length", "0") or "0"
    try:
        length = int(length_text)
    except ValueError as exc:
        raise BadRequest("bad Content-Length") from exc
    if length < 0 or length > _MAX_BODY:
        raise BadRequest("bad Content-Length")
    body = rfile.read(length) if length else b""
    if len(body) != length:
        raise BadRequest("body shorter than Content-Length")
    return body


_date_cache: tuple[int, bytes] = (0, b"")


def _date_header() -> bytes:
    # formatdate costs a few microseconds; once a second is plenty.
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode("ascii"))
    return _date_cache[1]


def render_response(
    status: int,
    content_type: str,
    body: bytes,
    *,
    keep_alive: bool = True,
    content_length: int | None = None,
    reason: str | None = None,
) -> bytes:
    """Headers and body as one byte string, ready for a single ``sendall``.

    ``content_length`` overrides the real length (a truncated-body fault announces more
    bytes than it sends).
    """
    length = len(body) if content_length is None else content_length
    head = (
        f"HTTP/1.1 {status} {reason or REASONS.get(status, 'Unknown')}\r\n".encode("latin-1")
        + _SERVER_HEADERS
        + b"Content-Type: "
        + content_type.encode("latin-1")
        + b"\r\nDate: "
        + _date_header()
        + b"\r\nContent-Length: "
        + str(length).encode("ascii")
        + (b"\r\n\r\n" if keep_alive else b"\r\nConnection: close\r\n\r\n")
    )
    return head + body
