"""A serial's admission board for the processes of one machine: a file beside the journal.

Beside an SQLite journal ``journal.sqlite3`` is a folder ``journal.sqlite3-serials``, with
one small file per serial and host lists. A process changes a board under an exclusive
``flock`` of its file, which the kernel lets go when the process dies, however it dies;
the leases on the board run out on their own. The board is volatile state, never worth a
sync to disk: after a crash of the machine, every lease on it has run out anyway. The
machine's wall clock times the leases (every process of the machine reads the same one).

Writing a board is one ``pwrite`` of its length and its text from the start of the file,
so a process killed in the middle leaves the old board or the new one; a file that reads
as no board (cut short by a full disk, say) starts afresh.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
import time
from pathlib import Path

from .._core.failover import FailoverPolicy
from .._core.hosts import HostGroups
from .._errors import JournalError
from .board import BoardState, Step, T, decode, encode, fresh

__all__ = ["FileState", "beside"]

_LENGTH = struct.Struct("<I")
#: The most a board may take (a line of some thousand processes).
_MOST = 1 << 20
#: What one read takes of a board file first: a board of a few dozen leases and waiters.
_READ = 4096


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

    def restart(self) -> None:
        self._fd = -1  # the parent's descriptor: its lock is the parent's, never used here
        super().restart()

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
        return fd

    def _update(self, step: Step[T]) -> T:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            raise JournalError(f"cannot lock the admission file {self._path}: {exc}") from exc
        try:
            data = os.pread(fd, _READ, 0)  # a board's usual size in one read
            board, stored = fresh(), b""
            if len(data) >= _LENGTH.size:
                (size,) = _LENGTH.unpack_from(data)
                end = _LENGTH.size + size
                if len(data) < end <= _LENGTH.size + _MOST:
                    data += os.pread(fd, end - len(data), len(data))
                if 0 < size <= _MOST:
                    stored = data[_LENGTH.size : end]
                    board = decode(stored)
            board, answer = step(board, time.time())
            data = encode(board)
            if data != stored:  # a waiter asking again changes nothing, mostly
                os.pwrite(fd, _LENGTH.pack(len(data)) + data, 0)
            return answer
        except OSError as exc:  # a full disk, say
            raise JournalError(f"cannot write the admission file {self._path}: {exc}") from exc
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
