"""The row type of the result-code table and the two enums its columns use.

A module of its own, importing nothing of mandao's, so that both the table
(:mod:`mandao._codes`, whose ``error`` column holds exception classes) and the exceptions
(:mod:`mandao._errors`, which carry a row) can import it without importing each other.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import NamedTuple, Protocol

__all__ = ["Category", "CodeInfo", "ErrorClass", "RetryRule", "row"]


class Category(enum.Enum):
    """What kind of result a code is, i.e. what the caller should do about it."""

    SUCCESS = "success"  # nothing to do
    ACCOUNT = "account"  # fix serial, password, registration, permissions or IP binding
    BALANCE = "balance"  # top up
    INVALID = "invalid"  # fix the request
    RATE_LIMITED = "rate_limited"  # wait, then retry on the same host
    DUPLICATE = "duplicate"  # already submitted: treat as sent
    CONCURRENT = "concurrent"  # one serial in use on two hosts at once
    INTERNAL = "internal"  # gateway-side failure: the outcome is unknown
    UNKNOWN = "unknown"  # a code no table knows


class RetryRule(enum.Enum):
    """Whether the client may retry a request that got this code (the delivery-safety column).

    No member allows another host: a returned code proves a host took the request, and
    only a provably unsent request may go to another host (host switching is decided from
    transport failures, never from codes).
    """

    NO = "no"  # raise as decoded; retrying cannot change the answer
    SAME_HOST = "same_host"  # wait with jittered backoff, retry on the same host
    NEVER = "never"  # the outcome is unknown: a retry could send the SMS twice


class _Printer(Protocol):
    """What IPython passes to ``_repr_pretty_`` (only its ``text`` is used)."""

    def text(self, text: str) -> None: ...


class ErrorClass(Protocol):
    """What the ``error`` column holds: a :class:`~mandao.GatewayError` class, made from a row."""

    __name__: str

    def __call__(
        self,
        info: CodeInfo,
        *,
        raw: str | None = ...,
        host: str | None = ...,
        operation: str | None = ...,
        rrid: str | None = ...,
        recipients: Sequence[str] = ...,
    ) -> Exception: ...


class CodeInfo(NamedTuple):
    """One row of the result-code table (a named tuple: a table row, cheap to load).

    Attributes:
        code: the numeric result (``-20``).
        name: a short identifier (``"DUPLICATE_SUBMISSION"``).
        chinese: the vendor's 返回值说明, verbatim.
        hint_zh: the vendor's 问题描述, verbatim; ``""`` where it gives none.
        english: an English gloss of ``chinese``.
        hint_en: what the caller should do next, in one sentence.
        category: what kind of result this is.
        retry: whether the client may retry, on the same host (no code allows another).
        error: the exception class raised for this code; None for a success.
        source: where the row comes from: ``"vendor"``, ``"public-clients"`` or ``"mandao"``.
        known: ``False`` for a value that is not in the table.

    Example::

        >>> import mandao
        >>> info = mandao.explain(-20)
        >>> print(info.english)
        Same mobile number and same content submitted again.
        >>> info.error.__name__
        'DuplicateSubmission'
    """

    code: int
    name: str
    chinese: str
    hint_zh: str
    english: str
    hint_en: str
    category: Category
    retry: RetryRule
    error: ErrorClass | None
    source: str
    known: bool = True

    def __str__(self) -> str:
        head = f"{self.code}  {self.name}  ({self.category.value}; retry: {self.retry.value})"
        if not self.known:
            head += "  [not in the code table]"
        lines = [head, f"  {self.chinese}"]
        if self.hint_zh:
            lines.append(f"  {self.hint_zh}")
        lines += [f"  {self.english}", f"  → {self.hint_en}"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        # One line with the vendor's Chinese text: what ``mandao.explain(-20)`` shows at
        # the REPL. print() (``__str__``) gives every column and the advice.
        known = "" if self.known else ", known=False"
        chinese = self.chinese if len(self.chinese) <= 24 else self.chinese[:23] + "…"
        return (
            f"<CodeInfo {self.code} {self.name} ({self.category.value}, "
            f"retry {self.retry.value}{known}): {chinese}>"
        )

    def _repr_pretty_(self, printer: _Printer, cycle: bool) -> None:
        """IPython and Jupyter show the whole row, advice included (as ``print`` does)."""
        printer.text(str(self))


def row(
    code: int,
    name: str,
    chinese: str,
    hint_zh: str,
    english: str,
    hint_en: str,
    category: Category,
    error: ErrorClass | None,
    retry: RetryRule = RetryRule.NO,
    source: str = "vendor",
) -> CodeInfo:
    """A known row of the table; most rows are the vendor's, with no retry."""
    return CodeInfo(code, name, chinese, hint_zh, english, hint_en, category, retry, error, source)
