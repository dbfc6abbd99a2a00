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


def _run(
    gw: SandboxGateway,
    client: mandao.Client,
    calls: int,
    threads: int,
    during: dict[int, object] | None = None,
) -> Counter[str]:
    """Send ``calls`` messages, one per distinct mobile; run ``during[n]`` after call n starts."""
    outcomes: Counter[str] = Counter()
    sent_to: Counter[str] = Counter()
    unknown_to: Counter[str] = Counter()
    lock = threading.Lock()
    started = iter(range(calls))

    def one(_: int) -> None:
        with lock:
            n = next(started)
            action = (during or {}).get(n)
        if callable(action):
            action()
        mobile = f"138{n:08d}"
        try:
            client.send(mobile, f"负载 {n}【示例】")
            kind = "sent"
        except mandao.OutcomeUnknown:
            kind = "unknown"
        except mandao.MandaoError:
            kind = "error"
        with lock:
            outcomes[kind] += 1
            (sent_to if kind == "sent" else unknown_to)[mobile] += kind != "error"

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(calls)))
    ledger = Counter(m.mobile for m in gw.ledger.messages)
    for mobile, count in ledger.items():
        assert sent_to[mobile] <= count <= sent_to[mobile] + unknown_to[mobile], mobile
    assert all(ledger[m] == 1 for m in sent_to), "a reported send is missing from the ledger"
    assert not gw.ledger.duplicates()
    assert not gw.ledger.rejections_with("-19")
    assert sum(outcomes.values()) == calls
    return outcomes


def test_sixteen_threads_through_an_outage() -> None:
    """16 threads, 2,000 sends, primary down then up: no -19, no duplicate, all accounted."""
    with SandboxGateway(accounts={SN: PASSWORD}) as gw:
        policy = FailoverPolicy(cooldown=0.05)
        client = gw.client(SN, PASSWORD, timeout=(1, 2), failover=policy)
        outcomes = _run(gw, client, 2000, 16, {500: gw.primary.down, 1200: gw.primary.up})
        hosts = Counter(m.host for m in gw.ledger.messages)
        print(f"\noutage run: {dict(outcomes)}; per host {dict(hosts)}")
        assert hosts[gw.hosts[0]] > 0
        assert hosts[gw.hosts[1]] > 0
        assert gw.ledger.messages[-1].host == gw.hosts[0], "never went back to the primary"
        assert outcomes["sent"] > 1900


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
        outcomes = _run(gw, client, 5000, 8)
        faults = Counter(f.kind for f in gw.ledger.faults)
        print(f"\nsoak: {dict(outcomes)}; faults fired {dict(faults)}; ledger ok")
        assert sum(faults.values()) > 100
