"""The configuration loader: a TOML file, then the environment, then explicit values.

Precedence: explicit values (CLI flags, ``Client.from_config(**overrides)``) win over the
environment, the environment over the file. The file is ``path`` if given, else
``$MANDAO_CONFIG``, else ``./mandao.toml``, else ``mandao.toml`` in the user config folder
(platformdirs). A file that holds a ``password`` and can be read by group or others is
refused, as ssh refuses such a key. A password can also come from ``password_command``
(run without a shell; its first output line is the password).

This module imports neither zeep nor requests: ``mandao config show`` must start fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from ._errors import ConfigError, ValidationError

if TYPE_CHECKING:
    from ._journal import DuplicateGuard

# tomllib, shlex, stat and subprocess are imported where they are used: `mandao explain`
# and the other offline commands import this module (for ConfigError) and must start fast.

__all__ = [
    "DUPLICATE_ACTIONS",
    "ENVIRONMENT",
    "FILE_KEYS",
    "JOURNAL_KEYS",
    "ConfigError",
    "Settings",
    "find_config_file",
    "load_settings",
    "parse_duration",
    "parse_timeout",
    "user_config_dir",
]

FILE_NAME = "mandao.toml"

#: Environment variable → setting. Lists are comma-separated; a timeout is ``10`` or ``5,30``.
ENVIRONMENT: dict[str, str] = {
    "MANDAO_SN": "sn",
    "MANDAO_PASSWORD": "password",
    "MANDAO_PASSWORD_COMMAND": "password_command",
    "MANDAO_HOSTS": "hosts",
    "MANDAO_ACCOUNT_HOSTS": "account_hosts",
    "MANDAO_PROTOCOL": "protocol",
    "MANDAO_TIMEOUT": "timeout",
    "MANDAO_SIGNATURE": "signature",
    # Keys of the [journal] table. MANDAO_JOURNAL is the variable `Journal()` and
    # `mandao journal` read too.
    "MANDAO_JOURNAL": "journal.path",
    "MANDAO_DUPLICATE_WINDOW": "journal.duplicate_window",
    "MANDAO_DUPLICATE_ACTION": "journal.duplicate_action",
}

#: Keys a config file may hold, and what each is.
FILE_KEYS: dict[str, str] = {
    "sn": "the serial number, XXX-XXX-XXX-XXXXX",
    "password": "the password (the file must then be chmod 600)",
    "password_command": "a command whose first output line is the password",
    "hosts": "send-service URLs, primary first",
    "account_hosts": "account-service URLs (Register, UnRegister)",
    "protocol": "soap11, soap12, http-get, http-post or ashx",
    "timeout": "seconds, or a table {connect = 5, read = 30}",
    "signature": "the 【name】 added to content that carries none",
    "failover": "a table of FailoverPolicy fields (slow_threshold, cooldown, ...) and "
    "max_in_flight",
    "journal": "a table: path or url (or enabled = false), duplicate_window, duplicate_action",
}

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

_SECRET = ("password", "password_command")
_LISTS = ("hosts", "account_hosts")


def user_config_dir() -> Path:
    """The user config folder (platformdirs; ``$XDG_CONFIG_HOME/mandao`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("mandao", appauthor=False))


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings, and where each came from (``sources``: key → file, env var, flag).

    ``password`` is the resolved secret (``password_command`` already run) and never shown
    in a repr.
    """

    values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None
    password: str | None = field(default=None, repr=False)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``mandao.Client`` (password included)."""
        out: dict[str, Any] = {}
        for key in ("sn", "hosts", "account_hosts", "protocol", "signature"):
            if self.values.get(key) is not None:
                out[key] = self.values[key]
        if self.values.get("timeout") is not None:
            from ._config import Timeouts

            connect, read = self.values["timeout"]
            out["timeout"] = Timeouts(connect, read)
        if self.values.get("failover"):
            from ._core.failover import FailoverPolicy

            table = dict(self.values["failover"])
            # The serial's in-flight limit sits with the failover settings in the file.
            if "max_in_flight" in table:
                out["max_in_flight"] = table.pop("max_in_flight")
            try:
                out["failover"] = FailoverPolicy(**table)
            except TypeError as exc:
                raise ConfigError(f"failover: {exc}", path=self.path) from None
        journal = self.values.get("journal") or {}
        if journal.get("path") and journal.get("url"):
            raise ConfigError("journal: give path (a file) or url (PostgreSQL), not both",
                              path=self.path)  # fmt: skip
        if journal.get("enabled") is False:
            out["journal"] = None
        elif journal.get("path") or journal.get("url"):
            out["journal"] = journal.get("path") or journal["url"]
        # The library's guard is off unless the file asks for one (the CLI's is on).
        if "duplicate_window" in journal or "duplicate_action" in journal:
            guard = self.duplicate_guard()
            if guard is not None:
                out["duplicate_guard"] = guard
        if self.password is not None:
            out["password"] = self.password
        return out

    def duplicate_guard(
        self, *, window: float = 600.0, action: str = "refuse"
    ) -> DuplicateGuard | None:
        """The guard the ``[journal]`` table sets, ``window``/``action`` where it is silent.

        None when the table says ``duplicate_action = "off"`` or ``enabled = false``.
        """
        journal = self.values.get("journal") or {}
        action = journal.get("duplicate_action", action)
        if action == "off" or journal.get("enabled") is False:
            return None
        from datetime import timedelta

        from ._journal import DuplicateGuard

        seconds = journal.get("duplicate_window", window)
        if action not in ("skip", "warn", "refuse"):
            raise ConfigError(f"duplicate_action: expected one of {', '.join(DUPLICATE_ACTIONS)}")
        checked = cast('Literal["skip", "warn", "refuse"]', action)
        return DuplicateGuard(window=timedelta(seconds=seconds), action=checked)

    def redacted(self) -> dict[str, Any]:
        """Every value set, for display: the password as ``***``, never its text."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if key == "password":
                out[key] = "***"
            elif key == "timeout" and value is not None:
                out[key] = {"connect": value[0], "read": value[1]}
            elif isinstance(value, tuple):
                out[key] = list(value)
            else:
                out[key] = value
        return out


def find_config_file(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: ``path``, ``$MANDAO_CONFIG``, ./mandao.toml, user config.

    An explicit path (argument or environment) must exist; the two defaults may be absent.
    """
    explicit = path if path is not None else os.environ.get("MANDAO_CONFIG") or None
    if explicit is not None:
        found = Path(explicit).expanduser()
        if not found.is_file():
            raise ConfigError("no such config file", path=found)
        return found
    for candidate in (Path.cwd() / FILE_NAME, user_config_dir() / FILE_NAME):
        if candidate.is_file():
            return candidate
    return None


def _check_permissions(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - no group/other bits to check
        return
    import shlex
    import stat

    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"holds a password but is readable by others (mode {mode:04o}); "
            f"run `chmod 600 {shlex.quote(str(path))}`, or move the password to "
            "password_command or MANDAO_PASSWORD",
            path=path,
        )


def _read_file(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from None
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)}; known: {', '.join(FILE_KEYS)}", path=path
        )
    if "password" in data:
        _check_permissions(path)
    return data


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


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object, *, where: str) -> float:
    """Seconds from ``600``, ``"600"``, ``"90s"``, ``"10m"``, ``"2h"`` or ``"7d"``.

    >>> parse_duration("10m", where="duplicate_window")
    600.0
    """
    try:
        if isinstance(value, bool):
            raise ValueError("expected seconds or a duration like 10m")
        if isinstance(value, (int, float)):
            seconds = float(value)
        elif isinstance(value, str) and value.strip():
            text = value.strip().lower()
            unit = _UNITS.get(text[-1])
            seconds = float(text[:-1]) * unit if unit else float(text)
        else:
            raise ValueError("expected seconds or a duration like 10m")
        if seconds <= 0:
            raise ValueError("expected a positive duration")
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}: {value!r}") from None
    return seconds


def _journal_table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"journal ({where}): expected a table, got {value!r}")
    unknown = sorted(set(value) - set(JOURNAL_KEYS))
    if unknown:
        raise ConfigError(
            f"journal ({where}): unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(JOURNAL_KEYS)}"
        )
    out = dict(value)
    if "path" in out and (not isinstance(out["path"], str) or not out["path"]):
        raise ConfigError(f"journal.path ({where}): expected a file name, got {out['path']!r}")
    url = out.get("url")
    if url is not None and not (
        isinstance(url, str) and url.startswith(("postgresql://", "postgres://"))
    ):
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


def _normalise(key: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    if key in _LISTS:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key} ({where}): expected a list of URLs, got {value!r}")
        return tuple(value)
    if key == "timeout":
        return parse_timeout(value, where=where)
    if key == "journal":
        return _journal_table(value, where)
    if key == "failover":
        if not isinstance(value, dict):
            raise ConfigError(f"{key} ({where}): expected a table, got {value!r}")
        return dict(value)
    if not isinstance(value, str):
        raise ConfigError(f"{key} ({where}): expected text, got {value!r}")
    return value


def run_password_command(command: str) -> str:
    """Run ``command`` (no shell) and return the first line it prints.

    Its output is never shown, not even in an error.
    """
    import shlex
    import subprocess

    try:
        done = subprocess.run(  # noqa: S603 - the user's own configured command
            shlex.split(command), capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"password_command failed to run: {type(exc).__name__}") from None
    if done.returncode != 0:
        raise ConfigError(f"password_command exited with status {done.returncode}")
    line = done.stdout.splitlines()[0].strip() if done.stdout.strip() else ""
    if not line:
        raise ConfigError("password_command printed nothing")
    return line


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    resolve_password: bool = True,
) -> Settings:
    """Merge file, environment and ``overrides`` (None values ignored) into Settings.

    Args:
        path: the config file; None looks for one (see :func:`find_config_file`).
        overrides: explicit values (CLI flags), highest precedence.
        environ: the environment (default ``os.environ``).
        resolve_password: run ``password_command`` to get the password (False for display).

    Raises:
        ConfigError: a file is missing, malformed, unsafe, or a value is invalid.
    """
    env = os.environ if environ is None else environ
    found = find_config_file(path)
    layers: list[tuple[str, dict[str, Any]]] = []
    if found is not None:
        layers.append((str(found), _read_file(found)))
    layers.append(
        ("env", {key: env[name] for name, key in ENVIRONMENT.items() if env.get(name, "") != ""})
    )
    layers.append(("flag", {k: v for k, v in (overrides or {}).items() if v is not None}))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for origin, layer in layers:
        if any(key in layer for key in _SECRET):
            # password and password_command are one slot: the layer that sets either wins.
            for key in _SECRET:
                values.pop(key, None)
                sources.pop(key, None)
        for key, value in layer.items():
            if origin == "env":
                where = next(n for n, k in ENVIRONMENT.items() if k == key)
            elif origin == "flag":
                where = f"--{key.replace('_', '-')}"
            else:
                where = origin
            if "." in key:  # one key of a table, from the environment
                key, sub = key.split(".", 1)
                value = {sub: value}
            normal = _normalise(key, value, where)
            if key == "journal" and key in values:
                # A table merges key by key: MANDAO_JOURNAL moves the file, and keeps the
                # file's guard settings.
                normal = {**values[key], **normal}
            values[key] = normal
            sources[key] = where

    password: str | None = values.get("password")
    if password is None and values.get("password_command") and resolve_password:
        password = run_password_command(values["password_command"])
    return Settings(values, sources, found, password)
