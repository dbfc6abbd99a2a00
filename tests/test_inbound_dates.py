"""The gateway's timestamps: padded, unpadded, compact; always aware China time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mandao._inbound.dates import CHINA, any_time, china_time, compact_time


def test_china_is_utc_plus_eight_without_a_zone_database() -> None:
    """CHINA is a fixed +08:00 offset (tzdata is not a dependency)."""
    assert CHINA.utcoffset(None) == timedelta(hours=8)
    assert CHINA.dst(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2012-11-29 11:05:31", datetime(2012, 11, 29, 11, 5, 31)),
        ("2011-6-7 17:42:33", datetime(2011, 6, 7, 17, 42, 33)),
        ("2011-6-7 7:42", datetime(2011, 6, 7, 7, 42)),
        ("2011/6/7 7:42:33", datetime(2011, 6, 7, 7, 42, 33)),
        ("2011-06-07T07:42:33", datetime(2011, 6, 7, 7, 42, 33)),
        ("2011-06-07 07:42:33.250", datetime(2011, 6, 7, 7, 42, 33, 250000)),
        ("2011-06-06T23:42:33Z", datetime(2011, 6, 7, 7, 42, 33)),
        ("2011-06-07 07:42:33+08:00", datetime(2011, 6, 7, 7, 42, 33)),
        ("2011-06-07 08:42:33 +0900", datetime(2011, 6, 7, 7, 42, 33)),
        ("2011-6-7  7:42:33", datetime(2011, 6, 7, 7, 42, 33)),  # two spaces
    ],
)
def test_separated_timestamps(text: str, expected: datetime) -> None:
    """Padded or not, `-` or `/`, a T, fractions and offsets: all in China time."""
    got = china_time(text)
    assert got == expected.replace(tzinfo=CHINA)
    assert got is not None
    assert got.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "text",
    ["", "2012-11-29", "11:05:31", "2012-13-29 11:05:31", "2012-02-30 11:05:31",
     "2012-11-29 24:00:00", "2012-11-29 11:60:00", "2012-11-29 11:05:61", "２０１２-11-29 11:05:31",
     "20121129110531", "nonsense", "2012-11-29 11:05:31+25:00"],
)  # fmt: skip
def test_what_is_not_a_separated_timestamp_is_none(text: str) -> None:
    """Impossible dates, fragments and other shapes give None, never an exception."""
    assert china_time(text) is None


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("20240301093005", datetime(2024, 3, 1, 9, 30, 5)),
        ("240301093005", datetime(2024, 3, 1, 9, 30, 5)),
        ("2403010930", datetime(2024, 3, 1, 9, 30)),
        ("20241301093005", None),
        ("2402300930", None),
        ("30240301093005", None),
        ("123", None),
    ],
)
def test_compact_timestamps(digits: str, expected: datetime | None) -> None:
    """yyyyMMddHHmmss, yyMMddHHmmss and CMPP's YYMMDDhhmm, checked as dates."""
    want = None if expected is None else expected.replace(tzinfo=CHINA)
    assert compact_time(digits) == want


def test_any_time_takes_either_shape() -> None:
    """A field known to hold a time may hold either shape."""
    expected = datetime(2024, 3, 1, 1, 30, 5, tzinfo=UTC)
    assert any_time("2024-3-1 9:30:05") == any_time(" 20240301093005 ") == expected
    assert any_time("soon") is None
