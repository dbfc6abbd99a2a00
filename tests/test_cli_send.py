"""`mandao send`: numbers from arguments, files and stdin; dry run; confirmation; exit codes."""

from __future__ import annotations

from pathlib import Path

from mandao.testing import Fault, SandboxGateway

from ._cli_helpers import SN, as_json, run, sandbox_env

TEXT = "验证码 1234【示例】"


def test_send_json_reports_the_submission(gateway: SandboxGateway) -> None:
    """--json prints id, recipients, segments, billable and batch states; exit 0."""
    result = run(
        ["send", "13800138000", "139 0013 9000", "--text", TEXT, "--json"],
        env=sandbox_env(gateway),
    )
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert (data["recipients"], data["segments"], data["billable"]) == (2, 1, 2)
    assert data["complete"] is True
    assert [b["state"] for b in data["batches"]] == ["sent"]
    assert {e.mobile for e in gateway.ledger.messages} == {"13800138000", "13900139000"}


def test_numbers_come_from_a_file_and_from_stdin(gateway: SandboxGateway, tmp_path: Path) -> None:
    """--file reads one number a line (comments allowed); '-' reads stdin."""
    numbers = tmp_path / "n.txt"
    numbers.write_text("# staff\n13800138000\n13900139000, 13700137000\n", encoding="utf-8")
    result = run(["send", "--file", str(numbers), "-t", TEXT, "--json"], env=sandbox_env(gateway))
    assert as_json(result)["recipients"] == 3
    result = run(
        ["send", "-", "-t", TEXT, "--json"], env=sandbox_env(gateway), stdin="13600136000\n"
    )
    assert as_json(result)["recipients"] == 1


def test_text_output_is_one_readable_line(gateway: SandboxGateway) -> None:
    """Without --json the result is one sentence: what went, its id, the host; no repr."""
    result = run(["send", "13800138000", "-t", TEXT, "--rrid", "42"], env=sandbox_env(gateway))
    assert result.exit_code == 0
    host = gateway.hosts[0].split("/")[2]
    assert result.stdout == (
        f"sent: 1 of 1 number, 1 segment(s) each, 1 billable; id 42, rrid 42, via {host} (soap11)\n"
    )


def test_dry_run_sends_nothing_and_shows_redacted_requests(gateway: SandboxGateway) -> None:
    """--dry-run shows the envelope with pwd as *** and the ledger stays empty."""
    result = run(
        ["send", "13800138000", "-t", TEXT, "--dry-run", "--json"], env=sandbox_env(gateway)
    )
    data = as_json(result)
    assert data["dry_run"] is True
    assert data["estimate"]["billable"] == 1
    assert "<ns0:pwd>***</ns0:pwd>" in data["requests"][0]["body"]
    assert len(gateway.ledger.messages) == 0


def _many(n: int) -> list[str]:
    return [f"138{i:08d}" for i in range(n)]


def test_large_send_asks_first_and_no_sends_nothing(gateway: SandboxGateway) -> None:
    """Over 100 billable messages, the user is asked; answering no aborts (exit 1)."""
    result = run(["send", *_many(101), "-t", TEXT], env=sandbox_env(gateway), stdin="n\n")
    assert result.exit_code == 1
    assert "101 recipients" in result.stderr
    assert "101 billable" in result.stderr
    assert len(gateway.ledger.messages) == 0


def test_large_send_goes_with_yes_and_after_a_yes_answer(gateway: SandboxGateway) -> None:
    """--yes skips the question; answering y sends."""
    env = sandbox_env(gateway)
    assert run(["send", *_many(101), "-t", TEXT, "--yes", "--json"], env=env).exit_code == 0
    result = run(["send", *_many(101), "-t", "第二条【示例】"], env=env, stdin="y\n")
    assert result.exit_code == 0, result.output
    assert len(gateway.ledger.messages) == 202


def test_large_send_without_a_terminal_says_to_pass_yes(gateway: SandboxGateway) -> None:
    """Over 100 billable messages, stdin not a terminal and holding no answer: exit 2
    saying there is no terminal to ask on and to pass --yes (not a bare 'aborted')."""
    result = run(["send", *_many(101), "-t", TEXT], env=sandbox_env(gateway))
    assert result.exit_code == 2, result.output
    assert "there is no terminal to ask on" in result.stderr
    assert result.stderr.rstrip().endswith("pass --yes to send without being asked")
    assert len(gateway.ledger.messages) == 0


def test_large_send_from_stdin_requires_yes(gateway: SandboxGateway) -> None:
    """Numbers on stdin leave no one to ask, so a large send needs --yes (exit 2), an
    error of the same kind and flag as send-file's and a question no one answered."""
    result = run(["send", "-", "-t", TEXT], env=sandbox_env(gateway), stdin="\n".join(_many(120)))
    assert result.exit_code == 2
    assert "--yes" in result.output
    given = run(["send", "-", "-t", TEXT, "--json"], env=sandbox_env(gateway),
                stdin="\n".join(_many(120)))  # fmt: skip
    error = as_json(given)["error"]
    assert (given.exit_code, error["kind"], error["flag"]) == (2, "invalid-input", "--yes")
    assert len(gateway.ledger.messages) == 0


def test_invalid_number_exits_2_with_json_error(gateway: SandboxGateway) -> None:
    """A malformed number is invalid input: exit 2, error JSON naming the argument."""
    result = run(["send", "12345", "-t", TEXT, "--json"], env=sandbox_env(gateway))
    assert result.exit_code == 2
    error = as_json(result)["error"]
    assert (error["type"], error["kind"], error["argument"]) == (
        "InvalidRecipients", "invalid-input", "mobiles",
    )  # fmt: skip


def test_wrong_password_exits_4(gateway: SandboxGateway) -> None:
    """-2 from the gateway is an authentication error: exit 4, code and Chinese text shown."""
    result = run(["send", "13800138000", "-t", TEXT, "--json"], env=sandbox_env(gateway, "bad"))
    assert result.exit_code == 4
    error = as_json(result)["error"]
    assert (error["code"], error["type"]) == (-2, "AuthenticationError")


def test_empty_balance_exits_5(gateway: SandboxGateway) -> None:
    """-4 is the balance class: exit 5."""
    gateway.set_balance(SN, 0)
    result = run(["send", "13800138000", "-t", TEXT], env=sandbox_env(gateway))
    assert result.exit_code == 5
    assert "余额不足" in result.stderr or "balance" in result.stderr


def test_outcome_unknown_exits_10(gateway: SandboxGateway) -> None:
    """A reply that cannot be decoded after the request went out: exit 10 (outcome unknown)."""
    gateway.primary.add_fault(Fault("malformed-xml"))
    result = run(["send", "13800138000", "-t", TEXT, "--json"], env=sandbox_env(gateway))
    assert result.exit_code == 10
    assert as_json(result)["error"]["kind"] == "outcome-unknown"


def test_unreachable_hosts_exit_11(gateway: SandboxGateway) -> None:
    """Both hosts refusing connections: exit 11 (unreachable, nothing sent)."""
    gateway.primary.down()
    gateway.backup.down()
    result = run(["send", "13800138000", "-t", TEXT, "--json"], env=sandbox_env(gateway))
    assert result.exit_code == 11
    assert as_json(result)["error"]["type"] == "AllHostsFailed"


def test_missing_numbers_is_a_usage_error(gateway: SandboxGateway) -> None:
    """No numbers at all: click usage error, exit 2."""
    assert run(["send", "-t", TEXT], env=sandbox_env(gateway)).exit_code == 2


def test_a_send_of_several_batches_draws_its_bar_on_stderr_only(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """Over one batch (5000) the bar goes to stderr, never stdout, which names each batch's
    id; --json has no bar and parses."""
    numbers = tmp_path / "n.txt"
    numbers.write_text("\n".join(_many(5001)), encoding="utf-8")
    env = sandbox_env(gateway)
    result = run(["send", "--file", str(numbers), "-t", TEXT, "--yes", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert [b["recipients"] for b in as_json(result)["batches"]] == [5000, 1]
    assert "sending" not in result.stderr
    result = run(["send", "--file", str(numbers), "-t", "第二条【示例】", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    head, *lines = result.stdout.splitlines()
    assert head.startswith("sent: 5001 of 5001 numbers in 2 of 2 batches, ")
    assert head.endswith("; one id per batch:")
    # Each request's own id, as the gateway gave it (not the first one for both).
    ids = list(
        dict.fromkeys(m.id for m in gateway.ledger.messages if m.content == "第二条【示例】")
    )
    assert lines == [f"  batch 1 of 2 (5000 numbers): id {ids[0]}",
                     f"  batch 2 of 2 (1 number): id {ids[1]}"]  # fmt: skip
    assert "5001/5001" in result.stderr
    assert "2 batch(es)" in result.stderr
    assert "\x1b" not in result.stderr  # not a terminal: no escape codes


def test_a_one_batch_send_draws_no_bar(gateway: SandboxGateway) -> None:
    """A send that fits one batch shows no progress bar."""
    result = run(["send", *_many(3), "-t", TEXT], env=sandbox_env(gateway))
    assert result.exit_code == 0, result.output
    assert "sending" not in result.stderr
