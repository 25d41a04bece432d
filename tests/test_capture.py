"""Live capture in a private veth pair: filtering and truncation in the kernel,
filter-before-bind, real drop counters, direction, VLAN tags, errors."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time

import pytest

from pycap.capture import Capture, CaptureStats
from pycap.errors import CaptureError
from pycap.kernel import sockopt
from pycap.kernel.bpf import load_program
from pycap.kernel.netns import enter_netns
from pycap.linktype import LinkType

try:
    from kernelsupport import (ETH_IP_UDP, UDP_PORT, BackgroundSender, is_udp_to,  # noqa: F401
                               kernel, ret, send_udp, udp_port_filter, udp_socket, veth)
except ImportError:  # tests/ imported as a package
    from tests.kernelsupport import (ETH_IP_UDP, UDP_PORT, BackgroundSender,  # noqa: F401
                                     is_udp_to, kernel, ret, send_udp, udp_port_filter,
                                     udp_socket, veth)

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel")]

PAYLOAD = 500
WIRE_LEN = ETH_IP_UDP + PAYLOAD  # 542


def open_capture(netns: str, ifname: str, insns: bytes | None, **kwargs) -> Capture:
    """A capture opened inside ``netns``; the program is closed right away,
    since the socket holds its own reference."""
    with enter_netns(netns):
        if insns is None:
            return Capture(ifname, None, **kwargs)
        with load_program(insns) as prog:
            return Capture(ifname, prog, **kwargs)


def drain(cap: Capture, seconds: float, port: int | None = None, want: int | None = None) -> list:
    """Copies of captured frames (only UDP to ``port`` if given) for up to
    ``seconds``, or until ``want`` of them arrived."""
    frames = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (want is None or len(frames) < want):
        for frame in cap.packets(timeout_s=0.05):
            if port is None or is_udp_to(frame.data, port):
                frames.append(frame)
    return frames


@pytest.fixture
def receiver(veth):
    """A UDP socket in namespace b bound to UDP_PORT, so no ICMP comes back."""
    with udp_socket(veth.b.netns, (veth.b.ipv4, UDP_PORT)) as sock:
        yield sock


@pytest.fixture
def sender(veth):
    with udp_socket(veth.a.netns) as sock:
        yield sock


# ------------------------------------------------------------- filtering and snap


def test_snap_64_truncates_in_kernel(veth, receiver, sender):
    with open_capture(veth.b.netns, veth.b.ifname, ret(64), block_timeout_ms=10) as cap:
        assert cap.linktype == LinkType.EN10MB
        start = time.time_ns()
        send_udp(sender, veth.b.ipv4, UDP_PORT, 20, PAYLOAD)
        frames = drain(cap, 5, UDP_PORT, want=20)
        frames += drain(cap, 0.2, UDP_PORT)  # nothing more may come
        end = time.time_ns()
    assert len(frames) == 20
    assert all(len(f.data) == 64 and f.wire_len == WIRE_LEN for f in frames)
    assert all(start <= f.ts_ns <= end for f in frames)
    assert [f.ts_ns for f in frames] == sorted(f.ts_ns for f in frames)


def test_filter_selects_in_kernel_and_stats_count_accepted_only(veth, receiver, sender):
    with open_capture(veth.b.netns, veth.b.ifname, udp_port_filter(UDP_PORT, 100),
                      block_timeout_ms=10) as cap:
        send_udp(sender, veth.b.ipv4, UDP_PORT + 1, 30, PAYLOAD)  # rejected
        send_udp(sender, veth.b.ipv4, UDP_PORT, 20, PAYLOAD)
        frames = drain(cap, 5, want=20)
        frames += drain(cap, 0.2)
        assert cap.stats() == CaptureStats(received=20, dropped=0)
    assert len(frames) == 20
    assert all(is_udp_to(f.data, UDP_PORT) and len(f.data) == 100 for f in frames)


def test_drop_all_program_captures_nothing(veth, receiver, sender):
    with open_capture(veth.b.netns, veth.b.ifname, ret(0), block_timeout_ms=10) as none, \
            open_capture(veth.b.netns, veth.b.ifname, ret(64), block_timeout_ms=10) as every:
        send_udp(sender, veth.b.ipv4, UDP_PORT, 20, PAYLOAD)
        assert len(drain(every, 5, UDP_PORT, want=20)) == 20  # the traffic did arrive
        assert drain(none, 0.3) == []
        assert none.stats() == CaptureStats(received=0, dropped=0)  # rejects are not counted
        assert every.stats().received >= 20


def test_no_program_captures_everything_up_to_snaplen(veth, receiver, sender):
    with open_capture(veth.b.netns, veth.b.ifname, None, snaplen=100, block_timeout_ms=10) as cap:
        send_udp(sender, veth.b.ipv4, UDP_PORT, 5, PAYLOAD)
        frames = drain(cap, 5, UDP_PORT, want=5)
    assert [(len(f.data), f.wire_len) for f in frames] == [(100, WIRE_LEN)] * 5


def test_filter_is_attached_before_bind(veth, receiver, sender):
    """Open many drop-all captures while traffic flows: not one packet leaks."""
    with BackgroundSender(sender, veth.b.ipv4, UDP_PORT, max_seconds=8) as traffic:
        time.sleep(0.05)
        for _ in range(25):
            with open_capture(veth.b.netns, veth.b.ifname, ret(0), block_timeout_ms=1) as cap:
                assert drain(cap, 0.02) == []
                assert cap.stats() == CaptureStats(0, 0)
        sent = traffic.sent
    assert sent > 100  # traffic really was flowing


def test_attaching_after_bind_would_leak(veth, receiver, sender):
    """Why the order matters: a socket bound first queues unfiltered packets
    that a filter attached later does not remove."""
    with enter_netns(veth.b.netns):
        raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(sockopt.ETH_P_ALL))
    with raw, load_program(ret(0)) as drop_all:
        raw.bind((veth.b.ifname, sockopt.ETH_P_ALL))
        send_udp(sender, veth.b.ipv4, UDP_PORT, 5, PAYLOAD)
        time.sleep(0.1)
        sockopt.attach_filter(raw, drop_all)
        raw.setblocking(False)
        leaked = []
        while True:
            try:
                leaked.append(raw.recv(2048))
            except BlockingIOError:
                break
    assert sum(is_udp_to(frame, UDP_PORT) for frame in leaked) == 5


# ----------------------------------------------------------------- drop counters


def test_full_ring_drops_are_counted(veth, receiver, sender):
    """One 4 KiB block and nobody reading: most of 2000 packets are dropped.
    Capturing the sender's side sees every transmitted packet synchronously,
    so received is exact, and it includes the drops."""
    with open_capture(veth.a.netns, veth.a.ifname, udp_port_filter(UDP_PORT, 64),
                      buffer_kib=4) as cap:
        send_udp(sender, veth.b.ipv4, UDP_PORT, 2000, PAYLOAD)
        delivered = len(drain(cap, 0.5))
        stats = cap.stats()
    assert 0 < delivered < 100
    assert stats.dropped > 0
    assert stats == CaptureStats(received=2000, dropped=2000 - delivered)


def test_stats_accumulate_across_reads(veth, receiver, sender):
    with open_capture(veth.a.netns, veth.a.ifname, udp_port_filter(UDP_PORT, 64)) as cap:
        send_udp(sender, veth.b.ipv4, UDP_PORT, 7, PAYLOAD)
        assert cap.stats() == CaptureStats(7, 0)
        send_udp(sender, veth.b.ipv4, UDP_PORT, 3, PAYLOAD)
        assert cap.stats() == CaptureStats(10, 0)
        assert cap.stats() == CaptureStats(10, 0)


# ---------------------------------------------------------------------- direction


@pytest.mark.parametrize("direction,expect", [("in", {"a->b"}), ("out", {"b->a"}),
                                              ("inout", {"a->b", "b->a"})])
def test_direction(veth, direction, expect):
    with udp_socket(veth.a.netns, (veth.a.ipv4, UDP_PORT)) as sock_a, \
            udp_socket(veth.b.netns, (veth.b.ipv4, UDP_PORT)) as sock_b, \
            open_capture(veth.b.netns, veth.b.ifname, udp_port_filter(UDP_PORT, 64),
                         direction=direction, block_timeout_ms=10) as cap:
        send_udp(sock_a, veth.b.ipv4, UDP_PORT, 3, 10)
        send_udp(sock_b, veth.a.ipv4, UDP_PORT, 3, 10)
        frames = drain(cap, 0.5)
    seen = {"a->b" if f.data[30:34] == socket.inet_aton(veth.b.ipv4) else "b->a" for f in frames}
    assert seen == expect
    assert len(frames) == 3 * len(expect)


def test_bad_direction_is_rejected(veth):
    with pytest.raises(CaptureError, match="direction"):
        open_capture(veth.b.netns, veth.b.ifname, None, direction="sideways")


# --------------------------------------------------------------------------- VLAN


def _udp_frame(dst_mac: str, src_mac: str, vlan: int | None, port: int) -> bytes:
    """An Ethernet/IPv4/UDP frame (checksums zero: it is only captured)."""
    mac = lambda text: bytes.fromhex(text.replace(":", ""))  # noqa: E731
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + PAYLOAD, 0, 0, 64, 17, 0,
                     socket.inet_aton("10.77.0.1"), socket.inet_aton("10.77.0.2"))
    udp = struct.pack("!HHHH", 40000, port, 8 + PAYLOAD, 0)
    return mac(dst_mac) + mac(src_mac) + tag + b"\x08\x00" + ip + udp + bytes(PAYLOAD)


def test_offloaded_vlan_tag_is_put_back(veth):
    """A tagged frame is untagged on receive (the tag moves to skb metadata)
    before packet sockets see it: the filter gets the untagged frame, and the
    capture reinserts the tag like libpcap does."""
    frame = _udp_frame(veth.b.mac, veth.a.mac, 7, UDP_PORT)
    with enter_netns(veth.a.netns):
        inject = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    with inject, open_capture(veth.b.netns, veth.b.ifname, udp_port_filter(UDP_PORT, 2000),
                              block_timeout_ms=10) as cap:
        inject.bind((veth.a.ifname, 0))
        for _ in range(3):
            inject.send(frame)
        frames = drain(cap, 5, want=3)
        frames += drain(cap, 0.1)
    assert len(frames) == 3
    for captured in frames:
        assert bytes(captured.data) == frame
        assert captured.wire_len == WIRE_LEN + 4


# ------------------------------------------------------------------- ring behaviour


def test_block_views_are_released_when_the_block_returns(veth, receiver, sender):
    with open_capture(veth.b.netns, veth.b.ifname, udp_port_filter(UDP_PORT, 64),
                      block_timeout_ms=10) as cap:
        send_udp(sender, veth.b.ipv4, UDP_PORT, 3, PAYLOAD)
        kept = []
        deadline = time.monotonic() + 5
        while not kept and time.monotonic() < deadline:
            for block in cap.blocks(0.05):
                kept.extend(block)
                assert all(isinstance(f.data, memoryview) and len(f.data) == 64 for f in block)
    assert kept
    with pytest.raises(ValueError):
        bytes(kept[0].data)  # released: a stale view cannot read a recycled block


def test_immediate_mode_delivers_promptly(veth, receiver, sender):
    with open_capture(veth.b.netns, veth.b.ifname, udp_port_filter(UDP_PORT, 64),
                      immediate=True, block_timeout_ms=5000) as cap:
        start = time.monotonic()
        send_udp(sender, veth.b.ipv4, UDP_PORT, 1, PAYLOAD)
        frames = drain(cap, 3, want=1)
        elapsed = time.monotonic() - start
    assert len(frames) == 1
    assert elapsed < 0.5


def test_wait_times_out_without_traffic(veth):
    with open_capture(veth.b.netns, veth.b.ifname, ret(0)) as cap:
        start = time.monotonic()
        assert list(cap.blocks(timeout_s=0.2)) == []
        assert 0.15 < time.monotonic() - start < 2


def test_close_is_idempotent_and_leaves_promiscuous_mode(veth):
    def promisc() -> bool:
        # A packet socket's membership raises the promiscuity count; the
        # PROMISC flag shows only what "ip link set promisc" asked for.
        out = subprocess.run(["ip", "-d", "-n", veth.b.netns, "link", "show", veth.b.ifname],
                             capture_output=True, text=True, timeout=10).stdout
        return "promiscuity 1 " in out

    cap = open_capture(veth.b.netns, veth.b.ifname, None, promisc=True)
    assert promisc()
    cap.close()
    cap.close()
    assert not promisc()
    with open_capture(veth.b.netns, veth.b.ifname, None, promisc=False):
        assert not promisc()


def test_loopback_is_ethernet(veth):
    with open_capture(veth.a.netns, "lo", ret(64)) as cap:
        assert cap.linktype == LinkType.EN10MB
        assert cap.ifindex == 1


# --------------------------------------------------------------------------- errors


def test_unknown_interface(veth):
    with pytest.raises(CaptureError) as info:
        open_capture(veth.b.netns, "nosuch0", ret(64))
    assert str(info.value) == "nosuch0: No such device exists"


def test_interface_that_is_down(veth):
    subprocess.run(["ip", "-n", veth.b.netns, "link", "set", "lo", "down"], check=True, timeout=10)
    with pytest.raises(CaptureError) as info:
        open_capture(veth.b.netns, "lo", ret(64))
    assert str(info.value) == "lo: That device is not up"


def test_permission_denied_wording(kernel, tmp_path):
    """An unprivileged user gets tcpdump's (libpcap 1.10's) sentence."""
    script = ("from pycap.capture import Capture\n"
              "from pycap.errors import CaptureError\n"
              "try:\n    Capture('lo', None)\n"
              "except CaptureError as e:\n    print(e)\n")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(["setpriv", "--bounding-set=-all", "--inh-caps=-all",
                           sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=30, cwd=repo, env={**os.environ, "PYTHONPATH": repo})
    assert proc.stdout.strip() == ("lo: You don't have permission to perform this capture on "
                                   "that device (socket: Operation not permitted)"), proc.stderr
