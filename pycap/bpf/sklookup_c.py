"""IR -> C for a BCC (or clang/libbpf) ``BPF_PROG_TYPE_SK_LOOKUP`` program.

The BCC backend of ``pycap steer``: the rule predicates that
:mod:`pycap.bpf.sklookup` assembles, written as C instead (template
``bpf/sk_lookup.c.tmpl``).  The program does what pycap's own does — same
rule order, same SOCKMAP index per rule, same counter keys
(:func:`pycap.bpf.sklookup.counter_key`), ``SK_PASS`` always — but its maps
are declared in the C, so BCC creates them and the loader hands their fds to
pycap.

IR ``Ctx`` values are the lookup's fields in host order (see
:mod:`pycap.bpf.sklookup`); :class:`SkLookupCWriter` byte-swaps the fields
the kernel keeps in network order.  Expressions go through
:class:`pycap.bpf.c_backend.CWriter`, so the two C backends write a
predicate the same way.  Pure: builds text only.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template
from typing import Iterable

from pycap.bpf.c_backend import INDENT, CWriter, template_dir
from pycap.bpf.sklookup import FIELDS, counter_count
from pycap.ir import nodes as ir

SOCKMAP = "pycap_sockmap"           # the kernel's map names, as pycap's own backend names them
COUNTERS = "pycap_counters"
FUNCTION = "pycap_steer"


def _read(name: str) -> str:
    return (template_dir() / name).read_text(encoding="utf-8")


def _comment(text: str) -> str:
    return text.replace("*/", "* /")


def function_name(ifindex: int | None = None) -> str:
    """The program's C function; ``ifindex`` names a dry-run variant that
    sees that constant as ``ingress_ifindex`` (test runs cannot set it)."""
    return FUNCTION if ifindex is None else f"{FUNCTION}_if{ifindex}"


@dataclass(frozen=True)
class SkLookupCWriter(CWriter):
    """Writes predicates over ``struct bpf_sk_lookup *ctx``; ``ifindex``
    replaces ``ingress_ifindex`` by a constant, as in the eBPF backend."""

    ifindex: int | None = None

    def _value(self, v: ir.Value) -> tuple[str, bool]:
        if isinstance(v, ir.Ctx):
            return self.field(v.field), False
        if isinstance(v, (ir.Load, ir.WireLen, ir.Var)):
            raise ValueError(f"sk_lookup programs cannot compute {v!r}")
        if isinstance(v, ir.Alu) and v.op in ("div", "mod") and not _constant(v.right):
            raise ValueError("sk_lookup predicates divide only by non-zero constants")
        return super()._value(v)

    def field(self, name: str) -> str:
        if name == "ingress_ifindex" and self.ifindex is not None:
            return f"{self.ifindex}U"
        if name not in FIELDS:
            raise ValueError(f"no struct bpf_sk_lookup field {name!r}")
        _, size, order = FIELDS[name]
        access = f"ctx->{name}"
        if order == "host":
            return access
        return f"PYCAP_NTOHL({access})" if size == 4 else f"PYCAP_NTOHS({access})"


def _constant(v: ir.Value) -> bool:
    return isinstance(v, ir.Imm) and v.value != 0


@dataclass(frozen=True)
class CRule:
    """One rule as the C shows it: its predicate (with its socket's protocol
    and family constraint) and, for the comment, its name, expression and
    target."""

    predicate: ir.Pred
    name: str = ""
    expression: str = ""
    target: str = ""


def _dispatch(rules: list[CRule], writer: SkLookupCWriter) -> str:
    if not rules:
        return f"{INDENT}return SK_PASS;"
    lines = []
    for index, rule in enumerate(rules):
        head = "if" if index == 0 else "else if"
        about = f"rule {index}, {rule.name or f'rule{index}'}: " \
                f"{rule.expression or '(everything)'}" + (f" -> {rule.target}" if rule.target
                                                          else "")
        lines += [f"{INDENT}/* {_comment(about)} */",
                  f"{INDENT}{head} ({writer.predicate(rule.predicate)})",
                  f"{INDENT * 2}rule = {index};"]
    lines += [f"{INDENT}else", f"{INDENT * 2}return SK_PASS;     /* no rule: normal lookup */"]
    return "\n".join(lines)


def function_source(rules: list[CRule], ifindex: int | None = None) -> str:
    """One program function: the rules in order, then the steering tail."""
    writer = SkLookupCWriter(ifindex=ifindex)
    description = (f"{len(rules)} rule{'s' if len(rules) != 1 else ''}, first match wins"
                   + ("" if ifindex is None else
                      f"; dry-run variant: ingress_ifindex is {ifindex}"))
    return Template(_read("sk_lookup_function.c.tmpl")).substitute(
        description=description, name=function_name(ifindex),
        dispatch=_dispatch(rules, writer))


def generate_c(rules: list[CRule], ifindexes: Iterable[int] = ()) -> str:
    """The C source of an sk_lookup program for ``rules``: function
    :func:`function_name` ``()`` reads ``ingress_ifindex``; one more function
    per entry of ``ifindexes`` sees that constant instead (the dry-run
    variants, sharing the maps).  Ready for ``BPF(text=...)``."""
    from pycap import __version__
    variants = sorted(set(ifindexes))
    functions = [function_source(rules)] + [function_source(rules, i) for i in variants]
    return Template(_read("sk_lookup.c.tmpl")).substitute(
        version=__version__, first=function_name(), sockmap=SOCKMAP, counters=COUNTERS,
        sockets=max(1, len(rules)), counter_count=counter_count(len(rules)),
        functions="".join(functions))
