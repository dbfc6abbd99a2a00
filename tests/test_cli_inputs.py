"""What operators give the commands: number files and campaigns in any encoding, Chinese
headers, delivery times as written; errors that name the file, line and flag."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mandao.cli._inputs import decode, delivery_time, parse_numbers, point_in_time
from mandao.cli._output import Refusal
from mandao.cli._table import sample_line
from mandao.testing import SandboxGateway

from ._cli_helpers import as_json, run, sandbox_env

TEXT = "通知【示例】"
CHINA = timezone(timedelta(hours=8))
LATER = datetime.now(CHINA) + timedelta(days=30)


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "gbk", "gb18030"]
)
def test_a_number_file_is_read_in_any_encoding_operators_save(
    gateway: SandboxGateway, tmp_path: Path, encoding: str
) -> None:
    """send --file reads UTF-8 with a BOM (the first number stays valid), UTF-16 and GBK."""
    numbers = tmp_path / "n.txt"
    numbers.write_bytes("# 名单\n13800138000\n13900139000\n".encode(encoding))
    result = run(["send", "--file", str(numbers), "-t", TEXT, "--json"], env=sandbox_env(gateway))
    assert result.exit_code == 0, result.output
    assert {m.mobile for m in gateway.ledger.messages} == {"13800138000", "13900139000"}


def test_bad_numbers_are_listed_one_a_line_by_file_and_line(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """Invalid numbers exit 2 naming the file and the (1-based) line of each, one a line
    after the message (a colon before them in the text, none in the JSON's message);
    with --skip-invalid the skipped are listed the same way and the rest are sent."""
    numbers = tmp_path / "staff.txt"
    numbers.write_text("13800138000\n12345\n# note\nabc\n", encoding="utf-8")
    args = ["send", "139 0013 9000", "--file", str(numbers), "-t", TEXT]
    result = run(args, env=sandbox_env(gateway))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error (invalid-input): NUMBERS: 2 invalid numbers, nothing sent")
    assert lines[1].startswith("  staff.txt line 2: '12345': ")
    assert lines[2].startswith("  staff.txt line 4: 'abc': ")
    assert lines[0].endswith("(--skip-invalid sends to the others):")
    error = as_json(run([*args, "--json"], env=sandbox_env(gateway)))["error"]
    # The JSON message is a sentence of its own: no colon left dangling for the details.
    assert error["message"] == (
        "NUMBERS: 2 invalid numbers, nothing sent (--skip-invalid sends to the others)"
    )
    assert [d.split(":")[0] for d in error["details"]] == ["staff.txt line 2", "staff.txt line 4"]
    assert [(i["position"], i["where"]) for i in error["invalid"]] == [
        (3, "staff.txt line 2"), (4, "staff.txt line 4"),
    ]  # fmt: skip
    assert gateway.ledger.messages == []
    sent = run([*args, "--skip-invalid"], env=sandbox_env(gateway))
    assert sent.exit_code == 0, sent.output
    assert "skipped staff.txt line 2: '12345'" in sent.stderr
    assert len(gateway.ledger.messages) == 2


def test_many_numbers_left_out_are_listed_twenty_then_counted(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """30 invalid numbers skipped: the first 20 a line each, then one line counting the
    rest by why; the JSON lists every one."""
    numbers = tmp_path / "staff.txt"
    numbers.write_text("13800138000\n" + "".join(f"1234{i:02d}\n" for i in range(30)), "utf-8")
    args = ["send", "--file", str(numbers), "-t", TEXT, "--skip-invalid"]
    sent = run(args, env=sandbox_env(gateway))
    assert sent.exit_code == 0, sent.output
    listed = [line for line in sent.stderr.splitlines() if line.startswith("  skipped ")]
    assert len(listed) == 20
    assert listed[-1].startswith("  skipped staff.txt line 21: '123419'")
    assert "  … and 10 more skipped (10 invalid); --json lists each" in sent.stderr
    assert len(as_json(run([*args, "--json"], env=sandbox_env(gateway)))["skipped"]) == 30
    assert len(gateway.ledger.messages) == 2


@pytest.mark.parametrize(
    "header", ["手机号码,短信内容", "手机号,内容", "Mobile , CONTENT", "号码,短信"]
)
def test_a_campaign_header_may_be_chinese(
    gateway: SandboxGateway, tmp_path: Path, header: str
) -> None:
    """The header names mobile and content in English (any case) or Chinese."""
    path = tmp_path / "c.csv"
    path.write_text(f"{header}\n13800138000,{TEXT}\n", encoding="utf-8")
    result = run(["send-file", str(path), "--yes", "--json"], env=sandbox_env(gateway))
    assert result.exit_code == 0, result.output
    assert [(m.mobile, m.content) for m in gateway.ledger.messages] == [("13800138000", TEXT)]


def test_a_utf16_campaign_from_excel_is_read_and_named(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """Excel's "Unicode text" (UTF-16 with a BOM) is read; the encoding is named."""
    path = tmp_path / "c.csv"
    path.write_bytes(f"手机号码,短信内容,扩展号\r\n13800138000,{TEXT},12\r\n".encode("utf-16"))
    data = as_json(run(["send-file", str(path), "--yes", "--json"], env=sandbox_env(gateway)))
    assert (data["encoding"], data["sent"]) == ("utf-16", 1)
    assert gateway.ledger.messages[0].ext == "12"


def test_a_bad_header_names_the_file_and_the_columns_it_takes(tmp_path: Path) -> None:
    """A header without mobile/content is refused naming the file (not FILE) and both names."""
    path = tmp_path / "名单.csv"
    path.write_text("电话,文本\n13800138000,x\n", encoding="utf-8")
    result = run(["send-file", str(path), "--json"], env={"MANDAO_SN": "SDK-TST-010-00001",
                                                        "MANDAO_PASSWORD": "x"})  # fmt: skip
    error = as_json(result)["error"]
    assert result.exit_code == 2
    assert error["message"].startswith(
        "名单.csv: unknown columns '电话' (did you mean '手机号码'?), '文本'; no content column; "
        "the header row must name the columns"
    )
    assert "手机号码" in error["message"]
    assert "短信内容" in error["message"]


@pytest.mark.parametrize("written", ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"])
def test_send_at_takes_the_forms_its_help_shows(gateway: SandboxGateway, written: str) -> None:
    """send --at "2026-12-26 09:00" (as --help and docs/cli.md show it) is accepted."""
    at = LATER.strftime(written)
    result = run(["send", "13811112231", "-t", "定时【示例】", "--at", at, "--json"],
                 env=sandbox_env(gateway))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert as_json(result)["scheduled"] == LATER.strftime("%Y-%m-%d %H:%M:00" if written.count(
        ":") == 1 else "%Y-%m-%d %H:%M:%S")  # fmt: skip
    text = run(["send", "13811112232", "-t", "定时【示例】", "--at", at], env=sandbox_env(gateway))
    assert text.stdout.startswith("scheduled for ")


def test_a_bad_at_names_the_flag() -> None:
    """An --at in no known form exits 2 naming --at and the form it takes."""
    result = run(["send", "13800138000", "-t", TEXT, "--at", "明天", "--json"],
                 env={"MANDAO_SN": "SDK-TST-010-00001", "MANDAO_PASSWORD": "x"})  # fmt: skip
    error = as_json(result)["error"]
    assert (result.exit_code, error["flag"]) == (2, "--at")
    assert "yyyy-MM-dd HH:mm" in error["message"]


def test_an_at_of_a_date_with_no_time_says_to_add_the_time() -> None:
    """`--at 2027-01-05`: the refusal says it is a date with no time of day, and to add the
    time (it is not sent at midnight); before, it gave only the form expected."""
    result = run(["send", "13800138000", "-t", TEXT, "--at", "2027-01-05", "--json"],
                 env={"MANDAO_SN": "SDK-TST-010-00001", "MANDAO_PASSWORD": "x"})  # fmt: skip
    error = as_json(result)["error"]
    assert (result.exit_code, error["flag"]) == (2, "--at")
    assert error["message"] == (
        "--at: expected 'yyyy-MM-dd HH:mm[:ss]' (China time), got '2027-01-05', a date with "
        "no time of day: add the time to send at ('2027-01-05 09:00'); a date alone is not "
        "sent at midnight"
    )


def test_the_readers_as_functions() -> None:
    """decode names what it read; parse_numbers keeps lines; times read as documented."""
    assert decode("13800138000".encode("utf-16-le"), "n.txt") == ("13800138000", "utf-16-le")
    assert decode(b"\xef\xbb\xbf1", "n.txt") == ("1", "utf-8 (with BOM)")
    with pytest.raises(Refusal) as bom:  # UTF-8 with a BOM, GBK rows appended
        decode(b"\xef\xbb\xbf" + "1,你好\n".encode() + "2,你好\n3,再见\n".encode("gbk"), "b.csv")
    assert bom.value.message == (
        "b.csv: line 2: byte 0xC4 is not UTF-8, nor is line 3, though the file starts as "
        "UTF-8 (its BOM says so): mend them, or save the whole file as UTF-8"
    )
    with pytest.raises(Refusal) as accents:  # UTF-8 of accents and emoji, one stray byte
        decode("1,Bonjour José: café 🎉\n2,Hi Jos".encode() + b"\xe9a\n", "p.csv")
    assert accents.value.message.startswith("p.csv: line 2: byte 0xE9 is not UTF-8, though")
    with pytest.raises(Refusal) as stray:  # Latin-1 at a line's end: no encoding reads it
        decode(b"mobile,content\n13900001122,Hello Jos\xe9\n13900001123,Jos\xe9a\n", "n.csv")
    assert stray.value.message == (
        "n.csv: line 2: byte 0xE9 is not UTF-8, nor is line 3, and the file is not "
        "GBK/GB18030 (nor UTF-16) either: mend them, or save the file as UTF-8"
    )
    assert parse_numbers("1；2，3\n\n4 # x", "s") == [
        ("1", "s line 1"), ("2", "s line 1"), ("3", "s line 1"), ("4", "s line 3"),
    ]  # fmt: skip
    assert delivery_time("2026/12/26 09:00") == datetime(2026, 12, 26, 9, 0)
    now = datetime(2026, 5, 2, 1, 0, tzinfo=UTC)  # 09:00 China time
    assert point_in_time("yesterday", argument="--since", now=now) == datetime(
        2026, 5, 1, tzinfo=CHINA
    )
    assert point_in_time("2h", argument="--since", now=now) == now - timedelta(hours=2)
    assert point_in_time("3 days ago", argument="--since", now=now) == now - timedelta(days=3)
    assert point_in_time("2026-05-01 08:00", argument="--since", now=now) == datetime(
        2026, 5, 1, 8, tzinfo=CHINA
    )


def test_a_guessed_encodings_sample_is_the_first_cell_beyond_ascii_cut_around_it() -> None:
    """Below the header (Chinese here), the first cell with more than ASCII, 20 characters
    before that character and 40 in all; none for UTF-8 (no guess) or ASCII only."""
    text = f"手机,内容\n1,plain\n2,{'a' * 30}閍{'b' * 30}\n"
    assert sample_line(text, "gbk") == (
        f'  line 3 as gbk: "…{"a" * 20}閍{"b" * 19}…" '
        "(if that is garbled, save the file as UTF-8 and run again)"
    )
    assert sample_line(text, "utf-8") is None
    assert sample_line("手机,内容\n1,plain\n", "gb18030") is None


def test_duplicate_rows_in_a_utf8_bom_campaign_go_once(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """A BOM before a Chinese header is no part of the first column's name."""
    path = tmp_path / "c.csv"
    path.write_text(f"手机号码,短信内容\n13800138000,{TEXT}\n13800138000,{TEXT}\n",
                    encoding="utf-8-sig")  # fmt: skip
    data = as_json(run(["send-file", str(path), "--yes", "--json"], env=sandbox_env(gateway)))
    assert (data["encoding"], data["repeated"]) == ("utf-8 (with BOM)", 1)
    assert Counter(m.mobile for m in gateway.ledger.messages) == Counter({"13800138000": 1})
