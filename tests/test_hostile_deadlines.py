"""Deadlines that hold against a server that takes its time: trickling, slowloris, -18 forever.

These are checks that a deadline holds, not speed tests: the server would go on for tens
of seconds; the call must end by its deadline plus a margin of a few seconds.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

import mandao
from mandao._operations import PROTOCOLS

from . import test_hostile
from .test_hostile import (
    CONTENT_TYPES,
    Hostile,
    Make,
    Reply,
    answer,
    call,
    fine,
    head,
    result_body,
    serial,
)

# The hostile module's fixtures, here too (pytest finds a fixture by the module's name for it).
make, shared_pool = test_hostile.make, test_hostile.shared_pool

#: The margin a deadline may be passed by (scheduling, a loaded machine): not a speed bound.
MARGIN = 4.0
#: How long a trickle would last if nothing cut it off.
FOREVER = 40.0
#: The attempts' timeouts: connect 1 s, read 0.5 s.
READ = mandao.Timeouts(1, 0.5)


def trickle_body() -> Reply:
    """A whole status line and headers, then the body a byte every 50 ms (40 s in all)."""

    def reply(conn: socket.socket, server: Hostile) -> None:
        request = server.request(conn)
        if request is None:
            return
        body = result_body(request, "218290961833668203").ljust(int(FOREVER / 0.05), b" ")
        conn.sendall(head("200 OK", {"Content-Type": CONTENT_TYPES[request.protocol],
                                     "Content-Length": str(len(body))}))  # fmt: skip
        server.trickle(conn, body)

    return reply


def trickle_head() -> Reply:
    """Slowloris: the status line and headers themselves a byte every 50 ms."""

    def reply(conn: socket.socket, server: Hostile) -> None:
        request = server.request(conn)
        if request is None:
            return
        headers = {f"X-Slow-{i}": "y" * 20 for i in range(int(FOREVER / 0.05 / 30))}
        server.trickle(conn, head("200 OK", headers))

    return reply


def _timed(client: Any, what: str = "send") -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(mandao.MandaoError) as info:
        call(client, what)
    return info.value, time.monotonic() - started


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_trickling_body_ends_by_the_read_timeout(make: Make, protocol: str) -> None:
    """A body a byte at a time, each byte well within a read timeout: the whole reply is
    bounded by it, so the call ends, unknown, by then (plus a margin); nothing re-sent."""
    with Hostile(trickle_body()) as primary, Hostile(fine()) as backup:
        client = make(primary, backup, protocol=protocol, timeout=READ)
        error, took = _timed(client)
    assert isinstance(error, mandao.OutcomeUnknown)
    assert "read timeout" in str(error)
    assert took < READ.read + MARGIN
    assert (primary.connections, backup.connections) == (1, 0)


@pytest.mark.parametrize("protocol", ["soap11"])
@pytest.mark.parametrize("pool", ["own", "shared"])
def test_a_slowloris_status_line_and_headers_end_by_the_read_timeout(
    make: Make, protocol: str, pool: str
) -> None:
    """The status line and headers trickled in: bounded by the read timeout too."""
    with Hostile(trickle_head()) as primary, Hostile(fine()) as backup:
        client = make(primary, backup, protocol=protocol, timeout=READ,
                      own_pool=pool == "own")  # fmt: skip
        error, took = _timed(client)
    assert isinstance(error, mandao.OutcomeUnknown)
    assert took < READ.read + MARGIN
    assert (primary.connections, backup.connections) == (1, 0)


def _hang(until: threading.Event, arrived: threading.Event) -> Reply:
    """Read the request, say so, answer only once ``until`` is set."""

    def reply(conn: socket.socket, server: Hostile) -> None:
        request = server.request(conn)
        arrived.set()
        if request is not None and not server.stopping.is_set():
            until.wait(30)
            body = result_body(request, "218290961833668203")
            conn.sendall(head("200 OK", {"Content-Length": str(len(body))}) + body)

    return reply


def test_the_total_deadline_bounds_the_wait_for_a_slot(make: Make) -> None:
    """A call queued behind another call of its serial waits no longer than its
    Timeouts.total, then fails not sent (DeadlineExceeded), though its wait is longer."""
    release, arrived = threading.Event(), threading.Event()
    sn = serial()
    with Hostile(_hang(release, arrived)) as primary, ThreadPoolExecutor(1) as pool:
        holder = make(primary, sn=sn, max_in_flight=1, timeout=mandao.Timeouts(1, 30))
        first = pool.submit(call, holder)
        assert arrived.wait(10)
        waiter = make(primary, sn=sn, max_in_flight=1,
                      timeout=mandao.Timeouts(1, 30, wait=30, total=0.5))  # fmt: skip
        try:
            error, took = _timed(waiter)
        finally:
            release.set()
        assert first.result(10)
    assert isinstance(error, mandao.DeadlineExceeded)
    assert not isinstance(error, mandao.OutcomeUnknown)
    assert "Timeouts.total=0.5s" in str(error)
    assert error.total == 0.5
    assert took < 0.5 + MARGIN
    assert primary.connections == 1  # the waiter never sent


def test_the_total_deadline_bounds_rate_limit_retries(make: Make) -> None:
    """-18 answered forever: retries stop by the total deadline, as a DeadlineExceeded
    (not sent) whose causes hold the -18s, however the timing falls: the last pause would
    pass the deadline, the next admission finds it passed, or it passes while the next
    request connects."""
    policy = mandao.FailoverPolicy(retry_tries=10_000, retry_time=10_000, backoff_base=0.05,
                                   backoff_max=0.1)  # fmt: skip
    with Hostile(answer("-18")) as primary:
        client = make(primary, failover=policy, timeout=mandao.Timeouts(1, 1, total=0.8))
        error, took = _timed(client)
    assert isinstance(error, mandao.DeadlineExceeded), repr(error)
    assert error.total == 0.8
    assert error.causes[0][1].startswith("answered -18"), error.causes
    assert isinstance(error.__cause__, (mandao.RateLimited, type(None)))
    assert took < 0.8 + MARGIN
    assert primary.connections >= 2  # it did retry, until the deadline


def test_the_total_deadline_cuts_an_attempts_read_timeout(make: Make) -> None:
    """A host that never answers, a read timeout longer than the call may take: the call
    ends by its deadline, as the unknown outcome of a read timeout."""
    release, arrived = threading.Event(), threading.Event()
    with Hostile(_hang(release, arrived)) as primary, Hostile(fine()) as backup:
        client = make(primary, backup, timeout=mandao.Timeouts(1, 30, total=0.5))
        try:
            error, took = _timed(client)
        finally:
            release.set()
    assert isinstance(error, mandao.OutcomeUnknown)
    assert "read timeout" in str(error)
    assert took < 0.5 + MARGIN
    assert (primary.connections, backup.connections) == (1, 0)


def test_a_session_of_the_callers_still_bounds_the_body() -> None:
    """A requests.Session of the caller's keeps its own adapters; the body of its reply is
    bounded by the read timeout all the same, from the headers on."""
    with Hostile(trickle_body()) as primary:
        client = mandao.Client(serial(), "pw", hosts=[primary.url], account_hosts=[primary.url],
                               session=requests.Session(), timeout=READ, journal=None,
                               max_in_flight=None)  # fmt: skip
        error, took = _timed(client)
        client.close()
    assert isinstance(error, mandao.OutcomeUnknown)
    assert "read timeout" in str(error)
    assert took < READ.read + MARGIN
