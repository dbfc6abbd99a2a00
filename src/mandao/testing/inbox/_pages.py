"""The inbox's HTML: pages rendered on the server with Jinja2, fragments, forms, static files.

Autoescaping is on for every template: message texts, mobiles and replies are untrusted
input. The pages work without JavaScript (search is a GET form, the panels are POST
forms answered ``303 See Other``); ``/static/inbox.js`` only adds live updates, and
fetches ``/fragments/...`` so an inserted message has the very markup the page has.
"""

from __future__ import annotations

import importlib.resources
import re
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .._faults import FAULT_KINDS
from .._inbound import check_reply_mobile
from ._app import InboxApp
from ._http import HttpError, Request, Response, form_fields, one, positive_int
from ._message import InboxMessage
from ._text import signature_span
from ._view import mobile_key

__all__ = [
    "clear_form",
    "fault_form",
    "index",
    "message_fragment",
    "reply_form",
    "reply_fragment",
    "sent_fragment",
    "static",
    "thread",
]

_STATIC = {"inbox.css": "text/css; charset=utf-8", "inbox.js": "text/javascript; charset=utf-8"}
_PER_PAGE = 50


def _pieces(message: InboxMessage) -> list[tuple[str, bool]]:
    """The content as (text, is the signature) pieces, for ``<mark class="signature">``."""
    span = signature_span(message.content)
    if span is None:
        return [(message.content, False)]
    start, end = span
    text = message.content
    return [(text[:start], False), (text[start:end], True), (text[end:], False)]


def thread_url(mobile: str) -> str:
    """The thread page of ``mobile``."""
    return "/threads/" + quote(mobile, safe="")


@cache
def environment() -> Environment:
    """The templates of this package, autoescaped, with the helpers they use."""
    env = Environment(
        loader=PackageLoader("mandao.testing.inbox", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(pieces=_pieces, thread_url=thread_url, fault_kinds=FAULT_KINDS)
    env.filters["clock"] = clock
    return env


def clock(when: datetime) -> str:
    """``when`` in the machine's time zone, to the second, and which zone that is (messages
    and replies alike; replies arrive in China time): ``2026-12-03 17:30:00 UTC+08:00``,
    or ``… UTC`` on a machine on UTC."""
    local = when.astimezone()
    z = f"{local:%z}"  # +0800, or +054330 for an offset with seconds
    zone = f"{z[:3]}:{':'.join(filter(None, (z[3:5], z[5:7])))}" if local.utcoffset() else ""
    return f"{local:%Y-%m-%d %H:%M:%S} UTC{zone}"


def _html(name: str, status: int = 200, **context: Any) -> Response:
    # backslashreplace: a lone surrogate in a text (``%uD800`` sent alone, which UTF-8
    # cannot carry) shows as \ud800 instead of failing the page.
    body = environment().get_template(name).render(**context)
    return Response(status, "text/html; charset=utf-8", body.encode("utf-8", "backslashreplace"))


def error_page(error: HttpError) -> Response:
    """A small HTML page for an error outside the JSON API."""
    return _html("error.html", error.status, error=error, page_name="error")


def _see_other(location: str) -> Response:
    return Response(303, "text/plain; charset=utf-8", b"", {"Location": location})


# -- pages ------------------------------------------------------------------------------------
def index(app: InboxApp, request: Request) -> Response:
    """``GET /?q=&page=``: the messages newest first, the accounts, faults, clear."""
    allowed = ("q", "page")
    q = (one(request, "q", allowed) or "").strip()
    page = positive_int(one(request, "page", allowed), "page", 1)
    # Read before the page: a message recorded while it renders is on the page or on the
    # stream inbox.js opens with ?after= this number (or on both: the script skips it).
    last_id = app.view.ledger.last_number
    shown = app.view.page(q, page=page, per_page=_PER_PAGE)
    return _html(
        "index.html",
        page=shown,
        q=q,
        last_id=last_id,
        accounts=app.accounts(),
        faults=app.faults(),
        page_name="index",
    )


def thread(app: InboxApp, request: Request) -> Response:
    """``GET /threads/MOBILE``: the messages to it and its replies, like a phone's."""
    one(request, "", ())
    # As the client sends it: /threads/+8613800138000 is 13800138000's thread, whose
    # live updates (matched on data-mobile) and replies then name the same number.
    mobile = mobile_key(request.params["mobile"])
    last_id = app.view.ledger.last_number  # before the page, as on the list
    items = app.view.thread(mobile)
    if not items:  # a thread of nothing yet: only of a number a reply may come from
        try:
            check_reply_mobile(mobile)
        except ValueError as exc:
            raise HttpError(404, f"no thread: {exc}", "mobile") from None
    latest = app.view.latest(mobile)
    return _html(
        "thread.html",
        mobile=mobile,
        items=items,
        last_id=last_id,
        sn=latest.sn if latest is not None else "",
        page_name="thread",
    )


# -- fragments (what the script inserts) --------------------------------------------------
def _numbered(app: InboxApp, request: Request) -> InboxMessage:
    one(request, "", ())
    number = positive_int(request.params["id"], "id", 0)
    try:
        return app.view.message(number)
    except KeyError:
        raise HttpError(404, f"no message {number}", "id") from None


def message_fragment(app: InboxApp, request: Request) -> Response:
    """``GET /fragments/messages/ID``: the ``li.message`` of one message."""
    return _html("fragment_message.html", m=_numbered(app, request))


def sent_fragment(app: InboxApp, request: Request) -> Response:
    """``GET /fragments/bubbles/ID``: the ``div.bubble.sent`` of one message."""
    return _html("fragment_bubble.html", item=_numbered(app, request))


def reply_fragment(app: InboxApp, request: Request) -> Response:
    """``GET /fragments/replies/ID``: the ``div.bubble.reply`` of one reply (its moID)."""
    one(request, "", ())
    number = positive_int(request.params["id"], "id", 0)
    try:
        return _html("fragment_bubble.html", item=app.view.reply(number))
    except KeyError:
        raise HttpError(404, f"no reply {number}", "id") from None


# -- forms ------------------------------------------------------------------------------------
def reply_form(app: InboxApp, request: Request) -> Response:
    """``POST /threads/MOBILE/reply`` (``text``, ``sn``): inject the reply, back to the thread."""
    fields = form_fields(request)
    mobile = request.params["mobile"]
    unknown = set(fields) - {"text", "sn"}
    if unknown:
        name = sorted(unknown)[0]
        raise HttpError(400, f"unknown field {name!r}", name)
    app.inject_reply({"mobile": mobile, "text": fields.get("text", ""), "sn": fields.get("sn")})
    return _see_other(thread_url(mobile))


# What a form field's text must look like to be read as the option's number: ASCII digits
# (int() and float() would take "١٢", "inf" and "nan"); the bounds are checked after.
_WHOLE = re.compile(r"[0-9]{1,12}")
_DECIMAL = re.compile(r"(?:[0-9]{1,12}(?:\.[0-9]*)?|\.[0-9]+)")
_FORM_OPTIONS: dict[str, tuple[re.Pattern[str] | None, Any]] = {
    "code": (None, str),
    "times": (_WHOLE, int),
    "delay": (_DECIMAL, float),
    "status": (_WHOLE, int),
}


def fault_form(app: InboxApp, request: Request) -> Response:
    """``POST /faults`` (``host``, ``kind``, optional ``code``/``times``/``delay``/``status``)."""
    fields = form_fields(request)
    options: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("host", "kind") or not value.strip():
            continue
        if name not in _FORM_OPTIONS:
            raise HttpError(400, f"unknown field {name!r}", name)
        shape, convert = _FORM_OPTIONS[name]
        if shape is not None and not shape.fullmatch(value.strip()):
            raise HttpError(400, f"{name} must be a number (digits), not {value!r}", name)
        options[name] = convert(value.strip())
    if fields.get("kind", "") in ("", "down", "up"):
        options.clear()  # the options belong to a fault kind
    app.switch_fault(fields.get("host"), fields.get("kind", ""), options)
    return _see_other("/")


def clear_form(app: InboxApp, request: Request) -> Response:
    """``POST /clear``: empty the inbox, back to the list."""
    form_fields(request)
    app.view.clear()
    return _see_other("/")


def static(app: InboxApp, request: Request) -> Response:
    """``GET /static/NAME``: the stylesheet and the script, shipped in the package."""
    name = request.params["name"]
    content_type = _STATIC.get(name)
    if content_type is None:
        raise HttpError(404, f"no static file {name!r}")
    return Response(200, content_type, _static_bytes(name), {"Cache-Control": "no-cache"})


@cache
def _static_bytes(name: str) -> bytes:
    return (importlib.resources.files("mandao.testing.inbox") / "static" / name).read_bytes()
