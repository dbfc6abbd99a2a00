"""From the gateway's result string to a value or one of our exceptions.

The exception class for a code is a column of the code table (``Category``), looked up
here; there is no per-code branch anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ._codes import Category, CodeInfo, explain
from ._errors import (
    AuthenticationError,
    ConcurrentHostUse,
    DuplicateSubmission,
    GatewayError,
    GatewayInternalError,
    InsufficientBalance,
    InvalidParameter,
    ProtocolError,
    RateLimited,
    UnknownCode,
)

__all__ = ["CATEGORY_ERRORS", "decode", "error_for"]

#: The exception raised for each category of negative code.
CATEGORY_ERRORS: Mapping[Category, type[GatewayError]] = {
    Category.ACCOUNT: AuthenticationError,
    Category.BALANCE: InsufficientBalance,
    Category.INVALID: InvalidParameter,
    Category.RATE_LIMITED: RateLimited,
    Category.DUPLICATE: DuplicateSubmission,
    Category.CONCURRENT: ConcurrentHostUse,
    Category.INTERNAL: GatewayInternalError,
    Category.UNKNOWN: UnknownCode,
}


def error_for(
    info: CodeInfo,
    *,
    raw: str,
    host: str | None,
    operation: str | None,
    rrid: str | None,
    recipients: Sequence[str] = (),
) -> GatewayError:
    """The exception for a negative code, carrying where it happened."""
    cls = CATEGORY_ERRORS.get(info.category, UnknownCode)
    error = cls(info, raw=raw, host=host, operation=operation, rrid=rrid)
    if isinstance(error, GatewayInternalError):
        error.recipients = recipients
    return error


def decode(
    raw: str,
    *,
    success: str,
    host: str,
    operation: str,
    rrid: str | None = None,
    recipients: Sequence[str] = (),
) -> str:
    """``raw`` if it matches ``success``; the decoded error if it is a negative code.

    Anything else (an error page through a proxy, a truncated reply) is a ProtocolError:
    the request went out, so its outcome is unknown.
    """
    if re.fullmatch(success, raw):
        return raw
    try:
        info = explain(raw) if raw.startswith("-") else None
    except ValueError:
        info = None
    if info is None:
        raise ProtocolError(
            f"the reply {raw[:60]!r} is neither a result nor a code",
            host=host,
            operation=operation,
            rrid=rrid,
            recipients=recipients,
        )
    raise error_for(info, raw=raw, host=host, operation=operation, rrid=rrid, recipients=recipients)
