"""The gateway behaviours the sandbox had to choose, as one frozen value: ``Rules``.

Every behaviour the vendor's documentation leaves unsaid, or that could not be confirmed
against the real gateway, is one field of ``Rules`` with the chosen default, so a test can
flip it (docs/sandbox.md lists them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Rules", "check_max_in_flight"]


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
        max_in_flight: most requests of one serial being processed at once, over both
            services and both hosts, before -18 (the gateway's default is one: "上次提交没有
            等待返回不能继续提交"); an account's own ``max_in_flight`` wins; None = no -18
            for accounts that set none.
        concurrent_hosts: answer -19 when one serial has a request in flight on another host
            (the two services of one host are one address).
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
    >>> Rules().max_in_flight, Rules.without_serial_rules().max_in_flight
    (1, None)
    """

    register_limit: int = 10
    register_limit_code: str = "-8"
    duplicate_window: float = 0.0
    rate_limit: float | None = None
    max_in_flight: int | None = 1
    concurrent_hosts: bool = True
    host_switch_window: float = 0.0
    route_by_body: bool = True
    http_newline: str = "\r\n"
    gx_reply: Literal["first", "generated"] = "first"
    past_stime_is_immediate: bool = True
    max_mobiles: int = 10000
    count_utf16: bool = True

    def __post_init__(self) -> None:
        check_max_in_flight(self.max_in_flight)
        if self.host_switch_window < 0:
            raise ValueError("host_switch_window must not be negative")

    def describe_serial_rules(self) -> str:
        """The -18 / -19 rules in force, in words (``mandao sandbox`` prints it).

        >>> Rules().describe_serial_rules()
        '-18 past 1 in flight per serial, -19 on overlap across hosts'
        """
        limit = self.max_in_flight
        minus_18 = f"-18 past {limit} in flight per serial" if limit is not None else "no -18"
        if not self.concurrent_hosts:
            return f"{minus_18}, no -19"
        window = self.host_switch_window
        minus_19 = f"-19 on overlap or within {window:g} s" if window else "-19 on overlap"
        return f"{minus_18}, {minus_19} across hosts"

    @classmethod
    def without_serial_rules(cls, **fields: Any) -> Rules:
        """These rules with -18 and -19 switched off (``max_in_flight=None``, no -19)."""
        return cls(**{"max_in_flight": None, "concurrent_hosts": False, **fields})


def check_max_in_flight(value: int | None) -> None:
    """Raise ValueError unless ``value`` is None or a whole number of requests, 1 or more."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_in_flight must be None or a whole number, 1 or more, not {value!r}")
