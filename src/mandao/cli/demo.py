"""``mandao demo``: the whole client against an in-process sandbox gateway."""

from __future__ import annotations

from typing import Any

import click

from ._common import Output, common_options

__all__ = ["demo"]

SN = "SDK-DMO-010-00001"
PASSWORD = "demo-password"  # noqa: S105 - the sandbox's demo account, not a secret
REGISTRATION = {
    "province": "北京",
    "city": "北京",
    "trade": "IT",
    "entname": "示例科技",
    "linkman": "张三",
    "phone": "010-12345678",
    "mobile": "13800138000",
    "email": "a@example.com",
    "fax": "",
    "address": "北京市海淀区示例路 1 号",
    "postcode": "100000",
    "sign": "示例",
}


def _step(out: Output, title: str, call: str) -> None:
    if not out.json:
        click.echo()
        click.secho(f"▶ {title}", bold=True)
        click.echo(f">>> {call}")


def _show(out: Output, value: object) -> None:
    """What the REPL shows of ``value`` (the demo is a session of the Python API)."""
    if not out.json:
        click.echo(repr(value))


@click.command()
@click.option(
    "--protocol",
    type=click.Choice(["soap11", "soap12", "http-get", "http-post", "ashx"]),
    default="soap11",
    show_default=True,
    help="How requests travel to the sandbox.",
)
@common_options
def demo(protocol: str, out: Output) -> None:
    """Run the client against a sandbox gateway started in this process (no network).

    Registers a serial, sends a group message and a personalised one, shows the account,
    and decodes an error the gateway returns: each step as the Python call and what the
    REPL shows of its result (--json: the results as one object).
    """
    import mandao
    from mandao.testing import SandboxAccount, SandboxGateway

    data: dict[str, Any] = {"protocol": protocol}
    with SandboxGateway(accounts={SN: SandboxAccount(PASSWORD, registered=False)}) as gw:
        data["hosts"] = {"send": gw.hosts, "account": gw.account_hosts}
        if not out.json:
            click.echo(f"Sandbox gateway up: primary {gw.hosts[0]}, backup {gw.hosts[1]}")
        client = gw.client(SN, PASSWORD, protocol=protocol, journal=None)
        _step(out, "A client of the sandbox", "client")
        _show(out, client)

        _step(out, "Register the serial (account service, plain password)",
              "client.register(province=..., sign=...)")  # fmt: skip
        registered = client.register(**REGISTRATION)
        _show(out, registered)
        data["register"] = {"operation": registered.operation, "code": registered.code}

        _step(out, "One text to two numbers (mdsmssend)",
              'client.send(["13800138000", "139 0013 9000"], "验证码 1234【示例】")')  # fmt: skip
        group = client.send(["13800138000", "139 0013 9000"], "验证码 1234【示例】")
        _show(out, group)
        data["send"] = {
            "id": group.id,
            "operation": group.operation,
            "recipients": len(group.recipients),
            "billable": group.billable,
        }

        _step(out, "A text per number (mdgxsend)", "client.send_personalized({...})")
        personal = {
            "13800138000": "张三您好，明早 9 点开会【示例】",
            "13900139000": "李四您好【示例】",
        }
        each = client.send_personalized(personal)
        _show(out, each)
        data["send_personalized"] = {"id": each.id, "operation": each.operation,
                                     "recipients": len(each.recipients)}  # fmt: skip

        _step(out, "Account information (mdgetSninfo)", "client.account()")
        info = client.account()
        _show(out, info)
        data["account"] = {"balance": info.balance}

        _step(out, "An error, decoded: registering a second time",
              "client.register(province=..., sign=...)")  # fmt: skip
        try:
            client.register(**REGISTRATION)
        except mandao.GatewayError as exc:
            data["error"] = {"type": type(exc).__name__, "code": exc.code,
                             "chinese": exc.info.chinese, "hint": exc.info.hint_en}  # fmt: skip
            if not out.json:
                click.echo(f"{type(exc).__name__}: {exc}")
                click.echo(str(exc.info))

        messages = gw.ledger.messages
        data["ledger"] = [{"operation": e.operation, "mobile": e.mobile, "content": e.content}
                          for e in messages]  # fmt: skip
        data["balance_left"] = gw.balance(SN)
        if not out.json:
            click.echo()
            click.secho("▶ What the sandbox recorded", bold=True)
            for entry in messages:
                click.echo(f"  {entry.operation:9} {entry.mobile}  {entry.content}")
            click.echo(f"{len(messages)} messages; balance left: {data['balance_left']}")
    if out.json:
        out.result(data, "")
