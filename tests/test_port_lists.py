"""Port and address lists: ``port 1 or port 2 or ...`` and ``host A or host
B or ...`` lowered as one primitive with a set of ports or addresses
(pycap.ir.lower), their runs of ``==`` tests as OneOf nodes of the decision
graph (pycap.ir.cfg), and the search the code generator emits for them.
Each must decide exactly what the plain chain of primitives does, packets
too short for some load included."""

from __future__ import annotations

import random
import shutil
import struct

import pytest

from pycap.compiler import compile_filter
from pycap.errors import FilterError
from pycap.filter.parser import parse
from pycap.ir import cfg, interp
from pycap.ir import nodes as ir
from pycap.ir.lower import Lowerer, pulled_up
from tests import corpus
from tests.compound import tcpdump_choice, write

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
    "src port 1 or dst port 2 or src port 3 or dst port 40",
    "dst port 2 or src port 1 or port 3 or src port 22 or dst port 5 or dst port 7",
    "src portrange 7 or dst port 2 or src port 40 or dst portrange 9 or src port 8",
]


class _Chain(Lowerer):
    """The lowering without lists: every primitive on its own."""

    def _list_key(self, node):
        return None


def _lowered(expression: str, lowerer_class: type = Lowerer, linktype: int = 1) -> ir.Pred:
    lowerer = lowerer_class(linktype)
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


def _cuts(frames: list[bytes]) -> list[bytes]:
    return [f[:k] for f in frames for k in range(len(f) + 1)]


PORT_CUTS = _cuts([_frame4(2, 80), _frame4(1, 2), _frame6(3, 9), _frame4(2, 1, options=0),
                   _frame4(40, 9), _frame6(9, 40)])


def _tcpdump_accepts(expression: str, frames: list[bytes], tmp_path) -> list[bool]:
    """tcpdump's verdict for each frame (a savefile of them, each record as
    long as the frame: a cut frame is a short packet, not a snapped one)."""
    source, kept = str(tmp_path / "frames.pcap"), str(tmp_path / "kept.pcap")
    write(source, 1, [(f, len(f)) for f in frames], list(range(len(frames))))
    chosen = tcpdump_choice(source, kept, expression)
    assert not isinstance(chosen, str), chosen          # tcpdump's error line
    return [i in chosen for i in range(len(frames))]


TCPDUMP = shutil.which("tcpdump")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="tcpdump is not installed")


def _decides(expression: str, frames: list[bytes], wants: list[bool], tree: bool = True) -> None:
    """The graph (and the lowered list, interpreted, unless not ``tree``)
    decide each frame as wanted."""
    listed = _lowered(expression)
    g = cfg.graph(listed)
    for data, want in zip(frames, wants, strict=True):
        assert not tree or interp.matches(listed, data) == want, (expression, data.hex())
        assert interp.runs(g, data) == want, (expression, data.hex())


def _chain_decides(expression: str, frames: list[bytes]) -> list[bool]:
    chain = _lowered(expression, _Chain)
    return [interp.matches(chain, data) for data in frames]


@pytest.mark.parametrize("expression", LISTS)
def test_a_port_list_decides_what_the_chain_decides(expression):
    """On whole packets the list and the chain of primitives agree."""
    _decides(expression, _frames(), _chain_decides(expression, _frames()))


def _one_list(expressions: list[str]) -> list[str]:
    """All but ``vlan`` (live programs read the tag from the socket buffer)
    and ``tcp[100]``, where libpcap moves tests over the IPv4 header-length
    computation and pycap does not (README: what differs)."""
    return [e for e in expressions if "vlan" not in e and "[" not in e]


@needs_tcpdump
@pytest.mark.parametrize("expression", _one_list(LISTS))
def test_a_port_list_decides_cut_packets_as_tcpdump(expression, tmp_path):
    """On every cut of some frames, as tcpdump decides (its optimizer tests
    all source ports before loading the destination port: a packet too short
    for the destination matches on any of its source ports)."""
    _decides(expression, PORT_CUTS, _tcpdump_accepts(expression, PORT_CUTS, tmp_path),
             tree="host" not in expression)


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
    "src and dst port 1 or src and dst port 99999",
    "host 10.0.0.1 or host 10.0.0.256", "host 10.0.0.1 or host 10.0.0.2 or host 1.2.3.4.5",
    "net 10.0.0.0/24 or net 10.0.1.0/33", "net 10.0.0.0/24 or net 10.0.1.1/24",
    "net 10.0.0.0/24 or net 10.0.1.1 mask 255.255.255.0",
    "host 10.0.0.1 or host 10.0.0.2 and ip6 host 10.0.0.3",
    "arp host 10.0.0.1 or arp host 10.0.0.2 or ipx host 10.0.0.3",
    "host 10.0.0.1 or host 10.0.0.2 or port 70000",
    "src and dst host 10.0.0.1 or src and dst host 10.0.0.999"])
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


# ---------------------------------------------------------------- address lists

HOST_LISTS = [
    " or ".join(f"host 10.0.0.{i}" for i in range(1, 41)),
    " or ".join("host 10.%d.%d.%d" % tuple(random.Random(i).randrange(256) for _ in range(3))
                for i in range(40)),
    "host 10.0.0.1 or host 10.0.0.2",
    "host 10.0.0.1 or 10.0.0.2 or 10.0.0.3 or 192.168.1.1",
    "ip host 10.0.0.2 or ip host 10.0.0.7 or ip host 10.0.0.9 or ip host 10.0.0.1",
    "src host 10.0.0.1 or src host 10.0.0.3 or src host 10.0.0.5 or src host 10.0.0.2",
    "dst host 10.0.0.9 or dst host 10.0.0.2 or dst host 10.0.0.4 or dst host 10.0.0.6",
    "arp host 10.0.0.1 or arp host 10.0.0.2 or arp host 10.0.0.3 or arp host 10.0.0.4",
    "rarp src host 10.0.0.1 or rarp src host 10.0.0.2 or rarp src host 10.0.0.3",
    "net 10.0.0.0/24 or net 10.0.2.0/24 or net 10.0.9.0/24 or net 192.168.0.0/24",
    "net 10.0.0 or net 10.0.3 or net 10.0.5 or net 10.1.0",
    "net 10.0.0.0 mask 255.255.255.0 or net 10.0.2.0/24 or net 10.0.4.0/24 or host 10.0.0.2",
    "net 10.0.0.0/8 or net 192.168.0.0/16 or host 10.0.0.1 or host 10.0.0.2",
    "host 10.0.0.1 or tcp[100] = 5 or host 10.0.0.2 or host 10.0.0.3",
    "host 10.0.0.1 or port 2 or host 10.0.0.2 or host 10.0.0.3 or port 3",
    "host 10.0.0.2 or host 10.0.0.2 or host 10.0.0.1 or host 10.0.0.1",
    "not (host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or host 10.0.0.4) and ip",
    "vlan and (host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3) or host 10.0.0.4",
    "src or dst host 10.0.0.5 or src or dst host 10.0.0.6 or src or dst host 10.0.0.7",
    "src and dst host 10.0.0.1 or src and dst host 10.0.0.2 or src and dst host 10.0.0.3",
    "src host 10.0.0.1 or dst host 10.0.0.2 or src host 10.0.0.3 or host 10.0.0.4",
    "dst net 10.0.0.0/24 or src host 10.0.0.2 or src net 10.0.9.0/24 or net 10.0.2.0/24",
]

ADDRESSES = [(10, 0, 0, i) for i in (0, 1, 2, 3, 4, 5, 6, 7, 9, 40, 41, 255)] + [
    (10, 0, 2, 7), (10, 0, 9, 1), (10, 1, 0, 3), (192, 168, 0, 9), (192, 168, 1, 1),
    (10, 197, 197, 197), (10, 68, 68, 68), (11, 0, 0, 1)]


def _ip4(src: tuple, dst: tuple, proto: int = 6) -> bytes:
    ip = bytes([0x45, 0]) + struct.pack("!HHHBBH", 40, 1, 0, 64, proto, 0) + bytes(src) + bytes(dst)
    return bytes(12) + b"\x08\x00" + ip + struct.pack("!HH", 2, 3) + bytes(16)


def _arp(spa: tuple, tpa: tuple, ethertype: bytes = b"\x08\x06") -> bytes:
    arp = bytes.fromhex("0001080006040001") + bytes(6) + bytes(spa) + bytes(6) + bytes(tpa)
    return bytes(12) + ethertype + arp


def _address_frames() -> list[bytes]:
    out = [_ip4(s, d) for s in ADDRESSES[::2] for d in ADDRESSES]
    out += [_arp(s, d, kind) for s in ADDRESSES[::3] for d in ADDRESSES[1::2]
            for kind in (b"\x08\x06", b"\x80\x35")]
    return out


def _address_cuts() -> list[bytes]:
    a, b, c = (10, 0, 0, 2), (10, 0, 0, 1), (10, 0, 0, 40)
    frames = [_ip4(a, c), _ip4(b, c), _ip4(c, a), _arp(a, c), _arp(b, a), _arp(a, b, b"\x80\x35")]
    return [f[:k] for f in frames for k in range(len(f) + 1)]


def test_a_host_list_is_one_primitive_and_one_search():
    chain, listed = _lowered(HOST_LISTS[1], _Chain), _lowered(HOST_LISTS[1])
    ops = [n.op for n in cfg.graph(listed).order()]
    assert sum(isinstance(op, ir.OneOf) for op in ops) == 4    # both addresses, IP and (R)ARP
    assert len(ops) < 15
    assert len(cfg.graph(chain).order()) > 100


@pytest.mark.parametrize("expression", HOST_LISTS)
def test_a_host_list_decides_what_the_chain_decides(expression):
    _decides(expression, _address_frames(), _chain_decides(expression, _address_frames()))


@needs_tcpdump
@pytest.mark.parametrize("expression", _one_list(HOST_LISTS))
def test_a_host_list_decides_cut_packets_as_tcpdump(expression, tmp_path):
    """A packet too short for its destination address matches on its
    source, whichever address of the list it is, as in tcpdump."""
    cuts = _address_cuts()
    _decides(expression, cuts, _tcpdump_accepts(expression, cuts, tmp_path),
             tree="port" not in expression)


def test_address_lists_on_other_link_types():
    """``-i any`` (cooked) and raw IP: the list is read at the link's offsets."""
    for linktype, frame in ((113, bytes(14) + _ip4((10, 0, 0, 3), (1, 1, 1, 1))[12:]),
                            (12, _ip4((10, 0, 0, 3), (1, 1, 1, 1))[14:])):
        for expression in HOST_LISTS[3:8]:
            chain = Lowerer(linktype).lower(parse(expression))
            listed = _lowered(expression, linktype=linktype)
            for data in (frame, frame[:-30], bytes(len(frame))):
                assert interp.matches(listed, data) == interp.matches(chain, data), expression


# ---------------------------------------------------------------- the graph's OneOf

PORT = ir.load(34, 2)


def _eq(v: int, left: ir.Value = PORT) -> ir.Cmp:
    return ir.Cmp("eq", left, ir.Imm(v))


def test_one_of_takes_runs_of_four_or_more_tests_of_one_value():
    other = ir.load(36, 2)
    items = (_eq(1), _eq(2), _eq(3), _eq(4), _eq(5, other), _eq(6), _eq(7), _eq(8))
    made = cfg._one_ofs(items)
    assert made == [ir.OneOf(PORT, (1, 2, 3, 4)), _eq(5, other), _eq(6), _eq(7), _eq(8)]


def test_pulled_up_is_libpcaps_order():
    """What ``tcpdump -d`` shows: sources then destinations; a range stays
    and leaves its field in the accumulator, whose tests come first after it."""
    s, d = "src", "dst"
    assert pulled_up([(s, (1, 1)), (d, (1, 1)), (s, (2, 2)), (d, (2, 2))]) == \
        [(s, (1, 1)), (s, (2, 2)), (d, (1, 1)), (d, (2, 2))]
    assert pulled_up([(s, (1, 10)), (d, (1, 10)), (s, (40, 40)), (d, (40, 40))]) == \
        [(s, (1, 10)), (d, (1, 10)), (d, (40, 40)), (s, (40, 40))]
    assert pulled_up([(s, (1, 1)), (d, (1, 1)), (s, (1, 1)), (d, (5, 9)), (s, (2, 2))]) == \
        [(s, (1, 1)), (d, (1, 1)), (d, (5, 9)), (s, (2, 2))]


def test_one_of_is_decided_by_a_known_value():
    facts = cfg.learn(cfg.NO_FACTS, _eq(3), True)
    assert cfg.decide(ir.OneOf(PORT, (1, 2, 3, 4)), facts) is True
    assert cfg.decide(ir.OneOf(PORT, (5, 6, 7, 8)), facts) is False
    assert cfg.decide(ir.OneOf(PORT, (5, 6, 7, 8)), cfg.NO_FACTS) is None
    op = ir.OneOf(PORT, (5, 6, 7, 8))
    assert cfg.decide(op, cfg.learn(cfg.NO_FACTS, op, False)) is False


# ---------------------------------------------------------------- the search in the kernel

@pytest.mark.kernel
@needs_tcpdump
@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize("expression", _one_list(LISTS + HOST_LISTS) + [
    "udp port 1 or udp port 3 or udp port 5 or udp port 7 or udp port 9 or udp port 11 "
    "or udp port 13 or udp port 15 or udp port 17 or udp port 19 or udp port 40000"])
def test_the_search_accepts_what_tcpdump_accepts(expression, tmp_path):
    """Values in, between and around the intervals, through the registers
    (IPv4 ports behind options) and the header copy in host byte order (IPv6),
    and every cut of a few frames, against tcpdump's own verdicts.  (Not
    ``vlan``: live programs read the tag from the socket buffer.)"""
    from pycap.kernel.bpf import load_program, run_socket_filter
    compiled = compile_filter(expression)
    frames = [f for f in _frames() + _address_frames()[::3] + PORT_CUTS + _address_cuts()
              if len(f) >= 14]        # BPF_PROG_TEST_RUN wants an Ethernet header
    with load_program(compiled.bytecode) as prog:
        for data, want in zip(frames, _tcpdump_accepts(expression, frames, tmp_path)):
            assert (run_socket_filter(prog, data) != 0) == want, (expression, data.hex())


@needs_tcpdump
@pytest.mark.parametrize("expression", [
    "port 1 or host 10.0.0.1 or port 2 or port 3",
    "(net 0.0.0.0/0) or not (len > 0) or not ether[1500] = 0 or not (sca[0xab] == 0xcd)",
    "src port 1 or dst port 2 or udp or src port 3",
    "host 10.0.0.1 and host 10.0.0.2"])
def test_pull_ups_across_primitives_as_tcpdump(expression, tmp_path):
    """libpcap's or_pullup and and_pullup on the graph (cfg.pull_up): tests
    of the value the accumulator holds move in front of other loads, so cut
    frames get tcpdump's verdicts; whole ones too."""
    frames = [f for f in _frames()[::7] + PORT_CUTS + _address_cuts() if len(f) >= 14]
    _decides(expression, frames, _tcpdump_accepts(expression, frames, tmp_path), tree=False)
