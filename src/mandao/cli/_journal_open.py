"""What every ``mandao journal`` subcommand shares: which journal, and how rows are shown.

``--journal`` and ``--config`` are taken before the subcommand (``mandao journal --journal X
verify``) and after it (``mandao journal verify --journal X``); after wins. Then
``$MANDAO_JOURNAL``, the config file's ``[journal]`` path or url, the user data folder.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .._errors import JournalError
from ._common import common_options

if TYPE_CHECKING:
    from .._journal import Attempt, Journal

__all__ = [
    "HEADER",
    "attempt_data",
    "attempt_line",
    "china_time",
    "journal_options",
    "location",
    "mobile_filter",
    "open_journal",
]

F = TypeVar("F", bound=Callable[..., Any])


def journal_options(func: F) -> F:
    """``--journal``, ``--config``, ``--json`` and ``-v``; the command receives
    ``where: tuple[str | None, str | None]`` (the journal given, the config file) and
    ``out``."""

    @common_options
    @click.option(
        "--journal",
        "journal_path",
        type=click.Path(dir_okay=False),
        help="The journal (a file, or a postgresql:// URL); default as `mandao journal path`.",
    )
    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help="The config file whose [journal] path or url to use.",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any, journal_path: str | None, config_path: str | None, **kwargs: Any
    ) -> Any:
        parent = click.get_current_context().obj  # the journal group's, inherited
        given = parent if isinstance(parent, dict) else {}
        where = (journal_path or given.get("journal"), config_path or given.get("config"))
        return func(*args, where=where, **kwargs)

    return wrapper  # type: ignore[return-value]


def location(where: tuple[str | None, str | None]) -> str:
    """The journal to use: the one given, ``$MANDAO_JOURNAL``, the config file's, the default."""
    import os

    from .._config_file import load_settings
    from .._journal import default_journal_path

    given, config = where
    if given:
        return given
    if os.environ.get("MANDAO_JOURNAL"):
        return os.environ["MANDAO_JOURNAL"]
    table = load_settings(config, resolve_password=False).values.get("journal") or {}
    configured = table.get("path") or table.get("url") if isinstance(table, dict) else None
    return str(configured) if configured else str(default_journal_path())


def open_journal(where: tuple[str | None, str | None]) -> Journal:
    """The journal to read; a file that does not exist is an error, not a new journal.

    Raises:
        JournalError: there is no journal there (exit 3).
        ConfigError: the config file cannot be read.
    """
    from .._journal import Journal

    target = location(where)
    if "://" not in target and not Path(target).exists():
        raise JournalError(
            f"no journal at {target}: nothing was sent with the journal there yet; "
            "--journal FILE names another (`mandao journal path` says where it is looked for)"
        )
    return Journal(target)


def mobile_filter(value: str | None, *, whole: bool) -> tuple[str | None, str | None]:
    """``--mobile``: ``(number, None)`` for a whole number (``+86``, spaces and dashes
    removed), ``(None, digits)`` for part of one when ``whole`` is false.

    Raises:
        click.BadParameter: neither (naming --mobile and what it takes).
    """
    if value is None:
        return None, None
    from .._compose.numbers import normalize_mobiles
    from .._errors import ValidationError

    try:
        return normalize_mobiles([value])[0], None
    except ValidationError:
        digits = "".join(ch for ch in value if ch.isdigit())
        if whole or not digits or len(digits) != len(value.replace(" ", "").replace("-", "")):
            raise click.BadParameter(
                f"expected a whole mobile number (11 digits), got {value!r}"
                + ("; `mandao journal list --mobile DIGITS` matches part of one" if whole else ""),
                param_hint="--mobile",
            ) from None
        return None, digits


def china_time(instant: str | None) -> str:
    """A journal time (ISO 8601, UTC) as China time, to the second; "" for none."""
    if not instant:
        return ""
    from .._compose.fields import CHINA

    return datetime.fromisoformat(instant).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def attempt_data(attempt: Attempt, *, unmask: bool) -> dict[str, Any]:
    """An attempt for JSON Lines: numbers masked unless ``unmask``; its resolution, if any."""
    from .._journal import mask

    resolution = getattr(attempt, "resolution", None)
    return {
        "seq": attempt.seq,
        "time": attempt.time,
        "operation": attempt.operation,
        "outcome": attempt.outcome,
        "result": attempt.result,
        "detail": attempt.detail,
        "host": attempt.host,
        "rrid": attempt.rrid,
        "pid": attempt.pid,
        "count": len(attempt.recipients),
        "recipients": [n if unmask else mask(n) for n in attempt.recipients],
        "resolution": None
        if resolution is None
        else {k: str(getattr(resolution, k, "")) for k in ("outcome", "source", "evidence", "at")},
    }


def attempt_line(data: dict[str, Any]) -> str:
    """One attempt as a line of the human table (see :data:`HEADER`)."""
    from .._config import short_host

    numbers = ", ".join(data["recipients"][:2])
    if data["count"] > 2:
        numbers += f" +{data['count'] - 2}"
    outcome = data["outcome"]
    if data["resolution"]:
        outcome += f"→{data['resolution']['outcome']}"
    host = short_host(data["host"]) if data["host"] else "-"
    return (
        f"{data['seq']:>6}  {china_time(data['time']):19}  {data['operation']:<11} {outcome:<16} "
        f"{data['count']:>6}  {numbers:<28} {data['rrid'] or '-':<18} {host}"
    )


#: The human table's header, aligned with :func:`attempt_line`.
HEADER = (
    f"{'seq':>6}  {'time (China)':19}  {'operation':<11} {'outcome':<16} {'count':>6}  "
    f"{'numbers':<28} {'rrid':<18} host"
)
