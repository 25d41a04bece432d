"""Port lists: ``port 1 or port 2 or ...`` lowered as one primitive with a
set of ports (pycap.ir.lower), its runs of ``==`` tests as one OneOf node of
the decision graph (pycap.ir.cfg), and the search the code generator emits
for it.  Each must decide exactly what the plain chain of primitives does,
packets too short for some load included."""

from __future__ import annotations

import random
import struct

import pytest

from pycap.compiler import compile_filter
from pycap.errors import FilterError
from pycap.filter.parser import parse
from pycap.ir import cfg, interp
from pycap.ir import nodes as ir
from pycap.ir.lower import Lowerer
from tests import corpus

try:
    from kernelsupport import kernel  # noqa: F401
except ImportError:  # tests/ imported as a package
    from tests.kernelsupport import kernel  # noqa: F401

LISTS = [
    " or ".join(f"port {p}" for p in range(1, 41)),
    " or ".join(f"port {p}" for p in random.Random(1).sample(range(1, 65536), 40)),
    "port 53 or port 67 or 68 or 123",
    "tcp port 22 or tcp port 80 or tcp port 443 or tcp port 8080 or udp port 53",
    "src port 1024 or src port 2048 or src port 4096 or src port 1",
    "dst port 7 or dst port 9 or dst port 13 or dst port 19 or dst port 21",
    "portrange 80 or portrange 90 or portrange 100 or port 110",
    "ip6 and (udp port 546 or udp port 547 or udp port 53 or udp port 5353)",
    "port 1 or host 10.0.0.1 or port 2 or port 3",
    "port 1 or tcp[100] = 5 or port 2 or port 3",
    "port 443 or port 443 or port 80 or port 80",
    "not (port 1 or port 2 or port 3 or port 4) and tcp",
    "vlan and (port 1 or port 2 or port 3) or port 4 or port 5",
    "src or dst port 5 or src or dst port 6 or src or dst port 7 or src or dst port 8",
]


class _Chain(Lowerer):
    """The lowering without port lists: every primitive on its own."""

    def _port_key(self, node):
        return None


def _lowered(expression: str, lowerer_class: type = Lowerer) -> ir.Pred:
    lowerer = lowerer_class(1)
    return lowerer.lower(parse(expression, on_primitive=lowerer.on_primitive))


def _frame4(sport: int, dport: int, proto: int = 6, options: int = 1, frag: int = 0) -> bytes:
    ihl = 5 + options
    ip = (bytes([0x40 | ihl, 0]) + struct.pack("!HHHBBH", 20 + 4 * options + 20, 1, frag, 64, proto, 0)
          + bytes([10, 0, 0, 1, 10, 0, 0, 2]) + bytes(4 * options))
    return bytes(12) + b"\x08\x00" + ip + struct.pack("!HH", sport, dport) + bytes(16)


def _frame6(sport: int, dport: int, proto: int = 17) -> bytes:
    ip6 = bytes.fromhex("60000000") + struct.pack("!HBB", 20, proto, 64) + bytes(15) + b"\x01" \
        + bytes(15) + b"\x02"
    return bytes(12) + b"\x86\xdd" + ip6 + struct.pack("!HH", sport, dport) + bytes(16)


def _frames() -> list[bytes]:
    ports = [0, 1, 2, 3, 5, 7, 8, 22, 40, 41, 53, 67, 68, 80, 90, 110, 443, 1024, 8080, 65535]
    out = [_frame4(s, d, proto) for s in ports[::3] for d in ports for proto in (6, 17, 132)]
    out += [_frame6(s, d, proto) for s in ports[::4] for d in ports for proto in (6, 17)]
    out.append(_frame4(1, 80, frag=5))                     # not a first fragment
    return out


def test_a_port_list_is_one_primitive_and_one_search():
    def ethertype_tests(p: ir.Pred) -> int:
        if isinstance(p, (ir.All, ir.Any)):
            return sum(ethertype_tests(item) for item in p.items)
        return int(isinstance(p, ir.Cmp) and p.left == ir.load(12, 2))
    chain, listed = _lowered(LISTS[0], _Chain), _lowered(LISTS[0])
    assert (ethertype_tests(chain), ethertype_tests(listed)) == (80, 2)
    g = cfg.graph(listed)
    ops = [n.op for n in g.order()]
    assert len(ops) < 25
    assert sum(isinstance(op, ir.OneOf) for op in ops) == 4     # both ports, IPv4 and IPv6


@pytest.mark.parametrize("expression", LISTS)
def test_a_port_list_decides_what_the_chain_decides(expression):
    """On whole packets and on every cut of some: a packet too short for its
    destination port is still rejected when its source port is not the first."""
    chain, listed = _lowered(expression, _Chain), _lowered(expression)
    g = cfg.graph(listed)
    frames = _frames()
    cuts = [f[:k] for f in (_frame4(2, 80), _frame4(1, 2), _frame6(3, 9), _frame4(2, 1, options=0))
            for k in range(len(f) + 1)]
    for data in frames + cuts:
        want = interp.matches(chain, data)
        assert interp.matches(listed, data) == want, (expression, data.hex())
        assert _run(g, data) == want, (expression, data.hex())


def test_only_neighbours_are_gathered():
    """``port 1 or tcp[100] = 5 or port 2``: a TCP packet from port 2 too short
    for ``tcp[100]`` is rejected there, before port 2 is tested."""
    data = _frame4(2, 80)
    assert len(data) < 14 + 24 + 100
    assert not interp.matches(_lowered("port 1 or tcp[100] = 5 or port 2"), data)
    assert interp.matches(_lowered("port 1 or port 2 or tcp[100] = 5"), data)


@pytest.mark.parametrize("expression", [
    "port 1 or port 70000", "port 1 or 2 or 0x10000", "tcp port 1 or tcp port 2 or ra port 3",
    "ip6 port 1 or ip6 port 2", "port 1 or port 2 and vlan and port 70000",
    "src and dst port 1 or src and dst port 99999"])
def test_errors_are_the_chains(expression):
    def error(lowerer_class: type) -> tuple:
        with pytest.raises(FilterError) as err:
            _lowered(expression, lowerer_class)
        return str(err.value), err.value.span
    assert error(Lowerer) == error(_Chain)


def test_corpus_programs_see_the_same_verdicts():
    """Every corpus expression with a port list, on the Ethernet captures."""
    expressions = [e for e in corpus.expressions() if e.count("port") >= 2 and " or " in e]
    assert expressions
    packets = [data for name in corpus.captures_of(1)[:40] for data, _ in corpus.records(name)]
    for expression in expressions:
        try:
            chain = _lowered(expression, _Chain)
        except FilterError:
            continue
        listed = _lowered(expression)
        for data in packets:
            assert interp.matches(listed, data) == interp.matches(chain, data), expression


def _run(g: cfg.Graph, data: bytes) -> bool:
    n, ctx = g.root, {}
    try:
        while not n.terminal:
            n = n.yes if interp._pred(n.op, data, len(data), ctx) or n.no is None else n.no
    except interp._Reject:
        return False
    return n is g.accept


# ---------------------------------------------------------------- the graph's OneOf

PORT = ir.load(34, 2)


def _eq(v: int, left: ir.Value = PORT) -> ir.Cmp:
    return ir.Cmp("eq", left, ir.Imm(v))


def test_one_of_takes_runs_of_four_or_more_tests_of_one_value():
    other = ir.load(36, 2)
    items = (_eq(1), _eq(2), _eq(3), _eq(4), _eq(5, other), _eq(6), _eq(7), _eq(8))
    made = cfg._one_ofs(items)
    assert made == [ir.OneOf(PORT, (1, 2, 3, 4)), _eq(5, other), _eq(6), _eq(7), _eq(8)]


def test_one_of_is_decided_by_a_known_value():
    facts = cfg.learn(cfg.NO_FACTS, _eq(3), True)
    assert cfg.decide(ir.OneOf(PORT, (1, 2, 3, 4)), facts) is True
    assert cfg.decide(ir.OneOf(PORT, (5, 6, 7, 8)), facts) is False
    assert cfg.decide(ir.OneOf(PORT, (5, 6, 7, 8)), cfg.NO_FACTS) is None
    op = ir.OneOf(PORT, (5, 6, 7, 8))
    assert cfg.decide(op, cfg.learn(cfg.NO_FACTS, op, False)) is False


# ---------------------------------------------------------------- the search in the kernel

@pytest.mark.kernel
@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize("expression", [e for e in LISTS if "vlan" not in e] + [
    "udp port 1 or udp port 3 or udp port 5 or udp port 7 or udp port 9 or udp port 11 "
    "or udp port 13 or udp port 15 or udp port 17 or udp port 19 or udp port 40000"])
def test_the_search_accepts_what_the_interpreter_accepts(expression):
    """Values in, between and around the intervals, through the registers
    (IPv4 ports behind options) and the header copy in host byte order (IPv6),
    and every cut of a few frames.  (Not ``vlan``: live programs read the tag
    from the socket buffer, the interpreter here has savefile semantics.)"""
    from pycap.kernel.bpf import load_program, run_socket_filter
    compiled = compile_filter(expression)
    chain = _lowered(expression, _Chain)
    frames = _frames() + [f[:k] for f in (_frame4(2, 80), _frame6(3, 9)) for k in range(len(f) + 1)]
    with load_program(compiled.bytecode) as prog:
        for data in frames:
            if len(data) < 14:
                continue          # BPF_PROG_TEST_RUN wants an Ethernet header
            assert (run_socket_filter(prog, data) != 0) == interp.matches(chain, data), \
                (expression, data.hex())
