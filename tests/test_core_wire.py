"""The wire-to-outcome table: what each kind of exchange proves about a send (no I/O)."""

from __future__ import annotations

import pytest

import mandao
from mandao._core.wire import (
    Broken,
    Exchange,
    Fault,
    Malformed,
    Misconfigured,
    Response,
    Result,
    Unanswered,
    Unsent,
    classify,
)

CASES: list[tuple[str, Exchange, str, str]] = [
    ("refused", Broken("connect", "connection refused"), "Unsent", "connection refused"),
    ("connect timeout", Broken("connect", "connect timeout"), "Unsent", "connect timeout"),
    ("read timeout", Broken("sent", "read timeout"), "OutcomeUnknown", "read timeout"),
    ("reset", Broken("sent", "connection reset"), "OutcomeUnknown", "connection reset"),
    ("302", Response(302, Malformed("empty")), "ProtocolError", "HTTP 302 redirect, not followed"),
    ("307", Response(307, Result("123")), "ProtocolError", "HTTP 307 redirect, not followed"),
    ("500 fault", Response(500, Fault("soap:Server", "boom")), "ProtocolError", "SOAP fault"),
    ("200 fault", Response(200, Fault("soap:Server", "boom")), "ProtocolError", "boom"),
    ("404", Response(404, Malformed("x"), "Not Found"), "ConfigError", "/webservice.asmx"),
    ("404 result", Response(404, Result("123")), "ConfigError", "service path"),
    ("503", Response(503, Malformed("x"), "busy"), "ProtocolError", "HTTP 503"),
    ("500 result", Response(500, Result("123")), "ProtocolError", "HTTP 500"),
    ("200 page", Response(200, Malformed("not XML")), "ProtocolError", "not XML"),
    ("200 empty", Response(200, Result("  ")), "ProtocolError", "held no result"),
    ("200 result", Response(200, Result(" 123 ")), "str", "123"),
]


@pytest.mark.parametrize(("name", "exchange", "kind", "text"), CASES, ids=[c[0] for c in CASES])
def test_each_exchange_has_one_outcome(name: str, exchange: Exchange, kind: str, text: str) -> None:
    """Unsent for connect failures, the result for a 200 result, a ConfigError for a 404
    (not sent), OutcomeUnknown otherwise."""
    outcome = classify(exchange, host="h", operation="mdsmssend", rrid="9", recipients=("1",))
    if kind == "ConfigError":
        assert isinstance(outcome, Misconfigured)
        assert text in outcome.error.message
        assert not isinstance(outcome.error, mandao.OutcomeUnknown)
        assert (outcome.error.host, outcome.error.operation) == ("h", "mdsmssend")
    elif kind == "Unsent":
        assert isinstance(outcome, Unsent)
        assert outcome.reason == text
    elif kind == "str":
        assert outcome == text
    else:
        assert isinstance(outcome, Unanswered)
        error = outcome.error
        assert type(error).__name__ == kind
        assert isinstance(error, mandao.OutcomeUnknown)
        assert text in error.message
        assert (error.host, error.operation, error.rrid) == ("h", "mdsmssend", "9")
