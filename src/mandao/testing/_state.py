"""The state every sandbox host shares: accounts, the ledger, and the -19/-20 bookkeeping.

One ``GatewayState`` per ``SandboxGateway``: the real hosts share one back end, so a
Register on the primary is seen by the backup, and a balance drained on one is drained on
both. The handlers (``_handlers``) change it under its ``lock``, so a request is checked,
charged and recorded atomically; this module holds the state and no operation's logic.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Callable
from datetime import date, datetime

from ._accounts import Account, AccountState, SandboxAccount
from ._choices import Rules
from ._ledger import Ledger

__all__ = ["GatewayState"]


class GatewayState:
    """Accounts, rules, clock, ledger and the cross-request memory of one sandbox gateway.

    ``lock`` guards ``accounts`` and ``recent``: a handler holds it for the whole request.
    """

    def __init__(
        self,
        rules: Rules,
        ledger: Ledger,
        *,
        default_balance: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rules = rules
        self.ledger = ledger
        self.default_balance = default_balance
        self.clock = clock
        self.lock = threading.Lock()
        self.accounts: dict[str, Account] = {}
        # (sn, mobile, decoded content) -> when it was last accepted, for -20.
        self.recent: dict[tuple[str, str, str], float] = {}
        self._in_flight: dict[str, dict[str, int]] = {}
        self._last_host: dict[str, tuple[str, float]] = {}
        # 18 digits, all digits, different from one run to the next (as the gateway's are).
        start = 10**17 + (int(time.time()) % 10**9) * 10**8
        self._ids = itertools.count(start)

    def new_id(self) -> str:
        """A fresh 18-digit id, as the gateway returns for an accepted send."""
        return f"{next(self._ids):018d}"

    def today(self) -> date:
        """The local calendar day of ``clock`` (the daily Register limit counts by it)."""
        return datetime.fromtimestamp(self.clock()).date()

    # -- account administration (from tests) --------------------------------------------
    def add_account(self, sn: str, account: SandboxAccount) -> None:
        """Create or replace the serial ``sn``."""
        with self.lock:
            self.accounts[sn] = Account.start(account, self.default_balance)

    def update_account(self, sn: str, **changes: object) -> None:
        """Change fields of ``sn`` in place (``balance=0``, ``disabled=True``, ``password=...``)."""
        allowed = {f.name for f in dataclasses.fields(SandboxAccount)}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"unknown account field(s): {sorted(unknown)}")
        with self.lock:
            acct = self._get(sn)
            for key, value in changes.items():
                setattr(acct, key, value)

    def serials(self) -> list[str]:
        """Every serial, in the order added."""
        with self.lock:
            return list(self.accounts)

    def password(self, sn: str) -> str:
        """The serial's current password (UDPPwd may have changed it)."""
        with self.lock:
            return self._get(sn).password

    def snapshot(self, sn: str) -> AccountState:
        """A snapshot of ``sn``."""
        with self.lock:
            return self._get(sn).snapshot(sn, self.today())

    def _get(self, sn: str) -> Account:
        try:
            return self.accounts[sn]
        except KeyError:
            raise KeyError(f"the sandbox has no account {sn!r}") from None

    # -- -19: one serial, one interface address at a time ----------------------------
    def enter(self, sn: str, host: str) -> bool:
        """Mark a request of ``sn`` in flight on ``host``; False if that breaks the -19 rule."""
        if not sn:
            return True
        with self.lock:
            flights = self._in_flight.setdefault(sn, {})
            if self.rules.concurrent_hosts:
                if any(n > 0 for h, n in flights.items() if h != host):
                    return False
                last = self._last_host.get(sn)
                window = self.rules.host_switch_window
                if window > 0 and last and last[0] != host and self.clock() - last[1] < window:
                    return False
            flights[host] = flights.get(host, 0) + 1
            return True

    def leave(self, sn: str, host: str) -> None:
        """The request marked by ``enter`` has finished."""
        if not sn:
            return
        with self.lock:
            flights = self._in_flight.get(sn, {})
            flights[host] = max(0, flights.get(host, 0) - 1)
            self._last_host[sn] = (host, self.clock())
