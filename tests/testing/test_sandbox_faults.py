"""Faults on demand, checked where they happen: at the socket, or with plain requests."""

from __future__ import annotations

import socket

import pytest
import requests
from lxml import etree

from mandao.testing import Fault, SandboxGateway

SN = "SDK-TST-010-00001"
PASSWORD = "secret"


def soap_request(raw, **fields):
    """The raw bytes of a one-number SOAP 1.1 mdsmssend (Connection: close)."""
    body = raw.envelope(
        "mdsmssend", **({"mobile": "13800138000", "content": "x"} | fields)
    ).encode()
    return (
        b"POST /webservice.asmx HTTP/1.1\r\nHost: t\r\nContent-Type: text/xml; charset=utf-8\r\n"
        b'SOAPAction: "http://entinfo.cn/mdsmssend"\r\nConnection: close\r\nContent-Length: '
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def exchange(port, data, timeout=5.0):
    """Send ``data`` on a fresh connection and read until the peer closes (or resets)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            chunks.append(b"<RST>")
        return b"".join(chunks)


def test_down_refuses_and_up_reuses_the_same_ports(raw, gw):
    """down() makes connects fail with ECONNREFUSED on both ports; up() serves on the same ports."""
    ports = (gw.primary.send_port, gw.primary.account_port)
    gw.primary.down()
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert raw.send("1", "to backup", host="backup").isdigit()
    gw.primary.up()
    assert (gw.primary.send_port, gw.primary.account_port) == ports
    assert raw.send("1", "back again").isdigit()


def test_down_cuts_open_keep_alive_connections(raw, gw):
    """A kept-alive connection is closed by down(); the next request on it fails."""
    assert raw.send("1", "x").isdigit()
    gw.primary.down()
    with pytest.raises(requests.ConnectionError):
        raw.send("1", "x")


def test_timeout_mode_makes_connect_time_out(raw, gw):
    """down('timeout') leaves a full accept queue: a connect times out instead of being refused."""
    gw.backup.down("timeout")
    assert gw.backup.state == "blackhole"
    with pytest.raises(TimeoutError):
        socket.create_connection(("127.0.0.1", gw.backup.send_port), timeout=0.3).close()
    with pytest.raises(requests.exceptions.ConnectTimeout):
        requests.get(gw.backup.send_url, timeout=(0.3, 1))
    gw.backup.up()
    assert raw.send("1", "x", host="backup").isdigit()


def test_hang_reads_and_never_answers(raw, gw):
    """A hang fault reads the request and never answers (read timeout); nothing is recorded."""
    gw.primary.fail("hang")
    with pytest.raises(requests.exceptions.ReadTimeout):
        raw.session.post(
            gw.primary.send_url,
            data=raw.envelope("mdsmssend", mobile="1", content="x").encode(),
            headers={"Content-Type": "text/xml", "SOAPAction": "http://entinfo.cn/mdsmssend"},
            timeout=(2, 0.3),
        )
    assert gw.ledger.wait(lambda ledger: len(ledger.faults) == 1)
    assert len(gw.ledger) == 0
    assert [f.kind for f in gw.ledger.faults] == ["hang"]


def test_slow_answers_late_but_carries_out(raw, gw):
    """A slow fault delays the answer (a short read timeout fires) but the message is recorded."""
    # Far longer than the read timeout, so the timeout fires whatever the scheduling; the
    # host going down ends the wait, and the sandbox still carries the request out.
    gw.primary.fail("slow", delay=60)
    with pytest.raises(requests.exceptions.ReadTimeout):
        raw.session.post(
            gw.primary.send_url,
            data=raw.envelope("mdsmssend", mobile="1", content="x").encode(),
            headers={"Content-Type": "text/xml", "SOAPAction": "http://entinfo.cn/mdsmssend"},
            timeout=(2, 0.1),
        )
    assert gw.wait_in_flight(SN, 1)
    assert len(gw.ledger) == 0
    gw.primary.down()
    assert gw.ledger.wait(lambda ledger: len(ledger) == 1)


@pytest.mark.parametrize(("kind", "recorded"), [("drop-before", 0), ("drop-after", 1)])
def test_drop_closes_without_a_reply(raw, gw, kind, recorded):
    """drop-before/after reset the connection with no reply; only drop-after records the message."""
    gw.primary.fail(kind)
    reply = exchange(gw.primary.send_port, soap_request(raw))
    assert reply in (b"", b"<RST>")
    # drop-after records before it resets, so the entry is there once the reset arrived.
    assert len(gw.ledger) == recorded


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_error_status_with_body(raw, gw, status):
    """An http-error fault answers that status with an HTML body; the request is not carried out."""
    gw.primary.fail("http-error", status=status)
    resp = raw.soap11("mdsmssend", mobile="1", content="x")
    assert resp.status_code == status
    assert resp.text.startswith("<")
    assert len(gw.ledger) == 0


def test_http_error_custom_body_and_process(raw, gw):
    """body= sets the error body; process=True carries the request out first."""
    gw.primary.fail("http-error", status=502, body="upstream gone", process=True)
    resp = raw.soap11("mdsmssend", mobile="1", content="x")
    assert (resp.status_code, resp.text) == (502, "upstream gone")
    assert len(gw.ledger) == 1


def test_html_page_with_200(raw, gw):
    """An html fault answers an HTML page with status 200 and text/html."""
    gw.primary.fail("html")
    resp = raw.soap11("mdsmssend", mobile="1", content="x")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "<html" in resp.text


def test_malformed_xml_reply(raw, gw):
    """A malformed-xml fault answers 200 text/xml no parser accepts; the send is recorded."""
    gw.primary.fail("malformed-xml")
    resp = raw.soap11("mdsmssend", mobile="1", content="x")
    assert resp.status_code == 200
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(resp.content)
    assert len(gw.ledger) == 1


def test_truncated_body(raw, gw):
    """A truncated fault announces Content-Length N, sends fewer bytes, and closes."""
    gw.primary.fail("truncated")
    reply = exchange(gw.primary.send_port, soap_request(raw))
    head, _, body = reply.partition(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[
            1
        ]
    )
    assert 0 < len(body) < length
    raw.gw.primary.fail("truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        raw.soap11("mdsmssend", mobile="2", content="x")


def test_huge_body(raw, gw):
    """A huge fault answers a body of at least `size` bytes that still parses as the result."""
    gw.primary.fail("huge", size=2_000_000)
    resp = raw.soap11("mdsmssend", mobile="1", content="x", rrid="9")
    assert len(resp.content) > 2_000_000
    assert etree.fromstring(resp.content).findtext(".//{http://entinfo.cn/}mdsmssendResult") == "9"


def test_forced_code_for_next_n(raw, gw):
    """A code fault answers its code for the next N calls (forced rejections), then normal."""
    gw.backup.fail("code", code="-11", times=2)
    answers = [raw.send("1", f"m{i}", host="backup") for i in range(3)]
    assert answers[:2] == ["-11", "-11"]
    assert answers[2].isdigit()
    assert [(r.code, r.forced) for r in gw.ledger.rejections] == [("-11", True), ("-11", True)]
    assert len(gw.ledger) == 1


def test_a_forced_code_may_be_a_number_and_must_be_a_code(raw, gw):
    """code=-4 (a number, as the docs write it) answers "-4"; a code that is no number is
    refused when the fault is made."""
    gw.primary.fail("code", code=-4)
    assert raw.send("1", "m") == "-4"
    with pytest.raises(ValueError, match="result code"):
        Fault("code", code="insufficient")


def test_probability_with_seed_replays(raw_for):
    """The same seed and probability make the same requests fail in two runs."""
    patterns = []
    for _ in range(2):
        with SandboxGateway(accounts={SN: PASSWORD}) as gw:
            gw.primary.fail("code", code="-8", probability=0.5, seed=42)
            raw = raw_for(gw)
            patterns.append([raw.send("1", f"m{i}") == "-8" for i in range(24)])
    assert patterns[0] == patterns[1]
    assert 0 < sum(patterns[0]) < 24


def test_fault_filters_and_clear(raw, gw):
    """operation=/service= narrow a fault; clear_faults disarms it; ?wsdl is never failed."""
    gw.primary.fail("http-error", status=503, operation="mdgxsend", times=5)
    gw.primary.fail("http-error", status=500, service="account", times=5)
    assert requests.get(gw.primary.send_url + "?wsdl", timeout=5).status_code == 200
    assert raw.send("1", "x").isdigit()
    assert raw.soap11("mdgxsend", mobile="1", content="x").status_code == 503
    assert raw.soap11("GetBalance").status_code == 500
    assert len(gw.primary.faults) == 2
    gw.primary.clear_faults()
    assert raw.soap11("mdgxsend", mobile="1", content="x").status_code == 200


def test_down_releases_a_hanging_connection(raw, gw):
    """Taking a host down closes a connection held by a hang fault."""
    gw.primary.fail("hang")
    with socket.create_connection(("127.0.0.1", gw.primary.send_port), timeout=5) as sock:
        sock.sendall(soap_request(raw))
        # The fault is noted before the connection is held: wait for the hold itself.
        assert gw.primary.wait_hanging(1)
        gw.primary.down()
        assert sock.recv(10) == b""


def test_fault_validation():
    """Unknown kinds, times < 1 and probabilities outside [0, 1] are refused."""
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        Fault("hang", times=0)
    with pytest.raises(ValueError, match="probability"):
        Fault("hang", probability=2)
    assert Fault("hang").times == 1


def test_a_fault_scope_no_request_has_is_refused():
    """A misspelt service or operation, or an operation of the other service, would arm a
    fault that never fires (a test passing without testing anything): refused, naming
    the likely one. An http-error with a status that is no error is refused too."""
    with pytest.raises(ValueError, match=r"service must be 'send', 'account' or None"):
        Fault("hang", service="sned")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"no operation 'mdsmsend' \(did you mean 'mdsmssend'\?\)"):
        Fault("hang", operation="mdsmsend")
    with pytest.raises(ValueError, match="mdsmssend is an operation of the send service, not"):
        Fault("hang", service="account", operation="mdsmssend")
    with pytest.raises(ValueError, match="status is 400 to 599, got 200"):
        Fault("http-error", status=200)
    assert Fault("code", service="account", operation="balance", code=-4).operation == "balance"
    assert Fault("http-error", status=404).status == 404


@pytest.mark.parametrize(
    ("fault", "shown"),
    [
        (Fault("hang"), "Fault('hang', times=1)"),
        (Fault("slow", delay=0.2, times=3), "Fault('slow', times=3, delay=0.2)"),
        (
            Fault("http-error", status=503, operation="mdsmssend"),
            "Fault('http-error', times=1, status=503, operation='mdsmssend')",
        ),
        (
            Fault("code", code=-4, probability=0.5, seed=1),
            "Fault('code', probability=0.5, seed=1, code='-4')",
        ),
        (
            Fault("huge", size=1024, process=False),
            "Fault('huge', times=1, size=1024, process=False)",
        ),
    ],
)
def test_a_faults_repr_shows_what_its_kind_reads(fault: Fault, shown: str) -> None:
    """A hang has no delay, status or size to show; what the kind ignores is left out."""
    assert repr(fault) == shown
    assert eval(shown) == fault  # noqa: S307 - our own text, read back as the same fault
