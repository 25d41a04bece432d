"""Run an IR predicate, or the decision graph the eBPF is generated from,
over packet bytes in Python.

The offline path walks the graph (``runs``) when the kernel cannot run the
program (no privileges, or a frame too large for BPF_PROG_TEST_RUN): the
graph is what the eBPF does, tests it node for node, and drops the same
loads where a test's two edges meet, so both decide a short packet alike.
``matches`` runs a predicate tree; tests use it as a second opinion.
Semantics are classic BPF's: 32-bit unsigned values, and a load outside the
captured bytes rejects the packet.
"""

from __future__ import annotations

from pycap.ir import nodes as ir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pycap.ir.cfg import Graph


class _Reject(Exception):
    pass


def _value(v: ir.Value, data: bytes, wire_len: int, ctx: dict[str, int]) -> int:
    if isinstance(v, ir.Imm):
        return v.value
    if isinstance(v, ir.Load):
        off = _value(v.offset, data, wire_len, ctx)
        if off + v.size > len(data):
            raise _Reject
        return int.from_bytes(data[off:off + v.size], "big")
    if isinstance(v, ir.WireLen):
        return wire_len
    if isinstance(v, ir.Ctx):
        return ctx.get(v.field, 0)
    if isinstance(v, ir.Var):
        return ctx.get(":" + v.name, 0)     # not set on this path: 0, as the eBPF reads
    if isinstance(v, ir.Alu):
        a = _value(v.left, data, wire_len, ctx)
        b = 0 if v.op == "neg" else _value(v.right, data, wire_len, ctx)
        if v.op in ("lsh", "rsh"):
            b &= 31   # what eBPF (and x86) do with the shift count
        result = ir.alu_eval(v.op, a, b)
        if result is None:
            raise _Reject   # division by zero rejects, as in classic BPF
        return result
    raise AssertionError(v)


def _byte(data: bytes, off: int) -> int:
    if off >= len(data):
        raise _Reject
    return data[off]


def _protochain(p: ir.ProtoChain, data: bytes) -> bool:
    """gen_protochain's loop, step for step (including its AH length quirk:
    after AH the offset is the AH length alone, not added to the old one)."""
    base = p.base
    if p.version == 4:
        a, x = _byte(data, base + 9), (_byte(data, base) & 0x0F) * 4
    else:
        a, x = _byte(data, base + 6), 40
    for _ in range(ir.PROTOCHAIN_MAX_STEPS):
        if a == p.proto or a == ir.IPPROTO_NONE:
            break
        if p.version == 6 and a in ir.IPV6_EXTENSION_HEADERS:
            a, x = _byte(data, base + x), (x + (_byte(data, base + x + 1) + 1) * 8) & ir.MASK32
            continue
        if a != ir.IPPROTO_AH:
            break
        a, x = _byte(data, base + x), ((_byte(data, base + x + 1) + 2) * 4) & ir.MASK32
    else:
        return False
    return a == p.proto


def _transport6(p: ir.Transport6, data: bytes, ctx: dict[str, int]) -> bool:
    base = p.base
    a, x = _byte(data, base + 6), 40
    for _ in range(ir.TRANSPORT6_MAX_STEPS):
        if a == p.proto:
            ctx[":" + p.var] = base + x
            return True
        if a == ir.IPV6_FRAGMENT:
            if (_byte(data, base + x + 2) << 8 | _byte(data, base + x + 3)) & 0xFFF8:
                return False            # not the first fragment: no upper-layer header
            a, x = _byte(data, base + x), x + 8
        elif a in (0, 43, 60):
            a, x = _byte(data, base + x), x + (_byte(data, base + x + 1) + 1) * 8
        elif a == ir.IPPROTO_AH:
            a, x = _byte(data, base + x), x + (_byte(data, base + x + 1) + 2) * 4
        else:
            return False
    return False


def _pred(p: ir.Pred, data: bytes, wire_len: int, ctx: dict[str, int]) -> bool:
    if isinstance(p, ir.Const):
        return p.value
    if isinstance(p, ir.ProtoChain):
        return _protochain(p, data)
    if isinstance(p, ir.Def):
        ctx[":" + p.name] = _value(p.value, data, wire_len, ctx)
        return True
    if isinstance(p, ir.Transport6):
        return _transport6(p, data, ctx)
    if isinstance(p, ir.Cmp):
        return ir.cmp_eval(p.op, _value(p.left, data, wire_len, ctx),
                           _value(p.right, data, wire_len, ctx))
    if isinstance(p, ir.OneOf):
        return _value(p.left, data, wire_len, ctx) in p.values
    if isinstance(p, ir.Negation):
        return not _pred(p.item, data, wire_len, ctx)
    if isinstance(p, ir.All):
        return all(_pred(item, data, wire_len, ctx) for item in p.items)
    if isinstance(p, ir.Any):
        return any(_pred(item, data, wire_len, ctx) for item in p.items)
    raise AssertionError(p)


def matches(p: ir.Pred, data: bytes, wire_len: int | None = None,
            ctx: dict[str, int] | None = None) -> bool:
    """Whether the filter accepts the packet (False when a load is out of bounds)."""
    try:
        return _pred(p, data, len(data) if wire_len is None else wire_len, dict(ctx or {}))
    except _Reject:
        return False


def runs(g: Graph, data: bytes, wire_len: int | None = None) -> bool:
    """Whether the decision graph ``g`` accepts the packet: its tests in its
    order, a ``Def`` (one successor) always taken."""
    n, ctx = g.root, {}
    wire = len(data) if wire_len is None else wire_len
    try:
        while not n.terminal:
            held = _pred(n.op, data, wire, ctx)       # a Def sets its variable
            n = n.yes if held or n.no is None else n.no
    except _Reject:
        return False
    return n is g.accept
