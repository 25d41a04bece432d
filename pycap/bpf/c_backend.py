"""IR -> C for a BCC (or clang/libbpf) socket filter.

The second backend: the same predicate the eBPF codegen lowers, written as one
C function that BCC compiles with clang (``pycap --backend bcc``), or that a
user takes into a BCC or libbpf program of their own (``pycap -d c``).

The semantics are the IR's, kept by construction:

* every value is a number below 2**32: loads are the kernel's zero-extended
  64-bit results, and the operations that can leave 32 bits (add, sub, mul,
  lsh, neg) are truncated with ``(u32)``; immediates are written in hex from
  4096 on, so a large one is an unsigned constant, never a signed ``long``;
* packet loads use ``load_byte``/``load_half``/``load_word`` (LLVM's
  ``BPF_LD_ABS``/``BPF_LD_IND``), whose out-of-bounds rule is classic BPF's:
  the program ends and returns 0.  LLVM treats them as plain reads: it loads
  a field once for several tests, and never moves one out of the ``&&``/``||``
  that guards it, but it deletes one whose value cannot matter (``byte 1 |
  256 != 0``), and the kernel's bounds check with it.  So every load states
  that check in C first (``skb->len < off + size`` returns 0), which clang
  keeps, and merges where one check implies another;
* a variable offset above ``PYCAP_MAX_OFFSET`` and a division by zero return
  0 from the filter function (GNU statement expressions in ``bpf/pycap.h``);
* shift counts are masked with 31, as the eBPF ALU32 (and the interpreter) do;
* ``&&``/``||``/``!`` keep the IR's left-to-right short-circuit order, which
  decides which loads run and so which packets a failed load rejects.  Inside
  one comparison C leaves the order of the two sides open; that cannot change
  a verdict, because every way out of evaluating a side rejects.

Templates and the header live in the top-level ``bpf/`` directory.  This
module only builds text: no BCC, no kernel.
"""

from __future__ import annotations

import sysconfig
from dataclasses import dataclass
from pathlib import Path
from string import Template

from pycap.ir import nodes as ir

MAX_OFFSET = 0x40000           # as in pycap.bpf.codegen and PYCAP_MAX_OFFSET
WIRE_LEN = {"len": "skb->len", "cb0": "skb->cb[0]"}
CTX_FIELDS = ("pkt_type", "ifindex", "vlan_present", "vlan_tci", "protocol", "mark", "len")
_ALU_C = {"add": "+", "sub": "-", "mul": "*", "and": "&", "or": "|", "xor": "^",
          "lsh": "<<", "rsh": ">>"}
_CMP_C = {"eq": "==", "gt": ">", "ge": ">="}
_NEG_CMP_C = {"eq": "!=", "gt": "<=", "ge": "<"}
_LOAD = {1: "8", 2: "16", 4: "32"}
INDENT = "    "


def template_dir() -> Path:
    """The ``bpf/`` directory: beside the package in a source tree (editable
    install), under ``<prefix>/share/pycap/bpf`` in an installed wheel."""
    here = Path(__file__).resolve().parents[2] / "bpf"
    if (here / "pycap.h").is_file():
        return here
    return Path(sysconfig.get_path("data")) / "share" / "pycap" / "bpf"


def _read(name: str) -> str:
    return (template_dir() / name).read_text(encoding="utf-8")


# ------------------------------------------------------------------- expressions


def _imm(value: int) -> str:
    """Decimal below 4096, as pycap's disassembler writes them, else hex."""
    value &= ir.MASK32
    return str(value) if value < 4096 else f"{value:#x}"


def _const(v: ir.Value) -> int | None:
    return v.value if isinstance(v, ir.Imm) else None


def _u32(v: ir.Value, text: str) -> str:
    """An immediate left operand gets a cast, so ``1 == x`` is unsigned."""
    return f"(u32){text}" if isinstance(v, ir.Imm) else text


def _wrap(text: str) -> str:
    return text if text.startswith(("(", "PYCAP_", "skb->")) and _balanced(text) else f"({text})"


def _balanced(text: str) -> bool:
    """Whether ``text`` is one primary expression: a parenthesized group from
    its first character to its last, or a call / field access."""
    if text.startswith("("):
        depth = 0
        for i, ch in enumerate(text):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i != len(text) - 1:
                return False
        return True
    return text.endswith(")") or "(" not in text and " " not in text


@dataclass(frozen=True)
class CWriter:
    """Writes IR values and predicates as C; ``wire_len`` is the C expression
    for ``ir.WireLen`` (``skb->len`` live, ``skb->cb[0]`` for savefile records)."""

    wire_len: str = WIRE_LEN["len"]

    def value(self, v: ir.Value) -> str:
        """A C expression whose value is ``v``'s (below 2**32)."""
        text, dirty = self._value(v)
        return f"(u32){_wrap(text)}" if dirty else text

    def _value(self, v: ir.Value) -> tuple[str, bool]:
        """C for ``v`` and whether it is *dirty*: right in its low 32 bits but
        possibly carrying bits above them (64-bit arithmetic after add, sub,
        mul, lsh, neg).  Bitwise operations keep the low bits right, so one
        truncation where a clean value is needed does for a whole chain."""
        if isinstance(v, ir.Imm):
            return _imm(v.value), False
        if isinstance(v, ir.Load):
            return self._load(v), False
        if isinstance(v, ir.WireLen):
            return self.wire_len, False
        if isinstance(v, ir.Ctx):
            if v.field not in CTX_FIELDS:
                raise ValueError(f"no __sk_buff field {v.field!r}")
            return f"skb->{v.field}", False
        if isinstance(v, ir.Alu):
            return self._alu(v)
        if isinstance(v, ir.Var):
            return c_variable(v.name), False
        raise AssertionError(v)

    def _load(self, v: ir.Load) -> str:
        size = _LOAD[v.size]
        offset = _const(v.offset)
        if offset is None:   # PYCAP_LDX assigns the offset to a u32: no truncation needed
            return f"PYCAP_LDX{size}(skb, {self._value(v.offset)[0]})"
        if offset >= MAX_OFFSET:
            return "PYCAP_REJECT()"
        return f"PYCAP_LD{size}(skb, {offset})"

    def _alu(self, v: ir.Alu) -> tuple[str, bool]:
        left, left_dirty = self._value(v.left)
        if isinstance(v.left, ir.Imm):   # keep constant-only arithmetic unsigned
            left = f"(u32){left}"
        if v.op == "neg":
            return f"-{_wrap(left)}", True
        divisor = _const(v.right)
        if v.op in ("div", "mod"):
            if divisor == 0:
                return "PYCAP_REJECT()", False
            if divisor is not None:
                return f"({self.value(v.left)} {'/' if v.op == 'div' else '%'} {_imm(divisor)})", \
                    False
            return f"PYCAP_{v.op.upper()}({left}, {self._value(v.right)[0]})", False
        if v.op in ("lsh", "rsh"):   # the count's low 5 bits are right even when dirty
            count = _imm(divisor & 31) if divisor is not None else \
                f"({self._value(v.right)[0]} & 31)"
            if v.op == "rsh":
                return f"({self.value(v.left)} >> {count})", False
            return f"({left} << {count})", True
        right, right_dirty = self._value(v.right)
        if v.op == "and":
            return f"({left} & {right})", left_dirty and right_dirty
        if v.op in ("or", "xor"):
            return f"({left} {_ALU_C[v.op]} {right})", left_dirty or right_dirty
        return f"({left} {_ALU_C[v.op]} {right})", True    # add sub mul

    def predicate(self, p: ir.Pred, depth: int = 1) -> str:
        """A C condition for ``p``; ``depth`` indents continued lines."""
        if isinstance(p, ir.Const):
            return "1" if p.value else "0"
        if isinstance(p, ir.Cmp):
            left, right = _u32(p.left, self.value(p.left)), self.value(p.right)
            if p.op == "set":
                return f"({left} & {right}) != 0"
            return f"{left} {_CMP_C[p.op]} {right}"
        if isinstance(p, ir.Negation):
            if isinstance(p.item, ir.Cmp):   # !(a == b) reads better as a != b
                return self._negated_cmp(p.item)
            return f"!({self.predicate(p.item, depth + 1)})"
        if isinstance(p, (ir.All, ir.Any)):
            joiner = f"\n{INDENT * (depth + 1)}{'&&' if isinstance(p, ir.All) else '||'} "
            return joiner.join(self._operand(item, depth + 1) for item in p.items)
        if isinstance(p, ir.Def):   # always true: a comma expression that assigns
            return f"({c_variable(p.name)} = {self._value(p.value)[0]}, 1)"
        if isinstance(p, ir.Transport6):   # a loop that also sets the variable
            return (f"pycap_transport6(skb, {p.proto}, {p.base}, {ir.TRANSPORT6_MAX_STEPS}, "
                    f"&{c_variable(p.var)})")
        if isinstance(p, ir.ProtoChain):   # a loop: a helper in pycap.h
            return (f"pycap_protochain(skb, {p.version}, {p.proto}, {p.base}, "
                    f"{ir.PROTOCHAIN_MAX_STEPS})")
        raise AssertionError(p)

    def _negated_cmp(self, p: ir.Cmp) -> str:
        left, right = _u32(p.left, self.value(p.left)), self.value(p.right)
        if p.op == "set":
            return f"({left} & {right}) == 0"
        return f"{left} {_NEG_CMP_C[p.op]} {right}"

    def _operand(self, p: ir.Pred, depth: int) -> str:
        text = self.predicate(p, depth)
        return f"({text})" if isinstance(p, (ir.All, ir.Any)) else text


# ------------------------------------------------------------------------- programs


@dataclass(frozen=True)
class CFunction:
    """One socket filter as a C function named ``name``."""

    name: str
    predicate: ir.Pred
    snaplen: int
    wire_len_field: str = "len"      # "len" live, "cb0" for savefile records
    expression: str = ""
    linktype: str = "EN10MB"

    def source(self) -> str:
        writer = CWriter(WIRE_LEN[self.wire_len_field])
        names = [c_variable(n) for n in _variables(self.predicate)]
        # zero-initialized: the verifier rejects reading a stack slot never written
        variables = "".join(f"{INDENT}u32 {name} = 0;\n" for name in names)
        return Template(_read("socket_filter.c.tmpl")).substitute(
            variables=variables + ("\n" if variables else ""),
            name=self.name, expression=_comment(self.expression or "(empty expression)"),
            linktype=self.linktype, snaplen=self.snaplen,
            wire_len=writer.wire_len, predicate=writer.predicate(self.predicate))


def c_variable(name: str) -> str:
    """The C local for IR variable ``name`` (``geneve0.hdr`` -> ``v_geneve0_hdr``)."""
    return "v_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def _variables(p: ir.Pred) -> list[str]:
    """Names of the variables ``p`` defines (``Def``), in first-seen order."""
    seen: dict[str, None] = {}

    def walk(q: ir.Pred) -> None:
        if isinstance(q, ir.Def):
            seen[q.name] = None
        elif isinstance(q, ir.Transport6):
            seen[q.var] = None
        elif isinstance(q, ir.Negation):
            walk(q.item)
        elif isinstance(q, (ir.All, ir.Any)):
            for item in q.items:
                walk(item)
    walk(p)
    return list(seen)


def _comment(text: str) -> str:
    return text.replace("*/", "* /")


def c_program(functions: list[CFunction]) -> str:
    """A self-contained C source: pycap.h inlined, then every function.
    One BCC compile builds them all; ``load_func`` picks each by name."""
    from pycap import __version__
    if not functions:
        raise ValueError("no functions")
    return Template(_read("program.c.tmpl")).substitute(
        version=__version__, first=functions[0].name, header=_read("pycap.h"),
        functions="\n".join(f.source() for f in functions))


def generate_c(predicate: ir.Pred, snaplen: int, wire_len_field: str = "len", *,
               name: str = "pycap_filter", expression: str = "",
               linktype: str = "EN10MB") -> str:
    """The C source of one socket filter, ready for ``BPF(text=...)``."""
    return c_program([CFunction(name, predicate, snaplen, wire_len_field, expression, linktype)])


def dump_c(compiled, offline: bool = False) -> str:
    """``pycap -d c``: a :class:`pycap.compiler.CompiledFilter` as the C of a
    socket filter; the wire length comes from ``skb->len``, or from ``cb[0]``
    for an ``offline`` filter (savefile records, as with ``-r``)."""
    from pycap.linktype import link_info
    return generate_c(compiled.predicate, compiled.snaplen, "cb0" if offline else "len",
                      expression=compiled.expression, linktype=link_info(compiled.linktype).name)
