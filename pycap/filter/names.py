"""Name look-ups the language needs: services, protocols, networks, hosts.

libpcap asks the C library (getaddrinfo, getservbyname, getprotobyname,
getnetbyname), which reads /etc/services, /etc/protocols, /etc/networks and
the resolver.  This module does the same through Python's socket module and
small readers for the files the socket module does not cover, behind one
class so tests can substitute a fixed table.
"""

from __future__ import annotations

from pycap.frozen import record
from pycap.netdb import table_lines

PROTO_UNDEF = -1
IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP = 6, 17, 132


def _read_networks(path: str = "/etc/networks") -> dict[str, int]:
    table: dict[str, int] = {}
    for parts in table_lines(path):
        value = _net_number(parts[1])
        if value is not None:
            for name in [parts[0], *parts[2:]]:
                table.setdefault(name, value)
    return table


def _net_number(text: str) -> int | None:
    """inet_network(3): dotted parts, each left in place (``127`` is 127)."""
    value = 0
    try:
        parts = [int(p, 0) for p in text.split(".")]
    except ValueError:
        return None
    for p in parts:
        value = (value << 8) | (p & 0xFF)
    return value


@record(slots=False)
class NameResolver:
    """Resolves names the way libpcap does on a Linux host.  Files are read
    only when a name of their kind is first looked up."""

    networks: dict[str, int] | None = None

    def port(self, name: str) -> tuple[int, int] | None:
        """pcap_nametoport: (port, protocol) with PROTO_UNDEF when the name
        means the same port for TCP and UDP."""
        if name.isdigit():
            return int(name), PROTO_UNDEF   # getaddrinfo takes numeric services
        tcp = self._service(name, "tcp")
        udp = self._service(name, "udp")
        if tcp is not None:
            return tcp, (PROTO_UNDEF if udp == tcp else IPPROTO_TCP)
        if udp is not None:
            return udp, IPPROTO_UDP
        return None

    @staticmethod
    def _service(name: str, proto: str) -> int | None:
        import socket    # imported when a name is looked up: 2 ms a start otherwise
        try:
            return socket.getservbyname(name, proto)
        except (OSError, UnicodeError):
            return None

    @staticmethod
    def protocol(name: str) -> int | None:
        import socket
        try:
            return socket.getprotobyname(name)
        except (OSError, UnicodeError):
            return None

    def network(self, name: str) -> int | None:
        if self.networks is None:
            self.networks = _read_networks()
        return self.networks.get(name)

    @staticmethod
    def host(name: str) -> list[tuple[int, bytes]]:
        """Addresses as (family, packed bytes), in resolver order."""
        import socket
        try:
            infos = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return []
        out: list[tuple[int, bytes]] = []
        for family, _, _, _, sockaddr in infos:
            if family in (socket.AF_INET, socket.AF_INET6):
                packed = socket.inet_pton(family, sockaddr[0])
                if (family, packed) not in out:
                    out.append((family, packed))
        return out
