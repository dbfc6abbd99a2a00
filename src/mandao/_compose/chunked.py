"""Passes over a big send cut into pieces, so that composing it in a thread lets others run.

A C-level pass (``str.join``, ``str.encode``, a ``map`` drained by ``list``, ``max``)
holds the GIL from its start to its end: over a million items, tens of milliseconds in
which no other thread runs, not even an event loop whose big send is being composed in a
worker thread (``AsyncClient`` does so). Between two pieces of :data:`CHUNK` items the
interpreter can switch threads; one piece takes well under a millisecond, and cutting a
million into twenty costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

__all__ = ["CHUNK", "join", "listed", "pieces"]

T = TypeVar("T")

#: The most items one C-level pass takes at a time.
CHUNK = 50_000


def pieces(items: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (:data:`CHUNK` by default; the last one shorter).

    >>> list(pieces(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    rest, size = iter(items), size or CHUNK  # read when called: tests lower CHUNK
    while piece := list(islice(rest, size)):
        yield piece


def listed(items: Iterable[T]) -> list[T]:
    """``list(items)``, :data:`CHUNK` items at a time.

    >>> listed(map(str, range(3)))
    ['0', '1', '2']
    """
    out: list[T] = []
    for piece in pieces(items):
        out += piece
    return out


def join(separator: str, items: Iterable[str]) -> str:
    """``separator.join(items)``, :data:`CHUNK` items at a time.

    >>> join(",", iter(["a", "b", "c"]))
    'a,b,c'
    """
    if isinstance(items, (list, tuple)) and len(items) <= CHUNK:
        return separator.join(items)
    return separator.join([separator.join(piece) for piece in pieces(items)])
