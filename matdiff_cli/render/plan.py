"""How generated code computes an expression: the tree rewritten for speed and
numerical safety before the NumPy/PyTorch/JAX rules write it.

Every rewrite keeps the value (exactly, or up to rounding) and the result is
still one expression tree of :mod:`matdiff_cli.expr` nodes:

* a product chain is put in the order its shapes make cheapest (:mod:`.chains`).
  The sizes are symbolic, so the order is chosen for every assignment of small (3) and
  large (1000) sizes to the dimensions: an order that is optimal for all is
  kept as nested binary products (``A.T @ (A @ x)``); when the best order
  depends on the sizes, the chain stays flat and is written
  ``np.linalg.multi_dot([...])``, which orders it at run time;
* the scalar factors of a product go on its smallest operand, or on the
  result (``A.T @ r * 2``, never ``(2 * A.T) @ r``), looking through
  elementwise products (``2 (g .* (A r)) B`` is ``g .* (A (2 r)) B`` when r
  is the smallest piece); a number every term of a sum has multiplies once
  (``2 a + 2 b`` is ``2 (a + b)``), and a scaled factor's number joins its
  product's scalars;
* ``tr(A B ... C)`` is ``sum((A B ...) .* C^T)``: the last product is never formed;
* a sum of matrices times a vector is distributed: ``(A + A.T) x`` is
  ``A x + A.T x`` (no n x n temporary);
* ``log(1 + exp(z))`` is ``softplus(z)`` (``logaddexp``), ``exp(z) ./ (1 +
  exp(z))`` is ``sigmoid(z)``, ``log(sum(exp(u)))`` is ``logsumexp(u)`` and
  ``exp(u) / sum(exp(u))`` is ``softmax(u)``: forms the rules write without
  overflow.

``names`` (definitions, shared pieces) are opaque: a rewrite never looks
into a named node, so a name keeps meaning what it was bound to.
"""
from __future__ import annotations

from ..expr import (
    SCALAR, Add, Broadcast, DiagM, Diff, Div, EDiv, EPow, Func, Hadamard, LogSumExp, Mul,
    Num, Power, ShapeMismatch, Softmax, Sum, Sym, Trace, Transpose, nodes, walk,
)
from .chains import (
    MAX_PLANNED, _attach, _cheapest, _dims, _order, _ordered, _size, grid,
)


def plan(roots, names=(), share: bool = False, common: bool = False):
    """(new roots, {old node: new node}; a node the plan leaves as it is may be
    missing).  ``share``: repeated pieces will be
    computed once by the caller, so a rewrite may use a vector twice;
    ``common`` (with share): a run of factors that several chains have in
    common (``X^-1 dX X^-1`` in three terms of a Hessian) is multiplied once."""
    everything = nodes(roots[0]) if len(roots) == 1 else list(walk(*roots))
    if _REWRITTEN.isdisjoint(map(type, everything)):
        return list(roots), {}   # no node a rewrite acts on (the kinds looked at in C)
    chains: list | None = [] if share and common else None
    out, new = _pass(roots, set(names), share, None, chains)
    if share:
        # again, the first root (the value) reusing the products the others
        # (the derivatives, planned as before) made: x^T A x uses the A^T x
        # of the gradient A x + A^T x; and every chain its runs shared with others
        known = {n for r in out[1:] for n in walk(r)
                 if isinstance(n, Mul) and len(n.factors) == 2 and _ordered(n)}
        runs = _shared_runs(chains) if chains else None
        if len(roots) > 1 or runs:
            out, new = _pass(roots, set(names), share,
                             [known] + [None] * (len(roots) - 1), None, runs)
    return out, new


def _pass(roots, named, share, known_by_root, chains=None, runs=None):
    new: dict = {}   # (a leaf is itself: not kept, read as itself)
    get = new.get
    opaque: set = set()  # the named nodes as rewritten: the scalar never goes inside one
    for i, root in enumerate(roots):
        known = known_by_root[i] if known_by_root else None
        # (nodes: the list is kept, so the writer's walk of a root the plan leaves
        # as it is costs nothing)
        for node in nodes(root):
            children = node.children
            if not children:   # a leaf (half the nodes): itself
                if node in named:
                    opaque.add(node)
                continue
            if node in new:
                continue
            kids = tuple(map(get, children, children))   # (each child rewritten, or itself)
            out = node if kids == children else node.rebuild(kids)
            if type(node) in _REWRITTEN:
                out = _rewrite(out, node, named, share, known, chains, runs, opaque)
            # (else a kind no rewrite changes, most nodes: no look at its children)
            new[node] = out
            if node in named:
                opaque.add(out)
    return [get(r, r) for r in roots], new


#: the node types _rewrite may change (none has a subclass)
_REWRITTEN = frozenset({Func, EDiv, Div, Mul, Add, Power, Trace})


def _open(n) -> bool:
    return True


def _rewrite(node, old, named, share, known=None, chains=None, runs=None, opaque=()):
    # open_(child): whether a rewrite may look into the child (not a named one)
    hidden = ({id(n) for n, o in zip(node.children, old.children) if o in named}
              if named and not named.isdisjoint(old.children) else ())
    open_ = (lambda n: id(n) not in hidden) if hidden else _open
    kind = type(node)   # (the kinds of _REWRITTEN have no subclasses)
    try:
        if kind is Mul:
            return _product(node, open_, share, known, chains, runs, opaque)
        if kind is Add:
            return _factor(node, open_)
        if kind is Func and len(node.args) == 2:
            return _stable_func(node, open_)
        if kind is EDiv or kind is Div:
            return _stable_div(node, open_)
        if kind is Power and isinstance(node.base, DiagM) and open_(node.base):
            return DiagM(EPow(node.base.a, node.p))  # diag(v)^p = diag(v.^p)
        if kind is Trace and isinstance(node.a, Mul) and open_(node.a):
            f = node.a.factors  # tr(A B C) = sum((A B) .* C^T): no last product
            if len(f) >= 3 and _ordered(node.a):
                return Trace(Mul(_order(list(f[:-1])), f[-1]))
    except ShapeMismatch:  # pragma: no cover - a rewrite never changes a shape
        return node
    return node


# ------------------------------------------------------------------ stable forms

def _is_one(e) -> bool:
    if isinstance(e, Broadcast):
        e = e.args[0]
    return isinstance(e, Num) and e.value == 1


def _exp_arg(e):
    if isinstance(e, Func) and e.name == "exp" and len(e.args) == 2:
        return e.arg
    return None


def _one_plus_exp(e, open_):
    """z when e is ``1 + exp(z)`` (either order), else None."""
    if not (isinstance(e, Add) and len(e.terms) == 2 and open_(e)):
        return None
    a, b = e.terms
    if _is_one(a) and _exp_arg(b) is not None:
        return _exp_arg(b)
    if _is_one(b) and _exp_arg(a) is not None:
        return _exp_arg(a)
    return None


def _stable_func(node, open_):
    a = node.arg
    if node.name == "log" and open_(a):
        z = _one_plus_exp(a, lambda n: True)
        if z is not None:
            return Func("softplus", z)
        if isinstance(a, Sum) and _exp_arg(a.a) is not None and a.a.arg.shape[1] == 1 \
                and a.a.arg.shape != SCALAR:
            return LogSumExp(a.a.arg)
    return node


def _stable_div(node, open_):
    num, den = node.args
    if not open_(den):
        return node
    z = _one_plus_exp(den, open_)
    if z is not None and num.shape == den.shape:
        if _exp_arg(num) is z:
            return Func("sigmoid", z)
        if isinstance(num, Hadamard) and open_(num):
            rest = list(num.factors)
            for i, f in enumerate(rest):
                if _exp_arg(f) is z:
                    rest[i] = Func("sigmoid", z)
                    return Hadamard(*rest)
    if (isinstance(num, EPow) and isinstance(den, EPow) and num.p == den.p
            and open_(num) and open_(den)):
        z = _one_plus_exp(den.base, open_)
        if z is not None and _exp_arg(num.base) is z:  # (exp z)^p ./ (1 + exp z)^p
            return EPow(Func("sigmoid", z), num.p)
    if isinstance(node, Div) and isinstance(den, Sum) and _exp_arg(den.a) is not None:
        u = den.a.arg
        if _exp_arg(num) is u and u.shape[1] == 1 and u.shape != SCALAR:
            return Softmax(u)
    return node


# ------------------------------------------------------------------ products

def _cheap(e) -> bool:
    while isinstance(e, Transpose):
        e = e.a
    return isinstance(e, (Sym, Diff, Num))


#: the factors a rewrite of a product looks into (to scale, distribute, or put a scalar in)
_INNER = frozenset({Mul, Add, Hadamard})


def _product(node, open_, share, known=None, chains=None, runs=None, opaque=()):
    two = node.factors
    if (len(two) == 2 and chains is None and two[1].shape != SCALAR
            and _INNER.isdisjoint((type(two[0]), type(two[1])))):
        return node   # (most products) nothing to reorder, scale, distribute or move
    scalars, mats = [], []
    for f in node.factors:
        (scalars if f.shape == SCALAR else mats).append(f)
    if not mats:
        return node
    for i, f in enumerate(mats):  # (2 A) B: the number joins the product's scalars
        if type(f) is Mul:   # (only a product is scaled)
            c, rest = _scaled(f)
            if c != 1 and open_(f):
                mats[i] = rest
                scalars.append(Num(c))
    if chains is not None and 2 <= len(mats) <= MAX_PLANNED:
        chains.append(tuple(mats))
    if runs and 2 <= len(mats) <= 8:
        mats = _reuse_runs(mats, runs)
    if known and 2 < len(mats) <= 8:
        mats = _reuse(mats, known)
    mats = _distribute(mats, open_, share)
    if len(mats) == 1:
        tree = mats[0]
    else:
        tree = _order(mats)
    if not scalars:
        return tree
    coef = scalars[0] if len(scalars) == 1 else Mul(*scalars)
    return _attach(tree, coef, opaque)


def _flip(f):
    return f.a if isinstance(f, Transpose) else Transpose(f)


def _reuse(mats, known):
    """Runs of the chain that are products computed elsewhere (or their
    transposes: ``x^T A^T`` is ``(A x)^T``) become those products."""
    for length in range(len(mats) - 1, 1, -1):
        i = 0
        while i + length <= len(mats):
            run = mats[i:i + length]
            hit = _order(run)
            if hit not in known:
                hit = _order([_flip(f) for f in reversed(run)])
                hit = Transpose(hit) if hit in known else None
            if hit is not None and len(mats) - length + 1 >= 1:
                mats = mats[:i] + [hit] + mats[i + length:]
            i += 1
    return mats


def _sym_flip(f):
    """f^T, as f itself when f is symmetric by its form."""
    from ..build import symmetric

    if f.shape[0] == f.shape[1] and symmetric(f):
        return f
    return _flip(f)


def _shared_runs(chains):
    """{run: (its canonical run, flipped)} for every run of two or more
    factors that two or more distinct chains contain, as it is or transposed
    (``X^-1 S`` in one chain is ``(S X^-1)^T`` in another when both are
    symmetric).  The canonical run is the orientation seen first."""
    canon: dict = {}   # run -> (canonical run, flipped)
    holders: dict = {}  # canonical run -> the chains that hold it
    for k, chain in enumerate(dict.fromkeys(chains)):
        for length in range(2, len(chain) + 1):
            for i in range(len(chain) - length + 1):
                run = chain[i:i + length]
                if run not in canon:
                    back = tuple(_sym_flip(f) for f in reversed(run))
                    canon[run] = canon[back] if back in canon else (run, False)
                    if back not in canon:
                        canon[back] = (run, True)
                holders.setdefault(canon[run][0], set()).add(k)
    out = {}
    for run, (c, flipped) in canon.items():
        held = len(holders.get(c, ()))
        if held >= 2:
            out[run] = (c, flipped, (held, len(run)))
    return out


def _reuse_runs(mats, runs):
    """Runs of the chain (shorter than it) that other chains share become one
    product (ordered as everywhere, so it is the same node), or the transpose
    of the shared one, where that costs the chain nothing over its best order:
    first the run most chains share (``X^-1 dX X^-1`` in three terms),
    the longest of those, then again in what is left."""
    while len(mats) >= 2:
        best = None
        for length in range(len(mats) - 1, 1, -1):  # a whole chain is shared by CSE
            for i in range(len(mats) - length + 1):
                run = mats[i:i + length]
                if any(isinstance(f, Add) for f in run):
                    continue  # a sum times a vector is distributed instead
                hit = runs.get(tuple(run))
                if (hit is not None and (best is None or hit[2] > best[0][2])
                        and _free_to_share(mats, i, length)):
                    best = (hit, i, length)
        if best is None:
            break
        (run, flipped, _), i, length = best
        node = _order(list(run))
        mats = mats[:i] + [Transpose(node) if flipped else node] + mats[i + length:]
    return mats


def _free_to_share(mats, i, length) -> bool:
    """Multiplying mats[i:i+length] first costs this chain nothing over its
    best order, for every assignment of small and large sizes (a shared
    ``W2 W1`` must not turn ``W1^T W2^T r`` into a matrix product)."""
    every = _dims([m.shape for m in mats])
    for a in grid(every):
        r = [_size(m.shape[0], a) for m in mats]
        c = [_size(m.shape[1], a) for m in mats]

        def best(r, c):
            return _cheapest(r, c)[1] if len(r) > 1 else 0
        whole = best(r, c)
        inner = best(r[i:i + length], c[i:i + length])
        outer = best(r[:i] + [r[i]] + r[i + length:], c[:i] + [c[i + length - 1]] + c[i + length:])
        if inner + outer > 1.1 * whole:
            return False
    return True


def _distribute(mats, open_, share):
    """``(A + B) v`` -> ``A v + B v`` and ``r (A + B)`` -> ``r A + r B`` for a
    vector v (r) that is cheap or will be shared."""
    if len(mats) < 2:
        return mats
    last, first = mats[-1], mats[0]
    s = mats[-2]
    if (last.shape[1] == 1 and isinstance(s, Add) and open_(s) and (share or _cheap(last))
            and all(t.shape != SCALAR for t in s.terms)):
        terms = [_chain(_factors(t) + [last]) for t in s.terms]
        return mats[:-2] + [Add(*terms)]
    s = mats[1]
    if (first.shape[0] == 1 and len(mats) == 2 and isinstance(s, Add) and open_(s)
            and (share or _cheap(first)) and all(t.shape != SCALAR for t in s.terms)):
        return [Add(*[_chain([first] + _factors(t)) for t in s.terms])]
    return mats


def _split_term(t):
    """(scalar coefficient or None, L, R) of a term that is a planned product
    L R of two non-scalars (maybe times a scalar), else None."""
    coef = None
    if isinstance(t, Mul) and not _ordered(t):
        scalars = [f for f in t.factors if f.shape == SCALAR]
        mats = [f for f in t.factors if f.shape != SCALAR]
        if len(mats) != 1:
            return None
        coef = scalars[0] if len(scalars) == 1 else Mul(*scalars)
        t = mats[0]
    if isinstance(t, Mul) and len(t.factors) == 2 and _ordered(t):
        return coef, t.factors[0], t.factors[1]
    return None


def _scaled(t):
    """(number, rest): t as a number times the rest."""
    if (isinstance(t, Mul) and len(t.factors) == 2 and isinstance(t.factors[0], Num)
            and t.factors[1].shape != SCALAR):
        return t.factors[0].value, t.factors[1]
    return 1, t


def _times(c, t):
    return t if c == 1 else Mul(Num(c), t)


def _flat(terms):
    """The terms with every sum among them (maybe times a number) spread out:
    (number, term) pairs."""
    out = []
    for t in terms:
        c, r = _scaled(t)
        if isinstance(r, Add):
            out.extend((c * c2, r2) for c2, r2 in _flat(r.terms))
        else:
            out.append((c, r))
    return out


def _factor_hadamard(node, open_):
    """``c1 (g .* a) + c2 (g .* b .* e)`` -> ``c1 (g .* (a + c2/c1 b .* e))``:
    an elementwise factor the terms share (also inside a term that is a
    number times a sum) is multiplied once, and what is left is one sum the
    product rules see whole.  Fewer elementwise passes, never more."""
    pieces = _flat([t for t in node.terms if open_(t)])
    kept = [t for t in node.terms if not open_(t)]
    counts: dict = {}
    for i, (_, r) in enumerate(pieces):
        if isinstance(r, Hadamard):
            for f in dict.fromkeys(r.factors):
                if f.shape != SCALAR and not isinstance(f, (Num, Broadcast)):
                    counts.setdefault(f, []).append(i)
    group = max((g for g in counts.values() if len(g) >= 2), key=len, default=None)
    if group is None:
        return node
    g = next(f for f, v in counts.items() if v is group)
    # the smallest coefficient outside, the parts in one order: the sum is the
    # same node wherever these terms meet (a value and its gradient share it)
    base = min((pieces[i][0] for i in group), key=lambda c: (abs(c), c < 0))
    parts = []
    for i in group:
        c, r = pieces[i]
        rest = list(r.factors)
        rest.remove(g)
        parts.append(_times(c / base, rest[0] if len(rest) == 1 else Hadamard(*rest)))
    from ..simplify import sort_key

    spread = sorted((_times(c, r) for c, r in _flat(parts)), key=sort_key)
    inner = _factor(Add(*spread), lambda n: True) if len(spread) >= 2 else spread[0]
    merged = _times(base, Hadamard(g, inner))
    rest = kept + [_times(c, r) for i, (c, r) in enumerate(pieces) if i not in group]
    if not rest:
        return merged
    return _factor(Add(*rest, merged), lambda n: True)


def _factor(node, open_):
    """``L1 R + L2 R`` -> ``(L1 + L2) R`` (and ``L R1 + L R2`` -> ``L (R1 +
    R2)``): one product instead of several.  Not over a vector R (a sum of
    matrices times a vector is distributed instead, see :func:`_distribute`).
    A number every term has is taken out first (``2 a + 2 b`` -> ``2 (a +
    b)``: one scaling, and the sum is the node another root may share), then
    a shared elementwise factor (:func:`_factor_hadamard`)."""
    if not _may_factor(node.terms):
        return node   # (most sums: nothing to take out)
    terms = [_scaled(t) for t in node.terms]
    c = terms[0][0]
    if c != 1 and all(k == c for k, _ in terms) and all(open_(t) for t in node.terms):
        return Mul(Num(c), _factor(Add(*[r for _, r in terms]), lambda n: True))
    node = _factor_hadamard(node, open_)
    if not isinstance(node, Add):
        return node
    terms = list(node.terms)
    split = [(_split_term(t) if open_(t) else None) for t in terms]
    for side in (2, 1):  # a shared right factor, then a shared left one
        groups: dict = {}
        for i, sp in enumerate(split):
            if sp is None:
                continue
            shared = sp[side]
            if (shared.shape[1] if side == 2 else shared.shape[0]) == 1:
                continue
            groups.setdefault(shared, []).append(i)
        group = next((g for g in groups.values() if len(g) >= 2), None)
        if group is None:
            continue
        shared = split[group[0]][side]
        parts = []
        for i in group:
            coef, left, right = split[i]
            other = left if side == 2 else right
            parts.append(other if coef is None else Mul(coef, other))
        inner = _factor(Add(*parts), lambda n: True)
        merged = Mul(inner, shared) if side == 2 else Mul(shared, inner)
        rest = [t for i, t in enumerate(terms) if i not in group]
        if not rest:
            return merged
        return _factor(Add(*rest, merged), lambda n: True)
    return node


#: the terms _factor may take something out of
_COMPOUND = frozenset({Mul, Hadamard, Add})


def _may_factor(terms) -> bool:
    """Whether :func:`_factor` may take anything out: a number, an elementwise
    factor or a product's factor takes two terms that are products or sums,
    or one term that spreads into several (a sum, maybe times a number)."""
    k = 0
    for t in terms:
        kind = type(t)
        if kind in _COMPOUND:
            if kind is Add or (kind is Mul and type(_scaled(t)[1]) is Add):
                return True
            k += 1
    return k >= 2


def _factors(t):
    return list(t.factors) if isinstance(t, Mul) else [t]


def _chain(factors):
    return _product(Mul(*factors), lambda n: True, False)


__all__ = ["plan"]
