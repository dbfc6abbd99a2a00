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
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import ConfigError

# tomllib, shlex, stat and subprocess are imported where they are used: `mandao explain`
# and the other offline commands import this module (for ConfigError) and must start fast.

__all__ = [
    "ENVIRONMENT",
    "FILE_KEYS",
    "ConfigError",
    "Settings",
    "find_config_file",
    "load_settings",
    "parse_timeout",
    "user_cache_dir",
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
    "failover": "a table of FailoverPolicy fields (slow_threshold, cooldown, ...)",
}

_SECRET = ("password", "password_command")
_LISTS = ("hosts", "account_hosts")


def user_config_dir() -> Path:
    """The user config folder (platformdirs; ``$XDG_CONFIG_HOME/mandao`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("mandao", appauthor=False))


def user_cache_dir() -> Path:
    """The user cache folder (platformdirs; ``$XDG_CACHE_HOME/mandao`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("mandao", appauthor=False))


@dataclass(frozen=True)
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
            from ._failover import FailoverPolicy

            try:
                out["failover"] = FailoverPolicy(**self.values["failover"])
            except TypeError as exc:
                raise ConfigError(f"failover: {exc}", path=self.path) from None
        if self.password is not None:
            out["password"] = self.password
        return out

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
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - 3.10 only
        import tomli as tomllib

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

    >>> parse_timeout("5,30", where="MANDAO_TIMEOUT")
    (5.0, 30.0)
    """
    try:
        if isinstance(value, dict):
            from ._config import Timeouts

            unknown = set(value) - {"connect", "read"}
            if unknown:
                raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
            base = Timeouts()
            pair = (float(value.get("connect", base.connect)), float(value.get("read", base.read)))
        elif isinstance(value, str):
            parts = [float(p) for p in value.split(",")]
            if len(parts) not in (1, 2):
                raise ValueError("expected SECONDS or CONNECT,READ")
            pair = (parts[0], parts[-1])
        elif isinstance(value, (list, tuple)) and len(value) == 2:
            pair = (float(value[0]), float(value[1]))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            pair = (float(value), float(value))
        else:
            raise ValueError("expected seconds, CONNECT,READ or {connect, read}")
        if min(pair) <= 0:
            raise ValueError("expected positive seconds")
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"timeout ({where}): {exc}: {value!r}") from None
    return pair


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
            values[key] = _normalise(key, value, where)
            sources[key] = where

    password: str | None = values.get("password")
    if password is None and values.get("password_command") and resolve_password:
        password = run_password_command(values["password_command"])
    return Settings(values, sources, found, password)
