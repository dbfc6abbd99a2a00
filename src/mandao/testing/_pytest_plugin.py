"""The pytest plugin (entry point ``pytest11: mandao``): a sandbox gateway per test.

Fixtures:
    mandao_gateway: a running :class:`SandboxGateway` with one account,
        ``SDK-TST-010-00001`` / ``secret`` unless configured otherwise.
    mandao_gateway_options: the keyword arguments the gateway is built with; override it
        in a ``conftest.py`` to configure every gateway of a directory.
    mandao_client: ``mandao_gateway.client(sn, password)`` for the first account.
    mandao_push_receiver: a running :class:`PushReceiver`, a loopback endpoint that takes
        the gateway's reply pushes and answers ``0``: point ``push_replies_to`` at its
        ``url`` to see what a push carries.

Per test, the marker ``@pytest.mark.mandao_gateway(**options)`` adds to (and wins over)
the options, e.g. ``@pytest.mark.mandao_gateway(rules=Rules(duplicate_window=60))`` or
``@pytest.mark.mandao_gateway(reports=ReportSettings(failed=0.1, delay=30))``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._accounts import DEFAULT_PASSWORD, DEFAULT_SN
from ._push import PushReceiver
from ._sandbox import SandboxGateway

if TYPE_CHECKING:
    from mandao import Client

__all__ = [
    "mandao_client",
    "mandao_gateway",
    "mandao_gateway_options",
    "mandao_push_receiver",
    "pytest_configure",
]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``mandao_gateway`` marker so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        "mandao_gateway(**options): keyword arguments for the mandao_gateway sandbox "
        "(accounts=, rules=, reports=, default_balance=, clock=, ...)",
    )


@pytest.fixture
def mandao_gateway_options() -> dict[str, Any]:
    """Keyword arguments for ``SandboxGateway``; override this fixture to configure it."""
    return {"accounts": {DEFAULT_SN: DEFAULT_PASSWORD}}


@pytest.fixture
def mandao_gateway(
    request: pytest.FixtureRequest, mandao_gateway_options: dict[str, Any]
) -> Iterator[SandboxGateway]:
    """A running sandbox gateway (two hosts on 127.0.0.1), stopped after the test."""
    options = dict(mandao_gateway_options)
    marker = request.node.get_closest_marker("mandao_gateway")
    if marker is not None:
        options.update(marker.kwargs)
    options.setdefault("accounts", {DEFAULT_SN: DEFAULT_PASSWORD})
    with SandboxGateway(**options) as gateway:
        yield gateway


@pytest.fixture
def mandao_client(mandao_gateway: SandboxGateway) -> Client:
    """A ``mandao.Client`` for the gateway's first account, pointed at the sandbox."""
    return mandao_gateway.client_for()


@pytest.fixture
def mandao_push_receiver() -> Iterator[PushReceiver]:
    """A loopback endpoint for the gateway's reply pushes (answers ``0``), stopped after."""
    with PushReceiver() as receiver:
        yield receiver
