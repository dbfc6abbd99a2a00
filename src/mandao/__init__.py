"""mandao: the Python client for the Mandao (entinfo.cn, 漫道) SMS gateway.

>>> import mandao
>>> print(mandao.explain(-4).english)
The balance does not cover this send.

This module is the whole public surface: ``__all__``, sorted. The exception tree imports
at once; every other name loads on first use (PEP 562) from the module
``_EDGE`` names, and the ``TYPE_CHECKING`` block says the same to type checkers (a test
checks the three agree). ``mandao explain`` and the command line's other offline commands
import this module too, and must start in a third of zeep's time
(``benchmarks/cli_startup.py``): importing the composing rules, the settings, the core and
the results (their frozen dataclasses, typing and dataclasses themselves) costs more than
that budget allows, and a ``Client`` with its first WSDL parse must cost at most a tenth more
than zeep's own (``benchmarks/startup.py``): it loads neither the code table nor the core.
"""

import typing as _typing

from ._errors import (
    AllHostsFailed,
    AuthenticationError,
    ConcurrentDuplicate,
    ConcurrentHostUse,
    ConfigError,
    DeadlineExceeded,
    DuplicateSubmission,
    GatewayError,
    GatewayInternalError,
    GatewayUnreachable,
    InsufficientBalance,
    InvalidParameter,
    InvalidRecipients,
    JournalError,
    MandaoError,
    OutcomeUnknown,
    ProtocolError,
    RateLimited,
    RegistrationQuotaExceeded,
    SerialBusy,
    UnknownCode,
    ValidationError,
)
from ._version import __version__

# The I/O edge, for type checkers; at run time each name is imported on first use, from
# the module _EDGE names (tests/test_public_api.py checks that the two agree). A name moves
# to the import block above once its module is cheap to import (benchmarks/cli_startup.py).
if _typing.TYPE_CHECKING:
    from ._async_client import AsyncClient
    from ._client import Client
    from ._code_info import Category, CodeInfo, ErrorClass, RetryRule
    from ._codes import CODES, explain
    from ._compose.content import UnencodableWarning
    from ._compose.numbers import Numbers, normalize_mobiles
    from ._compose.plan import RepeatedNumberWarning
    from ._compose.segments import Estimate, estimate
    from ._config import DEFAULT_ACCOUNT_HOSTS, DEFAULT_HOSTS, ReplyLimits, Timeouts
    from ._core.failover import FailoverPolicy
    from ._explore import ServiceExplorer
    from ._fetching import Fetched
    from ._inbound.decoded import Decoded, Unreadable
    from ._inbound.optout import OptOut
    from ._inbound.replies import Reply
    from ._inbound.reports import DeliveryClass, Report, ReportParser, TolerantReportParser
    from ._journal import (
        Attempt,
        DuplicateGuard,
        DuplicateWarning,
        Journal,
        Problem,
        PruneResult,
        Reconciliation,
        Resolution,
        Suppression,
        Verification,
    )
    from ._operations import OPERATIONS, PROTOCOLS, Operation
    from ._push import ReplyPush
    from ._results import (
        AccountInfo,
        Batch,
        DryRun,
        PreparedRequest,
        RegistrationResult,
        SendResult,
        Skipped,
    )
    from ._wsdl import Service

#: Where each name of the I/O edge lives: imported on first use, then a plain attribute.
_EDGE = {
    "CODES": "._codes",
    "Category": "._code_info",
    "CodeInfo": "._code_info",
    "ErrorClass": "._code_info",
    "RetryRule": "._code_info",
    "explain": "._codes",
    "DEFAULT_ACCOUNT_HOSTS": "._config",
    "DEFAULT_HOSTS": "._config",
    "Estimate": "._compose.segments",
    "Numbers": "._compose.numbers",
    "OPERATIONS": "._operations",
    "Operation": "._operations",
    "PROTOCOLS": "._operations",
    "Service": "._wsdl",
    "Timeouts": "._config",
    "ReplyLimits": "._config",
    "UnencodableWarning": "._compose.content",
    "RepeatedNumberWarning": "._compose.plan",
    "estimate": "._compose.segments",
    "normalize_mobiles": "._compose.numbers",
    "AccountInfo": "._results",
    "AsyncClient": "._async_client",
    "Attempt": "._journal",
    "Batch": "._results",
    "Client": "._client",
    "DryRun": "._results",
    "DuplicateGuard": "._journal",
    "FailoverPolicy": "._core.failover",
    "Journal": "._journal",
    "PreparedRequest": "._results",
    "Problem": "._journal",
    "PruneResult": "._journal",
    "Reconciliation": "._journal",
    "RegistrationResult": "._results",
    "SendResult": "._results",
    "ServiceExplorer": "._explore",
    "DeliveryClass": "._inbound.reports",
    "Report": "._inbound.reports",
    "ReportParser": "._inbound.reports",
    "TolerantReportParser": "._inbound.reports",
    "Reply": "._inbound.replies",
    "Unreadable": "._inbound.decoded",
    "Decoded": "._inbound.decoded",
    "OptOut": "._inbound.optout",
    "Fetched": "._fetching",
    "ReplyPush": "._push",
    "Suppression": "._journal",
    "Resolution": "._journal",
    "Skipped": "._results",
    "DuplicateWarning": "._journal",
    "Verification": "._journal",
}

__all__ = [
    "CODES",
    "DEFAULT_ACCOUNT_HOSTS",
    "DEFAULT_HOSTS",
    "OPERATIONS",
    "PROTOCOLS",
    "AccountInfo",
    "AllHostsFailed",
    "AsyncClient",
    "Attempt",
    "AuthenticationError",
    "Batch",
    "Category",
    "Client",
    "CodeInfo",
    "ConcurrentDuplicate",
    "ConcurrentHostUse",
    "ConfigError",
    "DeadlineExceeded",
    "Decoded",
    "DeliveryClass",
    "DryRun",
    "DuplicateGuard",
    "DuplicateSubmission",
    "DuplicateWarning",
    "ErrorClass",
    "Estimate",
    "FailoverPolicy",
    "Fetched",
    "GatewayError",
    "GatewayInternalError",
    "GatewayUnreachable",
    "InsufficientBalance",
    "InvalidParameter",
    "InvalidRecipients",
    "Journal",
    "JournalError",
    "MandaoError",
    "Numbers",
    "Operation",
    "OptOut",
    "OutcomeUnknown",
    "PreparedRequest",
    "Problem",
    "ProtocolError",
    "PruneResult",
    "RateLimited",
    "Reconciliation",
    "RegistrationQuotaExceeded",
    "RegistrationResult",
    "RepeatedNumberWarning",
    "Reply",
    "ReplyLimits",
    "ReplyPush",
    "Report",
    "ReportParser",
    "Resolution",
    "RetryRule",
    "SendResult",
    "SerialBusy",
    "Service",
    "ServiceExplorer",
    "Skipped",
    "Suppression",
    "Timeouts",
    "TolerantReportParser",
    "UnencodableWarning",
    "UnknownCode",
    "Unreadable",
    "ValidationError",
    "Verification",
    "__version__",
    "estimate",
    "explain",
    "normalize_mobiles",
]

#: Names kept for one release after a rename: old name -> (new name, the object).
_DEPRECATED = {"Retry": ("RetryRule", "._code_info")}


def __getattr__(name: str) -> object:
    """The I/O edge, imported on first use, and the deprecated names, with a warning."""
    module = _EDGE.get(name)
    if module is not None:
        import importlib

        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # the next lookup is a plain module attribute
        return value
    if name in _DEPRECATED:
        import importlib
        import warnings

        new, module = _DEPRECATED[name]
        value = getattr(importlib.import_module(module, __name__), new)
        warnings.warn(
            f"mandao.{name} is deprecated and goes in 0.3.0; use mandao.{new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return value
    raise AttributeError(f"module 'mandao' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
