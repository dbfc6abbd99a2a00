"""Shared by the benchmarks: a sandbox in another process, and ratios from one run."""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SN = "SDK-TST-010-00001"
PASSWORD = "secret"


@contextmanager
def sandbox_process(*extra: str) -> Iterator[tuple[list[str], list[str]]]:
    """Run `mandao sandbox` in a child process; yield (send URLs, account URLs)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "mandao.cli",
            "sandbox",
            "--account",
            f"{SN}:{PASSWORD}",
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    urls: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while len(urls) < 4 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        urls += re.findall(r"http://127\.0\.0\.1:\d+/webservice\.asmx", line)
    if len(urls) < 4:
        proc.kill()
        raise RuntimeError("the sandbox did not start")
    try:
        yield [urls[0], urls[2]], [urls[1], urls[3]]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def byte_compile_mandao() -> None:
    """Byte-compile mandao's sources, as ``pip install`` does for an installed package.

    zeep in site-packages was byte-compiled when pip installed it; an editable checkout
    of mandao is not (and ``PYTHONDONTWRITEBYTECODE`` may keep it so). Start-up figures
    compare installed packages with installed packages.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("mandao")
    assert spec is not None
    assert spec.submodule_search_locations
    for folder in spec.submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)


def interleaved(
    contenders: dict[str, Callable[..., object]],
    rounds: int,
    setup: dict[str, Callable[[], object]] | None = None,
) -> dict[str, float]:
    """Median seconds per call of each contender, run in turn, round by round.

    Interleaving spreads the machine's noise over all contenders alike, so the ratios
    between them hold even when the absolute times wander. A contender named in
    ``setup`` is called with what its setup returns, made afresh (and untimed) each round.
    """
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    setup = setup or {}
    for _ in range(rounds):
        for name, call in contenders.items():
            args = (setup[name](),) if name in setup else ()
            start = time.perf_counter()
            call(*args)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def report(title: str, medians: dict[str, float], base: str, targets: dict[str, float]) -> bool:
    """Print medians and ratios against ``base``; True when every target holds."""
    print(title)
    ok = True
    for name, seconds in medians.items():
        ratio = seconds / medians[base]
        target = targets.get(name)
        verdict = ""
        if target is not None:
            verdict = f"  target ≤ {target:.2f}: {'met' if ratio <= target else 'MISSED'}"
            ok &= ratio <= target
        print(f"  {name:<28} {seconds * 1000:9.3f} ms   ratio {ratio:5.3f}{verdict}")
    return ok
