"""IR lowering, optimizer, codegen and assembler, without the kernel."""

import pytest

from pycap.bpf.asm import assemble, decode, disassemble, encode
from pycap.bpf.isa import Insn, Label, ja, jmp32_imm, mov32_imm, exit_insn, JmpOp, R0
from pycap.compiler import compile_filter
from pycap.errors import FilterError, UnsupportedFilterError
from pycap.ir import nodes as ir
from pycap.ir.interp import matches
from pycap.ir.opt import optimize

# a VLAN-tagged IPv4 TCP frame of 60 bytes: too short for ``tcp[0xab]``
VLAN_TCP_60 = bytes.fromhex("001122334466001122334455810060000800450000281234000040"
                            "06549a0a0000010a0000029c5e0050000003e8000000005002ffff"
                            "000000000000")
ETH_IP_TCP_443 = bytes.fromhex(
    "020000000002" "020000000001" "0800"
    "450000280001000040060000" "0a000001" "0a000002"
    "c35001bb000000000000000050022000" "00000000")


def test_tcp_port_443_matches_and_rejects():
    f = compile_filter("tcp port 443")
    assert matches(f.predicate, ETH_IP_TCP_443)
    assert not matches(compile_filter("udp port 443").predicate, ETH_IP_TCP_443)


def test_truncated_packet_is_rejected_by_out_of_bounds_load():
    f = compile_filter("tcp port 443")
    assert not matches(f.predicate, ETH_IP_TCP_443[:36])


def test_len_uses_wire_length():
    f = compile_filter("greater 1000")
    assert matches(f.predicate, ETH_IP_TCP_443, wire_len=1500)
    assert not matches(f.predicate, ETH_IP_TCP_443)


def test_contradiction_rejects_all_packets():
    with pytest.raises(FilterError, match="expression rejects all packets"):
        compile_filter("ip and ip6")


def test_tautology_is_folded():
    assert compile_filter("ip or not ip").predicate == ir.TRUE


def test_fact_propagation():
    is_ip = ir.eq(12, 2, 0x800)
    is_ip6 = ir.eq(12, 2, 0x86DD)
    assert optimize(ir.All((is_ip, is_ip6))) == ir.FALSE
    assert optimize(ir.Any((ir.Negation(is_ip), ir.Negation(is_ip6)))) == ir.TRUE


@pytest.mark.parametrize("expr,message", [
    ("tcp port 99999", "illegal port number 99999 > 65535"),
    ("host 10.0.0.0/8", "Mask syntax for networks only"),
    ("net 10.0.0.1/8", 'non-network bits set in "10.0.0.1/8"'),
    ("ip[2:2] / 0 = 0", "division by zero"),
    ("ip[0:3] = 1", "data size must be 1, 2, or 4"),
    ("ip6 host 10.0.0.1", "'ip6' modifier applied to ip host"),
    ("tcp host fe80::1", "'tcp' modifier applied to ip6 host"),
    ("port 10.0.0.1", "'port' modifier applied to ip host"),
    ("udp port ssh-nonexistent", "unknown port 'ssh-nonexistent'"),
])
def test_semantic_errors(expr, message):
    with pytest.raises(FilterError) as info:
        compile_filter(expr)
    assert info.value.message == message
    assert info.value.caret_lines()[0] == expr


@pytest.mark.parametrize("linktype, expression, message", [
    (276, "pppoes and ifindex 1", "ifindex not supported on PPP when reading savefiles"),
    (276, "geneve and ifindex 1", "ifindex not supported on Ethernet when reading savefiles"),
    (1, "pppoes or ifindex 1", "ifindex not supported on PPP when reading savefiles"),
    (1, "vlan and ifindex 1", "ifindex not supported on Ethernet when reading savefiles"),
    (113, "pppoes and inbound", "inbound/outbound not supported on PPP when reading savefiles"),
    (276, "geneve and outbound",
     "inbound/outbound not supported on Ethernet when reading savefiles"),
    (1, "pppoes 5 and inbound", "inbound/outbound not supported on PPP when reading savefiles")])
def test_ifindex_and_direction_look_at_the_link_type_encapsulations_left(linktype, expression,
                                                                         message):
    """tcpdump 4.99's words: gen_ifindex and gen_inbound test the link type
    ``pppoes`` and ``geneve`` push, so a cooked header's fields are gone
    after them."""
    with pytest.raises(FilterError) as info:
        compile_filter(expression, linktype, offline=True)
    assert info.value.message == message


def test_ifindex_and_direction_before_an_encapsulation_compile():
    """On LINUX_SLL2 with nothing pushed, the cooked header's fields are
    there: a program that tests them."""
    assert not compile_filter("udp and ifindex 1 and inbound", 276, offline=True).accepts_all


@pytest.mark.parametrize("expression, ipv4_only", [
    ("mpls and net 192.168.1", "mpls and ip net 192.168.1"),
    ("mpls and mpls and src host 10.0.0.1", "mpls and mpls and ip src host 10.0.0.1"),
    ("mpls 5 and (host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3)",
     "mpls 5 and (ip host 10.0.0.1 or ip host 10.0.0.2 or ip host 10.0.0.3)")])
def test_a_host_inside_mpls_is_an_ipv4_host(expression, ipv4_only):
    """gen_host leaves ARP and RARP out under a label stack (libpcap's
    gen_mpls_linktype knows IPv4 and IPv6 only): tcpdump compiles these."""
    assert compile_filter(expression).insns == compile_filter(ipv4_only).insns


def test_a_net_outside_mpls_is_also_arp_and_rarp():
    assert compile_filter("net 192.168.1").insns != compile_filter("ip net 192.168.1").insns


def test_geneve_looks_inside():
    f = compile_filter("geneve and tcp", offline=True)
    assert "geneve0.linkpl" in repr(f.predicate)


def test_snaplen_is_the_accept_value():
    f = compile_filter("", snaplen=64)
    assert [i for i in f.insns if i.code == 0xB4][0].imm == 64


def test_encode_decode_round_trip():
    f = compile_filter("tcp[tcpflags] & (tcp-syn|tcp-ack) != 0 and net 10.0.0.0/8")
    blob = f.bytecode
    assert encode(decode(blob)) == blob
    assert len(disassemble(decode(blob)).splitlines()) == len(f.insns)


def test_assembler_inverts_and_drops_jumps():
    items = [jmp32_imm(JmpOp.JEQ, 7, 1, "yes"), ja("no"), Label("yes"), mov32_imm(R0, 1),
             exit_insn(), Label("no"), mov32_imm(R0, 0), exit_insn()]
    insns = assemble(items)
    assert insns[0].op == JmpOp.JNE and insns[0].off == 2
    assert len(insns) == 5


def test_assembler_removes_unreachable_code():
    items = [ja("end"), mov32_imm(R0, 5), Label("end"), mov32_imm(R0, 0), exit_insn()]
    assert [i.imm for i in assemble(items)] == [0, 0]


def test_live_primitives_read_the_skb():
    """On a live Linux capture these come from struct __sk_buff, not the frame."""
    assert compile_filter("inbound").predicate == ir.negate(
        ir.Cmp("eq", ir.Ctx("pkt_type"), ir.Imm(4)))
    assert compile_filter("ifindex 7").predicate == ir.Cmp("eq", ir.Ctx("ifindex"), ir.Imm(7))
    with pytest.raises(FilterError, match="not supported on Ethernet when reading savefiles"):
        compile_filter("inbound", offline=True)


def test_cooked_live_uses_skb_protocol():
    f = compile_filter("ip6", linktype=276, cooked_live=True)
    assert f.predicate == ir.Cmp("eq", ir.Ctx("protocol"), ir.Imm(0xDD86))
    with pytest.raises(UnsupportedFilterError, match="-i any"):
        compile_filter("link[0] = 1", linktype=276, cooked_live=True)


def _ipv6_tcp_syn(*extension_headers: bytes, first_next: int = 6) -> bytes:
    eth = bytes.fromhex("020000000002020000000001" "86dd")
    payload = b"".join(extension_headers)
    tcp = bytes.fromhex("c35001bb" "00000001" "00000000" "5002" "2000" "00000000")
    ip6 = (bytes.fromhex("60000000") + (len(payload) + len(tcp)).to_bytes(2, "big")
           + bytes([first_next, 64]) + bytes(15) + b"\x01" + bytes(15) + b"\x02")
    return eth + ip6 + payload + tcp


SYN = "tcp[tcpflags] & tcp-syn != 0"
HOP_BY_HOP_TO_TCP = bytes([6, 0]) + bytes(6)                       # next: TCP, 8 bytes
FIRST_FRAGMENT = bytes([6, 0, 0x00, 0x01]) + bytes(4)              # offset 0, more fragments
LATER_FRAGMENT = bytes([6, 0, 0x05, 0x00]) + bytes(4)              # offset 160


@pytest.mark.parametrize("frame,selected", [
    (_ipv6_tcp_syn(), True),
    (_ipv6_tcp_syn(HOP_BY_HOP_TO_TCP, first_next=0), True),
    (_ipv6_tcp_syn(FIRST_FRAGMENT, first_next=44), True),
    (_ipv6_tcp_syn(LATER_FRAGMENT, first_next=44), False),
])
def test_transport_indexing_works_over_ipv6(frame, selected):
    """Beyond libpcap: tcp[...] finds the TCP header behind IPv6 extension headers."""
    assert matches(compile_filter(SYN).predicate, frame) is selected
    assert matches(compile_filter("tcp[2:2] = 443").predicate, frame) is selected


@pytest.mark.kernel
def test_transport_indexing_over_ipv6_in_the_kernel():
    from tests.kernelsupport import require_kernel
    from pycap.kernel.bpf import load_program, run_socket_filter
    require_kernel()
    with load_program(compile_filter(SYN).bytecode) as prog:
        assert run_socket_filter(prog, _ipv6_tcp_syn(HOP_BY_HOP_TO_TCP, first_next=0))
        assert not run_socket_filter(prog, _ipv6_tcp_syn(LATER_FRAGMENT, first_next=44))


def _redundant_ctx_moves(insns) -> list[int]:
    """Positions of ``r1 = r6`` where r1 still holds the context: the program
    starts with ``r6 = r1``, and r1 keeps the context until something writes
    r1 or a helper runs (a call, or an ``LD_ABS``/``LD_IND``, which clobber
    r1-r5).  Jumps only go forward, so one pass in order sees every way
    into an instruction before the instruction."""
    known: list[bool | None] = [None] * (len(insns) + 1)   # None: no way in yet
    known[0] = True
    found = []
    for i, insn in enumerate(insns):
        holds = bool(known[i])
        cls, op, mode = insn.code & 0x07, insn.code & 0xF0, insn.code & 0xE0
        reload = insn.code == 0xBF and insn.dst == 1 and insn.src == 6
        if reload and holds:
            found.append(i)
        if reload:
            holds = True
        elif insn.code == 0x85 or (cls == 0x00 and mode in (0x20, 0x40)):
            holds = False
        elif cls in (0x00, 0x01, 0x04, 0x07) and insn.dst == 1:
            holds = False
        successors = [i + 1]
        if cls in (0x05, 0x06) and op != 0x80:          # jumps, not calls
            if op == 0x90:
                successors = []                         # exit
            elif op == 0x00 and cls == 0x05:
                successors = [i + 1 + insn.off]         # ja
            else:
                successors.append(i + 1 + insn.off)
        for j in successors:
            known[j] = holds if known[j] is None else known[j] and holds
    return found


def test_no_program_reloads_a_context_r1_still_holds():
    """``r1 = r6`` before a helper call only where r1 may have changed, over
    the corpus (a copy of the header made first needs no reload)."""
    from tests import corpus
    assert _redundant_ctx_moves([Insn(0xBF, 6, 1), Insn(0xBF, 1, 6), Insn(0x85, 0, 0, 0, 26),
                                 Insn(0xBF, 1, 6)]) == [1]
    checked = 0
    for expr in corpus.expressions():
        try:
            compiled = compile_filter(expr, 1)
        except FilterError:
            continue
        insns = decode(compiled.bytecode)
        assert _redundant_ctx_moves(insns) == [], (expr, compiled.disassemble())
        checked += 1
    assert checked > 1500


def test_the_offline_interpreter_walks_the_program_s_graph():
    """Where a test's two edges meet, the program skips it and its load (as
    libpcap's optimizer does): a VLAN frame too short for ``tcp[0xab]`` still
    matches ``not (arp net ...)``, as in tcpdump 4.99.  ``-r`` without BPF
    walks the same graph, so it decides the frame alike."""
    from pycap.ir.interp import runs
    from pycap.pipeline import OfflineFilter
    frame = VLAN_TCP_60
    compiled = compile_filter("(vlan and tcp[0xab] == 0xcd) or not (arp net 192.168.0.0 "
                              "mask 255.255)", offline=True)
    assert runs(compiled.graph, frame)
    assert OfflineFilter(compiled, use_kernel=False)(frame, len(frame))
    assert not runs(compile_filter("vlan and tcp[0xab] == 0xcd", offline=True).graph, frame)


@pytest.mark.parametrize("tail, kept", [("", True), (" or ip6 protochain 200", False),
                                        (" or geneve 7", False)])
def test_protochain_and_geneve_leave_the_program_unoptimized(tail, kept):
    """libpcap does not optimize a program with ``protochain`` or ``geneve``
    (no_optimize): then the ``tcp[0xab]`` load runs and fails on this 60-byte
    VLAN frame, and tcpdump 4.99 rejects it; optimized, the test is skipped
    (its two edges meet) and the frame matches."""
    from pycap.ir.interp import runs
    frame = VLAN_TCP_60
    compiled = compile_filter("(vlan and tcp[0xab] == 0xcd) or not (arp net 192.168.0.0 "
                              "mask 255.255)" + tail, offline=True)
    assert compiled.optimized == (tail == "")
    assert runs(compiled.graph, frame) == kept


def test_no_optimize_is_tcpdump_minus_o():
    """-O: the unoptimized program's verdict (the tcp[0xab] load runs and
    fails on the 60-byte VLAN frame) and no "rejects all packets"."""
    from pycap.ir.interp import runs
    frame = VLAN_TCP_60
    expression = "(vlan and tcp[0xab] == 0xcd) or not (arp net 192.168.0.0 mask 255.255)"
    assert runs(compile_filter(expression, offline=True).graph, frame)
    unoptimized = compile_filter(expression, offline=True, optimized=False)
    assert not unoptimized.optimized and not runs(unoptimized.graph, frame)
    with pytest.raises(FilterError):
        compile_filter("ip and ip6")                         # rejects all packets
    assert not compile_filter("ip and ip6", optimized=False).optimized    # compiles with -O


@pytest.mark.parametrize("expression", ["arp and protochain 6", "ip and ip6 and protochain 4",
                                        "arp and geneve", "tcp and udp and geneve 5"])
def test_no_rejects_all_without_the_optimizer(expression):
    """tcpdump compiles these to programs that match nothing: pcap_compile
    checks for "expression rejects all packets" only after optimizing."""
    assert not compile_filter(expression).optimized      # (compiling it is the test)


@pytest.mark.parametrize("expression, rejects_all", [
    ("2 * 3 = 7", True), ("not 2 * 3 + 1 = 7", True), ("len * 0 = 1", True),
    ("ip and 3 = 4", True), ("ip and ip6", True),
    ("ip and 2 * 3 = 7", False), ("ip and not 2 * 3 + 1 = 7", False), ("ip and (1 | 2) = 4", False),
    ("ip[0] & 0 != 0", False), ("ip[2:2] > 1 and ip6 protochain 0", False),
    ("2 * 3 = 6 and 2 * 3 = 7", True), ("2 * 3 = 1 or 3 * 1 = 2", True),
    ("2 * 3 = 1 or 2 * 3 = 2", False), ("2*3 = 1 or 2*3 = 2 or 2*3 = 3 or 2*3 = 4", False),
    ("ip and (2*3 = 1 or 2*3 = 2 or 2*3 = 3 or 2*3 = 4)", False),
    ("(tcp port 25 and ip6 dst ff02::12 or ip6 src ::1) and src net 10.0.1.0/24", True)])
def test_rejects_all_packets_as_tcpdump_decides(expression, rejects_all):
    """tcpdump 4.99's answers: libpcap folds constant arithmetic after its
    branch optimization (only at the root does it make the error), and
    proves a contradiction from ``==`` constants reached through ``or``s."""
    from pycap.ir.interp import runs
    if rejects_all:
        with pytest.raises(FilterError, match="expression rejects all packets"):
            compile_filter(expression)
    else:
        compiled = compile_filter(expression)
        assert not any(runs(compiled.graph, frame) for frame in (ETH_IP_TCP_443, bytes(60)))
