"""`mandao send-file` with an Excel workbook: cells as text, sheet rows, the same pipeline."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook

from mandao import ValidationError
from mandao.cli._table import read_sheet
from mandao.testing import SandboxGateway

from ._cli_helpers import as_json, run, sandbox_env

NOTICE = "明早 9 点停水【示例】"
PARCEL = "张三您好，您的快递已到【示例】"
#: Tomorrow 09:30 China time, as Excel holds a typed date and time: a naive datetime.
LATER = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=1)).replace(
    hour=9, minute=30, second=0, microsecond=0, tzinfo=None
)


@pytest.fixture
def env(gateway: SandboxGateway, tmp_path: Path) -> dict[str, str]:
    """The sandbox account, the CLI's default guard, the journal in a temporary folder."""
    return {
        **sandbox_env(gateway, duplicate_action=""),
        "MANDAO_JOURNAL": str(tmp_path / "journal.sqlite3"),
    }


def _xlsx(path: Path, *sheets: tuple[str, list[tuple[object, ...]]]) -> Path:
    """A workbook with one worksheet per (title, rows); None leaves a cell empty."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(list(row))
    book.save(path)
    return path


def _sent(gateway: SandboxGateway) -> Counter[tuple[str, str]]:
    return Counter((m.mobile, m.content) for m in gateway.ledger.messages)


CAMPAIGN = [
    (" Mobile ", "CONTENT", "Ext", "at"),  # header names match as in CSV: any case, spaces
    (13800138000, NOTICE, None, None),  # a number typed into the cell: an int
    (13900139000.0, NOTICE, 12, None),  # a float, and a numeric ext
    ("13700137000", PARCEL, None, LATER),  # a date and time cell
]


def test_numeric_cells_and_a_datetime_at_are_sent_as_typed(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Numbers become 11 digits (not 13900139000.0), the datetime the stime; all arrive."""
    path = _xlsx(tmp_path / "c.xlsx", ("Campaign", CAMPAIGN))
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert (data["sheet"], data["encoding"], data["rows"], data["sent"]) == ("Campaign", None, 3, 3)
    assert _sent(gateway) == Counter(
        [("13800138000", NOTICE), ("13900139000", NOTICE), ("13700137000", PARCEL)]
    )
    sent = {m.mobile: m for m in gateway.ledger.messages}
    assert sent["13900139000"].ext == "12"
    assert sent["13700137000"].stime == LATER.strftime("%Y-%m-%d %H:%M:%S")


def test_a_sheet_plans_exactly_as_the_same_csv(env: dict[str, str], tmp_path: Path) -> None:
    """A workbook and the CSV with the same rows give the same dry-run plan and rows."""
    csv = tmp_path / "c.csv"
    csv.write_text(
        "mobile,content,ext,at\n13800138000,{n},,\n13900139000,{n},12,\n13700137000,{p},,{at}\n"
        .format(n=NOTICE, p=PARCEL, at=LATER.strftime("%Y/%m/%d %H:%M")),
        encoding="utf-8",
    )  # fmt: skip
    xlsx = _xlsx(tmp_path / "c.xlsx", ("Sheet1", CAMPAIGN))
    plans = [
        as_json(run(["send-file", str(p), "--dry-run", "--json"], env=env)) for p in (csv, xlsx)
    ]
    for plan in plans:
        del plan["file"], plan["encoding"], plan["sheet"]
    assert plans[0] == plans[1]
    assert len(plans[0]["groups"]) == 3


def test_a_bad_row_is_named_by_its_sheet_row_and_nothing_is_sent(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Empty rows are skipped but counted: the bad row's number is the one Excel shows."""
    rows: list[tuple[object, ...]] = [
        ("mobile", "content"),
        (13800138000, NOTICE),
        (),  # row 3: empty
        (None, None),  # row 4: empty cells
        (12345, NOTICE),  # row 5: not a mobile
        (13600136000, NOTICE, "stray"),  # row 6: a cell beyond the header
    ]
    path = _xlsx(tmp_path / "c.xlsx", ("Sheet1", rows))
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 2
    error = as_json(result)["error"]
    assert error["message"].startswith("c.xlsx: 2 invalid row(s), nothing sent")
    assert [d.split(":")[0] for d in error["details"]] == ["line 5 (mobile)", "line 6 (row)"]
    assert gateway.ledger.messages == []
    result = run(["send-file", str(path), "--yes", "--skip-invalid", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert [b["line"] for b in as_json(result)["invalid"]] == [5, 6]
    assert _sent(gateway) == Counter([("13800138000", NOTICE)])


def test_a_date_without_a_time_is_refused_not_sent_at_midnight(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """An `at` cell formatted as a date only is refused by row, as the CSV's date would be,
    in the same words: add the time of day, and format the column as date and time."""
    rows = [CAMPAIGN[0], CAMPAIGN[1], ("13700137000", PARCEL, None, LATER.date())]
    result = run(["send-file", str(_xlsx(tmp_path / "c.xlsx", ("S", rows))), "--yes", "--json"],
                 env=env)  # fmt: skip
    assert result.exit_code == 2
    day = LATER.date()
    assert as_json(result)["error"]["details"] == [
        f"line 3 (at): expected 'yyyy-MM-dd HH:mm[:ss]' (China time), got '{day}', a date "
        f"with no time of day: add the time to send at ('{day} 09:00'); a date alone is not "
        "sent at midnight; in a spreadsheet, format the column as date and time"
    ]
    assert gateway.ledger.messages == []


def test_dry_run_names_the_sheet_and_sends_nothing(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """--dry-run on a workbook shows the plan and which sheet was read; the ledger stays empty."""
    path = _xlsx(tmp_path / "c.xlsx", ("活动", CAMPAIGN))
    result = run(["send-file", str(path), "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert "(sheet 活动): 3 row(s)" in result.stderr
    assert "3 recipient(s) in 3 group(s)" in result.stdout
    assert "nothing sent" in result.stdout
    assert gateway.ledger.messages == []


def test_a_second_run_resumes_from_the_journal(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Rows the journal records as accepted are skipped on the next run of the same sheet."""
    path = _xlsx(tmp_path / "c.xlsx", ("Sheet1", CAMPAIGN))
    assert run(["send-file", str(path), "--yes", "--json"], env=env).exit_code == 0
    again = as_json(run(["send-file", str(path), "--yes", "--json"], env=env))
    assert (again["already_accepted"], again["sent"]) == (3, 0)
    assert len(gateway.ledger.messages) == 3


def test_sheet_picks_a_worksheet_and_an_unknown_one_is_refused(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """--sheet NAME reads that sheet; a name the workbook lacks exits 2 listing its sheets."""
    notes = ("说明", [("这一页不是名单",)])
    path = _xlsx(tmp_path / "c.xlsx", notes, ("名单", CAMPAIGN[:2]))
    assert run(["send-file", str(path), "--dry-run", "--json"], env=env).exit_code == 2
    data = as_json(run(["send-file", str(path), "--sheet", "名单", "--dry-run", "--json"], env=env))
    assert (data["sheet"], data["recipients"]) == ("名单", 1)
    result = run(["send-file", str(path), "--sheet", "Sheet9", "--json"], env=env)
    assert result.exit_code == 2
    error = as_json(result)["error"]
    assert error["argument"] == "--sheet"
    assert "no worksheet 'Sheet9' in c.xlsx; it has 说明, 名单" in error["message"]
    csv = tmp_path / "c.csv"
    csv.write_text(f"mobile,content\n13800138000,{NOTICE}\n", encoding="utf-8")
    assert run(["send-file", str(csv), "--sheet", "名单"], env=env).exit_code == 2
    assert gateway.ledger.messages == []


def test_a_damaged_workbook_is_invalid_input(env: dict[str, str], tmp_path: Path) -> None:
    """A file named .xlsx that is not a workbook exits 2 saying so: a CSV file (even in
    GBK) says it looks like CSV and to rename it, an old .xls to save it as .xlsx, and a
    zip archive that is no workbook what openpyxl found."""
    path = tmp_path / "c.xlsx"
    for raw, encoding in ((b"mobile,content\n", "utf-8"), ("手机,内容\n".encode("gbk"), "gbk")):
        path.write_bytes(raw)
        result = run(["send-file", str(path), "--json"], env=env)
        assert result.exit_code == 2
        assert as_json(result)["error"]["message"] == (
            f"c.xlsx: not a workbook: it looks like CSV or other text ({encoding}), and an "
            ".xlsx file is a zip archive; if it is CSV, rename it to c.csv"
        )
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    message = as_json(run(["send-file", str(path), "--json"], env=env))["error"]["message"]
    assert message.startswith("c.xlsx: an Excel 97-2003 workbook (.xls) or another OLE file")
    path.write_bytes(bytes(range(256)))
    message = as_json(run(["send-file", str(path), "--json"], env=env))["error"]["message"]
    assert message.endswith("an .xlsx file is a zip archive, and this is not one")
    import zipfile

    with zipfile.ZipFile(path, "w") as book:
        book.writestr("hello.txt", "not a workbook")
    message = as_json(run(["send-file", str(path), "--json"], env=env))["error"]["message"]
    assert message.startswith("c.xlsx: not a workbook openpyxl can read: ")


def test_without_openpyxl_a_workbook_is_a_config_error_naming_the_extra(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With openpyxl not importable: exit 3, pip install "mandao[excel]" or save as CSV."""
    path = _xlsx(tmp_path / "c.xlsx", ("Sheet1", CAMPAIGN))
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # the next import raises ImportError
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 3
    message = as_json(result)["error"]["message"]
    assert 'pip install "mandao[excel]"' in message
    assert "CSV" in message
    assert gateway.ledger.messages == []


def test_read_sheet_gives_text_cells_numbered_by_row(tmp_path: Path) -> None:
    """Leading and trailing blanks go; whole floats lose .0; times round to the second."""
    stamp = datetime(2026, 11, 26, 8, 59, 59, 999_000)  # what a float day can come back as
    rows: list[tuple[object, ...]] = [
        (),
        ("mobile", "content", None, None),
        (13800138000.0, 1.5, None, "  "),
        (None, "x", stamp),
        (None, "y", date(2026, 11, 26)),  # a date alone stays a date
    ]
    path = _xlsx(tmp_path / "c.xlsx", ("S", rows))
    assert read_sheet(path) == (
        [
            (2, ["mobile", "content"]),
            (3, ["13800138000", "1.5"]),
            (4, ["", "x", "2026-11-26 09:00:00"]),
            (5, ["", "y", "2026-11-26"]),
        ],
        "S",
    )


def _with_saved_values(path: Path, values: dict[str, str | tuple[str, str]]) -> Path:
    """``path`` rewritten as Excel would save it: each formula cell of ``values`` (by its
    reference) also holds the value Excel computed (openpyxl writes formulas only); a
    ``(type, value)`` pair also gives the cell's type, as Excel writes ``t="str"`` for a
    text and ``t="e"`` for an error."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = parts[sheet].decode()
    for ref, saved in values.items():
        kind, value = saved if isinstance(saved, tuple) else ("", saved)
        typed = f' t="{kind}"' if kind else ""
        xml, found = re.subn(rf'<c r="{ref}"([^>]*)>\s*(<f>[^<]*</f>)\s*(<v\s*/>|<v></v>)?',
                             rf'<c r="{ref}"\1{typed}>\2<v>{value}</v>', xml)  # fmt: skip
        assert found == 1, (ref, xml)
    parts[sheet] = xml.encode()
    with zipfile.ZipFile(path, "w") as book:
        for name, data in parts.items():
            book.writestr(name, data)
    return path


def test_a_formula_reads_as_its_saved_value(tmp_path: Path) -> None:
    """A workbook saved by Excel keeps each formula's value: that is the cell's text."""
    rows: list[tuple[object, ...]] = [("mobile", "content"), ("=13800138000+1", NOTICE)]
    path = _with_saved_values(_xlsx(tmp_path / "c.xlsx", ("S", rows)), {"A2": "13800138001"})
    assert read_sheet(path) == ([(1, ["mobile", "content"]), (2, ["13800138001", NOTICE])], "S")


def test_a_formula_excel_computed_to_the_empty_text_reads_as_empty(tmp_path: Path) -> None:
    """``=IF(B2="","",...)`` in an optional column: Excel saves ``t="str"`` and an empty
    value, which openpyxl reads as None like a formula never computed; it is computed."""
    rows: list[tuple[object, ...]] = [
        ("mobile", "content", "ext"),
        (13800138000, NOTICE, '=IF(1,"","9")'),
    ]
    path = _with_saved_values(_xlsx(tmp_path / "c.xlsx", ("S", rows)), {"C2": ("str", "")})
    assert read_sheet(path) == (
        [(1, ["mobile", "content", "ext"]), (2, ["13800138000", NOTICE])],
        "S",
    )


def test_a_formula_whose_saved_value_is_an_error_is_refused_by_its_cells(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """``#N/A`` saved by Excel is not a text to send, nor an error typed as a value (an
    export that wrote ``t="e"``): its row is a bad one, naming its cells and errors;
    ``--skip-invalid`` sends the other rows."""
    rows: list[tuple[object, ...]] = [
        ("mobile", "content", "ext"),
        (13800138000, "=VLOOKUP(1,Z1:Z2,2)", "=1/0"),
        (13800138001, "=1/0", 7),
        (13800138002, "#REF!"),  # openpyxl writes it as an error value, t="e"
        (13800138003, NOTICE),
        (13800138004, "#N/A 不是错误【示例】"),  # a text that starts so: sent as typed
    ]
    saved = {"B2": ("e", "#N/A"), "C2": ("e", "#DIV/0!"), "B3": ("e", "#DIV/0!")}
    path = _with_saved_values(_xlsx(tmp_path / "c.xlsx", ("S", rows)), saved)
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 2, result.output
    error = as_json(result)["error"]
    assert "3 invalid row(s), nothing sent" in error["message"]
    told = (
        "a cell whose value is an error; correct the formula (or type the value) and "
        "save the file again"
    )
    assert [(r["line"], r["column"], r["message"]) for r in error["rows"]] == [
        (2, "content", f"B2 (#N/A), C2 (#DIV/0!): {told}"),
        (3, "content", f"B3 (#DIV/0!): {told}"),
        (4, "content", f"B4 (#REF!): {told}"),
    ]
    assert gateway.ledger.messages == []
    result = run(["send-file", str(path), "--yes", "--json", "--skip-invalid"], env=env)
    assert result.exit_code == 0, result.output
    assert [m.mobile for m in gateway.ledger.messages] == ["13800138003", "13800138004"]
    assert [r["line"] for r in as_json(result)["invalid"]] == [2, 3, 4]


def test_an_error_typed_formula_with_no_value_saved_is_a_formula_with_no_saved_value(
    tmp_path: Path,
) -> None:
    """``<c t="e"><f>1/0</f><v></v></c>``: no error was saved, so none is named (it was
    ``C2 (None)``): the formula has no saved value."""
    rows: list[tuple[object, ...]] = [("mobile", "content", "ext"), (13800138000, NOTICE, "=1/0")]
    path = _with_saved_values(_xlsx(tmp_path / "c.xlsx", ("S", rows)), {"C2": ("e", "")})
    with pytest.raises(ValidationError, match=r"C2: a formula with no saved value"):
        read_sheet(path)


def test_a_formula_with_no_saved_value_is_refused_by_its_cells_not_read_as_empty(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """openpyxl (or another program that does not compute) wrote the formulas: an empty
    ``at`` would send at once, so nothing is sent and the cells are named."""
    rows: list[tuple[object, ...]] = [
        ("mobile", "content", "at"),
        (13800138000, NOTICE, '=TEXT(NOW()+1,"yyyy-mm-dd hh:mm:ss")'),
        *[(13800138000 + i, f'="第{i}期"&"【示例】"') for i in range(1, 5)],
    ]
    path = _xlsx(tmp_path / "c.xlsx", ("S", rows))
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 2, result.output
    error = as_json(result)["error"]
    assert "C2, B3, B4 and 2 more: a formula with no saved value" in error["message"]
    assert "open and save the file in Excel or LibreOffice" in error["message"]
    assert gateway.ledger.messages == []
