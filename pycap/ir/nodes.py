"""The intermediate representation between the filter AST and eBPF.

Two small families of frozen value objects:

* values (32-bit unsigned): ``Imm``, ``Load`` (packet bytes at an absolute
  offset, big-endian; an out-of-bounds load rejects the whole packet, as in
  classic BPF), ``WireLen``, ``Ctx`` (``__sk_buff`` fields) and ``Alu``;
* predicates: ``Cmp``, ``All`` (and), ``Any`` (or), ``Negation`` and the
  constants ``TRUE``/``FALSE``.

A filter is one predicate; the program accepts (returns the snap length)
when it holds and returns 0 otherwise.  Evaluation is left to right with
short-circuiting, which fixes which loads happen and so which packets an
out-of-bounds load rejects.
"""

from __future__ import annotations

from pycap.frozen import frozen


def node(cls):
    """A frozen, slotted value class whose hash is computed once: the
    optimizer and the code generator hash and compare IR trees a lot, and
    nodes never change."""
    return frozen(cls, cached_hash=True)


MASK32 = 0xFFFFFFFF


@node
class Imm:
    value: int


@node
class Load:
    offset: "Value"
    size: int          # 1, 2 or 4 bytes


@node
class WireLen:
    """The packet's original length (libpcap's ``len``)."""


@node
class Ctx:
    """A ``struct __sk_buff`` field: ``pkt_type``, ``ifindex``, ``vlan_present``,
    ``vlan_tci``, ``protocol``."""

    field: str


@node
class Alu:
    op: str            # add sub mul div mod and or xor lsh rsh neg
    left: "Value"
    right: "Value"     # ignored for neg (Imm(0))


@node
class Var:
    """A value computed earlier on every path to here by a ``Def`` (libpcap's
    scratch registers: the variable offsets after ``geneve``)."""

    name: str


Value = Imm | Load | WireLen | Ctx | Alu | Var


@node
class Cmp:
    op: str            # eq gt ge set  (set: left & right != 0)
    left: Value
    right: Value


@node
class All:
    items: tuple["Pred", ...]


@node
class Any:
    items: tuple["Pred", ...]


@node
class Negation:
    item: "Pred"


@node
class Const:
    value: bool


@node
class ProtoChain:
    """libpcap's ``protochain``: follow the header chain from the IPv4 (or IPv6)
    header, through AH (and IPv6 extension headers), and test whether it
    reaches protocol ``proto``.  ``base`` is the network header's offset.
    A loop, so the backends implement it directly rather than through the
    other nodes."""

    version: int        # 4 or 6
    proto: int
    base: int


PROTOCHAIN_MAX_STEPS = 256   # libpcap has no bound (and loops forever on AH cycles); pycap stops here
IPPROTO_NONE, IPPROTO_AH = 59, 51
IPV6_EXTENSION_HEADERS = (0, 60, 43, 44)   # hop-by-hop, destination, routing, fragment


@node
class Transport6:
    """Walk the IPv6 extension headers (hop-by-hop, routing, destination options,
    a first fragment, AH) from the IPv6 header at ``base`` to an upper-layer
    header of protocol ``proto``; when found, define ``Var(var)`` as that
    header's offset in the packet.  What ``tcp[...]`` needs over IPv6, where
    libpcap looks only at IPv4.  At most TRANSPORT6_MAX_STEPS headers."""

    proto: int
    base: int
    var: str


@node
class OneOf:
    """``left`` equals one of ``values``: a run of ``==`` tests of one value
    with constants inside an ``or`` (``port 1 or port 2 or ...``) as one test
    of the decision graph (pycap.ir.cfg makes them); predicates spell it as
    an ``any`` of ``Cmp``."""

    left: "Value"
    values: tuple[int, ...]


TRANSPORT6_MAX_STEPS = 16
IPV6_FRAGMENT = 44


@node
class Def:
    """Compute ``value`` and keep it as ``Var(name)``; always true."""

    name: str
    value: "Value"


TRUE = Const(True)
FALSE = Const(False)

Pred = Cmp | All | Any | Negation | Const | ProtoChain | Def | Transport6 | OneOf


def at(base: "int | Value", k: int = 0) -> "int | Value":
    """``base + k`` for an offset that is a number or (after ``geneve``) a value."""
    if isinstance(base, int):
        return base + k
    if k == 0:
        return base
    if isinstance(base, Alu) and base.op == "add" and isinstance(base.right, Imm):
        return Alu("add", base.left, Imm((base.right.value + k) & MASK32))
    return Alu("add", base, Imm(k & MASK32))


def as_value(x: "int | Value") -> "Value":
    return Imm(x & MASK32) if isinstance(x, int) else x


def alu_eval(op: str, a: int, b: int) -> int | None:
    """Fold a 32-bit ALU operation; None when it must not be folded
    (division by zero is a run-time reject)."""
    if op == "add":
        return (a + b) & MASK32
    if op == "sub":
        return (a - b) & MASK32
    if op == "mul":
        return (a * b) & MASK32
    if op == "div":
        return a // b if b else None
    if op == "mod":
        return a % b if b else None
    if op == "and":
        return a & b
    if op == "or":
        return a | b
    if op == "xor":
        return a ^ b
    if op == "lsh":
        return (a << b) & MASK32 if b < 32 else 0
    if op == "rsh":
        return a >> b if b < 32 else 0
    if op == "neg":
        return (-a) & MASK32
    raise ValueError(op)


def cmp_eval(op: str, a: int, b: int) -> bool:
    if op == "eq":
        return a == b
    if op == "gt":
        return a > b
    if op == "ge":
        return a >= b
    if op == "set":
        return (a & b) != 0
    raise ValueError(op)


# ---- smart constructors that fold as they build ------------------------------

def alu(op: str, left: Value, right: Value = Imm(0)) -> Value:
    if op in ("and", "mul") and right == Imm(0):
        return Imm(0)      # libpcap's optimizer folds these, dropping the load
    if isinstance(left, Imm) and isinstance(right, Imm):
        folded = alu_eval(op, left.value, right.value)
        if folded is not None:
            return Imm(folded)
    return Alu(op, left, right)


def cmp(op: str, left: Value, right: Value) -> Pred:
    if isinstance(left, Imm) and isinstance(right, Imm):
        return Const(cmp_eval(op, left.value, right.value))
    return Cmp(op, left, right)


def load(offset: int | Value, size: int) -> Load:
    return Load(Imm(offset) if isinstance(offset, int) else offset, size)


def eq(offset: int | Value, size: int, value: int, mask: int | None = None) -> Pred:
    """libpcap's gen_cmp/gen_mcmp: the packet field (masked) equals value."""
    field: Value = load(offset, size)
    if mask is not None and mask != (1 << (8 * size)) - 1:
        if mask == 0:
            return TRUE if value == 0 else FALSE   # libpcap's optimizer drops the load
        field = alu("and", field, Imm(mask))
    return cmp("eq", field, Imm(value & MASK32))


def _gather(items: tuple, unit: Const, absorbing: Const, kind: type) -> list | None:
    """The operands of an ``and`` (``kind`` All) or ``or`` (Any), nested ones
    of the same kind flattened, ``unit`` and repeats left out; None when one
    operand is ``absorbing`` or contradicts an earlier one."""
    out: list[Pred] = []
    seen: set[Pred] = set()
    negated: set[Pred] = set()       # x for every ``not x`` in seen
    for item in items:
        if item == unit or item in seen:
            continue           # x and x: the second test can add nothing
        if item == absorbing or _contradicts(item, seen, negated):
            return None
        seen.add(item)
        out.extend(item.items if isinstance(item, kind) else (item,))
    return out


def all_of(*items: Pred) -> Pred:
    """Conjunction, simplified the way libpcap's optimizer would: a false
    operand or ``x and not x`` make it false; repeated tests go."""
    out = _gather(items, TRUE, FALSE, All)
    if out is None:
        return FALSE
    if not out:
        return TRUE
    return out[0] if len(out) == 1 else All(tuple(out))


def any_of(*items: Pred) -> Pred:
    """Disjunction, simplified like all_of: ``x or not x`` is true, and
    ``(a and b) or a`` is ``a`` (libpcap's optimizer drops the implied test)."""
    out = _gather(items, FALSE, TRUE, Any)
    if out is None:
        return TRUE
    present = set(out)
    out = [p for p in out if not (isinstance(p, All) and p.items[0] in present)]
    if not out:
        return FALSE
    return out[0] if len(out) == 1 else Any(tuple(out))


def _contradicts(item: Pred, seen: set, negated: set) -> bool:
    """Whether ``not item`` is in ``seen``; ``negated`` holds what the
    negations in ``seen`` negate (and learns ``item``'s, if it is one)."""
    if isinstance(item, Negation):
        negated.add(item.item)
        return item.item in seen
    return item in negated


def negate(item: Pred) -> Pred:
    if isinstance(item, Const):
        return Const(not item.value)
    if isinstance(item, Negation):
        return item.item
    return Negation(item)
