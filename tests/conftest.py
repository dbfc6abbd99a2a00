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
