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
    env = {"_MISSING": _MISSING, "_setattr": object.__setattr__,
           "FrozenInstanceError": FrozenInstanceError, "_cls": cls}
    params, body, seen_default = [], [], False
    for i, f in enumerate(fields):
        if f.default_factory is not _MISSING:
            env[f"_f{i}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            value = f"_f{i}() if {f.name} is _MISSING else {f.name}"
            seen_default = True
        elif f.default is not _MISSING:
            env[f"_d{i}"] = f.default
            params.append(f"{f.name}=_d{i}")
            value = f.name
            seen_default = True
        else:
            if seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            params.append(f.name)
            value = f.name
        body.append(f"  _setattr(self, {f.name!r}, {value})" if frozen
                    else f"  self.{f.name} = {value}")
    post = "\n  self.__post_init__()" if hasattr(cls, "__post_init__") else ""
    shown = [f for f in fields if f.repr]
    compared = [f.name for f in fields if f.compare]
    key = "(" + "".join(f"self.{n}," for n in compared) + ")"
    other = "(" + "".join(f"other.{n}," for n in compared) + ")"
    source = [
        f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass") + post,
        "def __repr__(self):\n  return self.__class__.__qualname__ + '(' + "
        + (" + ', ' + ".join(f"'{f.name}=' + repr(self.{f.name})" for f in shown) or "''")
        + " + ')'",
    ]
    if eq:
        source.append("def __eq__(self, other):\n  if other.__class__ is self.__class__:\n"
                      f"    return {key} == {other}\n  return NotImplemented")
    if frozen:
        source.append("def __setattr__(self, name, value):\n"
                      "  raise FrozenInstanceError(f'cannot assign to field {name!r}')")
        source.append("def __delattr__(self, name):\n"
                      "  raise FrozenInstanceError(f'cannot delete field {name!r}')")
        source.append(f"def __hash__(self):\n  return hash({key})")
    class_hash = cls.__dict__.get("__hash__", _MISSING)
    explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in cls.__dict__))
    exec("\n".join(source), env)
    for name in ("__init__", "__repr__", "__eq__", "__setattr__", "__delattr__"):
        if name in env and name not in cls.__dict__:
            _attach(cls, name, env[name])
    if eq and not explicit_hash:
        if frozen:
            _attach(cls, "__hash__", env["__hash__"])
        else:
            cls.__hash__ = None  # mutable and compared by value: unhashable, like a dataclass
    return cls


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
