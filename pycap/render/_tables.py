"""Name tables used by the renderer, spelled the way tcpdump 4.99 spells them."""

from __future__ import annotations

# ethertype_values[] in print-ether.c
ETHERTYPE_NAMES: dict[int, str] = {
    0x0800: "IPv4",
    0x8847: "MPLS unicast",
    0x8848: "MPLS multicast",
    0x86DD: "IPv6",
    0x8100: "802.1Q",
    0x9100: "802.1Q-9100",
    0x88A8: "802.1Q-QinQ",
    0x9200: "802.1Q-9200",
    0x88E5: "802.1AE MACsec",
    0x9000: "Loopback",
    0x0200: "PUP",
    0x0806: "ARP",
    0x8035: "Reverse ARP",
    0x0600: "NS",
    0x0500: "Sprite",
    0x1000: "Trail",
    0x6001: "MOP DL",
    0x6002: "MOP RC",
    0x6003: "DN",
    0x6004: "LAT",
    0x6007: "SCA",
    0x6558: "TEB",
    0x8038: "Lanbridge",
    0x803C: "DEC DNS",
    0x803E: "DEC DTS",
    0x805B: "VEXP",
    0x805C: "VPROD",
    0x809B: "Appletalk",
    0x80F3: "Appletalk ARP",
    0x8137: "IPX",
    0x880B: "PPP",
    0x8808: "MPCP",
    0x8809: "Slow Protocols",
    0x8863: "PPPoE D",
    0x8864: "PPPoE S",
    0x888E: "EAPOL",
    0x8899: "RRCP",
    0x886F: "MS NLB heartbeat",
    0x8870: "Jumbo",
    0x894F: "NSH",
    0xFEFE: "OSI",
    0x00FE: "GRE-OSI",
    0xABCD: "CFM (old)",
    0x8902: "CFM",
    0x893A: "IEEE1905.1",
    0x88CC: "LLDP",
    0x88CA: "TIPC",
    0x0707: "GeoNet (old)",
    0x8947: "GeoNet",
    0x1111: "CALM FAST",
    0x88A2: "AoE",
    0x88F7: "PTP",
    0xD28B: "Arista Vendor Specific Protocol",
}

# ipproto_values[] in ipproto.c
IPPROTO_NAMES: dict[int, str] = {
    0: "Options",
    1: "ICMP",
    2: "IGMP",
    4: "IPIP",
    6: "TCP",
    8: "EGP",
    9: "IGRP",
    17: "UDP",
    33: "DCCP",
    41: "IPv6",
    43: "Routing",
    44: "Fragment",
    46: "RSVP",
    47: "GRE",
    50: "ESP",
    51: "AH",
    55: "Mobile IP",
    58: "ICMPv6",
    62: "Mobile IP (old)",
    88: "EIGRP",
    89: "OSPF",
    103: "PIM",
    108: "Compressed IP",
    112: "VRRP",
    113: "PGM",
    132: "SCTP",
    135: "Mobility",
    143: "Ethernet",
}

ARPOP_NAMES = {
    1: "Request",
    2: "Reply",
    3: "Reverse Request",
    4: "Reverse Reply",
    8: "Inverse Request",
    9: "Inverse Reply",
    10: "NACK Reply",
}

ARPHRD_NAMES = {
    1: "Ethernet",
    6: "TokenRing",
    7: "ArcNet",
    15: "FrameRelay",
    23: "Strip",
    24: "IEEE 1394",
    19: "ATM",
    32: "InfiniBand",
}

# icmp2str[] in print-icmp.c
ICMP_TYPE_NAMES = {
    0: "echo reply",
    4: "source quench",
    8: "echo request",
    10: "router solicitation",
    13: "time stamp request",
    14: "time stamp reply",
    15: "information request",
    16: "information reply",
    17: "address mask request",
}

ICMP_UNREACH_FMT = {
    0: "net %s unreachable",
    1: "host %s unreachable",
    5: "%s unreachable - source route failed",
    6: "net %s unreachable - unknown",
    7: "host %s unreachable - unknown",
    8: "%s unreachable - source host isolated",
    9: "net %s unreachable - admin prohibited",
    10: "host %s unreachable - admin prohibited",
    11: "net %s unreachable - tos prohibited",
    12: "host %s unreachable - tos prohibited",
    13: "host %s unreachable - admin prohibited filter",
    14: "host %s unreachable - host precedence violation",
    15: "host %s unreachable - precedence cutoff",
}

ICMP6_TYPE_NAMES = {
    1: "destination unreachable",
    2: "packet too big",
    3: "time exceeded in-transit",
    4: "parameter problem",
    128: "echo request",
    129: "echo reply",
    130: "multicast listener query",
    131: "multicast listener report",
    132: "multicast listener done",
    133: "router solicitation",
    134: "router advertisement",
    135: "neighbor solicitation",
    136: "neighbor advertisement",
    137: "redirect",
    138: "router renumbering",
    141: "inverse neighbor solicitation",
    142: "inverse neighbor advertisement",
    143: "multicast listener report v2",
    144: "ha discovery request",
    145: "ha discovery reply",
    146: "mobile router solicitation",
    147: "mobile router advertisement",
    139: "who-are-you request",
    140: "who-are-you reply",
    201: "mtrace message",
    200: "mtrace response",
    155: "RPL",
}

ICMP6_UNREACH_NAMES = {
    0: "unreachable route",
    1: " unreachable prohibited",
    2: "beyond scope",
    3: "unreachable address",
    4: "unreachable port",
}

ICMP6_OPT_NAMES = {
    1: "source link-address",
    2: "destination link-address",
    3: "prefix info",
    4: "redirected header",
    5: "mtu",
    25: "rdnss",
    31: "dnssl",
    7: "advertisement interval",
    8: "homeagent information",
    24: "route info",
}

MLDV2_REPORT_NAMES = {1: "is_in", 2: "is_ex", 3: "to_in", 4: "to_ex", 5: "allow", 6: "block"}

# ns_type2str[] in print-domain.c
DNS_TYPE_NAMES = {
    1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR",
    10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT",
    17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP_PTR",
    24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT",
    31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT",
    38: "A6", 39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP",
    45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3",
    51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 56: "NINFO", 57: "RKEY",
    58: "TALINK", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD",
    64: "SVCB", 65: "HTTPS", 99: "SPF", 100: "UINFO", 101: "UID", 102: "GID",
    103: "UNSPEC", 104: "NID", 105: "L32", 106: "L64", 107: "LP", 108: "EUI48",
    109: "EUI64", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB",
    254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA", 258: "AVC", 259: "DOA",
    260: "AMTRELAY", 32768: "TA", 32769: "DLV",
}

DNS_CLASS_NAMES = {1: "IN", 3: "CHAOS", 4: "HS", 255: "ANY"}

DNS_OPS = [
    "", " inv_q", " stat", " op3", " notify", " update", " op6", " op7",
    " op8", " updateA", " updateD", " updateDA",
    " updateM", " updateMA", " zoneInit", " zoneRef",
]

DNS_RCODES = [
    "", " FormErr", " ServFail", " NXDomain",
    " NotImp", " Refused", " YXDomain", " YXRRSet",
    " NXRRSet", " NotAuth", " NotZone", " Resp11",
    " Resp12", " Resp13", " Resp14", " NoChange",
    " BadVers", "Resp17", " Resp18", " Resp19",
    " Resp20", "Resp21", " Resp22", " BadCookie",
]

EDNS_OPT_NAMES = {
    1: "LLQ", 2: "UL", 3: "NSID", 5: "DAU", 6: "DHU", 7: "N3U", 8: "ECS", 9: "EXPIRE",
    10: "COOKIE", 11: "KEEPALIVE", 12: "PADDING", 13: "CHAIN", 14: "KEY-TAG",
    16: "CLIENT-TAG", 17: "SERVER-TAG",
}

SLL_PKTTYPES = {0: "In", 1: "B", 2: "M", 3: "P", 4: "Out"}

TCP_OPT_NAMES = {
    0: "eol", 1: "nop", 2: "mss", 3: "wscale", 4: "sackOK", 5: "sack", 6: "echo",
    7: "echoreply", 8: "TS", 11: "cc", 12: "ccnew", 13: "", 19: "md5", 20: "scps",
    28: "uto", 29: "tcp-ao", 30: "mptcp", 34: "tfo", 254: "exp",
}
