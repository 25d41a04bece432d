"""Assembler (labels -> offsets, with jump peepholes) and disassembler."""

from __future__ import annotations

import struct

from pycap.bpf.isa import (BYTES_OF_SIZE, INVERSE_JUMP, AluOp, Class, Insn, JmpOp, Label, Mode,
                           Size, Src)

Item = Insn | Label
_JA = int(Class.JMP | JmpOp.JA)
_EXIT = int(Class.JMP | JmpOp.EXIT)
_INVERSE = {int(k): int(v) for k, v in INVERSE_JUMP.items()}


def _peephole(items: list[Item]) -> list[Item]:
    """Drop jumps to the next instruction and turn ``jcc L1; ja L2; L1:`` into
    ``jncc L2; L1:``."""
    labels_before: list[set[str]] = []     # labels directly in front of item i
    pending: set[str] = set()
    for item in items:
        if isinstance(item, Label):
            pending.add(item.name)
            labels_before.append(set())
        else:
            labels_before.append(pending)
            pending = set()
    labels_before.append(pending)           # labels at the very end
    insn_after: list[int] = [0] * (len(items) + 1)   # index of the next Insn at or after i
    nxt = len(items)
    for i in range(len(items) - 1, -1, -1):
        if isinstance(items[i], Insn):
            nxt = i
        insn_after[i] = nxt
    insn_after[len(items)] = len(items)

    def falls_to(i: int, target: str) -> bool:
        """Whether the first instruction after item i carries ``target``."""
        return target in labels_before[insn_after[i + 1]]

    out: list[Item] = []
    skip = -1
    for i, item in enumerate(items):
        if i == skip:
            continue
        if isinstance(item, Insn) and item.target is not None:
            if item.code == _JA and falls_to(i, item.target):
                continue
            j = insn_after[i + 1]
            if j < len(items):
                nxt_insn = items[j]
                if (nxt_insn.code == _JA and j == i + 1  # type: ignore[union-attr]
                        and falls_to(j, item.target) and item.code & 0xF0 in _INVERSE):
                    inverted = (item.code & ~0xF0) | _INVERSE[item.code & 0xF0]
                    out.append(Insn(inverted, item.dst, item.src, item.off, item.imm,
                                    nxt_insn.target))  # type: ignore[union-attr]
                    skip = j
                    continue
        out.append(item)
    return out


def _drop_unreachable(items: list[Item]) -> list[Item]:
    """Remove instructions no path reaches (the verifier rejects them)."""
    positions: dict[str, int] = {}
    for i, item in enumerate(items):
        if isinstance(item, Label):
            positions[item.name] = i
    reachable: set[int] = set()
    todo = [0]
    while todo:
        i = todo.pop()
        while i < len(items) and i not in reachable:
            reachable.add(i)
            item = items[i]
            if isinstance(item, Insn):
                if item.target is not None:
                    todo.append(positions[item.target])
                if item.code == _JA or item.code == _EXIT:
                    break
            i += 1
    return [item for i, item in enumerate(items) if isinstance(item, Label) or i in reachable]


def assemble(items: list[Item]) -> list[Insn]:
    """Resolve labels into jump offsets; returns plain instructions."""
    while True:
        items = _peephole(items)
        pruned = _drop_unreachable(items)
        if len(pruned) == len(items):
            break
        items = pruned         # code went: maybe more jumps now reach the next instruction
    where: dict[str, int] = {}
    count = 0
    for item in items:
        if isinstance(item, Label):
            where[item.name] = count
        else:
            count += 1
    out: list[Insn] = []
    for item in items:
        if isinstance(item, Insn):
            if item.target is not None:
                item = Insn(item.code, item.dst, item.src, where[item.target] - (len(out) + 1),
                            item.imm)
            out.append(item)
    return out


def encode(insns: list[Insn]) -> bytes:
    return b"".join(i.encode() for i in insns)


def decode(blob: bytes) -> list[Insn]:
    out = []
    for pos in range(0, len(blob), 8):
        code, regs, off, imm = struct.unpack_from("<BBhi", blob, pos)
        out.append(Insn(code, regs & 0x0F, regs >> 4, off, imm & 0xFFFFFFFF))
    return out


_ALU_SYMBOL = {AluOp.ADD: "+=", AluOp.SUB: "-=", AluOp.MUL: "*=", AluOp.DIV: "/=",
               AluOp.OR: "|=", AluOp.AND: "&=", AluOp.LSH: "<<=", AluOp.RSH: ">>=",
               AluOp.MOD: "%=", AluOp.XOR: "^=", AluOp.MOV: "="}
_JMP_SYMBOL = {JmpOp.JEQ: "==", JmpOp.JGT: ">", JmpOp.JGE: ">=", JmpOp.JSET: "&",
               JmpOp.JNE: "!=", JmpOp.JLT: "<", JmpOp.JLE: "<=", JmpOp.JSLT: "s<"}
_SIZE_NAME = {Size.B: "u8", Size.H: "u16", Size.W: "u32", Size.DW: "u64"}


def disassemble_one(insn: Insn, pc: int) -> str:
    cls, op = insn.cls, insn.op
    if cls in (Class.ALU, Class.ALU64):
        reg = "w" if cls == Class.ALU else "r"
        if op == AluOp.END:
            return f"r{insn.dst} = be{insn.imm} r{insn.dst}"
        if op == AluOp.NEG:
            return f"{reg}{insn.dst} = -{reg}{insn.dst}"
        operand = f"{reg}{insn.src}" if insn.code & Src.X else _imm(_s32(insn.imm) if cls == Class.ALU64 else insn.imm)
        return f"{reg}{insn.dst} {_ALU_SYMBOL[AluOp(op)]} {operand}"
    if cls in (Class.JMP, Class.JMP32):
        if op == JmpOp.EXIT:
            return "exit"
        if op == JmpOp.CALL:
            return f"call {'bpf_skb_load_bytes' if insn.imm == 26 else insn.imm}"
        if op == JmpOp.JA:
            return f"goto {pc + 1 + insn.off}"
        reg = "w" if cls == Class.JMP32 else "r"
        operand = f"{reg}{insn.src}" if insn.code & Src.X else _imm(insn.imm)
        return f"if {reg}{insn.dst} {_JMP_SYMBOL[JmpOp(op)]} {operand} goto {pc + 1 + insn.off}"
    size = Size(insn.code & 0x18)
    mode = insn.code & 0xE0
    if cls == Class.LD and mode == Mode.ABS:
        return f"r0 = ntoh(*({_SIZE_NAME[size]} *)skb[{insn.imm}])"
    if cls == Class.LD and mode == Mode.IND:
        return f"r0 = ntoh(*({_SIZE_NAME[size]} *)skb[r{insn.src} + {insn.imm}])"
    if cls == Class.LDX:
        return f"r{insn.dst} = *({_SIZE_NAME[size]} *)(r{insn.src} {insn.off:+d})"
    if cls == Class.STX:
        return f"*({_SIZE_NAME[size]} *)(r{insn.dst} {insn.off:+d}) = r{insn.src}"
    if cls == Class.ST:
        return f"*({_SIZE_NAME[size]} *)(r{insn.dst} {insn.off:+d}) = {_imm(insn.imm)}"
    return f".insn {insn.code:#04x} {insn.dst} {insn.src} {insn.off} {insn.imm}"


def _s32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def _imm(value: int) -> str:
    if value < 0:
        return str(value)
    return str(value) if value < 4096 else hex(value)


def disassemble(insns: list[Insn]) -> str:
    """One instruction a line: ``(NNN) opcode  text``, like ``tcpdump -d``."""
    return "\n".join(f"({pc:03d}) {insn.code:#04x}  {disassemble_one(insn, pc)}"
                     for pc, insn in enumerate(insns))


__all__ = ["assemble", "encode", "decode", "disassemble", "BYTES_OF_SIZE"]
