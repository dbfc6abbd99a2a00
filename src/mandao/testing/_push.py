"""MO push (上行推送): the sandbox POSTs replies to a registered loopback URL.

The vendor's own description: the gateway POSTs ``args=`` holding ``moID,特服号,手机号,内容,
时间`` records joined by ``;``, at most 1000 a push, content GB2312 URL-encoded, moID always
``123456``; the receiver answers ``0``. What it leaves open is chosen here: ``args`` is a
form field of the POST body, the record string form-encoded once more over the content's
own encoding; a ``args=%XXX%`` placeholder in the registered URL (the vendor's template) is
dropped from the query; a push is tried once, never retried. ``Pusher`` carries pushes
out in order on one thread and records each ``PushAttempt``. ``PushReceiver`` is the other
end, for tests: a loopback server that keeps what it got and answers ``0``.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

from ._http import Request, render_response
from ._inbound import PUSH_MO_ID, InjectedReply, china_time
from ._server import LOOPBACK, Listener, Reply

__all__ = ["PUSH_BATCH", "PushAttempt", "PushReceiver", "Pusher", "check_push_url"]

#: At most this many records in one push (the vendor's limit).
PUSH_BATCH = 1000
_LOOPBACK_NAMES = frozenset({LOOPBACK, "localhost"})


def check_push_url(url: str) -> None:
    """Raise ValueError unless ``url`` is an ``http://`` URL on 127.0.0.1 (or localhost)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK_NAMES:
        raise ValueError(f"the sandbox pushes to http://127.0.0.1 URLs only, not {url!r}")


@dataclass(frozen=True)
class PushAttempt:
    """One push: where, which replies, what the receiver answered.

    ``records`` is the ``args`` value as the receiver decodes the form (records joined by
    ``;``); ``accepted`` is True when the answer was HTTP 200 with the body ``0``;
    ``error`` says why there was no answer (connection refused, timeout), else ``""``.
    """

    url: str
    replies: tuple[InjectedReply, ...]
    records: str
    status: int | None
    answer: str
    accepted: bool
    error: str
    time: datetime


def _target(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if v != "%XXX%"]
    path = (parts.path or "/") + (f"?{urlencode(query)}" if query else "")
    return LOOPBACK, parts.port or 80, path


class Pusher:
    """Carries pushes out one at a time, in order, on a thread of its own."""

    def __init__(self, timeout: float = 5.0, clock: Callable[[], float] = time.time) -> None:
        self.timeout = timeout
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[tuple[str, tuple[InjectedReply, ...]]] = deque()
        self._attempts: list[PushAttempt] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    def push(self, url: str, replies: Sequence[InjectedReply]) -> None:
        """Queue ``replies`` for ``url``, in pushes of at most ``PUSH_BATCH`` records."""
        with self._cond:
            for start in range(0, len(replies), PUSH_BATCH):
                self._queue.append((url, tuple(replies[start : start + PUSH_BATCH])))
            self._closed = False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sandbox-push", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    @property
    def attempts(self) -> list[PushAttempt]:
        """Every push made so far, oldest first (a copy)."""
        with self._cond:
            return list(self._attempts)

    def wait(self, count: int, timeout: float | None) -> bool:
        """Block until ``count`` pushes have been made; False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._attempts) >= count, timeout)

    def close(self) -> None:
        """Drop what is queued and stop after the push in progress (if any)."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if self._closed:
                    return
                url, replies = self._queue.popleft()
            attempt = self._post(url, replies)
            with self._cond:
                self._attempts.append(attempt)
                self._cond.notify_all()

    def _post(self, url: str, replies: tuple[InjectedReply, ...]) -> PushAttempt:
        records = ";".join(r.mo_line(PUSH_MO_ID) for r in replies)
        body = ("args=" + quote_plus(records, safe="")).encode("ascii")
        host, port, path = _target(url)
        status, answer, error = None, "", ""
        conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            conn.request(
                "POST",
                path,
                body,
                {"Content-Type": "application/x-www-form-urlencoded", "Connection": "close"},
            )
            resp = conn.getresponse()
            status = resp.status
            answer = resp.read(65536).decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        accepted = status == 200 and answer.strip() == "0"
        when = china_time(self._clock())
        return PushAttempt(url, replies, records, status, answer, accepted, error, when)


class PushReceiver:
    """A loopback endpoint that takes the sandbox's pushes, for tests (``mandao_push_receiver``).

    ``url`` is where to point ``gw.push_replies_to``; ``received`` holds each push's
    ``args`` value (records joined by ``;``), oldest first; every push is answered
    ``answer`` (``"0"``: received). ``wait(n)`` blocks until ``n`` pushes arrived.

    >>> with PushReceiver() as receiver:
    ...     receiver.url.startswith("http://127.0.0.1:"), receiver.received
    (True, [])
    """

    def __init__(self, answer: str = "0", path: str = "/mo") -> None:
        self.answer = answer
        self.path = path
        self._cond = threading.Condition()
        self._received: list[str] = []
        self._listener = Listener(self._handle)

    def __enter__(self) -> PushReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> PushReceiver:
        """Listen on a free loopback port."""
        self._listener.up()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._listener.close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port><path>``."""
        return f"http://{LOOPBACK}:{self._listener.port}{self.path}"

    @property
    def received(self) -> list[str]:
        """The ``args`` value of every push received, oldest first (a copy)."""
        with self._cond:
            return list(self._received)

    def wait(self, count: int = 1, timeout: float | None = 10.0) -> bool:
        """Block until ``count`` pushes have arrived; False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._received) >= count, timeout)

    def _handle(self, request: Request, peer: str, closing: threading.Event) -> Reply:
        form = dict(parse_qsl(request.body.decode("latin-1"), keep_blank_values=True))
        with self._cond:
            self._received.append(form.get("args", ""))
            self._cond.notify_all()
        data = render_response(200, "text/plain; charset=utf-8", self.answer.encode("utf-8"))
        return Reply(data, close=not request.keep_alive)
