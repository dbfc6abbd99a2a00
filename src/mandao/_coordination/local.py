"""A serial's admission state for one process alone (``journal=None``): in its memory."""

from __future__ import annotations

import time

from .._core.admission import Admission, Change, admit, release
from .._core.failover import FailoverPolicy
from .._core.hosts import HostGroups

__all__ = ["LocalState"]


class LocalState:
    """The admission state in this process's memory, timed by its monotonic clock."""

    blocking = False

    def __init__(self, groups: HostGroups, policy: FailoverPolicy, limit: int | None) -> None:
        self._policy = policy
        self.admission = Admission.start(groups, limit)

    @property
    def lingering(self) -> int:
        return len(self.admission.holds)  # a hold here is a request's that went unanswered

    def try_admit(
        self, service: str, exclude: frozenset[int], *, lease: float
    ) -> tuple[int | None, float | None]:
        now = time.monotonic()
        self.admission, granted = admit(
            self.admission, self._policy, service=service, exclude=exclude, now=now
        )
        if granted is not None:
            return granted, None
        wakes = self.admission.wakes_at()
        return None, None if wakes is None else max(0.0, wakes - now)

    def release(self, group: int, change: Change, elapsed: float, *, hold: float) -> None:
        now = time.monotonic()
        self.admission = release(
            self.admission,
            self._policy,
            group=group,
            change=change,
            elapsed=elapsed,
            now=now,
            hold_until=now + hold if hold > 0 else None,
        )

    def renew(self, group: int, *, lease: float) -> bool:
        return True  # no other process sees these slots

    def withdraw(self) -> None:
        pass  # no line but this process's

    def restart(self) -> None:
        self.admission = Admission.start(self.admission.groups, self.admission.limit)
