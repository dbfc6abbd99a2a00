"""Closing the loop on the sandbox, with both clients: delivery reports matched to sends,
an unknown outcome resolved by its report, a "TD" reply suppressing the next campaign
send, replies that survive a crash, the push app, and one poller per serial."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import wsgiref.simple_server
from collections.abc import Iterator
from pathlib import Path

import pytest

import mandao
from mandao.testing import SandboxGateway
from tests._cli_helpers import HANG, interrupted_while_held
from tests.conftest import PASSWORD, SN, MakeClient

NUMBERS = [f"139{i:08d}" for i in range(1000)]


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


def _all_reports(client: mandao.Client, want: int) -> list[mandao.Report]:
    """Fetch until ``want`` reports came (the sandbox answers 500 a call), then once more."""
    found: list[mandao.Report] = []
    for _ in range(want // 100 + 3):
        got = client.fetch_reports()
        found += got.items
        if len(found) >= want and not got.items:
            break
    return found


def test_reports_of_a_campaign_reach_the_journal(
    make_client: MakeClient, gateway: SandboxGateway, journal_path: Path
) -> None:
    """1,000 numbers, 10% failing: polled until every report arrived, the journal shows
    900 delivered and 100 failed, each report matched to the send's attempt."""
    gateway.configure_reports(failed=0.1, delay=30)
    client = make_client(journal=journal_path, signature="示例")
    sent = client.send(NUMBERS, "双十二活动【示例】")
    assert client.fetch_reports().items == ()  # not due yet: the report clock is at 0
    assert gateway.advance_reports(30) == 1000
    reports = _all_reports(client, 1000)
    assert len(reports) == 1000
    assert {r.rrid for r in reports} == {sent.id}
    journal = mandao.Journal(journal_path)
    (attempt,) = [a for a in journal.attempts() if a.operation == "mdsmssend"]
    classes = list(journal.deliveries(attempt.seq).values())
    assert (classes.count("delivered"), classes.count("failed")) == (900, 100)
    assert client.fetch_reports().items == ()  # the cursor moved past them: none again


def test_an_rrid_given_again_is_warned_about_before_it_goes(
    make_client: MakeClient,
    gateway: SandboxGateway,
    journal_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The gateway takes a reused rrid, but reports are matched by rrid and mobile: an
    rrid the caller gives that an earlier send of the serial carried (accepted, or of
    unknown outcome) is logged before the send goes; one the gateway refused is not, nor
    are the rrids mandao makes."""
    client = make_client(journal=journal_path)

    def warned() -> list[str]:
        found = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        caplog.clear()
        return found

    with caplog.at_level(logging.WARNING, logger="mandao"):
        client.send("13800000061", "第一条【示例】", rrid="777")
        client.send("13800000061", "第二条【示例】")
        client.send("13800000061", "第三条【示例】")
        assert warned() == []
        second = client.send("13800000062", "又一条【示例】", rrid="777")
        (message,) = warned()
        assert f"serial {SN}: rrid 777 went with an earlier send (journal attempt 1, " in message
        assert "accepted): the gateway does not refuse a reused rrid" in message
        assert "give each send an rrid of its own, or none" in message
        assert second.rrid == "777"  # sent all the same
        client.send_personalized({"13800000063": "甲【示例】"}, rrid=["888"])
        client.send_personalized({"13800000063": "乙【示例】"}, rrid=["888"])
        (message,) = warned()
        assert "rrid 888 went with an earlier send" in message
        gateway.primary.fail("code", code=-4)  # refused: that send did not go
        with pytest.raises(mandao.GatewayError):
            client.send("13800000064", "丙【示例】", rrid="999")
        caplog.clear()
        client.send("13800000064", "丙【示例】", rrid="999")
        assert warned() == []


def test_a_report_resolves_an_outcome_unknown(
    make_client: MakeClient, gateway: SandboxGateway, journal_path: Path
) -> None:
    """The connection drops after the gateway took the send: OutcomeUnknown, journaled
    unknown; its report resolves it as sent."""
    client = make_client(journal=journal_path, signature="示例", timeout=(1, 5))
    gateway.primary.fail("drop-after")
    with pytest.raises(mandao.OutcomeUnknown):
        client.send(NUMBERS[:3], "通知【示例】")
    journal = mandao.Journal(journal_path)
    (unknown,) = journal.attempts(outcome="unknown")
    assert unknown.resolution is None
    assert not unknown.settled
    got = client.fetch_reports()
    assert got.resolved == (unknown.seq,)
    assert got.matched == 3
    (after,) = journal.attempts(outcome="unknown")
    assert after.settled
    assert after.resolution is not None
    assert (after.resolution.outcome, after.resolution.source) == ("sent", "report")


def test_a_td_reply_suppresses_the_next_campaign_send(
    make_client: MakeClient, gateway: SandboxGateway, journal_path: Path
) -> None:
    """A "TD" reply fetched puts its number on the list: a campaign client skips it (in
    result.skipped, not sent), a verification-code client (suppression off) still sends."""
    gateway.reply(NUMBERS[1], "ＴＤ")
    gateway.reply(NUMBERS[2], "好的，谢谢")
    campaign = make_client(journal=journal_path, signature="示例", suppression="skip")
    got = campaign.fetch_replies()
    assert [r.text for r in got] == ["ＴＤ", "好的，谢谢"]
    assert got.suppressed == (NUMBERS[1],)
    assert campaign.fetch_replies().items == ()  # mo gives each once
    result = campaign.send(NUMBERS[:3], "上新了【示例】")
    assert list(result.recipients) == [NUMBERS[0], NUMBERS[2]]
    assert [(s.position, s.value, s.kind) for s in result.skipped] == [
        (1, NUMBERS[1], "suppressed")
    ]
    assert gateway.ledger.for_mobile(NUMBERS[1]) == []
    strict = make_client(journal=journal_path, signature="示例", suppression="error")
    with pytest.raises(mandao.ValidationError, match="suppression list"):
        strict.send(NUMBERS[1], "上新了【示例】")
    codes = make_client(journal=journal_path, signature="示例")
    assert list(codes.send(NUMBERS[1], "验证码 1234【示例】").recipients) == [NUMBERS[1]]


def test_every_number_suppressed_sends_nothing_and_says_so(
    make_client: MakeClient, gateway: SandboxGateway, journal_path: Path
) -> None:
    mandao.Journal(journal_path).suppress(NUMBERS[0], sn=SN)
    client = make_client(journal=journal_path, signature="示例", suppression="skip")
    result = client.send(NUMBERS[0], "上新了【示例】")
    assert result.batches == ()
    assert result.billable == 0
    assert len(result.skipped) == 1
    dry = client.send([NUMBERS[0], NUMBERS[1]], "上新了【示例】", dry_run=True)
    assert len(dry.requests) == 1
    assert (dry.estimate.recipients, dry.estimate.billable) == (1, 1)  # what would go


def test_replies_need_a_journal(make_client: MakeClient) -> None:
    client = make_client(journal=None)
    with pytest.raises(mandao.ConfigError, match="needs a journal"):
        client.fetch_replies()
    with pytest.raises(mandao.ConfigError, match="lives in the"):
        make_client(journal=None, suppression="skip")


_CRASH = textwrap.dedent(
    """
    import os, signal, sys
    import mandao, mandao._fetching as fetching
    fetching.AFTER_KEEP = lambda inbound: os.kill(os.getpid(), signal.SIGKILL)
    client = mandao.Client(sys.argv[1], sys.argv[2], hosts=sys.argv[3].split(","),
                           account_hosts=sys.argv[4].split(","), journal=sys.argv[5])
    client.fetch_replies()
    print("not killed")
    """
)


def test_a_reply_kept_before_a_crash_comes_back_with_the_next_fetch(
    gateway: SandboxGateway, journal_path: Path
) -> None:
    """SIGKILL right after mo's answer is committed, before it is parsed: the reply is in
    the journal, and the next fetch returns it (mo will not give it again)."""
    gateway.reply(NUMBERS[0], "收到")
    args = [SN, PASSWORD, ",".join(gateway.hosts), ",".join(gateway.account_hosts),
            str(journal_path)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", _CRASH, *args], capture_output=True, text=True,
                          timeout=60, env=env)  # fmt: skip
    assert done.returncode == -9, done.stderr
    with gateway.client(SN, PASSWORD, journal=journal_path) as client:
        got = client.fetch_replies()
    assert [r.text for r in got] == ["收到"]
    assert got.recovered == 1


def test_a_reply_the_journal_cannot_keep_is_written_to_a_file_and_kept_next(
    make_client: MakeClient, gateway: SandboxGateway, journal_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """mo gives each reply once: an answer the journal fails to keep (locked, a server gone)
    is tried again, then written to a file beside the journal, and the fetch fails saying
    where. The next fetch keeps it and returns it (its opt-out applied): nothing is lost."""
    from mandao._journal.inbox import Inbox

    keep, failing = Inbox._keep, {"left": 1}

    def flaky(self: Inbox, sn: str, source: str, raw: str) -> int:
        if failing["left"]:
            failing["left"] -= 1
            raise mandao.JournalError("database is locked")
        return keep(self, sn, source, raw)

    monkeypatch.setattr(Inbox, "_keep", flaky)
    client = make_client(journal=journal_path)
    gateway.reply(NUMBERS[0], "TD")
    got = client.fetch_replies()  # one failure: the second try keeps it
    assert [r.mobile for r in got] == [NUMBERS[0]]
    assert got.suppressed == (NUMBERS[0],)

    gateway.reply(NUMBERS[1], "TD")
    failing["left"] = 2
    with pytest.raises(mandao.JournalError, match=r"was written to .* instead") as info:
        client.fetch_replies()
    folder = journal_path.with_name(journal_path.name + "-unkept")
    (spooled,) = folder.iterdir()
    assert str(spooled) in str(info.value)
    assert spooled.stat().st_mode & 0o077 == 0
    assert client.journal.replies(mobile=NUMBERS[1]) == []  # not in the journal yet

    got = client.fetch_replies()  # the gateway has nothing more: the file's reply comes
    assert ([r.mobile for r in got], got.recovered) == ([NUMBERS[1]], 1)
    assert got.suppressed == (NUMBERS[1],)
    assert list(folder.iterdir()) == []
    assert client.fetch_replies().items == ()  # kept once


@pytest.mark.parametrize("protocol", ["soap11", "http-get"])
def test_a_reply_answer_that_cannot_be_read_is_kept_whole(
    make_client: MakeClient, gateway: SandboxGateway, journal_path: Path, protocol: str
) -> None:
    """mo gives each reply once: an answer whose body is of no known shape (cut short,
    garbled XML) is kept whole in the journal, as one unreadable record, before the fetch
    fails saying so; before, the replies it held were nowhere."""
    client = make_client(journal=journal_path, protocol=protocol)
    gateway.reply(NUMBERS[0], "收到")
    gateway.primary.fail("malformed-xml", operation="mo")
    with pytest.raises(mandao.ProtocolError, match="answer is kept in the journal") as info:
        client.fetch_replies()
    ((kind, unread),) = client.journal.unreadable()
    assert kind == "replies"
    assert unread.raw == info.value.answer
    assert NUMBERS[0] in unread.raw
    assert unread.raw.endswith("<broken")  # the whole body, as it came
    assert client.fetch_replies().items == ()  # mo gave it once: nothing again


def test_an_unread_answer_kept_before_a_crash_is_stored_whole_by_the_next_fetch(
    make_client: MakeClient, journal_path: Path
) -> None:
    """Kept, then a crash before it was stored: the next fetch stores it whole, as
    unreadable; a line in it that looks like a reply is not taken for one."""
    client = make_client(journal=journal_path)
    line = f"1,106,{NUMBERS[0]},TD,2024-03-01 09:30:00"
    raw = f"<moResult>\n{line}\n<broken"
    client.journal._keep(SN, "unread-mo", raw)
    got = client.fetch_replies()
    assert (got.items, got.suppressed) == ((), ())
    assert [u.raw for u in got.unreadable] == [raw]
    assert client.journal.suppressions(sn=SN) == []


def test_getcode_out_of_reach_is_asked_again_a_refusal_is_not(
    make_client: MakeClient, gateway: SandboxGateway, journal_path: Path
) -> None:
    """GetCode unanswered (an error page) or failing inside the gateway (-11): that fetch's
    replies have no ext, and the next fetch asks again, so its replies do; a refusal (-7)
    is the account's answer, kept."""
    numbers = iter(NUMBERS)

    def exts(client: mandao.Client) -> list[str]:
        gateway.reply(next(numbers), "好", ext="01")
        return [r.ext for r in client.fetch_replies()]

    for fault in ({"kind": "code", "code": "-11"}, {"kind": "http-error"}):
        client = make_client(journal=journal_path)
        gateway.primary.fail(operation="GetCode", **fault)
        assert (exts(client), exts(client)) == ([""], ["01"])

    refused = make_client(journal=journal_path)
    gateway.primary.fail("code", code="-7", operation="GetCode")
    # Not asked again: the fault fires once, and GetCode would answer the second time.
    assert (exts(refused), exts(refused)) == ([""], [""])
    assert [f.operation for f in gateway.ledger.faults] == ["GetCode"] * 3


def test_a_fetch_cancelled_once_its_call_is_out_hands_its_replies_to_the_next(
    gateway: SandboxGateway, journal_path: Path
) -> None:
    """An AsyncClient's fetch_replies cancelled while mo's answer is on its way: the call
    and its keeping end first, then the cancellation goes on; the replies it brought are
    not lost to the program (mo will not give them again): the next fetch returns them,
    counted in recovered."""
    gateway.reply(NUMBERS[0], "收到")

    async def main() -> mandao.Fetched[mandao.Reply]:
        async with gateway.async_client(SN, PASSWORD, journal=journal_path) as client:
            await client.fetch_replies()  # GetCode asked, the worker started
            gateway.reply(NUMBERS[1], "好的")
            with gateway.primary.hold(operation="mo") as held:
                task = asyncio.create_task(client.fetch_replies())
                while not held.wait(1, timeout=0):  # the request is at the sandbox
                    await asyncio.sleep(0.001)  # a condition polled, no timing
                task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return await client.fetch_replies()

    got = asyncio.run(main())
    assert ([r.text for r in got], got.recovered) == (["好的"], 1)


_INTERRUPTED = textwrap.dedent(
    """
    import sys
    import mandao
    client = mandao.Client(sys.argv[1], sys.argv[2], hosts=sys.argv[3].split(","),
                           account_hosts=sys.argv[4].split(","), journal=sys.argv[5])
    print("fetching", flush=True)
    try:
        client.fetch_replies()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    got = client.fetch_replies()
    print([r.text for r in got], got.recovered)
    """
)


def test_ctrl_c_during_a_fetch_lets_it_end_and_hands_its_replies_to_the_next(
    gateway: SandboxGateway, journal_path: Path
) -> None:
    """Ctrl-C while mo's answer is on its way: the fetch ends (its answer kept), then the
    KeyboardInterrupt is raised; the next fetch returns what it brought. Before, the
    interrupt cut the read: mo had given the reply, the journal never saw it."""
    gateway.reply(NUMBERS[0], "收到")
    args = [SN, PASSWORD, ",".join(gateway.hosts), ",".join(gateway.account_hosts),
            str(journal_path)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    status, out, err = interrupted_while_held(
        gateway, [sys.executable, "-c", _INTERRUPTED, *args], env, "mo"
    )
    assert status == 0, err
    assert out.splitlines() == ["fetching", "interrupted", "['收到'] 1"], (out, err)


def _taken(pid: int, signum: int) -> bool:
    """Whether no thread of process ``pid`` has ``signum`` pending: its handler ran, or is
    set to run in the main thread at its next step (Linux's /proc)."""
    bit = 1 << (signum - 1)
    for status in [Path(f"/proc/{pid}/status"), *Path(f"/proc/{pid}/task").glob("*/status")]:
        for line in status.read_text().splitlines():
            if line.startswith(("SigPnd:", "ShdPnd:")) and int(line.split()[1], 16) & bit:
                return False
    return True


def _fetch_ctrl_c_twice(
    gateway: SandboxGateway, journal_path: Path, grace: float
) -> tuple[int, list[str], str]:
    """A fetch Ctrl-C'd twice while mo's answer is held, the second once the first was
    taken, with ``_signals.GRACE`` at ``grace``: (exit status, every line of its stdout,
    stderr)."""
    gateway.reply(NUMBERS[0], "收到")
    script = (
        f"import logging; logging.basicConfig()\nimport mandao._signals as s; s.GRACE = {grace}"
    )
    args = [sys.executable, "-c", script + _INTERRUPTED, SN, PASSWORD, ",".join(gateway.hosts),
            ",".join(gateway.account_hosts), str(journal_path)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with gateway.primary.hold(operation="mo") as held:
        child = subprocess.Popen(args, env=env, text=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)  # fmt: skip
        assert child.stdout is not None
        assert child.stderr is not None
        try:
            assert child.stdout.readline() == "fetching\n"
            assert held.wait(1, timeout=HANG), "the mo request never came"
            child.send_signal(signal.SIGINT)
            assert "the fetch ends first" in child.stderr.readline()  # the first was taken
            child.send_signal(signal.SIGINT)
            deadline = time.monotonic() + HANG
            while not _taken(child.pid, signal.SIGINT):  # a condition polled, no timing
                assert time.monotonic() < deadline, "the second Ctrl-C was never taken"
                time.sleep(0.001)
            if grace == 0:  # stopped at once: it says so while mo's answer is still held
                assert child.stdout.readline() == "interrupted\n"
                child.kill()  # its next fetch would wait for the slot the cut one keeps
        finally:
            held.release()
        out, err = child.communicate(timeout=HANG)
    read = ["fetching", "interrupted"] if grace == 0 else ["fetching"]
    return child.returncode, read + out.splitlines(), err


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_a_forwarded_second_ctrl_c_still_lets_the_fetch_end(
    gateway: SandboxGateway, journal_path: Path
) -> None:
    """Ctrl-C twice within the grace (a runner that forwards the signal to the process
    group it is in): the same one; the fetch still ends and keeps its answer. The second
    stopped it at once, and the reply mo gave was lost to the journal."""
    status, out, err = _fetch_ctrl_c_twice(gateway, journal_path, grace=3600)
    assert status == 0, err
    assert out == ["fetching", "interrupted", "['收到'] 1"], (out, err)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_a_second_ctrl_c_after_the_grace_stops_the_fetch_at_once(
    gateway: SandboxGateway, journal_path: Path
) -> None:
    """After the grace, a second Ctrl-C is meant: the fetch stops before its answer came."""
    _, out, err = _fetch_ctrl_c_twice(gateway, journal_path, grace=0)
    assert out == ["fetching", "interrupted"], (out, err)


@pytest.fixture
def push_server(journal_path: Path) -> Iterator[tuple[str, mandao.ReplyPush]]:
    """The push app in a WSGI server on 127.0.0.1 (port 0), its URL with the token."""
    token = "t0k3n-" + "x" * 20
    push = mandao.ReplyPush(mandao.Journal(journal_path), sn=SN, token=token,
                            networks=["127.0.0.0/8"])  # fmt: skip

    class Quiet(wsgiref.simple_server.WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = wsgiref.simple_server.make_server("127.0.0.1", 0, push, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/mandao/push/{token}", push
    finally:
        server.shutdown()
        thread.join(10)


def test_pushed_replies_are_kept_answered_and_stored_once(
    gateway: SandboxGateway, push_server: tuple[str, mandao.ReplyPush], journal_path: Path
) -> None:
    """The sandbox pushes two replies; the app answers 0, lists the TD one; a later mo
    fetch of the same replies stores nothing new (de-duplicated on mobile, text, time)."""
    url, _ = push_server
    gateway.push_replies_to(url)
    gateway.reply_many([(NUMBERS[0], "TD"), (NUMBERS[1], "你好")])
    assert gateway.wait_pushes(1)
    (pushed,) = gateway.pushes
    assert pushed.answer == "0"
    journal = mandao.Journal(journal_path)
    assert [r.text for r in journal.replies(sn=SN)] == ["TD", "你好"]
    assert journal.suppressed(NUMBERS[:2], sn=SN) == {NUMBERS[0]}
    with gateway.client(SN, PASSWORD, journal=journal_path) as client:
        assert client.fetch_replies().items == ()


def test_the_push_app_answers_only_its_token_networks_and_size(journal_path: Path) -> None:
    push = mandao.ReplyPush(mandao.Journal(journal_path), sn=SN, token="s" * 16,
                            networks=["10.0.0.0/8"], max_body=100)  # fmt: skip
    assert push.handle("POST", "/push/wrong-token-xxxxx", "10.1.1.1", "", b"args=x")[0] == 404
    assert push.handle("POST", "/push/" + "s" * 16, "127.0.0.1", "", b"args=x")[0] == 403
    assert push.handle("POST", "/push/" + "s" * 16, "10.1.1.1", "", None)[0] == 413
    assert push.handle("POST", "/push/" + "s" * 16, "10.1.1.1", "", b"nothing") == (400, "1")
    assert push.handle("POST", "/push/" + "s" * 16, "10.1.1.1", "", b"args=garbage") == (200, "1")
    assert [u.raw for _, u in mandao.Journal(journal_path).unreadable()] == ["nothing", "garbage"]
    with pytest.raises(mandao.ValidationError, match="16 ASCII"):
        mandao.ReplyPush(mandao.Journal(journal_path), sn=SN, token="short")


def test_one_poller_per_serial(journal_path: Path, gateway: SandboxGateway) -> None:
    """While one poller holds the serial's replies slot, a second (another thread, or
    another process) does not get it; once the first stops, the second does."""
    from mandao._coordination.pollers import poller

    journal = mandao.Journal(journal_path)
    never = threading.Event()
    with poller(journal, SN, "replies", never.wait, 0.01) as first:
        assert first
        with poller(journal, SN, "replies", lambda _: True, 0.01) as second:
            assert not second
        other = subprocess.run(
            [sys.executable, "-c", _OTHER_POLLER, str(journal_path)], capture_output=True,
            text=True, timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )  # fmt: skip
        assert other.stdout.strip() == "False", other.stderr
    with poller(journal, SN, "replies", lambda _: True, 0.01) as later:
        assert later


_OTHER_POLLER = textwrap.dedent(
    f"""
    import sys, mandao
    from mandao._coordination.pollers import poller
    with poller(mandao.Journal(sys.argv[1]), {SN!r}, "replies", lambda _: True, 0.01) as held:
        print(held)
    """
)


def test_poll_replies_yields_them_and_stops(gateway: SandboxGateway, journal_path: Path) -> None:
    """The iterator yields each reply once and ends when its stop event is set."""
    gateway.reply(NUMBERS[0], "一")
    stop = threading.Event()
    with gateway.client(SN, PASSWORD, journal=journal_path) as client:
        seen = []
        for reply in client.poll_replies(every=0.01, stop=stop):
            seen.append(reply.text)
            if len(seen) == 1:
                gateway.reply(NUMBERS[1], "二")
            else:
                stop.set()
    assert seen == ["一", "二"]


def test_the_docs_session_runs() -> None:
    """docs/reports-and-replies.md's >>> session, as a doctest."""
    import doctest

    page = Path(__file__).parents[1] / "docs" / "reports-and-replies.md"
    failures, tried = doctest.testfile(str(page), module_relative=False)
    assert tried > 5
    assert failures == 0


def test_the_push_app_speaks_asgi_too(journal_path: Path) -> None:
    """The ASGI twin answers as the WSGI app does, its journal work off the loop."""
    import asyncio

    import httpx

    token = "a" * 20
    push = mandao.ReplyPush(mandao.Journal(journal_path), sn=SN, token=token)
    body = "args=123456,10657,13800138000,TD,2026-12-1 9:30:00"

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=push.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.post(f"/push/{token}", content=body.encode())

    answer = asyncio.run(post())
    assert (answer.status_code, answer.text) == (200, "0")
    assert mandao.Journal(journal_path).suppressed(["13800138000"], sn=SN) == {"13800138000"}


def test_a_push_cut_off_midway_is_not_stored(journal_path: Path) -> None:
    """The client went away before its body came whole (ASGI's http.disconnect): nothing
    is stored nor answered; before, the part that came was stored (its 9:3 read as 09:03)
    and answered 0, and the gateway's whole retry was stored again."""
    token = "a" * 20
    journal = mandao.Journal(journal_path)
    push = mandao.ReplyPush(journal, sn=SN, token=token)
    messages = [
        {"type": "http.request", "body": b"args=123456,10657,13800138000,TD,2026-12-1 9:3",
         "more_body": True},
        {"type": "http.disconnect"},
    ]  # fmt: skip
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": f"/push/{token}",
             "client": ("127.0.0.1", 1), "query_string": b""}  # fmt: skip
    asyncio.run(push.asgi(scope, receive, send))
    assert sent == []
    assert journal.replies() == []
    assert journal.unreadable(sn=SN) == []


def test_the_wsgi_push_app_reads_no_body_without_a_length(journal_path: Path) -> None:
    """Without a Content-Length (and a server that does not end the input), the WSGI app
    reads nothing: reading to the end waited on the client's socket, and held the server
    for every push after it. The request is answered (its query may carry the args)."""
    token = "a" * 20
    push = mandao.ReplyPush(mandao.Journal(journal_path), sn=SN, token=token)

    class Socket:
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("read a body whose length was not given")

    statuses: list[str] = []
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": f"/push/{token}",
               "REMOTE_ADDR": "127.0.0.1", "wsgi.input": Socket(),
               "QUERY_STRING": "args=123456,10657,13800138000,TD,2026-12-1+9:30:00"}  # fmt: skip
    answer = push(environ, lambda status, headers: statuses.append(status))
    assert (statuses, answer) == (["200 OK"], [b"0"])


def test_the_push_apps_read_no_body_of_a_request_they_refuse(journal_path: Path) -> None:
    """A wrong token, a network not allowed, a method: refused before a byte of the body is
    read, over WSGI and ASGI alike (a stranger's megabyte is not read to be told 404)."""
    push = mandao.ReplyPush(mandao.Journal(journal_path), sn=SN, token="s" * 16,
                            networks=["10.0.0.0/8"])  # fmt: skip

    class Unread:
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("read the body of a refused request")

    async def receive() -> dict[str, object]:
        raise AssertionError("received the body of a refused request")

    refused = [("POST", "/push/wrong-token-xxxxx", "10.1.1.1", "404 Not Found"),
               ("POST", "/push/" + "s" * 16, "127.0.0.1", "403 Forbidden"),
               ("PUT", "/push/" + "s" * 16, "10.1.1.1", "405 Method Not Allowed")]  # fmt: skip
    for method, path, remote, status in refused:
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "REMOTE_ADDR": remote,
                   "CONTENT_LENGTH": "1000000", "wsgi.input": Unread()}  # fmt: skip
        statuses: list[str] = []
        push(environ, lambda status, headers, seen=statuses: seen.append(status))
        assert statuses == [status]
        sent: list[dict[str, object]] = []

        async def send(message: dict[str, object], sent: list[dict[str, object]] = sent) -> None:
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "client": (remote, 1)}
        asyncio.run(push.asgi(scope, receive, send))
        assert sent[0]["status"] == int(status.split()[0])
    assert mandao.Journal(journal_path).unreadable() == []


@pytest.mark.parametrize(("operation", "code"), [("mo", "-7"), ("report", "-17")])
def test_a_fetch_the_account_may_not_make_says_so(
    operation: str, code: str, journal_path: Path
) -> None:
    """-7 / -17 on a fetch: the code's exception, with its words; nothing kept or lost."""
    from mandao.testing import SandboxAccount

    account = SandboxAccount(PASSWORD, refused={operation: code})
    with SandboxGateway(accounts={SN: account}) as gw:
        client = gw.client(SN, PASSWORD, journal=journal_path)
        fetch = client.fetch_replies if operation == "mo" else client.fetch_reports
        with pytest.raises(mandao.GatewayError) as refused:
            fetch()
        client.close()
    assert str(refused.value.code) == code
    assert mandao.explain(int(code)).english.split(" (")[0].rstrip(".") in str(refused.value)


@pytest.mark.parametrize("encoded", ["form", "raw"])
def test_a_push_of_gb2312_text_not_percent_encoded_decodes_it(
    journal_path: Path, encoded: str
) -> None:
    """A GB2312 push form-encoded whole (urlencode(..., encoding="gb2312")), or with its
    contents' bytes raw in the body: the text is read, and its 退订 is an opt-out. Before,
    it was stored as Latin-1 garbage (ÍË¶©), answered 0, and the opt-out missed."""
    from urllib.parse import urlencode

    push = mandao.ReplyPush(mandao.Journal(journal_path), sn=SN, token="c" * 20)
    records = "123456,106,13900000001,退订,2024-3-1 9:30:00"
    body = (urlencode({"args": records}, encoding="gb2312").encode() if encoded == "form"
            else b"args=" + records.encode("gb2312"))  # fmt: skip
    assert push.handle("POST", "/p/" + "c" * 20, "127.0.0.1", "", body) == (200, "0")
    journal = mandao.Journal(journal_path)
    assert [r.text for r in journal.replies()] == ["退订"]
    assert journal.suppressed(["13900000001"], sn=SN) == {"13900000001"}


def test_a_push_with_escaped_commas_in_its_contents_decodes_them(journal_path: Path) -> None:
    """Literal commas separate the fields: a content's own %2C stays the content's."""
    push = mandao.ReplyPush(mandao.Journal(journal_path), sn=SN, token="b" * 20,
                            networks=["127.0.0.0/8"])  # fmt: skip
    body = b"args=123456,106,13800138000,%C4%E3%2C%BA%C3,2026-12-1 9:30:00"
    assert push.handle("POST", "/p/" + "b" * 20, "::ffff:127.0.0.1", "", body) == (200, "0")
    assert [r.text for r in mandao.Journal(journal_path).replies()] == ["你,好"]
    assert push.handle("POST", "/p/é", "127.0.0.1", "", body)[0] == 404
