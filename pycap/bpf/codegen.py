"""IR -> eBPF socket filter, through the decision graph of ``pycap.ir.cfg``.

The predicate becomes libpcap's kind of flow graph first (tests shared,
jumps threaded past tests whose outcome is known), and each node of that
graph becomes a load, maybe some arithmetic, and one conditional jump.  The
nodes are laid out so that most ``no`` edges fall through.

Registers: r6 holds the context (``LD_ABS``/``LD_IND`` require it).
``LD_ABS``/``LD_IND`` leave their result in r0 and clobber r1-r5, so r0-r5
only carry a value from where it is computed to the instruction that uses it.
r7-r9 are callee-saved.  Some of them are *homes*: a packet value that
several tests use (the ethertype, the IP protocol, the IPv4 header length)
is kept in its home register from its first computation on, and every later
test on every path that computed it reads the register instead of the
packet.  Which values are in their homes at a node is the intersection over
the paths into it, found in one pass since the layout is topological.  The
others are scratch for two-operand arithmetic (spilled to the stack when
they run out).  Packet loads use ``LD_ABS``/``LD_IND``, whose out-of-bounds
behaviour (the program returns 0) is exactly classic BPF's.  Arithmetic and
comparisons are 32-bit (``BPF_ALU``, ``BPF_JMP32``) as in classic BPF.

Each ``LD_ABS`` is a helper call once the verifier is done with it, and
those calls are what a filter costs.  Where a path reads enough fields at
constant offsets, one ``bpf_skb_load_bytes`` copies the leading bytes to
the stack instead: as many as every accepting path reads, so the copy
itself is the only bounds check, and fields in it are compared in the
host's byte order against swapped constants.  ``pycap.bpf.plan`` decides
the homes and the copy; this module emits.
"""

from __future__ import annotations

import itertools

from pycap.bpf import isa
from pycap.frozen import factory, record
from pycap.bpf.asm import assemble
from pycap.bpf.isa import R0, R1, R6, R7, R8, R9, R10, AluOp, Insn, JmpOp, Label
from pycap.bpf.plan import (CALLEE_SAVED, COPY_BASE, MAX_OFFSET, choose_homes, copy_point,
                            max_value, plan_copy, stack_indexed, stackable)
from pycap.ir import cfg
from pycap.ir import nodes as ir

_EMPTY: frozenset = frozenset()
SKB_OFFSETS = {"len": 0, "pkt_type": 4, "mark": 8, "protocol": 16, "vlan_present": 20,
               "vlan_tci": 24, "ifindex": 40, "cb0": 48}
ALU_OF = {"add": AluOp.ADD, "sub": AluOp.SUB, "mul": AluOp.MUL, "div": AluOp.DIV,
          "mod": AluOp.MOD, "and": AluOp.AND, "or": AluOp.OR, "xor": AluOp.XOR,
          "lsh": AluOp.LSH, "rsh": AluOp.RSH}
JMP_OF = {"eq": JmpOp.JEQ, "gt": JmpOp.JGT, "ge": JmpOp.JGE, "set": JmpOp.JSET}
ACCEPT, REJECT = "accept", "reject"
_CALL = int(isa.Class.JMP | JmpOp.CALL)
_WRITES_DST = (isa.Class.LD, isa.Class.LDX, isa.Class.ALU, isa.Class.ALU64)   # dst is written
SEARCH_RUN = 8        # intervals a OneOf compares one by one; more are halved with a JGE


def _split_offset(offset: ir.Value) -> tuple[ir.Value, int]:
    """``base + k`` as ``(base, k)`` (k = 0 when there is no constant part)."""
    if isinstance(offset, ir.Alu) and offset.op == "add" and isinstance(offset.right, ir.Imm):
        return offset.left, offset.right.value
    return offset, 0


def _intervals(values: list[int]) -> list[tuple[int, int]]:
    """Sorted numbers as the fewest intervals: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    spans: list[tuple[int, int]] = []
    for v in values:
        if spans and spans[-1][1] + 1 == v:
            spans[-1] = (spans[-1][0], v)
        else:
            spans.append((v, v))
    return spans


def _swapped(value: int, size: int) -> int:
    return int.from_bytes(value.to_bytes(size, "big"), "little")


@record
class _Emitter:
    wire_len_field: str
    homes: dict                                   # Value -> its home register
    items: list = factory(list)
    available: frozenset = _EMPTY                 # values in their homes right now
    scratch: list = factory(list)   # free callee-saved registers
    slots_used: int = 0
    variables: dict = factory(dict)  # Var name -> stack offset
    labels: itertools.count = factory(itertools.count)
    r0: object = None                             # the value r0 holds, if known
    defined: frozenset = _EMPTY                   # variables set on every path to here
    copy_len: int = 0                             # leading bytes the stack holds for sure
    copy_extent: int = 0                          # bytes copied if the packet has them
    checked: int = 0                              # a length the packet is known to have
    unset: set = factory(set)       # variables some path reads unset

    def label(self) -> str:
        return f"L{next(self.labels)}"

    def emit(self, *insns: Insn | Label) -> None:
        self.items.extend(insns)

    def ctx_in_r1(self) -> bool:
        """Whether r1 still holds the context it held on entry wherever the
        next instruction is reached: nothing emitted so far writes r1 or runs
        a helper (a call, ``LD_ABS``, ``LD_IND``).  Jumps only go forward,
        so every way here runs through what was emitted before."""
        for item in self.items:
            if isinstance(item, Label):
                continue
            cls, mode = item.code & 0x07, item.code & 0xE0
            if (item.code == _CALL or (cls == isa.Class.LD and mode in (isa.Mode.ABS, isa.Mode.IND))
                    or (item.dst == R1 and cls in _WRITES_DST)):
                return False
        return True

    def new_slot(self) -> int:
        self.slots_used += 1
        return -8 * self.slots_used

    def slot_of(self, name: str) -> int:
        if name not in self.variables:
            self.variables[name] = self.new_slot()
        return self.variables[name]

    # ---- values -----------------------------------------------------------------------
    def value(self, v: ir.Value) -> int:
        """Emit code computing ``v``; returns the register holding it.  r0-r5
        hold it only until the next load."""
        home = self.homes.get(v)
        if home is not None and v in self.available:
            return home
        reg = R0 if self.r0 == v else self.compute(v)
        if home is None:
            return reg
        if reg != home:
            self.emit(isa.mov32_reg(home, reg))
        self.available = frozenset([v, *(u for u in self.available if self.homes[u] != home)])
        return home

    def peek(self, v: ir.Load) -> int:
        """A constant-offset load in r0, from r0 itself or the header copy
        where it is there: for the loops, which take r7-r9 for themselves (so
        neither a home is read, the loop may have written it already, nor is
        the value kept in one)."""
        return R0 if self.r0 == v else self.compute(v)

    def compute(self, v: ir.Value) -> int:
        """Emit ``v``'s computation; r0 holds it after, unless arithmetic on a
        scratch register returns that register."""
        if isinstance(v, ir.Alu):
            reg = self.alu(v)
            if reg == R0:
                self.r0 = v
            return reg
        if isinstance(v, ir.Imm):
            self.emit(isa.mov32_imm(R0, v.value))
        elif isinstance(v, ir.Load):
            self.load(v)
        elif isinstance(v, (ir.WireLen, ir.Ctx)):
            name = self.wire_len_field if isinstance(v, ir.WireLen) else v.field
            self.emit(isa.ldx_mem(4, R0, R6, SKB_OFFSETS[name]))
        elif isinstance(v, ir.Var):
            if v.name not in self.defined:
                # libpcap's grammar lets a later ``or`` alternative read the
                # offsets only an earlier one set (``geneve or host X``): such a
                # variable starts as 0, as the interpreter reads it
                self.unset.add(v.name)
            self.emit(isa.ldx_mem(8, R0, R10, self.slot_of(v.name)))
        else:
            raise AssertionError(v)
        self.r0 = v
        return R0

    def load(self, v: ir.Load) -> None:
        """The load, into r0."""
        if self.from_copy(v):
            if v.size > 1:
                self.emit(isa.to_be(R0, 8 * v.size))
            return
        offset, extra = _split_offset(v.offset)
        if v.offset in self.homes and v.offset in self.available:
            offset, extra = v.offset, 0           # the whole offset is in a register
        if isinstance(offset, ir.Imm):
            where = offset.value + extra
            self.emit(isa.ja(REJECT) if where >= MAX_OFFSET else isa.ld_abs(v.size, where))
            return
        reg = self.value(offset)
        if max_value(offset) + extra >= MAX_OFFSET:
            self.emit(isa.jmp32_imm(JmpOp.JGT, reg, MAX_OFFSET - extra, REJECT))
        self.emit(isa.ld_ind(v.size, reg, extra))     # LD_IND's immediate does the add

    def from_copy(self, v: ir.Load) -> bool:
        """Read ``v`` from the header copy into r0, in the host's byte order,
        if the copy holds it; False (nothing emitted) otherwise.  Where not
        every accepting path reads that far, ``len`` is checked first, as
        ``LD_ABS``/``LD_IND`` would."""
        if not self.copy_extent:
            return False
        if isinstance(v.offset, ir.Imm):
            where = v.offset.value
            if not stackable(v, self.copy_extent):
                return False
            if where + v.size > max(self.copy_len, self.checked):
                self.emit(isa.ldx_mem(4, R1, R6, SKB_OFFSETS["len"]),
                          isa.jmp32_imm(JmpOp.JLT, R1, where + v.size, REJECT))
                self.checked = where + v.size     # on this path, from here on
            self.emit(isa.ldx_mem(v.size, R0, R10, COPY_BASE + where))
            return True
        base, extra = _split_offset(v.offset)
        if not stack_indexed(base, extra, v.size, self.copy_extent):
            return False
        reg = self.value(base)
        # len - base >= extra + size (signed: base may exceed len), then base + extra
        self.emit(isa.ldx_mem(4, R1, R6, SKB_OFFSETS["len"]), isa.alu32_reg(AluOp.SUB, R1, reg),
                  isa.jmp32_imm(JmpOp.JSLT, R1, extra + v.size, REJECT),
                  isa.mov64_reg(isa.R2, R10), isa.alu64_reg(AluOp.ADD, isa.R2, reg),
                  isa.ldx_mem(v.size, R0, isa.R2, COPY_BASE + extra))
        return True

    def writable(self, reg: int) -> int:
        """``reg``, or r0 holding a copy when ``reg`` is a home (the caller
        then changes r0)."""
        if reg in self.homes.values():
            self.emit(isa.mov32_reg(R0, reg))
            self.r0 = None
            return R0
        return reg

    def operands(self, left: ir.Value, right: ir.Value) -> tuple[int, int]:
        """Both operands in registers at once, the left one writable."""
        reg = self.value(left)
        if self.scratch:
            keep = self.scratch.pop()
            self.emit(isa.mov32_reg(keep, reg))
            return keep, self.value(right)
        slot = self.new_slot()                       # out of registers: spill
        self.emit(isa.stx_mem(8, R10, reg, slot))
        other = self.value(right)
        self.emit(isa.ldx_mem(8, R1, R10, slot))
        return R1, other

    def alu(self, v: ir.Alu) -> int:
        if v.op == "neg":
            reg = self.writable(self.value(v.left))
            self.emit(Insn(isa.Class.ALU | AluOp.NEG, reg))
            return reg
        op = ALU_OF[v.op]
        if isinstance(v.right, ir.Imm):
            reg = self.writable(self.value(v.left))
            if v.op in ("div", "mod") and v.right.value == 0:
                self.emit(isa.ja(REJECT))
            else:
                self.emit(isa.alu32_imm(op, reg, v.right.value))
            return reg
        reg, other = self.operands(v.left, v.right)
        if v.op in ("div", "mod"):
            self.emit(isa.jmp32_imm(JmpOp.JEQ, other, 0, REJECT))
        self.emit(isa.alu32_reg(op, reg, other))
        return reg

    # ---- graph nodes --------------------------------------------------------------------
    def compare(self, op: ir.Cmp, yes: str, no: str) -> None:
        jop = JMP_OF[op.op]
        if cfg.is_constant_test(op):
            self.emit(isa.ja(yes if ir.cmp_eval(op.op, op.left.value, op.right.value) else no))
        elif not isinstance(op.right, ir.Imm):
            left, right = self.operands(op.left, op.right)
            self.emit(isa.jmp32_reg(jop, left, right, yes), isa.ja(no))
        elif not (self.copy_len and self.little_endian(op, yes, no)):
            self.emit(isa.jmp32_imm(jop, self.value(op.left), op.right.value, yes), isa.ja(no))

    def little_endian(self, op: ir.Cmp, yes: str, no: str) -> bool:
        """``field == K``, ``field & M == K`` and ``field & M`` on the header
        copy compare in the host's byte order: the constants are swapped at
        compile time instead of the field at run time."""
        left, mask = op.left, None
        if isinstance(left, ir.Alu) and left.op == "and" and isinstance(left.right, ir.Imm):
            left, mask = left.left, left.right.value
        if not isinstance(left, ir.Load) or op.left in self.homes or op.op not in ("eq", "set"):
            return False
        size = left.size
        limit = 1 << (8 * size)
        if op.right.value >= limit or (mask is not None and mask >= limit):
            return False
        key = ("host order", op.left)
        if self.r0 != key:
            if self.r0 != ("host order", left) and not self.from_copy(left):
                return False
            if mask is not None:
                self.emit(isa.alu32_imm(AluOp.AND, R0, _swapped(mask, size)))
            self.r0 = key
        self.emit(isa.jmp32_imm(JMP_OF[op.op], R0, _swapped(op.right.value, size), yes),
                  isa.ja(no))
        return True

    def one_of(self, op: ir.OneOf, yes: str, no: str) -> None:
        """``left`` in a set of constants: the set as intervals (``port 1 or
        port 2 or port 3`` is 1-3), searched with a ``JGE`` halving them down
        to runs of SEARCH_RUN (a filter mostly meets packets that match none,
        which a chain would compare with every constant).  A field in the
        header copy is searched in the host's byte order (constants swapped:
        no intervals then, the order of swapped numbers is not the field's)."""
        left, values = op.left, set(op.values)
        if isinstance(left, ir.Load):
            values = {v for v in values if v < 1 << (8 * left.size)}   # the rest never match
        reg = None
        if self.copy_len and isinstance(left, ir.Load) and left not in self.homes:
            key = ("host order", left)
            if self.r0 == key or self.from_copy(left):
                self.r0, reg = key, R0
                values = {_swapped(v, left.size) for v in values}
        if reg is None:
            reg = self.value(left)
            self._search(reg, _intervals(sorted(values)), yes, no)
        else:
            self._search(reg, [(v, v) for v in sorted(values)], yes, no)

    def _search(self, reg: int, spans: list[tuple[int, int]], yes: str, no: str) -> None:
        if len(spans) <= SEARCH_RUN:
            for lo, hi in spans:
                if lo == hi:
                    self.emit(isa.jmp32_imm(JmpOp.JEQ, reg, lo, yes))
                else:
                    below = self.label()
                    self.emit(isa.jmp32_imm(JmpOp.JLT, reg, lo, below),
                              isa.jmp32_imm(JmpOp.JLE, reg, hi, yes), Label(below))
            self.emit(isa.ja(no))
            return
        half, upper = len(spans) // 2, self.label()
        self.emit(isa.jmp32_imm(JmpOp.JGE, reg, spans[half][0], upper))
        self._search(reg, spans[:half], yes, no)
        self.emit(Label(upper))
        self._search(reg, spans[half:], yes, no)

    def node(self, n: cfg.Node, yes: str, no: str | None) -> None:
        op = n.op
        if isinstance(op, ir.Cmp):
            self.compare(op, yes, no)
        elif isinstance(op, ir.OneOf):
            self.one_of(op, yes, no)
        elif isinstance(op, ir.Def):
            reg = self.value(op.value)
            self.emit(isa.stx_mem(8, R10, reg, self.slot_of(op.name)), isa.ja(yes))
            self.defined = self.defined | {op.name}
        elif isinstance(op, ir.ProtoChain):
            self.protochain(op, yes, no)
            self.available = _EMPTY         # the loop used r0 and r7-r9
            self.r0 = None
        elif isinstance(op, ir.Transport6):
            self.transport6(op, yes, no)
            self.defined = self.defined | {op.var}
            self.available = _EMPTY
            self.r0 = None
        else:
            raise AssertionError(op)

    def transport6(self, p: ir.Transport6, yes: str, no: str) -> None:
        """The IPv6 extension-header walk as a bounded loop: w7 = next header,
        w8 = offset from the IPv6 header, w9 = steps; on success the upper-layer
        header's packet offset goes to the variable's stack slot."""
        again, ext, frag, ah, found = (self.label() for _ in range(5))
        a, x, steps = R7, R8, R9
        # the first next header may already be in r0 or in the header copy
        self.emit(isa.mov32_reg(a, self.peek(ir.load(p.base + 6, 1))), isa.mov32_imm(x, 40),
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
                  isa.stx_mem(8, R10, x, self.slot_of(p.var)), isa.ja(yes))

    def protochain(self, p: ir.ProtoChain, yes: str, no: str) -> None:
        """gen_protochain's loop as a bounded eBPF loop: w7 = current protocol,
        w8 = offset of the current header from the network header, w9 = steps."""
        again, advance6, end = self.label(), self.label(), self.label()
        a, x, steps = R7, R8, R9
        if p.version == 4:
            self.emit(isa.mov32_reg(a, self.peek(ir.load(p.base + 9, 1))))
            self.emit(isa.mov32_reg(x, self.peek(ir.load(p.base, 1))),
                      isa.alu32_imm(AluOp.AND, x, 0x0F), isa.alu32_imm(AluOp.MUL, x, 4))
        else:
            self.emit(isa.mov32_reg(a, self.peek(ir.load(p.base + 6, 1))), isa.mov32_imm(x, 40))
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



def _meet(a: tuple, b: tuple) -> tuple:
    return (a[0] & b[0], a[1] if a[1] == b[1] else None, a[2] & b[2], min(a[3], b[3]))


def _copy_header(em: _Emitter, exact: int, extent: int, ctx_in_r1: bool) -> None:
    """Copy the packet's leading bytes to the stack.  ``exact`` bytes is what
    every accepting path reads: a shorter packet is rejected (by the helper's
    failure when that is all there is to copy).  ``extent`` (more) is copied
    as far as the packet goes, for the loads at computed offsets."""
    length = isa.R4
    # bpf_skb_load_bytes(skb = r1, offset = 0, to = r10 + COPY_BASE, len = r4)
    offset_to = (isa.mov32_imm(isa.R2, 0), isa.mov64_reg(isa.R3, R10),
                 isa.alu64_imm(AluOp.ADD, isa.R3, COPY_BASE))
    call = isa.call(isa.BPF_FUNC_SKB_LOAD_BYTES)
    if extent == exact:
        if not ctx_in_r1:
            em.emit(isa.mov64_reg(R1, R6))
        em.emit(*offset_to, isa.mov32_imm(length, exact), call,
                Insn(isa.Class.JMP | JmpOp.JNE | isa.Src.K, R0, 0, 0, 0, REJECT))
        return
    fits, done = em.label(), em.label()
    em.emit(isa.ldx_mem(4, length, R6, SKB_OFFSETS["len"]))
    if exact:
        em.emit(isa.jmp32_imm(JmpOp.JLT, length, exact, REJECT))
    else:                          # the helper copies one byte at least
        em.emit(isa.jmp32_imm(JmpOp.JLT, length, 1, done))
    em.emit(isa.jmp32_imm(JmpOp.JLE, length, extent, fits), isa.mov32_imm(length, extent),
            Label(fits), *(() if ctx_in_r1 else (isa.mov64_reg(R1, R6),)), *offset_to, call,
            Label(done))


def generate(pred: ir.Pred | cfg.Graph, snaplen: int, wire_len_field: str = "len") -> list[Insn]:
    """eBPF for a socket filter returning ``snaplen`` when ``pred`` holds, else 0
    (``pred`` may already be its optimized decision graph).

    ``wire_len_field`` is ``len`` for live capture (the skb's length is the wire
    length) or ``cb0`` for savefile records, whose original length the caller
    passes in ``__sk_buff.cb[0]`` because the kernel only sees the captured bytes.
    """
    g = pred if isinstance(pred, cfg.Graph) else cfg.graph(pred)
    order = g.order()
    at = copy_point(g)
    copy_len, copy_extent = plan_copy(g, order, at)
    homes = choose_homes(order, copy_len)
    scratch = [r for r in reversed(CALLEE_SAVED) if r not in homes.values()]
    em = _Emitter(wire_len_field, homes)
    names = {id(g.accept): ACCEPT, id(g.reject): REJECT}
    names.update((id(n), f"N{i}") for i, n in enumerate(order))
    em.emit(isa.mov64_reg(R6, R1))
    if g.root.terminal:
        em.emit(isa.ja(names[id(g.root)]))
    # what the registers hold when a node starts: what every node before it
    # left there (homes in use, r0, variables set), and the packet length
    # every path to it has checked
    start: dict[int, tuple] = {id(g.root): (_EMPTY, None, _EMPTY, 0)}
    placed: set[int] = set()

    def place(terminal: cfg.Node) -> None:
        placed.add(id(terminal))
        em.emit(Label(names[id(terminal)]),
                isa.mov32_imm(R0, snaplen if terminal is g.accept else 0), isa.exit_insn())

    for i, n in enumerate(order):
        em.available, em.r0, em.defined, em.checked = start[id(n)]
        em.scratch = list(scratch)
        em.emit(Label(names[id(n)]))
        if copy_extent and n is at:
            em.copy_len, em.copy_extent = copy_len, copy_extent
            _copy_header(em, copy_len, copy_extent, ctx_in_r1=em.ctx_in_r1())
        em.node(n, names[id(n.yes)], names[id(n.no)] if n.no is not None else None)
        state = (em.available, em.r0, em.defined, em.checked)
        for s in n.successors():
            if not s.terminal:
                seen = start.get(id(s))
                start[id(s)] = state if seen is None or seen == state else _meet(seen, state)
        # a terminal goes where a node would otherwise need a jump to reach it
        following = order[i + 1] if i + 1 < len(order) else None
        if following is None or following not in n.successors():
            for s in (n.no, n.yes):
                if s is not None and s.terminal and id(s) not in placed:
                    place(s)
                    break
    for terminal in (g.root, g.accept, g.reject):
        if terminal.terminal and id(terminal) not in placed:
            place(terminal)
    em.items[1:1] = [isa.st_mem(8, R10, em.variables[name], 0) for name in sorted(em.unset)]
    return assemble(em.items)
