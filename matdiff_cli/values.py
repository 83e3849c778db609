"""Derivatives evaluated at data: ``grad``/``jac``/``hess`` with ``--let``
binding every variable give the numbers as well as the formula (the function's
value and the derivative's), as SymPy users get with ``lambdify``.

A derivative that is a matrix (a gradient, a Jacobian or Hessian matrix) is
evaluated as it is written.  One that is a linear operator in ``dX`` (the
Jacobian ``dF = L[dX]`` of a matrix function, the Hessian ``H[dX]`` of a matrix
variable) is given as its matrix on ``vec(dX)`` (column-major, numerator
layout: ``vec(dF) = J vec(dX)``), built by applying the operator to each
direction of a basis; for a structured variable the basis directions keep the
structure (``(E_ij + E_ji)/2`` for a symmetric X), so that ``J vec(dX) =
L[dX]`` for every direction the declaration allows.

The helpers of numbers at data (binding ``--let`` values, evaluating with
errors that say why a value is not finite, writing numbers) are here too, for
``eval`` and ``solve``.  NumPy is imported only when numbers are made.
"""
from __future__ import annotations

from .errors import MatdiffError
from .expr import SCALAR, Num

# ---------------------------------------------------------------- numbers at data
# (eval and solve use these too)

def _fmt(v) -> str:
    """A value for reading: a number, or nested lists, each number to 6
    significant digits (1e-08 stays 1e-08, never 0.0000)."""
    import numpy as np

    a = np.asarray(v, dtype=float)
    if a.size == 1:
        return _num(float(a.reshape(())))
    if a.ndim == 1 or (a.ndim == 2 and a.shape[1] == 1):
        return "[" + ", ".join(_num(x) for x in a.reshape(-1)) + "]"
    return "[" + ", ".join("[" + ", ".join(_num(x) for x in row) + "]" for row in a) + "]"


def _num(x: float) -> str:
    return f"{float(x):.6g}"


def _json_value(v):
    import numpy as np

    a = np.asarray(v, dtype=float)
    if a.size == 1:
        return float(a.reshape(()))
    if a.ndim == 2 and a.shape[1] == 1:
        return a[:, 0].tolist()
    return a.tolist()


def _bind(problem, bindings, needed):
    """(values, sizes) of the needed variables, with sizes fixed by every bound
    variable of the problem (data for an unused or solved-for variable still
    fixes its dimensions)."""
    from .letdata import bind_values

    names = {s.name for s in needed}
    more = [s for s in problem.symbols.values() if s.name in bindings and s.name not in names]
    more += _declared_unused(problem, bindings, list(needed) + more)
    return bind_values(problem, bindings, list(needed) + more)


def _numbers(problem, exprs, values, sizes, what="the value"):
    """The values of exprs at the data, all finite, or an error that says why."""
    import numpy as np

    from .errors import MatdiffError
    from .numeric import UnknownSize, evaluate, guard_memory, quiet, undefined_at
    from .render.text import to_text

    try:
        guard_memory(exprs, sizes)
        with quiet():
            out = [evaluate(e, values, sizes) for e in exprs]
            bad = None
            if not all(np.all(np.isfinite(v)) for v in out):
                bad = undefined_at(exprs, values, sizes)
    except UnknownSize as e:
        raise MatdiffError(
            "usage", f"the data does not fix the size of the dimension {e.dim}: no bound "
            f"variable has it", hint=f"bind a variable with dimension {e.dim}, or give the size "
            "in the expression, e.g. eye(3), ones(3), zeros(3, 2)") from None
    if bad is not None:
        node, why = bad
        text = to_text(node)
        if isinstance(node, Num) and abs(node.value) >= 1:   # 2e308, not its 309 digits
            digits = str(int(abs(node.value)))
            text = f"{'-' if node.value < 0 else ''}{digits[0]}.{digits[1:4]}e{len(digits) - 1}"
        text = text if len(text) <= 60 else text[:57] + "..."
        where = " at the data" if values else ""
        raise MatdiffError(
            "domain", f"{what} is not finite{where}: {text} is not finite ({why})",
            hint="give data inside the expression's domain" if values else
                 "keep the numbers within the range of doubles")
    return out


def _declared_unused(problem, bindings: dict, needed) -> list:
    """Declared variables that the expression does not use but the data binds:
    they fix dimensions (``X: n x m; ones(n, m)`` with X's value)."""
    from .expr import Sym

    scope = problem._scope
    if scope is None:
        return []
    used = {s.name for s in needed}
    out = []
    for name in bindings:
        info = scope.symbols.get(name) if name not in used else None
        if info is not None and info.declared and all(isinstance(d, (int, str)) for d in info.shape):
            out.append(Sym(name, tuple(info.shape), info.props))
    return out


# ---------------------------------------------------------------- derivatives

#: an operator's matrix is built from at most this many applications (basis directions)
MAX_BASIS = 2500

#: what each kind of result is called in the value line
WHAT = {"gradient": "gradient", "jacobian": "Jacobian", "operator": "Jacobian",
        "hessian": "Hessian", "hessian_operator": "Hessian"}


def attach(report, der, options) -> None:
    """With --let on grad, jac or hess: evaluate ``der`` (a Derivation or a
    WholeHessian) at the data and add the numbers to ``report``: JSON ``value``
    (the function's) and ``result.value`` (the derivative's), and one line each
    in the other formats.  Without --check, every variable must be bound (the
    data is for the values: a missing one is a usage error); with --check,
    partial data is the check's, and values that cannot be computed are a note
    (the check at the same data says more)."""
    if not options.lets or options.command not in ("grad", "jac", "hess"):
        return
    bound = {name for name, _ in options.lets}
    missing = [name for name in der.problem.symbols if name not in bound]
    if missing and options.check:
        return   # the data of the check alone
    if missing:
        raise MatdiffError(
            "usage", "no value for " + ", ".join(missing) + ": --let gives values at the "
            "data when it binds every variable",
            hint="bind every variable (" + " ".join(f'--let "{n}=..."' for n in missing[:2])
                 + "), or add --check to check the derivative at partial data")
    try:
        f, d, what = _values(der, options.bindings())
        if getattr(der, "layout", "numerator") == "denominator":
            what += " (denominator layout)"
    except MatdiffError as e:
        if not options.check:
            raise
        report.notes.append(f"no values at the data: {e.message}")
        return
    report.values = {"function": _json_value(f), "derivative": _json_value(d)}
    report.notes.append(f"value at the data: {_fmt(f)}")
    report.notes.append(f"{what} at the data: {_fmt(d)}")


def _values(der, bindings) -> tuple:
    """(f, derivative, what) at the data."""
    import numpy as np

    problem = der.problem
    values, sizes = _bind(problem, bindings, list(problem.symbols.values()))
    (f,) = _numbers(problem, [problem.expr], values, sizes, what="the function")
    if hasattr(der, "blocks"):   # the whole Hessian over several variables
        rows = [[_matrix(der.blocks[i][j], der.operator[i][j], vj, vi, values, sizes)
                 for j, vj in enumerate(der.vars)] for i, vi in enumerate(der.vars)]
        return f, np.block(rows), f"Hessian on [vec({'); vec('.join(v.name for v in der.vars)})]"
    kind, var = der.kind, der.var
    if kind not in WHAT or der.order > 1:
        raise MatdiffError(
            "unsupported", "the second differential of a non-scalar is a bilinear form (a "
            "third-order array): matdiff gives no matrix of numbers for it at the data",
            hint="add --check to check it at the data, or differentiate one entry")
    what = WHAT[kind]
    if der.vec is not None:          # --vec: the operator's matrix is written out
        (d,) = _numbers(problem, [der.vec], values, sizes, what=f"the {what}")
        return f, d, f"{what} on vec({var.name})"
    if not der.operator:
        (d,) = _numbers(problem, [der.result], values, sizes, what=f"the {what}")
        return f, d, what
    d = _matrix(der.result, True, var, None, values, sizes, what)
    if kind == "operator":
        return f, d, f"Jacobian on vec({var.name}) (vec(dF) = J vec(d{var.name}))"
    return f, d, f"Hessian on vec({var.name}) (vec(H[d{var.name}]) = H vec(d{var.name}))"


def _matrix(expr, operator: bool, var, out, values, sizes, what="the Hessian"):
    """The matrix of ``expr`` on vec(var): applied to a basis when it is an
    operator in d var, else its value as a 2-D array."""
    import numpy as np

    if not operator:
        (a,) = _numbers(None, [expr], values, sizes, what=what)
        return np.atleast_2d(np.asarray(a, dtype=float))
    x = np.asarray(values[var.name], dtype=float)
    shape = x.shape
    count = int(np.prod(shape)) if shape else 1
    if count > MAX_BASIS:
        raise MatdiffError(
            "unsupported", f"the matrix of this operator on vec({var.name}) has {count} "
            f"columns, more than {MAX_BASIS}", hint="give smaller data, or add --check")
    columns = []
    for k in range(count):
        e = np.zeros(count)
        e[k] = 1.0
        direction = _structured(var, x, e.reshape(shape, order="F") if shape else 1.0)
        vals = dict(values)
        vals[("d", var.name)] = direction
        (v,) = _numbers(None, [expr], vals, sizes, what=what)
        columns.append(np.asarray(v, dtype=float).reshape(-1, order="F"))
    return np.column_stack(columns)


def _structured(var, x, e):
    """The basis direction ``e`` projected onto the directions var's declaration
    allows (the identity for a general variable)."""
    import numpy as np

    if var.shape == SCALAR or np.ndim(e) != 2 or e.shape[0] != e.shape[1]:
        return e
    if var.has("orthogonal"):   # the tangent space: X skew(X^T E)
        s = x.T @ e
        return x @ (s - s.T) / 2
    if var.has("symmetric", "spd"):
        return (e + e.T) / 2
    if var.has("diagonal"):
        return np.diag(np.diag(e))
    return e

