"""The account state every sandbox host shares, and what each operation does to it.

One ``Backend`` per ``SandboxGateway``: the real hosts share one back end, so a Register on
the primary is seen by the backup, and a balance drained on one is drained on both. All
state changes happen under one lock; a request is checked, charged and recorded atomically.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from ._checks import Item, check_serial, md5_pwd, plan_send
from ._config import Rules, SandboxAccount
from ._ledger import Ledger, LedgerEntry, Rejection
from ._operations import PwdForm
from ._wire import Call

__all__ = ["AccountState", "Backend", "CallContext"]


@dataclass(frozen=True)
class CallContext:
    """Where a call arrived: host name, the host's send URL, the called service's URL, peer IP."""

    host_name: str
    send_url: str
    service_url: str
    client_ip: str


@dataclass(frozen=True)
class AccountState:
    """A snapshot of one serial's state in the sandbox (password left out)."""

    sn: str
    balance: int
    registered: bool
    disabled: bool
    ext_allowed: bool
    allowed_ips: tuple[str, ...] | None
    operations: frozenset[str] | None
    rate_limit: float | None
    register_changes_today: int
    registration: dict[str, str] = field(default_factory=dict)


@dataclass
class _Account:
    password: str
    balance: int
    registered: bool
    disabled: bool
    ext_allowed: bool
    allowed_ips: tuple[str, ...] | None
    operations: frozenset[str] | None
    rate_limit: float | None
    changes_day: date | None = None
    changes: int = 0
    registration: dict[str, str] = field(default_factory=dict)
    recent_sends: deque[float] = field(default_factory=deque)


class Backend:
    """Accounts, billing, checks and the ledger writes of one sandbox gateway."""

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
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}
        self._in_flight: dict[str, dict[str, int]] = {}
        self._last_host: dict[str, tuple[str, float]] = {}
        self._recent: dict[tuple[str, str, str], float] = {}
        # 18 digits, all digits, different from one run to the next (as the gateway's are).
        start = 10**17 + (int(time.time()) % 10**9) * 10**8
        self._ids = itertools.count(start)

    # -- account administration (from tests) --------------------------------------------
    def add_account(self, sn: str, account: SandboxAccount) -> None:
        """Create or replace the serial ``sn``."""
        with self._lock:
            self._accounts[sn] = _Account(
                password=account.password,
                balance=self.default_balance if account.balance is None else account.balance,
                registered=account.registered,
                disabled=account.disabled,
                ext_allowed=account.ext_allowed,
                allowed_ips=account.allowed_ips,
                operations=account.operations,
                rate_limit=account.rate_limit,
            )

    def update_account(self, sn: str, **changes: object) -> None:
        """Change fields of ``sn`` in place (``balance=0``, ``disabled=True``, ``password=...``)."""
        allowed = {f.name for f in dataclasses.fields(SandboxAccount)}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"unknown account field(s): {sorted(unknown)}")
        with self._lock:
            acct = self._get(sn)
            for key, value in changes.items():
                setattr(acct, key, value)

    def serials(self) -> list[str]:
        """Every serial, in the order added."""
        with self._lock:
            return list(self._accounts)

    def password(self, sn: str) -> str:
        """The serial's current password (UDPPwd may have changed it)."""
        with self._lock:
            return self._get(sn).password

    def _get(self, sn: str) -> _Account:
        try:
            return self._accounts[sn]
        except KeyError:
            raise KeyError(f"the sandbox has no account {sn!r}") from None

    def state(self, sn: str) -> AccountState:
        """A snapshot of ``sn``."""
        with self._lock:
            a = self._get(sn)
            return AccountState(
                sn=sn,
                balance=a.balance,
                registered=a.registered,
                disabled=a.disabled,
                ext_allowed=a.ext_allowed,
                allowed_ips=a.allowed_ips,
                operations=a.operations,
                rate_limit=a.rate_limit,
                register_changes_today=a.changes if a.changes_day == self._today() else 0,
                registration=dict(a.registration),
            )

    def _today(self) -> date:
        return datetime.fromtimestamp(self.clock()).date()

    # -- -19: one serial, one interface address at a time ----------------------------
    def enter(self, sn: str, host: str) -> bool:
        """Mark a request of ``sn`` in flight on ``host``; False if that breaks the -19 rule."""
        if not sn:
            return True
        with self._lock:
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
        with self._lock:
            flights = self._in_flight.get(sn, {})
            flights[host] = max(0, flights.get(host, 0) - 1)
            self._last_host[sn] = (host, self.clock())

    # -- calls -------------------------------------------------------------------------
    def refuse(self, call: Call, ctx: CallContext, code: str, *, forced: bool = False) -> str:
        """Record ``call`` as rejected with ``code`` and return the code."""
        self.ledger.reject(
            Rejection(
                code=code,
                operation=call.operation,
                sn=call.get("sn"),
                host=ctx.service_url,
                protocol=call.protocol,
                time=datetime.fromtimestamp(self.clock()),
                mobile=call.get("mobile") if "mobile" in call.params else "",
                rrid=call.get("rrid"),
                forced=forced,
            )
        )
        return code

    def call(self, call: Call, ctx: CallContext, *, forced: str | None = None) -> str:
        """Carry out ``call``; the result string (an id, a value, or a negative code)."""
        if forced is not None:
            return self.refuse(call, ctx, forced, forced=True)
        with self._lock:
            result = self._dispatch(call, ctx)
        if result.startswith("-"):
            self.refuse(call, ctx, result)
        return result

    def _auth(
        self, call: Call, ctx: CallContext, form: PwdForm, *, registered: bool = True
    ) -> _Account | str:
        sn, pwd = call.get("sn").strip(), call.get("pwd").strip()
        bad = check_serial(sn, pwd)
        if bad:
            return bad
        acct = self._accounts.get(sn)
        if acct is None or (registered and not acct.registered):
            return "-2"
        # Strict: the MD5 form is upper-case hex exactly; a lower-case hash is a wrong password.
        expected = md5_pwd(sn, acct.password) if form == "md5" else acct.password
        if pwd != expected:
            return "-2"
        if acct.disabled:
            return "-12"
        if acct.allowed_ips is not None and ctx.client_ip not in acct.allowed_ips:
            return "-22"
        if acct.operations is not None and call.operation not in acct.operations:
            return "-7"
        return acct

    def _dispatch(self, call: Call, ctx: CallContext) -> str:
        op = call.operation
        if op in ("mdsmssend", "mdgxsend"):
            return self._send(call, ctx)
        if op == "Register":
            return self._register(call, ctx)
        form: PwdForm = "md5" if op in ("mdgetSninfo", "balance") else "plain"
        acct = self._auth(call, ctx, form)
        if isinstance(acct, str):
            return acct
        if op == "mdgetSninfo":
            # Key order and Balance-as-string are the sandbox's pick (INTERFACE.md: low).
            return json.dumps(
                {"SN": call.get("sn").strip(), "Balance": str(acct.balance)}, separators=(",", ":")
            )
        if op in ("balance", "GetBalance"):
            return str(acct.balance)
        if op == "UnRegister":
            limited = self._count_change(acct)
            if limited:
                return limited
            acct.registered = False
            return "0"
        if op == "UDPPwd":
            new = call.get("newpwd").strip()
            if not new:
                return "-6"
            acct.password = new
            return "0"
        return "-6"  # pragma: no cover - the wire layer only passes known operations

    def _count_change(self, acct: _Account) -> str | None:
        today = self._today()
        if acct.changes_day != today:
            acct.changes_day, acct.changes = today, 0
        if acct.changes >= self.rules.register_limit:
            return self.rules.register_limit_code
        acct.changes += 1
        return None

    def _register(self, call: Call, ctx: CallContext) -> str:
        acct = self._auth(call, ctx, "plain", registered=False)
        if isinstance(acct, str):
            return acct
        if acct.registered:
            return "-1"
        limited = self._count_change(acct)
        if limited:
            return limited
        acct.registered = True
        acct.registration = {k: call.get(k) for k in call.params if k not in ("sn", "pwd")}
        return "0"

    def _send(self, call: Call, ctx: CallContext) -> str:
        acct = self._auth(call, ctx, "md5")
        if isinstance(acct, str):
            return acct
        now = self.clock()
        now_dt = datetime.fromtimestamp(now)
        items = plan_send(call, self.rules, now_dt, ext_allowed=acct.ext_allowed)
        if isinstance(items, str):
            return items
        limit = acct.rate_limit if acct.rate_limit is not None else self.rules.rate_limit
        if limit is not None:
            while acct.recent_sends and now - acct.recent_sends[0] >= 1.0:
                acct.recent_sends.popleft()
            if len(acct.recent_sends) >= limit:
                return "-8"
            acct.recent_sends.append(now)
        sn = call.get("sn").strip()
        window = self.rules.duplicate_window
        if window > 0:
            for item in items:
                seen = self._recent.get((sn, item.mobile, item.content))
                if seen is not None and now - seen < window:
                    return "-20"
        cost = sum(item.segments for item in items)
        if acct.balance < cost:
            return "-4"
        acct.balance -= cost
        reply, rrids = self._ids_for(call.operation, items)
        self.ledger.record(
            [
                LedgerEntry(
                    sn=sn,
                    mobile=item.mobile,
                    content=item.content,
                    host=ctx.send_url,
                    protocol=call.protocol,
                    operation=call.operation,
                    rrid=rrid,
                    id=reply,
                    ext=item.ext,
                    stime=item.stime,
                    scheduled=item.scheduled,
                    time=now_dt,
                    segments=item.segments,
                )
                for item, rrid in zip(items, rrids, strict=True)
            ]
        )
        if window > 0:
            for item in items:
                self._recent[(sn, item.mobile, item.content)] = now
        return reply

    def _ids_for(self, operation: str, items: list[Item]) -> tuple[str, list[str]]:
        given = [item.rrid for item in items]
        distinct = set(given)
        if distinct == {""}:
            fresh = f"{next(self._ids):018d}"
            return fresh, [fresh] * len(items)
        if len(distinct) == 1:
            return given[0], given
        # mdgxsend with one rrid per mobile: which single value the call returns is a choice.
        reply = (
            given[0] if self.rules.gx_reply == "first" and given[0] else f"{next(self._ids):018d}"
        )
        return reply, [r or reply for r in given]
