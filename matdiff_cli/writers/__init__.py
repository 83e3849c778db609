"""Writers: one module per output format, each writing every kind of report.

A command returns reports (plain data: the derivation, its named pieces, the
verdicts); ``text``, ``latex``, ``numpy``, ``json`` and ``pretty`` each know how
to write every report kind.  ``write(fmt, report)`` imports the format's module
on first use (by name: start-up imports only the format asked for) and calls
the function its ``WRITERS`` table gives for the report's class, or for the
nearest base class that has one.

Adding a format is one module here with a ``WRITERS`` table (and its entry in
``report.FORMATS``); adding a report kind is one function in each module.
"""
from __future__ import annotations

import sys

_TABLES: dict = {}


def writer(fmt: str, report):
    """The function that writes ``report`` in ``fmt``."""
    table = _TABLES.get(fmt)
    if table is None:
        module = f"{__name__}.{fmt}"
        __import__(module)  # importlib is not imported for this (start-up)
        table = _TABLES[fmt] = sys.modules[module].WRITERS
    for cls in type(report).__mro__:
        fn = table.get(cls.__name__)
        if fn is not None:
            return fn
    raise KeyError(f"no {fmt} writer for {type(report).__name__}")  # pragma: no cover


def write(fmt: str, report, *args):
    """``report`` written in ``fmt`` (a string, a dict for json; pretty prints on
    the console given in ``args``)."""
    return writer(fmt, report)(report, *args)
