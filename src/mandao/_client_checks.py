"""The clients' argument checks that are not about what a send carries."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ._config import ReplyLimits
from ._config_values import POSTGRESQL_SCHEMES
from ._core.hosts import HostGroups
from ._errors import ConfigError, ValidationError
from ._operations import OPERATIONS

if TYPE_CHECKING:
    from ._inbound.optout import OptOut
    from ._inbound.reports import ReportParser

__all__ = [
    "Inbound",
    "Suppression",
    "check_changed",
    "check_inbound",
    "check_journal",
    "check_limits",
    "check_max_in_flight",
    "check_password",
    "check_register",
    "check_session",
    "foreign_scheme",
    "paired_hosts",
]

T = TypeVar("T")

REGISTER_FIELDS = OPERATIONS["Register"].params[2:]
_OPTIONAL_REGISTER_FIELDS = frozenset({"fax"})

#: What a send does with numbers on the suppression list.
Suppression = Literal["skip", "error", "off"]


def check_session(session: T, expected: tuple[str, str]) -> T:
    """``session`` (None, or an instance of ``expected``: its module and class). Not
    imported here: a session of that class comes from an imported module."""
    if session is None:
        return session
    module, name = expected
    kind = getattr(sys.modules.get(module), name, None)
    if kind is None or not isinstance(session, kind):
        other = ("mandao.AsyncClient takes an httpx.AsyncClient" if module == "requests"
                 else "mandao.Client takes a requests.Session")  # fmt: skip
        given = f"{type(session).__module__}.{type(session).__qualname__}"
        raise ValidationError(
            f"expected a {module}.{name} (or None), got a {given} ({other})", argument="session"
        )
    return session


def check_max_in_flight(value: object) -> int | None:
    """``max_in_flight`` as given, or a ValidationError."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError(
            f"expected a whole number of requests, 1 or more, or None, got {value!r}",
            argument="max_in_flight",
        )
    return value


def check_inbound(suppression: object, journaled: bool) -> Suppression:
    """``suppression`` as given, or an error: a list to check needs a journal to keep it."""
    if suppression not in ("skip", "error", "off"):
        raise ValidationError(
            f"expected skip, error or off, got {suppression!r}", argument="suppression"
        )
    if suppression != "off" and not journaled:
        raise ConfigError(
            f"suppression={suppression!r} checks the suppression list, which lives in the "
            "journal, and this client has none: give it a journal, or suppression='off'"
        )
    return suppression


def check_register(fields: Mapping[str, object]) -> None:
    """Register's fields: all of them, text, and only ``fax`` empty."""
    unknown = sorted(set(fields) - set(REGISTER_FIELDS))
    if unknown:
        raise ValidationError(
            f"unknown field(s) {', '.join(unknown)}; Register takes {', '.join(REGISTER_FIELDS)}",
            argument=unknown[0],
        )
    for name in REGISTER_FIELDS:
        value = fields.get(name)
        if not isinstance(value, str):
            raise ValidationError(
                "missing" if value is None else f"expected text, got {type(value).__name__}",
                argument=name,
            )
        if not value.strip() and name not in _OPTIONAL_REGISTER_FIELDS:
            raise ValidationError("is empty; the vendor wants every field", argument=name)


def check_password(new: object) -> str:
    """A new password for UDPPwd: text, not empty, no spaces or control characters at its
    ends (the gateway would keep them, and no one would type them again)."""
    if not isinstance(new, str) or not new or new != new.strip() or not new.isprintable():
        raise ValidationError(
            "expected a password: text, not empty, without spaces or control characters "
            "at its ends",
            argument="new",
        )
    return new


def check_limits(limits: object) -> ReplyLimits:
    """``reply_limits`` as given (None: the defaults)."""
    if limits is None:
        return ReplyLimits()
    if not isinstance(limits, ReplyLimits):
        raise ValidationError(
            f"expected a ReplyLimits or None, got {type(limits).__name__}", argument="reply_limits"
        )
    return limits


def check_changed(raw: str, host: str) -> None:
    """UDPPwd's answer: ``0`` is done (a negative code was raised already)."""
    from ._results import whole_number

    if whole_number(raw, operation="UDPPwd", host=host) != 0:
        from ._errors import ProtocolError

        raise ProtocolError(
            f"UDPPwd answered {raw.strip()[:20]!r}, not 0: was the password changed?",
            operation="UDPPwd",
            host=host,
        )


@dataclass(frozen=True, slots=True)
class Inbound:
    """A client's settings for what comes back (None: the defaults, made when first used)."""

    opt_out: OptOut | None = None
    report_parser: ReportParser | None = None
    service_number: str | None = None

    @classmethod
    def of(
        cls, opt_out: OptOut | None, report_parser: ReportParser | None, service_number: object
    ) -> Inbound:
        if service_number is not None and not (
            isinstance(service_number, str)
            and service_number.isascii()
            and service_number.isdigit()
        ):
            raise ValidationError(
                f"expected the account's service number (digits, as GetCode gives it), got "
                f"{service_number!r}",
                argument="service_number",
            )
        return cls(opt_out, report_parser, service_number)

    def keywords(self) -> OptOut:
        from ._inbound.optout import OptOut

        return self.opt_out if self.opt_out is not None else OptOut()

    def parser(self) -> ReportParser:
        from ._inbound.reports import TolerantReportParser

        return self.report_parser if self.report_parser is not None else TolerantReportParser()


#: A URL of some scheme (``mysql://``, ``sqlite://``, a misspelt ``postgresq://``): as a
#: file name it would make folders named after its pieces, a journal no one else shares.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def foreign_scheme(location: object) -> str | None:
    """What is wrong with a journal location that is a URL but not PostgreSQL's; None for
    a file's path or a ``postgresql://`` URL. Only the scheme is named: a URL may hold a
    password.

    >>> foreign_scheme("sqlite://j.sqlite3").partition(": ")[0]
    'a journal is an SQLite file or a postgresql:// URL, not sqlite://…'
    >>> foreign_scheme("postgres://u@h/db"), foreign_scheme("journal.sqlite3")
    (None, None)
    """
    if not isinstance(location, str) or not (scheme := _SCHEME.match(location)):
        return None
    if scheme[0].lower() in POSTGRESQL_SCHEMES:
        return None
    return (
        f"a journal is an SQLite file or a postgresql:// URL, not {scheme[0]}…: for a file "
        "give its path (no scheme), for PostgreSQL a postgresql://user@host/db URL"
    )


def check_journal(spec: T) -> T:
    """``spec``, a ``Client(journal=...)`` value; a URL not PostgreSQL's is refused.

    Raises:
        ValidationError: ``spec`` is such a URL.
    """
    if refused := foreign_scheme(spec):
        raise ValidationError(refused, argument="journal")
    return spec


def paired_hosts(hosts: Mapping[Any, tuple[str, ...]]) -> HostGroups:
    """The services' URL lists paired by host (``HostGroups.pair``), with a warning for a
    host of ``hosts`` that ``account_hosts`` has no URL on: while sends go there, account
    calls (balance, replies, reports) go to another host, another address of the serial at
    the same time, which the gateway may refuse (-19)."""
    import warnings

    from ._compose.content import outside

    groups = HostGroups.pair(hosts)
    send, account = groups.urls["send"], groups.urls["account"]
    alone = [url for url, other in zip(send, account, strict=True) if url and not other]
    if alone:
        warnings.warn(
            f"account_hosts has no URL on the host of {', '.join(alone)} (the lists pair by "
            "host): while sends go there, account calls go to another host, which the "
            "gateway may refuse as a second address of the serial (-19); give account_hosts "
            "a URL on each host of hosts",
            UserWarning,
            stacklevel=outside(),
        )
    return groups
