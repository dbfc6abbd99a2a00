"""Texts .NET can hold and UTF-8 cannot: %uD83D%uDE00 (a surrogate pair, one emoji) and
%uD800 alone (a lone surrogate), sent over HTTP GET as ASP.NET decodes them. The send is
answered, billed and recorded; the ledger file, the pages, the JSON API and the event
stream all go on working."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests

from mandao.testing import Rules, SandboxGateway, md5_pwd
from mandao.testing._urlcode import url_decode

SN, PASSWORD = "SDK-TST-010-00001", "secret"
PAIR = "%uD83D%uDE00hi%E3%80%90x%E3%80%91"  # 😀hi【x】
LONE = "%uD800hello%E3%80%90x%E3%80%91"  # \ud800hello【x】


@pytest.fixture(params=[True, False], ids=["count_utf16", "count_code_points"])
def gw(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SandboxGateway]:
    """A sandbox with its inbox and a ledger file, counting as the parameter says."""
    rules = Rules(count_utf16=request.param)
    path = tmp_path / "ledger.jsonl"
    with SandboxGateway(accounts={SN: PASSWORD}, rules=rules, inbox=True, ledger_path=path) as g:
        yield g


def _send(gw: SandboxGateway, content: str) -> requests.Response:
    """mdsmssend over HTTP GET with ``content`` put in the query as it is (not re-encoded)."""
    query = f"sn={SN}&pwd={md5_pwd(SN, PASSWORD)}&mobile=13800138000&content={content}"
    query += "&ext=&stime=&rrid=&msgfmt="
    return requests.get(f"{gw.primary.send_url}/mdsmssend?{query}", timeout=10)


def test_a_surrogate_pair_is_one_character() -> None:
    """%uD83D%uDE00 decodes to the one emoji, as .NET's string holds it; a lone one stays."""
    assert url_decode(PAIR) == "😀hi【x】"
    assert url_decode("%uD83D") == "\ud83d"
    assert url_decode("a%uDE00%uD83Db") == "a\ude00\ud83db"  # the wrong order is no pair


def test_a_surrogate_pair_is_sent_recorded_and_shown(gw: SandboxGateway) -> None:
    """The emoji send is answered and charged once, the file has its line, the page and
    the API show it (the reviewer's case: count_utf16=False crashed the listener)."""
    balance = gw.balance(SN)
    answer = _send(gw, PAIR)
    assert answer.status_code == 200
    assert "<string" in answer.text
    assert gw.balance(SN) == balance - 1
    message = gw.latest("13800138000")
    assert message is not None
    assert message.content == "😀hi【x】"
    file = gw.ledger_file
    assert file is not None
    assert file.error is None
    (line,) = [json.loads(x) for x in file.path.read_text("utf-8").splitlines()[1:]]
    assert line["content"] == "😀hi【x】"
    with httpx.Client(base_url=gw.inbox_url or "", timeout=10) as api:
        assert api.get("/").status_code == 200
        assert api.get("/api/latest", params={"mobile": "13800138000"}).json()["content"] == (
            "😀hi【x】"
        )


def test_a_lone_surrogate_is_kept_and_written_safely(gw: SandboxGateway) -> None:
    """A lone surrogate: the send is answered; the file's line is ASCII with a JSON escape
    and reads back to the very text; the JSON API escapes it too; the pages show it as
    \\ud800 and keep answering; a warning names it."""
    assert _send(gw, LONE).status_code == 200
    message = gw.latest("13800138000")
    assert message is not None
    assert message.content == "\ud800hello【x】"
    assert any(w.startswith("lone surrogates: U+D800") for w in message.warnings)
    file = gw.ledger_file
    assert file is not None
    assert file.error is None
    raw = file.path.read_bytes().splitlines()[-1]
    assert b"\\ud800hello" in raw
    assert json.loads(raw)["content"] == message.content
    with httpx.Client(base_url=gw.inbox_url or "", timeout=10) as api:
        found = api.get("/api/messages/1")
        assert found.status_code == 200
        assert found.json()["content"] == "\ud800hello【x】"
        page = api.get("/")
        assert page.status_code == 200
        assert "\\ud800hello" in page.text
        assert api.get("/threads/13800138000").status_code == 200
        assert _send(gw, "ok%E3%80%90x%E3%80%91").status_code == 200
        assert api.get("/").status_code == 200
    assert len(gw.ledger) == 2


def test_the_event_stream_carries_a_lone_surrogate(gw: SandboxGateway) -> None:
    """The stream writes the message's JSON with the escape, and goes on after it."""
    url = f"{gw.inbox_url}api/events"
    with httpx.stream("GET", url, timeout=httpx.Timeout(10.0)) as response:
        lines = response.iter_lines()
        assert next(lines) == "retry: 2000"
        assert next(lines) == ": connected"
        _send(gw, LONE)
        _send(gw, "ok%E3%80%90x%E3%80%91")
        data = []
        for line in lines:
            if line.startswith("data: "):
                data.append(json.loads(line[6:]))
                if len(data) == 2:
                    break
    assert [d["content"] for d in data] == ["\ud800hello【x】", "ok【x】"]
