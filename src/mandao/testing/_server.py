"""One listening port of a sandbox host: accept loop, one thread per connection, keep-alive.

A ``Listener`` can be up (serving), down (nothing listens: connection refused), or
black-holed (a socket listens but its accept queue is full, so a client's connect times
out, as a host that drops SYNs does). ``up`` always re-binds the same port, which a down
listener holds meanwhile (bound, not listening: connects are refused) so that the OS
hands it to no other socket (a sandbox of another process asking for port 0); ``close``
gives it back. (On Linux: elsewhere a port is not bound twice, and is free while down.)
Everything binds 127.0.0.1 only.

A listener asked for port 0 gets one that no earlier listener of this process had
(``RECENT`` of them are remembered): the client keeps state per host list (a serial's
admission, a request that may still linger at the gateway), so a fresh sandbox per test
must not come back on a port an earlier test's sandbox had, as the OS does now and then.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Literal, cast

from ._http import BadRequest, Request, read_request, render_response

__all__ = ["LOOPBACK", "Handler", "Listener", "Reply"]

LOOPBACK = "127.0.0.1"
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: How many ports of this process's earlier listeners a new one avoids.
RECENT = 4096
#: How many ports the OS may offer before one it offers again is taken anyway.
_OFFERS = 64
_given: deque[int] = deque(maxlen=RECENT)
#: Whether a port a socket of ours holds (bound, not listening) can be bound again by a
#: listener of ours: Linux's SO_REUSEADDR allows it; BSD's and macOS's need SO_REUSEPORT.
HOLDS = sys.platform.startswith("linux")
_given_lock = threading.Lock()


def _bound(port: int) -> socket.socket:
    """A socket bound to ``port`` (0: one the OS chooses), not listening: a connect to it
    is refused, and the OS hands the port to no other socket meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # Re-binding the same port right after down() must not fail on TIME_WAIT, and a
        # listener may bind the port while a socket of ours that does not listen holds it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        raise
    return sock


def _listening(port: int, backlog: int) -> socket.socket:
    sock = _bound(port)
    try:
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def fresh(backlog: int) -> socket.socket:
    """A socket listening on a port no earlier listener of this process had (of the last
    ``RECENT``): one the OS offers again is kept bound meanwhile, so it offers another.
    The listener binds the port by its number (the one offered holds it meanwhile): the
    kernel keeps a port so bound through a ``shutdown``, for ``down`` to hold it."""
    offered: list[socket.socket] = []
    try:
        with _given_lock:
            for _ in range(_OFFERS):
                offered.append(_bound(0))
                port = offered[-1].getsockname()[1]
                if port not in _given:
                    break
            # else: a host of thousands of sandboxes: the last one offered is taken
            _given.append(port)
            if not HOLDS:  # the port is bound once: free a moment, as the OS had it
                offered.pop().close()
            return _listening(port, backlog)
    finally:
        for old in offered:
            old.close()


@dataclass(frozen=True)
class Reply:
    """What to do with a connection after a request: send ``data``, then maybe close.

    ``hang`` sends nothing and holds the connection open until the client or the host
    goes away; ``reset`` closes with an RST (SO_LINGER 0) instead of a FIN.
    """

    data: bytes = b""
    close: bool = False
    hang: bool = False
    reset: bool = False


# handler(request, peer_ip, closing): closing is set when the listener goes down, so a
# slow reply can wait on it instead of sleeping through a shutdown.
Handler = Callable[[Request, str, threading.Event], Reply]


class Listener:
    """One port of a sandbox host."""

    def __init__(self, handler: Handler, port: int = 0, label: str = "") -> None:
        self._handler = handler
        self.label = label
        self._lock = threading.Lock()
        # Notified when a connection starts or stops being held by a ``hang`` reply.
        self._hanging_changed = threading.Condition(self._lock)
        self._hanging = 0
        self._sock: socket.socket | None = None
        self._fillers: list[socket.socket] = []
        self._conns: set[socket.socket] = set()
        self._closing = threading.Event()
        self._port = port
        # While nothing listens (down), a socket bound to the port that does not listen:
        # connects are refused, and the OS hands the port to no other socket meanwhile (a
        # sandbox of another test process), so up() finds it free. close() gives it back.
        self._held: socket.socket | None = None
        self.state: Literal["up", "down", "blackhole"] = "down"

    @property
    def port(self) -> int:
        """The bound port (stable across down/up)."""
        return self._port

    @property
    def hanging(self) -> int:
        """Connections held open by a ``hang`` reply right now."""
        with self._lock:
            return self._hanging

    def wait_hanging(self, count: int, timeout: float | None) -> bool:
        """Block until exactly ``count`` connections are held by a ``hang``; False on timeout."""
        with self._hanging_changed:
            return self._hanging_changed.wait_for(lambda: self._hanging == count, timeout)

    def _bind(self, backlog: int) -> socket.socket:
        try:
            sock = _listening(self._port, backlog) if self._port else fresh(backlog)
        except OSError as exc:
            where = f" ({self.label})" if self.label else ""
            raise OSError(
                exc.errno, f"cannot listen on {LOOPBACK}:{self._port}{where}: {exc.strerror}"
            ) from exc
        self._port = sock.getsockname()[1]
        return sock

    def up(self) -> None:
        """Listen and serve (again) on the same port."""
        with self._lock:
            if self.state == "up":
                return
            self._teardown()
            sock = self._bind(128)
            self._let_go()
            self._sock = sock
            self._closing = threading.Event()
            self.state = "up"
            closing = self._closing
        threading.Thread(
            target=self._accept_loop, args=(sock, closing), name="sandbox-accept", daemon=True
        ).start()

    def down(self) -> None:
        """Stop listening and cut every open connection: new connects are refused. The
        port stays this listener's until ``close``."""
        with self._lock:
            self._teardown()
            self.state = "down"

    def close(self) -> None:
        """As ``down``, and the port is given back (``up`` binds it again if it can)."""
        with self._lock:
            self._teardown()
            self._let_go()
            self.state = "down"

    def blackhole(self) -> None:
        """Listen without ever accepting, with a full accept queue: connects time out."""
        with self._lock:
            self._teardown()
            sock = self._bind(0)
            self._let_go()
            self._sock = sock
            # Fill the accept queue from our own side until one more connect would hang.
            for _ in range(64):
                filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                filler.settimeout(0.05)
                try:
                    filler.connect((LOOPBACK, self._port))
                except OSError:
                    filler.close()
                    break
                self._fillers.append(filler)
            self.state = "blackhole"

    def _teardown(self) -> None:
        self._closing.set()
        if self._sock is not None:
            # shutdown wakes the thread blocked in accept(); close alone may not. The port
            # is held before the listener goes, so it is never free in between.
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            if self._held is None and HOLDS:
                with contextlib.suppress(OSError):  # unheld, it is as before: free a while
                    self._held = _bound(self._port)
            self._sock.close()
            self._sock = None
        for filler in self._fillers:
            filler.close()
        self._fillers.clear()
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._conns.clear()

    def _let_go(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    def _accept_loop(self, sock: socket.socket, closing: threading.Event) -> None:
        while not closing.is_set():
            try:
                conn, peer = sock.accept()
            except OSError:
                return
            with self._lock:
                if closing.is_set():
                    conn.close()
                    return
                self._conns.add(conn)
            threading.Thread(
                target=self._serve, args=(conn, peer[0], closing), name="sandbox-conn", daemon=True
            ).start()

    def _serve(self, conn: socket.socket, peer: str, closing: threading.Event) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rfile = cast(BinaryIO, conn.makefile("rb", buffering=65536))
        try:
            while not closing.is_set():
                try:
                    request = read_request(rfile, lambda: conn.sendall(_CONTINUE))
                except BadRequest as exc:
                    conn.sendall(
                        render_response(
                            400, "text/plain; charset=utf-8", str(exc).encode(), keep_alive=False
                        )
                    )
                    return
                if request is None:
                    return
                reply = self._handler(request, peer, closing)
                if reply.hang:
                    self._hang(conn, closing)
                    return
                if reply.data:
                    conn.sendall(reply.data)
                if reply.reset:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if reply.close or not request.keep_alive:
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            rfile.close()
            conn.close()

    def _hang(self, conn: socket.socket, closing: threading.Event) -> None:
        # Hold the connection, reading and discarding, until the client gives up or the
        # host goes down: the thread must not outlive either. Counted while held, so a
        # test can wait until a request is truly being held (wait_hanging), not guess.
        with self._hanging_changed:
            self._hanging += 1
            self._hanging_changed.notify_all()
        try:
            while not closing.is_set():
                readable, _, _ = select.select([conn], [], [], 0.1)
                if readable and not conn.recv(65536):
                    return
        finally:
            with self._hanging_changed:
                self._hanging -= 1
                self._hanging_changed.notify_all()
