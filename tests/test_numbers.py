"""Recipients: normalising, checking, de-duplicating, and the compact Numbers sequence."""

from __future__ import annotations

import pickle
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mandao
from mandao._compose import numbers as _numbers
from mandao._compose.numbers import (
    Numbers,
    collect_mobiles,
    joined_if_clean,
    normalize_mobiles,
    repeats,
)

MOBILES = st.lists(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), max_size=30)


def test_numbers_are_normalised_and_deduplicated_in_order() -> None:
    """Spaces, dashes, +86/0086/86 prefixes go; a repeated number is kept once, first place."""
    got = normalize_mobiles(
        ["13800138000", "+86 139-0013-9000", "008615000150000", "8613800138000", "186 0000 0000"]
    )
    assert got == ("13800138000", "13900139000", "15000150000", "18600000000")


def test_one_number_string_and_generators_are_accepted() -> None:
    """A single string is one recipient; any iterable (a generator) works."""
    assert normalize_mobiles("13800138000") == ("13800138000",)
    assert normalize_mobiles(n for n in ["13800138000"]) == ("13800138000",)


def test_invalid_numbers_are_all_listed_with_positions() -> None:
    """InvalidRecipients names each bad entry and its position."""
    with pytest.raises(mandao.InvalidRecipients) as info:
        normalize_mobiles(["13800138000", "12345", "23800138000", 13800138000])  # type: ignore[list-item]
    assert [pos for pos, _, _ in info.value.invalid] == [1, 2, 3]
    assert info.value.argument == "mobiles"
    assert "#1 '12345'" in str(info.value)


def test_empty_recipients_are_refused() -> None:
    """An empty list is a ValidationError naming mobiles."""
    with pytest.raises(mandao.ValidationError, match="mobiles"):
        normalize_mobiles([])


@pytest.mark.parametrize(
    "items",
    [
        ["13800138000", "1390013900,"],  # a comma inside an item, lengths still add up
        ["1380013800", "139001390000"],  # digits shifted from one item to the next
        ["13800138000", "12900139000"],  # second digit out of 3-9
        ["13800138000", "23900139000"],  # not starting with 1
        ["13800138000", "139 0013 900"],
        ["13800138000", 13900139000],
    ],
)
def test_joined_fast_path_refuses_near_misses(items: list[object]) -> None:
    """The joined-text check says "clean" only when every item is an 11-digit mobile."""
    assert joined_if_clean(items) is None  # type: ignore[arg-type]
    assert joined_if_clean(["13800138000", "19900199000"]) == "13800138000,19900199000"


@given(MOBILES, st.integers(-35, 35), st.integers(-35, 35), st.sampled_from([None, 1, 2, -1]))
def test_numbers_behave_as_the_tuple_of_the_same_numbers(
    items: list[str], start: int, stop: int, step: int | None
) -> None:
    """Length, indexing, slicing (any step), iteration, membership, index, count, equality,
    hashing, repr, + and pickling all agree with a tuple of the same numbers."""
    numbers, expected = Numbers(items), tuple(items)
    assert len(numbers) == len(expected)
    assert list(numbers) == list(expected)
    assert numbers == expected
    assert expected == numbers
    assert numbers == list(expected)
    assert hash(numbers) == hash(expected)
    assert repr(numbers) == repr(expected)
    assert numbers[start:stop:step] == expected[start:stop:step]
    assert isinstance(numbers[start:stop], Numbers)
    if -len(expected) <= start < len(expected):
        assert numbers[start] == expected[start]
    else:
        with pytest.raises(IndexError):
            numbers[start]
    for value in [*expected[:3], "13800138000", "3800138000,", "1380013800"]:
        assert (value in numbers) == (value in expected)
        assert numbers.count(value) == expected.count(value)
        if value in expected:
            assert numbers.index(value) == expected.index(value)
        else:
            with pytest.raises(ValueError, match="not in Numbers"):
                numbers.index(value)
    assert numbers + Numbers(items[:2]) == expected + tuple(items[:2])
    assert pickle.loads(pickle.dumps(numbers)) == numbers  # noqa: S301 - our own bytes
    assert numbers.joined == ",".join(expected)


def test_numbers_refuse_what_is_not_an_eleven_digit_mobile() -> None:
    """Numbers checks what it is given (a ValidationError naming ``numbers``, a ValueError
    still); it never compares equal to a non-sequence."""
    for bad in (["13800138000", "138 0013 8000"], "13800138000", [13800138000]):
        with pytest.raises(mandao.ValidationError, match="normalize_mobiles") as info:
            Numbers(bad)  # type: ignore[arg-type]
        assert info.value.argument == "numbers"
        assert isinstance(info.value, ValueError)
    tail: list[str] = ["138"]
    with pytest.raises(mandao.ValidationError):
        _ = Numbers(["13800138000"]) + tail  # the list added is checked as Numbers(...) is
    assert Numbers(["13800138000"]) != "13800138000"
    assert Numbers() == ()
    assert not Numbers()


def test_a_million_clean_numbers_are_held_as_one_string() -> None:
    """A clean million keeps no reference to the caller's strings: one joined text, and
    each batch slice a piece of it."""
    items = [f"1{3 + i % 7}{i:09d}" for i in range(1_000_000)]
    found = collect_mobiles(items)
    assert found.numbers.joined == ",".join(items)
    assert not found.duplicates
    assert found.numbers[5000:10000] == tuple(items[5000:10000])


def test_duplicates_are_reported_at_their_positions_and_sent_once() -> None:
    """A repeat (also one that differs only in its spelling) is kept once, at first place."""
    found = collect_mobiles(["13800138000", "13900139000", "+86 138 0013 8000", "13900139000"])
    assert found.numbers == ("13800138000", "13900139000")
    assert found.duplicates == ((2, "13800138000"), (3, "13900139000"))


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("１３８００１３８０００", "13800138000"),  # full-width digits, as an IME types them
        (
            "＋８６　１３８　００１３　８０００",
            "13800138000",
        ),  # full-width plus, CJK spaces
        ("138–0013–8000", "13800138000"),  # en dashes (Word's autocorrect)
        ("(+86) 138.0013.8000", "13800138000"),
        ("0086-138-0013-8000", "13800138000"),
    ],
)
def test_unusual_but_unambiguous_forms_are_read(raw: str, number: str) -> None:
    """Full-width characters, other dashes, dots and brackets are read, not refused."""
    assert normalize_mobiles([raw]) == (number,)


@pytest.mark.parametrize(
    "raw",
    ["1380013800O", "tel:13800138000", "call 13800138000", "13800138000 ext 12", "١٣٨٠٠١٣٨٠٠٠"],
)
def test_nothing_is_guessed(raw: str) -> None:
    """A letter for a digit, a URI, words around the number, an extension or digits of
    another script are refused, never turned into some number."""
    with pytest.raises(mandao.InvalidRecipients):
        normalize_mobiles([raw])


def _first_seen(items: list[str]) -> list[int]:
    """The indexes of entries equal to an earlier one, the plain way."""
    return [i for i, number in enumerate(items) if number in items[:i]]


# Few distinct numbers, so that lists repeat some; they differ in any one digit.
REPEATING = st.lists(
    st.sampled_from(["13800138000", "13800138001", "19800138000", "13900138000", "13800188000"])
    | st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    min_size=1,
    max_size=40,
)


@given(REPEATING)
def test_bulk_repeats_find_what_a_plain_scan_finds(items: list[str]) -> None:
    """The numpy path (sorted packed keys) gives the same indexes as a plain scan."""
    pytest.importorskip("numpy")
    assert _numbers._repeats_sorted(",".join(items), len(items)) == _first_seen(items)


def test_bulk_keys_tell_every_digit_apart() -> None:
    """Two numbers that differ in one digit, at any of the ten places, never share a key."""
    pytest.importorskip("numpy")
    base = "13800138000"
    variants = [base] + [
        base[:place] + digit + base[place + 1 :]
        for place in range(1, 11)
        for digit in ("3456789" if place == 1 else "0123456789")
        if digit != base[place]
    ]
    assert _numbers._repeats_sorted(",".join(variants), len(variants)) == []
    doubled = variants + variants[::-1]
    found = _numbers._repeats_sorted(",".join(doubled), len(doubled))
    assert found == list(range(len(variants), len(doubled)))


@pytest.mark.parametrize("numpy_installed", [True, False])
def test_big_lists_are_deduplicated_alike_with_or_without_numpy(
    numpy_installed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above BULK, with or without numpy: the same numbers kept, the same duplicates at the
    same input positions (skipped entries counted), the first of each kept in place."""
    if numpy_installed:
        pytest.importorskip("numpy")
    else:
        monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy raises ImportError
    monkeypatch.setattr(_numbers, "BULK", 1000)
    items = [f"1{3 + i % 7}{i:09d}" for i in range(3000)]
    given_ = ["bad", *items[:1500], "13800138000", items[10], *items[1500:], items[2999]]
    found = collect_mobiles(given_, skip_invalid=True)
    assert found.skipped[0][:2] == (0, "bad")
    assert found.duplicates == ((1502, items[10]), (3003, items[2999]))
    assert found.numbers == (*items[:1500], "13800138000", *items[1500:])
    clean = collect_mobiles(items + items[:5])  # the clean input's own list, no positions
    assert clean.duplicates == tuple((3000 + i, items[i]) for i in range(5))
    assert clean.numbers.joined == ",".join(items)
    assert repeats(Numbers(items), items) == []


def test_the_bulk_path_is_taken_above_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """At BULK numbers, repeats() asks numpy (when installed); below, it does not."""
    pytest.importorskip("numpy")
    calls: list[int] = []
    real = _numbers._repeats_sorted
    monkeypatch.setattr(
        _numbers, "_repeats_sorted", lambda joined, n: calls.append(n) or real(joined, n)
    )
    items = [f"1{3 + i % 7}{i:09d}" for i in range(_numbers.BULK)]
    assert repeats(Numbers(items), items) == []
    assert repeats(Numbers(items[:-1]), items[:-1]) == []
    assert calls == [_numbers.BULK]
