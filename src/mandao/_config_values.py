"""One setting's value as a file, a variable or a flag holds it, checked and normalised.

Every check names where the value came from (the config file's path, ``MANDAO_HOSTS``,
``--host``), so an error says which of the three places to fix. Split from
:mod:`._config_file`, which merges the layers; this module reads one value at a time.

Like :mod:`._config_file`, it imports neither zeep nor requests.
"""

from __future__ import annotations

import re
from typing import Any

from ._errors import ConfigError, ValidationError

__all__ = [
    "DUPLICATE_ACTIONS",
    "JOURNAL_KEYS",
    "POSTGRESQL_SCHEMES",
    "failover_table",
    "journal_table",
    "normalise",
    "parse_duration",
    "parse_timeout",
    "run_password_command",
]

#: URL schemes that name a PostgreSQL journal (any other URL is refused).
POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")

#: Keys of the ``[journal]`` table, and what each is.
JOURNAL_KEYS: dict[str, str] = {
    "path": "the journal file (default: $MANDAO_JOURNAL, else the user data folder)",
    "url": "a PostgreSQL journal instead of a file: postgresql://user@host/db (several machines)",
    "enabled": "false keeps no journal (and so no duplicate guard, no resume)",
    "duplicate_window": "how far back the duplicate guard looks: seconds, or 10m, 2h, 1d",
    "duplicate_action": "what the guard does: skip, warn, refuse, or off",
}
#: What the duplicate guard may do; ``off`` turns it off.
DUPLICATE_ACTIONS = ("skip", "warn", "refuse", "off")

_LISTS = ("hosts", "account_hosts")

#: A duration's units, by every name an operator types: ``90s``, ``10 minutes``, ``2h``.
_UNITS: dict[str, float] = {
    **dict.fromkeys(("", "s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86400),
}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*,?", re.ASCII)
_DURATION_HINT = "expected seconds or a duration like 90s, 10m, 10 minutes, 2h, 1d"


def parse_timeout(value: object, *, where: str) -> tuple[float, float]:
    """``10``, ``"5,30"``, ``[5, 30]`` or ``{connect=5, read=30}`` → (connect, read).

    :meth:`mandao.Timeouts.parse` reads the value; its ValidationError
    becomes a ConfigError naming where the value came from.

    >>> parse_timeout("5,30", where="MANDAO_TIMEOUT")
    (5.0, 30.0)
    """
    from ._config import Timeouts

    try:
        timeouts = Timeouts.parse(value)
    except ValidationError as exc:
        message = exc.message.removeprefix(f"{exc.argument}: ")
        raise ConfigError(f"{exc.argument} ({where}): {message}") from None
    return float(timeouts.connect), float(timeouts.read)


def parse_duration(value: object, *, where: str) -> float:
    """Seconds from ``600``, ``"600"``, ``"90s"``, ``"10m"``, ``"10 minutes"``, ``"1h 30m"``.

    >>> parse_duration("10m", where="duplicate_window")
    600.0
    >>> parse_duration("1 hour 30 minutes", where="--resume-window")
    5400.0
    """
    seconds = 0.0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().lower().removesuffix(" ago")
        at = 0
        while at < len(text):
            part = _PART.match(text, at)
            if part is None or part.end() == at or part[2] not in _UNITS:
                raise ConfigError(f"{where}: {_DURATION_HINT}, got {value!r}")
            seconds += float(part[1]) * _UNITS[part[2]]
            at = part.end()
    else:
        raise ConfigError(f"{where}: {_DURATION_HINT}, got {value!r}")
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"{where}: expected a positive duration, got {value!r}")
    return seconds


def journal_table(value: Any, where: str) -> dict[str, Any]:
    """The ``[journal]`` table checked: known keys, a file or a PostgreSQL URL, the guard."""
    if not isinstance(value, dict):
        raise ConfigError(f"journal ({where}): expected a table, got {value!r}")
    unknown = sorted(set(value) - set(JOURNAL_KEYS))
    if unknown:
        from ._config import unknown_keys

        raise ConfigError(
            f"journal ({where}): {unknown_keys(unknown, JOURNAL_KEYS)}; "
            f"known: {', '.join(JOURNAL_KEYS)}"
        )
    out = dict(value)
    if "path" in out and (not isinstance(out["path"], str) or not out["path"]):
        raise ConfigError(f"journal.path ({where}): expected a file name, got {out['path']!r}")
    if str(out.get("path", "")).startswith(POSTGRESQL_SCHEMES) and "url" not in out:
        out["url"] = out.pop("path")  # MANDAO_JOURNAL=postgresql://…, as Journal() takes it
    url = out.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(POSTGRESQL_SCHEMES)):
        raise ConfigError(
            f"journal.url ({where}): expected a PostgreSQL URL (postgresql://user@host/db)"
        )  # the value is not shown: a URL may hold a password
    if "enabled" in out and not isinstance(out["enabled"], bool):
        raise ConfigError(f"journal.enabled ({where}): expected true or false")
    if "duplicate_window" in out:
        out["duplicate_window"] = parse_duration(
            out["duplicate_window"], where=f"journal.duplicate_window ({where})"
        )
    if "duplicate_action" in out and out["duplicate_action"] not in DUPLICATE_ACTIONS:
        raise ConfigError(
            f"journal.duplicate_action ({where}): expected one of "
            f"{', '.join(DUPLICATE_ACTIONS)}, got {out['duplicate_action']!r}"
        )
    return out


def failover_table(value: Any, where: str) -> dict[str, Any]:
    """The ``[failover]`` table checked: FailoverPolicy's fields, and ``max_in_flight``.

    Each value is checked as :class:`~mandao.FailoverPolicy` checks it; the error names
    the key, where it was set and what it takes, in a TOML file's terms (no None: a key
    left out keeps its default).
    """
    from dataclasses import fields

    from ._core.failover import FailoverPolicy

    if not isinstance(value, dict):
        raise ConfigError(f"failover ({where}): expected a table, got {value!r}")
    # The serial's in-flight limit sits with the failover settings in the file.
    known = [f.name for f in fields(FailoverPolicy) if f.init] + ["max_in_flight"]
    unknown = sorted(str(key) for key in value if key not in known)
    if unknown:
        from ._config import unknown_keys

        raise ConfigError(
            f"failover ({where}): {unknown_keys(unknown, known)}; known: {', '.join(known)}"
        )
    table = dict(value)
    limit = table.pop("max_in_flight", 1)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(
            f"failover.max_in_flight ({where}): expected a whole number of requests, 1 or "
            f"more (or leave it out for 1), got {limit!r}"
        )
    try:
        FailoverPolicy(**table)
    except ValidationError as exc:
        message = exc.message.removeprefix(f"{exc.argument}: ")
        raise ConfigError(f"{exc.argument} ({where}): {message}") from None
    return dict(value)


def _service_urls(key: str, value: Any, where: str) -> tuple[str, ...]:
    """A list of service URLs, each with its service path (``…/webservice.asmx``).

    A URL without one (``http://host:8061``) reaches the server but no service: the
    gateway answers 404, so it is refused here, before anything is sent.
    """
    from urllib.parse import urlsplit

    from ._config import check_hosts

    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} ({where}): expected a list of URLs, got {value!r}")
    try:
        urls = check_hosts(value, argument=key)
    except ValidationError as exc:
        raise ConfigError(f"{key} ({where}): {exc.message.removeprefix(key + ': ')}") from None
    for url in urls:
        if not urlsplit(url).path.lower().endswith(".asmx"):
            raise ConfigError(
                f"{key} ({where}): {url} has no service path; give the whole URL, "
                f"e.g. {url.rstrip('/')}/webservice.asmx"
            )
    return urls


def normalise(key: str, value: Any, where: str) -> Any:
    """One top-level setting, checked, as the settings keep it (``where`` names its source).

    Raises:
        ConfigError: the value is of the wrong type or out of range, naming ``where``.
    """
    if value is None:
        return None
    if key in _LISTS:
        return _service_urls(key, value, where)
    if key == "timeout":
        return parse_timeout(value, where=where)
    if key == "journal":
        return journal_table(value, where)
    if key == "failover":
        return failover_table(value, where)
    if not isinstance(value, str):
        raise ConfigError(f"{key} ({where}): expected text, got {value!r}")
    if key == "protocol":
        from ._operations import PROTOCOLS

        if value not in PROTOCOLS:
            raise ConfigError(
                f"protocol ({where}): expected one of {', '.join(PROTOCOLS)}, got {value!r}"
            )
    elif key == "sn":
        from ._credentials import SERIAL_PATTERN

        if not SERIAL_PATTERN.fullmatch(value):
            raise ConfigError(
                f"sn ({where}): expected a serial of the form XXX-XXX-XXX-XXXXX "
                f"(e.g. SDK-BBX-010-19809), got {value!r}"
            )
    elif key == "signature":
        from ._compose.content import check_signature

        try:
            check_signature(value)
        except ValidationError as exc:
            message = exc.message.removeprefix(f"{exc.argument}: ")
            raise ConfigError(f"signature ({where}): {message}") from None
    return value


def run_password_command(command: str, *, where: str = "password_command") -> str:
    """Run ``command`` (no shell) and return the first line it prints.

    Its output is never shown, not even in an error; the command itself is (it is a
    setting, shown by ``mandao config show`` too).

    Raises:
        ConfigError: it cannot run, fails, or prints nothing; naming the command.
    """
    import shlex
    import subprocess

    named = f"password_command {command!r} ({where})"
    try:
        argv = shlex.split(command)
        if not argv:
            raise ConfigError(f"{named}: is empty")
        done = subprocess.run(  # noqa: S603 - the user's own configured command
            argv, capture_output=True, text=True, timeout=60, check=False
        )
    except FileNotFoundError:
        raise ConfigError(
            f"{named}: cannot run it: no program {argv[0]!r} on PATH (is it installed?)"
        ) from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{named}: printed no password within 60 seconds") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{named}: cannot run it: {reason}") from None
    if done.returncode != 0:
        raise ConfigError(f"{named}: exited with status {done.returncode}")
    line = done.stdout.splitlines()[0].strip() if done.stdout.strip() else ""
    if not line:
        raise ConfigError(f"{named}: printed nothing")
    return line
