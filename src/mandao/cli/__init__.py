"""The ``mandao`` command line.

Commands that do not talk to the gateway (``--help``, ``explain``, ``estimate``, ``codes``,
``config show``) import neither zeep nor requests: each command imports what it needs when
it runs. Exit codes: :data:`mandao.cli._common.EXIT_CODES` (docs/cli.md lists them).
"""

from __future__ import annotations

from typing import ClassVar

import click

from .._version import __version__

__all__ = ["main"]


class _LazyGroup(click.Group):
    """A group whose subcommands live in modules imported only when they run."""

    _commands: ClassVar[dict[str, tuple[str, str]]] = {
        "account": ("mandao.cli.account", "account"),
        "codes": ("mandao.cli.codes", "codes"),
        "config": ("mandao.cli.config", "config"),
        "demo": ("mandao.cli.demo", "demo"),
        "estimate": ("mandao.cli.estimate", "estimate"),
        "explain": ("mandao.cli.explain", "explain"),
        "journal": ("mandao.cli.journal", "journal"),
        "register": ("mandao.cli.account", "register"),
        "sandbox": ("mandao.cli.sandbox", "sandbox"),
        "send": ("mandao.cli.send", "send"),
        "send-file": ("mandao.cli.send_file", "send_file"),
        "unregister": ("mandao.cli.account", "unregister"),
        "wsdl": ("mandao.cli.wsdl", "wsdl"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._commands.get(cmd_name)
        if target is None:
            return None
        import importlib

        module = importlib.import_module(target[0])
        command = getattr(module, target[1])
        if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="mandao")
def main() -> None:
    """mandao: send SMS through the Mandao (entinfo.cn) gateway, and test against a sandbox."""
