"""Property tests: any input is either sent exactly as the sandbox records it, or refused
with our ValidationError before a single message reaches the ledger."""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import mandao
from mandao._compose.content import ContentRules, encode_content, encode_contents
from mandao._compose.numbers import collect_mobiles
from mandao._compose.segments import estimate, measure_many, segments
from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_NUMBER = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
_SPACED = st.tuples(
    st.sampled_from(["", "+86", "0086", "86", "+86 ", " "]),
    _NUMBER,
    st.sampled_from(["", " ", "-"]),
).map(lambda t: t[0] + t[2].join((t[1][:3], t[1][3:7], t[1][7:])))
_ANY_CHAR = st.characters(blacklist_categories=())  # lone surrogates included
_JUNK = st.one_of(
    st.text(_ANY_CHAR, max_size=14),
    st.sampled_from(
        ["13800138000,13900139000", "1380013800", "23800138000", "１３８００１３８０００"]
    ),
    st.integers(),
    st.none(),
)
# Valid values are drawn more often than bad ones, so that whole sends happen too.
MOBILES = st.one_of(
    st.lists(st.one_of(_NUMBER, _SPACED), min_size=1, max_size=8),
    st.lists(st.one_of(_NUMBER, _NUMBER, _SPACED), min_size=1, max_size=8),
    st.lists(st.one_of(_NUMBER, _SPACED, _JUNK), max_size=8),
)
_PIECES = st.sampled_from(
    [",", "%", "%2C", "+", " ", "\x00", "\x1b", "\r\n", "&", "<", "【", "】", "【】", "【示例】",
     "😀", "\ud800", "字", "a", "𠀀", "%u597D"]
)  # fmt: skip
_TEXT = st.lists(st.one_of(_PIECES, st.text(_ANY_CHAR, max_size=6)), max_size=12).map("".join)
CONTENT = st.one_of(
    _TEXT.map(lambda text: text + "【示例】"),
    _TEXT.map(lambda text: "【示例】" + text),
    _TEXT,
    st.sampled_from(["字" * 497 + "【示例】", "a" * 995 + "【示例】", "x" * 100_000, "【示例】"]),
    st.integers(),
)
_FUTURE = datetime.now() + timedelta(days=30)
FIELDS = st.fixed_dictionaries(
    {
        "ext": st.one_of(st.just(""), st.just(""), st.from_regex(r"[0-9]{1,9}", fullmatch=True),
                         st.from_regex(r"[0-9]{10}", fullmatch=True), st.text(max_size=3)),
        "rrid": st.one_of(st.none(), st.none(), st.from_regex(r"[0-9]{1,18}", fullmatch=True),
                          st.from_regex(r"[0-9]{19}", fullmatch=True), st.text(max_size=3)),
        "msgfmt": st.sampled_from([None, None, None, 0, "8", 15, "3", 5, "x"]),
        "at": st.sampled_from([None, None, None, "", _FUTURE, "2000-01-01 00:00:00", "soon"]),
    }
)  # fmt: skip
CLIENTS = st.fixed_dictionaries(
    {
        "signature": st.sampled_from([None, "示例"]),
        "require_signature": st.booleans(),
        "unencodable": st.sampled_from(["error", "allow"]),
        "max_segments": st.sampled_from([None, 1, 3]),
    }
)


@pytest.fixture(scope="module")
def gateway() -> Iterator[SandboxGateway]:
    """One sandbox for every example of this module (a fresh one per example is slow)."""
    with SandboxGateway(accounts={SN: PASSWORD}) as gw:
        yield gw


def _attempt(gateway: SandboxGateway, call: object) -> tuple[object, int]:
    before = len(gateway.ledger.messages), len(gateway.ledger.rejections)
    try:
        result = call()  # type: ignore[operator]
    except mandao.ValidationError:
        after = len(gateway.ledger.messages), len(gateway.ledger.rejections)
        assert after == before, "a refused call reached the sandbox"
        return None, 0
    return result, len(gateway.ledger.messages) - before[0]


@SETTINGS
@given(mobiles=MOBILES, content=CONTENT, fields=FIELDS, setup=CLIENTS, skip=st.booleans())
def test_send_is_accepted_whole_or_refused_before_sending(
    gateway: SandboxGateway,
    mobiles: list[object],
    content: object,
    fields: dict[str, object],
    setup: dict[str, object],
    skip: bool,
) -> None:
    """send either gets every recipient into the ledger, or raises ValidationError only."""
    client = gateway.client(SN, PASSWORD, timeout=(1, 5), **setup)
    result, added = _attempt(
        gateway,
        lambda: client.send(mobiles, content, skip_invalid=skip, batch_size=3, **fields),  # type: ignore[arg-type]
    )
    if isinstance(result, mandao.SendResult):
        assert result.complete
        assert added == len(result.recipients)
        assert isinstance(content, str)
        assert all(content in e.content for e in gateway.ledger.messages[-added:])


PAIRS = st.one_of(
    st.lists(st.tuples(st.one_of(_NUMBER, _SPACED), CONTENT), min_size=1, max_size=6),
    st.lists(st.tuples(st.one_of(_NUMBER, _SPACED, _JUNK), CONTENT), max_size=6),
)


# Drawn pairs may give a number two texts: warned about, and both sent (what this tests).
@pytest.mark.filterwarnings("ignore::mandao.RepeatedNumberWarning")
@SETTINGS
@given(pairs=PAIRS, fields=FIELDS, setup=CLIENTS, many=st.booleans())
@example(
    pairs=[("13800138000", "\ud800【示例】")],
    fields={"ext": "", "rrid": None, "msgfmt": None, "at": None},
    setup={"signature": None, "require_signature": True, "unencodable": "allow"},
    many=False,
)
def test_personalised_and_grouped_sends_are_whole_or_refused(
    gateway: SandboxGateway,
    pairs: list[tuple[object, object]],
    fields: dict[str, object],
    setup: dict[str, object],
    many: bool,
) -> None:
    """send_personalized and send_many send every pair, or raise ValidationError only."""
    client = gateway.client(SN, PASSWORD, timeout=(1, 5), **setup)
    method = client.send_many if many else client.send_personalized
    result, added = _attempt(gateway, lambda: method(pairs, batch_size=2, **fields))  # type: ignore[arg-type]
    if isinstance(result, mandao.SendResult):
        assert result.complete
        assert added == len(result.recipients)


@SETTINGS
@given(mobiles=MOBILES, content=CONTENT, fields=FIELDS, setup=CLIENTS)
def test_dry_run_raises_only_validation_errors(
    gateway: SandboxGateway,
    mobiles: list[object],
    content: object,
    fields: dict[str, object],
    setup: dict[str, object],
) -> None:
    """A dry run builds requests or raises ValidationError, and never reaches the sandbox."""
    client = gateway.client(SN, PASSWORD, **setup)
    result, added = _attempt(
        gateway,
        lambda: client.send(mobiles, content, dry_run=True, skip_invalid=True, **fields),  # type: ignore[arg-type]
    )
    assert added == 0
    if isinstance(result, mandao.DryRun):
        assert all(gateway.pwd(SN, PASSWORD) not in r.body for r in result.requests)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_NUMBER, _SPACED, st.text(_ANY_CHAR, max_size=24)), max_size=6))
def test_fast_path_agrees_with_number_by_number_checks(items: list[str]) -> None:
    """Checking the joined list at once gives what checking each number alone gives."""
    expected = []
    for item in items:
        try:
            expected.extend(collect_mobiles([item]).numbers)
        except mandao.ValidationError:
            expected.append(None)
    try:
        got: list[str | None] = list(collect_mobiles(items, skip_invalid=False).numbers)
    except mandao.ValidationError:
        assert None in expected or not expected
        return
    assert got == list(dict.fromkeys(expected))


def _outcome(call: object) -> tuple[object, list[str]]:
    """What ``call()`` gives (its value, or its ValidationError's text and argument), and
    the warnings it emits."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value: object = call()  # type: ignore[operator]
        except mandao.ValidationError as exc:
            value = (str(exc), exc.argument)
    return value, [str(w.message) for w in caught]


_MANY_TEXTS = st.lists(
    st.one_of(CONTENT, st.sampled_from(["好【其他】", "【其他】好", "a【示例】b", "   ", ""])),
    min_size=1,
    max_size=6,
)
_RULES = st.builds(
    ContentRules,
    signature=st.sampled_from([None, "示例"]),
    signature_position=st.sampled_from(["end", "start"]),
    require_signature=st.booleans(),
    unencodable=st.sampled_from(["error", "warn", "allow"]),
    max_segments=st.sampled_from([None, 1, 3]),
)


@settings(max_examples=300, deadline=None)
@given(texts=_MANY_TEXTS, rules=_RULES, msgfmt=st.sampled_from(["", "0", "8", "15"]))
def test_bulk_text_checks_agree_with_text_by_text_checks(
    texts: list[object], rules: ContentRules, msgfmt: str
) -> None:
    """prepare_many gives the texts, error or warnings that prepare gives text by text, and
    that the rules written plainly, one text at a time, give."""

    def one_by_one() -> list[str]:
        return [rules.prepare(t, msgfmt, argument=f"m[{i}]") for i, t in enumerate(texts)]

    expected = _outcome(one_by_one)
    given_ = list(texts)
    assert _outcome(lambda: rules.prepare_many(given_, msgfmt, "m[{}]", [])) == expected
    assert given_ == texts  # the caller's list is left as it was
    assert _outcome(lambda: [_spec(rules, t, msgfmt, f"m[{i}]") for i, t in enumerate(texts)]) == (
        expected
    )


def _spec(rules: ContentRules, content: object, msgfmt: str, argument: str) -> str:
    """The content rules written plainly, one text at a time, from the vendor doc: what
    the implementation (one pass per rule over all texts) must agree with."""

    def refuse(message: str) -> mandao.ValidationError:
        return mandao.ValidationError(message, argument=argument)

    def check(text: str) -> int:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise refuse(
                f"holds a character UTF-8 cannot carry at position {exc.start} "
                "(a lone surrogate); fix the text"
            ) from None
        units = len(text.encode("utf-16-le")) // 2
        limit, kind = (1000, "single-byte") if text.isascii() else (500, "double-byte")
        if units > limit:
            raise refuse(
                f"is {units} characters; the gateway takes at most {limit} {kind} characters (-10)"
            )
        return units

    if not isinstance(content, str):
        raise refuse(f"expected text (str), got {type(content).__name__}")
    if not content.strip():
        raise refuse("is empty")
    units, text = check(content), content
    # The spec's own definition: Unicode's control characters (C0, DEL, C1), not the code's regex.
    control = next(
        (m for m in re.finditer(".", content, re.S) if unicodedata.category(m[0]) == "Cc"
         and m[0] not in "\t\n\r"),
        None,
    )  # fmt: skip
    if control:
        raise refuse(
            f"holds the control character U+{ord(control[0]):04X} at position "
            f"{control.start()}, which no phone shows; remove it (tab, line feed and carriage "
            "return are kept)"
        )
    if not re.search("【[^【】]+】", text):
        if rules.signature is not None:
            tag = f"【{rules.signature}】"
            text = tag + text if rules.signature_position == "start" else text + tag
            units = check(text)
        elif rules.require_signature:
            raise refuse(
                "carries no 【signature】 and the client has none configured; add one, set "
                "Client(signature=...), or Client(require_signature=False)"
            )
    if rules.unencodable != "allow" and msgfmt in ("", "15"):
        bad = [(i, ch) for i, ch in enumerate(text) if not _gbk_carries(ch)]
        if bad:
            shown = ", ".join(f"#{i} {ch!r} (U+{ord(ch):04X})" for i, ch in bad[:5])
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            message = (
                f"holds {len(bad)} character(s) GBK cannot carry: {shown}{more}; "
                "send with msgfmt=8 (UCS2) or remove them"
            )
            if rules.unencodable == "error":
                raise refuse(message)
            warnings.warn(f"{argument}: {message}", mandao.UnencodableWarning, stacklevel=2)
    single = 140 if text.isascii() else 70
    parts = 1 if units <= single else -(-units // 67)
    if rules.max_segments is not None and parts > rules.max_segments:
        raise refuse(
            f"would bill {parts} segments per message; max_segments is {rules.max_segments} "
            f"({units} characters, signature counted)"
        )
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(_ANY_CHAR.filter(lambda c: not "\ud800" <= c <= "\udfff"), min_size=1)))
def test_many_texts_encode_and_measure_as_each_alone(texts: list[str]) -> None:
    """encode_contents and measure_many agree with encode_content and segments per text."""
    assert encode_contents(texts) == ",".join(encode_content(t) for t in texts)
    if texts:
        parts, longest = measure_many(texts)
        assert parts == [segments(t) for t in texts]
        assert longest == max(estimate(t).characters for t in texts)


def _gbk_carries(ch: str) -> bool:
    try:
        ch.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True
