"""The serial and password, and the two forms of ``pwd`` the gateway takes.

The plain password is needed for ``Register``, ``UnRegister``, ``GetBalance`` and
``UDPPwd``, so it cannot be thrown away; it is kept masked (XOR with a random pad made
for this object) and unmasked only for the moment a request needs it. Neither form ever
appears in a repr, a str, a log record or an exception.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

from ._errors import ValidationError
from ._operations import PasswordForm
from ._redact import Secrets

__all__ = ["SERIAL_PATTERN", "Credentials", "md5_form"]

#: ``XXX-XXX-XXX-XXXXX`` (vendor doc §2.2), e.g. ``SDK-BBX-010-19809``.
SERIAL_PATTERN = re.compile(r"[A-Za-z0-9]{3}-[A-Za-z0-9]{3}-[A-Za-z0-9]{3}-[A-Za-z0-9]{5}")


def md5_form(sn: str, password: str) -> str:
    """Upper-case hex MD5 of serial + password, the ``pwd`` of the send operations.

    >>> md5_form("SDK-TST-010-00001", "secret")
    'E032A153E688698D2D24FFB437C9214A'
    """
    return hashlib.md5((sn + password).encode("utf-8")).hexdigest().upper()


class Credentials:
    """A serial and its password; ``pwd(form)`` gives what a request carries."""

    __slots__ = ("_masked", "_md5", "_pad", "sn")

    def __init__(self, sn: str, password: str) -> None:
        if not isinstance(sn, str) or not SERIAL_PATTERN.fullmatch(sn):
            raise ValidationError(
                f"expected a serial of the form XXX-XXX-XXX-XXXXX (e.g. SDK-BBX-010-19809), "
                f"got {sn!r}",
                argument="sn",
            )
        if not isinstance(password, str) or not password:
            raise ValidationError("expected a non-empty string", argument="password")
        try:
            raw = password.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no bytes to hash or send
            raise ValidationError(
                "expected text that UTF-8 can encode", argument="password"
            ) from None
        self.sn = sn
        self._md5 = md5_form(sn, password)
        self._pad = os.urandom(len(raw))
        self._masked = bytes(a ^ b for a, b in zip(raw, self._pad, strict=True))

    def pwd(self, form: PasswordForm) -> str:
        """The ``pwd`` field for an operation that takes ``form``."""
        if form == "md5":
            return self._md5
        return bytes(a ^ b for a, b in zip(self._masked, self._pad, strict=True)).decode("utf-8")

    def forms(self) -> tuple[str, str, str]:
        """The password as a server might echo it: plain, and its MD5 form in both cases
        (to scrub from what comes back, never to show)."""
        return self.pwd("plain"), self._md5.upper(), self._md5.lower()

    def scrub(self, text: str) -> str:
        """``text`` (a server's answer, to keep) with the password, in either form, as ***."""
        return Secrets(self.forms()).scrub(text)

    def __repr__(self) -> str:
        return f"Credentials(sn={self.sn!r}, password=<hidden>)"

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("mandao credentials are not picklable")
