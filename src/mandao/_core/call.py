"""One call's attempts, as a generator of effects: every decision, none of the I/O.

In the style of h11 and httpcore: :func:`attempts` yields what it needs done and receives
what happened. A driver (``mandao._sync`` for threads) is a short loop that
carries each effect out:

* :class:`Admit` -> a :class:`Granted`: wait until the serial may send, on which host group.
* :class:`Transmit` -> :class:`Unsent` | :class:`Answered` | :class:`Unanswered` |
  :class:`Interrupted`: the driver writes the journal's ``pending`` row, sends, and
  classifies what happened on the wire (``mandao._core.wire``).
* :class:`Record` -> None: the attempt's outcome row in the journal.
* :class:`Release` -> a :class:`Released`: the request left the group; say how it went,
  and pay for a move to another group from the retry budget. One that ``linger`` s keeps
  its slot until one read timeout has passed since it was written.
* :class:`Pause` -> None: wait, before retrying a rate-limit code.

An exception the driver meets while carrying an effect out (an interrupt, a journal that
cannot write) is thrown into the generator, which settles the attempt and re-raises it.
The generator returns a :class:`Done` (result, url, seconds waited) or raises the decoded
error.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Generator, Sequence
from typing import Literal, NamedTuple

from .._codes import Category, decode
from .._config import short_host
from .._errors import AllHostsFailed, GatewayError, OutcomeUnknown, SerialBusy
from .admission import Change
from .failover import FailoverPolicy
from .wire import Unanswered, Unsent

__all__ = [
    "Admit",
    "Answered",
    "Done",
    "Effect",
    "Granted",
    "Interrupted",
    "Pause",
    "Record",
    "Release",
    "Released",
    "Transmit",
    "Unanswered",
    "Unsent",
    "attempts",
]

logger = logging.getLogger("mandao")

Outcome = Literal["accepted", "rejected", "unknown", "unreachable"]


class Admit(NamedTuple):
    """Wait for a slot of the serial on a group serving ``service``, not one in ``exclude``."""

    service: str
    exclude: frozenset[int] = frozenset()


class Granted(NamedTuple):
    """A slot on ``group``, whose URL for the service is ``url``.

    ``serving`` lists every group serving the service, with its URL, in preference order;
    ``waited`` is how long the driver waited for the slot.
    """

    group: int
    url: str
    serving: tuple[tuple[int, str], ...]
    now: float
    waited: float = 0.0


class Done(NamedTuple):
    """A call's end: the result text, the URL that answered, and seconds spent waiting for
    the serial's slots (every attempt's)."""

    result: str
    url: str
    waited: float


class Transmit(NamedTuple):
    """Journal the attempt as pending, then send the call's request to ``url``."""

    url: str


class Answered(NamedTuple):
    """The host answered with the result text ``raw`` after ``elapsed`` seconds."""

    raw: str
    elapsed: float
    now: float


class Interrupted(NamedTuple):
    """The call was interrupted (an asyncio cancellation) while it was being carried:
    ``written`` says whether any byte of the request may have left."""

    error: BaseException
    written: bool


class Record(NamedTuple):
    """Write the outcome of the attempt in progress."""

    outcome: Outcome
    result: str = ""
    detail: str = ""


class Release(NamedTuple):
    """The request to ``group`` finished; ``spend`` tokens for the next try, ``refund`` back.

    ``linger``: it went out and no answer came; its host may still be working on it.
    """

    group: int
    change: Change
    elapsed: float = 0.0
    spend: int = 0
    refund: int = 0
    linger: bool = False


class Released(NamedTuple):
    """Whether the budget paid the ``spend`` asked for."""

    paid: bool


class Pause(NamedTuple):
    """Sleep ``seconds`` before the next try."""

    seconds: float


Effect = Admit | Transmit | Record | Release | Pause
Reply = Granted | Unsent | Answered | Unanswered | Interrupted | Released | None


def attempts(
    operation: str,
    service: str,
    success: str,
    policy: FailoverPolicy,
    *,
    rrid: str | None,
    recipients: Sequence[str],
    rng: random.Random,
    sn: str = "",
) -> Generator[Effect, Reply, Done]:
    """Carry one built request to the gateway under ``policy`` (see ``docs/reliability.md``).

    Provably unsent: the next group, at once, the very same request, paid from the retry
    budget. Sent without a decodable answer: :class:`OutcomeUnknown`, never re-sent. A code
    whose ``retry`` column is ``SAME_HOST`` (-8, -18): retried after a jittered backoff, up
    to ``retry_tries`` times and within ``retry_time``; these retries do not draw from the
    failover budget.
    """
    causes: list[tuple[str, str]] = []
    tried: set[int] = set()
    retries = 0
    grant = yield from _admitted(Admit(service), operation, rrid, causes)
    started, waited = grant.now, grant.waited
    while True:
        try:
            happened = yield Transmit(grant.url)
        except BaseException as exc:
            # Whether any byte left is not known here: the slot lingers, to be safe.
            yield Release(grant.group, Change.NONE, linger=True)
            yield Record("unknown", detail=f"interrupted: {exc!r}")
            raise
        if isinstance(happened, Interrupted):
            yield Release(grant.group, Change.NONE, linger=happened.written)
            when = "after" if happened.written else "before"
            detail = f"interrupted {when} the request was written: {happened.error!r}"
            yield Record("unknown" if happened.written else "unreachable", detail=detail)
            raise happened.error
        # Each attempt releases its slot before its outcome row is written: a journal
        # that fails to write (or an interrupt there) cannot keep the serial's slot.
        if isinstance(happened, Unsent):
            causes.append((grant.url, happened.reason))
            tried.add(grant.group)
            logger.warning(
                "%s: %s unreachable (%s)", operation, short_host(grant.url), happened.reason
            )
            last = len(tried) >= len(grant.serving)
            released = yield Release(
                grant.group, Change.UNREACHABLE, spend=0 if last else policy.retry_cost
            )
            yield Record("unreachable", detail=happened.reason)
            if last:
                raise _all_failed(causes, operation, rrid)
            assert isinstance(released, Released)  # noqa: S101
            if not released.paid:
                causes.extend(
                    (url, "not tried: retry budget exhausted")
                    for group, url in grant.serving
                    if group not in tried
                )
                raise _all_failed(causes, operation, rrid)
            grant = yield from _admitted(Admit(service, frozenset(tried)), operation, rrid, causes)
            waited += grant.waited
            continue
        if isinstance(happened, Unanswered):
            yield Release(grant.group, Change.NO_ANSWER, linger=True)
            yield Record("unknown", detail=happened.error.message)
            raise happened.error
        assert isinstance(happened, Answered)  # noqa: S101
        answered = Release(grant.group, Change.ANSWERED, elapsed=happened.elapsed)
        try:
            value = decode(
                happened.raw,
                success=success,
                host=grant.url,
                operation=operation,
                rrid=rrid,
                recipients=recipients,
            )
        except GatewayError as exc:
            yield answered
            unknown = isinstance(exc, OutcomeUnknown)
            yield Record("unknown" if unknown else "rejected", result=str(exc.code))
            if exc.info.category is Category.CONCURRENT:
                logger.error(
                    "%s: %s answered %s: this serial is in use on another host at the same"
                    " time; another client shares serial %s. Not retried.",
                    operation,
                    short_host(grant.url),
                    exc.code,
                    sn,
                )
            delay = policy.retry_delay(
                exc.info.retry, retries=retries, elapsed=happened.now - started, rng=rng
            )
            if delay is None:
                raise
            retries += 1
            logger.info(
                "%s: %s answered %s; retry %d in %.2fs",
                operation,
                short_host(grant.url),
                exc.code,
                retries,
                delay,
            )
            yield Pause(delay)
            grant = yield from _admitted(Admit(service), operation, rrid, causes)
            waited += grant.waited
            continue
        except OutcomeUnknown as exc:
            yield answered
            yield Record("unknown", detail=exc.message)
            raise
        yield answered._replace(refund=policy.success_refund)
        yield Record("accepted", result=value)
        return Done(value, grant.url, waited)


def _admitted(
    admit: Admit, operation: str, rrid: str | None, causes: list[tuple[str, str]]
) -> Generator[Effect, Reply, Granted]:
    """The grant of ``admit``; a SerialBusy the driver throws names the call and what the
    hosts tried before said."""
    try:
        grant = yield admit
    except SerialBusy as exc:
        exc.operation, exc.rrid, exc.causes = operation, rrid, tuple(causes)
        raise
    assert isinstance(grant, Granted)  # noqa: S101 (the driver's contract)
    return grant


def _all_failed(causes: list[tuple[str, str]], operation: str, rrid: str | None) -> AllHostsFailed:
    return AllHostsFailed(
        "no host took the request: "
        + "; ".join(f"{short_host(host)}: {cause}" for host, cause in causes),
        causes=tuple(causes),
        operation=operation,
        rrid=rrid,
    )
