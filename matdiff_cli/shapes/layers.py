"""Overlays: a dict or a set over a base one, so that a problem starts in O(1).

Every problem of a document works on layers over the document's scope and
unifier: reads fall through to the base, writes stay in the layer, and
starting a problem costs nothing like a copy of all the document has declared
so far (which made reading a document quadratic in its length).
"""
from __future__ import annotations


_has, _item = dict.__contains__, dict.__getitem__
_NONE = frozenset()


class Layer(dict):
    """A dict over a base dict: reads fall through, writes stay in the layer.

    Every problem of a document works on a layer over the document's scope, so
    that starting a problem costs O(1), not a copy of all the document has
    declared so far (which made reading a document quadratic in its length)."""

    __slots__ = ("base", "hidden")

    def __init__(self, base):
        # (dict.__init__ has nothing to do for an empty layer: a problem makes seven)
        self.base = base
        self.hidden = _NONE   # base keys this layer does not see (a set once one is hidden)

    def hide(self, key) -> None:
        if self.hidden is _NONE:
            self.hidden = set()
        self.hidden.add(key)

    def _in_base(self, key) -> bool:
        return key in self.base and key not in self.hidden

    def __missing__(self, key):
        if key in self.hidden:
            raise KeyError(key)
        return self.base[key]

    def get(self, key, default=None):
        if _has(self, key):
            return _item(self, key)
        return self.base.get(key, default) if key not in self.hidden else default

    def __contains__(self, key):
        return _has(self, key) or (key in self.base and key not in self.hidden)

    def __iter__(self):
        yield from dict.__iter__(self)
        for k in self.base:
            if not dict.__contains__(self, k) and k not in self.hidden:
                yield k

    def keys(self):
        return list(self)

    def items(self):
        return [(k, self[k]) for k in self]

    def values(self):
        return [self[k] for k in self]

    def __len__(self):
        return sum(1 for _ in self)


class LayerSet:
    """A set over a base set, as Layer is a dict over a base dict."""

    __slots__ = ("own", "base")

    def __init__(self, base):
        self.own: set = set()
        self.base = base

    def __contains__(self, item):
        return item in self.own or item in self.base

    def add(self, item):
        self.own.add(item)

    def update(self, items):
        self.own.update(items)

    def discard(self, item):  # only what this layer added is ever undone
        self.own.discard(item)

    def __iter__(self):
        yield from self.own
        for x in self.base:
            if x not in self.own:
                yield x

    def __len__(self):
        return sum(1 for _ in self)


class _Either:
    """Membership in any of several collections, without copying them (a document's
    symbols grow with it: copying them for every problem would be quadratic)."""

    def __init__(self, *collections):
        self.collections = collections

    def __contains__(self, item) -> bool:
        return any(item in c for c in self.collections)

