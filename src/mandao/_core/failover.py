"""Which host to use next, and whether to try again: pure values, no I/O.

Three frozen values, each changed by returning a new one (urllib3's ``Retry`` is the model),
so tests drive them with no socket and no clock:

* :class:`FailoverPolicy`: the settings (slowness rule, cool-down, backoff, budget).
* :class:`HostState`: the hosts of one service, the active one (sticky), and the latency
  record that says when it has become slow.
* :class:`RetryBudget`: a token bucket shared by a client, so a sustained outage fails
  fast instead of multiplying requests (as the AWS SDKs do).

What may be retried after a gateway code is the code table's ``retry`` column (a
``RetryRule``); the client asks :meth:`FailoverPolicy.retry_delay` and never branches on a
code value.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from .._code_info import RetryRule
from .._errors import GatewayError, ValidationError

__all__ = ["STILL_WORKING", "FailoverPolicy", "HostState", "RetryBudget", "still_working"]


#: Each field of :class:`FailoverPolicy`: whether it is a whole number (else any number),
#: its range, and the two in words (slow_average and cooldown may also be None).
_FIELDS: dict[str, tuple[bool, Callable[[float], bool], str]] = {
    "slow_threshold": (False, lambda v: v > 0, "seconds, more than 0"),
    "slow_consecutive": (True, lambda v: v >= 1, "a whole number, 1 or more"),
    "slow_average": (False, lambda v: v > 0, "seconds, more than 0"),
    "average_weight": (False, lambda v: 0 < v <= 1, "a number more than 0, at most 1"),
    "cooldown": (False, lambda v: v >= 0, "seconds, 0 or more"),
    "retry_tries": (True, lambda v: v >= 0, "a whole number, 0 or more"),
    "retry_time": (False, lambda v: v >= 0, "seconds, 0 or more"),
    "backoff_base": (False, lambda v: v >= 0, "seconds, 0 or more"),
    "backoff_max": (False, lambda v: v >= 0, "seconds, 0 or more"),
    "budget": (True, lambda v: v >= 0, "a whole number, 0 or more"),
    "retry_cost": (True, lambda v: v >= 0, "a whole number, 0 or more"),
    "success_refund": (True, lambda v: v >= 0, "a whole number, 0 or more"),
}


@dataclass(frozen=True, slots=True)
class FailoverPolicy:
    """How a client fails over between hosts and retries rate-limit codes.

    Args:
        slow_threshold: seconds; an answer slower than this counts as slow.
        slow_consecutive: this many slow answers in a row on the active host switch the
            following requests to the next host (the slow request is not re-sent).
        slow_average: seconds, or None; when set, the host also counts as slow once the
            moving average of its latencies (weight ``average_weight``) exceeds it.
        average_weight: weight of the newest sample in the moving average (0 < w <= 1).
        cooldown: seconds after a switch before requests return to the preferred (first)
            host; the client returns only when nothing is in flight. None: never return.
        retry_tries: most retries, on the same host, of a code whose ``retry`` is
            ``SAME_HOST`` (-8, -18).
        retry_time: seconds; no retry starts after this long since the call began.
        backoff_base, backoff_max: the n-th retry waits a uniformly random time in
            ``[0, min(backoff_max, backoff_base * 2**n)]`` ("full jitter").
        budget: tokens in the client's retry budget (0 turns the budget off).
        retry_cost: tokens a retry or a move to another host takes from the budget.
        success_refund: tokens a successful call puts back.

    Raises:
        ValidationError: a field of the wrong type (a count that is not a whole number, a
            bool, text) or out of range (``argument="failover.slow_threshold"``, ...).

    Example::

        >>> policy = FailoverPolicy(slow_threshold=1.0, slow_consecutive=2, cooldown=30)
        >>> policy.cooldown
        30
    """

    slow_threshold: float = 5.0
    slow_consecutive: int = 3
    slow_average: float | None = None
    average_weight: float = 0.2
    cooldown: float | None = 300.0
    retry_tries: int = 3
    retry_time: float = 10.0
    backoff_base: float = 0.2
    backoff_max: float = 2.0
    budget: int = 100
    retry_cost: int = 5
    success_refund: int = 1

    def __post_init__(self) -> None:
        for name, (whole, in_range, expected) in _FIELDS.items():
            value = getattr(self, name)
            if value is None and name in ("slow_average", "cooldown"):
                continue
            # A bool is an int to Python, never a count or seconds here; NaN is in no range.
            kind = int if whole else (int, float)
            if isinstance(value, bool) or not isinstance(value, kind) or not in_range(value):
                raise ValidationError(
                    f"expected {expected}, got {value!r}", argument=f"failover.{name}"
                )

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0-based), with full jitter."""
        return rng.uniform(0.0, min(self.backoff_max, self.backoff_base * 2.0**retry))

    def retry_delay(
        self, retry: RetryRule, *, retries: int, elapsed: float, rng: random.Random
    ) -> float | None:
        """Seconds to wait before retrying on the same host, or None for no retry.

        ``retry`` is the code's ``retry`` column, ``retries`` how many were made already,
        ``elapsed`` seconds since the call began.

        >>> import random
        >>> p = FailoverPolicy(retry_tries=1)
        >>> p.retry_delay(RetryRule.SAME_HOST, retries=0, elapsed=0, rng=random.Random(1)) is None
        False
        >>> p.retry_delay(RetryRule.SAME_HOST, retries=1, elapsed=0, rng=random.Random(1)) is None
        True
        >>> p.retry_delay(RetryRule.NEVER, retries=0, elapsed=0, rng=random.Random(1)) is None
        True
        """
        if retry is not RetryRule.SAME_HOST or retries >= self.retry_tries:
            return None
        delay = self.backoff(retries, rng)
        if elapsed + delay > self.retry_time:
            return None
        return delay


@dataclass(frozen=True, slots=True)
class HostState:
    """The hosts of one service, which is active, and how the active one has been answering.

    Args:
        hosts: service URLs, the preferred one first.
        active: index of the host requests go to now.
        switched_at: when (the caller's clock) the client last left the preferred host.
        slow_streak: slow answers in a row from the active host.
        average: moving average of the active host's latency, or None before the first.

    >>> state = HostState(("http://a/webservice.asmx", "http://b/webservice.asmx"))
    >>> state.active_host
    'http://a/webservice.asmx'
    >>> state.after_unreachable(state.active_host).active_host
    'http://b/webservice.asmx'
    """

    hosts: tuple[str, ...]
    active: int = 0
    switched_at: float | None = None
    slow_streak: int = 0
    average: float | None = None

    @property
    def active_host(self) -> str:
        """Where requests go now."""
        return self.hosts[self.active]

    def attempt_order(self) -> tuple[str, ...]:
        """Hosts to try for one call: the active one first, then the others in order."""
        return self.hosts[self.active :] + self.hosts[: self.active]

    def _switch(self, now: float) -> HostState:
        if len(self.hosts) == 1:
            return HostState(self.hosts, self.active, self.switched_at)
        return HostState(self.hosts, (self.active + 1) % len(self.hosts), now)

    def after_unreachable(self, host: str, now: float = 0.0) -> HostState:
        """The state after ``host`` provably did not take a request: the next host is active."""
        if host != self.active_host:
            return self
        return self._switch(now)

    def after_answer(
        self, host: str, elapsed: float, policy: FailoverPolicy, now: float = 0.0
    ) -> HostState:
        """The state after ``host`` answered in ``elapsed`` seconds (any answer, any code).

        A slow active host hands the following requests to the next host.

        >>> p = FailoverPolicy(slow_threshold=1, slow_consecutive=2)
        >>> s = HostState(("a", "b")).after_answer("a", 3, p).after_answer("a", 3, p)
        >>> s.active_host
        'b'
        """
        if host != self.active_host:
            return self
        streak = self.slow_streak + 1 if elapsed > policy.slow_threshold else 0
        w = policy.average_weight
        average = elapsed if self.average is None else w * elapsed + (1 - w) * self.average
        slow = streak >= policy.slow_consecutive or (
            policy.slow_average is not None and average > policy.slow_average
        )
        if slow:
            return self._switch(now)
        # The constructor, not dataclasses.replace: this runs on every answer.
        return HostState(self.hosts, self.active, self.switched_at, streak, average)

    def after_failure(self, host: str, policy: FailoverPolicy, now: float = 0.0) -> HostState:
        """The state after a request to ``host`` went out and got no decodable answer.

        It counts as one slow answer (a read timeout is the slowest answer there is).
        """
        return self.after_answer(host, max(policy.slow_threshold * 2, 1e-9), policy, now)

    def due_return(self, policy: FailoverPolicy, now: float) -> bool:
        """Whether the cool-down since leaving the preferred host is over."""
        return (
            self.active != 0
            and policy.cooldown is not None
            and self.switched_at is not None
            and now - self.switched_at >= policy.cooldown
        )

    def returned(self) -> HostState:
        """The state back on the preferred host, with a fresh latency record."""
        return HostState(self.hosts)


@dataclass(frozen=True, slots=True)
class RetryBudget:
    """A token bucket shared by a client's calls: retries and failovers spend, successes refill.

    >>> budget = RetryBudget(10)
    >>> budget.spend(5).spend(5).spend(5) is None
    True
    >>> budget.spend(5).refund(2).tokens
    7
    """

    capacity: int
    tokens: int = -1

    def __post_init__(self) -> None:
        if self.tokens < 0:
            object.__setattr__(self, "tokens", self.capacity)

    def spend(self, cost: int) -> RetryBudget | None:
        """The budget after paying ``cost``, or None when it cannot be paid."""
        if self.capacity == 0:
            return self  # no budget: retries are bounded by the policy alone
        if cost > self.tokens:
            return None
        return RetryBudget(self.capacity, self.tokens - cost)

    def refund(self, amount: int) -> RetryBudget:
        """The budget after a success puts ``amount`` tokens back (up to capacity)."""
        if self.tokens >= self.capacity:
            return self  # full, as after most successes: nothing to make
        return RetryBudget(self.capacity, min(self.capacity, self.tokens + amount))


#: A request that went out unanswered this many seconds ago may still be at the gateway.
STILL_WORKING = 600.0


def still_working(exc: GatewayError, unanswered: float | None) -> None:
    """Add to a ``-18``'s message whose submission the gateway most likely has not
    finished: this process's own, when one went out unanswered ``unanswered`` seconds ago
    (the slot it kept for one read timeout since it was written is free again by then);
    else a sender of the serial that does not share this one's admission.

    >>> from mandao import RateLimited, explain
    >>> exc = RateLimited(explain(-18))
    >>> still_working(exc, 1.5)
    >>> print(str(exc)[str(exc).index("This process"):][:70])
    This process's last request of this serial went unanswered 1.5s ago (a
    >>> for unanswered in (None, 900.0):  # none, or too long ago to be the one
    ...     exc = RateLimited(explain(-18))
    ...     still_working(exc, unanswered)
    ...     print(str(exc)[str(exc).index("None of"):][:78])
    None of this process's requests of this serial is likely still being worked on
    None of this process's requests of this serial is likely still being worked on
    """
    if exc.code != -18:
        return
    if unanswered is not None and unanswered <= STILL_WORKING:
        exc.message += (
            f" This process's last request of this serial went unanswered {unanswered:.1f}s "
            "ago (a read timeout, or a connection broken after the request was written), and "
            "the gateway is most likely still working on it: wait before sending again, or "
            "give slow answers longer with Timeouts(read=...)."
        )
    else:
        exc.message += (
            " None of this process's requests of this serial is likely still being worked "
            "on: another sender of this serial that does not share this one's admission is "
            "most likely sending (another machine, or a process with another journal or with "
            "no journal), or max_in_flight is above "
            "what the gateway allows the serial (1 by default), or a process of this "
            "journal was killed with a request out that the gateway took longer to answer "
            "than the process's lease (connect + read timeout + 1 s). Give every sender of "
            "the serial one journal (a PostgreSQL one across machines)."
        )
    exc.args = (exc.message,)
