"""``InboxApp``: what the inbox's pages and its JSON API both read and do.

The gateway's pieces the inbox needs (its view, event hub, state, hosts and reply
injection), and the actions on them: the accounts and the -18/-19 rule state, the
faults per host and switching one, injecting a reply. A switched fault stays on until
switched off (unlike ``host.fail()``, which fires once unless told otherwise): the
faults panel sets a mode, not a single failure.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._faults import FAULT_KINDS, Fault
from .._host import SandboxHost
from .._inbound import InjectedReply, check_reply_mobile, check_reply_text
from .._state import GatewayState
from ._http import HttpError
from ._hub import EventHub
from ._view import InboxView

__all__ = ["HOST_NAMES", "SWITCHES", "InboxApp", "reply_data"]

HOST_NAMES = ("primary", "backup")
#: What a host can be switched to besides a fault kind: no fault, down (refused), up.
SWITCHES = ("", "down", "up")
_OPTIONS = frozenset(f.name for f in dataclasses.fields(Fault)) - {"kind"}
#: What each fault option takes over the API and the form: (type, lowest, highest, None
#: allowed). A bool is not a number here (JSON's true is no count), no number is a
#: string, and no float is NaN or infinite: ``delay=inf`` would crash a connection's thread.
_OPTION_TYPES: dict[str, tuple[type, float | None, float | None, bool]] = {
    "times": (int, 1, None, True),
    "probability": (float, 0, 1, True),
    "seed": (int, None, None, True),
    "delay": (float, 0, 86_400, False),
    "status": (int, 100, 599, False),
    "body": (str, None, None, True),
    "code": (str, None, None, False),
    "size": (int, 0, 1 << 30, False),
    "service": (str, None, None, True),
    "operation": (str, None, None, True),
    "process": (bool, None, None, True),
}
_SERVICES = ("send", "account")


def reply_data(reply: InjectedReply) -> dict[str, Any]:
    """A reply as JSON-able data (the API's and the event stream's)."""
    return {
        "id": reply.id,
        "sn": reply.sn,
        "mobile": reply.mobile,
        "text": reply.text,
        "service_number": reply.service_number,
        "ext": reply.ext,
        "recvtel": reply.recvtel,
        "received": reply.received.isoformat(),
    }


def _fault_data(fault: Fault) -> dict[str, Any]:
    data = dataclasses.asdict(fault)
    data.pop("body", None)  # a page of HTML is no help in a panel
    return data


@dataclass
class InboxApp:
    """The inbox's collaborators: ``reply`` is ``gw.reply``; ``keepalive`` the seconds
    between the event stream's comment lines."""

    view: InboxView
    hub: EventHub
    state: GatewayState
    hosts: Mapping[str, SandboxHost]
    reply: Callable[..., InjectedReply]
    keepalive: float = 15.0

    # -- accounts ---------------------------------------------------------------------------
    def accounts(self) -> dict[str, Any]:
        """Each serial's balance and state, what a request would meet now, and the rules."""
        state, rules = self.state, self.state.rules
        accounts = []
        for sn in state.serials():
            account = state.snapshot(sn)
            flights = state.in_flight(sn)
            limit = (
                account.max_in_flight if account.max_in_flight is not None else rules.max_in_flight
            )
            busy = sum(flights.values())
            now: dict[str, str | None] = {}
            for name in HOST_NAMES:
                elsewhere = any(n > 0 for h, n in flights.items() if h != name)
                if rules.concurrent_hosts and elsewhere:
                    now[name] = "-19"
                elif limit is not None and busy >= limit:
                    now[name] = "-18"
                else:
                    now[name] = None
            accounts.append(
                {
                    "sn": sn,
                    "balance": account.balance,
                    "registered": account.registered,
                    "disabled": account.disabled,
                    "in_flight": busy,
                    "in_flight_by_host": flights,
                    "max_in_flight": limit,
                    "peak_in_flight": state.peak_in_flight(sn),
                    "service_number": account.service_number,
                    "next_request": now,
                }
            )
        return {
            "accounts": accounts,
            "rules": {
                "max_in_flight": rules.max_in_flight,
                "concurrent_hosts": rules.concurrent_hosts,
                "host_switch_window": rules.host_switch_window,
                "text": rules.describe_serial_rules(),
            },
        }

    # -- faults -----------------------------------------------------------------------------
    def faults(self) -> dict[str, Any]:
        """Each host's state (``up``, ``down``, ``blackhole``) and armed faults."""
        return {
            "hosts": [
                {
                    "name": name,
                    "state": host.state,
                    "send_url": host.send_url,
                    "account_url": host.account_url,
                    "faults": [_fault_data(f) for f in host.faults],
                }
                for name, host in self.hosts.items()
            ],
            "kinds": list(FAULT_KINDS),
        }

    def switch_fault(
        self, host_name: object, kind: object, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Switch ``host_name`` to ``kind``: a fault kind (replacing what is armed; on
        every request unless ``times``/``probability`` say otherwise), ``None``/``""`` (no
        fault), ``"down"`` (refused; ``mode="timeout"``: connects hang) or ``"up"``."""
        host = self.hosts.get(host_name) if isinstance(host_name, str) else None
        if host is None:
            raise HttpError(
                400, f"host must be one of {', '.join(HOST_NAMES)}, not {host_name!r}", "host"
            )
        if kind is None:
            kind = ""
        if not isinstance(kind, str) or kind not in (*FAULT_KINDS, *SWITCHES):
            known = ", ".join((*FAULT_KINDS, "down", "up"))
            raise HttpError(400, f"kind must be one of {known} (or null), not {kind!r}", "kind")
        options = dict(options)
        if kind == "down":
            mode = options.pop("mode", "refused")
            if mode not in ("refused", "timeout"):
                raise HttpError(400, f"mode must be 'refused' or 'timeout', not {mode!r}", "mode")
            self._no_options(options)
            host.down(mode)
        elif kind == "up":
            self._no_options(options)
            host.up()
        elif kind == "":
            self._no_options(options)
            host.clear_faults()
        else:
            fault = self._fault(kind, options)
            host.clear_faults()
            host.add_fault(fault)
        change = {
            "change": "switched",
            "host": host.name,
            "state": host.state,
            "faults": [_fault_data(f) for f in host.faults],
        }
        self.hub.publish("fault", change)
        return change

    @staticmethod
    def _no_options(options: Mapping[str, Any]) -> None:
        for name in options:
            raise HttpError(400, f"{name} is not an option here", name)

    @staticmethod
    def _fault(kind: str, options: dict[str, Any]) -> Fault:
        for name, value in options.items():
            if name not in _OPTIONS:
                raise HttpError(400, f"unknown fault option {name!r}", name)
            _check_option(name, value)
        if options.get("times") is None and options.get("probability") is None:
            options["probability"] = 1.0  # a mode: every matching request until switched off
        try:
            return Fault(kind, **options)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            parameter = next((n for n in options if n in str(exc)), "kind")
            raise HttpError(400, str(exc), parameter) from None

    # -- replies ----------------------------------------------------------------------------
    def inject_reply(self, data: Mapping[str, Any]) -> InjectedReply:
        """A reply from ``mobile`` with ``text`` (and ``ext``, ``sn``), injected as ``gw.reply``."""
        for name in data:
            if name not in ("mobile", "text", "ext", "sn"):
                raise HttpError(400, f"unknown field {name!r}", name)
        mobile, text = data.get("mobile"), data.get("text")
        ext, sn = data.get("ext", ""), data.get("sn")
        if ext is None:
            ext = ""  # null: no extension, as leaving it out
        for name, check, value in (
            ("mobile", check_reply_mobile, mobile),
            ("text", check_reply_text, text),
        ):
            try:
                check(value)
            except ValueError as exc:
                raise HttpError(400, str(exc), name) from None
        if not isinstance(ext, str):
            raise HttpError(400, "ext must be a string", "ext")
        if sn is not None and not isinstance(sn, str):
            raise HttpError(400, "sn must be a string or null", "sn")
        try:
            return self.reply(mobile, text, ext, sn=sn or None)
        except LookupError as exc:  # no such serial (KeyError), or no account at all
            raise HttpError(400, str(exc.args[0]), "sn") from None
        except ValueError as exc:
            message = str(exc)
            parameter = next((n for n in ("ext", "mobile", "sn") if n in message), "text")
            raise HttpError(400, message, parameter) from None


def _check_option(name: str, value: Any) -> None:
    """400 naming ``name`` unless ``value`` is of the option's type and within its bounds."""
    kind, low, high, nullable = _OPTION_TYPES[name]
    if value is None and nullable:
        return
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and abs(value) < 1e300 and math.isfinite(value)  # abs: no int too big to float
        what = "a finite number"
    elif kind is int:
        ok, what = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    elif kind is bool:
        ok, what = isinstance(value, bool), "true or false"
    else:
        ok, what = isinstance(value, str), "a string"
    if ok and kind in (int, float):
        ok = (low is None or value >= low) and (high is None or value <= high)
    if ok and name == "service" and value not in _SERVICES:
        ok, what = False, "'send' or 'account'"
    if not ok:
        bounds = ""
        if low is not None:
            bounds = f" from {low}" + (f" to {high}" if high is not None else " or more")
        null = " (or null)" if nullable else ""
        raise HttpError(400, f"{name} must be {what}{bounds}{null}, not {value!r}", name)
