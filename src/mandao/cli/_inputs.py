"""What an operator types or gives, read as the commands need it: times, numbers, files.

- A delivery time (``--at``, a file's ``at``): ``2026-11-26 09:00[:00]`` or with slashes,
  China time; the same forms for ``send`` and ``send-file``.
- A point in time to read the journal from (``--since``, ``--until``): an ISO date or
  time, ``today``, ``yesterday``, or a duration ago (``2h``, ``3 days``).
- A text file (``send --file``, a CSV): UTF-8 with or without BOM, UTF-16, GBK, GB18030.
- Numbers from a file or stdin, each with where it came from (``staff.txt line 3``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .._errors import ConfigError, ValidationError
from ._output import Refusal

__all__ = [
    "AT_FORMATS",
    "FALLBACKS",
    "Numbers",
    "decode",
    "delivery_time",
    "parse_numbers",
    "point_in_time",
]

#: Delivery times as people and spreadsheets write them (China time); seconds optional.
AT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
#: The same dates with no time of day: refused, saying to add one (not sent at midnight).
_DATES = ("%Y-%m-%d", "%Y/%m/%d")
#: Encodings tried in order when the file has no BOM and is not UTF-8: a guess. GB18030
#: contains GBK, so GBK is named when it is enough (what Excel on a Chinese Windows writes).
FALLBACKS = ("gbk", "gb18030")
#: The bytes that open a character of 3 bytes in UTF-8 (U+0800 to U+FFFF: Chinese).
_OPENS_3 = bytes(range(0xE0, 0xF0))
#: The bytes that open no character of 2 bytes or more in UTF-8 (ASCII, continuations).
_NO_OPENER = bytes(range(0xC0))
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8", "utf-8 (with BOM)"),
    (b"\xff\xfe", "utf-16-le", "utf-16"),
    (b"\xfe\xff", "utf-16-be", "utf-16"),
)


def delivery_time(value: str, *, argument: str = "--at") -> datetime | None:
    """``value`` as a naive China-time datetime, None for an empty one.

    >>> delivery_time("2026-12-26 09:00")
    datetime.datetime(2026, 12, 26, 9, 0)

    Raises:
        ValidationError: none of :data:`AT_FORMATS`, naming ``argument``; a date with no
            time (a CSV's, or a sheet's cell formatted as a date) says to add one.
    """
    value = value.strip()
    if not value:
        return None
    if (at := _parsed(value, AT_FORMATS)) is not None:
        return at
    expected = f"expected 'yyyy-MM-dd HH:mm[:ss]' (China time), got {value!r}"
    if _parsed(value, _DATES) is not None:
        expected += (
            f", a date with no time of day: add the time to send at ('{value} 09:00'); a "
            "date alone is not sent at midnight"
        )
        if argument != "--at":  # a file's column: a spreadsheet's date format drops the time
            expected += "; in a spreadsheet, format the column as date and time"
    raise ValidationError(expected, argument=argument)


def _parsed(value: str, formats: Iterable[str]) -> datetime | None:
    """``value`` read by the first of ``formats`` that reads it; None if none does."""
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def point_in_time(value: str, *, argument: str, now: datetime | None = None) -> datetime:
    """A bound of a journal query: an ISO date or time (naive = China time), ``now``,
    ``today``, ``yesterday`` (midnight China time), or a duration ago (``2h``, ``3 days``).

    Raises:
        Refusal: none of those, naming ``argument`` and the forms it takes.
    """
    from .._compose.fields import CHINA

    now = now or datetime.now(UTC)
    text = value.strip().lower()
    midnight = now.astimezone(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    named = {"now": now, "today": midnight, "yesterday": midnight - timedelta(days=1)}
    if text in named:
        return named[text]
    try:
        found = datetime.fromisoformat(value.strip())
        return found if found.tzinfo else found.replace(tzinfo=CHINA)
    except ValueError:
        pass
    from .._config_file import parse_duration

    try:
        return now - timedelta(seconds=parse_duration(text, where=argument))
    except ConfigError:
        raise Refusal(
            f"expected a date (2026-11-01), a time (2026-11-01 09:00, China time), today, "
            f"yesterday, or a time ago (2h, 3 days), got {value!r}",
            argument=argument,
        ) from None


def decode(raw: bytes, name: str) -> tuple[str, str]:
    """The file's text and the encoding it was read in (a BOM's, else UTF-8, GBK, GB18030).

    >>> decode("手机".encode("utf-16"), "a.csv")
    ('手机', 'utf-16')

    Raises:
        Refusal: a text no encoding reads (naming the file ``name``).
    """
    for bom, encoding, shown in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(encoding), shown
            except UnicodeDecodeError as exc:
                if encoding != "utf-8":
                    raise Refusal(f"not valid {shown}: {exc.reason}", argument=name) from None
                where = _lines_not_utf8(raw[len(bom) :], exc.start)
                raise Refusal(
                    f"{where}, though the file starts as UTF-8 (its BOM says so): mend them, "
                    "or save the whole file as UTF-8",
                    argument=name,
                ) from None
    if len(raw) >= 4 and raw[1::2].count(0) > len(raw) // 4 and raw[0::2].count(0) == 0:
        try:  # UTF-16 without a BOM: every other byte is zero in ASCII-heavy text
            return raw.decode("utf-16-le"), "utf-16-le"
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        start, bad = exc.start, _not_utf8(raw, exc.start)
    if bad is not None:
        raise Refusal(
            f"{bad}, though the rest is UTF-8 (a cell or rows pasted from a file of another "
            "encoding?): mend them, or save the whole file as UTF-8; it is not read as GBK, "
            "which would send the rest garbled",
            argument=name,
        )
    for encoding in FALLBACKS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    # A stray byte in an ASCII file, before a line break or a byte GBK cannot pair it with.
    raise Refusal(
        f"{_lines_not_utf8(raw, start)}, and the file is not GBK/GB18030 (nor UTF-16) "
        "either: mend them, or save the file as UTF-8",
        argument=name,
    )


def _not_utf8(raw: bytes, start: int) -> str | None:
    """Where text ``raw``, not UTF-8 from byte ``start`` on, is not UTF-8, when it is UTF-8
    in part: a line of it is UTF-8 holding a character of 3 bytes (Chinese among them), or
    the whole holds more characters of UTF-8 beyond ASCII (accents, emoji) than bytes UTF-8
    refuses. GBK text almost never
    does either by chance: this is a UTF-8 file with stray bytes or with rows of another
    encoding, not a GBK one. The lines that are not UTF-8 (the first by its first such
    byte); None for a file that is not UTF-8 in part.

    >>> _not_utf8("你好，Jos".encode() + bytes([0xE9]) + "a 再见".encode(), 12)
    'line 1: byte 0xE9 is not UTF-8'
    >>> _not_utf8("你好\\n".encode() + "你好\\n你\\n好".encode("gbk"), 7)
    'line 2: byte 0xC4 is not UTF-8, nor are lines 3, 4'
    >>> _not_utf8("你好\\r".encode() + "你好\\r你".encode("gbk"), 7)  # Excel for Mac's line ends
    'line 2: byte 0xC4 is not UTF-8, nor is line 3'
    >>> _not_utf8("Café, José 🎉\\nJos".encode() + bytes([0xE9]) + b"a", 21)
    'line 2: byte 0xE9 is not UTF-8'
    >>> _not_utf8("你好".encode("gbk"), 0) is None
    True
    """
    valid = raw.decode("utf-8", "ignore").encode()
    wide = len(valid.translate(None, _NO_OPENER))  # characters of UTF-8 beyond ASCII
    lines = raw.splitlines()
    if wide <= len(raw) - len(valid) and not any(map(_utf8_with_3_bytes, lines)):
        return None
    return _lines_not_utf8(raw, start)


def _lines_not_utf8(raw: bytes, start: int) -> str:
    """The lines of ``raw`` that are not UTF-8, the first by its first such byte (at
    ``start``)."""
    bad = [number for number, line in enumerate(raw.splitlines(), start=1) if not _utf8(line)]
    first = f"line {bad[0]}: byte 0x{raw[start]:02X} is not UTF-8"
    if len(bad) == 1:
        return first
    others = ", ".join(str(number) for number in bad[1:4])
    more = f" and {len(bad) - 4} more" if len(bad) > 4 else ""
    return f"{first}, nor {'is line' if len(bad) == 2 else 'are lines'} {others}{more}"


def _utf8(line: bytes) -> bool:
    """Whether ``line`` is UTF-8."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf8_with_3_bytes(line: bytes) -> bool:
    """Whether ``line`` is UTF-8 holding a character of 3 bytes (GBK text makes such a
    line only by chance, and only a short one)."""
    return not line.isascii() and line.translate(None, _OPENS_3) != line and _utf8(line)


@dataclass
class Numbers:
    """Numbers as given, each with where it came from, for messages that name them."""

    values: list[str]
    origins: list[str]

    def add(self, values: list[tuple[str, str]]) -> None:
        """Append ``(number, origin)`` pairs."""
        for value, origin in values:
            self.values.append(value)
            self.origins.append(origin)

    def where(self, position: int) -> str:
        """Where the number at ``position`` (0-based, as the library counts) came from."""
        if 0 <= position < len(self.origins):
            return self.origins[position]
        return f"number {position + 1}"


_SEPARATORS = re.compile(r"[,;，；]")


def parse_numbers(text: str, source: str) -> list[tuple[str, str]]:
    """Numbers from a file's text: one a line, or separated by commas (``#`` starts a
    comment), each with its origin (``SOURCE line N``).

    Spaces inside one number (``139 0013 9000``) are kept only when the line holds one.

    >>> parse_numbers("# staff\\n13800138000\\n139 0013 9000, 13700137000\\n", "s.txt")
    [('13800138000', 's.txt line 2'), ('139 0013 9000', 's.txt line 3'), ('13700137000', 's.txt line 3')]
    """  # noqa: E501
    found: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        origin = f"{source} line {number}"
        parts = _SEPARATORS.split(line) if _SEPARATORS.search(line) else [line]
        found.extend((p.strip(), origin) for p in parts if p.strip())
    return found
