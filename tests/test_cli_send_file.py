"""`mandao send-file`: CSV campaigns, encodings, validation, confirmation, resume, the guard."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mandao.testing import SandboxGateway

from ._cli_helpers import as_json, run, sandbox_env

NOTICE = "明早 9 点停水【示例】"
ROWS = [
    ("13800138000", NOTICE),
    ("13900139000", NOTICE),
    ("13700137000", "张三您好，您的快递已到【示例】"),
    ("13600136000", "李四您好，您的快递已到【示例】"),
]


@pytest.fixture
def env(gateway: SandboxGateway, tmp_path: Path) -> dict[str, str]:
    """The sandbox account, the CLI's default guard, the journal in a temporary folder."""
    return {
        **sandbox_env(gateway, duplicate_action=""),
        "MANDAO_JOURNAL": str(tmp_path / "journal.sqlite3"),
    }


def _csv(path: Path, rows: list[tuple[str, ...]], header: str = "mobile,content",
         encoding: str = "utf-8") -> Path:  # fmt: skip
    lines = [header, *(",".join(row) for row in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def _sent(gateway: SandboxGateway) -> Counter[tuple[str, str]]:
    return Counter((m.mobile, m.content) for m in gateway.ledger.messages)


def test_campaign_groups_shared_texts_and_personalises_the_rest(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """A shared text goes by mdsmssend, the others by mdgxsend; each row once; exit 0."""
    result = run(["send-file", str(_csv(tmp_path / "c.csv", ROWS)), "--yes", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert (data["recipients"], data["billable"], data["sent"]) == (4, 4, 4)
    assert data["groups"][0]["operations"] == ["mdgxsend", "mdsmssend"]
    assert data["complete"] is True
    assert _sent(gateway) == Counter(ROWS)
    by_mobile = {m.mobile: m.operation for m in gateway.ledger.messages}
    assert by_mobile["13800138000"] == "mdsmssend"
    assert by_mobile["13700137000"] == "mdgxsend"


def test_rows_group_by_ext_and_at(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Rows with another ext or delivery time go in their own send, with those fields."""
    later = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=1)).strftime(
        "%Y-%m-%d %H:%M"
    )
    rows = [("13800138000", NOTICE, "", ""), ("13900139000", NOTICE, "12", ""),
            ("13700137000", NOTICE, "", later)]  # fmt: skip
    path = _csv(tmp_path / "c.csv", rows, header="mobile,content,ext,at")
    data = as_json(run(["send-file", str(path), "--yes", "--json"], env=env))
    assert [(g["ext"], g["at"] is not None) for g in data["groups"]] == [
        ("", False), ("12", False), ("", True),
    ]  # fmt: skip
    sent = {m.mobile: m for m in gateway.ledger.messages}
    assert sent["13900139000"].ext == "12"
    assert sent["13700137000"].stime == later + ":00"


@pytest.mark.parametrize(
    ("encoding", "named"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8 (with BOM)"), ("gbk", "gbk")]
)
def test_utf8_bom_and_gbk_files_are_read_and_named(
    env: dict[str, str], tmp_path: Path, encoding: str, named: str
) -> None:
    """UTF-8 with or without BOM and GBK (Chinese Excel) are read; the encoding is named."""
    path = _csv(tmp_path / "c.csv", ROWS, encoding=encoding)
    data = as_json(run(["send-file", str(path), "--dry-run", "--json"], env=env))
    assert (data["encoding"], data["recipients"]) == (named, 4)


def test_excels_unicode_text_export_tab_separated_utf16_is_read(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Excel's "Unicode text" (.txt) is UTF-16 with tabs between cells (a text may hold a
    comma): read as such, every row sent whole. It was refused as one unknown column."""
    rows = [("13800138000", "您好，明天见【示例】"), ("13900139000", "a, b and c【示例】")]
    path = tmp_path / "c.txt"
    lines = ["手机\t内容", *("\t".join(row) for row in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-16"))
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert _sent(gateway) == Counter(rows)


def test_a_utf8_file_with_a_stray_byte_is_refused_not_read_as_gbk(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """One Latin-1 byte in a UTF-8 file (a pasted cell): read as GBK, every text would go
    out garbled (你好 as 浣犲ソ). Refused, by line and byte; a GBK file is still read."""
    path = tmp_path / "mixed.csv"
    path.write_bytes("mobile,content\n13900001122,你好\n13900001123,你好 Jos".encode()
                     + bytes([0xE9]) + b"a\n")  # fmt: skip
    result = run(["send-file", str(path), "--signature", "示例", "--yes", "--json"], env=env)
    assert result.exit_code == 2, result.output
    message = as_json(result)["error"]["message"]
    assert message.startswith("mixed.csv: line 3: byte 0xE9 is not UTF-8, though the rest is")
    assert gateway.ledger.messages == []
    path.write_bytes("mobile,content\n13900001122,你好\n".encode("gbk"))
    data = as_json(run(["send-file", str(path), "--signature", "示例", "--yes", "--json"], env=env))
    assert data["encoding"] == "gbk"
    assert [m.content for m in gateway.ledger.messages] == ["你好【示例】"]


def test_a_header_garbled_by_the_guessed_encoding_says_what_the_file_was_read_as(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """A Big5 file (Traditional Chinese Excel) is no UTF-8, and reads as GB18030, garbled:
    the refused header names the encoding it was read in and what to do. A GBK file with a
    header of other names is refused without it (its header reads right)."""
    path = tmp_path / "big5.csv"
    path.write_bytes("手機號碼,短信內容\n13800138000,您好【示例】\n".encode("big5"))
    result = run(["send-file", str(path), "--dry-run", "--json"], env=env)
    assert result.exit_code == 2, result.output
    message = as_json(result)["error"]["message"]
    assert "the header row must name the columns" in message
    assert message.endswith(
        "(the file was read as GB18030, as Excel on a Chinese Windows saves one; a file "
        "saved in another encoding, Big5 or Shift-JIS say, reads garbled so: save it as UTF-8)"
    )
    for header in ("电话,短信", "手机号码,短信内容,昵称"):  # read right: 昵 is a rare hanzi
        path.write_bytes(f"{header}\n13800138000,您好【示例】\n".encode("gbk"))
        error = as_json(run(["send-file", str(path), "--dry-run", "--json"], env=env))["error"]
        assert error["message"].endswith(f"got {header.replace(',', ', ')}")
    assert gateway.ledger.messages == []


def test_gbk_rows_appended_to_a_utf8_file_are_refused_though_they_hold_more_chinese(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """A UTF-8 row and GBK rows holding more Chinese than it: read as GBK, the UTF-8 row
    would go out garbled (你好 as 浣犲ソ). Refused by the first GBK line, the others named."""
    path = tmp_path / "appended.csv"
    gbk = [f"1390000113{n},您的验证码是 1234，请勿泄露【示例】" for n in range(6)]
    path.write_bytes("mobile,content\n13900001122,你好\n".encode()
                     + "\n".join(gbk).encode("gbk"))  # fmt: skip
    result = run(["send-file", str(path), "--signature", "示例", "--yes", "--json"], env=env)
    assert result.exit_code == 2, result.output
    assert as_json(result)["error"]["message"].startswith(
        "appended.csv: line 3: byte 0xC4 is not UTF-8, nor are lines 4, 5, 6 and 2 more, "
        "though the rest is UTF-8"
    )
    assert gateway.ledger.messages == []


def test_a_file_read_as_gbk_shows_how_a_cell_reads_before_it_sends(
    env: dict[str, str], tmp_path: Path
) -> None:
    """An ASCII file with one Latin-1 byte reads as GBK (é and the next letter make one
    Chinese character): the dry run and the question show that cell as read, so the
    operator sees it garbled; a UTF-8 file shows none."""
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"mobile,content\n13900001122,Notice\n13900001123,Hello Jos\xe9a\n")
    shown = '  line 3 as gbk: "Hello Jos閍" (if that is garbled, save the file as UTF-8'
    dry = run(["send-file", str(path), "--signature", "示例", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert dry.stderr.splitlines()[:2] == [f"{path} (gbk): 2 row(s)", shown + " and run again)"]
    asked = run(["send-file", str(path), "--signature", "示例"], env=env, stdin="n\n")
    assert (asked.exit_code, asked.stderr.count(shown)) == (1, 1)
    path.write_bytes("mobile,content\n13900001122,Hello José\n".encode())
    utf8 = run(["send-file", str(path), "--signature", "示例", "--dry-run"], env=env)
    assert (utf8.exit_code, utf8.stderr.count("if that is garbled")) == (0, 0)


def test_invalid_rows_are_listed_by_line_and_nothing_is_sent(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Bad rows stop the whole file before any send (exit 2); --skip-invalid sends the rest."""
    rows = [*ROWS[:2], ("12345", NOTICE), ("13500135000", ""), ("13400134000", NOTICE, "x")]
    path = _csv(tmp_path / "c.csv", rows)
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 2
    error = as_json(result)["error"]
    assert (
        error["message"]
        == "c.csv: 3 invalid row(s), nothing sent (--skip-invalid sends the others)"
    )
    assert [d.split(":")[0] for d in error["details"]] == [
        "line 4 (mobile)", "line 5 (content)", "line 6 (row)",
    ]  # fmt: skip
    text = run(["send-file", str(path), "--yes"], env=env).stderr
    assert "(--skip-invalid sends the others):\n  line 4 (mobile): " in text
    assert "\n  line 6 (row): " in text
    assert len(gateway.ledger.messages) == 0
    result = run(["send-file", str(path), "--yes", "--skip-invalid", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert [b["line"] for b in as_json(result)["invalid"]] == [4, 5, 6]
    assert _sent(gateway) == Counter(ROWS[:2])


def test_a_bad_rows_message_speaks_the_command_lines_terms(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A bad row's message names its number without a count or a position (the row has
    one), and its advice in flags, not in Client(...) arguments."""
    path = _csv(tmp_path / "c.csv", [("12345", NOTICE), ("13500135000", "明早停水")])
    error = as_json(run(["send-file", str(path), "--dry-run", "--json"], env=env))["error"]
    mobile, content = error["details"]
    assert mobile.startswith("line 2 (mobile): '12345': not an 11-digit mainland mobile")
    assert content.startswith("line 3 (content): ")
    assert "--signature NAME" in content
    assert "--no-require-signature" in content
    assert "Client(" not in content


def test_an_at_of_a_date_with_no_time_says_to_add_the_time(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """An `at` cell of a date alone (`2027-01-05`, `2027/1/5`, what a spreadsheet's date
    format writes) is a bad row whose message says to add the time of day, and how in a
    spreadsheet, worded as a sheet's date cell is (test_cli_send_file_xlsx); a text that
    is no date at all keeps the plain message."""
    rows = [(*ROWS[0], "2027-01-05"), (*ROWS[1], "2027/1/5"), (*ROWS[2], "明早")]
    path = _csv(tmp_path / "c.csv", rows, header="mobile,content,at")
    error = as_json(run(["send-file", str(path), "--yes", "--json"], env=env))["error"]
    expected = "expected 'yyyy-MM-dd HH:mm[:ss]' (China time), got"
    added = (
        "a date with no time of day: add the time to send at ('{} 09:00'); a date alone is "
        "not sent at midnight; in a spreadsheet, format the column as date and time"
    )
    assert error["details"] == [
        f"line 2 (at): {expected} '2027-01-05', {added.format('2027-01-05')}",
        f"line 3 (at): {expected} '2027/1/5', {added.format('2027/1/5')}",
        f"line 4 (at): {expected} '明早'",
    ]
    assert gateway.ledger.messages == []


def test_a_mobile_in_scientific_notation_says_to_format_the_column_as_text(
    env: dict[str, str], tmp_path: Path
) -> None:
    """`1.39E+10`, as Excel exports a number column too narrow for it: the invalid-number
    message adds that the column was formatted as a number, and what to do."""
    path = _csv(tmp_path / "c.csv", [("1.39E+10", NOTICE), ("1.38001e10", NOTICE), ROWS[0]])
    error = as_json(run(["send-file", str(path), "--dry-run", "--json"], env=env))["error"]
    for detail, value in zip(error["details"], ("1.39E+10", "1.38001e10"), strict=True):
        assert detail.startswith(f"line {2 if '+' in value else 3} (mobile): '{value}': not an")
        assert detail.endswith(
            "; the column was formatted as a number, so the spreadsheet wrote it in "
            "scientific notation and its last digits are lost: format the column as text "
            "and type or paste the numbers in again"
        )
    plain = _csv(tmp_path / "d.csv", [("12345", NOTICE)])
    error = as_json(run(["send-file", str(plain), "--dry-run", "--json"], env=env))["error"]
    assert "formatted as a number" not in error["details"][0]


def test_an_unterminated_quote_is_named_by_its_line_not_read_as_one_cell(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """A cell that opens a quote and never closes it would hold the rest of the file: the
    file is refused naming the line the quote opens on (also when that cell would pass as
    a text of several lines, or is over the CSV reader's limit); closed quotes, doubled
    quotes and a quote inside a cell read as before."""
    path = tmp_path / "c.csv"
    for cell, where in (('"张三您好【示例】', "content"), ('"13700137000', "mobile")):
        other = NOTICE if where == "mobile" else "13700137000"
        row = f"{cell},{other}" if where == "mobile" else f"{other},{cell}"
        lines = ["mobile,content", f"13800138000,{NOTICE}", row, f"13600136000,{NOTICE}"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = run(["send-file", str(path), "--yes", "--json"], env=env)
        assert result.exit_code == 2, result.output
        assert as_json(result)["error"]["message"] == (
            'c.csv: unterminated quote from line 3: a cell there starts with " and no " '
            "closes it, so lines 3-4, the rest of the file, would be read as that one cell; "
            'close the quote, or take it out (a quote inside a quoted cell is written "")'
        )
    many = "".join(f"139{i:08d},{NOTICE}\n" for i in range(10_000))  # over 131072 characters
    path.write_text(f'mobile,content\n13800138000,"{NOTICE}\n{many}', encoding="utf-8")
    error = as_json(run(["send-file", str(path), "--dry-run", "--json"], env=env))["error"]
    assert error["message"].startswith("c.csv: unterminated quote from line 2: ")
    assert "so lines 2-10002, the rest of the file" in error["message"]
    assert gateway.ledger.messages == []
    path.write_text(
        f'mobile,content\n13800138000,"{NOTICE}"\n13900139000,"说 ""好""【示例】"\n'
        '13700137000,"5"" 屏【示例】"\n13600136000,a"b【示例】\n',
        encoding="utf-8",
    )
    data = as_json(run(["send-file", str(path), "--dry-run", "--json"], env=env))
    assert (data["rows"], data["invalid"]) == (4, [])


def test_an_unterminated_quote_in_a_tab_separated_file_is_named_too(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Excel's "Unicode text" splits cells by tabs: a quote opened after a tab and never
    closed is refused as after a comma (it would send the next rows' numbers and texts to
    one phone); a quote after a comma inside a tab-split cell opens nothing."""
    path = tmp_path / "c.txt"
    lines = ["mobile\tcontent", '13800138000\t"双十一大促【示例】', f"13800138001\t{NOTICE}"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-16"))
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 2, result.output
    message = as_json(result)["error"]["message"]
    assert message.startswith("c.txt: unterminated quote from line 2: ")
    assert gateway.ledger.messages == []
    lines = ["mobile\tcontent", f"13800138000\t{NOTICE}", '13800138001\t你好,"张三 说【示例】']
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-16"))
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert [m.content for m in gateway.ledger.messages] == [NOTICE, '你好,"张三 说【示例】']


def test_a_header_row_naming_mobile_and_content_is_required(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A file without the header (or with an unknown column) is refused: exit 2."""
    headless = tmp_path / "n.csv"
    headless.write_text("13800138000,hi【示例】\n", encoding="utf-8")
    assert run(["send-file", str(headless), "--json"], env=env).exit_code == 2
    result = run(["send-file", str(_csv(tmp_path / "c.csv", ROWS, "mobile,text")), "--json"],
                 env=env)  # fmt: skip
    assert result.exit_code == 2
    assert "header" in as_json(result)["error"]["message"]


@pytest.mark.parametrize(
    ("header", "fault"),
    [
        ("mobile,content,exts", "unknown column 'exts' (did you mean 'ext'?)"),
        ("手机号码,短信内容,定时间", "unknown column '定时间' (did you mean '定时时间'?)"),
        ("mobile,text", "unknown column 'text' (did you mean 'content'?)"),  # not 'ext'
        ("mobile,content,ext,扩展号", "'ext' and '扩展号' both name the ext column"),
        ("mobile,内容,备注", "unknown column '备注'"),
    ],
    ids=["misspelt", "chinese", "text", "twice", "not-near"],
)
def test_a_refused_header_names_the_column_at_fault_before_the_names_taken(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path, header: str, fault: str
) -> None:
    """The refusal says which given column is wrong, with the name it is nearest to, and
    then, as before, the names each column takes; nothing is sent. Before, it gave only
    the list and the header back: which of the header's cells was wrong was left to find."""
    rows = [(*row, "", "")[: header.count(",") + 1] for row in ROWS]
    result = run(["send-file", str(_csv(tmp_path / "c.csv", rows, header)), "--yes", "--json"],
                 env=env)  # fmt: skip
    assert result.exit_code == 2, result.output
    message = as_json(result)["error"]["message"]
    assert message.startswith(f"c.csv: {fault}; the header row must name the columns mobile")
    assert message.endswith("at (定时时间/发送时间); got " + header.replace(",", ", "))
    assert gateway.ledger.messages == []


def test_repeated_rows_are_sent_once(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """The same number, text, ext and at twice in the file is one message."""
    path = _csv(tmp_path / "c.csv", [*ROWS, ROWS[0], ROWS[2]])
    data = as_json(run(["send-file", str(path), "--yes", "--json"], env=env))
    assert data["repeated"] == 2
    assert _sent(gateway) == Counter(ROWS)


def test_dry_run_shows_the_plan_and_sends_nothing(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """--dry-run prints recipients, segments, billable per group; the ledger stays empty."""
    result = run(["send-file", str(_csv(tmp_path / "c.csv", ROWS)), "--dry-run"], env=env)
    assert result.exit_code == 0
    assert "4 recipient(s) in 1 group(s), 4 billable" in result.stdout
    assert "nothing sent" in result.stdout
    assert len(gateway.ledger.messages) == 0


def test_asks_first_and_no_sends_nothing(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Without --yes the plan is shown and the user asked; no aborts with exit 1."""
    result = run(["send-file", str(_csv(tmp_path / "c.csv", ROWS))], env=env, stdin="n\n")
    assert result.exit_code == 1
    assert "4 billable" in result.stderr
    assert len(gateway.ledger.messages) == 0
    result = run(["send-file", str(_csv(tmp_path / "c.csv", ROWS))], env=env, stdin="y\n")
    assert result.exit_code == 0, result.output
    assert len(gateway.ledger.messages) == 4


def test_without_a_terminal_to_ask_on_it_says_to_pass_yes(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Stdin not a terminal and at its end (a script, cron): not a bare 'aborted' but a
    usage error (exit 2), in the command line's form, saying there is no terminal to
    confirm on and to pass --yes."""
    result = run(["send-file", str(_csv(tmp_path / "c.csv", ROWS))], env=env)
    assert result.exit_code == 2, result.output
    error = result.stderr.splitlines()[-1]
    assert error.startswith("error (invalid-input): --yes: the question 'Send?' has no one to")
    assert "there is no terminal to ask on" in error
    assert "Usage:" not in result.stderr
    assert error.endswith("pass --yes to send without being asked")
    assert "aborted" not in result.stderr
    assert len(gateway.ledger.messages) == 0
    data = as_json(run(["send-file", str(_csv(tmp_path / "c.csv", ROWS)), "--json"], env=env))
    assert (data["error"]["exit"], data["error"]["flag"]) == (2, "--yes")


def test_a_group_sent_in_several_requests_shows_each_requests_id(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """1001 personalised rows go in two mdgxsend requests (1000 a request): the result
    names both ids, one line each, as the gateway gave them; one request keeps one id."""
    rows = [(f"138{i:08d}", f"您好 {i}【示例】") for i in range(1001)]
    result = run(["send-file", str(_csv(tmp_path / "c.csv", rows)), "--yes"], env=env)
    assert result.exit_code == 0, result.output
    ids = list(dict.fromkeys(m.id for m in gateway.ledger.messages))
    assert len(ids) == 2
    assert result.stdout.splitlines()[1:] == [
        "  ext=- at=now: sent, one id per batch:",
        f"    batch 1 of 2 (1000 numbers): id {ids[0]}",
        f"    batch 2 of 2 (1 number): id {ids[1]}",
    ]
    one = run(["send-file", str(_csv(tmp_path / "d.csv", ROWS[:1])), "--yes"], env=env)
    assert one.stdout.splitlines()[1] == (
        f"  ext=- at=now: sent id={gateway.ledger.messages[-1].id}"
    )


def test_json_without_yes_is_refused(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """With --json there is no one to ask: without --yes, exit 2 and nothing sent."""
    result = run(["send-file", str(_csv(tmp_path / "c.csv", ROWS)), "--json"], env=env)
    assert result.exit_code == 2
    assert as_json(result)["error"]["argument"] == "yes"
    assert len(gateway.ledger.messages) == 0


def _interrupted(gateway: SandboxGateway, env: dict[str, str], path: Path) -> None:
    """Send ``path`` with the connection dropped after the personalised request went out."""
    gateway.primary.fail("drop-after", operation="mdgxsend", times=1)
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 14, result.output
    data = as_json(result)
    assert [g["state"] for g in data["groups"]] == ["partial", "not_sent"]


def test_an_interrupted_campaign_resumes_without_sending_anyone_twice(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Run 2 skips what was accepted, lists the unknown rows and asks; no pair goes twice."""
    rows = [*ROWS, ("13300133000", NOTICE, "7"), ("13200132000", "王五您好【示例】", "7")]
    path = _csv(tmp_path / "c.csv", [r if len(r) == 3 else (*r, "") for r in rows],
                header="mobile,content,ext")  # fmt: skip
    _interrupted(gateway, env, path)
    # Answer "no" to sending the unknown ones again, "yes" to the rest.
    result = run(["send-file", str(path)], env=env, stdin="n\ny\n")
    assert result.exit_code == 0, result.output
    assert "2 row(s) already accepted" in result.stderr
    assert "2 row(s) of unknown outcome" in result.stderr
    assert "137****7000" in result.stderr
    assert _sent(gateway) == Counter((r[0], r[1]) for r in rows)
    assert max(_sent(gateway).values()) == 1
    asked = run(["send-file", str(path), "--yes"], env=env)  # no answer on stdin
    assert asked.exit_code == 2, asked.output
    assert asked.stderr.rstrip().endswith(
        "pass --resend-unknown or --skip-unknown to say without being asked"
    )
    again = as_json(run(["send-file", str(path), "--yes", "--skip-unknown", "--json"], env=env))
    assert (again["already_accepted"], again["sent"]) == (4, 0)


def test_a_number_with_two_texts_resumes_as_two_accepted_rows(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """One number, two texts: one mdgxsend gives it both; run 2 counts both rows as
    accepted (not only the text at the number's first place) and sends nothing."""
    rows = [("13800138000", "甲您好【示例】"), ("13800138000", "乙您好【示例】")]
    path = _csv(tmp_path / "c.csv", rows)
    first = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert first.exit_code == 0, first.output
    again = as_json(run(["send-file", str(path), "--yes", "--json"], env=env))
    assert (again["already_accepted"], again["sent"]) == (2, 0)
    assert _sent(gateway) == Counter(rows)


def test_a_number_given_another_text_by_a_later_row_is_one_warning_by_line(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Line 4 gives line 2's number (written another way) another text: one warning line
    names both lines, said once (not again by the library's send, nor for line 5, which
    repeats line 4), and both texts go, each once."""
    rows = [("13800138000", "甲您好【示例】"), ("13900139000", "丙您好【示例】"),
            ("+86 138 0013 8000", "乙您好【示例】"), ("13800138000", "乙您好【示例】")]  # fmt: skip
    result = run(["send-file", str(_csv(tmp_path / "c.csv", rows)), "--yes", "--json"], env=env)
    assert result.exit_code == 0, result.output
    said = ("line 4: 13800138000 gets this text and line 2's: a number is sent every text "
            "its rows give it")  # fmt: skip
    assert result.stderr.splitlines() == [f"warning: {said}"]
    assert as_json(result)["warnings"] == [said]  # in the JSON report too
    assert _sent(gateway) == Counter([rows[0], rows[1], ("13800138000", rows[2][1])])


def test_unknown_rows_with_json_need_a_flag(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """--json with rows of unknown outcome and neither flag is refused; the flags decide."""
    path = _csv(tmp_path / "c.csv", ROWS)
    gateway.primary.fail("drop-after", operation="mdgxsend", times=1)
    assert run(["send-file", str(path), "--yes", "--json"], env=env).exit_code == 14
    result = run(["send-file", str(path), "--yes", "--json"], env=env)
    assert result.exit_code == 2
    assert "--resend-unknown or --skip-unknown" in as_json(result)["error"]["message"]
    skipped = as_json(run(["send-file", str(path), "--yes", "--skip-unknown", "--json"], env=env))
    assert (skipped["unknown_action"], skipped["sent"]) == ("skip", 0)
    resent = as_json(run(["send-file", str(path), "--yes", "--resend-unknown", "--json"], env=env))
    assert (resent["unknown_action"], resent["sent"]) == ("resend", 2)
    assert [u["mobile"] for u in resent["unknown"]] == ["137****7000", "136****6000"]
    # The dropped request had gone through: resending, as asked, delivers those twice.
    assert _sent(gateway)[ROWS[2]] == 2


def test_send_refuses_the_same_text_to_the_same_number_within_ten_minutes(
    gateway: SandboxGateway, env: dict[str, str]
) -> None:
    """The CLI's duplicate guard is on: a repeated send exits 2 naming the numbers."""
    args = ["send", "13800138000", "-t", NOTICE, "--json"]
    assert run(args, env=env).exit_code == 0
    result = run(args, env=env)
    assert result.exit_code == 2
    assert "138****8000" in as_json(result)["error"]["message"]
    assert run([*args, "--no-duplicate-guard"], env=env).exit_code == 0
    assert len(gateway.ledger.messages) == 2


def test_journal_table_sets_the_guard_or_turns_the_journal_off(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """[journal] duplicate_action = "warn" sends again; enabled = false: no guard, no resume."""
    cfg = tmp_path / "mandao.toml"
    cfg.write_text('[journal]\nduplicate_action = "warn"\n', encoding="utf-8")
    args = ["send", "13800138000", "-t", NOTICE, "--config", str(cfg), "--json"]
    assert run(args, env=env).exit_code == 0
    again = run(args, env=env)
    assert again.exit_code == 0
    (warning,) = again.stderr.splitlines()  # one clean line: no file, no source line
    assert warning.startswith("warning: 1 number")
    assert "sent the same text within" in warning
    assert warning.endswith("sending anyway")
    cfg.write_text("[journal]\nenabled = false\n", encoding="utf-8")
    path = _csv(tmp_path / "c.csv", ROWS)
    result = run(["send-file", str(path), "--yes", "--config", str(cfg)], env=env)
    assert result.exit_code == 0, result.output
    assert "journal off" in result.stderr
    assert len(gateway.ledger.messages) == 6


def test_a_bad_resume_window_is_a_usage_error(env: dict[str, str], tmp_path: Path) -> None:
    """--resume-window takes seconds or 12h/3d; anything else exits 2 before reading."""
    path = _csv(tmp_path / "c.csv", ROWS)
    assert run(["send-file", str(path), "--resume-window", "soon"], env=env).exit_code == 2


def test_the_progress_bar_goes_to_stderr_and_not_with_json(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Text output: the bar (rows sent of rows) is on stderr, the result alone on stdout;
    --json draws none and its stdout parses."""
    path = _csv(tmp_path / "c.csv", ROWS)
    result = run(["send-file", str(path), "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "4/4" in result.stderr
    assert "━" not in result.stdout
    assert result.stdout.startswith("sent: 4 of 4 billable message(s)")
    other = _csv(tmp_path / "d.csv", [(m, "第二批【示例】") for m, _ in ROWS])
    result = run(["send-file", str(other), "--yes", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert as_json(result)["sent"] == 4
    assert "sending" not in result.stderr


def test_rows_left_out_are_listed_by_line_and_an_emptied_group_is_not_sent(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """Numbers on the suppression list (the default: skip them): each row is listed by
    line with why, in the text and the JSON; a group of nothing but such rows is neither
    sent nor reported as sent. Before, they went unmentioned and the empty group said
    'sent'."""
    for mobile in ("13900139000", "13600136000"):
        assert run(["suppress", "add", mobile], env=env).exit_code == 0
    rows = [("13800138000", NOTICE, ""), ("13900139000", NOTICE, ""), ("13600136000", NOTICE, "7")]
    path = _csv(tmp_path / "c.csv", rows, header="mobile,content,ext")
    result = run(["send-file", str(path), "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "2 row(s) left out (2 suppressed):" in result.stderr
    assert "  line 3: 139****9000: suppressed: " in result.stderr
    assert "  line 4: 136****6000: suppressed: " in result.stderr
    assert "ext=7" not in result.stdout
    assert _sent(gateway) == Counter({("13800138000", NOTICE): 1})
    dry = as_json(run(["send-file", str(path), "--dry-run", "--json"], env=env))
    assert [(s["line"], s["kind"]) for s in dry["skipped"]] == [
        (3, "suppressed"),
        (4, "suppressed"),
    ]
    assert dry["groups"] == []  # line 2 is sent already; the rest are left out


def test_suppression_error_names_the_file_and_the_rows(
    gateway: SandboxGateway, env: dict[str, str], tmp_path: Path
) -> None:
    """--suppression error: the refusal names the file and each row's line (the number
    masked), not a NUMBERS argument send-file does not have; nothing is sent."""
    assert run(["suppress", "add", "13900139000"], env=env).exit_code == 0
    path = _csv(tmp_path / "c.csv", ROWS)
    result = run(["send-file", str(path), "--yes", "--suppression", "error", "--json"], env=env)
    assert result.exit_code == 2, result.output
    error = as_json(result)["error"]
    assert error["message"].startswith(
        "c.csv: 1 row(s) with a number on the suppression list: line 3 (139****9000); nothing"
    )
    assert "NUMBERS" not in result.output
    assert gateway.ledger.messages == []
