"""The gateway's result codes, as one table of data.

Every lookup goes through :data:`CODES`: what a code means (the vendor's Chinese text,
kept verbatim, and an English gloss), what the caller should do next, what kind of error
it is, and whether it may be retried and where. The client decides what to raise and
whether to retry by reading these columns, never by testing code values in branches.

Sources, in the ``source`` column:

- ``vendor``: the vendor document (2017), §2.1 返回值对照表. ``chinese`` is the
  返回值说明 column and ``hint_zh`` the 问题描述 column, character for character; only
  the whitespace around each cell (left by the document's conversion to text) is removed.
- ``public-clients``: codes missing from the vendor table but returned by the live
  gateway according to public client code (INTERFACE.md §4); the Chinese text is the one
  those clients' tables carry.
- ``mandao``: text this project wrote because no source gives one.

Run ``python -m mandao._codes`` to regenerate the table in ``docs/codes.md``.
"""

from __future__ import annotations

import contextlib
import enum
import re
import types
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ._errors import ValidationError

__all__ = ["CODES", "Category", "CodeInfo", "Retry", "explain", "main", "markdown_table"]


class Category(enum.Enum):
    """What kind of result a code is, i.e. what the caller should do about it."""

    SUCCESS = "success"  # nothing to do
    ACCOUNT = "account"  # fix serial, password, registration, permissions or IP binding
    BALANCE = "balance"  # top up
    INVALID = "invalid"  # fix the request
    RATE_LIMITED = "rate_limited"  # wait, then retry on the same host
    DUPLICATE = "duplicate"  # already submitted: treat as sent
    CONCURRENT = "concurrent"  # one serial in use on two hosts at once
    INTERNAL = "internal"  # gateway-side failure: the outcome is unknown
    UNKNOWN = "unknown"  # a code no table knows


class Retry(enum.Enum):
    """Whether the client may retry a request that got this code (the delivery-safety column)."""

    NO = "no"  # raise as decoded; retrying cannot change the answer
    SAME_HOST = "same_host"  # wait with jittered backoff, retry on the same host
    NEVER = "never"  # the outcome is unknown: a retry could send the SMS twice


class CodeInfo(NamedTuple):
    """One row of the result-code table (a named tuple: a table row, cheap to load).

    Attributes:
        code: the numeric result (``-20``).
        name: a short identifier (``"DUPLICATE_SUBMISSION"``).
        chinese: the vendor's 返回值说明, verbatim.
        hint_zh: the vendor's 问题描述, verbatim; ``""`` where it gives none.
        english: an English gloss of ``chinese``.
        hint_en: what the caller should do next, in one sentence.
        category: what kind of result this is.
        retry: whether and where the client may retry.
        other_host: whether another host may be tried for this code.
        source: where the row comes from: ``"vendor"``, ``"public-clients"`` or ``"mandao"``.
        known: ``False`` for a value that is not in the table.

    Example::

        >>> print(explain(-20).english)
        Same mobile number and same content submitted again.
    """

    code: int
    name: str
    chinese: str
    hint_zh: str
    english: str
    hint_en: str
    category: Category
    retry: Retry
    other_host: bool
    source: str
    known: bool = True

    def __str__(self) -> str:
        head = f"{self.code}  {self.name}  ({self.category.value}; retry: {self.retry.value})"
        if not self.known:
            head += "  [not in the code table]"
        lines = [head, f"  {self.chinese}"]
        if self.hint_zh:
            lines.append(f"  {self.hint_zh}")
        lines += [f"  {self.english}", f"  → {self.hint_en}"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        known = "" if self.known else ", known=False"
        return (
            f"CodeInfo(code={self.code}, name={self.name!r}, "
            f"category={self.category.value}, retry={self.retry.value}{known})"
        )


# Why other_host is False in every row: a returned code means a host received the request
# and answered it, so the request was not "provably unsent" — the only case in which issue 4
# allows sending to another host. A code about the request (-5, -6xx) or the account (-2,
# -7) would come back the same from the other host; -8/-18 are per serial, and moving them
# to the other host while the first may still hold a submission is what -19 forbids; -11/-14
# leave the outcome unknown, so a re-send anywhere risks a double send. Host switching is
# decided from transport failures (refused, connect timeout, slowness), never from codes.
_OTHER_HOST = False


def _row(
    code: int,
    name: str,
    chinese: str,
    hint_zh: str,
    english: str,
    hint_en: str,
    category: Category,
    retry: Retry = Retry.NO,
    source: str = "vendor",
) -> CodeInfo:
    return CodeInfo(
        code, name, chinese, hint_zh, english, hint_en, category, retry, _OTHER_HOST, source
    )


_AUTH_IP_ZH = ("Ip鉴权失败", "提交的IP不是所绑定的IP")
_AUTH_IP_EN = (
    "IP authentication failed: the submitting IP is not the bound IP.",
    "Send from the bound IP address, or ask the vendor to bind this one.",
)
_UNKNOWN_OUTCOME_HINT = (
    "Do not resend blindly: the outcome is unknown, so reconcile by rrid with the "
    "gateway's reports first."
)

_TABLE: tuple[CodeInfo, ...] = (
    # Non-negative codes. Both are also valid ids: a send returns its id instead, so the
    # client reads these two as codes only for calls that return codes.
    _row(
        0,
        "OK",
        "成功",
        "",
        "Success (calls that return a code rather than an id: Register, UnRegister, ...).",
        "Nothing to do: the call succeeded.",
        Category.SUCCESS,
        source="mandao",  # seen as success in public clients; no source gives it a text
    ),
    _row(
        1,
        "NO_DATA",
        "没有需要取得的数据",
        "取用户回复就出现1的返回值,表示没有回复数据",
        "No data to fetch: no replies (MO messages) are waiting.",
        "Nothing to do: poll again later for replies.",
        Category.SUCCESS,
        source="public-clients",
    ),
    _row(
        -1,
        "ALREADY_REGISTERED",
        "重复注册",
        "多次点击“注册”按钮或注册方法（Register）的“调用”按钮",
        "Duplicate registration: the serial number is already registered.",
        "Do not call Register again: the serial number is already registered.",
        Category.ACCOUNT,
        source="public-clients",
    ),
    _row(
        -2,
        "BAD_CREDENTIALS",
        "帐号/密码不正确",
        "1.序列号未注册2.密码加密不正确3.密码已被修改4.序列号已注销",
        "Wrong account or password.",
        "Check the serial number and password, and that the serial is registered and not"
        " unregistered.",
        Category.ACCOUNT,
    ),
    _row(
        -3,
        "ALREADY_LOGGED_IN",
        "重复登陆",
        "",
        "Duplicate login.",
        "Make sure only one session logs in with this serial number, then try again.",
        Category.ACCOUNT,
        source="public-clients",
    ),
    _row(
        -4,
        "INSUFFICIENT_BALANCE",
        "余额不足支持本次发送",
        "余额不足",
        "The balance does not cover this send.",
        "Top up the account before sending again.",
        Category.BALANCE,
    ),
    _row(
        -5,
        "BAD_DATA_FORMAT",
        "数据格式错误",
        "自行调试或联系技术支持",
        "Data format error.",
        "Check the request's fields and encoding, and contact the vendor's support if it persists.",
        Category.INVALID,
    ),
    _row(
        -6,
        "BAD_PARAMETER",
        "参数有误",
        "看参数传的是否均正常,请调试程序查看各参数",
        "Invalid parameter.",
        "Check each parameter's value and format against the operation's documentation.",
        Category.INVALID,
    ),
    _row(
        -7,
        "PERMISSION_RESTRICTED",
        "权限受限",
        "该序列号是否已经开通了调用该方法的权限",
        "Permission restricted: the serial number may not call this method.",
        "Ask the vendor to enable this method for the serial number.",
        Category.ACCOUNT,
    ),
    _row(
        -8,
        "FLOW_CONTROL",
        "流量控制错误",
        "",
        "Flow control: too many requests.",
        "Wait with backoff, then retry on the same host.",
        Category.RATE_LIMITED,
        Retry.SAME_HOST,
    ),
    _row(
        -9,
        "EXT_NOT_PERMITTED",
        "扩展码权限错误",
        "该序列号是否已经开通了扩展子号的权限,把ext这个参数置空。",
        "Extension code not permitted for this serial number.",
        "Send with ext empty, or ask the vendor to enable extension sub-numbers.",
        Category.INVALID,
    ),
    _row(
        -10,
        "CONTENT_TOO_LONG",
        "内容长度长",
        "单字节不能超过1000个字符，双字节不能超过500个字符",
        "Content too long.",
        "Shorten the content to at most 1000 single-byte or 500 double-byte characters.",
        Category.INVALID,
    ),
    _row(
        -11,
        "INTERNAL_DATABASE_ERROR",
        "内部数据库错误",
        "",
        "Internal database error at the gateway.",
        _UNKNOWN_OUTCOME_HINT,
        Category.INTERNAL,
        Retry.NEVER,
    ),
    _row(
        -12,
        "SERIAL_STATE_ERROR",
        "序列号状态错误",
        "序列号是否被禁用",
        "Serial number in a wrong state (it may be disabled).",
        "Ask the vendor whether the serial number is disabled.",
        Category.ACCOUNT,
    ),
    _row(
        -13,
        "NO_CONTENT_SUBMITTED",
        "没有提交增值内容",
        "提交时，无文本或无图片",
        "No value-added content submitted (MMS: no text or picture).",
        "Include the text or picture in the submission.",
        Category.INVALID,
        source="public-clients",
    ),
    _row(
        -14,
        "SERVER_WRITE_FAILED",
        "服务器写文件失败",
        "",
        "The gateway failed to write a file.",
        _UNKNOWN_OUTCOME_HINT,
        Category.INTERNAL,
        Retry.NEVER,
    ),
    _row(
        -15,
        "BAD_BASE64",
        "文件内容base64编码错误",
        "",
        "Base64 error in the file content.",
        "Encode the file content as valid base64.",
        Category.INVALID,
        source="public-clients",
    ),
    _row(
        -16,
        "BAD_REPORT_PARAMETER",
        "返回报告库参数错误",
        "",
        "Report-store parameter error.",
        "Check the parameters of the report query.",
        Category.INVALID,
        source="public-clients",
    ),
    _row(
        -17,
        "NO_PERMISSION",
        "没有权限",
        "如发送彩信仅限于SDK3",
        "No permission (for example, MMS is for SDK3 accounts only).",
        "Use an account that has this permission, or ask the vendor to grant it.",
        Category.ACCOUNT,
    ),
    _row(
        -18,
        "PREVIOUS_SUBMISSION_PENDING",
        "上次提交没有等待返回不能继续提交",
        "默认不支持多线程",
        "The previous submission has not returned yet, so no new one is accepted.",
        "Wait with backoff, then retry on the same host (a serial takes one submission at"
        " a time by default).",
        Category.RATE_LIMITED,
        Retry.SAME_HOST,
        source="public-clients",
    ),
    _row(
        -19,
        "CONCURRENT_HOSTS",
        "禁止同时使用多个接口地址",
        "每个序列号提交只能使用一个接口地址",
        "Using several interface addresses at the same time is forbidden.",
        "Do not retry: make every client that shares this serial number use one host at a time.",
        Category.CONCURRENT,
    ),
    _row(
        -20,
        "DUPLICATE_SUBMISSION",
        "相同手机号，相同内容重复提交",
        "",
        "Same mobile number and same content submitted again.",
        "Do not resend: the same message was accepted recently, so treat it as sent.",
        Category.DUPLICATE,
    ),
    # The vendor table has one row "-21/-22"; both codes occur in public clients.
    _row(-21, "IP_AUTH_FAILED_21", *_AUTH_IP_ZH, *_AUTH_IP_EN, Category.ACCOUNT),
    _row(-22, "IP_AUTH_FAILED_22", *_AUTH_IP_ZH, *_AUTH_IP_EN, Category.ACCOUNT),
    _row(
        -23,
        "SERIAL_NOT_CACHED",
        "缓存无此序列号信息",
        "",
        "The gateway's cache has no information on this serial number.",
        "Check the serial number and that it is registered, then contact the vendor if it"
        " persists.",
        Category.ACCOUNT,
    ),
    _row(
        -601,
        "EMPTY_SERIAL",
        "序列号为空，参数错误",
        "",
        "Parameter error: the serial number is empty.",
        "Pass the serial number (sn).",
        Category.INVALID,
    ),
    _row(
        -602,
        "BAD_SERIAL_FORMAT",
        "序列号格式错误，参数错误",
        "",
        "Parameter error: the serial number's format is wrong.",
        "Pass sn in the form XXX-XXX-XXX-XXXXX.",
        Category.INVALID,
    ),
    _row(
        -603,
        "EMPTY_PASSWORD",
        "密码为空，参数错误",
        "",
        "Parameter error: the password is empty.",
        "Pass the password (pwd).",
        Category.INVALID,
    ),
    _row(
        -604,
        "EMPTY_MOBILE",
        "手机号码为空，参数错误",
        "",
        "Parameter error: the mobile number is empty.",
        "Pass at least one mobile number.",
        Category.INVALID,
    ),
    _row(
        -605,
        "EMPTY_CONTENT",
        "内容为空，参数错误",
        "",
        "Parameter error: the content is empty.",
        "Pass non-empty content.",
        Category.INVALID,
    ),
    _row(
        -606,
        "EXT_TOO_LONG",
        "ext长度大于9，参数错误",
        "",
        "Parameter error: ext is longer than 9 characters.",
        "Shorten ext to at most 9 digits.",
        Category.INVALID,
    ),
    _row(
        -607,
        "EXT_NOT_DIGITS",
        "参数错误 扩展码非数字",
        "",
        "Parameter error: the extension code is not numeric.",
        "Pass ext as digits only.",
        Category.INVALID,
    ),
    _row(
        -608,
        "BAD_SCHEDULE_TIME",
        "参数错误 定时时间非日期格式",
        "",
        "Parameter error: the scheduled time is not a date.",
        "Pass stime as yyyy-MM-dd HH:mm:ss, or empty to send now.",
        Category.INVALID,
    ),
    _row(
        -609,
        "RRID_TOO_LONG",
        "rrid长度大于18,参数错误",
        "",
        "Parameter error: rrid is longer than 18 characters.",
        "Shorten rrid to at most 18 digits.",
        Category.INVALID,
    ),
    _row(
        -610,
        "RRID_NOT_DIGITS",
        "参数错误 rrid非数字",
        "",
        "Parameter error: rrid is not numeric.",
        "Pass rrid as digits only.",
        Category.INVALID,
    ),
    _row(
        -611,
        "BAD_CONTENT_ENCODING",
        "参数错误 内容编码不符合规范",
        "",
        "Parameter error: the content's encoding does not conform.",
        "URL-encode the content as UTF-8 and check msgfmt.",
        Category.INVALID,
    ),
    _row(
        -623,
        "CONTENT_COUNT_MISMATCH",
        "手机个数与内容个数不匹配",
        "",
        "The number of mobiles and the number of contents differ.",
        "Pass exactly one content per mobile.",
        Category.INVALID,
    ),
    _row(
        -624,
        "EXT_COUNT_MISMATCH",
        "扩展个数与手机个数不匹配",
        "",
        "The number of extension codes and the number of mobiles differ.",
        "Pass ext empty, once, or once per mobile.",
        Category.INVALID,
    ),
    _row(
        -625,
        "STIME_COUNT_MISMATCH",
        "定时时间个数与手机个数不匹配",
        "",
        "The number of scheduled times and the number of mobiles differ.",
        "Pass stime empty, once, or once per mobile.",
        Category.INVALID,
    ),
    _row(
        -626,
        "RRID_COUNT_MISMATCH",
        "rrid个数与手机个数不匹配",
        "",
        "The number of rrids and the number of mobiles differ.",
        "Pass rrid empty, once, or once per mobile.",
        Category.INVALID,
    ),
    # In public tables where the vendor's has -626, same meaning: most likely its older number.
    _row(
        -644,
        "RRID_COUNT_MISMATCH_LEGACY",
        "Rrid个数与手机号个数不一致",
        "",
        "The number of rrids and the number of mobile numbers differ (older code for -626).",
        "Pass rrid empty, once, or once per mobile.",
        Category.INVALID,
        source="public-clients",
    ),
)

CODES: Mapping[int, CodeInfo] = types.MappingProxyType({row.code: row for row in _TABLE})
"""Every known result code, read-only: 0, 1, then the negative codes in ascending magnitude."""

_INTEGER = re.compile(r"-?[0-9]+")


def explain(code: int | str) -> CodeInfo:
    """Decode a result code, or a raw result string as the gateway sent it.

    Args:
        code: an int, or a string such as ``"-20"`` (surrounding whitespace is ignored).

    Returns:
        The table's row; for a value not in the table, a row with ``known=False``: an
        unknown negative code is category ``UNKNOWN`` (raised as decoded, not retried),
        a non-negative value is an id, category ``SUCCESS``. The value is kept in ``code``.

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
            Retry.NO,
            _OTHER_HOST,
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
        Retry.NO,
        _OTHER_HOST,
        "mandao",
        known=False,
    )


BEGIN_MARKER = "<!-- codes:begin -->"
END_MARKER = "<!-- codes:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """Render :data:`CODES` as the Markdown table of ``docs/codes.md`` (ends with a newline)."""
    header = (
        "| Code | Name | 返回值说明 | 问题描述 | English | Next step "
        "| Category | Retry | Other host | Source |"
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
            "yes" if info.other_host else "no",
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
