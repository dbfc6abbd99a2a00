"""The operations each sandbox service answers, as data: parameters, password form, namespace.

Kept apart from the client's own tables on purpose: the sandbox is the independent ground
truth the client is tested against, so it never imports the client's modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ACCOUNT_SERVICE", "SEND_SERVICE", "Operation", "ServiceName", "ServiceSpec"]

ServiceName = Literal["send", "account"]
PwdForm = Literal["md5", "plain"]

_SEND_FIELDS = ("sn", "pwd", "mobile", "content", "ext", "stime", "rrid", "msgfmt")


@dataclass(frozen=True)
class Operation:
    """One gateway operation: exact-case name, parameters in WSDL order, which pwd form it takes."""

    name: str
    params: tuple[str, ...]
    pwd: PwdForm


@dataclass(frozen=True)
class ServiceSpec:
    """One ASMX service (send, like port 8061; account, like port 8060)."""

    name: ServiceName
    namespace: str
    wsdl_file: str
    operations: tuple[Operation, ...]
    ashx: bool  # the vendor's .ashx handlers live on the send port only (vendor doc §2.4-2.5)

    def operation(self, name: str) -> Operation | None:
        """The operation with exactly this name, or None (ASMX method names are case-sensitive)."""
        for op in self.operations:
            if op.name == name:
                return op
        return None

    def operation_for_action(self, action: str) -> Operation | None:
        """The operation whose soapAction is ``action`` (``<namespace><op>``), or None."""
        if not action.startswith(self.namespace):
            return None
        return self.operation(action[len(self.namespace) :])


SEND_SERVICE = ServiceSpec(
    name="send",
    namespace="http://entinfo.cn/",
    wsdl_file="send-8061.wsdl",
    operations=(
        Operation("mdsmssend", _SEND_FIELDS, "md5"),
        Operation("mdgxsend", _SEND_FIELDS, "md5"),
        Operation("mdgetSninfo", ("sn", "pwd"), "md5"),
    ),
    ashx=True,
)

ACCOUNT_SERVICE = ServiceSpec(
    name="account",
    namespace="http://tempuri.org/",
    wsdl_file="account-8060.wsdl",
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
    ),
    ashx=False,
)
