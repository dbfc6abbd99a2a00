"""The inbox's reading of one text: billed parts, signature, codes, encoding warnings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mandao.testing import segments
from mandao.testing.inbox._text import codes, encoding, signature, split_parts, warnings

_ALPHABET = ["a", "1", " ", "你", "好", "【", "】", "😀", "é", "，"]
# Texts that cross every rule: ASCII, CJK, emoji (2 UTF-16 units), up to ten parts' worth.
_TEXTS = st.text(alphabet=st.sampled_from(_ALPHABET), max_size=700)


@st.composite
def _near_a_cut(draw: st.DrawFn) -> str:
    """A text with an emoji at or next to a cut: its first unit at 66-68 units after the
    start of a part (67 per part), or 69-71 (one message holds 70), then more text; random
    texts reach those places too rarely (3,000 examples missed a 68-unit part)."""
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        before = draw(st.sampled_from([65, 66, 67, 68, 69, 70, 132, 133, 134]))
        pieces.append("你" * before + draw(st.sampled_from(["😀", "😀😀", "😀你😀"])))
    return "".join(pieces) + draw(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=140))


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@settings(max_examples=300)
@given(st.one_of(_TEXTS, _near_a_cut()), st.booleans())
def test_the_parts_are_what_a_handset_shows(text: str, utf16: bool) -> None:
    """The parts join back to the text; a text that is not one message is cut into parts
    of at most 67 UTF-16 units each; there are never fewer parts than the bill counts,
    and when there are more, a warning says how many of each."""
    parts = split_parts(text)
    assert "".join(parts) == text
    if len(parts) > 1:
        for part in parts:
            assert 1 <= _units(part) <= 67, [_units(p) for p in parts]
    billed = segments(text, utf16=utf16)
    assert len(parts) >= billed
    said = [w for w in warnings(text, utf16=utf16) if w.startswith("the handset shows")]
    if len(parts) == billed:
        assert said == []
    else:
        assert said[0].startswith(f"the handset shows {len(parts)} parts, billed as {billed}")


def test_an_emoji_straddling_a_cut_makes_one_more_part_than_billed() -> None:
    """66 characters, an emoji, 66 more: 134 units, billed 2; no part may hold 68 units, so
    the handset shows 66, 67 and 1, and the warning says 3 against 2."""
    text = "你" * 66 + "😀" + "你" * 66
    assert segments(text) == 2
    assert [_units(p) for p in split_parts(text)] == [66, 67, 1]
    assert any(w.startswith("the handset shows 3 parts, billed as 2") for w in warnings(text))


def test_counting_code_points_a_handset_still_counts_units() -> None:
    """Rules(count_utf16=False): 69 characters and an emoji are 70, one message billed; a
    handset needs 71 units, 2 parts, and the warning says why."""
    text = "你" * 69 + "😀"
    assert segments(text, utf16=False) == 1
    assert len(split_parts(text)) == 2
    (said,) = [w for w in warnings(text, utf16=False) if w.startswith("the handset shows")]
    assert said.startswith("the handset shows 2 parts, billed as 1: the gateway counts characters")


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("a" * 140, [140]),
        ("a" * 141, [67, 67, 7]),
        ("你" * 70, [70]),
        ("你" * 71, [67, 4]),
        ("你" * 66 + "😀" + "你" * 10, [66, 11]),  # the emoji's two units would straddle 67
        ("你" * 68 + "😀", [69]),  # 70 units: one message
    ],
)
def test_the_vendor_rule_70_67_and_140_for_ascii(text: str, sizes: list[int]) -> None:
    """Up to 70 (140 pure ASCII) is one message; longer is cut per 67; an emoji whose two
    units straddle a cut goes whole to the next part."""
    assert [len(p) for p in split_parts(text)] == sizes


def test_encoding_is_ascii_only_for_pure_ascii() -> None:
    """A signature's 【】 alone make a text UCS-2."""
    assert (encoding("code 1234"), encoding("code 1234【Shop】")) == ("ascii", "ucs2")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("验证码 1234【示例】", "【示例】"),
        ("【示例】您的验证码 1234", "【示例】"),
        ("【甲】通知【乙】", "【乙】"),  # the end one wins
        ("通知【乙】内容", "【乙】"),  # misplaced, still named
        ("no signature", ""),
        ("【】empty brackets", ""),
    ],
)
def test_signature(text: str, found: str) -> None:
    """The 【…】 at the end, else at the start, else the first; "" when there is none."""
    assert signature(text) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("验证码 123456，5分钟内有效【示例】", ("123456",)),
        ("PIN 0042 and 98765432", ("0042", "98765432")),
        ("订单 123456789 已发货", ()),  # 9 digits: an order number, not a code
        ("abc123 x1234y 2024-01-05", ("1234", "2024")),
        ("全角 １２３４ 不是", ()),  # full-width digits are not ASCII digits
        ("", ()),
    ],
)
def test_codes_are_runs_of_four_to_eight_ascii_digits(text: str, found: tuple[str, ...]) -> None:
    """Runs of 4-8 ASCII digits not inside a longer run of digits, in text order."""
    assert codes(text) == found


def test_a_clean_chinese_message_has_no_warning() -> None:
    """Chinese with Chinese punctuation and a signature at the end: nothing to say."""
    assert warnings("您的验证码 482915，5分钟内有效，请勿泄露！【示例】") == []


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("验证码 1234", "no 【signature】: the gateway"),
        ("Your code 1234 [Shop]", "no 【signature】: [Shop] is written with other brackets"),
        ("【甲】通知【乙】", "2 【…】 (【甲】, 【乙】)"),
        ("通知【乙】内容", "the signature 【乙】 is neither at the start nor at the end"),
        ("안녕하세요【示例】", "outside GBK: 안 (U+C548)"),
        ("好的😀【示例】", "😀 (U+1F600): beyond U+FFFF, each counts as 2 characters"),
        ("验证码 １２３４【示例】", "full-width letters or digits: １ (U+FF11)"),
        ("Your code is 1234, don’t share it. " * 3, "only ’ (U+2019) keep this text"),
        ("验证\u200b码【示例】", "invisible characters: U+200B ZERO WIDTH SPACE"),
        ("验证\ud800码【示例】", "lone surrogates: U+D800: half of a UTF-16 pair"),
    ],
)
def test_each_warning(text: str, start: str) -> None:
    """Each warning of the documented set, in words naming what it found."""
    assert any(w.startswith(start) for w in warnings(text)), warnings(text)


def test_lookalike_punctuation_is_warned_only_when_it_costs_messages() -> None:
    """A curly quote in a short text changes no bill: no warning for it; in a 134-character
    text it makes 2 messages of 1, and says so."""
    assert not any("keep this text" in w for w in warnings("don’t share it"))
    long = "Your code is 1234, don’t share it with anyone at all, not even us. " * 2
    (said,) = [w for w in warnings(long) if "keep this text" in w]
    assert said.endswith("(2 messages; 1 in ASCII)")


def test_a_full_width_code_is_said_to_be_no_code() -> None:
    """Full-width digits get the autofill note; full-width letters alone do not."""
    assert any("not digits to an app" in w for w in warnings("码 １２３４【示例】"))
    assert not any("not digits to an app" in w for w in warnings("ＡＢＣ【示例】"))
