"""Packet dissectors that print what tcpdump 4.99 prints, written with plain
byte indexing and ``struct`` (no scapy on this path).

The structure follows tcpdump's printers closely on purpose: each function is
named after the tcpdump routine it mirrors, appends text to ``c.o`` and reads
the packet only through the bounds-checked accessors below, so that running
off the captured data ends the line with `` [|proto]`` exactly where tcpdump
would.  ``Trunc`` plays the part of tcpdump's ``longjmp`` to the top level.
"""

from __future__ import annotations

import socket
import struct
from functools import partial

from . import _tables as T
from .names import OUI_NAMES
from .hexdump import hex_ascii_lines, hex_lines

_inet_ntop = socket.inet_ntop
_AF6 = socket.AF_INET6
_inet_ntoa = socket.inet_ntoa

_S_HH = struct.Struct("!HH")
_S_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_S_TCP = struct.Struct("!HHIIBBHHH")
_S_I = struct.Struct("!I")
_S_H = struct.Struct("!H")

MAXIMUM_SNAPLEN = 262144
U32 = 0xFFFFFFFF


class Trunc(Exception):
    """The packet ended before a printer was done with it (tcpdump's longjmp)."""


class Ctx:
    """Per-packet printing state (tcpdump's netdissect_options, roughly)."""

    __slots__ = ("d", "end", "o", "proto", "v", "e", "q", "tcp", "llhdr", "suppress_default",
                 "generic", "llsrc", "ipaddrs", "k", "absolute", "names", "u", "secret")

    def __init__(self, d, end, v, e, q, tcp, suppress_default):
        self.d = d
        self.end = end
        self.o = []
        self.proto = ""
        self.v = v
        self.e = e
        self.q = q
        self.tcp = tcp
        self.llhdr = 0
        self.suppress_default = suppress_default
        self.generic = None          # set by generic_print(): a protocol pycap only names
        self.llsrc = None            # offset of the link-layer source address (ethertype printers)
        self.ipaddrs = None          # (source, destination) address bytes, for NFS's xid map
        self.k = False               # -K: no checksum checks (IP, TCP, UDP, as tcpdump's Kflag)
        self.absolute = False        # -S: absolute TCP sequence numbers
        self.names = None            # names.Names without -n; None prints numbers
        self.u = False               # -u: NFS file handles as words, undecoded
        self.secret = None           # -M: the TCP-MD5 shared secret (bytes)


# --------------------------------------------------------------------------
# bounds-checked accessors (tcpdump's GET_* macros)

def g8(c, o):
    if o < 0 or o >= c.end:
        raise Trunc
    return c.d[o]


def g16(c, o):
    if o < 0 or o + 2 > c.end:
        raise Trunc
    d = c.d
    return (d[o] << 8) | d[o + 1]


def g32(c, o):
    if o < 0 or o + 4 > c.end:
        raise Trunc
    return int.from_bytes(c.d[o:o + 4], "big")


def need(c, o, n):
    if o < 0 or o + n > c.end:
        raise Trunc


def tt(c, o, n):
    return o >= 0 and o + n <= c.end


def avail(c, o):
    n = c.end - o
    return n if n > 0 else 0


def trunc(c):
    c.o.append(" [|%s]" % c.proto)


def invalid_rest(c, p, n):
    """tcpdump's ``invalid:`` label: " (invalid)", then the rest (``n``
    bytes at ``p``) checked as captured (ND_TCHECK_LEN: Trunc if not)."""
    c.o.append(" (invalid)")
    need(c, p, n)


def run_state(c, key, factory):
    """A printer's state for the rest of the run (NFS's XID map, ISAKMP's
    cookies), kept under ``key`` beside the TCP sequence table, which lives
    as long as the run and is reset with it."""
    state = c.tcp.get(key)
    if state is None:
        state = c.tcp[key] = factory()
    return state


def ipaddr_bytes(c, packed):
    """ipaddr_string() of address bytes already read: named without -n
    (``c`` is anything with ``names``, a Ctx or the fast path's State)."""
    return _inet_ntoa(packed) if c.names is None else c.names.ipv4(packed)


def ip6addr_bytes(c, packed):
    """ip6addr_string() of address bytes already read."""
    return _inet_ntop(_AF6, packed) if c.names is None else c.names.ipv6(packed)


def ipaddr(c, o):
    need(c, o, 4)
    return ipaddr_bytes(c, c.d[o:o + 4])


def ip6addr(c, o):
    need(c, o, 16)
    return ip6addr_bytes(c, c.d[o:o + 16])


def ipaddr_numeric(c, o):
    """An IPv4 address that tcpdump prints as a number even without -n (intoa())."""
    need(c, o, 4)
    return _inet_ntoa(c.d[o:o + 4])


def ipproto_name(c, nh):
    """" ip-proto-N", or without -n netdb_protoname()'s " NAME" (tcpdump's
    own table, not /etc/protocols)."""
    name = None if c.names is None else T.NETDB_PROTONAMES.get(nh)
    return " ip-proto-%u" % nh if name is None else " " + name


def etheraddr(c, o):
    need(c, o, 6)
    if c.names is not None:
        return c.names.ether(c.d[o:o + 6])
    return c.d[o:o + 6].hex(":")


def tcpport(c, port):
    """tcpport_string(): a TCP port's service name without -n."""
    return "%u" % port if c.names is None else c.names.tcp_port(port)


def udpport(c, port):
    """udpport_string()."""
    return "%u" % port if c.names is None else c.names.udp_port(port)


def linkaddr(c, o, n):
    """linkaddr_string() of an Ethernet-type address: six bytes are an
    Ethernet address (named without -n)."""
    need(c, o, n)
    if n == 0:
        return "<empty>"
    if n == 6:
        return etheraddr(c, o)
    return c.d[o:o + n].hex(":")


def bittok_nosep(table, default, v):
    s = "".join([name for bit, name in table if v & bit])
    return s if s else default


def bittok(table, default, v):
    s = ", ".join([name for bit, name in table if v & bit])
    return s if s else default


def cksum_sum(buf):
    """One's-complement sum (not complemented) of ``buf`` as big-endian words."""
    if len(buf) & 1:
        buf = buf + b"\0"
    s = sum(struct.unpack("!%dH" % (len(buf) // 2), buf))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def in_cksum(*bufs):
    s = 0
    for b in bufs:
        s += cksum_sum(b)
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def cksum_shouldbe(field, computed):
    s = field + computed
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return s & 0xFFFF


# --------------------------------------------------------------------------
# hex / ascii helpers (print-ascii.c)

def hex_and_ascii(c, ident, o, length, oset=0):
    """hex_and_ascii_print(); raises Trunc (after printing) if cut short."""
    _dump(c, hex_ascii_lines, ident, o, length, oset)


def hex_print(c, ident, o, length, oset=0):
    """hex_print(); raises Trunc (after printing) if cut short."""
    _dump(c, hex_lines, ident, o, length, oset)


def _dump(c, lines, ident, o, length, oset):
    have = avail(c, o)
    if length > 0:
        c.o.append(lines(c.d[o:o + min(length, have)], ident, oset))
    if length > have:
        raise Trunc


def default_print(c, o, length):
    if not c.suppress_default:
        hex_and_ascii(c, "\n\t", o, length)


def print_unknown_data(c, o, ident, length):
    """print_unknown_data(): hex only; "[|proto]" style marker if it is not all captured."""
    if length < 0:
        c.o.append("%sDissector error: print_unknown_data called with negative length" % ident)
        return
    if not tt(c, o, length):
        c.o.append("%spacket exceeded snapshot" % ident)
        return
    hex_print(c, ident, o, length)


def fn_print_char(ch):
    if ch > 0x7F:
        s = "M-"
        ch &= 0x7F
    else:
        s = ""
    if ch < 0x20 or ch == 0x7F:
        return s + "^" + chr(ch ^ 0x40)
    return s + chr(ch)


# fn_print_char() of every byte that it does not print as itself
_FN_PRINT = {ch: fn_print_char(ch) for ch in range(256) if fn_print_char(ch) != chr(ch)}


def fn_print_bytes(b):
    """fn_print_char() over a whole byte string, in one call."""
    return b.decode("latin-1").translate(_FN_PRINT)


def nd_printn(c, o, n):
    """nd_printn(): print n chars safely; Trunc if they run off the capture."""
    have = min(n, avail(c, o))
    c.o.append(fn_print_bytes(c.d[o:o + have]))
    if have < n:
        raise Trunc


def nd_printjnp(c, o, n):
    """Up to n characters, stopping at a NUL (null-padded strings); Trunc if
    the capture ends before the NUL or the n-th character."""
    have = min(n, avail(c, o))
    chunk = c.d[o:o + have]
    nul = chunk.find(0)
    c.o.append(fn_print_bytes(chunk if nul < 0 else chunk[:nul]))
    if nul < 0 and have < n:
        raise Trunc


# --------------------------------------------------------------------------
# link layers

VLAN_TYPES = (0x8100, 0x9100, 0x9200, 0x88A8)


def tci_string(tci):
    return "vlan %u, p %u%s" % (tci & 0xFFF, tci >> 13, ", DEI" if tci & 0x1000 else "")


def ether_type_str(c, t):
    if not c.q:
        return "ethertype %s (0x%04x)" % (T.ETHERTYPE_NAMES.get(t, "Unknown"), t)
    return T.ETHERTYPE_NAMES.get(t, "Unknown Ethertype (0x%04x)" % t)


def ether_print(c, off, length, caplen=None):
    """ether_common_print(); returns the link header length."""
    c.proto = "ether"
    o = c.o
    if caplen is None:
        caplen = avail(c, off)
    if not c.e and caplen >= 14 and length >= 14:
        d = c.d
        lt = (d[off + 12] << 8) | d[off + 13]
        if lt == 0x0800:
            ip_print(c, off + 14, length - 14)
            return 14
        if lt == 0x86DD:
            ip6_print(c, off + 14, length - 14)
            return 14
        printer = _ETHERTYPE_PRINTERS.get(lt)
        if printer is not None and lt > 1500 and lt != 0x8870 and lt not in VLAN_TYPES:
            c.proto = "ether"
            c.llsrc = off + 6
            printer(c, lt, off + 14, length - 14, caplen - 14)
            return 14
    if caplen < 14:
        trunc(c)
        return caplen
    if length < 14:
        trunc(c)
        return length
    orig_length = length
    d = c.d
    if c.e:
        o.append("%s > %s, " % (etheraddr(c, off + 6), etheraddr(c, off)))
    length -= 12
    caplen -= 12
    p = off + 12
    hdrlen = 12
    lt = g16(c, p)
    length -= 2
    caplen -= 2
    p += 2
    hdrlen += 2
    printed_length = False
    if lt == ETHERTYPE_MACSEC:
        if c.e:
            o.append(ether_type_str(c, lt))
            o.append(", length %u: " % orig_length)
            printed_length = True
        secure_data = macsec_print(c, p, length, caplen, off + 6, off)
        if type(secure_data) is int:
            return hdrlen + secure_data
        taken, length, caplen = secure_data
        p += taken
        hdrlen += taken
        lt = g16(c, p)
        if caplen < 2:
            c.o.append(" (invalid)")
            return hdrlen + caplen
        length -= 2
        caplen -= 2
        p += 2
        hdrlen += 2
    if lt == ETHERTYPE_ARISTA:
        if caplen < 2 or length < 2:
            o.append("[|arista]")
            return hdrlen + min(caplen, length)
        o.append(ether_type_str(c, lt) + ", length %u: " % orig_length)
        taken = arista_print(c, p)
        if taken < 0:               # a subtype or format tcpdump does not know: raw bytes
            if not c.e:
                _ether_raw_header(c, off, lt, orig_length)
            default_print(c, p, caplen)
            return hdrlen + length
        p, length, caplen, hdrlen = p + taken, length - taken, caplen - taken, hdrlen + taken
        lt = g16(c, p)
        p, length, caplen, hdrlen = p + 2, length - 2, caplen - 2, hdrlen + 2
        o.append(": ")              # the frame inside is printed as a frame of its own
    while lt in VLAN_TYPES:
        if caplen < 4:
            c.proto = "vlan"
            trunc(c)
            return hdrlen + caplen
        if length < 4:
            c.proto = "vlan"
            trunc(c)
            return hdrlen + length
        if c.e:
            tag = g16(c, p)
            o.append(ether_type_str(c, lt))
            if not printed_length:
                o.append(", length %u: " % orig_length)
                printed_length = True
            else:
                o.append(", ")
            o.append(tci_string(tag) + ", ")
        lt = g16(c, p + 2)
        p += 4
        length -= 4
        caplen -= 4
        hdrlen += 4
    if lt <= 1500:
        if lt < length:
            length = lt
            if caplen > length:
                caplen = length
        save = c.end
        if p + length < c.end:
            c.end = p + length
        if c.e:
            o.append("802.3")
            if not printed_length:
                o.append(", length %u: " % length)
        llc_hdrlen = llc_print(c, p, length, caplen, off + 6, off)
        if llc_hdrlen < 0:
            default_print(c, p, caplen)
            llc_hdrlen = -llc_hdrlen
        hdrlen += llc_hdrlen
        c.end = save
    elif lt == 0x8870:
        llc_hdrlen = llc_print(c, p, length, caplen, off + 6, off)
        if llc_hdrlen < 0:
            default_print(c, p, caplen)
            llc_hdrlen = -llc_hdrlen
        hdrlen += llc_hdrlen
    else:
        if c.e:
            o.append(ether_type_str(c, lt))
            if not printed_length:
                o.append(", length %u: " % orig_length)
            else:
                o.append(", ")
        if not ethertype_print(c, lt, p, length, caplen, off + 6, off):
            if not c.e:
                _ether_raw_header(c, off, lt, orig_length)
            default_print(c, p, caplen)
    return hdrlen


def _ether_raw_header(c, off, lt, orig_length):
    """What ether_common_print() puts before the raw bytes of a type it
    cannot decode when -e has not printed it: addresses, type, length."""
    c.o.append("%s > %s, %s, length %u: " % (etheraddr(c, off + 6), etheraddr(c, off),
                                             ether_type_str(c, lt), orig_length))


ETHERTYPE_MACSEC = 0x88E5
ETHERTYPE_ARISTA = 0xD28B


def arista_print(c, p):
    """arista_ethertype_print(): the TapAgg time stamp header; the bytes it
    takes, or -1 for a subtype or format tcpdump does not know."""
    c.proto = "arista"
    o = c.o
    sub, version = g16(c, p), g16(c, p + 2)
    o.append("SubType %s (0x%04x), " % ("Timestamp" if sub == 1 else "Unknown", sub))
    if sub != 1:
        return -1
    scale, fmt, hw = (version >> 8) & 0x0F, (version >> 4) & 0x0F, version & 0x0F
    o.append("Timescale %s (%u), Format %s (%u), HwInfo %s (%u), Timestamp " % (
        {0: "TAI", 1: "UTC"}.get(scale, "Unknown"), scale,
        {1: "64-bit", 2: "48-bit"}.get(fmt, "Unknown"), fmt,
        {0: "R/R2", 1: "R3"}.get(hw, "Unknown"), hw))
    if fmt == 1:
        secs, ns = g32(c, p + 4), g32(c, p + 8)
        secs, ns = secs + ns // 1_000_000_000, ns % 1_000_000_000
        import time
        o.append("%s.%09u" % (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(secs)), ns))
        return 12
    if fmt == 2:
        o.append("%u.%09u" % (g16(c, p + 4), g32(c, p + 6)))
        return 10
    return -1
_MACSEC_TCI_VERSION = 0x80
_MACSEC_TCI_SC = 0x20            # an SCI follows the packet number
_MACSEC_TCI_CONFID = 0x0C        # E or C: the Secure Data is encrypted
_MACSEC_TCI_FLAGS = 0x7C
_MACSEC_FLAG_NAMES = ((0x08, "E"), (0x04, "C"), (0x40, "S"), (0x10, "B"), (0x20, "I"))
_MACSEC_SL_MASK = 0x3F
_MACSEC_ICV_LEN = 16


def _macsec_header(c, p, short_length):
    """macsec_print_header(): the SecTAG's fields, as -e shows them."""
    tci_an = g8(c, p)
    c.o.append("an %u, pn %u, flags %s" % (tci_an & 0x03, g32(c, p + 2),
                                           bittok_nosep(_MACSEC_FLAG_NAMES, "none",
                                                        tci_an & _MACSEC_TCI_FLAGS)))
    if short_length:
        c.o.append(", sl %u" % short_length)
    if tci_an & _MACSEC_TCI_SC:
        need(c, p + 6, 8)
        c.o.append(", sci %s" % c.d[p + 6:p + 14].hex())
    c.o.append(", ")


def macsec_print(c, p, length, caplen, src, dst):
    """macsec_print() (print-macsec.c) on the SecTAG at p.

    An integrity-only frame's Secure Data is dissected by the caller: this
    returns (SecTAG length, length, caplen) of the Secure Data and moves
    ``c.end`` back over the ICV.  Otherwise it returns the number of bytes
    the caller takes as link header: the header did not fit (``[|macsec]``
    or ``(invalid)`` printed), or the payload is encrypted (dumped raw)."""
    save_proto = c.proto
    c.proto = "macsec"
    result = _macsec(c, p, length, caplen, src, dst)
    c.proto = save_proto
    return result


def _macsec(c, p, length, caplen, src, dst):
    if caplen < 6 or length < 6:
        trunc(c)
        return caplen
    tci_an = g8(c, p)
    sectag_len = 14 if tci_an & _MACSEC_TCI_SC else 6
    if caplen < sectag_len or length < sectag_len:
        trunc(c)
        return caplen
    sl = g8(c, p + 1)
    if sl & ~_MACSEC_SL_MASK or tci_an & _MACSEC_TCI_VERSION:
        c.o.append(" (invalid)")
        return caplen
    short_length = sl & _MACSEC_SL_MASK
    if c.e:
        _macsec_header(c, p, short_length)
    data_length = length - sectag_len
    data_caplen = caplen - sectag_len
    if tci_an & _MACSEC_TCI_CONFID:
        if not c.e:
            c.o.append("%s > %s 802.1AE MACsec, " % (etheraddr(c, src), etheraddr(c, dst)))
            _macsec_header(c, p, short_length)
        default_print(c, p + sectag_len, data_caplen)
        return sectag_len
    if data_length < _MACSEC_ICV_LEN or data_caplen < _MACSEC_ICV_LEN:
        trunc(c)
        return caplen
    data_length -= _MACSEC_ICV_LEN
    data_caplen -= _MACSEC_ICV_LEN
    c.end -= _MACSEC_ICV_LEN
    if short_length:
        if short_length > data_length or short_length > data_caplen:
            trunc(c)
            return caplen
        data_length = min(data_length, short_length)
        data_caplen = min(data_caplen, short_length)
    return sectag_len, data_length, data_caplen


# ethertypes that tcpdump 4.99 hands to a printer (ethertype_print)
_KNOWN_ETHERTYPES = {
    0x6003: "decnet", 0x809B: "atalk", 0x80F3: "aarp", 0x8137: "ipx", 0xFEFE: "isoclns",
    0x3C12: "pppoe", 0x3C13: "pppoe", 0x888E: "eapol",
    0x8899: "rrcp", 0x880B: "ppp", 0x8808: "mpcp", 0x8809: "slow", 0x8902: "cfm",
    0xABCD: "cfm", 0x894F: "nsh", 0x9000: "loopback",
    0x88CA: "tipc", 0x886F: "msnlb", 0x0707: "geonet", 0x8947: "geonet",
    0x1111: "calm_fast", 0x88A2: "aoe", 0x88F7: "ptp",
}


def _et_ip(c, t, p, length, caplen):
    ip_print(c, p, length)


def _et_ip6(c, t, p, length, caplen):
    ip6_print(c, p, length)


def _et_arp(c, t, p, length, caplen):
    arp_print(c, p, length, caplen)


def _et_mpls(c, t, p, length, caplen):
    mpls_print(c, p, length)


def _et_pppoe(c, t, p, length, caplen):
    pppoe_print(c, p, length)


def _et_aoe(c, t, p, length, caplen):
    aoe_print(c, p, length)


def _et_ptp(c, t, p, length, caplen):
    ptp_print(c, p, length)


def _et_lldp(c, t, p, length, caplen):
    lldp_print(c, p, length)


def _et_ipx(c, t, p, length, caplen):
    c.o.append("(NOV-ETHII) ")
    ipx_print(c, p, length)


def _et_eapol(c, t, p, length, caplen):
    eapol_print(c, p, length)


def _et_geonet(c, t, p, length, caplen):
    geonet_print(c, p, length)


def _et_calm_fast(c, t, p, length, caplen):
    calm_fast_print(c, p, length)


def _et_loopback(c, t, p, length, caplen):
    loopback_print(c, p, length)


def _et_msnlb(c, t, p, length, caplen):
    msnlb_print(c, p)


def _et_tipc(c, t, p, length, caplen):
    tipc_print(c, p)


def _et_cfm(c, t, p, length, caplen):
    cfm_print(c, p, length)


def _et_generic(c, t, p, length, caplen):
    name = _KNOWN_ETHERTYPES[t]
    generic_print(c, name, T.ETHERTYPE_NAMES.get(t, name), length)


_ETHERTYPE_PRINTERS = dict.fromkeys(_KNOWN_ETHERTYPES, _et_generic)
_ETHERTYPE_PRINTERS.update({
    0x0800: _et_ip, 0x86DD: _et_ip6, 0x0806: _et_arp, 0x8035: _et_arp,
    0x8847: _et_mpls, 0x8848: _et_mpls, 0x8863: _et_pppoe, 0x8864: _et_pppoe,
    0x88A2: _et_aoe, 0x88F7: _et_ptp, 0x88CC: _et_lldp, 0x8137: _et_ipx, 0x888E: _et_eapol,
    0x0707: _et_geonet, 0x8947: _et_geonet, 0x1111: _et_calm_fast, 0x9000: _et_loopback,
    0x886F: _et_msnlb, 0x88CA: _et_tipc, 0x8902: _et_cfm, 0xABCD: _et_cfm,
})


def ethertype_print(c, t, p, length, caplen, src=None, dst=None):
    """ethertype_print(): False when tcpdump has no printer for the type."""
    printer = _ETHERTYPE_PRINTERS.get(t)
    if printer is None:
        return False
    c.llsrc = src
    printer(c, t, p, length, caplen)
    return True


_AOE_FLAGS = ((0x08, "Response"), (0x04, "Error"), (0x02, "MBZ-1"), (0x01, "MBZ-0"))


def aoe_print(c, cp, length):
    """aoe_print() (print-aoe.c), the part shown without -v."""
    c.proto = "aoe"
    o = c.o
    o.append("AoE length %u" % length)
    if length < 1:
        o.append(" (invalid)")
        need(c, cp, length)
        return
    ver = g8(c, cp) >> 4
    o.append(", Ver %u" % ver)
    if ver != 1:
        return
    if length < 10:
        o.append(" (invalid)")
        need(c, cp, length)
        return
    flags = g8(c, cp) & 0x0F
    o.append(", Flags: [%s]" % bittok(_AOE_FLAGS, "none", flags))
    if c.v:
        _aoev1_detail(c, cp, length, flags)


_AOE_COMMANDS = {0: "Issue ATA Command", 1: "Query Config Information", 2: "MAC Mask List",
                 3: "Reserve/Release"}
_AOE_ERRORS = {1: "Unrecognized command code", 2: "Bad argument parameter", 3: "Device unavailable",
               4: "Config string present", 5: "Unsupported version", 6: "Target is reserved"}
_AOE_AFLAGS = ((0x40, "Ext48"), (0x10, "Device"), (0x02, "Async"), (0x01, "Write"))
_AOE_CCMDS = {0: "read config string", 1: "test config string", 2: "test config string prefix",
              3: "set config string", 4: "force set config string"}


def _aoev1_detail(c, cp, length, flags):
    """aoev1_print() with -v: error, addresses, command and its arguments."""
    o = c.o
    if flags & 0x04:
        o.append("\n\tError: %s" % _AOE_ERRORS.get(g8(c, cp + 1), "Invalid (%u)" % g8(c, cp + 1)))
    cmd = g8(c, cp + 5)
    o.append("\n\tMajor: 0x%04x, Minor: 0x%02x, Command: %s, Tag: 0x%08x" % (
        g16(c, cp + 2), g8(c, cp + 4), _AOE_COMMANDS.get(cmd, "Unknown (0x%02x)" % cmd),
        g32(c, cp + 6)))
    p, left = cp + 10, length - 10
    if cmd == 0:
        if left < 12:
            return invalid_rest(c, p, left)
        o.append("\n\tAFlags: [%s], Err/Feature: %u, Sector Count: %u, Cmd/Status: %u" % (
            bittok(_AOE_AFLAGS, "none", g8(c, p)), g8(c, p + 1), g8(c, p + 2), g8(c, p + 3)))
        o.append("\n\tlba0: %u, lba1: %u, lba2: %u, lba3: %u, lba4: %u, lba5: %u" % tuple(
            g8(c, p + 4 + i) for i in range(6)))
        need(c, p + 10, 2)
        if left > 12:
            o.append("\n\tData: %u bytes" % (left - 12))
    elif cmd == 1:
        if left < 8:
            return invalid_rest(c, p, left)
        ccmd = g8(c, p + 5)
        o.append("\n\tBuffer Count: %u, Firmware Version: %u, Sector Count: %u, AoE: %u, CCmd: %s" % (
            g16(c, p), g16(c, p + 2), g8(c, p + 4), ccmd >> 4,
            _AOE_CCMDS.get(ccmd & 0x0F, "Unknown (0x02x)")))
        cslen = g16(c, p + 6)
        if cslen > 1024 or 8 + cslen > left:
            return invalid_rest(c, p, left)
        if cslen:
            o.append("\n\tConfig String (length %u): " % cslen)
            nd_printn(c, p + 8, cslen)
    elif cmd == 2:
        if left < 4:
            return invalid_rest(c, p, left)
        o.append("\n\tMCmd: %s, MError: %s" % (
            {0: "Read Mac Mask List", 1: "Edit Mac Mask List"}.get(g8(c, p + 1), "Unknown (0x%02x)" % g8(c, p + 1)),
            {1: "Unspecified Error", 2: "Bad DCmd directive", 3: "Mask list full"}.get(
                g8(c, p + 2), "Unknown (0x%02x)" % g8(c, p + 2))))
        count = g8(c, p + 3)
        o.append(", Dir Count: %u" % count)
        if 4 + count * 8 > left:
            return invalid_rest(c, p, left)
        q = p + 4
        for _ in range(count):
            d = g8(c, q + 1)
            o.append("\n\t DCmd: %s, Ethernet Address: %s" % (
                {0: "No Directive", 1: "Add mac address to mask list",
                 2: "Delete mac address from mask list"}.get(d, "Unknown (0x%02x)" % d),
                etheraddr(c, q + 2)))
            q += 8
    elif cmd == 3:
        if left < 2 or (left - 2) % 6:
            return invalid_rest(c, p, left)
        r = g8(c, p)
        nmacs = g8(c, p + 1)
        o.append("\n\tRCmd: %s, NMacs: %u" % (
            {0: "Read reserve list", 1: "Set reserve list", 2: "Force set reserve list"}.get(
                r, "Unknown (0x%02x)" % r), nmacs))
        if 2 + nmacs * 6 != left:
            return invalid_rest(c, p, left)
        for i in range(nmacs):
            o.append("\n\tEthernet Address %u: %s" % (i, etheraddr(c, p + 2 + 6 * i)))


_PTP_MSG = {0x0: "sync msg", 0x1: "delay req msg", 0x2: "peer delay req msg",
            0x3: "peer delay resp msg", 0x8: "follow up msg", 0x9: "delay resp msg",
            0xA: "pdelay resp fup msg", 0xB: "announce msg", 0xC: "signaling msg",
            0xD: "management msg"}
_PTP_CONTROL = {0: "Sync", 1: "Delay_Req", 2: "Follow_Up", 3: "Delay_Resp", 4: "Management", 5: "Other"}
_PTP_FLAGS = ((0x1, "l1 61"), (0x2, "l1 59"), (0x4, "utc reasonable"), (0x8, "timescale"),
              (0x10, "time tracable"), (0x20, "frequency tracable"), (0x100, "alternate master"),
              (0x200, "two step"), (0x400, "unicast"), (0x1000, "profile specific 1"),
              (0x2000, "profile specific 2"), (0x4000, "security mask"), (0x18C0, "unknown"))


_PTP_HEADER = struct.Struct("!BBHBBHQIQHHBB")


def _g48(c, o):
    need(c, o, 6)
    return int.from_bytes(c.d[o:o + 6], "big")


def ptp_print(c, bp, length):
    """ptp_print() (print-ptp.c, 4.99)."""
    c.proto = "ptp"
    o = c.o
    vers = g16(c, bp) & 0xFF
    o.append("PTPv%u" % vers)
    if vers == 1:
        o.append(" (not implemented)")
        return
    if vers != 2:
        return
    # the common header in one unpack; each field is printed only if its
    # bytes were captured (tcpdump reads them one by one)
    have = avail(c, bp)
    foct, _, mlen, domain, rsvd1, flags, corr, rsvd2, clock, port, seq, ctl, interval = \
        _PTP_HEADER.unpack(c.d[bp:bp + 34].ljust(34, b"\0"))
    mt = foct & 0x0F
    for needed, text in (
            (1, ", v1 compat : %s, msg type : %s" % ("yes" if foct & 0x10 else "no",
                                                     _PTP_MSG.get(mt, "Reserved"))),
            (4, ", length : %u" % mlen),
            (6, ", domain : %u, reserved1 : %u" % (domain, rsvd1)),
            (8, ", Flags [%s]" % bittok(_PTP_FLAGS, "none", flags)),
            (14, ", NS correction : %u" % (corr >> 16)),
            (16, ", sub NS correction : %u" % (corr & 0xFFFF)),
            (20, ", reserved2 : %u" % rsvd2),
            (28, ", clock identity : 0x%x" % clock),
            (30, ", port id : %u" % port),
            (32, ", seq id : %u" % seq),
            (33, ", control : %u (%s)" % (ctl, _PTP_CONTROL.get(ctl, "Reserved"))),
            (34, ", log message interval : %u" % interval)):
        if needed > have:
            raise Trunc
        o.append(text)
    q = bp + 34
    if mt in (0x0, 0x1):
        _ptp_ts(c, q, "originTimeStamp")
    elif mt == 0x2:
        _ptp_ts_id(c, q, "preciseOriginTimeStamp")
    elif mt in (0x3, 0x9):
        _ptp_ts_id(c, q, "receiveTimeStamp")
    elif mt == 0x8:
        _ptp_ts(c, q, "preciseOriginTimeStamp")
    elif mt == 0xA:
        _ptp_ts_id(c, q, "preciseOriginTimeStamp")
    elif mt == 0xB:
        o.append(", originTimeStamp : %u seconds %u nanoseconds" % (_g48(c, q), g32(c, q + 6)))
        o.append(", origin cur utc :%u" % g16(c, q + 10))
        o.append(", rsvd : %u" % g8(c, q + 12))
        o.append(", gm priority_1 : %u" % g8(c, q + 13))
        o.append(", gm clock class : %u" % g8(c, q + 14))
        o.append(", gm clock accuracy : %u" % g8(c, q + 15))
        o.append(", gm clock variance : %u" % g16(c, q + 16))
        o.append(", gm priority_2 : %u" % g8(c, q + 18))
        o.append(", gm clock id : 0x%x" % _g64(c, q + 19))
        o.append(", steps removed : %u" % g16(c, q + 27))
        o.append(", time source : 0x%x" % g8(c, q + 29))
    elif mt == 0xC:
        o.append(", port identity : 0x%x" % _g64(c, q))
        o.append(", port id : %u" % g16(c, q + 8))
    elif mt == 0xD:
        o.append(", port identity : 0x%x" % _g64(c, q))
        o.append(", port id : %u" % g16(c, q + 8))
        v = g8(c, q)
        o.append(", , start boundary hops  %u, , boundary hops  %u, , flags  0x%x, , reserved  0x%x" % (v, v, v, v))


def _ptp_ts(c, q, name):
    c.o.append(", %s : %u seconds, %u nanoseconds" % (name, _g48(c, q), g32(c, q + 6)))


def _ptp_ts_id(c, q, name):
    _ptp_ts(c, q, name)
    c.o.append(", port identity : 0x%x, port id : %u" % (_g64(c, q + 10), g16(c, q + 18)))


def generic_print(c, proto, label, length):
    """Fallback for a protocol tcpdump decodes but pycap does not (yet)."""
    c.proto = proto
    c.generic = proto
    c.o.append("%s, length %u" % (label, length))


# ---- LLC (print-llc.c), only what is cheap to get exactly right

_LLC_SAP_NAMES = {
    0x00: "Null", 0x02: "LLC Sub-Layer Management", 0x03: "LLC Sub-Layer Management",
    0x04: "SNA", 0x05: "SNA", 0x06: "IP", 0x08: "SNA", 0x0C: "SNA", 0x0E: "PROWAY NM",
    0x18: "Texas Instruments", 0x42: "STP", 0x4E: "RS511", 0x7E: "ISO8208 (X.25 PLP)",
    0x80: "XNS", 0x86: "Nestar", 0x8E: "PROWAY RS511", 0x98: "ARP", 0xAA: "SNAP",
    0xBC: "Banyan Vines", 0xE0: "IPX", 0xF0: "NetBeui", 0xF4: "IBM Net Management",
    0xF8: "HP Ext Resource", 0xFC: "RPL", 0xFE: "OSI", 0xFF: "Global",
}

_LLC_CMD_NAMES = {
    0x03: "ui", 0x6F: "sabme", 0x43: "disc", 0x63: "ua", 0x0F: "dm", 0x87: "frmr",
    0xAF: "xid", 0xE3: "test",
}
_LLC_SUPERVISORY = {0: "Receiver Ready", 1: "Receiver not Ready", 2: "Reject"}


def llc_print(c, p, length, caplen, src, dst):
    """llc_print(); returns header length, negated when the payload is unknown."""
    c.proto = "llc"
    o = c.o
    if caplen < 3:
        trunc(c)
        default_print(c, p, caplen)
        return caplen
    if length < 3:
        trunc(c)
        default_print(c, p, caplen)
        return length
    dsap_field = g8(c, p)
    ssap_field = g8(c, p + 1)
    control = g8(c, p + 2)
    if (control & 0x3) == 0x3:
        hdrlen = 3
    else:
        if caplen < 4:
            trunc(c)
            default_print(c, p, caplen)
            return caplen
        if length < 4:
            trunc(c)
            default_print(c, p, caplen)
            return length
        control = control | (g8(c, p + 3) << 8)
        hdrlen = 4
    if ssap_field == 0xFF and dsap_field == 0xFF:
        # Novell 802.3 raw IPX
        if c.e:
            o.append("IPX 802.3: ")
        ipx_print(c, p, length)
        return 0
    dsap = dsap_field & ~0x01
    ssap = ssap_field & ~0x01
    if c.e:
        o.append("LLC, dsap %s (0x%02x) %s, ssap %s (0x%02x) %s" % (
            _LLC_SAP_NAMES.get(dsap, "Unknown"), dsap, "Group" if dsap_field & 1 else "Individual",
            _LLC_SAP_NAMES.get(ssap, "Unknown"), ssap, "Response" if ssap_field & 1 else "Command"))
        if (control & 0x3) == 0x3:
            o.append(", ctrl 0x%02x: " % control)
        else:
            o.append(", ctrl 0x%04x: " % control)
    if ssap == 0xAA and dsap == 0xAA and control == 0x03:
        # SNAP
        ret = snap_print(c, p + 3, length - 3, caplen - 3, src, dst)
        if ret == 0:
            return -(hdrlen + 5)
        return hdrlen + 5
    if ssap == 0x42 and dsap == 0x42 and control == 0x03:
        stp_print(c, p + 3, length - 3)
        return hdrlen
    if ssap == 0xFE and dsap == 0xFE and control == 0x03:
        isoclns_print(c, p + 3, length - 3)
        return hdrlen
    if ssap == 0xE0 and dsap == 0xE0 and control == 0x03:
        if c.e:
            o.append("IPX 802.2: ")
        ipx_print(c, p + 3, length - 3)
        return hdrlen
    if ssap == 0xF0 and dsap == 0xF0 and (not (control & 0x1) or (control & 0x3) == 0x3):
        generic_print(c, "netbeui", "NetBeui", length - 3)
        return hdrlen
    if not c.e:
        if src is not None and dst is not None:
            o.append("%s > %s " % (etheraddr(c, src), etheraddr(c, dst)))
        o.append(_LLC_SAP_NAMES.get(dsap, "Unknown DSAP 0x%02x" % dsap) + " ")
    if (control & 0x01) == 0x00:
        o.append("Information, send seq %u, rcv seq %u, " % ((control >> 1) & 0x7F, (control >> 9) & 0x7F))
    elif (control & 0x03) == 0x01:
        o.append("Supervisory, %s, rcv seq %u, " % (
            _LLC_SUPERVISORY.get((control >> 2) & 0x3, "Unknown"), (control >> 9) & 0x7F))
    else:
        o.append("Unnumbered, %s, " % _LLC_CMD_NAMES.get(control & ~0x10, "%02x" % (control & ~0x10)))
    if ssap_field & 1:
        flags = "Final" if control & (0x10 if (control & 3) == 3 else 0x100) else "Response"
    else:
        flags = "Poll" if control & (0x10 if (control & 3) == 3 else 0x100) else "Command"
    o.append("Flags [%s], length %u" % (flags, length))
    length -= hdrlen
    caplen -= hdrlen
    if (control & ~0x10) == 0xAF and dsap == 0 and ssap == 0:
        # XID
        if caplen < 1:
            trunc(c)
            if caplen > 0:
                default_print(c, p + hdrlen, caplen)
            return hdrlen
        if g8(c, p + hdrlen) == 0x81:
            if caplen < 3 or length < 3:
                trunc(c)
                if caplen > 0:
                    default_print(c, p + hdrlen, caplen)
                return hdrlen
            o.append(": %02x %02x" % (g8(c, p + hdrlen + 1), g8(c, p + hdrlen + 2)))
            return hdrlen + 3
        o.append(": %02x %02x" % (g8(c, p + hdrlen), g8(c, p + hdrlen + 1)))
        return hdrlen
    return -hdrlen


def snap_print(c, p, length, caplen, src, dst):
    c.proto = "snap"
    need(c, p, 5)
    oui = (g8(c, p) << 16) | (g8(c, p + 1) << 8) | g8(c, p + 2)
    et = g16(c, p + 3)
    if c.e:
        c.o.append("oui %s (0x%06x), %s %s (0x%04x), length %u: " % (
            OUI_NAMES.get(oui, "Unknown"), oui, "ethertype" if oui == 0 else "pid",
            _snap_pid_name(oui, et), et, length - 5))
    p += 5
    length -= 5
    caplen -= 5
    if oui in (0, 0xF8):
        if ethertype_print(c, et, p, length, caplen, src, dst):
            return 1
        return _snap_unknown(c, oui, et, length, src, dst)
    if oui == 0x00000C:
        if et == 0x010B:
            stp_print(c, p, length)
            return 1
        if et == 0x0111:
            udld_print(c, p, length)
            return 1
        if et == 0x2004:
            dtp_print(c, p, length)
            return 1
        if et == 0x2000:
            cdp_print(c, p, length)
            return 1
        names = {0x2003: ("vtp", "VTP"), 0x0102: ("drip", "DRIP")}
        n = names.get(et)
        if n:
            generic_print(c, n[0], n[1], length)
            return 1
    return _snap_unknown(c, oui, et, length, src, dst)


def _snap_unknown(c, oui, et, length, src, dst):
    """A SNAP payload nobody decodes: without -e tcpdump names the addresses
    and the SNAP header before the hex dump.  Returns 0 (not printed)."""
    if not c.e:
        o = c.o
        if src is not None and dst is not None:
            o.append("%s > %s " % (etheraddr(c, src), etheraddr(c, dst)))
        if oui == 0:
            o.append("SNAP, ethertype %s (0x%04x), length %u: " % (
                T.ETHERTYPE_NAMES.get(et, "Unknown"), et, length))
        else:
            o.append("SNAP, oui %s (0x%06x), pid %s (0x%04x), length %u: " % (
                OUI_NAMES.get(oui, "Unknown"), oui, _snap_pid_name(oui, et), et, length))
    return 0


_SNAP_CISCO_PIDS = {0x2000: "CDP", 0x2003: "VTP", 0x2004: "DTP", 0x0111: "UDLD", 0x010B: "PVST",
                    0x010C: "VLAN Bridge"}
_SNAP_RFC2684_PIDS = {0x0001: "Ethernet + FCS", 0x0007: "Ethernet w/o FCS", 0x0003: "802.5 + FCS",
                      0x0009: "802.5 w/o FCS", 0x0004: "FDDI + FCS", 0x000A: "FDDI w/o FCS",
                      0x0005: "802.6 + FCS", 0x000B: "802.6 w/o FCS", 0x000E: "BPDU"}
_SNAP_PIDS = {0x0C: _SNAP_CISCO_PIDS, 0x0080C2: _SNAP_RFC2684_PIDS}    # the OUIs with PID names


def _snap_pid_name(oui, et):
    """oui_to_struct_tok(): the PID's name in the OUI's own table."""
    if oui in (0, 0xF8):
        return T.ETHERTYPE_NAMES.get(et, "Unknown")
    return _SNAP_PIDS.get(oui, {}).get(et, "Unknown")


_CDP_CAPS = ((0x01, "Router"), (0x02, "Transparent Bridge"), (0x04, "Source Route Bridge"),
             (0x08, "L2 Switch"), (0x10, "L3 capable"), (0x20, "IGMP snooping"), (0x40, "L1 capable"))
_CDP_IPV6_PROTOCOL = bytes.fromhex("aaaa0300000086dd")      # LLC+SNAP, ethertype IPv6


def _cdp_string(c, q, ln):
    c.o.append("'")
    nd_printn(c, q, ln)
    c.o.append("'")


def _cdp_power(c, q, ln):
    need(c, q, ln)
    c.o.append("%1.2fW" % (int.from_bytes(c.d[q:q + ln], "big") / 1000.0))


def _cdp_capability(c, q, ln):
    cap = g32(c, q)
    c.o.append("(0x%08x): %s" % (cap, bittok(_CDP_CAPS, "none", cap)))


def _cdp_version(c, q, ln):
    """Each newline of the version string starts an indented line."""
    have = min(ln, avail(c, q))
    c.o.append("\n\t  " + "\n\t  ".join(fn_print_bytes(part)
                                        for part in c.d[q:q + have].split(b"\n")))
    if have < ln:
        raise Trunc


def _cdp_ata186(c, q, ln):
    c.o.append("unknown 0x%04x" % g16(c, q) if ln == 2 else
               "app %u, vlan %u" % (g8(c, q), g16(c, q + 1)))


def _cdp_phys_loc(c, q, ln):
    c.o.append("0x%02x" % g8(c, q))
    if ln > 1:
        c.o.append("/")
        nd_printn(c, q + 1, ln - 1)


def _cdp_prefixes(c, q, ln):
    if ln % 5:
        c.o.append(" [length %u is not a multiple of 5]" % ln)
        need(c, q, ln)
        return
    c.o.append(" IPv4 Prefixes (%u):" % (ln // 5))
    for i in range(q, q + ln, 5):
        need(c, i, 5)
        c.o.append(" %u.%u.%u.%u/%u" % tuple(c.d[i:i + 5]))


def _cdp_addr(c, p, ln):
    """cdp_print_addr(): the addresses of an Address TLV; where one does not
    fit, the rest of the value is only checked as captured."""
    o = c.o
    d = c.d
    if ln < 4:
        o.append(" (not enough space for num)")
        need(c, p, ln)
        return
    num = g32(c, p)
    p, ln = p + 4, ln - 4
    while num:
        if ln < 2:
            o.append(" (not enough space for PT+PL)")
            need(c, p, ln)
            return
        pt, pl = g8(c, p), g8(c, p + 1)
        p, ln = p + 2, ln - 2
        if ln < pl + 2:
            o.append(" (not enough space for P+AL)")
            need(c, p, ln)
            return
        al = g16(c, p + pl)
        if pt == 1 and pl == 1 and d[p] == 0xCC and al == 4:
            kind, printer = "IPv4", ipaddr
        elif pt == 2 and pl == 8 and d[p:p + 8] == _CDP_IPV6_PROTOCOL and al == 16:
            kind, printer = "IPv6", ip6addr
        else:
            kind = printer = None
        if printer is not None:
            p, ln = p + pl + 2, ln - pl - 2
            if ln < al:
                o.append(" (not enough space for A)")
                need(c, p, ln)
                return
            o.append("%s (%u) %s" % (kind, num, printer(c, p)))
        else:
            o.append("pt=0x%02x, pl=%u, pb=" % (pt, pl))
            need(c, p, pl)
            o.append("".join(" %02x" % b for b in d[p:p + pl]))
            p, ln = p + pl + 2, ln - pl - 2
            o.append(", al=%u, a=" % al)
            if ln < al:
                o.append(" (not enough space for A)")
                need(c, p, ln)
                return
            need(c, p, al)
            o.append("".join(" %02x" % b for b in d[p:p + al]))
        p, ln = p + al, ln - al
        num -= 1
        if num:
            o.append(" ")
    if ln:
        o.append(" (%u bytes of stray data)" % ln)


def _cdp_uint8x(c, q, ln):
    c.o.append("0x%02x" % g8(c, q))


_CDP_UNNAMED = ("unknown field type", None, -1, -1)
# cdptlvs[]: type -> (name, printer or None, least, most value bytes; -1: any);
# a type up to 0x17 without an entry has no name and no printer
_CDP_TLVS = {
    0x00: _CDP_UNNAMED, 0x0C: _CDP_UNNAMED, 0x0D: _CDP_UNNAMED,
    0x01: ("Device-ID", _cdp_string, -1, -1),
    0x02: ("Address", _cdp_addr, -1, -1),
    0x03: ("Port-ID", _cdp_string, -1, -1),
    0x04: ("Capability", _cdp_capability, 4, 4),
    0x05: ("Version String", _cdp_version, -1, -1),
    0x06: ("Platform", _cdp_string, -1, -1),
    0x07: ("Prefixes", _cdp_prefixes, -1, -1),
    0x08: ("Protocol-Hello option", None, -1, -1),
    0x09: ("VTP Management Domain", _cdp_string, -1, -1),
    0x0A: ("Native VLAN ID", lambda c, q, ln: c.o.append("%u" % g16(c, q)), 2, 2),
    0x0B: ("Duplex", lambda c, q, ln: c.o.append("full" if g8(c, q) else "half"), 1, 1),
    0x0E: ("ATA-186 VoIP VLAN assignment", _cdp_ata186, 3, 3),
    0x0F: ("ATA-186 VoIP VLAN request", _cdp_ata186, 2, 3),
    0x10: ("power consumption", _cdp_power, 1, 3),
    0x11: ("MTU", lambda c, q, ln: c.o.append("%u bytes" % g32(c, q)), 4, 4),
    0x12: ("AVVID trust bitmap", _cdp_uint8x, 1, 1),
    0x13: ("AVVID untrusted ports CoS", _cdp_uint8x, 1, 1),
    0x14: ("System Name", _cdp_string, -1, -1),
    0x15: ("System Object ID (not decoded)", None, -1, -1),
    0x16: ("Management Addresses", _cdp_addr, 4, -1),
    0x17: ("Physical Location", _cdp_phys_loc, 1, -1),
}


def cdp_print(c, p, length):
    """cdp_print(): without -v the Device-ID and every other TLV in hex;
    with -v each TLV named and decoded by tcpdump 4.99's table."""
    c.proto = "cdp"
    o = c.o
    v = c.v
    orig_length = length
    if length < 4:
        o.append(" (packet length %u < 4)" % length)
        return invalid_rest(c, p, length)
    o.append("CDPv%u, ttl: %us" % (g8(c, p), g8(c, p + 1)))
    checksum = g16(c, p + 2)
    if v:
        o.append(", checksum: 0x%04x (unverified), length %u" % (checksum, orig_length))
    q, length = p + 4, length - 4
    while length:
        if length < 4:
            o.append(" (remaining packet length %u < 4)" % length)
            return invalid_rest(c, q, length)
        typ, ln = g16(c, q), g16(c, q + 2)        # the length counts the TLV header
        info = _CDP_TLVS.get(typ)
        name = info[0] if info is not None else "unknown field type"
        if ln < 4:
            o.append("\n\t%s (0x%02x), TLV length: %u byte%s (too short)" % (
                name, typ, ln, "" if ln == 1 else "s") if v else
                ", %s TLV length %u too short" % (name, ln))
            return invalid_rest(c, q, length)
        if ln > length:
            o.append(" (TLV length %u > %u)" % (ln, length))
            return invalid_rest(c, q, length)
        q, length, ln = q + 4, length - 4, ln - 4
        if v:
            o.append("\n\t%s (0x%02x), value length: %u byte%s: " % (
                name, typ, ln, "" if ln == 1 else "s"))
        elif typ == 1:
            o.append(", Device-ID ")
        covered = False
        if info is not None:
            _, printer, least, most = info
            if 0 < least > ln or 0 < most < ln:
                o.append(" (malformed TLV)")
            elif v or typ == 1:
                if printer is not None:
                    printer(c, q, ln)
                else:
                    need(c, q, ln)
                covered = True              # a type without a printer: no hex either
        if not covered:
            need(c, q, ln)
            print_unknown_data(c, q, "\n\t  ", ln)
        q, length = q + ln, length - ln
    if not v:
        o.append(", length %u" % orig_length)


# ---- Linux cooked headers (print-sll.c)

def _sll_proto_str(c, t):
    if t <= 1500:
        if t == 1:
            return "802.3"
        if t == 4:
            return "802.2"
        return "ethertype Unknown (0x%04x)" % t
    return "ethertype %s (0x%04x)" % (T.ETHERTYPE_NAMES.get(t, "Unknown"), t)


def _sll_print(c, off, length):
    c.proto = "sll"
    o = c.o
    o.append("%3s " % T.SLL_PKTTYPES.get(g16(c, off), "?"))
    if g16(c, off + 4) == 6:
        o.append("%s " % etheraddr(c, off + 6))
    if not c.q:
        o.append(_sll_proto_str(c, g16(c, off + 14)))
        o.append(", length %u: " % length)


def sll_if_print(c, length):
    c.proto = "sll"
    need(c, 0, 16)
    caplen = c.end
    if c.e:
        _sll_print(c, 0, length)
    length -= 16
    caplen -= 16
    p = 16
    hdrlen = 16
    hatype = g16(c, 2)
    if hatype == 803:
        c.llhdr += 16
        generic_print(c, "radiotap", "802.11", length)
        return
    et = g16(c, 14)
    _sll_body(c, p, length, caplen, hdrlen, et, lambda: _sll_print(c, 0, length + 16))


def _sll_body(c, p, length, caplen, hdrlen, et, print_hdr):
    o = c.o
    while True:
        if et <= 1500:
            if et == 1:
                ipx_print(c, p, length)
            elif et == 4:
                llc_hdrlen = llc_print(c, p, length, caplen, None, None)
                if llc_hdrlen < 0:
                    default_print(c, p, caplen)
                else:
                    hdrlen += llc_hdrlen
            else:
                default_print(c, p, caplen)
            break
        if et == 0x8100:
            if caplen < 4:
                c.proto = "vlan"
                trunc(c)
                c.llhdr += hdrlen + caplen
                return
            if c.e:
                o.append("%s, " % tci_string(g16(c, p)))
            et = g16(c, p + 2)
            if et <= 1500:
                et = 4
            if not c.q:
                o.append("ethertype %s, " % T.ETHERTYPE_NAMES.get(et, "Unknown"))
            p += 4
            length -= 4
            caplen -= 4
            hdrlen += 4
            continue
        if not ethertype_print(c, et, p, length, caplen):
            if not c.e:
                print_hdr()
            default_print(c, p, caplen)
        break
    c.llhdr += hdrlen


def _sll2_print(c, off, length):
    c.proto = "sll2"
    o = c.o
    o.append("ifindex %u " % g32(c, off + 4))
    if g8(c, off + 11) == 6:
        o.append("%s " % etheraddr(c, off + 12))
    if not c.q:
        o.append(_sll_proto_str(c, g16(c, off)))
        o.append(", length %u: " % length)


_ifname_cache: dict[int, str] = {}


def ifname(index):
    n = _ifname_cache.get(index)
    if n is None:
        try:
            n = socket.if_indextoname(index)
        except (OSError, OverflowError, ValueError):
            n = "?"
        _ifname_cache[index] = n
    return n


def sll2_if_print(c, length):
    c.proto = "sll2"
    need(c, 0, 20)
    caplen = c.end
    o = c.o
    o.append("%-5s " % ifname(g32(c, 4)))
    o.append("%-3s " % T.SLL_PKTTYPES.get(g8(c, 10), "?"))
    if c.e:
        _sll2_print(c, 0, length)
    length -= 20
    caplen -= 20
    hatype = g16(c, 8)
    if hatype == 803:
        c.llhdr += 20
        generic_print(c, "radiotap", "802.11", length)
        return
    et = g16(c, 0)
    _sll_body(c, 20, length, caplen, 20, et, lambda: _sll2_print(c, 0, length + 20))


def raw_if_print(c, length):
    if c.e:
        c.o.append("ip: ")
    ipN_print(c, 0, length)


def ipN_print(c, p, length):
    c.proto = "ipn"
    if length < 1:
        c.o.append("truncated-ip %u" % length)
        return
    v = g8(c, p) & 0xF0
    if v == 0x40:
        ip_print(c, p, length)
    elif v == 0x60:
        ip6_print(c, p, length)
    else:
        c.o.append("unknown ip %u" % (v >> 4))


def null_if_print(c, length, big_endian_guess=True):
    c.proto = "null"
    if c.end < 4:
        trunc(c)
        return
    raw = c.d[0:4]
    fam = int.from_bytes(raw, "little")
    if fam & 0xFFFF0000:
        fam = int.from_bytes(raw, "big")
    if c.e:
        c.o.append({2: "AF IPv4 (2)", 24: "AF IPv6 (24)", 28: "AF IPv6 (28)", 30: "AF IPv6 (30)",
                    10: "AF IPv6 (10)"}.get(fam, "AF Unknown (%u)" % fam) + ", length %u: " % length)
    c.llhdr = 4
    if fam == 2:
        ip_print(c, 4, length - 4)
    elif fam in (10, 24, 28, 30):
        ip6_print(c, 4, length - 4)
    else:
        if not c.e:
            c.o.append("AF Unknown (%u), length %u: " % (fam, length))
        default_print(c, 4, c.end - 4)


# --------------------------------------------------------------------------
# ARP (print-arp.c)

def arp_print(c, p, length, caplen):
    c.proto = "arp"
    o = c.o
    need(c, p, 8)
    hrd = g16(c, p)
    pro = g16(c, p + 2)
    hln = g8(c, p + 4)
    pln = g8(c, p + 5)
    op = g16(c, p + 6)
    if hrd == 19:
        generic_print(c, "arp", "ARP, ATM", length)
        return
    sha = p + 8
    spa = sha + hln
    tha = spa + pln
    tpa = tha + hln
    need(c, tpa, pln)
    if not c.e:
        o.append("ARP, ")
    is_ip = pro in (0x0800, 0x1000)
    if not is_ip or pln != 4 or hln == 0 or c.v:
        o.append("%s (len %u), %s (len %u)" % (
            T.ARPHRD_NAMES.get(hrd, "Unknown Hardware (%u)" % hrd), hln,
            T.ETHERTYPE_NAMES.get(pro, "Unknown Protocol (0x%04x)" % pro), pln))
        if not c.v:
            o.append(", length %u" % length)
            return
    o.append("%s%s " % (", " if c.v else "", T.ARPOP_NAMES.get(op, "Unknown (%u)" % op)))

    def ipa(a):
        if not is_ip:
            return "<wrong proto type>"
        if pln != 4:
            return "<wrong len>"
        return ipaddr(c, a)

    if op == 1:
        o.append("who-has " + ipa(tpa))
        need(c, tha, hln)
        if any(c.d[tha:tha + hln]):
            o.append(" (%s)" % linkaddr(c, tha, hln))
        o.append(" tell " + ipa(spa))
    elif op == 2:
        o.append(ipa(spa))
        o.append(" is-at %s" % linkaddr(c, sha, hln))
    elif op == 3 or op == 8:
        o.append("who-is %s" % linkaddr(c, tha, hln))
        o.append(" tell %s" % linkaddr(c, sha, hln))
    elif op == 4:
        o.append("%s at " % linkaddr(c, tha, hln))
        o.append(ipa(tpa))
    elif op == 9:
        o.append("%s at " % linkaddr(c, sha, hln))
        o.append(ipa(spa))
    else:
        default_print(c, p, caplen)
        return
    o.append(", length %u" % length)


# --------------------------------------------------------------------------
# MPLS, PPPoE, PPP

def mpls_print(c, p, length):
    c.proto = "mpls"
    o = c.o
    o.append("MPLS")
    sep = " "
    while True:
        if length < 4:
            o.append("[|MPLS], length %u" % length)
            return
        e = g32(c, p)
        p += 4
        length -= 4
        label = e >> 12
        o.append("%s(label %u" % (sep, label))
        sep = " "
        if c.v and label < 16:
            o.append(" (%s)" % {0: "IPv4 explicit NULL", 1: "router alert", 2: "IPv6 explicit NULL",
                                 3: "implicit NULL", 7: "ELI", 13: "OAM"}.get(label, "reserved"))
        o.append(", tc %u" % ((e >> 9) & 7))
        if e & 0x100:
            o.append(", [S]")
        o.append(", ttl %u)" % (e & 0xFF))
        if e & 0x100:
            break
    # guess the payload
    if length < 1:
        return
    if not tt(c, p, 1):
        trunc(c)
        return
    first = c.d[p]
    pt = None
    if label in (0,):
        pt = 4
    elif label == 2:
        pt = 6
    elif label in (1, 3) or label > 15:
        v = first >> 4
        if v == 4 and length >= 20:
            pt = 4
        elif v == 6 and length >= 40:
            pt = 6
        elif first in (0x81, 0x82, 0x83):
            pt = "osi"
        else:
            pt = "eth"
    if pt == 4:
        o.append("\n\t" if c.v else " ")
        ip_print(c, p, length)
    elif pt == 6:
        o.append("\n\t" if c.v else " ")
        ip6_print(c, p, length)
    elif pt == "osi":
        o.append("\n\t" if c.v else " ")
        isoclns_print(c, p, length)
    elif pt == "eth":
        o.append(" ")
        ether_print(c, p, length)
    else:
        if c.v:
            o.append("\n\t")
        else:
            o.append(" ")
        if not c.suppress_default:
            default_print(c, p, length)


_PPPOE_CODES = {0x09: "PADI", 0x07: "PADO", 0x19: "PADR", 0x65: "PADS", 0xA7: "PADT", 0x00: "",
                0x0A: "PADG", 0x0B: "PADC", 0x0C: "PADQ", 0xD3: "PADM", 0xD4: "PADN"}
_PPPOE_TAGS = {0x0000: "EOL", 0x0101: "Service-Name", 0x0102: "AC-Name", 0x0103: "Host-Uniq",
               0x0104: "AC-Cookie", 0x0105: "Vendor-Specific", 0x0110: "Relay-Session-ID",
               0x0120: "PPP-Max-Payload", 0x0201: "Service-Name-Error",
               0x0202: "AC-System-Error", 0x0203: "Generic-Error"}


def pppoe_print(c, p, length):
    c.proto = "pppoe"
    o = c.o
    if length < 6:
        o.append(" (length %u < %u)" % (length, 6))
        o.append(" (invalid)")
        return
    length -= 6
    need(c, p, 6)
    vt = g8(c, p)
    code = g8(c, p + 1)
    sess = g16(c, p + 2)
    plen = g16(c, p + 4)
    o.append("PPPoE %s" % _PPPOE_CODES.get(code, "Unknown(0x%02x)" % code))
    if (vt & 0xF) != 1:
        o.append(" [ver %u]" % (vt & 0xF))
    if (vt >> 4) != 1:
        o.append(" [type %u]" % (vt >> 4))
    if sess:
        o.append(" [ses 0x%x]" % sess)
    if plen > length:
        o.append(" [length %u (%u extra bytes)]" % (plen, plen - length))
        plen = length
    q = p + 6
    if code:
        tag_type = 0xFFFF
        while tag_type and q + 4 <= p + 6 + plen:
            tag_type = g16(c, q)
            tag_len = g16(c, q + 2)
            q += 4
            if tag_type or tag_len:
                o.append(" [%s" % _PPPOE_TAGS.get(tag_type, "TAG-0x%x" % tag_type))
                if tag_len:
                    need(c, q, tag_len)
                    data = c.d[q:q + tag_len]
                    if _pppoe_printable(data):
                        o.append(" \"" + data.decode("latin-1")[:80] + "\"")
                    else:
                        o.append(" 0x" + data[:80].hex().upper())
                    if tag_len > 80:
                        o.append("...")
                o.append("]")
            q += tag_len
        return
    o.append(" ")
    ppp_print(c, q, plen)


def _pppoe_printable(data):
    tag_isascii = True
    for b in data[:80]:
        if not (0x20 <= b < 0x7F):
            tag_isascii = False
            break
    return tag_isascii


def ppp_print(c, p, length):
    c.proto = "ppp"
    o = c.o
    if length < 2:
        o.append("[|ppp]")
        return
    proto = g16(c, p)
    if proto == 0xFF03:
        p += 2
        length -= 2
        if length < 2:
            o.append("[|ppp]")
            return
        proto = g16(c, p)
    if proto & 0x0100 == 0 and g8(c, p) & 1:
        # single-byte protocol field (PFC)
        proto = g8(c, p)
        p += 1
        length -= 1
    else:
        p += 2
        length -= 2
    if c.e:
        o.append("%s (0x%04x), length %u: " % ({0x21: "IP", 0x0021: "IP", 0x57: "IPV6", 0xC021: "LCP"}.get(proto, "unknown"), proto, length + 2))
    if proto in (0x21, 0x0021):
        ip_print(c, p, length)
    elif proto in (0x57, 0x0057):
        ip6_print(c, p, length)
    elif proto == 0xC021:
        code = g8(c, p)
        names = {1: "Conf-Request", 2: "Conf-Ack", 3: "Conf-Nack", 4: "Conf-Reject",
                 5: "Term-Request", 6: "Term-Ack", 7: "Code-Reject", 8: "Prot-Reject",
                 9: "Echo-Request", 10: "Echo-Reply", 11: "Disc-Req", 12: "Ident",
                 13: "Time-Rem", 14: "Reset-Req", 15: "Reset-Ack"}
        c.proto = "lcp"
        o.append("LCP, %s (0x%02x), id %u, length %u" % (names.get(code, "unknown"), code, g8(c, p + 1), length + 2))
    else:
        generic_print(c, "ppp", "PPP", length)


# --------------------------------------------------------------------------
# IPv4 (print-ip.c)

_IP_FRAG_FLAGS = ((0x2000, "+"), (0x4000, "DF"), (0x8000, "rsvd"))
_IPOPT_NAMES = {0: "EOL", 1: "NOP", 68: "timestamp", 130: "security", 7: "RR", 137: "SSRR",
                131: "LSRR", 148: "RA", 82: "traceroute"}


def ip_optprint(c, p, length):
    o = c.o
    sep = ""
    while length > 0:
        o.append(sep)
        sep = ","
        code = g8(c, p)
        o.append(_IPOPT_NAMES.get(code, "unknown %u" % code))
        if code in (0, 1):
            olen = 1
        else:
            olen = g8(c, p + 1)
            if olen < 2:
                o.append(" [bad length %u]" % olen)
                return 0
        if olen > length:
            o.append(" [bad length %u]" % olen)
            return 0
        if not tt(c, p, olen):
            return -1
        if code == 0:
            return 0
        if code == 68:
            if olen < 4:
                o.append("[bad length %u]" % olen)
            else:
                _ip_printts(c, p, olen)
        elif code in (7, 137, 131):
            if olen < 3:
                o.append(" [bad length %u]" % olen)
            else:
                if (olen + 1) & 3:
                    o.append(" [bad length %u]" % olen)
                ptr = g8(c, p + 2) - 1
                if ptr < 3 or ((ptr + 1) & 3) or ptr > olen + 1:
                    o.append(" [bad ptr %u]" % g8(c, p + 2))
                ln = 3
                while ln < olen:
                    if not tt(c, p + ln, 4):
                        return -1
                    o.append(" %s" % ipaddr(c, p + ln))
                    if ptr > ln:
                        o.append(",")
                    ln += 4
        elif code == 148:
            if olen < 4:
                o.append(" [bad length %u]" % olen)
            elif g16(c, p + 2) != 0:
                o.append(" value %u" % g16(c, p + 2))
        p += olen
        length -= olen
    return 0


def _ip_printts(c, p, length):
    o = c.o
    o.append(" TS{")
    flg = g8(c, p + 3)
    hoplen = 4 if (flg & 0xF) == 0 else 8
    if (length - 4) & (hoplen - 1):
        o.append("[bad length %u]" % length)
    ptr = g8(c, p + 2) - 1
    ln = 0
    if ptr < 4 or ((ptr - 4) & (hoplen - 1)) or ptr > length + 1:
        o.append("[bad ptr %u]" % g8(c, p + 2))
    t = flg & 0xF
    if t == 0:
        o.append("TSONLY")
    elif t == 1:
        o.append("TS+ADDR")
    elif t == 3:
        o.append("PRESPEC")
    else:
        o.append("[bad ts type %u]" % t)
        o.append(" ^ " if ptr == ln else "")
        o.append(" [%u hops not recorded]} " % (flg >> 4) if flg >> 4 else "}")
        return
    typ = " "
    ln = 4
    while ln < length:
        if ptr == ln:
            typ = " ^ "
        need(c, p + ln, hoplen)
        o.append("%s%u@%s" % (typ, g32(c, p + ln + hoplen - 4), "" if hoplen != 8 else ipaddr(c, p + ln)))
        typ = " "
        ln += hoplen
    o.append(" ^ " if ptr == ln else "")
    o.append(" [%u hops not recorded]} " % (flg >> 4) if flg >> 4 else "}")


def ip_print(c, p, length):
    c.proto = "ip"
    o = c.o
    vb = g8(c, p)
    ver = vb >> 4
    if ver != 4:
        if ver == 6:
            o.append("IP6, wrong link-layer encapsulation")
        else:
            o.append("IP%u" % ver)
        o.append(" (invalid)")
        return
    if not c.e:
        o.append("IP ")
    if p + 20 > c.end:      # ND_TCHECK in print-ip.c: printed, no longjmp
        trunc(c)
        return
    if length < 20:
        o.append("truncated-ip %u" % length)
        return
    d = c.d
    hlen = (vb & 0x0F) * 4
    if hlen < 20:
        o.append("bad-hlen %u" % hlen)
        return
    _, tos, ip_len, ip_id, off, ttl, nh, _sum, src, dst = _S_IPV4.unpack_from(d, p)
    ln = ip_len
    if length < ln:
        o.append("truncated-ip - %u bytes missing! " % (ln - length))
    if ln < hlen:
        o.append("bad-len %u" % ln)
        return
    save_end = c.end
    if p + ln < c.end:
        c.end = p + ln
    ln -= hlen
    if c.v:
        o.append("(tos 0x%x" % tos)
        ecn = tos & 3
        if ecn == 1:
            o.append(",ECT(1)")
        elif ecn == 2:
            o.append(",ECT(0)")
        elif ecn == 3:
            o.append(",CE")
        if ttl >= 1:
            o.append(", ttl %u" % ttl)
        o.append(", id %u, offset %u, flags [%s], proto %s (%u)" % (
            ip_id, (off & 0x1FFF) * 8, bittok_nosep(_IP_FRAG_FLAGS, "none", off & 0xE000),
            T.IPPROTO_NAMES.get(nh, "unknown"), nh))
        o.append(", length %u" % ip_len)
        truncated = False
        if hlen > 20:
            o.append(", options (")
            if ip_optprint(c, p + 20, hlen - 20) == -1:
                o.append(" [truncated-option]")
                truncated = True
            o.append(")")
        if not c.k and p + hlen <= c.end:
            s = in_cksum(d[p:p + hlen])
            if s != 0:
                o.append(", bad cksum %x (->%x)!" % (_sum, cksum_shouldbe(_sum, s)))
        o.append(")\n    ")
        if truncated:
            o.append("%s > %s: " % (ipaddr_bytes(c, src), ipaddr_bytes(c, dst)))
            trunc(c)
            c.end = save_end
            return
    if (off & 0x1FFF) == 0:
        if nh != 6 and nh != 17 and nh != 132 and nh != 33:
            o.append("%s > %s: " % (ipaddr_bytes(c, src), ipaddr_bytes(c, dst)))
        if p + hlen > c.end:
            o.append(" [remaining caplen(%u) < header length(%u)]" % (avail(c, p), hlen))
            raise Trunc
        ip_demux_print(c, p + hlen, ln, 4, off & 0x2000, ttl, nh, p)
    else:
        if c.q > 1:
            c.end = save_end
            return
        o.append("%s > %s:" % (ipaddr_bytes(c, src), ipaddr_bytes(c, dst)))
        o.append(ipproto_name(c, nh))
    c.end = save_end


def ip_demux_print(c, p, length, ver, fragmented, ttl_hl, nh, iph):
    o = c.o
    while True:
        if nh == 6:
            tcp_print(c, p, length, iph, fragmented)
        elif nh == 17:
            udp_print(c, p, length, iph, fragmented, ttl_hl)
        elif nh == 1:
            if ver == 4:
                icmp_print(c, p, length, iph, fragmented)
            else:
                o.append("[ICMP requires IPv4] (invalid)")
        elif nh == 58:
            if ver == 6:
                icmp6_print(c, p, length, iph, fragmented)
            else:
                o.append("[ICMPv6 requires IPv6] (invalid)")
        elif nh == 51:
            if not tt(c, p, 1):
                c.proto = "ah"
                trunc(c)
                return
            nh = c.d[p]
            adv = ah_print(c, p)
            if adv <= 0:
                return
            p += adv
            length -= adv
            continue
        elif nh == 50:
            esp_print(c, p, length)
        elif nh == 108:
            c.proto = "ipcomp"
            o.append("IPComp(cpi=0x%04x)" % g16(c, p + 2))
        elif nh == 4:
            ip_print(c, p, length)
        elif nh == 41:
            ip6_print(c, p, length)
        elif nh == 2:
            if ver == 4:
                igmp_print(c, p, length)
            else:
                o.append("[IGMP requires IPv4] (invalid)")
        elif nh == 47:
            gre_print(c, p, length)
        elif nh == 112:
            vrrp_print(c, p, length, iph, ttl_hl)
        elif nh == 89:
            ospf_print(c, p, length, ver)
        elif nh == 88:
            eigrp_print(c, p, length)
        elif nh == 103:
            pim_print(c, p, length, ver, iph)
        elif nh == 143:
            if ver == 6:
                ether_print(c, p, length)
            else:
                o.append("[Ethernet requires IPv6] (invalid)")
        elif nh == 59:
            o.append("no next header")
        elif nh == 77:
            o.append(" nd %u" % length)
        elif nh == 132:
            sctp_print(c, p, iph, length)
        elif nh == 33:
            if c.v:
                _ports_fallback(c, p, iph, "dccp", "DCCP", length)
            else:
                dccp_print(c, p, iph, length)
        elif nh == 46 and not c.v:
            rsvp_print(c, p, length)
        elif nh == 113 and not c.v:
            pgm_print(c, p, iph)
        elif nh in _IP_FALLBACK:
            proto, label = _IP_FALLBACK[nh]
            generic_print(c, proto, label, length)
        else:
            o.append("%s %u" % (ipproto_name(c, nh), length))
        return


_IP_FALLBACK = {
    9: ("igrp", "igrp"), 8: ("egp", "EGP"), 46: ("rsvp", "RSVP"),
    55: ("mobile", "mobile"), 113: ("pgm", "PGM"),
}


def pgm_print(c, p, iph):
    """pgm_print() without -v: the addresses with the ports, then the TSDU
    length of the header (the -v details are not decoded)."""
    c.proto = "pgm"
    o = c.o
    d = c.d
    six = d[iph] >> 4 == 6
    if not tt(c, p + 2, 2):
        o.append("%s > %s:" % _addr_pair(c, iph, six))
        trunc(c)
        return
    _ports_line(c, iph, 113, tcpport(c, g16(c, p)), tcpport(c, g16(c, p + 2)))
    need(c, p, 16)
    o.append("PGM, length %u" % g16(c, p + 14))


def _ports_fallback(c, p, iph, proto, label, length):
    """For SCTP/DCCP: tcpdump prints addresses with ports itself."""
    c.proto = proto
    o = c.o
    d = c.d
    is6 = (d[iph] >> 4) == 6
    if not tt(c, p, 4):
        if is6:
            o.append("%s > %s: " % (ip6addr(c, iph + 8), ip6addr(c, iph + 24)))
        else:
            o.append("%s > %s: " % (ipaddr(c, iph + 12), ipaddr(c, iph + 16)))
        trunc(c)
        return
    sp, dp = _S_HH.unpack_from(d, p)
    if is6:
        o.append("%s.%u > %s.%u: " % (ip6addr(c, iph + 8), sp, ip6addr(c, iph + 24), dp))
    else:
        o.append("%s.%u > %s.%u: " % (ipaddr(c, iph + 12), sp, ipaddr(c, iph + 16), dp))
    o.append("%s, length %u" % (label, length))


def ah_print(c, p):
    c.proto = "ah"
    o = c.o
    need(c, p, 8)
    field = g8(c, p + 1)
    sumlen = field << 2
    o.append("AH(")
    if c.v:                 # the length field, and the header's bytes it means
        o.append("length=%u(%u-bytes)," % (field, (field + 2) * 4))
    o.append("spi=0x%08x,seq=0x%x" % (g32(c, p + 4), g32(c, p + 8)))
    if not tt(c, p, 8 + sumlen):
        o.append("[truncated]):")
        return -1
    if sumlen > 4:
        o.append(",icv=0x" + c.d[p + 12:p + 8 + sumlen].hex())
    o.append("): ")
    return 8 + sumlen


def isakmp_rfc3948_print(c, p, length):
    """isakmp_rfc3948_print(): UDP port 4500 (NAT traversal) carries a
    keep-alive, IKE behind four zero bytes, or ESP."""
    c.proto = "isakmp_rfc3948"
    o = c.o
    if length == 1 and g8(c, p) == 0xFF:
        o.append("isakmp-nat-keep-alive")
        return
    if length < 4:
        trunc(c)
        return
    if g32(c, p) == 0:
        o.append("NONESP-encap: ")
        _more.isakmp_print(c, p + 4, length - 4)
        return
    o.append("UDP-encap: ")
    esp_print(c, p, length)


def esp_print(c, p, length):
    c.proto = "esp"
    o = c.o
    if not tt(c, p, 8):
        if tt(c, p, 4):
            o.append("ESP(spi=0x%08x" % g32(c, p))
        trunc(c)
        return
    o.append("ESP(spi=0x%08x,seq=0x%x), length %u" % (g32(c, p), g32(c, p + 4), length))


def igmp_print(c, p, length):
    c.proto = "igmp"
    o = c.o
    if length < 1:
        o.append(" [|igmp]")
        return
    t = g8(c, p)
    if t == 0x11:
        o.append("igmp query")
        if length >= 12:
            o.append(" v3")
            mrc = g8(c, p + 1)
            if mrc < 128:
                mrt = mrc
            else:
                mrt = ((mrc & 0x0F) | 0x10) << (((mrc & 0x70) >> 4) + 3)
            if mrc != 100:
                o.append(" [max resp time ")
                if mrt < 600:
                    o.append("%.1fs" % (mrt * 0.1))
                else:
                    o.append(_relts(mrt // 10))
                o.append("]")
            grp = g32(c, p + 4)
            if grp:
                o.append(" [gaddr %s" % ipaddr(c, p + 4))
                nsrcs = g16(c, p + 10)
                if nsrcs:
                    o.append(", %u source(s)" % nsrcs)
                o.append("]")
            else:
                nsrcs = g16(c, p + 10)
                if nsrcs:
                    o.append(" [gaddr 0.0.0.0, %u source(s)]" % nsrcs)
        else:
            mrc = g8(c, p + 1)
            if mrc:
                o.append(" v2")
                if mrc != 100:
                    o.append(" [max resp time %u]" % mrc)
            else:
                o.append(" v1")
            if g32(c, p + 4):
                o.append(" [gaddr %s]" % ipaddr(c, p + 4))
            if length != 8:
                o.append(" [len %u]" % length)
    elif t == 0x12:
        o.append("igmp v1 report %s" % ipaddr(c, p + 4))
        if length != 8:
            o.append(" [len %u]" % length)
    elif t == 0x16:
        o.append("igmp v2 report %s" % ipaddr(c, p + 4))
    elif t == 0x22:
        o.append("igmp v3 report")
        ng = g16(c, p + 6)
        o.append(", %u group record(s)" % ng)
    elif t == 0x17:
        o.append("igmp leave %s" % ipaddr(c, p + 4))
    elif t == 0x13:
        o.append("igmp dvmrp")
    elif t == 0x14:
        o.append("igmp pimv1")
    elif t == 0x1E:
        o.append("igmp mtrace-resp")
    elif t == 0x1F:
        o.append("igmp mtrace")
    else:
        o.append("igmp-%d" % t)


def _relts(secs):
    if secs == 0:
        return "0s"
    out = []
    neg = secs < 0
    if neg:
        secs = -secs
    for unit, n in (("y", 31536000), ("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if secs >= n:
            out.append("%d%s" % (secs // n, unit))
            secs %= n
    return ("-" if neg else "") + "".join(out)


def vrrp_print(c, p, length, iph, ttl):
    c.proto = "vrrp"
    o = c.o
    vt = g8(c, p)
    version = vt >> 4
    typ = vt & 0xF
    tname = {1: "Advertisement"}.get(typ, "unknown type %u" % typ)
    o.append("VRRPv%u, %s" % (version, tname))
    if ttl != 255:
        o.append(", (ttl %u)" % ttl)
    if version < 2 or version > 3 or typ != 1:
        return
    o.append(", vrid %u, prio %u" % (g8(c, p + 1), g8(c, p + 2)))
    naddrs = g8(c, p + 3)
    if version == 2:
        auth = g8(c, p + 4)
        o.append(", authtype %s" % {0: "none", 1: "simple", 2: "ah"}.get(auth, "unknown"))
        o.append(", intvl %us, length %u" % (g8(c, p + 5), length))
    else:
        intvl = g16(c, p + 4) & 0xFFF
        o.append(", intvl %ucs, length %u" % (intvl, length))
    if c.v:
        if tt(c, p, length) and (in_cksum(c.d[p:p + length]) if version == 2 else
                                 nextproto_cksum(c, iph, p, length, 112)):
            o.append(", (bad vrrp cksum %x)" % g16(c, p + 6))
        o.append(", addrs")
        if naddrs > 1:
            o.append("(%d)" % naddrs)
        o.append(":")
        q = p + 8
        six = c.d[iph] >> 4 == 6          # the addresses are of the IP version carrying it
        for i in range(naddrs):
            o.append("%c%s" % (" " if i == 0 else ",", ip6addr(c, q) if six else ipaddr(c, q)))
            q += 16 if six else 4
        if version == 2 and auth == 1:      # simple text password, zero-filled to 8
            o.append(' auth "')
            nd_printjnp(c, q, 8)
            o.append('"')


_OSPF_TYPES = {1: "Hello", 2: "Database Description", 3: "LS-Request", 4: "LS-Update", 5: "LS-Ack"}


def ospf_print(c, p, length, ver):
    c.proto = "ospf" if ver == 4 else "ospf6"
    o = c.o
    v = g8(c, p)
    t = g8(c, p + 1)
    o.append("OSPFv%u, %s, length %u" % (v, _OSPF_TYPES.get(t, "unknown packet type (%u)" % t), length))
    if t not in _OSPF_TYPES or not c.v:
        return
    if v == 3 or ver == 6:
        _ospf6_detail(c, p, length, t)
    else:
        _ospf2_detail(c, p, length, t, v)


_OSPF2_OPTIONS = ((0x01, "MultiTopology"), (0x02, "External"), (0x04, "Multicast"), (0x08, "NSSA"),
                  (0x10, "LLS"), (0x20, "Demand Circuit"), (0x40, "Opaque"), (0x80, "Up/Down"))
_OSPF6_OPTIONS = ((0x01, "V6"), (0x02, "External"), (0x04, "Deprecated"), (0x08, "NSSA"),
                  (0x10, "Router"), (0x20, "Demand Circuit"), (0x100, "AFs Support"),
                  (0x200, "LLS"), (0x400, "Authentication Trailer"))
_OSPF6_DD_FLAGS = ((0x04, "Init"), (0x02, "More"), (0x01, "Master"), (0x10, "IPv6 MTU"))


def _ospf_area(c, p):
    return ", Area %s" % ipaddr(c, p) if g32(c, p) else ", Backbone Area"


def _ospf2_detail(c, p, length, t, v):
    """ospf_print() with -v, OSPFv2: the header and authentication, and a
    Hello's fields (pycap decodes no other OSPFv2 message yet)."""
    o = c.o
    olen = g16(c, p + 2)
    if length != olen:
        o.append(" [len %u]" % olen)
    end = p + min(length, olen)
    o.append("\n\tRouter-ID %s%s" % (ipaddr(c, p + 4), _ospf_area(c, p + 8)))
    need(c, p + 16, 8)
    auth = g16(c, p + 14)
    o.append(", Authentication Type: %s (%u)" % ({0: "none", 1: "simple", 2: "MD5"}.get(auth, "unknown"),
                                                 auth))
    if auth == 1:
        o.append("\n\tSimple text password: ")
        nd_printjnp(c, p + 16, 8)
    elif auth == 2:
        o.append("\n\tKey-ID: %u, Auth-Length: %u, Crypto Sequence Number: 0x%08x" % (
            g8(c, p + 18), g8(c, p + 19), g32(c, p + 20)))
    elif auth != 0:
        return
    if v != 2:
        o.append(" ospf [version %u]" % v)
        return
    if t == 1:
        h = p + 24
        o.append("\n\tOptions [%s]" % bittok(_OSPF2_OPTIONS, "none", g8(c, h + 6)))
        o.append("\n\t  Hello Timer %us, Dead Timer %us, Mask %s, Priority %u" % (
            g16(c, h + 4), g32(c, h + 8), ipaddr(c, h), g8(c, h + 7)))
        _ospf_routers(c, h + 12, end, h + 20 < end)


def _ospf_routers(c, dr, end, heading):
    """A Hello's designated and backup designated routers (where set), then
    its neighbours up to ``end`` under a heading."""
    o = c.o
    if g32(c, dr):
        o.append("\n\t  Designated Router %s" % ipaddr(c, dr))
    if g32(c, dr + 4):
        o.append(", Backup Designated Router %s" % ipaddr(c, dr + 4))
    if heading:
        o.append("\n\t  Neighbor List:")
    for q in range(dr + 8, end, 4):
        o.append("\n\t    %s" % ipaddr(c, q))


def _ospf6_detail(c, p, length, t):
    """ospf6_print() with -v: the header, a Hello's and a Database
    Description's fields (the LSAs and LSA headers -vv adds are not decoded)."""
    o = c.o
    datalen = g16(c, p + 2)
    if datalen > length:
        o.append(" [len %u]" % datalen)
        return
    if datalen < 16:
        o.append(" [len %u < 16]" % datalen)
        raise Trunc
    o.append("\n\tRouter-ID %s%s" % (ipaddr(c, p + 4), _ospf_area(c, p + 8)))
    if g8(c, p + 14):
        o.append(", Instance %u" % g8(c, p + 14))
    b = p + 16
    if t == 1:
        o.append("\n\tOptions [%s]" % bittok(_OSPF6_OPTIONS, "none", g32(c, b + 4)))
        o.append("\n\t  Hello Timer %us, Dead Timer %us, Interface-ID %s, Priority %u" % (
            g16(c, b + 8), g16(c, b + 10), ipaddr(c, b), g8(c, b + 4)))
        _ospf_routers(c, b + 12, p + datalen if c.v > 1 else b + 20, c.v > 1)
    elif t == 2:
        o.append("\n\tOptions [%s], DD Flags [%s], MTU %u, DD-Sequence 0x%08x" % (
            bittok(_OSPF6_OPTIONS, "none", g32(c, b)), bittok(_OSPF6_DD_FLAGS, "none", g8(c, b + 7)),
            g16(c, b + 4), g32(c, b + 8)))


_PIM_TYPES = {0: "Hello", 1: "Register", 2: "Register Stop", 3: "Join / Prune", 4: "Bootstrap",
              5: "Assert", 6: "Graft", 7: "Graft Reply", 8: "Candidate RP Advertisement",
              9: "Prune Refresh", 10: "DF Election", 13: "Source Active"}


def pim_print(c, p, length, ver, iph):
    c.proto = "pim"
    o = c.o
    b = g8(c, p)
    v = b >> 4
    t = b & 0xF
    if v == 2 and c.v:
        o.append("PIMv2, length %u\n\t%s" % (length, _PIM_TYPES.get(t, "Unknown Type")))
        pimv2_print(c, p, length, iph)
    elif v == 2:
        o.append("PIMv%u, %s" % (v, _PIM_TYPES.get(t, "unknown type (%u)" % t)))
        o.append(", length %u" % length)
    else:
        generic_print(c, "pim", "PIMv%u" % v, length)


_PIM_HELLO_LENGTHS = {1: 2, 2: 4, 20: 4, 21: 4}     # Hello options of one fixed length
_PIM_HELLO_OPTIONS = {1: "Hold Time", 2: "LAN Prune Delay", 18: "DR Priority (Old)",
                      19: "DR Priority", 20: "Generation ID", 21: "State Refresh Capability",
                      22: "Bi-Directional Capability", 24: "Address List",
                      65001: "Address List (Old)"}
_PIM_DF = {1: "Offer", 2: "Winner", 3: "Backoff", 4: "Pass"}


class _PimBad(Exception):
    """pimv2_addr_print() could not read an address: the packet ends as truncated."""


def _pim_addr(c, p, left, kind, alen):
    """pimv2_addr_print(): an encoded unicast, group or source address
    (or, with the RFC 2117 length in the header, a bare one); its length."""
    o = c.o
    if alen == 0:
        if left < 2:
            raise _PimBad
        fam = g8(c, p)
        if fam not in (1, 2) or g8(c, p + 1) != 0:
            raise _PimBad
        alen = 4 if fam == 1 else 16
        hdr = 2
    elif alen in (4, 16):
        hdr = 0
    else:
        raise _PimBad
    q, left = p + hdr, left - hdr
    text = ipaddr if alen == 4 else ip6addr
    if kind == "unicast":
        if left < alen or not tt(c, q, alen):
            raise _PimBad
        o.append(text(c, q))
        return hdr + alen
    if left < alen + 2 or not tt(c, q, alen + 2):
        raise _PimBad
    flags, mask = c.d[q], c.d[q + 1]
    o.append(text(c, q + 2))
    if mask != alen * 8:
        o.append("/%u" % mask)
    if flags:
        if kind == "group":
            o.append("(0x%02x)" % flags)
        else:
            o.append("(%s%s%s%s)" % ("S" if flags & 4 else "", "W" if flags & 2 else "",
                                     "R" if flags & 1 else "",
                                     "+0x%02x" % (flags & 0xF8) if flags & 0xF8 else ""))
    return hdr + 2 + alen


def _pim_checksum(c, p, length, iph):
    """pimv2_check_checksum(): "correct", "incorrect", or "unverified" when the
    message is not all captured."""
    if not tt(c, p, length):
        return "unverified"
    if c.d[iph] >> 4 == 6:
        bad = nextproto_cksum(c, iph, p, length, 103)
    else:
        bad = in_cksum(c.d[p:p + length])                # no pseudo-header over IPv4
    return "incorrect" if bad else "correct"


def pimv2_print(c, p, length, iph):
    """pimv2_print(): the message after its type, with -v."""
    c.proto = "pimv2"
    o = c.o
    if length < 2:
        o.append("[length %u < 2] (invalid)" % length)
        return
    t = g8(c, p) & 0xF
    rsv = g8(c, p + 1)
    alen = rsv & 0x0F
    if alen:
        o.append(", RFC2117-encoding")
    if length < 4:
        o.append("[length %u < 4] (invalid)" % length)
        return
    cksum = g16(c, p + 2)
    if cksum == 0:
        status = "unverified"
    elif t == 1:
        status = _pim_checksum(c, p, 8, iph)
        if status == "incorrect":
            status = _pim_checksum(c, p, length, iph)
    else:
        status = _pim_checksum(c, p, length, iph)
    o.append(", cksum 0x%04x (%s)" % (cksum, status))
    p, left = p + 4, length - 4
    try:
        _pimv2_body(c, p, left, t, rsv, alen)
    except _PimBad:
        trunc(c)


def _pimv2_body(c, p, left, t, rsv, alen):
    o = c.o

    def addr(kind):
        nonlocal p, left
        n = _pim_addr(c, p, left, kind, alen)
        p, left = p + n, left - n

    def need_left(n):
        if left < n:
            raise _PimBad

    if t == 0:                                          # Hello
        while left > 0:
            need_left(4)
            otype, olen = g16(c, p), g16(c, p + 2)
            o.append("\n\t  %s Option (%u), length %u, Value: " % (
                _PIM_HELLO_OPTIONS.get(otype, "Unknown"), otype, olen))
            p, left = p + 4, left - 4
            need_left(olen)
            need(c, p, olen)
            fixed = _PIM_HELLO_LENGTHS.get(otype)
            if fixed is not None and olen != fixed:
                o.append("[option length %u != %u] (invalid)" % (olen, fixed))
                return
            if otype == 1:
                o.append(_relts(g16(c, p)))
            elif otype == 2:
                delay, override = g16(c, p), g16(c, p + 2)
                o.append("\n\t    T-bit=%u, LAN delay %ums, Override interval %ums" % (
                    1 if delay & 0x8000 else 0, delay & 0x7FFF, override))
            elif otype in (18, 19):
                if olen == 0:
                    o.append("Bi-Directional Capability (Old)")
                elif olen == 4:
                    o.append("%u" % g32(c, p))
                else:
                    o.append("[option length %u != 4] (invalid)" % olen)
                    return
            elif otype == 20:
                o.append("0x%08x" % g32(c, p))
            elif otype == 21:
                o.append("v%u" % g8(c, p))
                if g8(c, p + 1):
                    o.append(", interval " + _relts(g8(c, p + 1)))
                if g16(c, p + 2):
                    o.append(" ?0x%04x?" % g16(c, p + 2))
            elif otype == 22:
                pass
            elif otype in (24, 65001):
                if c.v > 1:
                    q, qleft = p, left
                    while q < p + olen:
                        o.append("\n\t    ")
                        n = _pim_addr(c, q, qleft, "unicast", alen)
                        q, qleft = q + n, qleft - n
            elif c.v <= 1:
                print_unknown_data(c, p, "\n\t    ", olen)
            if c.v > 1:
                print_unknown_data(c, p, "\n\t    ", olen)
            p, left = p + olen, left - olen
    elif t == 1:                                        # Register
        need_left(4)
        flags = g32(c, p)
        o.append(", Flags [ %s ]\n\t" % {0x80000000: "Border", 0x40000000: "Null"}.get(flags, "none"))
        p, left = p + 4, left - 4
        need_left(1)
        ver = g8(c, p) >> 4
        if ver == 0:
            o.append("IP-Null-header %s > %s" % (ipaddr(c, p + 12), ipaddr(c, p + 16)))
        elif ver == 4:
            ip_print(c, p, left)
        elif ver == 6:
            ip6_print(c, p, left)
        else:
            o.append("IP ver %u" % ver)
    elif t == 2:                                        # Register Stop
        o.append(" group=")
        addr("group")
        o.append(" source=")
        addr("unicast")
    elif t in (3, 6, 7):                                # Join / Prune, Graft, Graft Ack
        if t != 7:
            o.append(", upstream-neighbor: ")
            addr("unicast")
        need_left(4)
        ngroup, hold = g8(c, p + 1), g16(c, p + 2)
        o.append("\n\t  %u group(s)" % ngroup)
        if t != 7:
            o.append(", holdtime: " + ("infinite" if hold == 0xFFFF else _relts(hold)))
        p, left = p + 4, left - 4
        for i in range(ngroup):
            o.append("\n\t    group #%u: " % (i + 1))
            addr("group")
            need_left(4)
            njoin, nprune = g16(c, p), g16(c, p + 2)
            o.append(", joined sources: %u, pruned sources: %u" % (njoin, nprune))
            p, left = p + 4, left - 4
            for label, n in (("joined", njoin), ("pruned", nprune)):
                for j in range(n):
                    o.append("\n\t      %s source #%u: " % (label, j + 1))
                    addr("source")
    elif t == 4:                                        # Bootstrap
        need_left(2)
        o.append(" tag=%x" % g16(c, p))
        p, left = p + 2, left - 2
        need_left(1)
        o.append(" hashmlen=%u" % g8(c, p))
        need_left(2)
        o.append(" BSRprio=%u" % g8(c, p + 1))
        p, left = p + 2, left - 2
        o.append(" BSR=")
        addr("unicast")
        i = 0
        while left > 0:
            o.append(" (group%u: " % i)
            addr("group")
            need_left(1)
            o.append(" RPcnt=%u" % g8(c, p))
            need_left(2)
            frpcnt = g8(c, p + 1)
            o.append(" FRPcnt=%u" % frpcnt)
            need_left(4)
            p, left = p + 4, left - 4
            j = 0
            while j < frpcnt and left > 0:
                o.append(" RP%u=" % j)
                addr("unicast")
                need_left(2)
                o.append(",holdtime=" + _relts(g16(c, p)))
                need_left(3)
                o.append(",prio=%u" % g8(c, p + 2))
                need_left(4)
                p, left = p + 4, left - 4
                j += 1
            o.append(")")
            i += 1
    elif t == 5:                                        # Assert
        o.append(" group=")
        addr("group")
        o.append(" src=")
        addr("unicast")
        need_left(8)
        need(c, p, 8)
        if c.d[p] & 0x80:
            o.append(" RPT")
        o.append(" pref=%u metric=%u" % (g32(c, p) & 0x7FFFFFFF, g32(c, p + 4)))
    elif t == 8:                                        # Candidate RP Advertisement
        need_left(1)
        pfxcnt = g8(c, p)
        o.append(" prefix-cnt=%u" % pfxcnt)
        need_left(2)
        o.append(" prio=%u" % g8(c, p + 1))
        need_left(4)
        o.append(" holdtime=" + _relts(g16(c, p + 2)))
        p, left = p + 4, left - 4
        o.append(" RP=")
        addr("unicast")
        i = 0
        while i < pfxcnt and left > 0:
            o.append(" Group%u=" % i)
            addr("group")
            i += 1
    elif t == 9:                                        # Prune Refresh
        o.append(" src=")
        addr("unicast")
        o.append(" grp=")
        addr("group")
        o.append(" forwarder=")
        addr("unicast")
        need_left(2)
        o.append(" TUNR " + _relts(g16(c, p)))
    elif t == 10:                                       # DF Election
        sub = rsv >> 4
        o.append("\n\t  %s," % _PIM_DF.get(sub, "Unknown"))
        o.append(" rpa=")
        addr("unicast")
        o.append(" sender pref=%u sender metric=%u" % (g32(c, p), g32(c, p + 4)))
        p, left = p + 8, left - 8
        if sub in (3, 4):
            what = "offer" if sub == 3 else "new winner"
            o.append("\n\t  %s addr=" % what)
            addr("unicast")
            o.append(" %s pref=%u %s metric=%u" % (what, g32(c, p), what, g32(c, p + 4)))
            p, left = p + 8, left - 8
            if sub == 3:
                o.append(" interval %dms" % g16(c, p))
    else:
        o.append(" [type %u]" % t)


_GRE_FLAGS = ((0x8000, "checksum present"), (0x4000, "routing present"), (0x2000, "key present"),
              (0x1000, "sequence# present"), (0x0800, "source routing present"),
              (0x0080, "ack present"))


class _GreTrunc(Exception):
    pass


def gre_print(c, p, length):
    """gre_print() (print-gre.c)."""
    c.proto = "gre"
    o = c.o
    try:
        if not tt(c, p, 2):
            raise _GreTrunc
        if length < 2:
            raise _GreTrunc
        vers = g16(c, p) & 7
        o.append("GREv%u" % vers)
        if vers == 0:
            _gre0(c, p, length)
        elif vers == 1:
            _gre1(c, p, length)
        else:
            o.append(" ERROR: unknown-version")
    except _GreTrunc:
        trunc(c)


def _gre_need(c, p, n, ln):
    if not tt(c, p, n) or ln < n:
        raise _GreTrunc


def _gre0(c, bp, length):
    o = c.o
    ln = length
    flags = g16(c, bp)
    if c.v:
        o.append(", Flags [%s]" % bittok(_GRE_FLAGS, "none", flags))
    ln -= 2
    bp += 2
    _gre_need(c, bp, 2, ln)
    prot = g16(c, bp)
    ln -= 2
    bp += 2
    if flags & 0xC000:
        _gre_need(c, bp, 2, ln)
        if c.v:
            o.append(", sum 0x%x" % g16(c, bp))
        bp += 2
        ln -= 2
        _gre_need(c, bp, 2, ln)
        o.append(", off 0x%x" % g16(c, bp))
        bp += 2
        ln -= 2
    if flags & 0x2000:
        _gre_need(c, bp, 4, ln)
        o.append(", key=0x%x" % g32(c, bp))
        bp += 4
        ln -= 4
    if flags & 0x1000:
        _gre_need(c, bp, 4, ln)
        o.append(", seq %u" % g32(c, bp))
        bp += 4
        ln -= 4
    if flags & 0x4000:
        while True:
            _gre_need(c, bp, 4, ln)
            af = g16(c, bp)
            sreoff = g8(c, bp + 2)
            srelen = g8(c, bp + 3)
            bp += 4
            ln -= 4
            if af == 0 and srelen == 0:
                break
            if not _gre_sre(c, af, sreoff, srelen, bp, ln):
                raise _GreTrunc
            if ln < srelen:
                raise _GreTrunc
            bp += srelen
            ln -= srelen
    if c.e:
        o.append(", proto %s (0x%04x)" % (T.ETHERTYPE_NAMES.get(prot, "unknown"), prot))
    o.append(", length %u" % length)
    o.append(": " if c.v < 1 else "\n\t")
    if prot == 0x0800:
        ip_print(c, bp, ln)
    elif prot == 0x86DD:
        ip6_print(c, bp, ln)
    elif prot == 0x8847:
        mpls_print(c, bp, ln)
    elif prot == 0x8137:
        ipx_print(c, bp, ln)
    elif prot == 0x809B:
        generic_print(c, "atalk", "AT", ln)
    elif prot == 0x00FE:
        isoclns_print(c, bp, ln)
    elif prot == 0x6558:
        ether_print(c, bp, ln)
    else:
        o.append("gre-proto-0x%x" % prot)


def _gre1(c, bp, length):
    o = c.o
    ln = length
    flags = g16(c, bp)
    ln -= 2
    bp += 2
    if c.v:
        o.append(", Flags [%s]" % bittok(_GRE_FLAGS, "none", flags))
    _gre_need(c, bp, 2, ln)
    prot = g16(c, bp)
    ln -= 2
    bp += 2
    if flags & 0x2000:
        _gre_need(c, bp, 4, ln)
        o.append(", call %u" % (g32(c, bp) & 0xFFFF))
        ln -= 4
        bp += 4
    if flags & 0x1000:
        _gre_need(c, bp, 4, ln)
        o.append(", seq %u" % g32(c, bp))
        bp += 4
        ln -= 4
    if flags & 0x0080:
        _gre_need(c, bp, 4, ln)
        o.append(", ack %u" % g32(c, bp))
        bp += 4
        ln -= 4
    if not flags & 0x1000:
        o.append(", no-payload")
    if c.e:
        o.append(", proto %s (0x%04x)" % (T.ETHERTYPE_NAMES.get(prot, "unknown"), prot))
    o.append(", length %u" % length)
    if not flags & 0x1000:
        return
    o.append(": " if c.v < 1 else "\n\t")
    if prot == 0x880B:
        ppp_print(c, bp, ln)
    else:
        o.append("gre-proto-0x%x" % prot)


def _gre_sre(c, af, sreoff, srelen, bp, ln):
    o = c.o
    if af == 0x0800:
        o.append(", (rtaf=ip")
        ret = _gre_sre_list(c, sreoff, srelen, bp, ln, 4)
        o.append(")")
        return ret
    if af == 0xFFFE:
        o.append(", (rtaf=asn")
        ret = _gre_sre_list(c, sreoff, srelen, bp, ln, 2)
        o.append(")")
        return ret
    o.append(", (rtaf=0x%x)" % af)
    return True


def _gre_sre_list(c, sreoff, srelen, bp, ln, unit):
    o = c.o
    if sreoff & (unit - 1):
        o.append(", badoffset=%u" % sreoff)
        return True
    if srelen & (unit - 1):
        o.append(", badlength=%u" % srelen)
        return True
    if sreoff >= srelen:
        o.append(", badoff/len=%u/%u" % (sreoff, srelen))
        return True
    up = bp
    while srelen:
        if not tt(c, bp, unit) or ln < unit:
            return False
        mark = "*" if bp - up == sreoff else ""
        if unit == 4:
            o.append(" %s%s" % (mark, ipaddr(c, bp)))
        else:
            o.append(" %s%x" % (mark, g16(c, bp)))
        bp += unit
        ln -= unit
        srelen -= unit
    return True


_HSRP_OPS = {0: "hello", 1: "coup", 2: "resign"}
_HSRP_STATES = {0: "initial", 1: "learn", 2: "listen", 4: "speak", 8: "standby", 16: "active"}


def hsrp_print(c, bp, length):
    c.proto = "hsrp"
    o = c.o
    version = g8(c, bp)
    o.append("HSRPv%u" % version)
    if version != 0:
        return
    o.append("-")
    op = g8(c, bp + 1)
    o.append("%s " % _HSRP_OPS.get(op, "unknown (%u)" % op))
    o.append("%u: " % length)
    st = g8(c, bp + 2)
    o.append("state=%s " % _HSRP_STATES.get(st, "Unknown (%u)" % st))
    o.append("group=%u " % g8(c, bp + 6))
    rsv = g8(c, bp + 7)
    if rsv:
        o.append("[reserved=%u!] " % rsv)
    o.append("addr=%s" % ipaddr(c, bp + 16))
    if c.v:
        o.append(" hellotime=%s holdtime=%s priority=%u" % (
            _relts(g8(c, bp + 3)), _relts(g8(c, bp + 4)), g8(c, bp + 5)))
        need(c, bp + 8, 8)
        auth = c.d[bp + 8:bp + 16]
        z = auth.find(b"\0")
        if z >= 0:
            auth = auth[:z]
        o.append(' auth="%s"' % fn_print_bytes(auth))


_EIGRP_OPS = {1: "Update", 3: "Query", 4: "Reply", 5: "Hello", 6: "IPX SAP", 7: "Probe"}


def eigrp_print(c, bp, length):
    c.proto = "eigrp"
    o = c.o
    if not tt(c, bp, 20):
        trunc(c)
        return
    ver = g8(c, bp)
    if ver != 2:
        o.append("EIGRP version %u packet not supported" % ver)
        return
    op = g8(c, bp + 1)
    if not c.v:
        o.append("EIGRP %s, length: %u" % (_EIGRP_OPS.get(op, "unknown (%u)" % op), length))
        return
    if length < 20:
        o.append("EIGRP %s, length: %u (too short, < 20)" % (_EIGRP_OPS.get(op, "unknown (%u)" % op),
                                                           length))
        return
    flags = g32(c, bp + 4)
    tlen = length - 20
    o.append("\n\tEIGRP v%u, opcode: %s (%u), chksum: 0x%04x, Flags: [%s]"
             "\n\tseq: 0x%08x, ack: 0x%08x, VRID: %u, AS: %u, length: %u" % (
                 ver, _EIGRP_OPS.get(op, "unknown, type: %u" % op), op, g16(c, bp + 2),
                 bittok(((1, "Init"), (2, "Conditionally Received"), (4, "Restart"), (8, "End-of-Table")),
                        "none", flags),
                 g32(c, bp + 8), g32(c, bp + 12), g16(c, bp + 16), g16(c, bp + 18), tlen))
    p = bp + 20
    while tlen > 0:
        need(c, p, 4)
        ttype, tlv_len = g16(c, p), g16(c, p + 2)
        if tlv_len < 4 or tlv_len > tlen:
            print_unknown_data(c, p + 4, "\n\t    ", tlen)
            return
        o.append("\n\t  %s TLV (0x%04x), length: %u" % (_EIGRP_TLVS.get(ttype, "Unknown"), ttype,
                                                          tlv_len))
        need(c, p, tlv_len)
        _eigrp_tlv(c, ttype, p + 4, tlv_len - 4)
        if c.v > 1:
            print_unknown_data(c, p + 4, "\n\t    ", tlv_len - 4)
        p, tlen = p + tlv_len, tlen - tlv_len


_EIGRP_TLVS = {0x0001: "General Parameters", 0x0002: "Authentication", 0x0003: "Sequence",
               0x0004: "Software Version", 0x0005: "Next Multicast Sequence",
               0x0102: "IP Internal routes", 0x0103: "IP External routes",
               0x0202: "AppleTalk Internal routes", 0x0203: "AppleTalk External routes",
               0x0204: "AppleTalk Cable setup", 0x0302: "IPX Internal routes",
               0x0303: "IPX External routes"}
_EIGRP_EXT_PROTOS = {1: "IGRP", 2: "EIGRP", 3: "Static", 4: "RIP", 5: "Hello", 6: "OSPF",
                     7: "IS-IS", 8: "EGP", 9: "BGP", 10: "IDRP", 11: "Connected"}


def _eigrp_route(c, plen_off, nexthop):
    """An IPv4 route of an internal/external TLV: prefix, next hop; False if
    the prefix length is illegal."""
    bits = g8(c, plen_off)
    if bits > 32:
        c.o.append("\n\t    illegal prefix length %u" % bits)
        return False
    nbytes = (bits + 7) // 8
    need(c, plen_off + 1, nbytes)
    prefix = c.d[plen_off + 1:plen_off + 1 + nbytes] + bytes(4 - nbytes)
    c.o.append("\n\t    IPv4 prefix: %15s/%u, nexthop: %s" % (
        ipaddr_bytes(c, prefix), bits, "self" if g32(c, nexthop) == 0 else ipaddr(c, nexthop)))
    return True


def _eigrp_metrics(c, q):
    c.o.append("\n\t      delay %u ms, bandwidth %u Kbps, mtu %u, hop %u, reliability %u, load %u" % (
        g32(c, q) // 100, g32(c, q + 4), (g16(c, q + 8) << 8) | g8(c, q + 10), g8(c, q + 11),
        g8(c, q + 12), g8(c, q + 13)))


_EIGRP_TLV_MIN = {0x0001: 8, 0x0004: 4, 0x0102: 22, 0x0103: 42}   # value bytes


def _eigrp_tlv(c, ttype, q, tlen):
    o = c.o
    least = _EIGRP_TLV_MIN.get(ttype)
    if least is not None and tlen < least:
        o.append(" (too short, < %u)" % (4 + least))
        return
    if ttype == 0x0001:
        o.append("\n\t    holdtime: %us, k1 %u, k2 %u, k3 %u, k4 %u, k5 %u" % (
            g16(c, q + 6), g8(c, q), g8(c, q + 1), g8(c, q + 2), g8(c, q + 3), g8(c, q + 4)))
    elif ttype == 0x0004:
        o.append("\n\t    IOS version: %u.%u, EIGRP version %u.%u" % (
            g8(c, q), g8(c, q + 1), g8(c, q + 2), g8(c, q + 3)))
    elif ttype == 0x0102:
        if _eigrp_route(c, q + 20, q):
            _eigrp_metrics(c, q + 4)
    elif ttype == 0x0103:
        if _eigrp_route(c, q + 40, q):
            o.append("\n\t      origin-router %s, origin-as %u, origin-proto %s, flags [0x%02x], "
                     "tag 0x%08x, metric %u" % (
                         ipaddr(c, q + 4), g32(c, q + 8),
                         _EIGRP_EXT_PROTOS.get(g8(c, q + 22), "unknown"), g8(c, q + 23),
                         g32(c, q + 12), g32(c, q + 16)))
            _eigrp_metrics(c, q + 24)
    elif c.v <= 1:
        print_unknown_data(c, q, "\n\t    ", tlen)


# --------------------------------------------------------------------------
# IPv6 (print-ip6.c and friends)

def ip6_opt_print(c, p, length, payload_len):
    """ip6_opt_print(): the options of a Hop-by-Hop (``payload_len``: the
    IPv6 header's) or Destination Options header (None), named with -v;
    (found a valid jumbo payload option?, its length).  A malformed option
    ends the packet as truncated, as tcpdump's does."""
    o = c.o
    v = c.v
    found = False
    jlen = 0
    seen_jumbo = False
    i = 0
    while i < length:
        t = g8(c, p + i)
        if t == 0:
            ol = 1
        elif i + 1 < length:
            ol = g8(c, p + i + 1) + 2
        else:
            raise Trunc
        if i + ol > length:
            raise Trunc
        if t == 0:
            if v:
                o.append("(pad1)")
        elif t == 1:
            _ip6_opt_size(c, "padn", length - i, 2)
            if v:
                o.append("(padn)")
        elif t == 5:
            _ip6_opt_size(c, "rtalert", length - i, 4, ol)
            if v:
                o.append("(rtalert: 0x%04x) " % g16(c, p + i + 2))
        elif t == 0xC2:
            _ip6_opt_size(c, "jumbo", length - i, 6, ol)
            n = g32(c, p + i + 2)
            if seen_jumbo:
                why = " - already seen"
            elif payload_len is None:
                why = " - not a hop-by-hop option"
            elif payload_len != 0:
                why = " - payload len != 0"
            elif n < 65536:
                why = " - < 65536"
            else:
                why = ""
                found, jlen = True, n
            seen_jumbo = True
            if v:
                o.append("(jumbo: %u%s) " % (n, why))
        elif t == 0xC9:
            if length - i < 18:
                o.append("(homeaddr: trunc)")
                raise Trunc
            if ol - 2 < 16:
                o.append("(homeaddr: invalid len %u)" % (ol - 2))
                raise Trunc
            if v:
                o.append("(homeaddr: %s" % ip6addr(c, p + i + 2))
                if ol - 2 > 16:
                    _ip6_sopt_print(c, p + i + 18, ol - 18)
                o.append(")")
        else:
            if length - i < 2:
                o.append("(type %u: trunc)" % t)
                raise Trunc
            if v:
                o.append("(opt_type 0x%02x: len=%u)" % (t, ol - 2))
        i += ol
    if v and length:
        o.append(" ")
    return found, jlen


def _ip6_opt_size(c, name, room, size, ol=None):
    """An option of a fixed ``size`` (with its type and length bytes): the
    room left for it, and the length it says (``ol``, when checked);
    tcpdump's "(name: trunc)" or "(name: invalid len N)" end the packet."""
    if room < size:
        c.o.append("(%s: trunc)" % name)
        raise Trunc
    if ol is not None and ol != size:
        c.o.append("(%s: invalid len %u)" % (name, ol - 2))
        raise Trunc


def _ip6_sopt_print(c, p, length):
    """ip6_sopt_print(): the sub-options of a Home Address option."""
    i = 0
    while i < length:
        t = g8(c, p + i)
        ol = 1 if t == 0 else (g8(c, p + i + 1) + 2 if i + 1 < length else -1)
        if ol < 0 or i + ol > length:
            raise Trunc                 # ip6_sopt_print()'s -1: the header is cut short
        c.o.append(", pad1" if t == 0 else ", padn" if t == 1 else
                   ", sopt_type 0x%02x: len=%u" % (t, ol - 2))
        i += ol


def ip6_print(c, p, length):
    c.proto = "ip6"
    o = c.o
    d = c.d
    if p + 40 > c.end:      # as in ip_print
        trunc(c)
        return
    if length < 40:
        o.append("truncated-ip6 %u" % length)
        return
    if not c.e:
        o.append("IP6 ")
    vb = d[p]
    if (vb >> 4) != 6:
        o.append("version error: %u != 6" % (vb >> 4))
        return
    payload_len = (d[p + 4] << 8) | d[p + 5]
    if payload_len != 0:
        ln = payload_len + 40
        if length < ln:
            o.append("truncated-ip6 - %u bytes missing!" % (ln - length))
    else:
        ln = length + 40
    nh = d[p + 6]
    if c.v:
        flow = int.from_bytes(d[p:p + 4], "big")
        o.append("(")
        if flow & 0x0FF00000:
            o.append("class 0x%02x, " % ((flow & 0x0FF00000) >> 20))
        if flow & 0x000FFFFF:
            o.append("flowlabel 0x%05x, " % (flow & 0x000FFFFF))
        o.append("hlim %u, next-header %s (%u) payload length: %u) " % (
            d[p + 7], T.IPPROTO_NAMES.get(nh, "unknown"), nh, payload_len))
    save_end = c.end
    if p + ln < c.end:
        c.end = p + ln
    cp = p
    advance = 40
    total_advance = 0
    found_ext = False
    found_jumbo = False
    jumbolen = 0
    found_hbh = False
    fragmented = 0
    ph = 255
    try:
        while cp < c.end and advance > 0:
            if ln < advance:
                raise Trunc
            cp += advance
            ln -= advance
            total_advance += advance
            if cp == p + 40 and nh not in (6, 17, 33, 132):
                o.append("%s > %s: " % (ip6addr(c, p + 8), ip6addr(c, p + 24)))
            if nh == 0:
                if found_hbh:
                    o.append("[The Hop-by-Hop Options header was already found] (invalid)")
                    return
                if ph != 255:
                    o.append("[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)")
                    return
                c.proto = "hbhopt"
                hl = (g8(c, cp + 1) + 1) << 3
                need(c, cp, hl)
                o.append("HBH ")
                found_jumbo, jumbolen = ip6_opt_print(c, cp + 2, hl - 2, payload_len)
                if payload_len == 0 and not found_jumbo:
                    o.append("[No valid Jumbo Payload Hop-by-Hop option found] (invalid)")
                    return
                advance = hl
                found_ext = True
                found_hbh = True
                nh = g8(c, cp)
            elif nh == 60:
                c.proto = "dstopt"
                hl = (g8(c, cp + 1) + 1) << 3
                need(c, cp, hl)
                o.append("DSTOPT ")
                if c.v:                         # dstopt_process(): the options with -v only
                    ip6_opt_print(c, cp + 2, hl - 2, None)
                advance = hl
                found_ext = True
                nh = g8(c, cp)
            elif nh == 44:
                advance = frag6_print(c, cp, p)
                if advance < 0 or c.end <= cp + advance:
                    return
                found_ext = True
                nh = g8(c, cp)
                fragmented = 1
            elif nh == 135 or nh == 62:
                c.proto = "mobility"
                generic_print(c, "mobility", "mobility", ln)
                return
            elif nh == 43:
                g8(c, cp)
                advance = rt6_print(c, cp, p)
                if advance < 0:
                    return
                found_ext = True
                nh = g8(c, cp)
            else:
                if found_jumbo:
                    ln = jumbolen + 40
                    if ln < total_advance:
                        raise Trunc
                    if length < ln:
                        o.append("truncated-ip6 - %u bytes missing!" % (ln - length))
                    if p + ln < save_end:
                        c.end = p + ln
                    ln -= total_advance
                elif payload_len == 0:
                    if found_ext:
                        raise Trunc
                    ln = 40
                    c.end = min(save_end, p + ln)
                    ln -= total_advance
                ip_demux_print(c, cp, ln, 6, fragmented, d[p + 7], nh, p)
                return
            ph = nh
            c.proto = "ip6"
    finally:
        c.end = save_end


def frag6_print(c, cp, ip6):
    c.proto = "frag6"
    o = c.o
    need(c, cp + 2, 2)
    offlg = g16(c, cp + 2)
    plen = g16(c, ip6 + 4)
    flen = (40 + plen - (cp - ip6) - 8) & 0xFFFFFFFFFFFFFFFF
    if c.v:
        o.append("frag (0x%08x:%u|%u)" % (g32(c, cp + 4), offlg & 0xFFF8, flen))
    else:
        o.append("frag (%u|%u)" % (offlg & 0xFFF8, flen))
    if offlg & 0xFFF8:
        return -1
    o.append(" ")
    return 8


def rt6_print(c, cp, ip6):
    """rt6_print(): type 0 and 2 (reserved word with -v) and segment
    routing (4: flags when set or with -v), then the addresses."""
    c.proto = "rt6"
    o = c.o
    ln = g8(c, cp + 1)
    typ = g8(c, cp + 2)
    segleft = g8(c, cp + 3)
    o.append("RT6 (len=%u, type=%u" % (ln, typ))
    if typ == 0:
        o.append(" [Deprecated]")
    o.append(", segleft=%u" % segleft)
    if typ in (0, 2):
        if c.v:
            o.append(", rsv=0x%0x" % g32(c, cp + 4))
        n = ln >> 1
    elif typ == 4:
        last, flags = g8(c, cp + 4), g8(c, cp + 5)
        o.append(", last-entry=%u" % last)
        if flags or c.v:
            o.append(", flags=0x%0x" % flags)
        o.append(", tag=%x" % g16(c, cp + 6))
        n = last + 1
    else:
        o.append("[|rt6]")  # unknown types: tcpdump prints trunc
        return -1
    if ln % 2 == 1:
        o.append(" (invalid length %u) (invalid)" % ln)
        return -1
    q = cp + 8
    for i in range(n):
        o.append(", [%u]%s" % (i, ip6addr(c, q)))
        q += 16
    o.append(") ")
    return (ln + 1) * 8


# --------------------------------------------------------------------------
# TCP (print-tcp.c)

_TCP_FLAGS = ((0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x10, "."), (0x20, "U"),
              (0x40, "E"), (0x80, "W"))
_FLAG_STR = []
for _f in range(256):
    _FLAG_STR.append(bittok_nosep(_TCP_FLAGS, "none", _f))
del _f


def _ports_line(c, iph, proto, sp, dp):
    """The "a.p > b.q: " that tcp_print(), udpipaddr_print() and pgm_print()
    open with: the addresses only when the IP header's own protocol is
    ``proto`` (not behind IPv6 extension headers), else the ports alone."""
    is6 = c.d[iph] >> 4 == 6
    if c.d[iph + 6 if is6 else iph + 9] == proto:
        s, t = _addr_pair(c, iph, is6)
        c.o.append("%s.%s > %s.%s: " % (s, sp, t, dp))
    else:
        c.o.append("%s > %s: " % (sp, dp))


def _addr_pair(c, iph, is6):
    if is6:
        return ip6addr(c, iph + 8), ip6addr(c, iph + 24)
    return ipaddr(c, iph + 12), ipaddr(c, iph + 16)


class _Bad(Exception):
    pass


class _OptTrunc(Exception):
    pass


def tcp_print(c, p, length, iph, fragmented):
    c.proto = "tcp"
    o = c.o
    d = c.d
    is6 = (d[iph] >> 4) == 6
    if not tt(c, p + 2, 2):
        s, t = _addr_pair(c, iph, is6)
        o.append("%s > %s:" % (s, t))
        trunc(c)
        return
    sport = (d[p] << 8) | d[p + 1]
    dport = (d[p + 2] << 8) | d[p + 3]
    _ports_line(c, iph, 6, tcpport(c, sport), tcpport(c, dport))
    if p + 20 > c.end:
        trunc(c)
        return
    _, _, seq, ack, offx, flags, win, tsum, urp = _S_TCP.unpack_from(d, p)
    hlen = (offx >> 4) * 4
    if hlen < 20:
        o.append(" tcp %u [bad hdr length %u - too short, < 20]" % ((length - hlen) & U32, hlen))
        return
    if c.q:
        o.append("tcp %u" % ((length - hlen) & U32))
        if hlen > length:
            o.append(" [bad hdr length %u - too long, > %u]" % (hlen, length))
        return
    o.append("Flags [%s]" % _FLAG_STR[flags])
    rev = 0
    thseq = thack = 0
    if flags & 0x10 and not c.absolute:
        if is6:
            src = d[iph + 8:iph + 24]
            dst = d[iph + 24:iph + 40]
        else:
            src = d[iph + 12:iph + 16]
            dst = d[iph + 16:iph + 20]
        if sport > dport:
            rev = 1
        elif sport == dport and src > dst:
            rev = 1
        if rev:
            key = (dst, src, (dport << 16) | sport)
        else:
            key = (src, dst, (sport << 16) | dport)
        table = c.tcp
        th = table.get(key)
        if th is None or (flags & 0x02):
            if rev:
                th = [(ack - 1) & U32, seq]  # [seq, ack]
            else:
                th = [seq, (ack - 1) & U32]
            table[key] = th
        else:
            if rev:
                seq = (seq - th[1]) & U32
                ack = (ack - th[0]) & U32
            else:
                seq = (seq - th[0]) & U32
                ack = (ack - th[1]) & U32
        thseq, thack = th
    if hlen > length:
        o.append(" [bad hdr length %u - too long, > %u]" % (hlen, length))
        return
    if c.v and not c.k and not fragmented:
        if tt(c, p, length):
            s = nextproto_cksum(c, iph, p, length, 6)
            o.append(", cksum 0x%04x" % tsum)
            if s != 0:
                o.append(" (incorrect -> 0x%04x)" % cksum_shouldbe(tsum, s))
            else:
                o.append(" (correct)")
    length -= hlen
    if length > 0:
        if flags & 0x10:
            o.append(", seq %u:%u, ack %u, win %u" % (seq, (seq + length) & U32, ack, win))
        else:
            o.append(", seq %u:%u, win %u" % (seq, (seq + length) & U32, win))
    elif c.v > 1 or flags & 0x07:
        if flags & 0x10:
            o.append(", seq %u, ack %u, win %u" % (seq, ack, win))
        else:
            o.append(", seq %u, win %u" % (seq, win))
    elif flags & 0x10:
        o.append(", ack %u, win %u" % (ack, win))
    else:
        o.append(", win %u" % win)
    if flags & 0x20:
        o.append(", urg %u" % urp)
    if hlen > 20:
        fast = _tcp_options_fast(c, d, p + 20, hlen - 20, rev, thseq, thack, flags) if p + hlen <= c.end else None
        if fast is not None:
            o.append(fast)
        else:
            try:
                _tcp_options(c, p + 20, hlen - 20, rev, thseq, thack, flags, (iph, p, hlen, length))
            except _Bad as ex:
                o.append("[bad opt]")
                if ex.args and ex.args[0]:
                    o.append("]")
                return
            except _OptTrunc as ex:
                trunc(c)
                if ex.args and ex.args[0]:
                    o.append(">")
                return
    o.append(", length %u" % length)
    if length <= 0:
        return
    if not tt(c, p, hlen):
        o.append(" [remaining caplen(%u) < header length(%u)]" % (avail(c, p), hlen))
        raise Trunc
    bp = p + hlen
    if (flags & 0x04) and c.v:
        _tcp_rst_data(c, bp, length)
        return
    _tcp_app(c, bp, length, sport, dport, iph)


def _ip_finddst(c, iph):
    hl = (c.d[iph] & 0xF) * 4
    q = iph + 20
    ln = hl - 20
    while ln > 0:
        t = g8(c, q)
        if t == 0:
            break
        if t == 1:
            ol = 1
        else:
            ol = g8(c, q + 1)
            if ol < 2:
                break
        if ln < ol:
            break
        if not tt(c, q, ol):
            break
        if t in (131, 137) and ol >= 7:
            return c.d[q + ol - 4:q + ol]
        q += ol
        ln -= ol
    return c.d[iph + 16:iph + 20]


def _ip6_finddst(c, iph):
    d = c.d
    nh = d[iph + 6]
    q = iph + 40
    dst = d[iph + 24:iph + 40]
    while True:
        if nh in (0, 60, 44, 51) and tt(c, q, 2):
            if nh == 44:
                nh = d[q]
                q += 8
            elif nh == 51:
                nh = d[q]
                q += (d[q + 1] + 2) * 4
            else:
                nh = d[q]
                q += (d[q + 1] + 1) * 8
            continue
        if nh == 43 and tt(c, q, 8):
            typ = d[q + 2]
            ln = d[q + 1]
            if typ in (0, 2) and ln >= 2 and tt(c, q + 8, ln * 8):
                dst = d[q + 8 + (ln // 2 - 1) * 16:q + 8 + (ln // 2) * 16]
            elif typ == 4 and tt(c, q + 8, 16):
                dst = d[q + 8:q + 24]
        break
    return dst


_S_II = struct.Struct("!II")


def nextproto_cksum(c, iph, p, length, proto):
    """nextproto4_cksum()/nextproto6_cksum(): the checksum of ``length``
    bytes at ``p`` under the pseudo-header of the IP header at ``iph``, whose
    destination is the final one (source route, routing header); 0 when the
    stored checksum is right.  The bytes must be captured."""
    d = c.d
    if d[iph] >> 4 == 6:
        ph = d[iph + 8:iph + 24] + _ip6_finddst(c, iph) + _S_I.pack(length) + bytes((0, 0, 0, proto))
    else:
        ph = d[iph + 12:iph + 16] + _ip_finddst(c, iph) + bytes((0, proto)) + _S_H.pack(length & 0xFFFF)
    return in_cksum(ph, d[p:p + length])


def _tcp_options_fast(c, d, cp, hlen, rev, thseq, thack, flags):
    """The common options (all captured, well-formed) without the general machinery.

    Returns None whenever anything unusual shows up; the caller then runs
    the general printer, which handles every case the way tcpdump does.
    """
    parts = []
    end = cp + hlen
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
            parts.append("TS val %u ecr %u" % _S_II.unpack_from(d, cp + 2))
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
                s_, e_ = _S_II.unpack_from(d, i)
                blocks.append("{%u:%u}" % ((s_ - base) & U32, (e_ - base) & U32))
            parts.append("sack %u %s" % ((ln - 2) // 8, "".join(blocks)))
        elif opt == 30 and ln >= 3:
            saved = c.o
            c.o = ["mptcp"]
            try:
                ok = _mptcp_print(c, cp, ln, flags)
                piece = "".join(c.o)
            except Trunc:
                ok = False
            finally:
                c.o = saved
            if not ok:
                return None
            parts.append(piece)
        else:
            return None
        cp += ln
    return ", options [" + ",".join(parts) + "]"


def _tcp_signature(c, segment, sig):
    """tcp_verify_signature(): the MD5 signature option (RFC 2385) checked
    with -M's secret: "valid", " (invalid)", or why it cannot be checked
    and the signature in hex."""
    iph, tp, hlen, plen = segment
    d = c.d
    if tp + hlen + plen > c.end:
        why = "snaplen too short, "
    elif c.secret is None:
        why = "shared secret not supplied with -M, "
    else:
        import hashlib
        if d[iph] >> 4 == 4:       # source, destination, zero, protocol, TCP length
            tlen = (((d[iph + 2] << 8) | d[iph + 3]) - (d[iph] & 0x0F) * 4) & 0xFFFF
            pseudo = d[iph + 12:iph + 20] + b"\0" + d[iph + 9:iph + 10] + tlen.to_bytes(2, "big")
        else:                      # source, destination, payload length, zeros, next header 6
            pseudo = d[iph + 8:iph + 40] + bytes(2) + d[iph + 4:iph + 6] + b"\0\0\0\x06"
        header = d[tp:tp + 16] + b"\0\0" + d[tp + 18:tp + 20]     # checksum zeroed, no options
        digest = hashlib.md5(pseudo + header + d[tp + hlen:tp + hlen + plen] + c.secret).digest()
        return "valid" if digest == d[sig:sig + 16] else " (invalid)"
    return why + "can't check - " + d[sig:sig + 16].hex()


def _tcp_options(c, cp, hlen, rev, thseq, thack, flags, segment):
    """The options of a TCP header; ``segment``: (IP header, TCP header,
    TCP header length, payload length), for the MD5 signature."""
    o = c.o
    o.append(", options [")
    ch = ""
    while hlen > 0:
        if ch:
            o.append(ch)
        opt = g8(c, cp)
        cp += 1
        if opt == 0 or opt == 1:
            ln = 1
        else:
            ln = g8(c, cp)
            cp += 1
            if ln < 2 or ln > hlen:
                raise _Bad(bool(ch))
            hlen -= 1
        hlen -= 1
        datalen = 0

        def lencheck(n):
            if n > hlen:
                raise _Bad(bool(ch))
            if not tt(c, cp, n):
                raise _OptTrunc(bool(ch))

        o.append(T.TCP_OPT_NAMES.get(opt, "unknown-%u" % opt))
        if opt == 2:
            datalen = 2
            lencheck(2)
            o.append(" %u" % g16(c, cp))
        elif opt == 3:
            datalen = 1
            lencheck(1)
            o.append(" %u" % g8(c, cp))
        elif opt == 5:
            datalen = ln - 2
            if datalen % 8 != 0:
                o.append(" invalid sack")
            else:
                o.append(" %u " % (datalen // 8))
                for i in range(0, datalen, 8):
                    lencheck(i + 4)
                    s = g32(c, cp + i)
                    lencheck(i + 8)
                    e = g32(c, cp + i + 4)
                    if rev:
                        s = (s - thseq) & U32
                        e = (e - thseq) & U32
                    else:
                        s = (s - thack) & U32
                        e = (e - thack) & U32
                    o.append("{%u:%u}" % (s, e))
        elif opt in (11, 12, 13, 6, 7):
            datalen = 4
            lencheck(4)
            o.append(" %u" % g32(c, cp))
        elif opt == 8:
            datalen = 8
            lencheck(8)
            o.append(" val %u ecr %u" % (g32(c, cp), g32(c, cp + 4)))
        elif opt == 19:
            datalen = 16
            lencheck(16)
            o.append(" ")
            o.append(_tcp_signature(c, segment, cp))
        elif opt == 20:
            datalen = 2
            lencheck(2)
            o.append(" cap %02x id %u" % (g8(c, cp), g8(c, cp + 1)))
        elif opt == 29:
            datalen = ln - 2
            if datalen < 2:
                o.append(" (invalid)")
            else:
                lencheck(1)
                o.append(" keyid %u" % g8(c, cp))
                lencheck(2)
                o.append(" rnextkeyid %u" % g8(c, cp + 1))
                if datalen > 2:
                    o.append(" mac 0x")
                    for i in range(2, datalen):
                        lencheck(i + 1)
                        o.append("%02x" % g8(c, cp + i))
        elif opt in (0, 1, 4):
            pass
        elif opt == 28:
            datalen = 2
            lencheck(2)
            uto = g16(c, cp)
            o.append(" 0x%x" % uto)
            if uto & 1:
                uto = (uto >> 1) * 60
            else:
                uto >>= 1
            o.append(" %u" % uto)
        elif opt == 30:
            datalen = ln - 2
            lencheck(datalen)
            if not _mptcp_print(c, cp - 2, ln, flags):
                raise _Bad(bool(ch))
        elif opt == 34:
            datalen = ln - 2
            lencheck(datalen)
            o.append(" ")
            _tfo(c, cp, datalen, False)
        elif opt == 254:
            datalen = ln - 2
            lencheck(datalen)
            if datalen < 2:
                raise _Bad(bool(ch))
            magic = g16(c, cp)
            o.append("-")
            if magic == 0xF989:
                _tfo(c, cp + 2, datalen - 2, True)
            else:
                o.append("%04x" % magic)
        else:
            datalen = ln - 2
            if datalen:
                o.append(" 0x")
            for i in range(datalen):
                lencheck(i + 1)
                o.append("%02x" % g8(c, cp + i))
        cp += datalen
        hlen -= datalen
        datalen += 1
        if opt not in (0, 1):
            datalen += 1
        if datalen != ln:
            o.append("[len %u]" % ln)
        ch = ","
        if opt == 0:
            break
    o.append("]")


def _tfo(c, cp, datalen, exp):
    o = c.o
    if exp:
        o.append("tfo")
    if datalen == 0:
        o.append(" cookiereq")
    elif datalen % 2 != 0 or datalen < 4 or datalen > 16:
        o.append(" (invalid)")
    else:
        o.append(" cookie " + c.d[cp:cp + datalen].hex())


def _g64(c, o):
    need(c, o, 8)
    return int.from_bytes(c.d[o:o + 8], "big")


def _mptcp_print(c, cp, ln, flags):
    """mptcp_print() (print-mptcp.c); False means "bad option"."""
    c.proto = "mptcp"
    o = c.o
    if ln < 3:
        return False
    save = c.end
    if cp + ln < c.end:
        c.end = cp + ln
    try:
        sub = min((g8(c, cp + 2) >> 4) & 0xF, 8)
        o.append(" %u" % ln)
        o.append(" " + ("capable", "join", "dss", "add-addr", "rem-addr", "prio", "fail",
                        "fast-close", "unknown")[sub])
        if sub == 0:
            if not (((ln == 12 or ln == 4) and flags & 0x02) or
                    ((ln == 20 or ln == 22) and (flags & 0x12) == 0x10)):
                return False
            ver = g8(c, cp + 2) & 0xF
            if ver > 1:
                o.append(" Unknown Version (%u)" % ver)
                return True
            o.append(" v%u" % ver)
            if g8(c, cp + 3) & 0x80:
                o.append(" csum")
            if ln == 12 or ln >= 20:
                o.append(" {0x%x" % _g64(c, cp + 4))
                if ln >= 20:
                    o.append(",0x%x" % _g64(c, cp + 12))
                o.append("}")
            return True
        if sub == 1:
            if not ((ln == 12 and flags & 0x02) or (ln == 16 and (flags & 0x12) == 0x12) or
                    (ln == 24 and flags & 0x10)):
                return False
            if ln != 24:
                if g8(c, cp + 2) & 1:
                    o.append(" backup")
                o.append(" id %u" % g8(c, cp + 3))
            if ln == 12:
                o.append(" token 0x%x nonce 0x%x" % (g32(c, cp + 4), g32(c, cp + 8)))
            elif ln == 16:
                o.append(" hmac 0x%x nonce 0x%x" % (_g64(c, cp + 4), g32(c, cp + 12)))
            else:
                o.append(" hmac 0x" + c.d[cp + 4:cp + 24].hex())
            return True
        if sub == 2:
            if ln < 4 or flags & 0x02:
                return False
            mf = g8(c, cp + 3)
            if mf & 0x10:
                o.append(" fin")
            q = cp + 4
            rest = ln - 4
            if mf & 0x01:
                o.append(" ack ")
                size = 8 if mf & 0x02 else 4    # a 64-bit or a 32-bit number
                if rest < size:
                    return False
                o.append("%u" % (_g64(c, q) if size == 8 else g32(c, q)))
                q += size
                rest -= size
            if mf & 0x04:
                o.append(" seq ")
                size = 8 if mf & 0x08 else 4    # a 64-bit or a 32-bit number
                if rest < size:
                    return False
                o.append("%u" % (_g64(c, q) if size == 8 else g32(c, q)))
                q += size
                rest -= size
                if rest < 4:
                    return False
                o.append(" subseq %u" % g32(c, q))
                q += 4
                rest -= 4
                if rest < 2:
                    return False
                o.append(" len %u" % g16(c, q))
                q += 2
                rest -= 2
                if rest >= 2:
                    o.append(" csum 0x%x" % g16(c, q))
                    rest -= 2
            return rest == 0
        if sub == 3:
            if ln not in (8, 10, 16, 18, 20, 22, 28, 30):
                return False
            se = g8(c, cp + 2) & 0xF
            o.append(" %s" % {6: "v0-ip6", 4: "v0-ip4", 1: "v1-echo", 0: "v1"}.get(se, "[bad version/echo]"))
            o.append(" id %u" % g8(c, cp + 3))
            if ln in (8, 10, 16, 18):
                o.append(" %s" % ipaddr(c, cp + 4))
                if ln in (10, 18):
                    o.append(":%u" % g16(c, cp + 8))
                if ln == 16:
                    o.append(" hmac 0x%x" % _g64(c, cp + 8))
                if ln == 18:
                    o.append(" hmac 0x%x" % _g64(c, cp + 10))
            else:
                o.append(" %s" % ip6addr(c, cp + 4))
                if ln in (22, 30):
                    o.append(":%u" % g16(c, cp + 20))
                if ln == 28:
                    o.append(" hmac 0x%x" % _g64(c, cp + 20))
                if ln == 30:
                    o.append(" hmac 0x%x" % _g64(c, cp + 22))
            return True
        if sub == 4:
            if ln < 4:
                return False
            o.append(" id")
            for i in range(ln - 3):
                o.append(" %u" % g8(c, cp + 3 + i))
            return True
        if sub == 5:
            if ln not in (3, 4):
                return False
            o.append(" backup" if g8(c, cp + 2) & 1 else " non-backup")
            if ln == 4:
                o.append(" id %u" % g8(c, cp + 3))
            return True
        if sub == 6:
            if ln != 12:
                return False
            o.append(" seq %u" % _g64(c, cp + 4))
            return True
        if sub == 7:
            if ln != 12:
                return False
            o.append(" key 0x%x" % _g64(c, cp + 4))
            return True
        return True
    finally:
        c.end = save


def _tcp_rst_data(c, bp, length):
    o = c.o
    o.append(" [RST" if tt(c, bp, length) else " [!RST")
    if length > 30:
        length = 30
        o.append("+")
    o.append(" ")
    o.append(fn_print_bytes(c.d[bp:min(bp + length, c.end)] if bp < c.end else b""))
    o.append("]")


_HTTP_CMDS = {b"GET", b"PUT", b"COPY", b"DELETE", b"HEAD", b"LOCK", b"MKCOL", b"MOVE",
              b"OPTIONS", b"PATCH", b"POST", b"PROPFIND", b"PROPPATCH", b"SEARCH", b"TRACE",
              b"UNLOCK"}
_RTSP_CMDS = {b"DESCRIBE", b"ANNOUNCE", b"GET_PARAMETER", b"OPTIONS", b"PAUSE", b"PLAY",
              b"RECORD", b"REDIRECT", b"SETUP", b"SET_PARAMETER", b"TEARDOWN"}
_FTP_CMDS = {x.encode() for x in (
    "ABOR", "ACCT", "ADAT", "ALLO", "APPE", "AUTH", "CCC", "CDUP", "CONF", "CWD", "DELE",
    "ENC", "EPRT", "EPSV", "FEAT", "HELP", "LANG", "LIST", "LPRT", "LPSV", "MDTM", "MIC",
    "MKD", "MLSD", "MLST", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PBSZ", "PORT",
    "PROT", "PWD", "QUIT", "REIN", "REST", "RETR", "RMD", "RNFR", "RNTO", "SITE", "SIZE",
    "SMNT", "STAT", "STOR", "STOU", "STRU", "SYST", "TYPE", "USER", "XCUP", "XCWD", "XMKD",
    "XPWD", "XRMD")}


def _isprint(b):
    return 0x20 <= b <= 0x7E


def _fetch_token(c, bp, idx, length):
    tok = bytearray()
    d = c.d
    while idx < length:
        if not tt(c, bp + idx, 1):
            return 0, None
        ch = d[bp + idx]
        if not _isprint(ch):
            return 0, None
        if ch in (0x20, 0x09, 0x0D, 0x0A):
            break
        if len(tok) + 2 <= 129:
            tok.append(ch)
        idx += 1
    if not tok:
        return 0, None
    while idx < length:
        if not tt(c, bp + idx, 1):
            break
        ch = d[bp + idx]
        if ch in (0x0D, 0x0A):
            break
        if not _isprint(ch):
            break
        if ch not in (0x20, 0x09, 0x0D, 0x0A):
            break
        idx += 1
    return idx, bytes(tok)


def _print_txt_line(c, prefix, bp, idx, length):
    start = idx
    o = c.o
    d = c.d
    while idx < length:
        ch = g8(c, bp + idx)
        if ch == 0x0A:
            linelen = idx - start
            idx += 1
            o.append(prefix + d[bp + start:bp + start + linelen].decode("latin-1"))
            return idx
        if ch == 0x0D:
            if idx + 1 >= length:
                return 0
            if g8(c, bp + idx + 1) == 0x0A:
                linelen = idx - start
                idx += 2
                o.append(prefix + d[bp + start:bp + start + linelen].decode("latin-1"))
                return idx
            return 0
        if not _isprint(ch) and ch != 0x09:
            return 0
        idx += 1
    o.append(prefix + d[bp + start:bp + idx].decode("latin-1"))
    trunc(c)
    return 0


def txtproto_print(c, bp, length, proto, cmds, resp_second):
    c.proto = proto
    o = c.o
    print_this = False
    if cmds is not None:
        idx, tok = _fetch_token(c, bp, 0, length)
        if idx != 0:
            if tok.upper() in cmds:
                print_this = True
            if resp_second:
                idx, tok = _fetch_token(c, bp, idx, length)
            if idx != 0:
                if len(tok) == 3 and tok.isdigit():
                    print_this = True
    else:
        print_this = True
    o.append(proto.upper())
    if print_this:
        if c.v:
            o.append(", length: %u" % length)
            idx = 0
            while idx < length:
                eol = _print_txt_line(c, "\n\t", bp, idx, length)
                if eol == 0:
                    break
                idx = eol
        else:
            _print_txt_line(c, ": ", bp, 0, length)


def _app_txt(proto, cmds, is_http):
    def printer(c, bp, length, sport, dport):
        c.o.append(": ")
        txtproto_print(c, bp, length, proto, cmds, is_http)
    return printer


def _app_label(proto, label):
    def printer(c, bp, length, sport, dport):
        c.proto = proto
        if label:
            c.o.append(label)
    return printer


def _app_rpki(c, bp, length, sport, dport):
    c.proto = "rpki_rtr"
    if not c.v:
        c.o.append(", RPKI-RTR")


def _app_nfs(c, bp, length, sport, dport):
    if length >= 4 and tt(c, bp, 4):
        # RFC 1831 record marking: the fragment's length, then the RPC message
        fraglen = min(g32(c, bp) & 0x7FFFFFFF, length - 4)
        if tt(c, bp + 8, 4):
            direction = g32(c, bp + 8)
            if dport == 2049 and direction == 0:
                c.o.append(": NFS request xid %u " % g32(c, bp + 4))
                nfsreq_print(c, bp + 4, fraglen)
            elif sport == 2049 and direction == 1:
                c.o.append(": NFS reply xid %u " % g32(c, bp + 4))
                nfsreply_print(c, bp + 4, fraglen)


def _tcp_app_table():
    """port -> (rank, printer): tcp_print() tests the ports in rank order."""
    order = [
        ((23,), lambda c, bp, length, sp, dp: telnet_print(c, bp, length)),
        ((25,), _app_txt("smtp", None, False)),
        ((43,), _app_txt("whois", None, False)),
        ((179,), _app_label("bgp", ": BGP")),
        ((1723,), lambda c, bp, length, sp, dp: pptp_print(c, bp)),
        ((6379,), lambda c, bp, length, sp, dp: resp_print(c, bp, length)),
        ((22,), lambda c, bp, length, sp, dp: ssh_print(c, bp, length)),
        ((139, 445), _app_label("smb", "")),
        ((10288,), _app_label("beep", "")),
        ((6633, 6653), lambda c, bp, length, sp, dp: openflow_print(c, bp, length)),
        ((21,), _app_txt("ftp", _FTP_CMDS, False)),
        ((80, 8080), _app_txt("http", _HTTP_CMDS, True)),
        ((554, 8554), _app_txt("rtsp", _RTSP_CMDS, True)),
        ((53,), lambda c, bp, length, sp, dp: domain_print(c, bp, length, True, False)),
        ((639,), _app_label("msdp", ": MSDP")),
        ((323,), _app_rpki),
        ((646,), lambda c, bp, length, sp, dp: ldp_print(c, bp, length)),
        ((2049,), _app_nfs),
    ]
    table = {}
    for rank, (ports, printer) in enumerate(order):
        for port in ports:
            table[port] = (rank, printer)
    return table


def tcp_app_printer(sport, dport):
    """The application printer tcp_print() picks by port (the first in its
    order), or None; called as ``printer(c, bp, length, sport, dport)``."""
    a = TCP_APP.get(sport)
    b = TCP_APP.get(dport)
    if a is None:
        return None if b is None else b[1]
    return b[1] if b is not None and b[0] < a[0] else a[1]


def _tcp_app(c, bp, length, sport, dport, iph):
    printer = tcp_app_printer(sport, dport)
    if printer is not None:
        c.ipaddrs = ip_addrs(c, iph)
        printer(c, bp, length, sport, dport)


def ssh_print(c, bp, length):
    c.proto = "ssh"
    d = c.d
    for i, ch in enumerate(b"SSH-"):
        if g8(c, bp + i) != ch:
            return
    idx = 4
    while idx < length:
        ch = g8(c, bp + idx)
        if ch == 0x0A:
            break
        if ch == 0x0D:
            if idx + 1 >= length:
                return
            if g8(c, bp + idx + 1) == 0x0A:
                break
            return
        if not _isprint(ch):
            return
        idx += 1
    else:
        return
    c.o.append(": SSH: " + d[bp:bp + idx].decode("latin-1"))


class _RespTrunc(Exception):
    pass


def resp_print(c, bp, length):
    """resp_print() (print-resp.c): Redis protocol values."""
    c.proto = "resp"
    c.o.append(": RESP")
    try:
        while length > 0:
            r = _resp_parse(c, bp, length)
            bp += r
            length -= r
    except _RespTrunc:
        raise Trunc from None


def _resp_parse(c, bp, length):
    if length < 1:
        raise _RespTrunc
    op = g8(c, bp)
    if op in (0x2B, 0x3A, 0x2D):  # + : -
        return _resp_string(c, bp, length)
    if op == 0x24:  # $
        return _resp_bulk_string(c, bp, length)
    if op == 0x2A:  # *
        return _resp_array(c, bp, length)
    return _resp_inline(c, bp, length)


def _resp_find_crlf(c, p, ln):
    d = c.d
    while True:
        if ln < 2:
            raise _RespTrunc
        if not tt(c, p, 2):
            raise _RespTrunc
        if d[p] == 0x0D and d[p + 1] == 0x0A:
            return p, ln
        p += 1
        ln -= 1


def _resp_segment(c, p, n):
    c.o.append(' "')
    try:
        nd_printn(c, p, n)
    except Trunc:
        raise _RespTrunc
    c.o.append('"')


def _resp_string(c, bp, length):
    cur = length - 1
    bp += 1
    q, cur = _resp_find_crlf(c, bp, cur)
    n = q - bp
    _resp_segment(c, bp, n)
    return 1 + n + 2


_RESP_BAD = {-1: " null", -3: " length too large", -4: " length negative and not -1"}


def _resp_get_length(c, bp, ln):
    """Returns (value, endp); value -2 truncated, -5 invalid."""
    d = c.d
    if ln == 0:
        return -2, bp
    if not tt(c, bp, 1):
        return -2, bp
    too_large = False
    neg = False
    if d[bp] == 0x2D:
        neg = True
        bp += 1
        ln -= 1
    result = 0
    saw = False
    while True:
        if ln == 0:
            return -2, bp
        if not tt(c, bp, 1):
            return -2, bp
        ch = d[bp]
        if not (0x30 <= ch <= 0x39):
            if not saw:
                return -5, bp + 1
            break
        v = ch - 0x30
        if result > 2147483647 // 10:
            too_large = True
        else:
            result *= 10
            if result == (2147483647 // 10) * 10 and v > 7:
                too_large = True
            else:
                result += v
        bp += 1
        ln -= 1
        saw = True
    if d[bp] != 0x0D:
        return -5, bp + 1
    bp += 1
    ln -= 1
    if ln == 0:
        return -2, bp
    if not tt(c, bp, 1):
        return -2, bp
    if d[bp] != 0x0A:
        return -5, bp + 1
    bp += 1
    if neg:
        if too_large or result != 1:
            return -4, bp
        return -1, bp
    return (-3 if too_large else result), bp


def _resp_bulk_string(c, bp, length):
    cur = length - 1
    bp += 1
    n, endp = _resp_get_length(c, bp, cur)
    cur -= endp - bp
    bp = endp
    if n >= 0:
        if n == 0:
            c.o.append(" empty")
        else:
            if cur < n or not tt(c, bp, n):
                raise _RespTrunc
            _resp_segment(c, bp, n)
            bp += n
            cur -= n
        bp, cur = _resp_find_crlf(c, bp, cur)
        bp += 2
        cur -= 2
    else:
        if n == -2:
            raise _RespTrunc
        c.o.append(_RESP_BAD.get(n, " invalid"))
    return length - cur


def _resp_array(c, bp, length):
    cur = length - 1
    bp += 1
    n, endp = _resp_get_length(c, bp, cur)
    cur -= endp - bp
    bp = endp
    if n > 0:
        for _ in range(n):
            r = _resp_parse(c, bp, cur)
            bp += r
            cur -= r
    else:
        if n == 0:
            c.o.append(" empty")
        elif n == -2:
            raise _RespTrunc
        else:
            c.o.append(_RESP_BAD.get(n, " invalid"))
    return length - cur


def _resp_consume_cr_or_lf(c, p, ln):
    found = False
    d = c.d
    while True:
        if ln == 0 or not tt(c, p, 1):
            if found:
                return p, ln
            raise _RespTrunc
        if d[p] != 0x0D and d[p] != 0x0A:
            return p, ln
        found = True
        p += 1
        ln -= 1


def _resp_inline(c, bp, length):
    cur = length
    bp, cur = _resp_consume_cr_or_lf(c, bp, cur)
    q = bp
    d = c.d
    while True:
        if cur < 1:
            raise _RespTrunc
        if not tt(c, q, 1):
            raise _RespTrunc
        if d[q] == 0x0D or d[q] == 0x0A:
            break
        q += 1
        cur -= 1
    _resp_segment(c, bp, q - bp)
    q, cur = _resp_consume_cr_or_lf(c, q, cur)
    return length - cur


def ldp_print(c, bp, length):
    """ldp_print(): the common header of each PDU (bodies only with -v, not done)."""
    c.proto = "ldp"
    o = c.o
    sep = "" if c.v < 1 else "\n\t"
    while length > 18:
        if not tt(c, bp, 10):
            trunc(c)
            return
        ver = g16(c, bp)
        if ver != 1:
            o.append("%sLDP version %u packet not supported" % (sep, ver))
            return
        pdu_len = g16(c, bp + 2)
        if pdu_len < 6:
            o.append("%sLDP, pdu-length: %u (too short, < 6)" % (sep, pdu_len))
            return
        o.append("%sLDP, Label-Space-ID: %s:%u, pdu-length: %u" % (
            sep, ipaddr(c, bp + 4), g16(c, bp + 8), pdu_len))
        if c.v < 1:
            return
        processed = pdu_len + 4
        if length < processed:
            o.append(" [remaining length %u < %u] (invalid)" % (length, processed))
            return
        length -= processed
        bp += processed


_OF_VERSIONS = {1: "1.0", 2: "1.1", 3: "1.2", 4: "1.3", 5: "1.4", 6: "1.5"}
_OF10_TYPES = ["HELLO", "ERROR", "ECHO_REQUEST", "ECHO_REPLY", "VENDOR", "FEATURES_REQUEST",
               "FEATURES_REPLY", "GET_CONFIG_REQUEST", "GET_CONFIG_REPLY", "SET_CONFIG",
               "PACKET_IN", "FLOW_REMOVED", "PORT_STATUS", "PACKET_OUT", "FLOW_MOD", "PORT_MOD",
               "STATS_REQUEST", "STATS_REPLY", "BARRIER_REQUEST", "BARRIER_REPLY",
               "QUEUE_GET_CONFIG_REQUEST", "QUEUE_GET_CONFIG_REPLY"]
_OF13_TYPES = ["HELLO", "ERROR", "ECHO_REQUEST", "ECHO_REPLY", "EXPERIMENTER",
               "FEATURES_REQUEST", "FEATURES_REPLY", "GET_CONFIG_REQUEST", "GET_CONFIG_REPLY",
               "SET_CONFIG", "PACKET_IN", "FLOW_REMOVED", "PORT_STATUS", "PACKET_OUT",
               "FLOW_MOD", "GROUP_MOD", "PORT_MOD", "TABLE_MOD", "MULTIPART_REQUEST",
               "MULTIPART_REPLY", "BARRIER_REQUEST", "BARRIER_REPLY",
               "QUEUE_GET_CONFIG_REQUEST", "QUEUE_GET_CONFIG_REPLY", "ROLE_REQUEST",
               "ROLE_REPLY", "GET_ASYNC_REQUEST", "GET_ASYNC_REPLY", "SET_ASYNC", "METER_MOD"]


_OF_HEADER = struct.Struct("!BBHI")


def openflow_print(c, bp, length):
    """openflow_print(): one line per message header (bodies are not decoded)."""
    c.proto = "openflow"
    o = c.o
    o.append(": OpenFlow")
    while length:
        if length < 8:
            o.append(" (invalid)")
            need(c, bp, length)
            return
        need(c, bp, 8)
        version, typ, mlen, xid = _OF_HEADER.unpack_from(c.d, bp)
        vs = _OF_VERSIONS.get(version)
        o.append("\n\tversion %s" % (vs if vs else "unknown (0x%02x)" % version))
        if version == 1:
            tn = _OF10_TYPES[typ] if typ < len(_OF10_TYPES) else "unknown (0x%02x)" % typ
        elif version == 4:
            tn = _OF13_TYPES[typ] if typ < len(_OF13_TYPES) else "unknown (0x%02x)" % typ
        else:
            tn = "unknown (0x%02x)" % typ
        o.append(", type %s, length %u" % (tn, mlen))
        if mlen < 8:
            o.append(" (too short!), xid 0x%08x (invalid)" % xid)
            need(c, bp + 8, length - 8)
            return
        o.append(", xid 0x%08x" % xid)
        need(c, bp + 8, mlen - 8)
        bp += mlen
        length -= mlen
        if length < 0:
            raise Trunc


# --------------------------------------------------------------------------
# UDP (print-udp.c)

def _udpipaddr(c, iph, sport, dport):
    """udpipaddr_print(); a ``sport`` of -1: the addresses without ports."""
    if sport != -1:
        _ports_line(c, iph, 17, udpport(c, sport), udpport(c, dport))
        return
    is6 = c.d[iph] >> 4 == 6
    if c.d[iph + 6 if is6 else iph + 9] == 17:
        c.o.append("%s > %s: " % _addr_pair(c, iph, is6))


def udp_print(c, p, length, iph, fragmented, ttl_hl):
    c.proto = "udp"
    o = c.o
    d = c.d
    if not tt(c, p + 2, 2):
        _udpipaddr(c, iph, -1, -1)
        trunc(c)
        return
    sport = (d[p] << 8) | d[p + 1]
    dport = (d[p + 2] << 8) | d[p + 3]
    if length < 8:
        _udpipaddr(c, iph, sport, dport)
        o.append("truncated-udp %u" % length)
        return
    if not tt(c, p + 4, 2):
        _udpipaddr(c, iph, sport, dport)
        trunc(c)
        return
    ulen = (d[p + 4] << 8) | d[p + 5]
    if ulen == 0 and length > 65535:
        ulen = length
    if ulen < 8:
        _udpipaddr(c, iph, sport, dport)
        o.append("truncated-udplength %u" % ulen)
        return
    ulen -= 8
    length -= 8
    if ulen < length:
        length = ulen
    cp = p + 8
    if cp > c.end:
        _udpipaddr(c, iph, sport, dport)
        trunc(c)
        return
    _udpipaddr(c, iph, sport, dport)
    is6 = (d[iph] >> 4) == 6
    c.ipaddrs = ip_addrs(c, iph)
    if not c.q and _udp_nfs(c, cp, sport, dport, length):
        return
    if c.v and not c.k and not fragmented:
        if not is6 and c.v > 1:
            usum = g16(c, p + 6)
            if usum == 0:
                o.append("[no cksum] ")
            elif tt(c, cp, length):
                s = nextproto_cksum(c, iph, p, 8 + length, 17)
                if s != 0:
                    o.append("[bad udp cksum 0x%04x -> 0x%04x!] " % (usum, cksum_shouldbe(usum, s)))
                else:
                    o.append("[udp sum ok] ")
        elif is6:
            if tt(c, cp, length):
                usum = g16(c, p + 6)
                s = nextproto_cksum(c, iph, p, 8 + length, 17)
                if s != 0:
                    o.append("[bad udp cksum 0x%04x -> 0x%04x!] " % (usum, cksum_shouldbe(usum, s)))
                else:
                    o.append("[udp sum ok] ")
    if not c.q and udp_app(c, cp, length, sport, dport):
        return
    if ulen > length and not fragmented:
        o.append("UDP, bad length %u > %u" % (ulen, length))
    else:
        o.append("UDP, length %u" % ulen)


def _udp_nfs(c, cp, sport, dport, length):
    """udp_print()'s NFS test (ahead of everything else); True if it printed."""
    if (sport == 2049 or dport == 2049) and tt(c, cp + 4, 4):
        direction = g32(c, cp + 4)
        if dport == 2049 and direction == 0:
            c.o.append("NFS request xid %u " % g32(c, cp))
            c.proto = "nfs"
            nfsreq_print(c, cp, length)
            return True
        if sport == 2049 and direction == 1:
            c.o.append("NFS reply xid %u " % g32(c, cp))
            c.proto = "nfs"
            nfsreply_print(c, cp, length)
            return True
    return False


def ip_addrs(c, iph):
    """The (source, destination) address bytes of the IPv4 or IPv6 header at iph."""
    if (c.d[iph] >> 4) == 6:
        return c.d[iph + 8:iph + 24], c.d[iph + 24:iph + 40]
    return c.d[iph + 12:iph + 16], c.d[iph + 16:iph + 20]


def udp_app_printer(sport, dport):
    """The application printer tcpdump's udp_print() picks by port (after its
    NFS test), called as ``printer(c, cp, length)``; None if there is none."""
    first = _udp_first(sport, dport)
    if first == "":
        return None
    printer = _UDP_PRINTERS.get(first if isinstance(first, str) else first[0])
    if printer is None:
        name = _UDP_TAG_NAMES[first] if isinstance(first, str) else _UDP_NAMES.get(first[0], "udp")
        printer = partial(_udp_named, name)
    return printer


def _udp_named(name, c, cp, length):
    generic_print(c, name, name.upper(), length)


def udp_app(c, cp, length, sport, dport):
    """Print with udp_app_printer(); True if there was one."""
    printer = udp_app_printer(sport, dport)
    if printer is None:
        return False
    printer(c, cp, length)
    return True


# The order in which tcpdump's udp_print() tests ports, for the ports we do not
# decode ourselves (the first one that matches wins).
_UDP_ORDER = [
    (53,), (67, 68), (69,), (88,), (123,), (161, 162), (319, 320), (496,),
    (500,), (514,), (520,), (521,), (525,), (546, 547), (646,), (654,), (698,), (701,),
    (750,), (921,), (5353,), (4500,), (7500, 8500), (1701,), ("vat",), (2103, 2104),
    ("rx",), (5359,), (6696, 6697), (8231,), ("wb",), (1645, 1812, 1646, 1813, 1700, 3799),
    ("hsrp",), (3503,), ("bfd",), (1589,), (6343,), ("lwapp",), ("lwapp-to-ac",),
    ("lwapp-from-ac",), (5060,), (8472,),
    (4789,), ("geneve",), (4342,), (4790,), (17754,), (6635,), ("atalk",), (30490,),
    ("bcmli",),
]
_UDP_NAMES = {
    69: "tftp", 88: "krb", 123: "ntp", 137: "nbt", 138: "nbt", 161: "snmp", 162: "snmp",
    319: "ptp", 320: "ptp", 496: "autorp", 500: "isakmp", 514: "syslog", 520: "rip",
    521: "ripng", 525: "timed", 546: "dhcp6", 547: "dhcp6", 646: "ldp", 654: "aodv",
    698: "olsr", 701: "lmp", 750: "krb", 921: "lwres", 5353: "mdns", 4500: "isakmp",
    7500: "isakmp", 8500: "isakmp", 1701: "l2tp", 2103: "zephyr", 2104: "zephyr",
    5359: "ahcp", 6696: "babel", 6697: "babel", 8231: "hncp", 1645: "radius", 1812: "radius",
    1646: "radius", 1813: "radius", 1700: "radius", 3799: "radius", 3503: "lspping",
    1589: "vqp", 6343: "sflow", 5060: "sip", 8472: "otv", 4789: "vxlan",
    4342: "lisp", 4790: "vxlan_gpe", 17754: "zep", 6635: "mpls", 30490: "someip",
}


def _udp_match(item, sport, dport):
    tag = item[0]
    if tag == "vat":
        return dport == 3456
    if tag == "rx":
        return 7000 <= sport <= 7009 or 7000 <= dport <= 7009
    if tag == "wb":
        return dport == 4567
    if tag == "hsrp":
        return dport == 1985
    if tag == "bfd":
        return dport in (3784, 4784, 6784, 3785)
    if tag == "lwapp":
        return dport == 12222 or sport == 12222
    if tag == "lwapp-to-ac":            # control messages carry the AP's address first
        return dport == 12223
    if tag == "lwapp-from-ac":
        return sport == 12223
    if tag == "geneve":
        return dport == 6081
    if tag == "atalk":
        return False
    if tag == "bcmli":
        return sport == 49152
    return sport in item or dport in item


_UDP_CACHE: dict = {}


def _udp_first(sport, dport):
    key = (sport, dport)
    r = _UDP_CACHE.get(key)
    if r is None:
        r = ""
        for item in _UDP_ORDER:
            if _udp_match(item, sport, dport):
                r = item[0] if isinstance(item[0], str) else item
                break
        if len(_UDP_CACHE) < 100000:
            _UDP_CACHE[key] = r
    return r


_UDP_PRINTERS = {}


_UDP_TAG_NAMES = {"vat": "vat", "rx": "rx", "wb": "wb", "hsrp": "hsrp", "bfd": "bfd",
                  "lwapp": "lwapp", "lwapp-to-ac": "lwapp", "lwapp-from-ac": "lwapp",
                  "geneve": "geneve", "bcmli": "bcm-li"}


def _udp_domain(c, cp, length):
    domain_print(c, cp, length, False, False)


def _udp_mdns(c, cp, length):
    domain_print(c, cp, length, False, True)


def _udp_tftp(c, cp, length):
    c.proto = "tftp"
    c.o.append(" %u" % length)


def vxlan_print(c, bp, length):
    c.proto = "vxlan"
    o = c.o
    if length < 8:
        o.append(" (invalid)")
        return
    flags = g8(c, bp)
    vni = g32(c, bp + 4) >> 8
    o.append("VXLAN, flags [%s] (0x%02x), vni %u\n" % ("I" if flags & 0x08 else ".", flags, vni))
    ether_print(c, bp + 8, length - 8)


_GENEVE_CLASSES = {0x0100: "Linux", 0x0101: "Open vSwitch", 0x0102: "Open Virtual Networking (OVN)",
                   0x0103: "In-band Network Telemetry (INT)", 0x0104: "VMware"}


def _geneve_class(cls):
    if cls in _GENEVE_CLASSES:
        return _GENEVE_CLASSES[cls]
    return "Standard" if cls <= 0xFF else "Experimental" if cls >= 0xFFF0 else "Unknown"


def _geneve_opts(c, p, left):
    """geneve_opts_print(): class, type and length of each option (-vv: its data)."""
    o = c.o
    sep = ""
    while left > 0:
        o.append(sep)
        sep = ", "
        cls, typ = g16(c, p), g8(c, p + 2)
        olen = 4 + (g8(c, p + 3) & 0x1F) * 4
        o.append("class %s (0x%x) type 0x%x%s len %u" % (_geneve_class(cls), cls, typ,
                                                       "(C)" if typ & 0x80 else "", olen))
        if olen > left:
            o.append(" [bad length]")
            return
        if c.v > 1 and olen > 4:
            o.append(" data" + "".join(" %08x" % g32(c, p + i) for i in range(4, olen, 4)))
        p, left = p + olen, left - olen


def geneve_print(c, bp, length):
    c.proto = "geneve"
    o = c.o
    o.append("Geneve")
    need(c, bp, 8)
    vo = g8(c, bp)
    ver = vo >> 6
    if ver != 0:
        o.append(" ERROR: unknown-version %u" % ver)
        return
    flags = g8(c, bp + 1)
    prot = g16(c, bp + 2)
    vni = g32(c, bp + 4)
    reserved = vni & 0xFF
    vni >>= 8
    opts_len = (vo & 0x3F) * 4
    fl = []
    if flags & 0x80:
        fl.append("O")
    if flags & 0x40:
        fl.append("C")
    o.append(", Flags [%s]" % ("".join(fl) if fl else "none"))
    o.append(", vni 0x%x" % vni)
    if reserved:
        o.append(", rsvd 0x%x" % reserved)
    if c.e:
        o.append(", proto %s (0x%04x)" % (T.ETHERTYPE_NAMES.get(prot, "unknown"), prot))
    if opts_len:
        o.append(", options [")
        if c.v:
            _geneve_opts(c, bp + 8, opts_len)
        else:
            o.append("%u bytes" % opts_len)
        o.append("]")
    if length < 8 + opts_len:
        o.append(" [bad opt len %u]" % opts_len)
        return
    bp += 8 + opts_len
    length -= 8 + opts_len
    o.append(": " if c.v < 1 else "\n\t")
    if not ethertype_print(c, prot, bp, length, avail(c, bp)):
        if prot == 0x6558:
            ether_print(c, bp, length)
        else:
            o.append("geneve-proto-0x%x" % prot)


def bootp_print(c, bp, length):
    c.proto = "bootp"
    o = c.o
    o.append("BOOTP/DHCP")
    op = g8(c, bp)
    if op == 1:
        o.append(", Request")
        htype = g8(c, bp + 1)
        hlen = g8(c, bp + 2)
        if htype == 1 and hlen == 6:
            o.append(" from %s" % etheraddr(c, bp + 28))
    elif op == 2:
        o.append(", Reply")
    else:
        o.append(", unknown (0x%02x)" % op)
    o.append(", length %u" % length)
    if c.v:
        _bootp_detail(c, bp)


_DHCP_MESSAGES = {1: "Discover", 2: "Offer", 3: "Request", 4: "Decline", 5: "ACK", 6: "NACK",
                  7: "Release", 8: "Inform", 10: "LeaseQuery", 11: "LeaseUnassigned",
                  12: "LeaseUnknown", 13: "LeaseActive"}
_DHCP_SPECIAL = {46: {1: "b-node", 2: "p-node", 4: "m-node", 8: "h-node"},     # Netbios-Node
                 52: {1: "file", 2: "sname", 3: "file+sname"}}                    # OO
_DHCP_ARP = {1: "ether", 6: "ieee802", 7: "arcnet", 15: "frelay", 23: "strip", 24: "ieee1394"}
_DHCP_AGENT = {1: "Circuit-ID", 2: "Remote-ID", 6: "Subscriber-ID"}


def _bootp_detail(c, bp):
    """bootp_print() with -v: the fields that are set, then the vendor area."""
    o = c.o
    htype, hlen, hops = g8(c, bp + 1), g8(c, bp + 2), g8(c, bp + 3)
    g16(c, bp + 8)
    if htype != 1:
        o.append(", htype %u" % htype)
    if htype != 1 or hlen != 6:
        o.append(", hlen %u" % hlen)
    if hops:
        o.append(", hops %u" % hops)
    xid, secs = g32(c, bp + 4), g16(c, bp + 8)
    if xid:
        o.append(", xid 0x%x" % xid)
    if secs:
        o.append(", secs %u" % secs)
    flags = g16(c, bp + 10)
    o.append(", Flags [%s]" % ("Broadcast" if flags & 0x8000 else "none"))
    if c.v > 1:
        o.append(" (0x%04x)" % flags)
    for off, label in ((12, "Client-IP"), (16, "Your-IP"), (20, "Server-IP"), (24, "Gateway-IP")):
        if g32(c, bp + off):
            o.append("\n\t  %s %s" % (label, ipaddr(c, bp + off)))
    if htype == 1 and hlen == 6:
        o.append("\n\t  Client-Ethernet-Address %s" % etheraddr(c, bp + 28))
    for off, size, label in ((44, 64, "sname"), (108, 128, "file")):
        if g8(c, bp + off):
            o.append('\n\t  %s "' % label)
            have = min(size, avail(c, bp + off))
            chunk = c.d[bp + off:bp + off + have]
            nul = chunk.find(0)
            o.append(fn_print_bytes(chunk if nul < 0 else chunk[:nul]))
            o.append('"')
            if nul < 0:                 # nd_printztn(): no NUL in the field is cut short
                raise Trunc
    vend = bp + 236
    cookie = g32(c, vend)
    if cookie == 0x63825363:
        _rfc1048_print(c, vend)
    elif cookie == 0x434D5500:            # "CMU\0"
        _cmu_print(c, vend)
    elif cookie:
        o.append("\n\t  Vendor-#0x%x" % cookie)


def _cmu_print(c, p):
    o = c.o
    o.append(" vend-cmu")
    need(c, p + 4, 4)
    flags = g8(c, p + 4)
    if flags & ~1:
        o.append(" F:0x%x" % flags)
    for off, label in ((12, "DG"), (8, "SM" if flags & 1 else "SM*"), (16, "NS1"), (20, "NS2"),
                       (24, "IEN1"), (28, "IEN2"), (32, "TS1"), (36, "TS2")):
        if g32(c, p + off):
            o.append(" %s:%s" % (label, ipaddr(c, p + off)))


def _rfc1048_print(c, p):
    """rfc1048_print(): each option as "NAME (TAG), length N: VALUE"."""
    o = c.o
    o.append("\n\t  Vendor-rfc1048 Extensions\n\t    Magic Cookie 0x%08x" % g32(c, p))
    p += 4
    v = c.v
    while p < c.end:
        tag = c.d[p]
        p += 1
        if tag in (0, 255) and v < 3:
            if tag == 255:
                return
            continue
        entry = T.DHCP_OPTIONS.get(tag, "?Unknown")
        fmt, name = entry[0], entry[1:]
        ln = 0 if tag in (0, 255) else g8(c, p)
        if tag not in (0, 255):
            p += 1
        o.append("\n\t    %s (%u), length %u%s" % (name, tag, ln, ": " if ln else ""))
        if tag == 0:
            n = 1
            while p < c.end and c.d[p] == 0:
                p += 1
                n += 1
            if n > 1:
                o.append(", occurs %u" % n)
        need(c, p, ln)
        if tag == 53 and ln == 1:
            o.append(_DHCP_MESSAGES.get(c.d[p], "Unknown (%u)" % c.d[p]))
            p += 1
            continue
        if tag == 55:
            for i in range(ln):
                t = c.d[p + i]
                o.append(("\n\t      " if i % 4 == 0 else ", ") + "%s (%u)" % (
                    T.DHCP_OPTIONS.get(t, "?Unknown")[1:], t))
            p += ln
            continue
        if fmt == "?":
            fmt = "b" if ln & 1 else "s" if ln & 2 else "l"
        left = _dhcp_value(c, p, ln, fmt, tag)
        p += ln
        if left:
            o.append("\n\t  trailing data length %u" % left)


def _dhcp_value(c, p, ln, fmt, tag):
    """One option's value by its format letter; the bytes left over."""
    o = c.o
    d = c.d
    if fmt == "a":
        o.append('"%s"' % fn_print_bytes(d[p:p + ln]))
        return 0
    if fmt in "ilL":
        n = ln // 4
        o.append(",".join(ipaddr(c, p + 4 * i) if fmt == "i" else
                          "%d" % int.from_bytes(d[p + 4 * i:p + 4 * i + 4], "big", signed=fmt == "L")
                          for i in range(n)))
        return ln - 4 * n
    if fmt == "p":
        n = ln // 8
        o.append(",".join("(%s:%s)" % (ipaddr(c, p + 8 * i), ipaddr(c, p + 8 * i + 4))
                          for i in range(n)))
        return ln - 8 * n
    if fmt == "s":
        n = ln // 2
        o.append(",".join("%u" % ((d[p + 2 * i] << 8) | d[p + 2 * i + 1]) for i in range(n)))
        return ln - 2 * n
    if fmt == "B":
        o.append(",".join("N" if b == 0 else "Y" if b == 1 else "%u?" % b for b in d[p:p + ln]))
        return 0
    if fmt == "$":
        return _dhcp_special(c, p, ln, tag)
    # "b" and any other letter (" ": PAD, END, a DHCP-Message of another
    # length): the bytes, dotted, as rfc1048_print()'s default case
    o.append(".".join("%u" % b for b in d[p:p + ln]))
    return 0


def _dhcp_special(c, p, ln, tag):
    """The options tcpdump prints with code of their own ('$')."""
    o = c.o
    d = c.d
    if tag in _DHCP_SPECIAL:
        if ln < 1:
            o.append("[ERROR: length < 1 bytes]")
            return 0
        o.append(_DHCP_SPECIAL[tag].get(d[p], "#%u" % d[p]))
        return ln - 1
    if tag == 61:                                   # Client-ID
        if ln < 1:
            o.append("[ERROR: length < 1 bytes]")
            return 0
        kind = d[p]
        if kind == 0:
            o.append('"%s"' % fn_print_bytes(d[p + 1:p + ln]))
        else:
            o.append("%s %s" % (_DHCP_ARP.get(kind, "hardware-type %u," % kind),
                                d[p + 1:p + ln].hex(":")))
        return 0
    if tag == 81:                                   # Client FQDN
        if ln < 3:
            o.append("[ERROR: length < 3 bytes]")
            return 0
        flags = d[p]
        if flags & 0xF0:
            o.append("[ERROR: MBZ nibble 0x%x != 0] " % (flags >> 4))
        if flags & 0x0F:
            o.append("[%s] " % "".join(ch for bit, ch in ((1, "S"), (2, "O"), (4, "E"), (8, "N"))
                                        if flags & bit))
        if d[p + 1] or d[p + 2]:
            o.append("%u/%u " % (d[p + 1], d[p + 2]))
        o.append('"%s"' % fn_print_bytes(d[p + 3:p + ln]))
        return 0
    if tag == 82:                                   # Agent-Information
        q, left = p, ln
        while left >= 2:
            sub, sublen = d[q], d[q + 1]
            q, left = q + 2, left - 2
            name = _DHCP_AGENT.get(sub, "Unknown")
            if sublen > left:
                o.append("\n\t      %s SubOption %u, length %u: length goes past end of option"
                         % (name, sub, sublen))
                return 0
            o.append("\n\t      %s SubOption %u, length %u: " % (name, sub, sublen))
            if sub in _DHCP_AGENT:
                o.append(fn_print_bytes(d[q:q + sublen]))
            else:
                print_unknown_data(c, q, "\n\t\t", sublen)
            q, left = q + sublen, left - sublen
        return left
    if tag in (121, 249):                           # classless static routes
        if ln < 5:
            o.append("[ERROR: length < 5 bytes]")
            return 0
        q, left, first = p, ln, True
        while left > 0:
            if not first:
                o.append(",")
            width = d[q]
            q, left = q + 1, left - 1
            if width > 32:
                o.append("[ERROR: Mask width (%u) > 32]" % width)
                return 0
            octets = (width + 7) // 8
            if left < octets + 4:
                o.append("[ERROR: Remaining length (%u) < %u bytes]" % (left, octets + 4))
                return 0
            if width == 0:
                dest = "default"
            else:
                dest = ".".join(["%u" % b for b in d[q:q + octets]] + ["0"] * (4 - octets))
                dest += "/%u" % width
            o.append("(%s:%s)" % (dest, ipaddr(c, q + octets)))
            q, left = q + octets + 4, left - octets - 4
            first = False
        return 0
    if tag == 77:                                   # User-Class
        if ln < 2:
            o.append("[ERROR: length < 2 bytes]")
            return 0
        q, left, n = p, ln, 1
        while left > 0:
            sublen = d[q]
            q, left = q + 1, left - 1
            o.append("\n\t      instance#%u: " % n)
            if sublen == 0:
                o.append("[ERROR: suboption length must be non-zero]")
                return 0
            if left < sublen:
                o.append("[ERROR: invalid option]")
                return 0
            o.append('"%s", length %u' % (fn_print_bytes(d[q:q + sublen]), sublen))
            q, left, n = q + sublen, left - sublen, n + 1
        return 0
    o.append("[unknown special tag %u, size %u]" % (tag, ln))
    return 0


_NTP_MODES = {0: "Reserved", 1: "Symmetric Active", 2: "Symmetric Passive", 3: "Client",
              4: "Server", 5: "Broadcast", 6: "Control Message", 7: "Reserved"}


def ntp_print(c, bp, length):
    c.proto = "ntp"
    o = c.o
    b = g8(c, bp)
    version = (b >> 3) & 7
    mode = b & 7
    o.append("NTPv%u" % version)
    if not c.v and mode in (1, 2, 3, 4, 5):
        o.append(", %s" % _NTP_MODES[mode])
        o.append(", length %u" % length)
        return
    o.append(", %s" % _NTP_MODES[mode])
    o.append(", length %u" % length)


# --------------------------------------------------------------------------
# ICMP (print-icmp.c)

def _icmp_tstamp(t):
    msec = t % 1000
    sec = t // 1000
    mn = sec // 60
    sec -= mn * 60
    hrs = mn // 60
    mn -= hrs * 60
    return "%02u:%02u:%02u.%03u" % (hrs, mn, sec, msec)


def icmp_print(c, bp, plen, iph, fragmented):
    c.proto = "icmp"
    o = c.o
    t = g8(c, bp)
    code = g8(c, bp + 1)
    if t == 8 or t == 0:
        s = "echo %s, id %u, seq %u" % ("request" if t == 8 else "reply", g16(c, bp + 4), g16(c, bp + 6))
    elif t == 3:
        idst = bp + 8 + 16
        if code == 2:
            s = "%s protocol %u unreachable" % (ipaddr(c, idst), g8(c, bp + 8 + 9))
        elif code == 3:
            g8(c, bp + 8 + 9)
            hl = (g8(c, bp + 8) & 0xF) * 4
            dport = g16(c, bp + 8 + hl + 2)
            ipp = g8(c, bp + 8 + 9)
            if ipp == 6:
                s = "%s tcp port %s unreachable" % (ipaddr(c, idst), tcpport(c, dport))
            elif ipp == 17:
                s = "%s udp port %s unreachable" % (ipaddr(c, idst), udpport(c, dport))
            else:
                s = "%s protocol %u port %u unreachable" % (ipaddr(c, idst), ipp, dport)
        elif code == 4:
            mtu = g16(c, bp + 6)
            if mtu:
                s = "%s unreachable - need to frag (mtu %u)" % (ipaddr(c, idst), mtu)
            else:
                s = "%s unreachable - need to frag" % ipaddr(c, idst)
        elif code in T.ICMP_UNREACH_FMT:
            s = T.ICMP_UNREACH_FMT[code] % ipaddr(c, idst)
        else:
            s = "%s unreachable - #%u" % (ipaddr(c, idst), code)
    elif t == 5:
        idst = bp + 8 + 16
        fmt = {0: "redirect %s to net %s", 1: "redirect %s to host %s",
               2: "redirect-tos %s to net %s", 3: "redirect-tos %s to host %s"}.get(code)
        if fmt:
            s = fmt % (ipaddr(c, idst), ipaddr(c, bp + 4))
        else:
            s = "redirect-#%u %s to %s" % (code, ipaddr(c, idst), ipaddr(c, bp + 4))
    elif t == 9:
        parts = ["router advertisement"]
        need(c, bp + 4, 4)
        parts.append(" lifetime ")
        lt = g16(c, bp + 6)
        if lt < 60:
            parts.append("%u" % lt)
        elif lt < 3600:
            parts.append("%u:%02u" % (lt // 60, lt % 60))
        else:
            parts.append("%u:%02u:%02u" % (lt // 3600, (lt % 3600) // 60, lt % 60))
        num = g8(c, bp + 4)
        parts.append(" %u:" % num)
        size = g8(c, bp + 5)
        if size != 2:
            parts.append(" [size %u]" % size)
        else:
            q = bp + 8
            try:
                while num > 0:
                    need(c, q, 8)
                    parts.append(" {%s %u}" % (ipaddr(c, q), g32(c, q + 4)))
                    q += 8
                    num -= 1
            except Trunc:
                trunc(c)  # tcpdump prints nothing of the message then
                return
        s = "".join(parts)
    elif t == 11:
        need(c, bp + 8 + 16, 4)
        if code == 0:
            s = "time exceeded in-transit"
        elif code == 1:
            s = "ip reassembly time exceeded"
        else:
            s = "time exceeded-#%u" % code
    elif t == 12:
        if code:
            s = "parameter problem - code %u" % code
        else:
            s = "parameter problem - octet %u" % g8(c, bp + 4)
    elif t == 18:
        s = "address mask is 0x%08x" % g32(c, bp + 8)
    elif t == 13:
        s = "time stamp query id %u seq %u" % (g16(c, bp + 4), g16(c, bp + 6))
    elif t == 14:
        need(c, bp + 16, 4)
        s = "time stamp reply id %u seq %u: org %s, recv %s, xmit %s" % (
            g16(c, bp + 4), g16(c, bp + 6), _icmp_tstamp(g32(c, bp + 8)),
            _icmp_tstamp(g32(c, bp + 12)), _icmp_tstamp(g32(c, bp + 16)))
    else:
        s = T.ICMP_TYPE_NAMES.get(t, "type-#%u" % t)
    o.append("ICMP %s, length %u" % (s, plen))
    if c.v and not fragmented:
        if tt(c, bp, plen):
            sm = in_cksum(c.d[bp:bp + plen])
            if sm != 0:
                f = g16(c, bp + 2)
                o.append(" (wrong icmp cksum %x (->%x)!)" % (f, cksum_shouldbe(f, sm)))
    if c.v >= 1 and t in (3, 4, 5, 11, 12):
        q = bp + 8
        o.append("\n\t")
        save = c.end
        inner_len = g16(c, q + 2)
        if q + inner_len < c.end:
            c.end = q + inner_len
        ip_print(c, q, inner_len)
        c.end = save
    c.proto = "icmp"


# --------------------------------------------------------------------------
# ICMPv6 (print-icmp6.c)

def _get_upperlayer(c, oip):
    d = c.d
    if not tt(c, oip + 6, 1):
        return None, None
    nh = d[oip + 6]
    hlen = 40
    q = oip
    while q < c.end:
        q += hlen
        if nh in (6, 17):
            if tt(c, q + 2, 2):
                return q, nh
            return None, None
        if nh in (0, 60, 43):
            if not tt(c, q + 1, 1):
                return None, None
            nh = d[q]
            hlen = (d[q + 1] + 1) << 3
        elif nh == 44:
            if not tt(c, q + 2, 2):
                return None, None
            if g16(c, q + 2) & 0xFFF8:
                return None, None
            nh = d[q]
            hlen = 8
        elif nh == 51:
            if not tt(c, q + 1, 1):
                return None, None
            nh = d[q]
            hlen = (d[q + 1] + 2) << 2
        else:
            return None, nh
    return None, None


def _lifetime(v):
    return "infinity" if v == 0xFFFFFFFF else "%us" % v


def icmp6_print(c, bp, length, iph, fragmented):
    c.proto = "icmp6"
    o = c.o
    oip = bp + 8
    if length == 0:
        o.append("ICMP6, length 0 (invalid)")
        return
    if c.v and not fragmented:
        if tt(c, bp, length):
            f = g16(c, bp + 2)
            s = nextproto_cksum(c, iph, bp, length, 58)
            if s != 0:
                o.append("[bad icmp6 cksum 0x%04x -> 0x%04x!] " % (f, cksum_shouldbe(f, s)))
            else:
                o.append("[icmp6 sum ok] ")
    t = g8(c, bp)
    o.append("ICMP6, %s" % T.ICMP6_TYPE_NAMES.get(t, "unknown icmp6 type (%u)" % t))
    if c.v and t in (133, 134, 136, 135, 137, 145, 147):
        o.append(", length %u" % length)
    code = g8(c, bp + 1)
    try:
        if t == 1:
            o.append(", %s" % T.ICMP6_UNREACH_NAMES.get(code, "unknown unreach code (%u)" % code))
            if code in (0, 1, 3):
                o.append(" %s" % ip6addr(c, oip + 24))
            elif code == 2:
                o.append(" %s, source address %s" % (ip6addr(c, oip + 24), ip6addr(c, oip + 8)))
            elif code == 4:
                ouh, prot = _get_upperlayer(c, oip)
                if ouh is None:
                    raise _OptTrunc
                dport = g16(c, ouh + 2)
                if prot == 6:
                    o.append(", %s tcp port %s" % (ip6addr(c, oip + 24), tcpport(c, dport)))
                elif prot == 17:
                    o.append(", %s udp port %s" % (ip6addr(c, oip + 24), udpport(c, dport)))
                else:
                    o.append(", %s protocol %u port %u unreachable" % (ip6addr(c, oip + 24), prot, dport))
            else:
                if c.v <= 1:
                    print_unknown_data(c, bp, "\n\t", length)
                    return
        elif t == 2:
            o.append(", mtu %u" % g32(c, bp + 4))
        elif t == 3:
            if code == 0:
                o.append(" for %s" % ip6addr(c, oip + 24))
            elif code == 1:
                o.append(" (reassembly)")
            else:
                o.append(", unknown code (%u)" % code)
        elif t == 4:
            need(c, oip + 24, 16)
            names = {0: "erroneous", 1: "next header", 2: "option", 3: "incomplete header chain"}
            if code in names:
                o.append(", %s - octet %u" % (names[code], g32(c, bp + 4)))
            else:
                o.append(", code-#%u" % code)
        elif t in (128, 129):
            o.append(", id %u, seq %u" % (g16(c, bp + 4), g16(c, bp + 6)))
        elif t == 130:
            if length == 24:
                _mld6_print(c, bp)
            elif length >= 28:
                o.append(" v2")
                _mldv2_query_print(c, bp, length)
            else:
                o.append(" unknown-version (len %u) " % length)
        elif t in (131, 132):
            _mld6_print(c, bp)
        elif t == 133:
            if c.v:
                if _icmp6_opt_print(c, bp + 8, length - 8) == -1:
                    raise _OptTrunc
        elif t == 134:
            if c.v:
                fl = g8(c, bp + 5)
                flags = bittok(((0x80, "managed"), (0x40, "other stateful"), (0x20, "home agent"),
                                (0x02, "ipv6 only")), "none", fl)
                o.append("\n\thop limit %u, Flags [%s], pref %s, router lifetime %us, reachable time %ums, retrans timer %ums" % (
                    g8(c, bp + 4), flags, ("medium", "high", "rsv", "low")[(fl & 0x18) >> 3],
                    g16(c, bp + 6), g32(c, bp + 8), g32(c, bp + 12)))
                if _icmp6_opt_print(c, bp + 16, length - 16) == -1:
                    raise _OptTrunc
        elif t == 135:
            o.append(", who has %s" % ip6addr(c, bp + 8))
            if c.v:
                if _icmp6_opt_print(c, bp + 24, length - 24) == -1:
                    raise _OptTrunc
        elif t == 136:
            o.append(", tgt is %s" % ip6addr(c, bp + 8))
            if c.v:
                o.append(", Flags [%s]" % bittok(((0x80000000, "router"), (0x40000000, "solicited"),
                                                   (0x20000000, "override")), "none", g32(c, bp + 4)))
                if _icmp6_opt_print(c, bp + 24, length - 24) == -1:
                    raise _OptTrunc
        elif t == 137:
            o.append(", %s" % ip6addr(c, bp + 24))
            o.append(" to %s" % ip6addr(c, bp + 8))
            if c.v:
                if _icmp6_opt_print(c, bp + 40, length - 40) == -1:
                    raise _OptTrunc
        elif t in (141, 142):
            pass
        elif t == 143:
            if length < 8:
                o.append(" [invalid len %u]" % length)
            else:
                ng = g16(c, bp + 6)
                o.append(", %u group record(s)" % ng)
                if c.v > 0:
                    group = 8
                    for _ in range(ng):
                        if length < group + 20:
                            o.append(" [invalid number of groups]")
                            break
                        o.append(" [gaddr %s" % ip6addr(c, bp + group + 4))
                        rt = g8(c, bp + group)
                        o.append(" %s" % T.MLDV2_REPORT_NAMES.get(rt, " [v2-report-#%u]" % rt))
                        nsrcs = g16(c, bp + group + 2)
                        if length < group + 20 + nsrcs * 16:
                            o.append(" [invalid number of sources %u]" % nsrcs)
                            break
                        if c.v == 1:
                            o.append(", %u source(s)" % nsrcs)
                        else:
                            o.append(" {")
                            for j in range(nsrcs):
                                o.append(" %s" % ip6addr(c, bp + group + 20 + j * 16))
                            o.append(" }")
                        group += 20 + nsrcs * 16
                        o.append("]")
        elif t in (146, 144):
            o.append(", id 0x%04x" % g16(c, bp + 4))
        elif t in (139, 140, 138, 145, 147, 155, 200, 201):
            pass
        else:
            o.append(", length %u" % length)
            if c.v <= 1:
                print_unknown_data(c, bp, "\n\t", length)
            return
    except _OptTrunc:
        trunc(c)
        return
    if not c.v:
        o.append(", length %u" % length)


def _mld6_print(c, bp):
    if bp + 24 > c.end:
        return
    c.o.append("max resp delay: %u " % g16(c, bp + 4))
    c.o.append("addr: %s" % ip6addr(c, bp + 8))


def _mldv2_query_print(c, bp, length):
    o = c.o
    if length < 28:
        o.append(" [invalid len %u]" % length)
        return
    mrc = g16(c, bp + 4)
    if mrc < 32768:
        mrt = mrc
    else:
        mrt = ((mrc & 0x0FFF) | 0x1000) << (((mrc & 0x7000) >> 12) + 3)
    if c.v:
        o.append(" [max resp delay=%u]" % mrt)
    o.append(" [gaddr %s" % ip6addr(c, bp + 8))
    if c.v:
        b24 = g8(c, bp + 24)
        if b24 & 0x08:
            o.append(" sflag")
        if b24 & 0x07:
            o.append(" robustness=%u" % (b24 & 7))
        b25 = g8(c, bp + 25)
        if b25 < 128:
            qqi = b25
        else:
            qqi = ((b25 & 0x0F) | 0x10) << (((b25 & 0x70) >> 4) + 3)
        o.append(" qqi=%u" % qqi)
    nsrcs = g16(c, bp + 26)
    if nsrcs > 0:
        if length < 28 + nsrcs * 16:
            o.append(" [invalid number of sources]")
        elif c.v > 1:
            o.append(" {")
            for i in range(nsrcs):
                o.append(" %s" % ip6addr(c, bp + 28 + i * 16))
            o.append(" }")
        else:
            o.append(", %u source(s)" % nsrcs)
    o.append("]")


def _icmp6_opt_print(c, bp, resid):
    o = c.o
    cp = bp
    ep = c.end
    while cp < ep:
        if not tt(c, cp + 1, 1):
            return -1
        if resid <= 0:
            return 0
        ot = g8(c, cp)
        ol = g8(c, cp + 1)
        if ol == 0:
            return -1
        if cp + (ol << 3) > ep:
            return -1
        o.append("\n\t  %s option (%u), length %u (%u): " % (
            T.ICMP6_OPT_NAMES.get(ot, "unknown"), ot, ol << 3, ol))
        if ot in (1, 2):
            o.append(":".join("%02x" % b for b in c.d[cp + 2:cp + (ol << 3)]))
        elif ot == 3:
            o.append("%s/%u%s, Flags [%s], valid time %s" % (
                ip6addr(c, cp + 16), g8(c, cp + 2), "badlen" if ol != 4 else "",
                bittok(((0x80, "onlink"), (0x40, "auto"), (0x20, "router")), "none", g8(c, cp + 3)),
                _lifetime(g32(c, cp + 4))))
            o.append(", pref. time %s" % _lifetime(g32(c, cp + 8)))
        elif ot == 4:
            print_unknown_data(c, bp, "\n\t    ", ol << 3)
        elif ot == 5:
            o.append(" %u%s" % (g32(c, cp + 4), "bad option length" if ol != 1 else ""))
        elif ot == 25:
            o.append(" lifetime %us," % g32(c, cp + 4))
            for i in range((ol - 1) // 2):
                o.append(" addr: %s" % ip6addr(c, cp + 8 + 16 * i))
        elif ot == 7:
            o.append(" %ums" % g32(c, cp + 4))
        elif ot == 8:
            o.append(" preference %u, lifetime %u" % (g16(c, cp + 4), g16(c, cp + 6)))
        else:
            if c.v <= 1:
                print_unknown_data(c, cp + 2, "\n\t  ", (ol << 3) - 2)
                return 0
        if c.v > 1:
            print_unknown_data(c, cp + 2, "\n\t    ", (ol << 3) - 2)
        cp += ol << 3
        resid -= ol << 3
    return 0


# --------------------------------------------------------------------------
# DNS (print-domain.c)

class _DnsFail(Exception):
    pass


def _ns_nskip(c, cp):
    if not tt(c, cp, 1):
        return None
    i = c.d[cp]
    cp += 1
    while i:
        tm = i & 0xC0
        if tm == 0xC0:
            return cp + 1
        if tm == 0x40:
            if (i & 0x3F) != 0x01:
                return None
            if not tt(c, cp, 1):
                return None
            bitlen = c.d[cp] or 256
            cp += 1
            cp += (bitlen + 7) // 8
        elif tm == 0x80:
            return None
        else:
            cp += i
        if not tt(c, cp, 1):
            return None
        i = c.d[cp]
        cp += 1
    return cp


def _labellen(c, cp):
    if not tt(c, cp, 1):
        return -1
    i = c.d[cp]
    tm = i & 0xC0
    if tm == 0x40:
        elt = i & 0x3F
        if elt != 0x01:
            c.o.append("<ELT %d>" % elt)
            return -1
        if not tt(c, cp + 1, 1):
            return -1
        bitlen = c.d[cp + 1] or 256
        return (bitlen + 7) // 8 + 1
    if tm in (0xC0, 0x00):
        return i
    c.o.append("<BAD LABEL TYPE>")
    return -1


def _blabel_print(c, cp):
    o = c.o
    if not tt(c, cp, 1):
        return None
    bitlen = c.d[cp] or 256
    slen = (bitlen + 3) // 4
    lim = cp + 1 + slen
    o.append("\\[x")
    bitp = cp + 1
    b = bitlen
    while bitp < lim and b > 7:
        o.append("%02x" % g8(c, bitp))
        b -= 8
        bitp += 1
    if b > 4:
        tc = g8(c, bitp)
        o.append("%02x" % (tc & (0xFF << (8 - b)) & 0xFF))
    elif b > 0:
        tc = g8(c, bitp)
        o.append("%1x" % (((tc >> 4) & 0x0F) & (0x0F << (4 - b)) & 0xF))
    o.append("/%u]" % bitlen)
    return lim


def fqdn_print(c, cp, bp):
    o = c.o
    l = _labellen(c, cp)
    if l == -1:
        return None
    if not tt(c, cp, 1):
        return None
    max_offset = cp - bp
    i = c.d[cp]
    cp += 1
    rp = None
    compress = False
    if (i & 0xC0) != 0xC0:
        rp = cp + l
    name_chars = 0
    if i != 0:
        while i and cp < c.end:
            tm = i & 0xC0
            if tm == 0xC0:
                if not compress:
                    rp = cp + 1
                    compress = True
                if not tt(c, cp, 1):
                    return None
                offset = ((i << 8) | c.d[cp]) & 0x3FFF
                if offset >= max_offset:
                    o.append("<BAD PTR>")
                    return None
                max_offset = offset
                cp = bp + offset
                if not tt(c, cp, 1):
                    return None
                i = c.d[cp]
                l = _labellen(c, cp)
                if l == -1:
                    return None
                cp += 1
                continue
            if tm == 0x40:
                elt = i & 0x3F
                if elt == 0x01:
                    if _blabel_print(c, cp) is None:
                        return None
                else:
                    o.append("<ELT %u>" % elt)
                    return None
            elif tm == 0x80:
                o.append("<BAD LABEL TYPE>")
                return None
            else:
                if name_chars + l <= 255:
                    nd_printn(c, cp, l)
                elif name_chars < 255:
                    nd_printn(c, cp, 255 - name_chars)
                name_chars += l
            cp += l
            if name_chars <= 255:
                o.append(".")
            name_chars += 1
            if not tt(c, cp, 1):
                return None
            i = c.d[cp]
            l = _labellen(c, cp)
            if l == -1:
                return None
            cp += 1
            if not compress:
                rp += l + 1
        if name_chars > 255:
            o.append("<DOMAIN NAME TOO LONG>")
    else:
        o.append(".")
    return rp


def _ns_qprint(c, cp, bp, is_mdns):
    np_ = cp
    cp = _ns_nskip(c, cp)
    if cp is None or not tt(c, cp, 4):
        return None
    o = c.o
    i = g16(c, cp)
    cp += 2
    o.append(" %s" % T.DNS_TYPE_NAMES.get(i, "Type%u" % i))
    i = g16(c, cp)
    cp += 2
    cls = (i & ~0x8000) if is_mdns else i
    if cls != 1:
        o.append(" %s" % T.DNS_CLASS_NAMES.get(cls, "(Class %u)" % cls))
    if is_mdns:
        o.append(" (QU)" if i & 0x8000 else " (QM)")
    o.append("? ")
    cp = fqdn_print(c, np_, bp)
    return cp + 4 if cp is not None else None


def _ns_cprint(c, cp):
    if not tt(c, cp, 1):
        return None
    i = c.d[cp]
    cp += 1
    nd_printn(c, cp, i)
    return cp + i


def _ns_rprint(c, cp, bp, is_mdns):
    o = c.o
    if c.v:
        o.append(" ")
        cp = fqdn_print(c, cp, bp)
        if cp is None:
            return None
    else:
        cp = _ns_nskip(c, cp)
    if cp is None or not tt(c, cp, 10):
        return c.end
    typ = g16(c, cp)
    cp += 2
    i = g16(c, cp)
    cp += 2
    cls = (i & ~0x8000) if is_mdns else i
    if cls != 1 and typ != 41:
        o.append(" %s" % T.DNS_CLASS_NAMES.get(cls, "(Class %u)" % cls))
    if is_mdns and i & 0x8000:
        o.append(" (Cache flush)")
    opt_flags = 0
    if typ == 41:
        cp += 2
        opt_flags = g16(c, cp)
        cp += 2
    elif c.v > 2:
        o.append(" [%s]" % _relts(g32(c, cp)))
        cp += 4
    else:
        cp += 4
    ln = g16(c, cp)
    cp += 2
    rp = cp + ln
    o.append(" %s" % T.DNS_TYPE_NAMES.get(typ, "Type%u" % typ))
    if rp > c.end:
        return None
    if typ == 1:
        if not tt(c, cp, 4):
            return None
        o.append(" %s" % ipaddr_numeric(c, cp))
    elif typ in (2, 5, 12, 39):
        o.append(" ")
        if fqdn_print(c, cp, bp) is None:
            return None
    elif typ == 6:
        if not c.v:
            return rp
        o.append(" ")
        cp = fqdn_print(c, cp, bp)
        if cp is None:
            return None
        o.append(" ")
        cp = fqdn_print(c, cp, bp)
        if cp is None:
            return None
        if not tt(c, cp, 20):
            return None
        for k in range(5):
            o.append(" %u" % g32(c, cp + 4 * k))
    elif typ == 15:
        o.append(" ")
        if not tt(c, cp, 2):
            return None
        if fqdn_print(c, cp + 2, bp) is None:
            return None
        o.append(" %u" % g16(c, cp))
    elif typ == 16:
        while cp < rp:
            o.append(" \"")
            cp = _ns_cprint(c, cp)
            if cp is None:
                return None
            o.append("\"")
    elif typ == 33:
        o.append(" ")
        if not tt(c, cp, 6):
            return None
        if fqdn_print(c, cp + 6, bp) is None:
            return None
        o.append(":%u %u %u" % (g16(c, cp + 4), g16(c, cp), g16(c, cp + 2)))
    elif typ == 28:
        if not tt(c, cp, 16):
            return None
        o.append(" %s" % _inet_ntop(_AF6, c.d[cp:cp + 16]))    # addrtostr6(): no name
    elif typ == 38:
        if not tt(c, cp, 1):
            return None
        pbit = c.d[cp]
        pbyte = (pbit & ~7) // 8
        if pbit > 128:
            o.append(" %u(bad plen)" % pbit)
        else:
            if pbit < 128:
                need(c, cp + 1, 16 - pbyte)
                a = bytes(pbyte) + c.d[cp + 1:cp + 1 + 16 - pbyte]
                o.append(" %u %s" % (pbit, _inet_ntop(_AF6, a)))
            if pbit > 0:
                o.append(" ")
                if fqdn_print(c, cp + 1 + 16 - pbyte, bp) is None:
                    return None
    elif typ == 256:
        if not tt(c, cp, ln):
            return None
        o.append(" %u %u " % (g16(c, cp), g16(c, cp + 2)))
        nd_printn(c, cp + 4, ln - 4)
    elif typ == 41:
        o.append(" UDPsize=%u" % cls)
        if opt_flags & 0x8000:
            o.append(" DO")
        if cp < rp:
            o.append(" [")
            while cp < rp:
                cp = _eopt_print(c, cp)
                if cp is None:
                    return None
                if cp < rp:
                    o.append(",")
            o.append("]")
    elif typ == 250:
        if cp + ln > c.end:
            return None
        if not c.v:
            return rp
        o.append(" ")
        cp = fqdn_print(c, cp, bp)
        if cp is None:
            return None
        cp += 6
        o.append(" fudge=%u" % g16(c, cp))
        cp += 2
        o.append(" maclen=%u" % g16(c, cp))
        cp += 2 + g16(c, cp)
        o.append(" origid=%u" % g16(c, cp))
        cp += 2
        o.append(" error=%u" % g16(c, cp))
        cp += 2
        o.append(" otherlen=%u" % g16(c, cp))
    return rp


def _eopt_print(c, cp):
    o = c.o
    if not tt(c, cp, 2):
        return None
    opt = g16(c, cp)
    cp += 2
    o.append(T.EDNS_OPT_NAMES.get(opt, "Opt%u" % opt))
    if not tt(c, cp, 2):
        return None
    dl = g16(c, cp)
    cp += 2
    if not tt(c, cp, dl):
        return None
    if dl > 0:
        o.append(" ")
        data = c.d[cp:cp + dl]
        if opt == 8:
            if dl < 4:
                o.append(" (invalid)")
            else:
                fam = (data[0] << 8) | data[1]
                src_len = data[2]
                scope_len = data[3]
                bits = 32 if fam == 1 else 128 if fam == 2 else 0
                if not bits or dl - 4 > bits // 8 or src_len > bits or scope_len > bits or (src_len + 7) // 8 != dl - 4:
                    o.append(" (invalid)")
                else:
                    padded = data[4:] + bytes(bits // 8 - (dl - 4))
                    a = _inet_ntoa(padded) if fam == 1 else _inet_ntop(_AF6, padded)
                    o.append("%s/%d/%d" % (a, src_len, scope_len))
        elif opt == 10:
            if dl < 8 or (8 < dl < 16) or dl > 40:
                o.append(" (invalid)")
            else:
                o.append(data[:8].hex() + (" " + data[8:].hex() if dl > 8 else ""))
        elif opt == 11:
            if dl != 2:
                o.append(" (invalid)")
            else:
                o.append("%0.1f sec" % (((data[0] << 8) | data[1]) / 10.0))
        elif opt == 9:
            if dl != 4:
                o.append(" (invalid)")
            else:
                o.append("%u sec" % int.from_bytes(data, "big"))
        elif opt == 12:
            o.append("(%u)" % dl)
        elif opt == 14:
            if dl % 2:
                o.append(" (invalid)")
            else:
                o.append(" ".join("%u" % ((data[k] << 8) | data[k + 1]) for k in range(0, dl, 2)))
        else:
            o.append(data.hex())
    return cp + dl


def domain_print(c, bp, length, over_tcp, is_mdns):
    c.proto = "domain"
    o = c.o
    if over_tcp:
        if length < 2:
            o.append(" [DNS over TCP: length %u < 2] (invalid)" % length)
            return
        length -= 2
        pl = g16(c, bp)
        if pl != length:
            o.append(" [prefix length(%u) != length(%u)] (invalid)" % (pl, length))
            return
        bp += 2
        o.append(" ")
    if length < 12:
        o.append("domain [length %u < 12] (invalid)" % length)
        return
    need(c, bp, 12)
    ident, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", c.d, bp)
    end = c.end
    cp = bp + 12
    rcode = flags & 0xF
    try:
        for _ in range(qd):
            cp = _ns_nskip(c, cp)
            if cp is None:
                raise _DnsFail
            cp += 4
            if cp >= end:
                raise _DnsFail
        for _ in range(an + ns):
            cp = _ns_nskip(c, cp)
            if cp is None:
                raise _DnsFail
            cp += 8
            if cp + 2 > end:
                raise _DnsFail
            cp += 2 + g16(c, cp)
            if cp >= end:
                raise _DnsFail
        for _ in range(ar):
            cp = _ns_nskip(c, cp)
            if cp is None:
                raise _DnsFail
            if cp + 2 > end:
                raise _DnsFail
            typ = g16(c, cp)
            cp += 4
            if cp + 1 > end:
                raise _DnsFail
            if typ == 41:
                rcode |= g8(c, cp) << 4
                raise _DnsFail
            cp += 4
            if cp + 2 > end:
                raise _DnsFail
            cp += 2 + g16(c, cp)
            if cp >= end:
                raise _DnsFail
    except _DnsFail:
        pass
    opcode = (flags >> 11) & 0xF
    try:
        if flags & 0x8000:
            rc = T.DNS_RCODES[rcode] if rcode < len(T.DNS_RCODES) else " Resp%u" % (rcode & 0xFFF)
            o.append("%u%s%s%s%s%s%s" % (ident, T.DNS_OPS[opcode], rc,
                                         "*" if flags & 0x0400 else "",
                                         "" if flags & 0x0080 else "-",
                                         "|" if flags & 0x0200 else "",
                                         "$" if flags & 0x0020 else ""))
            if qd != 1:
                o.append(" [%uq]" % qd)
            cp = bp + 12
            for i in range(qd):
                if i != 0:
                    o.append(",")
                if c.v > 1:
                    o.append(" q:")
                    cp = _ns_qprint(c, cp, bp, is_mdns)
                    if cp is None:
                        raise _DnsFail
                else:
                    cp = _ns_nskip(c, cp)
                    if cp is None:
                        raise _DnsFail
                    cp += 4
            o.append(" %u/%u/%u" % (an, ns, ar))
            if an:
                cp = _ns_rprint(c, cp, bp, is_mdns)
                if cp is None:
                    raise _DnsFail
                an -= 1
                while cp < c.end and an:
                    o.append(",")
                    cp = _ns_rprint(c, cp, bp, is_mdns)
                    if cp is None:
                        raise _DnsFail
                    an -= 1
            if an:
                raise _DnsFail
            if c.v > 1:
                cp = _dns_section(c, cp, bp, is_mdns, ns, " ns:")
                cp = _dns_section(c, cp, bp, is_mdns, ar, " ar:")
        else:
            o.append("%u%s%s%s" % (ident, T.DNS_OPS[opcode], "+" if flags & 0x0100 else "",
                                   "%" if flags & 0x0010 else ""))
            b2 = flags
            if b2 & 0x6CF:
                o.append(" [b2&3=0x%x]" % b2)
            if opcode == 1:
                if qd:
                    o.append(" [%uq]" % qd)
                if an != 1:
                    o.append(" [%ua]" % an)
            else:
                if an:
                    o.append(" [%ua]" % an)
                if qd != 1:
                    o.append(" [%uq]" % qd)
            if ns:
                o.append(" [%un]" % ns)
            if ar:
                o.append(" [%uau]" % ar)
            cp = bp + 12
            if qd:
                cp = _ns_qprint(c, cp, bp, is_mdns)
                if cp is None:
                    raise _DnsFail
                qd -= 1
                while cp < c.end and qd:
                    cp = _ns_qprint(c, cp, bp, is_mdns)
                    if cp is None:
                        raise _DnsFail
                    qd -= 1
            if qd:
                raise _DnsFail
            if c.v > 1:
                if an:
                    cp = _ns_rprint(c, cp, bp, is_mdns)
                    if cp is None:
                        raise _DnsFail
                    an -= 1
                    while cp < c.end and an:
                        o.append(",")
                        cp = _ns_rprint(c, cp, bp, is_mdns)
                        if cp is None:
                            raise _DnsFail
                        an -= 1
                if an:
                    raise _DnsFail
                cp = _dns_section(c, cp, bp, is_mdns, ns, " ns:")
                cp = _dns_section(c, cp, bp, is_mdns, ar, " ar:")
        o.append(" (%u)" % length)
    except _DnsFail:
        trunc(c)


def _dns_section(c, cp, bp, is_mdns, count, label):
    o = c.o
    if cp < c.end and count:
        o.append(label)
        cp = _ns_rprint(c, cp, bp, is_mdns)
        if cp is None:
            raise _DnsFail
        count -= 1
        while cp < c.end and count:
            o.append(",")
            cp = _ns_rprint(c, cp, bp, is_mdns)
            if cp is None:
                raise _DnsFail
            count -= 1
    if count:
        raise _DnsFail
    return cp


_UDP_PRINTERS.update({
    53: _udp_domain, 67: bootp_print, 69: _udp_tftp, 123: ntp_print, 646: ldp_print,
    4789: vxlan_print, "geneve": geneve_print, 5353: _udp_mdns, "hsrp": hsrp_print,
    319: ptp_print,
})


TCP_APP = _tcp_app_table()

# printers kept in a module of their own, hooked in here
from ._more import (calm_fast_print, cfm_print, dccp_print,  # noqa: E402
                    dtp_print,
                    eapol_print, geonet_print, ipx_print, isoclns_print, lldp_print,
                    loopback_print, msnlb_print, pptp_print, rsvp_print, sctp_print, slow_print,
                    stp_print, tipc_print, udld_print)
from . import _more  # noqa: E402
from ._apps import nfsreply_print, nfsreq_print, telnet_print  # noqa: E402

_ETHERTYPE_PRINTERS[0x8809] = lambda c, t, p, length, caplen: slow_print(c, p, length)
_ETHERTYPE_PRINTERS[0x6003] = lambda c, t, p, length, caplen: _more.decnet_print(c, p, length, caplen)
_UDP_PRINTERS.update({4500: isakmp_rfc3948_print,
                      500: _more.isakmp_print, 7500: _more.isakmp_print,
                      5359: _more.ahcp_print})
_UDP_PRINTERS.update({"bfd": _more._udp_bfd, 6696: _more._udp_babel, 546: _more._udp_dhcp6,
                      6343: _more.sflow_print, 520: _more.rip_print, 1645: _more.radius_print,
                      88: _more.krb_print, 750: _more.krb_print, 514: _more.syslog_print,
                      "lwapp": _more.lwapp_data_print, "lwapp-to-ac": _more.lwapp_control_print,
                      "lwapp-from-ac": _more.lwapp_control_print_no_ap})
