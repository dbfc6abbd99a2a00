"""Wire fidelity: the byte shapes an ASMX runtime sends, faults, charsets, third-party clients."""

from __future__ import annotations

import socket

import pytest
import requests

from mandao.testing import md5_pwd

SN = "SDK-TST-010-00001"
PASSWORD = "secret"
XSI_XSD = (
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
)


def test_soap11_success_bytes(raw):
    """A SOAP 1.1 success is the exact one-line ASMX envelope with text/xml; charset=utf-8."""
    resp = raw.soap11("mdsmssend", mobile="13800138000", content="hi", rrid="100000000000000002")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert resp.content == (
        b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
        b'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ' + XSI_XSD.encode() + b">"
        b'<soap:Body><mdsmssendResponse xmlns="http://entinfo.cn/"><mdsmssendResult>'
        b"100000000000000002</mdsmssendResult></mdsmssendResponse></soap:Body></soap:Envelope>"
    )


def test_soap12_success_bytes(raw):
    """A SOAP 1.2 success uses the 2003 envelope namespace and application/soap+xml."""
    resp = raw.soap12("mdsmssend", mobile="1", content="hi", rrid="7")
    assert resp.headers["Content-Type"] == "application/soap+xml; charset=utf-8"
    assert resp.text.startswith(
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
        'xmlns:soap="http://www.w3.org/2003/05/soap-envelope" '
    )
    assert "<mdsmssendResult>7</mdsmssendResult>" in resp.text


@pytest.mark.parametrize(
    ("op", "ns"), [("mdgetSninfo", "http://entinfo.cn/"), ("balance", "http://tempuri.org/")]
)
def test_http_get_reply_bytes(raw, gw, op, ns):
    """HTTP GET answers the XML declaration, CRLF, and <string> in the service namespace."""
    resp = raw.http_get(op)
    value = (
        str(gw.balance(SN)) if op == "balance" else f'{{"SN":"{SN}","Balance":"{gw.balance(SN)}"}}'
    )
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert (
        resp.text
        == f'<?xml version="1.0" encoding="utf-8"?>\r\n<string xmlns="{ns}">{value}</string>'
    )


def test_ashx_reply_is_plain_text(raw):
    """The .ashx handlers answer the bare id as text/plain, over GET and POST."""
    for method in ("GET", "POST"):
        resp = raw.ashx("mdsmssend", method=method, mobile="1", content="x", rrid="42")
        assert resp.headers["Content-Type"].startswith("text/plain")
        assert resp.text == "42"


def test_ashx_missing_fields_read_as_empty(raw):
    """An .ashx call without mobile reads it as empty and answers -604, plain text."""
    url = raw.gw.primary.send_url.replace("webservice.asmx", "mdsmssend.ashx")
    resp = requests.get(
        url, params={"sn": SN, "pwd": md5_pwd(SN, PASSWORD), "content": "x"}, timeout=5
    )
    assert (resp.status_code, resp.text) == (200, "-604")


@pytest.mark.parametrize("action", ["http://entinfo.cn/nosuchop", "http://tempuri.org/Register"])
def test_unknown_soapaction_is_client_fault(raw, gw, action):
    """An unknown SOAPAction (even an account op on the send port) is a 500 soap:Client fault."""
    resp = requests.post(
        gw.primary.send_url,
        data=raw.envelope("mdgetSninfo").encode(),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'},
        timeout=5,
    )
    assert resp.status_code == 500
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    expected = (
        "<faultcode>soap:Client</faultcode><faultstring>System.Web.Services.Protocols."
        "SoapException: Server did not recognize the value of HTTP Header SOAPAction: "
        f"{action}."
    )
    assert expected in resp.text
    assert resp.text.endswith("<detail /></soap:Fault></soap:Body></soap:Envelope>")


def test_soap12_unknown_action_fault_shape(raw, gw):
    """A SOAP 1.2 fault has soap:Code/soap:Value soap:Sender and soap:Reason."""
    resp = requests.post(
        gw.primary.send_url,
        data=raw.envelope("mdgetSninfo", "soap12").encode(),
        headers={"Content-Type": 'application/soap+xml; charset=utf-8; action="urn:nope"'},
        timeout=5,
    )
    assert resp.status_code == 500
    assert "<soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code>" in resp.text
    assert '<soap:Reason><soap:Text xml:lang="en">' in resp.text


@pytest.mark.parametrize("body", [b"<not xml", b"", b"<a><b></a>", "<\u00e9>".encode("latin-1")])
def test_malformed_envelope_is_fault(gw, body):
    """A body that is not a well-formed envelope is a 500 soap:Client 'unable to read request'."""
    resp = requests.post(
        gw.primary.send_url,
        data=body,
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": "http://entinfo.cn/mdsmssend",
        },
        timeout=5,
    )
    assert resp.status_code == 500
    assert "<faultcode>soap:Client</faultcode>" in resp.text
    assert "Server was unable to read request." in resp.text
    assert len(gw.ledger) == 0


def test_soap12_envelope_as_text_xml_is_answered_as_soap12(raw, gw):
    """A SOAP 1.2 envelope sent as text/xml with a SOAPAction (the vendor's Java demo) is
    read by its envelope's version: a 200 SOAP 1.2 reply, as an ASMX runtime answers."""
    resp = requests.post(
        gw.primary.send_url,
        data=raw.envelope("mdgetSninfo", "soap12").encode(),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": "http://entinfo.cn/mdgetSninfo",
        },
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/soap+xml; charset=utf-8"
    assert 'xmlns:soap="http://www.w3.org/2003/05/soap-envelope"' in resp.text
    assert '<mdgetSninfoResult>{"SN":"SDK-TST-010-00001"' in resp.text


def test_unknown_envelope_namespace_is_version_mismatch(gw):
    """An Envelope in neither SOAP namespace gets a soap:VersionMismatch fault."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><e:Envelope xmlns:e="http://example.org/env">'
        '<e:Body><mdgetSninfo xmlns="http://entinfo.cn/" /></e:Body></e:Envelope>'
    )
    resp = requests.post(
        gw.primary.send_url,
        data=body.encode(),
        headers={"Content-Type": "text/xml", "SOAPAction": "http://entinfo.cn/mdgetSninfo"},
        timeout=5,
    )
    assert resp.status_code == 500
    assert "<faultcode>soap:VersionMismatch</faultcode>" in resp.text


def test_action_and_body_disagree_is_fault(raw, gw):
    """SOAPAction naming one operation with another in the body is a soap:Client fault."""
    resp = requests.post(
        gw.primary.send_url,
        data=raw.envelope("mdgetSninfo").encode(),
        headers={"Content-Type": "text/xml", "SOAPAction": "http://entinfo.cn/mdsmssend"},
        timeout=5,
    )
    assert resp.status_code == 500
    assert "was not expected" in resp.text


@pytest.mark.parametrize("protocol", ["http-get", "http-post"])
def test_missing_http_parameter_is_plain_500(raw, gw, protocol):
    """HTTP GET/POST without one of the eight fields is a plain-text 500 naming it."""
    fields = raw.fields("mdsmssend", mobile="1", content="x")
    del fields["ext"]
    url = gw.primary.send_url + "/mdsmssend"
    if protocol == "http-get":
        resp = requests.get(url, params=fields, timeout=5)
    else:
        resp = requests.post(url, data=fields, timeout=5)
    assert resp.status_code == 500
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.text.splitlines()[0] == "System.InvalidOperationException: Missing parameter: ext."
    assert len(gw.ledger) == 0


def test_unknown_http_method_name_is_500(gw):
    """GET /webservice.asmx/<unknown> is the ASMX 'Request format is unrecognized' 500."""
    resp = requests.get(gw.primary.send_url + "/mdSmsSend", timeout=5)
    assert resp.status_code == 500
    assert "unexpectedly ending in '/mdSmsSend'" in resp.text


def test_gbk_body_with_gb2312_charset(raw, gw):
    """A SOAP body in GBK bytes with charset=gb2312 decodes correctly (content not URL-encoded)."""
    env = raw.envelope("mdsmssend", mobile="13800138000", content="你好【签名】")
    env = env.replace('encoding="utf-8"', 'encoding="gb2312"')
    resp = requests.post(
        gw.primary.send_url,
        data=env.encode("gbk"),
        headers={
            "Content-Type": "text/xml; charset=gb2312",
            "SOAPAction": "http://entinfo.cn/mdsmssend",
        },
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    assert gw.ledger.messages[0].content == "你好【签名】"


@pytest.mark.parametrize(
    "action", ['"http://entinfo.cn/mdgetSninfo"', "http://entinfo.cn/mdgetSninfo", ""]
)
def test_soapaction_quoted_unquoted_or_empty(raw, gw, action):
    """Quoted and bare SOAPAction both route; an empty one is routed by the body element."""
    resp = requests.post(
        gw.primary.send_url,
        data=raw.envelope("mdgetSninfo").encode(),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action},
        timeout=5,
    )
    assert resp.status_code == 200
    assert '"Balance":' in resp.text


def test_http_query_repeated_name_joins_with_comma(raw, gw):
    """mobile=1&mobile=2 reads as '1,2', as ASP.NET's NameValueCollection does."""
    fields = raw.fields("mdsmssend", content="x")
    query = "&".join(f"{k}={v}" for k, v in fields.items() if k != "mobile")
    resp = requests.get(f"{gw.primary.send_url}/mdsmssend?{query}&mobile=1&mobile=2", timeout=5)
    assert resp.status_code == 200
    assert [e.mobile for e in gw.ledger.messages] == ["1", "2"]


def test_plus_and_percent_u_in_content(raw, gw):
    """In content, '+' decodes to a space and %uXXXX to its character (HttpUtility.UrlDecode)."""
    raw.call("http-post", "mdsmssend", mobile="1", content="a+b%u4F60%zz")
    assert gw.ledger.messages[0].content == "a b你%zz"


def test_help_page_and_404(gw):
    """GET /webservice.asmx is an HTML help page; other paths are a 404."""
    page = requests.get(gw.primary.account_url, timeout=5)
    assert page.status_code == 200
    assert "Register" in page.text
    assert (
        requests.get(gw.primary.send_url.replace("webservice.asmx", "nope"), timeout=5).status_code
        == 404
    )
    ashx_on_account = gw.primary.account_url.replace("webservice.asmx", "mdsmssend.ashx")
    assert requests.get(ashx_on_account, timeout=5).status_code == 404


def _raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_expect_continue_and_chunked_body(raw, gw):
    """Expect: 100-continue gets a 100 first; a chunked request body is read whole."""
    body = raw.envelope("mdgetSninfo").encode()
    request = (
        b"POST /webservice.asmx HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\n"
        b"SOAPAction: http://entinfo.cn/mdgetSninfo\r\nExpect: 100-continue\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(body[:50]):x}\r\n".encode()
        + body[:50]
        + b"\r\n"
        + f"{len(body[50:]):x}\r\n".encode()
        + body[50:]
        + b"\r\n0\r\n\r\n"
    )
    reply = _raw_exchange(gw.primary.send_port, request)
    assert reply.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert b"mdgetSninfoResult" in reply


def test_keep_alive_serves_many_requests_on_one_connection(raw, gw):
    """Several requests travel over one kept-alive connection, each answered in order."""
    body = raw.envelope("mdgetSninfo").encode()
    one = (
        b"POST /webservice.asmx HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
        b"SOAPAction: http://entinfo.cn/mdgetSninfo\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    last = one.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n")
    reply = _raw_exchange(gw.primary.send_port, one + one + last)
    assert reply.count(b"HTTP/1.1 200 OK") == 3
    assert reply.count(b"Connection: close") == 1


def test_suds_client_calls_mdsmssend(gw):
    """suds-community, loading ?wsdl from the sandbox, sends an mdsmssend that is recorded."""
    from suds.client import Client as SudsClient

    client = SudsClient(gw.backup.send_url + "?wsdl", cache=None, timeout=10)
    result = client.service.mdsmssend(
        SN, md5_pwd(SN, PASSWORD), "13800138000", "suds%E4%BD%A0", "", "", "", ""
    )
    assert str(result).isdigit()
    (entry,) = gw.ledger.messages
    assert (entry.content, entry.host, entry.protocol) == ("suds你", gw.backup.send_url, "soap11")


@pytest.mark.parametrize(
    ("binding", "protocol"),
    [
        ("WebServiceSoap12", "soap12"),
        ("WebServiceHttpGet", "http-get"),
        ("WebServiceHttpPost", "http-post"),
    ],
)
def test_zeep_bindings_from_served_wsdl(gw, binding, protocol):
    """zeep, as a raw client on the served WSDL, works over the SOAP 1.2 and HTTP bindings."""
    import zeep

    client = zeep.Client(gw.primary.send_url + "?wsdl")
    service = client.bind("WebService", binding)
    result = service.mdsmssend(SN, md5_pwd(SN, PASSWORD), "1", "z", "", "", "", "")
    assert str(result).isdigit()
    assert gw.ledger.messages[0].protocol == protocol
