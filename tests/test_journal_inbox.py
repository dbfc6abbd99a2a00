"""The journal's side of what comes back: resolutions, the suppression list, replies and
reports stored (matched, resolving, de-duplicated, kept raw), on both backends."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from mandao import ValidationError
from mandao._fetching import ReplyFetch, ReportFetch
from mandao._inbound.optout import OptOut
from mandao._inbound.reports import TolerantReportParser
from mandao._journal import Journal, export

SN = "SDK-TST-010-00001"


@pytest.fixture(params=["sqlite", "postgresql"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journal]:
    location: Path | str = tmp_path / "j.sqlite3"
    if request.param == "postgresql":
        location = request.getfixturevalue("postgresql_url")
    with Journal(location) as opened:
        yield opened


def _attempt(journal: Journal, rrid: str, mobiles: list[str], outcome: str | None) -> int:
    seq = journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=mobiles,
                        content="通知【示例】", rrid=rrid)  # fmt: skip
    if outcome is not None:
        journal.complete(seq, outcome, result=rrid if outcome == "accepted" else "")  # type: ignore[arg-type]
    return seq


def test_resolve_marks_an_attempt_once_with_its_evidence(journal: Journal) -> None:
    """An unknown attempt resolved keeps its first resolution; it shows on Attempt and in
    exports; the chain of send rows still verifies."""
    seq = _attempt(journal, "11", ["13800138000"], "unknown")
    assert journal.resolve([seq], outcome="sent", evidence="ledger row 4", source="ledger") == 1
    assert journal.resolve([seq], outcome="not-sent", evidence="second word") == 0
    (found,) = journal.attempts()
    assert found.resolution is not None
    assert (found.resolution.outcome, found.resolution.source) == ("sent", "ledger")
    assert found.settled
    assert found.outcome == "unknown"
    out = io.StringIO()
    export(journal, out)
    assert json.loads(out.getvalue())["resolution"]["evidence"] == "ledger row 4"
    assert journal.verify().ok


def test_resolve_refuses_what_it_cannot_record(journal: Journal) -> None:
    with pytest.raises(ValidationError, match="sent or not-sent"):
        journal.resolve([1], outcome="maybe", evidence="x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="what shows it"):
        journal.resolve([1], outcome="sent", evidence=" ")


def test_suppression_is_per_serial_and_extension(journal: Journal) -> None:
    """An entry without an extension stops every send of its serial; one with an extension
    stops sends on it only; another serial is not touched."""
    assert journal.suppress("+86 138 0013 8000", sn=SN, reason="asked")
    assert not journal.suppress("13800138000", sn=SN)
    journal.suppress("13900139000", sn=SN, ext="12")
    numbers = ["13800138000", "13900139000", "13700137000"]
    assert journal.suppressed(numbers, sn=SN) == {"13800138000"}
    assert journal.suppressed(numbers, sn=SN, ext="12") == {"13800138000", "13900139000"}
    assert journal.suppressed(numbers, sn="SDK-TST-010-00002") == set()
    assert [s.mobile for s in journal.suppressions(sn=SN)] == ["13800138000", "13900139000"]
    assert journal.unsuppress("13800138000", sn=SN) == 1
    assert journal.suppressed(numbers, sn=SN) == set()


def test_a_reply_fetch_is_kept_then_stored_once_and_opt_outs_listed(journal: Journal) -> None:
    """A fetch's raw answer is kept and decoded; a repeated reply is stored once; a TD
    reply lists its number for the extension it came in on; a bad line is kept, once."""
    raw = ("1,10657012,13800138000,TD,2026-12-1 9:30:00\r\n"
           "2,10657,13900139000,%C4%E3%BA%C3,2026-12-01 09:31:00\r\nnot a reply")  # fmt: skip
    first = ReplyFetch.start(journal, SN, "mo", _inbound(), "10657")
    first.take(raw)
    fetched = first.result("http://h")
    assert [r.text for r in fetched] == ["TD", "你好"]
    assert [u.raw for u in fetched.unreadable] == ["not a reply"]
    assert fetched.suppressed == ("13800138000",)
    again = ReplyFetch.start(journal, SN, "mo", _inbound(), "10657")
    again.take(raw)
    assert list(again.result("h")) == []  # stored before: not new
    assert [s.ext for s in journal.suppressions(sn=SN)] == ["012"]
    assert [r.text for r in journal.replies(sn=SN)] == ["TD", "你好"]
    # The bad line is kept once, as the replies are (the second fetch still reports it).
    assert [u.raw for u in again.result("h").unreadable] == ["not a reply"]
    assert [(t, u.raw) for t, u in journal.unreadable(sn=SN)] == [("replies", "not a reply")]


def test_a_fetch_kept_but_not_stored_is_decoded_by_the_next(journal: Journal) -> None:
    """A crash between keeping and storing: the next fetch's recover() returns it."""
    journal._keep(SN, "mo", "7,10657,13800138000,%BA%C3,2026-12-1 9:30:00")
    fetch = ReplyFetch.start(journal, SN, "mo", _inbound(), None)
    fetch.recover()
    result = fetch.result("")
    assert [r.text for r in result] == ["好"]
    assert result.recovered == 1
    later = ReplyFetch.start(journal, SN, "mo", _inbound(), None)
    later.recover()
    assert later.result("").recovered == 0


def test_mo2_moves_its_cursor_with_what_it_stored(journal: Journal) -> None:
    fetch = ReplyFetch.start(journal, SN, "mo2", _inbound(), None)
    assert fetch.values() == {"maxID": "0"}
    fetch.take("41,106,13800138000,a,2026-12-1 9:30:00\r\n42,106,13800138000,b,2026-12-1 9:31:00")
    assert ReplyFetch.start(journal, SN, "mo2", _inbound(), None).values() == {"maxID": "42"}


def test_reports_match_attempts_resolve_unknowns_and_move_the_cursor(journal: Journal) -> None:
    """Reports are matched by rrid and mobile; an unknown attempt they name is resolved as
    sent; an accepted one is only matched; the cursor moves to the largest report id."""
    sent = _attempt(journal, "100", ["13800138000", "13900139000"], "accepted")
    unknown = _attempt(journal, "200", ["13700137000"], "unknown")
    raw = ("1,100,13800138000,DELIVRD,2026-12-1 9:30:00\r\n"
           "2,100,13900139000,UNDELIV,2026-12-1 9:30:01\r\n"
           "3,200,13700137000,DELIVRD,2026-12-1 9:30:02\r\n"
           "4,999,13600136000,DELIVRD,2026-12-1 9:30:03")  # fmt: skip
    fetch = ReportFetch.start(journal, SN, None, _inbound())
    assert fetch.values() == {"maxid": "0"}
    fetch.take(raw, "0")
    result = fetch.result("h")
    assert len(result) == 4
    assert result.matched == 3
    assert result.resolved == (unknown,)
    assert journal.deliveries(sent) == {"13800138000": "delivered", "13900139000": "failed"}
    by_seq = {a.seq: a for a in journal.attempts()}
    assert by_seq[unknown].resolution is not None
    assert by_seq[sent].resolution is None
    assert ReportFetch.start(journal, SN, None, _inbound()).values() == {"maxid": "4"}
    assert [r.mobile for r in journal.reports(rrid="100")] == ["13800138000", "13900139000"]


def test_a_parser_that_fails_keeps_the_fetch_whole(journal: Journal) -> None:
    """A user's parser raising: the whole answer is kept as unreadable, nothing lost."""

    def broken(raw: str) -> object:
        raise RuntimeError("cannot")

    fetch = ReportFetch.start(journal, SN, None, _inbound(parser=broken))
    fetch.take("1,100,13800138000,DELIVRD", "0")
    (kept,) = fetch.result("h").unreadable
    assert kept.raw == "1,100,13800138000,DELIVRD"
    assert "RuntimeError" in kept.reason


def test_fetches_age_by_the_retention_rule_but_suppressions_stay(journal: Journal) -> None:
    journal.suppress("13800138000", sn=SN)
    ReplyFetch.start(journal, SN, "mo", _inbound(), None).take("1,1,13900139000,x,2026-1-1 1:00:00")
    journal.prune("2999-01-01", override=True)
    assert journal.replies() == []
    assert len(journal.suppressions()) == 1


def _inbound(parser: object = None) -> object:
    from mandao._fetching import Inbound

    return Inbound(OptOut(), parser or TolerantReportParser(), None)  # type: ignore[arg-type]


def test_replies_reports_and_the_list_export_masked(journal: Journal) -> None:
    """`journal export` of what came back: numbers masked (in the raw line too) unless asked."""
    from mandao._journal import export_inbound

    ReplyFetch.start(journal, SN, "mo", _inbound(), None).take(
        "1,1,13900139000,hi,2026-1-1 1:00:00"
    )
    journal.suppress("13800138000", sn=SN)
    out = io.StringIO()
    assert export_inbound(journal, out, "replies") == 1
    row = json.loads(out.getvalue())
    assert row["mobile"] == "139****9000"
    assert "13900139000" not in row["raw"]
    whole = io.StringIO()
    export_inbound(journal, whole, "suppressions", "csv", unmask=True)
    assert whole.getvalue().splitlines()[1].startswith(SN + ",13800138000,")


def test_a_recovered_report_fetch_moves_no_cursor(journal: Journal) -> None:
    """A report2 answer kept before a crash holds ids of report's sequence too: recovering
    it must not move report's cursor past other sends' reports."""
    journal._keep(SN, "report2", "6,100,13800138000,DELIVRD,2026-12-1 9:30:00")
    fetch = ReportFetch.start(journal, SN, None, _inbound())
    fetch.recover()
    assert fetch.result("").recovered == 1
    assert ReportFetch.start(journal, SN, None, _inbound()).values() == {"maxid": "0"}


def test_a_nul_in_a_reply_is_stored_on_both_backends(journal: Journal) -> None:
    """%00 decodes to a NUL, which PostgreSQL's text cannot hold: stored as U+FFFD, and the
    opt-out beside it still listed (the fetch is not stuck)."""
    fetch = ReplyFetch.start(journal, SN, "mo", _inbound(), None)
    fetch.take(
        "1,106,13800138000,a%00b,2026-12-1 9:30:00\r\n2,106,13900139000,TD,2026-12-1 9:30:00"
    )
    assert [r.text for r in journal.replies()] == ["a\ufffdb", "TD"]
    assert journal.suppressed(["13900139000"], sn=SN) == {"13900139000"}


def test_a_long_reply_is_stored_on_both_backends(journal: Journal) -> None:
    """A reply of 3,000 different characters: its key is past what PostgreSQL's unique
    index holds (it raised on every fetch, each retrying it first: no reply came again).
    Stored once, on both backends, and the next fetch goes on."""
    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(3000))
    line = f"1,106,13800138000,{quote(text.encode('gb18030'))},2026-12-1 9:30:00"
    for _ in range(2):
        fetch = ReplyFetch.start(journal, SN, "mo", _inbound(), None)
        fetch.take(line)
    assert [r.text for r in journal.replies()] == [text]
    later = ReplyFetch.start(journal, SN, "mo", _inbound(), None)
    later.recover()  # nothing left undecoded
    assert later.result("").recovered == 0


def test_a_number_that_is_no_ascii_number_or_past_mo2s_int_moves_no_cursor(
    journal: Journal,
) -> None:
    """A moID of '²' (a digit to str.isdigit, not to int) no longer fails every later
    fetch; a garbled mo2 line that starts with a mobile number does not move mo2's cursor
    past its xs:int (every later mo2 call would be a fault)."""
    fetch = ReplyFetch.start(journal, SN, "mo2", _inbound(), None)
    fetch.take(
        "10000001,106,13900000001,TD,2024-3-1 9:30:00\r\n"
        "²,106,13900000002,%CD%CB%B6%A9,2024-3-1 9:31:00\r\n"
        "13900000003,TD"
    )
    assert journal._cursor(f"mo2:{SN}") == "10000001"
    again = ReplyFetch.start(journal, SN, "mo2", _inbound(), None)
    again.recover()  # nothing left undecoded, nothing raised
    assert again.result("").recovered == 0
    assert journal.suppressed(["13900000001"], sn=SN) == {"13900000001"}


def test_reports_match_per_pair_rrids_and_prefer_the_accepted_attempt(journal: Journal) -> None:
    """An mdgxsend's column lists one rrid per number; a request refused (-8) and sent
    again keeps its rrid: the accepted attempt gets the report. A report stored before is
    not returned again."""
    numbers = ["13800138000", "13900139000"]
    pairs = journal.begin(
        sn=SN, operation="mdgxsend", host="h", rrid="101,102", recipients=numbers, content="ab"
    )
    journal.complete(pairs, "unknown")
    refused = _attempt(journal, "300", ["13700137000"], "rejected")
    accepted = _attempt(journal, "300", ["13700137000"], "accepted")
    raw = ("1,102,13900139000,DELIVRD,2026-12-1 9:30:00\r\n"
           "2,300,13700137000,DELIVRD,2026-12-1 9:30:00")  # fmt: skip
    fetch = ReportFetch.start(journal, SN, None, _inbound())
    fetch.take(raw, "0")
    got = fetch.result("h")
    assert (got.matched, got.resolved) == (2, (pairs,))
    assert journal.deliveries(accepted) == {"13700137000": "delivered"}
    assert journal.deliveries(refused) == {}
    again = ReportFetch.start(journal, SN, None, _inbound())
    again.take(raw, "0")
    assert list(again.result("h")) == []


def test_attempts_read_with_their_deliveries(journal: Journal) -> None:
    """attempts(deliveries=True) fills each attempt's per-recipient status from its reports."""
    seq = _attempt(journal, "500", ["13800138000", "13900139000"], "accepted")
    fetch = ReportFetch.start(journal, SN, None, _inbound())
    fetch.take("1,500,13800138000,DELIVRD,2026-12-1 9:30:00", "0")
    (plain,) = journal.attempts()
    (full,) = journal.attempts(deliveries=True)
    assert plain.deliveries is None
    assert (full.seq, full.deliveries) == (seq, {"13800138000": "delivered"})


def test_an_unreadable_report_in_a_layout_without_ids_leaves_the_cursor(journal: Journal) -> None:
    """Records that lead with their rrid (no report id): one that cannot be read is kept,
    and its leading rrid is no cursor (every later report would be asked past)."""
    rrid = "131233445123456701"
    fetch = ReportFetch.start(journal, SN, None, _inbound())
    fetch.take(f"{rrid},13800138000,DELIVRD\r\n{rrid},DELIVRD", "0")
    result = fetch.result("h")
    assert (len(result), len(result.unreadable)) == (1, 1)
    assert ReportFetch.start(journal, SN, None, _inbound()).values() == {"maxid": "0"}
