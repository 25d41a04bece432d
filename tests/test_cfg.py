"""The decision graph (pycap.ir.cfg) on its own, and the code generator's
use of it: sharing, jump threading, common-branch elimination, facts, layout,
and that the graph decides what the predicate decides."""

import pytest

from pycap.bpf.isa import BPF_FUNC_SKB_LOAD_BYTES, Class, JmpOp, Mode
from pycap.compiler import compile_filter
from pycap.errors import FilterError
from pycap.filter.parser import parse
from pycap.ir import cfg
from pycap.ir import interp
from pycap.ir import nodes as ir
from pycap.ir.lower import Lowerer
from tests import corpus

ETHERTYPE = ir.load(12, 2)
IS_IP = ir.eq(12, 2, 0x800)
IS_IP6 = ir.eq(12, 2, 0x86DD)
IP_PROTO = ir.load(23, 1)


def lowered(expression: str, linktype: int = 1) -> ir.Pred:
    lowerer = Lowerer(linktype, live=False)
    return lowerer.lower(parse(expression, on_primitive=lowerer.on_primitive))


def ops_of(g: cfg.Graph) -> list:
    return [n.op for n in g.order()]


def test_equal_subgraphs_are_one_node():
    g = cfg.from_predicate(ir.Any((ir.All((IS_IP, ir.eq(23, 1, 6))),
                                   ir.All((IS_IP6, ir.eq(20, 1, 6))))))
    assert len(g.order()) == 4
    twice = cfg.Graph()
    assert twice.node(IS_IP, twice.accept, twice.reject) is twice.node(IS_IP, twice.accept,
                                                                         twice.reject)


def test_threading_enters_the_port_test_past_its_own_ethertype_test():
    g = cfg.graph(lowered("tcp and port 22"))
    ethertype_tests = [op for op in ops_of(g) if isinstance(op, ir.Cmp) and op.left == ETHERTYPE]
    assert sorted(op.right.value for op in ethertype_tests) == [0x800, 0x86DD]
    # and the protocol is tested once per IP version: 6, then (IPv6) the fragment header
    assert [op.right.value for op in ops_of(g)
            if isinstance(op, ir.Cmp) and op.left == IP_PROTO] == [6]


def test_contradiction_leaves_nothing_but_reject():
    g = cfg.graph(ir.All((IS_IP, IS_IP6)))
    assert g.root is g.reject
    g = cfg.graph(ir.Any((ir.Negation(IS_IP), ir.Negation(IS_IP6))))
    assert g.root is g.accept


def test_a_test_whose_edges_meet_is_skipped_but_a_definition_is_not():
    g = cfg.Graph()
    define = ir.Def("x", ir.load(14, 1))
    g.root = g.node(IS_IP, g.node(define, g.accept, None), g.node(define, g.accept, None))
    cfg.optimize(g)
    assert g.root.op == define
    g = cfg.Graph()
    g.root = g.node(IS_IP, g.accept, g.accept)
    cfg.optimize(g)
    assert g.root is g.accept


@pytest.mark.parametrize("known,test,outcome", [
    ((IS_IP, True), IS_IP6, False),                      # the field holds another constant
    ((IS_IP, True), ir.Cmp("gt", ETHERTYPE, ir.Imm(1500)), True),
    ((IS_IP, False), IS_IP, False),
    ((ir.Cmp("gt", ETHERTYPE, ir.Imm(1500)), False), ir.Cmp("gt", ETHERTYPE, ir.Imm(1500)), False),
    ((IS_IP, False), IS_IP6, None),
    # a comparison of constants (``2 * 3 = 7``) is left to the code generator,
    # as libpcap leaves it to after its branch optimization
    ((ir.Cmp("eq", ir.Imm(1), ir.Imm(1)), True), ir.Cmp("eq", ir.Imm(2), ir.Imm(3)), None),
])
def test_decide(known, test, outcome):
    facts = cfg.learn(cfg.NO_FACTS, *known)
    assert cfg.decide(test, facts) is outcome


@pytest.mark.parametrize("known,test,pycap,libpcap", [
    ((IS_IP, True), IS_IP6, False, False),                 # fold_edge: a JEQ's constant
    ((IS_IP, True), ir.Cmp("gt", ETHERTYPE, ir.Imm(1500)), True, None),   # not a JGT
    ((IS_IP, False), IS_IP, False, False),                 # the same test
])
def test_decide_as_libpcap(known, test, pycap, libpcap):
    facts = cfg.learn(cfg.NO_FACTS, *known)
    assert (cfg.decide(test, facts), cfg.decide(test, facts, as_libpcap=True)) == (pycap, libpcap)


def test_meet_keeps_what_both_paths_know():
    a = cfg.learn(cfg.learn(cfg.NO_FACTS, IS_IP, True), ir.eq(23, 1, 6), True)
    b = cfg.learn(cfg.NO_FACTS, IS_IP, True)
    both = cfg.meet(a, b)
    assert cfg.decide(IS_IP, both) is True
    assert cfg.decide(ir.eq(23, 1, 6), both) is None


def test_order_is_topological_and_falls_through_to_no():
    g = cfg.graph(lowered("tcp port 80 or udp port 53"))
    order = g.order()
    where = {id(n): i for i, n in enumerate(order)}
    for n in order:
        for s in n.successors():
            assert s.terminal or where[id(s)] > where[id(n)]
    falls = sum(1 for i, n in enumerate(order[:-1]) if n.no is order[i + 1])
    assert falls >= len(order) // 2


SAMPLE_CAPTURES = ("dns_tcp.pcap", "ipv4_tcp_http_xml.pcap", "espudp1.pcap", "icmp6-rfc8335.pcap",
                   "ipv6-routing-header.pcap", "AH-IPcomp-IPv6.pcap", "arp-too-long-tha.pcap",
                   "vrrp.pcap", "geneve.pcap")


def test_graph_decides_what_the_predicate_decides():
    """On whole packets (no load out of bounds, where libpcap's optimizer and
    the graph may drop a load the predicate still makes) the graph and the
    predicate it came from agree."""
    names = [n for n in SAMPLE_CAPTURES if n in corpus.captures()]
    assert len(names) == len(SAMPLE_CAPTURES)
    packets = [data for name in names for data, wire in corpus.records(name) if wire == len(data)]
    assert packets
    checked = 0
    for expression in corpus.expressions()[::7]:
        try:
            predicate = lowered(expression)
        except FilterError:
            continue
        g = cfg.graph(predicate)
        for data in packets:
            assert interp.runs(g, data) == interp.matches(predicate, data), (expression, data.hex())
            checked += 1
    assert checked > 5000


def _calls(expression: str) -> int:
    return sum(1 for i in compile_filter(expression).insns
               if i.code == Class.JMP | JmpOp.CALL and i.imm == BPF_FUNC_SKB_LOAD_BYTES)


def test_header_copy_only_where_it_replaces_enough_loads():
    assert _calls("port 443") == 1
    assert _calls("tcp port 80 or udp port 53") == 1
    assert _calls("ip") == 0
    assert _calls("host 10.0.0.1") == 0        # three loads: one copy would cost more


def test_header_copy_compares_in_host_byte_order():
    insns = compile_filter("port 443").insns
    # the ethertype 0x0800 read from the copy is compared as 0x0008
    assert any(i.code == Class.JMP32 | JmpOp.JEQ and i.imm == 0x0008 for i in insns)
    assert not any(i.code & 0x07 == Class.LD and i.code & 0xE0 == Mode.ABS and i.imm == 12
                   for i in insns)


def test_copy_comes_after_metadata_tests():
    insns = compile_filter("vlan 100 and tcp port 80").insns
    call = next(n for n, i in enumerate(insns) if i.code == Class.JMP | JmpOp.CALL)
    reads_ctx = [n for n, i in enumerate(insns) if i.code & 0x07 == Class.LDX and i.src == 6]
    assert reads_ctx and max(reads_ctx[:2]) < call


def test_a_value_two_tests_need_is_loaded_once():
    insns = compile_filter("tcp port 443").insns
    # the IPv4 header length (ihl * 4) is computed once for both ports
    assert sum(1 for i in insns if i.code == Class.ALU | 0x20 and i.imm == 4) == 1


def test_ports_behind_the_ipv4_header_are_read_from_the_copy_after_a_length_check():
    insns = compile_filter("tcp port 443").insns
    assert not any(i.code & 0x07 == Class.LD and i.code & 0xE0 == Mode.IND for i in insns)
    checks = [i for i in insns if i.code == Class.JMP32 | JmpOp.JSLT]
    assert sorted(i.imm for i in checks) == [16, 18]     # len - ihl*4 >= 14 + 2, 16 + 2


def test_where_ways_meet_each_keeps_its_facts():
    """After the first tcp[] test the IPv4 and IPv6 ways to the TCP header
    meet; the second tcp[] must not dispatch on the ethertype or walk the
    IPv6 headers again (a copy of the meeting node per way)."""
    g = cfg.graph(lowered("tcp[13] & 2 != 0 or tcp[13] & 1 != 0"))
    ops = ops_of(g)
    assert sum(isinstance(op, ir.Transport6) for op in ops) == 1
    assert sum(isinstance(op, ir.Cmp) and op.left == ETHERTYPE for op in ops) == 2


def test_a_definition_made_again_the_same_is_skipped_and_a_different_one_forgets():
    define = ir.Def("x", ir.load(14, 1))
    known = cfg.learn(cfg.NO_FACTS, define, True)
    reads_x = ir.Cmp("eq", ir.Load(ir.Var("x"), 1), ir.Imm(1))
    known = cfg.learn(known, reads_x, False)
    assert cfg.decide(reads_x, known) is False
    other = cfg.learn(known, ir.Def("x", ir.load(15, 1)), True)
    assert cfg.decide(reads_x, other) is None


def test_ipv6_walk_skipped_where_the_next_header_is_known():
    """``udp and udp[...]``: where the path knows the IPv6 next header is UDP
    the transport header is at 40, no walk; only the fragment path walks."""
    g = cfg.graph(lowered("udp and udp[8:4] = 0x12345678"))
    ops = ops_of(g)
    assert ir.Def("udp.l4.14", ir.Imm(54)) in ops
    assert sum(isinstance(op, ir.Transport6) for op in ops) == 1


def test_transport_index_is_lowered_per_ip_version():
    """``tcp[13]``: over IPv4 at the header length, as libpcap reads it (a place
    the header copy can hold), over IPv6 behind the extension-header walk."""
    p = lowered("tcp[13] & 2 != 0")
    assert isinstance(p, ir.Any) and len(p.items) == 2
    v4, v6 = p.items
    assert not any(isinstance(op, (ir.Def, ir.Var)) for op in _walk_ops(v4))
    assert any(isinstance(op, ir.Transport6) for op in _walk_ops(v6))
    assert _calls("tcp[13] & 2 != 0") == 1        # and its loads come from one copy


def test_a_length_checked_on_a_path_is_not_checked_again():
    """Fields beyond what every path reads are read from the copy after a
    ``len`` check; a longer check earlier on the same path covers them."""
    insns = compile_filter("tcp[tcpflags] & tcp-syn != 0").insns
    checks = [i.imm for i in insns if i.code == Class.JMP32 | JmpOp.JLT and i.dst == 1]
    # one check a path: the IPv6 path's next header (byte 20), and on the IPv4
    # path 24 for the protocol (23), the fragment field (20-21) and the
    # header length (14) together
    assert sorted(checks) == [21, 24]


def _walk_ops(p):
    if isinstance(p, (ir.All, ir.Any)):
        for item in p.items:
            yield from _walk_ops(item)
    elif isinstance(p, ir.Negation):
        yield from _walk_ops(p.item)
    else:
        yield p
        if isinstance(p, ir.Cmp):
            yield from _values(p.left)


def _values(v):
    yield v
    if isinstance(v, ir.Load):
        yield from _values(v.offset)
    elif isinstance(v, ir.Alu):
        yield from _values(v.left)
        yield from _values(v.right)
