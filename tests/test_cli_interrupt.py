"""Ctrl-C during `mandao send-file`, on a terminal: the summary, the journal, the resume.

The command runs as a real process on a pseudo-terminal (so the progress bar is live), a
sandbox on loopback holds one request open, and SIGINT is sent once the bar shows the
first batch done and the held request is in flight: waited for on the output and on the
hold, never on a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mandao import Journal
from mandao.testing import Fault, SandboxGateway

from ._cli_helpers import HANG, Terminal, as_json, run, sandbox_env

pytestmark = pytest.mark.skipif(os.name != "posix", reason="a pseudo-terminal and SIGINT")

#: Three groups, sent in this order: personalised texts (mdgxsend), one text shared by two
#: numbers (mdsmssend, the request held open), and a last one that is never reached.
ROWS = [
    ("13800138000", "张三您好【示例】", ""),
    ("13900139000", "李四您好【示例】", ""),
    ("13700137000", "王五您好【示例】", ""),
    ("13600136000", "明早停水【示例】", "7"),
    ("13500135000", "明早停水【示例】", "7"),
    ("13400134000", "赵六您好【示例】", "8"),
]


def _csv(path: Path) -> Path:
    lines = ["mobile,content,ext", *(",".join(row) for row in ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: Ctrl-C, and SIGTERM (a service manager stopping the job), which stops a send alike.
SIGNALS = pytest.mark.parametrize(
    ("signum", "named"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")]
)


@SIGNALS
def test_ctrl_c_in_send_file_summarises_and_a_second_run_resumes(
    gateway: SandboxGateway, tmp_path: Path, signum: int, named: str
) -> None:
    """Ctrl-C with the second group's request in flight: the summary counts 3 sent, 2 of
    unknown outcome and 1 not sent and says how to resume (exit 130); the journal verifies
    and lists the unknown attempt; a second run sends only the row never tried."""
    journal_path = tmp_path / "journal.sqlite3"
    env = {
        **os.environ,
        **sandbox_env(gateway, duplicate_action=""),
        "MANDAO_JOURNAL": str(journal_path),
        # The held request must outlast the SIGINT sent as soon as it is held; its slot
        # of the serial then lingers for one read timeout, which the resume waits out.
        "MANDAO_TIMEOUT": "5,3",
        "COLUMNS": "120",
    }
    path = _csv(tmp_path / "campaign.csv")
    with gateway.primary.hold(operation="mdsmssend") as held:
        terminal = Terminal([sys.executable, "-m", "mandao", "send-file", str(path), "--yes"], env)
        try:
            assert terminal.wait_for("1 batch(es)"), terminal.text
            while not held.wait(1, timeout=0.1):  # the request is at the sandbox, held
                assert terminal.process.poll() is None, terminal.text
            terminal.process.send_signal(signum)
            status = terminal.finish()
        finally:
            if terminal.process.poll() is None:
                terminal.process.kill()
    shown = terminal.text
    assert status == 130, shown
    assert (
        f"interrupted ({named}): 3 sent, 2 of unknown outcome (may have been sent), 1 not sent"
        in shown
    )
    assert "to resume, run the same command again" in shown
    assert "Traceback" not in shown
    assert "Aborted!" not in shown

    journal = Journal(journal_path)
    assert journal.verify().ok
    outcomes = Counter(a.outcome for a in journal.attempts())
    assert outcomes == Counter({"accepted": 1, "unknown": 1})
    pending = run(["journal", "--journal", str(journal_path), "pending", "--json"])
    assert pending.exit_code == 1
    (unknown,) = [json.loads(line) for line in pending.stdout.splitlines()]
    assert (unknown["outcome"], unknown["count"]) == ("unknown", 2)
    journal.close()

    resumed = run(["send-file", str(path), "--yes", "--skip-unknown", "--json"],
                  env={**env, "MANDAO_TIMEOUT": "1,5"})  # fmt: skip
    assert resumed.exit_code == 0, resumed.output
    data = as_json(resumed)
    assert (data["already_accepted"], len(data["unknown"]), data["sent"]) == (3, 2, 1)
    sent = Counter((m.mobile, m.content) for m in gateway.ledger.messages)
    assert max(sent.values()) == 1  # nobody twice: the held request was let go, once
    assert sent[("13400134000", "赵六您好【示例】")] == 1


@SIGNALS
def test_ctrl_c_in_send_of_several_batches_summarises_and_skip_resumes(
    gateway: SandboxGateway, tmp_path: Path, signum: int, named: str
) -> None:
    """`send --file` of two batches, Ctrl-C while the first is held: 0 sent, 5000 of unknown
    outcome, 1 not sent, exit 130; the hint names --duplicate-action skip, and that re-run
    sends the one number never tried (the guard leaves the unknown out)."""
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("\n".join(f"138{i:08d}" for i in range(5001)), encoding="utf-8")
    env = {
        **os.environ,
        **sandbox_env(gateway, duplicate_action=""),
        "MANDAO_JOURNAL": str(tmp_path / "journal.sqlite3"),
        "MANDAO_TIMEOUT": "5,3",
    }
    args = ["send", "--file", str(numbers), "-t", "通知【示例】", "--yes"]
    with gateway.primary.hold(operation="mdsmssend") as held:
        child = subprocess.Popen(
            [sys.executable, "-m", "mandao", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        try:
            while not held.wait(1, timeout=0.1):
                assert child.poll() is None, child.communicate()
            child.send_signal(signum)
            out, err = child.communicate()
        finally:
            if child.poll() is None:
                child.kill()
    assert child.returncode == 130, err
    assert f"interrupted ({named}): 0 sent, 5000 of unknown outcome (may have been sent), " \
           "1 not sent" in err  # fmt: skip
    assert "--duplicate-action skip" in err
    assert "Traceback" not in err
    # The bar (on a file: drawn once, as it ends) is put away before the summary is said.
    assert "sending" not in err[err.index("interrupted (") :], err
    assert out == ""
    again = run(
        [*args, "--duplicate-action", "skip", "--json"], env={**env, "MANDAO_TIMEOUT": "1,5"}
    )
    assert again.exit_code == 0, again.output
    assert as_json(again)["recipients"] == 1
    assert [m.mobile for m in gateway.ledger.messages if m.mobile == "13800005000"] == [
        "13800005000"
    ]


def test_ctrl_c_at_the_question_is_an_interrupt_not_a_no(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """Ctrl-C at send-file's question exits 130 (interrupted), as the exit-code table says,
    not 1 (answered no), and says that nothing was sent; nothing was."""
    env = {**os.environ, **sandbox_env(gateway, duplicate_action=""),
           "MANDAO_JOURNAL": str(tmp_path / "journal.sqlite3"), "COLUMNS": "120"}  # fmt: skip
    term = Terminal([sys.executable, "-m", "mandao", "send-file", str(_csv(tmp_path / "c.csv"))],
                    env)  # fmt: skip
    assert term.wait_for("[y/N]")
    # Ctrl-C. GNU readline writes the prompt before it waits for input, and a SIGINT
    # between the two only sets Python's flag: the wait then goes on until a next signal
    # (CPython's readline loop checks for signals when its select() is interrupted). So
    # it is sent again until the command ends, as a user presses Ctrl-C again.
    for _ in range(20):
        term.process.send_signal(signal.SIGINT)
        try:
            term.process.wait(timeout=5)
            break
        except subprocess.TimeoutExpired:
            continue
    assert term.finish() == 130, term.text
    assert "interrupted (Ctrl-C): nothing was sent" in term.text
    assert len(gateway.ledger) == 0


#: A send's block, interrupted once (its summary under way), then again; with no grace,
#: so that the second stops at once.
_TWICE = """
import os, signal, sys
from mandao import _signals
from mandao.cli import _interrupt
_signals.GRACE = 0
signal.signal(signal.SIGINT, signal.{sigint})  # as at a terminal, or in a background job
try:
    with _interrupt.terminated_as_ctrl_c():
        os.kill(os.getpid(), signal.SIG{first})
        signal.pause()
except KeyboardInterrupt:
    print("summing up", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIG{second})
    print("summed up", file=sys.stderr, flush=True)
"""


def _twice(first: str, second: str, sigint: str = "default_int_handler") -> str:
    """What the script above writes on stderr; exit 130 when it stopped at once, else 0."""
    script = _TWICE.format(first=first, second=second, sigint=sigint)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == (130 if "summed up" not in done.stderr else 0), done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


@pytest.mark.parametrize(("first", "second"), [("INT", "INT"), ("TERM", "INT"), ("INT", "TERM")])
def test_a_second_interrupt_after_the_grace_stops_at_once(first: str, second: str) -> None:
    """Once a send was interrupted, another Ctrl-C (or SIGTERM) after the grace ends the
    process at once with exit 130 and a line saying so: raised again, it broke off the
    summary with a traceback (or landed in a callback Python can only print)."""
    said = _twice(first, second)
    assert said.startswith("summing up\ninterrupted again: stopped at once"), said
    assert "summed up" not in said


def test_sigterm_leaves_an_ignored_sigint_ignored() -> None:
    """A job started in the background (SIGINT ignored) stopped by SIGTERM still ignores
    SIGINT as it sums up: a second interrupt's handler answers only the signals the send
    answered. It was put on SIGINT too, which then stopped the summary at once."""
    assert _twice("TERM", "INT", sigint="SIG_IGN") == "summing up\nsummed up\n"


#: `mandao ARGS` with GRACE set to the first argument's seconds.
_MANDAO = (
    "import sys; from mandao import _signals; from mandao.cli import main; "
    "_signals.GRACE = float(sys.argv.pop(1)); main(prog_name='mandao')"
)


def _signalled_twice(
    gateway: SandboxGateway, process: subprocess.Popen[Any], journal: Path, first: int,
    second: int,
) -> None:  # fmt: skip
    """Signal ``process`` (its mdsmssend request hanging at the sandbox) ``first``, then
    ``second`` once the first has cut the request off. The journal is locked meanwhile: the
    unknown outcome's write waits, so ``second`` comes while the first unwinds, however
    fast the two signals are sent and the process goes."""
    assert gateway.primary.wait_hanging(1, timeout=HANG), "the mdsmssend request never came"
    lock = sqlite3.connect(journal, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        process.send_signal(first)
        assert gateway.primary.wait_hanging(0, timeout=HANG), "the request was never cut off"
        process.send_signal(second)
    finally:
        lock.rollback()
        lock.close()


def test_signals_until_the_process_ends_leave_the_exit_130(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """A wrapper that keeps forwarding SIGTERM: the send sums up and exits 130. A signal
    that came while Python shut down (its handler put back to the default) killed it by
    the signal (143 in a shell) after the summary."""
    status, out, err = _json_send_signalled(gateway, tmp_path, signal.SIGTERM, signal.SIGTERM,
                                            until_ended=True)  # fmt: skip
    assert status == 130, err
    assert json.loads(out)["error"]["message"].startswith("interrupted (SIGTERM): 3 sent")


def _hanging_env(gateway: SandboxGateway, tmp_path: Path) -> dict[str, str]:
    """The sandbox account and a journal; send-file's mdsmssend request (its second group)
    hangs at the sandbox, its read timeout a bound only."""
    gateway.primary.add_fault(Fault("hang", operation="mdsmssend"))
    return {
        **os.environ,
        **sandbox_env(gateway, duplicate_action=""),
        "MANDAO_JOURNAL": str(tmp_path / "journal.sqlite3"),
        "MANDAO_TIMEOUT": f"5,{HANG}",
        "COLUMNS": "120",
    }


def _json_send_signalled(
    gateway: SandboxGateway, tmp_path: Path, first: int, second: int, *,
    until_ended: bool = False,
) -> tuple[int, str, str]:  # fmt: skip
    """``send-file --json`` (the grace an hour) signalled ``first`` then ``second`` as
    :func:`_signalled_twice` does, then (``until_ended``) ``second`` again and again until
    it has ended: (exit status, stdout, stderr)."""
    env = _hanging_env(gateway, tmp_path)
    args = [sys.executable, "-c", _MANDAO, "3600", "send-file", str(_csv(tmp_path / "c.csv")),
            "--yes", "--json"]  # fmt: skip
    child = subprocess.Popen(args, env=env, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)  # fmt: skip
    try:
        _signalled_twice(gateway, child, tmp_path / "journal.sqlite3", first, second)
        while until_ended and child.poll() is None:  # each step of its end gets one
            child.send_signal(second)
        out, err = child.communicate(timeout=HANG)
    finally:
        if child.poll() is None:
            child.kill()
    return child.returncode, out, err


@pytest.mark.parametrize(
    ("first", "second"),
    [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGTERM),
     (signal.SIGTERM, signal.SIGINT)],
)  # fmt: skip
def test_a_second_signal_within_the_grace_keeps_the_summary(
    gateway: SandboxGateway, tmp_path: Path, first: int, second: int
) -> None:
    """A second signal right after the first (a wrapper script forwarding systemd's SIGTERM,
    Ctrl-C reaching a runner and the command) is the same interrupt: the --json error object
    still counts 3 sent, 2 unknown, 1 not sent. It stopped at once, without it."""
    status, out, err = _json_send_signalled(gateway, tmp_path, first, second)
    assert status == 130, err
    assert "interrupted again" not in err
    assert "Traceback" not in err
    error = json.loads(out)["error"]
    named = "SIGTERM" if first == signal.SIGTERM else "Ctrl-C"
    assert error["message"].startswith(f"interrupted ({named}): 3 sent, 2 of unknown"), error
    assert (error["sent"], error["unknown"], error["not_sent"]) == (3, 2, 1)


def test_a_second_ctrl_c_after_the_grace_stops_at_once_and_shows_the_cursor(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """On a terminal, a second Ctrl-C after the grace (0 here) stops at once, exit 130, and
    shows the cursor again that the live progress bar hid, on a line of its own: the bar's
    own end, which shows it, was not reached yet, and the shell was left with no cursor."""
    env = _hanging_env(gateway, tmp_path)
    terminal = Terminal([sys.executable, "-c", _MANDAO, "0", "send-file",
                         str(_csv(tmp_path / "c.csv")), "--yes"], env)  # fmt: skip
    try:
        _signalled_twice(gateway, terminal.process, tmp_path / "journal.sqlite3",
                         signal.SIGINT, signal.SIGINT)  # fmt: skip
        status = terminal.finish()
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    shown = terminal.text
    assert status == 130, shown
    assert "interrupted again: stopped at once, without the summary" in shown
    assert "interrupted (Ctrl-C)" not in shown
    assert "Traceback" not in shown
    hidden = shown.rfind("\x1b[?25l")  # the terminal gives a line end as \r\n
    assert -1 < hidden < shown.rfind("\x1b[?25h\r\ninterrupted again"), shown
