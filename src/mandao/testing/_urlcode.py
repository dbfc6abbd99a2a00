"""URL decoding with ASP.NET ``HttpUtility.UrlDecode`` semantics, and form/query parsing.

The gateway is an ASP.NET application: query strings, form bodies and the ``content`` field
(URL-encoded once more by every client) are all decoded this way. Differences from
``urllib.parse.unquote_plus`` that matter: ``%uXXXX`` is understood, invalid UTF-8 becomes
U+FFFD instead of an error, and a ``%`` not followed by two hex digits stays as it is.

``%uXXXX`` gives a UTF-16 code unit, as .NET strings are made of: ``%uD83D%uDE00`` is one
character (😀) in .NET, and here too (the two units of a surrogate pair are joined); a
surrogate with no partner (``%uD800`` alone) stays as it is, a lone surrogate, as .NET
keeps it.
"""

from __future__ import annotations

import re

__all__ = ["parse_pairs", "url_decode"]

_HEX = "0123456789abcdefABCDEF"
_TOKEN = re.compile(r"%u[0-9a-fA-F]{4}|%[0-9a-fA-F]{2}|\+|[^%+]+|%")


def url_decode(text: str, encoding: str = "utf-8") -> str:
    """Decode ``text`` as ``HttpUtility.UrlDecode(text, encoding)`` would.

    >>> url_decode("a+b%2Cc%E4%BD%A0%u597D%")
    'a b,c你好%'
    >>> url_decode("%uD83D%uDE00hi"), len(url_decode("%uD83D%uDE00")), url_decode("%uD800x")
    ('😀hi', 1, '\\ud800x')
    """
    if "%" not in text and "+" not in text:
        return text
    out: list[str] = []
    pending = bytearray()
    surrogates = False
    for token in _TOKEN.findall(text):
        if len(token) == 3 and token[0] == "%" and token[1] in _HEX:
            pending.append(int(token[1:], 16))
            continue
        if pending:
            out.append(pending.decode(encoding, errors="replace"))
            pending.clear()
        if token == "+":
            out.append(" ")
        elif token.startswith("%u") and len(token) == 6:
            unit = int(token[2:], 16)
            surrogates = surrogates or 0xD800 <= unit <= 0xDFFF
            out.append(chr(unit))
        else:
            out.append(token)
    if pending:
        out.append(pending.decode(encoding, errors="replace"))
    decoded = "".join(out)
    if surrogates:
        # Through UTF-16 and back: each high-low pair becomes its one character, a lone
        # surrogate passes through unchanged.
        units = decoded.encode("utf-16-le", "surrogatepass")
        decoded = units.decode("utf-16-le", "surrogatepass")
    return decoded


def parse_pairs(text: str, encoding: str = "utf-8") -> dict[str, str]:
    """Parse ``a=1&b=2`` into a dict, as ASP.NET's ``NameValueCollection`` does.

    A name given twice keeps both values joined by a comma (``mobile=1&mobile=2`` reads as
    ``1,2``), which is what ``Request.QueryString["mobile"]`` returns.

    >>> parse_pairs("mobile=1&mobile=2&ext=&x")
    {'mobile': '1,2', 'ext': '', 'x': ''}
    """
    result: dict[str, str] = {}
    if not text:
        return result
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        key = url_decode(name, encoding)
        val = url_decode(value, encoding)
        result[key] = f"{result[key]},{val}" if key in result else val
    return result
