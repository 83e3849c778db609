"""One derivation from source text, with the command line's default options."""
from matdiff_cli.commands import Options
from matdiff_cli.derivatives import derive
from matdiff_cli.document import parse


def derivation(src, wrt, command="grad", declare=()):
    problem = parse(src, declare=list(declare))
    return derive(problem, problem.symbols[wrt], command, Options())


def cookbook_reports():
    """The report of every cookbook gradient matdiff derives (those it refuses left out)."""
    from cookbook import GRADIENTS
    from matdiff_cli.derivative_report import DerivativeReport

    out = []
    for _name, decls, src, wrt, _ in GRADIENTS:
        try:
            problem = parse(src, declare=decls)
            der = derive(problem, problem.symbols[wrt], "grad", Options(command="grad"))
            out.append(DerivativeReport(der))
        except Exception:
            continue
    return out
