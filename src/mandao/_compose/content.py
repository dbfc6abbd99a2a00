"""What a text must be to go out: the client's content rules, the signature, GBK.

The ``content`` field's encoding lives in ``encoding``, what a text costs in ``segments``
(both importable from here too), the other fields' checks in ``fields``.

Everything here runs before a request is made, so a bad argument raises
:class:`~mandao.ValidationError` and nothing reaches the gateway. Each rule is written once,
over a list of texts: one text is a list of one, and 100,000 personalised texts take a few
C-level passes per rule (``benchmarks/compose.py``, "100k personalised").
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import compress, count, repeat
from operator import gt, not_
from typing import cast

from .._errors import ValidationError
from . import chunked
from .encoding import (
    control_in,
    control_in_name,
    encode_content,
    encode_contents,
    lone_surrogate,
    surrogate_message,
)
from .segments import (
    MAX_ASCII,
    MAX_WIDE,
    Estimate,
    estimate,
    measure_many,
    parts_of,
    segments,
    units_of,
)

__all__ = [
    "ContentRules",
    "Estimate",
    "UnencodableWarning",
    "apply_signature",
    "check_gbk",
    "check_signature",
    "choose_msgfmt",
    "encode_content",
    "encode_contents",
    "estimate",
    "measure_many",
    "outside",
    "segments",
    "validate_content",
]

_POSITIONS = ("end", "start")
_POLICIES = ("warn", "error", "allow")
#: msgfmt values whose text travels as GB (GBK); UCS2 (8) and binary carry anything.
_GB_FORMATS = frozenset({"", "15"})
#: A signature: 【, then at least one character that is neither bracket, then 】.
_SIGNED = re.compile(r"【[^【】]+】")
_SIGNED_END = re.compile(r"【[^【】]+】\Z")
_UNSIGNED = (
    "carries no 【signature】 and the client has none configured; add one, set "
    "Client(signature=...), or Client(require_signature=False)"
)


class UnencodableWarning(UserWarning):
    """Content holds characters GBK cannot carry; handsets may show them as ``?``."""


def check_signature(signature: object) -> str | None:
    """The ``signature`` setting as given, checked: text without brackets, or None."""
    if signature is None:
        return None
    if not isinstance(signature, str) or not signature.strip():
        raise ValidationError(f"expected non-empty text, got {signature!r}", argument="signature")
    why = control_in_name(signature)
    if "【" in signature or "】" in signature:
        why = "give the name without 【】 (they are added)"
    if why is None:
        return signature
    raise ValidationError(f"{why}, got {signature!r}", argument="signature")


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentRules:
    """The client's content settings, and the one path every text takes before it is sent.

    :meth:`prepare` checks the text, adds the signature, checks the length (signature
    counted), GBK and ``max_segments``, in that order.

    Raises:
        ValidationError: a setting is out of range (also through ``dataclasses.replace``).

    >>> rules = ContentRules(signature="示例", max_segments=1)
    >>> rules.prepare("验证码 1234", "")
    '验证码 1234【示例】'
    """

    signature: str | None = None
    signature_position: str = "end"
    require_signature: bool = True
    unencodable: str = "warn"
    max_segments: int | None = None

    def __post_init__(self) -> None:
        check_signature(self.signature)
        for name, value, allowed in (
            ("signature_position", self.signature_position, _POSITIONS),
            ("unencodable", self.unencodable, _POLICIES),
        ):
            if value not in allowed:
                raise ValidationError(
                    f"expected one of {', '.join(map(repr, allowed))}, got {value!r}",
                    argument=name,
                )
        limit = self.max_segments  # an int, not a bool (an int subclass)
        if limit is not None and (type(limit) is bool or not isinstance(limit, int) or limit < 1):
            raise ValidationError(
                f"expected a positive whole number or None, got {limit!r}", argument="max_segments"
            )

    def prepare(self, content: object, msgfmt: str, *, argument: str = "content") -> str:
        """The text as it will be sent, or a ValidationError naming ``argument``."""
        return self._prepare([content], msgfmt, lambda _: argument)[0]

    def prepare_many(
        self, contents: list[object], msgfmt: str, argument: str, positions: list[int]
    ) -> list[str]:
        """:meth:`prepare` for many texts at once: the same texts, warnings and error (for
        the first bad text). ``argument`` names a text by its position in the caller's list,
        ``argument.format(positions[i])`` (or ``i`` when ``positions`` is empty)."""
        return self._prepare(
            contents, msgfmt, lambda i: argument.format(positions[i] if positions else i)
        )

    def _prepare(
        self, contents: list[object], msgfmt: str, name: Callable[[int], str]
    ) -> list[str]:
        size = chunked.CHUNK
        if len(contents) <= size:
            return self._prepare_piece(contents, msgfmt, name)
        # Piece by piece (see chunked): each piece warns, then refuses its first bad text,
        # before the next is looked at; so the same warnings, in order, and the same error.
        texts: list[str] = []
        for start in range(0, len(contents), size):
            piece = contents[start : start + size]
            texts += self._prepare_piece(piece, msgfmt, _shifted(name, start))
        return texts

    def _prepare_piece(
        self, contents: list[object], msgfmt: str, name: Callable[[int], str]
    ) -> list[str]:
        checked = _validated(contents, name)
        self._sign(checked)
        _check_gbk(checked, msgfmt, self.unencodable)
        if self.max_segments is not None and checked.texts:
            parts = list(map(parts_of, checked.units, map(str.isascii, checked.texts)))
            bad = _first(map(gt, parts, repeat(self.max_segments)))
            if bad is not None:
                checked.refuse(
                    bad,
                    f"would bill {parts[bad]} segments per message; max_segments is "
                    f"{self.max_segments} ({checked.units[bad]} characters, signature counted)",
                )
        return checked.result()

    def _sign(self, checked: _Checked) -> None:
        """Add the signature to the texts that carry none, or refuse the first of them."""
        texts = checked.texts
        if checked.signed:
            return
        unsigned = list(compress(count(), map(not_, map(_SIGNED.search, texts))))
        if not unsigned:
            return
        if self.signature is None:
            if self.require_signature:
                checked.refuse(unsigned[0], _UNSIGNED)
            return
        texts = list(texts)  # the caller's list stays as it was given
        for index in unsigned:
            texts[index] = apply_signature(
                texts[index], self.signature, position=self.signature_position
            )
        checked.change(texts)
        _check_units(checked, unsigned)  # the signature counts towards the limit


class _Checked:
    """Texts partway through the rules: every text before the first one refused."""

    __slots__ = ("_joined", "name", "refused", "signed", "texts", "units", "warned")

    def __init__(self, texts: list[str], name: Callable[[int], str]) -> None:
        self.texts = texts
        self.units: list[int] = []  # each text's length in UTF-16 units, once measured
        self.name = name
        self.refused: ValidationError | None = None
        self.warned: list[tuple[int, str]] = []
        self.signed = False  # proven: every text carries one signature
        self._joined: str | None = None

    def joined(self) -> str:
        """The texts joined by NUL, made once per change: one text for the C-level passes.

        Raises TypeError when a text is not a ``str``."""
        if self._joined is None:
            self._joined = "\x00".join(self.texts)
        return self._joined

    def change(self, texts: list[str]) -> None:
        """Go on with ``texts`` in place of the texts checked so far."""
        self.texts, self._joined = texts, None

    def refuse(self, index: int, message: str) -> None:
        """Refuse the text at ``index``; the texts from it on are not checked further.

        Each rule runs on the texts left, so the last refusal is the first bad text, and
        that text passed every rule before the one refusing it, as text by text."""
        self.refused = ValidationError(message, argument=self.name(index))
        self.change(self.texts[:index])
        self.units = self.units[:index]

    def result(self) -> list[str]:
        """The texts; or, after the warnings of the texts up to it, the refusal."""
        last = len(self.texts)  # the refused text's index, when one was refused
        for index, message in self.warned:
            if index <= last:
                warnings.warn(
                    f"{self.name(index)}: {message}", UnencodableWarning, stacklevel=outside()
                )
        if self.refused is not None:
            raise self.refused
        return self.texts


def _shifted(name: Callable[[int], str], start: int) -> Callable[[int], str]:
    """``name`` of a text of a piece starting at ``start``, by its index in the piece."""
    return lambda index: name(start + index)


def _first(flags: Iterable[object]) -> int | None:
    """The index of the first true value in ``flags``, or None (C-level, stops there)."""
    return next(compress(count(), flags), None)


def outside() -> int:
    """The ``stacklevel`` that points a warning made by our caller at the first frame
    outside mandao: the user's send, not our internals."""
    frame, level = sys._getframe(2), 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("mandao."):
        frame, level = frame.f_back, level + 1
    return level


def _validated(contents: list[object], name: Callable[[int], str]) -> _Checked:
    """Refuse the first content that is not text, is empty, holds a lone surrogate, is
    longer than the gateway takes (-10) or holds a control character."""
    checked = _Checked(cast("list[str]", contents), name)  # cut before the first non-str
    try:
        checked.joined()
    except TypeError:
        bad = _first(map(not_, map(isinstance, contents, repeat(str))))
        if bad is not None:
            checked.refuse(bad, f"expected text (str), got {type(contents[bad]).__name__}")
    # A signed text is not blank: one proof for both rules (a strip per text costs more).
    checked.signed = bool(checked.texts) and _all_signed(checked.texts, checked.joined())
    if not checked.signed:
        bad = _first(map(not_, map(str.strip, checked.texts)))
        if bad is not None:
            checked.refuse(bad, "is empty")
    _check_units(checked)
    if (control := control_in(checked.texts, checked.joined())) is not None:
        checked.refuse(*control)
    return checked


def _check_units(checked: _Checked, at: list[int] | None = None) -> None:
    """Measure the texts (those ``at`` these indexes, or all) and refuse the first holding a
    lone surrogate or longer than the gateway takes (-10)."""
    texts = checked.texts if at is None else [checked.texts[i] for i in at]
    try:
        lengths = units_of(texts, errors="strict", joined=checked.joined() if at is None else None)
    except UnicodeEncodeError:
        sub, position = next(
            (i, p) for i, p in enumerate(map(lone_surrogate, texts)) if p is not None
        )
        checked.refuse(sub if at is None else at[sub], surrogate_message(position))
        texts = texts[:sub]
        lengths = units_of(texts)
    if at is None:
        checked.units = lengths
    else:
        for index, n in zip(at, lengths, strict=False):
            checked.units[index] = n
    if lengths and max(lengths) > MAX_WIDE:
        limits = [MAX_ASCII if text.isascii() else MAX_WIDE for text in texts]
        long = _first(map(gt, lengths, limits))
        if long is not None:
            checked.refuse(
                long if at is None else at[long],
                f"is {lengths[long]} characters; the gateway takes at most {limits[long]} "
                f"{'single-byte' if limits[long] == MAX_ASCII else 'double-byte'} characters "
                "(-10)",
            )


def _all_signed(texts: list[str], joined: str) -> bool:
    """Whether every text ends, or starts, with the first text's signature (the common
    case), by one count over ``joined`` (texts joined by NUL). False: look text by text."""
    n = len(texts)
    if joined.count("\x00") != n - 1:
        return False
    end = _SIGNED_END.search(texts[0])
    if end and joined.endswith(end[0]) and joined.count(end[0] + "\x00") == n - 1:
        return True
    start = _SIGNED.match(texts[0])
    return bool(start and joined.startswith(start[0]) and joined.count("\x00" + start[0]) == n - 1)


def _check_gbk(checked: _Checked, msgfmt: str, policy: str) -> None:
    """Refuse the first text, or warn of each, holding characters GBK cannot carry, when
    ``msgfmt`` is GB (``""`` picks GB for any text that is not ASCII)."""
    if policy == "allow" or msgfmt not in _GB_FORMATS:
        return
    joined = checked.joined()
    if joined.isascii():
        return
    try:
        joined.encode("gbk")
        return
    except UnicodeEncodeError:
        pass
    for index in [i for i, text in enumerate(checked.texts) if not _gbk_ok(text)]:
        text = checked.texts[index]
        bad = [(i, ch) for i, ch in enumerate(text) if not _gbk_ok(ch)]
        shown = ", ".join(f"#{i} {ch!r} (U+{ord(ch):04X})" for i, ch in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        message = (
            f"holds {len(bad)} character(s) GBK cannot carry: {shown}{more}; "
            "send with msgfmt=8 (UCS2) or remove them"
        )
        if policy == "error":
            checked.refuse(index, message)
            return
        checked.warned.append((index, message))


def _gbk_ok(text: str) -> bool:
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def validate_content(content: object, *, argument: str = "content") -> str:
    """Check that ``content`` is sendable text within the gateway's length limit (-10).

    Raises:
        ValidationError: not text, empty, a lone surrogate, or too long.
    """
    return _validated([content], lambda _: argument).result()[0]


def check_gbk(content: str, msgfmt: str, policy: str, *, argument: str = "content") -> None:
    """Report characters GBK cannot carry when ``msgfmt`` is GB, per ``policy``.

    ``policy`` is ``"error"`` (raise :class:`~mandao.ValidationError`), ``"warn"`` (an
    :class:`UnencodableWarning`) or ``"allow"``. Positions are in code points.
    """
    checked = _Checked([content], lambda _: argument)
    _check_gbk(checked, msgfmt, policy)
    checked.result()


def apply_signature(
    content: str,
    signature: str | None,
    *,
    position: str = "end",
    required: bool = True,
    argument: str = "content",
) -> str:
    """``content`` with ``【signature】`` added when it carries no ``【…】`` (vendor doc §3.2).

    Raises :class:`~mandao.ValidationError` when the content has no signature, none is
    configured and ``required`` is true.

    >>> apply_signature("验证码 1234", "示例")
    '验证码 1234【示例】'
    >>> apply_signature("【其他】验证码 1234", "示例")
    '【其他】验证码 1234'
    """
    if _SIGNED.search(content):
        return content
    if signature is None:
        if required:
            raise ValidationError(_UNSIGNED, argument=argument)
        return content
    tag = f"【{signature}】"
    return tag + content if position == "start" else content + tag


def choose_msgfmt(content: str, msgfmt: str) -> str:
    """The ``msgfmt`` to send: the one given, else ``0`` for ASCII text, ``15`` (GB) otherwise.

    >>> choose_msgfmt("code 1234", ""), choose_msgfmt("验证码", ""), choose_msgfmt("x", "8")
    ('0', '15', '8')
    """
    if msgfmt:
        return msgfmt
    return "0" if content.isascii() else "15"
