"""``mandao estimate TEXT``: characters, segments and billable messages, offline."""

from __future__ import annotations

import dataclasses

import click

from ._common import Output, common_options

__all__ = ["estimate"]


@click.command()
@click.argument("text")
@click.option("--recipients", "-n", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--signature", help="Count 【SIGNATURE】 as the client would add it.")
@common_options
def estimate(text: str, recipients: int, signature: str | None, out: Output) -> None:
    """What TEXT costs: characters, segments per message, billable messages (no network)."""
    from .._compose.content import ContentRules
    from .._compose.content import estimate as estimate_text

    rules = ContentRules(signature=signature, require_signature=False, unencodable="allow")
    prepared = rules.prepare(text, "")
    cost = estimate_text(prepared, recipients=recipients)
    data = {"text": prepared, **dataclasses.asdict(cost)}
    out.result(
        data,
        f"{cost.characters} characters, {cost.segments} segment(s), "
        f"{cost.recipients} recipient(s): {cost.billable} billable",
    )
