"""``SandboxGateway``: two sandbox hosts sharing one gateway state, and a ledger."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._accounts import DEFAULT_BALANCE, AccountState, SandboxAccount
from ._checks import md5_pwd
from ._choices import Rules
from ._host import SandboxHost
from ._ledger import Ledger
from ._state import GatewayState

if TYPE_CHECKING:
    from mandao import AsyncClient, Client

__all__ = ["SandboxGateway"]


class SandboxGateway:
    """A local Mandao gateway: a primary and a backup host, both services on each.

    Args:
        accounts: serial → password, or serial → :class:`SandboxAccount` for more set-up.
            These start registered, with ``default_balance`` messages, unless told otherwise.
        rules: the switchable behaviours (:class:`Rules`); defaults are documented there.
        default_balance: the balance of an account that does not set one.
        primary_ports, backup_ports: (send port, account port) of each host; 0 = any free port.
        clock: the time source for windows, the daily Register limit and ``stime``.

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
    ) -> None:
        self.ledger = Ledger()
        self.rules = rules or Rules()
        self._state = GatewayState(
            self.rules, self.ledger, default_balance=default_balance, clock=clock
        )
        for sn, account in (accounts or {}).items():
            self.add_account(sn, account)
        self.primary = SandboxHost("primary", self._state, primary_ports)
        self.backup = SandboxHost("backup", self._state, backup_ports)
        self._started = False

    def __repr__(self) -> str:
        state = "running" if self._started else "stopped"
        return f"<SandboxGateway {state} hosts={self.hosts if self._started else []}>"

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> SandboxGateway:
        """Bind and serve all four ports (127.0.0.1 only)."""
        if not self._started:
            try:
                self.primary.up()
                self.backup.up()
            except OSError:
                self.stop()
                raise
            self._started = True
        return self

    def stop(self) -> None:
        """Close every port and connection; safe to call twice."""
        self.primary.down()
        self.backup.down()
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

    def client(self, sn: str, password: str, **kwargs: Any) -> Client:
        """A ``mandao.Client`` pointed at this gateway's hosts (extra keywords passed on).

        It keeps no send journal unless given ``journal=``: sandbox sends do not belong in
        the journal of real ones.
        """
        import mandao  # lazily: the sandbox itself never needs the client

        kwargs.setdefault("journal", None)
        return mandao.Client(
            sn=sn, password=password, hosts=self.hosts, account_hosts=self.account_hosts, **kwargs
        )

    def async_client(self, sn: str, password: str, **kwargs: Any) -> AsyncClient:
        """A ``mandao.AsyncClient`` pointed at this gateway's hosts, as :meth:`client`
        makes a ``Client`` (no journal unless given ``journal=``)."""
        import mandao

        kwargs.setdefault("journal", None)
        return mandao.AsyncClient(
            sn=sn, password=password, hosts=self.hosts, account_hosts=self.account_hosts, **kwargs
        )

    def client_for(self, sn: str | None = None, **kwargs: Any) -> Client:
        """A ``mandao.Client`` for a sandbox serial (default: the first), with its password."""
        serial = sn or self.serials[0]
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
