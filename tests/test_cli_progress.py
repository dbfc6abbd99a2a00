"""The command line's progress bar: rich on stderr; off, and rich not imported, when disabled."""

from __future__ import annotations

import io
import subprocess
import sys

from rich.console import Console

from mandao import Batch, Numbers
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
