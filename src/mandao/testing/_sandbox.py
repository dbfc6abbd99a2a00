"""``SandboxGateway``: two sandbox hosts sharing one gateway state, a ledger, an inbox."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._accounts import DEFAULT_BALANCE, AccountState, SandboxAccount
from ._checks import md5_pwd
from ._choices import Rules
from ._host import SandboxHost
from ._inbound import InjectedReply, check_reply, china_time
from ._ledger import Ledger
from ._push import PushAttempt, Pusher, check_push_url
from ._reports import DeliveryReport, ReportSettings
from ._sandbox_inbox import InboxMixin
from ._state import GatewayState

if TYPE_CHECKING:
    from mandao import AsyncClient, Client

__all__ = ["SandboxGateway"]

_NO_ACCOUNT = (
    "the sandbox has no account: add one with gw.add_account(sn, password) "
    "or SandboxGateway(accounts={sn: password})"
)
#: What a client made here says to do when a fetch needs the journal it was made without
#: (the client's own advice, "not journal=None", names what the caller never wrote).
_NO_JOURNAL = (
    "the sandbox's gw.client(), gw.async_client() and gw.client_for() (the mandao_client "
    "fixture's) keep no journal unless given one: pass journal=PATH, e.g. "
    "gw.client_for(journal=tmp_path / 'journal.sqlite3')"
)


class SandboxGateway(InboxMixin):
    """A local Mandao gateway: a primary and a backup host, both services on each.

    Args:
        accounts: serial → password, or serial → :class:`SandboxAccount` for more set-up.
            These start registered, with ``default_balance`` messages, unless told otherwise.
        rules: the switchable behaviours (:class:`Rules`); defaults are documented there.
        default_balance: the balance of an account that does not set one.
        primary_ports, backup_ports: (send port, account port) of each host; 0 = any free port.
        clock: the time source for windows, the daily Register limit, ``stime``, reply
            times and the report clock.
        reports: how delivery reports are made (:class:`ReportSettings`).
        inbox: serve the web inbox and its JSON API on a port of its own
            (:attr:`inbox_url`) while the gateway runs; off by default, so a test suite's
            many sandboxes cost nothing extra.
        inbox_host, inbox_port: where the inbox listens (127.0.0.1, any free port); a
            host that is not loopback is warned about (the inbox shows every message).
        ledger_path: write the ledger to this file as JSON Lines as it goes, one line a
            record, flushed as each arrives (docs/sandbox.md, "The ledger file").

    >>> from mandao.testing import SandboxGateway
    >>> with SandboxGateway(accounts={"SDK-TST-010-00001": "secret"}) as gw:
    ...     gw.hosts[0].startswith("http://127.0.0.1:"), gw.balance("SDK-TST-010-00001")
    (True, 1000000)
    """

    def __init__(
        self,
        accounts: Mapping[str, str | SandboxAccount] | None = None,
        *,
        rules: Rules | None = None,
        default_balance: int = DEFAULT_BALANCE,
        primary_ports: tuple[int, int] = (0, 0),
        backup_ports: tuple[int, int] = (0, 0),
        clock: Callable[[], float] = time.time,
        reports: ReportSettings | None = None,
        inbox: bool = False,
        inbox_host: str = "127.0.0.1",
        inbox_port: int = 0,
        ledger_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.ledger = Ledger()
        self.rules = rules or Rules()
        self._state = GatewayState(
            self.rules, self.ledger, default_balance=default_balance, clock=clock, reports=reports
        )
        self._pusher = Pusher(clock=clock)
        self._push_to: dict[str | None, str] = {}
        for sn, account in (accounts or {}).items():
            self.add_account(sn, account)
        self.primary = SandboxHost("primary", self._state, primary_ports)
        self.backup = SandboxHost("backup", self._state, backup_ports)
        self._set_up_inbox(inbox, inbox_host, inbox_port, ledger_path)
        self._started = False

    def __repr__(self) -> str:
        state = "running" if self._started else "stopped"
        return f"<SandboxGateway {state} hosts={self.hosts if self._started else []}>"

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> SandboxGateway:
        """Bind and serve all four ports (127.0.0.1 only), and the inbox when asked for."""
        if not self._started:
            try:
                self.primary.up()
                self.backup.up()
                self._start_inbox()
            except OSError:
                self.stop()
                raise
            self._started = True
        return self

    def stop(self) -> None:
        """Close every port and connection, drop pushes not made yet; safe to call twice."""
        self._stop_inbox()
        self.primary._close()
        self.backup._close()
        self._pusher.close()
        self._started = False

    def __enter__(self) -> SandboxGateway:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------------------
    @property
    def hosts(self) -> list[str]:
        """[primary send URL, backup send URL], as ``Client(hosts=...)`` takes them."""
        return [self.primary.send_url, self.backup.send_url]

    @property
    def account_hosts(self) -> list[str]:
        """[primary account URL, backup account URL], for ``Client(account_hosts=...)``."""
        return [self.primary.account_url, self.backup.account_url]

    def environment(self) -> dict[str, str]:
        """``MANDAO_HOSTS`` and ``MANDAO_ACCOUNT_HOSTS`` for pointing ``mandao`` at this gateway.

        Full ``/webservice.asmx`` URLs, comma-separated, primary first; add ``MANDAO_SN``
        and ``MANDAO_PASSWORD`` for an account (``subprocess.run(..., env=...)``).
        """
        return {
            "MANDAO_HOSTS": ",".join(self.hosts),
            "MANDAO_ACCOUNT_HOSTS": ",".join(self.account_hosts),
        }

    def describe(self) -> dict[str, Any]:
        """What this gateway serves, as JSON-able data: URLs, accounts, faults, rules, reports,
        the inbox's URL (None when off).

        ``mandao sandbox --json`` prints it as its first line.
        """
        accounts = [self.account(sn) for sn in self.serials]
        return {
            "hosts": self.hosts,
            "account_hosts": self.account_hosts,
            "state": {host.name: host.state for host in (self.primary, self.backup)},
            "accounts": [
                {"sn": a.sn, "balance": a.balance, "registered": a.registered} for a in accounts
            ],
            "faults": [
                {"host": host.name, "kind": fault.kind}
                for host in (self.primary, self.backup)
                for fault in host.faults
            ],
            "rules": self.rules.describe_serial_rules(),
            "reports": dataclasses.asdict(self.report_settings),
            "environment": self.environment(),
            "inbox": self.inbox_url,
        }

    def client(self, sn: str, password: str, **kwargs: Any) -> Client:
        """A ``mandao.Client`` pointed at this gateway's hosts (extra keywords passed on).

        It keeps no send journal unless given ``journal=``: sandbox sends do not belong in
        the journal of real ones (a fetch of replies or reports without one says to give it
        one). ``hosts=`` or ``account_hosts=`` given replace the gateway's (one host of it,
        say).
        """
        import mandao  # lazily: the sandbox itself never needs the client

        client = mandao.Client(sn=sn, password=password, **self._pointed(kwargs))
        client._no_journal = _NO_JOURNAL  # the journal is off because this made it so
        return client

    def _pointed(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """``kwargs`` with this gateway's hosts and no journal, where they name none."""
        return {"hosts": self.hosts, "account_hosts": self.account_hosts, "journal": None,
                **kwargs}  # fmt: skip

    def async_client(self, sn: str, password: str, **kwargs: Any) -> AsyncClient:
        """A ``mandao.AsyncClient`` pointed at this gateway's hosts, as :meth:`client`
        makes a ``Client`` (no journal unless given ``journal=``)."""
        import mandao

        client = mandao.AsyncClient(sn=sn, password=password, **self._pointed(kwargs))
        client._no_journal = _NO_JOURNAL
        return client

    def client_for(self, sn: str | None = None, **kwargs: Any) -> Client:
        """A ``mandao.Client`` for a sandbox serial (default: the first), with its password.

        Raises:
            LookupError: no ``sn`` given and the sandbox has no account yet.
        """
        serials = self.serials
        if not sn and not serials:
            raise LookupError(_NO_ACCOUNT)
        serial = sn or serials[0]
        return self.client(serial, self._state.password(serial), **kwargs)

    # -- accounts -------------------------------------------------------------------------
    @property
    def serials(self) -> list[str]:
        """The serials the sandbox knows, in the order they were added."""
        return self._state.serials()

    def add_account(self, sn: str, account: str | SandboxAccount) -> None:
        """Add (or replace) a serial; a bare string is its password."""
        self._state.add_account(
            sn, SandboxAccount(account) if isinstance(account, str) else account
        )

    def account(self, sn: str) -> AccountState:
        """A snapshot of the serial's state (balance, registered, switches)."""
        return self._state.snapshot(sn)

    def update_account(self, sn: str, **changes: Any) -> None:
        """Change a serial in place: ``gw.update_account(sn, disabled=True)``."""
        self._state.update_account(sn, **changes)

    def balance(self, sn: str) -> int:
        """Messages left on the serial."""
        return self._state.snapshot(sn).balance

    def set_balance(self, sn: str, balance: int) -> None:
        """Set the serial's balance (in messages)."""
        self._state.update_account(sn, balance=balance)

    def in_flight(self, sn: str) -> dict[str, int]:
        """Requests of ``sn`` being processed now, per host name (``{"primary": 1}``)."""
        return self._state.in_flight(sn)

    def peak_in_flight(self, sn: str) -> int:
        """The most requests of ``sn`` being processed at once since the sandbox started
        (over both services and every host): what ``max_in_flight`` must bound."""
        return self._state.peak_in_flight(sn)

    def wait_in_flight(self, sn: str, count: int = 1, timeout: float | None = 10.0) -> bool:
        """Block until exactly ``count`` requests of ``sn`` are being processed.

        For tests that hold a request open (a ``slow`` fault, ``host.hold()``) and must
        know it holds its slot before they go on; False if ``timeout`` passed first.
        """
        return self._state.wait_in_flight(sn, count, timeout)

    @staticmethod
    def pwd(sn: str, password: str) -> str:
        """The MD5 form of ``pwd`` (upper-case hex MD5 of sn + password)."""
        return md5_pwd(sn, password)

    # -- replies (MO) and push -------------------------------------------------------------
    def _serial(self, sn: str | None) -> str:
        if sn is not None:
            self._state.snapshot(sn)  # KeyError naming it when there is no such account
            return sn
        serials = self.serials
        if not serials:
            raise LookupError(_NO_ACCOUNT)
        if len(serials) != 1:
            raise ValueError(f"the sandbox has {len(serials)} accounts: say which with sn=")
        return serials[0]

    def reply(
        self,
        mobile: str,
        text: str,
        ext: str = "",
        at: datetime | None = None,
        *,
        sn: str | None = None,
    ) -> InjectedReply:
        """A handset's reply (MO) to the account's service number + ``ext``, as it arrives.

        It waits for ``mo`` / ``RECSMS_UTF8`` (handed out once) and ``mo2`` (by id), and
        is pushed when a push URL is registered (:meth:`push_replies_to`). ``at`` is when
        it arrived (naive: China time; default now); ``sn`` is needed when the sandbox
        has more than one account.
        """
        return self.reply_many([(mobile, text)], ext=ext, at=at, sn=sn)[0]

    def reply_many(
        self,
        replies: Iterable[tuple[str, str]],
        *,
        ext: str = "",
        at: datetime | None = None,
        sn: str | None = None,
    ) -> list[InjectedReply]:
        """Several replies (``(mobile, text)`` pairs) at once, pushed in pushes of up to 1000."""
        serial = self._serial(sn)
        items = list(replies)
        if ext and not (ext.isascii() and ext.isdigit() and len(ext) <= 9):
            raise ValueError(f"ext must be up to 9 digits, not {ext!r}")
        for mobile, text in items:
            check_reply(mobile, text)
        state = self._state
        with state.lock:
            when = china_time(at if at is not None else state.clock())
            number = state.accounts[serial].service_number
            made = [state.inbox.add(serial, m, t, number, ext, when) for m, t in items]
        url = self._push_to.get(serial) or self._push_to.get(None)
        if url and made:
            self._pusher.push(url, made)
        self._replies_made(made)
        return made

    def replies(self, sn: str | None = None) -> list[InjectedReply]:
        """Every reply injected so far (for ``sn``, or for all), oldest first."""
        with self._state.lock:
            return self._state.inbox.all(sn)

    def push_replies_to(self, url: str | None, *, sn: str | None = None) -> None:
        """POST every reply injected from now on to ``url`` (a 127.0.0.1 URL); None stops.

        For one serial with ``sn=``, else for every serial without its own. A push is
        ``args=`` records joined by ``;`` (at most 1000), answered ``0`` by a receiver
        that took it; each is kept in :attr:`pushes`. Pushed replies stay readable by
        ``mo``, ``mo2`` and ``RECSMS_UTF8``.
        """
        if url is None:
            self._push_to.pop(sn, None)
            return
        check_push_url(url)
        self._push_to[sn] = url

    @property
    def pushes(self) -> list[PushAttempt]:
        """Every push made so far, oldest first: what was sent and what came back."""
        return self._pusher.attempts

    def wait_pushes(self, count: int = 1, timeout: float | None = 10.0) -> bool:
        """Block until ``count`` pushes have been made; False if ``timeout`` passed first."""
        return self._pusher.wait(count, timeout)

    # -- delivery reports ------------------------------------------------------------------
    @property
    def report_settings(self) -> ReportSettings:
        """How delivery reports are made now (:class:`ReportSettings`)."""
        with self._state.lock:
            return self._state.reports.settings

    def configure_reports(
        self, settings: ReportSettings | None = None, **changes: Any
    ) -> ReportSettings:
        """Use ``settings`` (or the current ones with ``changes``) for sends from now on.

        ``gw.configure_reports(failed=0.1, delay=30, layout="semicolon")``; returns the
        settings in force. Reports already made keep their status and due time.
        """
        with self._state.lock:
            base = settings or self._state.reports.settings
            new = dataclasses.replace(base, **changes)
            self._state.reports.configure(new)
            return new

    def advance_reports(self, seconds: float) -> int:
        """Move the report clock ``seconds`` ahead (tests never sleep); how many came due."""
        with self._state.lock:
            return self._state.reports.advance(seconds, self._state.clock())

    def release_reports(self) -> int:
        """Make every report made so far due now, whatever its delay; how many came due."""
        with self._state.lock:
            return self._state.reports.release(self._state.clock(), everything=True)

    def reports(self, sn: str | None = None, *, pending: bool = False) -> list[DeliveryReport]:
        """Reports that came due (with their report ids), or with ``pending`` those not yet."""
        with self._state.lock:
            book = self._state.reports
            book.release(self._state.clock())
            return book.pending(sn) if pending else book.due(sn)
