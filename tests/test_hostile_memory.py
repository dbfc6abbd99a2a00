"""A reply's size is capped as it arrives: a 200 MiB body or a gzip bomb costs no memory.

The client runs in a subprocess of its own, so its peak resident memory (``ru_maxrss``) is
its alone: measured after a first call has loaded everything, and again after the hostile
calls, on both clients.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from .test_hostile import Hostile, encoded, fine, gzip_bomb, head, huge, raw

SIZE = 200 << 20  # what each hostile reply would hold, whole
BOUND = 48 << 20  # what the hostile calls may add to the peak, at most

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, resource, sys
    import mandao

    fine, *hostile = sys.argv[1:]
    options = dict(journal=None, max_in_flight=None, timeout=mandao.Timeouts(2, 10))

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def client(url):
        return mandao.Client("SDK-MEM-010-00001", "pw", hosts=[url], account_hosts=[url],
                             **options)

    async def async_send(url):
        async with mandao.AsyncClient("SDK-MEM-010-00002", "pw", hosts=[url],
                                      account_hosts=[url], **options) as aio:
            return await aio.send("13800138000", "内存【示例】")

    client(fine).send("13800138000", "内存【示例】")
    asyncio.run(async_send(fine))
    before, errors = peak(), []
    for url in hostile:
        for send in (lambda: client(url).send("13800138000", "内存【示例】"),
                     lambda: asyncio.run(async_send(url))):
            try:
                send()
            except mandao.MandaoError as exc:
                errors.append(type(exc).__name__ + ": " + exc.message)
    print(json.dumps({"grew": peak() - before, "errors": errors}))
    """
)


def _moved_bomb(bomb: bytes) -> bytes:
    """A 302 whose body is the gzip bomb: requests itself reads a redirect's body."""
    fields = {"Location": "http://127.0.0.1:9/elsewhere", "Content-Encoding": "gzip",
              "Content-Length": str(len(bomb))}  # fmt: skip
    return head("302 Found", fields) + bomb


def test_a_huge_body_and_a_gzip_bomb_leave_memory_flat() -> None:
    """200 MiB declared, 200 MiB packed in a gzip bomb, and that bomb as a redirect's body:
    each a ProtocolError (over the cap, or the redirect), and the subprocess's peak memory
    grows by far less than any would take."""
    bomb = gzip_bomb(SIZE)
    with (
        Hostile(fine()) as ok,
        Hostile(huge(SIZE)) as big,
        Hostile(encoded(bomb, "gzip")) as bomber,
        Hostile(raw(_moved_bomb(bomb))) as mover,
    ):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, ok.url, big.url, bomber.url, mover.url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(found["errors"]) == 6
    assert all(e.startswith("ProtocolError") for e in found["errors"])
    assert ["over its cap" in e for e in found["errors"]] == [True] * 4 + [False] * 2
    assert found["grew"] < BOUND, f"peak memory grew by {found['grew'] >> 20} MiB"
