"""The one XML parser every reply goes through: no DTD, no entities, no network, no huge trees.

zeep's reply parsing drops comments and joins the text around them (``90000<!--c-->00001``
reads as a plausible id), and lxml's default parser expands entities: replies are parsed
here instead, from their bytes, and a result element must hold text only.
"""

from __future__ import annotations

import threading
from typing import Any

import lxml.etree

__all__ = ["Element", "XMLError", "parse", "text_only"]

XMLError = lxml.etree.LxmlError
Element = lxml.etree._Element


def _parser() -> lxml.etree.XMLParser:
    return lxml.etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
    )


# An lxml parser must not be used by two threads at once: one per thread.
_local = threading.local()


def parse(body: bytes) -> Element:
    """The root element of ``body``; raises XMLError, or ValueError for a DTD."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _parser()
    root = lxml.etree.fromstring(body, parser=parser)
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype:
        raise ValueError("the reply declares a DTD")
    return root


def text_only(element: Element) -> str | None:
    """The element's text, or None when it holds anything else (elements, comments, PIs)."""
    if len(element):
        return None
    return element.text or ""
