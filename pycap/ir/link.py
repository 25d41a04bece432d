"""Link-layer state for code generation: where the link-level protocol field
and the network header are, and how ``ether proto X`` is tested
(libpcap's gen_linktype).

libpcap keeps these offsets in mutable compiler state that ``vlan``,
``mpls`` and ``pppoes`` move forward *as they are parsed*, so every
primitive to their right, whatever the parentheses, sees shifted offsets.
``Link`` is a frozen value; the lowerer replaces it when such a primitive is
lowered, which reproduces that behaviour exactly.
"""

from __future__ import annotations

import sys

from pycap.errors import FilterError, Span
from pycap.frozen import frozen, replace
from pycap.ir.nodes import (FALSE, TRUE, Ctx, Imm, Pred, Value, Var, all_of, any_of, as_value, at,
                            cmp, eq, load, negate)
from pycap.linktype import LinkType, link_info

ETHERMTU = 1500
ETHERTYPE_IP, ETHERTYPE_IPV6 = 0x0800, 0x86DD
ETHERTYPE_MPLS, ETHERTYPE_PPPOED, ETHERTYPE_PPPOES = 0x8847, 0x8863, 0x8864
ETHERTYPE_8021Q, ETHERTYPE_8021AD, ETHERTYPE_QINQ = 0x8100, 0x88A8, 0x9100
LINUX_SLL_P_802_2, LINUX_SLL_P_802_3 = 0x0004, 0x0001
LLCSAP_IPX, ETHERTYPE_IPX = 0xE0, 0x8137
ETHERTYPE_ATALK, ETHERTYPE_AARP = 0x809B, 0x80F3
LLC_SAPS_WITH_DOUBLE_CHECK = (0xFE, 0x06, 0xF0)   # ISONS, IP, NETBEUI
PPP_MPLS_UCAST = 0x0281
# libpcap's ethertype_to_ppptype
PPP_TYPES = {0x0800: 0x0021, 0x86DD: 0x0057, 0x6003: 0x0027, 0x809B: 0x0029, 0x0600: 0x0025,
             0x8137: 0x002B, 0xFE: 0x0023, 0x42: 0x0031, 0xE0: 0x002B, 0x8847: 0x0281}
DLT_PPP_DESCRIPTION = "PPP"
AF_INET = 2
# AF_INET6 is not the same everywhere: a savefile may carry the BSDs' 24,
# FreeBSD's 28 or Darwin's 30 (libpcap checks all three); a live capture
# carries this system's (Linux: 10)
AF_INET6_SAVEFILE, AF_INET6_LINUX = (24, 28, 30), (10,)


@frozen
class Link:
    linktype: LinkType | None   # None once pppoes switched the link layer to PPP
    description: str
    # Offsets are numbers, or values computed at run time after ``geneve``.
    off_linkhdr: int | Value    # start of the (current) link-layer header
    off_linktype: int | Value | None   # None: no link-level protocol field (RAW)
    off_linkpl: int | Value     # start of the link-layer payload
    off_nl: int = 0             # network header relative to the payload
    off_nl_nosnap: int = 0      # ... when the payload has an 802.2 header without SNAP
    label_depth: int = 0        # MPLS labels seen so far
    vlan_depth: int = 0
    cooked_live: bool = False   # SOCK_DGRAM (-i any): no link header in the packet;
                                # its fields come from struct __sk_buff
    geneve_depth: int = 0       # Geneve headers passed (their offsets are variables)
    # NULL/LOOP: the byte order of the AF_ value and the AF_INET6 values to accept
    loopback: tuple[str, tuple[int, ...]] | None = None

    @property
    def variable(self) -> bool:
        return not isinstance(self.off_linkpl, int)

    def inner_ethernet(self) -> Pred:
        """libpcap's gen_prevlinkhdr_check: after ``geneve`` the inner frame has an
        Ethernet header only when the payload does not start where it does."""
        if not self.geneve_depth:
            return TRUE
        return negate(cmp("eq", as_value(self.off_linkhdr), as_value(self.off_linkpl)))

    @property
    def is_ethernet(self) -> bool:
        return self.linktype is LinkType.EN10MB

    @property
    def is_ppp(self) -> bool:
        return self.linktype is None

    def proto_is(self, ll_proto: int, span: Span | None = None) -> Pred:
        """The packet's link-level protocol is ``ll_proto`` (gen_linktype)."""
        if self.label_depth > 0:
            return self._mpls_proto_is(ll_proto, span)
        if self.is_ppp:
            return eq(self.off_linktype, 2, PPP_TYPES.get(ll_proto, ll_proto))  # type: ignore[arg-type]
        if self.cooked_live:
            # __sk_buff.protocol holds the big-endian protocol in a u32
            swapped = ((ll_proto & 0xFF) << 8) | ((ll_proto >> 8) & 0xFF)
            return cmp("eq", Ctx("protocol"), Imm(swapped))
        if self.loopback is not None:
            return self._loopback_proto_is(ll_proto)
        if self.linktype is LinkType.RAW:
            if ll_proto == ETHERTYPE_IP:
                return eq(self.off_linkpl, 1, 0x40, 0xF0)
            if ll_proto == ETHERTYPE_IPV6:
                return eq(self.off_linkpl, 1, 0x60, 0xF0)
            return FALSE
        off = self.off_linktype
        assert off is not None
        if self.is_ethernet:
            return self._ether_proto_is(off, ll_proto)
        if self.linktype is LinkType.LINUX_SLL2:
            return eq(off, 2, ll_proto)   # libpcap 1.10 compares the protocol field only
        if ll_proto == LLCSAP_IPX:
            llc = any_of(eq(self.off_linkpl, 1, LLCSAP_IPX), self.snap(0, ETHERTYPE_IPX))
            return any_of(eq(off, 2, ETHERTYPE_IPX), eq(off, 2, LINUX_SLL_P_802_3),
                          all_of(eq(off, 2, LINUX_SLL_P_802_2), llc))
        if ll_proto in (ETHERTYPE_ATALK, ETHERTYPE_AARP):
            org = 0x080007 if ll_proto == ETHERTYPE_ATALK else 0
            return any_of(eq(off, 2, ll_proto),
                          all_of(eq(off, 2, LINUX_SLL_P_802_2), self.snap(org, ll_proto)))
        if ll_proto in LLC_SAPS_WITH_DOUBLE_CHECK:
            return all_of(eq(off, 2, LINUX_SLL_P_802_2),
                          eq(self.off_linkpl, 2, (ll_proto << 8) | ll_proto))
        if ll_proto <= ETHERMTU:
            return all_of(eq(off, 2, LINUX_SLL_P_802_2), eq(self.off_linkpl, 1, ll_proto))
        return eq(off, 2, ll_proto)

    def _loopback_proto_is(self, ll_proto: int) -> Pred:
        """gen_loopback_linktype: the AF_ value in the 32-bit header, as the
        savefile's writer stored it; IPv4 and IPv6 only, anything else never."""
        order, inet6 = self.loopback      # type: ignore[misc]
        families = {ETHERTYPE_IP: (AF_INET,), ETHERTYPE_IPV6: inet6}.get(ll_proto, ())
        return any_of(*(eq(self.off_linktype, 4, int.from_bytes(af.to_bytes(4, order), "big"))  # type: ignore[arg-type]
                        for af in families))

    def _ether_proto_is(self, off: int, ll_proto: int) -> Pred:
        if ll_proto == LLCSAP_IPX:
            return self._ether_ipx(off)
        if ll_proto in (ETHERTYPE_ATALK, ETHERTYPE_AARP):
            return self._ether_appletalk(off, ll_proto)
        if ll_proto in LLC_SAPS_WITH_DOUBLE_CHECK:
            return all_of(self.is_8023(), eq(self.off_linkpl, 2, (ll_proto << 8) | ll_proto))
        if ll_proto <= ETHERMTU:
            return all_of(self.is_8023(), eq(at(off, 2), 1, ll_proto))
        return eq(off, 2, ll_proto)

    def _mpls_proto_is(self, ll_proto: int, span: Span | None) -> Pred:
        """gen_mpls_linktype: bottom of stack, then the IP version nibble."""
        version = {ETHERTYPE_IP: 0x40, ETHERTYPE_IPV6: 0x60}.get(ll_proto)
        if version is None:
            raise FilterError("unsupported protocol over mpls", span)
        start = at(self.off_linkpl, self.off_nl)
        return all_of(eq(at(start, -2), 1, 0x01, 0x01), eq(start, 1, version, 0xF0))

    def is_8023(self) -> Pred:
        """The type/length field is a length: an 802.3 frame."""
        return negate(cmp("gt", load(self.off_linktype, 2), Imm(ETHERMTU)))  # type: ignore[arg-type]

    def snap(self, org: int, ptype: int) -> Pred:
        """gen_snap: an 802.2 SNAP header (AA AA 03) with this OUI and protocol id,
        compared as libpcap's gen_bcmp does: the last four bytes, then the first four."""
        llc = self.off_linkpl
        return all_of(eq(at(llc, 4), 4, ((org & 0xFFFF) << 16) | ptype),
                      eq(llc, 4, 0xAAAA0300 | (org >> 16)))

    def _ether_ipx(self, off: int) -> Pred:
        llc = self.off_linkpl
        inner = any_of(eq(llc, 1, LLCSAP_IPX), eq(llc, 2, 0xFFFF), self.snap(0, ETHERTYPE_IPX))
        return any_of(eq(off, 2, ETHERTYPE_IPX), all_of(self.is_8023(), inner))

    def _ether_appletalk(self, off: int, ll_proto: int) -> Pred:
        org = 0x080007 if ll_proto == ETHERTYPE_ATALK else 0
        return any_of(eq(off, 2, ll_proto), all_of(self.is_8023(), self.snap(org, ll_proto)))

    # ---- encapsulations that move the offsets -------------------------------------
    def after_vlan(self) -> "Link":
        return replace(self, off_linktype=at(self.off_linktype, 4),  # type: ignore[arg-type]
                       off_linkpl=at(self.off_linkpl, 4), vlan_depth=self.vlan_depth + 1)

    def after_mpls(self) -> "Link":
        return replace(self, off_nl=self.off_nl + 4, off_nl_nosnap=self.off_nl_nosnap + 4,
                       label_depth=self.label_depth + 1)

    def after_pppoes(self) -> "Link":
        ppp = at(self.off_linkpl, self.off_nl + 6)
        return replace(self, linktype=None, description=DLT_PPP_DESCRIPTION, off_linkhdr=ppp,
                       off_linktype=ppp, off_linkpl=at(ppp, 2), off_nl=0, off_nl_nosnap=0)

    def after_geneve(self, n: int) -> "Link":
        """The inner frame of the ``n``-th Geneve header: its offsets are the
        variables the geneve test defined (see Lowerer.geneve)."""
        return replace(self, linktype=LinkType.EN10MB, description="Ethernet",
                       off_linkhdr=Var(f"geneve{n}.linkhdr"), off_linktype=Var(f"geneve{n}.linktype"),
                       off_linkpl=Var(f"geneve{n}.linkpl"), off_nl=0, off_nl_nosnap=0,
                       geneve_depth=self.geneve_depth + 1)


def link_for(linktype: int, cooked_live: bool = False, live: bool = True,
             byte_order: str = sys.byteorder) -> Link:
    """The link layout of a capture or savefile; ``cooked_live`` for a
    SOCK_DGRAM capture (``-i any``), where the kernel filter sees the network
    header at offset 0 and the cooked header exists only in user space.
    ``live`` and ``byte_order`` (of the savefile's writer) matter for NULL."""
    try:
        info = link_info(linktype)
    except (KeyError, ValueError):
        # a savefile's link type with no layout here: tcpdump's words
        raise FilterError(f"DLT {linktype} link-layer type filtering not implemented") from None
    lt = info.linktype
    if cooked_live:
        if lt not in (LinkType.LINUX_SLL, LinkType.LINUX_SLL2):
            raise ValueError("cooked_live needs LINUX_SLL or LINUX_SLL2")
        return Link(lt, info.description, -info.header_len, None, 0, 0, 0, cooked_live=True)
    if lt in (LinkType.NULL, LinkType.LOOP):
        loopback = ("big" if lt is LinkType.LOOP else byte_order,
                    AF_INET6_LINUX if live else AF_INET6_SAVEFILE)
        return Link(lt, info.description, 0, 0, info.header_len, loopback=loopback)
    off_linktype = {LinkType.EN10MB: 12, LinkType.LINUX_SLL: 14, LinkType.LINUX_SLL2: 0}.get(lt)
    nosnap = 3 if lt is LinkType.EN10MB else 0   # libpcap's init_linktype
    return Link(lt, info.description, 0, off_linktype, info.header_len, 0, nosnap)
