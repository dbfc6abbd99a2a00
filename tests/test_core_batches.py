"""The sans-IO core: a send's batches folded into one SendResult (no sockets, no threads)."""

from __future__ import annotations

import pytest

import mandao
from mandao._compose.content import ContentRules
from mandao._compose.plan import Plan, plan_group
from mandao._core.batches import Sent, batches

NUMBERS = [f"1380013{i:04d}" for i in range(5)]


def _plan() -> Plan:
    """Five numbers in batches of two: three requests, rrids 100, 101, 102."""
    return plan_group(
        ContentRules(), NUMBERS, "通知【示例】", size=2, ext="", at=None, rrid="100", msgfmt=None
    )


def _drive(plan: Plan, answers: list[str | Exception]) -> mandao.SendResult:
    """Answer each request with the next id, or throw the next exception into the fold."""
    steps = batches(plan)
    next(steps)
    try:
        while True:
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                steps.throw(answer)
            else:
                steps.send(Sent(answer, "http://a/webservice.asmx", "soap11", waited=0.5))
    except StopIteration as stop:
        result: mandao.SendResult = stop.value
        return result


def test_every_batch_sent_makes_a_complete_result() -> None:
    """Three accepted batches: complete, the first batch's id, billing summed."""
    result = _drive(_plan(), ["100", "101", "102"])
    assert result.complete
    assert (result.id, result.rrid, result.operation) == ("100", "100", "mdsmssend")
    assert [b.state for b in result.batches] == ["sent", "sent", "sent"]
    assert [b.rrid for b in result.batches] == ["100", "101", "102"]
    assert result.billable == 5
    assert list(result.sent) == NUMBERS
    assert result.waited == 1.5  # each batch's wait for the serial, summed


def test_a_first_batch_failure_is_raised() -> None:
    """Nothing went out: the first request's exception is the call's."""
    error = mandao.GatewayUnreachable("refused", causes=(), operation="mdsmssend")
    with pytest.raises(mandao.GatewayUnreachable):
        _drive(_plan(), [error])


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (mandao.OutcomeUnknown("reset", host="h"), "unknown"),
        (mandao.GatewayUnreachable("refused", causes=(), host="h"), "failed"),
        (mandao.JournalError("disk full"), "not_sent"),
    ],
)
def test_a_later_failure_stops_the_call_and_says_who_is_where(
    error: mandao.MandaoError, state: str
) -> None:
    """The second batch fails: the first stays sent, the third is never attempted."""
    result = _drive(_plan(), ["100", error])
    assert not result.complete
    assert [b.state for b in result.batches] == ["sent", state, "not_sent"]
    assert result.batches[1].error is error
    assert result.billable == 2
    assert list(result.sent) == NUMBERS[:2]
    assert list(result.unsent) == (NUMBERS[4:] if state == "unknown" else NUMBERS[2:])
