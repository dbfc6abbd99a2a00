"""Helpers for the command-line tests: the environment that points `mandao` at a sandbox."""

from __future__ import annotations

import json
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
    """Invoke `mandao ARGS` in process, stderr kept apart."""
    return CliRunner().invoke(main, args, env=env, input=stdin)


def as_json(result: Result) -> Any:
    """The command's stdout, parsed."""
    return json.loads(result.stdout)
