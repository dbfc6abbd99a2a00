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

A call has one :class:`Deadline` (``Timeouts.total``, on the driver's clock): an Admit
carries it, so the driver waits no longer for a slot; a Transmit carries what is left, so
the attempt's connect and read timeouts are cut to it; no pause ends past it; and once it
has passed, no attempt starts (:class:`~mandao.DeadlineExceeded`: not sent). Whatever
stops a not-sent call at its deadline (a retry code whose pause would end past it, a
connect cut short, a wait for the slot), it ends as that one DeadlineExceeded, with what
each host said among its ``causes``.

An exception the driver meets while carrying an effect out (an interrupt, a journal that
cannot write) is thrown into the generator, which settles the attempt and re-raises it.
The generator returns a :class:`Done` (result, url, seconds waited) or raises the decoded
error.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Generator, Sequence
from typing import Literal, NamedTuple

from .._codes import Category, decode
from .._config import short_host
from .._errors import (
    AllHostsFailed,
    DeadlineExceeded,
    GatewayError,
    OutcomeUnknown,
    SerialBusy,
)
from .admission import Change
from .failover import FailoverPolicy, still_working
from .wire import Misconfigured, Unanswered, Unsent

__all__ = [
    "RETRY_ROOM",
    "Admit",
    "Answered",
    "Deadline",
    "Done",
    "Effect",
    "Granted",
    "Interrupted",
    "Misconfigured",
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


class Deadline(NamedTuple):
    """When a call must be over: ``at`` on the driver's ``clock``, ``total`` seconds after
    it began."""

    at: float
    total: float
    clock: Callable[[], float]

    @classmethod
    def after(cls, total: float, clock: Callable[[], float]) -> Deadline:
        """The deadline ``total`` seconds from now on ``clock``."""
        return cls(clock() + total, total, clock)

    def left(self) -> float:
        """Seconds left (0 or less once it has passed)."""
        return self.at - self.clock()


class Admit(NamedTuple):
    """Wait for a slot of the serial on a group serving ``service``, not one in ``exclude``;
    never past ``until`` (the call's deadline, on the driver's clock; None: no deadline)."""

    service: str
    exclude: frozenset[int] = frozenset()
    until: float | None = None

    def wait(self, wait: float, now: float) -> float:
        """Seconds to wait for the slot: ``wait``, cut to what is left before ``until``."""
        return wait if self.until is None else max(0.0, min(wait, self.until - now))


class Granted(NamedTuple):
    """A slot on ``group``, whose URL for the service is ``url``.

    ``serving`` lists every group serving the service, with its URL, in preference order;
    ``waited`` is how long the driver waited for the slot; ``unanswered``, how long ago a
    request of the serial from this process last went out unanswered (None: none has).
    """

    group: int
    url: str
    serving: tuple[tuple[int, str], ...]
    now: float
    waited: float = 0.0
    unanswered: float | None = None


class Done(NamedTuple):
    """A call's end: the result text, the URL that answered, and seconds spent waiting for
    the serial's slots (every attempt's)."""

    result: str
    url: str
    waited: float


class Transmit(NamedTuple):
    """Journal the attempt as pending, then send the call's request to ``url``; ``budget``:
    seconds left before the call's deadline, which cut the attempt's timeouts (None: none)."""

    url: str
    budget: float | None = None


class Answered(NamedTuple):
    """The host answered with the result text ``raw`` after ``elapsed`` seconds.

    ``shown``: ``raw`` as a message may show it, scrubbed of the request's secrets (the
    driver's transport knows them); None: ``raw``.
    """

    raw: str
    elapsed: float
    now: float
    shown: str | None = None


class Interrupted(NamedTuple):
    """The call was interrupted (an asyncio cancellation) while it was being carried:
    ``written`` says whether any byte of the request may have left. The journal's row
    names ``error``; the caller gets ``shown`` (saying what became of it), or ``error``."""

    error: BaseException
    written: bool
    shown: BaseException | None = None


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
Reply = Granted | Unsent | Answered | Unanswered | Misconfigured | Interrupted | Released | None


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
    deadline: Deadline | None = None,
) -> Generator[Effect, Reply, Done]:
    """Carry one built request to the gateway under ``policy`` (see ``docs/reliability.md``).

    Provably unsent: the next group, at once, the very same request, paid from the retry
    budget. Sent without a decodable answer: :class:`OutcomeUnknown`, never re-sent. A code
    whose ``retry`` column is ``SAME_HOST`` (-8, -18): retried after a jittered backoff, up
    to ``retry_tries`` times and within ``retry_time``; these retries do not draw from the
    failover budget. A ``404``: a ConfigError, not sent and not tried elsewhere. Nothing
    starts past ``deadline`` and no pause ends past it: :class:`DeadlineExceeded`, the
    last code its ``__cause__`` (past ``retry_time`` the code's own error is raised). A
    retry starts only with room left for its answer (:data:`RETRY_ROOM`).
    """
    causes: list[tuple[str, str]] = []
    tried: set[int] = set()
    retries = 0
    call = _Call(operation, rrid, causes, deadline)
    grant = yield from call.admitted(Admit(service))
    started, waited = grant.now, grant.waited
    while True:
        budget = call.budget()
        if budget is not None and budget <= 0:
            yield Release(grant.group, Change.NONE)
            raise call.expired()
        try:
            happened = yield Transmit(grant.url, budget)
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
            raise happened.error if happened.shown is None else happened.shown
        # Each attempt releases its slot before its outcome row is written: a journal
        # that fails to write (or an interrupt there) cannot keep the serial's slot.
        if isinstance(happened, Misconfigured):
            yield Release(grant.group, Change.NONE)
            yield Record("rejected", detail=happened.error.message)
            raise happened.error
        if isinstance(happened, Unsent):
            causes.append((grant.url, happened.reason))
            left = call.budget()
            if left is not None and left <= 0:
                # The call ran out while this attempt connected (its timeouts were cut to
                # what was left): no verdict on the host, and the deadline is the reason.
                yield Release(grant.group, Change.NONE)
                yield Record("unreachable", detail=happened.reason)
                raise call.expired()
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
            grant = yield from call.admitted(Admit(service, frozenset(tried)))
            waited += grant.waited
            continue
        if isinstance(happened, Unanswered):
            yield Release(grant.group, Change.NO_ANSWER, linger=not happened.done)
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
                shown=happened.shown,
            )
        except GatewayError as exc:
            yield answered
            unknown = isinstance(exc, OutcomeUnknown)
            yield Record("unknown" if unknown else "rejected", result=str(exc.code))
            if exc.info.category is Category.CONCURRENT:
                logger.error("%s: %s answered %s: this serial is in use on another host at "
                             "the same time; another client shares serial %s. Not retried.",
                             operation, short_host(grant.url), exc.code, sn)  # fmt: skip
            delay = policy.retry_delay(
                exc.info.retry, retries=retries, elapsed=happened.now - started, rng=rng
            )
            if delay is None:
                still_working(exc, grant.unanswered)
                raise
            _answered(causes, grant.url, exc.code)
            left = call.budget()
            # No room for its answer: a retry would turn "not sent" into "unknown".
            room = 2 * happened.elapsed + RETRY_ROOM
            if left is not None and delay + room >= left:
                logger.info("%s: %s answered %s; not retried: the call's deadline comes first",
                            operation, short_host(grant.url), exc.code)  # fmt: skip
                raise call.expired() from exc
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
            grant = yield from call.admitted(Admit(service))
            waited += grant.waited
            continue
        except OutcomeUnknown as exc:
            yield answered
            yield Record("unknown", detail=exc.message)
            raise
        yield answered._replace(refund=policy.success_refund)
        yield Record("accepted", result=value)
        return Done(value, grant.url, waited)


#: Seconds a retry must have left past its pause beyond twice the last answer's (a loaded
#: machine stalls even a loopback answer well past 50 ms).
RETRY_ROOM = 0.25


class _Call:
    """What one call's admissions share: its name, what the hosts said, its deadline."""

    __slots__ = ("causes", "deadline", "operation", "rrid")

    def __init__(
        self,
        operation: str,
        rrid: str | None,
        causes: list[tuple[str, str]],
        deadline: Deadline | None,
    ) -> None:
        self.operation, self.rrid, self.causes, self.deadline = operation, rrid, causes, deadline

    def budget(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline.left()

    def expired(self) -> DeadlineExceeded:
        assert self.deadline is not None  # noqa: S101 (only asked once it has passed)
        total = self.deadline.total
        tried = "; ".join(f"{short_host(host)}: {cause}" for host, cause in self.causes)
        return DeadlineExceeded(
            f"not sent: the call's deadline (Timeouts.total={total:g}s) passed before the "
            "request could be sent" + (f" (tried: {tried})" if tried else ""),
            total=total,
            causes=tuple(self.causes),
            operation=self.operation,
            rrid=self.rrid,
        )

    def admitted(self, admit: Admit) -> Generator[Effect, Reply, Granted]:
        """The grant of ``admit``, under the deadline; a SerialBusy the driver throws names
        the call and what the hosts tried before said (a DeadlineExceeded once the deadline
        is what cut the wait short)."""
        budget = self.budget()
        if budget is not None:
            if budget <= 0:
                raise self.expired()
            assert self.deadline is not None  # noqa: S101
            admit = admit._replace(until=self.deadline.at)
        try:
            grant = yield admit
        except SerialBusy as exc:
            left = self.budget()
            if left is not None and left <= 0:
                raise self.expired() from None
            exc.operation, exc.rrid, exc.causes = self.operation, self.rrid, tuple(self.causes)
            raise
        assert isinstance(grant, Granted)  # noqa: S101 (the driver's contract)
        return grant


def _answered(causes: list[tuple[str, str]], url: str, code: int) -> None:
    """Note that ``url`` answered ``code``; a run of the same answer is one cause, counted."""
    said = f"answered {code}"
    last = causes[-1] if causes else ("", "")
    if last[0] != url or not (last[1] == said or last[1].startswith(f"{said} (")):
        return causes.append((url, said))
    times = int(last[1].removeprefix(said).strip(" ()times") or "1")
    causes[-1] = (url, f"{said} ({times + 1} times)")


def _all_failed(causes: list[tuple[str, str]], operation: str, rrid: str | None) -> AllHostsFailed:
    return AllHostsFailed(
        "no host took the request: "
        + "; ".join(f"{short_host(host)}: {cause}" for host, cause in causes),
        causes=tuple(causes),
        operation=operation,
        rrid=rrid,
    )
