"""Sandbox accounts: how a serial starts out, its live record, and a snapshot of it.

``SandboxAccount`` is what a test passes in; ``Account`` is the record the handlers change
(under the gateway state's lock); ``AccountState`` is the copy a test reads back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from ._checks import serial_shaped
from ._choices import check_max_in_flight

__all__ = [
    "DEFAULT_BALANCE",
    "DEFAULT_PASSWORD",
    "DEFAULT_SERVICE_NUMBER",
    "DEFAULT_SN",
    "Account",
    "AccountState",
    "SandboxAccount",
    "check_refused",
    "check_service_number",
]

DEFAULT_BALANCE = 1_000_000
# The account the pytest fixture and `mandao sandbox` create when none is given.
DEFAULT_SN = "SDK-TST-010-00001"
DEFAULT_PASSWORD = "secret"
# The 特服号 (service number) GetCode answers and replies arrive on, unless set per account.
DEFAULT_SERVICE_NUMBER = "1065"


@dataclass(frozen=True)
class SandboxAccount:
    """How one serial starts out in the sandbox.

    Args:
        password: the account password (plain; the sandbox derives the MD5 form itself).
        balance: messages left; None takes the gateway's ``default_balance``.
        registered: False makes every call but ``Register`` answer -2 until it registers.
        disabled: True makes every call answer -12 (serial disabled).
        ext_allowed: False makes a non-empty ``ext`` answer -9 (no extension permission).
        allowed_ips: an IP allow-list; a call from any other address answers -22.
        operations: the operations this serial may call; any other answers -7. None = all.
        rate_limit: at most this many send calls per second (sliding one-second window),
            more answer -8. None takes ``Rules.rate_limit``.
        max_in_flight: at most this many requests of the serial processed at once (both
            services, both hosts); one more answers -18. None takes ``Rules.max_in_flight``
            (1 by default, as the gateway's "no multi-threading" default).
        service_number: the account's 特服号: what ``GetCode`` answers, and the receiving
            number (followed by the extension) of every reply injected for it.
        refused: operation → the code it answers instead of running, after the caller
            checks: a serial without that permission, e.g. ``{"report": "-17", "mo": "-7"}``.

    >>> SandboxAccount("secret", balance=10, ext_allowed=False).ext_allowed
    False
    >>> SandboxAccount("secret", refused={"mo": "-7"}).refused
    {'mo': '-7'}
    """

    password: str = field(repr=False)
    balance: int | None = None
    registered: bool = True
    disabled: bool = False
    ext_allowed: bool = True
    allowed_ips: tuple[str, ...] | None = None
    operations: frozenset[str] | None = None
    rate_limit: float | None = None
    max_in_flight: int | None = None
    service_number: str = DEFAULT_SERVICE_NUMBER
    refused: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_max_in_flight(self.max_in_flight)
        check_service_number(self.service_number)
        check_refused(self.refused)


def check_serial_shape(sn: str) -> None:
    """Raise ValueError unless ``sn`` has the gateway's serial shape, XXX-XXX-XXX-XXXXX: an
    account of any other would answer -602 to every call (as ``mandao.Client`` refuses it)."""
    if not isinstance(sn, str) or not serial_shaped(sn):
        raise ValueError(
            f"{sn!r} is not a serial of the gateway's shape XXX-XXX-XXX-XXXXX "
            "(e.g. SDK-TST-010-00001): every call of it would be refused with -602"
        )


def check_service_number(value: str) -> None:
    """Raise ValueError unless ``value`` is a service number: 1 to 20 ASCII digits."""
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20):
        raise ValueError(f"service_number must be 1 to 20 digits, not {value!r}")


def check_refused(value: Mapping[str, str]) -> None:
    """Raise ValueError unless every code in ``value`` is a negative whole number."""
    for op, code in dict(value).items():
        if not (isinstance(code, str) and code.startswith("-") and code[1:].isdigit()):
            raise ValueError(f"refused[{op!r}] must be a negative code such as '-17', not {code!r}")


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
    max_in_flight: int | None
    register_changes_today: int
    registration: dict[str, str] = field(default_factory=dict)
    service_number: str = DEFAULT_SERVICE_NUMBER
    refused: dict[str, str] = field(default_factory=dict)


@dataclass
class Account:
    """One serial's live record: its set-up fields, and what the handlers keep count of."""

    password: str = field(repr=False)
    balance: int
    registered: bool
    disabled: bool
    ext_allowed: bool
    allowed_ips: tuple[str, ...] | None
    operations: frozenset[str] | None
    rate_limit: float | None
    max_in_flight: int | None = None
    service_number: str = DEFAULT_SERVICE_NUMBER
    refused: Mapping[str, str] = field(default_factory=dict)
    changes_day: date | None = None
    changes: int = 0
    registration: dict[str, str] = field(default_factory=dict)
    recent_sends: deque[float] = field(default_factory=deque)

    @classmethod
    def start(cls, setup: SandboxAccount, default_balance: int) -> Account:
        """The record of a serial set up as ``setup``."""
        return cls(
            password=setup.password,
            balance=default_balance if setup.balance is None else setup.balance,
            registered=setup.registered,
            disabled=setup.disabled,
            ext_allowed=setup.ext_allowed,
            allowed_ips=setup.allowed_ips,
            operations=setup.operations,
            rate_limit=setup.rate_limit,
            max_in_flight=setup.max_in_flight,
            service_number=setup.service_number,
            refused=dict(setup.refused),
        )

    def snapshot(self, sn: str, today: date) -> AccountState:
        """A copy of this record as ``sn``'s :class:`AccountState` on the day ``today``."""
        return AccountState(
            sn=sn,
            balance=self.balance,
            registered=self.registered,
            disabled=self.disabled,
            ext_allowed=self.ext_allowed,
            allowed_ips=self.allowed_ips,
            operations=self.operations,
            rate_limit=self.rate_limit,
            max_in_flight=self.max_in_flight,
            register_changes_today=self.changes if self.changes_day == today else 0,
            registration=dict(self.registration),
            service_number=self.service_number,
            refused=dict(self.refused),
        )
