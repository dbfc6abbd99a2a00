"""The rows of ``HANDLERS`` that read: replies (``mo``, ``mo2``, ``RECSMS_UTF8``), delivery
reports (``report``, ``report2``) and the service number (``GetCode``).

Each runs under the gateway state's lock for an authenticated caller, so a destructive
read hands a reply to exactly one caller. The shapes are ``_inbound`` (replies) and
``_reports`` (reports); what is answered when nothing waits is stated per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ._accounts import Account
from ._calls import Call, MOBody, Result
from ._context import CallContext, Handler
from ._state import GatewayState

__all__ = ["FETCH_HANDLERS"]

# "1": 没有需要取得的数据 (nothing to fetch), what mo answers when no reply waits.
_NO_REPLY = "1"


def _mo(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    replies = state.inbox.take_unread(call.get("sn").strip())
    return "\r\n".join(r.mo_line() for r in replies) or _NO_REPLY


def _mo2(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    replies = state.inbox.after(call.get("sn").strip(), int(call.get("maxID") or 0))
    return "\r\n".join(r.mo_line() for r in replies) or _NO_REPLY


def _recsms_utf8(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    replies = state.inbox.take_unread(call.get("sn").strip())
    if not replies:
        # total_num -1: what public clients read as "no messages".
        return (MOBody("-1"),)
    n = len(replies)
    return tuple(r.mo_body(n, n) for r in replies)


def _report(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    sn = call.get("sn").strip()
    return state.reports.fetch(sn, int(call.get("maxid") or 0), None, state.clock())


def _report2(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    sn, rrid = call.get("sn").strip(), call.get("rrid").strip()
    return state.reports.fetch(sn, int(call.get("maxid") or 0), rrid or None, state.clock())


def _get_code(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    return acct.service_number


#: Operation name -> handler, for the reading operations of the account service.
FETCH_HANDLERS: Mapping[str, Handler] = MappingProxyType(
    {
        "mo": Handler(_mo),
        "mo2": Handler(_mo2),
        "report": Handler(_report),
        "report2": Handler(_report2),
        "RECSMS_UTF8": Handler(_recsms_utf8),
        "GetCode": Handler(_get_code),
    }
)
