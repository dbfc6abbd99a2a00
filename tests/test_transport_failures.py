"""What an exception of requests proves: only a failure before the request left is unsent."""

from __future__ import annotations

import ssl

import requests
import urllib3.exceptions

import mandao
from mandao._transports.failures import after_sending, unsent


def _ssl_error(inner: BaseException) -> requests.exceptions.SSLError:
    """requests' SSLError as urllib3 raises it: MaxRetryError(reason=SSLError(inner))."""
    wrapped = urllib3.exceptions.SSLError(inner)
    return requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/x", wrapped))


def test_a_refused_certificate_is_unsent() -> None:
    """A certificate the client will not accept: the request never left."""
    error = _ssl_error(ssl.SSLCertVerificationError(1, "certificate verify failed"))
    assert unsent(error) == "TLS certificate not accepted"


def test_any_other_tls_error_may_have_been_sent() -> None:
    """urllib3 wraps a TLS error while reading the reply alike: that may have gone out."""
    error = _ssl_error(ssl.SSLError(1, "bad record mac"))
    assert unsent(error) is None
    assert "may have been written" in after_sending(error)


def test_a_redacted_cause_keeps_no_traceback() -> None:
    """The frames' locals of a request hold its URL (with pwd): the cause drops them."""
    try:
        url = "http://h/webservice.asmx/mdgetSninfo?sn=S&pwd=0123456789ABCDEF"
        raise requests.ReadTimeout(f"read timed out: {url}")
    except requests.ReadTimeout as exc:
        caught = exc
    assert caught.__traceback__ is not None
    error = mandao.OutcomeUnknown("read timeout", cause=caught)
    assert error.cause is caught
    assert caught.__traceback__ is None
    assert "0123456789ABCDEF" not in str(error.cause)
