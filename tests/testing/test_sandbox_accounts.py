"""Shared account state: registration, the daily limit, balances, passwords, on both hosts."""

from __future__ import annotations

import httpx
import pytest

from mandao.testing import Rules, SandboxAccount, SandboxGateway

SN = "SDK-TST-010-00001"
PASSWORD = "secret"


@pytest.fixture
def fresh(raw):
    """A raw caller whose account starts unregistered."""
    raw.gw.add_account(SN, SandboxAccount(PASSWORD, registered=False))
    return raw


def test_unregistered_serial_gets_minus_2(fresh):
    """Every operation but Register answers -2 before registration."""
    for op in ("mdgetSninfo", "balance", "GetBalance", "UnRegister"):
        assert fresh.call("soap11", op) == "-2", op
    assert fresh.send("1", "x") == "-2"


def test_register_then_duplicate_then_unregister(fresh, gw):
    """Register → 0, again → -1; UnRegister → 0; then calls answer -2; Register again → 0."""
    assert fresh.call("soap11", "Register", province="北京", entname="示例") == "0"
    assert gw.account(SN).registration["entname"] == "示例"
    assert fresh.call("http-get", "Register", **dict.fromkeys(REGISTER_EXTRA, "")) == "-1"
    assert fresh.send("1", "x").isdigit()
    assert fresh.call("soap12", "UnRegister") == "0"
    assert fresh.send("1", "x") == "-2"
    assert fresh.call("soap11", "UnRegister") == "-2"
    assert fresh.call("soap11", "Register") == "0"


REGISTER_EXTRA = (
    "province",
    "city",
    "trade",
    "entname",
    "linkman",
    "phone",
    "mobile",
    "email",
    "fax",
    "address",
    "postcode",
    "sign",
)


def test_state_is_shared_between_hosts(fresh, gw):
    """A Register on the primary is seen by the backup, and a balance drained on one by both."""
    assert fresh.call("soap11", "Register", host="primary") == "0"
    assert fresh.call("soap11", "Register", host="backup") == "-1"
    gw.set_balance(SN, 5)
    fresh.send("1,2", "x", "soap11", host="backup")
    assert fresh.call("soap11", "balance", host="primary") == "3"


def test_register_limit_eleventh_gets_the_chosen_code(fresh):
    """Register + UnRegister succeed 10 times a day; the 11th answers -8 (the chosen code)."""
    answers = [fresh.call("soap11", "Register" if i % 2 == 0 else "UnRegister") for i in range(11)]
    assert answers == ["0"] * 10 + ["-8"]


def test_register_limit_resets_next_day(raw_for):
    """The daily Register/UnRegister count starts again on the next calendar day."""
    now = [1_700_000_000.0]
    with SandboxGateway(
        accounts={SN: SandboxAccount(PASSWORD, registered=False)},
        rules=Rules(register_limit=2, register_limit_code="-7"),
        clock=lambda: now[0],
    ) as gw:
        raw = raw_for(gw)
        assert [raw.call("soap11", op) for op in ("Register", "UnRegister", "Register")] == [
            "0",
            "0",
            "-7",
        ]
        assert gw.account(SN).register_changes_today == 2
        now[0] += 86400
        assert raw.call("soap11", "Register") == "0"


def test_password_forms_are_strict(raw):
    """MD5 ops refuse the plain password and plain ops refuse the MD5 form (-2)."""
    assert raw.call("soap11", "balance", pwd=PASSWORD) == "-2"
    assert raw.call("soap11", "GetBalance", pwd=SandboxGateway.pwd(SN, PASSWORD)) == "-2"
    assert raw.call("soap11", "GetBalance") == raw.call("soap11", "balance")


def test_udppwd_changes_the_password(raw, gw):
    """UDPPwd → 0; the old password then fails and the new one works."""
    assert raw.call("soap11", "UDPPwd", newpwd="n3w") == "0"
    assert raw.call("soap11", "GetBalance") == "-2"
    raw.password = "n3w"
    assert raw.call("soap11", "GetBalance") == str(gw.balance(SN))
    assert raw.call("soap11", "UDPPwd", newpwd="") == "-6"


def test_unknown_serial_is_minus_2(raw):
    """A well-formed serial the sandbox does not know answers -2."""
    raw.sn = "SDK-XXX-010-99999"
    assert raw.call("soap11", "mdgetSninfo") == "-2"


def test_mdgetsninfo_and_balance_agree(raw, gw):
    """mdgetSninfo, balance and GetBalance all report the sandbox balance."""
    gw.set_balance(SN, 1234)
    assert raw.call("soap11", "mdgetSninfo") == f'{{"SN":"{SN}","Balance":"1234"}}'
    assert raw.call("http-post", "balance") == raw.call("soap12", "GetBalance") == "1234"
    assert gw.balance(SN) == 1234


def test_client_for_without_accounts_says_to_add_one():
    """No account yet: client_for() raises LookupError saying how to add one, not a bare
    IndexError; once one is added it works."""
    with SandboxGateway() as gw:
        with pytest.raises(LookupError, match=r"no account: add one with gw\.add_account") as info:
            gw.client_for()
        assert not isinstance(info.value, IndexError)
        with pytest.raises(LookupError, match="no account"):
            gw.reply("13800138000", "TD")
        gw.add_account(SN, PASSWORD)
        assert gw.client_for().balance() == gw.balance(SN)


def test_a_reply_posted_to_an_inbox_without_accounts_is_a_400():
    """POST /api/replies with no account at all: 400 naming sn, not a server error."""
    with SandboxGateway(inbox=True) as gw:
        assert gw.inbox_url is not None
        answer = httpx.post(
            gw.inbox_url + "api/replies", json={"mobile": "13800138000", "text": "TD"}, timeout=10
        )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["parameter"] == "sn"
    assert "no account" in answer.json()["error"]["message"]


@pytest.mark.parametrize("sn", ["SDK-TST-01-00001", "sdk_tst_010_00001", "", "SDK-TST-010-00001 "])
def test_an_account_of_another_shape_than_the_gateways_is_refused(sn: str) -> None:
    """mandao.Client refuses such a serial, and the gateway answers -602 to it: the
    sandbox refuses to hold it, as it is made or added later."""
    with pytest.raises(ValueError, match="not a serial of the gateway's shape XXX-XXX-XXX-XXXXX"):
        SandboxGateway(accounts={sn: "secret"})
    gw = SandboxGateway()
    with pytest.raises(ValueError, match="refused with -602"):
        gw.add_account(sn, SandboxAccount("secret"))
    assert gw.serials == []
