"""Start-up time of the matdiff command line, against a bare Python, paired.

Installs this repository as users get it (``pip install .``: a regular,
non-editable install) into a temporary virtual environment, then times whole
processes of that environment's ``matdiff`` against its own ``python -c pass``,
in pairs (baseline, command, baseline, command, ... with the order flipped every
other pair, so that a drift in the machine's speed touches both alike)::

    python benchmarks/startup.py [--runs 30] [--venv DIR]

For each command it prints the median wall and CPU time (user + system of the
child, from the operating system's accounting), and the median of the per-pair
ratios to ``python -c pass`` with their spread (min-max).  Quote medians; a wide
spread says the machine was busy.

An editable install (``pip install -e .``) is not measured: its path finder
adds some 30 ms to every interpreter start, the baseline's included, which
flatters the ratios.  ``--venv DIR`` reuses (or creates) that environment
instead of a temporary one (installing again each time is ~30 s).
The parser's tables are cached (a warm-up run) in a temporary
``MATDIFF_CACHE_DIR``, and the ``.pyc`` files are written, as they are for an
installed package after its first run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPR = "tr(X^T A X B)"


def make_venv(where: str) -> str:
    """The python of a virtual environment at ``where`` with matdiff installed,
    by the current pip where PyPI is reachable (as users install today: the
    console script pip >= 25 writes does not import ``re``; older ones do,
    which adds its cost to every command), else by the one venv bundles."""
    py = os.path.join(where, "Scripts" if os.name == "nt" else "bin", "python")
    if not os.path.exists(py):
        made = subprocess.run([sys.executable, "-m", "venv", "--upgrade-deps", where],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if made.returncode:
            shutil.rmtree(where, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", where], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", ROOT]
                   if _has_deps(py) else [py, "-m", "pip", "install", "-q", ROOT],
                   check=True, stdout=subprocess.DEVNULL)
    return py


def _has_deps(py: str) -> bool:
    code = "import click, lark, rich, sympy, numpy"
    return subprocess.run([py, "-c", code], capture_output=True).returncode == 0


def _script_note(py: str, matdiff: str) -> str:
    """Which pip wrote the console script, and whether the script imports ``re``."""
    pip = subprocess.run([py, "-m", "pip", "--version"], capture_output=True, text=True)
    version = pip.stdout.split()[1] if pip.returncode == 0 else "?"
    try:
        with open(matdiff, encoding="utf-8") as fh:
            imports_re = "import re" in fh.read()
    except (OSError, UnicodeDecodeError):  # pragma: no cover - a launcher .exe
        return f"console script by pip {version}"
    return (f"console script by pip {version}: "
            + ("imports re (its own cost, before matdiff's)" if imports_re else "imports no re"))


def timed(argv: list[str], env: dict, cwd: str) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit status) of one whole process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    if hasattr(os, "wait4"):
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        return wall, usage.ru_utime + usage.ru_stime, proc.returncode
    proc.wait()  # pragma: no cover - no per-child accounting: wall time only
    return time.perf_counter() - t0, float("nan"), proc.returncode


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30, help="pairs per command (default 30)")
    ap.add_argument("--venv", help="use (or create) this virtual environment")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be positive")

    tmp = tempfile.mkdtemp(prefix="matdiff-startup-")
    try:
        print(f"installing {ROOT} (pip install ., not editable) ...", flush=True)
        py = make_venv(args.venv or os.path.join(tmp, "venv"))
        bindir = os.path.dirname(py)
        matdiff = os.path.join(bindir, "matdiff.exe" if os.name == "nt" else "matdiff")
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONSTARTUP")}
        env["MATDIFF_CACHE_DIR"] = os.path.join(tmp, "cache")
        base = [py, "-c", "pass"]
        cases = [
            ("matdiff --version", [matdiff, "--version"]),
            (f'matdiff shape "{EXPR}" --format text', [matdiff, "shape", EXPR, "--format", "text"]),
            (f'matdiff grad "{EXPR}" --wrt X --format text',
             [matdiff, "grad", EXPR, "--wrt", "X", "--format", "text"]),
            ("matdiff --help (click)", [matdiff, "--help"]),
        ]
        for _, cmd in cases:  # warm-up: .pyc files, the parser's tables
            timed(cmd, env, tmp)
        timed(base, env, tmp)

        rows = []
        base_wall, base_cpu = [], []
        for label, cmd in cases:
            walls, cpus, ratios_wall, ratios_cpu, status = [], [], [], [], 0
            for i in range(args.runs):
                if i % 2:
                    a, b = timed(cmd, env, tmp), timed(base, env, tmp)
                else:
                    b, a = timed(base, env, tmp), timed(cmd, env, tmp)
                walls.append(a[0])
                cpus.append(a[1])
                base_wall.append(b[0])
                base_cpu.append(b[1])
                ratios_wall.append(a[0] / b[0])
                ratios_cpu.append(a[1] / b[1] if b[1] > 0 else float("nan"))
                status = a[2]
            rows.append((label, walls, cpus, ratios_wall, ratios_cpu, status))

        med = statistics.median
        print(f"\n{args.runs} pairs per command; whole processes; regular install at {bindir}")
        print(_script_note(py, matdiff))
        print(f"python {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} cpus\n")
        width = max(len(r[0]) for r in rows + [("python -c pass",)])
        print(f"{'command':<{width}}  {'wall':>8}  {'cpu':>8}  {'wall ratio (min-max)':>22}"
              f"  {'cpu ratio':>9}  exit")
        print(f"{'python -c pass':<{width}}  {med(base_wall) * 1e3:6.1f}ms  "
              f"{med(base_cpu) * 1e3:6.1f}ms  {'1.00':>22}  {'1.00':>9}     0")
        for label, walls, cpus, rw, rc, status in rows:
            rc = [r for r in rc if r == r] or [float("nan")]
            print(f"{label:<{width}}  {med(walls) * 1e3:6.1f}ms  {med(cpus) * 1e3:6.1f}ms  "
                  f"{med(rw):8.2f}x ({spread(rw):>11})  {med(rc):8.2f}x  {status:>4}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
