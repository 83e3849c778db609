"""The engine's cost must be linear in the expression size.

Differentiates the L-layer perceptron loss
    h1 = tanh(W1 x), ..., h_{L-1} = tanh(W_{L-1} h_{L-2}),  f = ||W_L h_{L-1} - y||^2
with respect to W1 for L = 1, 2, 4, ..., 256 (through the whole pipeline: parse,
differentiate, read off, simplify, name shared pieces, render as text), and
prints the time, the output length and the ratio to the previous L.  Both
ratios should stay near 2 (linear); a tree-expanding engine would grow like
2^L.  For comparison, SymPy's matrix derivative is tried on the same problem
(in a subprocess with a time limit), where it fails from L = 3.

    python benchmarks/depth.py [--max-layers 256] [--sympy]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time


def document(layers: int) -> str:
    lines = ["x: n0", "y: nL"]
    prev = "x"
    for l in range(1, layers):
        lines.append(f"W{l}: n{l} x n{l - 1}")
        lines.append(f"h{l} = tanh(W{l} {prev})")
        prev = f"h{l}"
    lines.append(f"W{layers}: nL x n{layers - 1}")
    lines.append(f"||W{layers} {prev} - y||^2")
    return "\n".join(lines)


def run_matdiff(layers: int) -> tuple[float, int]:
    from matdiff_cli.derivative_report import DerivativeReport
    from matdiff_cli.derivatives import derive
    from matdiff_cli.document import read_document

    class Opts:
        layout, vec, steps = "numerator", False, False

    t0 = time.perf_counter()
    problem = read_document(document(layers))[-1]
    der = derive(problem, problem.symbols["W1"], "grad", Opts())
    text = DerivativeReport(der).to_text()
    return time.perf_counter() - t0, len(text)


SYMPY_SNIPPET = r"""
import sys, sympy as sp
L = int(sys.argv[1])
n = sp.Symbol("n", integer=True, positive=True)
x = sp.MatrixSymbol("x", n, 1); y = sp.MatrixSymbol("y", n, 1)
Ws = [sp.MatrixSymbol(f"W{l}", n, n) for l in range(1, L + 1)]
h = x
for W in Ws[:-1]:
    h = (W * h).applyfunc(sp.tanh)
r = Ws[-1] * h - y
g = (r.T * r).diff(Ws[0])
print(type(g).__name__, len(str(g)))
"""


def run_sympy(layers: int, timeout: float) -> str:
    t0 = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, "-c", SYMPY_SNIPPET, str(layers)],
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timeout > {timeout:.0f} s"
    dt = time.perf_counter() - t0
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["error"])[-1]
        return f"fails: {last[:60]}"
    kind, chars = out.stdout.split()
    what = "a matrix" if kind in ("MatMul", "MatAdd") else f"not a matrix ({kind})"
    return f"{dt:.2f} s, {what}, {chars} chars"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-layers", type=int, default=256)
    ap.add_argument("--sympy", action="store_true", help="also try SymPy (slow)")
    ap.add_argument("--sympy-timeout", type=float, default=20.0)
    args = ap.parse_args()
    run_matdiff(2)  # warm up: parser tables, imports
    print(f"{'L':>5} {'time':>10} {'ratio':>6} {'chars':>9} {'ratio':>6}")
    prev = None
    L = 1
    while L <= args.max_layers:
        dt, n = run_matdiff(L)
        if prev:
            print(f"{L:>5} {dt * 1000:>8.1f}ms {dt / prev[0]:>6.2f} {n:>9} {n / prev[1]:>6.2f}")
        else:
            print(f"{L:>5} {dt * 1000:>8.1f}ms {'':>6} {n:>9}")
        prev = (dt, n)
        L *= 2
    if args.sympy:
        print("\nSymPy's matrix derivative (MatrixSymbol.diff) on the same loss:")
        for L in (1, 2, 3, 4):
            print(f"  L = {L}: {run_sympy(L, args.sympy_timeout)}")


if __name__ == "__main__":
    main()
