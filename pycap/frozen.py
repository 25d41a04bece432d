"""``@frozen``: small immutable value classes, as ``@dataclass(frozen=True,
slots=True)`` makes them, built with one ``exec`` per class.

The filter AST and the IR are three dozen such classes, and the compiler is
imported on every start that has a filter: ``dataclasses`` took about 0.3 ms
a class to build them (a tenth of start-up).  What this makes is the subset
pycap uses: fields from the annotations (trailing ones may have defaults),
``__init__``, ``__repr__`` and ``__eq__`` as dataclasses writes them,
``__hash__`` over the fields (computed once and kept, with
``cached_hash=True``), ``__slots__``, ``__match_args__``, and no
assignment after ``__init__``.
"""

from __future__ import annotations


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen value."""


def _refuse(self, name, value=None):
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def frozen(cls=None, *, cached_hash: bool = False):
    def build(cls):
        names = tuple(cls.__dict__.get("__annotations__", {}))
        defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}
        params = ", ".join(f"{n}=_default_{n}" if n in defaults else n for n in names)
        sets = "".join(f"    _set(self, {n!r}, {n})\n" for n in names) or "    pass\n"
        if cached_hash:
            sets += "    _set(self, '_hash', None)\n"
        fields = "".join(f"self.{n}, " for n in names)
        other = "".join(f"other.{n}, " for n in names)
        shown = ", ".join(f"{n}={{self.{n}!r}}" for n in names)
        key = f"({cls.__name__!r}, {fields})" if cached_hash else f"({fields})"
        source = (
            f"def __init__(self, {params}):\n{sets}"
            f"def __repr__(self):\n    return f'{cls.__qualname__}({shown})'\n"
            "def __eq__(self, other):\n"
            "    if other.__class__ is self.__class__:\n"
            f"        return ({fields}) == ({other})\n"
            "    return NotImplemented\n")
        if cached_hash:
            source += ("def __hash__(self):\n    h = self._hash\n    if h is None:\n"
                       f"        h = hash({key})\n        _set(self, '_hash', h)\n    return h\n")
        else:
            source += f"def __hash__(self):\n    return hash({key})\n"
        scope = {"_set": object.__setattr__, **{f"_default_{n}": v for n, v in defaults.items()}}
        exec(source, scope)      # noqa: S102 - a fixed template over the class's own field names
        namespace = {k: v for k, v in cls.__dict__.items()
                     if k not in defaults and k not in ("__dict__", "__weakref__")}
        namespace.update({m: scope[m] for m in ("__init__", "__repr__", "__eq__", "__hash__")})
        namespace["__slots__"] = names + (("_hash",) if cached_hash else ())
        namespace["__match_args__"] = names
        namespace["__setattr__"] = _refuse
        namespace["__delattr__"] = _refuse
        namespace["_fields"] = names
        return type(cls)(cls.__name__, cls.__bases__, namespace)
    return build if cls is None else build(cls)
