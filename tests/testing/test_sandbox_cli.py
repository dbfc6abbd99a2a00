"""`mandao sandbox`: option parsing, URLs printed, requests served, clean stop on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest
import requests
from click.testing import CliRunner

from mandao.cli.sandbox import parse_fault, sandbox
from mandao.testing import md5_pwd

SRC = Path(__file__).resolve().parents[2] / "src"


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


def test_bad_account_is_usage_error():
    """--account without a colon exits with a usage error before listening."""
    result = CliRunner().invoke(sandbox, ["--account", "nocolon"])
    assert result.exit_code == 2
    assert "SN:PASSWORD" in result.output


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
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mandao.cli.sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
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
