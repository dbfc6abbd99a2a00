"""A request as it goes on the wire, byte for byte: what a dry run shows and a send sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["WireRequest"]


class WireRequest(NamedTuple):
    """Method, URL (with the query string), headers and body of one request."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes

    def __repr__(self) -> str:  # the URL or body holds pwd: never show them
        return f"<WireRequest {self.method} {self.url.split('?', 1)[0]}>"
