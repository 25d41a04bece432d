"""Small value classes, as ``@dataclass`` makes them: ``@frozen`` (immutable,
hashable) and ``@record`` (mutable).

Every start of pycap imports a few dozen such classes (the filter AST, the
IR, tokens, link layouts, the capture's and the pipeline's state).  The
``dataclasses`` module costs about 6 ms to import (it pulls in ``inspect``,
``ast`` and ``tokenize``) and 0.4 ms a class to apply; this costs a
fraction of that.  What it makes is the subset pycap uses: fields from the
annotations (trailing ones may have defaults, or ``factory(f)`` for a fresh
``f()`` per instance), ``__init__`` (calling ``__post_init__`` if the class
has one), ``__repr__`` and ``__eq__`` as dataclasses writes them,
``__slots__`` (unless ``slots=False``, for a ``cached_property``),
``__match_args__`` and ``_fields``.  ``@frozen`` adds ``__hash__`` over the
fields (computed once and kept, with ``cached_hash=True``) and refuses
assignment after ``__init__``; ``@record`` instances are unhashable, as
dataclasses makes them.  ``replace(obj, **changes)`` is
``dataclasses.replace``.

``@named_tuple`` is ``typing.NamedTuple``'s class syntax for a
``collections.namedtuple``, for values made by the million (instructions,
ring headers): importing ``typing`` costs about 2 ms of every start.

``__init__``, ``__eq__`` and ``__hash__`` are written as source and compiled
with one ``exec`` per class, as dataclasses does, because such methods run
faster than generic ones (the compiler hashes and compares IR trees a lot).
Compiling waits for first use, ``__init__`` for the first instance and
``__eq__``/``__hash__`` for the first comparison or hash: compiling is most
of what a class costs, a run instantiates about half of what it imports,
and compares fewer still.
"""

from __future__ import annotations

from collections import namedtuple

_set = object.__setattr__


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen value."""


class factory:
    """A default made anew for each instance: ``items: list = factory(list)``."""

    __slots__ = ("make",)

    def __init__(self, make) -> None:
        self.make = make


_MISSING = object()


def _refuse(self, name, value=None):
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _lazy_methods(cls_cell, names, defaults, *, mutable: bool, cached_hash: bool):
    """Stand-ins for ``__init__``, ``__eq__`` and ``__hash__``.  The first
    call of ``__init__`` writes the real one; the first call of ``__eq__``
    or ``__hash__`` writes those two (many classes are made but never
    compared).  Each is put on the class (``cls_cell[0]``, once it exists)
    and called."""
    made = {n for n, v in defaults.items() if isinstance(v, factory)}
    fields = "".join(f"self.{n}, " for n in names)

    def install(source: str, scope: dict[str, object]) -> dict:
        cls = cls_cell[0]
        scope.update(_set=_set, _MISSING=_MISSING)
        exec(source, scope)      # noqa: S102 - a fixed template over the class's own field names
        methods = {m: scope[m] for m in ("__init__", "__eq__", "__hash__") if m in scope}
        for name, method in methods.items():
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            type.__setattr__(cls, name, method)
        return methods

    def make_init():
        params = ", ".join(f"{n}=_default_{n}" if n in defaults else n for n in names)
        assign = "    self.{0} = {1}\n" if mutable else "    _set(self, {0!r}, {1})\n"
        sets = "".join(assign.format(n, f"{n} if {n} is not _MISSING else _make_{n}()"
                                     if n in made else n) for n in names)
        if cached_hash:
            sets += "    _set(self, '_hash', None)\n"
        if "__post_init__" in cls_cell[0].__dict__:
            sets += "    self.__post_init__()\n"
        scope: dict[str, object] = {}
        for n, v in defaults.items():
            scope[f"_default_{n}"] = _MISSING if n in made else v
            if n in made:
                scope[f"_make_{n}"] = v.make
        return install(f"def __init__(self, {params}):\n{sets or '    pass'}\n", scope)

    def make_comparison():
        other = "".join(f"other.{n}, " for n in names)
        source = ("def __eq__(self, other):\n"
                  "    if other.__class__ is self.__class__:\n"
                  f"        return ({fields}) == ({other})\n"
                  "    return NotImplemented\n")
        if cached_hash:
            source += ("def __hash__(self):\n    h = self._hash\n    if h is None:\n"
                       f"        h = hash(({cls_cell[0].__name__!r}, {fields}))\n"
                       "        _set(self, '_hash', h)\n    return h\n")
        elif not mutable:
            source += f"def __hash__(self):\n    return hash(({fields}))\n"
        return install(source, {})

    def __init__(self, *args, **kwargs):
        make_init()["__init__"](self, *args, **kwargs)

    def __eq__(self, other):
        return make_comparison()["__eq__"](self, other)

    def __hash__(self):
        return make_comparison()["__hash__"](self)

    stubs = {"__init__": __init__, "__eq__": __eq__}
    if not mutable:
        stubs["__hash__"] = __hash__
    return stubs


def _build(cls, *, mutable: bool, slots: bool, cached_hash: bool):
    names = tuple(cls.__dict__.get("__annotations__", {}))
    defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}
    qualname = cls.__qualname__

    def __repr__(self):
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{qualname}({shown})"

    namespace = {k: v for k, v in cls.__dict__.items()
                 if k not in defaults and k not in ("__dict__", "__weakref__")}
    cell: list = []
    namespace.update(_lazy_methods(cell, names, defaults, mutable=mutable, cached_hash=cached_hash))
    namespace["__repr__"] = __repr__
    if mutable:
        namespace["__hash__"] = None
    if slots:
        namespace["__slots__"] = names + (("_hash",) if cached_hash else ())
    elif cached_hash:
        raise ValueError("cached_hash needs slots")
    namespace["__match_args__"] = names
    if not mutable:
        namespace["__setattr__"] = _refuse
        namespace["__delattr__"] = _refuse
    namespace["_fields"] = names
    built = type(cls)(cls.__name__, cls.__bases__, namespace)
    cell.append(built)
    return built


def frozen(cls=None, *, cached_hash: bool = False, slots: bool = True):
    def build(cls):
        return _build(cls, mutable=False, slots=slots, cached_hash=cached_hash)
    return build if cls is None else build(cls)


def record(cls=None, *, slots: bool = True):
    def build(cls):
        return _build(cls, mutable=True, slots=slots, cached_hash=False)
    return build if cls is None else build(cls)


def named_tuple(cls):
    """The class as ``typing.NamedTuple`` makes it: a ``collections.namedtuple``
    of the annotated fields (trailing ones may have defaults), with the
    class's docstring and methods."""
    names = tuple(cls.__dict__.get("__annotations__", {}))
    defaults = [cls.__dict__[n] for n in names if n in cls.__dict__]
    if any(n not in cls.__dict__ for n in names[len(names) - len(defaults):]):
        raise TypeError(f"{cls.__name__}: a field without a default follows one with a default")
    made = namedtuple(cls.__name__, names, defaults=defaults, module=cls.__module__)
    for key, value in cls.__dict__.items():
        if key not in names and key not in ("__dict__", "__weakref__", "__annotations__",
                                            "__module__", "__qualname__"):
            setattr(made, key, value)
    made.__qualname__ = cls.__qualname__
    return made


def replace(obj, **changes):
    """A copy of ``obj`` with some fields changed."""
    unknown = set(changes) - set(obj._fields)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
    return type(obj)(**{n: changes[n] if n in changes else getattr(obj, n) for n in obj._fields})
