"""What the code generator decides about a decision graph before it emits
anything: which values get a home register (choose_homes) and whether and
where the packet's leading bytes are copied to the stack (copy_point,
plan_copy).  Pure functions of the graph; ``pycap.bpf.codegen`` acts on them.
"""

from __future__ import annotations

from pycap.bpf.isa import R7, R8, R9
from pycap.ir import cfg
from pycap.ir import nodes as ir

CALLEE_SAVED = (R7, R8, R9)
MAX_OFFSET = 0x40000          # no frame is longer; larger computed offsets reject
# The header copy: one bpf_skb_load_bytes of the packet's first bytes to the
# stack, at COPY_BASE, instead of one helper call per LD_ABS.  The verifier
# wants aligned stack reads; starting the copy 2 bytes past a 4-byte boundary
# aligns IPv4/IPv6 addresses and the 16-bit fields behind an Ethernet header.
COPY_BASE = -510
COPY_MAX = 96                 # bytes copied at most
COPY_MIN_LOADS = 4            # constant loads it must hold to pay (a copy costs about
                              # two LD_ABS: benchmarks/filter_cost.py)


def max_value(v: ir.Value) -> int:
    """An upper bound of ``v`` (32-bit), to drop offset guards that cannot fire."""
    if isinstance(v, ir.Imm):
        return v.value
    if isinstance(v, ir.Load):
        return (1 << (8 * v.size)) - 1
    if isinstance(v, ir.Alu):
        a = max_value(v.left)
        b = max_value(v.right) if v.op != "neg" else 0
        bound = {"add": a + b, "mul": a * b, "and": min(a, b), "or": (1 << max(a, b).bit_length()) - 1,
                 "rsh": a, "div": a, "mod": min(a, b)}.get(v.op)
        if bound is not None and bound <= ir.MASK32:
            return bound
    return ir.MASK32


def _operands(op) -> tuple[ir.Value, ...]:
    """The values a graph node computes."""
    if isinstance(op, ir.Cmp):
        return (op.left, op.right)
    if isinstance(op, ir.Def):
        return (op.value,)
    if isinstance(op, ir.OneOf):
        return (op.left,)
    return ()


def _spine(v: ir.Value) -> list[ir.Value]:
    """``v`` and the values computing it starts with, outermost first: the
    one r0 can already hold when the node begins."""
    chain = [v]
    while True:
        if isinstance(v, ir.Load) and not isinstance(v.offset, ir.Imm):
            v = v.offset
        elif isinstance(v, ir.Alu):
            v = v.left
        else:
            return chain
        chain.append(v)


def _r0_after(op) -> ir.Value | None:
    """What r0 holds after a node (roughly: the value it compared)."""
    if isinstance(op, ir.Cmp) and isinstance(op.right, ir.Imm) and not isinstance(op.left, ir.Imm):
        return op.left
    if isinstance(op, ir.OneOf):
        return op.left
    if isinstance(op, ir.Def):
        return op.value
    return None


_EMPTY: frozenset = frozenset()
_COPY = object()      # memo key: the header copy's length
_NO_VALUES = (_EMPTY, _EMPTY, False, None)


def stackable(v: ir.Load, copy_len: int) -> bool:
    """Whether a copy of ``copy_len`` leading bytes holds ``v``, aligned."""
    if not isinstance(v.offset, ir.Imm):
        return False
    k = v.offset.value
    return k + v.size <= copy_len and (COPY_BASE + k) % v.size == 0


def _value_facts(v: ir.Value, memo: dict) -> tuple[tuple, frozenset, bool, bool]:
    """``(parts, kept, scratch, reads)`` of a value: the value and its
    sub-values, those worth a register if reused (packet loads, but for one
    instruction from the header copy, and arithmetic on them), whether it has
    two-operand arithmetic, whether it reads the packet.  Plain tuples: this
    runs for every value of every compile."""
    found = memo.get(v)
    if found is None:
        if isinstance(v, ir.Load):
            parts, kept, scratch, _ = _value_facts(v.offset, memo)
            found = ((v,) + parts, kept if stackable(v, memo[_COPY]) else kept | {v}, scratch, True)
        elif isinstance(v, ir.Alu):
            lparts, lkept, lscratch, lreads = _value_facts(v.left, memo)
            rparts, rkept, rscratch, rreads = _value_facts(v.right, memo)
            kept = lkept | rkept
            found = ((v,) + lparts + rparts, kept | {v} if lreads or rreads else kept,
                     lscratch or rscratch or (v.op != "neg" and not isinstance(v.right, ir.Imm)),
                     lreads or rreads)
        else:
            found = ((v,), _EMPTY, False, False)
        memo[v] = found
    return found


def _node_values(op, memo: dict) -> tuple[frozenset, frozenset, bool, object]:
    """``(kept, leading, scratch, r0_after)`` of a node's test: the values
    worth a register if reused, those r0 may already hold when it starts (its
    spines), whether it needs a scratch register, and what r0 holds after it."""
    found = memo.get(op)
    if found is None:
        if isinstance(op, ir.OneOf) or (isinstance(op, ir.Cmp) and isinstance(op.right, ir.Imm)):
            _, kept, scratch, _ = _value_facts(op.left, memo)
            found = (kept, frozenset(_spine(op.left)), scratch, _r0_after(op))
        elif isinstance(op, (ir.Cmp, ir.Def)):
            facts = [_value_facts(v, memo) for v in _operands(op)]
            kept = facts[0][1].union(*(f[1] for f in facts[1:]))
            leading = frozenset(x for v in _operands(op) for x in _spine(v))
            found = (kept, leading, isinstance(op, ir.Cmp) or any(f[2] for f in facts),
                     _r0_after(op))
        else:
            found = _NO_VALUES
        memo[op] = found
    return found


def _recomputed(order: list[cfg.Node], index: dict, facts: list[tuple],
                memo: dict) -> list[frozenset]:
    """Per node, the kept values it computes that r0 does not bring in from
    every node before it (``tcp or udp`` compares the ethertype twice after
    one load; a port compared with several numbers in a row is read once,
    and so is the offset it is read at)."""
    entry: dict[int, object] = {}
    out = []
    for i, n in enumerate(order):
        held = entry.get(i)
        values, leading, _, after = facts[i]
        if held is not None and held in values and held in leading:
            values = values - memo[held][1]
        out.append(values)
        for s in n.successors():
            j = index.get(id(s))
            if j is not None:
                entry[j] = after if entry.get(j, after) == after else None
    return out


def choose_homes(order: list[cfg.Node], copy_len: int = 0) -> dict[ir.Value, int]:
    """Home registers for the values that some path through the graph computes
    more than once, the most reused first.  Two values share a register when
    no path uses one between two uses of the other (the ethertype, then the
    IPv4 protocol): sharing then costs no reload."""
    memo: dict = {_COPY: copy_len}
    facts = [_node_values(n.op, memo) for n in order]
    seen: set = set()
    if not any(f[0] & seen or seen.update(f[0]) for f in facts):
        return {}       # no value in two nodes
    index = {id(n): i for i, n in enumerate(order)}
    kept = _recomputed(order, index, facts, memo)
    counted: dict = {}
    for values in kept:
        for v in values:
            counted[v] = counted.get(v, 0) + 1
    candidates = {v for v, c in counted.items() if c >= 2}
    if not candidates:
        return {}
    # most uses of each candidate along one path from each node, bottom up
    succ = [[index[id(x)] for x in n.successors() if id(x) in index] for n in order]
    most: list[dict] = [{}] * len(order)
    for i in range(len(order) - 1, -1, -1):
        counts: dict = {}
        for j in succ[i]:
            for v, c in most[j].items():
                if c > counts.get(v, 0):
                    counts[v] = c
        for v in kept[i] & candidates:
            counts[v] = counts.get(v, 0) + 1
        most[i] = counts
    reused = sorted((v for v, c in most[0].items() if c >= 2),
                    key=lambda v: (-most[0][v], -len(memo[v][0])))
    regs = CALLEE_SAVED[:2] if any(f[2] for f in facts) else CALLEE_SAVED
    homes: dict[ir.Value, int] = {}
    for v in reused:
        if any(v in memo[k][0] and most[0][v] <= most[0][k] for k in homes):
            continue            # only ever computed as part of a kept value
        homes[v] = None         # a register below
    if len(homes) <= len(regs):
        return dict(zip(homes, regs))
    return _share_registers(list(homes), regs, kept, succ)


def _share_registers(values: list, regs: tuple, kept: list, succ: list) -> dict:
    """More values to keep than registers: a value takes a register already
    given to others when no path uses one of them between two uses of another."""
    n = len(kept)
    desc = [1 << i for i in range(n)]
    for i in range(n - 1, -1, -1):
        for j in succ[i]:
            desc[i] |= desc[j]
    anc = [1 << i for i in range(n)]
    for i in range(n):
        for j in succ[i]:
            anc[j] |= anc[i]
    uses: dict = {}
    for i, found in enumerate(kept):
        for v in found:
            uses[v] = uses.get(v, 0) | (1 << i)

    def region(v) -> int:
        down = up = 0
        bits, i = uses[v], 0
        while bits:
            if bits & 1:
                down |= desc[i]
                up |= anc[i]
            bits >>= 1
            i += 1
        return down & up

    homes: dict = {}
    regions = {v: region(v) for v in values}
    for v in values:
        for reg in regs:
            if all(not (uses[w] & regions[v] or uses[v] & regions[w])
                   for w, r in homes.items() if r == reg):
                homes[v] = reg
                break
    return homes


def _loads(op) -> tuple[list[tuple[int, int]], list[tuple[ir.Value, int, int]]]:
    """The packet loads of a test: ``(offset, size)`` at constant offsets, and
    ``(base, k, size)`` at ``base + k`` for a computed base (the ports behind
    the IPv4 header).  One walk over its values, no recursion."""
    constant: list = []
    indexed: list = []
    todo = list(_operands(op))
    while todo:
        v = todo.pop()
        if isinstance(v, ir.Load):
            where = v.offset
            if isinstance(where, ir.Imm):
                constant.append((where.value, v.size))
                continue
            if isinstance(where, ir.Alu) and where.op == "add" and isinstance(where.right, ir.Imm):
                indexed.append((where.left, where.right.value, v.size))
            todo.append(where)
        elif isinstance(v, ir.Alu):
            todo.append(v.left)
            todo.append(v.right)
    return constant, indexed


def copy_point(g: cfg.Graph) -> cfg.Node | None:
    """Where the header copy goes: past the leading tests that lead nowhere
    else but an exit (``vlan``, ``inbound``, the ethertype test of ``ip6
    host X``), so a packet they turn away costs no copy.  Every later node
    is behind it."""
    n = g.root
    while not n.terminal:
        inner = [s for s in n.successors() if not s.terminal]
        if len(inner) != 1:
            break
        n = inner[0]
    return None if n.terminal else n


def _aligned(base: ir.Value, size: int) -> bool:
    """Whether ``base`` is a multiple of ``size`` the verifier can see: the
    IPv4 header length, ``(ihl & 15) * 4``."""
    return size == 1 or (isinstance(base, ir.Alu) and base.op == "mul"
                         and isinstance(base.right, ir.Imm) and base.right.value % size == 0)


def stack_indexed(base: ir.Value, k: int, size: int, extent: int) -> bool:
    """Whether a copy of ``extent`` bytes holds the load at ``base + k``
    wherever ``base`` points, aligned (the bounds are checked at run time)."""
    return (max_value(base) + k + size <= extent and (COPY_BASE + k) % size == 0
            and _aligned(base, size))


def plan_copy(g: cfg.Graph, order: list[cfg.Node], at: cfg.Node | None) -> tuple[int, int]:
    """What to copy to the stack at node ``at``: ``(exact, extent)``, or
    ``(0, 0)`` for no copy.

    Every accepting path from there reads at least ``needed_lengths`` bytes
    at constant offsets (an out-of-bounds load rejects), so a packet shorter
    than that, ``exact``, is rejected at once, and loads within it become
    stack reads with no bounds check left to do.  Loads at a computed offset
    that ``COPY_MAX`` bytes always hold (the IPv4 ports) are read from the
    stack too, with their own check against ``len``; then ``extent`` bytes
    are copied, or as many as the packet has.  Loads beyond stay
    ``LD_ABS``/``LD_IND``.  One ``bpf_skb_load_bytes`` costs about two of
    those (measured), so the copy is made only when some path has enough
    loads for it to replace."""
    if at is None:
        return 0, 0
    loads: dict = {}                 # op -> (constant loads, indexed loads), once each
    for n in order:
        if n.op not in loads:
            loads[n.op] = _loads(n.op)
    if sum(len(c) + len(i) for c, i in loads.values()) < COPY_MIN_LOADS:
        return 0, 0                  # too few loads in the whole graph to pay
    exact = min(needed_lengths(g, order, loads)[id(at)], COPY_MAX)
    extent = exact
    for _, indexed in loads.values():
        for base, k, size in indexed:
            if stack_indexed(base, k, size, COPY_MAX):
                extent = max(extent, max_value(base) + k + size)

    def held(op) -> set:
        constant, indexed = loads[op]
        return {(k, size) for k, size in constant
                if k + size <= extent and (COPY_BASE + k) % size == 0} | \
            {(base, k, size) for base, k, size in indexed
             if stack_indexed(base, k, size, extent)}

    most: dict[int, set] = {id(g.accept): set(), id(g.reject): set()}
    for n in reversed(order):      # the path with the most distinct such loads
        below = max((most[id(x)] for x in n.successors()), key=len)
        most[id(n)] = below | held(n.op)
    return (exact, extent) if len(most[id(at)]) >= COPY_MIN_LOADS else (0, 0)


NEVER = 1 << 32       # the length "needed" on the way to REJECT: no packet is that long


def needed_lengths(g: cfg.Graph, order: list[cfg.Node], loads: dict | None = None) -> dict[int, int]:
    """For each node, a length no accepted packet is shorter than: along every
    path from it to ACCEPT some constant-offset load reaches that far, and an
    out-of-bounds load rejects.  Checking ``len`` against it once replaces the
    bounds check of every load from the header copy up to there."""
    need = {id(g.accept): 0, id(g.reject): NEVER}
    for n in reversed(order):
        constant = (loads[n.op] if loads is not None else _loads(n.op))[0]
        end = max((k + size for k, size in constant), default=0)
        need[id(n)] = max(end, min(need[id(s)] for s in n.successors()))
    return need
