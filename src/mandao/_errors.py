"""The exception hierarchy: one root, split by what the caller should do next.

::

    MandaoError
    ├── ConfigError                       the configuration is missing, invalid or unsafe
    ├── JournalError                      the send journal cannot be written, read or pruned
    ├── RegistrationQuotaExceeded         Register/UnRegister quota spent: not sent; wait
    │                                     until ``retry_after``
    ├── ValidationError (ValueError)      fix the input; nothing was sent
    │   ├── InvalidRecipients             mobiles that are not mainland numbers, with positions
    │   └── ConcurrentDuplicate           another caller just sent these numbers the same text
    │                                     (the duplicate guard, under the journal's lock)
    ├── GatewayError                      the gateway answered with a negative code
    │   ├── AuthenticationError           serial, password, registration, permissions, IP binding
    │   ├── InsufficientBalance           top up the account (-4)
    │   ├── InvalidParameter              the gateway rejected a field (-5, -6, -9, -10, -6xx)
    │   ├── RateLimited                   wait, then retry on the same host (-8, -18)
    │   ├── DuplicateSubmission           already submitted: do not retry (-20)
    │   ├── ConcurrentHostUse             one serial used on two hosts at once (-19)
    │   ├── GatewayInternalError          gateway-side failure; also OutcomeUnknown (-11, -14)
    │   └── UnknownCode                   a code no table knows; the raw value is kept
    ├── OutcomeUnknown                    the request may or may not have been carried out;
    │   │                                 ``cause`` keeps the (redacted) original exception
    │   ├── GatewayInternalError          (also a GatewayError, above)
    │   └── ProtocolError                 the reply could not be decoded (a request went out)
    └── GatewayUnreachable                provably not sent: no host took the request
        ├── AllHostsFailed                every host tried refused it (or the retry budget
        │                                 ran out); ``causes`` says why for each host
        ├── DeadlineExceeded              the call's ``Timeouts.total`` passed before its
        │                                 request could be (re)sent
        └── SerialBusy                    waited ``Timeouts.wait`` for a slot of the serial
                                          (``max_in_flight``) and got none

Every error carries ``host``, ``operation`` and ``rrid`` where they are known; gateway
errors carry ``code``, the decoded :class:`~mandao.CodeInfo` and the request's
``recipients``. Which GatewayError a code raises is the code table's ``error`` column
(``mandao.explain(-20).error``). zeep and requests exceptions are translated into these in
one place (``mandao._transports``) and never reach the caller untranslated; the original is
kept, redacted, as ``__cause__`` (and as ``cause`` on an OutcomeUnknown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path

    from ._code_info import CodeInfo

__all__ = [
    "AllHostsFailed",
    "AuthenticationError",
    "ConcurrentDuplicate",
    "ConcurrentHostUse",
    "ConfigError",
    "DeadlineExceeded",
    "DuplicateSubmission",
    "GatewayError",
    "GatewayInternalError",
    "GatewayUnreachable",
    "InsufficientBalance",
    "InvalidParameter",
    "InvalidRecipients",
    "JournalError",
    "MandaoError",
    "OutcomeUnknown",
    "ProtocolError",
    "RateLimited",
    "RegistrationQuotaExceeded",
    "SerialBusy",
    "UnknownCode",
    "ValidationError",
]


class MandaoError(Exception):
    """Root of every exception mandao raises.

    Attributes:
        host: the service URL the request went to, if any.
        operation: the gateway operation (``mdsmssend``, ``Register``, ...), if any.
        rrid: the request's rrid, if one was set.
        advice: what to do, the class's, which ``str()`` adds after ``→`` (unless said).
    """

    advice: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        host: str | None = None,
        operation: str | None = None,
        rrid: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.host = host
        self.operation = operation
        self.rrid = rrid

    def __str__(self) -> str:
        context = (("operation", self.operation), ("host", self.host), ("rrid", self.rrid))
        where = ", ".join(f"{name}={value}" for name, value in context if value)
        text = self.message
        if self.advice is not None and "→" not in text:
            text = f"{text} → {self.advice}"
        return f"{text} ({where})" if where else text


class ConfigError(MandaoError):
    """The configuration cannot be used (unreadable file, bad value, unsafe permissions).

    Also raised, not sent and not tried on another host, when a host answers ``404``: its
    URL is not the service's (``/webservice.asmx`` left out, most often).

    Attributes:
        path: the config file concerned, if any.
        remedy_included: the message itself says what to do (``pip install ...``, which
            variable named a missing file), so a general pointer to the settings would not
            help (the command line then adds no ``mandao config show`` hint).
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        host: str | None = None,
        operation: str | None = None,
        rrid: str | None = None,
        remedy_included: bool = False,
    ) -> None:
        shown = f"{path}: {message}" if path else message
        super().__init__(shown, host=host, operation=operation, rrid=rrid)
        self.path = path
        self.remedy_included = remedy_included


class JournalError(MandaoError):
    """The journal cannot be written or read, or refuses an operation (a too-young prune).

    Raised before a request leaves when its ``pending`` row cannot be written: not sent.
    """


class RegistrationQuotaExceeded(MandaoError):
    """The day's Register/UnRegister quota for this serial is spent; nothing was sent.

    The gateway allows 10 such calls a day per serial (vendor doc §4.2); the count starts
    again at midnight China time (UTC+8). Wait until ``retry_after`` before calling again.

    Attributes:
        operation: ``"Register"`` or ``"UnRegister"``.
        retry_after: when the quota starts again (timezone-aware), if known.

    Example::

        >>> from datetime import datetime, timedelta, timezone
        >>> midnight = datetime(2026, 5, 2, tzinfo=timezone(timedelta(hours=8)))
        >>> error = RegistrationQuotaExceeded(
        ...     "10 calls today", operation="Register", retry_after=midnight
        ... )
        >>> print(error)
        10 calls today; retry after 2026-05-02 00:00:00+08:00 (operation=Register)
    """

    def __init__(
        self, message: str, *, operation: str, retry_after: datetime | None = None
    ) -> None:
        shown = f"{message}; retry after {retry_after.isoformat(' ')}" if retry_after else message
        super().__init__(shown, operation=operation)
        self.retry_after = retry_after


class ValidationError(MandaoError, ValueError):
    """An argument is invalid; raised before any request is made.

    Attributes:
        argument: the name of the offending argument (``"mobiles"``, ``"hosts"``, ...).
    """

    def __init__(self, message: str, *, argument: str, **where: str | None) -> None:
        super().__init__(f"{argument}: {message}", **where)
        self.argument = argument


class InvalidRecipients(ValidationError):
    """Some recipients are not mainland mobile numbers; nothing was sent.

    Attributes:
        invalid: ``(position, value, reason)`` for every bad entry, in order.
    """

    def __init__(self, invalid: tuple[tuple[int, str, str], ...]) -> None:
        shown = "; ".join(f"#{pos} {value!r}: {reason}" for pos, value, reason in invalid[:5])
        more = f"; and {len(invalid) - 5} more" if len(invalid) > 5 else ""
        super().__init__(f"{len(invalid)} invalid: {shown}{more}", argument="mobiles")
        self.invalid = invalid


class ConcurrentDuplicate(ValidationError):
    """The duplicate guard, checked again under the journal's write lock as a request's
    ``pending`` row was about to be written, found that another caller of the serial (a
    thread, a process, a machine sharing the journal) had meanwhile sent some of its
    numbers the same text. The row was not written and the request was not sent.

    A send meets this in its first request and checks again at once, so the guard's
    ``skip`` leaves those numbers out (``skipped``) and ``refuse`` raises its
    ``ValidationError``: you see this class only as the ``error`` of a later batch (state
    ``not_sent``), or when other callers win the race three times running.

    Attributes:
        numbers: the numbers another caller sent the same text, in the request's order.
    """

    def __init__(self, message: str, *, numbers: tuple[str, ...]) -> None:
        super().__init__(message, argument="mobiles")
        self.numbers = numbers


class GatewayError(MandaoError):
    """The gateway answered with a negative result code.

    Attributes:
        code: the numeric code (``-20``).
        info: the decoded table row (Chinese text, English gloss, what to do).
        raw: the result string exactly as the gateway sent it.
        recipients: the mobiles of the request, if it was a send.
    """

    def __init__(
        self,
        info: CodeInfo,
        *,
        raw: str | None = None,
        host: str | None = None,
        operation: str | None = None,
        rrid: str | None = None,
        recipients: Sequence[str] = (),
    ) -> None:
        super().__init__(
            f"{info.code} {info.english} → {info.hint_en}",
            host=host,
            operation=operation,
            rrid=rrid,
        )
        self.info = info
        self.code = info.code
        self.raw = raw if raw is not None else str(info.code)
        # After super().__init__: on a GatewayInternalError, OutcomeUnknown.__init__ (next
        # in the MRO) has set recipients to its default by now.
        self.recipients = recipients


class AuthenticationError(GatewayError):
    """Serial, password, registration state, permission or IP binding is wrong."""


class InsufficientBalance(GatewayError):
    """The balance does not cover this send; top up the account."""


class InvalidParameter(GatewayError):
    """The gateway rejected a field of the request; fix the request."""


class RateLimited(GatewayError):
    """Flow control or a previous submission still pending; wait, then retry."""


class DuplicateSubmission(GatewayError):
    """The same mobile and content were submitted recently; it was not sent again."""


class ConcurrentHostUse(GatewayError):
    """The serial is in use on another interface address at the same time (-19)."""


class OutcomeUnknown(MandaoError):
    """The request may or may not have been carried out; it is never retried for you.

    Reconcile with the gateway's reports (by ``rrid``) before sending again.

    Attributes:
        recipients: the mobiles of the request, if it was a send.
        cause: the exception that left the outcome unknown (requests' ``ReadTimeout``,
            ``ConnectionError``, ...), its credentials redacted and its traceback dropped;
            None when no exception was raised: the gateway itself said so (a
            GatewayInternalError), or the reply could not be read (a ProtocolError, whose
            message says what it held: a status, a SOAP fault, an error page). As
            urllib3's ``MaxRetryError.reason``.
    """

    advice = "it may have been sent: match it to the delivery reports by rrid, then decide"

    def __init__(
        self,
        message: str,
        *,
        recipients: Sequence[str] = (),
        host: str | None = None,
        operation: str | None = None,
        rrid: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, host=host, operation=operation, rrid=rrid)
        self.recipients = recipients
        if cause is not None:
            # Here, not in the transport: whoever makes one, the caller never sees a pwd.
            from ._redact import redact_exception

            cause = redact_exception(cause)
        self.cause = cause


class GatewayInternalError(GatewayError, OutcomeUnknown):
    """The gateway reports an internal failure (-11, -14); the outcome is unknown.

    ``GatewayError.__init__`` reaches ``OutcomeUnknown.__init__`` through the MRO, so it
    carries ``code`` and ``info`` as well as ``recipients`` and ``cause`` (None: the gateway
    answered).
    """


class UnknownCode(GatewayError):
    """A negative code that no table knows; ``raw`` keeps the value as sent."""


class GatewayUnreachable(MandaoError):
    """No host took the request (connection refused, connect timeout, DNS failure).

    The request provably did not reach the gateway, so nothing was sent.

    Attributes:
        causes: for each host tried, in order, what went wrong.
    """

    advice = "nothing was sent, so it is safe to send again"

    def __init__(
        self,
        message: str,
        *,
        causes: tuple[tuple[str, str], ...] = (),
        host: str | None = None,
        operation: str | None = None,
        rrid: str | None = None,
    ) -> None:
        super().__init__(message, host=host, operation=operation, rrid=rrid)
        self.causes = causes


class SerialBusy(GatewayUnreachable):
    """The call waited its ``Timeouts.wait`` for a slot of the serial and got none: not sent.

    The gateway takes ``max_in_flight`` requests of a serial at a time (by default one,
    ``-18`` past it); other calls of the serial held every slot all that time.

    Attributes:
        waited: seconds the call waited.
    """

    def __init__(
        self, message: str, *, waited: float, operation: str | None = None, rrid: str | None = None
    ) -> None:
        super().__init__(message, operation=operation, rrid=rrid)
        self.waited = waited


class DeadlineExceeded(GatewayUnreachable):
    """The call's ``Timeouts.total`` passed before its request could be sent (or sent
    again, to the next host): not sent.

    Raised before an attempt starts: waiting for a slot of the serial, moving to the next
    host. A request already out when the deadline comes ends as its read timeout does, in
    an :class:`OutcomeUnknown`.

    Attributes:
        total: the call's deadline, in seconds.
        causes: for each host tried before, what went wrong.
    """

    def __init__(
        self,
        message: str,
        *,
        total: float,
        causes: tuple[tuple[str, str], ...] = (),
        operation: str | None = None,
        rrid: str | None = None,
    ) -> None:
        super().__init__(message, causes=causes, operation=operation, rrid=rrid)
        self.total = total


class ProtocolError(OutcomeUnknown):
    """The reply could not be decoded (not XML, a SOAP fault, an error page).

    A request went out, so this is also an :class:`OutcomeUnknown`.

    Attributes:
        answer: for a fetch of replies answered ``200`` with a body of no known shape, that
            body as text (its secrets scrubbed): ``mo`` gives each reply once, so the fetch
            keeps it in the journal as unreadable instead of raising. None otherwise.
    """

    answer: str | None = None


class AllHostsFailed(GatewayUnreachable):
    """Every host tried refused the request, or the client's retry budget ran out first.

    Nothing was sent. ``causes`` holds ``(host, cause)`` for each host in the order tried;
    a host skipped because the retry budget was spent appears with that as its cause.
    """
