"""Link-layer facts for code generation: where the ethertype and the network
header are, and how ``ether proto X`` is tested on each link type
(libpcap's gen_linktype)."""

from __future__ import annotations

from dataclasses import dataclass

from pycap.ir.nodes import FALSE, TRUE, Imm, Pred, all_of, any_of, cmp, eq, load, negate
from pycap.errors import UnsupportedFilterError
from pycap.linktype import LinkType, link_info

ETHERMTU = 1500
ETHERTYPE_IP, ETHERTYPE_IPV6 = 0x0800, 0x86DD
LINUX_SLL_P_802_2 = 0x0004
LLCSAP_IPX, ETHERTYPE_IPX = 0xE0, 0x8137
ETHERTYPE_ATALK, ETHERTYPE_AARP = 0x809B, 0x80F3
LLC_SAPS_WITH_DOUBLE_CHECK = (0xFE, 0x06, 0xF0)   # ISONS, IP, NETBEUI


@dataclass(frozen=True, slots=True)
class Link:
    linktype: LinkType
    name: str
    description: str
    off_linktype: int | None   # None: no link-level protocol field (RAW)
    off_linkpl: int            # start of the network-layer header

    @property
    def is_ethernet(self) -> bool:
        return self.linktype is LinkType.EN10MB

    @property
    def is_cooked(self) -> bool:
        return self.linktype in (LinkType.LINUX_SLL, LinkType.LINUX_SLL2)

    def proto_is(self, ll_proto: int) -> Pred:
        """The packet's link-level protocol is ``ll_proto`` (gen_linktype)."""
        if self.linktype is LinkType.RAW:
            if ll_proto == ETHERTYPE_IP:
                return eq(0, 1, 0x40, 0xF0)
            if ll_proto == ETHERTYPE_IPV6:
                return eq(0, 1, 0x60, 0xF0)
            return FALSE
        off = self.off_linktype
        assert off is not None
        if self.is_ethernet:
            if ll_proto == LLCSAP_IPX:
                return self._ether_ipx(off)
            if ll_proto in (ETHERTYPE_ATALK, ETHERTYPE_AARP):
                return self._ether_appletalk(off, ll_proto)
            if ll_proto in LLC_SAPS_WITH_DOUBLE_CHECK:
                return all_of(negate(cmp("gt", load(off, 2), Imm(ETHERMTU))),
                              eq(off + 2, 2, (ll_proto << 8) | ll_proto))
            if ll_proto <= ETHERMTU:
                return all_of(negate(cmp("gt", load(off, 2), Imm(ETHERMTU))),
                              eq(off + 2, 1, ll_proto))
            return eq(off, 2, ll_proto)
        if self.linktype is LinkType.LINUX_SLL2:
            return eq(off, 2, ll_proto)   # libpcap 1.10 compares the protocol field only
        if ll_proto in (LLCSAP_IPX, ETHERTYPE_ATALK, ETHERTYPE_AARP):
            raise UnsupportedFilterError("pycap does not support IPX/AppleTalk on Linux cooked "
                                         "captures yet")
        # Linux cooked v1/v2
        if ll_proto in LLC_SAPS_WITH_DOUBLE_CHECK:
            return all_of(eq(off, 2, LINUX_SLL_P_802_2),
                          eq(self.off_linkpl, 2, (ll_proto << 8) | ll_proto))
        if ll_proto <= ETHERMTU:
            return all_of(eq(off, 2, LINUX_SLL_P_802_2), eq(self.off_linkpl, 1, ll_proto))
        return eq(off, 2, ll_proto)


    def snap(self, org: int, ptype: int) -> Pred:
        """gen_snap: an 802.2 SNAP header (AA AA 03) with this OUI and protocol id,
        compared as libpcap's gen_bcmp does: the last four bytes, then the first four."""
        llc = self.off_linkpl
        return all_of(eq(llc + 4, 4, ((org & 0xFFFF) << 16) | ptype),
                      eq(llc, 4, 0xAAAA0300 | (org >> 16)))

    def _ether_ipx(self, off: int) -> Pred:
        is_8023 = negate(cmp("gt", load(off, 2), Imm(ETHERMTU)))
        llc = self.off_linkpl
        inner = any_of(eq(llc, 1, LLCSAP_IPX), eq(llc, 2, 0xFFFF), self.snap(0, ETHERTYPE_IPX))
        return any_of(eq(off, 2, ETHERTYPE_IPX), all_of(is_8023, inner))

    def _ether_appletalk(self, off: int, ll_proto: int) -> Pred:
        is_8023 = negate(cmp("gt", load(off, 2), Imm(ETHERMTU)))
        org = 0x080007 if ll_proto == ETHERTYPE_ATALK else 0
        return any_of(eq(off, 2, ll_proto), all_of(is_8023, self.snap(org, ll_proto)))


def link_for(linktype: int) -> Link:
    info = link_info(linktype)
    lt = info.linktype
    off_linktype = {LinkType.EN10MB: 12, LinkType.LINUX_SLL: 14, LinkType.LINUX_SLL2: 0}.get(lt)
    return Link(lt, info.name, info.description, off_linktype, info.header_len)


__all__ = ["Link", "link_for", "ETHERTYPE_IP", "ETHERTYPE_IPV6", "TRUE"]
