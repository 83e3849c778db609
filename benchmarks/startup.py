"""Start-up time of the matdiff command line, against a bare Python.

Runs each command as a subprocess (default 25 times, after one warm-up run)
and prints the median wall time and its ratio to ``python -c pass``::

    python benchmarks/startup.py [RUNS]

The ``matdiff`` executable is looked for next to ``sys.executable`` (the
venv's bin/); without one, ``python -m matdiff_cli`` is timed instead.
The commands run with PYTHONDONTWRITEBYTECODE unset, so that the warm-up run
leaves the ``.pyc`` files an installed package has (without them every run
recompiles matdiff's sources, some 30 ms more).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

EXPR = "tr(X^T A X B)"


def matdiff() -> list[str]:
    bindir = os.path.dirname(sys.executable)
    exe = os.path.join(bindir, "matdiff.exe" if os.name == "nt" else "matdiff")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "matdiff_cli"]


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def median_seconds(argv: list[str], runs: int) -> tuple[float, int]:
    rc = subprocess.run(argv, capture_output=True, env=ENV).returncode  # warm-up: .pyc, caches
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=ENV)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), rc


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else 25
    if runs < 1:
        raise SystemExit("RUNS must be positive")
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        (f'matdiff shape "{EXPR}" --format text', matdiff() + ["shape", EXPR, "--format", "text"]),
        (f'matdiff grad "{EXPR}" --wrt X --format text',
         matdiff() + ["grad", EXPR, "--wrt", "X", "--format", "text"]),
    ]
    results = [(label, *median_seconds(cmd, runs)) for label, cmd in cases]
    base = results[0][1]
    width = max(len(label) for label, *_ in results)
    print(f"{'command':<{width}}  {'median':>9}  {'ratio':>6}  exit   ({runs} runs each)")
    for label, seconds, rc in results:
        print(f"{label:<{width}}  {seconds * 1000:7.1f}ms  {seconds / base:5.1f}x  {rc:>4}")


if __name__ == "__main__":
    main(sys.argv[1:])
