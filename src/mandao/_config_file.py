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

from ._config_values import (
    DUPLICATE_ACTIONS,
    JOURNAL_KEYS,
    POSTGRESQL_SCHEMES,
    normalise,
    parse_duration,
    parse_timeout,
    run_password_command,
)
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

_SECRET = ("password", "password_command")
#: The flag that sets a key, where it is not ``--key`` (the list flags are repeated).
_FLAGS = {"hosts": "--host", "account_hosts": "--account-host"}


def user_config_dir() -> Path:
    """The user config folder (platformdirs; ``$XDG_CONFIG_HOME/mandao`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("mandao", appauthor=False))


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings, and where each came from (``sources``: key → file, env var, flag
    or ``from_config(key=...)``).

    A ``[journal]`` key set in several places has a source for each of its keys too
    (``journal.path``: ``MANDAO_JOURNAL``); ``sources["journal"]`` is the last that set one.

    ``password`` is the resolved secret (``password_command`` already run) and never shown
    in a repr.
    """

    values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None
    password: str | None = field(default=None, repr=False)
    #: What an operator should know of these settings (both password and command set).
    notes: tuple[str, ...] = ()

    def require_credentials(self) -> None:
        """Refuse settings that name no serial or no password, saying where to put them.

        Raises:
            ConfigError: ``sn``, or both ``password`` and ``password_command``, are unset.
        """
        where = f"in {self.path}" if self.path else f"in ./{FILE_NAME}"
        if not self.values.get("sn"):
            raise ConfigError(
                f'no serial number: give --sn, set MANDAO_SN, or put sn = "…" {where}'
            )
        if not self.values.get("password") and not self.values.get("password_command"):
            raise ConfigError(
                "no password: set password_command (a command printing it, e.g. "
                f'"pass show sms/mandao") {where}, or --password-command, '
                'MANDAO_PASSWORD_COMMAND or MANDAO_PASSWORD; or password = "…" in a '
                "file only you can read (chmod 600)"
            )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``mandao.Client`` (password included)."""
        out: dict[str, Any] = {}
        for key in ("sn", "hosts", "account_hosts", "protocol", "signature"):
            if self.values.get(key) is not None:
                out[key] = self.values[key]
        if "hosts" in out and "account_hosts" not in out:
            _account_hosts_found(out["hosts"], self.sources["hosts"])
        if self.values.get("timeout") is not None:
            from ._config import Timeouts

            connect, read = self.values["timeout"]
            out["timeout"] = Timeouts(connect, read)
        if self.values.get("failover"):  # checked as it was read (failover_table)
            from ._core.failover import FailoverPolicy

            table = dict(self.values["failover"])
            if "max_in_flight" in table:
                out["max_in_flight"] = table.pop("max_in_flight")
            out["failover"] = FailoverPolicy(**table)
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
        self, *, window: float = 600.0, action: str = "refuse", forced: str | None = None
    ) -> DuplicateGuard | None:
        """The guard the ``[journal]`` table sets, ``window``/``action`` where it is silent.

        ``forced``: an action that wins over the table (``--duplicate-action``). None when
        the action is ``"off"`` or the table says ``enabled = false``.
        """
        journal = self.values.get("journal") or {}
        action = forced or journal.get("duplicate_action", action)
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
        """Every value set, for display: the password as ``***``, never its text, and a
        PostgreSQL journal's URL without its password."""
        from ._journal.database import is_url, redact

        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if key == "password":
                out[key] = "***"
            elif key == "journal" and isinstance(value, dict):
                out[key] = {k: redact(v) if is_url(v) else v for k, v in value.items()}
            elif key == "timeout" and value is not None:
                out[key] = {"connect": value[0], "read": value[1]}
            elif isinstance(value, tuple):
                out[key] = list(value)
            else:
                out[key] = value
        return out


def _account_hosts_found(hosts: tuple[str, ...], where: str) -> None:
    """Refuse ``hosts`` the account service cannot be found beside, naming where they were
    set and where account_hosts would go (the same place first)."""
    from ._config import account_hosts_of

    places = {
        "MANDAO_HOSTS": "MANDAO_ACCOUNT_HOSTS, --account-host, or account_hosts in mandao.toml",
        "--host": "--account-host, MANDAO_ACCOUNT_HOSTS, or account_hosts in mandao.toml",
        "from_config(hosts=...)": "account_hosts=..., MANDAO_ACCOUNT_HOSTS, or account_hosts "
        "in mandao.toml",
    }.get(where, "account_hosts in the same file, MANDAO_ACCOUNT_HOSTS, or --account-host")
    try:
        account_hosts_of(hosts, places=places)
    except ValidationError as exc:
        message = exc.message.removeprefix(f"{exc.argument}: ")
        raise ConfigError(f"hosts ({where}): {message}") from None


def find_config_file(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: ``path``, ``$MANDAO_CONFIG``, ./mandao.toml, user config.

    An explicit path (argument or environment) must exist; the two defaults may be absent.
    """
    explicit = path if path is not None else os.environ.get("MANDAO_CONFIG") or None
    if explicit is not None:
        found = Path(explicit).expanduser()
        if not found.is_file():
            named = (
                "the path given"
                if path is not None
                else "named by MANDAO_CONFIG; unset it to look for ./mandao.toml and the"
                " user config file"
            )
            # `mandao config show` would fail the same way: the message is the remedy.
            raise ConfigError(f"no such config file ({named})", path=found, remedy_included=True)
        return found
    for candidate in (Path.cwd() / FILE_NAME, user_config_dir() / FILE_NAME):
        if candidate.is_file():
            return candidate
    return None


def _check_permissions(path: Path, what: str, elsewhere: str) -> None:
    if os.name != "posix":  # pragma: no cover - no group/other bits to check
        return
    import shlex
    import stat

    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"holds {what} but is readable by others (mode {mode:04o}); "
            f"run `chmod 600 {shlex.quote(str(path))}`, or move it to {elsewhere}",
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
        from ._config import unknown_keys

        raise ConfigError(
            f"{unknown_keys(unknown, FILE_KEYS)}; known: {', '.join(FILE_KEYS)}", path=path
        )
    if "password" in data:
        _check_permissions(path, "a password", "password_command or MANDAO_PASSWORD")
    journal = data.get("journal")
    urls = [journal.get(k) for k in ("url", "path")] if isinstance(journal, dict) else []
    for url in (u for u in urls if isinstance(u, str) and u.startswith(POSTGRESQL_SCHEMES)):
        from ._journal.database import secrets_of

        if secrets_of(url):
            _check_permissions(path, "a database password (in [journal])",
                               "PGPASSWORD or ~/.pgpass (libpq reads both)")  # fmt: skip
    return data


_TIMEOUT_KEYS = ("connect", "read")


def _merged(layers: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, str]]:
    """The layers' values (later ones win), each checked, and where each came from."""
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
                where = _FLAGS.get(key, f"--{key.replace('_', '-')}")
            elif origin == "keyword":
                where = f"from_config({key}=...)"
            else:
                where = origin
            if "." in key:  # one key of a table, from the environment
                key, sub = key.split(".", 1)
                value = {sub: value}
            normal = normalise(key, value, where)
            if key == "timeout":
                # A file's table may set one of the two; the other stays the default's.
                given = value if isinstance(value, Mapping) else _TIMEOUT_KEYS
                sources.update({f"timeout.{sub}": where for sub in _TIMEOUT_KEYS if sub in given})
            if key == "journal":
                # Each key of the table has its own source: MANDAO_JOURNAL moves the file,
                # and the file's guard settings are still the file's.
                sources.update({f"journal.{sub}": where for sub in normal})
                if key in values:  # a table merges key by key; a place replaces a place
                    kept = values[key]
                    if {"path", "url"} & set(normal):
                        kept = {k: v for k, v in kept.items() if k not in ("path", "url")}
                    normal = {**kept, **normal}
            values[key] = normal
            sources[key] = where
    return values, sources


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    resolve_password: bool = True,
    keywords: bool = False,
) -> Settings:
    """Merge file, environment and ``overrides`` (None values ignored) into Settings.

    Args:
        path: the config file; None looks for one (see :func:`find_config_file`).
        overrides: explicit values (CLI flags), highest precedence.
        keywords: ``overrides`` are ``Client.from_config``'s keywords, not flags (errors
            name them so).
        environ: the environment (default ``os.environ``).
        resolve_password: run ``password_command`` to get the password (False for display).

    Raises:
        ConfigError: a file is missing, malformed, unsafe, or a value is invalid.
    """
    env = os.environ if environ is None else environ
    try:
        found = find_config_file(path)
        layers: list[tuple[str, dict[str, Any]]] = []
        if found is not None:
            layers.append((str(found), _read_file(found)))
        given = {key: env[name] for name, key in ENVIRONMENT.items() if env.get(name, "") != ""}
        layers.append(("env", given))
        explicit = {k: v for k, v in (overrides or {}).items() if v is not None}
        layers.append(("keyword" if keywords else "flag", explicit))
        values, sources = _merged(layers)
    except ConfigError as exc:
        # `mandao config show` reads these very values and would fail the same way: no
        # remedy. The message says the key, where it was set and what it takes.
        exc.remedy_included = True
        raise

    notes: list[str] = []
    if found is not None and all(key in layers[0][1] for key in _SECRET):
        notes.append(
            f"{found} sets both password and password_command: the password is used and "
            "the command is not run; remove one of them"
        )
    password: str | None = values.get("password")
    if password is None and values.get("password_command") and resolve_password:
        password = run_password_command(
            values["password_command"], where=sources["password_command"]
        )
    return Settings(values, sources, found, password, tuple(notes))
