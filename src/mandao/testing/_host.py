"""One sandbox host (like sdk.entinfo.cn): a send port and an account port, and its faults.

A listener hands each request straight to ``SandboxHost._handle``, which decodes it
(``_wire.parse``) and has ``_handlers.answer`` carry it out, applying the fault picked for
the request:
``hang`` and ``drop-before`` act before anything is carried out (the request never
reached the application, so it holds no in-flight slot of its serial); ``slow`` waits with
the request in flight (its slot held, -18 / -19 apply); reply-replacing faults run the
request first when the fault says so; ``code`` answers without running it (no slot).
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from functools import cache, partial
from typing import Any, Literal

from .._wsdl import Service
from ._calls import XML_UTF8, Call, Immediate, Result
from ._context import CallContext
from ._faults import Fault, FaultPlan, Hold
from ._handlers import admit, answer, refuse
from ._http import Request, render_response
from ._ledger import FaultEvent
from ._server import LOOPBACK, Listener, Reply
from ._services import ACCOUNT_SERVICE, SEND_SERVICE, ServiceSpec
from ._shapes import render_result
from ._state import GatewayState
from ._wire import parse

__all__ = ["SandboxHost"]

_LOCATION = re.compile(rb'location="http://[^"]*"')

_ERROR_PAGES = {
    500: "<!DOCTYPE html><html><head><title>Runtime Error</title></head><body>"
    "<h1>Server Error in '/' Application.</h1><h2><i>Runtime Error</i></h2></body></html>",
    502: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>",
    503: "<html><head><title>Service Unavailable</title></head><body><h2>Service Unavailable"
    "</h2><hr><p>HTTP Error 503. The service is unavailable.</p></body></html>",
}
_HTML_200 = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>系统维护</title></head>'
    "<body><h1>系统维护中，请稍后再试</h1><p>The service is under maintenance.</p></body></html>"
)


@cache
def _wsdl_bytes(wsdl: Service) -> bytes:
    return wsdl.path.read_bytes()


class SandboxHost:
    """A sandbox host: the send service and the account service, each on its own port.

    ``down()`` closes both listeners (connection refused), ``down("timeout")`` leaves a
    socket whose accept queue is full (connect times out), ``up()`` serves again on the
    same ports. ``fail(kind, ...)`` arms a fault (see :class:`Fault`).
    """

    def __init__(self, name: str, state: GatewayState, ports: tuple[int, int] = (0, 0)) -> None:
        self.name = name
        self._state = state
        self._plan = FaultPlan()
        self._holds: list[Hold] = []
        self._holds_lock = threading.Lock()
        self._send = Listener(partial(self._handle, SEND_SERVICE), ports[0], f"{name} send port")
        self._account = Listener(
            partial(self._handle, ACCOUNT_SERVICE), ports[1], f"{name} account port"
        )

    def __repr__(self) -> str:
        urls = f"send={self.send_url} account={self.account_url}"
        return f"<SandboxHost {self.name} {self.state} {urls}>"

    # -- addresses -----------------------------------------------------------------------
    @property
    def send_port(self) -> int:
        """The send service's port (like 8061)."""
        return self._send.port

    @property
    def account_port(self) -> int:
        """The account service's port (like 8060)."""
        return self._account.port

    @property
    def send_url(self) -> str:
        """``http://127.0.0.1:<send port>/webservice.asmx``."""
        return f"http://{LOOPBACK}:{self.send_port}/webservice.asmx"

    @property
    def account_url(self) -> str:
        """``http://127.0.0.1:<account port>/webservice.asmx``."""
        return f"http://{LOOPBACK}:{self.account_port}/webservice.asmx"

    # -- up and down ------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """``up``, ``down`` (refusing) or ``blackhole`` (connects time out)."""
        return self._send.state

    def up(self) -> None:
        """Serve again on the same ports."""
        self._send.up()
        self._account.up()

    def down(self, mode: Literal["refused", "timeout"] = "refused") -> None:
        """Take the host off the network: connections refused, or (``"timeout"``) connects hang.

        Open connections are cut either way.
        """
        if mode not in ("refused", "timeout"):
            raise ValueError("mode must be 'refused' or 'timeout'")
        for listener in (self._send, self._account):
            if mode == "refused":
                listener.down()
            else:
                listener.blackhole()

    def _close(self) -> None:
        """Both ports down and given back: the gateway's ``stop``."""
        self._send.close()
        self._account.close()

    # -- faults -----------------------------------------------------------------------------
    def fail(self, kind: str, **options: Any) -> Fault:
        """Arm a fault on this host and return it.

        ``gw.primary.fail("http-error", status=503, times=2)``,
        ``gw.backup.fail("drop-after", probability=0.3, seed=7)``; the options are the
        fields of :class:`Fault`. With neither ``times`` nor ``probability``, it fires once.
        """
        fault = Fault(kind, **options)  # type: ignore[arg-type]
        self._plan.add(fault)
        return fault

    def add_fault(self, fault: Fault) -> None:
        """Arm a prepared :class:`Fault`."""
        self._plan.add(fault)

    def clear_faults(self) -> None:
        """Disarm every fault on this host."""
        self._plan.clear()

    @property
    def faults(self) -> list[Fault]:
        """The faults still armed on this host."""
        return self._plan.armed

    @property
    def hanging(self) -> int:
        """Connections this host holds open under a ``hang`` fault right now (both ports)."""
        return self._send.hanging + self._account.hanging

    def wait_hanging(
        self, count: int = 1, timeout: float | None = 10.0, *, service: str = "send"
    ) -> bool:
        """Block until ``count`` connections of ``service``'s port are held by a ``hang``.

        The fault is noted in the ledger before the connection is held: a test that must
        know the hold has begun (to take the host down under it) waits on this instead.
        """
        listener = self._send if service == "send" else self._account
        return listener.wait_hanging(count, timeout)

    def hold(
        self,
        times: int = 1,
        *,
        service: Literal["send", "account"] | None = None,
        operation: str | None = None,
    ) -> Hold:
        """Hold this host's next ``times`` admitted requests open until ``release()``.

        ``with gw.primary.hold() as held:`` start a send in a thread, ``held.wait()``; the
        serial is busy until the block ends (see :class:`Hold`).
        """
        hold = Hold(times, service=service, operation=operation)
        with self._holds_lock:
            self._holds.append(hold)
        return hold

    def _hold_for(self, service: str, operation: str) -> Hold | None:
        with self._holds_lock:
            self._holds = [h for h in self._holds if not h.done]
            for hold in self._holds:
                if hold.take(service, operation):
                    return hold
        return None

    # -- serving ----------------------------------------------------------------------------
    def _url(self, service: ServiceSpec) -> str:
        return self.send_url if service is SEND_SERVICE else self.account_url

    def _wsdl(self, service: ServiceSpec) -> bytes:
        location = f'location="{self._url(service)}"'.encode()
        return _LOCATION.sub(location, _wsdl_bytes(service.wsdl))

    def _handle(
        self, service: ServiceSpec, request: Request, peer: str, closing: threading.Event
    ) -> Reply:
        rules = self._state.rules
        keep = request.keep_alive
        parsed = parse(request, service, route_by_body=rules.route_by_body)
        if parsed is None:
            return _send(Immediate(200, XML_UTF8, self._wsdl(service)), keep)
        if isinstance(parsed, Immediate):
            return _send(parsed, keep)
        call = parsed
        ctx = CallContext(self.name, self.send_url, self._url(service), peer)
        fault = self._plan.pick(service.name, call.op.name)
        if fault is None:
            normal = self._run(call, ctx, service, closing, None)
            # A host that went down while the request was processed never answers it.
            return Reply(close=True) if closing.is_set() else _send(normal, keep)
        self._state.ledger.note_fault(
            FaultEvent(
                ctx.service_url,
                fault.kind,
                call.op.name,
                datetime.fromtimestamp(self._state.clock()),
            )
        )
        if fault.kind == "hang":
            return Reply(hang=True)
        if fault.kind == "drop-before":
            return Reply(reset=True)
        if fault.kind == "code":
            value = answer(call, self._state, ctx, forced=str(fault.code))
            return _send(render_result(call, service, value, http_newline=rules.http_newline), keep)
        if fault.kind in ("http-error", "html"):
            if fault.processes:
                self._run(call, ctx, service, closing, None)
            if fault.kind == "html":
                page, status = fault.body or _HTML_200, 200
            else:
                page, status = (
                    fault.body or _ERROR_PAGES.get(fault.status, _ERROR_PAGES[500]),
                    fault.status,
                )
            return _send(Immediate(status, "text/html; charset=utf-8", page.encode("utf-8")), keep)
        if fault.processes:
            normal = self._run(call, ctx, service, closing, fault)
        else:
            normal = render_result(call, service, "-11", http_newline=rules.http_newline)
        if closing.is_set():
            return Reply(close=True)
        if fault.kind == "drop-after":
            return Reply(reset=True)
        if fault.kind == "slow":
            return _send(normal, keep)
        return _corrupt(fault, normal, keep)

    def _run(
        self,
        call: Call,
        ctx: CallContext,
        service: ServiceSpec,
        closing: threading.Event,
        fault: Fault | None,
    ) -> Immediate:
        state = self._state
        refused = admit(call, state, ctx)
        value: Result
        if refused is not None:
            value = refuse(call, state, ctx, refused)
        else:
            # The slot is held from here until the answer is ready, and given back before
            # the reply is written: a client that sends again once it has read the reply
            # must never meet its own earlier request still counted (-18 / -19).
            try:
                hold = self._hold_for(service.name, call.op.name)
                if hold is not None:
                    hold.keep(closing)
                if fault is not None and fault.kind == "slow":
                    closing.wait(fault.delay)
                value = answer(call, state, ctx)
            finally:
                state.release_slot(call.get("sn").strip(), self.name)
        return render_result(call, service, value, http_newline=state.rules.http_newline)


def _send(reply: Immediate, keep_alive: bool) -> Reply:
    return Reply(
        render_response(reply.status, reply.content_type, reply.body, keep_alive=keep_alive),
        close=not keep_alive,
    )


def _corrupt(fault: Fault, normal: Immediate, keep_alive: bool) -> Reply:
    body = normal.body
    if fault.kind == "malformed-xml":
        cut = body.rfind(b"</")
        bad = (body[:cut] if cut > 0 else body) + b"<broken"
        return _send(Immediate(200, normal.content_type, bad), keep_alive)
    if fault.kind == "truncated":
        # Announce the whole body, send half of it, close: the client reads a short body.
        data = render_response(
            200,
            normal.content_type,
            body[: len(body) // 2],
            content_length=len(body),
            keep_alive=False,
        )
        return Reply(data, close=True)
    # huge: the normal answer, padded to about ``size`` bytes where a parser skips it.
    pad = b" " * fault.size
    if body.startswith(b"<?xml"):
        end = body.index(b"?>") + 2
        big = body[:end] + b"<!--" + pad + b"-->" + body[end:]
    else:
        big = body + pad
    return _send(Immediate(200, normal.content_type, big), keep_alive)
