"""The ``mandao`` command line.

Commands that do not talk to the gateway (``--help``, ``explain``, ``estimate``, ``codes``,
``config show``) import neither zeep nor requests: each command imports what it needs when
it runs. Exit codes: :data:`mandao.cli._common.EXIT_CODES` (docs/cli.md lists them).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, ClassVar

import click

from .._version import __version__
from ._groups import Commands

__all__ = ["main"]


def _wants_json(args: Sequence[str]) -> bool:
    """Whether ``--json`` is among the options (before a ``--``, after which all are values)."""
    options = list(args)
    if "--" in options:
        options = options[: options.index("--")]
    return "--json" in options


class _LazyGroup(Commands):
    """A group whose subcommands live in modules imported only when they run."""

    _commands: ClassVar[dict[str, tuple[str, str]]] = {
        "account": ("mandao.cli.account", "account"),
        "codes": ("mandao.cli.codes", "codes"),
        "config": ("mandao.cli.config", "config"),
        "demo": ("mandao.cli.demo", "demo"),
        "estimate": ("mandao.cli.estimate", "estimate"),
        "explain": ("mandao.cli.explain", "explain"),
        "journal": ("mandao.cli.journal", "journal"),
        "password": ("mandao.cli.password", "password"),
        "replies": ("mandao.cli.inbound", "replies"),
        "reports": ("mandao.cli.inbound", "reports"),
        "register": ("mandao.cli.account", "register"),
        "sandbox": ("mandao.cli.sandbox", "sandbox"),
        "send": ("mandao.cli.send", "send"),
        "send-file": ("mandao.cli.send_file", "send_file"),
        "suppress": ("mandao.cli.inbound", "suppress"),
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

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """click's main, with the command line's rules for what ends a command early.

        A usage error under ``--json`` is JSON too; Ctrl-C exits 130 (a command that was
        sending prints its own summary first); a confirmation answered no exits 1.
        """
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, False, **extra)
        from ._exits import EXIT_ABORTED, EXIT_INTERRUPTED
        from ._output import usage_error

        try:
            code = super().main(argv, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            usage_error(exc, _wants_json(argv))
        except click.Abort as exc:
            # click's prompts raise Abort from None on Ctrl-C: the interrupt is its context.
            at_question = isinstance(exc.__context__, KeyboardInterrupt)
            interrupted = at_question or isinstance(exc.__cause__, KeyboardInterrupt)
            row = EXIT_INTERRUPTED if interrupted else EXIT_ABORTED
            message = "aborted: nothing was sent"
            if interrupted:
                message = "interrupted (Ctrl-C)" + (": nothing was sent" if at_question else "")
            if _wants_json(argv):
                from ._output import Output

                kind = "Interrupted" if interrupted else "Aborted"
                data = {"type": kind, "message": message, "exit": row.code, "kind": row.name}
                Output(True).report(data)
            click.echo(message, err=True)
            sys.exit(row.code)
        except KeyboardInterrupt:
            click.echo("interrupted (Ctrl-C)", err=True)
            sys.exit(EXIT_INTERRUPTED.code)
        except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="mandao")
@click.option("-v", "--verbose", count=True, help="As a command's own -v; may come before it.")
@click.option(
    "--json", "as_json", is_flag=True, help="As a command's own --json; may come before it."
)
def main(verbose: int, as_json: bool) -> None:
    """mandao: send SMS through the Mandao (entinfo.cn) gateway, and test against a sandbox."""
