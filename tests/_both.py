"""One behaviour test, both clients: an AsyncClient seen as a Client.

:class:`SyncView` runs each coroutine method of an :class:`mandao.AsyncClient` on an event
loop that runs in a thread of its own (one for the test session), and waits for its
result, so a test written as ``client.send(...)`` drives either client, and what it
asserts holds for both. Everything that is not a coroutine method (settings, reprs,
``estimate``, ``operations``) is the AsyncClient's own.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import mandao

__all__ = ["SyncView", "loop_in_thread"]


@contextmanager
def loop_in_thread() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a daemon thread until the block ends."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    thread = threading.Thread(target=run, name="test-loop", daemon=True)
    thread.start()
    ready.wait()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class SyncView:
    """``client``'s coroutine methods, each run to its end on ``loop``."""

    def __init__(self, client: mandao.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self._loop = loop

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(120)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        method: Callable[..., Any] = attribute
        return lambda *args, **kwargs: self._run(method(*args, **kwargs))

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("client", "_loop"):
            object.__setattr__(self, name, value)
        else:  # a settable property (duplicate_guard): the client's
            setattr(self.client, name, value)

    def __repr__(self) -> str:
        return repr(self.client)

    def close(self) -> None:
        self._run(self.client.aclose())

    def __enter__(self) -> SyncView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
