"""The two services the sandbox serves, as data: each operation's parameters and password form.

This is the gateway's interface as the wire sees it (names, parameters in WSDL order,
namespaces, which operations have an ``.ashx`` handler). What an operation *does* is its
row in ``_handlers.HANDLERS``. The names and parameters are the sandbox's own copy, not
the client's table: the sandbox is the independent ground truth the client is tested
against. Only the WSDL files' location comes from the main package (``mandao._wsdl``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .._wsdl import ACCOUNT, SEND, Service

__all__ = [
    "ACCOUNT_SERVICE",
    "SEND_SERVICE",
    "Operation",
    "ParamType",
    "PwdForm",
    "ResultType",
    "ServiceName",
    "ServiceSpec",
]

ServiceName = Literal["send", "account"]
PwdForm = Literal["md5", "plain"]
#: A parameter's .NET type (the rest are strings): ``int`` is System.Int32, ``long`` Int64.
ParamType = Literal["int", "long"]
#: What an operation returns: a string, or ``ArrayOfMOBody`` (the RECSMS* family).
ResultType = Literal["string", "ArrayOfMOBody"]

_SEND_FIELDS = ("sn", "pwd", "mobile", "content", "ext", "stime", "rrid", "msgfmt")


@dataclass(frozen=True)
class Operation:
    """One gateway operation: exact-case name, parameters in WSDL order, which pwd form it takes.

    ``ashx``: the vendor's plain-HTTP ``/<name>.ashx`` handler offers it too (vendor doc
    §2.4-2.5; the two send operations, on the send port only). ``types``: the parameters
    that are not strings, as (name, type) pairs; ``result``: what the operation returns.

    >>> ACCOUNT_SERVICE.operation("mo2").param_type("maxID"), SEND_SERVICE.operation("mdsmssend").result
    ('int', 'string')
    """  # noqa: E501

    name: str
    params: tuple[str, ...]
    pwd: PwdForm
    ashx: bool = False
    types: tuple[tuple[str, ParamType], ...] = ()
    result: ResultType = "string"

    def param_type(self, name: str) -> ParamType | None:
        """The .NET type of parameter ``name`` when it is not a string, else None."""
        return dict(self.types).get(name)


@dataclass(frozen=True)
class ServiceSpec:
    """One ASMX service (send, like port 8061; account, like port 8060).

    >>> SEND_SERVICE.operation("mdgxsend").pwd, SEND_SERVICE.ashx_operation("/mdgxsend.ashx").name
    ('md5', 'mdgxsend')
    >>> SEND_SERVICE.operation("MDGXSEND"), ACCOUNT_SERVICE.ashx_operation("/register.ashx")
    (None, None)
    """

    name: ServiceName
    namespace: str
    wsdl: Service
    operations: tuple[Operation, ...]
    _by_name: dict[str, Operation] = field(init=False, repr=False, compare=False)
    _by_ashx: dict[str, Operation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {op.name: op for op in self.operations})
        ashx = {f"/{op.name.lower()}.ashx": op for op in self.operations if op.ashx}
        object.__setattr__(self, "_by_ashx", ashx)

    def operation(self, name: str) -> Operation | None:
        """The operation with exactly this name, or None (ASMX method names are case-sensitive)."""
        return self._by_name.get(name)

    def operation_for_action(self, action: str) -> Operation | None:
        """The operation whose soapAction is ``action`` (``<namespace><op>``), or None."""
        if not action.startswith(self.namespace):
            return None
        return self._by_name.get(action[len(self.namespace) :])

    def ashx_operation(self, path: str) -> Operation | None:
        """The operation served at the lower-case ``path`` (``/mdsmssend.ashx``), or None."""
        return self._by_ashx.get(path)


SEND_SERVICE = ServiceSpec(
    name="send",
    namespace="http://entinfo.cn/",
    wsdl=SEND,
    operations=(
        Operation("mdsmssend", _SEND_FIELDS, "md5", ashx=True),
        Operation("mdgxsend", _SEND_FIELDS, "md5", ashx=True),
        Operation("mdgetSninfo", ("sn", "pwd"), "md5"),
    ),
)

ACCOUNT_SERVICE = ServiceSpec(
    name="account",
    namespace="http://tempuri.org/",
    wsdl=ACCOUNT,
    operations=(
        Operation(
            "Register",
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
        Operation("UnRegister", ("sn", "pwd"), "plain"),
        Operation("balance", ("sn", "pwd"), "md5"),
        Operation("GetBalance", ("sn", "pwd"), "plain"),
        Operation("UDPPwd", ("sn", "pwd", "newpwd"), "plain"),
        # Replies (MO), delivery reports, the service number: exact live signatures.
        Operation("mo", ("sn", "pwd"), "md5"),
        Operation("mo2", ("sn", "pwd", "maxID"), "md5", types=(("maxID", "int"),)),
        Operation("report", ("sn", "pwd", "maxid"), "md5", types=(("maxid", "long"),)),
        Operation("report2", ("sn", "pwd", "maxid", "rrid"), "md5", types=(("maxid", "long"),)),
        Operation("RECSMS_UTF8", ("sn", "pwd"), "plain", result="ArrayOfMOBody"),
        Operation("GetCode", ("sn", "pwd"), "plain"),
    ),
)
