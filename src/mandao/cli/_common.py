"""What every command shares: --json, -v, --config, exit codes, errors, building a client.

Exit codes are one table (:data:`EXIT_CODES`), looked up by the exception's class, most
specific first. Nothing here imports zeep or requests.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import click

from .._errors import (
    AuthenticationError,
    ConcurrentHostUse,
    ConfigError,
    DuplicateSubmission,
    GatewayError,
    GatewayUnreachable,
    InsufficientBalance,
    InvalidParameter,
    MandaoError,
    OutcomeUnknown,
    RateLimited,
    RegistrationQuotaExceeded,
    UnknownCode,
    ValidationError,
)

if TYPE_CHECKING:
    from .._client import Client

__all__ = [
    "EXIT_CODES",
    "EXIT_DRIFT",
    "EXIT_PARTIAL",
    "Output",
    "client_options",
    "common_options",
    "exit_code_for",
    "guard_option",
    "make_client",
]

F = TypeVar("F", bound=Callable[..., Any])


class ExitCode(NamedTuple):
    """One row of the exit-code table."""

    code: int
    name: str
    meaning: str


#: Exception class → exit code, most specific first (the first isinstance match wins).
#: ``GatewayInternalError`` is both a GatewayError and an OutcomeUnknown: OutcomeUnknown
#: comes first, because what the operator must do is reconcile, not fix or retry.
EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (ConfigError, ExitCode(3, "config", "the configuration is missing, invalid or unsafe")),
    (ValidationError, ExitCode(2, "invalid-input", "invalid input; nothing was sent")),
    (OutcomeUnknown, ExitCode(10, "outcome-unknown", "may or may not have been sent")),
    (AuthenticationError, ExitCode(4, "authentication", "serial, password or registration")),
    (InsufficientBalance, ExitCode(5, "balance", "the balance does not cover it; top up")),
    (InvalidParameter, ExitCode(6, "rejected", "the gateway rejected a field of the request")),
    (RateLimited, ExitCode(7, "rate-limited", "flow control; wait, then retry")),
    (DuplicateSubmission, ExitCode(8, "duplicate", "already submitted recently; not resent")),
    (ConcurrentHostUse, ExitCode(9, "concurrent", "serial in use on another host (-19)")),
    (GatewayUnreachable, ExitCode(11, "unreachable", "no host took the request; not sent")),
    (RegistrationQuotaExceeded, ExitCode(15, "quota", "the day's Register quota is spent")),
    (UnknownCode, ExitCode(12, "unknown-code", "a code no table knows")),
    (GatewayError, ExitCode(13, "gateway-error", "the gateway answered another error code")),
    (MandaoError, ExitCode(1, "error", "any other mandao error")),
)
#: A send of several batches in which some were not sent (see the JSON's ``batches``).
EXIT_PARTIAL = ExitCode(14, "partial", "some batches were sent, others failed or are unknown")
#: ``mandao wsdl check``: a difference that matters between a live WSDL and the cached one.
EXIT_DRIFT = ExitCode(20, "wsdl-drift", "the live WSDL differs from the cached one")
#: Everything else, documented with the table.
OTHER_EXITS = (
    ExitCode(0, "ok", "success"),
    ExitCode(1, "aborted", "you answered no to a confirmation (or Ctrl-C)"),
    ExitCode(2, "usage", "a command-line usage error (click's)"),
)


def exit_code_for(exc: BaseException) -> ExitCode:
    """The table row for ``exc``.

    >>> exit_code_for(ValidationError("bad", argument="mobiles")).code
    2
    """
    for cls, row in EXIT_CODES:
        if isinstance(exc, cls):
            return row
    return ExitCode(1, "error", "unexpected")


class Output:
    """Writes results as text or JSON, and errors to stderr (or as JSON on stdout)."""

    def __init__(self, as_json: bool) -> None:
        self.json = as_json

    def result(self, data: Any, text: str | Callable[[], None]) -> None:
        """``data`` as JSON, or ``text`` (a string, or a function that prints)."""
        if self.json:
            import json  # here, not at the top: offline commands start fast

            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        elif callable(text):
            text()
        else:
            click.echo(text)

    def fail(self, exc: BaseException) -> None:
        """Report ``exc`` and exit with its code from the table."""
        row = exit_code_for(exc)
        data: dict[str, Any] = {
            "type": type(exc).__name__,
            "message": str(exc),
            "exit": row.code,
            "kind": row.name,
        }
        for attr in ("code", "host", "operation", "rrid", "argument", "retry_after"):
            value = getattr(exc, attr, None)
            if value is not None:
                data[attr] = value
        info = getattr(exc, "info", None)
        if info is not None:
            data["chinese"], data["hint"] = info.chinese, info.hint_en
        if self.json:
            import json  # here, not at the top: offline commands start fast

            click.echo(json.dumps({"error": data}, ensure_ascii=False, indent=2, default=str))
        else:
            click.secho(f"error ({row.name}): {exc}", fg="red", err=True)
            if info is not None:
                click.echo(f"  {info.chinese}\n  → {info.hint_en}", err=True)
        sys.exit(row.code)


def _setup_logging(verbose: int) -> Callable[[], None] | None:
    """-v: every logger at DEBUG to stderr (requests and envelopes), redacted.

    Returns what undoes it (a command run in process, as tests do, leaves nothing behind).
    """
    if not verbose:
        return None
    import logging  # here, not at the top: offline commands start fast

    from .. import _redact

    _redact.install()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # Records that propagate from other loggers pass through this handler's filter too.
    handler.addFilter(_redact.RedactingFilter())
    names = ("", "mandao", *_redact.LIBRARY_LOGGERS)
    levels = {name: logging.getLogger(name).level for name in names}
    logging.getLogger().addHandler(handler)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)

    def undo() -> None:
        logging.getLogger().removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)

    return undo


def common_options(func: F) -> F:
    """``--json``, ``-v``; the command receives ``out: Output`` instead of the two flags."""

    @click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
    @click.option(
        "-v",
        "--verbose",
        count=True,
        help="Log to stderr: requests and the redacted envelopes they carry.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, as_json: bool, verbose: int, **kwargs: Any) -> Any:
        undo = _setup_logging(verbose)
        out = Output(as_json)
        try:
            return func(*args, out=out, **kwargs)
        except MandaoError as exc:
            out.fail(exc)
        finally:
            if undo is not None:
                undo()

    return wrapper  # type: ignore[return-value]


def client_options(func: F) -> F:
    """--config and the settings flags; the command receives ``settings: dict``."""
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False),
            help="Config file (default: $MANDAO_CONFIG, ./mandao.toml, user config folder).",
        ),
        click.option("--sn", help="Serial number (overrides MANDAO_SN and the file)."),
        click.option(
            "--password-command",
            help="Command printing the password (the password itself: MANDAO_PASSWORD).",
        ),
        click.option("--host", "hosts", multiple=True, help="Send-service URL (repeatable)."),
        click.option("--account-host", "account_hosts", multiple=True, help="Account-service URL."),
        click.option(
            "--protocol",
            type=click.Choice(["soap11", "soap12", "http-get", "http-post", "ashx"]),
        ),
        click.option("--timeout", help="Seconds, or CONNECT,READ."),
    ]

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        config_path: str | None,
        sn: str | None,
        password_command: str | None,
        hosts: tuple[str, ...],
        account_hosts: tuple[str, ...],
        protocol: str | None,
        timeout: str | None,
        **kwargs: Any,
    ) -> Any:
        settings = {
            "config_path": config_path,
            "sn": sn,
            "password_command": password_command,
            "hosts": list(hosts) or None,
            "account_hosts": list(account_hosts) or None,
            "protocol": protocol,
            "timeout": timeout,
        }
        return func(*args, settings=settings, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


#: The command line's duplicate guard (issue 6: off in the library, on in the CLI) where
#: the config file's ``[journal]`` table is silent: the same number and text within 10
#: minutes refuses the whole send, naming the numbers. Refuse rather than skip: a re-run
#: command is a mistake to stop and show, not to half-carry out.
GUARD_WINDOW = 600.0
GUARD_ACTION = "refuse"


def make_client(settings: dict[str, Any], *, duplicate_guard: bool = False) -> Client:
    """A Client from --config, the environment and the flags (flags win).

    ``duplicate_guard``: check the journal before sending (``send``, ``send-file``), with
    the ``[journal]`` table's window and action, else :data:`GUARD_WINDOW`/``GUARD_ACTION``.
    """
    from .._client import Client

    overrides = {k: v for k, v in settings.items() if k != "config_path" and v is not None}
    if duplicate_guard:
        from .._config_file import load_settings

        # Read without running password_command: from_config runs it once, below.
        found = load_settings(
            settings.get("config_path"), overrides=overrides, resolve_password=False
        )
        overrides["duplicate_guard"] = found.duplicate_guard(
            window=GUARD_WINDOW, action=GUARD_ACTION
        )
    return Client.from_config(settings.get("config_path"), **overrides)


def guard_option(func: F) -> F:
    """``--no-duplicate-guard``; the command receives ``duplicate_guard: bool``."""
    return click.option(
        "--no-duplicate-guard",
        "duplicate_guard",
        is_flag=True,
        flag_value=False,
        default=True,
        help="Send even to numbers the journal shows were sent the same text just now.",
    )(func)
