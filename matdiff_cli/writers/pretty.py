"""Pretty: every report kind printed with Rich on a console (Rich is imported
here only, when this format is used).

One function per report kind; ``WRITERS`` maps each report class (by name,
so that nothing here is imported before it is used) to its function, and
``matdiff_cli.writers.write`` picks it by the report's class and its bases.
"""
from __future__ import annotations


def default(r, console) -> None:
    """A report kind with nothing of its own to print: its plain text."""
    from rich.text import Text

    console.print(Text(r.to_text()))


def diagnostic(r, console) -> None:
    from rich.text import Text

    from ..render.pretty import hanging

    lines = r.to_text().split("\n")
    carets = {i for i, line in enumerate(lines)
              if line.strip() and set(line.strip()) <= set("^~")}
    for i, line in enumerate(lines):
        if i in carets or i + 1 in carets:
            # the source and its caret line are never re-wrapped: the caret
            # must stay under what it points at (only the caret is red)
            console.print(Text(line, style="bold red" if i in carets else ""),
                          soft_wrap=True)
        elif i == 0 and line.startswith(r.prefix + ":"):
            console.print(hanging(Text(r.prefix + ": ", style="bold red"),
                                  Text(line[len(r.prefix) + 2:])))
        elif line.startswith("hint: "):
            console.print(hanging(Text("hint: ", style="bold cyan"), Text(line[6:])))
        else:
            console.print(Text(line), soft_wrap=i > 0)


def shape(r, console) -> None:
    from ..report import describe_shape, shape_text
    from ..tree import TreeNode
    from rich import box
    from rich.table import Table
    from rich.text import Text
    from rich.tree import Tree
    from ..render.pretty import hanging, to_rich_text

    shape = r.expr.shape
    head = to_rich_text(r.expr, names=r.top)
    head.append("    ")
    console.print(hanging(head, Text(describe_shape(shape), style="bold green")))

    any_props = any(s.props for s in r.symbols)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("symbol", style="bold")
    table.add_column("shape", style="green")
    if any_props:
        table.add_column("properties", style="magenta")
    table.add_column("", style="dim italic")
    for s in r.symbols:
        row = [Text(s.name), describe_shape(s.shape)]
        if any_props:
            row.append(", ".join(sorted(s.props)))
        row.append("inferred" if s.name in r.inferred else "")
        table.add_row(*row)
    if r.symbols:
        console.print()
        console.print(table)

    defs = r.definition_lines(to_rich_text)
    if defs or r.problem.functions:
        console.print()
        for f, (param, body) in r.problem.functions.items():
            console.print(Text(f"{f}({param}) := ", style="bold") + Text(body))
        for name, body in defs:
            console.print(hanging(Text(f"{name} = ", style="bold"), body))

    def label(t: TreeNode) -> Text:
        text = Text(t.label, style="bold" if t.op in ("Sym", "ref") else "")
        if t.shape is not None:
            text.append("  " + shape_text(t.shape, "×"), style="green")
        return text

    root = Tree(label(r.tree), guide_style="dim")
    stack = [(r.tree, root)]
    while stack:
        t, r = stack.pop()
        for c in t.children:
            stack.append((c, r.add(label(c))))
    console.print()
    console.print(root)


def derivative(r, console) -> None:
    from ..derivative_report import READ_OFF
    from ..report import compact_shape, inferred_symbols
    from ..simplify import present
    from rich.text import Text

    from ..render.pretty import hanging, pretty_name, to_pretty, to_rich_text

    der = r.der
    if not r.continued:  # the problem and its shapes, once per problem
        head = Text((r.input or "") + "    ", style="bold")
        shapes = Text("  ".join(f"{pretty_name(s.name)}: {compact_shape(s.shape)}{' ' + ' '.join(sorted(s.props)) if s.props else ''}"
                                for s in der.problem.symbols.values()), style="dim")
        inferred = inferred_symbols(der.problem)
        if inferred:
            shapes.append(f"  (inferred: {', '.join(pretty_name(s.name) for s in inferred)})",
                          style="dim italic")
        console.print(hanging(head, shapes))
    # the named pieces first: the lines below use them
    for name, body in r.named_lines(lambda e, names: e, r._exprs()):
        console.print(hanging(Text(f"  {pretty_name(name)} = ", style="bold"),
                              to_rich_text(body, names=r.names)))
    if der.steps:
        for i, s in enumerate(der.steps, 1):
            if s.rule == "gradient":  # the first derivation ends here
                pretty_df(r, console)
            console.print(hanging(Text(f"  {i:>2}. {s.rule}   ", style="cyan"),
                                  Text(s.identity, style="dim")))
            console.print(hanging("      = ", to_rich_text(present(s.expr), names=r.defs)))
        if not der.steps_complete:
            console.print(Text("      … further steps omitted", style="dim"))
    shown_df = any(s.rule == "gradient" for s in der.steps)  # a Hessian's: shown above
    if der.steps and not shown_df:
        console.print(hanging(Text(f"  {len(der.steps) + 1:>2}. simplify   ", style="cyan"),
                              Text("; ".join(der.simplified_by) or "collect terms, rotate "
                                   "traces, use the declared properties", style="dim")))
    if (der.kind != "differential" or der.steps) and not shown_df:
        pretty_df(r, console)
    if der.steps:
        console.print(hanging(Text(f"  {len(der.steps) + (1 if shown_df else 2):>2}. ",
                                   style="cyan"),
                              Text(READ_OFF[der.kind].format(d=pretty_name(r.direction)), style="cyan")))
    console.print(hanging(Text(f"  {r.label()} = ", style="bold green"),
                          to_rich_text(r.shown, names=r.top(r.shown))))
    if r.shown_vec is not None:
        console.print(hanging(Text("  " + r.vec_caption() + " ",
                                   style="bold"),
                              to_rich_text(r.shown_vec, names=r.names)))
    for f in r.derived_functions().values():
        console.print(hanging("  where ", Text(f, style="dim"), head_style="dim"))
    for n in r.verdicts(to_pretty):
        bad = "FAILED" in n or n.startswith(("expect: differs", "check not made"))
        console.print(hanging("  ", Text(n, style="bold red" if bad else "green")))


def pretty_df(r, console) -> None:
    """The differential line, with its own named pieces after it."""
    from rich.text import Text

    from ..render.pretty import hanging, pretty_name, to_rich_text

    names = r.df_names()
    console.print(hanging(Text("  df = ", style="bold"),
                          to_rich_text(r.shown_df, names=names)))
    for name, body in r.df_where(lambda e, names: e):
        console.print(hanging(Text(f"      where {pretty_name(name)} = ", style="dim"),
                              to_rich_text(body, names=names)))


def hessian(r, console) -> None:
    from ..report import compact_shape
    from ..simplify import present
    from rich.text import Text

    from ..render.pretty import hanging, pretty_name, to_pretty, to_rich_text

    h = r.der
    n = len(h.vars)
    head = Text((r.input or "") + "    ", style="bold")
    shapes = Text("  ".join(f"{pretty_name(s.name)}: {compact_shape(s.shape)}"
                            f"{' ' + ' '.join(sorted(s.props)) if s.props else ''}"
                            for s in h.problem.symbols.values()), style="dim")
    if not r.continued:   # the problem and its shapes, once per problem
        console.print(hanging(head, shapes))
    for name, body in r.named_lines(lambda e, names: e, r._exprs()):
        console.print(hanging(Text(f"  {pretty_name(name)} = ", style="bold"),
                              to_rich_text(body, names={k: v for k, v in r.names.items()
                                                        if k is not body})))
    console.print(hanging(Text("  df = ", style="bold"),
                          to_rich_text(r.shown_df, names=r.names)))
    for what, e in h.steps:
        console.print(hanging(Text(f"  {what}: ", style="cyan"),
                              to_rich_text(present(e), names=r.defs)))
    cells = [[to_pretty(e, names=r.top(e)) for e in row] for row in r.shown]
    widths = [max(len(cells[i][j]) for i in range(n)) for j in range(n)]
    label = "  ∇²f = "
    if h.matrix and len(label) + sum(widths) + 2 * n + 2 <= console.width:
        # the block matrix itself, bracketed
        for i in range(n):
            left, right = ("⎡", "⎤") if i == 0 else (("⎣", "⎦") if i == n - 1 else ("⎢", "⎥"))
            body = "  ".join(cells[i][j].ljust(widths[j]) for j in range(n))
            lead = label if i == 0 else " " * len(label)
            console.print(Text(lead, style="bold green") + Text(f"{left}{body}{right}"),
                          soft_wrap=True)
    else:
        console.print(hanging(Text("  "), Text("∇²f, block by block (H[u,v] = ∂²f/∂u∂v):",
                                               style="bold green")))
        for i in range(n):
            for j in range(n):
                e = r.shown[i][j]
                console.print(hanging(Text(f"    {r.block_label(i, j, True)} = ",
                                           style="bold green"),
                                      to_rich_text(e, names=r.top(e))))
    if r.shown_vec is not None:
        console.print(hanging(Text("  "), Text(
            "on [" + "; ".join(f"vec({pretty_name(v.name)})" for v in h.vars)
            + "], block by block:", style="bold")))
        for i in range(n):
            for j in range(n):
                console.print(hanging(Text(f"    [{pretty_name(h.vars[i].name)},"
                                           f"{pretty_name(h.vars[j].name)}] = ", style="bold"),
                                      to_rich_text(r.shown_vec[i][j], names=r.names)))
    for note in r.verdicts(to_pretty):
        bad = "FAILED" in note or note.startswith(("expect: differs", "check not made"))
        console.print(hanging("  ", Text(note, style="bold red" if bad else "green")))


def evaluation(r, console) -> None:
    from ..values import _fmt
    from rich.text import Text

    from ..render.pretty import hanging

    console.print(Text(_fmt(r.value), style="bold"))
    for v in r.verdicts():
        console.print(hanging("  ", Text(v, style="green" if r.status == 0 else "bold red")))


def solution(r, console) -> None:
    from ..report import inferred_symbols
    from ..values import _fmt
    from rich.text import Text

    from ..render.pretty import hanging, to_rich_text
    from ..report import compact_shape
    from ..simplify import present

    head = Text(r.input + "    ", style="bold")
    inferred = inferred_symbols(r.problem)
    shapes = Text("(inferred: " + ", ".join(
        f"{s.name}: {compact_shape(s.shape)}" for s in inferred) + ")",
        style="dim italic") if inferred else Text("")
    console.print(hanging(head, shapes))
    for i, (rule, identity, e) in enumerate(r.steps, 1):
        console.print(hanging(Text(f"  {i:>2}. {rule}   ", style="cyan"),
                              Text(identity, style="dim")))
        console.print(hanging("      = ", to_rich_text(present(e))))
    console.print(hanging(Text(f"  {r.sol.var.name}* = ", style="bold green"),
                          to_rich_text(present(r.sol.solution))))
    if r.value is not None:
        console.print(hanging(Text(f"  {r.sol.var.name}* = ", style="bold"),
                              Text(_fmt(r.value), style="bold")))
    style = "green" if r.classification == "minimum" else "yellow"
    console.print(hanging(Text(f"  {r.classification}: ", style=style),
                          Text(r._lines()[-1].split(": ", 1)[1], style="dim")))
    for v in r.verdicts():
        console.print(hanging("  ", Text(v, style="green" if r.status == 0 else "bold red")))


def code(r, console) -> None:
    from rich.syntax import Syntax

    console.print(Syntax(r.source, "python", theme="ansi_dark"))


WRITERS = {
    "Report": default,
    "DiagnosticReport": diagnostic,
    "ShapeReport": shape,
    "DerivativeReport": derivative,
    "HessianReport": hessian,
    "EvalReport": evaluation,
    "SolveReport": solution,
    "CodeReport": code,
}
