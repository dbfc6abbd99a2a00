"""The ledger: queries, counts and export of accepted, rejected and failed requests."""

from __future__ import annotations

import csv
import json

import pytest

SN = "SDK-TST-010-00001"


@pytest.fixture
def filled(raw, gw):
    """A gateway with two sends on two hosts, one rejection and one fault."""
    raw.send("1,2", "hello", rrid="77")
    raw.send("2", "again", "ashx", host="backup")
    raw.send("", "x")
    gw.primary.fail("code", code="-8")
    raw.send("3", "y")
    return gw


def test_queries(filled):
    """for_mobile, for_rrid, for_host, for_sn, filter and len agree with what was sent."""
    ledger = filled.ledger
    assert len(ledger) == 3
    assert [e.content for e in ledger.for_mobile("2")] == ["hello", "again"]
    assert [e.mobile for e in ledger.for_rrid("77")] == ["1", "2"]
    assert [e.protocol for e in ledger.for_host(filled.backup.send_url)] == ["ashx"]
    assert len(ledger.for_sn(SN)) == 3
    assert ledger.filter(protocol="soap11", mobile="1")[0].id == "77"
    with pytest.raises(TypeError):
        ledger.filter(colour="red")


def test_rejections_and_faults(filled):
    """Rejected requests keep code, operation, sn, host and protocol; fired faults are listed."""
    codes = [
        (r.code, r.operation, r.sn, r.host, r.protocol, r.forced) for r in filled.ledger.rejections
    ]
    assert codes == [
        ("-604", "mdsmssend", SN, filled.primary.send_url, "soap11", False),
        ("-8", "mdsmssend", SN, filled.primary.send_url, "soap11", True),
    ]
    assert filled.ledger.rejections_with("-604")[0].mobile == ""
    assert [(f.kind, f.operation) for f in filled.ledger.faults] == [("code", "mdsmssend")]


def test_export_json_and_csv(filled, tmp_path):
    """export() writes JSON (everything) or CSV (messages) that read back to the same facts."""
    data = json.loads(filled.ledger.export(tmp_path / "ledger.json").read_text(encoding="utf-8"))
    assert [m["mobile"] for m in data["messages"]] == ["1", "2", "2"]
    assert [r["code"] for r in data["rejections"]] == ["-604", "-8"]
    assert data["faults"][0]["kind"] == "code"
    rows = list(
        csv.DictReader(filled.ledger.export(tmp_path / "ledger.csv").open(encoding="utf-8"))
    )
    assert (rows[0]["mobile"], rows[0]["content"], rows[0]["scheduled"]) == ("1", "hello", "False")


def test_clear_keeps_account_state(filled):
    """clear() empties the ledger but leaves balances alone."""
    balance = filled.balance(SN)
    filled.ledger.clear()
    assert (len(filled.ledger), filled.ledger.rejections, filled.ledger.faults) == (0, [], [])
    assert filled.balance(SN) == balance


def test_entries_are_frozen(filled):
    """Ledger entries cannot be changed after the fact."""
    entry = filled.ledger.messages[0]
    with pytest.raises(AttributeError):
        entry.mobile = "0"  # type: ignore[misc]
