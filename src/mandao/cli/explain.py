"""``mandao explain CODE``: what a result code means and what to do."""

from __future__ import annotations

import click

from .._codes import explain as explain_code
from .._errors import ValidationError
from ._common import Output, common_options

__all__ = ["explain"]


def _negative(arg: str) -> bool:
    return arg[:1] == "-" and arg[1:].isdigit()


class _CodeCommand(click.Command):
    """Takes a negative CODE (``-20``, the usual case) as the argument it is.

    click would first look it up as an option (and load difflib to suggest one); putting
    it after ``--`` says what it is. Other unknown dashes still reach CODE's check.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" not in args and any(map(_negative, args)):
            codes = [arg for arg in args if _negative(arg)]
            args = [arg for arg in args if not _negative(arg)] + ["--", *codes]
        return super().parse_args(ctx, args)


@click.command(cls=_CodeCommand, context_settings={"ignore_unknown_options": True})
@click.argument("code")
@common_options
def explain(code: str, out: Output) -> None:
    """Explain a gateway result CODE (e.g. -20): Chinese text, English gloss, next step.

    Exits 2 when CODE is not an integer. A negative code no table knows is still shown,
    marked as unknown.
    """
    try:
        info = explain_code(code)
    except ValidationError as exc:
        raise click.BadParameter(str(exc), param_hint="CODE") from None
    data = {
        "code": info.code,
        "name": info.name,
        "category": info.category.value,
        "retry": info.retry.value,
        "chinese": info.chinese,
        "hint_zh": info.hint_zh,
        "english": info.english,
        "hint": info.hint_en,
        "known": info.known,
    }
    out.result(data, str(info))
