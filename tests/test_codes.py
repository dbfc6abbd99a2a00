"""The result-code table: its invariants, explain(), and the generated docs table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mandao import _codes
from mandao._codes import CODES, Category, CodeInfo, Retry, explain, markdown_table
from mandao._errors import ValidationError

SRC = Path(_codes.__file__)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "codes.md"

# The codes of the vendor document's §2.1 (-21/-22 is one vendor row) and of INTERFACE.md §4.
VENDOR = {-2, -4, -5, -6, -7, -8, -9, -10, -11, -12, -14, -17, -19, -20, -21, -22, -23}
VENDOR |= {*range(-611, -600), *range(-626, -622)}
PUBLIC_CLIENTS = {1, -1, -3, -13, -15, -16, -18, -644}
EXPECTED_CATEGORY = {
    Category.SUCCESS: {0, 1},
    Category.ACCOUNT: {-1, -2, -3, -7, -12, -17, -21, -22, -23},
    Category.BALANCE: {-4},
    Category.INVALID: {-5, -6, -9, -10, -13, -15, -16, -644}
    | {*range(-611, -600), *range(-626, -622)},
    Category.RATE_LIMITED: {-8, -18},
    Category.DUPLICATE: {-20},
    Category.CONCURRENT: {-19},
    Category.INTERNAL: {-11, -14},
}


def test_table_holds_exactly_the_vendor_and_public_client_codes() -> None:
    """CODES has every vendor §2.1 code, the INTERFACE.md §4 additions, and nothing else."""
    assert set(CODES) == VENDOR | PUBLIC_CLIENTS | {0}


def test_keys_match_rows_and_names_are_unique_upper_snake() -> None:
    """Each key is its row's code, and names are unique UPPER_SNAKE identifiers."""
    assert all(code == info.code for code, info in CODES.items())
    names = [info.name for info in CODES.values()]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", name) for name in names)


def test_sources_say_where_each_row_comes_from() -> None:
    """Vendor codes are marked vendor, the §4 additions public-clients, 0 mandao."""
    assert {c for c, i in CODES.items() if i.source == "vendor"} == VENDOR
    assert {c for c, i in CODES.items() if i.source == "public-clients"} == PUBLIC_CLIENTS
    assert {c for c, i in CODES.items() if i.source == "mandao"} == {0}


def test_text_columns_are_filled_and_trimmed() -> None:
    """Chinese, English and hint are non-empty; no text column has stray whitespace."""
    for info in CODES.values():
        assert all((info.chinese, info.english, info.hint_en)), info
        for text in (info.chinese, info.hint_zh, info.english, info.hint_en):
            assert text == " ".join(text.split()), info
        assert info.hint_en[0].isupper(), info
        assert info.hint_en.endswith("."), info
        assert info.english.endswith("."), info
        assert re.search(r"[\u4e00-\u9fff]", info.chinese), info


def test_every_row_is_known_with_valid_enums() -> None:
    """Every row is known, with a Category and a Retry member."""
    for info in CODES.values():
        assert info.known
        assert isinstance(info.category, Category)
        assert isinstance(info.retry, Retry)
        assert info.category is not Category.UNKNOWN


def test_categories_follow_the_brief() -> None:
    """Each category holds exactly the codes the design assigns it."""
    for category, codes in EXPECTED_CATEGORY.items():
        assert {c for c, i in CODES.items() if i.category is category} == codes, category


def test_retry_column_encodes_delivery_safety() -> None:
    """-8/-18 retry on the same host, -11/-14 are never retried, all others are not retried."""
    assert {c for c, i in CODES.items() if i.retry is Retry.SAME_HOST} == {-8, -18}
    assert {c for c, i in CODES.items() if i.retry is Retry.NEVER} == {-11, -14}
    assert CODES[-20].retry is Retry.NO
    assert CODES[-19].retry is Retry.NO


def test_no_returned_code_allows_another_host() -> None:
    """A returned code proves a host took the request, so no row allows another host."""
    assert not any(info.other_host for info in CODES.values())


def test_vendor_row_21_22_becomes_two_identical_rows() -> None:
    """-21 and -22 share the vendor's one row of text."""
    a, b = CODES[-21], CODES[-22]
    assert (a.chinese, a.hint_zh, a.english, a.hint_en) == (
        b.chinese,
        b.hint_zh,
        b.english,
        b.hint_en,
    )


def test_client_local_sentinels_are_not_gateway_codes() -> None:
    """-99, -100, -999 and -1000 from public clients decode as unknown, not as table rows."""
    for code in (-99, -100, -999, -1000):
        assert code not in CODES
        assert explain(code).category is Category.UNKNOWN


def test_codes_mapping_is_read_only() -> None:
    """CODES cannot be changed at run time, and its rows are frozen."""
    with pytest.raises(TypeError):
        CODES[-20] = CODES[-19]  # type: ignore[index]
    with pytest.raises(AttributeError):
        CODES[-20].retry = Retry.SAME_HOST  # type: ignore[misc]


@pytest.mark.parametrize("form", [-20, "-20", " -20 ", "\t-20\n", "-020"])
def test_explain_accepts_int_and_string_forms(form: int | str) -> None:
    """explain() returns the table row for an int or a string with surrounding whitespace."""
    assert explain(form) is CODES[-20]


def test_explain_unknown_negative_code_keeps_value() -> None:
    """An unknown negative code decodes: known=False, category UNKNOWN, retry NO, value kept."""
    info = explain("-7777")
    assert (info.code, info.known, info.category, info.retry) == (
        -7777,
        False,
        Category.UNKNOWN,
        Retry.NO,
    )
    assert not info.other_host
    assert info.chinese
    assert info.hint_en


def test_explain_non_negative_value_is_an_id() -> None:
    """A non-negative value outside the table is a success id, known=False, value kept."""
    info = explain("210936472831121439")
    assert info.code == 210936472831121439
    assert (info.known, info.category, info.retry) == (False, Category.SUCCESS, Retry.NO)


@pytest.mark.parametrize(
    "bad", ["", "  ", "abc", "-", "--20", "+20", "- 20", "1.5", "-20x", "２０", "1_000", "9" * 5000]
)
def test_explain_rejects_strings_that_are_not_integers(bad: str) -> None:
    """A string that is not a plain integer raises ValidationError naming the argument."""
    with pytest.raises(ValidationError) as caught:
        explain(bad)
    assert caught.value.argument == "code"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("bad", [None, 1.0, True, b"-20"])
def test_explain_rejects_other_types(bad: object) -> None:
    """Values that are neither int nor str (bool included) raise ValidationError."""
    with pytest.raises(ValidationError):
        explain(bad)  # type: ignore[arg-type]


@given(st.integers())
def test_explain_agrees_for_int_and_its_string(value: int) -> None:
    """explain(n) and explain(str(n)) give the same row for any integer."""
    assert explain(value) == explain(str(value))
    assert explain(value).code == value


def test_str_shows_code_texts_and_next_step() -> None:
    """str() is a multi-line card with code, name, Chinese, hint, English and next step."""
    info = CODES[-2]
    text = str(info)
    for part in ("-2", info.name, info.chinese, info.hint_zh, info.english, info.hint_en):
        assert part in text
    assert len(text.splitlines()) == 5
    assert "not in the code table" in str(explain(-7777))


def test_repr_is_one_concise_line() -> None:
    """repr() is one line naming the code, name, category and retry, plus known=False if so."""
    text = repr(CODES[-20])
    assert "\n" not in text
    assert len(text) < 100
    assert "-20" in text
    assert "DUPLICATE_SUBMISSION" in text
    assert "duplicate" in text
    assert "known=False" in repr(explain(-7777))
    assert "known" not in text


def test_code_info_can_be_built_directly() -> None:
    """CodeInfo takes its fields in the documented order, known defaulting to True."""
    info = CodeInfo(-1, "X", "中", "", "E.", "Do.", Category.INVALID, Retry.NO, False, "mandao")
    assert info.known


def test_markdown_table_has_a_row_per_code() -> None:
    """markdown_table() has a header, a rule and one row per code, in CODES order."""
    lines = markdown_table().splitlines()
    assert len(lines) == len(CODES) + 2
    assert [line.split(" | ")[0] for line in lines[2:]] == [f"| `{c}`" for c in CODES]
    assert all(line.count(" | ") == 9 for line in lines[2:])


def test_docs_table_matches_the_code() -> None:
    """docs/codes.md holds exactly markdown_table() between its markers."""
    text = DOCS.read_text(encoding="utf-8")
    begin, end = _codes.BEGIN_MARKER, _codes.END_MARKER
    assert text.count(begin) == 1
    assert text.count(end) == 1
    inner = text.split(begin, 1)[1].split(end, 1)[0]
    assert inner == "\n" + markdown_table(), "run: python -m mandao._codes docs/codes.md"


def test_main_rewrites_and_checks_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m mandao._codes` fills the marked section; --check exits 1 only when stale."""
    page = tmp_path / "codes.md"
    page.write_text(
        f"intro\n{_codes.BEGIN_MARKER}\nSTALE-TABLE\n{_codes.END_MARKER}\ntail\n", "utf-8"
    )
    assert _codes.main([str(page), "--check"]) == 1
    assert page.read_text("utf-8").count("STALE-TABLE") == 1
    assert _codes.main([str(page)]) == 0
    text = page.read_text("utf-8")
    assert text.startswith("intro\n")
    assert text.endswith(f"{_codes.END_MARKER}\ntail\n")
    assert markdown_table() in text
    assert "STALE-TABLE" not in text
    assert _codes.main([str(page), "--check"]) == 0
    capsys.readouterr()


def test_main_refuses_a_file_without_markers(tmp_path: Path) -> None:
    """A file without the two markers is an error, not silently rewritten."""
    page = tmp_path / "codes.md"
    page.write_text("no markers\n", "utf-8")
    with pytest.raises(SystemExit) as caught:
        _codes.main([str(page)])
    assert caught.value.code == 2
    assert page.read_text("utf-8") == "no markers\n"


def test_module_imports_only_light_modules() -> None:
    """_codes imports only the standard library and _errors, so `mandao explain` starts fast."""
    allowed = {"__future__", "contextlib", "enum", "re", "types", "collections.abc", "typing"}
    allowed |= {"_errors", "argparse", "pathlib"}
    tree = ast.parse(SRC.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert {alias.name for alias in node.names} <= allowed
        elif isinstance(node, ast.ImportFrom):
            assert node.module in allowed, node.module
