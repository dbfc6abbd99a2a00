"""The gateway's operations as data: service, parameters in order, and the ``pwd`` form.

This is the one table that says which operation takes the MD5 form of the password and
which the plain password (INTERFACE.md §2): getting it wrong answers ``-2`` for every call.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, NamedTuple

from ._wsdl import ACCOUNT, SEND, Service

__all__ = [
    "BINDINGS",
    "OPERATIONS",
    "PROTOCOLS",
    "Operation",
    "PasswordForm",
    "Protocol",
    "operation",
]

PasswordForm = Literal["md5", "plain"]
Protocol = Literal["soap11", "soap12", "http-get", "http-post", "ashx"]

#: Every protocol a ``Client`` can speak, in the order the docs list them.
PROTOCOLS: tuple[Protocol, ...] = ("soap11", "soap12", "http-get", "http-post", "ashx")

#: The WSDL binding (and port) behind each zeep-carried protocol.
BINDINGS: dict[Protocol, str] = {
    "soap11": "WebServiceSoap",
    "soap12": "WebServiceSoap12",
    "http-get": "WebServiceHttpGet",
    "http-post": "WebServiceHttpPost",
}

_SEND_FIELDS = ("sn", "pwd", "mobile", "content", "ext", "stime", "rrid", "msgfmt")


class Operation(NamedTuple):
    """One gateway operation.

    Attributes:
        name: the exact, case-sensitive operation name (``mdgetSninfo``).
        service: the service (and so the WSDL and port) that offers it.
        params: the parameters in WSDL order.
        pwd: ``"md5"`` for upper-case hex MD5(sn + password), ``"plain"`` for the password.
        ashx: whether the vendor's plain-HTTP ``/<name>.ashx`` handler offers it.
        reply: a regular expression every success reply matches; anything else that is
            not a negative code is an undecodable reply (vendor doc §3.3: an id is at most
            18 characters, digits in every known example).
    """

    name: str
    service: Service
    params: tuple[str, ...]
    pwd: PasswordForm
    ashx: bool = False
    reply: str = r"\d{1,18}"

    def __repr__(self) -> str:
        return f"<Operation {self.name}({', '.join(self.params)}) pwd={self.pwd}>"


#: The operations that fetch replies, and how their content is encoded. ``mo`` gives each
#: reply once (and ``mo2``'s and ``RECSMS_UTF8``'s are not known to be given again), so an
#: answer to one is kept whatever it holds: even a body the codec cannot read.
REPLY_FETCHES: Mapping[str, str] = MappingProxyType(
    {"mo": "gb2312", "mo2": "gb2312", "RECSMS_UTF8": "utf-8"}
)

#: Every operation by its exact name; read-only (a view: nothing may change the table).
OPERATIONS: Mapping[str, Operation] = MappingProxyType(
    {
        op.name: op
        for op in (
            Operation("mdsmssend", SEND, _SEND_FIELDS, "md5", ashx=True),
            Operation("mdgxsend", SEND, _SEND_FIELDS, "md5", ashx=True),
            Operation("mdgetSninfo", SEND, ("sn", "pwd"), "md5", reply=r"(?s)\{.*\}|\d+"),
            Operation(
                "Register",
                ACCOUNT,
                (
                    "sn",
                    "pwd",
                    "province",
                    "city",
                    "trade",
                    "entname",
                    "linkman",
                    "phone",
                    "mobile",
                    "email",
                    "fax",
                    "address",
                    "postcode",
                    "sign",
                ),
                "plain",
            ),
            Operation("UnRegister", ACCOUNT, ("sn", "pwd"), "plain"),
            Operation("balance", ACCOUNT, ("sn", "pwd"), "md5"),
            Operation("GetBalance", ACCOUNT, ("sn", "pwd"), "plain"),
            Operation("UDPPwd", ACCOUNT, ("sn", "pwd", "newpwd"), "plain"),
            # Replies (MO) and delivery reports. Their success shapes are free text: CRLF
            # lines (mo, mo2), records of a layout no public source documents (report*),
            # "1" when nothing waits; RECSMS_UTF8's result is an ArrayOfMOBody element, not
            # text. maxID (mo2) is an xs:int, maxid (report*) an xs:long, both required.
            Operation("mo", ACCOUNT, ("sn", "pwd"), "md5", reply=r"(?s).+"),
            Operation("mo2", ACCOUNT, ("sn", "pwd", "maxID"), "md5", reply=r"(?s).+"),
            Operation("report", ACCOUNT, ("sn", "pwd", "maxid"), "md5", reply=r"(?s).+"),
            Operation("report2", ACCOUNT, ("sn", "pwd", "maxid", "rrid"), "md5", reply=r"(?s).+"),
            Operation("RECSMS_UTF8", ACCOUNT, ("sn", "pwd"), "plain", reply=r"(?s).*"),
            # The account's service number (特服号): digits.
            Operation("GetCode", ACCOUNT, ("sn", "pwd"), "plain", reply=r"\d{1,20}"),
        )
    }
)


def operation(name: str) -> Operation:
    """The table row for ``name`` (exact case)."""
    return OPERATIONS[name]
