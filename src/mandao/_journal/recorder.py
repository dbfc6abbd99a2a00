"""How the client writes the journal: one recorder per request.

The client calls :meth:`Recorder.begin` just before each attempt leaves (on each host and
each retry) and :meth:`Recorder.end` once its outcome is known. ``begin`` failing stops the
request (nothing is sent without its row); ``end`` failing is logged and the send's result
stands: the row stays ``pending`` and ``mandao journal pending`` shows it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence

from .._errors import JournalError, ValidationError
from .._log import logger
from .content import segments_of, texts_of
from .journal import Journal, Outcome
from .sent import Unseen

__all__ = ["JOURNALED", "Recorder", "journal_of"]


#: Operations that change something at the gateway; only these are journaled.
JOURNALED = frozenset({"mdsmssend", "mdgxsend", "Register", "UnRegister"})


def journal_of(spec: Journal | str | os.PathLike[str] | bool | None) -> Journal | None:
    """The journal a ``Client(journal=...)`` value names: True for the default location, a
    path for an SQLite file, a ``postgresql://`` URL for a PostgreSQL database.

    Raises:
        ValidationError: ``spec`` is none of those.
    """
    if spec is None or spec is False:
        return None
    if spec is True:
        return Journal()
    if isinstance(spec, Journal):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        return Journal(spec)
    raise ValidationError(
        f"expected a path, a postgresql:// URL, a Journal, True or None, got {type(spec).__name__}",
        argument="journal",
    )


class Recorder:
    """Journal rows of one request: a pending row per attempt, then its outcome."""

    __slots__ = (
        "_attempt",
        "_batch",
        "_began",
        "_fields",
        "_journal",
        "_op",
        "_protocol",
        "_segments",
        "_texts",
        "_to",
        "_unseen",
    )

    def __init__(
        self,
        journal: Journal | None,
        operation: str,
        protocol: str,
        fields: Mapping[str, str],
        recipients: Sequence[str],
        batch: tuple[str, int, int] | None = None,
        unseen: Unseen | None = None,
    ) -> None:
        """``unseen``: the duplicate guard's second look (``Journal.begin``)."""
        self._journal = journal if operation in JOURNALED else None
        self._unseen = unseen
        self._op, self._protocol, self._fields, self._to = operation, protocol, fields, recipients
        self._batch = batch or ("", 0, 1)
        self._attempt: int | None = None
        self._began = 0.0
        # Decoded once per request, not once per attempt (a failover makes several).
        content = fields.get("content", "") if self._journal is not None else ""
        self._texts: str | list[str] = texts_of(operation, content) if content else ""
        self._segments = segments_of(self._texts) if self._texts else 0

    def begin(self, host: str) -> None:
        """Write the ``pending`` row of an attempt to ``host``; raises JournalError, or
        ConcurrentDuplicate (another call just sent one of its numbers the same text)."""
        if self._journal is None:
            return
        fields, texts = self._fields, self._texts
        self._attempt = self._journal.begin(
            sn=fields.get("sn", ""), operation=self._op, protocol=self._protocol, host=host,
            rrid=fields.get("rrid", ""), recipients=self._to, content=texts,
            segments=self._segments, call_id=self._batch[0],
            batch_index=self._batch[1], batch_total=self._batch[2], unseen=self._unseen,
        )  # fmt: skip
        self._began = time.monotonic()

    def end(self, outcome: Outcome, *, result: str = "", detail: str = "") -> None:
        """Write (commit) the outcome of the attempt begun last, if any, before the send
        returns or raises; a journal error is logged, not raised (the send happened)."""
        if self._journal is None or self._attempt is None:
            return
        attempt, self._attempt = self._attempt, None
        try:
            self._journal.complete(
                attempt, outcome, result=result, detail=detail,
                latency=time.monotonic() - self._began,
            )  # fmt: skip
        except JournalError as exc:
            logger.error("journal: the outcome of row %d (%s) was not written: %s",
                         attempt, outcome, exc)  # fmt: skip
