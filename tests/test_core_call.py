"""The sans-IO core: one call's attempts, driven by a scripted driver (no sockets, no threads).

Each row of the decision table in docs/reliability.md is a case below, its expected outcome
written out: which hosts were tried, what the journal recorded, what was raised.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, field

import pytest

import mandao
from mandao._core.admission import Admission, Change, admit, release
from mandao._core.call import (
    RETRY_ROOM,
    Admit,
    Answered,
    Deadline,
    Done,
    Effect,
    Granted,
    Interrupted,
    Misconfigured,
    Pause,
    Record,
    Release,
    Released,
    Reply,
    Transmit,
    Unanswered,
    Unsent,
    attempts,
)
from mandao._core.failover import FailoverPolicy, RetryBudget
from mandao._core.hosts import HostGroups
from mandao._core.wire import Broken, Malformed, Response, classify

A, B = "http://a:8061/webservice.asmx", "http://b:8061/webservice.asmx"
C = "http://c:8061/webservice.asmx"
UNSENT = Unsent("connection refused")


def _unknown(message: str) -> Unanswered:
    return Unanswered(mandao.OutcomeUnknown(message, host=A, operation="mdsmssend"))


def _transmitting(
    operation: str = "mdsmssend", service: str = "send", reply: str = r"\d+"
) -> Generator[Effect, Reply, Done]:
    """A one-host call's steps (an mdsmssend by default), granted its slot, at its Transmit."""
    steps = attempts(
        operation, service, reply, FailoverPolicy(), rrid=None, recipients=(),
        rng=random.Random(1),
    )  # fmt: skip
    steps.send(None)
    steps.send(Granted(0, A, ((0, A),), 0.0))
    return steps


@dataclass
class Script:
    """A driver that answers each Transmit with the next scripted reply."""

    replies: list[Unsent | Unanswered | Misconfigured | str]
    policy: FailoverPolicy = field(default_factory=FailoverPolicy)
    hosts: tuple[str, ...] = (A, B)
    total: float | None = None  # the call's deadline, on the script's clock
    cost: float = 0.0  # seconds each attempt takes
    busy: bool = False  # every Admit waits as long as it may, then gets no slot
    transmitted: list[str] = field(default_factory=list)
    budgets: list[float | None] = field(default_factory=list)
    admits: list[Admit] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    pauses: list[float] = field(default_factory=list)
    releases: list[Change] = field(default_factory=list)
    now: float = 0.0

    def __post_init__(self) -> None:
        groups = HostGroups.pair({"send": self.hosts})
        self.state = Admission.start(groups)
        self.budget = RetryBudget(self.policy.budget)

    def handle(self, effect: Effect) -> Reply:
        if isinstance(effect, Admit):
            self.admits.append(effect)
            if self.busy:
                self.now += effect.wait(60.0, self.now)
                raise mandao.SerialBusy("no slot", waited=effect.wait(60.0, self.now))
            self.state, group = admit(
                self.state, self.policy, service="send", exclude=effect.exclude, now=self.now
            )
            assert group is not None, "a single caller never waits"
            serving = tuple(enumerate(self.hosts))
            return Granted(group, self.hosts[group], serving, self.now)
        if isinstance(effect, Transmit):
            self.transmitted.append(effect.url)
            self.budgets.append(effect.budget)
            self.now += self.cost
            reply = self.replies.pop(0)
            if isinstance(reply, str):
                self.now += 0.01
                return Answered(reply, 0.01, self.now)
            return reply
        if isinstance(effect, Record):
            self.records.append(effect.outcome)
            return None
        if isinstance(effect, Release):
            self.releases.append(effect.change)
            self.state = release(
                self.state,
                self.policy,
                group=effect.group,
                change=effect.change,
                elapsed=effect.elapsed,
                now=self.now,
            )
            paid = True
            if effect.spend:
                after = self.budget.spend(effect.spend)
                paid, self.budget = after is not None, after or self.budget
            return Released(paid)
        assert isinstance(effect, Pause)
        self.pauses.append(effect.seconds)
        self.now += effect.seconds
        return None

    def clock(self) -> float:
        return self.now

    def run(self) -> tuple[str, str] | BaseException:
        """(result, url) of the call, or what it raised."""
        deadline = None if self.total is None else Deadline.after(self.total, self.clock)
        steps: Generator[Effect, Reply, Done] = attempts(
            "mdsmssend",
            "send",
            r"\d{1,18}",
            self.policy,
            rrid="1",
            recipients=("13800138000",),
            rng=random.Random(7),
            deadline=deadline,
        )
        reply: Reply = None
        error: BaseException | None = None
        try:
            while True:
                effect = steps.send(reply) if error is None else steps.throw(error)
                error = None
                try:
                    reply = self.handle(effect)
                except mandao.MandaoError as exc:
                    error, reply = exc, None
        except StopIteration as stop:
            result, url, waited = stop.value
            assert waited == 0.0, "the scripted driver never waits"
            return result, url
        except mandao.MandaoError as exc:
            return exc


# (row of the table, scripted replies, hosts sent to, journal outcomes, result or exception)
TABLE = [
    (
        "refused on the primary: the backup at once, same request",
        [UNSENT, "123"],
        [A, B],
        ["unreachable", "accepted"],
        ("123", B),
    ),
    (
        "refused everywhere: AllHostsFailed with each host's cause",
        [UNSENT, UNSENT],
        [A, B],
        ["unreachable", "unreachable"],
        "AllHostsFailed",
    ),
    (
        "read timeout after writing: OutcomeUnknown, never re-sent",
        [_unknown("read timeout after the request was written")],
        [A],
        ["unknown"],
        "OutcomeUnknown",
    ),
    (
        "a malformed reply: ProtocolError, never re-sent",
        ["<html>proxy</html>"],
        [A],
        ["unknown"],
        "ProtocolError",
    ),
    ("-11: GatewayInternalError, never re-sent", ["-11"], [A], ["unknown"], "GatewayInternalError"),
    ("-14: GatewayInternalError, never re-sent", ["-14"], [A], ["unknown"], "GatewayInternalError"),
    (
        "-8 then success: retried on the same host",
        ["-8", "456"],
        [A, A],
        ["rejected", "accepted"],
        ("456", A),
    ),
    (
        "-18 four times: three retries, then RateLimited",
        ["-18", "-18", "-18", "-18"],
        [A, A, A, A],
        ["rejected"] * 4,
        "RateLimited",
    ),
    ("-20: DuplicateSubmission, never retried", ["-20"], [A], ["rejected"], "DuplicateSubmission"),
    ("-19: ConcurrentHostUse, never retried", ["-19"], [A], ["rejected"], "ConcurrentHostUse"),
    ("-4: InsufficientBalance, never retried", ["-4"], [A], ["rejected"], "InsufficientBalance"),
    ("-2: AuthenticationError, never retried", ["-2"], [A], ["rejected"], "AuthenticationError"),
    ("success: the id", ["789"], [A], ["accepted"], ("789", A)),
    (
        "404: a ConfigError, not sent, not tried on the backup",
        [Misconfigured(mandao.ConfigError("HTTP 404: no service", host=A))],
        [A],
        ["rejected"],
        "ConfigError",
    ),
    ("full-width digits: ProtocolError", ["１２３"], [A], ["unknown"], "ProtocolError"),
    ("-0: ProtocolError, not a code", ["-0"], [A], ["unknown"], "ProtocolError"),
    ("-01: ProtocolError, not a code", ["-01"], [A], ["unknown"], "ProtocolError"),
]


@pytest.mark.parametrize(
    ("row", "replies", "sent_to", "records", "expected"), TABLE, ids=[row[0] for row in TABLE]
)
def test_decision_table(
    row: str,
    replies: list[Unsent | Unanswered | Misconfigured | str],
    sent_to: list[str],
    records: list[str],
    expected: tuple[str, str] | str,
) -> None:
    """Each row of the reliability table: hosts tried, journal outcomes, result or error."""
    script = Script(list(replies))
    outcome = script.run()
    assert script.transmitted == sent_to
    assert script.records == records
    if isinstance(expected, str):
        assert type(outcome).__name__ == expected
    else:
        assert outcome == expected
    assert script.state.in_flight == 0, "every admitted request was released"


def test_all_failed_names_every_host_and_its_cause() -> None:
    """AllHostsFailed lists each host with its cause, in the order tried."""
    outcome = Script([Unsent("connection refused"), Unsent("connect timeout")]).run()
    assert isinstance(outcome, mandao.AllHostsFailed)
    assert outcome.causes == ((A, "connection refused"), (B, "connect timeout"))


def test_an_empty_retry_budget_leaves_the_backup_untried() -> None:
    """With no tokens for a move, the backup is named as not tried and nothing more is sent."""
    script = Script([UNSENT], policy=FailoverPolicy(budget=4, retry_cost=5))
    outcome = script.run()
    assert isinstance(outcome, mandao.AllHostsFailed)
    assert outcome.causes == ((A, "connection refused"), (B, "not tried: retry budget exhausted"))
    assert script.transmitted == [A]


def test_rate_limit_retries_do_not_draw_from_the_failover_budget() -> None:
    """-18 retries are bounded by retry_tries alone: an empty budget still retries them."""
    script = Script(["-18", "-18", "1"], policy=FailoverPolicy(budget=4, retry_cost=5))
    assert script.run() == ("1", A)
    assert len(script.pauses) == 2


def test_rate_limit_retries_stop_at_retry_time() -> None:
    """No retry starts once retry_time has passed since the call began."""
    policy = FailoverPolicy(retry_tries=10, retry_time=0.0)
    script = Script(["-8", "1"], policy=policy)
    assert isinstance(script.run(), mandao.RateLimited)
    assert script.pauses == []


def test_backoff_is_full_jitter_within_bounds() -> None:
    """The n-th retry waits within [0, min(backoff_max, backoff_base * 2**n)]."""
    policy = FailoverPolicy(retry_tries=3, backoff_base=0.1, backoff_max=0.25)
    script = Script(["-8", "-8", "-8", "1"], policy=policy)
    assert script.run() == ("1", A)
    assert [0 <= p <= bound for p, bound in zip(script.pauses, [0.1, 0.2, 0.25], strict=True)] == [
        True,
        True,
        True,
    ]


def test_a_slow_answer_moves_the_following_requests_not_this_one() -> None:
    """Slow answers are not re-sent; after slow_consecutive of them the next call goes to B."""
    policy = FailoverPolicy(slow_threshold=0.001, slow_consecutive=1)
    script = Script(["1"], policy=policy)
    assert script.run() == ("1", A)
    assert script.state.active == 1
    assert script.transmitted == [A]


def test_an_interrupt_while_sending_is_recorded_unknown_and_released() -> None:
    """An exception thrown at the Transmit (Ctrl-C, a journal error) settles the attempt."""
    rng = random.Random(1)
    steps = attempts(
        "mdsmssend", "send", r"\d+", FailoverPolicy(), rrid=None, recipients=(), rng=rng
    )
    assert isinstance(steps.send(None), Admit)
    assert isinstance(steps.send(Granted(0, A, ((0, A),), 0.0)), Transmit)
    assert steps.throw(KeyboardInterrupt()) == Release(0, Change.NONE, linger=True)
    assert steps.send(Released(True)) == Record(
        "unknown", detail="interrupted: KeyboardInterrupt()"
    )
    with pytest.raises(KeyboardInterrupt):
        steps.send(None)


def test_a_journal_failing_to_write_an_outcome_has_released_the_slot() -> None:
    """The slot is released before the outcome row: an error there cannot keep the serial."""
    steps = attempts(
        "mdsmssend",
        "send",
        r"\d+",
        FailoverPolicy(),
        rrid=None,
        recipients=(),
        rng=random.Random(1),
    )
    steps.send(None)
    steps.send(Granted(0, A, ((0, A),), 0.0))
    assert steps.send(Answered("123", 0.01, 0.01)) == Release(
        0, Change.ANSWERED, elapsed=0.01, refund=FailoverPolicy().success_refund
    )
    assert steps.send(Released(True)) == Record("accepted", result="123")
    with pytest.raises(KeyboardInterrupt):
        steps.throw(KeyboardInterrupt())


def test_an_unknown_outcome_keeps_the_host() -> None:
    """An unanswered request counts as slow on its host but never moves this call."""
    script = Script([_unknown("reset")])
    assert isinstance(script.run(), mandao.OutcomeUnknown)
    assert script.releases == [Change.NO_ANSWER]


@pytest.mark.parametrize("written", [False, True])
def test_a_cancellation_says_whether_the_request_may_have_left(written: bool) -> None:
    """Interrupted before any byte left: not sent, the slot free at once. After: unknown,
    and the slot lingers (the host may still be at it). Either way the error goes on."""
    steps = _transmitting()
    cancelled = KeyboardInterrupt()
    assert steps.send(Interrupted(cancelled, written)) == Release(0, Change.NONE, linger=written)
    record = steps.send(Released(True))
    assert isinstance(record, Record)
    assert record.outcome == ("unknown" if written else "unreachable")
    with pytest.raises(KeyboardInterrupt) as info:
        steps.send(None)
    assert info.value is cancelled


def test_an_unanswered_request_lingers_on_its_slot() -> None:
    """No answer after the request was written: the release asks for the slot to linger."""
    steps = _transmitting()
    release = steps.send(_unknown("reset"))
    assert isinstance(release, Release)
    assert release.linger


@pytest.mark.parametrize(("status", "held"), [(500, False), (200, False), (502, True),
                                             (503, True), (504, True)])  # fmt: skip
def test_a_whole_error_page_frees_the_slot_a_proxys_timeout_holds_it(
    status: int, held: bool
) -> None:
    """A whole HTTP response that reads as no answer (an error page, a maintenance page of
    no known shape) is the server done with the request: its slot is not held a read
    timeout (every sender of the serial waited for it). 502, 503 and 504, a proxy's words
    for an upstream that did not answer in time, still hold it: that host may be at it."""
    body = Malformed("an HTML page") if status == 200 else Malformed("")
    outcome = classify(Response(status, body), host=A, operation="mdsmssend", rrid=None,
                       recipients=())  # fmt: skip
    assert isinstance(outcome, Unanswered)
    assert outcome.done is not held
    steps = _transmitting()
    release = steps.send(outcome)
    assert isinstance(release, Release)
    assert release.linger is held
    assert classify(Broken("sent", "reset"), host=A, operation="mdsmssend", rrid=None,
                    recipients=()).done is False  # type: ignore[union-attr]  # fmt: skip


def test_admit_carries_the_deadline_and_transmit_what_is_left() -> None:
    """The Admit says when the call must be over; each Transmit, the seconds left then."""
    script = Script([UNSENT, "1"], total=10.0, cost=3.0)
    assert script.run() == ("1", B)
    assert [a.until for a in script.admits] == [10.0, 10.0]
    assert script.budgets == [10.0, 7.0]


def test_admit_wait_is_cut_to_the_deadline() -> None:
    """The driver waits its Timeouts.wait, or what is left before the deadline if less."""
    assert Admit("send").wait(60.0, now=5.0) == 60.0
    assert Admit("send", until=10.0).wait(60.0, now=5.0) == 5.0
    assert Admit("send", until=100.0).wait(60.0, now=5.0) == 60.0
    assert Admit("send", until=10.0).wait(60.0, now=12.0) == 0.0


def test_no_attempt_starts_past_the_deadline() -> None:
    """Past the deadline, the next host is not tried: DeadlineExceeded, not sent, with what
    the hosts tried said."""
    script = Script([UNSENT, UNSENT, "1"], hosts=(A, B, C), total=1.0, cost=0.6)
    outcome = script.run()
    assert isinstance(outcome, mandao.DeadlineExceeded)
    assert isinstance(outcome, mandao.GatewayUnreachable)
    assert script.transmitted == [A, B]
    assert [host for host, _ in outcome.causes] == [A, B]
    assert outcome.total == 1.0
    assert script.state.in_flight == 0


def test_a_pause_never_ends_past_the_deadline() -> None:
    """-18 retries stop when the next pause would end past the deadline: DeadlineExceeded,
    the last -18 its cause, the run of -18s one counted cause."""
    policy = FailoverPolicy(retry_tries=1000, retry_time=1000, backoff_base=0.2, backoff_max=0.2)
    script = Script(["-18"] * 1000, policy=policy, total=1.0, cost=0.01)
    outcome = script.run()
    assert isinstance(outcome, mandao.DeadlineExceeded)
    assert isinstance(outcome.__cause__, mandao.RateLimited)
    assert script.now <= 1.0
    assert 1 <= len(script.pauses) < 1000
    assert outcome.causes == ((A, f"answered -18 ({len(script.pauses) + 1} times)"),)
    # Every retry started with room for its answer: twice the last one's, and RETRY_ROOM.
    assert min(b for b in script.budgets[1:] if b is not None) > 2 * 0.01 + RETRY_ROOM


def test_a_connect_the_deadline_cut_short_is_deadline_exceeded() -> None:
    """The deadline passes while an attempt connects (its connect timeout was cut to what
    was left): DeadlineExceeded, and the host is given no verdict (not moved away from)."""
    policy = FailoverPolicy(backoff_base=0.1, backoff_max=0.1)
    script = Script(["-18", Unsent("connect timeout")], policy=policy, total=1.0, cost=0.6)
    outcome = script.run()
    assert isinstance(outcome, mandao.DeadlineExceeded)
    assert outcome.causes == ((A, "answered -18"), (A, "connect timeout"))
    assert script.transmitted == [A, A]
    assert script.releases[-1] is Change.NONE
    assert script.records[-1] == "unreachable"
    assert script.state.in_flight == 0


def test_a_wait_the_deadline_cut_short_is_deadline_exceeded() -> None:
    """No slot until the deadline: DeadlineExceeded (not SerialBusy: the wait was longer)."""
    script = Script(["1"], total=2.0, busy=True)
    outcome = script.run()
    assert isinstance(outcome, mandao.DeadlineExceeded)
    assert script.now == 2.0
    assert script.transmitted == []


def test_a_wait_that_runs_out_first_stays_serial_busy() -> None:
    """No slot within Timeouts.wait, the deadline still ahead: SerialBusy, as before."""
    script = Script(["1"], total=100.0, busy=True)
    outcome = script.run()
    assert type(outcome) is mandao.SerialBusy
    assert outcome.operation == "mdsmssend"


def test_a_call_without_a_deadline_carries_none() -> None:
    """No deadline given: the effects carry none, as before."""
    script = Script(["1"])
    assert script.run() == ("1", A)
    assert script.admits[0].until is None
    assert script.budgets == [None]


def test_a_refused_result_shows_the_scrubbed_text() -> None:
    """An undecodable result's message shows the driver's scrubbed text, never the raw one."""
    steps = _transmitting("balance", "account", r"\d{1,18}")
    assert isinstance(steps.send(Answered("pwd is E032A1", 0.01, 0.01, "pwd is ***")), Release)
    record = steps.send(Released(True))
    assert isinstance(record, Record)
    assert "E032A1" not in record.detail
    assert "***" in record.detail
    with pytest.raises(mandao.ProtocolError) as info:
        steps.send(None)
    assert "E032A1" not in str(info.value)


def test_a_run_of_one_answer_is_one_counted_cause() -> None:
    """Causes count a run of one code from one host; -180 is not a run of -18."""
    from mandao._core.call import _answered

    causes: list[tuple[str, str]] = []
    for url, code in ((A, -180), (A, -18), (A, -18), (B, -18), (A, -18), (A, -18), (A, -18)):
        _answered(causes, url, code)
    assert causes == [(A, "answered -180"), (A, "answered -18 (2 times)"), (B, "answered -18"),
                      (A, "answered -18 (3 times)")]  # fmt: skip
