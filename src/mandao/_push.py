"""The gateway's reply push (上行推送), received: a WSGI app and its ASGI twin.

The gateway POSTs ``args=`` records joined by ``;`` (at most 1000; content URL-encoded
GB2312; the moID always ``123456``) to a URL the customer registered, and wants ``0``
back. The app keeps the body in the journal first, decodes it, stores the replies (a
reply pushed twice, or pushed and also pulled, once: by mobile, text, receiver and time),
lists opt-outs, and answers ``0``; a push it cannot read at all is kept raw and answered
``1``, so the gateway may try again.

The gateway signs nothing: anyone who finds the URL could fill the suppression list. So
the app answers only a path that ends in a secret token, only from the networks allowed
(when given), and reads no body larger than its cap.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from ._errors import ValidationError

if TYPE_CHECKING:
    from ._inbound.optout import OptOut
    from ._journal import Journal

__all__ = ["ReplyPush"]

_TEXT = [("Content-Type", "text/plain; charset=utf-8")]
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 413: "Content Too Large"}  # fmt: skip


class ReplyPush:
    """Receives the gateway's reply pushes: mount it in Django, Flask (WSGI) or FastAPI,
    Starlette (:attr:`asgi`).

    Args:
        journal: where pushes are kept (the one the sending clients use, so that their
            suppression checks see the opt-outs).
        sn: the serial the pushes are for.
        token: the secret last part of the registered URL (16 characters or more), e.g.
            ``https://sms.example.com/mandao/push/<token>?args=%XXX%``.
        networks: the networks the gateway pushes from (``"203.0.113.0/24"``); empty: any.
            Behind a proxy the client address is the proxy's: restrict there too.
        max_body: the most bytes of a body read (a push of 1000 records is well under
            the 1 MiB default).
        opt_out: the opt-out keywords (default :class:`~mandao.OptOut`'s).
        service_number: the account's service number, so replies get their ``ext``.

    Example::

        >>> push = ReplyPush(mandao.Journal(), sn="SDK-...", token="9c1f...")  # doctest: +SKIP
        >>> app.mount("/mandao/push", WSGIMiddleware(push))  # doctest: +SKIP
    """

    def __init__(
        self,
        journal: Journal,
        *,
        sn: str,
        token: str,
        networks: Iterable[str] = (),
        max_body: int = 1 << 20,
        opt_out: OptOut | None = None,
        service_number: str | None = None,
    ) -> None:
        from ._client_checks import Inbound

        if not isinstance(token, str) or len(token) < 16 or not token.isascii() or "/" in token:
            raise ValidationError(
                "expected a secret of 16 ASCII characters or more, without '/' "
                "(e.g. secrets.token_urlsafe(24))",
                argument="token",
            )
        try:
            self._networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        except ValueError as exc:
            raise ValidationError(str(exc), argument="networks") from None
        self._journal, self._sn, self._token, self._max = journal, sn, token, max_body
        self._inbound = Inbound.of(opt_out, None, service_number)

    def __repr__(self) -> str:
        return f"<mandao.ReplyPush sn={self._sn} journal={self._journal.label}>"

    def handle(
        self, method: str, path: str, remote: str, query: str, body: bytes | None
    ) -> tuple[int, str]:
        """One request: its status and answer (the app's logic, without a server)."""
        return self._refusal(method, path, remote) or self._take(query, body)

    def _refusal(self, method: str, path: str, remote: str) -> tuple[int, str] | None:
        """Why a request is refused before its body is read (a wrong token, a network not
        allowed, a method), or None."""
        last = path.rstrip("/").rpartition("/")[2].encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(last, self._token.encode()):
            return 404, "not found"
        if self._networks and not self._allowed(remote):
            return 403, "forbidden"
        if method not in ("POST", "GET"):
            return 405, "POST the push"
        return None

    def _take(self, query: str, body: bytes | None) -> tuple[int, str]:
        """A push let in: kept and stored, and its answer to the gateway."""
        if body is None:
            return 413, "too large"
        args = _args(body.decode("latin-1")) or _args(query)
        if args is None:  # kept, as a line that could not be read
            from ._inbound.decoded import Decoded, Unreadable

            text = body.decode("latin-1")
            inbound = self._journal._keep(self._sn, "push", text)
            unread: Decoded[Any] = Decoded((), (Unreadable(text, "a push without an args field"),))
            self._journal._store_replies(inbound, self._sn, unread, None)
            return 400, "1"
        from ._fetching import ReplyFetch

        fetch = ReplyFetch.start(self._journal, self._sn, "mo", self._inbound,
                                 self._inbound.service_number)  # fmt: skip
        fetch.take_push(args)
        got = fetch.result("push")
        return 200, "0" if got.items or not got.unreadable else "1"

    def _allowed(self, remote: str) -> bool:
        try:
            address = ipaddress.ip_address(remote)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # a dual-stack server's view of an IPv4 client
        return any(address in network for network in self._networks)

    # -- WSGI ----------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        # Refused first: the body of a request with no token is never read.
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        answer = self._refusal(method, path, environ.get("REMOTE_ADDR", ""))
        if answer is None:
            terminated = bool(environ.get("wsgi.input_terminated"))
            body = _read(environ.get("wsgi.input"), environ.get("CONTENT_LENGTH"), self._max,
                         terminated=terminated)  # fmt: skip
            answer = self._take(environ.get("QUERY_STRING", ""), body)
        status, text = answer
        start_response(f"{status} {_REASONS[status]}", _TEXT)
        return [text.encode()]

    # -- ASGI ----------------------------------------------------------------------------
    async def asgi(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        """The ASGI app (``app.mount("/mandao/push", push.asgi)``); journal work off the loop."""
        if scope["type"] != "http":
            return
        client = scope.get("client") or ("", 0)
        method, path = scope.get("method", "GET"), scope.get("path", "")
        if (refused := self._refusal(method, path, client[0])) is not None:
            await self._answer(send, *refused)  # the body is never read
            return
        chunks, size, body = [], 0, None
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                return  # the body never came whole: nothing stored, the gateway sends again
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self._max:
                break
            if not message.get("more_body"):
                body = b"".join(chunks)
                break
        query = scope.get("query_string", b"").decode("latin-1")
        await self._answer(send, *await asyncio.to_thread(self._take, query, body))

    @staticmethod
    async def _answer(send: Callable[..., Any], status: int, text: str) -> None:
        headers = [(k.lower().encode(), v.encode()) for k, v in _TEXT]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": text.encode()})


def _read(stream: Any, length: object, most: int, *, terminated: bool) -> bytes | None:
    """A WSGI body, or None when it is larger than ``most``. Without a Content-Length it
    is read only from a server that ends the input (``wsgi.input_terminated``): from
    another, reading waits on the client's socket, and a request that sends no body holds
    the server (PEP 3333: no length, no body)."""
    try:
        size = int(str(length or 0))
    except ValueError:
        size = 0
    if size > most or stream is None:
        return None if size > most else b""
    if size <= 0 and not terminated:
        return b""
    data = stream.read(size) if size > 0 else stream.read(most + 1)
    return None if len(data) > most else data


def _args(form: str) -> str | None:
    """The ``args`` value of a form or query, as it arrived. A value whose fields carry no
    literal comma was form-encoded whole (its separators escaped too: ``%2C``): it is
    decoded once, to the records. Otherwise it is the records already, its ``%XX`` the
    contents' own encoding, and left as it is. Either way a byte past ASCII (the form's
    text is each byte as one character) is escaped back to ``%XX``, as contents come."""
    for item in form.split("&"):
        key, equals, value = item.partition("=")
        if equals and key == "args":
            if "," not in value and "%2C" in value.upper():
                value = unquote_plus(value, encoding="latin-1")
            # A byte past ASCII is a content's own (GB2312 sent raw, or form-encoded with
            # the rest): escaped again, it is decoded as the contents are, %XX to text.
            return "".join(c if c < "\x80" else f"%{ord(c):02X}" for c in value)
    return None
