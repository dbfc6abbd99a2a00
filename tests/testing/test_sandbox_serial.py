"""The gateway's per-serial rules: -18 (one submission at a time) and -19 (one address).

Every overlap here is made with ``host.hold()`` or a ``slow`` fault plus
``gw.wait_in_flight``: the tests wait on events, never on sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from mandao.testing import Rules, SandboxAccount, SandboxGateway

SN = "SDK-TST-010-00001"
PASSWORD = "secret"
OTHER = "SDK-TST-010-00002"


class Background:
    """Runs calls in threads and keeps what each returned (or raised)."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.results: list[str] = []
        self._lock = threading.Lock()

    def start(self, fn: Callable[[], str]) -> None:
        def run() -> None:
            try:
                value = fn()
            except Exception as exc:  # a cut connection, for the tests that take a host down
                value = f"error: {type(exc).__name__}"
            with self._lock:
                self.results.append(value)

        thread = threading.Thread(target=run, daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self) -> list[str]:
        for thread in self.threads:
            thread.join(10)
            assert not thread.is_alive()
        return sorted(self.results)


@pytest.fixture
def bg() -> Iterator[Background]:
    background = Background()
    yield background
    for thread in background.threads:
        thread.join(10)


def _gateway(rules: Rules | None = None, **account: object) -> SandboxGateway:
    accounts = {
        SN: SandboxAccount(PASSWORD, **account),  # type: ignore[arg-type]
        OTHER: SandboxAccount(PASSWORD),
    }
    return SandboxGateway(accounts=accounts, rules=rules)


def test_second_request_gets_minus_18_while_first_is_held(raw, raw_for, gw, bg):
    """While a serial's send is being processed, its next request is -18; after, it passes."""
    with gw.primary.hold() as held:
        bg.start(lambda: raw.send("13800138000", "first"))
        assert held.wait()
        assert gw.in_flight(SN) == {"primary": 1}
        second = raw_for(gw)
        assert second.send("13800138001", "second") == "-18"
        assert second.call("http-post", "mdsmssend", mobile="1", content="x") == "-18"
    (first,) = bg.join()
    assert first.isdigit()
    assert gw.wait_in_flight(SN, 0)
    assert raw_for(gw).send("13800138001", "second").isdigit()
    rejected = gw.ledger.rejections_with("-18")
    assert [(r.operation, r.protocol, r.host) for r in rejected] == [
        ("mdsmssend", "soap11", gw.primary.send_url),
        ("mdsmssend", "http-post", gw.primary.send_url),
    ]
    assert [m.mobile for m in gw.ledger.messages] == ["13800138000", "13800138001"]


def test_max_in_flight_two_lets_two_through_and_refuses_the_third(raw_for, bg):
    """max_in_flight=2: two requests held at once are fine, a third is -18."""
    with _gateway(max_in_flight=2) as gw:
        with gw.primary.hold(times=2) as held:
            for n in range(2):
                caller = raw_for(gw)
                bg.start(lambda caller=caller, n=n: caller.send(f"1380013800{n}", f"m{n}"))
            assert held.wait(2)
            assert gw.in_flight(SN) == {"primary": 2}
            assert raw_for(gw).send("13800138009", "third") == "-18"
        results = bg.join()
        assert all(r.isdigit() for r in results)
        assert len(results) == 2
        assert len(gw.ledger.rejections_with("-18")) == 1


def test_the_count_spans_both_services(raw, raw_for, gw, bg):
    """A send held on the send port makes a concurrent balance on the account port -18."""
    with gw.primary.hold(service="send") as held:
        bg.start(lambda: raw.send("13800138000", "held"))
        assert held.wait()
        other = raw_for(gw)
        assert other.call("soap11", "balance") == "-18"
        assert other.call("soap11", "GetBalance") == "-18"
    assert bg.join()[0].isdigit()
    assert gw.wait_in_flight(SN, 0)
    assert raw_for(gw).call("soap11", "balance").isdigit()
    assert [(r.operation, r.host) for r in gw.ledger.rejections] == [
        ("balance", gw.primary.account_url),
        ("GetBalance", gw.primary.account_url),
    ]


def test_minus_19_when_the_other_host_is_busy_with_the_serial(raw, raw_for, gw, bg):
    """A request arriving on the backup while the primary processes the serial is -19."""
    with gw.primary.hold() as held:
        bg.start(lambda: raw.send("13800138000", "on primary"))
        assert held.wait()
        other = raw_for(gw)
        assert other.send("13800138001", "on backup", host="backup") == "-19"
        assert other.call("soap11", "balance", host="backup") == "-19"
    assert bg.join()[0].isdigit()
    assert gw.wait_in_flight(SN, 0)
    assert raw_for(gw).send("13800138001", "on backup", host="backup").isdigit()
    assert [(r.code, r.host) for r in gw.ledger.rejections] == [
        ("-19", gw.backup.send_url),
        ("-19", gw.backup.account_url),
    ]


def test_a_slow_fault_holds_the_slot_even_after_the_client_gave_up(raw_for, gw):
    """A slow request keeps its slot while it waits: -18 on its host, -19 on the other."""
    gw.primary.fail("slow", delay=60)
    gone: list[str] = []

    def give_up() -> None:
        try:
            raw_for(gw).session.post(
                gw.primary.send_url.replace("webservice.asmx", "mdsmssend.ashx"),
                data=raw_for(gw).fields("mdsmssend", mobile="1", content="slow"),
                timeout=0.2,
            )
        except Exception as exc:  # the read timeout is the point
            gone.append(type(exc).__name__)

    worker = threading.Thread(target=give_up)
    worker.start()
    worker.join(10)
    assert gone == ["ReadTimeout"]
    assert gw.wait_in_flight(SN, 1)
    caller = raw_for(gw)
    assert caller.send("2", "same host") == "-18"
    assert caller.send("2", "other host", host="backup") == "-19"
    gw.primary.down()  # ends the slow wait; the slot is given back
    assert gw.wait_in_flight(SN, 0)
    assert caller.send("2", "other host", host="backup").isdigit()


def test_host_switch_window_spans_services_and_leaves_the_same_host_alone(raw_for):
    """With a window W, the other host (either service) is -19 for W s; the same host is not."""
    now = [1_700_000_000.0]
    rules = Rules(host_switch_window=5)
    accounts = {SN: PASSWORD, OTHER: PASSWORD}
    with SandboxGateway(accounts=accounts, rules=rules, clock=lambda: now[0]) as gw:
        raw = raw_for(gw)
        assert raw.send("1", "a").isdigit()
        now[0] += 4.9
        assert raw.call("soap11", "balance", host="backup") == "-19"
        assert raw.send("1", "b", host="backup") == "-19"
        assert raw.call("soap11", "balance").isdigit()  # same host: no window
        assert raw_for(gw, OTHER).send("1", "c", host="backup").isdigit()  # another serial
        now[0] += 5.0
        assert raw.send("1", "d", host="backup").isdigit()
        assert raw.send("1", "e") == "-19"  # now the primary is the other host
        assert len(gw.ledger.rejections_with("-19")) == 3


def test_window_zero_is_overlap_only(raw):
    """By default a switch to the other host right after a request finished is fine."""
    assert raw.send("1", "a").isdigit()
    assert raw.send("1", "b", host="backup").isdigit()
    assert raw.send("1", "c").isdigit()


def test_no_max_in_flight_turns_minus_18_off(raw_for, bg):
    """Rules(max_in_flight=None): concurrent requests of a serial on one host all pass."""
    with _gateway(Rules(max_in_flight=None)) as gw:
        raw = raw_for(gw)
        with gw.primary.hold() as held:
            bg.start(lambda: raw.send("1", "held"))
            assert held.wait()
            assert raw_for(gw).send("2", "beside it").isdigit()
            assert raw_for(gw).send("3", "other host", host="backup") == "-19"
        assert bg.join()[0].isdigit()


def test_concurrent_hosts_off_turns_minus_19_off(raw_for, bg):
    """Rules(concurrent_hosts=False): the other host takes the serial (if -18 lets it)."""
    with _gateway(Rules(concurrent_hosts=False, max_in_flight=2)) as gw:
        raw = raw_for(gw)
        with gw.primary.hold() as held:
            bg.start(lambda: raw.send("1", "held"))
            assert held.wait()
            assert raw_for(gw).send("2", "other host", host="backup").isdigit()
        assert bg.join()[0].isdigit()
        assert not gw.ledger.rejections


def test_without_serial_rules_turns_both_off(raw_for, bg):
    """Rules.without_serial_rules(): no -18, no -19, even with a window given."""
    with _gateway(Rules.without_serial_rules(host_switch_window=60)) as gw:
        raw = raw_for(gw)
        with gw.primary.hold() as held:
            bg.start(lambda: raw.send("1", "held"))
            assert held.wait()
            assert raw_for(gw).send("2", "same host").isdigit()
            assert raw_for(gw).send("3", "other host", host="backup").isdigit()
        assert bg.join()[0].isdigit()
        assert not gw.ledger.rejections


def test_max_in_flight_per_account_and_at_run_time(raw_for, bg):
    """An account's own max_in_flight wins over the rules; update_account changes it live."""
    with _gateway(Rules(max_in_flight=None), max_in_flight=1) as gw:
        raw = raw_for(gw)
        with gw.primary.hold() as held:
            bg.start(lambda: raw.send("1", "held"))
            assert held.wait()
            assert raw_for(gw).send("2", "beside it") == "-18"
            gw.update_account(SN, max_in_flight=2)
            assert gw.account(SN).max_in_flight == 2
            assert raw_for(gw).send("3", "beside it").isdigit()
        assert bg.join()[0].isdigit()
    with pytest.raises(ValueError, match="max_in_flight"):
        SandboxAccount(PASSWORD, max_in_flight=0)
    with pytest.raises(ValueError, match="max_in_flight"):
        Rules(max_in_flight=0)


def test_another_serial_is_not_affected(raw, raw_for, gw, bg):
    """A serial held on the primary leaves other serials free on both hosts."""
    gw.add_account(OTHER, PASSWORD)
    with gw.primary.hold() as held:
        bg.start(lambda: raw.send("1", "held"))
        assert held.wait()
        other = raw_for(gw, OTHER)
        assert other.send("2", "primary").isdigit()
        assert raw_for(gw, OTHER).call("soap11", "balance", host="backup").isdigit()
    assert bg.join()[0].isdigit()
    assert not gw.ledger.rejections


def test_failed_credentials_keep_their_answer_and_hold_no_slot(raw, raw_for, gw, bg):
    """-2, -601.. come before -18/-19: a bad caller is answered as before, busy or not."""
    with gw.primary.hold() as held:
        bg.start(lambda: raw.send("1", "held"))
        assert held.wait()
        assert raw_for(gw, SN, "wrong").send("2", "x") == "-2"
        assert raw_for(gw, SN, "wrong").send("2", "x", host="backup") == "-2"
        assert raw_for(gw, "").send("2", "x", host="backup") == "-601"
        assert gw.in_flight(SN) == {"primary": 1}
    assert bg.join()[0].isdigit()
    assert [r.code for r in gw.ledger.rejections] == ["-2", "-2", "-601"]


def test_a_refused_request_does_not_extend_the_window(raw_for):
    """A -19 answer is not a request that ran: it neither holds a slot nor moves the window."""
    now = [1_700_000_000.0]
    with SandboxGateway(
        accounts={SN: PASSWORD}, rules=Rules(host_switch_window=5), clock=lambda: now[0]
    ) as gw:
        raw = raw_for(gw)
        assert raw.send("1", "a").isdigit()
        now[0] += 3
        assert raw.send("1", "b", host="backup") == "-19"
        now[0] += 3
        assert raw.send("1", "c", host="backup").isdigit()
