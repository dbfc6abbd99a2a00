"""The command line: demo and explain, through click's runner and as real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from mandao.cli import main


def test_demo_runs_every_step_against_the_sandbox() -> None:
    """mandao demo registers, sends both ways, shows the account and decodes an error."""
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in (
        "RegistrationResult Register ok",
        "mdsmssend via soap11",
        "mdgxsend via soap11",
        "AccountInfo balance=999996",
        "AuthenticationError: -1",
        "重复注册",
        "4 messages; balance left: 999996",
    ):
        assert expected in out


def test_demo_runs_on_another_protocol() -> None:
    """mandao demo --protocol http-get goes the whole way over HTTP GET."""
    result = CliRunner().invoke(main, ["demo", "--protocol", "http-get"])
    assert result.exit_code == 0, result.output
    assert "mdsmssend via http-get" in result.output


def test_demo_never_prints_the_password_or_its_hash() -> None:
    """Nothing the demo prints holds the demo password or its MD5 form."""
    from mandao._credentials import md5_form
    from mandao.cli.demo import PASSWORD, SN

    out = CliRunner().invoke(main, ["demo"]).output
    assert PASSWORD not in out
    assert md5_form(SN, PASSWORD) not in out


def test_explain_takes_a_negative_code_as_an_argument() -> None:
    """mandao explain -20 prints the Chinese text, the gloss and the next step."""
    result = CliRunner().invoke(main, ["explain", "-20"])
    assert result.exit_code == 0
    assert "相同手机号，相同内容重复提交" in result.output
    assert "Do not resend" in result.output


def test_explain_rejects_what_is_not_a_code() -> None:
    """A non-integer CODE is a usage error (exit 2) naming CODE."""
    result = CliRunner().invoke(main, ["explain", "abc"])
    assert result.exit_code == 2
    assert "CODE" in result.output


def test_explain_process_does_not_import_zeep_or_requests() -> None:
    """`mandao explain` as a process never loads zeep or requests (it must start fast)."""
    code = (
        "import sys; from mandao.cli import main\n"
        "try:\n    main(['explain', '-4'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('zeep', 'requests') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]")
    assert "余额不足" in done.stdout


def test_console_script_and_module_both_run() -> None:
    """The installed `mandao` script and `python -m mandao.cli` both answer --version."""
    script = Path(sys.executable).parent / "mandao"
    for command in ([str(script), "--version"], [sys.executable, "-m", "mandao.cli", "--version"]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert "mandao, version" in done.stdout
