"""One deadline for a whole reply, on requests' sockets: a trickling server is cut off.

A socket timeout bounds each read, not the reply: a server sending a byte a second holds
a call with a 3 s read timeout as long as it likes. Here the reply of an exchange gets a
deadline when its response object is made (the request is written by then), and before
every read from the socket its timeout is set to what is left, so the status line, the
headers and the body together arrive within the read timeout (and the call's deadline),
or the read fails as a read timeout does.

mandao's own session mounts :class:`Adapter`, whose connections make their responses so
(every pool its pool managers make, through a proxy too). A session of the caller's
keeps its adapters; its replies get the deadline once their headers are in
(:func:`after_headers`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import http.client
import io
import socket
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import requests
import requests.adapters

__all__ = ["HOOKS", "Adapter", "after_headers", "reading"]


class _Reading(NamedTuple):
    read: float
    until: float | None  # the call's deadline (time.monotonic), if any

    def deadline(self) -> float:
        end = time.monotonic() + self.read
        return end if self.until is None else min(end, self.until)


#: What the exchange in progress in this thread allows its reply (see :func:`reading`).
_READING: contextvars.ContextVar[_Reading | None] = contextvars.ContextVar(
    "mandao_reading", default=None
)


@contextlib.contextmanager
def reading(read: float, until: float | None) -> Iterator[None]:
    """While the block runs, a reply may take ``read`` seconds from its request's end, and
    never run past ``until`` (on ``time.monotonic``)."""
    token = _READING.set(_Reading(read, until))
    try:
        yield
    finally:
        _READING.reset(token)


class _Bounded(io.RawIOBase):
    """A reply's bytes, each read from the socket given only the time left."""

    def __init__(self, inner: io.BufferedReader, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._inner, self._sock, self._deadline = inner, sock, deadline
        self._restore = sock.gettimeout()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the reply took longer than its read timeout")
        self._sock.settimeout(left)
        data = self._inner.read1(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            # The connection goes back to the pool: its next request must not inherit the
            # few seconds this reply had left.
            with contextlib.suppress(OSError):
                self._sock.settimeout(self._restore)
            self._inner.close()
        super().close()


def _bound(response: http.client.HTTPResponse, sock: socket.socket, deadline: float) -> None:
    response.fp = io.BufferedReader(_Bounded(response.fp, sock, deadline))


class _Response(http.client.HTTPResponse):
    """http.client's response, read against the deadline :func:`reading` set, if any."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        allowed = _READING.get()
        if allowed is not None:
            _bound(self, sock, allowed.deadline())


@functools.cache
def _connection_class(cls: type[Any]) -> type[Any]:
    return type(cls.__name__, (cls,), {"response_class": _Response, "__module__": __name__})


@functools.cache
def _pool_class(cls: type[Any]) -> type[Any]:
    connection = _connection_class(cls.ConnectionCls)
    return type(cls.__name__, (cls,), {"ConnectionCls": connection, "__module__": __name__})


def _bounded(manager: Any) -> Any:
    """``manager`` (a urllib3 pool or proxy manager), its new pools' replies bounded."""
    classes = manager.pool_classes_by_scheme
    manager.pool_classes_by_scheme = {scheme: _pool_class(c) for scheme, c in classes.items()}
    return manager


class Adapter(requests.adapters.HTTPAdapter):
    """requests' own adapter, each reply read against one deadline (see the module)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _bounded(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        fresh = proxy not in self.proxy_manager
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        return _bounded(manager) if fresh else manager


def after_headers(response: requests.Response, read: float, until: float | None) -> None:
    """Give the body of ``response`` (from a caller's session) the deadline from now on,
    when its reader can be reached; mandao's own session bounded it from the start."""
    inner = getattr(response.raw, "_fp", None)
    if not isinstance(inner, http.client.HTTPResponse) or isinstance(inner, _Response):
        return
    sock = getattr(getattr(inner.fp, "raw", None), "_sock", None)
    if isinstance(inner.fp, io.BufferedReader) and isinstance(sock, socket.socket):
        _bound(inner, sock, _Reading(read, until).deadline())


def _unread_redirect(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """Keep requests from reading a redirect's body itself.

    Even with ``allow_redirects=False``, ``Session.send`` walks a redirect once to offer
    ``response.next``, and reads its whole body first, uncapped and decompressed: a 302
    with a 200 MiB body would be held in memory. Without its Location, the response is no
    redirect to requests; its status still is one to mandao, and its body is capped.
    """
    if response.is_redirect:
        del response.headers["Location"]
    return response


#: The response hooks of every request mandao sends with requests (any session's).
HOOKS: dict[str, Any] = {"response": [_unread_redirect]}
