"""What a decoder returns: the values it read, and the lines it could not read, kept whole."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Decoded", "Unreadable", "is_empty", "refuse_code"]

T = TypeVar("T")

_CODE = re.compile(r"\s*-[0-9]+\s*")


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A line or record that could not be decoded: kept as it came, with what was wrong.

    >>> Unreadable("garbage", "expected 5 comma-separated fields, found 1").reason
    'expected 5 comma-separated fields, found 1'
    """

    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class Decoded(Generic[T]):
    """The values decoded from one result, in order, and the parts that could not be read.

    >>> Decoded((), ()).items
    ()
    """

    items: tuple[T, ...]
    unreadable: tuple[Unreadable, ...]


def refuse_code(raw: str, what: str) -> None:
    """Raise ValueError when ``raw`` is a whole negative result code (``-2``, ``-16``).

    Codes are the caller's to decode (``mandao._codes.decode``, which knows the table and
    raises the right exception); a decoder handed one is being misused.
    """
    if raw[:1] in "- \t\r\n" and _CODE.fullmatch(raw):
        raise ValueError(
            f"{what}: {raw.strip()!r} is a result code, not data; decode result codes first"
        )


def is_empty(raw: str, empty: frozenset[str]) -> bool:
    """True when the whole result, stripped, is one of ``empty`` ("nothing waits")."""
    return len(raw) < 64 and raw.strip() in empty
