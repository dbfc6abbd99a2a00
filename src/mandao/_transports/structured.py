"""Results that are XML structures, not a string: each read into the text its operation's
grammar reads, keyed by operation name (:data:`STRUCTURED`).

``RECSMS_UTF8`` answers an ``ArrayOfMOBody`` (inside ``RECSMS_UTF8Result`` over SOAP; the
document's root over HTTP GET/POST): ``MOBody{total_num, this_num, recvtel, sender,
content, recdate}``. It becomes the lines ``mo`` answers with: one per MOBody,
``,{recvtel},{sender},{content},{recdate}`` (no moID: RECSMS has none), joined by CRLF,
the content as received (URL-encoded UTF-8). No MOBody at all, or a ``total_num`` of
``-1`` (what clients of the real gateway read as "no messages"), is ``1``, ``mo``'s
"nothing to fetch"; another negative ``total_num`` is a code, given as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import NamedTuple

from .._core.wire import Malformed, Result
from . import xml

__all__ = ["STRUCTURED", "Structure", "mo_bodies"]

_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_LINE_FIELDS = ("recvtel", "sender", "content", "recdate")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _only_elements(element: xml.Element, what: str) -> Malformed | None:
    """Malformed when ``element`` holds text, comments or processing instructions besides
    its child elements (whitespace between them is fine)."""
    if (element.text or "").strip():
        return Malformed(f"{what} holds text besides its elements")
    for child in element:
        if not isinstance(child.tag, str):
            return Malformed(f"{what} holds a comment or processing instruction")
        if (child.tail or "").strip():
            return Malformed(f"{what} holds text besides its elements")
    return None


def _fields(body: xml.Element) -> dict[str, str] | Malformed:
    wrong = _only_elements(body, "a MOBody")
    if wrong is not None:
        return wrong
    fields: dict[str, str] = {}
    for field in body:
        text = xml.text_only(field)
        if text is None:
            return Malformed(f"MOBody's {_local(field.tag)[:40]!r} holds more than text")
        fields[_local(field.tag)] = text
    return fields


def mo_bodies(container: xml.Element, namespace: str) -> Result | Malformed:
    """The ``mo`` lines of the MOBody elements in ``container`` (an ``ArrayOfMOBody`` or a
    ``RECSMS_UTF8Result``), or why they cannot be read."""
    wrong = _only_elements(container, _local(container.tag)[:60])
    if wrong is not None:
        return wrong
    bodies: list[dict[str, str]] = []
    for child in container:
        if child.tag != f"{{{namespace}}}MOBody":
            return Malformed(f"the reply holds {child.tag!r}, not a MOBody")
        fields = _fields(child)
        if isinstance(fields, Malformed):
            return fields
        bodies.append(fields)
    if not bodies:
        return Result("1")
    total = bodies[0].get("total_num", "").strip()
    if not _INTEGER.fullmatch(total):
        return Malformed(f"MOBody's total_num {total[:40]!r} is not a number")
    if total == "-1":
        return Result("1")
    if total.startswith("-"):
        return Result(total)
    lines = []
    for fields in bodies:
        values = [fields.get(name, "").strip() for name in _LINE_FIELDS]
        if any("\r" in v or "\n" in v for v in values) or any(
            "," in v for i, v in enumerate(values) if _LINE_FIELDS[i] != "content"
        ):
            return Malformed("a MOBody field holds a line break, or a comma outside content")
        lines.append("," + ",".join(values))
    return Result("\r\n".join(lines))


class Structure(NamedTuple):
    """How one operation's structured result is read.

    Attributes:
        root: the local name of the HTTP GET/POST reply's root element.
        parse: the container element and the service namespace -> the result text.
    """

    root: str
    parse: Callable[[xml.Element, str], Result | Malformed]


#: The operations whose result is a structure, by name (rows for operations the WSDL
#: does not have yet are harmless: nothing is built for them).
STRUCTURED: Mapping[str, Structure] = MappingProxyType(
    {"RECSMS_UTF8": Structure("ArrayOfMOBody", mo_bodies)}
)
