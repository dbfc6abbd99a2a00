"""The requests session that carries a client's requests (and its REPL proxies)."""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import zeep

from .. import _log  # noqa: F401 - installs log redaction before any request
from .._version import __version__
from .bounded import Adapter

if TYPE_CHECKING:
    from requests.sessions import _Settings

__all__ = ["Session", "session"]

#: The variables requests reads for an http(s) URL's proxy and CA bundle.
_ENVIRONMENT = (
    "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
    "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
)  # fmt: skip


class Session(requests.Session):
    """A requests session that looks the proxy environment up again only when it changed.

    requests scans the whole environment for proxies on every request (0.1-0.2 ms here,
    about the difference between meeting and missing ``benchmarks/roundtrip.py``'s 1.25
    once the journal commits each outcome). This session keys its answer on the values of
    the variables that decide it, read on every request, so a change takes effect at once,
    as with requests. On Linux the environment is all there is; elsewhere (where requests
    also asks the system's proxy settings) it asks requests every time.

    Its adapters read each reply against one deadline (:mod:`.bounded`): the read timeout
    bounds the whole reply, status line and headers included.
    """

    def __init__(self) -> None:
        super().__init__()
        self._found: dict[tuple[str | None, ...], dict[str, str]] = {}
        self.mount("https://", Adapter())
        self.mount("http://", Adapter())

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: Any,
    ) -> _Settings:
        if (
            not self.trust_env
            or not isinstance(url, str)
            or (proxies and "no_proxy" in proxies)
            or not sys.platform.startswith("linux")
        ):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        environ = os.environ
        values = tuple(environ.get(name) for name in _ENVIRONMENT)
        key = (*urlsplit(url)[:2], *values)
        found = self._found.get(key)
        if found is None:
            if len(self._found) > 64:  # the environment keeps changing: start afresh
                self._found.clear()
            found = self._found[key] = requests.utils.get_environ_proxies(url)
        if proxies is not None:
            for name, value in found.items():
                proxies.setdefault(name, value)
        bundle = values[-2] or values[-1]
        if bundle and (verify is True or verify is None):
            verify = bundle
        return {
            "proxies": requests.sessions.merge_setting(proxies, self.proxies),
            "stream": requests.sessions.merge_setting(stream, self.stream),
            "verify": requests.sessions.merge_setting(verify, self.verify),
            "cert": requests.sessions.merge_setting(cert, self.cert),
        }


#: Every session a client carries its requests in, for a forked child to start afresh.
_CARRIERS: weakref.WeakSet[requests.Session] = weakref.WeakSet()


def session(given: requests.Session | None = None) -> requests.Session:
    """``given``, or a new :class:`Session`; either way it says who is calling, and a
    process forked after it was made uses connections of its own (:func:`_forked`)."""
    carrier = given or Session()
    carrier.headers["User-Agent"] = f"mandao/{__version__} zeep/{zeep.__version__}"
    _CARRIERS.add(carrier)
    return carrier


def _forked() -> None:
    """In a forked child, give each session's adapters new, empty pools: the parent's
    kept-alive connections are the parent's (a child that wrote on one read the answer
    to another process's request: gunicorn --preload, a Celery prefork worker). The
    child's copies of the old sockets close as they are collected; the parent keeps its
    own. A pickled adapter is remade so (requests' own ``__setstate__``); the pools' locks,
    which a parent's thread may have held, are left behind with them."""
    for carrier in list(_CARRIERS):
        for adapter in carrier.adapters.values():
            if isinstance(adapter, requests.adapters.HTTPAdapter):
                remade: Any = adapter  # the stubs do not declare the pickle methods
                remade.__setstate__(remade.__getstate__())


os.register_at_fork(after_in_child=_forked)
