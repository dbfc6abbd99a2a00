"""`mandao sandbox` and its inbox: on by default, the banner, --no-inbox, --inbox-port,
--inbox-host, and --ledger FILE.jsonl written as it goes."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from test_sandbox_cli import _start, _stop

from mandao.cli.sandbox import sandbox
from mandao.testing import DEFAULT_PASSWORD, DEFAULT_SN, md5_pwd

SN, PASSWORD = "SDK-TST-010-00001", "secret"
WILDCARD = "0.0.0.0"  # noqa: S104 - given to the options; no test here binds it


def _banner(proc: subprocess.Popen[str]) -> str:
    """The banner up to its last line (the credentials export)."""
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "MANDAO_SN=" in line:
            break
    return "".join(lines)


def test_the_inbox_is_on_by_default_and_printed_with_the_urls() -> None:
    """`Inbox: http://127.0.0.1:PORT/` after the four host URLs (which keep their lines);
    the page answers there."""
    proc = _start()
    try:
        banner = _banner(proc)
        lines = banner.splitlines()
        assert lines[0] == "mandao sandbox gateway (Ctrl-C to stop)"
        assert all("/webservice.asmx" in line for line in lines[1:5]), banner
        match = re.fullmatch(r"  Inbox: (http://127\.0\.0\.1:\d+/)", lines[5])
        assert match, banner
        response = httpx.get(match.group(1), timeout=10)
        assert response.status_code == 200
        assert "mandao sandbox inbox" in response.text
    finally:
        _, err = _stop(proc)
    assert proc.returncode == 0, err


def test_json_names_the_inbox_and_no_inbox_turns_it_off() -> None:
    """--json's first line has "inbox"; with --no-inbox it is null and nothing is printed."""
    proc = _start("--json")
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    _stop(proc)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", first["inbox"])
    proc = _start("--json", "--no-inbox")
    assert proc.stdout is not None
    assert json.loads(proc.stdout.readline())["inbox"] is None
    _stop(proc)
    proc = _start("--no-inbox")
    banner = _banner(proc)
    _stop(proc)
    assert "Inbox:" not in banner


def test_inbox_port_is_used_and_a_taken_one_is_named() -> None:
    """--inbox-port N serves there; a port in use exits 2 naming --inbox-port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    proc = _start("--json", "--inbox-port", str(free))
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    _stop(proc)
    assert first["inbox"] == f"http://127.0.0.1:{free}/"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(sandbox, ["--inbox-port", str(port)])
    assert result.exit_code == 2
    assert "--inbox-port" in result.output
    assert f"127.0.0.1:{port} (inbox port)" in result.output


def test_an_inbox_host_that_is_not_loopback_is_warned_about() -> None:
    """--inbox-host 0.0.0.0: a warning on stderr before anything listens. (No socket of
    the test leaves loopback: the primary port given is taken, so the command stops at
    it, before the inbox would bind.)"""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(sandbox, ["--port", str(port), "--inbox-host", WILDCARD])
    assert result.exit_code == 2
    assert "warning: the sandbox inbox listens on 0.0.0.0, not on loopback" in result.stderr
    assert "--port" in result.output


def test_the_gateway_warns_too_and_names_the_loopback_url() -> None:
    """SandboxGateway(inbox=True, inbox_host=...) warns when it is not loopback (at once,
    before it listens); a wildcard's URL is still 127.0.0.1's."""
    import warnings

    from mandao.testing import SandboxGateway
    from mandao.testing.inbox._server import url_host

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        SandboxGateway(accounts={SN: PASSWORD}, inbox=True, inbox_host=WILDCARD)
        SandboxGateway(accounts={SN: PASSWORD}, inbox=True, inbox_host="127.0.0.2")
        SandboxGateway(accounts={SN: PASSWORD}, inbox=False, inbox_host=WILDCARD)
    assert [str(w.message).split(",")[0] for w in said] == ["the sandbox inbox listens on 0.0.0.0"]
    assert (url_host(WILDCARD), url_host("::"), url_host("::1")) == ("127.0.0.1", "[::1]", "[::1]")


def test_a_loopback_inbox_host_is_not_warned_about() -> None:
    """localhost and 127.0.0.x are loopback: no warning."""
    proc = _start("--inbox-host", "localhost")
    banner = _banner(proc)
    _, err = _stop(proc)
    assert "Inbox: http://localhost:" in banner
    assert "warning" not in err


def test_ledger_jsonl_is_written_as_it_goes(tmp_path: Path) -> None:
    """--ledger x.jsonl: each accepted message is a line while the sandbox still runs; at
    exit it says where the ledger is."""
    path = tmp_path / "ledger.jsonl"
    proc = _start("--json", "--ledger", str(path))
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    url = first["hosts"][0].replace("webservice.asmx", "mdsmssend.ashx")
    fields = {"sn": SN, "pwd": md5_pwd(SN, PASSWORD), "mobile": "13800138000", "content": "hi"}
    assert httpx.post(url, data=fields, timeout=10).text.isdigit()
    started, line = path.read_text(encoding="utf-8").splitlines()
    assert (json.loads(started)["kind"], json.loads(line)["kind"]) == ("started", "message")
    out, _ = _stop(proc)
    events = [json.loads(x) for x in out.splitlines()]
    assert events[-1] == {"event": "ledger", "path": str(path)}
    kinds = [json.loads(x)["kind"] for x in path.read_text(encoding="utf-8").splitlines()]
    assert kinds == ["started", "message"]


def test_a_ledger_file_that_fails_is_said_at_once_and_exits_1() -> None:
    """--ledger /dev/full (every write fails, as on a full disk): a warning on stderr while
    it runs, then exit 1 with one clear line naming the file and the error."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    proc = _start("--no-inbox", "--ledger", "/dev/full")
    assert proc.stderr is not None
    _banner(proc)
    warning = proc.stderr.readline()
    assert warning.startswith("warning: --ledger /dev/full: writing stopped after line 0")
    _, err = _stop(proc)
    assert proc.returncode == 1
    assert "--ledger /dev/full: writing stopped after line 0 (OSError" in err
    assert "Traceback" not in err


def _send_clear_send(send: str, inbox: str) -> None:
    """Three messages and a bad password through ``send`` (.ashx), a clear, one more."""

    def post(password: str, mobile: str) -> str:
        params = {"sn": DEFAULT_SN, "pwd": md5_pwd(DEFAULT_SN, password), "mobile": mobile}
        return httpx.get(send, params={**params, "content": "hi【示例】"}, timeout=10).text

    answers = [post(DEFAULT_PASSWORD, f"1380013800{i}") for i in range(3)]
    assert all(a.isdigit() for a in answers), answers
    assert post("wrong", "13800138009").startswith("-")
    assert httpx.delete(inbox + "api/messages", timeout=10).json() == {"deleted": 3}
    assert post(DEFAULT_PASSWORD, "13800138004").isdigit()


def test_the_stop_summary_counts_the_whole_run_after_a_clear() -> None:
    """Three sends and a bad password, a clear, one more send: --json's stop line says 4
    accepted and 1 rejected (the clear forgets none of them) and 1 in view."""
    proc = _start("--json")
    assert proc.stdout is not None
    try:
        first = json.loads(proc.stdout.readline())
        _send_clear_send(
            first["hosts"][0].replace("webservice.asmx", "mdsmssend.ashx"), first["inbox"]
        )
    finally:
        out, err = _stop(proc)
    assert proc.returncode == 0, err
    stopped = json.loads(out.splitlines()[0])
    assert stopped == {"event": "stopped", "accepted": 4, "rejected": 1, "in_view": 1}


def test_the_printed_stop_summary_says_how_many_are_in_view() -> None:
    """The same run without --json: `stopped: 4 message(s) accepted, 1 request(s)
    rejected (1 message(s) in view)`."""
    proc = _start()
    try:
        banner = _banner(proc)
        send = re.findall(r"http://127\.0\.0\.1:\d+/webservice\.asmx", banner)[0]
        inbox = re.findall(r"Inbox: (http://127\.0\.0\.1:\d+/)", banner)[0]
        _send_clear_send(send.replace("webservice.asmx", "mdsmssend.ashx"), inbox)
    finally:
        out, err = _stop(proc)
    assert proc.returncode == 0, err
    assert "stopped: 4 message(s) accepted, 1 request(s) rejected (1 message(s) in view)" in out
