"""``mandao explain CODE``: what a result code means and what to do."""

from __future__ import annotations

import click

from .._codes import explain as explain_code
from .._errors import ValidationError
from ._common import Output, common_options

__all__ = ["explain"]


@click.command(context_settings={"ignore_unknown_options": True})
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
