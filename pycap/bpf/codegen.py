"""IR -> eBPF socket filter.

Registers: r6 holds the context (``LD_ABS``/``LD_IND`` require it), r7-r9
hold values; ``LD_ABS``/``LD_IND`` leave their result in r0 and clobber r1-r5.
Packet loads use ``LD_ABS``/``LD_IND``, whose out-of-bounds behaviour (the
program returns 0) is exactly classic BPF's.  Arithmetic and comparisons are
32-bit (``BPF_ALU``, ``BPF_JMP32``) as in classic BPF.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from pycap.bpf import isa
from pycap.bpf.asm import assemble
from pycap.bpf.isa import R0, R1, R6, R7, R8, R9, R10, AluOp, Insn, JmpOp, Label
from pycap.ir import nodes as ir

VALUE_REGS = (R7, R8, R9)
MAX_OFFSET = 0x40000
SKB_OFFSETS = {"len": 0, "pkt_type": 4, "mark": 8, "protocol": 16, "vlan_present": 20,
               "vlan_tci": 24, "ifindex": 40, "cb0": 48}
ALU_OF = {"add": AluOp.ADD, "sub": AluOp.SUB, "mul": AluOp.MUL, "div": AluOp.DIV,
          "mod": AluOp.MOD, "and": AluOp.AND, "or": AluOp.OR, "xor": AluOp.XOR,
          "lsh": AluOp.LSH, "rsh": AluOp.RSH}
JMP_OF = {"eq": JmpOp.JEQ, "gt": JmpOp.JGT, "ge": JmpOp.JGE, "set": JmpOp.JSET}
ACCEPT, REJECT = "accept", "reject"


@dataclass
class _Emitter:
    wire_len_field: str
    items: list
    labels: itertools.count

    def label(self) -> str:
        return f"L{next(self.labels)}"

    def emit(self, *insns: Insn | Label) -> None:
        self.items.extend(insns)

    # ---- values -----------------------------------------------------------------------
    def value(self, v: ir.Value, depth: int) -> int:
        """Emit code leaving ``v`` in VALUE_REGS[depth]; returns that register."""
        reg = VALUE_REGS[depth]
        if isinstance(v, ir.Imm):
            self.emit(isa.mov32_imm(reg, v.value))
        elif isinstance(v, ir.Load):
            self.load(v, reg, depth)
        elif isinstance(v, ir.WireLen):
            self.emit(isa.ldx_mem(4, reg, R6, SKB_OFFSETS[self.wire_len_field]))
        elif isinstance(v, ir.Ctx):
            self.emit(isa.ldx_mem(4, reg, R6, SKB_OFFSETS[v.field]))
        elif isinstance(v, ir.Alu):
            self.alu(v, reg, depth)
        else:
            raise AssertionError(v)
        return reg

    def load(self, v: ir.Load, reg: int, depth: int) -> None:
        if isinstance(v.offset, ir.Imm):
            if v.offset.value >= MAX_OFFSET:
                self.emit(isa.ja(REJECT))
                return
            self.emit(isa.ld_abs(v.size, v.offset.value))
        else:
            off = self.value(v.offset, depth)
            self.emit(isa.jmp32_imm(JmpOp.JGT, off, MAX_OFFSET, REJECT),
                      isa.ld_ind(v.size, off, 0))
        self.emit(isa.mov32_reg(reg, R0))

    def alu(self, v: ir.Alu, reg: int, depth: int) -> None:
        self.value(v.left, depth)
        if v.op == "neg":
            self.emit(Insn(isa.Class.ALU | AluOp.NEG, reg))
            return
        op = ALU_OF[v.op]
        if isinstance(v.right, ir.Imm):
            if v.op in ("div", "mod") and v.right.value == 0:
                self.emit(isa.ja(REJECT))
                return
            self.emit(isa.alu32_imm(op, reg, v.right.value))
            return
        if depth + 1 < len(VALUE_REGS):
            other = self.value(v.right, depth + 1)
        else:   # out of registers: spill the left operand to the stack
            slot = -8 * (depth + 1)
            self.emit(isa.stx_mem(8 if False else 4, R10, reg, slot))
            self.value(v.right, depth)
            self.emit(isa.mov32_reg(R0, reg), isa.ldx_mem(4, reg, R10, slot))
            other = R0
        if v.op in ("div", "mod"):
            self.emit(isa.jmp32_imm(JmpOp.JEQ, other, 0, REJECT))
        self.emit(isa.alu32_reg(op, reg, other))

    # ---- predicates ---------------------------------------------------------------------
    def pred(self, p: ir.Pred, yes: str, no: str) -> None:
        if isinstance(p, ir.Const):
            self.emit(isa.ja(yes if p.value else no))
        elif isinstance(p, ir.Cmp):
            left = self.value(p.left, 0)
            jop = JMP_OF[p.op]
            if isinstance(p.right, ir.Imm):
                self.emit(isa.jmp32_imm(jop, left, p.right.value, yes))
            else:
                right = self.value(p.right, 1)
                self.emit(isa.jmp32_reg(jop, left, right, yes))
            self.emit(isa.ja(no))
        elif isinstance(p, ir.Negation):
            self.pred(p.item, no, yes)
        elif isinstance(p, ir.ProtoChain):
            self.protochain(p, yes, no)
        elif isinstance(p, ir.All):
            for item in p.items[:-1]:
                nxt = self.label()
                self.pred(item, nxt, no)
                self.emit(Label(nxt))
            self.pred(p.items[-1], yes, no)
        elif isinstance(p, ir.Any):
            for item in p.items[:-1]:
                nxt = self.label()
                self.pred(item, yes, nxt)
                self.emit(Label(nxt))
            self.pred(p.items[-1], yes, no)
        else:
            raise AssertionError(p)


    def protochain(self, p: ir.ProtoChain, yes: str, no: str) -> None:
        """gen_protochain's loop as a bounded eBPF loop: w7 = current protocol,
        w8 = offset of the current header from the network header, w9 = steps."""
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


def generate(pred: ir.Pred, snaplen: int, wire_len_field: str = "len") -> list[Insn]:
    """eBPF for a socket filter returning ``snaplen`` when ``pred`` holds, else 0.

    ``wire_len_field`` is ``len`` for live capture (the skb's length is the wire
    length) or ``cb0`` for savefile records, whose original length the caller
    passes in ``__sk_buff.cb[0]`` because the kernel only sees the captured bytes.
    """
    em = _Emitter(wire_len_field, [isa.mov64_reg(R6, R1)], itertools.count())
    em.pred(pred, ACCEPT, REJECT)
    em.emit(Label(ACCEPT), isa.mov32_imm(R0, snaplen), isa.exit_insn(),
            Label(REJECT), isa.mov32_imm(R0, 0), isa.exit_insn())
    return assemble(em.items)
