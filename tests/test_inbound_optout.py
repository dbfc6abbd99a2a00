"""Opt-out keywords: a reply's whole text, normalised, against the configured set."""

from __future__ import annotations

import pytest

from mandao._inbound.optout import DEFAULT_KEYWORDS, OptOut, normalize_reply

OPT_OUT = OptOut()


@pytest.mark.parametrize(
    "text",
    ["TD", "td", "Td", "ＴＤ", " TD ", "TD。", "TD!", "ｔｄ！", "退订", "退订。", "退订！！",
     "T", "t", "N", "R", "r.", "0000", "００００", "取消", "拒收", "拒收，", "TD\r\n", "\u3000TD",
     # what the asking text said, sent back: "回复TD退订", in quotes or brackets
     "TD退订", "退订TD", "回复TD", "回复TD退订", "TD 退订", "T D", "“TD”", "《TD》", "【退订】",
     "TD\u200b", "\ufeffTD", "取消订阅", "退订短信", "拒收短信"],
)  # fmt: skip
def test_keywords_match_after_width_case_and_punctuation(text: str) -> None:
    """Full width, case, surrounding spaces, quotes and brackets, trailing punctuation,
    invisible format characters and a leading 回复 do not hide a keyword; nor does a reply
    made of keywords alone (the words of "回复TD退订" sent back)."""
    assert OPT_OUT.matches(text)


@pytest.mark.parametrize(
    "text",
    ["TDK", "STD", "我要退订吗", "不退订", "不要退订", "好的", "", "   ", "0", "000", "退",
     "取消订单", "TNT", "NR", "回家", "回复"],
)  # fmt: skip
def test_a_keyword_inside_a_longer_reply_is_no_match(text: str) -> None:
    """A longer reply merely containing a keyword is not an opt-out, nor are single
    letters run together ("TNT")."""
    assert not OPT_OUT.matches(text)


def test_the_default_keywords_are_the_documented_ones() -> None:
    """The defaults: TD, T, N, R, 0000, 退订, 取消, 拒收, 取消订阅, 退订短信, 拒收短信."""
    assert frozenset({"TD", "T", "N", "R", "0000", "退订", "取消", "拒收", "取消订阅", "退订短信",
                      "拒收短信"}) == DEFAULT_KEYWORDS  # fmt: skip
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


def test_joined_false_matches_one_keyword_only() -> None:
    """OptOut(joined=False): a reply of several keywords is no match; one still is."""
    whole = OptOut(joined=False)
    assert not whole.matches("TD退订")
    assert whole.matches("“TD”")
    assert OPT_OUT.matches("TD退订")
