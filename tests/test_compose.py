"""Composing a request: content checks, field encoding, segments, batch slicing."""

from __future__ import annotations

import dataclasses
import pickle
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mandao
from mandao._compose.content import (
    ContentRules,
    encode_content,
    encode_contents,
    validate_content,
)
from mandao._compose.fields import CHINA, validate_fields
from mandao._compose.plan import plan_group, plan_personal
from mandao._compose.rrid import make_rrid
from mandao._compose.segments import segments


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "expected text"),
        (b"bytes", "expected text"),
        ("   ", "empty"),
        ("\ud800【示例】", "lone surrogate"),
        ("字" * 501, "500"),
        ("a" * 1001, "1000"),
        ("x\x00y【示例】", "the control character U\\+0000 at position 1, which no phone"),
        ("验证码\x1b【示例】", "U\\+001B at position 3"),
        ("del\x7f【示例】", "U\\+007F"),
        ("粘贴\x85【示例】", "U\\+0085 at position 2"),  # C1 NEL, from old Windows text
        ("\x9f【示例】", "U\\+009F at position 0"),
    ],
)
def test_bad_content_is_refused_with_the_reason(content: object, reason: str) -> None:
    """Non-text, empty, unencodable or over-long content raises ValidationError saying why."""
    with pytest.raises(mandao.ValidationError, match=reason) as info:
        validate_content(content)
    assert info.value.argument == "content"


def test_tabs_and_line_breaks_are_no_control_characters_to_refuse() -> None:
    """A text laid out on lines (or with a tab) goes as it is."""
    laid_out = "第一行\r\n第二行\n\t缩进【示例】"
    assert validate_content(laid_out) == laid_out


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
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
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


@pytest.mark.parametrize(
    ("settings", "argument"),
    [
        ({"signature": "【示例】"}, "signature"),
        ({"signature": " "}, "signature"),
        ({"signature": "示\x1b例"}, "signature"),
        ({"signature": "示例\n"}, "signature"),
        ({"signature_position": "middle"}, "signature_position"),
        ({"unencodable": "ignore"}, "unencodable"),
        ({"max_segments": 0}, "max_segments"),
        ({"max_segments": True}, "max_segments"),
    ],
)
def test_content_rules_refuse_a_bad_value_however_made(
    settings: dict[str, object], argument: str
) -> None:
    """A bad setting is refused when ContentRules is made and through dataclasses.replace."""
    with pytest.raises(mandao.ValidationError) as made:
        ContentRules(**settings)  # type: ignore[arg-type]
    assert made.value.argument == argument
    with pytest.raises(mandao.ValidationError) as replaced:
        dataclasses.replace(ContentRules(signature="示例"), **settings)
    assert replaced.value.argument == argument


def test_a_signature_with_a_control_character_is_refused_naming_it() -> None:
    """The signature goes into every text: a control character in it (tab and line breaks
    too, in a name) is refused where it is set, as in a text."""
    with pytest.raises(mandao.ValidationError) as info:
        mandao.Client(sn="SDK-TST-010-00001", password="-", signature="示\x1b例")
    assert str(info.value) == (
        "signature: holds the control character U+001B at position 1, which no phone shows; "
        "remove it, got '示\\x1b例'"
    )
    with pytest.raises(mandao.ValidationError, match="a signature is one line of text"):
        mandao.Client(sn="SDK-TST-010-00001", password="-", signature="示例\r\n")
    for separator in ("\x85", "\u2028", "\u2029"):  # NEL, Unicode's line and paragraph ones
        with pytest.raises(mandao.ValidationError, match="a signature is one line of text"):
            mandao.Client(sn="SDK-TST-010-00001", password="-", signature=f"示{separator}例")


def test_content_rules_are_a_frozen_keyword_only_value() -> None:
    """ContentRules pickles, hashes, cannot be changed or made positionally, and is not a tuple."""
    rules = ContentRules(signature="示例", max_segments=2)
    assert pickle.loads(pickle.dumps(rules)) == rules  # noqa: S301 (our own bytes)
    assert hash(rules) == hash(ContentRules(signature="示例", max_segments=2))
    assert dataclasses.replace(rules, max_segments=3).max_segments == 3
    assert rules != ("示例", "end", True, "warn", 2)
    assert not isinstance(rules, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.signature = "其他"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ContentRules("示例")  # type: ignore[misc]


def test_many_texts_name_the_first_bad_one_and_warn_only_up_to_it() -> None:
    """A text failing a late rule is named before a later text failing an early one; the
    warnings of the texts up to it are given, none after it."""
    rules = ContentRules(signature="示例", max_segments=1)
    texts: list[object] = ["好😀", "字" * 80, "", "又😀"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(mandao.ValidationError, match="2 segments") as info:
            rules.prepare_many(texts, "", "m[{}]", [4, 7, 9, 12])
    assert info.value.argument == "m[7]"
    assert [str(w.message)[:5] for w in caught] == ["m[4]:"]
    assert caught[0].filename == __file__  # the caller's line, not mandao's internals
    assert texts == ["好😀", "字" * 80, "", "又😀"]


def test_public_functions_refuse_bad_input_with_validation_error() -> None:
    """Bad input to estimate, encode_content(s), make_rrid and validate_fields is a
    ValidationError naming the argument, never a bare ValueError."""
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: mandao.estimate("好", recipients=-1), "recipients"),
        (lambda: mandao.estimate(b"x"), "content"),  # type: ignore[arg-type]
        (lambda: encode_content("a\ud800"), "content"),
        (lambda: encode_contents(["a", "b\udc00"]), "content[1]"),
        (lambda: make_rrid(clock=float("nan")), "clock"),
        (
            lambda: validate_fields(
                ext="", rrid=None, msgfmt=None, at=datetime.max.replace(tzinfo=UTC)
            ),
            "at",
        ),
    ]
    for call, argument in cases:
        with pytest.raises(mandao.ValidationError) as info:
            call()
        assert info.value.argument == argument


@given(
    hours=st.integers(min_value=-23, max_value=23),
    minutes=st.integers(min_value=0, max_value=59),
    day=st.sampled_from(
        [datetime.max, datetime(9999, 12, 31), datetime.min, datetime(1, 1, 1, 12)]
    ),
)
def test_an_aware_at_at_the_ends_of_time_is_a_validation_error(
    hours: int, minutes: int, day: datetime
) -> None:
    """An aware ``at`` near year 9999 (or year 1), in any zone, is refused as a
    ValidationError naming at, never an OverflowError from moving it to China time."""
    from datetime import timezone

    offset = timedelta(hours=hours, minutes=minutes if hours >= 0 else -minutes)
    at = day.replace(tzinfo=timezone(offset))
    refused: str | None = None
    try:
        _, stime, _, _ = validate_fields(ext="", rrid=None, msgfmt=None, at=at)
    except mandao.ValidationError as exc:
        refused = exc.argument
    else:
        assert stime.startswith("9999-12-")  # a time near the end, in China time
    assert refused in (None, "at")
