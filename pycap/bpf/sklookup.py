"""IR -> eBPF ``BPF_PROG_TYPE_SK_LOOKUP`` program: first matching rule wins.

The program gets a ``struct bpf_sk_lookup`` and, per rule in order, tests the
rule's predicate over its fields.  The first rule that holds looks up its
socket in a ``SOCKMAP`` at the rule's index, assigns it with
``bpf_sk_assign`` and releases the reference.  Every outcome returns
``SK_PASS``: without an assigned socket the kernel goes on with its normal
lookup, so a rule whose socket is gone (or refused) falls through rather than
dropping traffic.

Counters live in a per-CPU array of u64 (see :func:`counter_key`): key 0
counts every lookup the program sees, then two keys per rule count the
lookups the rule matched and those it steered (assigned a socket).

IR semantics for ``Ctx`` fields here: every field is a number in host order,
``remote_ip4`` is ``0x7f000001`` for 127.0.0.1, ``remote_port`` is 8080 for
port 8080, ``remote_ip6[0]`` is the first 32 bits of the address.  The code
generator converts: the kernel stores addresses and ``remote_port`` in
network order and ``local_port`` in host order.  Equality tests on addresses
swap the constant instead of the loaded field.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from pycap.bpf import isa
from pycap.bpf.asm import assemble, disassemble_one
from pycap.bpf.isa import (R0, R1, R2, R3, R6, R7, R8, R9, R10, AluOp, Class, Insn, JmpOp,
                           Label, Mode, Size, Src)
from pycap.ir import nodes as ir

SK_PASS, SK_DROP = 1, 0
BPF_FUNC_MAP_LOOKUP_ELEM = 1
BPF_FUNC_SK_RELEASE = 86
BPF_FUNC_SK_ASSIGN = 124
BPF_PSEUDO_MAP_FD = 1
AF_INET, AF_INET6 = 2, 10
IPPROTO_TCP, IPPROTO_UDP = 6, 17

# struct bpf_sk_lookup (include/uapi/linux/bpf.h): offset, load size, byte order
CTX_SIZE = 72
FIELDS: dict[str, tuple[int, int, str]] = {
    "family": (8, 4, "host"),
    "protocol": (12, 4, "host"),
    "remote_ip4": (16, 4, "net"),
    **{f"remote_ip6[{i}]": (20 + 4 * i, 4, "net") for i in range(4)},
    "remote_port": (36, 2, "net"),      # __be16, then 16 bits of padding
    "local_ip4": (40, 4, "net"),
    **{f"local_ip6[{i}]": (44 + 4 * i, 4, "net") for i in range(4)},
    "local_port": (60, 4, "host"),
    "ingress_ifindex": (64, 4, "host"),
}

VALUE_REGS = (R8, R9)        # predicate values; r6 = ctx, r7 = matched rule index
KEY_SLOT = -4                # u32 map key on the stack
ALU_OF = {"add": AluOp.ADD, "sub": AluOp.SUB, "mul": AluOp.MUL, "div": AluOp.DIV,
          "mod": AluOp.MOD, "and": AluOp.AND, "or": AluOp.OR, "xor": AluOp.XOR,
          "lsh": AluOp.LSH, "rsh": AluOp.RSH}
JMP_OF = {"eq": JmpOp.JEQ, "gt": JmpOp.JGT, "ge": JmpOp.JGE, "set": JmpOp.JSET}
END, TO_BE = 0xD0, 0x08      # BPF_END | BPF_TO_BE: byte swap on little-endian hosts
NO_MATCH, STEER = "no_match", "steer"


def counter_key(rule: int | None, kind: str = "matched") -> int:
    """Key of a counter: ``rule=None`` is every lookup; ``kind`` is
    ``matched`` or ``steered``."""
    if rule is None:
        return 0
    return 1 + 2 * rule + (1 if kind == "steered" else 0)


def counter_count(rules: int) -> int:
    return 1 + 2 * rules


def _swap32(v: int) -> int:
    return int.from_bytes((v & 0xFFFFFFFF).to_bytes(4, "big"), "little")


def _swap16(v: int) -> int:
    return int.from_bytes((v & 0xFFFF).to_bytes(2, "big"), "little")


def ld_map_fd(dst: int, fd: int) -> tuple[Insn, Insn]:
    """``BPF_LD_MAP_FD``: the two-slot 64-bit immediate the verifier turns into a map pointer."""
    return (Insn(Class.LD | Size.DW | Mode.IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd),
            Insn(0, 0, 0, 0, 0))


def call(helper: int) -> Insn:
    return Insn(Class.JMP | JmpOp.CALL, imm=helper)


def _alu64_imm(op: AluOp, dst: int, imm: int) -> Insn:
    return Insn(Class.ALU64 | op | Src.K, dst, 0, 0, imm & 0xFFFFFFFF)


@dataclass
class _Emitter:
    ifindex: int | None     # a constant for ingress_ifindex (dry runs), or None to read it
    items: list
    labels: itertools.count

    def label(self) -> str:
        return f"L{next(self.labels)}"

    def emit(self, *items: Insn | Label) -> None:
        self.items.extend(items)

    # ---- values (32-bit, host order) ---------------------------------------------------
    def field(self, name: str, reg: int, raw: bool = False) -> None:
        """Load a context field; ``raw`` leaves network-order fields unswapped."""
        if name == "ingress_ifindex" and self.ifindex is not None:
            self.emit(isa.mov32_imm(reg, self.ifindex))
            return
        offset, size, order = FIELDS[name]
        self.emit(isa.ldx_mem(size, reg, R6, offset))
        if order == "net" and not raw:
            self.emit(Insn(Class.ALU | END | TO_BE, reg, 0, 0, 8 * size))

    def value(self, v: ir.Value, depth: int) -> int:
        reg = VALUE_REGS[depth]
        if isinstance(v, ir.Imm):
            self.emit(isa.mov32_imm(reg, v.value))
        elif isinstance(v, ir.Ctx):
            self.field(v.field, reg)
        elif isinstance(v, ir.Alu):
            self.value(v.left, depth)
            if v.op == "neg":
                self.emit(Insn(Class.ALU | AluOp.NEG, reg))
            elif isinstance(v.right, ir.Imm):
                if v.op in ("div", "mod") and v.right.value == 0:
                    raise ValueError("division by zero in an sk_lookup predicate")
                self.emit(isa.alu32_imm(ALU_OF[v.op], reg, v.right.value))
            else:
                if depth + 1 >= len(VALUE_REGS):
                    raise ValueError("sk_lookup predicate too deeply nested")
                other = self.value(v.right, depth + 1)
                self.emit(isa.alu32_reg(ALU_OF[v.op], reg, other))
        else:
            raise ValueError(f"sk_lookup programs cannot compute {v!r}")
        return reg

    # ---- predicates ---------------------------------------------------------------------
    def pred(self, p: ir.Pred, yes: str, no: str) -> None:
        if isinstance(p, ir.Const):
            self.emit(isa.ja(yes if p.value else no))
        elif isinstance(p, ir.Cmp):
            self.cmp(p, yes, no)
        elif isinstance(p, ir.Negation):
            self.pred(p.item, no, yes)
        elif isinstance(p, (ir.All, ir.Any)):
            for item in p.items[:-1]:
                nxt = self.label()
                if isinstance(p, ir.All):
                    self.pred(item, nxt, no)
                else:
                    self.pred(item, yes, nxt)
                self.emit(Label(nxt))
            self.pred(p.items[-1], yes, no)
        else:
            raise AssertionError(p)

    def cmp(self, p: ir.Cmp, yes: str, no: str) -> None:
        raw = _raw_equality(p)
        if raw is not None:
            name, mask, value = raw
            reg = VALUE_REGS[0]
            self.field(name, reg, raw=True)
            if mask is not None:
                self.emit(isa.alu32_imm(AluOp.AND, reg, mask))
            self.emit(isa.jmp32_imm(JmpOp.JEQ, reg, value, yes), isa.ja(no))
            return
        left = self.value(p.left, 0)
        if isinstance(p.right, ir.Imm):
            self.emit(isa.jmp32_imm(JMP_OF[p.op], left, p.right.value, yes))
        else:
            right = self.value(p.right, 1)
            self.emit(isa.jmp32_reg(JMP_OF[p.op], left, right, yes))
        self.emit(isa.ja(no))

    # ---- the rule table and the steering tail -------------------------------------------
    def count(self, key_reg_expr: list[Insn], counters_fd: int) -> None:
        """counters[key]++ on this CPU; the key is computed into r1 by ``key_reg_expr``."""
        skip = self.label()
        self.emit(*key_reg_expr,
                  isa.stx_mem(4, R10, R1, KEY_SLOT),
                  *ld_map_fd(R1, counters_fd),
                  isa.mov64_reg(R2, R10), _alu64_imm(AluOp.ADD, R2, KEY_SLOT),
                  call(BPF_FUNC_MAP_LOOKUP_ELEM),
                  Insn(Class.JMP | JmpOp.JEQ | Src.K, R0, 0, 0, 0, skip),
                  Insn(Class.LDX | Size.DW | Mode.MEM, R1, R0, 0),
                  _alu64_imm(AluOp.ADD, R1, 1),
                  Insn(Class.STX | Size.DW | Mode.MEM, R0, R1, 0),
                  Label(skip))

    def rule_key(self, kind: str) -> list[Insn]:
        """r1 = counter_key(r7, kind)."""
        return [isa.mov32_reg(R1, R7), isa.alu32_imm(AluOp.LSH, R1, 1),
                isa.alu32_imm(AluOp.ADD, R1, counter_key(0, kind))]


def _raw_equality(p: ir.Cmp) -> tuple[str, int | None, int] | None:
    """``field == c`` or ``field & m == c`` on a network-order field: compare the
    raw field with swapped constants.  Returns (field, raw mask, raw value)."""
    if p.op != "eq" or not isinstance(p.right, ir.Imm):
        return None
    left, mask = p.left, None
    if isinstance(left, ir.Alu) and left.op == "and" and isinstance(left.right, ir.Imm):
        left, mask = left.left, left.right.value
    if not isinstance(left, ir.Ctx) or left.field not in FIELDS:
        return None
    _, size, order = FIELDS[left.field]
    if order != "net":
        return None
    swap = _swap32 if size == 4 else _swap16
    if size == 2 and (p.right.value > 0xFFFF):
        return None      # the loaded field never exceeds 16 bits: leave it to the generic path
    return left.field, (None if mask is None else swap(mask)), swap(p.right.value)


def generate(rules: list[ir.Pred], sockmap_fd: int, counters_fd: int,
             ifindex: int | None = None) -> list[Insn]:
    """The sk_lookup program for ``rules`` (first match wins).

    Rule ``i`` steers to the socket at index ``i`` of the SOCKMAP ``sockmap_fd``;
    counters go to the per-CPU array ``counters_fd`` (:func:`counter_key`).
    ``ifindex`` replaces reads of ``ingress_ifindex`` by a constant: the
    kernel's test runs cannot set that field, so dry runs specialise on it.
    """
    em = _Emitter(ifindex, [isa.mov64_reg(R6, R1)], itertools.count())
    em.count([isa.mov32_imm(R1, counter_key(None))], counters_fd)
    for index, pred in enumerate(rules):
        matched, nxt = em.label(), em.label()
        em.pred(pred, matched, nxt)
        em.emit(Label(matched), isa.mov32_imm(R7, index), isa.ja(STEER), Label(nxt))
    em.emit(isa.ja(NO_MATCH))

    done = "done"
    em.emit(Label(STEER))
    em.count(em.rule_key("matched"), counters_fd)
    em.emit(isa.stx_mem(4, R10, R7, KEY_SLOT),
            *ld_map_fd(R1, sockmap_fd),
            isa.mov64_reg(R2, R10), _alu64_imm(AluOp.ADD, R2, KEY_SLOT),
            call(BPF_FUNC_MAP_LOOKUP_ELEM),
            Insn(Class.JMP | JmpOp.JEQ | Src.K, R0, 0, 0, 0, done),   # socket gone
            isa.mov64_reg(R8, R0),
            isa.mov64_reg(R1, R6), isa.mov64_reg(R2, R8), _alu64_imm(AluOp.MOV, R3, 0),
            call(BPF_FUNC_SK_ASSIGN),
            isa.mov64_reg(R9, R0),
            isa.mov64_reg(R1, R8),
            call(BPF_FUNC_SK_RELEASE),
            Insn(Class.JMP | JmpOp.JNE | Src.K, R9, 0, 0, 0, done))    # refused
    em.count(em.rule_key("steered"), counters_fd)
    em.emit(Label(done), Label(NO_MATCH), isa.mov32_imm(R0, SK_PASS), isa.exit_insn())
    return assemble(em.items)


_HELPER_NAMES = {BPF_FUNC_MAP_LOOKUP_ELEM: "bpf_map_lookup_elem", BPF_FUNC_SK_RELEASE: "bpf_sk_release",
                 BPF_FUNC_SK_ASSIGN: "bpf_sk_assign"}


def disassemble(insns: list[Insn], map_names: dict[int, str] | None = None) -> str:
    """Like :func:`pycap.bpf.asm.disassemble`, plus the instructions only
    sk_lookup programs use: map loads, helper calls, byte swaps, 64-bit memory."""
    names = map_names or {}
    lines = []
    skip = False
    for pc, insn in enumerate(insns):
        if skip:
            skip = False
            continue
        if insn.code == Class.LD | Size.DW | Mode.IMM:
            text = f"r{insn.dst} = map[{names.get(insn.imm, f'fd {insn.imm}')}]"
            skip = True
        elif insn.code == Class.JMP | JmpOp.CALL:
            text = f"call {_HELPER_NAMES.get(insn.imm, insn.imm)}"
        elif insn.cls == Class.ALU and insn.op == END:
            text = f"w{insn.dst} = be{insn.imm}(w{insn.dst})"
        else:
            text = disassemble_one(insn, pc)
        lines.append(f"({pc:03d}) {insn.code:#04x}  {text}")
    return "\n".join(lines)
