"""Random replies through every protocol's parser: only mandao's outcomes, never a crash.

``codec.response`` must turn any bytes into a Response (a result, a fault or Malformed),
``Body`` any bytes in any content encoding into a body or a BodyError, and
``_codes.decode`` any text into a value or a mandao exception.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mandao
from mandao._codes import decode
from mandao._core.wire import Fault, Malformed, Response, Result, classify
from mandao._operations import OPERATIONS, PROTOCOLS, Operation, Protocol
from mandao._transports import codec
from mandao._transports.body import Body, BodyError
from mandao._transports.wsdl import Built
from mandao._wsdl import ACCOUNT

SN, PASSWORD = "SDK-TST-010-00001", "s3cr3t-Pass"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = ("mdsmssend", "mdgetSninfo", "balance", "Register", "RECSMS_UTF8")
ENVELOPES = {
    "soap11": "http://schemas.xmlsoap.org/soap/envelope/",
    "soap12": "http://www.w3.org/2003/05/soap-envelope",
}


@functools.cache
def built(protocol: Protocol, name: str) -> Built:
    """``name``'s request for ``protocol``, as a client builds it (RECSMS_UTF8 by hand: the
    operation has no row yet)."""
    if name == "RECSMS_UTF8":
        op = Operation(name, ACCOUNT, ("sn", "pwd"), "plain")
        return Built(protocol, op, {"sn": SN, "pwd": PASSWORD}, {})
    client = mandao.Client(SN, PASSWORD, protocol=protocol, journal=None)
    op = OPERATIONS[name]
    values = {"mobile": "13800138000", "content": "x【示例】"} if name == "mdsmssend" else {}
    if name == "Register":
        values = dict.fromkeys(op.params[2:], "x")
    return client._build(op, values, client._credentials.pwd(op.pwd))


def shaped(protocol: str, name: str, inner: str) -> bytes:
    """``inner`` where the protocol's result goes: random text in a plausible reply."""
    space = "http://entinfo.cn/" if name in ("mdsmssend", "mdgetSninfo") else "http://tempuri.org/"
    if protocol in ENVELOPES:
        return (
            f'<s:Envelope xmlns:s="{ENVELOPES[protocol]}"><s:Body><{name}Response xmlns="{space}">'
            f"<{name}Result>{inner}</{name}Result></{name}Response></s:Body></s:Envelope>"
        ).encode("utf-8", "surrogatepass")
    return f'<string xmlns="{space}">{inner}</string>'.encode("utf-8", "surrogatepass")


_MARKUP = st.sampled_from(
    ["<!--c-->", "<?p x?>", "<b/>", "&amp;", "&x;", "<![CDATA[1]]>", "<MOBody>", "</MOBody>",
     "<total_num>-1</total_num>", "<content>%E7</content>", "<s:Fault>", "]]>", "<", "&#0;"]
)  # fmt: skip
_INNER = st.lists(st.one_of(st.text(max_size=20), _MARKUP), max_size=8).map("".join)


def _check(response: Response) -> None:
    assert isinstance(response, Response)
    assert isinstance(response.body, (Result, Fault, Malformed))
    outcome = classify(response, host="h", operation="x", rrid=None, recipients=())
    assert outcome is not None


@FUZZ
@given(
    protocol=st.sampled_from(PROTOCOLS),
    name=st.sampled_from(NAMES),
    status=st.sampled_from([200, 200, 302, 404, 500]),
    body=st.binary(max_size=300),
)
def test_random_bytes_are_a_response(
    protocol: Protocol, name: str, status: int, body: bytes
) -> None:
    """Any bytes, any status, any protocol and operation: a Response, classified."""
    _check(codec.response(built(protocol, name), status, body))


@FUZZ
@given(
    protocol=st.sampled_from(PROTOCOLS), name=st.sampled_from(NAMES), inner=_INNER
)  # fmt: skip
def test_random_results_in_a_plausible_reply_are_a_response(
    protocol: Protocol, name: str, inner: str
) -> None:
    """Random text and markup where the result goes: a Response, and its result decodes to
    a value or a mandao exception."""
    response = codec.response(built(protocol, name), 200, shaped(protocol, name, inner))
    _check(response)
    if isinstance(response.body, Result):
        op = OPERATIONS.get(name)
        with contextlib.suppress(mandao.MandaoError):
            decode(response.body.text.strip(), success=op.reply if op else r"\d{1,18}", host="h",
                   operation=name)  # fmt: skip


@FUZZ
@given(raw=st.text(max_size=40), success=st.sampled_from([r"\d{1,18}", r"(?s)\{.*\}|\d+"]))
def test_any_result_text_decodes_to_a_value_or_a_mandao_error(raw: str, success: str) -> None:
    """decode gives back a value matching the grammar (ASCII digits only) or raises a
    GatewayError or ProtocolError: nothing else."""
    try:
        value = decode(raw, success=success, host="h", operation="x")
    except (mandao.GatewayError, mandao.ProtocolError):
        return
    assert value == raw
    assert value.isascii()


@FUZZ
@given(
    data=st.binary(max_size=400),
    encoding=st.sampled_from([None, "gzip", "deflate", "gzip, gzip", "br", "identity", "x"]),
    pack=st.booleans(),
    cap=st.integers(1, 600),
    cut=st.integers(1, 64),
)
def test_a_body_in_any_encoding_is_read_or_refused(
    data: bytes, encoding: str | None, pack: bool, cap: int, cut: int
) -> None:
    """Random bytes, packed or not, fed in random pieces: the body, or a BodyError."""
    if pack and encoding in ("gzip", "gzip, gzip"):
        payload = (
            gzip.compress(gzip.compress(data)) if encoding == "gzip, gzip" else gzip.compress(data)
        )
    elif pack and encoding == "deflate":
        payload = zlib.compress(data)
    else:
        payload = data
    try:
        body = Body(cap, encoding, "x")
        for i in range(0, len(payload), cut):
            body.feed(payload[i : i + cut])
        whole = body.finish()
    except BodyError:
        return
    assert len(whole) <= cap
    if pack and encoding in ("gzip", "deflate", "gzip, gzip"):
        assert whole == data
