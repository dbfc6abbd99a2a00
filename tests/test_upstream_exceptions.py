"""Every exception class of the libraries under mandao, raised inside a transport, comes out
of the public API as a mandao exception.

The classes are read off the modules themselves (``zeep.exceptions``, ``requests.exceptions``,
``urllib3.exceptions``, ``lxml.etree``, ``httpx``), not listed by hand: a class a new
version adds is covered the day it appears. Each is raised where the transport waits on the
library: as requests sends (the status line and headers), as the body streams in, and as
httpx sends, for a Client and an AsyncClient.
"""

from __future__ import annotations

import asyncio
import inspect
import types
from collections.abc import Iterator
from typing import Any

import httpx
import lxml.etree
import pytest
import requests
import requests.exceptions
import urllib3
import urllib3.exceptions
import zeep.exceptions

import mandao
from mandao._transports.session import Session

from ._both import SyncView

MODULES: tuple[types.ModuleType, ...] = (
    zeep.exceptions,
    requests.exceptions,
    urllib3.exceptions,
    lxml.etree,
    httpx,
)
URL = "http://127.0.0.1:9/webservice.asmx"  # never reached: the library raises first


def upstream_classes() -> list[type[BaseException]]:
    """Every exception class each module defines (warnings are warned, not raised)."""
    found: set[type[BaseException]] = set()
    for module in MODULES:
        library = module.__name__.split(".")[0]
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseException)
                and not issubclass(cls, Warning)
                and cls.__module__.split(".")[0] == library
            ):
                found.add(cls)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


CLASSES = upstream_classes()


def instance(cls: type[BaseException]) -> BaseException:
    """An instance of ``cls``, however its constructor wants to be called (or not at all)."""
    for args in (("boom",), (), ("boom", 0, 1, 1), ("boom", None, None)):
        try:
            return cls(*args)
        except Exception:  # noqa: S112 (the next way of making one is tried)
            continue
    made = cls.__new__(cls)
    made.args = ("boom",)
    return made


def test_the_classes_come_from_every_library() -> None:
    """Each library contributes its exception classes (a sanity check of the walk)."""
    by_library = {m.__name__: 0 for m in MODULES}
    for cls in CLASSES:
        for module in MODULES:
            if cls.__module__.split(".")[0] == module.__name__.split(".")[0]:
                by_library[module.__name__] += 1
    assert all(count >= 5 for count in by_library.values()), by_library
    assert len(CLASSES) >= 100


def _outcome(send: Any) -> str:
    """What came out of ``send()``: a mandao exception's class, or the foreign one."""
    try:
        send()
    except mandao.MandaoError as exc:
        return "mandao:" + type(exc).__name__
    except BaseException as exc:  # what must not happen
        return f"FOREIGN {type(exc).__module__}.{type(exc).__name__}: {exc!r}"[:200]
    return "no error"


def _client(**kwargs: Any) -> mandao.Client:
    return mandao.Client("SDK-UPS-010-00001", "pw", hosts=[URL], account_hosts=[URL],
                         journal=None, max_in_flight=None, **kwargs)  # fmt: skip


@pytest.mark.parametrize("protocol", ["soap11", "http-get"])
def test_raised_as_requests_sends_each_is_a_mandao_error(
    monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    """Raised from the session as it sends: a mandao exception, for every class."""
    raised: list[BaseException] = []

    def request(self: Session, *args: Any, **kwargs: Any) -> Any:
        raise raised[-1]

    monkeypatch.setattr(Session, "request", request)
    client = _client(protocol=protocol)
    foreign = []
    for cls in CLASSES:
        raised.append(instance(cls))
        outcome = _outcome(lambda: client.send("13800138000", "异常【示例】"))
        if not outcome.startswith("mandao:"):
            foreign.append(f"{cls.__module__}.{cls.__name__}: {outcome}")
    assert foreign == []


class _Stream:
    """A response whose body raises ``error`` as it streams."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield b"<"
        raise self.error

    def close(self) -> None:
        """As urllib3's response closes: nothing to do here."""

    def release_conn(self) -> None:
        """As urllib3's response hands its connection back: nothing to do here."""


def test_raised_as_the_body_streams_in_each_is_a_mandao_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Raised while the body is read (urllib3 directly, under requests): a mandao exception."""
    raised: list[BaseException] = []

    def request(self: Session, *args: Any, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response.raw = _Stream(raised[-1])
        return response

    monkeypatch.setattr(Session, "request", request)
    client = _client()
    foreign = []
    for cls in CLASSES:
        raised.append(instance(cls))
        outcome = _outcome(lambda: client.send("13800138000", "异常【示例】"))
        if not outcome.startswith("mandao:"):
            foreign.append(f"{cls.__module__}.{cls.__name__}: {outcome}")
    assert foreign == []


def test_raised_as_httpx_sends_each_is_a_mandao_error(
    monkeypatch: pytest.MonkeyPatch, test_loop: asyncio.AbstractEventLoop
) -> None:
    """Raised from httpx as the AsyncClient sends: a mandao exception, for every class."""
    raised: list[BaseException] = []

    async def send(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> Any:
        raise raised[-1]

    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    aio = mandao.AsyncClient("SDK-UPS-010-00002", "pw", hosts=[URL], account_hosts=[URL],
                             journal=None, max_in_flight=None)  # fmt: skip
    client = SyncView(aio, test_loop)
    foreign = []
    try:
        for cls in CLASSES:
            raised.append(instance(cls))
            outcome = _outcome(lambda: client.send("13800138000", "异常【示例】"))
            if not outcome.startswith("mandao:"):
                foreign.append(f"{cls.__module__}.{cls.__name__}: {outcome}")
    finally:
        client.close()
    assert foreign == []


def test_the_modules_walked_are_those_mandao_imports() -> None:
    """urllib3 and lxml are walked as the versions installed (no stale copy)."""
    assert urllib3.exceptions.__name__ == "urllib3.exceptions"
    assert lxml.etree.LxmlError in CLASSES
    assert httpx.HTTPError in CLASSES
    assert zeep.exceptions.Fault in CLASSES
    assert requests.exceptions.ChunkedEncodingError in CLASSES
