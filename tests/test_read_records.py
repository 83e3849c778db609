"""Problem and SymInfo write their fields themselves (document.py, shapes/scope.py):
they are still the frozen records they were."""
import pytest

from matdiff_cli.document import Problem, read_document
from matdiff_cli.records import FrozenInstanceError, replace
from matdiff_cli.shapes import SymInfo


def test_a_syminfo_is_a_frozen_record():
    a = SymInfo("A", ("n", "n"), frozenset({"symmetric"}), True, 3)
    assert a == SymInfo("A", ("n", "n"), frozenset({"symmetric"}), True, 3)
    assert hash(a) == hash(SymInfo("A", ("n", "n"), frozenset({"symmetric"}), True, 3))
    assert SymInfo("x", ("n", 1), frozenset(), False).line is None
    assert replace(a, name="B") == SymInfo("B", ("n", "n"), frozenset({"symmetric"}), True, 3)
    assert repr(a) == ("SymInfo(name='A', shape=('n', 'n'), props=frozenset({'symmetric'}), "
                       "declared=True, line=3)")
    with pytest.raises(FrozenInstanceError):
        a.name = "B"


def test_a_problem_is_a_frozen_record():
    (p,) = read_document("A: n x n\ntr(A)")
    assert (p.source, p.line, p.symmetric) == ("tr(A)", 2, ())
    assert list(vars(p)) == [f.name for f in Problem.__record_fields__]
    q = replace(p, line=5)
    assert q.line == 5 and q.expr is p.expr and q._scope is p._scope and q != p
    assert replace(q, line=2) == p
    assert repr(p).startswith("Problem(source='tr(A)', line=2, expr=")
    with pytest.raises(FrozenInstanceError):
        p.line = 3
