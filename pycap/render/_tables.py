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


# tcpdump 4.99's netdb_protoname() table (ipproto.c, from IANA's protocol
# numbers): the names it prints without -n where it has no printer for an IP
# protocol.  Read off tcpdump itself, one non-first fragment per number.
NETDB_PROTONAMES = {
    0: "hopopt", 1: "icmp", 2: "igmp", 3: "ggp", 4: "ipencap", 5: "st", 6: "tcp", 7: "cbt", 8:
    "egp", 9: "igp", 10: "bbn-rcc-mon", 11: "nvp-ii", 12: "pup", 13: "argus", 14: "emcon", 15:
    "xnet", 16: "chaos", 17: "udp", 18: "mux", 19: "dcn-meas", 20: "hmp", 21: "prm", 22:
    "xns-idp", 23: "trunk-1", 24: "trunk-2", 25: "leaf-1", 26: "leaf-2", 27: "rdp", 28: "irtp",
    29: "iso-tp4", 30: "netblt", 31: "mfe-nsp", 32: "merit-inp", 33: "dccp", 34: "3pc", 35:
    "idpr", 36: "xtp", 37: "ddp", 38: "idpr-cmtp", 39: "tp++", 40: "il", 41: "ipv6", 42: "sdrp",
    43: "ipv6-route", 44: "ipv6-frag", 45: "idrp", 46: "rsvp", 47: "gre", 48: "dsr", 49: "bna",
    50: "esp", 51: "ah", 52: "i-nlsp", 53: "swipe", 54: "narp", 55: "mobile", 56: "tlsp", 57:
    "skip", 58: "ipv6-icmp", 59: "ipv6-nonxt", 60: "ipv6-opts", 62: "cftp", 64: "sat-expak", 65:
    "kryptolan", 66: "rvd", 67: "ippc", 69: "sat-mon", 70: "visa", 71: "ipcv", 72: "cpnx", 73:
    "rspf", 74: "wsn", 75: "pvp", 76: "br-sat-mon", 77: "sun-nd", 78: "wb-mon", 79: "wb-expak",
    80: "iso-ip", 81: "vmtp", 82: "secure-vmtp", 83: "vines", 84: "ttp", 85: "nsfnet-igp", 86:
    "dgp", 87: "tcf", 88: "eigrp", 89: "ospf", 90: "sprite-rpc", 91: "larp", 92: "mtp", 93:
    "ax.25", 94: "ipip", 95: "micp", 96: "scc-sp", 97: "etherip", 98: "encap", 100: "gmtp", 101:
    "ifmp", 102: "pnni", 103: "pim", 104: "aris", 105: "scps", 106: "qnx", 107: "a/n", 108:
    "ipcomp", 109: "snp", 110: "compaq-peer", 111: "ipx-in-ip", 112: "vrrp", 113: "pgm", 115:
    "l2tp", 116: "ddx", 117: "iatp", 118: "stp", 119: "srp", 120: "uti", 121: "smp", 122: "sm",
    123: "ptp", 124: "isis", 125: "fire", 126: "crtp", 127: "crudp", 128: "sscopmce", 129:
    "iplt", 130: "sps", 131: "pipe", 132: "sctp", 133: "fc", 134: "rsvp-e2e-ignore", 135:
    "mobility-header", 136: "udplite", 137: "mpls-in-ip", 138: "manet", 139: "hip", 140:
    "shim6", 141: "wesp", 142: "rohc", 253: "exptest-253", 254: "exptest-254", 255: "reserved",
}

# tcpdump 4.99's ipxsap_db (addrtoname.c): the IPX SAP service types it names
# without -n.  Read off tcpdump itself, every type in SAP responses.
IPXSAP_NAMES = {
    0x0000: "Unknown", 0x0001: "User", 0x0002: "User Group", 0x0003: "PrintQueue",
    0x0004: "FileServer", 0x0005: "JobServer", 0x0006: "Gateway", 0x0007: "PrintServer",
    0x0008: "ArchiveQueue", 0x0009: "ArchiveServer", 0x000A: "JobQueue",
    0x000B: "Administration", 0x000F: "Novell TI-RPC", 0x0017: "Diagnostics", 0x0020: "NetBIOS",
    0x0021: "NAS SNA Gateway", 0x0023: "NACS AsyncGateway",
    0x0024: "RemoteBridge/RoutingService", 0x0026: "BridgeServer", 0x0027: "TCP/IP Gateway",
    0x0028: "Point-to-point X.25 BridgeServer", 0x0029: "3270 Gateway", 0x002A: "CHI Corp",
    0x002C: "PC Chalkboard", 0x002D: "TimeSynchServer", 0x002E: "ARCserve5.0/PalindromeBackup",
    0x0045: "DI3270 Gateway", 0x0047: "AdvertisingPrintServer", 0x004A: "NetBlazerModems",
    0x004B: "BtrieveVAP", 0x004C: "NetwareSQL", 0x004D: "XtreeNetwork",
    0x0050: "BtrieveVAP4.11", 0x0052: "QuickLink", 0x0053: "PrintQueueUser",
    0x0058: "Multipoint X.25 Router", 0x0060: "STLB/NLM", 0x0064: "ARCserve",
    0x0066: "ARCserve3.0", 0x0072: "WAN CopyUtility", 0x007A: "TES-NetwareVMS",
    0x0092: "WATCOM Debugger/EmeraldTapeBackupServer", 0x0095: "DDA OBGYN",
    0x0098: "NetwareAccessServer", 0x009A: "Netware for VMS II/NamedPipeServer",
    0x009B: "NetwareAccessServer", 0x009E: "PortableNetwareServer/SunLinkNVT",
    0x00A1: "PowerchuteAPC UPS", 0x00AA: "LAWserve", 0x00AC: "CompaqIDA StatusMonitor",
    0x0100: "PIPE STAIL", 0x0102: "LAN ProtectBindery", 0x0103: "OracleDataBaseServer",
    0x0107: "Netware386/RSPX RemoteConsole", 0x010F: "NovellSNA Gateway", 0x0111: "TestServer",
    0x0112: "HP PrintServer", 0x0114: "CSA MUX", 0x0115: "CSA LCA", 0x0116: "CSA CM",
    0x0117: "CSA SMA", 0x0118: "CSA DBA", 0x0119: "CSA NMA", 0x011A: "CSA SSA",
    0x011B: "CSA STATUS", 0x011E: "CSA APPC", 0x0126: "SNA TEST SSA Profile",
    0x012A: "CSA TRACE", 0x012B: "NetwareSAA", 0x012E: "IKARUS VirusScan",
    0x0130: "CommunicationsExecutive", 0x0133: "NNS DomainServer/NetwareNamingServicesDomain",
    0x0135: "NetwareNamingServicesProfile", 0x0137: "Netware386 PrintQueue/NNS PrintQueue",
    0x0141: "LAN SpoolServer", 0x0152: "IRMALAN Gateway", 0x0154: "NamedPipeServer",
    0x0166: "NetWareManagement", 0x0168: "Intel PICKIT CommServer/Intel CAS TalkServer",
    0x0173: "Compaq", 0x0174: "Compaq SNMP Agent", 0x0175: "Compaq",
    0x0180: "XTreeServer/XTreeTools", 0x018A: "NASI ServicesBroadcastServer",
    0x01B0: "GARP Gateway", 0x01B1: "Binfview", 0x01BF: "IntelLanDeskManager", 0x01CA: "AXTEC",
    0x01CB: "ShivaNetModem/E", 0x01CC: "ShivaLanRover/E", 0x01CD: "ShivaLanRover/T",
    0x01CE: "ShivaUniversal", 0x01D8: "CastelleFAXPressServer",
    0x01DA: "CastelleLANPressPrintServer",
    0x01DC: "CastelleFAX/Xerox7033 FaxServer/ExcelLanFax", 0x01F0: "LEGATO", 0x01F5: "LEGATO",
    0x0233: "NMS Agent/NetwareManagementAgent",
    0x0237: "NMS IPX Discovery/LANternReadWriteChannel",
    0x0238: "NMS IP Discovery/LANternTrapAlarmChannel", 0x023A: "LANtern", 0x023C: "MAVERICK",
    0x023F: "NovellSMDR", 0x024E: "NetwareConnect", 0x024F: "NASI ServerBroadcast Cisco",
    0x026A: "NMS ServiceConsole", 0x026B: "TimeSynchronizationServer Netware 4.x",
    0x0278: "DirectoryServer Netware 4.x", 0x027B: "NetwareManagementAgent",
    0x0280: "Novell File and Printer Sharing Service for PC", 0x0304: "NovellSAA Gateway",
    0x0308: "COM/VERMED", 0x030A: "GalacticommWorldgroupServer",
    0x030C: "IntelNetport2/HP JetDirect/HP Quicksilver", 0x0320: "AttachmateGateway",
    0x0327: "MicrosoftDiagnostiocs", 0x0328: "WATCOM SQL Server",
    0x0335: "MultiTechSystems MultisynchCommServer",
    0x0343: "Xylogics RemoteAccessServer/LANModem", 0x0355: "ArcadaBackupExec",
    0x0358: "MSLCD1", 0x0361: "NETINELO", 0x037E: "Powerchute UPS Monitoring",
    0x037F: "ViruSafeNotify", 0x0386: "HP Bridge", 0x0387: "HP Hub",
    0x0394: "NetWare SAA Gateway", 0x039B: "LotusNotes", 0x03B7: "CertusAntiVirus",
    0x03C4: "ARCserve4.0", 0x03C7: "LANspool3.5", 0x03D7: "LexmarkPrinterServer",
    0x03D8: "LexmarkXLE PrinterServer", 0x03DD: "BanyanENS NetwareClient",
    0x03DE: "GuptaSequelBaseServer/NetWareSQL", 0x03E1: "UnivelUnixware",
    0x03E4: "UnivelUnixware", 0x03FC: "IntelNetport", 0x03FD: "PrintServerQueue",
    0x040A: "ipnServer", 0x040D: "LVERRMAN", 0x040E: "LVLIC",
    0x0414: "NET Silicon (DPI)/Kyocera", 0x0429: "SiteLockVirus", 0x0432: "UFHELPR???",
    0x0433: "Synoptics281xAdvancedSNMPAgent", 0x0444: "MicrosoftNT SNA Server",
    0x0448: "Oracle", 0x044C: "ARCserve5.01", 0x0457: "CanonGP55", 0x045A: "QMS Printers",
    0x045B: "DellSCSI Array", 0x0491: "NetBlazerModems", 0x04AC: "OnTimeScheduler",
    0x04B0: "CD-Net", 0x0513: "EmulexNQA", 0x0520: "SiteLockChecks", 0x0529: "SiteLockChecks",
    0x052D: "CitrixOS2 AppServer", 0x0535: "Tektronix", 0x0536: "Milan",
    0x055D: "Attachmate SNA gateway", 0x056B: "IBM8235 ModemServer",
    0x056C: "ShivaLanRover/E PLUS", 0x056D: "ShivaLanRover/T PLUS", 0x0580: "McAfeeNetShield",
    0x05B8: "NLM to workstation communication (Revelation Software)",
    0x05BA: "CompatibleSystemsRouters", 0x05BE: "CheyenneHierarchicalStorageManager",
    0x0606: "JCWatermarkImaging", 0x060C: "AXISNetworkPrinter", 0x0610: "AdaptecSCSIManagement",
    0x0621: "IBM AntiVirus", 0x0640: "Windows95 RemoteRegistryService", 0x064E: "MicrosoftIIS",
    0x067B: "Microsoft Win95/98 File and Print Sharing for NetWare",
    0x067C: "Microsoft Win95/98 File and Print Sharing for NetWare", 0x076C: "Xerox",
    0x079B: "ShivaLanRover/E 115", 0x079C: "ShivaLanRover/T 115", 0x07B4: "CubixWorldDesk",
    0x07C1: "Quarterdeck IWare Connect V3.x NLM", 0x07C2: "Quarterdeck IWare Connect V2.x NLM",
    0x0810: "ELAN License Server Demo", 0x0824: "ShivaLanRoverAccessSwitch/E",
    0x086A: "ISSC Collector", 0x087F: "ISSC DAS AgentAIX", 0x0880: "Intel Netport PRO",
    0x0881: "Intel Netport PRO", 0x0B29: "SiteLock", 0x0C29: "SiteLockApplications",
    0x0C2C: "LicensingServer", 0x2101: "PerformanceTechnologyInstantInternet",
    0x2380: "LAI SiteLock", 0x238C: "MeetingMaker", 0x4808: "SiteLockServer/SiteLockMetering",
    0x5555: "SiteLockUser", 0x6312: "Tapeware", 0x6F00: "RabbitGateway", 0x7703: "MODEM",
    0x8002: "NetPortPrinters", 0x8008: "WordPerfectNetworkVersion", 0x85BE: "Cisco EIGRP",
    0x8888: "WordPerfectNetworkVersion/QuickNetworkManagement", 0x9000: "McAfeeNetShield",
    0x9604: "CSA-NT_MON", 0xB6A8: "OceanIsleReachoutRemoteControl", 0xF11F: "SiteLockMetering",
    0xF1FF: "SiteLock", 0xF503: "Microsoft SQL Server", 0xF905: "IBM TimeAndPlace",
    0xFBFB: "TopCallIII FaxServer", 0xFFFF: "AnyService/Wildcard",
}

# tcpdump 4.99's tag2str (print-bootp.c): DHCP/BOOTP option names, each after
# the character that says how its value prints: i IPv4 addresses, p address
# pairs, l/L unsigned/signed 32-bit, s 16-bit, b dotted bytes, a text,
# B booleans, $ its own printer, " " none.  Read off tcpdump itself, every
# option with the same six bytes (and four more to tell l from L).
DHCP_OPTIONS = {
    0: " PAD", 1: "iSubnet-Mask", 2: "LTime-Zone", 3: "iDefault-Gateway", 4: "iTime-Server",
    5: "iIEN-Name-Server", 6: "iDomain-Name-Server", 7: "iLOG", 8: "iCS", 9: "iLPR-Server",
    10: "iIM", 11: "iRL", 12: "aHostname", 13: "sBS", 14: "aDP", 15: "aDomain-Name", 16: "iSS",
    17: "aRP", 18: "aEP", 19: "BIPF", 20: "BSRT", 21: "pPF", 22: "sRSZ", 23: "bTTL",
    24: "lMTU-Timeout", 25: "sMTU-Table", 26: "sMTU", 27: "BLSN", 28: "iBR", 29: "BMD",
    30: "BMS", 31: "BRouter-Discovery", 32: "iRSA", 33: "pStatic-Route", 34: "BUT", 35: "lAT",
    36: "BIE", 37: "bTT", 38: "lKI", 39: "BKG", 40: "aYD", 41: "iYS", 42: "iNTP",
    43: "bVendor-Option", 44: "iNetbios-Name-Server", 45: "iWDD", 46: "$Netbios-Node",
    47: "aNetbios-Scope", 48: "iXFS", 49: "iXDM", 50: "iRequested-IP", 51: "lLease-Time", 52: "$OO",
    53: " DHCP-Message", 54: "iServer-ID", 55: " Parameter-Request", 56: "aMSG", 57: "sMSZ",
    58: "lRN", 59: "lRB", 60: "aVendor-Class", 61: "$Client-ID", 64: "sN+D", 65: "iN+S",
    66: "aTFTP", 67: "aBF", 68: "iMH", 69: "iSMTP", 70: "iPOP3", 71: "iNNTP", 72: "iWWW",
    73: "iFG", 74: "iIRC", 75: "iSTS", 76: "iSTDA", 77: "$User-Class", 78: "bSLP-DA",
    79: "bSLP-SCOPE", 80: "aSLP-NA", 81: "$FQDN", 82: "$Agent-Information", 83: "bARMT",
    88: "aTZSTR", 89: "bFQDNS", 90: "bAUTH", 91: "LLast-Transaction-Time", 92: "iAssociated-IP", 93: "sARCH",
    94: "bNDI", 95: "aLDAP", 97: "bGUID", 98: "aUAP", 100: "aPOSIX-TZ", 101: "aTZ-Name",
    112: "iNI", 113: "aNITAG", 114: "aURL", 116: "BNOAUTO", 117: "sNSSEARCH", 118: "iSUBNET",
    121: "$Classless-Static-Route", 150: "iTFTP-Server-Address", 161: "aMUD-URL",
    249: "$Classless-Static-Route-Microsoft", 255: " END",
}
