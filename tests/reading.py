"""Reader shortcuts checked against the reader without them: a document reads to
the same problems, scopes and errors with a shortcut of ``Document`` declining."""
from __future__ import annotations

from matdiff_cli.document import Document, read_document
from matdiff_cli.errors import MatdiffError


def read_items(text: str, declare=()) -> list:
    """What a document reads to: each error in words and place, each problem with
    its symbols, definitions, functions and scope."""
    out = []
    for item in read_document(text, declare):
        if isinstance(item, MatdiffError):
            out.append(("error", str(item), item.kind, item.line, item.column, item.end_column,
                        item.hint))
        else:
            out.append((item.source, item.line, item.expr, item.symbols, item.definitions,
                        item.functions, item.inferred,
                        {n: (str(i.shape), i.props, i.declared, i.line)
                         for n, i in item._scope.symbols.items()}))
    return out


def assert_reads_as_without(shortcut: str, text: str, monkeypatch, declare=()) -> None:
    """text reads as it does when ``Document.<shortcut>`` always declines."""
    fast = read_items(text, declare)
    with monkeypatch.context() as m:
        m.setattr(Document, shortcut, lambda self, *args: False)
        slow = read_items(text, declare)
    assert fast == slow, text
