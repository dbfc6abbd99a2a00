"""What the commands say: clean warnings, flags not Python keywords, hints that name the
next command, the new flags and commands an operator reaches for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mandao import ConfigError
from mandao.cli._output import Output
from mandao.testing import Fault, SandboxGateway

from ._cli_helpers import PASSWORD, SN, as_json, run, sandbox_env

TEXT = "通知【示例】"
EMOJI = "你好😀【示例】"


def test_an_unencodable_text_warns_once_in_one_clean_line(gateway: SandboxGateway) -> None:
    """GBK-less characters: one `warning:` line naming --text and --msgfmt 8, no source
    path, no Python warning format; --msgfmt 8 sends it with no warning."""
    result = run(["send", "13800138000", "-t", EMOJI], env=sandbox_env(gateway))
    assert result.exit_code == 0, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("warning: --text: holds 1 character(s) GBK cannot carry")
    assert line.endswith("send with --msgfmt 8 (UCS2) or remove them")
    assert "msgfmt=8" not in line
    assert ".py" not in line
    assert "UnencodableWarning" not in line
    ucs2 = run(["send", "13900139000", "-t", EMOJI, "--msgfmt", "8", "--json"],
               env=sandbox_env(gateway))  # fmt: skip
    assert (ucs2.exit_code, ucs2.stderr) == (0, "")
    assert [m.content for m in gateway.ledger.messages if m.mobile == "13900139000"] == [EMOJI]
    dry = as_json(run(["send", "13700137000", "-t", EMOJI, "--msgfmt", "8", "--dry-run",
                       "--json"], env=sandbox_env(gateway)))  # fmt: skip
    assert "<ns0:msgfmt>8</ns0:msgfmt>" in dry["requests"][0]["body"]


def test_a_text_without_signature_names_the_flags(gateway: SandboxGateway) -> None:
    """No 【signature】: the error names --signature and --no-require-signature (not
    Client(...)); --no-require-signature sends the text as it is."""
    result = run(["send", "13800138000", "-t", "你好", "--json"], env=sandbox_env(gateway))
    error = as_json(result)["error"]
    assert (result.exit_code, error["flag"]) == (2, "--text")
    assert "--signature NAME" in error["message"]
    assert "--no-require-signature" in error["message"]
    assert "Client(" not in error["message"]
    sent = run(["send", "13800138000", "-t", "你好", "--no-require-signature", "--json"],
               env=sandbox_env(gateway))  # fmt: skip
    assert sent.exit_code == 0, sent.output
    assert [m.content for m in gateway.ledger.messages] == ["你好"]


def test_the_guard_refusal_names_both_ways_on_and_skip_sends_the_rest(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """A re-run refused by the guard names --duplicate-action skip and --no-duplicate-guard;
    --duplicate-action skip sends to the new number only and lists the skipped one, masked."""
    env = {**sandbox_env(gateway, duplicate_action=""), "MANDAO_JOURNAL": str(tmp_path / "j")}
    assert run(["send", "13800138000", "-t", TEXT], env=env).exit_code == 0
    again = run(["send", "13800138000", "13900139000", "-t", TEXT], env=env)
    assert again.exit_code == 2
    assert "--duplicate-action skip" in again.stderr
    assert "--no-duplicate-guard" in again.stderr
    skipped = run(["send", "13800138000", "13900139000", "-t", TEXT, "--duplicate-action",
                   "skip", "--json"], env=env)  # fmt: skip
    assert skipped.exit_code == 0, skipped.output
    data = as_json(skipped)
    assert data["recipients"] == 1
    assert [(s["value"], s["kind"], s["where"]) for s in data["skipped"]] == [
        ("138****8000", "duplicate", "argument 1")  # masked: where it came from finds it
    ]
    assert sorted(m.mobile for m in gateway.ledger.messages) == ["13800138000", "13900139000"]
    both = run(["send", "1", "-t", TEXT, "--no-duplicate-guard", "--duplicate-action", "skip"],
               env=env)  # fmt: skip
    assert both.exit_code == 2
    assert "disagree" in both.stderr


def test_outcome_unknown_says_what_to_do(gateway: SandboxGateway) -> None:
    """An OutcomeUnknown carries a hint: do not resend blindly; journal pending; --against."""
    gateway.primary.add_fault(Fault("malformed-xml"))
    result = run(["send", "13800138000", "-t", TEXT], env=sandbox_env(gateway))
    assert result.exit_code == 10
    assert "→ it may have been sent: do not send it again blindly" in result.stderr
    assert "mandao journal pending" in result.stderr


def test_a_host_without_its_service_path_is_refused_before_sending(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """--host http://127.0.0.1:PORT (no /webservice.asmx): exit 3 naming --host and the
    whole URL to give; nothing reaches the sandbox, nothing is journaled."""
    bare = gateway.hosts[0].removesuffix("/webservice.asmx")
    journal = tmp_path / "journal.sqlite3"
    env = {**sandbox_env(gateway), "MANDAO_JOURNAL": str(journal)}
    result = run(["send", "13800138000", "-t", TEXT, "--host", bare, "--json"], env=env)
    error = as_json(result)["error"]
    assert (result.exit_code, error["kind"]) == (3, "config")
    assert error["message"] == (
        f"hosts (--host): {bare} has no service path; give the whole URL, e.g. "
        f"{bare}/webservice.asmx"
    )
    assert gateway.ledger.messages == []
    assert not journal.exists()
    env_bare = {**env, "MANDAO_HOSTS": bare + "/"}
    assert "MANDAO_HOSTS" in as_json(run(["account", "--json"], env=env_bare))["error"]["message"]


def test_v_shows_requests_but_not_zeeps_schema_parse(gateway: SandboxGateway) -> None:
    """-v logs the request lines, not zeep's schema DEBUG; -vv adds it."""
    one = run(["send", "13800138000", "-t", TEXT, "-v"], env=sandbox_env(gateway))
    assert one.exit_code == 0, one.output
    assert "urllib3" in one.stderr
    assert "DEBUG zeep" not in one.stderr
    two = run(["send", "13900139000", "-t", TEXT, "-vv", "--protocol", "soap12"],
              env=sandbox_env(gateway))  # fmt: skip
    assert two.exit_code == 0
    assert len(two.stderr.splitlines()) >= len(one.stderr.splitlines())


def test_python_m_mandao_runs_the_command_line() -> None:
    """`python -m mandao` is the `mandao` command (its name in the help is mandao)."""
    done = subprocess.run([sys.executable, "-m", "mandao", "explain", "-4"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "余额不足" in done.stdout
    helped = subprocess.run([sys.executable, "-m", "mandao", "--help"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert helped.stdout.startswith("Usage: mandao ")


def test_explain_a_forgotten_minus_and_a_name() -> None:
    """explain 20: a success, probably -20, shown; explain by name, any case; a close miss
    is named; codes has the retry column its help promises."""
    meant = run(["explain", "20"])
    assert meant.stdout.startswith("20 is a success (a send's id), not an error code; you "
                                   "probably meant -20 (DUPLICATE_SUBMISSION):")  # fmt: skip
    assert "相同手机号，相同内容重复提交" in meant.stdout
    assert as_json(run(["explain", "20", "--json"]))["probably"]["code"] == -20
    assert as_json(run(["explain", "duplicate-submission", "--json"]))["code"] == -20
    miss = run(["explain", "DUPLICATE_SUBMISION", "--json"])
    assert miss.exit_code == 2
    assert "DUPLICATE_SUBMISSION" in as_json(miss)["error"]["message"]
    header, *_ = run(["codes"]).stdout.splitlines()
    assert header.split()[:4] == ["code", "name", "kind", "retry"]
    assert "same_host" in run(["codes"]).stdout


def test_account_balance_only(gateway: SandboxGateway) -> None:
    """account --balance-only gives the number of messages left, and nothing else."""
    result = run(["account", "--balance-only", "--json"], env=sandbox_env(gateway))
    assert result.exit_code == 0, result.output
    assert as_json(result) == {"balance": gateway.balance(SN)}
    text = run(["account", "--balance-only"], env=sandbox_env(gateway)).stdout
    assert text == f"balance: {gateway.balance(SN)} message(s) left\n"


def test_password_change_reads_the_new_one_from_stdin(gateway: SandboxGateway) -> None:
    """password change --new-password-stdin --yes changes it at the gateway (UDPPwd); the
    password is on no command line, and not in the output."""
    result = run(["password", "change", "--new-password-stdin", "--yes", "--json"],
                 env=sandbox_env(gateway), stdin="n3w-Secret\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "n3w-Secret" not in result.output
    assert run(["account", "--json"], env=sandbox_env(gateway, "n3w-Secret")).exit_code == 0
    old = run(["account", "--json"], env=sandbox_env(gateway, PASSWORD))
    assert old.exit_code == 4


def test_password_change_without_a_terminal_to_confirm_on_says_to_pass_yes(
    gateway: SandboxGateway,
) -> None:
    """The new password read from stdin, nothing left there to answer the question: exit 2
    naming --yes, and the password is unchanged."""
    result = run(["password", "change", "--new-password-stdin"], env=sandbox_env(gateway),
                 stdin="n3w-Secret\n")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "there is no terminal to ask on" in result.stderr
    assert result.stderr.rstrip().endswith("pass --yes to change it without being asked")
    assert "n3w-Secret" not in result.output
    assert run(["account", "--json"], env=sandbox_env(gateway)).exit_code == 0


def test_password_change_without_a_terminal_needs_a_source() -> None:
    """No terminal and no --new-password-stdin/--new-password-command: exit 2 naming both."""
    result = run(["password", "change", "--json"], env={"MANDAO_SN": SN, "MANDAO_PASSWORD": "x"})
    error = as_json(result)["error"]
    assert result.exit_code == 2
    assert "--new-password-stdin" in error["message"]
    assert "--new-password-command" in error["message"]


def test_demo_takes_json() -> None:
    """demo --json prints the steps' results as one object; no repr in it."""
    result = run(["demo", "--json"])
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert (data["register"]["code"], data["error"]["code"]) == (0, -1)
    assert data["balance_left"] == 999996
    assert len(data["ledger"]) == 4


def test_the_human_output_of_a_partial_send_says_what_became_of_each_batch(
    gateway: SandboxGateway, tmp_path: Path
) -> None:
    """Batch 2 refused: 5000 of 5001 sent; the line for batch 2 says refused and why (no
    `None`); the bar counts 5000 sent of 5001 and the one refused beside it."""
    numbers = tmp_path / "n.txt"
    numbers.write_text("\n".join(f"138{i:08d}" for i in range(5001)), encoding="utf-8")
    gateway.set_balance(SN, 5000)
    result = run(["send", "--file", str(numbers), "-t", TEXT, "--yes"], env=sandbox_env(gateway))
    assert result.exit_code == 14, result.output
    assert result.stdout.startswith("partly sent: 5000 of 5001 numbers in 1 of 2 batches")
    assert "batch 2 of 2 (1 number): refused by the gateway (not sent): -4" in result.stderr
    assert "None" not in result.stderr
    assert "5000/5001" in result.stderr
    assert "1 refused" in result.stderr


def test_a_missing_config_file_names_where_its_path_came_from(tmp_path: Path) -> None:
    """MANDAO_CONFIG naming no file, or a file with an unknown key: exit 3, the message
    names the variable (or the key) and what to do, and no hint sends the user to `mandao
    config show`, which fails the same way."""
    missing = tmp_path / "nope.toml"
    result = run(["config", "show", "--json"], env={"MANDAO_CONFIG": str(missing)})
    error = as_json(result)["error"]
    assert (result.exit_code, error["kind"]) == (3, "config")
    assert error["message"].startswith(f"{missing}: no such config file (named by MANDAO_CONFIG")
    assert "hint" not in error
    named = run(["config", "show", "--json", "--config", str(missing)], env={})
    assert "(the path given)" in as_json(named)["error"]["message"]
    misspelt = tmp_path / "mandao.toml"
    misspelt.write_text('signatur = "示例"\n', encoding="utf-8")
    misspelt.chmod(0o600)
    error = as_json(run(["config", "show", "--json", "--config", str(misspelt)], env={}))["error"]
    assert "unknown key" in error["message"]
    assert "hint" not in error  # config show reads the same file: it is no way out
    sent = run(["account", "--json", "--config", str(misspelt)], env={})
    assert "hint" not in as_json(sent)["error"]
    # Settings that read well but lack something: config show does show where each is from.
    misspelt.write_text('signature = "示例"\n', encoding="utf-8")
    error = as_json(run(["account", "--json", "--config", str(misspelt)], env={}))["error"]
    assert error["message"].startswith("no serial number")
    assert error["hint"].startswith("`mandao config show` shows each setting")


@pytest.mark.parametrize(
    ("message", "remedy_included", "hinted"),
    [
        ("ask the vendor to enable it", True, False),
        ("a value that mentions pip install", False, True),
        ("no such config file, says a value", False, True),
    ],
)
def test_the_config_hint_follows_the_errors_flag_not_its_words(
    message: str, remedy_included: bool, hinted: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ConfigError made with remedy_included gets no `mandao config show` hint, whatever
    its words; any other ConfigError gets it."""
    error = ConfigError(message, remedy_included=True) if remedy_included else ConfigError(message)
    with pytest.raises(SystemExit) as stopped:
        Output(True).fail(error)
    data = json.loads(capsys.readouterr().out)["error"]
    assert (stopped.value.code, data["kind"]) == (3, "config")
    assert ("hint" in data) == hinted


@pytest.mark.parametrize("args", [[], ["journal"], ["config"]])
def test_a_group_without_a_command_shows_its_help_not_an_error(args: list[str]) -> None:
    """`mandao` alone (or `mandao journal`): the group's help, with its commands, not an
    `error (usage):` line; under --json, the error as JSON."""
    result = run(args)
    assert result.exit_code in (0, 2), result.output  # click 8.1 exits 0, 8.2 and later 2
    assert "Commands:" in result.output, result.output
    assert "error" not in result.output, result.output
    if args:
        error = as_json(run([*args, "--json"]))["error"]
        assert (error["kind"], error["exit"]) == ("usage", 2)


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["acount"], "did you mean `mandao account`? `mandao --help` lists the commands"),
        (["journal", "lst"], "did you mean `mandao journal list`? `mandao journal --help`"),
        (["journal", "zzz"], "`mandao journal --help` lists the commands"),
    ],
)
def test_a_mistyped_command_is_answered_with_the_commands_it_may_mean(
    args: list[str], hint: str
) -> None:
    """A command that is none of the group's: the closest of its commands, if any, and
    where they are listed (not "lists the options"); the same hint in the JSON."""
    result = run(args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == f"error (usage): No such command {args[-1]!r}.", result.stderr
    assert lines[-1].startswith(f"  → {hint}"), result.stderr
    error = as_json(run([*args, "--json"]))["error"]
    assert (error["kind"], error["exit"]) == ("usage", 2)
    assert error["hint"].startswith(hint)


def test_a_gateway_errors_hint_is_said_once(gateway: SandboxGateway) -> None:
    """A wrong password: the gateway's hint is the `→` line (the JSON's hint), not also
    the end of the message above it."""
    hint = "Check the serial number and password"
    result = run(["account"], env=sandbox_env(gateway, "wrong"))
    assert result.exit_code == 4
    assert result.stderr.count(hint) == 1
    assert result.stderr.splitlines()[-1].startswith(f"  → {hint}")
    error = as_json(run(["account", "--json"], env=sandbox_env(gateway, "wrong")))["error"]
    assert error["message"].startswith("-2 Wrong account or password. (operation=mdgetSninfo")
    assert error["hint"].startswith(hint)


def test_a_usage_error_reads_as_every_error_does() -> None:
    """An unknown flag or a bad choice: `error (usage): …` and what to do on stderr, exit 2
    (click's own `Usage: … Error: …` block is not the command line's way)."""
    for args in (["send", "13800138000", "--bogus"], ["journal", "list", "--outcome", "foo"]):
        result = run(args)
        assert result.exit_code == 2, result.output
        lines = result.stderr.splitlines()
        assert lines[0].startswith("error (usage): "), result.stderr
        assert lines[-1].endswith(" --help` lists the options"), result.stderr
        assert "Usage:" not in result.stderr


def test_a_hint_names_no_command_the_error_named_already_nor_the_one_that_failed(
    tmp_path: Path,
) -> None:
    """A journal that is no database: `journal list` points at `journal verify`; from
    `journal verify` itself the hint keeps only `journal path`. A missing journal's message
    names `journal path` already, so its hint does not say it again."""
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database")
    listed = as_json(run(["journal", "list", "--journal", str(junk), "--json"]))["error"]
    assert listed["hint"] == (
        "`mandao journal path` says where the journal is; `mandao journal verify` checks it"
    )
    verified = as_json(run(["journal", "verify", "--journal", str(junk), "--json"]))["error"]
    assert (verified["kind"], verified["hint"]) == (
        "journal", "`mandao journal path` says where the journal is"
    )  # fmt: skip
    missing = run(["journal", "verify", "--journal", str(tmp_path / "none.sqlite3")])
    assert missing.exit_code == 3
    assert "`mandao journal path`" in missing.stderr
    assert "→" not in missing.stderr


def test_a_missing_journal_is_not_sent_to_journal_verify(tmp_path: Path) -> None:
    """`journal list/pending/export --journal typo` say there is no journal there, and
    give no hint: `mandao journal verify` would fail the same way."""
    typo = tmp_path / "typo.sqlite3"
    for command in ("list", "pending", "export"):
        result = run(["journal", command, "--journal", str(typo)])
        assert result.exit_code == 3, result.output
        assert result.stderr.startswith(f"error (journal): no journal at {typo}: ")
        assert "→" not in result.stderr, result.stderr
        error = as_json(run(["journal", command, "--journal", str(typo), "--json"]))["error"]
        assert "hint" not in error
    assert not typo.exists()  # nothing was created


def test_a_hint_naming_a_longer_command_is_kept_from_the_shorter_one() -> None:
    """From `mandao send`, advice naming `mandao send-file` (or `mandao sender`) stays;
    advice naming `mandao send` itself, with or without flags, goes."""
    import click

    from mandao.cli._output import _new_advice

    group = click.Context(click.Group("mandao"), info_name="mandao")
    with click.Context(click.Command("send"), info_name="send", parent=group):
        hint = "`mandao send-file` resumes; `mandao send --dry-run` shows it; `mandao sender` x"
        assert _new_advice(hint, "failed") == "`mandao send-file` resumes; `mandao sender` x"


def test_a_missing_argument_file_is_flagged_by_the_name_its_usage_gives(tmp_path: Path) -> None:
    """The JSON's ``flag`` names an argument as its message and usage do (FILE), an
    option by its flags."""
    missing = run(["send-file", str(tmp_path / "nosuch.csv"), "--json"])
    error = as_json(missing)["error"]
    assert (missing.exit_code, error["flag"]) == (2, "FILE")
    assert "'FILE'" in error["message"]
    bad = as_json(run(["send", "13800138000", "-t", "x", "--protocol", "soap9", "--json"]))
    assert bad["error"]["flag"] == "--protocol"
