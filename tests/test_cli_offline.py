"""Commands that never talk to the gateway: estimate, codes, --help; imports; the exit table."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mandao
from mandao import _errors
from mandao.cli._common import EXIT_CODES, exit_code_for

from ._cli_helpers import as_json, run


def test_estimate_counts_the_signature() -> None:
    """estimate --signature counts 【示例】 as the client would add it."""
    result = run(["estimate", "验证码 1234", "--signature", "示例", "-n", "3", "--json"])
    assert result.exit_code == 0
    data = as_json(result)
    assert data == {
        "text": "验证码 1234【示例】", "characters": 12, "segments": 1,
        "recipients": 3, "billable": 3,
    }  # fmt: skip


def test_estimate_long_text_has_several_segments() -> None:
    """A text over one segment bills several, shown in the text output."""
    result = run(["estimate", "长" * 80])
    assert result.exit_code == 0
    assert "2 segment(s)" in result.stdout


def test_explain_json_is_the_table_row() -> None:
    """explain --json gives the code's row: Chinese text, hint, category."""
    result = run(["explain", "-4", "--json"])
    assert result.exit_code == 0
    data = as_json(result)
    assert (data["code"], data["category"], data["known"]) == (-4, "balance", True)
    assert data["chinese"] == mandao.explain(-4).chinese


@pytest.mark.parametrize(
    "args",
    [["-20", "--json"], ["--json", "-20"], ["--json", "--", "-20"], ["-20", "-v", "--json"]],
    ids=" ".join,
)
def test_explain_takes_a_negative_code_wherever_it_stands(args: list[str]) -> None:
    """A negative CODE is the argument, before or after the flags, with or without --."""
    result = run(["explain", *args])
    assert result.exit_code == 0, result.output
    assert as_json(result)["code"] == -20


@pytest.mark.parametrize("args", [["-x"], ["-20", "-30"], ["--", "-20", "-30"]], ids=" ".join)
def test_explain_refuses_what_is_not_one_code(args: list[str]) -> None:
    """A dash that is no integer, or two codes, is a usage error (exit 2)."""
    assert run(["explain", *args]).exit_code == 2


def test_codes_lists_the_whole_table() -> None:
    """codes --json holds every row of mandao.CODES, with its Chinese text."""
    result = run(["codes", "--json"])
    assert result.exit_code == 0
    rows = as_json(result)
    assert [r["code"] for r in rows] == list(mandao.CODES)
    assert any(r["chinese"] == "相同手机号，相同内容重复提交" for r in rows)
    assert "DUPLICATE_SUBMISSION" in run(["codes"]).stdout


def test_help_lists_every_command() -> None:
    """mandao --help names every command."""
    out = run(["--help"]).stdout
    for name in ("send", "account", "register", "unregister", "estimate", "explain", "codes",
                 "wsdl", "config", "sandbox", "demo"):  # fmt: skip
        assert name in out


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["explain", "-20"],
        ["estimate", "hi"],
        ["codes"],
        ["config", "show"],
        ["send", "--help"],
        ["send-file", "--help"],
        ["wsdl", "--help"],
    ],
    ids=lambda a: " ".join(a),
)
def test_offline_commands_do_not_import_zeep_requests_or_rich(args: list[str]) -> None:
    """As a process, the command runs without loading zeep, requests or rich."""
    code = (
        "import sys; from mandao.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('LOADED', sorted(m for m in ('zeep', 'requests', 'rich') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "LOADED []"


def _classes() -> list[type[BaseException]]:
    return [getattr(_errors, name) for name in _errors.__all__]


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.__name__)
def test_every_exception_class_has_an_exit_code(cls: type[BaseException]) -> None:
    """Every class of the hierarchy maps to a row of the exit-code table."""
    assert any(issubclass(cls, row_cls) for row_cls, _ in EXIT_CODES)


def test_exit_codes_follow_what_to_do_next() -> None:
    """Outcome-unknown beats gateway-error for -11; unreachable, balance, auth, quota differ."""
    info = mandao.explain(-11)
    internal = _errors.GatewayInternalError(info)
    assert exit_code_for(internal).code == 10
    assert exit_code_for(_errors.AllHostsFailed("x")).code == 11
    assert exit_code_for(_errors.InsufficientBalance(mandao.explain(-4))).code == 5
    assert exit_code_for(_errors.AuthenticationError(mandao.explain(-2))).code == 4
    quota = _errors.RegistrationQuotaExceeded("spent", operation="Register")
    assert exit_code_for(quota).code == 15
    names = [row.name for _, row in EXIT_CODES if row.name != "error"]
    assert len(names) == len(set(names))
    by_name = {row.name: row.code for _, row in EXIT_CODES}
    assert len(set(by_name.values())) == len(by_name) - 1  # config and journal share 3
    assert exit_code_for(_errors.JournalError("x")).code == by_name["config"] == 3


def test_exit_codes_are_documented() -> None:
    """docs/cli.md lists every exit code of the table."""
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    for _, row in EXIT_CODES:
        assert f"| {row.code} " in doc
        assert row.name in doc
