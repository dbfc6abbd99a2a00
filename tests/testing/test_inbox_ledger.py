"""The ledger written as it goes (JSON Lines), and `journal pending --against` reading it."""

from __future__ import annotations

import json
import logging
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from test_sandbox_cli import _start

import mandao
from mandao import Journal
from mandao._journal import read_ledger
from mandao.cli import main
from mandao.testing import SandboxGateway, md5_pwd
from mandao.testing.inbox._jsonl import LedgerFile

SN, PASSWORD = "SDK-TST-010-00001", "secret"


def _lines(path: Path) -> list[dict[str, Any]]:
    """The file's lines, but the ``started`` line each start of a gateway writes."""
    every = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in every if line["kind"] != "started"]


def _all_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_record_is_a_line_as_it_happens(tmp_path: Path) -> None:
    """Messages (numbered, batched), rejections, fired faults, replies and clears: each
    in the file as soon as its request is answered, before the gateway stops."""
    path = tmp_path / "ledger.jsonl"
    with SandboxGateway(accounts={SN: PASSWORD}, ledger_path=path) as gw:
        client = gw.client(SN, PASSWORD)
        client.send(["13800138000", "13900139000"], "通知【示例】", rrid="77")
        lines = _lines(path)
        assert [(x["kind"], x["id"], x["batch"], x["mobile"]) for x in lines] == [
            ("message", 1, 1, "13800138000"),
            ("message", 2, 1, "13900139000"),
        ]
        entry = gw.ledger.messages[0]
        assert (lines[0]["gateway_id"], lines[0]["rrid"], lines[0]["time"]) == (
            entry.id,
            "77",
            entry.time.astimezone().isoformat(),
        )
        gw.set_balance(SN, 0)
        with pytest.raises(mandao.InsufficientBalance):
            client.send("13800138000", "再通知【示例】")
        gw.set_balance(SN, 10)
        gw.primary.fail("code", code="-4")
        with pytest.raises(mandao.InsufficientBalance):
            client.send("13800138000", "再通知【示例】")
        gw.reply("13800138000", "TD")
        gw.clear()
        kinds = [line["kind"] for line in _lines(path)]
    assert kinds == ["message", "message", "rejection", "fault", "rejection", "reply", "cleared"]
    last = _lines(path)
    assert (last[2]["code"], last[3]["fault"], last[3]["operation"]) == ("-4", "code", "mdsmssend")
    assert (last[5]["text"], last[6]["deleted"]) == ("TD", 2)


def test_a_gateway_started_again_appends(tmp_path: Path) -> None:
    """Each start appends a started line (with the next message's number), then its
    records: a restart goes on in the file, numbers going on too."""
    path = tmp_path / "ledger.jsonl"
    gw = SandboxGateway(accounts={SN: PASSWORD}, ledger_path=path)
    for _ in range(2):
        with gw:
            gw.client(SN, PASSWORD).send("13800138000", "通知【示例】")
    assert [(line["kind"], line.get("id"), line.get("next_id")) for line in _all_lines(path)] == [
        ("started", None, 1),
        ("message", 1, None),
        ("started", None, 2),
        ("message", 2, None),
    ]


def test_an_older_runs_ledger_is_kept(tmp_path: Path) -> None:
    """A crashed run's file, opened by the next run with the same --ledger: its lines
    stay (never truncated), the new run's follow its started line, and read_ledger
    reads both runs' messages."""
    path = tmp_path / "ledger.jsonl"
    crashed = '{"kind": "message", "id": 1, "rrid": "7", "mobile": "13700137000"}\n'
    path.write_text(crashed, encoding="utf-8")
    with SandboxGateway(accounts={SN: PASSWORD}, ledger_path=path) as gw:
        gw.client(SN, PASSWORD).send("13800138000", "通知【示例】", rrid="8")
    assert path.read_text(encoding="utf-8").startswith(crashed)
    assert [line["kind"] for line in _all_lines(path)] == ["message", "started", "message"]
    assert read_ledger(path) == [("7", "13700137000"), ("8", "13800138000")]


def test_every_time_in_the_file_is_aware(tmp_path: Path) -> None:
    """started, message, rejection, fault, reply and cleared lines: every time carries its
    UTC offset, all in the machine's zone (the reply's China time converted)."""
    path = tmp_path / "ledger.jsonl"
    with SandboxGateway(accounts={SN: PASSWORD}, ledger_path=path) as gw:
        client = gw.client(SN, PASSWORD)
        client.send("13800138000", "通知【示例】")
        gw.primary.fail("code", code="-4")
        with pytest.raises(mandao.InsufficientBalance):
            client.send("13800138000", "再通知【示例】")
        reply = gw.reply("13800138000", "TD")
        gw.clear()
    stamps = {}
    for line in _all_lines(path):
        stamps[line["kind"]] = datetime.fromisoformat(line.get("time") or line["received"])
    assert set(stamps) == {"started", "message", "rejection", "fault", "reply", "cleared"}
    local = datetime.now().astimezone().utcoffset()
    assert {when.utcoffset() for when in stamps.values()} == {local}
    assert stamps["reply"] == reply.received


def test_a_killed_sandbox_leaves_the_lines_so_far(tmp_path: Path) -> None:
    """`mandao sandbox --ledger x.jsonl` killed with SIGKILL: every answered send is there."""
    path = tmp_path / "ledger.jsonl"
    proc = _start("--json", "--no-inbox", "--ledger", str(path))
    try:
        assert proc.stdout is not None
        listening = json.loads(proc.stdout.readline())
        url = listening["hosts"][0].replace("webservice.asmx", "mdsmssend.ashx")
        fields = {"sn": SN, "pwd": md5_pwd(SN, PASSWORD), "content": "通知【示例】"}
        for mobile in ("13800138000", "13900139000"):
            answer = requests.post(url, data={**fields, "mobile": mobile}, timeout=10)
            assert answer.text.isdigit()
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert [line["mobile"] for line in _lines(path)] == ["13800138000", "13900139000"]
    assert _all_lines(path)[0]["kind"] == "started"
    assert read_ledger(path) == [(line["rrid"], line["mobile"]) for line in _lines(path)]


def test_read_ledger_takes_messages_only_and_skips_a_line_cut_short(tmp_path: Path) -> None:
    """Only kind "message" lines are pairs; a last line without its end is left out."""
    path = tmp_path / "ledger.jsonl"
    path.write_text(
        '{"kind": "message", "id": 1, "rrid": "7", "mobile": "138"}\n'
        '{"kind": "rejection", "code": "-4", "rrid": "8", "mobile": "139"}\n'
        '{"kind": "cleared", "deleted": 1, "time": "x"}\n'
        '{"kind": "message", "id": 2, "rrid": "9", "mobile": "137"}\n'
        '{"kind": "message", "id": 3, "rr',
        encoding="utf-8",
    )
    assert read_ledger(path) == [("7", "138"), ("9", "137")]
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"rrid": "1", "mobile": "138"}\n', encoding="utf-8")
    assert read_ledger(plain) == [("1", "138")]  # JSON Lines without kinds, as before
    broken = tmp_path / "broken.jsonl"
    broken.write_text("not a ledger", encoding="utf-8")
    with pytest.raises(mandao.ValidationError, match="is not a ledger"):
        read_ledger(broken)


def test_read_ledger_skips_a_line_cut_inside_a_character(tmp_path: Path) -> None:
    """A kill can cut the last line inside a UTF-8 character (验 is 3 bytes): that line is
    left out like any cut line, the lines before it read; a file whose only line is cut
    short holds nothing yet ([]), it is still a ledger."""
    first = '{"kind": "message", "id": 1, "rrid": "7", "mobile": "138", "content": "通知"}\n'
    second = '{"kind": "message", "id": 2, "rrid": "9", "mobile": "139", "content": "验证码"}\n'
    cut = second.encode()[: second.encode().index("验".encode()) + 1]
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(first.encode() + cut)
    assert read_ledger(path) == [("7", "138")]
    path.write_bytes(cut)
    assert read_ledger(path) == []
    path.write_bytes(b"\xe9\xaa\n" + first.encode())  # not UTF-8 before the end: unreadable
    with pytest.raises(mandao.ValidationError, match="cannot read"):
        read_ledger(path)


def test_a_listener_that_fails_does_not_fail_the_send(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A ledger listener that raises: the send is answered (recorded and charged), the
    error is logged with its traceback, and the other listeners (the file) still hear."""
    path = tmp_path / "ledger.jsonl"
    with SandboxGateway(accounts={SN: PASSWORD}, ledger_path=path) as gw:

        def broken(kind: str, payload: object) -> None:
            raise RuntimeError("a listener's bug")

        gw.ledger.listen(broken)
        with caplog.at_level(logging.ERROR, logger="mandao.testing"):
            gw.client(SN, PASSWORD).send("13800138000", "通知【示例】")
        assert len(gw.ledger) == 1
    assert [line["kind"] for line in _lines(path)] == ["message"]
    (record,) = [r for r in caplog.records if "listener" in r.getMessage()]
    assert record.exc_info is not None
    assert "a listener's bug" in str(record.exc_info[1])


def test_a_record_json_cannot_write_stops_the_file_and_says_why(tmp_path: Path) -> None:
    """A ValueError writing (here NaN, which is not JSON) is kept in error like a disk's
    OSError: the file stops there, nothing half-written, the caller never sees it."""
    file = LedgerFile(tmp_path / "ledger.jsonl")
    file.open()
    file.write([{"kind": "message", "segments": float("nan")}])
    file.write([{"kind": "message", "segments": 1}])
    file.close()
    assert isinstance(file.error, ValueError)
    assert [line["kind"] for line in _all_lines(file.path)] == ["started"]
    assert file.lines == 1


def test_journal_pending_against_a_jsonl_ledger(tmp_path: Path) -> None:
    """An answer lost on the way back (drop-after): the attempt is unknown; held against
    the JSON Lines ledger it is sent, and a cut-off attempt absent from it is not sent."""
    path = tmp_path / "ledger.jsonl"
    book = tmp_path / "j.sqlite3"
    with SandboxGateway(accounts={SN: PASSWORD}, ledger_path=path) as gw:
        client = gw.client(SN, PASSWORD, journal=book)
        gw.primary.fail("drop-after")
        with pytest.raises(mandao.OutcomeUnknown):
            client.send("13800138000", "通知【示例】", rrid="501")
        client.close()
    with Journal(book) as journal:
        journal.begin(sn=SN, operation="mdsmssend", host="http://h/", recipients=["13900139000"],
                      content="x【示例】", rrid="502")  # fmt: skip
    args = ["journal", "--journal", str(book), "pending", "--against", str(path)]
    # The cut-off attempt is seconds old: said to be done with (the sender is gone).
    result = CliRunner().invoke(main, [*args, "--complete-ledger", "--unmask",
                                       "--settle-after", "0"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rrid=501 13800138000: sent" in result.stdout
    assert "rrid=502 13900139000: not sent" in result.stdout
