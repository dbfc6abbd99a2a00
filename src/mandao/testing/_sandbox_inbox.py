"""``SandboxGateway``'s inbox side: the messages view, the ledger file, the inbox server.

A mixin, so ``_sandbox`` keeps to the gateway's lifecycle, addresses, accounts, replies
and reports. The view (``gw.messages()``, ``gw.latest(mobile)``, ...) is always there and
costs nothing until read; the JSON Lines ledger file is written only with
``ledger_path``; the HTTP server (and Jinja2) is imported only when ``inbox=True``. A
gateway without an inbox or a ledger file imports none of ``inbox/`` but the view (with
the first gateway) and the message value (``import mandao.testing`` exports it); the
text reading, ``_text``, comes with the first message read.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ._host import SandboxHost
from ._inbound import InjectedReply
from ._ledger import Ledger
from ._state import GatewayState
from .inbox._message import InboxMessage, InboxPage

if TYPE_CHECKING:
    from .inbox._jsonl import LedgerFile
    from .inbox._server import InboxServer
    from .inbox._view import InboxView

__all__ = ["InboxMixin", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host.lower() == "localhost":
        return True
    import ipaddress  # lazily: only a gateway with an inbox asks

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class InboxMixin:
    """The inbox's part of ``SandboxGateway`` (see its docstring for the arguments)."""

    ledger: Ledger
    primary: SandboxHost
    backup: SandboxHost
    _state: GatewayState
    reply: Callable[..., InjectedReply]

    def _set_up_inbox(
        self,
        inbox: bool,
        inbox_host: str,
        inbox_port: int,
        ledger_path: str | os.PathLike[str] | None,
    ) -> None:
        from .inbox._view import InboxView  # with the first gateway, not with the import

        self._view: InboxView = InboxView(self.ledger, self._state, self._host_names)
        self._inbox_wanted = inbox
        self._inbox_host = inbox_host
        self._inbox_port = inbox_port
        self._inbox: InboxServer | None = None
        self._ledger_file: LedgerFile | None = None
        if ledger_path:
            from .inbox._jsonl import LedgerFile  # lazily: only with a ledger file

            self._ledger_file = LedgerFile(ledger_path, self._state.clock)
            self._ledger_file.next_id = lambda: self.ledger.last_number + 1
            self.ledger.listen(self._ledger_file)
        if inbox and not is_loopback(inbox_host):
            warnings.warn(
                f"the sandbox inbox listens on {inbox_host}, not on loopback: anyone who can "
                "reach it reads every message and verification code, and can change faults",
                stacklevel=3,
            )

    def _host_names(self) -> dict[str, str]:
        names = {}
        for host in (self.primary, self.backup):
            names[host.send_url] = names[host.account_url] = host.name
        return names

    # -- lifecycle (called by start and stop) ----------------------------------------------
    def _start_inbox(self) -> None:
        if self._ledger_file is not None:
            self._ledger_file.open()
        if not self._inbox_wanted or self._inbox is not None:
            return
        from .inbox._app import InboxApp  # lazily: http.server and Jinja2 only for an inbox
        from .inbox._hub import EventHub
        from .inbox._server import InboxServer

        hub = EventHub()
        hub.host_names = self._host_names()
        app = InboxApp(
            self._view,
            hub,
            self._state,
            {"primary": self.primary, "backup": self.backup},
            self.reply,
        )
        server = InboxServer(app, self._inbox_host, self._inbox_port)
        server.start()
        self._inbox_port = server.port  # a restarted gateway serves its inbox on the same port
        self.ledger.listen(hub)
        self._inbox = server

    def _stop_inbox(self) -> None:
        server, self._inbox = self._inbox, None
        if server is not None:
            self.ledger.unlisten(server.app.hub)
            server.stop()
        if self._ledger_file is not None:
            self._ledger_file.close()

    def _replies_made(self, made: Iterable[InjectedReply]) -> None:
        replies = list(made)
        self._view.add_replies(replies)
        if self._ledger_file is not None:
            self._ledger_file.replies(replies)
        server = self._inbox
        if server is not None:
            from .inbox._app import reply_data

            for reply in replies:
                server.app.hub.publish("reply", reply_data(reply))

    # -- the inbox, from Python ------------------------------------------------------------
    @property
    def inbox_url(self) -> str | None:
        """``http://127.0.0.1:PORT/`` while the inbox serves (``inbox=True``), else None."""
        server = self._inbox
        return server.url if server is not None else None

    @property
    def ledger_file(self) -> LedgerFile | None:
        """The JSON Lines ledger being written (``ledger_path``), or None."""
        return self._ledger_file

    def messages(
        self, q: str | None = None, *, mobile: str | None = None, page: int = 1, per_page: int = 50
    ) -> InboxPage:
        """A page of the accepted messages, newest first, as the inbox shows them.

        ``q`` keeps those whose mobile or text contains it (ignoring case), ``mobile``
        those to that number; ``per_page`` is 1 to 500. ValueError for a bad page.

        >>> from mandao.testing import SandboxGateway
        >>> with SandboxGateway(accounts={"SDK-TST-010-00001": "secret"}) as gw:
        ...     _ = gw.client_for().send(["13800138000", "13900139000"], "您好【示例】")
        ...     found = gw.messages()
        >>> found.total, [m.mobile for m in found.messages], found.messages[0].batch
        (2, ['13900139000', '13800138000'], 1)
        """
        return self._view.page(q, mobile=mobile, page=page, per_page=per_page)

    def message(self, id: int) -> InboxMessage:
        """The message numbered ``id`` (``InboxMessage.id``); KeyError when there is none."""
        return self._view.message(id)

    def latest(self, mobile: str) -> InboxMessage | None:
        """The newest message to ``mobile``, or None: ``gw.latest(mobile).codes[0]`` is the
        verification code an application just sent."""
        return self._view.latest(mobile)

    def clear(self) -> int:
        """Empty the ledger and the inbox's view (accounts, reports and the replies the
        gateway hands out stay); how many messages went. Numbers are never reused."""
        return self._view.clear()
