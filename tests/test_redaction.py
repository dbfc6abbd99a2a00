"""Secrets in logs: with every logger at DEBUG, no protocol lets pwd or the password out."""

from __future__ import annotations

import logging

import pytest

import mandao
from mandao._credentials import md5_form
from mandao._redact import redact
from mandao.testing import SandboxGateway

from .conftest import PASSWORD, SN


@pytest.mark.parametrize("protocol", ["soap11", "soap12", "http-get", "http-post", "ashx"])
def test_debug_logging_everywhere_never_shows_credentials(
    gateway: SandboxGateway, protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Root logger at DEBUG while every operation runs: no password, no MD5 form in any record."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    client = gateway.client(SN, PASSWORD, protocol=protocol)
    client.send("13800138000", "日志测试【示例】")
    client.send_personalized({"13800138000": "日志测试二【示例】"})
    client.account()
    client.balance()
    client.account_service.GetBalance()
    with pytest.raises(mandao.AuthenticationError):
        client.register(**{f: "x" for f in mandao.OPERATIONS["Register"].params[2:]})
    gateway.primary.down()
    client.send("13800138000", "日志测试三【示例】")  # fails over: warning records
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert len(caplog.records) > 3  # urllib3 and mandao did log
    assert PASSWORD not in text
    assert md5_form(SN, PASSWORD) not in text


def test_redact_covers_query_form_and_xml_forms() -> None:
    """pwd= and newpwd= in URLs and forms, and <pwd> elements with prefixes, are masked."""
    assert redact("a?sn=1&pwd=ABC&x=1") == "a?sn=1&pwd=***&x=1"
    assert redact("sn=1&newpwd=n3w") == "sn=1&newpwd=***"
    assert redact("<pwd>p</pwd><soap:pwd>q</soap:pwd>") == "<pwd>***</pwd><soap:pwd>***</soap:pwd>"
    assert redact("nothing to hide") == "nothing to hide"


def test_outcome_unknown_keeps_its_cause_with_credentials_redacted() -> None:
    """OutcomeUnknown.cause is the original exception, its text, URL and request redacted."""
    import traceback

    import requests

    url = f"http://127.0.0.1:9/webservice.asmx/mdsmssend?sn={SN}&pwd=E032A1SECRET"
    request = requests.Request("GET", url).prepare()
    inner = OSError(f"Max retries exceeded with url: {url}")
    exc = requests.ReadTimeout(inner, request=request)
    exc.__cause__ = ValueError(f"<pwd>{PASSWORD}</pwd>")
    error = mandao.OutcomeUnknown("read timeout", cause=exc, operation="mdsmssend")
    assert error.cause is exc
    shown = "".join(traceback.format_exception(error.cause)) + str(exc.request.url)
    assert "E032A1SECRET" not in shown
    assert PASSWORD not in shown
    assert "pwd=***" in str(error.cause)
    assert exc.request.url.endswith("pwd=***")


def test_outcome_unknown_without_a_cause_has_none() -> None:
    """An OutcomeUnknown made without an exception (the gateway said so) has cause None."""
    assert mandao.OutcomeUnknown("no answer").cause is None
    internal = mandao.GatewayInternalError(mandao.explain(-11), recipients=("13800138000",))
    assert internal.cause is None
    assert internal.recipients == ("13800138000",)


@pytest.mark.parametrize("client_class", ["Client", "AsyncClient"])
def test_a_postgresql_journals_password_is_not_in_the_clients_repr(client_class: str) -> None:
    """journal="postgresql://user:password@..." is named without its password, opened or not."""
    make = getattr(mandao, client_class)
    client = make("SDK-TST-010-00001", "x", journal="postgresql://app:hunter2@db.internal/sms")
    assert "hunter2" not in repr(client)
    assert "postgresql://app@db.internal/sms" in repr(client)


def test_secrets_are_scrubbed_from_any_text_and_never_shown() -> None:
    """Secrets go wherever they are in a text, pwd= values too; their repr shows none."""
    from mandao._redact import Secrets

    md5 = md5_form(SN, PASSWORD)
    secrets = Secrets([PASSWORD, md5, md5.lower()])
    text = f"echo {PASSWORD} {md5.lower()} x{md5}x pwd=abc"
    assert secrets.scrub(text) == "echo *** *** x***x pwd=***"
    assert PASSWORD not in repr(secrets)
    assert "3 hidden" in repr(secrets)
    assert not Secrets(["", ""])


@pytest.mark.parametrize(
    ("secret", "said", "scrubbed"),
    [
        # .NET's UrlEncode and JavaScript's encodeURIComponent leave !*'() unescaped.
        ("Xk9#pQ2!vR7zLm4", "Xk9%23pQ2!vR7zLm4", "***"),
        # IIS refusing a "potentially dangerous Request.Form value": HtmlEncode, ' as &#39;.
        ("p<w'd9x", "(pwd=&quot;p&lt;w&#39;d9x&quot;)", "(pwd=***&quot;***&quot;)"),
        ("p'w<d 1", "p&#39;w&lt;d 1", "***"),
        # Each character its own way; the hex of each byte in its own case.
        ("p<w'd9x", "p%3cw'd9x", "***"),
        ("p<w'd 9", "p&#x3C;w&apos;d+9", "***"),
        ("密码#1", "%E5%af%86%e7%A0%81%231 &#23494;&#x7801;&num;1 %u5BC6%u7801%231", "*** *** ***"),
        # JSON: \u escapes, either case.
        ("p<w'd9x", '{"pwd": "p\\u003Cw\\u0027d9x"}', '{"pwd": "***"}'),
        # Not another text: a letter in another case, a character short.
        ("p<w'd9x", "P%3Cw'd9x p%3cw'd9 p<w'd9X", "P%3Cw'd9x p%3cw'd9 p<w'd9X"),
    ],
)
def test_secrets_are_scrubbed_however_a_server_spells_them(
    secret: str, said: str, scrubbed: str
) -> None:
    """A server's echo is written by the server's encoder: each character of a secret may be
    spelt its own way, and any way an encoder writes it."""
    from mandao._redact import Secrets

    assert Secrets([secret]).scrub(said) == scrubbed


def test_log_records_of_an_exchange_are_scrubbed_of_its_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Inside ``scrubbing``, a library's record that holds a secret is rewritten; outside,
    only pwd= values are."""
    from mandao._redact import Secrets, install, scrubbing

    install()  # as a transport does when imported
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("httpcore.http11")
    with scrubbing(Secrets([PASSWORD])):
        logger.debug("headers %s", [(b"X-Echo", PASSWORD.encode())])
    logger.debug("later %s", PASSWORD)
    assert PASSWORD not in caplog.records[0].getMessage()
    assert PASSWORD in caplog.records[1].getMessage()  # no exchange: nothing to know it by


def test_an_exception_chain_is_scrubbed_of_the_secrets_given() -> None:
    """redact_exception with secrets: args, nested exceptions and causes, bytes too."""
    from http.client import BadStatusLine

    from mandao._redact import Secrets, redact_exception

    inner = BadStatusLine(f"HTTP/1.1 200 {PASSWORD}")
    outer = ConnectionError("aborted", inner, PASSWORD.encode())
    outer.__cause__ = ValueError(PASSWORD)
    redact_exception(outer, Secrets([PASSWORD]))
    shown = repr(outer) + repr(inner) + repr(outer.__cause__)
    assert PASSWORD not in shown
    assert "***" in repr(inner)
