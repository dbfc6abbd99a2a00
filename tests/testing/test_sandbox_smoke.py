"""The first slice: every protocol reaches both services and the ledger records the truth."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest

import mandao
from mandao.testing import SandboxGateway

SN = "SDK-TST-010-00001"
PASSWORD = "secret"

PROTOCOLS = ["soap11", "soap12", "http-get", "http-post", "ashx"]
TRICKY = "a+b, c&d <e> 100% 你好 😀【示例】"


def test_hosts_are_loopback_urls(gw):
    """hosts and account_hosts are four distinct 127.0.0.1 webservice.asmx URLs."""
    urls = gw.hosts + gw.account_hosts
    assert len(set(urls)) == 4
    assert all(u.startswith("http://127.0.0.1:") and u.endswith("/webservice.asmx") for u in urls)
    assert gw.hosts == [gw.primary.send_url, gw.backup.send_url]
    assert gw.account_hosts == [gw.primary.account_url, gw.backup.account_url]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_send_every_protocol_records_decoded_content(raw, gw, protocol):
    """mdsmssend over each protocol is accepted and the ledger holds exactly the original text."""
    result = raw.send("13800138000,13900139000", TRICKY, protocol)
    assert len(result) == 18
    assert result.isdigit()
    entries = gw.ledger.messages
    assert [e.mobile for e in entries] == ["13800138000", "13900139000"]
    assert {e.content for e in entries} == {TRICKY}
    assert {(e.protocol, e.operation, e.id, e.host) for e in entries} == {
        (protocol, "mdsmssend", result, gw.primary.send_url)
    }


@pytest.mark.parametrize("protocol", ["soap11", "soap12", "http-get", "http-post"])
def test_account_service_every_protocol(raw, gw, protocol):
    """GetBalance answers on the account port over every ASMX protocol."""
    assert raw.call(protocol, "GetBalance") == str(gw.balance(SN))


def test_rrid_is_returned_and_recorded(raw, gw):
    """A given rrid is the success value and the ledger entry's rrid and id."""
    assert raw.send("13800138000", "hi【示例】", rrid="123456789012345678") == "123456789012345678"
    (entry,) = gw.ledger.for_mobile("13800138000")
    assert entry.rrid == entry.id == "123456789012345678"


def test_wrong_hash_is_minus_2(raw, gw):
    """A lower-case MD5 pwd is a wrong password (-2) and nothing is recorded."""
    pwd = SandboxGateway.pwd(SN, PASSWORD).lower()
    assert raw.call("soap11", "mdsmssend", mobile="1", content="x", pwd=pwd) == "-2"
    assert len(gw.ledger) == 0
    assert [r.code for r in gw.ledger.rejections] == ["-2"]


def test_wsdl_is_rewritten_to_own_address(gw):
    """?wsdl on each port serves its own service's WSDL with that port's address."""
    for url, ns in [
        (gw.primary.send_url, "http://entinfo.cn/"),
        (gw.backup.account_url, "http://tempuri.org/"),
    ]:
        with urllib.request.urlopen(url + "?wsdl", timeout=5) as resp:
            text = resp.read().decode("utf-8")
        assert f'targetNamespace="{ns}"' in text
        assert "sdk.entinfo.cn" not in text
        assert text.count(f'location="{url}"') == 4


def test_mdgetsninfo_json_shape(raw, gw):
    """mdgetSninfo answers {"SN":...,"Balance":"<digits>"} with keys in that order."""
    value = raw.call("soap11", "mdgetSninfo")
    assert value == f'{{"SN":"{SN}","Balance":"{gw.balance(SN)}"}}'


def test_balance_is_charged(raw, gw):
    """An accepted send lowers the balance by segments × recipients."""
    before = gw.balance(SN)
    raw.send("1,2,3", "你" * 71)  # 71 double-byte characters: 2 segments
    assert gw.balance(SN) == before - 6


def test_its_clients_take_hosts_of_their_own(gw):
    """gw.client(..., hosts=[one]) points at that host alone (it used to be a TypeError)."""
    with gw.client(SN, PASSWORD, hosts=[gw.hosts[1]]) as client:
        result = client.send("13800138000", "一台【示例】")
    assert result.host == gw.hosts[1]
    with pytest.warns(UserWarning, match="account_hosts has no URL on the host of"):
        one = gw.async_client(SN, PASSWORD, account_hosts=[gw.account_hosts[1]])
    assert one.account_hosts == (gw.account_hosts[1],)


def _refusal(fetch) -> str:
    """The message of the ConfigError ``fetch()`` raises."""
    with pytest.raises(mandao.ConfigError, match="needs a journal") as caught:
        fetch()
    return str(caught.value)


@pytest.mark.parametrize("maker", ["client", "client_for"])
@pytest.mark.parametrize("what", ["fetch_replies", "fetch_reports", "poll_replies", "poll_reports"])
def test_a_sandbox_client_without_a_journal_says_to_give_its_maker_one(gw, maker, what):
    """gw.client() and gw.client_for() keep no journal unless given one: fetching replies
    or reports (or polling them) says to give them journal=PATH, not the default client's
    "not journal=None", which the caller never wrote."""
    made = gw.client(SN, PASSWORD) if maker == "client" else gw.client_for()
    with made as client:
        method = getattr(client, what)
        said = _refusal(lambda: next(method()) if what.startswith("poll") else method())
    assert "gw.client_for(journal=tmp_path / 'journal.sqlite3')" in said
    assert "not journal=None" not in said


def test_a_sandbox_async_client_without_a_journal_says_so_too(gw):
    """gw.async_client() likewise."""

    async def fetch(what: str) -> None:
        async with gw.async_client(SN, PASSWORD) as client:
            await getattr(client, what)()

    for what in ("fetch_replies", "fetch_reports"):
        said = _refusal(lambda what=what: asyncio.run(fetch(what)))
        assert "journal=PATH" in said
        assert "not journal=None" not in said


def test_a_client_made_with_journal_none_keeps_its_advice(gw):
    """A Client made with journal=None, not by the sandbox, is told so, as before; and a
    sandbox client given journal=PATH, as the sandbox's advice says, fetches."""
    plain = mandao.Client(SN, PASSWORD, hosts=gw.hosts, account_hosts=gw.account_hosts,
                          journal=None)  # fmt: skip
    with plain:
        for fetch in (plain.fetch_replies, plain.fetch_reports):
            said = _refusal(fetch)
            assert "make the client with a journal (the default), not journal=None" in said
            assert "sandbox" not in said


def test_a_sandbox_client_given_a_journal_fetches(gw, tmp_path):
    """The advice works: gw.client_for(journal=PATH) fetches replies and reports."""
    with gw.client_for(journal=tmp_path / "journal.sqlite3") as client:
        assert list(client.fetch_replies()) == []
        assert list(client.fetch_reports()) == []


def test_a_fresh_listener_never_gets_a_port_an_earlier_one_had() -> None:
    """The OS offers a port again now and then (dozens in a thousand binds here); the
    client keeps a serial's state per host list, so a sandbox per test must not come back
    on an earlier test's port and meet its lingering request."""
    from mandao.testing._server import Listener, Reply

    ports = []
    for _ in range(1000):
        listener = Listener(lambda request, peer, closing: Reply(b""))
        listener.up()
        ports.append(listener.port)
        listener.close()
    assert len(set(ports)) == len(ports)
    listener.up()  # up again: the same port, as before
    listener.down()
    listener.up()
    assert listener.port == ports[-1]
    listener.close()


def test_a_down_hosts_ports_stay_its_own_until_the_sandbox_stops() -> None:
    """A host taken down keeps its ports (bound, not listening: connects are refused), so
    a sandbox of another test process cannot take one meanwhile and answer in its place
    (it did: -2 from the other sandbox's accounts, then "address already in use" on up);
    ``stop`` gives them back."""
    import socket

    with SandboxGateway(accounts={SN: PASSWORD}) as gw:
        ports = (gw.primary.send_port, gw.primary.account_port)
        gw.primary.down()
        for port in ports:
            other = socket.socket()
            with pytest.raises(OSError, match="in use"):
                other.bind(("127.0.0.1", port))
            other.close()
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=10).close()
        gw.primary.up()
        assert (gw.primary.send_port, gw.primary.account_port) == ports
        assert gw.primary.state == "up"
    # Given back: no socket of the host's holds them (binding one now would race the other
    # test processes, which may take a port as soon as it is free).
    assert [listener._held for listener in (gw.primary._send, gw.primary._account)] == [None] * 2


def test_where_a_port_is_not_bound_twice_listeners_work_without_holding_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Off Linux (BSD, macOS) a port held by one socket is not bound by another: a
    listener binds its port once, and holds nothing while down; fifty listeners get
    fifty ports, and up, down and up again serve the same one."""
    import socket

    from mandao.testing import _server

    monkeypatch.setattr(_server, "HOLDS", False)
    answer = _server.Reply(b"")
    listeners = [_server.Listener(lambda request, peer, closing: answer) for _ in range(50)]
    for listener in listeners:
        listener.up()
    assert len({listener.port for listener in listeners}) == 50
    first = listeners[0]
    first.down()
    assert first._held is None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", first.port), timeout=10).close()
    port = first.port
    first.up()
    assert first.port == port
    socket.create_connection(("127.0.0.1", port), timeout=10).close()
    for listener in listeners:
        listener.close()
