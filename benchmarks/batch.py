"""Throughput on a document of many problems, against SymPy, from whole processes.

Builds a document of N problems (default 1,000): the Matrix Cookbook identities
of tests/cookbook.py, repeated with renamed symbols (X -> X_3, ...), each with
its declarations.  Then

1. runs ``matdiff grad -f DOC --format json --wrt V1,V2,...`` as a real process
   (start-up, reading, differentiation and JSON rendering with text, LaTeX and
   NumPy all included; each problem's variable is named V<i> after its shape, the
   other symbols get a suffix), RUNS times, and prints the median CPU time (user
   + system, the operating system's accounting of the child) and wall time, as
   problems per second, each run followed by a yardstick (a pure-Python loop of
   10^7 additions, whose CPU time says how fast the shared machine was at the
   time); then the same with ``--format text`` (the derivative's text alone:
   what SymPy's side prints);
2. for the first problems (default 1,000) that convert to SymPy matrix
   expressions, finds those SymPy can differentiate (a first SymPy run), then
   runs more whole processes over exactly those problems, in turn (matdiff JSON,
   matdiff text, SymPy, matdiff JSON, ..., PAIRS rounds): matdiff as above, and a
   Python process that imports SymPy, builds each expression (from its
   ``srepr``), takes SymPy's ``diff`` and prints its ``str`` (and, in a second
   process, also its ``latex`` and its NumPy code from ``NumPyPrinter``); it
   prints their median CPU times with their spread, the median of the
   per-round ratios (taking them in turn keeps the ratio meaningful when the
   machine's speed drifts), and how many derivatives SymPy could do (not an
   exception, not 0, not an unevaluated Derivative).  Three ratios: SymPy's
   ``str`` against the JSON (text, LaTeX and NumPy code of every result, and
   the differential's text and LaTeX: more than SymPy does), against
   ``--format text`` (the derivative's text, like for like with ``str``), and
   SymPy's ``str``, LaTeX and NumPy code against the JSON (the three formats
   of the result on both sides).

    python benchmarks/batch.py [--problems 1000] [--runs 5] [--sympy-sample 1000] [--pairs 3]

Run it from a regular install (``pip install .``, by a current pip: the console
script of pip < 25 imports ``re``, a cost of its own in every run; the script
says which it found); the machine's load moves the wall times more than the CPU
times: quote the medians, and say how busy it was.
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
from startup import _script_note  # noqa: E402

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
            problems.append((src, decls, var))
    return "\n".join(lines), problems


def _variable_name(decls, src, wrt) -> str:
    from matdiff_cli.document import parse

    sym = parse(src, declare=decls).symbols[wrt]
    key = (sym.shape, sym.props)
    return VARIABLES.setdefault(key, f"V{len(VARIABLES) + 1}")


def matdiff_executable() -> list:
    exe = os.path.join(os.path.dirname(sys.executable), "matdiff")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "matdiff_cli"]


def whole_process(argv: list, env: dict, cwd: str) -> tuple:
    """(CPU seconds, wall seconds, exit status, standard output) of one process."""
    out = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out.seek(0)
    return usage.ru_utime + usage.ru_stime, wall, os.waitstatus_to_exitcode(status), out.read()


def run_matdiff(path: str, env: dict, cwd: str, fmt: str = "json") -> tuple:
    wrt = ",".join(VARIABLES.values())
    return whole_process(matdiff_executable() + ["grad", "-f", path, "--format", fmt,
                                                 "--wrt", wrt], env, cwd)


# a fixed amount of pure-Python work, to say how fast the machine was during the runs
# (its speed moves by up to 2x in an hour on a shared machine)
YARDSTICK = "s = 0\nfor i in range(10 ** 7):\n    s += i"

SYMPY_WORKER = r"""
import sys
from sympy import *  # the names srepr writes
from sympy.core.symbol import Str
from sympy.matrices.expressions.matexpr import MatrixElement
full = len(sys.argv) > 2   # also LaTeX and NumPy code, as matdiff's JSON has
if full:
    from sympy.printing.numpy import NumPyPrinter
done = 0
with open(sys.argv[1], encoding="utf-8") as fh:
    lines = fh.read().splitlines()
for i in range(0, len(lines), 2):
    try:
        f, v = eval(lines[i]), eval(lines[i + 1])
        g = f.diff(v)
        ok = g != 0 and not g.has(Derivative)
        if ok and full:
            print(latex(g), NumPyPrinter().doprint(g), sep="\t")
    except Exception:
        ok = False
    if ok:
        done += 1
        print(i // 2, g, sep="\t")
print(done, "done", file=sys.stderr)
"""


def sympy_problems(problems: list, sample: int) -> list:
    """(declarations and expression, SymPy srepr of f and of the variable) of the
    first ``sample`` problems whose expression and variable convert to SymPy."""
    from sympy import srepr

    from matdiff_cli.document import parse
    from matdiff_cli.sympy_bridge import to_sympy

    out = []
    for src, decls, var in problems:
        if len(out) >= sample:
            break
        try:
            problem = parse(src, declare=decls)
            f, v = to_sympy(problem.expr), to_sympy(problem.symbols[var])
        except Exception:
            continue
        out.append((decls + [src], [srepr(f), srepr(v)]))
    return out


def write_pair(items: list, tmp: str, stem: str) -> tuple:
    doc_path, repr_path = os.path.join(tmp, stem + ".txt"), os.path.join(tmp, stem + ".sympy")
    with open(doc_path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(line for lines, _ in items for line in lines))
    with open(repr_path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(line for _, reprs in items for line in reprs))
    return doc_path, repr_path


def median(values):
    return sorted(values)[len(values) // 2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5, help="matdiff runs (the median is kept)")
    ap.add_argument("--sympy-sample", type=int, default=1000,
                    help="problems of the SymPy comparison (0: none)")
    ap.add_argument("--pairs", type=int, default=3,
                    help="matdiff / SymPy runs in turn for the comparison (the median ratio)")
    args = ap.parse_args()
    text, problems = document(args.problems)
    tmp = tempfile.mkdtemp()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled modules cached
    env.pop("PYTHONPATH", None)
    env.setdefault("MATDIFF_CACHE_DIR", os.path.join(tmp, "cache"))
    try:
        path = os.path.join(tmp, "problems.txt")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        run_matdiff(path, env, tmp)  # warm the parser cache and the .pyc files
        runs, yardstick = [], []
        for _ in range(args.runs):   # in turn with the yardstick: the machine's speed then
            runs.append(run_matdiff(path, env, tmp))
            yardstick.append(whole_process([sys.executable, "-c", YARDSTICK], env, tmp))
        objs = [json.loads(line) for line in runs[0][3].decode().splitlines() if line.strip()]
        ok = sum(1 for o in objs if o.get("ok"))
        print(f"matdiff grad -f DOC --format json: {len(problems)} problems, {len(objs)} "
              f"derivatives, {ok} ok, exit {runs[0][2]}; whole process, median of {args.runs}")
        report_runs(runs, len(problems))
        exe = matdiff_executable()
        if len(exe) == 1:
            print(f"  {_script_note(sys.executable, exe[0])}")
        print(f"  the machine's speed: a pure-Python loop of 10^7 additions, run in turn, took "
              f"{median([y[0] for y in yardstick]):.2f} s CPU (min "
              f"{min(y[0] for y in yardstick):.2f}, max {max(y[0] for y in yardstick):.2f})")
        text_runs = [run_matdiff(path, env, tmp, "text") for _ in range(args.runs)]
        print(f"matdiff grad -f DOC --format text (the derivatives' text alone): exit "
              f"{text_runs[0][2]}; whole process, median of {args.runs}")
        report_runs(text_runs, len(problems))
        if args.sympy_sample > 0:
            compare_sympy(problems, args.sympy_sample, env, tmp, args.pairs)
    finally:
        shutil.rmtree(tmp)


def report_runs(runs: list, n: int) -> None:
    cpu, wall = median([r[0] for r in runs]), median([r[1] for r in runs])
    print(f"  CPU  {cpu:6.2f} s  {n / cpu:7.0f} problems/s   "
          f"(min {min(r[0] for r in runs):.2f}, max {max(r[0] for r in runs):.2f})")
    print(f"  wall {wall:6.2f} s  {n / wall:7.0f} problems/s   "
          f"(min {min(r[1] for r in runs):.2f}, max {max(r[1] for r in runs):.2f})")


def compare_sympy(problems: list, sample: int, env: dict, tmp: str, pairs: int = 3) -> None:
    """matdiff and SymPy as whole processes on the same derivatives: those of the
    sample that SymPy can do (a first SymPy run finds them)."""
    items = sympy_problems(problems, sample)
    _, repr_path = write_pair(items, tmp, "sample")
    screen = whole_process([sys.executable, "-c", SYMPY_WORKER, repr_path], env, tmp)
    done = [int(line.split("\t")[0]) for line in screen[3].decode().splitlines() if line.strip()]
    if not done:
        print("SymPy did none of the sampled derivatives")
        return
    doc_path, repr_path = write_pair([items[i] for i in done], tmp, "done")
    sympy_argv = [sys.executable, "-c", SYMPY_WORKER, repr_path]
    mine, text, theirs, theirs_full = [], [], [], []
    for _ in range(pairs):   # in turn, so that all see the machine in the same state
        mine.append(run_matdiff(doc_path, env, tmp))
        text.append(run_matdiff(doc_path, env, tmp, "text"))
        theirs.append(whole_process(sympy_argv, env, tmp))
        theirs_full.append(whole_process(sympy_argv + ["full"], env, tmp))
    n = len(done)
    print(f"SymPy's matrix diff can do {n} of the first {len(items)} problems that its matrix "
          "expressions can state;")
    print(f"on those {n}, whole processes run in turn ({pairs} rounds), medians:")
    for label, runs in (("matdiff grad -f --format json (text, LaTeX, NumPy)", mine),
                        ("matdiff grad -f --format text", text),
                        ("python: import SymPy, build, diff, print str", theirs),
                        ("... and print latex and NumPyPrinter code", theirs_full)):
        cpu = median([r[0] for r in runs])
        print(f"  {label + ':':52s} CPU {cpu:6.2f} s  ({cpu / n * 1000:.1f} ms a derivative; "
              f"min {min(r[0] for r in runs):.2f}, max {max(r[0] for r in runs):.2f})")
    for label, runs, sympy in (("JSON", mine, theirs), ("text, like for like", text, theirs),
                               ("JSON, against SymPy's str, LaTeX and NumPy code", mine,
                                theirs_full)):
        ratios = [t[0] / m[0] for m, t in zip(runs, sympy)]
        print(f"  ratio SymPy / matdiff {label}, CPU end to end, median of the rounds: "
              f"{median(ratios):.1f}x (min {min(ratios):.1f}, max {max(ratios):.1f})")


if __name__ == "__main__":
    main()
