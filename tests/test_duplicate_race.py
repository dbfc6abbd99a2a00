"""The duplicate guard against a caller that sends the same number the same text between
the guard's look and this request's ``pending`` row: checked again under the journal's
write lock, on both backends, through both clients."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import mandao
from mandao import DuplicateGuard, Journal
from mandao._core.admission import Change
from mandao._core.call import Admit, Release
from mandao._journal.sent import Unseen
from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN, MakeClient

TEXT = "验证码 482915【示例】"
NUMBER, OTHER = "13800138000", "13900139000"


def _until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition``; the bound only guards against a hang, it is no timing."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.001)


def _begin(journal: Journal, call_id: str, mobiles: list[str], text: str, **more: Any) -> int:
    return journal.begin(sn=more.pop("sn", SN), operation="mdsmssend", host="http://h/",
                         recipients=mobiles, content=text, call_id=call_id, **more)  # fmt: skip


def _look(journal: Journal, window: timedelta = timedelta(minutes=10)) -> Unseen:
    """What the guard records as it looks: the last row, and its window."""
    return Unseen(journal.last_seq(), window)


def test_begin_refuses_a_row_another_call_sent_since_the_look(
    journal_location: Path | str,
) -> None:
    """Only another call's attempt since the mark, same serial, number and text, that may
    have gone out, refuses the row; and then nothing is written."""
    journal = Journal(journal_location)
    look = _look(journal)
    _begin(journal, "other", [OTHER, NUMBER], TEXT)
    last = journal.last_seq()
    with pytest.raises(mandao.ConcurrentDuplicate) as info:
        _begin(journal, "me", [NUMBER], TEXT, unseen=look)
    assert info.value.numbers == (NUMBER,)
    assert isinstance(info.value, mandao.ValidationError)
    assert info.value.argument == "mobiles"
    assert "138****8000" in str(info.value)
    assert NUMBER not in str(info.value)
    assert journal.last_seq() == last  # rolled back: no row, nothing to send
    # What does not count: this very call, a look made after it, another text, another
    # serial, an attempt older than the window, no check asked for.
    _begin(journal, "other", [NUMBER], TEXT, unseen=look)
    _begin(journal, "me", [NUMBER], TEXT, unseen=_look(journal))
    _begin(journal, "me", [NUMBER], "另一条【示例】", unseen=look)
    _begin(journal, "me", [NUMBER], TEXT, unseen=look, sn="SDK-TST-010-00002")
    _begin(journal, "me", [NUMBER], TEXT, unseen=look._replace(window=timedelta(0)))
    _begin(journal, "me", [], TEXT, unseen=look)  # no numbers, nothing to refuse
    _begin(journal, "me", [NUMBER], TEXT)
    # The pairs to check can be more than the row's own (a plan's first request's).
    wider = look._replace(pairs=lambda: [(OTHER, "别的【示例】"), (NUMBER, TEXT)])
    with pytest.raises(mandao.ConcurrentDuplicate):
        _begin(journal, "me", [OTHER], "别的【示例】", unseen=wider)
    with pytest.raises(mandao.ValidationError, match="call_id"):
        _begin(journal, "", [NUMBER], TEXT, unseen=look)
    journal.close()


def test_an_attempt_that_did_not_go_out_refuses_nothing(journal_location: Path | str) -> None:
    """Another call's attempt refused by the gateway (or unreachable) sent nothing; one
    of unknown outcome, or an mdgxsend that gave the number the text, may have."""
    journal = Journal(journal_location)
    look = _look(journal)
    journal.complete(_begin(journal, "a", [NUMBER], TEXT), "rejected", result="-4")
    journal.complete(_begin(journal, "b", [NUMBER], TEXT), "unreachable", detail="refused")
    _begin(journal, "me", [NUMBER], TEXT, unseen=look)
    journal.complete(_begin(journal, "c", [OTHER], TEXT), "unknown", detail="reset")
    with pytest.raises(mandao.ConcurrentDuplicate):
        _begin(journal, "me", [OTHER, NUMBER], TEXT, unseen=look)
    journal.begin(sn=SN, operation="mdgxsend", host="http://h/", recipients=["13700137000"],
                  content=["个性化【示例】"], call_id="d")  # fmt: skip
    with pytest.raises(mandao.ConcurrentDuplicate):
        _begin(journal, "me", ["13700137000"], "个性化【示例】", unseen=look)
    journal.close()


def test_a_number_given_two_texts_in_one_mdgxsend_counts_with_each(
    journal_location: Path | str,
) -> None:
    """An mdgxsend may give one number two texts: each of them refuses that pair, in the
    guard's look (``Journal.duplicates``) and in the second look alike, not only the
    text at the number's first place."""
    journal = Journal(journal_location)
    look = _look(journal)
    journal.begin(sn=SN, operation="mdgxsend", host="http://h/", recipients=[NUMBER, NUMBER],
                  content=["甲【示例】", "乙【示例】"], call_id="a")  # fmt: skip
    pair = (NUMBER, "乙【示例】")
    assert journal.duplicates([pair], timedelta(minutes=10), sn=SN) == {pair}
    with pytest.raises(mandao.ConcurrentDuplicate):
        _begin(journal, "me", [NUMBER], "乙【示例】", unseen=look)
    journal.close()


def test_a_row_the_second_look_cannot_read_is_a_journal_error(
    journal_location: Path | str,
) -> None:
    """A row of another call with fewer texts than numbers (not one mandao writes): the
    second look cannot read it, and says so as a JournalError (which the clients count
    as not sent), not as an IndexError out of the journal; nothing is written."""
    journal = Journal(journal_location)
    look = _look(journal)
    journal.begin(sn=SN, operation="mdgxsend", host="http://h/", recipients=[OTHER, NUMBER],
                  content=["只有一条【示例】"], call_id="a")  # fmt: skip
    last = journal.last_seq()
    with pytest.raises(mandao.JournalError, match="modified outside mandao"):
        _begin(journal, "me", [NUMBER], TEXT, unseen=look)
    assert journal.last_seq() == last
    journal.close()


def test_call_ids_differ_between_processes_of_one_pid() -> None:
    """Two containers each run their app as pid 1: their calls' ids still differ (the
    second look tells this call's rows from others' by it)."""
    script = "import os; os.getpid = lambda: 1; import mandao; print(mandao.Client._call_id())"

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
        )
        return done.stdout.strip()

    ids = [run(), run()]
    assert ids[0].startswith("1-1-")
    assert ids[0] != ids[1]


def test_call_ids_differ_between_instances_restored_from_one_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two instances restored from one memory snapshot: the same pid, the same count."""
    from mandao import _client_base

    # Its own view of os only: other threads (a background index write) keep the real pid.
    monkeypatch.setattr(_client_base, "os", SimpleNamespace(getpid=lambda: 7))
    ids = []
    for _ in range(2):
        monkeypatch.setattr(_client_base, "_CALLS", itertools.count(12))  # as snapshotted
        ids.append(mandao.Client._call_id())
    assert ids[0].startswith("7-12-")
    assert ids[0] != ids[1]


def _send_after_the_look(
    client: mandao.Client,
    other: mandao.Client,
    numbers: tuple[str, ...] = (NUMBER,),
    every: int = 1,
) -> None:
    """Make ``other`` send the text to the next of ``numbers`` right after each of
    ``client``'s guard's looks (a look is ``every`` lookups: one per request), before the
    request's pending row: the race, staged."""
    journal = client.journal
    assert journal is not None
    looked, left, calls = journal.duplicates, list(numbers), [0]

    def duplicates(*args: Any, **kwargs: Any) -> set[tuple[str, str]]:
        found = looked(*args, **kwargs)
        calls[0] += 1
        if left and calls[0] % every == 0:
            other.send(left.pop(0), TEXT)
        return found

    journal.duplicates = duplicates  # type: ignore[method-assign]


@pytest.fixture
def pair(
    make_client: MakeClient, gateway: SandboxGateway, journal_location: Path | str
) -> Callable[[str], tuple[mandao.Client, mandao.Client]]:
    """A client (Client, then AsyncClient) with the guard, and a plain Client of the same
    serial and journal: the other caller."""

    def make(action: str) -> tuple[mandao.Client, mandao.Client]:
        guard = DuplicateGuard(window=timedelta(minutes=10), action=action)  # type: ignore[arg-type]
        # A try the journal refused sent nothing and gives the serial's slot back at once:
        # kept for the read timeout (60 s), the next try would wait past its 2 s and fail.
        timeouts = mandao.Timeouts(1, 60, wait=2)
        client = make_client(journal=journal_location, duplicate_guard=guard, timeout=timeouts)
        other = gateway.client(SN, PASSWORD, journal=journal_location, timeout=(1, 5))
        return client, other

    return make


def _to(gateway: SandboxGateway, number: str) -> int:
    return sum(m.mobile == number for m in gateway.ledger.messages)


def test_skip_leaves_out_a_number_sent_between_the_look_and_the_row(
    pair: Callable[[str], tuple[mandao.Client, mandao.Client]], gateway: SandboxGateway
) -> None:
    """The first try is refused by the journal, the guard looks again and skips it."""
    client, other = pair("skip")
    _send_after_the_look(client, other)
    result = client.send([NUMBER, OTHER], TEXT)
    assert [s.value for s in result.skipped] == [NUMBER]
    assert result.skipped[0].kind == "duplicate"
    assert result.recipients == (OTHER,)
    assert (_to(gateway, NUMBER), _to(gateway, OTHER)) == (1, 1)  # other's, and ours
    journal = client.journal
    assert journal is not None
    sent = [a for a in journal.attempts() if a.outcome == "accepted"]
    assert [a.recipients for a in sent] == [(NUMBER,), (OTHER,)]
    assert journal.pending() == []


def test_refuse_refuses_as_if_the_other_came_first(
    pair: Callable[[str], tuple[mandao.Client, mandao.Client]], gateway: SandboxGateway
) -> None:
    client, other = pair("refuse")
    _send_after_the_look(client, other)
    with pytest.raises(mandao.ValidationError) as info:
        client.send([NUMBER, OTHER], TEXT)
    assert not isinstance(info.value, mandao.ConcurrentDuplicate)
    assert "sent the same text within 10 minutes" in str(info.value)
    assert (_to(gateway, NUMBER), _to(gateway, OTHER)) == (1, 0)


def test_a_caller_that_keeps_winning_is_said_after_three_tries(
    pair: Callable[[str], tuple[mandao.Client, mandao.Client]], gateway: SandboxGateway
) -> None:
    """After each look the other caller sends one more of the numbers: each try is
    refused, the next look skips what it sent; after three tries, the error. Nothing of
    ours was sent or written."""
    client, other = pair("skip")
    numbers = (NUMBER, OTHER, "13700137000", "13600136000")
    _send_after_the_look(client, other, numbers[:3])
    with pytest.raises(mandao.ConcurrentDuplicate) as info:
        client.send(list(numbers), TEXT)
    assert info.value.numbers == ("13700137000",)  # the third try's loss
    assert [_to(gateway, n) for n in numbers] == [1, 1, 1, 0]  # the other's, none of ours
    journal = client.journal
    assert journal is not None
    assert len(list(journal.attempts())) == 3


@pytest.mark.parametrize("action", ["skip", "refuse"])
def test_a_later_batchs_number_sent_after_the_look_stops_the_first_batch(
    pair: Callable[[str], tuple[mandao.Client, mandao.Client]],
    gateway: SandboxGateway,
    action: str,
) -> None:
    """The other caller sends batch 2's number before batch 1's row: the first request's
    check covers the whole plan, so nothing is sent and the guard looks again."""
    client, other = pair(action)
    _send_after_the_look(client, other, every=2)  # after the look at both requests
    if action == "refuse":
        with pytest.raises(mandao.ValidationError, match="sent the same text within"):
            client.send([OTHER, NUMBER], TEXT, batch_size=1)
        assert (_to(gateway, NUMBER), _to(gateway, OTHER)) == (1, 0)
        return
    result = client.send([OTHER, NUMBER], TEXT, batch_size=1)
    assert [s.value for s in result.skipped] == [NUMBER]
    assert [b.state for b in result.batches] == ["sent"]
    assert (_to(gateway, NUMBER), _to(gateway, OTHER)) == (1, 1)


def test_a_later_batch_that_loses_the_race_is_not_sent(
    pair: Callable[[str], tuple[mandao.Client, mandao.Client]], gateway: SandboxGateway
) -> None:
    """Batch 1 goes; the other caller sends batch 2's number meanwhile: batch 2 is
    ``not_sent`` with the ConcurrentDuplicate, and its number got one message."""
    client, other = pair("skip")

    def progress(batch: mandao.Batch) -> None:
        if batch.index == 0:
            other.send(NUMBER, TEXT)

    result = client.send([OTHER, NUMBER], TEXT, batch_size=1, progress=progress)
    assert [b.state for b in result.batches] == ["sent", "not_sent"]
    error = result.batches[1].error
    assert isinstance(error, mandao.ConcurrentDuplicate)
    assert error.numbers == (NUMBER,)
    assert (_to(gateway, NUMBER), _to(gateway, OTHER)) == (1, 1)


def test_a_concurrent_duplicate_from_the_progress_callback_is_the_callbacks(
    pair: Callable[[str], tuple[mandao.Client, mandao.Client]], gateway: SandboxGateway
) -> None:
    """A ``progress`` callback that raises ConcurrentDuplicate (its own send lost a race)
    after batch 1 went: that error comes out as it is, and the send is not screened and
    sent again as if its first request had been refused."""
    client, _ = pair("skip")
    raised = mandao.ConcurrentDuplicate("the callback's own send", numbers=(OTHER,))
    seen: list[int] = []

    def progress(batch: mandao.Batch) -> None:
        seen.append(batch.index)
        raise raised

    with pytest.raises(mandao.ConcurrentDuplicate) as info:
        client.send([OTHER, NUMBER], TEXT, batch_size=1, progress=progress)
    assert info.value is raised
    assert seen == [0]  # once: not a second time for a send screened again
    assert (_to(gateway, OTHER), _to(gateway, NUMBER)) == (1, 0)
    journal = client.journal
    assert journal is not None
    assert [a.recipients for a in journal.attempts()] == [(OTHER,)]


def test_two_processes_worth_of_callers_racing_send_once(
    gateway: SandboxGateway, journal_location: Path | str
) -> None:
    """Two Clients with journals of their own (as two processes have) on one file or
    database both look while a third holds the serial's slot, and both find nothing;
    then they go one after the other. One message reaches the number; the other skips."""
    guard = DuplicateGuard(window=timedelta(minutes=10), action="skip")
    clients = [
        gateway.client(SN, PASSWORD, journal=journal_location, duplicate_guard=guard)
        for _ in range(2)
    ]
    _, store = clients[0]._sending()
    assert clients[1]._sending()[1] is store
    held = store.admit(Admit("send"), wait=5)
    results: list[mandao.SendResult] = []
    threads = [
        threading.Thread(target=lambda c=c: results.append(c.send(NUMBER, TEXT))) for c in clients
    ]
    for thread in threads:
        thread.start()
    _until(lambda: len(store._line) == 2)  # both looked, found nothing, and wait for the slot
    store.release(Release(held.group, Change.ANSWERED, elapsed=0.01))
    for thread in threads:
        thread.join(10)
    assert sorted(bool(r.id) for r in results) == [False, True]
    (skipped,) = [r for r in results if not r.id]
    assert [s.value for s in skipped.skipped] == [NUMBER]
    assert _to(gateway, NUMBER) == 1
    for client in clients:
        client.close()
