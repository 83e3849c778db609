"""Plans built as they are checked (shapes/plans.P): when every dimension is
known from declarations, a problem needs no second pass, and reads the same."""
from matdiff_cli.document import read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.parser import Source, parse_statement
from matdiff_cli.shapes import Elaborator, Scope, SymInfo


def _plan(text, declared):
    scope = Scope()
    for name, shape in declared.items():
        scope.symbols[name] = SymInfo(name, shape, frozenset(), True, 1)
    src = Source(text)
    el = Elaborator(scope, src, (0, len(text)))
    return el, el.infer(parse_statement(src, 0, len(text)).kids[0])


def test_a_declared_problem_is_built_as_it_is_checked():
    el, plan = _plan("tr(A^T (X - 2 B)) + x^T A x", {"A": ("n", "n"), "X": ("n", "n"),
                                                    "B": ("n", "n"), "x": ("n", 1)})
    assert plan.e is not None
    assert el.finish(plan)[0] is plan.e


def test_an_unknown_dimension_leaves_the_plan_to_the_second_pass():
    el, plan = _plan("tr(A^T (X - 2 B)) + x^T I x", {"A": ("n", "n"), "X": ("n", "n"),
                                                     "B": ("n", "n"), "x": ("n", 1)})
    assert plan.e is None and plan.args[0].e is not None   # I's size is unknown until the end
    expr, _ = el.finish(plan)
    assert expr.shape == (1, 1)


def _read(doc, declare=()):
    import matdiff_cli.render.text  # noqa: F401  (the repr of nodes)

    return [it.format() if isinstance(it, MatdiffError) else
            (repr(it.expr), repr(it.symbols), repr(it.definitions))
            for it in read_document(doc, declare)]


def test_declared_and_inferred_shapes_read_alike_down_to_the_nesting_limit():
    # a p-norm is four nodes: nesting them passes the parser's limit and not the build's
    for k in (45, 49, 50, 51, 70):
        deep = "exp(||" * k + "x" + "||_3 x)" * k
        half = "exp(||" * (k // 2) + "{}" + "||_3 x)" * (k // 2)
        for body in (deep, f"h = {deep}\nh + x", "h = " + half.format("x") + "\ng = "
                     + half.format("h") + "\ng + x"):
            assert _read(body) == _read(body, ["x: n"])
