"""IR -> eBPF socket filter.

Registers: r6 holds the context (``LD_ABS``/``LD_IND`` require it); r7 and
r8 hold intermediate values; ``LD_ABS``/``LD_IND`` leave their result in r0
and clobber r1-r5, so a value that is compared at once stays in r0.
Packet loads use ``LD_ABS``/``LD_IND``, whose out-of-bounds behaviour (the
program returns 0) is exactly classic BPF's.  Arithmetic and comparisons are
32-bit (``BPF_ALU``, ``BPF_JMP32``) as in classic BPF.

Common subexpressions: when the first thing a compound test computes is a
value that the test uses again (the ethertype in ``tcp or udp``, the IPv4
header length in ``port 80``), it is computed once, kept in a stack slot,
and read back (one ``ldx``) instead of being loaded from the packet again.
Computing it first changes nothing, since it was computed first anyway, so
out-of-bounds behaviour is unchanged.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

from pycap.bpf import isa
from pycap.bpf.asm import assemble
from pycap.bpf.isa import R0, R1, R6, R7, R8, R10, AluOp, Insn, JmpOp, Label
from pycap.ir import nodes as ir

TEMP_REGS = (R7, R8)
MAX_OFFSET = 0x40000          # no frame is longer; larger computed offsets reject
MAX_CACHE_SLOTS = 48          # 8-byte stack slots for cached values (r10-8 .. r10-384)
BATCH_MAX = 64                # bytes of the packet copied to the stack in one helper call
# Where that copy lives.  The verifier wants aligned stack reads; starting the
# copy 2 bytes past a 4-byte boundary aligns IPv4/IPv6 addresses and most
# 16-bit fields behind an Ethernet header.  Unaligned fields use LD_ABS.
BATCH_BASE = -510
BATCH_MIN_LOADS = 4           # loads on the expected path before one copy pays (measured:
                              # a bpf_skb_load_bytes costs about two LD_ABS)
SKB_OFFSETS = {"len": 0, "pkt_type": 4, "mark": 8, "protocol": 16, "vlan_present": 20,
               "vlan_tci": 24, "ifindex": 40, "cb0": 48}
ALU_OF = {"add": AluOp.ADD, "sub": AluOp.SUB, "mul": AluOp.MUL, "div": AluOp.DIV,
          "mod": AluOp.MOD, "and": AluOp.AND, "or": AluOp.OR, "xor": AluOp.XOR,
          "lsh": AluOp.LSH, "rsh": AluOp.RSH}
JMP_OF = {"eq": JmpOp.JEQ, "gt": JmpOp.JGT, "ge": JmpOp.JGE, "set": JmpOp.JSET}
ACCEPT, REJECT = "accept", "reject"


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


def _subvalues(v: ir.Value):
    yield v
    if isinstance(v, ir.Load):
        yield from _subvalues(v.offset)
    elif isinstance(v, ir.Alu):
        yield from _subvalues(v.left)
        yield from _subvalues(v.right)


def _values_in(p: ir.Pred):
    if isinstance(p, ir.Cmp):
        yield from _subvalues(p.left)
        yield from _subvalues(p.right)
    elif isinstance(p, (ir.All, ir.Any)):
        for item in p.items:
            yield from _values_in(item)
    elif isinstance(p, ir.Negation):
        yield from _values_in(p.item)


def _reads_packet(v: ir.Value) -> bool:
    return any(isinstance(s, (ir.Load, ir.Ctx, ir.WireLen)) for s in _subvalues(v))


def _leading_values(p: ir.Pred) -> list[ir.Value]:
    """Values computed before anything else when ``p`` runs: the left operand of
    its first comparison and, along the way, that operand's left-most parts."""
    while isinstance(p, (ir.All, ir.Any, ir.Negation)):
        p = p.item if isinstance(p, ir.Negation) else p.items[0]
    if not isinstance(p, ir.Cmp):
        return []
    chain, v = [], p.left
    while True:
        chain.append(v)
        if isinstance(v, ir.Load) and not isinstance(v.offset, ir.Imm):
            v = v.offset
        elif isinstance(v, ir.Alu):
            v = v.left
        else:
            return chain


@dataclass
class _Emitter:
    wire_len_field: str
    items: list = field(default_factory=list)
    labels: itertools.count = field(default_factory=itertools.count)
    cache: dict = field(default_factory=dict)     # Value -> stack offset
    slots_used: int = 0
    fresh: tuple | None = None    # (value, register) just computed and still in it
    counted: dict = field(default_factory=dict)   # id(pred) -> Counter of its values
    batch: int = 0                # bytes of the packet already copied to the stack
    variables: dict = field(default_factory=dict)  # Var name -> stack offset

    def values_of(self, p: ir.Pred) -> Counter:
        found = self.counted.get(id(p))
        if found is None:
            if isinstance(p, (ir.All, ir.Any)):
                found = Counter()
                for item in p.items:
                    found.update(self.values_of(item))
            elif isinstance(p, ir.Negation):
                found = self.values_of(p.item)
            else:
                found = Counter(_values_in(p))
            self.counted[id(p)] = found
        return found

    def label(self) -> str:
        return f"L{next(self.labels)}"

    def emit(self, *insns: Insn | Label) -> None:
        self.fresh = None
        self.items.extend(insns)

    # ---- values -----------------------------------------------------------------------
    def value(self, v: ir.Value, depth: int, r0_ok: bool = False) -> int:
        """Emit code computing ``v``; returns the register holding it: r0 when
        ``r0_ok`` and that saves a move, else TEMP_REGS[depth]."""
        reg = TEMP_REGS[depth]
        if self.fresh == (v, reg):
            self.fresh = None
            return reg
        if v in self.cache:
            self.emit(isa.ldx_mem(8, reg, R10, self.cache[v]))
            return reg
        if isinstance(v, ir.Imm):
            self.emit(isa.mov32_imm(reg, v.value))
        elif isinstance(v, ir.Load):
            if not self.load(v, depth):
                return reg
            if r0_ok:
                return R0
            self.emit(isa.mov32_reg(reg, R0))
        elif isinstance(v, (ir.WireLen, ir.Ctx)):
            name = self.wire_len_field if isinstance(v, ir.WireLen) else v.field
            self.emit(isa.ldx_mem(4, reg, R6, SKB_OFFSETS[name]))
        elif isinstance(v, ir.Alu):
            return self.alu(v, depth, r0_ok)
        elif isinstance(v, ir.Var):
            self.emit(isa.ldx_mem(8, reg, R10, self.variables[v.name]))
        else:
            raise AssertionError(v)
        return reg

    def load(self, v: ir.Load, depth: int) -> bool:
        """Emit the load into r0; False when it can only reject."""
        offset, extra = v.offset, 0
        if isinstance(offset, ir.Alu) and offset.op == "add" and isinstance(offset.right, ir.Imm) \
                and offset not in self.cache:
            offset, extra = offset.left, offset.right.value     # LD_IND's immediate does the add
        if isinstance(offset, ir.Imm):
            where = offset.value + extra
            if where >= MAX_OFFSET:
                self.emit(isa.ja(REJECT))
                return False
            if where + v.size <= self.batch and (BATCH_BASE + where) % v.size == 0:
                # already on the stack: no helper call
                self.emit(isa.ldx_mem(v.size, R0, R10, BATCH_BASE + where))
                if v.size > 1:
                    self.emit(isa.to_be(R0, 8 * v.size))
                return True
            self.emit(isa.ld_abs(v.size, where))
            return True
        reg = self.value(offset, depth)
        if max_value(offset) + extra >= MAX_OFFSET:
            if extra:
                self.emit(isa.jmp32_imm(JmpOp.JGT, reg, MAX_OFFSET - extra, REJECT))
            else:
                self.emit(isa.jmp32_imm(JmpOp.JGT, reg, MAX_OFFSET, REJECT))
        self.emit(isa.ld_ind(v.size, reg, extra))
        return True

    def alu(self, v: ir.Alu, depth: int, r0_ok: bool) -> int:
        simple = v.op == "neg" or isinstance(v.right, ir.Imm)
        reg = self.value(v.left, depth, r0_ok and simple)
        if v.op == "neg":
            self.emit(Insn(isa.Class.ALU | AluOp.NEG, reg))
            return reg
        op = ALU_OF[v.op]
        if isinstance(v.right, ir.Imm):
            if v.op in ("div", "mod") and v.right.value == 0:
                self.emit(isa.ja(REJECT))
                return reg
            self.emit(isa.alu32_imm(op, reg, v.right.value))
            return reg
        if depth + 1 < len(TEMP_REGS):
            other = self.value(v.right, depth + 1)
        else:   # out of registers: spill the left operand
            slot = self.new_slot()
            self.emit(isa.stx_mem(8, R10, reg, slot))
            self.value(v.right, depth)
            self.emit(isa.mov32_reg(R0, reg), isa.ldx_mem(8, reg, R10, slot))
            other = R0
        if v.op in ("div", "mod"):
            self.emit(isa.jmp32_imm(JmpOp.JEQ, other, 0, REJECT))
        self.emit(isa.alu32_reg(op, reg, other))
        return reg

    def new_slot(self) -> int:
        self.slots_used += 1
        return -8 * self.slots_used

    # ---- predicates ---------------------------------------------------------------------
    def pred(self, p: ir.Pred, yes: str, no: str) -> None:
        if isinstance(p, (ir.All, ir.Any)):
            self.compound(p, yes, no)
        elif isinstance(p, ir.Const):
            self.emit(isa.ja(yes if p.value else no))
        elif isinstance(p, ir.Cmp):
            self.compare(p, yes, no)
        elif isinstance(p, ir.Negation):
            self.pred(p.item, no, yes)
        elif isinstance(p, ir.ProtoChain):
            self.protochain(p, yes, no)
        elif isinstance(p, ir.Transport6):
            self.transport6(p, yes, no)
        elif isinstance(p, ir.Def):
            reg = self.value(p.value, 0)
            if p.name not in self.variables:
                self.variables[p.name] = self.new_slot()
            self.emit(isa.stx_mem(8, R10, reg, self.variables[p.name]), isa.ja(yes))
        else:
            raise AssertionError(p)

    def hoist(self, first: ir.Pred, counts: list[Counter]) -> ir.Value | None:
        """Before running ``first`` (and what follows it; ``counts`` holds the
        values of each, ``first`` included): compute and keep the value
        ``first`` computes first, if it is used again."""
        if self.slots_used >= MAX_CACHE_SLOTS:
            return None
        for v in _leading_values(first):
            if v in self.cache:
                return None          # its parts will not be computed again
            if not _reads_packet(v) or isinstance(v, (ir.Ctx, ir.WireLen)):
                continue
            if sum(c.get(v, 0) for c in counts) >= 2:
                reg = self.value(v, 0)
                slot = self.new_slot()
                self.emit(isa.stx_mem(8, R10, reg, slot))   # 8 bytes: the verifier keeps bounds
                self.cache[v] = slot
                self.fresh = (v, reg)
                return v
        return None

    def compound(self, p: ir.All | ir.Any, yes: str, no: str) -> None:
        last = len(p.items) - 1
        hoisted = []
        per_item = [self.values_of(item) for item in p.items]
        for i, item in enumerate(p.items):
            # every later item runs after this point, so what is cached here
            # stays valid for the rest of the sequence
            v = self.hoist(item, per_item[i:])
            if v is not None:
                hoisted.append(v)
            if i == last:
                self.pred(item, yes, no)
                break
            nxt = self.label()
            if isinstance(p, ir.All):
                self.pred(item, nxt, no)
            else:
                self.pred(item, yes, nxt)
            self.emit(Label(nxt))
        for v in hoisted:
            del self.cache[v]

    def compare(self, p: ir.Cmp, yes: str, no: str) -> None:
        jop = JMP_OF[p.op]
        if isinstance(p.right, ir.Imm):
            left = self.value(p.left, 0, r0_ok=True)
            self.emit(isa.jmp32_imm(jop, left, p.right.value, yes))
        else:
            left = self.value(p.left, 0)
            right = self.value(p.right, 1)
            self.emit(isa.jmp32_reg(jop, left, right, yes))
        self.emit(isa.ja(no))

    def transport6(self, p: ir.Transport6, yes: str, no: str) -> None:
        """The IPv6 extension-header walk as a bounded loop: w7 = next header,
        w8 = offset from the IPv6 header, w9 = steps; on success the upper-layer
        header's packet offset goes to the variable's stack slot."""
        from pycap.bpf.isa import R9
        again, ext, frag, ah, found = (self.label() for _ in range(5))
        a, x, steps = R7, R8, R9
        if p.var not in self.variables:
            self.variables[p.var] = self.new_slot()
        self.emit(isa.ld_abs(1, p.base + 6), isa.mov32_reg(a, R0), isa.mov32_imm(x, 40),
                  isa.mov32_imm(steps, 0), Label(again),
                  isa.jmp32_imm(JmpOp.JGE, steps, ir.TRANSPORT6_MAX_STEPS, no),
                  isa.alu32_imm(AluOp.ADD, steps, 1),
                  isa.jmp32_imm(JmpOp.JEQ, a, p.proto, found),
                  isa.jmp32_imm(JmpOp.JEQ, a, ir.IPV6_FRAGMENT, frag),
                  isa.jmp32_imm(JmpOp.JEQ, a, ir.IPPROTO_AH, ah))
        for header in (0, 43, 60):
            self.emit(isa.jmp32_imm(JmpOp.JEQ, a, header, ext))
        self.emit(isa.ja(no),
                  # hop-by-hop, routing, destination options: (len + 1) * 8 bytes
                  Label(ext), isa.ld_ind(1, x, p.base), isa.mov32_reg(a, R0),
                  isa.ld_ind(1, x, p.base + 1), isa.alu32_imm(AluOp.ADD, R0, 1),
                  isa.alu32_imm(AluOp.MUL, R0, 8), isa.alu32_reg(AluOp.ADD, x, R0), isa.ja(again),
                  # fragment: only the first one carries the upper-layer header
                  Label(frag), isa.ld_ind(2, x, p.base + 2),
                  isa.jmp32_imm(JmpOp.JSET, R0, 0xFFF8, no),
                  isa.ld_ind(1, x, p.base), isa.mov32_reg(a, R0),
                  isa.alu32_imm(AluOp.ADD, x, 8), isa.ja(again),
                  # AH: (len + 2) * 4 bytes
                  Label(ah), isa.ld_ind(1, x, p.base), isa.mov32_reg(a, R0),
                  isa.ld_ind(1, x, p.base + 1), isa.alu32_imm(AluOp.ADD, R0, 2),
                  isa.alu32_imm(AluOp.MUL, R0, 4), isa.alu32_reg(AluOp.ADD, x, R0), isa.ja(again),
                  Label(found), isa.alu32_imm(AluOp.ADD, x, p.base),
                  isa.stx_mem(8, R10, x, self.variables[p.var]), isa.ja(yes))

    def protochain(self, p: ir.ProtoChain, yes: str, no: str) -> None:
        """gen_protochain's loop as a bounded eBPF loop: w7 = current protocol,
        w8 = offset of the current header from the network header, w9 = steps."""
        from pycap.bpf.isa import R9
        again, advance6, end = self.label(), self.label(), self.label()
        a, x, steps = R7, R8, R9
        if p.version == 4:
            self.emit(isa.ld_abs(1, p.base + 9), isa.mov32_reg(a, R0),
                      isa.ld_abs(1, p.base), isa.mov32_reg(x, R0),
                      isa.alu32_imm(AluOp.AND, x, 0x0F), isa.alu32_imm(AluOp.MUL, x, 4))
        else:
            self.emit(isa.ld_abs(1, p.base + 6), isa.mov32_reg(a, R0), isa.mov32_imm(x, 40))
        self.emit(isa.mov32_imm(steps, 0), Label(again),
                  isa.jmp32_imm(JmpOp.JGE, steps, ir.PROTOCHAIN_MAX_STEPS, no),
                  isa.alu32_imm(AluOp.ADD, steps, 1),
                  isa.jmp32_imm(JmpOp.JEQ, a, p.proto, end),
                  isa.jmp32_imm(JmpOp.JEQ, a, ir.IPPROTO_NONE, end))
        if p.version == 6:
            for ext in ir.IPV6_EXTENSION_HEADERS:
                self.emit(isa.jmp32_imm(JmpOp.JEQ, a, ext, advance6))
        # AH: next protocol at +0, length at +1; the new offset is (len + 2) * 4
        self.emit(isa.jmp32_imm(JmpOp.JNE, a, ir.IPPROTO_AH, end),
                  isa.ld_ind(1, x, p.base), isa.mov32_reg(a, R0),
                  isa.ld_ind(1, x, p.base + 1), isa.mov32_reg(x, R0),
                  isa.alu32_imm(AluOp.ADD, x, 2), isa.alu32_imm(AluOp.MUL, x, 4),
                  isa.ja(again))
        if p.version == 6:
            self.emit(Label(advance6),
                      isa.ld_ind(1, x, p.base), isa.mov32_reg(a, R0),
                      isa.ld_ind(1, x, p.base + 1),
                      isa.alu32_imm(AluOp.ADD, R0, 1), isa.alu32_imm(AluOp.MUL, R0, 8),
                      isa.alu32_reg(AluOp.ADD, x, R0), isa.ja(again))
        self.emit(Label(end), isa.jmp32_imm(JmpOp.JEQ, a, p.proto, yes), isa.ja(no))


def _metadata_prefix(p: ir.Pred) -> list[ir.Pred]:
    """The leading conjuncts of ``p`` that read no packet bytes."""
    out: list[ir.Pred] = []
    for item in (p.items if isinstance(p, ir.All) else ()):
        if isinstance(item, (ir.ProtoChain, ir.Def, ir.Transport6)) or \
                any(isinstance(v, (ir.Load, ir.Var)) for v in _values_in(item)):
            break
        out.append(item)
    return out


def _constant_loads(p: ir.Pred) -> set[tuple[int, int]]:
    return {(v.offset.value, v.size) for v in _values_in(p)
            if isinstance(v, ir.Load) and isinstance(v.offset, ir.Imm)}


def batch_size(p: ir.Pred) -> int:
    """How many leading packet bytes to copy to the stack at once (0: don't).

    Every ``LD_ABS`` is a helper call once the verifier is done with it, and
    the loads are what a filter costs.  One ``bpf_skb_load_bytes`` of the
    first bytes replaces all constant-offset loads within them by a stack
    read and a byte swap."""
    sites = [(off, size) for off, size in _constant_loads(p)
             if off + size <= BATCH_MAX and (BATCH_BASE + off) % size == 0]
    if not sites or len(_expected_path_loads(p) & set(sites)) < BATCH_MIN_LOADS:
        return 0
    return max(off + size for off, size in sites)


def _expected_path_loads(p: ir.Pred) -> set[tuple[int, int]]:
    """Constant-offset loads a packet that passes the first alternative of
    every ``or`` goes through: a guess at the common case."""
    if isinstance(p, ir.All):
        return set().union(*(_expected_path_loads(i) for i in p.items))
    if isinstance(p, ir.Any):
        return _expected_path_loads(p.items[0])
    if isinstance(p, ir.Negation):
        return _expected_path_loads(p.item)
    if isinstance(p, ir.Cmp):
        return _constant_loads(p)
    return set()


def generate(pred: ir.Pred, snaplen: int, wire_len_field: str = "len") -> list[Insn]:
    """eBPF for a socket filter returning ``snaplen`` when ``pred`` holds, else 0.

    ``wire_len_field`` is ``len`` for live capture (the skb's length is the wire
    length) or ``cb0`` for savefile records, whose original length the caller
    passes in ``__sk_buff.cb[0]`` because the kernel only sees the captured bytes.

    When it pays (see batch_size), the program first copies the packet's
    leading bytes to the stack and runs a version of the filter that reads
    them there; a packet too short for the copy runs the plain version, whose
    loads reject exactly where classic BPF's would.
    """
    em = _Emitter(wire_len_field)
    em.emit(isa.mov64_reg(R6, R1))
    # tests of packet metadata only (skb fields, the length) first: they are
    # cheap, and when they fail the copy below would be wasted
    for test in _metadata_prefix(pred):
        passed = em.label()
        em.pred(test, passed, REJECT)
        em.emit(Label(passed))
    if isinstance(pred, ir.All):
        pred = ir.all_of(*pred.items[len(_metadata_prefix(pred)):])
    size = batch_size(pred)
    if size:
        slow = "plain"
        em.emit(isa.mov64_reg(R1, R6), isa.mov32_imm(isa.R2, 0), isa.mov64_reg(isa.R3, R10),
                isa.alu64_imm(AluOp.ADD, isa.R3, BATCH_BASE), isa.mov32_imm(isa.R4, size),
                isa.call(isa.BPF_FUNC_SKB_LOAD_BYTES),
                isa.Insn(isa.Class.JMP | JmpOp.JNE | isa.Src.K, R0, 0, 0, 0, slow))
        em.batch = size
        em.pred(pred, ACCEPT, REJECT)
        em.batch = 0
        em.emit(Label(slow))
    em.pred(pred, ACCEPT, REJECT)
    em.emit(Label(ACCEPT), isa.mov32_imm(R0, snaplen), isa.exit_insn(),
            Label(REJECT), isa.mov32_imm(R0, 0), isa.exit_insn())
    return assemble(em.items)
