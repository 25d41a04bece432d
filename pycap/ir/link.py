"""Link-layer facts for code generation: where the ethertype and the network
header are, and how ``ether proto X`` is tested on each link type
(libpcap's gen_linktype)."""

from __future__ import annotations

from dataclasses import dataclass

from pycap.ir.nodes import FALSE, TRUE, Pred, all_of, eq, negate, cmp, load, Imm
from pycap.linktype import LinkType, link_info

ETHERMTU = 1500
ETHERTYPE_IP, ETHERTYPE_IPV6 = 0x0800, 0x86DD
LINUX_SLL_P_802_2 = 0x0004
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
            if ll_proto in LLC_SAPS_WITH_DOUBLE_CHECK:
                return all_of(negate(cmp("gt", load(off, 2), Imm(ETHERMTU))),
                              eq(off + 2, 2, (ll_proto << 8) | ll_proto))
            if ll_proto <= ETHERMTU:
                return all_of(negate(cmp("gt", load(off, 2), Imm(ETHERMTU))),
                              eq(off + 2, 1, ll_proto))
            return eq(off, 2, ll_proto)
        # Linux cooked v1/v2
        if ll_proto in LLC_SAPS_WITH_DOUBLE_CHECK:
            return all_of(eq(off, 2, LINUX_SLL_P_802_2),
                          eq(self.off_linkpl, 2, (ll_proto << 8) | ll_proto))
        if ll_proto <= ETHERMTU:
            return all_of(eq(off, 2, LINUX_SLL_P_802_2), eq(self.off_linkpl, 1, ll_proto))
        return eq(off, 2, ll_proto)


def link_for(linktype: int) -> Link:
    info = link_info(linktype)
    lt = info.linktype
    off_linktype = {LinkType.EN10MB: 12, LinkType.LINUX_SLL: 14, LinkType.LINUX_SLL2: 0}.get(lt)
    return Link(lt, info.name, info.description, off_linktype, info.header_len)


__all__ = ["Link", "link_for", "ETHERTYPE_IP", "ETHERTYPE_IPV6", "TRUE"]
