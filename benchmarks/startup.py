"""Start-up: `import mandao` + Client + first WSDL parse, against `import zeep` + zeep.Client.

Whole fresh processes, alternated, so each pays the same interpreter start. Run:

    python benchmarks/startup.py [--rounds 101]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from _common import byte_compile_mandao, interleaved, report

WSDL = Path(__file__).resolve().parents[1] / "wsdl_cache" / "send-8061.wsdl"

OURS = (
    "import mandao\n"
    "client = mandao.Client('SDK-TST-010-00001', 'secret')\n"
    "client.service.proxy\n"  # parses the send WSDL and builds zeep's proxy
)
RAW = f"import zeep\nclient = zeep.Client({str(WSDL)!r})\nclient.service\n"
EMPTY = "pass\n"


def _run(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=101)
    args = parser.parse_args()
    byte_compile_mandao()
    medians = interleaved(
        {
            "python -c pass": lambda: _run(EMPTY),
            "zeep + zeep.Client(wsdl)": lambda: _run(RAW),
            "mandao + Client + parse": lambda: _run(OURS),
        },
        args.rounds,
    )
    ok = report(
        f"start-up, whole processes (median of {args.rounds})",
        medians,
        base="zeep + zeep.Client(wsdl)",
        targets={"mandao + Client + parse": 1.10},
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
