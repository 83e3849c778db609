"""No back edges: the package's modules import each other without a cycle.

The graph is read from the source with ``ast``: every ``import`` and
``from ... import``, at module level or inside a function (a lazy import is
an edge too: it only moves the cost, not the dependency).  Importing a
submodule runs its package's ``__init__`` first; that implicit edge is not
counted (a package's face hands names on).  The command registry's
``import_module`` by name (``commands.py``) is how commands stay lazy and is
not an import statement.
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "matdiff_cli"


def _modules(package: Path = PACKAGE) -> dict:
    """module name -> path, for every .py file of the package."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, level: int, here: str, is_package: bool) -> str:
    if level == 0:
        return name
    base = here.split(".") if is_package else here.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph() -> dict:
    return {m: set(d) for m, d in _graph(PACKAGE).items()}


@lru_cache(maxsize=None)
def _graph(package: Path) -> dict:
    modules = _modules(package)
    graph: dict = {m: set() for m in modules}
    for mod, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node.module or "", node.level, mod, is_package)
                # ``from . import expr``: the submodule when there is one
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for t in targets:
                while t and t not in modules:   # ``import a.b.c`` of a non-module: its module
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph


def find_cycle(graph: dict) -> list | None:
    """A cycle of the graph as a list of nodes (first = last), or None."""
    state: dict = {}
    for root in sorted(graph):
        if root in state:
            continue
        stack, path = [(root, iter(sorted(graph[root])))], [root]
        state[root] = "open"
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = "done"
                stack.pop()
                path.pop()
            elif state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = "open"
                stack.append((nxt, iter(sorted(graph[nxt]))))
                path.append(nxt)
    return None


def test_the_graph_is_read():
    g = import_graph()
    assert "matdiff_cli.expr" in g["matdiff_cli.differentials.algebra"]
    assert "matdiff_cli.ops.base" in g["matdiff_cli.ops.elementwise"]
    assert "matdiff_cli.usersym" in g["matdiff_cli.shapes.calls"]        # a lazy import counts


def test_the_modules_import_each_other_without_a_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


LOW = ("matdiff_cli.errors", "matdiff_cli.dispatch", "matdiff_cli.expr", "matdiff_cli.build",
       "matdiff_cli.ops", "matdiff_cli.rational")


def test_the_expression_model_and_the_declarations_stand_on_their_own():
    """expr, build and ops/ import nothing above them (no renderer, no parser, no
    command): the engine and every renderer read them, never the other way."""
    g = import_graph()
    for mod, deps in g.items():
        if mod.startswith(LOW):
            above = sorted(d for d in deps if d.startswith("matdiff_cli.") and not d.startswith(LOW))
            assert not above, f"{mod} imports {above}"


def test_every_package_is_installed():
    """A regular install (``pip install .``) ships every package of the source:
    pyproject.toml lists them by hand, and one left out is a ModuleNotFoundError
    only outside the editable install the tests run from."""
    import re

    text = (PACKAGE.parent / "pyproject.toml").read_text()
    listed = set(re.findall(r'"(matdiff_cli[\w.]*)"', text.split("packages =", 1)[1].split("\n", 1)[0]))
    packages = {".".join(p.relative_to(PACKAGE.parent).parts[:-1])
                for p in PACKAGE.rglob("__init__.py")}
    assert packages <= listed, f"not in pyproject.toml's packages: {sorted(packages - listed)}"


# The size a reader takes in at once: a module past it is split by
# responsibility (issue "a house a newcomer can extend in one place").
MAX_LINES = 550


def test_no_module_grows_past_the_size_of_one_responsibility():
    too_long = {}
    for mod, path in _modules().items():
        n = len(path.read_text().splitlines())
        if n > MAX_LINES:
            too_long[mod] = n
    assert not too_long, f"split these by responsibility: {too_long}"
