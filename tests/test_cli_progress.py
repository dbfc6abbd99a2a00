"""The command line's progress bar: rich on stderr; off, and rich not imported, when disabled."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import pytest
from rich.console import Console

from mandao import Batch, Numbers
from mandao.cli._common import _setup_logging
from mandao.cli._progress import progress_bar


def _batch(index: int, total: int, mobiles: list[str]) -> Batch:
    return Batch(
        index=index,
        total=total,
        operation="mdsmssend",
        recipients=Numbers(mobiles),
        state="sent",
        billable=len(mobiles),
    )


def _mobiles(start: int, n: int) -> list[str]:
    return [f"138{i:08d}" for i in range(start, start + n)]


def test_bar_shows_the_label_and_reaches_the_total() -> None:
    """On a terminal the bar shows its label, is redrawn, and ends at total/total."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    with progress_bar(5, "sending", enabled=True, console=console) as advance:
        advance(_batch(0, 2, _mobiles(0, 3)))
        advance(_batch(1, 2, _mobiles(3, 2)))
    frames = [frame for frame in out.getvalue().split("\r") if "sending" in frame]
    assert len(frames) >= 2  # drawn at 0, redrawn in place
    last = frames[-1]
    assert "5/5" in last
    assert "2 batch(es)" in last


def test_the_bar_counts_what_was_accepted_and_names_the_rest() -> None:
    """A refused batch and one of unknown outcome do not move the bar: it ends at what the
    gateway took (2/8), with the others named beside it."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)

    def batch(index: int, state: str, mobiles: list[str]) -> Batch:
        return Batch(index=index, total=4, operation="mdsmssend",
                     recipients=Numbers(mobiles), state=state, billable=len(mobiles))  # type: ignore[arg-type]  # fmt: skip

    with progress_bar(8, "sending", enabled=True, console=console) as advance:
        advance(_batch(0, 4, _mobiles(0, 2)))
        advance(batch(1, "failed", _mobiles(2, 2)))
        advance(batch(2, "unknown", _mobiles(4, 2)))
        advance(batch(3, "not_sent", _mobiles(6, 2)))
    last = [frame for frame in out.getvalue().split("\r") if "sending" in frame][-1]
    assert "2/8" in last
    assert "4 batch(es), 2 refused, 2 of unknown outcome, 2 not sent" in last


def test_the_bar_says_when_a_send_waits_for_the_serials_slot() -> None:
    """The client's log of a lasting wait for a slot shows on the bar while it lasts (a
    resumed campaign behind an unanswered request's slot is not silent), and its end
    puts the label back; other log lines change nothing."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    log = logging.getLogger("mandao")
    with progress_bar(4, "sending", enabled=True, console=console) as advance:
        why = "max_in_flight=1, 1 in flight here; waiting up to 29s more"
        log.info(
            "serial SDK-1: waiting for a slot", extra={"mandao_waiting": "SDK-1", "mandao_why": why}
        )
        waiting = out.getvalue()
        log.warning("something else")
        log.info("serial SDK-1: waited 3.0s for a slot", extra={"mandao_waiting": None})
        advance(_batch(0, 1, _mobiles(0, 4)))
    assert f"sending: waiting for a slot of serial SDK-1 ({why})" in waiting
    last = [frame for frame in out.getvalue().split("\r") if "sending" in frame][-1]
    assert "waiting" not in last
    assert "4/4" in last
    assert log.level == logging.NOTSET
    assert not [h for h in log.handlers if not isinstance(h, logging.NullHandler)]


def test_without_a_bar_on_a_terminal_a_lasting_wait_is_a_line_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A one-batch send (no bar) that waits long for a slot says so on stderr, once;
    stdout (the result, the JSON) is untouched."""
    log = logging.getLogger("mandao")
    said = "sending: waiting for a slot of serial SDK-1 (an earlier request holds it)\n"
    with progress_bar(1, "sending", enabled=False):
        log.info("serial SDK-1: waiting for a slot", extra={"mandao_waiting": "SDK-1"})
        log.info("serial SDK-1: waited 3.0s for a slot", extra={"mandao_waiting": None})
    out, err = capsys.readouterr()
    assert out == ""
    assert err == said
    # A bar on a file (a cron job's log) is written once, at its end: the wait is a line.
    console = Console(file=io.StringIO(), force_terminal=False)
    with progress_bar(1, "sending", enabled=True, console=console):
        log.info("serial SDK-1: waiting for a slot", extra={"mandao_waiting": "SDK-1"})
    assert capsys.readouterr().err == said


def test_the_clients_warnings_are_warning_lines_said_once_with_or_without_v(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A command's logging keeps Python's last-resort handler (a bare message) off the
    client's warnings (another process's max_in_flight on the board), during a send's bar
    or not: ``warning:`` lines; with -v the log's own lines, each once (not twice)."""
    log = logging.getLogger("mandao")
    for verbose, shown in ((0, "warning: "), (1, "WARNING mandao: ")):
        # Each its own words: one said again within 30 s would go on at DEBUG.
        said = f"serial SDK-1: another process uses max_in_flight={3 + verbose}"
        undo = _setup_logging(verbose)
        try:
            with progress_bar(1, "sending", enabled=False):
                log.warning(said)
                log.info("serial SDK-1: nothing to say without -v")
            log.warning("%s, outside the bar", said)
        finally:
            undo()
        lines = [line for line in capsys.readouterr().err.splitlines() if "INFO" not in line]
        assert lines == [f"{shown}{said}", f"{shown}{said}, outside the bar"]


def test_disabled_bar_imports_nothing_and_writes_nothing() -> None:
    """enabled=False: the callback does nothing, rich is not loaded, nothing is written."""
    code = (
        "import sys\n"
        "from mandao.cli._progress import progress_bar\n"
        "with progress_bar(3, 'sending', enabled=False) as advance:\n"
        "    advance(object())\n"
        "rich = sorted(m for m in sys.modules if m.split('.')[0] == 'rich')\n"
        "sys.stderr.write(f'LOADED {rich}')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == "LOADED []"


def test_non_terminal_gets_the_final_state_once_without_escape_codes() -> None:
    """On a file (not a terminal) the bar writes its final line once, as plain text."""
    out = io.StringIO()
    console = Console(file=out, width=100)
    with progress_bar(2, "sending", enabled=True, console=console) as advance:
        advance(_batch(0, 1, _mobiles(0, 2)))
    drawn = out.getvalue()
    assert "\x1b" not in drawn
    assert drawn.count("sending") == 1
    assert "2/2" in drawn
