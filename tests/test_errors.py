"""The exception tree: its shape, what each error carries, and its docstring drawing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import mandao
from mandao import _errors

CHINA = timezone(timedelta(hours=8))


def test_every_exception_is_exported_and_drawn_in_the_tree() -> None:
    """Each class of _errors is public in mandao and appears in the tree of the docstring."""
    doc = _errors.__doc__ or ""
    for name in _errors.__all__:
        assert getattr(mandao, name) is getattr(_errors, name), name
        assert f" {name} " in doc or f" {name}\n" in doc, name
    drawn = Path(_errors.__file__).read_text(encoding="utf-8").count("├──")
    assert drawn >= 5


def test_registration_quota_exceeded_says_when_to_try_again() -> None:
    """RegistrationQuotaExceeded is a MandaoError with operation and retry_after in its text."""
    midnight = datetime(2026, 5, 2, tzinfo=CHINA)
    error = mandao.RegistrationQuotaExceeded(
        "10 Register/UnRegister calls today", operation="Register", retry_after=midnight
    )
    assert isinstance(error, mandao.MandaoError)
    assert not isinstance(error, (mandao.GatewayError, mandao.OutcomeUnknown))
    assert (error.operation, error.retry_after, error.host, error.rrid) == (
        "Register",
        midnight,
        None,
        None,
    )
    assert "2026-05-02 00:00:00+08:00" in str(error)
    assert "operation=Register" in str(error)


def test_registration_quota_exceeded_without_a_time() -> None:
    """retry_after is optional; the message is then shown as given."""
    error = mandao.RegistrationQuotaExceeded("quota spent", operation="UnRegister")
    assert error.retry_after is None
    assert str(error) == "quota spent (operation=UnRegister)"


def test_registration_quota_exceeded_arguments_are_keywords() -> None:
    """operation and retry_after are keyword-only, so a call site says what each is."""
    with pytest.raises(TypeError):
        mandao.RegistrationQuotaExceeded("x", "Register")  # type: ignore[misc]


def test_gateway_errors_carry_recipients_and_internal_errors_are_outcome_unknown() -> None:
    """Any GatewayError keeps the request's recipients; -11's class is both kinds."""
    error = mandao.InsufficientBalance(mandao.explain(-4), recipients=("13800138000",))
    assert error.recipients == ("13800138000",)
    assert mandao.RateLimited(mandao.explain(-8)).recipients == ()
    internal = mandao.GatewayInternalError(mandao.explain(-11), raw="-11", rrid="7")
    assert isinstance(internal, mandao.OutcomeUnknown)
    assert (internal.code, internal.raw, internal.rrid, internal.cause) == (-11, "-11", "7", None)


def test_explain_of_text_raises_only_our_validation_error() -> None:
    """explain('abc') raises mandao.ValidationError (a ValueError subclass), never a bare one."""
    with pytest.raises(mandao.ValidationError) as caught:
        mandao.explain("abc")
    assert type(caught.value) is mandao.ValidationError


def test_deadline_exceeded_is_not_sent_and_says_its_deadline() -> None:
    """DeadlineExceeded is a GatewayUnreachable (not sent), never an OutcomeUnknown."""
    error = mandao.DeadlineExceeded(
        "not sent", total=2.5, causes=(("http://a", "connect timeout"),), operation="mdsmssend"
    )
    assert isinstance(error, mandao.GatewayUnreachable)
    assert not isinstance(error, (mandao.OutcomeUnknown, mandao.SerialBusy))
    assert (error.total, error.causes, error.operation) == (2.5, (("http://a", "connect timeout"),),
                                                            "mdsmssend")  # fmt: skip


def test_a_config_error_can_name_its_host() -> None:
    """A 404 is a ConfigError that names the host and operation; a file's keeps its path."""
    error = mandao.ConfigError("no service here", host="http://h/x", operation="balance")
    assert str(error) == "no service here (operation=balance, host=http://h/x)"
    assert mandao.ConfigError("bad", path=Path("m.toml")).message == "m.toml: bad"


def test_not_sent_and_outcome_unknown_errors_say_what_to_do() -> None:
    """Printed in a log, an error says the next step as a gateway error's hint does: one of
    unknown outcome may have been sent (match it to the reports), one not sent is safe to
    send again. A message that says it already (a code's own hint) gets no second one."""
    unknown = mandao.OutcomeUnknown("read timeout after the request was written",
                                    host="http://h/webservice.asmx", rrid="7")  # fmt: skip
    assert str(unknown) == (
        "read timeout after the request was written → it may have been sent: match it to "
        "the delivery reports by rrid, then decide (host=http://h/webservice.asmx, rrid=7)"
    )
    assert str(mandao.AllHostsFailed("no host took the request")) == (
        "no host took the request → nothing was sent, so it is safe to send again"
    )
    internal = mandao.GatewayInternalError(mandao.explain(-11), raw="-11", rrid="7")
    assert str(internal).count("→") == 1
