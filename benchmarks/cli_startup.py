"""CLI start-up: `mandao explain -20` against `python -c "import zeep"`, whole processes.

Commands that do not talk to the gateway must not pay for zeep: the target is ≤ 0.35x
the time of a process that only imports zeep. Also shown, not targeted: `mandao codes`,
`mandao estimate`, and `python -c pass` (the interpreter's own floor). Run:

    python benchmarks/cli_startup.py [--rounds 31]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from _common import byte_compile_mandao, interleaved, report

MANDAO = str(Path(sys.executable).parent / "mandao")


def _run(*command: str) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    byte_compile_mandao()
    medians = interleaved(
        {
            "python -c pass": lambda: _run(sys.executable, "-c", "pass"),
            'python -c "import zeep"': lambda: _run(sys.executable, "-c", "import zeep"),
            "mandao explain -20": lambda: _run(MANDAO, "explain", "-20"),
            "mandao codes": lambda: _run(MANDAO, "codes"),
            "mandao estimate TEXT": lambda: _run(MANDAO, "estimate", "验证码 1234【示例】"),
        },
        args.rounds,
    )
    ok = report(
        f"CLI start-up, whole processes (median of {args.rounds})",
        medians,
        base='python -c "import zeep"',
        targets={"mandao explain -20": 0.35},
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
