"""Composing sends against the sandbox: signature, format, cost, numbers, batches, dry run."""

from __future__ import annotations

import sys
import warnings
from collections import Counter

import pytest

import mandao
from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN, MakeClient

NUMBERS = [f"1380013{i:04d}" for i in range(25)]


def _client(make: MakeClient, **settings: object) -> mandao.Client:
    return make(SN, PASSWORD, timeout=(1, 5), **settings)


# -- signature ---------------------------------------------------------------------------


def test_signature_is_appended_when_content_has_none(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """Client(signature=...) adds 【name】 at the end; the ledger shows the signed text."""
    _client(make_client, signature="示例").send("13800138000", "验证码 1234")
    assert [e.content for e in gateway.ledger.messages] == ["验证码 1234【示例】"]


def test_signature_can_go_first(make_client: MakeClient, gateway: SandboxGateway) -> None:
    """signature_position='start' puts 【name】 before the text."""
    _client(make_client, signature="示例", signature_position="start").send("13800138000", "你好")
    assert gateway.ledger.messages[0].content == "【示例】你好"


def test_content_already_signed_is_left_alone(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """A content carrying any 【…】 is sent unchanged, even with a signature configured."""
    _client(make_client, signature="示例").send("13800138000", "【其他】你好")
    assert gateway.ledger.messages[0].content == "【其他】你好"


@pytest.mark.parametrize("content", ["你好", "你好【】", "你好【", "】你好【"])
def test_unsigned_content_is_refused_without_a_signature(
    make_client: MakeClient, gateway: SandboxGateway, content: str
) -> None:
    """No 【name】 (an empty 【】 does not count) and none configured: content is refused."""
    with pytest.raises(mandao.ValidationError) as info:
        _client(make_client).send("13800138000", content)
    assert info.value.argument == "content"
    assert gateway.ledger.messages == []


def test_signature_check_can_be_turned_off(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """require_signature=False sends unsigned content as given."""
    _client(make_client, require_signature=False).send("13800138000", "你好")
    assert gateway.ledger.messages[0].content == "你好"


@pytest.mark.parametrize(
    ("settings", "argument"),
    [
        ({"signature": "【示例】"}, "signature"),
        ({"signature": " "}, "signature"),
        ({"signature_position": "middle"}, "signature_position"),
        ({"unencodable": "ignore"}, "unencodable"),
        ({"max_segments": 0}, "max_segments"),
        ({"batch_size": 10_001}, "batch_size"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, object], argument: str) -> None:
    """Malformed content and batch settings raise a ValidationError naming the setting."""
    with pytest.raises(mandao.ValidationError) as info:
        mandao.Client(SN, PASSWORD, **settings)  # type: ignore[arg-type]
    assert info.value.argument == argument


def test_the_signature_counts_towards_the_length_limit(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """496 characters plus 【示例】 pass 500: refused (-10) before sending."""
    with pytest.raises(mandao.ValidationError, match="500"):
        _client(make_client, signature="示例").send("13800138000", "字" * 497)
    assert gateway.ledger.messages == []


# -- format and GBK ------------------------------------------------------------------------


def test_dry_run_shows_msgfmt_chosen_from_content(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """msgfmt is 0 for ASCII text and 15 for other text (【】 included) when not given."""
    client = _client(make_client, require_signature=False)
    ascii_body = client.send("13800138000", "code 1234", dry_run=True).requests[0].body
    chinese = client.send("13800138000", "验证码【示例】", dry_run=True).requests[0].body
    given = client.send("13800138000", "验证码【示例】", msgfmt=8, dry_run=True).requests[0].body
    assert "<ns0:msgfmt>0</ns0:msgfmt>" in ascii_body
    assert "<ns0:msgfmt>15</ns0:msgfmt>" in chinese
    assert "<ns0:msgfmt>8</ns0:msgfmt>" in given


def test_characters_gbk_cannot_carry_are_reported_with_positions(
    make_client: MakeClient,
    gateway: SandboxGateway,
) -> None:
    """unencodable='error' refuses emoji in GB text, naming the position; nothing is sent."""
    client = _client(make_client, unencodable="error")
    with pytest.raises(mandao.ValidationError, match="#2 '😀'") as info:
        client.send("13800138000", "你好😀【示例】")
    assert info.value.argument == "content"
    assert gateway.ledger.messages == []
    client.send("13800138000", "你好😀【示例】", msgfmt=8)  # UCS2 carries it
    assert len(gateway.ledger.messages) == 1


def test_unencodable_warns_or_is_allowed(make_client: MakeClient, gateway: SandboxGateway) -> None:
    """'warn' sends with an UnencodableWarning; 'allow' sends silently."""
    with pytest.warns(mandao.UnencodableWarning, match="U\\+1F600"):
        _client(make_client).send("13800138000", "你好😀【示例】")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _client(make_client, unencodable="allow").send("13900139000", "你好😀【示例】")
    assert len(gateway.ledger.messages) == 2


# -- cost --------------------------------------------------------------------------------


def test_client_estimate_counts_the_signature_and_unique_numbers(client: mandao.Client) -> None:
    """client.estimate adds the signature before counting and counts each number once."""
    signed = mandao.Client(SN, PASSWORD, signature="示例")
    est = signed.estimate(["13800138000", "13800138000", "13900139000"], "字" * 66)
    assert (est.characters, est.segments, est.recipients, est.billable) == (70, 1, 2, 2)
    assert signed.estimate("13800138000", "字" * 67).segments == 2


def test_max_segments_refuses_costlier_content(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """Content billing more segments than max_segments is refused before sending."""
    client = _client(make_client, max_segments=1)
    with pytest.raises(mandao.ValidationError, match="max_segments") as info:
        client.send("13800138000", "字" * 71 + "【示例】")
    assert info.value.argument == "content"
    assert gateway.ledger.messages == []
    assert client.send("13800138000", "字" * 66 + "【示例】").segments == 1


# -- numbers -----------------------------------------------------------------------------


def test_skip_invalid_sends_the_rest_and_reports_positions(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """skip_invalid=True sends valid numbers; result.skipped lists the others by position."""
    result = _client(make_client).send(
        ["13800138000", "12345", "+86 139 0013 9000", None], "你好【示例】", skip_invalid=True
    )
    assert result.recipients == ("13800138000", "13900139000")
    assert [(pos, value) for pos, value, _ in result.skipped] == [(1, "12345"), (3, "None")]
    assert [e.mobile for e in gateway.ledger.messages] == ["13800138000", "13900139000"]


def test_skip_invalid_with_nothing_valid_is_refused(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """When every number is invalid there is nothing to send: ValidationError on mobiles."""
    with pytest.raises(mandao.ValidationError) as info:
        _client(make_client).send(["1", "2"], "你好【示例】", skip_invalid=True)
    assert info.value.argument == "mobiles"


def test_duplicates_are_sent_once_and_reported(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """A number given twice (in any form) goes once; result.duplicates names the repeat."""
    result = _client(make_client).send(
        ["13800138000", "13900139000", "+8613800138000"], "你好【示例】"
    )
    assert result.duplicates == ((2, "13800138000"),)
    assert Counter(e.mobile for e in gateway.ledger.messages) == {
        "13800138000": 1,
        "13900139000": 1,
    }


def test_a_number_given_two_texts_gets_both_and_the_caller_is_warned(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """send_personalized and send_many with one number (written two ways) given two texts:
    it is sent both, and one RepeatedNumberWarning, at the caller's line, names the items;
    a pair given twice is a duplicate, sent once, with no such warning."""
    client = _client(make_client)
    a, b, c = "您好 甲【示例】", "您好 乙【示例】", "您好 丙【示例】"
    messages = [("13800000040", a), ("13800000041", b), ("+86 138 0000 0040", c),
                ("13800000041", b)]  # fmt: skip
    for send in (client.send_personalized, client.send_many):
        with pytest.warns(mandao.RepeatedNumberWarning) as caught:
            result = send(messages)
        (warning,) = caught
        assert str(warning.message) == (
            "messages[2] gives 13800000040 another text than messages[0]: each of those "
            "numbers gets every text it is given; give a number once to send it one text"
        )
        if isinstance(client, mandao.Client):  # (the async one is run here on a loop's thread)
            assert warning.filename == __file__
        assert result.duplicates == ((3, "13800000041"),)
    sent = Counter((e.mobile, e.content) for e in gateway.ledger.messages)
    pairs = [("13800000040", a), ("13800000040", c), ("13800000041", b)]
    assert sent == dict.fromkeys(pairs, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mandao.RepeatedNumberWarning)
        client.send_personalized(messages[:2] + messages[3:])  # a pair twice: no warning
    many = [(f"1380000{i:04}", f"第 {i} 条【示例】") for i in range(8)]
    with pytest.warns(mandao.RepeatedNumberWarning, match=r"\(and 2 more\)"):
        client.send_personalized([*many, *[(m, "再一条【示例】") for m, _ in many[:7]]])


# -- batches -----------------------------------------------------------------------------


def test_numbers_are_split_into_sequential_batches(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """25 numbers with batch_size=10: three requests, consecutive rrids, all listed."""
    seen: list[mandao.Batch] = []
    result = _client(make_client).send(
        NUMBERS, "你好【示例】", batch_size=10, rrid="500", progress=seen.append
    )
    assert [len(b.recipients) for b in result.batches] == [10, 10, 5]
    assert [b.rrid for b in result.batches] == ["500", "501", "502"]
    assert [b.index for b in seen] == [0, 1, 2]
    assert result.complete
    assert result.sent == tuple(NUMBERS)
    assert (result.id, result.rrid, result.billable) == ("500", "500", 25)
    assert (
        sorted(e.rrid for e in gateway.ledger.messages) == ["500"] * 10 + ["501"] * 10 + ["502"] * 5
    )


def test_a_failed_batch_keeps_the_sent_ones_and_says_who_is_where(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """Balance for 12: batch 2 of 3 is refused (-4); the result lists sent/failed/not sent."""
    gateway.set_balance(SN, 12)
    seen: list[mandao.Batch] = []
    result = _client(make_client).send(NUMBERS, "你好【示例】", batch_size=10, progress=seen.append)
    assert [b.state for b in result.batches] == ["sent", "failed", "not_sent"]
    assert isinstance(result.batches[1].error, mandao.InsufficientBalance)
    assert not result.complete
    assert result.sent == tuple(NUMBERS[:10])
    assert result.unsent == tuple(NUMBERS[10:])
    assert result.billable == 10
    assert [b.state for b in seen] == ["sent", "failed"]
    assert len(gateway.ledger.messages) == 10
    assert "1/3 batches sent" in repr(result)


def test_a_first_batch_failure_is_raised(make_client: MakeClient, gateway: SandboxGateway) -> None:
    """When the first request fails nothing went out, so the error is raised as before."""
    gateway.set_balance(SN, 5)
    with pytest.raises(mandao.InsufficientBalance):
        _client(make_client).send(NUMBERS, "你好【示例】", batch_size=10)
    assert gateway.ledger.messages == []


def test_personalised_sends_batch_by_1000_and_drop_identical_pairs(
    make_client: MakeClient,
    gateway: SandboxGateway,
) -> None:
    """mdgxsend batches default to 1000 pairs; an identical pair is sent once and reported."""
    pairs = [(n, f"您好 {i}【示例】") for i, n in enumerate(NUMBERS)] + [
        (NUMBERS[0], "您好 0【示例】")
    ]
    result = _client(make_client).send_personalized(pairs)
    assert len(result.batches) == 1
    assert result.duplicates == ((25, NUMBERS[0]),)
    small = _client(make_client).send_personalized(pairs[:25], batch_size=10, rrid="7")
    assert [b.rrid for b in small.batches] == ["7", "8", "9"]


@pytest.mark.parametrize("path", ["numpy", "set"])
def test_big_send_paths_deduplicate_alike(
    make_client: MakeClient, gateway: SandboxGateway, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """Sends at or over BULK numbers (lowered here to 10) find the same repeats through numpy
    (the bulk extra) as through a set: group, personalised and mixed sends alike."""
    from mandao._compose import numbers as _numbers

    if path == "numpy":
        pytest.importorskip("numpy")
    else:
        monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy raises ImportError
    monkeypatch.setattr(_numbers, "BULK", 10)
    client = _client(make_client)
    group = client.send([*NUMBERS, "+86 138 0013 0003", NUMBERS[7]], "你好【示例】")
    assert group.duplicates == ((25, NUMBERS[3]), (26, NUMBERS[7]))
    assert group.recipients == tuple(NUMBERS)
    pairs = [(n, f"您好 {i}【示例】") for i, n in enumerate(NUMBERS)]
    with pytest.warns(mandao.RepeatedNumberWarning, match=rf"gives {NUMBERS[4]} another text"):
        personal = client.send_personalized([*pairs, pairs[4], (NUMBERS[4], "另一条【示例】")])
    assert personal.duplicates == ((25, NUMBERS[4]),)
    assert len(personal.recipients) == 26
    mixed = client.send_many([*pairs, pairs[0]])
    assert mixed.duplicates == ((25, NUMBERS[0]),)
    assert len(gateway.ledger.messages) == 25 + 26 + 25


def test_oversized_rrid_sequence_is_refused(client: mandao.Client) -> None:
    """An rrid whose batch sequence would pass 18 digits is refused before sending."""
    with pytest.raises(mandao.ValidationError) as info:
        client.send(NUMBERS, "你好【示例】", batch_size=10, rrid="9" * 18)
    assert info.value.argument == "rrid"


# -- send_many ---------------------------------------------------------------------------


def test_send_many_groups_identical_content(
    make_client: MakeClient, gateway: SandboxGateway
) -> None:
    """Shared texts go as mdsmssend, the rest as one mdgxsend, in one result."""
    pairs = [(n, "通知【示例】") for n in NUMBERS[:3]] + [(NUMBERS[3], "单独【示例】")]
    result = _client(make_client).send_many(pairs)
    assert result.operation == "mdsmssend+mdgxsend"
    assert [b.operation for b in result.batches] == ["mdsmssend", "mdgxsend"]
    ops = Counter(e.operation for e in gateway.ledger.messages)
    assert ops == {"mdsmssend": 3, "mdgxsend": 1}
    assert result.billable == 4


# -- dry run -----------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["soap11", "soap12", "http-get", "http-post", "ashx"])
def test_dry_run_builds_redacted_requests_and_sends_nothing(
    make_client: MakeClient, gateway: SandboxGateway, protocol: str
) -> None:
    """dry_run=True returns each request with pwd redacted and the estimate; ledger empty."""
    client = _client(make_client, protocol=protocol)
    dry = client.send(NUMBERS, "你好【示例】", batch_size=10, dry_run=True)
    assert len(dry.requests) == 3
    assert dry.estimate.billable == 25
    assert all(r.operation == "mdsmssend" for r in dry.requests)
    real = gateway.pwd(SN, PASSWORD)
    for request in dry.requests:
        assert real not in request.body
        assert real not in request.url
        assert "***" in request.body or "pwd=%2A%2A%2A" in request.url + request.body
    assert gateway.ledger.messages == []
    assert gateway.ledger.rejections == []


def test_dry_run_of_send_many(client: mandao.Client, gateway: SandboxGateway) -> None:
    """send_many(dry_run=True) builds both kinds of request and sends none."""
    pairs = [(n, "通知【示例】") for n in NUMBERS[:2]] + [(NUMBERS[2], "单独【示例】")]
    dry = client.send_many(pairs, dry_run=True)
    assert [r.operation for r in dry.requests] == ["mdsmssend", "mdgxsend"]
    assert gateway.ledger.messages == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("\ud800【示例】", "lone surrogate"),
        ("你好😀【示例】", "GBK"),
        ("字" * 497 + "【示例】", "500"),
        ("【】", "signature"),
    ],
)
@pytest.mark.parametrize("method", ["send_personalized", "send_many"])
def test_bad_text_among_many_is_named_by_position(
    make_client: MakeClient, gateway: SandboxGateway, method: str, content: str, reason: str
) -> None:
    """A bad text in a list of pairs raises naming its place; no pair is sent."""
    client = _client(make_client, unencodable="error")
    pairs = [("13800138000", "好【示例】"), ("bad", "x"), ("13900139000", content)]
    with pytest.raises(mandao.ValidationError, match=reason) as info:
        getattr(client, method)(pairs, skip_invalid=True)
    assert info.value.argument == "messages[2] content"
    assert gateway.ledger.messages == []
