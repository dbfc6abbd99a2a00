"""The command line's exit codes: one table, looked up by the exception's class.

Most specific first: the first ``isinstance`` match wins. docs/cli.md lists every row (a
test checks it), so a script can tell what to do next from the status alone. Nothing here
imports zeep or requests.
"""

from __future__ import annotations

from typing import NamedTuple

from .._errors import (
    AuthenticationError,
    ConcurrentHostUse,
    ConfigError,
    DuplicateSubmission,
    GatewayError,
    GatewayUnreachable,
    InsufficientBalance,
    InvalidParameter,
    JournalError,
    MandaoError,
    OutcomeUnknown,
    RateLimited,
    RegistrationQuotaExceeded,
    UnknownCode,
    ValidationError,
)

__all__ = [
    "EXIT_ABORTED",
    "EXIT_CODES",
    "EXIT_DRIFT",
    "EXIT_INTERRUPTED",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "HINTS",
    "OTHER_EXITS",
    "ExitCode",
    "exit_code_for",
]


class ExitCode(NamedTuple):
    """One row of the exit-code table."""

    code: int
    name: str
    meaning: str


#: Exception class → exit code, most specific first (the first isinstance match wins).
#: ``GatewayInternalError`` is both a GatewayError and an OutcomeUnknown: OutcomeUnknown
#: comes first, because what the operator must do is reconcile, not fix or retry. A
#: JournalError is the journal's file or database (where it is, whether it can be read):
#: a configuration matter, exit 3.
EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (ConfigError, ExitCode(3, "config", "the configuration is missing, invalid or unsafe")),
    (JournalError, ExitCode(3, "journal", "the journal cannot be read, written or pruned")),
    (ValidationError, ExitCode(2, "invalid-input", "invalid input; nothing was sent")),
    (OutcomeUnknown, ExitCode(10, "outcome-unknown", "may or may not have been sent")),
    (AuthenticationError, ExitCode(4, "authentication", "serial, password or registration")),
    (InsufficientBalance, ExitCode(5, "balance", "the balance does not cover it; top up")),
    (InvalidParameter, ExitCode(6, "rejected", "the gateway rejected a field of the request")),
    (RateLimited, ExitCode(7, "rate-limited", "flow control; wait, then retry")),
    (DuplicateSubmission, ExitCode(8, "duplicate", "already submitted recently; not resent")),
    (ConcurrentHostUse, ExitCode(9, "concurrent", "serial in use on another host (-19)")),
    (GatewayUnreachable, ExitCode(11, "unreachable", "no host took the request; not sent")),
    (RegistrationQuotaExceeded, ExitCode(15, "quota", "the day's Register quota is spent")),
    (UnknownCode, ExitCode(12, "unknown-code", "a code no table knows")),
    (GatewayError, ExitCode(13, "gateway-error", "the gateway answered another error code")),
    (MandaoError, ExitCode(1, "error", "any other mandao error")),
)
#: A send of several batches in which some were not sent (see the JSON's ``batches``).
EXIT_PARTIAL = ExitCode(14, "partial", "some batches were sent, others failed or are unknown")
#: ``mandao wsdl check``: a difference that matters between a live WSDL and the cached one.
EXIT_DRIFT = ExitCode(20, "wsdl-drift", "the live WSDL differs from the cached one")
#: A command-line usage error (click's, or a flag a command needs): nothing was sent.
EXIT_USAGE = ExitCode(2, "usage", "a command-line usage error; nothing was sent")
#: A confirmation answered no.
EXIT_ABORTED = ExitCode(1, "aborted", "you answered no to a confirmation; nothing was sent")
#: Ctrl-C (SIGINT): 128 + 2, as a shell reports a process the signal ended.
EXIT_INTERRUPTED = ExitCode(
    130, "interrupted", "Ctrl-C (or SIGTERM during a send): the summary says what went"
)
#: Everything else, documented with the table.
OTHER_EXITS = (ExitCode(0, "ok", "success"), EXIT_ABORTED, EXIT_USAGE, EXIT_INTERRUPTED)

#: What to do next, by exit name, for an error that carries no code-table row of its own.
HINTS: dict[str, str] = {
    "config": "`mandao config show` shows each setting and where it came from "
    "(docs/cli.md, Configuration)",
    "outcome-unknown": "it may have been sent: do not send it again blindly; "
    "`mandao journal pending` lists it; hold it against the gateway's reports by rrid "
    "(`mandao journal pending --against FILE`, docs/journal.md)",
    "unreachable": "nothing was sent, so it is safe to run again; check --host and "
    "--account-host (or MANDAO_HOSTS) and the network",
    "quota": "nothing was sent; run it again after midnight China time",
    "journal": "`mandao journal path` says where the journal is; `mandao journal verify` checks it",
}


def exit_code_for(exc: BaseException) -> ExitCode:
    """The table row for ``exc``.

    >>> exit_code_for(ValidationError("bad", argument="mobiles")).code
    2
    """
    for cls, row in EXIT_CODES:
        if isinstance(exc, cls):
            return row
    return ExitCode(1, "error", "unexpected")
