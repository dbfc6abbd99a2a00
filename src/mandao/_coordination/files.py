"""A serial's admission board for the processes of one machine: a file beside the journal.

Beside an SQLite journal ``journal.sqlite3`` is a folder ``journal.sqlite3-serials``, with
one small file per serial and host lists. A process changes a board under an exclusive
``flock`` of its file, which the kernel lets go when the process dies, however it dies;
the leases on the board run out on their own. The board is volatile state, never worth a
sync to disk: after a crash of the machine, every lease on it has run out anyway. The
machine's wall clock times the leases (every process of the machine reads the same one).

Writing a board is one ``pwrite`` of its length and its text from the start of the file,
so a process killed in the middle leaves the old board or the new one; a file that reads
as no board (cut short by a full disk, say) starts afresh. Beside each board is a note of
its serial and host lists (``NAME.key``): how a process finds the boards of its serial
under other host lists, whose requests do not wait for its own (``split.look``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import struct
import time
from pathlib import Path

from .._core.failover import FailoverPolicy
from .._core.hosts import HostGroups
from .._errors import JournalError
from .board import Board, BoardState, Step, T, decode, encode, fresh

__all__ = ["FileState", "beside"]

_LENGTH = struct.Struct("<I")
#: The most a board may take (a line of some thousand processes).
_MOST = 1 << 20
#: What one read takes of a board file first: a board of a few dozen leases and waiters.
_READ = 4096
#: Beside each board file, a note of its key (serial and host lists), the file's name with
#: this suffix: what another process reads to know whose board it is.
_NOTE = ".key"


def _read(fd: int) -> tuple[Board, bytes]:
    """The board in the file ``fd`` (locked), and its bytes (none: a fresh board)."""
    data = os.pread(fd, _READ, 0)  # a board's usual size in one read
    if len(data) >= _LENGTH.size:
        (size,) = _LENGTH.unpack_from(data)
        end = _LENGTH.size + size
        if len(data) < end <= _LENGTH.size + _MOST:
            data += os.pread(fd, end - len(data), len(data))
        if 0 < size <= _MOST:
            stored = data[_LENGTH.size : end]
            return decode(stored), stored
    return fresh(), b""


def _peek(path: Path) -> Board | None:
    """Another process's board at ``path``; None when it is gone or being written (a
    look never waits for another process)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return _read(fd)[0]
    except OSError:
        return None
    finally:
        os.close(fd)  # its lock with it


def beside(journal: Path) -> Path:
    """The folder of admission boards of the journal at ``journal``."""
    return journal.with_name(journal.name + "-serials")


class FileState(BoardState):
    """One serial's admission board in a file beside the SQLite journal at ``journal``."""

    def __init__(
        self, journal: Path, sn: str, groups: HostGroups, policy: FailoverPolicy,
        limit: int | None,
    ) -> None:  # fmt: skip
        super().__init__(sn, groups, policy, limit)
        name = hashlib.sha256(self._key.encode()).hexdigest()[:24]
        self._path = beside(journal) / name
        self._fd = -1
        self._pid = -1
        self._notes: dict[str, str] = {}  # other boards' note names -> their keys

    def restart(self) -> None:
        self._fd = -1  # the parent's descriptor: its lock is the parent's, never used here
        super().restart()

    def others(self) -> list[tuple[str, Board, float]]:
        found: list[tuple[str, Board, float]] = []
        for note in self._path.parent.glob("*" + _NOTE):
            key = self._notes.get(note.name)
            if key is None:  # written whole (renamed into place), and never changed: read once
                try:
                    key = self._notes[note.name] = note.read_text(encoding="utf-8")
                except (OSError, ValueError):
                    continue  # gone, or no note of ours: passed over
            if key.startswith(self._serial) and key != self._key:
                board = _peek(note.with_suffix(""))
                if board is not None:
                    found.append((key, board, time.time()))
        return found

    def _open(self) -> int:
        if self._fd >= 0 and self._pid == os.getpid():
            return self._fd
        try:
            # Folders mandao makes are the user's alone, the journal's own folder too
            # (made here when the journal has not written yet).
            missing = [f for f in (self._path.parent, *self._path.parents[1:]) if not f.exists()]
            for folder in reversed(missing):
                folder.mkdir(mode=0o700, exist_ok=True)
                folder.chmod(0o700)
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise JournalError(
                f"cannot open the serial's admission file {self._path}: {exc}; check that "
                "the journal's folder is writable"
            ) from exc
        self._fd, self._pid = fd, os.getpid()
        # Whose board it is, for split.look in other processes: written whole, once (again
        # if it is gone or not this board's: removed by hand, or cut short by a full disk).
        note = self._path.with_suffix(_NOTE)
        with contextlib.suppress(OSError, ValueError):
            if not note.exists() or note.read_text(encoding="utf-8") != self._key:
                made = note.with_suffix(f".{os.getpid()}.tmp")
                made.write_text(self._key, encoding="utf-8")
                made.replace(note)
        return fd

    def _update(self, step: Step[T]) -> T:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            raise JournalError(f"cannot lock the admission file {self._path}: {exc}") from exc
        try:
            board, stored = _read(fd)
            board, answer = step(board, time.time())
            data = encode(board)
            if data != stored:  # a waiter asking again changes nothing, mostly
                os.pwrite(fd, _LENGTH.pack(len(data)) + data, 0)
            return answer
        except OSError as exc:  # a full disk, say
            raise JournalError(f"cannot write the admission file {self._path}: {exc}") from exc
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
