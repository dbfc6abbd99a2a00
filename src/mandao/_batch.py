"""Splitting a send into requests, and carrying them out one after another.

The gateway takes at most 10000 numbers a request (5000 recommended; 1000 for
``mdgxsend``) and does not want parallel submits from one serial, so batches go in
order. The first failure stops the call: if nothing went out it is raised; otherwise the
result says which batches were sent, refused, of unknown outcome, or never attempted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ._compose import (
    ContentRules,
    Estimate,
    Recipients,
    choose_msgfmt,
    collect_mobiles,
    encode_content,
    estimate,
    normalized_with_positions,
    segments,
    validate_fields,
)
from ._config import DEFAULT_BATCH, DEFAULT_GX_BATCH
from ._errors import GatewayError, GatewayUnreachable, OutcomeUnknown, ValidationError
from ._results import Batch, BatchState, SendResult
from ._rrid import make_rrid

__all__ = [
    "Plan",
    "Planned",
    "group_requests",
    "personal_requests",
    "plan_group",
    "plan_many",
    "plan_personal",
    "run",
]


#: Carries one request: (operation, fields, recipients) -> (result, host, protocol).
Call = Callable[[str, Mapping[str, str], tuple[str, ...]], tuple[str, str, str]]


@dataclass(frozen=True)
class Planned:
    """One request to make: its operation, its fields (no sn/pwd), whom it reaches, its cost."""

    operation: str
    fields: dict[str, str] = field(repr=False)
    recipients: tuple[str, ...] = field(repr=False)
    billable: int


def _rrids(rrid: str, n: int) -> list[str]:
    """One rrid per batch: the given one, then the next numbers (same width), or fresh ones."""
    if not rrid:
        return [make_rrid() for _ in range(n)]
    if n == 1:
        return [rrid]
    last = int(rrid) + n - 1
    if len(str(last)) > 18:
        raise ValidationError(
            f"{n} batches need rrids {rrid} … {last}, which pass 18 digits", argument="rrid"
        )
    return [f"{int(rrid) + i:0{len(rrid)}d}" for i in range(n)]


def _spans(n: int, size: int) -> Iterator[tuple[int, int]]:
    return ((start, min(start + size, n)) for start in range(0, n, size))


def group_requests(
    numbers: Sequence[str], text: str, common: Mapping[str, str], size: int
) -> list[Planned]:
    """``mdsmssend`` requests of ``text`` to ``numbers``, ``size`` numbers each."""
    content = encode_content(text)
    per = segments(text)
    spans = list(_spans(len(numbers), size))
    rrids = _rrids(common.get("rrid", ""), len(spans))
    planned = []
    for (start, stop), rrid in zip(spans, rrids, strict=True):
        chunk = tuple(numbers[start:stop])
        fields = {**common, "mobile": ",".join(chunk), "content": content, "rrid": rrid}
        planned.append(Planned("mdsmssend", fields, chunk, per * len(chunk)))
    return planned


def personal_requests(
    pairs: Sequence[tuple[str, str]],
    common: Mapping[str, str],
    size: int,
    parts: Sequence[int] = (),
) -> list[Planned]:
    """``mdgxsend`` requests of ``(number, text)`` pairs, ``size`` pairs each.

    ``parts``, when given, holds each text's segments (computed once by the caller).
    """
    spans = list(_spans(len(pairs), size))
    rrids = _rrids(common.get("rrid", ""), len(spans))
    planned = []
    for (start, stop), rrid in zip(spans, rrids, strict=True):
        chunk = pairs[start:stop]
        fields = {
            **common,
            "mobile": ",".join(number for number, _ in chunk),
            "content": ",".join(encode_content(text) for _, text in chunk),
            "rrid": rrid,
        }
        cost = sum(parts[start:stop]) if parts else sum(segments(text) for _, text in chunk)
        planned.append(Planned("mdgxsend", fields, tuple(n for n, _ in chunk), cost))
    return planned


def run(
    planned: Sequence[Planned],
    call: Call,
    *,
    recipients: tuple[str, ...],
    segments: int,
    scheduled: str,
    skipped: tuple[tuple[int, str, str], ...] = (),
    duplicates: tuple[tuple[int, str], ...] = (),
    progress: Callable[[Batch], object] | None = None,
) -> SendResult:
    """Make ``planned`` requests in order; the first failure stops the call (see module doc)."""
    total = len(planned)
    batches: list[Batch] = []
    protocol = ""
    for index, request in enumerate(planned):
        rrid = request.fields.get("rrid") or None
        try:
            result, host, protocol = call(request.operation, request.fields, request.recipients)
        except (GatewayError, OutcomeUnknown, GatewayUnreachable) as exc:
            if index == 0:
                raise
            state: BatchState = "unknown" if isinstance(exc, OutcomeUnknown) else "failed"
            batch = Batch(
                index, total, request.operation, request.recipients, state,
                request.billable, None, rrid, exc.host, exc,
            )  # fmt: skip
            batches.append(batch)
            batches.extend(
                Batch(i, total, p.operation, p.recipients, "not_sent", p.billable,
                      None, p.fields.get("rrid") or None)
                for i, p in enumerate(planned[index + 1 :], start=index + 1)
            )  # fmt: skip
            if progress is not None:
                progress(batch)
            break
        batch = Batch(
            index, total, request.operation, request.recipients, "sent", request.billable,
            result, rrid, host,
        )  # fmt: skip
        batches.append(batch)
        if progress is not None:
            progress(batch)
    first = batches[0]
    operations = "+".join(dict.fromkeys(p.operation for p in planned))
    return SendResult(
        first.id or "", first.rrid, operations, first.host or "", protocol, recipients,
        segments, sum(b.billable for b in batches if b.state == "sent"), scheduled,
        tuple(batches), skipped, duplicates,
    )  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """Every request of one call, checked and encoded, before anything is sent."""

    requests: list[Planned] = field(repr=False)
    recipients: tuple[str, ...] = field(repr=False)
    estimate: Estimate
    scheduled: str
    skipped: tuple[tuple[int, str, str], ...] = ()
    duplicates: tuple[tuple[int, str], ...] = ()


def _common(
    *, ext: str, at: datetime | str | None, rrid: str | None, msgfmt: str | int | None
) -> dict[str, str]:
    ext, stime, rrid_field, fmt = validate_fields(ext=ext, rrid=rrid, msgfmt=msgfmt, at=at)
    return {"ext": ext, "stime": stime, "rrid": rrid_field, "msgfmt": fmt}


def plan_group(
    rules: ContentRules,
    mobiles: str | Iterable[str],
    content: object,
    *,
    size: int,
    skip_invalid: bool = False,
    **fields: Any,
) -> Plan:
    """The ``mdsmssend`` requests of :meth:`~mandao.Client.send`."""
    common = _common(**fields)
    found = collect_mobiles(mobiles, skip_invalid=skip_invalid)
    text = rules.prepare(content, common["msgfmt"])
    common["msgfmt"] = choose_msgfmt(text, common["msgfmt"])
    requests = group_requests(found.numbers, text, common, size)
    cost = estimate(text, recipients=len(found.numbers))
    return Plan(requests, found.numbers, cost, common["stime"], found.skipped, found.duplicates)


def _pairs(messages: object) -> list[tuple[Any, Any]]:
    if isinstance(messages, Mapping):
        pairs = list(messages.items())
    elif isinstance(messages, (str, bytes)) or not isinstance(messages, Iterable):
        raise ValidationError(
            f"expected a mapping or (mobile, content) pairs, got {type(messages).__name__}",
            argument="messages",
        )
    else:
        pairs = list(messages)
    for position, pair in enumerate(pairs):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValidationError(
                f"item #{position} is not a (mobile, content) pair: {pair!r}",
                argument="messages",
            )
    if not pairs:
        raise ValidationError("no messages given", argument="messages")
    return pairs


def _checked_pairs(
    rules: ContentRules, messages: object, msgfmt: str, skip_invalid: bool
) -> tuple[list[tuple[str, str]], Recipients]:
    """Normalised (number, text) pairs, identical pairs once, and what was left out."""
    raw = _pairs(messages)
    numbers, skipped, positions = normalized_with_positions(
        [mobile for mobile, _ in raw], skip_invalid=skip_invalid
    )
    order = positions or range(len(raw))
    texts = rules.prepare_many(
        [raw[position][1] for position in order], msgfmt, "messages[{}] content", positions
    )
    pairs = list(zip(numbers, texts, strict=True))
    if len(set(pairs)) == len(pairs):
        return pairs, Recipients(tuple(numbers), skipped, ())
    seen: dict[tuple[str, str], None] = {}
    duplicates: list[tuple[int, str]] = []
    for pair, position in zip(pairs, order, strict=True):
        if pair in seen:
            duplicates.append((position, pair[0]))
        else:
            seen[pair] = None
    unique = list(seen)
    return unique, Recipients(tuple(n for n, _ in unique), skipped, tuple(duplicates))


def _measure(pairs: Sequence[tuple[str, str]]) -> tuple[list[int], Estimate]:
    """Each text's segments, and the estimate of them all (the longest text's characters)."""
    parts = [segments(text) for _, text in pairs]
    longest = max(pairs, key=lambda pair: len(pair[1]))[1]
    # len() orders texts by UTF-16 units too, unless astral characters (emoji) are about.
    characters = (
        max(estimate(text).characters for _, text in pairs)
        if any(
            not text.isascii() and len(text.encode("utf-16-le")) != 2 * len(text)
            for _, text in pairs
        )
        else estimate(longest).characters
    )
    return parts, Estimate(characters, max(parts), len(pairs), sum(parts))


def plan_personal(
    rules: ContentRules,
    messages: object,
    *,
    size: int,
    skip_invalid: bool = False,
    **fields: Any,
) -> Plan:
    """The ``mdgxsend`` requests of :meth:`~mandao.Client.send_personalized`."""
    common = _common(**fields)
    pairs, found = _checked_pairs(rules, messages, common["msgfmt"], skip_invalid)
    if not common["msgfmt"]:
        ascii_only = all(text.isascii() for _, text in pairs)
        common["msgfmt"] = "0" if ascii_only else "15"
    parts, cost = _measure(pairs)
    requests = personal_requests(pairs, common, size, parts)
    return Plan(
        requests, found.numbers, cost, common["stime"],
        found.skipped, found.duplicates,
    )  # fmt: skip


def plan_many(
    rules: ContentRules,
    messages: object,
    *,
    size: int | None,
    skip_invalid: bool = False,
    **fields: Any,
) -> Plan:
    """:meth:`~mandao.Client.send_many`: a text shared by several numbers goes as
    ``mdsmssend`` batches (vendor doc §4.3), every other pair in ``mdgxsend`` batches."""
    common = _common(**fields)
    given_fmt = common["msgfmt"]
    pairs, found = _checked_pairs(rules, messages, given_fmt, skip_invalid)
    by_text: dict[str, list[str]] = {}
    for number, text in pairs:
        by_text.setdefault(text, []).append(number)
    requests: list[Planned] = []
    single: list[tuple[str, str]] = []
    for text, numbers in by_text.items():
        if len(numbers) > 1:
            group = {**common, "msgfmt": choose_msgfmt(text, given_fmt)}
            requests += group_requests(numbers, text, group, size or DEFAULT_BATCH)
        else:
            single.append((numbers[0], text))
    if single:
        ascii_only = all(text.isascii() for _, text in single)
        gx = {**common, "msgfmt": given_fmt or ("0" if ascii_only else "15")}
        requests += personal_requests(single, gx, size or DEFAULT_GX_BATCH)
    return Plan(
        requests, found.numbers, _measure(pairs)[1], common["stime"],
        found.skipped, found.duplicates,
    )  # fmt: skip
