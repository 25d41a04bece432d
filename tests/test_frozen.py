"""pycap.frozen: the value classes the AST, the IR and the capture are made of."""

from __future__ import annotations

import pytest

from pycap.frozen import FrozenInstanceError, factory, frozen, named_tuple, record, replace


def test_fields_defaults_and_factory():
    @frozen
    class Point:
        x: int
        y: int = 0
        tags: tuple = factory(tuple)

    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 0, ())
    assert Point(1, y=2).y == 2
    assert Point._fields == Point.__match_args__ == ("x", "y", "tags")
    assert Point.__slots__ == ("x", "y", "tags")
    assert repr(Point(1, 2)) == "test_fields_defaults_and_factory.<locals>.Point(x=1, y=2, tags=())"
    with pytest.raises(TypeError):
        Point()
    with pytest.raises(TypeError):
        Point(1, 2, (), 4)


def test_factory_is_called_per_instance():
    @record
    class Bag:
        items: list = factory(list)

    a, b = Bag(), Bag()
    a.items.append(1)
    assert b.items == [] and a.items == [1]
    assert Bag([5]).items == [5]


def test_frozen_refuses_assignment_and_hashes_by_value():
    @frozen
    class Key:
        a: int
        b: str

    k = Key(1, "x")
    with pytest.raises(FrozenInstanceError):
        k.a = 2
    with pytest.raises(FrozenInstanceError):
        del k.b
    assert k == Key(1, "x") and k != Key(2, "x")
    assert hash(k) == hash(Key(1, "x"))
    assert len({k, Key(1, "x"), Key(1, "y")}) == 2
    assert k.__eq__(("not", "a key")) is NotImplemented


def test_other_classes_with_the_same_fields_are_not_equal():
    @frozen
    class A:
        v: int

    @frozen
    class B:
        v: int

    assert A(1) != B(1)


def test_cached_hash_is_computed_once():
    calls = []

    class Counted(int):
        def __hash__(self):
            calls.append(1)
            return int.__hash__(self)

    @frozen(cached_hash=True)
    class Node:
        value: int

    n = Node(Counted(3))
    assert hash(n) == hash(n) == hash(Node(3))
    assert len(calls) == 1
    assert Node.__slots__ == ("value", "_hash")


def test_record_is_mutable_and_unhashable():
    @record
    class State:
        count: int = 0

    s = State()
    s.count += 1
    assert s == State(1)
    with pytest.raises(TypeError):
        hash(s)


def test_post_init_runs_after_the_fields():
    seen = []

    @frozen
    class Checked:
        n: int

        def __post_init__(self):
            seen.append(self.n)
            if self.n < 0:
                raise ValueError("negative")

    Checked(4)
    assert seen == [4]
    with pytest.raises(ValueError):
        Checked(-1)


def test_slots_false_allows_a_cached_property():
    from functools import cached_property

    @frozen(slots=False)
    class Lazy:
        n: int

        @cached_property
        def double(self):
            return self.n * 2

    assert Lazy(3).double == 6
    with pytest.raises(ValueError):
        frozen(type("Bad", (), {"__annotations__": {"n": "int"}}), slots=False, cached_hash=True)


def test_replace():
    @frozen
    class Pair:
        a: int
        b: int

    assert replace(Pair(1, 2), b=5) == Pair(1, 5)
    with pytest.raises(TypeError, match="no field 'c'"):
        replace(Pair(1, 2), c=3)


def test_methods_are_compiled_on_first_use():
    """Until then the class holds stand-ins: ``__init__`` is compiled at the
    first instance, ``__eq__`` and ``__hash__`` at the first comparison or
    hash (many classes are made and never compared)."""
    @frozen(cached_hash=True)
    class Late:
        a: int
        b: int = 2

    stand_ins = {m: Late.__dict__[m] for m in ("__init__", "__eq__", "__hash__")}
    first = Late(1)
    compiled = Late.__dict__["__init__"]
    assert compiled is not stand_ins["__init__"]
    assert compiled.__qualname__.endswith("Late.__init__")
    assert Late.__dict__["__eq__"] is stand_ins["__eq__"]         # not compared yet
    assert first == Late(1, 2) and hash(first) == hash(Late(1))
    assert Late.__dict__["__eq__"].__qualname__.endswith("Late.__eq__")
    assert Late.__dict__["__hash__"].__qualname__.endswith("Late.__hash__")
    Late(3)
    assert Late.__dict__["__init__"] is compiled


def test_hash_first_then_compare():
    @frozen
    class Key:
        a: int

    assert len({Key(1), Key(1), Key(2)}) == 2          # __hash__'s stand-in first
    assert Key(1) == Key(1) and Key(1) != Key(2)


def test_instances_made_without_init_compare_and_hash():
    """A value made with ``__new__`` can exist before any ``__init__`` ran:
    the stand-in ``__eq__`` and ``__hash__`` must work for it too."""
    @frozen
    class Made:
        a: int
        b: str

    def raw(a, b):
        value = Made.__new__(Made)
        object.__setattr__(value, "a", a)
        object.__setattr__(value, "b", b)
        return value

    assert raw(1, "x") == raw(1, "x") and raw(1, "x") != raw(2, "x")
    assert hash(raw(1, "x")) == hash(Made(1, "x"))
    assert raw(1, "x") == Made(1, "x")


def test_subclass_without_decorator_uses_the_base_methods():
    @frozen
    class Base:
        a: int

    class Child(Base):
        __slots__ = ()

    c = Child(1)
    assert c.a == 1 and isinstance(c, Base)
    assert Base(1) == Base(1)


def test_named_tuple_is_typing_namedtuple_without_typing():
    @named_tuple
    class Insn:
        """One instruction."""

        code: int
        dst: int = 0
        target: str | None = None

        @property
        def high(self) -> int:
            return self.code >> 4

        def encode(self) -> bytes:
            return bytes((self.code, self.dst))

    i = Insn(0x95)
    assert i == (0x95, 0, None) and isinstance(i, tuple)
    assert (i.high, i.encode()) == (9, b"\x95\x00")
    assert Insn._fields == ("code", "dst", "target")
    assert Insn.__doc__ == "One instruction."
    assert type(i._replace(dst=1)) is Insn and i._replace(dst=1).dst == 1
    assert repr(Insn(1, 2, "x")) == "Insn(code=1, dst=2, target='x')"
    assert Insn.__qualname__.endswith("<locals>.Insn")
    with pytest.raises(AttributeError):
        i.code = 1
    with pytest.raises(TypeError):
        Insn()


def test_named_tuple_refuses_a_default_before_a_plain_field():
    class Bad:
        a: int = 0
        b: int

    with pytest.raises(TypeError, match="without a default"):
        named_tuple(Bad)
