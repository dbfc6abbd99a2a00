"""One serial's admission and retry budget, shared by the threads of one process.

The state is the pure :class:`~mandao._core.admission.Admission`; this store keeps the
current value under a condition variable, and a thread told to wait by
:func:`~mandao._core.admission.admit` waits until a request is released: admit only says
wait while a request is in flight.
"""

from __future__ import annotations

import threading
import time

from .._core.admission import Admission, admit, release
from .._core.call import Admit, Granted, Release, Released
from .._core.failover import FailoverPolicy, RetryBudget
from .._core.hosts import HostGroups

__all__ = ["SerialStore"]


class SerialStore:
    """The admission state and retry budget of one serial, for threads."""

    def __init__(
        self, groups: HostGroups, policy: FailoverPolicy, *, limit: int | None = None
    ) -> None:
        self.policy = policy
        self._cond = threading.Condition()
        self._state = Admission.start(groups, limit)
        self._budget = RetryBudget(policy.budget)

    @property
    def state(self) -> Admission:
        """The admission state now."""
        return self._state

    def active_host(self, service: str) -> str:
        """Where requests to ``service`` go now."""
        return self._state.groups.first(service, self._state.active)

    def admit(self, effect: Admit) -> Granted:
        """Wait for a slot, as :func:`admit` rules; the grant."""
        groups = self._state.groups
        serving = tuple(
            (g, url)
            for g in groups.serving(effect.service)
            if (url := groups.url(effect.service, g)) is not None
        )
        with self._cond:
            while True:
                now = time.monotonic()
                state, group = admit(
                    self._state,
                    self.policy,
                    service=effect.service,
                    exclude=effect.exclude,
                    now=now,
                )
                self._state = state
                if group is not None:
                    url = groups.url(effect.service, group)
                    assert url is not None  # noqa: S101
                    return Granted(group, url, serving, now)
                # Every "wait" has a request in flight, whose release wakes us.
                self._cond.wait()

    def release(self, effect: Release) -> Released:
        """The request left its group; pay ``spend`` from the budget, add ``refund``."""
        with self._cond:
            self._state = release(
                self._state,
                self.policy,
                group=effect.group,
                change=effect.change,
                elapsed=effect.elapsed,
                now=time.monotonic(),
            )
            paid = True
            if effect.spend:
                after = self._budget.spend(effect.spend)
                paid = after is not None
                self._budget = after or self._budget
            if effect.refund:
                self._budget = self._budget.refund(effect.refund)
            self._cond.notify_all()
        return Released(paid)
