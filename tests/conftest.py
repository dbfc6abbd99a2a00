"""Shared fixtures: a sandbox gateway on 127.0.0.1 (port 0) and a client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import mandao
from mandao.testing import SandboxGateway

SN = "SDK-TST-010-00001"
PASSWORD = "s3cr3t-Pass"


@pytest.fixture
def gateway() -> Iterator[SandboxGateway]:
    """A running sandbox with one registered account (SN, PASSWORD)."""
    with SandboxGateway(accounts={SN: PASSWORD}) as gw:
        yield gw


@pytest.fixture
def client(gateway: SandboxGateway) -> Iterator[mandao.Client]:
    """A SOAP 1.1 client of the sandbox account, with short timeouts."""
    with gateway.client(SN, PASSWORD, timeout=(1, 5)) as c:
        yield c


@pytest.fixture(autouse=True)
def _private_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point platformdirs (and mandao's env settings) away from the real user folders."""
    home = tmp_path_factory.mktemp("xdg")
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    for name in ("MANDAO_CONFIG", "MANDAO_CACHE_DIR", "MANDAO_SN", "MANDAO_PASSWORD",
                 "MANDAO_PASSWORD_COMMAND", "MANDAO_HOSTS", "MANDAO_ACCOUNT_HOSTS",
                 "MANDAO_PROTOCOL", "MANDAO_TIMEOUT", "MANDAO_SIGNATURE",
                 "MANDAO_JOURNAL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
