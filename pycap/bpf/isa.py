"""The eBPF instruction set as data: opcodes named like the kernel's BPF_*
constants, instructions as values (cilium/ebpf asm style), and builders
mirroring include/linux/filter.h."""

from __future__ import annotations

import struct
from pycap.frozen import frozen, named_tuple
from enum import IntEnum


class Class(IntEnum):
    LD = 0x00
    LDX = 0x01
    ST = 0x02
    STX = 0x03
    ALU = 0x04
    JMP = 0x05
    JMP32 = 0x06
    ALU64 = 0x07


class Size(IntEnum):
    W = 0x00
    H = 0x08
    B = 0x10
    DW = 0x18


class Mode(IntEnum):
    IMM = 0x00
    ABS = 0x20
    IND = 0x40
    MEM = 0x60


class Src(IntEnum):
    K = 0x00
    X = 0x08


class AluOp(IntEnum):
    ADD = 0x00
    SUB = 0x10
    MUL = 0x20
    DIV = 0x30
    OR = 0x40
    AND = 0x50
    LSH = 0x60
    RSH = 0x70
    NEG = 0x80
    MOD = 0x90
    XOR = 0xA0
    MOV = 0xB0
    END = 0xD0


class JmpOp(IntEnum):
    JA = 0x00
    JEQ = 0x10
    JGT = 0x20
    JGE = 0x30
    JSET = 0x40
    JNE = 0x50
    CALL = 0x80
    EXIT = 0x90
    JLT = 0xA0
    JLE = 0xB0
    JSLT = 0xC0


SIZE_OF_BYTES = {1: Size.B, 2: Size.H, 4: Size.W, 8: Size.DW}
BPF_TO_BE = 0x08
BPF_FUNC_SKB_LOAD_BYTES = 26
BYTES_OF_SIZE = {Size.B: 1, Size.H: 2, Size.W: 4, Size.DW: 8}
INVERSE_JUMP = {JmpOp.JEQ: JmpOp.JNE, JmpOp.JNE: JmpOp.JEQ, JmpOp.JGT: JmpOp.JLE,
                JmpOp.JLE: JmpOp.JGT, JmpOp.JGE: JmpOp.JLT, JmpOp.JLT: JmpOp.JGE}

R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = range(11)


@named_tuple
class Insn:
    """One ``struct bpf_insn``.  ``target`` names a label for jumps until the
    assembler resolves it into ``off``.  A named tuple: the code generator
    makes many, and a frozen value class is several times slower to build."""

    code: int
    dst: int = 0
    src: int = 0
    off: int = 0
    imm: int = 0
    target: str | None = None

    def encode(self) -> bytes:
        imm = self.imm - (1 << 32) if self.imm >= 1 << 31 else self.imm
        return struct.pack("<BBhi", self.code, (self.src << 4) | self.dst, self.off, imm)

    @property
    def cls(self) -> int:
        return self.code & 0x07

    @property
    def op(self) -> int:
        return self.code & 0xF0

    @property
    def is_jump(self) -> bool:
        return self.cls in (Class.JMP, Class.JMP32) and self.op not in (JmpOp.CALL, JmpOp.EXIT)


@frozen
class Label:
    name: str


# ---- builders (include/linux/filter.h) ---------------------------------------------

_MOV64_REG = int(Class.ALU64 | AluOp.MOV | Src.X)
_MOV32_REG = int(Class.ALU | AluOp.MOV | Src.X)
_MOV32_IMM = int(Class.ALU | AluOp.MOV | Src.K)
_LD_ABS = {n: int(Class.LD | s | Mode.ABS) for n, s in SIZE_OF_BYTES.items()}
_LD_IND = {n: int(Class.LD | s | Mode.IND) for n, s in SIZE_OF_BYTES.items()}
_LDX = {n: int(Class.LDX | s | Mode.MEM) for n, s in SIZE_OF_BYTES.items()}
_JA = int(Class.JMP | JmpOp.JA)


def mov64_reg(dst: int, src: int) -> Insn:
    return Insn(_MOV64_REG, dst, src)


def mov32_reg(dst: int, src: int) -> Insn:
    return Insn(_MOV32_REG, dst, src)


def mov32_imm(dst: int, imm: int) -> Insn:
    return Insn(_MOV32_IMM, dst, 0, 0, imm & 0xFFFFFFFF)


def alu32_imm(op: AluOp, dst: int, imm: int) -> Insn:
    return Insn(Class.ALU | op | Src.K, dst, 0, 0, imm & 0xFFFFFFFF)


def alu32_reg(op: AluOp, dst: int, src: int) -> Insn:
    return Insn(Class.ALU | op | Src.X, dst, src)


def ld_abs(size: int, imm: int) -> Insn:
    return Insn(_LD_ABS[size], 0, 0, 0, imm)


def ld_ind(size: int, src: int, imm: int = 0) -> Insn:
    return Insn(_LD_IND[size], 0, src, 0, imm)


def ldx_mem(size: int, dst: int, src: int, off: int) -> Insn:
    return Insn(_LDX[size], dst, src, off)


def stx_mem(size: int, dst: int, src: int, off: int) -> Insn:
    return Insn(Class.STX | SIZE_OF_BYTES[size] | Mode.MEM, dst, src, off)


def st_mem(size: int, dst: int, off: int, imm: int) -> Insn:
    return Insn(Class.ST | SIZE_OF_BYTES[size] | Mode.MEM, dst, 0, off, imm & 0xFFFFFFFF)


def jmp32_imm(op: JmpOp, dst: int, imm: int, target: str) -> Insn:
    return Insn(0x06 | op, dst, 0, 0, imm & 0xFFFFFFFF, target)      # BPF_JMP32 | op | BPF_K


def jmp32_reg(op: JmpOp, dst: int, src: int, target: str) -> Insn:
    return Insn(Class.JMP32 | op | Src.X, dst, src, 0, 0, target)


def ja(target: str) -> Insn:
    return Insn(_JA, 0, 0, 0, 0, target)


def to_be(dst: int, bits: int) -> Insn:
    """Convert to big-endian (a byte swap on little-endian hosts), zero-extending."""
    return Insn(Class.ALU | AluOp.END | BPF_TO_BE, dst, 0, 0, bits)


def call(helper: int) -> Insn:
    return Insn(Class.JMP | JmpOp.CALL, 0, 0, 0, helper)


def alu64_imm(op: AluOp, dst: int, imm: int) -> Insn:
    return Insn(Class.ALU64 | op | Src.K, dst, 0, 0, imm & 0xFFFFFFFF)


def alu64_reg(op: AluOp, dst: int, src: int) -> Insn:
    return Insn(Class.ALU64 | op | Src.X, dst, src)


def exit_insn() -> Insn:
    return Insn(Class.JMP | JmpOp.EXIT)
