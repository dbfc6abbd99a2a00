"""Opt-out keywords: a reply's whole text, normalised, against the configured set."""

from __future__ import annotations

import pytest

from mandao._inbound.optout import DEFAULT_KEYWORDS, OptOut, normalize_reply

OPT_OUT = OptOut()


@pytest.mark.parametrize(
    "text",
    ["TD", "td", "Td", "ＴＤ", " TD ", "TD。", "TD!", "ｔｄ！", "退订", "退订。", "退订！！",
     "T", "t", "N", "R", "r.", "0000", "００００", "取消", "拒收", "拒收，", "TD\r\n", "\u3000TD"],
)  # fmt: skip
def test_keywords_match_after_width_case_and_punctuation(text: str) -> None:
    """Full width, case, surrounding spaces and trailing punctuation do not hide a keyword."""
    assert OPT_OUT.matches(text)


@pytest.mark.parametrize(
    "text",
    ["TDK", "STD", "T D", "我要退订吗", "不退订", "好的", "", "   ", "0", "000", "TD退订",
     "《TD》", "退"],
)  # fmt: skip
def test_a_keyword_inside_a_longer_reply_is_no_match(text: str) -> None:
    """Whole-text match only: a longer reply merely containing a keyword is not an opt-out."""
    assert not OPT_OUT.matches(text)


def test_the_default_keywords_are_the_documented_ones() -> None:
    """The defaults: TD, T, N, R, 0000, 退订, 取消, 拒收."""
    assert frozenset({"TD", "T", "N", "R", "0000", "退订", "取消", "拒收"}) == DEFAULT_KEYWORDS
    assert OptOut().keywords == DEFAULT_KEYWORDS


def test_custom_keywords_are_normalised_like_replies() -> None:
    """A user's keywords are compared in the same normal form; an empty one matches nothing."""
    custom = OptOut(frozenset({"ＳＴＯＰ", "Unsubscribe.", "", "退"}))
    assert custom.matches("stop")
    assert custom.matches("UNSUBSCRIBE")
    assert custom.matches("退！")
    assert not custom.matches("")
    assert not custom.matches("TD")


def test_opt_out_is_a_frozen_comparable_value() -> None:
    """OptOut is frozen and compares by its keywords."""
    assert OptOut() == OptOut(DEFAULT_KEYWORDS)
    assert OptOut() != OptOut(frozenset({"TD"}))
    with pytest.raises(AttributeError):
        OptOut().keywords = frozenset()  # type: ignore[misc]


def test_normalize_reply() -> None:
    """NFKC, casefold, strip: the normal form replies and keywords are compared in."""
    assert normalize_reply(" ＴＤ！ ") == "td"
    assert normalize_reply("退订 。") == "退订"
    assert normalize_reply("Ｒ…") == "r"
