"""Recipients: normalising, checking and de-duplicating mobile numbers, and holding them.

A send to a million numbers keeps them as :class:`Numbers`: one comma-joined string,
which is exactly each batch's ``mobile`` field. Slicing a batch out of it copies text,
not a million references; the collector never walks it; and it frees the caller's
strings once the call is over.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress
from types import ModuleType
from typing import Any, overload

from .._errors import InvalidRecipients, ValidationError
from . import chunked

__all__ = [
    "Numbers",
    "Recipients",
    "collect_mobiles",
    "joined_if_clean",
    "load_numpy",
    "normalize_mobiles",
    "normalized",
    "repeats",
]

_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
#: Spaces, parentheses, dots, and dashes of every kind (Word turns "-" into "–").
_SEPARATORS = re.compile(r"[\s\-().\u2010-\u2015\u2212]")
_PREFIXES = ("+86", "0086", "86")
_DIGITS = b"0123456789"
#: Each number takes 11 characters and a comma in the joined text.
_W = 12
#: How many numbers make :func:`repeats` use numpy, when installed: about 10 ms of set
#: work here, while numpy's import (0.05-0.15 s) is paid once per process.
BULK = 50_000


class Numbers(Sequence[str]):
    """11-digit mobile numbers, in order: an immutable sequence of ``str``.

    Held as one comma-joined string (:attr:`joined`, the gateway's ``mobile`` field), so a
    million numbers take 12 MB and slicing copies text. It compares equal to a tuple or a
    list of the same numbers and prints like a tuple (for ``json.dumps``, give it
    ``list(numbers)``).

    >>> numbers = Numbers(["13800138000", "13900139000"])
    >>> numbers
    ('13800138000', '13900139000')
    >>> numbers[1], len(numbers), numbers == ("13800138000", "13900139000")
    ('13900139000', 2, True)
    >>> numbers.joined
    '13800138000,13900139000'
    >>> Numbers(["138"])
    Traceback (most recent call last):
    ...
    mandao._errors.ValidationError: numbers: holds 11-digit mainland mobiles only; ...

    Raises:
        ValidationError: an entry is not an 11-digit mainland mobile (``argument="numbers"``).
    """

    __slots__ = ("_joined", "_len")

    def __init__(self, numbers: Iterable[str] = ()) -> None:
        items = numbers if isinstance(numbers, (list, tuple)) else list(numbers)
        joined = joined_if_clean(items) if items else ""
        if joined is None:
            raise ValidationError(
                "holds 11-digit mainland mobiles only; normalise them with "
                "mandao.normalize_mobiles",
                argument="numbers",
            )
        self._joined = joined
        self._len = len(items)

    @classmethod
    def _of(cls, joined: str) -> Numbers:
        """Numbers over ``joined``, already known to be 11-digit numbers and commas."""
        self = cls.__new__(cls)
        self._joined = joined
        self._len = (len(joined) + 1) // _W
        return self

    @property
    def joined(self) -> str:
        """The numbers joined by commas, as the gateway's ``mobile`` field takes them."""
        return self._joined

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Numbers: ...
    def __getitem__(self, index: int | slice) -> str | Numbers:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._len)
            if step != 1:
                return Numbers(tuple(self)[index])
            if stop <= start:
                return Numbers._of("")
            return Numbers._of(self._joined[_W * start : _W * stop - 1])
        position = index.__index__()
        if position < 0:
            position += self._len
        if not 0 <= position < self._len:
            raise IndexError("Numbers index out of range")
        return self._joined[_W * position : _W * position + 11]

    def __iter__(self) -> Iterator[str]:
        if self._len <= chunked.CHUNK:
            return iter(self._joined.split(",") if self._joined else ())
        return self._pieces()

    def _pieces(self) -> Iterator[str]:
        """The numbers, split a piece at a time (see :mod:`.chunked`)."""
        step = _W * chunked.CHUNK
        for start in range(0, len(self._joined), step):
            yield from self._joined[start : start + step - 1].split(",")

    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        """The first position of ``value`` (within ``start``:``stop``).

        Raises ValueError when absent, as ``tuple.index`` does: the sequence protocol's
        answer (``in`` relies on it), not a refusal of an argument.
        """
        start, stop, _ = slice(start, stop).indices(self._len)
        if isinstance(value, str) and len(value) == 11:
            at = self._joined.find(value, _W * start, _W * stop)
            while at != -1:
                if at % _W == 0:
                    return at // _W
                at = self._joined.find(value, at + 1, _W * stop)
        raise ValueError(f"{value!r} is not in Numbers")

    def __contains__(self, value: object) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    def count(self, value: object) -> int:
        """How many times ``value`` occurs."""
        return sum(1 for number in self if number == value)

    def __add__(self, other: object) -> Numbers:
        if not isinstance(other, (Numbers, tuple, list)):
            return NotImplemented
        tail = other if isinstance(other, Numbers) else Numbers(other)
        if not (self._joined and tail._joined):
            return self if tail._joined == "" else tail
        return Numbers._of(f"{self._joined},{tail._joined}")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Numbers):
            return self._joined == other._joined
        if isinstance(other, (tuple, list)):
            return len(other) == self._len and tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        # Equal to a tuple of the same numbers, so it hashes as that tuple does.
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return Numbers._of, (self._joined,)


@dataclass(frozen=True)
class Recipients:
    """The numbers of one call, normalised, with what was left out and why.

    Attributes:
        numbers: 11-digit mobiles, in order, each once.
        skipped: ``(position, value, reason)`` of entries left out (``skip_invalid=True``).
        duplicates: ``(position, number)`` of entries already seen earlier in the call.
    """

    numbers: Numbers
    skipped: tuple[tuple[int, str, str], ...] = ()
    duplicates: tuple[tuple[int, str], ...] = field(default=())


def normalize_mobiles(mobiles: str | Iterable[str], *, unique: bool = True) -> Numbers:
    """Recipients as 11-digit mainland mobiles, in order, each once (unless ``unique=False``).

    Accepts one number or any iterable of numbers; reads full-width digits and signs as
    ASCII (NFKC); removes spaces, dots, parentheses, dashes and a ``+86``, ``0086`` or
    ``86`` prefix. Raises :class:`~mandao.InvalidRecipients` naming every
    bad entry and its position, or :class:`~mandao.ValidationError` for an empty list.

    >>> normalize_mobiles(["138 0013 8000", "+86 139-0013-9000", "13800138000"])
    ('13800138000', '13900139000')
    >>> normalize_mobiles(["＋８６ １５０ ００１５ ００００", "(0086) 186.0000.0000"])
    ('15000150000', '18600000000')
    """
    if not unique:
        return normalized(mobiles, skip_invalid=False)[0]
    return collect_mobiles(mobiles).numbers


def collect_mobiles(mobiles: str | Iterable[str], *, skip_invalid: bool = False) -> Recipients:
    """Normalise, validate and de-duplicate ``mobiles``; see :class:`Recipients`.

    Raises :class:`~mandao.InvalidRecipients` for bad entries (unless ``skip_invalid``), and
    :class:`~mandao.ValidationError` when no number is left.

    >>> collect_mobiles(["13800138000", "x", "13800138000"], skip_invalid=True)
    Recipients(numbers=('13800138000',), skipped=((1, 'x', ...),), duplicates=((2, '13800138000'),))
    """
    numbers, items, skipped, positions = normalized(mobiles, skip_invalid=skip_invalid)
    later = repeats(numbers, items)
    if not later:
        return Recipients(numbers, skipped, ())
    keep = bytearray(b"\x01") * len(items)
    for index in later:
        keep[index] = 0
    found = tuple((positions[i] if positions else i, items[i]) for i in later)
    return Recipients(Numbers._of(chunked.join(",", compress(items, keep))), skipped, found)


def repeats(numbers: Numbers, items: Sequence[str]) -> list[int]:
    """Ascending indexes of the entries of ``items`` (the strings of ``numbers``) that equal
    an earlier entry.

    From :data:`BULK` numbers on, and with numpy installed (the ``bulk`` extra), by sorting
    packed integer keys: about ten times cheaper than a set of a million new strings, whose
    hashing and scattered inserts are most of the cost of composing a big send.
    """
    if len(items) >= BULK:
        found = _repeats_sorted(numbers.joined, len(items))
        if found is not None:
            return found
    if len(set(items)) == len(items):  # the common case: a set is the cheapest check
        return []
    seen: set[str] = set()
    later = []
    for index, number in enumerate(items):
        if number in seen:
            later.append(index)
        else:
            seen.add(number)
    return later


def _repeats_sorted(joined: str, n: int) -> list[int] | None:
    """:func:`repeats` over clean ``joined`` numbers with numpy; None without numpy."""
    np = load_numpy()
    if np is None:
        return None
    keys = np.empty(n, dtype=np.uint64)
    size = chunked.CHUNK
    for start in range(0, n, size):
        stop = min(start + size, n)
        _pack(np, joined[_W * start : _W * stop - 1].encode("ascii"), keys[start:stop])
    # numpy's sorts and comparisons release the GIL: they need no cutting up.
    ordered = np.sort(keys)
    if not (ordered[1:] == ordered[:-1]).any():
        return []
    order = np.argsort(keys, kind="stable")  # equal keys keep their order: first one wins
    ordered = keys[order]
    later = order[1:][ordered[1:] == ordered[:-1]]
    later.sort()
    return [int(index) for index in later]


def load_numpy() -> ModuleType | None:
    """numpy (the ``bulk`` extra), imported; None when it is not installed.

    For a driver that composes big sends off its hot path, to call ahead of the first one
    (AsyncClient's worker thread): numpy's import takes 50-150 ms once per process, and
    its thousands of new long-lived objects can set off a full garbage collection, which
    in the middle of a big send walks the caller's million numbers with the GIL held.
    """
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _pack(np: Any, raw: bytes, out: Any) -> None:
    """Write into ``out`` the key of each clean number in ``raw`` (11 digits and a comma
    each, the last comma left off)."""
    n = len(out)
    # Each number is "1" and ten digits, and a digit's low four bits are its value. Key:
    # the eight bytes at 3..10 as one integer with their high nibbles (all 3) cleared, the
    # digits at 1 and 2 moved into two of those nibbles: equal keys, equal numbers.
    low = np.ndarray((n,), dtype=np.uint64, buffer=raw, offset=3, strides=(_W,))
    high = np.ndarray((n,), dtype=np.uint16, buffer=raw, offset=1, strides=(_W,))
    np.bitwise_and(low, np.uint64(0x0F0F0F0F0F0F0F0F), out=out)
    out |= (high & np.uint16(0x0F0F)).astype(np.uint64) << np.uint64(4)


def joined_if_clean(items: Sequence[str]) -> str | None:
    """``items`` joined with commas when every item already is an 11-digit mobile, else None.

    C-level passes over the joined text instead of a regex per item, a piece at a time
    (see :mod:`.chunked`): once the digits are deleted, exactly n-1 commas must be left,
    one at every 12th position; so no item holds a comma and each is the 11 digits between
    two of them.
    """
    if len(items) <= chunked.CHUNK:
        return _clean_piece(items)
    done = []
    for piece in chunked.pieces(items):
        text = _clean_piece(piece)
        if text is None:
            return None
        done.append(text)
    return ",".join(done)


def _clean_piece(items: Sequence[str]) -> str | None:
    """:func:`joined_if_clean` of one piece."""
    try:
        joined = ",".join(items)
    except TypeError:
        return None
    n = len(items)
    if len(joined) != _W * n - 1 or not joined.isascii():
        return None
    raw = joined.encode("ascii")
    commas = b"," * (n - 1)
    clean = (
        raw.translate(None, _DIGITS) == commas
        and raw[11::_W] == commas
        and raw[0::_W] == b"1" * n
        and not raw[1::_W].translate(None, b"3456789")
    )
    return joined if clean else None


def normalized(
    mobiles: str | Iterable[str], *, skip_invalid: bool
) -> tuple[Numbers, Sequence[str], tuple[tuple[int, str, str], ...], list[int]]:
    """Normalised and checked, not de-duplicated: (numbers; the same as a sequence of
    ``str``, the input itself when it was already clean, cheaper to hash than
    :class:`Numbers`; skipped entries; each number's position in the input, [] when they
    are 0..n-1)."""
    if isinstance(mobiles, str):
        mobiles = (mobiles,)
    elif not isinstance(mobiles, Iterable):
        raise ValidationError(
            f"expected a mobile number or an iterable of them, got {type(mobiles).__name__}",
            argument="mobiles",
        )
    items = mobiles if isinstance(mobiles, (list, tuple)) else chunked.listed(mobiles)
    joined = joined_if_clean(items) if items else None
    if joined is not None:
        return Numbers._of(joined), items, (), []
    numbers: list[str] = []
    positions: list[int] = []
    bad: list[tuple[int, str, str]] = []
    for position, raw in enumerate(items):
        if not isinstance(raw, str):
            bad.append((position, repr(raw), f"not a string ({type(raw).__name__})"))
            continue
        number = raw if _MOBILE.fullmatch(raw) else _clean(raw)
        if number is None:
            bad.append((position, raw, "not an 11-digit mainland mobile (1[3-9]xxxxxxxxx)"))
        else:
            numbers.append(number)
            positions.append(position)
    if bad and not skip_invalid:
        raise InvalidRecipients(tuple(bad))
    if not numbers:
        raise ValidationError(
            "no valid recipients given" if bad else "no recipients given", argument="mobiles"
        )
    return Numbers._of(chunked.join(",", numbers)), numbers, tuple(bad), positions if bad else []


def _clean(raw: str) -> str | None:
    # NFKC turns the full-width digits, plus and brackets that Chinese input methods type
    # into ASCII. Nothing is guessed beyond that: phonenumbers, which the issue suggests,
    # pulls a number out of any text and reads letters as keypad digits, so a typo would
    # reach somebody else's phone instead of being reported.
    number = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    for prefix in _PREFIXES:
        if number.startswith(prefix) and len(number) == len(prefix) + 11:
            number = number[len(prefix) :]
            break
    return number if _MOBILE.fullmatch(number) else None
