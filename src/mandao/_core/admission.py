"""Who may send now, and where: one serial's host groups and its requests in flight.

The gateway serialises a serial. It answers ``-19`` when one serial is used on two
interface addresses at once, and (by default) ``-18`` when a serial submits again before its
last submission has returned. Both of a host's services (the send service on 8061, the
account service on 8060) are one address. So admission is per serial, over **host groups**:
group *i* is the *i*-th send URL paired with the account URL of the same host, and both
services follow one active group.

A request that went out and got no answer (a reset or a timeout after it was written) may
still be at work on its host: its slot is *held* until one read timeout has passed since it
was written, and counts as in flight on its group until then. A slot that another process
holds (its lease, in a shared store) is a hold too.

Everything here is a value changed by returning a new one; a driver keeps the current
:class:`Admission` behind its own lock (a thread condition, an asyncio primitive, a shared
store) and waits when :func:`admit` says wait: until a release, or until :meth:`Admission.
wakes_at`, when a hold ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from .._config import short_host
from .failover import FailoverPolicy, HostState
from .hosts import HostGroups

__all__ = ["Admission", "Change", "HostGroups", "admit", "release"]

logger = logging.getLogger("mandao")


class Change(Enum):
    """What a finished request says about its host group."""

    UNREACHABLE = "unreachable"  # provably never reached it: the next group becomes active
    ANSWERED = "answered"  # answered (any code) in some seconds: maybe slow
    NO_ANSWER = "no-answer"  # sent, no decodable answer: counts as a slow answer
    NONE = "none"  # interrupted: nothing learnt


@dataclass(frozen=True, slots=True)
class Admission:
    """One serial's admission state.

    Attributes:
        groups: the serial's host groups.
        hosts: the failover state over group indices (as text: ``"0"``, ``"1"``, ...).
        in_flight: requests admitted and not yet released.
        group: the group those requests went to (None when none is in flight).
        probing: back on the preferred group after a cool-down: one request goes first.
        limit: most requests in flight at once (None: no limit).
        holds: slots taken by no request of this state's own: ``(group, until)``, each
            counted in flight on ``group`` until the clock reaches ``until``.
    """

    groups: HostGroups
    hosts: HostState
    in_flight: int = 0
    group: int | None = None
    probing: bool = False
    limit: int | None = None
    holds: tuple[tuple[int, float], ...] = ()

    @classmethod
    def start(cls, groups: HostGroups, limit: int | None = None) -> Admission:
        """The state before any request: the preferred group active, nothing in flight."""
        if limit is not None and limit < 1:
            raise ValueError(f"at least one request must be let in flight, not {limit}")
        return cls(groups, HostState(tuple(str(i) for i in range(groups.size))), limit=limit)

    @property
    def active(self) -> int:
        """The group requests go to now."""
        return self.hosts.active

    def wakes_at(self) -> float | None:
        """When the first hold ends (a waiter may be admitted then), or None."""
        return min((until for _, until in self.holds), default=None)

    def _expired(self, now: float) -> Admission:
        """This state without the holds that ended by ``now``."""
        if not self.holds or all(until > now for _, until in self.holds):
            return self
        holds = tuple(h for h in self.holds if h[1] > now)
        group = self.group if self.in_flight or holds else None
        return self._but(holds=holds, group=group)

    def _but(
        self,
        *,
        hosts: HostState | None = None,
        in_flight: int | None = None,
        group: int | Literal["same"] | None = "same",
        probing: bool | None = None,
        holds: tuple[tuple[int, float], ...] | None = None,
    ) -> Admission:
        """This state with the given fields changed (``dataclasses.replace`` at a fifth
        of its cost: this runs twice a request)."""
        return Admission(
            self.groups,
            self.hosts if hosts is None else hosts,
            self.in_flight if in_flight is None else in_flight,
            self.group if group == "same" else group,
            self.probing if probing is None else probing,
            self.limit,
            self.holds if holds is None else holds,
        )


def admit(
    state: Admission,
    policy: FailoverPolicy,
    *,
    service: str,
    exclude: frozenset[int] = frozenset(),
    now: float,
) -> tuple[Admission, int | None]:
    """Admit one request to a group serving ``service``, not one in ``exclude``.

    Returns the new state and the group granted, or the state and None: wait until a
    request is released, then ask again. A request may start on another group than the
    one with requests in flight only once those have all finished (``-19``), and never
    past ``limit`` requests in flight (``-18``).

    >>> p = FailoverPolicy()
    >>> groups = HostGroups.pair({"send": ("http://a/x.asmx", "http://b/x.asmx")})
    >>> s, g = admit(Admission.start(groups, limit=1), p, service="send", now=0)
    >>> g, admit(s, p, service="send", now=0)[1]
    (0, None)
    """
    state = state._expired(now)
    busy = state.in_flight + len(state.holds)
    if state.hosts.due_return(policy, now):
        # Admit nothing more to the current group: once it drains, go back.
        if busy > 0:
            return state, None
        state = state._but(hosts=state.hosts.returned(), probing=True)
        logger.info("cool-down over, back to %s", _label(state, service, 0))
    if state.probing and busy > 0:
        # Back on the preferred group: one request finds out whether it is well before
        # the others follow (a circuit breaker's half-open state).
        return state, None
    if state.limit is not None and busy >= state.limit:
        return state, None
    serving = state.groups.serving(service)
    order = (int(label) for label in state.hosts.attempt_order())
    target = next((g for g in order if g in serving and g not in exclude), None)
    if target is None:
        raise LookupError("no group left to admit to")  # the caller counts its tries
    if busy == 0 or state.group == target:
        return state._but(in_flight=state.in_flight + 1, group=target), target
    return state, None


def release(
    state: Admission,
    policy: FailoverPolicy,
    *,
    group: int,
    change: Change,
    elapsed: float = 0.0,
    now: float,
    hold_until: float | None = None,
) -> Admission:
    """The state after one request to ``group`` finished; ``change`` says how.

    With ``hold_until`` (later than ``now``), the request's slot stays taken until then:
    its host may still be working on it.
    """
    hosts, label = state.hosts, str(group)
    if change is Change.UNREACHABLE:
        hosts = hosts.after_unreachable(label, now=now)
    elif change is Change.ANSWERED:
        hosts = hosts.after_answer(label, elapsed, policy, now=now)
    elif change is Change.NO_ANSWER:
        hosts = hosts.after_failure(label, policy, now=now)
    if hosts.active != state.hosts.active:
        logger.warning("switching %s: %s", _switch(state, state.hosts.active, hosts.active),
                       _WHY[change].format(n=policy.slow_consecutive))  # fmt: skip
    in_flight = state.in_flight - 1
    holds = state.holds
    if hold_until is not None and hold_until > now:
        holds += ((group, hold_until),)
    return state._but(
        hosts=hosts,
        in_flight=in_flight,
        group=state.group if in_flight or holds else None,
        probing=False,
        holds=holds,
    )._expired(now)


#: Why a release moved the serial to another group, for the log line saying so.
_WHY = {
    Change.UNREACHABLE: "it was unreachable",
    Change.ANSWERED: "{n} slow answers in a row, or a slow average (FailoverPolicy)",
    Change.NO_ANSWER: "{n} requests in a row without an answer or slow (a timeout, a reset or "
    "an error page counts as a slow answer; FailoverPolicy.slow_consecutive)",
    Change.NONE: "its state changed",
}


def _switch(state: Admission, old: int, new: int) -> str:
    """A switch of the active group, for the log: the first service's URLs (the send
    service's) when both groups have one, else another's, named, else each group's URLs."""
    urls = state.groups.urls
    both = [s for s in urls if state.groups.url(s, old) and state.groups.url(s, new)]
    if both:
        which = "" if both[0] == next(iter(urls)) else f" ({both[0]} service)"
        return f"from {_label(state, both[0], old)} to {_label(state, both[0], new)}{which}"

    def named(group: int) -> str:
        found = [(s, state.groups.url(s, group)) for s in urls]
        return " and ".join(f"{short_host(u)} ({s})" for s, u in found if u) or f"group {group}"

    return f"from {named(old)} to {named(new)}"


def _label(state: Admission, service: str, group: int) -> str:
    """A group's host for log lines: its URL for ``service``."""
    url = state.groups.url(service, group)
    return short_host(url) if url else f"group {group}"
