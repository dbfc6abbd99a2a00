"""What ``mandao sandbox``'s options mean: parsing and checking them, starting, the banner.

Everything here refuses a bad value before a port is bound (``click.BadParameter``,
exit 2, naming the flag), except what only binding can tell: a port in use, named with
its flag by :func:`start`.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import os
import shlex
import tempfile
from pathlib import Path
from typing import Any

import click

from mandao.testing import DEFAULT_PASSWORD, Fault, SandboxAccount, SandboxGateway
from mandao.testing._accounts import check_serial_shape

__all__ = [
    "EXPORTED_SUFFIXES",
    "check_ledger",
    "downs",
    "parse_account",
    "parse_fault",
    "print_banner",
    "sandbox_journal",
    "start",
]

#: The options of a ``--fault`` spec: the fields of ``Fault`` but its kind (the spec's
#: second part), with their types as written.
_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(Fault) if f.name != "kind"}
#: A boolean option's spellings, read without regard to case ("on"/"off": as 0.1 read them).
_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True,
             "false": False, "no": False, "off": False, "0": False}  # fmt: skip
#: A ``--ledger`` with one of these suffixes is written whole at exit (as in 0.1); any
#: other is JSON Lines written as it goes.
EXPORTED_SUFFIXES = (".json", ".csv")


def _bad_fault(message: str) -> click.BadParameter:
    return click.BadParameter(message, param_hint="--fault")


def _convert(name: str, value: str) -> Any:
    """A ``--fault`` option's text as its field's type; a usage error naming ``--fault``
    for an unknown option (with the nearest one) or a value not of that type."""
    if name == "kind":
        raise _bad_fault("the kind is not an option: it is the second part, HOST:KIND:...")
    kind = _FIELD_TYPES.get(name)
    if kind is None:
        import difflib  # here, not at the top: only a misspelt option needs it

        near = difflib.get_close_matches(name, list(_FIELD_TYPES), n=1)
        meant = f" (did you mean `{near[0]}`?)" if near else ""
        raise _bad_fault(f"unknown fault option {name!r}{meant}; one of {', '.join(_FIELD_TYPES)}")
    if kind.startswith("bool"):
        if value.lower() not in _BOOLEANS:
            raise _bad_fault(f"fault option {name} must be true or false (or yes/no, on/off, 1/0), "
                             f"got {value!r}")  # fmt: skip
        return _BOOLEANS[value.lower()]
    if kind.startswith("int"):
        try:
            return int(value)
        except ValueError:
            raise _bad_fault(f"fault option {name} must be a whole number, got {value!r}") from None
    if kind.startswith("float"):
        try:
            number = float(value)
        except ValueError:
            raise _bad_fault(f"fault option {name} must be a number, got {value!r}") from None
        if not math.isfinite(number):  # float() reads nan and inf; no fault means them
            raise _bad_fault(f"fault option {name} must be a finite number, got {value!r}")
        return number
    return value


def parse_fault(spec: str) -> tuple[str, Fault]:
    """``HOST:KIND[:key=value,...]`` → (host name, Fault); a usage error naming ``--fault``
    for a spec, an option or a value that is not one.

    >>> parse_fault("backup:http-error:status=503,times=2")
    ('backup', Fault('http-error', times=2, status=503))
    """
    parts = spec.split(":", 2)
    if len(parts) < 2 or parts[0] not in ("primary", "backup"):
        raise _bad_fault(
            f"expected HOST:KIND[:key=value,...] with HOST primary|backup, got {spec!r}"
        )
    options: dict[str, Any] = {}
    if len(parts) == 3 and parts[2]:
        for item in parts[2].split(","):
            key, sep, value = item.partition("=")
            if not sep:
                raise _bad_fault(f"fault option {item!r} is not key=value")
            if key.strip() in options:
                raise _bad_fault(f"fault option {key.strip()} is given twice in {spec!r}")
            options[key.strip()] = _convert(key.strip(), value.strip())
    try:
        return parts[0], Fault(parts[1], **options)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise _bad_fault(str(exc)) from exc


_PORT_FLAGS = {
    "primary send port": "--port",
    "primary account port": "--account-port",
    "backup send port": "--backup-port",
    "backup account port": "--backup-account-port",
    "inbox port": "--inbox-port",
}


def parse_account(spec: str, balance: int, registered: bool) -> tuple[str, SandboxAccount]:
    """``SN:PASSWORD``, or ``SN`` with the password in ``$MANDAO_PASSWORD`` (out of what
    ``ps`` shows) → (serial, account), the serial of the gateway's shape."""
    sn, sep, password = spec.partition(":")
    if not sep:
        password = os.environ.get("MANDAO_PASSWORD", "")
        if not password:
            raise click.BadParameter(
                f"{spec!r} has no password: give SN:PASSWORD, or SN with the password in "
                "MANDAO_PASSWORD (which ps does not show)",
                param_hint="--account",
            )
    if not sn or not password:
        raise click.BadParameter("expected SN:PASSWORD", param_hint="--account")
    try:
        check_serial_shape(sn)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--account") from None
    return sn, SandboxAccount(password, balance=balance, registered=registered)


def check_ledger(path: str | None) -> Path | None:
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


def sandbox_journal(ledger: Path | None) -> Path:
    """The journal the printed exports point ``mandao`` at, apart from the real one.

    Beside the ``--ledger`` file (``run.jsonl`` -> ``run.journal.sqlite3``), else in a
    new temporary folder of this run (kept after it, so ``mandao journal`` can still read
    what was sent). An absolute path: the exports are pasted into another shell.
    """
    if ledger is not None:
        return ledger.with_suffix(".journal.sqlite3").resolve()
    return Path(tempfile.mkdtemp(prefix="mandao-sandbox-")).resolve() / "journal.sqlite3"


def _exports(variables: dict[str, str]) -> str:
    """One ``export`` line a shell reads as it is printed: each value quoted."""
    return "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items())


def credentials(accounts: dict[str, SandboxAccount]) -> dict[str, str]:
    """The first account's variables: its serial, and its password only when it is the
    default (public) one; a password given on the command line is not echoed back."""
    sn, account = next(iter(accounts.items()))
    if account.password == DEFAULT_PASSWORD:
        return {"MANDAO_SN": sn, "MANDAO_PASSWORD": DEFAULT_PASSWORD}
    return {"MANDAO_SN": sn}


def _credentials_lines(accounts: dict[str, SandboxAccount]) -> list[str]:
    given = credentials(accounts)
    if "MANDAO_PASSWORD" in given:
        return [_exports(given)]
    # Said in a comment of its own: a placeholder in the export line (it was
    # `MANDAO_PASSWORD=<its password>`) is a redirection to a shell, which refuses the line;
    # a comment pastes with the lines before it.
    return [
        _exports(given),
        "# and set MANDAO_PASSWORD to the account's password (not printed here), if not set",
    ]


def print_banner(data: dict[str, Any], accounts: dict[str, SandboxAccount]) -> None:
    """The human banner: URLs (the inbox's after the hosts'), accounts, faults, rules,
    the export lines."""
    click.echo("mandao sandbox gateway (Ctrl-C to stop)")
    for name, send, account in zip(
        ("primary", "backup"), data["hosts"], data["account_hosts"], strict=True
    ):
        click.echo(f"  {name:<8} send     {send}  [{data['state'][name]}]")
        click.echo(f"  {'':<8} account  {account}")
    if data.get("inbox"):
        # After the hosts' lines, which scripts read by position since 0.1.
        click.echo(f"  Inbox: {data['inbox']}")
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
    names = ("MANDAO_HOSTS", "MANDAO_ACCOUNT_HOSTS", "MANDAO_JOURNAL")
    for line in [_exports({name: env[name] for name in names}), *_credentials_lines(accounts)]:
        click.echo(f"  {line}")


def start(gw: SandboxGateway) -> None:
    """Start ``gw``; a port that cannot be bound is a usage error naming its flag."""
    try:
        gw.start()
    except OSError as exc:
        text = exc.strerror or str(exc)
        flag = next((f for label, f in _PORT_FLAGS.items() if label in text), None)
        if flag == "--inbox-port" and exc.errno != errno.EADDRINUSE:
            flag = "--inbox-host"  # not a port taken: an address this machine does not have
        if flag is None:
            raise click.ClickException(f"cannot start: {text}") from None
        hint = "give another port, or 0 for any free one"
        if flag == "--inbox-host":
            hint = "give an address of this machine (127.0.0.1 by default)"
        raise click.BadParameter(f"{text}; {hint}", param_hint=flag) from None


def downs(specs: tuple[str, ...]) -> list[tuple[str, str]]:
    """``--down HOST[:timeout]`` values → (host name, ``refused`` | ``timeout``)."""
    parsed = []
    for spec in specs:
        name, _, mode = spec.partition(":")
        if name not in ("primary", "backup") or mode not in ("", "timeout"):
            raise click.BadParameter(
                f"expected primary|backup[:timeout], got {spec!r}", param_hint="--down"
            )
        parsed.append((name, "timeout" if mode else "refused"))
    return parsed
