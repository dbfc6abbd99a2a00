"""``mandao demo``: the whole client against an in-process sandbox gateway."""

from __future__ import annotations

import click

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


def _step(title: str) -> None:
    click.echo()
    click.secho(f"▶ {title}", bold=True)


@click.command()
@click.option(
    "--protocol",
    type=click.Choice(["soap11", "soap12", "http-get", "http-post", "ashx"]),
    default="soap11",
    show_default=True,
    help="How requests travel to the sandbox.",
)
def demo(protocol: str) -> None:
    """Run the client against a sandbox gateway started in this process (no network).

    Registers a serial, sends a group message and a personalised one, shows the account,
    and decodes an error the gateway returns.
    """
    import mandao
    from mandao.testing import SandboxAccount, SandboxGateway

    with SandboxGateway(accounts={SN: SandboxAccount(PASSWORD, registered=False)}) as gw:
        click.echo(f"Sandbox gateway up: primary {gw.hosts[0]}, backup {gw.hosts[1]}")
        client = gw.client(SN, PASSWORD, protocol=protocol)
        click.echo(f"Client: {client!r}")

        _step("Register the serial (account service, plain password)")
        click.echo(repr(client.register(**REGISTRATION)))

        _step("One text to two numbers (mdsmssend)")
        click.echo(repr(client.send(["13800138000", "139 0013 9000"], "验证码 1234【示例】")))

        _step("A text per number (mdgxsend)")
        personal = {
            "13800138000": "张三您好，明早 9 点开会【示例】",
            "13900139000": "李四您好【示例】",
        }
        click.echo(repr(client.send_personalized(personal)))

        _step("Account information (mdgetSninfo)")
        click.echo(repr(client.account()))

        _step("An error, decoded: registering a second time")
        try:
            client.register(**REGISTRATION)
        except mandao.GatewayError as exc:
            click.echo(f"{type(exc).__name__}: {exc}")
            click.echo(str(exc.info))

        _step("What the sandbox recorded")
        for entry in gw.ledger.messages:
            click.echo(f"  {entry.operation:9} {entry.mobile}  {entry.content}")
        click.echo(f"{len(gw.ledger.messages)} messages; balance left: {gw.balance(SN)}")
