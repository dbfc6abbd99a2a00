"""Composing a request: content checks, field encoding, segments, batch slicing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mandao
from mandao._batch import plan_group, plan_personal
from mandao._compose import (
    CHINA,
    ContentRules,
    encode_content,
    segments,
    validate_content,
    validate_fields,
)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "expected text"),
        (b"bytes", "expected text"),
        ("   ", "empty"),
        ("\ud800【示例】", "lone surrogate"),
        ("字" * 501, "500"),
        ("a" * 1001, "1000"),
    ],
)
def test_bad_content_is_refused_with_the_reason(content: object, reason: str) -> None:
    """Non-text, empty, unencodable or over-long content raises ValidationError saying why."""
    with pytest.raises(mandao.ValidationError, match=reason) as info:
        validate_content(content)
    assert info.value.argument == "content"


def test_length_limits_are_inclusive() -> None:
    """500 double-byte or 1000 single-byte characters are still accepted."""
    assert validate_content("字" * 500) == "字" * 500
    assert validate_content("a" * 1000) == "a" * 1000


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1))
def test_content_encoding_round_trips_and_has_no_bare_commas(text: str) -> None:
    """The URL-encoded field decodes to the exact text and never holds a literal comma."""
    encoded = encode_content(text)
    assert unquote(encoded, encoding="utf-8", errors="strict") == text
    assert "," not in encoded
    assert "+" not in encoded
    assert encoded.isascii()


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("字" * 70, 1),
        ("字" * 71, 2),
        ("字" * 134, 2),
        ("字" * 135, 3),
        ("a" * 140, 1),
        ("a" * 141, 3),
        ("a" * 134, 1),
        ("😀" * 35, 1),
        ("😀" * 36, 2),
    ],
)
def test_segments_follow_vendor_billing(text: str, parts: int) -> None:
    """≤70 is one message, then per 67; pure single-byte ≤140 one, then per 67 (emoji = 2)."""
    assert segments(text) == parts


def test_estimate_multiplies_by_recipients() -> None:
    """Billable messages are segments times recipients."""
    est = mandao.estimate("字" * 71, recipients=3)
    assert (est.characters, est.segments, est.billable) == (71, 2, 6)


def test_fields_are_checked_as_the_gateway_would() -> None:
    """ext ≤9 digits, rrid ≤18 digits, msgfmt in 0/3/4/8/15, at in the future."""
    assert validate_fields(ext="12", rrid="123", msgfmt=8, at=None) == ("12", "", "123", "8")
    for kwargs, argument in [
        ({"ext": "1234567890"}, "ext"),
        ({"ext": "12a"}, "ext"),
        ({"rrid": "1" * 19}, "rrid"),
        ({"rrid": "12x"}, "rrid"),
        ({"msgfmt": 5}, "msgfmt"),
        ({"at": "2020-01-01 00:00:00"}, "at"),
        ({"at": "tomorrow"}, "at"),
    ]:
        full = {"ext": "", "rrid": None, "msgfmt": None, "at": None, **kwargs}
        with pytest.raises(mandao.ValidationError) as info:
            validate_fields(**full)  # type: ignore[arg-type]
        assert info.value.argument == argument


def test_times_become_china_time_strings() -> None:
    """Aware datetimes are converted to China time; naive ones are taken as China time."""
    later = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    _, stime, _, _ = validate_fields(ext="", rrid=None, msgfmt=None, at=later)
    assert stime == later.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    naive = later.astimezone(CHINA).replace(tzinfo=None)
    assert validate_fields(ext="", rrid=None, msgfmt=None, at=naive)[1] == stime


def test_batches_slice_the_joined_numbers_exactly() -> None:
    """Each mdsmssend and mdgxsend batch carries its own numbers, texts and rrid."""
    numbers = [f"1380013{i:04d}" for i in range(7)]
    rules = ContentRules(signature="示例")
    plan = plan_group(rules, numbers, "好", size=3, ext="", at=None, rrid="9", msgfmt=None)
    assert [r.fields["mobile"] for r in plan.requests] == [
        ",".join(numbers[i : i + 3]) for i in (0, 3, 6)
    ]
    assert [r.recipients for r in plan.requests] == [tuple(numbers[i : i + 3]) for i in (0, 3, 6)]
    pairs = [(n, f"第{i}条") for i, n in enumerate(numbers)]
    gx = plan_personal(rules, pairs, size=3, ext="", at=None, rrid="9", msgfmt=None).requests
    assert [r.fields["rrid"] for r in gx] == ["9", "10", "11"]
    for request, start in zip(gx, (0, 3, 6), strict=True):
        assert request.fields["mobile"] == ",".join(numbers[start : start + 3])
        texts = [unquote(c) for c in request.fields["content"].split(",")]
        assert texts == [f"第{i}条【示例】" for i in range(start, min(start + 3, 7))]
