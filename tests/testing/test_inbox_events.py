"""The inbox's event stream (GET /api/events) over loopback: each test waits on the
stream's own lines (a read timeout only guards against a hang), never on a sleep."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from test_inbox_http import _port, _read_until

import mandao
from mandao.testing import SandboxGateway
from mandao.testing.inbox import _api
from mandao.testing.inbox._http import Stream

SN, PASSWORD = "SDK-TST-010-00001", "secret"


# The sandbox fixture ``gw`` (tests/testing/conftest.py), with its inbox.
pytestmark = pytest.mark.sandbox(inbox=True)


class Events:
    """An open event stream, read one event (or comment) at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self) -> dict[str, Any]:
        """The next event or comment: {"event", "id", "data"} or {"comment"}."""
        found: dict[str, Any] = {}
        for line in self.lines:
            if not line:
                if found:
                    return found
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if not name:
                found.setdefault("comment", value)
            elif name == "data":
                found["data"] = json.loads(value)
            else:
                found[name] = value
        return {"end": True, **found}

    def next_event(self) -> dict[str, Any]:
        """The next event, skipping comments and the retry line."""
        while True:
            found = self.next()
            if "event" in found or "end" in found:
                return found


def _open(gw: SandboxGateway, headers: dict[str, str] | None = None) -> Any:
    url = f"{gw.inbox_url}api/events"
    return httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(10.0))


def _joined(events: Events) -> None:
    """Read up to the ': connected' comment: from here on the stream sees every event."""
    first = events.next()
    assert first.get("comment") == "connected", first


def test_a_message_sent_through_a_client_arrives_on_the_stream(gw: SandboxGateway) -> None:
    """event: message, id: its number, data: its JSON, as /api/messages/ID has it."""
    with _open(gw) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        events = Events(response)
        _joined(events)
        gw.client(SN, PASSWORD).send(["13800138000", "13900139000"], "验证码 482915【示例】")
        first, second = events.next_event(), events.next_event()
    assert (first["event"], first["id"], second["id"]) == ("message", "1", "2")
    assert first["data"] == gw.message(1).to_dict()
    assert (first["data"]["codes"], second["data"]["mobile"]) == (["482915"], "13900139000")


def test_replies_faults_and_clears_are_events_too(gw: SandboxGateway) -> None:
    """reply (gw.reply), fault (switched, then fired), cleared: in the order they happened."""
    with _open(gw) as response, httpx.Client(base_url=gw.inbox_url or "", timeout=10) as api:
        events = Events(response)
        _joined(events)
        gw.reply("13800138000", "TD")
        reply = events.next_event()
        assert (reply["event"], reply["data"]["text"], reply["data"]["mobile"]) == (
            "reply",
            "TD",
            "13800138000",
        )
        assert "id" not in reply  # only messages move Last-Event-ID
        api.post("/api/faults", json={"host": "primary", "kind": "code", "code": "-4", "times": 1})
        switched = events.next_event()
        assert (switched["event"], switched["data"]["change"]) == ("fault", "switched")
        assert switched["data"]["faults"][0]["code"] == "-4"
        with pytest.raises(mandao.InsufficientBalance):
            gw.client(SN, PASSWORD).send("13800138000", "通知【示例】")
        fired = events.next_event()
        assert (fired["data"]["change"], fired["data"]["host"], fired["data"]["fault"]) == (
            "fired",
            "primary",
            "code",
        )
        gw.client(SN, PASSWORD).send("13800138000", "通知【示例】")
        assert events.next_event()["event"] == "message"
        api.delete("/api/messages")
        cleared = events.next_event()
    assert (cleared["event"], cleared["data"]) == ("cleared", {"deleted": 1})


def test_last_event_id_replays_what_was_missed(gw: SandboxGateway) -> None:
    """A browser reconnecting with Last-Event-ID: 1 gets messages 2 and 3 first."""
    gw.client(SN, PASSWORD).send(["13800138000", "13900139000", "13700137000"], "通知【示例】")
    with _open(gw, {"Last-Event-ID": "1"}) as response:
        events = Events(response)
        assert [events.next_event()["id"] for _ in range(2)] == ["2", "3"]
        gw.client(SN, PASSWORD).send("13600136000", "再通知【示例】")
        assert events.next_event()["id"] == "4"


def test_a_stream_without_last_event_id_starts_from_now(gw: SandboxGateway) -> None:
    """What was sent before the stream opened is not sent on it."""
    gw.client(SN, PASSWORD).send("13800138000", "旧的【示例】")
    with _open(gw) as response:
        events = Events(response)
        _joined(events)
        gw.client(SN, PASSWORD).send("13800138000", "新的【示例】")
        assert events.next_event()["data"]["content"] == "新的【示例】"


def test_a_comment_line_keeps_an_idle_stream_alive(gw: SandboxGateway) -> None:
    """With nothing to say for keepalive seconds, the stream sends a comment line."""
    gw._inbox.app.keepalive = 0.01  # type: ignore[union-attr]  # 15 s in use
    with _open(gw) as response:
        events = Events(response)
        _joined(events)
        assert events.next() == {"comment": "keep-alive"}


def test_stopping_the_gateway_ends_open_streams_at_once(gw: SandboxGateway) -> None:
    """gw.stop() ends a waiting stream at once: the read returns the end, long before the
    15 s keep-alive (the 10 s read timeout would fail the test otherwise)."""
    with _open(gw) as first, _open(gw) as second:
        streams = [Events(first), Events(second)]
        for events in streams:
            _joined(events)
        gw.stop()
        for events in streams:
            assert events.next_event().get("end") is True


def test_a_burst_sends_the_newest_after_a_skipped_event(gw: SandboxGateway) -> None:
    """More than 1,000 messages between two reads: 'skipped' names the numbers left out."""
    with _open(gw) as response:
        events = Events(response)
        _joined(events)
        gw.client(SN, PASSWORD).send([f"138{i:08d}" for i in range(1005)], "通知【示例】")
        skipped = events.next_event()
        assert (skipped["event"], skipped["data"]) == ("skipped", {"from": 1, "to": 5})
        assert events.next_event()["id"] == "6"


# -- the stream misses nothing: a message recorded while the page loads (between its render
# -- and the stream's opening) or while the stream opens (between its headers and its first
# -- read of the hub) still reaches the page.


def _stream(gw: SandboxGateway, query: str = "", headers: dict[str, str] | None = None) -> Any:
    url = f"{gw.inbox_url}api/events{query}"
    return httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(10.0))


def _last_id(html: str, element: str) -> int:
    found = re.search(rf'<{element} id="[a-z]+"[^>]* data-last-id="(\d+)"', html)
    assert found, html[:400]
    return int(found.group(1))


def test_a_message_sent_while_the_page_loads_comes_first_on_its_stream(
    gw: SandboxGateway,
) -> None:
    """The list renders data-last-id; a message recorded after the render and before the
    script opens /api/events?after=that is the stream's first event."""
    client = gw.client(SN, PASSWORD)
    client.send("13900139000", "旧的 1111【示例】")
    with httpx.Client(base_url=gw.inbox_url or "", timeout=10) as web:
        page = web.get("/").text
    last = _last_id(page, "ol")
    assert last == 1
    client.send("13800138000", "验证码 482913【示例】")  # while inbox.js is loading
    with _stream(gw, f"?after={last}") as response:
        events = Events(response)
        first = events.next_event()
    assert (first["event"], first["id"], first["data"]["content"]) == (
        "message",
        "2",
        "验证码 482913【示例】",
    )


def test_the_thread_page_renders_its_last_id_too(gw: SandboxGateway) -> None:
    """/threads/MOBILE has data-last-id: the ledger's last number when it was rendered."""
    gw.client(SN, PASSWORD).send(["13800138000", "13900139000"], "通知【示例】")
    with httpx.Client(base_url=gw.inbox_url or "", timeout=10) as web:
        assert _last_id(web.get("/threads/13800138000").text, "section") == 2


def test_after_is_a_replay_point_and_last_event_id_wins(gw: SandboxGateway) -> None:
    """?after=N replays the messages after N still in the ledger; a Last-Event-ID (an
    EventSource reconnecting with the same URL) is later, and wins; a bad after is 400."""
    gw.client(SN, PASSWORD).send(["13800138000", "13900139000", "13700137000"], "通知【示例】")
    with _stream(gw, "?after=0") as response:
        events = Events(response)
        assert [events.next_event()["id"] for _ in range(3)] == ["1", "2", "3"]
    with _stream(gw, "?after=1", {"Last-Event-ID": "2"}) as response:
        assert Events(response).next_event()["id"] == "3"
    with httpx.Client(base_url=gw.inbox_url or "", timeout=10) as api:
        for bad in ("x", "-1", "１"):
            answer = api.get("/api/events", params={"after": bad})
            assert answer.status_code == 400
            assert answer.json()["error"]["parameter"] == "after"


def test_a_stream_has_joined_when_its_headers_arrive(
    gw: SandboxGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stream takes its place in the event log before its headers go out: a message
    recorded after the headers arrived (EventSource's open, the page's "live") and before
    the stream first writes is on it. The stream's writing is held until that message is
    recorded, so the order is the one a busy machine can produce."""
    go = threading.Event()
    original = _api.event_stream

    def held(*args: Any) -> Stream:
        stream = original(*args)

        def run(write: Callable[[bytes], None]) -> None:
            go.wait(10)
            stream.run(write)

        return Stream(run)

    monkeypatch.setattr(_api, "event_stream", held)
    port = _port(gw)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        received = _read_until(conn, b"\r\n\r\n")
        assert received.startswith(b"HTTP/1.1 200 ")
        gw.client(SN, PASSWORD).send("13800138000", "验证码 123456【示例】")
        go.set()
        received = _read_until(conn, b": connected", received)
        gw.reply("13800138000", "TD")  # an event after it, so a lost message cannot hang
        received = _read_until(conn, b"event: reply", received)
    body = received.split(b"\r\n\r\n", 1)[1]
    assert b"event: message\nid: 1\n" in body
    assert body.index(b"event: message") < body.index(b"event: reply")


def test_a_stream_joined_once_gets_each_message_once(gw: SandboxGateway) -> None:
    """Messages recorded around the joining are written once each, in order."""
    client = gw.client(SN, PASSWORD)
    client.send("13800138000", "一【示例】")
    with _stream(gw, "?after=0") as response:
        events = Events(response)
        client.send("13800138000", "二【示例】")
        seen = [events.next_event()["id"] for _ in range(2)]
        client.send("13800138000", "三【示例】")
        seen.append(events.next_event()["id"])
    assert seen == ["1", "2", "3"]
