"""Round trip of a one-number SOAP 1.1 mdsmssend to a sandbox running in another process.

Usage: ``PYTHONPATH=src python benchmarks/sandbox_latency.py [--calls N]``

Starts ``mandao sandbox`` in a child process (loopback, any free port), then measures, from
this process, with a keep-alive ``requests.Session`` and with a bare ``http.client``
connection: the median and 90th percentile of one call, and the calls per second of 8
client threads (each with its own connection). The sandbox must never be what a benchmark
measures: the target is a median of 3 ms or less.

The threads share one serial, so the sandbox runs with ``--max-in-flight`` raised to the
thread count: with the gateway's default of one request per serial at a time, most of the
8-thread calls would be ``-18`` answers, and the benchmark would measure those.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

SN, PASSWORD = "SDK-TST-010-00001", "secret"
PWD = hashlib.md5((SN + PASSWORD).encode()).hexdigest().upper()
BODY = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
    'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    f'<mdsmssend xmlns="http://entinfo.cn/"><sn>{SN}</sn><pwd>{PWD}</pwd>'
    "<mobile>13800138000</mobile><content>%E9%AA%8C%E8%AF%81%E7%A0%81%201234%E3%80%90%E7%A4%BA%E4%BE%8B%E3%80%91</content>"
    "<ext></ext><stime></stime><rrid></rrid><msgfmt></msgfmt></mdsmssend></soap:Body></soap:Envelope>"
).encode()
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://entinfo.cn/mdsmssend"'}


THREADS = 8


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    """Start ``mandao sandbox`` in a child process; return it and the primary send URL.

    The serial may have ``THREADS`` requests in flight (``--max-in-flight``), so every
    threaded call is a real send, not a -18 answer.
    """
    src = Path(__file__).resolve().parents[1] / "src"
    env = dict(os.environ, PYTHONPATH=f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mandao.cli.sandbox",
            "--balance",
            "100000000",
            "--max-in-flight",
            str(THREADS),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"primary\s+send\s+(\S+)", line)
        if match:
            return proc, match.group(1)
    raise RuntimeError("the sandbox did not print its URL")


def with_requests(url: str, calls: int) -> list[float]:
    session = requests.Session()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        resp = session.post(url, data=BODY, headers=HEADERS, timeout=5)
        times.append(time.perf_counter() - t0)
        assert resp.status_code == 200
        assert "mdsmssendResult" in resp.text
    return times


def with_http_client(url: str, calls: int) -> list[float]:
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()  # type: ignore[union-attr]
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        conn.request("POST", "/webservice.asmx", body=BODY, headers=HEADERS)
        data = conn.getresponse().read()
        times.append(time.perf_counter() - t0)
        assert b"mdsmssendResult" in data
    conn.close()
    return times


def threaded(url: str, threads: int, seconds: float, bare: bool = False) -> tuple[int, list[float]]:
    stop = time.perf_counter() + seconds
    counts = [0] * threads
    lat: list[float] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        session = requests.Session()
        host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()  # type: ignore[union-attr]
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            if bare:
                conn.request("POST", "/webservice.asmx", body=BODY, headers=HEADERS)
                reply = conn.getresponse()
                status, text = reply.status, reply.read().decode("utf-8")
            else:
                resp = session.post(url, data=BODY, headers=HEADERS, timeout=5)
                status, text = resp.status_code, resp.text
            # An accepted send returns its 18-digit id; a -18 (or any code) is a failed run.
            ok = status == 200 and _accepted(text)
            mine.append(time.perf_counter() - t0)
            assert ok
            counts[i] += 1
        with lock:
            lat.extend(mine)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts), lat


def _accepted(body: str) -> bool:
    match = re.search(r"<mdsmssendResult>([^<]*)</mdsmssendResult>", body)
    return bool(match and match.group(1).isdigit())


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    proc, url = start_sandbox()
    try:
        with_requests(url, 200)  # warm up both sides
        for name, fn in (("requests.Session", with_requests), ("http.client", with_http_client)):
            times = fn(url, args.calls)
            print(
                f"1 thread, {name:<17} median {1000 * statistics.median(times):.3f} ms"
                f"  p90 {ms(times, 0.9):.3f} ms  p99 {ms(times, 0.99):.3f} ms  ({len(times)} calls)"
            )
        # The client threads share this process's GIL; http.client shows what the sandbox
        # itself sustains, requests.Session what a typical client sees.
        for n, bare in ((1, False), (THREADS, False), (1, True), (THREADS, True)):
            done, lat = threaded(url, n, args.seconds, bare)
            name = "http.client" if bare else "requests.Session"
            print(
                f"{n} thread(s), {name:<17} {done / args.seconds:.0f} calls/s,"
                f" median {1000 * statistics.median(lat):.3f} ms, p99 {ms(lat, 0.99):.3f} ms"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
