"""The state every sandbox host shares: accounts, the ledger, the -18/-19/-20 bookkeeping.

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

from ._accounts import (
    Account,
    AccountState,
    SandboxAccount,
    check_refused,
    check_serial_shape,
    check_service_number,
)
from ._choices import Rules, check_max_in_flight
from ._inbound import Inbox
from ._ledger import Ledger
from ._reports import ReportBook, ReportSettings

__all__ = ["GatewayState"]


class GatewayState:
    """Accounts, rules, clock, ledger and the cross-request memory of one sandbox gateway.

    ``lock`` guards ``accounts``, ``recent``, ``inbox`` (replies) and ``reports`` (delivery
    reports): a handler holds it for the whole request.
    """

    def __init__(
        self,
        rules: Rules,
        ledger: Ledger,
        *,
        default_balance: int,
        clock: Callable[[], float] = time.time,
        reports: ReportSettings | None = None,
    ) -> None:
        self.rules = rules
        self.ledger = ledger
        self.default_balance = default_balance
        self.clock = clock
        self.lock = threading.Lock()
        # Notified whenever a request takes or gives back an in-flight slot.
        self._slots_changed = threading.Condition(self.lock)
        self.accounts: dict[str, Account] = {}
        # (sn, mobile, decoded content) -> when it was last accepted, for -20.
        self.recent: dict[tuple[str, str, str], float] = {}
        self.inbox = Inbox()
        self.reports = ReportBook(reports or ReportSettings())
        # sn -> host name -> requests in flight there / when its last one there finished.
        self._in_flight: dict[str, dict[str, int]] = {}
        self._last_done: dict[str, dict[str, float]] = {}
        # sn -> the most of its requests in flight at once so far (both services, all hosts).
        self._peak: dict[str, int] = {}
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
        """Create or replace the serial ``sn`` (ValueError: not of the gateway's shape)."""
        check_serial_shape(sn)
        with self.lock:
            self.accounts[sn] = Account.start(account, self.default_balance)

    def update_account(self, sn: str, **changes: object) -> None:
        """Change fields of ``sn`` in place (``balance=0``, ``disabled=True``, ``password=...``)."""
        allowed = {f.name for f in dataclasses.fields(SandboxAccount)}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"unknown account field(s): {sorted(unknown)}")
        if "max_in_flight" in changes:
            check_max_in_flight(changes["max_in_flight"])  # type: ignore[arg-type]
        if "service_number" in changes:
            check_service_number(changes["service_number"])  # type: ignore[arg-type]
        if "refused" in changes:
            check_refused(changes["refused"])  # type: ignore[arg-type]
            changes["refused"] = dict(changes["refused"])  # type: ignore[call-overload]
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

    # -- -18 / -19: how a serial's requests may overlap ---------------------------------
    def take_slot(self, sn: str, host: str, acct: Account) -> str | None:
        """Mark a request of ``sn`` (``acct``) in flight on ``host``, or the code refusing it.

        Call under ``lock``, after authentication. ``-19``: the serial has a request in
        flight on another host, or (``host_switch_window``) finished one there less than the
        window ago. ``-18``: ``max_in_flight`` of its requests are in flight already, over
        every host and service. None: taken; ``release_slot`` gives it back.
        """
        rules = self.rules
        flights = self._in_flight.setdefault(sn, {})
        if rules.concurrent_hosts:
            if any(n > 0 for h, n in flights.items() if h != host):
                return "-19"
            window = rules.host_switch_window
            if window > 0:
                now = self.clock()
                done = self._last_done.get(sn, {})
                if any(h != host and now - t < window for h, t in done.items()):
                    return "-19"
        limit = acct.max_in_flight if acct.max_in_flight is not None else rules.max_in_flight
        if limit is not None and sum(flights.values()) >= limit:
            return "-18"
        flights[host] = flights.get(host, 0) + 1
        self._peak[sn] = max(self._peak.get(sn, 0), sum(flights.values()))
        self._slots_changed.notify_all()
        return None

    def release_slot(self, sn: str, host: str) -> None:
        """The request a ``take_slot`` let in has finished (takes ``lock`` itself)."""
        with self.lock:
            flights = self._in_flight.get(sn, {})
            flights[host] = max(0, flights.get(host, 0) - 1)
            self._last_done.setdefault(sn, {})[host] = self.clock()
            self._slots_changed.notify_all()

    def in_flight(self, sn: str) -> dict[str, int]:
        """Requests of ``sn`` being processed now, per host name (hosts with none left out)."""
        with self.lock:
            return {h: n for h, n in self._in_flight.get(sn, {}).items() if n > 0}

    def peak_in_flight(self, sn: str) -> int:
        """The most requests of ``sn`` that were being processed at once so far."""
        with self.lock:
            return self._peak.get(sn, 0)

    def wait_in_flight(self, sn: str, count: int, timeout: float | None) -> bool:
        """Block until exactly ``count`` requests of ``sn`` are in flight; False on timeout."""
        with self._slots_changed:
            return self._slots_changed.wait_for(
                lambda: sum(self._in_flight.get(sn, {}).values()) == count, timeout
            )
