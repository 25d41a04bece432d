"""One socket lookup, as ``pycap steer --lookup`` describes it:

    tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 1
    udp [fd00::1]:5353 -> [fd00::7]:53

protocol, remote address and port (the client), ``->``, local address and
port (what the client asked for), and optionally ``if N``: the ingress
interface index (or a name, resolved in pycap's own network namespace).

A :class:`Lookup` renders itself as the ``struct bpf_sk_lookup`` that
``BPF_PROG_TEST_RUN`` takes and as the host-order field values the IR
interpreter takes.  Pure: no I/O beyond interface names.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import struct
from dataclasses import dataclass

from pycap.bpf.sklookup import AF_INET, AF_INET6, CTX_SIZE, FIELDS, IPPROTO_TCP, IPPROTO_UDP
from pycap.errors import UsageError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
PROTOCOLS = {"tcp": IPPROTO_TCP, "udp": IPPROTO_UDP}
PROTOCOL_NAMES = {number: name for name, number in PROTOCOLS.items()}
_LOOKUP = re.compile(r"^\s*(\w+)\s+(\S+)\s*->\s*(\S+?)(?:\s+if\s+(\S+))?\s*$")
_ENDPOINT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<v4>[^:\[\]]+)):(?P<port>\d+)$")
SYNTAX = "PROTO SRC:PORT -> DST:PORT [if IFINDEX], e.g. 'tcp 10.0.0.1:5555 -> 127.0.0.7:8443 if 1'"


def parse_endpoint(text: str, what: str = "address") -> tuple[Address, int]:
    """``a.b.c.d:port`` or ``[v6]:port``."""
    m = _ENDPOINT.match(text.strip())
    if not m:
        raise UsageError(f"bad {what} '{text}': expected ADDR:PORT or [ADDR6]:PORT")
    try:
        addr: Address = ipaddress.ip_address(m.group("v6") or m.group("v4"))
    except ValueError:
        raise UsageError(f"bad {what} '{text}': not an IP address") from None
    if m.group("v6") is not None and addr.version != 6:
        raise UsageError(f"bad {what} '{text}': brackets are for IPv6 addresses")
    port = int(m.group("port"))
    if port > 65535:
        raise UsageError(f"bad {what} '{text}': port {port} > 65535")
    return addr, port


def format_endpoint(addr: Address, port: int) -> str:
    return f"[{addr}]:{port}" if addr.version == 6 else f"{addr}:{port}"


@dataclass(frozen=True, slots=True)
class Lookup:
    protocol: int
    remote: Address
    remote_port: int
    local: Address
    local_port: int
    ifindex: int = 0

    @property
    def family(self) -> int:
        return AF_INET if self.local.version == 4 else AF_INET6

    def __str__(self) -> str:
        text = (f"{PROTOCOL_NAMES.get(self.protocol, self.protocol)} "
                f"{format_endpoint(self.remote, self.remote_port)} -> "
                f"{format_endpoint(self.local, self.local_port)}")
        return text + (f" if {self.ifindex}" if self.ifindex else "")

    def fields(self) -> dict[str, int]:
        """Field values as the IR sees them (host order), for the interpreter."""
        out = {"family": self.family, "protocol": self.protocol,
               "remote_port": self.remote_port, "local_port": self.local_port,
               "ingress_ifindex": self.ifindex}
        for end, addr in (("remote", self.remote), ("local", self.local)):
            if addr.version == 4:
                out[f"{end}_ip4"] = int(addr)
            else:
                for i in range(4):
                    out[f"{end}_ip6[{i}]"] = (int(addr) >> (96 - 32 * i)) & 0xFFFFFFFF
        return out

    def ctx(self) -> bytes:
        """The ``struct bpf_sk_lookup`` for ``BPF_PROG_TEST_RUN``.  The kernel
        refuses a non-zero ``ingress_ifindex`` there, so it is left 0: the dry
        run specialises the program on :attr:`ifindex` instead."""
        buf = bytearray(CTX_SIZE)

        def put(name: str, raw: bytes) -> None:
            offset = FIELDS[name][0]
            buf[offset:offset + len(raw)] = raw
        put("family", struct.pack("<I", self.family))
        put("protocol", struct.pack("<I", self.protocol))
        for end, addr in (("remote", self.remote), ("local", self.local)):
            put(f"{end}_ip4" if addr.version == 4 else f"{end}_ip6[0]", addr.packed)
        put("remote_port", struct.pack("!H", self.remote_port))
        put("local_port", struct.pack("<I", self.local_port))
        return bytes(buf)


def parse_lookup(text: str) -> Lookup:
    m = _LOOKUP.match(text)
    if not m:
        raise UsageError(f"bad lookup '{text}': expected {SYNTAX}")
    proto, src, dst, ifname = m.groups()
    if proto not in PROTOCOLS:
        raise UsageError(f"bad lookup '{text}': protocol must be tcp or udp, not '{proto}'")
    remote, rport = parse_endpoint(src, "source")
    local, lport = parse_endpoint(dst, "destination")
    if remote.version != local.version:
        raise UsageError(f"bad lookup '{text}': source and destination are of different "
                         f"address families")
    return Lookup(PROTOCOLS[proto], remote, rport, local, lport, _ifindex(ifname, text))


def _ifindex(name: str | None, text: str) -> int:
    if name is None:
        return 0
    if name.isdigit():
        return int(name)
    try:
        return socket.if_nametoindex(name)
    except OSError:
        raise UsageError(f"bad lookup '{text}': no interface '{name}'") from None
