"""The rules every command keeps, checked over every command the `mandao` group has.

The commands are found from the click group itself, so a command added later is held to
the same rules without a line here: it takes --json; an error under --json (a usage error
too) is one JSON object with the exit code it exits with; that code is in the table
docs/cli.md documents; and its messages speak the command line's terms, not Python's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from mandao.cli import main
from mandao.cli._exits import EXIT_CODES, EXIT_DRIFT, EXIT_PARTIAL, OTHER_EXITS

from ._cli_helpers import run

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
#: Every code a command may exit with, from the table.
DOCUMENTED = {row.code for _, row in EXIT_CODES} | {
    row.code for row in (*OTHER_EXITS, EXIT_PARTIAL, EXIT_DRIFT)
}
#: What a message must not tell a command-line user: Python keywords and constructors.
PYTHON_ADVICE = re.compile(r"\b\w+=(True|False|None|\.\.\.)|\bClient\(|\bpass \w+=")


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every command that runs (not a group), by walking the click group."""
    ctx = click.Context(group)
    found: list[tuple[str, ...]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


COMMANDS = _commands(main)


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None
        command = found
    return command


def _error(output: str) -> dict[str, object]:
    """The one JSON object an error under --json prints, on one line."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    error = json.loads(lines[0])["error"]
    assert isinstance(error, dict)
    return error


def test_the_walk_finds_the_commands_and_the_subcommands() -> None:
    """The walk reaches nested commands (journal verify, config show), not only the top."""
    assert {("send",), ("send-file",), ("journal", "verify"), ("journal", "list"),
            ("journal", "tail"), ("config", "show"), ("password", "change"),
            ("account",)} <= set(COMMANDS)  # fmt: skip


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_takes_json(path: tuple[str, ...]) -> None:
    """Each command has a --json flag (its --help lists it)."""
    options = {opt for param in _command(path).params for opt in getattr(param, "opts", [])}
    assert "--json" in options
    assert "--json" in run([*path, "--help"]).stdout


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_a_usage_error_under_json_is_json_with_its_exit_code(path: tuple[str, ...]) -> None:
    """An unknown flag with --json: one JSON error naming the flag, kind usage, exit 2."""
    result = run([*path, "--json", "--no-such-flag"])
    assert result.exit_code == 2, result.output
    error = _error(result.stdout)
    assert (error["kind"], error["exit"], error["flag"]) == ("usage", 2, "--no-such-flag")
    assert result.stderr == ""


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_a_usage_error_without_json_names_the_flag_on_stderr(path: tuple[str, ...]) -> None:
    """Without --json the same error is click's text on stderr, exit 2, stdout empty."""
    result = run([*path, "--no-such-flag"])
    assert result.exit_code == 2
    assert "--no-such-flag" in result.stderr
    assert result.stdout == ""


#: The least each command that talks to the gateway needs to get as far as its settings.
NEEDS: dict[tuple[str, ...], list[str]] = {
    ("send",): ["13800138000", "-t", "hi【示例】"],
    ("register",): [
        arg
        for name in (
            "province",
            "city",
            "trade",
            "entname",
            "linkman",
            "phone",
            "mobile",
            "email",
            "address",
            "postcode",
            "sign",
        )
        for arg in (f"--{name}", "x")
    ],
    ("unregister",): ["--yes"],
    ("password", "change"): ["--new-password-stdin", "--yes"],
    ("suppress", "add"): ["13800138000"],
    ("suppress", "remove"): ["13800138000"],
    ("suppress", "import"): [__file__],
}


@pytest.mark.parametrize(
    "path", [p for p in COMMANDS if "--sn" in run([*p, "--help"]).stdout], ids=" ".join
)
def test_no_credentials_is_a_config_error_naming_where_to_set_them(
    path: tuple[str, ...], tmp_path: Path
) -> None:
    """A command that talks to the gateway, with no serial set anywhere: exit 3 (config),
    JSON naming --sn and MANDAO_SN; with a serial and no password, naming password_command."""
    args = list(NEEDS.get(path, []))
    if path == ("send-file",):
        campaign = tmp_path / "c.csv"
        campaign.write_text("mobile,content\n13800138000,hi【示例】\n", encoding="utf-8")
        args = [str(campaign), "--yes"]
    result = run([*path, *args, "--json"], stdin="new-password\n")
    error = _error(result.stdout)
    assert (result.exit_code, error["exit"], error["kind"]) == (3, 3, "config"), error
    assert "--sn" in str(error["message"])
    assert "MANDAO_SN" in str(error["message"])
    serial = run([*path, *args, "--json", "--sn", "SDK-TST-010-00001"], stdin="new\n")
    message = str(_error(serial.stdout)["message"])
    assert serial.exit_code == 3
    assert "password_command" in message
    assert "MANDAO_PASSWORD" in message


@pytest.mark.parametrize(
    "args",
    [
        ["explain", "abc"],
        ["estimate", "x", "-n", "0"],
        ["send", "-t", "x"],
        ["send", "12345", "-t", "x", "--sn", "SDK-TST-010-00001"],
        ["send", "13800138000", "-t", "x", "--sn", "bad"],
        ["send", "13800138000", "-t", "x", "--host", "http://127.0.0.1:1"],
        ["send", "13800138000", "-t", "x", "--at", "tomorrow"],
        ["journal", "verify", "--journal", "/nonexistent/journal.sqlite3"],
        ["journal", "export", "--mobile", "138"],
        ["journal", "list", "--since", "soonish"],
        ["config", "show", "--config", "/nonexistent/mandao.toml"],
    ],
    ids=" ".join,
)
def test_errors_under_json_are_json_with_a_documented_exit_code(args: list[str]) -> None:
    """Each error: one JSON object whose exit is the process's, a code the table has, and a
    message with no Python advice in it."""
    result = run([*args, "--json"], env={"MANDAO_PASSWORD": "x"})
    assert result.exit_code != 0
    error = _error(result.stdout)
    assert error["exit"] == result.exit_code
    assert result.exit_code in DOCUMENTED
    assert not PYTHON_ADVICE.search(str(error["message"])), error["message"]
    text = run(args, env={"MANDAO_PASSWORD": "x"})
    assert text.exit_code == result.exit_code
    assert text.stdout == ""
    assert "Traceback" not in text.stderr


def test_every_exit_code_is_in_the_documented_table() -> None:
    """docs/cli.md has a row for each code and name of the table, 130 included."""
    doc = DOCS.read_text(encoding="utf-8")
    for row in [row for _, row in EXIT_CODES] + [*OTHER_EXITS, EXIT_PARTIAL, EXIT_DRIFT]:
        assert re.search(rf"^\| {row.code} \|.*\b{re.escape(row.name)}\b", doc, re.M), row
