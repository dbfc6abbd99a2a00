"""What a handler is given and what a row of ``HANDLERS`` holds: ``CallContext``, ``Handler``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._accounts import Account
from ._calls import Call, Result
from ._state import GatewayState

__all__ = ["CallContext", "Handler"]


@dataclass(frozen=True)
class CallContext:
    """Where a call arrived: host name, the host's send URL, the called service's URL, peer IP."""

    host_name: str
    send_url: str
    service_url: str
    client_ip: str


@dataclass(frozen=True)
class Handler:
    """One row of ``HANDLERS``.

    Args:
        run: ``run(call, account, state, ctx)`` answers the call of an authenticated
            ``account``, under ``state.lock``: an id, a value, a negative code, or the
            rows of an ``ArrayOfMOBody``.
        registered: whether only a registered serial may call it (False: ``Register``).
    """

    run: Callable[[Call, Account, GatewayState, CallContext], Result]
    registered: bool = True
