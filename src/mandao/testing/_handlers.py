"""What each operation does: one table, ``HANDLERS``, from operation name to handler.

A handler is a row: the function that answers the operation once its caller is known,
and whether the serial must be registered already. ``admit`` comes first: it authenticates
the caller (the checks every operation shares, in the documented order) and takes one of
the serial's in-flight slots (-19, -18). ``answer`` then authenticates again (the account
may have changed while a slow request waited), runs the row's function under the gateway
state's lock, and records a negative result as a ``Rejection``. Adding an operation is
adding its parameters to ``_services`` and a row here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from types import MappingProxyType

from ._accounts import Account
from ._calls import Call, Result
from ._checks import Item, Planner, check_serial, md5_pwd, plan_gx, plan_sms
from ._context import CallContext, Handler
from ._fetch import FETCH_HANDLERS
from ._ledger import LedgerEntry, Rejection
from ._state import GatewayState

__all__ = ["HANDLERS", "admit", "answer", "refuse"]


def admit(call: Call, state: GatewayState, ctx: CallContext) -> str | None:
    """Authenticate ``call`` and take an in-flight slot of its serial; None, or the code.

    The caller's checks come first (-601 to -7): a request the gateway cannot tie to a
    serial keeps that answer and holds no slot. Then -19 and -18
    (``GatewayState.take_slot``). An admitted call holds its slot until
    ``state.release_slot(sn, ctx.host_name)``; the code is not recorded here (``refuse``).
    """
    handler = HANDLERS[call.op.name]
    with state.lock:
        caller = _authenticate(call, state, ctx, registered=handler.registered)
        if isinstance(caller, str):
            return caller
        return state.take_slot(call.get("sn").strip(), ctx.host_name, caller)


def answer(
    call: Call, state: GatewayState, ctx: CallContext, *, forced: str | None = None
) -> Result:
    """Carry out ``call``; the result (an id, a value, a negative code, ``MOBody`` rows).

    ``forced`` answers that code instead, without carrying the call out (a ``code`` fault).
    """
    if forced is not None:
        return refuse(call, state, ctx, forced, forced=True)
    handler = HANDLERS[call.op.name]
    with state.lock:
        caller = _authenticate(call, state, ctx, registered=handler.registered)
        result = caller if isinstance(caller, str) else handler.run(call, caller, state, ctx)
    if isinstance(result, str) and result.startswith("-"):
        refuse(call, state, ctx, result)
    return result


def refuse(
    call: Call, state: GatewayState, ctx: CallContext, code: str, *, forced: bool = False
) -> str:
    """Record ``call`` as rejected with ``code`` and return the code."""
    state.ledger.reject(
        Rejection(
            code=code,
            operation=call.op.name,
            sn=call.get("sn"),
            host=ctx.service_url,
            protocol=call.protocol,
            time=datetime.fromtimestamp(state.clock()),
            mobile=call.get("mobile") if "mobile" in call.params else "",
            rrid=call.get("rrid"),
            forced=forced,
        )
    )
    return code


def _authenticate(
    call: Call, state: GatewayState, ctx: CallContext, *, registered: bool
) -> Account | str:
    sn, pwd = call.get("sn").strip(), call.get("pwd").strip()
    bad = check_serial(sn, pwd)
    if bad:
        return bad
    acct = state.accounts.get(sn)
    if acct is None or (registered and not acct.registered):
        return "-2"
    # Strict: the MD5 form is upper-case hex exactly; a lower-case hash is a wrong password.
    expected = md5_pwd(sn, acct.password) if call.op.pwd == "md5" else acct.password
    if pwd != expected:
        return "-2"
    if acct.disabled:
        return "-12"
    if acct.allowed_ips is not None and ctx.client_ip not in acct.allowed_ips:
        return "-22"
    if acct.operations is not None and call.op.name not in acct.operations:
        return "-7"
    # A permission the serial lacks (-7, -17), set per operation.
    return acct.refused.get(call.op.name) or acct


# -- the account operations ----------------------------------------------------------------
def _sninfo(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    # Key order and Balance-as-string are the sandbox's pick (not confirmed on the gateway).
    return json.dumps(
        {"SN": call.get("sn").strip(), "Balance": str(acct.balance)}, separators=(",", ":")
    )


def _balance(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    return str(acct.balance)


def _count_change(acct: Account, state: GatewayState) -> str | None:
    today = state.today()
    if acct.changes_day != today:
        acct.changes_day, acct.changes = today, 0
    if acct.changes >= state.rules.register_limit:
        return state.rules.register_limit_code
    acct.changes += 1
    return None


def _register(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    if acct.registered:
        return "-1"
    limited = _count_change(acct, state)
    if limited:
        return limited
    acct.registered = True
    acct.registration = {k: call.get(k) for k in call.params if k not in ("sn", "pwd")}
    return "0"


def _unregister(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    limited = _count_change(acct, state)
    if limited:
        return limited
    acct.registered = False
    return "0"


def _udppwd(call: Call, acct: Account, state: GatewayState, ctx: CallContext) -> Result:
    new = call.get("newpwd").strip()
    if not new:
        return "-6"
    acct.password = new
    return "0"


# -- the send operations -------------------------------------------------------------------
def _send(
    plan: Planner, call: Call, acct: Account, state: GatewayState, ctx: CallContext
) -> Result:
    rules = state.rules
    now = state.clock()
    now_dt = datetime.fromtimestamp(now)
    items = plan(call, rules, now_dt, ext_allowed=acct.ext_allowed)
    if isinstance(items, str):
        return items
    limit = acct.rate_limit if acct.rate_limit is not None else rules.rate_limit
    if limit is not None:
        while acct.recent_sends and now - acct.recent_sends[0] >= 1.0:
            acct.recent_sends.popleft()
        if len(acct.recent_sends) >= limit:
            return "-8"
        acct.recent_sends.append(now)
    sn = call.get("sn").strip()
    window = rules.duplicate_window
    if window > 0:
        for item in items:
            seen = state.recent.get((sn, item.mobile, item.content))
            if seen is not None and now - seen < window:
                return "-20"
    cost = sum(item.segments for item in items)
    if acct.balance < cost:
        return "-4"
    acct.balance -= cost
    reply, rrids = _ids_for(items, state)
    state.ledger.record(
        [
            LedgerEntry(
                sn=sn,
                mobile=item.mobile,
                content=item.content,
                host=ctx.send_url,
                protocol=call.protocol,
                operation=call.op.name,
                rrid=rrid,
                id=reply,
                ext=item.ext,
                stime=item.stime,
                scheduled=item.scheduled,
                time=now_dt,
                segments=item.segments,
            )
            for item, rrid in zip(items, rrids, strict=True)
        ]
    )
    if window > 0:
        for item in items:
            state.recent[(sn, item.mobile, item.content)] = now
    # One delivery report per recipient, due after its stime when it has one.
    state.reports.make(
        sn,
        (
            (rrid, item.mobile, _stime_at(item.stime) if item.scheduled else now)
            for item, rrid in zip(items, rrids, strict=True)
        ),
    )
    return reply


def _stime_at(stime: str) -> float:
    return datetime.strptime(stime, "%Y-%m-%d %H:%M:%S").timestamp()


def _ids_for(items: list[Item], state: GatewayState) -> tuple[str, list[str]]:
    given = [item.rrid for item in items]
    distinct = set(given)
    if distinct == {""}:
        fresh = state.new_id()
        return fresh, [fresh] * len(items)
    if len(distinct) == 1:
        return given[0], given
    # mdgxsend with one rrid per mobile: which single value the call returns is a choice.
    reply = given[0] if state.rules.gx_reply == "first" and given[0] else state.new_id()
    return reply, [r or reply for r in given]


#: Operation name -> what it does. Every operation of ``_services`` has exactly one row.
HANDLERS: Mapping[str, Handler] = MappingProxyType(
    {
        "mdsmssend": Handler(partial(_send, plan_sms)),
        "mdgxsend": Handler(partial(_send, plan_gx)),
        "mdgetSninfo": Handler(_sninfo),
        "Register": Handler(_register, registered=False),
        "UnRegister": Handler(_unregister),
        "balance": Handler(_balance),
        "GetBalance": Handler(_balance),
        "UDPPwd": Handler(_udppwd),
        **FETCH_HANDLERS,
    }
)
