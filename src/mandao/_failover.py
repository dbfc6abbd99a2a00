"""Which host to use next: a pure value, no I/O.

This slice keeps the rule small and in one place: hosts are tried in order, a host that
provably did not take the request (refused, connect timeout, DNS) hands over to the next
one within the same call, and the host that answered stays active for what follows
(sticky), so one serial never has requests on two hosts by our doing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["HostState"]


@dataclass(frozen=True)
class HostState:
    """The hosts of one service and which of them is active.

    >>> state = HostState(("http://a/webservice.asmx", "http://b/webservice.asmx"))
    >>> state.active_host
    'http://a/webservice.asmx'
    >>> state.after_unreachable(state.active_host).active_host
    'http://b/webservice.asmx'
    """

    hosts: tuple[str, ...]
    active: int = 0

    @property
    def active_host(self) -> str:
        """Where requests go now."""
        return self.hosts[self.active]

    def attempt_order(self) -> tuple[str, ...]:
        """Hosts to try for one call: the active one first, then the others in order."""
        return self.hosts[self.active :] + self.hosts[: self.active]

    def after_unreachable(self, host: str) -> HostState:
        """The state after ``host`` provably did not take a request: the next host is active."""
        if host != self.active_host:
            return self
        return replace(self, active=(self.active + 1) % len(self.hosts))

    def after_success(self, host: str) -> HostState:
        """The state after ``host`` answered: it stays (or becomes) active."""
        return replace(self, active=self.hosts.index(host))
