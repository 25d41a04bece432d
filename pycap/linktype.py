"""Link-layer header types: LINKTYPE numbers as written in savefiles, and the
layout facts the compiler needs for each (where the network header starts,
where the ethertype lives)."""

from __future__ import annotations

from enum import IntEnum

from pycap.frozen import frozen


class LinkType(IntEnum):
    """LINKTYPE_* values (the numbers that appear in pcap/pcapng headers)."""

    NULL = 0
    EN10MB = 1
    RAW = 101
    LOOP = 108
    LINUX_SLL = 113
    LINUX_SLL2 = 276


@frozen
class LinkInfo:
    linktype: LinkType
    name: str          # libpcap's DLT name, as tcpdump prints it
    description: str   # as in "link-type EN10MB (Ethernet)"
    header_len: int    # bytes before the network-layer header (fixed part)
    proto_offset: int | None  # offset of the 16-bit ethertype/protocol field


LINK_INFO: dict[LinkType, LinkInfo] = {
    LinkType.EN10MB: LinkInfo(LinkType.EN10MB, "EN10MB", "Ethernet", 14, 12),
    LinkType.RAW: LinkInfo(LinkType.RAW, "RAW", "Raw IP", 0, None),
    # an AF_ value in 32 bits: the writer's byte order (NULL), network order (LOOP)
    LinkType.NULL: LinkInfo(LinkType.NULL, "NULL", "BSD loopback", 4, 0),
    LinkType.LOOP: LinkInfo(LinkType.LOOP, "LOOP", "OpenBSD loopback", 4, 0),
    LinkType.LINUX_SLL: LinkInfo(LinkType.LINUX_SLL, "LINUX_SLL", "Linux cooked v1", 16, 14),
    LinkType.LINUX_SLL2: LinkInfo(LinkType.LINUX_SLL2, "LINUX_SLL2", "Linux cooked v2", 20, 0),
}

# DLT_RAW is 12 or 14 in memory on some systems; savefiles may carry these.
_ALIASES = {12: LinkType.RAW, 14: LinkType.RAW}


def link_info(linktype: int) -> LinkInfo:
    """Layout facts for a LINKTYPE number; KeyError if pycap does not know it."""
    return LINK_INFO[LinkType(_ALIASES.get(linktype, linktype))]


def parse_linktype(name: str) -> LinkType:
    """A ``-y`` argument (name, case-insensitive, or number) to a LinkType."""
    key = name.strip().upper()
    for lt, info in LINK_INFO.items():
        if info.name == key:
            return lt
    if key.isdigit():
        return LinkType(_ALIASES.get(int(key), int(key)))
    raise ValueError(name)
