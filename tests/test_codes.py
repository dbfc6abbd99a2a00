"""The result-code table: its invariants, explain(), decode(), and the generated docs table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mandao import _codes, _errors
from mandao._codes import (
    CODES,
    Category,
    CodeInfo,
    RetryRule,
    decode,
    error_for,
    explain,
    markdown_table,
)
from mandao._errors import ValidationError

SRC = Path(_codes.__file__)
PACKAGE = SRC.parent
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
    """Every row is known, with a Category and a RetryRule member."""
    for info in CODES.values():
        assert info.known
        assert isinstance(info.category, Category)
        assert isinstance(info.retry, RetryRule)
        assert info.category is not Category.UNKNOWN


def test_categories_follow_the_brief() -> None:
    """Each category holds exactly the codes the design assigns it."""
    for category, codes in EXPECTED_CATEGORY.items():
        assert {c for c, i in CODES.items() if i.category is category} == codes, category


def test_retry_column_encodes_delivery_safety() -> None:
    """-8/-18 retry on the same host, -11/-14 are never retried, all others are not retried."""
    assert {c for c, i in CODES.items() if i.retry is RetryRule.SAME_HOST} == {-8, -18}
    assert {c for c, i in CODES.items() if i.retry is RetryRule.NEVER} == {-11, -14}
    assert CODES[-20].retry is RetryRule.NO
    assert CODES[-19].retry is RetryRule.NO


def test_no_retry_rule_allows_another_host() -> None:
    """A returned code proves a host took the request, so no rule sends it to another host."""
    assert {rule.value for rule in RetryRule} == {"no", "same_host", "never"}
    assert not hasattr(CODES[-8], "other_host")


EXPECTED_ERROR = {
    Category.ACCOUNT: _errors.AuthenticationError,
    Category.BALANCE: _errors.InsufficientBalance,
    Category.INVALID: _errors.InvalidParameter,
    Category.RATE_LIMITED: _errors.RateLimited,
    Category.DUPLICATE: _errors.DuplicateSubmission,
    Category.CONCURRENT: _errors.ConcurrentHostUse,
    Category.INTERNAL: _errors.GatewayInternalError,
}


def test_error_column_names_the_exception_of_each_code() -> None:
    """A success row raises nothing; every other row names the GatewayError of its kind."""
    for info in CODES.values():
        if info.category is Category.SUCCESS:
            assert info.error is None, info
        else:
            assert info.error is EXPECTED_ERROR[info.category], info


def test_internal_errors_are_also_outcome_unknown() -> None:
    """-11 and -14 raise a class that is both a GatewayError and an OutcomeUnknown."""
    for code in (-11, -14):
        error = CODES[code].error
        assert error is not None
        assert issubclass(error, _errors.GatewayError)
        assert issubclass(error, _errors.OutcomeUnknown)


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
        CODES[-20].retry = RetryRule.SAME_HOST  # type: ignore[misc]


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
        RetryRule.NO,
    )
    assert info.error is _errors.UnknownCode
    assert info.chinese
    assert info.hint_en


def test_explain_non_negative_value_is_an_id() -> None:
    """A non-negative value outside the table is a success id, known=False, value kept."""
    info = explain("210936472831121439")
    assert info.code == 210936472831121439
    assert (info.known, info.category, info.retry) == (False, Category.SUCCESS, RetryRule.NO)
    assert info.error is None


@pytest.mark.parametrize(
    "bad", ["", "  ", "abc", "-", "--20", "+20", "- 20", "1.5", "-20x", "２０", "1_000", "9" * 5000]
)
def test_explain_rejects_strings_that_are_not_integers(bad: str) -> None:
    """A string that is not a plain integer raises ValidationError naming the argument."""
    with pytest.raises(ValidationError) as caught:
        explain(bad)
    assert caught.value.argument == "code"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("name", ["DUPLICATE_SUBMISSION", " duplicate-submission ",
                                  "Duplicate Submission"])  # fmt: skip
def test_explain_takes_a_codes_name_as_the_command_line_does(name: str) -> None:
    """A code's name, in any case, with - or a space for _, is its row; a name no row has
    is a ValidationError naming the closest."""
    assert explain(name) is CODES[-20]
    with pytest.raises(ValidationError, match=r"no result code is named 'DUPLICATE_SUBMISION'; "
                       r"did you mean DUPLICATE_SUBMISSION\?") as caught:  # fmt: skip
        explain("DUPLICATE_SUBMISION")
    assert caught.value.argument == "code"


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
    info = CodeInfo(
        -1,
        "X",
        "中",
        "",
        "E.",
        "Do.",
        Category.INVALID,
        RetryRule.NO,
        _errors.InvalidParameter,
        "x",
    )
    assert info.known
    assert (info.retry, info.error, info.source) == (
        RetryRule.NO,
        _errors.InvalidParameter,
        "x",
    )


def test_markdown_table_has_a_row_per_code() -> None:
    """markdown_table() has a header, a rule and one row per code, in CODES order."""
    lines = markdown_table().splitlines()
    assert len(lines) == len(CODES) + 2
    assert [line.split(" | ")[0] for line in lines[2:]] == [f"| `{c}`" for c in CODES]
    assert all(line.count(" | ") == 9 for line in lines[2:])
    assert "| `InsufficientBalance` |" in lines[2 + list(CODES).index(-4)]


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


def test_table_modules_import_only_light_modules() -> None:
    """The table's modules import only the standard library, _errors and each other, so
    `mandao explain` starts fast."""
    stdlib = {"__future__", "contextlib", "enum", "re", "types", "collections.abc", "typing"}
    ours = {"_code_info", "_code_table", "_code_table_params", "_errors"}
    allowed = stdlib | ours | {"argparse", "pathlib", "difflib"}  # difflib: a name no row has
    for name in ("_codes", "_code_info", "_code_table", "_code_table_params"):
        tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert {alias.name for alias in node.names} <= allowed, name
            elif isinstance(node, ast.ImportFrom):
                assert node.module in allowed, (name, node.module)


def test_row_type_imports_nothing_of_mandao() -> None:
    """_code_info imports no mandao module: _codes and _errors both import it, no cycle."""
    tree = ast.parse((PACKAGE / "_code_info.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, node.module


SUCCESS = r"\d{1,18}"
WHERE = {"host": "http://h/ws.asmx", "operation": "mdsmssend", "rrid": "42"}


def test_decode_returns_a_reply_that_matches_success() -> None:
    """A reply matching the operation's success pattern comes back unchanged."""
    assert decode("210936472831121439", success=SUCCESS, **WHERE) == "210936472831121439"


@pytest.mark.parametrize("code", sorted(c for c, i in CODES.items() if c < 0))
def test_decode_raises_the_error_column_of_each_negative_code(code: int) -> None:
    """A negative code raises its row's class, carrying raw, code, where and recipients."""
    with pytest.raises(_errors.GatewayError) as caught:
        decode(str(code), success=SUCCESS, recipients=("13800138000",), **WHERE)
    error = caught.value
    assert type(error) is CODES[code].error
    assert (error.code, error.raw, error.info) == (code, str(code), CODES[code])
    assert (error.host, error.operation, error.rrid) == tuple(WHERE.values())
    assert error.recipients == ("13800138000",)


def test_decode_of_an_internal_error_is_an_outcome_unknown_without_cause() -> None:
    """-11 is an OutcomeUnknown with the request's recipients and no exception as cause."""
    with pytest.raises(_errors.OutcomeUnknown) as caught:
        decode("-11", success=SUCCESS, recipients=("13800138000",), **WHERE)
    assert isinstance(caught.value, _errors.GatewayInternalError)
    assert caught.value.recipients == ("13800138000",)
    assert caught.value.cause is None


def test_decode_keeps_the_raw_value_of_an_unknown_code() -> None:
    """A negative code no table knows raises UnknownCode with the value as sent."""
    with pytest.raises(_errors.UnknownCode) as caught:
        decode("-7777", success=SUCCESS, **WHERE)
    assert (caught.value.code, caught.value.raw) == (-7777, "-7777")
    assert not caught.value.info.known


@pytest.mark.parametrize(
    "raw",
    [
        "", "<html>502</html>", "-", "-abc", "-20x", "OK",
        "-0", "-01", "-020", "+20", " -20", "-2 0",  # no leading zero, sign or space in a code
        "１２３４５６", "٢١٨٢٩٠", "-４", "１" * 18,  # ASCII digits only, in an id and a code
        "1" * 19, "12 34", "0x12",
    ],
)  # fmt: skip
def test_decode_of_anything_else_is_a_protocol_error(raw: str) -> None:
    """A reply that is neither a success nor a code is a ProtocolError (outcome unknown)."""
    with pytest.raises(_errors.ProtocolError) as caught:
        decode(raw, success=SUCCESS, recipients=("13800138000",), **WHERE)
    assert caught.value.recipients == ("13800138000",)
    assert (caught.value.host, caught.value.operation) == (WHERE["host"], WHERE["operation"])


def test_decode_shows_the_scrubbed_text_it_is_given() -> None:
    """An undecodable reply's message shows ``shown`` (the driver's scrubbed text)."""
    with pytest.raises(_errors.ProtocolError) as caught:
        decode("echo E032A1", success=SUCCESS, shown="echo ***", **WHERE)
    assert "E032A1" not in str(caught.value)
    assert "echo ***" in caught.value.message


def test_error_for_a_success_row_is_an_unknown_code() -> None:
    """A row with no exception (a success) given to error_for becomes UnknownCode, value kept."""
    error = error_for(CODES[0], raw="0", host=None, operation=None, rrid=None)
    assert isinstance(error, _errors.UnknownCode)
    assert error.raw == "0"
