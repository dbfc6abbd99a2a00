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
    started, go = threading.Event(), threading.Event()

    def held(real: Callable[..., Any], what: str, work: Callable[..., Any]) -> Any:
        started.set()
        assert go.wait(30)
        return real(what, work)

    _in_background(journal, held)
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
