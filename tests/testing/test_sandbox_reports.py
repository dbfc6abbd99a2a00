"""Delivery reports: one per recipient, on a report clock tests move, in several layouts."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

import pytest

from mandao.testing import REPORT_LAYOUTS, STATUSES, ReportSettings, SandboxGateway

SN = "SDK-TST-010-00001"
PASSWORD = "secret"
ASMX = ["soap11", "soap12", "http-get", "http-post"]
NOW = 1_780_000_000.0  # a fixed clock: 2026-05-28 in China
TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def _records(result: str, separator: str = "\r\n") -> list[list[str]]:
    return [record.split(",") for record in result.split(separator)]


@pytest.fixture
def clocked(raw_for):
    """A gateway on a fixed clock (with its raw caller), reports configured per test."""
    made = []

    def make(**settings):
        gw = SandboxGateway(
            accounts={SN: PASSWORD}, clock=lambda: NOW, reports=ReportSettings(**settings)
        ).start()
        made.append(gw)
        return gw, raw_for(gw)

    yield make
    for gw in made:
        gw.stop()


@pytest.mark.parametrize("protocol", ASMX)
def test_one_report_per_recipient_served_by_report(clocked, protocol):
    """A send to three numbers gives three DELIVRD records id,rrid,mobile,status,time."""
    gw, raw = clocked()
    assert raw.send("13800000001,13800000002,13800000003", "hi", rrid="4242") == "4242"
    records = _records(raw.call(protocol, "report", maxid="0"))
    assert [r[1:4] for r in records] == [["4242", f"1380000000{i}", "DELIVRD"] for i in (1, 2, 3)]
    ids = [int(r[0]) for r in records]
    assert ids == sorted(set(ids))
    assert {r[4] for r in records} == {
        datetime.fromtimestamp(NOW, gw.reports()[0].time.tzinfo).strftime("%Y-%m-%d %H:%M:%S")
    }
    assert [(r.id, r.rrid, r.mobile, r.status) for r in gw.reports()] == [
        (int(r[0]), r[1], r[2], r[3]) for r in records
    ]


@pytest.mark.parametrize("protocol", ASMX)
def test_maxid_is_a_cursor_and_reading_does_not_consume(clocked, protocol):
    """report(maxid) returns records with an id above maxid; asking again returns them again."""
    _, raw = clocked()
    raw.send("13800000001,13800000002", "a")
    first, second = (int(r[0]) for r in _records(raw.call(protocol, "report", maxid="0")))
    assert [int(r[0]) for r in _records(raw.call(protocol, "report", maxid=str(first)))] == [second]
    assert raw.call(protocol, "report", maxid=str(second)) == "1"
    assert len(_records(raw.call(protocol, "report", maxid="0"))) == 2


def test_the_generated_id_is_the_reports_rrid(clocked):
    """Without an rrid the reports carry the id the gateway returned."""
    gw, raw = clocked()
    returned = raw.send("13800000001", "x")
    assert [r.rrid for r in gw.reports()] == [returned]


@pytest.mark.parametrize("protocol", ASMX)
def test_report2_filters_one_batch(clocked, protocol):
    """report2(maxid, rrid) returns only the records of that rrid; an empty rrid all."""
    _, raw = clocked()
    raw.send("13800000001,13800000002", "a", rrid="111")
    raw.send("13800000003", "b", rrid="222")
    only = _records(raw.call(protocol, "report2", maxid="0", rrid="222"))
    assert [(r[1], r[2]) for r in only] == [("222", "13800000003")]
    assert raw.call(protocol, "report2", maxid="0", rrid="333") == "1"
    assert len(_records(raw.call(protocol, "report2", maxid="0", rrid=""))) == 3


def test_delay_on_a_clock_the_test_moves(clocked):
    """Reports come due after their delay on the report clock: advance_reports moves it."""
    gw, raw = clocked(delay=60)
    raw.send("13800000001,13800000002", "later")
    assert raw.call("soap11", "report", maxid="0") == "1"
    assert len(gw.reports(pending=True)) == 2
    assert gw.advance_reports(59.5) == 0
    assert raw.call("soap11", "report", maxid="0") == "1"
    assert gw.advance_reports(0.5) == 2
    assert len(_records(raw.call("soap11", "report", maxid="0"))) == 2
    assert gw.reports(pending=True) == []


def test_release_reports_makes_everything_due(clocked):
    """release_reports() makes every report due at once, whatever its delay."""
    gw, raw = clocked(delay=3600)
    raw.send("13800000001", "x")
    assert gw.release_reports() == 1
    assert _records(raw.call("soap11", "report", maxid="0"))[0][3] == "DELIVRD"


def test_a_late_report_still_gets_a_higher_id(clocked):
    """Ids are given when a report comes due, so a cursor never skips one that came late."""
    gw, raw = clocked()
    raw.send("13800000001", "now")
    gw.configure_reports(delay=10)
    raw.send("13800000002", "later")
    seen = int(_records(raw.call("soap11", "report", maxid="0"))[0][0])
    gw.advance_reports(10)
    late = _records(raw.call("soap11", "report", maxid=str(seen)))
    assert [(int(r[0]) > seen, r[2]) for r in late] == [(True, "13800000002")]


def test_a_scheduled_send_reports_after_its_stime(clocked):
    """A send with a future stime is reported after that time (plus the delay)."""
    gw, raw = clocked()
    stime = (datetime.fromtimestamp(NOW) + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    raw.send("13800000001", "at nine", stime=stime)
    assert raw.call("soap11", "report", maxid="0") == "1"
    assert gw.advance_reports(3600) == 1


def test_exactly_ten_percent_of_a_thousand_fail(clocked):
    """failed=0.1 on 1,000 recipients: exactly 100 UNDELIV, read through the cursor."""
    _, raw = clocked(failed=0.1, per_call=300)
    mobiles = [f"139{i:08d}" for i in range(1000)]
    raw.send(",".join(mobiles), "campaign", rrid="9001")
    statuses: Counter[str] = Counter()
    seen, maxid, calls = set(), 0, 0
    while (result := raw.call("soap11", "report", maxid=str(maxid))) != "1":
        records = _records(result)
        assert len(records) <= 300
        statuses.update(r[3] for r in records)
        seen.update(r[2] for r in records)
        maxid = int(records[-1][0])
        calls += 1
    assert (statuses["DELIVRD"], statuses["UNDELIV"], calls) == (900, 100, 4)
    assert seen == set(mobiles)


def test_shares_of_every_status_and_overrides(clocked):
    """Shares of UNDELIV, EXPIRED, REJECTD are met exactly; overrides win per number."""
    gw, raw = clocked(failed=0.2, expired=0.1, rejected=0.05, overrides={"13700000000": "DB:0103"})
    raw.send(",".join(["13700000000", *(f"139{i:08d}" for i in range(200))]), "mix")
    counts = Counter(r.status for r in gw.reports())
    assert counts == {"DELIVRD": 130, "UNDELIV": 40, "EXPIRED": 20, "REJECTD": 10, "DB:0103": 1}
    assert set(STATUSES) <= set(counts)


def test_empty_answer_and_switching_off(clocked):
    """empty= sets what an empty fetch answers; enabled=False makes no reports."""
    gw, raw = clocked(empty="0")
    assert raw.call("soap11", "report", maxid="0") == "0"
    gw.configure_reports(enabled=False)
    raw.send("13800000001", "x")
    assert gw.reports() == []
    assert gw.reports(pending=True) == []


@pytest.mark.parametrize("layout", REPORT_LAYOUTS, ids=lambda layout: layout.name)
def test_every_layout_writes_its_fields_and_separator(clocked, layout):
    """Each named layout writes its fields in order between its separators."""
    gw, raw = clocked(layout=layout.name, overrides={"13800000002": "UNDELIV"})
    raw.send("13800000001,13800000002", "x", rrid="77")
    result = raw.call("http-get", "report", maxid="0")
    records = [
        dict(zip(layout.fields, r.split(","), strict=True)) for r in result.split(layout.separator)
    ]
    assert [(r["rrid"], r["mobile"], r["status"]) for r in records] == [
        ("77", "13800000001", "DELIVRD"),
        ("77", "13800000002", "UNDELIV"),
    ]  # fmt: skip
    assert all(bool(TIME.fullmatch(r["time"])) == layout.padded for r in records)
    assert all(("id" in r) == layout.has_id for r in records)
    assert result == layout.render(gw.reports())


@pytest.mark.parametrize("name", ["crlf-no-id", "semicolon-no-id"])
def test_a_layout_without_ids_hands_each_record_out_once(clocked, name):
    """With no id to move a cursor by, each record is handed out once, whatever maxid says."""
    _, raw = clocked(layout=name)
    raw.send("13800000001", "x")
    assert raw.call("soap11", "report", maxid="0").split(",")[1] == "13800000001"
    assert raw.call("soap11", "report", maxid="0") == "1"
    raw.send("13800000002", "y")
    assert raw.call("soap11", "report2", maxid="0", rrid="").split(",")[1] == "13800000002"


def test_reports_are_per_serial(raw_for):
    """A serial reads only the reports of its own sends."""
    other = "SDK-TST-010-00002"
    with SandboxGateway(accounts={SN: PASSWORD, other: "pw"}) as gw:
        raw_for(gw).send("13800000001", "mine")
        assert raw_for(gw, other, "pw").call("soap11", "report", maxid="0") == "1"
        assert [r.sn for r in gw.reports()] == [SN]


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"failed": 1.5}, "fractions"),
        ({"failed": 0.6, "expired": 0.5}, "fractions"),
        ({"delay": -1}, "delay"),
        ({"layout": "xml"}, "layout"),
        ({"overrides": {"1": "A,B"}}, "token"),
        ({"per_call": 0}, "per_call"),
    ],
)
def test_settings_are_checked(bad, match):
    """Out-of-range shares, a negative delay, an unknown layout, a bad token are refused."""
    with pytest.raises(ValueError, match=match):
        ReportSettings(**bad)


def test_zeep_reads_reports_over_every_binding(gw):
    """zeep on the served WSDL sends maxid as an xs:long over SOAP 1.1/1.2 and HTTP GET/POST."""
    import zeep

    client = zeep.Client(gw.primary.account_url + "?wsdl")
    pwd = gw.pwd(SN, PASSWORD)
    gw.client_for().send("13800138000", "zeep【示例】")
    for binding in (
        "WebServiceSoap",
        "WebServiceSoap12",
        "WebServiceHttpGet",
        "WebServiceHttpPost",
    ):
        service = client.bind("WebService", binding)
        record = str(service.report(SN, pwd, 0)).split(",")
        assert (record[2], record[3]) == ("13800138000", "DELIVRD"), binding
        assert str(service.report2(SN, pwd, int(record[0]), "")) == "1"
        assert str(service.mo2(SN, pwd, 0)) == "1"
