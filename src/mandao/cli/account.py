"""``mandao account``, ``mandao register`` and ``mandao unregister``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .._errors import AuthenticationError, GatewayError
from ._common import Output, client_options, common_options, confirm, make_client

__all__ = ["REGISTER_FIELDS", "account", "register", "unregister"]

#: Register's fields (vendor doc §4.2), with the prompt each gets.
REGISTER_FIELDS: dict[str, str] = {
    "province": "Province (省份)",
    "city": "City (城市)",
    "trade": "Trade (行业)",
    "entname": "Company name (企业名称)",
    "linkman": "Contact person (联系人)",
    "phone": "Phone (电话)",
    "mobile": "Mobile (手机)",
    "email": "Email (电子邮件)",
    "fax": "Fax (传真, may be empty)",
    "address": "Address (地址)",
    "postcode": "Postcode (邮编)",
    "sign": "Signature (签名)",
}


def _registration(result: Any) -> dict[str, Any]:
    return {
        "operation": result.operation,
        "code": result.code,
        "host": result.host,
        "protocol": result.protocol,
    }


@click.command()
@click.option(
    "--balance-only",
    is_flag=True,
    help="Only the balance: messages left (the account service's balance operation).",
)
@client_options
@common_options
def account(balance_only: bool, settings: dict[str, Any], out: Output) -> None:
    """Show the account's information (mdgetSninfo): balance and every field."""
    with make_client(settings) as client:
        if balance_only:
            left = client.balance()
            out.result({"balance": left}, f"balance: {left} message(s) left")
            return
        info = client.account()

    def show() -> None:
        click.echo(f"balance: {info.balance}")
        for key, value in info.fields.items():
            click.echo(f"  {key}: {value}")

    out.result(
        {"balance": info.balance, "fields": info.fields, "host": info.host,
         "protocol": info.protocol},
        show,
    )  # fmt: skip


def _field_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for name in reversed(REGISTER_FIELDS):
        func = click.option(f"--{name}", help=REGISTER_FIELDS[name])(func)
    return func


@click.command()
@_field_options
@client_options
@common_options
def register(settings: dict[str, Any], out: Output, **fields: str | None) -> None:
    """Register the serial once before first use; prompts for fields not given as flags.

    Nothing is prompted with --json or when stdin is not a terminal: then every field
    except --fax must be given, and all that are missing are named.
    """
    import sys

    interactive = not out.json and sys.stdin.isatty()
    missing = [f"--{name}" for name, value in fields.items() if value is None and name != "fax"]
    if missing and not interactive:
        why = "with --json" if out.json else "without a terminal to ask"
        raise click.UsageError(
            f"missing {', '.join(missing)}: give them as flags ({why} nothing is prompted; "
            "--fax may be left out)"
        )
    with make_client(settings) as client:
        if missing and _answers_balance(client, out):
            return
        values: dict[str, str] = {}
        for name, label in REGISTER_FIELDS.items():
            value = fields.get(name)
            if value is None:
                if name == "fax" and not interactive:
                    value = ""
                else:
                    value = click.prompt(label, default="" if name == "fax" else None, err=True)
            values[name] = value
        try:
            result = client.register(**values)
        except AuthenticationError as exc:
            if exc.info.name != _ALREADY:
                raise
            _already_registered(exc, out)
            return
    out.result({**_registration(result), "already_registered": False}, _registered(result))


def _answers_balance(client: Any, out: Output) -> bool:
    """Before prompting for a dozen fields: whether the serial is registered already, as a
    balance call answered proves (an unregistered serial gets -2, as does a wrong
    password: then the prompts come, and Register says which). Said as a result if so."""
    try:
        balance = client.balance()
    except GatewayError:
        return False
    host = client.active_host("account")
    from .._config import short_host

    out.result(
        {"operation": "balance", "balance": balance, "host": host, "already_registered": True},
        f"already registered: the serial's balance call answered ({balance} left) via "
        f"{short_host(host)}; nothing to register (Register was not called)",
    )
    return True


#: Register's -1 (重复注册; "a second Register gives -1", INTERFACE.md §2): the serial
#: is registered already. It says nothing wrong of the serial or the password (a wrong
#: one is -2; the sandbox checks it before answering -1), and what register is for is
#: done: a result, exit 0, saying that the fields given were not applied.
_ALREADY = "ALREADY_REGISTERED"


def _already_registered(exc: AuthenticationError, out: Output) -> None:
    from .._config import short_host

    data = {"operation": "Register", "code": exc.code, "host": exc.host,
            "already_registered": True, "chinese": exc.info.chinese}  # fmt: skip
    out.result(
        data,
        f"already registered: Register answered {exc.code} ({exc.info.chinese}) via "
        f"{short_host(exc.host or '')}; nothing changed (the fields given were not applied)",
    )


def _registered(result: Any) -> str:
    from .._config import short_host

    done = "registered" if result.operation == "Register" else "unregistered"
    return f"{done}: {result.operation} answered {result.code} via {short_host(result.host)}"


@click.command()
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@client_options
@common_options
def unregister(yes: bool, settings: dict[str, Any], out: Output) -> None:
    """Unregister the serial (with register, at most 10 times a day)."""
    client = make_client(settings)
    if not yes:
        if out.json:
            raise click.UsageError("add --yes to unregister with --json")
        confirm(f"Unregister {client.sn}?", remedy="pass --yes to unregister", abort=True)
    with client:
        result = client.unregister()
    out.result(_registration(result), _registered(result))
