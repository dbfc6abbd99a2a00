"""``mandao sandbox``: run the sandbox gateway as a server, for other languages and by hand."""

from __future__ import annotations

import dataclasses
import signal
import threading
from types import FrameType
from typing import Any

import click

from mandao.testing import (
    DEFAULT_BALANCE,
    DEFAULT_PASSWORD,
    DEFAULT_SN,
    Fault,
    Rules,
    SandboxAccount,
    SandboxGateway,
)

__all__ = ["parse_fault", "sandbox"]

_FIELD_TYPES = {f.name: f.type for f in dataclasses.fields(Fault)}


def _convert(name: str, value: str) -> Any:
    kind = str(_FIELD_TYPES.get(name, ""))
    if not kind:
        raise click.BadParameter(f"unknown fault option {name!r}")
    if kind.startswith("int"):
        return int(value)
    if kind.startswith("float"):
        return float(value)
    if kind.startswith("bool"):
        return value.lower() in ("1", "true", "yes", "on")
    return value


def parse_fault(spec: str) -> tuple[str, Fault]:
    """``HOST:KIND[:key=value,...]`` → (host name, Fault).

    >>> parse_fault("backup:http-error:status=503,times=2")
    ('backup', Fault(kind='http-error', times=2, probability=None, seed=None, delay=1.0, status=503, body=None, code='-11', size=8388608, service=None, operation=None, process=None))
    """  # noqa: E501
    parts = spec.split(":", 2)
    if len(parts) < 2 or parts[0] not in ("primary", "backup"):
        raise click.BadParameter(
            f"expected HOST:KIND[:key=value,...] with HOST primary|backup, got {spec!r}"
        )
    options: dict[str, Any] = {}
    if len(parts) == 3 and parts[2]:
        for item in parts[2].split(","):
            key, sep, value = item.partition("=")
            if not sep:
                raise click.BadParameter(f"fault option {item!r} is not key=value")
            options[key.strip()] = _convert(key.strip(), value.strip())
    try:
        return parts[0], Fault(parts[1], **options)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from exc


def _parse_account(spec: str, balance: int, registered: bool) -> tuple[str, SandboxAccount]:
    sn, sep, password = spec.partition(":")
    if not sep or not sn or not password:
        raise click.BadParameter(f"expected SN:PASSWORD, got {spec!r}")
    return sn, SandboxAccount(password, balance=balance, registered=registered)


def _serial_rules(rules: Rules) -> str:
    limit = rules.max_in_flight
    minus_18 = f"-18 past {limit} in flight per serial" if limit is not None else "no -18"
    if not rules.concurrent_hosts:
        return f"{minus_18}, no -19"
    window = rules.host_switch_window
    minus_19 = f"-19 on overlap or within {window:g} s" if window else "-19 on overlap"
    return f"{minus_18}, {minus_19} across hosts"


@click.command("sandbox")
@click.option(
    "--port",
    type=int,
    default=0,
    show_default=True,
    help="Primary send port (like 8061); 0 = any free port.",
)
@click.option(
    "--account-port",
    type=int,
    default=0,
    show_default=True,
    help="Primary account port (like 8060).",
)
@click.option("--backup-port", type=int, default=0, show_default=True, help="Backup send port.")
@click.option(
    "--backup-account-port", type=int, default=0, show_default=True, help="Backup account port."
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="SN:PASSWORD",
    help=f"An account (repeatable). Default: {DEFAULT_SN}:{DEFAULT_PASSWORD}.",
)
@click.option(
    "--balance",
    type=int,
    default=DEFAULT_BALANCE,
    show_default=True,
    help="Starting balance, in messages.",
)
@click.option("--unregistered", is_flag=True, help="Accounts start unregistered (Register first).")
@click.option(
    "--duplicate-window",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds for -20 (0 = off).",
)
@click.option(
    "--rate-limit", type=float, default=None, help="Send calls per second per serial before -8."
)
@click.option(
    "--max-in-flight",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Requests of one serial processed at once (both hosts, both services) before -18.",
)
@click.option(
    "--host-switch-window",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Also -19 for this many seconds after a serial's last request on the other host.",
)
@click.option("--no-concurrent-check", is_flag=True, help="Never answer -19.")
@click.option(
    "--no-serial-rules", is_flag=True, help="Never answer -18 or -19 (any number in flight)."
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="HOST:KIND[:k=v,...]",
    help="Arm a fault (repeatable), e.g. primary:slow:delay=2,times=3 or "
    "backup:code:code=-8,probability=0.5,seed=1.",
)
@click.option(
    "--down",
    "downs",
    multiple=True,
    metavar="HOST[:timeout]",
    help="Start a host down: refused, or ':timeout' for connects that hang.",
)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False),
    help="Write the ledger here on exit (.json or .csv).",
)
def sandbox(
    port: int,
    account_port: int,
    backup_port: int,
    backup_account_port: int,
    accounts: tuple[str, ...],
    balance: int,
    unregistered: bool,
    duplicate_window: float,
    rate_limit: float | None,
    max_in_flight: int,
    host_switch_window: float,
    no_concurrent_check: bool,
    no_serial_rules: bool,
    faults: tuple[str, ...],
    downs: tuple[str, ...],
    ledger_path: str | None,
) -> None:
    """Run a sandbox Mandao gateway on 127.0.0.1 until Ctrl-C.

    Two hosts, each with the send service (like port 8061) and the account service (like
    port 8060), over SOAP 1.1/1.2, HTTP GET/POST and the .ashx handlers.
    """
    parsed_accounts = dict(
        _parse_account(a, balance, not unregistered)
        for a in accounts or (f"{DEFAULT_SN}:{DEFAULT_PASSWORD}",)
    )
    parsed_faults = [parse_fault(f) for f in faults]
    rules = Rules(
        duplicate_window=duplicate_window,
        rate_limit=rate_limit,
        max_in_flight=None if no_serial_rules else max_in_flight,
        concurrent_hosts=not (no_concurrent_check or no_serial_rules),
        host_switch_window=host_switch_window,
    )
    gw = SandboxGateway(
        parsed_accounts,
        rules=rules,
        default_balance=balance,
        primary_ports=(port, account_port),
        backup_ports=(backup_port, backup_account_port),
    )
    try:
        gw.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen: {exc}") from exc
    for host_name, fault in parsed_faults:
        (gw.primary if host_name == "primary" else gw.backup).add_fault(fault)
    for spec in downs:
        name, _, mode = spec.partition(":")
        if name not in ("primary", "backup") or mode not in ("", "timeout"):
            gw.stop()
            raise click.BadParameter(
                f"expected primary|backup[:timeout], got {spec!r}", param_hint="--down"
            )
        (gw.primary if name == "primary" else gw.backup).down("timeout" if mode else "refused")

    click.echo("mandao sandbox gateway (Ctrl-C to stop)")
    for host in (gw.primary, gw.backup):
        click.echo(f"  {host.name:<8} send     {host.send_url}  [{host.state}]")
        click.echo(f"  {'':<8} account  {host.account_url}")
    for sn in parsed_accounts:
        state = gw.account(sn)
        registered = "registered" if state.registered else "unregistered"
        click.echo(f"  account  {sn}  balance {state.balance}, {registered}")
    for host_name, fault in parsed_faults:
        click.echo(f"  fault    {host_name}: {fault.kind}")
    click.echo(f"  rules    {_serial_rules(rules)}")

    stop = threading.Event()

    def _on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        gw.stop()
    accepted, rejected = len(gw.ledger), len(gw.ledger.rejections)
    click.echo(f"stopped: {accepted} message(s) accepted, {rejected} request(s) rejected")
    if ledger_path:
        click.echo(f"ledger written to {gw.ledger.export(ledger_path)}")


if __name__ == "__main__":  # pragma: no cover - `python -m mandao.cli.sandbox`
    sandbox()
