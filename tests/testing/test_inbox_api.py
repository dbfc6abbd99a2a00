"""The inbox's JSON API over loopback HTTP: every endpoint, paging, codes, errors, safety."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from mandao.testing import SandboxGateway, md5_pwd
from mandao.testing.inbox._http import MAX_BODY

SN, PASSWORD = "SDK-TST-010-00001", "secret"


# The sandbox fixture ``gw`` (tests/testing/conftest.py), with its inbox.
pytestmark = pytest.mark.sandbox(inbox=True)


@pytest.fixture
def api(gw: SandboxGateway) -> Iterator[httpx.Client]:
    """An HTTP client on the inbox."""
    assert gw.inbox_url is not None
    with httpx.Client(base_url=gw.inbox_url, timeout=10) as client:
        yield client


def _error(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    error: dict[str, str] = response.json()["error"]
    return error


def test_the_inbox_url_is_loopback_with_a_trailing_slash(gw: SandboxGateway) -> None:
    """http://127.0.0.1:PORT/ while running; None once stopped."""
    url = gw.inbox_url
    assert url is not None
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/")
    assert gw.describe()["inbox"] == url
    gw.stop()
    assert gw.inbox_url is None


def test_list_messages_pages_newest_first(gw: SandboxGateway, api: httpx.Client) -> None:
    """GET /api/messages: messages, total, page, per_page, pages; page 2 of 2 a page."""
    gw.client(SN, PASSWORD).send(["13800138000", "13900139000", "13700137000"], "通知【示例】")
    whole = api.get("/api/messages").json()
    assert (whole["total"], whole["page"], whole["per_page"], whole["pages"]) == (3, 1, 50, 1)
    assert [m["id"] for m in whole["messages"]] == [3, 2, 1]
    second = api.get("/api/messages", params={"page": 2, "per_page": 2}).json()
    assert ([m["id"] for m in second["messages"]], second["pages"]) == ([1], 2)


def test_search_and_mobile_filter(gw: SandboxGateway, api: httpx.Client) -> None:
    """q searches mobile and text; mobile keeps one number's; empty values mean no filter."""
    client = gw.client(SN, PASSWORD)
    client.send("13800138000", "Your order shipped【Shop】")
    client.send("13900139000", "验证码 1234【示例】")
    assert [m["id"] for m in api.get("/api/messages?q=ORDER").json()["messages"]] == [1]
    assert [m["id"] for m in api.get("/api/messages?q=%E9%AA%8C%E8%AF%81").json()["messages"]] == [
        2
    ]
    found = api.get("/api/messages", params={"mobile": "13900139000"}).json()
    assert [m["mobile"] for m in found["messages"]] == ["13900139000"]
    assert api.get("/api/messages?q=&mobile=").json()["total"] == 2


@pytest.mark.parametrize(
    "written",
    ["+8613800138000", "138 0013 8000", "0086-138-0013-8000", "８６１３８００１３８０００"],
)
def test_the_mobile_filter_normalises_as_the_client_does(
    gw: SandboxGateway, api: httpx.Client, written: str
) -> None:
    """mobile= in /api/messages (with and without q) and /api/latest, gw.messages(mobile=),
    gw.latest() and /threads/<mobile> read a number as the client sends it."""
    client = gw.client(SN, PASSWORD)
    client.send("13800138000", "验证码 482915【示例】")
    client.send("13900139000", "验证码 111111【示例】")
    gw.reply("+8613800138000", "TD")
    found = api.get("/api/messages", params={"mobile": written}).json()
    assert [m["mobile"] for m in found["messages"]] == ["13800138000"]
    searched = api.get("/api/messages", params={"mobile": written, "q": "验证码"}).json()
    assert searched["total"] == 1
    assert api.get("/api/latest", params={"mobile": written}).json()["codes"] == ["482915"]
    assert gw.messages(mobile=written).total == 1
    latest = gw.latest(written)
    assert latest is not None
    assert latest.codes == ("482915",)
    page = api.get("/threads/" + quote(written, safe=""))
    assert page.status_code == 200
    assert 'data-mobile="13800138000"' in page.text
    assert page.text.count('class="bubble sent') == 1
    assert page.text.count('class="bubble reply') == 1


def test_a_mobile_that_is_no_mainland_number_is_matched_as_given(
    gw: SandboxGateway, api: httpx.Client
) -> None:
    """A number the client's rule does not read (a raw send to 85212345678) is filtered
    on as written."""
    gw.client(SN, PASSWORD)
    raw = {"sn": SN, "pwd": md5_pwd(SN, PASSWORD), "mobile": "85212345678", "content": "hi"}
    send = gw.primary.send_url.replace("webservice.asmx", "mdsmssend.ashx")
    assert httpx.get(send, params=raw, timeout=10).text.isdigit()
    assert gw.messages(mobile="85212345678").total == 1
    assert gw.messages(mobile="13800138000").total == 0


def test_one_message_and_its_json(gw: SandboxGateway, api: httpx.Client) -> None:
    """GET /api/messages/ID: the message JSON (time ISO 8601, Chinese kept as is)."""
    gw.client(SN, PASSWORD).send("13800138000", "验证码 482915【示例】")
    response = api.get("/api/messages/1")
    assert response.status_code == 200
    assert "验证码".encode() in response.content  # UTF-8, not \\u escapes
    message = response.json()
    assert message == gw.message(1).to_dict()
    assert (message["host_name"], message["codes"], message["status"]) == (
        "primary",
        ["482915"],
        "DELIVRD",
    )
    assert _error(api.get("/api/messages/2"), 404)["parameter"] == "id"


def test_latest_gives_the_codes(gw: SandboxGateway, api: httpx.Client) -> None:
    """GET /api/latest?mobile=M: the newest message to M with its codes; 404 when none."""
    client = gw.client(SN, PASSWORD)
    client.send("13800138000", "验证码 111111【示例】")
    client.send("13800138000", "验证码 222222，订单 123456789【示例】")
    latest = api.get("/api/latest", params={"mobile": "13800138000"}).json()
    assert (latest["id"], latest["codes"]) == (2, ["222222"])
    assert _error(api.get("/api/latest?mobile=13900139000"), 404)["parameter"] == "mobile"


def test_delete_messages(gw: SandboxGateway, api: httpx.Client) -> None:
    """DELETE /api/messages answers how many went; the list is empty after."""
    gw.client(SN, PASSWORD).send(["13800138000", "13900139000"], "通知【示例】")
    assert api.delete("/api/messages").json() == {"deleted": 2}
    assert api.get("/api/messages").json()["total"] == 0
    assert len(gw.ledger) == 0


def test_post_a_reply_reaches_fetch_replies(
    gw: SandboxGateway, api: httpx.Client, tmp_path: Path
) -> None:
    """POST /api/replies injects an MO reply (201) that the client fetches."""
    response = api.post("/api/replies", json={"mobile": "13800138000", "text": "TD", "ext": ""})
    assert response.status_code == 201
    reply = response.json()
    assert (reply["mobile"], reply["text"], reply["recvtel"], reply["sn"]) == (
        "13800138000",
        "TD",
        "1065",
        SN,
    )
    client = gw.client(SN, PASSWORD, journal=tmp_path / "j.sqlite3")
    fetched = client.fetch_replies()
    assert [(r.mobile, r.text) for r in fetched] == [("13800138000", "TD")]


def test_switch_a_fault_and_the_next_send_fails_as_it(
    gw: SandboxGateway, api: httpx.Client
) -> None:
    """POST /api/faults {"host", "kind": "code", "code": "-4"}: on until switched off."""
    import mandao

    switched = api.post("/api/faults", json={"host": "primary", "kind": "code", "code": "-4"})
    assert switched.status_code == 200
    assert [f["kind"] for f in switched.json()["faults"]] == ["code"]
    client = gw.client(SN, PASSWORD)
    for _ in range(2):  # a mode, not one failure
        with pytest.raises(mandao.InsufficientBalance):
            client.send("13800138000", "通知【示例】")
    assert api.post("/api/faults", json={"host": "primary", "kind": None}).json()["faults"] == []
    client.send("13800138000", "通知【示例】")
    state = api.get("/api/faults").json()
    assert [h["name"] for h in state["hosts"]] == ["primary", "backup"]
    assert "slow" in state["kinds"]


def test_down_and_up(gw: SandboxGateway, api: httpx.Client) -> None:
    """kind "down" refuses connections (mode timeout: connects hang); "up" serves again."""
    assert (
        api.post("/api/faults", json={"host": "backup", "kind": "down"}).json()["state"] == "down"
    )
    assert gw.backup.state == "down"
    assert api.post("/api/faults", json={"host": "backup", "kind": "up"}).json()["state"] == "up"
    timeout = {"host": "backup", "kind": "down", "mode": "timeout"}
    assert api.post("/api/faults", json=timeout).json()["state"] == "blackhole"


def test_accounts_show_balance_and_the_serial_rules(gw: SandboxGateway, api: httpx.Client) -> None:
    """GET /api/accounts: balance, registered, in flight, what a request would meet now."""
    gw.client(SN, PASSWORD).send("13800138000", "通知【示例】")
    data = api.get("/api/accounts").json()
    (account,) = data["accounts"]
    assert (account["sn"], account["balance"], account["registered"]) == (SN, 999999, True)
    assert (account["in_flight"], account["max_in_flight"]) == (0, 1)
    assert account["next_request"] == {"primary": None, "backup": None}
    assert data["rules"]["text"] == "-18 past 1 in flight per serial, -19 on overlap across hosts"


def test_the_rule_state_while_a_request_is_held(gw: SandboxGateway, api: httpx.Client) -> None:
    """With a send held on the primary: the primary would answer -18, the backup -19."""
    import threading

    client = gw.client(SN, PASSWORD)
    with gw.primary.hold() as held:
        sender = threading.Thread(target=client.send, args=("13800138000", "通知【示例】"))
        sender.start()
        assert held.wait()
        (account,) = api.get("/api/accounts").json()["accounts"]
        assert account["in_flight_by_host"] == {"primary": 1}
        assert account["next_request"] == {"primary": "-18", "backup": "-19"}
    sender.join()


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/messages?page=0", "page"),
        ("/api/messages?page=abc", "page"),
        ("/api/messages?per_page=501", "per_page"),
        ("/api/messages?per_page=0", "per_page"),
        ("/api/messages?per_page=-1", "per_page"),
        ("/api/messages?page=1&page=2", "page"),
        ("/api/messages?perpage=5", "perpage"),
        ("/api/messages/abc", "id"),
        ("/api/messages/0", "id"),
        ("/api/latest", "mobile"),
        ("/api/latest?mobile=", "mobile"),
        ("/api/accounts?x=1", "x"),
    ],
)
def test_bad_query_parameters_are_400_naming_them(
    api: httpx.Client, path: str, parameter: str
) -> None:
    """Every bad or unknown parameter: 400, a JSON error naming it."""
    error = _error(api.get(path), 400)
    assert error["parameter"] == parameter
    assert error["message"]


@pytest.mark.parametrize(
    ("path", "body", "parameter"),
    [
        ("/api/replies", b"not json", "body"),
        ("/api/replies", b"[1, 2]", "body"),
        ("/api/replies", b'{"mobile": "13800138000"}', "text"),
        ("/api/replies", b'{"mobile": 138, "text": "TD"}', "mobile"),
        ("/api/replies", b'{"mobile": "1,2", "text": "TD"}', "mobile"),
        ("/api/replies", b'{"mobile": "abc", "text": "x"}', "mobile"),
        ("/api/replies", b'{"mobile": "138", "text": "x"}', "mobile"),
        ("/api/replies", b'{"text": "x"}', "mobile"),
        ("/api/replies", b'{"mobile": "13800138000", "text": "TD", "ext": "x"}', "ext"),
        (
            "/api/replies",
            b'{"mobile": "13800138000", "text": "TD", "sn": "NO-SUCH-SN-00000"}',
            "sn",
        ),
        ("/api/replies", b'{"mobile": "13800138000", "text": "TD", "colour": "red"}', "colour"),
        ("/api/faults", b'{"kind": "slow"}', "host"),
        ("/api/faults", b'{"host": "middle", "kind": "slow"}', "host"),
        ("/api/faults", b'{"host": "primary"}', "kind"),
        ("/api/faults", b'{"host": "primary", "kind": "explode"}', "kind"),
        ("/api/faults", b'{"host": "primary", "kind": "slow", "delay": -1}', "delay"),
        ("/api/faults", b'{"host": "primary", "kind": "slow", "colour": 1}', "colour"),
        ("/api/faults", b'{"host": "primary", "kind": "down", "mode": "sideways"}', "mode"),
        ("/api/faults", b'{"host": "primary", "kind": "up", "times": 2}', "times"),
        ("/api/replies", b'{"mobile": "13800138000", "text": "TD", "ext": 0}', "ext"),
        ("/api/replies", b'{"mobile": "13800138000", "text": "TD", "ext": false}', "ext"),
        ("/api/faults", b'{"host": "primary", "kind": "slow", "delay": NaN}', "body"),
        ("/api/faults", b'{"host": "primary", "kind": "slow", "delay": Infinity}', "body"),
        ("/api/faults", b'{"host": "primary", "kind": "slow", "delay": 1e999}', "delay"),
        ("/api/faults", b'{"host": "primary", "kind": "slow", "delay": "2"}', "delay"),
        ("/api/faults", b'{"host": "primary", "kind": "slow", "delay": 86401}', "delay"),
        ("/api/faults", b'{"host": "primary", "kind": "code", "code": 5}', "code"),
        ("/api/faults", b'{"host": "primary", "kind": "code", "times": true}', "times"),
        ("/api/faults", b'{"host": "primary", "kind": "code", "times": 1.5}', "times"),
        ("/api/faults", b'{"host": "primary", "kind": "code", "probability": 2}', "probability"),
        ("/api/faults", b'{"host": "primary", "kind": "code", "seed": "x"}', "seed"),
        ("/api/faults", b'{"host": "primary", "kind": "http-error", "status": "500"}', "status"),
        ("/api/faults", b'{"host": "primary", "kind": "http-error", "status": 99999}', "status"),
        ("/api/faults", b'{"host": "primary", "kind": "http-error", "body": 5}', "body"),
        ("/api/faults", b'{"host": "primary", "kind": "huge", "size": -1}', "size"),
        ("/api/faults", b'{"host": "primary", "kind": "code", "service": 5}', "service"),
        ("/api/faults", b'{"host": "primary", "kind": "code", "service": "both"}', "service"),
        ("/api/faults", b'{"host": "primary", "kind": "code", "operation": 1}', "operation"),
        ("/api/faults", b'{"host": "primary", "kind": "html", "process": "yes"}', "process"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(
    api: httpx.Client, path: str, body: bytes, parameter: str
) -> None:
    """A body that is not a JSON object, or a bad field in it: 400 naming it."""
    response = api.post(path, content=body, headers={"Content-Type": "application/json"})
    assert _error(response, 400)["parameter"] == parameter


@pytest.mark.parametrize(
    "body", [b'{"mobile": "13800138000"}', b'{"mobile": "13800138000", "text": ""}']
)
def test_a_missing_and_an_empty_reply_text_get_the_same_message(
    api: httpx.Client, body: bytes
) -> None:
    """No text and an empty text are refused alike, naming text."""
    response = api.post("/api/replies", content=body, headers={"Content-Type": "application/json"})
    error = _error(response, 400)
    assert (error["parameter"], error["message"]) == (
        "text",
        "a reply needs a text (a non-empty string)",
    )


def test_unknown_paths_404_and_wrong_methods_405(api: httpx.Client) -> None:
    """JSON errors under /api/: 404 for no such path, 405 with the methods in its Allow
    header (not in the error's parameter, which names a parameter)."""
    assert _error(api.get("/api/nothing"), 404)["message"]
    wrong = api.put("/api/messages")
    error = _error(wrong, 405)
    assert wrong.headers["allow"] == "GET, HEAD, DELETE"
    assert "parameter" not in error
    assert "GET, HEAD, DELETE" in error["message"]
    page = api.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:80", "127.0.0.1:1", "", "LOCALHOST"]
)
def test_a_foreign_host_header_is_refused(gw: SandboxGateway, api: httpx.Client, host: str) -> None:
    """DNS rebinding: a Host that is not this inbox's address is 403, on every path."""
    for path in ("/api/messages", "/", "/static/inbox.js"):
        response = api.get(path, headers={"Host": host})
        assert response.status_code == 403, (path, host)
    assert _error(api.get("/api/messages", headers={"Host": host}), 403)["parameter"] == "Host"


def test_the_loopback_names_are_all_accepted(gw: SandboxGateway, api: httpx.Client) -> None:
    """127.0.0.1:PORT, localhost:PORT and [::1]:PORT name the inbox."""
    port = gw.inbox_url.rsplit(":", 1)[1].strip("/")  # type: ignore[union-attr]
    for name in ("127.0.0.1", "localhost", "[::1]", "LocalHost"):
        assert api.get("/api/messages", headers={"Host": f"{name}:{port}"}).status_code == 200


def test_changes_from_another_site_are_refused(gw: SandboxGateway, api: httpx.Client) -> None:
    """POST and DELETE with a foreign Origin, or Sec-Fetch-Site: cross-site: 403."""
    gw.client(SN, PASSWORD).send("13800138000", "通知【示例】")
    port = gw.inbox_url.rsplit(":", 1)[1].strip("/")  # type: ignore[union-attr]
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": f"http://localhost:{int(port) + 1}"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        assert _error(api.delete("/api/messages", headers=headers), 403)
        form = api.post("/clear", headers=headers)
        assert form.status_code == 403
    assert len(gw.ledger) == 1
    same = {"Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"}
    assert api.delete("/api/messages", headers=same).json() == {"deleted": 1}


def test_reads_from_another_origin_get_no_cors_headers(api: httpx.Client) -> None:
    """A page elsewhere cannot read the API: no Access-Control-Allow-Origin, ever."""
    response = api.get("/api/messages", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    # Not no-referrer: under it a browser posts the inbox's own forms with "Origin: null".
    assert response.headers["referrer-policy"] == "same-origin"


def test_an_oversized_body_is_refused(api: httpx.Client) -> None:
    """1 MiB exactly is read (and refused as not JSON); one byte more is 413, and the
    connection is closed."""
    assert MAX_BODY == 1 << 20
    at_the_limit = api.post("/api/replies", content=b"x" * MAX_BODY)
    assert _error(at_the_limit, 400)["parameter"] == "body"
    response = api.post("/api/replies", content=b"x" * (MAX_BODY + 1))
    assert _error(response, 413)["parameter"] == "body"
    assert response.headers["connection"] == "close"


def test_a_fault_switched_with_good_options_fires_as_told(
    gw: SandboxGateway, api: httpx.Client
) -> None:
    """Whole numbers, finite seconds and strings where the option takes them: accepted,
    and the send meets that fault (status 503, twice)."""
    body = {"host": "primary", "kind": "http-error", "status": 503, "times": 2, "delay": 0}
    switched = api.post("/api/faults", json=body)
    assert switched.status_code == 200, switched.text
    (fault,) = switched.json()["faults"]
    assert (fault["status"], fault["times"]) == (503, 2)


def test_the_page_bound_is_stated(api: httpx.Client) -> None:
    """A page beyond the largest: 400 saying the bound, not only "or more"."""
    error = _error(api.get("/api/messages", params={"page": "1000000000"}), 400)
    assert error["parameter"] == "page"
    assert "from 1 to 999999999" in error["message"]
    assert api.get("/api/messages", params={"page": "999999999"}).json()["messages"] == []
