"""Lowering for sk_lookup: filter AST -> IR predicate over ``struct bpf_sk_lookup``.

sk_lookup runs when the kernel looks for the socket a new TCP connection or a
UDP datagram belongs to, before the packet reaches any socket.  It sees the
5-tuple, the address family and the ingress interface — nothing else.  So
the language shrinks to:

* ``tcp``, ``udp``, ``ip``, ``ip6`` and ``[ip|ip6] proto N``;
* ``host``, ``net``, ``port``, ``portrange`` where ``src`` is the remote end
  (the client) and ``dst`` the local end (the address the client asked for);
  without a direction, either end;
* ``ifindex N``: the interface the packet came in on.

Everything else parses (it is valid pcap-filter) and is rejected here with a
caret under it: "sk_lookup cannot see ...".  Where the two languages agree,
errors keep libpcap's wording.  IR ``Ctx`` fields are the names in
:data:`pycap.bpf.sklookup.FIELDS`, valued in host order.
"""

from __future__ import annotations

import re
from typing import Callable

from pycap.errors import FilterError, Span
from pycap.filter import ast
from pycap.filter.addresses import atoin, ipv4_network, ipv6_network
from pycap.filter.names import IPPROTO_TCP, IPPROTO_UDP, PROTO_UNDEF, NameResolver
from pycap.filter.parser import parse
from pycap.ir.nodes import FALSE, TRUE, Ctx, Imm, Pred, all_of, alu, any_of, cmp, negate
from pycap.ir.walk import PrimitiveLowering
from pycap.ir.opt import optimize

AF_INET, AF_INET6 = 2, 10
REJECTS_ALL = "expression rejects all lookups"
SEES = "it sees only TCP and UDP over IPv4 and IPv6"
PROTO_NUMBERS = {"tcp": IPPROTO_TCP, "udp": IPPROTO_UDP}
FAMILIES = {"ip": AF_INET, "ip6": AF_INET6}
LINK_PROTOS = frozenset({"link", "arp", "rarp", "decnet", "atalk", "aarp", "sca", "lat",
                         "mopdl", "moprc", "stp", "ipx", "netbeui", "iso", "esis", "isis",
                         "clnp", "l1", "l2", "iih", "lsp", "snp", "psnp", "csnp", "radio"})
MASK32 = 0xFFFFFFFF


def cannot_see(what: str, span: Span | None) -> FilterError:
    return FilterError(f"sk_lookup cannot see {what}", span)


def field(name: str) -> Ctx:
    return Ctx(name)


def protocol_is(number: int) -> Pred:
    return cmp("eq", field("protocol"), Imm(number))


def family_is(family: int) -> Pred:
    return cmp("eq", field("family"), Imm(family))


class SkLookupLowerer(PrimitiveLowering):
    """Lowers one expression to a predicate over sk_lookup's context.  Hand
    ``on_primitive`` to the parser so errors come out in source order."""

    def __init__(self, names: NameResolver | None = None):
        super().__init__()
        self.names = names or NameResolver()

    def relation(self, node: ast.Relation) -> Pred:
        raise self.relation_error(node)

    # ---- protocols ------------------------------------------------------------------
    def proto_abbrev(self, proto: str, span: Span) -> Pred:
        if proto in PROTO_NUMBERS:
            return protocol_is(PROTO_NUMBERS[proto])
        if proto in FAMILIES:
            return family_is(FAMILIES[proto])
        raise cannot_see(f"'{proto}': {SEES}", span)

    def gen_proto(self, number: int, proto: str | None, span: Span) -> Pred:
        """``[ip|ip6] proto N``: only 6 and 17 can ever be seen."""
        if proto is not None and proto not in FAMILIES:
            if proto in PROTO_NUMBERS:
                raise FilterError(f"'{proto} proto' is bogus", span)
            raise cannot_see(f"'{proto}': {SEES}", span)
        if number not in PROTO_NUMBERS.values():
            raise cannot_see(f"IP protocol {number}: {SEES}", span)
        test = protocol_is(number)
        return all_of(family_is(FAMILIES[proto]), test) if proto else test

    # ---- qualified primitives ---------------------------------------------------------
    def primitive(self, node: ast.Primitive) -> Pred:
        q, op = node.qual, node.operand
        if q.addr == "<error>":
            raise FilterError("can't parse filter expression: syntax error", node.span)
        if isinstance(op, (ast.MAC, ast.ARCnet)) or q.proto == "link":
            raise cannot_see("link-layer addresses", op.span)
        if q.dir is not None and q.dir not in ("src", "dst", "src or dst", "src and dst"):
            raise cannot_see(f"802.11 addresses ('{q.dir}')", op.span)
        if q.proto in LINK_PROTOS:
            raise cannot_see(f"'{q.proto}': {SEES}", op.span)
        if q.addr == "gateway":
            raise cannot_see("link-layer addresses ('gateway')", op.span)
        if q.addr == "protochain":
            raise cannot_see("IPv6 extension headers ('protochain')", op.span)
        if q.addr in ("port", "portrange"):
            return self.port_primitive(q, op)
        if q.addr == "proto":
            return self.proto_primitive(q, op)
        return self.host_primitive(q, op)

    def proto_primitive(self, q: ast.Qualifiers, op: ast.Operand) -> Pred:
        if q.dir is not None:
            raise FilterError("direction applied to 'proto'", op.span)
        if isinstance(op, ast.Number):
            return self.gen_proto(op.value, q.proto, op.span)
        if isinstance(op, ast.Name):
            number = self.names.protocol(op.text)
            if number is None:
                raise FilterError(f"unknown ip proto '{op.text}'", op.span)
            return self.gen_proto(number, q.proto, op.span)
        raise FilterError("can't parse filter expression: syntax error", op.span)

    # ---- hosts and networks ------------------------------------------------------------
    def host_primitive(self, q: ast.Qualifiers, op: ast.Operand) -> Pred:
        kind = q.addr or "host"
        if isinstance(op, ast.IPv6):
            return self.ipv6(op, q)
        if isinstance(op, (ast.IPv4Prefix, ast.IPv4Mask)):
            return self.ipv4_prefix(op, q)
        if isinstance(op, ast.IPv4):
            value, bits = atoin(op.text, op.span)
            mask = (MASK32 << (32 - bits)) & MASK32
            return self.gen_host4((value << (32 - bits)) & MASK32, mask, q, kind, op.span)
        if isinstance(op, ast.Number):
            value, mask = op.value & MASK32, MASK32
            if kind == "net":   # libpcap: ``net 10`` is 10.0.0.0/8
                while value and (value & 0xFF000000) == 0:
                    value, mask = (value << 8) & MASK32, (mask << 8) & MASK32
            return self.gen_host4(value, mask, q, kind, op.span)
        if isinstance(op, ast.Name):
            return self.host_name(op, q, kind)
        raise FilterError("can't parse filter expression: syntax error", op.span)

    def host_name(self, op: ast.Name, q: ast.Qualifiers, kind: str) -> Pred:
        if kind == "net":
            net = self.names.network(op.text)
            if not net:
                raise FilterError(f"unknown network '{op.text}'", op.span)
            mask = MASK32
            while net and (net & 0xFF000000) == 0:
                net, mask = (net << 8) & MASK32, (mask << 8) & MASK32
            return self.gen_host4(net, mask, q, "net", op.span)
        found: list[Pred] = []
        for family, packed in self.names.host(op.text):
            value = int.from_bytes(packed, "big")
            if family == AF_INET and q.proto != "ip6":
                found.append(self.gen_host4(value, MASK32, q, kind, op.span))
            elif family == AF_INET6 and q.proto != "ip":
                found.append(self.gen_host6(value, (1 << 128) - 1, q, kind, op.span))
        if not found:
            suffix = "" if q.proto is None else " for specified address family"
            raise FilterError(f"unknown host '{op.text}'{suffix}", op.span)
        return any_of(*found)

    def ipv4_prefix(self, op: ast.IPv4Prefix | ast.IPv4Mask, q: ast.Qualifiers) -> Pred:
        value, mask = ipv4_network(op, q)
        return self.gen_host4(value, mask, q, "net", op.span)

    def ipv6(self, op: ast.IPv6, q: ast.Qualifiers) -> Pred:
        addr, mask = ipv6_network(op, q)
        return self.gen_host6(addr, mask, q, q.addr or "host", op.span)

    def gen_host4(self, value: int, mask: int, q: ast.Qualifiers, kind: str, span: Span) -> Pred:
        if q.proto == "ip6":
            raise FilterError(f"'ip6' modifier applied to ip {kind}", span)
        if q.proto not in (None, "ip"):
            raise FilterError(f"'{q.proto}' modifier applied to {kind}", span)

        def one(end: str) -> Pred:
            word = field(f"{end}_ip4")
            test = cmp("eq", word if mask == MASK32 else alu("and", word, Imm(mask)), Imm(value))
            return TRUE if mask == 0 else test
        return all_of(family_is(AF_INET), _ends(q.dir, one))

    def gen_host6(self, value: int, mask: int, q: ast.Qualifiers, kind: str, span: Span) -> Pred:
        if q.proto not in (None, "ip6"):
            raise FilterError(f"'{q.proto}' modifier applied to ip6 {kind}", span)

        def one(end: str) -> Pred:
            tests = []
            for i in range(4):
                word_mask = (mask >> (96 - 32 * i)) & MASK32
                word_value = (value >> (96 - 32 * i)) & MASK32
                if word_mask == 0:
                    continue
                word = field(f"{end}_ip6[{i}]")
                if word_mask != MASK32:
                    word = alu("and", word, Imm(word_mask))
                tests.append(cmp("eq", word, Imm(word_value)))
            return all_of(*tests)
        return all_of(family_is(AF_INET6), _ends(q.dir, one))

    # ---- ports ---------------------------------------------------------------------------
    def port_primitive(self, q: ast.Qualifiers, op: ast.Operand) -> Pred:
        word = q.addr
        assert word is not None
        if q.proto == "sctp":
            raise cannot_see(f"'sctp': {SEES}", op.span)
        if q.proto not in (None, "tcp", "udp"):
            raise FilterError(f"illegal qualifier of '{word}'", op.span)
        if isinstance(op, (ast.IPv4, ast.IPv4Prefix, ast.IPv4Mask)):
            raise FilterError(f"'{word}' modifier applied to ip host", op.span)
        if isinstance(op, ast.IPv6):
            raise FilterError("invalid qualifier against IPv6 address", op.span)
        real = PROTO_UNDEF
        if isinstance(op, ast.Number):
            lo = hi = op.value
        elif isinstance(op, ast.Name) and word == "port":
            found = self.names.port(op.text)
            if found is None:
                raise FilterError(f"unknown port '{op.text}'", op.span)
            (lo, real), hi = found, found[0]
        elif isinstance(op, ast.Name):
            lo, hi, real = self.port_range(op)
        else:
            raise FilterError("can't parse filter expression: syntax error", op.span)
        for port in (lo, hi):
            if port < 0:
                raise FilterError(f"illegal port number {port} < 0", op.span)
            if port > 65535:
                raise FilterError(f"illegal port number {port} > 65535", op.span)
        proto = _refine_proto(op, q.proto, real)
        lo, hi = min(lo, hi), max(lo, hi)

        def one(end: str) -> Pred:
            port = field(f"{end}_port")
            if lo == hi:
                return cmp("eq", port, Imm(lo))
            return all_of(cmp("ge", port, Imm(lo)), negate(cmp("gt", port, Imm(hi))))
        test = _ends(q.dir, one)
        return test if proto == PROTO_UNDEF else all_of(protocol_is(proto), test)

    def port_range(self, op: ast.Name) -> tuple[int, int, int]:
        """pcap_nametoportrange: ``lo-hi`` numbers or service names."""
        m = re.match(r"\s*([+-]?\d+)-\s*([+-]?\d+)", op.text)
        if m:
            return int(m.group(1)), int(m.group(2)), PROTO_UNDEF
        first, sep, second = op.text.partition("-")
        a = self.names.port(first) if sep else None
        b = self.names.port(second) if sep else None
        if a is None or b is None:
            raise FilterError(f"unknown port in range '{op.text}'", op.span)
        return a[0], b[0], (a[1] if a[1] == b[1] else PROTO_UNDEF)

    # ---- keywords ---------------------------------------------------------------------------
    def special(self, node: ast.Special) -> Pred:
        kind, span = node.kind, node.span
        if kind == "ifindex":
            return cmp("eq", field("ingress_ifindex"), Imm(node.args[0]))
        if kind in ("less", "greater"):
            raise cannot_see(f"the packet length ('{kind}')", span)
        if kind == "byte":
            raise cannot_see("packet contents ('byte')", span)
        if kind in ("inbound", "outbound"):
            raise cannot_see(f"a direction ('{kind}'): every lookup is for an incoming packet",
                             span)
        if kind in ("vlan", "mpls", "pppoes", "pppoed", "geneve", "llc"):
            raise cannot_see(f"encapsulations ('{kind}')", span)
        if kind in ("broadcast", "multicast"):
            raise cannot_see(f"'{kind}': it runs for unicast TCP and UDP lookups only", span)
        raise cannot_see(f"'{kind}': {SEES}", span)

    @staticmethod
    def relation_error(node: ast.Relation) -> FilterError:
        found = _first_arith(node.left) or _first_arith(node.right)
        if isinstance(found, ast.Index):
            return cannot_see(f"packet contents ('{found.proto}[...]')", found.span)
        if isinstance(found, ast.Length):
            return cannot_see("the packet length ('len')", found.span)
        return cannot_see("arithmetic relations, only addresses, ports, protocol and "
                          "interface", node.span)


def _ends(direction: str | None, one: Callable[[str], Pred]) -> Pred:
    """``src`` is the remote end, ``dst`` the local one."""
    if direction == "src":
        return one("remote")
    if direction == "dst":
        return one("local")
    if direction == "src and dst":
        return all_of(one("remote"), one("local"))
    return any_of(one("remote"), one("local"))


def _refine_proto(op: ast.Operand, proto: str | None, real: int) -> int:
    wanted = PROTO_NUMBERS.get(proto or "")
    if wanted is None:
        return real
    if real not in (PROTO_UNDEF, wanted):
        names = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp"}
        text = op.text if isinstance(op, ast.Name) else str(op)
        raise FilterError(f"port '{text}' is {names.get(real, 'sctp')}", op.span)
    return wanted


def _first_arith(node: ast.Arith) -> ast.Arith | None:
    if isinstance(node, (ast.Index, ast.Length)):
        return node
    if isinstance(node, ast.BinOp):
        return _first_arith(node.left) or _first_arith(node.right)
    if isinstance(node, ast.Negate):
        return _first_arith(node.operand)
    return None


def lower_expression(expression: str, names: NameResolver | None = None) -> Pred:
    """Parse and lower one sk_lookup expression; FilterError with a caret on error."""
    lowerer = SkLookupLowerer(names)
    try:
        tree = parse(expression, on_primitive=lowerer.on_primitive)
        predicate = optimize(lowerer.lower(tree))
    except FilterError as err:
        raise err.with_source(expression) from None
    if predicate == FALSE:
        raise FilterError(REJECTS_ALL).with_source(expression)
    return predicate
