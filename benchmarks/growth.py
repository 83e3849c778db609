"""Growth: no small input costs more than linear time or output (issue 8 §2).

For each family of inputs (a power's exponent, repeated products, many
variables, definition chains, doubling definitions, nesting) the command is run
at several sizes n, each in a fresh Python process (so no interned node or cache
is shared between sizes); the process times one call of the CLI's ``main`` in
CPU seconds (imports excluded) and counts the bytes it writes.  The median of
``--repeat`` runs is kept, and the growth exponent is the least-squares slope of
log(time) and log(output) against log(n).  Linear is 1; every family must stay
<= 1.2, or be refused with a clear error (exit status 3).

    python benchmarks/growth.py [--repeat 3] [--quick]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys

DRIVER = r"""
import io, json, sys, time, contextlib
from matdiff_cli.cli import main
args, stdin = json.loads(sys.stdin.read())
sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
out, err = io.StringIO(), io.StringIO()
code = 0
t = time.process_time()
try:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(args)
except SystemExit as e:
    code = e.code or 0
t = time.process_time() - t
print(json.dumps({"cpu": t, "out": len(out.getvalue().encode()), "code": code,
                  "err": err.getvalue()[-300:]}))
"""


def chain(n: int, rhs) -> str:
    lines = ["x: n"]
    prev = "x"
    for i in range(1, n + 1):
        lines.append(f"h{i} = {rhs(prev)}")
        prev = f"h{i}"
    lines.append(f"sum({prev})")
    return "\n".join(lines)


# name -> (sizes, quick sizes, n -> (argv, stdin))
FAMILIES = {
    "power exponent: grad tr(A^k), n = k": (
        [10 ** 3, 10 ** 4, 10 ** 5, 10 ** 6], [10 ** 3, 10 ** 5, 10 ** 6],
        lambda n: (["grad", f"tr(A^{n})", "--wrt", "A"], "")),
    "power outside a trace: grad tr(B A^k)": (
        [10 ** 3, 10 ** 4, 10 ** 6], [10 ** 3, 10 ** 6],
        lambda n: (["grad", f"tr(B A^{n})", "--wrt", "A"], "")),
    "repeated products: grad of x^T x n times": (
        [250, 500, 1000, 2000], [250, 500, 1000],
        lambda n: (["grad", " ".join(["x^T x"] * n), "--wrt", "x"], "")),
    "repeated factors: jac of A ... A (n factors)": (
        [250, 500, 1000, 2000], [250, 500, 1000],
        lambda n: (["jac", " ".join(["A"] * n), "--wrt", "A"], "")),
    "long trace: grad tr(X ... X B) (n factors)": (
        [160, 320, 640, 1280], [160, 320, 640],
        lambda n: (["grad", "tr(" + " ".join(["X"] * n) + " B)", "--wrt", "X"], "")),
    "interleaved factors: grad tr(X A1 X A2 ... X An)": (
        [50, 100, 200, 400], [50, 100, 200],
        lambda n: (["grad", "tr(" + " ".join(f"X A{i}" for i in range(n)) + ")",
                    "--wrt", "X"], "")),
    "variables: grad of sum x_i^T x_i --wrt x0": (
        [250, 500, 1000, 2000], [250, 500, 1000],
        lambda n: (["grad", " + ".join(f"x{i}^T x{i}" for i in range(n)), "--wrt", "x0"], "")),
    "variables: grad of sum x_i^T x_i, every variable": (
        [125, 250, 500], [125, 250, 500],
        lambda n: (["grad", " + ".join(f"x{i}^T x{i}" for i in range(n))], "")),
    "distinct factors: grad x^T A1 ... An x --wrt x": (
        [250, 500, 1000, 2000], [250, 500, 1000],
        lambda n: (["grad", "x^T " + " ".join(f"A{i}" for i in range(n)) + " x",
                    "--wrt", "x"], "")),
    "definition chain h_i = tanh(h_i-1): shape": (
        [1250, 2500, 5000, 10000], [1000, 2000, 4000],
        lambda n: (["shape", "-"], chain(n, lambda p: f"tanh({p})"))),
    "definition chain h_i = tanh(h_i-1): grad": (
        [500, 1000, 2000, 4000], [500, 1000, 2000],
        lambda n: (["grad", "-", "--wrt", "x"], chain(n, lambda p: f"tanh({p})"))),
    "doubling h_i = h_i-1 + sin(h_i-1): grad --format json": (
        [40, 80, 160, 320], [40, 80, 160],
        lambda n: (["grad", "-", "--wrt", "x", "--format", "json"],
                   chain(n, lambda p: f"{p} + sin({p})"))),
    "doubling h_i = h_i-1 + sin(h_i-1): grad --steps": (
        [40, 80, 160, 320], [40, 80, 160],
        lambda n: (["grad", "-", "--wrt", "x", "--steps"],
                   chain(n, lambda p: f"{p} + sin({p})"))),
    "sums through definitions h_i = h_i-1 .* h_i-1 + h_i-1: grad": (
        [64, 128, 256, 512], [64, 128, 256],
        lambda n: (["grad", "-", "--wrt", "x"], chain(n, lambda p: f"{p} .* {p} + {p}"))),
    "a document of n problems, each its own variable, one --wrt list: grad": (
        [1000, 2000, 4000, 8000], [500, 1000, 2000],
        lambda n: (["grad", "-", "--wrt", ",".join(f"X{i}" for i in range(n))],
                   "".join(f"X{i}: n x n\ntr(X{i} A)\n" for i in range(n)))),
    "nesting: shape --format json of n nested sigmoids": (
        [20, 40, 80, 160], [20, 40, 80],
        lambda n: (["shape", "sigmoid(" * n + "x" + ")" * n, "--format", "json"], "")),
}


def run(argv, stdin) -> dict:
    r = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps([argv, stdin]),
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.splitlines()[-1])


def slope(xs, ys) -> float:
    lx = [math.log(x) for x in xs]
    ly = [math.log(max(y, 1e-9)) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    den = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / den


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, one run each")
    ap.add_argument("--only", help="families whose name contains this text")
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat
    print("| family | sizes n | CPU s (largest) | output bytes (largest) | time exponent "
          "| output exponent | verdict |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for name, (sizes, quick, make) in FAMILIES.items():
        if args.only and args.only not in name:
            continue
        sizes = quick if args.quick else sizes
        cpu, out, codes = [], [], set()
        for n in sizes:
            runs = [run(*make(n)) for _ in range(repeat)]
            cpu.append(statistics.median(r["cpu"] for r in runs))
            out.append(statistics.median(r["out"] for r in runs))
            codes.add(runs[0]["code"])
        if codes == {3}:
            verdict = "refused (exit 3, a message)"
            te = oe = float("nan")
        elif codes != {0}:
            verdict = f"exit statuses {sorted(codes)}: not comparable"
            te = oe = float("nan")
        else:
            te, oe = slope(sizes, cpu), slope(sizes, out)
            worst = max(worst, te, oe)
            verdict = "linear" if max(te, oe) <= 1.2 else "ABOVE LINEAR"
        print(f"| {name} | {', '.join(map(str, sizes))} | {cpu[-1]:.3f} | {out[-1]:.0f} "
              f"| {te:.2f} | {oe:.2f} | {verdict} |", flush=True)
    print(f"\nlargest exponent: {worst:.2f}")


if __name__ == "__main__":
    main()
