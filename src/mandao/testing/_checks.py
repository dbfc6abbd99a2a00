"""Parameter checks of the send operations, as pure functions: a plan, or the code to answer.

One planner per send operation (``plan_sms`` for ``mdsmssend``, ``plan_gx`` for
``mdgxsend``); their rows in ``_handlers.HANDLERS`` name them. The order of the checks is a
choice (the vendor names the codes, not their precedence); docs/sandbox.md lists it.
Account-dependent checks (-2, -12, -22, -7, -8, -20, -4) are in ``_handlers``; this module
needs only the request, the rules and one account switch.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ._billing import segments, too_long
from ._calls import Call
from ._choices import Rules
from ._urlcode import url_decode

__all__ = ["Item", "Planner", "check_serial", "md5_pwd", "plan_gx", "plan_sms", "serial_shaped"]

_SN = re.compile(r"[A-Za-z0-9]{3}-[A-Za-z0-9]{3}-[A-Za-z0-9]{3}-[A-Za-z0-9]{5}")
_MSGFMT = frozenset({"", "0", "3", "4", "8", "15"})
_STIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def md5_pwd(sn: str, password: str) -> str:
    """The MD5 form of ``pwd``: upper-case hex MD5 of serial + password.

    >>> md5_pwd("SDK-TST-010-00001", "secret")
    'E032A153E688698D2D24FFB437C9214A'
    """
    return hashlib.md5((sn + password).encode("utf-8")).hexdigest().upper()


@dataclass(frozen=True)
class Item:
    """One message for one recipient, as the gateway understood it."""

    mobile: str
    content: str
    ext: str
    stime: str
    rrid: str
    scheduled: bool
    segments: int


class Planner(Protocol):
    """What a send handler calls to check its request: ``plan_sms`` or ``plan_gx``."""

    def __call__(
        self, call: Call, rules: Rules, now: datetime, *, ext_allowed: bool
    ) -> list[Item] | str:
        """The items to send, or the code to answer."""
        ...


def serial_shaped(sn: str) -> bool:
    """Whether ``sn`` has the gateway's serial shape, XXX-XXX-XXX-XXXXX (the whole of it)."""
    return _SN.fullmatch(sn) is not None


def check_serial(sn: str, pwd: str) -> str | None:
    """-601 serial empty, -602 serial malformed, -603 password empty; None if all is well."""
    if not sn:
        return "-601"
    if not serial_shaped(sn):
        return "-602"
    if not pwd:
        return "-603"
    return None


def _spread(raw: str, n: int, code: str) -> list[str] | str:
    # ext, stime, rrid of mdgxsend: empty, one value for all, or one per mobile.
    if raw == "":
        return [""] * n
    values = [v.strip() for v in raw.split(",")]
    if len(values) == 1:
        return values * n
    if len(values) != n:
        return code
    return values


def _check_fields(ext: str, stime: str, rrid: str, ext_allowed: bool) -> str | None:
    if len(ext) > 9:
        return "-606"
    if ext and not ext.isdigit():
        return "-607"
    if ext and not ext_allowed:
        return "-9"
    if stime:
        try:
            datetime.strptime(stime, _STIME_FORMAT)
        except ValueError:
            return "-608"
    if len(rrid) > 18:
        return "-609"
    if rrid and not rrid.isdigit():
        return "-610"
    return None


def _is_scheduled(stime: str, now: datetime, rules: Rules) -> bool:
    if not stime:
        return False
    if not rules.past_stime_is_immediate:
        return True
    return datetime.strptime(stime, _STIME_FORMAT) > now


def _given(call: Call) -> tuple[str, str] | str:
    """A send's ``mobile`` and ``content`` fields, or the code for the one left empty."""
    raw_mobile = call.get("mobile").strip()
    raw_content = call.get("content")
    if not raw_mobile:
        return "-604"
    return (raw_mobile, raw_content) if raw_content else "-605"


def plan_sms(call: Call, rules: Rules, now: datetime, *, ext_allowed: bool) -> list[Item] | str:
    """Check an ``mdsmssend`` call's fields: one text to many numbers; the items, or a code."""
    given = _given(call)
    if isinstance(given, str):
        return given
    raw_mobile, raw_content = given
    # Stray empty items ("138…,,139…", a trailing comma) are skipped, not refused.
    mobiles = [m.strip() for m in raw_mobile.split(",") if m.strip()]
    if not mobiles:
        return "-604"
    if len(mobiles) > rules.max_mobiles:
        return "-6"
    ext, stime, rrid = (
        call.get("ext").strip(),
        call.get("stime").strip(),
        call.get("rrid").strip(),
    )
    bad = _check_fields(ext, stime, rrid, ext_allowed)
    if bad:
        return bad
    if call.get("msgfmt").strip() not in _MSGFMT:
        return "-611"
    text = url_decode(raw_content)
    if not text:
        return "-605"
    if too_long(text, utf16=rules.count_utf16):
        return "-10"
    n_seg = segments(text, utf16=rules.count_utf16)
    sched = _is_scheduled(stime, now, rules)
    return [Item(m, text, ext, stime, rrid, sched, n_seg) for m in mobiles]


def plan_gx(call: Call, rules: Rules, now: datetime, *, ext_allowed: bool) -> list[Item] | str:
    """Check an ``mdgxsend`` call's fields: parallel lists, one text per number; or a code."""
    given = _given(call)
    if isinstance(given, str):
        return given
    raw_mobile, raw_content = given
    # Parallel lists: mobiles and content must line up one to one.
    mobiles = [m.strip() for m in raw_mobile.split(",")]
    if any(not m for m in mobiles):
        return "-604"
    if len(mobiles) > rules.max_mobiles:
        return "-6"
    # Split on the literal comma first: a comma inside one message arrives as %2C.
    contents = raw_content.split(",")
    if len(contents) != len(mobiles):
        return "-623"
    n = len(mobiles)
    exts = _spread(call.get("ext").strip(), n, "-624")
    stimes = _spread(call.get("stime").strip(), n, "-625")
    rrids = _spread(call.get("rrid").strip(), n, "-626")
    for spread in (exts, stimes, rrids):
        if isinstance(spread, str):
            return spread
    if isinstance(exts, str) or isinstance(stimes, str) or isinstance(rrids, str):
        return "-6"  # unreachable: each was returned just above; this narrows the types
    for e, s, r in zip(exts, stimes, rrids, strict=True):
        bad = _check_fields(e, s, r, ext_allowed)
        if bad:
            return bad
    if call.get("msgfmt").strip() not in _MSGFMT:
        return "-611"
    texts = [url_decode(c) for c in contents]
    if any(not t for t in texts):
        return "-605"
    if any(too_long(t, utf16=rules.count_utf16) for t in texts):
        return "-10"
    return [
        Item(m, t, e, s, r, _is_scheduled(s, now, rules), segments(t, utf16=rules.count_utf16))
        for m, t, e, s, r in zip(mobiles, texts, exts, stimes, rrids, strict=True)
    ]
