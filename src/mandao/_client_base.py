"""What every client shares, with no I/O: settings, planning, dry runs, the journal's spec.

:class:`BaseClient` checks the constructor's arguments, turns a call's arguments into a
checked :class:`~mandao._compose.plan.Plan`, builds dry runs, and holds the host groups,
the retry policy and the journal; ``Client`` and ``AsyncClient`` drive the core.
"""

from __future__ import annotations

import itertools
import os
import random
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, TypedDict, TypeVar

from ._client_checks import (
    Inbound,
    Suppression,
    check_inbound,
    check_journal,
    check_limits,
    check_max_in_flight,
    check_register,
    check_session,
    paired_hosts,
)
from ._compose.content import ContentRules
from ._config import (
    DEFAULT_BATCH,
    DEFAULT_GX_BATCH,
    DEFAULT_HOSTS,
    ReplyLimits,
    Timeouts,
    account_hosts_of,
    check_hosts,
    short_host,
)
from ._config import batch_size as check_batch_size
from ._credentials import Credentials
from ._errors import ConfigError, ValidationError
from ._operations import OPERATIONS, PROTOCOLS, Operation, Protocol
from ._wsdl import ACCOUNT, SEND, ServiceName

if TYPE_CHECKING:
    from ._compose.content import Estimate
    from ._compose.plan import Plan
    from ._coordination.store import SerialStore
    from ._core.failover import FailoverPolicy
    from ._inbound.optout import OptOut
    from ._inbound.reports import ReportParser
    from ._journal import DuplicateGuard, Journal
    from ._results import Batch, DryRun
    from ._transports.wsdl import Built, Wsdl

__all__ = ["RACES", "BaseClient", "GroupOptions", "PersonalOptions"]

#: Sends of one plan tried when another caller keeps winning the race to the journal
#: with the same numbers and text (``ConcurrentDuplicate``; nothing sent each time).
RACES = 3

_DEFAULT_TIMEOUTS = Timeouts()
_CALLS = itertools.count(1)


class _Options(TypedDict, total=False):
    ext: str
    at: datetime | str | None
    msgfmt: str | int | None
    skip_invalid: bool
    batch_size: int | None
    progress: Callable[[Batch], object] | None


class GroupOptions(_Options, total=False):
    """The keywords of ``send`` and ``send_many`` besides ``dry_run``."""

    rrid: str | None


class PersonalOptions(_Options, total=False):
    """The keywords of ``send_personalized`` besides ``dry_run``."""

    rrid: str | Sequence[str] | None


#: What carries a client's requests: a ``requests.Session`` for ``Client``.
S = TypeVar("S")


class BaseClient(Generic[S]):
    """Settings and planning shared by the clients (see :class:`mandao.Client`)."""

    _SESSION = ("requests", "Session")  # the module and class of a given session

    def __init__(
        self,
        sn: str,
        password: str,
        *,
        hosts: Iterable[str] = DEFAULT_HOSTS,
        account_hosts: Iterable[str] | None = None,
        protocol: Protocol = "soap11",
        timeout: Timeouts | float | tuple[float, float] = _DEFAULT_TIMEOUTS,
        session: S | None = None,
        failover: FailoverPolicy | None = None,
        max_in_flight: int | None = 1,
        signature: str | None = None,
        signature_position: Literal["end", "start"] = "end",
        require_signature: bool = True,
        unencodable: Literal["warn", "error", "allow"] = "warn",
        max_segments: int | None = None,
        batch_size: int | None = None,
        journal: Journal | str | os.PathLike[str] | bool | None = True,
        duplicate_guard: DuplicateGuard | None = None,
        registration_guard: bool = True,
        suppression: Suppression = "off",
        opt_out: OptOut | None = None,
        report_parser: ReportParser | None = None,
        service_number: str | None = None,
        reply_limits: ReplyLimits | None = None,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValidationError(
                f"expected one of {', '.join(PROTOCOLS)}, got {protocol!r}", argument="protocol"
            )
        self._credentials = Credentials(sn, password)
        self.protocol: Protocol = protocol
        self.timeouts = Timeouts.of(timeout)
        self._limits = check_limits(reply_limits)
        self._session = check_session(session, self._SESSION)
        send = check_hosts(hosts, argument="hosts")
        self._hosts: dict[ServiceName, tuple[str, ...]] = {"send": send, "account": (
            account_hosts_of(send) if account_hosts is None
            else check_hosts(account_hosts, argument="account_hosts"))}  # fmt: skip
        self._groups = paired_hosts(self._hosts)  # warns of a send host without account
        self._max_in_flight = check_max_in_flight(max_in_flight)
        self._failover = failover
        self._lock = threading.Lock()
        self._store: SerialStore | None = None  # the serial's admission, with the first send
        self._rng = random.Random()  # noqa: S311 (backoff jitter, not secrets)
        self._rules = ContentRules(signature=signature, signature_position=signature_position,
                                   require_signature=require_signature, unencodable=unencodable,
                                   max_segments=max_segments)  # fmt: skip
        self._batch_size_set = None if batch_size is None else check_batch_size(batch_size, 0)
        self._batch_size = self._batch_size_set or DEFAULT_BATCH
        self._journal_spec = check_journal(journal)  # a path or a flag: opened when sending
        self._journal: Journal | None = None
        self._journal_resolved = False
        if not isinstance(journal, (bool, str, os.PathLike)) and journal is not None:
            self._resolve_journal()  # a Journal object, or a wrong type to refuse now
        self._duplicate_guard = duplicate_guard
        self._registration_guard = registration_guard
        self._suppression = check_inbound(suppression, journal not in (None, False))
        self._inbound = Inbound.of(opt_out, report_parser, service_number)
        self._wsdl_: Wsdl | None = None

    # -- settings -----------------------------------------------------------------------

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

    def active_host(self, service: ServiceName = "send") -> str:
        """Where requests to ``service`` go now."""
        if self._store is None:
            return self._groups.first(service)
        return self._store.active_host(service)

    def _own_journal(self) -> Journal | None:
        """The journal this client opened from a path or URL (a given Journal is the caller's)."""
        if not self._journal_resolved or self._journal is self._journal_spec:
            return None
        return self._journal

    def _resolve_journal(self) -> Journal | None:
        from ._journal import journal_of

        with self._lock:
            if not self._journal_resolved:
                self._journal = journal_of(self._journal_spec)
                self._journal_resolved = True
        return self._journal

    @staticmethod
    def _config_kwargs(
        path: str | os.PathLike[str] | None, overrides: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The constructor's keywords from the config file, the environment and ``overrides``."""
        from ._config_file import FILE_KEYS, load_settings

        # ``journal`` (a file table, and a constructor keyword) given here wins over the file's.
        given = {k: v for k, v in overrides.items() if k in FILE_KEYS and k != "journal"}
        settings = load_settings(path, overrides=given, keywords=True)
        kwargs = settings.client_kwargs()
        kwargs.update((k, v) for k, v in overrides.items() if k not in FILE_KEYS or k == "journal")
        if "sn" not in kwargs:
            raise ConfigError("no serial number: give sn=..., set MANDAO_SN, or put sn in "
                              "mandao.toml", path=settings.path)  # fmt: skip
        if "password" not in kwargs:
            raise ConfigError("no password: give password=..., set MANDAO_PASSWORD_COMMAND or "
                              "MANDAO_PASSWORD, or put password_command in mandao.toml",
                              path=settings.path)  # fmt: skip
        return kwargs

    def _policy(self) -> FailoverPolicy:
        from ._core.failover import FailoverPolicy

        return self._failover or FailoverPolicy()

    # -- planning (no I/O) --------------------------------------------------------------

    def _plan(
        self, kind: Literal["group", "personal", "many"], given: Any, options: Mapping[str, Any]
    ) -> Plan:
        """The checked plan of one call; raises ValidationError (TypeError: an option the
        method does not take) before anything is sent."""
        from ._compose import plan

        known = PersonalOptions if kind == "personal" else GroupOptions
        plan.check_options(kind, options, known.__optional_keys__)
        size = options.get("batch_size")
        common: dict[str, Any] = {key: options.get(key) for key in ("at", "rrid", "msgfmt")}
        common.update(ext=options.get("ext", ""), skip_invalid=options.get("skip_invalid", False))
        if kind == "group":
            mobiles, content = given
            sized = check_batch_size(size, self._batch_size)
            made = plan.plan_group(self._rules, mobiles, content, size=sized, **common)
        elif kind == "personal":
            sized = check_batch_size(size, self._batch_size_set or DEFAULT_GX_BATCH)
            made = plan.plan_personal(self._rules, given, size=sized, **common)
        else:
            many = self._batch_size_set if size is None else check_batch_size(size, DEFAULT_BATCH)
            made = plan.plan_many(self._rules, given, size=many, **common)
        return made

    def _unscreened(self, plan: Plan) -> bool:
        """Whether ``plan`` needs no look in the journal: no guard, no list, no rrid given."""
        return self._duplicate_guard is None and self._suppression == "off" and not plan.rrid_given

    def _guarded(self, plan: Plan, warn: Callable[[str], None] | None = None) -> Plan:
        """``plan`` less the numbers on the suppression list and those the duplicate guard
        finds in the journal (each in ``skipped``, with why); ``warn``: as ``screen``'s."""
        journal = self.journal
        if journal is None or self._unscreened(plan):
            return plan
        from ._journal import screen

        return screen(plan, journal, self.sn, self._duplicate_guard, self._suppression, warn)

    @staticmethod
    def _call_id() -> str:
        """Which call a journal row's batch belongs to, for the duplicate guard's second
        look: the pid and the process's count for people, and random bits of each call's
        own, as pids repeat in containers and instances restored from one memory snapshot
        (AWS Lambda SnapStart) share their counts."""
        return f"{os.getpid()}-{next(_CALLS)}-{secrets.token_hex(4)}"

    def estimate(
        self, mobiles: str | Iterable[str], content: str, *, skip_invalid: bool = False
    ) -> Estimate:
        """What sending ``content`` to ``mobiles`` would cost, signature added and counted.

        Raises:
            ValidationError: as :meth:`send` would, before sending.

        Example::

            >>> import mandao
            >>> mandao.Client("SDK-TST-010-00001", "x", signature="示例").estimate(
            ...     ["13800138000", "13900139000"], "验证码 1234"
            ... )
            Estimate(characters=12, segments=1, recipients=2, billable=2)
        """
        from ._compose.content import estimate
        from ._compose.numbers import collect_mobiles

        found = collect_mobiles(mobiles, skip_invalid=skip_invalid)
        return estimate(self.prepare_content(content), recipients=len(found.numbers))

    def prepare_content(self, content: str) -> str:
        """The text exactly as a send would send it: signature added, length, GBK and
        segment rules checked (what the journal records of it).

        Raises:
            ValidationError: as :meth:`send` would, before sending.

        Example::

            >>> import mandao
            >>> client = mandao.Client("SDK-TST-010-00001", "x", signature="示例")
            >>> client.prepare_content("验证码 1234")
            '验证码 1234【示例】'
        """
        return self._rules.prepare(content, "")

    _check_register = staticmethod(check_register)

    # -- requests -----------------------------------------------------------------------

    def _wsdl(self) -> Wsdl:
        # zeep is imported on first use, so `import mandao` and the offline CLI stay light.
        if self._wsdl_ is None:
            with self._lock:
                if self._wsdl_ is None:
                    from ._transports.wsdl import Wsdl

                    self._wsdl_ = Wsdl()
        return self._wsdl_

    @property
    def operations(self) -> tuple[Operation, ...]:
        """Every operation of both cached WSDLs, with its parameters, as zeep reads them."""
        from ._transports.wsdl import operation_parameters

        found = []
        for service in (SEND, ACCOUNT):
            for name, params in operation_parameters(service).items():
                known = OPERATIONS[name]
                found.append(Operation(name, service, params, known.pwd, known.ashx))
        return tuple(found)

    def _protocol_for(self, op: Operation) -> Protocol:
        return "http-post" if self.protocol == "ashx" and not op.ashx else self.protocol

    def _build(self, op: Operation, values: Mapping[str, str], pwd: str) -> Built:
        """``op``'s request with ``values``, built once: every host attempt sends it as is."""
        fields = {"sn": self.sn, "pwd": pwd}
        fields.update((name, values.get(name, "")) for name in op.params[2:])
        return self._wsdl().build(self._protocol_for(op), op, fields)

    def _dry_run(self, plan: Plan) -> DryRun:
        """Each request of ``plan`` as it would go to the active host, ``pwd`` redacted."""
        from ._results import DryRun, PreparedRequest, skipped_of
        from ._transports.codec import encode

        host = self.active_host("send")
        prepared = []
        for request in plan.requests:
            wire = encode(self._build(OPERATIONS[request.operation], request.fields, "***"), host)
            prepared.append(
                PreparedRequest(
                    operation=request.operation,
                    method=wire.method,
                    url=wire.url,
                    headers=dict(wire.headers),
                    body=wire.body.decode("utf-8"),
                    recipients=request.recipients,
                )
            )
        return DryRun(
            requests=tuple(prepared),
            estimate=plan.estimate,
            recipients=plan.recipients,
            skipped=skipped_of(plan.skipped),
            duplicates=plan.duplicates,
        )

    def __repr__(self) -> str:
        return (
            f"<mandao.{type(self).__name__} sn={self.sn} protocol={self.protocol} "
            f"send={short_host(self.active_host('send'))} "
            f"account={short_host(self.active_host('account'))} "
            f"journal={self._journal_label()}>"
        )

    def _serial_store(self) -> SerialStore:
        """The serial's admission, shared by every Client of this serial, journal and hosts
        in the process, and through the journal's file or database by every process."""
        if self._store is None:
            from ._coordination.store import shared

            journal = self.journal  # opened first: under its own lock
            with self._lock:
                if self._store is None:
                    key = (self.sn, self._journal_label(), tuple(self._groups.urls.items()))
                    self._store = shared(key, self._groups, self._policy(),
                                         limit=self._max_in_flight, journal=journal)  # fmt: skip
        return self._store

    def _journal_label(self) -> str:
        # The repr names the journal without opening it (a URL without its password).
        spec = self._journal if self._journal_resolved else self._journal_spec
        if spec is None or spec is False:
            return "off"
        from ._journal import default_journal_location, label_of

        return label_of(default_journal_location() if spec is True else spec)
