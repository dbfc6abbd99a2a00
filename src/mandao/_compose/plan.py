"""Splitting a send into requests: their fields, recipients, rrids and cost, checked and
encoded before anything is sent.

The gateway takes at most 10000 numbers a request (5000 recommended; 1000 for
``mdgxsend``). Carrying the requests out, one after another, is the core's job
(``mandao._core.batches``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from .._config import DEFAULT_BATCH, DEFAULT_GX_BATCH
from .._errors import ValidationError
from . import chunked
from .content import ContentRules, choose_msgfmt, encode_content, encode_contents, outside
from .fields import validate_fields
from .numbers import Numbers, Recipients, collect_mobiles, normalized, repeats
from .rrid import make_rrid
from .segments import Estimate, estimate, measure_many, segments

__all__ = [
    "Plan",
    "Planned",
    "RepeatedNumberWarning",
    "check_options",
    "group_requests",
    "plan_group",
    "plan_many",
    "plan_personal",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Planned:
    """One request to make: its operation, its fields (no sn/pwd), whom it reaches, its cost."""

    operation: str
    fields: dict[str, str] = field(repr=False)
    recipients: Numbers = field(repr=False)
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


def _pair_rrids(given: object, found: Recipients, kept: int) -> list[str]:
    """One rrid per pair given (vendor: ``mdgxsend`` may carry one per mobile), checked,
    then those of the pairs kept (not skipped, not an identical pair seen before)."""
    rrids = list(given) if isinstance(given, Iterable) else None
    total = kept + len(found.skipped) + len(found.duplicates)
    if rrids is None or any(
        not isinstance(r, str) or not r.isdigit() or not r.isascii() or len(r) > 18 for r in rrids
    ):
        raise ValidationError(
            f"expected up to 18 digits, or a list of them (one per pair), got {given!r}",
            argument="rrid",
        )
    if len(rrids) != total:  # the gateway's -626
        raise ValidationError(
            f"{len(rrids)} rrids for {total} (mobile, content) pairs: give one per pair",
            argument="rrid",
        )
    dropped = {p for p, *_ in found.skipped} | {p for p, _ in found.duplicates}
    return [r for position, r in enumerate(rrids) if position not in dropped]


def _spans(n: int, size: int) -> Iterator[tuple[int, int]]:
    return ((start, min(start + size, n)) for start in range(0, n, size))


def group_requests(
    numbers: Numbers, text: str, common: Mapping[str, str], size: int
) -> list[Planned]:
    """``mdsmssend`` requests of ``text`` to ``numbers``, ``size`` numbers each."""
    content = encode_content(text)
    per = segments(text)
    spans = list(_spans(len(numbers), size))
    rrids = _rrids(common.get("rrid", ""), len(spans))
    planned = []
    for (start, stop), rrid in zip(spans, rrids, strict=True):
        chunk = numbers[start:stop]
        fields = {**common, "mobile": chunk.joined, "content": content, "rrid": rrid}
        planned.append(
            Planned(
                operation="mdsmssend", fields=fields, recipients=chunk, billable=per * len(chunk)
            )
        )
    return planned


def _personal(
    numbers: Numbers,
    texts: Sequence[str],
    common: Mapping[str, str],
    size: int,
    parts: Sequence[int],
    per_pair: Sequence[str],
) -> list[Planned]:
    """``mdgxsend`` requests of parallel ``numbers`` and ``texts``, ``size`` pairs each.

    ``parts`` holds each text's segments (computed once by the caller); ``per_pair``, when
    given, each pair's rrid (sent comma-joined, one per mobile).
    """
    spans = list(_spans(len(numbers), size))
    rrids = (
        [",".join(per_pair[start:stop]) for start, stop in spans]
        if per_pair
        else _rrids(common.get("rrid", ""), len(spans))
    )
    planned = []
    for (start, stop), rrid in zip(spans, rrids, strict=True):
        chunk = numbers[start:stop]
        fields = {
            **common,
            "mobile": chunk.joined,
            "content": encode_contents(texts[start:stop]),
            "rrid": rrid,
        }
        billable = sum(parts[start:stop])
        planned.append(
            Planned(operation="mdgxsend", fields=fields, recipients=chunk, billable=billable)
        )
    return planned


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """Every request of one call, checked and encoded, before anything is sent."""

    requests: list[Planned] = field(repr=False)
    recipients: Numbers = field(repr=False)
    estimate: Estimate
    scheduled: str
    skipped: tuple[tuple[int, str, str], ...] = ()
    duplicates: tuple[tuple[int, str], ...] = ()
    #: When the duplicate guard looked: the journal's last seq then, and the guard's
    #: window (None: it did not look, or only warns). Each request's ``pending`` row is
    #: written only if no other call's attempt since sent one of its numbers the same
    #: text (``mandao._journal.guards.unseen_for``).
    screened: tuple[int, timedelta] | None = None
    #: Whether the caller gave the rrids (the journal is asked if they were sent before).
    rrid_given: bool = False


#: The client's method of each kind of plan, and the vendor's names of our options.
_METHODS = {"group": "send", "personal": "send_personalized", "many": "send_many"}
_OURS = {"stime": "at"}


def check_options(kind: str, options: Mapping[str, object], known: Iterable[str]) -> None:
    """Refuse an option the send method of ``kind`` does not take, before anything is
    planned (a ``stime=`` would otherwise be dropped, and the send go at once).

    >>> check_options("group", {"stime": "2026-12-12 09:00:00"}, ["at", "ext"])
    Traceback (most recent call last):
    ...
    TypeError: send() got an unexpected keyword argument 'stime' (did you mean at=?)
    """
    if unknown := sorted(set(options).difference(known)):
        name = unknown[0]
        meant = f" (did you mean {_OURS[name]}=?)" if name in _OURS else ""
        raise TypeError(f"{_METHODS[kind]}() got an unexpected keyword argument {name!r}{meant}")


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
    return _plan(requests, found, cost, common)


def _plan(
    requests: list[Planned],
    found: Recipients,
    cost: Estimate,
    common: Mapping[str, str],
    given: bool = False,
) -> Plan:
    return Plan(
        requests=requests,
        recipients=found.numbers,
        estimate=cost,
        scheduled=common["stime"],
        skipped=found.skipped,
        duplicates=found.duplicates,
        rrid_given=given or bool(common["rrid"]),
    )


def _pairs(messages: object) -> tuple[list[Any], list[Any]]:
    """The mobiles and the contents of ``messages``, as two parallel sequences.

    Read from the caller's own list or tuple, not from a copy, and no pair made per item:
    a million new objects would be for the garbage collector to walk, several times.
    """
    if isinstance(messages, Mapping):
        if not messages:
            raise ValidationError("no messages given", argument="messages")
        return chunked.listed(messages.keys()), chunked.listed(messages.values())
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Iterable):
        raise ValidationError(
            f"expected a mapping or (mobile, content) pairs, got {type(messages).__name__}",
            argument="messages",
        )
    pairs = messages if isinstance(messages, (list, tuple)) else chunked.listed(messages)
    # Plain 2-tuples throughout (the common case) are checked by C-level passes.
    if not all(
        set(map(type, p)) <= {tuple} and set(map(len, p)) <= {2} for p in chunked.pieces(pairs)
    ):
        for position, pair in enumerate(pairs):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise ValidationError(
                    f"item #{position} is not a (mobile, content) pair: {pair!r}",
                    argument="messages",
                )
    if not pairs:
        raise ValidationError("no messages given", argument="messages")
    return chunked.listed(map(itemgetter(0), pairs)), chunked.listed(map(itemgetter(1), pairs))


def _checked(
    rules: ContentRules, messages: object, msgfmt: str, skip_invalid: bool
) -> tuple[Numbers, list[str], Recipients]:
    """Normalised numbers and their texts (identical pairs once), and what was left out."""
    mobiles, given = _pairs(messages)
    numbers, items, skipped, positions = normalized(mobiles, skip_invalid=skip_invalid)
    contents = [given[p] for p in positions] if positions else given
    texts = rules.prepare_many(contents, msgfmt, "messages[{}] content", positions)
    if not repeats(numbers, items):  # no number twice: no pair twice
        return numbers, texts, Recipients(numbers, skipped, ())
    order = positions or range(len(mobiles))
    seen: dict[tuple[str, str], None] = {}
    duplicates: list[tuple[int, str]] = []
    first: dict[str, int] = {}  # each number's first position
    again: list[tuple[int, int, str]] = []  # (position, first position, number): a new text
    for pair, position in zip(zip(items, texts, strict=True), order, strict=True):
        if pair in seen:
            duplicates.append((position, pair[0]))
        else:
            seen[pair] = None
            if (was := first.setdefault(pair[0], position)) != position:
                again.append((position, was, pair[0]))
    if again:
        _warn_repeated(again)
    unique = Numbers._of(chunked.join(",", (number for number, _ in seen)))
    kept = [text for _, text in seen]
    return unique, kept, Recipients(unique, skipped, tuple(duplicates))


class RepeatedNumberWarning(UserWarning):
    """A number is given twice with different texts: it gets each of them."""


#: Repeats a warning names; the others are counted.
_NAMED = 5


def _warn_repeated(again: list[tuple[int, int, str]]) -> None:
    """One warning naming the items that give a number another text than its first."""
    named = "; ".join(
        f"messages[{position}] gives {number} another text than messages[{was}]"
        for position, was, number in again[:_NAMED]
    )
    more = f" (and {len(again) - _NAMED} more)" if len(again) > _NAMED else ""
    warnings.warn(
        f"{named}{more}: each of those numbers gets every text it is given; give a number "
        "once to send it one text",
        RepeatedNumberWarning,
        stacklevel=outside(),
    )


def _estimate(parts: list[int], longest: int) -> Estimate:
    """The estimate of texts of ``parts`` segments each, the longest ``longest`` characters."""
    most = billable = 0
    for piece in chunked.pieces(parts):  # piece by piece (see chunked)
        most, billable = max(most, max(piece)), billable + sum(piece)
    return Estimate(longest, most, len(parts), billable)


def plan_personal(
    rules: ContentRules,
    messages: object,
    *,
    size: int,
    skip_invalid: bool = False,
    **fields: Any,
) -> Plan:
    """The ``mdgxsend`` requests of :meth:`~mandao.Client.send_personalized`."""
    given = fields.get("rrid")
    per_pair = given is not None and not isinstance(given, str)  # one rrid per pair
    common = _common(**{**fields, "rrid": None}) if per_pair else _common(**fields)
    numbers, texts, found = _checked(rules, messages, common["msgfmt"], skip_invalid)
    rrids = _pair_rrids(given, found, len(texts)) if per_pair else []
    if not common["msgfmt"]:
        ascii_only = all(all(map(str.isascii, p)) for p in chunked.pieces(texts))
        common["msgfmt"] = "0" if ascii_only else "15"
    parts, longest = measure_many(texts)
    cost = _estimate(parts, longest)
    requests = _personal(numbers, texts, common, size, parts, rrids)
    return _plan(requests, found, cost, common, given=per_pair)


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
    numbers, texts, found = _checked(rules, messages, given_fmt, skip_invalid)
    # Each text's first number, and the numbers of those texts several numbers share: not
    # a list (nor a pair) per text, a million objects for the collector to walk.
    first: dict[str, str] = {}
    shared: dict[str, list[str]] = {}
    for number, text in zip(numbers, texts, strict=True):
        if text not in first:
            first[text] = number
        elif text in shared:
            shared[text].append(number)
        else:
            shared[text] = [first[text], number]
    requests: list[Planned] = []
    alone: list[str] = []
    for text, number in first.items():
        if text in shared:
            group = {**common, "msgfmt": choose_msgfmt(text, given_fmt)}
            to = Numbers._of(chunked.join(",", shared[text]))
            requests += group_requests(to, text, group, size or DEFAULT_BATCH)
        else:
            alone.append(number)
    if alone:
        single = [text for text in first if text not in shared]
        ascii_only = all(text.isascii() for text in single)
        gx = {**common, "msgfmt": given_fmt or ("0" if ascii_only else "15")}
        to = Numbers._of(chunked.join(",", alone))
        parts = measure_many(single)[0]
        requests += _personal(to, single, gx, size or DEFAULT_GX_BATCH, parts, ())
    return _plan(requests, found, _estimate(*measure_many(texts)), common)
