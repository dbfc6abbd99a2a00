"""`mandao sandbox`: option parsing, URLs printed, requests served, clean stop on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import click
import pytest
import requests
from click.testing import CliRunner

from mandao import AuthenticationError, Client
from mandao.cli import main
from mandao.cli.sandbox import _stop_on_signals, parse_fault, sandbox
from mandao.testing import DEFAULT_PASSWORD, DEFAULT_SN, md5_pwd

SRC = Path(__file__).resolve().parents[2] / "src"


def _start(*args: str, password: str | None = None) -> subprocess.Popen[str]:
    """``python -m mandao.cli.sandbox ARGS`` with its stdout and stderr piped (and
    ``MANDAO_PASSWORD`` set to ``password``, or unset)."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    env.pop("MANDAO_PASSWORD", None)
    if password is not None:
        env["MANDAO_PASSWORD"] = password
    return subprocess.Popen(
        [sys.executable, "-m", "mandao.cli.sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGINT, then everything it printed after; killed if it does not end."""
    try:
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_parse_fault_converts_options():
    """HOST:KIND:k=v,... becomes a Fault with typed fields."""
    host, fault = parse_fault("primary:slow:delay=0.25,times=3,service=send")
    assert (host, fault.kind, fault.delay, fault.times, fault.service) == (
        "primary",
        "slow",
        0.25,
        3,
        "send",
    )
    _, fault = parse_fault("backup:drop-after:probability=0.5,seed=9,process=true")
    assert (fault.probability, fault.seed) == (0.5, 9)


@pytest.mark.parametrize(
    "spec", ["middle:hang", "primary", "primary:explode", "primary:hang:times", "primary:hang:x=1"]
)
def test_parse_fault_rejects_bad_specs(spec):
    """A bad host, kind or option is a click usage error."""
    with pytest.raises(click.BadParameter):
        parse_fault(spec)


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("primary:slow:delay=abc", "delay must be a number, got 'abc'"),
        ("primary:slow:delay=", "delay must be a number, got ''"),
        ("primary:slow:delay=nan", "delay must be a finite number, got 'nan'"),
        ("backup:hang:times=x", "times must be a whole number, got 'x'"),
        ("primary:huge:size=1.5", "size must be a whole number, got '1.5'"),
        ("primary:hang:dealy=1", "unknown fault option 'dealy' (did you mean `delay`?)"),
        ("primary:hang:x=1", "one of times, probability, seed, delay"),
        ("primary:html:process=ture", "process must be true or false (or yes/no"),
        ("primary:hang:times=1,times=2", "times is given twice"),
        ("primary:hang:kind=slow", "HOST:KIND"),
        ("primary:explode", "unknown fault kind 'explode'"),
        ("middle:hang", "HOST primary|backup"),
        ("primary:http-error:status=200", "400 to 599"),
    ],
)
def test_a_bad_fault_spec_says_what_is_wrong_naming_the_flag(spec, said):
    """Each refusal names --fault and the option or value at fault (a value that is not a
    number is no ValueError traceback; a misspelt option gets the nearest one)."""
    with pytest.raises(click.BadParameter) as caught:
        parse_fault(spec)
    assert caught.value.param_hint == "--fault"
    assert said in caught.value.format_message()


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("TRUE", True), ("Yes", True), ("1", True), ("on", True),
     ("false", False), ("No", False), ("0", False), ("OFF", False)],
)  # fmt: skip
def test_a_fault_boolean_is_read_in_each_spelling(text, value):
    """process= takes true/false, yes/no, on/off, 1/0, whatever their case."""
    assert parse_fault(f"primary:html:process={text}")[1].process is value


@pytest.mark.parametrize("as_json", [False, True])
def test_a_fault_value_not_a_number_is_a_usage_error(as_json):
    """`mandao sandbox --fault primary:slow:delay=abc`: exit 2 naming --fault, no traceback;
    under --json one JSON line, as other usage errors."""
    args = ["sandbox", *(["--json"] if as_json else []), "--fault", "primary:slow:delay=abc"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    if as_json:
        (line,) = result.stdout.splitlines()
        error = json.loads(line)["error"]
        assert (error["exit"], error["flag"]) == (2, "--fault")
        assert "delay must be a number, got 'abc'" in error["message"]
    else:
        assert "Invalid value for --fault: fault option delay must be a number" in result.output


def test_bad_account_is_usage_error():
    """--account without a colon, and no MANDAO_PASSWORD to take its password from, exits
    with a usage error before listening; so does an empty serial or password."""
    for spec in ("nocolon", f"{DEFAULT_SN}:", ":pw"):
        result = CliRunner().invoke(sandbox, ["--account", spec], env={"MANDAO_PASSWORD": None})
        assert result.exit_code == 2
        assert "SN:PASSWORD" in result.output
        assert ("MANDAO_PASSWORD" in result.output) == (spec == "nocolon")


def test_an_account_takes_its_password_from_the_environment_out_of_ps():
    """--account SN with MANDAO_PASSWORD set: the account has that password (a client
    given it is served, one given another is refused), and the process's command line,
    what ps shows, holds no password."""
    sn, password = "SDK-TST-010-00003", "env-only-Pw9"
    proc = _start("--json", "--account", sn, password=password)
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["environment"]["MANDAO_SN"] == sn
        assert "MANDAO_PASSWORD" not in first["environment"]
        cmdline = Path(f"/proc/{proc.pid}/cmdline")
        if cmdline.exists():
            assert password not in cmdline.read_bytes().decode()
        hosts, accounts = first["hosts"], first["account_hosts"]
        with Client(sn, password, hosts=hosts, account_hosts=accounts, journal=None) as ok:
            assert ok.balance() >= 0
        bad = Client(sn, "another", hosts=hosts, account_hosts=accounts, journal=None)
        with bad, pytest.raises(AuthenticationError):
            bad.balance()
    finally:
        out, err = _stop(proc)
    assert password not in out + err


def test_runs_prints_urls_serves_and_stops_on_ctrl_c(tmp_path):
    """The command prints four URLs, serves them, and on SIGINT exits 0 writing its ledger."""
    ledger = tmp_path / "ledger.json"
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mandao.cli.sandbox",
            "--account",
            "SDK-TST-010-00002:pw",
            "--fault",
            "backup:code:code=-8,times=1",
            "--down",
            "backup:timeout",
            "--ledger",
            str(ledger),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "fault" in line:
                break
        text = "".join(lines)
        urls = re.findall(r"http://127\.0\.0\.1:\d+/webservice\.asmx", text)
        assert len(urls) == 4
        assert "[blackhole]" in text
        sn = "SDK-TST-010-00002"
        url = urls[0].replace("webservice.asmx", "mdsmssend.ashx")
        resp = requests.get(
            url,
            params={"sn": sn, "pwd": md5_pwd(sn, "pw"), "mobile": "1", "content": "hi"},
            timeout=5,
        )
        assert resp.text.isdigit()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped: 1 message(s) accepted" in out
    assert '"mobile": "1"' in ledger.read_text(encoding="utf-8")


def _rules_line(*args: str) -> str:
    """Start ``mandao sandbox`` with ``args``, return its printed rules line, stop it."""
    proc = _start(*args)
    try:
        assert proc.stdout is not None
        line = next((line for line in proc.stdout if line.strip().startswith("rules")), "")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return line.strip()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "rules    -18 past 1 in flight per serial, -19 on overlap across hosts"),
        (
            ("--max-in-flight", "8", "--host-switch-window", "2.5"),
            "rules    -18 past 8 in flight per serial, -19 on overlap or within 2.5 s across hosts",
        ),
        (("--no-concurrent-check",), "rules    -18 past 1 in flight per serial, no -19"),
        (("--no-serial-rules", "--max-in-flight", "4"), "rules    no -18, no -19"),
    ],
)
def test_serial_rule_flags(args, expected):
    """-18 and -19 are on by default; the flags change or switch them off, as printed."""
    assert _rules_line(*args) == expected


def test_max_in_flight_below_one_is_a_usage_error():
    """--max-in-flight 0 exits with a usage error before listening."""
    result = CliRunner().invoke(sandbox, ["--max-in-flight", "0"])
    assert result.exit_code == 2
    assert "--max-in-flight" in result.output


@pytest.mark.parametrize("as_json", [False, True])
def test_sigint_right_after_the_first_banner_line_stops_cleanly(tmp_path, as_json):
    """The signal handlers are in place before the banner: a SIGINT the moment its first
    line appears still exits 0 and writes the ledger (it used to be 'Aborted!', exit 1)."""
    ledger = tmp_path / "l.json"
    proc = _start("--ledger", str(ledger), *(["--json"] if as_json else []))
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.strip()
    out, err = _stop(proc)
    assert proc.returncode == 0, err
    assert "Aborted" not in err
    assert json.loads(ledger.read_text(encoding="utf-8"))["messages"] == []
    if as_json:
        events = [json.loads(line) for line in [first, *out.splitlines()]]
        assert [e["event"] for e in events] == ["listening", "stopped", "ledger"]


def test_json_prints_the_urls_as_one_object_then_json_lines(tmp_path):
    """--json: the first line is one object with the URLs and environment; then JSON Lines."""
    proc = _start("--json", "--ledger", str(tmp_path / "l.csv"))
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    assert first["event"] == "listening"
    assert len(first["hosts"]) == len(first["account_hosts"]) == 2
    assert first["environment"] == {
        "MANDAO_HOSTS": ",".join(first["hosts"]),
        "MANDAO_ACCOUNT_HOSTS": ",".join(first["account_hosts"]),
        "MANDAO_JOURNAL": str((tmp_path / "l.journal.sqlite3").resolve()),
        "MANDAO_SN": DEFAULT_SN,  # as the export lines say them
        "MANDAO_PASSWORD": "secret",
    }
    assert first["accounts"] == [{"sn": DEFAULT_SN, "balance": 1000000, "registered": True}]
    out, _ = _stop(proc)
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0] == {"event": "stopped", "accepted": 0, "rejected": 0, "in_view": 0}
    assert lines[1]["event"] == "ledger"


def test_the_printed_export_lines_point_the_cli_at_the_sandbox():
    """The banner's export lines (full /webservice.asmx URLs) are all `mandao` needs."""
    proc = _start()
    assert proc.stdout is not None
    env: dict[str, str] = {}
    try:
        exports = []
        for line in proc.stdout:
            if line.strip().startswith("export "):
                exports.append(line.strip())
            if len(exports) == 2:
                break
        for line in exports:
            env.update(item.split("=", 1) for item in shlex.split(line)[1:])
        assert env["MANDAO_SN"] == DEFAULT_SN
        assert env["MANDAO_PASSWORD"] == DEFAULT_PASSWORD
        hosts = env["MANDAO_HOSTS"].split(",") + env["MANDAO_ACCOUNT_HOSTS"].split(",")
        assert all(re.fullmatch(r"http://127\.0\.0\.1:\d+/webservice\.asmx", h) for h in hosts)
        result = CliRunner().invoke(main, ["account", "--json"], env=env)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["balance"] == 1000000
    finally:
        _stop(proc)
        if "MANDAO_JOURNAL" in env:
            shutil.rmtree(Path(env["MANDAO_JOURNAL"]).parent)


def test_the_export_lines_run_in_a_shell_as_printed_and_never_show_a_given_password(tmp_path):
    """--account with a password of spaces, quotes and $, a --ledger in a folder with a
    space: every export line runs in sh as printed (no `<its password>` for the shell to
    read as a redirection), sets what it names; the password is nowhere, and the line
    after the exports says to set MANDAO_PASSWORD."""
    sn, password = "SDK-TST-010-00002", "pa ss\"$x'<y>"
    folder = tmp_path / "a b"
    folder.mkdir()
    proc = _start("--account", f"{sn}:{password}", "--ledger", str(folder / "run.jsonl"))
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "MANDAO_PASSWORD" in line:
                break
    finally:
        out, err = _stop(proc)
    # What follows "point the mandao command line at it:", pasted whole.
    block = [
        line.strip() for line in lines[lines.index("point the mandao command line at it:") + 1 :]
    ]
    assert [line.split(" ", 1)[0] for line in block] == ["export", "export", "#"]
    shown = 'printf "%s\\n" "$MANDAO_SN" "$MANDAO_JOURNAL" "${MANDAO_PASSWORD-unset}"'
    done = subprocess.run(["sh", "-c", "\n".join([*block, shown])], capture_output=True,
                          text=True, env={"PATH": os.environ["PATH"]}, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    journal = str((folder / "run.journal.sqlite3").resolve())
    assert done.stdout.splitlines() == [sn, journal, "unset"]
    assert block[-1] == (
        "# and set MANDAO_PASSWORD to the account's password (not printed here), if not set"
    )
    for text in ("\n".join(lines), out, err):
        assert password not in text
        assert md5_pwd(sn, password) not in text
    # --json's environment: the serial, and no password either.
    proc = _start("--json", "--account", f"{sn}:{password}", "--ledger", str(folder / "j.jsonl"))
    assert proc.stdout is not None
    first = proc.stdout.readline()
    out, err = _stop(proc)
    environment = json.loads(first)["environment"]
    assert environment["MANDAO_SN"] == sn
    assert "MANDAO_PASSWORD" not in environment
    for text in (first, out, err):
        assert password not in text
        assert json.dumps(password)[1:-1] not in text  # as JSON would write it
        assert md5_pwd(sn, password) not in text


def test_the_exports_keep_sandbox_sends_out_of_the_real_journal(tmp_path):
    """MANDAO_JOURNAL in the export lines: a send made with them is journalled in a
    temporary folder of the run (or beside --ledger), not in the user's default journal."""
    for args, beside in (((), False), (("--ledger", str(tmp_path / "run.jsonl")), True)):
        proc = _start(*args)
        assert proc.stdout is not None
        env: dict[str, str] = {}
        try:
            for line in proc.stdout:
                if line.strip().startswith("export "):
                    env.update(item.split("=", 1) for item in shlex.split(line)[1:])
                if "MANDAO_SN" in env:
                    break
            journal = Path(env["MANDAO_JOURNAL"])
            assert journal.is_absolute()
            if beside:
                assert journal == (tmp_path / "run.journal.sqlite3").resolve()
            else:
                assert journal.parent.name.startswith("mandao-sandbox-")
                assert journal.parent.is_dir()
            home = tmp_path / f"home-{beside}"
            result = CliRunner().invoke(
                main,
                ["send", "13800138000", "-t", "测试【示例】"],
                env={**env, "HOME": str(home), "XDG_DATA_HOME": str(home / "data")},
            )
            assert result.exit_code == 0, result.output
            assert journal.is_file()
            assert not (home / "data").exists()
        finally:
            _stop(proc)
            if not beside and "MANDAO_JOURNAL" in env:
                shutil.rmtree(Path(env["MANDAO_JOURNAL"]).parent)


def test_a_ledger_in_a_missing_folder_is_refused_at_start():
    """--ledger /nonexistent/dir/l.json exits 2 at once, naming the folder (no traceback)."""
    result = CliRunner().invoke(sandbox, ["--ledger", "/nonexistent/dir/l.json"])
    assert result.exit_code == 2
    assert "/nonexistent/dir does not exist" in result.output
    assert "Traceback" not in result.output


def test_a_ledger_that_cannot_be_written_at_exit_is_one_clear_error(tmp_path):
    """A ledger folder removed while it ran: a one-line error at exit, not a traceback."""
    folder = tmp_path / "gone"
    folder.mkdir()
    proc = _start("--ledger", str(folder / "l.json"))
    assert proc.stdout is not None
    proc.stdout.readline()
    folder.rmdir()
    out, err = _stop(proc)
    assert proc.returncode == 1
    assert "stopped: 0 message(s) accepted" in out
    assert "--ledger" in err
    assert "not written" in err
    assert "Traceback" not in err


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signal handlers are installed from the main thread only",
)
def test_a_signal_stops_the_wait_and_its_handler_never_blocks():
    """The stop handler only writes to a pipe (the old one set a threading.Event, which
    deadlocks when the signal lands while the main thread holds that event's lock, inside
    its wait): a real SIGINT from another thread ends the wait, and far more signals than
    the pipe holds neither block nor fail; the previous handlers come back after."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with _stop_on_signals() as stopped:
        assert not stopped(0)
        sender = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT))
        sender.start()
        assert stopped(30)
        sender.join()
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        for _ in range(200_000):  # a pipe holds 64 KiB
            handler(signal.SIGTERM, None)
        assert stopped(0)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_a_port_in_use_is_named():
    """A port already taken is refused naming the port and the flag to change."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(sandbox, ["--account-port", str(port)])
    assert result.exit_code == 2
    assert f"127.0.0.1:{port}" in result.output
    assert "--account-port" in result.output
    assert "primary account port" in result.output


@pytest.mark.parametrize("spec", ["BAD:pw", "SDK-TST-010-0001:pw", "SDK_TST_010_00001:pw"])
def test_an_account_that_is_not_a_serial_is_refused(spec):
    """--account with a serial not of the XXX-XXX-XXX-XXXXX shape exits 2 before listening."""
    result = CliRunner().invoke(sandbox, ["--account", spec])
    assert result.exit_code == 2
    assert "XXX-XXX-XXX-XXXXX" in result.output


def test_usage_errors_under_json_are_json():
    """Through `mandao sandbox --json`, a refused flag is a JSON error with exit 2."""
    result = CliRunner().invoke(main, ["sandbox", "--json", "--account", "BAD:pw"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["exit"] == 2
    assert "XXX-XXX-XXX-XXXXX" in error["message"]


def test_report_flags_reach_the_gateway():
    """--report-* set the delivery reports' delay, shares and layout (shown in --json)."""
    proc = _start(
        "--json", "--report-delay", "30", "--report-failed", "0.25", "--report-layout", "semicolon"
    )
    assert proc.stdout is not None
    reports = json.loads(proc.stdout.readline())["reports"]
    _stop(proc)
    assert (reports["delay"], reports["failed"], reports["layout"]) == (30.0, 0.25, "semicolon")
