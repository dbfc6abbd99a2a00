"""mandao: the Python client for the Mandao (entinfo.cn, 漫道) SMS gateway.

>>> import mandao
>>> print(mandao.explain(-4).english)
The balance does not cover this send.

Names load on first use (PEP 562), so ``import mandao`` and the command line's offline
commands stay light; zeep and requests are imported on the first request.
"""

import importlib as _importlib
import typing as _typing

from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._client import (
        Client,
    )
    from ._codes import (
        CODES,
        Category,
        CodeInfo,
        Retry,
        explain,
    )
    from ._compose import (
        Estimate,
        UnencodableWarning,
        estimate,
    )
    from ._config import (
        DEFAULT_ACCOUNT_HOSTS,
        DEFAULT_HOSTS,
        Timeouts,
    )
    from ._errors import (
        AllHostsFailed,
        AuthenticationError,
        ConcurrentHostUse,
        ConfigError,
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
        UnknownCode,
        ValidationError,
    )
    from ._core.failover import (
        FailoverPolicy,
    )
    from ._journal import (
        Journal,
    )
    from ._journal_hook import (
        DuplicateGuard,
    )
    from ._numbers import (
        Numbers,
        normalize_mobiles,
    )
    from ._operations import (
        OPERATIONS,
        PROTOCOLS,
        Operation,
    )
    from ._results import (
        AccountInfo,
        Batch,
        DryRun,
        PreparedRequest,
        RegistrationResult,
        SendResult,
    )

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
    "ConfigError",
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
    "Numbers",
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
    "normalize_mobiles",
]

#: Where each public name lives; imported when first asked for.
_EXPORTS: dict[str, str] = {
    "AccountInfo": "._results",
    "AllHostsFailed": "._errors",
    "AuthenticationError": "._errors",
    "Batch": "._results",
    "CODES": "._codes",
    "Category": "._codes",
    "Client": "._client",
    "CodeInfo": "._codes",
    "ConcurrentHostUse": "._errors",
    "ConfigError": "._errors",
    "DEFAULT_ACCOUNT_HOSTS": "._config",
    "DEFAULT_HOSTS": "._config",
    "DryRun": "._results",
    "DuplicateGuard": "._journal_hook",
    "DuplicateSubmission": "._errors",
    "Estimate": "._compose",
    "FailoverPolicy": "._core.failover",
    "GatewayError": "._errors",
    "GatewayInternalError": "._errors",
    "GatewayUnreachable": "._errors",
    "InsufficientBalance": "._errors",
    "InvalidParameter": "._errors",
    "InvalidRecipients": "._errors",
    "Journal": "._journal",
    "JournalError": "._errors",
    "MandaoError": "._errors",
    "Numbers": "._numbers",
    "OPERATIONS": "._operations",
    "Operation": "._operations",
    "OutcomeUnknown": "._errors",
    "PROTOCOLS": "._operations",
    "PreparedRequest": "._results",
    "ProtocolError": "._errors",
    "RateLimited": "._errors",
    "RegistrationResult": "._results",
    "Retry": "._codes",
    "SendResult": "._results",
    "Timeouts": "._config",
    "UnencodableWarning": "._compose",
    "UnknownCode": "._errors",
    "ValidationError": "._errors",
    "estimate": "._compose",
    "explain": "._codes",
    "normalize_mobiles": "._numbers",
}


def __getattr__(name: str) -> _typing.Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mandao' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
