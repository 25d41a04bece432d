"""``pycap demo``: the whole path, end to end, on traffic pycap makes itself.

A private pair of network namespaces joined by a veth pair; a known, bounded
mix of packets sent from one side; a capture on the other side through a
kernel filter with a small snap length; the packets shown, written to a pcap,
read back and checked.  Everything is torn down at the end.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass

from pycap.errors import PycapError, UsageError

FILTER = "udp dst port 9000 or icmp[icmptype] == icmp-echo"
SNAPLEN = 64
UDP_MATCHING, UDP_OTHER, PINGS, PAYLOAD = 10, 10, 3, 500


@dataclass
class DemoResult:
    captured: int
    expected: int
    truncated_ok: bool
    read_back: int
    path: str


def _send_traffic(pair) -> None:
    """From namespace a to b: UDP to port 9000 (matches), UDP to port 9001
    (does not), and ICMP echo requests (match).  Bounded in count."""
    from pycap.kernel.netns import enter_netns
    with enter_netns(pair.a.netns):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    with udp, icmp:
        for i in range(max(UDP_MATCHING, UDP_OTHER)):
            if i < UDP_MATCHING:
                udp.sendto(bytes([i]) * PAYLOAD, (pair.b.ipv4, 9000))
            if i < UDP_OTHER:
                udp.sendto(bytes([i]) * PAYLOAD, (pair.b.ipv4, 9001))
        for seq in range(PINGS):
            icmp.sendto(_echo_request(seq), (pair.b.ipv4, 0))


def _echo_request(seq: int) -> bytes:
    payload = b"pycap demo".ljust(56, b".")
    header = bytearray(b"\x08\x00\x00\x00" + (0x7063).to_bytes(2, "big") + seq.to_bytes(2, "big"))
    total = sum(int.from_bytes((bytes(header) + payload)[i:i + 2], "big")
                for i in range(0, len(header) + len(payload), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    header[2:4] = (~total & 0xFFFF).to_bytes(2, "big")
    return bytes(header) + payload


def run(out=sys.stdout, keep: str | None = None) -> DemoResult:
    from pycap.capture import Capture
    from pycap.compiler import compile_filter
    from pycap.kernel.bpf import load_program
    from pycap.kernel.netns import VethPair, enter_netns
    from pycap.render import RenderOptions, Renderer
    from pycap.savefile import PcapWriter, open_savefile

    say = lambda text="": print(text, file=out, flush=True)  # noqa: E731
    compiled = compile_filter(FILTER, snaplen=SNAPLEN)
    say(f"pycap demo: filter '{FILTER}', snapshot length {SNAPLEN} bytes, "
        f"compiled to {len(compiled.insns)} eBPF instructions")
    path = keep or os.path.join(tempfile.mkdtemp(prefix="pycap-demo-"), "demo.pcap")
    renderer = Renderer(RenderOptions(timestamp="none"))
    captured = []
    with VethPair("demo") as pair:
        say(f"namespaces {pair.a.netns} ({pair.a.ipv4}) <-> {pair.b.netns} ({pair.b.ipv4})")
        with load_program(compiled.bytecode, name="pycap_demo") as program:
            with enter_netns(pair.b.netns):
                cap_cm = Capture(pair.b.ifname, program, snaplen=SNAPLEN, immediate=True)
        with cap_cm as cap:
            say(f"listening on {pair.b.ifname} in {pair.b.netns}")
            _send_traffic(pair)
            deadline = time.monotonic() + 3.0
            expected = UDP_MATCHING + PINGS
            while time.monotonic() < deadline:
                before = len(captured)
                captured.extend(cap.packets(timeout_s=0.3))
                if len(captured) >= expected and len(captured) == before:
                    break   # everything expected arrived, and then nothing more
            stats = cap.stats()
    say(f"sent {UDP_MATCHING} UDP to port 9000, {UDP_OTHER} UDP to port 9001, {PINGS} pings; "
        f"the kernel filter passed {stats.received}, dropped {stats.dropped}:")
    for frame in captured:
        say("  " + renderer.render(frame.data, frame.wire_len, compiled.linktype, frame.ts_ns)
            + f"  [stored {len(frame.data)} of {frame.wire_len} bytes]")
    with open(path, "wb") as f, PcapWriter(f, compiled.linktype, SNAPLEN) as writer:
        for frame in captured:
            writer.write_raw(frame.ts_ns, frame.data, frame.wire_len)
    with open_savefile(path) as reader:
        back = list(reader)
    truncated_ok = all(len(r.data) == min(SNAPLEN, r.wire_len) for r in back) and \
        all(r.wire_len == 14 + 20 + 8 + PAYLOAD for r in back if r.data[23:24] == b"\x11")
    say(f"wrote {path}; read back {len(back)} records, every one at most {SNAPLEN} bytes "
        f"with its original length kept: {'yes' if truncated_ok else 'NO'}")
    say("namespaces and veth removed.")
    return DemoResult(len(captured), UDP_MATCHING + PINGS, truncated_ok, len(back), path)


def run_demo(argv: list[str]) -> int:
    if argv and argv[0] not in ("-w",):
        raise UsageError(f"demo: unknown argument {argv[0]}")
    keep = argv[1] if len(argv) > 1 else None
    if os.geteuid() != 0:
        raise UsageError("demo: needs root (network namespaces, BPF, raw sockets)")
    result = run(keep=keep)
    ok = result.captured == result.expected and result.truncated_ok and \
        result.read_back == result.captured
    print(f"demo {'OK' if ok else 'FAILED'}: {result.captured}/{result.expected} expected packets "
          f"captured, truncated in the kernel, written and read back.")
    return 0 if ok else 1


__all__ = ["run", "run_demo", "PycapError"]
