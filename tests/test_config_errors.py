"""Configuration errors as an operator meets them: each names the file, variable or flag,
exits 3, and says what to do; durations as people write them; config show's defaults."""

from __future__ import annotations

import re

import pytest

from mandao._config_file import ConfigError, load_settings, parse_duration

from ._cli_helpers import SN, as_json, run

GOOD = f'sn = "{SN}"\npassword_command = "echo pw"\n'


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('protocol = "soap"', "protocol"),
        ('sn = "SDK-1"', "sn"),
        ('hosts = ["ftp://h/webservice.asmx"]', "hosts"),
        ('hosts = ["http://127.0.0.1:28061"]', "has no service path"),
        ('account_hosts = "http://h:8060/"', "has no service path"),
        ("timeout = 0", "timeout"),
        ("[timeout]\nconnect = true", "timeout.connect"),
        ('[timeout]\nread = "30"', "timeout.read"),
        ("[failover]\ncooldown = -1", "failover"),
        ('[journal]\nduplicate_window = "soon"', "duplicate_window"),
    ],
)
def test_a_bad_value_in_the_file_exits_3_naming_the_file(
    tmp_path: object, line: str, named: str
) -> None:
    """protocol, sn, hosts, timeout, failover and the guard's window: exit 3, the file named."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cfg = tmp_path / "mandao.toml"
    body = GOOD.replace('sn = "SDK-TST-010-00001"\n', "") if line.startswith("sn") else GOOD
    cfg.write_text(f"{line}\n{body}" if not line.startswith("[") else f"{body}{line}\n",
                   encoding="utf-8")  # fmt: skip
    result = run(["send", "13800138000", "-t", "x【示例】", "--config", str(cfg), "--json"])
    error = as_json(result)["error"]
    assert (result.exit_code, error["kind"]) == (3, "config"), error
    assert str(cfg) in error["message"]
    assert named in error["message"]


@pytest.mark.parametrize(
    ("table", "line", "meant"),
    [
        ("", 'hostz = ["http://h:8061/webservice.asmx"]', "hosts"),
        ("[journal]", 'duplicate_windw = "10m"', "duplicate_window"),
        ("[timeout]", "conect = 5", "connect"),
        ("[failover]", "cooldwn = 60", "cooldown"),
        ("[failover]", "max_inflight = 2", "max_in_flight"),
    ],
)
def test_a_misspelt_key_is_refused_naming_the_key_it_is_near(
    tmp_path: object, table: str, line: str, meant: str
) -> None:
    """An unknown key, at the top or in a table: exit 3, and the near key is named as
    `did you mean`; a key near none is named alone."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cfg = tmp_path / "mandao.toml"
    cfg.write_text(f"{GOOD}{table}\n{line}\nzzz_nothing_like = 1\n", encoding="utf-8")
    result = run(["send", "13800138000", "-t", "x【示例】", "--config", str(cfg), "--json"])
    error = as_json(result)["error"]
    assert (result.exit_code, error["kind"]) == (3, "config"), error
    key = line.partition(" ")[0]
    assert f"{key} (did you mean `{meant}`?), zzz_nothing_like;" in error["message"]


def _dry_send(tmp_path: object, body: str) -> tuple[int, dict[str, object], str]:
    """`mandao send --dry-run` with ``body`` after GOOD in a file: exit, error, the file."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cfg = tmp_path / "x.toml"
    cfg.write_text(f"{GOOD}{body}\n", encoding="utf-8")
    args = ["send", "13900009998", "--text", "t【示例】", "--config", str(cfg), "--dry-run"]
    result = run([*args, "--json"])
    return result.exit_code, as_json(result)["error"], str(cfg)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('slow_threshold = "x"', "expected seconds, more than 0, got 'x'"),
        ("slow_threshold = true", "expected seconds, more than 0, got True"),
        ('cooldown = "300"', "expected seconds, 0 or more, got '300'"),
        ("average_weight = [0.5]", "expected a number more than 0, at most 1, got [0.5]"),
        ("retry_tries = 1.5", "expected a whole number, 0 or more, got 1.5"),
        ("slow_consecutive = 2.0", "expected a whole number, 1 or more, got 2.0"),
        ("budget = true", "expected a whole number, 0 or more, got True"),
        ("retry_cost = false", "expected a whole number, 0 or more, got False"),
        ("success_refund = 0.5", "expected a whole number, 0 or more, got 0.5"),
        ("max_in_flight = 0", "expected a whole number of requests, 1 or more"),
        ('max_in_flight = "2"', "expected a whole number of requests, 1 or more"),
        ("max_in_flight = 1.5", "expected a whole number of requests, 1 or more"),
        ("max_in_flight = true", "expected a whole number of requests, 1 or more"),
    ],
)
def test_a_failover_value_of_the_wrong_type_exits_3_naming_key_file_and_type(
    tmp_path: object, line: str, expected: str
) -> None:
    """Each [failover] setting, max_in_flight too: text, a bool (an int to Python), a
    fraction where a count goes: exit 3 naming the key, the file and what it takes; no
    Python TypeError, and no None (TOML has none: a key left out keeps its default)."""
    code, error, cfg = _dry_send(tmp_path, f"[failover]\n{line}")
    assert (code, error["kind"]) == (3, "config"), error
    key = line.partition(" ")[0]
    assert error["message"].startswith(f"failover.{key} ({cfg}): {expected}"), error
    assert "None" not in error["message"]
    assert "flag" not in error


def test_good_failover_values_are_taken(tmp_path: object) -> None:
    """Whole seconds for a float field, counts as whole numbers: a dry run goes ahead."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cfg = tmp_path / "x.toml"
    cfg.write_text(f"{GOOD}[failover]\nslow_threshold = 2\nretry_tries = 0\n"
                   "max_in_flight = 2\naverage_weight = 1\n", encoding="utf-8")  # fmt: skip
    kwargs = load_settings(cfg, environ={}).client_kwargs()
    assert kwargs["max_in_flight"] == 2
    assert (kwargs["failover"].slow_threshold, kwargs["failover"].retry_tries) == (2, 0)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('signature = "【示例】"', "give the name without 【】 (they are added), got '【示例】'"),
        ('signature = ""', "expected non-empty text, got ''"),
        ('signature = "  "', "expected non-empty text, got '  '"),
        (
            'signature = "示\\u001b例"',
            "holds the control character U+001B at position 1, which no phone shows; remove "
            "it, got '示\\x1b例'",
        ),
    ],
)
def test_a_bad_signature_in_the_file_is_blamed_on_the_file(
    tmp_path: object, line: str, expected: str
) -> None:
    """signature in the file: exit 3 naming the file's key, not the --signature flag."""
    code, error, cfg = _dry_send(tmp_path, line)
    assert (code, error["kind"]) == (3, "config"), error
    assert error["message"] == f"signature ({cfg}): {expected}"
    assert "flag" not in error


def test_hosts_without_account_hosts_in_the_file_name_the_files_keys(tmp_path: object) -> None:
    """hosts not on port 8061 and no account_hosts, in the file: exit 3, the file's hosts
    blamed and account_hosts in that same file offered first, not --account-host."""
    code, error, cfg = _dry_send(tmp_path, 'hosts = ["http://10.0.0.1:9000/webservice.asmx"]')
    assert (code, error["kind"]) == (3, "config"), error
    message = error["message"]
    assert message.startswith(f"hosts ({cfg}): hosts are given (10.0.0.1:9000, …) but "
                              "account_hosts is not"), message  # fmt: skip
    assert "give account_hosts too (account_hosts in the same file, MANDAO_ACCOUNT_HOSTS" in message
    assert "flag" not in error


def test_hosts_without_account_hosts_from_the_environment_name_the_variables() -> None:
    """MANDAO_HOSTS without MANDAO_ACCOUNT_HOSTS: exit 3, both variables named first."""
    env = {"MANDAO_SN": SN, "MANDAO_PASSWORD": "pw",
           "MANDAO_HOSTS": "http://10.0.0.1:9000/webservice.asmx"}  # fmt: skip
    result = run(["send", "13900009998", "-t", "t【示例】", "--dry-run", "--json"], env=env)
    error = as_json(result)["error"]
    assert (result.exit_code, error["kind"]) == (3, "config"), error
    assert error["message"].startswith("hosts (MANDAO_HOSTS): hosts are given")
    assert "give account_hosts too (MANDAO_ACCOUNT_HOSTS, --account-host" in error["message"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10 minutes", 600), ("10m", 600), ("90s", 90), ("1 hour 30 minutes", 5400),
     ("2 hours", 7200), ("1d", 86400), ("1 week", 604800), ("600", 600), (45, 45)],
)  # fmt: skip
def test_durations_read_as_people_write_them(text: object, seconds: float) -> None:
    """duplicate_window / --resume-window: 10 minutes, 10m, 1 hour 30 minutes, ..."""
    assert parse_duration(text, where="duplicate_window") == seconds


@pytest.mark.parametrize("text", ["", "soon", "10 parsecs", "-5m", "0", True, "10 minutes later"])
def test_a_duration_that_is_none_names_where_and_the_forms(text: object) -> None:
    """Anything else is a ConfigError naming where, with the forms it takes."""
    with pytest.raises(ConfigError, match=r"duplicate_window: expected"):
        parse_duration(text, where="duplicate_window")


def test_duplicate_window_in_words_in_the_file(tmp_path: object) -> None:
    """duplicate_window = "10 minutes" in [journal] is 600 seconds (no float error)."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cfg = tmp_path / "m.toml"
    cfg.write_text('[journal]\nduplicate_window = "10 minutes"\n', encoding="utf-8")
    guard = load_settings(cfg, environ={}).duplicate_guard()
    assert guard is not None
    assert guard.window.total_seconds() == 600


def test_a_missing_password_command_names_the_command(tmp_path: object) -> None:
    """password_command naming no program: exit 3, the command and where it was set named,
    the output never shown."""
    env = {"MANDAO_SN": SN, "MANDAO_PASSWORD_COMMAND": "no-such-program --get"}
    result = run(["account", "--json"], env=env)
    error = as_json(result)["error"]
    assert result.exit_code == 3
    assert error["message"] == (
        "password_command 'no-such-program --get' (MANDAO_PASSWORD_COMMAND): cannot run it: "
        "no program 'no-such-program' on PATH (is it installed?)"
    )


def test_config_show_lists_defaults_and_warns_of_password_and_command(tmp_path: object) -> None:
    """Unset settings show their defaults (hosts, protocol, timeout, journal, the guard),
    marked default; a file with both password and password_command gets one warning."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cfg = tmp_path / "mandao.toml"
    cfg.write_text(f'sn = "{SN}"\npassword = "pw"\npassword_command = "echo x"\n',
                   encoding="utf-8")  # fmt: skip
    cfg.chmod(0o600)
    result = run(["config", "show", "--config", str(cfg), "--json"])
    assert result.exit_code == 0, result.output
    shown = as_json(result)["settings"]
    assert shown["protocol"] == {"value": "soap11", "source": "default"}
    assert shown["hosts"]["value"][0] == "http://sdk.entinfo.cn:8061/webservice.asmx"
    assert shown["journal"]["value"]["duplicate_action"] == "refuse"
    assert shown["signature"] == {"value": None, "source": "not set"}
    (warning,) = result.stderr.splitlines()
    assert warning == (
        f"warning: {cfg} sets both password and password_command: the password is used and "
        "the command is not run; remove one of them"
    )
    text = run(["config", "show", "--config", str(cfg)]).stdout
    assert re.search(r"^protocol +soap11 +\(default\)$", text, re.M)
    assert re.search(r"^password +\*\*\* ", text, re.M)


def test_config_show_names_the_source_of_each_journal_key(tmp_path: object) -> None:
    """MANDAO_JOURNAL sets the path, the file the guard's action, nothing the window: each
    key says where it came from (not all MANDAO_JOURNAL), in the JSON and as rows."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cfg = tmp_path / "mandao.toml"
    cfg.write_text('[journal]\nduplicate_action = "skip"\n', encoding="utf-8")
    env = {"MANDAO_JOURNAL": str(tmp_path / "j.sqlite3")}
    result = run(["config", "show", "--config", str(cfg), "--json"], env=env)
    assert result.exit_code == 0, result.output
    journal = as_json(result)["settings"]["journal"]
    assert journal["sources"] == {
        "path": "MANDAO_JOURNAL",
        "duplicate_window": "default",
        "duplicate_action": str(cfg),
    }
    assert journal["source"] == f"MANDAO_JOURNAL, default, {cfg}"
    text = run(["config", "show", "--config", str(cfg)], env=env).stdout
    assert re.search(r"^journal\.path +\S+j\.sqlite3 +\(MANDAO_JOURNAL\)$", text, re.M)
    assert re.search(r"^journal\.duplicate_window +600\.0 +\(default\)$", text, re.M)
    assert re.search(rf"^journal\.duplicate_action +skip +\({re.escape(str(cfg))}\)$", text, re.M)


def test_config_show_names_the_source_of_each_timeout(tmp_path: object) -> None:
    """A file's [timeout] table that sets only connect: read is the default's, and says so;
    MANDAO_TIMEOUT, which sets both, is the source of both."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cfg = tmp_path / "mandao.toml"
    cfg.write_text("[timeout]\nconnect = 3\n", encoding="utf-8")
    result = run(["config", "show", "--config", str(cfg), "--json"], env={})
    assert result.exit_code == 0, result.output
    timeout = as_json(result)["settings"]["timeout"]
    assert timeout["value"] == {"connect": 3.0, "read": 30.0}
    assert timeout["sources"] == {"connect": str(cfg), "read": "default"}
    text = run(["config", "show", "--config", str(cfg)], env={}).stdout
    assert re.search(rf"^timeout\.connect +3\.0 +\({re.escape(str(cfg))}\)$", text, re.M)
    assert re.search(r"^timeout\.read +30\.0 +\(default\)$", text, re.M)
    env = {"MANDAO_TIMEOUT": "9"}
    both = as_json(run(["config", "show", "--config", str(cfg), "--json"], env=env))
    assert both["settings"]["timeout"]["sources"] == {"connect": "MANDAO_TIMEOUT",
                                                      "read": "MANDAO_TIMEOUT"}  # fmt: skip


def test_config_show_with_a_journal_url_shows_no_file(tmp_path: object) -> None:
    """[journal] url is the journal: no journal.path row (its default file is not used)."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cfg = tmp_path / "mandao.toml"
    cfg.write_text('[journal]\nurl = "postgresql://app@db.example/m"\n', encoding="utf-8")
    shown = as_json(run(["config", "show", "--config", str(cfg), "--json"], env={}))
    assert set(shown["settings"]["journal"]["value"]) == {
        "url", "duplicate_window", "duplicate_action"}  # fmt: skip
    text = run(["config", "show", "--config", str(cfg)], env={}).stdout
    assert "journal.path" not in text
    assert re.search(r"^journal\.url +postgresql://app@db\.example/m ", text, re.M)


def test_config_show_never_shows_a_journal_urls_password(tmp_path: object) -> None:
    """A PostgreSQL journal named by MANDAO_JOURNAL or by the file's [journal] url: its
    password is in neither the text nor the JSON of `config show`."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cfg = tmp_path / "mandao.toml"
    cfg.write_text('[journal]\nurl = "postgresql://u:filepw@db.example/mandao"\n', encoding="utf-8")
    cfg.chmod(0o600)
    for env in ({}, {"MANDAO_JOURNAL": "postgresql://u:envpw@db.example/mandao?sslmode=require"}):
        for flags in ([], ["--json"]):
            result = run(["config", "show", "--config", str(cfg), *flags], env=env)
            assert result.exit_code == 0, result.output
            assert "filepw" not in result.output
            assert "envpw" not in result.output
            assert "u@db.example/mandao" in result.output
