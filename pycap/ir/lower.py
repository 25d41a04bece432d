"""Lowering: filter AST -> IR predicate, with libpcap's semantics and errors.

Each method mirrors one of libpcap's gencode.c routines (named in its
docstring) so that behaviour, evaluation order and error wording can be
checked against the reference.  Everything here is pure.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pycap.errors import FilterError, Span, UnsupportedFilterError
from pycap.filter import ast
from pycap.filter.addresses import atoin, ipv4_network, ipv6_network
from pycap.frozen import replace
from pycap.filter.names import IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, PROTO_UNDEF, NameResolver
from pycap.ir.walk import PrimitiveLowering
from pycap.ir.link import (ETHERTYPE_8021AD, ETHERTYPE_8021Q, ETHERTYPE_IP,
                           ETHERTYPE_IPV6, ETHERTYPE_MPLS, ETHERTYPE_PPPOED, ETHERTYPE_PPPOES,
                           ETHERTYPE_QINQ, PPP_MPLS_UCAST, Link, link_for)
from pycap.linktype import LinkType
from pycap.ir.nodes import (TRUE, Any, Cmp, Def, Transport6, Var, as_value, at, Const, Ctx, Imm, ProtoChain, Pred, Value, WireLen, all_of, alu, any_of, cmp,
                            eq, load, negate)

ETHERTYPE_ARP, ETHERTYPE_REVARP = 0x0806, 0x8035
GENEVE_PORT, ETHERTYPE_TEB = 6081, 0x6558
PACKET_OUTGOING = 4
ETHERTYPE_DN = 0x6003
LLCSAP_ISONS = 0xFE
ISO8473_CLNP, ISO9542_ESIS, ISO10589_ISIS = 0x81, 0x82, 0x83
ISO_PROTOS = {"clnp": ISO8473_CLNP, "esis": ISO9542_ESIS, "isis": ISO10589_ISIS}
# IS-IS PDU types: L1/L2 LAN IIH 15/16, PTP IIH 17, L1/L2 LSP 18/20, CSNP 24/25, PSNP 26/27
ISIS_PDU_TYPES = {"l1": (18, 24, 26, 15, 17), "l2": (20, 25, 27, 16, 17),
                  "iih": (16, 15, 17), "lsp": (20, 18), "snp": (27, 26, 25, 24),
                  "csnp": (25, 24), "psnp": (27, 26)}
LLC_S_SUBTYPES = {"rr": 0x01, "rnr": 0x05, "rej": 0x09}
LLC_U_SUBTYPES = {"ui": 0x03, "ua": 0x63, "disc": 0x43, "dm": 0x0F, "sabme": 0x6F,
                  "test": 0xE3, "xid": 0xAF, "frmr": 0x87}
ETHER_PROTO_NAMES = {
    "aarp": 0x80F3, "arp": 0x0806, "atalk": 0x809B, "decnet": 0x6003, "ip": 0x0800,
    "ip6": 0x86DD, "lat": 0x6004, "loopback": 0x9000, "mopdl": 0x6001, "moprc": 0x6002,
    "rarp": 0x8035, "sca": 0x6007,
}
LLC_NAMES = {"iso": 0xFE, "stp": 0x42, "ipx": 0xE0, "netbeui": 0xF0}
ETHERTYPE_OF_PROTO = {
    "ip": ETHERTYPE_IP, "ip6": ETHERTYPE_IPV6, "arp": ETHERTYPE_ARP, "rarp": ETHERTYPE_REVARP,
    "decnet": 0x6003, "sca": 0x6007, "lat": 0x6004, "mopdl": 0x6001, "moprc": 0x6002,
    "stp": 0x42, "netbeui": 0xF0, "iso": 0xFE, "ipx": 0xE0, "atalk": 0x809B, "aarp": 0x80F3,
}
# protocol abbreviation -> (IP protocol number, which IP versions: "ip", "ip6" or "any")
IP_PROTO_OF = {
    "tcp": (6, "any"), "udp": (17, "any"), "sctp": (132, "any"), "icmp": (1, "ip"),
    "igmp": (2, "ip"), "igrp": (9, "ip"), "pim": (103, "any"), "vrrp": (112, "ip"),
    "carp": (112, "ip"), "icmp6": (58, "ip6"), "ah": (51, "any"), "esp": (50, "any"),
}
TRANSPORT_INDEX = frozenset({"sctp", "tcp", "udp", "icmp", "igmp", "igrp", "pim", "vrrp", "carp"})
NETWORK_INDEX = frozenset({"ip", "arp", "rarp", "atalk", "decnet", "sca", "lat", "moprc",
                           "mopdl", "ip6"})
BOGUS_PROTO_QUALS = frozenset({"sctp", "tcp", "udp", "icmp", "igmp", "igrp", "atalk", "decnet",
                               "lat", "sca", "moprc", "mopdl", "icmp6", "ah", "esp", "pim",
                               "vrrp", "carp", "aarp", "stp", "ipx", "netbeui", "esis"})
MAC_ONLY_DIRS = {"addr1": "'addr1' and 'address1'", "addr2": "'addr2' and 'address2'",
                 "addr3": "'addr3' and 'address3'", "addr4": "'addr4' and 'address4'",
                 "ra": "'ra'", "ta": "'ta'"}
ALU_OPS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "&": "and",
           "|": "or", "^": "xor", "<<": "lsh", ">>": "rsh"}
# relation -> (comparison, negated)
RELATIONS = {">": ("gt", False), ">=": ("ge", False), "=": ("eq", False),
             "<=": ("gt", True), "<": ("ge", True), "!=": ("eq", True)}
MAX_OFFSET = 0x40000   # no frame is longer: a larger computed offset is out of bounds
Ranges = tuple[tuple[int, int], ...]
Direction = str | None | tuple[str | None, ...]     # one for all, or one a range or address


# the IPv4 address fields of a host: ethertype, source and destination offsets
HOST_FIELDS = {"ip": (ETHERTYPE_IP, 12, 16), "arp": (ETHERTYPE_ARP, 14, 24),
               "rarp": (ETHERTYPE_REVARP, 14, 24)}


def range_test(field: Value, bounds: tuple[int, int]) -> Pred:
    """``field`` in [lo, hi]: one comparison, or two for a range."""
    lo, hi = bounds
    if lo == hi:
        return cmp("eq", field, Imm(lo))
    return all_of(cmp("ge", field, Imm(lo)), negate(cmp("gt", field, Imm(hi))))


def pulled_up(tests: list[tuple[object, tuple[int, int]]]) -> list[tuple[object, tuple[int, int]]]:
    """The tests of an ``or`` of ports or addresses, (field, (lo, hi)) in the
    chain's order, in the order libpcap's optimizer leaves them.  Its
    ``or_pullup`` moves a comparison whose success ends the ``or`` up over
    the ones before it, to just after a test of the value the accumulator
    already holds: ``port 1 or port 2`` runs source 1, source 2, then
    destination 1, destination 2.  It takes the loads as free of effects, so
    a packet too short for its destination port matches on its source port
    whichever port of the list it is (tcpdump accepts it).  A range is two
    comparisons, the first not ending the ``or``: nothing moves over it, and
    after it the accumulator holds its field.  Repeated tests go."""
    out: list[tuple[object, tuple[int, int]]] = []
    held = None                      # the field in the accumulator
    i = 0
    while i < len(tests):
        j = i
        while j < len(tests) and tests[j][1][0] == tests[j][1][1]:
            j += 1
        if j == i:                   # a range
            out.append(tests[i])
            held, i = tests[i][0], i + 1
            continue
        run = tests[i:j]
        order = list(dict.fromkeys([f for f, _ in run if f == held] + [f for f, _ in run]))
        out += [t for f in order for t in run if t[0] == f]
        held, i = order[-1], j
    return list(dict.fromkeys(out))


def _dotted_prefix(value: int, bits: int) -> tuple[int, int]:
    """(address, mask) of a dotted address of ``bits`` bits (``10.1`` is 10.1.0.0/16)."""
    return (value << (32 - bits)) & 0xFFFFFFFF, (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF


def _ordered(ranges: Ranges) -> Ranges:
    """Each range low to high (``portrange 90-80`` is 80-90, as in libpcap)."""
    return tuple((min(lo, hi), max(lo, hi)) for lo, hi in ranges)


def _plural(dirword: str) -> tuple[str, str]:
    text = MAC_ONLY_DIRS[dirword]
    return text, ("are" if " and " in text else "is")


class Lowerer(PrimitiveLowering):
    """Lowers one expression for one link type.  ``on_primitive`` is meant to be
    handed to the parser so errors surface in libpcap's order."""

    def __init__(self, linktype: int, names: NameResolver | None = None,
                 netmask: int = 0, wire_len: Value = WireLen(), live: bool = False,
                 cooked_live: bool = False, byte_order: str = sys.byteorder,
                 optimized: bool = True):
        self.live = live or cooked_live
        super().__init__()
        self._unchecked = 0          # inside an operand whose checks libpcap drops
        self._ip_version: int | None = None   # a relation being lowered for IPv4 or IPv6
        self._transport_read = False          # ... and it reads a transport header
        self.link: Link = link_for(linktype, cooked_live, self.live, byte_order)
        self.base: Link = self.link          # the capture's own link header, never shifted
        self.names = names or NameResolver()
        self.netmask = netmask
        self.wire_len = wire_len
        self._shared: dict = {}          # (helper, id(link)) -> (link, the tree it built)
        # libpcap's no_optimize: with ``protochain`` or ``geneve`` anywhere in it,
        # pcap_compile leaves the program as generated.  Its tests run in the
        # written order, a load that fails rejects even where the outcome
        # could not matter, and "rejects all packets" is never raised.
        self.unoptimized = not optimized     # also: -O
        self._list_links: dict[tuple, Link] = {}      # list key -> its link header
        self._lists: dict[int, tuple] = {}            # id(primitive) -> its list key

    # ---- port and address lists --------------------------------------------------
    # ``port 1 or port 2 or ... port 40`` is, packet for packet, ``ip and (tcp or
    # udp or sctp) and first fragment and a port in {1..40}``, or the same over
    # IPv6: lowered that way it is one primitive's tests and 80 comparisons,
    # not 40 copies of the headers' tests for the optimizer to merge again.
    # ``host A or host B or ...`` likewise is ``ip and an address in {A, B, ...}``
    # or the same for ARP and RARP, and so are IPv4 nets of one mask.
    # Neighbouring primitives of an ``or`` with the same key (the kind, the
    # protocol, the link header, and for addresses the mask; not the
    # direction: ``src port 1 or dst port 2`` is a list too) are gathered;
    # the parser reports the first of them as usual and only the operand of
    # the others is left to check (the qualifiers and the link header raised
    # nothing already).  The graph (pycap.ir.cfg) makes the comparisons with
    # constants searches.

    def on_primitive(self, node: ast.Expr) -> None:
        key = self._list_key(node)
        if key is None:
            return super().on_primitive(node)
        assert isinstance(node, ast.Primitive)
        if key not in self._list_links:
            super().on_primitive(node)
            self._list_links[key] = self.link
        elif isinstance(node.operand, ast.Number) and node.operand.value > 65535:
            raise FilterError(f"illegal port number {node.operand.value} > 65535",
                              node.operand.span)
        self._lists[id(node)] = key

    def _list_key(self, node: ast.Expr) -> tuple | None:
        """The key of a primitive that can join a list; a host's operand is
        read here, so a bad one raises its error as the primitive would."""
        if not isinstance(node, ast.Primitive):
            return None
        q, op = node.qual, node.operand
        if q.dir not in (None, "src", "dst", "src or dst"):
            return None          # ``src and dst port`` does not distribute over ``or``
        if isinstance(op, ast.Number):
            if q.addr not in ("port", "portrange"):
                return None
            return ("port", id(self.link), q.proto)     # ``portrange 7`` is ``port 7``
        if isinstance(op, (ast.IPv4, ast.IPv4Prefix, ast.IPv4Mask)) and \
                q.addr in (None, "host", "net") and q.proto in (None, "ip", "arp", "rarp"):
            return ("host", id(self.link), q.proto, self._ipv4_operand(node)[1])
        return None

    def _ipv4_operand(self, node: ast.Primitive) -> tuple[int, int]:
        """(address, mask) of an IPv4 host or net, as ncode and mcode read it."""
        op = node.operand
        if isinstance(op, ast.IPv4):
            return _dotted_prefix(*self.atoin(op.text, op.span))
        return ipv4_network(op, node.qual)        # type: ignore[arg-type]

    def lower(self, node: ast.Expr) -> Pred:
        if not self._lists:
            return super().lower(node)
        if isinstance(node, ast.Or):
            return self._lower_or(node)
        key = self._lists.get(id(node))
        if key is not None and id(node) not in self._cache:
            return self._lower_list(key, [node])
        return super().lower(node)

    def _lower_or(self, node: ast.Or) -> Pred:
        """An ``or`` chain, each run of neighbouring primitives with the same
        key as one list.  Only neighbours: ``port 1 or tcp[100] = 5 or port 2``
        must reject a packet too short for ``tcp[100]`` before its port 2
        could accept it."""
        operands: list[ast.Expr] = []
        todo: list[ast.Expr] = [node]
        while todo:
            item = todo.pop()
            if isinstance(item, ast.Or):
                todo += (item.right, item.left)
            else:
                operands.append(item)
        parts: list[Pred] = []
        run: list[ast.Primitive] = []
        key = None
        for item in (*operands, None):
            found = self._lists.get(id(item)) if item is not None else None
            if run and found != key:
                parts.append(self._lower_list(key, run))      # type: ignore[arg-type]
                run = []
            if found is not None:
                key = found
                run.append(item)                              # type: ignore[arg-type]
            elif item is not None:
                parts.append(self.lower(item))
        return any_of(*parts)

    def _lower_list(self, key: tuple, nodes: list[ast.Primitive]) -> Pred:
        if len(nodes) == 1 and id(nodes[0]) in self._cache:
            return self._cache[id(nodes[0])]
        first, current = nodes[0], self.link
        self.link = self._list_links[key]       # the link header they were parsed under
        try:
            q, span = first.qual, first.operand.span       # type: ignore[attr-defined]
            if key[0] == "host":
                addrs = tuple(dict.fromkeys((n.qual.dir, self._ipv4_operand(n)[0]) for n in nodes))
                return self.hosts(addrs, key[3], q.proto, span)
            ports = tuple(dict.fromkeys((n.qual.dir, n.operand.value) for n in nodes))  # type: ignore[attr-defined]
            return self.ports(tuple((v, v) for _, v in ports), self.port_proto(q.proto, q.addr, span),
                              tuple(d for d, _ in ports), q.addr, span)
        finally:
            self.link = current

    def _once(self, key: str, build: Callable[[], Pred | Value]):
        """The tree ``build`` makes for the current link header, built once: a
        long ``port 1 or port 2 or ...`` chain asks for the same ``ip`` test
        and IPv4 header length again and again, and one shared object is
        also quicker to hash and compare."""
        link = self.link          # keyed by identity (hashing a Link is not cheap),
        found = self._shared.get((key, id(link)))       # checked against reuse of ids
        if found is None or found[0] is not link:
            found = self._shared[(key, id(link))] = (link, build())
        return found[1]

    # ---- helpers -----------------------------------------------------------------
    def pl(self, off: int) -> int:
        """Offset of byte ``off`` of the network-layer header."""
        return at(self.link.off_linkpl, self.link.off_nl + off)

    def is_ip(self, span: Span | None = None) -> Pred:
        if span is not None:
            return self.link.proto_is(ETHERTYPE_IP, span)
        return self._once("ip", lambda: self.link.proto_is(ETHERTYPE_IP))

    def is_ip6(self, span: Span | None = None) -> Pred:
        if span is not None:
            return self.link.proto_is(ETHERTYPE_IPV6, span)
        return self._once("ip6", lambda: self.link.proto_is(ETHERTYPE_IPV6))

    def ip_first_fragment(self) -> Pred:
        """gen_ipfrag: the fragment offset is 0 (a ``jset``, as in libpcap, so the
        optimizer treats it as a different test from ``ip[6:2] & 0x1fff = 0``)."""
        return self._once("ipfrag", lambda: negate(cmp("set", load(self.pl(6), 2), Imm(0x1FFF))))

    def ip_header_len(self) -> Value:
        return self._once("ihl", lambda: alu("mul", alu("and", load(self.pl(0), 1), Imm(0x0F)),
                                               Imm(4)))

    def tran4(self, off: int) -> Value:
        """Absolute offset of byte ``off`` of the transport header after IPv4."""
        return alu("add", self.ip_header_len(), as_value(self.pl(off)))

    @staticmethod
    def unsupported(what: str, span: Span) -> UnsupportedFilterError:
        return UnsupportedFilterError(f"pycap does not support {what} yet", span)

    # ---- protocols -----------------------------------------------------------------
    def gen_proto(self, v: int, proto: str | None, span: Span) -> Pred:
        """gen_proto: ``[proto] proto v``."""
        if proto is None:
            return any_of(self.gen_proto(v, "ip", span), self.gen_proto(v, "ip6", span))
        if proto == "link":
            return self.link.proto_is(v)
        if proto == "ip":
            return all_of(self.is_ip(), eq(self.pl(9), 1, v))
        if proto == "ip6":
            next_is_v = eq(self.pl(6), 1, v)
            via_fragment = all_of(eq(self.pl(6), 1, 44), eq(self.pl(40), 1, v))
            return all_of(self.is_ip6(), any_of(next_is_v, via_fragment))
        if proto == "iso":
            return all_of(self.link.proto_is(LLCSAP_ISONS, span),
                          eq(at(self.link.off_linkpl, self.link.off_nl_nosnap), 1, v))
        if proto == "isis":
            return all_of(self.gen_proto(ISO10589_ISIS, "iso", span),
                          eq(at(self.link.off_linkpl, self.link.off_nl_nosnap + 4), 1, v))
        if proto == "clnp":
            raise FilterError("'clnp proto' is not supported", span)
        if proto in ("arp", "rarp"):
            raise FilterError(f"{proto} does not encapsulate another protocol", span)
        if proto in BOGUS_PROTO_QUALS:
            raise FilterError(f"'{proto} proto' is bogus", span)
        raise self.unsupported(f"'{proto} proto'", span)

    def protochain(self, v: int, proto: str | None, span: Span) -> Pred:
        """gen_protochain: ``[ip|ip6] protochain v``."""
        if proto is None:
            return any_of(self.protochain(v, "ip", span), self.protochain(v, "ip6", span))
        if proto not in ("ip", "ip6"):
            raise FilterError("bad protocol applied for 'protochain'", span)
        version = 4 if proto == "ip" else 6
        if self.link.variable:
            raise FilterError("'protochain' not supported with variable length headers", span)
        self.unoptimized = True
        guard = self.is_ip(span) if version == 4 else self.is_ip6(span)
        return all_of(guard, ProtoChain(version, v & 0xFFFFFFFF, self.pl(0)))  # type: ignore[arg-type]

    def proto_abbrev(self, proto: str, span: Span) -> Pred:
        """gen_proto_abbrev: a protocol name alone."""
        if proto in IP_PROTO_OF:
            number, versions = IP_PROTO_OF[proto]
            return self.gen_proto(number, None if versions == "any" else versions, span)
        if proto in ("ip", "ip6", "arp", "rarp", "decnet", "sca", "lat", "mopdl", "moprc",
                     "stp", "netbeui", "iso", "ipx", "atalk", "aarp"):
            return self.link.proto_is(ETHERTYPE_OF_PROTO[proto])
        if proto in ISO_PROTOS:
            return self.gen_proto(ISO_PROTOS[proto], "iso", span)
        if proto in ISIS_PDU_TYPES:
            return any_of(*(self.gen_proto(t, "isis", span) for t in ISIS_PDU_TYPES[proto]))
        if proto == "link":
            raise FilterError("link layer applied in wrong context", span)
        if proto == "radio":
            raise FilterError("'radio' is not a valid protocol type", span)
        raise self.unsupported(f"'{proto}'", span)

    # ---- qualified primitives -----------------------------------------------------
    def primitive(self, node: ast.Primitive) -> Pred:
        q, op = node.qual, node.operand
        if q.addr == "<error>":
            raise FilterError("can't parse filter expression: syntax error", node.span)
        if isinstance(op, ast.Name):
            return self.scode(op.text, q, op.span)
        if isinstance(op, ast.Number):
            return self.ncode(None, op.value, q, op.span)
        if isinstance(op, ast.IPv4):
            if q.addr in ("port", "portrange", "proto", "protochain"):
                raise FilterError(f"'{q.addr}' modifier applied to ip host", op.span)
            return self.ncode(op.text, 0, q, op.span)
        if isinstance(op, (ast.IPv4Prefix, ast.IPv4Mask)):
            return self.mcode(op, q)
        if isinstance(op, ast.IPv6):
            return self.mcode6(op, q)
        if isinstance(op, ast.MAC):
            return self.ecode(op, q)
        raise FilterError("aid supported only on ARCnet", op.span)

    atoin = staticmethod(atoin)

    def ncode(self, text: str | None, v: int, q: ast.Qualifiers, span: Span) -> Pred:
        """gen_ncode: a number or dotted address with qualifiers."""
        proto, direction = q.proto, q.dir
        bits = 32
        if text is not None:
            if proto == "decnet":
                v = self.atodn(text, span)
            else:
                v, bits = self.atoin(text, span)
        addr = q.addr
        if addr in (None, "host", "net"):
            if proto == "decnet":
                return self.dnhostop(v, direction, span)
            if proto == "link":
                raise FilterError("illegal link layer address", span)
            mask = 0xFFFFFFFF
            if text is None and addr == "net":
                while v and (v & 0xFF000000) == 0:
                    v, mask = (v << 8) & 0xFFFFFFFF, (mask << 8) & 0xFFFFFFFF
            else:
                v, mask = _dotted_prefix(v, bits)
            return self.gen_host(v, mask, proto, direction, addr or "host", span)
        if addr in ("port", "portrange"):      # a one-port range, named as written
            ip_proto = self.port_proto(proto, addr, span)
            if v > 65535:
                raise FilterError(f"illegal port number {v} > 65535", span)
            return self.ports(((v, v),), ip_proto, direction, addr, span)
        if addr == "gateway":
            raise FilterError("'gateway' requires a name", span)
        if addr == "proto":
            if direction is not None:
                raise FilterError("direction applied to 'proto'", span)
            return self.gen_proto(v, proto, span)
        if addr == "protochain":
            return self.protochain(v, proto, span)
        raise FilterError("can't parse filter expression: syntax error", span)

    @staticmethod
    def port_proto(proto: str | None, word: str, span: Span) -> int:
        table = {"udp": IPPROTO_UDP, "tcp": IPPROTO_TCP, "sctp": IPPROTO_SCTP, None: PROTO_UNDEF}
        if proto not in table:
            raise FilterError(f"illegal qualifier of '{word}'", span)
        return table[proto]

    def mcode(self, op: ast.IPv4Prefix | ast.IPv4Mask, q: ast.Qualifiers) -> Pred:
        """gen_mcode: ``net a.b.c.d/len`` and ``net a.b.c.d mask m.m.m.m``."""
        n, m = ipv4_network(op, q)
        return self.gen_host(n, m, q.proto, q.dir, "net", op.span)

    def mcode6(self, op: ast.IPv6, q: ast.Qualifiers) -> Pred:
        """gen_mcode6: IPv6 addresses and prefixes."""
        addr, mask = ipv6_network(op, q)
        return self.gen_host6(addr, mask, q.proto, q.dir, q.addr or "host", op.span)

    # ---- hosts -----------------------------------------------------------------------
    def gen_host(self, addr: int, mask: int, proto: str | None, direction: str | None,
                 kind: str, span: Span) -> Pred:
        """gen_host: IPv4 host/net for ip, arp, rarp (or all three by default)."""
        if proto is None:
            return any_of(*(self.gen_host(addr, mask, name, direction, kind, span)
                            for name in self._host_protos()))
        if proto == "link":
            raise FilterError(f"link-layer modifier applied to {kind}", span)
        if proto in HOST_FIELDS:
            return self.hostop(addr, mask, direction, *HOST_FIELDS[proto], span)
        if proto == "ip6":
            raise FilterError("'ip6' modifier applied to ip host", span)   # sic, also for nets
        if proto == "decnet":
            return self.dnhostop(addr, direction, span)
        if proto in ("atalk", "aarp", "sca", "lat", "moprc", "mopdl", "ipx", "iso"):
            return self._non_ip_host(proto, kind, span)
        raise FilterError(f"'{proto}' modifier applied to {kind}", span)

    def hosts(self, addrs: tuple[tuple[str | None, int], ...], mask: int, proto: str | None,
              span: Span) -> Pred:
        """IPv4, ARP or RARP packets (all three without ``proto``) with an
        address in ``addrs`` (direction, address) under ``mask``: ``host A or
        src host B or ...``, the tests in the order libpcap's optimizer leaves
        the chain in (``pulled_up``: all sources, then all destinations)."""
        def one(name: str) -> Pred:
            ll_proto, *offsets = HOST_FIELDS[name]
            tests = self._in_libpcap_order([(off, (a, a)) for d, a in addrs
                                            for off, other in zip(offsets, ("dst", "src"))
                                            if d != other])
            return all_of(self.link.proto_is(ll_proto),
                          any_of(*(eq(self.pl(off), 4, a, mask) for off, (a, _) in tests)))
        return any_of(*(one(name) for name in ((proto,) if proto else self._host_protos())))

    def _in_libpcap_order(self, chain: list[tuple[object, tuple[int, int]]]) -> list:
        """A list's tests as tcpdump runs them: ``pulled_up`` by the
        optimizer, or as written where there is none (``unoptimized``)."""
        return list(dict.fromkeys(chain)) if self.unoptimized else pulled_up(chain)

    def _host_protos(self) -> tuple[str, ...]:
        """What a host or net without a protocol is: IPv4, ARP or RARP, but
        only IPv4 inside MPLS (gen_host checks the label stack depth)."""
        return ("ip",) if self.link.label_depth else ("ip", "arp", "rarp")

    @staticmethod
    def _non_ip_host(proto: str, kind: str, span: Span) -> Pred:
        names = {"atalk": "AppleTalk", "aarp": "AARP", "sca": "SCA", "lat": "LAT",
                 "moprc": "MOPRC", "mopdl": "MOPDL", "ipx": "IPX", "iso": "ISO"}
        raise FilterError(f"{names[proto]} host filtering not implemented", span)

    @staticmethod
    def atodn(text: str, span: Span) -> int:
        """__pcap_atodn: ``area.node`` (sscanf "%d.%d"), no range checks in 1.10."""
        import re
        m = re.match(r"\s*([+-]?\d+)\.([+-]?\d+)", text)
        if not m:
            raise FilterError(f"malformed decnet address '{text}'", span)
        area, node = int(m.group(1)), int(m.group(2))
        return ((area << 10) & 0xFC00) | (node & 0x3FF)

    def dnhostop(self, addr: int, direction: str | None, span: Span) -> Pred:
        """gen_dnhostop: a DECnet node in the long or short routing header,
        with or without padding."""
        swapped = ((addr & 0xFF) << 8) | ((addr >> 8) & 0xFF)   # libpcap's ntohs on x86

        def one(which: str) -> Pred:
            off_sh, off_lh = (3, 15) if which == "src" else (1, 7)
            cases = [(eq(self.pl(2), 2, 0x8106, 0xFF07), 2 + 1 + off_lh),
                     (eq(self.pl(2), 1, 0x06, 0x07), 2 + off_lh),
                     (eq(self.pl(2), 2, 0x8102, 0xFF07), 2 + 1 + off_sh),
                     (eq(self.pl(2), 1, 0x02, 0x07), 2 + off_sh)]
            # libpcap's gen_or puts each new case first
            alternatives = [all_of(test, eq(self.pl(off), 2, swapped)) for test, off in cases]
            return all_of(self.link.proto_is(ETHERTYPE_DN, span), any_of(*reversed(alternatives)))
        return self._dir_pair(direction, one, self._addr_dir_error(span))

    def _dir_pair(self, direction: str | None, make: Callable[[str], Pred],
                  bad: Callable[[str], FilterError]) -> Pred:
        if direction == "src":
            return make("src")
        if direction == "dst":
            return make("dst")
        if direction == "src and dst":
            return all_of(make("src"), make("dst"))
        if direction in (None, "src or dst"):
            return any_of(make("src"), make("dst"))
        raise bad(direction)

    def _addr_dir_error(self, span: Span) -> Callable[[str], FilterError]:
        def bad(direction: str) -> FilterError:
            text, verb = _plural(direction)
            plural = "valid qualifiers" if verb == "are" else "a valid qualifier"
            return FilterError(f"{text} {verb} not {plural} for addresses other than "
                               f"802.11 MAC addresses", span)
        return bad

    def hostop(self, addr: int, mask: int, direction: str | None, ll_proto: int,
               src_off: int, dst_off: int, span: Span) -> Pred:
        def one(which: str) -> Pred:
            off = src_off if which == "src" else dst_off
            return all_of(self.link.proto_is(ll_proto), eq(self.pl(off), 4, addr, mask))
        return self._dir_pair(direction, one, self._addr_dir_error(span))

    def gen_host6(self, addr: int, mask: int, proto: str | None, direction: str | None,
                  kind: str, span: Span) -> Pred:
        if proto in (None, "ip6"):
            def one(which: str) -> Pred:
                off = 8 if which == "src" else 24
                words = [eq(self.pl(off + 4 * i), 4, (addr >> (96 - 32 * i)) & 0xFFFFFFFF,
                            (mask >> (96 - 32 * i)) & 0xFFFFFFFF) for i in range(4)]
                return all_of(self.is_ip6(), *words)
            return self._dir_pair(direction, one, self._addr_dir_error(span))
        if proto == "link":
            raise FilterError(f"link-layer modifier applied to ip6 {kind}", span)
        if proto == "atalk":
            raise FilterError(f"AppleTalk modifier applied to ip6 {kind}", span)
        raise FilterError(f"'{proto}' modifier applied to ip6 {kind}", span)

    # ---- ports --------------------------------------------------------------------------
    def _port_dir_error(self, word: str, span: Span) -> Callable[[str], FilterError]:
        what = "ports" if word == "port" else "port ranges"

        def bad(direction: str) -> FilterError:
            text, verb = _plural(direction)
            plural = "valid qualifiers" if verb == "are" else "a valid qualifier"
            return FilterError(f"{text} {verb} not {plural} for {what}", span)
        return bad

    def _port_dirs(self, field_at: Callable[[int], Value], ranges: Ranges,
                   direction: Direction, word: str, span: Span) -> Pred:
        """A port in one of ``ranges``, on the ports ``direction`` names (one
        direction for all, or one a range: ``src port 1 or dst port 2``), the
        tests in the order libpcap's optimizer leaves a chain of ``port``
        primitives in (``pulled_up``): it decides what tcpdump decides for a
        packet too short for its destination port."""
        ranges = _ordered(ranges)
        src, dst = load(field_at(0), 2), load(field_at(2), 2)
        if direction == "src and dst":
            return all_of(*(any_of(*(range_test(f, r) for r in ranges)) for f in (src, dst)))
        directions = direction if isinstance(direction, tuple) else (direction,) * len(ranges)
        for d in directions:
            if d not in (None, "src", "dst", "src or dst"):
                raise self._port_dir_error(word, span)(d)   # type: ignore[arg-type]
        chain = [(f, r) for r, d in zip(ranges, directions)
                 for f, other in ((src, "dst"), (dst, "src")) if d != other]
        tests = [range_test(f, r) for f, r in self._in_libpcap_order(chain)]
        # distinct and plain (no constant, nothing nested or negated at the top):
        # an ``any`` as they are, without any_of's simplifications to try
        return tests[0] if len(tests) == 1 else Any(tuple(tests))    # type: ignore[arg-type]

    def gen_port(self, ranges: Ranges, ip_proto: int, direction: Direction, word: str,
                 span: Span) -> Pred:
        """gen_port/gen_portrange over IPv4 (first fragments only), for one or
        more (lo, hi) ranges: ``port 1 or port 2`` tests the headers once."""
        match = self._port_dirs(self.tran4, ranges, direction, word, span)

        def portop(proto_number: int) -> Pred:
            return all_of(eq(self.pl(9), 1, proto_number), self.ip_first_fragment(), match)
        return all_of(self.is_ip(), self._each_port_proto(ip_proto, portop))

    def gen_port6(self, ranges: Ranges, ip_proto: int, direction: Direction, word: str,
                  span: Span) -> Pred:
        match = self._port_dirs(lambda off: self.pl(40 + off), ranges, direction, word, span)  # type: ignore[arg-type,return-value]

        def portop(proto_number: int) -> Pred:
            return all_of(eq(self.pl(6), 1, proto_number), match)
        return all_of(self.is_ip6(), self._each_port_proto(ip_proto, portop))

    def ports(self, ranges: Ranges, ip_proto: int, direction: Direction, word: str,
              span: Span) -> Pred:
        """IPv4 or IPv6 packets with one of the ports in ``ranges``."""
        return any_of(self.gen_port(ranges, ip_proto, direction, word, span),
                      self.gen_port6(ranges, ip_proto, direction, word, span))

    @staticmethod
    def _each_port_proto(ip_proto: int, portop: Callable[[int], Pred]) -> Pred:
        if ip_proto == PROTO_UNDEF:
            return any_of(portop(IPPROTO_SCTP), portop(IPPROTO_TCP), portop(IPPROTO_UDP))
        return portop(ip_proto)

    # ---- names ----------------------------------------------------------------------------
    def scode(self, name: str, q: ast.Qualifiers, span: Span) -> Pred:
        """gen_scode: a name with qualifiers."""
        proto, direction, addr = q.proto, q.dir, q.addr
        if addr == "net":
            net = self.names.network(name)
            if not net:
                raise FilterError(f"unknown network '{name}'", span)
            mask = 0xFFFFFFFF
            while net and (net & 0xFF000000) == 0:
                net, mask = (net << 8) & 0xFFFFFFFF, (mask << 8) & 0xFFFFFFFF
            return self.gen_host(net, mask, proto, direction, "net", span)
        if addr in (None, "host"):
            return self.host_name(name, q, span)
        if addr == "port":
            return self.port_name(name, q, span)
        if addr == "portrange":
            return self.portrange_name(name, q, span)
        if addr == "gateway":
            # libpcap 1.10 as Debian builds it has no gateway support at all
            raise FilterError("'gateway' not supported in this configuration", span)
        if addr in ("proto", "protochain"):
            number = self.lookup_proto(name, proto, span)
            if number < 0:
                raise FilterError(f"unknown protocol: {name}", span)
            if addr == "protochain":
                return self.protochain(number, proto, span)
            if direction is not None:
                raise FilterError("direction applied to 'proto'", span)
            return self.gen_proto(number, proto, span)
        raise FilterError("can't parse filter expression: syntax error", span)

    def host_name(self, name: str, q: ast.Qualifiers, span: Span) -> Pred:
        if q.proto == "link":
            raise FilterError(f"unknown ether host '{name}'", span)
        if q.proto == "decnet":
            raise FilterError(f"decnet name support not included, '{name}' cannot be translated",
                              span)
        found: list[Pred] = []
        addresses = self.names.host(name)
        if not addresses:
            raise FilterError(f"unknown host '{name}'", span)
        for family, packed in addresses:
            if family == 2 and q.proto != "ip6":
                found.append(self.gen_host(int.from_bytes(packed, "big"), 0xFFFFFFFF, q.proto,
                                           q.dir, q.addr or "host", span))
            elif family == 10 and q.proto != "ip":
                found.append(self.gen_host6(int.from_bytes(packed, "big"), (1 << 128) - 1,
                                            q.proto, q.dir, q.addr or "host", span))
        if not found:
            suffix = "" if q.proto is None else " for specified address family"
            raise FilterError(f"unknown host '{name}'{suffix}", span)
        return any_of(*found)

    def port_name(self, name: str, q: ast.Qualifiers, span: Span) -> Pred:
        proto = q.proto
        if proto not in (None, "udp", "tcp", "sctp"):
            raise FilterError("illegal qualifier of 'port'", span)
        found = self.names.port(name)
        if found is None:
            raise FilterError(f"unknown port '{name}'", span)
        port, real = found
        real = self._refine_port_proto(name, proto, real, span)
        return self.ports(((port, port),), real, q.dir, "port", span)

    @staticmethod
    def _refine_port_proto(name: str, proto: str | None, real: int, span: Span) -> int:
        wanted = {"udp": IPPROTO_UDP, "tcp": IPPROTO_TCP, "sctp": IPPROTO_SCTP}.get(proto or "")
        if wanted is None:
            return real
        names = {IPPROTO_UDP: "udp", IPPROTO_TCP: "tcp", IPPROTO_SCTP: "sctp"}
        if real not in (PROTO_UNDEF, wanted):
            raise FilterError(f"port '{name}' is {names[real]}", span)
        return wanted

    def portrange_name(self, name: str, q: ast.Qualifiers, span: Span) -> Pred:
        """pcap_nametoportrange: ``lo-hi`` numbers (sscanf "%d-%d") or service names."""
        proto = q.proto
        if proto not in (None, "udp", "tcp", "sctp"):
            raise FilterError("illegal qualifier of 'portrange'", span)
        lo_hi = self._scan_range(name)
        real = PROTO_UNDEF
        if lo_hi is None:
            first, sep, second = name.partition("-")
            a = self.names.port(first) if sep else None
            b = self.names.port(second) if sep else None
            if a is None or b is None:
                raise FilterError(f"unknown port in range '{name}'", span)
            lo_hi = (a[0], b[0])
            real = a[1] if a[1] == b[1] else PROTO_UNDEF
        lo, hi = lo_hi
        for p in (lo, hi):
            if p < 0:
                raise FilterError(f"illegal port number {p} < 0", span)
            if p > 65535:
                raise FilterError(f"illegal port number {p} > 65535", span)
        real = self._refine_port_proto(name, proto, real, span)
        return self.ports(((lo, hi),), real, q.dir, "portrange", span)

    @staticmethod
    def _scan_range(text: str) -> tuple[int, int] | None:
        """sscanf(text, "%d-%d"): leading integers, trailing garbage ignored."""
        import re
        m = re.match(r"\s*([+-]?\d+)-\s*([+-]?\d+)", text)
        return (int(m.group(1)), int(m.group(2))) if m else None

    def lookup_proto(self, name: str, proto: str | None, span: Span) -> int:
        if proto in (None, "ip", "ip6"):
            number = self.names.protocol(name)
            if number is None:
                raise FilterError(f"unknown ip proto '{name}'", span)
            return number
        if proto == "link":
            if name in ETHER_PROTO_NAMES:
                return ETHER_PROTO_NAMES[name]
            if name in LLC_NAMES:
                return LLC_NAMES[name]
            raise FilterError(f"unknown ether proto '{name}'", span)
        if proto == "iso":
            table = {"esis": 0x82, "isis": 0x83, "clnp": 0x81}
            if name not in table:
                raise FilterError(f"unknown osi proto '{name}'", span)
            return table[name]
        return -1

    # ---- MAC addresses --------------------------------------------------------------------
    def ecode(self, op: ast.MAC, q: ast.Qualifiers) -> Pred:
        """gen_ecode: ``ether host/src/dst MAC``."""
        if q.addr in (None, "host") and q.proto == "link":
            if not self.link.is_ethernet:
                raise FilterError("ethernet addresses supported only on ethernet/FDDI/token "
                                  "ring/802.11/ATM LANE/Fibre Channel", op.span)
            return all_of(self.link.inner_ethernet(),
                          self.ether_hostop(parse_mac(op.text), q.dir, op.span))
        raise FilterError("ethernet address used in non-ether expression", op.span)

    def ether_hostop(self, mac: bytes, direction: str | None, span: Span) -> Pred:
        def one(which: str) -> Pred:
            base = at(self.link.off_linkhdr, 6 if which == "src" else 0)
            return all_of(eq(at(base, 2), 4, int.from_bytes(mac[2:], "big")),
                          eq(base, 2, int.from_bytes(mac[:2], "big")))

        def bad(direction: str) -> FilterError:
            text, verb = _plural(direction)
            return FilterError(f"{text} {verb} only supported on 802.11 with 802.11 headers", span)
        return self._dir_pair(direction, one, bad)

    # ---- arithmetic and relations ----------------------------------------------------------
    def relation(self, node: ast.Relation) -> Pred:
        """gen_relation: protocol checks of both sides first, then the comparison.

        A relation that reads ``tcp[]``/``udp[]``/``sctp[]``/``pim[]`` is
        lowered once per IP version and the two joined by ``or``: over IPv4
        the transport header is at the header length, as in libpcap (a fixed
        place the header copy can hold), over IPv6 where the extension-header
        walk puts it.  A packet is one or the other, so this is the same
        predicate as checking "IPv4 or IPv6" first and reading at one
        variable offset, with the same loads in the same order."""
        self._ip_version, self._transport_read = 4, False
        try:
            v4 = self._relation(node)
            if not self._transport_read:
                return v4
            self._ip_version = 6
            return any_of(v4, self._relation(node))
        finally:
            self._ip_version = None

    def _relation(self, node: ast.Relation) -> Pred:
        left, lchecks = self.arith(node.left)
        right, rchecks = self.arith(node.right)
        op, negated = RELATIONS[node.op]
        test = cmp(op, left, right)
        if isinstance(test, Const) and _computes(node):
            # libpcap folds arithmetic (``2 * 3``, ``x & 0``) only after its
            # branch optimization: the comparison stays in its program as a
            # test both of whose edges meet, tests before it are not skipped,
            # and only at the root does it decide "rejects all packets".  So
            # it stays a test here too (pycap.ir.cfg.decide leaves it alone;
            # the code generator emits it as one jump)
            test = Cmp(op, left, right)
        return all_of(lchecks, rchecks, negate(test) if negated else test)

    def arith(self, node: ast.Arith) -> tuple[Value, Pred]:
        if isinstance(node, ast.Const):
            return Imm(node.value), TRUE
        if isinstance(node, ast.Length):
            return self.wire_len, TRUE
        if isinstance(node, ast.Negate):
            value, checks = self.arith(node.operand)
            return alu("neg", value), checks
        if isinstance(node, ast.BinOp):
            left, lchecks = self.arith(node.left)
            # libpcap drops the right operand's protocol checks; its loads must
            # then not depend on them, so index it the libpcap way
            self._unchecked += 1
            try:
                right, _ = self.arith(node.right)
            finally:
                self._unchecked -= 1
            op = ALU_OPS[node.op]
            if op in ("div", "mod") and right == Imm(0):
                word = "division" if op == "div" else "modulus"
                raise FilterError(f"{word} by zero", node.right.span)  # type: ignore[union-attr]
            # libpcap's gen_arth keeps only the left operand's protocol checks
            return alu(op, left, right), lchecks
        if isinstance(node, ast.Index):
            return self.index(node)
        raise AssertionError(node)

    def _require_link_header(self, what: str, span: Span) -> None:
        if isinstance(self.link.off_linkhdr, int) and self.link.off_linkhdr < 0:
            raise UnsupportedFilterError(f"{what} reads the Linux cooked header, which a kernel "
                                         f"filter on -i any cannot see", span)

    def index(self, node: ast.Index) -> tuple[Value, Pred]:
        """gen_load: ``proto[offset:size]``."""
        if node.size not in (1, 2, 4):
            raise FilterError("data size must be 1, 2, or 4", node.span)
        if node.proto == "link":
            self._require_link_header("'link[...]'", node.span)
        offset, checks = self.arith(node.offset)
        proto = node.proto
        if proto == "link":
            return load(alu("add", offset, as_value(self.link.off_linkhdr)), node.size), checks
        if proto in NETWORK_INDEX:
            where = alu("add", offset, as_value(self.pl(0)))
            guard = self.proto_abbrev(proto, node.span)
            return load(where, node.size), all_of(checks, guard)
        if proto in TRANSPORT_INDEX and IP_PROTO_OF[proto][1] == "any" and \
                isinstance(self.pl(0), int) and not self._unchecked:
            return self.transport_index(proto, offset, checks, node.size)
        if proto in TRANSPORT_INDEX:
            where = alu("add", alu("add", self.ip_header_len(), offset), as_value(self.pl(0)))
            guard = self.proto_abbrev(proto, node.span)
            return load(where, node.size), all_of(guard, checks, guard, self.ip_first_fragment())
        if proto == "icmp6":
            where = alu("add", offset, as_value(self.pl(40)))
            return load(where, node.size), all_of(checks, self.is_ip6(), eq(self.pl(6), 1, 58))
        if proto in ("radio",):
            raise FilterError("'radio' is not a valid protocol type", node.span)
        if proto in ("ah", "esp", "iso", "esis", "isis", "l1", "l2", "iih", "lsp", "snp",
                     "psnp", "csnp", "clnp", "stp", "ipx", "netbeui", "aarp"):
            raise FilterError("unsupported index operation", node.span)
        raise self.unsupported(f"'{proto}[...]'", node.span)

    def transport_index(self, proto: str, offset: Value, checks: Pred,
                        size: int) -> tuple[Value, Pred]:
        """``tcp[...]``, ``udp[...]``, ``sctp[...]``, ``pim[...]`` for the IP
        version :meth:`relation` is lowering.  libpcap reads them at the IPv4
        header length even in IPv6 packets (its issue 600), so they never match
        there; pycap finds the transport header behind the IPv6 extension
        headers.  Over IPv4 the tests and loads are libpcap's."""
        number = IP_PROTO_OF[proto][0]
        base = self.pl(0)
        self._transport_read = True
        if self._ip_version == 4:
            where = (self.tran4(offset.value) if isinstance(offset, Imm)
                     else alu("add", alu("add", self.ip_header_len(), offset), as_value(base)))
            v4 = all_of(self.is_ip(), eq(self.pl(9), 1, number), self.ip_first_fragment())
            return load(where, size), all_of(v4, checks)
        # one name per (protocol, network header offset): every definition of
        # it has the same value, so repeated guards merge and facts stay true
        start = f"{proto}.l4.{base}"
        assert self._ip_version == 6, "transport indexes are lowered inside relation()"
        v6 = all_of(self.is_ip6(), Transport6(number, base, start))  # type: ignore[arg-type]
        return load(alu("add", Var(start), offset), size), all_of(v6, checks)

    # ---- keyword primitives ----------------------------------------------------------------
    def special(self, node: ast.Special) -> Pred:
        kind, span = node.kind, node.span
        if kind == "less":
            return negate(cmp("gt", self.wire_len, Imm(node.args[0])))
        if kind == "greater":
            return cmp("ge", self.wire_len, Imm(node.args[0]))
        if kind == "broadcast":
            return self.broadcast(node.proto, span)
        if kind == "multicast":
            return self.multicast(node.proto, span)
        if kind == "byte":
            return self.byteop(*node.args, span=span)
        if kind in ("inbound", "outbound"):
            return self.direction(kind == "outbound", span)
        if kind == "ifindex":
            return self.ifindex(node.args[0], span)
        if kind == "vlan":
            return self.vlan(node.args[0] if node.args else None, span)
        if kind == "mpls":
            return self.mpls(node.args[0] if node.args else None, span)
        if kind == "pppoed":
            return self.link.proto_is(ETHERTYPE_PPPOED, span)
        if kind == "pppoes":
            return self.pppoes(node.args[0] if node.args else None, span)
        if kind == "llc":
            return self.llc(node.args[0] if node.args else None, span)
        if kind == "geneve":
            return self.geneve(node.args[0] if node.args else None, span)
        if kind in ("type", "subtype", "dir"):
            raise FilterError(ieee80211_error(kind, node.args), span)
        if kind in ATM_KINDS:
            name = {"oamf4ec": "oam4ec", "oamf4sc": "oam4sc"}.get(kind, kind)   # libpcap's spelling
            raise FilterError(f"'{name}' supported only on raw ATM", span)
        if kind in MTP2_KINDS:
            where = "MTP2_HSL" if kind.startswith("h") else "MTP2"
            raise FilterError(f"'{kind}' supported only on {where}", span)
        if kind in MTP3_KINDS:
            raise FilterError(f"'{kind.removeprefix('h')}' supported only on SS7", span)
        if kind in ("ifname", "rset", "rnr", "srnr", "reason", "action"):
            names = {"ifname": "ifname", "rset": "ruleset", "rnr": "rnr", "srnr": "srnr",
                     "reason": "reason", "action": "action"}
            raise FilterError(f"{names[kind]} supported only on PF linktype", span)
        raise self.unsupported(f"'{kind}'", span)

    def vlan(self, vid: int | None, span: Span) -> Pred:
        """gen_vlan (savefile form): an 802.1Q/802.1ad/QinQ tag, optionally with
        this VLAN ID; everything lowered afterwards looks 4 bytes further."""
        if self.link.label_depth > 0:
            raise FilterError("no VLAN match after MPLS", span)
        if not self.link.is_ethernet:
            raise FilterError(f"no VLAN support for {self.link.description}", span)
        if vid is not None and vid > 0x0FFF:
            raise FilterError(f"VLAN tag {vid} greater than maximum 4095", span)
        if self.live and self.link.vlan_depth == 0:
            # Linux strips the (outer) tag on receive and keeps it in the skb:
            # test the metadata, and the frame itself stays untagged
            self.link = replace(self.link, vlan_depth=1)
            present = cmp("eq", Ctx("vlan_present"), Imm(1))
            if vid is None:
                return present
            return all_of(present, cmp("eq", alu("and", Ctx("vlan_tci"), Imm(0x0FFF)), Imm(vid)))
        tpid = any_of(self.link.proto_is(ETHERTYPE_8021Q), self.link.proto_is(ETHERTYPE_8021AD),
                      self.link.proto_is(ETHERTYPE_QINQ))
        test = tpid if vid is None else all_of(tpid, eq(self.pl(0), 2, vid, 0x0FFF))
        self.link = self.link.after_vlan()
        return test

    def mpls(self, label: int | None, span: Span) -> Pred:
        """gen_mpls: an MPLS label (stack); later primitives look past it."""
        if self.link.label_depth > 0:
            test = eq(self.pl(-2), 1, 0, 0x01)          # bottom-of-stack bit clear
        elif self.link.is_ethernet:
            test = self.link.proto_is(ETHERTYPE_MPLS)
        elif self.link.is_ppp:
            test = eq(self.link.off_linktype, 2, PPP_MPLS_UCAST)  # type: ignore[arg-type]
        else:
            raise FilterError(f"no MPLS support for {self.link.description}", span)
        if label is not None:
            if label > 0xFFFFF:
                raise FilterError(f"MPLS label {label} greater than maximum 1048575", span)
            test = all_of(test, eq(self.pl(0), 4, label << 12, 0xFFFFF000))
        self.link = self.link.after_mpls()
        return test

    def pppoes(self, session: int | None, span: Span) -> Pred:
        """gen_pppoes: a PPPoE session frame; later primitives see its PPP payload."""
        test = self.link.proto_is(ETHERTYPE_PPPOES, span)
        if session is not None:
            if session > 0xFFFF:
                raise FilterError(f"PPPoE session number {session} greater than maximum 65535",
                                  span)
            test = all_of(test, eq(self.pl(0), 4, session, 0x0000FFFF))
        self.link = self.link.after_pppoes()
        return test

    def geneve(self, vni: int | None, span: Span) -> Pred:
        """gen_geneve: UDP to port 6081 carrying Geneve version 0 (with this VNI);
        every primitive after it looks inside.  The inner offsets depend on the
        Geneve options' length and on whether an Ethernet frame follows, so they
        are computed once the test passes and kept as variables, as libpcap
        keeps them in scratch registers."""
        if vni is not None and vni > 0xFFFFFF:
            raise FilterError(f"Geneve VNI {vni} greater than maximum 16777215", span)
        self.unoptimized = True
        n = self.link.geneve_depth
        hdr = Var(f"geneve{n}.hdr")

        def check(version: int) -> Pred:
            if version == 4:
                port = self.gen_port(((GENEVE_PORT, GENEVE_PORT),), IPPROTO_UDP, "dst", "port", span)
                start = self.tran4(8)
            else:
                port = self.gen_port6(((GENEVE_PORT, GENEVE_PORT),), IPPROTO_UDP, "dst", "port", span)
                start = as_value(self.pl(48))
            tests = [port, eq(start, 1, 0, 0xC0)]
            if vni is not None:
                tests.append(eq(at(start, 4), 4, vni << 8, 0xFFFFFF00))
            return all_of(*tests, Def(hdr.name, start))

        test = any_of(check(4), check(6))
        options = alu("mul", alu("and", load(hdr, 1), Imm(0x3F)), Imm(4))
        end = alu("add", alu("add", options, Imm(8)), hdr)
        inner = self.link.after_geneve(n)
        names = (inner.off_linkhdr.name, inner.off_linktype.name, inner.off_linkpl.name)  # type: ignore[union-attr]
        ethernet = all_of(eq(at(hdr, 2), 2, ETHERTYPE_TEB),
                          Def(names[1], at(Var(names[0]), 12)), Def(names[2], at(Var(names[0]), 14)))
        bare = all_of(Def(names[1], at(hdr, 2)), Def(names[2], Var(names[0])))
        self.link = inner
        return all_of(test, Def(names[0], end), any_of(ethernet, bare))

    def llc(self, word: str | None, span: Span) -> Pred:
        """gen_llc and friends: 802.2 LLC frames, by frame format or command."""
        if not self.link.is_ethernet:
            name = "PPP" if self.link.is_ppp else self.link.description
            raise FilterError(f"'llc' not supported for {name}", span)
        llc = self.link.off_linkpl
        is_llc = all_of(self.link.is_8023(), negate(eq(llc, 2, 0xFFFF)))
        if word is None:
            return is_llc
        lower = word.lower()
        if lower == "i":
            control = negate(cmp("set", load(at(llc, 2), 1), Imm(0x01)))
        elif lower == "s":
            control = eq(at(llc, 2), 1, 0x01, 0x03)
        elif lower == "u":
            control = eq(at(llc, 2), 1, 0x03, 0x03)
        elif lower in LLC_S_SUBTYPES:
            control = eq(at(llc, 2), 1, LLC_S_SUBTYPES[lower], 0x0F)
        elif lower in LLC_U_SUBTYPES:
            control = eq(at(llc, 2), 1, LLC_U_SUBTYPES[lower], 0xEF)
        else:
            raise FilterError(f'unknown LLC type name "{word}"', span)
        return all_of(is_llc, control)

    def broadcast(self, proto: str | None, span: Span) -> Pred:
        if proto in (None, "link"):
            if not self.link.is_ethernet:
                raise FilterError("not a broadcast link", span)
            return all_of(self.link.inner_ethernet(), self.ether_hostop(b"\xff" * 6, "dst", span))
        if proto == "ip":
            hostmask = ~self.netmask & 0xFFFFFFFF
            return all_of(self.is_ip(), any_of(eq(self.pl(16), 4, 0, hostmask),
                                               eq(self.pl(16), 4, hostmask, hostmask)))
        raise FilterError("only link-layer/IP broadcast filters supported", span)

    def multicast(self, proto: str | None, span: Span) -> Pred:
        if proto in (None, "link"):
            if not self.link.is_ethernet:
                raise FilterError("link-layer multicast filters supported only on ethernet/FDDI/"
                                  "token ring/ARCNET/802.11/ATM LANE/Fibre Channel", span)
            return all_of(self.link.inner_ethernet(),
                          cmp("set", load(self.link.off_linkhdr, 1), Imm(1)))
        if proto == "ip":
            return all_of(self.is_ip(), cmp("ge", load(self.pl(16), 1), Imm(224)))
        if proto == "ip6":
            return all_of(self.is_ip6(), eq(self.pl(24), 1, 255))
        raise FilterError("only IP multicast filters supported on ethernet/FDDI/token ring/"
                          "ARCNET/802.11/ATM LANE/Fibre Channel", span)

    def byteop(self, idx: int, op: str, value: int, span: Span | None = None) -> Pred:
        self._require_link_header("'byte'", span)  # type: ignore[arg-type]
        field = load(at(self.link.off_linkhdr, idx), 1)
        if op == "=":
            return cmp("eq", field, Imm(value))
        if op == "<":
            return negate(cmp("ge", field, Imm(value)))
        if op == ">":
            return cmp("gt", field, Imm(value))
        combined = alu("or" if op == "|" else "and", field, Imm(value))
        return negate(cmp("eq", combined, Imm(0)))

    # gen_inbound and gen_ifindex look at the link type as ``pppoes`` (PPP) and
    # ``geneve`` (Ethernet) left it, not at the capture's: after them a
    # cooked header's direction and interface fields are out of reach.

    def direction(self, outbound: bool, span: Span) -> Pred:
        if self.live and (self.base.cooked_live or self.base.is_ethernet):
            test = cmp("eq", Ctx("pkt_type"), Imm(PACKET_OUTGOING))
        elif self.link.linktype is LinkType.LINUX_SLL:
            test = eq(0, 2, 4)
        elif self.link.linktype is LinkType.LINUX_SLL2:
            test = eq(10, 1, 4)
        else:
            raise self._not_in_savefiles("inbound/outbound", span)
        return test if outbound else negate(test)

    def ifindex(self, index: int, span: Span) -> Pred:
        if self.live and (self.base.cooked_live or self.base.is_ethernet):
            return cmp("eq", Ctx("ifindex"), Imm(index))
        if self.link.linktype is LinkType.LINUX_SLL2:
            return eq(4, 4, index)
        raise self._not_in_savefiles("ifindex", span)

    def _not_in_savefiles(self, what: str, span: Span) -> FilterError:
        desc = "Ethernet" if self.link.is_ethernet else self.link.description
        return FilterError(f"{what} not supported on {desc} when reading savefiles", span)


ATM_KINDS = frozenset({"lane", "metac", "bcc", "oamf4ec", "oamf4sc", "sc", "ilmic", "oam",
                       "oamf4", "connectmsg", "metaconnect", "vpi", "vci"})
MTP2_KINDS = frozenset({"fisu", "lssu", "msu", "hfisu", "hlssu", "hmsu"})
MTP3_KINDS = frozenset({"sio", "opc", "dpc", "sls", "hsio", "hopc", "hdpc", "hsls"})
IEEE80211_TYPES = {"mgt": 0x00, "management": 0x00, "ctl": 0x04, "control": 0x04, "data": 0x08}
IEEE80211_SUBTYPES = {
    0x00: ("assoc-req", "assoc-resp", "reassoc-req", "reassoc-resp", "probe-req", "probe-resp",
           "beacon", "atim", "disassoc", "auth", "deauth", "assocreq", "assocresp",
           "reassocreq", "reassocresp", "probereq", "proberesp", "disassociation",
           "authentication", "deauthentication"),
    0x04: ("ps-poll", "rts", "cts", "ack", "cf-end", "cf-end-ack"),
    0x08: ("data", "data-cf-ack", "data-cf-poll", "data-cf-ack-poll", "null", "cf-ack",
           "cf-poll", "cf-ack-poll", "qos-data", "qos-data-cf-ack", "qos-data-cf-poll",
           "qos-data-cf-ack-poll", "qos", "qos-cf-poll", "qos-cf-ack-poll"),
}


def ieee80211_error(kind: str, args: tuple) -> str:
    """The error libpcap gives for 802.11 primitives on a non-802.11 link:
    name look-ups fail first, then the link type is refused."""
    if kind == "dir":
        if isinstance(args[0], str) and args[0].lower() not in ("nods", "tods", "fromds", "dstods"):
            return "unknown 802.11 direction"
        return "frame direction supported only with 802.11 headers"
    if kind == "subtype":
        name = args[0]
        if isinstance(name, str) and not any(name.lower() in subs
                                             for subs in IEEE80211_SUBTYPES.values()):
            return "unknown 802.11 type name"
        return "802.11 link-layer types supported only on 802.11"
    type_value = args[0]
    if isinstance(type_value, str):
        if type_value.lower() not in IEEE80211_TYPES:
            return "unknown 802.11 type name"
        type_value = IEEE80211_TYPES[type_value.lower()]
    if len(args) > 1 and isinstance(args[1], str):
        if type_value not in IEEE80211_SUBTYPES:
            return "unknown 802.11 type"
        if args[1].lower() not in IEEE80211_SUBTYPES[type_value]:
            return f'unknown 802.11 subtype name "{args[1]}"'
    return "802.11 link-layer types supported only on 802.11"


def _computes(node: ast.Relation) -> bool:
    """Whether a side of the relation is arithmetic or reads the packet."""
    return any(isinstance(a, (ast.Index, ast.BinOp, ast.Negate)) for a in (node.left, node.right))


def parse_mac(text: str) -> bytes:
    """pcap_ether_aton: xx:xx:xx:xx:xx:xx, with '-' or '.' separators, or 12 hex digits."""
    digits = "".join(c for c in text if c not in ":-.")
    if len(digits) == 12 and all(c in "0123456789abcdefABCDEF" for c in digits) and \
            (":" not in text and "-" not in text and text.count(".") in (0, 2)):
        return bytes.fromhex(digits)
    parts = text.replace("-", ":").replace(".", ":").split(":")
    return bytes(int(p, 16) for p in parts)


__all__ = ["Lowerer", "Ctx"]
