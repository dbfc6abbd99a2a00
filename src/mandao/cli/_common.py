"""What every command shares: --json, -v, --config and the settings flags, building a client.

The exit codes are one table (:mod:`._exits`, re-exported here); results, errors and
warnings are written by :class:`~._output.Output`. Nothing here imports zeep or requests.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .._errors import MandaoError, ValidationError
from ._exits import (
    EXIT_CODES,
    EXIT_DRIFT,
    EXIT_INTERRUPTED,
    EXIT_PARTIAL,
    OTHER_EXITS,
    ExitCode,
    exit_code_for,
)
from ._output import Output

if TYPE_CHECKING:
    from .._client import Client
    from .._config_file import Settings

__all__ = [
    "EXIT_CODES",
    "EXIT_DRIFT",
    "EXIT_INTERRUPTED",
    "EXIT_PARTIAL",
    "GUARD_ACTION",
    "GUARD_WINDOW",
    "OTHER_EXITS",
    "ExitCode",
    "Output",
    "before_the_command",
    "by_default",
    "client_options",
    "common_options",
    "confirm",
    "exit_code_for",
    "guard_option",
    "json_option",
    "make_client",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Loggers ``-v`` leaves at INFO: zeep logs its whole schema parse at DEBUG (about 90
#: lines for one send), shown with ``-vv``.
_QUIET_AT_V = ("zeep",)
#: Libraries whose warnings reach stderr, with no logging set up, only through Python's
#: last-resort handler: a handler of their own, doing nothing, keeps them off (not -v).
_LIBRARIES = ("psycopg", "urllib3", "zeep", "httpx", "httpcore")


class _WarningLines(logging.Handler):
    """A record of the ``mandao`` logger as a ``warning: …`` line on stderr, redacted."""

    def emit(self, record: logging.LogRecord) -> None:
        from .._redact import RedactingFilter

        RedactingFilter().filter(record)
        try:
            sys.stderr.write(f"warning: {record.getMessage()}\n")
        except Exception:  # a handler reports its own failures
            self.handleError(record)


def _setup_logging(verbose: int) -> Callable[[], None]:
    """-v: every logger at DEBUG to stderr (request lines), redacted; zeep at INFO unless -vv.
    Without -v, the libraries' own warnings are not printed.

    Returns what undoes it (a command run in process, as tests do, leaves nothing behind).
    """
    if not verbose:
        # The command says what went wrong itself; a library's warnings (psycopg's pool
        # discarding a connection the server closed, and recovering) are for -v only.
        # mandao's own are ``warning:`` lines, as a Python warning is (the handler keeps
        # Python's last-resort one, which prints the bare message, off them).
        silent, said = logging.NullHandler(), _WarningLines(logging.WARNING)
        libraries = [logging.getLogger(name) for name in _LIBRARIES]
        for library in libraries:
            library.addHandler(silent)
        logging.getLogger("mandao").addHandler(said)

        def unquiet() -> None:
            for library in libraries:
                library.removeHandler(silent)
            logging.getLogger("mandao").removeHandler(said)

        return unquiet

    from .. import _redact

    _redact.install()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # Records that propagate from other loggers pass through this handler's filter too.
    handler.addFilter(_redact.RedactingFilter())
    names = ("", "mandao", *_redact.LIBRARY_LOGGERS, *_QUIET_AT_V)
    levels = {name: logging.getLogger(name).level for name in names}
    logging.getLogger().addHandler(handler)
    for name in names:
        quiet = name in _QUIET_AT_V and verbose < 2
        logging.getLogger(name).setLevel(logging.INFO if quiet else logging.DEBUG)

    def undo() -> None:
        logging.getLogger().removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)

    return undo


def confirm(
    question: str, *, remedy: str, argument: str = "yes", default: bool = False,
    abort: bool = False,
) -> bool:  # fmt: skip
    """Ask ``question`` on stderr and return the answer (``abort``: a no is click's Abort,
    exit 1, as with ``click.confirm``).

    Stdin that is not a terminal may still hold the answer (``echo y | mandao ...``).
    When it ends instead, there is no one to ask: an error in the command line's form
    (exit 2, nothing done), naming the flag that answers instead (``argument``) and what
    to give (``remedy``, e.g. ``pass --yes ...``), rather than click's bare abort. An end
    of input typed at a terminal (Ctrl-D) is a no.
    """
    unanswered = ValidationError(
        f"the question {question!r} has no one to answer it: there is no terminal to ask on "
        f"(stdin is not one, and held no answer); {remedy}",
        argument=argument,
    )
    if sys.stdin is None or sys.stdin.closed:  # run with stdin closed (`<&-`)
        raise unanswered
    try:
        return click.confirm(question, default=default, abort=abort, err=True)
    except click.Abort as exc:
        if isinstance(exc.__context__, EOFError) and not sys.stdin.isatty():
            click.echo(err=True)  # ends the question's line
            raise unanswered from None
        raise


def json_option(func: F) -> F:
    """``--json``; the command receives ``as_json: bool``."""
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(
        func
    )


def common_options(func: F) -> F:
    """``--json``, ``-v``; the command receives ``out: Output`` instead of the two flags.

    A MandaoError the command raises is reported (:meth:`Output.fail`) with its exit
    code; Python warnings become one line each on stderr.
    """

    @json_option
    @click.option(
        "-v",
        "--verbose",
        count=True,
        help="Log to stderr: the requests (pwd as ***); -vv adds zeep's schema parsing.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, as_json: bool, verbose: int, **kwargs: Any) -> Any:
        undo = _setup_logging(verbose + before_the_command("verbose"))
        out = Output(as_json or bool(before_the_command("as_json")))
        try:
            with out.warnings_as_lines():
                return func(*args, out=out, **kwargs)
        except MandaoError as exc:
            out.fail(exc)
        finally:
            undo()

    return wrapper  # type: ignore[return-value]


def by_default(name: str) -> bool:
    """Whether the running command's option ``name`` was left to its default."""
    source = click.get_current_context().get_parameter_source(name)
    return source in (None, click.core.ParameterSource.DEFAULT)


def before_the_command(name: str) -> int:
    """The ``-v`` count (``verbose``) or ``--json`` (``as_json``) given to ``mandao``
    itself (``mandao -v --json account``), if it ran the command."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    return int(root.params.get(name) or 0) if root is not None and root is not ctx else 0


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
        click.option(
            "--host",
            "hosts",
            multiple=True,
            metavar="URL",
            help="Send-service URL, with its path: http://HOST:8061/webservice.asmx (repeatable).",
        ),
        click.option(
            "--account-host",
            "account_hosts",
            multiple=True,
            metavar="URL",
            help="Account-service URL: http://HOST:8060/webservice.asmx (repeatable).",
        ),
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

#: Keys of the settings dict that are Client keywords, not file settings.
_CLIENT_ONLY = ("require_signature",)


def load(settings: dict[str, Any]) -> Settings:
    """The settings in effect (file, environment, flags), without running password_command.

    Raises:
        ConfigError: as :func:`mandao._config_file.load_settings`; also when no serial or
            no password is set anywhere (naming where to set them).
    """
    from .._config_file import load_settings

    overrides = {
        k: v
        for k, v in settings.items()
        if k != "config_path" and k not in _CLIENT_ONLY and v is not None
    }
    found = load_settings(settings.get("config_path"), overrides=overrides, resolve_password=False)
    found.require_credentials()
    return found


def make_client(settings: dict[str, Any], *, duplicate_action: str | None = None) -> Client:
    """A Client from --config, the environment and the flags (flags win).

    ``duplicate_action``: check the journal before sending (``send``, ``send-file``):
    ``"default"`` for the ``[journal]`` table's action, else :data:`GUARD_ACTION`, within
    its window, else :data:`GUARD_WINDOW`; ``skip``, ``warn``, ``refuse`` or ``off`` to
    say (``--duplicate-action``); None for no guard (the commands that do not send).
    Notes on the settings (both a password and a command) are printed as warnings.
    """
    import warnings

    from .._client import Client

    found = load(settings)
    for note in found.notes:
        warnings.warn(note, stacklevel=2)
    overrides = {k: v for k, v in settings.items() if k != "config_path" and v is not None}
    if overrides.get("suppression") == "auto":  # send-file's default: skip, if it can
        off = "journal" in found.client_kwargs() and found.client_kwargs()["journal"] is None
        if off:
            warnings.warn("the journal is off, so the suppression list is not checked",
                          stacklevel=2)  # fmt: skip
        overrides["suppression"] = "off" if off else "skip"
    if duplicate_action is not None:
        forced = None if duplicate_action == "default" else duplicate_action
        overrides["duplicate_guard"] = found.duplicate_guard(
            window=GUARD_WINDOW, action=GUARD_ACTION, forced=forced
        )
    return Client.from_config(settings.get("config_path"), **overrides)


def guard_option(func: F) -> F:
    """``--duplicate-action`` and ``--no-duplicate-guard``; the command receives
    ``duplicate_action``: ``"default"``, or the action asked for (``off`` for the flag)."""

    @click.option(
        "--duplicate-action",
        type=click.Choice(["skip", "warn", "refuse", "off"]),
        help="What to do with numbers the journal shows were sent the same text within the "
        "guard's window (default: refuse, or [journal] duplicate_action).",
    )
    @click.option(
        "--no-duplicate-guard",
        "no_guard",
        is_flag=True,
        help="Send even to numbers the journal shows were sent the same text just now "
        "(the same as --duplicate-action off).",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, duplicate_action: str | None, no_guard: bool, **kwargs: Any) -> Any:
        if no_guard and duplicate_action not in (None, "off"):
            raise click.UsageError(
                f"--no-duplicate-guard and --duplicate-action {duplicate_action} disagree: "
                "give one of them"
            )
        action = "off" if no_guard else duplicate_action or "default"
        return func(*args, duplicate_action=action, **kwargs)

    return wrapper  # type: ignore[return-value]
