"""One serial's hosts as groups: each service's URL on each host.

The gateway sees both services of a host (send on 8061, account on 8060) as one address,
so a serial's hosts are groups, and both services follow one active group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["HostGroups"]


@dataclass(frozen=True, slots=True)
class HostGroups:
    """One serial's hosts: per group, each service's URL (or None where it has none).

    URLs are grouped by hostname when no list names a host twice (a host in one list only
    is a group of its own); otherwise by position (a sandbox serves every port on
    127.0.0.1).

    >>> groups = HostGroups.pair({
    ...     "send": ("http://a:8061/webservice.asmx", "http://b:8061/webservice.asmx"),
    ...     "account": ("http://b:8060/webservice.asmx", "http://a:8060/webservice.asmx"),
    ... })
    >>> groups.url("account", 0)
    'http://a:8060/webservice.asmx'
    """

    urls: Mapping[str, tuple[str | None, ...]]

    @property
    def size(self) -> int:
        """How many groups there are."""
        return max((len(urls) for urls in self.urls.values()), default=0)

    @classmethod
    def pair(cls, hosts: Mapping[Any, Iterable[str]]) -> HostGroups:
        """The groups of per-service URL lists, each preferred first."""
        lists = {service: tuple(urls) for service, urls in hosts.items()}
        names = {service: [urlsplit(u).hostname for u in urls] for service, urls in lists.items()}
        if any(len(set(found)) < len(found) for found in names.values()):
            size = max((len(urls) for urls in lists.values()), default=0)
            return cls(
                {
                    s: tuple(u[i] if i < len(u) else None for i in range(size))
                    for s, u in lists.items()
                }
            )
        order = list(dict.fromkeys(name for found in names.values() for name in found))
        return cls(
            {
                s: tuple(lists[s][names[s].index(n)] if n in names[s] else None for n in order)
                for s in lists
            }
        )

    def url(self, service: str, group: int) -> str | None:
        """The URL of ``service`` in ``group``, or None."""
        urls = self.urls[service]
        return urls[group] if group < len(urls) else None

    def serving(self, service: str) -> tuple[int, ...]:
        """The groups that have a URL for ``service``."""
        return tuple(i for i, url in enumerate(self.urls[service]) if url is not None)

    def first(self, service: str, active: int = 0) -> str:
        """Where ``service`` goes with ``active`` the active group: the first group serving
        it, in preference order from the active one."""
        serving = self.serving(service)
        group = next((g for g in serving if g >= active), serving[0])
        url = self.urls[service][group]
        assert url is not None  # noqa: S101 (serving lists groups with a URL)
        return url
