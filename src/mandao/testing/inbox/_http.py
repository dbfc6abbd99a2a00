"""The inbox's HTTP values: a request, a response, an error, and reading parameters.

Pure: no sockets. ``HttpError`` is how every handler refuses (400 a bad parameter, 403,
404, 405); the server turns it into a JSON error on ``/api/`` and a small HTML page
elsewhere. Every JSON the inbox writes goes through :func:`json_bytes`: never NaN or
Infinity (not JSON), and a lone surrogate in a text (``%uD800`` sent alone) written as
the JSON escape ``\\ud800`` rather than failing to encode.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "MAX_BODY",
    "HttpError",
    "Request",
    "Response",
    "Stream",
    "form_fields",
    "json_body",
    "json_bytes",
    "json_response",
    "no_query",
    "one",
    "positive_int",
]

MAX_BODY = 1 << 20  # a JSON or form body larger than 1 MiB is refused
MAX_NUMBER = 999_999_999  # the largest page, id or after a parameter may name


class HttpError(Exception):
    """An answer other than success: ``status``, a ``message``, the ``parameter`` at fault."""

    def __init__(
        self,
        status: int,
        message: str,
        parameter: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter
        #: Headers the answer carries (``Allow`` of a 405).
        self.headers = dict(headers or {})

    def to_dict(self) -> dict[str, Any]:
        """The JSON API's error object."""
        error: dict[str, Any] = {"message": self.message}
        if self.parameter is not None:
            error["parameter"] = self.parameter
        return {"error": error}


@dataclass(frozen=True)
class Request:
    """One request: method, path (decoded), query, headers (case-insensitive), body, and
    the route's path parameters."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Response:
    """A whole answer: status, content type, body, and extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stream:
    """An answer written as it goes (the event stream): ``run(write)`` until it returns."""

    run: Callable[[Callable[[bytes], None]], None]
    content_type: str = "text/event-stream; charset=utf-8"


def json_bytes(data: Any) -> bytes:
    """``data`` as UTF-8 JSON, Chinese kept readable; ValueError for NaN or Infinity.

    A text holding a lone surrogate (which UTF-8 cannot carry) makes the whole document
    ASCII, with JSON escapes: still valid JSON, and read back to the very same text.

    >>> json_bytes({"t": "验证码"}), json_bytes({"t": "\\ud800x"})
    (b'{"t": "\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81"}', b'{"t": "\\\\ud800x"}')
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(data, allow_nan=False).encode("ascii")


def json_response(data: Any, status: int = 200) -> Response:
    """``data`` as a UTF-8 JSON answer (Chinese text kept readable)."""
    return Response(status, "application/json; charset=utf-8", json_bytes(data))


def one(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    """The query parameter ``name`` (None when absent); 400 when it is given twice, or
    when the query has a parameter not in ``allowed``."""
    for key in request.query:
        if key not in allowed:
            raise HttpError(400, f"unknown parameter {key!r}; known: {', '.join(allowed)}", key)
    values = request.query.get(name)
    if values is None:
        return None
    if len(values) > 1:
        raise HttpError(400, f"{name} is given {len(values)} times", name)
    return values[0]


def no_query(request: Request) -> None:
    """400 when the request has any query parameter (the endpoint takes none)."""
    one(request, "", ())


def positive_int(
    value: str | None, name: str, default: int, maximum: int = MAX_NUMBER, minimum: int = 1
) -> int:
    """``value`` as a whole number from ``minimum`` to ``maximum`` (ASCII digits only);
    ``default`` when absent or empty; 400 naming ``name`` and the bounds otherwise."""
    if value is None or value == "":
        return default
    number = int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None
    if number is None or not minimum <= number <= maximum:
        raise HttpError(
            400, f"{name} must be a whole number from {minimum} to {maximum}, not {value!r}", name
        )
    return number


def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 400 (parameter ``body``) when it is not one (NaN and
    Infinity are not JSON)."""
    try:
        data = json.loads(request.body.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError):
        raise HttpError(400, "the body is not JSON (UTF-8)", "body") from None
    if not isinstance(data, dict):
        raise HttpError(400, "the body must be a JSON object", "body")
    return data


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def form_fields(request: Request) -> dict[str, str]:
    """A form body (``application/x-www-form-urlencoded``, UTF-8); 400 when a field is
    given twice or the body is not a form."""
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, "the form is not UTF-8", "body") from None
    try:
        fields = parse_qs(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise HttpError(400, "the form is not UTF-8", "body") from None
    twice = [name for name, values in fields.items() if len(values) > 1]
    if twice:
        raise HttpError(400, f"{twice[0]} is given twice", twice[0])
    return {name: values[0] for name, values in fields.items()}
