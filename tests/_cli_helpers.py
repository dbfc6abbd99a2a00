"""Helpers for the command-line tests: the environment that points `mandao` at a sandbox,
and a pseudo-terminal to run it on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from typing import Any

from click.testing import CliRunner, Result

from mandao.cli import main
from mandao.testing import SandboxGateway

SN = "SDK-TST-010-00001"
PASSWORD = "s3cr3t-Pass"


def sandbox_env(
    gw: SandboxGateway, password: str = PASSWORD, *, duplicate_action: str = "off"
) -> dict[str, str]:
    """MANDAO_* variables for the sandbox account.

    The CLI's duplicate guard is off (tests repeat one send on purpose) unless
    ``duplicate_action`` says otherwise ("" for the CLI's default).
    """
    guard = {"MANDAO_DUPLICATE_ACTION": duplicate_action} if duplicate_action else {}
    return {
        **guard,
        "MANDAO_SN": SN,
        "MANDAO_PASSWORD": password,
        "MANDAO_HOSTS": ",".join(gw.hosts),
        "MANDAO_ACCOUNT_HOSTS": ",".join(gw.account_hosts),
        "MANDAO_TIMEOUT": "1,5",
    }


def run(args: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    """Invoke `mandao ARGS` in process (named `mandao` in what it prints), stderr kept apart."""
    return CliRunner().invoke(main, args, env=env, input=stdin, prog_name="mandao")


def as_json(result: Result) -> Any:
    """The command's stdout, parsed."""
    return json.loads(result.stdout)


#: A child on a terminal silent for this long has hung (a bound, not a timing).
HANG = 60.0


class Terminal:
    """A child process on a pseudo-terminal, and everything it has written so far."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self._master = master
        self._seen = b""
        self._done = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            with self._changed:
                self._seen += chunk
                self._done = not chunk
                self._changed.notify_all()
            if not chunk:
                return

    @property
    def text(self) -> str:
        with self._changed:
            return self._seen.decode("utf-8", "replace")

    def wait_for(self, needle: str) -> bool:
        """Block until ``needle`` has been written (True) or the terminal closed (False).
        A child that writes neither for :data:`HANG` seconds is killed: a test fails, not
        hangs (a bound against a hang, no timing)."""
        with self._changed:
            seen = self._changed.wait_for(
                lambda: needle.encode() in self._seen or self._done, timeout=HANG
            )
        if not seen:
            self.process.kill()
            raise AssertionError(f"{needle!r} never came; the terminal shows:\n{self.text}")
        return needle.encode() in self._seen

    def type(self, text: str) -> None:
        """Type ``text`` at the terminal (a line ends with ``\\r``, as Enter sends)."""
        os.write(self._master, text.encode())

    def finish(self) -> int:
        """The exit status, once the child has ended and all its output is read."""
        try:
            status = self.process.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the command never ended; it shows:\n{self.text}") from None
        self._reader.join()
        os.close(self._master)
        return status


def interrupted_while_held(
    gateway: SandboxGateway, args: list[str], env: dict[str, str], operation: str
) -> tuple[int, str, str]:
    """Run ``args`` with the sandbox holding its first ``operation`` request; Ctrl-C the
    process once the request is at the sandbox, then let it go. (exit status, out, err)."""
    with gateway.primary.hold(operation=operation) as held:
        child = subprocess.Popen(args, env=env, text=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)  # fmt: skip
        try:
            assert held.wait(1, timeout=HANG), f"the {operation} request never came"
            child.send_signal(signal.SIGINT)
        finally:
            held.release()
        out, err = child.communicate(timeout=HANG)
    return child.returncode, out, err
