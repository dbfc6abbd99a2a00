"""The sans-IO core: admission of one serial's requests over its host groups (no I/O)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mandao._core.admission import Admission, Change, admit, release
from mandao._core.failover import FailoverPolicy
from mandao._core.hosts import HostGroups

SEND = ("http://a.example:8061/webservice.asmx", "http://b.example:8061/webservice.asmx")
ACCOUNT = ("http://a.example:8060/webservice.asmx", "http://b.example:8060/webservice.asmx")
POLICY = FailoverPolicy(cooldown=30)


def _start(limit: int | None = None) -> Admission:
    return Admission.start(HostGroups.pair({"send": SEND, "account": ACCOUNT}), limit)


def test_groups_pair_services_by_hostname() -> None:
    """The account URL of a group is the one on the send URL's host, whatever the order."""
    groups = HostGroups.pair({"send": SEND, "account": ACCOUNT[::-1]})
    assert groups.url("account", 0) == ACCOUNT[0]
    assert groups.url("account", 1) == ACCOUNT[1]


def test_groups_pair_by_position_when_hostnames_do_not_tell() -> None:
    """On one hostname (a sandbox on 127.0.0.1), group i is the i-th URL of each list."""
    send = ("http://127.0.0.1:1/webservice.asmx", "http://127.0.0.1:2/webservice.asmx")
    account = ("http://127.0.0.1:3/webservice.asmx",)
    groups = HostGroups.pair({"send": send, "account": account})
    assert groups.urls == {"send": send, "account": (account[0], None)}
    assert groups.serving("account") == (0,)


def test_requests_share_the_group_in_flight() -> None:
    """Without a limit, any number of requests go to the group already in flight."""
    state = _start()
    for expected in (1, 2, 3):
        state, group = admit(state, POLICY, service="send", now=0)
        assert (group, state.in_flight) == (0, expected)


def test_the_limit_holds_requests_in_flight() -> None:
    """With limit=1 a second request waits until the first is released (the -18 rule)."""
    state, group = admit(_start(limit=1), POLICY, service="send", now=0)
    assert group == 0
    waiting, none = admit(state, POLICY, service="account", now=0)
    assert none is None
    assert waiting.in_flight == 1
    state = release(state, POLICY, group=0, change=Change.ANSWERED, elapsed=0.1, now=0)
    assert admit(state, POLICY, service="account", now=0)[1] == 0


def test_no_request_starts_on_another_group_while_one_is_in_flight() -> None:
    """A switch waits until the old group drains: never two addresses at once (-19)."""
    state, _ = admit(_start(), POLICY, service="send", now=0)
    state, _ = admit(state, POLICY, service="send", now=0)
    state = release(state, POLICY, group=0, change=Change.UNREACHABLE, now=1)
    assert (state.active, state.in_flight) == (1, 1)
    assert admit(state, POLICY, service="send", now=1)[1] is None
    state = release(state, POLICY, group=0, change=Change.ANSWERED, elapsed=0.1, now=1)
    assert admit(state, POLICY, service="send", now=1)[1] == 1


def test_the_account_service_follows_the_send_service() -> None:
    """After the send service moves to group 1, account requests go there too."""
    state, _ = admit(_start(), POLICY, service="send", now=0)
    state = release(state, POLICY, group=0, change=Change.UNREACHABLE, now=0)
    state, group = admit(state, POLICY, service="account", now=0)
    assert group == 1
    assert state.groups.url("account", group) == ACCOUNT[1]


def test_excluded_groups_are_skipped() -> None:
    """A call that found group 0 unreachable is admitted to group 1."""
    _, group = admit(_start(), POLICY, service="send", exclude=frozenset({0}), now=0)
    assert group == 1


def test_excluding_every_group_is_a_driver_bug() -> None:
    """Asking for a slot with every group excluded is refused, not answered with a wait."""
    with pytest.raises(LookupError):
        admit(_start(), POLICY, service="send", exclude=frozenset({0, 1}), now=0)


def test_after_the_cooldown_one_request_probes_the_preferred_group() -> None:
    """Once the cool-down is over, the first request goes back alone; others wait for it."""
    state, _ = admit(_start(), POLICY, service="send", now=0)
    state = release(state, POLICY, group=0, change=Change.UNREACHABLE, now=0)
    assert state.active == 1
    state, probe = admit(state, POLICY, service="send", now=31)
    assert (probe, state.probing) == (0, True)
    assert admit(state, POLICY, service="send", now=31)[1] is None
    state = release(state, POLICY, group=0, change=Change.ANSWERED, elapsed=0.1, now=31)
    assert admit(state, POLICY, service="send", now=31)[1] == 0


def test_a_due_return_waits_for_the_backup_to_drain() -> None:
    """With a request still on the backup, the return to the primary waits."""
    state, _ = admit(_start(), POLICY, service="send", now=0)
    state = release(state, POLICY, group=0, change=Change.UNREACHABLE, now=0)
    state, group = admit(state, POLICY, service="send", now=1)
    assert group == 1
    assert admit(state, POLICY, service="send", now=40)[1] is None


def test_an_unanswered_request_counts_as_slow() -> None:
    """A request without an answer counts as one slow answer on its group."""
    policy = FailoverPolicy(slow_consecutive=2)
    state, _ = admit(_start(), policy, service="send", now=0)
    state = release(state, policy, group=0, change=Change.NO_ANSWER, now=0)
    assert (state.active, state.hosts.slow_streak) == (0, 1)
    state, _ = admit(state, policy, service="send", now=0)
    state = release(state, policy, group=0, change=Change.NO_ANSWER, now=0)
    assert state.active == 1


def test_a_host_in_one_list_only_is_a_group_of_its_own() -> None:
    """hosts=[a, b], account_hosts=[b]: account calls share b's group, never a's."""
    groups = HostGroups.pair({"send": SEND, "account": ACCOUNT[1:]})
    assert groups.urls == {"send": SEND, "account": (None, ACCOUNT[1])}
    assert groups.first("account") == ACCOUNT[1]
    assert groups.first("send", active=1) == SEND[1]


def test_an_in_flight_limit_below_one_is_refused() -> None:
    """A limit of 0 would admit nothing, ever: it is refused when the state is made."""
    with pytest.raises(ValueError, match="at least one"):
        _start(limit=0)


def test_a_held_slot_counts_in_flight_until_it_ends() -> None:
    """A release with hold_until keeps the slot taken (the -18 rule) and the group pinned
    (the -19 rule) until the clock reaches it; wakes_at says when."""
    state, group = admit(_start(limit=1), POLICY, service="send", now=0)
    state = release(state, POLICY, group=0, change=Change.NO_ANSWER, now=1, hold_until=5)
    assert (state.in_flight, state.holds, state.wakes_at()) == (0, ((0, 5),), 5)
    assert admit(state, POLICY, service="send", now=4.9)[1] is None
    assert admit(state, POLICY, service="send", exclude=frozenset({0}), now=4.9)[1] is None
    after, group = admit(state, POLICY, service="send", now=5)
    assert (group, after.holds) == (0, ())


def test_holds_of_other_callers_pin_their_group() -> None:
    """Another process's lease on group 1 is a hold: nothing starts on group 0 meanwhile."""
    state = replace(_start(), group=1, holds=((1, 10.0),))
    assert admit(state, POLICY, service="send", now=0)[1] is None  # group 0 is preferred
    assert admit(state, POLICY, service="send", exclude=frozenset({0}), now=0)[1] == 1
    assert admit(state, POLICY, service="send", now=10)[1] == 0


C_ACCOUNT = "http://c.example:8060/webservice.asmx"


@pytest.mark.parametrize(
    ("send", "account", "logged"),
    [
        (SEND, ACCOUNT, "switching from a.example:8061 to b.example:8061: it was unreachable"),
        (
            SEND[:1],
            (ACCOUNT[0], C_ACCOUNT),
            "switching from a.example:8060 to c.example:8060 (account service): it was unreachable",
        ),
        (
            SEND[:1],
            (C_ACCOUNT,),
            "switching from a.example:8061 (send) to c.example:8060 (account): it was unreachable",
        ),
    ],
)
def test_a_switch_is_logged_with_urls_of_one_service(
    send: tuple[str, ...],
    account: tuple[str, ...],
    logged: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The switch names the send service's hosts; where the next group has no send URL
    (an account-only host), another service's, named, never a URL of one service passed
    off as the other's."""
    state = Admission.start(HostGroups.pair({"send": send, "account": account}), None)
    state, group = admit(state, POLICY, service="send", now=0)
    with caplog.at_level("WARNING", logger="mandao"):
        release(state, POLICY, group=group or 0, change=Change.UNREACHABLE, now=0)
    assert [r.getMessage() for r in caplog.records] == [logged]


def test_a_switch_after_requests_without_an_answer_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Timeouts, resets and error pages count as slow answers: three in a row switch, and
    the log line says so (it named the hosts only)."""
    state = Admission.start(HostGroups.pair({"send": SEND}), None)
    with caplog.at_level("WARNING", logger="mandao"):
        for _ in range(POLICY.slow_consecutive):
            state, group = admit(state, POLICY, service="send", now=0)
            state = release(state, POLICY, group=group or 0, change=Change.NO_ANSWER, now=0)
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("switching from a.example:8061 to b.example:8061: 3 requests in a row")
    assert "an error page counts as a slow answer" in line
