"""Client against the sandbox: every operation on every protocol, results and decoded errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mandao
from mandao.cli.demo import REGISTRATION
from mandao.testing import SandboxAccount, SandboxGateway

from .conftest import PASSWORD, SN, MakeClient

PROTOCOLS = ["soap11", "soap12", "http-get", "http-post", "ashx"]
TRICKY = "a+b, c&d <x> 100% 空 格 验证码 😀【示例】"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_group_send_arrives_exactly_on_every_protocol(
    gateway: SandboxGateway, make_client: MakeClient, protocol: str
) -> None:
    """mdsmssend carries + , & < % spaces, Chinese and an emoji unchanged to the ledger."""
    client = make_client(SN, PASSWORD, protocol=protocol)
    with pytest.warns(mandao.UnencodableWarning, match="U\\+1F600"):  # GBK has no emoji
        result = client.send(["13800138000", "13900139000"], TRICKY, rrid="777")
    assert (result.id, result.rrid, result.protocol) == ("777", "777", protocol)
    assert result.host == gateway.hosts[0]
    entries = gateway.ledger.messages
    assert [(e.mobile, e.content, e.protocol, e.operation) for e in entries] == [
        ("13800138000", TRICKY, protocol, "mdsmssend"),
        ("13900139000", TRICKY, protocol, "mdsmssend"),
    ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_personalised_send_keeps_lists_parallel_on_every_protocol(
    gateway: SandboxGateway, make_client: MakeClient, protocol: str
) -> None:
    """mdgxsend: each text is encoded alone, so commas inside a text keep the lists aligned."""
    client = make_client(SN, PASSWORD, protocol=protocol)
    texts = {"13800138000": "张三, 您好, 1+1=2【示例】", "13900139000": TRICKY}
    with pytest.warns(mandao.UnencodableWarning, match="U\\+1F600"):  # GBK has no emoji
        result = client.send_personalized(texts)
    assert result.operation == "mdgxsend"
    assert result.id.isdigit()
    assert {e.mobile: e.content for e in gateway.ledger.messages} == texts


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_account_operations_work_on_every_protocol(protocol: str) -> None:
    """Register, mdgetSninfo, balance and UnRegister decode on every protocol."""
    with SandboxGateway(
        accounts={SN: SandboxAccount(PASSWORD, registered=False, balance=50)}
    ) as gw:
        client = gw.client(SN, PASSWORD, protocol=protocol)
        registered = client.register(**REGISTRATION)
        assert (registered.operation, registered.code) == ("Register", 0)
        info = client.account()
        assert info.balance == 50
        assert info.fields["SN"] == SN
        assert client.balance() == 50
        assert client.unregister().code == 0
        with pytest.raises(mandao.AuthenticationError) as after:
            client.account()
        assert after.value.code == -2


def test_result_repr_shows_what_a_user_asks_first(any_client: mandao.Client) -> None:
    """The SendResult repr names id, rrid, operation, protocol, host, recipients, segments."""
    client = any_client
    result = client.send(["13800138000", "13900139000"], "字" * 71 + "【示例】", rrid="42")
    text = repr(result)
    for part in (
        "id=42",
        "rrid=42",
        "mdsmssend",
        "soap11",
        "2 recipients",
        "2 segments",
        "4 billable",
    ):
        assert part in text
    assert "13800138000" not in text  # numbers are personal data: counts only


def test_balance_goes_down_by_what_the_result_says_is_billable(
    any_client: mandao.Client, gateway: SandboxGateway
) -> None:
    """The billable count on the result matches what the sandbox charged."""
    client = any_client
    before = client.account().balance
    result = client.send(["13800138000", "13900139000", "15000150000"], "字" * 140 + "【示例】")
    assert result.billable == 9
    assert before is not None
    assert client.account().balance == before - result.billable == gateway.balance(SN)


def test_second_register_is_a_decoded_authentication_error(any_client: mandao.Client) -> None:
    """An already-registered serial gets -1, raised as AuthenticationError with code and host."""
    client = any_client
    with pytest.raises(mandao.AuthenticationError) as info:
        client.register(**REGISTRATION)
    error = info.value
    assert (error.code, error.operation, error.host) == (-1, "Register", client.account_hosts[0])
    assert error.info.chinese


def test_insufficient_balance_is_its_own_class(
    gateway: SandboxGateway, make_client: MakeClient
) -> None:
    """-4 raises InsufficientBalance carrying rrid and host; nothing reaches the ledger."""
    gateway.add_account("SDK-TST-010-00002", SandboxAccount(PASSWORD, balance=1))
    client = make_client("SDK-TST-010-00002", PASSWORD)
    with pytest.raises(mandao.InsufficientBalance) as info:
        client.send(["13800138000", "13900139000"], "余额测试【示例】", rrid="9")
    assert (info.value.code, info.value.rrid, info.value.host) == (-4, "9", gateway.hosts[0])
    assert gateway.ledger.messages == []


def test_wrong_password_is_authentication_error_without_secrets(
    gateway: SandboxGateway, make_client: MakeClient
) -> None:
    """A wrong password gives -2; neither password appears in the error."""
    client = make_client(SN, "wrong-password")
    with pytest.raises(mandao.AuthenticationError) as info:
        client.send("13800138000", "密码测试【示例】")
    assert info.value.code == -2
    assert "wrong-password" not in str(info.value) + repr(info.value)


def test_unknown_code_is_decoded_with_its_raw_value(
    any_client: mandao.Client, gateway: SandboxGateway
) -> None:
    """A code no table knows raises UnknownCode keeping the raw reply."""
    client = any_client
    gateway.primary.fail("code", code="-777")
    with pytest.raises(mandao.UnknownCode) as info:
        client.send("13800138000", "未知返回值【示例】")
    assert (info.value.code, info.value.raw, info.value.info.known) == (-777, "-777", False)


def test_internal_error_code_is_outcome_unknown(
    any_client: mandao.Client, gateway: SandboxGateway
) -> None:
    """-11 is both a GatewayError and an OutcomeUnknown carrying the recipients."""
    client = any_client
    gateway.primary.fail("code", code="-11")
    with pytest.raises(mandao.OutcomeUnknown) as info:
        client.send("13800138000", "内部错误【示例】")
    assert isinstance(info.value, mandao.GatewayInternalError)
    assert info.value.recipients == ("13800138000",)


def test_refused_primary_moves_to_backup_and_stays(
    gateway: SandboxGateway, make_client: MakeClient
) -> None:
    """Connection refused on the primary: the same call goes to the backup, which stays active."""
    client = make_client(SN, PASSWORD)
    gateway.primary.down()
    first = client.send("13800138000", "切换一【示例】")
    assert first.host == gateway.hosts[1]
    gateway.primary.up()
    second = client.send("13900139000", "切换二【示例】")
    assert second.host == gateway.hosts[1]
    assert {e.host for e in gateway.ledger.messages} == {gateway.hosts[1]}
    assert client.active_host() == gateway.hosts[1]


def test_account_failover_moves_the_send_service_too(
    gateway: SandboxGateway, make_client: MakeClient
) -> None:
    """Both services of a serial use one host (-19): an account failover moves sends too."""
    client = make_client(SN, PASSWORD)
    gateway.primary.down()
    assert client.balance() > 0
    assert client.active_host("account") == gateway.account_hosts[1]
    assert client.active_host("send") == gateway.hosts[1]
    gateway.primary.up()
    assert client.send("13800138000", "跟随【示例】").host == gateway.hosts[1]


def test_account_service_follows_the_send_services_host(
    gateway: SandboxGateway, make_client: MakeClient
) -> None:
    """After sends moved to the backup, balance() asks the backup's account service."""
    client = make_client(SN, PASSWORD)
    gateway.primary.down()
    assert client.send("13800138000", "切换【示例】").host == gateway.hosts[1]
    gateway.primary.up()
    assert client.balance() > 0
    assert client.active_host("account") == gateway.account_hosts[1]
    assert {e.host for e in gateway.ledger.messages} == {gateway.hosts[1]}


def test_service_explorer_fills_sn_and_pwd(client: mandao.Client, gateway: SandboxGateway) -> None:
    """client.service calls zeep's proxy with sn and the right pwd form; raw strings come back."""
    raw = client.service.mdgetSninfo()
    assert json.loads(raw)["SN"] == SN
    # A raw send is not journaled nor checked: it says so, and which call does it all.
    with pytest.warns(UserWarning, match=r"not journaled.*client\.send\(\) does it all"):
        sent = client.service.mdsmssend(
            mobile="13800138000",
            content="%E6%8E%A2%E7%B4%A2%E3%80%90%E7%A4%BA%E4%BE%8B%E3%80%91",
            ext="",
            stime="",
            rrid="5",
            msgfmt="",
        )
    assert sent == "5"
    assert "client.send() is the call to use" in (client.service.mdsmssend.__doc__ or "")
    with pytest.raises(TypeError, match=r"by name: mdsmssend\(mobile=\.\.\., content="):
        client.service.mdsmssend("13800138000", "x")
    assert gateway.ledger.messages[0].content == "探索【示例】"
    # Each kind of raw call says what it leaves out, not what the others do.
    with pytest.warns(UserWarning, match="^report through the raw proxy") as report:
        client.account_service.report(maxid="0")
    with pytest.warns(UserWarning, match="^mo through the raw proxy") as mo:
        client.account_service.mo()
    assert [str(w.message) for w in [*report, *mo]] == [
        "report through the raw proxy stores no report, nor matches any to the journal's "
        "sends: client.fetch_reports() does it all",
        "mo through the raw proxy takes replies the gateway gives once, and stores none of "
        "them: client.fetch_replies() does it all",
    ]
    assert client.account_service.GetBalance().isdigit()  # plain-password operation
    assert "mdgxsend" in dir(client.service)
    assert "mdsmssend(mobile, content" in repr(client.service)
    with pytest.raises(AttributeError, match="Register"):
        client.service.Register  # noqa: B018 - the attribute access is the test


def test_service_explorer_translates_transport_errors(gateway: SandboxGateway) -> None:
    """A raw proxy call to a refused host raises GatewayUnreachable, not a requests error."""
    client = gateway.client(SN, PASSWORD)
    gateway.primary.down()
    with pytest.raises(mandao.GatewayUnreachable):
        client.service.mdgetSninfo()


def test_operations_lists_both_wsdls_with_parameters(client: mandao.Client) -> None:
    """client.operations has the 14 operations with parameters and pwd form."""
    ops = {op.name: op for op in client.operations}
    assert set(ops) == {
        "mdsmssend",
        "mdgxsend",
        "mdgetSninfo",
        "Register",
        "UnRegister",
        "balance",
        "GetBalance",
        "UDPPwd",
        "mo",
        "mo2",
        "report",
        "report2",
        "RECSMS_UTF8",
        "GetCode",
    }
    assert ops["mo2"].params == ("sn", "pwd", "maxID")
    assert ops["Register"].params[-1] == "sign"
    assert ops["Register"].pwd == "plain"
    assert ops["mdgetSninfo"].pwd == "md5"


BAD_INPUTS = [
    ("send", {"mobiles": [], "content": "空列表【示例】"}, "mobiles"),
    ("send", {"mobiles": ["13800138000"], "content": 42}, "content"),
    ("send", {"mobiles": ["13800138000", "12"], "content": "坏号码【示例】"}, "mobiles"),
    ("send", {"mobiles": "13800138000", "content": "x【示例】", "ext": "abc"}, "ext"),
    ("send", {"mobiles": "13800138000", "content": "x【示例】", "rrid": "1" * 19}, "rrid"),
    ("send_personalized", {"messages": {}}, "messages"),
    ("send_personalized", {"messages": [("13800138000",)]}, "messages"),
    ("register", {"province": "北京"}, "city"),
]


@pytest.mark.parametrize(("method", "kwargs", "argument"), BAD_INPUTS)
def test_bad_arguments_fail_before_any_request(
    any_client: mandao.Client,
    gateway: SandboxGateway,
    method: str,
    kwargs: dict[str, object],
    argument: str,
) -> None:
    """Each bad argument raises a ValueError subclass naming it; the sandbox saw nothing."""
    client = any_client
    with pytest.raises(mandao.ValidationError) as info:
        getattr(client, method)(**kwargs)
    assert isinstance(info.value, ValueError)
    assert info.value.argument == argument
    assert gateway.ledger.messages == []
    assert gateway.ledger.rejections == []
    assert client._transport is None  # not even a connection was prepared


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("send", {"stime": "2030-01-01 09:00:00"},
         "send() got an unexpected keyword argument 'stime' (did you mean at=?)"),
        ("send_personalized", {"mobile": "13800138000"},
         "send_personalized() got an unexpected keyword argument 'mobile'"),
        ("send_many", {"batchsize": 10},
         "send_many() got an unexpected keyword argument 'batchsize'"),
    ],
)  # fmt: skip
def test_an_option_the_send_does_not_take_is_a_type_error_and_nothing_goes(
    any_client: mandao.Client,
    gateway: SandboxGateway,
    method: str,
    kwargs: dict[str, object],
    message: str,
) -> None:
    """A keyword a send method does not take (the vendor's ``stime`` for ``at``, say) is
    refused as Python refuses one, not dropped: a schedule dropped would send at once."""
    messages = {"13800138000": "定时【示例】"}
    given = {"send": (["13800138000"], "定时【示例】")}.get(method, (messages,))
    with pytest.raises(TypeError) as info:
        getattr(any_client, method)(*given, **kwargs)
    assert str(info.value) == message
    assert gateway.ledger.messages == []


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"protocol": "smtp"}, "protocol"),
        ({"hosts": ["sdk.entinfo.cn:8061"]}, "hosts"),
        ({"hosts": ["ftp://127.0.0.1/webservice.asmx"]}, "hosts"),
        ({"hosts": []}, "hosts"),
        ({"account_hosts": ["http://"]}, "account_hosts"),
        ({"sn": "SDK-TST-010"}, "sn"),
    ],
)
def test_bad_construction_fails_naming_the_argument(
    gateway: SandboxGateway, kwargs: dict[str, object], argument: str
) -> None:
    """An unknown protocol, a malformed host URL or serial raises before any request."""
    full: dict[str, object] = {"sn": SN, "password": PASSWORD, "hosts": gateway.hosts, **kwargs}
    with pytest.raises(mandao.ValidationError) as info:
        mandao.Client(**full)  # type: ignore[arg-type]
    assert info.value.argument == argument
    assert gateway.ledger.messages == []
    assert gateway.ledger.rejections == []


def test_close_writes_the_journals_held_outcomes(gateway: SandboxGateway, tmp_path: Path) -> None:
    """After close(), another reader of the journal sees the send accepted, not pending."""
    from mandao import Journal

    path = tmp_path / "journal.sqlite3"
    with gateway.client(SN, PASSWORD, journal=path) as client:
        client.send("13800138000", "关闭测试【示例】")
    reader = Journal(path)
    assert reader.pending() == []
    assert [a.outcome for a in reader.attempts()] == ["accepted"]


def test_prepare_content_is_the_text_a_send_sends(
    gateway: SandboxGateway, make_client: MakeClient
) -> None:
    """prepare_content adds the signature as a send does, and refuses what a send refuses."""
    client = make_client(SN, PASSWORD, signature="示例", max_segments=1, journal=None)
    text = client.prepare_content("明早 9 点停水")
    assert text == "明早 9 点停水【示例】"
    client.send("13800138000", "明早 9 点停水")
    assert [m.content for m in gateway.ledger.messages] == [text]
    for bad in ("", "长" * 80):  # empty; more segments than max_segments
        with pytest.raises(mandao.ValidationError) as info:
            client.prepare_content(bad)
        assert info.value.argument == "content"
    unsigned = make_client(SN, PASSWORD, journal=None)
    with pytest.raises(mandao.ValidationError, match="signature"):
        unsigned.prepare_content("没有签名")
    assert unsigned._transport is None  # checking opened nothing


def test_duplicate_guard_can_be_read_turned_on_and_off(
    gateway: SandboxGateway, make_client: MakeClient, tmp_path: Path
) -> None:
    """The property returns what was given or set; set to None, a repeat is sent again."""
    from datetime import timedelta

    guard = mandao.DuplicateGuard(window=timedelta(minutes=5), action="refuse")
    with make_client(SN, PASSWORD, journal=tmp_path / "j.sqlite3") as client:
        assert client.duplicate_guard is None
        client.duplicate_guard = guard
        assert client.duplicate_guard is guard
        client.send("13800138000", "重复测试【示例】")
        with pytest.raises(mandao.ValidationError, match="138\\*\\*\\*\\*8000"):
            client.send("13800138000", "重复测试【示例】")
        client.duplicate_guard = None
        assert client.duplicate_guard is None
        client.send("13800138000", "重复测试【示例】")
    assert len(gateway.ledger.messages) == 2
    built = mandao.Client(SN, PASSWORD, duplicate_guard=guard, journal=None)
    assert built.duplicate_guard is guard


def test_close_closes_a_journal_it_opened_but_not_a_given_one(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """close() lets go of the journal's connections (a PostgreSQL pool, say) when the client
    opened the journal itself; a Journal the caller gave stays the caller's; a later send
    opens it again."""
    own = gateway.client(SN, PASSWORD, journal=tmp_path / "own.sqlite3")
    given = mandao.Journal(tmp_path / "given.sqlite3")
    other = gateway.client(SN, PASSWORD, journal=given)
    for client in (own, other):
        client.send("13800138000", "关闭【示例】")
        client.close()
    assert own.journal is not None
    assert own.journal._database._conn is None  # type: ignore[attr-defined]
    assert given._database._conn is not None  # type: ignore[attr-defined]
    assert own.send("13900139000", "再开【示例】").complete
    assert len(list(own.journal.attempts())) == 2
    given.close()
    own.close()


def test_account_hosts_follow_custom_hosts_or_must_be_given() -> None:
    """hosts given without account_hosts: each on port 8060 where it is on 8061 (the
    vendor's layout); on another port (a test or staging gateway) the Client is refused,
    naming account_hosts: the account calls (balance, replies, reports, Register) used to
    go to the production gateway, with the serial's password."""
    staging = ["http://10.0.0.5:8061/webservice.asmx", "http://[fd00::5]:8061/webservice.asmx"]
    client = mandao.Client(SN, PASSWORD, hosts=staging, journal=None)
    assert client.account_hosts == tuple(url.replace(":8061/", ":8060/") for url in staging)
    default = mandao.Client(SN, PASSWORD, journal=None).account_hosts[0]
    assert default.startswith("http://sdk.entinfo.cn:8060/")
    with pytest.raises(mandao.ValidationError) as refused:
        mandao.Client(SN, PASSWORD, hosts=["http://127.0.0.1:18061/x.asmx"], journal=None)
    assert refused.value.argument == "account_hosts"
    assert "production gateway" in refused.value.message
    local = "http://127.0.0.1:18060/x.asmx"
    given = mandao.Client(SN, PASSWORD, hosts=["http://127.0.0.1:18061/x.asmx"],
                          account_hosts=[local], journal=None)  # fmt: skip
    assert given.account_hosts == (local,)


def test_an_outage_says_each_warning_once_a_while_not_once_a_request(
    gateway: SandboxGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """Both hosts down: every send says a host unreachable and the switch to the other.
    Said again word for word within 30 s, those lines go on at DEBUG (200 tasks made 440
    warnings); a new one (another host, another reason) is a warning again."""
    import logging

    gateway.primary.down()
    gateway.backup.down()
    with (
        gateway.client(SN, PASSWORD, timeout=(1, 5)) as client,
        caplog.at_level(logging.DEBUG, logger="mandao"),
    ):
        for number in ("13800138000", "13800138001", "13800138002"):
            with pytest.raises(mandao.AllHostsFailed):
                client.send(number, "停电【示例】")
    said = [
        (r.levelname, r.getMessage()) for r in caplog.records if "unreachable" in r.getMessage()
    ]
    warned = [message for level, message in said if level == "WARNING"]
    assert len(warned) == len(set(warned)) >= 2  # each host's, once
    assert len(said) > len(warned)  # the rest at DEBUG, not gone


def test_a_send_host_without_an_account_url_is_warned_of(gateway: SandboxGateway) -> None:
    """account_hosts pairs with hosts by host: one fewer leaves a host whose account calls
    go to another host while sends are on it (-19 at the real gateway): said at once,
    pointing at the caller's line; paired lists say nothing."""
    with pytest.warns(UserWarning, match=r"account_hosts has no URL on the host of") as said:
        mandao.Client(SN, PASSWORD, hosts=gateway.hosts, account_hosts=gateway.account_hosts[:1],
                      journal=None)  # fmt: skip
    (warning,) = said
    assert warning.filename == __file__
    assert gateway.hosts[1] in str(warning.message)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mandao.Client(SN, PASSWORD, hosts=gateway.hosts, account_hosts=gateway.account_hosts,
                      journal=None)  # fmt: skip
