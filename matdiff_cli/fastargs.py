"""The fast front end: the plain command lines, read without click (start-up stays
short: README "Performance").  ``cli.main`` tries it first."""
from __future__ import annotations

import os


def _commands() -> dict:
    """The registry of the commands (``commands.COMMANDS``): summary, options, example."""
    from .commands import COMMANDS

    return COMMANDS


def _split_wrt(ctx, param, values):
    out = []
    for v in values:
        out.extend(name.strip() for name in v.split(",") if name.strip())
    return tuple(dict.fromkeys(out))  # a variable named twice is differentiated once


# ---------------------------------------------------------------------------
# The fast front end: the plain command lines, read without click
#
# A command line of a command, an EXPR (or -f FILE) and options from the table
# below is read here to the very arguments click would pass to run(); any other
# (help, --version with others, --let, --seed, an unknown or repeated option, a
# missing value, an EXPR starting with -, ...) returns None and goes to click,
# which says what is wrong exactly as before.  tests/test_cli.py compares the
# two readings on many command lines.

# option spelling -> (parameter, option of a command (Command.options) or None, choices or None)
_VALUE_OPTIONS = {
    "-f": ("file", None, None), "--file": ("file", None, None),
    "-d": ("declare", None, None), "--declare": ("declare", None, None),
    "--format": ("fmt", None, "formats"),
    "--wrt": ("wrt", "wrt", None),
    "--expect": ("expect", "expect", None),
    "--layout": ("layout", "layout", ("numerator", "denominator")),
    "--lang": ("lang", "lang", ("numpy", "torch", "jax")),
}
_FLAGS = {"--steps": "steps", "--check": "check", "--vec": "vec", "--hvp": "hvp"}
_DEFAULTS = {"wrt": (), "steps": False, "check": False, "expect": None, "lets": (),
             "seed": None, "layout": "numerator", "vec": False, "lang": "numpy", "order": 1,
             "hvp": False}
_MULTIPLE = ("declare", "wrt")


def fast_args(args: list[str]):
    """``(command, keyword arguments of run)`` for a plain command line, else None."""
    commands = _commands()
    if not args or args[0] not in commands or "_MATDIFF_COMPLETE" in os.environ:
        return None
    name = args[0]
    allowed = commands[name].options
    values: dict = {"expr": None, "file": None, "declare": [], "fmt": None, "wrt": []}
    given = set()
    positional = []
    i, n = 1, len(args)
    while i < n:
        arg = args[i]
        i += 1
        if arg == "--":
            positional.extend(args[i:])
            break
        if arg[:1] != "-" or arg == "-":
            positional.append(arg)
            continue
        option, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if option in _FLAGS:
            param = _FLAGS[option]
            if eq or param not in allowed or param in given:
                return None
            values[param] = True
        elif option in _VALUE_OPTIONS:
            param, needs, choices = _VALUE_OPTIONS[option]
            if needs is not None and needs not in allowed:
                return None
            if not eq:
                if i >= n:
                    return None
                value = args[i]
                i += 1
                if value[:1] == "-" and value != "-":  # click would take it; be sure
                    return None
            if choices == "formats":
                from .report import FORMATS

                choices = FORMATS
            if choices is not None and value not in choices:
                return None
            if param in _MULTIPLE:
                values[param].append(value)
            elif param in given:
                return None
            else:
                values[param] = value
        else:
            return None
        given.add(_FLAGS.get(option) or _VALUE_OPTIONS[option][0])
    if len(positional) > 1:
        return None
    if positional:
        values["expr"] = positional[0]
    if (values["expr"] is None) == (values["file"] is None):  # both or neither: a usage error
        return None
    kwargs = {"expr": values["expr"], "file": values["file"],
              "declare": tuple(values["declare"]), "fmt": values["fmt"]}
    for option in allowed:
        kwargs[option if option != "let" else "lets"] = _DEFAULTS[option if option != "let" else "lets"]
    for param in ("wrt", "steps", "check", "expect", "layout", "vec", "lang", "hvp"):
        if param in given:
            kwargs[param] = values[param]
    if "wrt" in allowed:
        kwargs["wrt"] = _split_wrt(None, None, values["wrt"])
    return name, kwargs
