"""``mandao sandbox``: run the sandbox gateway as a server, for other languages and by hand.

Everything that can be wrong with the command line is refused before a port is bound: an
account that is not ``SN:PASSWORD`` with the gateway's serial shape, a ledger path whose
folder does not exist, a port in use (named). Ctrl-C and SIGTERM are caught from before
the banner is printed, so a signal right after it still stops the server cleanly and
writes the ledger. ``--json`` prints the URLs as one JSON object first, then JSON Lines.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click

from mandao.testing import (
    DEFAULT_BALANCE,
    DEFAULT_PASSWORD,
    DEFAULT_SN,
    REPORT_LAYOUTS,
    Fault,
    ReportSettings,
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


# The gateway's serial shape (XXX-XXX-XXX-XXXXX); any other serial is -602 on every call.
_SERIAL = re.compile(r"[A-Za-z0-9]{3}-[A-Za-z0-9]{3}-[A-Za-z0-9]{3}-[A-Za-z0-9]{5}")
_PORT_FLAGS = {
    "primary send port": "--port",
    "primary account port": "--account-port",
    "backup send port": "--backup-port",
    "backup account port": "--backup-account-port",
}


def _parse_account(spec: str, balance: int, registered: bool) -> tuple[str, SandboxAccount]:
    sn, sep, password = spec.partition(":")
    if not sep or not sn or not password:
        raise click.BadParameter(f"expected SN:PASSWORD, got {spec!r}", param_hint="--account")
    if not _SERIAL.fullmatch(sn):
        raise click.BadParameter(
            f"{sn!r} is not a serial of the gateway's shape XXX-XXX-XXX-XXXXX "
            f"(e.g. {DEFAULT_SN}): every call of it would be refused with -602",
            param_hint="--account",
        )
    return sn, SandboxAccount(password, balance=balance, registered=registered)


def _check_ledger(path: str | None) -> Path | None:
    """The ledger's path, refused now (not at exit) if it cannot be written there."""
    if not path:
        return None
    target = Path(path).expanduser()
    folder = target.parent
    if not folder.is_dir():
        raise click.BadParameter(
            f"{path}: the folder {folder} does not exist; create it or give another path",
            param_hint="--ledger",
        )
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise click.BadParameter(f"{path}: not writable here", param_hint="--ledger")
    return target


def _credentials_line(accounts: dict[str, SandboxAccount]) -> str:
    sn, account = next(iter(accounts.items()))
    # A password given on the command line is not echoed back; the default one is public.
    shown = DEFAULT_PASSWORD if account.password == DEFAULT_PASSWORD else "<its password>"
    return f"export MANDAO_SN={sn} MANDAO_PASSWORD={shown}"


def _print_banner(data: dict[str, Any], accounts: dict[str, SandboxAccount]) -> None:
    click.echo("mandao sandbox gateway (Ctrl-C to stop)")
    for name, send, account in zip(
        ("primary", "backup"), data["hosts"], data["account_hosts"], strict=True
    ):
        click.echo(f"  {name:<8} send     {send}  [{data['state'][name]}]")
        click.echo(f"  {'':<8} account  {account}")
    for acct in data["accounts"]:
        registered = "registered" if acct["registered"] else "unregistered"
        click.echo(f"  account  {acct['sn']}  balance {acct['balance']}, {registered}")
    for fault in data["faults"]:
        click.echo(f"  fault    {fault['host']}: {fault['kind']}")
    click.echo(f"  rules    {data['rules']}")
    reports = data["reports"]
    click.echo(
        f"  reports  after {reports['delay']:g} s, layout {reports['layout']}, "
        f"failed {reports['failed']:g}, expired {reports['expired']:g}"
    )
    click.echo("point the mandao command line at it:")
    env = data["environment"]
    click.echo(
        f"  export MANDAO_HOSTS={env['MANDAO_HOSTS']} "
        f"MANDAO_ACCOUNT_HOSTS={env['MANDAO_ACCOUNT_HOSTS']}"
    )
    click.echo(f"  {_credentials_line(accounts)}")


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` instead of raising, for as long as the block runs."""

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only: nothing to install here
        return
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start(gw: SandboxGateway) -> None:
    try:
        gw.start()
    except OSError as exc:
        text = exc.strerror or str(exc)
        flag = next((f for label, f in _PORT_FLAGS.items() if label in text), None)
        if flag is None:
            raise click.ClickException(f"cannot listen: {text}") from None
        raise click.BadParameter(
            f"{text}; give another port, or 0 for any free one", param_hint=flag
        ) from None


def _downs(specs: tuple[str, ...]) -> list[tuple[str, str]]:
    parsed = []
    for spec in specs:
        name, _, mode = spec.partition(":")
        if name not in ("primary", "backup") or mode not in ("", "timeout"):
            raise click.BadParameter(
                f"expected primary|backup[:timeout], got {spec!r}", param_hint="--down"
            )
        parsed.append((name, "timeout" if mode else "refused"))
    return parsed


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
    help="Write the ledger here on exit (.json or .csv); its folder must exist.",
)
@click.option(
    "--report-delay",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds after a send before its delivery reports can be fetched.",
)
@click.option(
    "--report-failed",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of recipients reported UNDELIV (assigned in turn, not drawn).",
)
@click.option(
    "--report-expired",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of recipients reported EXPIRED.",
)
@click.option(
    "--report-layout",
    type=click.Choice([layout.name for layout in REPORT_LAYOUTS]),
    default=ReportSettings().layout,
    show_default=True,
    help="How report records are written (docs/sandbox.md, Delivery reports).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="The URLs as one JSON object, then JSON Lines."
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
    report_delay: float,
    report_failed: float,
    report_expired: float,
    report_layout: str,
    as_json: bool,
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
    parsed_downs = _downs(downs)
    ledger = _check_ledger(ledger_path)
    try:
        reports = ReportSettings(
            delay=report_delay,
            failed=report_failed,
            expired=report_expired,
            layout=report_layout,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--report-failed") from None
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
        reports=reports,
    )
    stop = threading.Event()
    # Installed before anything is printed: a Ctrl-C right after the banner stops cleanly.
    with _stop_on_signals(stop):
        _start(gw)
        try:
            for host_name, fault in parsed_faults:
                (gw.primary if host_name == "primary" else gw.backup).add_fault(fault)
            for name, mode in parsed_downs:
                (gw.primary if name == "primary" else gw.backup).down(mode)  # type: ignore[arg-type]
            data = gw.describe()
            if as_json:
                _json_line({"event": "listening", **data})
            else:
                _print_banner(data, parsed_accounts)
            while not stop.wait(0.5):
                pass
        finally:
            gw.stop()
    accepted, rejected = len(gw.ledger), len(gw.ledger.rejections)
    if as_json:
        _json_line({"event": "stopped", "accepted": accepted, "rejected": rejected})
    else:
        click.echo(f"stopped: {accepted} message(s) accepted, {rejected} request(s) rejected")
    if ledger is not None:
        try:
            written = gw.ledger.export(ledger)
        except OSError as exc:
            raise click.ClickException(f"--ledger {ledger}: not written: {exc}") from None
        if as_json:
            _json_line({"event": "ledger", "path": str(written)})
        else:
            click.echo(f"ledger written to {written}")


def _json_line(data: dict[str, Any]) -> None:
    import json

    click.echo(json.dumps(data, ensure_ascii=False, default=str))


if __name__ == "__main__":  # pragma: no cover - `python -m mandao.cli.sandbox`
    import sys

    from . import main

    # Through the command group: usage errors under --json are JSON there too.
    main(["sandbox", *sys.argv[1:]], prog_name="mandao")
