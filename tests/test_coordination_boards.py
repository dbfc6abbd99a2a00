"""The shared admission boards, a file beside an SQLite journal and a PostgreSQL row, each
state object standing for one process (its own holder, its own file or connection)."""

from __future__ import annotations

import logging
import math
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mandao import Journal, JournalError, SerialBusy
from mandao._coordination import board as board_module
from mandao._coordination import split
from mandao._coordination import store as store_module
from mandao._coordination.board import BoardState
from mandao._coordination.files import FileState, beside
from mandao._coordination.postgres import PostgresState
from mandao._coordination.store import SerialStore
from mandao._core.admission import Change
from mandao._core.call import Admit
from mandao._core.failover import FailoverPolicy
from mandao._core.hosts import HostGroups

from .postgres import query

GROUPS = HostGroups.pair({"send": ("http://a.example/x.asmx", "http://b.example/x.asmx")})
SN = "SDK-TST-010-00001"

Make = Callable[[], BoardState]


@pytest.fixture
def process(journal_location: Path | str) -> Make:
    """A new state on the test's board, as another process would make it."""

    def make(limit: int | None = 1) -> BoardState:
        if isinstance(journal_location, Path):
            return FileState(journal_location, SN, GROUPS, FailoverPolicy(), limit)
        return PostgresState(journal_location, SN, GROUPS, FailoverPolicy(), limit)

    return make


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


def test_a_slot_taken_by_one_process_is_taken_for_the_others(process: Make) -> None:
    a, b = process(), process()
    assert a.try_admit("send", frozenset(), lease=60) == (0, None)
    granted, again = b.try_admit("send", frozenset(), lease=60)
    assert granted is None
    assert again is not None
    assert 0 < again <= board_module.POLL
    a.release(0, Change.ANSWERED, 0.01, hold=0)
    assert b.try_admit("send", frozenset(), lease=60) == (0, None)


def test_processes_are_served_in_order_of_arrival(process: Make) -> None:
    """B came first and waits; C, asking once the slot is free, still goes after B."""
    a, b, c = process(), process(), process()
    a.try_admit("send", frozenset(), lease=60)
    assert b.try_admit("send", frozenset(), lease=60)[0] is None
    a.release(0, Change.ANSWERED, 0.01, hold=0)
    assert c.try_admit("send", frozenset(), lease=60)[0] is None  # B is first in line
    assert b.try_admit("send", frozenset(), lease=60)[0] == 0
    b.release(0, Change.ANSWERED, 0.01, hold=0)
    assert c.try_admit("send", frozenset(), lease=60)[0] == 0


def test_a_dead_processs_lease_runs_out(process: Make) -> None:
    """A process that never releases (it died) holds the slot only for its lease."""
    dead, alive = process(), process()
    assert dead.try_admit("send", frozenset(), lease=0.3)[0] == 0
    assert alive.try_admit("send", frozenset(), lease=60)[0] is None
    _until(lambda: alive.try_admit("send", frozenset(), lease=60)[0] == 0, "the lease's end")


def test_an_unanswered_request_holds_the_slot_for_others_too(process: Make) -> None:
    a, b = process(), process()
    a.try_admit("send", frozenset(), lease=60)
    a.release(0, Change.NO_ANSWER, 0.0, hold=60)
    assert b.try_admit("send", frozenset(), lease=60)[0] is None
    assert a.try_admit("send", frozenset(), lease=60)[0] is None  # its own, too


def test_a_wait_on_the_board_says_unanswered_only_of_a_request_that_went_unanswered(
    process: Make, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process's request in flight is a lease on the board, not an unanswered
    request; once one of its requests goes out unanswered, its lease, left to run out, is
    (a waiter's step, asked as it would be two seconds into its wait)."""
    other = process()
    store = SerialStore(GROUPS, FailoverPolicy(), limit=1, state=process())

    def waiting() -> str:
        caplog.clear()
        with pytest.raises(SerialBusy):
            store.admit(Admit("send"), wait=0)  # asks the board once
        with caplog.at_level(logging.INFO, logger="mandao"):
            store._nap(time.monotonic() - 2, 5.0, None, SN)
        (message,) = [r.getMessage() for r in caplog.records if "waiting for a" in r.getMessage()]
        return message

    assert other.try_admit("send", frozenset(), lease=60)[0] == 0
    assert "(max_in_flight=1, 1 in flight here or in another process; waiting up to" in waiting()
    other.release(0, Change.ANSWERED, 2.5, hold=0)  # answered, slowly
    assert other.try_admit("send", frozenset(), lease=60)[0] == 0
    other.release(0, Change.NO_ANSWER, 0.0, hold=60)
    assert "1 in flight here or in another process; 1 of them unanswered, each keeping its " in (
        waiting()
    )


def test_a_switch_made_by_one_process_is_every_processs(process: Make) -> None:
    """A finds group 0 unreachable: B's next request goes to group 1 (no -19)."""
    a, b = process(limit=None), process(limit=None)
    a.try_admit("send", frozenset(), lease=60)
    a.release(0, Change.UNREACHABLE, 0.0, hold=0)
    assert b.try_admit("send", frozenset(), lease=60)[0] == 1
    # Group 1 is in flight: A may not go back to group 0 meanwhile.
    assert a.try_admit("send", frozenset({1}), lease=60)[0] is None


def test_a_process_that_stops_waiting_leaves_the_line(
    process: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiter that went quiet (dead) is dropped once stale; one that gave up withdraws."""
    a, quiet, b = process(), process(), process()
    a.try_admit("send", frozenset(), lease=60)
    assert quiet.try_admit("send", frozenset(), lease=60)[0] is None
    assert b.try_admit("send", frozenset(), lease=60)[0] is None
    a.release(0, Change.ANSWERED, 0.01, hold=0)
    assert b.try_admit("send", frozenset(), lease=60)[0] is None  # quiet is first
    monkeypatch.setattr(board_module, "STALE", 0.05)
    _until(lambda: b.try_admit("send", frozenset(), lease=60)[0] == 0, "quiet to go stale")
    b.release(0, Change.ANSWERED, 0.01, hold=0)
    c, d = process(), process()
    c.try_admit("send", frozenset(), lease=60)
    assert d.try_admit("send", frozenset(), lease=60)[0] is None
    d.withdraw()
    c.release(0, Change.ANSWERED, 0.01, hold=0)
    assert process().try_admit("send", frozenset(), lease=60)[0] == 0


def test_a_board_file_cut_short_starts_afresh(tmp_path: Path) -> None:
    """A file that reads as no board (a full disk cut it) is a fresh board, not an error."""
    a = FileState(tmp_path / "j.sqlite3", SN, GROUPS, FailoverPolicy(), 1)
    a.try_admit("send", frozenset(), lease=60)
    a._path.write_bytes(a._path.read_bytes()[:9])
    b = FileState(tmp_path / "j.sqlite3", SN, GROUPS, FailoverPolicy(), 1)
    assert b.try_admit("send", frozenset(), lease=60) == (0, None)
    assert oct(a._path.stat().st_mode & 0o777) == "0o600"


def test_a_lost_database_connection_heals_and_a_dead_server_is_a_journal_error(
    postgresql_url: str,
) -> None:
    """A connection the server dropped is made again at once (the release goes through);
    a database that cannot be reached is a JournalError naming it without a password."""
    state = PostgresState(postgresql_url, SN, GROUPS, FailoverPolicy(), 1)
    assert state.try_admit("send", frozenset(), lease=60)[0] == 0
    assert state._conn is not None
    pid = state._conn.info.backend_pid
    query(postgresql_url, "SELECT pg_terminate_backend(?)", (pid,))
    state.release(0, Change.ANSWERED, 0.01, hold=0)
    other = PostgresState(postgresql_url, SN, GROUPS, FailoverPolicy(), 1)
    assert other.try_admit("send", frozenset(), lease=60)[0] == 0  # the slot was given back
    base, _, rest = postgresql_url.partition("?")
    gone = base.rsplit("/", 1)[0] + "/no_such_database" + ("?" + rest if rest else "")
    with pytest.raises(JournalError) as info:
        PostgresState(gone, SN, GROUPS, FailoverPolicy(), 1).try_admit(
            "send", frozenset(), lease=60
        )
    assert "no_such_database" in str(info.value)
    # The server's own reason, as the journal gives it; no password, from either kind of
    # state (a URL's, or a journal's whose connections carry it).
    assert 'database "no_such_database" does not exist' in str(info.value)
    secret = gone + ("&" if "?" in gone else "?") + "password=hunter2x"
    made = [PostgresState(secret, SN, GROUPS, FailoverPolicy(), 1)]
    made.append(store_module._state(SN, GROUPS, FailoverPolicy(), 1, Journal(secret)))
    for state in made:
        with pytest.raises(JournalError) as info:
            state.try_admit("send", frozenset(), lease=60)
        assert "does not exist" in str(info.value)
        assert "hunter2x" not in str(info.value)


def test_a_processs_own_request_stays_in_flight_past_its_lease(process: Make) -> None:
    """The lease bounds what others wait for a dead process; this process's own request in
    flight (a journal write slower than the lease, say) still holds the slot here."""
    me = process()
    assert me.try_admit("send", frozenset(), lease=0.05)[0] == 0
    other = process()
    _until(lambda: other.try_admit("send", frozenset(), lease=60)[0] == 0, "the lease's end")
    other.release(0, Change.ANSWERED, 0.01, hold=0)
    assert me.try_admit("send", frozenset(), lease=60)[0] is None  # its first is in flight
    me.release(0, Change.ANSWERED, 0.01, hold=0)
    assert me.try_admit("send", frozenset(), lease=60)[0] == 0


def test_a_waiter_behind_its_own_processs_slots_leaves_the_board_alone(
    process: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every slot is this process's: its next waiter cannot get one, so it does not read
    or write the board (a PostgreSQL round trip, a locked file) and takes no place in
    line; the release wakes it. Another process that had to wait is served before it."""
    me, other = process(limit=2), process(limit=2)
    assert me.try_admit("send", frozenset(), lease=60)[0] == 0
    assert me.try_admit("send", frozenset(), lease=60)[0] == 0
    touched: list[object] = []
    update = me._update

    def counted(step: board_module.Step[object]) -> object:
        touched.append(step)
        return update(step)

    monkeypatch.setattr(me, "_update", counted)
    assert me.try_admit("send", frozenset(), lease=60) == (None, None)  # woken, no poll
    assert touched == []
    assert other.try_admit("send", frozenset(), lease=60)[0] is None  # in line
    me.release(0, Change.ANSWERED, 0.01, hold=0)
    assert me.try_admit("send", frozenset(), lease=60)[0] is None  # other came first
    assert len(touched) == 2
    assert other.try_admit("send", frozenset(), lease=60)[0] == 0


def test_a_lease_of_its_own_it_no_longer_tracks_is_waited_out_not_waited_on(
    process: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release that could not reach the board leaves the process's lease there, with no
    release to come: the next waiter asks again by the lease's end (a poll time), not only
    when woken, and gets the slot once it has run out."""
    me = process()
    assert me.try_admit("send", frozenset(), lease=0.3)[0] == 0
    update = me._update

    def broken(step: object) -> object:
        raise JournalError("the board is gone")

    monkeypatch.setattr(me, "_update", broken)
    me.release(0, Change.ANSWERED, 0.01, hold=0)  # logged; the lease stays on the board
    monkeypatch.setattr(me, "_update", update)
    granted, again = me.try_admit("send", frozenset(), lease=60)
    assert granted is None
    assert again is not None  # a time to ask again: before, (None, None), woken never
    _until(lambda: me.try_admit("send", frozenset(), lease=60)[0] == 0, "the lease's end")


def test_a_release_gives_back_the_lease_that_ends_first(process: Make) -> None:
    """Two requests of one process in flight (limit 2), the first with the shorter lease;
    the first ends: the lease left on the board is the second's, so once the first's
    would have run out another process still sees the second in flight and takes one
    slot, not two. (It gave back the newest, leaving the second covered by the first's.)"""
    me, other = process(limit=2), process(limit=2)
    assert me.try_admit("send", frozenset(), lease=0.3)[0] == 0
    assert me.try_admit("send", frozenset(), lease=60)[0] == 0
    me.release(0, Change.ANSWERED, 0.01, hold=0)
    end = time.time() + 0.35
    _until(lambda: time.time() > end, "the first lease's end")
    assert other.try_admit("send", frozenset(), lease=60)[0] == 0
    assert other.try_admit("send", frozenset(), lease=60)[0] is None  # the second's slot
    me.release(0, Change.ANSWERED, 0.01, hold=0)
    assert other.try_admit("send", frozenset(), lease=60)[0] == 0


def test_a_renewed_lease_keeps_the_slot_and_a_lost_one_is_refused(process: Make) -> None:
    """renew (a pending row that took long to write): a lease still running is extended,
    so another process waits past its first end; one that ran out is taken again while
    the slot is free, and refused once another process has it."""
    me, other = process(), process()
    assert me.try_admit("send", frozenset(), lease=0.3)[0] == 0
    assert me.renew(0, lease=60) is True
    end = time.time() + 0.35
    _until(lambda: time.time() > end, "the first lease's end")
    assert other.try_admit("send", frozenset(), lease=60)[0] is None  # renewed: still mine
    me.release(0, Change.ANSWERED, 0.01, hold=0)
    other.withdraw()
    assert me.try_admit("send", frozenset(), lease=0.05)[0] == 0
    end = time.time() + 0.1
    _until(lambda: time.time() > end, "the lease's end")
    assert me.renew(0, lease=60) is True  # ran out, but nobody took the slot
    assert other.try_admit("send", frozenset(), lease=60)[0] is None
    other.withdraw()
    me.release(0, Change.ANSWERED, 0.01, hold=0)
    assert me.try_admit("send", frozenset(), lease=0.05)[0] == 0
    _until(lambda: other.try_admit("send", frozenset(), lease=60)[0] == 0, "the lease's end")
    assert me.renew(0, lease=60) is False  # the slot is the other's now


def test_a_release_the_board_cannot_take_is_logged_not_raised(
    process: Make, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The request is over whatever the board says: its outcome must still be journaled,
    so a board that fails on release logs it, and the lease runs out on its own."""
    state = process()
    assert state.try_admit("send", frozenset(), lease=60)[0] == 0

    def broken(step: object) -> object:
        raise JournalError("the board is gone")

    monkeypatch.setattr(state, "_update", broken)
    state.release(0, Change.ANSWERED, 0.01, hold=0)
    assert "lease runs out" in caplog.text


def test_a_waiter_asking_again_writes_nothing_new(
    process: Make, journal_location: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process waiting behind another's slot writes its place once, then only to say
    it is still there (every board_module.SEEN seconds): its polls leave the board as it
    was, and a board left as it was is not written again."""
    writes: list[int] = []
    if isinstance(journal_location, Path):
        from mandao._coordination import files

        pwrite = files.os.pwrite

        def counted(fd: int, data: bytes, offset: int) -> int:
            writes.append(1)
            return pwrite(fd, data, offset)

        monkeypatch.setattr(files.os, "pwrite", counted)

        def count() -> int:
            return len(writes)
    else:
        url = journal_location

        def count() -> int:
            return int(query(url, "SELECT coalesce(sum(version), 0) FROM mandao_serials")[0][0])

    a, b = process(), process()
    assert a.try_admit("send", frozenset(), lease=60)[0] == 0
    start, before = time.monotonic(), count()
    for _ in range(20):
        assert b.try_admit("send", frozenset(), lease=60)[0] is None
    took = time.monotonic() - start
    # One write to join the line, and one per SEEN seconds the 20 asks took (none, unless
    # this machine is very slow): before, each ask wrote.
    assert count() - before <= 1 + int(took / board_module.SEEN)
    a.release(0, Change.ANSWERED, 0.01, hold=0)
    assert b.try_admit("send", frozenset(), lease=60)[0] == 0


def test_a_waiters_place_is_renewed_at_once_after_the_clock_is_set_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file board is timed by the machine's clock: set back, a waiter's place (seen
    in the future) is renewed at its next ask, so should it die then, it is dropped
    STALE seconds later by that clock, not once the clock has caught up."""
    from mandao._coordination import files

    journal = tmp_path / "journal.sqlite3"
    a, b = (FileState(journal, SN, GROUPS, FailoverPolicy(), 1) for _ in range(2))
    assert a.try_admit("send", frozenset(), lease=60)[0] == 0
    assert b.try_admit("send", frozenset(), lease=60)[0] is None
    real = time.time
    monkeypatch.setattr(files.time, "time", lambda: real() - 600)
    assert b.try_admit("send", frozenset(), lease=60)[0] is None
    raw = next(journal.parent.glob("*-serials/*")).read_bytes()
    (size,) = files._LENGTH.unpack_from(raw)
    (place,) = board_module.decode(raw[files._LENGTH.size : files._LENGTH.size + size])["line"]
    assert place[1] <= real() - 600 + 1  # renewed at the clock as it is now


def test_another_processs_request_on_a_board_of_other_host_lists_is_found_once(
    journal_location: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two boards of one serial whose host lists share a host (in another order): when a
    request of another process is out on one, the other, letting a request out, notes it
    for split.check to name, once. Its own process's leases, a lingering lease (whose, no
    one knows), another serial's board and a board with no host in common are not noted;
    nor is anything between looks (LOOK apart)."""

    def make(sn: str, groups: HostGroups, limit: int | None = None) -> BoardState:
        if isinstance(journal_location, Path):
            return FileState(journal_location, sn, groups, FailoverPolicy(), limit)
        return PostgresState(journal_location, sn, groups, FailoverPolicy(), limit)

    urls = GROUPS.urls["send"]
    reversed_ = HostGroups.pair({"send": urls[::-1]})
    apart = HostGroups.pair({"send": ("http://c.example/x.asmx",)})
    other, mine = make(SN, GROUPS), make(SN, reversed_, 1)
    unrelated = [make("SDK-TST-010-00002", reversed_), make(SN, apart)]
    for each in (other, *unrelated):
        assert each.try_admit("send", frozenset(), lease=60)[0] == 0  # a request out on each
    monkeypatch.setattr(split, "LOOK", 0.0)
    assert mine.try_admit("send", frozenset(), lease=60)[0] == 0
    assert mine.strangers == []  # every lease out is this process's own
    mine.release(0, Change.ANSWERED, 0.0, hold=0)
    other.release(0, Change.NO_ANSWER, 0.0, hold=60)  # lingering: whose, nobody knows
    for each in (other, *unrelated):  # as if they were another process's
        monkeypatch.setattr(split, "HOLDERS", split.HOLDERS - {each._holder})
    assert mine.try_admit("send", frozenset(), lease=60)[0] == 0
    assert mine.strangers == []
    mine.release(0, Change.ANSWERED, 0.0, hold=0)
    assert other.try_admit("send", frozenset(), lease=60)[0] == 0  # (no limit: beside it)
    monkeypatch.setattr(split, "LOOK", 3600.0)
    mine.looked = time.monotonic()
    assert mine.try_admit("send", frozenset(), lease=60)[0] == 0
    assert mine.strangers == []  # not looked: looked just now
    mine.release(0, Change.ANSWERED, 0.0, hold=0)
    mine.looked = -math.inf
    assert mine.try_admit("send", frozenset(), lease=60)[0] == 0
    assert mine.strangers == [other.key]
    assert other.key == f"{SN}|send={urls[0]},{urls[1]}"
    mine.release(0, Change.ANSWERED, 0.0, hold=0)
    mine.strangers.clear()
    mine.looked = -math.inf
    assert mine.try_admit("send", frozenset(), lease=60)[0] == 0
    assert mine.strangers == []  # found once


def test_a_look_passes_over_what_it_cannot_read_and_never_costs_the_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside the boards: a note that is no text, a note whose board is gone, and a board
    another process holds locked: a look passes over each (never waiting for the lock),
    still finds the board it can read, and the grant stands and is given back."""
    import fcntl

    journal = tmp_path / "j.sqlite3"
    other = FileState(journal, SN, GROUPS, FailoverPolicy(), None)
    locked = FileState(journal, SN, HostGroups.pair({"send": GROUPS.urls["send"][:1]}),
                       FailoverPolicy(), None)  # fmt: skip
    for each in (other, locked):
        assert each.try_admit("send", frozenset(), lease=60)[0] == 0
    folder = beside(journal)
    (folder / "0badnote.key").write_bytes(b"\xff\xfe not utf-8")
    (folder / "0orphan.key").write_text(f"{SN}|send=http://a.example/x.asmx", encoding="utf-8")
    held = os.open(locked._path, os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)  # as another process writing its board
    try:
        monkeypatch.setattr(split, "LOOK", 0.0)
        monkeypatch.setattr(split, "HOLDERS", split.HOLDERS - {other._holder, locked._holder})
        mine = FileState(journal, SN, HostGroups.pair({"send": GROUPS.urls["send"][::-1]}),
                         FailoverPolicy(), 1)  # fmt: skip
        assert mine.try_admit("send", frozenset(), lease=60)[0] == 0
        assert mine.strangers == [other.key]  # the locked one passed over, not waited for
        mine.release(0, Change.ANSWERED, 0.0, hold=0)
    finally:
        os.close(held)
    mine.looked = -math.inf
    assert mine.try_admit("send", frozenset(), lease=60)[0] == 0
    assert mine.strangers == [other.key, locked.key]  # unlocked, read at the next look
    (folder / mine._path.with_suffix(".key").name).unlink()
    again = FileState(journal, SN, mine.admission.groups, FailoverPolicy(), 1)
    again.try_admit("send", frozenset(), lease=60)  # opened: its note is written again
    assert mine._path.with_suffix(".key").read_text(encoding="utf-8") == mine.key


def test_a_forked_child_counts_none_of_its_parents_leases_as_its_own(tmp_path: Path) -> None:
    """After a fork the parent's holders are not the child's (split.HOLDERS), so the
    parent's requests are another process's to the child's looks."""
    parent = FileState(tmp_path / "j.sqlite3", SN, GROUPS, FailoverPolicy(), None)
    assert parent._holder in split.HOLDERS
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.write(write, b"1" if parent._holder in split.HOLDERS else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"0"
    os.close(read)
    os.waitpid(pid, 0)


def test_processes_of_another_max_in_flight_each_warn_once_naming_both(
    process: Make, caplog: pytest.LogCaptureFixture
) -> None:
    """Each lease says the max_in_flight it went out under: a process that sees another's
    on the board says so once, naming both, the one with the higher limit (whose extra
    requests the gateway refuses) as well as the other; a lease left to run out after no
    answer says it too. Processes of one limit say nothing."""
    wide, same = process(3), process(3)
    assert wide.try_admit("send", frozenset(), lease=60)[0] == 0
    assert same.try_admit("send", frozenset(), lease=60)[0] == 0
    wide.release(0, Change.ANSWERED, 0.01, hold=0)
    same.release(0, Change.ANSWERED, 0.01, hold=0)
    assert "max_in_flight" not in caplog.text
    narrow = process(1)
    assert narrow.try_admit("send", frozenset(), lease=60)[0] == 0
    for _ in range(2):
        assert wide.try_admit("send", frozenset(), lease=60)[0] == 0  # past the narrow's 1
    narrow.release(0, Change.ANSWERED, 0.01, hold=0)
    for _ in range(2):
        assert narrow.try_admit("send", frozenset(), lease=60)[0] is None  # 2 out
    said = [r.getMessage() for r in caplog.records if "max_in_flight" in r.getMessage()]
    assert said == [
        f"serial {SN}: a request of another process of the serial went out under "
        f"max_in_flight={there}, and this process uses max_in_flight={here} (its lease is on "
        "the serial's shared board): the gateway answers -18 to requests past what it "
        "allows the serial. Give every Client of the serial the same max_in_flight (one "
        "mandao.toml)"
        for there, here in ((1, 3), (3, 1))
    ]
    caplog.clear()
    for _ in range(2):
        wide.release(0, Change.ANSWERED, 0.01, hold=0)
    assert narrow.try_admit("send", frozenset(), lease=60)[0] == 0
    narrow.release(0, Change.NO_ANSWER, 0.0, hold=60)
    unlimited = process(None)
    assert unlimited.try_admit("send", frozenset(), lease=60)[0] == 0  # no limit: beside it
    (warned,) = [r.getMessage() for r in caplog.records if "max_in_flight" in r.getMessage()]
    assert "under max_in_flight=1, and this process uses max_in_flight=None (" in warned


def test_a_board_an_earlier_mandao_wrote_reads_its_leases_limits_unknown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A board of an earlier mandao (no limits after the line) keeps its leases, their
    limits unknown: no warning of another max_in_flight, and written back it reads."""
    head = struct.Struct("<iddiBQHH").pack(0, math.nan, math.nan, 0, False, 2, 1, 0)
    lease = struct.Struct("<Qhdq").pack(1, 0, time.time() + 60, 12345)
    state = FileState(tmp_path / "j.sqlite3", SN, GROUPS, FailoverPolicy(), 1)
    state._path.parent.mkdir()
    state._path.write_bytes(struct.pack("<I", len(head + lease)) + head + lease)
    assert state.try_admit("send", frozenset(), lease=60)[0] is None  # its lease holds the slot
    assert "max_in_flight" not in caplog.text
    (kept,) = board_module.decode(state._path.read_bytes()[4:])["leases"]
    assert kept[:2] == [1, 0]
    assert kept[3:] == [12345, board_module.UNKNOWN]
