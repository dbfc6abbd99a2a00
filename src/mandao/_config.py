"""Settings passed into a Client: frozen values, never globals."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from ._errors import ValidationError

__all__ = [
    "DEFAULT_ACCOUNT_HOSTS",
    "DEFAULT_BATCH",
    "DEFAULT_GX_BATCH",
    "DEFAULT_HOSTS",
    "FETCH_OPERATIONS",
    "LEASE_SLACK",
    "MAX_BATCH",
    "ReplyLimits",
    "Timeouts",
    "account_hosts_of",
    "batch_size",
    "check_hosts",
    "short_host",
    "unknown_keys",
]

#: The send service (vendor doc §4.1): primary, then backup.
DEFAULT_HOSTS = (
    "http://sdk.entinfo.cn:8061/webservice.asmx",
    "http://sdk2.entinfo.cn:8061/webservice.asmx",
)
#: The account service (Register, UnRegister; vendor doc §4.2).
DEFAULT_ACCOUNT_HOSTS = (
    "http://sdk.entinfo.cn:8060/webservice.asmx",
    "http://sdk2.entinfo.cn:8060/webservice.asmx",
)

#: Seconds a slot's lease lasts beyond its request's timeouts: the time its journal rows
#: take. A pending row that takes more than half of it renews the lease before it is sent.
LEASE_SLACK = 1.0

#: A call's total deadline when ``Timeouts.total`` is None and the other timeouts are short.
DEFAULT_TOTAL = 120.0


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a connection, for the reply, for a slot, and for a whole call.

    zeep's own default is to wait forever; mandao never does. Frozen: change one with
    :func:`dataclasses.replace`, which checks the new values too.

    Args:
        connect: seconds to wait for a connection to a host.
        read: seconds the whole reply may take to arrive once the request is written (not
            each read from the socket: a server trickling its reply is cut off here).
        wait: seconds a call may wait for a slot of its serial (``max_in_flight`` requests
            of a serial at a time); past it the call fails, not sent, as
            :class:`~mandao.SerialBusy`.
        total: seconds one call may take in all (one request: each batch of a send has its
            own): waiting for slots, every attempt, pauses before retrying ``-8``/``-18``,
            moving to the next host. Past it the call ends,
            not sent, as :class:`~mandao.DeadlineExceeded` (or, when a request was already
            out, as the :class:`~mandao.OutcomeUnknown` of its read timeout, cut to what
            is left). None (default): 120 s, or ``wait + 2 * connect + read`` when that
            is longer (a full wait, a host that does not connect, a full attempt on the
            next); see :meth:`budget`.

    Raises:
        ValidationError: a value is not a positive, finite number of seconds
            (``argument="timeout.connect"``, ``"timeout.read"``, ``"timeout.wait"`` or
            ``"timeout.total"``).

    >>> Timeouts(connect=2, read=10)
    Timeouts(connect=2, read=10, wait=60.0, total=None)
    >>> Timeouts(2, 10).read, Timeouts(2, 10).budget(), Timeouts(2, 10, total=15).budget()
    (10, 120.0, 15)
    """

    connect: float = 5.0
    read: float = 30.0
    wait: float = 60.0
    total: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "read", "wait", "total"):
            value = getattr(self, name)
            if value is None and name == "total":
                continue
            # Infinity, or NaN (the text "nan" gives it), would wait forever: mandao never does.
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (0 < value < math.inf)
            ):
                raise ValidationError(
                    f"expected a positive number of seconds, got {value!r}",
                    argument=f"timeout.{name}",
                )

    def budget(self) -> float:
        """Seconds one call may take in all: ``total``, or its default when None."""
        if self.total is not None:
            return self.total
        return max(DEFAULT_TOTAL, self.wait + 2 * self.connect + self.read)

    def lease(self) -> float:
        """Seconds a request may hold its serial's slot should its process die without a
        word: its connection and reply timeouts, and a second for its journal rows. Never
        less than one read timeout, so the gateway is done with what it was sent."""
        return self.connect + self.read + LEASE_SLACK

    @classmethod
    def of(cls, value: Timeouts | float | tuple[float, float]) -> Timeouts:
        """Accept a Timeouts, one number for both, or a ``(connect, read)`` pair."""
        if isinstance(value, Timeouts):
            return value
        if isinstance(value, tuple) and len(value) == 2:
            return cls(*value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls(value, value)
        raise ValidationError(
            f"expected seconds, a (connect, read) pair or a Timeouts, got {value!r}",
            argument="timeout",
        )

    @classmethod
    def parse(cls, value: object) -> Timeouts:
        """A timeout as a config file, an environment variable or a flag holds it.

        Text (``"10"`` or ``"5,30"``), a table (``{connect = 5, read = 30}``; a key left
        out keeps its default), a two-item list, or anything :meth:`of` accepts. Only
        here is text accepted: a library argument that is a string is a mistake.

        Raises:
            ValidationError: none of these, or not positive seconds.

        >>> Timeouts.parse("5,30")
        Timeouts(connect=5.0, read=30.0, wait=60.0, total=None)
        >>> Timeouts.parse({"read": 60})
        Timeouts(connect=5.0, read=60, wait=60.0, total=None)
        """
        if isinstance(value, str):
            try:
                parts = [float(part) for part in value.split(",")]
            except ValueError:
                parts = []
            if len(parts) not in (1, 2):
                raise ValidationError(
                    f"expected SECONDS or CONNECT,READ, got {value!r}", argument="timeout"
                )
            return cls(parts[0], parts[-1])
        if isinstance(value, Mapping):
            unknown = sorted(str(key) for key in value if key not in ("connect", "read"))
            if unknown:
                raise ValidationError(
                    f"{unknown_keys(unknown, ('connect', 'read'))}; expected connect, read",
                    argument="timeout",
                )
            return cls(**value)
        if isinstance(value, list):
            value = tuple(value)  # a TOML array
        # of() checks the type at run time: anything else is refused there, by name.
        return cls.of(cast("Timeouts | float | tuple[float, float]", value))


#: Operations that fetch stored records (replies, delivery reports): their replies may be
#: large, so they get ``ReplyLimits.fetch``; every other operation gets ``default``.
FETCH_OPERATIONS = frozenset({"mo", "mo2", "report", "report2", "RECSMS_UTF8"})


@dataclass(frozen=True, slots=True)
class ReplyLimits:
    """Most bytes a reply may hold: counted as it arrives, and again as it is decompressed.

    A reply over its cap is not read further: the call ends in a
    :class:`~mandao.ProtocolError` (the request went out, so its outcome is unknown). A
    gzip bomb is stopped at the cap, never decompressed whole.

    Args:
        default: bytes for sends and account operations (their replies are a few hundred).
        fetch: bytes for the operations that fetch stored records (:data:`FETCH_OPERATIONS`).

    Raises:
        ValidationError: a value is not a positive whole number of bytes.

    >>> ReplyLimits().of("mdsmssend"), ReplyLimits().of("report")
    (65536, 16777216)
    """

    default: int = 64 * 1024
    fetch: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("default", "fetch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(
                    f"expected a positive whole number of bytes, got {value!r}",
                    argument=f"reply_limits.{name}",
                )

    def of(self, operation: str) -> int:
        """The cap of ``operation``'s replies, in bytes."""
        return self.fetch if operation in FETCH_OPERATIONS else self.default


#: Where account_hosts may be given, as the library's error says it.
_ACCOUNT_PLACES = "--account-host, MANDAO_ACCOUNT_HOSTS, or account_hosts in mandao.toml"


def account_hosts_of(hosts: tuple[str, ...], *, places: str = _ACCOUNT_PLACES) -> tuple[str, ...]:
    """The account service's URLs beside send-service URLs ``hosts``, when no account
    hosts were given: the vendor's own for the vendor's, else each send URL's host on port
    8060 in place of 8061, as the vendor's hosts serve them. ``places``: where the error
    says to give account_hosts.

    >>> account_hosts_of(("http://10.0.0.5:8061/webservice.asmx",))
    ('http://10.0.0.5:8060/webservice.asmx',)

    Raises:
        ValidationError: a send URL not on port 8061 (a test gateway, a proxy): the account
            calls would go to the production gateway, so they must be named.
    """
    if hosts == DEFAULT_HOSTS:
        return DEFAULT_ACCOUNT_HOSTS
    derived = []
    for url in hosts:
        parts = urlsplit(url)
        if parts.port != 8061:
            raise ValidationError(
                f"hosts are given ({short_host(url)}, …) but account_hosts is not, and the "
                "account service (balance, register, replies, reports) cannot be found from "
                "them (the vendor's hosts serve it on port 8060, beside sends on 8061): give "
                f"account_hosts too ({places}), so that no call goes to the production gateway",
                argument="account_hosts",
            )
        netloc = f"{parts.netloc.rpartition(':')[0]}:8060"
        derived.append(parts._replace(netloc=netloc).geturl())
    return tuple(derived)


def check_hosts(hosts: object, *, argument: str) -> tuple[str, ...]:
    """Service URLs as a tuple, each ``http(s)://host[:port]/path``; raises ValidationError."""
    if isinstance(hosts, str):
        hosts = (hosts,)
    if not isinstance(hosts, (list, tuple)) or not hosts:
        raise ValidationError("expected a non-empty list of service URLs", argument=argument)
    for url in hosts:
        try:
            # urlsplit itself refuses some URLs ("http://[::1"), .port others ("h:99999").
            parts = urlsplit(url) if isinstance(url, str) else None
            port_ok = parts is not None and (parts.port is None or parts.port > 0)
        except ValueError:
            parts, port_ok = None, False
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or not port_ok
            or parts.query
            or parts.fragment
        ):
            raise ValidationError(
                f"expected a service URL such as {DEFAULT_HOSTS[0]}, got {url!r}",
                argument=argument,
            )
    if len(set(hosts)) != len(hosts):
        raise ValidationError(f"lists a host twice: {list(hosts)}", argument=argument)
    return tuple(hosts)


def unknown_keys(unknown: Iterable[str], known: Iterable[str]) -> str:
    """``unknown key(s) ...``, each with the known key it is nearest to, if one is near.

    A misspelt key is most often one letter off the key meant: naming that key saves
    reading the list.

    >>> unknown_keys(["hostz"], ["sn", "hosts", "account_hosts"])
    'unknown key(s) hostz (did you mean `hosts`?)'
    """
    import difflib  # here, not at the top: offline commands start fast

    choices = list(known)
    named = []
    for key in unknown:
        near = difflib.get_close_matches(key, choices, n=1)
        named.append(f"{key} (did you mean `{near[0]}`?)" if near else key)
    return f"unknown key(s) {', '.join(named)}"


def short_host(url: str) -> str:
    """``host:port`` of a service URL, for reprs."""
    return urlsplit(url).netloc or url


#: Most numbers one request may carry (vendor doc §2.2).
MAX_BATCH = 10_000
#: Recommended numbers per ``mdsmssend`` and per ``mdgxsend`` request (vendor doc §2.2).
DEFAULT_BATCH, DEFAULT_GX_BATCH = 5_000, 1_000


def batch_size(value: object, default: int) -> int:
    """``value`` checked as a batch size (1 … 10000), or ``default`` for None."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH:
        raise ValidationError(
            f"expected a whole number from 1 to {MAX_BATCH}, got {value!r}", argument="batch_size"
        )
    return value
