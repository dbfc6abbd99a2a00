"""Client: the façade a user calls, driving the core with threads and requests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Unpack, overload

from ._client_base import RACES, GroupOptions, PersonalOptions
from ._client_inbound import ClientInbound
from ._core.batches import Refused
from ._explore import ServiceExplorer
from ._operations import OPERATIONS, Operation, Protocol
from ._wsdl import ACCOUNT, SEND, Service

# The core's driver, the journal and the result types load with the first send, not here:
# a Client and its first WSDL parse cost little more than zeep's own (benchmarks/startup.py).
if TYPE_CHECKING:
    from os import PathLike

    import requests

    from ._compose.plan import Plan, Planned
    from ._coordination.store import SerialStore
    from ._core.batches import Sent
    from ._journal.sent import Unseen
    from ._results import AccountInfo, DryRun, RegistrationResult, SendResult
    from ._transports.sync import SyncTransport

__all__ = ["Client"]


class Client(ClientInbound):
    """A client of the Mandao SMS gateway for one serial number.

    Args:
        sn: the serial, ``XXX-XXX-XXX-XXXXX`` (developer accounts start with ``SDK``).
        password: the account password. It is kept masked and never printed.
        hosts: send-service URLs, primary first (default: sdk / sdk2 .entinfo.cn:8061).
        account_hosts: account-service URLs for Register/UnRegister (port 8060), paired
            with the send hosts by hostname (else by position): both services of a serial
            use one host at a time, and fail over together. Not given: the vendor's for
            the vendor's hosts, else each send URL on port 8060 for 8061; send URLs on
            other ports need them given (ValidationError), so that no account call goes
            to the production gateway.
        protocol: ``"soap11"`` (default), ``"soap12"``, ``"http-get"``, ``"http-post"``, or
            ``"ashx"`` (the vendor's plain-HTTP handlers; they exist for the two send
            operations only, so other operations go by ``"http-post"``).
        timeout: seconds, a ``(connect, read)`` pair, or a :class:`Timeouts`.
        session: a ``requests.Session`` to carry the requests (proxies, TLS settings).
        failover: how to fail over between hosts and retry -8/-18 (a :class:`FailoverPolicy`).
        max_in_flight: most requests of the serial in flight at once, across the process's
            Clients of it (default 1: the gateway's ``-18`` past it); None for no limit.
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
        suppression: what a send does with numbers on the journal's suppression list:
            ``"skip"`` them (in ``result.skipped``), ``"error"``, or ``"off"`` (default).
        opt_out, report_parser, service_number: for replies and delivery reports
            (docs/reports-and-replies.md): the unsubscribe keywords (:class:`OptOut`), the
            report parser, the account's service number (default: GetCode's answer).
        reply_limits: the most bytes a reply may hold (:class:`ReplyLimits`).

    Raises:
        ValidationError: an argument is malformed; nothing is sent.

    Example::

        >>> client = Client(sn="SDK-TST-010-00001", password="secret")
        >>> client
        <mandao.Client sn=SDK-TST-010-00001 protocol=soap11 send=sdk.entinfo.cn:8061 account=sdk.entinfo.cn:8060 journal=...>
    """  # noqa: E501

    # Made with the first request: the driver need not load for a client only built.
    _transport: SyncTransport | None = None
    _carrier: requests.Session | None = None

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
        return cls(**cls._config_kwargs(path, overrides))

    # -- sends --------------------------------------------------------------------------

    @overload
    def send(
        self,
        mobiles: str | Iterable[str],
        content: str,
        *,
        dry_run: Literal[False] = ...,
        **options: Unpack[GroupOptions],
    ) -> SendResult: ...

    @overload
    def send(
        self,
        mobiles: str | Iterable[str],
        content: str,
        *,
        dry_run: Literal[True],
        **options: Unpack[GroupOptions],
    ) -> DryRun: ...

    def send(
        self,
        mobiles: str | Iterable[str],
        content: str,
        *,
        dry_run: bool = False,
        **options: Unpack[GroupOptions],
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
        return self._execute(self._plan("group", (mobiles, content), options), options, dry_run)

    @overload
    def send_personalized(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: Literal[False] = ...,
        **options: Unpack[PersonalOptions],
    ) -> SendResult: ...

    @overload
    def send_personalized(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: Literal[True],
        **options: Unpack[PersonalOptions],
    ) -> DryRun: ...

    def send_personalized(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: bool = False,
        **options: Unpack[PersonalOptions],
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
        return self._execute(self._plan("personal", messages, options), options, dry_run)

    @overload
    def send_many(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: Literal[False] = ...,
        **options: Unpack[GroupOptions],
    ) -> SendResult: ...

    @overload
    def send_many(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: Literal[True],
        **options: Unpack[GroupOptions],
    ) -> DryRun: ...

    def send_many(
        self,
        messages: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        dry_run: bool = False,
        **options: Unpack[GroupOptions],
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
        return self._execute(self._plan("many", messages, options), options, dry_run)

    def _execute(
        self, plan: Plan, options: Mapping[str, Any], dry_run: bool
    ) -> SendResult | DryRun:
        """Carry a checked plan out (or, for a dry run, build its requests only)."""
        guarded, tries = self._guarded(plan), 1  # a dry run leaves out what the send would
        if dry_run:
            return self._dry_run(guarded)
        while True:
            try:
                return self._send_plan(guarded, options)
            except Refused as refused:  # the first request's pending row: nothing left
                if tries == RACES:
                    raise refused.error from None
                tries, guarded = tries + 1, self._guarded(plan)  # none sent: who won shows

    def _send_plan(self, plan: Plan, options: Mapping[str, Any]) -> SendResult:
        from ._journal.guards import unseen_for
        from ._sync import send_plan

        call_id, index, total = self._call_id(), itertools.count(), len(plan.requests)

        def send_one(request: Planned) -> Sent:
            batch = (call_id, next(index), total)
            op = OPERATIONS[request.operation]
            unseen = unseen_for(plan, batch[1])
            return self._call(op, request.fields, request.recipients, batch, unseen)

        return send_plan(plan, send_one, options.get("progress"))

    # -- the account ----------------------------------------------------------------------

    def account(self) -> AccountInfo:
        """The account's information (``mdgetSninfo``), decoded: ``.balance`` and ``.fields``."""
        raw, host, protocol, _ = self._call(OPERATIONS["mdgetSninfo"], {}, ())
        from ._results import AccountInfo

        return AccountInfo.parse(raw, host=host, protocol=protocol)

    def balance(self) -> int:
        """Messages left on the account (the account service's ``balance``)."""
        raw, host, _, _ = self._call(OPERATIONS["balance"], {}, ())
        from ._results import whole_number

        return whole_number(raw, operation="balance", host=host)

    def register(self, **fields: str) -> RegistrationResult:
        """Register the serial once before first use (vendor doc §4.2).

        Args:
            province, city, trade, entname, linkman, phone, mobile, email, fax, address,
            postcode, sign: the company's details, all as text; only ``fax`` may be empty.
            The vendor wants them true and complete.

        Raises:
            ValidationError: a field is missing, unknown or empty.
            AuthenticationError: already registered (-1) or bad credentials (-2).
            RegistrationQuotaExceeded: the journal holds 10 Register/UnRegister calls of
                this serial today (vendor doc §4.2) and ``registration_guard`` is on.
        """
        self._check_register(fields)
        return self._registration(OPERATIONS["Register"], dict(fields))

    def unregister(self) -> RegistrationResult:
        """Unregister the serial (with Register, at most 10 times a day; vendor doc §4.2).

        With a journal, the eleventh of the day is refused (see ``registration_guard``).
        """
        return self._registration(OPERATIONS["UnRegister"], {})

    def _registration(self, op: Operation, values: Mapping[str, str]) -> RegistrationResult:
        from ._journal import registration_guard
        from ._results import RegistrationResult, whole_number

        registration_guard(self.journal, self.sn, op.name, not self._registration_guard)
        raw, host, protocol, _ = self._call(op, values, ())
        code = whole_number(raw, operation=op.name, host=host)
        return RegistrationResult(operation=op.name, code=code, host=host, protocol=protocol)

    # -- exploration --------------------------------------------------------------------

    @property
    def service(self) -> ServiceExplorer:
        """zeep's send-service proxy (``mdsmssend``, ``mdgxsend``, ``mdgetSninfo``), sn/pwd set."""
        return self._explorer(SEND)

    @property
    def account_service(self) -> ServiceExplorer:
        """zeep's account-service proxy (``Register``, ``UnRegister``, ...), sn/pwd set."""
        return self._explorer(ACCOUNT)

    def _explorer(self, service: Service) -> ServiceExplorer:
        protocol: Protocol = "soap11" if self.protocol == "ashx" else self.protocol
        return ServiceExplorer.over(
            service,
            protocol,
            host=lambda: self.active_host(service.name),
            pwd=self._credentials.pwd,
            sn=self.sn,
            wsdl=self._wsdl,
            carrier=lambda: (self._requests(), self.timeouts),
        )

    def close(self) -> None:
        """Close pooled connections, and the journal's if the client opened it (every
        journal row was written when its call returned; a later call opens them again)."""
        if self._carrier is not None and self._session is None:
            self._carrier.close()  # mandao's own session; a caller's stays open
        journal = self._own_journal()
        if journal is not None:
            journal.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one path every request takes -----------------------------------------------

    def _requests(self) -> requests.Session:
        """The session that carries this client's requests: the one given, or its own."""
        if self._carrier is None:
            with self._lock:
                if self._carrier is None:
                    from ._transports.session import session

                    self._carrier = session(self._session)
        return self._carrier

    def _sending(self) -> tuple[SyncTransport, SerialStore]:
        """The transport and the serial's admission store, made with the first request."""
        if self._transport is None:
            carrier = self._requests()
            with self._lock:
                if self._transport is None:
                    from ._transports.sync import SyncTransport

                    hidden = lambda: self._credentials  # noqa: E731 (as it is at each call)
                    self._transport = SyncTransport(self.timeouts, carrier, self._limits, hidden)
        return self._transport, self._serial_store()

    def _call(
        self,
        op: Operation,
        values: Mapping[str, str],
        recipients: Sequence[str],
        batch: tuple[str, int, int] | None = None,
        unseen: Unseen | None = None,
    ) -> Sent:
        """Send ``op`` under the serial's admission and failover: result, url, protocol, waited.

        Each attempt is journaled: a pending row before it leaves, its outcome after.
        """
        from ._core.batches import Sent
        from ._journal import Recorder
        from ._sync import call

        built = self._build(op, values, self._credentials.pwd(op.pwd))
        record = Recorder(self.journal, op.name, built.protocol, built.fields, recipients, batch,
                          unseen)  # fmt: skip
        transport, store = self._sending()
        done = call(built, recipients, record, transport=transport, store=store,
                    policy=self._policy(), rng=self._rng, sn=self.sn)  # fmt: skip
        return Sent(done.result, done.url, built.protocol, done.waited)
