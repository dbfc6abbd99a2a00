"""``mandao config show``: the settings in effect and where each comes from, redacted."""

from __future__ import annotations

from typing import Any

import click

from ._common import GUARD_ACTION, GUARD_WINDOW, Output, common_options
from ._groups import Commands

__all__ = ["config"]

_ORDER = ("sn", "password", "password_command", "hosts", "account_hosts", "protocol",
          "timeout", "signature", "failover", "journal")  # fmt: skip


@click.group(cls=Commands)
def config() -> None:
    """Inspect mandao's configuration (file, environment, flags)."""


def _defaults() -> dict[str, Any]:
    """What each setting is when nothing sets it (the command line's, for the guard)."""
    from .._config import DEFAULT_ACCOUNT_HOSTS, DEFAULT_HOSTS, Timeouts
    from .._journal import default_journal_location

    timeouts = Timeouts()
    return {
        "sn": None,
        "password": None,
        "hosts": list(DEFAULT_HOSTS),
        "account_hosts": list(DEFAULT_ACCOUNT_HOSTS),
        "protocol": "soap11",
        "timeout": {"connect": timeouts.connect, "read": timeouts.read},
        "signature": None,
        "journal": {
            "path": str(default_journal_location()),
            "duplicate_window": GUARD_WINDOW,
            "duplicate_action": GUARD_ACTION,
        },
    }


@config.command("show")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $MANDAO_CONFIG, ./mandao.toml, user config folder).",
)
@common_options
def show(config_path: str | None, out: Output) -> None:
    """Show each setting, its source (file, variable, or default), and which file was read;
    the password as ***.

    password_command is shown, not run. The duplicate guard's defaults are the command
    line's (send and send-file); the library's guard is off unless the file sets it.
    """
    from .._config_file import FILE_NAME, load_settings, user_config_dir

    settings = load_settings(config_path, resolve_password=False)
    values = settings.redacted()
    sources = dict(settings.sources)
    for note in settings.notes:
        out.warn(note)
    shown: dict[str, dict[str, Any]] = {}
    for key, default in _defaults().items():
        if key == "password" and "password_command" in values:
            continue
        if isinstance(default, dict):  # a table (timeout, journal): each key its source
            given = values.get(key, {})
            if key == "journal" and "url" in given:  # the URL is the journal: no file is used
                default = {"url": given["url"], **default}
                del default["path"]
            merged = {**default, **given}
            each = {sub: sources.get(f"{key}.{sub}", "default") for sub in merged}
            # One source for the table when its keys share one; else each of them, in order.
            shown[key] = {"value": merged, "source": ", ".join(dict.fromkeys(each.values())),
                          "sources": each}  # fmt: skip
        elif key not in values:
            shown[key] = {"value": default, "source": "not set" if default is None else "default"}
    for key, value in values.items():
        shown.setdefault(key, {"value": value, "source": sources[key]})
    order = [*_ORDER, *sorted(set(shown) - set(_ORDER))]
    shown = {key: shown[key] for key in order if key in shown}
    data: dict[str, Any] = {
        "file": str(settings.path) if settings.path else None,
        "searched": [f"./{FILE_NAME}", str(user_config_dir() / FILE_NAME)],
        "settings": shown,
        "notes": list(settings.notes),
    }

    def text() -> None:
        click.echo(
            f"file: {data['file'] or 'none found (looked in ' + ', '.join(data['searched']) + ')'}"
        )
        rows = []
        for key, entry in shown.items():
            value = entry["value"]
            if "sources" in entry:  # a table: a row for each key, which has its own source
                rows += [(f"{key}.{sub}", v, entry["sources"][sub]) for sub, v in value.items()]
                continue
            if value is None:
                value = "-"
            elif isinstance(value, list):
                value = ", ".join(map(str, value))
            elif isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items())
            rows.append((key, value, entry["source"]))
        width = max(len(row[0]) for row in rows)
        for key, value, source in rows:
            click.echo(f"{key:<{width}}  {value}    ({source})")

    out.result(data, text)
