"""The gateway behaviours the sandbox had to choose, as one frozen value: ``Rules``.

Every behaviour the vendor's documentation leaves unsaid, or that could not be confirmed
against the real gateway, is one field of ``Rules`` with the chosen default, so a test can
flip it (docs/sandbox.md lists them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Rules"]


@dataclass(frozen=True)
class Rules:
    """The gateway behaviours the sandbox had to choose; each default is documented.

    Args:
        register_limit: Register + UnRegister calls that succeed per serial per day (vendor §4.2).
        register_limit_code: what the call past the limit answers (the vendor does not say;
            -8 "flow control" chosen: it is a limit on how often, lifted by waiting).
        duplicate_window: seconds in which the same mobile + same content answers -20;
            0 turns the check off (the default, so tests may resend freely).
        rate_limit: default send calls per second per serial before -8; None = no limit.
        concurrent_hosts: answer -19 when one serial has a request in flight on another host.
        host_switch_window: also answer -19 for this many seconds after a serial's last
            request on another host finished (0 = only truly simultaneous requests).
        route_by_body: a SOAP request with an empty or missing action is routed by its body
            element (True) instead of faulting as an unknown SOAPAction (False).
        http_newline: what separates the XML declaration from ``<string>`` in HTTP GET/POST
            replies (.NET's XmlWriter default is CRLF).
        gx_reply: what a successful ``mdgxsend`` with one rrid per mobile returns: the
            ``"first"`` rrid, or a ``"generated"`` batch id.
        past_stime_is_immediate: an ``stime`` not in the future is sent at once (True) or
            still recorded as scheduled (False).
        max_mobiles: more numbers than this in one call answers -6.
        count_utf16: bill and limit length in UTF-16 code units (an emoji counts 2, as on a
            handset) rather than in code points.

    >>> Rules(duplicate_window=60).duplicate_window, Rules().register_limit
    (60, 10)
    """

    register_limit: int = 10
    register_limit_code: str = "-8"
    duplicate_window: float = 0.0
    rate_limit: float | None = None
    concurrent_hosts: bool = True
    host_switch_window: float = 0.0
    route_by_body: bool = True
    http_newline: str = "\r\n"
    gx_reply: Literal["first", "generated"] = "first"
    past_stime_is_immediate: bool = True
    max_mobiles: int = 10000
    count_utf16: bool = True
