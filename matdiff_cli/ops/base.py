"""What a declaration of an operation holds, and the live tables they fill.

Nothing here imports NumPy, SymPy or Rich: a declaration keeps its value,
its code and its SymPy form as callables that are handed the module when
they are used, so reading the declarations costs no start-up time.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Callable

#: built-in function name -> what it is, in words (for messages); live: a
#: declaration files itself here, so the parser reads what is declared
BUILTINS: dict[str, str] = {}
#: names a user cannot declare: the built-ins, ``I`` and ``T``
RESERVED: dict[str, str] = {"I": "the identity matrix", "T": "the transpose, as in x^T"}
#: elementwise function name -> its declaration
ELEMENTWISE: dict[str, "Elementwise"] = {}
#: another spelling -> the function it names, unless it is a variable (``σ(x)``)
ALIASES: dict[str, str] = {}


class Elementwise:
    """One elementwise scalar function f, applied entry by entry.

    ``derivative(f)`` is f'(u) built from the node ``f = Func(name, u)`` itself
    (so that shared values stay shared); ``identity`` states it for ``--steps``
    readers and the docs.  ``value(np, u)`` is its NumPy value; ``sympy(sp, u)``
    its SymPy form.  Code and LaTeX are templates: ``{a}`` is the argument
    (``{a:pow}`` when it must bind at least as tightly as a power), ``{m}`` the
    library's module name (``np``, ``jnp``, ``torch``).  (A plain class, not a
    dataclass: building one costs start-up time on every run.)
    """

    __slots__ = ("name", "derivative", "identity", "value", "sympy", "code", "torch",
                 "code_level", "latex", "pretty", "aliases", "sympy_class", "domain",
                 "undefined", "smooth", "description")

    def __init__(self, name: str, derivative: Callable, identity: str, *, value: Callable,
                 sympy: Callable,
                 code: str = "",                  # NumPy and JAX; default ``{m}.name({a})``
                 torch: str | None = None,        # PyTorch, when it differs from ``code``
                 code_level: str = "atom",        # precedence of the code's outermost operator
                 latex: str | None = None,        # a function name (``\\exp``), or a template
                 pretty: str | None = None,       # the name in pretty output (``σ``)
                 aliases: tuple = (),             # other spellings read as this function
                 sympy_class: str | None = None,  # the SymPy function written back as this one
                 domain: str | None = None,       # "positive": sampled inputs made positive
                 undefined: str | None = None,    # why a value is not finite, in words
                 smooth: bool = True,             # False: its derivative jumps (relu, abs)
                 description: str = "an elementwise function"):
        self.name, self.derivative, self.identity = name, derivative, identity
        self.value, self.sympy, self.code, self.torch = value, sympy, code, torch
        self.code_level, self.latex, self.pretty, self.aliases = code_level, latex, pretty, aliases
        self.sympy_class, self.domain, self.undefined = sympy_class, domain, undefined
        self.smooth, self.description = smooth, description

    def __repr__(self):
        return f"<Elementwise {self.name}>"

    def code_for(self, target: str) -> str:
        if target == "torch" and self.torch is not None:
            return self.torch
        return self.code or "{m}." + self.name + "({a})"


def template_parts(template: str) -> list:
    """A template split into literal text and argument slots: ``"{a}"`` or
    ``"{a:pow}"`` (``{a`` and a word after a colon) stay as they are, literals
    come out as strings."""
    parts, start = [], 0
    at = template.find("{a")
    while at >= 0:
        end = _slot_end(template, at)
        if end < 0:
            at = template.find("{a", at + 1)
            continue
        parts += (template[start:at], template[at:end])
        start = end
        at = template.find("{a", end)
    parts.append(template[start:])
    return [p for p in parts if p]


def _slot_end(template: str, at: int) -> int:
    """Where the slot ``{a}`` or ``{a:word}`` that starts at ``at`` ends; -1 if none does."""
    i = at + 2
    if template[i:i + 1] == "}":
        return i + 1
    if template[i:i + 1] != ":":
        return -1
    j = i + 1
    while j < len(template) and (template[j].isalnum() or template[j] == "_"):
        j += 1
    return j + 1 if j > i + 1 and template[j:j + 1] == "}" else -1


def declare(op: Elementwise) -> Elementwise:
    """File a declaration in the live tables (parser, engine, renderers read them)."""
    if op.name in BUILTINS or op.name in RESERVED:
        raise ValueError(f"{op.name!r} is already declared")
    ELEMENTWISE[op.name] = op
    BUILTINS[op.name] = op.description
    RESERVED[op.name] = op.description
    for alias in op.aliases:
        ALIASES[alias] = op.name
    return op


def withdraw(name: str) -> None:
    """Remove an elementwise function's declaration (the inverse of ``declare``)."""
    op = ELEMENTWISE.pop(name)
    BUILTINS.pop(name, None)
    RESERVED.pop(name, None)
    for alias in op.aliases:
        ALIASES.pop(alias, None)


class Builtin:
    """A built-in that is not elementwise, with every rule of the node types it
    builds (their classes are in ``expr/``): the one place each is written.

    ``shape``: the name of its shape rule (``"square -> scalar"``; each is
    inferred once, in ``shapes.SHAPE_RULES``); ``noun`` the operation in its
    error messages ("the trace needs a square matrix"); ``call``: the text
    renderers write the node as ``name(arg)``; ``latex``, ``pretty``: the
    function's name there when it differs.

    The rules, each read by one layer, which hands it its tools after its own
    arguments (the library module, or the layer's own module ``k`` of helpers):

    * ``differential(e, d)``: its differential from its children's, filed as
      ``rule_name`` with ``identity`` (one string, one per node type, or cases
      chosen by ``case(node)``), as ``differentials.rule`` does;
    * ``value(node, args, ev, np)``: its NumPy value; ``acceptable(node, a,
      max_cond, np)``: whether a sampled argument ``a`` is one where it is
      differentiable (else the point is drawn again);
    * ``text(node, cx, k)``: its text / pretty / LaTeX form when it is not a
      call ``name(a)`` (``k``: ``render.text``);
    * ``code(node, cx, k)``: its NumPy / JAX / PyTorch code (``k``:
      ``render.numpy.base``);
    * ``sympy(node, kids, sp, k)``: its SymPy form (``k``: ``sympy_bridge``);
      None: SymPy's matrix expressions cannot write it;
    * ``adjoint(e, G, dep, k)``, ``vec(e, J, dep, k)``: where the node is linear
      in its argument, the gradient's and the Jacobian's read-off
      (``k``: ``readoff.adjoint``, ``readoff.vec``).

    Nothing here is imported or run until a layer needs it.  (A plain class,
    not a dataclass: building one costs start-up time on every run.)"""

    __slots__ = ("name", "description", "nodes", "shape", "arity", "noun", "call", "latex",
                 "pretty", "differential", "rule_name", "identity", "case", "value",
                 "acceptable", "text", "code", "sympy", "adjoint", "vec")

    def __init__(self, name: str, description: str, nodes: tuple, shape: str,
                 arity: tuple = (1, 1), noun: str | None = None, call: bool = False,
                 latex: str | None = None, pretty: str | None = None, *,
                 differential: Callable | None = None, rule_name: str | None = None,
                 identity=None, case: Callable | None = None, value: Callable | None = None,
                 acceptable: Callable | None = None, text: Callable | None = None,
                 code: Callable | None = None, sympy: Callable | None = None,
                 adjoint: Callable | None = None, vec: Callable | None = None):
        self.name, self.description, self.nodes, self.shape = name, description, nodes, shape
        self.arity, self.noun, self.call = arity, noun or name, call
        self.latex, self.pretty = latex, pretty
        self.differential, self.rule_name, self.identity = differential, rule_name, identity
        self.case, self.value, self.acceptable, self.text = case, value, acceptable, text
        self.code, self.sympy, self.adjoint, self.vec = code, sympy, adjoint, vec

    def __repr__(self):
        return f"<Builtin {self.name}>"


#: the families loaded on first need, and the built-ins each declares: the parser
#: knows their names from here, a family's blocks are read when one of them is used
#: (``linalg`` and ``elementwise``, the rules of nearly every derivative, are loaded
#: with the package); tests/test_ops.py checks this list against the blocks
LAZY_FAMILIES = {
    "reductions": ("norm", "norm2", "norm1", "norm_inf", "onehot_max", "softmax", "logsumexp"),
    "eigen": ("lambda_max", "lambda_min", "eigvec_max", "eigvec_min", "leftvec_max",
              "leftvec_min", "eigvals", "eigvecs"),
    "singular": ("pinv", "sigma_max", "svec_left_max", "svec_right_max", "svdvals", "svd_u",
                 "svd_v", "norm_nuc", "polar"),
}
_LOADED: set = set()
#: the layers' filers: each files the declared rules of the loaded families in its table
_FILERS: list = []


class Later:
    """The description of a built-in whose family is not loaded yet: written (in a
    message), it loads the family and is the declared words."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __str__(self):
        load_all()
        return str(BUILTINS[self.name])

    def __format__(self, spec):
        return format(str(self), spec)


class Declarations(dict):
    """built-in name -> its declaration; a name of a family not loaded yet loads
    it (``d[name]``, ``get``); walking the whole table loads every family."""

    def __missing__(self, name):
        if isinstance(BUILTINS.get(name), Later):
            load_all()
            return dict.__getitem__(self, name)
        raise KeyError(name)

    def get(self, name, default=None):
        op = dict.get(self, name)
        if op is None and isinstance(BUILTINS.get(name), Later):
            load_all()
            op = dict.get(self, name)
        return default if op is None else op

    def __contains__(self, name):
        return dict.__contains__(self, name) or isinstance(BUILTINS.get(name), Later)


def _every_family_first(method):
    def walk(self):
        load_all()
        return method(self)
    return walk


for _name in ("__iter__", "__len__", "keys", "values", "items"):
    setattr(Declarations, _name, _every_family_first(getattr(dict, _name)))


#: built-in (not elementwise) name -> its declaration
STRUCTURE: dict = Declarations()


def announce(family: str) -> None:
    """File the names of a family loaded on first need, for the parser."""
    for name in LAZY_FAMILIES[family]:
        BUILTINS[name] = RESERVED[name] = Later(name)


def all_loaded() -> bool:
    return len(_LOADED) == len(LAZY_FAMILIES)


def load_all() -> None:
    """Import every family not loaded yet; then each layer files their rules."""
    if all_loaded():
        return
    for family in LAZY_FAMILIES:
        if family not in _LOADED:
            _LOADED.add(family)
            __import__(f"{__package__}.{family}")
    for filer in _FILERS:
        filer()


def filing(filer):
    """A layer's ``filer()``, which files the declared rules of the loaded
    families in its table: run now, and again whenever families load."""
    _FILERS.append(filer)
    filer()
    return filer


def declare_builtin(op: Builtin) -> Builtin:
    """File a built-in that is not elementwise (its family module calls this as
    it is imported; a family loaded on first need replaces its names' ``Later``)."""
    if op.name in RESERVED and not isinstance(RESERVED[op.name], Later) or op.name in ELEMENTWISE:
        raise ValueError(f"{op.name!r} is already declared")
    dict.__setitem__(STRUCTURE, op.name, op)
    BUILTINS[op.name] = op.description
    RESERVED[op.name] = op.description
    return op


def declared(rule: str):
    """(node type name, declaration, its ``rule``) for every node type a built-in of
    the loaded families declares with that rule: what a layer's filer files."""
    return [(node, op, getattr(op, rule)) for op in dict.values(STRUCTURE)
            if getattr(op, rule) is not None for node in op.nodes]


def file_declared(rule: str, file, tool) -> None:
    """A layer's filing of the declared ``rule``s: ``file(node type, fn)``, where
    ``fn`` takes the layer's arguments and hands the rule them and ``tool`` (now,
    and again as families load)."""
    def filer():
        from .. import expr

        for node, _, fn in declared(rule):
            file(getattr(expr, node), _handing(fn, tool))
    filing(filer)


def _handing(fn, tool):
    def rule_(*args):
        return fn(*args, tool)
    rule_.declared = fn   # the rule as its block declares it
    return rule_


def arity(name: str) -> tuple:
    """(fewest, most) arguments of a built-in."""
    op = STRUCTURE.get(name)
    return op.arity if op is not None else (1, 1)


def latex_name(name: str) -> str | None:
    """The LaTeX operator of a built-in (``\\det``), None when it has none of its own."""
    op = STRUCTURE.get(name) or ELEMENTWISE.get(name)
    if op is None or op.latex is None or "{a}" in op.latex:
        return None
    return op.latex
