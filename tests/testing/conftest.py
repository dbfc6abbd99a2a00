"""Fixtures for the sandbox's own tests: a running gateway and a raw (non-mandao) caller."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import pytest
import requests

from mandao.testing import SandboxGateway, md5_pwd

SN = "SDK-TST-010-00001"
PASSWORD = "secret"
SEND_NS = "http://entinfo.cn/"
ACCOUNT_NS = "http://tempuri.org/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SEND_FIELDS = ("sn", "pwd", "mobile", "content", "ext", "stime", "rrid", "msgfmt")
ACCOUNT_OPS = {
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
PLAIN_PWD_OPS = {"Register", "UnRegister", "GetBalance", "UDPPwd", "RECSMS_UTF8", "GetCode"}
TIMEOUT = 5.0


def encode(text: str) -> str:
    """What every client puts in ``content``: UTF-8 percent-encoding of the text."""
    return quote(text, safe="")


class Raw:
    """Calls a sandbox host with plain requests: the shapes a third-party client sends."""

    def __init__(self, gw: SandboxGateway, sn: str = SN, password: str = PASSWORD) -> None:
        self.gw = gw
        self.sn = sn
        self.password = password
        self.session = requests.Session()

    def url(self, op: str, host: str = "primary") -> str:
        h = self.gw.primary if host == "primary" else self.gw.backup
        return h.account_url if op in ACCOUNT_OPS else h.send_url

    def fields(self, op: str, **given: str) -> dict[str, str]:
        pwd = md5_pwd(self.sn, self.password)
        if op in PLAIN_PWD_OPS:
            pwd = self.password
        base = {"sn": self.sn, "pwd": pwd}
        if op in ("mdsmssend", "mdgxsend"):
            base.update(dict.fromkeys(SEND_FIELDS[2:], ""))
        base.update(given)
        return base

    def envelope(self, op: str, version: str = "soap11", **given: str) -> str:
        ns = ACCOUNT_NS if op in ACCOUNT_OPS else SEND_NS
        env = SOAP11 if version == "soap11" else SOAP12
        inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in self.fields(op, **given).items())
        return (
            f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{env}">'
            f'<soap:Body><{op} xmlns="{ns}">{inner}</{op}></soap:Body></soap:Envelope>'
        )

    def soap11(self, op: str, host: str = "primary", **given: str) -> requests.Response:
        ns = ACCOUNT_NS if op in ACCOUNT_OPS else SEND_NS
        return self.session.post(
            self.url(op, host),
            data=self.envelope(op, **given).encode("utf-8"),
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ns}{op}"'},
            timeout=TIMEOUT,
        )

    def soap12(self, op: str, host: str = "primary", **given: str) -> requests.Response:
        ns = ACCOUNT_NS if op in ACCOUNT_OPS else SEND_NS
        ctype = f'application/soap+xml; charset=utf-8; action="{ns}{op}"'
        return self.session.post(
            self.url(op, host),
            data=self.envelope(op, "soap12", **given).encode("utf-8"),
            headers={"Content-Type": ctype},
            timeout=TIMEOUT,
        )

    def http_get(self, op: str, host: str = "primary", **given: str) -> requests.Response:
        return self.session.get(
            f"{self.url(op, host)}/{op}", params=self.fields(op, **given), timeout=TIMEOUT
        )

    def http_post(self, op: str, host: str = "primary", **given: str) -> requests.Response:
        return self.session.post(
            f"{self.url(op, host)}/{op}", data=self.fields(op, **given), timeout=TIMEOUT
        )

    def ashx(
        self, op: str, host: str = "primary", method: str = "GET", **given: str
    ) -> requests.Response:
        url = self.url(op, host).replace("webservice.asmx", f"{op}.ashx")
        data = self.fields(op, **given)
        if method == "GET":
            return self.session.get(url, params=data, timeout=TIMEOUT)
        return self.session.post(url, data=data, timeout=TIMEOUT)

    def call(self, protocol: str, op: str, host: str = "primary", **given: str) -> str:
        """Call ``op`` over ``protocol`` and return the result string it carried."""
        fn = {
            "soap11": self.soap11,
            "soap12": self.soap12,
            "http-get": self.http_get,
            "http-post": self.http_post,
            "ashx": self.ashx,
        }[protocol]
        resp = fn(op, host, **given)
        assert resp.status_code == 200, resp.text
        return result_of(resp.text, protocol, op)

    def send(self, mobile: str, text: str, protocol: str = "soap11", **given: Any) -> str:
        """``mdsmssend`` of ``text`` (encoded as clients do) to ``mobile``."""
        return self.call(protocol, "mdsmssend", mobile=mobile, content=encode(text), **given)


def result_of(body: str, protocol: str, op: str) -> str:
    """The result value out of a reply body of ``protocol``."""
    if protocol == "ashx":
        return body
    tag = "string" if protocol.startswith("http") else f"{op}Result"
    if op == "RECSMS_UTF8" and protocol.startswith("http"):
        tag = "ArrayOfMOBody"  # a structured result: the document's own root
    match = re.search(rf"<{tag}[^>]*>(.*)</{tag}>", body, re.S)
    assert match, body
    return match.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.fixture
def gw(request: pytest.FixtureRequest) -> Iterator[SandboxGateway]:
    """A running sandbox with the one test account; a ``pytest.mark.sandbox(**options)``
    on the test or its module adds ``SandboxGateway`` options (``inbox=True``)."""
    marker = request.node.get_closest_marker("sandbox")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    with SandboxGateway(accounts={SN: PASSWORD}, **options) as gateway:
        yield gateway


@pytest.fixture
def raw(gw: SandboxGateway) -> Iterator[Raw]:
    """A raw caller for the test account on ``gw``."""
    caller = Raw(gw)
    yield caller
    caller.session.close()


@pytest.fixture
def raw_for() -> Iterator[Any]:
    """A factory of raw callers for gateways a test builds itself."""
    made: list[Raw] = []

    def make(gateway: SandboxGateway, sn: str = SN, password: str = PASSWORD) -> Raw:
        caller = Raw(gateway, sn, password)
        made.append(caller)
        return caller

    yield make
    for caller in made:
        caller.session.close()
