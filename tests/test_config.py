"""The configuration loader: file, environment and flags; permissions; password_command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import mandao
from mandao._config_file import ConfigError, find_config_file, load_settings, user_config_dir
from mandao.testing import SandboxGateway

from ._cli_helpers import PASSWORD, SN, as_json, run, sandbox_env


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_flags_win_over_environment_and_environment_over_file(tmp_path: Path) -> None:
    """A flag beats MANDAO_PROTOCOL, which beats the file's protocol; sources say so."""
    cfg = _write(tmp_path / "m.toml", 'sn = "SDK-AAA-010-00001"\nprotocol = "soap12"\n')
    env = {"MANDAO_PROTOCOL": "http-get"}
    s = load_settings(cfg, environ=env)
    assert s.values["protocol"] == "http-get"
    assert s.sources["protocol"] == "MANDAO_PROTOCOL"
    assert s.values["sn"] == "SDK-AAA-010-00001"
    assert s.sources["sn"] == str(cfg)
    s = load_settings(cfg, environ=env, overrides={"protocol": "ashx"})
    assert (s.values["protocol"], s.sources["protocol"]) == ("ashx", "--protocol")


def test_file_holds_hosts_timeouts_signature_and_failover(tmp_path: Path) -> None:
    """Every file key becomes a Client argument: lists, a timeout table, a failover table."""
    cfg = _write(
        tmp_path / "m.toml",
        'sn = "SDK-AAA-010-00001"\npassword = "pw"\nhosts = ["http://a:8061/w.asmx"]\n'
        'signature = "示例"\n[timeout]\nconnect = 2\nread = 9\n[failover]\ncooldown = 60\n',
    )
    kwargs = load_settings(cfg, environ={}).client_kwargs()
    assert kwargs["hosts"] == ("http://a:8061/w.asmx",)
    assert kwargs["timeout"] == mandao.Timeouts(2, 9)
    assert kwargs["failover"].cooldown == 60
    assert kwargs["signature"] == "示例"
    assert kwargs["password"] == "pw"


def test_environment_lists_and_timeouts_are_parsed() -> None:
    """MANDAO_HOSTS is comma-separated; MANDAO_TIMEOUT is SECONDS or CONNECT,READ."""
    env = {"MANDAO_HOSTS": "http://a:1/w.asmx, http://b:1/w.asmx", "MANDAO_TIMEOUT": "3"}
    s = load_settings(None, environ=env)
    assert s.values["hosts"] == ("http://a:1/w.asmx", "http://b:1/w.asmx")
    assert s.values["timeout"] == (3.0, 3.0)
    with pytest.raises(ConfigError, match="MANDAO_TIMEOUT"):
        load_settings(None, environ={"MANDAO_TIMEOUT": "soon"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", (10, 10)),
        (" 5 , 30 ", (5, 30)),
        ({"connect": 2, "read": 9}, (2, 9)),
        ({"read": 60}, (mandao.Timeouts().connect, 60)),
        ([5, 30], (5, 30)),
        (7, (7, 7)),
        ((1, 2), (1, 2)),
        (mandao.Timeouts(1, 2), (1, 2)),
    ],
    ids=repr,
)
def test_timeouts_parse_reads_text_tables_lists_and_what_of_takes(
    value: object, expected: tuple[float, float]
) -> None:
    """Timeouts.parse takes every form a file, variable or flag holds; a missing key defaults."""
    assert mandao.Timeouts.parse(value) == mandao.Timeouts(*expected)


@pytest.mark.parametrize(
    "value",
    [
        "soon",
        "",
        "1,2,3",
        "0",
        "5,-1",
        "nan",
        "inf",
        {"conect": 2},
        {"connect": "5"},
        [1, 2, 3],
        True,
        None,
    ],
    ids=repr,
)
def test_timeouts_parse_refuses_anything_else_naming_timeout(value: object) -> None:
    """Malformed, non-positive or non-finite seconds and unknown keys are ValidationErrors."""
    with pytest.raises(mandao.ValidationError, match="timeout"):
        mandao.Timeouts.parse(value)


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ("connect = 0", r"timeout\.connect \(.*m\.toml\): expected a positive"),
        ("conect = 2", r"timeout \(.*m\.toml\): unknown key\(s\) conect"),
    ],
)
def test_bad_timeout_in_the_file_is_a_config_error_naming_the_file(
    tmp_path: Path, table: str, match: str
) -> None:
    """A bad [timeout] table is a ConfigError (not a ValidationError) naming file and key."""
    cfg = _write(tmp_path / "m.toml", f"[timeout]\n{table}\n")
    with pytest.raises(ConfigError, match=match):
        load_settings(cfg, environ={})


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_password_file_readable_by_others_is_refused_with_the_fix(tmp_path: Path) -> None:
    """A 0644 file with a password is refused, and the message says chmod 600."""
    cfg = _write(tmp_path / "m.toml", 'password = "pw"\n', mode=0o644)
    with pytest.raises(ConfigError, match=r"chmod 600") as caught:
        load_settings(cfg, environ={})
    assert "pw" not in str(caught.value).replace(str(tmp_path), "")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_journal_url_with_a_password_must_be_private_too(tmp_path: Path) -> None:
    """[journal] url holding a database password (in its user part or a password=
    parameter) makes the file a secret as a password does; a URL without one does not."""
    for url in ("postgresql://app:dbpw1@db.example/mandao",
                "postgresql://app@db.example/mandao?password=dbpw1"):  # fmt: skip
        cfg = _write(tmp_path / "m.toml", f'[journal]\nurl = "{url}"\n', mode=0o644)
        with pytest.raises(ConfigError, match=r"chmod 600.*PGPASSWORD") as caught:
            load_settings(cfg, environ={}, resolve_password=False)
        assert "a database password" in str(caught.value)
        assert "dbpw1" not in str(caught.value)
        cfg.chmod(0o600)
        assert load_settings(cfg, environ={}, resolve_password=False).values["journal"]
    cfg = _write(tmp_path / "m.toml", '[journal]\nurl = "postgresql://app@db/m"\n', mode=0o644)
    assert load_settings(cfg, environ={}, resolve_password=False).values["journal"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_file_without_password_may_be_shared(tmp_path: Path) -> None:
    """Only a file holding a password must be private; password_command is fine at 0644."""
    cfg = _write(tmp_path / "m.toml", f'password_command = "true"\nsn = "{SN}"\n', mode=0o644)
    assert load_settings(cfg, environ={}, resolve_password=False).values["sn"] == SN


def test_password_command_first_line_is_the_password(tmp_path: Path) -> None:
    """password_command runs without a shell and its first output line is the password."""
    script = tmp_path / "pw.py"
    script.write_text("print('from-command')\nprint('ignored')\n")
    cmd = f"{sys.executable} {script}"
    s = load_settings(None, environ={"MANDAO_PASSWORD_COMMAND": cmd})
    assert s.password == "from-command"
    assert "from-command" not in repr(s)


def test_failing_password_command_does_not_show_its_output(tmp_path: Path) -> None:
    """A password_command that fails is reported by status only, never its output."""
    script = tmp_path / "pw.py"
    script.write_text("import sys\nprint('leaky-secret')\nsys.exit(3)\n")
    with pytest.raises(ConfigError, match="status 3") as caught:
        load_settings(None, environ={"MANDAO_PASSWORD_COMMAND": f"{sys.executable} {script}"})
    assert "leaky-secret" not in str(caught.value)


def test_a_higher_layer_password_replaces_a_lower_password_command(tmp_path: Path) -> None:
    """password and password_command are one slot: MANDAO_PASSWORD beats the file's command."""
    cfg = _write(tmp_path / "m.toml", 'password_command = "false"\n')
    s = load_settings(cfg, environ={"MANDAO_PASSWORD": "env-pw"})
    assert s.password == "env-pw"
    assert "password_command" not in s.values


def test_unknown_keys_and_bad_toml_are_config_errors(tmp_path: Path) -> None:
    """A misspelt key and broken TOML are refused, naming the file."""
    with pytest.raises(ConfigError, match="unknown key"):
        load_settings(_write(tmp_path / "a.toml", 'hostz = ["x"]\n'), environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(_write(tmp_path / "b.toml", "sn = \n"), environ={})
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_search_order_is_cwd_then_user_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """./mandao.toml is found first, then the platformdirs user config folder (a tmp dir)."""
    monkeypatch.chdir(tmp_path)
    assert find_config_file() is None
    user = user_config_dir()
    assert str(user).startswith(os.environ["XDG_CONFIG_HOME"])
    user.mkdir(parents=True)
    _write(user / "mandao.toml", 'sn = "U"\n')
    assert find_config_file() == user / "mandao.toml"
    _write(tmp_path / "mandao.toml", 'sn = "C"\n')
    assert find_config_file() == tmp_path / "mandao.toml"


def test_client_from_config_talks_to_the_sandbox(
    gateway: SandboxGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Client.from_config reads the file and environment; keyword overrides win."""
    cfg = _write(
        tmp_path / "m.toml",
        f'sn = "{SN}"\npassword = "{PASSWORD}"\nprotocol = "soap12"\n'
        f"hosts = {list(gateway.hosts)!r}\naccount_hosts = {list(gateway.account_hosts)!r}\n",
    )
    with mandao.Client.from_config(str(cfg), protocol="http-post") as client:
        assert client.protocol == "http-post"
        assert client.account().balance is not None
    monkeypatch.setenv("MANDAO_CONFIG", str(cfg))
    with mandao.Client.from_config() as client:
        assert client.protocol == "soap12"


def test_client_from_config_without_credentials_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With no sn anywhere, or no password, from_config raises a ConfigError (the
    configuration is missing, as the docs' table of errors says; it was a ValidationError,
    which `except mandao.ConfigError` missed) naming where to set it, the password
    command first."""
    with pytest.raises(mandao.ConfigError, match=r"no serial number: give sn=\.\.\., set"):
        mandao.Client.from_config()
    monkeypatch.setenv("MANDAO_SN", SN)
    with pytest.raises(mandao.ConfigError, match="set MANDAO_PASSWORD_COMMAND or MANDAO_PASSWORD"):
        mandao.Client.from_config()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            {"hosts": ["http://127.0.0.1:9/webservice.asmx"]},
            "hosts (from_config(hosts=...)): hosts are given (127.0.0.1:9, …) but "
            "account_hosts is not",
        ),
        ({"signature": "【示例】"}, "signature (from_config(signature=...)): give the name"),
        ({"protocol": "soap9"}, "protocol (from_config(protocol=...)): "),
    ],
)
def test_from_config_blames_its_keyword_not_a_flag(
    tmp_path: Path, given: dict[str, object], expected: str
) -> None:
    """A bad keyword to from_config is named as the keyword the code gave, not as a CLI
    flag (--host, --signature) that no one typed."""
    cfg = tmp_path / "mandao.toml"
    cfg.write_text(f'sn = "{SN}"\npassword_command = "echo pw"\n', encoding="utf-8")
    with pytest.raises(mandao.ConfigError) as info:
        mandao.Client.from_config(cfg, **given)  # type: ignore[arg-type]
    assert str(info.value).startswith(expected), str(info.value)
    assert "--" not in str(info.value)  # no flag named (nor --host among the remedies)


def test_config_show_is_redacted_and_names_sources(gateway: SandboxGateway) -> None:
    """mandao config show --json gives each value and its source; the password is ***."""
    result = run(["config", "show", "--json"], env=sandbox_env(gateway))
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert data["settings"]["password"] == {"value": "***", "source": "MANDAO_PASSWORD"}
    assert data["settings"]["sn"]["value"] == SN
    assert PASSWORD not in result.output


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_config_show_refuses_an_unsafe_file_with_exit_3(tmp_path: Path) -> None:
    """The CLI reports an unsafe file as a config error (exit 3) with the chmod fix."""
    cfg = _write(tmp_path / "m.toml", 'password = "pw"\n', mode=0o640)
    result = run(["config", "show", "--config", str(cfg)])
    assert result.exit_code == 3
    assert "chmod 600" in result.stderr


def test_journal_table_sets_the_file_and_the_duplicate_guard(tmp_path: Path) -> None:
    """[journal] path and duplicate_window/action become Client(journal=, duplicate_guard=)."""
    from datetime import timedelta

    cfg = _write(
        tmp_path / "m.toml",
        f'[journal]\npath = "{tmp_path / "j.db"}"\nduplicate_window = "2h"\n'
        'duplicate_action = "skip"\n',
    )
    kwargs = load_settings(cfg, environ={}).client_kwargs()
    assert kwargs["journal"] == str(tmp_path / "j.db")
    assert kwargs["duplicate_guard"] == mandao.DuplicateGuard(timedelta(hours=2), "skip")


def test_journal_table_without_guard_keys_leaves_the_library_guard_off(tmp_path: Path) -> None:
    """The library's guard stays off unless the file asks; the CLI's defaults fill the gaps."""
    cfg = _write(tmp_path / "m.toml", "[journal]\nenabled = false\n")
    settings = load_settings(cfg, environ={})
    assert settings.client_kwargs()["journal"] is None
    assert "duplicate_guard" not in settings.client_kwargs()
    assert settings.duplicate_guard() is None
    cfg = _write(tmp_path / "m.toml", "[journal]\nduplicate_window = 60\n")
    guard = load_settings(cfg, environ={}).duplicate_guard(window=600, action="refuse")
    assert guard is not None
    assert (guard.window.total_seconds(), guard.action) == (60, "refuse")
    cfg = _write(tmp_path / "m.toml", '[journal]\nduplicate_action = "off"\n')
    assert load_settings(cfg, environ={}).duplicate_guard() is None


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ('pathh = "x"', "unknown key"),
        ('duplicate_action = "ignore"', "duplicate_action"),
        ('duplicate_window = "soon"', "duplicate_window"),
        ("duplicate_window = -5", "duplicate_window"),
        ('enabled = "no"', "enabled"),
    ],
)
def test_journal_table_refuses_unknown_keys_and_bad_values(
    tmp_path: Path, table: str, match: str
) -> None:
    """A misspelt key or a value of the wrong kind in [journal] is a ConfigError."""
    cfg = _write(tmp_path / "m.toml", f"[journal]\n{table}\n")
    with pytest.raises(ConfigError, match=match):
        load_settings(cfg, environ={})


def test_mandao_journal_wins_over_the_file_and_from_config_journal_wins_over_both(
    tmp_path: Path,
) -> None:
    """MANDAO_JOURNAL beats [journal].path (keeping its guard keys); journal=None beats all."""
    cfg = _write(
        tmp_path / "m.toml",
        'sn = "SDK-AAA-010-00001"\npassword = "pw"\n'
        '[journal]\npath = "/nowhere/j.db"\nduplicate_action = "warn"\n',
    )
    settings = load_settings(cfg, environ={"MANDAO_JOURNAL": str(tmp_path / "env.db")})
    assert settings.client_kwargs()["journal"] == str(tmp_path / "env.db")
    assert settings.sources["journal"] == "MANDAO_JOURNAL"
    assert settings.client_kwargs()["duplicate_guard"].action == "warn"
    client = mandao.Client.from_config(cfg, journal=None)
    assert client.journal is None
    client = mandao.Client.from_config(cfg, journal=tmp_path / "kw.db")
    assert "kw.db" in repr(client)


def test_duplicate_guard_environment_variables_override_the_file(tmp_path: Path) -> None:
    """MANDAO_DUPLICATE_WINDOW / _ACTION set the [journal] guard keys over the file's."""
    cfg = _write(tmp_path / "m.toml", '[journal]\nduplicate_action = "warn"\n')
    env = {"MANDAO_DUPLICATE_WINDOW": "90s", "MANDAO_DUPLICATE_ACTION": "skip"}
    guard = load_settings(cfg, environ=env).duplicate_guard()
    assert guard is not None
    assert (guard.window.total_seconds(), guard.action) == (90, "skip")
    with pytest.raises(ConfigError, match="MANDAO_DUPLICATE_ACTION"):
        load_settings(None, environ={"MANDAO_DUPLICATE_ACTION": "maybe"})


def test_journal_command_uses_the_config_files_journal_path(tmp_path: Path) -> None:
    """`mandao journal --config FILE path` prints the [journal] path the file sets."""
    from click.testing import CliRunner

    from mandao.cli import main

    target = tmp_path / "campaigns" / "journal.sqlite3"
    config = tmp_path / "mandao.toml"
    config.write_text(f'[journal]\npath = "{target}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["journal", "--config", str(config), "path"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[0] == str(target)


def test_timeouts_are_a_frozen_value_checked_however_it_is_made() -> None:
    """Timeouts is a frozen dataclass: made directly or by dataclasses.replace, a bad value
    is refused; it pickles and hashes; it is not a tuple and does not equal one."""
    import dataclasses
    import pickle

    timeouts = mandao.Timeouts(2, 10)
    assert (timeouts.connect, timeouts.read) == (2, 10)
    assert timeouts != (2, 10)
    assert not isinstance(timeouts, tuple)
    assert dataclasses.replace(timeouts, read=5) == mandao.Timeouts(2, 5)
    assert pickle.loads(pickle.dumps(timeouts)) == timeouts  # noqa: S301 (our own bytes)
    assert hash(timeouts) == hash(mandao.Timeouts(2, 10))
    with pytest.raises(mandao.ValidationError, match=r"timeout\.read"):
        dataclasses.replace(timeouts, read=-1)
    with pytest.raises(AttributeError):
        timeouts.read = 1  # type: ignore[misc]


def test_content_rules_are_checked_however_they_are_made() -> None:
    """ContentRules made directly or by dataclasses.replace refuses a bad value, and pickles."""
    import dataclasses
    import pickle

    from mandao._compose.content import ContentRules

    rules = ContentRules(signature="示例", max_segments=2)
    assert dataclasses.replace(rules, max_segments=3).max_segments == 3
    assert pickle.loads(pickle.dumps(rules)) == rules  # noqa: S301 (our own bytes)
    with pytest.raises(mandao.ValidationError, match="unencodable"):
        dataclasses.replace(rules, unencodable="ignore")
    with pytest.raises(mandao.ValidationError, match="signature"):
        dataclasses.replace(rules, signature="【示例】")


@pytest.mark.parametrize(
    "hosts", ["http://[::1/webservice.asmx", "http://h:99999/x", "ftp://h/x", ["http://h/x"] * 2]
)
def test_bad_hosts_are_a_validation_error_never_a_bare_value_error(hosts: object) -> None:
    """A URL urlsplit itself refuses is reported like any other bad host: ValidationError."""
    from mandao._config import check_hosts

    with pytest.raises(mandao.ValidationError) as caught:
        check_hosts(hosts, argument="hosts")
    assert caught.value.argument == "hosts"


def test_journal_url_puts_the_journal_in_postgresql(tmp_path: Path) -> None:
    """[journal] url becomes Client(journal=url); with path too, or not a URL, an error that
    never shows the value (it may hold a password)."""
    url = "postgresql://app@db.internal/mandao"
    cfg = _write(tmp_path / "m.toml", f'[journal]\nurl = "{url}"\n')
    assert load_settings(cfg, environ={}).client_kwargs()["journal"] == url
    cfg = _write(tmp_path / "m.toml", '[journal]\nurl = "mysql://app:hunter2@db/x"\n')
    with pytest.raises(mandao.ConfigError) as info:
        load_settings(cfg, environ={})
    assert "hunter2" not in str(info.value)
    for path in ("j.sqlite3", url + "x"):  # a file, or a URL written as the path
        cfg = _write(tmp_path / "m.toml", f'[journal]\nurl = "{url}"\npath = "{path}"\n')
        with pytest.raises(mandao.ConfigError, match="not both"):
            load_settings(cfg, environ={}).client_kwargs()


def test_mandao_journal_replaces_the_files_journal_place_whichever_kind(
    tmp_path: Path,
) -> None:
    """MANDAO_JOURNAL names the journal over the file's [journal] path or url, a file or a
    PostgreSQL URL either way (never "not both"), and the file's guard settings stay; a
    URL in it is the journal's url, and `config show` lists it so, without its password."""
    url = "postgresql://app@db.internal/mandao"
    cfg = _write(tmp_path / "m.toml", f'[journal]\nurl = "{url}"\nduplicate_window = 60\n')
    moved = load_settings(cfg, environ={"MANDAO_JOURNAL": str(tmp_path / "j.sqlite3")})
    assert moved.client_kwargs()["journal"] == str(tmp_path / "j.sqlite3")
    assert moved.values["journal"]["duplicate_window"] == 60
    cfg = _write(tmp_path / "m.toml", '[journal]\npath = "j.sqlite3"\n')
    pg = load_settings(cfg, environ={"MANDAO_JOURNAL": url})
    assert pg.client_kwargs()["journal"] == url
    assert pg.values["journal"] == {"url": url}
    assert pg.sources["journal.url"] == "MANDAO_JOURNAL"
    shown = as_json(
        run(
            ["config", "show", "--config", str(cfg), "--json"],
            env={"MANDAO_JOURNAL": "postgresql://app:dbpw1@db.internal/mandao"},
        )
    )
    journal = shown["settings"]["journal"]
    assert next(iter(journal["value"])) == "url"
    assert "path" not in journal["value"]
    assert journal["value"]["url"] == "postgresql://app@db.internal/mandao"
    assert journal["sources"]["url"] == "MANDAO_JOURNAL"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_database_password_in_the_files_journal_path_must_be_private_too(
    tmp_path: Path,
) -> None:
    """A PostgreSQL URL written as [journal] path is the journal's url, and its password
    makes the file a secret as under url."""
    url = "postgresql://app:dbpw1@db.example/mandao"
    cfg = _write(tmp_path / "m.toml", f'[journal]\npath = "{url}"\n', mode=0o644)
    with pytest.raises(ConfigError, match=r"chmod 600.*PGPASSWORD") as caught:
        load_settings(cfg, environ={}, resolve_password=False)
    assert "dbpw1" not in str(caught.value)
    cfg.chmod(0o600)
    assert load_settings(cfg, environ={}).client_kwargs()["journal"] == url
