"""``mandao explain CODE``: what a result code means and what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .._codes import explain as explain_code
from .._errors import ValidationError
from ._common import Output, common_options

if TYPE_CHECKING:
    from .._code_info import CodeInfo

__all__ = ["explain"]


def _negative(arg: str) -> bool:
    return arg[:1] == "-" and arg[1:].isdigit()


class _CodeCommand(click.Command):
    """Takes a negative CODE (``-20``, the usual case) as the argument it is.

    click would first look it up as an option (and load difflib to suggest one); putting
    it after ``--`` says what it is. Other unknown dashes still reach CODE's check.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        known = {opt for param in self.get_params(ctx) for opt in getattr(param, "opts", [])}
        for arg in args[: args.index("--")] if "--" in args else args:
            if arg.startswith("--") and arg != "--" and arg.split("=")[0] not in known:
                raise click.NoSuchOption(arg, ctx=ctx)
        if "--" not in args and any(map(_negative, args)):
            codes = [arg for arg in args if _negative(arg)]
            args = [arg for arg in args if not _negative(arg)] + ["--", *codes]
        return super().parse_args(ctx, args)


def _row(info: CodeInfo) -> dict[str, Any]:
    return {
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


@click.command(cls=_CodeCommand, context_settings={"ignore_unknown_options": True})
@click.argument("code")
@common_options
def explain(code: str, out: Output) -> None:
    """Explain a gateway result CODE (-20, say) or its name (DUPLICATE_SUBMISSION):
    Chinese text, English gloss, next step.

    A positive CODE is a send's id (success); when the negative code of the same digits
    is a known error, it is shown too (a forgotten minus sign). Exits 2 for a CODE that
    is neither a number nor a name. A negative code no table knows is still shown,
    marked as unknown.
    """
    try:
        info = explain_code(code)
    except ValidationError as exc:
        message = exc.message.removeprefix("code: ")
        message = message.replace("(mandao.CODES lists them)", "(`mandao codes` lists them all)")
        raise click.BadParameter(message, param_hint="CODE") from None
    data = _row(info)
    meant = explain_code(-info.code) if info.code > 0 else None
    if meant is not None and meant.known:
        note = (
            f"{info.code} is a success (a send's id), not an error code; "
            f"you probably meant {meant.code} ({meant.name}):"
        )
        data["probably"] = {"note": note, **_row(meant)}
        out.result(data, f"{note}\n{meant}")
        return
    out.result(data, str(info))
