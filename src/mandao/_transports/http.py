"""HTTP GET, HTTP POST and the vendor's ``.ashx`` handlers: form fields out, text back.

The ASMX HTTP bindings answer ``<string xmlns="...">result</string>``; an ``.ashx`` handler
answers the result as plain text.
"""

from __future__ import annotations

from urllib.parse import urlencode

from .._core.wire import Malformed, Result
from .._operations import Operation
from . import xml
from .structured import STRUCTURED
from .wire import WireRequest
from .wsdl import Built

__all__ = ["ashx_url", "encode", "parse"]

_FORM = "application/x-www-form-urlencoded"


def ashx_url(host: str, operation: str) -> str:
    """The ``.ashx`` handler of ``operation`` beside the service URL ``host``."""
    return f"{host.rsplit('/', 1)[0]}/{operation}.ashx"


def encode(built: Built, host: str) -> WireRequest:
    """``built`` addressed to ``host``: a GET with a query, or a POST of a form."""
    if built.protocol == "http-get":
        query = urlencode(dict(built.query))
        return WireRequest("GET", f"{host}{built.path}?{query}", dict(built.headers), b"")
    if built.protocol == "ashx":
        url, body = ashx_url(host, built.operation.name), urlencode(dict(built.fields)).encode()
        headers = {"Content-Type": _FORM}
    else:
        url, body, headers = host + built.path, built.body, dict(built.headers)
    return WireRequest("POST", url, {**headers, "Content-Length": str(len(body))}, body)


def parse(op: Operation, protocol: str, body: bytes) -> Result | Malformed:
    """What ``body`` holds: the operation's result, or neither."""
    if protocol == "ashx":
        return Result(body.decode("utf-8", "replace"))
    try:
        root = xml.parse(body)
    except (xml.XMLError, ValueError) as exc:
        return Malformed(f"the reply is not XML ({str(exc)[:120]})")
    structure = STRUCTURED.get(op.name)
    if structure is not None:
        if root.tag != f"{{{op.service.namespace}}}{structure.root}":
            return Malformed(f"the reply holds {root.tag!r}, not an {structure.root}")
        return structure.parse(root, op.service.namespace)
    # The service's namespace, another or none: the ASMX runtimes differ, the text does not.
    if root.tag.rpartition("}")[2] != "string":
        return Malformed(f"the reply holds {root.tag!r}, not a string")
    text = xml.text_only(root)
    if text is None:
        return Malformed("the reply's string holds more than text")
    return Result(text)
