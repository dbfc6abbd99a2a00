"""Delivery reports: the tolerant parser on every layout the sandbox can emit, and more."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mandao._inbound.cursors import report_cursor
from mandao._inbound.dates import CHINA
from mandao._inbound.decoded import Decoded
from mandao._inbound.layouts import LAYOUTS, Layout, layout
from mandao._inbound.reports import (
    DEFAULT_CLASSES,
    DeliveryClass,
    Report,
    ReportParser,
    TolerantReportParser,
)

PARSE = TolerantReportParser()
AT = datetime(2024, 3, 1, 9, 5, 7, tzinfo=CHINA)
RRID = "131233445123456701"
STATUSES = {
    "DELIVRD": DeliveryClass.DELIVERED,
    "0": DeliveryClass.DELIVERED,
    "UNDELIV": DeliveryClass.FAILED,
    "DB:0103": DeliveryClass.FAILED,
    "MK:0005": DeliveryClass.FAILED,
    "EXPIRED": DeliveryClass.EXPIRED,
    "REJECTD": DeliveryClass.REJECTED,
    "DTBLACK": DeliveryClass.REJECTED,
    "UNKNOWN": DeliveryClass.UNKNOWN,
    "XYZ:77": DeliveryClass.UNKNOWN,
}
_CORE = ("rrid", "mobile", "status", "at")


def _generated_layouts() -> list[Layout]:
    """Every order of the four core fields, with and without a report id first, each record
    separator, each time format, a mobile with and without 86: 864 layouts."""
    found = []
    for order, with_id, separator, time_format, prefix in itertools.product(
        itertools.permutations(_CORE),
        [True, False],
        ["\r\n", "\n", ";"],
        ["padded", "unpadded", "compact"],
        ["", "86"],
    ):
        fields = ("report_id", *order) if with_id else order
        name = f"{'-'.join(fields)}/{separator!r}/{time_format}/{prefix}"
        found.append(Layout(name, fields, separator, time_format, prefix))
    return found


GENERATED = _generated_layouts()
ROWS = st.lists(
    st.tuples(
        st.integers(1, 10**12),
        st.from_regex(r"[1-9][0-9]{17}", fullmatch=True),
        st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
        st.sampled_from(sorted(STATUSES)),
        st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
            lambda d: d.replace(microsecond=0, tzinfo=CHINA)
        ),
    ),
    min_size=1,
    max_size=5,
)


def _expected(row: tuple[int, str, str, str, datetime], shape: Layout, raw: str) -> Report:
    report_id, rrid, mobile, status, at = row
    has_id = "report_id" in shape.fields
    return Report(
        rrid, mobile, status, STATUSES[status], at, str(report_id) if has_id else None, raw
    )


def _round_trip(shape: Layout, rows: list[tuple[int, str, str, str, datetime]]) -> None:
    records = [shape.render(*row) for row in rows]
    decoded = PARSE(shape.join(records))
    assert decoded.unreadable == ()
    assert list(decoded.items) == [
        _expected(row, shape, raw) for row, raw in zip(rows, records, strict=True)
    ]


@pytest.mark.parametrize("shape", LAYOUTS, ids=lambda shape: shape.name)
@settings(max_examples=25, deadline=None)
@given(rows=ROWS)
def test_every_sandbox_layout_round_trips(
    shape: Layout, rows: list[tuple[int, str, str, str, datetime]]
) -> None:
    """What a layout of LAYOUTS renders, the default parser reads back exactly."""
    _round_trip(shape, rows)


@settings(max_examples=150, deadline=None)
@given(shape=st.sampled_from(GENERATED), rows=ROWS)
def test_generated_layouts_round_trip(
    shape: Layout, rows: list[tuple[int, str, str, str, datetime]]
) -> None:
    """Any field order, with or without a report id first, any separator and time format."""
    _round_trip(shape, rows)


def test_each_generated_layout_reads_one_fixed_record() -> None:
    """All 864 generated layouts, each once, on one fixed record (no sampling)."""
    for shape in GENERATED:
        for status in ("DELIVRD", "0"):
            _round_trip(shape, [(42, RRID, "13800138000", status, AT)])


@pytest.mark.parametrize("rrid", ["7", "1001", "12345678", "987654321098765"])
def test_a_short_rrid_after_the_report_id_is_the_rrid(rrid: str) -> None:
    """A caller's own rrid (any length up to 18) after a report id is still the rrid."""
    (report,) = PARSE(f"99,{rrid},13800138000,DELIVRD,2024-03-01 09:05:07").items
    assert (report.report_id, report.rrid) == ("99", rrid)


def test_one_id_alone_is_a_report_id_first_and_an_rrid_elsewhere() -> None:
    """A lone short id is the report id in the first field, the rrid in another."""
    first = PARSE("12,13800138000,DELIVRD,2024-03-01 09:05:07").items[0]
    later = PARSE("13800138000,12,DELIVRD,2024-03-01 09:05:07").items[0]
    assert (first.report_id, first.rrid) == ("12", None)
    assert (later.report_id, later.rrid) == (None, "12")


def test_a_report_id_past_xs_long_is_not_a_cursor() -> None:
    """An id too big for maxid (xs:long) is no report id; the record still decodes."""
    (report,) = PARSE(f"{2**63},{RRID},13800138000,DELIVRD").items
    assert (report.report_id, report.rrid, report.at) == (None, RRID, None)
    (huge,) = PARSE(f"{'9' * 5000},{RRID},13800138000,DELIVRD").items  # past int()'s limit
    assert (huge.report_id, huge.rrid) == (None, RRID)


def test_an_id_that_looks_like_a_mobile_in_the_first_field_is_an_id() -> None:
    """Two mobile-shaped fields: the first field is taken for the id, the next is the mobile."""
    (report,) = PARSE("13000000001,13800138000,DELIVRD,2024-03-01 09:05:07").items
    assert (report.report_id, report.mobile) == ("13000000001", "13800138000")


def test_the_later_of_two_timestamps_is_the_report_time() -> None:
    """Submit time then done time: the report's time is the done time."""
    raw = f"{RRID},13800138000,DELIVRD,2024-03-01 09:05:00,2024-03-01 09:05:07"
    assert PARSE(raw).items[0].at == AT
    cmpp = f"5,{RRID},13800138000,DELIVRD,2403010905,2403010906"
    assert PARSE(cmpp).items[0].at == AT.replace(minute=6, second=0)


def test_statuses_map_to_classes_and_keep_their_token() -> None:
    """Each known token gets its class; the operator's token is kept as received."""
    for token, outcome in STATUSES.items():
        (report,) = PARSE(f"1,{RRID},13800138000,{token.lower()},2024-03-01 09:05:07").items
        assert (report.status, report.outcome) == (token.lower(), outcome)


def test_classes_are_configurable() -> None:
    """A user's table adds tokens (numeric ones too) and prefix rules."""
    parse = TolerantReportParser(
        classes={**DEFAULT_CLASSES, "2": DeliveryClass.FAILED, "ZZ:*": DeliveryClass.EXPIRED}
    )
    assert parse(f"{RRID},13800138000,2,2024-03-01 09:05:07").items[0].outcome is (
        DeliveryClass.FAILED
    )
    assert parse.outcome("zz:9") is DeliveryClass.EXPIRED
    assert PARSE.outcome("zz:9") is DeliveryClass.UNKNOWN


def test_separators_are_configurable() -> None:
    """A parser for a `|`-separated layout with `#` between records."""
    parse = TolerantReportParser(record_separators=("#",), field_separator="|")
    decoded = parse(f"1|{RRID}|13800138000|DELIVRD#2|{RRID}|13900139000|UNDELIV")
    assert [r.outcome for r in decoded.items] == [DeliveryClass.DELIVERED, DeliveryClass.FAILED]
    with pytest.raises(ValueError, match="also separates records"):
        TolerantReportParser(record_separators=(",",))
    with pytest.raises(ValueError, match="empty"):
        TolerantReportParser(record_separators=("",))


@pytest.mark.parametrize("raw", ["", "1", "0", " 0\r\n", "\r\n;\n"])
def test_empty_results_are_no_reports(raw: str) -> None:
    """`1`, `0` and blanks hold no record."""
    decoded = PARSE(raw)
    assert (decoded.items, decoded.unreadable) == ((), ())


def test_a_negative_code_is_refused() -> None:
    """A result code (-16: bad report-store parameter) must be decoded before parsing."""
    with pytest.raises(ValueError, match="result code"):
        PARSE("-16")


def test_records_with_no_mobile_or_no_status_are_kept_unreadable() -> None:
    """Records lacking a mobile or a status are kept whole, beside the good ones."""
    raw = "\r\n".join(
        [f"1,{RRID},DELIVRD", f"2,{RRID},13800138000", f"3,{RRID},13800138000,DELIVRD", "junk"]
    )
    decoded = PARSE(raw)
    assert [r.report_id for r in decoded.items] == ["3"]
    assert [(u.raw, u.reason) for u in decoded.unreadable] == [
        (f"1,{RRID},DELIVRD", "no mobile found in the record"),
        (f"2,{RRID},13800138000", "no status found in the record"),
        ("junk", "no mobile found in the record"),
    ]


def test_spaces_and_quotes_around_fields_are_ignored() -> None:
    """Fields are stripped of spaces and quotes; raw keeps them."""
    raw = f' 1 , "{RRID}" ,+8613800138000, DELIVRD ,"2024-03-01 09:05:07"'
    (report,) = PARSE(raw).items
    assert (report.mobile, report.status, report.at, report.raw) == (
        "13800138000", "DELIVRD", AT, raw
    )  # fmt: skip


def test_a_replacement_parser_fits_the_protocol() -> None:
    """Any callable from text to Decoded[Report] is a ReportParser: the seam users fill."""

    def vendor_format(raw: str) -> Decoded[Report]:
        return PARSE(raw.replace("|", ","))

    parsers: list[ReportParser] = [vendor_format, TolerantReportParser(field_separator="|")]
    for parser in parsers:
        assert parser(f"1|{RRID}|13800138000|DELIVRD").items[0].rrid == RRID


def test_layout_lookup_and_validation() -> None:
    """layout(name) finds a sandbox layout; a bad layout is refused at once."""
    assert layout(LAYOUTS[0].name) is LAYOUTS[0]
    with pytest.raises(KeyError, match="known"):
        layout("nope")
    with pytest.raises(ValueError, match="fields"):
        Layout("bad", ("rrid", "mobile"))
    with pytest.raises(ValueError, match="time_format"):
        Layout("bad", _CORE, time_format="iso")


def test_a_layout_writes_naive_and_foreign_times_as_china_time() -> None:
    """render() takes a naive time as China time and converts an aware one."""
    shape = layout("rrid-mobile-status-at/crlf")
    utc = (AT - timedelta(hours=8)).replace(tzinfo=None)
    assert shape.render(None, RRID, "13800138000", "0", utc.replace(tzinfo=UTC)).endswith(
        "2024-03-01 09:05:07"
    )
    assert shape.render(None, RRID, "13800138000", "0", AT.replace(tzinfo=None)).endswith(
        "2024-03-01 09:05:07"
    )


def test_an_unreadable_record_moves_the_cursor_only_where_records_lead_with_their_id() -> None:
    """The cursor goes past an unreadable record by the id it leads with when the records
    read show that the layout leads with ids; in a layout without ids its lead is an rrid
    (or a mobile), and a cursor there would skip every later report."""
    with_ids = PARSE(f"7,{RRID},13800138000,DELIVRD\r\n9,{RRID},DELIVRD")
    assert [u.raw.split(",")[0] for u in with_ids.unreadable] == ["9"]
    assert report_cursor(with_ids) == 9
    without = PARSE(f"{RRID},13800138000,DELIVRD\r\n{RRID[:-1]}9,DELIVRD")
    assert [r.report_id for r in without.items] == [None]
    assert len(without.unreadable) == 1
    assert report_cursor(without) is None
    # Ids first, but a lead longer than theirs is no id of the same run (an rrid).
    longer = PARSE(f"7,{RRID},13800138000,DELIVRD\r\n{RRID},DELIVRD")
    assert report_cursor(longer) == 7
    # The layout cannot be told from unreadable records alone: no cursor from them.
    assert report_cursor(PARSE("9,garbled\r\n10,garbled")) is None
