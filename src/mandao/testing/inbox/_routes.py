"""The inbox's routes, as one table: method and path pattern to the function answering.

A path matching no pattern is a 404; one matching a pattern of another method a 405
(with an ``Allow`` header). Path parameters are percent-decoded (as UTF-8: 400 when they
are not) before the handler sees them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from . import _api, _pages
from ._app import InboxApp
from ._http import HttpError, Request, Response, Stream

__all__ = ["ROUTES", "Route", "match"]

Handler = Callable[[InboxApp, Request], Response | Stream]


@dataclass(frozen=True)
class Route:
    """``method`` requests whose path fully matches ``pattern`` go to ``handler``."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _route(method: str, pattern: str, handler: Handler) -> Route:
    return Route(method, re.compile(pattern), handler)


_SEGMENT = r"(?P<{}>[^/]+)"
ROUTES: tuple[Route, ...] = (
    _route("GET", r"/", _pages.index),
    _route("GET", r"/threads/" + _SEGMENT.format("mobile"), _pages.thread),
    _route("POST", r"/threads/" + _SEGMENT.format("mobile") + r"/reply", _pages.reply_form),
    _route("POST", r"/faults", _pages.fault_form),
    _route("POST", r"/clear", _pages.clear_form),
    _route("GET", r"/fragments/messages/" + _SEGMENT.format("id"), _pages.message_fragment),
    _route("GET", r"/fragments/bubbles/" + _SEGMENT.format("id"), _pages.sent_fragment),
    _route("GET", r"/fragments/replies/" + _SEGMENT.format("id"), _pages.reply_fragment),
    _route("GET", r"/static/" + _SEGMENT.format("name"), _pages.static),
    _route("GET", r"/api/messages", _api.list_messages),
    _route("DELETE", r"/api/messages", _api.delete_messages),
    _route("GET", r"/api/messages/" + _SEGMENT.format("id"), _api.message),
    _route("GET", r"/api/latest", _api.latest),
    _route("POST", r"/api/replies", _api.post_replies),
    _route("GET", r"/api/faults", _api.faults),
    _route("POST", r"/api/faults", _api.post_faults),
    _route("GET", r"/api/accounts", _api.accounts),
    _route("GET", r"/api/events", _api.events),
)


def match(method: str, path: str) -> tuple[Handler, dict[str, str]]:
    """The handler of ``method`` on the raw ``path`` and its decoded path parameters.

    Raises HttpError 404 (no such path), 405 (not with this method; the methods allowed
    go in its ``Allow`` header) or 400 (a path parameter that is not UTF-8).
    """
    allowed = []
    lookup = "GET" if method == "HEAD" else method
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        if route.method == lookup:
            return route.handler, _decoded(found.groupdict())
        allowed.append(route.method)
        if route.method == "GET":
            allowed.append("HEAD")
    if allowed:
        methods = ", ".join(allowed)
        raise HttpError(
            405, f"{method} is not allowed here (only {methods})", headers={"Allow": methods}
        )
    raise HttpError(404, f"nothing at {path}")


def _decoded(params: dict[str, str]) -> dict[str, str]:
    decoded = {}
    for name, value in params.items():
        try:
            decoded[name] = unquote(value, errors="strict")
        except UnicodeDecodeError:
            raise HttpError(400, f"{name} is not UTF-8 (percent-encoded)", name) from None
    return decoded
