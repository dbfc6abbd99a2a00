"""`mandao account`, `register` and `unregister` against the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys

from mandao.cli.account import REGISTER_FIELDS
from mandao.testing import SandboxAccount, SandboxGateway

from ._cli_helpers import PASSWORD, SN, Terminal, as_json, run, sandbox_env

FIELDS = {
    "province": "北京",
    "city": "北京",
    "trade": "IT",
    "entname": "示例科技",
    "linkman": "张三",
    "phone": "010-12345678",
    "mobile": "13800138000",
    "email": "a@example.com",
    "address": "北京市",
    "postcode": "100000",
    "sign": "示例",
}


def test_account_json_has_the_balance(gateway: SandboxGateway) -> None:
    """mandao account --json gives the balance and the gateway's fields."""
    result = run(["account", "--json"], env=sandbox_env(gateway))
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert data["balance"] == gateway.balance(SN)
    assert data["fields"]["SN"] == SN


def test_account_over_another_protocol_flag(gateway: SandboxGateway) -> None:
    """--protocol overrides the environment; the text output shows the balance."""
    result = run(["account", "--protocol", "http-get"], env=sandbox_env(gateway))
    assert result.exit_code == 0
    assert f"balance: {gateway.balance(SN)}" in result.stdout


def test_register_with_flags_and_json() -> None:
    """register --json with every field as a flag registers the serial (fax may be left out)."""
    with SandboxGateway(accounts={SN: SandboxAccount(PASSWORD, registered=False)}) as gw:
        flags = [x for name, value in FIELDS.items() for x in (f"--{name}", value)]
        result = run(["register", *flags, "--json"], env=sandbox_env(gw))
        assert result.exit_code == 0, result.output
        assert as_json(result) | {"host": None} == {
            "operation": "Register", "code": 0, "host": None, "protocol": "soap11",
            "already_registered": False,
        }  # fmt: skip
        assert gw.account(SN).registered


def test_register_without_a_terminal_names_every_missing_flag() -> None:
    """With no terminal to ask (stdin a pipe) register prompts for nothing: it exits 2
    naming each missing flag, fax excepted; with --json the same, as JSON."""
    with SandboxGateway(accounts={SN: SandboxAccount(PASSWORD, registered=False)}) as gw:
        given = ["--province", "北京", "--city", "北京"]
        result = run(["register", *given], env=sandbox_env(gw), stdin="answers\n")
        assert result.exit_code == 2
        for name in FIELDS:
            assert (f"--{name}," in result.stderr or f"--{name}:" in result.stderr) == (
                name not in ("province", "city")
            ), name
        assert "--fax," not in result.stderr
        error = as_json(run(["register", "--json"], env=sandbox_env(gw)))["error"]
        assert (error["kind"], error["exit"]) == ("usage", 2)
        assert all(f"--{name}" in error["message"] for name in FIELDS)
        assert not gw.account(SN).registered


def test_register_on_a_registered_serial_says_so_and_exits_0(gateway: SandboxGateway) -> None:
    """Register answering -1 (重复注册) is the serial registered already: exit 0 saying so
    and that the fields were not applied, not an authentication error (exit 4); a wrong
    password is still one."""
    flags = [x for name, value in FIELDS.items() for x in (f"--{name}", value)]
    result = run(["register", *flags, "--fax", ""], env=sandbox_env(gateway))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("already registered: Register answered -1 (重复注册) via ")
    assert "the fields given were not applied" in result.stdout
    assert "authentication" not in result.output
    data = as_json(run(["register", *flags, "--fax", "", "--json"], env=sandbox_env(gateway)))
    assert (data["already_registered"], data["code"], data["operation"]) == (True, -1, "Register")
    wrong = run(["register", *flags, "--fax", "", "--json"], env=sandbox_env(gateway, "wrong"))
    assert (wrong.exit_code, as_json(wrong)["error"]["code"]) == (4, -2)


def test_register_at_a_terminal_asks_nothing_of_a_registered_serial(
    gateway: SandboxGateway,
) -> None:
    """At a terminal, without the fields as flags, register first asks the gateway for the
    balance: a serial that has one is registered, and nothing is prompted (before, a dozen
    fields were asked for, then Register said -1). An unregistered serial (-2) gets the
    prompts, and the answers typed register it."""
    env = {**os.environ, **sandbox_env(gateway), "COLUMNS": "120"}
    registered = Terminal([sys.executable, "-m", "mandao", "register"], env)
    assert registered.finish() == 0
    assert "already registered: the serial's balance call answered (" in registered.text
    assert "Register was not called" in registered.text
    assert "Province" not in registered.text
    assert gateway.account(SN).register_changes_today == 0

    gateway.add_account(SN, SandboxAccount(PASSWORD, registered=False))
    unregistered = Terminal([sys.executable, "-m", "mandao", "register"], env)
    for name, label in REGISTER_FIELDS.items():
        assert unregistered.wait_for(label), unregistered.text
        unregistered.type(FIELDS.get(name, "") + "\r")
    assert unregistered.finish() == 0, unregistered.text
    assert "registered: Register answered 0" in unregistered.text
    state = gateway.account(SN)
    assert state.registered
    assert state.registration["entname"] == FIELDS["entname"]


def test_register_json_without_fields_is_a_usage_error(gateway: SandboxGateway) -> None:
    """--json never prompts: a missing field is a usage error (exit 2)."""
    assert run(["register", "--json"], env=sandbox_env(gateway)).exit_code == 2


def test_unregister_confirms_and_no_keeps_the_serial(gateway: SandboxGateway) -> None:
    """unregister asks first; 'n' aborts (exit 1) and the serial stays registered."""
    result = run(["unregister"], env=sandbox_env(gateway), stdin="n\n")
    assert result.exit_code == 1
    assert gateway.account(SN).registered


def test_unregister_with_stdin_closed_says_to_pass_yes(gateway: SandboxGateway) -> None:
    """Run with stdin closed (`<&-`): the same error, not a traceback from input()."""
    done = subprocess.run(
        [sys.executable, "-m", "mandao.cli", "unregister"],
        env={**os.environ, **sandbox_env(gateway)}, capture_output=True, text=True,
        timeout=60, check=False, preexec_fn=lambda: os.close(0),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.rstrip().endswith("pass --yes to unregister")
    assert gateway.account(SN).registered


def test_unregister_without_a_terminal_says_to_pass_yes(gateway: SandboxGateway) -> None:
    """No terminal and no answer on stdin: exit 2 naming --yes; the serial stays registered."""
    result = run(["unregister"], env=sandbox_env(gateway))
    assert result.exit_code == 2, result.output
    assert "there is no terminal to ask on" in result.stderr
    assert result.stderr.rstrip().endswith("pass --yes to unregister")
    assert gateway.account(SN).registered


def test_unregister_yes_unregisters(gateway: SandboxGateway) -> None:
    """unregister --yes --json unregisters without asking."""
    result = run(["unregister", "--yes", "--json"], env=sandbox_env(gateway))
    assert result.exit_code == 0, result.output
    assert as_json(result)["operation"] == "UnRegister"
    assert not gateway.account(SN).registered
