"""Composing piece by piece: a big send is cut into pieces of ``chunked.CHUNK`` items so that
a worker thread composing it lets the event loop run; with the pieces made tiny here, every
result, refusal and warning is what one pass over the whole gives."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mandao
from mandao._compose import chunked
from mandao._compose import numbers as _numbers
from mandao._compose.content import ContentRules
from mandao._compose.numbers import Numbers, collect_mobiles, joined_if_clean, normalized
from mandao._compose.plan import Plan, plan_group, plan_many, plan_personal
from mandao._compose.segments import measure_many

_NUMBER = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
# Few distinct numbers, so that lists repeat some; spelled out differently at times.
_REPEATING = st.sampled_from(["13800138000", "13900139000", "19800138000", "13800138001"])
_SPELLED = _REPEATING.map(lambda n: f"+86 {n[:3]}-{n[3:7]}-{n[7:]}")
_BAD = st.sampled_from(["x", "1380013800", "23800138000", "13800138000,1", ""])
MOBILES = st.lists(st.one_of(_NUMBER, _REPEATING, _REPEATING, _SPELLED, _BAD), max_size=14)
TEXTS = st.sampled_from(
    ["验证码 1【示例】", "验证码 2【示例】", "【示例】code 3", "no signature",
     "字" * 80 + "【示例】", "😀【示例】", "\u20ac【示例】", "\ud800【示例】", "", "   "]
)  # fmt: skip
PAIRS = st.lists(st.tuples(st.one_of(_NUMBER, _REPEATING, _SPELLED, _BAD), TEXTS), max_size=12)
RULES = st.builds(
    ContentRules,
    signature=st.sampled_from([None, "示例"]),
    require_signature=st.booleans(),
    unencodable=st.sampled_from(["error", "warn", "allow"]),
    max_segments=st.sampled_from([None, 1]),
)
FIELDS = {"ext": "", "at": None, "rrid": "100000000000000000", "msgfmt": None}
SIZES = st.integers(1, 4)


@contextmanager
def _pieces_of(size: int) -> Iterator[None]:
    """Compose with pieces of ``size`` items."""
    saved, chunked.CHUNK = chunked.CHUNK, size
    try:
        yield
    finally:
        chunked.CHUNK = saved


def _outcome(call: Callable[[], object]) -> tuple[object, list[str]]:
    """``call()``'s value (or its ValidationError's text and argument) and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value: object = call()
        except mandao.ValidationError as exc:
            value = (type(exc).__name__, str(exc), exc.argument)
    return value, [str(w.message) for w in caught]


def _alike(size: int, call: Callable[[], object]) -> None:
    """``call`` gives the same outcome in pieces of ``size`` as in one piece."""
    whole = _outcome(call)
    with _pieces_of(size):
        assert _outcome(call) == whole


def _shown(plan: object) -> object:
    """A plan as comparable values: each request's operation, fields, recipients, cost."""
    if not isinstance(plan, Plan):
        return plan
    requests = [(r.operation, r.fields, tuple(r.recipients), r.billable) for r in plan.requests]
    return requests, tuple(plan.recipients), plan.estimate, plan.skipped, plan.duplicates


def test_pieces_cover_the_items_in_order() -> None:
    """pieces, listed and join give the items in order, whatever the piece size."""
    for size in (1, 2, 3, 50):
        with _pieces_of(size):
            assert [x for piece in chunked.pieces(range(7)) for x in piece] == list(range(7))
            assert all(len(piece) <= size for piece in chunked.pieces(range(7)))
            assert chunked.listed(iter("abcdefg")) == list("abcdefg")
            assert chunked.join(",", iter("abcdefg")) == "a,b,c,d,e,f,g"
            assert chunked.join(",", list("abcdefg")) == "a,b,c,d,e,f,g"
            assert chunked.join(",", iter([])) == ""


@settings(max_examples=200, deadline=None)
@given(MOBILES, SIZES, st.booleans())
def test_numbers_are_collected_alike_in_pieces(items: list[str], size: int, skip: bool) -> None:
    """collect_mobiles keeps, skips and reports as duplicates the same entries, and
    normalized and joined_if_clean agree, in pieces of any size."""
    _alike(size, lambda: collect_mobiles(items, skip_invalid=skip))
    _alike(size, lambda: normalized(iter(items), skip_invalid=skip)[0::2])
    _alike(size, lambda: joined_if_clean(items))


@settings(max_examples=100, deadline=None)
@given(st.lists(_NUMBER, max_size=12), SIZES)
def test_numbers_iterate_alike_in_pieces(items: list[str], size: int) -> None:
    """A Numbers iterates, compares and hashes as its tuple, in pieces of any size."""
    numbers = Numbers(items)
    with _pieces_of(size):
        assert list(numbers) == items
        assert numbers == tuple(items)
        assert hash(numbers) == hash(tuple(items))


@settings(max_examples=100, deadline=None)
@given(st.lists(_REPEATING | _NUMBER, min_size=1, max_size=14), SIZES)
def test_bulk_repeats_are_found_alike_in_pieces(items: list[str], size: int) -> None:
    """numpy's keys, packed a piece at a time, find the repeats a plain scan finds."""
    pytest.importorskip("numpy")
    expected = [i for i, number in enumerate(items) if number in items[:i]]
    with _pieces_of(size):
        assert _numbers._repeats_sorted(",".join(items), len(items)) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXTS | st.integers(), min_size=1, max_size=10), RULES, SIZES)
def test_texts_are_prepared_alike_in_pieces(
    texts: list[Any], rules: ContentRules, size: int
) -> None:
    """prepare_many gives the same texts, or the same first refusal after the same
    warnings, in pieces of any size; measure_many the same segments."""
    _alike(size, lambda: rules.prepare_many(list(texts), "", "m[{}]", []))
    _alike(size, lambda: rules.prepare_many(list(texts), "8", "m[{}]", list(range(5, 15))))
    clean = [t for t in texts if isinstance(t, str) and "\ud800" not in t and t.strip()]
    if clean:
        _alike(size, lambda: measure_many(clean))


@settings(max_examples=150, deadline=None)
@given(MOBILES, TEXTS, RULES, SIZES, st.booleans())
def test_group_plans_are_alike_in_pieces(
    mobiles: list[str], text: str, rules: ContentRules, size: int, skip: bool
) -> None:
    """plan_group makes the same requests, estimate, skips and duplicates in pieces."""
    _alike(
        size,
        lambda: _shown(plan_group(rules, mobiles, text, size=3, skip_invalid=skip, **FIELDS)),
    )


@settings(max_examples=150, deadline=None)
@given(PAIRS, RULES, SIZES, st.booleans(), st.booleans())
def test_personal_and_many_plans_are_alike_in_pieces(
    pairs: list[tuple[str, str]], rules: ContentRules, size: int, skip: bool, as_dict: bool
) -> None:
    """plan_personal (one rrid, or one per pair) and plan_many make the same requests,
    estimate, skips and duplicates in pieces; a mapping too."""
    given_: object = dict(pairs) if as_dict else pairs
    per_pair = [f"{i + 1}" for i in range(len(pairs))]
    _alike(size, lambda: _shown(plan_personal(rules, given_, size=2, skip_invalid=skip, **FIELDS)))
    _alike(
        size,
        lambda: _shown(
            plan_personal(rules, pairs, size=2, skip_invalid=skip, **{**FIELDS, "rrid": per_pair})
        ),
    )
    _alike(size, lambda: _shown(plan_many(rules, given_, size=2, skip_invalid=skip, **FIELDS)))


def test_a_bad_pair_past_the_first_piece_is_named() -> None:
    """A malformed item in a later piece is found and named by its position."""
    pairs: list[object] = [("13800138000", "验证码【示例】")] * 5 + [("13900139000",)]
    with _pieces_of(2), pytest.raises(mandao.ValidationError, match="item #5"):
        plan_many(ContentRules(), pairs, size=None, **FIELDS)


def test_numpy_is_loaded_on_request_or_reported_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """load_numpy gives the numpy module, or None when it is not installed."""
    pytest.importorskip("numpy")
    assert _numbers.load_numpy() is sys.modules["numpy"]
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy raises ImportError
    assert _numbers.load_numpy() is None
