"""The duplicate index of a large attempt, written in the background once its row is in:
a look meanwhile indexes the attempt itself, a write that fails leaves a gap the next
look fills, and a forked child writes with a thread of its own (on both backends)."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import mandao
from mandao import Journal
from mandao._journal import indexer

from .conftest import SN
from .postgres import query

WINDOW = timedelta(minutes=10)
TEXT = "本期账单已出【示例】"
NUMBERS = [f"1390000{i:04d}" for i in range(indexer.BACKGROUND + 1)]


def _guarding(location: Path | str) -> Journal:
    """A journal that keeps the index (it has looked once)."""
    journal = Journal(location)
    assert journal.duplicates([("13800138000", "先看一眼【示例】")], WINDOW) == set()
    return journal


def _in_background(journal: Journal, write: Callable[..., Any]) -> None:
    """Replace ``journal``'s writes made by the indexing thread with ``write``."""
    real = journal._database.write

    def routed(what: str, work: Callable[..., Any]) -> Any:
        if threading.current_thread().name.startswith("mandao-index"):
            return write(real, what, work)
        return real(what, work)

    journal._database.write = routed  # type: ignore[method-assign]


def _held(journal: Journal) -> tuple[threading.Event, threading.Event]:
    """Hold ``journal``'s background writes until ``go`` is set (``started``: one waits)."""
    started, go = threading.Event(), threading.Event()

    def held(real: Callable[..., Any], what: str, work: Callable[..., Any]) -> Any:
        started.set()
        assert go.wait(30)
        return real(what, work)

    _in_background(journal, held)
    return started, go


def _mark(location: Path | str) -> list[tuple[Any, ...]]:
    return query(location, "SELECT value FROM meta WHERE key = 'sent'")


def _indexed(location: Path | str) -> int:
    return int(query(location, "SELECT count(*) FROM sent")[0][0])


def test_a_small_attempt_is_indexed_with_its_row(journal_location: Path | str) -> None:
    journal = _guarding(journal_location)
    seq = journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=NUMBERS[:-1],
                        content=TEXT)  # fmt: skip
    assert (_indexed(journal_location), _mark(journal_location)) == (
        len(NUMBERS) - 1,
        [(str(seq),)],
    )
    journal.close()


def test_a_look_before_the_background_write_indexes_the_attempt_itself(
    journal_location: Path | str,
) -> None:
    """The row is committed and the request may leave while the index write waits; a
    look by another writer meanwhile finds the numbers (it indexes them itself); the
    background write then finds the mark moved and writes nothing twice."""
    journal, other = _guarding(journal_location), Journal(journal_location)
    started, go = _held(journal)
    seq = journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=NUMBERS, content=TEXT)
    assert started.wait(30)  # begin returned; its index write has not been made
    assert _indexed(journal_location) == 0
    assert [a.seq for a in journal.pending()] == [seq]
    pair = (NUMBERS[7], TEXT)
    assert other.duplicates([pair], WINDOW, sn=SN) == {pair}
    assert (_indexed(journal_location), _mark(journal_location)) == (len(NUMBERS), [(str(seq),)])
    go.set()
    journal.flush()
    assert (_indexed(journal_location), _mark(journal_location)) == (len(NUMBERS), [(str(seq),)])
    assert journal.verify().ok
    journal.close()
    other.close()


def test_a_background_write_that_fails_leaves_a_gap_the_next_look_fills(
    journal_location: Path | str, caplog: pytest.LogCaptureFixture
) -> None:
    journal = _guarding(journal_location)

    def failing(real: Callable[..., Any], what: str, work: Callable[..., Any]) -> Any:
        raise mandao.JournalError("cannot index the journal: disk full")

    _in_background(journal, failing)
    caplog.set_level("DEBUG", logger="mandao")
    seq = journal.begin(sn=SN, operation="mdgxsend", host="h", recipients=NUMBERS,
                        content=[f"{TEXT} {n}" for n in NUMBERS])  # fmt: skip
    journal.flush()
    assert _indexed(journal_location) == 0
    assert f"attempt {seq} is left to the next duplicate look: cannot index" in caplog.text
    pairs = [(NUMBERS[0], f"{TEXT} {NUMBERS[0]}"), (NUMBERS[-1], f"{TEXT} {NUMBERS[0]}")]
    assert journal.duplicates(pairs, WINDOW, sn=SN) == {pairs[0]}
    assert (_indexed(journal_location), _mark(journal_location)) == (len(NUMBERS), [(str(seq),)])
    journal.close()


def _child(location: str) -> None:
    journal = _guarding(location)
    journal.begin(
        sn=SN, operation="mdsmssend", host="h", recipients=NUMBERS, content="子进程【示例】"
    )
    journal.flush()  # a thread of its own: the parent's is not in this process
    journal.close()


def test_a_forked_child_indexes_with_a_thread_of_its_own(tmp_path: Path) -> None:
    location = tmp_path / "j.sqlite3"
    journal = _guarding(location)
    journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=NUMBERS, content=TEXT)
    journal.flush()  # the parent's indexing thread is up
    child = multiprocessing.get_context("fork").Process(target=_child, args=(str(location),))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert _indexed(location) == 2 * len(NUMBERS)
    assert journal.duplicates([(NUMBERS[3], "子进程【示例】")], WINDOW, sn=SN) != set()
    journal.close()


def test_the_texts_indexed_are_those_of_the_row_whatever_the_caller_does_after(
    journal_location: Path | str,
) -> None:
    """The caller's list of texts is emptied once begin has returned: the background write
    indexes the texts the row holds, so the look still finds them."""
    journal = _guarding(journal_location)
    started, go = _held(journal)
    texts = [f"{TEXT} {n}" for n in NUMBERS]
    journal.begin(sn=SN, operation="mdgxsend", host="h", recipients=NUMBERS, content=texts)
    assert started.wait(30)
    texts.clear()
    go.set()
    journal.flush()
    pair = (NUMBERS[9], f"{TEXT} {NUMBERS[9]}")
    assert journal.duplicates([pair], WINDOW, sn=SN) == {pair}
    journal.close()


def test_each_batch_of_a_call_is_indexed_as_it_is_written(journal_location: Path | str) -> None:
    """Three large batches, each with its outcome row after it: each is indexed by its own
    write (the outcome rows between leave nothing to index), and the next look writes
    nothing."""
    journal = _guarding(journal_location)
    seqs = []
    for batch in range(3):
        numbers = [f"13{batch}0000{i:04d}" for i in range(indexer.BACKGROUND + 1)]
        seq = journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=numbers,
                            content=TEXT)  # fmt: skip
        journal.flush()
        journal.complete(seq, "accepted", result=str(seq))
        seqs.append(seq)
    assert (_indexed(journal_location), _mark(journal_location)) == (
        3 * len(NUMBERS),
        [(str(seqs[-1]),)],
    )
    writes: list[str] = []
    write = journal._database.write

    def counted(what: str, work: Callable[..., Any]) -> Any:
        writes.append(what)
        return write(what, work)

    journal._database.write = counted  # type: ignore[method-assign]
    assert journal.duplicates([("13000000007", TEXT)], WINDOW, sn=SN) == {("13000000007", TEXT)}
    assert writes == []
    journal.close()


def test_flushing_one_journal_waits_for_its_own_writes_only(tmp_path: Path) -> None:
    """Another journal's background write is held: this one's flush and close return."""
    held, mine = _guarding(tmp_path / "held.sqlite3"), _guarding(tmp_path / "mine.sqlite3")
    started, go = _held(held)
    held.begin(sn=SN, operation="mdsmssend", host="h", recipients=NUMBERS, content=TEXT)
    assert started.wait(30)
    done = threading.Event()

    def flush_and_close() -> None:
        mine.flush()
        mine.close()
        done.set()

    threading.Thread(target=flush_and_close).start()
    try:
        assert done.wait(30)
    finally:
        go.set()
    held.close()


def _journal_in_child(location: str) -> None:
    journal = _PARENTS[location]  # the parent's object, its lock held by a thread not here
    assert journal.last_seq() >= 1


_PARENTS: dict[str, Journal] = {}


def test_a_child_forked_while_a_thread_holds_the_journal_can_use_it(tmp_path: Path) -> None:
    """A thread of the parent (the indexer, the caller's own) holds the journal's lock as
    the process forks: the child's journal has a lock of its own."""
    location = tmp_path / "j.sqlite3"
    journal = _guarding(location)
    journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=["13800138000"], content=TEXT)
    _PARENTS[str(location)] = journal
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with journal._database._lock:  # type: ignore[attr-defined]
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(30)
    try:
        child = multiprocessing.get_context("fork").Process(
            target=_journal_in_child, args=(str(location),)
        )
        child.start()
        child.join(60)
        if child.exitcode is None:
            child.kill()
        assert child.exitcode == 0
    finally:
        release.set()
        holder.join(30)
        _PARENTS.clear()
    journal.close()
