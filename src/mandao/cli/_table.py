"""Reading a campaign table: CSV or Excel, into records with their line/row numbers.

A CSV file is read as UTF-8 (with or without BOM), UTF-16, or GBK (what Excel on a Chinese
Windows exports); an ``.xlsx`` or ``.xlsm`` workbook (its first sheet, or a named one)
through openpyxl, the ``excel`` extra, imported only for such a file. Both become the same
records (sheet cells as their CSV export would read: ``13800138000``, not
``13800138000.0``), numbered by line or sheet row, so ``send-file`` does not know which it
was read from. The header names the columns in English or Chinese (``手机号码,短信内容``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .._errors import ConfigError, ValidationError
from ._inputs import FALLBACKS
from ._inputs import decode as decode_text
from ._output import Refusal

__all__ = [
    "AT_FORMAT",
    "COLUMNS",
    "HEADERS",
    "SHEET_SUFFIXES",
    "ErrorCell",
    "Record",
    "csv_rows",
    "decode",
    "first_of",
    "read_sheet",
    "records_of",
    "sample_line",
]


class ErrorCell(str):
    """A workbook cell whose value is an error (``#N/A``, a formula's saved value or
    typed as a value): its text, which is not one to send, and its reference (``B2``).
    ``check_rows`` makes its row a bad one."""

    cell: str

    def __new__(cls, value: str, cell: str) -> ErrorCell:
        made = super().__new__(cls, value)
        made.cell = cell
        return made


#: Columns a file may have; the first two are required.
COLUMNS = ("mobile", "content", "ext", "at")
#: What a header cell may say for each column (any case; spaces around ignored).
HEADERS: dict[str, tuple[str, ...]] = {
    "mobile": ("mobile", "手机号码", "手机号", "手机", "号码"),
    "content": ("content", "短信内容", "内容", "短信"),
    "ext": ("ext", "扩展号", "扩展码", "扩展"),
    "at": ("at", "定时时间", "发送时间", "定时"),
}
_COLUMN_OF = {name: column for column, names in HEADERS.items() for name in names}
#: Names a header is likely to give a column by, that difflib would not lead to it
#: (``text`` is nearest ``ext``; ``send`` takes the content as ``--text``).
_LIKELY = {"text": "content", "message": "content", "sms": "content", "phone": "mobile",
           "电话": "手机号码"}  # fmt: skip
#: How a date-and-time cell is written out: the first ``at`` form send-file accepts.
AT_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Workbooks read through openpyxl (the ``excel`` extra); any other file is read as CSV.
SHEET_SUFFIXES = (".xlsx", ".xlsm")
#: What in an Excel number format is not a date or time code: [locale], "text", \x.
_FORMAT_LITERALS = re.compile(r'\[[^\]]*\]|"[^"]*"|\\.')

#: (line or sheet row, {column: value}, more cells than the header has columns)
Record = tuple[int, dict[str, str], bool]


def decode(raw: bytes, name: str = "FILE") -> tuple[str, str]:
    """The file's text and the encoding it was read in (see :func:`._inputs.decode`).

    >>> decode("手机".encode("gbk"))
    ('手机', 'gbk')
    """
    return decode_text(raw, name)


def sample_line(text: str, encoding: str, name: str = "FILE") -> str | None:
    """For a CSV file whose encoding was a guess (GBK or GB18030: no BOM, not UTF-8), its
    first cell below the header that holds more than ASCII, as read, for the operator to
    see whether the guess is right (a Latin-1 ``é`` reads as half of a Chinese character).
    None for an encoding that was no guess, or a file of ASCII only.

    >>> print(sample_line("mobile,content\\n13900001122,Hello Jos閍\\n", "gbk"))
      line 2 as gbk: "Hello Jos閍" (if that is garbled, save the file as UTF-8 and run again)
    """
    if encoding not in FALLBACKS:
        return None
    rows = csv_rows(text, name)
    next(rows, None)  # the header
    for line, cells in rows:
        for cell in cells:
            if not cell.isascii():
                start = max(0, next(i for i, c in enumerate(cell) if not c.isascii()) - 20)
                shown = ("…" if start else "") + cell[start : start + 40]
                shown += "…" if len(cell) > start + 40 else ""
                return (
                    f'  line {line} as {encoding}: "{shown}" '
                    "(if that is garbled, save the file as UTF-8 and run again)"
                )
    return None


def csv_rows(text: str, name: str = "FILE") -> Iterator[tuple[int, list[str]]]:
    """Each CSV record of ``text`` with the line it starts on. Cells are split by commas,
    or by tabs when the header has tabs and no comma (Excel's "Unicode text" export).

    Raises:
        Refusal: a quoted cell that no quote closes (it would hold the rest of the file),
            or a record the reader cannot take (naming the file ``name`` and the line).
    """
    lines = io.StringIO(text, newline="").readlines()  # as the reader counts them
    header = lines[0] if lines else ""
    delimiter = "\t" if "\t" in header and "," not in header else ","
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        line = reader.line_num + 1  # where the record starts (a quoted cell may span lines)
        try:
            cells = next(reader, None)
        except csv.Error as exc:  # a cell over the reader's limit: the rest of the file?
            raise _unterminated(lines, line, name, delimiter) or Refusal(
                f"line {line}: not CSV the reader can take ({exc})", argument=name
            ) from None
        if cells is None:
            return
        last = reader.line_num == len(lines)  # did the last record end inside a quote?
        if last and (unclosed := _unterminated(lines, line, name, delimiter)):
            raise unclosed
        yield line, cells


def _unterminated(lines: list[str], start: int, name: str, delimiter: str) -> Refusal | None:
    """The refusal of a quoted cell in the record from line ``start`` to the end of the
    file that no quote closes, as Excel's dialect reads it with cells split by
    ``delimiter`` (a cell that starts with ``"`` runs to the next ``"`` not doubled);
    None when every quoted cell closes."""
    ends = delimiter + "\r\n"
    state, opened = "start", 0
    for number, text in enumerate(lines[start - 1 :], start=start):
        for char in text:
            if state == "quoted":
                state = "closed" if char == '"' else state
            elif state == "closed" and char == '"':
                state = "quoted"  # "" inside a quoted cell: one quote
            elif char in ends:
                state = "start"
            elif state == "start" and char == '"':
                state, opened = "quoted", number
            else:
                state = "cell"
    if state != "quoted":
        return None
    rest = f"lines {opened}-{len(lines)}" if opened < len(lines) else f"line {opened}"
    return Refusal(
        f'unterminated quote from line {opened}: a cell there starts with " and no " closes '
        f"it, so {rest}, the rest of the file, would be read as that one cell; close the "
        'quote, or take it out (a quote inside a quoted cell is written "")',
        argument=name,
    )


def read_sheet(path: Path, sheet: str | None = None) -> tuple[list[tuple[int, list[str]]], str]:
    """The non-empty rows of a workbook's first sheet (or ``sheet``), numbered by sheet
    row, each cell as text a CSV export would hold; and the sheet's name.

    Raises:
        ConfigError: openpyxl (the ``excel`` extra) is not installed.
        ValidationError: not a workbook openpyxl can read, or no such sheet.
    """
    if (other := _not_a_workbook(path)) is not None:
        raise other
    try:
        from openpyxl import load_workbook
    except ImportError:
        raise ConfigError(
            f'reading {path.name} needs openpyxl: pip install "mandao[excel]" '
            "(or save the sheet as CSV)",
            remedy_included=True,
        ) from None
    try:
        # Formulas as written first: a sheet without any (the usual one) is read once.
        cells, title, formulas = _read(load_workbook, path, sheet, data_only=False)
        if formulas:
            # The values the program that saved the workbook computed, for those cells.
            values, _, _ = _read(load_workbook, path, title, data_only=True)
            _computed(cells, values, formulas, path.name)
    except ValidationError:
        raise
    except Exception as exc:  # a damaged file fails deep inside zipfile or the XML parser
        raise Refusal(f"not a workbook openpyxl can read: {exc}", argument=path.name) from exc
    from openpyxl.utils import get_column_letter

    rows = []
    for number, row in enumerate(cells, start=1):
        texts = [
            ErrorCell(str(value), f"{get_column_letter(column)}{number}")
            if kind == "e"
            else _cell(value, number_format)
            for column, (value, number_format, kind) in enumerate(row, start=1)
        ]
        while texts and not texts[-1].strip():
            texts.pop()  # a sheet row has no length: trailing blanks are not cells
        if texts:
            rows.append((number, texts))
    return rows, title


def _not_a_workbook(path: Path) -> Refusal | None:
    """The refusal of a file named .xlsx that is no zip archive (every .xlsx is one): a
    CSV or text file named so, an old .xls; None for a zip archive, which openpyxl reads."""
    try:
        with path.open("rb") as file:
            if file.read(2) == b"PK":  # a zip archive: openpyxl reads it, once
                return None
        raw = path.read_bytes()  # no workbook: read whole only to say what it is
    except OSError as exc:
        return Refusal(f"cannot read it: {exc.strerror}", argument=path.name)
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        return Refusal(
            "an Excel 97-2003 workbook (.xls) or another OLE file, not an .xlsx one: save it "
            "from Excel as an Excel Workbook (.xlsx) or as CSV",
            argument=path.name,
        )
    try:
        text, encoding = decode(raw, path.name)
    except ValidationError:
        text, encoding = "\0", ""
    if text.strip() and not re.search(r"[\0-\x08\x0e-\x1f]", text):
        return Refusal(
            f"not a workbook: it looks like CSV or other text ({encoding}), and an .xlsx file "
            f"is a zip archive; if it is CSV, rename it to {path.stem}.csv",
            argument=path.name,
        )
    return Refusal(
        "not a workbook: an .xlsx file is a zip archive, and this is not one", argument=path.name
    )


Cells = list[list[tuple[object, str | None, str]]]
"""Each row's cells: value, number format, and openpyxl's data type ("f" for a formula as
written, "str"/"e" for a formula's saved text/error, "n", "s", "d", ...)."""


def _read(
    load: Any, path: Path, sheet: str | None, *, data_only: bool
) -> tuple[Cells, str, list[tuple[int, int]]]:
    """Every row's cells (see :data:`Cells`), the sheet's name, and where the formulas
    are (row and column, from 0)."""
    book = load(path, read_only=True, data_only=data_only)
    try:
        sheets = {ws.title: ws for ws in book.worksheets}
        ws = sheets.get(sheet) if sheet is not None else next(iter(sheets.values()), None)
        if ws is None:
            raise Refusal(
                f"no worksheet {sheet!r} in {path.name}; it has {', '.join(sheets) or 'none'}",
                argument="--sheet",
            )
        ws.reset_dimensions()  # a writer's wrong <dimension> would cut the rows short
        cells: Cells = []
        formulas = []
        for row in ws.iter_rows():
            cells.append([(c.value, c.number_format, c.data_type) for c in row])
            formulas += [(len(cells) - 1, i) for i, c in enumerate(row) if c.data_type == "f"]
        return cells, str(ws.title), formulas
    finally:
        book.close()


def _computed(cells: Cells, values: Cells, formulas: list[tuple[int, int]], name: str) -> None:
    """Put each formula's saved value in its place; refuse a formula with none (written
    by a program that does not compute formulas, it would read as an empty cell)."""
    from openpyxl.utils import get_column_letter

    unsaved = []
    for row, column in formulas:
        value, _, kind = values[row][column] if column < len(values[row]) else (None, None, "n")
        if value is None and kind == "str":
            value = ""  # computed, to the empty text: Excel writes <c t="str"><v></v>
        elif value is None:  # an error (t="e") with no value saved is no error read
            unsaved.append(f"{get_column_letter(column + 1)}{row + 1}")
        cells[row][column] = (value, cells[row][column][1], kind)
    if unsaved:
        raise Refusal(
            f"{first_of(unsaved)}: a formula with no saved value (the program that wrote the "
            "workbook did not compute it); open and save the file in Excel or LibreOffice, "
            "or type the values in",
            argument=name,
        )


def first_of(items: list[str], show: int = 3) -> str:
    """The first ``show`` of ``items``, and how many more.

    >>> first_of(["A2", "B3", "C4", "D5"])
    'A2, B3, C4 and 1 more'
    """
    more = f" and {len(items) - show} more" if len(items) > show else ""
    return f"{', '.join(items[:show])}{more}"


def _cell(value: object, number_format: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a mobile or ext typed as a number
    if isinstance(value, datetime):
        if "h" not in _FORMAT_LITERALS.sub("", number_format or "").lower():
            # A date with no time: refused as in CSV, rather than sent at midnight.
            return value.strftime("%Y-%m-%d")
        # Excel stores days: round to the second, as typed.
        return (value + timedelta(microseconds=500_000)).strftime(AT_FORMAT)
    return str(value)


def records_of(
    rows: Iterable[tuple[int, list[str]]], name: str = "FILE", encoding: str | None = None
) -> Iterator[Record]:
    """Each non-empty record after the header row (see :data:`Record`); ``name`` is the
    file's, and ``encoding`` the one it was read in, for the errors."""
    rows = iter(rows)
    given = [h.strip() for h in next(rows, (0, []))[1]]
    header = [_COLUMN_OF.get(h.lower(), h.lower()) for h in given]
    missing = [c for c in COLUMNS[:2] if c not in header]
    unknown = [g for g, h in zip(given, header, strict=True) if h not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        named = ", ".join(f"{c} ({'/'.join(HEADERS[c][1:3])})" for c in COLUMNS)
        got = f"{', '.join(given) or 'nothing'}{_read_as(encoding, given, header)}"
        raise Refusal(
            f"{_header_faults(given, header, unknown, missing)}; the header row must name the "
            "columns mobile and content (and optionally ext, at), each once, in English or "
            f"Chinese: {named}; got {got}",
            argument=name,
        )
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        padded = cells + [""] * (len(header) - len(cells))
        yield line, dict(zip(header, padded, strict=False)), len(cells) > len(header)


def _header_faults(
    given: list[str], header: list[str], unknown: list[str], missing: list[str]
) -> str:
    """Which of the header's cells are wrong: each unknown one with the name it is nearest
    to (``unknown column 'exts' (did you mean 'ext'?)``), a column named twice, a
    required one that none names (and no unknown one is near).

    >>> _header_faults(["mobile", "exts"], ["mobile", "exts"], ["exts"], ["content"])
    "unknown column 'exts' (did you mean 'ext'?); no content column"
    >>> _header_faults(["mobile", "content", "ext", "exts"], ["mobile", "content", "ext",
    ...                "exts"], ["exts"], [])
    "unknown column 'exts'"
    """
    import difflib  # here, not at the top: only a refused header needs it

    faults, meant = [], set()
    if unknown:
        named = []
        for cell in unknown:
            near = _LIKELY.get(cell.lower()) or next(
                iter(difflib.get_close_matches(cell.lower(), list(_COLUMN_OF), n=1)), None
            )
            if near and _COLUMN_OF.get(near) in header:  # that column is there already
                near = None
            meant.add(_COLUMN_OF.get(near or "", ""))
            shown = repr(cell) if cell else "'' (an empty header cell)"
            named.append(f"{shown} (did you mean {near!r}?)" if near else shown)
        faults.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(named)}")
    for column in COLUMNS:
        twice = [g for g, h in zip(given, header, strict=True) if h == column]
        if len(twice) > 1:
            faults.append(f"{' and '.join(map(repr, twice))} both name the {column} column")
    if absent := [c for c in missing if c not in meant]:
        faults.append(f"no {' or '.join(absent)} column")
    return "; ".join(faults)


def _read_as(encoding: str | None, given: list[str], header: list[str]) -> str:
    """What to add when a header read in a guessed encoding looks garbled: a file of
    another (Big5, Shift-JIS) reads as that encoding's rarer characters, and none of its
    cells names a column (one that does was read right: a rare hanzi is then a name's,
    ``昵称``)."""
    if encoding not in FALLBACKS or any(column in COLUMNS for column in header):
        return ""
    if not any(_rare(c) for cell in given for c in cell):
        return ""
    return (
        f" (the file was read as {encoding.upper()}, as Excel on a Chinese Windows saves "
        "one; a file saved in another encoding, Big5 or Shift-JIS say, reads garbled so: "
        "save it as UTF-8)"
    )


def _rare(char: str) -> bool:
    """Whether ``char`` is unlikely in a column's name: not ASCII, GB2312's punctuation
    (rows 1-3) or its common hanzi (level 1, rows 16-55); kana, Cyrillic, rarer hanzi."""
    if char.isascii():
        return False
    try:
        lead = char.encode("gb2312")[0]
    except UnicodeEncodeError:
        return True
    return not (0xA1 <= lead <= 0xA3 or 0xB0 <= lead <= 0xD7)
