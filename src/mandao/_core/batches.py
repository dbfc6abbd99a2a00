"""A send's batches, one after another, folded into one :class:`SendResult`.

The gateway takes at most 10000 numbers a request and does not want parallel submits
from one serial, so batches go in order. The first failure stops the call: if nothing
went out it is raised; otherwise the result says which batches were sent, refused, of
unknown outcome, or never attempted.

:func:`batches` is a generator, like :func:`mandao._core.call.attempts`: it yields each
planned request, the driver sends it (through ``attempts``) and sends back
a :class:`Sent`, or throws the exception the request ended in.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .._errors import (
    ConcurrentDuplicate,
    GatewayError,
    GatewayUnreachable,
    JournalError,
    OutcomeUnknown,
)
from .._results import Batch, BatchState, SendResult, skipped_of

if TYPE_CHECKING:
    from .._compose.plan import Plan, Planned

__all__ = ["UNWRITTEN", "Refused", "batches"]


class Sent(NamedTuple):
    """What a driver sends back for one request."""

    result: str
    url: str
    protocol: str
    waited: float = 0.0


#: What the journal raises when it refuses a request's pending row: nothing may leave.
UNWRITTEN = (JournalError, ConcurrentDuplicate)
#: The exceptions that end one batch (any other propagates at once).
BATCH_ERRORS = (GatewayError, OutcomeUnknown, GatewayUnreachable, *UNWRITTEN)


class Refused(Exception):
    """A send's first request was refused its pending row by the duplicate guard's second
    look (``error``): nothing of the send left, so the driver may screen it again. Raised
    for that refusal only: the same error raised by a ``progress`` callback, with batches
    sent, is the callback's and propagates as it is."""

    def __init__(self, error: ConcurrentDuplicate) -> None:
        super().__init__(error)
        self.error = error


def _state(exc: BaseException) -> BatchState:
    if isinstance(exc, UNWRITTEN):
        return "not_sent"  # the journal refusing the pending row stops it before it leaves
    return "unknown" if isinstance(exc, OutcomeUnknown) else "failed"


def batches(
    plan: Plan, progress: Callable[[Batch], object] | None = None
) -> Generator[Planned, Sent, SendResult]:
    """Carry ``plan``'s requests out in order (see the module docstring)."""
    planned: Sequence[Planned] = plan.requests
    total = len(planned)
    done: list[Batch] = []
    protocol = ""

    def batch(index: int, request: Planned, state: BatchState, **outcome: Any) -> Batch:
        return Batch(
            index=index,
            total=total,
            operation=request.operation,
            recipients=request.recipients,
            state=state,
            billable=request.billable,
            rrid=request.fields.get("rrid") or None,
            **outcome,
        )

    for index, request in enumerate(planned):
        try:
            result, host, protocol, waited = yield request
        except BATCH_ERRORS as exc:
            if index == 0:
                if isinstance(exc, ConcurrentDuplicate):
                    raise Refused(exc) from None
                raise
            failed = batch(index, request, _state(exc), host=exc.host, error=exc)
            done.append(failed)
            done.extend(
                batch(i, later, "not_sent")
                for i, later in enumerate(planned[index + 1 :], start=index + 1)
            )
            if progress is not None:
                progress(failed)
            break
        sent = batch(index, request, "sent", id=result, host=host, waited=waited)
        done.append(sent)
        if progress is not None:
            progress(sent)
    if not done:  # every number was left out (suppressed, duplicates): nothing to send
        return SendResult(
            id="", rrid=None, operation="", host="", protocol="", recipients=plan.recipients,
            segments=plan.estimate.segments, billable=0, scheduled=plan.scheduled,
            skipped=skipped_of(plan.skipped), duplicates=plan.duplicates,
        )  # fmt: skip
    first = done[0]
    return SendResult(
        id=first.id or "",
        rrid=first.rrid,
        operation="+".join(dict.fromkeys(p.operation for p in planned)),
        host=first.host or "",
        protocol=protocol,
        recipients=plan.recipients,
        segments=plan.estimate.segments,
        billable=sum(b.billable for b in done if b.state == "sent"),
        scheduled=plan.scheduled,
        batches=tuple(done),
        skipped=skipped_of(plan.skipped),
        duplicates=plan.duplicates,
        waited=sum(b.waited for b in done),
    )
