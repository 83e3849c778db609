"""One derivation from source text, with the command line's default options."""
from matdiff_cli.commands import Options
from matdiff_cli.derivatives import derive
from matdiff_cli.document import parse


def derivation(src, wrt, command="grad", declare=()):
    problem = parse(src, declare=list(declare))
    return derive(problem, problem.symbols[wrt], command, Options())
