"""Client: the façade a user calls."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._compose import (
    encode_content,
    estimate,
    normalize_mobiles,
    segments,
    validate_content,
    validate_fields,
)
from ._config import DEFAULT_ACCOUNT_HOSTS, DEFAULT_HOSTS, Timeouts, check_hosts
from ._credentials import Credentials
from ._decode import decode
from ._errors import GatewayUnreachable, ValidationError
from ._explore import ServiceExplorer
from ._failover import HostState
from ._operations import OPERATIONS, PROTOCOLS, Operation, Protocol
from ._results import AccountInfo, RegistrationResult, SendResult, short_host
from ._wsdl import ACCOUNT, SEND, Service, ServiceName

if TYPE_CHECKING:
    import requests

    from ._transport import Transport

__all__ = ["Client"]

logger = logging.getLogger("mandao")

#: Most numbers one request may carry (vendor doc §2.2); batching is the caller's for now.
MAX_RECIPIENTS = 10_000

_DEFAULT_TIMEOUTS = Timeouts()
_REGISTER_FIELDS = OPERATIONS["Register"].params[2:]
_OPTIONAL_REGISTER_FIELDS = frozenset({"fax"})


class Client:
    """A client of the Mandao SMS gateway for one serial number.

    Args:
        sn: the serial, ``XXX-XXX-XXX-XXXXX`` (developer accounts start with ``SDK``).
        password: the account password. It is kept masked and never printed.
        hosts: send-service URLs, primary first (default: sdk / sdk2 .entinfo.cn:8061).
        account_hosts: account-service URLs for Register/UnRegister (port 8060).
        protocol: ``"soap11"`` (default), ``"soap12"``, ``"http-get"``, ``"http-post"``, or
            ``"ashx"`` (the vendor's plain-HTTP handlers; they exist for the two send
            operations only, so other operations go by ``"http-post"``).
        timeout: seconds, a ``(connect, read)`` pair, or a :class:`Timeouts`.
        session: a ``requests.Session`` to carry the requests (proxies, TLS settings).

    Raises:
        ValidationError: an argument is malformed; nothing is sent.

    Example::

        >>> client = Client(sn="SDK-TST-010-00001", password="secret")
        >>> client
        <mandao.Client sn=SDK-TST-010-00001 protocol=soap11 send=sdk.entinfo.cn:8061 account=sdk.entinfo.cn:8060>
    """  # noqa: E501

    def __init__(
        self,
        sn: str,
        password: str,
        *,
        hosts: Iterable[str] = DEFAULT_HOSTS,
        account_hosts: Iterable[str] = DEFAULT_ACCOUNT_HOSTS,
        protocol: Protocol = "soap11",
        timeout: Timeouts | float | tuple[float, float] = _DEFAULT_TIMEOUTS,
        session: requests.Session | None = None,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValidationError(
                f"expected one of {', '.join(PROTOCOLS)}, got {protocol!r}", argument="protocol"
            )
        self._credentials = Credentials(sn, password)
        self.protocol: Protocol = protocol
        self.timeouts = Timeouts.of(timeout)
        self._hosts: dict[ServiceName, HostState] = {
            "send": HostState(check_hosts(hosts, argument="hosts")),
            "account": HostState(check_hosts(account_hosts, argument="account_hosts")),
        }
        self._session = session
        self._transport: Transport | None = None
        self._lock = threading.Lock()

    # -- what a user calls ------------------------------------------------------------

    @property
    def sn(self) -> str:
        """The serial number."""
        return self._credentials.sn

    @property
    def hosts(self) -> tuple[str, ...]:
        """The send-service URLs, in order of preference."""
        return self._hosts["send"].hosts

    @property
    def account_hosts(self) -> tuple[str, ...]:
        """The account-service URLs, in order of preference."""
        return self._hosts["account"].hosts

    def active_host(self, service: ServiceName = "send") -> str:
        """Where requests to ``service`` go now."""
        return self._hosts[service].active_host

    def send(
        self,
        mobiles: str | Iterable[str],
        content: str,
        *,
        ext: str = "",
        at: datetime | str | None = None,
        rrid: str | None = None,
        msgfmt: str | int | None = None,
    ) -> SendResult:
        """Send one text to one or many numbers (``mdsmssend``).

        Args:
            mobiles: one number or an iterable of numbers; ``+86``, spaces and dashes are
                removed, duplicates sent once.
            content: the text, with its signature (``【示例】``).
            ext: extension digits (up to 9), if the account may use them.
            at: a time to deliver (China time for naive datetimes), or None for now.
            rrid: up to 18 digits to identify this submission; the gateway echoes it.
            msgfmt: 0, 3, 4, 8 or 15 (None: the gateway's default).

        Raises:
            ValidationError: an argument is invalid; nothing is sent.
            GatewayError: the gateway answered with a negative code (a subclass says which).
            OutcomeUnknown: the request went out but no decodable answer came back.
            GatewayUnreachable: no host took the request; nothing was sent.

        Example::

            >>> client.send(["13800138000"], "验证码 1234【示例】")  # doctest: +SKIP
            <SendResult id=... mdsmssend via soap11 @ ...: 1 recipient, 1 segment, 1 billable>
        """
        recipients = normalize_mobiles(mobiles)
        _check_count(recipients)
        validate_content(content)
        ext, stime, rrid_field, fmt = validate_fields(ext=ext, rrid=rrid, msgfmt=msgfmt, at=at)
        fields = {
            "mobile": ",".join(recipients),
            "content": encode_content(content),
            "ext": ext,
            "stime": stime,
            "rrid": rrid_field,
            "msgfmt": fmt,
        }
        result, host, protocol = self._call(OPERATIONS["mdsmssend"], fields, recipients)
        cost = estimate(content, recipients=len(recipients))
        return SendResult(
            result, rrid_field or None, "mdsmssend", host, protocol, recipients,
            cost.segments, cost.billable, stime,
        )  # fmt: skip

    def send_personalized(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        ext: str = "",
        at: datetime | str | None = None,
        rrid: str | None = None,
        msgfmt: str | int | None = None,
    ) -> SendResult:
        """Send each number its own text in one request (``mdgxsend``).

        Args:
            messages: ``{mobile: content}`` or ``(mobile, content)`` pairs.
            ext, at, rrid, msgfmt: as for :meth:`send`, one value for the whole request.

        Raises:
            As :meth:`send`.

        Example::

            >>> client.send_personalized({"13800138000": "张三您好【示例】"})  # doctest: +SKIP
        """
        pairs = list(messages.items() if isinstance(messages, Mapping) else messages)
        if not pairs:
            raise ValidationError("no messages given", argument="messages")
        for position, pair in enumerate(pairs):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise ValidationError(
                    f"item #{position} is not a (mobile, content) pair: {pair!r}",
                    argument="messages",
                )
        recipients = normalize_mobiles((mobile for mobile, _ in pairs), unique=False)
        _check_count(recipients)
        contents = [
            validate_content(content, argument=f"messages[{position}] content")
            for position, (_, content) in enumerate(pairs)
        ]
        ext, stime, rrid_field, fmt = validate_fields(ext=ext, rrid=rrid, msgfmt=msgfmt, at=at)
        fields = {
            "mobile": ",".join(recipients),
            "content": ",".join(encode_content(text) for text in contents),
            "ext": ext,
            "stime": stime,
            "rrid": rrid_field,
            "msgfmt": fmt,
        }
        result, host, protocol = self._call(OPERATIONS["mdgxsend"], fields, recipients)
        parts = [segments(text) for text in contents]
        return SendResult(
            result, rrid_field or None, "mdgxsend", host, protocol, recipients,
            max(parts), sum(parts), stime,
        )  # fmt: skip

    def account(self) -> AccountInfo:
        """The account's information (``mdgetSninfo``), decoded: ``.balance`` and ``.fields``."""
        raw, host, protocol = self._call(OPERATIONS["mdgetSninfo"], {}, ())
        return AccountInfo.parse(raw, host=host, protocol=protocol)

    def balance(self) -> int:
        """Messages left on the account (the account service's ``balance``)."""
        raw, host, _ = self._call(OPERATIONS["balance"], {}, ())
        try:
            return int(raw)
        except ValueError:
            raise self._bad_result(raw, "balance", host) from None

    def register(self, **fields: str) -> RegistrationResult:
        """Register the serial once before first use (vendor doc §4.2).

        Args:
            province, city, trade, entname, linkman, phone, mobile, email, fax, address,
            postcode, sign: the company's details, all as text; only ``fax`` may be empty.
            The vendor wants them true and complete.

        Raises:
            ValidationError: a field is missing, unknown or empty.
            AuthenticationError: already registered (-1) or bad credentials (-2).
        """
        unknown = sorted(set(fields) - set(_REGISTER_FIELDS))
        if unknown:
            raise ValidationError(
                f"unknown field(s) {', '.join(unknown)}; Register takes "
                f"{', '.join(_REGISTER_FIELDS)}",
                argument=unknown[0],
            )
        for name in _REGISTER_FIELDS:
            value = fields.get(name)
            if not isinstance(value, str):
                raise ValidationError(
                    "missing" if value is None else f"expected text, got {type(value).__name__}",
                    argument=name,
                )
            if not value.strip() and name not in _OPTIONAL_REGISTER_FIELDS:
                raise ValidationError("is empty; the vendor wants every field", argument=name)
        return self._registration(OPERATIONS["Register"], dict(fields))

    def unregister(self) -> RegistrationResult:
        """Unregister the serial (with Register, at most 10 times a day; vendor doc §4.2)."""
        return self._registration(OPERATIONS["UnRegister"], {})

    # -- exploration --------------------------------------------------------------------

    @property
    def service(self) -> ServiceExplorer:
        """zeep's send-service proxy (``mdsmssend``, ``mdgxsend``, ``mdgetSninfo``), sn/pwd set."""
        return ServiceExplorer(self, SEND)

    @property
    def account_service(self) -> ServiceExplorer:
        """zeep's account-service proxy (``Register``, ``UnRegister``, ...), sn/pwd set."""
        return ServiceExplorer(self, ACCOUNT)

    @property
    def operations(self) -> tuple[Operation, ...]:
        """Every operation of both cached WSDLs, with its parameters, as zeep reads them."""
        from ._transport import operation_parameters

        found = []
        for service in (SEND, ACCOUNT):
            for name, params in operation_parameters(service).items():
                known = OPERATIONS[name]
                found.append(Operation(name, service, params, known.pwd, known.ashx))
        return tuple(found)

    def close(self) -> None:
        """Close pooled connections."""
        if self._transport is not None:
            self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<mandao.Client sn={self.sn} protocol={self.protocol} "
            f"send={short_host(self.active_host('send'))} "
            f"account={short_host(self.active_host('account'))}>"
        )

    # -- the one path every request takes -----------------------------------------------

    def _transport_(self) -> Transport:
        # zeep and requests are imported on first use, so `import mandao` (and the CLI's
        # offline commands) stay light.
        if self._transport is None:
            with self._lock:
                if self._transport is None:
                    from ._transport import Transport

                    self._transport = Transport(self.timeouts, self._session)
        return self._transport

    def _protocol_for(self, op: Operation) -> Protocol:
        return "http-post" if self.protocol == "ashx" and not op.ashx else self.protocol

    def _call(
        self, op: Operation, values: Mapping[str, str], recipients: tuple[str, ...]
    ) -> tuple[str, str, Protocol]:
        """Send ``op`` to the active host, moving on while hosts provably refuse it.

        Returns (result, host, protocol); raises the decoded error for a negative code.
        """
        transport = self._transport_()
        protocol = self._protocol_for(op)
        fields = {"sn": self.sn, "pwd": self._credentials.pwd(op.pwd)}
        fields.update((name, values.get(name, "")) for name in op.params[2:])
        rrid = fields.get("rrid") or None
        name = op.service.name
        causes: list[tuple[str, str]] = []
        for host in self._hosts[name].attempt_order():
            try:
                raw = transport.call(protocol, op, host, fields, recipients=recipients)
            except GatewayUnreachable as exc:
                causes.append((host, exc.message))
                logger.warning("%s: %s unreachable (%s)", op.name, short_host(host), exc.message)
                with self._lock:
                    self._hosts[name] = self._hosts[name].after_unreachable(host)
                continue
            with self._lock:
                self._hosts[name] = self._hosts[name].after_success(host)
            value = decode(
                raw,
                success=op.reply,
                host=host,
                operation=op.name,
                rrid=rrid,
                recipients=recipients,
            )
            return value, host, protocol
        raise GatewayUnreachable(
            "no host took the request: "
            + "; ".join(f"{short_host(host)}: {cause}" for host, cause in causes),
            causes=tuple(causes),
            operation=op.name,
            rrid=rrid,
        )

    def _registration(self, op: Operation, values: Mapping[str, str]) -> RegistrationResult:
        raw, host, protocol = self._call(op, values, ())
        try:
            code = int(raw)
        except ValueError:
            raise self._bad_result(raw, op.name, host) from None
        return RegistrationResult(op.name, code, host, protocol)

    @staticmethod
    def _bad_result(raw: str, operation: str, host: str) -> Exception:
        from ._errors import ProtocolError

        return ProtocolError(f"unexpected result {raw[:60]!r}", host=host, operation=operation)

    def _zeep_proxy(self, service: Service) -> Any:
        protocol = "soap11" if self.protocol == "ashx" else self.protocol
        return self._transport_().proxy(service, protocol, self.active_host(service.name))

    def _call_raw_proxy(self, service: Service, op: Operation, kwargs: Mapping[str, str]) -> Any:
        from ._transport import call_proxy

        host = self.active_host(service.name)
        method = getattr(self._zeep_proxy(service), op.name)
        full = {"sn": self.sn, "pwd": self._credentials.pwd(op.pwd), **kwargs}
        return call_proxy(method, full, host=host, operation=op.name)


def _check_count(recipients: tuple[str, ...]) -> None:
    if len(recipients) > MAX_RECIPIENTS:
        raise ValidationError(
            f"{len(recipients)} numbers; one request takes at most {MAX_RECIPIENTS}",
            argument="mobiles",
        )
