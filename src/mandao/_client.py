"""Client: the façade a user calls."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, overload

from ._config import (
    DEFAULT_ACCOUNT_HOSTS,
    DEFAULT_BATCH,
    DEFAULT_GX_BATCH,
    DEFAULT_HOSTS,
    Timeouts,
    check_hosts,
    short_host,
)
from ._config import batch_size as check_batch_size
from ._credentials import Credentials
from ._errors import ValidationError
from ._explore import ServiceExplorer
from ._operations import OPERATIONS, PROTOCOLS, Operation, Protocol
from ._rules import ContentRules
from ._wsdl import ACCOUNT, SEND, Service, ServiceName

# Batching, the journal and the result types load with the first send, not here: a
# Client and its first WSDL parse cost little more than zeep's own (benchmarks/startup.py).
if TYPE_CHECKING:
    from os import PathLike

    import requests

    from ._batch import Plan
    from ._compose import Estimate
    from ._dispatch import Dispatcher
    from ._core.failover import FailoverPolicy
    from ._journal import Journal
    from ._journal_hook import DuplicateGuard
    from ._results import (
        AccountInfo,
        Batch,
        DryRun,
        RegistrationResult,
        SendResult,
    )
    from ._transport import Transport

__all__ = ["Client"]


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
        failover: how to fail over between hosts and retry -8/-18 (a :class:`FailoverPolicy`).
        signature: the name to add as ``【name】`` to content that carries no ``【…】``.
        signature_position: add it at the ``"end"`` (default) or the ``"start"``.
        require_signature: refuse content with no signature when none is configured
            (vendor doc §3.2); False sends it as given.
        unencodable: characters GBK cannot carry, in GB text: ``"warn"`` (default, an
            :class:`UnencodableWarning`), ``"error"`` (a ValidationError) or ``"allow"``.
        max_segments: refuse content that would bill more segments per message.
        batch_size: numbers per request, 1 … 10000 (default 5000; 1000 for ``mdgxsend``).
        journal: where every send attempt is recorded before it leaves (docs/journal.md):
            True (default) for ``journal.sqlite3`` in the user data folder (or
            ``$MANDAO_JOURNAL``), a path, a :class:`Journal`, or None to keep no journal.
        duplicate_guard: check the journal for the same number and text sent recently
            (a :class:`DuplicateGuard`); None (default) sends without looking.
        registration_guard: refuse the eleventh Register/UnRegister of a day for this
            serial, counted in the journal (vendor doc §4.2); False to force one.

    Raises:
        ValidationError: an argument is malformed; nothing is sent.

    Example::

        >>> client = Client(sn="SDK-TST-010-00001", password="secret")
        >>> client
        <mandao.Client sn=SDK-TST-010-00001 protocol=soap11 send=sdk.entinfo.cn:8061 account=sdk.entinfo.cn:8060 journal=...>
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
        failover: FailoverPolicy | None = None,
        signature: str | None = None,
        signature_position: Literal["end", "start"] = "end",
        require_signature: bool = True,
        unencodable: Literal["warn", "error", "allow"] = "warn",
        max_segments: int | None = None,
        batch_size: int | None = None,
        journal: Journal | str | os.PathLike[str] | bool | None = True,
        duplicate_guard: DuplicateGuard | None = None,
        registration_guard: bool = True,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValidationError(
                f"expected one of {', '.join(PROTOCOLS)}, got {protocol!r}", argument="protocol"
            )
        self._credentials = Credentials(sn, password)
        self.protocol: Protocol = protocol
        self.timeouts = Timeouts.of(timeout)
        self._hosts: dict[ServiceName, tuple[str, ...]] = {
            "send": check_hosts(hosts, argument="hosts"),
            "account": check_hosts(account_hosts, argument="account_hosts"),
        }
        self._failover = failover
        # Made with the first request (or the first look at the active host): the failover
        # machinery need not load for a client that is only built or explored.
        self._dispatcher_: Dispatcher | None = None
        self._session = session
        self._transport: Transport | None = None
        self._lock = threading.Lock()
        self._rules = ContentRules(
            signature, signature_position, require_signature, unencodable, max_segments
        )
        self._batch_size_set = None if batch_size is None else check_batch_size(batch_size, 0)
        self._batch_size = self._batch_size_set or DEFAULT_BATCH
        # The journal is opened with the first send; a path or a flag is only kept here.
        self._journal_spec = journal
        self._journal: Journal | None = None
        self._journal_resolved = False
        if not isinstance(journal, (bool, str, os.PathLike)) and journal is not None:
            self._resolve_journal()  # a Journal object, or a wrong type to refuse now
        self._duplicate_guard = duplicate_guard
        self._registration_guard = registration_guard

    @property
    def journal(self) -> Journal | None:
        """The send journal (None when off), opened on first use."""
        return self._journal if self._journal_resolved else self._resolve_journal()

    @property
    def duplicate_guard(self) -> DuplicateGuard | None:
        """The check of the journal for recent identical sends (the constructor's argument).

        Set it to a :class:`DuplicateGuard`, or to None to send without looking.
        """
        return self._duplicate_guard

    @duplicate_guard.setter
    def duplicate_guard(self, guard: DuplicateGuard | None) -> None:
        self._duplicate_guard = guard

    def _resolve_journal(self) -> Journal | None:
        from ._journal_hook import journal_of

        with self._lock:
            if not self._journal_resolved:
                self._journal = journal_of(self._journal_spec)
                self._journal_resolved = True
        return self._journal

    @classmethod
    def from_config(cls, path: str | PathLike[str] | None = None, **overrides: Any) -> Client:
        """A client from the config file, the environment and ``overrides`` (highest first).

        The file is ``path``, else ``$MANDAO_CONFIG``, else ``./mandao.toml``, else
        ``mandao.toml`` in the user config folder; ``MANDAO_SN``, ``MANDAO_PASSWORD``,
        ``MANDAO_HOSTS``, ... override it (see docs/cli.md). Keywords that are not
        settings (``session``, ``batch_size``, ...) go to the constructor as they are.

        Raises:
            ConfigError: the file is missing, malformed, or holds a password others can read.
            ValidationError: a setting is invalid, or sn/password are not set anywhere.

        Example::

            >>> Client.from_config(sn="SDK-TST-010-00001", password="x")  # doctest: +SKIP
        """
        from ._settings import FILE_KEYS, load_settings

        # ``journal`` is a file table and a constructor keyword: given here, it is the
        # constructor's (a path, a Journal, or None), and wins over the file's table.
        settings = load_settings(
            path,
            overrides={k: v for k, v in overrides.items() if k in FILE_KEYS and k != "journal"},
        )
        kwargs = settings.client_kwargs()
        kwargs.update((k, v) for k, v in overrides.items() if k not in FILE_KEYS or k == "journal")
        for name in ("sn", "password"):
            if name not in kwargs:
                raise ValidationError(
                    "not set: give it, set MANDAO_" + name.upper() + " or put it in mandao.toml",
                    argument=name,
                )
        return cls(**kwargs)

    # -- what a user calls ------------------------------------------------------------

    @property
    def sn(self) -> str:
        """The serial number."""
        return self._credentials.sn

    @property
    def hosts(self) -> tuple[str, ...]:
        """The send-service URLs, in order of preference."""
        return self._hosts["send"]

    @property
    def account_hosts(self) -> tuple[str, ...]:
        """The account-service URLs, in order of preference."""
        return self._hosts["account"]

    def active_host(self, service: ServiceName = "send") -> str:
        """Where requests to ``service`` go now."""
        if self._dispatcher_ is None:
            return self._hosts[service][0]
        return self._dispatcher_.active_host(service)

    @overload
    def send(
        self,
        mobiles: str | Iterable[str],
        content: str,
        *,
        ext: str = ...,
        at: datetime | str | None = ...,
        rrid: str | None = ...,
        msgfmt: str | int | None = ...,
        skip_invalid: bool = ...,
        batch_size: int | None = ...,
        progress: Callable[[Batch], object] | None = ...,
        dry_run: Literal[False] = ...,
    ) -> SendResult: ...

    @overload
    def send(
        self,
        mobiles: str | Iterable[str],
        content: str,
        *,
        ext: str = ...,
        at: datetime | str | None = ...,
        rrid: str | None = ...,
        msgfmt: str | int | None = ...,
        skip_invalid: bool = ...,
        batch_size: int | None = ...,
        progress: Callable[[Batch], object] | None = ...,
        dry_run: Literal[True],
    ) -> DryRun: ...

    def send(
        self,
        mobiles: str | Iterable[str],
        content: str,
        *,
        ext: str = "",
        at: datetime | str | None = None,
        rrid: str | None = None,
        msgfmt: str | int | None = None,
        skip_invalid: bool = False,
        batch_size: int | None = None,
        progress: Callable[[Batch], object] | None = None,
        dry_run: bool = False,
    ) -> SendResult | DryRun:
        """Send one text to one or many numbers (``mdsmssend``, in batches).

        Args:
            mobiles: one number or an iterable of numbers; ``+86``, spaces and dashes are
                removed, duplicates sent once (and listed in ``result.duplicates``).
            content: the text; the client's signature is added when it carries no ``【…】``.
            ext: extension digits (up to 9), if the account may use them.
            at: a time to deliver (China time for naive datetimes), or None for now.
            rrid: up to 18 digits to identify this submission; the gateway echoes it. With
                several batches, batch *i* carries ``rrid + i``. None: a fresh one each.
            msgfmt: 0, 3, 4, 8 or 15 (None: 0 for ASCII text, 15 otherwise).
            skip_invalid: send to the valid numbers and list the rest in ``result.skipped``
                instead of raising :class:`InvalidRecipients`.
            batch_size: numbers per request (1 … 10000; default the client's, 5000).
            progress: called with each :class:`Batch` as it finishes.
            dry_run: build the requests and return a :class:`DryRun`; send nothing.

        Raises:
            ValidationError: an argument is invalid; nothing is sent.
            GatewayError: the gateway answered the first request with a negative code.
            OutcomeUnknown: the first request went out but no decodable answer came back.
            GatewayUnreachable: no host took the first request; nothing was sent.
            A later batch's failure is not raised: see :class:`SendResult`.

        Example::

            >>> client.send(["13800138000"], "验证码 1234【示例】")  # doctest: +SKIP
            <SendResult id=... mdsmssend via soap11 @ ...: 1 recipient, 1 segment, 1 billable>
        """
        from ._batch import plan_group

        plan = plan_group(
            self._rules, mobiles, content, ext=ext, at=at, rrid=rrid, msgfmt=msgfmt,
            skip_invalid=skip_invalid, size=check_batch_size(batch_size, self._batch_size),
        )  # fmt: skip
        return self._execute(plan, progress, dry_run)

    @overload
    def send_personalized(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        ext: str = ...,
        at: datetime | str | None = ...,
        rrid: str | Sequence[str] | None = ...,
        msgfmt: str | int | None = ...,
        skip_invalid: bool = ...,
        batch_size: int | None = ...,
        progress: Callable[[Batch], object] | None = ...,
        dry_run: Literal[False] = ...,
    ) -> SendResult: ...

    @overload
    def send_personalized(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        ext: str = ...,
        at: datetime | str | None = ...,
        rrid: str | Sequence[str] | None = ...,
        msgfmt: str | int | None = ...,
        skip_invalid: bool = ...,
        batch_size: int | None = ...,
        progress: Callable[[Batch], object] | None = ...,
        dry_run: Literal[True],
    ) -> DryRun: ...

    def send_personalized(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        ext: str = "",
        at: datetime | str | None = None,
        rrid: str | Sequence[str] | None = None,
        msgfmt: str | int | None = None,
        skip_invalid: bool = False,
        batch_size: int | None = None,
        progress: Callable[[Batch], object] | None = None,
        dry_run: bool = False,
    ) -> SendResult | DryRun:
        """Send each number its own text (``mdgxsend``, 1000 pairs a request by default).

        Args:
            messages: ``{mobile: content}`` or ``(mobile, content)`` pairs; an identical
                pair given twice is sent once.
            ext, at, msgfmt, skip_invalid, progress, dry_run: as for :meth:`send`.
            rrid: as for :meth:`send`, or one rrid per pair (the gateway's -626 check:
                as many as there are pairs).
            batch_size: pairs per request (default the client's, else 1000).

        Raises:
            As :meth:`send`.

        Example::

            >>> client.send_personalized({"13800138000": "张三您好【示例】"})  # doctest: +SKIP
        """
        size = check_batch_size(batch_size, self._batch_size_set or DEFAULT_GX_BATCH)
        from ._batch import plan_personal

        plan = plan_personal(
            self._rules, messages, ext=ext, at=at, rrid=rrid, msgfmt=msgfmt,
            skip_invalid=skip_invalid, size=size,
        )  # fmt: skip
        return self._execute(plan, progress, dry_run)

    @overload
    def send_many(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        ext: str = ...,
        at: datetime | str | None = ...,
        rrid: str | None = ...,
        msgfmt: str | int | None = ...,
        skip_invalid: bool = ...,
        batch_size: int | None = ...,
        progress: Callable[[Batch], object] | None = ...,
        dry_run: Literal[False] = ...,
    ) -> SendResult: ...

    @overload
    def send_many(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        ext: str = ...,
        at: datetime | str | None = ...,
        rrid: str | None = ...,
        msgfmt: str | int | None = ...,
        skip_invalid: bool = ...,
        batch_size: int | None = ...,
        progress: Callable[[Batch], object] | None = ...,
        dry_run: Literal[True],
    ) -> DryRun: ...

    def send_many(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        ext: str = "",
        at: datetime | str | None = None,
        rrid: str | None = None,
        msgfmt: str | int | None = None,
        skip_invalid: bool = False,
        batch_size: int | None = None,
        progress: Callable[[Batch], object] | None = None,
        dry_run: bool = False,
    ) -> SendResult | DryRun:
        """Send (mobile, content) pairs the cheapest way the vendor allows.

        A text shared by several numbers goes as ``mdsmssend`` batches (vendor doc §4.3:
        never one call per number), every other pair in ``mdgxsend`` batches, in one
        result whose ``operation`` names both when both were used.

        Args:
            As :meth:`send_personalized`.

        Raises:
            As :meth:`send`.

        Example::

            >>> client.send_many([("13800138000", "通知【示例】"), ("13900139000", "通知【示例】")])  # doctest: +SKIP
        """  # noqa: E501
        size = self._batch_size_set
        if batch_size is not None:
            size = check_batch_size(batch_size, DEFAULT_BATCH)
        from ._batch import plan_many

        plan = plan_many(
            self._rules, messages, ext=ext, at=at, rrid=rrid, msgfmt=msgfmt,
            skip_invalid=skip_invalid, size=size,
        )  # fmt: skip
        return self._execute(plan, progress, dry_run)

    def estimate(
        self, mobiles: str | Iterable[str], content: str, *, skip_invalid: bool = False
    ) -> Estimate:
        """What sending ``content`` to ``mobiles`` would cost, signature added and counted.

        Raises:
            ValidationError: as :meth:`send` would, before sending.

        Example::

            >>> Client("SDK-TST-010-00001", "x", signature="示例").estimate(
            ...     ["13800138000", "13900139000"], "验证码 1234"
            ... )
            Estimate(characters=12, segments=1, recipients=2, billable=2)
        """
        from ._compose import estimate
        from ._numbers import collect_mobiles

        found = collect_mobiles(mobiles, skip_invalid=skip_invalid)
        return estimate(self.prepare_content(content), recipients=len(found.numbers))

    def prepare_content(self, content: str) -> str:
        """The text exactly as a send would send it: signature added, length, GBK and
        segment rules checked (what the journal records of it).

        Raises:
            ValidationError: as :meth:`send` would, before sending.

        Example::

            >>> Client("SDK-TST-010-00001", "x", signature="示例").prepare_content("验证码 1234")
            '验证码 1234【示例】'
        """
        return self._rules.prepare(content, "")

    def _execute(
        self, plan: Plan, progress: Callable[[Batch], object] | None, dry_run: bool
    ) -> SendResult | DryRun:
        """Carry a checked plan out (or, for a dry run, build its requests only)."""
        if dry_run:
            from ._results import DryRun, PreparedRequest

            # Building opens no connection: the transport only serialises here.
            transport = self._transport_()
            host = self.active_host("send")
            prepared = []
            for request in plan.requests:
                op = OPERATIONS[request.operation]
                fields = {"sn": self.sn, "pwd": "***"}
                fields.update((name, request.fields.get(name, "")) for name in op.params[2:])
                built = transport.build(self._protocol_for(op), op, fields)
                method, url, headers, body = transport.render(built, host)
                prepared.append(
                    PreparedRequest(op.name, method, url, headers, body, request.recipients)
                )
            return DryRun(
                tuple(prepared), plan.estimate, plan.recipients, plan.skipped, plan.duplicates
            )
        from ._batch import run

        if self._duplicate_guard is not None and self.journal is not None:
            plan = self._duplicate_guard.apply(self.journal, self.sn, plan)
        # Which batch of which call each request is, for the journal.
        call_id, index, total = (
            f"{os.getpid()}-{next(_CALLS)}",
            itertools.count(),
            len(plan.requests),
        )
        return run(
            plan.requests,
            lambda name, fields, recipients: self._call(
                OPERATIONS[name], fields, recipients, (call_id, next(index), total)
            ),
            recipients=plan.recipients,
            segments=plan.estimate.segments,
            scheduled=plan.scheduled,
            skipped=plan.skipped,
            duplicates=plan.duplicates,
            progress=progress,
        )

    def account(self) -> AccountInfo:
        """The account's information (``mdgetSninfo``), decoded: ``.balance`` and ``.fields``."""
        raw, host, protocol = self._call(OPERATIONS["mdgetSninfo"], {}, ())
        from ._results import AccountInfo

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
            ValidationError: the journal holds 10 Register/UnRegister calls of this serial
                today (vendor doc §4.2) and the client's ``registration_guard`` is on.
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
        from ._journal_hook import registration_guard

        registration_guard(self.journal, self.sn, "Register", not self._registration_guard)
        return self._registration(OPERATIONS["Register"], dict(fields))

    def unregister(self) -> RegistrationResult:
        """Unregister the serial (with Register, at most 10 times a day; vendor doc §4.2).

        With a journal, the eleventh of the day is refused (see ``registration_guard``).
        """
        from ._journal_hook import registration_guard

        registration_guard(self.journal, self.sn, "UnRegister", not self._registration_guard)
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
        """Write the journal's held outcome rows and close pooled connections."""
        if self._journal_resolved and self._journal is not None:
            self._journal.flush()
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
            f"account={short_host(self.active_host('account'))} "
            f"journal={self._journal_label()}>"
        )

    def _journal_label(self) -> str:
        # The repr names the journal's file without opening it.
        spec = self._journal if self._journal_resolved else self._journal_spec
        if spec is None or spec is False:
            return "off"
        if spec is True:
            from ._journal import default_journal_path

            return str(default_journal_path())
        return str(getattr(spec, "path", spec))

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

    def _dispatcher(self) -> Dispatcher:
        if self._dispatcher_ is None:
            with self._lock:
                if self._dispatcher_ is None:
                    from ._dispatch import Dispatcher
                    from ._core.failover import FailoverPolicy

                    policy = self._failover or FailoverPolicy()
                    self._dispatcher_ = Dispatcher(self.sn, self._hosts, policy)
        return self._dispatcher_

    def _protocol_for(self, op: Operation) -> Protocol:
        return "http-post" if self.protocol == "ashx" and not op.ashx else self.protocol

    def _call(
        self,
        op: Operation,
        values: Mapping[str, str],
        recipients: Sequence[str],
        batch: tuple[str, int, int] | None = None,
    ) -> tuple[str, str, Protocol]:
        """Send ``op`` to the active host under the failover policy.

        Provably unsent: the next host, at once, same rrid. Sent without a decodable answer:
        OutcomeUnknown, never re-sent. A code whose ``Retry`` column says ``SAME_HOST``:
        retried after a jittered backoff, bounded by the policy and the retry budget.
        Returns (result, host, protocol); raises the decoded error for a negative code.
        Each attempt is journaled: a pending row before it leaves, its outcome after.
        """
        transport = self._transport_()
        protocol = self._protocol_for(op)
        fields = {"sn": self.sn, "pwd": self._credentials.pwd(op.pwd)}
        fields.update((name, values.get(name, "")) for name in op.params[2:])
        # Built once: every host attempt sends the very same request.
        built = transport.build(protocol, op, fields)
        from ._journal_hook import Recorder

        record = Recorder(self.journal, op.name, protocol, fields, recipients, batch)
        value, host = self._dispatcher().call(op, built, recipients, record, transport)
        return value, host, protocol

    def _registration(self, op: Operation, values: Mapping[str, str]) -> RegistrationResult:
        raw, host, protocol = self._call(op, values, ())
        try:
            code = int(raw)
        except ValueError:
            raise self._bad_result(raw, op.name, host) from None
        from ._results import RegistrationResult

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


_CALLS = itertools.count(1)
