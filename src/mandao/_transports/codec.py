"""One codec for every protocol: encode a built request for a host, read its reply.

Real sends and dry runs both go through :func:`encode`, so a dry run shows byte for byte
what a send puts on the wire (with ``pwd`` redacted). :func:`response` reads a reply's
bytes into what ``mandao._core.wire`` classifies; every text of it a message may show
(an error page's first line, a fault, what a malformed body held) is scrubbed of the
request's :func:`secrets` first. A result is kept as sent.
"""

from __future__ import annotations

from .._core.wire import Fault, Malformed, Response, Result
from .._credentials import Credentials, md5_form
from .._operations import REPLY_FETCHES
from .._redact import Secrets
from . import http, soap
from .wire import WireRequest
from .wsdl import Built

__all__ = ["encode", "response", "secrets", "unreadable"]

#: Operations whose result is JSON, and the deepest nesting accepted: a reply nested
#: 100,000 deep would exhaust the recursion of whoever decodes it.
_JSON_RESULTS = frozenset({"mdgetSninfo"})
_JSON_DEPTH = 32


def encode(built: Built, host: str) -> WireRequest:
    """``built`` addressed to the service URL ``host``."""
    if built.protocol in ("soap11", "soap12"):
        return soap.encode(built, host)
    return http.encode(built, host)


def secrets(built: Built, credentials: Credentials | None = None) -> Secrets:
    """The secret values ``built`` carries: the password (plain-form operations) and the
    MD5 form, upper and lower case, and a new password (``UDPPwd``); and, given the
    client's ``credentials``, both forms of its password whichever ``built`` carries (a
    server that answers an MD5-form operation knows the plain password too, and may echo
    it)."""
    sn, carried = built.fields.get("sn", ""), built.fields.get("pwd", "")
    if not carried or carried == "***":  # a dry run's: nothing to hide
        return Secrets(())
    plain = built.operation.pwd == "plain"  # noqa: S105 (a form's name, not a password)
    md5 = md5_form(sn, carried) if plain else carried
    values = [carried, md5.upper(), md5.lower(), built.fields.get("newpwd", "")]
    if credentials is not None:
        values += credentials.forms()
    return Secrets(dict.fromkeys(values))


def _too_deep(text: str) -> bool:
    """Whether the JSON ``text`` nests deeper than :data:`_JSON_DEPTH` (strings skipped)."""
    depth, quoted, escaped = 0, False, False
    for char in text:
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "[{":
            depth += 1
            if depth > _JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _checked(built: Built, parsed: Result | Malformed, hidden: Secrets) -> Result | Malformed:
    if isinstance(parsed, Malformed):
        return Malformed(hidden.scrub(parsed.detail))
    if built.operation.name in _JSON_RESULTS and _too_deep(parsed.text):
        return Malformed(f"the reply's JSON nests deeper than {_JSON_DEPTH} levels")
    return parsed


def _text(body: bytes) -> str:
    """``body`` as text: UTF-8 (the services' XML), else GB18030 (an ``.ashx`` reply),
    any byte neither reads kept as ``\\xNN``."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("gb18030", "backslashreplace")


def response(built: Built, status: int, body: bytes, hidden: Secrets | None = None) -> Response:
    """A reply to ``built``: its status and what its body holds (texts a message may show
    scrubbed of ``hidden``, by default ``built``'s :func:`secrets`)."""
    hidden = secrets(built) if hidden is None else hidden
    if built.protocol in ("soap11", "soap12"):
        parsed = soap.parse(built.operation, built.protocol, body, hidden)
    else:
        parsed = http.parse(built.operation, built.protocol, body)
    if not isinstance(parsed, Fault):
        parsed = _checked(built, parsed, hidden)
    if status == 200:
        if isinstance(parsed, Malformed) and built.operation.name in REPLY_FETCHES:
            parsed = parsed._replace(answer=hidden.scrub(_text(body)))
        return Response(status, parsed)
    # The first line names the error page in messages (a 200's result needs none).
    lines = body[:400].decode("utf-8", "replace").strip().splitlines()
    return Response(status, parsed, hidden.scrub(lines[0]) if lines else "")


def unreadable(status: int, detail: str) -> Response:
    """A reply whose body could not be read whole (over its cap, an encoding not asked for)."""
    return Response(status, Malformed(detail))
