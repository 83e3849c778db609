"""A NumPy expression for an expression (SPEC §3.1, the JSON ``numpy`` field).

The string evaluates with only ``np``, Python's builtins and the problem's
variables in scope: matrices are 2-D arrays, vectors (n, 1) columns, scalars
floats or size-1 arrays.  So:

* a product step is ``@`` between two non-scalar operands and ``*`` when either
  side is 1x1; ``@`` and ``*`` share one Python level and associate to the
  left, as matdiff's product chains do, so ``A @ x * s`` needs no brackets;
* dimensions are not in scope: ``np.eye(X.shape[0])``, read off a variable (or
  the direction ``dX``) that has the dimension; ValueError if none has it;
* a variable whose name Python cannot use as is (a keyword, a module alias
  such as ``np``) gets trailing underscores (``lambda_``, ``np_``);
  ``Diff(X)`` is the direction ``dX`` (``d_X`` when ``dX`` is a variable), and
  names bound inside never shadow a variable (:mod:`matdiff_cli.names`);
* ``names`` (definitions, shared subexpressions) are bound by lambdas,
  dependencies outermost: ``(lambda h1: A @ h1)(np.tanh(W1 @ x))``.  Beyond
  ``MAX_LAMBDAS`` names (Python limits bracket nesting to 200) they are bound
  flat with assignment expressions, ``(h1 := ..., h2 := ..., body)[-1]``;
* the SVD of a matrix that several nodes use (both singular vectors of X,
  U and V, the polar factor) is computed once, bound like a name after X:
  ``(lambda svd: ...)(np.linalg.svd(X, full_matrices=False))``;
* rules for 1x1 operands avoid calls that need a 2-D array (``tr(s)`` is
  ``s``, ``s^T`` is ``s``), so a scalar may be a float or a (1, 1) array.

Evaluate the code with one namespace, ``eval(code, {"np": np, **variables})``
(variables under their Python names, the reports' ``python_names``): the
lambdas it contains (names, operators, softmax) see globals only, and the code
calls no builtin (a variable may be called ``abs``).

Before it is written the tree is planned (:mod:`..plan`): products ordered
by their shapes (``np.linalg.multi_dot`` where the sizes decide), scalars on
the smallest operand, sums distributed over vectors, stable forms of
softplus, sigmoid, logsumexp and softmax; the rules then write ``inv(A) B``
as ``np.linalg.solve(A, B)``, ``diag(v) X`` as ``v * X``, ``tr(P Q)`` as
``np.sum(P * Q.T)`` and ``||r||^2`` as ``np.vdot(r, r)``.

Numerically, ``logdet(a)`` is ``log(sign) + log|det a|`` from ``slogdet``
(for a declared spd variable, twice the log-sum of its Cholesky diagonal):
finite where det overflows, NaN where ``det(a) < 0`` (-inf where it is 0),
outside the function's domain.
User functions ``f(t) := body`` are translated through SymPy (the body is
parsed by SymPy, see :mod:`matdiff_cli.usersym`); a constant body is
broadcast to its argument's shape.

The rules write through a :class:`~.targets.Target`, a small table of how NumPy,
``jax.numpy`` and PyTorch spell each operation, so ``matdiff code`` renders
the same tree for each library (never by editing NumPy text).

This module holds the entry points; :mod:`.base` the precedence levels, the
helpers and the table ``rule``; :mod:`.targets` the libraries; :mod:`.context`
the dimensions and names in scope; the rules by node family are in
:mod:`.algebra` and :mod:`.functions`, and each built-in's code in its block
of ``ops/`` (filed in the table by :mod:`.base`).
"""
from __future__ import annotations

from ...expr import SCALAR, Diff, Expr, Sym, nodes as node_list, walk
from ...ops.singular import THIN_SVD, THIN_SVD_NODES
from .. import Doc, flatten, render_dag
from . import algebra, functions  # noqa: F401  (their rules register on ``rule``)
from .base import call, rule
from .context import LazyDimensions, NumpyContext, naming_for
from .targets import Target

MAX_LAMBDAS = 40


# --------------------------------------------------------------------------- entry points

_plan = None

def planned(roots, names: dict, share: bool = False, common: bool = False):
    """(roots, names) rewritten for fast, stable code (:mod:`..plan`); the names
    follow their nodes."""
    global _plan
    if _plan is None:   # imported once, when first needed
        from ..plan import plan as _plan
    roots, new = _plan(roots, names, share, common)
    if not new:   # (most results) the plan left every node as it is
        return roots, dict(names), new
    out: dict = {}
    for k, v in names.items():
        out.setdefault(new.get(k, k), v)
    return roots, out, new


def to_numpy(expr: Expr, names: dict | None = None, bound=None, naming=None,
             target: Target | None = None, free=(), plan: bool = True) -> str:
    """A Python/NumPy expression for expr.

    ``names``: nodes written as names, bound inside the expression; ``bound``:
    extra symbols (``Sym`` or ``Diff`` nodes) in scope where the code runs,
    searched for dimensions after those of expr; ``naming``: the problem's
    :class:`matdiff_cli.names.Names` (else made from the names seen here);
    ``free``: nodes of names already bound where the code runs (not bound again);
    ``plan``: rewrite the tree for speed and stability first (False: it is).
    """
    if plan:
        (expr,), names, new = planned([expr], names or {})
        if free:
            free = {new.get(n, n) for n in free}
    elif names is None:
        names = {}
    nodes = node_list(expr)   # (kept from the plan's walk when the plan left expr as it is)
    if len(nodes) * BRACKETS_PER_NODE > MAX_BRACKETS:   # else no piece nests that deep
        names = dict(names)   # (the caller's is left as it is)
        _name_deep_pieces(nodes, names, expr)
    if naming is None:
        naming = naming_for(nodes, names, bound or ())
    dims = LazyDimensions(nodes, bound or (), naming)

    # (the kinds of nodes are looked at in C: most code takes no SVD)
    shared = shared_svds(nodes) if not _SVD_KINDS.isdisjoint(map(type, nodes)) else ()

    # one context writes the body, then each name, each after every name that uses
    # it: a piece and its Doc are written once, and a name's Doc is still its name
    # (not its code) wherever it is used
    cx = NumpyContext(names, dims, naming, target)
    cx.ordered = True
    if not shared and (not names or not any(map(names.__contains__, nodes))):
        # (most code: no name in the tree) the rules run down the list of its nodes,
        # children first, as render_dag would walk it
        return flatten(_render_all(nodes, cx))

    def write(root) -> str:
        return flatten(render_dag(root, rule, cx))

    if shared:
        return _bind(*_with_factorisations(shared, nodes, names, expr, free, cx, write))
    body = write(expr)
    used = [n for n in nodes if n in names and n is not expr and n not in free]
    if not used:
        return body
    py = naming.python
    return _bind([(py(names[n]), write(n)) for n in reversed(used)][::-1], body)


def _render_all(nodes: list, cx) -> Doc:
    """The Doc of the last node (the root): each node's rule once, in the order
    of the list (children first), as ``render_dag`` does for a tree with no names."""
    docs, table, dispatch = cx.docs, rule.cache, rule.dispatch
    for node in nodes:
        fn = table.get(type(node))
        docs[node] = (fn or dispatch(type(node)))(node, cx)
    return docs[nodes[-1]]


def _bind(binds, body: str) -> str:
    """body with the (name, code) pairs bound, in order (the first outermost)."""
    if not binds:
        return body
    if len(binds) > MAX_LAMBDAS:
        return "(" + ", ".join(f"{name} := {code}" for name, code in binds) + f", {body})[-1]"
    for name, code in reversed(binds):
        body = f"(lambda {name}: {body})({code})"
    return body


_SVD_KINDS = frozenset(THIN_SVD_NODES)   # (none has a subclass)


def shared_svds(nodes) -> list:
    """The matrices whose SVD two or more nodes take (both singular vectors of X)."""
    users: dict = {}
    for n in nodes:
        if isinstance(n, THIN_SVD_NODES) and n.a.shape != SCALAR:
            users[n.a] = users.get(n.a, 0) + 1
    return [x for x, k in users.items() if k > 1]


def _with_factorisations(shared, nodes, names, expr, free, cx, write):
    """(bindings, body) where the SVD of each shared matrix is computed once:
    bound after the matrix (and the names it uses), before the pieces using it.
    (A piece bound before that cannot use it: the matrix is inside each of its users.)"""
    fn, *options = THIN_SVD
    options = tuple(options)
    naming = cx.naming
    factored: dict = {}
    taken = {naming.python(v) for v in names.values()}
    for node in nodes:
        if node in shared:
            name = _unused(naming, fn.rsplit(".", 1)[-1], taken)
            factored[node] = name
            taken.add(name)
    cx.factored = {(fn, node, options): name for node, name in factored.items()}
    body = write(expr)
    binds = []
    for node in reversed(nodes):   # (as to_numpy: each name after the pieces using it)
        if node in shared:
            arg = cx.name_doc(node, names[node]) if node in names else render_dag(node, rule, cx)
            binds.append((factored[node], flatten(call(cx.lib.fn(fn), arg, *options))))
        if node in names and node is not expr and node not in free:
            binds.append((naming.python(names[node]), write(node)))
    return binds[::-1], body


def _unused(naming, base: str, taken) -> str:
    """base, base_2, base_3, ...: the first name neither the problem nor the code
    uses (naming is left as it is: the same code every time it is written)."""
    from ...names import AVOID

    name, k = base, 1
    while name in naming.taken or name in AVOID or name in taken:
        k += 1
        name = f"{base}_{k}"
    return name


# Python rejects code nested more than 200 brackets deep: a piece nested deeper than
# this many brackets is bound to a name of its own (_p1, _p2, ...), so the code for
# 90 nested sigmoids is a chain of short bindings, not 270 nested brackets.
MAX_BRACKETS = 96
BRACKETS_PER_NODE = 4    # at most this many brackets per node (sigmoid writes 3)


def _name_deep_pieces(nodes: list, names: dict, root: Expr) -> None:
    """Add names for pieces whose code would nest too deep (nodes: children first)."""
    depth: dict = {}
    k = 0
    for node in nodes:
        d = 0
        for c in node.children:
            if c not in names and depth[c] > d:
                d = depth[c]
        d += BRACKETS_PER_NODE
        if d > MAX_BRACKETS and node is not root:
            k += 1
            names[node] = f"_p{k}"
            d = 0
        depth[node] = d


def to_numpy_operator(expr: Expr, direction: Sym, names: dict | None = None, bound=None,
                      naming=None) -> str:
    """A linear operator L[dX] as ``lambda dX: ...`` (dX is ``Diff(direction)``)."""
    extra = [Diff(direction), direction] + list(bound or ())
    if naming is None:
        naming = naming_for(list(walk(expr)), names, extra)
    dname = naming.python(naming.direction(direction))
    return f"lambda {dname}: {to_numpy(expr, names, extra, naming)}"


__all__ = ["to_numpy", "to_numpy_operator", "planned"]
