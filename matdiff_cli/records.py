"""A small ``dataclass`` for the modules on the start-up path.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis``,
``tokenize``, ...): some 40 ms before a gradient can start.  The records of
matdiff's hot path (options, problems, symbols, derivations, steps) need only
the plain part of it, written here: fields from the class annotations, in
order, with defaults or ``field(default_factory=...)``; a generated
``__init__``, ``__repr__`` and ``__eq__``; ``frozen=True`` (assignment raises,
and the record is hashed by its fields) and ``eq=False``; ``replace()``.
The behaviour is that of :mod:`dataclasses` for these uses.
"""
from __future__ import annotations

__all__ = ["dataclass", "field", "replace", "FrozenInstanceError"]

_MISSING = object()


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record."""


class Field:
    __slots__ = ("name", "default", "default_factory", "repr", "compare")

    def __init__(self, default=_MISSING, default_factory=_MISSING, repr=True, compare=True):
        self.name = None
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare


def field(*, default=_MISSING, default_factory=_MISSING, repr=True, compare=True):
    return Field(default, default_factory, repr, compare)


def _fields(cls) -> list:
    fields = {}
    for base in reversed(cls.__mro__[1:]):
        for f in getattr(base, "__record_fields__", ()):
            fields[f.name] = f
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if isinstance(annotation, str) and annotation.replace("typing.", "").startswith("ClassVar"):
            continue
        value = cls.__dict__.get(name, _MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name = name
        if f.default is _MISSING:
            if name in cls.__dict__:
                delattr(cls, name)  # field(default_factory=...): no class attribute
        else:
            setattr(cls, name, f.default)
        fields[name] = f
    return list(fields.values())


def _process(cls, frozen: bool, eq: bool):
    fields = _fields(cls)
    cls.__record_fields__ = tuple(fields)
    seen_default = False
    for f in fields:
        if f.default is not _MISSING or f.default_factory is not _MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
    shown = tuple(f.name for f in fields if f.repr)
    compared = tuple(f.name for f in fields if f.compare)
    post_init = hasattr(cls, "__post_init__")

    # The first record made compiles this class's own __init__ (as dataclasses
    # writes it: one assignment per field, no loop over the fields), which every
    # later record runs: a class never instantiated costs no compile at import.
    def __init__(self, *args, **kwargs):
        init = _compiled_init(cls, fields, frozen, post_init)
        if cls.__dict__.get("__init__") is __init__:
            cls.__init__ = init
        init(self, *args, **kwargs)

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inner})"

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (tuple(getattr(self, n) for n in compared)
                    == tuple(getattr(other, n) for n in compared))
        return NotImplemented

    def __hash__(self):
        return hash(tuple(getattr(self, n) for n in compared))

    def __setattr__(self, name, value):
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    class_hash = cls.__dict__.get("__hash__", _MISSING)
    explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in cls.__dict__))
    methods = {"__init__": __init__, "__repr__": __repr__}
    if eq:
        methods["__eq__"] = __eq__
    if frozen:
        methods["__setattr__"] = __setattr__
        methods["__delattr__"] = __delattr__
    for name, fn in methods.items():
        if name not in cls.__dict__:
            _attach(cls, name, fn)
    if eq and not explicit_hash:
        if frozen:
            _attach(cls, "__hash__", __hash__)
        else:
            cls.__hash__ = None  # mutable and compared by value: unhashable, like a dataclass
    return cls


def _compiled_init(cls, fields: list, frozen: bool, post_init: bool):
    """The __init__ of cls: a parameter per field, in order, with its default; a
    frozen record's fields set through object.__setattr__, as dataclasses does."""
    params, body = [], []
    env = {"__missing": _MISSING, "__set": object.__setattr__}   # (no field's name)
    for i, f in enumerate(fields):
        name = f.name
        if f.default is not _MISSING:
            env[f"__d{i}"] = f.default
            params.append(f"{name}=__d{i}")
            value = name
        elif f.default_factory is not _MISSING:
            env[f"__f{i}"] = f.default_factory
            params.append(f"{name}=__missing")
            value = f"__f{i}() if {name} is __missing else {name}"
        else:
            params.append(name)
            value = name
        body.append(f"__set(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
    if post_init:
        body.append("self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"])
    exec(source, env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _attach(cls, name, fn):
    fn.__qualname__ = f"{cls.__qualname__}.{name}"
    setattr(cls, name, fn)


def dataclass(cls=None, /, *, frozen: bool = False, eq: bool = True):
    """``@dataclass``, ``@dataclass(frozen=True)``, ``@dataclass(eq=False)``."""
    if cls is None:
        return lambda c: _process(c, frozen, eq)
    return _process(cls, frozen, eq)


def replace(obj, /, **changes):
    """A copy of the record ``obj`` with some fields changed."""
    for f in obj.__record_fields__:
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)
