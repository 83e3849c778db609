"""matdiff: a matrix-calculus calculator, as a command line and as a library.

The public API (SPEC §3.2) is imported lazily, so that ``import matdiff_cli``
and the command line start fast::

    import matdiff_cli
    problem = matdiff_cli.parse("tr(X^T A X B)")
    problems = matdiff_cli.read_document("X: n x m\\ntr(X^T X)", declare=["A: n x n"])

    g = matdiff_cli.gradient("tr(X^T A X B)", wrt="X", declare=["A: n x n symmetric"])
    g.text, g.latex, g.numpy, g.to_sympy()

``differential``, ``gradient``, ``jacobian``, ``hessian``, ``check`` and
``solve`` live in ``matdiff_cli.api``.
"""
__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_LAZY = {
    "parse": "matdiff_cli.document",
    "read_document": "matdiff_cli.document",
    "Problem": "matdiff_cli.document",
    "MatdiffError": "matdiff_cli.errors",
    "differential": "matdiff_cli.api",
    "gradient": "matdiff_cli.api",
    "jacobian": "matdiff_cli.api",
    "hessian": "matdiff_cli.api",
    "check": "matdiff_cli.api",
    "solve": "matdiff_cli.api",
}

__all__ = ["__version__", "parse", "read_document", "Problem", "MatdiffError", "differential",
           "gradient", "jacobian", "hessian", "check", "solve"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'matdiff_cli' has no attribute {name!r}")
    import importlib

    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as e:
        if e.name != module:  # a missing dependency: a real error, not ours to hide
            raise
        value = None
    except AttributeError:
        value = None
    if value is None:
        raise AttributeError(f"matdiff_cli.{name} is not available in this release")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
