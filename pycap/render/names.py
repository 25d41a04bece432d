"""Names for addresses and ports, as tcpdump prints them without ``-n``.

tcpdump's addrtoname.c, for what the printers ask of it:

- an IPv4 or IPv6 address: the host's name from the system resolver
  (``gethostbyaddr``, so /etc/hosts, DNS or whatever nsswitch.conf says),
  cut at the first dot with ``-N``; with ``-f``, IPv4 addresses outside the
  capture interface's network stay numeric.  No name: the number.
- a TCP or UDP port: the first name /etc/services gives it for that
  protocol, else the number.
- an Ethernet address: its name in /etc/ethers; ff:ff:ff:ff:ff:ff is
  "Broadcast"; any other is the number followed by `` (oui NAME)``, the
  vendor from tcpdump's short table or "Unknown".

Every answer is kept for the rest of the run, as tcpdump keeps it: an
address is looked up once, however many packets carry it.  A look-up can
take as long as the resolver takes (tcpdump's does too); ``-n`` is the way
to keep a busy capture from waiting on it.

(An IP protocol number without a printer is named from tcpdump's own table,
``_tables.NETDB_PROTONAMES``, not /etc/protocols: no look-up, no state.)

``Names`` is built by ``Renderer`` when ``RenderOptions.numeric`` is off.
Tests give it their own resolver and files instead of the system's.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from pycap.netdb import table_lines

__all__ = ["Names", "system_resolver", "read_services", "read_ethers", "OUI_NAMES"]

# tcpdump 4.99's oui_values (oui.c): the vendors it names after an Ethernet
# address.  0x0080c2 is both "Ethernet bridged" (RFC 2684) and "IEEE 802.1
# Private"; tok2str() returns the first.
OUI_NAMES = {
    0x000000: "Ethernet",
    0x00000C: "Cisco",
    0x00005E: "IANA",
    0x000081: "Nortel Networks SONMP",
    0x0000F8: "Cisco bridged",
    0x0080C2: "Ethernet bridged",
    0x00A03E: "ATM Forum",
    0x00E02F: "DOCSIS Spanning Tree",
    0x080007: "Appletalk",
    0x009069: "Juniper",
    0x080009: "Hewlett-Packard",
    0x00120F: "IEEE 802.3 Private",
    0x0012BB: "ANSI/TIA",
    0x001B21: "DCBX",
    0x002320: "Nicira Networks",
    0x5C16C7: "Big Switch Networks",
    0xB0D2F5: "Vello Systems",
    0x002481: "HP",
    0x0004EA: "HP Labs",
    0x748771: "Infoblox Inc",
    0xA42305: "Open Networking Lab",
    0x00049F: "Freescale",
    0x0015AD: "Netronome",
    0x001018: "Broadcom",
    0x00E004: "PMC-Sierra",
    0xD0F0DB: "Ericsson",
}

_BROADCAST = b"\xff" * 6

Resolver = Callable[[int, bytes], "str | None"]


def system_resolver(family: int, packed: bytes) -> str | None:
    """The host name the system resolver gives an address (``gethostbyaddr``,
    as tcpdump asks), or None."""
    try:
        return socket.gethostbyaddr(socket.inet_ntop(family, packed))[0] or None
    except (OSError, UnicodeError, ValueError):
        return None


def read_services(path: str = "/etc/services") -> dict[tuple[str, int], str]:
    """{(protocol, port): name} for tcp and udp, the first line of a port
    winning as in tcpdump's table (it is filled from getservent() in file
    order and searched from its first entry)."""
    table: dict[tuple[str, int], str] = {}
    for fields in table_lines(path):
        port, _, proto = fields[1].partition("/")
        if proto in ("tcp", "udp") and port.isdigit():
            table.setdefault((proto, int(port)), fields[0])
    return table


def read_ethers(path: str = "/etc/ethers") -> dict[bytes, str]:
    """{address: name} from an ethers(5) file; lines that do not parse are
    skipped, as ether_line() skips them."""
    table: dict[bytes, str] = {}
    for fields in table_lines(path):
        octets = fields[0].split(":")
        try:
            address = bytes(int(o, 16) for o in octets)
        except ValueError:
            continue
        if len(address) == 6:
            table.setdefault(address, fields[1])
    return table


class Names:
    """tcpdump's address and port names for one run, each looked up once.

    ``resolve(family, packed)`` gives a host's name or None; ``services``
    and ``ethers`` are the tables of ``read_services`` and ``read_ethers``
    (read when first needed if not given).  ``strip_domain`` is ``-N``;
    ``foreign`` is ``-f``'s (network, mask) as 32-bit integers: IPv4
    addresses outside it are not looked up.
    """

    __slots__ = ("_resolve", "_services", "_ethers", "_strip", "_net", "_mask",
                 "_v4", "_v6", "_tcp", "_udp", "_ether")

    def __init__(self, resolve: Resolver = system_resolver, *,
                 services: dict[tuple[str, int], str] | None = None,
                 ethers: dict[bytes, str] | None = None,
                 strip_domain: bool = False, foreign: tuple[int, int] | None = None):
        self._resolve = resolve
        self._services = services
        self._ethers = ethers
        self._strip = strip_domain
        self._net, self._mask = foreign if foreign is not None else (0, 0)
        self._v4: dict[bytes, str] = {}
        self._v6: dict[bytes, str] = {}
        self._tcp: dict[int, str] = {}
        self._udp: dict[int, str] = {}
        self._ether: dict[bytes, str] = {}

    def _host(self, family: int, packed: bytes) -> str | None:
        name = self._resolve(family, packed)
        if name and self._strip:
            name = name.partition(".")[0]
        return name

    def ipv4(self, packed: bytes) -> str:
        """ipaddr_string(): the name of a 4-byte address, or its dotted quad."""
        try:
            return self._v4[packed]
        except KeyError:
            pass
        name = None
        if int.from_bytes(packed, "big") & self._mask == self._net:
            name = self._host(socket.AF_INET, packed)
        text = self._v4[packed] = name or socket.inet_ntoa(packed)
        return text

    def ipv6(self, packed: bytes) -> str:
        """ip6addr_string(): the name of a 16-byte address, or its text form
        (``-f`` does not apply to IPv6, as in tcpdump)."""
        try:
            return self._v6[packed]
        except KeyError:
            pass
        name = self._host(socket.AF_INET6, packed)
        text = self._v6[packed] = name or socket.inet_ntop(socket.AF_INET6, packed)
        return text

    def _service(self, cache: dict[int, str], proto: str, port: int) -> str:
        if self._services is None:
            self._services = read_services()
        text = cache[port] = self._services.get((proto, port)) or str(port)
        return text

    def tcp_port(self, port: int) -> str:
        """tcpport_string()."""
        text = self._tcp.get(port)
        return text if text is not None else self._service(self._tcp, "tcp", port)

    def udp_port(self, port: int) -> str:
        """udpport_string()."""
        text = self._udp.get(port)
        return text if text is not None else self._service(self._udp, "udp", port)

    def ether(self, packed: bytes) -> str:
        """etheraddr_string(): a name from /etc/ethers, "Broadcast", or the
        address with its vendor."""
        try:
            return self._ether[packed]
        except KeyError:
            pass
        if self._ethers is None:
            self._ethers = read_ethers()
        name = self._ethers.get(packed)
        if name is None:
            if packed == _BROADCAST:
                name = "Broadcast"
            else:
                name = "%s (oui %s)" % (packed.hex(":"), OUI_NAMES.get(
                    int.from_bytes(packed[:3], "big"), "Unknown"))
        self._ether[packed] = name
        return name
