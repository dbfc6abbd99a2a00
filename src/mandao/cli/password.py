"""``mandao password change``: a new password for the serial (the account service's UDPPwd).

The new password never goes on the command line (``ps`` shows it to every user): it is
asked twice at a terminal, or read from the first line of stdin (``--new-password-stdin``)
or of a command's output (``--new-password-command``), as ``password_command`` is.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .._config_values import run_password_command
from ._common import Output, client_options, common_options, confirm, make_client
from ._groups import Commands

__all__ = ["password"]


@click.group(cls=Commands)
def password() -> None:
    """The serial's password."""


def _new_password(from_stdin: bool, command: str | None, out: Output) -> str:
    if from_stdin and command:
        raise click.UsageError("give --new-password-stdin or --new-password-command, not both")
    if command:
        return run_password_command(command, where="--new-password-command")
    if from_stdin:
        line = sys.stdin.readline().strip()
        if not line:
            raise click.UsageError("--new-password-stdin: stdin held no password")
        return line
    if out.json or not sys.stdin.isatty():
        raise click.UsageError(
            "no terminal to ask for the new password: give --new-password-stdin or "
            "--new-password-command CMD"
        )
    return str(click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True))


@password.command()
@click.option(
    "--new-password-stdin", "from_stdin", is_flag=True, help="Read the new password from stdin."
)
@click.option(
    "--new-password-command",
    metavar="CMD",
    help="A command whose first output line is the new password (run without a shell).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@client_options
@common_options
def change(
    from_stdin: bool, new_password_command: str | None, yes: bool, settings: dict[str, Any],
    out: Output,
) -> None:  # fmt: skip
    """Change the serial's password at the gateway (UDPPwd).

    Afterwards the old password is refused: update password_command's store (or
    MANDAO_PASSWORD, or the config file) right away.
    """
    new = _new_password(from_stdin, new_password_command, out)
    client = make_client(settings)
    if not yes:
        if out.json:
            raise click.UsageError("add --yes to change the password with --json")
        question = f"Change the password of {client.sn}?"
        confirm(question, remedy="pass --yes to change it without being asked", abort=True)
    with client:
        client.change_password(new)
    out.result(
        {"changed": True, "sn": client.sn},
        f"password of {client.sn} changed: the old one no longer works; update where "
        "password_command (or MANDAO_PASSWORD, or mandao.toml) keeps it",
    )
