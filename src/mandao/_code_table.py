"""The result-code table's rows, as data: codes 0, 1 and -1 … -23.

The parameter errors (-601 … -644) are in :mod:`mandao._code_table_params`;
:data:`mandao._codes.CODES` joins the two. Sources, in the ``source`` column:

- ``vendor``: the vendor document (2017), §2.1 返回值对照表. ``chinese`` is the
  返回值说明 column and ``hint_zh`` the 问题描述 column, character for character; only
  the whitespace around each cell (left by the document's conversion to text) is removed.
- ``public-clients``: codes missing from the vendor table but returned by the live
  gateway according to public client code (INTERFACE.md §4); the Chinese text is the one
  those clients' tables carry.
- ``mandao``: text this project wrote because no source gives one.

The ``error`` column is the exception raised for the code. No column says another host
may be tried: a returned code means a host received the request and answered it, so the
request was not provably unsent, the only case in which another host is tried. A code
about the request (-5, -6xx) or the account (-2, -7) would come back the same from the
other host; -8/-18 are per serial, and moving them to the other host while the first may
still hold a submission is what -19 forbids; -11/-14 leave the outcome unknown, so a
re-send anywhere risks a double send.
"""

from __future__ import annotations

from ._code_info import Category, CodeInfo, RetryRule, row
from ._errors import (
    AuthenticationError,
    ConcurrentHostUse,
    DuplicateSubmission,
    GatewayInternalError,
    InsufficientBalance,
    InvalidParameter,
    RateLimited,
)

__all__ = ["GENERAL_ROWS", "UNKNOWN_OUTCOME_HINT"]

_AUTH_IP_ZH = ("Ip鉴权失败", "提交的IP不是所绑定的IP")
_AUTH_IP_EN = (
    "IP authentication failed: the submitting IP is not the bound IP.",
    "Send from the bound IP address, or ask the vendor to bind this one.",
)
UNKNOWN_OUTCOME_HINT = (
    "Do not resend blindly: the outcome is unknown, so reconcile by rrid with the "
    "gateway's reports first."
)

#: Codes 0, 1 and -1 … -23, in that order.
GENERAL_ROWS: tuple[CodeInfo, ...] = (
    # Non-negative codes. Both are also valid ids: a send returns its id instead, so the
    # client reads these two as codes only for calls that return codes.
    row(
        0,
        "OK",
        "成功",
        "",
        "Success (calls that return a code rather than an id: Register, UnRegister, ...).",
        "Nothing to do: the call succeeded.",
        Category.SUCCESS,
        None,
        source="mandao",  # seen as success in public clients; no source gives it a text
    ),
    row(
        1,
        "NO_DATA",
        "没有需要取得的数据",
        "取用户回复就出现1的返回值,表示没有回复数据",
        "No data to fetch: no replies (MO messages) are waiting.",
        "Nothing to do: poll again later for replies.",
        Category.SUCCESS,
        None,
        source="public-clients",
    ),
    row(
        -1,
        "ALREADY_REGISTERED",
        "重复注册",
        "多次点击“注册”按钮或注册方法（Register）的“调用”按钮",
        "Duplicate registration: the serial number is already registered.",
        "Do not call Register again: the serial number is already registered.",
        Category.ACCOUNT,
        AuthenticationError,
        source="public-clients",
    ),
    row(
        -2,
        "BAD_CREDENTIALS",
        "帐号/密码不正确",
        "1.序列号未注册2.密码加密不正确3.密码已被修改4.序列号已注销",
        "Wrong account or password.",
        "Check the serial number and password, and that the serial is registered and not"
        " unregistered.",
        Category.ACCOUNT,
        AuthenticationError,
    ),
    row(
        -3,
        "ALREADY_LOGGED_IN",
        "重复登陆",
        "",
        "Duplicate login.",
        "Make sure only one session logs in with this serial number, then try again.",
        Category.ACCOUNT,
        AuthenticationError,
        source="public-clients",
    ),
    row(
        -4,
        "INSUFFICIENT_BALANCE",
        "余额不足支持本次发送",
        "余额不足",
        "The balance does not cover this send.",
        "Top up the account before sending again.",
        Category.BALANCE,
        InsufficientBalance,
    ),
    row(
        -5,
        "BAD_DATA_FORMAT",
        "数据格式错误",
        "自行调试或联系技术支持",
        "Data format error.",
        "Check the request's fields and encoding, and contact the vendor's support if it persists.",
        Category.INVALID,
        InvalidParameter,
    ),
    row(
        -6,
        "BAD_PARAMETER",
        "参数有误",
        "看参数传的是否均正常,请调试程序查看各参数",
        "Invalid parameter.",
        "Check each parameter's value and format against the operation's documentation.",
        Category.INVALID,
        InvalidParameter,
    ),
    row(
        -7,
        "PERMISSION_RESTRICTED",
        "权限受限",
        "该序列号是否已经开通了调用该方法的权限",
        "Permission restricted: the serial number may not call this method.",
        "Ask the vendor to enable this method for the serial number.",
        Category.ACCOUNT,
        AuthenticationError,
    ),
    row(
        -8,
        "FLOW_CONTROL",
        "流量控制错误",
        "",
        "Flow control: too many requests.",
        "Wait with backoff, then retry on the same host.",
        Category.RATE_LIMITED,
        RateLimited,
        RetryRule.SAME_HOST,
    ),
    row(
        -9,
        "EXT_NOT_PERMITTED",
        "扩展码权限错误",
        "该序列号是否已经开通了扩展子号的权限,把ext这个参数置空。",
        "Extension code not permitted for this serial number.",
        "Send with ext empty, or ask the vendor to enable extension sub-numbers.",
        Category.INVALID,
        InvalidParameter,
    ),
    row(
        -10,
        "CONTENT_TOO_LONG",
        "内容长度长",
        "单字节不能超过1000个字符，双字节不能超过500个字符",
        "Content too long.",
        "Shorten the content to at most 1000 single-byte or 500 double-byte characters.",
        Category.INVALID,
        InvalidParameter,
    ),
    row(
        -11,
        "INTERNAL_DATABASE_ERROR",
        "内部数据库错误",
        "",
        "Internal database error at the gateway.",
        UNKNOWN_OUTCOME_HINT,
        Category.INTERNAL,
        GatewayInternalError,
        RetryRule.NEVER,
    ),
    row(
        -12,
        "SERIAL_STATE_ERROR",
        "序列号状态错误",
        "序列号是否被禁用",
        "Serial number in a wrong state (it may be disabled).",
        "Ask the vendor whether the serial number is disabled.",
        Category.ACCOUNT,
        AuthenticationError,
    ),
    row(
        -13,
        "NO_CONTENT_SUBMITTED",
        "没有提交增值内容",
        "提交时，无文本或无图片",
        "No value-added content submitted (MMS: no text or picture).",
        "Include the text or picture in the submission.",
        Category.INVALID,
        InvalidParameter,
        source="public-clients",
    ),
    row(
        -14,
        "SERVER_WRITE_FAILED",
        "服务器写文件失败",
        "",
        "The gateway failed to write a file.",
        UNKNOWN_OUTCOME_HINT,
        Category.INTERNAL,
        GatewayInternalError,
        RetryRule.NEVER,
    ),
    row(
        -15,
        "BAD_BASE64",
        "文件内容base64编码错误",
        "",
        "Base64 error in the file content.",
        "Encode the file content as valid base64.",
        Category.INVALID,
        InvalidParameter,
        source="public-clients",
    ),
    row(
        -16,
        "BAD_REPORT_PARAMETER",
        "返回报告库参数错误",
        "",
        "Report-store parameter error.",
        "Check the parameters of the report query.",
        Category.INVALID,
        InvalidParameter,
        source="public-clients",
    ),
    row(
        -17,
        "NO_PERMISSION",
        "没有权限",
        "如发送彩信仅限于SDK3",
        "No permission (for example, MMS is for SDK3 accounts only).",
        "Use an account that has this permission, or ask the vendor to grant it.",
        Category.ACCOUNT,
        AuthenticationError,
    ),
    row(
        -18,
        "PREVIOUS_SUBMISSION_PENDING",
        "上次提交没有等待返回不能继续提交",
        "默认不支持多线程",
        "The previous submission has not returned yet, so no new one is accepted.",
        "Wait with backoff, then retry on the same host (a serial takes one submission at"
        " a time by default).",
        Category.RATE_LIMITED,
        RateLimited,
        RetryRule.SAME_HOST,
        source="public-clients",
    ),
    row(
        -19,
        "CONCURRENT_HOSTS",
        "禁止同时使用多个接口地址",
        "每个序列号提交只能使用一个接口地址",
        "Using several interface addresses at the same time is forbidden.",
        "Do not retry: make every client that shares this serial number use one host at a time.",
        Category.CONCURRENT,
        ConcurrentHostUse,
    ),
    row(
        -20,
        "DUPLICATE_SUBMISSION",
        "相同手机号，相同内容重复提交",
        "",
        "Same mobile number and same content submitted again.",
        "Do not resend: the same message was accepted recently, so treat it as sent.",
        Category.DUPLICATE,
        DuplicateSubmission,
    ),
    # The vendor table has one row "-21/-22"; both codes occur in public clients.
    row(
        -21, "IP_AUTH_FAILED_21", *_AUTH_IP_ZH, *_AUTH_IP_EN, Category.ACCOUNT, AuthenticationError
    ),
    row(
        -22, "IP_AUTH_FAILED_22", *_AUTH_IP_ZH, *_AUTH_IP_EN, Category.ACCOUNT, AuthenticationError
    ),
    row(
        -23,
        "SERIAL_NOT_CACHED",
        "缓存无此序列号信息",
        "",
        "The gateway's cache has no information on this serial number.",
        "Check the serial number and that it is registered, then contact the vendor if it"
        " persists.",
        Category.ACCOUNT,
        AuthenticationError,
    ),
)
