"""mandao: the Python client for the Mandao (entinfo.cn, 漫道) SMS gateway.

>>> import mandao
>>> print(mandao.explain(-4).english)
The balance does not cover this send.

zeep and requests are imported on the first request, not here.
"""

import logging as _logging

from ._client import Client
from ._codes import CODES, Category, CodeInfo, Retry, explain
from ._compose import Estimate, UnencodableWarning, estimate
from ._config import DEFAULT_ACCOUNT_HOSTS, DEFAULT_HOSTS, Timeouts
from ._errors import (
    AllHostsFailed,
    AuthenticationError,
    ConcurrentHostUse,
    DuplicateSubmission,
    GatewayError,
    GatewayInternalError,
    GatewayUnreachable,
    InsufficientBalance,
    InvalidParameter,
    InvalidRecipients,
    MandaoError,
    OutcomeUnknown,
    ProtocolError,
    RateLimited,
    UnknownCode,
    ValidationError,
)
from ._failover import FailoverPolicy
from ._journal import Journal, JournalError
from ._journal_hook import DuplicateGuard
from ._operations import OPERATIONS, PROTOCOLS, Operation
from ._results import (
    AccountInfo,
    Batch,
    DryRun,
    PreparedRequest,
    RegistrationResult,
    SendResult,
)
from ._version import __version__

__all__ = [
    "CODES",
    "DEFAULT_ACCOUNT_HOSTS",
    "DEFAULT_HOSTS",
    "OPERATIONS",
    "PROTOCOLS",
    "AccountInfo",
    "AllHostsFailed",
    "AuthenticationError",
    "Batch",
    "Category",
    "Client",
    "CodeInfo",
    "ConcurrentHostUse",
    "DryRun",
    "DuplicateGuard",
    "DuplicateSubmission",
    "Estimate",
    "FailoverPolicy",
    "GatewayError",
    "GatewayInternalError",
    "GatewayUnreachable",
    "InsufficientBalance",
    "InvalidParameter",
    "InvalidRecipients",
    "Journal",
    "JournalError",
    "MandaoError",
    "Operation",
    "OutcomeUnknown",
    "PreparedRequest",
    "ProtocolError",
    "RateLimited",
    "RegistrationResult",
    "Retry",
    "SendResult",
    "Timeouts",
    "UnencodableWarning",
    "UnknownCode",
    "ValidationError",
    "__version__",
    "estimate",
    "explain",
]

# A library never prints on its own: the application decides where records go.
_logging.getLogger("mandao").addHandler(_logging.NullHandler())
