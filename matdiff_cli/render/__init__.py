"""Renderers: one expression DAG -> text, pretty (Unicode / Rich), LaTeX, NumPy.

Every renderer is a table of small per-node rules (``functools.singledispatch``)
run by the one engine below, which owns the walk, the memo and the names:

* ``render_dag`` visits the DAG children-first with an explicit stack (no
  recursion, so a chain thousands of nodes deep is fine) and calls the rule of
  each distinct node once.  A rule returns a :class:`Doc`: a precedence level
  and a tuple of parts that are strings or the Docs of its children, so a
  shared child is rendered once and referenced, never re-rendered.
* ``flatten`` writes a Doc out with an explicit stack: the cost is linear in
  the length of the output.
* ``names`` maps nodes to names (definitions such as ``h1 = tanh(W1 x)``,
  shared subexpressions ``t1``).  A named node is printed as its name and not
  descended into -- except the root, which is always written out (a result is
  never just its own name).

Importing this package imports nothing heavy (``expr.__repr__`` uses the text
renderer).
"""
from __future__ import annotations

from ..expr import Diff, Expr


class Doc:
    """A rendered fragment.

    ``level``: how tightly it binds (renderer-specific scale, higher = tighter);
    ``parts``: strings, child Docs or :class:`Styled` strings;
    ``node``: the node it renders, ``None`` when it is a name;
    ``neg``: for a negation ``-body``, the Doc of ``body`` (so a sum can write
    ``a - body``); ``chain``: the node type whose syntactic chain this fragment
    is at its top level (``Add``, ``Mul``, ``Hadamard``), if any;
    ``bars``: whether the text contains ``||`` (norm delimiters), None until
    :func:`has_bars` works it out from the parts (few Docs are ever asked);
    ``text``: the plain text, joined as the Doc is made when its parts are
    strings, styled strings and Docs with a text and it is short (so ``flatten`` of a result,
    its differential and its pieces, which share Docs, joins each once), else
    None (a long text is written by ``flatten``: joining each level of a deep
    chain would copy its text once per level).
    """

    __slots__ = ("level", "parts", "node", "neg", "chain", "bars", "text")

    def __init__(self, level, parts, node=None, neg=None, chain=None, bars=None):
        self.level = level
        self.parts = parts = tuple(parts)
        self.node = node
        self.neg = neg
        self.chain = chain
        self.bars = bars
        text = ""
        try:
            for p in parts:   # a Doc's, a Styled's text; None when it has none
                text += p if type(p) is str else p.text
        except TypeError:   # (str + None: a part without a text)
            self.text = None
        else:
            self.text = text if len(text) <= MAX_JOINED else None


def has_bars(doc: Doc) -> bool:
    """Does doc's text contain ``||`` (a norm's delimiters)?  Worked out from
    the parts once per Doc (an explicit stack: a Doc may be deep)."""
    stack = [doc]
    while stack:
        d = stack[-1]
        if d.bars is not None:
            stack.pop()
            continue
        pending = [p for p in d.parts if type(p) is Doc and p.bars is None]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        d.bars = any(type(p) is Doc and p.bars for p in d.parts)
    return doc.bars


def as_node(d: Doc, node) -> Doc:
    """d as the Doc of node (a notation's spelling, which knows no node): its
    level, parts, text and bars, nothing joined again."""
    out = _new(Doc)
    out.level, out.parts, out.node, out.neg, out.chain = d.level, d.parts, node, None, None
    out.bars, out.text = d.bars, d.text
    return out


_new = object.__new__


def leaf(level, part, node=None) -> Doc:
    """``Doc(level, (part,), node)`` for one part, a str or a Styled (the Docs of
    symbols, numbers and names, a good share of all): made without the
    general constructor's call, tuple and join loop."""
    out = _new(Doc)
    out.level, out.parts, out.node = level, (part,), node
    out.neg = out.chain = out.bars = None
    text = part if type(part) is str else part.text
    out.text = text if len(text) <= MAX_JOINED else None
    return out


def joined(level, parts: tuple, text, node=None) -> Doc:
    """``Doc(level, parts, node)`` for parts whose joined text the caller has
    (None when a part has none), made as :func:`leaf` makes a Doc: for the
    small Docs a renderer makes several of per node (``a @ b``, ``f(x)``)."""
    out = _new(Doc)
    out.level, out.parts, out.node = level, parts, node
    out.neg = out.chain = out.bars = None
    out.text = text if text is not None and len(text) <= MAX_JOINED else None
    return out


#: the longest text a Doc joins as it is made (see ``Doc.text``)
MAX_JOINED = 160


class Styled:
    """A literal string with a Rich style (ignored by plain output)."""

    __slots__ = ("text", "style")

    def __init__(self, text: str, style: str):
        self.text = text
        self.style = style


class Deferred:
    """A part that raises when written: an error that matters only if used
    (e.g. a dimension that cannot be named, in a branch the output drops)."""

    __slots__ = ("error",)
    text = None   # (no text of its own: a Doc holding it joins none)

    def __init__(self, error: Exception):
        self.error = error


def _postorder(root: Expr, names: dict, done=()) -> list:
    """Distinct nodes of root, children first; named nodes are leaves; nodes in
    ``done`` (already rendered) are neither listed nor entered."""
    out, seen = [], set()
    append, add = out.append, seen.add
    stack = [(root, False)]
    pop, push = stack.pop, stack.append
    while stack:
        node, expanded = pop()
        if expanded:
            append(node)
            continue
        if node in seen or node in done:
            continue
        add(node)
        children = node.children
        if not children or (node is not root and node in names):   # a leaf here
            append(node)
            continue
        push((node, True))
        for c in reversed(children):
            if c not in seen:
                push((c, False))
    return out


class Context:
    """What a rule sees: ``cx[child]`` is the child's Doc; renderers subclass
    it to carry their settings (notation, dimension lookup...)."""

    #: ``docs`` is a memo shared by every rendering in this notation without names
    #: (a node's Doc is then a function of the node alone): render_dag neither
    #: renders nor enters a node it already holds
    shared = False

    def __init__(self, names: dict | None = None, docs: dict | None = None):
        self.names = names or {}
        if docs is None:
            self.docs: dict = {}
        else:   # a memo kept by the caller (see ``shared``)
            self.docs = docs
            self.shared = True
            #: the written-out Docs of named roots (in docs they stand for their
            #: names): the where lines of a result and of its differential share them
            self.written: dict = {}

    def __getitem__(self, node: Expr) -> Doc:
        return self.docs[node]

    def name_doc(self, node: Expr, name: str) -> Doc:  # pragma: no cover - overridden
        raise NotImplementedError


_CHILDREN_DONE = object()   # render_dag's mark on its stack (no (node, flag) pair per visit)


def render_dag(root: Expr, rule, cx: Context) -> Doc:
    """The Doc of root: ``rule(node, cx)`` once per distinct node, children first
    (the walk of ``_postorder``, each node rendered as it is reached).  A root
    that has a name is written out; in a shared memo its Doc is kept apart, in
    ``cx.written`` (in docs the node stands for its name)."""
    names = cx.names
    docs = cx.docs
    dispatch = getattr(rule, "dispatch", None)  # a singledispatch rule: look up once per type
    table = getattr(rule, "cache", None)   # (its own table, kept across walks)
    if table is None:
        table = {}   # (a rule without one, such as a wrapper: a table for this walk)
    shared = cx.shared
    named = root in names and type(root) is not Diff
    if shared:
        hit = (cx.written if named else docs).get(root)
        if hit is not None:
            return hit
    # a node in docs is rendered (in this walk, or before it in a shared memo): it is
    # neither rendered nor entered again.  A node being entered is not in docs yet,
    # but it is never reached again until it is rendered (no node is its own
    # descendant), so docs alone marks what is done (a context renders one root,
    # unless its memo is shared)
    stack = list(reversed(root.children))
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node is _CHILDREN_DONE:   # the node below it: its children are rendered
            node = pop()
        else:
            if node in docs:
                continue
            children = node.children
            if children and node not in names:   # not a leaf here
                push(node)
                push(_CHILDREN_DONE)
                for c in reversed(children):
                    if c not in docs:
                        push(c)
                continue
            if node in names:  # a named piece (or direction): its name
                docs[node] = cx.name_doc(node, names[node])
                continue
        if dispatch is None:
            docs[node] = rule(node, cx)
        else:
            cls = type(node)
            fn = table.get(cls)
            if fn is None:
                fn = table[cls] = dispatch(cls)
            docs[node] = fn(node, cx)
    if root in names and not named:   # a direction: its name
        doc = cx.name_doc(root, names[root])
    elif dispatch is None:
        doc = rule(root, cx)
    else:
        cls = type(root)
        doc = (table.get(cls) or dispatch(cls))(root, cx)
    if not named:
        docs[root] = doc
    elif shared:
        cx.written[root] = doc
    else:
        docs[root] = doc
    return doc


def _write(doc: Doc, emit) -> None:
    """Call emit(text, style) for each piece of doc in order (explicit stack)."""
    stack = [doc]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            emit(item, None)
        elif kind is Doc:
            push(reversed(item.parts))
        elif kind is Styled:
            emit(item.text, item.style)
        elif kind is Deferred:
            raise item.error
        else:  # pragma: no cover - a rule returned a bad part
            raise TypeError(f"bad Doc part {item!r}")


def segments(doc: Doc) -> list:
    """The (text, style) pieces of doc in order; style None for plain text."""
    out: list = []
    _write(doc, lambda text, style: out.append((text, style)))
    return out


def flatten(doc: Doc) -> str:
    """The plain text of doc (``_write`` unrolled: this is the hot loop)."""
    text = doc.text
    if text is not None:
        return text
    out: list = []
    append = out.append
    stack = [iter((doc,))]
    while stack:
        for item in stack[-1]:
            kind = type(item)
            if kind is str:
                append(item)
            elif kind is Doc:
                if item.text is not None:
                    append(item.text)
                    continue
                stack.append(iter(item.parts))
                break
            elif kind is Styled:
                append(item.text)
            else:
                _write(item, None)  # raises: Deferred or a bad part
        else:
            stack.pop()
    return "".join(out)


def paren(doc: Doc, level: int, open_: str = "(", close: str = ")") -> Doc:
    """doc in brackets, as a fragment of the given (tightest) level."""
    return Doc(level, (open_, doc, close))


def first_char(doc) -> str:
    """The first character doc writes (empty if none)."""
    if type(doc) is Doc and doc.text is not None:   # (most: a short text, joined)
        return doc.text[:1]
    item = doc
    for _ in range(10_000):
        if isinstance(item, str):
            if item:
                return item[0]
            return ""
        parts = getattr(item, "parts", None)
        if parts is None:
            return getattr(item, "text", "")[:1]
        if not parts:
            return ""
        item = parts[0]
    return ""


__all__ = ["Doc", "Styled", "Deferred", "Context", "render_dag", "flatten", "segments", "paren",
           "as_node", "has_bars", "first_char", "leaf", "joined"]
