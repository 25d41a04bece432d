"""Live-only primitives (inbound, outbound, ifindex, offloaded vlan) on a real
veth pair in private namespaces, through the kernel."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from pycap.capture import Capture
from pycap.compiler import compile_filter
from pycap.kernel.bpf import load_program
from pycap.kernel.netns import enter_netns
from tests.kernelsupport import kernel, send_udp, udp_socket, veth  # noqa: F401

pytestmark = pytest.mark.kernel


def capture(pair, expression: str, traffic) -> list:
    """Open a capture on veth-b with ``expression``, run ``traffic()``, collect."""
    compiled = compile_filter(expression, snaplen=128)
    with load_program(compiled.bytecode) as program:
        with enter_netns(pair.b.netns):
            cap = Capture(pair.b.ifname, program, snaplen=128, immediate=True)
    with cap:
        traffic()
        frames, deadline = [], time.monotonic() + 2.0
        while time.monotonic() < deadline:
            got = list(cap.packets(timeout_s=0.2))
            frames += got
            if not got and frames:
                break
    return frames


def udp_both_ways(pair):
    def traffic():
        with udp_socket(pair.a.netns) as a:
            send_udp(a, pair.b.ipv4, 9000, 5, size=100)     # arrives at b: inbound
        with udp_socket(pair.b.netns) as b:
            send_udp(b, pair.a.ipv4, 9001, 3, size=100)     # leaves b: outbound
    return traffic


def dport(frame) -> int:
    return struct.unpack_from("!H", bytes(frame.data), 36)[0]


def test_inbound(veth):  # noqa: F811
    frames = capture(veth, "udp and inbound", udp_both_ways(veth))
    assert [dport(f) for f in frames] == [9000] * 5


def test_outbound(veth):  # noqa: F811
    frames = capture(veth, "udp and outbound", udp_both_ways(veth))
    assert [dport(f) for f in frames] == [9001] * 3


def test_ifindex(veth):  # noqa: F811
    with enter_netns(veth.b.netns):
        index = socket.if_nametoindex(veth.b.ifname)
    assert len(capture(veth, f"udp and ifindex {index}", udp_both_ways(veth))) == 8
    assert capture(veth, f"udp and ifindex {index + 100}", udp_both_ways(veth)) == []


def tagged_frame(pair, vid: int) -> bytes:
    dst = bytes.fromhex(pair.b.mac.replace(":", ""))
    src = bytes.fromhex(pair.a.mac.replace(":", ""))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0,
                     socket.inet_aton(pair.a.ipv4), socket.inet_aton(pair.b.ipv4))
    udp = struct.pack("!HHHH", 4000, 9000, 8, 0)
    return dst + src + struct.pack("!HH", 0x8100, vid) + struct.pack("!H", 0x0800) + ip + udp


def send_tagged(pair, vids):
    def traffic():
        with enter_netns(pair.a.netns):
            raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        with raw:
            raw.bind((pair.a.ifname, 0))
            for vid in vids:
                raw.send(tagged_frame(pair, vid))
    return traffic


def test_vlan_uses_the_offloaded_tag(veth):  # noqa: F811
    frames = capture(veth, "vlan 100 and udp dst port 9000", send_tagged(veth, [100, 200, 100]))
    assert len(frames) == 2
    # the frame the filter saw (and we stored) is untagged; the tag came from the skb
    any_vlan = capture(veth, "vlan and udp", send_tagged(veth, [7]))
    assert len(any_vlan) == 1
    assert capture(veth, "vlan 5", send_tagged(veth, [7])) == []
