"""Shared fixtures: a sandbox gateway on 127.0.0.1 (port 0) and a client pointed at it."""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

import mandao
from mandao.testing import SandboxGateway

from . import postgres
from ._both import SyncView, loop_in_thread

SN = "SDK-TST-010-00001"
PASSWORD = "s3cr3t-Pass"

# A shell runs a background job (`pytest &`, a loop under nohup) with SIGINT ignored, and
# a process keeps an ignored signal across exec: the `mandao` children the tests stop with
# Ctrl-C (SIGINT) would ignore it, and each such test would wait for its child forever.
# Handled here (Python's own handler), SIGINT is back to its default in every child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


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


@pytest.fixture(scope="session")
def test_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop in a thread of its own, for AsyncClients seen as Clients."""
    with loop_in_thread() as loop:
        yield loop


MakeClient = Callable[..., mandao.Client]


@pytest.fixture(params=["Client", "AsyncClient"])
def make_client(
    request: pytest.FixtureRequest, gateway: SandboxGateway, test_loop: asyncio.AbstractEventLoop
) -> Iterator[MakeClient]:
    """Make a client of the sandbox (``gateway.client``'s arguments; ``gw=`` for another
    sandbox): a ``Client``, then the same test with an ``AsyncClient`` (tests/_both.py)."""
    made: list[Any] = []

    def make(sn: str = SN, password: str = PASSWORD, *, gw: SandboxGateway | None = None,
             **kwargs: Any) -> mandao.Client:  # fmt: skip
        sandbox = gw or gateway
        if request.param == "Client":
            client: Any = sandbox.client(sn, password, **kwargs)
        else:
            kwargs.setdefault("journal", None)
            client = SyncView(
                mandao.AsyncClient(sn, password, hosts=sandbox.hosts,
                                   account_hosts=sandbox.account_hosts, **kwargs),
                test_loop,
            )  # fmt: skip
        made.append(client)
        return cast("mandao.Client", client)

    yield make
    for client in made:
        client.close()


@pytest.fixture
def any_client(make_client: MakeClient) -> mandao.Client:
    """The ``client`` fixture's client, once a ``Client`` and once an ``AsyncClient``."""
    return make_client(timeout=(1, 5))


#: The temporary folder the run was given, before each test is given its own in it.
_TEMP = tempfile.gettempdir()


@pytest.fixture(autouse=True)
def _private_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point platformdirs (and mandao's env settings) away from the real user folders,
    and temporary files (a `mandao sandbox` run's journal folder, kept after it) into a
    folder of the test's own, for this process and the commands it runs, removed after
    it. A short path: a Unix socket made in it (Chromium's, PostgreSQL's) has 107 bytes."""
    home = tmp_path_factory.mktemp("xdg")
    temporary = tempfile.mkdtemp(prefix="mandao-test-", dir=_TEMP)
    monkeypatch.setenv("TMPDIR", temporary)
    monkeypatch.setattr(tempfile, "tempdir", temporary)
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    for name in ("MANDAO_CONFIG", "MANDAO_CACHE_DIR", "MANDAO_SN", "MANDAO_PASSWORD",
                 "MANDAO_PASSWORD_COMMAND", "MANDAO_HOSTS", "MANDAO_ACCOUNT_HOSTS",
                 "MANDAO_PROTOCOL", "MANDAO_TIMEOUT", "MANDAO_SIGNATURE",
                 "MANDAO_JOURNAL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    yield
    shutil.rmtree(temporary, ignore_errors=True)


@pytest.fixture(autouse=True)
def _warnings_said_afresh() -> None:
    """Each test hears the client's warnings as a process does first (a warning said again
    within 30 s goes on at DEBUG: not one an earlier test of this worker said)."""
    from mandao import _log

    _log.repeats.forget()


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[postgres.Server | str]:
    """The session's PostgreSQL server (tests/postgres.py), or why there is none. It
    outlives the test that starts it: its folder is not that test's temporary one."""
    server = postgres.server()
    given, tempfile.tempdir = tempfile.tempdir, _TEMP
    try:
        found = server.__enter__()
    finally:
        tempfile.tempdir = given
    try:
        yield found
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def postgresql_url(postgresql_server: postgres.Server | str) -> Iterator[str]:
    """A URL of a new, empty PostgreSQL database of this test's own, dropped after it.

    Skips the test when there is no server (fails it with MANDAO_REQUIRE_POSTGRESQL=1).
    """
    if isinstance(postgresql_server, str):
        postgres.unavailable(postgresql_server)
    with postgresql_server.database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a test's journal goes, once per backend: a new SQLite file in the test's
    folder, or a new PostgreSQL database's URL."""
    if request.param == "sqlite":
        return tmp_path / "data" / "journal.sqlite3"
    url: str = request.getfixturevalue("postgresql_url")
    return url
