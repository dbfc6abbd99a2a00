"""Command groups that answer a mistyped command with the commands it may have meant."""

from __future__ import annotations

import difflib

import click

__all__ = ["Commands", "NoSuchCommand"]


class NoSuchCommand(click.UsageError):
    """``name`` is none of the group's commands; ``possibilities`` are those close to it."""

    def __init__(self, name: str, possibilities: list[str], ctx: click.Context) -> None:
        super().__init__(f"No such command {name!r}.", ctx)
        self.possibilities = possibilities


class Commands(click.Group):
    """A click group whose unknown command is a :class:`NoSuchCommand`."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        # An option in a command's place is click's to report (no such option).
        if name[:1].isalnum() and not ctx.resilient_parsing and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.6)
            raise NoSuchCommand(name, close, ctx)
        return super().resolve_command(ctx, args)
