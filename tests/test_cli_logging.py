"""With DEBUG on for every logger, no command prints the password or its MD5 form."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mandao._credentials import md5_form
from mandao.testing import SandboxGateway

from ._cli_helpers import PASSWORD, SN, run, sandbox_env

REGISTER = [
    "--province", "北京", "--city", "北京", "--trade", "IT", "--entname", "示例", "--linkman",
    "张三", "--phone", "010-1", "--mobile", "13800138000", "--email", "a@b.cn", "--fax", "",
    "--address", "北京", "--postcode", "100000", "--sign", "示例",
]  # fmt: skip


@pytest.fixture
def all_debug() -> Iterator[io.StringIO]:
    """Every logger (and the root) at DEBUG, each record written to one buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    saved = (
        root.level,
        {
            name: lg.level
            for name, lg in logging.root.manager.loggerDict.items()
            if isinstance(lg, logging.Logger)
        },
    )
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in list(saved[1]):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in saved[1].items():
        logging.getLogger(name).setLevel(level)


def _commands(gw: SandboxGateway) -> list[list[str]]:
    return [
        ["send", "13800138000", "-t", "验证码 1234【示例】"],
        ["send", "13800138000", "-t", "验证码 1234【示例】", "--protocol", "http-get"],
        ["send", "13800138000", "-t", "验证码 1234【示例】", "--protocol", "http-post"],
        ["send", "13800138000", "-t", "验证码 1234【示例】", "--protocol", "soap12"],
        ["send", "13800138000", "-t", "验证码 1234【示例】", "--protocol", "ashx"],
        ["send", "13800138000", "-t", "验证码 1234【示例】", "--dry-run"],
        ["account"],
        ["account", "--protocol", "http-get"],
        ["register", *REGISTER],
        ["unregister", "--yes"],
        ["register", *REGISTER, "--protocol", "http-get"],
        ["estimate", "hi"],
        ["codes"],
        ["explain", "-2"],
        ["config", "show"],
        ["wsdl", "show"],
        ["wsdl", "check", gw.hosts[0]],
    ]


def test_no_command_leaks_the_password_at_debug(
    gateway: SandboxGateway, all_debug: io.StringIO
) -> None:
    """Each command, with -v and --json, at DEBUG everywhere: no password, no MD5 form."""
    secrets = (PASSWORD, md5_form(SN, PASSWORD))
    env = sandbox_env(gateway)
    seen_envelope = False
    for args in _commands(gateway):
        for extra in (["-v"], ["-v", "--json"]):
            result = run([*args, *extra], env=env)
            assert result.exit_code in (0, 4), (args, result.output)
            text = result.stdout + result.stderr + all_debug.getvalue()
            seen_envelope |= "<ns0:pwd>***</ns0:pwd>" in text or "pwd=***" in text
            for secret in secrets:
                assert secret not in text, (args, extra)
    assert seen_envelope, "the DEBUG output should hold redacted envelopes"


def test_verbose_process_against_a_sandbox_subprocess(tmp_path: Path) -> None:
    """`mandao sandbox` in one process, `mandao -v send` in another: stderr has no secret."""
    script = Path(sys.executable).parent / "mandao"
    server = subprocess.Popen(
        [str(script), "sandbox", "--account", f"{SN}:{PASSWORD}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
        send_url = lines[1].split()[2]
        account_url = lines[2].split()[1]
        cfg = tmp_path / "mandao.toml"
        cfg.write_text(
            f'sn = "{SN}"\npassword = "{PASSWORD}"\nhosts = ["{send_url}"]\n'
            f'account_hosts = ["{account_url}"]\n',
            encoding="utf-8",
        )
        cfg.chmod(0o600)
        env = {**os.environ, "MANDAO_CONFIG": str(cfg)}
        done = subprocess.run(
            [str(script), "send", "13800138000", "-t", "hi【示例】", "-v", "--protocol",
             "http-get"],
            capture_output=True, text=True, env=env, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "pwd=***" in done.stderr
        for secret in (PASSWORD, md5_form(SN, PASSWORD)):
            assert secret not in done.stdout + done.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_v_may_come_before_the_command(gateway: SandboxGateway) -> None:
    """`mandao -v account` logs as `mandao account -v` does (the requests, pwd as ***)."""
    env = sandbox_env(gateway)
    before = run(["-v", "account"], env=env)
    after = run(["account", "-v"], env=env)
    assert before.exit_code == after.exit_code == 0, before.output
    assert "POST /webservice.asmx" in before.stderr
    assert before.stderr.count("DEBUG") == after.stderr.count("DEBUG")
    assert PASSWORD not in before.output
    assert run(["account"], env=env).stderr == ""


def test_without_v_the_libraries_warnings_stay_off_stderr() -> None:
    """With no logging set up, Python prints any library's warning on stderr (psycopg's
    pool, say, discarding a connection the server closed, and recovering). A command
    without -v prints its own words only; -v shows them; and a command leaves nothing
    behind. (In a process of its own: pytest's handlers would hide Python's last resort.)"""
    code = """
import logging, sys
from mandao.cli._common import _setup_logging
pool = logging.getLogger("psycopg.pool")
for verbose in (0, 1):
    undo = _setup_logging(verbose)
    pool.warning("inside %d", verbose)
    sys.stderr.flush()
    undo()
pool.warning("after")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert done.stderr == "WARNING psycopg.pool: inside 1\nafter\n"


def test_json_may_come_before_the_command(gateway: SandboxGateway) -> None:
    """`mandao --json send ...` is `mandao send ... --json`: one JSON document; its
    errors too. As `-v`, it may come before the command."""
    env = sandbox_env(gateway)
    before = run(["--json", "send", "13800138000", "-t", "前置【示例】"], env=env)
    after = run(["send", "13900139000", "-t", "后置【示例】", "--json"], env=env)
    assert before.exit_code == after.exit_code == 0, before.output
    sent, also = json.loads(before.stdout), json.loads(after.stdout)
    assert sent.keys() == also.keys()
    assert sent["recipients"] == 1
    assert sent["complete"]
    refused = run(["--json", "explain", "no-such-code"])
    assert refused.exit_code != 0
    assert json.loads(refused.stdout)["error"]["type"]
