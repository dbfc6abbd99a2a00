"""A reply's body, read as it arrives: capped, and decompressed by us, a bounded step at a time.

Both transports hand the raw bytes (as the server sent them, content encoding and all) to
a :class:`Body`. It counts them against the operation's cap, and decompresses gzip and
deflate itself with a bound on every step's output: a gzip bomb (200 KB that would
expand to 200 MiB) is stopped at the cap, never expanded whole, whatever the version of
urllib3 or httpx below. Any other encoding is refused: mandao asks for these two only
(:data:`ACCEPT_ENCODING`).
"""

from __future__ import annotations

import zlib

__all__ = ["ACCEPT_ENCODING", "Body", "BodyError", "TooLarge"]

#: What mandao asks a server to encode a reply with: what :class:`Body` decodes.
ACCEPT_ENCODING = "gzip, deflate"

_GZIP = 16 + zlib.MAX_WBITS


class BodyError(Exception):
    """The body cannot be read: an encoding we did not ask for, or a broken stream."""


class TooLarge(BodyError):
    """The body is over its cap (raw, or once decompressed)."""


class _Inflate:
    """One content coding's decompressor: gzip (several members too) or deflate."""

    def __init__(self, coding: str) -> None:
        self._gzip = coding in ("gzip", "x-gzip")
        self._raw_deflate = False  # servers send "deflate" zlib-wrapped or raw: we see
        self._started = False
        self._carry = b""  # the next gzip member's start, not yet decompressed
        self._inflater = self._new()

    def _new(self) -> zlib._Decompress:
        if self._gzip:
            return zlib.decompressobj(_GZIP)
        return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)

    def step(self, data: bytes, limit: int) -> bytes:
        """At most ``limit`` (1 or more) bytes decompressed from what is left and ``data``."""
        pending, self._carry = self._carry + self._inflater.unconsumed_tail + data, b""
        out = b""
        while True:
            try:
                # max_length is at least 1 here: 0 would mean no bound at all.
                out += self._inflater.decompress(pending, limit - len(out))
            except zlib.error:
                if self._gzip or self._started or self._raw_deflate:
                    raise BodyError("the reply's compressed stream is broken") from None
                self._raw_deflate, self._inflater = True, self._new()
                continue
            self._started = True
            if not (self._gzip and self._inflater.eof and self._inflater.unused_data):
                return out
            pending, self._inflater = self._inflater.unused_data, self._new()  # next member
            if len(out) >= limit:
                self._carry = pending
                return out

    def pending(self) -> bool:
        """Whether input is left that a step with room would decompress."""
        return bool(self._carry or self._inflater.unconsumed_tail)

    def finish(self) -> None:
        if self._started and not self._inflater.eof:
            raise BodyError("the reply's compressed stream is truncated")


class Body:
    """The body of one reply, fed raw chunks as they arrive; :meth:`finish` gives it whole.

    Args:
        cap: most bytes it may hold, raw or decompressed.
        encoding: the reply's ``Content-Encoding`` header, if any.
        what: names the reply in messages (the operation).

    Raises:
        TooLarge: the body passed ``cap`` (raised as soon as it does).
        BodyError: an encoding other than gzip, deflate or identity, or a broken stream.
    """

    __slots__ = ("_cap", "_chunks", "_codings", "_raw", "_size", "_what")

    def __init__(self, cap: int, encoding: str | None, what: str) -> None:
        self._cap, self._what = cap, what
        self._raw = self._size = 0
        self._chunks: list[bytes] = []
        codings = [c.strip().lower() for c in (encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        unknown = [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise BodyError(f"the reply's content encoding {unknown[0][:40]!r} was not asked for")
        # The last coding listed was applied last: it comes off first.
        self._codings = [_Inflate(c) for c in reversed(codings)]

    def _too_large(self) -> TooLarge:
        return TooLarge(f"the reply to {self._what} is over its cap of {self._cap:,} bytes")

    def feed(self, chunk: bytes) -> None:
        """Add ``chunk`` (raw bytes as received)."""
        self._raw += len(chunk)
        if self._raw > self._cap:
            raise self._too_large()
        if not self._codings:
            self._keep(chunk)
            return
        self._inflate(chunk, 0)

    def _inflate(self, data: bytes, stage: int) -> None:
        coding = self._codings[stage]
        while True:
            room = self._cap - self._size + 1  # one more than fits: a reply at the cap is fine
            out = coding.step(data, room)
            data = b""
            if stage + 1 < len(self._codings):
                if out:
                    self._inflate(out, stage + 1)
            else:
                self._keep(out)
            if not coding.pending():
                return

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._cap:
            raise self._too_large()
        if data:
            self._chunks.append(data)

    def finish(self) -> bytes:
        """The whole body, decompressed; raises BodyError for a truncated stream."""
        for coding in self._codings:
            coding.finish()
        return b"".join(self._chunks)
