"""The gateway's result codes, as one table of data, and decoding a reply with it.

Every lookup goes through :data:`CODES`: what a code means (the vendor's Chinese text,
kept verbatim, and an English gloss), what the caller should do next, what kind of result
it is, whether it may be retried (on the same host: no code allows another), and which
exception it raises. The client decides what to raise and whether to retry by reading
these columns, never by testing code values in branches.

The rows are data modules of their own (:mod:`mandao._code_table`, where their sources
are described, and :mod:`mandao._code_table_params`); their type and enums are in
:mod:`mandao._code_info`. Run ``python -m mandao._codes`` to regenerate the table in
``docs/codes.md``.
"""

from __future__ import annotations

import contextlib
import re
import types
from collections.abc import Mapping, Sequence
from typing import cast

from ._code_info import Category, CodeInfo, RetryRule
from ._code_table import GENERAL_ROWS
from ._code_table_params import PARAMETER_ROWS
from ._errors import GatewayError, ProtocolError, UnknownCode, ValidationError

__all__ = [
    "CODES",
    "Category",
    "CodeInfo",
    "RetryRule",
    "decode",
    "error_for",
    "explain",
    "main",
    "markdown_table",
]

CODES: Mapping[int, CodeInfo] = types.MappingProxyType(
    {row.code: row for row in (*GENERAL_ROWS, *PARAMETER_ROWS)}
)
"""Every known result code, read-only: 0, 1, then the negative codes in ascending magnitude."""

_INTEGER = re.compile(r"-?[0-9]+")
#: A result code as the gateway writes one: ``-`` and ASCII digits, no leading zero.
#: ``-0``, ``-01`` or ``-\uff14`` are no code: the reply is undecodable, its outcome unknown.
_CODE = re.compile(r"-[1-9][0-9]*", re.ASCII)


_GRAMMARS: dict[str, re.Pattern[str]] = {}


def _grammar(success: str) -> re.Pattern[str]:
    """An operation's ``reply`` pattern, ASCII only: ``\\d`` is 0-9, never ``１２３``."""
    pattern = _GRAMMARS.get(success)
    if pattern is None:
        if len(_GRAMMARS) > 64:  # callers' own patterns: never more than a few
            _GRAMMARS.clear()
        pattern = _GRAMMARS[success] = re.compile(success, re.ASCII)
    return pattern


#: What a code's name looks like (as typed: any case, ``-`` or a space for ``_``).
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\- ]{0,60}")


def _by_name(name: str) -> CodeInfo:
    """The row named ``name``; a ValidationError naming the closest names if none is."""
    wanted = name.strip().upper().replace("-", "_").replace(" ", "_")
    for info in CODES.values():
        if info.name == wanted:
            return info
    import difflib

    close = difflib.get_close_matches(wanted, [i.name for i in CODES.values()], n=3)
    also = f"; did you mean {' or '.join(close)}?" if close else ""
    raise ValidationError(
        f"no result code is named {name.strip()!r}{also} (mandao.CODES lists them)",
        argument="code",
    )


def explain(code: int | str) -> CodeInfo:
    """Decode a result code, or a raw result string as the gateway sent it.

    Args:
        code: an int, a string such as ``"-20"`` (surrounding whitespace is ignored), or
            a code's name (``"DUPLICATE_SUBMISSION"``, any case, ``-`` or a space for ``_``).

    Returns:
        The table's row; for a value not in the table, a row with ``known=False``: an
        unknown negative code is category ``UNKNOWN`` (raised as :class:`UnknownCode`,
        not retried), a non-negative value is an id, category ``SUCCESS``. The value is
        kept in ``code``.

    Raises:
        ValidationError: ``code`` is not an int or a string holding one (``argument="code"``).

    Example::

        >>> explain(" -20 ").name
        'DUPLICATE_SUBMISSION'
    """
    value: int | None = None
    if isinstance(code, int) and not isinstance(code, bool):
        value = code
    elif isinstance(code, str) and _INTEGER.fullmatch(code.strip()):
        # int() refuses strings past sys.get_int_max_str_digits(); that is bad input too.
        with contextlib.suppress(ValueError):
            value = int(code.strip())
    if value is None and isinstance(code, str) and _NAME.fullmatch(code.strip()):
        return _by_name(code)
    if value is None:
        shown = code if not isinstance(code, str) or len(code) <= 40 else code[:40] + "..."
        raise ValidationError(f"not an integer result code: {shown!r}", argument="code")
    info = CODES.get(value)
    if info is not None:
        return info
    if value >= 0:
        return CodeInfo(
            value,
            "ID",
            "提交成功，返回值为编号",
            "",
            "Success: the value is an id (the rrid or the gateway's own), not a code.",
            "Keep the id: the gateway's delivery reports refer to it.",
            Category.SUCCESS,
            RetryRule.NO,
            None,
            "mandao",
            known=False,
        )
    return CodeInfo(
        value,
        "UNKNOWN",
        "未知返回值",
        "",
        "Unknown result code: in neither the vendor's table nor any known client's.",
        "Treat the request as failed and report the code and raw reply to the vendor's support.",
        Category.UNKNOWN,
        RetryRule.NO,
        UnknownCode,
        "mandao",
        known=False,
    )


def error_for(
    info: CodeInfo,
    *,
    raw: str,
    host: str | None,
    operation: str | None,
    rrid: str | None,
    recipients: Sequence[str] = (),
) -> GatewayError:
    """The exception of ``info``'s ``error`` column, carrying where it happened.

    A success row has no exception; given one, this is an :class:`UnknownCode` (the
    raw value is kept), as for any code the table cannot place.
    """
    cls = info.error if info.error is not None else UnknownCode
    error = cls(info, raw=raw, host=host, operation=operation, rrid=rrid, recipients=recipients)
    # The column holds GatewayError classes only; _code_info cannot name the class (it
    # would import _errors, which imports it), so the type is restored here.
    return cast("GatewayError", error)


def decode(
    raw: str,
    *,
    success: str,
    host: str,
    operation: str,
    rrid: str | None = None,
    recipients: Sequence[str] = (),
    shown: str | None = None,
) -> str:
    """``raw`` if it matches the regular expression ``success``; else raise what it means.

    ``success`` is matched in ASCII mode (``\\d`` is 0-9 only); a code is ``-`` and ASCII
    digits without a leading zero. ``shown``: ``raw`` as an error message may show it
    (scrubbed of the request's secrets); ``raw`` itself by default.

    Raises:
        GatewayError: ``raw`` is a negative code: the subclass its ``error`` column names.
        ProtocolError: anything else (an error page through a proxy, a truncated reply,
            ``-0``); the request went out, so its outcome is unknown.

    Example::

        >>> decode("210936472831121439", success=r"\\d{1,18}", host="h", operation="mdsmssend")
        '210936472831121439'
        >>> decode("-4", success=r"\\d{1,18}", host="h", operation="mdsmssend")
        Traceback (most recent call last):
        ...
        mandao._errors.InsufficientBalance: -4 The balance does not cover this send. → ...
    """
    # A code first: some operations' results (mo's lines) would match it too.
    coded = _CODE.fullmatch(raw) is not None
    if not coded and _grammar(success).fullmatch(raw):
        return raw
    info: CodeInfo | None = None
    if coded:
        with contextlib.suppress(ValidationError):
            info = explain(raw)
    if info is None:
        text = raw if shown is None else shown
        raise ProtocolError(
            f"the reply {text[:60]!r} is neither a result nor a code",
            host=host,
            operation=operation,
            rrid=rrid,
            recipients=recipients,
        )
    raise error_for(info, raw=raw, host=host, operation=operation, rrid=rrid, recipients=recipients)


BEGIN_MARKER = "<!-- codes:begin -->"
END_MARKER = "<!-- codes:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """Render :data:`CODES` as the Markdown table of ``docs/codes.md`` (ends with a newline)."""
    header = (
        "| Code | Name | 返回值说明 | 问题描述 | English | Next step "
        "| Category | Retry | Raises | Source |"
    )
    lines = [header, "|" + "---|" * 10]
    for info in CODES.values():
        cells = (
            f"`{info.code}`",
            f"`{info.name}`",
            info.chinese,
            info.hint_zh,
            info.english,
            info.hint_en,
            info.category.value,
            info.retry.value,
            f"`{info.error.__name__}`" if info.error is not None else "—",
            info.source,
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _splice(document: str, table: str) -> str:
    """Put ``table`` between the markers of ``document``; ValueError if they are missing."""
    start = document.find(BEGIN_MARKER)
    end = document.find(END_MARKER, start)
    if start < 0 or end < 0:
        raise ValueError(f"markers {BEGIN_MARKER} and {END_MARKER} not found, in this order")
    head = document[: start + len(BEGIN_MARKER)]
    return f"{head}\n{table}{document[end:]}"


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or with ``--check``, verify) the generated table in ``docs/codes.md``."""
    import argparse  # only the command line needs it; `import mandao` stays light
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="python -m mandao._codes",
        description="Regenerate the result-code table between the markers of a Markdown file.",
    )
    parser.add_argument("path", nargs="?", default="docs/codes.md", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    path: Path = args.path
    old = path.read_text(encoding="utf-8")
    try:
        new = _splice(old, markdown_table())
    except ValueError as exc:
        parser.error(f"{path}: {exc}")
    if new == old:
        return 0
    if args.check:
        print(f"{path} is stale; run: python -m mandao._codes {path}")
        return 1
    path.write_text(new, encoding="utf-8")
    print(f"rewrote the code table in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
