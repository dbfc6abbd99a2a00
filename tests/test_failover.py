"""The failover policy as a pure value: no sockets, no clock."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading

import pytest

import mandao
from mandao._codes import CODES
from mandao._codes import RetryRule as Retry
from mandao._compose.rrid import make_rrid
from mandao._core.failover import FailoverPolicy, HostState, RetryBudget

HOSTS = ("http://a/ws.asmx", "http://b/ws.asmx")
POLICY = FailoverPolicy(slow_threshold=1.0, slow_consecutive=3, cooldown=60)


def _rng(seed: int) -> random.Random:
    return random.Random(seed)


def test_unreachable_active_host_moves_to_the_next() -> None:
    """A provably-unsent failure on the active host makes the next host active."""
    state = HostState(HOSTS).after_unreachable(HOSTS[0], now=5)
    assert (state.active_host, state.switched_at) == (HOSTS[1], 5)


def test_unreachable_other_host_changes_nothing() -> None:
    """A failure reported for a host that is not active leaves the state as it is."""
    state = HostState(HOSTS)
    assert state.after_unreachable(HOSTS[1]) is state


def test_state_is_immutable() -> None:
    """Changing the state returns a new value and leaves the old one alone."""
    state = HostState(HOSTS)
    state.after_unreachable(HOSTS[0])
    assert state.active == 0
    with pytest.raises(AttributeError):
        state.active = 1  # type: ignore[misc]


def test_n_consecutive_slow_answers_switch() -> None:
    """slow_consecutive slow answers in a row switch; a fast one in between resets the count."""
    state = HostState(HOSTS)
    for elapsed in (2, 2, 0.1, 2, 2):
        state = state.after_answer(HOSTS[0], elapsed, POLICY)
    assert state.active_host == HOSTS[0]
    state = state.after_answer(HOSTS[0], 2, POLICY, now=9)
    assert (state.active_host, state.switched_at) == (HOSTS[1], 9)


def test_moving_average_over_the_limit_switches() -> None:
    """With slow_average set, a moving average above it switches even without a streak."""
    policy = FailoverPolicy(slow_threshold=100, slow_average=0.5, average_weight=0.5)
    state = HostState(HOSTS)
    for elapsed in (0.1, 0.5, 0.1, 0.5):
        state = state.after_answer(HOSTS[0], elapsed, policy)
    assert state.active_host == HOSTS[0]
    state = state.after_answer(HOSTS[0], 2.0, policy)
    assert state.active_host == HOSTS[1]


def test_failure_after_sending_counts_as_slow() -> None:
    """A request sent without a decodable answer counts as one slow answer."""
    state = HostState(HOSTS)
    for _ in range(3):
        state = state.after_failure(HOSTS[0], POLICY)
    assert state.active_host == HOSTS[1]


def test_single_host_never_switches() -> None:
    """With one host, slowness resets the record instead of switching."""
    state = HostState(HOSTS[:1])
    for _ in range(5):
        state = state.after_answer(HOSTS[0], 5, POLICY)
    assert state.active_host == HOSTS[0]


def test_cooldown_return_is_due_only_after_the_cooldown() -> None:
    """The preferred host is due again only once the cool-down has passed."""
    state = HostState(HOSTS).after_unreachable(HOSTS[0], now=100)
    assert not state.due_return(POLICY, 159)
    assert state.due_return(POLICY, 160)
    assert state.returned().active_host == HOSTS[0]
    assert not state.due_return(FailoverPolicy(cooldown=None), 10**9)


def test_attempt_order_starts_at_the_active_host() -> None:
    """A call tries the active host first, then the others in order."""
    assert HostState(HOSTS, active=1).attempt_order() == (HOSTS[1], HOSTS[0])


@pytest.mark.parametrize("code", sorted(CODES))
def test_retry_follows_the_code_table(code: int) -> None:
    """Only codes whose Retry column says SAME_HOST get a retry delay."""
    delay = POLICY.retry_delay(CODES[code].retry, retries=0, elapsed=0, rng=_rng(0))
    assert (delay is not None) == (CODES[code].retry is Retry.SAME_HOST)


def test_retries_are_bounded_in_tries_and_time() -> None:
    """No retry past retry_tries, nor one that would start after retry_time."""
    policy = FailoverPolicy(retry_tries=2, retry_time=1.0, backoff_base=0.5, backoff_max=0.5)
    rng = _rng(3)
    assert policy.retry_delay(Retry.SAME_HOST, retries=1, elapsed=0, rng=rng) is not None
    assert policy.retry_delay(Retry.SAME_HOST, retries=2, elapsed=0, rng=rng) is None
    assert policy.retry_delay(Retry.SAME_HOST, retries=0, elapsed=1.0, rng=rng) is None


def test_backoff_is_jittered_and_capped() -> None:
    """Backoff is drawn from [0, min(max, base * 2**n)] and differs between draws."""
    policy = FailoverPolicy(backoff_base=0.1, backoff_max=0.3)
    rng = _rng(1)
    draws = [policy.backoff(5, rng) for _ in range(50)]
    assert all(0 <= d <= 0.3 for d in draws)
    assert len(set(draws)) > 1


def test_budget_spends_refunds_and_runs_out() -> None:
    """The retry budget pays costs until empty and refills with successes up to capacity."""
    budget = RetryBudget(10)
    spent = budget.spend(5)
    assert spent is not None
    assert spent.spend(5) is not None
    assert spent.spend(6) is None
    assert spent.refund(100).tokens == 10


def test_zero_budget_means_no_budget() -> None:
    """A budget of 0 never refuses: the policy's bounds alone limit retries."""
    assert RetryBudget(0).spend(5) == RetryBudget(0)


def test_policy_rejects_out_of_range_settings() -> None:
    """A setting out of range raises ValidationError naming it."""
    with pytest.raises(mandao.ValidationError, match=r"failover\.slow_consecutive"):
        FailoverPolicy(slow_consecutive=0)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"slow_threshold": "x"}, "failover.slow_threshold: expected seconds, more than 0"),
        ({"retry_tries": 1.5}, "failover.retry_tries: expected a whole number, 0 or more"),
        ({"budget": True}, "failover.budget: expected a whole number, 0 or more"),
        ({"cooldown": False}, "failover.cooldown: expected seconds, 0 or more"),
        ({"average_weight": float("nan")}, "failover.average_weight: expected a number"),
    ],
)
def test_policy_rejects_settings_of_the_wrong_type(given: dict[str, object], expected: str) -> None:
    """Text, a bool or a fraction for a count: a ValidationError naming the field and what
    it takes, not a TypeError from a comparison, nor a policy that counts 1.5 retries."""
    with pytest.raises(mandao.ValidationError) as raised:
        FailoverPolicy(**given)  # type: ignore[arg-type]
    assert str(raised.value).startswith(expected)
    assert raised.value.argument == f"failover.{next(iter(given))}"


def test_policy_checks_every_field() -> None:
    """Each field has its check: a field added without one would take any value."""
    import dataclasses

    from mandao._core.failover import _FIELDS

    assert set(_FIELDS) == {f.name for f in dataclasses.fields(FailoverPolicy)}


def test_client_takes_a_policy() -> None:
    """Client(failover=...) keeps the policy it is given."""
    policy = FailoverPolicy(cooldown=None)
    client = mandao.Client("SDK-TST-010-00001", "secret", failover=policy)
    assert client._failover is policy


def test_rrid_shape() -> None:
    """A client-made rrid is 18 digits, not starting with 0."""
    rrid = make_rrid()
    assert len(rrid) == 18
    assert rrid.isdigit()
    assert rrid[0] != "0"


def test_rrid_runs_ahead_of_the_clock_instead_of_repeating() -> None:
    """More than 100 rrids in one second of a frozen clock are still all different."""
    made = [make_rrid(clock=1_800_000_000.0) for _ in range(1000)]
    assert len(set(made)) == 1000


def test_rrid_unique_across_threads() -> None:
    """16 threads making 1,000 rrids each never make the same one twice."""
    made: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [make_rrid() for _ in range(1000)]
        with lock:
            made.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 16_000


def test_rrid_unique_across_processes() -> None:
    """Four processes started together make no rrid in common."""
    code = "from mandao._compose.rrid import make_rrid\nprint(*(make_rrid() for _ in range(2000)))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    made = [rrid for p in procs for rrid in p.communicate()[0].split()]
    assert len(made) == 8000
    assert len(set(made)) == 8000


def test_rrid_node_is_not_the_process_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """Containers number processes alike: two processes that are both pid 1 differ.

    The node is drawn from ten million values, so this fails once in ten million runs.
    """
    from mandao._compose import rrid

    monkeypatch.setattr(os, "getpid", lambda: 1)
    monkeypatch.setattr(rrid, "_pid", -1)  # a new process
    first = make_rrid(clock=1_800_000_000.0)
    monkeypatch.setattr(rrid, "_pid", -1)  # another new process, also pid 1
    second = make_rrid(clock=1_800_000_000.0)
    assert first[:9] == second[:9]  # the same second
    assert first[9:16] != second[9:16]
