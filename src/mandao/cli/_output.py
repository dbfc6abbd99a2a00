"""How every command speaks: results as text or JSON, errors and warnings in the CLI's terms.

- A result is a sentence or a table on stdout, or one JSON document (``--json``); a
  command that streams writes JSON Lines, one object a line.
- An error goes to stderr as ``error (KIND): MESSAGE``, one line per bad row after it and
  what to do next; under ``--json`` it is one line of JSON on stdout, ``{"error": {...}}``.
  Either way the process exits with the code of :mod:`._exits`.
- A warning is one line on stderr, ``warning: MESSAGE``, each said once.

The library's messages speak Python (``msgfmt=8``, ``override=True``); :func:`cli_terms`
turns them into the flags a command-line user types.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from .._errors import MandaoError, ValidationError
from ._exits import EXIT_USAGE, HINTS, exit_code_for
from ._groups import NoSuchCommand

__all__ = ["FLAGS", "Output", "Refusal", "cli_terms", "flag_for", "usage_error"]

#: A library argument → what names it on the command line.
FLAGS: dict[str, str] = {
    "content": "--text",
    "mobiles": "NUMBERS",
    "at": "--at",
    "ext": "--ext",
    "rrid": "--rrid",
    "msgfmt": "--msgfmt",
    "signature": "--signature",
    "sn": "--sn",
    "hosts": "--host",
    "account_hosts": "--account-host",
    "protocol": "--protocol",
    "timeout": "--timeout",
    "ledger": "--against",
    "before": "--before",
    "since": "--since",
    "until": "--until",
    "resend_unknown": "--resend-unknown/--skip-unknown",
    "yes": "--yes",
}

#: Advice the library gives in Python's terms → the same advice in the command line's.
#: Longest first: a phrase that holds another is replaced whole.
ADVICE: tuple[tuple[str, str], ...] = (
    (
        "add one, set Client(signature=...), or Client(require_signature=False)",
        "add one to the text, give --signature NAME (or signature in mandao.toml), "
        "or --no-require-signature",
    ),
    (
        ", or call anyway with a client made with registration_guard=False",
        " (the vendor counts Register and UnRegister together)",
    ),
    ("(or send with the guard's action 'skip')", "(--duplicate-action skip sends to the others)"),
    ("send with suppression 'skip'", "--suppression skip"),
    ("Client(signature=...)", "--signature NAME"),
    ("Client(require_signature=False)", "--no-require-signature"),
    ("send with msgfmt=8 (UCS2)", "send with --msgfmt 8 (UCS2)"),
    ("msgfmt=8", "--msgfmt 8"),
    ("needs override=True", "needs --override"),
    ("pass override=True", "add --override"),
    ("skip_invalid=True", "--skip-invalid"),
)

#: The duplicate guard's refusal, and what the command line offers instead.
_GUARD_REFUSAL = "sent the same text within"
_GUARD_HINT = (
    "the numbers had this text just now: --duplicate-action skip sends to the others "
    "only; --no-duplicate-guard sends to all of them again"
)
#: A journal command given a journal that does not exist: its message says where one is
#: looked for, and `mandao journal verify` would fail the same way, so no hint follows.
_NO_JOURNAL = "no journal at "
#: A prune the retention refuses: why (the journal is fine; `journal path` would not help).
_YOUNG_PRUNE = ("refusing to prune rows younger than", "retention below")
_PRUNE_HINT = "the vendor's terms (item 6) keep send logs six months; --override prunes them anyway"


def cli_terms(text: str) -> str:
    """``text`` with the library's Python advice replaced by the command line's flags.

    >>> cli_terms("holds 1 character(s) GBK cannot carry; send with msgfmt=8 (UCS2)")
    'holds 1 character(s) GBK cannot carry; send with --msgfmt 8 (UCS2)'
    """
    for python, flags in ADVICE:
        text = text.replace(python, flags)
    return text


def flag_for(argument: str) -> str:
    """What names a library ``argument`` on the command line (``content`` → ``--text``)."""
    if argument.startswith("contents["):
        return "content " + argument.removeprefix("contents")
    return FLAGS.get(argument, argument)


class Refusal(ValidationError):
    """Input the command line refuses before anything is sent, with one line per bad item.

    ``argument`` is already the command line's name of it (a file, a flag); ``details``
    are shown one a line after the message, ``extra`` joins the JSON error. The message
    reads on its own (no colon for the details: the text output adds it).
    """

    def __init__(
        self,
        message: str,
        *,
        argument: str,
        details: Sequence[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, argument=argument)
        self.details = list(details)
        self.extra = extra or {}


def _json(data: Any, *, indent: int | None = None) -> str:
    import json  # here, not at the top: offline commands start fast

    return json.dumps(data, ensure_ascii=False, indent=indent, default=str)


class Output:
    """Writes results as text or JSON, warnings as one line each, errors as :mod:`._exits`."""

    def __init__(self, as_json: bool) -> None:
        self.json = as_json
        self._warned: set[str] = set()

    def result(self, data: Any, text: str | Callable[[], None]) -> None:
        """``data`` as JSON, or ``text`` (a string, or a function that prints)."""
        if self.json:
            click.echo(_json(data, indent=2))
        elif callable(text):
            text()
        else:
            click.echo(text)

    def line(self, data: Any) -> None:
        """One object of a stream: a JSON Lines line (the caller prints text itself)."""
        click.echo(_json(data))

    def warn(self, message: str) -> None:
        """``message`` as one line on stderr, once per command (stdout stays the result)."""
        text = " ".join(cli_terms(message).split())
        argument, colon, rest = text.partition(": ")
        if colon and argument in FLAGS:
            text = f"{FLAGS[argument]}: {rest}"
        if text not in self._warned:
            self._warned.add(text)
            click.echo(f"warning: {text}", err=True)

    @contextmanager
    def warnings_as_lines(self) -> Iterator[None]:
        """Python warnings raised in the block become :meth:`warn` lines: no file, no line
        number, no source (``UnencodableWarning``, the duplicate guard's)."""

        def show(message: Warning | str, *_: object, **__: object) -> None:
            self.warn(str(message))

        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = show
            yield

    def fail(self, exc: MandaoError, details: Sequence[str] = ()) -> NoReturn:
        """Report ``exc`` in the command line's terms and exit with its code."""
        row = exit_code_for(exc)
        message = str(exc)
        info = getattr(exc, "info", None)
        if info is not None:  # the gateway's hint has a line (a field) of its own below
            message = message.replace(f" → {info.hint_en}", "", 1)
        if exc.advice is not None:  # so has the class's, in the command line's words
            message = message.replace(f" → {exc.advice}", "", 1)
        argument = getattr(exc, "argument", None)
        flag = None
        if argument is not None:
            flag = flag_for(argument)
            message = flag + message.removeprefix(argument)
        data: dict[str, Any] = {
            "type": type(exc).__name__,
            "message": cli_terms(message),
            "exit": row.code,
            "kind": row.name,
        }
        for attr in ("code", "host", "operation", "rrid", "argument", "retry_after"):
            value = getattr(exc, attr, None)
            if value is not None:
                data[attr] = value
        if flag is not None:
            data["flag"] = flag
        hint = HINTS.get(row.name)
        if getattr(exc, "remedy_included", False):
            hint = None  # the message says what to do; `config show` cannot help
        if info is not None:
            data["chinese"], hint = info.chinese, info.hint_en
        elif _GUARD_REFUSAL in message:
            hint = _GUARD_HINT
        elif message.startswith(_NO_JOURNAL):
            hint = None
        elif message.startswith(_YOUNG_PRUNE):
            hint = _PRUNE_HINT
        if hint is not None and (hint := _new_advice(hint, message)):
            data["hint"] = hint
        lines = [*getattr(exc, "details", ()), *details]
        if lines:
            data["details"] = lines
        data.update(getattr(exc, "extra", {}))
        self.report(data, lines, chinese=None if info is None else info.chinese)

    def report(
        self, data: dict[str, Any], details: Sequence[str] = (), *, chinese: str | None = None
    ) -> NoReturn:
        """Print the error ``data`` (type, message, exit, kind, hint, ...) and exit."""
        if self.json:
            click.echo(_json({"error": data}))
        else:
            # An interruption's message says so itself ("interrupted (Ctrl-C): ...").
            head = "" if data["kind"] == "interrupted" else f"error ({data['kind']}): "
            # The message is a sentence of its own (as in the JSON); the lines it introduces
            # follow a colon here only.
            click.secho(head + data["message"] + (":" if details else ""), fg="red", err=True)
            for line in details:
                click.echo(f"  {line}", err=True)
            if chinese:
                click.echo(f"  {chinese}", err=True)
            if data.get("hint"):
                click.echo(f"  → {data['hint']}", err=True)
        sys.exit(int(data["exit"]))


def _new_advice(hint: str, message: str) -> str:
    """``hint`` without the advice (parts between ``;``) that names a command the message
    names already, or the very command that failed: "`mandao journal verify` checks it"
    is no help from ``mandao journal verify``."""
    ctx = click.get_current_context(silent=True)
    running = ctx.command_path if ctx is not None else None

    def said(command: str) -> bool:  # `mandao journal verify --x`: the command, its flags
        return f"`{command}`" in message or (command + " ").startswith(f"{running} ")

    kept = [
        part
        for part in hint.split("; ")
        if not any(said(command) for command in re.findall(r"`(mandao [^`]*)`", part))
    ]
    return "; ".join(kept)


def usage_error(exc: click.ClickException, as_json: bool) -> NoReturn:
    """Report click's ``exc`` (a bad flag, a missing argument) as every error is reported
    (``error (usage): …`` and what to do, or JSON), and exit 2 (or its code). A group run
    without a command (click 8.2's ``NoArgsIsHelpError``) prints its help, as click does."""
    without_command = getattr(click.exceptions, "NoArgsIsHelpError", ())
    if isinstance(exc, without_command) and not as_json:
        click.echo(exc.format_message(), err=True)
        sys.exit(exc.exit_code)
    data: dict[str, Any] = {
        "type": type(exc).__name__,
        "message": exc.format_message(),
        "exit": exc.exit_code,
        "kind": EXIT_USAGE.name if exc.exit_code == EXIT_USAGE.code else "error",
    }
    param = getattr(exc, "param", None)
    hint = getattr(exc, "param_hint", None)
    if param is not None and not hint:
        # An argument by the name its usage and message give it (FILE), an option by its flags.
        hint = (
            param.human_readable_name
            if isinstance(param, click.Argument)
            else "/".join(getattr(param, "opts", []) or [param.name or ""])
        )
    option = getattr(exc, "option_name", None)
    if hint or option:
        data["flag"] = hint if isinstance(hint, str) else "/".join(hint or [option])
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        data["usage"] = ctx.get_usage()
        data["hint"] = f"`{ctx.command_path} --help` lists the options"
        if isinstance(exc, NoSuchCommand):
            meant = " or ".join(f"`{ctx.command_path} {name}`" for name in exc.possibilities)
            listed = f"`{ctx.command_path} --help` lists the commands"
            data["hint"] = f"did you mean {meant}? {listed}" if meant else listed
    Output(as_json).report(data)
