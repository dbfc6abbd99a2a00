"""A local Mandao gateway to test against: ``SandboxGateway``, its ledger, its faults,
the replies and delivery reports it serves, and its inbox (``InboxMessage``, ``InboxPage``).

>>> from mandao.testing import SandboxGateway
>>> with SandboxGateway(accounts={"SDK-TST-010-00001": "secret"}) as gw:
...     len(gw.hosts), len(gw.account_hosts)
(2, 2)

See docs/sandbox.md (behaviour, choices, faults, the inbox) and docs/testing-your-code.md
(pytest).
"""

from ._accounts import (
    DEFAULT_BALANCE,
    DEFAULT_PASSWORD,
    DEFAULT_SERVICE_NUMBER,
    DEFAULT_SN,
    AccountState,
    SandboxAccount,
)
from ._billing import segments
from ._checks import md5_pwd
from ._choices import Rules
from ._faults import FAULT_KINDS, Fault, FaultKind, Hold
from ._host import SandboxHost
from ._inbound import InjectedReply
from ._ledger import FaultEvent, Ledger, LedgerEntry, Rejection
from ._push import PushAttempt, PushReceiver
from ._reports import REPORT_LAYOUTS, STATUSES, DeliveryReport, ReportLayout, ReportSettings
from ._sandbox import SandboxGateway
from .inbox._message import InboxMessage, InboxPage

# The inbox's package is where its modules, templates and static files live; the names it
# offers are the two above (and SandboxGateway's inbox methods): not a public namespace.
del inbox  # type: ignore[name-defined]  # noqa: F821

__all__ = [
    "DEFAULT_BALANCE",
    "DEFAULT_PASSWORD",
    "DEFAULT_SERVICE_NUMBER",
    "DEFAULT_SN",
    "FAULT_KINDS",
    "REPORT_LAYOUTS",
    "STATUSES",
    "AccountState",
    "DeliveryReport",
    "Fault",
    "FaultEvent",
    "FaultKind",
    "Hold",
    "InboxMessage",
    "InboxPage",
    "InjectedReply",
    "Ledger",
    "LedgerEntry",
    "PushAttempt",
    "PushReceiver",
    "Rejection",
    "ReportLayout",
    "ReportSettings",
    "Rules",
    "SandboxAccount",
    "SandboxGateway",
    "SandboxHost",
    "md5_pwd",
    "segments",
]
