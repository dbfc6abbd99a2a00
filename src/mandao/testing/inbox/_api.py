"""The inbox's JSON API: one function per endpoint, ``(app, request) -> Response``.

For end-to-end tests of an application (the Mailpit pattern): list and search
messages, read one, the latest to a mobile with its codes, delete all, inject a reply,
switch a fault, read the accounts. Every bad parameter is a 400 naming it
(``{"error": {"message": ..., "parameter": ...}}``); an unknown query parameter too.
"""

from __future__ import annotations

from ._app import InboxApp, reply_data
from ._http import (
    HttpError,
    Request,
    Response,
    Stream,
    json_body,
    json_response,
    no_query,
    one,
    positive_int,
)
from ._sse import event_stream
from ._view import MAX_PER_PAGE

__all__ = [
    "accounts",
    "delete_messages",
    "events",
    "faults",
    "latest",
    "list_messages",
    "message",
    "post_faults",
    "post_replies",
]

_LIST_PARAMS = ("q", "mobile", "page", "per_page")


def message_number(request: Request) -> int:
    """The ``ID`` of a ``.../messages/ID`` path: a whole number from 1, else 400 (``id``)."""
    return positive_int(request.params["id"], "id", 0)


def list_messages(app: InboxApp, request: Request) -> Response:
    """``GET /api/messages?q=&mobile=&page=1&per_page=50``: a page, newest first."""
    q = one(request, "q", _LIST_PARAMS)
    mobile = one(request, "mobile", _LIST_PARAMS)
    page = positive_int(one(request, "page", _LIST_PARAMS), "page", 1)
    per_page = positive_int(one(request, "per_page", _LIST_PARAMS), "per_page", 50, MAX_PER_PAGE)
    return json_response(
        app.view.page(q, mobile=mobile or None, page=page, per_page=per_page).to_dict()
    )


def message(app: InboxApp, request: Request) -> Response:
    """``GET /api/messages/ID``: one message; 404 when there is none."""
    no_query(request)
    number = message_number(request)
    try:
        return json_response(app.view.message(number).to_dict())
    except KeyError:
        raise HttpError(404, f"no message {number}", "id") from None


def latest(app: InboxApp, request: Request) -> Response:
    """``GET /api/latest?mobile=M``: the newest message to M (with its codes); 404 if none."""
    mobile = one(request, "mobile", ("mobile",))
    if not mobile:
        raise HttpError(400, "mobile is required", "mobile")
    found = app.view.latest(mobile)
    if found is None:
        raise HttpError(404, f"no message to {mobile}", "mobile")
    return json_response(found.to_dict())


def delete_messages(app: InboxApp, request: Request) -> Response:
    """``DELETE /api/messages``: empty the inbox; ``{"deleted": N}``."""
    no_query(request)
    return json_response({"deleted": app.view.clear()})


def post_replies(app: InboxApp, request: Request) -> Response:
    """``POST /api/replies`` ``{"mobile", "text", "ext", "sn"}``: inject a reply; 201."""
    no_query(request)
    return json_response(reply_data(app.inject_reply(json_body(request))), 201)


def faults(app: InboxApp, request: Request) -> Response:
    """``GET /api/faults``: each host's state and armed faults, and the fault kinds."""
    no_query(request)
    return json_response(app.faults())


def post_faults(app: InboxApp, request: Request) -> Response:
    """``POST /api/faults`` ``{"host", "kind", ...options}``: switch a host's fault."""
    no_query(request)
    data = json_body(request)
    if "host" not in data:
        raise HttpError(400, "host is required", "host")
    if "kind" not in data:
        raise HttpError(400, "kind is required (null for no fault)", "kind")
    host, kind = data.pop("host"), data.pop("kind")
    return json_response(app.switch_fault(host, kind, data))


def accounts(app: InboxApp, request: Request) -> Response:
    """``GET /api/accounts``: balances, in-flight counts, the -18/-19 state and rules."""
    no_query(request)
    return json_response(app.accounts())


def events(app: InboxApp, request: Request) -> Stream:
    """``GET /api/events?after=N``: the event stream (Server-Sent Events), joined before
    the headers go out; ``after`` (or a ``Last-Event-ID``) replays the messages after N."""
    given = one(request, "after", ("after",))
    after = None if not given else positive_int(given, "after", 0, minimum=0)
    return event_stream(app, request.headers.get("Last-Event-ID"), after)
