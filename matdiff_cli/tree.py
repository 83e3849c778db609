"""The expression tree that ``shape`` draws: rows built without recursion, a
definition drawn in full where it is first read and by name after that, and
the whole bounded in depth and size (the rest elided with ``...``).  Written as
ASCII or Unicode guides (``tree_lines``) or as nested JSON objects
(``tree_json``)."""
from __future__ import annotations

from .expr import EPow, Expr, Func, Num, Power, Sym

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Iterator

# Trees are drawn at most this deep and this large; the rest is elided.
TREE_MAX_DEPTH = 40
TREE_MAX_NODES = 500


def _shape_json(shape) -> list:
    return [d if isinstance(d, int) else str(d) for d in shape]


def _shape_text(shape, times: str) -> str:
    return f"{shape[0]}{times}{shape[1]}"


class TreeNode:
    """One row of a drawn expression tree (built iteratively, never recursively)."""

    __slots__ = ("op", "label", "shape", "children", "fields")

    def __init__(self, op: str, label: str, shape, fields: dict | None = None):
        self.op = op
        self.label = label
        self.shape = shape
        self.children: list[TreeNode] = []
        self.fields = fields or {}


def _describe(node: Expr, names: dict, seen_defs: set) -> tuple[TreeNode, bool]:
    """The tree row for one node, and whether its children are to be drawn."""
    name = names.get(node)
    if name is not None and not isinstance(node, Sym):
        if name in seen_defs:
            return TreeNode("ref", name, node.shape, {"name": name}), False
        seen_defs.add(name)
        row, expand = _describe(node, {}, seen_defs)  # the node's own row: tanh, Mul, ...
        row.label = f"{name} = {row.label}"
        row.fields = {"definition": name, **row.fields}
        return row, expand
    op = type(node).__name__
    if isinstance(node, Sym):
        return TreeNode(op, node.name, node.shape, {"name": node.name}), False
    if isinstance(node, Num):
        v = node.value
        text = str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
        return TreeNode(op, text, node.shape, {"value": text}), False
    if isinstance(node, Func):
        return TreeNode(op, node.name, node.shape, {"name": node.name}), True
    if isinstance(node, (Power, EPow)):
        p = node.p
        text = str(p.numerator) if p.denominator == 1 else f"{p.numerator}/{p.denominator}"
        sign = "^" if isinstance(node, Power) else ".^"
        return TreeNode(op, f"{op} {sign}{text}", node.shape, {"p": text}), True
    if not node.children:  # Identity, Zeros, Ones, ...
        return TreeNode(op, op, node.shape), False
    return TreeNode(op, op, node.shape), True


def build_tree(
    expr: Expr, names: dict | None = None, max_depth: int = TREE_MAX_DEPTH,
    max_nodes: int = TREE_MAX_NODES,
) -> TreeNode:
    """The expression as a tree of rows, without recursion.

    A definition is drawn in full where it first appears and by name after
    that, so a DAG is never expanded; past ``max_depth`` levels or
    ``max_nodes`` rows the rest is elided with a ``...`` row.
    """
    names = names or {}
    seen_defs: set = set()
    root, expand = _describe(expr, names, seen_defs)
    count = 1
    # pre-order, so that a definition is drawn in full where it is first read
    stack = [(root, child, 1) for child in reversed(expr.children)] if expand else []
    while stack:
        parent, node, depth = stack.pop()
        if count >= max_nodes:  # elide what is left: one "..." under each parent
            for p in [parent] + [p for p, _, _ in reversed(stack)]:
                if not (p.children and p.children[-1].op == "..."):
                    p.children.append(TreeNode("...", "...", None, {"truncated": True}))
            break
        count += 1
        if depth > max_depth:
            parent.children.append(TreeNode("...", "...", None, {"truncated": True}))
            continue
        row, expand = _describe(node, names, seen_defs)
        parent.children.append(row)
        if expand:
            stack.extend((row, child, depth + 1) for child in reversed(node.children))
    return root


def tree_json(root: TreeNode) -> dict:
    """The tree as nested ``{"op", "shape", "children"}`` objects (iteratively)."""

    def one(t: TreeNode) -> dict:
        d: dict = {"op": t.op}
        d.update(t.fields)
        if t.shape is not None:
            d["shape"] = _shape_json(t.shape)
        return d

    out = one(root)
    stack = [(root, out)]
    while stack:
        t, d = stack.pop()
        if t.children:
            d["children"] = [one(c) for c in t.children]
            stack.extend(zip(t.children, d["children"]))
    return out


def tree_lines(root: TreeNode, times: str = " x ", ascii: bool = True) -> list[str]:
    """The tree drawn line by line: ``|-- `` and ``\\`-- `` guides (ASCII)."""
    tee, last, bar = ("|-- ", "`-- ", "|   ") if ascii else ("├── ", "└── ", "│   ")

    def label(t: TreeNode) -> str:
        return t.label if t.shape is None else f"{t.label}  {_shape_text(t.shape, times)}"

    lines = [label(root)]
    stack = [("", reversed_iter(root.children))]
    while stack:
        prefix, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            stack.pop()
            continue
        child, is_last = nxt
        lines.append(prefix + (last if is_last else tee) + label(child))
        if child.children:
            stack.append((prefix + ("    " if is_last else bar), reversed_iter(child.children)))
    return lines


def reversed_iter(children: list) -> Iterator[tuple[TreeNode, bool]]:
    n = len(children)
    return ((c, i == n - 1) for i, c in enumerate(children))
