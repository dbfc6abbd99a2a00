"""``mandao config show``: the settings in effect and where each comes from, redacted."""

from __future__ import annotations

from typing import Any

import click

from ._common import Output, common_options

__all__ = ["config"]


@click.group()
def config() -> None:
    """Inspect mandao's configuration (file, environment, flags)."""


@config.command("show")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $MANDAO_CONFIG, ./mandao.toml, user config folder).",
)
@common_options
def show(config_path: str | None, out: Output) -> None:
    """Show each setting, its source, and which file was read; the password as ***.

    password_command is shown, not run.
    """
    from .._config_file import FILE_NAME, load_settings, user_config_dir

    settings = load_settings(config_path, resolve_password=False)
    values = settings.redacted()
    data: dict[str, Any] = {
        "file": str(settings.path) if settings.path else None,
        "searched": [f"./{FILE_NAME}", str(user_config_dir() / FILE_NAME)],
        "settings": {
            key: {"value": value, "source": settings.sources[key]} for key, value in values.items()
        },
    }

    def text() -> None:
        click.echo(
            f"file: {data['file'] or 'none found (looked in ' + ', '.join(data['searched']) + ')'}"
        )
        if not values:
            click.echo("no settings (see `mandao config show --help` and docs/cli.md)")
        width = max((len(k) for k in values), default=0)
        for key, value in values.items():
            click.echo(f"{key:<{width}}  {value}    ({settings.sources[key]})")

    out.result(data, text)
