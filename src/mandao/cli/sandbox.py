"""``mandao sandbox``: run the sandbox gateway as a server, for other languages and by hand.

Everything that can be wrong with the command line is refused before a port is bound: an
account that is not ``SN:PASSWORD`` with the gateway's serial shape, a ledger path whose
folder does not exist, a port in use (named). Ctrl-C and SIGTERM are caught from before
the banner is printed, so a signal right after it still stops the server cleanly and
writes the ledger. ``--json`` prints the URLs as one JSON object first, then JSON Lines.
The inbox is on unless ``--no-inbox``; the option parsing lives in ``_sandbox_options``.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import warnings
from collections.abc import Callable, Iterator
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
    ReportSettings,
    Rules,
    SandboxGateway,
)

from ._common import before_the_command
from ._sandbox_options import (
    EXPORTED_SUFFIXES,
    check_ledger,
    credentials,
    parse_account,
    parse_fault,
    print_banner,
    sandbox_journal,
    start,
)
from ._sandbox_options import downs as parse_downs

__all__ = ["parse_fault", "sandbox"]


@contextmanager
def _stop_on_signals() -> Iterator[Callable[[float], bool]]:
    """SIGINT and SIGTERM stop the block instead of raising: it gets ``stopped(timeout)``,
    True once one came (waiting up to ``timeout`` seconds for it).

    The handler only writes a byte to a pipe: it takes no lock. (A handler that set a
    ``threading.Event`` could deadlock: Python runs it in the main thread between two
    bytecodes, possibly while that thread, in ``Event.wait``, holds the event's own lock.)
    """
    if threading.current_thread() is not threading.main_thread():
        never = threading.Event()
        yield never.wait  # signals reach the main thread only: nothing to install here
        return
    wake, woken = os.pipe()
    os.set_blocking(woken, False)

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):  # the pipe full: one byte is already there
            os.write(woken, b"!")

    def stopped(timeout: float) -> bool:
        return bool(select.select([wake], [], [], timeout)[0])

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopped
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(wake)
        os.close(woken)


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
    help="An account (repeatable): SN:PASSWORD, or SN alone with the password in "
    f"MANDAO_PASSWORD (out of ps). Default: {DEFAULT_SN}:{DEFAULT_PASSWORD}.",
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
    help="Write the ledger here as JSON Lines as it goes (e.g. ledger.jsonl), or whole on "
    "exit for .json or .csv; its folder must exist.",
)
@click.option("--no-inbox", is_flag=True, help="Do not serve the web inbox and its JSON API.")
@click.option(
    "--inbox-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="The inbox's port; 0 = any free port.",
)
@click.option(
    "--inbox-host",
    default="127.0.0.1",
    show_default=True,
    help="The inbox's address. Not loopback: a warning (it shows every message and code).",
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
    no_inbox: bool,
    inbox_port: int,
    inbox_host: str,
    report_delay: float,
    report_failed: float,
    report_expired: float,
    report_layout: str,
    as_json: bool,
) -> None:
    """Run a sandbox Mandao gateway on 127.0.0.1 until Ctrl-C.

    Two hosts, each with the send service (like port 8061) and the account service (like
    port 8060), over SOAP 1.1/1.2, HTTP GET/POST and the .ashx handlers, and the inbox:
    a web page and a JSON API showing every message accepted.
    """
    as_json = as_json or bool(before_the_command("as_json"))
    parsed_accounts = dict(
        parse_account(a, balance, not unregistered)
        for a in accounts or (f"{DEFAULT_SN}:{DEFAULT_PASSWORD}",)
    )
    parsed_faults = [parse_fault(f) for f in faults]
    parsed_downs = parse_downs(downs)
    ledger = check_ledger(ledger_path)
    exported = ledger is not None and ledger.suffix.lower() in EXPORTED_SUFFIXES
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
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        gw = SandboxGateway(
            parsed_accounts,
            rules=rules,
            default_balance=balance,
            primary_ports=(port, account_port),
            backup_ports=(backup_port, backup_account_port),
            reports=reports,
            inbox=not no_inbox,
            inbox_host=inbox_host,
            inbox_port=inbox_port,
            ledger_path=None if exported else ledger,
        )
    for warning in said:
        click.echo(f"warning: {warning.message}", err=True)
    rejections = _count_rejections(gw)
    # Installed before anything is printed: a Ctrl-C right after the banner stops cleanly.
    with _stop_on_signals() as stopped:
        start(gw)
        try:
            for host_name, fault in parsed_faults:
                (gw.primary if host_name == "primary" else gw.backup).add_fault(fault)
            for name, mode in parsed_downs:
                (gw.primary if name == "primary" else gw.backup).down(mode)  # type: ignore[arg-type]
            data = gw.describe()
            # Sends from the pasted exports stay out of the journal of real sends.
            journal = str(sandbox_journal(ledger))
            data["environment"] = {**data["environment"], "MANDAO_JOURNAL": journal,
                                   **credentials(parsed_accounts)}  # fmt: skip
            if as_json:
                _json_line({"event": "listening", **data})
            else:
                print_banner(data, parsed_accounts)
            warned = False
            while not stopped(0.5):
                file = gw.ledger_file
                if not warned and file is not None and file.error is not None:
                    # Said at once, not only at exit: the run goes on, the file does not.
                    failure = _ledger_failure(ledger, file.lines, file.error)
                    click.echo(f"warning: {failure}", err=True)
                    warned = True
        finally:
            gw.stop()
    # Numbers are never reused, not even after a clear: the last one is what the run took.
    accepted, rejected, in_view = gw.ledger.last_number, rejections[0], len(gw.ledger)
    if as_json:
        _json_line(
            {"event": "stopped", "accepted": accepted, "rejected": rejected, "in_view": in_view}
        )
    else:
        click.echo(
            f"stopped: {accepted} message(s) accepted, {rejected} request(s) rejected"
            f" ({in_view} message(s) in view)"
        )
    if ledger is not None:
        written = _write_ledger(gw, ledger, exported)
        if as_json:
            _json_line({"event": "ledger", "path": str(written)})
        else:
            click.echo(f"ledger written to {written}")


def _count_rejections(gw: SandboxGateway) -> list[int]:
    """A one-item list counting every rejection of the run, cleared or not, as it goes."""
    counted = [0]

    def hear(kind: str, _: object) -> None:
        if kind == "rejection":
            counted[0] += 1  # under the ledger's lock: no race with another request

    gw.ledger.listen(hear)
    return counted


def _write_ledger(gw: SandboxGateway, ledger: Path, exported: bool) -> Path:
    """A .json/.csv ledger written now; a JSON Lines one checked (it was written as it went)."""
    if exported:
        try:
            return gw.ledger.export(ledger)
        except OSError as exc:
            raise click.ClickException(f"--ledger {ledger}: not written: {exc}") from None
    file = gw.ledger_file
    if file is not None and file.error is not None:
        raise click.ClickException(_ledger_failure(ledger, file.lines, file.error))
    return ledger


def _ledger_failure(ledger: Path | None, lines: int, error: Exception) -> str:
    return (
        f"--ledger {ledger}: writing stopped after line {lines} "
        f"({type(error).__name__}: {error}); the records after it are not in the file"
    )


def _json_line(data: dict[str, Any]) -> None:
    import json

    click.echo(json.dumps(data, ensure_ascii=False, default=str))


if __name__ == "__main__":  # pragma: no cover - `python -m mandao.cli.sandbox`
    import sys

    from . import main

    # Through the command group: usage errors under --json are JSON there too.
    main(["sandbox", *sys.argv[1:]], prog_name="mandao")
