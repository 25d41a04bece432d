"""Build expr/loopback: captures with BSD loopback headers (LINKTYPE_NULL,
written little- and big-endian, and LINKTYPE_LOOP) and tcpdump's verdict for
every corpus expression on each, the same way expr/corpus records them.

    python -m tests.make_loopback_corpus      # needs tcpdump; rewrites expr/loopback

The shared corpus has no loopback captures, and a NULL header holds its AF_
value in the byte order of the machine that wrote the file, so both orders
are here.  Each record's time stamp is its 1-based index, which is how the
verdicts are read back from tcpdump's ``-tt`` output.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "expr" / "loopback"
FILES = {"null-le.pcap": (0, "<"), "null-be.pcap": (0, ">"), "loop.pcap": (108, ">")}


def payloads() -> list[tuple[int, bytes]]:
    """(AF_ value, packet after the 4-byte header)."""
    from scapy.layers.inet import GRE, ICMP, IP, TCP, UDP
    from scapy.layers.inet6 import ICMPv6EchoRequest, ICMPv6ND_NS, IPv6, IPv6ExtHdrHopByHop
    from scapy.layers.sctp import SCTP
    from scapy.packet import Raw

    def b(p) -> bytes:
        return bytes(p)
    return [
        (2, b(IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=80, flags="S"))),
        (2, b(IP(src="10.0.0.3", dst="10.0.0.2") / UDP(sport=53, dport=5353) / Raw(b"x" * 12))),
        (2, b(IP(src="192.168.1.1", dst="127.0.0.1") / ICMP(type=8) / Raw(b"ping"))),
        (2, b(IP(src="10.0.0.1", dst="10.0.0.2", frag=100, proto=6) / Raw(b"y" * 20))),
        (2, b(IP(src="10.1.2.3", dst="10.0.0.2", options=b"\x01\x01\x01\x00")
              / TCP(sport=443, dport=40000, flags="SA"))),
        (2, b(IP(src="10.0.0.5", dst="224.0.0.251") / UDP(sport=5353, dport=5353))),
        (2, b(IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / Raw(b"z" * 8))),
        (2, b(IP(src="10.0.0.6", dst="10.0.0.7") / GRE() / Raw(b"g" * 8))),
        (2, b(IP(src="10.0.0.8", dst="224.0.0.1", proto=2) / Raw(b"\x11\x64\xee\x9b" + bytes(4)))),
        (2, b(IP(src="10.0.0.9", dst="10.0.0.10") / SCTP(sport=2905, dport=2905))),
        (2, b(IP(src="127.0.0.1", dst="127.0.0.1") / TCP(sport=5000, dport=22, flags="PA")
              / Raw(b"GET / HTTP/1.0\r\n"))),
        (2, b(IP(src="10.0.0.1", dst="10.0.0.2", proto=50) / Raw(b"\x00\x00\x10\x01" + bytes(12)))),
        (24, b(IPv6(src="fe80::1", dst="fe80::2") / TCP(sport=443, dport=5000, flags="S"))),
        (28, b(IPv6(src="fe80::3", dst="fe80::2") / UDP(sport=53, dport=53) / Raw(b"q" * 12))),
        (30, b(IPv6(src="2001:db8::4", dst="2001:db8::2") / TCP(sport=22, dport=6000, flags="A"))),
        (10, b(IPv6(src="fe80::5", dst="fe80::2") / TCP(sport=22, dport=6000))),
        (30, b(IPv6(src="fe80::6", dst="ff02::1") / ICMPv6EchoRequest())),
        (24, b(IPv6(src="fe80::7", dst="ff02::1:ff00:2") / ICMPv6ND_NS(tgt="fe80::2"))),
        (28, b(IPv6(src="fe80::8", dst="fe80::2") / IPv6ExtHdrHopByHop() / TCP(sport=80, dport=1))),
        (30, b(IPv6(src="fe80::9", dst="ff02::fb") / UDP(sport=5353, dport=5353))),
        (7, b"\x81\x1c\x01\x1e\x00\x32" + bytes(26)),        # an OSI (CLNP) PDU
        (23, b"\xff\xff\x00\x1e\x00\x04" + bytes(24)),       # IPX
        (0, bytes(20)),
        (2, b(IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=80, dport=1234))[:20]),  # cut
        (99, b"\x45\x00"),
    ]


def records(order: str, linktype: int) -> bytes:
    word = ">" if linktype == 108 else order
    out = struct.pack(order + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for index, (af, packet) in enumerate(payloads(), 1):
        data = struct.pack(word + "I", af) + packet
        out += struct.pack(order + "IIII", index, 0, len(data), len(data)) + data
    out += struct.pack(order + "IIII", len(payloads()) + 1, 0, 3, 3) + b"\x02\x00\x00"
    return out


def tcpdump(path: Path, expression: str) -> tuple[list[int], str]:
    proc = subprocess.run(["tcpdump", "-n", "-tt", "-r", str(path), "--", expression],
                          capture_output=True, text=True)
    if proc.returncode:
        message = next((line for line in proc.stderr.splitlines() if line.startswith("tcpdump:")),
                       proc.stderr.strip())
        return [], message
    return [int(line.split(".", 1)[0]) for line in proc.stdout.splitlines() if line[:1].isdigit()], ""


def main() -> int:
    from tests import corpus
    (ROOT / "pcaps").mkdir(parents=True, exist_ok=True)
    (ROOT / "expected").mkdir(parents=True, exist_ok=True)
    errors = ["capture\texpression\ttcpdump_error"]
    for name, (linktype, order) in FILES.items():
        path = ROOT / "pcaps" / name
        path.write_bytes(records(order, linktype))
        lines = []
        for expression in corpus.expressions():
            matched, error = tcpdump(path, expression)
            if error:
                errors.append(f"{name}\t{expression}\t{error}")
            else:
                lines.append(f"{expression}\t{','.join(map(str, matched)) or '-'}")
        (ROOT / "expected" / f"{name}.tsv").write_text("\n".join(lines) + "\n")
    (ROOT / "expected" / "_errors.tsv").write_text("\n".join(errors) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
