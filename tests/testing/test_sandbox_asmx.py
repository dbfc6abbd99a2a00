"""What an ASMX runtime does with these signatures: typed parameters, the Java demo's
SOAP 1.2 envelopes, per-account permissions of the fetching operations."""

from __future__ import annotations

import pytest
import requests

from mandao.testing import SandboxAccount, SandboxGateway

SN = "SDK-TST-010-00001"
PASSWORD = "secret"
ACCOUNT_NS = "http://tempuri.org/"
TIMEOUT = 5


def _post_soap(url: str, body: str, version: str, action: str) -> requests.Response:
    if version == "soap11":
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    else:
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
    return requests.post(url, data=body.encode("utf-8"), headers=headers, timeout=TIMEOUT)


def _envelope(version: str, inner: str) -> str:
    env = (
        "http://schemas.xmlsoap.org/soap/envelope/"
        if version == "soap11"
        else "http://www.w3.org/2003/05/soap-envelope"
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{env}">'
        f"<soap:Body>{inner}</soap:Body></soap:Envelope>"
    )


@pytest.mark.parametrize("version", ["soap11", "soap12"])
def test_report2_with_maxid_left_out_answers_as_if_0(raw, gw, version):
    """A SOAP report2 without <maxid> is read as maxid 0 (XmlSerializer's default)."""
    raw.send("13800138000", "x", rrid="5")
    inner = (
        f'<report2 xmlns="{ACCOUNT_NS}"><sn>{SN}</sn><pwd>{gw.pwd(SN, PASSWORD)}</pwd>'
        "<rrid>5</rrid></report2>"
    )
    resp = _post_soap(
        gw.primary.account_url, _envelope(version, inner), version, f"{ACCOUNT_NS}report2"
    )
    assert resp.status_code == 200, resp.text
    assert ",5,13800138000,DELIVRD," in resp.text


FORMAT = "System.FormatException: Input string was not in a correct format."
OVERFLOW = "System.OverflowException: Value was either too large or too small for an Int32."


@pytest.mark.parametrize(
    ("op", "field", "value", "net", "inner"),
    [
        ("report", "maxid", "abc", "System.Int64", FORMAT),
        ("report2", "maxid", "", "System.Int64", FORMAT),
        ("mo2", "maxID", "1.5", "System.Int32", FORMAT),
        ("mo2", "maxID", "3000000000", "System.Int32", OVERFLOW),
    ],
)
@pytest.mark.parametrize("protocol", ["http-get", "http-post"])
def test_non_numeric_typed_parameter_over_http_is_argument_exception(
    raw, gw, protocol, op, field, value, net, inner
):
    """HTTP GET/POST: a value that is not a number is a plain-text 500 ArgumentException."""
    given = {field: value} | ({"rrid": ""} if op == "report2" else {})
    resp = getattr(raw, protocol.replace("-", "_"))(op, **given)
    assert resp.status_code == 500
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    first, second = resp.text.split("\r\n")[:2]
    assert first == f"System.ArgumentException: Cannot convert {value} to {net}."
    assert second == f"Parameter name: type ---> {inner}"
    assert "System.Web.Services.Protocols.ScalarFormatter.FromString" in resp.text
    assert not gw.ledger.rejections


def test_missing_typed_parameter_over_http_get_is_missing_parameter(raw, gw):
    """HTTP GET without maxid at all is the runtime's Missing parameter error."""
    resp = raw.session.get(
        f"{gw.primary.account_url}/report", params=raw.fields("report"), timeout=TIMEOUT
    )
    assert resp.status_code == 500
    assert resp.text.startswith("System.InvalidOperationException: Missing parameter: maxid.")


@pytest.mark.parametrize("version", ["soap11", "soap12"])
def test_non_numeric_maxid_in_soap_is_an_unreadable_request(raw, gw, version):
    """SOAP: the XmlSerializer cannot read <maxid>abc</maxid>: a soap:Client fault."""
    inner = (
        f'<report xmlns="{ACCOUNT_NS}"><sn>{SN}</sn><pwd>{gw.pwd(SN, PASSWORD)}</pwd>'
        "<maxid>abc</maxid></report>"
    )
    resp = _post_soap(
        gw.primary.account_url, _envelope(version, inner), version, f"{ACCOUNT_NS}report"
    )
    assert resp.status_code == 500
    assert "Server was unable to read request." in resp.text
    assert FORMAT in resp.text
    assert ("soap:Client" if version == "soap11" else "soap:Sender") in resp.text


def test_typed_parameters_accept_what_dotnet_parses(raw, gw):
    """White space around a signed number is read as .NET reads it."""
    gw.reply("13800138000", "x")
    first = gw.replies()[0].id
    assert raw.call("http-get", "mo2", maxID=f" +{first - 1} ").startswith(str(first))
    assert raw.call("soap11", "mo2", maxID=f"\n{first}\n") == "1"


def _java_demo(sn: str, password: str, op: str, fields: str) -> str:
    """The vendor's Java demo's envelope: SOAP 1.2 (soap12: prefix), xsi and xsd declared."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap12:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:soap12="http://www.w3.org/2003/05/soap-envelope"><soap12:Body>'
        f'<{op} xmlns="http://tempuri.org/"><sn>{sn}</sn><pwd>{password}</pwd>{fields}</{op}>'
        "</soap12:Body></soap12:Envelope>"
    )


def test_java_demo_register_and_unregister_get_soap12_replies(raw_for):
    """Register (GBK bytes, text/xml; charset=gb2312) and UnRegister (utf-8), both SOAP 1.2
    envelopes posted as text/xml with a SOAPAction header, get 200 SOAP 1.2 replies."""
    accounts = {SN: SandboxAccount(PASSWORD, registered=False)}
    with SandboxGateway(accounts=accounts) as gw:
        fields = "".join(
            f"<{name}>{value}</{name}>"
            for name, value in [
                ("province", "北京"), ("city", "北京"), ("trade", "IT"), ("entname", "示例公司"),
                ("linkman", "张三"), ("phone", "010"), ("mobile", "13800138000"),
                ("email", "a@b.cn"), ("fax", ""), ("address", "路"), ("postcode", "100000"),
                ("sign", ""),
            ]
        )  # fmt: skip
        register = requests.post(
            gw.primary.account_url,
            data=_java_demo(SN, PASSWORD, "Register", fields).encode("gbk"),
            headers={"Content-Type": "text/xml; charset=gb2312", "SOAPAction": "http://tempuri.org/Register"},
            timeout=TIMEOUT,
        )  # fmt: skip
        assert register.status_code == 200, register.text
        assert register.headers["Content-Type"].startswith("application/soap+xml")
        assert "http://www.w3.org/2003/05/soap-envelope" in register.text
        assert "<RegisterResult>0</RegisterResult>" in register.text
        assert gw.account(SN).registration["entname"] == "示例公司"
        unregister = requests.post(
            gw.primary.account_url,
            data=_java_demo(SN, PASSWORD, "UnRegister", "").encode("utf-8"),
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "http://tempuri.org/UnRegister"},
            timeout=TIMEOUT,
        )  # fmt: skip
        assert unregister.status_code == 200, unregister.text
        assert "<UnRegisterResult>0</UnRegisterResult>" in unregister.text
        assert gw.ledger.rejections == []


@pytest.mark.parametrize("protocol", ["soap11", "soap12", "http-get", "http-post"])
@pytest.mark.parametrize(("op", "code"), [("report", "-17"), ("mo", "-7"), ("report2", "-7")])
def test_fetch_permissions_per_account(raw_for, protocol, op, code):
    """refused={op: code} answers -7/-17 for that operation alone, recorded as a rejection."""
    refused = {"report": "-17", "mo": "-7", "report2": "-7"}
    with SandboxGateway(accounts={SN: SandboxAccount(PASSWORD, refused=refused)}) as gw:
        raw = raw_for(gw)
        given = {"maxid": "0"} | ({"rrid": ""} if op == "report2" else {})
        assert raw.call(protocol, op, **(given if op != "mo" else {})) == code
        assert raw.call(protocol, "mo2", maxID="0") == "1"
        assert [(r.code, r.operation) for r in gw.ledger.rejections] == [(code, op)]


@pytest.mark.parametrize("protocol", ["soap11", "http-get"])
def test_recsms_utf8_failures_are_a_negative_total_num(raw_for, protocol):
    """RECSMS_UTF8 answers a failure as one MOBody whose total_num is the code."""
    accounts = {SN: SandboxAccount(PASSWORD, refused={"RECSMS_UTF8": "-17"})}
    with SandboxGateway(accounts=accounts) as gw:
        raw = raw_for(gw)
        assert "<total_num>-17</total_num>" in raw.call(protocol, "RECSMS_UTF8")
        assert "<total_num>-2</total_num>" in raw.call(protocol, "RECSMS_UTF8", pwd="wrong")
        gw.primary.fail("code", code="-11", operation="RECSMS_UTF8")
        assert "<total_num>-11</total_num>" in raw.call(protocol, "RECSMS_UTF8")


def test_refused_is_checked(gw):
    """A refused code must be a negative number; update_account checks it too."""
    with pytest.raises(ValueError, match="negative code"):
        SandboxAccount(PASSWORD, refused={"mo": "7"})
    with pytest.raises(ValueError, match="negative code"):
        gw.update_account(SN, refused={"mo": "x"})
    with pytest.raises(ValueError, match="service_number"):
        gw.update_account(SN, service_number="10 65")
    gw.update_account(SN, refused={"mo": "-17"}, service_number="106900")
    assert (gw.account(SN).refused, gw.account(SN).service_number) == ({"mo": "-17"}, "106900")


@pytest.mark.parametrize("protocol", ["http-get", "http-post"])
def test_http_parameter_names_ignore_case(raw, gw, protocol):
    """ASP.NET's query and form collections ignore case: maxid finds mo2's maxID."""
    gw.reply("13800138000", "x")
    fields = raw.fields("mo2") | {"MAXid": "0"}
    url = f"{gw.primary.account_url}/mo2"
    if protocol == "http-get":
        resp = raw.session.get(url, params=fields, timeout=TIMEOUT)
    else:
        resp = raw.session.post(url, data=fields, timeout=TIMEOUT)
    assert resp.status_code == 200, resp.text
    assert ",13800138000,x," in resp.text
