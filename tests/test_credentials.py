"""Credentials: the two pwd forms, the serial check, and a password that never shows."""

from __future__ import annotations

import hashlib
import logging
import pickle

import pytest

import mandao
from mandao._credentials import Credentials, md5_form
from mandao._operations import OPERATIONS

SN, PASSWORD = "SDK-TST-010-00001", "s3cr3t-Pass"
MD5 = hashlib.md5((SN + PASSWORD).encode()).hexdigest().upper()


def test_md5_form_is_upper_hex_of_serial_then_password() -> None:
    """pwd for send operations is upper-case hex MD5(sn + password), serial first."""
    assert md5_form(SN, PASSWORD) == MD5
    assert len(MD5) == 32
    assert MD5.upper() == MD5


def test_password_form_per_operation_follows_interface_table() -> None:
    """Send operations and balance take the MD5 form; the other account ones the plain one."""
    forms = {name: op.pwd for name, op in OPERATIONS.items()}
    assert forms == {
        "mdsmssend": "md5",
        "mdgxsend": "md5",
        "mdgetSninfo": "md5",
        "Register": "plain",
        "UnRegister": "plain",
        "balance": "md5",
        "GetBalance": "plain",
        "UDPPwd": "plain",
        # reports-and-replies.md §1-§3: the MD5 form for mo/mo2/report*, plain for RECSMS*/Get*.
        "mo": "md5",
        "mo2": "md5",
        "report": "md5",
        "report2": "md5",
        "RECSMS_UTF8": "plain",
        "GetCode": "plain",
    }
    creds = Credentials(SN, PASSWORD)
    assert creds.pwd("md5") == MD5
    assert creds.pwd("plain") == PASSWORD


def test_password_is_not_kept_in_plain_text_on_the_object() -> None:
    """Neither the object's slots nor its pickle hold the plain password."""
    creds = Credentials(SN, PASSWORD)
    held = [getattr(creds, name) for name in Credentials.__slots__]
    assert PASSWORD not in held
    assert PASSWORD.encode() not in held
    with pytest.raises(TypeError):
        pickle.dumps(creds)


@pytest.mark.parametrize(
    "sn", ["", "SDK-TST-010-0001", "SDK_TST_010_00001", "SDK-TST-010-00001 ", 12]
)
def test_malformed_serial_is_refused_naming_the_argument(sn: object) -> None:
    """A serial not of the form XXX-XXX-XXX-XXXXX raises ValidationError naming sn."""
    with pytest.raises(mandao.ValidationError) as info:
        mandao.Client(sn, PASSWORD)  # type: ignore[arg-type]
    assert info.value.argument == "sn"
    assert isinstance(info.value, ValueError)


def test_client_repr_str_and_logs_never_show_the_password(caplog: pytest.LogCaptureFixture) -> None:
    """repr, str, vars and log records of a Client show neither password nor its MD5 form."""
    caplog.set_level(logging.DEBUG)
    client = mandao.Client(SN, PASSWORD)
    logging.getLogger("mandao").debug("client %r", client)
    shown = " ".join([repr(client), str(client), repr(vars(client)), caplog.text])
    assert SN in shown
    assert PASSWORD not in shown
    assert MD5 not in shown
    assert MD5.lower() not in shown


def test_a_password_utf8_cannot_encode_is_a_validation_error() -> None:
    """A lone surrogate in the password is refused as ValidationError, not UnicodeEncodeError."""
    with pytest.raises(mandao.ValidationError) as caught:
        Credentials("SDK-TST-010-00001", "pass\ud800word")
    assert caught.value.argument == "password"
    assert "\ud800" not in str(caught.value)
