"""Servers that echo the request back: no secret reaches a log, a repr, an error or the journal.

Each echo server puts what it was sent (the ``pwd`` it found, in upper and lower case too,
the plain password, which the gateway knows whatever form the operation carries, and the
whole request, URL-decoded) where a server's text ends up in mandao's: an error
page, a SOAP fault string, a result, the status line and a header, a broken status line, a
chunk size. With every logger at DEBUG, every protocol and the operations that carry a
password, the logs, the exceptions (``traceback.format_exception`` of them and of their
causes), the journal's files and ``mandao journal export`` hold neither the password nor its
MD5 form, in either case.
"""

from __future__ import annotations

import logging
import re
import socket
import string
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

import mandao
from mandao._credentials import md5_form
from mandao._operations import PROTOCOLS
from mandao.cli import main

from . import test_hostile
from .test_hostile import CONTENT_TYPES, ENVELOPES, Hostile, Make, Request, envelope, head, serial

make, shared_pool = test_hostile.make, test_hostile.shared_pool  # the fixtures, here too

PASSWORD = "Echo-Me#9&<x y'!"  # long enough not to match by chance in what servers say
NEW_PASSWORD = 'N3w>Pass w0rd"%'  # what UDPPwd carries as newpwd: as secret as the other
_LETTERS = frozenset(string.ascii_letters + string.digits)


def _each(value: str, spell: Callable[[int, str], str]) -> str:
    """``value`` with each character not a letter or a digit (and its place) spelt by ``spell``."""
    return "".join(c if c in _LETTERS else spell(i, c) for i, c in enumerate(value))


def _percent(char: str, digits: str = "{:02x}") -> str:
    return "".join("%" + digits.format(byte) for byte in char.encode())


_HTML = {"<": "&lt;", ">": "&gt;", '"': "&quot;", "&": "&amp;", "'": "&#39;"}


def url_encode(value: str) -> str:
    """.NET's HttpUtility.UrlEncode: -_.!*() as they are, a space as +, hex in lower case."""
    return _each(value, lambda _, c: c if c in "-_.!*()" else "+" if c == " " else _percent(c))


def encode_uri_component(value: str) -> str:
    """JavaScript's encodeURIComponent: -_.!~*'() as they are, hex in upper case."""
    return _each(value, lambda _, c: c if c in "-_.!~*'()" else _percent(c, "{:02X}"))


def html_encode(value: str) -> str:
    """.NET's HttpUtility.HtmlEncode, as on IIS's "potentially dangerous value" page."""
    return _each(value, lambda _, c: _HTML.get(c, c))


def json_escape(value: str) -> str:
    """.NET's JavaScriptSerializer: <>&' as \\u00XX."""
    return _each(value, lambda _, c: f"\\u{ord(c):04x}" if c in "<>&'" else c)


def mixed(value: str) -> str:
    """Each character its own way, in turn: itself, %XX, &#NN;, &#xHH;."""
    forms = ("{}", "%{:02X}", "&#{};", "&#x{:X};")
    return _each(value, lambda i, c: forms[i % 4].format(c if i % 4 == 0 else ord(c)))


#: The password as other encoders than Python's spell it, written out here by hand (not with
#: urllib or xml, as mandao might): a server's echo comes from the server's encoder.
SPELT = {
    f"{encoder.__name__}({name})": encoder(value)
    for encoder in (url_encode, encode_uri_component, html_encode, json_escape, mixed)
    for name, value in (("password", PASSWORD), ("new password", NEW_PASSWORD))
}


def echoed(request: Request) -> str:
    """What an echoing server says back: every form of the pwd it saw, and the request."""
    text = unquote_plus(request.path) + " " + request.body.decode("utf-8", "replace")
    found = re.findall(r"pwd=([^&\s\"']+)", text) + re.findall(r"<(?:\w+:)?pwd>([^<]*)<", text)
    forms = {form for value in found for form in (value, value.lower(), value.upper())}
    # The gateway knows the plain password, whichever form the operation carries; and a
    # server may echo the request as it came, encoded.
    said = [PASSWORD, *(v for k, v in SPELT.items() if k.endswith("(password)"))]
    new = [NEW_PASSWORD, *(v for k, v in SPELT.items() if k.endswith("(new password)"))]
    if "newpwd" in text:  # the new password first, where the echoes cut short reach it
        return f"echo {' '.join(new)} {' '.join(sorted(forms))} {' '.join(said)} of {text}"
    return f"echo {' '.join(sorted(forms))} {' '.join(said)} of {text}"


def _whole(status: str, kind: str, body: bytes) -> bytes:
    return head(status, {"Content-Type": kind, "Content-Length": str(len(body))}) + body


def _page(request: Request) -> bytes:
    body = f"<html><body>Error: {escape(echoed(request))}</body></html>".encode()
    return _whole("500 Internal Server Error", "text/html", body)


def _fault(request: Request) -> bytes:
    protocol = request.protocol if request.protocol in ENVELOPES else "soap11"
    said = escape(echoed(request))
    if protocol == "soap11":
        inner = f"<soap:Fault><faultcode>soap:Client {said[:40]}</faultcode>"
        inner += f"<faultstring>{said}</faultstring></soap:Fault>"
    else:
        inner = "<soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code>"
        inner += f'<soap:Reason><soap:Text xml:lang="en">{said}</soap:Text></soap:Reason>'
        inner += "</soap:Fault>"
    return _whole("500 Internal Server Error", CONTENT_TYPES[protocol], envelope(protocol, inner))


def _result(request: Request) -> bytes:
    body = test_hostile.result_body(request, echoed(request)[:300])
    return head("200 OK", {"Content-Type": CONTENT_TYPES[request.protocol],
                           "Content-Length": str(len(body))}) + body  # fmt: skip


def _cut(request: Request) -> bytes:
    """The result, its closing tags cut off: a reply fetch keeps such an answer whole."""
    body = test_hostile.result_body(request, echoed(request)[:300])
    cut = body.rfind(b"</")
    body = (body[:cut] if cut > 0 else body) + b"<broken"
    return head("200 OK", {"Content-Type": CONTENT_TYPES[request.protocol],
                           "Content-Length": str(len(body))}) + body  # fmt: skip


def _status_line(request: Request) -> bytes:
    said = re.sub(r"[\r\n]", " ", echoed(request))[:200]
    return head(f"503 {said}", {"X-Echo": said, "Content-Length": "0"})


def _bad_status(request: Request) -> bytes:
    return f"HTTP/1.1 2x0 {echoed(request)[:200]}\r\n\r\n".encode()


def _chunk(request: Request) -> bytes:
    said = echoed(request).split(" of ")[0].replace(" ", "")[:60]
    return head("200 OK", {"Transfer-Encoding": "chunked"}) + f"{said}\r\nx\r\n".encode()


ECHOES: dict[str, Callable[[Request], bytes]] = {
    "error page": _page,
    "fault": _fault,
    "result": _result,
    "result cut short": _cut,
    "status line and header": _status_line,
    "broken status line": _bad_status,
    "chunk size": _chunk,
}
CALLS = ("mdsmssend", "mdgxsend", "mdgetSninfo", "Register", "UnRegister", "balance", "mo",
         "report", "UDPPwd")  # fmt: skip
#: Fetches of what comes back: an MD5-form operation, whose server knows the password.
FETCHES = ("mo", "report")


def _echo(kind: str) -> test_hostile.Reply:
    def reply(conn: socket.socket, server: Hostile) -> None:
        request = server.request(conn)
        if request is not None:
            conn.sendall(ECHOES[kind](request))

    return reply


def _call(client: Any, name: str) -> object:
    if name == "mdsmssend":
        return client.send("13800138000", "回声【示例】")
    if name == "mdgxsend":
        return client.send_personalized({"13800138000": "回声【示例】"})
    if name == "mdgetSninfo":
        return client.account()
    if name == "balance":
        return client.balance()
    if name == "mo":
        return client.fetch_replies()
    if name == "report":
        return client.fetch_reports()
    if name == "UDPPwd":
        return client.change_password(NEW_PASSWORD)
    if name == "Register":
        return client.register(**dict.fromkeys(mandao.OPERATIONS["Register"].params[2:], "x"))
    return client.unregister()


def _texts(error: BaseException) -> list[str]:
    """Everything an exception shows: str, repr, its formatted traceback, and its cause's."""
    shown = [str(error), repr(error), "".join(traceback.format_exception(error))]
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        shown += [str(cause), repr(cause), "".join(traceback.format_exception(cause))]
    return shown


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_echoed_secrets_reach_no_log_error_or_journal(
    make: Make, protocol: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every echo, every operation with a password, at DEBUG: the password and its MD5 form
    (either case) are nowhere in the logs, the errors, the journal or its export."""
    sn = serial()
    secrets = {PASSWORD, NEW_PASSWORD, *SPELT.values(), md5_form(sn, PASSWORD),
               md5_form(sn, PASSWORD).lower()}  # fmt: skip
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    journal = tmp_path / "journal.sqlite3"
    shown: list[str] = []
    for kind in ECHOES:
        with Hostile(_echo(kind)) as server:
            client = make(server, sn=sn, password=PASSWORD, protocol=protocol,
                          journal=str(journal), registration_guard=False)  # fmt: skip
            shown.append(repr(client))
            for name in CALLS:
                if name in FETCHES:  # an echo may read as replies or reports: shown too
                    try:
                        fetched = _call(client, name)
                    except mandao.MandaoError as exc:
                        shown += _texts(exc)
                    else:
                        shown += [repr(fetched), str(fetched)]
                    continue
                with pytest.raises(mandao.MandaoError) as info:
                    _call(client, name)
                shown += _texts(info.value)
            client.close()
    assert len(server.seen) == len(CALLS) + 1  # the last server was asked everything (GetCode)
    shown += [caplog.text, *(str(record.__dict__) for record in caplog.records)]
    assert any("DEBUG" in line for line in caplog.text.splitlines())
    shown += [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    for fmt in ("jsonl", "csv"):
        exported = CliRunner().invoke(main, ["journal", "export", "--journal", str(journal),
                                             "--format", fmt, "--unmask"])  # fmt: skip
        assert exported.exit_code == 0, exported.output
        assert "Register" in exported.stdout
        shown.append(exported.output)
    leaks = sorted({secret for secret in secrets for text in shown if secret in text})
    assert leaks == []


def test_the_echo_servers_do_echo_the_secrets() -> None:
    """The check above would catch a leak: each echo holds the MD5 form as it was sent."""
    sn = serial()
    md5 = md5_form(sn, PASSWORD)
    request = Request("POST", "/webservice.asmx/balance", {}, f"sn={sn}&pwd={md5}".encode())
    for kind, echo in ECHOES.items():
        said = echo(request).decode()
        assert md5 in said or md5.lower() in said, kind
    # ...and the password, plain and as each encoder spells it, in the echoes long enough.
    result = echoed(request)[:300]  # what the result carries
    spelt = [PASSWORD, *(v for k, v in SPELT.items() if k.endswith("(password)"))]
    assert [form for form in spelt if form not in result] == []
    # ...and a new password, where the request carried one.
    change = Request("POST", "/webservice.asmx/UDPPwd", {}, b"sn=s&pwd=p&newpwd=n")
    new = [NEW_PASSWORD, *(v for k, v in SPELT.items() if k.endswith("(new password)"))]
    for kind in ("error page", "fault", "result", "result cut short", "status line and header"):
        said = ECHOES[kind](change).decode()
        assert [form for form in new if escape(form) not in said and form not in said] == [], kind
    assert NEW_PASSWORD.replace(" ", "")[:8] in ECHOES["chunk size"](change).decode()
