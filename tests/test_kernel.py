"""pycap.kernel against the running kernel: program loading and the verifier
log, BPF_PROG_TEST_RUN facts the conformance tests rely on, maps, links, pins,
socket options and network namespaces."""

from __future__ import annotations

import errno
import os
import socket
import struct
import subprocess
import tempfile

import pytest

from pycap.errors import CaptureError, KernelError
from pycap.kernel import sockopt
from pycap.kernel.bpf import (BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_SOCKMAP, BPF_PROG_TYPE_SK_LOOKUP,
                              BPF_SK_LOOKUP, SK_BUFF_CB, SK_BUFF_LEN, SK_BUFF_MARK,
                              SK_BUFF_SIZE, TEST_RUN_MAX_FRAME, create_map, last_log_line,
                              link_create, load_program, obj_get, obj_pin, run_socket_filter,
                              skb_ctx)
from pycap.kernel.netns import VethPair, enter_netns, netns_run

try:
    from kernelsupport import (EXIT, R0, R1, R6, kernel, ld_abs_b, mov_imm, mov_reg,  # noqa: F401
                               read_ctx_u32, ret, udp_port_filter, veth)
except ImportError:  # tests/ imported as a package
    from tests.kernelsupport import (EXIT, R0, R1, R6, kernel, ld_abs_b, mov_imm,  # noqa: F401
                                     mov_reg, read_ctx_u32, ret, udp_port_filter, veth)

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel")]

SK_BUFF_PKT_TYPE = 4
SK_BUFF_PROTOCOL = 16
SK_BUFF_IFINDEX = 40
SO_COOKIE = 57


# ------------------------------------------------------------------------ loading


def test_load_and_run_constant_program():
    insns = b"\xb7\x00\x00\x00\x00\x00\x04\x00" + b"\x95" + 7 * b"\x00"  # r0 = 262144; exit
    with load_program(insns) as prog:
        assert prog.insn_count == 2
        assert prog.fd >= 0
        result = prog.test_run(bytes(64))
        assert result.retval == 262144
        assert result.duration_ns >= 0
        fd = prog.fd
    assert prog.closed
    with pytest.raises(OSError):
        os.fstat(fd)


def test_repeat_reports_average_duration():
    with load_program(ret(1)) as prog:
        result = prog.test_run(bytes(64), repeat=10_000)
    assert result.retval == 1
    assert 0 < result.duration_ns < 10_000  # ~35-45 ns on the dev VM


def test_verifier_rejection_has_one_line_message_and_full_log():
    bad = read_ctx_u32(100)  # not a readable __sk_buff field
    with pytest.raises(KernelError) as info:
        load_program(bad)
    err = info.value
    assert err.errno == errno.EACCES
    assert str(err) == ("cannot load BPF program: Permission denied "
                        "(verifier: invalid bpf_context access off=100 size=4)")
    assert "\n" not in str(err)
    assert "r0 = *(u32 *)(r1 +100)" in err.verifier_log


def test_verifier_log_grows_past_one_mib():
    # ~200k straight-line instructions log ~5 MB at log_level 1 before the bad one.
    prog = mov_imm(R0, 0) * 200_000 + read_ctx_u32(100)
    with pytest.raises(KernelError) as info:
        load_program(prog)
    assert len(info.value.verifier_log) > 1 << 20
    assert str(info.value).endswith("(verifier: invalid bpf_context access off=100 size=4)")


def test_partial_instruction_is_rejected_before_the_kernel():
    with pytest.raises(KernelError, match="not a multiple of 8"):
        load_program(ret(0) + b"\x00")


def test_last_log_line_skips_statistics():
    log = "0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000)\n\n"
    assert last_log_line(log) == "R0 !read_ok"


# ---------------------------------------------- BPF_PROG_TEST_RUN on a socket filter


def test_test_run_strips_14_byte_ethernet_header():
    frame = bytes([0x55]) + bytes(59)
    with load_program(mov_reg(R6, R1) + ld_abs_b(0) + EXIT) as prog:
        # Raw test_run: eth_type_trans() consumed 14 bytes, offset 0 is byte 14.
        assert prog.test_run(b"\xaa" * 14 + frame).retval == 0x55
        assert prog.test_run(frame + bytes(20)).retval == 0  # byte 14 of this input
        assert run_socket_filter(prog, frame) == 0x55


@pytest.mark.parametrize("size", [0, 1, 14, 60, 1514, TEST_RUN_MAX_FRAME])
def test_len_is_the_frame_length(size):
    with load_program(read_ctx_u32(SK_BUFF_LEN)) as prog:
        assert run_socket_filter(prog, bytes(size)) == size


def test_cb0_carries_ctx_in_value():
    with load_program(read_ctx_u32(SK_BUFF_CB)) as prog:
        assert run_socket_filter(prog, bytes(64)) == 0
        assert run_socket_filter(prog, bytes(64), wire_len=1514) == 1514
        assert prog.test_run(bytes(78), ctx=skb_ctx(cb0=123456)).retval == 123456


def test_len_stays_the_captured_length_when_wire_len_given():
    with load_program(read_ctx_u32(SK_BUFF_LEN)) as prog:
        assert run_socket_filter(prog, bytes(64), wire_len=1514) == 64


def test_mark_via_ctx():
    assert len(skb_ctx()) == SK_BUFF_SIZE == 192
    with load_program(read_ctx_u32(SK_BUFF_MARK)) as prog:
        assert prog.test_run(bytes(64), ctx=skb_ctx(mark=77)).retval == 77


def test_test_run_skb_sees_host_packet_on_loopback():
    with load_program(read_ctx_u32(SK_BUFF_PKT_TYPE)) as prog:
        assert run_socket_filter(prog, bytes(64)) == 0  # PACKET_HOST
    with load_program(read_ctx_u32(SK_BUFF_IFINDEX)) as prog:
        assert run_socket_filter(prog, bytes(64)) == 1  # the netns's lo


def test_dummy_ethertype_becomes_protocol():
    with load_program(read_ctx_u32(SK_BUFF_PROTOCOL)) as prog:
        assert run_socket_filter(prog, bytes(64), ethertype=0x0800) == 0x0008  # htons
        assert run_socket_filter(prog, bytes(64), ethertype=0x86DD) == 0xDD86
        assert run_socket_filter(prog, bytes(64)) == 0x0400  # ETH_P_802_2: nothing parsed


@pytest.mark.parametrize("ethertype,minimum", [(0x0800, 20), (0x86DD, 40)])
def test_l3_ethertype_needs_a_full_l3_header(ethertype, minimum):
    with load_program(ret(1)) as prog:
        assert run_socket_filter(prog, bytes(minimum), ethertype=ethertype) == 1
        with pytest.raises(KernelError) as info:
            run_socket_filter(prog, bytes(minimum - 1), ethertype=ethertype)
        assert info.value.errno == errno.EINVAL
        assert run_socket_filter(prog, bytes(minimum - 1)) == 1  # neutral default


def test_test_run_size_limit():
    with load_program(ret(1)) as prog:
        assert run_socket_filter(prog, bytes(TEST_RUN_MAX_FRAME)) == 1
        with pytest.raises(KernelError, match="limit of 3698"):
            run_socket_filter(prog, bytes(TEST_RUN_MAX_FRAME + 1))
        with pytest.raises(KernelError) as info:  # what the kernel itself says
            prog.test_run(bytes(TEST_RUN_MAX_FRAME + 15))
        assert info.value.errno == errno.EINVAL
        with pytest.raises(KernelError):
            prog.test_run(bytes(13))  # shorter than the Ethernet header


def test_snap_length_return_value_passes_through():
    with load_program(udp_port_filter(9999, 64)) as prog:
        frame = bytearray(542)
        frame[12:14] = b"\x08\x00"
        frame[23] = 17
        frame[36:38] = (9999).to_bytes(2, "big")
        assert run_socket_filter(prog, bytes(frame)) == 64
        frame[36:38] = (53).to_bytes(2, "big")
        assert run_socket_filter(prog, bytes(frame)) == 0


def test_out_of_bounds_ld_abs_returns_zero():
    with load_program(mov_reg(R6, R1) + ld_abs_b(100) + mov_imm(R0, 7) + EXIT) as prog:
        assert run_socket_filter(prog, bytes(101)) == 7
        assert run_socket_filter(prog, bytes(100)) == 0


# ---------------------------------------------------------------------------- maps


def test_array_map_update_lookup():
    with create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, name="pycap_test") as m:
        key = struct.pack("<I", 2)
        assert m.lookup(key) == bytes(8)
        m.update(key, struct.pack("<Q", 0xDEADBEEF))
        assert m.lookup(key) == struct.pack("<Q", 0xDEADBEEF)
        assert m.lookup(struct.pack("<I", 4)) is None  # out of range: ENOENT
        with pytest.raises(ValueError):
            m.update(key, b"short")


def test_sockmap_holds_a_socket():
    with create_map(BPF_MAP_TYPE_SOCKMAP, 4, 8, 1) as m, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        key = struct.pack("<I", 0)
        assert m.lookup(key) is None
        m.update(key, struct.pack("<Q", listener.fileno()))
        cookie = listener.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8)
        assert m.lookup(key) == cookie  # user space reads back the socket cookie
        assert m.delete(key) is True
        assert m.lookup(key) is None


def test_map_errors_are_kernel_errors():
    with pytest.raises(KernelError, match="cannot create BPF map: Invalid argument"):
        create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 0)


@pytest.fixture
def bpffs(kernel):
    path = tempfile.mkdtemp(prefix="pycap-bpffs-")
    subprocess.run(["mount", "-t", "bpf", "bpf", path], check=True, timeout=10)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], timeout=10)
        os.rmdir(path)


def test_pin_and_get(bpffs):
    pin = os.path.join(bpffs, "counters")
    with create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1) as m:
        m.update(bytes(4), b"\x2a\x00\x00\x00")
        obj_pin(m.fd, pin)
    fd = obj_get(pin)  # the pin kept the map alive
    try:
        assert os.path.exists(pin)
        from pycap.kernel.bpf import Map
        with Map(os.dup(fd), 4, 4) as again:
            assert again.lookup(bytes(4)) == b"\x2a\x00\x00\x00"
    finally:
        os.close(fd)
        os.unlink(pin)
    with pytest.raises(KernelError, match="cannot open pinned BPF object"):
        obj_get(pin)


# --------------------------------------------------------------------------- links


def _connect_status(netns: str, port: int) -> int:
    with enter_netns(netns):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            client.settimeout(2)
            return client.connect_ex(("127.0.0.1", port))


def test_sk_lookup_link_in_private_netns(veth):
    ns = veth.a.netns
    with enter_netns(ns):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert _connect_status(ns, port) == 0
        drop = load_program(ret(0), BPF_PROG_TYPE_SK_LOOKUP, expected_attach_type=BPF_SK_LOOKUP)
        netns_fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            with drop, link_create(drop.fd, netns_fd, BPF_SK_LOOKUP):
                assert _connect_status(ns, port) == errno.ECONNREFUSED  # SK_DROP
            assert _connect_status(ns, port) == 0  # closing the link detached it
        finally:
            os.close(netns_fd)


def test_link_create_error():
    with load_program(ret(0)) as prog, pytest.raises(KernelError, match="cannot attach"):
        link_create(prog.fd, 0, BPF_SK_LOOKUP)


# ------------------------------------------------------------------ socket options


def test_interface_lookups():
    assert sockopt.interface_index("lo") == 1
    assert sockopt.interface_name(1) == "lo"
    with pytest.raises(CaptureError) as info:
        sockopt.interface_index("nosuch0")
    assert str(info.value) == "nosuch0: No such device exists"


def test_attach_and_detach_filter_on_a_socket():
    with load_program(ret(0)) as prog, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(0.2)
        sockopt.attach_filter(rx, prog)
        tx.sendto(b"dropped", rx.getsockname())
        with pytest.raises(TimeoutError):
            rx.recv(100)
        sockopt.detach_filter(rx)
        tx.sendto(b"kept", rx.getsockname())
        assert rx.recv(100) == b"kept"


# -------------------------------------------------------------------- namespaces


def _netns_inode() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


def test_veth_pair_lifecycle():
    with VethPair("lifecycle") as pair:
        names = {pair.a.netns, pair.b.netns}
        assert all(n.startswith("pycap-lifecycle-") for n in names)
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert names <= set(line.split()[0] for line in listed.splitlines())
        out = netns_run(pair.a.netns, ["ip", "-o", "addr", "show", "dev", pair.a.ifname],
                        capture_output=True, text=True, timeout=10).stdout
        assert f"{pair.a.ipv4}/24" in out and f"{pair.a.ipv6}/64" in out
        assert pair.a.ifindex > 1
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not names & set(line.split()[0] for line in listed.splitlines() if line)


def test_enter_netns_switches_thread_and_back(veth):
    before = _netns_inode()
    with enter_netns(veth.b.netns):
        inside = _netns_inode()
        assert inside != before
        assert socket.if_nametoindex(veth.b.ifname) > 0
    assert _netns_inode() == before
    with pytest.raises(KernelError):
        with enter_netns("pycap-no-such-netns"):
            pass
    assert _netns_inode() == before


def test_veth_carries_udp_both_families(veth):
    for family, src, dst in ((socket.AF_INET, veth.a, veth.b), (socket.AF_INET6, veth.a, veth.b)):
        addr = (dst.ipv4 if family == socket.AF_INET else dst.ipv6)
        with enter_netns(dst.netns):
            rx = socket.socket(family, socket.SOCK_DGRAM)
        with enter_netns(src.netns):
            tx = socket.socket(family, socket.SOCK_DGRAM)
        with rx, tx:
            rx.bind((addr, 0))
            rx.settimeout(2)
            tx.sendto(b"hello", rx.getsockname()[:2])
            assert rx.recv(100) == b"hello"


# ------------------------------------------------------------ the header copy


@pytest.mark.parametrize("expression", ["port 443", "tcp dst port 443", "udp port 53 or port 443",
                                        "tcp and not dst port 80", "not port 53",
                                        "tcp[tcpflags] & tcp-syn != 0",
                                        "tcp[13] & 0x12 = 0x12 and ip[8] = 64"])
def test_header_copy_rejects_and_accepts_where_the_loads_would(expression):
    """Every cut of an IPv4 TCP frame with IP options (ports at a computed
    offset, read from the stack copy after a length check) and of an IPv6
    frame (ports beyond what every path reads): the kernel's verdict equals
    the interpreter's, whose loads reject out of bounds as LD_ABS/LD_IND do.
    (``tcp and not dst port 80``: a read past the packet that is not
    rejected would accept.)"""
    from pycap.compiler import compile_filter
    from pycap.ir.interp import matches
    compiled = compile_filter(expression)
    assert any(i.code == 0x85 and i.imm == 26 for i in compiled.insns)     # a copy is made
    eth = bytes(12)
    ip4 = (eth + b"\x08\x00" + bytes.fromhex("46000030000100004006000a0a0000010a000002")
           + bytes(4) + bytes.fromhex("01bbc350000000000000000050022000" "00000000"))
    ip6 = (eth + b"\x86\xdd" + bytes.fromhex("6000000000140640") + bytes(31) + b"\x01"
           + bytes(15) + b"\x02" + bytes.fromhex("c35001bb000000000000000050022000" "00000000"))
    with load_program(compiled.bytecode) as prog:
        for frame in (ip4, ip6):
            for cut in range(1, len(frame) + 1):
                data = frame[:cut]
                verdict = run_socket_filter(prog, data) != 0
                assert verdict == matches(compiled.predicate, data), (expression, cut, data.hex())
