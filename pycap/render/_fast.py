"""The fast path: whole lines for the commonest packets in one function call.

For the default mode (no ``-v``, ``-e`` or ``-q``), an Ethernet or raw-IP
frame carrying TCP, UDP, ICMP echo, ICMPv6 echo/ND or ARP request/reply is
formatted here with a few ``struct`` unpacks and one ``%`` per line, without
the per-packet context, the bounds-checked accessors and the output list of
the general printers in ``_dissect``.  Address/port texts and TCP table keys
are cached per flow.  Application payloads (DNS, HTTP, SSH banners, ...) are
still printed by ``_dissect``'s printers, handed the line so far; so are the
other protocols over an unfragmented IPv4 datagram (GRE, PIM, OSPF, ...) and
the other ethertypes (PTP, AoE, LLDP, ...), once this module has done the
header work the general path would repeat.

Every function returns the text tcpdump prints, or ``None`` as soon as
anything is unusual (truncation, bad lengths, fragments, extension headers,
TCP options other than the common ones).  ``None`` means "ask the general
printer", so nothing may change state before the answer is certain: the TCP
sequence table is written only once the header line is settled.  When an
application printer runs off the data, the text comes back as ``Cut`` (a
``str``) so the caller knows the link header length no longer applies, as on
the general path.  tests/test_render.py checks that whatever this module
returns is exactly what ``_dissect`` prints.
"""

from __future__ import annotations

import struct
from functools import partial

from . import _dissect as D

__all__ = ["ether", "raw", "ip4", "ip6", "Cut"]

_IP4 = struct.Struct("!BxHxxHBB").unpack_from         # version/hlen, length, offset, ttl, protocol
_TCP = struct.Struct("!4xIIBBH2xH").unpack_from       # seq, ack, offset, flags, window, urgent
_HH = struct.Struct("!HH").unpack_from
_II = struct.Struct("!II").unpack_from
_ARP = struct.Struct("!HHBBH6s4s6s4s").unpack_from
_FLAGS = tuple(D._FLAG_STR)
U32 = 0xFFFFFFFF

_Ctx = D.Ctx
_Trunc = D.Trunc
_ETHERTYPE_PRINTERS = D._ETHERTYPE_PRINTERS
# lengths (802.3), jumbo frames and VLAN tags take ether_print()'s long way
_ETHERTYPE_SPECIAL = frozenset(t for t in _ETHERTYPE_PRINTERS if t <= 1500 or t == 0x8870
                               or t in D.VLAN_TYPES)


class Cut(str):
    """A line that ended in `` [|proto]`` or `` [|pycap: malformed]``."""

    __slots__ = ()


def _app(c, printer, *args):
    """Run an application printer the way Renderer._render runs the general path."""
    try:
        if printer(c, *args) is False:
            return None
    except _Trunc:
        c.o.append(" [|%s]" % c.proto)
        return Cut("".join(c.o))
    except Exception:  # noqa: BLE001 - as on the general path: never raise
        c.o.append(" [|pycap: malformed]")
        return Cut("".join(c.o))
    return "".join(c.o)


def _udp_nfs_app(sport, dport, c, cp, length):
    """A flow on the NFS port: udp_print()'s NFS test comes before the port printers."""
    return D._udp_nfs(c, cp, sport, dport, length) or D.udp_app(c, cp, length, sport, dport)


def _ip_addrs(flow):
    """The (source, destination) address bytes of a flow (its TCP key is in canonical order)."""
    key = flow[1]
    return (key[1], key[0]) if flow[2] else (key[0], key[1])


def _tcp_options(d, cp, end, rev, thseq, thack, flags, ipend, st):
    """The options text of D._tcp_options_fast, or None for anything else."""
    parts = []
    while cp < end:
        opt = d[cp]
        if opt == 1:
            parts.append("nop")
            cp += 1
            continue
        if opt == 0:
            parts.append("eol")
            break
        if cp + 1 >= end:
            return None
        ln = d[cp + 1]
        if cp + ln > end:
            return None
        if opt == 8 and ln == 10:
            parts.append("TS val %u ecr %u" % _II(d, cp + 2))
        elif opt == 2 and ln == 4:
            parts.append("mss %u" % ((d[cp + 2] << 8) | d[cp + 3]))
        elif opt == 3 and ln == 3:
            parts.append("wscale %u" % d[cp + 2])
        elif opt == 4 and ln == 2:
            parts.append("sackOK")
        elif opt == 5 and ln >= 2 and (ln - 2) % 8 == 0:
            base = thseq if rev else thack
            blocks = []
            for i in range(cp + 2, cp + ln, 8):
                s_, e_ = _II(d, i)
                blocks.append("{%u:%u}" % ((s_ - base) & U32, (e_ - base) & U32))
            parts.append("sack %u %s" % ((ln - 2) // 8, "".join(blocks)))
        elif opt == 30 and ln >= 3:
            c = D.Ctx(d, ipend, 0, False, 0, None, False)
            c.names = st.names
            c.o = ["mptcp"]
            try:
                if not D._mptcp_print(c, cp, ln, flags):
                    return None
            except D.Trunc:
                return None
            parts.append("".join(c.o))
        else:
            return None
        cp += ln
    return ", options [" + ",".join(parts) + "]"


class State:
    """What the fast path keeps for one Renderer: the TCP sequence table it
    shares with the general printers, -x's suppression of the default
    dump, the names (None with -n), and its caches: per flow (address and
    port bytes -> head, TCP key, reversed?, TCP application printer, UDP
    application printer or None, sport, dport), one for TCP and one for UDP
    (the same one with -n, where the head does not depend on the protocol),
    and the "eth0  In  " prefix of Linux cooked v2 per interface and type."""

    __slots__ = ("tcp", "supp", "names", "tflows", "uflows", "sll2")

    def __init__(self, tcp: dict, supp: bool = False, names=None):
        self.tcp = tcp
        self.supp = supp
        self.names = names
        self.tflows: dict = {}
        self.uflows: dict = self.tflows if names is None else {}
        self.sll2: dict = {}


def _ctx(d, end, st):
    """A general printers' context for an application printer the fast path hands over to."""
    c = _Ctx(d, end, 0, False, 0, st.tcp, st.supp)
    c.names = st.names
    return c


def _mac(st, packed):
    return packed.hex(":") if st.names is None else st.names.ether(packed)


_v4, _v6 = D.ipaddr_bytes, D.ip6addr_bytes    # (st, packed): named when st.names is set


def _flow(fk, six, st, udp):
    """The "IP a.p > b.q: " text and the TCP sequence-table key for a flow."""
    flows = st.uflows if udp else st.tflows
    if len(flows) >= 8192:
        flows.clear()
    if six:
        src, dst = fk[:16], fk[16:32]
        sport, dport = _HH(fk, 32)
        ip, addr = "IP6", _v6
    else:
        src, dst = fk[:4], fk[4:8]
        sport, dport = _HH(fk, 8)
        ip, addr = "IP", _v4
    names = st.names
    port = str if names is None else names.udp_port if udp else names.tcp_port
    head = "%s %s.%s > %s.%s: " % (ip, addr(st, src), port(sport), addr(st, dst), port(dport))
    # tcp_print() keys its table on the (address, port) pairs in a canonical order
    tapp = D.tcp_app_printer(sport, dport)
    uapp = (partial(_udp_nfs_app, sport, dport) if sport == 2049 or dport == 2049 else
            D.udp_app_printer(sport, dport))
    if sport > dport or (sport == dport and src > dst):
        f = (head, (dst, src, (dport << 16) | sport), 1, tapp, uapp, sport, dport)
    else:
        f = (head, (src, dst, (sport << 16) | dport), 0, tapp, uapp, sport, dport)
    flows[fk] = f
    return f


def _tcp(d, bp, end, ln, flow, st):
    """tcp_print() after the addresses."""
    if bp + 20 > end:
        return None
    seq, ack, offx, flags, win, urp = _TCP(d, bp)
    hlen = (offx >> 4) << 2
    if hlen < 20 or hlen > ln:
        return None
    length = ln - hlen
    head, key, rev, tapp = flow[0], flow[1], flow[2], length and flow[3]
    if hlen > 20 and bp + hlen > end:
        return None
    th = None
    thseq = thack = 0
    tcp = st.tcp
    if flags & 0x10:
        th = tcp.get(key)
        if th is None or flags & 0x02:
            th = [(ack - 1) & U32, seq] if rev else [seq, (ack - 1) & U32]
        else:
            key = None   # nothing to store
            if rev:
                seq = (seq - th[1]) & U32
                ack = (ack - th[0]) & U32
            else:
                seq = (seq - th[0]) & U32
                ack = (ack - th[1]) & U32
        thseq, thack = th
    else:
        key = None
    # nop,nop,timestamp: the options of nearly every segment of a modern connection
    tsopt = hlen == 32 and d[bp + 20:bp + 24] == b"\x01\x01\x08\x0a"
    if tsopt:
        tsval, tsecr = _II(d, bp + 24)
        opts = ""
    elif hlen > 20:
        opts = _tcp_options(d, bp + 20, bp + hlen, rev, thseq, thack, flags, end, st)
        if opts is None:
            return None
    else:
        opts = ""
    if key is not None:
        tcp[key] = th
    if (flags & 0x27) == 0x00 and th is not None and not tapp:   # plain ACK: one format
        if tsopt:
            if length:
                return ("%sFlags [%s], seq %u:%u, ack %u, win %u, options [nop,nop,TS val %u ecr %u], "
                        "length %u" % (head, _FLAGS[flags], seq, (seq + length) & U32, ack, win,
                                       tsval, tsecr, length))
            return "%sFlags [%s], ack %u, win %u, options [nop,nop,TS val %u ecr %u], length 0" % (
                head, _FLAGS[flags], ack, win, tsval, tsecr)
        if length:
            return "%sFlags [%s], seq %u:%u, ack %u, win %u%s, length %u" % (
                head, _FLAGS[flags], seq, (seq + length) & U32, ack, win, opts, length)
        return "%sFlags [%s], ack %u, win %u%s, length 0" % (head, _FLAGS[flags], ack, win, opts)
    if tsopt:
        opts = ", options [nop,nop,TS val %u ecr %u]" % (tsval, tsecr)
    if length:
        if flags & 0x10:
            mid = ", seq %u:%u, ack %u, win %u" % (seq, (seq + length) & U32, ack, win)
        else:
            mid = ", seq %u:%u, win %u" % (seq, (seq + length) & U32, win)
    elif flags & 0x07:
        if flags & 0x10:
            mid = ", seq %u, ack %u, win %u" % (seq, ack, win)
        else:
            mid = ", seq %u, win %u" % (seq, win)
    elif flags & 0x10:
        mid = ", ack %u, win %u" % (ack, win)
    else:
        mid = ", win %u" % win
    if flags & 0x20:
        mid += ", urg %u" % urp
    text = "%sFlags [%s]%s%s, length %u" % (head, _FLAGS[flags], mid, opts, length)
    if not tapp:
        return text
    c = _ctx(d, end, st)
    c.o.append(text)
    c.proto = "tcp"
    c.ipaddrs = _ip_addrs(flow)
    return _app(c, tapp, bp + hlen, length, flow[5], flow[6])


def _udp(d, bp, end, ln, flow, st):
    """udp_print() after the addresses (the header is captured, ln >= 8)."""
    ulen = ((d[bp + 4] << 8) | d[bp + 5]) - 8
    if ulen < 0:
        return None
    length = ln - 8
    if flow[4] is not None:
        c = _ctx(d, end, st)
        c.o.append(flow[0])
        c.proto = "udp"
        c.ipaddrs = _ip_addrs(flow)
        text = _app(c, flow[4], bp + 8, ulen if ulen < length else length)
        if text is not None:
            return text
    if ulen > length:
        return "%sUDP, bad length %u > %u" % (flow[0], ulen, length)
    return "%sUDP, length %u" % (flow[0], ulen)


_OWN_ADDRESSES = frozenset((132, 33))     # SCTP, DCCP: their printers write the addresses


def ip4(d, p, caplen, length, st):
    """ip_print() for an unfragmented IPv4 datagram: TCP, UDP and ICMP echo here,
    other protocols by _dissect's demultiplexer after the addresses."""
    if p + 20 > caplen or length < 20 or d[p + 9] in _OWN_ADDRESSES:
        return None
    vb, ip_len, off, ttl, nh = _IP4(d, p)
    hlen = (vb & 0x0F) << 2
    if (vb & 0xF0) != 0x40 or hlen < 20 or ip_len > length or ip_len < hlen or off & 0x3FFF:
        return None
    end = p + ip_len
    if end > caplen:
        end = caplen
    bp = p + hlen
    if bp > end:
        return None
    ln = ip_len - hlen
    if nh == 6:
        if bp + 4 > end:
            return None
        fk = d[p + 12:p + 20] + d[bp:bp + 4] if hlen != 20 else d[p + 12:p + 24]
        flow = st.tflows.get(fk)
        if flow is None:
            flow = _flow(fk, False, st, False)
        return _tcp(d, bp, end, ln, flow, st)
    if nh == 17:
        if bp + 8 > end or ln < 8:
            return None
        fk = d[p + 12:p + 20] + d[bp:bp + 4] if hlen != 20 else d[p + 12:p + 24]
        flow = st.uflows.get(fk)
        if flow is None:
            flow = _flow(fk, False, st, True)
        return _udp(d, bp, end, ln, flow, st)
    if nh == 1:
        if bp + 8 > end:
            return None
        t = d[bp]
        if t == 8 or t == 0:
            i, s = _HH(d, bp + 4)
            return "IP %s > %s: ICMP echo %s, id %u, seq %u, length %u" % (
                _v4(st, d[p + 12:p + 16]), _v4(st, d[p + 16:p + 20]), "request" if t else "reply",
                i, s, ln)
    c = _ctx(d, end, st)
    c.o.append("IP %s > %s: " % (_v4(st, d[p + 12:p + 16]), _v4(st, d[p + 16:p + 20])))
    c.proto = "ip"
    return _app(c, D.ip_demux_print, bp, ln, 4, 0, ttl, nh, p)


_ICMP6 = {128: ", echo request", 129: ", echo reply", 133: ", router solicitation",
          135: ", neighbor solicitation", 136: ", neighbor advertisement"}


def ip6(d, p, caplen, length, st):
    """ip6_print() for IPv6 without extension headers carrying TCP, UDP or common ICMPv6."""
    if p + 40 > caplen or length < 40 or (d[p] & 0xF0) != 0x60:
        return None
    ln = (d[p + 4] << 8) | d[p + 5]
    if ln == 0 or ln + 40 > length:
        return None
    end = p + 40 + ln
    if end > caplen:
        end = caplen
    nh = d[p + 6]
    bp = p + 40
    if nh == 6:
        if bp + 4 > end:
            return None
        fk = d[p + 8:bp + 4]
        flow = st.tflows.get(fk)
        if flow is None:
            flow = _flow(fk, True, st, False)
        return _tcp(d, bp, end, ln, flow, st)
    if nh == 17:
        if bp + 8 > end or ln < 8:
            return None
        fk = d[p + 8:bp + 4]
        flow = st.uflows.get(fk)
        if flow is None:
            flow = _flow(fk, True, st, True)
        return _udp(d, bp, end, ln, flow, st)
    if nh == 58:
        if bp + 8 > end:
            return None
        t = d[bp]
        name = _ICMP6.get(t)
        if name is None:
            return None
        if t == 128 or t == 129:
            i, s = _HH(d, bp + 4)
            name += ", id %u, seq %u" % (i, s)
        elif t != 133:
            if bp + 24 > end:
                return None
            name += (", who has %s" if t == 135 else ", tgt is %s") % _v6(st, d[bp + 8:bp + 24])
        return "IP6 %s > %s: ICMP6%s, length %u" % (_v6(st, d[p + 8:p + 24]),
                                                    _v6(st, d[p + 24:bp]), name, ln)
    return None


def arp(d, p, caplen, length, st):
    """arp_print() for Ethernet/IPv4 requests and replies."""
    if p + 28 > caplen:
        return None
    hrd, pro, hln, pln, op, sha, spa, tha, tpa = _ARP(d, p)
    if hln != 6 or pln != 4 or (pro != 0x0800 and pro != 0x1000) or hrd == 19:
        return None
    if op == 1:
        if any(tha):
            return "ARP, Request who-has %s (%s) tell %s, length %u" % (
                _v4(st, tpa), _mac(st, tha), _v4(st, spa), length)
        return "ARP, Request who-has %s tell %s, length %u" % (_v4(st, tpa), _v4(st, spa), length)
    if op == 2:
        return "ARP, Reply %s is-at %s, length %u" % (_v4(st, spa), _mac(st, sha), length)
    return None


def ether(d, caplen, wire_len, st):
    """ether_print() for IPv4, IPv6 and ARP frames without VLAN tags; other
    ethertypes tcpdump has a printer for go straight to that printer."""
    if caplen < 34 or wire_len < 14:
        return None
    t = (d[12] << 8) | d[13]
    if t == 0x0800:
        return ip4(d, 14, caplen, wire_len - 14, st)
    if t == 0x86DD:
        return ip6(d, 14, caplen, wire_len - 14, st)
    if t == 0x0806:
        return arp(d, 14, caplen, wire_len - 14, st)
    printer = _ETHERTYPE_PRINTERS.get(t)
    if printer is None or t in _ETHERTYPE_SPECIAL:
        return None
    c = _ctx(d, caplen, st)
    c.proto = "ether"
    c.llsrc = 6
    return _app(c, printer, t, 14, wire_len - 14, caplen - 14)


def raw(d, caplen, wire_len, st):
    """raw_if_print()/ipN_print(): IPv4 or IPv6 from byte 0."""
    v = d[0] & 0xF0
    if v == 0x40:
        return ip4(d, 0, caplen, wire_len, st)
    if v == 0x60:
        return ip6(d, 0, caplen, wire_len, st)
    return None


def _l3(d, p, caplen, length, st, t):
    if t == 0x0800:
        return ip4(d, p, caplen, length, st)
    if t == 0x86DD:
        return ip6(d, p, caplen, length, st)
    if t == 0x0806:
        return arp(d, p, caplen, length, st)
    return None


def sll(d, caplen, wire_len, st):
    """sll_if_print(): Linux cooked v1 prints nothing of its header by default."""
    if caplen < 36 or wire_len < 16 or d[2:4] == b"\x03\x23":      # 803: radiotap
        return None
    return _l3(d, 16, caplen, wire_len - 16, st, (d[14] << 8) | d[15])


def sll2(d, caplen, wire_len, st):
    """sll2_if_print(): "eth0  In  " then the packet (what ``-i any`` captures)."""
    if caplen < 40 or wire_len < 20 or d[8:10] == b"\x03\x23":
        return None
    text = _l3(d, 20, caplen, wire_len - 20, st, (d[0] << 8) | d[1])
    if text is None:
        return None
    key = d[4:8] + d[10:11]
    prefixes = st.sll2
    prefix = prefixes.get(key)
    if prefix is None:
        if len(prefixes) > 1024:
            prefixes.clear()
        prefix = prefixes[key] = "%-5s %-3s " % (
            D.ifname(int.from_bytes(d[4:8], "big")), D.T.SLL_PKTTYPES.get(d[10], "?"))
    if type(text) is Cut:
        return Cut(prefix + text)
    return prefix + text
