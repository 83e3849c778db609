"""--expect: is a claimed result the same as matdiff's?

* ``compare``: symbolically when the canonical forms agree, else numerically
  at random points (drawn as the checks of ``trust.py`` draw them), else a
  counterexample; when they agree only under symmetry of some matrices, it says
  which.
* ``compare_blocks``: a claimed whole Hessian, ``[[H11, H12], [H21, H22]]``,
  block by block.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .errors import MatdiffError
from .expr import SCALAR, Diff, Expr, Sym
from .letdata import _show
from .numeric import evaluate, quiet, relative_error, sample_direction
from .simplify import simplify
from .trust import EQUAL_TOL, TRIALS, _plain, _trial_values, resolve_seed


# ---------------------------------------------------------------- --expect

@dataclass
class Comparison:
    equal: bool
    how: str                     # "symbolically" | "numerically" | "differs"
    trials: int = 0
    max_rel_error: float = 0.0
    seed: int | None = None
    counterexample: dict | None = None
    hint: str | None = None
    claim_text: str = ""

    def summary(self) -> str:
        if self.equal and self.how == "symbolically":
            return f"expect: equal (symbolically) to {self.claim_text}"
        if self.equal:
            return (f"expect: equal (numerically, {self.trials} trials, max relative error "
                    f"{self.max_rel_error:.1e}) to {self.claim_text}")
        line = f"expect: differs from {self.claim_text}"
        if self.counterexample:
            c = self.counterexample
            line += (f" (at a random point, trial {c['trial']} of --seed {self.seed}, they differ "
                     f"by {c['rel_error']:.0%} relative; the point is in the JSON output)")
        if self.hint:
            line += f"; {self.hint}"
        return line

    def to_json(self) -> dict:
        out = {"claim": self.claim_text, "equal": self.equal,
               "how": self.how if self.equal else "differs"}
        if self.trials:
            out.update(trials=self.trials, max_rel_error=self.max_rel_error, seed=self.seed)
        if self.counterexample:
            out["counterexample"] = self.counterexample
        if self.hint:
            out["hint"] = self.hint
        return out


def parse_claim(der, text: str) -> Expr:
    """The claim of a derivation's result, in its problem's scope."""
    return claim_of(der.problem, der.var, der.result.shape, text)


def claim_of(problem, var: Sym, shape, text: str) -> Expr:
    """A claimed derivative with respect to var, of this shape, read in the problem's
    scope; ``dX`` (the direction's name) is Diff(var)."""
    from .names import Names
    from .build import replace_node

    dname = Names.of(problem).direction(var)   # dX, or d_X when dX is a variable
    claim = problem.parse(text, directions={var.name: dname}, shape=shape, known_only=True)
    for node in _symbols_named(claim, dname):
        if node.shape != var.shape:
            raise MatdiffError("shape", f"in the claim, {dname} is {node.shape[0]} x "
                               f"{node.shape[1]} but {var.name} is {var.shape[0]} x "
                               f"{var.shape[1]}", statement=text)
        claim = replace_node(claim, node, Diff(var))
    return claim


def _symbols_named(e: Expr, name: str):
    from .expr import symbols
    return [s for s in symbols(e) if s.name == name]


def compare(der, claim_text: str, seed=None, trials: int = TRIALS) -> Comparison:
    """Is the claim the result?  Symbolically, else at random points (the variable
    is drawn even when neither side contains it), else a counterexample."""
    claim = parse_claim(der, claim_text)
    with quiet():
        return _compare(der, claim, claim_text, seed, trials)


def comparable(der) -> Expr:
    """The result as the claim is written: a second differential d²F[dX1, dX2] as its
    quadratic form d²F[dX, dX] (which fixes the symmetric form, by polarization)."""
    if der.kind != "second_differential":
        return der.result
    from .build import replace_node

    out = der.result
    for s in der.directions:
        out = replace_node(out, s, Diff(der.var))
    return simplify(out)


def _compare(der, claim, claim_text, seed, trials) -> Comparison:
    result = comparable(der)
    if claim.shape != result.shape:
        return Comparison(False, "differs", claim_text=claim_text,
                          hint=f"the claim is {claim.shape[0]} x {claim.shape[1]}, the result "
                               f"{result.shape[0]} x {result.shape[1]}")
    if simplify(claim) is simplify(result):
        return Comparison(True, "symbolically", claim_text=claim_text)
    seed = resolve_seed(seed)
    same, err, counter = _numerically_equal(result, claim, der.var, seed, trials)
    if same:
        return Comparison(True, "numerically", trials, err, seed, claim_text=claim_text)
    return Comparison(False, "differs", trials, err, seed, counter,
                      hint=_symmetry_hint(der, claim_text), claim_text=claim_text)


def _numerically_equal(a: Expr, b: Expr, var: Sym, seed: int, trials: int):
    rng = np.random.default_rng(seed)
    worst = 0.0
    for trial in range(trials):
        values, sizes = _trial_values([a, b], var, rng)[:2]
        values[("d", var.name)] = sample_direction(var, values[var.name], rng, sizes)
        va, vb = evaluate(a, values, sizes), evaluate(b, values, sizes)
        err = relative_error(va, vb)
        worst = max(worst, err)
        if err > EQUAL_TOL:
            return False, worst, {"trial": trial + 1, "rel_error": err,
                                  "result": _plain(va), "claim": _plain(vb),
                                  "point": {str(k): _plain(v) for k, v in values.items()
                                            if isinstance(k, str)}}
    return True, worst, None


def _symmetry_hint(der, claim_text: str) -> str | None:
    """Which square matrices, declared symmetric, would make the claim true?"""
    syms = [s for s in der.problem.symbols.values()
            if s.shape[0] == s.shape[1] and s.shape != SCALAR and not s.props
            and s is not der.var]
    if not syms or len(syms) > 4:
        return None
    for k in range(1, len(syms) + 1):
        for subset in combinations(syms, k):
            problem = der.problem.assuming_symmetric(subset)
            try:
                der2 = der.again(problem)
                claim = parse_claim(der2, claim_text)   # read with the subset symmetric
            except Exception:
                continue
            same, _, _ = _numerically_equal(comparable(der2), claim, der2.var, 1, 3)
            if same:
                names = ", ".join(s.name for s in subset)
                decls = " and ".join(f"`-d \"{s.name}: {s.shape[0]} x {s.shape[1]} symmetric\"`"
                                     for s in subset)
                return (f"they agree when {names} {'is' if k == 1 else 'are'} symmetric: "
                        f"declare {decls}")
    return None


def _zero(shape):
    from . import build
    return build.zero(shape)


def compare_blocks(h, claim_text: str, seed=None, trials: int = TRIALS) -> Comparison:
    """A claimed whole Hessian, ``[[H11, H12], [H21, H22]]`` (or ``H11, H12; H21, H22``),
    block by block: symbolically where the canonical forms agree, else numerically."""
    rows = split_blocks(claim_text)
    n = len(h.vars)
    if len(rows) != n or any(len(r) != n for r in rows):
        raise MatdiffError(
            "usage", f"--expect: the Hessian over {', '.join(v.name for v in h.vars)} has "
                     f"{n} x {n} blocks; the claim has {len(rows)} row(s) of "
                     f"{', '.join(str(len(r)) for r in rows)} block(s)",
            hint="write the claim as [[H11, H12], [H21, H22]] (or H11, H12; H21, H22), "
                 "a block of matrix variables in terms of the direction (dX)",
            statement=claim_text)
    seed = resolve_seed(seed)
    how, worst = "symbolically", 0.0
    with quiet():
        for i in range(n):
            for j in range(n):
                label = f"block [{h.vars[i].name}, {h.vars[j].name}]"
                result = h.blocks[i][j]
                if rows[i][j] == "0" and simplify(result) is simplify(_zero(result.shape)):
                    continue   # 0 stands for a zero block of any shape
                claim = claim_of(h.problem, h.vars[j], result.shape, rows[i][j])
                if claim.shape != result.shape:
                    return Comparison(False, "differs", claim_text=claim_text,
                                      hint=f"{label}: the claim is {_show(claim.shape)}, the "
                                           f"result {_show(result.shape)}")
                if simplify(claim) is simplify(result):
                    continue
                same, err, counter = _numerically_equal(result, claim, h.vars[j], seed, trials)
                worst = max(worst, err)
                if not same:
                    return Comparison(False, "differs", trials, err, seed, counter,
                                      hint=f"{label} differs", claim_text=claim_text)
                how = "numerically"
    if how == "symbolically":
        return Comparison(True, how, claim_text=claim_text)
    return Comparison(True, how, trials, worst, seed, claim_text=claim_text)


def split_blocks(text: str) -> list[list[str]]:
    """A claimed block matrix: ``[[a, b], [c, d]]`` or ``a, b; c, d`` (commas and
    semicolons inside parentheses belong to the entries)."""
    s = text.strip()
    if s.startswith("[[") and s.endswith("]]"):
        rows = _top_split(s[1:-1].strip(), ",", brackets=True)
        out = []
        for r in rows:
            r = r.strip()
            if not (r.startswith("[") and r.endswith("]")):
                return [[text]]
            out.append([c.strip() for c in _top_split(r[1:-1], ",")])
        return out
    return [[c.strip() for c in _top_split(r, ",")] for r in _top_split(s, ";")]


def _top_split(s: str, sep: str, brackets: bool = False) -> list[str]:
    out, depth, cur = [], 0, []
    opens, closes = "([{" if brackets else "({", ")]}" if brackets else ")}"
    for ch in s:
        if ch in opens:
            depth += 1
        elif ch in closes:
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out
