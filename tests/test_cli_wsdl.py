"""`mandao wsdl show|check|refresh` against the sandbox's own ?wsdl."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mandao._wsdl import ACCOUNT, SEND
from mandao.testing import SandboxGateway

from ._cli_helpers import as_json, run


@pytest.fixture
def serve() -> Iterator[dict[str, bytes]]:
    """A loopback server answering every GET with ``pages['body']``; URL in pages['url']."""
    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages["body"]
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pages["url"] = f"http://127.0.0.1:{server.server_address[1]}/webservice.asmx".encode()
    yield pages
    server.shutdown()
    server.server_close()


def test_show_lists_operations_and_parameters() -> None:
    """wsdl show --json lists each operation's parameters from the packaged WSDLs."""
    result = run(["wsdl", "show", "--json"])
    assert result.exit_code == 0
    data = as_json(result)
    assert data["send"]["operations"]["mdsmssend"][:3] == ["sn", "pwd", "mobile"]
    assert "UnRegister" in data["account"]["operations"]
    assert data["send"]["user_copy"] is False


@pytest.mark.parametrize("which", ["send", "account"])
def test_check_against_the_sandbox_finds_no_drift(gateway: SandboxGateway, which: str) -> None:
    """The sandbox serves the cached WSDLs: only the addresses differ (info, exit 0)."""
    url = gateway.hosts[0] if which == "send" else gateway.account_hosts[0]
    result = run(["wsdl", "check", url, "--json"])
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert (data["service"], data["breaking"]) == (which, [])
    assert any("address of WebServiceSoap" in line for line in data["info"])


def test_check_reports_a_renamed_parameter_and_exits_20(serve: dict[str, bytes]) -> None:
    """A parameter renamed in the live WSDL is drift that matters: exit 20, named."""
    serve["body"] = SEND.packaged_path.read_bytes().replace(b'name="rrid"', b'name="rrId"')
    result = run(["wsdl", "check", serve["url"].decode(), "--json"])
    assert result.exit_code == 20
    assert any("parameters of mdsmssend" in line for line in as_json(result)["breaking"])


def test_check_reports_a_changed_namespace(serve: dict[str, bytes]) -> None:
    """A changed targetNamespace is drift that matters, found with --service."""
    serve["body"] = ACCOUNT.packaged_path.read_bytes().replace(
        b"http://tempuri.org/", b"http://example.org/"
    )
    result = run(["wsdl", "check", serve["url"].decode(), "--service", "account"])
    assert result.exit_code == 20
    assert "targetNamespace" in result.stdout


def test_check_of_something_that_is_not_a_wsdl_fails(serve: dict[str, bytes]) -> None:
    """An HTML page is not a WSDL: exit 1 with a message."""
    serve["body"] = b"<html><body>hi</body></html>"
    result = run(["wsdl", "check", serve["url"].decode()])
    assert result.exit_code == 1
    assert "not a WSDL" in result.output


def test_refresh_stores_a_checked_copy_used_from_then_on(gateway: SandboxGateway) -> None:
    """refresh stores a copy in the (tmp) user cache, Service.path prefers it; --packaged undoes."""
    result = run(["wsdl", "refresh", gateway.hosts[0], "--json"])
    assert result.exit_code == 0, result.output
    stored = Path(as_json(result)["stored"])
    assert SEND.path == stored != SEND.packaged_path
    assert as_json(run(["wsdl", "show", "--json"]))["send"]["user_copy"] is True
    assert ACCOUNT.path == ACCOUNT.packaged_path
    result = run(["wsdl", "refresh", "--packaged"])
    assert result.exit_code == 0
    assert SEND.path == SEND.packaged_path


def test_refresh_refuses_a_drifted_copy(serve: dict[str, bytes]) -> None:
    """A live WSDL with drift that matters is not stored (exit 20)."""
    serve["body"] = SEND.packaged_path.read_bytes().replace(b'name="mdgxsend"', b'name="gx"')
    result = run(["wsdl", "refresh", serve["url"].decode()])
    assert result.exit_code == 20
    assert "not stored" in result.stdout
    assert SEND.path == SEND.packaged_path


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_check_of_an_unreachable_url_exits_11() -> None:
    """A URL nothing answers on is 'unreachable': exit 11, as the exit-code table says."""
    url = f"http://127.0.0.1:{_closed_port()}/webservice.asmx"
    result = run(["wsdl", "check", url, "--timeout", "5"])
    assert result.exit_code == 11, result.output
    assert "cannot fetch" in result.output


def test_check_errors_are_json_under_json(serve: dict[str, bytes]) -> None:
    """With --json an unreachable URL, a page that is not a WSDL and a bad URL answer JSON."""
    url = f"http://127.0.0.1:{_closed_port()}/webservice.asmx"
    error = as_json(run(["wsdl", "check", url, "--json"]))["error"]
    assert (error["exit"], error["kind"]) == (11, "unreachable")
    serve["body"] = b"<html><body>hi</body></html>"
    result = run(["wsdl", "check", serve["url"].decode(), "--json"])
    assert result.exit_code == 1
    assert "not a WSDL" in as_json(result)["error"]["message"]
    result = run(["wsdl", "check", "ftp://127.0.0.1/x", "--json"])
    assert (result.exit_code, as_json(result)["error"]["kind"]) == (2, "invalid-input")


def test_check_of_an_error_status_is_not_unreachable(gateway: SandboxGateway) -> None:
    """A host that answers 404 was reached: exit 1 naming the status, not 11."""
    url = gateway.hosts[0].replace("webservice.asmx", "nothing.asmx")
    result = run(["wsdl", "check", url, "--json"])
    assert result.exit_code == 1
    assert "HTTP 404" in as_json(result)["error"]["message"]


def test_show_and_check_cover_the_reply_and_report_operations(gateway: SandboxGateway) -> None:
    """wsdl show lists mo, mo2, report, report2, RECSMS_UTF8 and GetCode; check finds no drift."""
    operations = as_json(run(["wsdl", "show", "--json"]))["account"]["operations"]
    assert operations["mo2"] == ["sn", "pwd", "maxID"]
    assert operations["report2"] == ["sn", "pwd", "maxid", "rrid"]
    assert {"mo", "report", "RECSMS_UTF8", "GetCode"} <= set(operations)
    data = as_json(run(["wsdl", "check", gateway.account_hosts[1], "--json"]))
    assert (data["service"], data["breaking"]) == ("account", [])
