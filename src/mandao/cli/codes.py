"""``mandao codes``: the whole result-code table, offline."""

from __future__ import annotations

import click

from ._common import Output, common_options

__all__ = ["codes"]


@click.command()
@common_options
def codes(out: Output) -> None:
    """Print every result code: name, kind, retry (no, same_host, never), Chinese text and
    English gloss."""
    from .._codes import CODES

    rows = list(CODES.values())
    data = [
        {
            "code": info.code,
            "name": info.name,
            "category": info.category.value,
            "retry": info.retry.value,
            "chinese": info.chinese,
            "english": info.english,
            "hint": info.hint_en,
        }
        for info in rows
    ]

    def show() -> None:
        click.echo(f"{'code':>5}  {'name':<28} {'kind':<12} {'retry':<9}  Chinese / English")
        for info in rows:
            click.echo(
                f"{info.code:>5}  {info.name:<28} {info.category.value:<12} "
                f"{info.retry.value:<9}  {info.chinese}"
            )
            click.echo(f"{'':>5}  {'':<28} {'':<12} {'':<9}  {info.english}")

    out.result(data, show)
