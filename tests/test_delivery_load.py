"""Delivery safety under load: one shared Client, many threads, faults and an outage."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

import mandao
from mandao import FailoverPolicy
from mandao.testing import FAULT_KINDS, Fault, SandboxGateway

from .conftest import PASSWORD, SN


class _Tally:
    """What the clients reported per mobile, over every phase of a run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self.sent_to: Counter[str] = Counter()
        self.unknown_to: Counter[str] = Counter()

    def send(self, client: mandao.Client, n: int) -> None:
        """Send message ``n`` to its own mobile and count how it ended."""
        mobile = f"138{n:08d}"
        try:
            client.send(mobile, f"负载 {n}【示例】")
            kind = "sent"
        except mandao.OutcomeUnknown:
            kind = "unknown"
        except mandao.MandaoError:
            kind = "error"
        with self.lock:
            self.outcomes[kind] += 1
            (self.sent_to if kind == "sent" else self.unknown_to)[mobile] += kind != "error"

    def check(self, gw: SandboxGateway, calls: int) -> None:
        """The ledger holds every reported send once, at most the unknown ones, nothing else."""
        ledger = Counter(m.mobile for m in gw.ledger.messages)
        for mobile, count in ledger.items():
            assert self.sent_to[mobile] <= count <= self.sent_to[mobile] + self.unknown_to[mobile]
        assert all(ledger[m] == 1 for m in self.sent_to), "a reported send is missing"
        assert not gw.ledger.duplicates()
        assert not gw.ledger.rejections_with("-19")
        assert sum(self.outcomes.values()) == calls


def _run(client: mandao.Client, tally: _Tally, numbers: range, threads: int) -> None:
    """Send one message per number in ``numbers`` from ``threads`` threads."""
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda n: tally.send(client, n), numbers))


def test_sixteen_threads_through_an_outage() -> None:
    """16 threads, 2,000 sends; the primary cut under a request in flight, down, then up:
    no -19, no duplicate, every call accounted for, and each phase on the host it must be."""
    with SandboxGateway(accounts={SN: PASSWORD}) as gw:
        # cooldown 0: back to the primary whenever nothing is in flight, so each call in the
        # outage tries it (refused: provably unsent) before the backup; no retry budget, so
        # those moves are bounded by the policy alone. Every phase is decided by the hosts'
        # state, not by how the threads happen to be scheduled.
        policy = FailoverPolicy(cooldown=0, budget=0)
        client = gw.client(SN, PASSWORD, timeout=(1, 2), failover=policy)
        tally = _Tally()
        _run(client, tally, range(0, 500), 16)
        # One request held on the primary, the primary taken down under it: the request was
        # written and its connection cut, so the client cannot know the outcome.
        with gw.primary.hold() as held, ThreadPoolExecutor(1) as one:
            cut = one.submit(tally.send, client, 500)
            assert held.wait()
            gw.primary.down()
            cut.result()
        _run(client, tally, range(501, 1201), 16)
        gw.primary.up()
        _run(client, tally, range(1201, 2000), 16)
        tally.check(gw, 2000)
        hosts = Counter(m.host for m in gw.ledger.messages)
        assert dict(tally.outcomes) == {"sent": 1999, "unknown": 1}
        assert tally.unknown_to == Counter({"13800000500": 1})
        # The cut request was carried out on the primary before it went down.
        assert (hosts[gw.hosts[0]], hosts[gw.hosts[1]]) == (500 + 1 + 799, 700)
        assert {m.host for m in gw.ledger.messages[-799:]} == {gw.hosts[0]}


@pytest.mark.slow
def test_soak_five_percent_faults() -> None:
    """5,000 sends with a seeded 5% fault mix: every call in one state, nothing doubled."""
    rng = random.Random(20261125)
    with SandboxGateway(accounts={SN: PASSWORD}) as gw:
        for kind in FAULT_KINDS:
            gw.primary.add_fault(
                Fault(
                    kind,  # type: ignore[arg-type]
                    probability=0.005,
                    seed=rng.randrange(1 << 30),
                    delay=0.05,
                    size=64 * 1024,
                    code=rng.choice(["-8", "-18", "-11", "-14", "-20"]),
                )
            )
        policy = FailoverPolicy(cooldown=0.2, backoff_base=0.005, backoff_max=0.02)
        client = gw.client(SN, PASSWORD, timeout=(1, 0.3), failover=policy)
        tally = _Tally()
        _run(client, tally, range(5000), 8)
        tally.check(gw, 5000)
        faults = Counter(f.kind for f in gw.ledger.faults)
        print(f"\nsoak: {dict(tally.outcomes)}; faults fired {dict(faults)}; ledger ok")
        assert sum(faults.values()) > 100
