"""Rules as data: one table per operation, filled by a decorator per node type."""
from __future__ import annotations


def registrar(table: dict, *, many: bool = False):
    """A decorator factory: ``@rule(Add, Mul)`` files the function under those node
    types in ``table`` (appended to a list of rules per type when ``many``)."""
    def rule(*types):
        def register(fn):
            for t in types:
                if many:
                    table.setdefault(t, []).append(fn)
                else:
                    table[t] = fn
            return fn
        return register
    return rule


def singledispatch(default):
    """``functools.singledispatch`` for rules on node classes, without typing.

    In Python 3.11 every ``register`` of functools imports typing (some 20 ms of
    start-up); the renderers on the start-up path need only this: ``@f.register``
    on a function whose first parameter is annotated with a class of its module,
    ``f.register(cls, fn)``, ``f.dispatch(cls)`` (the rule of the nearest class
    in the MRO), ``f.cache`` (what ``dispatch`` found so far) and calling ``f(node, ...)``.
    """
    registry = {object: default}
    cache: dict = {}

    def dispatch(cls):
        impl = cache.get(cls)
        if impl is None:
            impl = cache[cls] = next(registry[c] for c in cls.__mro__ if c in registry)
        return impl

    def register(cls, func=None):
        if func is None:
            if isinstance(cls, type):
                return lambda f: register(cls, f)
            func = cls  # @register: the class is the first parameter's annotation
            annotation = func.__annotations__[func.__code__.co_varnames[0]]
            cls = func.__globals__[annotation] if isinstance(annotation, str) else annotation
            if not isinstance(cls, type):
                raise TypeError(f"{annotation!r} is not a class")
        registry[cls] = func
        cache.clear()
        return func

    def wrapper(*args, **kwargs):
        return dispatch(args[0].__class__)(*args, **kwargs)

    wrapper.register = register
    wrapper.dispatch = dispatch
    wrapper.cache = cache   # class -> rule, of the classes dispatched so far (a walk reads it)
    wrapper.registry = registry
    wrapper.__name__ = default.__name__
    wrapper.__qualname__ = default.__qualname__
    wrapper.__doc__ = default.__doc__
    wrapper.__wrapped__ = default
    return wrapper
