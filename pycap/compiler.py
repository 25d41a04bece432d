"""compile_filter: filter text -> AST -> IR -> eBPF, the one entry point the
rest of pycap uses."""

from __future__ import annotations

import sys
from functools import cached_property

from pycap.bpf.asm import disassemble, encode
from pycap.bpf.codegen import generate
from pycap.bpf.isa import Insn
from pycap.errors import FilterError
from pycap.filter import ast
from pycap.filter.names import NameResolver
from pycap.filter.parser import parse
from pycap.frozen import frozen
from pycap.ir import cfg
from pycap.ir import nodes as ir
from pycap.ir.lower import Lowerer
from pycap.ir.opt import optimize
from pycap.linktype import LinkType

MAX_SNAPLEN = 262144
REJECTS_ALL = "expression rejects all packets"


@frozen(slots=False)        # slots=False: predicate is a cached_property
class CompiledFilter:
    expression: str
    linktype: int
    snaplen: int
    tree: ast.Expr
    lowered: ir.Pred            # the predicate as lowered, before the tree optimizer
    insns: tuple[Insn, ...]
    graph: cfg.Graph            # the decision graph the eBPF was generated from (the
                                # offline interpreter walks it, see pycap.ir.interp.runs)
    optimized: bool = True      # False: -O, or protochain/geneve (libpcap's no_optimize)

    @property
    def accepts_all(self) -> bool:
        """The program returns the snap length without a test."""
        return self.graph.root is self.graph.accept

    @cached_property
    def predicate(self) -> ir.Pred:
        """The lowered predicate simplified (for the interpreter, the C backend
        and ``--explain``); the eBPF comes from the decision graph instead."""
        return optimize(self.lowered)

    @property
    def bytecode(self) -> bytes:
        return encode(list(self.insns))

    def disassemble(self) -> str:
        return disassemble(list(self.insns))


def compile_filter(expression: str, linktype: int = LinkType.EN10MB, snaplen: int = MAX_SNAPLEN,
                   *, offline: bool = False, netmask: int = 0, cooked_live: bool = False,
                   names: NameResolver | None = None,
                   byte_order: str = sys.byteorder, optimized: bool = True) -> CompiledFilter:
    """Compile a pcap-filter expression to an eBPF socket filter.

    Live programs (the default) use what the kernel knows about a packet:
    ``inbound``/``outbound``/``ifindex`` and the offloaded VLAN tag come from
    ``struct __sk_buff``.  ``offline`` programs have savefile semantics, as
    tcpdump's ``-r``, and read the original packet length from ``cb[0]``
    (records whose captured part is shorter than the packet).
    ``cooked_live`` is for SOCK_DGRAM captures (``-i any``, linktype
    LINUX_SLL or LINUX_SLL2): the program sees the network header at offset 0.
    ``byte_order`` is the savefile writer's (``reader.byteorder``): DLT_NULL's
    header holds its AF_ value in that order.
    ``optimized=False`` is tcpdump -O: no optimizer (see Lowerer.unoptimized).
    Raises FilterError (with a span into ``expression``) on bad input.
    """
    try:
        lowerer = Lowerer(linktype, names=names, netmask=netmask, live=not offline,
                          cooked_live=cooked_live, byte_order=byte_order, optimized=optimized)
        tree = parse(expression, on_primitive=lowerer.on_primitive)
        lowered = lowerer.lower(tree)
    except FilterError as err:
        raise err.with_source(expression) from None
    optimized = not lowerer.unoptimized
    graph = cfg.graph(lowered, optimized)
    if optimized and cfg.rejects_all(graph) and cfg.rejects_all_as_libpcap(lowered):
        # what libpcap's optimizer proves, not all that pycap's graph does
        raise FilterError(REJECTS_ALL).with_source(expression)
    snaplen = snaplen or MAX_SNAPLEN
    insns = generate(graph, snaplen, "cb0" if offline else "len")
    return CompiledFilter(expression, int(linktype), snaplen, tree, lowered, tuple(insns),
                          graph, optimized)
