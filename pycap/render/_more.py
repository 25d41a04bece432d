"""More of tcpdump 4.99's printers: STP (print-stp.c), BFD (print-bfd.c),
UDLD (print-udld.c), the Slow Protocols LACP/Marker/OAM (print-slow.c),
Babel (print-babel.c), IPX (print-ipx.c), GeoNetworking and CALM FAST
(print-geonet.c, print-calm-fast.c), Kerberos (print-krb.c), the Ethernet
loopback protocol (print-loopback.c), syslog (print-syslog.c), PPTP control
messages (print-pptp.c), MS NLB heartbeats (print-msnlb.c), TIPC
(print-tipc.c), LLDP (print-lldp.c), and the default lines of DCCP, RSVP,
LWAPP, CFM, EAPOL (print-eap.c), sFlow, RADIUS, RIP and DTP, whose verbose
decodes pycap does not have yet (with ``-v`` they keep the generic line).

Same conventions as ``_dissect`` (which imports this module at its end and
hooks these printers into its dispatch tables): append to ``c.o``, read with
the bounds-checked accessors, raise ``Trunc`` where tcpdump would longjmp.
"""

from __future__ import annotations


from . import _dissect as D
from . import _tables as T
from .names import OUI_NAMES

g8, g16, g32, need, tt, trunc = D.g8, D.g16, D.g32, D.need, D.tt, D.trunc
Trunc = D.Trunc
bittok = D.bittok
fn_print_char = D.fn_print_char


def invalid(c):
    c.o.append(" (invalid)")


nd_printjnp = D.nd_printjnp


def nd_printjn(c, o, n):
    """Exactly n characters."""
    D.nd_printn(c, o, n)


def _mac(c, o):
    need(c, o, 6)
    return c.d[o:o + 6].hex(":")


# --------------------------------------------------------------------------
# STP

_STP_PROTO = {0: "802.1d", 2: "802.1w", 3: "802.1s", 4: "802.1aq"}
_STP_FLAGS = ((0x01, "Topology change"), (0x02, "Proposal"), (0x10, "Learn"), (0x20, "Forward"),
              (0x40, "Agreement"), (0x80, "Topology change ACK"))
_STP_TYPES = {0x00: "Config", 0x02: "Rapid STP", 0x80: "Topology Change"}
_RSTP_ROLES = {0: "Unknown", 1: "Alternate", 2: "Root", 3: "Designated"}


def _bridge_id(c, o):
    need(c, o, 8)
    d = c.d
    return "%02x%02x.%s" % (d[o], d[o + 1], d[o + 2:o + 8].hex(":"))


def _stp_times(c, p):
    return ("\n\tmessage-age %.2fs, max-age %.2fs, hello-time %.2fs, forwarding-delay %.2fs" % (
        g16(c, p + 27) / 256, g16(c, p + 29) / 256, g16(c, p + 31) / 256, g16(c, p + 33) / 256))


def _stp_config(c, p, length):
    o = c.o
    flags = g8(c, p + 4)
    o.append(", Flags [%s]" % bittok(_STP_FLAGS, "none", flags))
    o.append(", bridge-id %s.%04x, length %u" % (_bridge_id(c, p + 17), g16(c, p + 25), length))
    if not c.v:
        return
    o.append(_stp_times(c, p))
    o.append("\n\troot-id %s, root-pathcost %u" % (_bridge_id(c, p + 5), g32(c, p + 13)))
    if g8(c, p + 2) == 2:
        o.append(", port-role %s" % _RSTP_ROLES.get((flags & 0x0C) >> 2, "Unknown"))


def _stp_mstp(c, p, length):
    o = c.o
    flags = g8(c, p + 4)
    o.append(", CIST Flags [%s], length %u" % (bittok(_STP_FLAGS, "none", flags), length))
    if not c.v:
        return
    o.append("\n\tport-role %s, " % _RSTP_ROLES.get((flags & 0x0C) >> 2, "Unknown"))
    o.append("CIST root-id %s, CIST ext-pathcost %u" % (_bridge_id(c, p + 5), g32(c, p + 13)))
    o.append("\n\tCIST regional-root-id %s, " % _bridge_id(c, p + 17))
    o.append("CIST port-id %04x," % g16(c, p + 25))
    o.append(_stp_times(c, p))
    o.append("\n\tv3len %u, " % g16(c, p + 36))
    o.append("MCID Name ")
    nd_printjnp(c, p + 39, 32)
    o.append(", rev %u,\n\t\tdigest %08x%08x%08x%08x, " % (
        g16(c, p + 71), g32(c, p + 73), g32(c, p + 77), g32(c, p + 81), g32(c, p + 85)))
    o.append("CIST int-root-pathcost %u," % g32(c, p + 89))
    o.append("\n\tCIST bridge-id %s, " % _bridge_id(c, p + 93))
    o.append("CIST remaining-hops %u" % g8(c, p + 101))
    v3len = g16(c, p + 36)
    if v3len > 64:
        ln = v3len - 64
        off = 102
        while ln >= 16:
            q = p + off
            msti = g16(c, q + 1) & 0x0FFF
            fl = g8(c, q)
            o.append("\n\tMSTI %u, Flags [%s], port-role %s" % (
                msti, bittok(_STP_FLAGS, "none", fl), _RSTP_ROLES.get((fl & 0x0C) >> 2, "Unknown")))
            o.append("\n\t\tMSTI regional-root-id %s, pathcost %u" % (_bridge_id(c, q + 1),
                                                                     g32(c, q + 9)))
            o.append("\n\t\tMSTI bridge-prio %u, port-prio %u, hops %u" % (
                g8(c, q + 13) >> 4, g8(c, q + 14) >> 4, g8(c, q + 15)))
            ln -= 16
            off += 16


def _stp_spb(c, p, off):
    if not c.v:
        return
    o = c.o
    q = p + off
    o.append("\n\tv4len %u, " % g16(c, q))
    o.append("AUXMCID Name ")
    nd_printjnp(c, q + 3, 32)
    o.append(", Rev %u,\n\t\tdigest %08x%08x%08x%08x" % (
        g16(c, q + 35), g32(c, q + 37), g32(c, q + 41), g32(c, q + 45), g32(c, q + 49)))
    a = g8(c, q + 53)
    f = g8(c, q + 55)
    cv = g8(c, q + 56)
    o.append("\n\tAgreement num %u, Discarded Agreement num %u, Agreement valid-flag %u,"
             "\n\tRestricted role-flag: %u, Format id %u cap %u, Convention id %u cap %u,"
             "\n\tEdge count %u, Agreement digest %08x%08x%08x%08x%08x" % (
                 a >> 6, (a >> 4) & 3, (a >> 3) & 1, (a >> 2) & 1, f >> 4, f & 0xFF, cv >> 4,
                 cv & 0xFF, g16(c, q + 57), g32(c, q + 67), g32(c, q + 71), g32(c, q + 75),
                 g32(c, q + 79), g32(c, q + 83)))


def stp_print(c, p, length):
    c.proto = "stp"
    o = c.o
    if length < 4:
        invalid(c)
        return
    if g16(c, p):
        o.append("unknown STP version, length %u" % length)
        return
    ver = g8(c, p + 2)
    o.append("STP %s" % _STP_PROTO.get(ver, "Unknown STP protocol (0x%02x)" % ver))
    if ver not in _STP_PROTO:
        return
    typ = g8(c, p + 3)
    o.append(", %s" % _STP_TYPES.get(typ, "Unknown BPDU Type (0x%02x)" % typ))
    if typ == 0x00:
        if length < 35:
            invalid(c)
            return
        _stp_config(c, p, length)
    elif typ == 0x02:
        if ver == 2:
            if length < 36:
                invalid(c)
                return
            _stp_config(c, p, length)
        elif ver in (3, 4):
            if length < 102 or g8(c, p + 35) != 0:
                invalid(c)
                return
            mstp_len = g16(c, p + 36) + 2
            if length < 36 + mstp_len:
                invalid(c)
                return
            _stp_mstp(c, p, length)
            if ver == 4:
                spb_len = g16(c, p + 36 + mstp_len) + 2
                if length < 36 + mstp_len + spb_len or spb_len < 87:
                    invalid(c)
                    return
                _stp_spb(c, p, 36 + mstp_len)


# --------------------------------------------------------------------------
# BFD

_BFD_DIAG = {0: "No Diagnostic", 1: "Control Detection Time Expired", 2: "Echo Function Failed",
             3: "Neighbor Signaled Session Down", 4: "Forwarding Plane Reset", 5: "Path Down",
             6: "Concatenated Path Down", 7: "Administratively Down",
             8: "Reverse Concatenated Path Down"}
_BFD_PORTS = {3784: "Control", 4784: "Multihop", 6784: "LAG"}
_BFD_V0_FLAGS = ((0x80, "I Hear You"), (0x40, "Demand"), (0x20, "Poll"), (0x10, "Final"),
                 (0x08, "Control Plane Independent"), (0x04, "Authentication Present"),
                 (0x02, "Reserved"), (0x01, "Reserved"))
_BFD_V1_FLAGS = ((0x20, "Poll"), (0x10, "Final"), (0x08, "Control Plane Independent"),
                 (0x04, "Authentication Present"), (0x02, "Demand"), (0x01, "Multipoint"))
_BFD_STATE = {0: "AdminDown", 1: "Down", 2: "Init", 3: "Up"}
_BFD_AUTH = {1: "Simple Password", 2: "Keyed MD5", 3: "Meticulous Keyed MD5", 4: "Keyed SHA1",
             5: "Meticulous Keyed SHA1"}


def _bfd_auth(c, p):
    o = c.o
    q = p + 24
    need(c, q, 4)
    atype, alen = g8(c, q), g8(c, q + 1)
    o.append("\n\tAuthentication: %s (%u), length: %u" % (_BFD_AUTH.get(atype, "Unknown"), atype, alen))
    o.append("\n\t  Auth Key ID: %u" % g8(c, q + 2))
    if atype == 1:
        if alen < 4 or alen > 19:
            o.append("[invalid length %u]" % alen)
            return
        o.append(", Password: ")
        nd_printjn(c, q + 3, alen - 3)
    elif atype in (2, 3, 4, 5):
        want, hlen, label = (24, 16, "Digest") if atype in (2, 3) else (28, 20, "Hash")
        if alen != want:
            o.append("[invalid length %u]" % alen)
            return
        o.append(", Sequence Number: 0x%08x" % g32(c, q + 4))
        need(c, q + 8, hlen)
        o.append("\n\t  %s: %s" % (label, c.d[q + 8:q + 8 + hlen].hex()))


def bfd_print(c, p, length, port):
    c.proto = "bfd"
    o = c.o
    if port in _BFD_PORTS:
        need(c, p, 24)
        vd = g8(c, p)
        ver = vd >> 5
        flags = g8(c, p + 1)
        if ver == 0:
            if c.v < 1:
                o.append("BFDv0, Control, Flags: [%s], length: %u" % (
                    bittok(_BFD_V0_FLAGS, "none", flags), length))
                return
            o.append("BFDv0, length: %u\n\tControl, Flags: [%s], Diagnostic: %s (0x%02x)" % (
                length, bittok(_BFD_V0_FLAGS, "none", flags), _BFD_DIAG.get(vd & 0x1F, "unknown"),
                vd & 0x1F))
        elif ver == 1:
            if c.v < 1:
                o.append("BFDv1, %s, State %s, Flags: [%s], length: %u" % (
                    _BFD_PORTS[port], _BFD_STATE[(flags & 0xC0) >> 6],
                    bittok(_BFD_V1_FLAGS, "none", flags & 0x3F), length))
                return
            o.append("BFDv1, length: %u\n\t%s, State %s, Flags: [%s], Diagnostic: %s (0x%02x)" % (
                length, _BFD_PORTS[port], _BFD_STATE[(flags & 0xC0) >> 6],
                bittok(_BFD_V1_FLAGS, "none", flags & 0x3F), _BFD_DIAG.get(vd & 0x1F, "unknown"),
                vd & 0x1F))
        else:
            o.append("BFDv%u, Control, length: %u" % (ver, length))
            if c.v >= 1:
                D.print_unknown_data(c, p, "\n\t", length)
            return
        mult = g8(c, p + 2)
        o.append("\n\tDetection Timer Multiplier: %u (%u ms Detection time), BFD Length: %u" % (
            mult, (mult * g32(c, p + 12) & 0xFFFFFFFF) // 1000, g8(c, p + 3)))
        o.append("\n\tMy Discriminator: 0x%08x" % g32(c, p + 4))
        o.append(", Your Discriminator: 0x%08x" % g32(c, p + 8))
        o.append("\n\t  Desired min Tx Interval:    %4u ms" % (g32(c, p + 12) // 1000))
        o.append("\n\t  Required min Rx Interval:   %4u ms" % (g32(c, p + 16) // 1000))
        o.append("\n\t  Required min Echo Interval: %4u ms" % (g32(c, p + 20) // 1000))
        if flags & 0x04:
            _bfd_auth(c, p)
    elif port == 3785:
        o.append("BFD, Echo, length: %u" % length)
        if c.v >= 1:
            D.print_unknown_data(c, p, "\n\t", length)
    else:
        o.append("BFD, unknown (%u), length: %u" % (port, length))
        if c.v >= 1:
            D.print_unknown_data(c, p, "\n\t", length)


def _udp_bfd(c, cp, length):
    bfd_print(c, cp, length, g16(c, cp - 6))


# --------------------------------------------------------------------------
# UDLD

_UDLD_TLVS = {1: "Device-ID TLV", 2: "Port-ID TLV", 3: "Echo TLV", 4: "Message Interval TLV",
              5: "Timeout Interval TLV", 6: "Device Name TLV", 7: "Sequence Number TLV"}
_UDLD_CODES = {0: "Reserved", 1: "Probe message", 2: "Echo message", 3: "Flush message"}
_UDLD_FLAGS = tuple((1 << i, n) for i, n in enumerate(
    ("RT", "RSY", "MBZ-2", "MBZ-3", "MBZ-4", "MBZ-5", "MBZ-6", "MBZ-7")))


def udld_print(c, p, length):
    c.proto = "udld"
    o = c.o
    if length < 4:
        invalid(c)
        need(c, p, length)
        return
    b = g8(c, p)
    ver, code = (b & 0xE0) >> 5, b & 0x1F
    flags = g8(c, p + 1)
    o.append("UDLDv%u, Code %s (%x), Flags [%s] (0x%02x), length %u" % (
        ver, _UDLD_CODES.get(code, "Reserved"), code, bittok(_UDLD_FLAGS, "none", flags), flags,
        length))
    q = p + 2
    left = length - 2
    if c.v < 1:
        need(c, q, left)
        return
    o.append("\n\tChecksum 0x%04x (unverified)" % g16(c, q))
    q += 2
    left -= 2
    while left:
        if left < 4:
            invalid(c)
            need(c, q, left)
            return
        t, ln = g16(c, q), g16(c, q + 2)
        q += 4
        left -= 4
        o.append("\n\t%s (0x%04x) TLV, length %u" % (_UDLD_TLVS.get(t, "Unknown"), t, ln))
        if ln <= 4:
            invalid(c)
            need(c, q, left)
            return
        ln -= 4
        if left < ln:
            invalid(c)
            need(c, q, left)
            return
        if t in (1, 2, 6):
            o.append(", ")
            nd_printjnp(c, q, ln)
        elif t == 3:
            o.append(", ")
            nd_printjn(c, q, ln)
        elif t in (4, 5):
            if ln != 1:
                invalid(c)
                need(c, q, left)
                return
            o.append(", %us" % g8(c, q))
        elif t == 7:
            if ln != 4:
                invalid(c)
                need(c, q, left)
                return
            o.append(", %u" % g32(c, q))
        else:
            need(c, q, ln)
        q += ln
        left -= ln


# --------------------------------------------------------------------------
# Slow Protocols (LACP, Marker, OAM)

_SLOW = {1: "LACP", 2: "MARKER", 3: "OAM"}
_SLOW_TLVS = {(1, 0): "Terminator", (1, 1): "Actor Information", (1, 2): "Partner Information",
              (1, 3): "Collector Information", (2, 0): "Terminator", (2, 1): "Marker Information"}
_LACP_STATE = ((0x01, "Activity"), (0x02, "Timeout"), (0x04, "Aggregation"),
               (0x08, "Synchronization"), (0x10, "Collecting"), (0x20, "Distributing"),
               (0x40, "Default"), (0x80, "Expired"))


def _slow_tooshort(c):
    c.o.append(" (packet is too short)" if not c.v else "\n\t\t packet is too short")


def slow_print(c, p, length):
    c.proto = "slow"
    o = c.o
    if length < 1:
        _slow_tooshort(c)
        return
    sub = g8(c, p)
    if sub in (1, 2):
        if length < 2:
            _slow_tooshort(c)
            return
        ver = g8(c, p + 1)
        if ver != 1:
            o.append("%s version %u packet not supported" % (_SLOW[sub], ver))
            return
        o.append("%sv%u, length %u" % (_SLOW[sub], ver, length))
    else:
        o.append("%s, length %u" % (_SLOW.get(sub, "unknown (%u)" % sub), length))
        if sub != 3:
            D.print_unknown_data(c, p, "\n\t", length)
            return
    if not c.v:
        return
    if sub == 3:
        return                       # OAM details: not reproduced
    q = p + 2
    left = length - 2
    while left:
        if left < 2:
            o.append("\n\t\t packet is too short")
            return
        t, ln = g8(c, q), g8(c, q + 1)
        o.append("\n\t%s TLV (0x%02x), length %u" % (_SLOW_TLVS.get((sub, t), "Unknown"), t, ln))
        if t == 0:
            return
        if ln < 2:
            o.append("\n\t    ERROR: illegal length - should be >= 2")
            return
        if left < ln:
            o.append("\n\t\t packet is too short")
            return
        need(c, q, ln)
        body, blen = q + 2, ln - 2
        if sub == 1 and t in (1, 2):
            if blen != 18:
                o.append("\n\t    ERROR: illegal length - should be 20")
            else:
                o.append("\n\t  System %s, System Priority %u, Key %u, Port %u, Port Priority %u"
                         "\n\t  State Flags [%s]" % (
                             D.etheraddr(c, body + 2), g16(c, body), g16(c, body + 8), g16(c, body + 12),
                             g16(c, body + 10), bittok(_LACP_STATE, "none", g8(c, body + 14))))
        elif sub == 1 and t == 3:
            if blen != 14:
                o.append("\n\t    ERROR: illegal length - should be 16")
            else:
                o.append("\n\t  Max Delay %u" % g16(c, body))
        elif sub == 2 and t == 1:
            if blen != 14:
                o.append("\n\t    ERROR: illegal length - should be 16")
            else:
                o.append("\n\t  Request System %s, Request Port %u, Request Transaction ID 0x%08x" % (
                    D.etheraddr(c, body + 2), g16(c, body), g32(c, body + 8)))
        elif c.v <= 1:
            D.print_unknown_data(c, body, "\n\t  ", blen)
        if c.v > 1:
            D.print_unknown_data(c, body, "\n\t  ", blen)
        q += ln
        left -= ln


# --------------------------------------------------------------------------
# Babel

_V4PREFIX = bytes(10) + b"\xff\xff" + bytes(4)


def _babel_interval(i):
    if i == 0:
        return "0.0s (bogus)"
    return "%u.%02us" % (i // 100, i % 100)


def _babel_id(c, o):
    need(c, o, 8)
    return c.d[o:o + 8].hex(":")


def _babel_prefix(c, prefix, plen):
    if plen >= 96 and prefix[:12] == _V4PREFIX[:12]:
        return "%s/%u" % (D.ipaddr_bytes(c, prefix[12:]), plen - 96)
    return "%s/%u" % (D.ip6addr_bytes(c, prefix), plen)


def _babel_address(c, prefix):
    if prefix[:12] == _V4PREFIX[:12]:
        return D.ipaddr_bytes(c, prefix[12:])
    return D.ip6addr_bytes(c, prefix)


def _network_prefix(c, ae, plen, omitted, p, dp, ln):
    """(consumed, 16-byte prefix) or None for an encoding error."""
    if plen >= 0:
        pb = (plen + 7) // 8
    elif ae == 1:
        pb = 4
    else:
        pb = 16
    if pb > 16:
        return None
    prefix = bytearray(16)
    consumed = 0
    if ae == 0:
        pass
    elif ae == 1:
        if omitted > 4 or pb > 4 or (pb > omitted and ln < pb - omitted):
            return None
        prefix[:12] = _V4PREFIX[:12]
        if omitted:
            if dp is None:
                return None
            prefix[:12 + omitted] = dp[:12 + omitted]
        if pb > omitted:
            need(c, p, pb - omitted)
            prefix[12 + omitted:12 + pb] = c.d[p:p + pb - omitted]
            consumed = pb - omitted
    elif ae == 2:
        if omitted > 16 or (pb > omitted and ln < pb - omitted):
            return None
        if omitted:
            if dp is None:
                return None
            prefix[:omitted] = dp[:omitted]
        if pb > omitted:
            need(c, p, pb - omitted)
            prefix[omitted:pb] = c.d[p:p + pb - omitted]
            consumed = pb - omitted
    elif ae == 3:
        if pb > 8 and ln < pb - 8:
            return None
        prefix[0], prefix[1] = 0xFE, 0x80
        if pb > 8:
            need(c, p, pb - 8)
            prefix[8:pb] = c.d[p:p + pb - 8]
            consumed = pb - 8
    else:
        return None
    return consumed, bytes(prefix)


class _BabelInvalid(Exception):
    pass


def _babel_subtlvs(c, cp, ep, tlv_type):
    o = c.o
    while cp < ep:
        sub = g8(c, cp)
        cp += 1
        if sub == 0:
            o.append(" sub-pad1")
            continue
        if sub & 0x80:
            o.append(" (M)")
        if cp == ep:
            invalid(c)
            return
        sl = g8(c, cp)
        cp += 1
        if cp + sl > ep:
            invalid(c)
            return
        if sub == 1:
            o.append(" sub-padn")
            cp += sl
        elif sub == 2:
            o.append(" sub-diversity")
            if sl == 0:
                o.append(" empty")
                continue
            sep = " "
            while sl:
                v = g8(c, cp)
                o.append("%s%s" % (sep, {0: "reserved", 255: "all"}.get(v, "%u" % v)))
                cp += 1
                sep = "-"
                sl -= 1
            if tlv_type not in (8, 13):
                o.append(" (bogus)")
        elif sub == 3:
            o.append(" sub-timestamp")
            if tlv_type == 4:
                if sl < 4:
                    invalid(c)
                    return
                t1 = g32(c, cp)
                o.append(" %u.%06us" % (t1 // 1000000, t1 % 1000000))
            elif tlv_type == 5:
                if sl < 8:
                    invalid(c)
                    return
                t1, t2 = g32(c, cp), g32(c, cp + 4)
                o.append(" %u.%06us|%u.%06us" % (t1 // 1000000, t1 % 1000000, t2 // 1000000,
                                                 t2 % 1000000))
            else:
                o.append(" (bogus)")
            cp += sl
        else:
            o.append(" sub-unknown-0x%02x" % sub)
            cp += sl


_BABEL_SHORT = {2: " ack-req", 3: " ack", 4: " hello", 5: " ihu", 6: " router-id", 7: " nh",
                9: " route-request", 10: " seqno-request", 11: " tspc", 12: " hmac",
                13: " ss-update", 14: " ss-request", 15: " ss-mh-request", 16: " mac", 17: " pc",
                18: " challenge_request", 19: " challenge_reply"}


def _babel_tlvs(c, cp, tlvs_length, remaining):
    """0 ok, -1 truncated, -2 invalid (babel_print_v2_tlvs)."""
    o = c.o
    v = c.v
    v4_prefix = bytearray(_V4PREFIX)
    v6_prefix = bytearray(16)
    i = 0
    while i < tlvs_length:
        msg = cp + i
        if i + 1 > tlvs_length or i + 1 > remaining:
            return -2
        typ = g8(c, msg)
        if typ == 0:
            o.append("\n\tPad 1" if v else " pad1")
            i += 1
            continue
        if i + 2 > tlvs_length or i + 2 > remaining:
            return -2
        if not tt(c, msg, 2):
            return -1
        ln = g8(c, msg + 1)
        if i + 2 + ln > tlvs_length or i + 2 + ln > remaining:
            return -2
        if not tt(c, msg, 2 + ln):
            return -1
        if not v:
            if typ == 1:
                o.append(" padN")
            elif typ == 8:
                o.append(" update")
                if ln < 10:
                    return -2
                f = g8(c, msg + 3)
                o.append("%s%s%s" % ("/prefix" if f & 0x80 else "", "/id" if f & 0x40 else "",
                                     "/unknown" if f & 0x3F else ""))
            else:
                o.append(_BABEL_SHORT.get(typ, " unknown"))
            i += ln + 2
            continue
        r = _babel_tlv_verbose(c, msg, typ, ln, v4_prefix, v6_prefix)
        if r is not None:
            return r
        i += ln + 2
    return 0


def _babel_tlv_verbose(c, msg, typ, ln, v4_prefix, v6_prefix):
    o = c.o
    if typ == 1:
        o.append("\n\tPad %u" % (ln + 2))
    elif typ == 2:
        o.append("\n\tAcknowledgment Request ")
        if ln < 6:
            return -2
        o.append("%04x %s" % (g16(c, msg + 4), _babel_interval(g16(c, msg + 6))))
    elif typ == 3:
        o.append("\n\tAcknowledgment ")
        if ln < 2:
            return -2
        o.append("%04x" % g16(c, msg + 2))
    elif typ == 4:
        o.append("\n\tHello ")
        if ln < 6:
            return -2
        unicast = g16(c, msg + 2) & 0x8000
        seqno, interval = g16(c, msg + 4), g16(c, msg + 6)
        if unicast:
            o.append("(Unicast) ")
        o.append("seqno %u " % seqno)
        o.append("interval %s" % _babel_interval(interval) if interval else "unscheduled")
        if ln > 6:
            _babel_subtlvs(c, msg + 8, msg + 2 + ln, typ)
    elif typ == 5:
        o.append("\n\tIHU ")
        if ln < 6:
            return -2
        rxcost, interval, ae = g16(c, msg + 4), g16(c, msg + 6), g8(c, msg + 2)
        r = _network_prefix(c, ae, -1, 0, msg + 8, None, ln - 6)
        if r is None:
            trunc(c)
            return None
        o.append("%s rxcost %u interval %s" % ("any" if ae == 0 else _babel_address(c, r[1]), rxcost,
                                               _babel_interval(interval)))
        if r[0] < ln - 6:
            _babel_subtlvs(c, msg + 8 + r[0], msg + 2 + ln, typ)
    elif typ == 6:
        o.append("\n\tRouter Id")
        if ln < 10:
            return -2
        o.append(" %s" % _babel_id(c, msg + 4))
    elif typ == 7:
        o.append("\n\tNext Hop")
        if ln < 2:
            return -2
        ae = g8(c, msg + 2)
        r = _network_prefix(c, ae, -1, 0, msg + 4, None, ln - 2)
        if r is None:
            return -2
        o.append(" %s" % ("invalid AE 0" if ae == 0 else _babel_address(c, r[1])))
    elif typ == 8:
        o.append("\n\tUpdate")
        if ln < 10:
            return -2
        ae, f = g8(c, msg + 2), g8(c, msg + 3)
        plen = (g8(c, msg + 4) + (96 if ae == 1 else 0)) & 0xFF
        r = _network_prefix(c, ae, g8(c, msg + 4), g8(c, msg + 5), msg + 12,
                            v4_prefix if ae == 1 else v6_prefix, ln - 10)
        if r is None:
            return -2
        interval, seqno, metric = g16(c, msg + 6), g16(c, msg + 8), g16(c, msg + 10)
        o.append("%s%s%s %s metric %u seqno %u interval %s" % (
            "/prefix" if f & 0x80 else "", "/id" if f & 0x40 else "", "/unknown" if f & 0x3F else "",
            "any" if ae == 0 else _babel_prefix(c, r[1], plen), metric, seqno,
            "infinity" if interval == 0xFFFF else _babel_interval(interval)))
        if f & 0x80:
            if ae == 1:
                v4_prefix[:] = r[1]
            else:
                v6_prefix[:] = r[1]
        if r[0] < ln - 10:
            _babel_subtlvs(c, msg + 12 + r[0], msg + 2 + ln, typ)
    elif typ == 9:
        o.append("\n\tRoute Request ")
        if ln < 2:
            return -2
        ae = g8(c, msg + 2)
        plen = (g8(c, msg + 3) + (96 if ae == 1 else 0)) & 0xFF
        r = _network_prefix(c, ae, g8(c, msg + 3), 0, msg + 4, None, ln - 2)
        if r is None:
            return -2
        o.append("for %s" % ("any" if ae == 0 else _babel_prefix(c, r[1], plen)))
    elif typ == 10:
        o.append("\n\tSeqno Request ")
        if ln < 14:
            return -2
        ae, seqno = g8(c, msg + 2), g16(c, msg + 4)
        r = _network_prefix(c, ae, g8(c, msg + 3), 0, msg + 16, None, ln - 14)
        if r is None:
            return -2
        plen = (g8(c, msg + 3) + (96 if ae == 1 else 0)) & 0xFF
        o.append("(%u hops) for %s seqno %u id %s" % (
            g8(c, msg + 6), "invalid AE 0" if ae == 0 else _babel_prefix(c, r[1], plen), seqno,
            _babel_id(c, msg + 8)))
    elif typ == 11:
        o.append("\n\tTS/PC ")
        if ln < 6:
            return -2
        o.append("timestamp %u packetcounter %u" % (g32(c, msg + 4), g16(c, msg + 2)))
    elif typ == 12:
        o.append("\n\tHMAC ")
        if ln < 18:
            return -2
        o.append("key-id %u digest-%u " % (g16(c, msg + 2), ln - 2))
        need(c, msg + 4, ln - 2)
        o.append(c.d[msg + 4:msg + 2 + ln].hex().upper())
    elif typ == 16:
        o.append("\n\tMAC len %u" % ln)
    elif typ == 17:
        o.append("\n\tPC")
        if ln < 4:
            return -2
        o.append(" value %u index len %u" % (g32(c, msg + 2), ln - 4))
    elif typ == 18:
        o.append("\n\tChallenge Request")
        if ln > 192:
            return -2
        o.append(" len %u" % ln)
    elif typ == 19:
        o.append("\n\tChallenge Reply")
        if ln > 192:
            return -2
        o.append(" len %u" % ln)
    elif typ in (13, 14, 15):
        # source-specific messages: tcpdump's wording, without the prefixes
        o.append({13: "\n\tSS-Update", 14: "\n\tSS-Request ", 15: "\n\tSS-MH-Request "}[typ])
    else:
        o.append("\n\tUnknown message type %u" % typ)
    return None


def babel_print(c, cp, length):
    c.proto = "babel"
    o = c.o
    o.append("babel")
    need(c, cp, 4)
    if g8(c, cp) != 42:
        o.append(" invalid header")
        return
    ver = g8(c, cp + 1)
    o.append(" %u" % ver)
    if ver != 2:
        o.append(" unknown version")
        return
    if length < 4:
        invalid(c)
        return
    bodylen = g16(c, cp + 2)
    o.append(" (%u)" % bodylen)
    length -= 4
    cp += 4
    if length < bodylen:
        invalid(c)
        return
    ret = _babel_tlvs(c, cp, bodylen, length)
    if ret == 0:
        length -= bodylen
        cp += bodylen
        if length:
            o.append("\n\t----" if c.v else " |")
            ret = _babel_tlvs(c, cp, length, length)
    if ret == -1:
        trunc(c)
    elif ret == -2:
        invalid(c)


def _udp_babel(c, cp, length):
    babel_print(c, cp, length)


# --------------------------------------------------------------------------
# OSI / IS-IS (print-isoclns.c): the IS-IS header summary

_ISIS_PDUS = {15: "L1 Lan IIH", 16: "L2 Lan IIH", 17: "p2p IIH", 18: "L1 LSP", 20: "L2 LSP",
              24: "L1 CSNP", 25: "L2 CSNP", 26: "L1 PSNP", 27: "L2 PSNP"}
# fixed part after the 8-byte common header, and what the one-line summary shows
_ISIS_FIXED = {15: 19, 16: 19, 17: 12, 18: 19, 20: 19, 24: 25, 25: 25, 26: 9, 27: 9}


def _isis_id(c, o, n):
    need(c, o, n)
    d = c.d
    s = "%02x%02x.%02x%02x.%02x%02x" % tuple(d[o:o + 6])
    if n >= 7:
        s += ".%02x" % d[o + 6]
    if n == 8:
        s += "-%02x" % d[o + 7]
    return s


def isoclns_print(c, p, length):
    """OSI: IS-IS headers; other NLPIDs keep the one-line fallback."""
    c.proto = "isoclns"
    if not tt(c, p, 1) or c.d[p] != 0x83:
        D.generic_print(c, "isoclns", "OSI", length)
        return
    if c.e:
        c.o.append("OSI NLPID IS-IS (0x83): ")
    if not isis_print(c, p, length):
        D.print_unknown_data(c, p, "\n\t", length)


def isis_print(c, p, length):
    """isis_print() up to the TLVs; False where tcpdump returns 0."""
    c.proto = "isis"
    o = c.o
    need(c, p, 8)
    if length < 8:
        trunc(c)
        return True
    if not c.e:
        o.append("IS-IS")
    d = c.d
    fixed_len, version, id_len, pdu_type, pdu_version, max_area = (
        d[p + 1], d[p + 2], d[p + 3], d[p + 4] & 0x1F, d[p + 5], d[p + 7])
    if version != 1:
        o.append("version %u packet not supported" % version)
        return False
    if id_len not in (6, 0):
        o.append("system ID length of %u is not supported" % id_len)
        return False
    if pdu_version != 1:
        o.append("version %u packet not supported" % pdu_version)
        return False
    if length < fixed_len:
        o.append("fixed header length %u > packet length %u" % (fixed_len, length))
        return False
    if fixed_len < 8:
        o.append("fixed header length %u < minimum header size 8" % fixed_len)
        return False
    if max_area == 255:
        o.append("bad packet -- 255 areas")
        return False
    sep = "" if c.e else ", "
    if c.v == 0:
        o.append(sep + _ISIS_PDUS.get(pdu_type, "unknown PDU-Type %u" % pdu_type))
    else:
        o.append("%slength %u" % (sep, length))
        o.append("\n\t%s, hlen: %u, v: %u, pdu-v: %u, sys-id-len: %u (%u), max-area: %u (%u)" % (
            _ISIS_PDUS.get(pdu_type, "unknown, type %u" % pdu_type), fixed_len, version,
            pdu_version, 6, id_len, max_area or 3, max_area))
        return True                   # the TLVs are not reproduced
    size = _ISIS_FIXED.get(pdu_type)
    if size is None:
        o.append(", length %u" % length)
        return True
    if fixed_len != 8 + size:
        o.append("%s bogus fixed header length %u should be %u" % (
            "-" if pdu_type in (26, 27) else ",", fixed_len, 8 + size))
        return False
    q = p + 8
    need(c, q, size)
    if length < 8 + size:
        trunc(c)
        return True
    if pdu_type in (15, 16):
        o.append(", src-id %s, lan-id %s, prio %u" % (_isis_id(c, q + 1, 6), _isis_id(c, q + 12, 7),
                                                      d[q + 11]))
    elif pdu_type == 17:
        o.append(", src-id %s" % _isis_id(c, q + 1, 6))
    elif pdu_type in (18, 20):
        o.append(", lsp-id %s, seq 0x%08x, lifetime %5us" % (_isis_id(c, q + 4, 8), g32(c, q + 12),
                                                            g16(c, q + 2)))
    else:
        o.append(", src-id %s" % _isis_id(c, q + 2, 7))
    o.append(", length %u" % length)
    return True


# --------------------------------------------------------------------------
# SCTP (print-sctp.c) and the ForCES header line (print-forces.c)

_SCTP_CHUNKS = {0: "DATA", 1: "INIT", 2: "INIT ACK", 3: "SACK", 4: "HB REQ", 5: "HB ACK",
                6: "ABORT", 7: "SHUTDOWN", 8: "SHUTDOWN ACK", 9: "OP ERR", 10: "COOKIE ECHO",
                11: "COOKIE ACK", 12: "ECN ECHO", 13: "CWR", 14: "SHUTDOWN COMPLETE",
                64: "I-DATA", 0xC0: "FOR CID", 0xC1: "REL CTRL", 0xC2: "REL CTRL ACK"}
_SCTP_PPID = {1: "ISDN Q.921", 2: "M2UA", 3: "M3UA", 4: "SUA", 5: "M2PA", 6: "V5.2", 7: "H.248",
              8: "BICC", 9: "TALI", 10: "DUA", 11: "ASAP", 12: "ENRP", 13: "H.323", 14: "Q.IPC",
              15: "SIMCO", 16: "DDPSC", 17: "DDPSSC", 18: "S1AP", 19: "RUA", 20: "HNBAP",
              21: "ForCES HP", 22: "ForCES MP", 23: "ForCES LP", 24: "SBc-AP", 25: "NBAP",
              27: "X2AP"}
_FORCES_PORTS = {6704: "ForCES HP", 6705: "ForCES MP", 6706: "ForCES LP"}
_FORCES_TOM = {1: "Association Setup", 2: "Association TearDown", 3: "Config", 4: "Query",
               5: "Event Notification", 6: "Packet Redirect", 0x0F: "HeartBeat",
               0x11: "Association Response", 0x13: "Config Response", 0x14: "Query Response"}


class _SctpInvalid(Exception):
    pass


def forces_print(c, p, length):
    """forces_print(): the message type line (the -v details are not reproduced)."""
    c.proto = "forces"
    o = c.o
    tom = g8(c, p + 1)
    if not (1 <= tom <= 6 or tom == 0x0F or 0x11 <= tom <= 0x14):
        o.append("Invalid ForCES message type %u\n" % tom)
        return
    name = _FORCES_TOM.get(tom)
    if name is None:
        o.append("\n\tUnknown ForCES message type=0x%x" % tom)
        return
    o.append("\n\tForCES %s " % name)
    mlen = g16(c, p + 2) * 4
    if not (24 <= mlen <= length):
        o.append("Illegal ForCES pkt len - min %u, total recvd %u, advertised %u " % (24, length, mlen))
        return


def sctp_print(c, bp, iph, length):
    c.proto = "sctp"
    o = c.o
    d = c.d
    is6 = (d[iph] >> 4) == 6
    if length < 12:
        D._ports_fallback(c, bp, iph, "sctp", "sctp", length)
        return
    if not tt(c, bp, 12):
        D._ports_fallback(c, bp, iph, "sctp", "sctp", length)
        return
    sport, dport = g16(c, bp), g16(c, bp + 2)
    if is6:
        o.append("%s.%u > %s.%u: sctp" % (D.ip6addr(c, iph + 8), sport, D.ip6addr(c, iph + 24), dport))
    else:
        o.append("%s.%u > %s.%u: sctp" % (D.ipaddr(c, iph + 12), sport, D.ipaddr(c, iph + 16), dport))
    forces = False
    for port in (sport, dport):
        if port in _FORCES_PORTS:
            o.append("[%s]" % _FORCES_PORTS[port])
            forces = True
    bp += 12
    remaining = length - 12
    sep = "\n\t" if c.v >= 2 else " ("
    count = 0
    try:
        while remaining != 0:
            if remaining < 4:
                o.append("%s%u) [chunk descriptor cut off at end of packet]" % (sep, count + 1))
                break
            need(c, bp, 4)
            clen = g16(c, bp + 2)
            if clen < 4:
                o.append("%s%u) [Bad chunk length %u, < size of chunk descriptor]" % (sep, count + 1, clen))
                break
            crem = clen
            align = (4 - clen % 4) % 4
            if remaining < align:
                o.append("%s%u) [Bad chunk length %u, > remaining data in packet]" % (sep, count + 1, clen))
                break
            need(c, bp, clen)
            cid, flg = g8(c, bp), g8(c, bp + 1)
            bp += 4
            remaining = (remaining - 4) & 0xFFFFFFFF
            crem = (crem - 4) & 0xFFFF
            o.append("%s%u) " % (sep, count + 1))
            o.append("[%s] " % _SCTP_CHUNKS.get(cid, "Unknown chunk type: 0x%x" % cid))
            if cid == 0:
                flags = ("(U)" if flg & 4 else "") + ("(B)" if flg & 2 else "") + ("(E)" if flg & 1 else "")
                o.append(flags + (" " if flags else ""))
                if crem < 12:
                    raise _SctpInvalid
                ppid = g32(c, bp + 8)
                o.append("[TSN: %u] [SID: %u] [SSEQ %u] [PPID %s] " % (
                    g32(c, bp), g16(c, bp + 4), g16(c, bp + 6), _SCTP_PPID.get(ppid, "0x%x" % ppid)))
                if not forces:
                    forces = ppid in (21, 22, 23)
                bp += 12
                remaining = (remaining - 12) & 0xFFFFFFFF
                crem = (crem - 12) & 0xFFFF
                if crem == 0:
                    raise _SctpInvalid
                if forces:
                    forces_print(c, bp, crem)
                    c.proto = "sctp"
                elif c.v >= 2:
                    o.append("[Payload")
                    if not c.suppress_default:
                        o.append(":")
                        D.hex_and_ascii(c, "\n\t", bp, crem)
                    o.append("]")
                bp += crem
                remaining = (remaining - crem) & 0xFFFFFFFF
                crem = 0
            elif cid in (1, 2):
                if crem < 16:
                    raise _SctpInvalid
                o.append("[init tag: %u] [rwnd: %u] [OS: %u] [MIS: %u] [init TSN: %u] " % (
                    g32(c, bp), g32(c, bp + 4), g16(c, bp + 8), g16(c, bp + 10), g32(c, bp + 12)))
                bp += crem
                remaining = (remaining - crem) & 0xFFFFFFFF
                crem = 0
            elif cid == 3:
                if crem < 12:
                    raise _SctpInvalid
                cum, ngap, ndup = g32(c, bp), g16(c, bp + 8), g16(c, bp + 10)
                o.append("[cum ack %u] [a_rwnd %u] [#gap acks %u] [#dup tsns %u] " % (
                    cum, g32(c, bp + 4), ngap, ndup))
                bp += 12
                remaining = (remaining - 12) & 0xFFFFFFFF
                crem = (crem - 12) & 0xFFFF
                i = 0
                while crem != 0 and i < ngap:
                    if crem < 4:
                        raise _SctpInvalid
                    o.append("\n\t\t[gap ack block #%u: start = %u, end = %u] " % (
                        i + 1, (cum + g16(c, bp)) & 0xFFFFFFFF, (cum + g16(c, bp + 2)) & 0xFFFFFFFF))
                    bp += 4
                    remaining = (remaining - 4) & 0xFFFFFFFF
                    crem = (crem - 4) & 0xFFFF
                    i += 1
                i = 0
                while crem != 0 and i < ndup:
                    if crem < 4:
                        raise _SctpInvalid
                    o.append("\n\t\t[dup TSN #%u: %u] " % (i + 1, g32(c, bp)))
                    bp += 4
                    remaining = (remaining - 4) & 0xFFFFFFFF
                    crem = (crem - 4) & 0xFFFF
                    i += 1
            else:
                bp += crem
                remaining = (remaining - crem) & 0xFFFFFFFF
                crem = 0
            bp += crem
            remaining = (remaining - crem) & 0xFFFFFFFF
            if c.v < 2:
                sep = ", ("
            if align:
                need(c, bp, align)
                bp += align
                remaining = (remaining - align) & 0xFFFFFFFF
            count += 1
    except _SctpInvalid:
        invalid(c)


# --------------------------------------------------------------------------
# DHCPv6 (print-dhcp6.c): the message type; options only through scapy (-vv)

_DH6_TYPES = {1: "solicit", 2: "advertise", 3: "request", 4: "confirm", 5: "renew", 6: "rebind",
              7: "reply", 8: "release", 9: "decline", 10: "reconfigure", 11: "inf-req",
              12: "relay-fwd", 13: "relay-reply", 14: "leasequery", 15: "leasequery-reply"}


def dhcp6_print(c, cp, length):
    c.proto = "dhcp6"
    o = c.o
    o.append("dhcp6")
    need(c, cp, 4)
    t = g8(c, cp)
    name = _DH6_TYPES.get(t, "msgtype-%u" % t)
    if not c.v:
        o.append(" %s" % name)
        return
    c.generic = "dhcp6"              # the options: scapy's, with -vv
    if t in (12, 13):
        o.append(" %s (linkaddr=%s peeraddr=%s)" % (name, D.ip6addr(c, cp + 2), D.ip6addr(c, cp + 18)))
    else:
        o.append(" %s (xid=%x)" % (name, g32(c, cp) & 0xFFFFFF))


def _udp_dhcp6(c, cp, length):
    dhcp6_print(c, cp, length)


# --------------------------------------------------------------------------
# IPX (print-ipx.c); with -n a SAP type is its number in hex

IPX_HEADER_LEN = 30
_IPX_SOCKETS = {0x0451: "ipx-ncp", 0x0455: "ipx-netbios", 0x0456: "ipx-diags",
                0x0553: "ipx-nwlink-dgm"}


def _ipx_addr(c, o):
    """net.node, as ipxaddr_string()."""
    return "%08x.%s" % (g32(c, o), _mac(c, o + 4))


def ipx_print(c, p, length):
    c.proto = "ipx"
    o = c.o
    if not c.e:
        o.append("IPX ")
    o.append("%s.%04x > " % (_ipx_addr(c, p + 18), g16(c, p + 28)))
    dst_socket = g16(c, p + 16)
    o.append("%s.%04x: " % (_ipx_addr(c, p + 6), dst_socket))
    length = g16(c, p + 2)
    if length < IPX_HEADER_LEN:
        o.append("[length %u < %u]" % (length, IPX_HEADER_LEN))
        invalid(c)
        return
    p += IPX_HEADER_LEN
    length -= IPX_HEADER_LEN
    if dst_socket in (0x0452, 0x0453):     # SAP, RIP: a command word, then entries
        command = g16(c, p)
        if length < 2:
            o.append(" [length %u < 2]" % length)
            invalid(c)
            return
        (_ipx_sap if dst_socket == 0x0452 else _ipx_rip)(c, command, p + 2, length - 2)
    elif dst_socket == 0x85BE:
        D.eigrp_print(c, p, length)
    elif dst_socket in _IPX_SOCKETS:
        o.append("%s %u" % (_IPX_SOCKETS[dst_socket], length))
    else:
        o.append("ipx-#%x %u" % (dst_socket, length))


def _sap_type(c, p):
    """ipxsap_string(): the service type, named without -n."""
    t = g16(c, p)
    name = None if c.names is None else T.IPXSAP_NAMES.get(t)
    return "%04x" % t if name is None else name


def _ipx_sap(c, command, p, length):
    o = c.o
    if command in (1, 3):
        o.append("ipx-sap-req" if command == 1 else "ipx-sap-nearest-req")
        o.append(" " + _sap_type(c, p))
    elif command in (2, 4):
        o.append("ipx-sap-resp" if command == 2 else "ipx-sap-nearest-resp")
        for _ in range(8):
            if length == 0:
                break
            need(c, p, 2)
            if length < 2:
                invalid(c)
                return
            o.append(" %s '" % _sap_type(c, p))
            p += 2
            length -= 2
            if length < 48:
                o.append("'")
                invalid(c)
                return
            nd_printjnp(c, p, 48)
            o.append("'")
            p += 48
            length -= 48
            need(c, p, 10)
            if length < 10:
                invalid(c)
                return
            o.append(" addr %s" % _ipx_addr(c, p))
            need(c, p + 10, 4)      # socket and the number of intermediate networks
            if length < 14:
                invalid(c)
                return
            p += 14
            length -= 14
    else:
        o.append("ipx-sap-?%x" % command)


def _ipx_rip(c, command, p, length):
    o = c.o
    if command not in (1, 2):
        o.append("ipx-rip-?%x" % command)
        return
    o.append("ipx-rip-req" if command == 1 else "ipx-rip-resp")
    for _ in range(1 if command == 1 else 50):
        if length == 0:
            break
        if length < 8:
            invalid(c)
            return
        o.append(" %08x/%u.%u" % (g32(c, p), g16(c, p + 4), g16(c, p + 6)))
        p += 8
        length -= 8


# --------------------------------------------------------------------------
# EAPOL (print-eap.c): the frame header (the EAP packet inside, -v, is not
# decoded yet: see _verbose_generic below)

_EAPOL_TYPES = {0: "EAP packet", 1: "EAPOL start", 2: "EAPOL logoff", 3: "EAPOL key",
                4: "Encapsulated ASF alert"}


def eapol_print(c, p, length):
    if _verbose_generic(c, "eap", "EAPOL", length):
        return
    need(c, p, 4)
    typ = g8(c, p + 1)
    c.o.append("%s (%u) v%u, len %u" % (_EAPOL_TYPES.get(typ, "unknown"), typ, g8(c, p),
                                        g16(c, p + 2)))


# --------------------------------------------------------------------------
# Header lines only (the default output); -v keeps the generic line

def _verbose_generic(c, proto, label, length):
    """True (after printing the generic line) when -v asks for a decode pycap
    lacks; else False, with ``c.proto`` set for the header printer."""
    if c.v:
        D.generic_print(c, proto, label, length)
        return True
    c.proto = proto
    return False


def sflow_print(c, p, length):
    """print-sflow.c: version, agent and agent id."""
    if _verbose_generic(c, "sflow", "SFLOW", length):
        return
    ip_version = g32(c, p + 4)
    if (ip_version == 1 and length < 28) or (ip_version == 2 and length < 40):
        c.o.append("sFlowv%u [length %u < 28]" % (g32(c, p), length))
        invalid(c)
        return
    need(c, p, 28)
    version = g32(c, p)
    if version != 5:
        c.o.append("sFlow version %u packet not supported" % version)
        return
    if ip_version == 1:
        agent, agent_id = D.ipaddr(c, p + 8), g32(c, p + 12)
    else:
        agent, agent_id = D.ip6addr(c, p + 8), g32(c, p + 24)
    c.o.append("sFlowv%u, %s agent %s, agent-id %u, length %u" % (
        version, "IPv4" if ip_version == 1 else "IPv6", agent, agent_id, length))


_RADIUS_CODES = {1: "Access-Request", 2: "Access-Accept", 3: "Access-Reject",
                 4: "Accounting-Request", 5: "Accounting-Response", 11: "Access-Challenge",
                 12: "Status-Server", 13: "Status-Client", 40: "Disconnect-Request",
                 41: "Disconnect-ACK", 42: "Disconnect-NAK", 43: "CoA-Request", 44: "CoA-ACK",
                 45: "CoA-NAK", 255: "Reserved"}


def radius_print(c, p, length):
    """print-radius.c: code, id and length."""
    if _verbose_generic(c, "radius", "RADIUS", length):
        return
    need(c, p, 20)
    ln = g16(c, p + 2)
    if ln < 20:
        trunc(c)
        return
    code = g8(c, p)
    c.o.append("RADIUS, %s (%u), id: 0x%02x length: %u" % (
        _RADIUS_CODES.get(code, "Unknown Command"), code, g8(c, p + 1), min(ln, length)))


_RIP_COMMANDS = {1: "Request", 2: "Response", 3: "Trace on", 4: "Trace off", 5: "Poll",
                 6: "Poll Entry"}


def rip_print(c, p, length):
    """print-rip.c: version, command and length."""
    if _verbose_generic(c, "rip", "RIP", length):
        return
    if min(D.avail(c, p), length) < 4:
        trunc(c)
        return
    version = g8(c, p + 1)
    c.o.append("RIPv%u" % version)
    if version == 0:        # RFC 1058: to be ignored; tcpdump dumps it in hex
        D.print_unknown_data(c, p, "\n\t", length)
        return
    cmd = g8(c, p)
    c.o.append(", %s, length: %u" % (_RIP_COMMANDS.get(cmd, "unknown command (%u)" % cmd), length))


def dtp_print(c, p, length):
    """print-dtp.c: the version."""
    if _verbose_generic(c, "dtp", "DTP", length):
        return
    if length < 1:
        c.o.append("[zero packet length]")
        invalid(c)
        return
    c.o.append("DTPv%u, length %u" % (g8(c, p), length))


# --------------------------------------------------------------------------
# ETSI GeoNetworking (print-geonet.c) and ISO CALM FAST (print-calm-fast.c)

_GEONET_NEXT = {0: "Any", 1: "BTP-A", 2: "BTP-B", 3: "IPv6"}
# header type -> (name by subtype, or one name for every subtype; extended header size or None)
_GEONET_TYPES = {
    0: ("Any", 0), 1: ("Beacon", 0), 2: ("GeoUnicast", None),
    3: ({0: "GeoAnycastCircle", 1: "GeoAnycastRect", 2: "GeoAnycastElipse"}, None),
    4: ({0: "GeoBroadcastCircle", 1: "GeoBroadcastRect", 2: "GeoBroadcastElipse"}, None),
    5: ({0: "TopoScopeBcast-SH", 1: "TopoScopeBcast-MH"}, {0: 0, 1: 68 - 36}),
    6: ({0: "LocService-Request", 1: "LocService-Reply"}, None),
}
_BTP_MESSAGES = {0: "CAM", 1: "DENM", 101: "TPEGM", 102: "TSPDM", 103: "VPM", 104: "SRM",
                 105: "SLAM", 106: "ecoCAM", 107: "ITM", 150: "SA"}


def _too_short(c, what, length, minimum):
    """tcpdump's " (WHAT LENGTH < MINIMUM) (invalid)"; True when it was printed."""
    if length < minimum:
        c.o.append(" (%s %u < %u)" % (what, length, minimum))
        invalid(c)
        return True
    return False


def _llsrc(c):
    """"src:ADDR" for the frame's link-layer source (tcpdump's lladdr_info); "" without one."""
    return "" if c.llsrc is None else "src:" + D.etheraddr(c, c.llsrc)


def geonet_print(c, p, length):
    c.proto = "geonet"
    o = c.o
    o.append("GeoNet %s; " % _llsrc(c))
    if _too_short(c, "common header length", length, 36):
        return
    b0, b1 = g8(c, p), g8(c, p + 1)
    version, next_hdr, hdr_type, subtype = b0 >> 4, b0 & 0x0F, b1 >> 4, b1 & 0x0F
    payload, hop_limit = g16(c, p + 4), g8(c, p + 7)
    names, sizes = _GEONET_TYPES.get(hdr_type, ("Unknown", None))
    name = names if isinstance(names, str) else names.get(subtype, "Unknown")
    hdr_size = sizes.get(subtype) if isinstance(sizes, dict) else sizes
    o.append("v:%u NH:%u-%s HT:%u-%u-%s HopLim:%u Payload:%u " % (
        version, next_hdr, _GEONET_NEXT.get(next_hdr, "Unknown"), hdr_type, subtype, name,
        hop_limit, payload))
    o.append("GN_ADDR:%s " % D.linkaddr(c, p + 8, 8))
    o.append("lat:%u " % g32(c, p + 20))
    o.append("lon:%u" % g32(c, p + 24))
    need(c, p, 36)
    p += 36
    length -= 36
    if hdr_size is not None:
        if length < hdr_size:
            o.append(" (header size %d > %u)" % (hdr_size, length))
            invalid(c)
            return
        need(c, p, hdr_size)
        p += hdr_size
        length -= hdr_size
        if next_hdr in (1, 2):
            if _too_short(c, "BTP length", length, 4):
                return
            o.append("; BTP Dst:%u" % g16(c, p))
            o.append(" Src:%u" % g16(c, p + 2))
            p += 4
            length -= 4
            if length >= 2:
                o.append("; ItsPduHeader v:%u" % g8(c, p))
                msg = g8(c, p + 1)
                o.append(" t:%u-%s" % (msg, _BTP_MESSAGES.get(msg, "unknown (%u)" % msg)))
    if c.v:
        D.default_print(c, p, length)


def calm_fast_print(c, p, length):
    c.proto = "calm_fast"
    o = c.o
    src = _llsrc(c)
    o.append("CALM FAST%s; " % (" " + src if src else ""))
    if _too_short(c, "length", length, 2):
        return
    o.append("SrcNwref:%u; " % g8(c, p))
    o.append("DstNwref:%u; " % g8(c, p + 1))
    if c.v:
        D.default_print(c, p + 2, length - 2)


# --------------------------------------------------------------------------
# Kerberos (print-krb.c): v4 is decoded, v5 only named

_KRB4_TYPES = {2: "KDC_REQUEST", 4: "KDC_REPLY", 6: "APPL_REQUEST", 8: "APPL_REQUEST_MUTUAL",
               10: "ERR_REPLY", 12: "PRIVATE", 14: "SAFE", 16: "APPL_ERR", 126: "DIE"}
_KRB4_ERRORS = ("OK", "NAME_EXP", "SERVICE_EXP", "AUTH_EXP", "PKT_VER", "NAME_MAST_KEY_VER",
                "SERV_MAST_KEY_VER", "BYTE_ORDER", "PRINCIPAL_UNKNOWN", "PRINCIPAL_NOT_UNIQUE",
                "NULL_KEY")


class _KrbCut(Exception):
    """c_print() ran off the capture: tcpdump prints [|krb] and returns (no longjmp,
    so a -x dump still starts after the link header)."""


def _krb_string(c, p):
    """c_print(): a NUL-terminated string; the offset after it."""
    end = c.d.find(b"\0", p, c.end) if p < c.end else -1
    stop = c.end if end < 0 else end
    if p < stop:
        c.o.append(D.fn_print_bytes(c.d[p:stop]))
    if end < 0:
        raise _KrbCut
    return end + 1


def _krb4_header(c, p):
    """krb4_print_hdr(): name.instance@realm."""
    p = _krb_string(c, p + 2)
    c.o.append(".")
    p = _krb_string(c, p)
    c.o.append("@")
    return _krb_string(c, p)


def krb_print(c, p, length):
    c.proto = "krb"
    o = c.o
    if p >= c.end:
        trunc(c)        # printed, not a longjmp: as _KrbCut
        return
    pvno = c.d[p]
    if pvno in (1, 2, 3):
        o.append(" v%u" % pvno)
    elif pvno in (106, 107):
        o.append(" v5")
    elif pvno == 4:
        o.append(" v4")
        try:
            _krb4_print(c, p)
        except _KrbCut:
            trunc(c)


def _krb4_print(c, p):
    o = c.o
    flags = g8(c, p + 1)
    little = flags & 1
    typ = flags & 0xFE
    o.append(" %s %s: " % ("le" if little else "be", _KRB4_TYPES.get(typ, "#%d" % typ)))

    def u16(q):
        return (g8(c, q + 1) << 8 | g8(c, q)) if little else g16(c, q)
    if typ == 2:                              # KDC_REQUEST
        q = _krb4_header(c, p) + 4            # ctime
        o.append(" %umin " % (g8(c, q) * 5))
        q = _krb_string(c, q + 1)
        o.append(".")
        _krb_string(c, q)
    elif typ == 6:                            # APPL_REQUEST
        o.append("v%u " % g8(c, p + 2))
        q = _krb_string(c, p + 3)
        o.append(" (%u)" % g8(c, q))
        o.append(" (%u)" % g8(c, q + 1))
    elif typ == 4:                            # KDC_REPLY
        q = _krb4_header(c, p) + 10           # timestamp, n, exp, kvno
        o.append(" (%u)" % u16(q))
    elif typ == 10:                           # ERR_REPLY
        q = _krb4_header(c, p) + 4            # timestamp
        code = u16(q)
        o.append(" %s " % (_KRB4_ERRORS[code] if code < len(_KRB4_ERRORS) else "#%d" % code))
        _krb_string(c, q + 4)
    else:
        o.append("(unknown)")


# --------------------------------------------------------------------------
# Ethernet configuration testing protocol (print-loopback.c)

def _le16(c, o):
    return g8(c, o) | g8(c, o + 1) << 8


def loopback_print(c, p, length):
    c.proto = "loopback"
    o = c.o
    o.append("Loopback")
    if length >= 2:
        skip = _le16(c, p)
        p += 2
        length -= 2
        o.append(", skipCount %u" % skip)
        if skip % 8:
            o.append(" (bogus)")
        if skip <= length:
            need(c, p, skip)
            _loopback_message(c, p + skip, length - skip)
            return
    invalid(c)
    need(c, p, length)


def _loopback_message(c, p, length):
    o = c.o
    if length >= 2:
        function = _le16(c, p)
        p += 2
        length -= 2
        o.append(", %s" % {1: "Reply", 2: "Forward Data"}.get(function, " invalid (%u)" % function))
        field = {1: 2, 2: 6}.get(function, 0)        # receipt number, forwarding address
        if length >= field:
            if function == 1:
                o.append(", receipt number %u" % _le16(c, p))
            elif function == 2:
                o.append(", forwarding address %s" % D.etheraddr(c, p))
            p += field
            length -= field
            if field:
                o.append(", data (%u octets)" % length)
            need(c, p, length)
            return
    invalid(c)
    need(c, p, length)


# --------------------------------------------------------------------------
# LLDP (print-lldp.c): by default only the system name; with -v the TLVs

def lldp_print(c, p, length):
    """lldp_print(): without -v the System Name; with -v every TLV with its
    name, decoded where tcpdump decodes it, else in hex (and in hex as well
    with -vv).  print-lldp.c checks with ND_TCHECK, which jumps to its own
    label (no longjmp): [|lldp], then return."""
    c.proto = "lldp"
    o = c.o
    o.append("LLDP, length %u" % length)
    v = c.v
    try:
        while length >= 2:
            if not tt(c, p, 2):
                raise _LldpBad
            tlv = g16(c, p)
            typ, ln = tlv >> 9, tlv & 0x1FF
            p, length = p + 2, length - 2
            if v:
                o.append("\n\t%s TLV (%u), length %u" % (_LLDP_TLVS.get(typ, "Unknown"), typ, ln))
            if not typ or not ln:
                break
            if not tt(c, p, ln) or length < ln:
                raise _LldpBad
            if v:
                if _lldp_tlv(c, typ, p, ln) or v > 1:
                    D.print_unknown_data(c, p, "\n\t  ", ln)
            elif typ == 5:                  # System Name
                o.append(": ")
                nd_printjnp(c, p, ln)
            p, length = p + ln, length - ln
    except _LldpBad:
        trunc(c)

_LLDP_TLVS = {0: "End", 1: "Chassis ID", 2: "Port ID", 3: "Time to Live", 4: "Port Description",
              5: "System Name", 6: "System Description", 7: "System Capabilities",
              8: "Management Address", 127: "Organization specific"}
_LLDP_CHASSIS = {1: "Chassis component", 2: "Interface alias", 3: "Port component", 4: "MAC address",
                 5: "Network address", 6: "Interface name", 7: "Local"}
_LLDP_PORT = {1: "Interface alias", 2: "Port component", 3: "MAC address", 4: "Network Address",
              5: "Interface Name", 6: "Agent circuit ID", 7: "Local"}
_LLDP_CAPS = ((0x01, "Other"), (0x02, "Repeater"), (0x04, "Bridge"), (0x08, "WLAN AP"),
              (0x10, "Router"), (0x20, "Telephone"), (0x40, "Docsis"), (0x80, "Station Only"))
_LLDP_8021 = {1: "Port VLAN Id", 2: "Port and Protocol VLAN ID", 3: "VLAN name",
              4: "Protocol Identity", 8: "Congestion Notification", 9: "ETS Configuration",
              10: "ETS Recommendation", 11: "Priority Flow Control Configuration",
              12: "Application Priority", 13: "EVB", 14: "CDCP"}
_LLDP_8023 = {1: "MAC/PHY configuration/status", 2: "Power via MDI", 3: "Link aggregation",
              4: "Max frame size"}
_LLDP_PMD = ((1 << 14, "10BASE-T hdx"), (1 << 13, "10BASE-T fdx"), (1 << 12, "100BASE-T4"),
             (1 << 11, "100BASE-TX hdx"), (1 << 10, "100BASE-TX fdx"), (1 << 9, "100BASE-T2 hdx"),
             (1 << 8, "100BASE-T2 fdx"), (1 << 7, "Pause for fdx links"),
             (1 << 6, "Asym PAUSE for fdx"), (1 << 5, "Sym PAUSE for fdx"),
             (1 << 4, "Asym and Sym PAUSE for fdx"), (1 << 3, "1000BASE-{X LX SX CX} hdx"),
             (1 << 2, "1000BASE-{X LX SX CX} fdx"), (1 << 1, "1000BASE-T hdx"),
             (1 << 0, "1000BASE-T fdx"))
_LLDP_MAU = ("Unknown", "AUI", "10BASE_5", "FOIRL", "10BASE2", "10BASET duplex mode unknown",
             "10BASEFP", "10BASEFB", "10BASEFL duplex mode unknown", "10BROAD36", "10BASET hdx",
             "10BASET fdx", "10BASEFL hdx", "10BASEFL fdx", "100BASET4", "100BASETX hdx",
             "100BASETX fdx", "100BASEFX hdx", "100BASEFX fdx", "100BASET2 hdx", "100BASET2 fdx",
             "1000BASEX hdx", "1000BASEX fdx", "1000BASELX hdx", "1000BASELX fdx", "1000BASESX hdx",
             "1000BASESX fdx", "1000BASECX hdx", "1000BASECX fdx", "1000BASET hdx", "1000BASET fdx",
             "10GBASEX", "10GBASELX4", "10GBASER", "10GBASEER", "10GBASELR", "10GBASESR",
             "10GBASEW", "10GBASEEW", "10GBASELW", "10GBASESW")
_LLDP_AF = {0: "Reserved", 1: "IPv4", 2: "IPv6", 3: "NSAP", 4: "HDLC", 5: "BBN 1822", 6: "802",
            7: "E.163", 8: "E.164", 9: "F.69", 10: "X.121", 11: "Novell IPX", 12: "Appletalk",
            13: "Decnet IV", 14: "Banyan Vines", 15: "E.164 with NSAP subaddress"}
_LLDP_TIA = {1: "LLDP-MED Capabilities", 2: "Network policy", 3: "Location identification",
             4: "Extended power-via-MDI", 5: "Inventory - hardware revision",
             6: "Inventory - firmware revision", 7: "Inventory - software revision",
             8: "Inventory - serial number", 9: "Inventory - manufacturer name",
             10: "Inventory - model name", 11: "Inventory - asset ID"}


class _LldpBad(Exception):
    """A TLV too short for what it says: the packet ends as truncated."""


def _lldp_netaddr(c, p, n):
    """lldp_network_addr_print()."""
    if n < 1:
        raise _LldpBad
    af = g8(c, p)
    size = {1: 4, 2: 16, 6: 6}.get(af)
    name = _LLDP_AF.get(af, "Unknown")
    if size is None:
        return "AFI %s (%u), no AF printer !" % (name, af)
    if n - 1 < size:
        raise _LldpBad
    text = (D.ipaddr if af == 1 else D.ip6addr if af == 2 else D.etheraddr)(c, p + 1)
    return "AFI %s (%u): %s" % (name, af, text)


def _lldp_tlv(c, typ, p, ln):
    """One TLV's value; True when tcpdump adds a hex dump of it."""
    o = c.o
    if typ in (1, 2):
        if ln < 2:
            raise _LldpBad
        sub = g8(c, p)
        names = _LLDP_CHASSIS if typ == 1 else _LLDP_PORT
        o.append("\n\t  Subtype %s (%u): " % (names.get(sub, "Unknown"), sub))
        mac, net = (4, 5) if typ == 1 else (3, 4)
        if sub == mac:
            if ln < 7:
                raise _LldpBad
            o.append(D.etheraddr(c, p + 1))
        elif sub == net:
            o.append(_lldp_netaddr(c, p + 1, ln - 1))
        elif 1 <= sub <= 7:
            nd_printjnp(c, p + 1, ln - 1)
        else:
            return True
    elif typ == 3:
        if ln < 2:
            raise _LldpBad
        o.append(": TTL %us" % g16(c, p))
    elif typ in (4, 5):
        o.append(": ")
        nd_printjnp(c, p, ln)
    elif typ == 6:
        o.append("\n\t  ")
        nd_printjnp(c, p, ln)
    elif typ == 7:
        if ln < 4:
            raise _LldpBad
        cap, ena = g16(c, p), g16(c, p + 2)
        o.append("\n\t  System  Capabilities [%s] (0x%04x)" % (bittok(_LLDP_CAPS, "none", cap), cap))
        o.append("\n\t  Enabled Capabilities [%s] (0x%04x)" % (bittok(_LLDP_CAPS, "none", ena), ena))
    elif typ == 8:
        _lldp_mgmt(c, p, ln)
    elif typ == 127:
        if ln < 3:
            raise _LldpBad
        oui = (g8(c, p) << 16) | g16(c, p + 1)
        o.append(": OUI %s (0x%06x)" % (OUI_NAMES.get(oui, "Unknown"), oui))
        org = _LLDP_ORGS.get(oui)
        if org is None:
            return True
        least, names, printer = org
        sub = _lldp_subtype(c, p, ln, least, names)
        return False if sub is None else printer(c, p, ln, sub)
    else:
        return True
    return False


def _lldp_mgmt(c, p, ln):
    o = c.o
    if ln < 1:
        raise _LldpBad
    alen = g8(c, p)
    if ln - 1 < alen:
        raise _LldpBad
    o.append("\n\t  Management Address length %u, %s" % (alen, _lldp_netaddr(c, p + 1, alen)))
    q, left = p + 1 + alen, ln - 1 - alen
    if left < 5:
        raise _LldpBad
    sub = g8(c, q)
    o.append("\n\t  %s Interface Numbering (%u): %u" % (
        {2: "Interface Index", 3: "System Port Number"}.get(sub, "Unknown"), sub, g32(c, q + 1)))
    q, left = q + 5, left - 5
    if left:
        oid = g8(c, q)
        if left < 1 + oid:
            raise _LldpBad
        if oid:
            o.append("\n\t  OID length %u" % oid)
            nd_printjnp(c, q + 1, oid)


def _lldp_subtype(c, p, ln, least, names):
    """An organisation-specific TLV's subtype, named; None (nothing printed)
    when the TLV is shorter than ``least``."""
    if ln < least:
        return None
    sub = g8(c, p + 3)
    c.o.append("\n\t  %s Subtype (%u)" % (names.get(sub, "unknown"), sub))
    return sub


def _lldp_bits(tval):
    return "".join("%-2d " % ((tval >> i) & 1) for i in range(8))


def _lldp_tables(c, p):
    """ETS's priority assignment, bandwidth and TSA tables."""
    d = [g8(c, p + i) for i in range(20)]
    c.o.append("\n\t    Priority Assignment Table"
               "\n\t     Priority : 0   1   2   3   4   5   6   7"
               "\n\t     Value    : " + " ".join("%-3d" % v for b in d[:4] for v in (b >> 4, b & 15)))
    c.o.append("\n\t    TC Bandwidth Table\n\t     TC%   : 0   1   2   3   4   5   6   7"
               "\n\t     Value : " + " ".join("%-3d" % v for v in d[4:12]))
    c.o.append("\n\t    TSA Assignment Table"
               "\n\t     Traffic Class: 0   1   2   3   4   5   6   7"
               "\n\t     Value        : " + " ".join("%-3d" % v for v in d[12:20]))


def _lldp_8021(c, p, ln, sub):
    o = c.o
    if sub == 1:
        if ln >= 6:
            o.append("\n\t    port vlan id (PVID): %u" % g16(c, p + 4))
    elif sub == 2:
        if ln >= 7:
            flags = g8(c, p + 4)
            o.append("\n\t    port and protocol vlan id (PPVID): %u, flags [%s] (0x%02x)" % (
                g16(c, p + 5), bittok(((2, "supported"), (4, "enabled")), "none", flags), flags))
    elif sub == 3:
        if ln < 6:
            return False
        o.append("\n\t    vlan id (VID): %u" % g16(c, p + 4))
        if ln < 7 or ln < 7 + g8(c, p + 6):
            return False
        o.append("\n\t    vlan name: ")
        nd_printjnp(c, p + 7, g8(c, p + 6))
    elif sub == 4:
        if ln < 5 or ln < 5 + g8(c, p + 4):
            return False
        o.append("\n\t    protocol identity: ")
        nd_printjnp(c, p + 5, g8(c, p + 4))
    elif sub == 8:
        if ln >= 6:
            for off, label in ((4, "Pre-Priority CNPV Indicator"), (5, "Pre-Priority Ready Indicator")):
                o.append("\n\t    %s\n\t     Priority : 0  1  2  3  4  5  6  7\n\t     Value    : %s"
                         % (label, _lldp_bits(g8(c, p + off))))
    elif sub in (9, 10):
        if ln >= 25:
            t = g8(c, p + 4)
            if sub == 9:
                o.append("\n\t    Willing:%u, CBS:%u, RES:%u, Max TCs:%u" % (
                    t >> 7, (t >> 6) & 0x02, (t >> 3) & 0x07, t & 0x07))
            else:
                o.append("\n\t    RES: %u" % t)
            _lldp_tables(c, p + 5)
    elif sub == 11:
        if ln >= 6:
            t = g8(c, p + 4)
            o.append("\n\t    Willing: %u, MBC: %u, RES: %u, PFC cap:%u " % (
                t >> 7, (t >> 6) & 1, (t >> 4) & 3, t & 0x0F))
            o.append("\n\t    PFC Enable\n\t     Priority : 0  1  2  3  4  5  6  7\n\t     Value    : "
                     + _lldp_bits(g8(c, p + 5)))
    elif sub == 12:
        if ln < 5:
            return False
        o.append("\n\t    RES: %u" % g8(c, p + 4))
        if ln <= 5 or (ln - 5) % 3:
            return False
        o.append("\n\t    Application Priority Table")
        for i in range(0, ln - 5, 3):
            t = g8(c, p + 5 + i)
            o.append("\n\t      Priority: %u, RES: %u, Sel: %u, Protocol ID: %u" % (
                t >> 5, (t >> 3) & 3, t & 7, g16(c, p + 6 + i)))
    else:
        return True
    return False


def _lldp_8023(c, p, ln, sub):
    o = c.o
    if sub == 1:
        if ln >= 9:
            an, pmd, mau = g8(c, p + 4), g16(c, p + 5), g16(c, p + 7)
            o.append("\n\t    autonegotiation [%s] (0x%02x)" % (
                bittok(((1, "supported"), (2, "enabled")), "none", an), an))
            o.append("\n\t    PMD autoneg capability [%s] (0x%04x)" % (bittok(_LLDP_PMD, "unknown", pmd), pmd))
            o.append("\n\t    MAU type %s (0x%04x)" % (
                _LLDP_MAU[mau] if mau < len(_LLDP_MAU) else "unknown", mau))
    elif sub == 2:
        if ln >= 7:
            o.append("\n\t    MDI power support [%s], power pair %s, power class %s" % (
                bittok(((1, "PSE"), (2, "supported"), (4, "enabled"), (8, "can be controlled")),
                       "none", g8(c, p + 4)),
                {1: "signal", 2: "spare"}.get(g8(c, p + 5), "unknown"),
                {1: "class0", 2: "class1", 3: "class2", 4: "class3", 5: "class4"}.get(
                    g8(c, p + 6), "unknown")))
    elif sub == 3:
        if ln >= 9:
            o.append("\n\t    aggregation status [%s], aggregation port ID %u" % (
                bittok(((1, "supported"), (2, "enabled")), "none", g8(c, p + 4)), g32(c, p + 5)))
    elif sub == 4:
        if ln >= 6:
            o.append("\n\t    MTU size %u" % g16(c, p + 4))
    else:
        return True
    return False


def _lldp_iana(c, p, ln, sub):
    if sub != 1:
        return True
    c.o.append("\n\t  MUD-URL=")
    D.nd_printn(c, p + 4, ln - 4)
    return False


def _lldp_tia(c, p, ln, sub):
    o = c.o
    if sub == 1:
        if ln >= 7:
            caps, dev = g16(c, p + 4), g8(c, p + 6)
            o.append("\n\t    Media capabilities [%s] (0x%04x)" % (bittok(
                ((1, "LLDP-MED capabilities"), (2, "network policy"), (4, "location identification"),
                 (8, "extended power via MDI-PSE"), (16, "extended power via MDI-PD"),
                 (32, "Inventory")), "none", caps), caps))
            o.append("\n\t    Device type [%s] (0x%02x)" % ({
                1: "endpoint class 1", 2: "endpoint class 2", 3: "endpoint class 3",
                4: "network connectivity"}.get(dev, "unknown"), dev))
    elif sub == 2:
        if ln >= 8:
            app, flags = g8(c, p + 4), g8(c, p + 5)
            o.append("\n\t    Application type [%s] (0x%02x)" % ({
                1: "voice", 2: "voice signaling", 3: "guest voice", 4: "guest voice signaling",
                5: "softphone voice", 6: "video conferencing", 7: "streaming video",
                8: "video signaling"}.get(app, "none"), app))
            o.append(", Flags [%s]" % bittok(((0x80, "Unknown"), (0x40, "Tagged"), (0x20, "reserved")),
                                             "none", flags))
            o.append("\n\t    Vlan id %u, L2 priority %u, DSCP value %u" % (
                (g16(c, p + 5) & 0x1FFE) >> 1, (g16(c, p + 6) & 0x01FF) >> 6, g16(c, p + 6) & 0x3F))
    elif 5 <= sub <= 11:
        o.append("\n\t  %s " % ("Hardware revision", "Firmware revision", "Software revision",
                                 "Serial number", "Manufacturer name", "Model name", "Asset ID")[sub - 5])
        nd_printjnp(c, p + 4, ln - 4)
    else:
        return True
    return False


def _lldp_dcbx(c, p, ln, sub):
    """DCBX (the pre-802.1Qaz protocol, revision 1.01)."""
    o = c.o
    if sub == 1:
        return True
    q, left, hexdump = p + 4, ln - 4, False
    while left >= 2:
        tlv = g16(c, q)
        typ, tl = tlv >> 9, tlv & 0x1FF
        hexdump = False
        q, left = q + 2, left - 2
        if not typ or not tl:
            break
        need(c, q, tl)
        if left < tl:
            return hexdump
        info = g8(c, q + 2) if tl >= 3 else 0
        head = ("\n\t      Oper_Version: %u\n\t      Max_Version: %u\n\t      Info block(0x%02X): "
                "Enable bit: %u, Willing bit: %u, Error Bit: %u\n\t      SubType: %u")
        if typ == 1:
            if tl < 10:
                return hexdump
            o.append("\n\t    Control - Protocol Control (type 0x1, length %u)"
                     "\n\t      Oper_Version: %u\n\t      Max_Version: %u"
                     "\n\t      Sequence Number: %u\n\t      Acknowledgement Number: %u" % (
                         tl, g8(c, q), g8(c, q + 1), g32(c, q + 2), g32(c, q + 6)))
        elif typ in (2, 3, 4):
            if tl < {2: 17, 3: 6, 4: 4}[typ]:
                return hexdump
            o.append({2: "\n\t    Feature - Priority Group (type 0x2, length %u)",
                      3: "\n\t    Feature - Priority Flow Control (type 0x3, length %u)",
                      4: "\n\t    Feature - Application (type 0x4, length %u)"}[typ] % tl)
            o.append(head % (g8(c, q), g8(c, q + 1), info, 1 if info & 0x80 else 0,
                             1 if info & 0x40 else 0, 1 if info & 0x20 else 0, g8(c, q + 3)))
            if typ == 2:
                pg = g32(c, q + 4)
                o.append("\n\t      Priority Allocation")
                o.append("".join("\n\t          PgId_%u: %u" % (i, (pg >> (28 - 4 * i)) & 0xF)
                                 for i in range(8)))
                o.append("\n\t      Priority Group Allocation")
                o.append("".join("\n\t          Pg percentage[%u]: %u" % (i, g8(c, q + 8 + i))
                                 for i in range(8)))
                o.append("\n\t      NumTCsSupported: %u" % g8(c, q + 16))
            elif typ == 3:
                t = g8(c, q + 4)
                o.append("\n\t      PFC Config (0x%02X)" % t)
                o.append("".join("\n\t          Priority Bit %u: %s" % (
                    i, "Enabled" if t & (1 << i) else "Disabled") for i in range(8)))
                o.append("\n\t      NumTCPFCSupported: %u" % g8(c, q + 5))
            else:
                m, n = q + 4, tl - 4
                while n >= 6:
                    u = (g8(c, m + 2) << 16) | g16(c, m + 3)
                    o.append("\n\t      Application Value\n\t          Application Protocol ID: 0x%04x"
                             "\n\t          SF (0x%x) Application Protocol ID is %s"
                             "\n\t          OUI: 0x%06x\n\t          User Priority Map: 0x%02x" % (
                                 g16(c, m), u >> 22, "Socket Number" if u >> 22 else "L2 EtherType",
                                 u & 0x3FFFFF, g8(c, m + 5)))
                    m, n = m + 6, n - 6
        else:
            hexdump = True
        if c.v > 1 or hexdump:
            D.print_unknown_data(c, q, "\n\t    ", tl)
        q, left = q + tl, left - tl
    return hexdump


# organisation-specific TLVs: OUI -> (least length for a subtype, subtype
# names, printer of the subtype's value)
_LLDP_ORGS = {
    0x0080C2: (4, _LLDP_8021, _lldp_8021),
    0x00120F: (4, _LLDP_8023, _lldp_8023),
    0x00005E: (8, {1: "MUD-URL"}, _lldp_iana),
    0x0012BB: (4, _LLDP_TIA, _lldp_tia),
    0x001B21: (4, {1: "DCB Capability Exchange Protocol Rev 1",
                   2: "DCB Capability Exchange Protocol Rev 1.01"}, _lldp_dcbx),
}


# --------------------------------------------------------------------------
# DECnet Phase IV (print-decnet.c): routing layer, control messages and NSP

_DN_REASONS = {0: "object rejected connect", 1: "insufficient resources", 2: "unrecognized node name",
               3: "node is shutting down", 4: "unrecognized object", 5: "invalid object name format",
               6: "object too busy", 7: "protocol error discovered", 9: "third party abort",
               10: "invalid node name format", 11: "local node shutting down",
               32: "insufficient local resources", 33: "insufficient remote user resources",
               34: "invalid access control information", 36: "bad ACCOUNT information",
               38: "no response from object", 39: "node unreachable", 41: "no link terminate",
               42: "disconnect complete", 43: "bad image data in connect",
               44: "cryptographic service mismatch"}


_DN_HELLO_BITS = ((4, "verif "), (0o40, "nomcast "), (0o100, "blo "))


class _DnInvalid(Exception):
    """A DECnet message too short for what it says: " (invalid)"."""


def _dnaddr(a):
    return "%d.%d" % (a >> 10, a & 0x3FF)


def decnet_print(c, p, length, caplen):
    """decnet_print(): the routing header, or a control message, then NSP."""
    c.proto = "decnet"
    o = c.o
    try:
        if length < 6:
            o.append(" (length %u < 6)" % length)
            raise _DnInvalid
        pktlen = _le16(c, p)
        if pktlen < 6:
            o.append(" (pktlen %u < 6)" % pktlen)
            raise _DnInvalid
        if pktlen > length:
            o.append(" (pktlen %u > %u)" % (pktlen, length))
            raise _DnInvalid
        length = pktlen
        flags = g8(c, p + 2)
        if flags & 0x80:                                  # padding before the message
            pad = flags & 0x7F
            if c.v:
                o.append("[pad:%u] " % pad)
            if length < pad + 2:
                o.append(" (length %u < %u)" % (length, pad + 2))
                raise _DnInvalid
            need(c, p + 2, pad)
            p, length = p + pad, length - pad
            flags = g8(c, p + 2)
        h = p + 2
        if flags & 0x40:
            o.append("future-version-decnet")
            D.print_unknown_data(c, p, "\n\t", min(length, caplen))
            return
        if flags & 0x01:
            _dn_control(c, h, flags, length)
            return
        if flags & 0x07 == 6:                             # long header
            if length < 21:
                o.append(" (length %u < 21)" % length)
                raise _DnInvalid
            need(c, h, 21)
            dst, src, hops = _le16(c, h + 7), _le16(c, h + 15), g8(c, h + 18)
            nsp, nsplen = h + 21, length - 21
        elif flags & 0x07 == 2:                           # short header
            dst, src, hops = _le16(c, h + 1), _le16(c, h + 3), (g8(c, h + 5) & 0x3F) + 1
            nsp, nsplen = h + 6, length - 6
        else:
            o.append("unknown message flags under mask")
            D.print_unknown_data(c, p, "\n\t", min(length, caplen))
            return
        o.append("%s > %s %u " % (_dnaddr(src), _dnaddr(dst), pktlen))
        if c.v:
            o.append(D.bittok_nosep(((8, "RQR "), (16, "RTS "), (32, "IE ")), "", flags))
            o.append("%u hops " % hops)
        _dn_nsp(c, nsp, nsplen)
    except _DnInvalid:
        o.append(" (invalid)")


_DN_NODE_TYPES = ("reserved-ntype? ", "l2rout ", "l1rout ", "endnode ")


def _dn_node_info(info, bits):
    """A node's type, then the names of its ``bits`` that are set."""
    return _DN_NODE_TYPES[info & 3] + D.bittok_nosep(bits, "", info)


# print_decnet_ctlmsg(): each control message's name and the size of its
# structure (from the flags byte), checked against the length, then captured
_DN_CONTROL = {0x00: ("init ", 12), 0x02: ("verification ", 4), 0x04: ("test ", 4),
               0x06: ("lev-1-routing ", 4), 0x08: ("lev-2-routing ", 4),
               0x0A: ("router-hello ", 18), 0x0C: ("endnode-hello ", 32)}


def _dn_control(c, h, flags, length):
    """print_decnet_ctlmsg()."""
    o = c.o
    kind = flags & 0x0E
    if kind not in _DN_CONTROL:
        o.append("unknown control message")
        D.print_unknown_data(c, h, "\n\t", length)
        return
    name, size = _DN_CONTROL[kind]
    o.append(name)
    if length < size:
        raise _DnInvalid
    need(c, h, size)
    if kind == 0x00:
        o.append(_dn_node_info(g8(c, h + 3), ((4, "verif "), (8, "blo "))))
        o.append("src %sblksize %u vers %u eco %u ueco %u hello %u" % (
            _dnaddr(_le16(c, h + 1)), _le16(c, h + 4), g8(c, h + 6), g8(c, h + 7), g8(c, h + 8),
            _le16(c, h + 9)))
    elif kind == 0x02:
        o.append("src %s fcnval %o" % (_dnaddr(_le16(c, h + 1)), g8(c, h + 3)))
    elif kind == 0x04:
        o.append("src %s data %o" % (_dnaddr(_le16(c, h + 1)), g8(c, h + 3)))
    elif kind in (0x06, 0x08):
        o.append("src %s " % _dnaddr(_le16(c, h + 1)))
        q, left = h + 4, length - 4
        word = "ids" if kind == 0x06 else "areas"
        while left > 6:                                  # the last short is a checksum
            count, first, info = _le16(c, q), _le16(c, q + 2), _le16(c, q + 4)
            if count > 1024:
                break
            o.append("{%s %u-%u cost %u hops %u} " % (word, first, first + count, info & 0o777,
                                                      (info >> 10) & 0o37))
            q, left = q + 6, left - 6
    elif kind == 0x0A:
        o.append(_dn_node_info(g8(c, h + 10), _DN_HELLO_BITS))
        o.append("vers %u eco %u ueco %u src %s blksize %u pri %u hello %u" % (
            g8(c, h + 1), g8(c, h + 2), g8(c, h + 3), _dnaddr(_le16(c, h + 8)), _le16(c, h + 11),
            g8(c, h + 13), _le16(c, h + 15)))
    else:
        o.append(_dn_node_info(g8(c, h + 10), _DN_HELLO_BITS))
        o.append("vers %u eco %u ueco %u src %s blksize %u rtr %s hello %u data %o" % (
            g8(c, h + 1), g8(c, h + 2), g8(c, h + 3), _dnaddr(_le16(c, h + 8)), _le16(c, h + 11),
            _dnaddr(_le16(c, h + 26)), _le16(c, h + 28), g8(c, h + 31)))


def _dn_acks(c, q, nsplen, off, names):
    """The acknowledgement fields that lead a segment; the offset after them."""
    o = c.o
    if nsplen < off + 2:
        raise _DnInvalid
    ack = _le16(c, q + off)
    if ack & 0x8000:
        o.append("%s %u " % (names[0] if ack & 0x9000 == 0x9000 else names[1], ack & 0o7777))
        off += 2
        if nsplen < off + 2:
            raise _DnInvalid
        ack = _le16(c, q + off)
        if ack & 0xA000 == 0xA000:
            o.append("%s %u " % (names[2] if ack & 0xB000 == 0xB000 else names[3], ack & 0o7777))
            off += 2
            if nsplen < off + 2:
                raise _DnInvalid
            ack = _le16(c, q + off)
    return off, ack


def _dn_nsp(c, q, nsplen):
    """print_nsp()."""
    o = c.o
    if nsplen < 5:
        o.append(" (nsplen %u < 5)" % nsplen)
        raise _DnInvalid
    flags, dst, src = g8(c, q), _le16(c, q + 1), _le16(c, q + 3)
    kind, sub = flags & 0o14, flags & 0o160
    if kind == 0:                                         # data
        if sub in (0o40, 0, 0o100, 0o140):
            o.append("data %u>%u " % (src, dst))
            _, ack = _dn_acks(c, q, nsplen, 5, ("nak", "ack", "onak", "oack"))
            o.append("seg %u " % (ack & 0o7777))
        elif sub == 0o60:
            o.append("intr ")
            _, ack = _dn_acks(c, q, nsplen, 5, ("nak", "ack", "nakdat", "ackdat"))
            o.append("seg %u " % (ack & 0o7777))
        elif sub == 0o20:
            o.append("link-service %u>%u " % (src, dst))
            off, ack = _dn_acks(c, q, nsplen, 5, ("nak", "ack", "nakdat", "ackdat"))
            o.append("seg %u " % (ack & 0o7777))
            if nsplen < off + 4:
                raise _DnInvalid
            lsflags, fcval = g8(c, q + off + 2), g8(c, q + off + 3)
            if lsflags & 0o14 == 0:
                o.append("dat seg count %u " % fcval)
                mod = lsflags & 3
                o.append({0: "", 1: "donotsend-data ", 2: "send-data "}.get(
                    mod, "reserved-fcmod? %x" % lsflags))
            elif lsflags & 0o14 == 4:
                o.append("intr req count %u " % fcval)
            else:
                o.append("reserved-fcval-int? %x" % lsflags)
        else:
            o.append("reserved-subtype? %x %u > %u" % (flags, src, dst))
    elif kind == 0o4:                                     # acknowledgements
        if sub in (0, 0o20):
            o.append("%s %u>%u " % ("data-ack" if sub == 0 else "ils-ack", src, dst))
            if nsplen < 7:
                raise _DnInvalid
            need(c, q, 9)                   # ND_TCHECK_SIZE of struct ackmsg
            ack = _le16(c, q + 5)
            if ack & 0x8000:
                o.append("%s %u " % ("nak" if ack & 0x9000 == 0x9000 else "ack", ack & 0o7777))
                if nsplen >= 9:
                    ack = _le16(c, q + 7)
                    if ack & 0xA000 == 0xA000:
                        word = ("onak", "oack") if sub == 0 else ("nakdat", "ackdat")
                        o.append("%s %u " % (word[0] if ack & 0xB000 == 0xB000 else word[1],
                                             ack & 0o7777))
        elif sub == 0o40:
            o.append("conn-ack %u" % dst)
        else:
            o.append("reserved-acktype? %x %u > %u" % (flags, src, dst))
    elif kind == 0o10:                                    # connection control
        if sub in (0o20, 0o140):
            o.append("%s%u>%u " % ("conn-initiate " if sub == 0o20 else "retrans-conn-initiate ",
                                   src, dst))
            if nsplen < 9:
                raise _DnInvalid
            _dn_services(c, g8(c, q + 5), g8(c, q + 6), _le16(c, q + 7))
        elif sub == 0o40:
            o.append("conn-confirm %u>%u " % (src, dst))
            if nsplen < 10:
                raise _DnInvalid
            need(c, q, 10)
            _dn_services(c, g8(c, q + 5), g8(c, q + 6), _le16(c, q + 7))
            optlen = g8(c, q + 9)
            if optlen:
                o.append("optlen %u " % optlen)
        elif sub == 0o60:
            o.append("disconn-initiate %u>%u " % (src, dst))
            if nsplen < 8:
                raise _DnInvalid
            need(c, q, 8)
            reason = _le16(c, q + 5)
            o.append("%s " % _DN_REASONS.get(reason, "reason-%d" % reason))
            optlen = g8(c, q + 7)
            if optlen:
                o.append("optlen %u " % optlen)
        elif sub == 0o100:
            o.append("disconn-confirm %u>%u " % (src, dst))
            if nsplen < 7:
                raise _DnInvalid
            reason = _le16(c, q + 5)
            o.append("%s " % _DN_REASONS.get(reason, "reason-%d" % reason))
        else:
            o.append("reserved-ctltype? %x %u > %u" % (flags, src, dst))
    else:
        o.append("reserved-type? %x %u > %u" % (flags, src, dst))


def _dn_services(c, services, info, segsize):
    c.o.append({4: "seg ", 8: "msg ", 2: "crypt "}.get(services & 0o14, "")
               + ("ver 3.2 ", "ver 3.1 ", "ver 4.0 ", "ver 4.1 ")[info & 3]
               + "segsize %u " % segsize)


# --------------------------------------------------------------------------
# AHCP (print-ahcp.c) without -v

def ahcp_print(c, p, length):
    """ahcp_print(): the magic number and version (with -v, whose options
    pycap does not decode, the message is only named)."""
    if c.v:
        D.generic_print(c, "ahcp", "AHCP", length)
        return
    c.proto = "ahcp"
    o = c.o
    o.append("AHCP")
    if length < 2 or g8(c, p) != 43:
        return D.invalid_rest(c, p, length)
    version = g8(c, p + 1)
    if version != 1:
        o.append(" Version %u (unknown)" % version)
        need(c, p + 2, length - 2)
        return
    o.append(" Version 1")
    if length < 24:
        return D.invalid_rest(c, p, length)
    need(c, p + 2, 22)
    # ahcp1_body_print(): type, MBZ, the body's length, then the body
    q, left = p + 24, length - 24
    if left < 4:
        return D.invalid_rest(c, q, left)
    body_len = g16(c, q + 2)
    if body_len > left - 4:
        return D.invalid_rest(c, q + 4, left - 4)
    need(c, q + 4, body_len)


# --------------------------------------------------------------------------
# ISAKMP (print-isakmp.c) without -v: the exchange, as tcpdump names it

_ISAKMP_COOKIES = object()        # key of the per-run cookie cache in the TCP table (c.tcp)
_ISAKMP_ETYPES = {0: "none", 1: "base", 2: "ident", 3: "auth", 4: "agg", 5: "inf",
                  32: "oakley-quick", 33: "oakley-newgroup", 34: "ikev2_init", 35: "ikev2_auth",
                  36: "child_sa", 37: "inf2"}


class _Cookies:
    """cookie_record()/cookie_find(): the initiator cookies of the last ten
    exchanges with the addresses they started from and went to; a zeroed
    slot is a cookie too, as in tcpdump's table."""

    __slots__ = ("slots", "next")

    def __init__(self):
        self.slots = [(bytes(8), None, None)] * 10
        self.next = 0

    def find(self, cookie):
        for i, slot in enumerate(self.slots):
            if slot[0] == cookie:
                return i
        return -1

    def record(self, cookie, addrs):
        i = self.find(cookie)
        if i >= 0:
            self.next = (i + 1) % 10
            return
        self.slots[self.next] = (cookie, addrs[0], addrs[1])
        self.next = (self.next + 1) % 10

    def side(self, i, addrs):
        """" I" if the packet comes from the initiator's address, " R" from the
        responder's, else " ?" (cookie_sidecheck(): the source address only)."""
        _, initiator, responder = self.slots[i]
        if addrs is not None and initiator is not None:
            if addrs[0] == initiator:
                return " I"
            if addrs[0] == responder:
                return " R"
        return " ?"


def isakmp_print(c, p, length):
    """isakmp_print() without -v: the phase, initiator or responder, the
    exchange type and the flags (with -v, whose payloads pycap does not
    decode, the message is only named)."""
    if c.v:
        D.generic_print(c, "isakmp", "ISAKMP", length)
        return
    c.proto = "isakmp"
    o = c.o
    if not tt(c, p, 28):
        trunc(c)
        return
    o.append("isakmp:")
    major = g8(c, p + 17) >> 4
    etype, flags = g8(c, p + 18), g8(c, p + 19)
    phase1 = g32(c, p + 20) == 0
    name = _ISAKMP_ETYPES.get(etype, "#%u" % etype)
    if major == 1:
        o.append(" phase 1" if phase1 else " phase 2/others")
        cookies = D.run_state(c, _ISAKMP_COOKIES, _Cookies)
        i_ck = c.d[p:p + 8]
        i = cookies.find(i_ck)
        if i < 0:
            if not any(c.d[p + 8:p + 16]):             # the first message of an exchange
                o.append(" I")
                if c.ipaddrs is not None:
                    cookies.record(i_ck, c.ipaddrs)
            else:
                o.append(" ?")
        else:
            o.append(cookies.side(i, c.ipaddrs))
        o.append(" " + name)
        if flags:
            o.append("[%s%s]" % ("E" if flags & 1 else "", "C" if flags & 2 else ""))
    elif major == 2:
        o.append(" parent_sa" if phase1 else " child_sa ")
        o.append(" " + name)
        if flags:
            o.append("[%s%s%s]" % ("I" if flags & 8 else "", "V" if flags & 0x10 else "",
                                   "R" if flags & 0x20 else ""))


# --------------------------------------------------------------------------
# syslog (print-syslog.c, RFC 3164)

_SYSLOG_SEVERITIES = ("emergency", "alert", "critical", "error", "warning", "notice", "info",
                      "debug")
_SYSLOG_FACILITIES = ("kernel", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
                      "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "cron",
                      "local0", "local1", "local2", "local3", "local4", "local5", "local6",
                      "local7")


def syslog_print(c, p, length):
    c.proto = "syslog"
    o = c.o
    if g8(c, p) != 0x3C:                    # "<"
        invalid(c)
        return
    off, pri = 1, 0
    while off <= 3 and 0x30 <= g8(c, p + off) <= 0x39:
        pri = pri * 10 + g8(c, p + off) - 0x30
        off += 1
    if g8(c, p + off) != 0x3E:              # ">"
        invalid(c)
        return
    off += 1
    facility, severity = (pri & 0x3F8) >> 3, pri & 7
    fname = (_SYSLOG_FACILITIES[facility] if facility < len(_SYSLOG_FACILITIES)
             else "unknown (%u)" % facility)
    if not c.v:
        o.append("SYSLOG %s.%s, length: %u" % (fname, _SYSLOG_SEVERITIES[severity], length))
        return
    o.append("SYSLOG, length: %u\n\tFacility %s (%u), Severity %s (%u)\n\tMsg: " % (
        length, fname, facility, _SYSLOG_SEVERITIES[severity], severity))
    if length > off:
        D.nd_printn(c, p + off, length - off)
    if c.v > 1:
        D.print_unknown_data(c, p, "\n\t", length)


# --------------------------------------------------------------------------
# PPTP control messages (print-pptp.c), described as data: each message type
# is the list of its fields, printed in order as far as they were captured

_PPTP_TYPES = ("NOT_DEFINED", "SCCRQ", "SCCRP", "StopCCRQ", "StopCCRP", "ECHORQ", "ECHORP",
               "OCRQ", "OCRP", "ICRQ", "ICRP", "ICCN", "CCRQ", "CDN", "WEN", "SLI")
_PPTP_ERRORS = {0: "None", 1: "Not-Connected", 2: "Bad-Format", 3: "Bad-Value", 4: "No-Resource",
                5: "Bad-Call-ID", 6: "PAC-Error"}
_PPTP_ECHORP = {1: "OK", 2: "General Error"}
_PPTP_RESULTS = {   # -v names of RESULT_CODE, by message type
    2: {1: "Successful channel establishment", 2: "General error",
        3: "Command channel already exists",
        4: "Requester is not authorized to establish a command channel",
        5: "The protocol version of the requester is not supported"},
    4: _PPTP_ECHORP, 6: _PPTP_ECHORP,
    8: {1: "Connected", 2: "General Error", 3: "No Carrier", 4: "Busy", 5: "No Dial Tone",
        6: "Time-out", 7: "Do Not Accept"},
    10: {1: "Connect", 2: "General Error", 3: "Do Not Accept"},
    13: {1: "Lost Carrier", 2: "General Error", 3: "Admin Shutdown", 4: "Request"},
}
_PPTP_REASONS = {1: "None", 2: "Stop-Protocol", 3: "Stop-Local-Shutdown"}
_CAP, _BEARER, _CALL, _PEER = ("CAP",), ("BEARER",), ("u16", "CALL_ID"), ("u16", "PEER_CALL_ID")
_WIN, _DELAY, _CHAN = ("u16", "RECV_WIN"), ("u16", "PROC_DELAY"), ("u32", "PHY_CHAN_ID")
_RES, _ERR, _R2, _R1 = ("RESULT",), ("ERR",), ("RESERVED", 2), ("RESERVED", 1)
_CAPS = (_CAP, _BEARER, ("u16", "MAX_CHAN"), ("u16", "FIRM_REV"), ("str", "HOSTNAME", 64),
         ("str", "VENDOR", 64))
_PPTP_FIELDS = {
    1: (("VER",), _R2) + _CAPS,
    2: (("VER",), _RES, _ERR) + _CAPS,
    3: (("REASON",), _R1, _R2),
    4: (_RES, _ERR, _R2),
    5: (("u32", "ID"),),
    6: (("u32", "ID"), _RES, _ERR, _R2),
    7: (_CALL, ("u16", "CALL_SER_NUM"), ("u32", "MIN_BPS"), ("u32", "MAX_BPS"), ("BTYPE",),
        ("FTYPE",), _WIN, _DELAY, ("u16", "PHONE_NO_LEN"), _R2,
        ("str", "PHONE_NO", 64, "PHONE_NO_LEN"), ("str", "SUB_ADDR", 64)),
    8: (_CALL, _PEER, _RES, _ERR, ("u16", "CAUSE_CODE"), ("u32", "CONN_SPEED"), _WIN, _DELAY,
        _CHAN),
    9: (_CALL, ("u16", "CALL_SER_NUM"), ("BTYPE",), _CHAN, ("u16", "DIALED_NO_LEN"),
        ("u16", "DIALING_NO_LEN"), ("str", "DIALED_NO", 64, "DIALED_NO_LEN"),
        ("str", "DIALING_NO", 64, "DIALING_NO_LEN"), ("str", "SUB_ADDR", 64)),
    10: (_CALL, _PEER, _RES, _ERR, _WIN, _DELAY, _R2),
    11: (_PEER, _R2, ("u32", "CONN_SPEED"), _WIN, _DELAY, ("FTYPE",)),
    12: (_CALL, _R2),
    13: (_CALL, _RES, _ERR, ("u16", "CAUSE_CODE"), _R2, ("str", "CALL_STATS", 128)),
    14: (_PEER, _R2) + tuple(("u32", n) for n in ("CRC_ERR", "FRAMING_ERR", "HARDWARE_OVERRUN",
                                                  "BUFFER_OVERRUN", "TIMEOUT_ERR", "ALIGN_ERR")),
    15: (_PEER, _R2, ("x32", "SEND_ACCM"), ("x32", "RECV_ACCM")),
}


def pptp_print(c, p):
    c.proto = "pptp"
    o = c.o
    o.append(": pptp")
    if c.v:
        o.append(" Length=%u" % g16(c, p))
        o.append({1: " CTRL-MSG", 2: " MGMT-MSG"}.get(g16(c, p + 2), " UNKNOWN-MSG-TYPE"))
    cookie = g32(c, p + 4)
    if cookie != 0x1A2B3C4D:
        o.append(" UNEXPECTED Magic-Cookie!!(%08x)" % cookie)
    if c.v or cookie != 0x1A2B3C4D:
        o.append(" Magic-Cookie=%08x" % cookie)
    typ = g16(c, p + 8)
    o.append(" CTRL_MSGTYPE=%s" % _PPTP_TYPES[typ] if typ < len(_PPTP_TYPES)
             else " UNKNOWN_CTRL_MSGTYPE(%u)" % typ)
    p = _pptp_field(c, p + 10, typ, _R2, {})
    seen: dict = {}             # the lengths printed, for the strings that follow them
    for field in _PPTP_FIELDS.get(typ, ()):
        p = _pptp_field(c, p, typ, field, seen)


def _pptp_field(c, p, typ, field, seen):
    """Print one field at p; the offset after it."""
    o, kind, v = c.o, field[0], c.v
    if kind == "u16":
        seen[field[1]] = value = g16(c, p)
        o.append(" %s(%u)" % (field[1], value))
        return p + 2
    if kind in ("u32", "x32"):
        o.append((" %s(%u)" if kind == "u32" else " %s(0x%08x)") % (field[1], g32(c, p)))
        return p + 4
    if kind == "RESERVED":
        value = g8(c, p) if field[1] == 1 else g16(c, p)
        if value:
            o.append(" [ERROR: reserved=%u must be zero]" % value)
        return p + field[1]
    if kind == "str":
        o.append(" %s(" % field[1])
        nd_printjnp(c, p, min(field[2], seen[field[3]]) if len(field) > 3 else field[2])
        o.append(")")
        return p + field[2]
    if kind == "VER":
        ver = g16(c, p)
        o.append(" PROTO_VER(%u.%u)" % (ver >> 8, ver & 0xFF))
        return p + 2
    if kind in ("RESULT", "ERR", "REASON"):
        value = g8(c, p)
        names = (_PPTP_RESULTS.get(typ) if kind == "RESULT" else
                 _PPTP_ERRORS if kind == "ERR" else _PPTP_REASONS)
        label = {"RESULT": "RESULT_CODE", "ERR": "ERR_CODE", "REASON": "REASON"}[kind]
        o.append(" %s(%u%s)" % (label, value, ":" + names.get(value, "?") if v and names else ""))
        return p + 1
    value = g32(c, p)
    if kind == "CAP":
        o.append(" FRAME_CAP(%s%s)" % ("A" if value & 1 else "", "S" if value & 2 else ""))
    elif kind == "BEARER":
        o.append(" BEARER_CAP(%s%s)" % ("D" if value & 2 else "", "A" if value & 1 else ""))
    elif kind == "BTYPE":
        o.append(" BEARER_TYPE(%s)" % {1: "A", 2: "D", 3: "Any"}.get(value, "?"))
    else:                                                   # FTYPE
        o.append(" FRAME_TYPE(%s)" % {1: "A", 2: "S", 3: "E"}.get(value, "?"))
    return p + 4


# --------------------------------------------------------------------------
# DCCP (print-dccp.c): the default and -q lines; -v (checksum, options) keeps
# the generic line for now

_DCCP_TYPES = ("DCCP-Request", "DCCP-Response", "DCCP-Data", "DCCP-Ack", "DCCP-DataAck",
               "DCCP-CloseReq", "DCCP-Close", "DCCP-Reset", "DCCP-Sync", "DCCP-SyncAck")
# bytes after the generic header, by type (Data has none)
_DCCP_EXTRA = (4, 12, 0, 8, 8, 8, 8, 12, 8, 8)
_DCCP_RESETS = ("unspecified", "closed", "aborted", "no_connection", "packet_error",
                "option_error", "mandatory_error", "connection_refused", "bad_service_code",
                "too_busy", "bad_init_cookie", "aggression_penalty")


def dccp_print(c, p, iph, length):
    c.proto = "dccp"
    o, d = c.o, c.d
    if not tt(c, p, 12):            # print-dccp.c's checks print [|dccp] and return
        trunc(c)
        return
    extended = d[p + 8] & 1
    fixed = 16 if extended else 12
    if length < fixed:
        o.append("truncated-dccp - %u bytes missing!" % (fixed - length))
        return
    if not tt(c, p, fixed):
        trunc(c)
        return
    sport, dport = g16(c, p), g16(c, p + 2)
    hlen = d[p + 4] * 4
    if (d[iph] >> 4) == 6:
        o.append("%s.%u > %s.%u: DCCP" % (D.ip6addr(c, iph + 8), sport, D.ip6addr(c, iph + 24), dport))
    else:
        o.append("%s.%u > %s.%u: DCCP" % (D.ipaddr(c, iph + 12), sport, D.ipaddr(c, iph + 16), dport))
    if c.q:
        o.append(" %u" % ((length - hlen) & 0xFFFFFFFF))
        if hlen > length:
            o.append(" [bad hdr length %u - too long, > %u]" % (hlen, length))
        return
    o.append(" ")
    typ = (d[p + 8] >> 1) & 0x0F
    if typ >= len(_DCCP_TYPES):
        o.append("unknown-type-%u " % typ)
    else:
        name, extra = _DCCP_TYPES[typ], _DCCP_EXTRA[typ]
        if length < fixed + extra:
            o.append("truncated-%s - %u bytes missing!" % (name, fixed + extra - length))
            return
        if typ in (0, 1, 7) and not tt(c, p + fixed, extra):
            trunc(c)
            return
        if typ == 0:
            o.append("%s (service=%u) " % (name, g32(c, p + fixed)))
        elif typ == 1:
            o.append("%s (service=%u) " % (name, g32(c, p + fixed + 8)))
        elif typ == 7:
            code = g8(c, p + fixed + 8)
            o.append("%s (code=%s) " % (name, _DCCP_RESETS[code] if code < len(_DCCP_RESETS)
                                        else "invalid"))
        else:
            o.append("%s " % name)
    if typ not in (0, 2):           # the acknowledgement number
        ack = p + fixed
        number = (int.from_bytes(c.d[ack + 2:ack + 8], "big") if extended and tt(c, ack + 2, 6) else
                  int.from_bytes(c.d[ack + 1:ack + 4], "big") if not extended and tt(c, ack + 1, 3)
                  else None)
        if number is None:
            raise Trunc
        o.append("(ack=%u) " % number)


# --------------------------------------------------------------------------
# RSVP (print-rsvp.c): the message type line; the object decode of -v is not
# done yet

_RSVP_MESSAGES = {1: "Path", 2: "Resv", 3: "PathErr", 4: "ResvErr", 5: "PathTear", 6: "ResvTear",
                  7: "ResvConf", 12: "Bundle", 13: "Acknowledgement", 14: "Hello (Old)",
                  15: "Refresh", 20: "Hello"}


def rsvp_print(c, p, length):
    c.proto = "rsvp"
    if not tt(c, p, 8):             # ND_TCHECK: printed, no longjmp
        trunc(c)
        return
    version = c.d[p] >> 4
    if version != 1:
        c.o.append("ERROR: RSVP version %u packet not supported" % version)
        return
    msg = c.d[p + 1]
    c.o.append("RSVPv%u %s Message, length: %u" % (version, _RSVP_MESSAGES.get(msg, "unknown (%u)" % msg),
                                                   length))


# --------------------------------------------------------------------------
# LWAPP (print-lwapp.c): the transport header line; -v keeps the generic line

_LWAPP_FLAGS = ((0x01, "Last Fragment Bit"), (0x02, "Fragment Bit"), (0x04, "Control Bit"))


def _lwapp(c, p, length, proto, header):
    """``header``: where the transport header starts (control messages put
    the AP's MAC address in front of it)."""
    if _verbose_generic(c, proto, "LWAPP", length):
        return
    if not tt(c, p, header + 6):     # ND_TCHECK: printed, no longjmp
        trunc(c)
        return
    version = c.d[p + header]
    if version >> 6:
        c.o.append("LWAPP version %u packet not supported" % (version >> 6))
        return
    c.o.append("LWAPPv0, %s frame, Flags [%s], length %u" % (
        "Control" if version & 0x04 else "Data", bittok(_LWAPP_FLAGS, "none", version & 0x07),
        length))


def lwapp_data_print(c, p, length):
    _lwapp(c, p, length, "lwapp_data", 0)


def lwapp_control_print(c, p, length):
    _lwapp(c, p, length, "lwapp_control", 6)


def lwapp_control_print_no_ap(c, p, length):
    """From the access controller (source port 12223): no AP address first."""
    _lwapp(c, p, length, "lwapp_control", 0)


# --------------------------------------------------------------------------
# Microsoft Network Load Balancing heartbeats (print-msnlb.c)

def msnlb_print(c, p):
    c.proto = "msnlb"
    o = c.o
    o.append("MS NLB heartbeat")
    need(c, p + 8, 4)
    o.append(", host priority: %u" % int.from_bytes(c.d[p + 8:p + 12], "little"))
    o.append(", cluster IP: %s" % D.ipaddr(c, p + 12))
    o.append(", host IP: %s" % D.ipaddr(c, p + 16))


# --------------------------------------------------------------------------
# TIPC (print-tipc.c)

_TIPC_USERS = {0: "Low Importance Data payload", 1: "Medium Importance Data payload",
               2: "High Importance Data payload", 3: "Critical Importance Data payload",
               5: "Broadcast Link Protocol internal", 6: "Message Bundler Protocol internal",
               7: "Link State Protocol internal", 8: "Connection Manager internal",
               10: "Link Changeover Protocol internal", 11: "Name Table Update Protocol internal",
               12: "Message Fragmentation Protocol internal",
               13: "Neighbor Detection Protocol internal"}
_TIPC_MTYPES = ("CONN_MSG", "MCAST_MSG", "NAMED_MSG", "DIRECT_MSG")   # sic: as tcpdump names them
_TIPC_PAYLOAD = frozenset((0, 1, 2, 3, 8, 11))      # 13: link configuration; the rest internal


def _tipc_node(a):
    return "%u.%u.%u" % (a >> 24, (a >> 12) & 0xFFF, a & 0xFFF)


def _tipc_line(w0, route, mtype_name):
    """The first line: version, route, sizes, user, message type."""
    return "TIPC v%u.0 %s, headerlength %u bytes, MessageSize %u bytes, %s, messageType %s" % (
        w0 >> 29, route, (w0 >> 21 & 0x0F) * 4, w0 & 0x1FFFF, _TIPC_USERS[w0 >> 25 & 0x0F],
        mtype_name)


def tipc_print(c, p):
    c.proto = "tipc"
    o = c.o
    w0 = g32(c, p)
    user = (w0 >> 25) & 0x0F
    if user not in _TIPC_USERS:
        return
    w1 = g32(c, p + 4)
    mtype = w1 >> 29
    mtype_name = _TIPC_MTYPES[mtype] if mtype < 4 else "Unknown"
    if user in _TIPC_PAYLOAD:
        prev, orig_port, dest_port = g32(c, p + 12), g32(c, p + 16), g32(c, p + 20)
        if (w0 >> 21) & 0x0F <= 6:
            o.append(_tipc_line(w0, "%s:%u > %u" % (_tipc_node(prev), orig_port, dest_port),
                                mtype_name))
            return
        orig, dest = g32(c, p + 24), g32(c, p + 28)
        o.append(_tipc_line(w0, "%s:%u > %s:%u" % (_tipc_node(orig), orig_port, _tipc_node(dest),
                                                   dest_port), mtype_name))
        if c.v:
            w2 = g32(c, p + 8)
            o.append("\n\tPrevious Node %s, Broadcast Ack %u, Link Ack %u, Link Sequence %u" % (
                _tipc_node(prev), w1 & 0xFFFF, w2 >> 16, w2 & 0xFFFF))
    elif user == 13:                                        # link configuration
        domain, prev = g32(c, p + 8), g32(c, p + 12)
        o.append(_tipc_line(w0, "%s > %s" % (_tipc_node(prev), _tipc_node(domain)),
                            {0: "Link request", 1: "Link response"}.get(mtype, "Unknown")))
        if c.v:
            o.append("\n\tNodeSignature %u, network_id %u, media_id %u" % (
                w1 & 0xFFFF, g32(c, p + 16), g32(c, p + 20) & 0xFF))
    else:                                                   # internal protocols
        orig, dest = g32(c, p + 24), g32(c, p + 28)
        o.append(_tipc_line(w0, "%s > %s" % (_tipc_node(orig), _tipc_node(dest)),
                            "%s (0x%08x)" % (mtype_name, w1)))
        if c.v:
            w2, prev, w4, w5 = g32(c, p + 8), g32(c, p + 12), g32(c, p + 16), g32(c, p + 20)
            seq, w9 = g32(c, p + 32), g32(c, p + 36)
            o.append("\n\tPrevious Node %s, Session No. %u, Broadcast Ack %u, Sequence Gap %u,  "
                     "Broadcast Gap After %u, Broadcast Gap To %u, Last Sent Packet No. %u, "
                     "Next sent Packet No. %u, Transport Sequence %u, msg_count %u, "
                     "Link Tolerance %u" % (_tipc_node(prev), w5 >> 16, w1 & 0xFFFF,
                                            (w1 >> 16) & 0x1FFF, w2 >> 16, w2 & 0xFFFF, w4 >> 16,
                                            w4 & 0xFFFF, seq, w9 >> 16, w9 & 0xFFFF))


# --------------------------------------------------------------------------
# 802.1ag CFM (print-cfm.c): the common header line; -v keeps the generic line

_CFM_OPCODES = {1: "Continuity Check Message", 2: "Loopback Reply", 3: "Loopback Message",
                4: "Linktrace Reply", 5: "Linktrace Message"}


def cfm_print(c, p, length):
    if _verbose_generic(c, "cfm", "CFM", length):
        return
    o = c.o
    if length < 4:
        o.append("\n\t\t packet is too short")
        return
    if not tt(c, p, 4):
        trunc(c)
        return
    level_version, opcode = c.d[p], c.d[p + 1]
    version = level_version & 0x1F
    if version:
        o.append("CFMv%u not supported, length %u" % (version, length))
        return
    o.append("CFMv%u %s, MD Level %u, length %u" % (
        version, _CFM_OPCODES.get(opcode, "unknown (%u)" % opcode), level_version >> 5, length))
