"""The client's content settings, checked when a Client is made.

The checks that use them (signature, length, GBK, segments) live in ``_compose`` and load
with the first send; this module stays small so that making a Client stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from ._errors import ValidationError

__all__ = ["ContentRules", "check_signature"]

_POSITIONS = ("end", "start")
_POLICIES = ("warn", "error", "allow")


def check_signature(signature: object) -> str | None:
    """The ``signature`` setting as given, checked: text without brackets, or None."""
    if signature is None:
        return None
    if not isinstance(signature, str) or not signature.strip():
        raise ValidationError(f"expected non-empty text, got {signature!r}", argument="signature")
    if "【" in signature or "】" in signature:
        raise ValidationError(
            f"give the name without 【】 (they are added), got {signature!r}", argument="signature"
        )
    return signature


class _Fields(NamedTuple):
    signature: str | None = None
    signature_position: str = "end"
    require_signature: bool = True
    unencodable: str = "warn"
    max_segments: int | None = None


class ContentRules(_Fields):
    """The client's content settings, and the one path every text takes before it is sent.

    ``prepare`` checks the text, adds the signature, checks length (signature counted),
    GBK and ``max_segments``, in that order.
    """

    # A NamedTuple, not a dataclass, as Timeouts: a Client is made at start-up.
    __slots__ = ()

    def __new__(
        cls,
        signature: str | None = None,
        signature_position: str = "end",
        require_signature: bool = True,
        unencodable: str = "warn",
        max_segments: int | None = None,
    ) -> ContentRules:
        check_signature(signature)
        for name, value, allowed in (
            ("signature_position", signature_position, _POSITIONS),
            ("unencodable", unencodable, _POLICIES),
        ):
            if value not in allowed:
                raise ValidationError(
                    f"expected one of {', '.join(map(repr, allowed))}, got {value!r}",
                    argument=name,
                )
        limit = max_segments
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ValidationError(
                f"expected a positive whole number or None, got {limit!r}", argument="max_segments"
            )
        return super().__new__(
            cls, signature, signature_position, require_signature, unencodable, max_segments
        )

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Any:  # type: ignore[override]
        # What _replace builds with: through __new__, so its values are checked too.
        return cls(*iterable)

    def prepare(self, content: object, msgfmt: str, *, argument: str = "content") -> str:
        """The text as it will be sent, or a ValidationError naming ``argument``."""
        from ._compose import prepare_text

        return prepare_text(self, content, msgfmt, argument=argument)

    def prepare_many(
        self, contents: list[object], msgfmt: str, argument: str, positions: list[int]
    ) -> list[str]:
        """:meth:`prepare` for many texts at once (see ``_compose.prepare_texts``)."""
        from ._compose import prepare_texts

        return prepare_texts(self, contents, msgfmt, argument, positions)
