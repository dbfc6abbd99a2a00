"""The send journal: a tamper-evident log of every attempt to send, in SQLite or PostgreSQL.

What other modules import, from here (the submodules are free to change):

- :mod:`.columns`: the one list of the ``entries`` table's columns (:class:`Entry`), from
  which its schema, INSERT, SELECTs and hashed columns are made.
- :mod:`.database`: the seam between the journal's logic and its two backends,
  :mod:`.sqlite` (the file; :mod:`.store` opens and migrates it) and :mod:`.postgresql`.
- :mod:`.schema`: the tables, the schema version and the migrations of both.
- :mod:`.chain`: hashing, appending, pruning, verifying.
- :mod:`.sent`: the duplicate guard's index of numbers and texts sent.
- :mod:`.attempt`: an attempt as read back; :mod:`.journal`: :class:`Journal`.
- :mod:`.recorder`: the :class:`Recorder` the send path writes through.
- :mod:`.guards`: :class:`DuplicateGuard` and :func:`registration_guard`.
- :mod:`.exports`, :mod:`.ledger`: exports for an inquiry, reconciling with a ledger.
"""

from .._errors import JournalError
from .attempt import CHINA, Attempt, Resolution, instant
from .chain import GENESIS, Problem, PruneResult, Verification, row_hash
from .columns import HASHED, Column, Entry
from .content import mask
from .database import label_of
from .exports import FIELDS, export, export_inbound, rows
from .guards import (
    REGISTRATIONS_PER_DAY,
    DuplicateGuard,
    DuplicateWarning,
    registration_guard,
    screen,
)
from .inbound import Suppression
from .journal import OUTCOMES, RETENTION, Journal, Outcome
from .ledger import Reconciliation, read_ledger, reconcile
from .recorder import JOURNALED, Recorder, journal_of
from .schema import SCHEMA_VERSION
from .store import default_journal_location, default_journal_path

__all__ = [
    "CHINA",
    "FIELDS",
    "GENESIS",
    "HASHED",
    "JOURNALED",
    "OUTCOMES",
    "REGISTRATIONS_PER_DAY",
    "RETENTION",
    "SCHEMA_VERSION",
    "Attempt",
    "Column",
    "DuplicateGuard",
    "DuplicateWarning",
    "Entry",
    "Journal",
    "JournalError",
    "Outcome",
    "Problem",
    "PruneResult",
    "Reconciliation",
    "Recorder",
    "Resolution",
    "Suppression",
    "Verification",
    "default_journal_location",
    "default_journal_path",
    "export",
    "export_inbound",
    "instant",
    "journal_of",
    "label_of",
    "mask",
    "read_ledger",
    "reconcile",
    "registration_guard",
    "row_hash",
    "rows",
    "screen",
]
