"""From what happened on the wire to what it proves: the one table every protocol uses.

A transport reports each exchange as a :class:`Broken` (the connection failed, in a phase)
or a :class:`Response` (a status and what the codec's parser made of the body). The first
matching row of :data:`ROWS` says which of three outcomes it is:

* ``unsent``: provably never reached the host; it may go to the next host at once.
* ``answered``: the host answered with a result text, to be decoded (a value or a code).
* ``unknown``: the request went out and no decodable answer came back; never re-sent.
* ``misconfigured``: the host answered that the URL is no service (``404``): not sent,
  and not tried elsewhere either, for the next host's URL is most likely built alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

from .._errors import ConfigError, OutcomeUnknown, ProtocolError

__all__ = [
    "ROWS",
    "Broken",
    "Fault",
    "Malformed",
    "Misconfigured",
    "Response",
    "Result",
    "Row",
    "Unanswered",
    "Unsent",
    "classify",
]

Phase = Literal["connect", "sent"]
OutcomeClass = Literal["unsent", "answered", "unknown", "misconfigured"]


class Unsent(NamedTuple):
    """The request provably never reached the host (refused, DNS, connect timeout)."""

    reason: str


class Unanswered(NamedTuple):
    """The request went out and no decodable answer came back: ``error`` says how.

    ``done``: a whole HTTP response came (an error page, a fault, a body of no known
    shape): whoever sent it is done with the request, so its slot need not be held. Not
    for a broken exchange, nor for 502, 503 and 504, a proxy's words for an upstream that
    did not answer it in time, and may still be at work on it.
    """

    error: OutcomeUnknown
    done: bool = False


#: Statuses a proxy sends while the host behind it may still be at work on the request.
UPSTREAM_PENDING = frozenset({502, 503, 504})


class Misconfigured(NamedTuple):
    """The host says the URL names no service: not sent; ``error`` says what to fix."""

    error: ConfigError


class Broken(NamedTuple):
    """The exchange failed: before any byte of the request left (``connect``), or after."""

    phase: Phase
    reason: str
    cause: BaseException | None = None


class Result(NamedTuple):
    """The body held the operation's result element (or, ``.ashx``, a plain text)."""

    text: str


class Fault(NamedTuple):
    """The body was a SOAP fault."""

    code: str
    message: str


class Malformed(NamedTuple):
    """The body was none of the shapes the operation answers with.

    ``answer``: the whole body as text (scrubbed), for a reply fetch only (its answer is
    kept whatever it holds: :data:`~mandao._operations.REPLY_FETCHES`); else None.
    """

    detail: str
    answer: str | None = None


class Response(NamedTuple):
    """An HTTP response: its status and what the parser read in its body."""

    status: int
    body: Result | Fault | Malformed
    first_line: str = ""  # of the body, for messages (scrubbed by the transport)


Exchange = Broken | Response


class Row(NamedTuple):
    """One row of the table: when it applies, the outcome class, and the message."""

    what: str
    applies: Callable[[Exchange], bool]
    outcome: OutcomeClass
    message: Callable[[Exchange], str]


def _status(exchange: Exchange) -> int:
    return exchange.status if isinstance(exchange, Response) else 0


def _reason(exchange: Exchange) -> str:
    return exchange.reason if isinstance(exchange, Broken) else ""


def _fault(exchange: Exchange) -> str:
    assert isinstance(exchange, Response)  # noqa: S101
    assert isinstance(exchange.body, Fault)  # noqa: S101
    return f"SOAP fault {exchange.body.code}: {exchange.body.message[:200]}".replace("  ", " ")


def _http(exchange: Exchange) -> str:
    assert isinstance(exchange, Response)  # noqa: S101
    line = exchange.first_line[:160]
    return f"HTTP {exchange.status} without a decodable result" + (f": {line}" if line else "")


def _body(exchange: Exchange) -> Result | Fault | Malformed | None:
    return exchange.body if isinstance(exchange, Response) else None


#: The table, first match wins. ``docs/reliability.md`` shows it to users.
ROWS: tuple[Row, ...] = (
    Row(
        "connection refused, DNS failure, connect timeout, TLS handshake, invalid URL",
        lambda e: isinstance(e, Broken) and e.phase == "connect",
        "unsent",
        _reason,
    ),
    Row(
        "read timeout, reset or close after the request was written",
        lambda e: isinstance(e, Broken) and e.phase == "sent",
        "unknown",
        _reason,
    ),
    Row(
        "a redirect (3xx): never followed",
        lambda e: 300 <= _status(e) < 400,
        "unknown",
        lambda e: f"HTTP {_status(e)} redirect, not followed (a proxy or a moved service?)",
    ),
    Row(
        "a SOAP fault, whatever the status",
        lambda e: isinstance(_body(e), Fault),
        "unknown",
        _fault,
    ),
    Row(
        "404: the URL names no service (not sent, not tried elsewhere)",
        lambda e: _status(e) == 404,
        "misconfigured",
        lambda e: (
            "HTTP 404: no service at this URL; it probably lacks the service path "
            "(/webservice.asmx): check hosts and account_hosts"
        ),
    ),
    Row("any other status than 200", lambda e: _status(e) != 200, "unknown", _http),
    Row(
        "200 with a body of no known shape (an error page, a truncated reply)",
        lambda e: isinstance(_body(e), Malformed),
        "unknown",
        lambda e: body.detail if isinstance(body := _body(e), Malformed) else "",
    ),
    Row(
        "200 with an empty result",
        lambda e: isinstance(body := _body(e), Result) and not body.text.strip(),
        "unknown",
        lambda e: "the reply held no result",
    ),
    Row("200 with a result", lambda e: isinstance(_body(e), Result), "answered", lambda e: ""),
)


def classify(
    exchange: Exchange,
    *,
    host: str,
    operation: str,
    rrid: str | None,
    recipients: Sequence[str],
) -> Unsent | Unanswered | Misconfigured | str:
    """The outcome of ``exchange``: Unsent, Unanswered (its OutcomeUnknown), Misconfigured
    (its ConfigError), or the result text."""
    row = next(row for row in ROWS if row.applies(exchange))
    if row.outcome == "unsent":
        return Unsent(row.message(exchange))
    if row.outcome == "misconfigured":
        return Misconfigured(ConfigError(row.message(exchange), host=host, operation=operation,
                                         rrid=rrid))  # fmt: skip
    if row.outcome == "answered":
        body = _body(exchange)
        assert isinstance(body, Result)  # noqa: S101
        return body.text.strip()
    kind = OutcomeUnknown if isinstance(exchange, Broken) else ProtocolError
    error = kind(
        row.message(exchange),
        host=host,
        operation=operation,
        rrid=rrid,
        recipients=recipients,
        cause=exchange.cause if isinstance(exchange, Broken) else None,
    )
    if isinstance(body := _body(exchange), Malformed) and isinstance(error, ProtocolError):
        error.answer = body.answer
    done = isinstance(exchange, Response) and exchange.status not in UPSTREAM_PENDING
    return Unanswered(error, done)
