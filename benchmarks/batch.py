"""Throughput on a document of many problems, against SymPy in the same script.

Builds a document of N problems (default 1,000): the Matrix Cookbook identities
of tests/cookbook.py, repeated with renamed symbols (X -> X_3, ...), each with
its declarations.  Then

1. runs ``matdiff grad -f DOC --format json --wrt V1,V2,...`` (a real
   subprocess: start-up, parsing, differentiation and JSON rendering all
   included; each problem's variable is named V<i> after its shape, the other
   symbols get a suffix) and reports problems per second;
2. runs SymPy's matrix ``diff`` in this process on a sample of the same
   derivatives that SymPy can do (its result is neither an exception, nor 0,
   nor an unevaluated Derivative), parsing excluded, and reports the ratio of
   the time per derivative.

    python benchmarks/batch.py [--problems 1000] [--sympy-sample 150]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from cookbook import GRADIENTS  # noqa: E402

from matdiff_cli.ops import RESERVED  # noqa: E402

# the built-ins (as declared), I, T, and F of ||X||_F
FUNCTIONS = set(RESERVED) | {"F"}


# the variable of every problem gets one name per shape (a name has one shape in a
# document), so that one --wrt list serves the whole document
VARIABLES: dict = {}


def renamed(text: str, k: int, wrt: str = "", var: str = "") -> str:
    """Every symbol gets the suffix _k, but the variable wrt, which becomes var;
    functions, dimensions and properties stay."""
    def sub(m):
        w = m.group(0)
        if w == wrt:
            return var
        return w if w in FUNCTIONS else f"{w}_{k}"

    names, colon, shape = text.partition(":")
    if colon:  # a declaration: only the names before the colon
        return re.sub(r"\b[A-Za-z][A-Za-z0-9]*\b", sub, names) + colon + shape
    return re.sub(r"\b[A-Za-z][A-Za-z0-9]*\b", sub, text)


def document(n: int) -> tuple[str, list]:
    lines, problems = [], []
    while len(problems) < n:
        for name, decls, src, wrt, _ in GRADIENTS:
            if len(problems) >= n:
                break
            suffix = len(problems)
            var = _variable_name(decls, src, wrt)
            decls = [renamed(d, suffix, wrt, var) for d in decls]
            src = renamed(src, suffix, wrt, var)
            lines.extend(decls)
            lines.append(src)
            problems.append((src, decls))
    return "\n".join(lines), problems


def _variable_name(decls, src, wrt) -> str:
    from matdiff_cli.document import parse

    sym = parse(src, declare=decls).symbols[wrt]
    key = (sym.shape, sym.props)
    return VARIABLES.setdefault(key, f"V{len(VARIABLES) + 1}")


def matdiff_executable() -> list:
    exe = os.path.join(os.path.dirname(sys.executable), "matdiff")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "matdiff_cli"]


def run_matdiff(path: str) -> tuple[float, list]:
    t0 = time.perf_counter()
    wrt = ",".join(VARIABLES.values())
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled modules cached
    out = subprocess.run(matdiff_executable() + ["grad", "-f", path, "--format", "json",
                                                 "--wrt", wrt],
                         capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    objs = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return dt, objs


def sympy_sample(objs: list, problems: list, sample: int) -> tuple[int, int, float]:
    """(tried, done, seconds) of SymPy's diff on the derivatives it can do."""
    import sympy as sp

    from matdiff_cli.document import parse
    from matdiff_cli.sympy_bridge import to_sympy

    from matdiff_cli.derive import derive

    class Opts:
        layout, vec, steps = "numerator", False, False

    decls = {src: d for src, d in problems}
    tried = done = 0
    seconds = printed = mine = 0.0
    for obj in objs:
        if tried >= sample:
            break
        if not obj.get("ok"):
            continue
        src, wrt = obj["input"], obj["wrt"]
        try:
            problem = parse(src, declare=decls.get(src, []))
            f, v = to_sympy(problem.expr), to_sympy(problem.symbols[wrt])
        except Exception:
            continue
        tried += 1
        t0 = time.perf_counter()
        try:
            g = f.diff(v)
            ok = g != 0 and not g.has(sp.Derivative)
        except Exception:
            ok = False
        dt = time.perf_counter() - t0
        if ok:
            done += 1
            seconds += dt
            t0 = time.perf_counter()   # and written out, as matdiff writes its result
            str(g)
            printed += dt + time.perf_counter() - t0
            t0 = time.perf_counter()   # the same derivative by matdiff's engine
            derive(problem, problem.symbols[wrt], "grad", Opts())
            mine += time.perf_counter() - t0
    return tried, done, seconds, printed, mine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", type=int, default=1000)
    ap.add_argument("--sympy-sample", type=int, default=150)
    ap.add_argument("--runs", type=int, default=5, help="matdiff runs (the median is kept)")
    args = ap.parse_args()
    text, problems = document(args.problems)
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, "problems.txt")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        run_matdiff(path)  # warm the parser cache and the .pyc files
        runs = [run_matdiff(path) for _ in range(args.runs)]
        dt = sorted(t for t, _ in runs)[len(runs) // 2]   # the median run
        objs = runs[0][1]
    finally:
        shutil.rmtree(tmp)
    ok = sum(1 for o in objs if o.get("ok"))
    per_problem = dt / len(problems)
    per_derivative = dt / max(ok, 1)
    print(f"matdiff grad -f ({len(problems)} problems, {len(objs)} derivatives, {ok} ok): "
          f"{dt:.2f} s end to end (median of {args.runs} runs)")
    print(f"  {len(problems) / dt:8.0f} problems/s   {len(objs) / dt:8.0f} derivatives/s")
    tried, done, seconds, printed, mine = sympy_sample(objs, problems, args.sympy_sample)
    if done:
        sympy_per = seconds / done
        print(f"SymPy matrix diff: {done} of {tried} sampled derivatives done, "
              f"{sympy_per * 1000:.1f} ms each (parsing excluded), "
              f"{printed / done * 1000:.1f} ms with the result printed")
        print(f"  ratio, SymPy diff and print / matdiff end to end (CLI: start-up, parsing, "
              f"JSON with text, LaTeX and NumPy): {printed / done / per_derivative:.0f}x")
        print(f"  ratio, SymPy diff alone / matdiff end to end: "
              f"{sympy_per / per_derivative:.0f}x")
        print(f"  ratio, SymPy's diff / matdiff's engine on the same derivatives "
              f"({mine / done * 1000:.2f} ms each, in process): {seconds / mine:.0f}x")
    else:
        print("SymPy did none of the sampled derivatives")
    _ = per_problem


if __name__ == "__main__":
    main()
